/*
 * test_sess.c - sessions, CSRF tokens and login throttling (lib/desk/sess.c):
 * create and look up, idle and absolute expiry, a new id at every login,
 * logout, ending a user's other sessions, purge, the constant-time token
 * comparison, the cookies, and the throttle windows.  Times are passed in,
 * so nothing here sleeps.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "req.h"
#include "areas.h"
#include "sess.h"
#include "store.h"
#include "sup.h"
#include "user.h"

#include "tap.h"

#define S 1000000LL	/* a second in microseconds */

static char dir[64];
static struct sup_conf conf;
static struct store st;
static uint32_t alice, bob;

/* Does any key or value of sessions.db hold text? */
static bool
stored_anywhere(const char *text)
{
	DBC *c;
	DBT k = { 0 }, d = { 0 };
	size_t n = strlen(text);
	bool found = false;

	if ((*store_db_find(&st, "sessions.db"))->cursor(*store_db_find(&st, "sessions.db"), NULL, &c, 0) != 0)
		bail_out("cursor");
	while (c->get(c, &k, &d, DB_NEXT) == 0)
		if (memmem(k.data, k.size, text, n) != NULL ||
		    memmem(d.data, d.size, text, n) != NULL)
			found = true;
	c->close(c);
	return found;
}

static void
test_tokens(void)
{
	char a[CSRF_TOKEN_STRLEN + 1], b[CSRF_TOKEN_STRLEN + 1];
	char c[CSRF_TOKEN_STRLEN + 1];

	cookie_new_token(a);
	cookie_new_token(b);
	ok(cookie_token_valid(a) && strlen(a) == 64, "token: 64 hex digits");
	ok(strcmp(a, b) != 0, "token: two tokens differ");
	ok(cookie_token_equal(a, a), "token_equal: the same token");
	memcpy(c, a, sizeof(c));
	c[63] = c[63] == '0' ? '1' : '0';
	ok(!cookie_token_equal(c, a), "token_equal: the last digit differs");
	ok(!cookie_token_equal(NULL, a), "token_equal: none sent");
	ok(!cookie_token_equal("", a), "token_equal: an empty one");
	ok(!cookie_token_equal("abc", "abc"), "token_equal: short tokens never "
	    "match");
	c[63] = 'g';
	ok(!cookie_token_valid(c), "token_valid: not hex");
}

static void
test_create_lookup(void)
{
	char id[SESS_ID_STRLEN + 1], id2[SESS_ID_STRLEN + 1];
	char csrf[CSRF_TOKEN_STRLEN + 1], bad[SESS_ID_STRLEN + 1];
	uint8_t hash[SESS_HASH_LEN], h2[SESS_HASH_LEN];
	struct sess_info info;
	int64_t now = time_now_us();

	is_err(sess_create(&st, alice, "192.0.2.1", "Mozilla/5.0", id, csrf,
	    hash), SUP_OK, "create");
	is_int((long)strlen(id), SESS_ID_STRLEN, "create: a 43-character id");
	ok(cookie_token_valid(csrf), "create: a CSRF token");
	ok(!stored_anywhere(id), "create: the id itself is stored nowhere");
	ok(stored_anywhere("192.0.2.1") && stored_anywhere("Mozilla/5.0"),
	    "create: the address and the user agent are kept");

	is_err(sess_lookup(&st, &conf, id, now + S, &info, h2), SUP_OK,
	    "lookup: found");
	is_int(info.user, alice, "lookup: the user");
	is_str(info.csrf, csrf, "lookup: the CSRF token");
	ok(memcmp(hash, h2, SESS_HASH_LEN) == 0, "lookup: the same key");

	memcpy(bad, id, sizeof(bad));
	bad[0] = bad[0] == 'A' ? 'B' : 'A';
	is_err(sess_lookup(&st, &conf, bad, now, &info, h2), SUP_ENOTFOUND,
	    "lookup: another id");
	is_err(sess_lookup(&st, &conf, "short", now, &info, h2), SUP_ENOTFOUND,
	    "lookup: a malformed id");
	is_err(sess_lookup(&st, &conf, "", now, &info, h2), SUP_ENOTFOUND,
	    "lookup: an empty id");
	bad[10] = '*';
	is_err(sess_lookup(&st, &conf, bad, now, &info, h2), SUP_ENOTFOUND,
	    "lookup: not base64url");

	is_err(sess_create(&st, alice, NULL, NULL, id2, NULL, NULL), SUP_OK,
	    "create: a second session");
	ok(strcmp(id, id2) != 0, "create: a new id every time");

	is_err(sess_delete(&st, hash), SUP_OK, "delete (log out)");
	is_err(sess_lookup(&st, &conf, id, now + S, &info, h2), SUP_ENOTFOUND,
	    "delete: the session is gone");
	is_err(sess_delete(&st, hash), SUP_OK, "delete: twice is fine");
	is_err(sess_lookup(&st, &conf, id2, now + S, &info, h2), SUP_OK,
	    "delete: the other session stays");
}

