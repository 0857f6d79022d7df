/*
 * fuzz_prog.c - the whole-program fuzz harness (fuzz_prog.h): a store of
 * a few users, tokens, sessions, tickets and messages, made anew every
 * FUZZ_RESET runs, and one request a run through app_serve, the request
 * path every program in cgi-bin/ runs.
 *
 * The store: four users (alice and bob customers, carol an agent, dave an
 * admin; the password of each is "<name> password"), an API token and a
 * session for alice, carol and dave, a ticket of alice's with a staff
 * reply and an internal note, a ticket of bob's and a closed one of
 * alice's.  Durability nosync; the fuzz build's password hashes are
 * libsodium's cheapest (lib/desk/user.h), so Basic logins cost little.
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "../../cgi-bin/app.h"
#include "areas.h"
#include "msg.h"
#include "sess.h"
#include "ticket.h"
#include "user.h"
#include "util.h"

#include "fuzz_prog.h"

#ifndef FUZZ_TEMPLATES_DIR
#define FUZZ_TEMPLATES_DIR "templates"
#endif

/* What an answer may take; more is counted, not kept. */
#define OUT_MAX (4 << 20)

/* The "@name@" placeholders of the input and what they stand for now. */
enum {
	S_ALICE_TOKEN, S_CAROL_TOKEN, S_DAVE_TOKEN,
	S_ALICE_SID, S_ALICE_CSRF, S_CAROL_SID, S_CAROL_CSRF,
	S_DAVE_SID, S_DAVE_CSRF,
	S_TICKET_ALICE, S_TICKET_BOB, S_TICKET_CLOSED,
	S_MSG_ALICE, S_NOTE_ALICE,
	S_ALICE_ID, S_BOB_ID, S_CAROL_ID, S_DAVE_ID,
	NSECRETS
};

static struct {
	const char *name;
	char val[96];
} secrets[NSECRETS] = {
	[S_ALICE_TOKEN] = { "@alice_token@", "" },
	[S_CAROL_TOKEN] = { "@carol_token@", "" },
	[S_DAVE_TOKEN] = { "@dave_token@", "" },
	[S_ALICE_SID] = { "@alice_sid@", "" },
	[S_ALICE_CSRF] = { "@alice_csrf@", "" },
	[S_CAROL_SID] = { "@carol_sid@", "" },
	[S_CAROL_CSRF] = { "@carol_csrf@", "" },
	[S_DAVE_SID] = { "@dave_sid@", "" },
	[S_DAVE_CSRF] = { "@dave_csrf@", "" },
	[S_TICKET_ALICE] = { "@ticket_alice@", "" },
	[S_TICKET_BOB] = { "@ticket_bob@", "" },
	[S_TICKET_CLOSED] = { "@ticket_closed@", "" },
	[S_MSG_ALICE] = { "@msg_alice@", "" },
	[S_NOTE_ALICE] = { "@note_alice@", "" },
	[S_ALICE_ID] = { "@alice_id@", "" },
	[S_BOB_ID] = { "@bob_id@", "" },
	[S_CAROL_ID] = { "@carol_id@", "" },
	[S_DAVE_ID] = { "@dave_id@", "" },
};

static struct app app;
static char dir[] = "/tmp/fuzz-prog-XXXXXX";
static char db_dir[sizeof(dir) + 8], conf_file[sizeof(dir) + 16];
static long runs;
static bool show;	/* FUZZ_PROG_SHOW set: each answer's start on stderr */

/* The harness cannot go on: say why and stop. */
static void __attribute__((noreturn))
die(const char *what, sup_err e)
{
	fprintf(stderr, "fuzz_prog: %s: %s\n", what, sup_strerror(e));
	abort();
}

static int
rm_one(const char *path, const struct stat *st SUP_UNUSED,
    int flag SUP_UNUSED, struct FTW *ftw SUP_UNUSED)
{
	return remove(path);
}

/* Remove path and everything under it (nothing there is no error). */
static void
rm_tree(const char *path)
{
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
	    errno != ENOENT)
		fprintf(stderr, "fuzz_prog: cannot remove %s\n", path);
}

