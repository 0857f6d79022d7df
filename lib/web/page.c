/*
 * page.c - what every HTML page shares (docs/pages.md).  A page handler
 * calls the same code as the API handler and renders the object it made;
 * this file adds the page fields, the context, the headers and the error
 * pages.  It logs a broken template on stderr (never stdout): that is the
 * administrator's problem, and the reader gets a 500 page.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "jtext.h"
#include "cookie.h"
#include "page.h"
#include "util.h"

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

const char *
page_ticket_status_label(const char *status, bool staff, bool answered)
{
	if (staff && answered && status != NULL && strcmp(status, "open") == 0)
		return "Open";
	return page_status_label(status, staff);
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

/*
 * --- Members computed for the API's text --------------------------------
 *
 * A page renders the API's objects from their text (lib/text/jtext.h); what a
 * page shows that the API does not say is computed when the template asks
 * for it, for the object it asks in (struct tmpl_extra):
 *   <name>_at_display  a time of the object in words, UTC (page_time_display)
 *   status_label       the object's status in the reader's words
 *   from_staff         a message not written by the customer
 *   name               a User's display name, else the username
 *   sender_name        a message's sender's name
 *   has_attachments    a message carries files (docs/attachments.md)
 *   is_image           an attachment a page may show (PNG, JPEG, GIF, WebP)
 *   size_display       an attachment's size in words ("12 KB")
 */

/* Is the member name (n bytes) of ix a string without escapes? */
static bool
plain_index(const struct jt_index *ix, const char *name, size_t n,
    struct jt *out)
{
	return jt_index_get(ix, name, n, out) && jt_string_plain(*out);
}

/* The content of plain string s as a C string in buf (cap bytes); false
 * when it does not fit. */
static bool
plain_copy(struct jt s, char *buf, size_t cap)
{
	if (s.n - 2 >= cap)
		return false;
	memcpy(buf, s.p + 1, s.n - 2);
	buf[s.n - 2] = '\0';
	return true;
}

/* Write string str as JSON text into buf (TMPL_EXTRA_MAX bytes): only our
 * own words, which need no escapes. */
static void
quote(const char *str, char *buf, struct jt *out)
{
	size_t n = strlen(str);

	if (n + 2 > TMPL_EXTRA_MAX)
		n = TMPL_EXTRA_MAX - 2;
	buf[0] = '"';
	memcpy(buf + 1, str, n);
	buf[n + 1] = '"';
	*out = (struct jt){ buf, n + 2 };
}

/* A User's name (its members in ix): display_name when not empty, else
 * username. */
static bool
user_name(const struct jt_index *ix, struct jt *out)
{
	if (jt_index_get(ix, "display_name", 12, out) &&
	    jt_type(*out) == JT_STRING && out->n > 2)
		return true;
	return jt_index_get(ix, "username", 8, out) &&
	    jt_type(*out) == JT_STRING;
}

#define DISPLAY "_display"
#define AGO "_ago"

bool
page_time_ago(int64_t us, int64_t now, char *buf, size_t n)
{
	int64_t s = (now - us) / 1000000;
	const char *unit;
	long k;

	if (n == 0)
		return false;
	buf[0] = '\0';
	if (s < 60) {
		/* A clock a little ahead of ours is "now" too. */
		return (size_t)snprintf(buf, n, "just now") < n;
	}
	if (s < 3600) {
		k = (long)(s / 60);
		unit = "min";
	} else if (s < 86400) {
		k = (long)(s / 3600);
		unit = k == 1 ? "hour" : "hours";
	} else if (s < 86400 * 60) {
		k = (long)(s / 86400);
		unit = k == 1 ? "day" : "days";
	} else if (s < 86400 * 730) {
		k = (long)(s / (86400 * 30));
		unit = "months";
	} else {
		k = (long)(s / (86400 * 365));
		unit = "years";
	}
	int w = snprintf(buf, n, "%ld %s ago", k, unit);
	if (w < 0 || (size_t)w >= n) {
		buf[0] = '\0';
		return false;
	}
	return true;
}

