/*
 * test_req.c - parsing a CGI request (lib/web/req.c): the routed path, the
 * query string, the size-capped body and the JSON body.  Requests are made
 * from fake environment arrays and a body in memory.
 */
#include <string.h>

#include "req.h"
#include "sup.h"

#include "tap.h"

/* A request body in memory, counting the calls made to read it. */
struct membody {
	const char *data;
	size_t len, pos;
	int chunk;		/* at most this many bytes a call; 0: any */
	int fail;		/* return -1 instead of reading */
	int stall;		/* after the data, give up waiting for more */
	int calls;
};

static int
mem_read(void *ctx, char *buf, int n)
{
	struct membody *m = ctx;
	size_t left = m->len - m->pos, want = (size_t)n;

	m->calls++;
	if (m->fail)
		return -1;
	if (m->chunk > 0 && want > (size_t)m->chunk)
		want = (size_t)m->chunk;
	if (want > left)
		want = left;
	if (want == 0 && m->stall)
		return SUP_IO_TIMEOUT;
	memcpy(buf, m->data + m->pos, want);
	m->pos += want;
	return (int)want;
}

static int
mem_write(void *ctx SUP_UNUSED, const char *buf SUP_UNUSED, int n)
{
	return n;
}

static struct sup_io
mem_io(struct membody *m)
{
	struct sup_io io = { mem_read, mem_write, m };
	return io;
}

/* Parse envp with no body; the caller req_free()s r. */
static sup_err
parse(struct sup_req *r, char **envp, const char *prefix)
{
	static struct membody none;

	memset(&none, 0, sizeof(none));
	return req_parse(r, envp, mem_io(&none), prefix);
}

static void
test_path(void)
{
	struct sup_req r;
	char *all[] = {
		"REQUEST_METHOD=POST", "PATH_INFO=/api/support/tickets/",
		"REQUEST_URI=/elsewhere/?x=1", "SCRIPT_NAME=/cgi-bin/tickets",
		NULL,
	};
	char *uri[] = {
		"REQUEST_METHOD=PATCH",
		"REQUEST_URI=/api/support/tickets/?page=2&q=x",
		"SCRIPT_NAME=/cgi-bin/tickets", NULL,
	};
	char *empty_info[] = {
		"PATH_INFO=", "REQUEST_URI=/api/support/tickets/", NULL,
	};
	char *script[] = { "SCRIPT_NAME=/api/support/tickets/", NULL };
	char *nothing[] = { "SERVER_NAME=x", NULL };
	char *prefixed[] = {
		"REQUEST_URI=/support/api/support/tickets/?page=2", NULL,
	};

	is_err(parse(&r, all, ""), SUP_OK, "req_parse: full CGI set");
	is_str(r.path, "/api/support/tickets/", "path: PATH_INFO first");
	is_str(r.method, "POST", "method from REQUEST_METHOD");
	req_free(&r);

	is_err(parse(&r, uri, NULL), SUP_OK, "req_parse: no PATH_INFO");
	is_str(r.path, "/api/support/tickets/",
	    "path: REQUEST_URI without its query");
	is_str(req_query(&r, "page"), "2",
	    "query read from REQUEST_URI when QUERY_STRING is absent");
	is_str(r.method, "PATCH", "method PATCH");
	req_free(&r);

	is_err(parse(&r, empty_info, NULL), SUP_OK, "req_parse: PATH_INFO=\"\"");
	is_str(r.path, "/api/support/tickets/",
	    "path: an empty PATH_INFO falls back to REQUEST_URI");
	req_free(&r);

	is_err(parse(&r, script, NULL), SUP_OK, "req_parse: SCRIPT_NAME only");
	is_str(r.path, "/api/support/tickets/", "path: SCRIPT_NAME last");
	req_free(&r);

	is_err(parse(&r, nothing, NULL), SUP_OK, "req_parse: no path at all");
	is_str(r.path, "/", "path: \"/\" when the server gives none");
	is_str(r.method, "GET", "method: GET when REQUEST_METHOD is absent");
	is_int(r.nquery, 0, "no query");
	req_free(&r);

	is_err(parse(&r, prefixed, "/support"), SUP_OK,
	    "req_parse with url_prefix");
	is_str(r.path, "/api/support/tickets/", "url_prefix stripped");
	req_free(&r);

	is_err(parse(&r, prefixed, "/other"), SUP_OK,
	    "req_parse with another url_prefix");
	is_str(r.path, "/support/api/support/tickets/",
	    "a prefix the path does not start with stays");
	req_free(&r);
}

