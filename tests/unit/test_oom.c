/*
 * test_oom.c - out of memory, as SQLite tests it: a call is run again and
 * again, the Nth allocation made during it failing for N = 1, 2, ... until
 * the call gets through every allocation it makes.  Each failed run must
 * return SUP_ENOMEM (not crash, not another error, not succeed with data
 * missing), leave no block allocated that was not allocated before it, and
 * leave the store whole (store_verify, every few runs and at the end).
 *
 * The calls: the request parser (req_parse, the body as JSON and as a
 * urlencoded form), the template engine (parse and render), the records
 * (ticket_create, ticket_show, ticket_update, ticket_bulk_update,
 * msg_post, msg_list), the outbox (add, claim, done) and the
 * store's own writes (user_create, whose unique indexes Berkeley DB builds
 * through our callbacks).
 *
 * Every allocation of the process is counted and can be failed: this
 * program defines malloc, calloc, realloc, free and the aligned variants
 * over glibc's __libc_* entry points, so json-c, Berkeley DB, libsodium and
 * cmark allocate through them too.  Under AddressSanitizer malloc is the
 * sanitizer's, which gives no way to fail one allocation: Makefile.am
 * builds this program only where no sanitizer is configured.
 *
 * What the runs found outside our code, each noted where the test deals
 * with it: json-c 0.16's tokener crashes when a member name's strdup
 * fails (spared), and drops a member when an object's table cannot grow,
 * losing two blocks (the parse is made an error by lib/util.h's
 * json_members_kept; the run's leak is excused); Berkeley DB 5.3 returns
 * ENOMEM from the call whose allocation failed, but panics the environment
 * when DB_TXN->abort cannot allocate (run_user_taken: the store comes back
 * through store_run's recovery).  cmark aborts the process on a failed
 * allocation: lib/msg.c gives it an allocator that does not.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "areas.h"
#include "canned.h"
#include "conf.h"
#include "msg.h"
#include "outbox.h"
#include "presence.h"
#include "req.h"
#include "stats.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "tmpl.h"
#include "user.h"
#include "util.h"
#include "view.h"

#include "tap.h"

/* --- The allocator ---------------------------------------------------- */

/* glibc's own allocator, under the names it exports for this. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

/*
 * Volatile: the compiler takes malloc for the C library's, which touches
 * none of the program's variables, and would move these across calls.
 */
static volatile long live;	/* blocks allocated and not freed */
static volatile bool armed;	/* counting allocations towards fail_at */
static volatile long fail_at;	/* the allocation to fail, 1-based */
static volatile long seen;	/* allocations since armed */
static volatile bool injected;	/* fail_at was reached */
static bool panicked;		/* the run panicked Berkeley DB */
static long panics;		/* runs that did, in this loop */
static int loop_no;		/* which oom_loop: for a debugger's break */
static long run_no;		/* which run of the loop */

/*
 * json-c (0.16, 0.17) drops a member when its object's table cannot grow
 * while the tokener adds it (json_tokener.c's object_value_add ignores
 * json_object_object_add's result), and loses the member's value and the
 * copy of its name: lib/util.h's json_members_kept makes the parse an
 * error (SUP_ENOMEM), but the two blocks are json-c's to lose.  A run
 * whose failed allocation is that table's (a calloc of lh_table_new while
 * the tokener runs) is excused from the leak check, and counted.
 */
static volatile bool in_tokener;
static volatile bool jsonc_leaked;
static long jsonc_leaks;

static void
jsonc_leak_check(void *caller)
{
	Dl_info info;

	if (in_tokener && dladdr(caller, &info) != 0 &&
	    info.dli_sname != NULL &&
	    strcmp(info.dli_sname, "lh_table_new") == 0) {
		jsonc_leaked = true;
		jsonc_leaks++;
	}
}

/* Should this allocation fail? */
static bool
fail_now(void)
{
	if (!armed)
		return false;
	if (++seen != fail_at)
		return false;
	injected = true;
	errno = ENOMEM;
	return true;
}

void *
malloc(size_t n)
{
	void *p;

	if (fail_now())
		return NULL;
	if ((p = __libc_malloc(n)) != NULL)
		live++;
	return p;
}

void *
calloc(size_t nmemb, size_t size)
{
	void *p;

	if (fail_now()) {
		jsonc_leak_check(__builtin_return_address(0));
		return NULL;
	}
	if ((p = __libc_calloc(nmemb, size)) != NULL)
		live++;
	return p;
}

void *
realloc(void *old, size_t n)
{

	if (old == NULL)
		return malloc(n);
	if (n == 0) {
		/* glibc frees the block and returns NULL. */
		live--;
		return __libc_realloc(old, 0);
	}
	if (fail_now())
		return NULL;
	return __libc_realloc(old, n);
}

void
free(void *p)
{
	if (p == NULL)
		return;
	live--;
	__libc_free(p);
}

void *
memalign(size_t align, size_t n)
{
	void *p;

	if (fail_now())
		return NULL;
	if ((p = __libc_memalign(align, n)) != NULL)
		live++;
	return p;
}

