/*
 * page.c - what every HTML page shares (docs/pages.md).  A page handler
 * calls the same code as the API handler and renders the object it made;
 * this file adds the page fields, the context, the headers and the error
 * pages.  It logs a broken template on stderr (never stdout): that is the
 * administrator's problem, and the reader gets a 500 page.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "page.h"
#include "sess.h"
#include "user.h"
#include "util.h"
#include "view.h"

#define STATIC_PATH "/support/static"
#define LOGIN_PATH "/support/login/"
#define HOME_PATH "/support/"

void
page_env_close(struct page_env *pe)
{
	tmpl_cache_close(pe->cache);
	pe->cache = NULL;
}

bool
page_next_ok(const char *next)
{
	size_t n;

	if (next == NULL || next[0] != '/' || next[1] == '/' ||
	    next[1] == '\\')
		return false;
	for (n = 0; next[n] != '\0'; n++)
		if ((unsigned char)next[n] < 0x20 || next[n] == 0x7f ||
		    next[n] == '\\' || n >= PAGE_NEXT_MAX)
			return false;
	return true;
}

const char *
page_status_label(const char *status, bool staff)
{
	static const struct {
		const char *name, *customer, *staff;
	} labels[] = {
		{ "open", "Open", "New" },
		{ "waiting_for_admin", "Waiting for support", "Needs a reply" },
		{ "waiting_for_user", "Waiting for your reply",
			"Waiting for the customer" },
		{ "resolved", "Resolved", "Resolved" },
		{ "closed", "Closed", "Closed" },
	};

	if (status == NULL)
		return "";
	for (size_t i = 0; i < SUP_NELEM(labels); i++)
		if (strcmp(labels[i].name, status) == 0)
			return staff ? labels[i].staff : labels[i].customer;
	return status;
}

/* The whole number of the n digits at s, or -1 when one is not a digit. */
static int
digits_at(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * Is iso a time as the API writes them, "2026-11-23T10:04:05.123456Z", of
 * a day that exists, a year from 1000 and a second below 60?  Then the
 * words shown are its own digits: no gmtime_r and strftime per time (a
 * chat page shows one a message).  Anything else goes the long way.
 */
static bool
canonical_time(const char *iso)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, mo, d;

	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? iso[i] < '0' || iso[i] > '9' :
		    iso[i] != shape[i])
			return false;
	if (iso[sizeof(shape) - 1] != '\0')
		return false;
	y = digits_at(iso, 4);
	mo = digits_at(iso + 5, 2);
	d = digits_at(iso + 8, 2);
	/* strftime writes a year below 1000 without its zeros. */
	if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 &&
	    y % 400 != 0))))
		return false;
	return digits_at(iso + 11, 2) <= 23 && digits_at(iso + 14, 2) <= 59 &&
	    digits_at(iso + 17, 2) <= 59;
}

bool
page_time_display(const char *iso, char *buf, size_t n)
{
	int64_t us;
	time_t secs;
	struct tm tm;

	if (n > 0)
		buf[0] = '\0';
	if (n < PAGE_TIME_STRLEN + 1 || iso == NULL)
		return false;
	if (canonical_time(iso)) {
		/* "2026-11-23T10:04..." -> "2026-11-23 10:04 UTC" */
		memcpy(buf, iso, 10);
		buf[10] = ' ';
		memcpy(buf + 11, iso + 11, 5);
		memcpy(buf + 16, " UTC", 5);
		return true;
	}
	if (!time_parse(iso, &us))
		return false;
	secs = (time_t)(us / 1000000 - (us % 1000000 < 0));
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(buf, n, "%Y-%m-%d %H:%M UTC", &tm) == 0) {
		buf[0] = '\0';
		return false;
	}
	return true;
}

/* Does name, of n bytes, end in "_at"? */
static bool
is_time_name(const char *name, size_t n)
{
	return n > 3 && memcmp(name + n - 3, "_at", 3) == 0;
}

/*
 * The display names of the API's times, constant keys (no copy each); NULL
 * for another name.
 */
static const char *
display_name_of(const char *name)
{
	static const char *const known[][2] = {
		{ "created_at", "created_at_display" },
		{ "updated_at", "updated_at_display" },
		{ "first_response_at", "first_response_at_display" },
		{ "resolved_at", "resolved_at_display" },
		{ "closed_at", "closed_at_display" },
	};

	for (size_t i = 0; i < SUP_NELEM(known); i++)
		if (strcmp(known[i][0], name) == 0)
			return known[i][1];
	return NULL;
}