static void
test_query(void)
{
	struct sup_req r;
	char *env[] = {
		"PATH_INFO=/x/",
		"QUERY_STRING=q=printer+on%20fire&status=open&status=closed"
		    "&flag&empty=&%C3%A9=%E2%82%AC&&amp=a%26b%3Dc",
		"REQUEST_URI=/x/?from=uri", NULL,
	};

	is_err(parse(&r, env, NULL), SUP_OK, "req_parse: a busy query string");
	is_str(req_query(&r, "q"), "printer on fire", "query: '+' and %%20");
	is_str(req_query(&r, "status"), "open",
	    "query: a repeated key gives its first value");
	is_str(req_query(&r, "flag"), "", "query: a key without '=' is \"\"");
	is_str(req_query(&r, "empty"), "", "query: \"key=\" is \"\"");
	is_str(req_query(&r, "\xc3\xa9"), "\xe2\x82\xac",
	    "query: %%xx in keys and values (UTF-8)");
	is_str(req_query(&r, "amp"), "a&b=c", "query: escaped '&' and '='");
	is_str(req_query(&r, "from"), NULL,
	    "query: QUERY_STRING wins over REQUEST_URI");
	is_str(req_query(&r, "missing"), NULL, "query: absent key is NULL");
	is_int(r.nquery, 7, "query: 7 pairs, the empty one skipped");
	ok(r.nquery >= 3 && strcmp(r.query[2].key, "status") == 0 &&
	    strcmp(r.query[2].val, "closed") == 0,
	    "query: pairs kept in order, the second status too");
	is_str(req_env(&r, "PATH_INFO"), "/x/", "req_env: a variable");
	is_str(req_env(&r, "PATH"), NULL,
	    "req_env: a name that is a prefix of another is not it");
	req_free(&r);

	static const char *const bad[] = {
		"q=%zz", "q=%4", "q=%", "q=ab%", "%g1=x", "a=1&b=%2",
	};
	for (size_t i = 0; i < SUP_NELEM(bad); i++) {
		char qs[64];
		char *benv[] = { "PATH_INFO=/x/", qs, NULL };
		snprintf(qs, sizeof(qs), "QUERY_STRING=%s", bad[i]);
		is_err(parse(&r, benv, NULL), SUP_EINVAL,
		    "query: bad escape in \"%s\"", bad[i]);
		req_free(&r);
	}
}

/* Parse envp and read a body from m with cap. */
static sup_err
read_body(struct sup_req *r, char **envp, struct membody *m, long cap)
{
	sup_err e = req_parse(r, envp, mem_io(m), NULL);

	return e != SUP_OK ? e : req_read_body(r, cap);
}

