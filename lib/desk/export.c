/*
 * export.c - the tickets created in a window, with their messages, as
 * CSV or JSON, in batches of a short read transaction each (export.h,
 * docs/data.md).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "caller.h"
#include "export.h"
#include "record.h"
#include "tstore.h"
#include "util.h"
#include "view.h"

/*
 * A batch: at most this many tickets, and no more once its text has
 * grown past EXPORT_BATCH_BYTES (a ticket's whole thread is in its batch,
 * so a long thread makes a batch longer, never a batch of many).
 */
#define EXPORT_BATCH		100
#define EXPORT_BATCH_BYTES	(1024 * 1024)

const char *const export_csv_columns[] = {
	"ticket_uuid", "ticket_number", "subject", "status", "priority",
	"customer", "customer_email", "assignee", "ticket_created_at",
	"message_uuid", "author", "is_from_user", "is_internal",
	"message_created_at", "content", NULL
};

/* The reader of the export: staff, who see notes and e-mail addresses. */
static const struct sup_user export_reader = { .id = 0, .role = ROLE_ADMIN,
    .rec = NULL };

struct export_args {
	int64_t since, until;
	enum export_format fmt;
	uint64_t from;		/* the next batch starts at this number */
	uint64_t next;		/* out: where the one after starts */
	bool done;		/* out: no ticket after this batch */
	bool first;		/* no ticket written yet (JSON's commas) */
	struct sbuf out;	/* the batch's text, written after it */
	struct sbuf scratch;	/* one ticket's JSON text, for the CSV */
	long tickets, messages;	/* out: the batch's */
};

void
export_csv_field(struct sbuf *b, const char *p, size_t n)
{
	size_t i, from;

	for (i = 0; i < n; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n')
			break;
	if (i == n) {
		sbuf_add(b, p, n);
		return;
	}
	sbuf_lit(b, "\"");
	for (from = i = 0; i < n; i++)
		if (p[i] == '"') {
			sbuf_add(b, p + from, i + 1 - from);
			sbuf_lit(b, "\"");
			from = i + 1;
		}
	sbuf_add(b, p + from, n - from);
	sbuf_lit(b, "\"");
}

/* A member of o as a CSV field: a string as it is, null empty, else JSON. */
static void
csv_member(struct sbuf *b, json_object *o, const char *name)
{
	json_object *v = NULL;
	const char *p;

	if (o == NULL || !json_object_object_get_ex(o, name, &v) || v == NULL)
		return;
	if (json_object_is_type(v, json_type_string)) {
		export_csv_field(b, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
		return;
	}
	p = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	export_csv_field(b, p, strlen(p));
}

/* The member name of o (an object or NULL), or NULL. */
static json_object *
member(json_object *o, const char *name)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, name, &v))
		return NULL;
	return json_object_is_type(v, json_type_object) ? v : NULL;
}

/*
 * The CSV rows of one ticket (its API text, with "messages"): one a
 * message, its columns in export_csv_columns' order, each row ended
 * with CRLF.  A ticket without messages (none is made so) writes none.
 */
static sup_err
csv_ticket(struct export_args *a, const char *text, size_t len)
{
	json_object *t, *msgs = NULL, *m, *user, *assignee;
	struct json_tokener *tok;
	size_t i, n;

	if ((tok = json_tokener_new()) == NULL)
		return SUP_ENOMEM;
	t = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (t == NULL)
		return SUP_ENOMEM;	/* the view's own text: only memory */
	user = member(t, "user");
	assignee = member(t, "assignee");
	if (!json_object_object_get_ex(t, "messages", &msgs) ||
	    !json_object_is_type(msgs, json_type_array)) {
		json_object_put(t);
		return SUP_EDB;
	}
	n = json_object_array_length(msgs);
	for (i = 0; i < n; i++) {
		m = json_object_array_get_idx(msgs, i);
		csv_member(&a->out, t, "uuid");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, t, "number");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, t, "subject");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, t, "status");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, t, "priority");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, user, "username");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, user, "email");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, assignee, "username");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, t, "created_at");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, m, "uuid");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, member(m, "sender"), "username");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, m, "is_from_user");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, m, "is_internal");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, m, "created_at");
		sbuf_lit(&a->out, ",");
		csv_member(&a->out, m, "content");
		sbuf_lit(&a->out, "\r\n");
	}
	a->messages += (long)n;
	json_object_put(t);
	return SUP_OK;
}