/* The tmpl_extra of every page; ctx is its struct page_members. */
static bool
page_member(void *ctx, const struct jt_index *obj, const char *name,
    size_t n, char *buf, struct jt *out)
{
	struct page_members *pm = ctx;
	char text[64];
	struct jt v;

	if (n > 3 + strlen(DISPLAY) && memcmp(name + n - strlen(DISPLAY),
	    DISPLAY, strlen(DISPLAY)) == 0 &&
	    memcmp(name + n - strlen(DISPLAY) - 3, "_at", 3) == 0) {
		char shown[PAGE_TIME_STRLEN + 1];
		if (!plain_index(obj, name, n - strlen(DISPLAY), &v) ||
		    !plain_copy(v, text, sizeof(text)) ||
		    !page_time_display(text, shown, sizeof(shown)))
			return false;
		quote(shown, buf, out);
		return true;
	}
	if (n > 3 + strlen(AGO) && memcmp(name + n - strlen(AGO), AGO,
	    strlen(AGO)) == 0 && memcmp(name + n - strlen(AGO) - 3, "_at",
	    3) == 0) {
		char words[32];
		int64_t us;
		if (!plain_index(obj, name, n - strlen(AGO), &v) ||
		    !plain_copy(v, text, sizeof(text)) ||
		    !time_parse(text, &us))
			return false;
		/* One clock reading a render: a page's times share it. */
		if (pm->now == 0)
			pm->now = time_now_us();
		if (!page_time_ago(us, pm->now, words, sizeof(words)))
			return false;
		quote(words, buf, out);
		return true;
	}
	if (n == 12 && memcmp(name, "status_label", 12) == 0) {
		struct jt first;
		if (!plain_index(obj, "status", 6, &v) ||
		    !plain_copy(v, text, sizeof(text)))
			return false;
		bool answered = jt_index_get(obj, "first_response_at", 17,
		    &first) && jt_type(first) == JT_STRING;
		quote(page_ticket_status_label(text, pm->staff, answered), buf,
		    out);
		return true;
	}
	/*
	 * own_name: the User has a display name of its own (not empty, not
	 * its username), worth showing beside the username.
	 */
	if (n == 8 && memcmp(name, "own_name", 8) == 0) {
		struct jt u;
		bool own = jt_index_get(obj, "display_name", 12, &v) &&
		    jt_type(v) == JT_STRING && v.n > 2 &&
		    !(jt_index_get(obj, "username", 8, &u) && u.n == v.n &&
		    memcmp(u.p, v.p, v.n) == 0);
		*out = own ? (struct jt){ "true", 4 } :
		    (struct jt){ "false", 5 };
		return true;
	}
	if (n == 10 && memcmp(name, "from_staff", 10) == 0) {
		if (!jt_index_get(obj, "is_from_user", 12, &v))
			return false;
		*out = jt_truthy(v) ? (struct jt){ "false", 5 } :
		    (struct jt){ "true", 4 };
		return true;
	}
	if (n == 4 && memcmp(name, "name", 4) == 0)
		return jt_index_get(obj, "username", 8, &v) &&
		    user_name(obj, out);
	if (n == 15 && memcmp(name, "has_attachments", 15) == 0) {
		bool any = jt_index_get(obj, "attachments", 11, &v) &&
		    jt_type(v) == JT_ARRAY && v.n > 2;
		*out = any ? (struct jt){ "true", 4 } :
		    (struct jt){ "false", 5 };
		return true;
	}
	if (n == 8 && memcmp(name, "is_image", 8) == 0) {
		/* The checked type: only the raster images are ever image/. */
		bool img = plain_index(obj, "content_type", 12, &v) &&
		    v.n > 7 && memcmp(v.p, "\"image/", 7) == 0;
		*out = img ? (struct jt){ "true", 4 } :
		    (struct jt){ "false", 5 };
		return true;
	}
	if (n == 12 && memcmp(name, "size_display", 12) == 0) {
		char digits[24], words[32];
		long size;
		if (!jt_index_get(obj, "size", 4, &v) ||
		    jt_type(v) != JT_NUMBER || v.n >= sizeof(digits))
			return false;
		memcpy(digits, v.p, v.n);
		digits[v.n] = '\0';
		if (!parse_long(digits, 0, LONG_MAX, &size))
			return false;
		if (size < 1024)
			snprintf(words, sizeof(words), "%ld bytes", size);
		else if (size < 1024 * 1024)
			snprintf(words, sizeof(words), "%ld KB",
			    (size + 1023) / 1024);
		else
			snprintf(words, sizeof(words), "%.1f MB",
			    (double)size / (1024 * 1024));
		quote(words, buf, out);
		return true;
	}
	if (n == 11 && memcmp(name, "sender_name", 11) == 0) {
		struct jt_index sender;
		if (!jt_index_get(obj, "sender", 6, &v))
			return false;
		/*
		 * A thread has a sender or two, in turn: the same text as a
		 * recent message's sender has the same name (the earlier
		 * text, and the name in it, live as long as the render).
		 */
		for (unsigned i = 0; i < PAGE_SENDERS; i++)
			if (pm->sender[i].text.p != NULL &&
			    v.n == pm->sender[i].text.n &&
			    memcmp(v.p, pm->sender[i].text.p, v.n) == 0) {
				*out = pm->sender[i].name;
				return true;
			}
		jt_index_build(v, &sender);
		if (!user_name(&sender, out))
			return false;
		pm->sender[pm->next].text = v;
		pm->sender[pm->next].name = *out;
		pm->next = (pm->next + 1) % PAGE_SENDERS;
		return true;
	}
	return false;
}

