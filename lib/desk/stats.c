/*
 * stats.c - the statistics' area (stats.h, docs/reports.md): the
 * subscriber that keeps the aggregates in the transaction of every
 * change, their build for an older store, their check, and the report.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "areas.h"
#include "event.h"
#include "record.h"
#include "stats.h"
#include "ticket.h"
#include "tstore.h"
#include "user.h"
#include "util.h"

/*
 * Log-spaced bounds, in seconds: 1 min, 5 min, 15 min, 30 min, 1 h, 2 h,
 * 4 h, 8 h, 16 h, 1 d, 2 d, 4 d, 7 d, 14 d, 30 d, and the rest.
 */
const int64_t stats_bucket_bound_s[STATS_NBUCKETS] = {
	60, 300, 900, 1800, 3600, 7200, 14400, 28800, 57600, 86400,
	172800, 345600, 604800, 1209600, 2592000, 0
};

int
stats_bucket(int64_t us)
{
	int i;

	for (i = 0; i < STATS_NBUCKETS - 1; i++)
		if (us < stats_bucket_bound_s[i] * INT64_C(1000000))
			break;
	return i;
}

int64_t
stats_quantile(const int64_t *h, int64_t n, int pct)
{
	int64_t want, seen = 0;
	int i;

	if (n <= 0)
		return -1;
	want = (pct * n + 99) / 100;
	if (want < 1)
		want = 1;
	for (i = 0; i < STATS_NBUCKETS - 1; i++) {
		seen += h[i];
		if (seen >= want)
			return stats_bucket_bound_s[i];
	}
	return stats_bucket_bound_s[STATS_NBUCKETS - 2];
}

static const struct sup_errdef stats_errdefs[] = {
	{ STATS_ENOTRESOLVED, SUP_ECONFLICT, "not_resolved",
	    "Only a resolved ticket can be rated.", NULL, NULL },
	{ STATS_ERATED, SUP_ECONFLICT, "already_rated",
	    "This ticket has been rated already.", NULL, NULL },
	{ RATELINK_EBAD, SUP_ENOTFOUND, "rating_link_invalid",
	    "This rating link is not valid.", "This rating link is not valid",
	    "The link may have been cut or changed on its way. You can rate "
	    "the ticket on its page once you are logged in." },
	{ RATELINK_EOLD, SUP_EINVAL, "rating_link_expired",
	    "This rating link has expired.", "This rating link has expired",
	    "Rating links last 30 days. You can still rate the ticket on "
	    "its page once you are logged in." },
};
SUP_ERRORS(stats_errors, SUP_AREA_STATS, stats_errdefs)

/* --- The databases ----------------------------------------------------- */

/*
 * ratings.db: ticket uuid -> {"rating": "good"|"bad", "comment": text or
 * null, "created_at", "user"} (the customer's rating, once a ticket).
 */
enum stats_db { SDB_AGG, SDB_FACTS, SDB_RATINGS, STATS_NDB };

static inline DB *
sdb(const struct store *s, enum stats_db i)
{
	return store_db(s, AREA_STATS, i);
}

/*
 * A ticket's facts (stats_tickets.db): what the subscriber needs of a
 * ticket that its events do not carry.  Times in µs, 0 for none.
 */
struct facts {
	int64_t created, fr, res;
	uint32_t owner, assignee;
	int prio, status, rating;
};
#define FACTS_LEN 35

static void
facts_put_bytes(const struct facts *f, uint8_t b[FACTS_LEN])
{
	be64_put(b, (uint64_t)f->created);
	be64_put(b + 8, (uint64_t)f->fr);
	be64_put(b + 16, (uint64_t)f->res);
	be32_put(b + 24, f->owner);
	be32_put(b + 28, f->assignee);
	b[32] = (uint8_t)f->prio;
	b[33] = (uint8_t)f->status;
	b[34] = (uint8_t)f->rating;
}

static bool
facts_get_bytes(const uint8_t *b, size_t n, struct facts *f)
{
	if (n != FACTS_LEN || b[32] >= PRI_MAX || b[33] >= ST_MAX)
		return false;
	f->created = (int64_t)be64_get(b);
	f->fr = (int64_t)be64_get(b + 8);
	f->res = (int64_t)be64_get(b + 16);
	f->owner = be32_get(b + 24);
	f->assignee = be32_get(b + 28);
	f->prio = b[32];
	f->status = b[33];
	f->rating = b[34];
	return true;
}

/* Read the facts of ticket uuid for update.  SUP_ENOTFOUND, SUP_EDB. */
static sup_err
facts_load(struct store *s, DB_TXN *txn, const uint8_t *uuid,
    struct facts *f)
{
	uint8_t b[FACTS_LEN + 1];
	DBT k = { .data = (void *)uuid, .size = UUID_LEN };
	DBT d = { .data = b, .ulen = sizeof(b), .flags = DB_DBT_USERMEM };
	int rc;

	rc = sdb(s, SDB_FACTS)->get(sdb(s, SDB_FACTS), txn, &k, &d, DB_RMW);
	if (rc == DB_BUFFER_SMALL)
		return SUP_EDB;
	if (rc != 0)
		return store_err(rc, "stats facts");
	return facts_get_bytes(b, d.size, f) ? SUP_OK : SUP_EDB;
}

static sup_err
facts_save(struct store *s, DB_TXN *txn, const uint8_t *uuid,
    const struct facts *f)
{
	uint8_t b[FACTS_LEN];
	DBT k = { .data = (void *)uuid, .size = UUID_LEN };
	DBT d = { .data = b, .size = FACTS_LEN };

	facts_put_bytes(f, b);
	return store_err(sdb(s, SDB_FACTS)->put(sdb(s, SDB_FACTS), txn, &k,
	    &d, 0), "stats facts put");
}

static void
agg_key(uint8_t key[STATS_KEY_LEN], int kind, int64_t day, uint32_t dim)
{
	key[0] = (uint8_t)kind;
	be32_put(key + 1, (uint32_t)day);
	be32_put(key + 5, dim);
}

/* The counts of a stored record b[0..n) into v (missing ones 0). */
static bool
agg_decode(const uint8_t *b, size_t n, int64_t v[STATS_NF])
{
	size_t i;

	if (n % 8 != 0 || n > STATS_NF * 8)
		return false;
	for (i = 0; i < STATS_NF; i++)
		v[i] = i * 8 < n ? (int64_t)be64_get(b + i * 8) : 0;
	return true;
}

