#!/usr/bin/perl
# SIGTERM and SIGINT with clients connected: each is told
# "* closing shutdown" and closed, and the server exits 0 within
# --shutdown-timeout, even with a client that does not read.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $srv = Linecast->start('--shutdown-timeout', '2');
my @c = map { $srv->client(label => "c$_") } 1 .. 3;
$_->lines_for(0.1) for @c;
$c[0]->send_raw('a partial line');
is($c[1]->cmd('/join room'), '+JOIN room 1');
my $port = $srv->port;

my $t0 = time;
ok($srv->signal('TERM'), 'SIGTERM');
for my $c (@c) {
	ok($c->is_closed(8), $c->label . ' is closed');
	my @l;
	while (defined(my $l = $c->line(0))) {
		push @l, $l;
	}
	ok(scalar(grep { $_ eq '* closing shutdown' } @l),
	    $c->label . ' is told * closing shutdown');
	my @odd = grep { $_ ne '* closing shutdown' && !/^\* quit \S+ shutdown$/ } @l;
	is(scalar @odd, 0, $c->label . ': nothing else (but quits with reason shutdown)')
	    or diag(join("\n", @odd));
}
is($srv->wait_exit(8), 0, 'exit status 0');
my $took = time - $t0;
cmp_ok($took, '<', 8, sprintf('it took %.2f s', $took));
like($srv->log, qr/listening on 127\.0\.0\.1:\d+/, 'the log is there');
my $late = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 2);
ok(!$late, 'nobody listens any more');

# SIGINT, no clients.
my $srv2 = Linecast->start;
is($srv2->stop(10, 'INT'), 0, 'SIGINT: exit status 0');

# A client that never reads, with megabytes queued: the deadline holds.
my $srv3 = Linecast->start('--shutdown-timeout', '1', '--default-channel', '',
    '--max-pending', '32m');
my $stuck = $srv3->client(label => 'stuck', rcvbuf => 4096);
my $pub = $srv3->client(label => 'publisher');
my $ok = $srv3->client(label => 'reader');
is($stuck->cmd('/sub flood'), '+SUB flood');
is($ok->cmd('/sub flood'), '+SUB flood');
is($pub->cmd('/join flood'), '+JOIN flood 1');
my $r = Linecast->flood($pub, $ok, 40000);
is($r->{received}, 40000, 'the stuck client has about 8 MB queued');
$t0 = time;
my $code = $srv3->stop(10);
$took = time - $t0;
is($code, 0, 'SIGTERM: exit status 0');
cmp_ok($took, '<', 6, sprintf('within the 1 s shutdown timeout (and slack): %.2f s', $took));
my @l = $ok->lines_until(qr/^\* closing shutdown$/, 2);
is($l[-1], '* closing shutdown', 'the reader is told');
ok($ok->is_closed(2), 'and closed');

# Shutdown with no clients at all, right after start.
my $srv4 = Linecast->start;
is($srv4->stop, 0, 'an idle server exits 0');
cmp_ok($srv4->{stop_seconds}, '<', 5, 'promptly');

done_testing;
