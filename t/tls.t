#!/usr/bin/perl
# TLS: --tls-port beside the plain port, the same protocol byte for byte,
# conn.tls and conn.cert, client certificates (--tls-ca), a plain client
# on the TLS port and a TLS client on the plain port, a stalled handshake
# that times out without delaying anyone, and certificates re-read on
# SIGHUP. The certificates are made here with openssl req -x509.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use Linecast;

plan skip_all => 'openssl not found' if system('openssl version >/dev/null 2>&1');
plan skip_all => 'IO::Socket::SSL not found (libio-socket-ssl-perl)'
    unless eval { require IO::Socket::SSL; 1 };

my $dir = tempdir('linecast-tls-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my @ec = qw(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes);

sub openssl
{
	my @cmd = ('openssl', @_);
	system("@cmd >$dir/openssl.out 2>&1") == 0
	    or BAIL_OUT("@cmd failed: " . `cat $dir/openssl.out`);
}

# A self-signed server certificate, and a CA with a client certificate.
sub self_signed
{
	my ($name, $cn) = @_;
	openssl('req', '-x509', @ec, '-keyout', "$dir/$name.key", '-out',
	    "$dir/$name.pem", '-days', '1', '-subj', "/CN=$cn",
	    '-addext', "subjectAltName=DNS:$cn");
}
sub client_cert
{
	my ($name, $ca, $subj) = @_;
	openssl('req', @ec, '-keyout', "$dir/$name.key", '-out',
	    "$dir/$name.csr", '-subj', $subj);
	openssl('x509', '-req', '-in', "$dir/$name.csr", '-CA', "$dir/$ca.pem",
	    '-CAkey', "$dir/$ca.key", '-CAcreateserial', '-out',
	    "$dir/$name.pem", '-days', '1');
}
self_signed('server', 'localhost');
self_signed('server2', 'localhost');
self_signed('ca', 'test-ca');
self_signed('rogue', 'rogue-ca');
client_cert('alice', 'ca', '/O=Example/CN=alice');
client_cert('mallory', 'rogue', '/O=Example/CN=mallory');
client_cert('carol', 'ca', '/O=Example/CN=carol');
copy("$dir/server.pem", "$dir/live.pem");
copy("$dir/server.key", "$dir/live.key");

my $who = Linecast->script(<<'EOS');
local lc = require "linecast"
lc.command("whoami", function(conn)
	return "+WHOAMI tls=" .. tostring(conn.tls) .. " cert=" .. tostring(conn.cert)
end)
EOS
my @tls = ('--tls-port', '0', '--tls-cert', "$dir/live.pem",
    '--tls-key', "$dir/live.key");

my $srv = Linecast->start(@tls, $who);
ok($srv->port && $srv->tls_port && $srv->port != $srv->tls_port,
    'a plain and a TLS port');
like($srv->log, qr/listening on 127\.0\.0\.1:\d+ \(tls\)$/m,
    'the TLS listener is marked (tls)');
my $plain = $srv->client(label => 'plain');
my $t = $srv->tls_client(label => 'tls', ca => "$dir/server.pem");
ok($t, 'a TLS client connects, verifying the certificate')
    or BAIL_OUT("TLS client: $Linecast::tls_error");
like($t->hello, qr/^\+HELLO linecast\/\S+ name=guest2 channel=lobby$/,
    'it gets the same +HELLO');
$plain->expect('* join lobby guest2', 'the plain client sees it join');
is($t->cmd('/nick bob'), '+NICK bob', 'commands work over TLS');
$plain->expect('* nick guest2 bob');
$plain->send('hello bob');
$t->expect('lobby <guest1> hello bob', 'plain to TLS');
$t->send('hi ' . ('x' x 4000));
$plain->expect('lobby <bob> hi ' . ('x' x 4000), 'TLS to plain, a long line');
is($t->cmd('/whoami'), '+WHOAMI tls=true cert=nil', 'conn.tls, no cert');
is($plain->cmd('/whoami'), '+WHOAMI tls=false cert=nil', 'a plain conn');
$t->send_raw(join('', map { "/pub news $_\n" } 1 .. 200) . "/ping done\n");
my @pubs = $t->lines_until(qr/^\+PONG done$/);
is(scalar(grep { /^\+PUB news 0$/ } @pubs), 200,
    '200 pipelined commands, 200 replies');
like($srv->log, qr/conn open conn=2 addr=127\.0\.0\.1:\d+ tls=TLSv1\.[23]$/m,
    'the open line says TLS');

# The clients the docs name, as a person types into them.
sub run_client
{
	my (@cmd) = @_;
	my $out = "$dir/client.out";
	open my $in, '|-', "timeout 10 @cmd >$out 2>&1" or die "@cmd: $!";
	print $in "/ping typed\n";
	sleep 0.5;
	print $in "/quit\n";
	sleep 0.5;
	close $in;
	return `cat $out`;
}
my $port = $srv->tls_port;
my $out = run_client("openssl s_client -quiet -connect 127.0.0.1:$port");
like($out, qr/^\+HELLO linecast\/.*^\+PONG typed\n.*^\+BYE$/ms,
    'openssl s_client -quiet -connect 127.0.0.1:PORT') or diag($out);
SKIP: {
	skip 'ncat is not installed', 1 if system('ncat --version >/dev/null 2>&1');
	$out = run_client("ncat --ssl 127.0.0.1 $port");
	like($out, qr/^\+HELLO linecast\/.*^\+PONG typed\n.*^\+BYE$/ms,
	    'ncat --ssl 127.0.0.1 PORT');
}

# A plain client on the TLS port is told, in words it can read.
my $p = Linecast::Client->connect_inet('127.0.0.1', $srv->tls_port,
    label => 'plain-on-tls');
$p->send('/nick eve');
like($p->line, qr/^-ERR refused this port speaks TLS: openssl s_client/,
    'a plain client on the TLS port gets a plain error');
ok($p->is_closed, 'and is closed');
ok($srv->wait_log(qr/tls handshake failed conn=\d+ .*reason="plain text/),
    'which is logged');

# A TLS client on the plain port: refused, and its handshake is not
# published as text.
my $bad = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
    PeerPort => $srv->port, SSL_verify_mode => 0, Timeout => 5);
ok(!$bad, 'a TLS client on the plain port fails its handshake');
ok($srv->wait_log(qr/reason=tls-on-plain-port/), 'and is closed');
my @seen = grep { !/^\* (join|quit) / } $plain->sync;
is("@seen", '', 'its handshake was not published (only its join and quit)');

# A stalled handshake times out; nobody waits for it meanwhile.
my $stall = Linecast::Client->connect_inet('127.0.0.1', $srv->tls_port,
    label => 'stalled');
my $half = Linecast::Client->connect_inet('127.0.0.1', $srv->tls_port,
    label => 'half');
$half->send_raw("\x16\x03\x01\x02\x00\x01");
my $t0 = time;
my $t2 = $srv->tls_client(label => 'tls2');
ok($t2, 'a TLS client connects while two handshakes stall');
is($t2->cmd('/ping'), '+PONG', 'and is served at once');
cmp_ok(time - $t0, '<', 1, 'within a second');
$srv->stop;

$srv = Linecast->start(@tls, '--tls-handshake-timeout', '0.5',
    '--default-channel', '', $who);
$stall = Linecast::Client->connect_inet('127.0.0.1', $srv->tls_port,
    label => 'stalled');
$half = Linecast::Client->connect_inet('127.0.0.1', $srv->tls_port,
    label => 'half');
$half->send_raw("\x16\x03\x01\x02\x00\x01");
$t0 = time;
ok($stall->is_closed(3), 'a silent handshake is closed');
ok($half->is_closed(3), 'so is one that stops half way');
my $took = time - $t0;
cmp_ok($took, '<', 2, sprintf('after the timeout (%.2f s)', $took));
ok($srv->wait_log(qr/tls handshake failed .*reason="timed out"/),
    'the timeout is logged');
my $st = $srv->client->stats;
is($st->{tls_failed}, 2, '/stats counts the failed handshakes');
is($st->{tls_handshakes}, 0, 'and no finished one');

# SIGHUP re-reads the certificate; a broken one leaves the old in place.
my $before = $srv->tls_client(label => 'before');
is($before->cmd('/ping'), '+PONG', 'connected before the reload');
copy("$dir/server2.pem", "$dir/live.pem");
copy("$dir/server2.key", "$dir/live.key");
ok($srv->signal('HUP'), 'SIGHUP with a new certificate');
ok($srv->wait_log(qr/reload: TLS certificate .*live\.pem loaded/),
    'the certificate is reloaded');
my $after = $srv->tls_client(label => 'after', ca => "$dir/server2.pem");
ok($after, 'a new connection gets the new certificate');
is($before->cmd('/ping'), '+PONG', 'the old connection goes on');
open my $fh, '>', "$dir/live.pem" or die;
print $fh "not a certificate\n";
close $fh;
ok($srv->signal('HUP'), 'SIGHUP with a broken certificate');
ok($srv->wait_log(qr/reload: cannot load the certificate .*live\.pem.*: the old certificate stays/),
    'the error is logged');
my $still = $srv->tls_client(label => 'still', ca => "$dir/server2.pem");
ok($still && $still->cmd('/ping') eq '+PONG',
    'new connections get the certificate loaded before');
is($srv->stop, 0, 'exit 0');
copy("$dir/server.pem", "$dir/live.pem");
copy("$dir/server.key", "$dir/live.key");

# --tls-ca: client certificates, their subject in conn.cert.
$srv = Linecast->start(@tls, '--tls-ca', "$dir/ca.pem", $who);
my $alice = $srv->tls_client(label => 'alice', cert => "$dir/alice.pem",
    key => "$dir/alice.key");
ok($alice, 'a client with a certificate from the CA');
is($alice->cmd('/whoami'), '+WHOAMI tls=true cert=CN=alice,O=Example',
    'conn.cert is its subject');
like($srv->log, qr/conn open .* cert="CN=alice,O=Example"$/m, 'logged');
for my $who (['no certificate'], ['a rogue CA\'s', "$dir/mallory"]) {
	my ($what, $base) = @$who;
	my $c = $srv->tls_client(label => $what, nohello => 1,
	    $base ? (cert => "$base.pem", key => "$base.key") : ());
	my $line = $c ? $c->line(3) : undef;
	ok(!defined $line || $line !~ /^\+HELLO/, "$what: refused");
}
ok($srv->wait_log(qr/tls handshake failed .*certificate/),
    'the refusals are logged');
is($srv->stop, 0, 'exit 0');

# auth.lua trusts a certificate that names a registered user.
my $src = $ENV{LINECAST_SRCDIR} // "$Bin/..";
open my $pw, '>', "$dir/passwd" or die;
print $pw "alice:wonderland\n";
close $pw;
$srv = Linecast->start({ env => { LINECAST_PASSWD => "$dir/passwd" } },
    @tls, '--tls-ca', "$dir/ca.pem", "$src/lua/auth.lua", $who);
$alice = $srv->tls_client(label => 'alice', cert => "$dir/alice.pem",
    key => "$dir/alice.key", nohello => 1);
like($alice->line, qr/^\+HELLO linecast\/\S+ name=alice /,
    'auth.lua: CN=alice, registered: logged in, no prompt');
ok($srv->wait_log(qr/auth\.lua: login by certificate name=alice /),
    'the certificate login is logged');
my $carol = $srv->tls_client(label => 'carol', cert => "$dir/carol.pem",
    key => "$dir/carol.key", nohello => 1);
like($carol->line, qr/^\* login: /, 'CN=carol, not registered: the prompt');
is($srv->stop, 0, 'exit 0');

# --port none: TLS only.
$srv = Linecast->start(@tls, '--port', 'none');
unlike($srv->log, qr/listening on \S+$/m, '--port none: no plain listener');
ok($srv->tls_client, 'the TLS port works');
is($srv->stop, 0, 'exit 0');

# linecast-bench --tls: every message arrives, in order.
my $bench = $ENV{LINECAST_BENCH} // '';
SKIP: {
	skip 'no linecast-bench (LINECAST_BENCH)', 3 unless -x $bench;
	$srv = Linecast->start(@tls);
	my $out = `$bench fanout --tls -p @{[$srv->tls_port]} -P 1 -S 4 -n 2000 --json 2>&1`;
	is($? >> 8, 0, 'linecast-bench --tls: exit 0') or diag($out);
	like($out, qr/"delivered":8000\b/, '2000 messages to each of 4');
	like($out, qr/"missing":0\b.*"out_of_order":0\b/, 'none missing or late');
	$srv->stop;
}

# Start-up errors.
my $r = Linecast->run('--port', '0', '--tls-port', '0');
is($r->{exit}, 2, '--tls-port without files: exit 2');
like($r->{stderr}, qr/--tls-port needs --tls-cert and --tls-key/, 'said');
$r = Linecast->run('--port', 'none');
is($r->{exit}, 2, '--port none alone: exit 2');
$r = Linecast->run('--port', '0', '--tls-port', '0', '--tls-cert',
    "$dir/ca.pem", '--tls-key', "$dir/server.key");
is($r->{exit}, 1, 'a key that does not match: exit 1');
like($r->{stderr}, qr/cannot load the key .*mismatch/, 'said');
$r = Linecast->run('--port', '0', '--tls-port', '0', '--tls-cert',
    "$dir/openssl.out", '--tls-key', "$dir/server.key");
is($r->{exit}, 1, 'a file that is no certificate: exit 1');
like($r->{stderr}, qr/cannot load the certificate/, 'said');

done_testing;