sup_err
stats_get(struct store *s, DB_TXN *txn, int kind, int64_t day, uint32_t dim,
    int64_t v[STATS_NF])
{
	uint8_t key[STATS_KEY_LEN], b[STATS_NF * 8];
	DBT k = { .data = key, .size = STATS_KEY_LEN };
	DBT d = { .data = b, .ulen = sizeof(b), .flags = DB_DBT_USERMEM };
	int rc;

	agg_key(key, kind, day, dim);
	rc = sdb(s, SDB_AGG)->get(sdb(s, SDB_AGG), txn, &k, &d, 0);
	if (rc == DB_NOTFOUND) {
		memset(v, 0, STATS_NF * sizeof(*v));
		return SUP_OK;
	}
	if (rc == DB_BUFFER_SMALL)
		return SUP_EDB;
	if (rc != 0)
		return store_err(rc, "stats get");
	return agg_decode(b, d.size, v) ? SUP_OK : SUP_EDB;
}

/* What to add to a record: up to ADD_MAX (field, amount) pairs. */
#define ADD_MAX 8
struct add {
	int n;
	int f[ADD_MAX];
	int64_t v[ADD_MAX];
};

static void
add_one(struct add *a, int f, int64_t v)
{
	a->f[a->n] = f;
	a->v[a->n] = v;
	a->n++;
}

/* Add a to the record (kind, day, dim), read for update. */
static sup_err
agg_add(struct store *s, DB_TXN *txn, int kind, int64_t day, uint32_t dim,
    const struct add *a)
{
	uint8_t key[STATS_KEY_LEN], b[STATS_NF * 8];
	DBT k = { .data = key, .size = STATS_KEY_LEN };
	DBT d = { .data = b, .ulen = sizeof(b), .flags = DB_DBT_USERMEM };
	DB *db = sdb(s, SDB_AGG);
	int64_t v[STATS_NF];
	int rc;

	agg_key(key, kind, day, dim);
	rc = db->get(db, txn, &k, &d, DB_RMW);
	if (rc == DB_NOTFOUND)
		d.size = 0;
	else if (rc == DB_BUFFER_SMALL)
		return SUP_EDB;
	else if (rc != 0)
		return store_err(rc, "stats get");
	if (!agg_decode(b, d.size, v))
		return SUP_EDB;
	for (int i = 0; i < a->n; i++)
		v[a->f[i]] += a->v[i];
	for (int i = 0; i < STATS_NF; i++)
		be64_put(b + i * 8, (uint64_t)v[i]);
	d.size = sizeof(b);
	d.flags = 0;
	return store_err(db->put(db, txn, &k, &d, 0), "stats put");
}

/*
 * Add a to the records of what happened on day: the day's, the agent's
 * (none when agent is 0) and the priority's.
 */
static sup_err
agg_add_day(struct store *s, DB_TXN *txn, int64_t day, uint32_t agent,
    int prio, const struct add *a)
{
	sup_err e;

	if ((e = agg_add(s, txn, STATS_K_DAY, day, 0, a)) != SUP_OK ||
	    (e = agg_add(s, txn, STATS_K_PRIO, day, (uint32_t)prio, a)) !=
	    SUP_OK)
		return e;
	return agent != 0 ? agg_add(s, txn, STATS_K_AGENT, day, agent, a) :
	    SUP_OK;
}

/* A time of `us` as n (1 or -1) of the field's sum, count and bucket. */
static void
add_time(struct add *a, int nf, int sumf, int hf, int64_t us, int n)
{
	add_one(a, nf, n);
	add_one(a, sumf, n * us);
	add_one(a, hf + stats_bucket(us), n);
}

/* --- Changes ----------------------------------------------------------- */

/* Who a resolution or close of f by actor counts for: its assignee. */
static uint32_t
credited(const struct facts *f, uint32_t actor)
{
	if (f->assignee != 0)
		return f->assignee;
	return actor != f->owner ? actor : 0;
}

/*
 * The ticket of facts f moved to status `to` at `at` by actor: its
 * resolution (a re-resolution first takes the earlier one out of the
 * creation day's), close, or re-open (out of the creation day's
 * resolved).  Mirrors record.c's move_to.
 */
static sup_err
status_moved(struct store *s, DB_TXN *txn, struct facts *f, int to,
    int64_t at, uint32_t actor)
{
	int64_t cday = stats_day(f->created), day = stats_day(at);
	struct add a = { 0 };
	sup_err e = SUP_OK;

	if (to != ST_CLOSED && f->res != 0) {
		add_time(&a, SF_RES_N, SF_RES_SUM, SF_RES_H,
		    f->res - f->created, -1);
		if ((e = agg_add(s, txn, STATS_K_COHORT, cday, 0, &a)) !=
		    SUP_OK)
			return e;
		f->res = 0;
	}
	a.n = 0;
	if (to == ST_RESOLVED) {
		f->res = at;
		add_time(&a, SF_RES_N, SF_RES_SUM, SF_RES_H, at - f->created,
		    1);
		if ((e = agg_add(s, txn, STATS_K_COHORT, cday, 0, &a)) !=
		    SUP_OK ||
		    (e = agg_add_day(s, txn, day, credited(f, actor), f->prio,
		    &a)) != SUP_OK)
			return e;
	} else if (to == ST_CLOSED) {
		add_one(&a, SF_CLOSED, 1);
		if ((e = agg_add_day(s, txn, day, credited(f, actor), f->prio,
		    &a)) != SUP_OK)
			return e;
	}
	f->status = to;
	return SUP_OK;
}

/* The index in names of the string v, or -1. */
static int
name_of(json_object *v, const char *const *names)
{
	const char *str;

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return -1;
	str = json_object_get_string(v);
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], str) == 0)
			return i;
	return -1;
}

/* The new value of the change of field in ev (root: the event), or NULL. */
static json_object *
change_to(json_object *root, const char *field, bool *present)
{
	json_object *ch, *pair;

	*present = false;
	if (!json_object_object_get_ex(root, "changes", &ch) ||
	    !json_object_object_get_ex(ch, field, &pair) ||
	    !json_object_is_type(pair, json_type_array) ||
	    json_object_array_length(pair) != 2)
		return NULL;
	*present = true;
	return json_object_array_get_idx(pair, 1);
}

