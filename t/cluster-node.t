# Node life: a node stopped by SIGTERM tells its peers first; a node
# killed with -9 is noticed within --cluster-lease, its connections' peers
# get "* quit NAME node-lost", /who shows no ghost and its names are free.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use Linecast;
use Redis;

my $redis = Redis->start or plan skip_all => 'redis-server not installed';
my @lease = ('--cluster-lease', '1', '--default-channel', '');
my ($na, $nb, $nc) = map { $redis->node($_, @lease) } qw(a b c);
ok(Redis->wait_state($_->client(label => 'probe'), 'up'), 'node up')
    for $na, $nb, $nc;

my $w = $na->client(label => 'watcher');
is($w->cmd('/nick watcher'), '+NICK watcher');
is($w->cmd('/join room'), '+JOIN room 1');

# SIGTERM: b's connection says goodbye through Redis before b exits.
my $bob = $nb->client(label => 'bob');
is($bob->cmd('/nick bob'), '+NICK bob');
is($bob->cmd('/join room'), '+JOIN room 2');
$w->expect('* join room bob');
is($nb->stop, 0, 'node b exits 0 on SIGTERM');
$w->expect('* quit bob shutdown', 'its peers get * quit NAME shutdown');
is($w->cmd('/who room'), '+WHO room watcher', 'no ghost in /who');

# kill -9: c's connections are reaped by a survivor within the lease.
my @c = map { $nc->client(label => "c$_") } 1 .. 2;
is($c[0]->cmd('/nick carol'), '+NICK carol');
is($c[1]->cmd('/nick dave'), '+NICK dave');
$_->cmd('/join room') for @c;
$w->expect('* join room carol');
$w->expect('* join room dave');
my $t0 = time;
kill 'KILL', $nc->pid;
my @quits = sort grep { defined } map { $w->line(4) } 1 .. 2;
my $took = time - $t0;
is_deeply(\@quits, ['* quit carol node-lost', '* quit dave node-lost'],
    'a dead node\'s peers get * quit NAME node-lost');
cmp_ok($took, '<', 3, sprintf('within the lease and a tick (%.2f s)',
    $took));
$w->expect_none('once each');
is($w->cmd('/who room'), '+WHO room watcher', 'no ghost in /who');
is($w->cmd('/nick carol'), '+NICK carol', 'its names are free again');
my $s = $w->stats;
is($s->{nodes}, 1, 'nodes=1') or diag explain $s;

$na->stop;
$redis->stop;
done_testing;
