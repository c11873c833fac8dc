#!/usr/bin/perl
# linecast-bench's command line as a reader meets it: -V and --version,
# and a man page that documents every option --help lists.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use File::Basename qw(dirname);
use Test::More;
use Linecast;

# The bench binary: $LINECAST_BENCH, else next to the server binary.
my $bench = $ENV{LINECAST_BENCH}
    || dirname(Linecast::binary()) . '/linecast-bench';
plan skip_all => "no linecast-bench at $bench (set LINECAST_BENCH)"
    unless -x $bench;
my $top = $ENV{LINECAST_SRCDIR} || "$Bin/..";

# Runs linecast-bench with these arguments, for options that print and
# exit at once. Returns its exit code and its stdout.
sub run_bench
{
	my (@args) = @_;
	local $SIG{ALRM} = sub { die "linecast-bench @args timed out\n" };
	alarm 10;
	open my $fh, '-|', $bench, @args or die "$bench: $!";
	local $/;
	my $out = <$fh> // '';
	close $fh;
	alarm 0;
	return ($? >> 8, $out);
}

# Returns the version that configure.ac gives the package.
sub package_version
{
	open my $fh, '<', "$top/configure.ac" or die "configure.ac: $!";
	while (<$fh>) {
		return $1 if /^AC_INIT\(\[[^]]*\],\s*\[([^]]+)\]/;
	}
	die "no AC_INIT version in configure.ac\n";
}

my $version = package_version();
for my $v ('-V', '--version') {
	my ($exit, $out) = run_bench($v);
	is($exit, 0, "$v exits 0");
	is($out, "linecast-bench $version\n", "$v prints the version");
}
my ($exit, $help) = run_bench('-h');
like($help, qr/^\s+-V, --version\b/m, '-h lists -V, --version');

# Every long option that -h prints, and every workload, is in the man page.
open my $fh, '<', "$top/doc/linecast-bench.1" or die "linecast-bench.1: $!";
my $man = do { local $/; <$fh> };
close $fh;
$man =~ s/\\f[BIRP]//g;	# no font changes
$man =~ s/\\-/-/g;		# roff's \- is a plain hyphen
my %long = map { $_ => 1 } $help =~ /(?<![\w-])--([a-z][a-z-]*)/g;
cmp_ok(scalar keys %long, '>=', 19, '-h lists the long options');
for my $opt (sort keys %long) {
	like($man, qr/(?<![\w-])--\Q$opt\E(?![\w-])/,
	    "the man page documents --$opt");
}
for my $workload (qw(fanout rate rooms conns)) {
	like($man, qr/^\.TP\n\.B \Q$workload\E$/m,
	    "the man page describes the $workload workload");
}

done_testing();
