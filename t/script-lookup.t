#!/usr/bin/perl
# lua/lookup.lua: /whois NAME answers with the connection's address and
# the host name of its IP, looked up on a worker thread (getent hosts)
# while the server goes on serving everyone else.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use File::Temp qw(tempdir);
use Socket qw(sockaddr_in);

my $lookup = "$Bin/../lua/lookup.lua";
my $dir = tempdir('linecast-lookup-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $sock = "$dir/sock";
my $srv = Linecast->start('--default-channel', '', '--unix', $sock, $lookup);
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
is($a->cmd('/nick alice'), '+NICK alice', 'a is alice');

my $r = $b->cmd('/whois ALICE');
like($r, qr/^\+WHOIS alice 127\.0\.0\.1:\d+ \S+$/,
    '/whois NAME (any case): +WHOIS NAME ADDR HOST');
my ($port, $host) = $r =~ /:(\d+) (\S+)$/;
is($port, (sockaddr_in(getsockname($a->fh)))[0],
    'ADDR is the peer address ip:port');
ok(length $host, "HOST is not empty ($host)");
my $getent = `getent hosts 127.0.0.1 2>/dev/null` // '';
SKIP: {
	skip 'getent hosts 127.0.0.1 gives no name here', 1
	    unless $getent =~ /^\S+\s+(\S+)/;
	is($host, $1, "HOST is what getent hosts says ($1)");
}

is($b->cmd('/whois nobody'), '-ERR no-such-name nobody',
    'an unknown name: -ERR no-such-name');
is($b->cmd('/whois'), '-ERR bad-args usage: /whois NAME', 'no name');
is($b->cmd('/whois a b'), '-ERR bad-args usage: /whois NAME',
    'two names');

# A Unix socket peer has no IP.
my $u = $srv->unix_client($sock, label => 'u');
is($u->cmd('/nick unixer'), '+NICK unixer', 'a Unix socket client');
is($b->cmd('/whois unixer'), '+WHOIS unixer unix local',
    'its address is "unix", its host "local"');

# Many lookups at once, from many connections: each gets its own answer.
my @c = map { $srv->client(label => "c$_") } 1 .. 8;
$c[$_]->send('/whois alice') for 0 .. 7;
is($b->cmd('/ping meanwhile'), '+PONG meanwhile', 'others are served');
like($_->line(10), qr/^\+WHOIS alice 127\.0\.0\.1:$port \Q$host\E$/,
    $_->label . ' gets the answer') for @c;

is($srv->stop, 0, 'exit 0');

# The worker checks its argument again: nothing but an IP reaches the
# shell, whoever calls it.
my $evil = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.command("evil", function(conn, args)
  local ok, err = pcall(lc.blocking, "lookup_host", args)
  return "+EVIL " .. tostring(ok) .. " " .. tostring(err):match("^[^\n]*")
end)
EOF_LUA
$srv = Linecast->start('--default-channel', '', $lookup, $evil);
my $e = $srv->client(label => 'e');
for my $arg ('127.0.0.1; touch $dir/owned', '127.0.0.1 \$(touch $dir/owned)',
    '1.2.3.4.5', '300.1.1.1', '::1;id', '`touch $dir/owned`') {
	like($e->cmd("/evil $arg"), qr/^\+EVIL false .*not an IP address/,
	    "lookup_host refuses '$arg'");
}
like($e->cmd('/evil ::1'), qr/^\+EVIL true \S+$/, 'but takes ::1');
ok(! -e "$dir/owned", 'nothing ran');
is($srv->stop, 0, 'exit 0');

done_testing;
