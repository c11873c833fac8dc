#!/usr/bin/perl
# Log floods: a publish hook that fails on every message logs one
# traceback, and the same error repeated is logged once with a count;
# hook_errors still counts each failure, and each client still gets its
# -ERR script-error.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $N = 3000;

my $script = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.on("publish", function(msg)
  if msg.text:sub(1, 4) == "same" then error("fails on every message") end
  if msg.text:sub(1, 4) == "vary" then error("fails on " .. msg.text) end
end)
EOF_LUA

my $srv = Linecast->start($script);
my $c = $srv->client;

# Sends $n lines made by $make and reads their $n replies.
sub flood
{
	my ($make, $n) = @_;
	$c->send_raw(join('', map { $make->($_) . "\n" } 1 .. $n), 30);
	my $errors = 0;
	while (defined(my $l = $c->line(10))) {
		$errors++ if $l eq '-ERR script-error';
		last if $errors == $n;
	}
	return $errors;
}

is(flood(sub { "same $_[0]" }, $N), $N, "$N failing publishes: $N errors");
is($c->stats->{hook_errors}, $N, 'hook_errors counts each');
my $log = $srv->log;
my @same = $log =~ /fails on every message/g;
is(scalar @same, 1, 'the repeated error is logged once so far');

# Another error ends the repeats: their count is logged, in one line.
is(flood(sub { "vary $_[0]" }, 100), 100, '100 different errors');
ok($srv->wait_log(qr/fails on every message \(repeated @{[$N - 1]} times in [\d.e+-]+ s\)\n/),
    'then the repeats are told with their count');
$log = $srv->log;
my @vary = $log =~ /fails on vary \d+\n/g;
is(scalar @vary, 100, 'each different error is logged');
my @tracebacks = $log =~ /stack traceback:/g;
is(scalar @tracebacks, 1, 'with one traceback in all')
    or diag($log);
is($c->stats->{hook_errors}, $N + 100, 'hook_errors counts them all');

# A repeat counted at the end is told when the server stops.
is(flood(sub { "same again" }, 10), 10, '10 more of one error');
is($srv->stop, 0, 'stops');
like($srv->log, qr/fails on every message \(repeated 9 times in [\d.e+-]+ s\)\n/,
    'the last repeats are told at exit');

done_testing();