/* A user and their credentials; ids in secrets as text. */
static void
make_user(const char *name, enum user_role role, int s_id, int s_token,
    int s_sid, int s_csrf, struct sup_user *u)
{
	char email[64], password[64], sid[SESS_ID_STRLEN + 1];
	char csrf[CSRF_TOKEN_STRLEN + 1], *token;
	json_object *rec;
	uint32_t id;
	sup_err e;

	snprintf(email, sizeof(email), "%s@example.com", name);
	snprintf(password, sizeof(password), "%s password", name);
	if ((e = user_create(&app.store, name, email, NULL, role, password,
	    &id)) != SUP_OK)
		die("user_create", e);
	snprintf(secrets[s_id].val, sizeof(secrets[s_id].val), "%u", id);
	if ((e = user_get(&app.store, NULL, id, &rec)) != SUP_OK ||
	    (e = user_from_record(u, rec)) != SUP_OK)
		die("user_get", e);
	if (s_token < 0)
		return;
	if ((e = token_create(&app.store, name, "fuzz", &token)) != SUP_OK)
		die("token_create", e);
	snprintf(secrets[s_token].val, sizeof(secrets[s_token].val), "%s",
	    token);
	free(token);
	if ((e = sess_create(&app.store, id, "127.0.0.1", "fuzz", sid, csrf,
	    NULL)) != SUP_OK)
		die("sess_create", e);
	memcpy(secrets[s_sid].val, sid, sizeof(sid));
	memcpy(secrets[s_csrf].val, csrf, sizeof(csrf));
}

/* A ticket of u's; its uuid into secrets[s]. */
static void
make_ticket(struct sup_user *u, const char *subject, const char *text,
    int s, uint8_t uuid[UUID_LEN])
{
	struct ticket_new in = {
		.subject = subject, .subject_len = strlen(subject),
		.content = text, .content_len = strlen(text),
		.priority = PRI_NORMAL,
	};
	json_object *t;
	sup_err e;

	if ((e = ticket_create(&app.store, &app.conf, u, &in, &t)) != SUP_OK)
		die("ticket_create", e);
	json_object_put(t);
	memcpy(uuid, in.uuid, UUID_LEN);
	uuid_format(uuid, secrets[s].val);
}

/* A message on ticket by u; its uuid into secrets[s]. */
static void
make_message(struct sup_user *u, const uint8_t ticket[UUID_LEN],
    const char *text_in, bool internal, int s)
{
	json_object *m;
	const char *text, *at;
	sup_err e;

	if ((e = msg_post(&app.store, u, ticket, text_in, strlen(text_in),
	    internal, &m)) != SUP_OK)
		die("msg_post", e);
	/* The message may be a text object (lib/text/jtext.h): read its text. */
	text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
	if (text == NULL || (at = strstr(text, "\"uuid\":\"")) == NULL ||
	    strlen(at + 8) < UUID_STRLEN)
		die("msg_post: no uuid", SUP_EDB);
	snprintf(secrets[s].val, sizeof(secrets[s].val), "%.*s", UUID_STRLEN,
	    at + 8);
	json_object_put(m);
}

/* Open a new, empty store in db_dir and fill it. */
static void
store_fill(void)
{
	struct sup_user alice, bob, carol, dave;
	struct ticket_patch close = { .status = ST_CLOSED, .priority = -1 };
	uint8_t ta[UUID_LEN], tb[UUID_LEN], tc[UUID_LEN];
	json_object *t;
	sup_err e;

	if (mkdir(db_dir, 0700) != 0)
		die("mkdir", SUP_EIO);
	if ((e = store_open(&app.store, &app.conf, desk_areas)) != SUP_OK)
		die("store_open", e);
	make_user("alice", ROLE_USER, S_ALICE_ID, S_ALICE_TOKEN, S_ALICE_SID,
	    S_ALICE_CSRF, &alice);
	make_user("bob", ROLE_USER, S_BOB_ID, -1, -1, -1, &bob);
	make_user("carol", ROLE_AGENT, S_CAROL_ID, S_CAROL_TOKEN, S_CAROL_SID,
	    S_CAROL_CSRF, &carol);
	make_user("dave", ROLE_ADMIN, S_DAVE_ID, S_DAVE_TOKEN, S_DAVE_SID,
	    S_DAVE_CSRF, &dave);
	make_ticket(&alice, "Printer on fire", "It *smokes*.", S_TICKET_ALICE,
	    ta);
	make_message(&carol, ta, "Unplug it, please.", false, S_MSG_ALICE);
	make_message(&carol, ta, "Third time this week.", true, S_NOTE_ALICE);
	make_ticket(&bob, "Bob's problem", "Help bob", S_TICKET_BOB, tb);
	make_ticket(&alice, "Old one", "Long done.", S_TICKET_CLOSED, tc);
	if ((e = ticket_update(&app.store, &carol, tc, &close, &t)) != SUP_OK)
		die("ticket_update", e);
	json_object_put(t);
	user_clear(&alice);
	user_clear(&bob);
	user_clear(&carol);
	user_clear(&dave);
}

/* At exit: close the store and remove its directory. */
static void
cleanup(void)
{
	store_close(&app.store);
	page_env_close(&app.page);
	conf_free(&app.conf);
	rm_tree(dir);
}

