/*
 * audit.c - the audit log (audit.h): a subscriber of the change-event log
 * that keeps the events an auditor asks about, by time, by ticket and by
 * actor; the reads of the admins' page, API and `supportctl audit`; the
 * build for an older store and the check.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "event.h"
#include "record.h"
#include "tstore.h"
#include "user.h"

enum audit_db { ADB_LOG, ADB_TICKET, ADB_ACTOR, AUDIT_NDB };

static inline DB *
adb(const struct store *s, enum audit_db i)
{
	return store_db(s, AREA_AUDIT, i);
}

#define ROW_KEY_LEN AUDIT_CURSOR_LEN		/* at_us(8) seq(8) */
#define TICKET_KEY_LEN (UUID_LEN + ROW_KEY_LEN)
#define ACTOR_KEY_LEN (4 + ROW_KEY_LEN)
#define BUILD_BATCH 500

/* --- Recording --------------------------------------------------------- */

/* text[0..len) parsed (a new reference), or NULL when it is no JSON. */
static json_object *
parse_text(const char *text, size_t len)
{
	DBT d = { .data = (void *)text, .size = (u_int32_t)len };
	json_object *o;

	return store_parse(&d, &o) == SUP_OK ? o : NULL;
}

/* What one event says, for the log: from the event or its stored text. */
struct audit_ev {
	int type;
	uint32_t actor, user;
	bool has_ticket;
	uint8_t ticket[UUID_LEN];
	int64_t at_us, seq;
	const char *text;
	size_t len;
};

/*
 * Does the log keep an event of this type?  user.changed only for a role
 * or a password (the away switch is an agent's own coming and going).
 */
static bool
audit_wants(const struct audit_ev *a)
{
	json_object *o, *v;
	bool want;

	switch (a->type) {
	case EV_TICKET_UPDATED:
	case EV_MESSAGE_EDITED:
	case EV_MESSAGE_DELETED:
	case EV_USER_CREATED:
	case EV_USER_DISABLED:
	case EV_USER_ENABLED:
	case EV_TOKEN_CREATED:
	case EV_TOKEN_REVOKED:
	case EV_SESSIONS_REVOKED:
	case EV_LOGIN_SUCCEEDED:
	case EV_LOGIN_FAILED:
		return true;
	case EV_USER_CHANGED:
		break;
	default:
		return false;
	}
	o = parse_text(a->text, a->len);
	if (o == NULL)
		return true;	/* kept whole rather than lost */
	want = (json_object_object_get_ex(o, "changes", &v) &&
	    json_object_object_get_ex(v, "role", NULL)) ||
	    (json_object_object_get_ex(o, "data", &v) &&
	    json_object_object_get_ex(v, "password", NULL));
	json_object_put(o);
	return want;
}

/* Keep the event a in the log and its indexes, inside txn. */
static sup_err
audit_put(struct store *s, DB_TXN *txn, const struct audit_ev *a)
{
	uint8_t row[ROW_KEY_LEN], tk[TICKET_KEY_LEN], ak[ACTOR_KEY_LEN];
	uint32_t actor = a->actor;
	DBT k = { .data = row, .size = ROW_KEY_LEN };
	DBT d = { .data = (void *)a->text, .size = (u_int32_t)a->len };
	DBT empty = { 0 };
	int rc;

	be64_put(row, (uint64_t)a->at_us);
	be64_put(row + 8, (uint64_t)a->seq);
	if ((rc = adb(s, ADB_LOG)->put(adb(s, ADB_LOG), txn, &k, &d, 0)) != 0)
		return store_err(rc, "audit put");
	if (a->has_ticket) {
		memcpy(tk, a->ticket, UUID_LEN);
		memcpy(tk + UUID_LEN, row, ROW_KEY_LEN);
		k.data = tk;
		k.size = TICKET_KEY_LEN;
		if ((rc = adb(s, ADB_TICKET)->put(adb(s, ADB_TICKET), txn, &k,
		    &empty, 0)) != 0)
			return store_err(rc, "audit put");
	}
	/* A login's actor is the account it concerns (audit.h). */
	if (actor == 0 && (a->type == EV_LOGIN_FAILED ||
	    a->type == EV_LOGIN_SUCCEEDED))
		actor = a->user;
	if (actor != 0) {
		be32_put(ak, actor);
		memcpy(ak + 4, row, ROW_KEY_LEN);
		k.data = ak;
		k.size = ACTOR_KEY_LEN;
		if ((rc = adb(s, ADB_ACTOR)->put(adb(s, ADB_ACTOR), txn, &k,
		    &empty, 0)) != 0)
			return store_err(rc, "audit put");
	}
	return SUP_OK;
}

