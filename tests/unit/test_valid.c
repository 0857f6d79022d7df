/*
 * test_valid.c - declared input (lib/web/valid.c): JSON bodies and query
 * strings checked against field tables, every problem named.
 */
#include <stdint.h>
#include <string.h>

#include "req.h"
#include "sup.h"
#include "valid.h"

#include "tap.h"

static const char *const priorities[] = {
	"low", "normal", "high", "urgent", NULL
};

enum { B_SUBJECT, B_CONTENT, B_PRIORITY, B_ASSIGNEE, B_INTERNAL, B_AFTER,
	B_MAX };

/* A body like the ticket endpoints take. */
static const struct field body_fields[B_MAX] = {
	[B_SUBJECT] = { "subject", F_STRING, FIELD_REQUIRED, 1, 255, NULL,
		NULL },
	[B_CONTENT] = { "content", F_TEXT, FIELD_REQUIRED, 1, 65536, NULL,
		"text" },
	[B_PRIORITY] = { "priority", F_ENUM, 0, 0, 0, priorities, NULL },
	[B_ASSIGNEE] = { "assignee", F_INT, FIELD_NULLABLE, 1, UINT32_MAX,
		NULL, NULL },
	[B_INTERNAL] = { "is_internal", F_BOOL, 0, 0, 0, NULL, NULL },
	[B_AFTER] = { "created_after", F_TIME, 0, 0, 0, NULL, NULL },
};

/* One validation of a JSON text: its request, parsed body and values. */
struct run {
	struct sup_req r;
	json_object *body;
	struct value v[B_MAX];
	sup_err e;
};

static sup_err
run_json(struct run *t, const char *json)
{
	memset(&t->r, 0, sizeof(t->r));
	if ((t->body = json_tokener_parse(json)) == NULL)
		bail_out("test JSON does not parse: %s", json);
	t->e = valid_json(&t->r, t->body, body_fields, B_MAX, t->v);
	return t->e;
}

/* Validate an object built by the caller (taking its reference). */
static sup_err
run_obj(struct run *t, json_object *body)
{
	memset(&t->r, 0, sizeof(t->r));
	t->body = body;
	t->e = valid_json(&t->r, t->body, body_fields, B_MAX, t->v);
	return t->e;
}

static void
run_free(struct run *t)
{
	req_free(&t->r);
	json_object_put(t->body);
	t->body = NULL;
}

/* The reason given for field, or NULL when it is not named. */
static const char *
why(const struct sup_req *r, const char *field)
{
	json_object *v;

	if (r->err_fields == NULL ||
	    !json_object_object_get_ex(r->err_fields, field, &v))
		return NULL;
	return json_object_get_string(v);
}

static int
nfields(const struct sup_req *r)
{
	return r->err_fields ? json_object_object_length(r->err_fields) : 0;
}

/* A JSON body {"subject": <n copies of unit>, "content": "x"}. */
static json_object *
subject_of(const char *unit, int n, const char *pad)
{
	size_t ulen = strlen(unit), plen = strlen(pad);
	char *s = malloc(ulen * (size_t)n + 2 * plen + 1), *p = s;
	json_object *o = json_object_new_object();

	memcpy(p, pad, plen);
	p += plen;
	for (int i = 0; i < n; i++, p += ulen)
		memcpy(p, unit, ulen);
	memcpy(p, pad, plen);
	p += plen;
	json_object_object_add(o, "subject",
	    json_object_new_string_len(s, (int)(p - s)));
	json_object_object_add(o, "content", json_object_new_string("x"));
	free(s);
	return o;
}

/* {"subject": "s", "content": n bytes of c} */
static json_object *
content_of(char c, size_t n)
{
	char *s = malloc(n + 1);
	json_object *o = json_object_new_object();

	memset(s, c, n);
	s[n] = '\0';
	json_object_object_add(o, "subject", json_object_new_string("s"));
	json_object_object_add(o, "content",
	    json_object_new_string_len(s, (int)n));
	free(s);
	return o;
}

