/*
 * test_jtext.c - reading JSON text in place (lib/text/jtext.c): every member,
 * element and string reads as json-c parses it; cut-off and malformed
 * text reads as no value and never past its end; the index agrees with
 * the member search; text objects print as their text.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jtext.h"
#include "sup.h"
#include "util.h"

#include "tap.h"
#include "../jtext_same.h"

/* Does text s (len bytes, in a buffer of exactly that size) read as
 * json-c's parse of it? */
static bool
reads_alike(const char *s, size_t len)
{
	char *copy = malloc(len);
	json_object *p;
	bool eq;

	if (copy == NULL)
		bail_out("malloc");
	memcpy(copy, s, len);
	if ((p = json_tokener_parse(s)) == NULL)
		bail_out("test text does not parse: %s", s);
	eq = same((struct jt){ copy, len }, p);
	json_object_put(p);
	free(copy);
	return eq;
}

static void
test_alike(void)
{
	static const struct {
		const char *what, *text;
	} cases[] = {
		{ "escapes", "{\"content\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t"
			"\\u00e9\\u20AC\\ud83d\\ude00 end\"}" },
		{ "escaped quotes and backslashes at the ends",
			"{\"s\":\"ends in a backslash\\\\\",\"t\":"
			"\"\\\"quoted\\\"\",\"u\":\"\\n\",\"v\":\"\\\\\\\"\"}" },
		{ "every kind of value", "{\"x\":[1,-2,0,true,false,null,{},[],"
			"\"\"],\"n\":{\"a\":{\"b\":[{\"c\":\"d\"}]}},"
			"\"max\":999999999999999999,\"f\":1.5,\"e\":-2e-3,"
			"\"z\":0.0}" },
		{ "white space everywhere",
			"{ \"a\" : [ 1 , { \"b\" : \"c\" } ] ,\n\t\"d\" : null"
			" , \"e\" : { } , \"f\" : [ ] }" },
		{ "brackets and braces inside strings",
			"{\"s\":\"}]{[\",\"t\":[\"]\",\"}\"],\"u\":{\"{\":\"[\"}}" },
		{ "UTF-8 as it is", "{\"s\":\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac "
			"\xf0\x9f\x98\x80\"}" },
		{ "a name twice", "{\"a\":1,\"b\":{\"c\":2,\"c\":[3]},\"a\":\"x\"}" },
		{ "a ticket as the API writes it",
			"{\"uuid\":\"0c4f\",\"number\":7,\"subject\":\"<b>Hi</b>\","
			"\"status\":\"open\",\"user\":{\"id\":3,\"username\":"
			"\"al\",\"display_name\":\"\"},\"assignee\":null,"
			"\"messages\":[{\"uuid\":\"m1\",\"content\":\"a \\\"q\\\"\","
			"\"content_html\":\"<p>a &quot;q&quot;</p>\\n\","
			"\"is_from_user\":true,\"attachments\":[],\"sender\":"
			"{\"id\":3,\"username\":\"al\"}}],\"message_count\":1}" },
	};

	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		why[0] = '\0';
		ok(reads_alike(cases[i].text, strlen(cases[i].text)),
		    "reads as json-c does: %s", cases[i].what);
		if (why[0] != '\0')
			diag("%s", why);
	}

	/*
	 * Strings are scanned 16 bytes a step: an escaped quote or backslash
	 * at every place of strings up to 40 bytes, with a member after it,
	 * in buffers of exactly the text's size.
	 */
	static const char *const escs[] = { "\\\"", "\\\\", "\\n",
		"\\u0022" };
	int n = 0, bad = 0;
	for (size_t len = 0; len <= 40; len++)
		for (size_t at = 0; at <= len; at++)
			for (size_t k = 0; k < SUP_NELEM(escs); k++) {
				char text[128];
				int w = snprintf(text, sizeof(text),
				    "{\"s\":\"%.*s%s%.*s\",\"t\":1}", (int)at,
				    "abcdefghijklmnopqrstuvwxyzabcdefghijklmn",
				    escs[k], (int)(len - at),
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN");
				n++;
				if (!reads_alike(text, (size_t)w) && bad++ == 0)
					diag("first difference: %s (%s)", text,
					    why);
			}
	ok(bad == 0, "reads as json-c does: %d strings with an escape at "
	    "every place up to 40 bytes", n);
}