/* The subscriber: every change's event, inside its transaction. */
static sup_err
audit_event(struct store *s, DB_TXN *txn, const struct event *ev)
{
	struct audit_ev a = { .type = ev->type, .actor = ev->actor,
		.user = ev->user, .at_us = ev->at_us, .seq = ev->seq,
		.text = ev->text, .len = ev->len };

	if (ev->ticket != NULL) {
		a.has_ticket = true;
		memcpy(a.ticket, ev->ticket, UUID_LEN);
	}
	if (!audit_wants(&a))
		return SUP_OK;
	return audit_put(s, txn, &a);
}

/*
 * An event of the log read back from its stored text into a (whose text
 * points into text): false when it is not one.
 */
static bool
audit_ev_parse(const char *text, size_t len, struct audit_ev *a)
{
	json_object *o, *v;
	bool ok = false;

	memset(a, 0, sizeof(*a));
	if ((o = parse_text(text, len)) == NULL)
		return false;
	if (!json_object_object_get_ex(o, "type", &v) ||
	    (a->type = event_type_from(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v))) < 0 ||
	    !json_object_object_get_ex(o, "seq", &v) ||
	    (a->seq = json_object_get_int64(v)) <= 0 ||
	    !json_object_object_get_ex(o, "at", &v) ||
	    !time_parse(json_object_get_string(v), &a->at_us))
		goto out;
	if (json_object_object_get_ex(o, "actor", &v))
		a->actor = (uint32_t)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "user", &v))
		a->user = (uint32_t)json_object_get_int64(v);
	if (json_object_object_get_ex(o, "ticket", &v)) {
		if (!uuid_parse(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), a->ticket))
			goto out;
		a->has_ticket = true;
	}
	a->text = text;
	a->len = len;
	ok = true;
out:
	json_object_put(o);
	return ok;
}

/* --- The build for an older store ------------------------------------- */

struct build_args {
	int64_t next;		/* the seq to go on from */
};

/* One batch: the next events of the log, each kept when wanted. */
static int
build_batch(struct store *s, DB_TXN *txn, void *arg, size_t *n)
{
	struct build_args *b = arg;
	DB **events = store_db_find(s, "events.db");
	uint8_t key[8];
	DBT k = { .data = key, .size = 8 }, d = { 0 };
	DBC *cur;
	int rc, rc2;

	*n = 0;
	if (events == NULL || *events == NULL)
		return 0;
	be64_put(key, (uint64_t)b->next);
	if ((rc = (*events)->cursor(*events, txn, &cur, 0)) != 0)
		return rc;
	for (rc = cur->get(cur, &k, &d, DB_SET_RANGE);
	    rc == 0 && *n < BUILD_BATCH; rc = cur->get(cur, &k, &d, DB_NEXT)) {
		struct audit_ev a;

		if (k.size != 8)
			continue;
		b->next = (int64_t)be64_get(k.data) + 1;
		(*n)++;
		/* An event that is not whole is verify's to report. */
		if (!audit_ev_parse(d.data, d.size, &a) || !audit_wants(&a))
			continue;
		switch (audit_put(s, txn, &a)) {
		case SUP_OK:
			break;
		case SUP_EDEADLOCK:
			rc = DB_LOCK_DEADLOCK;
			goto out;
		default:
			rc = EIO;
			goto out;
		}
	}
	if (rc == DB_NOTFOUND)
		rc = 0;
out:
	rc2 = cur->close(cur);
	return rc != 0 ? rc : rc2;
}

