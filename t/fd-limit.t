#!/usr/bin/perl
# A low open-file limit: --max-clients is lowered to fit it, so the
# connections past it get -ERR server-full instead of the server running
# out of descriptors; it goes on serving the others and takes new ones
# when some leave.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(sleep);

my $nofile = 64;
my $srv = Linecast->start({ nofile => $nofile }, '--default-channel', '');
my (@in, @out);
for my $i (1 .. $nofile + 30) {
	my $c = $srv->connect(label => "c$i");
	my $l = $c ? $c->line(5) : undef;
	if (defined $l && $l =~ /^\+HELLO /) {
		push @in, $c;
	} elsif (defined $l && $l =~ /^-ERR server-full\b/) {
		push @out, $c;
	} else {
		fail("c$i: neither +HELLO nor -ERR server-full");
		diag('got ' . Linecast::show($l) . ($c && $c->eof ? ' EOF' : ''));
		last;
	}
}
cmp_ok(scalar @in, '>', 6, scalar(@in) . ' connections accepted');
cmp_ok(scalar @in, '<', $nofile, 'no more than the open-file limit allows');
is(scalar(@in) + scalar(@out), $nofile + 30, 'the rest are told the server is full');
ok($_->is_closed, $_->label . ' is closed') for @out[0 .. 2];

is($in[0]->cmd('/ping alive'), '+PONG alive', 'the server is alive');
is($in[-1]->cmd('/join room'), '+JOIN room 1', 'and serves the last one in');

# Free five slots: five newcomers get in.
$_->close for @in[1 .. 5];
sleep 0.3;
my $got = 0;
for my $i (1 .. 5) {
	for (1 .. 20) {
		my $c = $srv->connect(label => "new$i");
		my $l = $c->line(5);
		if (defined $l && $l =~ /^\+HELLO /) {
			$got++;
			push @in, $c;
			last;
		}
		sleep 0.1;
	}
}
is($got, 5, 'freed slots are used again');
like($srv->log, qr/max-clients|open-file|descriptor|limit/i,
    'the log says the limit was lowered or reached');
is($srv->stop, 0, 'clean exit');

done_testing;