/*
 * Every prefix of a text, in a buffer of exactly its size (the sanitizer
 * tier sees a read past it): a member found lies inside the prefix, and
 * walking every array and object ends.
 */
static bool
walk_inside(struct jt v, const char *lo, const char *hi, int depth)
{
	struct jt_iter it;
	struct jt el;
	struct jt_index ix;
	struct sbuf b = { 0 };

	if (v.p != NULL && (v.p < lo || v.p + v.n > hi))
		return false;
	if (depth > 40)
		return true;
	jt_truthy(v);
	jt_string_get(v, &b);
	free(b.p);
	jt_index_build(v, &ix);
	for (size_t i = 0; i < ix.n; i++)
		if (!walk_inside(ix.m[i].v, lo, hi, depth + 1))
			return false;
	if (jt_iter_start(v, &it)) {
		while (jt_iter_next(&it, &el))
			if (!walk_inside(el, lo, hi, depth + 1))
				return false;
	}
	if (jt_iter_start(v, &it)) {
		while (jt_iter_next_index(&it, &el, &ix)) {
			jt_iter_more(&it);
			if (!walk_inside(el, lo, hi, depth + 1))
				return false;
		}
	}
	return true;
}

static void
test_cut_and_broken(void)
{
	static const char full[] = "{\"a\":[1,{\"b\":\"x\\\"y\\\\\"},"
	    "\"\\ud83d\\ude00\"],\"c\":{\"d\":true,\"e\":null},\"f\":-1.5e2}";
	static const char *const broken[] = {
		"{\"s\":\"abc", "{\"s\":\"abc\"", "{\"s\" \"abc\"}", "[1,2,]",
		"{\"a\":1} x", "{\"a\":nul}", "{,}", "[,]", "{\"a\"}", "{\"a\":}",
		"\"\\u12\"", "\"\\ud800\\u00\"", "\"\\", "\"\\q\"", "[[[[[[", "}}",
		"{\"a\":\"\\\"}", "",
	};
	bool inside = true;

	for (size_t n = 0; n <= sizeof(full) - 1; n++) {
		char *copy = malloc(n + 1);
		if (copy == NULL)
			bail_out("malloc");
		memcpy(copy, full, n);
		if (!walk_inside((struct jt){ n ? copy : NULL, n }, copy,
		    copy + n, 0))
			inside = false;
		free(copy);
	}
	ok(inside, "every prefix of a text reads inside itself");
	inside = true;
	for (size_t i = 0; i < SUP_NELEM(broken); i++) {
		size_t n = strlen(broken[i]);
		char *copy = malloc(n + 1);
		if (copy == NULL)
			bail_out("malloc");
		memcpy(copy, broken[i], n);
		if (!walk_inside((struct jt){ n ? copy : NULL, n }, copy,
		    copy + n, 0))
			inside = false;
		free(copy);
	}
	ok(inside, "malformed texts read inside themselves");
	{
		struct jt v = { "{\"a\":1,\"b\":", 11 }, m;
		ok(jt_member(v, "a", 1, &m) && m.n == 1 &&
		    !jt_member(v, "b", 1, &m),
		    "a cut-off object: the members before the cut, none after");
	}
	{
		struct sbuf b = { 0 };
		struct jt s = { "\"a\\ud800b\\udc00\"", 16 };
		ok(jt_string_get(s, &b) && b.len == 8 &&
		    memcmp(b.p, "a\xef\xbf\xbd" "b\xef\xbf\xbd", 8) == 0,
		    "lone surrogates become U+FFFD");
		b.len = 0;
		ok(!jt_string_get((struct jt){ "\"a\\x\"", 5 }, &b) &&
		    b.len == 0, "an unknown escape is no string");
		free(b.p);
	}
}