/* Is the log missing from a store that has an event log? */
static bool
audit_due(const struct store *s)
{
	return store_has_file(s, "events.db") &&
	    !store_has_file(s, "audit.db");
}

static sup_err
audit_build(struct store *s)
{
	struct build_args b = { .next = 1 };

	fprintf(stderr, "support: building the audit log from the event log "
	    "(a store of an older version)\n");
	return store_batches(s, build_batch, &b, sizeof(b), "audit.db");
}

/* --- Reading ------------------------------------------------------------ */

/* The username of user id into o's member name (null when none, gone). */
static sup_err
add_name(struct store *s, DB_TXN *txn, json_object *o, const char *name,
    uint32_t id)
{
	json_object *rec = NULL, *v, *val = NULL;
	sup_err e;

	if (id != 0) {
		e = user_get(s, txn, id, &rec);
		if (e != SUP_OK && e != SUP_ENOTFOUND)
			return e;
		if (rec != NULL && json_object_object_get_ex(rec, "username",
		    &v))
			val = json_object_get(v);
		json_object_put(rec);
	}
	return json_object_object_add(o, name, val) == 0 ? SUP_OK :
	    SUP_ENOMEM;
}

/* A change's value as the page shows it: text, a name, or "none". */
static sup_err
change_value(struct store *s, DB_TXN *txn, const char *field,
    json_object *v, json_object **out)
{
	json_object *rec = NULL, *name;
	sup_err e;

	*out = NULL;
	if (v == NULL)
		*out = json_object_new_string("none");
	else if (json_object_is_type(v, json_type_string))
		*out = json_object_get(v);
	else if (strcmp(field, "assignee") == 0 &&
	    json_object_is_type(v, json_type_int)) {
		e = user_get(s, txn, (uint32_t)json_object_get_int64(v), &rec);
		if (e != SUP_OK && e != SUP_ENOTFOUND)
			return e;
		if (rec != NULL && json_object_object_get_ex(rec, "username",
		    &name))
			*out = json_object_get(name);
		else
			*out = json_object_new_string(json_object_get_string(v));
		json_object_put(rec);
	} else
		*out = json_object_new_string(json_object_get_string(v));
	return *out != NULL ? SUP_OK : SUP_ENOMEM;
}

/* The number of ticket uuid into o's "ticket_number" (null when gone). */
static sup_err
add_number(struct store *s, DB_TXN *txn, json_object *o, const char *uuid)
{
	uint8_t u[UUID_LEN];
	DBT k = { .data = u, .size = UUID_LEN }, d = { .flags = DB_DBT_MALLOC };
	struct record_ticket t;
	json_object *val = NULL;
	int rc;

	if (uuid != NULL && uuid_parse(uuid, strlen(uuid), u)) {
		rc = ticket_db(s, TDB_TICKETS)->get(ticket_db(s, TDB_TICKETS),
		    txn, &k, &d, 0);
		if (rc != 0 && rc != DB_NOTFOUND)
			return store_err(rc, "ticket");
		if (rc == 0) {
			if (record_ticket_decode(d.data, d.size, &t) == SUP_OK)
				val = json_object_new_int64(t.number);
			record_ticket_clear(&t);
			free(d.data);
		}
	}
	return json_object_object_add(o, "ticket_number", val) == 0 ? SUP_OK :
	    SUP_ENOMEM;
}

