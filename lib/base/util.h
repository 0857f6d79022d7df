/*
 * util.h - small pieces every module uses: UUIDs, times, UTF-8, big-endian
 * keys.  Nothing here allocates unless its comment says so.
 */
#ifndef SUP_UTIL_H
#define SUP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sup.h"

#define UUID_LEN 16		/* bytes */
#define UUID_STRLEN 36		/* 8-4-4-4-12 hex, without the NUL */
#define TIME_STRLEN 27		/* 2026-11-23T10:04:05.123456Z */

/* A random (version 4) UUID from libsodium's generator. */
void uuid_gen(uint8_t out[UUID_LEN]);

/*
 * A time-ordered (version 7, RFC 9562) UUID for the time us (µs since the
 * epoch): the milliseconds in the first 48 bits, the microseconds within
 * them in the next 12 (the RFC's "increased clock precision"), the rest
 * random.  UUIDs made later sort after those made earlier (within the
 * same microsecond, in no order).
 */
void uuid_gen_time(uint8_t out[UUID_LEN], int64_t us);

/* Parse the canonical text form, either case; false when it is not one. */
bool uuid_parse(const char *s, size_t len, uint8_t out[UUID_LEN]);
/* The value of the hex digit c (either case), or -1 when it is none. */
int hexval(char c);

/* Lowercase canonical text form into buf (at least UUID_STRLEN + 1). */
void uuid_format(const uint8_t u[UUID_LEN], char *buf);

/*
 * Microseconds since the epoch, from the real-time clock, moved by the
 * test clock's offset when there is one.  Every time lib/ reads goes
 * through here.
 *
 * The test clock (docs/testing.md): when the environment names a file in
 * SUPPORT_TEST_CLOCK at start-up, the file holds a signed offset in
 * seconds (a decimal, with up to six places after the point) that is added
 * to the clock; a file that is missing or holds anything else is no
 * offset.  The file is read again whenever it changes (its inode, size or
 * modification time: replace it by a rename to be sure a change is seen),
 * so a test moves the clock of servers that are running.  Without the
 * variable a read of the time costs one NULL test more.
 */
int64_t time_now_us(void);

/*
 * For unit tests: read the test clock's offset from path from now on, as
 * SUPPORT_TEST_CLOCK would (NULL: no test clock), or set the offset to us
 * directly, whatever the file says.
 */
void time_test_file(const char *path);
void time_test_offset(int64_t us);

/* ISO 8601 UTC with microseconds into buf (at least TIME_STRLEN + 1). */
void time_format(int64_t us, char *buf);

/*
 * Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.ffffff]]" with an optional "Z" or
 * "+00:00".  False when it is none of those.
 */
bool time_parse(const char *s, int64_t *us);

/* Number of code points of valid UTF-8 without NUL, or -1 when invalid. */
long utf8_len(const char *s, size_t n);

/* The span of s without leading and trailing ASCII white space. */
void str_trim(const char *s, size_t n, const char **start, size_t *len);

/* Is needle[0..n) in hay, ignoring the case of ASCII letters? */
bool str_icontains(const char *hay, const char *needle, size_t n);
/* The same in hay[0..hlen), which need not end in a NUL. */
bool str_icontains_n(const char *hay, size_t hlen, const char *needle,
    size_t n);

/*
 * Write all of buf[0..n) to fd, again after a signal or a short write;
 * false (errno set) when it cannot.
 */
bool write_all(int fd, const void *buf, size_t n);

/*
 * A growing byte string.  Appending never fails loudly: the first failed
 * allocation sets failed and later appends do nothing, so a caller checks
 * once at the end.  p is NUL-terminated; free(p) releases it.
 */
struct sbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);	/* a C string */
SUP_PRINTF(2, 3) void sbuf_printf(struct sbuf *b, const char *fmt, ...);
/* A whole number in decimal (not printf: the records and events write many). */
void sbuf_add_int(struct sbuf *b, int64_t x);
/* A string literal: its length is known when compiling. */
#define sbuf_lit(b, s) sbuf_add((b), (s), sizeof(s) - 1)

