#!/usr/bin/perl
# scripts/setup configures again when CONFIGURE_FLAGS differ from the
# flags the tree was configured with (scripts/setup -n says what it would
# do and does nothing).

use strict;
use warnings;
use FindBin qw($Bin);
use Test::More;

my $top = $ENV{LINECAST_SRCDIR} // "$Bin/..";
plan skip_all => 'the tree is not configured in place'
    unless -x "$top/config.status" && -x "$top/scripts/setup";
my $now = `cd '$top' && ./config.status --config`;
chomp $now;
(my $flags = $now) =~ s/'//g;

SKIP: {
	# CONFIGURE_FLAGS is words: flags with spaces (a packager's CFLAGS=...)
	# cannot be given again that way.
	skip 'configured with a flag that has a space', 3
	    if $now =~ /'[^']* [^']*'/;
	my $same = `CONFIGURE_FLAGS='$flags' '$top/scripts/setup' -n 2>&1`;
	is($?, 0, 'setup -n: exit 0');
	like($same, qr/^setup: configured with flags '\Q$flags\E' already$/m,
	    'the same flags: no configure');
	unlike($same, qr/would run: \.\/configure/, 'and it would not run it');
}

my $other = $flags =~ /--enable-werror/ ? '' : '--enable-werror';
my $diff = `CONFIGURE_FLAGS='$other' '$top/scripts/setup' -n 2>&1`;
like($diff, qr/^setup: would run: \.\/configure\s*\Q$other\E$/m,
    "other flags ('$other'): it configures again");
like($diff, qr/^setup: would run: make clean$/m, 'and rebuilds from clean');
like($diff, qr/^setup: would run: make -j/m, 'then builds');

done_testing;
