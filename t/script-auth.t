#!/usr/bin/perl
# lua/auth.lua: the login dialog on connect (conn:read), /nick NAME
# PASSWORD, refused registered names, failures, timeout, and the file.

use strict;
use warnings;
use Cwd qw(getcwd);
use File::Temp qw(tempdir);
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $script = "$Bin/../lua/auth.lua";
my $PROMPT = qr/^\* login: NAME PASSWORD, or NAME, or an empty line /;

my $dir = tempdir('linecast-auth-XXXXXX', TMPDIR => 1, CLEANUP => 1);
open my $fh, '>', "$dir/users" or die "$dir/users: $!";
print $fh "# name:password\nalice:wonderland\n\nBob:can we fix it: yes\n";
close $fh;

local $ENV{LINECAST_PASSWD} = "$dir/users";
local $ENV{LINECAST_LOGIN_TIMEOUT} = 1;
my $srv = Linecast->start($script);
ok($srv->wait_log(qr/2 registered names from \Q$dir\E\/users/),
    'the file is read: 2 names');

# Started first, finished last: three bad passwords sent at once (each
# costs a second of this connection's time only), and a silent client.
my $bad = $srv->connect(label => 'bad');
$bad->expect($PROMPT, 'the prompt comes before +HELLO');
$bad->send_raw("alice a\nalice b\nalice c\n");
my $mute = $srv->connect(label => 'mute');
$mute->expect($PROMPT);
my $t0 = time;

# Name and password: logged in, +HELLO with the name.
my $a = $srv->connect(label => 'a');
$a->expect($PROMPT);
$a->send('alice wonderland');
$a->read_hello;
is($a->name, 'alice', 'NAME PASSWORD logs in');

# An empty line: a guest.
my $g = $srv->connect(label => 'g');
$g->expect($PROMPT);
$g->send('');
$g->read_hello;
like($g->name, qr/^guest\d+$/, 'an empty line keeps the guest name');
$a->expect('* join lobby ' . $g->name);
ok(time - $t0 < 0.9, 'others are served while "bad" waits out its delay')
    or diag(time - $t0);

# /nick: registered names need their password; it goes no further.
my $guest = $g->name;
is($g->cmd('/nick bob'), '-ERR forbidden Bob is registered: /nick Bob PASSWORD',
    '/nick of a registered name without its password');
is($g->cmd('/nick bob can we fix it: no'), '-ERR forbidden bad password for Bob',
    'with a wrong password');
is($g->cmd('/NICK bob can we fix it: yes'), '+NICK Bob',
    'with the right one (a password may have spaces and colons)');
$a->expect("* nick $guest Bob", 'the others see the new name');
$a->expect_none('and nothing of the password');
is($g->cmd('/nick BOB'), '+NICK BOB', 'a case change of one\'s own name');
$a->expect('* nick Bob BOB');
is($g->cmd('/nick carol secret'),
    '-ERR forbidden carol is not registered: /nick carol takes it',
    'a password with a name that is not registered: refused, not a login');
is($g->cmd('/nick dave'), '+NICK dave', 'a free name without one');
$a->expect('* nick BOB dave', 'the refused /nick changed nothing');
is($g->cmd('/nick alice wonderland'), '-ERR name-taken alice',
    'the right password for a name in use');
is($g->cmd('/nick x'), '+NICK x', 'plain /nick still reaches the core');
$a->expect('* nick dave x');
is($g->cmd('/pub lobby /nick bob can we fix it: yes'), '+PUB lobby 1',
    'a /pub of such text is not taken for a /nick');
$a->expect('lobby <x> /nick bob can we fix it: yes');

# The dialog asks again after a failure.
my $c = $srv->connect(label => 'c');
$c->expect($PROMPT);
$c->send('bob');
$c->expect('* login failed: Bob is registered, give its password');
$c->expect($PROMPT, 'asked again');
$c->send('x');
$c->expect('* login failed: name-taken x');
$c->expect($PROMPT, 'asked a third time');
$c->send('Eve  ');
$c->read_hello;
is($c->name, 'Eve', 'then a free name');
$a->expect('* join lobby Eve');

# A password with a name that is not registered is no login.
my $d = $srv->connect(label => 'd');
$d->expect($PROMPT);
$d->send('zed secret');
$d->expect('* login failed: zed is not registered (answer zed alone to take it)',
    'a password with a free name fails the login');
$d->expect($PROMPT, 'asked again');
$d->send('zed');
$d->read_hello;
is($d->name, 'zed', 'the name alone takes it');
$a->expect('* join lobby zed');

# Three failures, and a silent client: refused.
for my $try (1 .. 2) {
	$bad->expect('* login failed: bad password for alice');
	$bad->expect($PROMPT, "asked again after failure $try");
}
my @rest = $bad->lines_until(qr/^-ERR /, 5);
is_deeply(\@rest, ['* login failed: bad password for alice',
    '-ERR refused login failed'], 'the third failure is refused')
    or diag explain \@rest;
ok($bad->is_closed(2), 'and closed');
$mute->expect('-ERR refused login timeout', 'no answer in time: refused');
ok($mute->is_closed(2), 'and closed');
is($a->cmd('/who'), '+WHO lobby Eve alice x zed', 'the refused never joined');
like($srv->log, qr/auth\.lua: login name=alice conn=\d+ addr=127\.0\.0\.1:\d+$/m,
    'a login is logged, with the address');
like($srv->log, qr/auth\.lua: bad password name=alice /, 'so is a failure');
like($srv->log, qr/auth\.lua: login by \/nick name=Bob /, 'and a /nick login');
unlike($srv->log, qr/wonderland|fix it/, 'never a password');
is($srv->stop, 0, 'exit 0');

# An explicit file that cannot be read: the script does not load.
{
	local $ENV{LINECAST_PASSWD} = "$dir/missing";
	my $r = Linecast->run('--port', '0', $script);
	is($r->{exit}, 1, 'LINECAST_PASSWD names a missing file: exit 1');
	like($r->{stderr}, qr/\Q$dir\E\/missing/, 'the log names it');
}

# No file at all: a warning, and every name is free.
{
	delete local $ENV{LINECAST_PASSWD};
	my $cwd = getcwd;
	chdir $dir or die "$dir: $!";	# no "passwd" here
	my $srv2 = Linecast->start($script);
	chdir $cwd;
	ok($srv2->wait_log(qr/no passwd file/), 'no file: a warning');
	my $z = $srv2->connect(label => 'z');
	$z->expect($PROMPT);
	$z->send('alice');
	$z->read_hello;
	is($z->name, 'alice', 'every name is free');
	is($srv2->stop, 0, 'exit 0');
}

done_testing;
