/*
 * test_webout.c - webhooks out (lib/desk/webout.c) and the outbox's index
 * of webhook deliveries (outbox_list_hooks) in a scratch store: the
 * [webhook.NAME] sections conf_load refuses (each with its section, key
 * and reason) and those webout_open refuses (an event no webhook carries,
 * a secret_file missing or short); the consumer queues one delivery per
 * enabled subscription that chose the event, with the body of webout.h
 * (the ticket as staff see it, a note marked is_internal), none for a
 * disabled one or an event not chosen, and nothing twice; the log newest
 * first, by subscription, by state, paged, a state filter stopping after
 * OUTBOX_SCAN_MAX entries with a place to go on from; drop, drop by match
 * and trim take the index entries with them.  The store must pass store_verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "event.h"
#include "msg.h"
#include "outbox.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "user.h"
#include "util.h"
#include "webout.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user alice, carol;

static void
make_user(const char *name, enum user_role role, struct sup_user *u)
{
	char email[64];
	json_object *rec;
	uint32_t id;

	snprintf(email, sizeof(email), "%s@example.com", name);
	if (user_create(&st, name, email, NULL, role, "secret", &id) != SUP_OK ||
	    user_get(&st, NULL, id, &rec) != SUP_OK ||
	    user_from_record(u, rec) != SUP_OK)
		bail_out("cannot make user %s", name);
	json_object_put(rec);
}

/* conf_load of a file holding text; the outcome, errmsg into why. */
static sup_err
load(const char *text, char *why, size_t n)
{
	char path[4096];
	struct sup_conf c;
	sup_err e;

	tap_write_file(path, sizeof(path), dir, "try.conf", text);
	e = conf_load(&c, path);
	snprintf(why, n, "%s", c.errmsg);
	conf_free(&c);
	return e;
}

static void
test_conf(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "[webhook.x]\nurl = ftp://h/\nevents = *\nsecret = "
		    "0123456789abcdef\n", "[webhook.x] url: must be an http" },
		{ "[webhook.x]\nurl = http://\nevents = *\nsecret = "
		    "0123456789abcdef\n", "[webhook.x] url: must be an http" },
		{ "[webhook.x]\nurl = http://h/a b\nevents = *\n",
		    "[webhook.x] url: must be an http" },
		{ "[webhook.x]\nurl = http://h/\nevents = Ticket!\n",
		    "[webhook.x] events: must be * or event names" },
		{ "[webhook.x]\nurl = http://h/\nevents = a,,b\n",
		    "[webhook.x] events: must be * or event names" },
		{ "[webhook.x]\nurl = http://h/\nevents = *\nsecret = short\n",
		    "[webhook.x] secret: must be at least 16 bytes" },
		{ "[webhook.x]\nurl = http://h/\nevents = *\n",
		    "[webhook.x] secret: give either secret or secret_file, "
		    "one is missing" },
		{ "[webhook.x]\nurl = http://h/\nevents = *\nsecret = "
		    "0123456789abcdef\nsecret_file = /s\n",
		    "[webhook.x] secret: give either secret or secret_file, "
		    "not both" },
		{ "[webhook.x]\nevents = *\nsecret = 0123456789abcdef\n",
		    "[webhook.x] url: missing" },
		{ "[webhook.x]\nurl = http://h/\nsecret = 0123456789abcdef\n",
		    "[webhook.x] events: missing" },
		{ "[webhook.x]\nurl = http://h/\nurl = http://g/\n",
		    "[webhook.x] url: given twice" },
		{ "[webhook.x]\ncolour = red\n", "[webhook.x]: unknown key "
		    "colour" },
		{ "[webhook.x]\nenabled = perhaps\n",
		    "[webhook.x] enabled: must be yes or no" },
		{ "[webhook.x]\nsecret_file = relative\n",
		    "[webhook.x] secret_file: must be an absolute path" },
		{ "[webhook.]\nurl = http://h/\n", "[webhook.]: the name" },
		{ "[webhook.A]\nurl = http://h/\n", "[webhook.A]: the name" },
	};
	char why[256];

	for (size_t i = 0; i < SUP_NELEM(bad); i++) {
		is_err(load(bad[i].text, why, sizeof(why)), SUP_ECONFIG,
		    "refused: %s", bad[i].want);
		ok(strstr(why, bad[i].want) != NULL, "  it says so: %s", why);
	}
	is_err(load("[webhook.ok-1]\nurl = https://h.example:8443/p?q=1\n"
	    "events = ticket.created , note.added\nsecret = 0123456789abcdef\n"
	    "enabled = no\n", why, sizeof(why)), SUP_OK, "a good section: %s",
	    why);
}

