#!/usr/bin/perl
# lc.command: new commands with their arguments and reply, nil -> +NAME,
# replacing a built-in (/who), /help listing them with their help.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"

lc.command("echo", function(conn, args)
  return "+ECHO [" .. args .. "]"
end, "/echo TEXT - say it back")

lc.command("touch", function(conn, args)
  conn.data.touched = (conn.data.touched or 0) + 1
end)                                              -- no help, nil reply

lc.command("count", function(conn)
  return "+COUNT " .. (conn.data.touched or 0)
end, "/count - how many /touch")

lc.command("lines", function(conn, args)
  for i = 1, tonumber(args) do conn:send("* line " .. i) end
  return "+LINES " .. args
end, "/lines N - N lines, then the reply")

lc.command("refuse", function(conn, args)
  return "-ERR forbidden " .. args
end, "/refuse WHY - always fails")

-- A built-in replaced: /who now also counts.
lc.command("who", function(conn, args)
  local channel = args ~= "" and args or conn.channel
  local names = lc.members(channel)
  table.sort(names)
  return "+WHO " .. channel .. " (" .. #names .. ") " .. table.concat(names, " ")
end, "/who [CHANNEL] - members, counted")

-- Defined twice: the second definition wins.
lc.command("twice", function() return "+FIRST" end)
lc.command("twice", function() return "+SECOND" end)
EOF_LUA

my $srv = Linecast->start($script);
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');

is($a->cmd('/echo hello   world '), '+ECHO [hello   world ]',
    'the args are the rest of the line after the spaces that follow the name');
is($a->cmd('/echo'), '+ECHO []', 'no args: an empty string');
is($a->cmd('/ECHO Up'), '+ECHO [Up]', 'command names are case-insensitive');
is($a->cmd('/touch'), '+touch', 'nil: +NAME');
is($a->cmd('/TOUCH again'), '+touch',
    'nil: +NAME as registered, whatever the case typed');
is($a->cmd('/count'), '+COUNT 2', 'conn.data keeps state between commands');
is($b->cmd('/count'), '+COUNT 0', 'per connection');
my @l = $a->lines_until(qr/^\+LINES/) if $a->send('/lines 3');
is_deeply(\@l, ['* line 1', '* line 2', '* line 3', '+LINES 3'],
    'lines sent by the command come before its reply');
is($a->cmd('/refuse nope'), '-ERR forbidden nope', 'a reply may be an error');
is($a->cmd('/who'), '+WHO lobby (2) guest1 guest2', 'a script replaces /who');
is($a->cmd('/who empty'), '+WHO empty (0) ', 'with its arguments');
is($a->cmd('/twice'), '+SECOND', 'the last definition wins');
is($a->cmd('/nosuch'), '-ERR unknown-command /nosuch', 'unknown commands still fail');
is($a->cmd('/ping x'), '+PONG x', 'built-ins still work');

$a->send('/help');
my @lines = $a->lines_until(qr/^\+HELP /);
my $help = $lines[-1];
like($help, qr/^\+HELP /, '/help');
ok(grep({ m{^\*   /echo +/echo TEXT - say it back$} } @lines),
    'a person sees the script command with its help');
my %names = map { $_ => 1 } split / /, substr($help, 6);
ok($names{$_}, "/help lists $_") for qw(echo touch count lines refuse twice
    nick join ping quit who);
is(scalar(grep { $_ eq 'who' } split / /, $help), 1, 'who once');
is($a->cmd('/help echo'), '+HELP /echo - /echo TEXT - say it back',
    '/help NAME gives the script help');
is($a->cmd('/help /count'), '+HELP /count - /count - how many /touch', 'with a slash');
like($a->cmd('/help touch'), qr{^\+HELP /touch - }, 'a command without help');
is($a->cmd('/help who'), '+HELP /who - /who [CHANNEL] - members, counted',
    'a replaced built-in shows the script help');
is($a->cmd('/help join'), '+HELP /join CHANNEL - become a member of a channel and make it current',
    'built-ins keep theirs');

is($srv->stop, 0, 'exit 0');
done_testing;
