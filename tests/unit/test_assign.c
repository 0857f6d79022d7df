/*
 * test_assign.c - auto_assign (lib/desk/ticket.c's pick_assignee) and the
 * users' list of available agents (lib/desk/user.c, staff.db), in scratch
 * stores: round robin over three agents (one away, one disabled, wrapping,
 * its position surviving a reopen and a rebuild of the list), least_open
 * by the open counts, nothing available, tickets staff open, and the
 * ticket's record, counts and ticket.created event agreeing.  Each store
 * must pass store_verify at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "counter.h"
#include "event.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "tstore.h"
#include "user.h"
#include "util.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user cust, a1, a2, a3;

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
}

/* A fresh store with a customer and three agents, auto_assign = how. */
static void
setup(const char *how)
{
	char extra[128];

	snprintf(extra, sizeof(extra), "auto_assign = %s\n"
	    "max_tickets_per_user = 0\n", how);
	tap_store_conf(dir, sizeof(dir), &conf, extra);
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	make_user("cust", ROLE_USER, &cust);
	make_user("a1", ROLE_AGENT, &a1);
	make_user("a2", ROLE_AGENT, &a2);
	make_user("a3", ROLE_AGENT, &a3);
}

static void
report_line(void *ctx, const char *line)
{
	(void)ctx;
	diag("verify: %s", line);
}

static void
teardown(const char *what)
{
	long problems = 0;

	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "%s: store_verify", what);
	is_int(problems, 0, "%s: no problems", what);
	user_clear(&cust);
	user_clear(&a1);
	user_clear(&a2);
	user_clear(&a3);
	conf_free(&conf);
	tap_rmtree(dir);
}

/* The last event of the log, parsed (new), or NULL. */
static sup_err
keep_last(void *ctx, int64_t seq SUP_UNUSED, const char *text, size_t len)
{
	json_object **last = ctx;
	char *copy = strndup(text, len);

	json_object_put(*last);
	*last = copy != NULL ? json_tokener_parse(copy) : NULL;
	free(copy);
	return SUP_OK;
}

/*
 * Open a ticket as u; the assignee its record holds (0: nobody), after
 * checking that its ticket.created event says the same.  -1 on failure.
 */
static int64_t
open_ticket(const struct sup_user *u)
{
	struct ticket_new in = { .subject = "help", .subject_len = 4,
		.content = "it broke", .content_len = 8,
		.priority = PRI_NORMAL, .channel = CH_API };
	struct record_ticket t;
	json_object *out = NULL, *ev = NULL, *data, *v;
	int64_t got, said = -2;
	sup_err e;

	if ((e = ticket_create(&st, &conf, u, &in, &out)) != SUP_OK) {
		diag("ticket_create: %s", sup_errname(e));
		return -1;
	}
	json_object_put(out);
	if (ticket_load(&st, NULL, &a1, in.uuid, 0, &t) != SUP_OK)
		return -1;
	got = t.assignee;
	record_ticket_clear(&t);
	if (event_read(&st, 1, 0, keep_last, &ev, NULL) != SUP_OK ||
	    ev == NULL)
		return -1;
	if (json_object_object_get_ex(ev, "data", &data) &&
	    json_object_object_get_ex(data, "assignee", &v))
		said = v == NULL ? 0 : json_object_get_int64(v);
	json_object_put(ev);
	if (said != got) {
		diag("the record's assignee %lld, the event's %lld",
		    (long long)got, (long long)said);
		return -1;
	}
	return got;
}

/* Open n customer tickets; their assignees into got[]. */
static void
open_many(int n, int64_t *got)
{
	for (int i = 0; i < n; i++)
		got[i] = open_ticket(&cust);
}

/* Is got[0..n) the ids want[0..n)?  Both printed in the message. */
static void
assignees(const int64_t *got, const uint32_t *want, int n, const char *what)
{
	char g[128] = "", w[128] = "";
	bool same = true;

	for (int i = 0; i < n; i++) {
		snprintf(g + strlen(g), sizeof(g) - strlen(g), " %lld",
		    (long long)got[i]);
		snprintf(w + strlen(w), sizeof(w) - strlen(w), " %u", want[i]);
		same = same && got[i] == (int64_t)want[i];
	}
	ok(same, "%s: got%s, want%s", what, g, w);
}

/* An agent's tickets in each open state, summed (t_counts). */
static int64_t
open_count(uint32_t id)
{
	int64_t sum = 0, n;

	for (int st_ = ST_OPEN; st_ <= ST_WAITING_FOR_USER; st_++) {
		if (store_tcount_get(&st, NULL, st_, id, &n) != SUP_OK)
			bail_out("store_tcount_get");
		sum += n;
	}
	return sum;
}