/* A member of the event's data, or NULL. */
static json_object *
data_of(json_object *root, const char *name)
{
	json_object *data, *v;

	if (!json_object_object_get_ex(root, "data", &data) ||
	    !json_object_object_get_ex(data, name, &v))
		return NULL;
	return v;
}

static sup_err
on_created(struct store *s, DB_TXN *txn, const struct event *ev,
    json_object *root)
{
	struct facts f = { 0 };
	json_object *v;
	struct add a = { 0 };
	sup_err e;

	f.created = ev->at_us;
	f.owner = ev->user != 0 ? ev->user : ev->actor;
	if ((f.prio = name_of(data_of(root, "priority"),
	    ticket_priority_names)) < 0)
		return SUP_EDB;
	v = data_of(root, "assignee");
	f.assignee = v != NULL ? (uint32_t)json_object_get_int64(v) : 0;
	f.status = ST_OPEN;
	add_one(&a, SF_CREATED, 1);
	if ((e = agg_add_day(s, txn, stats_day(f.created), 0, f.prio, &a)) !=
	    SUP_OK ||
	    (e = agg_add(s, txn, STATS_K_COHORT, stats_day(f.created), 0,
	    &a)) != SUP_OK)
		return e;
	return facts_save(s, txn, ev->ticket, &f);
}

static sup_err
on_updated(struct store *s, DB_TXN *txn, const struct event *ev,
    json_object *root)
{
	struct facts f;
	json_object *v;
	bool has;
	int to;
	sup_err e;

	if ((e = facts_load(s, txn, ev->ticket, &f)) != SUP_OK)
		return e;
	v = change_to(root, "priority", &has);
	if (has && (to = name_of(v, ticket_priority_names)) >= 0)
		f.prio = to;
	v = change_to(root, "assignee", &has);
	if (has)
		f.assignee = v != NULL ? (uint32_t)json_object_get_int64(v) : 0;
	v = change_to(root, "status", &has);
	if (has && (to = name_of(v, ticket_status_names)) < 0)
		return SUP_EDB;
	if (has && (e = status_moved(s, txn, &f, to, ev->at_us, ev->actor)) !=
	    SUP_OK)
		return e;
	return facts_save(s, txn, ev->ticket, &f);
}

/*
 * What a message.posted says, read from the event's own members as it
 * was written (msg.c's posted_event: data from_user and first_response,
 * changes status, none of them a text anybody typed): a parse with
 * json-c was a sixth of a post.  from and to are -1 when the status did
 * not move.  False when the event is not laid out so.
 */
static bool
posted_of(const struct event *ev, bool *from_user, bool *first, int *from,
    int *to)
{
	static const char key[] = "\"status\":[";
	const char *c = ev->changes.p, *p, *q, *end;

	*from_user = ev->data.p != NULL && memmem(ev->data.p, ev->data.len,
	    "\"from_user\":true", 16) != NULL;
	*first = ev->data.p != NULL && memmem(ev->data.p, ev->data.len,
	    "\"first_response\":true", 21) != NULL;
	*from = *to = -1;
	if (c == NULL || (p = memmem(c, ev->changes.len, key,
	    sizeof(key) - 1)) == NULL)
		return true;
	end = c + ev->changes.len;
	p += sizeof(key) - 1;
	for (int i = 0; i < 2; i++) {
		if (p >= end || *p != '"' ||
		    (q = memchr(p + 1, '"', (size_t)(end - p - 1))) == NULL)
			return false;
		*(i == 0 ? from : to) = ticket_name_quoted(ticket_status_names,
		    p, (size_t)(q - p + 1));
		p = q + 2;	/* past the quote and the comma */
	}
	return *from >= 0 && *to >= 0;
}

/*
 * A public message: a staff reply counts for its writer; the first one
 * is the first response (its delay on the day it was written, and on
 * the ticket's creation day); a status it moved out of resolved or
 * closed is a re-open.  A customer's message that re-opens nothing
 * costs nothing, a staff reply one record.
 */
static sup_err
on_posted(struct store *s, DB_TXN *txn, const struct event *ev)
{
	struct facts f;
	struct add a = { 0 };
	bool from_user, first, reopen;
	int from, to;
	sup_err e;

	if (!posted_of(ev, &from_user, &first, &from, &to))
		return SUP_EDB;
	reopen = from == ST_RESOLVED || from == ST_CLOSED;
	if (!from_user && !first && !reopen) {
		add_one(&a, SF_REPLIES, 1);
		return agg_add(s, txn, STATS_K_AGENT, stats_day(ev->at_us),
		    ev->actor, &a);
	}
	if (from_user && !reopen)
		return SUP_OK;
	if ((e = facts_load(s, txn, ev->ticket, &f)) != SUP_OK)
		return e;
	if (!from_user) {
		add_one(&a, SF_REPLIES, 1);
		if (first) {
			add_time(&a, SF_FR_N, SF_FR_SUM, SF_FR_H,
			    ev->at_us - f.created, 1);
			f.fr = ev->at_us;
		}
		if ((e = agg_add_day(s, txn, stats_day(ev->at_us), ev->actor,
		    f.prio, &a)) != SUP_OK)
			return e;
		if (first) {
			a.n = 0;
			add_time(&a, SF_FR_N, SF_FR_SUM, SF_FR_H,
			    ev->at_us - f.created, 1);
			if ((e = agg_add(s, txn, STATS_K_COHORT,
			    stats_day(f.created), 0, &a)) != SUP_OK)
				return e;
		}
	}
	if (reopen && (e = status_moved(s, txn, &f, to, ev->at_us,
	    ev->actor)) != SUP_OK)
		return e;
	return facts_save(s, txn, ev->ticket, &f);
}

/*
 * A rating: good or bad on the day it was given, for the ticket's
 * priority and its assignee (the customer who gave it is no agent).
 */
