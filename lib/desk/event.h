/*
 * event.h - the change-event log (DESIGN §2, docs/architecture.md): every
 * change of state appends one event, in the transaction of the change, so
 * that an event exists exactly when its change was committed.
 *
 * An event, as stored and as `supportctl events` prints it:
 *   {"seq": 42, "id": "<uuid>", "at": "2026-12-07T10:04:05.123456Z",
 *    "type": "ticket.updated", "actor": 3 | null,
 *    "ticket": "<uuid>"?, "message": "<uuid>"?, "user": 7?,
 *    "addr": "<client address>"?,
 *    "changes": {"status": ["open", "resolved"], ...}?,
 *    "data": {...}?}
 * seq numbers the events from 1 in the order their transactions
 * committed, without holes; id is unique and stable (a receiver drops a
 * delivery it has seen); actor 0 / null is the desk itself (supportctl, a
 * timer).  "changes" says what changed from what to what; "data" carries
 * what else the type needs (a new ticket's subject, a login's address).
 * addr is where the change came from: the client address of the request
 * that made it (event_origin), absent for the desk itself (supportctl).
 *
 * Two kinds of consumers:
 *  - subscribers run inside the writing transaction (event_subscriber):
 *    an error from one aborts the change (aggregates, audit, search);
 *  - consumers read the log after commit from their own durable position
 *    (event_consume), at least once (mail, webhooks).
 * Events are trimmed (event_trim) once every consumer has passed them and
 * they are older than event_retention_days.
 */
#ifndef SUP_EVENT_H
#define SUP_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include <db.h>
#include <json-c/json.h>

#include "store.h"
#include "sup.h"
#include "util.h"

enum event_type {
	EV_TICKET_CREATED,	/* data: subject, priority, status, channel */
	EV_TICKET_UPDATED,	/* changes: status, priority, assignee, subject */
	EV_MESSAGE_POSTED,	/* a public message; changes: status */
	EV_NOTE_ADDED,		/* an internal note */
	EV_USER_CREATED,	/* data: username, role */
	EV_USER_CHANGED,	/* changes: role, password (true) */
	EV_USER_DISABLED,
	EV_USER_ENABLED,
	EV_TOKEN_CREATED,	/* data: token id, name */
	EV_TOKEN_REVOKED,	/* data: token id */
	EV_LOGIN_SUCCEEDED,	/* data: addr */
	EV_LOGIN_FAILED,	/* user: the account named, if any; data: addr */
	EV_CANNED_CREATED,	/* data: canned (its id), title */
	EV_CANNED_UPDATED,	/* data: canned, title */
	EV_CANNED_DELETED,	/* data: canned, title */
	EV_SESSIONS_REVOKED,	/* user; data: count (an admin's revocation) */
	EV_MESSAGE_EDITED,	/* changes: content; data: author, is_internal */
	EV_MESSAGE_DELETED,	/* data: content, author, is_internal, ... */
	EV_TICKET_RATED,	/* the customer's rating; data: rating */
	EV_TICKET_REMINDER_DUE,	/* user: the customer; data: since, days */
	EV_TICKET_ESCALATED,	/* data: status, since, hours */
	EV_MAX
};

/* "ticket.created", ...: the type's name, as stored. */
extern const char *const event_type_names[EV_MAX];

/* The type of a name, or -1. */
int event_type_from(const char *name, size_t len);

/*
 * An event being written.  event_init, then the fields and the changes,
 * then event_append, then event_free (on every path).
 */
struct event {
	enum event_type type;
	uint32_t actor;			/* 0: the desk itself */
	const uint8_t *ticket;		/* uuid, or NULL */
	const uint8_t *message;		/* uuid, or NULL */
	uint32_t user;			/* the account concerned, or 0 */
	const char *addr;		/* where from (NULL: the origin of
					 * event_origin, if any) */
	/*
	 * The members of "changes" and "data" as JSON text, written as they
	 * are added (an event is written on every change: building json-c
	 * objects only to print them cost a third of the append).
	 */
	struct sbuf changes, data;
	/* Set by event_append, for the subscribers. */
	int64_t seq;
	int64_t at_us;			/* a change may set it first: its
					   own time (0: event_append's) */
	const char *text;		/* the event as stored (JSON) */
	size_t len;
};

void event_init(struct event *ev, enum event_type type, uint32_t actor);
void event_free(struct event *ev);

/*
 * Note that field changed from `from` to `to` (each taken: json-c
 * references, NULL for null).  event_change_str makes them from text
 * (NULL for null).  SUP_ENOMEM.
 */
sup_err event_change(struct event *ev, const char *field, json_object *from,
    json_object *to);
sup_err event_change_str(struct event *ev, const char *field,
    const char *from, size_t from_len, const char *to, size_t to_len);
/* The same for numbers, the value null standing for null. */
sup_err event_change_int(struct event *ev, const char *field, int64_t from,
    int64_t to, int64_t null);