/* webout_open of the sections in text (a conf of their own). */
static sup_err
open_hooks(const char *text, char *why, size_t n)
{
	char path[4096];
	struct sup_conf c;
	struct webout *w = NULL;
	sup_err e;

	tap_write_file(path, sizeof(path), dir, "hooks.conf", text);
	if (conf_load(&c, path) != SUP_OK)
		bail_out("conf_load: %s", c.errmsg);
	e = webout_open(&c, &w, why, n);
	webout_close(w);
	conf_free(&c);
	return e;
}

static void
test_open(void)
{
	char why[256], text[8192], sfile[4096];
	const char *url, *secret;
	size_t slen;
	struct webout *w;

	is_err(open_hooks("[webhook.x]\nurl = http://h/\nevents = "
	    "ticket.created, ticket.exploded\nsecret = 0123456789abcdef\n",
	    why, sizeof(why)), SUP_ECONFIG, "an unknown event");
	ok(strstr(why, "[webhook.x] events: ticket.exploded is not") != NULL,
	    "  said: %s", why);
	is_err(open_hooks("[webhook.x]\nurl = http://h/\nevents = "
	    "login.failed\nsecret = 0123456789abcdef\n", why, sizeof(why)),
	    SUP_ECONFIG, "an event no webhook carries (sign-ins)");
	is_err(open_hooks("[webhook.x]\nurl = http://h/\nevents = *\n"
	    "secret_file = /nonexistent/secret\n", why, sizeof(why)),
	    SUP_ECONFIG, "a secret_file that is not there");
	ok(strstr(why, "[webhook.x] secret_file: /nonexistent/secret cannot "
	    "be read") != NULL, "  said: %s", why);
	tap_write_file(sfile, sizeof(sfile), dir, "short.secret", "short\n");
	snprintf(text, sizeof(text), "[webhook.x]\nurl = http://h/\nevents = "
	    "*\nsecret_file = %s\n", sfile);
	is_err(open_hooks(text, why, sizeof(why)), SUP_ECONFIG,
	    "a secret_file too short");
	tap_write_file(sfile, sizeof(sfile), dir, "good.secret",
	    "file-secret-0123456789\n\n");
	snprintf(text, sizeof(text), "[webhook.x]\nurl = http://h/x\nevents = "
	    "*\nsecret_file = %s\n", sfile);
	is_err(open_hooks(text, why, sizeof(why)), SUP_OK, "a good secret_file");
	/* The secret as the worker signs with it: white space cut. */
	if (webout_open(&conf, &w, why, sizeof(why)) != SUP_OK)
		bail_out("webout_open: %s", why);
	is_err(webout_target(w, "a", &url, &secret, &slen), SUP_OK, "a's target");
	is_str(url, "http://127.0.0.1:9/a", "  its url");
	is_int(slen, strlen("  a-secret-0123456789ab"),
	    "  its secret, its trailing white space cut");
	is_err(webout_target(w, "gone", &url, &secret, &slen), SUP_ENOTFOUND,
	    "a section not in the conf");
	webout_close(w);
}

