/*
 * store.h - the Berkeley DB environment of DESIGN §5: the databases the
 * areas register (below), transactions with bounded deadlock retry,
 * records as compact JSON, counts and sequences, the generic upgrade path
 * that builds an index an older store lacks, and verify.
 *
 * The store knows no area.  Each area of the desk (users, sessions,
 * tickets, messages, counters, ...) declares in its own file a struct
 * store_area: its databases (file, access method, flags; for a secondary
 * index its primary and key callback), its sequences, its verify check,
 * the builds of an index an older store may lack, and the hook that drops
 * its per-process cache.  The programs hand the list of the areas to
 * store_open (lib/desk/areas.c: desk_areas); each area reaches its handles
 * through the slot of its place in that list (store_db), and the keys of
 * its databases are written down in its own header or file (integers in
 * keys are big-endian everywhere, so that byte order is numeric order).
 * docs/architecture.md, "Areas and registration", says how to add one.
 */
#ifndef SUP_STORE_H
#define SUP_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <db.h>
#include <json-c/json.h>

#include "conf.h"
#include "sup.h"

/*
 * A file in the store's directory that a backup holds locked (flock,
 * exclusive) while it copies the store; store_checkpoint holds it shared.
 */
#define STORE_BACKUP_LOCK "backup.lock"

struct store;
struct store_check;
struct event_subscriber;	/* lib/desk/event.h: the store only holds them */

/* An associated index's key callback (DB->associate). */
typedef int (*store_key_fn)(DB *sec, const DBT *key, const DBT *data,
    DBT *result);

/* What a database of an area is. */
enum store_kind {
	STORE_PRIMARY,		/* records of its own */
	STORE_ASSOCIATED,	/* a secondary index kept by DB->associate */
	STORE_BY_HAND		/* an index the area keeps itself, in the
				   transaction of each write to its primary */
};

/*
 * One database of an area.  The store opens it in the store's directory
 * (creating it when absent), after DB->set_flags(flags) when flags is not
 * 0, with its app_private set to the struct store.  An associated index
 * is associated with its primary (earlier in the same table) through key;
 * DB_CREATE (build the index from the primary) is asked for only when its
 * file was made by this open: to find out whether an index is empty,
 * Berkeley DB reads its first leaf page for writing, which marks that
 * page dirty, so that every process wrote and flushed one page of every
 * index when it closed the store, reads only or not.  An index whose file
 * exists was made in the same transaction as its primary, by the same
 * code, and is kept with it by every write.  A by-hand index is opened as
 * a primary is: the area keeps it, and builds it for an older store
 * through a build (below).
 */
struct store_db {
	const char *file;		/* e.g. "tickets.db" */
	DBTYPE type;			/* DB_BTREE, DB_HASH, ... */
	uint32_t flags;			/* DB_DUP, DB_DUPSORT, ..., or 0 */
	enum store_kind kind;
	unsigned primary;		/* an index: its primary's place */
	store_key_fn key;		/* STORE_ASSOCIATED: its key */
};

/*
 * A sequence (DB_SEQUENCE, starting at 1) of an area, kept in the
 * database file `in`, which any area of the list may declare.
 */
struct store_seq {
	const char *name;		/* its key in `in` */
	const char *in;			/* e.g. "seqs.db" */
};

/*
 * The build of an index an older store lacks, run by the generic upgrade
 * path: before the store's files are opened, due() says whether it is due
 * (looking at the files: store_has_file) and the store makes the marker
 * file mark (flushed), so that a build cut short is done again from the
 * start by the next opener; after the opening transaction, the process
 * that gets the marker's lock (flock) runs run(), which builds in batches
 * of a transaction each (store_batches: a transaction holds a lock on
 * every page it writes until it ends, and one build of a million tickets
 * ran out of the lock table), then the log is flushed and the marker
 * removed.  The other openers wait for the lock, find the marker gone and
 * go on.  run() is called with every area open.
 */
struct store_build {
	const char *mark;		/* e.g. "t_recent.build" */
	bool (*due)(const struct store *s);
	sup_err (*run)(struct store *s);
};

/*
 * An area: its databases, sequences, builds, check and cache, all
 * optional but the name.  Declared static const in the area's file.
 *
 * verify: after every database file has been checked page by page, with
 * the store open and no server writing: report each problem with
 * store_problem; an error return stops verify.
 *
 * cache_new, cache_free: the area's per-process cache (of what it has
 * read, for later requests) lives in its slot of the store (store_cache),
 * so in the program's struct app with the store.  cache_new, when there
 * is one, makes it at open (NULL: SUP_ENOMEM); without it the area makes
 * its cache itself when first needed, into *store_cache().  cache_free
 * releases it (never called with NULL): store_caches_drop calls it for
 * every area, on close and so on every reopen after recovery.
 */
struct store_area {
	const char *name;
	const struct store_db *db;
	size_t ndb;
	const struct store_seq *seq;
	size_t nseq;
	const struct store_build *build;
	size_t nbuild;
	sup_err (*verify)(struct store *s, struct store_check *c);
	void *(*cache_new)(void);
	void (*cache_free)(void *cache);
	/*
	 * The area's part in the change-event log (lib/desk/event.h): its
	 * subscribers, run inside every transaction that appends an event
	 * (NULL-ended), and the names of its consumers of the log after
	 * commit (NULL-ended), which the log keeps its events for.
	 */
	const struct event_subscriber *const *subscribers;
	const char *const *consumers;
};

