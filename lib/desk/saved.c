/*
 * saved.c - the agents' saved views (saved.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "areas.h"
#include "saved.h"
#include "util.h"

/*
 * The saved views' area of the store.  Keys:
 *   saved_views      owner(4) id(4)                      -> record (saved.h)
 * and the sequence "saved_view_id" in seqs.db.  An agent's views are one
 * range of keys, at most SAVED_MAX: a list, the name's uniqueness and the
 * limit are a walk of that range, and another agent's view is simply not
 * under the caller's prefix.
 */
enum saved_db { SDB_VIEWS, SAVED_NDB };
enum saved_seq { SSEQ_ID, SAVED_NSEQ };

static inline DB *
saved_db(const struct store *s)
{
	return store_db(s, AREA_SAVED, SDB_VIEWS);
}

/* The key of view id of owner. */
static void
saved_key(uint8_t key[8], uint32_t owner, uint32_t id)
{
	be32_put(key, owner);
	be32_put(key + 4, id);
}

/* Is name 1..SAVED_NAME_MAX characters of UTF-8 without control ones? */
static bool
name_ok(const char *name)
{
	size_t n = strlen(name);
	long chars = utf8_len(name, n);

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return chars >= 1 && chars <= SAVED_NAME_MAX;
}

/*
 * Call fn for each of owner's views in txn (read for update when flags
 * is DB_RMW), in id order, until it returns something other than SUP_OK.
 */
