# telnet's Ctrl-C sends IAC IP IAC DO TIMING-MARK without a line end and
# then discards what the server sends until it answers: the answer must
# come at once, not when the line ends, and only once.
use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use IO::Select;
use Linecast;

my $srv = Linecast->start;
my $c = $srv->client(label => 'telnet');
$c->send_raw("abc\xff\xf4\xff\xfd\x06");
my $sock = $c->{sock} // $c->{fh} // $c->{socket};
my $got = '';
my $sel = IO::Select->new($sock);
my $until = time + 3;
while (length($got) < 3 && time < $until) {
	last unless $sel->can_read(0.5);
	my $n = sysread($sock, my $buf, 3 - length $got);
	last unless $n;
	$got .= $buf;
}
is(unpack('H*', $got), 'fffc06', 'IAC WONT TIMING-MARK comes before any LF');
$c->send_raw("\n");
is($c->cmd('/ping once'), '+PONG once', 'answered once, and the line is gone');
is($srv->stop, 0, 'exit 0');
done_testing;