/* The first run: the directory, its support.conf, the store. */
static void
setup(const char *name, const struct route *routes, size_t nroutes)
{
	FILE *f;
	sup_err e;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		die("setup", SUP_EIO);
	snprintf(db_dir, sizeof(db_dir), "%s/db", dir);
	snprintf(conf_file, sizeof(conf_file), "%s/support.conf", dir);
	if ((f = fopen(conf_file, "w")) == NULL)
		die("support.conf", SUP_EIO);
	fprintf(f, "[support]\n"
	    "data_dir = %s\n"
	    "durability = nosync\n"
	    "cache_kb = 2048\n"
	    "templates_dir = %s\n"
	    "allow_registration = yes\n"
	    "max_tickets_per_user = 100\n"
	    "session_idle_s = 86400\n"
	    "session_max_s = 86400\n"
	    "login_fails_account = 1000\n"
	    "login_fails_address = 1000\n"
	    "webhook_secret = " FUZZ_WEBHOOK_SECRET "\n",
	    db_dir, FUZZ_TEMPLATES_DIR);
	if (fclose(f) != 0)
		die("support.conf", SUP_EIO);
	if ((e = conf_load(&app.conf, conf_file)) != SUP_OK) {
		fprintf(stderr, "fuzz_prog: %s\n", app.conf.errmsg);
		die("conf_load", e);
	}
	show = getenv("FUZZ_PROG_SHOW") != NULL;
	app.name = name;
	app.routes = routes;
	app.nroutes = nroutes;
	app.page.conf = &app.conf;
	app.page.me = app_me;
	store_fill();
	atexit(cleanup);
}

/* Every FUZZ_RESET runs: the store made anew, so it does not grow. */
static void
reset(void)
{
	store_close(&app.store);
	rm_tree(db_dir);
	store_fill();
}

/* Append s[0..n) to b with each "@name@" replaced by its secret. */
static void
expand(struct sbuf *b, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *at = memchr(s + i, '@', n - i);
		size_t k, len = 0;

		if (at == NULL) {
			sbuf_add(b, s + i, n - i);
			return;
		}
		sbuf_add(b, s + i, (size_t)(at - (s + i)));
		i = (size_t)(at - s);
		for (k = 0; k < NSECRETS; k++) {
			len = strlen(secrets[k].name);
			if (len <= n - i && memcmp(s + i, secrets[k].name,
			    len) == 0)
				break;
		}
		if (k < NSECRETS) {
			sbuf_adds(b, secrets[k].val);
			i += len;
		} else {
			sbuf_add(b, "@", 1);
			i++;
		}
	}
}

/* One request's input and output, sup_io's ctx. */
struct conn {
	const char *p;		/* the body, read as a client sends it */
	size_t left;
	char *out;		/* the answer: kept up to OUT_MAX ... */
	size_t len;
	size_t total;		/* ... and counted past it */
};

static int
body_read(void *ctx, char *buf, int n)
{
	struct conn *b = ctx;
	size_t k = n < 0 ? 0 : (size_t)n < b->left ? (size_t)n : b->left;

	if (k > 0)
		memcpy(buf, b->p, k);
	b->p += k;
	b->left -= k;
	return (int)k;
}

static int
answer_write(void *ctx, const char *buf, int n)
{
	struct conn *a = ctx;
	size_t k;

	if (n < 0)
		abort();
	a->total += (size_t)n;
	k = (size_t)n < OUT_MAX - a->len ? (size_t)n : OUT_MAX - a->len;
	if (k > 0) {
		if (a->out == NULL && (a->out = malloc(OUT_MAX)) == NULL)
			return -1;
		memcpy(a->out + a->len, buf, k);
		a->len += k;
	}
	return n;
}

/* A broken answer: show its head and stop (libFuzzer saves the input). */
static void __attribute__((noreturn))
bad_answer(const struct conn *a, const char *why)
{
	fprintf(stderr, "fuzz_prog: bad answer: %s\n%.*s\n", why,
	    (int)(a->len < 2048 ? a->len : 2048), a->out ? a->out : "");
	abort();
}

/*
 * Is the answer one well-formed CGI answer?  "Status: NNN reason", header
 * lines "Name: value" with no CR, LF or NUL inside, an empty line, and a
 * body as long as its Content-Length (none after HEAD); a JSON body that
 * json-c reads whole.  A 500 is a bug: bad input is always a 4xx.
 */
