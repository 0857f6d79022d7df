/*
 * test_account.c - an administrator's changes to an account
 * (lib/desk/account.c) and what they rest on in lib/desk/user.c and
 * lib/desk/sess.c: switching off ends the sessions and refuses the
 * tokens at once; a password set ends the sessions but the one kept;
 * every token of a user revoked at once; every session ended with its
 * event; the last active admin kept; an account made by an admin names
 * them in its event.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "account.h"
#include "areas.h"
#include "conf.h"
#include "event.h"
#include "sess.h"
#include "store.h"
#include "sup.h"
#include "user.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;
static struct store st;

/* event_read callback: keep the last event read, parsed. */
static sup_err
keep_last(void *ctx, int64_t seq SUP_UNUSED, const char *text, size_t len)
{
	json_object **last = ctx;
	char *c = strndup(text, len);

	json_object_put(*last);
	*last = c != NULL ? json_tokener_parse(c) : NULL;
	free(c);
	return *last != NULL ? SUP_OK : SUP_EDB;
}

/* The last event of the log (json_object_put it), or NULL. */
static json_object *
last_event(void)
{
	json_object *ev = NULL;

	if (event_read(&st, 1, 0, keep_last, &ev, NULL) != SUP_OK) {
		json_object_put(ev);
		return NULL;
	}
	return ev;
}

/* Member name of o as text ("" when missing). */
static const char *
str_of(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) ?
	    json_object_get_string(v) : "";
}

static int64_t
int_of(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) ?
	    json_object_get_int64(v) : -1;
}

static int64_t
last_seq(void)
{
	int64_t seq = 0;

	if (event_last(&st, &seq) != SUP_OK)
		bail_out("event_last");
	return seq;
}

static uint32_t
make(const char *name, enum user_role role)
{
	char email[64];
	uint32_t id;

	snprintf(email, sizeof(email), "%s@example.com", name);
	if (user_create(&st, name, email, NULL, role, "secret-pw", &id) !=
	    SUP_OK)
		bail_out("cannot make %s", name);
	return id;
}

/* Is the session of cookie value id still there? */
static bool
alive(const char *id)
{
	struct sess_info info;
	uint8_t hash[SESS_HASH_LEN];

	return sess_lookup(&st, &conf, id, time_now_us(), &info, hash) ==
	    SUP_OK;
}

static bool
token_works(const char *tok)
{
	json_object *rec = NULL;
	sup_err e = token_lookup(&st, NULL, tok, strlen(tok), &rec);

	json_object_put(rec);
	return e == SUP_OK;
}

static void
test_last_admin(void)
{
	uint32_t boss = make("boss", ROLE_ADMIN), deputy;
	json_object *rec;
	int64_t seq = last_seq();

	is_err(user_set_role(&st, boss, boss, ROLE_AGENT), USER_ELASTADMIN,
	    "the only admin demoting themself: USER_ELASTADMIN");
	is_err(user_set_active(&st, boss, boss, false), USER_ELASTADMIN,
	    "  or switching themself off");
	is_err(account_set_active(&st, boss, boss, false, NULL),
	    USER_ELASTADMIN, "  account_set_active too");
	ok(strcmp(sup_errcode(USER_ELASTADMIN), "last_admin") == 0 &&
	    sup_errkind(USER_ELASTADMIN) == SUP_ECONFLICT,
	    "  code last_admin, a conflict (409)");
	ok(last_seq() == seq, "  no event");
	if (user_get(&st, NULL, boss, &rec) != SUP_OK)
		bail_out("user_get");
	ok(strcmp(str_of(rec, "role"), "admin") == 0 && user_is_active(rec),
	    "  still an active admin");
	json_object_put(rec);
	is_err(user_set_role(&st, boss, boss, ROLE_ADMIN), SUP_OK,
	    "  making themself admin again is no loss");
	is_err(user_set_role(&st, 0, boss, ROLE_AGENT), SUP_OK,
	    "the desk itself (supportctl, actor 0) is not held to it");
	is_err(user_set_role(&st, 0, boss, ROLE_ADMIN), SUP_OK, "  and back");

	deputy = make("deputy", ROLE_ADMIN);
	is_err(user_set_active(&st, deputy, deputy, false), SUP_OK,
	    "with another active admin, one may switch themself off");
	is_err(user_set_role(&st, boss, boss, ROLE_USER), USER_ELASTADMIN,
	    "  and then the other is the last again");
	is_err(user_set_active(&st, boss, deputy, true), SUP_OK,
	    "  until the first is back");
	is_err(user_set_role(&st, boss, boss, ROLE_USER), SUP_OK,
	    "  then the other may go");
	is_err(user_set_role(&st, deputy, deputy, ROLE_AGENT), USER_ELASTADMIN,
	    "  and the remaining one may not");
	is_err(user_set_role(&st, deputy, boss, ROLE_AGENT), SUP_OK,
	    "demoting a non-admin is not held");
}

