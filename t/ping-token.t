#!/usr/bin/perl
# /ping TOKEN sends the token back whole: its control bytes, NUL
# included, as '?' (a NUL used to cut it short, an escape went through),
# and as they are with --allow-control.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start;
my $c = $srv->client;
is($c->cmd("/ping a\x1b[31mb\x00c\x7fd\te"), "+PONG a?[31mb?c?d\te",
    'control bytes come back as ?, TAB as it is');
is($c->cmd("/ping \x00"), '+PONG ?', 'a NUL alone is not an empty token');
is($c->cmd('/ping plain token'), '+PONG plain token', 'plain text as it is');

my $raw = Linecast->start('--allow-control');
$c = $raw->client;
is($c->cmd("/ping a\x1bb\x00c"), "+PONG a\x1bb\x00c",
    '--allow-control: the bytes as they are');

done_testing();
