# Publishes that arrive together are fanned out in blocks; every order
# the protocol promises must still hold: across channels, between a
# publisher's replies and its other commands, and with slow consumers.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start('--default-channel', '');
my $pub = $srv->client(label => 'pub');
my $sub = $srv->client(label => 'sub');
is($sub->cmd('/sub a'), '+SUB a');
is($sub->cmd('/sub b.>'), '+SUB b.>');

# One write: a1, b.x1, a2, then a /ping and more: everything in order.
my @lines;
for my $i (1 .. 300) {
	push @lines, "/pub a m$i", "/pub b.x n$i";
	push @lines, "/ping p$i" if $i % 50 == 0;
}
$pub->send_raw(join('', map { "$_\n" } @lines));
my @want_sub;
my @want_pub;
for my $l (@lines) {
	if ($l =~ m{^/pub (\S+) (\S+)}) {
		push @want_sub, "$1 <guest1> $2";
		push @want_pub, "+PUB $1 1";
	} elsif ($l =~ m{^/ping (\S+)}) {
		push @want_pub, "+PONG $1";
	}
}
my @got_sub = map { $sub->line // 'EOF' } 1 .. @want_sub;
is_deeply(\@got_sub, \@want_sub,
    'a subscriber of two channels gets 600 messages in publish order');
my @got_pub = map { $pub->line // 'EOF' } 1 .. @want_pub;
is_deeply(\@got_pub, \@want_pub,
    'the publisher gets its 600 +PUB and 6 +PONG replies in order');

# Text lines and /pub mixed, to a joined channel, and a /msg between.
is($pub->cmd('/join a'), '+JOIN a 1');
$pub->send_raw("t1\n/pub a t2\nt3\n/msg guest2 private\nt4\n");
is($pub->line, '+PUB a 1', 'the /pub reply');
is($pub->line, '+MSG guest2', 'then the /msg reply');
is_deeply([map { $sub->line } 1 .. 5],
    ['a <guest1> t1', 'a <guest1> t2', 'a <guest1> t3',
     '@guest2 <guest1> private', 'a <guest1> t4'],
    'text, /pub and a private message arrive as they were sent');

# Control bytes are replaced in blocks too.
$pub->send_raw("x\x1b[31my\n/pub a z\x07\n");
is($sub->line, "a <guest1> x?[31my", 'control bytes replaced');
is($sub->line, "a <guest1> z?", 'in every message of a block');
is($pub->line, '+PUB a 1');

# More than a block holds (64 KiB): 3000 messages of 100 bytes in one
# write fill several blocks, and arrive whole and in order.
my $big = 'x' x 100;
$pub->send_raw(join('', map { "/pub a $_ $big\n" } 1 .. 3000));
my @got = map { $sub->line // 'EOF' } 1 .. 3000;
is_deeply(\@got, [map { "a <guest1> $_ $big" } 1 .. 3000],
    '3000 messages past the block limit arrive whole, in order');
my @replies = map { $pub->line // 'EOF' } 1 .. 3000;
is(scalar(grep { $_ eq '+PUB a 1' } @replies), 3000, 'and 3000 +PUB replies');

# /stats counts each message of a block.
my ($published) = $pub->cmd('/stats') =~ /published=(\d+)/;
is($published, 3607, 'published counts messages, not blocks');

# A line refused between publishes is answered after the open block's
# replies: every reply comes in the order of the lines.
$pub->send_raw("/pub a p1\n" . ('y' x 5000) . "\n/pub a p2\n/pub\n"
    . "/pub a p3\n/pub a..b p4\n/pub a p5\n");
is_deeply([map { $pub->line // 'EOF' } 1 .. 7],
    ['+PUB a 1', '-ERR line-too-long 4096', '+PUB a 1',
     '-ERR bad-args usage: /pub CHANNEL TEXT', '+PUB a 1',
     '-ERR bad-channel a..b' . $Linecast::CHANNEL_ALLOWED, '+PUB a 1'],
    'a line too long, bad args and a bad channel are answered in order');
is_deeply([map { $sub->line // 'EOF' } 1 .. 4],
    [map { "a <guest1> p$_" } 1, 2, 3, 5], 'the good ones are delivered');

is($srv->stop, 0, 'exit 0');
done_testing;
