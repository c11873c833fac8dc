#!/usr/bin/perl
# Random bytes (NUL, 0xff, control bytes, no line structure) from several
# connections: the server survives, what it publishes has no control
# bytes, and it answers /ping afterwards.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

srand(20240611);

# Random bytes with some LFs, without IAC SB (which would swallow the rest
# of the stream up to an IAC SE that may never come).
sub garbage
{
	my ($n) = @_;
	my $s = join('', map { chr(int rand 256) } 1 .. $n);
	$s =~ s/\xff\xfa/\xff\xf1/g;
	return $s;
}

my $srv = Linecast->start;
my $watcher = $srv->client(label => 'watcher');
my @g = map { $srv->client(label => "garbage$_") } 1 .. 3;
$watcher->lines_for(0.2);

for my $round (1 .. 4) {
	for my $c (@g) {
		ok($c->send_raw(garbage(32768), 10),
		    $c->label . ": 32 kB of random bytes, round $round");
	}
}
for my $c (@g) {
	ok($c->send_raw("xx\n\n/ping alive\n", 10), $c->label . ': then a /ping');
	my @l = $c->lines_until(qr/^\+PONG alive$/, 10);
	is($l[-1], '+PONG alive', $c->label . ' is answered');
	my @odd = grep { !/^(-ERR \S+|\+\S+|\* |lobby <[^>]+> )/ }
	    @l[0 .. $#l - 1];
	is(scalar @odd, 0, $c->label . ': it gets replies, events and messages only')
	    or diag(join "\n", map { Linecast::show($_, 80) } grep { defined } @odd[0 .. 4]);
}

my @w = $watcher->sync(10);
my $published = grep { /^lobby <[^>]+> / } @w;
cmp_ok($published, '>', 0, "the watcher got $published published lines");
my @ctl = grep { /[\x00-\x08\x0a-\x1f\x7f]/ } @w;
is(scalar @ctl, 0, 'none has a control byte in it')
    or diag(join "\n", map { Linecast::show($_, 80) } grep { defined } @ctl[0 .. 4]);

# NULs and 0xff alone.
my $n = $srv->client(label => 'nul');
ok($n->send_raw("\x00" x 10000 . "\n" . "\xff" x 10000 . "xx\n/ping nul\n"),
    'NULs and 0xffs');
my @l = $n->lines_until(qr/^\+PONG nul$/, 10);
is($l[-1], '+PONG nul', 'answered after NULs and 0xffs');

# Garbage then a reset.
my $r = $srv->client(label => 'reset');
$r->send_raw(garbage(50000), 10);
$r->rst;

my $fresh = $srv->client(label => 'fresh');
$fresh->send('/ping fresh');
my @f = $fresh->lines_until(qr/^\+PONG fresh$/);
is($f[-1], '+PONG fresh', 'a new connection is served');
ok($srv->alive, 'the server is alive');
is($srv->stop, 0, 'and exits cleanly');

done_testing;
