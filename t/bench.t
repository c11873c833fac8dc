#!/usr/bin/perl
# linecast-bench: its argument handling, and short real runs against the
# server (no figures asserted, only that every message arrived in order).

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use JSON::PP qw(decode_json);
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(time sleep);
use Linecast;
use Redis;

# The bench binary: $LINECAST_BENCH, else next to the server binary.
my $bench = $ENV{LINECAST_BENCH}
    || dirname(Linecast::binary()) . '/linecast-bench';
plan skip_all => "no linecast-bench at $bench (set LINECAST_BENCH)"
    unless -x $bench;

# Runs linecast-bench with these arguments for at most $timeout seconds.
# Returns a hash: exit (undef if it timed out and was killed), stdout,
# stderr.
sub run_bench
{
	my ($timeout, @args) = @_;
	my $dir = tempdir('linecast-bench-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open STDIN, '<', '/dev/null';
		open STDOUT, '>', "$dir/stdout";
		open STDERR, '>', "$dir/stderr";
		exec { $bench } $bench, @args;
		POSIX::_exit(127);
	}
	my ($deadline, $status) = (time + $timeout, undef);
	while (time < $deadline) {
		if (waitpid($pid, WNOHANG) == $pid) {
			$status = $?;
			last;
		}
		sleep 0.02;
	}
	if (!defined $status) {
		kill 'KILL', $pid;
		waitpid($pid, 0);
	}
	my %r = (exit => defined $status && !($status & 127) ?
	    $status >> 8 : undef);
	for my $f (qw(stdout stderr)) {
		open my $fh, '<', "$dir/$f" or next;
		local $/;
		$r{$f} = <$fh> // '';
	}
	return \%r;
}

# Decodes the one JSON object a --json run prints, or undef.
sub json_of
{
	my ($r) = @_;
	my $obj = eval { decode_json($r->{stdout}) };
	diag("not JSON: $r->{stdout}\nstderr: $r->{stderr}") unless $obj;
	return $obj;
}

# --help documents every workload and every option, and exits 0.
my $r = run_bench(10, '--help');
is($r->{exit}, 0, '--help exits 0');
for my $word (qw(fanout rate rooms conns --host --port --pub-host --pub-port
    --proto --publishers
    --subscribers --connections --channels --messages --time --size --rate
    --window --warmup --channel --pid --timeout --json --tls --help)) {
	like($r->{stdout}, qr/\Q$word\E\b/, "--help mentions $word");
}
is(run_bench(10, '-h')->{exit}, 0, '-h exits 0');

# Usage errors exit 2 with a message on stderr.
for my $case (
    [ 'an unknown option', [ '--bogus' ], qr/unknown option --bogus/ ],
    [ 'an unknown short option', [ '-X' ], qr/unknown option -X/ ],
    [ 'an unknown protocol', [ '--proto', 'mqtt' ],
      qr/unknown protocol 'mqtt'/ ],
    [ 'an unknown workload', [ 'storm' ], qr/unknown workload 'storm'/ ],
    [ 'a missing value', [ 'fanout', '-P' ], qr/-P wants a value/ ],
    [ 'a bad number', [ 'fanout', '-S', 'many' ], qr/-S wants a number/ ],
    [ 'a bad port', [ '-p', '70000' ], qr/-p wants a number/ ],
    [ 'both -n and -T', [ '-n', '10', '-T', '1' ], qr/exclude each other/ ],
    [ 'a stray argument', [ 'fanout', 'extra' ], qr/unexpected argument/ ],
    [ 'a bad --pub-port', [ '--pub-port', '0' ],
      qr/--pub-port wants a number/ ],
    [ '--pub-port in rooms', [ 'rooms', '--pub-port', '7001' ],
      qr/apply to fanout and rate/ ],
    [ '--pub-host in conns', [ 'conns', '--pub-host', 'localhost' ],
      qr/apply to fanout and rate/ ],
    ) {
	my ($what, $args, $msg) = @$case;
	my $res = run_bench(10, @$args);
	is($res->{exit}, 2, "$what exits 2");
	like($res->{stderr}, $msg, "$what is explained");
	is($res->{stdout}, '', "$what prints nothing on stdout");
}

# A short real fanout: 1 publisher, 4 subscribers, every message arrives.
my $srv = Linecast->start;
my $port = $srv->port;
$r = run_bench(60, 'fanout', '-p', $port, '-P', '1', '-S', '4', '-n', '2000',
    '--json');
is($r->{exit}, 0, 'fanout -P 1 -S 4 -n 2000 exits 0')
    or diag("stderr: $r->{stderr}");
