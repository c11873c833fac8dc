# Redis trouble: killed and restarted empty with clients connected (local
# delivery goes on, everything heals), a node started before Redis,
# garbage on the cluster's channels, a wrong password, and a name taken
# by another node while this one was cut off.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use Linecast;
use Redis;

my $redis = Redis->start or plan skip_all => 'redis-server not installed';
my @opt = ('--default-channel', '', '--cluster-lease', '1');
my ($na, $nb) = map { $redis->node($_, @opt) } qw(a b);
my ($a1, $a2) = map { $na->client(label => $_) } qw(a1 a2);
my $b1 = $nb->client(label => 'b1');
ok(Redis->wait_state($a1, 'up') && Redis->wait_state($b1, 'up'), 'up');
is($a1->cmd('/nick alice'), '+NICK alice');
is($a2->cmd('/nick amy'), '+NICK amy');
is($b1->cmd('/nick bob'), '+NICK bob');
$_->cmd('/join room') for $a1, $a2, $b1;
$a1->sync;
$a1->lines_for(0.3);
$a2->lines_for(0.3);

# Redis dies: each node goes on serving its own connections.
$redis->kill9;
ok(Redis->wait_state($a1, 'down'), 'a reports cluster=down');
ok(Redis->wait_state($b1, 'down'), 'b reports cluster=down');
$a1->send('still here');
$a2->expect('room <alice> still here', 'local delivery goes on');
my $s = $a1->stats;
cmp_ok($s->{cluster_dropped}, '>=', 1,
    "what could not go to other nodes is counted ($s->{cluster_dropped})");
is($a1->cmd('/who room'), '+WHO room alice amy', '/who: this node only');
my @warn = $na->log =~ /cluster: lost redis/g;
is(scalar @warn, 1, 'the loss is logged once');

# Redis is back, empty: the nodes restore names, members, subscriptions.
$redis->restart;
ok(Redis->wait_state($a1, 'up', 10), 'a is up again');
ok(Redis->wait_state($b1, 'up', 10), 'b is up again');
is($a1->cmd('/who room'), '+WHO room alice amy bob',
    'memberships are restored');
$a1->send('back');
$b1->expect('room <alice> back', 'delivery between nodes resumes');
is($b1->cmd('/nick alice'), '-ERR name-taken alice', 'names are restored');
unlike($na->log, qr/retrying.*retrying.*retrying.*retrying.*retrying/s,
    'not one log line per retry');

# Redis drops the nodes' subscriber connections (as it does past its
# client-output-buffer-limit pubsub): they come back by themselves.
like($redis->cmd('CLIENT', 'KILL', 'TYPE', 'pubsub'), qr/^[1-9]/,
    'Redis kills the subscriber connections');
my $ok = 0;
for my $try (1 .. 40) {
	$a1->send("probe $try");
	my @got = $b1->lines_for(0.1);
	if (grep { $_ eq "room <alice> probe $try" } @got) {
		$ok = 1;
		last;
	}
}
ok($ok, 'delivery between nodes comes back');
$a2->lines_for(0.3);
$b1->lines_for(0.3);

# Garbage on the cluster's channels is ignored and counted.
$redis->cmd('PUBLISH', 'linecast:c:room', "garbage\x00\xff");
$redis->cmd('PUBLISH', 'linecast:events', 'LC' . ("\xff" x 40));
$redis->cmd('PUBLISH', 'linecast:n:a', '');
$b1->send('after garbage');
$a1->expect('room <bob> after garbage', 'the nodes go on');
$s = $a1->stats;
cmp_ok($s->{cluster_garbage}, '>=', 2, "garbage counted ($s->{cluster_garbage})");

# A well-formed envelope whose lines are not messages of its channel
# (a reply, an event) is refused too: nothing can pass for the server.
my $forged = pack('a2 C a1 Q> N C/a C/a C/a N/a N/a', 'LC', 1, 'M', 0, 1,
    'evil', 'room', '', "+PONG forged\n", '');
$redis->cmd('PUBLISH', 'linecast:c:room', $forged);
my $ok_env = pack('a2 C a1 Q> N C/a C/a C/a N/a N/a', 'LC', 1, 'M', 0, 1,
    'evil', 'room', '', "room <mallory> looks like one\n", '');
$redis->cmd('PUBLISH', 'linecast:c:room', $ok_env);
$a1->expect('room <mallory> looks like one',
    'a well-formed message of the channel is delivered');
$b1->expect('room <mallory> looks like one', 'on every node');
$a2->lines_for(0.2);
my $g = $s->{cluster_garbage};
$s = $a1->stats;
cmp_ok($s->{cluster_garbage}, '>', $g,
    "the forged reply was refused and counted ($s->{cluster_garbage})");

# A node cut off past its lease (stopped) is reaped; a name it held is
# taken meanwhile; when it comes back, its conn becomes a guest.
$_->lines_for(0.3) for $a1, $a2;
kill 'STOP', $na->pid;
$b1->expect(qr/^\* quit (alice|amy) node-lost$/, 4, 'a is reaped');
$b1->expect(qr/^\* quit (alice|amy) node-lost$/, 4);
is($b1->cmd('/nick amy'), '+NICK amy', 'b takes a name a held');
kill 'CONT', $na->pid;
my @l = $a2->lines_until(qr/^\* nick amy guest\S+$/, 6);
like($l[-1] // '', qr/^\* nick amy guest\S+$/,
    'a\'s conn loses the name it lost to b, with a * nick event');
$a1->lines_for(0.5);
is($a1->cmd('/nick alice'), '+NICK alice', 'alice kept hers');
$b1->lines_for(0.3);
my ($guest) = ($l[-1] // '') =~ /^\* nick amy (\S+)$/;
is($b1->cmd('/who room'), '+WHO room ' . join(' ', sort 'alice', 'amy',
    $guest // 'guest?'), '/who: alice, amy (on b now) and the new guest');

$_->stop for $na, $nb;
$redis->stop;

# A node started before its Redis: it serves, and joins when Redis comes.
my $late = Redis->later;
my $n = Linecast->start('--cluster', $late->url, '--node', 'early');
my $c = $n->client(label => 'early');
ok(Redis->wait_state($c, 'down'), 'cluster=down without Redis');
is($c->cmd('/ping'), '+PONG', 'it serves');
$late->restart;
ok(Redis->wait_state($c, 'up', 10), 'it joins once Redis is there');
$n->stop;
$late->stop;

# A wrong password: a clear log line, cluster=down, and retries.
my $auth = Redis->start('--requirepass', 'sesame');
$auth->password('sesame');
my $bad = Linecast->start('--cluster',
    'redis://:wrong@127.0.0.1:' . $auth->port, '--node', 'bad');
ok($bad->wait_log(qr/cluster: .*(WRONGPASS|authentication failed)/),
    'a wrong password gets a clear log line');
ok(Redis->wait_state($bad->client, 'down'), 'and cluster=down');
my $good = Linecast->start('--cluster', $auth->url, '--node', 'good');
ok(Redis->wait_state($good->client, 'up'), 'the right one works');
$_->stop for $bad, $good;
$auth->stop;
done_testing;
