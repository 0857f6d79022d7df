/*
 * test_saved.c - the agents' saved views (lib/desk/saved.c) and the
 * queue's counts (ticket_counts, lib/desk/ticket.c) in a scratch store:
 * create, list (each agent their own, in the order made), delete (another
 * agent's is not found), the name's limits and uniqueness per agent (any
 * case), SAVED_MAX, a customer refused; then the counts of the queue's
 * views against what ticket_list finds, after tickets move, and none for
 * a query the counters cannot answer.  The store must pass store_verify
 * at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "saved.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "user.h"
#include "util.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user cust, ag1, ag2;

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

static void
report_line(void *ctx, const char *line)
{
	(void)ctx;
	diag("verify: %s", line);
}

static int64_t
int_of(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) ?
	    json_object_get_int64(v) : -1;
}

static const char *
str_of(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && v != NULL ?
	    json_object_get_string(v) : NULL;
}

/* Save a view as u: its id, or 0 (the error in *ep). */
static uint32_t
save(const struct sup_user *u, const char *name, const char *query,
    sup_err *ep, struct saved_why *why)
{
	json_object *out = NULL;
	uint32_t id = 0;

	*ep = saved_create(&st, u, name, query, why, &out);
	if (*ep == SUP_OK)
		id = (uint32_t)int_of(out, "id");
	json_object_put(out);
	return id;
}

static size_t
count_views(const struct sup_user *u)
{
	json_object *arr = NULL;
	size_t n;

	if (saved_list(&st, u, &arr) != SUP_OK)
		return (size_t)-1;
	n = json_object_array_length(arr);
	json_object_put(arr);
	return n;
}

static void
test_saved(void)
{
	struct saved_why why;
	json_object *arr = NULL, *out = NULL;
	char name[160];
	uint32_t a, b, c;
	sup_err e;

	a = save(&ag1, "Urgent", "priority=urgent", &e, &why);
	is_err(e, SUP_OK, "save a view");
	b = save(&ag1, "Mine waiting", "status=waiting_for_user&assignee=me",
	    &e, &why);
	is_err(e, SUP_OK, "save another");
	ok(a != 0 && b > a, "ids from the sequence, growing");
	c = save(&ag2, "urgent", "", &e, &why);
	is_err(e, SUP_OK, "another agent may use the same name");
	is_err(saved_list(&st, &ag1, &arr), SUP_OK, "list");
	is_int(json_object_array_length(arr), 2, "  ag1 has two");
	is_str(str_of(json_object_array_get_idx(arr, 0), "name"), "Urgent",
	    "  in the order made");
	is_str(str_of(json_object_array_get_idx(arr, 1), "query"),
	    "status=waiting_for_user&assignee=me", "  the query as given");
	ok(str_of(json_object_array_get_idx(arr, 0), "created_at") != NULL,
	    "  created_at");
	json_object_put(arr);
	is_int(count_views(&ag2), 1, "ag2 has one");

	save(&ag1, "URGENT", "", &e, &why);
	is_err(e, SUP_EEXIST, "a name taken, in another case: refused");
	is_str(why.field, "name", "  naming name");
	save(&ag1, "", "", &e, &why);
	is_err(e, SUP_EINVAL, "an empty name");
	memset(name, 'x', 61);
	name[61] = '\0';
	save(&ag1, name, "", &e, &why);
	is_err(e, SUP_EINVAL, "61 characters");
	name[60] = '\0';
	save(&ag1, name, "", &e, &why);
	is_err(e, SUP_OK, "60 characters");
	/* 60 characters of two bytes each. */
	name[0] = '\0';
	for (int i = 0; i < 60; i++)
		strcat(name, "\xc3\xa9");
	save(&ag1, name, "", &e, &why);
	is_err(e, SUP_OK, "60 characters of UTF-8");
	save(&ag1, "tab\there", "", &e, &why);
	is_err(e, SUP_EINVAL, "a control character");
	{
		char *q = malloc(SAVED_QUERY_MAX + 2);
		memset(q, 'q', SAVED_QUERY_MAX + 1);
		q[SAVED_QUERY_MAX + 1] = '\0';
		save(&ag1, "long", q, &e, &why);
		is_err(e, SUP_EINVAL, "a query too long");
		is_str(why.field, "query", "  naming query");
		free(q);
	}
	is_err(saved_create(&st, &cust, "mine", "", &why, &out),
	    SUP_EFORBIDDEN, "a customer saves none");
	is_err(saved_list(&st, &cust, &out), SUP_EFORBIDDEN,
	    "a customer lists none");
	is_err(saved_delete(&st, &cust, a), SUP_EFORBIDDEN,
	    "a customer deletes none");

	is_err(saved_delete(&st, &ag2, a), SUP_ENOTFOUND,
	    "another agent's view: not found");
	is_int(count_views(&ag1), 4, "  still there");
	is_err(saved_delete(&st, &ag1, a), SUP_OK, "delete one's own");
	is_err(saved_delete(&st, &ag1, a), SUP_ENOTFOUND, "  once");
	is_err(saved_delete(&st, &ag1, 999999), SUP_ENOTFOUND,
	    "an unknown id");
	is_int(count_views(&ag1), 3, "three left");
	is_int(count_views(&ag2), 1, "ag2's untouched");

	for (size_t i = count_views(&ag2); i < SAVED_MAX; i++) {
		snprintf(name, sizeof(name), "View %zu", i);
		if (save(&ag2, name, "status=closed", &e, &why) == 0)
			break;
	}
	is_int(count_views(&ag2), SAVED_MAX, "SAVED_MAX views");
	save(&ag2, "one more", "", &e, &why);
	is_err(e, SUP_ECONFLICT, "one more: refused");
	is_err(saved_delete(&st, &ag2, c), SUP_OK, "delete one");
	save(&ag2, "one more", "", &e, &why);
	is_err(e, SUP_OK, "  then one more fits");
}