static void
test_round_robin(void)
{
	int64_t got[6], rr, before;
	char path[256];
	uint32_t *ids;
	size_t n;

	setup("round_robin");
	is_err(user_available(&st, NULL, &ids, &n), SUP_OK, "user_available");
	ok(n == 3 && ids[0] == a1.id && ids[1] == a2.id && ids[2] == a3.id,
	    "the three agents are available, in id order (%zu)", n);
	free(ids);

	open_many(6, got);
	assignees(got, (uint32_t[]){ a1.id, a2.id, a3.id, a1.id, a2.id,
	    a3.id }, 6, "six tickets go round the three agents");
	is_int(open_count(a1.id), 2, "t_counts: a1 has 2 open");
	is_int(open_count(0), 0, "t_counts: none unassigned");

	is_err(user_set_away(&st, a2.id, a2.id, true), SUP_OK,
	    "a2 marks themself away");
	open_many(3, got);
	assignees(got, (uint32_t[]){ a1.id, a3.id, a1.id }, 3,
	    "a2 away is skipped, wrapping after a3");

	is_err(user_set_active(&st, 0, a3.id, false), SUP_OK, "a3 disabled");
	open_many(2, got);
	assignees(got, (uint32_t[]){ a1.id, a1.id }, 2,
	    "a3 disabled is skipped too: a1 alone");

	is_err(user_set_away(&st, 0, a2.id, false), SUP_OK, "a2 back");
	is_err(user_set_active(&st, 0, a3.id, true), SUP_OK, "a3 enabled");
	open_many(1, got);
	is_int(got[0], a2.id, "back in the turn: after a1, a2");

	/* Staff open a ticket: nobody's, and the turn does not move. */
	is_err(store_count_get(&st, NULL, "rr_last", &before), SUP_OK,
	    "rr_last");
	is_int(open_ticket(&a1), 0, "a ticket staff open is not assigned");
	is_err(store_count_get(&st, NULL, "rr_last", &rr), SUP_OK, "rr_last");
	is_int(rr, before, "  and the position stays");

	/* The position is in the store: a reopen goes on from it. */
	store_close(&st);
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open again");
	is_int(open_ticket(&cust), a3.id, "after a reopen: a3, after a2");

	/* A store from before staff.db: the list is built at open. */
	store_close(&st);
	snprintf(path, sizeof(path), "%s/db/staff.db", dir);
	ok(unlink(path) == 0, "staff.db removed (an older store)");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open after removing staff.db");
	is_err(user_available(&st, NULL, &ids, &n), SUP_OK,
	    "user_available after the build");
	ok(n == 3 && ids[0] == a1.id && ids[2] == a3.id,
	    "  the build lists the three agents again (%zu)", n);
	free(ids);
	is_int(open_ticket(&cust), a1.id, "  and the turn wraps to a1");

	/* Nobody available: the ticket stays unassigned, the turn too. */
	is_err(user_set_away(&st, 0, a1.id, true), SUP_OK, "a1 away");
	is_err(user_set_away(&st, 0, a2.id, true), SUP_OK, "a2 away");
	is_err(user_set_role(&st, 0, a3.id, ROLE_USER), SUP_OK,
	    "a3 made a customer");
	is_err(user_available(&st, NULL, &ids, &n), SUP_OK, "user_available");
	is_int((int64_t)n, 0, "  nobody available");
	free(ids);
	/* The ticket page's list: every active agent, away or not. */
	is_err(user_agents(&st, NULL, &ids, &n), SUP_OK, "user_agents");
	ok(n == 2 && ids[0] == a1.id && ids[1] == a2.id,
	    "  a1 and a2, away, are agents still; a3 is not (%zu)", n);
	free(ids);
	store_close(&st);
	snprintf(path, sizeof(path), "%s/db/agents.db", dir);
	ok(unlink(path) == 0, "agents.db removed (an older store)");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open after removing agents.db");
	is_err(user_agents(&st, NULL, &ids, &n), SUP_OK,
	    "user_agents after the build");
	ok(n == 2 && ids[0] == a1.id && ids[1] == a2.id,
	    "  the build lists a1 and a2 again (%zu)", n);
	free(ids);
	is_err(user_set_active(&st, 0, a2.id, false), SUP_OK, "a2 disabled");
	is_err(user_agents(&st, NULL, &ids, &n), SUP_OK, "user_agents");
	ok(n == 1 && ids[0] == a1.id, "  a disabled agent is not listed (%zu)",
	    n);
	free(ids);
	is_err(user_set_active(&st, 0, a2.id, true), SUP_OK, "a2 enabled");
	is_int(open_ticket(&cust), 0, "no agent available: unassigned");
	is_int(open_count(0), 2,
	    "t_counts: two open unassigned (this one and a1's own)");
	is_err(store_count_get(&st, NULL, "rr_last", &rr), SUP_OK, "rr_last");
	is_int(rr, a1.id, "  the position stays at a1");
	is_err(user_set_role(&st, 0, a3.id, ROLE_ADMIN), SUP_OK,
	    "a3 made an admin");
	is_int(open_ticket(&cust), a3.id, "an admin is an agent too");
	teardown("round robin");
}

