# Two nodes on one Redis act as one broker: messages both ways, patterns
# once, private messages, presence, /who, +JOIN counts, /list, distinct
# guest names, /stats.
use strict;
use warnings;
use Test::More;
use Linecast;
use Redis;

my $redis = Redis->start or plan skip_all => 'redis-server not installed';
my $na = $redis->node('a', '--cluster-lease', '2', '--default-channel', '');
my $nb = $redis->node('b', '--cluster-lease', '2', '--default-channel', '');

ok(Redis->wait_state($na->client(label => 'probe a'), 'up'), 'node a is up');
ok(Redis->wait_state($nb->client(label => 'probe b'), 'up'), 'node b is up');

# Guest names are distinct across the nodes.
my %names;
my @guests = map { ($na->client(label => "ga$_"),
    $nb->client(label => "gb$_")) } 1 .. 5;
$names{$_->name}++ for @guests;
is(scalar(grep { $_ > 1 } values %names), 0,
    'ten guest names, all distinct: ' . join(' ', sort keys %names));
$_->close for @guests;

my $a = $na->client(label => 'alice');
my $b = $nb->client(label => 'bob');

is($a->cmd('/nick alice'), '+NICK alice', 'alice on a');
is($b->cmd('/nick bob'), '+NICK bob', 'bob on b');
is($b->cmd('/nick Alice'), '-ERR name-taken Alice',
    'a name is unique across nodes, in any case');
is($a->cmd('/join lobby'), '+JOIN lobby 1', 'alice joins lobby');
is($b->cmd('/join lobby'), '+JOIN lobby 2', 'bob joins lobby');
$a->expect('* join lobby bob', 'a sees bob join');

# Both in lobby (the default channel): a message crosses both ways.
$a->send('hello from a');
$b->expect('lobby <alice> hello from a', 'b gets a\'s line');
$b->send('hello from b');
$a->expect('lobby <bob> hello from b', 'a gets b\'s line');

# +JOIN counts and /who span the cluster; so do join and part events.
is($a->cmd('/join room'), '+JOIN room 1', 'alice joins room');
is($b->cmd('/join room'), '+JOIN room 2', '+JOIN counts both nodes');
$a->expect('* join room bob', 'a sees bob join from b');
is($a->cmd('/who room'), '+WHO room alice bob', '/who spans the nodes');
is($b->cmd('/who lobby'), '+WHO lobby alice bob', 'on either node');

# Patterns: a connection gets a message once, however many match.
is($b->cmd('/sub news.*'), '+SUB news.*');
is($b->cmd('/sub news.>'), '+SUB news.>');
is($b->cmd('/sub news.sport'), '+SUB news.sport');
like($a->cmd('/pub news.sport goal'), qr/^\+PUB news.sport 0$/,
    '+PUB counts this node\'s receivers only');
$b->expect('news.sport <alice> goal', 'b gets the message');
$b->expect_none('and only once');
$a->cmd('/pub news.a.b deep');
$b->expect('news.a.b <alice> deep', 'news.> matches two tokens');
$b->expect_none('once');
$a->cmd('/pub newsx.a nope');
$b->expect_none('a pattern\'s prefix in Redis does not widen the match');

# /list spans the cluster.
like($a->cmd('/list'), qr/^\+LIST .*\blobby:2:0\b.*\bnews\.sport:0:1\b.*\broom:2:0\b/,
    '/list counts members and subscribers of both nodes');

# Private messages reach a name on another node.
is($a->cmd('/msg bob psst'), '+MSG bob', '/msg to another node');
$b->expect('@bob <alice> psst', 'bob gets it');
is($a->cmd('/msg BOB again'), '+MSG BOB', 'any case');
$b->expect('@bob <alice> again');
is($a->cmd('/msg nobody hi'), '-ERR no-such-name nobody',
    'a name no node holds');
like($a->cmd('/pub @bob via pub'), qr/^\+PUB \@bob 1$/, '/pub @NAME too');
$b->expect('@bob <alice> via pub');

# Nick and quit events cross.
is($b->cmd('/nick robert'), '+NICK robert', 'bob renames');
$a->expect('* nick bob robert', 'a is told once');
$a->expect_none('once, though they share two channels');
is($a->cmd('/nick bob'), '+NICK bob', 'the old name is free again');
$b->expect('* nick alice bob', 'b is told');
is($a->cmd('/part room'), '+PART room');
$b->expect('* part room bob', 'a part crosses');

my $s;
for (1 .. 50) {
	$s = $a->stats;
	last if ($s->{nodes} // 0) == 2;
	select(undef, undef, undef, 0.1);
}
is($s->{node}, 'a', '/stats node=');
is($s->{cluster}, 'up', 'cluster=up');
is($s->{nodes}, 2, 'nodes=2');
ok($s->{cluster_out} > 0 && $s->{cluster_in} > 0,
    "cluster_in=$s->{cluster_in} cluster_out=$s->{cluster_out}");
is($s->{cluster_dropped}, 0, 'nothing dropped');

$b->cmd('/quit bye');
$a->expect('* quit robert bye', 'a quit crosses');
is($a->cmd('/who lobby'), '+WHO lobby bob', 'and robert is gone from /who');

is($na->stop, 0, 'node a exits 0');
is($nb->stop, 0, 'node b exits 0');
$redis->stop;
done_testing;
