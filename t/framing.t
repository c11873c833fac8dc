#!/usr/bin/perl
# Framing: LF and CRLF, a lone CR kept, empty lines ignored, "//" escapes
# a leading slash, telnet IAC sequences removed, control bytes replaced by
# '?' (kept with --allow-control), and the max_line boundary.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start;
my $a = $srv->client(label => 'a');
my $b = $srv->client(label => 'b');
$a->expect('* join lobby guest2');
is($a->cmd('/nick alice'), '+NICK alice');
$b->expect('* nick guest1 alice');
is($b->cmd('/nick bob'), '+NICK bob');
$a->expect('* nick guest2 bob');

# Line ends.
$a->send_raw("/ping crlf\r\n");
$a->expect('+PONG crlf', 'CRLF ends a command');
$a->send_raw("lf only\n");
$b->expect('lobby <alice> lf only', 'LF ends a line');
$a->send_raw("crlf\r\n");
$b->expect('lobby <alice> crlf', 'CRLF ends a line, the CR is removed');
$a->send_raw("in\rside\n");
$b->expect('lobby <alice> in?side', 'a lone CR is kept (and shown as ?)');
$a->send_raw("two\r\r\n");
$b->expect('lobby <alice> two?', 'only the CR right before the LF is removed');
$a->send_raw("split ");
$a->send_raw("across ");
$a->send_raw("writes\r");
$a->send_raw("\n");
$b->expect('lobby <alice> split across writes', 'a line split across writes');

# Empty lines.
$a->send_raw("\n\r\n\n\r\n/ping after-empty\n");
$a->expect('+PONG after-empty', 'empty lines get no reply');
$b->expect_none('and publish nothing');
is($a->cmd('/part'), '+PART lobby');
$b->expect('* part lobby alice');
$a->send_raw("\n\r\n/ping no-channel\n");
$a->expect('+PONG no-channel', 'empty lines without a channel: no -ERR either');
is($a->cmd('/join lobby'), '+JOIN lobby 2');
$b->expect('* join lobby alice');

# A leading slash is escaped by doubling it.
$a->send('//etc/passwd is a path');
$b->expect('lobby <alice> /etc/passwd is a path', '//text publishes /text');
$a->send('//');
$b->expect('lobby <alice> /', '// publishes /');
$a->send('///x');
$b->expect('lobby <alice> //x', '///x publishes //x');
$a->send(' /not a command');
$b->expect('lobby <alice>  /not a command', 'a slash after a space is text');

# Telnet. A telnet client that sends IAC DO TIMING-MARK (with Ctrl-C)
# discards output until it is answered, so the server may answer with
# IAC WILL/WONT TIMING-MARK, which then comes before its next line.
sub telnet_line
{
	my ($c) = @_;
	my $l = $c->line;
	$l =~ s/^(?:\xff[\xfb-\xfe].)+//s if defined $l;
	return $l // 'nothing';
}
$a->send_raw("\xff\xf4\xff\xfd\x06hello\r\n");
$b->expect('lobby <alice> hello', 'IAC IP, IAC DO TIMING-MARK are removed');
$a->send_raw("he\xff\xf4llo again\r\n");
$b->expect('lobby <alice> hello again', 'an IAC sequence inside a line');
$a->send_raw("\xff\xfb\x01\xff\xfe\x03wi\xff\xfc\x18ll\r\n");
$b->expect('lobby <alice> will', 'WILL/DONT/WONT with their option byte');
$a->send_raw("\xff\xf4\xff\xfd\x06\r\n/ping ctrl-c\r\n");
like(telnet_line($a), qr/^\+PONG ctrl-c$/, 'Ctrl-C then Enter: no reply');
$b->expect_none('and no garbage published');
$a->send_raw("/ping \xff\xf4\xff\xfd\x06tm\r\n");
like(telnet_line($a), qr/^\+PONG tm$/, 'IAC removed from commands too');
$a->send_raw("\xff\xfd\x06/ping tm2\r\n");
my $l = $a->line // '';
like($l, qr/^(\xff[\xfb\xfc]\x06)?\+PONG tm2$/,
    'DO TIMING-MARK is answered by nothing or by WILL/WONT TIMING-MARK')
    or diag(Linecast::show($l));

# Control bytes.
$a->send("bell\x07 esc\x1b[31mred nul\x00 del\x7f tab\tend");
$b->expect("lobby <alice> bell? esc?[31mred nul? del? tab\tend",
    'control bytes become ?, TAB stays');
