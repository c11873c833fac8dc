#!/usr/bin/perl
# Every example in doc/lua.md runs: each ```lua block is loaded into a
# real server, and each ```session block that follows it is played
# against that server, line by line.
#
# A session line is "NAME> TEXT" (client NAME sends TEXT; "^D" closes
# it) or "NAME< TEXT" (client NAME gets exactly TEXT, where "..." stands
# for anything; "(closed)" means the server closes it). NAME may be empty
# (one client). "log< TEXT" means the server's log has TEXT. A client
# connects at its first line; if that line is a ">", its +HELLO is read
# first, unshown. Lines starting with "#" are comments. After a session,
# no client may have got anything the session does not show.
#
# An HTML comment before a ```lua block steers it:
#   <!-- doc-test: flags ARGS -->   extra command-line arguments
#   <!-- doc-test: append -->       the block continues the previous one
#   <!-- doc-test: config -->       a --config file, not a script
#   <!-- doc-test: skip -->         not run (a fragment)

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use Linecast;
use Cwd qw(getcwd);
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep);

my $src = $ENV{LINECAST_SRCDIR} // "$Bin/..";
my $doc = "$src/doc/lua.md";
open my $fh, '<', $doc or plan skip_all => "$doc: $!";
my @lines = <$fh>;
close $fh;
chomp @lines;

# Parses the doc into examples: { code, line, flags, kind, sessions }.
my (@examples, @directives);
for (my $i = 0; $i < @lines; $i++) {
	if ($lines[$i] =~ /^<!-- doc-test: (.*?) -->$/) {
		push @directives, $1;
		next;
	}
	next unless $lines[$i] =~ /^```(lua|session)\s*$/;
	my ($kind, $start) = ($1, $i + 1);
	my @block;
	push @block, $lines[$i] while ++$i < @lines && $lines[$i] ne '```';
	if ($kind eq 'session') {
		die "doc/lua.md:$start: a session without an example\n"
		    unless @examples;
		push @{$examples[-1]{sessions}}, { line => $start, lines => \@block };
		next;
	}
	my %ex = (code => join("\n", @block) . "\n", line => $start,
	    flags => [], kind => 'script', sessions => []);
	for my $d (@directives) {
		if ($d =~ /^flags (.*)$/) {
			push @{$ex{flags}}, split ' ', $1;
		} elsif ($d eq 'append') {
			die "doc/lua.md:$start: nothing to append to\n" unless @examples;
			$ex{code} = $examples[-1]{code} . $ex{code};
			$ex{flags} = [@{$examples[-1]{flags}}, @{$ex{flags}}];
		} elsif ($d eq 'config' || $d eq 'skip') {
			$ex{kind} = $d;
		} else {
			die "doc/lua.md:$start: unknown directive '$d'\n";
		}
	}
	@directives = ();
	push @examples, \%ex;
}
cmp_ok(scalar @examples, '>', 20, scalar(@examples) . ' examples in doc/lua.md');

# Turns an expected line into a regex: "..." matches anything. Anchored
# unless $loose.
sub pattern
{
	my ($want, $loose) = @_;
	my $re = join '.*', map { quotemeta } split /\.\.\./, $want, -1;
	return $loose ? qr/$re/ : qr/^$re$/;
}

# Plays one session against a server. Returns nothing; tests as it goes.
sub play
{
	my ($srv, $where, $session) = @_;
	my (%client, @order);
	for my $l (@{$session->{lines}}) {
		next if $l =~ /^\s*(#.*)?$/;
		my ($name, $dir, $text) = $l =~ /^(\w*)([<>]) ?(.*)$/
		    or do { fail("$where: bad session line '$l'"); next };
		if ($name eq 'log') {
			ok($srv->wait_log(pattern($text, 1)),
			    "$where: the log has '$text'");
			next;
		}
		my $label = $name eq '' ? 'you' : $name;
		if (!$client{$label}) {
			$client{$label} = $dir eq '>'
			    ? $srv->client(label => "$where $label")
			    : $srv->connect(label => "$where $label");
			push @order, $label;
		}
		my $c = $client{$label};
		if ($dir eq '>') {
			if ($text eq '^D') {
				$c->close;
			} else {
				$c->send($text);
			}
		} elsif ($text eq '(closed)') {
			ok($c->is_closed, "$where: $label is closed");
		} else {
			my $got = $c->line;
			like($got // '(nothing)', pattern($text), "$where: $label< $text");
		}
	}
	sleep 0.15;
	for my $label (@order) {
		my $c = $client{$label};
		my @more = $c->lines_for(0.01);
		is(join("\n", @more), '', "$where: $label gets nothing more");
	}
}

my $dir = tempdir('linecast-doc-XXXXXX', TMPDIR => 1, CLEANUP => 1);
for my $ex (@examples) {
	my $where = "doc/lua.md:$ex->{line}";
	next if $ex->{kind} eq 'skip';
	if ($ex->{kind} eq 'config') {
		# Run it as pasted, as --config from an empty directory: the
		# scripts it names must be found as the server finds them (the
		# stock scripts are lua/ of the source tree).
		my $cwd = getcwd();
		my $run = tempdir('config-XXXXXX', DIR => $dir);
		Linecast->script($ex->{code}, "$run/linecast.conf");
		local $ENV{LINECAST_DATADIR} = "$src/lua";
		chdir $run or die "$run: $!";
		my $srv = eval { Linecast->start('--config', 'linecast.conf',
		    @{$ex->{flags}}) };
		chdir $cwd;
		ok($srv, "$where: the config file works as pasted") or diag($@);
		my @named = $ex->{code} =~ /"([\w.\/-]+\.lua)"/g;
		for my $name (@named) {
			ok($srv && $srv->log =~ /script \S*\Q$name\E$/m,
			    "$where: $name is found and loaded");
		}
		$srv->stop if $srv;
		next;
	}
	my $path = Linecast->script($ex->{code});
	my @sessions = @{$ex->{sessions}} ? @{$ex->{sessions}} : (undef);
	for my $s (@sessions) {
		my $srv = eval { Linecast->start(@{$ex->{flags}}, $path) };
		ok($srv, "$where: the example loads") or do { diag($@); last };
		play($srv, "doc/lua.md:$s->{line}", $s) if $s;
		is($srv->stop, 0, "$where: exit 0");
	}
}

done_testing;
