/*
 * outbox.h - the durable outbox (docs/mail.md, "Outbox"): deliveries the
 * desk owes the outside world (a mail now, a webhook call later), each
 * with a stable id, written by a consumer of the event log in the same
 * transaction that moves its position, and sent later by support-worker.
 *
 * A delivery, as stored and as `supportctl outbox list` shows it:
 *   {"id": "<uuid>", "kind": "mail", "to": "a@example.com",
 *    "event": "<uuid>"?, "ticket": "<uuid>"?, "label": "..."?,
 *    "state": "pending",
 *    "attempts": 0, "next_at": "<time>", "queued_at": "<time>",
 *    "created_at": "<time>", "sent_at": "<time>"?, "last_error": "..."?,
 *    "message": "<the bytes to send>"}
 * A webhook delivery's "to" is its subscription's name (the [webhook.NAME]
 * section, whose url and secret are read when it is sent) and its label
 * the event's type (docs/webhooks.md).
 * state is pending (due at next_at), sent or dead (given up: a permanent
 * refusal, or retried for outbox_retry_hours since queued_at).
 *
 * Delivery is at least once: a delivery is claimed (attempts + 1, next_at
 * moved a lease ahead) in one transaction, sent, then marked in another;
 * a worker killed between a send and its mark leaves the delivery to be
 * claimed again once the lease is over, and it goes out again with the
 * same bytes (the same Message-ID), which a receiver may drop.
 */
#ifndef SUP_OUTBOX_H
#define SUP_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include <db.h>
#include <json-c/json.h>

#include "store.h"
#include "sup.h"
#include "util.h"

/* The names of the consumers of the event log (outbox_area declares them). */
#define OUTBOX_MAIL_CONSUMER "mail"
#define OUTBOX_WEBHOOK_CONSUMER "webhooks"	/* lib/desk/webout.c */

#define OUTBOX_TO_MAX 254		/* bytes of a recipient or target */
#define OUTBOX_ERROR_MAX 300		/* bytes of a last error kept */
#define OUTBOX_LABEL_MAX 64		/* bytes of a label kept */
#define OUTBOX_SCAN_MAX 1000		/* index entries one page reads */
#define OUTBOX_MESSAGE_MAX (4L << 20)	/* bytes of a delivery's message */
#define OUTBOX_LEASE_US (5LL * 60 * 1000000)	/* a claim's hold */
#define OUTBOX_BACKOFF_FIRST_US (60LL * 1000000)	/* 1 min, doubling */
#define OUTBOX_BACKOFF_MAX_US (3600LL * 1000000)	/* ... up to 1 h */

enum outbox_kind { OUTBOX_MAIL, OUTBOX_WEBHOOK, OUTBOX_NKIND };
enum outbox_state { OUTBOX_PENDING, OUTBOX_SENT, OUTBOX_DEAD, OUTBOX_NSTATE };

extern const char *const outbox_kind_names[OUTBOX_NKIND];
/* The states' names, NULL after the last (a field's F_ENUM choices). */
extern const char *const outbox_state_names[OUTBOX_NSTATE + 1];

/* A delivery to add (outbox_add): what the caller gives. */
struct outbox_new {
	uint8_t id[UUID_LEN];		/* stable: the Message-ID's */
	enum outbox_kind kind;
	const char *to;			/* a mail address, a URL */
	const uint8_t *event;		/* its event, or NULL */
	const uint8_t *ticket;		/* its ticket, or NULL */
	const char *label;		/* what it is about, for the lists
					   (a webhook's event type), or NULL */
	const char *message;		/* the bytes to send */
	size_t len;
};

/*
 * Add d as a pending delivery due now, inside txn (the consumer's
 * transaction, so it is written exactly when the position moves).  A
 * delivery with d->id already stored is left as it is (SUP_OK): the
 * consumer's batch may be handed over again.  SUP_EINVAL for a recipient
 * empty, too long or with control bytes, or a message over
 * OUTBOX_MESSAGE_MAX; SUP_ENOMEM, SUP_EDEADLOCK, SUP_EDB.
 */
sup_err outbox_add(struct store *s, DB_TXN *txn, const struct outbox_new *d);

/* A claimed delivery (outbox_claim).  outbox_item_free releases it. */
struct outbox_item {
	uint8_t id[UUID_LEN];
	enum outbox_kind kind;
	char *to;			/* NUL-terminated */
	char *message;			/* len bytes (and a NUL) */
	size_t len;
	long attempts;			/* this one included */
};
void outbox_item_free(struct outbox_item *it);

/*
 * Claim the pending delivery due first at now_us (µs), if any is due:
 * its attempts grow by one and its next_at moves OUTBOX_LEASE_US ahead, in
 * one transaction, so another worker does not take it meanwhile.  *it is
 * filled (outbox_item_free it).  SUP_ENOTFOUND when none is due.
 */
