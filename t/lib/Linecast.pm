package Linecast;

# The shared helper of the integration tests: it starts the real server on
# a free port, connects clients to it, and reads and writes lines with a
# bound on every wait, so that no test can hang. Core Perl only.
#
#   my $srv = Linecast->start('--echo');     # --port 0 --bind 127.0.0.1 added
#   my $c   = $srv->client;                  # connected, +HELLO read
#   $c->send('/join news');
#   $c->expect(qr/^\+JOIN news \d+$/);       # the next line, nothing skipped
#   is($c->cmd('/ping x'), '+PONG x');       # send, then the next line
#   $c->expect_none('no event');             # a /ping round trip shows nothing
#   is($srv->stop, 0, 'exit status 0');      # SIGTERM, bounded wait
#
# Every wait is bounded ($TIMEOUT, 5 s by default), and a watchdog ends a
# test file that runs longer than $WATCHDOG seconds (100 by default).

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use Errno qw(EAGAIN EINTR EINPROGRESS EWOULDBLOCK);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Handle;
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX qw(WNOHANG);
use Socket qw(AF_INET AF_UNIX PF_INET PF_UNIX SOCK_STREAM SOL_SOCKET
    SO_ERROR SO_LINGER SO_RCVBUF SO_SNDBUF inet_aton pack_sockaddr_in
    pack_sockaddr_un);
use Test::More ();
use Time::HiRes qw(time sleep);

# What -ERR bad-channel and -ERR bad-name add: what is allowed.
our $CHANNEL_ALLOWED = ' (allowed: tokens of A-Z a-z 0-9 _ # : - joined by'
    . ' dots, 1 to 128 bytes, not starting with -; in patterns also * for a'
    . ' token and a final >)';
our $NAME_ALLOWED = ' (allowed: 1 to 32 of A-Z a-z 0-9 _ -, not starting'
    . ' with -; not server)';

# Default bound of every wait, in seconds.
our $TIMEOUT = $ENV{LINECAST_TIMEOUT} || 5;

# Bound of a whole test file: a watchdog ends a file that hangs anyway.
our $WATCHDOG = $ENV{LINECAST_WATCHDOG} || 100;

# No installed config file changes what a test starts (make check sets
# this too); a test that wants one names it in LINECAST_CONFIG.
$ENV{LINECAST_CONFIG} //= '';
# Nor does a service manager that started the tests hear from their servers.
delete $ENV{NOTIFY_SOCKET};

# Servers started by this process, by pid, killed at exit whatever happens.
my %live;

$SIG{PIPE} = 'IGNORE';
$SIG{ALRM} = sub { die "linecast test: watchdog fired after ${WATCHDOG}s\n" };
alarm $WATCHDOG;

END {
	for my $pid (keys %live) {
		kill 'KILL', $pid;
		waitpid($pid, 0);
	}
}

# Returns the server binary: $LINECAST, else src/linecast of this tree.
sub binary
{
	return $ENV{LINECAST} if $ENV{LINECAST};
	my $top = dirname(abs_path(__FILE__)) . '/../..';
	my $bin = abs_path("$top/src/linecast") // "$top/src/linecast";
	return $bin;
}

# Returns true if the server is built with a sanitizer, whose allocator
# keeps freed memory (so RSS bounds do not hold).
my $sanitized;
sub sanitized
{
	return $sanitized if defined $sanitized;
	$sanitized = 0;
	open my $fh, '<:raw', binary() or return 0;
	local $/ = \(1 << 20);
	while (my $chunk = <$fh>) {
		return $sanitized = 1 if $chunk =~ /__(?:asan|tsan)_init/;
	}
	return 0;
}

