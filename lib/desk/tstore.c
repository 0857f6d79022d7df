/*
 * tstore.c - the tickets' area of the store (lib/desk/tstore.h): its
 * databases, the index keys read from the stored records (by position,
 * falling back to json-c), the covering index t_recent, the counts of
 * t_counts, the builds of both for an older store, and the area's check.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counter.h"
#include "msg.h"
#include "record.h"
#include "ticket.h"
#include "tstore.h"
#include "util.h"
#include "view.h"

#define RETRIES 10		/* of a deadlocked transaction (store.c's) */

const char *const ticket_status_names[ST_MAX + 1] = {
	"open", "waiting_for_admin", "waiting_for_user", "resolved", "closed",
	NULL
};

const char *const ticket_priority_names[PRI_MAX + 1] = {
	"low", "normal", "high", "urgent", NULL
};

/* The index of name in a NULL-terminated list, or -1. */
static int
name_index(const char *const *names, const char *name)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int
ticket_status_from(const char *name)
{
	return name_index(ticket_status_names, name);
}

int
ticket_priority_from(const char *name)
{
	return name_index(ticket_priority_names, name);
}

int
ticket_name_quoted(const char *const *names, const char *v, size_t n)
{
	if (n < 2 || v[0] != '"' || v[n - 1] != '"')
		return -1;
	for (int i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == n - 2 &&
		    memcmp(names[i], v + 1, n - 2) == 0)
			return i;
	return -1;
}


/* --- Secondary index keys -------------------------------------------- */

/*
 * The callbacks below get the stored bytes; the codec reads the fields
 * the keys are made of (record_keys_cached).  A record it cannot read is
 * left out of the index rather than failing the write.
 */
/*
 * The key of index idx for ticket fields f; its length.  Only the activity
 * indexes (updated, user) carry the time of the last change, so a message
 * moves those two; status, assignee and priority keep creation (number)
 * order and change only when their value does.
 */
static size_t
index_key(enum store_index idx, const struct record_keys *f,
    uint8_t key[T_IDX_KEY_MAX])
{
	size_t n = 0;

	switch (idx) {
	case IDX_NUMBER:
		be64_put(key, f->number);
		return 8;
	case IDX_UPDATED:
		store_recent_key(key, f->updated_us, f->uuid);
		return RECENT_KEY_LEN;
	case IDX_USER:
		be32_put(key, f->user);
		n = 4;
		break;
	case IDX_STATUS:
		key[0] = (uint8_t)f->status;
		be64_put(key + 1, f->number);
		return 9;
	case IDX_ASSIGNEE:
		be32_put(key, f->assignee);
		be64_put(key + 4, f->number);
		return 12;
	case IDX_PRIORITY:
		key[0] = (uint8_t)f->priority;
		be64_put(key + 1, f->number);
		return 9;
	default:
		return 0;
	}
	be64_put(key + n, (uint64_t)f->updated_us);
	memcpy(key + n + 8, f->uuid, UUID_LEN);
	return n + 8 + UUID_LEN;
}

size_t
store_ticket_key(enum store_index idx, const struct record_keys *k,
    uint8_t key[T_IDX_KEY_MAX])
{
	return index_key(idx, k, key);
}

/*
 * The index fields of the stored ticket data, through the area's cache
 * of the last two records read; false if it has none, or when they could
 * not be read for want of memory (then *nomem is set, when nomem is not
 * NULL).
 */
static bool
cached_fields_nomem(struct store *s, const DBT *data,
    const struct record_keys **f, bool *nomem)
{
	return record_keys_cached(*store_cache(s, AREA_TICKET), data->data,
	    data->size, f, nomem);
}

static bool
cached_fields(struct store *s, const DBT *data, const struct record_keys **f)
{
	return cached_fields_nomem(s, data, f, NULL);
}

static int
ticket_index_cb(DB *sec, enum store_index idx, const DBT *data, DBT *result)
{
	const struct record_keys *f;
	uint8_t key[T_IDX_KEY_MAX];
	size_t n;
	bool nomem;

	/* Out of memory fails the write: DB_DONOTINDEX would lose the key. */
	if (!cached_fields_nomem(sec->app_private, data, &f, &nomem))
		return nomem ? ENOMEM : DB_DONOTINDEX;
	if ((n = index_key(idx, f, key)) == 0)
		return DB_DONOTINDEX;
	if ((result->data = malloc(n)) == NULL)
		return ENOMEM;
	memcpy(result->data, key, n);
	result->size = (u_int32_t)n;
	result->flags = DB_DBT_APPMALLOC;
	return 0;
}

