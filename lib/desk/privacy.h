/*
 * privacy.h - a user's data: everything the desk holds about an account,
 * as JSON (`supportctl user export`), and its erasure (`supportctl user
 * erase`): docs/data.md.
 */
#ifndef SUP_PRIVACY_H
#define SUP_PRIVACY_H

#include <stdint.h>

#include "export.h"
#include "store.h"

/*
 * Write, through write(ctx, ...), one JSON object of what the desk holds
 * about account id: "user" (its record but the password hash), "tokens"
 * (their metadata: never a secret), "sessions" (metadata: never an id),
 * "saved_views", "canned_responses" (its own, staff only), "tickets" (the
 * tickets it opened or that were opened for it, with their messages, as
 * staff see them), "messages" (what it wrote in other tickets), "events"
 * (the events of the log it did, or that are about it).  The tickets,
 * the messages and the events are read in batches of a short read
 * transaction each and written as they come: the messages are a walk of
 * every message of the store (none is indexed by author).  SUP_ENOTFOUND,
 * SUP_ENOMEM, the store's and write's errors.
 */
sup_err user_data_export(struct store *s, uint32_t id, export_write_fn write,
    void *ctx);

struct erase_stats {
	long sessions, views, canned, marks, events, audit;
	long mails;		/* deliveries dropped from the outbox */
	long senders;		/* support-mailin's counts of its address */
	long seen;		/* support-mailin's kept Message-IDs of it */
};

/*
 * Erase account id's personal data: the account becomes a stub that keeps
 * its id (user_erase: its messages stay, shown by "Deleted user"), its
 * sessions, tokens, login throttle records, presence marks, saved views
 * and personal canned responses go, the outbox's deliveries to it or
 * about its tickets (any state: their bytes hold its name and address)
 * and support-mailin's counts of its address and the Message-IDs it
 * keeps of the mails from it (mailin_seen_forget_user) go, and every event of the log (and
 * every row of the audit log, which keeps copies of them) is rewritten
 * without its name, e-mail and display name (any string equal
 * to one of them becomes "Deleted user") and, for the events by or about
 * it, without the addresses it logged in from.  USER_ELASTADMIN for the
 * last active admin (nothing is changed then); SUP_ENOTFOUND.  Each step
 * is a transaction of its own and can be run again: an erasure cut short
 * is finished by running it again.
 */
sup_err user_data_erase(struct store *s, uint32_t id, struct erase_stats *st);

#endif