/*
 * The objects without objects or arrays inside that a walk has done: an
 * expanded page shares them (view_expand_shared: the User of every message
 * is one object), and one visit does.
 */
#define DONE_MAX 16

struct done {
	json_object *obj[DONE_MAX];
	size_t n, next;
};

static bool
done_has(const struct done *d, json_object *o)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->obj[i] == o)
			return true;
	return false;
}

static void
done_add(struct done *d, json_object *o)
{
	d->obj[d->next] = o;
	d->next = (d->next + 1) % DONE_MAX;
	if (d->n < DONE_MAX)
		d->n++;
}

static sup_err page_add_times_in(json_object *o, struct done *d);

/* Add the _display members to the object o and all inside it. */
static sup_err
add_times(json_object *o, struct done *d)
{
	char name[128], shown[PAGE_TIME_STRLEN + 1];
	json_object *add[16];
	const char *names[16];
	size_t nadd = 0;
	bool leaf = true;

	/* Members are added after the walk: the table must not change in it. */
	json_object_object_foreach(o, key, val) {
		enum json_type type = json_object_get_type(val);
		if (type == json_type_object || type == json_type_array) {
			leaf = false;
			if (page_add_times_in(val, d) != SUP_OK)
				goto nomem;
			continue;
		}
		if (type != json_type_string || nadd == SUP_NELEM(add) ||
		    !is_time_name(key, strlen(key)) ||
		    !page_time_display(json_object_get_string(val), shown,
		    sizeof(shown)))
			continue;
		if ((add[nadd] = json_object_new_string(shown)) == NULL)
			goto nomem;
		names[nadd++] = key;
	}
	for (size_t i = 0; i < nadd; i++) {
		const char *known = display_name_of(names[i]);
		int rc, w = 0;
		if (known == NULL)
			w = snprintf(name, sizeof(name), "%s_display",
			    names[i]);
		/* A name too long for the buffer is not one of ours: skipped. */
		if (known == NULL && (w < 0 || (size_t)w >= sizeof(name))) {
			json_object_put(add[i]);
			continue;
		}
		rc = known != NULL ? json_object_object_add_ex(o, known,
		    add[i], JSON_C_OBJECT_KEY_IS_CONSTANT) :
		    json_object_object_add(o, name, add[i]);
		if (rc != 0) {
			while (i < nadd)
				json_object_put(add[i++]);
			return SUP_ENOMEM;
		}
	}
	if (leaf)
		done_add(d, o);
	return SUP_OK;
nomem:
	for (size_t i = 0; i < nadd; i++)
		json_object_put(add[i]);
	return SUP_ENOMEM;
}

/* page_add_times of o, with the objects done so far in d. */
static sup_err
page_add_times_in(json_object *o, struct done *d)
{
	switch (json_object_get_type(o)) {
	case json_type_array: {
		size_t len = json_object_array_length(o);
		for (size_t i = 0; i < len; i++)
			if (page_add_times_in(json_object_array_get_idx(o, i),
			    d) != SUP_OK)
				return SUP_ENOMEM;
		return SUP_OK;
	}
	case json_type_object:
		return done_has(d, o) ? SUP_OK : add_times(o, d);
	default:
		return SUP_OK;
	}
}

sup_err
page_add_times(json_object *o)
{
	struct done d = { .n = 0 };

	return page_add_times_in(o, &d);
}

/*
 * Add a string member; false when out of memory.  key is a string
 * constant (it is not copied).
 */
static bool
add_str(json_object *o, const char *key, const char *val)
{
	json_object *s = json_object_new_string(val != NULL ? val : "");

	if (s == NULL || json_object_object_add_ex(o, key, s,
	    JSON_C_OBJECT_KEY_IS_CONSTANT) != 0) {
		json_object_put(s);
		return false;
	}
	return true;
}

/* Add a boolean member (key a constant); false when out of memory. */
static bool
add_bool(json_object *o, const char *key, bool val)
{
	json_object *b = json_object_new_boolean(val);

	if (b == NULL || json_object_object_add_ex(o, key, b,
	    JSON_C_OBJECT_KEY_IS_CONSTANT) != 0) {
		json_object_put(b);
		return false;
	}
	return true;
}

/*
 * Add "name" to a User object: its display name, or its username when it
 * has none.  False when out of memory.
 */
