/*
 * retention.c - purging closed tickets past their retention
 * (retention.h, docs/data.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "attach.h"
#include "audit.h"
#include "counter.h"
#include "event.h"
#include "mailin.h"
#include "msg.h"
#include "outbox.h"
#include "presence.h"
#include "record.h"
#include "remind.h"
#include "retention.h"
#include "stats.h"
#include "textsearch.h"
#include "tstore.h"
#include "util.h"

/*
 * Tickets a transaction: each takes the locks of its thread's pages, so
 * a batch stays well inside the lock table with long threads too.
 */
#define PURGE_BATCH 20
#define EVENT_SLACK_US (60 * 1000000LL)

struct purge_args {
	int64_t before;
	bool dry_run;
	uint64_t from;		/* the batch starts at this ticket number */
	uint64_t next;		/* out */
	bool done;		/* out: no closed ticket after the batch */
	long tickets, messages;	/* out: the batch's */
	long attachments;	/* out: the batch's */
	struct att_gone gone;	/* files that may have lost their last
				 * record: collected after the commit */
};

/*
 * Delete every record of messages.db and presence marks whose key starts
 * with the ticket's uuid (the messages' m_by_uuid entries go with them:
 * an associated index), counting the messages into *n.
 */
static sup_err
delete_range(DB *db, DB_TXN *txn, const uint8_t uuid[UUID_LEN], long *n)
{
	uint8_t key[64];
	DBT k = { .data = key, .size = UUID_LEN, .ulen = sizeof(key),
	    .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };
	DBC *c;
	int rc, rc2;

	memcpy(key, uuid, UUID_LEN);
	if ((rc = db->cursor(db, txn, &c, 0)) != 0)
		return store_err(rc, "purge cursor");
	for (rc = c->get(c, &k, &d, DB_SET_RANGE | DB_RMW); rc == 0;
	    rc = c->get(c, &k, &d, DB_NEXT | DB_RMW)) {
		if (k.size < UUID_LEN || memcmp(key, uuid, UUID_LEN) != 0)
			break;
		if ((rc = c->del(c, 0)) != 0)
			break;
		(*n)++;
	}
	rc2 = c->close(c);
	if (rc == DB_NOTFOUND)
		rc = 0;
	return store_err(rc != 0 ? rc : rc2, "purge");
}

/* Add delta to the counter of kind and id. */
static sup_err
count_add(struct store *s, DB_TXN *txn, enum record_counter kind, int64_t id,
    int64_t delta)
{
	char name[64];

	record_counter(name, sizeof(name), kind, id);
	return store_count_add(s, txn, name, delta);
}

/*
 * Purge one ticket, t (read from tickets.db under a write lock in txn):
 * its messages, its presence marks, its reminder markers and rating
 * (its facts stay with the statistics' numbers), the text of its audit
 * rows (audit_forget_ticket: who and when stay), its documents in the
 * search index, the Message-IDs of the mails that made its messages
 * (mailin_seen_forget_ticket), its t_recent entry, its record (the associated indexes
 * follow), then its counts, last as every writer does.  A ticket is
 * closed, so not active: "active:ID" is not its.
 */