static void
test_body(void)
{
	struct sup_req r;
	struct membody m;
	char *big[] = { "REQUEST_METHOD=POST", "CONTENT_LENGTH=262145", NULL };
	char *cap[] = { "REQUEST_METHOD=POST", "CONTENT_LENGTH=10", NULL };
	char *over[] = { "REQUEST_METHOD=POST", "CONTENT_LENGTH=11", NULL };
	char *twenty[] = { "REQUEST_METHOD=POST", "CONTENT_LENGTH=20", NULL };
	char *junk[] = { "REQUEST_METHOD=POST", "CONTENT_LENGTH=12x", NULL };
	char *none[] = { "REQUEST_METHOD=POST", NULL };
	char *chunked[] = { "REQUEST_METHOD=POST",
	    "HTTP_TRANSFER_ENCODING=chunked", NULL };

	m = (struct membody){ .data = "{}", .len = 2 };
	is_err(read_body(&r, big, &m, 262144), SUP_ETOOLARGE,
	    "body: CONTENT_LENGTH over the cap");
	is_int(m.calls, 0, "body: a body over the cap is not read at all");
	ok(r.body == NULL, "body: nothing kept");
	req_free(&r);

	m = (struct membody){ .data = "0123456789", .len = 10 };
	is_err(read_body(&r, cap, &m, 10), SUP_OK, "body: exactly the cap");
	ok(r.body_len == 10 && memcmp(r.body, "0123456789", 11) == 0,
	    "body: read whole and NUL-terminated");
	req_free(&r);

	m = (struct membody){ .data = "0123456789x", .len = 11 };
	is_err(read_body(&r, over, &m, 10), SUP_ETOOLARGE,
	    "body: one byte over the cap");
	is_int(m.calls, 0, "body: and not read");
	req_free(&r);

	m = (struct membody){ .data = "short", .len = 5 };
	is_err(read_body(&r, twenty, &m, 1000), SUP_EIO,
	    "body: fewer bytes than CONTENT_LENGTH");
	req_free(&r);

	m = (struct membody){ .data = "abcdefghijklmnopqrst", .len = 20,
	    .chunk = 3 };
	is_err(read_body(&r, twenty, &m, 1000), SUP_OK,
	    "body: arriving 3 bytes at a time");
	ok(r.body_len == 20 && strcmp(r.body, "abcdefghijklmnopqrst") == 0,
	    "body: the pieces put together");
	is_int(m.calls, 7, "body: 7 reads of at most 3 bytes");
	req_free(&r);

	m = (struct membody){ .data = "abcdefghijklmnopqrst", .len = 20,
	    .fail = 1 };
	is_err(read_body(&r, twenty, &m, 1000), SUP_EIO,
	    "body: a read error");
	req_free(&r);

	m = (struct membody){ .data = "{\"a\": ", .len = 6, .stall = 1 };
	is_err(read_body(&r, twenty, &m, 1000), SUP_ETIMEOUT,
	    "body: the rest did not come in time (SUP_IO_TIMEOUT)");
	req_free(&r);

	m = (struct membody){ .data = "abc", .len = 3, .stall = 1 };
	is_err(read_body(&r, chunked, &m, 20), SUP_ETIMEOUT,
	    "body: chunked, the end did not come in time");
	req_free(&r);

	m = (struct membody){ .data = "{}", .len = 2 };
	is_err(read_body(&r, junk, &m, 1000), SUP_EIO,
	    "body: CONTENT_LENGTH that is not a number");
	is_int(m.calls, 0, "body: and not read");
	req_free(&r);

	m = (struct membody){ .data = "ignored", .len = 7 };
	is_err(read_body(&r, none, &m, 1000), SUP_OK,
	    "body: no CONTENT_LENGTH is an empty body");
	ok(r.body != NULL && r.body_len == 0 && r.body[0] == '\0',
	    "body: empty string");
	is_int(m.calls, 0, "body: nothing read");
	req_free(&r);

	/* Chunked, no length (plain CGI under Apache): read to the end. */
	m = (struct membody){ .data = "abcdefghijklmnopqrst", .len = 20,
	    .chunk = 7 };
	is_err(read_body(&r, chunked, &m, 20), SUP_OK,
	    "body: chunked, no CONTENT_LENGTH, exactly the cap");
	ok(r.body_len == 20 && strcmp(r.body, "abcdefghijklmnopqrst") == 0,
	    "body: chunked, read to the end of the input");
	req_free(&r);

	m = (struct membody){ .data = "abcdefghijklmnopqrstu", .len = 21 };
	is_err(read_body(&r, chunked, &m, 20), SUP_ETOOLARGE,
	    "body: chunked, one byte over the cap");
	req_free(&r);

	m = (struct membody){ .data = "abc", .len = 3, .fail = 1 };
	is_err(read_body(&r, chunked, &m, 20), SUP_EIO,
	    "body: chunked, a read error");
	req_free(&r);
}