/* One row for the readers (audit_list says what it adds). */
static sup_err
audit_row(struct store *s, DB_TXN *txn, const DBT *d, json_object **out)
{
	json_object *o, *v, *list = NULL;
	sup_err e;

	*out = NULL;
	if ((e = store_parse(d, &o)) != SUP_OK)
		return e;
	if ((e = add_name(s, txn, o, "actor_name",
	    json_object_object_get_ex(o, "actor", &v) ?
	    (uint32_t)json_object_get_int64(v) : 0)) != SUP_OK ||
	    (e = add_name(s, txn, o, "user_name",
	    json_object_object_get_ex(o, "user", &v) ?
	    (uint32_t)json_object_get_int64(v) : 0)) != SUP_OK ||
	    (e = add_number(s, txn, o,
	    json_object_object_get_ex(o, "ticket", &v) ?
	    json_object_get_string(v) : NULL)) != SUP_OK)
		goto out;
	e = SUP_ENOMEM;
	if ((list = json_object_new_array()) == NULL)
		goto out;
	if (json_object_object_get_ex(o, "changes", &v)) {
		json_object_object_foreach(v, field, pair) {
			json_object *c, *from, *to;

			if ((c = json_object_new_object()) == NULL ||
			    json_object_array_add(list, c) != 0) {
				json_object_put(c);
				goto out;
			}
			if (json_object_object_add(c, "field",
			    json_object_new_string(field)) != 0)
				goto out;
			if ((e = change_value(s, txn, field,
			    json_object_array_get_idx(pair, 0), &from)) !=
			    SUP_OK ||
			    (e = change_value(s, txn, field,
			    json_object_array_get_idx(pair, 1), &to)) != SUP_OK)
				goto out;
			e = SUP_ENOMEM;
			if (json_object_object_add(c, "from", from) != 0 ||
			    json_object_object_add(c, "to", to) != 0)
				goto out;
		}
	}
	if (json_object_object_add(o, "changed", list) != 0)
		goto out;
	list = NULL;
	*out = o;
	o = NULL;
	e = SUP_OK;
out:
	json_object_put(list);
	json_object_put(o);
	return e;
}

struct list_args {
	const struct audit_query *q;
	json_object *rows;
	bool more;
	uint8_t next[ROW_KEY_LEN];
};

/* Does the stored row d match the filters its index did not apply? */
static bool
row_matches(const struct audit_query *q, const DBT *d)
{
	json_object *o, *v;
	uint32_t actor = 0;
	bool ok = true;

	if (q->message == NULL && (q->actor == 0 || q->ticket == NULL))
		return true;
	if ((o = parse_text(d->data, d->size)) == NULL)
		return false;
	if (q->message != NULL) {
		uint8_t m[UUID_LEN];
		ok = json_object_object_get_ex(o, "message", &v) &&
		    uuid_parse(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), m) &&
		    memcmp(m, q->message, UUID_LEN) == 0;
	}
	if (ok && q->actor != 0) {
		if (json_object_object_get_ex(o, "actor", &v))
			actor = (uint32_t)json_object_get_int64(v);
		if (actor == 0 && json_object_object_get_ex(o, "type", &v) &&
		    strncmp(json_object_get_string(v), "login.", 6) == 0 &&
		    json_object_object_get_ex(o, "user", &v))
			actor = (uint32_t)json_object_get_int64(v);
		ok = actor == q->actor;
	}
	json_object_put(o);
	return ok;
}

