/*
 * outbox.c - the durable outbox (outbox.h).
 *
 * outbox.db       id(16)                   -> the delivery's record (JSON)
 * outbox_due.db   next_at(8) id(16)        -> nothing: the pending ones,
 *                                             by when they are due (kept
 *                                             by hand with each write)
 * outbox_hooks.db to NUL id(16)            -> nothing: the webhook
 *                 "*" NUL id(16)              deliveries, by subscription
 *                                             and all of them, in time
 *                                             order (kept by hand by add,
 *                                             drop and trim: the only
 *                                             writes that make or remove
 *                                             a delivery); the admins' log
 *                                             reads them newest first
 *
 * Times in keys are µs since the epoch, big-endian.  A claim moves the
 * due key a lease ahead before the send, so a worker that dies leaves the
 * delivery due again once the lease is over: nothing is lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "areas.h"
#include "event.h"
#include "outbox.h"
#include "webout.h"

enum outbox_db { ODB_OUTBOX, ODB_DUE, ODB_HOOKS, OUTBOX_NDB };

/* The deliveries, and the pending ones by when they are due. */
static inline DB *
outbox_db(const struct store *s)
{
	return store_db(s, AREA_OUTBOX, ODB_OUTBOX);
}

static inline DB *
due_db(const struct store *s)
{
	return store_db(s, AREA_OUTBOX, ODB_DUE);
}

static inline DB *
hooks_db(const struct store *s)
{
	return store_db(s, AREA_OUTBOX, ODB_HOOKS);
}

#define DUE_LEN (8 + UUID_LEN)
#define HOOK_KEY_MAX (OUTBOX_TO_MAX + 1 + UUID_LEN)
#define HOOK_ALL "*"		/* the key prefix of every webhook delivery */
#define HOUR_US (3600LL * 1000000)

const char *const outbox_kind_names[OUTBOX_NKIND] = {
	[OUTBOX_MAIL] = "mail", [OUTBOX_WEBHOOK] = "webhook",
};
const char *const outbox_state_names[OUTBOX_NSTATE + 1] = {
	[OUTBOX_PENDING] = "pending", [OUTBOX_SENT] = "sent",
	[OUTBOX_DEAD] = "dead", [OUTBOX_NSTATE] = NULL,
};

