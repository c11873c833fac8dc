#!/usr/bin/perl
# --max-line sets the longest line (in bytes, k and m suffixes allowed).

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start('--max-line', '100');
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');
$b->send('x' x 100);
$a->expect('lobby <guest2> ' . ('x' x 100), '100 bytes are fine');
$b->send('x' x 101);
$b->expect('-ERR line-too-long 100', '101 are too long');
$a->expect_none('and not published');
$b->send('/ping ' . ('y' x 95));
$b->expect('-ERR line-too-long 100', 'commands too');
is($b->cmd('/ping ok'), '+PONG ok', 'the connection still works');
$b->send_raw(('z' x 1000) . "\r\n" . ('w' x 100) . "\r\n");
$b->expect('-ERR line-too-long 100');
$a->expect('lobby <guest2> ' . ('w' x 100), 'CRLF is not counted');
$srv->stop;

my $srv2 = Linecast->start('--max-line', '1k');
my $c = $srv2->client(label => 'c');
my $d = $srv2->client(label => 'd');
$c->expect('* join lobby guest2');
$d->send('k' x 1024);
$c->expect('lobby <guest2> ' . ('k' x 1024), '--max-line 1k: 1024 bytes fine');
$d->send('k' x 1025);
$d->expect('-ERR line-too-long 1024', '1025 too long');

my $srv3 = Linecast->start('--max-line', '64K');
my $e = $srv3->client(label => 'e');
my $f = $srv3->client(label => 'f');
$e->expect('* join lobby guest2');
$f->send('q' x 65536);
$e->expect('lobby <guest2> ' . ('q' x 65536), '--max-line 64K: 65536 bytes fine');
$f->send('q' x 65537);
$f->expect('-ERR line-too-long 65536', '65537 too long');

done_testing;
