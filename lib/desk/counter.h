/*
 * counter.h - the counters area: named counts kept in the transaction of
 * the change they count, and the database the areas' sequences live in.
 *
 * Keys:
 *   counters         name (text)                         -> int64(8)
 *                    ("rr_last": the agent the round robin gave the
 *                    last ticket to, lib/desk/ticket.c)
 *   seqs             name (text)                         -> DB_SEQUENCE
 *                    (each area declares its own sequences in "seqs.db":
 *                    struct store_seq)
 *
 * The counters the tickets imply ("tickets", "user:N", ...) are checked
 * by the tickets' area, which keeps them (lib/desk/tstore.c).
 */
#ifndef SUP_COUNTER_H
#define SUP_COUNTER_H

#include <stdint.h>

#include "areas.h"
#include "store.h"

enum counter_db { COUNTER_DB_COUNTERS, COUNTER_DB_SEQS, COUNTER_NDB };

/* The counters database, for a walk of every counter (verify). */
static inline DB *
counter_db(const struct store *s)
{
	return store_db(s, AREA_COUNTER, COUNTER_DB_COUNTERS);
}

/*
 * Add delta to the counter name, inside txn (read for update); its value
 * (0 when it has none).  The store_ prefix is the name they had before
 * the areas; callers are everywhere.
 */
sup_err store_count_add(struct store *s, DB_TXN *txn, const char *name,
    int64_t delta);
sup_err store_count_get(struct store *s, DB_TXN *txn, const char *name,
    int64_t *out);

/*
 * The value of counter name (0 when it has none), read for update
 * (DB_RMW) inside txn: a position the transaction moves (store_count_add)
 * and no other may read meanwhile (the round robin's "rr_last").
 */
sup_err store_count_lock(struct store *s, DB_TXN *txn, const char *name,
    int64_t *out);

#endif