static sup_err
list_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct list_args *a = arg;
	const struct audit_query *q = a->q;
	uint8_t hi[TICKET_KEY_LEN], pk[ROW_KEY_LEN], top[ROW_KEY_LEN];
	uint8_t prefix[UUID_LEN];
	size_t plen = 0;
	DB *idx;
	DBT k = { .flags = DB_DBT_USERMEM }, d = { 0 };
	DBC *cur;
	long n = 0;
	sup_err e = SUP_OK;
	int rc, rc2;

	json_object_put(a->rows);
	a->more = false;
	if ((a->rows = json_object_new_array()) == NULL)
		return SUP_ENOMEM;
	/* Nothing is older than the epoch (a key's time is not negative). */
	if (q->to_us <= 0 || q->to_us <= q->from_us)
		return SUP_OK;
	/* The most selective index: the ticket's, the actor's, or time. */
	if (q->ticket != NULL) {
		idx = adb(s, ADB_TICKET);
		memcpy(hi, q->ticket, UUID_LEN);
		plen = UUID_LEN;
	} else if (q->actor != 0) {
		idx = adb(s, ADB_ACTOR);
		be32_put(hi, q->actor);
		plen = 4;
	} else
		idx = adb(s, ADB_LOG);
	/* The upper bound: before this place, or before `to`. */
	be64_put(top, (uint64_t)(q->to_us == INT64_MAX ? INT64_MAX :
	    q->to_us));
	be64_put(top + 8, q->to_us == INT64_MAX ? UINT64_MAX : 0);
	if (q->before != NULL && memcmp(q->before, top, ROW_KEY_LEN) < 0)
		memcpy(top, q->before, ROW_KEY_LEN);
	memcpy(prefix, hi, plen);
	memcpy(hi + plen, top, ROW_KEY_LEN);
	k.data = hi;
	k.size = (u_int32_t)(plen + ROW_KEY_LEN);
	k.ulen = sizeof(hi);
	if ((rc = idx->cursor(idx, txn, &cur, 0)) != 0)
		return store_err(rc, "audit cursor");
	rc = cur->get(cur, &k, &d, DB_SET_RANGE);
	if (rc == 0)
		rc = cur->get(cur, &k, &d, DB_PREV);
	else if (rc == DB_NOTFOUND)
		rc = cur->get(cur, &k, &d, DB_LAST);
	for (; rc == 0; rc = cur->get(cur, &k, &d, DB_PREV)) {
		int64_t at;

		if (k.size != plen + ROW_KEY_LEN ||
		    (plen > 0 && memcmp(k.data, prefix, plen) != 0))
			break;
		memcpy(pk, (uint8_t *)k.data + plen, ROW_KEY_LEN);
		at = (int64_t)be64_get(pk);
		if (at < q->from_us)
			break;
		if (plen > 0) {
			DBT rk = { .data = pk, .size = ROW_KEY_LEN };
			DBT rd = { .flags = DB_DBT_MALLOC };
			rc = adb(s, ADB_LOG)->get(adb(s, ADB_LOG), txn, &rk,
			    &rd, 0);
			if (rc == DB_NOTFOUND)
				continue;	/* verify reports it */
			if (rc != 0)
				break;
			e = SUP_OK;
			if (row_matches(q, &rd)) {
				if (n == q->limit) {
					a->more = true;
					free(rd.data);
					break;
				}
				json_object *row;
				if ((e = audit_row(s, txn, &rd, &row)) ==
				    SUP_OK) {
					json_object_array_add(a->rows, row);
					memcpy(a->next, pk, ROW_KEY_LEN);
					n++;
				}
			}
			free(rd.data);
			if (e != SUP_OK)
				break;
			continue;
		}
		if (n == q->limit) {
			a->more = true;
			break;
		}
		json_object *row;
		if ((e = audit_row(s, txn, &d, &row)) != SUP_OK)
			break;
		json_object_array_add(a->rows, row);
		memcpy(a->next, pk, ROW_KEY_LEN);
		n++;
	}
	if (rc == DB_NOTFOUND)
		rc = 0;
	rc2 = cur->close(cur);
	if (e != SUP_OK)
		return e;
	return store_err(rc != 0 ? rc : rc2, "audit read");
}

sup_err
audit_list(struct store *s, const struct audit_query *q, json_object **rows,
    bool *more, uint8_t next[AUDIT_CURSOR_LEN])
{
	struct list_args a = { .q = q };
	sup_err e;

	*rows = NULL;
	*more = false;
	if (q->limit < 1 || q->limit > AUDIT_PAGE_MAX)
		return SUP_EINVAL;
	e = store_run_json(s, STORE_READ, list_txn, &a, &a.rows, rows);
	if (e == SUP_OK && a.more) {
		*more = true;
		memcpy(next, a.next, AUDIT_CURSOR_LEN);
	}
	return e;
}

struct number_args {
	int64_t number;
	uint8_t *uuid;
};