static void
test_good(void)
{
	struct run t;

	is_err(run_json(&t, "{\"subject\": \"  Printer on fire \\t\", "
	    "\"content\": \"\\n It *smokes*. \\n\", \"priority\": \"high\", "
	    "\"assignee\": 7, \"is_internal\": true, "
	    "\"created_after\": \"2026-11-23\"}"), SUP_OK,
	    "valid_json: a good body");
	ok(t.v[B_SUBJECT].present && t.v[B_SUBJECT].len == 15 &&
	    memcmp(t.v[B_SUBJECT].str, "Printer on fire", 15) == 0,
	    "F_STRING: trimmed");
	ok(t.v[B_CONTENT].len == 12 &&
	    memcmp(t.v[B_CONTENT].str, "It *smokes*.", 12) == 0,
	    "F_TEXT: trimmed");
	is_int(t.v[B_PRIORITY].num, 2, "F_ENUM: \"high\" is index 2");
	ok(t.v[B_ASSIGNEE].present && !t.v[B_ASSIGNEE].is_null &&
	    t.v[B_ASSIGNEE].num == 7, "F_INT: 7");
	ok(t.v[B_INTERNAL].present && t.v[B_INTERNAL].b, "F_BOOL: true");
	is_int(t.v[B_AFTER].us, 1795392000000000LL, "F_TIME: a date");
	ok(t.r.err_fields == NULL, "nothing named when all is well");
	run_free(&t);

	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\"}"), SUP_OK,
	    "valid_json: only the required fields");
	ok(!t.v[B_PRIORITY].present && !t.v[B_ASSIGNEE].present &&
	    !t.v[B_INTERNAL].present && !t.v[B_AFTER].present,
	    "absent fields are not present");
	run_free(&t);

	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"is_internal\": false}"), SUP_OK, "F_BOOL: false");
	ok(t.v[B_INTERNAL].present && !t.v[B_INTERNAL].b, "F_BOOL: false read");
	run_free(&t);

	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"assignee\": null}"), SUP_OK, "nullable F_INT: null");
	ok(t.v[B_ASSIGNEE].present && t.v[B_ASSIGNEE].is_null,
	    "nullable: present and null");
	run_free(&t);
}

static void
test_required(void)
{
	struct run t;

	is_err(run_json(&t, "{\"content\": \"c\"}"), SUP_EINVAL,
	    "required subject missing");
	is_str(why(&t.r, "subject"), "This field is required.",
	    "  named in err_fields");
	is_int(nfields(&t.r), 1, "  and nothing else named");
	run_free(&t);

	is_err(run_json(&t, "{}"), SUP_EINVAL, "an empty object");
	ok(why(&t.r, "subject") && why(&t.r, "content"),
	    "  both required fields named");
	is_int(nfields(&t.r), 2, "  only those two");
	run_free(&t);

	is_err(run_json(&t, "{\"subject\": null, \"content\": \"c\"}"),
	    SUP_EINVAL, "null for a field that is not nullable");
	is_str(why(&t.r, "subject"), "This field may not be null.",
	    "  named with its reason");
	run_free(&t);
}

static void
test_types(void)
{
	static const struct {
		const char *json, *field;
	} cases[] = {
		{ "{\"subject\": 5, \"content\": \"c\"}", "subject" },
		{ "{\"subject\": [\"s\"], \"content\": \"c\"}", "subject" },
		{ "{\"subject\": {}, \"content\": \"c\"}", "subject" },
		{ "{\"subject\": \"s\", \"content\": true}", "content" },
		{ "{\"subject\": \"s\", \"content\": \"c\", \"priority\": 1}",
		    "priority" },
		{ "{\"subject\": \"s\", \"content\": \"c\", \"assignee\": \"5\"}",
		    "assignee" },
		{ "{\"subject\": \"s\", \"content\": \"c\", \"assignee\": 1.5}",
		    "assignee" },
		{ "{\"subject\": \"s\", \"content\": \"c\", \"assignee\": true}",
		    "assignee" },
		{ "{\"subject\": \"s\", \"content\": \"c\", "
		    "\"is_internal\": \"true\"}", "is_internal" },
		{ "{\"subject\": \"s\", \"content\": \"c\", "
		    "\"is_internal\": 1}", "is_internal" },
		{ "{\"subject\": \"s\", \"content\": \"c\", "
		    "\"is_internal\": null}", "is_internal" },
		{ "{\"subject\": \"s\", \"content\": \"c\", "
		    "\"created_after\": 1795392000}", "created_after" },
	};
	struct run t;

	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		is_err(run_json(&t, cases[i].json), SUP_EINVAL,
		    "wrong type: %s", cases[i].json);
		ok(why(&t.r, cases[i].field) != NULL && nfields(&t.r) == 1,
		    "  \"%s\" named, alone", cases[i].field);
		run_free(&t);
	}

	is_err(run_json(&t, "{\"subject\": 5, \"content\": 6, "
	    "\"priority\": \"nope\"}"), SUP_EINVAL, "three bad fields");
	is_int(nfields(&t.r), 3, "  every one named");
	run_free(&t);
}

