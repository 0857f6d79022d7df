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
#include "jtext.h"
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
	struct sbuf head;	/* its nine ticket columns */
	struct sbuf tmp;	/* one unescaped string */
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

/*
 * Member name of the object o (JSON text) appended to b as a CSV field: a
 * string's content (unescaped, through tmp), nothing for null or a
 * missing member, any other value as its JSON text (a number, true,
 * false).  False when a string is malformed or memory ran out.
 */
static bool
csv_member(struct sbuf *b, struct sbuf *tmp, struct jt o, const char *name)
{
	struct jt v;

	if (o.p == NULL || !jt_member(o, name, strlen(name), &v))
		return true;
	switch (jt_type(v)) {
	case JT_NONE:
	case JT_NULL:
		return true;
	case JT_STRING:
		if (jt_string_plain(v)) {
			export_csv_field(b, v.p + 1, v.n - 2);
			return true;
		}
		tmp->len = 0;
		if (!jt_string_get(v, tmp))
			return false;
		export_csv_field(b, tmp->p != NULL ? tmp->p : "", tmp->len);
		return true;
	default:
		export_csv_field(b, v.p, v.n);
		return true;
	}
}

/* Member name of o when it is an object; else no value (p NULL). */
static struct jt
member(struct jt o, const char *name)
{
	struct jt v = { NULL, 0 };

	if (o.p == NULL || !jt_member(o, name, strlen(name), &v) ||
	    jt_type(v) != JT_OBJECT)
		v.p = NULL;
	return v;
}

/*
 * The CSV rows of one ticket (its API text, with "messages"), read in
 * place (lib/text/jtext.h): one a message, its columns in
 * export_csv_columns' order, each row ended with CRLF.  The ticket's
 * nine columns are made once and repeated.  SUP_EDB when the text is not
 * a ticket with messages (the view's own text: never), SUP_ENOMEM.
 */
static sup_err
csv_ticket(struct export_args *a, const char *text, size_t len)
{
	static const char *const tcols[] = { "uuid", "number", "subject",
	    "status", "priority" };
	static const char *const mcols[] = { "is_from_user", "is_internal",
	    "created_at", "content" };
	struct jt t = { text, len }, msgs, m, user, assignee;
	struct jt_iter it;
	struct sbuf *head = &a->head, *tmp = &a->tmp;
	bool fine = true;

	head->len = 0;
	for (size_t i = 0; i < SUP_NELEM(tcols); i++) {
		fine &= csv_member(head, tmp, t, tcols[i]);
		sbuf_lit(head, ",");
	}
	user = member(t, "user");
	assignee = member(t, "assignee");
	fine &= csv_member(head, tmp, user, "username");
	sbuf_lit(head, ",");
	fine &= csv_member(head, tmp, user, "email");
	sbuf_lit(head, ",");
	fine &= csv_member(head, tmp, assignee, "username");
	sbuf_lit(head, ",");
	fine &= csv_member(head, tmp, t, "created_at");
	sbuf_lit(head, ",");
	if (!jt_member(t, "messages", 8, &msgs) || !jt_iter_start(msgs, &it))
		return SUP_EDB;
	while (fine && jt_iter_next(&it, &m)) {
		sbuf_add(&a->out, head->p, head->len);
		fine &= csv_member(&a->out, tmp, m, "uuid");
		sbuf_lit(&a->out, ",");
		fine &= csv_member(&a->out, tmp, member(m, "sender"),
		    "username");
		for (size_t i = 0; i < SUP_NELEM(mcols); i++) {
			sbuf_lit(&a->out, ",");
			fine &= csv_member(&a->out, tmp, m, mcols[i]);
		}
		sbuf_lit(&a->out, "\r\n");
		a->messages++;
	}
	if (head->failed || tmp->failed || a->out.failed)
		return SUP_ENOMEM;
	return fine ? SUP_OK : SUP_EDB;
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
	free(a.head.p);
	free(a.tmp.p);
	return e;
}
