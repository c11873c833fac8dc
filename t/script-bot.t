#!/usr/bin/perl
# lua/bot.lua: !time, !uptime, !help answered in the channel after the
# question; !chime on|off with a 1 s chime; the name "bot" is kept.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(sleep);

local $ENV{LINECAST_CHIME_SECONDS} = 1;
my $srv = Linecast->start("$Bin/../lua/bot.lua");
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');

# The question is delivered first, then the answer, to everyone.
$a->send('!time');
$b->expect('lobby <guest1> !time', 'the question is published');
my $time = qr/^lobby <bot> it is \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$/;
$b->expect($time, 'then the bot tells the time');
$a->expect($time, 'the asker gets the answer too');

$b->send('  !UPTIME ');
$a->expect('lobby <guest2>   !UPTIME ');
$a->expect(qr/^lobby <bot> up (\d+[dhm] )*\d+s, 2 connections, 1 channel$/,
    '!uptime, any case');
$b->expect(qr/^lobby <bot> up /);

$a->send('!help');
$b->expect('lobby <guest1> !help');
$b->expect('lobby <bot> I answer !time, !uptime, !chime on|off and !help',
    '!help');
$a->expect(qr/^lobby <bot> I answer /);

# Other text, unknown requests and private messages get no answer.
$a->send('what !time is it');
$a->send('!frobnicate');
is($a->cmd('/msg guest2 !time'), '+MSG guest2', 'a private !time');
$b->expect('lobby <guest1> what !time is it');
$b->expect('lobby <guest1> !frobnicate');
$b->expect('@guest2 <guest1> !time');
sleep 0.2;
$b->expect_none('no answer to those');
$a->expect_none('none for a either');

# Other channels have their own bot answers.
is($b->cmd('/join dev'), '+JOIN dev 1', 'b joins dev');
$b->send('!time');
$b->expect(qr/^dev <bot> it is /, 'the bot answers in dev');
$a->expect_none('not in lobby');

# The name is the bot's.
is($a->cmd('/nick bot'), "-ERR forbidden bot is the bot's name", '/nick bot');
is($a->cmd('/nick BOT'), "-ERR forbidden bot is the bot's name", 'any case');

# Chimes, every second here, in the channels that asked. The answer to
# !chime may come right after a chime, as the request is acted on at once.
$a->send('!chime on');
my @got = $a->lines_until(qr/^lobby <bot> chime on:/, 3);
is($got[-1], 'lobby <bot> chime on: every 1s', '!chime on');
@got = $a->lines_for(2.2);
my @chimes = grep { /^lobby <bot> \*chime\* \d\d:\d\d$/ } @got;
ok(@chimes >= 1 && @chimes <= 3, 'chimes come, one a second')
    or diag explain \@got;
is(scalar @chimes, scalar @got, 'and nothing else') or diag explain \@got;
@got = $b->lines_for(0.2);
ok((grep { /^lobby <bot> \*chime\* / } @got), 'to every member of lobby')
    or diag explain \@got;
ok(!(grep { /^dev / } @got), 'none in dev, which did not ask')
    or diag explain \@got;
$a->send('!chime off');
@got = $a->lines_until(qr/^lobby <bot> chime off:/, 3);
is($got[-1], 'lobby <bot> chime off: no chimes here (!chime on to start them)',
    '!chime off says there are none, not how often');
is_deeply([$a->lines_for(1.5)], [], 'then no more chimes');
$a->send('!chime');
$a->expect('lobby <bot> chime off: no chimes here (!chime on to start them)',
    '!chime tells the state');
$a->send('!chime maybe');
$a->expect('lobby <bot> usage: !chime on|off', '!chime with a bad word');

is($srv->stop, 0, 'exit 0');

done_testing;
