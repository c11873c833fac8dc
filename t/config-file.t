#!/usr/bin/perl
# The default config file: read when no --config is given, scripts named
# without a '/' found in its directory and then among the stock scripts,
# and SIGHUP reading it again (live settings applied, others logged).

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Linecast;

my $etc = tempdir('linecast-etc-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $share = tempdir('linecast-share-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $conf = "$etc/linecast.conf";

sub write_file
{
	my ($path, $text) = @_;
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
}

# A script that greets with where it was found.
sub greeter
{
	my ($path, $word) = @_;
	write_file($path, <<"EOS");
local lc = require "linecast"
lc.on("connect", function(conn) conn:send("* from $word") end)
EOS
}

greeter("$etc/greet.lua", 'etc');
greeter("$share/greet.lua", 'share');
greeter("$share/stock.lua", 'stock');
write_file($conf, <<'EOS');
return { default_channel = "hall", max_line = 100,
    scripts = { "greet.lua", "stock.lua" } }
EOS

my %env = (LINECAST_CONFIG => $conf, LINECAST_DATADIR => $share);
my $srv = Linecast->start({ env => \%env });
my $a = $srv->connect(label => 'a');
$a->expect('* from etc', 'a name without / is found in the file\'s dir');
$a->expect('* from stock', 'then among the stock scripts');
like($a->line, qr/^\+HELLO .* channel=hall$/,
    'the default file is read without --config');
like($srv->log, qr/script \Q$etc\E\/greet\.lua$/m, 'the path is logged');

# SIGHUP: a live setting changes, one that takes a restart does not.
write_file($conf, <<'EOS');
return { default_channel = "den", max_line = 200, max_subs = 2,
    scripts = { "greet.lua", "stock.lua" } }
EOS
ok($srv->signal('HUP'), 'SIGHUP');
ok($srv->wait_log(qr/reload: --default-channel changed/),
    'the changed default channel is logged');
ok($srv->wait_log(qr/reload: --max-line changed: it takes a restart/),
    'so is a change that takes a restart');
ok($srv->wait_log(qr/reloaded 2 scripts/), 'then the scripts are reloaded');
my $b = $srv->connect(label => 'b');
$b->expect('* from etc');
$b->expect('* from stock');
like($b->line, qr/ channel=den$/, 'a new connection joins the new channel');
is($b->cmd('/sub a'), '+SUB a', 'one sub');
is($b->cmd('/sub b'), '+SUB b', 'two');
like($b->cmd('/sub c'), qr/^-ERR too-many-subs/, '--max-subs 2 is live');
is($b->cmd('x' x 150), '-ERR line-too-long 100',
    '--max-line keeps its old value');
is($a->cmd('/ping'), '+PONG', 'a is still connected');

# A file broken on SIGHUP changes nothing.
write_file($conf, "return { default_channel = ");
ok($srv->signal('HUP'), 'SIGHUP with a broken file');
ok($srv->wait_log(qr/reload: .*linecast\.conf.*: the old settings stay/),
    'the error is logged');
my $c = $srv->connect(label => 'c');
$c->expect('* from etc');
$c->expect('* from stock');
like($c->line, qr/ channel=den$/, 'the settings stay');
is($srv->stop, 0, 'exit 0');

# --config: the default file is not read (even a broken one).
my $other = "$etc/other.conf";
write_file($other, "return { default_channel = 'side' }\n");
$srv = Linecast->start({ env => \%env }, '--config', $other);
like($srv->client->hello, qr/ channel=side$/, '--config wins');
is($srv->stop, 0, 'exit 0');

# A broken default file keeps the server from starting, naming it.
my $r = Linecast->run({ env => \%env }, '--port', '0');
is($r->{exit}, 2, 'a broken default file: exit 2');
like($r->{stderr}, qr/\Q$conf\E/, 'the message names the file');

# Without a config file, a bare name is found among the stock scripts.
$srv = Linecast->start({ env => { LINECAST_CONFIG => '',
    LINECAST_DATADIR => $share } }, 'stock.lua');
my $d = $srv->connect(label => 'd');
$d->expect('* from stock', 'linecast stock.lua runs the stock script');
is($srv->stop, 0, 'exit 0');

# The file --print-config prints is a config file that starts the server.
$r = Linecast->run('--print-config');
is($r->{exit}, 0, '--print-config: exit 0');
write_file("$etc/printed.conf", $r->{stdout});
$srv = Linecast->start('--config', "$etc/printed.conf");
like($srv->client->hello, qr/ channel=lobby$/, 'it runs with the defaults');
is($srv->stop, 0, 'exit 0');

done_testing;