/* The index of name in names[n], or -1. */
static int
name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (name != NULL && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/* The key of delivery id due at `at` in outbox_due.db. */
static void
due_key(uint8_t key[DUE_LEN], int64_t at, const uint8_t id[UUID_LEN])
{
	be64_put(key, (uint64_t)at);
	memcpy(key + 8, id, UUID_LEN);
}

/* Note delivery id as due at `at`, inside txn.  A store error. */
static sup_err
due_put(struct store *s, DB_TXN *txn, int64_t at, const uint8_t id[UUID_LEN])
{
	uint8_t key[DUE_LEN];
	DBT k = { .data = key, .size = DUE_LEN }, d = { .data = "", .size = 0 };

	due_key(key, at, id);
	return store_err(due_db(s)->put(due_db(s), txn, &k, &d, 0),
	    "outbox_due");
}

/* Remove delivery id's entry due at `at` (none is no error).  A store error. */
static sup_err
due_del(struct store *s, DB_TXN *txn, int64_t at, const uint8_t id[UUID_LEN])
{
	uint8_t key[DUE_LEN];
	DBT k = { .data = key, .size = DUE_LEN };
	int rc;

	due_key(key, at, id);
	rc = due_db(s)->del(due_db(s), txn, &k, 0);
	return store_err(rc == DB_NOTFOUND ? 0 : rc, "outbox_due");
}

/* A member of rec as a time in µs (0 when absent or bad). */
static int64_t
rec_time(json_object *rec, const char *name)
{
	json_object *v;
	int64_t us;

	if (!json_object_object_get_ex(rec, name, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !time_parse(json_object_get_string(v), &us))
		return 0;
	return us;
}

/* Set member name of rec to the time us; false when out of memory. */
static bool
set_time(json_object *rec, const char *name, int64_t us)
{
	char buf[TIME_STRLEN + 1];

	time_format(us, buf);
	return json_set(rec, name, json_object_new_string(buf));
}

/* rec's state (enum outbox_state), or -1 when it has none we know. */
static int
rec_state(json_object *rec)
{
	return name_index(outbox_state_names, OUTBOX_NSTATE,
	    json_str(rec, "state"));
}

/* rec's attempts so far (0 when absent). */
static long
rec_attempts(json_object *rec)
{
	json_object *v;

	return json_object_object_get_ex(rec, "attempts", &v) ?
	    (long)json_object_get_int64(v) : 0;
}

/* Is to a recipient we keep: 1..OUTBOX_TO_MAX bytes, no control byte? */
static bool
to_ok(const char *to)
{
	size_t n = to != NULL ? strlen(to) : 0;

	if (n == 0 || n > OUTBOX_TO_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)to[i] < 0x20 || to[i] == 0x7f)
			return false;
	return true;
}

/*
 * Set member name of rec to uuid u (nothing for NULL); false when out of
 * memory.
 */
static bool
set_uuid(json_object *rec, const char *name, const uint8_t *u)
{
	char buf[UUID_STRLEN + 1];

	if (u == NULL)
		return true;
	uuid_format(u, buf);
	return json_set(rec, name, json_object_new_string(buf));
}

/* The key of webhook delivery id to `to` in outbox_hooks.db; its length. */
static size_t
hook_key(uint8_t key[HOOK_KEY_MAX], const char *to, const uint8_t *id)
{
	size_t n = strnlen(to, OUTBOX_TO_MAX);

	memcpy(key, to, n);
	key[n] = '\0';
	memcpy(key + n + 1, id, UUID_LEN);
	return n + 1 + UUID_LEN;
}

/*
 * Put (or with del, remove: none is no error) the two index entries of
 * webhook delivery id to `to`, inside txn.  A store error.
 */
static sup_err
hook_index(struct store *s, DB_TXN *txn, const char *to, const uint8_t *id,
    bool del)
{
	const char *names[2] = { to, HOOK_ALL };
	uint8_t key[HOOK_KEY_MAX];

	for (int i = 0; i < 2; i++) {
		DBT k = { .data = key }, d = { .data = "", .size = 0 };
		int rc;
		k.size = (uint32_t)hook_key(key, names[i], id);
		rc = del ? hooks_db(s)->del(hooks_db(s), txn, &k, 0) :
		    hooks_db(s)->put(hooks_db(s), txn, &k, &d, 0);
		if (rc != 0 && !(del && rc == DB_NOTFOUND))
			return store_err(rc, "outbox_hooks");
	}
	return SUP_OK;
}

/* Whether rec is a webhook delivery (its index entries are then due). */
static bool
rec_is_hook(json_object *rec)
{
	return name_index(outbox_kind_names, OUTBOX_NKIND,
	    json_str(rec, "kind")) == OUTBOX_WEBHOOK && json_str(rec, "to") !=
	    NULL;
}

sup_err
outbox_add(struct store *s, DB_TXN *txn, const struct outbox_new *d)
{
	int64_t now = time_now_us();
	json_object *rec = NULL;
	DBT k = { .data = (void *)d->id, .size = UUID_LEN };
	sup_err e;
	int rc;

	if ((unsigned)d->kind >= OUTBOX_NKIND || !to_ok(d->to) ||
	    d->message == NULL || d->len > (size_t)OUTBOX_MESSAGE_MAX)
		return SUP_EINVAL;
	/* Handed over again after a failed batch: it is there already. */
	rc = outbox_db(s)->exists(outbox_db(s), txn, &k, DB_RMW);
	if (rc == 0)
		return SUP_OK;
	if (rc != DB_NOTFOUND)
		return store_err(rc, "outbox");
	if ((rec = json_object_new_object()) == NULL ||
	    !set_uuid(rec, "id", d->id) ||
	    !json_set(rec, "kind",
	    json_object_new_string(outbox_kind_names[d->kind])) ||
	    !json_set(rec, "to", json_object_new_string(d->to)) ||
	    !set_uuid(rec, "event", d->event) ||
	    !set_uuid(rec, "ticket", d->ticket) ||
	    (d->label != NULL && !json_set(rec, "label",
	    json_object_new_string_len(d->label, (int)strnlen(d->label,
	    OUTBOX_LABEL_MAX)))) ||
	    !json_set(rec, "state", json_object_new_string("pending")) ||
	    !json_set(rec, "attempts", json_object_new_int(0)) ||
	    !set_time(rec, "next_at", now) ||
	    !set_time(rec, "queued_at", now) ||
	    !set_time(rec, "created_at", now) ||
	    !json_set(rec, "message", json_object_new_string_len(d->message,
	    (int)d->len))) {
		e = SUP_ENOMEM;
		goto out;
	}
	if ((e = store_put(outbox_db(s), txn, d->id, UUID_LEN, rec, 0)) ==
	    SUP_OK)
		e = due_put(s, txn, now, d->id);
	if (e == SUP_OK && d->kind == OUTBOX_WEBHOOK)
		e = hook_index(s, txn, d->to, d->id, false);
out:
	json_object_put(rec);
	return e;
}

void
outbox_item_free(struct outbox_item *it)
{
	free(it->to);
	free(it->message);
	memset(it, 0, sizeof(*it));
}

struct claim_args {
	int64_t now;
	struct outbox_item *it;
};

/* outbox_claim's transaction: the first due entry, if due, for a lease. */
static sup_err
claim_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct claim_args *a = arg;
	uint8_t key[DUE_LEN];
	DBT k = { .data = key, .ulen = DUE_LEN, .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };
	json_object *rec = NULL, *msg;
	uint8_t id[UUID_LEN];
	int64_t at;
	const char *to;
	DBC *cur;
	sup_err e;
	int rc, kind;

	outbox_item_free(a->it);
	if ((rc = due_db(s)->cursor(due_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "outbox_due cursor");
	rc = cur->get(cur, &k, &d, DB_FIRST | DB_RMW);
	cur->close(cur);
	if (rc == DB_NOTFOUND)
		return SUP_ENOTFOUND;
	if (rc != 0)
		return store_err(rc, "outbox_due");
	if (k.size != DUE_LEN)
		return SUP_EDB;
	at = (int64_t)be64_get(key);
	if (at > a->now)
		return SUP_ENOTFOUND;
	memcpy(id, key + 8, UUID_LEN);
	if ((e = store_get(outbox_db(s), txn, id, UUID_LEN, DB_RMW, &rec)) !=
	    SUP_OK) {
		/* An index entry without its delivery: drop it. */
		if (e == SUP_ENOTFOUND)
			e = due_del(s, txn, at, id) == SUP_OK ? SUP_EDEADLOCK :
			    SUP_EDB;
		return e;
	}
	kind = name_index(outbox_kind_names, OUTBOX_NKIND,
	    json_str(rec, "kind"));
	to = json_str(rec, "to");
	if (kind < 0 || to == NULL ||
	    !json_object_object_get_ex(rec, "message", &msg)) {
		e = SUP_EDB;
		goto out;
	}
	a->it->attempts = rec_attempts(rec) + 1;
	if (!json_set(rec, "attempts",
	    json_object_new_int64(a->it->attempts)) ||
	    !set_time(rec, "next_at", a->now + OUTBOX_LEASE_US)) {
		e = SUP_ENOMEM;
		goto out;
	}
	memcpy(a->it->id, id, UUID_LEN);
	a->it->kind = (enum outbox_kind)kind;
	a->it->len = (size_t)json_object_get_string_len(msg);
	if ((a->it->to = strdup(to)) == NULL ||
	    (a->it->message = malloc(a->it->len + 1)) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	memcpy(a->it->message, json_object_get_string(msg), a->it->len);
	a->it->message[a->it->len] = '\0';
	if ((e = store_put(outbox_db(s), txn, id, UUID_LEN, rec, 0)) ==
	    SUP_OK && (e = due_del(s, txn, at, id)) == SUP_OK)
		e = due_put(s, txn, a->now + OUTBOX_LEASE_US, id);
out:
	json_object_put(rec);
	if (e != SUP_OK)
		outbox_item_free(a->it);
	return e;
}

sup_err
outbox_claim(struct store *s, int64_t now_us, struct outbox_item *it)
{
	struct claim_args a = { .now = now_us, .it = it };
	sup_err e;

	memset(it, 0, sizeof(*it));
	/* claim_txn's SUP_EDEADLOCK after dropping a stray entry: once more. */
	for (int i = 0; i < 3; i++)
		if ((e = store_run(s, 0, claim_txn, &a)) != SUP_EBUSY)
			break;
	return e;
}

int64_t
outbox_backoff_us(long attempts)
{
	int64_t d = OUTBOX_BACKOFF_FIRST_US;

	for (long i = 1; i < attempts && d < OUTBOX_BACKOFF_MAX_US; i++)
		d *= 2;
	return d < OUTBOX_BACKOFF_MAX_US ? d : OUTBOX_BACKOFF_MAX_US;
}

struct done_args {
	const uint8_t *id;
	enum outbox_outcome how;
	const char *error;
	int64_t now;
	long retry_hours;
};

/* outbox_done's transaction: the outcome, the due entry moved or gone. */
static sup_err
done_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct done_args *a = arg;
	json_object *rec;
	int64_t next, queued, old_next;
	const char *state;
	sup_err e;

	if ((e = store_get(outbox_db(s), txn, a->id, UUID_LEN, DB_RMW, &rec)) !=
	    SUP_OK)
		return e;
	if (rec_state(rec) != OUTBOX_PENDING) {
		json_object_put(rec);
		return SUP_OK;
	}
	old_next = rec_time(rec, "next_at");
	queued = rec_time(rec, "queued_at");
	next = a->now + outbox_backoff_us(rec_attempts(rec));
	switch (a->how) {
	case OUTBOX_OK:
		state = "sent";
		break;
	case OUTBOX_RETRY:
		state = next > queued + a->retry_hours * HOUR_US ? "dead" :
		    "pending";
		break;
	default:
		state = "dead";
		break;
	}
	e = SUP_ENOMEM;
	if (!json_set(rec, "state", json_object_new_string(state)))
		goto out;
	if (a->error != NULL && !json_set(rec, "last_error",
	    json_object_new_string_len(a->error, (int)strnlen(a->error,
	    OUTBOX_ERROR_MAX))))
		goto out;
	if (a->how == OUTBOX_OK && !set_time(rec, "sent_at", a->now))
		goto out;
	if (strcmp(state, "pending") == 0 && !set_time(rec, "next_at", next))
		goto out;
	if (strcmp(state, "pending") != 0 &&
	    !json_set_null(rec, "next_at"))
		goto out;
	if ((e = store_put(outbox_db(s), txn, a->id, UUID_LEN, rec, 0)) ==
	    SUP_OK && (e = due_del(s, txn, old_next, a->id)) == SUP_OK &&
	    strcmp(state, "pending") == 0)
		e = due_put(s, txn, next, a->id);
out:
	json_object_put(rec);
	return e;
}

sup_err
outbox_done(struct store *s, const uint8_t id[UUID_LEN],
    enum outbox_outcome how, const char *error, int64_t now_us,
    long retry_hours)
{
	struct done_args a = { .id = id, .how = how, .error = error,
		.now = now_us, .retry_hours = retry_hours };

	return store_run(s, 0, done_txn, &a);
}

struct list_args {
	sup_err (*fn)(void *ctx, json_object *rec);
	void *ctx;
};

/* outbox_list's read: each record, its message left out, to a->fn. */
static sup_err
list_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct list_args *a = arg;
	DBT k = { 0 }, d = { 0 };
	json_object *rec;
	sup_err e = SUP_OK;
	DBC *cur;
	int rc;

	if ((rc = outbox_db(s)->cursor(outbox_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "outbox cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		if ((e = store_parse(&d, &rec)) != SUP_OK)
			break;
		json_object_object_del(rec, "message");
		e = a->fn(a->ctx, rec);
		json_object_put(rec);
		if (e != SUP_OK)
			break;
	}
	cur->close(cur);
	if (e == SUP_OK && rc != DB_NOTFOUND)
		e = store_err(rc, "outbox read");
	return e;
}

sup_err
outbox_list(struct store *s, sup_err (*fn)(void *ctx, json_object *rec),
    void *ctx)
{
	struct list_args a = { fn, ctx };

	return store_run(s, STORE_READ, list_txn, &a);
}

/* outbox_get's read (arg: get_args). */
struct get_args {
	const uint8_t *id;
	json_object *out;
};

static sup_err
get_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct get_args *a = arg;
	sup_err e;

	json_object_put(a->out);
	a->out = NULL;
	if ((e = store_get(outbox_db(s), txn, a->id, UUID_LEN, 0, &a->out)) ==
	    SUP_OK)
		json_object_object_del(a->out, "message");
	return e;
}

sup_err
outbox_get(struct store *s, const uint8_t id[UUID_LEN], json_object **out)
{
	struct get_args a = { .id = id };

	return store_run_json(s, STORE_READ, get_txn, &a, &a.out, out);
}

struct hooks_args {
	const struct outbox_query *q;
	json_object *rows;
	bool more;
	uint8_t *next;
};

/*
 * outbox_list_hooks's read: from the index entry before q->before (or the
 * last) of q->to (or all), backwards, each delivery of q->state (or any)
 * into rows, until q->limit of them or OUTBOX_SCAN_MAX entries looked at.
 */
static sup_err
hooks_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct hooks_args *a = arg;
	const struct outbox_query *q = a->q;
	const char *to = q->to != NULL ? q->to : HOOK_ALL;
	uint8_t start[HOOK_KEY_MAX], key[HOOK_KEY_MAX];
	size_t plen = strnlen(to, OUTBOX_TO_MAX) + 1, slen;
	DBT k = { .data = key, .ulen = HOOK_KEY_MAX,
		.flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };
	long seen = 0;
	DBC *cur;
	sup_err e = SUP_OK;
	int rc;

	json_object_put(a->rows);
	a->more = false;
	if ((a->rows = json_object_new_array()) == NULL)
		return SUP_ENOMEM;
	/* The key after the place: the next prefix, or the before id. */
	if (q->before != NULL)
		slen = hook_key(start, to, q->before);
	else {
		memcpy(start, to, plen - 1);
		start[plen - 1] = '\1';
		slen = plen;
	}
	memcpy(key, start, slen);
	k.size = (uint32_t)slen;
	if ((rc = hooks_db(s)->cursor(hooks_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "outbox_hooks cursor");
	rc = cur->get(cur, &k, &d, DB_SET_RANGE);
	rc = rc == DB_NOTFOUND ? cur->get(cur, &k, &d, DB_LAST) :
	    rc == 0 ? cur->get(cur, &k, &d, DB_PREV) : rc;
	for (; rc == 0; rc = cur->get(cur, &k, &d, DB_PREV)) {
		json_object *rec;

		/* Another subscription's, or none. */
		if (k.size != plen + UUID_LEN ||
		    memcmp(key, to, plen - 1) != 0 || key[plen - 1] != '\0')
			break;
		if ((long)json_object_array_length(a->rows) >= q->limit ||
		    seen >= OUTBOX_SCAN_MAX) {
			a->more = true;
			break;
		}
		seen++;
		memcpy(a->next, key + plen, UUID_LEN);
		e = store_get(outbox_db(s), txn, key + plen, UUID_LEN, 0, &rec);
		if (e == SUP_ENOTFOUND) {
			e = SUP_OK;	/* verify reports it */
			continue;
		}
		if (e != SUP_OK)
			break;
		json_object_object_del(rec, "message");
		if (q->state >= 0 && rec_state(rec) != q->state) {
			json_object_put(rec);
			continue;
		}
		if (json_object_array_add(a->rows, rec) != 0) {
			json_object_put(rec);
			e = SUP_ENOMEM;
			break;
		}
	}
	cur->close(cur);
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "outbox_hooks read");
	return e;
}

sup_err
outbox_list_hooks(struct store *s, const struct outbox_query *q,
    json_object **rows, bool *more, uint8_t next[UUID_LEN])
{
	struct hooks_args a = { .q = q, .next = next };
	sup_err e;

	*rows = NULL;
	*more = false;
	if (q->limit < 1 || (q->to != NULL && !to_ok(q->to)))
		return SUP_EINVAL;
	if ((e = store_run(s, STORE_READ, hooks_txn, &a)) != SUP_OK) {
		json_object_put(a.rows);
		return e;
	}
	*rows = a.rows;
	*more = a.more;
	return SUP_OK;
}

/* outbox_retry's transaction (arg: the id). */
static sup_err
retry_txn(struct store *s, DB_TXN *txn, void *arg)
{
	const uint8_t *id = arg;
	json_object *rec;
	int64_t now = time_now_us();
	sup_err e;
	int state;

	if ((e = store_get(outbox_db(s), txn, id, UUID_LEN, DB_RMW, &rec)) !=
	    SUP_OK)
		return e;
	if ((state = rec_state(rec)) == OUTBOX_SENT) {
		e = SUP_ECONFLICT;
		goto out;
	}
	if (state == OUTBOX_PENDING &&
	    (e = due_del(s, txn, rec_time(rec, "next_at"), id)) != SUP_OK)
		goto out;
	e = SUP_ENOMEM;
	if (!json_set(rec, "state", json_object_new_string("pending")) ||
	    !set_time(rec, "next_at", now) || !set_time(rec, "queued_at", now))
		goto out;
	if ((e = store_put(outbox_db(s), txn, id, UUID_LEN, rec, 0)) == SUP_OK)
		e = due_put(s, txn, now, id);
out:
	json_object_put(rec);
	return e;
}

sup_err
outbox_retry(struct store *s, const uint8_t id[UUID_LEN])
{
	return store_run(s, 0, retry_txn, (void *)id);
}

/*
 * Remove delivery id's index entries (its due entry while pending, its
 * webhook entries), inside txn, before the record itself goes.  A store
 * error.
 */
static sup_err
unindex(struct store *s, DB_TXN *txn, json_object *rec, const uint8_t *id)
{
	sup_err e = SUP_OK;

	if (rec_state(rec) == OUTBOX_PENDING)
		e = due_del(s, txn, rec_time(rec, "next_at"), id);
	if (e == SUP_OK && rec_is_hook(rec))
		e = hook_index(s, txn, json_str(rec, "to"), id, true);
	return e;
}

/* outbox_drop's transaction (arg: the id): the record and its index entries. */
static sup_err
drop_txn(struct store *s, DB_TXN *txn, void *arg)
{
	const uint8_t *id = arg;
	DBT k = { .data = (void *)id, .size = UUID_LEN };
	json_object *rec;
	sup_err e;

	if ((e = store_get(outbox_db(s), txn, id, UUID_LEN, DB_RMW, &rec)) !=
	    SUP_OK)
		return e;
	e = unindex(s, txn, rec, id);
	json_object_put(rec);
	if (e == SUP_OK)
		e = store_err(outbox_db(s)->del(outbox_db(s), txn, &k, 0),
		    "outbox");
	return e;
}

sup_err
outbox_drop(struct store *s, const uint8_t id[UUID_LEN])
{
	return store_run(s, 0, drop_txn, (void *)id);
}

struct counts_args {
	int64_t now, *counts, due;
};

/* outbox_list's fn for outbox_counts: count rec by state, and the due ones. */
static sup_err
count_one(void *ctx, json_object *rec)
{
	struct counts_args *a = ctx;
	int st = rec_state(rec);

	if (st < 0)
		return SUP_OK;
	a->counts[st]++;
	if (st == OUTBOX_PENDING && rec_time(rec, "next_at") <= a->now)
		a->due++;
	return SUP_OK;
}

sup_err
outbox_counts(struct store *s, int64_t now_us, int64_t counts[OUTBOX_NSTATE],
    int64_t *due)
{
	struct counts_args a = { .now = now_us, .counts = counts };

	memset(counts, 0, sizeof(int64_t) * OUTBOX_NSTATE);
	sup_err e = outbox_list(s, count_one, &a);
	if (due != NULL)
		*due = a.due;
	return e;
}

#define TRIM_BATCH 200

struct trim_args {
	int64_t before;
	long removed;
	bool more;
};

/*
 * One batch of outbox_trim: walk from the oldest, delete the sent and dead
 * ones created before a->before, stop at a newer one or after TRIM_BATCH.
 */
static sup_err
trim_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct trim_args *a = arg;
	DBT k = { 0 }, d = { 0 };
	DBC *cur;
	sup_err e = SUP_OK;
	int rc;
	long seen = 0;

	a->removed = 0;
	a->more = false;
	if ((rc = outbox_db(s)->cursor(outbox_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "outbox cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT | DB_RMW)) == 0) {
		json_object *rec;
		int st;

		if (++seen > TRIM_BATCH) {
			a->more = true;
			break;
		}
		if (store_parse(&d, &rec) != SUP_OK)
			continue;
		st = rec_state(rec);
		if (rec_time(rec, "created_at") >= a->before) {
			json_object_put(rec);
			break;		/* ids are in time order */
		}
		if (st != OUTBOX_SENT && st != OUTBOX_DEAD) {
			json_object_put(rec);
			continue;
		}
		e = k.size == UUID_LEN ? unindex(s, txn, rec, k.data) : SUP_OK;
		json_object_put(rec);
		if (e != SUP_OK) {
			rc = 0;
			break;
		}
		if ((rc = cur->del(cur, 0)) != 0)
			break;
		a->removed++;
	}
	cur->close(cur);
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "outbox trim");
	return e;
}

sup_err
outbox_trim(struct store *s, int64_t before_us, long max, long *removed)
{
	struct trim_args a = { .before = before_us };
	long total = 0;
	sup_err e;

	/*
	 * Each batch walks from the start again: the pending ones the walk
	 * passes stay, and so a batch that removed nothing but saw a full
	 * batch ends the trim (a long-pending head holds it back).
	 */
	do {
		if ((e = store_run(s, 0, trim_txn, &a)) != SUP_OK)
			break;
		total += a.removed;
	} while (a.more && a.removed > 0 && (max == 0 || total < max));
	if (removed != NULL)
		*removed = total;
	return e;
}

#define DROP_BATCH 200

struct drop_if_args {
	sup_err (*match)(void *ctx, struct store *s, DB_TXN *txn,
	    json_object *rec, bool *drop);
	void *ctx;
	uint8_t from[UUID_LEN];		/* the batch starts at this id */
	bool started, done;
	long dropped;			/* the batch's */
};

/*
 * One batch of outbox_drop_if: DROP_BATCH deliveries from a->from on,
 * each whole (its message too) handed to match, and deleted with its due
 * entry and its webhook index entries (unindex) when it matches.
 */
static sup_err
drop_if_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct drop_if_args *a = arg;
	uint8_t key[UUID_LEN];
	DBT k = { .data = key, .size = UUID_LEN, .ulen = UUID_LEN,
	    .flags = DB_DBT_USERMEM }, d = { 0 };
	long seen = 0;
	sup_err e = SUP_OK;
	DBC *cur;
	int rc;

	a->dropped = 0;
	memcpy(key, a->from, UUID_LEN);
	if ((rc = outbox_db(s)->cursor(outbox_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "outbox cursor");
	for (rc = cur->get(cur, &k, &d, (a->started ? DB_SET_RANGE :
	    DB_FIRST) | DB_RMW); rc == 0;
	    rc = cur->get(cur, &k, &d, DB_NEXT | DB_RMW)) {
		json_object *rec;
		bool hit = false;

		if (k.size != UUID_LEN)
			continue;
		if (seen++ == DROP_BATCH) {
			memcpy(a->from, key, UUID_LEN);
			a->started = true;
			goto out;
		}
		if (store_parse(&d, &rec) != SUP_OK)
			continue;	/* verify's to report */
		if ((e = a->match(a->ctx, s, txn, rec, &hit)) == SUP_OK && hit)
			e = unindex(s, txn, rec, key);
		json_object_put(rec);
		if (e != SUP_OK)
			goto out;
		if (!hit)
			continue;
		if ((rc = cur->del(cur, 0)) != 0)
			break;
		a->dropped++;
	}
	if (rc == DB_NOTFOUND)
		a->done = true;
	else
		e = store_err(rc, "outbox read");
out:
	cur->close(cur);
	return e;
}

sup_err
outbox_drop_if(struct store *s, sup_err (*match)(void *ctx,
    struct store *s, DB_TXN *txn, json_object *rec, bool *drop), void *ctx,
    long *dropped)
{
	struct drop_if_args a = { .match = match, .ctx = ctx };
	long total = 0;
	sup_err e;

	do {
		if ((e = store_run(s, 0, drop_if_txn, &a)) != SUP_OK)
			break;
		total += a.dropped;
	} while (!a.done);
	if (dropped != NULL)
		*dropped = total;
	return e;
}

/* --- The area -------------------------------------------------------- */

static bool woken;

/*
 * The subscriber: note that a delivery may come of this event: a mail's
 * (a ticket made or changed, a public message), or, when support.conf
 * has a [webhook.NAME] section, any event a webhook may carry.  Only a
 * flag of this process (outbox_woken): the consumers decide.
 */
static sup_err
outbox_on_event(struct store *s, DB_TXN *txn SUP_UNUSED,
    const struct event *ev)
{
	if (ev->type == EV_TICKET_CREATED || ev->type == EV_TICKET_UPDATED ||
	    ev->type == EV_MESSAGE_POSTED ||
	    (s->conf != NULL && s->conf->nwebhooks > 0 &&
	    webout_offered(ev->type)))
		woken = true;
	return SUP_OK;
}

bool
outbox_woken(void)
{
	bool was = woken;

	woken = false;
	return was;
}

/* A pending delivery without its due entry, or a due entry without one. */
static sup_err
outbox_verify(struct store *s, struct store_check *c)
{
	DBT k = { 0 }, d = { 0 };
	DBC *cur;
	long pending = 0, due = 0, bad = 0, hooks = 0, hook_entries = 0;
	int rc;

	if ((rc = outbox_db(s)->cursor(outbox_db(s), NULL, &cur, 0)) != 0)
		return store_err(rc, "outbox cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		json_object *rec;
		if (k.size != UUID_LEN || store_parse(&d, &rec) != SUP_OK) {
			bad++;
			continue;
		}
		if (rec_state(rec) < 0)
			bad++;
		else if (rec_state(rec) == OUTBOX_PENDING) {
			uint8_t key[DUE_LEN];
			DBT dk = { .data = key, .size = DUE_LEN }, dd = { 0 };
			pending++;
			due_key(key, rec_time(rec, "next_at"), k.data);
			if (due_db(s)->get(due_db(s), NULL, &dk, &dd, 0) != 0)
				store_problem(c, "outbox_due.db: a pending "
				    "delivery is not in it");
		}
		if (rec_state(rec) >= 0 && rec_is_hook(rec)) {
			uint8_t key[HOOK_KEY_MAX];
			DBT hk = { .data = key }, hd = { 0 };
			hooks++;
			hk.size = (uint32_t)hook_key(key, json_str(rec, "to"),
			    k.data);
			if (hooks_db(s)->get(hooks_db(s), NULL, &hk, &hd, 0) !=
			    0)
				store_problem(c, "outbox_hooks.db: a webhook "
				    "delivery is not in it");
		}
		json_object_put(rec);
	}
	cur->close(cur);
	if (rc != DB_NOTFOUND)
		return store_err(rc, "outbox read");
	if ((rc = due_db(s)->cursor(due_db(s), NULL, &cur, 0)) != 0)
		return store_err(rc, "outbox_due cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0)
		due++;
	cur->close(cur);
	if ((rc = hooks_db(s)->cursor(hooks_db(s), NULL, &cur, 0)) != 0)
		return store_err(rc, "outbox_hooks cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0)
		hook_entries++;
	cur->close(cur);
	if (hook_entries != 2 * hooks)
		store_problem(c, "outbox_hooks.db: %ld entries for %ld webhook "
		    "deliveries (two each)", hook_entries, hooks);
	if (bad > 0)
		store_problem(c, "outbox.db: %ld deliveries that are not whole",
		    bad);
	if (due != pending)
		store_problem(c, "outbox_due.db: %ld entries for %ld pending "
		    "deliveries", due, pending);
	return SUP_OK;
}

static const struct store_db outbox_dbs[OUTBOX_NDB] = {
	[ODB_OUTBOX] = { .file = "outbox.db", .type = DB_BTREE },
	[ODB_DUE] = { .file = "outbox_due.db", .type = DB_BTREE,
		.kind = STORE_BY_HAND, .primary = ODB_OUTBOX },
	/*
	 * No build for an older store: before this index, nothing queued
	 * a webhook delivery, so an older store has none to index.
	 */
	[ODB_HOOKS] = { .file = "outbox_hooks.db", .type = DB_BTREE,
		.kind = STORE_BY_HAND, .primary = ODB_OUTBOX },
};

static const struct event_subscriber outbox_sub = { "outbox",
	outbox_on_event };
static const struct event_subscriber *const outbox_subs[] = { &outbox_sub,
	NULL };
/*
 * The webhooks consumer (OUTBOX_WEBHOOK_CONSUMER) is not declared: it
 * becomes known at the worker's first pass, which reads on whether any
 * subscription is set or not: a subscription added later gets the events
 * appended once the worker runs with it.
 */
static const char *const outbox_consumers[] = { OUTBOX_MAIL_CONSUMER, NULL };

const struct store_area outbox_area = {
	.name = "outbox",
	.db = outbox_dbs,
	.ndb = OUTBOX_NDB,
	.verify = outbox_verify,
	.subscribers = outbox_subs,
	.consumers = outbox_consumers,
};
