#!/usr/bin/perl
# --idle-timeout: a connection that sends nothing for that long is told
# "* closing idle-timeout" and closed; one that talks stays.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time sleep);

my $srv = Linecast->start('--idle-timeout', '1');
my $t0 = time;
my $idle = $srv->client(label => 'idle');
my $busy = $srv->client(label => 'busy');

# The busy one pings every 0.2 s and watches for the idle one's quit.
my ($quit, @busy_lines);
while (time - $t0 < 8) {
	$busy->send('/ping keepalive');
	for my $l ($busy->lines_for(0.2)) {
		next if $l eq '+PONG keepalive';
		push @busy_lines, $l;
		$quit = $l if $l =~ /^\* quit /;
	}
	last if $quit && time - $t0 > 2.5;
}
is($quit, '* quit ' . $idle->name . ' idle-timeout',
    'the others see the idle one quit with idle-timeout');
my @idle_lines = $idle->lines_until(qr/^\* closing /, 1);
is($idle_lines[-1], '* closing idle-timeout', 'the idle one is told why');
ok($idle->is_closed(5), 'and closed');
my $after = time - $t0;
ok(!$busy->eof, sprintf('the busy one is still connected after %.1f s', $after));
is($busy->cmd('/ping still'), '+PONG still', 'and served');

# Receiving messages does not count as activity, sending does.
my $listener = $srv->client(label => 'listener');
my $talker = $srv->client(label => 'talker');
$t0 = time;
my $closed_at;
while (time - $t0 < 8) {
	$talker->send('chatter');
	$talker->lines_for(0.2);
	$busy->send('/ping k');
	$busy->lines_for(0.01);
	if ($listener->is_closed(0)) {
		$closed_at = time - $t0;
		last;
	}
}
ok(defined $closed_at, 'a connection that only listens is closed too');
my @l;
while (defined(my $x = $listener->line(0))) {
	push @l, $x;
}
is($l[-1] // 'nothing', '* closing idle-timeout', 'with * closing idle-timeout');
ok(!$talker->eof, 'the talker stays');

# Without --idle-timeout nobody is closed for silence.
my $srv2 = Linecast->start;
my $quiet = $srv2->client(label => 'quiet');
sleep 2.5;
ok(!$quiet->is_closed(0), 'no idle timeout by default');
is($quiet->cmd('/ping'), '+PONG');

done_testing;
