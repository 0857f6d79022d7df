/*
 * ticket.h - tickets: create, show, change, list.  The status machine of
 * DESIGN §4 (docs/api.md says who may move a ticket where) and the
 * records' layout are the codec's (record.h).
 */
#ifndef SUP_TICKET_H
#define SUP_TICKET_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "conf.h"
#include "record.h"
#include "store.h"
#include "tstore.h"
#include "user.h"
#include "util.h"

/* The tickets' own errors (sup.h): what their rules refuse. */
#define TICKET_ELIMIT ((sup_err)SUP_ERR_AREA(SUP_AREA_TICKETS, 1))
#define TICKET_ETRANSITION ((sup_err)SUP_ERR_AREA(SUP_AREA_TICKETS, 2))
#define TICKET_ECLOSED ((sup_err)SUP_ERR_AREA(SUP_AREA_TICKETS, 3))
#define TICKET_EDUPLICATE ((sup_err)SUP_ERR_AREA(SUP_AREA_TICKETS, 4))

#define SUBJECT_MAX 255		/* characters */
#define CONTENT_MAX 65536	/* bytes */

struct att_batch;			/* lib/desk/attach.h */

struct ticket_new {
	const char *subject;
	size_t subject_len;
	const char *content;
	size_t content_len;
	enum ticket_priority priority;
	enum ticket_channel channel;	/* how it came in */
	uint32_t owner;			/* staff for a customer: theirs; 0: u */
	const struct att_batch *files;	/* the first message's files
					 * (attach.h: checked), or NULL */
	uint8_t uuid[UUID_LEN];		/* out: the new ticket's */
	uint8_t message[UUID_LEN];	/* out: its first message's */
};

/*
 * Open a ticket for u with its first message.  TICKET_ELIMIT when a customer
 * already has conf->max_tickets_per_user tickets neither resolved nor
 * closed; SUP_EINVAL for a priority or channel out of range.  *out is the
 * new ticket as u sees it, with "messages".
 *
 * With in->owner, staff u open it on behalf of that customer (whom the
 * caller has checked to be an active customer; SUP_EFORBIDDEN when u is
 * not staff): the ticket, its counts and the limit are the customer's;
 * the first message is the customer's request (is_from_user) with u its
 * sender; the event's actor is u and its user the customer.  Like any
 * ticket staff open, it is not given to anyone by auto_assign.
 */
sup_err ticket_create(struct store *s, const struct sup_conf *conf,
    const struct sup_user *u, struct ticket_new *in, json_object **out);

/*
 * ticket_create inside the caller's transaction txn (which also writes
 * what goes with the ticket: the webhook in's user and key, webin.h),
 * without the rendered ticket: in->uuid says which it is.  The same
 * checks, writes and ticket.created event; on a deadlock the caller's
 * store_run runs the whole transaction again.
 */
sup_err ticket_create_in(struct store *s, DB_TXN *txn,
    const struct sup_conf *conf, const struct sup_user *u,
    struct ticket_new *in);

/* The ticket with its messages; SUP_ENOTFOUND when absent or not u's. */
sup_err ticket_show(struct store *s, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], json_object **out);

struct ticket_patch {
	int status;		/* -1: unchanged */
	int priority;		/* -1: unchanged */
	const char *subject;	/* NULL: unchanged */
	size_t subject_len;
	bool set_assignee;
	uint32_t assignee;	/* 0: nobody */
};

/*
 * DESIGN §4's close_old_tickets: close every ticket resolved before
 * `before` (µs since the epoch), as staff closing it would (closed_at now,
 * resolved_at kept, the counters moved).  *closed gets how many.  Walks
 * only the resolved tickets (their status index), CLOSE_BATCH a
 * transaction, so a large store is not locked in one.
 */
#define CLOSE_BATCH 100
sup_err ticket_close_resolved(struct store *s, int64_t before, long *closed);

/*
 * Change a ticket.  Owners may only resolve or close (SUP_EFORBIDDEN for
 * anything else); TICKET_ETRANSITION for a transition the machine refuses;
 * SUP_EINVAL when the assignee is not a staff user.  *out as u sees it.
 */
sup_err ticket_update(struct store *s, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], const struct ticket_patch *p,
    json_object **out);

/*
 * Change the n tickets uuids[0..n) (1..TICKET_BULK_MAX of them) with the
 * one patch p by staff u, all in one transaction or none, each as
 * ticket_update would (record_status_move, the assignee a staff user's
 * id or 0, a ticket.updated event for each ticket that changes).  The
 * tickets are locked in uuid order, so two bulk updates do not deadlock
 * each other.  On a refusal *failed is the index in uuids of the ticket
 * refused first in the order given (n otherwise) and nothing changed:
 * TICKET_EDUPLICATE (it repeats an earlier one), SUP_ENOTFOUND (unknown),
 * TICKET_ETRANSITION, SUP_EINVAL (the assignee is not a staff user; also
 * for n out of range, with *failed == n).  SUP_EFORBIDDEN when u is not
 * staff.  *out is {"updated": how many changed, "results": the tickets
 * as the list shows them, in the order given}; the caller puts it.
 */