static void
test_index(void)
{
	struct sbuf b = { 0 };
	struct jt_index ix;
	struct jt v, m;
	bool all = true;

	/* More members than the index holds, and a name twice. */
	sbuf_adds(&b, "{\"dup\":1");
	for (int i = 0; i < JT_INDEX_MAX + 10; i++) {
		char part[32];
		snprintf(part, sizeof(part), ",\"k%d\":%d", i, i);
		sbuf_adds(&b, part);
	}
	sbuf_adds(&b, ",\"dup\":2}");
	v = (struct jt){ b.p, b.len };
	jt_index_build(v, &ix);
	ok(ix.over && ix.n == JT_INDEX_MAX, "an object past %d members is "
	    "indexed in part", JT_INDEX_MAX);
	for (int i = 0; i < JT_INDEX_MAX + 10; i++) {
		char name[16], want[16];
		snprintf(name, sizeof(name), "k%d", i);
		snprintf(want, sizeof(want), "%d", i);
		if (!jt_index_get(&ix, name, strlen(name), &m) ||
		    m.n != strlen(want) || memcmp(m.p, want, m.n) != 0)
			all = false;
	}
	ok(all, "  every member found all the same");
	ok(jt_index_get(&ix, "dup", 3, &m) && m.n == 1 && m.p[0] == '2' &&
	    jt_member(v, "dup", 3, &m) && m.p[0] == '2',
	    "the last of two equal names counts, as in json-c, both ways");
	jt_index_build((struct jt){ "{\"d\":1,\"d\":2}", 13 }, &ix);
	ok(!ix.over && jt_index_get(&ix, "d", 1, &m) && m.p[0] == '2',
	    "  also within the index");
	ok(!jt_index_get(&ix, "k", 1, &m) && !jt_index_get(&ix, "k10x", 4, &m),
	    "no member for a name that is not there");
	free(b.p);
	jt_index_build((struct jt){ "[1]", 3 }, &ix);
	ok(ix.n == 0 && !jt_index_get(&ix, "a", 1, &m),
	    "an array has no members");
}

static void
test_truthy(void)
{
	static const struct {
		const char *text;
		bool want;
	} cases[] = {
		{ "true", true }, { "false", false }, { "null", false },
		{ "0", false }, { "-0", false }, { "0.0", false },
		{ "0e5", false }, { "1e-400", false },
		{ "0000000000000000000000000000000000000000000000000000000000000000"
		    "0000", false }, { "1", true }, { "-0.5", true },
		{ "\"\"", false }, { "\"0\"", true }, { "\"\\u0000\"", true },
		{ "{}", false }, { "{ }", false }, { "{\"a\":0}", true },
		{ "[]", false }, { "[ ]", false }, { "[0]", true },
	};

	for (size_t i = 0; i < SUP_NELEM(cases); i++)
		ok(jt_truthy((struct jt){ cases[i].text,
		    strlen(cases[i].text) }) == cases[i].want,
		    "a section %s for %s", cases[i].want ? "shows" :
		    "does not show", cases[i].text);
}

static void
test_objects(void)
{
	char *text = strdup("{\"a\":[1,2]}");
	json_object *o = jt_object_new(text, strlen(text)), *plain;
	struct jt t;

	if (o == NULL)
		bail_out("jt_object_new");
	is_str(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
	    "{\"a\":[1,2]}", "a text object prints as its text");
	ok(jt_object_text(o, &t) && t.n == 11 && t.p == text,
	    "  and gives it back, not a copy");
	json_object_object_add(o, "page", json_object_new_int(1));
	ok(jt_object_text(o, &t) && strcmp(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN), "{\"a\":[1,2]}") == 0,
	    "  members added by a page do not change its text");
	json_object_put(o);
	plain = json_tokener_parse("{\"a\":1}");
	ok(!jt_object_text(plain, &t) && !jt_object_text(NULL, &t),
	    "json-c's own objects are no text objects");
	json_object_put(plain);
}

/* A text object's index of a text with "messages" at [at, end). */
static const struct jt_index *
known_index(json_object **o, const char *src, size_t at, size_t end)
{
	char *text = strdup(src);

	if (text == NULL || (*o = jt_object_new(text, strlen(src))) == NULL)
		bail_out("jt_object_new");
	jt_object_known(*o, at, end);
	return jt_object_index(*o);
}

