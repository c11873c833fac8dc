/*
 * What the fuzz targets share: the libFuzzer entry points, a reader that
 * takes a target's decisions from its input, and the check that stops a
 * run on a broken property (an abort, which libFuzzer and the corpus
 * replay both report with the input).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The input not read yet. Reading past its end gives zeros and empty
 * byte runs, so a target never needs to check before it reads.
 */
struct fuzz_input {
	const uint8_t	*p;
	size_t		 left;
};

/* Stops the run with the failed property and where it is. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond);			\
} while (0)

void		fuzz_fail(const char *, int, const char *)
		    __attribute__((noreturn));
void		fuzz_input_init(struct fuzz_input *, const uint8_t *, size_t);
int		fuzz_more(const struct fuzz_input *);
uint8_t		fuzz_byte(struct fuzz_input *);
uint32_t	fuzz_u32(struct fuzz_input *);
size_t		fuzz_run(struct fuzz_input *, size_t, const uint8_t **);

#endif
