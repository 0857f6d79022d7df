/*
 * fuzz_jtext - libFuzzer target for reading JSON text in place
 * (lib/text/jtext.c).
 *
 * Input: any bytes, read as the text of one value, in a buffer of exactly
 * their size (a read past it is the sanitizer's to see).  Every member,
 * element and string is read, recursively; every value read lies inside
 * the input.  When json-c, in strict mode, parses the whole input, every
 * value reads as json-c's (tests/jtext_same.h).
 * Build with ./configure CC=clang --enable-fuzzing; the saved corpus in
 * corpus/jtext/ is replayed by ./test.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jtext.h"
#include "util.h"

#include "../jtext_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEPTH_MAX 64

/* Read all of v; abort when a value read lies outside [lo, hi). */
static void
walk(struct jt v, const char *lo, const char *hi, int depth)
{
	struct jt_index ix;
	struct jt_iter it;
	struct jt el, m;
	struct sbuf b = { 0 };

	if (v.p != NULL && (v.p < lo || v.n > (size_t)(hi - v.p)))
		abort();
	if (depth > DEPTH_MAX)
		return;
	jt_truthy(v);
	jt_string_plain(v);
	if (jt_string_get(v, &b) && b.failed)
		abort();
	free(b.p);
	jt_index_build(v, &ix);
	for (size_t i = 0; i < ix.n; i++) {
		/* Each member found by name, through both ways. */
		if (!jt_index_get(&ix, ix.m[i].name, ix.m[i].len, &m) ||
		    (!ix.over && !jt_member(v, ix.m[i].name, ix.m[i].len, &m)))
			abort();
		walk(ix.m[i].v, lo, hi, depth + 1);
	}
	if (jt_iter_start(v, &it))
		while (jt_iter_next(&it, &el))
			walk(el, lo, hi, depth + 1);
	if (jt_iter_start(v, &it))
		while (jt_iter_next_index(&it, &el, &ix)) {
			jt_iter_more(&it);
			if (el.p < lo || el.n > (size_t)(hi - el.p))
				abort();
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	json_tokener *tok;
	json_object *parsed;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	walk((struct jt){ size ? copy : NULL, size }, copy, copy + size, 0);
	free(copy);
	/* Strict JSON that json-c reads whole: read alike.  json-c takes
	 * NaN and Infinity even when strict; they are no JSON (this reader
	 * sees no value there) and the API never writes them. */
	if (size == 0 || memchr(data, '\0', size) != NULL ||
	    memmem(data, size, "NaN", 3) != NULL ||
	    memmem(data, size, "Infinity", 8) != NULL ||
	    (tok = json_tokener_new()) == NULL)
		return 0;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	parsed = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	if (parsed != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	    (size_t)json_tokener_get_parse_end(tok) == size &&
	    data[0] != ' ' && data[0] != '\t' && data[0] != '\n' &&
	    data[0] != '\r' && data[size - 1] != ' ' && data[size - 1] != '\t' &&
	    data[size - 1] != '\n' && data[size - 1] != '\r') {
		if ((copy = malloc(size)) == NULL)
			abort();
		memcpy(copy, data, size);
		if (!same((struct jt){ copy, size }, parsed))
			abort();
		free(copy);
	}
	json_object_put(parsed);
	json_tokener_free(tok);
	return 0;
}
