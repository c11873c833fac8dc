#!/usr/bin/perl
# The levels hold: src/layers places every module of src/, and no module
# includes or calls a higher level (but through a door), no two modules
# reach each other, every header declares only its own module's names,
# and every #include "..." names a header under src/. The checker
# (t/lib/Layers.pm) is first run on small trees made here, each with one
# known fault, to show that it finds it; then on the real tree, where
# each problem is one failure naming its file and line.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Test::More;
use Layers;

my $src = $ENV{LINECAST_SRCDIR} // "$Bin/..";

# Makes a tree (path under the top => text) in a new temporary directory.
# Returns the directory.
sub tree
{
	my (%file) = @_;
	my $top = tempdir('linecast-layers-XXXXXX', TMPDIR => 1, CLEANUP => 1);

	for my $path (sort keys %file) {
		(my $dir = "$top/$path") =~ s{/[^/]*$}{};
		make_path($dir);
		open(my $fh, '>', "$top/$path") or die "$top/$path: $!";
		print $fh $file{$path};
		close($fh);
	}
	return $top;
}

# The problems of a tree, as "rule where" strings, for is_deeply.
sub found
{
	my ($top) = @_;
	return [map { "$_->{rule} $_->{where}" } Layers::check($top)];
}

# Shows the problems of a tree whose check went wrong.
sub show
{
	my ($top) = @_;
	diag("$_->{rule} $_->{where}: $_->{text}") for Layers::check($top);
}

# A module header, declaring one function.
sub header
{
	my ($name, @include) = @_;
	return join('', map { "#include \"$_\"\n" } @include) .
	    "\nvoid\t${name}_run(void);\n";
}

# A module's .c, defining its function and calling these.
sub source
{
	my ($name, $include, @call) = @_;
	return join('', map { "#include \"$_\"\n" } @$include) .
	    "\n/* Runs. */\nvoid\n${name}_run(void)\n{\n" .
	    join('', map { "\t$_();\n" } @call) . "}\n";
}

# A tree with every kind of thing the rule allows: levels, a folder and a
# file line, a door included from below, a program, a lone .c.
my %clean = (
	'src/layers' => "# levels\nbase 0\nwire 1\ncore 2\ncore/top 3\n" .
	    "core/door 3 door\nmain 4\nbench 1 program\n",
	'src/base/log.h' => header('log'),
	'src/base/log.c' => source('log', ['base/log.h']),
	'src/wire/line.h' => header('line', 'base/log.h'),
	'src/wire/line.c' => source('line', ['wire/line.h'], 'log_run'),
	'src/core/door.h' => "/* Callbacks the top registers. */\n" .
	    "struct door_ops {\n\tvoid\t(*run)(void);\n};\n\n" .
	    "extern const struct door_ops *door_ops;\n" .
	    "void\tdoor_set(const struct door_ops *);\n",
	'src/core/door.c' => "#include \"core/door.h\"\n\n" .
	    "const struct door_ops *door_ops;\n\n/* Sets. */\nvoid\n" .
	    "door_set(const struct door_ops *ops)\n{\n" .
	    "\tdoor_ops = ops;\n}\n",
	'src/core/mid.h' => header('mid', 'core/door.h') .
	    "void\tmid_up(void);\n",
	'src/core/mid.c' => source('mid', ['core/mid.h', 'wire/line.h'],
	    'line_run', 'log_run') . "\n/* Calls up. */\nvoid\nmid_up(void)\n{\n" .
	    "\tdoor_ops->run();\n}\n",
	'src/core/top.h' => header('top') . "void\ttop_start(void);\n",
	'src/core/top.c' => source('top', ['core/top.h', 'core/mid.h',
	    'core/door.h'], 'mid_run') . "\n/* Registers. */\nvoid\n" .
	    "top_start(void)\n{\n\tdoor_set(NULL);\n}\n",
	'src/main.c' => "#include \"core/top.h\"\n\nint\nmain(void)\n{\n" .
	    "\ttop_run();\n\treturn (0);\n}\n",
	'src/bench/bench.c' => "#include \"wire/line.h\"\n\nint\n" .
	    "main(void)\n{\n\tline_run();\n\treturn (0);\n}\n",
);
my $top = tree(%clean);
is_deeply(found($top), [], 'a tree that keeps its levels passes') or
    show($top);