static sup_err
on_rated(struct store *s, DB_TXN *txn, const struct event *ev,
    json_object *root)
{
	static const char *const ratings[] = { "good", "bad", NULL };
	struct facts f;
	struct add a = { 0 };
	int r;
	sup_err e;

	if ((r = name_of(data_of(root, "rating"), ratings)) < 0)
		return SUP_EDB;
	if ((e = facts_load(s, txn, ev->ticket, &f)) != SUP_OK)
		return e;
	f.rating = r + 1;
	add_one(&a, r == 0 ? SF_GOOD : SF_BAD, 1);
	if ((e = agg_add_day(s, txn, stats_day(ev->at_us), f.assignee, f.prio,
	    &a)) != SUP_OK)
		return e;
	return facts_save(s, txn, ev->ticket, &f);
}

/*
 * The subscriber: the changes of tickets into the aggregates, inside
 * the change's transaction.  An event of a ticket the area has no facts
 * for (none should be: the build makes them) is SUP_EDB, and the
 * change is refused rather than counted wrong.
 */
static sup_err
stats_on_event(struct store *s, DB_TXN *txn, const struct event *ev)
{
	struct json_tokener *tok;
	json_object *root;
	sup_err e;

	if ((ev->type != EV_TICKET_CREATED && ev->type != EV_TICKET_UPDATED &&
	    ev->type != EV_MESSAGE_POSTED && ev->type != EV_TICKET_RATED) ||
	    ev->ticket == NULL)
		return SUP_OK;
	if (ev->type == EV_MESSAGE_POSTED)
		return on_posted(s, txn, ev);
	if ((tok = json_tokener_new()) == NULL)
		return SUP_ENOMEM;
	root = json_tokener_parse_ex(tok, ev->text, (int)ev->len);
	if (root == NULL) {
		e = json_parse_nomem(tok) ? SUP_ENOMEM : SUP_EDB;
		json_tokener_free(tok);
		return e;
	}
	json_tokener_free(tok);
	switch (ev->type) {
	case EV_TICKET_CREATED:
		e = on_created(s, txn, ev, root);
		break;
	case EV_TICKET_UPDATED:
		e = on_updated(s, txn, ev, root);
		break;
	default:
		e = on_rated(s, txn, ev, root);
		break;
	}
	json_object_put(root);
	return e;
}

/* --- The build for an older store ------------------------------------ */

/*
 * A store made before this area has tickets and no stats.db: its first
 * opener builds the facts and the aggregates from the tickets' own
 * times (created_at, first_response_at, resolved_at, closed_at), in
 * batches (the marker protocol of store.h).  What the tickets do not
 * say is left out of an older store's numbers: who wrote the first
 * response and how many replies each agent wrote before the upgrade
 * (the per-agent counts of replies and first responses start at it); a
 * resolution or close counts for the ticket's assignee.  A build cut
 * short starts again: it empties both databases first.
 */
#define STATS_MARK "stats.build"
#define STATS_BATCH 200

static bool
stats_due(const struct store *s)
{
	return store_has_file(s, "tickets.db") &&
	    !store_has_file(s, "stats.db");
}

struct sbatch {
	bool started;
	uint8_t last[UUID_LEN];
};

/* The facts and aggregates of one decoded ticket. */
static sup_err
build_one(struct store *s, DB_TXN *txn, const struct record_ticket *t)
{
	struct facts f = { 0 };
	struct add a = { 0 };
	int64_t cday = stats_day(t->created_at);
	sup_err e;

	f.created = t->created_at;
	f.owner = t->user;
	f.assignee = t->assignee;
	f.prio = t->priority;
	f.status = t->status;
	add_one(&a, SF_CREATED, 1);
	if ((e = agg_add_day(s, txn, cday, 0, f.prio, &a)) != SUP_OK)
		return e;
	if (t->first_response_at != RECORD_NULL) {
		struct add r = { 0 };
		f.fr = t->first_response_at;
		add_time(&r, SF_FR_N, SF_FR_SUM, SF_FR_H, f.fr - f.created, 1);
		if ((e = agg_add_day(s, txn, stats_day(f.fr), 0, f.prio,
		    &r)) != SUP_OK)
			return e;
		for (int i = 0; i < r.n; i++)
			add_one(&a, r.f[i], r.v[i]);
	}
	if (t->resolved_at != RECORD_NULL &&
	    (t->status == ST_RESOLVED || t->status == ST_CLOSED)) {
		struct add r = { 0 };
		f.res = t->resolved_at;
		add_time(&r, SF_RES_N, SF_RES_SUM, SF_RES_H, f.res - f.created,
		    1);
		if ((e = agg_add_day(s, txn, stats_day(f.res), f.assignee,
		    f.prio, &r)) != SUP_OK)
			return e;
		for (int i = 0; i < r.n; i++)
			add_one(&a, r.f[i], r.v[i]);
	}
	if ((e = agg_add(s, txn, STATS_K_COHORT, cday, 0, &a)) != SUP_OK)
		return e;
	if (t->status == ST_CLOSED && t->closed_at != RECORD_NULL) {
		struct add c = { 0 };
		add_one(&c, SF_CLOSED, 1);
		if ((e = agg_add_day(s, txn, stats_day(t->closed_at),
		    f.assignee, f.prio, &c)) != SUP_OK)
			return e;
	}
	return facts_save(s, txn, t->uuid, &f);
}

static int
stats_batch(struct store *s, DB_TXN *txn, void *arg, size_t *n)
{
	struct sbatch *b = arg;
	uint8_t kb[UUID_LEN];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	DB *tdb = ticket_db(s, TDB_TICKETS);
	struct record_ticket t;
	DBC *c;
	int rc;

	*n = 0;
	if ((rc = tdb->cursor(tdb, txn, &c, DB_READ_COMMITTED)) != 0)
		return rc;
	if (b->started) {
		memcpy(kb, b->last, UUID_LEN);
		k.size = UUID_LEN;
		rc = c->get(c, &k, &d, DB_SET_RANGE);
		if (rc == 0 && k.size == UUID_LEN &&
		    memcmp(kb, b->last, UUID_LEN) == 0)
			rc = c->get(c, &k, &d, DB_NEXT);
	} else
		rc = c->get(c, &k, &d, DB_FIRST);
	for (; rc == 0 && *n < STATS_BATCH; rc = c->get(c, &k, &d, DB_NEXT)) {
		sup_err e = record_ticket_decode(d.data, d.size, &t);
		if (e == SUP_OK)
			e = build_one(s, txn, &t);
		record_ticket_clear(&t);
		if (e == SUP_EDB)
			fprintf(stderr, "support: a ticket record that cannot "
			    "be read is left out of the statistics\n");
		else if (e != SUP_OK) {
			rc = e == SUP_EDEADLOCK ? DB_LOCK_DEADLOCK : EIO;
			break;
		}
		memcpy(b->last, kb, UUID_LEN);
		b->started = true;
		(*n)++;
	}
	c->close(c);
	free(d.data);
	return rc == DB_NOTFOUND ? 0 : rc;
}

