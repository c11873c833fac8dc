#!/usr/bin/perl
# Wildcard subscriptions: "*" matches one token, a final ">" one or more;
# every match is delivered once, in publishing order, whatever the number
# of a connection's subscriptions and memberships that match.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $srv = Linecast->start('--default-channel', '');
my $p = $srv->client(label => 'publisher');
my $s = $srv->client(label => 'subscriber');
is($p->cmd('/nick pub'), '+NICK pub');

# news.> gets 1000 messages, once each, in order.
is($s->cmd('/sub news.>'), '+SUB news.>');
my $n = 1000;
ok($p->send_raw(join('', map { "/pub news.x m$_\n" } 1 .. $n), 10),
    "$n /pub news.x in one write");
my ($replies, $got, $bad) = (0, 0, 0);
for my $i (1 .. $n) {
	my $r = $p->line;
	$replies++ if defined $r && $r eq '+PUB news.x 1';
	my $l = $s->line;
	if (defined $l && $l eq "news.x <pub> m$i") {
		$got++;
	} elsif (!$bad++) {
		diag("message $i: got " . Linecast::show($l));
	}
}
is($replies, $n, 'each /pub reports one delivery');
is($got, $n, "news.> gets all $n, in order");
$s->expect_none('and no duplicates');

# What news.> matches and what it does not.
my %cases = (
	'news.a.b.c'	=> 1,
	'news.x'	=> 1,
	'news'		=> 0,
	'newsy.x'	=> 0,
	'News.x'	=> 0,
	'other.news.x'	=> 0,
);
for my $ch (sort keys %cases) {
	is($p->cmd("/pub $ch t"), "+PUB $ch $cases{$ch}",
	    "news.> " . ($cases{$ch} ? 'matches ' : 'does not match ') . $ch);
	$s->expect("$ch <pub> t") if $cases{$ch};
}
$s->expect_none('nothing unexpected');
is($s->cmd('/unsub news.>'), '+UNSUB news.>');

# "*" matches exactly one token.
sub check
{
	my ($pattern, %want) = @_;
	is($s->cmd("/sub $pattern"), "+SUB $pattern", "/sub $pattern");
	for my $ch (sort keys %want) {
		is($p->cmd("/pub $ch t"), "+PUB $ch $want{$ch}",
		    "$pattern " . ($want{$ch} ? 'matches ' : 'does not match ')
		    . $ch);
		$s->expect("$ch <pub> t") if $want{$ch};
	}
	$s->expect_none("$pattern: nothing else");
	is($s->cmd("/unsub $pattern"), "+UNSUB $pattern");
}
check('*', 'lobby' => 1, 'a' => 1, 'a.b' => 0, 'x.y.z' => 0);
check('news.*', 'news.x' => 1, 'news.y' => 1, 'news' => 0, 'news.x.y' => 0,
    'sport.x' => 0);
check('*.x', 'a.x' => 1, 'news.x' => 1, 'x' => 0, 'a.b.x' => 0, 'a.y' => 0);
check('a.*.c', 'a.b.c' => 1, 'a.zz.c' => 1, 'a.c' => 0, 'a.b.b.c' => 0);
check('*.*', 'a.b' => 1, 'a' => 0, 'a.b.c' => 0);
check('>', 'lobby' => 1, 'a.b' => 1, 'a.b.c.d.e' => 1);
check('a.>', 'a.b' => 1, 'a.b.c' => 1, 'a' => 0, 'b.a' => 0);
check('*.b.>', 'a.b.c' => 1, 'x.b.y.z' => 1, 'a.b' => 0, 'a.c.d' => 0);

# One copy however many subscriptions and memberships match.
is($s->cmd('/join news.x'), '+JOIN news.x 1', 'a member of news.x');
for my $pat ('news.x', 'news.>', 'news.*', '>', '*.x', '*.*') {
	is($s->cmd("/sub $pat"), "+SUB $pat", "and /sub $pat");
}
is($p->cmd('/pub news.x once'), '+PUB news.x 1', 'seven matches: one delivery');
$s->expect('news.x <pub> once', 'delivered');
$s->expect_none('exactly once');
is($p->cmd('/join news.x'), '+JOIN news.x 2');
$s->expect('* join news.x pub', 'members get presence (subscriptions do not add any)');
$s->expect_none('once');
$p->send('as a member');
$s->expect('news.x <pub> as a member', 'member text: delivered');
$s->expect_none('exactly once');
for my $pat ('news.x', 'news.>', 'news.*', '>', '*.x') {
	is($s->cmd("/unsub $pat"), "+UNSUB $pat");
}
is($p->cmd('/pub news.x left'), '+PUB news.x 1', 'one subscription left');
$s->expect('news.x <pub> left');
is($s->cmd('/part news.x'), '+PART news.x');
$p->expect('* part news.x guest2');
is($p->cmd('/pub news.x still'), '+PUB news.x 1', '*.* still matches');
$s->expect('news.x <pub> still');
is($s->cmd('/unsub *.*'), '+UNSUB *.*');
is($p->cmd('/pub news.x gone'), '+PUB news.x 0', 'nothing matches any more');
$s->expect_none('not delivered');

# Two subscribers, several publishers: each publisher's order is kept.
my $s2 = $srv->client(label => 'subscriber2');
my $q = $srv->client(label => 'publisher2');
is($s->cmd('/sub t.>'), '+SUB t.>');
is($s2->cmd('/sub t.*'), '+SUB t.*');
ok($p->send_raw(join('', map { "/pub t.a p$_\n" } 1 .. 200)), 'p publishes');
ok($q->send_raw(join('', map { "/pub t.b q$_\n" } 1 .. 200)), 'q publishes');
for my $sub ($s, $s2) {
	my (@fp, @fq);
	for (1 .. 400) {
		my $l = $sub->line;
		last unless defined $l;
		push @fp, $1 if $l =~ /^t\.a <pub> (p\d+)$/;
		push @fq, $1 if $l =~ /^t\.b <guest4> (q\d+)$/;
	}
	is_deeply(\@fp, [map { "p$_" } 1 .. 200], $sub->label . ': p\'s in order');
	is_deeply(\@fq, [map { "q$_" } 1 .. 200], $sub->label . ': q\'s in order');
}
$p->lines_for(0.2);
$q->lines_for(0.2);

done_testing;
