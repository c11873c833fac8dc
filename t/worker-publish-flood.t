#!/usr/bin/perl
# A worker's lc.publish is bounded: two jobs publishing 1 MB messages as
# fast as they can, to a member that never reads and one that does, cost
# a bounded amount of memory (the posts waiting for the loop are bounded,
# and the silent member costs --max-pending); the jobs finish, and what
# the reader gets adds up: each message, in order, or counted in a
# "* dropped N" notice.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.worker("spray", function(tag, n, size)
  local body = ("w"):rep(size)
  for i = 1, n do
    lc.publish("firehose", tag .. " " .. i .. " " .. body)
  end
  return n
end)
lc.command("spray", function(conn, args)
  local tag, n = args:match("^(%S+) (%d+)$")
  lc.defer("spray", tag, tonumber(n), 1 << 20, function(ok, r)
    lc.publish("done", tag .. " " .. tostring(ok) .. " " .. tostring(r))
  end)
  return "+SPRAY"
end)
EOF_LUA

my $srv = Linecast->start('--threads', '2', '--script-timeout', '10',
    '--default-channel', '',
    $script);
my $silent = $srv->client(label => 'silent', rcvbuf => 4096,
    readwhilewriting => 0);
is($silent->cmd('/join firehose'), '+JOIN firehose 1', 'a silent member');
my $reader = $srv->client(label => 'reader');
is($reader->cmd('/join firehose'), '+JOIN firehose 2', 'a reader');
my $ctl = $srv->client(label => 'ctl');
is($ctl->cmd('/join done'), '+JOIN done 1', 'a controller');
my $base = $srv->rss_kb;
my $n = 100;
is($ctl->cmd("/spray a $n"), '+SPRAY', "job a: $n messages of 1 MB");
is($ctl->cmd("/spray b $n"), '+SPRAY', "job b: $n more");

my (%last, $in_order, $max_rss, $got, $dropped) = (a => 0, b => 0);
($in_order, $max_rss, $got, $dropped) = (1, 0, 0, 0);
# Once both jobs are done, a last message flushes any "* dropped" owed.
my ($deadline, @done, $end) = (time + 30);
while (time < $deadline) {
	my $d = $ctl->line_now;
	push @done, $d if defined $d && $d =~ /^done /;
	if (@done == 2 && !$end++) {
		$ctl->send('/pub firehose end');
	}
	my $l = $reader->line(0.2);
	next unless defined $l;
	last if $l eq 'firehose <' . $ctl->name . '> end';
	if ($l =~ /^\* dropped (\d+)$/) {
		$dropped += $1;
		next;
	}
	my ($tag, $i) = substr($l, 0, 40) =~ /^firehose <server> (\w) (\d+) w/
	    or next;
	$in_order = 0 if $i <= $last{$tag};
	$last{$tag} = $i;
	$got++;
	my $rss = $srv->rss_kb // 0;
	$max_rss = $rss if $rss > $max_rss;
}
is($got + $dropped, 2 * $n, "the reader's messages add up: $got got,"
    . " $dropped dropped");
ok($in_order, 'in the order each job made them');
@done = sort @done;
is_deeply(\@done, [ "done <server> a true $n", "done <server> b true $n" ],
    'both jobs finished');
SKIP: {
	skip 'RSS is not bounded under a sanitizer', 1 if Linecast::sanitized();
	cmp_ok($max_rss - $base, '<', 100 << 10,
	    'RSS grew by ' . (($max_rss - $base) >> 10) . ' MB at most (< 100)');
}
$ctl->sync;		# the +PUB of the last message, if still unread
my $s = $ctl->stats;
cmp_ok($s->{dropped}, '>', 0, "dropped for the silent member ($s->{dropped})");
is($s->{jobs_running} + $s->{jobs_pending}, 0, 'no job left');

done_testing;
