#!/usr/bin/perl
# A long input batch does not hold back what it published: past
# CONFIG_SLICE_US (200 us) of hooks, what the batch made so far is
# written while the rest is made. A publish hook spins a little on each
# of 40 lines sent in one write, and on the last one it waits until the
# subscriber has seen the first (a flag file it creates): that can only
# happen if the first went out before the batch ended.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use File::Temp qw(tempdir);
use Test::More;
use Linecast;

my $dir = tempdir('linecast-slices-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $flag = "$dir/seen";
my $script = Linecast->script(<<"EOF_LUA");
local lc = require "linecast"
local flag = "$flag"
local function spin(seconds)
  local t0 = os.clock()
  while os.clock() - t0 < seconds do end
end
lc.on("publish", function(msg)
  if msg.text ~= "last" then
    spin(0.0002)
    return
  end
  local t0 = os.clock()
  while os.clock() - t0 < 5 do
    local f = io.open(flag)
    if f then f:close() return "last: the first was seen" end
  end
  return "last: the first was not seen"
end)
EOF_LUA

my $srv = Linecast->start('--script-timeout', '10', $script);
my $pub = $srv->client(label => 'pub');
my $sub = $srv->client(label => 'sub');
$pub->expect('* join lobby guest2');

$pub->send_raw(join('', map { "m$_\n" } 1 .. 39) . "last\n");
$sub->expect('lobby <guest1> m1', 'the first line is delivered');
open my $fh, '>', $flag or die "$flag: $!";
close $fh;
$sub->expect("lobby <guest1> m$_", "line $_ in order") for 2 .. 39;
$sub->expect('lobby <guest1> last: the first was seen',
    'before the batch ended');
is($pub->cmd('/ping after'), '+PONG after', 'the publisher goes on');

done_testing;
