#!/usr/bin/perl
# A first session: connect, get a name and the default channel, look
# around with /who, /list, /ping, /help, /stats and leave with /quit.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start;

my $a = $srv->client(label => 'first');
is($a->hello, '+HELLO linecast/0.1.0 name=guest1 channel=lobby',
    'greeting names the version, guest1 and the default channel');
my $b = $srv->client(label => 'second');
is($b->hello, '+HELLO linecast/0.1.0 name=guest2 channel=lobby',
    'the second connection is guest2');
$a->expect('* join lobby guest2', 'members see the newcomer join');
$b->expect_none('the newcomer gets no event about itself');

is($a->cmd('/who'), '+WHO lobby guest1 guest2', '/who lists the lobby');
is($a->cmd('/who lobby'), '+WHO lobby guest1 guest2', '/who CHANNEL');
is($a->cmd('/who nowhere'), '+WHO nowhere', '/who of an unknown channel');
is($a->cmd('/list'), '+LIST lobby:2:0', '/list');

is($a->cmd('/ping'), '+PONG', '/ping');
is($a->cmd('/ping 12345'), '+PONG 12345', '/ping TOKEN');
is($a->cmd('/PING Up'), '+PONG Up', 'command names are case-insensitive');
is($a->cmd('/Who'), '+WHO lobby guest1 guest2', '/Who');

# /help: a "* " line a command for a person, then the one reply line.
$a->send('/help');
my @help = $a->lines_until(qr/^\+HELP/);
is($help[-1],
    '+HELP nick join part sub unsub pub msg who list ping stats help quit',
    '/help replies with the command names on one line');
is($help[0], '* Commands (/help COMMAND shows one):',
    'after a notice that says /help COMMAND shows one');
is(scalar(@help), 15, 'and a line for each of the 13 commands');
like($help[2], qr{^\*   /join CHANNEL +become a member}, 'usage, then what');
is(scalar(grep { /^\* / } @help), 14, 'all of them notices');
like($a->cmd('/help join'), qr{^\+HELP /join CHANNEL - \S},
    '/help join gives its usage');
like($a->cmd('/help pub'), qr{^\+HELP /pub CHANNEL TEXT - \S},
    '/help pub gives its usage');
is($a->cmd('/help join2'), '-ERR unknown-command join2',
    '/help of an unknown command');

is($a->cmd('/frobnicate'), '-ERR unknown-command /frobnicate',
    'unknown command');
is($a->cmd('/frobnicate with args'), '-ERR unknown-command /frobnicate',
    'unknown command with arguments');

my $st = $a->cmd('/stats');
like($st, qr/^\+STATS uptime=\d+ connections=\d+ channels=\d+ published=\d+ delivered=\d+ dropped=\d+ lines_in=\d+ bytes_in=\d+ bytes_out=\d+ hook_errors=\d+ jobs_pending=\d+ jobs_running=\d+ jobs_done=\d+ jobs_failed=\d+(?: \S+=\S*)*$/,
    '/stats gives the counters in order');
like($st, qr/ connections=2 /, 'two connections');

# Text goes to the current channel.
$b->send('hello there');
$a->expect('lobby <guest2> hello there', 'text reaches the other member');
$b->expect_none('no echo to the sender');

is($b->cmd('/quit'), '+BYE', '/quit says +BYE');
ok($b->is_closed, 'and the server closes');
$a->expect('* quit guest2 quit', 'the other member sees the quit');
is($a->cmd('/who'), '+WHO lobby guest1', 'the lobby has one member left');

my $c = $srv->client(label => 'third');
is($c->name, 'guest3', 'ids go on counting');
$a->expect('* join lobby guest3');
is($c->cmd('/quit see you later'), '+BYE', '/quit REASON');
ok($c->is_closed, 'closed');
$a->expect('* quit guest3 see you later', 'the reason is shown');

# A connection that ends without /quit.
my $d = $srv->client(label => 'fourth');
$a->expect('* join lobby guest4');
$d->close;
$a->expect('* quit guest4 eof', 'EOF is a quit with reason eof');

# guestN is taken: the newcomer gets guestN-2.
is($a->cmd('/nick guest5'), '+NICK guest5', 'take the next guest name');
my $e = $srv->client(label => 'fifth');
is($e->name, 'guest5-2', 'a taken guest name gets a -2 suffix');
is($e->cmd('/nick GUEST6'), '+NICK GUEST6', 'take guest6 in upper case');
$a->sync;
is($a->cmd('/nick guest6-2'), '+NICK guest6-2', 'and guest6-2');
my $f6 = $srv->client(label => 'sixth');
is($f6->name, 'guest6-3', 'the suffix counts on, names compare without case');

is($srv->stop, 0, 'SIGTERM: exit status 0');

# Without a default channel.
my $srv2 = Linecast->start('--default-channel', '');
my $f = $srv2->client;
is($f->hello, '+HELLO linecast/0.1.0 name=guest1',
    'no channel in the greeting without a default channel');
is($f->cmd('/list'), '+LIST', 'no channels at all');
is($f->cmd('/who'), '-ERR no-channel /join a channel first',
    '/who without a current channel');
$f->send('anyone?');
$f->expect('-ERR no-channel /join a channel first',
    'text without a current channel');
is($srv2->stop, 0, 'exit status 0');

my $srv3 = Linecast->start('--default-channel', 'hall');
my $g = $srv3->client;
is($g->hello, '+HELLO linecast/0.1.0 name=guest1 channel=hall',
    '--default-channel hall');
is($g->cmd('/who'), '+WHO hall guest1', 'joined to hall');

done_testing;
