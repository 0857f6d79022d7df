/*
 * retention.h - the end of old tickets (`supportctl purge_old_tickets`):
 * closed tickets untouched for ticket_retention_days go, with their
 * messages, index entries, counts, presence marks, and what the event log
 * says of them (docs/data.md).
 */
#ifndef SUP_RETENTION_H
#define SUP_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include <db.h>
#include <json-c/json.h>

#include "store.h"

struct purge_stats {
	long attachments;	/* attachment records removed */
	long files;		/* files no record used any more, removed */
	long tickets;		/* purged (with dry_run: that would be) */
	long messages;		/* their messages */
	long events;		/* events emptied of the purged tickets */
	long events_held;	/* events a consumer has still to handle */
	long mails;		/* deliveries about them dropped */
};

/*
 * Remove every closed ticket whose last change (updated_at: its closing,
 * or a later change of a closed ticket) is before before_us, in batches
 * of a transaction each, then empty the events about tickets that are no
 * longer there, up to where every consumer of the log has read, and
 * drop the outbox's deliveries about them.  With
 * dry_run nothing is written and st counts what would go (the tickets and
 * their messages; events are not counted then).  SUP_ENOMEM, the store's
 * errors; st counts what was done before an error.
 */
sup_err ticket_purge(struct store *s, int64_t before_us, bool dry_run,
    struct purge_stats *st);

/*
 * event_rewrite's fn for a purge: an event naming a ticket that tickets.db
 * no longer holds loses "ticket", "message", "changes" and "data" and
 * gets "purged": true.
 */
sup_err ticket_purge_event(void *ctx, struct store *s, DB_TXN *txn,
    json_object *ev, bool *changed);

#endif
