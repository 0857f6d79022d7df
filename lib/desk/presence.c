/*
 * presence.c - the agents present on a ticket's page (lib/desk/presence.h):
 * the marks, their reads for the staff's poll and for the presence API,
 * the sweep of old marks, and the presence area of the store.
 */
#include <stdlib.h>
#include <string.h>

#include "presence.h"
#include "ticket.h"
#include "user.h"

/*
 * The area's per-process cache: where this process's sweep goes on from
 * (the key after the last one it looked at; none: from the first).
 */
struct presence_cache {
	uint8_t next[PRESENCE_KEY_LEN];
	bool set;
};

/* One mark as read. */
struct mark {
	uint32_t user;
	int64_t seen, typing;
};

/* A key or value buffer: room for more than a mark's, to tell it apart. */
#define BUF_LEN 64

static void
key_make(uint8_t k[PRESENCE_KEY_LEN], const uint8_t ticket[UUID_LEN],
    uint32_t user)
{
	memcpy(k, ticket, UUID_LEN);
	be32_put(k + UUID_LEN, user);
}

/* Read a mark; false when it is not laid out as presence.h says. */
static bool
mark_decode(const DBT *k, const DBT *d, struct mark *m)
{
	if (k->size != PRESENCE_KEY_LEN || d->size != PRESENCE_VAL_LEN)
		return false;
	m->user = be32_get((const uint8_t *)k->data + UUID_LEN);
	m->seen = (int64_t)be64_get(d->data);
	m->typing = (int64_t)be64_get((const uint8_t *)d->data + 8);
	return true;
}

/*
 * Is the agent of m shown as viewing, as typing, at now?  A mark from a
 * little ahead of now (another process's clock) is shown.
 */
static bool
mark_viewing(const struct mark *m, int64_t now)
{
	return now - m->seen < PRESENCE_VIEW_US;
}

static bool
mark_typing(const struct mark *m, int64_t now)
{
	return m->typing != 0 && now - m->typing < PRESENCE_TYPE_US &&
	    mark_viewing(m, now);
}

/*
 * Call fn for each mark of ticket (key order: by user id), in txn, with
 * one cursor over the ticket's range.  Marks not laid out as presence.h
 * says are skipped.  fn's error stops the walk and is returned; SUP_EDB.
 */
