#!/usr/bin/perl
# Connections that vanish with a TCP reset, mid-line, mid-reply, with
# output queued: the server survives and the others see them quit.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(sleep);

my $srv = Linecast->start;
my $obs = $srv->client(label => 'observer');
is($obs->cmd('/nick obs'), '+NICK obs');
is($obs->cmd('/join room'), '+JOIN room 1');

# A reset in the middle of a line.
my $a = $srv->client(label => 'midline');
$obs->expect('* join lobby ' . $a->name);
is($a->cmd('/join room'), '+JOIN room 2');
$obs->expect('* join room ' . $a->name);
$a->send_raw('half a li');
sleep 0.1;
$a->rst;
my $q = $obs->expect(qr/^\* quit \Q${\ $a->name}\E (error|eof)$/,
    'a reset shows as a quit with reason error or eof');
$obs->expect_none('once, though two channels were shared');
$obs->expect_none('and the half line was not published');

# A reset with replies queued and unread.
my $b = $srv->client(label => 'unread', rcvbuf => 4096, readwhilewriting => 0);
$obs->expect('* join lobby ' . $b->name);
$b->send_raw(join('', map { "/who lobby\n/help\n" } 1 .. 2000), 10);
sleep 0.2;
$b->rst;
$obs->expect(qr/^\* quit \Q${\ $b->name}\E (error|eof)$/,
    'a reset with output queued');
is($obs->cmd('/ping 1'), '+PONG 1', 'the server is fine');

# A reset while messages are being delivered to it.
my $c = $srv->client(label => 'listener', rcvbuf => 4096);
$obs->expect('* join lobby ' . $c->name);
is($c->cmd('/sub room'), '+SUB room');
ok($obs->send_raw(join('', map { "message $_ " . ('x' x 100) . "\n" } 1 .. 3000), 10),
    'a burst to room');
$c->rst;
$obs->expect(qr/^\* quit \Q${\ $c->name}\E (error|eof)$/);
is($obs->cmd('/ping 2'), '+PONG 2', 'the server is fine');

# Many at once.
my @many = map { $srv->client(label => "m$_") } 1 .. 20;
$_->send_raw("/join room\n/ping x\npartial") for @many;
sleep 0.2;
$_->rst for @many;
my @quits;
for (1 .. 200) {
	my $l = $obs->line(5);
	last unless defined $l;
	push @quits, $l if $l =~ /^\* quit /;
	last if @quits == 20;
}
is(scalar @quits, 20, 'twenty resets, twenty quits');
$obs->sync;
my $who;
for (1 .. 50) {
	$who = $obs->cmd('/who room');
	last if $who eq '+WHO room obs';
	sleep 0.1;
}
is($who, '+WHO room obs', 'they have all left the channel');
is($obs->cmd('/who lobby'), '+WHO lobby obs', 'and the lobby');
ok($srv->alive, 'the server is alive');
is($srv->stop, 0, 'and exits cleanly');

done_testing;