my $j = json_of($r);
is($j->{published}, 2000, 'published 2000') if $j;
is($j->{delivered}, 8000, 'delivered 8000 (2000 to each of 4)') if $j;
is($j->{missing}, 0, 'none missing') if $j;
is($j->{out_of_order}, 0, 'none out of order') if $j;
is($j->{errors}, 0, 'no -ERR') if $j;
ok($j->{ok}, 'ok is true') if $j;
like($j->{latency_p99_us} // '', qr/^[\d.]+$/, 'a p99 latency is reported')
    if $j;

# Rooms: each participant publishes into its room and hears the others.
$r = run_bench(60, 'rooms', '-p', $port, '-C', '6', '-K', '2', '-n', '60',
    '--rate', '300');
is($r->{exit}, 0, 'rooms -C 6 -K 2 exits 0') or diag("stderr: $r->{stderr}");
like($r->{stdout}, qr/^\s+delivered\s+120 msgs/m,
    'rooms: each of 60 messages reaches the 2 others of its room');

# With --pid: the broker's CPU, in all and per delivery, beside the rate.
$r = run_bench(60, 'fanout', '-p', $port, '-S', '4', '-n', '2000', '--pid',
    $srv->pid);
is($r->{exit}, 0, 'fanout --pid exits 0') or diag("stderr: $r->{stderr}");
my $cpu = qr{broker_cpu=\d+% ns/delivery=\d+};
like($r->{stdout}, qr{^\s+delivered\s+8000 msgs\s+\d+ msg/s  $cpu$}m,
    'fanout --pid: broker CPU and ns per delivery next to the rate');
$r = run_bench(60, 'fanout', '-p', $port, '-S', '4', '-n', '2000', '--pid',
    $srv->pid, '--json');
$j = json_of($r);
like($j->{broker_cpu_pct} // '', qr/^[\d.]+$/, 'JSON: broker_cpu_pct') if $j;
like($j->{broker_ns_per_delivery} // '', qr/^\d+$/,
    'JSON: broker_ns_per_delivery') if $j;
$r = run_bench(60, 'fanout', '-p', $port, '-S', '4', '-n', '2000', '--json');
$j = json_of($r);
ok($j && exists $j->{broker_ns_per_delivery} &&
    !defined $j->{broker_ns_per_delivery},
    'JSON without --pid: broker_ns_per_delivery is null');

# Idle connections, with the server's RSS from /proc.
$r = run_bench(60, 'conns', '20', '-p', $port, '--pid', $srv->pid, '-T',
    '0.2', '--json');
is($r->{exit}, 0, 'conns 20 exits 0') or diag("stderr: $r->{stderr}");
$j = json_of($r);
is($j->{connections}, 20, 'conns: 20 connections') if $j;
like($j->{rss_per_conn_bytes} // '', qr/^-?\d+$/,
    'conns: RSS per connection reported') if $j;

# --pub-port naming the same server: publishing waits for a probe, then
# every message arrives.
$r = run_bench(60, 'fanout', '-p', $port, '--pub-port', $port, '-S', '3',
    '-n', '1000', '--json');
is($r->{exit}, 0, 'fanout --pub-port (same server) exits 0')
    or diag("stderr: $r->{stderr}");
$j = json_of($r);
is($j->{pub_port}, $port, 'JSON: pub_port') if $j;
is($j->{delivered}, 3000, '--pub-port: 1000 messages to each of 3') if $j;
like($j->{sync_s} // '', qr/^[\d.]+$/, 'JSON: sync_s') if $j;
$r = run_bench(60, 'rate', '-p', $port, '--pub-host', '127.0.0.1', '-P', '2',
    '-S', '2', '--rate', '2000', '-n', '400');
is($r->{exit}, 0, 'rate --pub-host exits 0') or diag("stderr: $r->{stderr}");
like($r->{stdout}, qr/\(publishers at 127\.0\.0\.1:$port\)/,
    'the table names the publishers\' node');
like($r->{stdout}, qr/^\s+synced\s+every subscriber heard/m,
    'the table says how long the probe took');

# Two servers that are not one cluster: the subscribers never hear the
# publishers' node, and the run fails saying so instead of counting every
# message missing.
my $lone = Linecast->start;
$r = run_bench(30, 'fanout', '-p', $port, '--pub-port', $lone->port, '-S',
    '2', '-n', '10', '--timeout', '1');
is($r->{exit}, 1, 'publishers on an unconnected server: exit 1');
like($r->{stderr}, qr/0 of 2 subscribers heard the publishers' node/,
    'and the reason');
is($lone->stop, 0, 'the other server exits 0');

is($srv->stop, 0, 'the server exits 0');

# Nobody listening: a failure, exit 1, with the reason.
$r = run_bench(30, 'fanout', '-p', $port, '-n', '10', '--timeout', '2');
is($r->{exit}, 1, 'a refused connection exits 1');
like($r->{stderr}, qr/Connection refused/, 'and says why');
my $srv2 = Linecast->start;
$r = run_bench(30, 'fanout', '-p', $srv2->port, '--pub-port', $port, '-n',
    '10', '--timeout', '2');
like($r->{stderr}, qr/connect to 127\.0\.0\.1:$port: Connection refused/,
    'a refused publishers\' node is named');
$srv2->stop;

cluster_run();

# Publishers on one node of a two-node cluster, subscribers on the other:
# every message crosses Redis and arrives, once and in order.
sub cluster_run
{
	SKIP: {
		my $redis = Redis->start;
		skip 'no redis-server', 3 unless $redis;
		my $na = $redis->node('a');
		my $nb = $redis->node('b');
		my $res = run_bench(60, 'fanout', '-p', $nb->port, '--pub-port',
		    $na->port, '-S', '3', '-n', '2000', '--json');
		is($res->{exit}, 0, 'across two nodes: exit 0')
		    or diag("stderr: $res->{stderr}");
		my $cj = json_of($res);
		is($cj->{delivered}, 6000,
		    'across two nodes: 2000 messages to each of 3') if $cj;
		is($cj->{missing}, 0, 'across two nodes: none missing') if $cj;
		$na->stop;
		$nb->stop;
		$redis->stop;
	}
}

done_testing();