my $ctl = join('', map { chr } 0 .. 8, 11 .. 12, 14 .. 31, 127);
$a->send($ctl . 'x');
$b->expect('lobby <alice> ' . ('?' x length $ctl) . 'x', 'every control byte');
is($a->cmd("/pub lobby \x1b]0;pwned\x07"), '+PUB lobby 1', '/pub with escapes');
$b->expect('lobby <alice> ?]0;pwned?', '/pub text is cleaned too');
is($a->cmd("/msg bob \x1b[2J"), '+MSG bob', '/msg with escapes');
$b->expect('@bob <alice> ?[2J', 'private text is cleaned too');
$a->send("\xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80 \x80\xfe");
$b->expect("lobby <alice> \xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80 \x80\xfe",
    'bytes >= 0x80 (UTF-8 or not) are passed through');

# The max_line boundary (4096 by default), for text and for commands.
my $prefix = 'lobby <alice> ';
my $max = 'm' x 4096;
$a->send($max);
$b->expect($prefix . $max, 'a line of max_line bytes is published');
$a->send_raw($max . "\r\n");
$b->expect($prefix . $max, 'the same with CRLF');
$a->send_raw($max . "\r");
$a->send_raw("\n");
$b->expect($prefix . $max, 'the same with the CR and LF in two writes');
$a->send_raw($max . "\rx\n");
$a->expect('-ERR line-too-long 4096', 'a lone CR after max_line bytes makes it too long');
$a->send('m' x 4097);
$a->expect('-ERR line-too-long 4096', 'one byte more is too long');
$b->expect_none('and is not published');
is($a->cmd('/ping still-here'), '+PONG still-here', 'the connection still works');
$a->send('/ping ' . ('p' x 4090));
$a->expect('+PONG ' . ('p' x 4090), 'a command of max_line bytes');
$a->send('/ping ' . ('p' x 4091));
$a->expect('-ERR line-too-long 4096', 'a command one byte longer');
$a->send_raw(('z' x 5000) . "\n/ping next\n");
$a->expect('-ERR line-too-long 4096', 'one reply for the long line');
$a->expect('+PONG next', 'the next line in the same write works');
$a->send_raw(('y' x 4097) . "\nshort one\n");
$a->expect('-ERR line-too-long 4096');
$b->expect('lobby <alice> short one', 'text after a long line is published');
$b->expect_none('and nothing of the long line');

# --allow-control keeps control bytes.
my $srv2 = Linecast->start('--allow-control');
my $c = $srv2->client(label => 'c');
my $d = $srv2->client(label => 'd');
$c->expect('* join lobby guest2');
$c->send("bell\x07 esc\x1b[31mred del\x7f");
$d->expect("lobby <guest1> bell\x07 esc\x1b[31mred del\x7f",
    '--allow-control: control bytes are delivered');
$c->send_raw("in\rside\r\n");
$d->expect("lobby <guest1> in\rside", '--allow-control: a lone CR is delivered');
$c->send_raw("\xff\xf4\xff\xfd\x06hello\r\n");
$d->expect('lobby <guest1> hello', 'telnet sequences are still removed');

# A clean line needs no sanitizing, but what hooks make of it does: a
# publish hook and a line hook that put control bytes in, a publish hook
# that passes the line as it is, and one that returns a copy.
my $hooks = Linecast->script(<<'EOF_LUA');
local lc = require "linecast"
lc.on("line", function(conn, line)
  if line == "line-esc" then return "from line \27[1m" end
end)
lc.on("publish", function(msg)
  if msg.text == "pub-esc" then return "from publish \7\27[2J" end
  if msg.text == "pub-copy" then return msg.text .. "\0" end
end)
EOF_LUA
my $srv3 = Linecast->start($hooks);
my $e = $srv3->client(label => 'e');
my $f = $srv3->client(label => 'f');
$e->expect('* join lobby guest2');
$e->send('pub-esc');
$f->expect('lobby <guest1> from publish ??[2J',
    'a publish hook rewriting a clean line: its control bytes become ?');
$e->send('line-esc');
$f->expect('lobby <guest1> from line ?[1m',
    'a line hook rewriting a clean line: the same');
$e->send('pub-copy');
$f->expect('lobby <guest1> pub-copy?', 'a copy with a NUL: the same');
is($e->cmd('/pub lobby pub-esc'), '+PUB lobby 1', '/pub through the hook');
$f->expect('lobby <guest1> from publish ??[2J', 'and cleaned');
$e->send("clean \x1b line");
$f->expect('lobby <guest1> clean ? line', 'a line the hooks pass is cleaned');
$e->send('clean line');
$f->expect('lobby <guest1> clean line', 'and a clean one passes as it is');

done_testing;