#define TICKET_INDEX(name, idx)						\
static int								\
name(DB *sec, const DBT *k SUP_UNUSED, const DBT *d, DBT *r)		\
{									\
	return ticket_index_cb(sec, idx, d, r);				\
}
TICKET_INDEX(idx_number, IDX_NUMBER)
TICKET_INDEX(idx_user, IDX_USER)
TICKET_INDEX(idx_status, IDX_STATUS)
TICKET_INDEX(idx_assignee, IDX_ASSIGNEE)
TICKET_INDEX(idx_priority, IDX_PRIORITY)


/* --- The covering index of activity order ----------------------------- */

void
store_recent_key(uint8_t key[RECENT_KEY_LEN], int64_t updated_us,
    const uint8_t uuid[UUID_LEN])
{
	be64_put(key, UINT64_MAX - (uint64_t)updated_us);
	for (size_t i = 0; i < UUID_LEN; i++)
		key[8 + i] = (uint8_t)~uuid[i];
}

void
store_recent_uuid(const uint8_t key[RECENT_KEY_LEN], uint8_t uuid[UUID_LEN])
{
	for (size_t i = 0; i < UUID_LEN; i++)
		uuid[i] = (uint8_t)~key[8 + i];
}

bool
store_ticket_stamp(struct store *s, const void *text, size_t len,
    uint8_t uuid[UUID_LEN], int64_t *updated_us)
{
	DBT d = { .data = (void *)text, .size = (u_int32_t)len };
	const struct record_keys *f;

	if (!cached_fields(s, &d, &f))
		return false;
	memcpy(uuid, f->uuid, UUID_LEN);
	*updated_us = f->updated_us;
	return true;
}

sup_err
store_recent_move(struct store *s, DB_TXN *txn, const uint8_t uuid[UUID_LEN],
    int64_t old_us, int64_t new_us, const void *text, size_t len)
{
	uint8_t key[RECENT_KEY_LEN];
	DBT k = { .data = key, .size = RECENT_KEY_LEN };
	DBT d = { .data = (void *)text, .size = (u_int32_t)len };
	DB *recent = ticket_db(s, TDB_RECENT);
	int rc;

	if (old_us >= 0 && old_us != new_us) {
		store_recent_key(key, old_us, uuid);
		rc = recent->del(recent, txn, &k, 0);
		if (rc != 0 && rc != DB_NOTFOUND)
			return store_err(rc, "t_recent del");
	}
	store_recent_key(key, new_us, uuid);
	return store_err(recent->put(recent, txn, &k, &d, 0), "t_recent put");
}


/*
 * Building t_recent (an upgrade).  A store made by an older version has
 * no t_recent.db but the associated t_by_updated.db; an older program run
 * on the store since has written tickets without their t_recent entries,
 * and made t_by_updated.db again.  Either way t_recent is built from
 * tickets.db by the first process that opens the store.  Not in the
 * opening transaction: a transaction holds a lock on every page it
 * writes until it ends, and a store of a million tickets ran out of the
 * lock table ("Lock table is out of available lock entries") and could
 * not be opened at all.  So the build runs in batches of RECENT_BATCH
 * tickets, a transaction each, after the opening one:
 *
 * - The file RECENT_MARK says a build is due; it is made (and flushed)
 *   before anything else, so a build cut short by a crash is done again
 *   from the start by the next opener.
 * - The processes that open the store meanwhile wait for the builder's
 *   lock on the marker (flock), then find the marker gone and go on.
 * - A build empties t_recent, fills it, removes t_by_updated.db, waits
 *   for the log to reach the disk, and removes the marker last.
 */
#define RECENT_MARK "t_recent.build"
#define RECENT_BATCH 200


/* Is a build of t_recent due (see above)?  Before the files are opened. */
static bool
recent_due(const struct store *s)
{
	return (store_has_file(s, "tickets.db") &&
	    !store_has_file(s, "t_recent.db")) ||
	    store_has_file(s, "t_by_updated.db");
}


/* One batch of a build: what it did, and where the next one starts. */
struct batch {
	bool fill;			/* filling (else emptying) t_recent */
	bool started;
	uint8_t last[UUID_LEN];		/* the last ticket filled */
	size_t n;			/* entries put or removed */
};

/* Remove up to RECENT_BATCH entries of t_recent, inside txn. */
static int
empty_batch(struct store *s, DB_TXN *txn, struct batch *b)
{
	DBT k = { .flags = DB_DBT_PARTIAL }, d = { .flags = DB_DBT_PARTIAL };
	DB *recent = ticket_db(s, TDB_RECENT);
	DBC *c;
	int rc;

	b->n = 0;
	if ((rc = recent->cursor(recent, txn, &c, 0)) != 0)
		return rc;
	while (b->n < RECENT_BATCH &&
	    (rc = c->get(c, &k, &d, DB_FIRST | DB_RMW)) == 0 &&
	    (rc = c->del(c, 0)) == 0)
		b->n++;
	c->close(c);
	return rc == DB_NOTFOUND ? 0 : rc;
}