static void
test_expiry(void)
{
	char id[SESS_ID_STRLEN + 1];
	uint8_t hash[SESS_HASH_LEN];
	struct sess_info info;
	int64_t t0 = time_now_us();
	int64_t t;
	bool alive = true;

	/* session_idle_s = 100, session_max_s = 1000. */
	sess_create(&st, alice, NULL, NULL, id, NULL, NULL);
	is_err(sess_lookup(&st, &conf, id, t0 + 30 * S, &info, hash), SUP_OK,
	    "idle: used after 30 s");
	ok(info.seen_us < t0 + S, "idle: last_seen not written before "
	    "idle/2 (50 s) has passed");
	is_err(sess_lookup(&st, &conf, id, t0 + 60 * S, &info, hash), SUP_OK,
	    "idle: used after 60 s");
	ok(info.seen_us == t0 + 60 * S, "idle: last_seen written after 50 s");
	is_err(sess_lookup(&st, &conf, id, t0 + 155 * S, &info, hash), SUP_OK,
	    "idle: 95 s after the last use: still alive");
	is_err(sess_lookup(&st, &conf, id, t0 + 256 * S, &info, hash),
	    SUP_ENOTFOUND, "idle: 101 s after the last use: expired");
	is_err(sess_lookup(&st, &conf, id, t0 + 157 * S, &info, hash),
	    SUP_ENOTFOUND, "idle: an expired session is deleted when met");

	sess_create(&st, alice, NULL, NULL, id, NULL, NULL);
	for (t = 60; t <= 990 && alive; t += 60)
		alive = sess_lookup(&st, &conf, id, t0 + t * S, &info,
		    hash) == SUP_OK;
	ok(alive, "absolute: used every minute, alive for 990 s");
	is_err(sess_lookup(&st, &conf, id, t0 + 1010 * S, &info, hash),
	    SUP_ENOTFOUND, "absolute: ended 1000 s after it began, though "
	    "in use");
}

static void
test_end_user(void)
{
	char a1[SESS_ID_STRLEN + 1], a2[SESS_ID_STRLEN + 1];
	char a3[SESS_ID_STRLEN + 1], b1[SESS_ID_STRLEN + 1];
	uint8_t keep[SESS_HASH_LEN], h[SESS_HASH_LEN];
	struct sess_info info;
	int64_t now = time_now_us();
	long ended = -1;

	/* Start clean: the other tests left sessions of alice. */
	sess_end_user(&st, alice, NULL, NULL);
	sess_create(&st, alice, NULL, NULL, a1, NULL, keep);
	sess_create(&st, alice, NULL, NULL, a2, NULL, NULL);
	sess_create(&st, alice, NULL, NULL, a3, NULL, NULL);
	sess_create(&st, bob, NULL, NULL, b1, NULL, NULL);
	is_err(sess_end_user(&st, alice, keep, &ended), SUP_OK,
	    "end_user: alice's other sessions");
	is_int(ended, 2, "end_user: two ended");
	is_err(sess_lookup(&st, &conf, a1, now, &info, h), SUP_OK,
	    "end_user: the kept one stays");
	is_err(sess_lookup(&st, &conf, a2, now, &info, h), SUP_ENOTFOUND,
	    "end_user: another is gone");
	is_err(sess_lookup(&st, &conf, a3, now, &info, h), SUP_ENOTFOUND,
	    "end_user: the third is gone");
	is_err(sess_lookup(&st, &conf, b1, now, &info, h), SUP_OK,
	    "end_user: bob's session stays");
	is_err(sess_end_user(&st, alice, NULL, &ended), SUP_OK,
	    "end_user: all of them");
	is_int(ended, 1, "end_user: the last one ended");
	is_err(sess_lookup(&st, &conf, a1, now, &info, h), SUP_ENOTFOUND,
	    "end_user: the kept one too, now");
}