static sup_err
number_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct number_args *a = arg;
	uint8_t key[8];
	DBT k = { .data = key, .size = 8 };
	DBT pk = { .data = a->uuid, .ulen = UUID_LEN,
		.flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };
	DB *idx = ticket_index_db(s, IDX_NUMBER);

	be64_put(key, (uint64_t)a->number);
	return store_err(idx->pget(idx, txn, &k, &pk, &d, 0), "ticket");
}

sup_err
audit_ticket_of(struct store *s, const char *text, size_t n,
    uint8_t uuid[UUID_LEN])
{
	struct number_args a = { .uuid = uuid };
	char digits[24];
	long v;

	if (uuid_parse(text, n, uuid))
		return SUP_OK;
	if (n == 0 || n >= sizeof(digits))
		return SUP_EINVAL;
	memcpy(digits, text, n);
	digits[n] = '\0';
	if (!parse_long(digits, 1, INT64_MAX, &v))
		return SUP_EINVAL;
	a.number = v;
	return store_run(s, STORE_READ, number_txn, &a);
}

/* --- The check ----------------------------------------------------------- */

/*
 * Every row of the log is whole and in the indexes it belongs to, and
 * every index entry names a row.
 */
static sup_err
audit_verify(struct store *s, struct store_check *c)
{
	DBT k = { 0 }, d = { 0 };
	DBC *cur;
	int64_t rows = 0, want_t = 0, want_a = 0, has_t, has_a;
	long bad = 0, dangling = 0;
	int rc, rc2;

	if ((rc = adb(s, ADB_LOG)->cursor(adb(s, ADB_LOG), NULL, &cur, 0)) !=
	    0)
		return store_err(rc, "audit cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		struct audit_ev a;

		rows++;
		if (k.size != ROW_KEY_LEN ||
		    !audit_ev_parse(d.data, d.size, &a) ||
		    a.seq != (int64_t)be64_get((uint8_t *)k.data + 8)) {
			bad++;
			continue;
		}
		want_t += a.has_ticket;
		want_a += a.actor != 0 || ((a.type == EV_LOGIN_FAILED ||
		    a.type == EV_LOGIN_SUCCEEDED) && a.user != 0);
	}
	rc2 = cur->close(cur);
	if (rc != DB_NOTFOUND)
		return store_err(rc, "audit read");
	if (rc2 != 0)
		return store_err(rc2, "audit cursor close");
	for (int i = ADB_TICKET; i <= ADB_ACTOR; i++) {
		size_t plen = i == ADB_TICKET ? UUID_LEN : 4;
		if ((rc = adb(s, i)->cursor(adb(s, i), NULL, &cur, 0)) != 0)
			return store_err(rc, "audit cursor");
		while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
			DBT rk = { .size = ROW_KEY_LEN };
			DBT rd = { .flags = DB_DBT_PARTIAL };
			if (k.size != plen + ROW_KEY_LEN) {
				dangling++;
				continue;
			}
			rk.data = (uint8_t *)k.data + plen;
			if (adb(s, ADB_LOG)->get(adb(s, ADB_LOG), NULL, &rk,
			    &rd, 0) != 0)
				dangling++;
		}
		rc2 = cur->close(cur);
		if (rc != DB_NOTFOUND)
			return store_err(rc, "audit index read");
		if (rc2 != 0)
			return store_err(rc2, "audit cursor close");
	}
	if (store_count_db(adb(s, ADB_TICKET), &has_t) != SUP_OK ||
	    store_count_db(adb(s, ADB_ACTOR), &has_a) != SUP_OK)
		return SUP_EDB;
	if (bad > 0)
		store_problem(c, "audit.db: %ld of %" PRId64 " rows are not "
		    "whole events", bad, rows);
	if (dangling > 0)
		store_problem(c, "audit indexes: %ld entries name no row",
		    dangling);
	if (has_t != want_t)
		store_problem(c, "audit_by_ticket.db: %" PRId64 " entries for "
		    "%" PRId64 " rows of a ticket", has_t, want_t);
	if (has_a != want_a)
		store_problem(c, "audit_by_actor.db: %" PRId64 " entries for "
		    "%" PRId64 " rows with an actor", has_a, want_a);
	return SUP_OK;
}