/*
 * Add a member to the event's data: a json-c value (taken; NULL is null),
 * a string (s[0..n)), a number.  SUP_ENOMEM.
 */
sup_err event_data(struct event *ev, const char *name, json_object *v);
sup_err event_data_str(struct event *ev, const char *name, const char *s,
    size_t n);
sup_err event_data_cstr(struct event *ev, const char *name, const char *s);
sup_err event_data_int(struct event *ev, const char *name, int64_t v);
sup_err event_data_bool(struct event *ev, const char *name, bool v);

/*
 * Where the changes of this process's current request come from: the
 * client address (REMOTE_ADDR) that every event appended until the next
 * call carries as "addr" (an event's own addr wins); NULL when no request
 * is being served (the desk itself).  Set by the programs around each
 * request (cgi-bin/app.c), so that the builders of the events (tickets,
 * messages, accounts, sessions) need not be handed the request: one FastCGI
 * process serves one request at a time.  Copied, at most EVENT_ADDR_MAX
 * bytes; kept in the log area's per-process slot.
 */
#define EVENT_ADDR_MAX 64
void event_origin(struct store *s, const char *addr);

/*
 * A subscriber: fn runs inside the transaction of every change, after
 * the event is written; an error aborts the transaction (and the change)
 * and is the change's error.
 */
struct event_subscriber {
	const char *name;
	sup_err (*fn)(struct store *s, DB_TXN *txn, const struct event *ev);
};

/*
 * Append ev inside txn: number it, stamp it with the time, store it, then
 * run the subscribers.  SUP_ENOMEM, SUP_EDEADLOCK, SUP_EDB, or a
 * subscriber's error.
 */
sup_err event_append(struct store *s, DB_TXN *txn, struct event *ev);

/*
 * The end of an event builder: append ev inside txn when e (the builder's
 * result so far) is SUP_OK, release ev either way, and return the
 * outcome.
 */
sup_err event_finish(struct store *s, DB_TXN *txn, struct event *ev,
    sup_err e);

/* The number of the last event, 0 when there is none. */
sup_err event_last(struct store *s, int64_t *seq);

/*
 * Call fn with each stored event of seq >= from, in order, at most max
 * (0: all) of them, in one read transaction; text[0..len) is the event's
 * JSON (no NUL after it: it is the store's).
 * fn's error stops the walk and is returned.  *next (may be NULL) gets
 * the seq after the last one given.
 */
sup_err event_read(struct store *s, int64_t from, long max,
    sup_err (*fn)(void *ctx, int64_t seq, const char *text, size_t len),
    void *ctx, int64_t *next);

/*
 * A consumer's durable position: the seq of the last event it has
 * handled (0: none).  Names are at most EVENT_CONSUMER_MAX bytes.
 */
#define EVENT_CONSUMER_MAX 64
sup_err event_position(struct store *s, const char *consumer, int64_t *seq);

/*
 * Hand the events after consumer's position to fn, at most max of them,
 * in one write transaction that also moves the position past them: what
 * fn writes to the store through txn is done exactly once with the move;
 * what it does outside the store is done at least once (after a failure
 * the same events come again).  An error from fn aborts the batch.
 * *handled (may be NULL) gets how many were handed over.  A consumer
 * becomes known to the log (and holds back trimming) at its first call.
 */
sup_err event_consume(struct store *s, const char *consumer, long max,
    sup_err (*fn)(struct store *s, DB_TXN *txn, void *ctx, int64_t seq,
    const char *text, size_t len), void *ctx, long *handled);

/*
 * Delete the events older than retention_days (at now_us) that every
 * known consumer has passed, oldest first, in transactions of
 * EVENT_TRIM_BATCH, at most max of them (0: all); the newest event is
 * always kept (it carries the numbering on).  *removed (may be NULL) gets
 * how many went.
 */
#define EVENT_TRIM_BATCH 500
sup_err event_trim(struct store *s, long retention_days, int64_t now_us,
    long max, long *removed);

/*
 * Rewrite stored events in place, for retention and erasure (docs/data.md):
 * fn gets each event of seq from 1 up to `upto` (INT64_MAX: all) as a
 * parsed object it may change (remove or replace members), and says
 * whether it did; a changed event is stored again under its seq, with
 * its seq, id, at and type as they were (fn must leave those), so the
 * numbering has no hole and a consumer reads it as any event.  With
 * passed_only, the walk stops at the least position of the known
 * consumers (an event a consumer has still to handle is left whole);
 * it stops too at the first event stamped at or after before_us
 * (INT64_MAX: none).
 * Batches of EVENT_TRIM_BATCH events, a transaction each.  *changed (may
 * be NULL) gets how many were rewritten; *held (may be NULL) how many
 * were left for a consumer.
 */
sup_err event_rewrite(struct store *s, bool passed_only, int64_t before_us,
    sup_err (*fn)(void *ctx, struct store *s, DB_TXN *txn, json_object *ev,
    bool *changed), void *ctx, long *changed, long *held);

#endif