static sup_err
walk(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN],
    sup_err (*fn)(void *ctx, const struct mark *m), void *ctx)
{
	uint8_t kb[BUF_LEN], vb[BUF_LEN];
	DBT k = { .data = kb, .size = UUID_LEN, .ulen = sizeof(kb),
		.flags = DB_DBT_USERMEM };
	DBT d = { .data = vb, .ulen = sizeof(vb), .flags = DB_DBT_USERMEM };
	struct mark m;
	DBC *cur;
	sup_err e = SUP_OK;
	int rc;

	if ((rc = presence_db(s)->cursor(presence_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "presence cursor");
	memcpy(kb, ticket, UUID_LEN);
	for (rc = cur->get(cur, &k, &d, DB_SET_RANGE);
	    rc == 0 && k.size >= UUID_LEN && memcmp(kb, ticket, UUID_LEN) == 0;
	    rc = cur->get(cur, &k, &d, DB_NEXT)) {
		if (mark_decode(&k, &d, &m) && (e = fn(ctx, &m)) != SUP_OK)
			break;
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "presence read");
	cur->close(cur);
	return e;
}

/* --- The poll ---------------------------------------------------------- */

struct scan_ctx {
	uint32_t me;
	int64_t now;
	uint32_t hash;
	struct presence_scan *out;
};

/* FNV-1a, 32 bits, of n more bytes. */
static uint32_t
fnv1a(uint32_t h, const uint8_t *p, size_t n)
{
	while (n-- > 0)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static sup_err
scan_one(void *ctx, const struct mark *m)
{
	struct scan_ctx *c = ctx;
	uint8_t b[5];

	if (m->user == c->me) {
		c->out->due = c->now - m->seen >= PRESENCE_VIEW_US / 2;
		return SUP_OK;
	}
	if (!mark_viewing(m, c->now))
		return SUP_OK;
	be32_put(b, m->user);
	b[4] = mark_typing(m, c->now);
	c->hash = fnv1a(c->hash, b, sizeof(b));
	c->out->others++;
	return SUP_OK;
}

sup_err
presence_scan(struct store *s, DB_TXN *txn, uint32_t me,
    const uint8_t ticket[UUID_LEN], int64_t now, struct presence_scan *out)
{
	struct scan_ctx c = { .me = me, .now = now, .hash = 2166136261u,
		.out = out };

	out->others = 0;
	out->tag = 0;
	out->due = true;	/* unless a fresh mark of me says otherwise */
	sup_err e = walk(s, txn, ticket, scan_one, &c);
	/* A digest of 0 would read as nobody: the tag of others is never 0. */
	if (e == SUP_OK && out->others > 0)
		out->tag = c.hash != 0 ? c.hash : 1;
	return e;
}

/* --- Showing the others ------------------------------------------------ */

struct show_ctx {
	struct store *s;
	DB_TXN *txn;
	uint32_t me;
	int64_t now;
	json_object *list;
};

static sup_err
show_one(void *ctx, const struct mark *m)
{
	struct show_ctx *c = ctx;
	char when[TIME_STRLEN + 1];
	json_object *rec, *o;
	sup_err e;

	if (m->user == c->me || !mark_viewing(m, c->now))
		return SUP_OK;
	e = user_get(c->s, c->txn, m->user, &rec);
	if (e == SUP_ENOTFOUND)
		return SUP_OK;	/* an account gone since: its mark expires */
	if (e != SUP_OK)
		return e;
	time_format(m->seen, when);
	if ((o = json_object_new_object()) == NULL ||
	    json_object_array_add(c->list, o) != 0) {
		json_object_put(o);
		json_object_put(rec);
		return SUP_ENOMEM;
	}
	e = json_set(o, "user", user_public(rec, false)) &&
	    json_set(o, "typing", json_object_new_boolean(mark_typing(m,
	    c->now))) &&
	    json_set(o, "seen_at", json_object_new_string(when)) ?
	    SUP_OK : SUP_ENOMEM;
	json_object_put(rec);
	return e;
}

/* The others present on ticket (u checked it) into *out (new). */
static sup_err
others(struct store *s, DB_TXN *txn, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], int64_t now, json_object **out)
{
	struct show_ctx c = { .s = s, .txn = txn, .me = u->id, .now = now };
	json_object *o;
	sup_err e;

	*out = NULL;
	if ((o = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if ((c.list = json_object_new_array()) == NULL ||
	    !json_set(o, "viewers", c.list)) {
		json_object_put(o);
		return SUP_ENOMEM;
	}
	if ((e = walk(s, txn, ticket, show_one, &c)) != SUP_OK) {
		json_object_put(o);
		return e;
	}
	*out = o;
	return SUP_OK;
}

struct show_args {
	const struct sup_user *u;
	const uint8_t *ticket;
	json_object *out;
};

static sup_err
show_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct show_args *a = arg;
	struct ticket_tail tt;
	sup_err e;

	json_object_put(a->out);
	a->out = NULL;
	if ((e = ticket_peek(s, txn, a->u, a->ticket, &tt)) != SUP_OK)
		return e;
	return others(s, txn, a->u, a->ticket, time_now_us(), &a->out);
}

sup_err
presence_show(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], json_object **out)
{
	struct show_args a = { .u = u, .ticket = ticket };

	*out = NULL;
	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	return store_run_json(s, STORE_READ, show_txn, &a, &a.out, out);
}

/* --- Writing marks ----------------------------------------------------- */

/*
 * Look at the next PRESENCE_SWEEP marks of the whole database from where
 * this process's sweep stopped (going round), removing the ones no
 * longer shown and any not laid out as presence.h says.  Every write of
 * a mark runs it, and a write adds at most one mark, so the old marks
 * are looked at faster than marks are made: the database holds the
 * marks shown and not many more.
 */
static sup_err
sweep(struct store *s, DB_TXN *txn, int64_t now)
{
	struct presence_cache *c = *store_cache(s, AREA_PRESENCE);
	uint8_t kb[BUF_LEN], vb[BUF_LEN];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT d = { .data = vb, .ulen = sizeof(vb), .flags = DB_DBT_USERMEM };
	struct mark m;
	DBC *cur;
	sup_err e = SUP_OK;
	int rc;

	if (c == NULL && (c = *store_cache(s, AREA_PRESENCE) =
	    calloc(1, sizeof(*c))) == NULL)
		return SUP_ENOMEM;
	if ((rc = presence_db(s)->cursor(presence_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "presence cursor");
	if (c->set) {
		memcpy(kb, c->next, PRESENCE_KEY_LEN);
		k.size = PRESENCE_KEY_LEN;
		rc = cur->get(cur, &k, &d, DB_SET_RANGE);
	} else
		rc = cur->get(cur, &k, &d, DB_FIRST);
	for (int i = 0; rc == 0 && i < PRESENCE_SWEEP; i++) {
		if ((!mark_decode(&k, &d, &m) || !mark_viewing(&m, now)) &&
		    (rc = cur->del(cur, 0)) != 0)
			break;
		rc = cur->get(cur, &k, &d, DB_NEXT);
	}
	if (rc == DB_NOTFOUND)
		c->set = false;		/* round again from the first */
	else if (rc == 0) {
		/* A key longer than a mark's is cut: a little before it. */
		memset(c->next, 0, sizeof(c->next));
		memcpy(c->next, kb, k.size < PRESENCE_KEY_LEN ? k.size :
		    PRESENCE_KEY_LEN);
		c->set = true;
	} else
		e = store_err(rc, "presence sweep");
	cur->close(cur);
	return e;
}

struct erase_args {
	uint32_t user;
	long removed;
};

static sup_err
erase_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct erase_args *a = arg;
	DBT k = { 0 }, d = { .flags = DB_DBT_PARTIAL };
	DBC *cur;
	int rc, rc2;

	a->removed = 0;
	if ((rc = presence_db(s)->cursor(presence_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "presence cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT | DB_RMW)) == 0) {
		if (k.size != PRESENCE_KEY_LEN ||
		    be32_get((const uint8_t *)k.data + UUID_LEN) != a->user)
			continue;
		if ((rc = cur->del(cur, 0)) != 0)
			break;
		a->removed++;
	}
	rc2 = cur->close(cur);
	if (rc == DB_NOTFOUND)
		rc = 0;
	return store_err(rc != 0 ? rc : rc2, "presence erase");
}

sup_err
presence_user_erase(struct store *s, uint32_t user, long *removed)
{
	struct erase_args a = { .user = user };
	sup_err e = store_run(s, 0, erase_txn, &a);

	if (removed != NULL)
		*removed = e == SUP_OK ? a.removed : 0;
	return e;
}

struct mark_args {
	const struct sup_user *u;
	const uint8_t *ticket;
	enum presence_mark how;
	bool keep_typing;	/* a poll's touch: a typing signal stays */
	bool show;		/* check the ticket, answer the others */
	json_object *out;
};

static sup_err
mark_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct mark_args *a = arg;
	uint8_t kb[PRESENCE_KEY_LEN], vb[BUF_LEN];
	DBT k = { .data = kb, .size = sizeof(kb) };
	DBT d = { .data = vb, .ulen = sizeof(vb), .flags = DB_DBT_USERMEM };
	struct ticket_tail tt;
	int64_t now = time_now_us(), typing = 0;
	sup_err e;
	int rc;

	json_object_put(a->out);
	a->out = NULL;
	if (a->show &&
	    (e = ticket_peek(s, txn, a->u, a->ticket, &tt)) != SUP_OK)
		return e;
	key_make(kb, a->ticket, a->u->id);
	if (a->how == PRESENCE_GONE) {
		rc = presence_db(s)->del(presence_db(s), txn, &k, 0);
		if (rc != 0 && rc != DB_NOTFOUND)
			return store_err(rc, "presence del");
	} else {
		if (a->how == PRESENCE_TYPING)
			typing = now;
		else if (a->keep_typing) {
			rc = presence_db(s)->get(presence_db(s), txn, &k, &d,
			    DB_RMW);
			if (rc == 0 && d.size == PRESENCE_VAL_LEN)
				typing = (int64_t)be64_get(vb + 8);
			else if (rc != 0 && rc != DB_NOTFOUND)
				return store_err(rc, "presence get");
		}
		be64_put(vb, (uint64_t)now);
		be64_put(vb + 8, (uint64_t)typing);
		d.size = PRESENCE_VAL_LEN;
		d.flags = 0;
		if ((rc = presence_db(s)->put(presence_db(s), txn, &k, &d,
		    0)) != 0)
			return store_err(rc, "presence put");
	}
	if ((e = sweep(s, txn, now)) != SUP_OK)
		return e;
	return a->show ? others(s, txn, a->u, a->ticket, now, &a->out) :
	    SUP_OK;
}

sup_err
presence_touch(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN])
{
	struct mark_args a = { .u = u, .ticket = ticket,
		.how = PRESENCE_VIEWING, .keep_typing = true };

	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	return store_run(s, STORE_NOSYNC, mark_txn, &a);
}

sup_err
presence_set(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], enum presence_mark how,
    json_object **out)
{
	struct mark_args a = { .u = u, .ticket = ticket, .how = how,
		.show = true };

	*out = NULL;
	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	if (how != PRESENCE_VIEWING && how != PRESENCE_TYPING &&
	    how != PRESENCE_GONE)
		return SUP_EINVAL;
	return store_run_json(s, STORE_NOSYNC, mark_txn, &a, &a.out, out);
}

/* --- The area ---------------------------------------------------------- */

/* The area's check: every mark is laid out as presence.h says. */
static sup_err
presence_verify(struct store *s, struct store_check *c)
{
	DBT k = { .flags = DB_DBT_MALLOC }, d = { .flags = DB_DBT_MALLOC };
	DBC *cur;
	long bad = 0;
	int rc;

	if ((rc = presence_db(s)->cursor(presence_db(s), NULL, &cur, 0)) != 0)
		return store_err(rc, "presence cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		if (k.size != PRESENCE_KEY_LEN || d.size != PRESENCE_VAL_LEN)
			bad++;
		free(k.data);
		free(d.data);
	}
	cur->close(cur);
	if (rc != DB_NOTFOUND)
		return store_err(rc, "presence verify");
	if (bad > 0)
		store_problem(c, "%ld presence marks not laid out as a "
		    "ticket, a user and two times", bad);
	return SUP_OK;
}

static void
presence_cache_free(void *cache)
{
	free(cache);
}

static const struct store_db presence_dbs[PRESENCE_NDB] = {
	[PRESENCE_DB_MARKS] = { .file = "presence.db", .type = DB_BTREE },
};

const struct store_area presence_area = {
	.name = "presence",
	.db = presence_dbs,
	.ndb = PRESENCE_NDB,
	.verify = presence_verify,
	.cache_free = presence_cache_free,
};