struct tmpl_extra
page_extra(struct page_members *pm)
{
	memset(pm->sender, 0, sizeof(pm->sender));
	pm->next = 0;
	pm->now = 0;
	return (struct tmpl_extra){ page_member, pm };
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
 * Add "name" to a User object (the reader's, for the header): its display
 * name, or its username when it has none.  False when out of memory.
 */
static bool
add_name(json_object *user)
{
	json_object *v;
	const char *name = NULL;

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
	char token[CSRF_TOKEN_STRLEN + 1], *stat = NULL;
	json_object *o, *me = NULL;

	if (r->by_cookie)
		memcpy(token, r->csrf, sizeof(token));
	else if (cookie_token_valid(cookie))
		memcpy(token, cookie, sizeof(token));
	else {
		cookie_new_token(token);
		if (cookie_set(r, pe->conf, NULL, token) != SUP_OK)
			return NULL;
	}
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (r->user.rec != NULL && ((me = pe->me(&r->user)) ==
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
	    !add_bool(o, "is_admin", me != NULL &&
	    r->user.role == ROLE_ADMIN) ||
	    !add_bool(o, "is_customer", me != NULL &&
	    !user_is_staff(&r->user)) ||
	    !add_bool(o, "allow_registration", pe->conf->allow_registration) ||
	    !add_bool(o, "uploads", pe->conf->enable_file_uploads) ||
	    /* The reply's text is required only when no file may come. */
	    !add_bool(o, "no_uploads", !pe->conf->enable_file_uploads))
		goto nomem;
	/* The reply form's file field says its limits (attachments.md). */
	if (pe->conf->enable_file_uploads) {
		char words[96];
		long mb = pe->conf->max_attachment_bytes;
		if (mb >= 1024 * 1024)
			snprintf(words, sizeof(words), "up to %ld files of "
			    "%.1f MB each", pe->conf->max_attachments_per_message,
			    (double)mb / (1024 * 1024));
		else
			snprintf(words, sizeof(words), "up to %ld files of "
			    "%ld KB each", pe->conf->max_attachments_per_message,
			    (mb + 1023) / 1024);
		if (!add_str(o, "upload_limits", words))
			goto nomem;
	}
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
 * A page is made whole before anything of it is sent: its length then
 * goes in the headers (the web server passes the answer on as it is,
 * instead of in chunks of its own), and a template that fails half way
 * (no memory) has sent nothing, so the caller can still answer 500
 * rather than a page cut short.  A page is some tens of kilobytes: room
 * for PAGE_BUF at once, grown if need be.
 */
#define PAGE_BUF 32768

struct body {
	char *p;
	size_t len, cap;
};

/* The tmpl_write_fn of a page: append to its body, growing it. */
static int
write_body(void *ctx, const char *buf, size_t len)
{
	struct body *b = ctx;

	if (len > b->cap - b->len) {
		size_t cap = b->cap * 2 > b->len + len ? b->cap * 2 :
		    b->len + len;
		char *p = realloc(b->p, cap);
		if (p == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	return 0;
}

/* Send a template (already loaded) with ctx as the response. */
static sup_err
send_page(struct sup_req *r, int status, const struct tmpl *t,
    json_object *ctx)
{
	struct page_members pm = { .staff = user_is_staff(&r->user) };
	const struct tmpl_extra extra = page_extra(&pm);
	struct body b = { malloc(PAGE_BUF), 0, PAGE_BUF };
	sup_err e;

	if (b.p == NULL)
		return SUP_ENOMEM;
	e = tmpl_render_ex(t, ctx, &extra, write_body, &b);
	if (e == SUP_OK) {
		r->status = status;
		e = http_send_body(r, status, PAGE_CTYPE, PAGE_CSP, b.p,
		    b.len);
	}
	free(b.p);
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

/* Could name be a template's file name (tmpl_get's rule)? */
static bool
template_name(const char *name)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-";

	return name[0] != '.' && name[strspn(name, ok)] == '\0' &&
	    strstr(name, "..") == NULL && strlen(name) <= TMPL_NAME_MAX;
}

sup_err
page_preload(struct page_env *pe)
{
	const struct tmpl *t;
	struct dirent *d;
	DIR *dir;
	sup_err e = SUP_OK;

	if ((dir = opendir(pe->conf->templates_dir)) == NULL) {
		fprintf(stderr, "templates: cannot read %s: %s\n",
		    pe->conf->templates_dir, strerror(errno));
		return SUP_OK;
	}
	while (e != SUP_ENOMEM && (d = readdir(dir)) != NULL) {
		if ((d->d_type == DT_REG || d->d_type == DT_UNKNOWN) &&
		    template_name(d->d_name))
			e = get_template(pe, d->d_name, &t);
	}
	closedir(dir);
	return e == SUP_ENOMEM ? e : SUP_OK;
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

/*
 * next= is the page asked for with its query (a GET), else the home page.
 * The log-in form takes PAGE_NEXT_MAX bytes of next, and the Location
 * header must fit the answer's head (http.c): a longer one would leave
 * the browser with no answer at all.  So when the encoded next is longer,
 * the page without its query, then the home page.
 */
sup_err
page_login_redirect(struct sup_req *r, const char *url_prefix)
{
	const char *prefix = url_prefix ? url_prefix : "";
	const char *q = req_env(r, "QUERY_STRING");
	const size_t base = sizeof(LOGIN_PATH "?next=") - 1;
	struct sbuf path = { 0 };
	int step = strcmp(r->method, "GET") == 0 ||
	    strcmp(r->method, "HEAD") == 0 ? 0 : 2;
	sup_err e;

	for (; step <= 2; step++) {
		free(path.p);
		path = (struct sbuf){ 0 };
		sbuf_adds(&path, LOGIN_PATH "?next=");
		add_encoded(&path, prefix);
		add_encoded(&path, step < 2 ? r->path : HOME_PATH);
		if (step == 0 && q != NULL && *q != '\0') {
			add_encoded(&path, "?");
			add_encoded(&path, q);
		}
		if (path.failed || path.len - base <= PAGE_NEXT_MAX)
			break;
	}
	e = path.failed ? SUP_ENOMEM : page_redirect(r, url_prefix, path.p);
	free(path.p);
	return e;
}

/* The heading and sentence of an error page of status. */
static void
status_words(int status, sup_err e, const char **heading, const char **text)
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
	case 408:
		*heading = "That took too long";
		*text = "What you sent did not arrive in time. Try again.";
		break;
	case 409:
		*heading = "That cannot be done now";
		*text = "That cannot be done the way things are now. Reload "
		    "the page and look again.";
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

/*
 * The heading and sentence of an error page: an area's own when its
 * error has them (sup.h), else the status's.
 */
static void
error_words(int status, sup_err e, const char **heading, const char **text)
{
	const struct sup_errdef *d = sup_errdef(e);

	status_words(status, e, heading, text);
	if (d != NULL && d->heading != NULL)
		*heading = d->heading;
	if (d != NULL && d->page != NULL)
		*text = d->page;
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
	e = http_send_body(r, status, PAGE_CTYPE, PAGE_CSP, b.p, b.len);
	free(b.p);
	return e;
}

/*
 * The fields a refused request got wrong ({"field": "why"}, may be NULL)
 * as err's "invalid": {"fields": [{name, message}]}, so that an error page
 * says which field and why, as the API does.  False when out of memory.
 */
static bool
add_field_errors(json_object *err, json_object *fields)
{
	json_object *invalid, *list;

	if (fields == NULL || json_object_object_length(fields) == 0)
		return true;
	if ((invalid = json_object_new_object()) == NULL ||
	    json_object_object_add(err, "invalid", invalid) != 0) {
		json_object_put(invalid);
		return false;
	}
	if ((list = json_object_new_array()) == NULL ||
	    json_object_object_add(invalid, "fields", list) != 0) {
		json_object_put(list);
		return false;
	}
	json_object_object_foreach(fields, name, why) {
		json_object *f = json_object_new_object();
		if (f == NULL || json_object_array_add(list, f) != 0) {
			json_object_put(f);
			return false;
		}
		if (!add_str(f, "name", name) || json_object_object_add(f,
		    "message", json_object_get(why)) != 0)
			return false;
	}
	return true;
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
	    json_object_new_int(status)) != 0 ||
	    !add_field_errors(err, r->err_fields)) {
		json_object_put(ctx);
		return builtin_error(r, status, heading, text);
	}
	rc = send_page(r, status, t, ctx);
	json_object_put(ctx);
	return rc;
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
	json_object *t, *statuses;
	const struct jt_index *ix;
	char status[32] = "";
	struct jt v;
	bool closed, resolved;

	/* The API's text object itself, with the page's members added. */
	if ((ix = jt_object_index(api_ticket)) == NULL)
		return NULL;
	t = json_object_get(api_ticket);
	if (plain_index(ix, "status", 6, &v))
		plain_copy(v, status, sizeof(status));
	closed = strcmp(status, "closed") == 0;
	resolved = strcmp(status, "resolved") == 0;
	if (!add_bool(t, "is_closed", closed) ||
	    !add_bool(t, "can_reply", staff || !closed) ||
	    !add_bool(t, "can_resolve", !closed && !resolved) ||
	    !add_bool(t, "can_close", !closed) ||
	    !add_bool(t, "can_reopen", staff && (closed || resolved)))
		goto nomem;
	/*
	 * The statuses' labels, the same for every ticket a reader of the
	 * kind sees: made once a process and shared.
	 */
	static json_object *labels[2];
	if (labels[staff] == NULL &&
	    ((labels[staff] = json_object_new_array()) == NULL ||
	    !add_statuses(labels[staff], staff, NULL))) {
		json_object_put(labels[staff]);
		labels[staff] = NULL;
		goto nomem;
	}
	statuses = json_object_get(labels[staff]);
	if (json_object_object_add(t, "statuses", statuses) != 0) {
		json_object_put(statuses);
		goto nomem;
	}
	return t;
nomem:
	json_object_put(t);
	return NULL;
}

json_object *
page_ticket_list(json_object *api_page, bool staff, const char *selected)
{
	json_object *o, *list, *statuses;
	struct jt text;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	/* The results are one text object, the whole array (lib/desk/ticket.c),
	 * rendered from its text. */
	if (!json_object_object_get_ex(api_page, "results", &list) ||
	    !jt_object_text(list, &text) || jt_type(text) != JT_ARRAY)
		goto nomem;
	if (!copy_member(o, api_page, "count") || !add_bool(o, "empty",
	    json_object_get_int64(json_object_object_get(api_page,
	    "count")) == 0) ||
	    !copy_member(o, api_page, "next") ||
	    !copy_member(o, api_page, "previous") ||
	    !copy_member(o, api_page, "results") ||
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

/*
 * The title of a ticket's page, "#<number> <subject>", from the members
 * of the API's ticket, into b (which may fail).
 */
static void
ticket_title(const struct jt_index *ix, struct sbuf *b)
{
	struct jt v;

	sbuf_adds(b, "#");
	if (jt_index_get(ix, "number", 6, &v) && jt_type(v) == JT_NUMBER)
		sbuf_add(b, v.p, v.n);
	else
		sbuf_adds(b, "0");
	sbuf_adds(b, " ");
	if (jt_index_get(ix, "subject", 7, &v))
		jt_string_get(v, b);
	sbuf_add(b, "", 1);
}

/*
 * The uuid of the last message of the ticket ix (its "messages", oldest
 * first: the newest the reader sees) into buf; "" when there is none.
 */
static void
last_message_uuid(const struct jt_index *ix, char *buf, size_t cap)
{
	struct jt list, el, last = { 0 }, v;
	struct jt_iter it;

	buf[0] = '\0';
	if (!jt_index_get(ix, "messages", 8, &list) ||
	    !jt_iter_start(list, &it))
		return;
	while (jt_iter_next(&it, &el))
		last = el;
	if (last.p != NULL && jt_member(last, "uuid", 4, &v) &&
	    jt_string_plain(v) && !plain_copy(v, buf, cap))
		buf[0] = '\0';
}

sup_err
page_ticket_render(struct page_env *pe, struct sup_req *r, int status,
    json_object *api_ticket, json_object *form, const char *changed)
{
	return page_ticket_render_more(pe, r, status, api_ticket, form,
	    changed, NULL);
}

sup_err
page_ticket_render_more(struct page_env *pe, struct sup_req *r, int status,
    json_object *api_ticket, json_object *form, const char *changed,
    json_object *more)
{
	bool staff = user_is_staff(&r->user);
	json_object *t, *ctx = NULL, *notice;
	struct sbuf title = { 0 };
	char seen[64];
	sup_err e = SUP_ENOMEM;

	if ((t = page_ticket(api_ticket, staff)) == NULL)
		return SUP_ENOMEM;
	/* page_ticket made the index; NULL only without memory. */
	if (jt_object_index(t) == NULL)
		goto out;
	ticket_title(jt_object_index(t), &title);
	last_message_uuid(jt_object_index(t), seen, sizeof(seen));
	if (title.failed || (ctx = page_context(pe, r, title.p)) == NULL)
		goto out;
	/*
	 * "chat": the live chat's hooks (support.conf enable_chat);
	 * "seen_uuid": the newest message shown, which the reply form sends
	 * so that a reply to a thread that moved meanwhile is held.
	 */
	if (!add_bool(ctx, "chat", pe->conf->enable_chat) ||
	    !add_str(ctx, "seen_uuid", seen))
		goto out;
	json_object_object_add(ctx, "ticket", t);
	t = NULL;
	/*
	 * The label is this file's own words for a known status (one set by
	 * the form re-opens: "Open"), never the text of the query.
	 */
	if (changed != NULL && page_status_label(changed, staff) != changed) {
		if ((notice = json_object_new_object()) == NULL ||
		    json_object_object_add(ctx, "changed", notice) != 0) {
			json_object_put(notice);
			goto out;
		}
		if (!add_str(notice, "label",
		    page_ticket_status_label(changed, staff, true)))
			goto out;
	}
	if (form != NULL) {
		json_object *saved = r->json;
		r->json = form;
		e = page_form_errors(ctx, r, SUP_EINVAL);
		r->json = saved;
		if (e != SUP_OK)
			goto out;
	}
	e = SUP_ENOMEM;
	if (more != NULL) {
		json_object_object_foreach(more, key, val)
			if (json_object_object_add(ctx, key,
			    json_object_get(val)) != 0) {
				json_object_put(val);
				goto out;
			}
	}
	e = page_render(pe, r, status, "ticket.html", ctx);
out:
	free(title.p);
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