static void
test_disable(void)
{
	char s1[SESS_ID_STRLEN + 1], s2[SESS_ID_STRLEN + 1];
	uint32_t adm = make("adm", ROLE_ADMIN), gus = make("gus", ROLE_USER);
	char *tok = NULL;
	json_object *ev;
	long ended = -1;

	if (sess_create(&st, gus, NULL, NULL, s1, NULL, NULL) != SUP_OK ||
	    sess_create(&st, gus, NULL, NULL, s2, NULL, NULL) != SUP_OK ||
	    token_create(&st, "gus", "cli", &tok) != SUP_OK)
		bail_out("cannot give gus sessions and a token");
	ok(token_works(tok), "gus's token works (and is cached)");
	is_err(account_set_active(&st, adm, gus, false, &ended), SUP_OK,
	    "account_set_active off");
	is_int(ended, 2, "  both sessions ended");
	ok(!alive(s1) && !alive(s2), "  gone");
	ok(!token_works(tok), "  the token refused at once, cached or not");
	ev = last_event();
	ok(strcmp(str_of(ev, "type"), "user.disabled") == 0 &&
	    int_of(ev, "actor") == adm && int_of(ev, "user") == gus,
	    "  user.disabled by the admin");
	json_object_put(ev);
	if (sess_create(&st, gus, NULL, NULL, s1, NULL, NULL) != SUP_OK)
		bail_out("sess_create");
	is_err(account_set_active(&st, adm, gus, true, &ended), SUP_OK,
	    "account_set_active on");
	is_int(ended, 1, "  a session made while off is ended first");
	ok(token_works(tok), "  the token works again");
	ev = last_event();
	ok(strcmp(str_of(ev, "type"), "user.enabled") == 0,
	    "  user.enabled");
	json_object_put(ev);
	is_err(account_set_active(&st, adm, 999999, false, NULL),
	    SUP_ENOTFOUND, "no such user: SUP_ENOTFOUND");
	free(tok);
}

static void
test_password(void)
{
	char s1[SESS_ID_STRLEN + 1], s2[SESS_ID_STRLEN + 1];
	uint8_t keep[SESS_HASH_LEN];
	uint32_t hal = make("hal", ROLE_USER);
	json_object *rec;
	long ended = -1;

	if (sess_create(&st, hal, NULL, NULL, s1, NULL, keep) != SUP_OK ||
	    sess_create(&st, hal, NULL, NULL, s2, NULL, NULL) != SUP_OK)
		bail_out("cannot give hal sessions");
	is_err(account_set_password(&st, hal, hal, "new-secret", keep,
	    &ended), SUP_OK, "account_set_password keeping one session");
	is_int(ended, 1, "  the other ended");
	ok(alive(s1) && !alive(s2), "  the kept one stays");
	is_err(account_set_password(&st, 1, hal, "newer-secret", NULL,
	    &ended), SUP_OK, "set by another: every session ends");
	ok(!alive(s1), "  gone");
	if (user_get(&st, NULL, hal, &rec) != SUP_OK)
		bail_out("user_get");
	ok(user_verify_password(rec, "newer-secret", 12), "  the password");
	json_object_put(rec);
	is_err(account_set_password(&st, 1, hal, "", NULL, &ended),
	    SUP_EINVAL, "an empty password: SUP_EINVAL");
}