/*
 * The creation time of a stored ticket, and (when msgs is not NULL) its
 * count of messages, or SUP_EDB.
 */
static sup_err
created_of(const void *rec, size_t len, int64_t *us, long *msgs)
{
	struct record_ticket t;
	sup_err e;

	if ((e = record_ticket_decode(rec, len, &t)) == SUP_OK) {
		*us = t.created_at;
		if (msgs != NULL)
			*msgs = (long)(t.public_count + t.note_count);
	}
	record_ticket_clear(&t);
	return e;
}

/*
 * The first ticket at or after number n in creation order: its number
 * and creation time; *found false when there is none.
 */
static sup_err
ticket_at(DBC *c, uint64_t n, bool *found, uint64_t *number, int64_t *us)
{
	uint8_t key[8];
	DBT k = { .data = key, .size = sizeof(key), .ulen = sizeof(key),
	    .flags = DB_DBT_USERMEM };
	DBT pk = { 0 }, d = { 0 };
	int rc;

	be64_put(key, n);
	rc = c->pget(c, &k, &pk, &d, DB_SET_RANGE);
	*found = rc == 0;
	if (rc == DB_NOTFOUND)
		return SUP_OK;
	if (rc != 0)
		return store_err(rc, "export");
	if (k.size != sizeof(key))
		return SUP_EDB;
	*number = be64_get(key);
	return created_of(d.data, d.size, us, NULL);
}

/*
 * The number the window starts at: the least n such that the first
 * ticket numbered n or more was created at or after a->since (numbers
 * are given in creation order), by bisection: some 20 lookups at a
 * million tickets, whatever the window.
 */
static sup_err
start_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct export_args *a = arg;
	DB *idx = ticket_index_db(s, IDX_NUMBER);
	uint64_t lo = 0, hi, number;
	uint8_t key[8];
	DBT k = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT pk = { 0 }, d = { .flags = DB_DBT_PARTIAL };
	int64_t us;
	bool found;
	sup_err e = SUP_OK;
	DBC *c;
	int rc;

	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	rc = c->pget(c, &k, &pk, &d, DB_LAST);
	if (rc == DB_NOTFOUND) {
		a->from = 1;
		goto out;
	}
	if (rc != 0 || k.size != sizeof(key)) {
		e = rc != 0 ? store_err(rc, "export") : SUP_EDB;
		goto out;
	}
	hi = be64_get(key) + 1;	/* past the last: nothing there */
	/* Invariant: the answer is in (lo, hi]. */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if ((e = ticket_at(c, mid, &found, &number, &us)) != SUP_OK)
			goto out;
		if (!found || us >= a->since)
			hi = mid;
		else
			lo = number;	/* every ticket up to it is earlier */
		if (lo >= hi)
			hi = lo + 1;
	}
	a->from = hi;
out:
	c->close(c);
	return e;
}

/*
 * One batch: the tickets from number a->from on, each with its thread in
 * staff's view, until EXPORT_BATCH of them or EXPORT_BATCH_BYTES of
 * text, appended to a->out in a->fmt.  A ticket created after a->until
 * (since the export began) or, out of order, before a->since, is
 * skipped.  Run again from the start on a deadlock: a->out is reset.
 */
