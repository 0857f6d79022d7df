/*
 * jtext.c - reading JSON text in place (jtext.h).
 *
 * Every function takes the text's end from the span it is given and stops
 * there: a value cut off or malformed is no value.
 */
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>	/* skip_string */
#endif

#include "jtext.h"
#include "util.h"

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

/*
 * Past the string starting at p (at its '"'); NULL when it does not end
 * before end.  A backslash takes the byte after it with it; the first
 * other quote ends the string.  Most strings of an API text are short
 * (names, uuids, times): 16 bytes are looked at a step where SSE2 is
 * (every x86-64), for the quote and the backslash at once, with no call
 * per string; a byte a step elsewhere and at the end of the text.
 */
static const char *
skip_string(const char *p, const char *end)
{
	const char *q = p + 1;

#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');

	while (end - q >= 16) {
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)q);
		unsigned mq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c,
		    quote));
		unsigned mb = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c,
		    bslash));
		if ((mq | mb) == 0) {
			q += 16;
			continue;
		}
		unsigned at = (unsigned)__builtin_ctz(mq | mb);
		if (mq & (1u << at))
			return q + at + 1;
		q += at + 2;		/* the escape and its byte */
	}
#endif
	while (q < end) {
		if (*q == '"')
			return q + 1;
		q += *q == '\\' ? 2 : 1;
	}
	return NULL;
}

/* Past the value starting at p; NULL when there is none before end. */
static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p != '{' && *p != '[') {
		const char *s = p;
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
		    *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' &&
		    *p != ':' && *p != '"')
			p++;
		return p > s ? p : NULL;
	}
	while (p < end) {
		switch (*p) {
		case '"':
			if ((p = skip_string(p, end)) == NULL)
				return NULL;
			continue;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0)
				return p + 1;
			break;
		default:
			break;
		}
		p++;
	}
	return NULL;
}

enum jt_type
jt_type(struct jt v)
{
	if (v.p == NULL || v.n == 0)
		return JT_NONE;
	switch (v.p[0]) {
	case '"': return JT_STRING;
	case '{': return JT_OBJECT;
	case '[': return JT_ARRAY;
	case 't': case 'f': return JT_BOOL;
	case 'n': return JT_NULL;
	case '-': return JT_NUMBER;
	default:
		return v.p[0] >= '0' && v.p[0] <= '9' ? JT_NUMBER : JT_NONE;
	}
}

/* One member of an object: its name as written, and its value. */
struct member {
	const char *name;
	size_t len;
	struct jt v;
};

/*
 * A value whose end is known before it is read: see jt_object_known.
 * {NULL, NULL} when there is none.
 */
struct known {
	const char *at, *end;
};

static const struct known no_known = { NULL, NULL };

/*
 * The member "name": value at p (white space before it allowed) into *m;
 * past its value, or NULL when there is no whole member before end.  A
 * value starting at k.at ends at k.end without being read.
 */
static inline const char *
member_at(const char *p, const char *end, struct member *m, struct known k)
{
	const char *kend, *val;

	p = skip_ws(p, end);
	if (p >= end || *p != '"' || (kend = skip_string(p, end)) == NULL)
		return NULL;
	m->name = p + 1;
	m->len = (size_t)(kend - 1 - m->name);
	p = skip_ws(kend, end);
	if (p >= end || *p != ':')
		return NULL;
	val = skip_ws(p + 1, end);
	if (val == k.at)
		p = k.end;
	else if ((p = skip_value(val, end)) == NULL)
		return NULL;
	m->v = (struct jt){ val, (size_t)(p - val) };
	return p;
}

/*
 * After a member at p: past the comma (*last false) or the closing brace
 * (*last true); NULL when neither comes before end.
 */
static inline const char *
after_member(const char *p, const char *end, bool *last)
{
	p = skip_ws(p, end);
	if (p >= end || (*p != ',' && *p != '}'))
		return NULL;
	*last = *p == '}';
	return p + 1;
}

/* Is the object whose '{' is at p empty ("{}", white space allowed)? */
static bool
empty_at(const char *p, const char *end)
{
	p = skip_ws(p + 1, end);
	return p < end && *p == '}';
}

bool
jt_member(struct jt v, const char *name, size_t n, struct jt *out)
{
	const char *p, *end;
	bool found = false, last = false;

	if (jt_type(v) != JT_OBJECT)
		return false;
	end = v.p + v.n;
	if (empty_at(v.p, end))
		return false;
	/* To the end: of two equal names the last counts, as in json-c. */
	for (p = v.p + 1; !last;) {
		struct member m;
		if ((p = member_at(p, end, &m, no_known)) == NULL)
			return found;
		if (m.len == n && memcmp(m.name, name, n) == 0) {
			*out = m.v;
			found = true;
		}
		if ((p = after_member(p, end, &last)) == NULL)
			return found;
	}
	return found;
}

/*
 * Index the object at p (before end) into ix; past it, or NULL when it is
 * not a whole object.  The members before a fault are indexed all the same.
 */
