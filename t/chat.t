#!/usr/bin/perl
# Three people chat in the lobby; carol types through telnet, so her lines
# end with CRLF. Everyone sees everyone else's lines, nobody their own.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start;
my $alice = $srv->client(label => 'alice');
my $bob = $srv->client(label => 'bob');
$alice->expect('* join lobby guest2');
my $carol = $srv->client(label => 'carol');
$alice->expect('* join lobby guest3');
$bob->expect('* join lobby guest3');

is($alice->cmd('/nick alice'), '+NICK alice');
$bob->expect('* nick guest1 alice');
$carol->expect('* nick guest1 alice');
is($bob->cmd('/nick bob'), '+NICK bob');
$alice->expect('* nick guest2 bob');
$carol->expect('* nick guest2 bob');
$carol->send_raw("/nick carol\r\n");
$carol->expect('+NICK carol', 'a CRLF command works');
$alice->expect('* nick guest3 carol');
$bob->expect('* nick guest3 carol');

$alice->send('hello all');
$bob->expect('lobby <alice> hello all');
$carol->expect('lobby <alice> hello all');

$carol->send_raw("hi alice\r\n");
$alice->expect('lobby <carol> hi alice', 'the CR is not delivered');
$bob->expect('lobby <carol> hi alice');

$bob->send("tabs\tand  double  spaces, and \xc3\xa9t\xc3\xa9 in UTF-8");
for my $c ($alice, $carol) {
	$c->expect("lobby <bob> tabs\tand  double  spaces, and \xc3\xa9t\xc3\xa9 in UTF-8",
	    $c->label . ': text is delivered byte for byte');
}

# A conversation: lines from each sender arrive in order.
for my $i (1 .. 20) {
	$alice->send("a$i");
	$carol->send_raw("c$i\r\n");
}
my (@from_alice, @from_carol);
for my $i (1 .. 40) {
	my $l = $bob->line;
	last unless defined $l;
	push @from_alice, $1 if $l =~ /^lobby <alice> (.*)$/;
	push @from_carol, $1 if $l =~ /^lobby <carol> (.*)$/;
}
is_deeply(\@from_alice, [map { "a$_" } 1 .. 20], 'alice\'s lines in order');
is_deeply(\@from_carol, [map { "c$_" } 1 .. 20], 'carol\'s lines in order');
is(scalar(grep { /^lobby <carol> / } $alice->lines_until(qr/^lobby <carol> c20$/)),
    20, 'alice gets carol\'s 20 lines');
is(scalar(grep { /^lobby <alice> / } $carol->lines_until(qr/^lobby <alice> a20$/)),
    20, 'carol gets alice\'s 20 lines');
$alice->expect_none('alice does not hear herself');
$carol->expect_none('carol does not hear herself');

# Private words in the middle of it.
is($alice->cmd('/msg carol are you there?'), '+MSG carol');
$carol->expect('@carol <alice> are you there?');
$bob->expect_none('bob does not see a private message');

# carol leaves with a telnet-style /quit.
$carol->send_raw("/quit bye\r\n");
$carol->expect('+BYE');
ok($carol->is_closed, 'carol is disconnected');
$alice->expect('* quit carol bye');
$bob->expect('* quit carol bye');
is($alice->cmd('/who'), '+WHO lobby alice bob');

done_testing;
