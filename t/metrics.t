#!/usr/bin/perl
# --metrics: GET /metrics in the Prometheus text exposition format, parsed
# strictly: every /stats counter as linecast_NAME with # HELP and # TYPE,
# the busiest channels' gauges (bounded), the process's RSS and open
# files; 404 for any other path.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use IO::Socket::INET;
use Linecast;
use lib "$Bin/lib";

# Sends one HTTP/1.0 request and returns (status, headers, body).
sub http_get
{
	my ($port, $path, $method) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
	    Timeout => 5) or return (0, '', "connect: $!");
	print $s ($method // 'GET') . " $path HTTP/1.0\r\nHost: x\r\n\r\n";
	local $/;
	my $r = <$s> // '';
	my ($head, $body) = split /\r\n\r\n/, $r, 2;
	my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d+)};
	return ($status // 0, $head // '', $body // '');
}

# Parses the text format strictly. Returns { samples => { 'name{labels}'
# => value }, types => { name => type }, errors => [ ... ] }.
sub parse_metrics
{
	my ($text) = @_;
	my (%samples, %types, %help, @errors, %seen_family);
	my $name_re = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
	my $label_re = qr/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"/;
	push @errors, 'does not end with a newline' unless $text =~ /\n\z/;
	my $n = 0;
	for my $line (split /\n/, $text) {
		$n++;
		if ($line =~ /^# HELP ($name_re) (.+)$/) {
			push @errors, "$n: second HELP for $1" if $help{$1}++;
		} elsif ($line =~ /^# TYPE ($name_re) (counter|gauge|histogram|summary|untyped)$/) {
			push @errors, "$n: second TYPE for $1" if $types{$1};
			push @errors, "$n: TYPE after samples of $1"
			    if $seen_family{$1};
			$types{$1} = $2;
		} elsif ($line =~ /^#/) {
			push @errors, "$n: a bad comment: $line";
		} elsif ($line =~ /^($name_re)(\{$label_re(?:,$label_re)*\})? (-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)$/) {
			my ($name, $labels, $value) = ($1, $2 // '', $3);
			push @errors, "$n: $name has no TYPE" unless $types{$name};
			push @errors, "$n: $name has no HELP" unless $help{$name};
			push @errors, "$n: $name$labels twice"
			    if exists $samples{"$name$labels"};
			$samples{"$name$labels"} = $value;
			$seen_family{$name} = 1;
		} else {
			push @errors, "$n: not a metric line: '$line'";
		}
	}
	return { samples => \%samples, types => \%types, errors => \@errors };
}

my $srv = Linecast->start('--metrics', '0', '--default-channel', '');
ok($srv->metrics_port, 'the metrics port is logged');
like($srv->log, qr/listening on 127\.0\.0\.1:\d+ \(metrics\)$/m,
    'as listening on 127.0.0.1:PORT (metrics): PORT alone is on 127.0.0.1');

# Some traffic: 60 channels of 1 to 60 members (plus subscribers), so that
# only the busiest 50 get gauges.
my @c = map { $srv->client(label => "c$_") } 1 .. 60;
for my $i (1 .. 60) {
	$c[$_ - 1]->send("/join ch$i") for 1 .. $i;
}
$_->sync for @c;
# A client in no channel gets no presence event: its replies come first.
my $p = $srv->client(label => 'p');
is($p->cmd('/sub ch60'), '+SUB ch60', 'a subscriber of ch60');
is($p->cmd('/pub ch60 hello'), '+PUB ch60 60', 'published to its 60 members');
my $obs = $srv->client(label => 'obs');
my $stats = $obs->stats;
cmp_ok(scalar(keys %$stats), '>=', 17, '/stats has its counters');

my ($status, $head, $body) = http_get($srv->metrics_port, '/metrics');
is($status, 200, 'GET /metrics: 200');
like($head, qr{^Content-Type: text/plain; version=0\.0\.4}mi,
    'the text exposition format');
my $m = parse_metrics($body);
is_deeply($m->{errors}, [], 'it parses strictly') or diag($body);
my $s = $m->{samples};
for my $k (sort keys %$stats) {
	ok(exists $s->{"linecast_$k"}, "/stats $k is linecast_$k");
}
is($m->{types}{linecast_published}, 'counter', 'published is a counter');
is($m->{types}{linecast_connections}, 'gauge', 'connections is a gauge');
is($s->{linecast_connections}, 62, '62 connections');
is($s->{linecast_published}, 1, 'one message published');
is($s->{linecast_lines_in}, $stats->{lines_in}, 'lines_in as in /stats');
is($s->{'linecast_channel_members{channel="ch60"}'}, 60, 'ch60: 60 members');
is($s->{'linecast_channel_subscribers{channel="ch60"}'}, 1,
    'ch60: 1 subscriber');
is($s->{'linecast_channel_members{channel="ch11"}'}, 11, 'ch11: 11 members');
ok(!exists $s->{'linecast_channel_members{channel="ch10"}'},
    'ch10 is not among the busiest 50');
is(scalar(grep { /^linecast_channel_members\{/ } keys %$s), 50,
    'the per-channel gauges are bounded: 50 channels');
cmp_ok($s->{process_resident_memory_bytes}, '>', 1 << 20, 'an RSS');
cmp_ok($s->{process_open_fds}, '>=', 60, 'the open fds count the sockets');

($status) = http_get($srv->metrics_port, '/other');
is($status, 404, 'another path: 404');
($status) = http_get($srv->metrics_port, '/metrics/x');
is($status, 404, 'below /metrics: 404');
($status) = http_get($srv->metrics_port, '/metrics', 'POST');
isnt($status, 200, 'POST /metrics is refused');
is($obs->cmd('/ping'), '+PONG', 'the broker serves on meanwhile');
is($srv->stop, 0, 'exit 0');

# In a cluster: its state, this node's name, the cluster's counters.
SKIP: {
	require Redis;
	my $redis = Redis->start;
	skip 'redis-server not installed', 5 unless $redis;
	my $node = $redis->node('m1', '--metrics', '0');
	ok(Redis->wait_state($node->client(label => 'probe'), 'up'),
	    'a node is up');
	my (undef, undef, $text) = http_get($node->metrics_port, '/metrics');
	my $mc = parse_metrics($text);
	is_deeply($mc->{errors}, [], 'cluster: it parses strictly')
	    or diag($text);
	is($mc->{samples}{linecast_cluster_up}, 1, 'linecast_cluster_up 1');
	is($mc->{samples}{'linecast_node_info{node="m1"}'}, 1, 'the node name');
	ok(exists $mc->{samples}{linecast_cluster_out},
	    'the cluster counters, from /stats');
	$node->stop;
	$redis->stop;
}

# Off by default; a bad address is a usage error.
$srv = Linecast->start;
unlike($srv->log, qr/\(metrics\)/, 'off by default');
$srv->stop;
my $r = Linecast->run('--metrics', 'localhost:http');
is($r->{exit}, 2, 'a bad --metrics: exit 2');
like($r->{stderr}, qr/bad value for --metrics: localhost:http \(allowed: PORT or ADDR:PORT/,
    'it says what is allowed');

done_testing;