static sup_err
each_view(struct store *s, DB_TXN *txn, uint32_t owner, uint32_t flags,
    sup_err (*fn)(void *ctx, json_object *rec), void *ctx)
{
	uint8_t key[8];
	DBT k = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	json_object *rec;
	DBC *c;
	sup_err e = SUP_OK;
	int rc;

	saved_key(key, owner, 0);
	k.size = 4;
	if ((rc = saved_db(s)->cursor(saved_db(s), txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	for (rc = c->get(c, &k, &d, DB_SET_RANGE | flags);
	    rc == 0 && k.size == sizeof(key) && be32_get(key) == owner;
	    rc = c->get(c, &k, &d, DB_NEXT | flags)) {
		if ((e = store_parse(&d, &rec)) != SUP_OK)
			break;
		e = fn(ctx, rec);
		json_object_put(rec);
		if (e != SUP_OK)
			break;
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "saved views");
	c->close(c);
	free(d.data);
	return e;
}

struct create_args {
	const struct sup_user *u;
	const char *name, *query;
	struct saved_why *why;
	size_t have;		/* views u has */
	json_object *result;
};

/* each_view's fn of a create: count u's views, refuse a name taken. */
static sup_err
name_free(void *ctx, json_object *rec)
{
	struct create_args *a = ctx;
	json_object *v;

	a->have++;
	if (json_object_object_get_ex(rec, "name", &v) &&
	    strcasecmp(json_object_get_string(v), a->name) == 0) {
		a->why->field = "name";
		snprintf(a->why->text, sizeof(a->why->text), "You already "
		    "have a view with this name.");
		return SUP_EEXIST;
	}
	return SUP_OK;
}

static sup_err
create_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct create_args *a = arg;
	char now[TIME_STRLEN + 1];
	uint8_t key[8];
	json_object *rec;
	int64_t id;
	sup_err e;

	json_object_put(a->result);	/* from a try that was run again */
	a->result = NULL;
	a->have = 0;
	if ((e = each_view(s, txn, a->u->id, DB_RMW, name_free, a)) != SUP_OK)
		return e;
	if (a->have >= SAVED_MAX) {
		a->why->field = "name";
		snprintf(a->why->text, sizeof(a->why->text), "You have %d "
		    "saved views, the most there may be: delete one first.",
		    SAVED_MAX);
		return SUP_ECONFLICT;
	}
	if ((e = store_seq_next(store_seq(s, AREA_SAVED, SSEQ_ID), txn,
	    &id)) != SUP_OK)
		return e;
	time_format(time_now_us(), now);
	if ((rec = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if (!json_set(rec, "id", json_object_new_int64(id)) ||
	    !json_set(rec, "name", json_object_new_string(a->name)) ||
	    !json_set(rec, "query", json_object_new_string(a->query)) ||
	    !json_set(rec, "created_at", json_object_new_string(now))) {
		json_object_put(rec);
		return SUP_ENOMEM;
	}
	saved_key(key, a->u->id, (uint32_t)id);
	if ((e = store_put(saved_db(s), txn, key, sizeof(key), rec,
	    DB_NOOVERWRITE)) != SUP_OK) {
		json_object_put(rec);
		return e;
	}
	a->result = rec;
	return SUP_OK;
}

sup_err
saved_create(struct store *s, const struct sup_user *u, const char *name,
    const char *query, struct saved_why *why, json_object **out)
{
	struct create_args a = { .u = u, .name = name, .query = query,
		.why = why };

	*out = NULL;
	why->field = NULL;
	why->text[0] = '\0';
	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	if (name == NULL || !name_ok(name)) {
		why->field = "name";
		snprintf(why->text, sizeof(why->text), "Must be 1 to %d "
		    "characters, none of them a control character.",
		    SAVED_NAME_MAX);
		return SUP_EINVAL;
	}
	if (query == NULL || strlen(query) > SAVED_QUERY_MAX) {
		why->field = "query";
		snprintf(why->text, sizeof(why->text), "Must be at most %d "
		    "bytes.", SAVED_QUERY_MAX);
		return SUP_EINVAL;
	}
	return store_run_json(s, 0, create_txn, &a, &a.result, out);
}

/* each_view's fn of a list: append the record to the array ctx. */
static sup_err
list_add(void *ctx, json_object *rec)
{
	if (json_object_array_add(ctx, json_object_get(rec)) != 0) {
		json_object_put(rec);
		return SUP_ENOMEM;
	}
	return SUP_OK;
}

struct list_args {
	const struct sup_user *u;
	json_object *result;
};

static sup_err
list_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct list_args *a = arg;

	json_object_put(a->result);
	if ((a->result = json_object_new_array()) == NULL)
		return SUP_ENOMEM;
	return each_view(s, txn, a->u->id, 0, list_add, a->result);
}

sup_err
saved_list(struct store *s, const struct sup_user *u, json_object **out)
{
	struct list_args a = { .u = u };

	*out = NULL;
	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	return store_run_json(s, STORE_READ, list_txn, &a, &a.result, out);
}

struct delete_args {
	uint32_t owner, id;
};

static sup_err
delete_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct delete_args *a = arg;
	uint8_t key[8];
	DBT k = { .data = key, .size = sizeof(key) };
	int rc;

	saved_key(key, a->owner, a->id);
	if ((rc = saved_db(s)->del(saved_db(s), txn, &k, 0)) == DB_NOTFOUND)
		return SUP_ENOTFOUND;
	return rc == 0 ? SUP_OK : store_err(rc, "saved view delete");
}

sup_err
saved_delete(struct store *s, const struct sup_user *u, uint32_t id)
{
	struct delete_args a = { u->id, id };

	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	return store_run(s, 0, delete_txn, &a);
}

/* --- The area ---------------------------------------------------------- */

static const struct store_db saved_dbs[SAVED_NDB] = {
	[SDB_VIEWS] = { .file = "saved_views.db", .type = DB_BTREE },
};

static const struct store_seq saved_seqs[SAVED_NSEQ] = {
	[SSEQ_ID] = { .name = "saved_view_id", .in = "seqs.db" },
};

const struct store_area saved_area = {
	.name = "saved views",
	.db = saved_dbs,
	.ndb = SAVED_NDB,
	.seq = saved_seqs,
	.nseq = SAVED_NSEQ,
};
