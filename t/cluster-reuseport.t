# --reuseport: two processes share one port and, through Redis, act as
# one broker: clients spread over both talk to each other.
use strict;
use warnings;
use Test::More;
use Linecast;
use Redis;

my $redis = Redis->start or plan skip_all => 'redis-server not installed';
my $port = Redis::free_port();
my @n = map { Linecast->start('--cluster', $redis->url, '--node', "p$_",
    '--reuseport', '--port', $port) } 1 .. 2;
is($n[0]->port, $port, 'the first process listens on the port');
is($n[1]->port, $port, 'and so does the second');
ok(Redis->wait_state($_->client(label => 'probe'), 'up'), 'up') for @n;

# Connect until both processes have clients (the kernel spreads them).
my (@c, %node);
for my $i (1 .. 40) {
	my $c = $n[0]->client(label => "c$i");	# same port either way
	$c->send('/stats');
	my ($name) = ($c->line // '') =~ /\bnode=(\S+)/;
	$node{$name}++ if defined $name;
	push @c, [$c, $name // '?'];
	last if keys %node == 2 && $i >= 4;
}
is(scalar keys %node, 2, 'clients landed on both processes: ' .
    join(' ', map { "$_=$node{$_}" } sort keys %node));

# One of each talks to the other.
my ($x) = grep { $_->[1] eq 'p1' } @c;
my ($y) = grep { $_->[1] eq 'p2' } @c;
$_->[0]->lines_for(0.3) for @c;
$x->[0]->send('across processes');
$y->[0]->expect(qr/^lobby <\S+> across processes$/, 'p2 gets p1\'s line');
my @names = map { $_->[0]->name } @c;
my %seen;
is(scalar(grep { $seen{$_}++ } @names), 0, 'names are distinct');

$_->stop for @n;
$redis->stop;
done_testing;
