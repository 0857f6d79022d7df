/*
 * jtext.h - reading JSON text in place: a member of an object, the
 * elements of an array, a string's content, without making a json-c object
 * of each value first.
 *
 * The API's objects leave the store as text (lib/desk/view.c splices the stored
 * records); a page reads a few members of each and writes most of the text
 * out again.  Parsing all of it into json-c objects cost a chat page more
 * than everything else together (docs/pages.md, "Speed").  json-c,
 * jansson and cJSON build a tree; jsmn (libjsmn-dev) tokenizes in place,
 * but walks every byte of every string into a token array for the whole
 * text and unescapes nothing: 357k instructions to tokenize a 17 KB ticket
 * against 122k for this reader to index the ticket and each of its
 * messages (strings skipped with memchr).  So this small reader is written
 * here.  It never trusts the text: malformed or cut-off text reads as a
 * missing value, never past the end.
 *
 * A "text object" is a json-c object carrying such text: it prints as the
 * text (json-c's serializer), and the template engine reads the text's
 * members behind the json-c members a page adds to it.
 */
#ifndef SUP_JTEXT_H
#define SUP_JTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/*
 * One JSON value's text, p[0..n), from its first byte to its last (no
 * white space around it); p == NULL: no value.
 */
struct jt {
	const char *p;
	size_t n;
};

enum jt_type {
	JT_NONE,		/* no value, or not JSON */
	JT_NULL,
	JT_BOOL,
	JT_NUMBER,
	JT_STRING,
	JT_OBJECT,
	JT_ARRAY,
};

/* The type of v, from its first byte. */
enum jt_type jt_type(struct jt v);

/*
 * The member name (n bytes, compared with the member names as written:
 * names with escapes never match) of object v in *out; false when v is
 * not an object or has no such member.  Of equal names the last counts,
 * as json-c reads them.
 */
bool jt_member(struct jt v, const char *name, size_t n, struct jt *out);

/*
 * The members of one object, found in one pass, for an object read many
 * times (a template looks up every name in every section around it).
 * An object with more members than fit is read with jt_member instead.
 */
#define JT_INDEX_MAX 32

struct jt_index {
	struct jt obj;
	size_t n;
	bool over;			/* more members than m holds */
	struct {
		const char *name;
		size_t len;
		struct jt v;
	} m[JT_INDEX_MAX];
};

/* Index object v into *ix (an object that is not: no members). */
void jt_index_build(struct jt v, struct jt_index *ix);

/* jt_member through the index (an object past the index: jt_member). */
bool jt_index_get(const struct jt_index *ix, const char *name, size_t n,
    struct jt *out);

/* The walk over an array's elements. */
struct jt_iter {
	const char *p, *end;
};

/* Start walking array v; false when v is not an array. */
bool jt_iter_start(struct jt v, struct jt_iter *it);

/* The next element in *el; false at the end (or on malformed text). */
bool jt_iter_next(struct jt_iter *it, struct jt *el);

/*
 * jt_iter_next, indexing the element into *ix as it goes when it is an
 * object (one pass over it instead of two); ix has no members otherwise.
 */
bool jt_iter_next_index(struct jt_iter *it, struct jt *el,
    struct jt_index *ix);

/* Is there an element after the one jt_iter_next gave last? */
bool jt_iter_more(const struct jt_iter *it);

/* Is v true, as a template section sees it (docs/templates.md)? */
bool jt_truthy(struct jt v);

/*
 * Does string v contain escapes?  When not, its content is v.p + 1 for
 * v.n - 2 bytes, as it is.
 */
bool jt_string_plain(struct jt v);

/*
 * The content of string v, unescaped, appended to b (lib/base/util.h); false
 * when v is not a well-formed string (b unchanged then) or b failed.  A
 * \u escape of a lone surrogate becomes U+FFFD, as json-c reads it.
 */
struct sbuf;
bool jt_string_get(struct jt v, struct sbuf *b);

/*
 * Append s[0..n) to b as a JSON string, quotes included: '"', '\\' and
 * the control characters escaped (as json-c writes them, "\/" apart: a
 * slash stays as it is), every other byte as it is (s should be UTF-8).
 * For text written by hand where building json-c objects to print them
 * would cost more than the rest of the write (lib/desk/event.c).
 */
void jt_put_string(struct sbuf *b, const char *s, size_t n);

/*
 * A json-c object printing as text (len bytes, taken: freed with the
 * object; freed now when this fails).  NULL when out of memory.
 */
json_object *jt_object_new(char *text, size_t len);

/*
 * The text of o in *out when o is a text object (whatever members were
 * added to it since); false otherwise.  Borrowed: valid while o lives.
 */
bool jt_object_text(json_object *o, struct jt *out);

/*
 * The index of a text object's members, built the first time it is asked
 * for and kept with the object (a page and its template read the same
 * ticket); NULL when o is not a text object or out of memory.
 */
const struct jt_index *jt_object_index(json_object *o);

/*
 * Tell text object o that one of its values lies at [at, end) of its
 * text (offsets): a member the code that wrote the text knows the place
 * of, such as a ticket's thread.  Its index then steps over that value
 * instead of reading through it.  Ignored when the span is not inside
 * the text or the index was built already.
 */
void jt_object_known(json_object *o, size_t at, size_t end);

#endif