/* --- Rewriting (erasure) ---------------------------------------------- */

#define AUDIT_REWRITE_BATCH 500

struct audit_rewrite_args {
	sup_err (*fn)(void *ctx, struct store *s, DB_TXN *txn,
	    json_object *row, bool *changed);
	void *ctx;
	uint8_t from[ROW_KEY_LEN];	/* the batch starts at this key */
	bool started, done;
	long changed;			/* the batch's */
};

/*
 * One batch of audit_rewrite: AUDIT_REWRITE_BATCH rows from a->from on,
 * each handed to fn and stored again under its key when fn changed it
 * (the indexes hold only keys, ticket and actor ids: they stay).
 */
static sup_err
audit_rewrite_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct audit_rewrite_args *a = arg;
	uint8_t key[ROW_KEY_LEN];
	DBT k = { .data = key, .size = ROW_KEY_LEN, .ulen = ROW_KEY_LEN,
	    .flags = DB_DBT_USERMEM }, d = { 0 };
	DB *log = adb(s, ADB_LOG);
	long n = 0;
	sup_err e = SUP_OK;
	DBC *cur;
	int rc;

	a->changed = 0;
	memcpy(key, a->from, ROW_KEY_LEN);
	if ((rc = log->cursor(log, txn, &cur, 0)) != 0)
		return store_err(rc, "audit cursor");
	for (rc = cur->get(cur, &k, &d, (a->started ? DB_SET_RANGE :
	    DB_FIRST) | DB_RMW); rc == 0;
	    rc = cur->get(cur, &k, &d, DB_NEXT | DB_RMW)) {
		json_object *row = NULL;
		bool changed = false;
		const char *text;
		size_t len;

		if (k.size != ROW_KEY_LEN)
			continue;
		if (n++ == AUDIT_REWRITE_BATCH) {
			memcpy(a->from, key, ROW_KEY_LEN);
			a->started = true;
			goto out;
		}
		if ((e = store_parse(&d, &row)) != SUP_OK ||
		    (e = a->fn(a->ctx, s, txn, row, &changed)) != SUP_OK) {
			json_object_put(row);
			goto out;
		}
		if (changed) {
			if ((text = json_object_to_json_string_length(row,
			    JSON_C_TO_STRING_PLAIN, &len)) == NULL) {
				e = SUP_ENOMEM;
			} else {
				DBT nd = { .data = (void *)(uintptr_t)text,
				    .size = (u_int32_t)len };
				e = store_err(cur->put(cur, &k, &nd,
				    DB_CURRENT), "audit rewrite");
			}
			a->changed++;
		}
		json_object_put(row);
		if (e != SUP_OK)
			goto out;
	}
	if (rc == DB_NOTFOUND)
		a->done = true;
	else
		e = store_err(rc, "audit read");
out:
	cur->close(cur);
	return e;
}

sup_err
audit_rewrite(struct store *s, sup_err (*fn)(void *ctx, struct store *s,
    DB_TXN *txn, json_object *row, bool *changed), void *ctx, long *changed)
{
	struct audit_rewrite_args a = { .fn = fn, .ctx = ctx };
	long total = 0;
	sup_err e;

	do {
		if ((e = store_run(s, 0, audit_rewrite_txn, &a)) != SUP_OK)
			break;
		total += a.changed;
	} while (!a.done);
	if (changed != NULL)
		*changed = total;
	return e;
}

/* --- A purged ticket ------------------------------------------------- */

/*
 * Empty the rows of the ticket being purged (docs/data.md): each loses
 * what the purge takes from the ticket's events (ticket_purge_event) --
 * "ticket", "message", "changes" (a subject or a message's text before),
 * "data" (a deleted message's text) and "addr" -- and gets "purged":
 * true; it keeps its place, its type, its time and its actor, so that
 * who changed something, and when, outlives the ticket as the log
 * promises, and its actor's index entry stays.  Its entry in
 * audit_by_ticket.db goes: the row names no ticket any more.
 */
