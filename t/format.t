#!/usr/bin/perl
# Every src/**/*.[ch] is formatted as .clang-format says (OpenBSD
# style(9)): clang-format --dry-run finds nothing to change. One test per
# file; a failure shows the first places clang-format would change.
# CLANG_FORMAT names the program (default clang-format); the options are
# those of clang-format 14.

use strict;
use warnings;
use FindBin qw($Bin);
use File::Find ();
use Test::More;

my $src = $ENV{LINECAST_SRCDIR} // "$Bin/..";
my $clang_format = $ENV{CLANG_FORMAT} // 'clang-format';

# The major version of clang-format, or undef if it does not run.
sub clang_format_version
{
	my $out = `$clang_format --version 2>/dev/null`;
	return undef if $? != 0 || !defined $out;
	return $out =~ /version (\d+)\./ ? $1 : 0;
}

my $version = clang_format_version();
plan skip_all => 'clang-format not installed' unless defined $version;
plan skip_all => "clang-format $version is older than 14"
    if $version < 14;

my @files;
File::Find::find({ no_chdir => 1, wanted => sub {
	push @files, $1 if m{^\Q$src\E/(src/.+\.[ch])$} && -f $_;
} }, "$src/src");

# The lines of a file.
sub lines
{
	my ($path) = @_;
	open(my $fh, '<', $path) or return ();
	my @l = <$fh>;
	close($fh);
	return @l;
}

for my $f (sort @files) {
	# Each warning names one place: "FILE:LINE:COL: warning: ...".
	my @out = `cd '$src' && $clang_format --style=file --dry-run '$f' 2>&1`;
	my $status = $?;
	my (%seen, @line);
	for (@out) {
		push @line, $1 if /^\Q$f\E:(\d+):\d+: warning:/ && !$seen{$1}++;
	}
	if ($status != 0 && !@line) {
		fail("$f is formatted");
		diag("clang-format failed:\n", @out);
		next;
	}
	ok(!@line, "$f is formatted") and next;
	my @text = lines("$src/$f");
	diag(scalar(@line) . " lines to change, first:");
	diag(sprintf("%5d: %s", $_, $text[$_ - 1] // "\n") =~ s/\n$//r)
	    for @line[0 .. ($#line < 4 ? $#line : 4)];
}

done_testing();
