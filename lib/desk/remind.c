/*
 * remind.c - reminders and escalation (remind.h, docs/mail.md).
 */
#include <stdlib.h>
#include <string.h>

#include "areas.h"
#include "event.h"
#include "record.h"
#include "remind.h"
#include "tstore.h"
#include "util.h"

enum remind_db { RDB_MARKS, REMIND_NDB };

#define MARK_KEY_LEN (UUID_LEN + 1)

/* A ticket found due in a batch, before its marker and event. */
struct due {
	uint8_t uuid[UUID_LEN];
	int64_t since;		/* its updated_at: the period's start */
	uint32_t user;		/* its customer */
	int status;
};

/* One batch's arguments and results (store_run's arg). */
struct scan_args {
	enum remind_kind kind;
	int status;		/* the status range walked */
	int64_t from;		/* the ticket number to start at */
	int64_t before;		/* due: updated_at before this */
	int64_t next;		/* the number after the last one read */
	bool done;		/* the range is at its end */
	long appended;		/* events of this batch */
	long limit;		/* days or hours, for the event */
};

/* The marker key of uuid and kind. */
static void
mark_key(uint8_t key[MARK_KEY_LEN], const uint8_t uuid[UUID_LEN],
    enum remind_kind kind)
{
	memcpy(key, uuid, UUID_LEN);
	key[UUID_LEN] = (uint8_t)kind;
}

/*
 * Has the period starting at since already been handled for d's ticket?
 * Otherwise write its marker and append its event, inside txn.
 */
static sup_err
remind_one(struct store *s, DB_TXN *txn, struct scan_args *a,
    const struct due *d)
{
	DB *marks = store_db(s, AREA_REMIND, RDB_MARKS);
	uint8_t key[MARK_KEY_LEN], val[8];
	char when[40];
	DBT k = { .data = key, .size = sizeof(key) };
	DBT v = { .data = val, .ulen = sizeof(val), .flags = DB_DBT_USERMEM };
	struct event ev;
	sup_err e;
	int rc;

	mark_key(key, d->uuid, a->kind);
	rc = marks->get(marks, txn, &k, &v, DB_RMW);
	if (rc == 0 && v.size == sizeof(val) &&
	    (int64_t)be64_get(val) == d->since)
		return SUP_OK;		/* this period has had its event */
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "remind.db get");
	be64_put(val, (uint64_t)d->since);
	v.size = sizeof(val);
	v.flags = 0;
	if ((e = store_err(marks->put(marks, txn, &k, &v, 0),
	    "remind.db put")) != SUP_OK)
		return e;
	/* The desk itself sends it: no actor. */
	event_init(&ev, a->kind == REMIND_CUSTOMER ? EV_TICKET_REMINDER_DUE :
	    EV_TICKET_ESCALATED, 0);
	ev.ticket = d->uuid;
	if (a->kind == REMIND_CUSTOMER)
		ev.user = d->user;
	time_format(d->since, when);
	if ((e = event_data_cstr(&ev, "status",
	    ticket_status_names[d->status])) == SUP_OK &&
	    (e = event_data_cstr(&ev, "since", when)) == SUP_OK)
		e = event_data_int(&ev, a->kind == REMIND_CUSTOMER ? "days" :
		    "hours", a->limit);
	if ((e = event_finish(s, txn, &ev, e)) == SUP_OK)
		a->appended++;
	return e;
}

/*
 * One batch: the next REMIND_BATCH tickets of status a->status from
 * number a->from on (t_by_status: the status byte, then the number),
 * those unchanged since before a->before taken with the cursor open,
 * then each marked and its event appended once the cursor is closed.
 */
