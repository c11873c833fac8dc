#!/usr/bin/perl
# Replies are never dropped: a client that sends commands and does not
# read its replies is simply not read any more once its output passes
# --max-pending (TCP pushes back); when it reads, every reply comes, in
# order. The server's memory stays bounded and others are served.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $srv = Linecast->start('--max-pending', '64k', '--default-channel', '');
my $a = $srv->client(label => 'greedy', rcvbuf => 8192, sndbuf => 8192,
    readwhilewriting => 0);
my $b = $srv->client(label => 'other');
is($a->cmd('/ping start'), '+PONG start');
my $rss0 = $srv->rss_kb // 0;

# Write /ping commands without reading until the server stops taking them.
my $N = 200000;
my $token = 't' x 100;
my ($queued, $i, $stalled_since) = ('', 0, undef);
my $t0 = time;
while (time - $t0 < 20) {
	$queued .= "/ping " . ++$i . " $token\n" while length $queued < 65536 && $i < $N;
	last if $queued eq '';
	my $w = $a->write_some($queued);
	last unless defined $w;
	if ($w > 0) {
		substr($queued, 0, $w, '');
		$stalled_since = undef;
		next;
	}
	$stalled_since //= time;
	last if time - $stalled_since > 1;
	sleep 0.01;
}
my $sent = $i - int(length($queued) / length("/ping $i $token\n"));
ok(defined $stalled_since, "the server stopped reading after about $sent commands");
cmp_ok($sent, '<', $N, 'before all were sent');
$srv->rss_ok($rss0, 32 * 1024, 'its memory stayed bounded');
is($b->cmd('/ping other', 5), '+PONG other', 'another client is served meanwhile');
ok(!defined $b->stats->{dropped} || $b->stats->{dropped} == 0,
    'nothing counted as dropped');

# Now read everything while sending the rest.
my ($got, $bad) = (0, 0);
$t0 = time;
while ($got < $N && time - $t0 < 60) {
	$queued .= "/ping " . ++$i . " $token\n" while length $queued < 65536 && $i < $N;
	if (length $queued) {
		my $w = $a->write_some($queued);
		last unless defined $w;
		substr($queued, 0, $w, '');
	}
	$a->fill(0.01);
	while (defined(my $l = $a->line(0))) {
		$got++;
		if ($l ne "+PONG $got $token" && !$bad++) {
			diag("reply $got: " . Linecast::show($l, 60));
		}
	}
}
is($got, $N, "all $N replies arrived");
is($bad, 0, 'each in order');
$a->expect_none('and nothing more');

# A client whose pipelined commands get replies past --max-pending in one
# loop turn waits for its output; when the socket takes that output in
# one write, its input goes on by itself, without the client sending more.
my $c = $srv->client(label => 'pipeliner');
$c->send_raw("/stats\n" x 2000);
my $n = 0;
while (defined(my $l = $c->line(5))) {
	$n++ if $l =~ /^\+STATS /;
	last if $n == 2000;
}
is($n, 2000, 'a pipeliner whose replies pass --max-pending gets all 2000');

done_testing;