static void
check_answer(const struct conn *a, bool head)
{
	const char *p = a->out, *end, *line, *body;
	long status, clen = -1;
	bool json = false;

	if (a->total == 0)
		bad_answer(a, "nothing written");
	if (a->len < 13 || memcmp(p, "Status: ", 8) != 0 || p[11] != ' ' ||
	    p[8] < '1' || p[8] > '5' || p[9] < '0' || p[9] > '9' ||
	    p[10] < '0' || p[10] > '9')
		bad_answer(a, "no status line");
	status = (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
	if (status == 500)
		bad_answer(a, "500");
	if ((end = memmem(p, a->len, "\r\n\r\n", 4)) == NULL)
		bad_answer(a, "no end of the headers");
	for (line = p; line < end + 2; ) {
		const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n",
		    2), *colon;
		size_t n = (size_t)(eol - line);

		colon = memchr(line, ':', n);
		if (colon == NULL || colon == line || colon + 1 >= eol ||
		    colon[1] != ' ')
			bad_answer(a, "a header line without a name");
		for (const char *c = line; c < eol; c++)
			if (*c == '\r' || *c == '\n' || *c == '\0')
				bad_answer(a, "CR, LF or NUL in a header");
		for (const char *c = line; c < colon; c++)
			if (!(*c == '-' || (*c >= 'A' && *c <= 'Z') ||
			    (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
				bad_answer(a, "a bad header name");
		if (n > 16 && strncasecmp(line, "Content-Length: ", 16) == 0) {
			char num[24];
			size_t k = n - 16 < sizeof(num) - 1 ? n - 16 :
			    sizeof(num) - 1;
			memcpy(num, line + 16, k);
			num[k] = '\0';
			if (!parse_long(num, 0, 1L << 40, &clen))
				bad_answer(a, "a bad Content-Length");
		}
		if (n >= 30 && strncasecmp(line,
		    "Content-Type: application/json", 30) == 0)
			json = true;
		line = eol + 2;
	}
	body = end + 4;
	size_t blen = a->total - (size_t)(body - p);
	if (clen >= 0 && (size_t)clen != blen && !(head && blen == 0))
		bad_answer(a, "Content-Length is not the body's length");
	if (json && !head && a->total == a->len && blen > 0) {
		json_tokener *tok = json_tokener_new();
		json_object *o;

		if (tok == NULL)
			abort();
		o = json_tokener_parse_ex(tok, body, (int)blen);
		if (o == NULL || json_tokener_get_error(tok) !=
		    json_tokener_success ||
		    (size_t)json_tokener_get_parse_end(tok) != blen)
			bad_answer(a, "a JSON body json-c cannot read");
		json_object_put(o);
		json_tokener_free(tok);
	}
}

/* Does line[0..n) start with the C string s? */
static bool
starts(const char *line, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && memcmp(line, s, k) == 0;
}

int
fuzz_prog_run(const char *name, const struct route *routes, size_t nroutes,
    const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *stop = p + size;
	char *env[FUZZ_MAX_VARS + 2];
	struct sbuf b = { 0 }, bodybuf = { 0 };
	struct conn c;
	size_t nenv = 0;
	bool has_len = false, method = false, head = false;

	if (app.name == NULL)
		setup(name, routes, nroutes);
	else if (++runs % FUZZ_RESET == 0)
		reset();

	/* The variables, up to the empty line. */
	while (p < stop) {
		const char *nl = memchr(p, '\n', (size_t)(stop - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(stop - p);

		p += n + (nl ? 1 : 0);
		if (n == 0)
			break;
		const char *line = p - n - (nl ? 1 : 0);
		if (memchr(line, '=', n) == NULL || nenv >= FUZZ_MAX_VARS)
			continue;
		if (starts(line, n, "CONTENT_LENGTH=") ||
		    starts(line, n, "HTTP_TRANSFER_ENCODING="))
			has_len = true;
		b = (struct sbuf){ 0 };
		expand(&b, line, n);
		sbuf_add(&b, "", 0);
		if (b.failed)
			abort();
		env[nenv++] = b.p;
		/* The program reads the first one, up to a NUL. */
		if (starts(line, n, "REQUEST_METHOD=") && !method) {
			method = true;
			head = strcmp(b.p, "REQUEST_METHOD=HEAD") == 0;
		}
	}
	expand(&bodybuf, p, (size_t)(stop - p));
	sbuf_add(&bodybuf, "", 0);
	if (bodybuf.failed)
		abort();
	if (!has_len && bodybuf.len > 0) {
		b = (struct sbuf){ 0 };
		sbuf_printf(&b, "CONTENT_LENGTH=%zu", bodybuf.len);
		if (b.failed)
			abort();
		env[nenv++] = b.p;
	}
	env[nenv] = NULL;

	c = (struct conn){ .p = bodybuf.p, .left = bodybuf.len };
	app_serve(&app, env, (struct sup_io){ body_read, answer_write, &c });
	if (show)
		fprintf(stderr, "%.*s\n----\n", (int)(c.len < 600 ? c.len : 600),
		    c.out ? c.out : "");
	check_answer(&c, head);

	free(c.out);
	free(bodybuf.p);
	for (size_t i = 0; i < nenv; i++)
		free(env[i]);
	return 0;
}