/* A POST with this Content-Type (NULL: none) and body, parsed as JSON. */
static sup_err
post_json(struct sup_req *r, const char *ctype, const char *body)
{
	static struct membody m;
	static char ct[128], cl[64];
	static char *env[4];
	int n = 0;
	sup_err e;

	m = (struct membody){ .data = body, .len = strlen(body) };
	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", strlen(body));
	env[n++] = cl;
	if (ctype != NULL) {
		snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", ctype);
		env[n++] = ct;
	}
	env[n] = NULL;
	if ((e = read_body(r, env, &m, 1 << 20)) != SUP_OK)
		return e;
	return req_parse_json(r);
}

static void
test_json(void)
{
	static const struct {
		const char *ctype, *body;
		sup_err want;
		const char *what;
	} cases[] = {
		{ NULL, "{}", SUP_EMEDIA, "no Content-Type" },
		{ "text/plain", "{}", SUP_EMEDIA, "text/plain" },
		{ "application/x-www-form-urlencoded", "{}", SUP_EMEDIA,
		    "a form" },
		{ "application/jsonp", "{}", SUP_EMEDIA, "application/jsonp" },
		{ "", "{}", SUP_EMEDIA, "an empty Content-Type" },
		{ "application/json", "{}", SUP_OK, "application/json" },
		{ "application/json; charset=utf-8", "{}", SUP_OK,
		    "with charset" },
		{ "Application/JSON", "{}", SUP_OK, "the type in capitals" },
		{ "application/json", "{\"a\": 1}  \r\n", SUP_OK,
		    "white space after the object" },
		{ "application/json", "", SUP_EJSON, "an empty body" },
		{ "application/json", "{", SUP_EJSON, "an unfinished object" },
		{ "application/json", "{\"a\": 1} x", SUP_EJSON,
		    "trailing garbage" },
		{ "application/json", "{}{}", SUP_EJSON, "two objects" },
		{ "application/json", "[1, 2]", SUP_EJSON, "an array" },
		{ "application/json", "\"text\"", SUP_EJSON, "a string" },
		{ "application/json", "null", SUP_EJSON, "null" },
		{ "application/json", "{\"a\": 1,}", SUP_EJSON,
		    "a trailing comma" },
	};
	struct sup_req r;

	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		is_err(post_json(&r, cases[i].ctype, cases[i].body),
		    cases[i].want, "req_parse_json: %s", cases[i].what);
		ok((r.json != NULL) == (cases[i].want == SUP_OK),
		    "req_parse_json: r.json %s", cases[i].want == SUP_OK ?
		    "set" : "left NULL");
		req_free(&r);
	}

	/* json-c's strict mode still lets these through. */
	is_err(post_json(&r, "application/json", "{'a': 1}"), SUP_EJSON,
	    "req_parse_json: a single-quoted member name");
	req_free(&r);
	is_err(post_json(&r, "application/json", "{\"a\": NaN}"), SUP_EJSON,
	    "req_parse_json: NaN");
	req_free(&r);

	json_object *v;
	is_err(post_json(&r, "application/json",
	    "{\"subject\": \"Printer \\u00e9\", \"n\": 3}"), SUP_OK,
	    "req_parse_json: an object with members");
	ok(json_object_object_get_ex(r.json, "subject", &v) &&
	    strcmp(json_object_get_string(v), "Printer \xc3\xa9") == 0,
	    "req_parse_json: members readable, \\u escapes decoded");
	req_free(&r);
}

/* The same POST, parsed by req_parse_body (JSON or a form). */
static sup_err
post_body(struct sup_req *r, const char *ctype, const char *body)
{
	static struct membody m;
	static char ct[128], cl[64];
	static char *env[4];
	sup_err e;

	m = (struct membody){ .data = body, .len = strlen(body) };
	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", strlen(body));
	snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", ctype);
	env[0] = cl;
	env[1] = ct;
	env[2] = NULL;
	if ((e = read_body(r, env, &m, 1 << 20)) != SUP_OK)
		return e;
	return req_parse_body(r);
}

