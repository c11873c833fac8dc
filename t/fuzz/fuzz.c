/* The fuzz targets' input reader and property check. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

/* Reports a broken property and aborts. */
void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
	abort();
}

/* Starts reading an input. */
void
fuzz_input_init(struct fuzz_input *in, const uint8_t *data, size_t len)
{
	in->p = data;
	in->left = len;
}

/* Returns 1 while some input is left. */
int
fuzz_more(const struct fuzz_input *in)
{
	return (in->left != 0);
}

/* Takes one byte, or 0 past the end. */
uint8_t
fuzz_byte(struct fuzz_input *in)
{
	if (in->left == 0)
		return (0);
	in->left--;
	return (*in->p++);
}

/* Takes four bytes as a little-endian number. */
uint32_t
fuzz_u32(struct fuzz_input *in)
{
	uint32_t	v = 0;
	int		i;

	for (i = 0; i < 4; i++)
		v |= (uint32_t)fuzz_byte(in) << (8 * i);
	return (v);
}

/*
 * Takes a run of up to max bytes, its length from the next byte (so a
 * mutation of one byte moves one boundary). Returns its length; *run
 * points into the input.
 */
size_t
fuzz_run(struct fuzz_input *in, size_t max, const uint8_t **run)
{
	size_t	n = fuzz_byte(in);

	if (n > max)
		n = max;
	if (n > in->left)
		n = in->left;
	*run = in->p;
	in->p += n;
	in->left -= n;
	return (n);
}