#define TICKET_BULK_MAX 100
sup_err ticket_bulk_update(struct store *s, const struct sup_user *u,
    const uint8_t (*uuids)[UUID_LEN], size_t n, const struct ticket_patch *p,
    size_t *failed, json_object **out);

enum ticket_order { ORDER_UPDATED, ORDER_CREATED, ORDER_NUMBER, ORDER_PRIORITY };

struct ticket_query {
	bool has_user;
	uint32_t user;
	unsigned status_mask;	/* bit per status; 0: any */
	int priority;		/* -1: any */
	bool has_assignee;
	uint32_t assignee;	/* 0: unassigned */
	const char *q;		/* words (lib/desk/textsearch.h) or #number;
				   NULL: any */
	size_t q_len;
	bool has_after, has_before;
	int64_t created_after, created_before;
	enum ticket_order order;
	bool desc;
	long page;		/* 1-based */
	long page_size;
};

/*
 * One page of tickets u may see (customers: only their own, whatever
 * q->user says).  *out is {"count", "results"}; SUP_ENOTFOUND for a page
 * past the end.
 */
sup_err ticket_list(struct store *s, const struct sup_user *u,
    const struct ticket_query *q, json_object **out);

/*
 * How many tickets each of the n queries q[i] finds, for staff u, from
 * the counters alone (t_counts, counters.db: docs/store.md "Counters"),
 * in one read transaction: counts[i] is -1 for a query the counters
 * cannot answer (a priority, q, creation times, a user with a status),
 * which is then not counted at all: this never walks an index, so it
 * costs the same whatever the store holds.  SUP_EFORBIDDEN for a
 * customer.
 */
sup_err ticket_counts(struct store *s, const struct sup_user *u,
    const struct ticket_query *q, size_t n, int64_t *counts);

/*
 * The counts of a change of user's ticket from status old_status and
 * assignee old_assignee (0: none) to status and assignee: its (status,
 * assignee) count in t_counts, "active:USER" when it goes from or to
 * resolved or closed, and "assignee:ID".  Nothing when neither changes.
 * Called last in a transaction: the counts are the store's most shared
 * pages.
 */
sup_err ticket_move_count(struct store *s, DB_TXN *txn, uint32_t user,
    int old_status, uint32_t old_assignee, int status, uint32_t assignee);

/*
 * Read a ticket, decoded into t (record_ticket_clear it), with flags
 * (DB_RMW: for update), and check u may see it: SUP_ENOTFOUND when absent
 * or another customer's; SUP_EDB when it is not a ticket.
 */
sup_err ticket_load(struct store *s, DB_TXN *txn, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], uint32_t flags, struct record_ticket *t);

/*
 * Read a ticket's stored text into d (DB_DBT_MALLOC: free(d->data)) and
 * its tail into tt, and check u may see it.  With cur != NULL, it is read
 * for update through a new cursor *cur, write-locked and left on the
 * record for ticket_save_text (the caller closes it: (*cur)->close).  On
 * error d->data and *cur are NULL: SUP_ENOTFOUND (absent, or another
 * customer's), SUP_EDB when the record is not laid out as record.h says.
 */
sup_err ticket_load_text(struct store *s, DB_TXN *txn,
    const struct sup_user *u, const uint8_t uuid[UUID_LEN], DBC **cur,
    DBT *d, struct ticket_tail *tt);

/*
 * Read only the internal fields of a ticket (owner, revision, counts),
 * without parsing it, and check u may see it.  For the cheapest reads.
 */
sup_err ticket_peek(struct store *s, DB_TXN *txn, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], struct ticket_tail *tt);

/*
 * Write a ticket's stored text (laid out as record.h says) over the record
 * of ticket uuid that cur is on (from ticket_load_text, which also gave
 * old, the record as it was), in the cursor's transaction, and move its
 * t_recent entry (store_recent_move) after it.  Through the cursor,
 * Berkeley DB has the old record at hand and leaves the index entries
 * whose keys do not change alone; a DB->put would look each of them up
 * and write-lock its page.  SUP_EDB when the text has no uuid (uuid) or
 * updated_at.
 */
sup_err ticket_save_text(struct store *s, DBC *cur,
    const uint8_t uuid[UUID_LEN], const DBT *old, const char *text,
    size_t len);

/*
 * Write the ticket t back, with its revision and updated_at moved on, and
 * its t_recent entry with it.  text gets the stored text (the caller
 * frees text->p, also on error).
 */
sup_err ticket_save(struct store *s, DB_TXN *txn, struct record_ticket *t,
    int64_t now, struct sbuf *text);

#endif