/* Open a ticket for cust; its uuid in uuid. */
static void
open_ticket(int priority, uint8_t uuid[UUID_LEN])
{
	struct ticket_new in = { .subject = "help", .subject_len = 4,
		.content = "it broke", .content_len = 8,
		.priority = priority, .channel = CH_API };
	json_object *out = NULL;

	if (ticket_create(&st, &conf, &cust, &in, &out) != SUP_OK)
		bail_out("ticket_create");
	json_object_put(out);
	memcpy(uuid, in.uuid, UUID_LEN);
}

static void
move(const uint8_t uuid[UUID_LEN], int status, bool assign,
    uint32_t assignee)
{
	struct ticket_patch p = { .status = status, .priority = -1,
		.set_assignee = assign, .assignee = assignee };
	json_object *out = NULL;

	if (ticket_update(&st, &ag1, uuid, &p, &out) != SUP_OK)
		bail_out("ticket_update");
	json_object_put(out);
}

static struct ticket_query
query(unsigned mask, int assignee, int priority)
{
	return (struct ticket_query){ .status_mask = mask,
		.has_assignee = assignee >= 0,
		.assignee = assignee > 0 ? (uint32_t)assignee : 0,
		.priority = priority, .order = ORDER_UPDATED, .desc = true,
		.page = 1, .page_size = 20 };
}

#define S(st) (1u << (st))
#define NQ 7

/* Each count of ticket_counts against the count ticket_list finds. */
static void
check_counts(const char *when)
{
	struct ticket_query q[NQ] = {
		query(0, -1, -1),
		query(S(ST_OPEN) | S(ST_WAITING_FOR_ADMIN), 0, -1),
		query(S(ST_OPEN) | S(ST_WAITING_FOR_ADMIN) |
		    S(ST_WAITING_FOR_USER), (int)ag1.id, -1),
		query(S(ST_OPEN) | S(ST_WAITING_FOR_ADMIN), -1, -1),
		query(S(ST_WAITING_FOR_USER), -1, -1),
		query(S(ST_RESOLVED), -1, -1),
		query(0, (int)ag2.id, -1),
	};
	int64_t counts[NQ];
	json_object *page;

	is_err(ticket_counts(&st, &ag1, q, NQ, counts), SUP_OK,
	    "ticket_counts %s", when);
	for (int i = 0; i < NQ; i++) {
		if (ticket_list(&st, &ag1, &q[i], &page) != SUP_OK)
			bail_out("ticket_list");
		is_int(counts[i], int_of(page, "count"), "  query %d", i);
		json_object_put(page);
	}
}

static void
test_counts(void)
{
	uint8_t t[6][UUID_LEN];
	struct ticket_query q[2] = { query(S(ST_OPEN), -1, PRI_URGENT),
		query(0, -1, -1) };
	int64_t counts[2];

	for (int i = 0; i < 6; i++)
		open_ticket(i % 2 ? PRI_URGENT : PRI_LOW, t[i]);
	check_counts("after six new tickets");
	move(t[0], -1, true, ag1.id);
	move(t[1], ST_WAITING_FOR_USER, true, ag1.id);
	move(t[2], ST_WAITING_FOR_USER, true, ag2.id);
	move(t[3], ST_RESOLVED, false, 0);
	move(t[4], ST_CLOSED, true, ag2.id);
	check_counts("after moves of status and assignee");
	move(t[1], ST_OPEN, true, 0);
	check_counts("after one back");

	q[1].q = "help";
	q[1].q_len = 4;
	is_err(ticket_counts(&st, &ag1, q, 2, counts), SUP_OK,
	    "counts of queries the counters cannot answer");
	is_int(counts[0], -1, "  a priority: none");
	is_int(counts[1], -1, "  a subject search: none");
	is_err(ticket_counts(&st, &cust, q, 2, counts), SUP_EFORBIDDEN,
	    "a customer: refused");
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
	make_user("cust", ROLE_USER, &cust);
	make_user("ag1", ROLE_AGENT, &ag1);
	make_user("ag2", ROLE_AGENT, &ag2);
	test_saved();
	test_counts();
	user_clear(&cust);
	user_clear(&ag1);
	user_clear(&ag2);
	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify");
	is_int(problems, 0, "  no problems");
	tap_rmtree(dir);
	return done_testing();
}