static sup_err
stats_run(struct store *s)
{
	struct sbatch b = { 0 };
	u_int32_t count;
	sup_err e;
	int rc;

	fprintf(stderr, "support: building the statistics from the tickets "
	    "(a store of an older version)\n");
	for (int i = 0; i < STATS_NDB; i++)
		if ((rc = sdb(s, i)->truncate(sdb(s, i), NULL, &count,
		    DB_AUTO_COMMIT)) != 0)
			return store_err(rc, "stats truncate");
	if ((e = store_batches(s, stats_batch, &b, sizeof(b),
	    "building the statistics")) != SUP_OK)
		return e;
	fprintf(stderr, "support: the statistics built\n");
	return SUP_OK;
}

sup_err
stats_forget_rating(struct store *s, DB_TXN *txn,
    const uint8_t uuid[UUID_LEN])
{
	DB *ratings = sdb(s, SDB_RATINGS);
	DBT k = { .data = (void *)(uintptr_t)uuid, .size = UUID_LEN };
	int rc;

	if ((rc = ratings->del(ratings, txn, &k, 0)) != 0 &&
	    rc != DB_NOTFOUND)
		return store_err(rc, "ratings forget");
	return SUP_OK;
}

/* --- The check --------------------------------------------------------- */

/*
 * verify: every ticket has its facts, and the records of each creation
 * day (STATS_K_COHORT) are what its tickets' facts add up to.  The facts
 * of a ticket purged for its age stay (supportctl purge_old_tickets): the
 * aggregates keep their numbers, and the creation days theirs.
 */
static sup_err
stats_verify(struct store *s, struct store_check *c)
{
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	int64_t lo = INT64_MAX, hi = INT64_MIN, ntickets;
	int64_t present = 0;
	DB *tickets = ticket_db(s, TDB_TICKETS);
	int64_t (*sum)[STATS_NF] = NULL, v[STATS_NF];
	struct facts f;
	long bad = 0, wrong = 0;
	DBC *cur = NULL;
	sup_err e = SUP_OK;
	int rc;

	if ((e = store_count_db(ticket_db(s, TDB_TICKETS), &ntickets)) !=
	    SUP_OK)
		return e;
	/* The span of days: a first walk of the facts. */
	if ((rc = sdb(s, SDB_FACTS)->cursor(sdb(s, SDB_FACTS), NULL, &cur,
	    0)) != 0)
		return store_err(rc, "stats cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		DBT none = { .flags = DB_DBT_PARTIAL };	/* no copy */

		if (k.size != UUID_LEN || !facts_get_bytes(d.data, d.size,
		    &f)) {
			bad++;
			continue;
		}
		if ((rc = tickets->get(tickets, NULL, &k, &none, 0)) == 0)
			present++;
		else if (rc != DB_NOTFOUND)
			break;
		lo = stats_day(f.created) < lo ? stats_day(f.created) : lo;
		hi = stats_day(f.created) > hi ? stats_day(f.created) : hi;
	}
	if (rc != DB_NOTFOUND) {
		e = store_err(rc, "stats verify");
		goto out;
	}
	if (bad > 0)
		store_problem(c, "%ld ticket facts of the statistics not laid "
		    "out as stats.c says", bad);
	if (present != ntickets)
		store_problem(c, "the statistics know %lld of the store's %lld "
		    "tickets", (long long)present, (long long)ntickets);
	if (lo > hi)
		goto out;
	if (hi - lo > 100000 ||
	    (sum = calloc((size_t)(hi - lo + 1), sizeof(*sum))) == NULL) {
		e = hi - lo > 100000 ? SUP_OK : SUP_ENOMEM;
		goto out;
	}
	cur->close(cur);
	cur = NULL;
	if ((rc = sdb(s, SDB_FACTS)->cursor(sdb(s, SDB_FACTS), NULL, &cur,
	    0)) != 0) {
		e = store_err(rc, "stats cursor");
		goto out;
	}
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		int64_t *row;
		if (k.size != UUID_LEN || !facts_get_bytes(d.data, d.size, &f))
			continue;
		row = sum[stats_day(f.created) - lo];
		row[SF_CREATED]++;
		if (f.fr != 0) {
			row[SF_FR_N]++;
			row[SF_FR_SUM] += f.fr - f.created;
			row[SF_FR_H + stats_bucket(f.fr - f.created)]++;
		}
		if (f.res != 0) {
			row[SF_RES_N]++;
			row[SF_RES_SUM] += f.res - f.created;
			row[SF_RES_H + stats_bucket(f.res - f.created)]++;
		}
	}
	if (rc != DB_NOTFOUND) {
		e = store_err(rc, "stats verify");
		goto out;
	}
	for (int64_t day = lo; day <= hi; day++) {
		if ((e = stats_get(s, NULL, STATS_K_COHORT, day, 0, v)) !=
		    SUP_OK)
			goto out;
		v[SF_CLOSED] = v[SF_REPLIES] = v[SF_GOOD] = v[SF_BAD] = 0;
		if (memcmp(v, sum[day - lo], sizeof(v)) != 0)
			wrong++;
	}
	if (wrong > 0)
		store_problem(c, "the statistics of %ld creation days disagree "
		    "with their tickets", wrong);
out:
	if (cur != NULL)
		cur->close(cur);
	free(sum);
	free(k.data);
	free(d.data);
	return e;
}

/* --- The report -------------------------------------------------------- */

/* Set k of o to the mean of sum µs over n, in seconds to the
 * millisecond; null for none. */
static bool
set_mean(json_object *o, const char *k, int64_t sum, int64_t n)
{
	if (n <= 0)
		return json_set_null(o, k);
	int64_t ms = sum / n;		/* µs, then ms rounded half up */

	ms = ms >= 0 ? (ms + 500) / 1000 : -((-ms + 500) / 1000);
	return json_set(o, k, json_object_new_double((double)ms / 1000.0));
}

