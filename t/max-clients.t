#!/usr/bin/perl
# --max-clients: a connection over the limit gets -ERR server-full and is
# closed; the others go on, and a freed slot can be used again.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(sleep);

my $srv = Linecast->start('--max-clients', '3');
my @c = map { $srv->client(label => "c$_") } 1 .. 3;
ok(defined $_->hello, $_->label . ' is in') for @c;
$_->sync for @c;

my $extra = $srv->connect(label => 'extra');
$extra->expect(qr/^-ERR server-full\b/, 'the fourth gets -ERR server-full');
ok($extra->is_closed, 'and is closed');
$c[0]->expect_none('no join event for the refused connection');
is($c[1]->cmd('/ping still'), '+PONG still', 'the others go on');
is($c[0]->stats->{connections}, 3, 'three connections');

my $extra2 = $srv->connect(label => 'extra2');
$extra2->expect(qr/^-ERR server-full\b/, 'again');
ok($extra2->is_closed, 'closed');

# Free a slot.
is($c[2]->cmd('/quit'), '+BYE');
ok($c[2]->is_closed);
$c[0]->expect(qr/^\* quit \S+ quit$/);
my $hello;
for (1 .. 50) {
	my $n = $srv->connect(label => 'newcomer');
	my $l = $n->line;
	if (defined $l && $l =~ /^\+HELLO /) {
		$hello = $n;
		last;
	}
	sleep 0.1;
}
ok($hello, 'a freed slot can be used again');
$_->sync for @c[0, 1];
is($hello->cmd('/ping in'), '+PONG in', 'and the newcomer is served') if $hello;

# Many at once over the limit: each refused, the server survives.
my @over = map { $srv->connect(label => "over$_") } 1 .. 20;
my $refused = grep { my $l = $_->line; defined $l && $l =~ /^-ERR server-full/ } @over;
is($refused, 20, 'twenty more are refused');
is($c[0]->cmd('/ping alive'), '+PONG alive', 'the server is fine');

done_testing;
