package Redis;

# A real redis-server for the cluster tests, started on a free loopback
# port with no persistence and stopped by its pid; and a tiny RESP client
# to poke at it. Core Perl only.
#
#   my $redis = Redis->start or plan skip_all => 'no redis-server';
#   my @n = map { $redis->node("n$_") } 1 .. 2;   # linecast nodes on it
#   $redis->cmd('PUBLISH', 'linecast:c:x', 'garbage');
#   $redis->kill9; $redis->restart;              # same port

use strict;
use warnings;

use Carp qw(croak);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

use Linecast;

my %live;
END {
	for my $pid (keys %live) {
		kill 'KILL', $pid;
		waitpid($pid, 0);
	}
}

# Returns the path of redis-server, or undef.
sub binary
{
	for my $dir (split /:/, "$ENV{PATH}:/usr/sbin:/usr/bin") {
		return "$dir/redis-server" if -x "$dir/redis-server";
	}
	return undef;
}

# Returns a TCP port that was free on 127.0.0.1 a moment ago.
sub free_port
{
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp', Listen => 1, ReuseAddr => 1)
	    or croak "no free port: $!";
	my $port = $s->sockport;
	close $s;
	return $port;
}

# Starts redis-server (extra arguments go to it). Returns the object, or
# undef if there is no redis-server.
sub start
{
	my ($class, @args) = @_;
	my $bin = binary() or return undef;
	my $self = bless { bin => $bin, args => \@args,
	    port => free_port() }, $class;
	$self->_spawn;
	return $self;
}

# Returns an object for a redis-server not started yet (restart starts
# it), on a free port: for nodes started before their Redis.
sub later
{
	my ($class, @args) = @_;
	my $bin = binary() or return undef;
	return bless { bin => $bin, args => \@args, port => free_port(),
	    pid => 0 }, $class;
}

# Sets the password the tiny client and url() use.
sub password { $_[0]{password} = $_[1]; $_[0] }

sub port { $_[0]{port} }
sub pid { $_[0]{pid} }
sub url
{
	my ($self) = @_;
	my $auth = defined $self->{password} ? ":$self->{password}\@" : '';
	return "redis://${auth}127.0.0.1:$self->{port}";
}

# Runs the server on its port and waits until it answers PING.
sub _spawn
{
	my ($self) = @_;
	my $pid = fork // croak "fork: $!";
	if ($pid == 0) {
		open STDOUT, '>', '/dev/null';
		open STDERR, '>', '/dev/null';
		exec $self->{bin}, '--port', $self->{port}, '--bind',
		    '127.0.0.1', '--save', '', '--appendonly', 'no',
		    '--daemonize', 'no', @{$self->{args}};
		exit 127;
	}
	$self->{pid} = $pid;
	$live{$pid} = 1;
	my $deadline = time + 10;
	while (time < $deadline) {
		my $r = eval { $self->cmd('PING') };
		return if defined $r && $r =~ /PONG|NOAUTH/;
		croak 'redis-server exited' if waitpid($pid, WNOHANG) == $pid;
		sleep 0.05;
	}
	croak "redis-server on port $self->{port} did not answer";
}

# Sends one command; returns its reply (a string, a number, an array
# reference, or "-ERR ..." for an error).
sub cmd
{
	my ($self, @argv) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $self->{port}, Proto => 'tcp', Timeout => 2)
	    or die "connect: $!\n";
	my $req = '*' . @argv . "\r\n";
	$req .= '$' . length($_) . "\r\n$_\r\n" for @argv;
	if (defined $self->{password}) {
		my $auth = "*2\r\n\$4\r\nAUTH\r\n\$" .
		    length($self->{password}) . "\r\n$self->{password}\r\n";
		$req = $auth . $req;
	}
	print $s $req;
	_read_reply($s) if defined $self->{password};
	my $r = _read_reply($s);
	close $s;
	return $r;
}

# Reads one RESP reply, with a bound on the wait.
sub _read_reply
{
	my ($s) = @_;
	local $SIG{ALRM} = sub { die "redis reply timeout\n" };
	alarm 3;
	my $line = <$s>;
	alarm 0;
	die "no reply\n" unless defined $line;
	$line =~ s/\r\n$//;
	my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
	return $v if $t eq '+' || $t eq ':';
	return "-$v" if $t eq '-';
	if ($t eq '$') {
		return undef if $v < 0;
		my $buf = '';
		read($s, $buf, $v + 2);
		return substr($buf, 0, $v);
	}
	return [map { _read_reply($s) } 1 .. $v] if $t eq '*';
	die "bad reply: $line\n";
}

# Starts a linecast node on this Redis; extra arguments go to linecast.
sub node
{
	my ($self, $name, @args) = @_;
	return Linecast->start('--cluster', $self->url, '--node', $name,
	    @args);
}

# Kills the server at once.
sub kill9
{
	my ($self) = @_;
	kill 'KILL', $self->{pid};
	waitpid($self->{pid}, 0);
	delete $live{$self->{pid}};
}

# Starts it again on the same port, empty.
sub restart
{
	my ($self) = @_;
	$self->_spawn;
}

# Stops it.
sub stop
{
	my ($self) = @_;
	return unless $live{$self->{pid}};
	kill 'TERM', $self->{pid};
	waitpid($self->{pid}, 0);
	delete $live{$self->{pid}};
}

# Waits (bounded) until a node's /stats says cluster=STATE. Returns true
# if it did.
sub wait_state
{
	my ($class, $client, $state, $timeout) = @_;
	my $deadline = time + ($timeout // 10);
	while (time < $deadline) {
		my $r = $client->cmd('/stats');
		return 1 if $r =~ /\bcluster=\Q$state\E\b/;
		sleep 0.05;
	}
	return 0;
}

1;