/* Set k of o to the quantile q of h (n times); null for none. */
static bool
set_quant(json_object *o, const char *k, const int64_t *h, int64_t n,
    int pct)
{
	int64_t x = stats_quantile(h, n, pct);

	return x < 0 ? json_set_null(o, k) :
	    json_set(o, k, json_object_new_int64(x));
}

/* The date of a day, "YYYY-MM-DD", into buf (11 bytes). */
static void
day_text(int64_t day, char buf[TIME_STRLEN + 1])
{
	time_format(day * STATS_DAY_US, buf);
	buf[10] = '\0';
}

/* One agent's row being summed. */
struct agent_row {
	uint32_t id;
	int64_t v[STATS_NF];
	int64_t open;
};

struct report {
	struct agent_row *agents;
	size_t n, cap;
	int64_t by_status[ST_MAX];
	bool failed;
};

static struct agent_row *
agent_row(struct report *r, uint32_t id)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->agents[i].id == id)
			return &r->agents[i];
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct agent_row *g = realloc(r->agents, cap * sizeof(*g));
		if (g == NULL) {
			r->failed = true;
			return NULL;
		}
		r->agents = g;
		r->cap = cap;
	}
	memset(&r->agents[r->n], 0, sizeof(r->agents[0]));
	r->agents[r->n].id = id;
	return &r->agents[r->n++];
}

static void
count_one(void *ctx, int status, uint32_t assignee, int64_t n)
{
	struct report *r = ctx;
	struct agent_row *a;

	if (status < 0 || status >= ST_MAX)
		return;
	r->by_status[status] += n;
	if (assignee != 0 && status != ST_RESOLVED && status != ST_CLOSED &&
	    (a = agent_row(r, assignee)) != NULL)
		a->open += n;
}

/* Add the agents' records of day to r.  A Berkeley DB code. */
static int
agents_of_day(struct store *s, DB_TXN *txn, int64_t day, struct report *r)
{
	uint8_t kb[STATS_KEY_LEN], start[STATS_KEY_LEN];
	uint8_t b[STATS_NF * 8];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT d = { .data = b, .ulen = sizeof(b), .flags = DB_DBT_USERMEM };
	int64_t v[STATS_NF];
	struct agent_row *a;
	DBC *c;
	int rc;

	agg_key(start, STATS_K_AGENT, day, 0);
	memcpy(kb, start, sizeof(kb));
	k.size = sizeof(kb);
	if ((rc = sdb(s, SDB_AGG)->cursor(sdb(s, SDB_AGG), txn, &c, 0)) != 0)
		return rc;
	for (rc = c->get(c, &k, &d, DB_SET_RANGE); rc == 0;
	    rc = c->get(c, &k, &d, DB_NEXT)) {
		if (k.size != STATS_KEY_LEN || memcmp(kb, start, 5) != 0)
			break;
		if (!agg_decode(b, d.size, v) ||
		    (a = agent_row(r, be32_get(kb + 5))) == NULL) {
			rc = r->failed ? ENOMEM : EINVAL;
			break;
		}
		for (int i = 0; i < STATS_NF; i++)
			a->v[i] += v[i];
	}
	c->close(c);
	return rc == DB_NOTFOUND ? 0 : rc;
}

/* The times of v (a record or a sum): avg, median and p90 of each. */
static bool
put_times(json_object *o, const int64_t *v, bool response, bool resolution)
{
	bool ok = true;

	if (response) {
		ok = ok && set_mean(o, "avg_response_time", v[SF_FR_SUM],
		    v[SF_FR_N]) && set_quant(o, "median_response_time",
		    v + SF_FR_H, v[SF_FR_N], 50) && set_quant(o,
		    "p90_response_time", v + SF_FR_H, v[SF_FR_N], 90);
	}
	if (resolution) {
		ok = ok && set_mean(o, "avg_resolution_time", v[SF_RES_SUM],
		    v[SF_RES_N]) && set_quant(o, "median_resolution_time",
		    v + SF_RES_H, v[SF_RES_N], 50) && set_quant(o,
		    "p90_resolution_time", v + SF_RES_H, v[SF_RES_N], 90);
	}
	return ok;
}

