/*
 * test_page.c - lib/page.c: next= validation, status labels, the times
 * shown without JavaScript, the page fields of a ticket and a list, the
 * shared context, and what a response looks like (headers, redirects,
 * error pages, a broken or missing template).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conf.h"
#include "page.h"
#include "req.h"
#include "sup.h"
#include "util.h"

#include "tap.h"

/* The response, as the web server would get it. */
static struct sbuf out;

static int
mem_read(void *ctx SUP_UNUSED, char *buf SUP_UNUSED, int n SUP_UNUSED)
{
	return 0;
}

static int
mem_write(void *ctx SUP_UNUSED, const char *buf, int n)
{
	sbuf_add(&out, buf, (size_t)n);
	return n;
}

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

static void
test_add_times(void)
{
	json_object *o = json_tokener_parse("{\"created_at\": "
	    "\"2026-01-02T03:04:05.000000Z\", \"closed_at\": null, "
	    "\"chat\": \"not_at\", \"last_message\": {\"created_at\": "
	    "\"2026-01-02T03:05:00.000000Z\"}, \"messages\": [{\"created_at\": "
	    "\"2026-01-02T04:00:00.000000Z\"}], \"odd_at\": \"soon\"}");
	json_object *v, *m;

	is_err(page_add_times(o), SUP_OK, "add times");
	ok(json_object_object_get_ex(o, "created_at_display", &v) &&
	    strcmp(json_object_get_string(v), "2026-01-02 03:04 UTC") == 0,
	    "add times: top level");
	ok(!json_object_object_get_ex(o, "closed_at_display", NULL),
	    "add times: null has none");
	ok(!json_object_object_get_ex(o, "odd_at_display", NULL),
	    "add times: not a time has none");
	ok(json_object_object_get_ex(o, "last_message", &m) &&
	    json_object_object_get_ex(m, "created_at_display", NULL),
	    "add times: nested object");
	m = json_object_array_get_idx(json_object_object_get(o, "messages"), 0);
	ok(json_object_object_get_ex(m, "created_at_display", &v) &&
	    strcmp(json_object_get_string(v), "2026-01-02 04:00 UTC") == 0,
	    "add times: objects in arrays");
	json_object_put(o);

	/* One object in many places (as view_expand_shared makes them). */
	{
		json_object *shared = json_tokener_parse("{\"seen_at\": "
		    "\"2026-03-04T05:06:07.000000Z\"}");
		json_object *list = json_object_new_array();
		bool all = true;
		for (int i = 0; i < 40; i++) {
			json_object *item = json_object_new_object();
			json_object_object_add(item, "who",
			    json_object_get(shared));
			json_object_object_add(item, "created_at",
			    json_object_new_string(
			    "2026-01-02T03:04:05.000000Z"));
			json_object_array_add(list, item);
		}
		is_err(page_add_times(list), SUP_OK, "add times: shared");
		for (int i = 0; i < 40; i++) {
			json_object *item = json_object_array_get_idx(list,
			    (size_t)i);
			if (!json_object_object_get_ex(item,
			    "created_at_display", NULL))
				all = false;
		}
		ok(all, "  every item has its time shown");
		ok(json_object_object_get_ex(shared, "seen_at_display", &v) &&
		    strcmp(json_object_get_string(v), "2026-03-04 05:06 UTC")
		    == 0 && json_object_object_length(shared) == 2,
		    "  the shared object its own, once");
		json_object_put(list);
		json_object_put(shared);
	}
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
	char text[512];

	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		json_object *api, *t, *m;
		snprintf(text, sizeof(text), "{\"number\": 7, \"status\": "
		    "\"%s\", \"messages\": [{\"is_from_user\": true, "
		    "\"sender\": {\"username\": \"al\", \"display_name\": "
		    "\"\"}}, {\"is_from_user\": false, \"sender\": "
		    "{\"username\": \"ca\", \"display_name\": \"Carol\"}}]}",
		    cases[i].status);
		api = json_tokener_parse(text);
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
		m = json_object_object_get(t, "messages");
		ok(!flag(json_object_array_get_idx(m, 0), "from_staff") &&
		    flag(json_object_array_get_idx(m, 1), "from_staff"),
		    "ticket: from_staff per message");
		is_str(json_object_get_string(json_object_object_get(
		    json_object_array_get_idx(m, 0), "sender_name")), "al",
		    "sender_name: the username without a display name");
		is_str(json_object_get_string(json_object_object_get(
		    json_object_array_get_idx(m, 1), "sender_name")), "Carol",
		    "sender_name: the display name");
		json_object_put(t);
		json_object_put(api);
	}
}

static void
test_list(void)
{
	json_object *api = json_tokener_parse("{\"count\": 1, \"next\": null, "
	    "\"previous\": \"/support/?page=1\", \"results\": [{\"status\": "
	    "\"waiting_for_user\", \"updated_at\": "
	    "\"2026-05-06T07:08:09.000000Z\"}]}");
	json_object *l = page_ticket_list(api, false, "resolved"), *t, *st;
	json_object *empty_api = json_tokener_parse("{\"count\": 0, "
	    "\"results\": []}"), *e;
	int selected = 0;

	t = json_object_array_get_idx(json_object_object_get(l, "results"), 0);
	is_str(json_object_get_string(json_object_object_get(t,
	    "status_label")), "Waiting for your reply", "list: status label");
	is_str(json_object_get_string(json_object_object_get(t,
	    "updated_at_display")), "2026-05-06 07:08 UTC", "list: times");
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
	struct page_env pe = { &conf, NULL };
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
	test_add_times();
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
