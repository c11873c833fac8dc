#!/usr/bin/perl
# Running under systemd: the unit passes systemd-analyze verify (skipped
# where systemd-analyze is missing), its hardening is there, and the
# server speaks the notify protocol: READY=1 once it listens, RELOADING=1
# then READY=1 around SIGHUP, STOPPING=1 on SIGTERM.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use IO::Select;
use Socket qw(SOCK_DGRAM);
use IO::Socket::UNIX;
use Linecast;

my $src = $ENV{LINECAST_SRCDIR} // "$Bin/..";
my $build = $ENV{LINECAST_BUILDDIR} // "$Bin/..";
my $dir = tempdir('linecast-systemd-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub slurp
{
	my ($path) = @_;
	open my $fh, '<', $path or return undef;
	local $/;
	return <$fh>;
}

# The unit as make install writes it, with ExecStart on this build.
my $unit = slurp("$build/scripts/linecast.service");
ok(defined $unit, 'the unit is built (scripts/linecast.service)');
$unit //= '';
for my $want ('Type=notify', 'ExecReload=/bin/kill -HUP $MAINPID',
    'User=linecast', 'StateDirectory=linecast', 'ProtectSystem=strict',
    'NoNewPrivileges=yes', 'LimitNOFILE=65536', 'PrivateTmp=yes',
    'WantedBy=multi-user.target') {
	like($unit, qr/^\Q$want\E$/m, "the unit has $want");
}
unlike($unit, qr/@\w+@/, 'every @path@ is filled in');
like(slurp("$src/scripts/sysusers.d/linecast.conf") // '',
    qr/^u linecast - "[^"]+" \/var\/lib\/linecast$/m,
    'sysusers.d makes the linecast user');

SKIP: {
	skip 'systemd-analyze is not installed', 2
	    if system('systemd-analyze --version >/dev/null 2>&1') != 0;
	(my $copy = $unit) =~ s/^ExecStart=.*$/ExecStart=${\ Linecast::binary()}/m;
	open my $fh, '>', "$dir/linecast.service" or die;
	print $fh $copy;
	close $fh;
	my $out = `systemd-analyze verify --man=no $dir/linecast.service 2>&1`;
	is($?, 0, 'systemd-analyze verify: exit 0');
	is($out, '', 'and no warning') or diag($out);
}

# The notify protocol, on a socket of our own (a path, then an abstract
# name as systemd uses).
for my $abstract (0, 1) {
	my $name = $abstract ? "\0linecast-test-$$" : "$dir/notify";
	my $sock = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $name)
	    or die "bind $name: $!";
	(my $env = $name) =~ s/^\0/@/;
	my $what = $abstract ? 'abstract socket' : 'socket path';
	my $srv = Linecast->start({ env => { NOTIFY_SOCKET => $env } });
	my $next = sub {
		my $msg = '';
		return undef unless IO::Select->new($sock)->can_read(5);
		$sock->recv($msg, 4096);
		return $msg;
	};
	my $m = $next->() // '';
	like($m, qr/^READY=1$/m, "$what: READY=1 once it listens");
	like($m, qr/^MAINPID=${\ $srv->pid}$/m, "$what: with MAINPID");
	ok($srv->signal('HUP'), "$what: SIGHUP");
	like($next->() // '', qr/^RELOADING=1$/m, "$what: RELOADING=1");
	like($next->() // '', qr/^READY=1$/m, "$what: then READY=1");
	ok($srv->signal('TERM'), "$what: SIGTERM");
	like($next->() // '', qr/^STOPPING=1$/m, "$what: STOPPING=1");
	is($srv->wait_exit(10), 0, "$what: exit 0");
}

# Without NOTIFY_SOCKET nothing is sent and nothing fails.
my $srv = Linecast->start({ env => { NOTIFY_SOCKET => '' } });
is($srv->client->cmd('/ping'), '+PONG', 'no NOTIFY_SOCKET: served');
is($srv->stop, 0, 'exit 0');

done_testing;