static void
test_lengths(void)
{
	struct run t;

	/* "é" is two bytes: 255 of them are 510 bytes but 255 characters. */
	is_err(run_obj(&t, subject_of("\xc3\xa9", 255, "")), SUP_OK,
	    "F_STRING: 255 two-byte characters");
	is_int(t.v[B_SUBJECT].len, 510, "  510 bytes kept");
	run_free(&t);
	is_err(run_obj(&t, subject_of("\xc3\xa9", 256, "")), SUP_EINVAL,
	    "F_STRING: 256 characters refused");
	is_str(why(&t.r, "subject"),
	    "Ensure this field has no more than 255 characters.",
	    "  with the limit in characters");
	run_free(&t);
	is_err(run_obj(&t, subject_of("\xe2\x82\xac", 255, "   ")), SUP_OK,
	    "F_STRING: 255 characters, surrounded by spaces (trimmed first)");
	run_free(&t);
	is_err(run_obj(&t, subject_of("a", 255, "")), SUP_OK,
	    "F_STRING: 255 ASCII characters");
	run_free(&t);
	is_err(run_obj(&t, subject_of("a", 256, "")), SUP_EINVAL,
	    "F_STRING: 256 ASCII characters refused");
	run_free(&t);

	is_err(run_obj(&t, content_of('x', 65536)), SUP_OK,
	    "F_TEXT: 65536 bytes");
	run_free(&t);
	is_err(run_obj(&t, content_of('x', 65537)), SUP_EINVAL,
	    "F_TEXT: 65537 bytes refused");
	is_str(why(&t.r, "content"),
	    "Ensure this field has no more than 65536 bytes.",
	    "  with the limit in bytes");
	run_free(&t);
	/* 32769 two-byte characters: few characters, too many bytes. */
	json_object *o = json_object_new_object();
	char *big = malloc(2 * 32769 + 1);
	for (int i = 0; i < 32769; i++)
		memcpy(big + 2 * i, "\xc3\xa9", 2);
	json_object_object_add(o, "subject", json_object_new_string("s"));
	json_object_object_add(o, "content",
	    json_object_new_string_len(big, 2 * 32769));
	free(big);
	is_err(run_obj(&t, o), SUP_EINVAL,
	    "F_TEXT: 32769 characters in 65538 bytes refused (bytes count)");
	run_free(&t);

	static const char *const blanks[] = { "", " ", "   \t\r\n " };
	for (size_t i = 0; i < SUP_NELEM(blanks); i++) {
		is_err(run_obj(&t, subject_of("", 0, blanks[i])), SUP_EINVAL,
		    "F_STRING: blank subject #%zu", i);
		is_str(why(&t.r, "subject"), "This field may not be blank.",
		    "  \"may not be blank\"");
		run_free(&t);
	}
	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \" \\n \"}"),
	    SUP_EINVAL, "F_TEXT: white space only");
	is_str(why(&t.r, "content"), "This field may not be blank.",
	    "  \"may not be blank\"");
	run_free(&t);
}

static void
test_values(void)
{
	struct run t;

	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"priority\": \"urgent\"}"), SUP_OK, "F_ENUM: the last choice");
	is_int(t.v[B_PRIORITY].num, 3, "  index 3");
	run_free(&t);
	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"priority\": \"low\"}"), SUP_OK, "F_ENUM: the first choice");
	is_int(t.v[B_PRIORITY].num, 0, "  index 0");
	run_free(&t);
	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"priority\": \"URGENT\"}"), SUP_EINVAL,
	    "F_ENUM: choices are case-sensitive");
	is_str(why(&t.r, "priority"), "\"URGENT\" is not a valid choice.",
	    "  the value quoted in the reason");
	run_free(&t);
	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"priority\": \"\"}"), SUP_EINVAL, "F_ENUM: empty string");
	run_free(&t);

	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"assignee\": 0}"), SUP_EINVAL, "F_INT: below min");
	run_free(&t);
	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"assignee\": -1}"), SUP_EINVAL, "F_INT: negative");
	run_free(&t);
	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"assignee\": 4294967295}"), SUP_OK, "F_INT: max itself");
	is_int(t.v[B_ASSIGNEE].num, 4294967295LL, "  read whole");
	run_free(&t);
	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"assignee\": 4294967296}"), SUP_EINVAL, "F_INT: above max");
	is_str(why(&t.r, "assignee"),
	    "Must be a whole number from 1 to 4294967295.",
	    "  the range in the reason");
	run_free(&t);

	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"created_after\": \"2026-11-23T10:04:05Z\"}"), SUP_OK,
	    "F_TIME: a date-time");
	is_int(t.v[B_AFTER].us, 1795428245000000LL, "  its microseconds");
	run_free(&t);
	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"created_after\": \"yesterday\"}"), SUP_EINVAL,
	    "F_TIME: not a time");
	run_free(&t);
}