# Checks that the server's RSS grew by less than $limit_kb since $base_kb
# (skipped under sanitizers). Returns the growth in kB.
sub rss_ok
{
	my ($self, $base_kb, $limit_kb, $name) = @_;
	my $rss = $self->rss_kb // 0;
	my $growth = $rss - ($base_kb // 0);
	my $tb = Test::More->builder;
	if (sanitized()) {
		$tb->skip("RSS is not bounded under a sanitizer ($name)");
		return $growth;
	}
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	$tb->cmp_ok($growth, '<', $limit_kb, "$name: RSS grew by $growth kB"
	    . " (< $limit_kb)");
	return $growth;
}

# Shows bytes readably in a diagnostic, non-printables as \xNN.
sub show
{
	my ($s, $max) = @_;
	return 'undef' unless defined $s;
	$max //= 300;
	my $long = length($s) > $max;
	$s = substr($s, 0, $max) if $long;
	$s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
	return "'$s'" . ($long ? '...' : '');
}

# Runs linecast with exactly these arguments (nothing added) and waits for
# it to exit, at most $opt{timeout} seconds (default 10): for the options
# that print and exit, or fail to start. Returns a hash: exit (the exit
# code, or undef if killed or timed out), signal, timed_out, stdout, stderr.
sub run
{
	my ($class, @args) = @_;
	my $opt = ref $args[0] eq 'HASH' ? shift @args : {};
	my $timeout = $opt->{timeout} // 10;
	my $dir = tempdir('linecast-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $pid = _spawn([binary(), @args], "$dir/stdout", "$dir/stderr",
	    $opt);
	my %r = (timed_out => 0);
	my $status = _reap($pid, $timeout);
	if (!defined $status) {
		$r{timed_out} = 1;
		kill 'KILL', $pid;
		$status = _reap($pid, 5);
	}
	delete $live{$pid};
	if (defined $status) {
		$r{exit} = $status & 127 ? undef : $status >> 8;
		$r{signal} = $status & 127;
	}
	$r{exit} = undef if $r{timed_out};
	$r{stdout} = _slurp("$dir/stdout");
	$r{stderr} = _slurp("$dir/stderr");
	return \%r;
}

# Starts the server with --port 0 --bind 127.0.0.1 and these arguments,
# and waits (at most 10 s) for its "listening on 127.0.0.1:PORT" log line
# (and for "listening on unix:PATH" if --unix is given). Dies if it does
# not come up. A first hash ref argument holds options: nofile => N,
# and env and journal as _spawn() takes them.
sub start
{
	my ($class, @args) = @_;
	my $opt = ref $args[0] eq 'HASH' ? shift @args : {};
	my $dir = tempdir('linecast-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $self = bless {
		args	=> \@args,
		dir	=> $dir,
		errfile	=> "$dir/stderr",
		outfile	=> "$dir/stdout",
		owner	=> $$,
	}, $class;
	my @cmd = (binary(), '--port', '0', '--bind', '127.0.0.1', @args);
	croak "linecast binary not found or not executable: $cmd[0]"
	    . " (set LINECAST)" unless -x $cmd[0];
	# { nofile => N } runs it with that open-file limit (through sh, which
	# execs, so the pid is the server's).
	@cmd = ('/bin/sh', '-c', "ulimit -n $opt->{nofile} && exec \"\$@\"",
	    'sh', @cmd) if $opt->{nofile};
	$self->{pid} = _spawn(\@cmd, $self->{outfile}, $self->{errfile},
	    $opt);
	my $want_unix = grep { $_ eq '--unix' || $_ eq '-u' } @args;
	my $want_tls = grep { $_ eq '--tls-port' } @args;
	my $want_metrics = grep { $_ eq '--metrics' } @args;
	my $want_plain = !grep { $args[$_] eq '--port' && ($args[$_ + 1] // '')
	    eq 'none' } 0 .. $#args;
	my $deadline = time + 10;
	while (time < $deadline) {
		my $log = $self->log;
		$self->{port} = $1
		    if $log =~ /listening on 127\.0\.0\.1:(\d+)(?!\d)(?! \()/;
		$self->{tls_port} = $1
		    if $log =~ /listening on 127\.0\.0\.1:(\d+) \(tls\)/;
		$self->{metrics_port} = $1
		    if $log =~ /listening on 127\.0\.0\.1:(\d+) \(metrics\)/;
		last if ($self->{port} || !$want_plain)
		    && ($self->{tls_port} || !$want_tls)
		    && ($self->{metrics_port} || !$want_metrics)
		    && (!$want_unix || $log =~ /listening on unix:/);
		if (waitpid($self->{pid}, WNOHANG) == $self->{pid}) {
			my $st = $?;
			delete $live{$self->{pid}};
			$self->{exited} = $st;
			croak "linecast @args exited (status $st)"
			    . " before listening; its log:\n$log";
		}
		sleep 0.02;
	}
	croak "linecast @args: no 'listening on' line within 10 s;"
	    . " its log:\n" . $self->log
	    unless $self->{port} || $self->{tls_port};
	return $self;
}

sub port { $_[0]{port} }
sub tls_port { $_[0]{tls_port} }
sub metrics_port { $_[0]{metrics_port} }
sub pid { $_[0]{pid} }
sub dir { $_[0]{dir} }

# Returns what the server wrote to stderr so far.
sub log { _slurp($_[0]{errfile}) }

# Returns what the server wrote to stdout so far.
sub stdout { _slurp($_[0]{outfile}) }

# Returns the server's resident set size in kB (undef if it is gone).
sub rss_kb
{
	my ($self) = @_;
	open my $fh, '<', "/proc/$self->{pid}/status" or return undef;
	while (<$fh>) {
		return $1 if /^VmRSS:\s+(\d+)\s+kB/;
	}
	return undef;
}

# Returns true while the server process runs.
sub alive
{
	my ($self) = @_;
	return 0 if defined $self->{exited};
	if (waitpid($self->{pid}, WNOHANG) == $self->{pid}) {
		$self->{exited} = $?;
		delete $live{$self->{pid}};
		return 0;
	}
	return 1;
}

# Connects a TCP client and reads its +HELLO line (a failed test if none
# comes). Options: nohello => 1 returns without reading anything;
# rcvbuf/sndbuf => BYTES set the socket buffers before connecting;
# label => a name for diagnostics; timeout => seconds.
sub client
{
	my ($self, %opt) = @_;
	my $c = Linecast::Client->connect_inet('127.0.0.1', $self->{port},
	    %opt);
	return $c if !$c || $opt{nohello};
	$c->read_hello($opt{timeout});
	return $c;
}

# Connects a TLS client to the --tls-port (or port => N) and reads its
# +HELLO (unless nohello). Options: cert and key (PEM files) for a client
# certificate, ca => FILE to verify the server's, label, timeout. Returns
# the client, or undef with the reason in $Linecast::tls_error.
our $tls_error;
sub tls_client
{
	my ($self, %opt) = @_;
	require IO::Socket::SSL;
	my $timeout = $opt{timeout} // $TIMEOUT;
	my $fh = IO::Socket::SSL->new(
		PeerAddr	=> '127.0.0.1',
		PeerPort	=> $opt{port} // $self->{tls_port},
		Timeout		=> $timeout,
		SSL_verify_mode	=> $opt{ca} ? 1 : 0,
		SSL_hostname	=> 'localhost',
		$opt{ca} ? (SSL_ca_file => $opt{ca}) : (),
		$opt{cert} ? (SSL_cert_file => $opt{cert},
		    SSL_key_file => $opt{key}) : (),
	);
	if (!$fh) {
		$tls_error = $IO::Socket::SSL::SSL_ERROR || "$!";
		return undef;
	}
	my $c = Linecast::Client->wrap($fh, %opt, tls => 1);
	$c->read_hello($timeout) unless $opt{nohello};
	return $c;
}

# Connects a TCP client without waiting for +HELLO.
sub connect
{
	my ($self, %opt) = @_;
	return $self->client(%opt, nohello => 1);
}

# Connects a client to a Unix socket and reads its +HELLO (unless nohello).
sub unix_client
{
	my ($self, $path, %opt) = @_;
	my $c = Linecast::Client->connect_unix($path, %opt);
	return $c if !$c || $opt{nohello};
	$c->read_hello($opt{timeout});
	return $c;
}

# Sends a signal to the server.
sub signal
{
	my ($self, $sig) = @_;
	return kill $sig, $self->{pid};
}

# Waits at most $timeout seconds for the server to exit. Returns its exit
# code (128+N if killed by signal N), or undef if it is still running.
sub wait_exit
{
	my ($self, $timeout) = @_;
	if (!defined $self->{exited}) {
		my $st = _reap($self->{pid}, $timeout // 10);
		return undef unless defined $st;
		$self->{exited} = $st;
		delete $live{$self->{pid}};
	}
	my $st = $self->{exited};
	return $st & 127 ? 128 + ($st & 127) : $st >> 8;
}

# Sends SIGTERM (or $sig) and waits at most $timeout (10) seconds. Returns
# the exit code (128+N if killed by signal N); undef if the server did not
# exit in time, in which case it is killed with SIGKILL. The seconds it
# took are in $srv->{stop_seconds}.
sub stop
{
	my ($self, $timeout, $sig) = @_;
	my $t0 = time;
	$self->signal($sig // 'TERM') unless defined $self->{exited};
	my $code = $self->wait_exit($timeout // 10);
	$self->{stop_seconds} = time - $t0;
	if (!defined $code) {
		kill 'KILL', $self->{pid};
		$self->wait_exit(5);
		return undef;
	}
	return $code;
}

sub DESTROY
{
	my ($self) = @_;
	return unless $self->{pid} && $self->{owner} && $self->{owner} == $$;
	if (!defined $self->{exited}) {
		kill 'KILL', $self->{pid};
		_reap($self->{pid}, 5);
		delete $live{$self->{pid}};
	}
	eval {
		my $tb = Test::More->builder;
		if (!$tb->is_passing) {
			my @log = split /\n/, $self->log;
			@log = @log[-40 .. -1] if @log > 40;
			$tb->diag("linecast @{$self->{args}} log (tail):\n"
			    . join("\n", map { "  $_" } @log));
		}
	};
}

# Floods: $pub sends $n text lines "NNNNNN PAYLOAD" (to its current
# channel) while $reader reads them, keeping at most $window lines in
# flight so that the reader never falls behind. Options: payload (text
# after the number, default 190 x's), window (200), timeout (60 s), half
# (a code ref called once when half the lines have arrived). Returns a
# hash ref: sent, received, in_order (all numbers consecutive from 1),
# seconds.
sub flood
{
	my ($class, $pub, $reader, $n, %opt) = @_;
	my $payload = $opt{payload} // ('x' x 190);
	my $window = $opt{window} // 200;
	my $deadline = time + ($opt{timeout} // 60);
	my ($next, $got, $in_order, $out, $half) = (1, 0, 1, '', 0);
	my $t0 = time;
	while ($got < $n && time < $deadline) {
		while (length $out < 16384 && $next <= $n
		    && $next - 1 - $got < $window) {
			$out .= sprintf("%06d %s\n", $next++, $payload);
		}
		if (length $out) {
			my $w = $pub->write_some($out);
			last unless defined $w;
			substr($out, 0, $w, '');
		}
		$reader->fill(length $out ? 0 : 0.05);
		while (defined(my $l = $reader->line(0))) {
			next unless $l =~ /^\S+ <[^>]+> (\d{6}) /;
			$in_order = 0 if $1 != $got + 1;
			$got++;
		}
		if (!$half && $got >= $n / 2 && $opt{half}) {
			$half = 1;
			$opt{half}->();
		}
	}
	return {
		sent		=> $next - 1 - int(length($out) / (8 + length $payload)),
		received	=> $got,
		in_order	=> $in_order,
		seconds		=> time - $t0,
	};
}

# Forks and execs @$cmd with stdout and stderr to these files. Options:
# env => { NAME => VALUE } added to its environment; journal => 1 sets
# JOURNAL_STREAM to its stderr, as systemd does for a unit's journal.
sub _spawn
{
	my ($cmd, $out, $err, $opt) = @_;
	$opt //= {};
	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		open STDIN, '<', '/dev/null';
		open STDOUT, '>', $out;
		open STDERR, '>', $err;
		$ENV{$_} = $opt->{env}{$_} for keys %{ $opt->{env} // {} };
		if ($opt->{journal}) {
			my @st = stat STDERR;
			$ENV{JOURNAL_STREAM} = "$st[0]:$st[1]";
		}
		{ no warnings 'exec'; exec { $cmd->[0] } @$cmd; }
		print STDERR "exec $cmd->[0]: $!\n";
		POSIX::_exit(127);
	}
	$live{$pid} = 1;
	return $pid;
}

# Waits at most $timeout seconds for $pid. Returns its wait status or undef.
sub _reap
{
	my ($pid, $timeout) = @_;
	my $deadline = time + $timeout;
	while (1) {
		my $r = waitpid($pid, WNOHANG);
		return $? if $r == $pid;
		return -1 if $r < 0;
		return undef if time >= $deadline;
		sleep 0.01;
	}
}

sub _slurp
{
	my ($file) = @_;
	open my $fh, '<', $file or return '';
	local $/;
	my $s = <$fh>;
	return $s // '';
}

package Linecast::Client;

# One connection to the server: a non-blocking socket and an input buffer.
# Every read waits at most the given timeout (default $Linecast::TIMEOUT);
# writes read what comes meanwhile into the buffer so that a client and the
# server never wait on each other (unless readwhilewriting => 0).

use strict;
use warnings;

use Carp qw(croak);
use Errno qw(EAGAIN EINTR EINPROGRESS EWOULDBLOCK);
use IO::Handle;
use IO::Select;
use Socket qw(AF_INET AF_UNIX PF_INET PF_UNIX SOCK_STREAM SOL_SOCKET
    SO_ERROR SO_LINGER SO_RCVBUF SO_SNDBUF inet_aton pack_sockaddr_in
    pack_sockaddr_un);
use Test::More ();
use Time::HiRes qw(time sleep);

my $clients = 0;

# Connects to HOST:PORT over TCP. Returns the client, or undef (with a
# failed test) if it cannot connect within the timeout.
sub connect_inet
{
	my ($class, $host, $port, %opt) = @_;
	my $fh;
	socket($fh, PF_INET, SOCK_STREAM, 0) or croak "socket: $!";
	return $class->_connect($fh,
	    pack_sockaddr_in($port, inet_aton($host)), "$host:$port", %opt);
}

# Connects to a Unix socket at PATH.
sub connect_unix
{
	my ($class, $path, %opt) = @_;
	my $fh;
	socket($fh, PF_UNIX, SOCK_STREAM, 0) or croak "socket: $!";
	return $class->_connect($fh, pack_sockaddr_un($path), "unix:$path",
	    %opt);
}

# Makes a client of a socket already connected (a TLS one: tls => 1).
sub wrap
{
	my ($class, $fh, %opt) = @_;
	$fh->blocking(0);
	return bless {
		fh	=> $fh,
		buf	=> '',
		eof	=> 0,
		error	=> undef,
		label	=> $opt{label} // 'client' . ++$clients,
		rww	=> $opt{readwhilewriting} // 1,
		syncs	=> 0,
		tls	=> $opt{tls},
	}, $class;
}

sub _connect
{
	my ($class, $fh, $addr, $where, %opt) = @_;
	setsockopt($fh, SOL_SOCKET, SO_RCVBUF, $opt{rcvbuf})
	    or croak "SO_RCVBUF: $!" if $opt{rcvbuf};
	setsockopt($fh, SOL_SOCKET, SO_SNDBUF, $opt{sndbuf})
	    or croak "SO_SNDBUF: $!" if $opt{sndbuf};
	$fh->blocking(0);
	my $timeout = $opt{timeout} // $Linecast::TIMEOUT;
	my $self = bless {
		fh	=> $fh,
		buf	=> '',
		eof	=> 0,
		error	=> undef,
		label	=> $opt{label} // 'client' . ++$clients,
		rww	=> $opt{readwhilewriting} // 1,
		syncs	=> 0,
	}, $class;
	if (!connect($fh, $addr)) {
		if ($! != EINPROGRESS && $! != EAGAIN) {
			Test::More::fail("$self->{label} connects to $where");
			Test::More::diag("connect: $!");
			return undef;
		}
		my $w = IO::Select->new($fh);
		my $err = $w->can_write($timeout)
		    ? unpack('i', getsockopt($fh, SOL_SOCKET, SO_ERROR))
		    : 'timeout';
		if ($err) {
			local $! = $err if $err =~ /^\d+$/;
			Test::More::fail("$self->{label} connects to $where");
			Test::More::diag('connect: '
			    . ($err =~ /^\d+$/ ? "$!" : $err));
			return undef;
		}
	}
	return $self;
}

sub label { $_[0]{label} }
sub name { $_[0]{name} }
sub hello { $_[0]{hello} }
sub fh { $_[0]{fh} }
sub error { $_[0]{error} }

# Returns the bytes read but not yet returned as lines.
sub pending { $_[0]{buf} }

# Reads the +HELLO line and remembers the name (and channel) it gives.
# A failed test if it does not come. Returns the line.
sub read_hello
{
	my ($self, $timeout) = @_;
	my $line = $self->line($timeout);
	if (defined $line
	    && $line =~ /^\+HELLO linecast\/\S+ name=(\S+)(?: channel=(\S+))?$/) {
		$self->{name} = $1;
		$self->{channel} = $2;
		$self->{hello} = $line;
		return $line;
	}
	local $Test::Builder::Level = $Test::Builder::Level + 2;
	Test::More::fail("$self->{label} gets +HELLO");
	Test::More::diag("got: " . ($self->{eof} ? 'EOF' : '')
	    . Linecast::show($line));
	$self->{hello} = $line;
	return $line;
}

# Reads what is available, waiting at most $timeout seconds for something.
# Returns the number of bytes read, 0 on timeout, undef at EOF or error.
sub fill
{
	my ($self, $timeout) = @_;
	return undef if $self->{eof};
	my $sel = IO::Select->new($self->{fh});
	my $deadline = time + ($timeout // 0);
	while (1) {
		my $left = $deadline - time;
		$left = 0 if $left < 0;
		# TLS may hold decrypted bytes that select() cannot see.
		if (($self->{tls} && $self->{fh}->pending)
		    || $sel->can_read($left)) {
			my $n = sysread($self->{fh}, my $chunk, 262144);
			if (!defined $n) {
				next if $! == EAGAIN || $! == EINTR
				    || $! == EWOULDBLOCK;
				$self->{error} = "$!";
				$self->{eof} = 1;
				return undef;
			}
			if ($n == 0) {
				$self->{eof} = 1;
				return undef;
			}
			$self->{buf} .= $chunk;
			return $n;
		}
		return 0 if time >= $deadline;
	}
}

# Returns the next line without its LF, or undef on timeout or EOF.
sub line
{
	my ($self, $timeout) = @_;
	my $deadline = time + ($timeout // $Linecast::TIMEOUT);
	while (1) {
		my $i = index($self->{buf}, "\n");
		if ($i >= 0) {
			my $line = substr($self->{buf}, 0, $i);
			substr($self->{buf}, 0, $i + 1, '');
			return $line;
		}
		my $left = $deadline - time;
		my $n = $self->fill($left > 0 ? $left : 0);
		return undef if !$n;
	}
}

# Returns the next line if one is already complete (reading what the
# socket holds now, not waiting), else undef.
sub line_now
{
	my ($self) = @_;
	$self->fill(0) if index($self->{buf}, "\n") < 0;
	return $self->line(0);
}

# Returns true if the client has seen EOF (or a read error).
sub eof { $_[0]{eof} }

# Reads the next line and checks it: equal to a string, or matching a
# regex. Skips nothing. expect(WANT [, TIMEOUT] [, NAME]). Returns the line.
sub expect
{
	my ($self, $want, @rest) = @_;
	my $timeout = @rest && defined $rest[0] && $rest[0] =~ /^[\d.]+$/
	    ? shift @rest : undef;
	my $name = shift @rest;
	$timeout //= $Linecast::TIMEOUT;
	my $line = $self->line($timeout);
	my $is_re = ref $want eq 'Regexp';
	my $ok = defined $line
	    && ($is_re ? $line =~ $want : $line eq $want);
	$name //= "$self->{label} gets "
	    . ($is_re ? "a line like $want" : Linecast::show($want, 80));
	my $tb = Test::More->builder;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	$tb->ok($ok, $name) or $tb->diag($self->_diag($want, $line, $timeout));
	return $line;
}

sub _diag
{
	my ($self, $want, $line, $timeout) = @_;
	my $got = defined $line ? Linecast::show($line)
	    : $self->{eof} ? 'EOF' . ($self->{error} ? " ($self->{error})" : '')
	    : "nothing within ${timeout}s";
	my $d = "expected: " . (ref $want ? "$want" : Linecast::show($want))
	    . "\n     got: $got";
	$d .= "\n  buffered: " . Linecast::show($self->{buf}, 200)
	    if length $self->{buf};
	return $d;
}

# Sends one line (a LF is appended). Returns true if all was written.
sub send
{
	my ($self, $line, $timeout) = @_;
	return $self->send_raw("$line\n", $timeout);
}

# Sends bytes as they are, waiting at most $timeout seconds for the socket
# to take them all, and reading what arrives meanwhile into the buffer
# (unless readwhilewriting => 0 was given). Returns true if all was written.
sub send_raw
{
	my ($self, $bytes, $timeout) = @_;
	my $deadline = time + ($timeout // $Linecast::TIMEOUT);
	my $off = 0;
	my $len = length $bytes;
	my $ws = IO::Select->new($self->{fh});
	my $rs = IO::Select->new($self->{fh});
	while ($off < $len) {
		my $n = syswrite($self->{fh}, $bytes, $len - $off, $off);
		if (defined $n) {
			$off += $n;
			next;
		}
		if ($! != EAGAIN && $! != EINTR && $! != EWOULDBLOCK) {
			$self->{error} = "write: $!";
			return 0;
		}
		my $left = $deadline - time;
		if ($left <= 0) {
			$self->{error} = "write: timeout, $off of $len bytes";
			return 0;
		}
		my ($r, $w) = IO::Select->select(
		    $self->{rww} && !$self->{eof} ? $rs : undef, $ws, undef,
		    $left);
		$self->fill(0) if $r && @$r;
	}
	return 1;
}

# Writes what the socket takes now, without waiting. Returns the number of
# bytes written (0 if none), or undef on an error.
sub write_some
{
	my ($self, $bytes) = @_;
	my $n = syswrite($self->{fh}, $bytes);
	return $n if defined $n;
	return 0 if $! == EAGAIN || $! == EINTR || $! == EWOULDBLOCK;
	$self->{error} = "write: $!";
	return undef;
}

# Sends a line and returns the next line (undef on timeout or EOF).
sub cmd
{
	my ($self, $line, $timeout) = @_;
	$self->send($line, $timeout);
	return $self->line($timeout);
}

# Returns the lines up to and including the first one matching $re, all
# within $timeout seconds. If none matches, returns what came (so the last
# line does not match).
sub lines_until
{
	my ($self, $re, $timeout) = @_;
	my $deadline = time + ($timeout // $Linecast::TIMEOUT);
	my @lines;
	while (1) {
		my $left = $deadline - time;
		my $line = $self->line($left > 0 ? $left : 0);
		return @lines unless defined $line;
		push @lines, $line;
		return @lines if $line =~ $re;
	}
}

# Returns the lines that arrive within $timeout seconds (until EOF).
sub lines_for
{
	my ($self, $timeout) = @_;
	my $deadline = time + $timeout;
	my @lines;
	while (1) {
		my $left = $deadline - time;
		my $line = $self->line($left > 0 ? $left : 0);
		return @lines unless defined $line;
		push @lines, $line;
	}
}

# Sends "/ping TOKEN" and returns the lines that arrive before its +PONG.
# The server answers in order, so whatever it had queued for this client
# before it read the ping is in the list. Fails a test if no +PONG comes.
sub sync
{
	my ($self, $timeout) = @_;
	my $token = "sync-" . ++$self->{syncs};
	$self->send("/ping $token", $timeout);
	my @lines = $self->lines_until(qr/^\+PONG \Q$token\E$/, $timeout);
	if (!@lines || $lines[-1] ne "+PONG $token") {
		local $Test::Builder::Level = $Test::Builder::Level + 2;
		Test::More::fail("$self->{label} gets +PONG $token");
		Test::More::diag("got: " . join(' | ',
		    map { Linecast::show($_, 100) } @lines)
		    . ($self->{eof} ? ' EOF' : ''));
		return @lines;
	}
	pop @lines;
	return @lines;
}

# Checks that nothing (no event, no message) is queued for this client,
# with a /ping round trip.
sub expect_none
{
	my ($self, $name, $timeout) = @_;
	my @lines = $self->sync($timeout);
	my $tb = Test::More->builder;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	$tb->ok(!@lines, $name // "$self->{label} gets nothing")
	    or $tb->diag("unexpected: " . join("\n            ",
		map { Linecast::show($_) } @lines));
	return !@lines;
}

# Returns true if the server closes the connection within $timeout
# seconds. Lines that arrive before the EOF stay readable with line().
sub is_closed
{
	my ($self, $timeout) = @_;
	my $deadline = time + ($timeout // $Linecast::TIMEOUT);
	while (!$self->{eof}) {
		my $left = $deadline - time;
		$self->fill($left > 0 ? $left : 0);
		return 0 if !$self->{eof} && time >= $deadline;
	}
	return 1;
}

# Sends /stats and returns its counters as a hash ref (empty on an error).
sub stats
{
	my ($self, $timeout) = @_;
	my $line = $self->cmd('/stats', $timeout);
	my %s;
	if (defined $line && $line =~ s/^\+STATS\s*//) {
		%s = map { /^([^=]+)=(.*)$/ ? ($1, $2) : () } split / /, $line;
	}
	return \%s;
}

# Closes the connection normally (FIN).
sub close
{
	my ($self) = @_;
	CORE::close($self->{fh}) if $self->{fh};
	$self->{eof} = 1;
}

# Closes the connection abruptly: SO_LINGER 0, so the peer gets a RST.
sub rst
{
	my ($self) = @_;
	setsockopt($self->{fh}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
	CORE::close($self->{fh});
	$self->{eof} = 1;
}

package Linecast;

# Helpers for the Lua tests (t/lua-*.t): script files and the log.

# Writes Lua source to a file and returns its absolute path: $path if
# given, else a new file in a temporary directory removed at exit.
sub script
{
	my ($class, $code, $path) = @_;
	if (!defined $path) {
		my $dir = tempdir('linecast-lua-XXXXXX', TMPDIR => 1,
		    CLEANUP => 1);
		$path = "$dir/script.lua";
	}
	open my $fh, '>', $path or croak "$path: $!";
	print $fh $code;
	CORE::close($fh) or croak "$path: $!";
	return $path;
}

# Waits at most $timeout seconds (default $TIMEOUT) for the server's log
# to match $re. Returns true if it does.
sub wait_log
{
	my ($self, $re, $timeout) = @_;
	my $deadline = time + ($timeout // $TIMEOUT);
	while (1) {
		return 1 if $self->log =~ $re;
		return 0 if time >= $deadline;
		sleep 0.02;
	}
}

package Linecast::Client;

# Helper for the stock script tests (t/script-*.t): greetings with events.

# Reads the "* " lines a script sends before +HELLO (a MOTD, a topic...),
# then the +HELLO line itself as read_hello does (a failed test if it does
# not come, or if another kind of line comes first). Returns the "* "
# lines, in order.
sub read_greeting
{
	my ($self, $timeout) = @_;
	my $deadline = time + ($timeout // $Linecast::TIMEOUT);
	my @events;
	while (1) {
		my $left = $deadline - time;
		my $line = $self->line($left > 0 ? $left : 0);
		if (defined $line && $line =~ /^\* /) {
			push @events, $line;
			next;
		}
		# Not an event: put it back for read_hello to judge.
		$self->{buf} = "$line\n$self->{buf}" if defined $line;
		last;
	}
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	$self->read_hello(0);
	return @events;
}

1;
