/*
 * A small header-only TAP producer for the C unit tests.
 *
 *	#include "../tap.h"		(from t/unit/)
 *
 *	int
 *	main(void)
 *	{
 *		plan(2);			(or no plan at all)
 *		ok(1 + 1 == 2, "adds %d", 2);
 *		is_str(name, "lobby", "the default channel");
 *		return (done_testing());
 *	}
 *
 * Each check prints "ok N - name" or "not ok N - name" with what it got
 * and what it wanted, and returns 1 if it passed. done_testing() prints
 * the plan if plan() was not called and returns main()'s exit status: 1 if
 * a test failed or the count differs from the plan, else 0.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TAP_FN static __attribute__((unused))

static int	tap_planned = -1;
static int	tap_run;
static int	tap_failed;

/* Announces how many tests will run. */
TAP_FN void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
}

/* Prints a comment line, "# ..." on stdout. */
TAP_FN void
diag(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

/* Prints one test's result line. Returns cond. */
TAP_FN int
tap_vok(int cond, const char *file, int line, const char *fmt, va_list ap)
{
	tap_run++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	if (!cond) {
		tap_failed++;
		printf("#   Failed test at %s line %d.\n", file, line);
	}
	fflush(stdout);
	return (cond);
}

/* Checks a condition. Returns it. */
TAP_FN __attribute__((format(printf, 4, 5))) int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	cond = tap_vok(cond != 0, file, line, fmt, ap);
	va_end(ap);
	return (cond);
}

/* Checks two integers are equal. */
TAP_FN int
tap_is_int(long long got, long long want, const char *file, int line,
    const char *name)
{
	if (tap_ok(got == want, file, line, "%s", name))
		return (1);
	diag("       got: %lld", got);
	diag("  expected: %lld", want);
	return (0);
}

/* Prints bytes (or NULL) as a comment, escaped and cut at 200 bytes. */
TAP_FN void
tap_diag_mem(const char *label, const unsigned char *p, size_t len)
{
	size_t	i;

	if (p == NULL) {
		printf("# %10s: NULL\n", label);
		return;
	}
	printf("# %10s: %zu bytes '", label, len);
	for (i = 0; i < len && i < 200; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
	printf("'%s\n", len > 200 ? "..." : "");
}

/* Checks two strings are equal; NULL equals only NULL. */
TAP_FN int
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *name)
{
	int	same;

	same = (got == NULL || want == NULL) ? got == want :
	    strcmp(got, want) == 0;
	if (tap_ok(same, file, line, "%s", name))
		return (1);
	tap_diag_mem("got", (const void *)got, got ? strlen(got) : 0);
	tap_diag_mem("expected", (const void *)want, want ? strlen(want) : 0);
	return (0);
}

/* Checks two byte ranges are equal. */
TAP_FN int
tap_is_mem(const char *file, int line, const void *got, size_t glen,
    const void *want, size_t wlen, const char *name)
{
	if (tap_ok(glen == wlen && memcmp(got, want, glen) == 0, file, line,
	    "%s", name))
		return (1);
	tap_diag_mem("got", got, glen);
	tap_diag_mem("expected", want, wlen);
	return (0);
}

/* Ends the run. Returns the exit status for main(). */
TAP_FN int
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_run != tap_planned) {
		diag("planned %d tests but ran %d", tap_planned, tap_run);
		return (1);
	}
	if (tap_failed != 0)
		diag("failed %d of %d tests", tap_failed, tap_run);
	fflush(stdout);
	return (tap_failed != 0);
}

#define ok(cond, ...) tap_ok((cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, name)						\
	tap_is_int((got), (want), __FILE__, __LINE__, (name))
#define is_str(got, want, name)						\
	tap_is_str((got), (want), __FILE__, __LINE__, (name))
/* is_mem(got, glen, want, wlen, name), variadic so S("...") can be one. */
#define is_mem(...) tap_is_mem(__FILE__, __LINE__, __VA_ARGS__)

#endif