static void
test_alias_unknown(void)
{
	struct run t;

	is_err(run_json(&t, "{\"subject\": \"s\", \"text\": \"hello\"}"), SUP_OK,
	    "alias: \"text\" for \"content\"");
	ok(t.v[B_CONTENT].present && t.v[B_CONTENT].len == 5 &&
	    memcmp(t.v[B_CONTENT].str, "hello", 5) == 0,
	    "  the value lands in content's slot");
	run_free(&t);
	is_err(run_json(&t, "{\"subject\": \"s\", \"text\": \"a\", "
	    "\"content\": \"b\"}"), SUP_EINVAL, "alias: both names given");
	is_int(nfields(&t.r), 1, "  one of them named");
	run_free(&t);
	is_err(run_json(&t, "{\"subject\": \"s\", \"text\": \"\"}"), SUP_EINVAL,
	    "alias: checked like the field");
	is_str(why(&t.r, "text"), "This field may not be blank.",
	    "  named as the client spelt it");
	run_free(&t);

	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"colour\": \"red\"}"), SUP_EUNKNOWN, "an unknown field");
	is_str(why(&t.r, "colour"), "Unknown field.", "  named");
	run_free(&t);
	is_err(run_json(&t, "{\"Subject\": \"s\", \"content\": \"c\"}"),
	    SUP_EUNKNOWN, "names are case-sensitive");
	ok(why(&t.r, "Subject") != NULL && why(&t.r, "subject") != NULL,
	    "  the unknown one and the missing one both named");
	run_free(&t);
	is_err(run_json(&t, "{\"colour\": \"red\", \"subject\": 5, "
	    "\"content\": \"c\", \"size\": 1}"), SUP_EUNKNOWN,
	    "unknown and invalid together: unknown_field");
	is_int(nfields(&t.r), 3, "  all three named");
	run_free(&t);
}

static void
test_encoding(void)
{
	struct run t;
	json_object *o;

	is_err(run_json(&t, "{\"subject\": \"a\\u0000b\", \"content\": \"c\"}"),
	    SUP_EINVAL, "F_STRING: \\u0000 refused");
	is_str(why(&t.r, "subject"),
	    "Must be valid UTF-8 text without NUL characters.", "  named");
	run_free(&t);
	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\\u0000\"}"),
	    SUP_EINVAL, "F_TEXT: \\u0000 refused");
	run_free(&t);
	is_err(run_json(&t, "{\"subject\": \"s\", \"content\": \"c\", "
	    "\"priority\": \"low\\u0000x\"}"), SUP_EINVAL,
	    "F_ENUM: a choice with a NUL after it refused");
	run_free(&t);

	/* json-c does not check UTF-8 by default: build the bytes directly. */
	static const char *const bad[] = {
		"\xff", "ab\xc3", "\xc0\xaf", "\xed\xa0\x80", "\x80x",
	};
	for (size_t i = 0; i < SUP_NELEM(bad); i++) {
		o = json_object_new_object();
		json_object_object_add(o, "subject",
		    json_object_new_string(bad[i]));
		json_object_object_add(o, "content",
		    json_object_new_string(bad[i]));
		is_err(run_obj(&t, o), SUP_EINVAL, "invalid UTF-8 #%zu", i);
		is_int(nfields(&t.r), 2, "  subject and content named");
		run_free(&t);
	}
}

enum { Q_PRIORITY, Q_PAGE, Q_FLAG, Q_Q, Q_MAX };