static void
test_purge(void)
{
	char old[SESS_ID_STRLEN + 1];
	uint8_t h[SESS_HASH_LEN];
	struct sess_info info;
	int64_t now = time_now_us();
	long removed = -1;

	sess_create(&st, bob, NULL, NULL, old, NULL, NULL);
	is_err(sess_purge(&st, &conf, now, &removed), SUP_OK,
	    "purge: nothing old");
	is_int(removed, 0, "purge: nothing removed");
	is_err(sess_lookup(&st, &conf, old, now, &info, h), SUP_OK,
	    "purge: a live session stays");
	/* Two thousand seconds on, every session is past session_max_s. */
	is_err(sess_purge(&st, &conf, now + 2000 * S, &removed), SUP_OK,
	    "purge: later");
	ok(removed >= 2, "purge: the sessions went (%ld records)", removed);
	ok(!stored_anywhere("\"user\""), "purge: no session record left");
	is_err(sess_lookup(&st, &conf, old, now, &info, h), SUP_ENOTFOUND,
	    "purge: the purged session is gone");

	/* More than two batches (PURGE_BATCH 200 records each). */
	for (int i = 0; i < 450; i++)
		if (sess_create(&st, bob, NULL, NULL, old, NULL, NULL) !=
		    SUP_OK)
			bail_out("sess_create %d", i);
	is_err(sess_purge(&st, &conf, now + 2000 * S, &removed), SUP_OK,
	    "purge: 450 sessions");
	is_int(removed, 450, "purge: every one of them, counted once");
	ok(!stored_anywhere("\"user\""), "purge: no session record left");
}