static void
test_least_open(void)
{
	struct ticket_patch resolve = { .status = ST_RESOLVED,
		.priority = -1 };
	uint8_t a1_tickets[2][UUID_LEN];
	int64_t got[3];
	json_object *out;
	int k = 0;

	setup("least_open");
	for (int i = 0; i < 4; i++) {
		struct ticket_new in = { .subject = "x", .subject_len = 1,
			.content = "y", .content_len = 1,
			.priority = PRI_LOW, .channel = CH_WEB };
		struct record_ticket t;

		out = NULL;
		if (ticket_create(&st, &conf, &cust, &in, &out) != SUP_OK ||
		    ticket_load(&st, NULL, &a1, in.uuid, 0, &t) != SUP_OK)
			bail_out("ticket_create");
		json_object_put(out);
		got[i < 3 ? i : 2] = t.assignee;
		if (t.assignee == a1.id && k < 2)
			memcpy(a1_tickets[k++], in.uuid, UUID_LEN);
		record_ticket_clear(&t);
		if (i == 2)
			assignees(got, (uint32_t[]){ a1.id, a2.id, a3.id }, 3,
			    "all even: the lowest id, then the next");
	}
	is_int(got[2], a1.id, "the fourth: a tie of three, the lowest id");
	is_int(k, 2, "a1 has two tickets");
	is_int(open_ticket(&cust), a2.id,
	    "a2 and a3 have one each, a1 two: a2");
	is_int(open_ticket(&cust), a3.id, "a3 alone has one: a3");
	is_int(open_count(a1.id), 2, "a1 has two open");
	for (int i = 0; i < 2; i++) {
		out = NULL;
		is_err(ticket_update(&st, &a2, a1_tickets[i], &resolve, &out),
		    SUP_OK, "a1's ticket %d resolved", i + 1);
		json_object_put(out);
	}
	is_int(open_count(a1.id), 0, "a1 has none open");
	is_int(open_ticket(&cust), a1.id, "the emptiest: a1");
	is_err(user_set_away(&st, a1.id, a1.id, true), SUP_OK, "a1 away");
	is_int(open_ticket(&cust), a2.id,
	    "a1 away: a2 (two open, as a3 has)");
	teardown("least open");
}

static void
test_no(void)
{
	setup("no");
	is_int(open_ticket(&cust), 0, "auto_assign = no: unassigned");
	is_int(open_count(0), 1, "t_counts: one open unassigned");
	teardown("no");
}

/* The event of a change of away, and its refusal for nobody. */
static void
test_away_event(void)
{
	json_object *ev = NULL, *changes, *v;
	json_object *rec;

	setup("round_robin");
	is_err(user_set_away(&st, a1.id, a1.id, true), SUP_OK, "a1 away");
	if (event_read(&st, 1, 0, keep_last, &ev, NULL) != SUP_OK ||
	    ev == NULL)
		bail_out("event_read");
	ok(json_object_object_get_ex(ev, "type", &v) &&
	    strcmp(json_object_get_string(v), "user.changed") == 0,
	    "user.changed");
	ok(json_object_object_get_ex(ev, "changes", &changes) &&
	    json_object_object_get_ex(changes, "away", &v) &&
	    strcmp(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
	    "[false,true]") == 0, "  changes: away [false, true] (%s)",
	    json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
	json_object_put(ev);
	is_err(user_get(&st, NULL, a1.id, &rec), SUP_OK, "a1's record");
	ok(user_is_away(rec), "  says away");
	json_object_put(rec);
	is_err(user_set_away(&st, 0, 999, true), SUP_ENOTFOUND,
	    "no such user: SUP_ENOTFOUND");
	teardown("away");
}

int
main(void)
{
	if (sodium_init() < 0)
		bail_out("sodium_init");
	test_round_robin();
	test_least_open();
	test_no();
	test_away_event();
	return done_testing();
}
