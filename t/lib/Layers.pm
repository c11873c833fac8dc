package Layers;

# The layering check of src/: it reads src/layers (which level each module
# is at) and every src/**/*.[ch] (its #include "..." lines, what it
# declares, defines and names), builds the module graph and says what
# breaks the levels. t/layers.t runs it; scripts/layers prints the graph.
#
#   my @problems = Layers::check($top);     # $top holds src/ and src/layers
#   print "$_->{where}: $_->{text}\n" for @problems;
#   print Layers::graph($top);            # or Layers::dot($top)
#
# A module is a .c/.h pair (core/conn: src/core/conn.c and src/core/conn.h)
# or a lone .c or .h. Module A depends on module B when a file of A
# includes a header of B, declares something that B defines, or names a
# function or variable that B defines (and some header declares). Each
# problem is a hash: rule (a short word), where ("src/x.c:12"), text,
# and detail (more lines, or none). Core Perl only.

use strict;
use warnings;

use File::Find ();

# Words that are never the name of a function or variable being declared.
my %KEYWORD = map { $_ => 1 } qw(auto break case char const continue
    default do double else enum extern float for goto if inline int long
    register restrict return short signed sizeof static struct switch
    typedef union unsigned void volatile while _Bool _Noreturn
    _Static_assert _Thread_local);

# Reads a file whole. Returns its text, or undef if it cannot be read.
sub slurp
{
	my ($path) = @_;
	open(my $fh, '<', $path) or return undef;
	local $/;
	my $text = <$fh>;
	close($fh);
	return $text;
}