# One fault at a time, each found where it is.
my @fault = (
	['an upward include',
	    { 'src/wire/line.c' => source('line', ['wire/line.h',
	    'core/mid.h']) },
	    ['up src/wire/line.c:2']],
	['a call up through a door',
	    { 'src/core/door.h' => $clean{'src/core/door.h'} .
	    "void\ttop_run(void);\n",
	    'src/core/mid.c' => source('mid', ['core/mid.h',
	    'core/door.h'], 'top_run') },
	    ['foreign src/core/door.h:8', 'up src/core/mid.c:8']],
	['a call up through its own header',
	    { 'src/core/mid.h' => header('mid') . "void\ttop_stop(void);\n",
	    'src/core/mid.c' => source('mid', ['core/mid.h'], 'top_stop'),
	    'src/core/top.c' => $clean{'src/core/top.c'} .
	    "\n/* Stops. */\nvoid\ntop_stop(void)\n{\n}\n" },
	    ['cycle src/core/mid.c:7', 'foreign src/core/mid.h:3',
	    'up src/core/mid.c:7']],
	['a two-module cycle within a level',
	    { 'src/core/mid.h' => header('mid', 'core/other.h'),
	    'src/core/other.h' => header('other', 'core/mid.h') },
	    ['cycle src/core/mid.h:1']],
	['a three-module cycle',
	    { 'src/core/a.h' => header('a', 'core/b.h'),
	    'src/core/b.h' => header('b', 'core/c.h'),
	    'src/core/c.h' => header('c', 'core/a.h') },
	    ['cycle src/core/a.h:1']],
	['a header that declares another module\'s function',
	    { 'src/core/mid.h' => header('mid') . "void\tlone_run(void);\n",
	    'src/core/lone.c' => source('lone', ['core/mid.h']) },
	    ['cycle src/core/lone.c:1', 'foreign src/core/mid.h:3']],
	['an unplaced file',
	    { 'src/extra/new.c' => source('new', ['base/log.h']) },
	    ['unplaced src/extra/new.c:1']],
	['an include of no file, and one without its folder',
	    { 'src/wire/line.c' => source('line', ['wire/line.h',
	    'base/gone.h', 'log.h']),
	    'src/base/log.c' => source('log', ['base/log.h', 'log.h']) },
	    ['missing src/base/log.c:2', 'missing src/wire/line.c:2',
	    'missing src/wire/line.c:3']],
	['a program that includes level 2',
	    { 'src/bench/bench.c' => source('bench', ['core/mid.h']) },
	    ['up src/bench/bench.c:1']],
	['an include of a program\'s header',
	    { 'src/bench/bench.h' => header('bench'),
	    'src/main.c' => source('main', ['bench/bench.h']) },
	    ['program src/main.c:1']],
	['a bad, a doubled and an empty line of src/layers',
	    { 'src/layers' => $clean{'src/layers'} .
	    "wire 3\ngone 1\nmain x\n" },
	    ['layers src/layers:9', 'layers src/layers:10',
	    'layers src/layers:11']],
);
for my $f (@fault) {
	my ($what, $change, $want) = @$f;
	my %t = (%clean, %$change);
	$top = tree(%t);
	my $got = found($top);
	my %got = map { $_ => 1 } @$got;
	my @miss = grep { !$got{$_} } @$want;
	ok(!@miss, "$what is found") or diag("not found: @miss"),
	    show($top);
}

# The graph lists every module by level.
my $graph = Layers::graph(tree(%clean));
like($graph, qr/^level 0\n  base\/log .*\nlevel 1\n/, 'the graph starts at 0');
like($graph, qr/^  core\/door .*\(door\)$/m, 'it marks the door');

# And the real tree: each problem one failure.
my @problems = Layers::check($src);
for my $p (@problems) {
	fail("$p->{where}: $p->{text}");
	diag("    $_") for @{$p->{detail} // []};
}
pass('src/ keeps its levels') unless @problems;

done_testing();