static const struct field query_fields[Q_MAX] = {
	[Q_PRIORITY] = { "priority", F_ENUM, 0, 0, 0, priorities, NULL },
	[Q_PAGE] = { "page", F_INT, 0, 1, 1000, NULL, NULL },
	[Q_FLAG] = { "flag", F_BOOL, 0, 0, 0, NULL, NULL },
	[Q_Q] = { "q", F_STRING, FIELD_REQUIRED, 1, 5, NULL, NULL },
};

/* Validate the query string qs; r is left for the caller to free. */
static sup_err
run_query(struct sup_req *r, struct value *v, const char *qs)
{
	char buf[256];
	char *env[] = { "PATH_INFO=/x/", buf, NULL };
	static const struct sup_io io;

	snprintf(buf, sizeof(buf), "QUERY_STRING=%s", qs);
	if (req_parse(r, env, io, NULL) != SUP_OK)
		bail_out("query does not parse: %s", qs);
	/* The env array dies with this frame; nothing later reads it. */
	sup_err e = valid_query(r, query_fields, Q_MAX, v);
	r->envp = NULL;
	return e;
}

static void
test_query(void)
{
	struct sup_req r;
	struct value v[Q_MAX];

	is_err(run_query(&r, v, "priority=urgent&page=12&flag=1&q=+%C3%A9t%C3%A9+"),
	    SUP_OK, "valid_query: a good query");
	is_int(v[Q_PRIORITY].num, 3, "  F_ENUM");
	is_int(v[Q_PAGE].num, 12, "  F_INT from text");
	ok(v[Q_FLAG].present && v[Q_FLAG].b, "  F_BOOL \"1\"");
	ok(v[Q_Q].len == 5 && memcmp(v[Q_Q].str, "\xc3\xa9t\xc3\xa9", 5) == 0,
	    "  F_STRING trimmed, 3 characters in 5 bytes");
	req_free(&r);

	static const struct {
		const char *qs;
		bool b;
	} bools[] = {
		{ "q=x&flag=true", true }, { "q=x&flag=0", false },
		{ "q=x&flag=false", false },
	};
	for (size_t i = 0; i < SUP_NELEM(bools); i++) {
		is_err(run_query(&r, v, bools[i].qs), SUP_OK, "valid_query: %s",
		    bools[i].qs);
		ok(v[Q_FLAG].b == bools[i].b, "  flag is %s",
		    bools[i].b ? "true" : "false");
		req_free(&r);
	}

	static const struct {
		const char *qs, *field;
		sup_err want;
	} bad[] = {
		{ "page=1", "q", SUP_EINVAL },
		{ "q=x&page=0", "page", SUP_EINVAL },
		{ "q=x&page=1001", "page", SUP_EINVAL },
		{ "q=x&page=2x", "page", SUP_EINVAL },
		{ "q=x&page=1&page=2", "page", SUP_EINVAL },
		{ "q=x&flag=yes", "flag", SUP_EINVAL },
		{ "q=x&priority=URGENT", "priority", SUP_EINVAL },
		{ "q=%20%20", "q", SUP_EINVAL },
		{ "q=abcdef", "q", SUP_EINVAL },
		{ "q=%FF", "q", SUP_EINVAL },
		{ "q=x&sort=name", "sort", SUP_EUNKNOWN },
	};
	for (size_t i = 0; i < SUP_NELEM(bad); i++) {
		is_err(run_query(&r, v, bad[i].qs), bad[i].want,
		    "valid_query: %s", bad[i].qs);
		ok(why(&r, bad[i].field) != NULL, "  \"%s\" named",
		    bad[i].field);
		req_free(&r);
	}

	/* A blank filter is no filter (Django ignores them too). */
	is_err(run_query(&r, v, "q=abc&page=&priority="), SUP_OK,
	    "valid_query: blank values are taken as absent");
	ok(!v[Q_PAGE].present && !v[Q_PRIORITY].present && v[Q_Q].present,
	    "  page and priority are not present, q is");
	req_free(&r);

	{
		/* A NUL cannot be carried in a C string: refused at parse. */
		char *env[] = { "PATH_INFO=/x/", "QUERY_STRING=q=ab%00cd", NULL };
		static const struct sup_io io;
		is_err(req_parse(&r, env, io, NULL), SUP_EINVAL,
		    "req_parse: a NUL (%%00) in a query value refused");
		req_free(&r);
	}
}

static void
test_fail(void)
{
	struct sup_req r;

	memset(&r, 0, sizeof(r));
	is_err(valid_fail(&r, "status", "Not a status."), SUP_EINVAL,
	    "valid_fail: SUP_EINVAL");
	is_str(why(&r, "status"), "Not a status.", "valid_fail: names it");
	req_free(&r);
}

