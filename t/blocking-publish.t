#!/usr/bin/perl
# lc.publish in a worker function is carried out by the loop while the
# worker still runs, in the order the worker made them: a subscriber gets
# a stream of messages before the command that started it is answered.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"

-- Streams five items to a channel, 0.2 s apart.
lc.worker("stream", function(channel, n)
  for i = 1, n do
    assert(lc.publish(channel, "item " .. i) == true)
    if i < n then os.execute("sleep 0.2") end
  end
  os.execute("sleep 0.3")
  return n
end)

-- Another sender name; a bad one and a bad channel are logged, not fatal.
lc.worker("senders", function()
  lc.publish("news", "from a robot", "robot")
  lc.publish("news", "bad sender", "no spaces allowed")
  lc.publish("bad channel!", "nowhere")
  lc.publish("news", "last")
  return lc.is_worker
end)

-- A burst: a thousand publishes from one job keep their order.
lc.worker("burst", function(n)
  for i = 1, n do lc.publish("burst", ("%04d"):format(i)) end
  return n
end)

lc.command("stream", function(conn, args)
  return "+STREAM " .. lc.blocking("stream", "news", tonumber(args))
end)
lc.command("senders", function()
  return "+SENDERS " .. tostring(lc.blocking("senders"))
end)
lc.command("burst", function(conn, args)
  return "+BURST " .. lc.blocking("burst", tonumber(args))
end)

-- The publish handlers see worker publishes like any other.
lc.on("publish", function(msg)
  if msg.text == "item 3" then return "item 3 (seen by a handler)" end
end)
EOF_LUA

my $srv = Linecast->start('--default-channel', '', $script);
my $sub = $srv->client(label => 'sub');
my $req = $srv->client(label => 'req');
is($sub->cmd('/sub news'), '+SUB news', 'sub listens to news');

# The requester is subscribed too: on its own connection the items come
# before its reply, and the other subscriber gets them as they are made.
is($req->cmd('/sub news'), '+SUB news', 'req listens to news');
my $t0 = time;
$req->send('/stream 5');
my (@at, @items);
while (@items < 5 && time < $t0 + 10) {
	my $l = $sub->line(10);
	last unless defined $l;
	push @items, $l;
	push @at, time - $t0;
}
is_deeply(\@items, ['news <server> item 1', 'news <server> item 2',
    'news <server> item 3 (seen by a handler)', 'news <server> item 4',
    'news <server> item 5'], 'the subscriber gets the five items in order');
my @req = $req->lines_until(qr/^\+STREAM/, 10);
my $reply_at = time - $t0;
is_deeply(\@req, [@items, '+STREAM 5'],
    "the requester gets them too, before its reply");
cmp_ok($at[0], '<', 0.5, sprintf('the first item comes at once (%.2f s)',
    $at[0]));
cmp_ok($at[0], '<', $at[4] - 0.5, 'the items are spread out: streamed, '
    . 'not delivered in one go at the end');
cmp_ok($reply_at, '>=', 0.9, 'the reply comes when the job ends');
cmp_ok($at[1], '<', $reply_at - 0.5, 'well after the first items');

# Sender names, and bad publishes from a worker.
$req->send('/senders');
is_deeply([$req->lines_until(qr/^\+SENDERS/)], ['news <robot> from a robot',
    'news <server> last', '+SENDERS true'],
    'a sender name is used; the bad ones are dropped; then the reply');
is_deeply([$sub->lines_until(qr/last$/)], ['news <robot> from a robot',
    'news <server> last'], 'the other subscriber gets the same');
ok($srv->wait_log(qr/worker publish to news: bad sender/),
    'a bad sender is logged');
ok($srv->wait_log(qr/worker publish to bad channel!: /),
    'so is a bad channel');
is($req->cmd('/unsub news'), '+UNSUB news', 'req stops listening');

# A thousand publishes in one job: all delivered, in order.
is($sub->cmd('/sub burst'), '+SUB burst', 'sub listens to burst');
$req->send('/burst 1000');
is($req->line(10), '+BURST 1000', 'the burst job is done');
my @burst = $sub->lines_until(qr/ 1000$/, 10);
is(scalar(@burst), 1000, 'a thousand messages');
is_deeply(\@burst, [map { sprintf 'burst <server> %04d', $_ } 1 .. 1000],
    'in order');
is($srv->stop, 0, 'exit 0');

done_testing;