void *
aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	if ((p = memalign(align, n)) == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

void *
valloc(size_t n)
{
	return memalign((size_t)sysconf(_SC_PAGESIZE), n);
}

void *
pvalloc(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return memalign(page, (n + page - 1) / page * page);
}

/*
 * json-c 0.16 (Debian 12's) does not check the strdup of a member name in
 * json_tokener_parse_ex (json_tokener.c, state
 * json_tokener_state_object_field): the NULL name is then hashed and the
 * process crashes (a fault in strlen under json_object_object_add_ex).
 * json-c checks it from 0.17 on.  That allocation is not ours to fail:
 * with an older json-c, a strdup made while json_tokener_parse_ex runs
 * (this program's json_tokener_parse_ex wraps json-c's) is made with
 * failures off, and counted in spared.  Every other allocation of the
 * tokener (its objects, strings, buffers) is failed as any other.
 */
static long spared;

struct json_object *
json_tokener_parse_ex(struct json_tokener *tok, const char *str, int len)
{
	static struct json_object *(*real)(struct json_tokener *,
	    const char *, int);
	struct json_object *o;

	if (real == NULL &&
	    (real = (struct json_object *(*)(struct json_tokener *,
	    const char *, int))dlsym(RTLD_NEXT,
	    "json_tokener_parse_ex")) == NULL)
		bail_out("json_tokener_parse_ex: %s", dlerror());
	in_tokener = json_c_version_num() < (17 << 8);
	o = real(tok, str, len);
	in_tokener = false;
	return o;
}

char *
strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (armed && in_tokener) {
		spared++;
		p = __libc_malloc(n);
	} else if (!fail_now())
		p = __libc_malloc(n);
	else
		return NULL;
	if (p != NULL) {
		live++;
		memcpy(p, s, n);
	}
	return p;
}

/* Count the allocations from now, failing the nth. */
static void
arm(void)
{
	seen = 0;
	armed = true;
}

static void
disarm(void)
{
	armed = false;
}

/* --- The loop --------------------------------------------------------- */

static char dir[64];
static struct sup_conf conf;
static struct store st;
static bool store_is_open;
static const char *incomplete;	/* set by a run that succeeded short */

/*
 * The API's objects are raw text objects (lib/view.h) without members:
 * x(o) is o parsed, kept until the run ends (x_release, in oom_loop).
 */
static json_object *xpool[16];
static size_t nx;

static json_object *
x(json_object *o)
{
	json_object *e;

	if (o == NULL || nx == SUP_NELEM(xpool) || (e = view_expand(o)) == NULL)
		return NULL;
	return xpool[nx++] = e;
}

/* x(o) for an object holding raw members: o printed and parsed again. */
static json_object *
xp(json_object *o)
{
	json_object *e;

	if (o == NULL || nx == SUP_NELEM(xpool) ||
	    (e = json_tokener_parse(json_object_to_json_string(o))) == NULL)
		return NULL;
	return xpool[nx++] = e;
}

static void
x_release(void)
{
	while (nx > 0)
		json_object_put(xpool[--nx]);
}

static void
report_line(void *ctx, const char *line)
{
	(*(int *)ctx)++;
	diag("verify: %s", line);
}

/* store_verify with the store closed: 0 problems, or say which. */
static bool
store_whole(void)
{
	long problems = -1;
	int lines = 0;

	return store_verify(&conf, desk_areas, report_line, &lines, &problems) == SUP_OK &&
	    problems == 0;
}

#define MAX_RUNS 100000		/* a call making more allocations is a bug */
#define VERIFY_EVERY 40		/* runs between store_verify in a store case */

/*
 * Run fn with the 1st, 2nd, ... allocation failing until it makes all of
 * them; with store, each run between a store_open and a store_close that
 * the counts of live blocks enclose.
 */
