#!/usr/bin/perl
# A script that fails to load at start-up: the server does not start
# (exit 1) and says which file and line.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

sub run_script
{
	my ($code, @args) = @_;
	my $path = Linecast->script($code);
	my $r = Linecast->run({ timeout => 10 }, '--port', '0', @args, $path);
	return ($r, $path);
}

my ($r, $path) = run_script("local lc = require 'linecast'\n\nlc.on('line', function(\n");
is($r->{exit}, 1, 'a syntax error: exit 1');
like($r->{stderr}, qr/\Q$path\E:4: /, 'the message names the file and the line');
unlike($r->{stderr}, qr/listening on/, 'it never listened');

($r, $path) = run_script("local x = 1\nerror('not today')\n");
is($r->{exit}, 1, 'an error while running the script: exit 1');
like($r->{stderr}, qr/\Q$path\E:2: not today/, 'file, line and message');

($r, $path) = run_script("local lc = require 'linecast'\nlc.on('lines', print)\n");
is($r->{exit}, 1, 'a bad lc.on event: exit 1');
like($r->{stderr}, qr/\Q$path\E:2: .*invalid option 'lines'/, 'names the event');

($r, $path) = run_script("local lc = require 'linecast'\nlc.sleep(1)\n");
is($r->{exit}, 1, 'lc.sleep at load time: exit 1');
like($r->{stderr}, qr/\Q$path\E:2: .*can only wait inside a hook/, 'says why');

($r, $path) = run_script("while true do end\n", '--script-timeout', '0.2');
is($r->{exit}, 1, 'a script that never ends loading: exit 1');
like($r->{stderr}, qr/script timeout/, 'aborted by the timeout');
like($r->{stderr}, qr/\Q$path\E:1:/, 'the file and line are named');

my $good = Linecast->script("return 1\n");
$r = Linecast->run({ timeout => 10 }, '--port', '0', $good, '/nonexistent/x.lua');
is($r->{exit}, 1, 'a missing script: exit 1');
like($r->{stderr}, qr{/nonexistent/x\.lua}, 'names it');

# Scripts run in order at start-up; a good one loads.
my $first = Linecast->script("order = 'first'\n");
my $second = Linecast->script("local lc = require 'linecast'\n"
    . "lc.command('order', function() return '+ORDER ' .. order end)\n");
my $srv = Linecast->start($first, $second);
like($srv->log, qr/loaded 2 scripts/, 'two scripts loaded');
my $c = $srv->client;
is($c->cmd('/order'), '+ORDER first', 'in command-line order, in one state');
is($srv->stop, 0, 'exit 0');

done_testing;