static sup_err
batch_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct export_args *a = arg;
	DB *idx = ticket_index_db(s, IDX_NUMBER);
	uint8_t key[8];
	DBT k = { .data = key, .size = sizeof(key), .ulen = sizeof(key),
	    .flags = DB_DBT_USERMEM };
	DBT pk = { 0 }, d = { 0 };
	struct view v;
	bool first = a->first;
	size_t n = 0;
	int64_t us;
	long msgs;
	sup_err e = SUP_OK;
	DBC *c;
	int rc;

	a->out.len = 0;
	a->tickets = a->messages = 0;
	a->next = a->from;
	a->done = false;
	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	view_begin(&v, s, txn, &export_reader);
	be64_put(key, a->from);
	for (rc = c->pget(c, &k, &pk, &d, DB_SET_RANGE); rc == 0;
	    rc = c->pget(c, &k, &pk, &d, DB_NEXT)) {
		if (k.size != sizeof(key)) {
			e = SUP_EDB;
			goto out;
		}
		a->next = be64_get(key) + 1;
		if ((e = created_of(d.data, d.size, &us, &msgs)) != SUP_OK)
			goto out;
		if (us >= a->since && us <= a->until) {
			if (a->fmt == EXPORT_JSON) {
				sbuf_adds(&a->out, first ? "\n" : ",\n");
				e = view_ticket_add(&v, d.data, d.size, true,
				    &a->out);
				a->messages += msgs;
			} else {
				a->scratch.len = 0;
				if ((e = view_ticket_add(&v, d.data, d.size,
				    true, &a->scratch)) == SUP_OK)
					e = a->scratch.failed ? SUP_ENOMEM :
					    csv_ticket(a, a->scratch.p,
					    a->scratch.len);
			}
			if (e != SUP_OK)
				goto out;
			first = false;
			a->tickets++;
		}
		if (++n == EXPORT_BATCH || a->out.len >= EXPORT_BATCH_BYTES)
			break;
	}
	if (rc != 0 && rc != DB_NOTFOUND) {
		e = store_err(rc, "export");
		goto out;
	}
	a->done = rc == DB_NOTFOUND;
	if (a->out.failed)
		e = SUP_ENOMEM;
out:
	view_end(&v);
	c->close(c);
	return e;
}

sup_err
export_tickets(struct store *s, int64_t since, int64_t until,
    enum export_format fmt, export_write_fn write, void *ctx,
    struct export_stats *st)
{
	struct export_args a = { .since = since, .until = until, .fmt = fmt,
	    .first = true };
	struct export_stats dummy;
	struct sbuf head = { 0 };
	sup_err e;

	if (st == NULL)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if (since > until)
		return SUP_EINVAL;
	if (fmt == EXPORT_CSV) {
		for (size_t i = 0; export_csv_columns[i] != NULL; i++) {
			if (i > 0)
				sbuf_lit(&head, ",");
			sbuf_adds(&head, export_csv_columns[i]);
		}
		sbuf_lit(&head, "\r\n");
	} else
		sbuf_lit(&head, "[");
	e = head.failed ? SUP_ENOMEM : write(ctx, head.p, head.len);
	free(head.p);
	if (e != SUP_OK)
		return e;
	if ((e = store_run(s, STORE_READ, start_txn, &a)) != SUP_OK)
		goto out;
	do {
		if ((e = store_run(s, STORE_READ, batch_txn, &a)) != SUP_OK)
			goto out;
		st->batches++;
		if (a.out.len > 0 && (e = write(ctx, a.out.p, a.out.len)) !=
		    SUP_OK)
			goto out;
		st->tickets += a.tickets;
		st->messages += a.messages;
		if (a.tickets > 0)
			a.first = false;
		a.from = a.next;
	} while (!a.done);
	e = write(ctx, fmt == EXPORT_JSON ? (a.first ? "]\n" : "\n]\n") : "",
	    fmt == EXPORT_JSON ? (a.first ? 2 : 3) : 0);
out:
	free(a.out.p);
	free(a.scratch.p);
	return e;
}