# The line number of an offset into a text.
sub line_at
{
	my ($text, $offset) = @_;
	return 1 + (substr($text, 0, $offset) =~ tr/\n//);
}

# Splits C source into two copies of the same length and lines: without
# comments (strings kept, for the #include lines), and without comments
# or the insides of string and character literals (for the code).
sub lex
{
	my ($src) = @_;
	my ($nocomment, $code) = ('', '');

	while ($src =~ m{\G(?:(/\*.*?\*/|//[^\n]*)|("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|([^/"']+|.))}gs) {
		if (defined $1) {
			(my $blank = $1) =~ s/[^\n]/ /g;
			$nocomment .= $blank;
			$code .= $blank;
		} elsif (defined $2) {
			my $lit = $2;
			$nocomment .= $lit;
			my $inside = substr($lit, 1, -1);
			$inside =~ s/[^\n]/ /g;
			$code .= substr($lit, 0, 1) . $inside . substr($lit, -1);
		} else {
			$nocomment .= $3;
			$code .= $3;
		}
	}
	return ($nocomment, $code);
}

# Blanks the preprocessor lines (with their continuations) of code.
sub blank_directives
{
	my ($code) = @_;
	$code =~ s{^([ \t]*#(?:[^\n]*\\\n)*[^\n]*)}{$1 =~ s/[^\n]/ /gr}gme;
	return $code;
}

# Splits code into tokens: [text, line], identifiers and single
# punctuation characters (numbers as one token).
sub tokens
{
	my ($code) = @_;
	my ($line, @tok) = (1);

	while ($code =~ m{\G(?:(\s+)|([A-Za-z_]\w*|\d[\w.]*)|(.))}gs) {
		if (defined $1) {
			$line += ($1 =~ tr/\n//);
		} else {
			push @tok, [$2 // $3, $line];
		}
	}
	return @tok;
}

# The index of the token that closes the bracket at $i, or past the end.
sub closing
{
	my ($tok, $i) = @_;
	my %pair = ('(' => ')', '[' => ']', '{' => '}');
	my ($open, $close, $depth) = ($tok->[$i][0], $pair{$tok->[$i][0]}, 0);

	for (; $i < @$tok; $i++) {
		$depth++ if $tok->[$i][0] eq $open;
		$depth-- if $tok->[$i][0] eq $close;
		return $i if $depth == 0;
	}
	return $#$tok;
}

# Is this token a name (not a keyword, not a compiler word like
# __attribute__)?
sub is_name
{
	my ($t) = @_;
	return $t =~ /^[A-Za-z_]\w*$/ && !$KEYWORD{$t} && $t !~ /^__/;
}

# What one top-level statement (tokens, brace groups folded to '{}')
# declares: a list of [name, kind, line, storage], kind "function" or
# "variable", storage "static", "extern" or "".
sub statement_names
{
	my (@st) = @_;
	return () if !@st || $st[0][0] eq 'typedef';

	my ($storage, @flat, @names) = ('');
	for (my $i = 0; $i < @st; $i++) {
		my $t = $st[$i][0];
		$storage = $t if $t eq 'static' || $t eq 'extern';
		if ($t eq '(' || $t eq '[') {
			my $j = closing(\@st, $i);
			push @flat, [$t, $st[$i][1], [@st[$i + 1 .. $j - 1]]];
			$i = $j;
		} else {
			push @flat, $st[$i];
		}
	}

	# A function: the last name right before a parenthesis, before any
	# '=' (a macro call may come first, an __attribute__ after).
	my $fn;
	for (my $i = 1; $i < @flat; $i++) {
		last if $flat[$i][0] eq '=';
		$fn = $flat[$i - 1]
		    if $flat[$i][0] eq '(' && is_name($flat[$i - 1][0]);
	}
	return ([$fn->[0], 'function', $fn->[1], $storage]) if $fn;

	# Variables: the declarators between commas, before any '='.
	my @piece = ([]);
	for my $t (@flat) {
		if ($t->[0] eq ',') {
			push @piece, [];
		} else {
			push @{$piece[-1]}, $t;
		}
	}
	for my $k (0 .. $#piece) {
		my @d = @{$piece[$k]};
		my ($eq) = grep { $d[$_][0] eq '=' } 0 .. $#d;
		splice(@d, $eq) if defined $eq;
		my ($brace) = grep { $d[$_][0] eq '{}' } reverse 0 .. $#d;
		splice(@d, 0, $brace + 1) if defined $brace;
		next if !@d;
		next if @d == 2 && $d[0][0] =~ /^(struct|union|enum)$/;
		# Past the first declarator, or after a struct body, the
		# type is already said: a lone name is one.
		my $alone = $k > 0 || defined $brace;

		# A pointer to a function: (*name)(...).
		if (@d && $d[0][0] ne '(' && grep { $_->[0] eq '(' } @d) {
			my ($inner) = grep { $_->[0] eq '(' } @d;
			my ($n) = grep { is_name($_->[0]) } @{$inner->[2]};
			push @names, [$n->[0], 'variable', $n->[1], $storage]
			    if $n;
			next;
		}
		my ($n) = grep { is_name($_->[0]) } reverse @d;
		push @names, [$n->[0], 'variable', $n->[1], $storage]
		    if $n && (@d > 1 || $alone);
	}
	return @names;
}

# What a file declares and defines at top level. Returns two lists of
# [name, kind, line, storage]: declarations (prototypes, extern
# variables) and definitions (function bodies, variables).
sub top_level
{
	my ($code) = @_;
	my @tok = tokens(blank_directives($code));
	my (@decl, @def, @st);

	for (my $i = 0; $i < @tok; $i++) {
		my $t = $tok[$i][0];
		if ($t eq '{') {
			my $end = closing(\@tok, $i);
			if (@st && $st[-1][0] eq ')' &&
			    !grep { $_->[0] eq '=' } @st) {
				my @n = statement_names(@st);
				push @def, @n if @n && $n[0][1] eq 'function';
				@st = ();
			} else {
				push @st, ['{}', $tok[$i][1]];
			}
			$i = $end;
		} elsif ($t eq ';') {
			for my $n (statement_names(@st)) {
				if ($n->[1] eq 'function' || $n->[3] eq 'extern') {
					push @decl, $n;
				} else {
					push @def, $n;
				}
			}
			@st = ();
		} else {
			push @st, $tok[$i];
		}
	}
	return (\@decl, \@def);
}

# Every name the code mentions as a function or variable, with its first
# line: not a member (after . or ->, in a struct or union body, or
# offsetof's), not a struct, union or enum tag.
sub mentions
{
	my ($code) = @_;
	my @tok = tokens($code);
	my %first;

	for (my $i = 0; $i < @tok; $i++) {
		my $t = $tok[$i][0];
		if ($t eq 'struct' || $t eq 'union') {
			my $j = $i + 1;
			$j++ if $j < @tok && is_name($tok[$j][0]);
			$i = closing(\@tok, $j)
			    if $j < @tok && $tok[$j][0] eq '{';
			next;
		}
		if ($t eq 'offsetof' && $i + 1 < @tok &&
		    $tok[$i + 1][0] eq '(') {
			$i = closing(\@tok, $i + 1);
			next;
		}
		next unless is_name($t);
		my $prev = $i > 0 ? $tok[$i - 1][0] : '';
		my $prev2 = $i > 1 ? $tok[$i - 2][0] : '';
		next if $prev eq '.' || ($prev eq '>' && $prev2 eq '-');
		next if $prev =~ /^(struct|union|enum)$/;
		$first{$t} //= $tok[$i][1];
	}
	return \%first;
}

# Reads src/layers. Returns the entries (path => {level, door, program,
# line}) and a list of problems with the file itself.
sub read_layers
{
	my ($top) = @_;
	my $text = slurp("$top/src/layers");
	my (%entry, @problems);

	if (!defined $text) {
		return ({}, { rule => 'layers', where => 'src/layers:1',
		    text => 'src/layers is missing: it places every module' });
	}
	my $n = 0;
	for my $line (split /\n/, $text) {
		$n++;
		$line =~ s/#.*//;
		next if $line =~ /^\s*$/;
		my ($path, $level, @flag) = split ' ', $line;
		my $where = "src/layers:$n";
		if (!defined $level || $level !~ /^\d+$/ ||
		    grep { !/^(door|program)$/ } @flag) {
			push @problems, { rule => 'layers', where => $where,
			    text => "not \"PATH LEVEL [door|program]\": $line" };
			next;
		}
		$path =~ s{^src/}{};
		$path =~ s{/+$}{};
		if ($entry{$path}) {
			push @problems, { rule => 'layers', where => $where,
			    text => "$path is placed twice (first at line " .
			    "$entry{$path}{line})" };
			next;
		}
		$entry{$path} = { level => $level, line => $n,
		    map { $_ => 1 } @flag };
	}
	return (\%entry, @problems);
}

# The entry of src/layers that places a module: its own line, else that of
# its nearest folder. Returns the entry (with its path) or undef.
sub place
{
	my ($entry, $module) = @_;

	for (my $p = $module; $p ne ''; $p =~ s{/?[^/]*$}{}) {
		return { %{$entry->{$p}}, path => $p } if $entry->{$p};
	}
	return undef;
}

# Finds every src/**/*.[ch] and reads it. Returns file => {module, lines,
# includes => [[header, line]], decl, def, mentions}.
sub scan
{
	my ($top) = @_;
	my (@path, %file);

	File::Find::find({ no_chdir => 1, wanted => sub {
		push @path, $1 if m{^\Q$top\E/src/(.+\.[ch])$} && -f $_;
	} }, "$top/src") if -d "$top/src";
	for my $p (sort @path) {
		my $src = slurp("$top/src/$p") // '';
		my ($nocomment, $code) = lex($src);
		my @inc;
		while ($nocomment =~ /^[ \t]*#[ \t]*include[ \t]*"([^"]*)"/gm) {
			push @inc, [$1, line_at($nocomment, $-[0])];
		}
		my ($decl, $def) = top_level($code);
		(my $module = $p) =~ s/\.[ch]$//;
		$file{$p} = { module => $module, includes => \@inc,
		    decl => $decl, def => $def, mentions => mentions($code),
		    lines => ($src =~ tr/\n//) };
	}
	return \%file;
}

# Resolves an include as -I src does. Returns the header's path under src/,
# or undef if there is no such file.
sub resolve
{
	my ($top, $name) = @_;
	my @part;

	for my $p (split m{/+}, $name) {
		next if $p eq '.';
		if ($p eq '..') {
			return undef unless @part;
			pop @part;
		} else {
			push @part, $p;
		}
	}
	my $path = join('/', @part);
	return -f "$top/src/$path" ? $path : undef;
}

# The graph of the tree: its files, their modules' places, the edges
# (from => to => [[kind, where, what]]) and the problems found while
# building it.
sub build
{
	my ($top) = @_;
	my ($entry, @problems) = read_layers($top);
	my $file = scan($top);
	my (%module, %place, %edge, %def, %declared);

	# A program placed by its folder is one module: its files may lean
	# on each other (it is a separate program, with one header).
	for my $p (sort keys %$file) {
		my $pl = place($entry, $file->{$p}{module});
		$file->{$p}{module} = $pl->{path}
		    if $pl && $pl->{program} && -d "$top/src/$pl->{path}";
	}
	for my $p (sort keys %$file) {
		my $m = $file->{$p}{module};
		push @{$module{$m}}, $p;
	}
	for my $m (sort keys %module) {
		$place{$m} = place($entry, $m);
		next if $place{$m};
		push @problems, { rule => 'unplaced', where => "src/$_:1",
		    text => "src/layers does not place $m: give it a level" }
		    for @{$module{$m}};
	}
	my %used = map { $_->{path} => 1 } grep { $_ } values %place;
	for my $path (sort keys %$entry) {
		next if $used{$path};
		push @problems, { rule => 'layers',
		    where => "src/layers:$entry->{$path}{line}",
		    text => "$path names no source file" };
	}

	# Who defines and who declares each non-static name.
	for my $p (sort keys %$file) {
		for my $d (@{$file->{$p}{def}}) {
			next if $d->[3] eq 'static';
			$def{$d->[0]} //= { file => $p, line => $d->[2],
			    module => $file->{$p}{module} };
		}
		for my $d (@{$file->{$p}{decl}}) {
			next if $d->[3] eq 'static';
			$declared{$d->[0]} = $p if !$declared{$d->[0]} ||
			    ($p =~ /\.h$/ && $declared{$d->[0]} !~ /\.h$/);
		}
	}
	my $add = sub {
		my ($from, $to, @why) = @_;
		push @{$edge{$from}{$to}}, [@why] if $from ne $to;
	};

	for my $p (sort keys %$file) {
		my $f = $file->{$p};
		my $m = $f->{module};
		for my $inc (@{$f->{includes}}) {
			my ($name, $line) = @$inc;
			my $h = resolve($top, $name);
			if (!defined $h) {
				(my $dir = $p) =~ s{[^/]*$}{};
				my $near = resolve($top, "$dir$name");
				push @problems, { rule => 'missing',
				    where => "src/$p:$line",
				    text => "includes \"$name\", which is not " .
				    "in src/" . (defined $near ? ": write it " .
				    "with its folder, \"$near\"" : '') };
				next;
			}
			next unless $file->{$h};	# not a .c or .h
			$add->($m, $file->{$h}{module}, 'include',
			    "src/$p:$line", "#include \"$name\"");
		}
		for my $d (@{$f->{decl}}) {
			my ($name, $kind, $line, $storage) = @$d;
			my $where = $def{$name};
			next if $storage eq 'static' || !$where ||
			    $where->{module} eq $m;
			$add->($m, $where->{module}, 'declare', "src/$p:$line",
			    "declares $name (src/$where->{file} defines it)");
		}
		my %own = map { $_->[0] => 1 } @{$f->{decl}};
		for my $name (sort keys %{$f->{mentions}}) {
			my $where = $def{$name};
			next if !$where || !$declared{$name} || $own{$name} ||
			    $where->{module} eq $m;
			my $door = place($entry, $file->{$declared{$name}}{module});
			$add->($m, $where->{module}, 'use',
			    "src/$p:$f->{mentions}{$name}", "uses $name " .
			    "(src/$where->{file} defines it" . ($door &&
			    $door->{door} ? ", src/$declared{$name} declares " .
			    "it: a door declares callbacks, not functions" : '') .
			    ')');
		}
	}
	return { file => $file, module => \%module, place => \%place,
	    edge => \%edge, problems => \@problems };
}

# The number in a "src/x.c:12" place, for sorting.
sub where_key
{
	my ($where) = @_;
	my ($f, $l) = $where =~ /^(.*):(\d+)$/;
	return sprintf('%s:%09d', $f, $l);
}

# One problem per file out of a list of edge reasons ([kind, where,
# what]): at the file's first place, its other places as detail.
sub per_file
{
	my ($rule, $text, @list) = @_;
	my (%seen, @problems);

	for my $w (@list) {
		(my $f = $w->[1]) =~ s/:\d+$//;
		next if $seen{$f}++;
		my @same = grep { $_->[1] =~ /^\Q$f\E:/ } @list;
		push @problems, { rule => $rule, where => $w->[1],
		    text => "$w->[2]: $text",
		    detail => [map { "$_->[1]: $_->[2]" } @same[1 .. $#same]] };
	}
	return @problems;
}

# The level problems of the graph: headers that declare another module's
# names, includes and uses of a higher level (a door may be included from
# below), includes of a separate program.
sub level_problems
{
	my ($g) = @_;
	my ($place, $edge, @problems) = ($g->{place}, $g->{edge});

	for my $from (sort keys %$edge) {
		for my $to (sort keys %{$edge->{$from}}) {
			my ($pf, $pt) = ($place->{$from}, $place->{$to});
			my @why = @{$edge->{$from}{$to}};
			my @inc = grep { $_->[0] eq 'include' } @why;
			my @decl = grep { $_->[0] eq 'declare' } @why;
			my @use = grep { $_->[0] eq 'use' } @why;

			push @problems, per_file('foreign', 'a header ' .
			    'declares only what its own module defines', @decl);
			next unless $pf && $pt;
			if ($pt->{program} && $pt->{path} ne $pf->{path}) {
				push @problems, per_file('program', "$to " .
				    'belongs to a separate program', @inc, @use);
				next;
			}
			next if $pt->{level} <= $pf->{level} || $pt->{door};
			my $up = "$to is at level $pt->{level}, $from at " .
			    "$pf->{level}";
			push @problems, per_file('up', $up, @inc);

			# Uses from a file that includes $to's header upward
			# are said once, by that include (and declarations
			# once, as foreign).
			my %said = map { ($_->[1] =~ s/:\d+$//r) => 1 } @inc;
			push @problems, per_file('up', $up, grep {
			    !$said{$_->[1] =~ s/:\d+$//r} } @use);
		}
	}
	return @problems;
}

# The strongly connected components of the graph with more than one
# module (Tarjan), each a sorted list.
sub components
{
	my ($edge, @node) = @_;
	my ($index, %idx, %low, %on, @stack, @scc) = (0);
	my $visit;

	$visit = sub {
		my ($v) = @_;
		$idx{$v} = $low{$v} = $index++;
		push @stack, $v;
		$on{$v} = 1;
		for my $w (sort keys %{$edge->{$v} // {}}) {
			if (!defined $idx{$w}) {
				$visit->($w);
				$low{$v} = $low{$w} if $low{$w} < $low{$v};
			} elsif ($on{$w} && $idx{$w} < $low{$v}) {
				$low{$v} = $idx{$w};
			}
		}
		return if $low{$v} != $idx{$v};
		my @c;
		while (1) {
			my $w = pop @stack;
			$on{$w} = 0;
			push @c, $w;
			last if $w eq $v;
		}
		push @scc, [sort @c] if @c > 1;
	};
	for my $v (sort @node) {
		$visit->($v) unless defined $idx{$v};
	}
	undef $visit;
	return sort { $a->[0] cmp $b->[0] } @scc;
}

# The shortest path from one module to another inside a set of modules.
# Returns the modules along it, both ends included, or an empty list.
sub shortest_path
{
	my ($edge, $start, $goal, $in) = @_;
	my %from = ($start => undef);
	my @queue = ($start);

	while (@queue) {
		my $v = shift @queue;
		if ($v eq $goal) {
			my @path = ($v);
			unshift @path, $from{$path[0]}
			    while defined $from{$path[0]};
			return @path;
		}
		for my $w (sort keys %{$edge->{$v} // {}}) {
			next if !$in->{$w} || exists $from{$w};
			$from{$w} = $v;
			push @queue, $w;
		}
	}
	return ();
}

# How an edge goes: " (up)", " (same level)", or "" (down, or a door).
sub direction
{
	my ($place, $from, $to) = @_;
	my ($pf, $pt) = ($place->{$from}, $place->{$to});

	return '' if !$pf || !$pt || $pt->{door};
	return ' (up)' if $pt->{level} > $pf->{level};
	return ' (same level)' if $pt->{level} == $pf->{level};
	return '';
}

# The cycle problems. Inside each set of modules that reach each other,
# every edge lies on a cycle: take the edges by the length of the
# shortest cycle through them (pairs first) and report each cycle that
# goes through an edge no reported cycle took yet, with the first place
# of each kind (include, declare, use) of each of its edges.
sub cycle_problems
{
	my ($g) = @_;
	my $edge = $g->{edge};
	my @problems;

	for my $c (components($edge, keys %{$g->{module}})) {
		my %in = map { $_ => 1 } @$c;
		my (@cand, %taken);
		for my $from (@$c) {
			for my $to (sort grep { $in{$_} }
			    keys %{$edge->{$from}}) {
				my @back = shortest_path($edge, $to, $from,
				    \%in);
				pop @back;
				push @cand, [$from, @back];
			}
		}
		for my $cycle (sort { @$a <=> @$b || "@$a" cmp "@$b" } @cand) {
			next if $taken{"$cycle->[0] $cycle->[1]"};
			my @detail;
			for my $i (0 .. $#$cycle) {
				my ($from, $to) = ($cycle->[$i],
				    $cycle->[($i + 1) % @$cycle]);
				$taken{"$from $to"} = 1;
				my %kind;
				my $dir = direction($g->{place}, $from, $to);
				for my $w (@{$edge->{$from}{$to}}) {
					next if $kind{$w->[0]}++;
					push @detail, "$from -> $to$dir: " .
					    "$w->[1]: $w->[2]";
				}
			}
			my $first = $edge->{$cycle->[0]}{$cycle->[1]}[0];
			push @problems, { rule => 'cycle', where => $first->[1],
			    text => 'cycle ' . join(' -> ', @$cycle,
			    $cycle->[0]), detail => \@detail };
		}
	}
	return @problems;
}

# Checks the tree under $top (which holds src/). Returns its problems,
# sorted by place.
sub check
{
	my ($top) = @_;
	my $g = build($top);
	my @p = (@{$g->{problems}}, level_problems($g), cycle_problems($g));

	return sort { where_key($a->{where}) cmp where_key($b->{where}) ||
	    $a->{text} cmp $b->{text} } @p;
}

# The module graph by level, for a reader: each module with its files and
# their lines, then what it depends on ("^" marks a module above it).
sub graph
{
	my ($top) = @_;
	my $g = build($top);
	my ($place, $edge) = ($g->{place}, $g->{edge});
	my (%at, $out);

	for my $m (keys %{$g->{module}}) {
		my $p = $place->{$m};
		push @{$at{$p ? $p->{level} : '?'}}, $m;
	}
	for my $level (sort { ($a eq '?') <=> ($b eq '?') || $a <=> $b }
	    keys %at) {
		$out .= $level eq '?' ? "not placed\n" : "level $level\n";
		for my $m (sort @{$at{$level}}) {
			my $p = $place->{$m} // {};
			my $flag = join('', map { $p->{$_} ? " ($_)" : '' }
			    qw(door program));
			my @files = map { my $f = $_ =~ s{.*/}{}r;
			    "$f $g->{file}{$_}{lines}" } @{$g->{module}{$m}};
			$out .= sprintf("  %-18s %s%s\n", $m,
			    join(', ', @files), $flag);
			my @to;
			for my $to (sort keys %{$edge->{$m} // {}}) {
				my $pt = $place->{$to} // {};
				my $dir = direction($place, $m, $to);
				push @to, $to . ($dir eq ' (up)' ? '^' :
				    $pt->{door} ? '(door)' : '');
			}
			$out .= "      -> @to\n" if @to;
		}
	}
	return $out;
}

# The module graph in Graphviz's language: one row per level, top level
# first; edges up in red, edges within a level dashed.
sub dot
{
	my ($top) = @_;
	my $g = build($top);
	my ($place, $edge) = ($g->{place}, $g->{edge});
	my (%at, $out);

	$out = "digraph linecast {\n\trankdir=TB;\n\tnode [shape=box];\n";
	for my $m (keys %{$g->{module}}) {
		my $p = $place->{$m};
		push @{$at{$p ? $p->{level} : 'unplaced'}}, $m;
	}
	for my $level (sort keys %at) {
		$out .= "\t{ rank=same; \"level $level\" [shape=plaintext]; " .
		    join(' ', map { "\"$_\";" } sort @{$at{$level}}) . " }\n";
	}
	my @levels = grep { /^\d+$/ } keys %at;
	$out .= "\t" . join(' -> ', map { "\"level $_\"" }
	    sort { $b <=> $a } @levels) . " [style=invis];\n" if @levels > 1;
	for my $from (sort keys %$edge) {
		for my $to (sort keys %{$edge->{$from}}) {
			my $dir = direction($place, $from, $to);
			my $style = $dir eq ' (up)' ? ' [color=red]' :
			    $dir eq ' (same level)' ? ' [style=dashed]' : '';
			$out .= "\t\"$from\" -> \"$to\"$style;\n";
		}
	}
	return $out . "}\n";
}

1;