static void
oom_loop_want(const char *what, sup_err (*fn)(void), bool store,
    sup_err want)
{
	long n, bad = 0, leaks = 0, survived = 0, broken = 0;
	sup_err e = SUP_OK;

	loop_no++;
	for (n = 1; n < MAX_RUNS; n++) {
		long before = live;

		if (store) {
			if (store_open(&st, &conf, desk_areas) != SUP_OK)
				bail_out("%s: store_open after run %ld", what,
				    n - 1);
			store_is_open = true;
		}
		fail_at = run_no = n;
		injected = jsonc_leaked = panicked = false;
		incomplete = NULL;
		e = fn();
		disarm();
		x_release();
		if (store) {
			store_close(&st);
			store_is_open = false;
		}
		if (live != before && !jsonc_leaked && !panicked) {
			if (leaks++ < 5)
				diag("%s: failing allocation %ld: %+ld blocks",
				    what, n, live - before);
		}
		if (!injected)
			break;
		if (incomplete != NULL && (e == want || e == SUP_ENOMEM)) {
			if (bad++ < 5)
				diag("%s: failing allocation %ld: success, "
				    "but %s", what, n, incomplete);
		} else if (e == want) {
			survived++;	/* a cache or a retry absorbed it */
		} else if (e != SUP_ENOMEM) {
			if (bad++ < 5)
				diag("%s: failing allocation %ld: %s", what,
				    n, sup_errname(e));
		}
		if (store && n % VERIFY_EVERY == 0 && !store_whole()) {
			if (broken++ < 3)
				diag("%s: store not whole after run %ld",
				    what, n);
		}
	}
	if (spared > 0)
		diag("%s: %ld member-name strdups of json-c's tokener not "
		    "failed", what, spared);
	spared = 0;
	if (jsonc_leaks > 0)
		diag("%s: %ld runs excused from the leak check: json-c lost "
		    "a member", what, jsonc_leaks);
	jsonc_leaks = 0;
	if (panics > 0)
		diag("%s: %ld runs panicked Berkeley DB's environment",
		    what, panics);
	panics = 0;
	ok(n > 1 && n < MAX_RUNS && e == want && incomplete == NULL,
	    "%s: %s with all %ld allocations", what,
	    want == SUP_OK ? "succeeds" : sup_errname(want), n - 1);
	if (incomplete != NULL)
		diag("%s: %s", what, incomplete);
	ok(bad == 0, "%s: each failed allocation gives SUP_ENOMEM "
	    "(%ld absorbed)", what, survived);
	ok(leaks == 0, "%s: no run leaks a block", what);
	if (store)
		ok(broken == 0 && store_whole(), "%s: the store is whole "
		    "every %d runs and at the end", what, VERIFY_EVERY);
}

static void
oom_loop(const char *what, sup_err (*fn)(void), bool store)
{
	oom_loop_want(what, fn, store, SUP_OK);
}

/* --- (a) The request parser ------------------------------------------- */

struct membody {
	const char *data;
	size_t len, pos;
};

static int
mem_read(void *ctx, char *buf, int n)
{
	struct membody *m = ctx;
	size_t want = (size_t)n;

	if (want > m->len - m->pos)
		want = m->len - m->pos;
	memcpy(buf, m->data + m->pos, want);
	m->pos += want;
	return (int)want;
}

static int
mem_write(void *ctx SUP_UNUSED, const char *buf SUP_UNUSED, int n)
{
	return n;
}

/* A request as a program gets it: parse, read the body, parse the body. */
static sup_err
parse_request(char **envp, const char *body, struct sup_req *r)
{
	struct membody m = { body, strlen(body), 0 };
	struct sup_io io = { mem_read, mem_write, &m };
	sup_err e;

	arm();
	if ((e = req_parse(r, envp, io, "")) == SUP_OK &&
	    (e = req_read_body(r, 1 << 20)) == SUP_OK)
		e = req_parse_body(r);
	disarm();
	return e;
}

/* The member k of o as a string, or "" (also for null). */
static const char *
jstr(json_object *o, const char *k)
{
	json_object *v;
	const char *s;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
	    (s = json_object_get_string(v)) == NULL)
		return "";
	return s;
}

static const char *
body_str(const struct sup_req *r, const char *k)
{
	return jstr(r->json, k);
}

static sup_err
run_req_json(void)
{
	static const char body[] = "{\"subject\":\"Printer \\u00e9\","
	    "\"content\":\"It jams.\",\"priority\":\"high\","
	    "\"tags\":[1,2,{\"x\":null}]}";
	char len[32];
	char *envp[] = {
		"REQUEST_METHOD=POST",
		"REQUEST_URI=/api/support/tickets/?page=2&q=a%20b&q=c",
		"CONTENT_TYPE=application/json", len,
		"HTTP_COOKIE=sessionid=abc; csrftoken=def",
		NULL,
	};
	struct sup_req r;
	sup_err e;

	snprintf(len, sizeof(len), "CONTENT_LENGTH=%zu", sizeof(body) - 1);
	e = parse_request(envp, body, &r);
	if (e == SUP_OK && (strcmp(r.path, "/api/support/tickets/") != 0 ||
	    r.nquery != 3 || strcmp(req_query(&r, "q"), "a b") != 0 ||
	    req_cookie(&r, "csrftoken") == NULL ||
	    strcmp(req_cookie(&r, "csrftoken"), "def") != 0 ||
	    strcmp(body_str(&r, "subject"), "Printer \xc3\xa9") != 0 ||
	    strcmp(body_str(&r, "priority"), "high") != 0))
		incomplete = "the request is not all there";
	req_free(&r);
	return e;
}

static sup_err
run_req_form(void)
{
	static const char body[] = "subject=Printer+%C3%A9&content=It+jams."
	    "&priority=high&csrfmiddlewaretoken=tok";
	char len[32];
	char *envp[] = {
		"REQUEST_METHOD=POST", "PATH_INFO=/support/new/",
		"CONTENT_TYPE=application/x-www-form-urlencoded", len,
		NULL,
	};
	struct sup_req r;
	sup_err e;

	snprintf(len, sizeof(len), "CONTENT_LENGTH=%zu", sizeof(body) - 1);
	e = parse_request(envp, body, &r);
	if (e == SUP_OK && (!r.form || r.form_csrf == NULL ||
	    strcmp(r.form_csrf, "tok") != 0 ||
	    strcmp(body_str(&r, "subject"), "Printer \xc3\xa9") != 0 ||
	    strcmp(body_str(&r, "content"), "It jams.") != 0))
		incomplete = "the form is not all there";
	req_free(&r);
	return e;
}