/*
 * After json_tokener_parse_ex returned NULL for a whole input: did an
 * allocation fail, rather than the text not being JSON?  json-c 0.16 has
 * no error code for it: a failed allocation leaves the tokener's error at
 * json_tokener_success (json-c issue #854); later versions set
 * json_tokener_error_memory.  Callers return SUP_ENOMEM then, not their
 * "bad JSON" error.
 */
struct json_tokener;
bool json_parse_nomem(struct json_tokener *tok);

/*
 * Make the tokener's buffer hold len bytes of text before it parses them;
 * false when out of memory.  json-c (0.16, 0.17) does not check its
 * appends to that buffer: a string that could not grow it comes out cut
 * short, with no error.  No value is longer than the text it is read from
 * (unescaping only shortens), so a buffer that holds the whole text never
 * has to grow.
 */
bool json_parse_room(struct json_tokener *tok, size_t len);

/*
 * Set member k of object o to v, taking v.  False when v is NULL (the
 * allocation that made it failed: json-c would add a null member) or when
 * o cannot take it (v is released then): the caller returns SUP_ENOMEM,
 * so that a record is written whole or not at all.  json_set_null sets
 * a null member.  k must outlive o (a string constant): json-c keeps the
 * pointer, not a copy, since the copy it would make is lost when its table
 * cannot grow (json_object_object_add_ex in json-c 0.16 and 0.17 returns
 * -1 without freeing it).
 */
struct json_object;

/*
 * Did json-c keep every member the JSON text text[0..len) names, in o
 * (its parse)?  json-c (0.16, 0.17) drops a member, with no error, when
 * the object's table cannot grow for it (json_tokener.c's
 * object_value_add does not look at json_object_object_add's result).
 * The names in the text (its colons outside strings) are counted against
 * the members of o and of every object in it.  A text that names a member
 * twice also has more names than json-c keeps (the last one wins).
 */
bool json_members_kept(struct json_object *o, const char *text, size_t len);
/* The members of o and of every object in it. */
size_t json_members(struct json_object *o);

/*
 * json_object_to_json_string_length(o, flags, len), checked.  json-c's
 * printer (0.16, 0.17) does not check its buffer's appends: when one
 * cannot grow the buffer, that piece is left out and the text, with a
 * hole in it, is returned as whole.  Here the length of the text is
 * worked out apart and compared: NULL (out of memory) when they differ.
 * For plain json-c values only (no custom serializer, such as lib/view.c's
 * raw objects and lib/jtext.h's text objects); flags may hold only
 * JSON_C_TO_STRING_PLAIN and JSON_C_TO_STRING_NOSLASHESCAPE.  A double
 * whose text is over 30 bytes cannot be checked and is refused (NULL):
 * records hold none.  The text belongs to o, as json-c's does.
 */
const char *json_text(struct json_object *o, int flags, size_t *len);

/*
 * Set member k (a string constant: json-c keeps the pointer) of o to v,
 * which is taken: false, with v released, when v is NULL (a failed
 * json_object_new_*) or the member could not be added.  json-c's own
 * json_object_object_add takes a NULL value for a null member, which
 * turned a failed allocation into a field quietly missing.
 * json_set_null sets it to null.
 */
bool json_set(struct json_object *o, const char *k, struct json_object *v);
bool json_set_null(struct json_object *o, const char *k);

/*
 * The string member k of o, or NULL when o is NULL or its k is missing
 * or not a string.  o's: valid while o is, not to be freed.
 */
const char *json_str(struct json_object *o, const char *k);

/* Parse a whole decimal integer in [min, max]; false otherwise. */
bool parse_long(const char *s, long min, long max, long *out);

static inline void
be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t
be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline void
be32_put(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

#endif
