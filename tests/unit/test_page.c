/*
 * test_page.c - lib/web/page.c: next= validation, status labels, the times
 * shown without JavaScript, the page fields of a ticket and a list, the
 * shared context, and what a response looks like (headers, redirects,
 * error pages, a broken or missing template).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conf.h"
#include "jtext.h"
#include "page.h"
#include "req.h"
#include "sup.h"
#include "util.h"

#include "tap.h"
#include "capture.h"

/* Parse a request from envp, the response going to out (emptied). */
static void
request(struct sup_req *r, char **envp)
{
	struct sup_io io = { mem_read, mem_write, NULL };

	free(out.p);
	memset(&out, 0, sizeof(out));
	if (req_parse(r, envp, io, "") != SUP_OK)
		bail_out("req_parse");
}

static bool
has(const char *s)
{
	return out.p != NULL && strstr(out.p, s) != NULL;
}

static void
test_next(void)
{
	static const char *const good[] = { "/support/", "/support/tickets/"
		"new/", "/support/?page=2&status=open", "/a" };
	static const char *const bad[] = { NULL, "", "support/", "//evil.example/",
		"/\\evil.example", "https://evil.example/", "javascript:alert(1)",
		"/support/\r\nSet-Cookie: x=1", "/a\\b", "/tab\there", " /lead" };
	char *longp;

	for (size_t i = 0; i < SUP_NELEM(good); i++)
		ok(page_next_ok(good[i]), "next ok: %s", good[i]);
	for (size_t i = 0; i < SUP_NELEM(bad); i++)
		ok(!page_next_ok(bad[i]), "next refused: bad[%zu]", i);
	if ((longp = malloc(PAGE_NEXT_MAX + 2)) == NULL)
		bail_out("malloc");
	memset(longp, 'a', PAGE_NEXT_MAX + 1);
	longp[0] = '/';
	longp[PAGE_NEXT_MAX + 1] = '\0';
	ok(!page_next_ok(longp), "next refused: longer than PAGE_NEXT_MAX");
	longp[PAGE_NEXT_MAX] = '\0';
	ok(page_next_ok(longp), "next ok: PAGE_NEXT_MAX bytes");
	free(longp);
}

static void
test_labels(void)
{
	is_str(page_status_label("open", false), "Open", "label open");
	is_str(page_status_label("waiting_for_admin", false),
	    "Waiting for support", "customer: waiting_for_admin");
	is_str(page_status_label("waiting_for_user", false),
	    "Waiting for your reply", "customer: waiting_for_user");
	is_str(page_status_label("waiting_for_admin", true), "Needs a reply",
	    "staff: waiting_for_admin");
	is_str(page_status_label("waiting_for_user", true),
	    "Waiting for the customer", "staff: waiting_for_user");
	is_str(page_status_label("resolved", true), "Resolved", "resolved");
	is_str(page_status_label("closed", false), "Closed", "closed");
	is_str(page_status_label("weird", false), "weird", "unknown: itself");
	is_str(page_status_label(NULL, false), "", "NULL: empty");
	is_str(page_status_label("open", true), "New", "staff: open is New");
	is_str(page_ticket_status_label("open", true, false), "New",
	    "staff: an open ticket never answered is New");
	is_str(page_ticket_status_label("open", true, true), "Open",
	    "staff: an open ticket that had a staff reply (re-opened) is Open");
	is_str(page_ticket_status_label("open", false, true), "Open",
	    "customer: Open either way");
	is_str(page_ticket_status_label("resolved", true, true), "Resolved",
	    "other statuses as page_status_label");
}