/* --- (b) The template engine ------------------------------------------ */

static struct tmpl_cache *tcache;
static char tdir[64];

/* What page.html renders with tmpl_data() when nothing fails. */
#define PAGE_WANT \
	"<h1>Queue &amp; more</h1>\n" \
	"<ul><li>#1 Printer &lt;3</li>, <li>#2 VPN</li></ul>" \
	"<a href=\"/t/?q=a+b%26c\">x</a><p>a\\x26b</p>"

static json_object *
tmpl_data(void)
{
	return json_tokener_parse("{\"title\":\"Queue & more\",\"tickets\":["
	    "{\"n\":1,\"subject\":\"Printer <3\"},{\"n\":2,\"subject\":\"VPN\"}],"
	    "\"q\":\"a b&c\",\"js\":\"a&b\"}");
}

/* The parse of a template including another, through a fresh cache. */
static sup_err
run_tmpl_parse(void)
{
	struct tmpl_cache *c = NULL;
	const struct tmpl *t;
	struct sbuf out = { 0 };
	json_object *data = tmpl_data();
	sup_err e;

	arm();
	if ((e = tmpl_cache_open(tdir, &c)) == SUP_OK)
		e = tmpl_get(c, "page.html", &t, NULL, 0);
	disarm();
	if (e == SUP_OK && (tmpl_render(t, data, tmpl_sbuf_write, &out) !=
	    SUP_OK || out.p == NULL || strcmp(out.p, PAGE_WANT) != 0))
		incomplete = "the template does not render what it should";
	free(out.p);
	tmpl_cache_close(c);
	json_object_put(data);
	return e;
}

/* Rendering a parsed template into a growing buffer. */
static sup_err
run_tmpl_render(void)
{
	const struct tmpl *t;
	struct sbuf out = { 0 };
	json_object *data = tmpl_data();
	sup_err e;

	if (tmpl_get(tcache, "page.html", &t, NULL, 0) != SUP_OK)
		bail_out("page.html does not parse");
	arm();
	e = tmpl_render(t, data, tmpl_sbuf_write, &out);
	disarm();
	if (e == SUP_OK && (out.p == NULL || strcmp(out.p, PAGE_WANT) != 0)) {
		incomplete = "the output is not all there";
		diag("got: %s", out.p ? out.p : "(nothing)");
	}
	free(out.p);
	json_object_put(data);
	return e;
}

/* --- (c, d) Records and the store ------------------------------------- */

static struct sup_user alice, agent;
static uint8_t ticket[UUID_LEN];	/* alice's, for the updates */
static uint8_t bulk[3][UUID_LEN];	/* ticket and two more, for the bulk */
static int nposted;

static void
make_user(const char *name, enum user_role role, struct sup_user *u)
{
	char email[64];
	json_object *rec;
	uint32_t id;

	snprintf(email, sizeof(email), "%s@example.com", name);
	if (user_create(&st, name, email, NULL, role, "secret", &id) !=
	    SUP_OK || user_get(&st, NULL, id, &rec) != SUP_OK ||
	    user_from_record(u, rec) != SUP_OK)
		bail_out("cannot make user %s", name);
}

/* Length of the array o[k], or -1. */
static long
jlen(json_object *o, const char *k)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_array))
		return -1;
	return (long)json_object_array_length(v);
}

/*
 * A ticket with its first message.  On success the new ticket must be in
 * the store as it was reported, message and all.
 */
static sup_err
run_ticket_create(void)
{
	struct ticket_new in = {
		.subject = "Printer on fire", .subject_len = 15,
		.content = "It *really* is.\n\n- smoke\n- [x](http://e.x/)",
		.content_len = 43, .priority = PRI_HIGH,
	};
	json_object *out = NULL, *again = NULL;
	long limit = conf.max_tickets_per_user;
	sup_err e;

	/*
	 * Each run a failure is absorbed in (json-c's parser lets some go,
	 * and the search index parses each new message) makes a ticket: the
	 * per-customer limit is not what this loop is about.
	 */
	conf.max_tickets_per_user = 0;
	arm();
	e = ticket_create(&st, &conf, &alice, &in, &out);
	disarm();
	conf.max_tickets_per_user = limit;
	if (e == SUP_OK) {
		if (strcmp(jstr(x(out), "subject"), "Printer on fire") != 0 ||
		    jlen(x(out), "messages") != 1)
			incomplete = "the ticket reported is not all there";
		else if (ticket_show(&st, &alice, in.uuid, &again) != SUP_OK ||
		    strcmp(jstr(x(again), "subject"), "Printer on fire") != 0 ||
		    strcmp(jstr(x(again), "priority"), "high") != 0 ||
		    jlen(x(again), "messages") != 1)
			incomplete = "the ticket stored is not all there";
		json_object_put(again);
	}
	json_object_put(out);
	return e;
}

