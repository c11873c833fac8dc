#!/usr/bin/perl
# --slow-consumer disconnect: a subscriber that does not read is sent
# -ERR slow-consumer and closed when its output passes --max-pending; the
# others go on, and its channel mates see it quit with slow-consumer.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $N = 60000;
my $srv = Linecast->start('--default-channel', '', '--max-pending', '64k',
    '--slow-consumer', 'disconnect');
my $slow = $srv->client(label => 'slow', rcvbuf => 4096);
my $fast = $srv->client(label => 'fast');
my $pub = $srv->client(label => 'publisher');
my $mate = $srv->client(label => 'mate');
is($slow->cmd('/nick slowpoke'), '+NICK slowpoke');
is($slow->cmd('/join room'), '+JOIN room 1');
is($mate->cmd('/join room'), '+JOIN room 2');
$slow->expect('* join room guest4');
is($slow->cmd('/sub flood'), '+SUB flood');
is($fast->cmd('/sub flood'), '+SUB flood');
is($pub->cmd('/nick pub'), '+NICK pub');
is($pub->cmd('/join flood'), '+JOIN flood 1');

my $r = Linecast->flood($pub, $fast, $N);
is($r->{received}, $N, "the fast subscriber gets all $N");
ok($r->{in_order}, 'in order');
is($pub->cmd('/ping pub', 10), '+PONG pub', 'the publisher is answered');

ok($slow->is_closed(20), 'the slow subscriber is disconnected');
my @lines;
while (defined(my $l = $slow->line(0))) {
	push @lines, $l;
}
like($lines[-1] // '', qr/^-ERR slow-consumer\b/, 'its last line is -ERR slow-consumer');
my $msgs = grep { /^flood <pub> / } @lines;
ok($msgs < $N, "it got $msgs messages before that");
is(scalar(grep { !/^flood <pub> \d{6} x{190}$/ && !/^-ERR slow-consumer\b/ } @lines), 0,
    'nothing else');

my @m = $mate->lines_until(qr/^\* quit /, 10);
is($m[-1], '* quit slowpoke slow-consumer', 'its channel mate sees the quit');
is($mate->cmd('/who room'), '+WHO room guest4', 'it has left the channel');
is($pub->cmd('/pub flood after'), '+PUB flood 1', 'only the fast one is left');

done_testing;