/*
 * Put the t_recent entries of up to RECENT_BATCH tickets after b->last,
 * inside txn.  A record whose uuid or updated_at cannot be read is left
 * out, as the old index's callback left it out (verify reports it).
 */
static int
fill_batch(struct store *s, DB_TXN *txn, struct batch *b)
{
	uint8_t kb[UUID_LEN], uuid[UUID_LEN];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	int64_t us;
	DBC *c;
	int rc;

	b->n = 0;
	if ((rc = ticket_db(s, TDB_TICKETS)->cursor(ticket_db(s, TDB_TICKETS),
	    txn, &c, DB_READ_COMMITTED)) != 0)
		return rc;
	if (b->started) {
		memcpy(kb, b->last, UUID_LEN);
		k.size = UUID_LEN;
		rc = c->get(c, &k, &d, DB_SET_RANGE);
		if (rc == 0 && k.size == UUID_LEN &&
		    memcmp(kb, b->last, UUID_LEN) == 0)
			rc = c->get(c, &k, &d, DB_NEXT);
	} else {
		rc = c->get(c, &k, &d, DB_FIRST);
	}
	for (; rc == 0 && b->n < RECENT_BATCH;
	    rc = c->get(c, &k, &d, DB_NEXT)) {
		if (k.size != UUID_LEN || !store_ticket_stamp(s, d.data,
		    d.size, uuid, &us) || memcmp(kb, uuid, UUID_LEN) != 0) {
			fprintf(stderr, "support: a ticket record without a "
			    "readable uuid or updated_at is left out of "
			    "t_recent.db\n");
			continue;
		}
		if (store_recent_move(s, txn, uuid, -1, us, d.data, d.size) !=
		    SUP_OK) {
			rc = EIO;
			break;
		}
		memcpy(b->last, uuid, UUID_LEN);
		b->started = true;
		b->n++;
	}
	c->close(c);
	free(d.data);
	return rc == DB_NOTFOUND ? 0 : rc;
}

/* One batch of a pass of the build (store_batches). */
static int
recent_batch(struct store *s, DB_TXN *txn, void *arg, size_t *n)
{
	struct batch *b = arg;
	int rc = b->fill ? fill_batch(s, txn, b) : empty_batch(s, txn, b);

	*n = b->n;
	return rc;
}

/* The build of t_recent: empty it, fill it, remove t_by_updated.db. */
static sup_err
recent_run(struct store *s)
{
	struct batch b = { 0 };
	sup_err e;
	int rc;

	fprintf(stderr, "support: building t_recent.db from the tickets "
	    "(a store of an older version)\n");
	if ((e = store_batches(s, recent_batch, &b, sizeof(b),
	    "building t_recent.db")) != SUP_OK)
		return e;
	b.fill = true;
	if ((e = store_batches(s, recent_batch, &b, sizeof(b),
	    "building t_recent.db")) != SUP_OK)
		return e;
	rc = s->env->dbremove(s->env, NULL, "t_by_updated.db", NULL,
	    DB_AUTO_COMMIT);
	if (rc != 0 && rc != ENOENT)
		return store_err(rc, "t_by_updated.db");
	fprintf(stderr, "support: t_recent.db built\n");
	return SUP_OK;
}

/*
 * Building t_counts (an upgrade).  A store made before it kept one
 * counter per status in counters.db ("open", ...), and no count of each
 * status and assignee.  Its first opener counts every ticket of
 * tickets.db by status and assignee (a cursor outside any transaction:
 * one page locked at a time, however many tickets), then writes the
 * counts and removes the old counters in one transaction; an entry per
 * status and assignee, a few hundred at most.  The same marker protocol
 * as t_recent's (above) keeps the other openers waiting meanwhile, so
 * nothing of this version writes tickets while they are counted.
 *
 * The build is due when tickets.db is there and t_counts.db is not; a
 * store this version makes opens t_counts.db before tickets.db
 * (open_all).  Should another opener of a new store all the same see
 * tickets.db first and build, the counts are written only if t_counts is
 * still empty when the build's transaction reads it: a ticket written by
 * this version since has its count there already.
 */
#define COUNTS_MARK "t_counts.build"

static bool
counts_due(const struct store *s)
{
	return store_has_file(s, "tickets.db") &&
	    !store_has_file(s, "t_counts.db");
}