static sup_err
forget_row(struct store *s, DB_TXN *txn, const uint8_t row[ROW_KEY_LEN])
{
	static const char *const drop[] = { "ticket", "message", "changes",
	    "data", "addr" };
	DB *log = adb(s, ADB_LOG);
	DBT k = { .data = (void *)(uintptr_t)row, .size = ROW_KEY_LEN };
	DBT d = { .flags = DB_DBT_MALLOC }, nd = { 0 };
	json_object *o = NULL;
	const char *text;
	size_t len;
	sup_err e;
	int rc;

	if ((rc = log->get(log, txn, &k, &d, DB_RMW)) == DB_NOTFOUND)
		return SUP_OK;	/* a dangling entry: verify's to report */
	if (rc != 0)
		return store_err(rc, "audit read");
	e = store_parse(&d, &o);
	free(d.data);
	if (e != SUP_OK)
		return e;
	for (size_t i = 0; i < SUP_NELEM(drop); i++)
		json_object_object_del(o, drop[i]);
	e = SUP_ENOMEM;
	if (json_object_object_add(o, "purged",
	    json_object_new_boolean(1)) != 0 ||
	    (text = json_object_to_json_string_length(o,
	    JSON_C_TO_STRING_PLAIN, &len)) == NULL)
		goto out;
	nd.data = (void *)(uintptr_t)text;
	nd.size = (u_int32_t)len;
	e = store_err(log->put(log, txn, &k, &nd, 0), "audit purge");
out:
	json_object_put(o);
	return e;
}

sup_err
audit_forget_ticket(struct store *s, DB_TXN *txn,
    const uint8_t ticket[UUID_LEN])
{
	uint8_t key[TICKET_KEY_LEN];
	DBT k = { .data = key, .size = UUID_LEN, .ulen = sizeof(key),
	    .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };
	DB *idx = adb(s, ADB_TICKET);
	sup_err e = SUP_OK;
	DBC *c;
	int rc, rc2;

	memcpy(key, ticket, UUID_LEN);
	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "audit cursor");
	for (rc = c->get(c, &k, &d, DB_SET_RANGE | DB_RMW); rc == 0;
	    rc = c->get(c, &k, &d, DB_NEXT | DB_RMW)) {
		if (k.size < UUID_LEN || memcmp(key, ticket, UUID_LEN) != 0)
			break;
		if (k.size != TICKET_KEY_LEN)
			continue;	/* verify's to report */
		if ((e = forget_row(s, txn, key + UUID_LEN)) != SUP_OK)
			break;
		if ((rc = c->del(c, 0)) != 0)
			break;
	}
	rc2 = c->close(c);
	if (e != SUP_OK)
		return e;
	if (rc == DB_NOTFOUND)
		rc = 0;
	return store_err(rc != 0 ? rc : rc2, "audit purge");
}

/* --- The area ---------------------------------------------------------- */

static const struct store_db audit_dbs[AUDIT_NDB] = {
	[ADB_LOG] = { .file = "audit.db", .type = DB_BTREE },
	[ADB_TICKET] = { .file = "audit_by_ticket.db", .type = DB_BTREE,
		.kind = STORE_BY_HAND, .primary = ADB_LOG },
	[ADB_ACTOR] = { .file = "audit_by_actor.db", .type = DB_BTREE,
		.kind = STORE_BY_HAND, .primary = ADB_LOG },
};

static const struct store_build audit_builds[] = {
	{ "audit.build", audit_due, audit_build },
};

static const struct event_subscriber audit_subscriber = {
	"audit", audit_event,
};
static const struct event_subscriber *const audit_subscribers[] = {
	&audit_subscriber, NULL,
};

const struct store_area audit_area = {
	.name = "audit",
	.db = audit_dbs,
	.ndb = AUDIT_NDB,
	.build = audit_builds,
	.nbuild = SUP_NELEM(audit_builds),
	.verify = audit_verify,
	.subscribers = audit_subscribers,
};
