#!/usr/bin/perl
# Logging for services: the listening line at every level, an info line
# for each connection's open and close, JSON lines, and no timestamp of
# our own under journald or when asked.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use JSON::PP;
use Linecast;

my $stamp = qr/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z linecast /;

# At --log-level error, nothing but the listening line (and errors).
my $srv = Linecast->start('--log-level', 'error');
my $c = $srv->client;
$c->cmd('/quit');
is($srv->stop, 0, 'error level: exit 0');
like($srv->log, qr/^${stamp}info: listening on 127\.0\.0\.1:\d+$/m,
    'listening on is logged at --log-level error');
unlike($srv->log, qr/conn open|conn closed|shutting down/,
    'and nothing else at info');

# Plain: an open and a close line with their fields.
$srv = Linecast->start;
$c = $srv->client;
$c->send('/nick alice');
$c->expect('+NICK alice');
$c->send('hello there');
is($c->cmd('/quit going home'), '+BYE', 'quit');
ok($srv->wait_log(qr/conn closed/), 'a close line');
my $port = $srv->port;
like($srv->log, qr/^${stamp}info: conn open conn=1 addr=127\.0\.0\.1:\d+$/m,
    'open: conn and addr');
my ($close) = $srv->log =~ /^(.*conn closed.*)$/m;
like($close, qr/^${stamp}info: conn closed conn=1 addr=127\.0\.0\.1:\d+ name=alice reason="going home" duration=\d+\.\d{3} lines=3 bytes_in=(\d+) bytes_out=(\d+)$/,
    'close: name, a quoted reason, duration, lines, bytes');
my ($in, $out) = $close =~ /bytes_in=(\d+) bytes_out=(\d+)/;
is($in, length("/nick alice\nhello there\n/quit going home\n"),
    'bytes_in counts what it sent');
cmp_ok($out, '>', length("+NICK alice\n+BYE\n"), 'bytes_out counts replies');
is($srv->stop, 0, 'exit 0');

# JSON: every line is one object; numbers are numbers.
$srv = Linecast->start('--log-format', 'json');
$c = $srv->client;
$c->send("/quit");
ok($srv->wait_log(qr/conn closed/), 'json: a close line');
is($srv->stop, 0, 'json: exit 0');
my @objs;
my $all_json = 1;
for my $line (split /\n/, $srv->log) {
	my $o = eval { JSON::PP->new->decode($line) };
	$all_json = 0, diag("not JSON: $line") unless ref $o eq 'HASH';
	push @objs, $o if ref $o eq 'HASH';
}
ok($all_json && @objs >= 4, 'every line is a JSON object');
like($objs[0]{time} // '', qr/^\d{4}-\d\d-\d\dT[\d:.]+Z$/, 'with a time');
my ($listen) = grep { $_->{msg} =~ /^listening on / } @objs;
is($listen->{level}, 'info', 'listening: level info');
my ($cl) = grep { $_->{msg} eq 'conn closed' } @objs;
is($cl->{reason}, 'quit', 'close: reason field');
is($cl->{conn}, 1, 'conn is a number');
ok(!ref $cl->{lines} && $cl->{lines} =~ /^\d+$/ &&
    JSON::PP->new->encode([$cl->{lines}]) eq "[$cl->{lines}]",
    'lines is a JSON number, not a string');

# Under journald: no time of ours, the syslog priority first.
$srv = Linecast->start({ journal => 1 }, '--log-level', 'debug');
$srv->client->send('/quit');
ok($srv->wait_log(qr/conn closed/), 'journal: a close line');
is($srv->stop, 0, 'journal: exit 0');
like($srv->log, qr/^<6>linecast info: listening on /m,
    'journal: <6> and no timestamp');
unlike($srv->log, qr/^\d{4}-/m, 'journal: no line has a timestamp');

# --log-time yes keeps it under the journal; no drops it anywhere.
$srv = Linecast->start({ journal => 1 }, '--log-time', 'yes');
is($srv->stop, 0, 'journal, --log-time yes: exit 0');
like($srv->log, qr/^<6>\d{4}-\d\d-\d\dT[\d:.]+Z linecast info: listening/m,
    'the timestamp stays when asked');
$srv = Linecast->start('--log-time', 'no');
is($srv->stop, 0, '--log-time no: exit 0');
like($srv->log, qr/^linecast info: listening on /m, 'no timestamp');

# A JOURNAL_STREAM for another file is not the journal.
$srv = Linecast->start({ env => { JOURNAL_STREAM => '1:1' } });
is($srv->stop, 0, 'a stale JOURNAL_STREAM: exit 0');
like($srv->log, $stamp, 'stderr is not the journal: timestamps');

my $r = Linecast->run('--log-format', 'xml');
is($r->{exit}, 2, 'a bad --log-format: exit 2');
like($r->{stderr}, qr/allowed: plain or json/, 'it says what is allowed');

done_testing;