/*
 * Every checked text value is a C string of exactly its length, trimmed
 * or not, from a body or a query: handlers use it as it is and never copy
 * it into a buffer sized by a limit counted in characters.
 */
static void
test_c_strings(void)
{
	static const struct field raw[] = {
		{ "password", F_TEXT, FIELD_REQUIRED | FIELD_RAW, 1, 8, NULL,
			NULL },
	};
	struct run t;
	struct sup_req r;
	struct value v[Q_MAX], pv[1];
	json_object *body;

	is_err(run_json(&t, "{\"subject\": \"  \u00e9t\u00e9  \", "
	    "\"content\": \" hi \\n\"}"), SUP_OK, "C strings: a body with "
	    "white space around its values");
	is_str(t.v[B_SUBJECT].str, "\xc3\xa9t\xc3\xa9",
	    "  the trimmed subject ends with a NUL");
	ok(strlen(t.v[B_SUBJECT].str) == t.v[B_SUBJECT].len,
	    "  and its length is its bytes");
	is_str(t.v[B_CONTENT].str, "hi", "  the trimmed content too");
	run_free(&t);

	/* 255 characters of 4 bytes (1020 bytes) within a 255-character
	 * limit, each written as a JSON surrogate pair of 12 bytes. */
	char big[255 * 12 + 64];
	size_t n = 0;
	n += (size_t)sprintf(big, "{\"subject\": \" ");
	for (int i = 0; i < 255; i++)
		n += (size_t)sprintf(big + n, "\\ud83d\\ude00");
	sprintf(big + n, " \", \"content\": \"x\"}");
	is_err(run_json(&t, big), SUP_OK, "C strings: 255 four-byte "
	    "characters are within a 255-character limit");
	ok(t.v[B_SUBJECT].len == 1020 && strlen(t.v[B_SUBJECT].str) == 1020,
	    "  as 1020 bytes, ending with a NUL");
	run_free(&t);

	is_err(run_query(&r, v, "q=+%C3%A9t%C3%A9+&priority=low"), SUP_OK,
	    "C strings: a query value with spaces around it");
	is_str(v[Q_Q].str, "\xc3\xa9t\xc3\xa9", "  is cut after its text");
	req_free(&r);

	memset(&r, 0, sizeof(r));
	body = json_tokener_parse("{\"password\": \" pass \"}");
	is_err(valid_json(&r, body, raw, 1, pv), SUP_OK, "FIELD_RAW: a "
	    "password with spaces around it");
	is_str(pv[0].str, " pass ", "  is kept as sent");
	json_object_put(body);
	req_free(&r);

	memset(&r, 0, sizeof(r));
	body = json_tokener_parse("{\"password\": \"   \"}");
	is_err(valid_json(&r, body, raw, 1, pv), SUP_EINVAL, "FIELD_RAW: a "
	    "password of spaces only is blank");
	json_object_put(body);
	req_free(&r);

	memset(&r, 0, sizeof(r));
	body = json_tokener_parse("{\"password\": \" 12345678 \"}");
	is_err(valid_json(&r, body, raw, 1, pv), SUP_EINVAL, "FIELD_RAW: "
	    "its limit counts the spaces sent");
	json_object_put(body);
	req_free(&r);
}

enum { U_UUIDS, U_STATUS, U_WHO, U_MAX };

/* A bulk change's body: 1..3 uuids, a nullable enum, a nullable int. */
static const struct field uuid_fields[U_MAX] = {
	[U_UUIDS] = { "uuids", F_UUIDS, FIELD_REQUIRED, 1, 3, NULL, NULL },
	[U_STATUS] = { "status", F_ENUM, FIELD_NULLABLE, 0, 0, priorities,
		NULL },
	[U_WHO] = { "who", F_INT, FIELD_NULLABLE, 0, 10, NULL, NULL },
};

#define U1 "0193a0c4-0000-7000-8000-000000000001"
#define U2 "0193A0C4-0000-7000-8000-000000000002"

/* Validate the JSON text json (a form's object when form) as uuid_fields. */
static sup_err
run_uuids(struct sup_req *r, json_object **body, bool form, const char *json,
    struct value *v)
{
	memset(r, 0, sizeof(*r));
	r->form = form;
	if ((*body = json_tokener_parse(json)) == NULL)
		bail_out("test JSON does not parse: %s", json);
	return valid_json(r, *body, uuid_fields, U_MAX, v);
}