static bool
add_name(json_object *user)
{
	json_object *v;
	const char *name = NULL;

	/* A User shared by several messages has it already. */
	if (json_object_object_get_ex(user, "name", &v))
		return true;
	if (json_object_object_get_ex(user, "display_name", &v) &&
	    json_object_get_string_len(v) > 0)
		name = json_object_get_string(v);
	else if (json_object_object_get_ex(user, "username", &v))
		name = json_object_get_string(v);
	return add_str(user, "name", name);
}

json_object *
page_context(const struct page_env *pe, struct sup_req *r, const char *title)
{
	const char *prefix = pe->conf->url_prefix ? pe->conf->url_prefix : "";
	const char *cookie = req_cookie(r, "csrftoken");
	char token[SESS_TOKEN_STRLEN + 1], *stat = NULL;
	json_object *o, *me = NULL;

	if (r->by_cookie)
		memcpy(token, r->csrf, sizeof(token));
	else if (sess_token_valid(cookie))
		memcpy(token, cookie, sizeof(token));
	else {
		sess_new_token(token);
		if (sess_set_cookies(r, pe->conf, NULL, token) != SUP_OK)
			return NULL;
	}
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (r->user.rec != NULL && ((me = user_public(r->user.rec, true)) ==
	    NULL || !add_name(me)))
		goto nomem;
	if (asprintf(&stat, "%s" STATIC_PATH, prefix) < 0) {
		stat = NULL;
		goto nomem;
	}
	if (!add_str(o, "title", title) || !add_str(o, "prefix", prefix) ||
	    !add_str(o, "static", stat) ||
	    !add_str(o, "csrf_token", token) ||
	    !add_bool(o, "anonymous", me == NULL) ||
	    !add_bool(o, "is_staff", me != NULL && user_is_staff(&r->user)) ||
	    !add_bool(o, "is_customer", me != NULL &&
	    !user_is_staff(&r->user)) ||
	    !add_bool(o, "allow_registration", pe->conf->allow_registration))
		goto nomem;
	if (me != NULL && json_object_object_add(o, "me", me) != 0)
		goto nomem;
	free(stat);
	return o;
nomem:
	free(stat);
	json_object_put(me);
	json_object_put(o);
	return NULL;
}

/*
 * The body of a page on its way out.  A template writes in small pieces
 * (a chat page is about 430: text between tags, escaped values, each
 * escaped character); gathered here, they reach the server's stream 8 KB
 * at a time instead of one call each.
 */
#define BODY_BUF 8192

struct body {
	struct sup_req *r;
	size_t len;
	char buf[BODY_BUF];
};

/* Send what body holds; -1 when the client is gone. */
static int
body_flush(struct body *b)
{
	size_t n = b->len;

	b->len = 0;
	return n == 0 || http_write(b->r, b->buf, n) == SUP_OK ? 0 : -1;
}

/* The tmpl_write_fn of a page: the response body, through struct body. */
static int
write_body(void *ctx, const char *buf, size_t len)
{
	struct body *b = ctx;

	if (len > BODY_BUF - b->len) {
		if (body_flush(b) != 0)
			return -1;
		/* A piece as large as the buffer goes straight out. */
		if (len >= BODY_BUF)
			return http_write(b->r, buf, len) == SUP_OK ? 0 : -1;
	}
	memcpy(b->buf + b->len, buf, len);
	b->len += len;
	return 0;
}

/* Send a template (already loaded) with ctx as the response. */
static sup_err
send_page(struct sup_req *r, int status, const struct tmpl *t,
    json_object *ctx)
{
	struct body b;
	sup_err e;

	r->status = status;
	if ((e = http_send_head(r, status, PAGE_CTYPE, PAGE_CSP)) != SUP_OK)
		return e;
	if (strcmp(r->method, "HEAD") == 0)
		return SUP_OK;
	b.r = r;
	b.len = 0;
	e = tmpl_render(t, ctx, write_body, &b);
	if (body_flush(&b) != 0 && e == SUP_OK)
		e = SUP_EIO;
	return e;
}

/* The template called name, the cache opened first if need be. */
static sup_err
get_template(struct page_env *pe, const char *name, const struct tmpl **t)
{
	char err[256];
	sup_err e;

	if (pe->cache == NULL && (e = tmpl_cache_open(pe->conf->templates_dir,
	    &pe->cache)) != SUP_OK) {
		fprintf(stderr, "templates: cannot use %s: %s\n",
		    pe->conf->templates_dir, sup_strerror(e));
		return e;
	}
	if ((e = tmpl_get(pe->cache, name, t, err, sizeof(err))) != SUP_OK)
		fprintf(stderr, "templates: %s: %s\n", pe->conf->templates_dir,
		    err);
	return e;
}

