#!/usr/bin/perl
# "listening on ADDR:PORT" is logged at every log level, once per
# listener: with --port 0 it is the only way to learn the port.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Linecast;

my $dir = tempdir('linecast-listen-XXXXXX', TMPDIR => 1, CLEANUP => 1);
for my $level (qw(error warn info debug)) {
	my $path = "$dir/$level.sock";
	my $srv = eval { Linecast->start('--log-level', $level,
	    '--unix', $path) };
	ok($srv, "--log-level $level: the port is logged")
	    or diag($@);
	next unless $srv;
	my $log = $srv->log;
	my @tcp = $log =~ /listening on 127\.0\.0\.1:\d+$/mg;
	my @unix = $log =~ /listening on unix:\Q$path\E$/mg;
	is(scalar @tcp, 1, "$level: once for TCP");
	is(scalar @unix, 1, "$level: once for the Unix socket");
	is($srv->client(label => $level)->cmd('/ping'), '+PONG',
	    "$level: the port logged is the one it serves");
	if ($level eq 'error') {
		unlike($log, qr/ info: (?!listening on)/,
		    'error: no other info line');
	}
	is($srv->stop, 0, "$level: exit 0");
}

done_testing;