/*
 * A value whose place the writer of the text knows (a ticket's thread) is
 * stepped over unread: the index is the one a full read makes, and a
 * span that does not fit the text changes nothing.
 */
static void
test_known(void)
{
	static const char src[] = "{\"a\":1,\"messages\":[{\"b\":\"]}\"},"
	    "{\"c\":[2]}],\"z\":\"last\"}";
	size_t at = (size_t)(strchr(src, '[') - src);
	size_t end = (size_t)(strstr(src, "],\"z\"") - src) + 1;
	struct jt_index full;
	const struct jt_index *ix;
	json_object *o;
	struct jt v;
	jt_index_build((struct jt){ src, sizeof(src) - 1 }, &full);
	ix = known_index(&o, src, at, end);
	ok(ix != NULL && ix->n == full.n && ix->n == 3,
	    "known thread: the same three members");
	for (size_t i = 0; ix != NULL && i < ix->n && i < full.n; i++)
		ok(ix->m[i].v.p - ix->obj.p == full.m[i].v.p - src &&
		    ix->m[i].v.n == full.m[i].v.n,
		    "known thread: member %zu where a full read finds it", i);
	ok(ix != NULL && jt_index_get(ix, "z", 1, &v) && v.n == 6 &&
	    memcmp(v.p, "\"last\"", 6) == 0,
	    "known thread: the member after it is read");
	json_object_put(o);

	/* The span is taken as given: a shorter one ends the value there. */
	ix = known_index(&o, src, at, at + 2);
	ok(ix != NULL && ix->n >= 2 && ix->m[1].v.n == 2,
	    "a known span is trusted, not read (so only its writer sets it)");
	json_object_put(o);

	ix = known_index(&o, src, at, sizeof(src) + 5);
	ok(ix != NULL && ix->n == 3 && ix->m[1].v.n == end - at,
	    "a span past the text's end is ignored");
	json_object_put(o);
	ix = known_index(&o, src, end, at);
	ok(ix != NULL && ix->n == 3 && ix->m[1].v.n == end - at,
	    "an empty or reversed span is ignored");
	json_object_put(o);
}

/* jt_put_string: what it writes reads back (json-c) as the bytes given. */
static void
test_put_string(void)
{
	static const char *const cases[] = {
		"", "plain", "quote \" and backslash \\", "tab\tnew\nline\r",
		"\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		"</script>", "a/b",
	};
	int bad = 0;
	uint64_t x = 2463534242ULL;

	for (size_t i = 0; i < SUP_NELEM(cases) + 2000; i++) {
		char rnd[64];
		const char *in;
		size_t n;
		struct sbuf b = { 0 };
		json_object *o;

		if (i < SUP_NELEM(cases)) {
			in = cases[i];
			n = strlen(in);
		} else {
			/* ASCII with every control character, no NUL */
			n = (size_t)(x % sizeof(rnd));
			for (size_t j = 0; j < n; j++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				rnd[j] = (char)(1 + x % 127);
			}
			in = rnd;
		}
		jt_put_string(&b, in, n);
		o = b.failed ? NULL : json_tokener_parse(b.p);
		if (o == NULL || !json_object_is_type(o, json_type_string) ||
		    (size_t)json_object_get_string_len(o) != n ||
		    memcmp(json_object_get_string(o), in, n) != 0) {
			if (bad++ == 0)
				diag("wrote %s", b.p ? b.p : "(nothing)");
		}
		json_object_put(o);
		free(b.p);
	}
	is_int(bad, 0, "jt_put_string: every string reads back as it was "
	    "(%zu cases and 2000 random ones)", SUP_NELEM(cases));
	struct sbuf b = { 0 };
	jt_put_string(&b, "a\"\x02", 3);
	is_str(b.p, "\"a\\\"\\u0002\"", "jt_put_string: the escapes json-c writes");
	free(b.p);
}

int
main(void)
{
	test_alike();
	test_cut_and_broken();
	test_index();
	test_truthy();
	test_objects();
	test_known();
	test_put_string();
	return done_testing();
}
