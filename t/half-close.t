#!/usr/bin/perl
# A client that sends its lines and shuts down its side (as "printf ... |
# nc" does): its lines are processed, its replies sent, then it is closed
# and the others see it quit with eof.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start;
my $obs = $srv->client(label => 'observer');
my $nc = $srv->client(label => 'nc');
$obs->expect('* join lobby guest2');

ok($nc->send_raw("/nick pipe\nhello from a pipe\n/ping last\n"), 'three lines');
ok(shutdown($nc->fh, 1), 'then shutdown(SHUT_WR)');
$nc->expect('+NICK pipe', 'the /nick is answered');
$nc->expect('+PONG last', 'the /ping too');
ok($nc->is_closed, 'then the server closes');
$obs->expect('* nick guest2 pipe');
$obs->expect('lobby <pipe> hello from a pipe', 'the text was published');
$obs->expect('* quit pipe eof', 'quit with eof');

# Many lines then EOF at once: all processed.
my $nc2 = $srv->client(label => 'nc2');
$obs->expect('* join lobby guest3');
ok($nc2->send_raw(join('', map { "line $_\n" } 1 .. 500) . "/ping end\n"),
    '500 lines and a /ping');
shutdown($nc2->fh, 1);
my @l = $nc2->lines_until(qr/^\+PONG end$/, 10);
is($l[-1], '+PONG end', 'the /ping after 500 lines is answered');
ok($nc2->is_closed, 'closed');
my $n = grep { /^lobby <guest3> line \d+$/ } $obs->lines_until(qr/^\* quit guest3 /, 10);
is($n, 500, 'all 500 lines were published before the quit');

# A last line without LF at EOF is not a line.
my $nc3 = $srv->client(label => 'nc3');
$obs->expect('* join lobby guest4');
$nc3->send_raw("/ping done\nno newline");
shutdown($nc3->fh, 1);
$nc3->expect('+PONG done');
ok($nc3->is_closed, 'closed');
$obs->expect('* quit guest4 eof', 'an unterminated last line is not published');

done_testing;