static sup_err
purge_one(struct store *s, DB_TXN *txn, const struct record_ticket *t,
    long *messages, struct purge_args *a)
{
	uint8_t rkey[RECENT_KEY_LEN];
	DBT k = { .data = (void *)(uintptr_t)t->uuid, .size = UUID_LEN };
	DBT rk = { .data = rkey, .size = sizeof(rkey) };
	DB *tickets = ticket_db(s, TDB_TICKETS);
	DB *recent = ticket_db(s, TDB_RECENT);
	long marks = 0;
	sup_err e;
	int rc;

	store_recent_key(rkey, t->updated_at, t->uuid);
	if ((e = att_forget(s, txn, t->uuid, NULL, &a->gone,
	    &a->attachments)) != SUP_OK ||
	    (e = delete_range(msg_db(s), txn, t->uuid, messages)) != SUP_OK ||
	    (e = delete_range(presence_db(s), txn, t->uuid, &marks)) !=
	    SUP_OK || (e = remind_forget(s, txn, t->uuid)) != SUP_OK ||
	    (e = stats_forget_rating(s, txn, t->uuid)) != SUP_OK ||
	    (e = audit_forget_ticket(s, txn, t->uuid)) != SUP_OK ||
	    (e = search_forget_ticket(s, txn, t->uuid)) != SUP_OK ||
	    (e = mailin_seen_forget_ticket(s, txn, t->uuid, NULL)) != SUP_OK)
		return e;
	rc = recent->del(recent, txn, &rk, 0);
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "purge t_recent");
	if ((rc = tickets->del(tickets, txn, &k, 0)) != 0)
		return store_err(rc, "purge ticket");
	if ((e = store_tcount_add(s, txn, t->status, t->assignee, -1)) !=
	    SUP_OK ||
	    (e = count_add(s, txn, RC_TICKETS, 0, -1)) != SUP_OK ||
	    (e = count_add(s, txn, RC_USER, t->user, -1)) != SUP_OK ||
	    (e = count_add(s, txn, RC_ASSIGNEE, t->assignee, -1)) != SUP_OK)
		return e;
	return SUP_OK;
}

/*
 * One batch: the next PURGE_BATCH closed tickets from number a->from on
 * (t_by_status: the status byte, then the number), each purged when its
 * last change is old enough.  Their uuids are taken first and the cursor
 * closed, since a purge removes their entries from the range walked.
 */
static sup_err
purge_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct purge_args *a = arg;
	uint8_t key[9], uuids[PURGE_BATCH][UUID_LEN];
	DBT k = { .data = key, .size = sizeof(key), .ulen = sizeof(key),
	    .flags = DB_DBT_USERMEM };
	DBT pk = { .ulen = UUID_LEN, .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };	/* no record copied */
	DB *idx = ticket_index_db(s, IDX_STATUS);
	DB *tickets = ticket_db(s, TDB_TICKETS);
	size_t n = 0;
	sup_err e = SUP_OK;
	DBC *c;
	int rc;

	a->tickets = a->messages = a->attachments = 0;
	a->done = false;
	a->next = a->from;
	key[0] = ST_CLOSED;
	be64_put(key + 1, a->from);
	pk.data = uuids[0];
	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	for (rc = c->pget(c, &k, &pk, &d, DB_SET_RANGE); rc == 0;
	    rc = c->pget(c, &k, &pk, &d, DB_NEXT)) {
		if (k.size != sizeof(key) || key[0] != ST_CLOSED ||
		    pk.size != UUID_LEN)
			break;
		a->next = be64_get(key + 1) + 1;
		if (++n == PURGE_BATCH)
			break;
		pk.data = uuids[n];
	}
	c->close(c);
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "purge_old_tickets");
	a->done = n < PURGE_BATCH;
	for (size_t i = 0; i < n && e == SUP_OK; i++) {
		struct record_ticket t;
		DBT tk = { .data = uuids[i], .size = UUID_LEN };
		DBT td = { .flags = DB_DBT_MALLOC };

		e = store_err(tickets->get(tickets, txn, &tk, &td,
		    a->dry_run ? 0 : DB_RMW), "ticket");
		if (e == SUP_ENOTFOUND) {
			e = SUP_OK;
			continue;
		}
		if (e != SUP_OK)
			break;
		e = record_ticket_decode(td.data, td.size, &t);
		free(td.data);
		if (e == SUP_OK && t.status == ST_CLOSED &&
		    t.updated_at < a->before) {
			a->tickets++;
			if (a->dry_run)
				a->messages += (long)(t.public_count +
				    t.note_count);
			else
				e = purge_one(s, txn, &t, &a->messages, a);
		}
		record_ticket_clear(&t);
	}
	return e;
}