static sup_err
run_ticket_show(void)
{
	json_object *out = NULL;
	sup_err e;

	arm();
	e = ticket_show(&st, &agent, ticket, &out);
	disarm();
	if (e == SUP_OK && (strcmp(jstr(x(out), "subject"), "VPN down") != 0 ||
	    jlen(x(out), "messages") < 1)) {
		incomplete = "the ticket read is not all there";
		diag("%s", json_object_to_json_string(out));
	}
	json_object_put(out);
	return e;
}

/*
 * A search through the list (lib/desk/textsearch.c): the index's walk,
 * the check of a second word in the ticket's documents, the snippets.
 */
static sup_err
run_ticket_search(void)
{
	struct ticket_query q = { .priority = -1, .order = ORDER_UPDATED,
		.desc = true, .page = 1, .page_size = 20, .q = "vpn* down",
		.q_len = 9 };
	json_object *out = NULL;
	sup_err e;

	arm();
	e = ticket_list(&st, &agent, &q, &out);
	disarm();
	if (e == SUP_OK && strstr(json_object_to_json_string(out),
	    "\"mark\":\"VPN\"") == NULL) {
		incomplete = "the search's answer is not all there";
		diag("%s", json_object_to_json_string(out));
	}
	json_object_put(out);
	return e;
}

/* Staff takes the ticket, raises it and asks the customer. */
static sup_err
run_ticket_update(void)
{
	struct ticket_patch p = {
		.status = ST_WAITING_FOR_USER, .priority = PRI_URGENT,
		.subject = "VPN down again", .subject_len = 14,
		.set_assignee = true, .assignee = agent.id,
	};
	json_object *out = NULL, *again = NULL;
	sup_err e;

	arm();
	e = ticket_update(&st, &agent, ticket, &p, &out);
	disarm();
	if (e == SUP_OK) {
		if (strcmp(jstr(x(out), "status"), "waiting_for_user") != 0)
			incomplete = "the ticket reported is not changed";
		else if (ticket_show(&st, &agent, ticket, &again) != SUP_OK ||
		    strcmp(jstr(x(again), "status"), "waiting_for_user") != 0 ||
		    strcmp(jstr(x(again), "priority"), "urgent") != 0 ||
		    strcmp(jstr(x(again), "subject"), "VPN down again") != 0)
			incomplete = "the ticket stored is not changed";
		json_object_put(again);
	}
	json_object_put(out);
	return e;
}

/*
 * Staff resolves three tickets at once, lowers them and takes them (one
 * is the agent's already): all of them, or none.
 */
static sup_err
run_ticket_bulk_update(void)
{
	struct ticket_patch p = {
		.status = ST_RESOLVED, .priority = PRI_LOW,
		.set_assignee = true, .assignee = agent.id,
	};
	json_object *out = NULL, *again = NULL;
	size_t failed;
	sup_err e;

	arm();
	e = ticket_bulk_update(&st, &agent, (const uint8_t (*)[UUID_LEN])bulk,
	    3, &p, &failed, &out);
	disarm();
	if (e == SUP_OK) {
		if (jlen(xp(out), "results") != 3)
			incomplete = "the tickets reported are not all there";
		for (int i = 0; i < 3 && incomplete == NULL; i++) {
			if (ticket_show(&st, &agent, bulk[i], &again) !=
			    SUP_OK ||
			    strcmp(jstr(x(again), "status"), "resolved") != 0 ||
			    strcmp(jstr(x(again), "priority"), "low") != 0)
				incomplete = "a ticket stored is not changed";
			json_object_put(again);
			again = NULL;
		}
	} else if (failed != 3) {
		incomplete = "a failure named a ticket";
	}
	json_object_put(out);
	return e;
}

/* The customer answers: a message, and the ticket back to staff. */
static sup_err
run_msg_post(void)
{
	static const char text[] = "Still down.  See <b>this</b> and `that`.";
	json_object *out = NULL, *list = NULL;
	char etag[ETAG_MAX];
	sup_err e;

	arm();
	e = msg_post(&st, &alice, ticket, text, sizeof(text) - 1, false,
	    &out);
	disarm();
	if (e == SUP_OK) {
		nposted++;
		if (strcmp(jstr(x(out), "content"), text) != 0 ||
		    strstr(jstr(x(out), "content_html"),
		    "<code>that</code>") == NULL)
			incomplete = "the message reported is not all there";
		else if (msg_list(&st, &alice, ticket, NULL, NULL, etag,
		    &list) != SUP_OK || x(list) == NULL ||
		    (long)json_object_array_length(x(list)) != 1 + nposted)
			incomplete = "the message stored is not there";
		json_object_put(list);
	}
	json_object_put(out);
	return e;
}

/*
 * The customer answers with the first message as the last one seen: held
 * (MSG_ESTALE), nothing written, the newer messages in hand.
 */
