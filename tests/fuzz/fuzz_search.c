/*
 * fuzz_search - libFuzzer target for the full-text search's parsers of
 * outside text (lib/desk/textsearch.c): the words of a subject or a
 * message (search_words) and a query (search_parse).
 *
 * Input: any bytes, in a buffer of exactly their size.  Every word must
 * be 1..SEARCH_WORD_MAX bytes of valid UTF-8 without NUL, come from a run
 * inside the input, and the runs must come in order; the query parses
 * (any text does) and frees.
 * Build with ./configure CC=clang --enable-fuzzing; the saved corpus in
 * corpus/search/ is replayed by make check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "textsearch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	size_t size, last_at;
};

static int
check_word(void *ctx, const char *w, size_t n, size_t at, size_t span)
{
	struct seen *s = ctx;
	utf8proc_int32_t c;

	if (n == 0 || n > SEARCH_WORD_MAX || memchr(w, 0, n) != NULL ||
	    span == 0 || at > s->size || span > s->size - at ||
	    at < s->last_at)
		abort();
	s->last_at = at;
	for (size_t i = 0; i < n; ) {
		utf8proc_ssize_t k = utf8proc_iterate((const uint8_t *)w + i,
		    (utf8proc_ssize_t)(n - i), &c);
		if (k <= 0)
			abort();
		i += (size_t)k;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	struct seen s = { .size = size };
	struct search_query *q;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (search_words(copy, size, check_word, &s) != SUP_OK)
		abort();
	if (search_parse(copy, size, &q) != SUP_OK)
		abort();
	if (search_number(q) < 0)
		abort();
	search_query_free(q);
	(void)search_is_number_only(copy, size);
	free(copy);
	return 0;
}