sup_err
ticket_purge_event(void *ctx SUP_UNUSED, struct store *s, DB_TXN *txn,
    json_object *ev, bool *changed)
{
	static const char *const drop[] = { "ticket", "message", "changes",
	    "data", "addr" };
	DB *tickets = ticket_db(s, TDB_TICKETS);
	json_object *v;
	uint8_t uuid[UUID_LEN];
	DBT k = { .data = uuid, .size = UUID_LEN };
	DBT d = { .flags = DB_DBT_PARTIAL };
	int rc;

	*changed = false;
	if (!json_object_object_get_ex(ev, "ticket", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !uuid_parse(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), uuid))
		return SUP_OK;
	rc = tickets->get(tickets, txn, &k, &d, 0);
	if (rc == 0)
		return SUP_OK;
	if (rc != DB_NOTFOUND)
		return store_err(rc, "purge events");
	for (size_t i = 0; i < SUP_NELEM(drop); i++)
		json_object_object_del(ev, drop[i]);
	if (json_object_object_add(ev, "purged",
	    json_object_new_boolean(1)) != 0)
		return SUP_ENOMEM;
	*changed = true;
	return SUP_OK;
}

/*
 * outbox_drop_if's match for a purge: a delivery about a ticket that
 * tickets.db no longer holds (its bytes hold the ticket's subject and
 * text).
 */
static sup_err
purge_delivery(void *ctx SUP_UNUSED, struct store *s, DB_TXN *txn,
    json_object *rec, bool *drop)
{
	DB *tickets = ticket_db(s, TDB_TICKETS);
	json_object *v;
	uint8_t uuid[UUID_LEN];
	DBT k = { .data = uuid, .size = UUID_LEN };
	DBT d = { .flags = DB_DBT_PARTIAL };
	int rc;

	*drop = false;
	if (!json_object_object_get_ex(rec, "ticket", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !uuid_parse(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), uuid))
		return SUP_OK;
	rc = tickets->get(tickets, txn, &k, &d, 0);
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "purge outbox");
	*drop = rc == DB_NOTFOUND;
	return SUP_OK;
}

sup_err
ticket_purge(struct store *s, int64_t before_us, bool dry_run,
    struct purge_stats *st)
{
	struct purge_args a = { .before = before_us, .dry_run = dry_run };
	sup_err e;

	memset(st, 0, sizeof(*st));
	do {
		e = store_run(s, dry_run ? STORE_READ : 0, purge_txn, &a);
		/*
		 * The files no record uses any more, after the commit (a
		 * crash before leaves them for verify to report).
		 */
		if (a.gone.failed) {
			fprintf(stderr, "support: purge: out of memory: files "
			    "of purged tickets are left for verify to "
			    "report\n");
			a.gone.failed = false;
		}
		long removed = att_collect(s, &a.gone, NULL, true);
		if (e != SUP_OK)
			return e;
		st->tickets += a.tickets;
		st->messages += a.messages;
		st->attachments += a.attachments;
		if (removed > 0)
			st->files += removed;
		a.from = a.next;
	} while (!a.done);
	if (dry_run)
		return SUP_OK;
	/*
	 * The outbox's mails about them: sent ones stay until events trim
	 * (event_retention_days), which may be longer than the retention.
	 * A walk of the outbox, which that trim keeps short.
	 */
	if ((e = outbox_drop_if(s, purge_delivery, NULL, &st->mails)) !=
	    SUP_OK)
		return e;
	/*
	 * A purged ticket's events are no later than its last change, which
	 * is before before_us: the walk stops at the first event after it
	 * (with a minute's margin for a change whose transaction took long
	 * between its clock read and its event's), so its cost is the old
	 * part of the log, which events trim keeps short.
	 */
	return event_rewrite(s, true, before_us + EVENT_SLACK_US,
	    ticket_purge_event, NULL, &st->events, &st->events_held);
}
