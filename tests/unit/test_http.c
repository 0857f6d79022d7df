/*
 * test_http.c - responses (lib/web/http.c): a JSON body is the same bytes
 * whether json-c prints it or it goes out in pieces around raw objects
 * (lib/text/jtext.h), with a Content-Length that counts them; HEAD sends the
 * headers only.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http.h"
#include "jtext.h"
#include "req.h"
#include "sup.h"
#include "util.h"

#include "tap.h"
#include "capture.h"

/* body sent as method: the whole response, NUL-terminated (caller frees). */
static char *
send_body(const char *method, json_object *body)
{
	char m[32];
	char *envp[] = { m, "PATH_INFO=/api/support/tickets/", NULL };
	struct sup_io io = { mem_read, mem_write, NULL };
	struct sup_req r;
	char *got;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	memset(&out, 0, sizeof(out));
	if (req_parse(&r, envp, io, "") != SUP_OK)
		bail_out("req_parse");
	if (http_send_json(&r, 200, body) != SUP_OK)
		bail_out("http_send_json");
	req_free(&r);
	sbuf_add(&out, "", 1);
	got = out.p;
	memset(&out, 0, sizeof(out));
	return got;
}

/* The body of response resp, after its blank line. */
static const char *
body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	return b != NULL ? b + 4 : "";
}

/* A raw object of text s. */
static json_object *
raw(const char *s)
{
	json_object *o = jt_object_new(strdup(s), strlen(s));

	if (o == NULL)
		bail_out("jt_object_new");
	return o;
}

/* Does the response's Content-Length count its body? */
static bool
length_right(const char *resp)
{
	const char *cl = strstr(resp, "Content-Length: ");

	return cl != NULL && strtoul(cl + 16, NULL, 10) ==
	    strlen(body_of(resp));
}

static void
test_pieces(void)
{
	json_object *list = json_object_new_object(), *copy;
	const char *results = "[{\"uuid\":\"a\",\"subject\":\"<b>\\\"q\\\"\"},"
	    "{\"uuid\":\"b\"}]";
	char *got, *want;

	json_object_object_add(list, "count", json_object_new_int(2));
	json_object_object_add(list, "results", raw(results));
	json_object_object_add(list, "next", json_object_new_string(
	    "/api/support/tickets/?page=2"));
	json_object_object_add(list, "previous", NULL);
	/* What json-c prints of the same object, parsed anew. */
	copy = json_tokener_parse(json_object_to_json_string_ext(list,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	want = send_body("GET", copy);
	got = send_body("GET", list);
	is_str(body_of(got), body_of(want), "an object around a raw member "
	    "sends json-c's bytes");
	ok(strstr(body_of(got), results) != NULL && length_right(got),
	    "  the raw text as it is, and a length that counts the pieces");
	free(got);
	got = send_body("HEAD", list);
	ok(strcmp(body_of(got), "") == 0 && strstr(got, "Content-Length: ") &&
	    strtoul(strstr(got, "Content-Length: ") + 16, NULL, 10) ==
	    strlen(body_of(want)), "HEAD: the headers only, with GET's length");
	free(got);
	free(want);
	json_object_put(copy);

	/* A name to escape: json-c prints all of it. */
	json_object_object_add(list, "odd\"name", json_object_new_int(1));
	got = send_body("GET", list);
	copy = json_tokener_parse(body_of(got));
	ok(copy != NULL && json_object_object_get_ex(copy, "odd\"name", NULL) &&
	    length_right(got), "a member name with a quote: escaped, whole");
	json_object_put(copy);
	free(got);
	json_object_put(list);

	/* Many members: json-c prints it. */
	list = json_object_new_object();
	json_object_object_add(list, "r", raw("[1]"));
	for (int i = 0; i < 40; i++) {
		char name[16];
		snprintf(name, sizeof(name), "m%d", i);
		json_object_object_add(list, name, json_object_new_int(i));
	}
	got = send_body("GET", list);
	copy = json_tokener_parse(body_of(got));
	ok(copy != NULL && json_object_object_length(copy) == 41 &&
	    length_right(got), "41 members with a raw one: all of them");
	json_object_put(copy);
	free(got);
	json_object_put(list);

	/* A raw object alone is its text. */
	list = raw("{\"a\":[1,2]}");
	got = send_body("GET", list);
	is_str(body_of(got), "{\"a\":[1,2]}\n", "a raw object is its text");
	free(got);
	json_object_put(list);
}

/* http_range and http_tag_in: the download's Range and ETag headers. */
static void
test_range(void)
{
	static const struct {
		const char *h;
		uint64_t size;
		int want;
		uint64_t from, to;
	} cases[] = {
		{ "bytes=0-7", 100, 1, 0, 7 },
		{ "bytes=10-", 100, 1, 10, 99 },
		{ "bytes=-4", 100, 1, 96, 99 },
		{ "bytes=-200", 100, 1, 0, 99 },
		{ "bytes=90-500", 100, 1, 90, 99 },
		{ "bytes=99-99", 100, 1, 99, 99 },
		{ "bytes=100-", 100, -1, 0, 0 },
		{ "bytes=5-4", 100, -1, 0, 0 },
		{ "bytes=-0", 100, -1, 0, 0 },
		{ "bytes=x-1", 100, -1, 0, 0 },
		{ "bytes=1-x", 100, -1, 0, 0 },
		{ "bytes=1", 100, -1, 0, 0 },
		{ "bytes=0-", 0, -1, 0, 0 },
		{ "bytes=0-1,4-5", 100, 0, 0, 0 },
		{ "items=0-1", 100, 0, 0, 0 },
	};

	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		uint64_t from = 0, to = 0;
		int got = http_range(cases[i].h, cases[i].size, &from, &to);
		ok(got == cases[i].want && (got != 1 ||
		    (from == cases[i].from && to == cases[i].to)),
		    "Range %s of %llu bytes: %d %llu-%llu", cases[i].h,
		    (unsigned long long)cases[i].size, got,
		    (unsigned long long)from, (unsigned long long)to);
	}
	ok(http_tag_in("\"abc\"", "\"abc\""), "If-None-Match: the tag");
	ok(http_tag_in("\"x\", W/\"abc\"", "\"abc\""), "a weak tag in a list");
	ok(http_tag_in("*", "\"abc\""), "*");
	ok(!http_tag_in("\"abcd\"", "\"abc\""), "not another tag");
	ok(!http_tag_in(NULL, "\"abc\""), "no header");
}

int
main(void)
{
	test_pieces();
	test_range();
	return done_testing();
}