static void
test_uuids(void)
{
	struct sup_req r;
	json_object *body;
	struct value v[U_MAX];
	uint8_t out[3][UUID_LEN], want[UUID_LEN];

	is_err(run_uuids(&r, &body, false, "{\"uuids\": [\"" U1 "\", \"" U2
	    "\"]}", v), SUP_OK, "F_UUIDS: two UUIDs");
	is_int(v[U_UUIDS].len, 2, "  two items");
	is_int(valid_uuids(&v[U_UUIDS], out, 3), 2, "  valid_uuids copies 2");
	uuid_parse(U2, strlen(U2), want);
	ok(memcmp(out[1], want, UUID_LEN) == 0, "  in order, upper case read");
	is_int(valid_uuids(&v[U_UUIDS], out, 1), 1, "  no more than max");
	json_object_put(body);
	req_free(&r);

	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "{\"uuids\": []}", "Ensure this field has at least 1 item." },
		{ "{\"uuids\": [\"" U1 "\", \"" U1 "\", \"" U1 "\", \"" U1
		    "\"]}", "Ensure this field has no more than 3 items." },
		{ "{\"uuids\": \"" U1 "\"}", "Must be a list of UUIDs." },
		{ "{\"uuids\": [\"" U1 "\", \"nope\"]}",
		    "Item 2 is not a UUID." },
		{ "{\"uuids\": [\"" U1 "x\"]}", "Item 1 is not a UUID." },
		{ "{\"uuids\": [1]}", "Item 1 is not a UUID." },
		{ "{\"uuids\": {\"a\": 1}}", "Must be a list of UUIDs." },
		{ "{\"uuids\": null}", "This field may not be null." },
	};
	for (size_t i = 0; i < SUP_NELEM(bad); i++) {
		is_err(run_uuids(&r, &body, false, bad[i].json, v), SUP_EINVAL,
		    "F_UUIDS refused: %s", bad[i].json);
		is_str(why(&r, "uuids"), bad[i].why, "  named, why");
		json_object_put(body);
		req_free(&r);
	}

	/* A form: one value is a list of one, a repeated name an array. */
	is_err(run_uuids(&r, &body, true, "{\"uuids\": \"" U1 "\"}", v),
	    SUP_OK, "form: F_UUIDS given once");
	is_int(valid_uuids(&v[U_UUIDS], out, 3), 1, "  one UUID");
	uuid_parse(U1, strlen(U1), want);
	ok(memcmp(out[0], want, UUID_LEN) == 0, "  the one sent");
	json_object_put(body);
	req_free(&r);
	is_err(run_uuids(&r, &body, true, "{\"uuids\": [\"" U1 "\", \"" U2
	    "\"], \"status\": \"\", \"who\": \"\"}", v), SUP_OK,
	    "form: F_UUIDS repeated, empty nullable fields");
	is_int(v[U_UUIDS].len, 2, "  two UUIDs");
	ok(v[U_STATUS].present && v[U_STATUS].is_null,
	    "  an empty nullable F_ENUM is null");
	ok(v[U_WHO].present && v[U_WHO].is_null,
	    "  an empty nullable F_INT is null");
	json_object_put(body);
	req_free(&r);
	is_err(run_uuids(&r, &body, true, "{\"uuids\": \"" U1 "\", "
	    "\"status\": [\"low\", \"high\"], \"who\": [\"1\", \"2\"]}", v),
	    SUP_EINVAL, "form: other fields repeated");
	is_str(why(&r, "status"), "Given more than once.", "  status named");
	is_str(why(&r, "who"), "Given more than once.", "  who named");
	json_object_put(body);
	req_free(&r);
	is_err(run_uuids(&r, &body, false, "{\"uuids\": [\"" U1 "\"], "
	    "\"status\": \"\"}", v), SUP_EINVAL,
	    "JSON: an empty enum is no null");
	json_object_put(body);
	req_free(&r);

	ok(valid_uuids(&(struct value){ 0 }, out, 3) == 0,
	    "valid_uuids of an absent value: none");
}

int
main(void)
{
	test_c_strings();
	test_good();
	test_required();
	test_types();
	test_lengths();
	test_values();
	test_alias_unknown();
	test_encoding();
	test_query();
	test_fail();
	test_uuids();
	return done_testing();
}