/* The rows of a query. */
static json_object *
rows_of(const char *to, int state, const uint8_t *before, long limit,
    bool *more, uint8_t next[UUID_LEN])
{
	struct outbox_query q = { .to = to, .state = state, .before = before,
		.limit = limit };
	json_object *rows = NULL;

	if (outbox_list_hooks(&st, &q, &rows, more, next) != SUP_OK)
		bail_out("outbox_list_hooks");
	return rows;
}

static const char *
row_str(json_object *rows, size_t i, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(json_object_array_get_idx(rows, i), name,
	    &v))
		return "";
	return json_object_get_string(v);
}

static void
test_consume(void)
{
	struct webout *w;
	char why[256];
	long handled;
	uint8_t t[UUID_LEN], next[UUID_LEN];
	json_object *rows, *m = NULL, *tk = NULL;
	bool more;
	struct ticket_new in = { .subject = "Hooked", .subject_len = 6,
		.content = "Please help.", .content_len = 12,
		.priority = PRI_NORMAL };

	if (webout_open(&conf, &w, why, sizeof(why)) != SUP_OK)
		bail_out("webout_open: %s", why);
	/* The users' events first: b takes every event. */
	is_err(webout_consume(&st, w, 1000, &handled), SUP_OK,
	    "consume the users' events");
	rows = rows_of("b", -1, NULL, 100, &more, next);
	is_int(json_object_array_length(rows), 2, "  b: a user.created each");
	is_str(row_str(rows, 0, "label"), "user.created", "  labelled");
	json_object_put(rows);
	rows = rows_of("a", -1, NULL, 100, &more, next);
	is_int(json_object_array_length(rows), 0, "  a: none (not chosen)");
	json_object_put(rows);
	rows = rows_of("c", -1, NULL, 100, &more, next);
	is_int(json_object_array_length(rows), 0, "  c: none (disabled)");
	json_object_put(rows);

	if (ticket_create(&st, &conf, &alice, &in, &tk) != SUP_OK)
		bail_out("ticket_create");
	json_object_put(tk);
	memcpy(t, in.uuid, UUID_LEN);
	if (msg_post(&st, &carol, t, "A note", 6, true, &m) != SUP_OK)
		bail_out("msg_post");
	json_object_put(m);
	is_err(webout_consume(&st, w, 1000, &handled), SUP_OK,
	    "consume the ticket and its note");
	is_int(handled, 2, "  two events");
	is_err(webout_consume(&st, w, 1000, &handled), SUP_OK, "again");
	is_int(handled, 0, "  nothing more: each event once");
	rows = rows_of("a", -1, NULL, 100, &more, next);
	is_int(json_object_array_length(rows), 1, "a: the ticket only");
	is_str(row_str(rows, 0, "label"), "ticket.created", "  ticket.created");
	is_str(row_str(rows, 0, "state"), "pending", "  pending");
	ok(json_object_object_get_ex(json_object_array_get_idx(rows, 0),
	    "message", NULL) == false, "  without its message");
	json_object_put(rows);
	rows = rows_of(NULL, -1, NULL, 100, &more, next);
	is_int(json_object_array_length(rows), 5, "all: 5 (b 4, a 1)");
	is_str(row_str(rows, 0, "label"), "note.added", "  newest first");
	is_str(row_str(rows, 0, "to"), "b", "  to b");
	ok(!more, "  no more");
	json_object_put(rows);
	webout_close(w);

	/* The bodies, as the worker sends them. */
	{
		struct outbox_item it;
		json_object *body, *data, *v, *msg;
		int seen = 0, notes = 0;
		while (outbox_claim(&st, time_now_us(), &it) == SUP_OK) {
			if (it.kind != OUTBOX_WEBHOOK) {
				outbox_item_free(&it);
				continue;
			}
			body = json_tokener_parse(it.message);
			ok(body != NULL, "a body is JSON");
			if (body != NULL &&
			    json_object_object_get_ex(body, "data", &data) &&
			    json_object_object_get_ex(body, "event", &v) &&
			    strcmp(json_object_get_string(v), "note.added") == 0) {
				notes++;
				ok(json_object_object_get_ex(data, "message",
				    &msg) && json_object_object_get_ex(msg,
				    "is_internal", &v) &&
				    json_object_get_boolean(v),
				    "  the note is marked is_internal");
				ok(json_object_object_get_ex(data, "ticket", &v),
				    "  with its ticket");
			}
			ok(strstr(it.message, "secret") == NULL,
			    "  no password in it");
			seen++;
			outbox_done(&st, it.id, seen % 2 ? OUTBOX_OK :
			    OUTBOX_FAIL, "x", time_now_us(), 48);
			json_object_put(body);
			outbox_item_free(&it);
		}
		is_int(seen, 5, "five webhook deliveries claimed");
		is_int(notes, 1, "one of them the note's");
	}
	rows = rows_of(NULL, OUTBOX_DEAD, NULL, 100, &more, next);
	is_int(json_object_array_length(rows), 2, "by state: 2 dead");
	json_object_put(rows);
	rows = rows_of("b", OUTBOX_SENT, NULL, 100, &more, next);
	ok(json_object_array_length(rows) >= 1, "by subscription and state");
	json_object_put(rows);
}