static const char *
index_at(const char *p, const char *end, struct jt_index *ix, struct known k)
{
	const char *start = p;
	bool last = false;

	ix->obj = (struct jt){ NULL, 0 };
	ix->n = 0;
	ix->over = false;
	if (p >= end || *p != '{')
		return NULL;
	if (empty_at(p, end)) {
		p = skip_ws(p + 1, end) + 1;
		ix->obj = (struct jt){ start, (size_t)(p - start) };
		return p;
	}
	for (p++; !last;) {
		struct member m;
		if ((p = member_at(p, end, &m, k)) == NULL)
			return NULL;
		if (ix->n < JT_INDEX_MAX) {
			ix->m[ix->n].name = m.name;
			ix->m[ix->n].len = m.len;
			ix->m[ix->n].v = m.v;
			ix->n++;
		} else {
			ix->over = true;
		}
		if ((p = after_member(p, end, &last)) == NULL)
			return NULL;
	}
	ix->obj = (struct jt){ start, (size_t)(p - start) };
	return p;
}

/* jt_index_build, stepping over the value at k.at (if any) unread. */
static void
index_build(struct jt v, struct jt_index *ix, struct known k)
{
	if (jt_type(v) == JT_OBJECT)
		index_at(v.p, v.p + v.n, ix, k);
	else
		index_at(v.p, v.p, ix, k);
	/* Cut off or not: what was read is what the reader sees. */
	ix->obj = v;
}

void
jt_index_build(struct jt v, struct jt_index *ix)
{
	index_build(v, ix, no_known);
}

bool
jt_index_get(const struct jt_index *ix, const char *name, size_t n,
    struct jt *out)
{
	/* Past the index a later equal name may come: read it all. */
	if (ix->over)
		return jt_member(ix->obj, name, n, out);
	for (size_t i = ix->n; i-- > 0;)
		if (ix->m[i].len == n && memcmp(ix->m[i].name, name, n) == 0) {
			*out = ix->m[i].v;
			return true;
		}
	return false;
}

bool
jt_iter_start(struct jt v, struct jt_iter *it)
{
	if (jt_type(v) != JT_ARRAY)
		return false;
	it->p = v.p + 1;
	it->end = v.p + v.n;
	return true;
}

/*
 * The element p[0..e) in *el, and the walk past it: past its comma, or
 * at the end when none follows (the walk then stops).
 */
static void
iter_take(struct jt_iter *it, const char *p, const char *e, struct jt *el)
{
	el->p = p;
	el->n = (size_t)(e - p);
	p = skip_ws(e, it->end);
	it->p = p < it->end && *p == ',' ? p + 1 : it->end;
}

bool
jt_iter_next(struct jt_iter *it, struct jt *el)
{
	const char *p = skip_ws(it->p, it->end), *e;

	if (p >= it->end || *p == ']' || (e = skip_value(p, it->end)) == NULL) {
		it->p = it->end;
		return false;
	}
	iter_take(it, p, e, el);
	return true;
}

bool
jt_iter_next_index(struct jt_iter *it, struct jt *el, struct jt_index *ix)
{
	const char *p = skip_ws(it->p, it->end), *e;

	if (p >= it->end || *p != '{') {
		index_at(p, p, ix, no_known);
		if (!jt_iter_next(it, el))
			return false;
		ix->obj = *el;
		return true;
	}
	if ((e = index_at(p, it->end, ix, no_known)) == NULL) {
		it->p = it->end;
		return false;
	}
	iter_take(it, p, e, el);
	return true;
}

bool
jt_iter_more(const struct jt_iter *it)
{
	const char *p = skip_ws(it->p, it->end);

	return p < it->end && *p != ']';
}

bool
jt_truthy(struct jt v)
{
	struct jt_iter it;
	struct jt el;
	char num[64];

	switch (jt_type(v)) {
	case JT_BOOL:
		return v.p[0] == 't';
	case JT_STRING:
		return v.n > 2;
	case JT_OBJECT:
		return skip_ws(v.p + 1, v.p + v.n) < v.p + v.n &&
		    *skip_ws(v.p + 1, v.p + v.n) != '}';
	case JT_ARRAY:
		return jt_iter_start(v, &it) && jt_iter_next(&it, &el);
	case JT_NUMBER: {
		/* Zero however written (0, -0, 0.0, 0e5, 1e-400) is false. */
		char *copy = v.n < sizeof(num) ? num : malloc(v.n + 1);
		bool nonzero;
		if (copy == NULL)
			return true;
		memcpy(copy, v.p, v.n);
		copy[v.n] = '\0';
		nonzero = strtod(copy, NULL) != 0.0;
		if (copy != num)
			free(copy);
		return nonzero;
	}
	default:
		return false;
	}
}

bool
jt_string_plain(struct jt v)
{
	return jt_type(v) == JT_STRING && v.n >= 2 &&
	    memchr(v.p, '\\', v.n) == NULL;
}

/* The value of 4 hex digits at p, or -1. */
static long
hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Append code point c as UTF-8. */
static void
add_utf8(struct sbuf *b, unsigned long c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	sbuf_add(b, u, n);
}

