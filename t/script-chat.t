#!/usr/bin/perl
# lua/chat.lua: MOTD, /me, /topic (set, show, clear, shown to joiners),
# /seen, and a start without a default channel.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Time::HiRes qw(sleep);

my $script = "$Bin/../lua/chat.lua";
my $srv = Linecast->start($script);

# The MOTD: "* " lines before +HELLO, naming the newcomer.
my $a = $srv->connect(label => 'a');
my @motd = $a->read_greeting;
ok(@motd >= 1, 'a MOTD comes before +HELLO');
like(join("\n", @motd), qr/Welcome to linecast \S+, guest1\./,
    'it welcomes the newcomer by name');
is($a->name, 'guest1', '+HELLO follows');

my $b = $srv->connect(label => 'b');
is_deeply([$b->read_greeting], [map { s/guest1/guest2/r } @motd],
    'b gets the same MOTD, with its name');
$a->expect('* join lobby guest2');
is($a->cmd('/nick alice'), '+NICK alice', 'a is alice');
$b->expect('* nick guest1 alice');
is($b->cmd('/nick bob'), '+NICK bob', 'b is bob');
$a->expect('* nick guest2 bob');

# /me tells the other members "* action CHANNEL NAME ACTION", as IRC's
# action reads: the name once.
is($a->cmd('/me waves'), '+ME lobby 1', '/me replies +ME CHANNEL TOLD');
$b->expect('* action lobby alice waves', 'the others see the action');
is($a->cmd('/ME  jumps around '), '+ME lobby 1', 'any case of /me');
$b->expect('* action lobby alice jumps around', 'spaces trimmed');
is($a->cmd('/me'), '-ERR bad-args usage: /me ACTION', '/me needs an action');
is($a->cmd('/me   '), '-ERR bad-args usage: /me ACTION', 'spaces are none');
$a->expect_none('alice does not get her own action');
$b->expect_none('nor bob an empty one');
is($b->cmd("/me sends \e[2Jescapes"), '+ME lobby 1', 'an action with ESC');
$a->expect('* action lobby bob sends ?[2Jescapes', 'control bytes become ?');

# /topic: none yet, set, show; the other members are told.
is($a->cmd('/topic'), '+TOPIC lobby', 'no topic yet');
is($a->cmd('/topic release on friday'),
    '+TOPIC lobby alice release on friday', 'alice sets the topic');
$b->expect('* topic lobby alice release on friday',
    'the other members get the new topic');
$a->expect_none('the setter gets no event');
is($b->cmd('/topic'), '+TOPIC lobby alice release on friday',
    'bob sees it with /topic');

# Control bytes in a topic become "?", as in published text.
is($b->cmd("/topic red \e[31malert\x07"), '+TOPIC lobby bob red ?[31malert?',
    'control bytes are replaced');
$a->expect('* topic lobby bob red ?[31malert?', 'in the event too');
is($a->cmd('/topic release on friday'),
    '+TOPIC lobby alice release on friday', 'alice sets it back');
$b->expect('* topic lobby alice release on friday');

# A newcomer gets the default channel's topic after the MOTD.
my $c = $srv->connect(label => 'c');
my @greet = $c->read_greeting;
is($greet[-1], '* topic lobby alice release on friday',
    'a newcomer gets the topic of the default channel before +HELLO');
is(scalar @greet, @motd + 1, 'after the MOTD');
$a->expect('* join lobby guest3');
$b->expect('* join lobby guest3');

# /join shows the topic right before +JOIN; no topic, no line.
is($b->cmd('/join dev'), '+JOIN dev 1', 'no topic line for a channel without');
is($b->cmd('/topic dev talk only'), '+TOPIC dev bob dev talk only',
    '/topic sets the current channel\'s topic (dev)');
$a->send('/join dev');
$a->expect('* topic dev bob dev talk only', 'a joiner gets the topic');
$a->expect('+JOIN dev 2', 'then +JOIN');
$b->expect('* join dev alice');
is($a->cmd('/join lobby'), '* topic lobby alice release on friday',
    'joining again (already a member) shows it too');
$a->expect('+JOIN lobby 3');

# "/topic -" clears it; the members are told with an empty topic.
is($b->cmd('/topic -'), '+TOPIC dev', 'bob clears dev\'s topic');
$a->expect('* topic dev bob', 'alice (a member of dev) is told');
$c->expect_none('guest3 (not in dev) is not');
is($a->cmd('/join dev'), '+JOIN dev 2', 'no topic line once cleared');
is($a->cmd('/topic'), '+TOPIC dev', '/topic shows none');

# Without a current channel.
is($c->cmd('/part'), '+PART lobby', 'guest3 leaves its only channel');
$a->expect('* part lobby guest3');
$b->expect('* part lobby guest3');
is($c->cmd('/me hums'), '-ERR no-channel /join a channel first',
    '/me needs a current channel');
is($c->cmd('/topic hello'), '-ERR no-channel /join a channel first',
    '/topic needs one too');

# /seen: online, gone, never seen.
is($c->cmd('/seen bob'), '+SEEN bob online', '/seen of a connected name');
is($c->cmd('/seen BOB'), '+SEEN bob online', 'any case');
is($c->cmd('/seen nobody'), '-ERR no-such-name never seen nobody',
    '/seen of an unknown name');
is($c->cmd('/seen'), '-ERR bad-args usage: /seen NAME', '/seen needs a name');
is($b->cmd('/quit'), '+BYE', 'bob quits');
$a->expect('* quit bob quit');
like($c->cmd('/seen bob'), qr/^\+SEEN bob \d+s ago$/,
    'then he was seen seconds ago');
is($c->cmd('/nick carol'), '+NICK carol', 'guest3 renames');
like($a->cmd('/seen guest3'), qr/^\+SEEN guest3 \d+s ago$/,
    'the old name was seen when it typed its last line');

# /help knows the script commands.
$a->send('/help');
my %help = map { $_ => 1 } split / /, ($a->lines_until(qr/^\+HELP/))[-1];
ok($help{me} && $help{topic} && $help{seen}, '/help lists me, topic, seen');
like($a->cmd('/help me'), qr{^\+HELP /me - \S}, '/help me');

is($srv->stop, 0, 'exit 0');

# Without a default channel: the MOTD and a plain +HELLO.
my $srv2 = Linecast->start('--default-channel', '', $script);
my $d = $srv2->connect(label => 'd');
ok(scalar $d->read_greeting, 'no default channel: a MOTD');
unlike($d->hello, qr/channel=/, 'and +HELLO without a channel');
is($d->cmd('/topic'), '-ERR no-channel /join a channel first',
    '/topic without a channel');
is($d->cmd('/join x'), '+JOIN x 1', '/join still works');
is($srv2->stop, 0, 'exit 0');

done_testing;
