# publish and line hooks run while a block of earlier messages is open,
# and what they pass goes into it: every order must still hold. Each
# kind of hook answer, and each thing a hook can do that someone sees
# (a reply, conn:send, another publish, a sleep, an error), arrives in
# its place among 320 publishes sent in one write.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.on("line", function(conn, line)
  if line == "eat" then return false end
  local text = line:match("^text (.*)")
  if text then return "/pub a " .. text end
end)
lc.on("publish", function(msg)
  local t = msg.text
  if msg.sender == "server" then return end
  if t:find("^drop") then return false end
  if t:find("^up ") then return t:upper() end
  if t:find("^send") then lc.find("watcher"):send("* sent " .. t) end
  if t:find("^sleep") then lc.sleep(0.01) end
  if t:find("^fail") then error("boom") end
  if t:find("^also") then lc.publish("a", "before " .. t) end
end)
EOF_LUA

my $srv = Linecast->start('--default-channel', '', '--no-presence',
    $script);
my $pub = $srv->client(label => 'pub');
my $sub = $srv->client(label => 'sub');
is($pub->cmd('/nick pub'), '+NICK pub');
is($sub->cmd('/nick watcher'), '+NICK watcher');
is($sub->cmd('/sub a'), '+SUB a');

# What the publisher sends, what the subscriber and the publisher get.
my (@lines, @want_sub, @want_pub);
my @kinds = qw(plain drop up send plain sleep fail also text eat plain
    plain);
for my $i (1 .. 320) {
	my $kind = $kinds[$i % @kinds];
	$kind = 'plain' if $kind eq 'sleep' && $i % 48 != 5;	# a few only
	if ($kind eq 'plain') {
		push @lines, "/pub a m$i";
		push @want_sub, "a <pub> m$i";
	} elsif ($kind eq 'drop') {
		push @lines, "/pub a drop$i";
	} elsif ($kind eq 'up') {
		push @lines, "/pub a up m$i";
		push @want_sub, "a <pub> UP M$i";
	} elsif ($kind eq 'send') {
		push @lines, "/pub a send$i";
		push @want_sub, "* sent send$i", "a <pub> send$i";
	} elsif ($kind eq 'sleep') {
		push @lines, "/pub a sleep$i";
		push @want_sub, "a <pub> sleep$i";
	} elsif ($kind eq 'fail') {
		push @lines, "/pub a fail$i";
	} elsif ($kind eq 'also') {
		push @lines, "/pub a also$i";
		push @want_sub, "a <server> before also$i", "a <pub> also$i";
	} elsif ($kind eq 'text') {
		push @lines, "text t$i";
		push @want_sub, "a <pub> t$i";
	} else {
		push @lines, 'eat';
	}
	push @want_pub, $kind eq 'drop' ? '+PUB a 0'
	    : $kind eq 'fail' ? '-ERR script-error'
	    : $kind eq 'eat' ? () : '+PUB a 1';
	if ($i % 40 == 0) {
		push @lines, "/ping p$i";
		push @want_pub, "+PONG p$i";
	}
}
$pub->send_raw(join('', map { "$_\n" } @lines));
my @got_sub = map { $sub->line // 'EOF' } 1 .. @want_sub;
is_deeply(\@got_sub, \@want_sub, 'the subscriber gets every message, '
    . 'rewrite, conn:send and script publish in order');
my @got_pub = map { $pub->line // 'EOF' } 1 .. @want_pub;
is_deeply(\@got_pub, \@want_pub,
    'the publisher gets its replies, drops and script errors in order');
$sub->expect_none('and nothing else');
$pub->expect_none('nor the publisher');

# A hook that changes who receives: a subscription made by the hook of
# one message does not reach the messages before it.
my $script2 = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.on("publish", function(msg)
  if msg.text == "join now" then lc.find("late"):subscribe("b") end
end)
EOF_LUA
my $srv2 = Linecast->start('--default-channel', '', '--no-presence',
    $script2);
my $p2 = $srv2->client(label => 'p2');
my $l2 = $srv2->client(label => 'l2');
is($l2->cmd('/nick late'), '+NICK late');
$p2->send_raw(join('', map { "/pub b n$_\n" } 1 .. 50)
    . "/pub b join now\n" . join('', map { "/pub b k$_\n" } 1 .. 50));
my @r = map { $p2->line // 'EOF' } 1 .. 101;
is(scalar(grep { $_ eq '+PUB b 0' } @r[0 .. 49]), 50,
    'the messages before the subscription reach nobody');
is_deeply([@r[50 .. 100]], [('+PUB b 1') x 51],
    'the one whose hook subscribed, and those after, reach it');
is_deeply([map { $l2->line // 'EOF' } 1 .. 51],
    ['b <guest1> join now', map { "b <guest1> k$_" } 1 .. 50],
    'the subscriber gets exactly those');

is($srv->stop, 0, 'exit 0');
is($srv2->stop, 0, 'exit 0');
done_testing;