static sup_err
add_txn(struct store *s, DB_TXN *txn, void *arg)
{
	return outbox_add(s, txn, arg);
}

/* Add n webhook deliveries to `to`; the last one's id into last. */
static void
add_hooks(const char *to, int n, uint8_t last[UUID_LEN])
{
	for (int i = 0; i < n; i++) {
		struct outbox_new d = { .kind = OUTBOX_WEBHOOK, .to = to,
			.label = "ticket.created", .message = "{}", .len = 2 };
		uuid_gen_time(d.id, time_now_us());
		if (store_run(&st, 0, add_txn, &d) != SUP_OK)
			bail_out("outbox_add");
		if (last != NULL)
			memcpy(last, d.id, UUID_LEN);
	}
}

static void
test_paging(void)
{
	uint8_t next[UUID_LEN], place[UUID_LEN];
	json_object *rows;
	bool more;
	long total = 0, pages = 0;

	add_hooks("many", 1100, NULL);
	rows = rows_of("many", -1, NULL, 50, &more, next);
	is_int(json_object_array_length(rows), 50, "a page of 50");
	ok(more, "  more");
	json_object_put(rows);
	/* Every page older than the last, all of them once. */
	rows = rows_of("many", -1, NULL, 200, &more, next);
	for (;;) {
		total += (long)json_object_array_length(rows);
		pages++;
		json_object_put(rows);
		if (!more)
			break;
		memcpy(place, next, UUID_LEN);
		rows = rows_of("many", -1, place, 200, &more, next);
	}
	is_int(total, 1100, "paged through 1100 in pages of 200");
	is_int(pages, 6, "  6 pages");
	/* A state none has: the walk stops after OUTBOX_SCAN_MAX. */
	rows = rows_of("many", OUTBOX_DEAD, NULL, 50, &more, next);
	is_int(json_object_array_length(rows), 0, "a filter nothing matches");
	ok(more, "  stops after %d entries, with a place", OUTBOX_SCAN_MAX);
	json_object_put(rows);
	memcpy(place, next, UUID_LEN);
	rows = rows_of("many", OUTBOX_DEAD, place, 50, &more, next);
	is_int(json_object_array_length(rows), 0, "  from there: none");
	ok(!more, "  and the end");
	json_object_put(rows);
	rows = rows_of("man", -1, NULL, 50, &more, next);
	is_int(json_object_array_length(rows), 0,
	    "a name that is another's prefix: none of the other's");
	json_object_put(rows);
	rows = rows_of("manyx", -1, NULL, 50, &more, next);
	is_int(json_object_array_length(rows), 0, "  nor the other way");
	json_object_put(rows);
	{
		struct outbox_query q = { .to = "many", .state = -1,
			.limit = 0 };
		json_object *r = NULL;
		is_err(outbox_list_hooks(&st, &q, &r, &more, next), SUP_EINVAL,
		    "limit 0 is refused");
	}
}

