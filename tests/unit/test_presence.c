/*
 * test_presence.c - the agents present on a ticket (lib/desk/presence.c)
 * in a scratch store, with the test clock moved by hand: a staff poll
 * (msg_poll) marks its agent and its tag covers the others present; a
 * mark is written again only after half its life; typing shows, then
 * expires, viewing likewise; a customer's poll neither reads nor writes
 * marks and the presence calls refuse customers; an unknown ticket; a
 * mark removed on leaving; the sweep removes old marks of every ticket.
 * The store must pass store_verify at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "msg.h"
#include "presence.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "user.h"
#include "util.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user cust, ag1, ag2, adm;
static int64_t offset;		/* the test clock's, us */

static void
make_user(const char *name, const char *display, enum user_role role,
    struct sup_user *u)
{
	char email[64];
	json_object *rec;
	uint32_t id;

	snprintf(email, sizeof(email), "%s@example.com", name);
	if (user_create(&st, name, email, display, role, "secret", &id) !=
	    SUP_OK || user_get(&st, NULL, id, &rec) != SUP_OK ||
	    user_from_record(u, rec) != SUP_OK)
		bail_out("cannot make user %s", name);
}

static void
report_line(void *ctx, const char *line)
{
	(void)ctx;
	diag("verify: %s", line);
}

static void
clock_move(double seconds)
{
	offset += (int64_t)(seconds * 1e6);
	time_test_offset(offset);
}

/* A new ticket of the customer, into uuid. */
static void
make_ticket(uint8_t uuid[UUID_LEN])
{
	struct ticket_new in = { .subject = "Presence", .subject_len = 8,
		.content = "Hello", .content_len = 5 };
	json_object *o = NULL;

	if (ticket_create(&st, &conf, &cust, &in, &o) != SUP_OK)
		bail_out("ticket_create");
	json_object_put(o);
	memcpy(uuid, in.uuid, UUID_LEN);
}

/*
 * Poll ticket as u with the tag etag had (empty: none); etag gets the new
 * one.  The status the program would answer: 200, 304, or 0 (an error).
 */
static int
poll(const struct sup_user *u, const uint8_t t[UUID_LEN], char etag[ETAG_MAX])
{
	char old[ETAG_MAX];
	json_object *out = NULL;
	sup_err e;

	snprintf(old, sizeof(old), "%s", etag);
	e = msg_poll(&st, u, t, NULL, old[0] ? old : NULL, etag, &out);
	json_object_put(out);
	if (e != SUP_OK)
		return 0;
	return out != NULL ? 200 : 304;
}

/*
 * The others u sees on t as "name:typing,..." (typing 0 or 1) in buf;
 * "!" and the error's code when presence_show refused.
 */
static const char *
others(const struct sup_user *u, const uint8_t t[UUID_LEN], char *buf,
    size_t n)
{
	json_object *o = NULL, *list, *v, *user, *name;
	sup_err e;

	buf[0] = '\0';
	if ((e = presence_show(&st, u, t, &o)) != SUP_OK) {
		snprintf(buf, n, "!%s", sup_errcode(e));
		return buf;
	}
	if (!json_object_object_get_ex(o, "viewers", &list)) {
		snprintf(buf, n, "?no viewers");
		json_object_put(o);
		return buf;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		v = json_object_array_get_idx(list, i);
		json_object_object_get_ex(v, "user", &user);
		json_object_object_get_ex(user, "username", &name);
		json_object_object_get_ex(v, "typing", &user);
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s:%d",
		    i ? "," : "", json_object_get_string(name),
		    json_object_get_boolean(user));
	}
	json_object_put(o);
	return buf;
}

/* The marks in the store. */
static int64_t
marks(void)
{
	int64_t n = -1;

	if (store_count_db(presence_db(&st), &n) != SUP_OK)
		return -1;
	return n;
}

