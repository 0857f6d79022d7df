/*
 * test_stats.c - the statistics' aggregates (lib/desk/stats.c) in a
 * scratch store: the buckets and quantiles; a history at fixed times
 * (the test clock) across a UTC day's end: tickets opened, answered,
 * resolved, re-opened, closed, with the counts of each day, agent,
 * priority and creation day checked against the history; the report's
 * numbers; then the same store's statistics removed and built again by
 * the upgrade path, equal to what the subscriber kept, and verify clean
 * before and after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "msg.h"
#include "stats.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "tstore.h"
#include "user.h"
#include "util.h"

#include "tap.h"

#define S_US INT64_C(1000000)

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user alice, carol, dave;
static int64_t day0;		/* the first day of the history */

static void
report_line(void *ctx, const char *line)
{
	(void)ctx;
	diag("verify: %s", line);
}

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

/* Set the clock to second `s` of day0 (may be past its end). */
static void
at(int64_t s)
{
	int64_t want = day0 * STATS_DAY_US + s * S_US;

	time_test_offset(0);
	time_test_offset(want - time_now_us());
}

static void
open_ticket(const struct sup_user *u, enum ticket_priority pri,
    uint8_t uuid[UUID_LEN])
{
	struct ticket_new in = { .subject = "Help", .subject_len = 4,
		.content = "Please.", .content_len = 7, .priority = pri };
	json_object *t;

	if (ticket_create(&st, &conf, u, &in, &t) != SUP_OK)
		bail_out("ticket_create");
	memcpy(uuid, in.uuid, UUID_LEN);
	json_object_put(t);
}

static void
post(const struct sup_user *u, const uint8_t uuid[UUID_LEN])
{
	json_object *m;

	if (msg_post(&st, u, uuid, "Hello.", 6, false, &m) != SUP_OK)
		bail_out("msg_post");
	json_object_put(m);
}

static void
set(const struct sup_user *u, const uint8_t uuid[UUID_LEN], int status,
    uint32_t assignee)
{
	struct ticket_patch p = { .status = status, .priority = -1,
		.set_assignee = assignee != 0, .assignee = assignee };
	json_object *t;

	if (ticket_update(&st, u, uuid, &p, &t) != SUP_OK)
		bail_out("ticket_update");
	json_object_put(t);
}

/* A count of a record, the clock's drift (ms) allowed in a sum. */
static int64_t
get(int kind, int64_t day, uint32_t dim, int f)
{
	int64_t v[STATS_NF];

	if (stats_get(&st, NULL, kind, day, dim, v) != SUP_OK)
		bail_out("stats_get");
	return v[f];
}

static bool
near_s(int64_t us, int64_t s)
{
	return us > s * S_US - S_US / 2 && us < s * S_US + S_US / 2;
}

static void
test_buckets(void)
{
	int64_t h[STATS_NBUCKETS] = { 0 };

	is_int(stats_bucket(0), 0, "0 s: the first bucket");
	is_int(stats_bucket(59 * S_US + 999999), 0, "59.999999 s: the first");
	is_int(stats_bucket(60 * S_US), 1, "60 s: the second");
	is_int(stats_bucket(3600 * S_US), 5, "1 h: the sixth (1 h to 2 h)");
	is_int(stats_bucket(2592000 * S_US), STATS_NBUCKETS - 1,
	    "30 days: the last");
	is_int(stats_bucket(INT64_C(1) << 60), STATS_NBUCKETS - 1,
	    "ages: the last");
	is_int(stats_quantile(h, 0, 50), -1, "no times: no median");
	h[0] = 1;
	h[5] = 1;
	h[9] = 8;
	is_int(stats_quantile(h, 10, 50), 86400, "median: the 5th of 10");
	is_int(stats_quantile(h, 10, 10), 60, "10 percent: the 1st");
	is_int(stats_quantile(h, 10, 11), 7200, "11 percent: the 2nd");
	is_int(stats_quantile(h, 10, 100), 86400, "100 percent: the 10th");
	h[STATS_NBUCKETS - 1] = 10;
	is_int(stats_quantile(h, 20, 90), 2592000,
	    "in the last bucket: its lower bound");
	is_int(stats_day(-1), -1, "the day before the epoch");
	is_int(stats_day(STATS_DAY_US - 1), 0, "the epoch's last µs");
}