static void
test_drop_trim(void)
{
	uint8_t last[UUID_LEN], next[UUID_LEN];
	json_object *rows;
	long removed;
	bool more;

	add_hooks("gone", 3, last);
	is_err(outbox_drop(&st, last), SUP_OK, "drop one");
	rows = rows_of("gone", -1, NULL, 50, &more, next);
	is_int(json_object_array_length(rows), 2, "  two left in the log");
	json_object_put(rows);
	/* The sent and dead ones of test_consume go with a trim. */
	is_err(outbox_trim(&st, time_now_us() + 1000000, 0, &removed), SUP_OK,
	    "trim");
	ok(removed >= 5, "  removed the sent and dead (%ld)", removed);
	rows = rows_of("b", -1, NULL, 50, &more, next);
	is_int(json_object_array_length(rows), 0, "  and their index entries");
	json_object_put(rows);
}

/* outbox_drop_if's match: the deliveries to subscription "dropif". */
static sup_err
match_dropif(void *ctx SUP_UNUSED, struct store *s SUP_UNUSED,
    DB_TXN *txn SUP_UNUSED, json_object *rec, bool *drop)
{
	json_object *to;

	*drop = json_object_object_get_ex(rec, "to", &to) &&
	    strcmp(json_object_get_string(to), "dropif") == 0;
	return SUP_OK;
}

/* A drop by match (an erasure's, a purge's) takes the index entries too. */
static void
test_drop_if(void)
{
	uint8_t last[UUID_LEN], next[UUID_LEN];
	json_object *rows;
	long dropped;
	bool more;

	add_hooks("dropif", 4, last);
	add_hooks("kept", 2, last);
	is_err(outbox_drop_if(&st, match_dropif, NULL, &dropped), SUP_OK,
	    "drop by match");
	is_int(dropped, 4, "  the four of the subscription");
	rows = rows_of("dropif", -1, NULL, 50, &more, next);
	is_int(json_object_array_length(rows), 0, "  none left in the log");
	json_object_put(rows);
	rows = rows_of("kept", -1, NULL, 50, &more, next);
	is_int(json_object_array_length(rows), 2, "  the others' stay");
	json_object_put(rows);
}

static void
report_line(void *ctx SUP_UNUSED, const char *line)
{
	diag("%s", line);
}

int
main(void)
{
	char extra[8192], sfile[4096], sdir[64];
	long problems = 0;

	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_tmpdir(dir, sizeof(dir));
	tap_write_file(sfile, sizeof(sfile), dir, "a.secret",
	    "  a-secret-0123456789ab \n");
	snprintf(extra, sizeof(extra),
	    "[webhook.a]\nurl = http://127.0.0.1:9/a\nevents = ticket.created\n"
	    "secret_file = %s\n"
	    "[webhook.b]\nurl = http://127.0.0.1:9/b\nevents = *\n"
	    "secret = b-secret-0123456789\n"
	    "[webhook.c]\nurl = http://127.0.0.1:9/c\nevents = *\n"
	    "secret = c-secret-0123456789\nenabled = no\n", sfile);
	tap_store_conf(sdir, sizeof(sdir), &conf, extra);
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	make_user("alice", ROLE_USER, &alice);
	make_user("carol", ROLE_AGENT, &carol);
	test_conf();
	test_open();
	test_consume();
	test_paging();
	test_drop_trim();
	test_drop_if();
	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify");
	is_int(problems, 0, "  no problems");
	conf_free(&conf);
	tap_rmtree(sdir);
	tap_rmtree(dir);
	return done_testing();
}