/* The time of u's mark on t, or -1. */
static int64_t
mark_seen(const struct sup_user *u, const uint8_t t[UUID_LEN])
{
	uint8_t kb[PRESENCE_KEY_LEN];
	DBT k = { .data = kb, .size = sizeof(kb) };
	DBT d = { .flags = DB_DBT_MALLOC };
	int64_t us = -1;

	memcpy(kb, t, UUID_LEN);
	be32_put(kb + UUID_LEN, u->id);
	if (presence_db(&st)->get(presence_db(&st), NULL, &k, &d, 0) == 0) {
		if (d.size == PRESENCE_VAL_LEN)
			us = (int64_t)be64_get(d.data);
		free(d.data);
	}
	return us;
}

static void
test_poll(void)
{
	uint8_t t[UUID_LEN];
	char e1[ETAG_MAX] = "", e2[ETAG_MAX] = "", ec[ETAG_MAX] = "";
	char buf[256], was[ETAG_MAX];
	json_object *o = NULL;
	int64_t seen;

	make_ticket(t);
	is_str(others(&ag1, t, buf, sizeof(buf)), "", "nobody on a new ticket");
	is_int(poll(&ag1, t, e1), 200, "agent 1 polls");
	ok(strstr(e1, "-p") == NULL, "  alone: no presence in the tag: %s",
	    e1);
	is_int(marks(), 1, "  and is marked");
	is_str(others(&ag2, t, buf, sizeof(buf)), "ag1:0",
	    "agent 2 sees agent 1 viewing");
	is_str(others(&ag1, t, buf, sizeof(buf)), "",
	    "agent 1 does not see themself");
	is_int(poll(&ag2, t, e2), 200, "agent 2 polls");
	ok(strstr(e2, "-p") != NULL, "  its tag has the others: %s", e2);
	is_int(poll(&ag2, t, e2), 304, "  again: 304");
	is_int(poll(&ag1, t, e1), 200, "agent 1's tag moved: agent 2 came");

	/* Typing. */
	seen = mark_seen(&ag1, t);
	clock_move(1);
	is_err(presence_set(&st, &ag1, t, PRESENCE_TYPING, &o), SUP_OK,
	    "agent 1 is typing");
	ok(o != NULL && strstr(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN), "\"username\":\"ag2\"") != NULL &&
	    strstr(json_object_to_json_string(o), "ag1") == NULL,
	    "  the answer shows agent 2, not agent 1: %s",
	    o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "");
	json_object_put(o);
	ok(mark_seen(&ag1, t) > seen, "  the signal marks them seen too");
	snprintf(was, sizeof(was), "%s", e2);
	is_int(poll(&ag2, t, e2), 200, "agent 2's poll: 200 (typing)");
	ok(strcmp(was, e2) != 0, "  a new tag");
	is_str(others(&ag2, t, buf, sizeof(buf)), "ag1:1",
	    "  agent 1 is typing");
	is_int(poll(&ag2, t, e2), 304, "  then 304");
	clock_move(PRESENCE_TYPE_US / 1e6 + 0.5);
	is_int(poll(&ag2, t, e2), 200, "typing expired: 200");
	is_str(others(&ag2, t, buf, sizeof(buf)), "ag1:0",
	    "  agent 1 viewing, not typing");
	is_err(presence_set(&st, &ag1, t, PRESENCE_TYPING, &o), SUP_OK,
	    "agent 1 types again");
	json_object_put(o);
	is_err(presence_set(&st, &ag1, t, PRESENCE_VIEWING, &o), SUP_OK,
	    "  and stops");
	json_object_put(o);
	is_str(others(&ag2, t, buf, sizeof(buf)), "ag1:0", "  not typing");

	/* A poll's touch keeps a typing signal. */
	is_err(presence_set(&st, &ag1, t, PRESENCE_TYPING, &o), SUP_OK,
	    "agent 1 types");
	json_object_put(o);
	is_err(presence_touch(&st, &ag1, t), SUP_OK, "  their poll marks them");
	is_str(others(&ag2, t, buf, sizeof(buf)), "ag1:1", "  still typing");

	/* A mark is written again only after half its life. */
	seen = mark_seen(&ag1, t);
	clock_move(PRESENCE_VIEW_US / 2e6 - 1);
	poll(&ag1, t, e1);
	is_int(mark_seen(&ag1, t), seen, "a poll within half the life "
	    "writes nothing");
	clock_move(2);
	poll(&ag1, t, e1);
	ok(mark_seen(&ag1, t) > seen, "  after it, the mark is new");

	/* The customer. */
	int64_t n = marks();
	is_int(poll(&cust, t, ec), 200, "the customer polls");
	ok(strstr(ec, "-p") == NULL && strstr(ec, "-c-") != NULL,
	    "  no presence in their tag: %s", ec);
	is_int(marks(), n, "  and is not marked");
	is_int(poll(&cust, t, ec), 304, "  304 again, agents present");
	is_str(others(&cust, t, buf, sizeof(buf)), "!forbidden",
	    "presence_show refuses a customer");
	is_err(presence_set(&st, &cust, t, PRESENCE_TYPING, &o),
	    SUP_EFORBIDDEN, "presence_set too");
	ok(o == NULL, "  no answer");
	is_err(presence_touch(&st, &cust, t), SUP_EFORBIDDEN,
	    "presence_touch too");
	is_int(marks(), n, "  nothing written");

	/* Bad input. */
	uint8_t none[UUID_LEN] = { 1, 2, 3 };
	is_err(presence_set(&st, &ag1, none, PRESENCE_TYPING, &o),
	    SUP_ENOTFOUND, "an unknown ticket: SUP_ENOTFOUND");
	is_str(others(&ag1, none, buf, sizeof(buf)), "!not_found",
	    "  to presence_show too");
	is_err(presence_set(&st, &ag1, t, (enum presence_mark)7, &o),
	    SUP_EINVAL, "a mark out of range: SUP_EINVAL");
	is_int(marks(), n, "  nothing written");

	/* Leaving, and expiry. */
	is_err(presence_set(&st, &adm, t, PRESENCE_VIEWING, &o), SUP_OK,
	    "the admin opens it");
	is_str(others(&adm, t, buf, sizeof(buf)), "ag1:0,ag2:0",
	    "  and sees both agents, in id order");
	json_object_put(o);
	is_err(presence_set(&st, &adm, t, PRESENCE_GONE, &o), SUP_OK,
	    "the admin leaves");
	json_object_put(o);
	is_int(mark_seen(&adm, t), -1, "  their mark is gone");
	is_str(others(&ag2, t, buf, sizeof(buf)), "ag1:0", "  not shown");
	clock_move(PRESENCE_VIEW_US / 1e6 + 1);
	is_str(others(&ag1, t, buf, sizeof(buf)), "",
	    "after the life of a mark, nobody is shown");
	is_int(poll(&ag1, t, e1), 200, "  agent 1's tag moved");
	ok(strstr(e1, "-p") == NULL, "  back to a tag without others: %s",
	    e1);
}

