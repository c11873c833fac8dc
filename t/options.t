#!/usr/bin/perl
# The command line: -V, -h, bad options (exit 2), a busy port (exit 1),
# --port 0, short options.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

for my $v ('-V', '--version') {
	my $r = Linecast->run($v);
	is($r->{exit}, 0, "$v exits 0");
	is($r->{stdout}, "linecast 0.1.0\n", "$v prints the version to stdout");
}

for my $h ('-h', '--help') {
	my $r = Linecast->run($h);
	is($r->{exit}, 0, "$h exits 0");
	like($r->{stdout}, qr/linecast/i, "$h prints the usage to stdout");
	for my $opt (qw(--bind --port --unix --config --threads --default-channel
	    --max-line --max-pending --max-clients --max-subs --max-rate
	    --slow-consumer --script-timeout --script-memory --blocking-timeout
	    --idle-timeout --shutdown-timeout --echo --no-presence
	    --allow-control --log-level --version --help)) {
		like($r->{stdout}, qr/\Q$opt\E\b/, "$h mentions $opt");
	}
}

my @bad = (
	['--bogus'],
	['-Z'],
	['--port'],
	['--port', 'abc'],
	['--port', '70000'],
	['--port', '-1'],
	['--slow-consumer', 'maybe'],
	['--log-level', 'loud'],
	['--max-line', 'lots'],
	['--max-clients', 'x'],
	['--threads', '-3'],
	['--idle-timeout', 'soon'],
	['--idle-timeout', '-1'],
	['--default-channel', 'bad..name'],
);
for my $args (@bad) {
	my $r = Linecast->run('--port', '0', @$args);
	is($r->{exit}, 2, "@$args: exit status 2");
	my @lines = split /\n/, $r->{stderr};
	ok(@lines >= 1 && @lines <= 2, "@$args: a short message")
	    or diag($r->{stderr});
	like($r->{stderr}, qr/--help/, "@$args: with a hint to --help");
	is($r->{stdout}, '', "@$args: nothing on stdout");
}

# A script that cannot be loaded is a start-up error.
my $rs = Linecast->run('--port', '0', '/nonexistent/script.lua');
is($rs->{exit}, 1, 'a missing script: exit status 1');
like($rs->{stderr}, qr{/nonexistent/script\.lua}, 'naming the script');

# --port 0 picks a free port and says which; two servers get two ports.
my $s1 = Linecast->start;
my $s2 = Linecast->start;
ok($s1->port > 0 && $s2->port > 0, 'port 0: a real port is logged');
isnt($s1->port, $s2->port, 'two servers, two ports');
my $c = $s1->client;
like($c->hello, qr/^\+HELLO /, 'and it accepts connections there');

# A busy port: exit 1 with a clear message.
my $port = $s1->port;
my $r = Linecast->run('--port', $port, '--bind', '127.0.0.1');
is($r->{exit}, 1, 'busy port: exit status 1');
like($r->{stderr}, qr/(in use|\Q$port\E)/i, 'busy port: a clear message')
    or diag($r->{stderr});
is($c->cmd('/ping'), '+PONG', 'the first server is not disturbed');

# Short options.
my $s3 = Linecast->start('-p', '0', '-b', '127.0.0.1', '-l', 'debug');
like($s3->client->hello, qr/^\+HELLO /, '-p -b -l');
is($s3->stop, 0, 'exit 0');

# Sizes with suffixes are accepted.
my $s5 = Linecast->start('--max-pending', '1M', '--max-line', '2k',
    '--max-clients', '50', '--max-subs', '10', '--max-rate', '1000',
    '--threads', '2', '--idle-timeout', '60', '--shutdown-timeout', '3',
    '--slow-consumer', 'disconnect', '--echo', '--no-presence',
    '--allow-control', '--default-channel', 'main');
my $c5 = $s5->client;
is($c5->hello, '+HELLO linecast/0.1.0 name=guest1 channel=main',
    'every option at once');
is($s5->stop, 0, 'exit 0');

# Binding to another address.
my $r6 = Linecast->run({ timeout => 10 }, '--port', '0', '--bind', '256.1.1.1');
ok(defined $r6->{exit} && $r6->{exit} != 0, 'an invalid bind address fails')
    or diag("exit " . ($r6->{exit} // 'none') . ": $r6->{stderr}");

done_testing;