static void
test_throttle(void)
{
	json_object *rec;
	int64_t t0 = time_now_us();
	long wait = 0;

	/* login_fails_account = 2, login_fails_address = 4, window 60 s. */
	is_err(sess_login(&st, &conf, "alice", "alice-password", 14,
	    "198.51.100.1", t0, &wait, &rec), SUP_OK, "login: right password");
	ok(rec != NULL, "login: the user's record");
	json_object_put(rec);
	is_err(sess_login(&st, &conf, "alice", "wrong", 5, "198.51.100.1", t0,
	    &wait, &rec), SESS_ECREDS, "login: wrong password");
	ok(rec == NULL, "login: no record on failure");
	is_err(sess_login(&st, &conf, "ALICE@example.com", "alice-password",
	    14, "198.51.100.1", t0 + S, &wait, &rec), SUP_OK,
	    "login: success, by e-mail");
	json_object_put(rec);
	is_err(sess_login(&st, &conf, "alice", "wrong", 5, "198.51.100.1",
	    t0 + 2 * S, &wait, &rec), SESS_ECREDS,
	    "login: one failure after a success (the count was cleared)");
	is_err(sess_login(&st, &conf, "alice", "alice-password", 14,
	    "198.51.100.1", t0 + 2 * S, &wait, &rec), SUP_OK,
	    "login: under the limit after a success cleared the count");
	json_object_put(rec);

	sess_login(&st, &conf, "alice", "wrong", 5, "198.51.100.2", t0, &wait,
	    &rec);
	sess_login(&st, &conf, "alice@example.com", "wrong", 5,
	    "198.51.100.3", t0 + S, &wait, &rec);
	is_err(sess_login(&st, &conf, "alice", "alice-password", 14,
	    "198.51.100.4", t0 + 10 * S, &wait, &rec), SESS_ETHROTTLE,
	    "throttle: two failures (by name and by e-mail, from two "
	    "addresses) lock the account");
	ok(rec == NULL, "throttle: no record");
	is_int(wait, 50, "throttle: Retry-After is the rest of the window");
	is_err(sess_login(&st, &conf, "bob", "bob-password", 12,
	    "198.51.100.4", t0 + 10 * S, &wait, &rec), SUP_OK,
	    "throttle: another account is not locked");
	json_object_put(rec);
	is_err(sess_login(&st, &conf, "alice", "alice-password", 14,
	    "198.51.100.4", t0 + 61 * S, &wait, &rec), SUP_OK,
	    "throttle: after the window the account logs in again");
	json_object_put(rec);

	/* Four failures from one address, each for another name. */
	static const char *const names[] = { "nobody1", "nobody2", "nobody3",
		"nobody4" };
	for (size_t i = 0; i < SUP_NELEM(names); i++)
		sess_login(&st, &conf, names[i], "x", 1, "203.0.113.9",
		    t0 + (int64_t)i * S, &wait, &rec);
	is_err(sess_login(&st, &conf, "bob", "bob-password", 12,
	    "203.0.113.9", t0 + 5 * S, &wait, &rec), SESS_ETHROTTLE,
	    "throttle: the address is locked after 4 failures");
	is_int(wait, 55, "throttle: Retry-After of the address window");
	is_err(sess_login(&st, &conf, "bob", "bob-password", 12,
	    "203.0.113.10", t0 + 5 * S, &wait, &rec), SUP_OK,
	    "throttle: another address is not");
	json_object_put(rec);
	is_err(sess_login(&st, &conf, "nobody1", "x", 1, "203.0.113.11", t0,
	    &wait, &rec), SESS_ECREDS,
	    "throttle: an unknown name fails as a wrong password does");

	long removed = 0;
	is_err(sess_purge(&st, &conf, t0 + 3600 * S, &removed), SUP_OK,
	    "purge: throttle records past their window");
	ok(removed >= 5, "purge: they went (%ld)", removed);
}

/* Switch the account id off, as an admin does (is_active false). */
static void
deactivate(uint32_t id)
{
	json_object *rec;
	uint8_t key[4];

	if (user_get(&st, NULL, id, &rec) != SUP_OK)
		bail_out("user_get %u", id);
	json_object_object_add(rec, "is_active", json_object_new_boolean(0));
	be32_put(key, id);
	if (store_put(*store_db_find(&st, "users.db"), NULL, key, sizeof(key), rec, 0) != SUP_OK)
		bail_out("store_put");
	json_object_put(rec);
}

/*
 * Every refused login costs one argon2id verification of the same cost,
 * whatever the account (DESIGN §6): the time of an answer does not tell an
 * unknown name from a wrong password.  Counted, not timed.
 */
static void
test_one_verification(void)
{
	static const struct {
		const char *name, *password, *why;
		sup_err want;
	} cases[] = {
		{ "carol", "wrong", "a wrong password", SESS_ECREDS },
		{ "nobody-at-all", "x", "an unknown name", SESS_ECREDS },
		{ "dan", "", "an account without a password (REMOTE_USER)",
			SESS_ECREDS },
		{ "dan", "anything", "  the same with a password typed",
			SESS_ECREDS },
		{ "erin", "erin-password", "an inactive account, right password",
			SESS_ECREDS },
		{ "carol", "carol-password", "the right password", SUP_OK },
	};
	json_object *rec;
	uint32_t erin;
	long wait;
	char addr[32];

	if (user_create(&st, "carol", "carol@example.com", NULL, ROLE_USER,
	    "carol-password", NULL) != SUP_OK ||
	    user_create(&st, "dan", "", NULL, ROLE_USER, NULL, NULL) !=
	    SUP_OK ||
	    user_create(&st, "erin", "erin@example.com", NULL, ROLE_USER,
	    "erin-password", &erin) != SUP_OK)
		bail_out("user_create");
	deactivate(erin);
	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		unsigned long before = user_verifications();
		snprintf(addr, sizeof(addr), "192.0.2.%zu", i + 1);
		is_err(sess_login(&st, &conf, cases[i].name, cases[i].password,
		    strlen(cases[i].password), addr, time_now_us(), &wait,
		    &rec), cases[i].want, "one verification: %s", cases[i].why);
		is_int((long)(user_verifications() - before), 1,
		    "  exactly one argon2id verification");
		json_object_put(rec);
	}
	/* dan's two failures reached the limit of 2: no verification now. */
	unsigned long before = user_verifications();
	is_err(sess_login(&st, &conf, "dan", "x", 1, "192.0.2.99",
	    time_now_us(), &wait, &rec), SESS_ETHROTTLE,
	    "one verification: a throttled login");
	is_int((long)(user_verifications() - before), 0, "  makes none");
}

