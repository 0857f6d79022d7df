/*
 * store.h - the Berkeley DB environment of DESIGN §5: every database, its
 * keys and secondary indexes, transactions with bounded deadlock retry,
 * counters and sequences.  Records are compact JSON values.
 *
 * Keys (all integers big-endian, so that byte order is numeric order):
 *   users            id(4)                               -> user record
 *   users_by_name    lowercase username                  (unique)
 *   users_by_email   lowercase e-mail                    (unique)
 *   tokens           sha256(token)(32)                   -> {user, name,
 *                                                         created_at,
 *                                                         last_used_at?}
 *                    "gen"                               -> int64(8) (the
 *                    revocation generation: lib/user.c)
 *   tickets          uuid(16)                            -> ticket record
 *   t_by_number      number(8)                           (unique)
 *   t_recent         ~updated_us(8) ~uuid(16)            -> ticket record
 *                    (a covering copy of tickets, newest first; kept by
 *                    lib/ticket.c in the ticket's transaction, not by
 *                    associate)
 *   t_by_user        user(4) updated_us(8) uuid(16)
 *   t_by_status      status(1) number(8)
 *   t_by_assignee    assignee(4, 0 = none) number(8)
 *   t_by_priority    priority(1) number(8)
 *   messages         ticket(16) created_us(8) uuid(16)  -> message record
 *   m_by_uuid        uuid(16)                            (unique)
 *   t_counts         status(1) assignee(4, 0 = none)      -> int64(8)
 *                    (tickets of each status and assignee; a status's
 *                    count is the sum of its range)
 *   counters         name (text)                         -> int64(8)
 *   seqs             name (text)                         -> DB_SEQUENCE
 *   sessions         'S' sha256(session id)(32)          -> session record
 *                    'U' user(4) sha256(session id)(32)  -> {} (a user's
 *                    sessions as one range; kept by lib/sess.c by hand)
 *   throttle         'a' address | 'u' user(4) | 'n' name -> {failures, since}
 */
#ifndef SUP_STORE_H
#define SUP_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <db.h>
#include <json-c/json.h>

#include "conf.h"
#include "sup.h"

#define MSG_KEY_LEN 40		/* ticket(16) created_us(8) uuid(16) */
#define T_IDX_KEY_MAX 29	/* the longest ticket index key */
#define RECENT_KEY_LEN 24	/* ~updated_us(8) ~uuid(16) */

/*
 * A file in the store's directory that a backup holds locked (flock,
 * exclusive) while it copies the store; store_checkpoint holds it shared.
 */
#define STORE_BACKUP_LOCK "backup.lock"

/*
 * The orders and filters of the ticket lists.  IDX_UPDATED is activity
 * order: not an associated index but the covering t_recent (its
 * t_idx[] entry is NULL); store_ticket_key gives its key all the same.
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

#define STORE_SUBS_MAX 16
struct event_subscriber;

struct store {
	DB_ENV *env;
	DB *users, *users_by_name, *users_by_email, *tokens;
	DB *tickets, *t_idx[IDX_MAX];	/* t_idx[IDX_UPDATED] is NULL */
	DB *t_recent;			/* tickets, newest activity first */
	DB *messages, *m_by_uuid;
	DB *t_counts, *counters, *seqs;
	DB *sessions, *throttle;
	DB *events, *event_pos;		/* the change-event log (event.c) */
	DB_SEQUENCE *ticket_seq, *user_seq;
	const struct sup_conf *conf;	/* what it was opened with */
	/* The event log's subscribers (event.h), in the order they run. */
	const struct event_subscriber *event_subs[STORE_SUBS_MAX];
	size_t event_nsubs;
	int64_t last_upkeep;		/* second of the last store_maintain */
	struct store_cache *cache;	/* index fields of recent records */
	struct user_cache *users_cache;	/* public texts of users (user.c) */
	struct view_cache *views_cache;	/* last messages of tickets (view.c) */
	DB_LSN opened_end;		/* end of the log once open (store_close) */
	int region_fd;			/* the environment's __db.001, or -1 */
	int backup_fd;			/* STORE_BACKUP_LOCK, or -1 */
};

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
 * Open (creating when needed) the environment in conf->data_dir and every
 * database.  Recovery runs only when a process died holding the
 * environment (DB_REGISTER).  On error the store is left closed.
 */
sup_err store_open(struct store *s, const struct sup_conf *conf);
void store_close(struct store *s);

