#!/usr/bin/perl
# A client that sends its lines and half-closes gets every one of them
# processed and answered before the server closes it, even when its lines
# are held back (--max-rate, a line hook that sleeps, a full output).

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use Linecast;

# Sends lines, half-closes, and returns what comes back until EOF.
sub pipe_in
{
	my ($srv, $label, $lines, $timeout) = @_;
	my $c = $srv->client(label => $label);
	$c->send_raw(join('', map { "$_\n" } @$lines));
	shutdown($c->fh, 1);
	my @got = $c->lines_for($timeout);
	return ($c, @got);
}

my @pings = map { "/ping $_" } 1 .. 25;
my @pongs = map { "+PONG $_" } 1 .. 25;

my $srv = Linecast->start('--max-rate', '10');
my ($c, @got) = pipe_in($srv, 'rate', \@pings, 6);
is_deeply(\@got, \@pongs, '--max-rate 10: all 25 answered, in order');
ok($c->eof, 'then closed');

my $dir = $srv->dir;
open my $fh, '>', "$dir/sleepy.lua" or die;
print $fh <<'LUA';
local lc = require "linecast"
lc.on("line", function(conn, line) lc.sleep(0.01) end)
LUA
close $fh;
open $fh, '>', "$dir/ask.lua" or die;
print $fh <<'LUA';
local lc = require "linecast"
lc.command("ask", function(conn)
	local a, err = conn:read()
	local b, err2 = conn:read()
	return "+ASK " .. tostring(a) .. " " .. tostring(b) .. " " ..
	    tostring(err2)
end)
LUA
close $fh;

my $s2 = Linecast->start("$dir/sleepy.lua");
my $obs = $s2->client(label => 'obs');
($c, @got) = pipe_in($s2, 'sleepy', [ @pings, 'a last text line' ], 6);
is_deeply(\@got, \@pongs, 'a sleeping line hook: all 25 answered');
ok($c->eof, 'then closed');
my @seen = $obs->lines_until(qr/^\* quit /, 5);
is($seen[-2], 'lobby <' . $c->name . '> a last text line',
    'the text line after them was published before the quit');
like($seen[-1], qr/^\* quit \S+ eof$/, 'quit with eof');

my $s3 = Linecast->start("$dir/ask.lua");
($c, @got) = pipe_in($s3, 'ask', [ '/ping 1', '/ask', 'yes', '/ping 2' ], 3);
is_deeply(\@got, [ '+PONG 1', '+ASK yes /ping 2 nil', ],
    'conn:read() gets the queued lines');
my $t0 = time;
($c, @got) = pipe_in($s3, 'ask2', [ '/ask', 'only' ], 3);
is_deeply(\@got, [ '+ASK only nil closed' ],
    'then nil, "closed" once the lines are used up');
cmp_ok(time - $t0, '<', 2, 'at once, not at some timeout');

# A full output holds the input back; half-closed, it is still answered.
my $s4 = Linecast->start('--max-pending', '4k');
my $big = 'x' x 200;
($c, @got) = pipe_in($s4, 'full', [ map { "/ping $_ $big" } 1 .. 2000 ], 8);
is(scalar(@got), 2000, '--max-pending 4k: 2000 answers');
is($got[-1], "+PONG 2000 $big", 'the last one last');

done_testing;
