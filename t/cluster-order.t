# 3000 lines from one publisher on node a reach members on nodes b and c
# in order, none lost, each once; a connection's join comes before its
# first line; several read batches of one channel cost one envelope each.
use strict;
use warnings;
use Test::More;
use Linecast;
use Redis;

my $redis = Redis->start or plan skip_all => 'redis-server not installed';
my @n = map { $redis->node($_, '--default-channel', '') } qw(a b c);
ok(Redis->wait_state($_->client(label => 'probe'), 'up'), 'node up')
    for @n;

my @sub = map { $_->client(label => 'sub ' . $_->pid) } @n[1, 2];
is($_->cmd('/join feed'), '+JOIN feed ' . ($_ == $sub[0] ? 1 : 2),
    'a member on another node') for @sub;
$sub[0]->expect('* join feed ' . $sub[1]->name, 'they see each other');

# A publisher on a: its join reaches b and c before its first line.
my $p = $n[0]->client(label => 'pub');
is($p->cmd('/nick pub'), '+NICK pub');
$p->send('/join feed');
$p->send_raw(join('', map { "line $_\n" } 1 .. 3000));
for my $s (@sub) {
	$s->expect('* join feed pub', 'the join comes first');
	my @got = $s->lines_for(3);
	my @want = map { "feed <pub> line $_" } 1 .. 3000;
	is(scalar @got, 3000, 'all 3000 lines arrive');
	is_deeply(\@got, \@want, 'in order, each once');
}
like($p->line, qr/^\+JOIN feed 3$/, 'the publisher joined');
my $out = $n[0]->client(label => 'stats')->stats->{cluster_out};
cmp_ok($out, '<', 3000, "3000 lines went out as $out envelopes (blocks)");

$_->stop for @n;
$redis->stop;
done_testing;