/* What the store holds of one area: in the order of its tables. */
struct store_slot {
	DB **db;			/* its databases (NULL when closed) */
	DB_SEQUENCE **seq;		/* its sequences */
	void *cache;			/* its per-process cache, or NULL */
};

struct store {
	DB_ENV *env;
	const struct store_area *const *areas;	/* as opened (NULL-ended) */
	size_t nareas;
	struct store_slot *slot;	/* one per area, in the list's order */
	const struct sup_conf *conf;	/* what it was opened with */
	int64_t last_upkeep;		/* second of the last store_maintain */
	DB_LSN opened_end;		/* end of the log once open (store_close) */
	int region_fd;			/* the environment's __db.001, or -1 */
	int backup_fd;			/* STORE_BACKUP_LOCK, or -1 */
};

/*
 * The database i of the area at place `area` of the list the store was
 * opened with (an area's code knows its place: lib/desk/areas.h), and its
 * sequence i: loads only, on every request's path.
 */
static inline DB *
store_db(const struct store *s, unsigned area, unsigned i)
{
	return s->slot[area].db[i];
}

static inline DB_SEQUENCE *
store_seq(const struct store *s, unsigned area, unsigned i)
{
	return s->slot[area].seq[i];
}

/* The area's cache (store_area above): the place that holds it. */
static inline void **
store_cache(struct store *s, unsigned area)
{
	return &s->slot[area].cache;
}

/*
 * The place of the handle of the database file `file` of any area, or
 * the sequence name, by a walk of the tables: for builds, tools and
 * tests, not requests.  NULL when no open area has one.  The handle stays
 * the store's; a caller that closes it sets *place to NULL.
 */
DB **store_db_find(struct store *s, const char *file);
DB_SEQUENCE *store_seq_find(struct store *s, const char *name);

/*
 * Drop every area's per-process cache (cache_free).  The one place where
 * they are invalidated: store_close calls it, and so every reopen after
 * another process's recovery.
 */
void store_caches_drop(struct store *s);

/*
 * Open (creating when needed) the environment in conf->data_dir and every
 * database and sequence of the areas (a NULL-ended list, kept by the
 * store: static; NULL for none, as a backup opens it), then run the
 * builds due.  Recovery runs only when a process died holding the
 * environment (DB_REGISTER).  On error the store is left closed.
 */
sup_err store_open(struct store *s, const struct sup_conf *conf,
    const struct store_area *const *areas);
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
 * Reopen after SUP_ERECOVER: another process ran recovery.  With the
 * areas it was opened with.
 */
sup_err store_reopen(struct store *s, const struct sup_conf *conf);

/*
 * Run fn in one transaction, committing when it returns SUP_OK and aborting
 * otherwise.  A deadlock or lock timeout aborts and runs fn again, a bounded
 * number of times with a short random back-off; then SUP_EBUSY.  When
 * another process has run recovery meanwhile, the store is reopened and fn
 * run again, once.  fn must start its work afresh each time it is called
 * (reset what it wrote to arg).  flags: STORE_READ for transactions that
 * only read (read-committed); STORE_NOSYNC (below).
 */
typedef sup_err (*store_fn)(struct store *s, DB_TXN *txn, void *arg);
#define STORE_READ 1u
/*
 * STORE_NOSYNC: a write whose loss in a crash costs nothing (the agents'
 * presence marks): committed without waiting for the log to reach the
 * disk, whatever the durability setting.
 */
#define STORE_NOSYNC 2u
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

/*
 * A count (8 bytes, big-endian; 0 when absent) under key in db, for an
 * area that keeps one beside its records.  The add reads for update
 * (DB_RMW).
 */
sup_err store_count_add_db(DB *db, DB_TXN *txn, const void *key, size_t klen,
    int64_t delta);
sup_err store_count_get_db(DB *db, DB_TXN *txn, const void *key, size_t klen,
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

/* --- For builds (struct store_build) ------------------------------------ */

/* Is there a file name in the store's directory? */
bool store_has_file(const struct store *s, const char *name);

/*
 * One batch of a build, inside txn: do up to a batch's work from where
 * arg says, and say in *n how much it did (0: the pass is over).  A
 * Berkeley DB return code.
 */
typedef int (*store_batch_fn)(struct store *s, DB_TXN *txn, void *arg,
    size_t *n);

/*
 * Run batches until one does nothing, each in its transaction (committed
 * without waiting for the disk: a crash leaves the build's marker, and
 * the build starts again).  A deadlocked batch is run again from where it
 * began: arg (argsize bytes) is restored as it was before it.  what names
 * the build in messages.
 */
sup_err store_batches(struct store *s, store_batch_fn fn, void *arg,
    size_t argsize, const char *what);

/* --- Verify ------------------------------------------------------------- */

/*
 * Check every database file of the areas page by page, then run each
 * area's check (struct store_area: verify).  Run with no server writing.
 * Each problem found is written to report (one line each).
 */
sup_err store_verify(const struct sup_conf *conf,
    const struct store_area *const *areas,
    void (*report)(void *ctx, const char *line), void *ctx, long *problems);

/* Report one problem of a check (a line of at most 511 bytes). */
SUP_PRINTF(2, 3) void store_problem(struct store_check *c, const char *fmt,
    ...);

/* The number of records of db (a walk outside any transaction). */
sup_err store_count_db(DB *db, int64_t *n);

#endif
