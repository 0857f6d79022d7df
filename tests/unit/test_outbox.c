/*
 * test_outbox.c - the durable outbox (lib/desk/outbox.c) in a scratch
 * store: a delivery added inside a transaction (and not when it aborts),
 * the same id added twice kept once, bad recipients and sizes refused;
 * a claim takes the one due first, not one due later, and holds it for
 * the lease (a second claim does not get it; after the lease it comes
 * again: a worker killed mid-send loses nothing); sent; a temporary
 * failure backs off 1, 2, 4 ... minutes up to an hour and is dead once
 * outbox_retry_hours are over; a permanent one is dead at once with its
 * error; retry re-queues a dead one (not a sent one); drop; trim.  The
 * store must pass store_verify at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "outbox.h"
#include "store.h"
#include "sup.h"
#include "util.h"

#include "tap.h"

#define MIN_US (60LL * 1000000)

static char dir[64];
static struct sup_conf conf;
static struct store st;

struct add_args {
	struct outbox_new d;
	bool fail_after;	/* abort the transaction after the add */
};

static sup_err
add_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct add_args *a = arg;
	sup_err e = outbox_add(s, txn, &a->d);

	return e == SUP_OK && a->fail_after ? SUP_ECONFLICT : e;
}

/* Add a mail to `to` with a new id (into id); the outcome. */
static sup_err
add(const char *to, const char *msg, bool fail_after, uint8_t id[UUID_LEN])
{
	struct add_args a = { .d = { .kind = OUTBOX_MAIL, .to = to,
		.message = msg, .len = msg != NULL ? strlen(msg) : 0 },
		.fail_after = fail_after };

	uuid_gen_time(a.d.id, time_now_us());
	if (id != NULL)
		memcpy(id, a.d.id, UUID_LEN);
	return store_run(&st, 0, add_txn, &a);
}

static int64_t
count(enum outbox_state state, int64_t *due)
{
	int64_t c[OUTBOX_NSTATE];

	if (outbox_counts(&st, time_now_us(), c, due) != SUP_OK)
		return -1;
	return c[state];
}

struct find {
	const uint8_t *id;
	json_object *rec;
};

static sup_err
find_one(void *ctx, json_object *rec)
{
	struct find *f = ctx;
	json_object *v;
	char buf[UUID_STRLEN + 1];

	uuid_format(f->id, buf);
	if (json_object_object_get_ex(rec, "id", &v) &&
	    strcmp(json_object_get_string(v), buf) == 0)
		f->rec = json_object_get(rec);
	return SUP_OK;
}

/* The listed record of delivery id (json_object_put it), or NULL. */
static json_object *
listed(const uint8_t id[UUID_LEN])
{
	struct find f = { .id = id };

	if (outbox_list(&st, find_one, &f) != SUP_OK)
		return NULL;
	return f.rec;
}

static const char *
field(json_object *rec, const char *name)
{
	json_object *v;

	return rec != NULL && json_object_object_get_ex(rec, name, &v) &&
	    v != NULL ? json_object_get_string(v) : NULL;
}

static void
test_add(void)
{
	uint8_t id[UUID_LEN], id2[UUID_LEN];
	char big[300];
	struct add_args a = { .d = { .kind = OUTBOX_MAIL, .to = "x@example.com",
		.message = "m", .len = 1 } };
	json_object *rec;

	is_err(add("a@example.com", "hello", true, NULL), SUP_ECONFLICT,
	    "an add in an aborted transaction ...");
	is_int(count(OUTBOX_PENDING, NULL), 0, "  leaves nothing");
	is_err(add("a@example.com", "hello", false, id), SUP_OK, "add");
	is_int(count(OUTBOX_PENDING, NULL), 1, "  one pending");
	rec = listed(id);
	is_str(field(rec, "state"), "pending", "  listed as pending");
	is_str(field(rec, "kind"), "mail", "  a mail");
	is_str(field(rec, "to"), "a@example.com", "  to its recipient");
	ok(field(rec, "message") == NULL, "  the list leaves the message out");
	json_object_put(rec);

	/* The same id again (a batch handed over twice): kept once. */
	memcpy(a.d.id, id, UUID_LEN);
	is_err(store_run(&st, 0, add_txn, &a), SUP_OK, "the same id again");
	rec = listed(id);
	is_str(field(rec, "to"), "a@example.com", "  is the first one");
	json_object_put(rec);
	is_int(count(OUTBOX_PENDING, NULL), 1, "  still one");

	is_err(add("", "m", false, id2), SUP_EINVAL, "an empty recipient");
	is_err(add("a\r\nb@example.com", "m", false, id2), SUP_EINVAL,
	    "a recipient with a line break");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_err(add(big, "m", false, id2), SUP_EINVAL, "a recipient too long");
	is_err(add("b@example.com", NULL, false, id2), SUP_EINVAL,
	    "no message");
	is_err(outbox_drop(&st, id), SUP_OK, "drop");
	is_int(count(OUTBOX_PENDING, NULL), 0, "  none left");
	is_err(outbox_drop(&st, id), SUP_ENOTFOUND, "  a second drop");
}