/* The satisfaction of good and bad ratings: {good, bad, ratings, score}. */
static json_object *
satisfaction(int64_t good, int64_t bad)
{
	json_object *o = json_object_new_object();

	if (o == NULL || !json_set(o, "good", json_object_new_int64(good)) ||
	    !json_set(o, "bad", json_object_new_int64(bad)) ||
	    !json_set(o, "ratings", json_object_new_int64(good + bad)) ||
	    !(good + bad > 0 ? json_set(o, "score",
	    json_object_new_double((double)((1000 * good + (good + bad) / 2) /
	    (good + bad)) / 10.0)) : json_set_null(o, "score"))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct report_args {
	int64_t from, to;
	json_object *out;
};

/* Set name of o to v (taken; NULL: out of memory).  SUP_ENOMEM. */
static sup_err
add_member(json_object *o, const char *name, json_object *v)
{
	return json_set(o, name, v) ? SUP_OK : SUP_ENOMEM;
}

static sup_err
report_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct report_args *a = arg;
	struct report r = { 0 };
	int64_t cohort[STATS_NF] = { 0 }, total[STATS_NF] = { 0 };
	int64_t prio[PRI_MAX][STATS_NF], v[STATS_NF];
	json_object *o, *daily, *arr, *row;
	char date[TIME_STRLEN + 1];
	sup_err e = SUP_OK;
	int rc;

	json_object_put(a->out);
	if ((o = a->out = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	memset(prio, 0, sizeof(prio));
	daily = json_object_new_array();
	if ((e = add_member(o, "daily", daily)) != SUP_OK)
		goto out;
	for (int64_t day = a->from; day <= a->to; day++) {
		if ((e = stats_get(s, txn, STATS_K_COHORT, day, 0, v)) !=
		    SUP_OK)
			goto out;
		for (int i = 0; i < STATS_NF; i++)
			cohort[i] += v[i];
		if ((e = stats_get(s, txn, STATS_K_DAY, day, 0, v)) != SUP_OK)
			goto out;
		for (int i = 0; i < STATS_NF; i++)
			total[i] += v[i];
		day_text(day, date);
		if ((row = json_object_new_object()) == NULL ||
		    json_object_array_add(daily, row) != 0) {
			json_object_put(row);
			e = SUP_ENOMEM;
			goto out;
		}
		if (!json_set(row, "date", json_object_new_string(date)) ||
		    !json_set(row, "created",
		    json_object_new_int64(v[SF_CREATED])) ||
		    !json_set(row, "first_responses",
		    json_object_new_int64(v[SF_FR_N])) ||
		    !set_mean(row, "avg_response_time", v[SF_FR_SUM],
		    v[SF_FR_N]) ||
		    !json_set(row, "resolved",
		    json_object_new_int64(v[SF_RES_N])) ||
		    !set_mean(row, "avg_resolution_time", v[SF_RES_SUM],
		    v[SF_RES_N]) ||
		    !json_set(row, "closed",
		    json_object_new_int64(v[SF_CLOSED])) ||
		    !json_set(row, "ratings",
		    json_object_new_int64(v[SF_GOOD] + v[SF_BAD]))) {
			e = SUP_ENOMEM;
			goto out;
		}
		for (int p = 0; p < PRI_MAX; p++) {
			if ((e = stats_get(s, txn, STATS_K_PRIO, day,
			    (uint32_t)p, v)) != SUP_OK)
				goto out;
			for (int i = 0; i < STATS_NF; i++)
				prio[p][i] += v[i];
		}
		if ((rc = agents_of_day(s, txn, day, &r)) != 0) {
			e = rc == ENOMEM ? SUP_ENOMEM : store_err(rc, "stats");
			goto out;
		}
	}
	if ((e = store_tcount_each(s, txn, count_one, &r)) != SUP_OK)
		goto out;
	if (r.failed) {
		e = SUP_ENOMEM;
		goto out;
	}

	/* The original app's numbers: the tickets created in the window. */
	if (!json_set(o, "total_tickets",
	    json_object_new_int64(cohort[SF_CREATED])) ||
	    !json_set(o, "open_tickets",
	    json_object_new_int64(r.by_status[ST_OPEN])) ||
	    !json_set(o, "resolved_tickets",
	    json_object_new_int64(cohort[SF_RES_N])) ||
	    !put_times(o, cohort, true, true)) {
		e = SUP_ENOMEM;
		goto out;
	}
	arr = json_object_new_array();
	if ((e = add_member(o, "tickets_by_status", arr)) != SUP_OK)
		goto out;
	for (int st = 0; st < ST_MAX; st++) {
		if ((row = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, row) != 0 ||
		    !json_set(row, "status",
		    json_object_new_string(ticket_status_names[st])) ||
		    !json_set(row, "count",
		    json_object_new_int64(r.by_status[st]))) {
			e = SUP_ENOMEM;
			goto out;
		}
	}
	arr = json_object_new_array();
	if ((e = add_member(o, "by_priority", arr)) != SUP_OK)
		goto out;
	for (int p = 0; p < PRI_MAX; p++) {
		if ((row = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, row) != 0 ||
		    !json_set(row, "priority",
		    json_object_new_string(ticket_priority_names[p])) ||
		    !json_set(row, "created",
		    json_object_new_int64(prio[p][SF_CREATED])) ||
		    !json_set(row, "first_responses",
		    json_object_new_int64(prio[p][SF_FR_N])) ||
		    !json_set(row, "resolved",
		    json_object_new_int64(prio[p][SF_RES_N])) ||
		    !json_set(row, "closed",
		    json_object_new_int64(prio[p][SF_CLOSED])) ||
		    !put_times(row, prio[p], true, true)) {
			e = SUP_ENOMEM;
			goto out;
		}
	}
	arr = json_object_new_array();
	if ((e = add_member(o, "per_agent", arr)) != SUP_OK)
		goto out;
	for (size_t i = 0; i < r.n; i++) {
		struct agent_row *ag = &r.agents[i];
		json_object *rec = NULL, *name;
		e = user_get(s, txn, ag->id, &rec);
		if (e == SUP_ENOTFOUND)
			e = SUP_OK;
		if (e != SUP_OK)
			goto out;
		if (rec == NULL ||
		    !json_object_object_get_ex(rec, "username", &name))
			name = NULL;
		if ((row = json_object_new_object()) == NULL ||
		    json_object_array_add(arr, row) != 0 ||
		    !json_set(row, "id", json_object_new_int64(ag->id)) ||
		    !(name != NULL ? json_set(row, "username",
		    json_object_get(name)) : json_set_null(row, "username")) ||
		    !json_set(row, "assigned_open",
		    json_object_new_int64(ag->open)) ||
		    !json_set(row, "replies",
		    json_object_new_int64(ag->v[SF_REPLIES])) ||
		    !json_set(row, "first_responses",
		    json_object_new_int64(ag->v[SF_FR_N])) ||
		    !json_set(row, "resolutions",
		    json_object_new_int64(ag->v[SF_RES_N])) ||
		    !json_set(row, "closed",
		    json_object_new_int64(ag->v[SF_CLOSED])) ||
		    !put_times(row, ag->v, true, true) ||
		    !json_set(row, "satisfaction",
		    satisfaction(ag->v[SF_GOOD], ag->v[SF_BAD]))) {
			json_object_put(rec);
			e = SUP_ENOMEM;
			goto out;
		}
		json_object_put(rec);
	}
	if (!json_set(o, "satisfaction",
	    satisfaction(total[SF_GOOD], total[SF_BAD]))) {
		e = SUP_ENOMEM;
		goto out;
	}
	{
		json_object *w = json_object_new_object();
		char to[TIME_STRLEN + 1];
		day_text(a->from, date);
		day_text(a->to, to);
		if (w == NULL || !json_set(o, "window", w) ||
		    !json_set(w, "from", json_object_new_string(date)) ||
		    !json_set(w, "to", json_object_new_string(to)) ||
		    !json_set(w, "days",
		    json_object_new_int64(a->to - a->from + 1)))
			e = SUP_ENOMEM;
	}
out:
	free(r.agents);
	return e;
}

sup_err
stats_report(struct store *s, int64_t from_day, int64_t to_day,
    json_object **out)
{
	struct report_args a = { .from = from_day, .to = to_day };

	*out = NULL;
	if (from_day > to_day || to_day - from_day + 1 > STATS_DAYS_MAX ||
	    from_day < 0)
		return SUP_EINVAL;
	return store_run_json(s, STORE_READ, report_txn, &a, &a.out, out);
}

/* --- Ratings ------------------------------------------------------------ */

struct rate_args {
	const struct sup_user *u;
	const uint8_t *uuid;
	bool good;
	const char *comment;
	size_t len;
	json_object *out;
	bool can_rate;
};

/* The rating rec as the API shows it: a new object, or NULL. */
static json_object *
rating_public(json_object *rec)
{
	json_object *o = json_object_new_object(), *v;

	if (o == NULL)
		return NULL;
	json_object_object_foreach(rec, k, val) {
		if (strcmp(k, "user") == 0)
			continue;
		v = json_object_get(val);
		if (json_object_object_add(o, k, v) != 0) {
			json_object_put(v);
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

static sup_err
rate_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct rate_args *a = arg;
	struct record_ticket t = { 0 };
	json_object *rec = NULL, *old;
	char at[TIME_STRLEN + 1];
	struct event ev;
	int64_t now = time_now_us();
	sup_err e;

	json_object_put(a->out);
	a->out = NULL;
	event_init(&ev, EV_TICKET_RATED, a->u->id);
	if ((e = ticket_load(s, txn, a->u, a->uuid, DB_RMW, &t)) != SUP_OK)
		goto out;
	if (t.user != a->u->id) {
		e = SUP_EFORBIDDEN;
		goto out;
	}
	if ((t.status != ST_RESOLVED && t.status != ST_CLOSED) ||
	    t.resolved_at == RECORD_NULL) {
		e = STATS_ENOTRESOLVED;
		goto out;
	}
	e = store_get(sdb(s, SDB_RATINGS), txn, a->uuid, UUID_LEN, DB_RMW,
	    &old);
	json_object_put(old);
	if (e == SUP_OK)
		e = STATS_ERATED;
	if (e != SUP_ENOTFOUND)
		goto out;
	time_format(now, at);
	if ((rec = json_object_new_object()) == NULL ||
	    !json_set(rec, "rating", json_object_new_string(a->good ? "good" :
	    "bad")) ||
	    !(a->comment != NULL ? json_set(rec, "comment",
	    json_object_new_string_len(a->comment, (int)a->len)) :
	    json_set_null(rec, "comment")) ||
	    !json_set(rec, "created_at", json_object_new_string(at)) ||
	    !json_set(rec, "user", json_object_new_int64(a->u->id))) {
		e = SUP_ENOMEM;
		goto out;
	}
	if ((e = store_put(sdb(s, SDB_RATINGS), txn, a->uuid, UUID_LEN, rec,
	    DB_NOOVERWRITE)) != SUP_OK)
		goto out;
	ev.ticket = a->uuid;
	ev.user = a->u->id;
	ev.at_us = now;
	if ((e = event_data_cstr(&ev, "rating", a->good ? "good" : "bad")) !=
	    SUP_OK || (e = event_append(s, txn, &ev)) != SUP_OK)
		goto out;
	if ((a->out = rating_public(rec)) == NULL)
		e = SUP_ENOMEM;
out:
	event_free(&ev);
	record_ticket_clear(&t);
	json_object_put(rec);
	return e;
}

sup_err
stats_rate(struct store *s, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], bool good, const char *comment, size_t len,
    json_object **out)
{
	struct rate_args a = { .u = u, .uuid = uuid, .good = good,
		.comment = comment, .len = len };

	*out = NULL;
	if (user_is_staff(u))
		return SUP_EFORBIDDEN;
	if (comment != NULL && len > STATS_COMMENT_MAX * 4)
		return SUP_EINVAL;
	return store_run_json(s, 0, rate_txn, &a, &a.out, out);
}

static sup_err
rating_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct rate_args *a = arg;
	struct record_ticket t = { 0 };
	json_object *rec;
	sup_err e;

	json_object_put(a->out);
	a->out = NULL;
	a->can_rate = false;
	if ((e = ticket_load(s, txn, a->u, a->uuid, 0, &t)) != SUP_OK) {
		record_ticket_clear(&t);
		return e;
	}
	e = store_get(sdb(s, SDB_RATINGS), txn, a->uuid, UUID_LEN, 0, &rec);
	if (e == SUP_ENOTFOUND) {
		a->can_rate = !user_is_staff(a->u) && t.user == a->u->id &&
		    (t.status == ST_RESOLVED || t.status == ST_CLOSED) &&
		    t.resolved_at != RECORD_NULL;
		e = SUP_OK;
		rec = NULL;
	}
	record_ticket_clear(&t);
	if (e != SUP_OK || rec == NULL)
		return e;
	a->out = rating_public(rec);
	json_object_put(rec);
	return a->out != NULL ? SUP_OK : SUP_ENOMEM;
}

sup_err
stats_rating(struct store *s, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], json_object **out, bool *can_rate)
{
	struct rate_args a = { .u = u, .uuid = uuid };
	sup_err e;

	*out = NULL;
	e = store_run(s, STORE_READ, rating_txn, &a);
	if (e == SUP_OK)
		*out = a.out;
	else
		json_object_put(a.out);
	if (can_rate != NULL)
		*can_rate = e == SUP_OK && a.can_rate;
	return e;
}

/* --- The area ---------------------------------------------------------- */

static const struct store_db stats_dbs[STATS_NDB] = {
	[SDB_AGG] = { .file = "stats.db", .type = DB_BTREE },
	[SDB_FACTS] = { .file = "stats_tickets.db", .type = DB_BTREE },
	[SDB_RATINGS] = { .file = "ratings.db", .type = DB_BTREE },
};

static const struct store_build stats_builds[] = {
	{ STATS_MARK, stats_due, stats_run },
};

static const struct event_subscriber stats_sub = { "stats",
	stats_on_event };
static const struct event_subscriber *const stats_subs[] = { &stats_sub,
	NULL };

const struct store_area stats_area = {
	.name = "statistics",
	.db = stats_dbs,
	.ndb = STATS_NDB,
	.build = stats_builds,
	.nbuild = SUP_NELEM(stats_builds),
	.verify = stats_verify,
	.subscribers = stats_subs,
};
