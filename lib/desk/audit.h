/*
 * audit.h - the audit log (DESIGN §12, docs/architecture.md "The audit
 * log"): who changed what, when and from where.  An in-transaction
 * subscriber of the change-event log (event.h) keeps a copy of every
 * event an auditor asks about, so that the log holds it as long as the
 * desk does (the event log is trimmed after event_retention_days; the
 * audit log is not), with indexes for its three questions: what happened
 * between two dates, to this ticket, by this person.
 *
 * The events kept: ticket.updated (status, priority, assignee, subject),
 * message.edited and message.deleted (with the text before), user.created,
 * user.changed (role or password; not the away switch), user.disabled,
 * user.enabled, token.created, token.revoked, sessions.revoked,
 * login.succeeded and login.failed.  Each as the log stored it, with
 * its "addr" (the client address; absent for supportctl).
 *
 * Keys (integers big-endian):
 *   audit.db            at_us(8) seq(8)              -> the event's text
 *   audit_by_ticket.db  ticket(16) at_us(8) seq(8)   -> empty
 *   audit_by_actor.db   actor(4) at_us(8) seq(8)     -> empty
 * Both indexes are kept by hand in the event's transaction.  The "actor"
 * of a login is the account it concerns (a failed one has no actor in the
 * event log: nobody was logged in), so that an account's page of the log
 * shows the attempts on it.
 *
 * A store made before the audit log gets it built from the event log
 * that remains (the generic build path: "audit.build").
 */
#ifndef SUP_AUDIT_H
#define SUP_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "areas.h"
#include "store.h"
#include "util.h"

#define AUDIT_CURSOR_LEN 16	/* at_us(8) seq(8): a row's place */
#define AUDIT_PAGE_MAX 200	/* rows a page of the log holds at most */

/* What a read of the log asks for; every filter is optional. */
struct audit_query {
	uint32_t actor;			/* 0: anyone */
	const uint8_t *ticket;		/* a ticket's uuid, or NULL */
	const uint8_t *message;		/* a message's uuid (with ticket),
					   or NULL */
	int64_t from_us, to_us;		/* [from, to): INT64_MIN, INT64_MAX
					   for no bound */
	const uint8_t *before;		/* the rows after (older than) this
					   place, or NULL: from the newest */
	long limit;			/* 1 .. AUDIT_PAGE_MAX */
};

/*
 * The rows of the log that q asks for, newest first, into *rows (a new
 * array; json_object_put): each the stored event (seq, id, at, type,
 * actor, ticket, message, user, addr, changes, data) with, for the
 * readers, "actor_name" and "user_name" (usernames, null when none or
 * gone), "ticket_number" (null when the ticket is gone) and "changed"
 * ([{field, from, to}], the changes as a list, values as text).  *more
 * says whether older rows match; next (when *more) gets the place to
 * pass as q->before for them.  SUP_EINVAL for a bad limit, SUP_ENOMEM,
 * the store's errors.
 */
sup_err audit_list(struct store *s, const struct audit_query *q,
    json_object **rows, bool *more, uint8_t next[AUDIT_CURSOR_LEN]);

/*
 * The uuid of the ticket named by text[0..n): its uuid or its number.
 * SUP_ENOTFOUND when there is no such ticket, SUP_EINVAL when the text is
 * neither.
 */
sup_err audit_ticket_of(struct store *s, const char *text, size_t n,
    uint8_t uuid[UUID_LEN]);

/*
 * Hand every row of the audit log (an event as the log stored it, parsed)
 * to fn, in batches of short transactions, and store again under its key
 * each row fn says it changed: what an erasure uses to take a person's
 * name and addresses out of the rows (lib/desk/privacy.c), as it does
 * with the event log (event_rewrite).  *changed (may be NULL) gets how
 * many rows were rewritten.  fn's error, or the store's.
 */
sup_err audit_rewrite(struct store *s, sup_err (*fn)(void *ctx,
    struct store *s, DB_TXN *txn, json_object *row, bool *changed),
    void *ctx, long *changed);

/*
 * The purge of the ticket whose uuid is ticket (lib/desk/retention.c),
 * inside its transaction: its rows of the log are emptied of what they
 * say about it -- the ticket, the message, the changes (a subject, a
 * message's text before), the data, the client address -- and marked
 * "purged"; they keep their time, type and actor.  Its index entries go.
 * SUP_ENOMEM, the store's errors.
 */
sup_err audit_forget_ticket(struct store *s, DB_TXN *txn,
    const uint8_t ticket[UUID_LEN]);

#endif
