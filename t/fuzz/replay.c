/*
 * Runs a fuzz target over its committed corpus without libFuzzer, as a
 * TAP test: t/fuzz/NAME_replay reads $LINECAST_SRCDIR/t/fuzz/corpus/NAME
 * (or the files and directories given as arguments). Every build runs the
 * corpus this way, so an input that once crashed stays a test.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Inputs larger than this are cut, as libFuzzer's -max_len would. */
#define REPLAY_MAX	(1 << 20)

static int	replay_count;

/* Runs the target on one file. Returns 0, or -1 if it cannot be read. */
static int
replay_file(const char *path)
{
	static uint8_t	 buf[REPLAY_MAX];
	FILE		*f;
	size_t		 n;

	if ((f = fopen(path, "rb")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	printf("ok %d - %s\n", ++replay_count, path);
	fflush(stdout);
	return (0);
}

/* Sorts names for a stable order. */
static int
replay_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Runs the target on each file of a directory. Returns 0 or -1. */
static int
replay_dir(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, path[PATH_MAX];
	size_t		 n = 0, i;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof *names);
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, replay_cmp);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (replay_file(path) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return (rc);
}

/* Runs the target on a file or on a directory's files. */
static int
replay_path(const char *path)
{
	struct stat	sb;

	if (stat(path, &sb) != 0)
		return (-1);
	if (S_ISDIR(sb.st_mode))
		return (replay_dir(path));
	return (replay_file(path));
}

/* Returns the default corpus: from the program's name and the srcdir. */
static void
replay_default(const char *argv0, char *path, size_t size)
{
	const char	*base, *srcdir = getenv("LINECAST_SRCDIR");
	size_t		 len;

	base = strrchr(argv0, '/');
	base = base == NULL ? argv0 : base + 1;
	len = strlen(base);
	if (len > 7 && strcmp(base + len - 7, "_replay") == 0)
		len -= 7;
	snprintf(path, size, "%s/t/fuzz/corpus/%.*s",
	    srcdir != NULL ? srcdir : ".", (int)len, base);
}

int
main(int argc, char **argv)
{
	char	path[PATH_MAX];
	int	i, rc = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		replay_default(argv[0], path, sizeof path);
		rc = replay_path(path);
	}
	for (i = 1; i < argc; i++) {
		if (replay_path(argv[i]) != 0)
			rc = -1;
	}
	if (rc != 0 || replay_count == 0)
		printf("not ok %d - a corpus could not be read\n",
		    ++replay_count);
	printf("1..%d\n", replay_count);
	return (rc != 0);
}