/*
 * n processes log in at once with a wrong password, as n parallel
 * requests reach n workers: process i as name(i) from addr(i).  Each one's
 * result is counted into ecreds (a password checked and refused),
 * throttled and other; verifications gets the argon2id checks made.
 */
static void
login_at_once(int n, const char *name_fmt, const char *addr_fmt, int *ecreds,
    int *throttled, int *other, int *verified)
{
	pid_t kids[16];
	int go[2];

	*ecreds = *throttled = *other = *verified = 0;
	if (n > 16 || pipe(go) != 0)
		bail_out("pipe");
	for (int i = 0; i < n; i++)
		if ((kids[i] = fork()) == 0) {
			struct store mine;
			json_object *rec;
			char name[64], addr[64], c;
			unsigned long before;
			long wait;
			sup_err e;

			close(go[1]);
			snprintf(name, sizeof(name), name_fmt, i);
			snprintf(addr, sizeof(addr), addr_fmt, i);
			if (store_open(&mine, &conf, desk_areas) != SUP_OK)
				_exit(9);
			/* All start when the parent closes the pipe. */
			if (read(go[0], &c, 1) != 0)
				_exit(9);
			before = user_verifications();
			e = sess_login(&mine, &conf, name, "wrong", 5, addr,
			    time_now_us(), &wait, &rec);
			store_close(&mine);
			_exit((e == SESS_ECREDS ? 1 : e == SESS_ETHROTTLE ? 2 : 3) *
			    10 + (int)(user_verifications() - before));
		}
	close(go[0]);
	usleep(200000);		/* every child has opened the store */
	close(go[1]);
	for (int i = 0; i < n; i++) {
		int status, code;
		if (waitpid(kids[i], &status, 0) != kids[i] ||
		    !WIFEXITED(status)) {
			(*other)++;
			continue;
		}
		code = WEXITSTATUS(status);
		*verified += code % 10;
		if (code / 10 == 1)
			(*ecreds)++;
		else if (code / 10 == 2)
			(*throttled)++;
		else
			(*other)++;
	}
}

/*
 * The limits hold exactly under concurrency: the attempt is reserved in
 * the transaction that reads the count, so 12 parallel wrong passwords
 * for one account (limit 2) check two passwords, and 12 for twelve names
 * from one address (limit 4) check four.
 */
static void
test_parallel_throttle(void)
{
	int ecreds, throttled, other, verified;

	if (user_create(&st, "frank", "frank@example.com", NULL, ROLE_USER,
	    "frank-password", NULL) != SUP_OK)
		bail_out("user_create");
	login_at_once(12, "frank", "198.18.0.%d", &ecreds, &throttled, &other,
	    &verified);
	is_int(verified, 2, "12 parallel wrong passwords for one account "
	    "(limit 2): 2 verifications");
	is_int(ecreds, 2, "  2 refused as wrong");
	is_int(throttled, 10, "  10 throttled");
	is_int(other, 0, "  no other answer");

	login_at_once(12, "parallel-%d", "198.18.1.1", &ecreds, &throttled,
	    &other, &verified);
	is_int(verified, 4, "12 parallel logins from one address (limit 4): "
	    "4 verifications");
	is_int(ecreds, 4, "  4 refused as wrong");
	is_int(throttled, 8, "  8 throttled");
	is_int(other, 0, "  no other answer");
}