sup_err
page_render(struct page_env *pe, struct sup_req *r, int status,
    const char *name, json_object *ctx)
{
	const struct tmpl *t;

	if (get_template(pe, name, &t) != SUP_OK)
		return page_error(pe, r, 500, SUP_ECONFIG);
	return send_page(r, status, t, ctx);
}

sup_err
page_redirect(struct sup_req *r, const char *url_prefix, const char *path)
{
	free(r->location);
	if (asprintf(&r->location, "%s%s", url_prefix ? url_prefix : "",
	    path) < 0) {
		r->location = NULL;
		return SUP_ENOMEM;
	}
	r->status = 303;
	return http_send_head(r, 303, NULL, PAGE_CSP);
}

/* Append s to b percent-encoded as a query component. */
static void
add_encoded(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~/", c) != NULL)
			sbuf_add(b, s, 1);
		else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			sbuf_add(b, esc, 3);
		}
	}
}

sup_err
page_login_redirect(struct sup_req *r, const char *url_prefix)
{
	const char *prefix = url_prefix ? url_prefix : "";
	const char *q = req_env(r, "QUERY_STRING");
	struct sbuf next = { 0 }, path = { 0 };
	sup_err e;

	if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0) {
		sbuf_adds(&next, prefix);
		sbuf_adds(&next, r->path);
		if (q != NULL && *q != '\0') {
			sbuf_add(&next, "?", 1);
			sbuf_adds(&next, q);
		}
	} else {
		sbuf_adds(&next, prefix);
		sbuf_adds(&next, HOME_PATH);
	}
	sbuf_adds(&path, LOGIN_PATH "?next=");
	if (next.p != NULL)
		add_encoded(&path, next.p);
	e = next.failed || path.failed ? SUP_ENOMEM :
	    page_redirect(r, url_prefix, path.p);
	free(next.p);
	free(path.p);
	return e;
}

/* The heading and sentence of an error page. */
static void
error_words(int status, sup_err e, const char **heading, const char **text)
{
	switch (status) {
	case 400:
		*heading = "That did not work";
		*text = "The request could not be understood. Go back, check "
		    "what you entered and try again.";
		break;
	case 403:
		*heading = "Not allowed";
		*text = e == SUP_ECSRF ? "This form has expired or did not "
		    "come from this site, so nothing was changed. Go back, "
		    "reload the page and send it again." :
		    e == SUP_EREGCLOSED ? "New accounts cannot be created "
		    "here. Ask the support team for one." :
		    "You are not allowed to do that.";
		break;
	case 404:
		*heading = "Page not found";
		*text = "There is no such page, or it is not yours to see.";
		break;
	case 405:
		*heading = "Not available";
		*text = "This page cannot be used this way. Go back and use "
		    "the buttons and forms on the page.";
		break;
	case 409:
		*heading = e == SUP_ECLOSED ? "This ticket is closed" :
		    "That cannot be done now";
		*text = e == SUP_ECLOSED ? "A closed ticket takes no more "
		    "replies. Open a new ticket if you need more help." :
		    "The ticket cannot move to that status from where it is.";
		break;
	case 413:
		*heading = "Too large";
		*text = "What you sent is larger than this desk accepts. "
		    "Shorten it and try again.";
		break;
	case 415:
		*heading = "That did not work";
		*text = "The form was sent in a way this desk does not take.";
		break;
	case 429:
		*heading = "Too many attempts";
		*text = "There were too many attempts. Wait a few minutes and "
		    "try again.";
		break;
	case 503:
		*heading = "Busy";
		*text = "The desk is busy right now. Try again in a moment.";
		break;
	default:
		*heading = "Something went wrong";
		*text = "Something went wrong on our side. Try again in a "
		    "moment; if it keeps happening, tell the support team.";
		break;
	}
}