/* The string member name of r->json, or NULL. */
static const char *
member(const struct sup_req *r, const char *name)
{
	json_object *v;

	if (r->json == NULL || !json_object_object_get_ex(r->json, name, &v))
		return NULL;
	return json_object_get_string(v);
}

static void
test_form(void)
{
	static const char form[] = "application/x-www-form-urlencoded";
	struct sup_req r;

	is_err(post_body(&r, form, "subject=Printer+on%20fire&initial_message="
	    "It%27s+%C3%A9&csrfmiddlewaretoken=abc"), SUP_OK,
	    "form: parsed");
	ok(r.form, "form: r.form set");
	is_str(member(&r, "subject"), "Printer on fire",
	    "form: '+' and %%20 are spaces");
	is_str(member(&r, "initial_message"), "It's \xc3\xa9",
	    "form: %%-escapes decoded, UTF-8 kept");
	ok(member(&r, "csrfmiddlewaretoken") == NULL,
	    "form: the CSRF field is not a member");
	is_str(r.form_csrf, "abc", "form: the CSRF field kept apart");
	is_int(json_object_object_length(r.json), 2, "form: two members");
	req_free(&r);

	is_err(post_body(&r, "application/x-www-form-urlencoded; "
	    "charset=UTF-8", "a=1&b=&c"), SUP_OK,
	    "form: with a charset; empty and bare values");
	is_str(member(&r, "b"), "", "form: b= is an empty string");
	is_str(member(&r, "c"), "", "form: a bare name is an empty string");
	ok(r.form_csrf == NULL, "form: no CSRF field, none kept");
	req_free(&r);

	is_err(post_body(&r, form, ""), SUP_OK, "form: an empty body");
	ok(r.json != NULL && json_object_object_length(r.json) == 0,
	    "form: an empty body is an empty object");
	req_free(&r);

	is_err(post_body(&r, form, "a=%zz"), SUP_EINVAL,
	    "form: a bad escape is SUP_EINVAL");
	ok(r.json == NULL, "form: nothing parsed");
	req_free(&r);
	is_err(post_body(&r, form, "a=%00"), SUP_EINVAL,
	    "form: an escaped NUL is SUP_EINVAL");
	req_free(&r);
	is_err(post_body(&r, form, "a=1&b=x&a=2&a=3"), SUP_OK,
	    "form: a field given more than once is parsed");
	{
		json_object *a = NULL;
		ok(json_object_object_get_ex(r.json, "a", &a) &&
		    json_object_is_type(a, json_type_array) &&
		    json_object_array_length(a) == 3 &&
		    strcmp(json_object_get_string(json_object_array_get_idx(
		    a, 0)), "1") == 0 &&
		    strcmp(json_object_get_string(json_object_array_get_idx(
		    a, 2)), "3") == 0,
		    "form: its values as an array, in order (valid_json "
		    "refuses it but for a list field)");
	}
	req_free(&r);
	is_err(post_body(&r, form, "csrfmiddlewaretoken=1&"
	    "csrfmiddlewaretoken=2"), SUP_EINVAL,
	    "form: two CSRF fields are SUP_EINVAL");
	req_free(&r);

	is_err(post_body(&r, "application/json", "{\"a\": \"1\"}"), SUP_OK,
	    "req_parse_body: JSON still parsed as JSON");
	ok(!r.form && member(&r, "a") != NULL, "req_parse_body: r.form unset");
	req_free(&r);
	is_err(post_body(&r, "text/plain", "a=1"), SUP_EMEDIA,
	    "req_parse_body: text/plain is SUP_EMEDIA");
	req_free(&r);
	is_err(post_body(&r, form, "{\"a\": 1}"), SUP_OK,
	    "req_parse_body: a JSON text sent as a form is a form");
	ok(member(&r, "{\"a\": 1}") != NULL, "req_parse_body: ... its text is "
	    "a name, not members");
	req_free(&r);
}

