#!/usr/bin/perl
# --unix PATH: the server also listens on a Unix socket, and its clients
# talk with the TCP ones.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Linecast;

my $dir = tempdir('linecast-unix-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $path = "$dir/linecast.sock";
my $srv = Linecast->start('--unix', $path);
like($srv->log, qr/listening on unix:\Q$path\E/, 'the log names the socket');
ok(-S $path, 'the socket exists');

my $u = $srv->unix_client($path, label => 'unix');
like($u->hello, qr/^\+HELLO linecast\/0\.1\.0 name=guest\d+ channel=lobby$/,
    'a Unix-socket client is greeted');
my $t = $srv->client(label => 'tcp');
$u->expect('* join lobby ' . $t->name, 'and sees a TCP client join');
is($u->cmd('/nick unixer'), '+NICK unixer');
$t->expect('* nick ' . $u->name . ' unixer');
$u->send('over the unix socket');
$t->expect('lobby <unixer> over the unix socket', 'Unix to TCP');
$t->send('over tcp');
$u->expect('lobby <' . $t->name . '> over tcp', 'TCP to Unix');
is($t->cmd('/msg unixer psst'), '+MSG unixer');
$u->expect('@unixer <' . $t->name . '> psst', 'private');
is($u->cmd('/who'), '+WHO lobby ' . join(' ', sort('unixer', $t->name)));

$u->close;
$t->expect('* quit unixer eof', 'a Unix client leaving');
is($srv->stop, 0, 'exit status 0');

my $srv2 = Linecast->start('-u', "$dir/short.sock");
my $u2 = $srv2->unix_client("$dir/short.sock");
like($u2->hello, qr/^\+HELLO /, '-u PATH');

done_testing;