static void
test_revoke_all(void)
{
	char s1[SESS_ID_STRLEN + 1], s2[SESS_ID_STRLEN + 1];
	uint8_t keep[SESS_HASH_LEN];
	uint32_t ivy = make("ivy", ROLE_AGENT);
	char *t1 = NULL, *t2 = NULL, *other = NULL;
	json_object *ev, *list, *data;
	int64_t seq;
	long n = -1;

	make("jo", ROLE_USER);
	if (token_create(&st, "ivy", "a", &t1) != SUP_OK ||
	    token_create(&st, "ivy", "b", &t2) != SUP_OK ||
	    token_create(&st, "jo", "c", &other) != SUP_OK)
		bail_out("cannot make tokens");
	ok(token_works(t1) && token_works(t2) && token_works(other),
	    "three tokens work");
	seq = last_seq();
	is_err(token_revoke_user(&st, 7, ivy, &n), SUP_OK,
	    "token_revoke_user");
	is_int(n, 2, "  ivy's two");
	ok(!token_works(t1) && !token_works(t2), "  refused at once");
	ok(token_works(other), "  jo's untouched");
	is_int(last_seq() - seq, 2, "  two events");
	ev = last_event();
	ok(strcmp(str_of(ev, "type"), "token.revoked") == 0 &&
	    int_of(ev, "actor") == 7 && int_of(ev, "user") == ivy,
	    "  token.revoked by the actor, of ivy");
	json_object_put(ev);
	if (token_list(&st, ivy, &list) != SUP_OK)
		bail_out("token_list");
	is_int((long)json_object_array_length(list), 0, "  none listed");
	json_object_put(list);
	seq = last_seq();
	is_err(token_revoke_user(&st, 7, ivy, &n), SUP_OK, "again");
	ok(n == 0 && last_seq() == seq, "  none, no event");

	if (sess_create(&st, ivy, NULL, NULL, s1, NULL, keep) != SUP_OK ||
	    sess_create(&st, ivy, NULL, NULL, s2, NULL, NULL) != SUP_OK)
		bail_out("cannot give ivy sessions");
	is_err(sess_revoke_user(&st, 7, ivy, keep, &n), SUP_OK,
	    "sess_revoke_user keeping one");
	ok(n == 1 && alive(s1) && !alive(s2), "  the other ended");
	ev = last_event();
	ok(strcmp(str_of(ev, "type"), "sessions.revoked") == 0 &&
	    int_of(ev, "actor") == 7 && int_of(ev, "user") == ivy &&
	    json_object_object_get_ex(ev, "data", &data) &&
	    int_of(data, "count") == 1, "  sessions.revoked with the count");
	json_object_put(ev);
	seq = last_seq();
	is_err(sess_revoke_user(&st, 7, ivy, keep, &n), SUP_OK, "again");
	ok(n == 0 && last_seq() == seq, "  none ended, no event");
	free(t1);
	free(t2);
	free(other);
}

static void
test_created_by(void)
{
	uint32_t id;
	json_object *ev;

	is_err(user_create_by(&st, 42, "kim", "kim@example.com", NULL,
	    ROLE_AGENT, "kim-secret", &id), SUP_OK, "user_create_by");
	ev = last_event();
	ok(strcmp(str_of(ev, "type"), "user.created") == 0 &&
	    int_of(ev, "actor") == 42 && int_of(ev, "user") == id,
	    "  user.created names the actor");
	json_object_put(ev);
	is_err(user_create_by(&st, 42, "lee", "lee@example.com", NULL,
	    (enum user_role)7, "lee-secret", &id), SUP_EINVAL,
	    "  a role out of range: SUP_EINVAL");
}

int
main(void)
{
	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_store_conf(dir, sizeof(dir), &conf, "");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	test_last_admin();
	test_disable();
	test_password();
	test_revoke_all();
	test_created_by();
	store_close(&st);
	conf_free(&conf);
	tap_rmtree(dir);
	return done_testing();
}