static void
test_sweep(void)
{
	uint8_t t[10][UUID_LEN];
	json_object *o = NULL;
	int64_t before;

	for (int i = 0; i < 10; i++) {
		make_ticket(t[i]);
		presence_set(&st, &ag2, t[i], PRESENCE_VIEWING, &o);
		json_object_put(o);
	}
	before = marks();
	ok(before >= 10, "ten tickets viewed: %lld marks", (long long)before);
	clock_move(PRESENCE_VIEW_US / 1e6 + 1);
	/* Each write looks at PRESENCE_SWEEP marks, going round. */
	for (int i = 0; i < 2 * (int)(before / PRESENCE_SWEEP + 1); i++) {
		presence_set(&st, &ag1, t[0], PRESENCE_VIEWING, &o);
		json_object_put(o);
	}
	is_int(marks(), 1, "the writes of one mark swept every old one");
}

int
main(void)
{
	long problems = 0;

	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_store_conf(dir, sizeof(dir), &conf, "max_tickets_per_user = 0\n");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	make_user("cust", "Carol Customer", ROLE_USER, &cust);
	make_user("ag1", NULL, ROLE_AGENT, &ag1);
	make_user("ag2", "Agent Two", ROLE_AGENT, &ag2);
	make_user("adm", NULL, ROLE_ADMIN, &adm);
	test_poll();
	test_sweep();
	user_clear(&cust);
	user_clear(&ag1);
	user_clear(&ag2);
	user_clear(&adm);
	store_close(&st);
	time_test_offset(0);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify");
	is_int(problems, 0, "  no problems");
	tap_rmtree(dir);
	return done_testing();
}