static void
test_history(void)
{
	uint8_t t1[UUID_LEN], t2[UUID_LEN], t3[UUID_LEN];
	json_object *r, *v;
	int64_t d1 = day0 + 1;

	/* Day 0, 00:00:10: alice's t1 (normal), to carol. */
	at(10);
	open_ticket(&alice, PRI_NORMAL, t1);
	set(&dave, t1, -1, carol.id);
	at(10 + 3650);			/* carol answers an hour later */
	post(&carol, t1);
	at(10 + 3700 + 60);
	post(&carol, t1);		/* a second reply: no first response */
	at(10 + 7200);			/* resolved two hours after */
	set(&carol, t1, ST_RESOLVED, 0);
	/* Day 0, 23:59:50: t2 (urgent), answered on day 1 by dave. */
	at(86400 - 10);
	open_ticket(&alice, PRI_URGENT, t2);
	at(86400 + 20);
	post(&dave, t2);
	/* Day 1: t3 (low), and alice re-opens t1 by writing. */
	at(86400 + 100);
	open_ticket(&alice, PRI_LOW, t3);
	at(86400 + 200);
	post(&alice, t1);
	at(86400 + 300);
	set(&dave, t2, ST_CLOSED, 0);	/* closed without resolution */

	is_int(get(STATS_K_DAY, day0, 0, SF_CREATED), 2, "day 0: 2 created");
	is_int(get(STATS_K_DAY, d1, 0, SF_CREATED), 1, "day 1: 1 created");
	is_int(get(STATS_K_DAY, day0, 0, SF_FR_N), 1,
	    "day 0: 1 first response");
	ok(near_s(get(STATS_K_DAY, day0, 0, SF_FR_SUM), 3650),
	    "  its delay: an hour and 50 s");
	is_int(get(STATS_K_DAY, day0, 0, SF_FR_H + 5), 1,
	    "  in the 1 h - 2 h bucket");
	is_int(get(STATS_K_DAY, d1, 0, SF_FR_N), 1,
	    "day 1: t2's first response, written after midnight");
	ok(near_s(get(STATS_K_DAY, d1, 0, SF_FR_SUM), 30), "  30 s");
	is_int(get(STATS_K_DAY, day0, 0, SF_RES_N), 1, "day 0: 1 resolution");
	ok(near_s(get(STATS_K_DAY, day0, 0, SF_RES_SUM), 7200), "  2 h");
	is_int(get(STATS_K_DAY, d1, 0, SF_CLOSED), 1, "day 1: 1 close");
	is_int(get(STATS_K_AGENT, day0, carol.id, SF_REPLIES), 2,
	    "carol: 2 replies on day 0");
	is_int(get(STATS_K_AGENT, day0, carol.id, SF_FR_N), 1,
	    "  1 first response");
	is_int(get(STATS_K_AGENT, day0, carol.id, SF_RES_N), 1,
	    "  t1's resolution (her ticket)");
	is_int(get(STATS_K_AGENT, d1, dave.id, SF_FR_N), 1,
	    "dave: t2's first response on day 1");
	is_int(get(STATS_K_AGENT, d1, dave.id, SF_CLOSED), 1,
	    "  its close (unassigned: who closed it)");
	is_int(get(STATS_K_AGENT, d1, alice.id, SF_REPLIES), 0,
	    "a customer's message is no reply");
	is_int(get(STATS_K_PRIO, day0, PRI_URGENT, SF_CREATED), 1,
	    "urgent: 1 created on day 0");
	is_int(get(STATS_K_PRIO, d1, PRI_URGENT, SF_FR_N), 1,
	    "  answered on day 1");
	is_int(get(STATS_K_COHORT, day0, 0, SF_CREATED), 2,
	    "created on day 0: 2");
	is_int(get(STATS_K_COHORT, day0, 0, SF_FR_N), 2,
	    "  both answered (one on day 1)");
	is_int(get(STATS_K_COHORT, day0, 0, SF_RES_N), 0,
	    "  none resolved now: t1 re-opened");
	is_int(get(STATS_K_DAY, day0, 0, SF_RES_N), 1,
	    "the resolution still happened on day 0");

	if (stats_report(&st, day0, d1, &r) != SUP_OK)
		bail_out("stats_report");
	is_int(json_object_get_int(json_object_object_get(r,
	    "total_tickets")), 3, "report: 3 tickets created");
	is_int(json_object_get_int(json_object_object_get(r,
	    "open_tickets")), 1, "  1 open now (t3; t1 waits for an admin)");
	is_int(json_object_get_int(json_object_object_get(r,
	    "resolved_tickets")), 0, "  none resolved now");
	ok(json_object_object_get_ex(r, "avg_resolution_time", &v) &&
	    v == NULL, "  avg_resolution_time null");
	v = json_object_object_get(r, "avg_response_time");
	ok(v != NULL && json_object_get_double(v) > 1839 &&
	    json_object_get_double(v) < 1841, "  mean response (3650+30)/2");
	is_int(json_object_get_int(json_object_object_get(r,
	    "median_response_time")), 60, "  median: the 30 s one's bucket");
	is_int(json_object_get_int(json_object_object_get(r,
	    "p90_response_time")), 7200, "  p90: the hour's bucket");
	is_int((long)json_object_array_length(json_object_object_get(r,
	    "daily")), 2, "  two days");
	is_int((long)json_object_array_length(json_object_object_get(r,
	    "per_agent")), 2, "  two agents");
	json_object_put(r);
	if (stats_report(&st, day0 + 5, day0 + 9, &r) != SUP_OK)
		bail_out("stats_report");
	is_int(json_object_get_int(json_object_object_get(r,
	    "total_tickets")), 0, "an empty window: 0 tickets");
	ok(json_object_object_get_ex(r, "avg_response_time", &v) &&
	    v == NULL, "  avg_response_time null");
	json_object_put(r);
	is_err(stats_report(&st, day0, day0 - 1, &r), SUP_EINVAL,
	    "a window that ends before it starts");
	is_err(stats_report(&st, day0, day0 + STATS_DAYS_MAX, &r), SUP_EINVAL,
	    "a window of more than STATS_DAYS_MAX days");
}