/* A count of the build: tickets of one status and assignee. */
struct tcount {
	uint8_t status;
	uint32_t assignee;
	int64_t n;
};

/* Add one to (status, assignee) in the sorted array *t of *n; false: no memory. */
static bool
tcount_one(struct tcount **t, size_t *n, size_t *cap, int status,
    uint32_t assignee)
{
	size_t lo = 0, hi = *n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		struct tcount *m = &(*t)[mid];
		if (m->status == status && m->assignee == assignee) {
			m->n++;
			return true;
		}
		if (m->status < status ||
		    (m->status == status && m->assignee < assignee))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct tcount *g = realloc(*t, c * sizeof(*g));
		if (g == NULL)
			return false;
		*t = g;
		*cap = c;
	}
	memmove(*t + lo + 1, *t + lo, (*n - lo) * sizeof(**t));
	(*t)[lo] = (struct tcount){ (uint8_t)status, assignee, 1 };
	(*n)++;
	return true;
}

/*
 * Write the counts t[0..n) and drop the old counters; *wrote false (and
 * nothing written) when t_counts has entries already.
 */
static sup_err
counts_write(struct store *s, DB_TXN *txn, const struct tcount *t, size_t n,
    bool *wrote)
{
	DBT k = { .flags = DB_DBT_PARTIAL }, d = { .flags = DB_DBT_PARTIAL };
	DB *counts = ticket_db(s, TDB_COUNTS);
	DBC *c;
	sup_err e = SUP_OK;
	int rc;

	if ((rc = counts->cursor(counts, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	rc = c->get(c, &k, &d, DB_FIRST | DB_RMW);
	c->close(c);
	*wrote = rc == DB_NOTFOUND;
	if (rc == 0)
		return SUP_OK;		/* counted by the writers already */
	if (rc != DB_NOTFOUND)
		return store_err(rc, "t_counts");
	for (size_t i = 0; i < n && e == SUP_OK; i++)
		e = store_tcount_add(s, txn, t[i].status, t[i].assignee,
		    t[i].n);
	for (int i = 0; i < ST_MAX && e == SUP_OK; i++) {
		DBT name = { .data = (void *)ticket_status_names[i],
			.size = (u_int32_t)strlen(ticket_status_names[i]) };
		DB *counters = counter_db(s);
		rc = counters->del(counters, txn, &name, 0);
		if (rc != 0 && rc != DB_NOTFOUND)
			e = store_err(rc, "counters");
	}
	return e;
}

static sup_err
counts_run(struct store *s)
{
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	struct tcount *t = NULL;
	size_t n = 0, cap = 0;
	int64_t tickets = 0;
	bool wrote = false;
	DB_TXN *txn;
	DBC *c;
	sup_err e = SUP_OK;
	int rc;

	fprintf(stderr, "support: building t_counts.db from the tickets "
	    "(a store of an older version)\n");
	if ((rc = ticket_db(s, TDB_TICKETS)->cursor(ticket_db(s, TDB_TICKETS),
	    NULL, &c, 0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		const struct record_keys *f;
		if (!cached_fields(s, &d, &f)) {
			fprintf(stderr, "support: a ticket record without a "
			    "readable status is left out of t_counts.db\n");
			continue;
		}
		if (!tcount_one(&t, &n, &cap, f->status, f->assignee)) {
			e = SUP_ENOMEM;
			break;
		}
		tickets++;
	}
	c->close(c);
	free(k.data);
	free(d.data);
	if (e == SUP_OK && rc != DB_NOTFOUND)
		e = store_err(rc, "tickets");
	for (int tries = 0; e == SUP_OK; tries++) {
		if ((rc = s->env->txn_begin(s->env, NULL, &txn, 0)) != 0) {
			e = store_err(rc, "txn_begin");
			break;
		}
		if ((e = counts_write(s, txn, t, n, &wrote)) == SUP_OK) {
			e = store_err(txn->commit(txn, 0), "commit");
			break;
		}
		txn->abort(txn);
		if (e != SUP_EDEADLOCK || tries + 1 >= RETRIES)
			break;
		e = SUP_OK;
	}
	free(t);
	if (e == SUP_OK && wrote)
		fprintf(stderr, "support: t_counts.db built (%" PRId64
		    " tickets)\n", tickets);
	else if (e == SUP_OK)
		fprintf(stderr, "support: t_counts.db had its counts "
		    "already\n");
	return e;
}


/* The t_counts key of (status, assignee). */
static void
tcount_key(uint8_t key[5], int status, uint32_t assignee)
{
	key[0] = (uint8_t)status;
	be32_put(key + 1, assignee);
}

sup_err
store_tcount_get(struct store *s, DB_TXN *txn, int status, uint32_t assignee,
    int64_t *out)
{
	uint8_t key[5];

	tcount_key(key, status, assignee);
	return store_count_get_db(ticket_db(s, TDB_COUNTS), txn, key,
	    sizeof(key), out);
}

sup_err
store_tcount_add(struct store *s, DB_TXN *txn, int status, uint32_t assignee,
    int64_t delta)
{
	uint8_t key[5];

	tcount_key(key, status, assignee);
	return store_count_add_db(ticket_db(s, TDB_COUNTS), txn, key,
	    sizeof(key), delta);
}

sup_err
store_tcount_status(struct store *s, DB_TXN *txn, int status, int64_t *out)
{
	uint8_t key[5], buf[8];
	DBT k = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT d = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	DB *counts = ticket_db(s, TDB_COUNTS);
	DBC *c;
	int rc;

	*out = 0;
	tcount_key(key, status, 0);
	k.size = sizeof(key);
	if ((rc = counts->cursor(counts, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	for (rc = c->get(c, &k, &d, DB_SET_RANGE);
	    rc == 0 && k.size == sizeof(key) && key[0] == (uint8_t)status;
	    rc = c->get(c, &k, &d, DB_NEXT))
		if (d.size == 8)
			*out += (int64_t)be64_get(buf);
	c->close(c);
	return rc == 0 || rc == DB_NOTFOUND ? SUP_OK :
	    store_err(rc, "t_counts");
}

sup_err
store_tcount_each(struct store *s, DB_TXN *txn,
    void (*fn)(void *ctx, int status, uint32_t assignee, int64_t n),
    void *ctx)
{
	uint8_t key[5], buf[8];
	DBT k = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT d = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	DB *counts = ticket_db(s, TDB_COUNTS);
	DBC *c;
	int rc;

	if ((rc = counts->cursor(counts, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0)
		if (k.size == sizeof(key) && d.size == 8)
			fn(ctx, key[0], be32_get(key + 1),
			    (int64_t)be64_get(buf));
	c->close(c);
	return rc == DB_NOTFOUND ? SUP_OK : store_err(rc, "t_counts");
}

/* --- The area's check (supportctl db verify) ------------------------- */

/* The check of the area: problems go to sc; counts as the records say. */
struct check {
	struct store_check *sc;
	struct tally {
		char name[64];
		int64_t n;
		bool seen;		/* t_counts: its entry was found */
	} *tally;
	size_t ntally, captally;
};

#define problem(c, ...) store_problem((c)->sc, __VA_ARGS__)

/* The tally for name, or NULL. */
static struct tally *
tally_find(struct check *c, const char *name)
{
	for (size_t i = 0; i < c->ntally; i++)
		if (strcmp(c->tally[i].name, name) == 0)
			return &c->tally[i];
	return NULL;
}

static sup_err
tally(struct check *c, const char *name, int64_t delta)
{
	struct tally *t = tally_find(c, name);

	if (t != NULL) {
		t->n += delta;
		return SUP_OK;
	}
	if (c->ntally == c->captally) {
		size_t cap = c->captally ? c->captally * 2 : 64;
		struct tally *grown = realloc(c->tally, cap * sizeof(*grown));
		if (grown == NULL)
			return SUP_ENOMEM;
		c->tally = grown;
		c->captally = cap;
	}
	snprintf(c->tally[c->ntally].name, sizeof(c->tally[0].name), "%s",
	    name);
	c->tally[c->ntally].seen = false;
	c->tally[c->ntally++].n = delta;
	return SUP_OK;
}

/*
 * The tally's name for the count of (status, assignee) in t_counts: with
 * a space, so that no counter of counters.db has it.
 */
#define TCOUNT_TALLY "t_counts "

static void
tcount_name(char *buf, size_t n, int status, uint32_t assignee)
{
	snprintf(buf, n, TCOUNT_TALLY "%s %" PRIu32,
	    status >= 0 && status < ST_MAX ? ticket_status_names[status] : "?",
	    assignee);
}

/* The newest message of each kind in a thread: refs as in the tail. */
struct newest {
	bool has_public, has_note;
	uint8_t public[MSG_REF_LEN], note[MSG_REF_LEN];
};

/*
 * The messages of one ticket: public and internal counts, and the newest
 * of each (the thread is walked oldest first, so the last seen).
 */
static sup_err
count_messages(struct store *s, struct check *c, const uint8_t uuid[UUID_LEN],
    int64_t *pub, int64_t *notes, struct newest *nw)
{
	uint8_t key[MSG_KEY_LEN];
	DBT k = { .data = key, .ulen = sizeof(key), .size = UUID_LEN,
		.flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	DB *msgs = msg_db(s);
	DBC *cur;
	sup_err e = SUP_OK;
	int rc;

	*pub = *notes = 0;
	memset(nw, 0, sizeof(*nw));
	memcpy(key, uuid, UUID_LEN);
	if ((rc = msgs->cursor(msgs, NULL, &cur, 0)) != 0)
		return store_err(rc, "cursor");
	for (rc = cur->get(cur, &k, &d, DB_SET_RANGE);
	    rc == 0 && memcmp(key, uuid, UUID_LEN) == 0;
	    rc = cur->get(cur, &k, &d, DB_NEXT)) {
		struct record_message m;
		size_t cut;
		uint32_t author;
		if (!record_message_tail(d.data, d.size, &cut, &author,
		    &m.internal)) {
			problem(c, "a message is not laid out as the view "
			    "expects");
			if ((e = record_message_decode(d.data, d.size, &m)) !=
			    SUP_OK)
				break;
		}
		if (m.internal) {
			(*notes)++;
			nw->has_note = true;
			memcpy(nw->note, key + UUID_LEN, MSG_REF_LEN);
		} else {
			(*pub)++;
			nw->has_public = true;
			memcpy(nw->public, key + UUID_LEN, MSG_REF_LEN);
		}
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "messages");
	cur->close(cur);
	free(d.data);
	return e;
}

/*
 * The ticket's entry in the covering t_recent: under its updated_at and
 * uuid, with the record byte for byte as tickets.db holds it (d).  With
 * the count of entries equal to the count of tickets (check_records),
 * nothing else is in the file.
 */
static sup_err
check_recent(struct store *s, struct check *c, const struct record_keys *rk,
    const DBT *d, const uint8_t uuid[UUID_LEN], const char *us)
{
	uint8_t key[T_IDX_KEY_MAX];
	size_t n = rk != NULL ? store_ticket_key(IDX_UPDATED, rk, key) : 0;
	DBT k = { .data = key, .size = (u_int32_t)n };
	DBT rd = { .flags = DB_DBT_MALLOC };
	uint8_t back[UUID_LEN];
	int rc;

	if (n != RECENT_KEY_LEN) {
		problem(c, "ticket %s has no updated_at: not in t_recent", us);
		return SUP_OK;
	}
	store_recent_uuid(key, back);
	rc = ticket_db(s, TDB_RECENT)->get(ticket_db(s, TDB_RECENT), NULL, &k,
	    &rd, 0);
	if (rc == DB_NOTFOUND || memcmp(back, uuid, UUID_LEN) != 0)
		problem(c, "ticket %s is missing from t_recent", us);
	else if (rc != 0)
		return store_err(rc, "t_recent");
	else if (rd.size != d->size || memcmp(rd.data, d->data, d->size) != 0)
		problem(c, "ticket %s: its t_recent entry is not its record", us);
	free(rd.data);
	return SUP_OK;
}

/* One ticket t (decoded from its stored text d) against the rest. */
static sup_err
check_ticket(struct store *s, struct check *c, const struct record_ticket *t,
    const DBT *d)
{
	struct ticket_tail tt;
	struct ticket_head th;
	struct record_keys rk;
	struct newest nw;
	char us[UUID_STRLEN + 1];
	uint8_t key[T_IDX_KEY_MAX];
	int64_t pub, notes;
	bool has_keys;
	char name[64];
	sup_err e;

	uuid_format(t->uuid, us);
	/* The tail the view splices, and the head fields a post patches. */
	bool laid_out = record_ticket_tail(d->data, d->size, &tt) &&
	    record_ticket_head(d->data, d->size, &tt, &th);
	if (!laid_out)
		problem(c, "ticket %s is not laid out as the view expects", us);
	has_keys = record_ticket_keys(d->data, d->size, &rk, NULL);
	if ((e = count_messages(s, c, t->uuid, &pub, &notes, &nw)) != SUP_OK)
		return e;
	/* The refs to the newest messages, when the record has them. */
	if (laid_out && tt.has_refs &&
	    (tt.has_public != nw.has_public || tt.has_note != nw.has_note ||
	    (nw.has_public && memcmp(tt.last_public, nw.public,
	    MSG_REF_LEN) != 0) ||
	    (nw.has_note && memcmp(tt.last_note, nw.note, MSG_REF_LEN) != 0)))
		problem(c, "ticket %s: last_public or last_note does not name "
		    "its newest message of that kind", us);
	if (pub != t->public_count || notes != t->note_count)
		problem(c, "ticket %s: %" PRId64 " messages and %" PRId64
		    " notes stored, the ticket says %" PRId64 " and %" PRId64,
		    us, pub, notes, t->public_count, t->note_count);
	if ((e = check_recent(s, c, has_keys ? &rk : NULL, d, t->uuid, us)) !=
	    SUP_OK)
		return e;
	for (int i = 0; i < IDX_MAX; i++) {
		if (i == IDX_UPDATED)
			continue;	/* t_recent: above */
		DB *idx = ticket_index_db(s, i);
		size_t n = has_keys ? store_ticket_key(i, &rk, key) : 0;
		DBT k = { .data = key, .size = (u_int32_t)n };
		DBT pk = { .flags = DB_DBT_MALLOC };
		DBT pd = { .flags = DB_DBT_MALLOC };
		int rc = n == 0 ? DB_NOTFOUND :
		    idx->pget(idx, NULL, &k, &pk, &pd, 0);
		if (rc != 0 || pk.size != UUID_LEN ||
		    memcmp(pk.data, t->uuid, UUID_LEN) != 0)
			problem(c, "ticket %s is missing from index %d", us, i);
		free(pk.data);
		free(pd.data);
	}
	tcount_name(name, sizeof(name), t->status, t->assignee);
	char counter[64];
	record_counter(counter, sizeof(counter), RC_TICKETS, 0);
	if ((e = tally(c, counter, 1)) != SUP_OK ||
	    (e = tally(c, name, 1)) != SUP_OK)
		return e;
	record_counter(counter, sizeof(counter), RC_USER, t->user);
	if ((e = tally(c, counter, 1)) != SUP_OK)
		return e;
	record_counter(counter, sizeof(counter), RC_ASSIGNEE, t->assignee);
	if ((e = tally(c, counter, 1)) != SUP_OK)
		return e;
	record_counter(counter, sizeof(counter), RC_ACTIVE, t->user);
	return tally(c, counter, t->status != ST_RESOLVED &&
	    t->status != ST_CLOSED);
}

/* Ticket counters no record accounts for must be zero. */
static sup_err
check_stray_counters(struct store *s, struct check *c)
{
	DBC *cur;
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	char name[64];
	int rc;

	if ((rc = counter_db(s)->cursor(counter_db(s), NULL, &cur, 0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		snprintf(name, sizeof(name), "%.*s", (int)k.size,
		    (const char *)k.data);
		if (tally_find(c, name) == NULL && record_counter_name(name) &&
		    d.size == 8 &&
		    be64_get(d.data) != 0)
			problem(c, "counter %s is %" PRId64 ", no record "
			    "accounts for it", name, (int64_t)be64_get(d.data));
	}
	cur->close(cur);
	free(k.data);
	free(d.data);
	return rc == DB_NOTFOUND ? SUP_OK : store_err(rc, "counters");
}

/*
 * Every entry of t_counts against what the records say (one that no
 * record accounts for must be zero), then the counts the records imply
 * that t_counts has no entry for.
 */
static sup_err
check_tcounts(struct store *s, struct check *c)
{
	DBC *cur;
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	char name[64];
	int rc;

	if ((rc = ticket_db(s, TDB_COUNTS)->cursor(ticket_db(s, TDB_COUNTS),
	    NULL, &cur, 0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		const uint8_t *key = k.data;
		struct tally *t;
		int64_t n;
		if (k.size != 5 || d.size != 8 || key[0] >= ST_MAX) {
			problem(c, "t_counts has an entry of %u bytes, "
			    "value %u bytes", (unsigned)k.size,
			    (unsigned)d.size);
			continue;
		}
		tcount_name(name, sizeof(name), key[0], be32_get(key + 1));
		n = (int64_t)be64_get(d.data);
		if ((t = tally_find(c, name)) != NULL) {
			t->seen = true;
			if (n != t->n)
				problem(c, "counter %s is %" PRId64 ", the "
				    "records say %" PRId64, name, n, t->n);
		} else if (n != 0)
			problem(c, "counter %s is %" PRId64 ", no record "
			    "accounts for it", name, n);
	}
	cur->close(cur);
	free(k.data);
	free(d.data);
	if (rc != DB_NOTFOUND)
		return store_err(rc, "t_counts");
	for (size_t i = 0; i < c->ntally; i++)
		if (!c->tally[i].seen && c->tally[i].n != 0 &&
		    strncmp(c->tally[i].name, TCOUNT_TALLY,
		    strlen(TCOUNT_TALLY)) == 0)
			problem(c, "counter %s is 0, the records say %" PRId64,
			    c->tally[i].name, c->tally[i].n);
	return SUP_OK;
}

static sup_err
check_records(struct store *s, struct check *c)
{
	DBC *cur;
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	int64_t ntickets = 0, n;
	sup_err e = SUP_OK;
	int rc;

	if ((rc = ticket_db(s, TDB_TICKETS)->cursor(ticket_db(s, TDB_TICKETS),
	    NULL, &cur, 0)) != 0)
		return store_err(rc, "cursor");
	while (e == SUP_OK && (rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		struct record_ticket t;
		ntickets++;
		if ((e = record_ticket_decode(d.data, d.size, &t)) != SUP_OK) {
			if (e == SUP_EDB) {
				problem(c, "a ticket record is not a ticket: "
				    "%.*s", (int)d.size, (const char *)d.data);
				e = SUP_OK;
			}
			record_ticket_clear(&t);
			continue;
		}
		e = check_ticket(s, c, &t, &d);
		record_ticket_clear(&t);
	}
	cur->close(cur);
	free(k.data);
	free(d.data);
	if (e != SUP_OK)
		return e;
	if (rc != DB_NOTFOUND)
		return store_err(rc, "tickets");
	for (int i = 0; i < IDX_MAX; i++) {
		if ((e = store_count_db(ticket_index_db(s, i), &n)) != SUP_OK)
			return e;
		if (n != ntickets)
			problem(c, "index %d has %" PRId64 " entries for %"
			    PRId64 " tickets", i, n, ntickets);
	}
	/* Every counter the records imply, against the one kept. */
	for (size_t i = 0; i < c->ntally; i++) {
		const char *name = c->tally[i].name;
		if (strncmp(name, TCOUNT_TALLY, strlen(TCOUNT_TALLY)) == 0)
			continue;	/* check_tcounts */
		if ((e = store_count_get(s, NULL, name, &n)) != SUP_OK)
			return e;
		if (n != c->tally[i].n)
			problem(c, "counter %s is %" PRId64 ", the records say %"
			    PRId64, name, n, c->tally[i].n);
	}
	if ((e = check_tcounts(s, c)) != SUP_OK)
		return e;
	return check_stray_counters(s, c);
}

/*
 * The area's check: every ticket against its messages, its indexes and
 * its t_recent entry; the indexes' sizes; the counters the tickets imply
 * (counters.db and t_counts) against the records.
 */
static sup_err
ticket_verify(struct store *s, struct store_check *sc)
{
	struct check c = { .sc = sc };
	sup_err e = check_records(s, &c);

	free(c.tally);
	return e;
}
/* --- The area ---------------------------------------------------------- */

static void *
keys_cache_new(void)
{
	return record_keys_cache_new();
}

static void
keys_cache_free(void *cache)
{
	record_keys_cache_free(cache);
}

#define T_INDEX(f, cb) { .file = f, .type = DB_BTREE, \
	.kind = STORE_ASSOCIATED, .primary = TDB_TICKETS, .key = cb }

static const struct store_db ticket_dbs[TICKET_NDB] = {
	[TDB_COUNTS] = { .file = "t_counts.db", .type = DB_BTREE },
	[TDB_TICKETS] = { .file = "tickets.db", .type = DB_BTREE },
	[TDB_NUMBER] = T_INDEX("t_by_number.db", idx_number),
	[TDB_RECENT] = { .file = "t_recent.db", .type = DB_BTREE,
		.kind = STORE_BY_HAND, .primary = TDB_TICKETS },
	[TDB_USER] = T_INDEX("t_by_user.db", idx_user),
	[TDB_STATUS] = T_INDEX("t_by_status.db", idx_status),
	[TDB_ASSIGNEE] = T_INDEX("t_by_assignee.db", idx_assignee),
	[TDB_PRIORITY] = T_INDEX("t_by_priority.db", idx_priority),
};

static const struct store_seq ticket_seqs[TICKET_NSEQ] = {
	[TSEQ_NUMBER] = { .name = "ticket_number", .in = "seqs.db" },
};

/* The builds, in the order they run: t_recent, then t_counts. */
static const struct store_build ticket_builds[] = {
	{ RECENT_MARK, recent_due, recent_run },
	{ COUNTS_MARK, counts_due, counts_run },
};

const struct store_area ticket_area = {
	.name = "tickets",
	.db = ticket_dbs,
	.ndb = TICKET_NDB,
	.seq = ticket_seqs,
	.nseq = TICKET_NSEQ,
	.build = ticket_builds,
	.nbuild = SUP_NELEM(ticket_builds),
	.verify = ticket_verify,
	.cache_new = keys_cache_new,
	.cache_free = keys_cache_free,
};