static sup_err
scan_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct scan_args *a = arg;
	uint8_t key[9], pkey[UUID_LEN];
	DBT k = { .data = key, .size = sizeof(key), .ulen = sizeof(key),
	    .flags = DB_DBT_USERMEM };
	DBT pk = { .data = pkey, .ulen = UUID_LEN, .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	DB *idx = ticket_index_db(s, IDX_STATUS);
	struct due due[REMIND_BATCH];
	size_t n = 0, seen = 0;
	sup_err e = SUP_OK;
	DBC *c;
	int rc;

	a->appended = 0;
	a->done = false;
	a->next = a->from;
	key[0] = (uint8_t)a->status;
	be64_put(key + 1, (uint64_t)a->from);
	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	for (rc = c->pget(c, &k, &pk, &d, DB_SET_RANGE); rc == 0;
	    rc = c->pget(c, &k, &pk, &d, DB_NEXT)) {
		struct ticket_tail tt;
		uint8_t uuid[UUID_LEN];
		int64_t us;

		if (k.size != sizeof(key) || key[0] != a->status)
			break;
		a->next = (int64_t)be64_get(key + 1) + 1;
		if (store_ticket_stamp(s, d.data, d.size, uuid, &us) &&
		    us < a->before &&
		    record_ticket_tail(d.data, d.size, &tt)) {
			memcpy(due[n].uuid, uuid, UUID_LEN);
			due[n].since = us;
			due[n].user = tt.user;
			due[n].status = a->status;
			n++;
		}
		if (++seen == REMIND_BATCH)
			break;
	}
	c->close(c);
	free(d.data);
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "remind scan");
	a->done = seen < REMIND_BATCH;
	for (size_t i = 0; i < n && e == SUP_OK; i++)
		e = remind_one(s, txn, a, &due[i]);
	return e;
}

/* Scan one status for kind, tickets unchanged since before `before`. */
static sup_err
scan_status(struct store *s, enum remind_kind kind, int status,
    int64_t before, long limit, long *appended)
{
	struct scan_args a = { .kind = kind, .status = status, .from = 0,
		.before = before, .limit = limit };
	sup_err e;

	do {
		if ((e = store_run(s, 0, scan_txn, &a)) != SUP_OK)
			return e;
		*appended += a.appended;
		a.from = a.next;
	} while (!a.done);
	return SUP_OK;
}

sup_err
remind_scan(struct store *s, const struct sup_conf *conf, int64_t now_us,
    long *reminded, long *escalated)
{
	long r = 0, x = 0;
	sup_err e = SUP_OK;

	if (conf->reminder_days > 0)
		e = scan_status(s, REMIND_CUSTOMER, ST_WAITING_FOR_USER,
		    now_us - conf->reminder_days * 86400LL * 1000000,
		    conf->reminder_days, &r);
	if (e == SUP_OK && conf->escalation_hours > 0 &&
	    conf->notify_escalation_alerts) {
		int64_t before = now_us - conf->escalation_hours * 3600LL *
		    1000000;
		if ((e = scan_status(s, REMIND_ESCALATE, ST_OPEN, before,
		    conf->escalation_hours, &x)) == SUP_OK)
			e = scan_status(s, REMIND_ESCALATE,
			    ST_WAITING_FOR_ADMIN, before,
			    conf->escalation_hours, &x);
	}
	if (reminded != NULL)
		*reminded = r;
	if (escalated != NULL)
		*escalated = x;
	return e;
}

/* --- The area -------------------------------------------------------- */

sup_err
remind_forget(struct store *s, DB_TXN *txn, const uint8_t uuid[UUID_LEN])
{
	DB *marks = store_db(s, AREA_REMIND, RDB_MARKS);

	for (int kind = 0; kind < REMIND_NKIND; kind++) {
		uint8_t key[MARK_KEY_LEN];
		DBT k = { .data = key, .size = sizeof(key) };
		int rc;

		mark_key(key, uuid, (enum remind_kind)kind);
		if ((rc = marks->del(marks, txn, &k, 0)) != 0 &&
		    rc != DB_NOTFOUND)
			return store_err(rc, "remind forget");
	}
	return SUP_OK;
}

static const struct store_db remind_dbs[REMIND_NDB] = {
	[RDB_MARKS] = { .file = "remind.db", .type = DB_BTREE },
};

const struct store_area remind_area = {
	.name = "reminders",
	.db = remind_dbs,
	.ndb = REMIND_NDB,
};
