#!/usr/bin/perl
# A 10 MB line without a newline, sent in chunks: the server answers
# -ERR line-too-long once, its memory stays bounded, and the next line
# works. Other connections are served meanwhile.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(time);

my $srv = Linecast->start;
my $a = $srv->client(label => 'talker');
my $b = $srv->client(label => 'listener');
$a->expect('* join lobby guest2');
is($a->cmd('/ping warm'), '+PONG warm');

my $rss0 = $srv->rss_kb;
ok(defined $rss0, "server RSS at start: ${\ ($rss0 // '?')} kB");
my $chunk = 'x' x 65536;
my $total = 10 * 1024 * 1024;
my ($sent, $max_rss, $ok) = (0, $rss0 // 0, 1);
my $t0 = time;
while ($sent < $total) {
	if (!$a->send_raw($chunk, 10)) {
		$ok = 0;
		diag("write stalled after $sent bytes: " . ($a->error // ''));
		last;
	}
	$sent += length $chunk;
	if ($sent % (512 * 1024) == 0) {
		my $rss = $srv->rss_kb // 0;
		$max_rss = $rss if $rss > $max_rss;
		# Others are served while the long line streams in.
		if ($sent % (4 * 1024 * 1024) == 0) {
			is($b->cmd("/ping mid$sent", 5), "+PONG mid$sent",
			    "another client is answered after $sent bytes");
		}
	}
}
ok($ok, 'the server reads all 10 MB (it discards, it does not stop reading)');
my $rss1 = $srv->rss_kb // 0;
$max_rss = $rss1 if $rss1 > $max_rss;
my $growth = $max_rss - ($rss0 // 0);
SKIP: {
	skip 'RSS is not bounded under a sanitizer', 1 if Linecast::sanitized();
	cmp_ok($growth, '<', 20 * 1024,
	    "RSS grew by $growth kB (< 20 MB) for a 10 MB line");
}

ok($a->send_raw("\n/ping after\n"), 'end the line, then a command');
my @lines = $a->lines_until(qr/^\+PONG after$/, 10);
is_deeply(\@lines, ['-ERR line-too-long 4096', '+PONG after'],
    'one -ERR line-too-long, then the next line works');
$a->send('normal text');
$b->expect('lobby <guest1> normal text', 'text works again');
$b->expect_none('nothing of the long line was published');

# Again with CRLF and a long line split at odd places.
ok($a->send_raw(('y' x 10000) . "\r"), 'a long line ending in CR');
ok($a->send_raw("\nok\r\n"), 'LF, then a short line');
$a->expect('-ERR line-too-long 4096');
$b->expect('lobby <guest1> ok', 'the short line after it arrives');

$srv->rss_ok($rss0, 20 * 1024, 'RSS still bounded');
is($srv->stop, 0, 'clean exit');

done_testing;
