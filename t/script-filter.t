#!/usr/bin/perl
# lua/filter.lua: listed words are masked with as many "*" as characters,
# whole words only, any case, in every kind of publish; words from a file.

use strict;
use warnings;
use File::Temp qw(tempdir);
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;

my $filter = "$Bin/../lua/filter.lua";
my $chat = "$Bin/../lua/chat.lua";

my $dir = tempdir('linecast-filter-XXXXXX', TMPDIR => 1, CLEANUP => 1);
open my $fh, '>', "$dir/words" or die "$dir/words: $!";
print $fh "# more words\nfoo\n  BAR  # shouted\nna\xc3\xafve\n";
close $fh;

local $ENV{LINECAST_FILTER_WORDS} = "$dir/words";
my $srv = Linecast->start($filter, $chat);
ok($srv->wait_log(qr/filter\.lua: 3 words from /), 'the file gives 3 words');
my $a = $srv->connect(label => 'a');
$a->read_greeting;
my $b = $srv->connect(label => 'b');
$b->read_greeting;
$a->expect('* join lobby guest2');

my @cases = (
	['hello world', 'hello world', 'clean text goes as it is'],
	['what the heck', 'what the ****', 'a listed word'],
	['HeCk Heck HECK', '**** **** ****', 'in any case'],
	['heckler, check, heck_x, heck2', 'heckler, check, heck_x, heck2',
	    'not inside a longer word'],
	["heck's heck-heck (heck) heck.", "****'s ****-**** (****) ****.",
	    'but next to punctuation'],
	['darn frak', '**** ****', 'the other built-in words'],
	['foo bar FOOBAR foo.bar', '*** *** FOOBAR ***.***',
	    'words from the file'],
	["na\xc3\xafve na\xc3\xafvet\xc3\xa9", "***** na\xc3\xafvet\xc3\xa9",
	    'a UTF-8 word: one "*" per character, whole words'],
);
for my $c (@cases) {
	my ($in, $out, $name) = @$c;
	$a->send($in);
	$b->expect("lobby <guest1> $out", $name);
}

is($a->cmd('/pub news heck'), '+PUB news 0', '/pub goes through it');
is($b->cmd('/sub news'), '+SUB news', 'b listens to news');
is($a->cmd('/pub news heck no'), '+PUB news 1', '/pub to a subscriber');
$b->expect('news <guest1> **** no', '/pub is masked');
is($a->cmd('/msg guest2 darn it'), '+MSG guest2', '/msg');
$b->expect('@guest2 <guest1> **** it', 'private messages are masked');
# chat.lua's /me and /topic reach people as events: masked all the same.
is($a->cmd('/me says heck'), '+ME lobby 1', '/me with a filter');
$b->expect('* action lobby guest1 says ****', '/me is masked');
is($a->cmd('/topic what the HECK'), '+TOPIC lobby guest1 what the ****',
    '/topic is masked, in the reply');
$b->expect('* topic lobby guest1 what the ****', 'and for the members');
is($a->cmd('/topic'), '+TOPIC lobby guest1 what the ****',
    'the topic kept is the masked one');
is($a->cmd('/TOPIC heckle'), '+TOPIC lobby guest1 heckle',
    'a word that only starts with one stays');
$b->expect('* topic lobby guest1 heckle');
$b->expect_none('nothing more');
is($srv->stop, 0, 'exit 0');

# A word file that cannot be read: the script does not load.
{
	local $ENV{LINECAST_FILTER_WORDS} = "$dir/missing";
	my $r = Linecast->run('--port', '0', $filter);
	is($r->{exit}, 1, 'LINECAST_FILTER_WORDS names a missing file: exit 1');
	like($r->{stderr}, qr/\Q$dir\E\/missing/, 'the log names it');
}

done_testing;
