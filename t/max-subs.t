#!/usr/bin/perl
# --max-subs: /sub patterns per connection are limited; joins, the inbox
# and repeated /sub of one pattern do not count.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start('--max-subs', '3', '--default-channel', '');
my $a = $srv->client(label => 'a');
is($a->cmd('/sub a'), '+SUB a');
is($a->cmd('/sub b.*'), '+SUB b.*');
is($a->cmd('/sub c.>'), '+SUB c.>');
is($a->cmd('/sub d'), '-ERR too-many-subs 3', 'the fourth is refused');
is($a->cmd('/sub a'), '+SUB a', 'subscribing again to one we have is fine');
is($a->cmd('/join j1'), '+JOIN j1 1', 'joins do not count');
is($a->cmd('/join j2'), '+JOIN j2 1');
is($a->cmd('/sub d'), '-ERR too-many-subs 3', 'still refused');
is($a->cmd('/unsub b.*'), '+UNSUB b.*');
is($a->cmd('/sub d'), '+SUB d', 'after an /unsub there is room');
is($a->cmd('/sub e'), '-ERR too-many-subs 3', 'and full again');

my $b = $srv->client(label => 'b');
is($b->cmd('/sub a'), '+SUB a', 'the limit is per connection');
is($b->cmd('/pub d x'), '+PUB d 1', 'the refused sub did not half-happen');
$a->expect('d <guest2> x');
is($b->cmd('/pub e x'), '+PUB e 0', 'e was refused');
$a->expect_none('nothing from e');

# The default is 1000.
my $srv2 = Linecast->start;
my $c = $srv2->client(label => 'c');
ok($c->send_raw(join('', map { "/sub t.$_\n" } 1 .. 1000), 10),
    '1000 /sub in one write');
my $ok = 0;
for my $i (1 .. 1000) {
	my $l = $c->line;
	$ok++ if defined $l && $l eq "+SUB t.$i";
}
is($ok, 1000, '1000 subscriptions by default');
is($c->cmd('/sub t.1001'), '-ERR too-many-subs 1000', 'the 1001st is refused');

done_testing;