/* A request with envp, for the cookie tests. */
static void
fake_request(struct sup_req *r, char **envp)
{
	struct sup_io io = { NULL, NULL, NULL };

	if (req_parse(r, envp, io, NULL) != SUP_OK)
		bail_out("req_parse");
}

static void
test_cookies(void)
{
	char *plain[] = { "REQUEST_METHOD=GET", NULL };
	char *https[] = { "REQUEST_METHOD=GET", "HTTPS=on", NULL };
	char *scheme[] = { "REQUEST_METHOD=GET", "REQUEST_SCHEME=https", NULL };
	char *hdr[] = { "HTTP_X_CSRFTOKEN=abc", NULL };
	struct sup_conf prefixed = conf;
	struct sup_req r;

	fake_request(&r, plain);
	is_err(cookie_set(&r, &conf, "ID", "TOKEN"), SUP_OK,
	    "cookies: set");
	ok(r.headers.p != NULL && strstr(r.headers.p, "Set-Cookie: "
	    "sessionid=ID; Max-Age=1000; HttpOnly; Path=/; SameSite=Lax\r\n")
	    != NULL, "cookies: sessionid HttpOnly, Lax, Path=/, lasting "
	    "session_max_s");
	ok(r.headers.p != NULL && strstr(r.headers.p, "Set-Cookie: "
	    "csrftoken=TOKEN; Max-Age=31449600; Path=/; SameSite=Lax\r\n") !=
	    NULL, "cookies: csrftoken readable by scripts, Lax");
	ok(strstr(r.headers.p, "Secure") == NULL, "cookies: no Secure over "
	    "HTTP");
	req_free(&r);

	fake_request(&r, https);
	cookie_set(&r, &conf, "ID", "TOKEN");
	ok(r.headers.p && strstr(r.headers.p, "SameSite=Lax; Secure\r\n"),
	    "cookies: Secure when HTTPS=on");
	req_free(&r);
	fake_request(&r, scheme);
	cookie_clear(&r, &conf);
	ok(r.headers.p && strstr(r.headers.p, "sessionid=; Max-Age=0; "
	    "HttpOnly; Path=/; SameSite=Lax; Secure\r\n"),
	    "cookies: clear, Secure when REQUEST_SCHEME=https");
	req_free(&r);

	prefixed.url_prefix = "/desk";
	fake_request(&r, plain);
	cookie_set(&r, &prefixed, NULL, "TOKEN");
	ok(r.headers.p && strstr(r.headers.p, "Path=/desk/;") &&
	    strstr(r.headers.p, "sessionid") == NULL,
	    "cookies: Path is the url_prefix; no sessionid when id is NULL");
	req_free(&r);

	fake_request(&r, hdr);
	is_str(cookie_sent_token(&r), "abc", "sent token: X-CSRFToken");
	req_free(&r);
	fake_request(&r, plain);
	ok(cookie_sent_token(&r) == NULL, "sent token: none");
	req_free(&r);
}

int
main(void)
{
	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_store_conf(dir, sizeof(dir), &conf, "session_idle_s = 100\n"
	    "session_max_s = 1000\nlogin_fails_account = 2\n"
	    "login_fails_address = 4\nlogin_window_s = 60\n");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	if (user_create(&st, "alice", "alice@example.com", NULL, ROLE_USER,
	    "alice-password", &alice) != SUP_OK ||
	    user_create(&st, "bob", "bob@example.com", NULL, ROLE_USER,
	    "bob-password", &bob) != SUP_OK)
		bail_out("user_create");
	test_tokens();
	test_create_lookup();
	test_expiry();
	test_end_user();
	test_purge();
	test_throttle();
	test_one_verification();
	test_parallel_throttle();
	test_cookies();
	store_close(&st);
	conf_free(&conf);
	tap_rmtree(dir);
	return done_testing();
}