sup_err outbox_claim(struct store *s, int64_t now_us, struct outbox_item *it);

/* The outcome of an attempt (outbox_done). */
enum outbox_outcome {
	OUTBOX_OK,		/* accepted: sent */
	OUTBOX_RETRY,		/* a temporary failure: try again later */
	OUTBOX_FAIL		/* a permanent refusal: dead now */
};

/*
 * Record the outcome of the attempt at delivery id, at now_us: sent; or
 * pending again after a back-off (OUTBOX_BACKOFF_FIRST_US doubling with
 * each attempt, at most OUTBOX_BACKOFF_MAX_US), unless that is later than
 * retry_hours after it was queued, then dead; or dead.  error (may be
 * NULL) is kept as last_error, cut to OUTBOX_ERROR_MAX bytes.  A delivery
 * dropped or sent meanwhile is left alone.  SUP_ENOTFOUND when there is
 * no such delivery.
 */
sup_err outbox_done(struct store *s, const uint8_t id[UUID_LEN],
    enum outbox_outcome how, const char *error, int64_t now_us,
    long retry_hours);

/* The back-off after the attempt numbered attempts (1, 2, ...), in µs. */
int64_t outbox_backoff_us(long attempts);

/*
 * Call fn with each delivery's record (without its "message"), oldest
 * first, in one read transaction; fn's error stops the walk and is
 * returned.  The record is the walk's: json_object_get it to keep it.
 */
sup_err outbox_list(struct store *s,
    sup_err (*fn)(void *ctx, json_object *rec), void *ctx);

/*
 * Delivery id's record, without its message, into *out (json_object_put).
 * SUP_ENOTFOUND.
 */
sup_err outbox_get(struct store *s, const uint8_t id[UUID_LEN],
    json_object **out);

/* What outbox_list_hooks reads. */
struct outbox_query {
	const char *to;			/* a subscription's name; NULL: all */
	int state;			/* enum outbox_state; -1: any */
	const uint8_t *before;		/* only deliveries older than this
					   id (a "next" place); NULL */
	long limit;			/* at most this many rows, >= 1 */
};

/*
 * The webhook deliveries q asks for, newest first, as records without
 * their message (a new array into *rows), read through their index
 * (outbox_hooks.db) in one read transaction: at most q->limit rows, and
 * at most OUTBOX_SCAN_MAX index entries looked at, so that a filter on a
 * state few have costs no more than that.  *more says whether there may
 * be more, and then next is the place to go on from (q->before of the
 * next call).  SUP_EINVAL for a bad q; store errors.
 */
sup_err outbox_list_hooks(struct store *s, const struct outbox_query *q,
    json_object **rows, bool *more, uint8_t next[UUID_LEN]);

/*
 * Queue delivery id again, due now, with its retry time counted afresh
 * (queued_at now); its attempts and last error are kept.  SUP_ENOTFOUND,
 * SUP_ECONFLICT when it was sent.
 */
sup_err outbox_retry(struct store *s, const uint8_t id[UUID_LEN]);

/* Delete delivery id, whatever its state.  SUP_ENOTFOUND. */
sup_err outbox_drop(struct store *s, const uint8_t id[UUID_LEN]);

/*
 * Delete every delivery, whatever its state, that match says *drop of:
 * match gets each record whole (its "message" too; the walk's: do not
 * keep it) inside the batch's transaction, 200 deliveries a
 * transaction.  What an erasure uses to take the mail about a person out
 * of the outbox (lib/desk/privacy.c).  *dropped (may be NULL) gets how
 * many went.  match's error, or the store's.
 */
sup_err outbox_drop_if(struct store *s, sup_err (*match)(void *ctx,
    struct store *s, DB_TXN *txn, json_object *rec, bool *drop), void *ctx,
    long *dropped);

/*
 * The counts of deliveries in each state (counts[OUTBOX_NSTATE]), and the
 * number of pending ones due at now_us.  For the tests and the worker.
 */
sup_err outbox_counts(struct store *s, int64_t now_us,
    int64_t counts[OUTBOX_NSTATE], int64_t *due);

/*
 * Delete the sent and dead deliveries created before before_us, at most
 * max (0: all).  *removed (may be NULL) gets how many went.
 */
sup_err outbox_trim(struct store *s, int64_t before_us, long max,
    long *removed);

/*
 * Whether this process appended, since the last call, an event that may
 * make a delivery (a ticket made or changed, a public message): a plain
 * CGI request asks, after its answer, whether to start a worker's pass.
 * The outbox's event subscriber sets it; the call clears it.
 */
bool outbox_woken(void);

#endif
