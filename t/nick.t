#!/usr/bin/perl
# Renaming: valid and invalid names, uniqueness without regard to case,
# the reserved name, and the event the other members see.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start;
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');

is($a->cmd('/nick alice'), '+NICK alice', '/nick alice');
$b->expect('* nick guest1 alice', 'the other member sees the rename');
is($b->cmd('/nick Alice'), '-ERR name-taken Alice',
    'names are unique without regard to case');
is($b->cmd('/nick ALICE'), '-ERR name-taken ALICE', 'in any case');
is($b->cmd('/nick bob'), '+NICK bob', '/nick bob');
$a->expect('* nick guest2 bob');

is($a->cmd('/nick Alice'), '+NICK Alice', 'one may change the case of one\'s own name');
$b->expect('* nick alice Alice');
is($a->cmd('/nick Alice'), '+NICK Alice', 'renaming to the same name is fine');
is($a->cmd('/who'), '+WHO lobby Alice bob', '/who shows the new names, in byte order');

is($a->cmd('/nick server'), '-ERR bad-name server is reserved' . $Linecast::NAME_ALLOWED,
    'server is reserved');
like($a->cmd('/nick SERVER'), qr/^-ERR bad-name /, 'in any case');

my $n32 = 'n' x 32;
is($a->cmd("/nick $n32"), "+NICK $n32", 'a 32-byte name is fine');
$b->expect("* nick Alice $n32");
my $n33 = 'n' x 33;
is($a->cmd("/nick $n33"), "-ERR bad-name $n33$Linecast::NAME_ALLOWED", 'a 33-byte name is not');
is($a->cmd('/nick alice'), '+NICK alice');
$b->expect("* nick $n32 alice");

for my $bad ('-x', 'a.b', 'a@b', 'a/b', 'caf' . "\xc3\xa9", '@bob', '*') {
	is($a->cmd("/nick $bad"), "-ERR bad-name $bad$Linecast::NAME_ALLOWED",
	    'bad name ' . Linecast::show($bad));
}
for my $good ('_x', '9lives', 'a-b', 'A_b-9') {
	is($a->cmd("/nick $good"), "+NICK $good", "good name $good");
	$b->expect(qr/^\* nick \S+ \Q$good\E$/);
}
is($a->cmd('/nick alice'), '+NICK alice');
$b->expect('* nick A_b-9 alice');

is($a->cmd('/nick'), '-ERR bad-args usage: /nick NAME', 'no argument');
is($a->cmd('/nick a b'), '-ERR bad-args usage: /nick NAME', 'two arguments');
$b->expect_none('failed renames send no event');

# A freed name can be taken.
is($b->cmd('/nick robert'), '+NICK robert');
$a->expect('* nick bob robert');
my $c = $srv->client(label => 'c');
$a->expect(qr/^\* join lobby guest3$/);
$b->expect(qr/^\* join lobby guest3$/);
is($c->cmd('/nick Bob'), '+NICK Bob', 'the old name is free again');
$a->expect('* nick guest3 Bob');
$b->expect('* nick guest3 Bob');

# The rename event goes once to each connection sharing any channel, and
# not to one sharing none.
is($a->cmd('/join x'), '+JOIN x 1');
is($b->cmd('/join x'), '+JOIN x 2');
$a->expect('* join x robert');
is($c->cmd('/part'), '+PART lobby', 'c leaves the lobby');
$a->expect('* part lobby Bob');
$b->expect('* part lobby Bob');
is($a->cmd('/nick al'), '+NICK al');
$b->expect('* nick alice al', 'one event though two channels are shared');
$b->expect_none('only one');
$c->expect_none('no event for a connection sharing no channel');

# Messages carry the new name.
$a->send('hi');
$b->expect('x <al> hi', 'messages carry the new name');

done_testing;
