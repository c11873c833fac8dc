# Names are unique across the cluster: of two connections on two nodes that
# ask for one name at once, exactly one gets it; the name is free again
# when its holder leaves; /nick says cluster-down while Redis is away.
use strict;
use warnings;
use Test::More;
use Linecast;
use Redis;

my $redis = Redis->start or plan skip_all => 'redis-server not installed';
my $script = Linecast->script(<<'LUA');
local lc = require "linecast"
lc.command("rn", function(conn, name)
  local ok, err = conn:rename(name)
  return ok and "+RN " .. conn.name or "-ERR " .. err
end)
LUA
my ($na, $nb) = map { $redis->node($_, '--default-channel', '', $script) }
    qw(a b);
ok(Redis->wait_state($_->client(label => 'probe'), 'up'), 'node up')
    for $na, $nb;

# Ten races, all at once: each name is asked for on both nodes.
my @pairs = map { [$na->client(label => "a$_"), $nb->client(label => "b$_")] }
    1 .. 10;
for my $i (0 .. 9) {
	$_->send("/nick racer$i") for @{$pairs[$i]};
}
for my $i (0 .. 9) {
	my @r = map { $_->line } @{$pairs[$i]};
	my $won = grep { defined && $_ eq "+NICK racer$i" } @r;
	my $lost = grep { defined && $_ eq "-ERR name-taken racer$i" } @r;
	ok($won == 1 && $lost == 1, "racer$i: one winner, one name-taken")
	    or diag(join(' | ', map { $_ // 'undef' } @r));
}

# Two connections of one node asking at once: one wins there too.
my ($x, $y) = map { $na->client(label => $_) } qw(x y);
$_->send('/nick same') for $x, $y;
my @r = sort map { $_->line } $x, $y;
is_deeply(\@r, ['+NICK same', '-ERR name-taken same'],
    'two local connections: one winner');

# A name comes free when its holder quits.
$x->cmd('/quit');
$y->close;
my $b0 = $pairs[0][1];
my $tries = 0;
my $got = '';
while ($tries++ < 50) {
	$got = $b0->cmd('/nick same');
	last if $got eq '+NICK same';
	select(undef, undef, undef, 0.05);
}
is($got, '+NICK same', 'a name is free again once its holder quit');

# A script's conn:rename() is claimed too: a name another node holds makes
# the conn a guest.
my ($r1, $r2) = ($pairs[2][0], $pairs[3][0]);
is($pairs[2][1]->cmd('/nick held'), '+NICK held', 'b holds a name');
is($r1->cmd('/rn scripted'), '+RN scripted', 'conn:rename to a free name');
is($pairs[4][1]->cmd('/nick scripted'), '-ERR name-taken scripted',
    'it is claimed across the cluster');
is($r2->cmd('/rn held'), '+RN held', 'conn:rename to a name b holds');
like($r2->line, qr/^\* nick held guest\S+$/,
    'is undone: the conn becomes a guest, and is told');
is($pairs[2][1]->cmd('/nick held'), '+NICK held', 'b keeps its name');

# While Redis is away, /nick cannot be certain: it says so.
$redis->kill9;
my $c = $pairs[1][0];
ok(Redis->wait_state($c, 'down'), 'cluster=down');
is($c->cmd('/nick whoever'), '-ERR unavailable cluster-down',
    '/nick while the cluster is down');
$c->send('/join lobby');
like($c->line, qr/^\+JOIN lobby \d+$/, 'other commands go on');

$_->stop for $na, $nb;
done_testing;
