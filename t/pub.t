#!/usr/bin/perl
# /pub CHANNEL TEXT: publishing without being a member; the reply counts
# the connections it was written to.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start('--default-channel', '');
my $p = $srv->client(label => 'publisher');
my @m = map { $srv->client(label => "member$_") } 1 .. 3;
is($p->cmd('/nick pub'), '+NICK pub');
is($m[0]->cmd('/join news'), '+JOIN news 1');
is($m[1]->cmd('/join news'), '+JOIN news 2');
is($m[2]->cmd('/sub news'), '+SUB news');
$m[0]->expect('* join news guest3');

is($p->cmd('/pub news hello'), '+PUB news 3', 'two members and a subscriber');
$_->expect('news <pub> hello') for @m;
is($p->cmd('/pub empty hello'), '+PUB empty 0', 'nobody there');
is($p->cmd('/pub news  two  spaces '), '+PUB news 3', 'text with spaces');
$_->expect('news <pub>  two  spaces ',
    $_->label . ': the text is the rest after one space') for @m;
is($p->cmd('/PUB news upper'), '+PUB news 3', '/PUB');
$_->expect('news <pub> upper') for @m;
is($p->cmd('/pub news //slashes/ stay'), '+PUB news 3');
$_->expect('news <pub> //slashes/ stay', 'slashes in /pub text are kept') for @m;

is($p->cmd('/pub'), '-ERR bad-args usage: /pub CHANNEL TEXT', '/pub alone');
is($p->cmd('/pub news'), '-ERR bad-args usage: /pub CHANNEL TEXT', 'no text');
for my $bad ('news.*', 'news.>', '>', 'a..b', '-x', '.x') {
	is($p->cmd("/pub $bad text"), "-ERR bad-channel $bad$Linecast::CHANNEL_ALLOWED",
	    "no publishing to $bad");
}
$_->expect_none($_->label . ': nothing else') for @m;

is($p->cmd('/who news'), '+WHO news guest2 guest3', 'the publisher is not a member');
is($p->cmd('/list'), '+LIST news:2:1');
is($p->cmd('/who'), '-ERR no-channel /join a channel first',
    'and has no current channel');

# A member leaving lowers the count.
is($m[1]->cmd('/part news'), '+PART news');
$m[0]->expect('* part news guest3');
is($p->cmd('/pub news fewer'), '+PUB news 2');

# /help for every command.
for my $cmd (qw(nick join part sub unsub pub msg who list ping stats help quit)) {
	like($p->cmd("/help $cmd"), qr{^\+HELP /$cmd\b.* - \S}, "/help $cmd");
}
like($p->cmd('/HELP Nick'), qr{^\+HELP /nick\b}i, 'help is case-insensitive');

# Wrong numbers of arguments.
is($p->cmd('/who a b'), '-ERR bad-args usage: /who [CHANNEL]', '/who a b');
is($p->cmd('/unsub a b'), '-ERR bad-args usage: /unsub PATTERN', '/unsub a b');

done_testing;