static void
test_claim(void)
{
	struct outbox_item it, it2;
	uint8_t id1[UUID_LEN], id2[UUID_LEN];
	int64_t now = time_now_us(), due;
	json_object *rec;

	is_err(outbox_claim(&st, now, &it), SUP_ENOTFOUND,
	    "nothing to claim");
	add("one@example.com", "first", false, id1);
	add("two@example.com", "second", false, id2);
	now = time_now_us();
	is_int(count(OUTBOX_PENDING, &due), 2, "two pending");
	is_int(due, 2, "  both due");
	is_err(outbox_claim(&st, now, &it), SUP_OK, "claim");
	ok(memcmp(it.id, id1, UUID_LEN) == 0, "  the one due first");
	is_str(it.to, "one@example.com", "  its recipient");
	is_str(it.message, "first", "  its message");
	is_int(it.attempts, 1, "  attempt 1");
	is_err(outbox_claim(&st, now, &it2), SUP_OK, "another claim");
	ok(memcmp(it2.id, id2, UUID_LEN) == 0, "  takes the other one");
	outbox_item_free(&it2);
	is_err(outbox_claim(&st, now, &it2), SUP_ENOTFOUND,
	    "  then none: both are held");
	is_err(outbox_done(&st, id1, OUTBOX_OK, NULL, now, 48), SUP_OK, "sent");
	rec = listed(id1);
	is_str(field(rec, "state"), "sent", "  listed as sent");
	ok(field(rec, "sent_at") != NULL, "  with its time");
	json_object_put(rec);
	is_err(outbox_done(&st, id1, OUTBOX_FAIL, "late", now, 48), SUP_OK,
	    "a second outcome of a sent one ...");
	rec = listed(id1);
	is_str(field(rec, "state"), "sent", "  changes nothing");
	json_object_put(rec);
	is_err(outbox_retry(&st, id1), SUP_ECONFLICT, "a sent one is no retry");
	outbox_item_free(&it);

	/* The worker holding the second dies: after the lease it is due. */
	is_err(outbox_claim(&st, now + OUTBOX_LEASE_US + 1, &it2), SUP_OK,
	    "after the lease, the held one comes again");
	ok(memcmp(it2.id, id2, UUID_LEN) == 0, "  the one not marked");
	is_int(it2.attempts, 2, "  attempt 2");
	outbox_item_free(&it2);

	is_err(outbox_done(&st, id2, OUTBOX_FAIL, "550 5.1.1 no such user",
	    now, 48), SUP_OK, "a permanent failure");
	rec = listed(id2);
	is_str(field(rec, "state"), "dead", "  dead at once");
	is_str(field(rec, "last_error"), "550 5.1.1 no such user",
	    "  the error kept");
	json_object_put(rec);
	is_err(outbox_claim(&st, now + 10 * MIN_US, &it), SUP_ENOTFOUND,
	    "  never claimed again");
	is_err(outbox_retry(&st, id2), SUP_OK, "retry");
	rec = listed(id2);
	is_str(field(rec, "state"), "pending", "  pending again");
	json_object_put(rec);
	is_err(outbox_claim(&st, time_now_us(), &it), SUP_OK, "  claimed");
	is_int(it.attempts, 3, "  its attempts kept");
	is_err(outbox_done(&st, id2, OUTBOX_OK, NULL, now, 48), SUP_OK,
	    "  sent");
	outbox_item_free(&it);
	is_err(outbox_done(&st, id2, OUTBOX_OK, NULL, now, 48), SUP_OK,
	    "a mark of one not pending is no error");
}

static void
test_backoff(void)
{
	struct outbox_item it;
	uint8_t id[UUID_LEN];
	int64_t now, want[] = { 1, 2, 4, 8, 16, 32, 60, 60 };
	json_object *rec;
	long n;

	for (size_t i = 0; i < SUP_NELEM(want); i++)
		is_int(outbox_backoff_us((long)i + 1), want[i] * MIN_US,
		    "the back-off after attempt %zu: %lld min", i + 1,
		    (long long)want[i]);
	add("slow@example.com", "m", false, id);
	now = time_now_us();
	for (n = 1; n < 100; n++) {
		int64_t next;
		if (outbox_claim(&st, now, &it) != SUP_OK)
			break;
		outbox_item_free(&it);
		outbox_done(&st, id, OUTBOX_RETRY, "421 busy", now, 2);
		rec = listed(id);
		if (strcmp(field(rec, "state"), "pending") != 0) {
			json_object_put(rec);
			break;
		}
		time_parse(field(rec, "next_at"), &next);
		json_object_put(rec);
		if (next != now + outbox_backoff_us(n))
			break;
		/* Not due a moment before its time. */
		if (outbox_claim(&st, next - 1, &it) != SUP_ENOTFOUND)
			break;
		now = next;
	}
	/* 1+2+4+8+16+32 = 63 min, then hourly: dead past 2 h (120 min). */
	is_int(n, 7, "retried with back-off until 2 h were over");
	rec = listed(id);
	is_str(field(rec, "state"), "dead", "  then dead");
	is_str(field(rec, "last_error"), "421 busy", "  the error kept");
	json_object_put(rec);
}

static void
test_trim(void)
{
	long removed = -1;
	uint8_t id[UUID_LEN];

	add("keep@example.com", "m", false, id);
	is_err(outbox_trim(&st, time_now_us() + MIN_US, 0, &removed), SUP_OK,
	    "trim");
	is_int(removed, 3, "  the sent and dead ones went");
	is_int(count(OUTBOX_PENDING, NULL), 1, "  the pending one stayed");
}

static void
report_line(void *ctx, const char *line)
{
	(void)ctx;
	diag("verify: %s", line);
}

int
main(void)
{
	long problems = 0;

	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_store_conf(dir, sizeof(dir), &conf, "");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	test_add();
	test_claim();
	test_backoff();
	test_trim();
	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify");
	is_int(problems, 0, "  no problems");
	tap_rmtree(dir);
	return done_testing();
}