static sup_err
run_msg_post_stale(void)
{
	json_object *out = NULL, *list = NULL, *newer = NULL;
	uint8_t first[UUID_LEN];
	char etag[ETAG_MAX];
	const char *u;
	long n;
	sup_err e;

	if (msg_list(&st, &alice, ticket, NULL, NULL, etag, &list) != SUP_OK ||
	    x(list) == NULL || (n = (long)json_object_array_length(x(list))) <
	    2 || (u = jstr(x(json_object_array_get_idx(x(list), 0)),
	    "uuid")) == NULL || !uuid_parse(u, strlen(u), first))
		bail_out("msg_post_stale: the thread to hold a reply on");
	json_object_put(list);
	list = NULL;
	arm();
	e = msg_post_seen(&st, &alice, ticket, "Late.", 5, false, first, &out,
	    &newer);
	disarm();
	if (e == MSG_ESTALE) {
		if (out != NULL || newer == NULL ||
		    (long)json_object_array_length(newer) != n - 1)
			incomplete = "the newer messages are not all there";
		else if (msg_list(&st, &alice, ticket, NULL, NULL, etag,
		    &list) != SUP_OK || x(list) == NULL ||
		    (long)json_object_array_length(x(list)) != n)
			incomplete = "a held reply was written";
		json_object_put(list);
	} else if (newer != NULL) {
		incomplete = "newer messages without MSG_ESTALE";
	}
	json_object_put(newer);
	json_object_put(out);
	return e;
}

static sup_err
run_msg_list(void)
{
	json_object *out = NULL;
	char etag[ETAG_MAX];
	sup_err e;

	arm();
	e = msg_list(&st, &agent, ticket, NULL, NULL, etag, &out);
	disarm();
	if (e == SUP_OK && (x(out) == NULL ||
	    (long)json_object_array_length(x(out)) != 1 + nposted))
		incomplete = "the thread read is not all there";
	json_object_put(out);
	return e;
}

/* The staff poll: the thread, presence in its tag, the agent's mark. */
static sup_err
run_msg_poll(void)
{
	json_object *out = NULL;
	char etag[ETAG_MAX];
	sup_err e;

	arm();
	e = msg_poll(&st, &agent, ticket, NULL, NULL, etag, &out);
	disarm();
	if (e == SUP_OK && (x(out) == NULL ||
	    (long)json_object_array_length(x(out)) != 1 + nposted))
		incomplete = "the thread read is not all there";
	json_object_put(out);
	return e;
}

/* An agent's typing signal, answered with the others present. */
static sup_err
run_presence_set(void)
{
	json_object *out = NULL;
	sup_err e;

	arm();
	e = presence_set(&st, &agent, ticket, PRESENCE_TYPING, &out);
	disarm();
	if (e == SUP_OK && x(out) == NULL)
		incomplete = "no presence answer";
	json_object_put(out);
	return e;
}

/* Does user_find(name) give the user id? */
static bool
found_as(struct store *s, const char *name, uint32_t id)
{
	json_object *rec = NULL, *v;
	bool same;

	same = user_find(s, NULL, name, &rec) == SUP_OK &&
	    json_object_object_get_ex(rec, "id", &v) &&
	    (uint32_t)json_object_get_int64(v) == id;
	json_object_put(rec);
	return same;
}

/*
 * A customer's ticket under auto_assign = round_robin: the list of
 * available agents read, the position moved; on success the record has
 * the agent (the only one) as its assignee.
 */
static sup_err
run_ticket_assign(void)
{
	struct ticket_new in = {
		.subject = "Fax jammed", .subject_len = 10,
		.content = "Again.", .content_len = 6, .priority = PRI_LOW,
	};
	struct record_ticket t;
	json_object *out = NULL;
	sup_err e;
	long limit = conf.max_tickets_per_user;

	/* Runs absorbing a failure open tickets too: no limit here. */
	conf.auto_assign = ASSIGN_ROUND_ROBIN;
	conf.max_tickets_per_user = 0;
	arm();
	e = ticket_create(&st, &conf, &alice, &in, &out);
	disarm();
	conf.auto_assign = ASSIGN_NO;
	conf.max_tickets_per_user = limit;
	json_object_put(out);
	if (e == SUP_OK) {
		if (ticket_load(&st, NULL, &agent, in.uuid, 0, &t) != SUP_OK ||
		    t.assignee != agent.id)
			incomplete = "the ticket stored is not the agent's";
		record_ticket_clear(&t);
	}
	return e;
}

/*
 * The agent marks themself away and back, run after run: the record and
 * the list of available agents (staff.db) change together.
 */
static sup_err
run_user_set_away(void)
{
	bool away = run_no % 2 == 1;
	json_object *rec = NULL;
	uint32_t *ids = NULL;
	size_t n = 0;
	sup_err e;

	arm();
	e = user_set_away(&st, agent.id, agent.id, away);
	disarm();
	if (e == SUP_OK) {
		if (user_get(&st, NULL, agent.id, &rec) != SUP_OK ||
		    user_is_away(rec) != away)
			incomplete = "the user record is not changed";
		else if (user_available(&st, NULL, &ids, &n) != SUP_OK ||
		    (n == 1) == away)
			incomplete = "the list of available agents is not "
			    "changed";
		json_object_put(rec);
		free(ids);
	}
	return e;
}