static void
test_times(void)
{
	char buf[PAGE_TIME_STRLEN + 1], small[8];

	ok(page_time_display("2026-11-23T10:04:05.123456Z", buf, sizeof(buf)),
	    "time display: parses");
	is_str(buf, "2026-11-23 10:04 UTC", "time display: minutes, UTC");
	ok(page_time_display("1999-12-31T23:59:59.999999Z", buf, sizeof(buf)),
	    "time display: end of a century");
	is_str(buf, "1999-12-31 23:59 UTC", "time display: not rounded up");
	ok(!page_time_display("yesterday", buf, sizeof(buf)) && buf[0] == '\0',
	    "time display: not a time gives false and \"\"");
	ok(!page_time_display(NULL, buf, sizeof(buf)), "time display: NULL");
	ok(!page_time_display("2026-11-23T10:04:05Z", small, sizeof(small)) &&
	    small[0] == '\0', "time display: a short buffer is refused");

	/* The API's own form is read from its digits, the rest the long way:
	 * both must say the same as gmtime_r and strftime. */
	ok(page_time_display("2028-02-29T12:30:00.000000Z", buf, sizeof(buf)) &&
	    strcmp(buf, "2028-02-29 12:30 UTC") == 0,
	    "time display: a leap day");
	ok(page_time_display("2000-02-29T00:00:00.000000Z", buf, sizeof(buf)) &&
	    strcmp(buf, "2000-02-29 00:00 UTC") == 0,
	    "time display: a leap day of a year divisible by 400");
	ok(!page_time_display("2026-02-29T12:30:00.000000Z", buf, sizeof(buf)),
	    "time display: 29 February of a common year is no time");
	ok(!page_time_display("1900-02-29T00:00:00.000000Z", buf, sizeof(buf)),
	    "time display: nor of a century not divisible by 400");
	ok(!page_time_display("2026-04-31T00:00:00.000000Z", buf, sizeof(buf)),
	    "time display: 31 April is no time");
	ok(!page_time_display("2026-11-23T24:00:00.000000Z", buf, sizeof(buf)),
	    "time display: hour 24 is no time");
	ok(!page_time_display("2026-11-23T10:04:05.123456Zx", buf,
	    sizeof(buf)), "time display: a byte after the Z");
	ok(page_time_display("2026-11-23 10:04:05+00:00", buf, sizeof(buf)) &&
	    strcmp(buf, "2026-11-23 10:04 UTC") == 0,
	    "time display: another form, the long way");
	ok(page_time_display("0999-01-01T00:00:00.000000Z", buf, sizeof(buf)) &&
	    strcmp(buf, "999-01-01 00:00 UTC") == 0,
	    "time display: a year below 1000 as strftime writes it");
}

/*
 * src rendered (as an .html template) with data, the reader staff or not:
 * json-c data, or when text, data's own text as a text object (as the
 * API's objects reach a page).  The output; the caller frees.
 */
static char *
render_page(const char *src, json_object *data, bool staff)
{
	struct page_members pm = { .staff = staff };
	const struct tmpl_extra extra = page_extra(&pm);
	struct sbuf buf = { 0 };
	struct tmpl *t;

	if (tmpl_parse_buf(NULL, "t.html", src, strlen(src), &t, NULL, 0) !=
	    SUP_OK)
		bail_out("template does not parse: %s", src);
	if (tmpl_render_ex(t, data, &extra, tmpl_sbuf_write, &buf) != SUP_OK)
		bail_out("render: %s", src);
	tmpl_free(t);
	return buf.p != NULL ? buf.p : strdup("");
}

/* A text object of the JSON text s. */
static json_object *
text_object(const char *s)
{
	json_object *o = jt_object_new(strdup(s), strlen(s));

	if (o == NULL)
		bail_out("jt_object_new");
	return o;
}

#define PAGE_RENDERS(src, data, staff, want, ...) do {			\
	char *got_ = render_page((src), (data), (staff));		\
	is_str(got_, (want), __VA_ARGS__);				\
	free(got_);							\
} while (0)

