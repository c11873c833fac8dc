#!/usr/bin/perl
# make install and make uninstall into a throwaway DESTDIR: the layout, the
# config file made from the option table and never overwritten, and
# nothing of linecast's own left behind by uninstall.

use strict;
use warnings;
use FindBin qw($Bin);
use lib "$Bin/lib";
use Test::More;
use File::Find;
use File::Temp qw(tempdir);
use Linecast;

my $build = $ENV{LINECAST_BUILDDIR};
plan skip_all => 'run from make check (LINECAST_BUILDDIR)'
    unless $build && -f "$build/Makefile";
my $dest = tempdir('linecast-dest-XXXXXX', TMPDIR => 1, CLEANUP => 1);
# A make of its own, not a part of the make check that runs this test.
delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES)};

# Runs make in the build tree with DESTDIR; returns its exit code.
sub make
{
	my ($target) = @_;
	system("make -s -C '$build' $target DESTDIR='$dest' >'$dest.log' 2>&1");
	diag(`cat '$dest.log'`) if $?;
	return $? >> 8;
}

# Returns a Makefile variable of the build tree, expanded.
sub var
{
	my ($name) = @_;
	my $v = `make -s -C '$build' --no-print-directory -f Makefile -f - print-var <<'EOF'
print-var:
	\@echo \$($name)
EOF`;
	chomp $v;
	return $v;
}
my %dir = map { $_ => var($_) } qw(bindir mandir pkgdatadir docdir
    sysconfdir systemdsystemunitdir sysusersdir prefix);

is(make('install'), 0, 'make install');
for my $f ("$dir{bindir}/linecast", "$dir{bindir}/linecast-bench") {
	ok(-x "$dest$f", "$f");
}
for my $f (qw(linecast.1 linecast-bench.1)) {
	ok(-f "$dest$dir{mandir}/man1/$f", "man1/$f");
}
for my $f (qw(chat.lua auth.lua filter.lua bot.lua history.lua lookup.lua)) {
	ok(-f "$dest$dir{pkgdatadir}/$f", "the stock script $f");
}
for my $f (qw(README.md LICENSE protocol.md lua.md)) {
	ok(-f "$dest$dir{docdir}/$f", "doc/$f");
}
my $conf = "$dest$dir{sysconfdir}/linecast/linecast.conf";
ok(-f $conf, 'the config file');
my $printed = Linecast->run('--print-config')->{stdout};
is(`cat '$conf'`, $printed, 'it is what --print-config prints');
SKIP: {
	skip 'configured without systemd', 2 if $dir{systemdsystemunitdir} eq 'no';
	ok(-f "$dest$dir{systemdsystemunitdir}/linecast.service", 'the unit');
	ok(-f "$dest$dir{sysusersdir}/linecast.conf", 'the sysusers.d file');
}

# An existing config file is kept.
open my $fh, '>>', $conf or die;
print $fh "-- changed by the operator\n";
close $fh;
is(make('install'), 0, 'make install again');
like(`cat '$conf'`, qr/changed by the operator/, 'the changed config is kept');

# Uninstall: a changed config stays; once it is gone, nothing of
# linecast's own is left, only the hierarchy's shared directories.
is(make('uninstall'), 0, 'make uninstall');
ok(-f $conf, 'the changed config file stays');
unlink $conf;
is(make('uninstall'), 0, 'make uninstall again');
my (@files, @dirs);
find(sub { push @files, $File::Find::name if -f;
    push @dirs, $File::Find::name if -d }, $dest);
is_deeply(\@files, [], 'no file is left');
# What may stay: the shared directories linecast's own are in (bin, man1,
# share, share/doc, the sysconfdir, lib above systemd/system...) and the
# ones above them; linecast's own (share/linecast, doc/linecast,
# etc/linecast, systemd/system and systemd, sysusers.d) must be gone.
sub parent { (my $d = $_[0]) =~ s{/[^/]+/?$}{}; return $d }
my %shared;
for my $d ($dir{bindir}, "$dir{mandir}/man1", parent($dir{pkgdatadir}),
    parent($dir{docdir}), $dir{sysconfdir}, parent($dir{sysusersdir}),
    $dir{systemdsystemunitdir} eq 'no' ? () :
    parent(parent($dir{systemdsystemunitdir}))) {
	for (my $a = $d; $a ne ''; $a = parent($a)) {
		$shared{"$dest$a"} = 1;
	}
}
$shared{$dest} = 1;
my @left = grep { !$shared{$_} } @dirs;
is_deeply(\@left, [], 'no directory of its own is left')
    or diag(join "\n", @dirs);

done_testing;