static sup_err
outbox_add_txn(struct store *s, DB_TXN *txn, void *arg)
{
	return outbox_add(s, txn, arg);
}

/*
 * A delivery queued (as the mail consumer queues it, in a transaction of
 * its own here), claimed and marked sent: three transactions, each whole
 * or not at all (a run cut after the first leaves a pending delivery,
 * which a later run's claim takes: it is due first).
 */
static sup_err
run_outbox(void)
{
	static const char msg[] = "Subject: oom\n\nbody\n";
	struct outbox_new d = { .kind = OUTBOX_MAIL, .to = "oom@example.com",
		.message = msg, .len = sizeof(msg) - 1 };
	struct outbox_item it = { 0 };
	sup_err e;

	uuid_gen_time(d.id, time_now_us());
	arm();
	e = store_run(&st, 0, outbox_add_txn, &d);
	if (e == SUP_OK)
		e = outbox_claim(&st, time_now_us(), &it);
	if (e == SUP_OK)
		e = outbox_done(&st, it.id, OUTBOX_OK, NULL, time_now_us(), 48);
	disarm();
	outbox_item_free(&it);
	return e;
}

/* A user record and its two unique indexes, which our callbacks make. */
static sup_err
run_user_create(void)
{
	char name[32], email[64], upper[32], mixed[64];
	json_object *rec = NULL;
	uint32_t id = 0;
	sup_err e;

	/* A new name each run: a run that gets through makes its user. */
	snprintf(name, sizeof(name), "carol%ld", run_no);
	snprintf(upper, sizeof(upper), "CAROL%ld", run_no);
	snprintf(email, sizeof(email), "Carol%ld@example.com", run_no);
	snprintf(mixed, sizeof(mixed), "carol%ld@EXAMPLE.com", run_no);
	arm();
	e = user_create(&st, name, email, "Carol C.", ROLE_USER,
	    "pass word 1", &id);
	disarm();
	if (e == SUP_OK) {
		if (user_get(&st, NULL, id, &rec) != SUP_OK ||
		    strcmp(jstr(rec, "username"), name) != 0)
			incomplete = "the user is not stored";
		else if (!found_as(&st, upper, id))
			incomplete = "the user is not found by name";
		else if (!found_as(&st, mixed, id))
			incomplete = "the user is not found by e-mail";
		json_object_put(rec);
	}
	return e;
}

/*
 * A name already taken: the call's own error, SUP_EEXIST, aborts the
 * transaction, so the failed allocation can be one of the abort's.
 * Berkeley DB 5.3 cannot abort without memory: __txn_abort allocates
 * (__db_txnlist_init) and, when it cannot, panics the environment
 * ("BDB0061 PANIC: Cannot allocate memory"; every later call gets
 * DB_RUNRECOVERY).  That is Berkeley DB's, not ours to fix.  What is ours
 * is that the store comes back: the next store_run gets SUP_ERECOVER,
 * reopens the store (recovery runs) and runs its transaction; the read
 * after each run must succeed, and the store be whole.  The runs that
 * panicked are counted and excused from the leak check: a panicked
 * environment does not free its handles when closed.
 */
static sup_err
run_user_taken(void)
{
	json_object *out = NULL;
	uint32_t id = 0;
	DB_TXN *t;
	sup_err e;

	arm();
	e = user_create(&st, "Alice", "alice2@example.com", NULL, ROLE_USER,
	    "pass word 1", &id);
	disarm();
	if (st.env->txn_begin(st.env, NULL, &t, 0) == DB_RUNRECOVERY) {
		panicked = true;
		panics++;
	} else
		t->abort(t);
	if (ticket_show(&st, &alice, ticket, &out) != SUP_OK)
		incomplete = "the store does not come back after the call";
	json_object_put(out);
	return e;
}

static void
setup(void)
{
	char path[4096];
	struct ticket_new in = {
		.subject = "VPN down", .subject_len = 8,
		.content = "Since noon.", .content_len = 11,
		.priority = PRI_NORMAL,
	};
	const struct tmpl *t;
	json_object *out;

	tap_store_conf(dir, sizeof(dir), &conf, "");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	make_user("alice", ROLE_USER, &alice);
	make_user("agent", ROLE_AGENT, &agent);
	if (ticket_create(&st, &conf, &alice, &in, &out) != SUP_OK)
		bail_out("ticket_create");
	memcpy(ticket, in.uuid, UUID_LEN);
	json_object_put(out);
	memcpy(bulk[1], ticket, UUID_LEN);
	for (int i = 0; i < 3; i += 2) {
		if (ticket_create(&st, &conf, &alice, &in, &out) != SUP_OK)
			bail_out("ticket_create");
		memcpy(bulk[i], in.uuid, UUID_LEN);
		json_object_put(out);
	}
	store_close(&st);

	tap_tmpdir(tdir, sizeof(tdir));
	tap_write_file(path, sizeof(path), tdir, "page.html",
	    "<h1>{{title}}</h1>\n{{>list}}\n"
	    "<a href=\"/t/?q={{q:u}}\">x</a><p>{{js:j:h}}</p>");
	tap_write_file(path, sizeof(path), tdir, "list.html",
	    "<ul>{{#tickets}}<li>#{{n}} {{subject}}</li>"
	    "{{#tickets_separator}}, {{/tickets_separator}}{{/tickets}}</ul>");
	/* Parsed once here: the cache keeps it (tmpl_render's runs). */
	if (tmpl_cache_open(tdir, &tcache) != SUP_OK ||
	    tmpl_get(tcache, "page.html", &t, NULL, 0) != SUP_OK)
		bail_out("page.html does not parse");
}

