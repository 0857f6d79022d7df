/*
 * tstore.h - the tickets' area of the store: tickets.db, its indexes, the
 * covering index of activity order (t_recent), the counts of each status
 * and assignee (t_counts), the ticket number sequence; the index keys
 * read from the stored records, the builds of t_recent and t_counts for
 * an older store, and the check `supportctl db verify` runs on them.
 *
 * Keys (integers big-endian, so that byte order is numeric order):
 *   tickets          uuid(16)                            -> ticket record
 *   t_by_number      number(8)                           (unique)
 *   t_recent         ~updated_us(8) ~uuid(16)            -> ticket record
 *                    (a covering copy of tickets, newest first; kept by
 *                    lib/desk/ticket.c in the ticket's transaction, not by
 *                    associate)
 *   t_by_user        user(4) updated_us(8) uuid(16)
 *   t_by_status      status(1) number(8)
 *   t_by_assignee    assignee(4, 0 = none) number(8)
 *   t_by_priority    priority(1) number(8)
 *   t_counts         status(1) assignee(4, 0 = none)      -> int64(8)
 *                    (tickets of each status and assignee; a status's
 *                    count is the sum of its range)
 */
#ifndef SUP_TSTORE_H
#define SUP_TSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "areas.h"
#include "store.h"

#define T_IDX_KEY_MAX 29	/* the longest ticket index key */
#define RECENT_KEY_LEN 24	/* ~updated_us(8) ~uuid(16) */

/*
 * The databases of the area, in the order they are opened: t_counts
 * before tickets.db, so that a store with tickets.db alone is an older
 * one (the t_counts build).  From TDB_NUMBER on, in the order of enum
 * store_index (ticket_index_db).
 */
enum ticket_db {
	TDB_COUNTS,
	TDB_TICKETS,
	TDB_NUMBER,
	TDB_RECENT,
	TDB_USER,
	TDB_STATUS,
	TDB_ASSIGNEE,
	TDB_PRIORITY,
	TICKET_NDB
};

/* The sequences of the area. */
enum ticket_seq { TSEQ_NUMBER, TICKET_NSEQ };

/*
 * The orders and filters of the ticket lists.  IDX_UPDATED is activity
 * order: not an associated index but the covering t_recent;
 * store_ticket_key gives its key all the same.
 */
enum store_index {
	IDX_NUMBER,
	IDX_UPDATED,
	IDX_USER,
	IDX_STATUS,
	IDX_ASSIGNEE,
	IDX_PRIORITY,
	IDX_MAX
};

/* A database of the area. */
static inline DB *
ticket_db(const struct store *s, enum ticket_db i)
{
	return store_db(s, AREA_TICKET, i);
}

/* The database a list in order idx walks (t_recent for IDX_UPDATED). */
static inline DB *
ticket_index_db(const struct store *s, enum store_index idx)
{
	return store_db(s, AREA_TICKET, TDB_NUMBER + (unsigned)idx);
}

/* The sequence of ticket numbers. */
static inline DB_SEQUENCE *
ticket_number_seq(const struct store *s)
{
	return store_seq(s, AREA_TICKET, TSEQ_NUMBER);
}

/* The status names, in the order of their one-byte index key. */
enum ticket_status {
	ST_OPEN,
	ST_WAITING_FOR_ADMIN,
	ST_WAITING_FOR_USER,
	ST_RESOLVED,
	ST_CLOSED,
	ST_MAX
};
extern const char *const ticket_status_names[ST_MAX + 1];
int ticket_status_from(const char *name);	/* -1 when unknown */

/* The priorities, in the order of their one-byte index key. */
enum ticket_priority { PRI_LOW, PRI_NORMAL, PRI_HIGH, PRI_URGENT, PRI_MAX };
extern const char *const ticket_priority_names[PRI_MAX + 1];
int ticket_priority_from(const char *name);	/* -1 when unknown */
/*
 * The index in names (ticket_status_names, ticket_priority_names) of the
 * quoted JSON text v[0..n) (`"open"`, quotes included), or -1.
 */
int ticket_name_quoted(const char *const *names, const char *v, size_t n);

/*
 * The tickets of each status and assignee (t_counts), kept in the
 * transaction of every change to either: add delta to the count of
 * (status, assignee); get it; or get the count of status whatever the
 * assignee (the sum of its range: one entry for each assignee that has
 * had tickets of that status, and "none").
 */
sup_err store_tcount_add(struct store *s, DB_TXN *txn, int status,
    uint32_t assignee, int64_t delta);
sup_err store_tcount_get(struct store *s, DB_TXN *txn, int status,
    uint32_t assignee, int64_t *out);
sup_err store_tcount_status(struct store *s, DB_TXN *txn, int status,
    int64_t *out);

/*
 * Call fn with each entry of t_counts (status, assignee, count), in key
 * order, in one walk of the file (a leaf page or two): for a page that
 * needs the counts of several statuses and assignees at once.  Stops at
 * the first error fn returns.
 */
sup_err store_tcount_each(struct store *s, DB_TXN *txn,
    void (*fn)(void *ctx, int status, uint32_t assignee, int64_t n),
    void *ctx);

/*
 * Ticket index keys of a ticket's index fields (record_ticket_keys: for
 * building scan bounds, for the check); for IDX_UPDATED the key of its
 * t_recent entry.  Its length; 0 for an unknown index.
 */
struct record_keys;
size_t store_ticket_key(enum store_index idx, const struct record_keys *k,
    uint8_t key[T_IDX_KEY_MAX]);

/*
 * The covering index t_recent: every ticket's stored text again, keyed
 * by the complement of its updated_at (µs, big-endian) and of its uuid,
 * so that a forward walk is newest activity first (and among tickets
 * changed in the same microsecond, the order t_by_updated walked
 * backwards had).  A list in activity order then reads one B-tree, a
 * page of entries a call, with no lookup in tickets.db.
 */
void store_recent_key(uint8_t key[RECENT_KEY_LEN], int64_t updated_us,
    const uint8_t uuid[16]);
/* The uuid of a t_recent key. */
void store_recent_uuid(const uint8_t key[RECENT_KEY_LEN], uint8_t uuid[16]);

/*
 * The uuid and the updated_at (µs) of a stored ticket text; false when
 * it has not both.  Shares the index callbacks' cache of the last two
 * records read, so the associated indexes of the same write do not read
 * them again.
 */
bool store_ticket_stamp(struct store *s, const void *text, size_t len,
    uint8_t uuid[16], int64_t *updated_us);

/*
 * Keep t_recent with a ticket write, inside its transaction: remove the
 * entry of the ticket's old updated_at old_us (none when old_us < 0, or
 * when it equals new_us: the put replaces it), then put text (the
 * record exactly as tickets.db now holds it) under new_us.  An old entry
 * that is not there is no error (verify reports such a store).
 */
sup_err store_recent_move(struct store *s, DB_TXN *txn,
    const uint8_t uuid[16], int64_t old_us, int64_t new_us,
    const void *text, size_t len);

#endif
