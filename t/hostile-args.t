#!/usr/bin/perl
# Arguments are bytes: a NUL does not cut one short (so "/part lobby\0junk"
# names no channel and parts nothing), and an error reply that shows the
# sender's bytes shows their control bytes as "?", like everything else.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start;
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby ' . $b->name);

is($a->cmd("/part lobby\0junk"), '-ERR bad-channel lobby?junk' . $Linecast::CHANNEL_ALLOWED,
    'a NUL in /part: a bad channel, shown with ?');
like($a->cmd('/who lobby'), qr/ \Q${\$a->name}\E\b/, 'still in lobby');
$b->expect_none('no part event');
is($a->cmd("/join news\0x"), '-ERR bad-channel news?x' . $Linecast::CHANNEL_ALLOWED, '/join with a NUL');
is($a->cmd("/nick bob\0by"), '-ERR bad-name bob?by' . $Linecast::NAME_ALLOWED, '/nick with a NUL');
is($a->cmd("/nick ev\e[31mil"), '-ERR bad-name ev?[31mil' . $Linecast::NAME_ALLOWED,
    'an escape sequence in /nick');
is($a->cmd("/sub a\0b"), '-ERR bad-channel a?b' . $Linecast::CHANNEL_ALLOWED, '/sub with a NUL');
is($a->cmd("/unsub x\x07y"), '-ERR bad-channel x?y' . $Linecast::CHANNEL_ALLOWED, '/unsub with a BEL');
is($a->cmd("/pub ch\x01an hi"), '-ERR bad-channel ch?an' . $Linecast::CHANNEL_ALLOWED, '/pub');
is($a->cmd("/msg no\0body hi"), '-ERR no-such-name no?body', '/msg');
is($a->cmd("/msg " . $b->name . "\0x hi"),
    '-ERR no-such-name ' . $b->name . '?x', '/msg NAME\0x reaches no one');
$b->expect_none('nothing reached b');
is($a->cmd("/bogus\e]0;pwned\x07"), '-ERR unknown-command /bogus?]0;pwned?',
    'an unknown command');
is($a->cmd("/help bo\x1bgus"), '-ERR unknown-command bo?gus', '/help');
is($a->cmd("/who lob\x7fby"), '-ERR bad-channel lob?by' . $Linecast::CHANNEL_ALLOWED, '/who with DEL');
is($a->cmd("/ping ok"), '+PONG ok', 'the connection goes on');

# A script's reason for a refusal is sanitized too.
my $dir = $srv->dir;
open my $fh, '>', "$dir/refuse.lua" or die;
print $fh <<'LUA';
local lc = require "linecast"
lc.on("join", function(conn, ch)
	if ch == "vault" then return false, "no\27[1m entry" end
end)
lc.command("hi", function() return "+HI" end)
LUA
close $fh;
my $s2 = Linecast->start("$dir/refuse.lua");
my $c = $s2->client(label => 'c');
is($c->cmd('/join vault'), '-ERR forbidden no?[1m entry',
    "a script's refusal");
is($c->cmd("/part vault\0"), '-ERR bad-channel vault?' . $Linecast::CHANNEL_ALLOWED, 'a trailing NUL');
is($c->cmd('/hi'), '+HI', 'a script command');
is($c->cmd("/hi\0x"), '-ERR unknown-command /hi?x',
    'a NUL in its name makes it another name');

done_testing;