static uint32_t canned_id;	/* made by run_canned_create */

/*
 * The agent saves a canned response with every placeholder (its body is
 * parsed as a template): on success it is in the store as reported.
 */
static sup_err
run_canned_create(void)
{
	struct canned_in in = { .title = "Hello", .body = "Dear "
		"{{customer.name}} <{{customer.email}}>, #{{ticket.number}} "
		"{{ticket.subject}} -- {{agent.name}}", .shortcut = "hi",
		.has_title = true, .has_body = true, .has_shortcut = true };
	struct canned_why why;
	json_object *out = NULL, *again = NULL, *v;
	sup_err e;

	arm();
	e = canned_create(&st, &agent, &in, &why, &out);
	disarm();
	if (e == SUP_OK) {
		canned_id = json_object_object_get_ex(x(out), "id", &v) ?
		    (uint32_t)json_object_get_int64(v) : 0;
		if (strcmp(jstr(x(out), "title"), "Hello") != 0)
			incomplete = "the response reported is not all there";
		else if (canned_get(&st, &agent, canned_id, &again) !=
		    SUP_OK || strcmp(jstr(x(again), "shortcut"), "hi") != 0)
			incomplete = "the response stored is not all there";
		json_object_put(again);
	}
	json_object_put(out);
	return e;
}

/* The response rendered for alice's ticket. */
static sup_err
run_canned_render(void)
{
	struct canned_why why;
	char *out = NULL;
	sup_err e;

	arm();
	e = canned_render(&st, &agent, canned_id, ticket, &why, &out);
	disarm();
	if (e == SUP_OK && (out == NULL ||
	    strstr(out, "Dear alice <alice@example.com>, #") != out ||
	    strstr(out, " -- agent") == NULL)) {
		incomplete = "the response rendered is not all there";
		diag("%s", out ? out : "(null)");
	}
	free(out);
	return e;
}

/* The statistics of the last 30 days (lib/desk/stats.c). */
static sup_err
run_stats_report(void)
{
	int64_t today = stats_day(time_now_us());
	json_object *out = NULL, *v;
	sup_err e;

	arm();
	e = stats_report(&st, today - 29, today, &out);
	disarm();
	if (e == SUP_OK && (!json_object_object_get_ex(out, "total_tickets",
	    &v) || json_object_get_int(v) < 1 ||
	    jlen(x(out), "daily") != 30)) {
		incomplete = "the report is not all there";
		diag("%s", json_object_to_json_string(out));
	}
	json_object_put(out);
	return e;
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	diag("allocations are failed one at a time until each call succeeds");
	setup();

	oom_loop("req_parse, JSON body", run_req_json, false);
	oom_loop("req_parse, urlencoded form", run_req_form, false);
	oom_loop("tmpl_get (parse, with an include)", run_tmpl_parse, false);
	oom_loop("tmpl_render", run_tmpl_render, false);
	oom_loop("ticket_show", run_ticket_show, true);
	oom_loop("ticket_list, a search", run_ticket_search, true);
	oom_loop("msg_list", run_msg_list, true);
	oom_loop("msg_poll, as staff", run_msg_poll, true);
	oom_loop("presence_set", run_presence_set, true);
	oom_loop("ticket_create", run_ticket_create, true);
	oom_loop("ticket_create, assigned in turn", run_ticket_assign, true);
	oom_loop("ticket_update", run_ticket_update, true);
	oom_loop("ticket_bulk_update (3 tickets)", run_ticket_bulk_update,
	    true);
	oom_loop("msg_post", run_msg_post, true);
	oom_loop_want("msg_post_seen, held", run_msg_post_stale, true,
	    MSG_ESTALE);
	oom_loop("user_create", run_user_create, true);
	oom_loop("user_set_away", run_user_set_away, true);
	oom_loop("outbox_add, outbox_claim, outbox_done", run_outbox, true);
	oom_loop_want("user_create, name taken", run_user_taken, true,
	    SUP_EEXIST);
	oom_loop("canned_create", run_canned_create, true);
	oom_loop("canned_render", run_canned_render, true);
	oom_loop("stats_report", run_stats_report, true);

	tmpl_cache_close(tcache);
	tap_rmtree(tdir);
	tap_rmtree(dir);
	return done_testing();
}