static void
test_members(void)
{
	json_object *o = text_object("{\"created_at\": "
	    "\"2026-01-02T03:04:05.000000Z\", \"closed_at\": null, "
	    "\"chat\": \"not_at\", \"last_message\": {\"created_at\": "
	    "\"2026-01-02T03:05:00.000000Z\"}, \"messages\": [{\"created_at\": "
	    "\"2026-01-02T04:00:00.000000Z\"}, {\"uuid\": \"m2\"}], "
	    "\"odd_at\": \"soon\", \"status\": \"waiting_for_user\", "
	    "\"user\": {\"username\": \"al\", \"display_name\": \"\"}, "
	    "\"assignee\": {\"username\": \"ca\", \"display_name\": "
	    "\"Carol <C>\"}}");
	json_object *plain = json_tokener_parse("{\"created_at\": "
	    "\"2026-01-02T03:04:05.000000Z\", \"status\": \"open\"}");

	PAGE_RENDERS("{{created_at_display}}", o, false,
	    "2026-01-02 03:04 UTC", "members: a time in words");
	PAGE_RENDERS("[{{closed_at_display}}][{{odd_at_display}}]"
	    "[{{chat_display}}]", o, false, "[][][]",
	    "members: none for null, for what is no time, for a name "
	    "without _at");
	PAGE_RENDERS("{{#last_message}}{{created_at_display}}"
	    "{{/last_message}}", o, false, "2026-01-02 03:05 UTC",
	    "members: in a nested object");
	PAGE_RENDERS("{{#messages}}{{created_at_display}};{{/messages}}", o,
	    false, "2026-01-02 04:00 UTC;2026-01-02 03:04 UTC;",
	    "members: in objects of arrays; one without its own time shows "
	    "the one around it, as any name");
	PAGE_RENDERS("{{status_label}}", o, false, "Waiting for your reply",
	    "members: the status in the customer's words");
	PAGE_RENDERS("{{status_label}}", o, true, "Waiting for the customer",
	    "members: the status in the words of staff");
	PAGE_RENDERS("{{#user}}{{name}}{{/user}}|{{#assignee}}{{name}}"
	    "{{/assignee}}", o, false, "al|Carol &lt;C&gt;",
	    "members: a User's name, escaped like any value");
	PAGE_RENDERS("[{{created_at_display}}{{status_label}}]", plain, false,
	    "[]", "members: never for json-c objects (the page makes its "
	    "own)");
	json_object_put(o);
	json_object_put(plain);
}

/* page_time_ago's words, and the member that gives them. */
static void
test_ago(void)
{
	static const struct {
		int64_t secs;
		const char *words;
	} cases[] = {
		{ -30, "just now" }, { 0, "just now" }, { 59, "just now" },
		{ 60, "1 min ago" }, { 5 * 60 + 59, "5 min ago" },
		{ 3599, "59 min ago" }, { 3600, "1 hour ago" },
		{ 7200, "2 hours ago" }, { 86399, "23 hours ago" },
		{ 86400, "1 day ago" }, { 3 * 86400, "3 days ago" },
		{ 59 * 86400, "59 days ago" }, { 60 * 86400, "2 months ago" },
		{ 400 * 86400, "13 months ago" }, { 730 * 86400, "2 years ago" },
	};
	const int64_t now = 1800000000LL * 1000000;
	char buf[32], small[4];
	char *got;

	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		ok(page_time_ago(now - cases[i].secs * 1000000, now, buf,
		    sizeof(buf)), "ago %lld s", (long long)cases[i].secs);
		is_str(buf, cases[i].words, "  its words");
	}
	ok(!page_time_ago(now - 7200 * (int64_t)1000000, now, small,
	    sizeof(small)) && small[0] == '\0', "ago: too small a buffer");
	json_object *o = text_object("{\"a_at\": \"2001-01-01T00:00:00Z\", "
	    "\"b_at\": null, \"c_at\": \"soon\"}");
	got = render_page("[{{a_at_ago}}][{{b_at_ago}}][{{c_at_ago}}]", o,
	    true);
	ok(got != NULL && strncmp(got, "[", 1) == 0 &&
	    strstr(got, " years ago][][]") != NULL,
	    "ago: the member, none for null or what is no time: %s",
	    got ? got : "(null)");
	free(got);
	json_object_put(o);
}

/* A member of o as a boolean (false when absent). */
static bool
flag(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) &&
	    json_object_get_boolean(v);
}