bool
jt_string_get(struct jt v, struct sbuf *b)
{
	const char *p, *end;
	size_t start = b->len;

	if (jt_type(v) != JT_STRING || v.n < 2 || v.p[v.n - 1] != '"')
		return false;
	p = v.p + 1;
	end = v.p + v.n - 1;
	while (p < end) {
		const char *bs = memchr(p, '\\', (size_t)(end - p));
		long c, lo;
		if (bs == NULL) {
			sbuf_add(b, p, (size_t)(end - p));
			break;
		}
		sbuf_add(b, p, (size_t)(bs - p));
		if (bs + 1 >= end)
			goto bad;
		switch (bs[1]) {
		case '"': case '\\': case '/':
			sbuf_add(b, bs + 1, 1);
			p = bs + 2;
			continue;
		case 'b': sbuf_add(b, "\b", 1); p = bs + 2; continue;
		case 'f': sbuf_add(b, "\f", 1); p = bs + 2; continue;
		case 'n': sbuf_add(b, "\n", 1); p = bs + 2; continue;
		case 'r': sbuf_add(b, "\r", 1); p = bs + 2; continue;
		case 't': sbuf_add(b, "\t", 1); p = bs + 2; continue;
		case 'u':
			break;
		default:
			goto bad;
		}
		if (end - bs < 6 || (c = hex4(bs + 2)) < 0)
			goto bad;
		p = bs + 6;
		if (c >= 0xd800 && c <= 0xdbff && end - p >= 6 &&
		    p[0] == '\\' && p[1] == 'u' && (lo = hex4(p + 2)) >= 0xdc00 &&
		    lo <= 0xdfff) {
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			p += 6;
		} else if (c >= 0xd800 && c <= 0xdfff) {
			c = 0xfffd;
		}
		add_utf8(b, (unsigned long)c);
	}
	return !b->failed;
bad:
	b->len = start;
	return false;
}

/* --- Text objects ---------------------------------------------------- */

/*
 * A text object's text, kept as its json-c user data.  The library sets
 * json-c user data nowhere else, so user data on an object means this.
 */
struct text {
	size_t len;
	char *p;		/* owned */
	struct jt_index *ix;	/* its members, once asked for; owned */
	size_t known_at, known_end;	/* jt_object_known (0, 0: none) */
};

static int
text_print(json_object *o, struct printbuf *pb, int level SUP_UNUSED,
    int flags SUP_UNUSED)
{
	const struct text *t = json_object_get_userdata(o);

	return printbuf_memappend(pb, t->p, (int)t->len);
}

static void
text_free(json_object *o SUP_UNUSED, void *userdata)
{
	struct text *t = userdata;

	free(t->p);
	free(t->ix);
	free(t);
}

json_object *
jt_object_new(char *text, size_t len)
{
	json_object *o;
	struct text *t;

	if ((o = json_object_new_object()) == NULL ||
	    (t = malloc(sizeof(*t))) == NULL) {
		json_object_put(o);
		free(text);
		return NULL;
	}
	t->len = len;
	t->p = text;
	t->ix = NULL;
	t->known_at = t->known_end = 0;
	json_object_set_serializer(o, text_print, t, text_free);
	return o;
}

bool
jt_object_text(json_object *o, struct jt *out)
{
	const struct text *t;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    (t = json_object_get_userdata(o)) == NULL)
		return false;
	out->p = t->p;
	out->n = t->len;
	return true;
}

const struct jt_index *
jt_object_index(json_object *o)
{
	struct text *t;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    (t = json_object_get_userdata(o)) == NULL)
		return NULL;
	if (t->ix == NULL && (t->ix = malloc(sizeof(*t->ix))) != NULL) {
		struct known k = no_known;
		if (t->known_end > 0)
			k = (struct known){ t->p + t->known_at,
			    t->p + t->known_end };
		index_build((struct jt){ t->p, t->len }, t->ix, k);
	}
	return t->ix;
}

void
jt_object_known(json_object *o, size_t at, size_t end)
{
	struct text *t;

	if (o != NULL && json_object_is_type(o, json_type_object) &&
	    (t = json_object_get_userdata(o)) != NULL && t->ix == NULL &&
	    at < end && end <= t->len) {
		t->known_at = at;
		t->known_end = end;
	}
}

void
jt_put_string(struct sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	sbuf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char buf[7] = "\\u00";
		const char *rep = buf;
		size_t len = 2;

		switch (ch) {
		case '"': rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		case '\b': rep = "\\b"; break;
		case '\f': rep = "\\f"; break;
		default:
			if (ch >= 0x20)
				continue;
			buf[4] = hex[ch >> 4];
			buf[5] = hex[ch & 15];
			len = 6;
			break;
		}
		sbuf_add(b, s + run, i - run);
		sbuf_add(b, rep, len);
		run = i + 1;
	}
	sbuf_add(b, s + run, n - run);
	sbuf_add(b, "\"", 1);
}
