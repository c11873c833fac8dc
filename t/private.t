#!/usr/bin/perl
# Private inboxes: /msg NAME and /pub @NAME reach that connection only;
# nobody may subscribe to an inbox and no pattern matches one.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes ();

my $srv = Linecast->start('--default-channel', '');
my $alice = $srv->client(label => 'alice');
my $bob = $srv->client(label => 'bob');
my $eve = $srv->client(label => 'eve');
is($alice->cmd('/nick alice'), '+NICK alice');
is($bob->cmd('/nick bob'), '+NICK bob');
is($eve->cmd('/nick eve'), '+NICK eve');
for my $pat ('>', '*', '@bob.>') {
	my $r = $eve->cmd("/sub $pat");
	ok($r eq "+SUB $pat" || $r =~ /^-ERR (bad-channel|forbidden) /,
	    "eve subscribes to $pat (or is refused)") or diag($r);
}
is($eve->cmd('/sub @bob'), '-ERR forbidden inboxes cannot be subscribed',
    'eve may not subscribe to bob\'s inbox');
is($eve->cmd('/join @bob'), '-ERR bad-channel @bob' . $Linecast::CHANNEL_ALLOWED, 'nor join it');

is($alice->cmd('/msg bob hello bob'), '+MSG bob', '/msg bob');
$bob->expect('@bob <alice> hello bob', 'bob gets it in his inbox');
$eve->expect_none('eve\'s > and * do not match an inbox');
$alice->expect_none('no copy to the sender');

is($alice->cmd('/pub @bob via pub'), '+PUB @bob 1', '/pub @bob');
$bob->expect('@bob <alice> via pub', '/pub @bob is a private message');
$eve->expect_none('eve sees nothing');

is($alice->cmd('/msg bob   spaced  out  '), '+MSG bob', 'text with spaces');
$bob->expect('@bob <alice>   spaced  out  ',
    'the text is the rest of the line after one space');

is($alice->cmd('/msg nobody hi'), '-ERR no-such-name nobody', 'unknown name');
like($alice->cmd('/pub @nobody hi'), qr/^(-ERR no-such-name nobody|\+PUB \@nobody 0)$/,
    '/pub @unknown: an error or zero deliveries');
is($alice->cmd('/msg bob'), '-ERR bad-args usage: /msg NAME TEXT', 'no text');
is($alice->cmd('/msg'), '-ERR bad-args usage: /msg NAME TEXT', 'no name');
is($alice->cmd('/pub @bob'), '-ERR bad-args usage: /pub CHANNEL TEXT',
    '/pub without text');

# To oneself.
$alice->send('/msg alice note to self');
my @two = sort($alice->line, $alice->line);
is_deeply(\@two, ['+MSG alice', '@alice <alice> note to self'],
    'a message to oneself is delivered (and replied to)');

# Names and renames.
is($bob->cmd('/nick robert'), '+NICK robert');
is($alice->cmd('/msg bob still there?'), '-ERR no-such-name bob',
    'the old name is gone');
is($alice->cmd('/msg robert still there?'), '+MSG robert');
$bob->expect('@robert <alice> still there?', 'the inbox follows the rename');
is($alice->cmd('/nick al'), '+NICK al');
is($alice->cmd('/msg robert again'), '+MSG robert');
$bob->expect('@robert <al> again', 'the sender shows the new name');

# A member of every channel and a subscriber of everything gets no
# private messages either.
is($eve->cmd('/join lobby'), '+JOIN lobby 1');
is($alice->cmd('/msg robert secret'), '+MSG robert');
$bob->expect('@robert <al> secret');
$eve->expect_none('still nothing for eve');

# Replies to a private message go the other way.
is($bob->cmd('/msg al got it'), '+MSG al');
$alice->expect('@al <robert> got it');

# Private messages are text: control bytes are replaced.
is($alice->cmd("/msg robert \x1b[5mblink"), '+MSG robert');
$bob->expect('@robert <al> ?[5mblink');

# After the receiver leaves, the name is unknown.
$bob->close;
my $r;
for (1 .. 100) {
	$r = $alice->cmd('/msg robert anyone?') // 'nothing';
	last if $r ne '+MSG robert';
	Time::HiRes::sleep(0.05);
}
is($r, '-ERR no-such-name robert', 'a closed connection\'s name is unknown');

done_testing;
