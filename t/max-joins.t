#!/usr/bin/perl
# --max-joins: memberships per connection are bounded (the default channel
# counts; /sub does not), with -ERR too-many-joins; scripts' conn:join
# too. Up to the bound, joins stay fast: a connection's lookups do not
# grow with what it holds, and nobody else waits meanwhile.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use Linecast;

my $srv = Linecast->start('--max-joins', '3');
my $a = $srv->client(label => 'a');
is($a->cmd('/join j1'), '+JOIN j1 1', 'lobby and one');
is($a->cmd('/join j2'), '+JOIN j2 1', 'two');
is($a->cmd('/join j3'), '-ERR too-many-joins 3', 'past the bound: refused');
is($a->cmd('/join j2'), '+JOIN j2 1', 'joining one it has is fine');
like($a->cmd('/who'), qr/^\+WHO j2 /, 'and makes it current');
is($a->cmd('/sub s1'), '+SUB s1', 'subscriptions do not count');
is($a->cmd('/part lobby'), '+PART lobby', 'a part');
is($a->cmd('/join j3'), '+JOIN j3 1', 'makes room');
is($a->cmd('/list'), '+LIST j1:1:0 j2:1:0 j3:1:0 s1:0:1',
    'the refused join did not half-happen');

# A script's conn:join obeys the same bound.
my $dir = $srv->dir;
open my $fh, '>', "$dir/j.lua" or die;
print $fh <<'LUA';
local lc = require "linecast"
lc.command("sj", function(conn, ch)
	local n, err = conn:join(ch)
	return "+SJ " .. tostring(n) .. " " .. tostring(err)
end)
LUA
close $fh;
my $s2 = Linecast->start('--max-joins', '2', "$dir/j.lua");
my $b = $s2->client(label => 'b');
is($b->cmd('/sj x'), '+SJ 1 nil', 'conn:join within the bound');
is($b->cmd('/sj y'), '+SJ nil too-many-joins', 'conn:join past it');

# The default is 100, and joins up to a large bound are fast.
my $s3 = Linecast->start('--default-channel', '');
my $c = $s3->client(label => 'c');
$c->send_raw(join('', map { "/join d$_\n" } 1 .. 101), 10);
my @l = map { $c->line } 1 .. 101;
is(scalar(grep { /^\+JOIN d\d+ 1$/ } @l), 100, '100 joins by default');
is($l[-1], '-ERR too-many-joins 100', 'the 101st is refused');

my $n = 30000;
my $s4 = Linecast->start('--default-channel', '', '--max-joins', $n);
my $big = $s4->client(label => 'big');
my $other = $s4->client(label => 'other');
my $t0 = time;
ok($big->send_raw(join('', map { "/join e$_\n" } 1 .. $n), 20),
    "$n /join lines sent");
my $t1 = time;
is($other->cmd('/ping meanwhile', 2), '+PONG meanwhile',
    'another client is answered meanwhile');
my $ping = time - $t1;
my $ok = 0;
while ($ok < $n) {
	my $l = $big->line(10);
	last unless defined $l && $l =~ /^\+JOIN e\d+ 1$/;
	$ok++;
}
my $took = time - $t0;
is($ok, $n, "$n joins");
cmp_ok($took, '<', 8, sprintf('in %.2f s', $took));
cmp_ok($ping, '<', 1, sprintf('the other /ping took %.3f s', $ping));
is($big->cmd("/join e$n"), "+JOIN e$n 1", 'the last joined again');
is($big->cmd('/join f'), "-ERR too-many-joins $n", 'and no more');
is($big->cmd('/part e1'), '+PART e1', 'a part among many');

done_testing;