static void
test_ticket_fields(void)
{
	static const struct {
		const char *status;
		bool staff, reply, resolve, close, reopen;
	} cases[] = {
		{ "open", false, true, true, true, false },
		{ "waiting_for_user", false, true, true, true, false },
		{ "resolved", false, true, false, true, false },
		{ "closed", false, false, false, false, false },
		{ "closed", true, true, false, false, true },
		{ "resolved", true, true, false, true, true },
		{ "open", true, true, true, true, false },
	};
	char text[512], want[64];

	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		json_object *api, *t;
		snprintf(text, sizeof(text), "{\"number\": 7, \"status\": "
		    "\"%s\", \"messages\": [{\"is_from_user\": true, "
		    "\"sender\": {\"username\": \"al\", \"display_name\": "
		    "\"\"}}, {\"is_from_user\": false, \"sender\": "
		    "{\"username\": \"ca\", \"display_name\": \"Carol\"}}]}",
		    cases[i].status);
		api = text_object(text);
		t = page_ticket(api, cases[i].staff);
		ok(t != NULL && flag(t, "can_reply") == cases[i].reply &&
		    flag(t, "can_resolve") == cases[i].resolve &&
		    flag(t, "can_close") == cases[i].close &&
		    flag(t, "can_reopen") == cases[i].reopen &&
		    flag(t, "is_closed") == (strcmp(cases[i].status,
		    "closed") == 0), "ticket flags: %s for %s",
		    cases[i].status, cases[i].staff ? "staff" : "the owner");
		ok(json_object_array_length(json_object_object_get(t,
		    "statuses")) == 5, "ticket: the statuses' labels");
		PAGE_RENDERS("{{#messages}}{{#from_staff}}staff:{{/from_staff}}"
		    "{{sender_name}};{{/messages}}", t, cases[i].staff,
		    "al;staff:Carol;", "ticket: from_staff and sender_name "
		    "(the display name, else the username) per message");
		if (i == 0) {
			/* Senders again, and one of the same length. */
			json_object *th = text_object("{\"messages\": ["
			    "{\"sender\": {\"username\": \"al\"}}, "
			    "{\"sender\": {\"username\": \"bo\"}}, "
			    "{\"sender\": {\"username\": \"bo\"}}, "
			    "{\"sender\": {\"username\": \"al\"}}, "
			    "{\"sender\": {\"username\": \"cy\"}}, "
			    "{\"sender\": {\"username\": \"di\"}}, "
			    "{\"sender\": {\"username\": \"ed\"}}, "
			    "{\"sender\": {\"username\": \"al\"}}, "
			    "{\"sender\": {\"username\": \"al\", "
			    "\"display_name\": \"Al\"}}]}");
			PAGE_RENDERS("{{#messages}}{{sender_name}};"
			    "{{/messages}}", th, false,
			    "al;bo;bo;al;cy;di;ed;al;Al;",
			    "ticket: each message's own sender_name, the same "
			    "sender one after another or not");
			json_object_put(th);
		}
		snprintf(want, sizeof(want), "7 %s", cases[i].status);
		PAGE_RENDERS("{{number}} {{status}}", t, cases[i].staff, want,
		    "ticket: the API's members from its text");
		json_object_put(t);
		json_object_put(api);
	}
	{
		/* status_label per ticket; a User's name, once when it has
		 * no display name of its own. */
		json_object *l = text_object("{\"results\": ["
		    "{\"status\": \"open\", \"first_response_at\": null, "
		    "\"user\": {\"username\": \"al\", \"display_name\": "
		    "\"al\"}}, "
		    "{\"status\": \"open\", \"first_response_at\": "
		    "\"2026-01-02T03:04:05.000000Z\", \"user\": "
		    "{\"username\": \"ca\", \"display_name\": \"Carol\"}}, "
		    "{\"status\": \"open\", \"user\": {\"username\": "
		    "\"bo\", \"display_name\": \"\"}}]}");
		PAGE_RENDERS("{{#results}}{{status_label}}: {{#user}}{{name}}"
		    "{{#own_name}} ({{username}}){{/own_name}}{{/user}};"
		    "{{/results}}", l, true,
		    "New: al;Open: Carol (ca);New: bo;",
		    "list: New until answered, then Open; a name once "
		    "unless it has one of its own");
		json_object_put(l);
	}
	{
		json_object *parsed = json_tokener_parse("{\"status\": "
		    "\"open\"}");
		ok(page_ticket(parsed, false) == NULL,
		    "ticket: only the API's text object is a page's ticket");
		json_object_put(parsed);
	}
}