/*
 * Whether another process has run recovery since this store was opened:
 * the environment it has open is then a discarded one, and a lock wait in
 * it is never woken.  Recovery removes the region files and makes new
 * ones, so the store keeps its environment's first region file open and
 * looks whether it still has a name.  One fstat: safe in a signal
 * handler.  False when the store is closed.
 */
bool store_abandoned(const struct store *s);

/*
 * Reopen after SUP_ERECOVER: another process ran recovery.  The event
 * subscribers stay.
 */
sup_err store_reopen(struct store *s, const struct sup_conf *conf);

/*
 * Add an event subscriber (event.h) to an open store; it runs in every
 * transaction that appends an event, after those added before it, until
 * the store is closed.  SUP_ECONFIG past STORE_SUBS_MAX.
 */
sup_err store_subscribe(struct store *s, const struct event_subscriber *sub);

/*
 * Run fn in one transaction, committing when it returns SUP_OK and aborting
 * otherwise.  A deadlock or lock timeout aborts and runs fn again, a bounded
 * number of times with a short random back-off; then SUP_EBUSY.  When
 * another process has run recovery meanwhile, the store is reopened and fn
 * run again, once.  fn must start its work afresh each time it is called
 * (reset what it wrote to arg).  flags: STORE_READ for transactions that
 * only read (read-committed).
 */
typedef sup_err (*store_fn)(struct store *s, DB_TXN *txn, void *arg);
#define STORE_READ 1u
sup_err store_run(struct store *s, unsigned flags, store_fn fn, void *arg);

/*
 * store_run for a transaction that builds one JSON result in *result (a
 * field of arg): on success it is handed to *out, otherwise released and
 * *out is NULL.
 */
sup_err store_run_json(struct store *s, unsigned flags, store_fn fn, void *arg,
    json_object **result, json_object **out);

/* Map a Berkeley DB return code to sup_err (logging the unexpected ones). */
sup_err store_err(int rc, const char *what);

/* Get a record and parse it.  *out is new; json_object_put() it. */
sup_err store_get(DB *db, DB_TXN *txn, const void *key, size_t klen,
    uint32_t flags, json_object **out);

/* Write a record as compact JSON.  flags: 0 or DB_NOOVERWRITE. */
sup_err store_put(DB *db, DB_TXN *txn, const void *key, size_t klen,
    json_object *val, uint32_t flags);

/* Parse a stored record.  *out is new; json_object_put() it. */
sup_err store_parse(const DBT *data, json_object **out);

/* Counters kept in the same transaction as the change they count. */
sup_err store_count_add(struct store *s, DB_TXN *txn, const char *name,
    int64_t delta);
sup_err store_count_get(struct store *s, DB_TXN *txn, const char *name,
    int64_t *out);

/*
 * The same for a count (8 bytes, big-endian; 0 when absent) under key in
 * another database, for a module that keeps one beside its records.  The
 * add reads for update (DB_RMW).
 */
sup_err store_count_add_db(DB *db, DB_TXN *txn, const void *key, size_t klen,
    int64_t delta);
sup_err store_count_get_db(DB *db, DB_TXN *txn, const void *key, size_t klen,
    int64_t *out);

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

/* The next value of a sequence, inside txn (rolled back with it). */
sup_err store_seq_next(DB_SEQUENCE *seq, DB_TXN *txn, int64_t *out);

/* Write a checkpoint now, so that the log can be trimmed. */
void store_checkpoint(struct store *s, bool force);

/*
 * Upkeep after a request, at most once a second: fail the lock waits older
 * than lock_timeout_ms (Berkeley DB checks timeouts only when deadlock
 * detection runs) and checkpoint once 1 MB of log or a minute has passed.
 */
void store_maintain(struct store *s);

/*
 * Grow the buffer *buf of a bulk read (DB_MULTIPLE_KEY), of *cap bytes,
 * by doubling until it holds need bytes (Berkeley DB's DB_BUFFER_SMALL
 * says how many); false when out of memory (the buffer is left as it was).
 */
bool store_bulk_grow(void **buf, size_t *cap, size_t need);

/*
 * Ticket index keys of a ticket record (for building scan bounds); for
 * IDX_UPDATED the key of its t_recent entry.  0 when the record lacks a
 * field the key is made of.
 */
size_t store_ticket_key(enum store_index idx, json_object *rec,
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

/*
 * Check every database file page by page, then that the indexes and
 * counters agree with the records.  Run with no server writing.  Each
 * problem found is written to report (one line each).
 */
sup_err store_verify(const struct sup_conf *conf,
    void (*report)(void *ctx, const char *line), void *ctx, long *problems);

#endif