/* The last resort: a fixed page when error.html cannot be had. */
static sup_err
builtin_error(struct sup_req *r, int status, const char *heading,
    const char *text)
{
	struct sbuf b = { 0 };
	sup_err e;

	/* heading and text are this file's own constants: nothing to escape. */
	sbuf_adds(&b, "<!doctype html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\"><meta name=\"viewport\" content=\"width="
	    "device-width, initial-scale=1\"><title>");
	sbuf_adds(&b, heading);
	sbuf_adds(&b, "</title></head><body><main><h1>");
	sbuf_adds(&b, heading);
	sbuf_adds(&b, "</h1><p>");
	sbuf_adds(&b, text);
	sbuf_adds(&b, "</p></main></body></html>\n");
	if (b.failed) {
		free(b.p);
		return SUP_ENOMEM;
	}
	r->status = status;
	if ((e = http_send_head(r, status, PAGE_CTYPE, PAGE_CSP)) == SUP_OK &&
	    strcmp(r->method, "HEAD") != 0)
		e = http_write(r, b.p, b.len);
	free(b.p);
	return e;
}

sup_err
page_error(struct page_env *pe, struct sup_req *r, int status, sup_err e)
{
	const char *heading, *text;
	const struct tmpl *t;
	json_object *ctx = NULL, *err;
	sup_err rc;

	error_words(status, e, &heading, &text);
	if (get_template(pe, "error.html", &t) != SUP_OK ||
	    (ctx = page_context(pe, r, heading)) == NULL ||
	    (err = json_object_new_object()) == NULL) {
		json_object_put(ctx);
		return builtin_error(r, status, heading, text);
	}
	json_object_object_add(ctx, "error", err);
	if (!add_str(err, "heading", heading) || !add_str(err, "message", text) ||
	    !add_str(err, "code", sup_errcode(e)) ||
	    json_object_object_add(err, "status",
	    json_object_new_int(status)) != 0) {
		json_object_put(ctx);
		return builtin_error(r, status, heading, text);
	}
	rc = send_page(r, status, t, ctx);
	json_object_put(ctx);
	return rc;
}

/* The string member name of o, or NULL. */
static const char *
str_member(json_object *o, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The boolean member name of o (false when absent). */
static bool
bool_member(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) &&
	    json_object_get_boolean(v);
}

/* Copy member name of from to to (nothing when absent); false: no memory. */
static bool
copy_member(json_object *to, json_object *from, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(from, name, &v))
		return true;
	return json_object_object_add(to, name, json_object_get(v)) == 0;
}

/*
 * Append to array every status as {value, label, selected} for the reader
 * (staff or not); selected (may be NULL) names the one selected.  False
 * when out of memory.
 */
static bool
add_statuses(json_object *array, bool staff, const char *selected)
{
	static const char *const names[] = { "open", "waiting_for_admin",
		"waiting_for_user", "resolved", "closed" };

	for (size_t i = 0; i < SUP_NELEM(names); i++) {
		json_object *opt = json_object_new_object();
		if (opt == NULL || json_object_array_add(array, opt) != 0) {
			json_object_put(opt);
			return false;
		}
		if (!add_str(opt, "value", names[i]) || !add_str(opt, "label",
		    page_status_label(names[i], staff)) || !add_bool(opt,
		    "selected", selected != NULL &&
		    strcmp(selected, names[i]) == 0))
			return false;
	}
	return true;
}

json_object *
page_ticket(json_object *api_ticket, bool staff)
{
	json_object *t, *msgs, *statuses;
	const char *status;
	bool closed, resolved;

	if ((t = view_expand_shared(api_ticket)) == NULL)
		return NULL;
	status = str_member(t, "status");
	closed = status != NULL && strcmp(status, "closed") == 0;
	resolved = status != NULL && strcmp(status, "resolved") == 0;
	if (!add_str(t, "status_label", page_status_label(status, staff)) ||
	    !add_bool(t, "is_closed", closed) ||
	    !add_bool(t, "can_reply", staff || !closed) ||
	    !add_bool(t, "can_resolve", !closed && !resolved) ||
	    !add_bool(t, "can_close", !closed) ||
	    !add_bool(t, "can_reopen", staff && (closed || resolved)))
		goto nomem;
	if ((statuses = json_object_new_array()) == NULL ||
	    json_object_object_add(t, "statuses", statuses) != 0) {
		json_object_put(statuses);
		goto nomem;
	}
	if (!add_statuses(statuses, staff, status))
		goto nomem;
	if (json_object_object_get_ex(t, "messages", &msgs) &&
	    json_object_is_type(msgs, json_type_array)) {
		size_t n = json_object_array_length(msgs);
		for (size_t i = 0; i < n; i++) {
			json_object *m = json_object_array_get_idx(msgs, i);
			json_object *sender;
			if (!add_bool(m, "from_staff",
			    !bool_member(m, "is_from_user")))
				goto nomem;
			if (json_object_object_get_ex(m, "sender", &sender) &&
			    json_object_is_type(sender, json_type_object)) {
				if (!add_name(sender))
					goto nomem;
				json_object_object_add_ex(m, "sender_name",
				    json_object_get(json_object_object_get(
				    sender, "name")),
				    JSON_C_OBJECT_KEY_IS_CONSTANT);
			}
		}
	}
	if (page_add_times(t) != SUP_OK)
		goto nomem;
	return t;
nomem:
	json_object_put(t);
	return NULL;
}