static void
test_list(void)
{
	json_object *api = json_tokener_parse("{\"count\": 1, \"next\": null, "
	    "\"previous\": \"/support/?page=1\"}");
	json_object *l, *st, *e;
	json_object *empty_api = json_tokener_parse("{\"count\": 0}");
	int selected = 0;

	json_object_object_add(api, "results", text_object("[{\"status\": "
	    "\"waiting_for_user\", \"updated_at\": "
	    "\"2026-05-06T07:08:09.000000Z\"}]"));
	json_object_object_add(empty_api, "results", text_object("[]"));
	l = page_ticket_list(api, false, "resolved");
	PAGE_RENDERS("{{#results}}{{status_label}}|{{updated_at_display}}"
	    "{{/results}}", l, false, "Waiting for your reply|2026-05-06 "
	    "07:08 UTC", "list: each ticket's status label and times");
	is_str(json_object_get_string(json_object_object_get(l, "previous")),
	    "/support/?page=1", "list: previous kept");
	ok(!flag(l, "empty"), "list: not empty");
	st = json_object_object_get(l, "statuses");
	is_int(json_object_array_length(st), 5, "list: five statuses");
	for (size_t i = 0; i < json_object_array_length(st); i++)
		if (flag(json_object_array_get_idx(st, i), "selected"))
			selected++;
	ok(selected == 1 && flag(json_object_array_get_idx(st, 3),
	    "selected"), "list: the filter in use is selected");
	e = page_ticket_list(empty_api, true, NULL);
	ok(flag(e, "empty"), "list: count 0 is empty");
	json_object_put(e);
	json_object_put(empty_api);
	json_object_put(l);
	json_object_put(api);
}

