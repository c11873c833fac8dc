#!/usr/bin/perl
# conn:send obeys --max-pending like every message: a member that never
# reads does not make the server hold what scripts send it without bound
# (chat.lua's /topic goes to every member with conn:send). Past the bound
# a send is dropped and counted, conn:send returns nil, "dropped", and
# the member is told "* dropped N" once it has read its backlog.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $chat = ($ENV{LINECAST_SRCDIR} // "$Bin/..") . '/lua/chat.lua';
my $srv = Linecast->start('--max-pending', '256k', $chat);
my $slow = $srv->connect(label => 'slow', rcvbuf => 4096,
    readwhilewriting => 0);
$slow->read_greeting;
my $flood = $srv->connect(label => 'flood');
$flood->read_greeting;
$slow->expect('* join lobby ' . $flood->name);
my $base = $srv->rss_kb;
my $text = 'T' x 4000;
my $n = 5000;
my ($sent, $got) = (0, 0);
while ($sent < $n) {
	my $batch = join('', map { "/topic $_ $text\n" } $sent + 1 .. $sent + 50);
	last unless $flood->send_raw($batch, 10);
	$sent += 50;
	while ($got < $sent - 200) {
		my $l = $flood->line(10);
		last unless defined $l;
		$got++ if $l =~ /^\+TOPIC lobby /;
	}
}
while ($got < $n) {
	my $l = $flood->line(10);
	last unless defined $l;
	$got++ if $l =~ /^\+TOPIC lobby /;
}
is($got, $n, "$n /topic of 4000 bytes answered");
$srv->rss_ok($base, 12 << 10, 'the silent member costs --max-pending');
my $s = $flood->stats;
cmp_ok($s->{sends_dropped}, '>', $n / 2,
    "topic lines were dropped ($s->{sends_dropped} in sends_dropped)");
is($s->{dropped}, 0, 'no message was (dropped counts messages)');

# The member reads: its backlog, then the notice before the next line.
my @backlog = $slow->lines_for(1);
my @topics = grep { /^\* topic lobby / } @backlog;
cmp_ok(scalar(@topics), '<', $n / 2, 'it got part of them');
is($flood->cmd('/topic last one'), '+TOPIC lobby ' . $flood->name
    . ' last one');
my @after = $slow->lines_for(0.5);
like($after[0], qr/^\* dropped \d+$/, 'then * dropped N') or diag("@after");
is($after[1], '* topic lobby ' . $flood->name . ' last one',
    'then the next topic');

# A script learns of a dropped send.
my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.command("blast", function(conn, name)
	local to = lc.find(name)
	local sent, dropped, why = 0, 0
	for i = 1, 2000 do
		local ok, err = to:send(("x"):rep(1000))
		if ok then sent = sent + 1 else dropped = dropped + 1; why = err end
	end
	return ("+BLAST %d %d %s"):format(sent, dropped, tostring(why))
end)
EOF_LUA
my $s2 = Linecast->start('--max-pending', '64k', $script);
my $deaf = $s2->client(label => 'deaf', rcvbuf => 4096,
    readwhilewriting => 0);
my $b = $s2->client(label => 'b');
my $r = $b->cmd('/blast ' . $deaf->name);
like($r, qr/^\+BLAST (\d+) (\d+) dropped$/, 'conn:send returns nil, "dropped"');
my ($ok, $dropped) = $r =~ /(\d+) (\d+)/;
cmp_ok($ok, '<', 200, "about --max-pending's worth was sent ($ok)");
is($ok + $dropped, 2000, 'the rest dropped');

my $s3 = Linecast->start('--max-pending', '64k', '--slow-consumer',
    'disconnect', $script);
$deaf = $s3->client(label => 'deaf2', rcvbuf => 4096,
    readwhilewriting => 0);
$b = $s3->client(label => 'b2');
like($b->cmd('/blast ' . $deaf->name), qr/^\+BLAST \d+ \d+ closed$/,
    '--slow-consumer disconnect: it is closed, conn:send says so');
my @last = $deaf->lines_for(1);
is($last[-1], '-ERR slow-consumer output over 65536 bytes',
    'it is told why');

done_testing;