json_object *
page_ticket_list(json_object *api_page, bool staff, const char *selected)
{
	json_object *o, *list, *results, *statuses;
	size_t n;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (!copy_member(o, api_page, "count") || !add_bool(o, "empty",
	    json_object_get_int64(json_object_object_get(api_page,
	    "count")) == 0) ||
	    !copy_member(o, api_page, "next") ||
	    !copy_member(o, api_page, "previous"))
		goto nomem;
	/* The list's results are one raw object, the whole array's text
	 * (lib/ticket.c); expanded here, the one place that reads them. */
	results = json_object_object_get_ex(api_page, "results", &list) &&
	    list != NULL ? view_expand_shared(list) : json_object_new_array();
	if (results == NULL)
		goto nomem;
	json_object_object_add(o, "results", results);
	n = json_object_is_type(results, json_type_array) ?
	    json_object_array_length(results) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(results, i);
		if (!add_str(t, "status_label", page_status_label(
		    str_member(t, "status"), staff)))
			goto nomem;
	}
	if (page_add_times(results) != SUP_OK ||
	    (statuses = json_object_new_array()) == NULL)
		goto nomem;
	json_object_object_add(o, "statuses", statuses);
	if (!add_statuses(statuses, staff, selected))
		goto nomem;
	return o;
nomem:
	json_object_put(o);
	return NULL;
}

sup_err
page_ticket_render(struct page_env *pe, struct sup_req *r, int status,
    json_object *api_ticket, json_object *form)
{
	json_object *t, *ctx = NULL;
	const char *subject;
	char *title = NULL;
	sup_err e = SUP_ENOMEM;

	if ((t = page_ticket(api_ticket, user_is_staff(&r->user))) == NULL)
		return SUP_ENOMEM;
	subject = str_member(t, "subject");
	if (asprintf(&title, "#%" PRId64 " %s", json_object_get_int64(
	    json_object_object_get(t, "number")), subject ? subject : "") < 0) {
		title = NULL;
		goto out;
	}
	if ((ctx = page_context(pe, r, title)) == NULL)
		goto out;
	json_object_object_add(ctx, "ticket", t);
	t = NULL;
	if (form != NULL) {
		json_object *saved = r->json;
		r->json = form;
		e = page_form_errors(ctx, r, SUP_EINVAL);
		r->json = saved;
		if (e != SUP_OK)
			goto out;
	}
	e = page_render(pe, r, status, "ticket.html", ctx);
out:
	free(title);
	json_object_put(t);
	json_object_put(ctx);
	return e;
}

sup_err
page_form_errors(json_object *ctx, struct sup_req *r, sup_err e)
{
	char name[80];
	json_object *err;

	if (r->json != NULL && json_object_is_type(r->json, json_type_object)) {
		json_object_object_foreach(r->json, key, val) {
			int w;
			if (strstr(key, "password") != NULL ||
			    !json_object_is_type(val, json_type_string))
				continue;
			w = snprintf(name, sizeof(name), "form_%s", key);
			if (w < 0 || (size_t)w >= sizeof(name))
				continue;
			json_object *s = json_object_new_string(
			    json_object_get_string(val));
			if (s == NULL ||
			    json_object_object_add(ctx, name, s) != 0) {
				json_object_put(s);
				return SUP_ENOMEM;
			}
		}
	}
	if (r->err_fields != NULL && json_object_object_add(ctx, "fields",
	    json_object_get(r->err_fields)) != 0)
		return SUP_ENOMEM;
	if ((err = json_object_new_object()) == NULL ||
	    json_object_object_add(ctx, "error", err) != 0) {
		json_object_put(err);
		return SUP_ENOMEM;
	}
	/* The API's "The request has invalid fields." speaks to a program;
	 * a person is told where to look. */
	return add_str(err, "message", e == SUP_EINVAL && r->err_fields != NULL ?
	    "Please correct the fields marked below." :
	    r->err_msg[0] != '\0' ? r->err_msg : sup_strerror(e)) ?
	    SUP_OK : SUP_ENOMEM;
}