/* The records of day0 and day 1 kept, for comparing after a build. */
static void
keep(int kind, uint32_t dim, int64_t v[2][STATS_NF])
{
	for (int d = 0; d < 2; d++)
		if (stats_get(&st, NULL, kind, day0 + d, dim, v[d]) != SUP_OK)
			bail_out("stats_get");
}

static void
test_build(void)
{
	int64_t cohort[2][STATS_NF], now[2][STATS_NF];
	int64_t day[2][STATS_NF];
	char path[128];
	long problems = -1;

	keep(STATS_K_COHORT, 0, cohort);
	keep(STATS_K_DAY, 0, day);
	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify after the history");
	is_int(problems, 0, "  no problems");
	snprintf(path, sizeof(path), "%s/stats.db", conf.data_dir);
	ok(unlink(path) == 0, "stats.db removed (a store of an older version)");
	snprintf(path, sizeof(path), "%s/stats_tickets.db", conf.data_dir);
	ok(unlink(path) == 0, "stats_tickets.db removed");
	is_err(store_open(&st, &conf, desk_areas), SUP_OK,
	    "store_open builds them");
	keep(STATS_K_COHORT, 0, now);
	ok(memcmp(now, cohort, sizeof(now)) == 0,
	    "  the creation days' records as the subscriber kept them");
	keep(STATS_K_DAY, 0, now);
	is_int(now[0][SF_CREATED], day[0][SF_CREATED], "  created on day 0");
	is_int(now[1][SF_FR_N], day[1][SF_FR_N], "  first responses of day 1");
	is_int(now[1][SF_CLOSED], day[1][SF_CLOSED], "  closes of day 1");
	store_close(&st);
	problems = -1;
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify after the build");
	is_int(problems, 0, "  no problems");
	is_err(store_open(&st, &conf, desk_areas), SUP_OK, "store_open again");
}

/* A broken aggregate is found by verify. */
static void
test_verify(void)
{
	long problems = 0;
	DB **db = store_db_find(&st, "stats.db");
	uint8_t key[STATS_KEY_LEN], val[8] = { 0, 0, 0, 0, 0, 0, 0, 9 };
	DBT k = { .data = key, .size = sizeof(key) };
	DBT d = { .data = val, .size = sizeof(val) };

	key[0] = STATS_K_COHORT;
	be32_put(key + 1, (uint32_t)day0);
	be32_put(key + 5, 0);
	ok(db != NULL && (*db)->put(*db, NULL, &k, &d, DB_AUTO_COMMIT) == 0,
	    "day 0's creation record overwritten");
	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify");
	is_int(problems, 1, "  finds the day that disagrees");
}

int
main(void)
{
	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_store_conf(dir, sizeof(dir), &conf, "");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	/* A fixed day well after the epoch, whatever today is. */
	day0 = 20000;
	make_user("alice", ROLE_USER, &alice);
	make_user("carol", ROLE_AGENT, &carol);
	make_user("dave", ROLE_ADMIN, &dave);
	test_buckets();
	test_history();
	test_build();
	test_verify();
	time_test_offset(0);
	tap_rmtree(dir);
	return done_testing();
}