/* The page context and responses, with templates in dir. */
static void
test_responses(const char *dir)
{
	char *get_env[] = { "REQUEST_METHOD=GET", "PATH_INFO=/support/x/",
		"QUERY_STRING=a=1&b=two words", NULL };
	char *post_env[] = { "REQUEST_METHOD=POST",
		"PATH_INFO=/support/tickets/new/", NULL };
	char *cookie_env[] = { "REQUEST_METHOD=GET", "PATH_INFO=/support/",
		"HTTP_COOKIE=csrftoken=" "0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef", NULL };
	struct sup_conf conf;
	struct page_env pe = { &conf, NULL, NULL };
	struct sup_req r;
	json_object *ctx, *v;
	char path[4096];

	memset(&conf, 0, sizeof(conf));
	conf.templates_dir = (char *)dir;
	conf.url_prefix = "";
	conf.session_max_s = 60;

	request(&r, get_env);
	ctx = page_context(&pe, &r, "Hello <you>");
	ok(ctx != NULL && flag(ctx, "anonymous") && !flag(ctx, "is_staff"),
	    "context: anonymous");
	ok(json_object_object_get_ex(ctx, "csrf_token", &v) &&
	    r.headers.p != NULL && strstr(r.headers.p, json_object_get_string(
	    v)) != NULL, "context: a new token, set in the csrftoken cookie");
	is_str(json_object_get_string(json_object_object_get(ctx, "static")),
	    "/support/static", "context: static URL");
	is_err(page_render(&pe, &r, 200, "hello.html", ctx), SUP_OK,
	    "render");
	ok(has("Status: 200 OK\r\n") && has("Content-Type: text/html; "
	    "charset=utf-8\r\n") && has("Content-Security-Policy: " PAGE_CSP
	    "\r\n") && has("X-Frame-Options: DENY\r\n") &&
	    has("X-Content-Type-Options: nosniff\r\n"), "render: headers");
	ok(has("\r\n\r\n<p>Hello &lt;you&gt;</p>"), "render: body escaped");
	ok(r.sent, "render: marks the request sent");
	json_object_put(ctx);
	req_free(&r);

	request(&r, cookie_env);
	ctx = page_context(&pe, &r, "x");
	is_str(json_object_get_string(json_object_object_get(ctx,
	    "csrf_token")), "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef", "context: the cookie's token");
	ok(r.headers.p == NULL, "context: no new cookie when one is there");
	json_object_put(ctx);
	req_free(&r);

	request(&r, get_env);
	is_err(page_login_redirect(&r, ""), SUP_OK, "login redirect");
	ok(has("Status: 303 See Other\r\n") && has("Location: /support/login/"
	    "?next=/support/x/%3Fa%3D1%26b%3Dtwo%20words\r\n"),
	    "login redirect: next is the path and query, escaped");
	req_free(&r);

	request(&r, post_env);
	is_err(page_login_redirect(&r, "/desk"), SUP_OK, "login redirect POST");
	ok(has("Location: /desk/support/login/?next=/desk/support/\r\n"),
	    "login redirect: after a POST, next is the list (with the prefix)");
	req_free(&r);

	/* A next longer than the log-in form takes (and than the answer's
	 * head holds): the page without its query, then the list. */
	char long_q[3 * PAGE_NEXT_MAX], long_p[2 * PAGE_NEXT_MAX];
	char *long_env[] = { "REQUEST_METHOD=GET", "PATH_INFO=/support/x/",
		long_q, NULL };
	snprintf(long_q, sizeof(long_q), "QUERY_STRING=q=%0*d",
	    (int)sizeof(long_q) - 20, 0);
	request(&r, long_env);
	is_err(page_login_redirect(&r, ""), SUP_OK, "login redirect long");
	ok(has("Status: 303 See Other\r\n") && has("Location: /support/login/"
	    "?next=/support/x/\r\n"),
	    "login redirect: a long query is left out of next");
	req_free(&r);
	long_env[1] = long_p;
	snprintf(long_p, sizeof(long_p), "PATH_INFO=/support/%0*d/",
	    (int)sizeof(long_p) - 30, 0);
	request(&r, long_env);
	is_err(page_login_redirect(&r, ""), SUP_OK, "login redirect long path");
	ok(has("Status: 303 See Other\r\n") && has("Location: /support/login/"
	    "?next=/support/\r\n"),
	    "login redirect: next is the list when the path is too long");
	req_free(&r);

	request(&r, get_env);
	is_err(page_render(&pe, &r, 200, "broken.html", NULL), SUP_OK,
	    "broken template: answered");
	ok(has("Status: 500 ") && has("error page: Something went wrong"),
	    "broken template: the 500 error page");
	req_free(&r);

	request(&r, get_env);
	page_render(&pe, &r, 200, "missing.html", NULL);
	ok(has("Status: 500 "), "missing template: 500");
	req_free(&r);

	request(&r, post_env);
	is_err(page_error(&pe, &r, 403, SUP_ECSRF), SUP_OK, "error page");
	ok(has("Status: 403 Forbidden\r\n") && has("expired"),
	    "error page: 403 csrf_failed in plain words");
	req_free(&r);

	/* Without error.html: the built-in page. */
	snprintf(path, sizeof(path), "%s/error.html", dir);
	unlink(path);
	page_env_close(&pe);
	request(&r, get_env);
	is_err(page_error(&pe, &r, 404, SUP_ENOTFOUND), SUP_OK,
	    "built-in error page");
	ok(has("Status: 404 Not Found\r\n") && has("<h1>Page not found</h1>") &&
	    has("Content-Security-Policy: " PAGE_CSP),
	    "built-in error page: status, words, headers");
	req_free(&r);

	request(&r, get_env);
	r.method = "HEAD";
	is_err(page_redirect(&r, "", "/support/"), SUP_OK, "redirect");
	ok(has("Status: 303 See Other\r\nX-") && has("Location: /support/\r\n"),
	    "redirect: 303 with Location");
	req_free(&r);
	page_env_close(&pe);
}

int
main(void)
{
	char dir[64], path[4096];

	if (sodium_init() < 0)
		bail_out("sodium_init");
	test_next();
	test_labels();
	test_times();
	test_members();
	test_ago();
	test_ticket_fields();
	test_list();
	tap_tmpdir(dir, sizeof(dir));
	tap_write_file(path, sizeof(path), dir, "hello.html",
	    "<p>{{title}}</p>");
	tap_write_file(path, sizeof(path), dir, "broken.html",
	    "{{#open}}\n");
	tap_write_file(path, sizeof(path), dir, "error.html",
	    "{{#error}}error page: {{heading}}: {{message}}{{/error}}");
	test_responses(dir);
	tap_rmtree(dir);
	free(out.p);
	return done_testing();
}