static void
test_page_url(void)
{
	struct sup_req r;
	char *url;
	char *env[] = {
		"REQUEST_URI=/support/api/support/tickets/"
		    "?status=open&page=3&q=a%26b+c%C3%A9&page_size=5",
		NULL,
	};
	char *plain[] = { "REQUEST_URI=/api/support/tickets/", NULL };

	parse(&r, env, "/support");
	url = req_page_url(&r, "/support", 4);
	is_str(url, "/support/api/support/tickets/"
	    "?status=open&q=a%26b%20c%C3%A9&page_size=5&page=4",
	    "req_page_url: prefix back, page replaced, values escaped");
	free(url);
	url = req_page_url(&r, NULL, 1);
	is_str(url, "/api/support/tickets/?status=open&q=a%26b%20c%C3%A9"
	    "&page_size=5&page=1", "req_page_url: without a prefix");
	free(url);
	req_free(&r);

	parse(&r, plain, "");
	url = req_page_url(&r, "", 2);
	is_str(url, "/api/support/tickets/?page=2",
	    "req_page_url: a request without a query");
	free(url);
	req_free(&r);
}

static void
test_cookies(void)
{
	struct sup_req r;
	char *env[] = {
		"PATH_INFO=/x/",
		"HTTP_COOKIE=a=1; sessionid = abc ;csrftoken=x%20y;empty=;flag;"
		    " ; two=1=2; a=second",
		NULL,
	};
	char *none[] = { "PATH_INFO=/x/", NULL };

	is_err(parse(&r, env, NULL), SUP_OK, "req_parse with cookies");
	is_str(req_cookie(&r, "sessionid"), "abc",
	    "cookie: spaces around name and value trimmed");
	is_str(req_cookie(&r, "csrftoken"), "x%20y",
	    "cookie: the value as sent (no %%-decoding)");
	is_str(req_cookie(&r, "empty"), "", "cookie: \"name=\" is \"\"");
	is_str(req_cookie(&r, "flag"), "", "cookie: a name alone is \"\"");
	is_str(req_cookie(&r, "two"), "1=2", "cookie: '=' inside the value");
	is_str(req_cookie(&r, "a"), "1", "cookie: the first of two wins");
	is_str(req_cookie(&r, "missing"), NULL, "cookie: absent is NULL");
	is_str(req_query(&r, "a"), NULL, "cookies are not query parameters");
	is_int(r.ncookies, 7, "cookie: 7 pairs, the empty one skipped");
	req_free(&r);
	ok(r.cookies == NULL && r.ncookies == 0, "req_free releases them");

	is_err(parse(&r, none, NULL), SUP_OK, "req_parse without cookies");
	is_str(req_cookie(&r, "sessionid"), NULL, "  no cookie");
	req_free(&r);
}

static void
test_field_error_and_free(void)
{
	struct sup_req r;
	json_object *v;
	char *env[] = { "QUERY_STRING=a=1&b=2", "PATH_INFO=/x/", NULL };

	parse(&r, env, NULL);
	is_err(req_field_error(&r, "subject", "first"), SUP_OK,
	    "req_field_error: first detail");
	req_field_error(&r, "subject", "second");
	req_field_error(&r, "content", "other");
	ok(json_object_object_get_ex(r.err_fields, "subject", &v) &&
	    strcmp(json_object_get_string(v), "first") == 0,
	    "req_field_error: the first detail of a field wins");
	is_int(json_object_object_length(r.err_fields), 2,
	    "req_field_error: one entry per field");
	r.err_extra = json_object_new_object();
	req_reset_reply(&r);
	ok(r.err_fields == NULL && r.err_extra == NULL,
	    "req_reset_reply: the error's fields and extra members released");
	r.reply = json_object_new_object();
	r.err_extra = json_object_new_object();
	r.location = strdup("/somewhere/");
	req_free(&r);
	ok(r.path == NULL && r.query == NULL && r.nquery == 0 &&
	    r.err_fields == NULL && r.err_extra == NULL && r.reply == NULL &&
	    r.location == NULL, "req_free: everything released and cleared");
}

int
main(void)
{
	test_path();
	test_query();
	test_body();
	test_json();
	test_form();
	test_page_url();
	test_cookies();
	test_field_error_and_free();
	return done_testing();
}
