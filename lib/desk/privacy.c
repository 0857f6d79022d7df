/*
 * privacy.c - a user's data: export and erasure (privacy.h, docs/data.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "audit.h"
#include "canned.h"
#include "caller.h"
#include "event.h"
#include "mailin.h"
#include "msg.h"
#include "outbox.h"
#include "presence.h"
#include "privacy.h"
#include "record.h"
#include "saved.h"
#include "sess.h"
#include "tstore.h"
#include "user.h"
#include "util.h"
#include "view.h"

#define BATCH 100		/* tickets or events a read transaction */
#define MSG_BATCH 2000		/* messages looked at a read transaction */

/* Staff's view, as the export of the tickets has it. */
static const struct sup_user staff_reader = { .id = 0, .role = ROLE_ADMIN,
    .rec = NULL };

/* Write the JSON text of o, with a name before it (`,"name":`). */
static sup_err
write_member(export_write_fn write, void *ctx, const char *name,
    json_object *o)
{
	struct sbuf b = { 0 };
	const char *t;
	size_t n;
	sup_err e;

	t = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	sbuf_printf(&b, ",\n\"%s\":", name);
	if (t != NULL)
		sbuf_add(&b, t, n);
	e = t == NULL || b.failed ? SUP_ENOMEM : write(ctx, b.p, b.len);
	free(b.p);
	return e;
}

/* --- The tickets of a customer ---------------------------------------- */

struct tickets_args {
	uint32_t user;
	uint8_t from[4 + 8 + UUID_LEN];	/* the last t_by_user key written */
	uint8_t next[4 + 8 + UUID_LEN];	/* out: the batch's last */
	bool started, done;		/* started: from is a key */
	bool next_started;		/* out */
	bool first;			/* nothing written in the array yet */
	struct sbuf out;
};

/* A batch of the user's tickets (t_by_user: user, updated, uuid). */
static sup_err
tickets_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct tickets_args *a = arg;
	DB *idx = ticket_index_db(s, IDX_USER);
	uint8_t key[sizeof(a->from)];
	DBT k = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT pk = { 0 }, d = { 0 };
	bool first = a->first;
	struct view v;
	sup_err e = SUP_OK;
	size_t n = 0;
	DBC *c;
	int rc;

	a->out.len = 0;
	a->done = false;
	memcpy(a->next, a->from, sizeof(a->next));
	a->next_started = a->started;
	memcpy(key, a->from, sizeof(key));
	k.size = a->started ? sizeof(key) : 4;
	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	view_begin(&v, s, txn, &staff_reader);
	rc = c->pget(c, &k, &pk, &d, DB_SET_RANGE);
	/* Resuming: the key of the last one written comes first again. */
	if (rc == 0 && a->started && k.size == sizeof(key) &&
	    memcmp(key, a->from, sizeof(key)) == 0)
		rc = c->pget(c, &k, &pk, &d, DB_NEXT);
	for (; rc == 0; rc = c->pget(c, &k, &pk, &d, DB_NEXT)) {
		if (k.size != sizeof(key) || be32_get(key) != a->user)
			break;
		sbuf_adds(&a->out, first ? "\n" : ",\n");
		first = false;
		if ((e = view_ticket_add(&v, d.data, d.size, true, &a->out)) !=
		    SUP_OK)
			goto out;
		memcpy(a->next, key, sizeof(key));
		a->next_started = true;
		if (++n == BATCH)
			break;
	}
	if (rc != 0 && rc != DB_NOTFOUND) {
		e = store_err(rc, "user tickets");
		goto out;
	}
	a->done = n < BATCH;
	if (a->out.failed)
		e = SUP_ENOMEM;
out:
	view_end(&v);
	c->close(c);
	return e;
}

static sup_err
export_tickets_of(struct store *s, uint32_t id, export_write_fn write,
    void *ctx)
{
	struct tickets_args a = { .user = id, .first = true };
	sup_err e;

	be32_put(a.from, id);
	if ((e = write(ctx, ",\n\"tickets\":[", 13)) != SUP_OK)
		return e;
	do {
		if ((e = store_run(s, STORE_READ, tickets_txn, &a)) != SUP_OK)
			break;
		if (a.out.len > 0) {
			if ((e = write(ctx, a.out.p, a.out.len)) != SUP_OK)
				break;
			a.first = false;
		}
		memcpy(a.from, a.next, sizeof(a.from));
		a.started = a.next_started;
	} while (!a.done);
	free(a.out.p);
	return e != SUP_OK ? e : write(ctx, "]", 1);
}

/* --- What it wrote in other tickets ------------------------------------- */

struct messages_args {
	uint32_t user;
	uint8_t from[MSG_KEY_LEN];	/* the last messages.db key read */
	uint8_t next[MSG_KEY_LEN];	/* out: the batch's last */
	bool started, done, first;	/* started: from is a key */
	bool next_started;		/* out */
	struct sbuf out;
};

/*
 * A batch of the walk of every message: those by a->user in a ticket
 * that is not its own (its own tickets are written whole), as staff see
 * them.
 */
static sup_err
messages_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct messages_args *a = arg;
	DB *db = msg_db(s);
	uint8_t key[MSG_KEY_LEN], owner_of[UUID_LEN];
	DBT k = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT d = { 0 };
	bool first = a->first, known = false, mine = false;
	struct view v;
	sup_err e = SUP_OK;
	size_t n = 0;
	DBC *c;
	int rc;

	a->out.len = 0;
	a->done = false;
	memcpy(a->next, a->from, sizeof(a->next));
	a->next_started = a->started;
	memcpy(key, a->from, sizeof(key));
	k.size = a->started ? sizeof(key) : 0;
	if ((rc = db->cursor(db, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	view_begin(&v, s, txn, &staff_reader);
	rc = c->get(c, &k, &d, a->started ? DB_SET_RANGE : DB_FIRST);
	if (rc == 0 && a->started && k.size == sizeof(key) &&
	    memcmp(key, a->from, sizeof(key)) == 0)
		rc = c->get(c, &k, &d, DB_NEXT);
	for (; rc == 0; rc = c->get(c, &k, &d, DB_NEXT)) {
		struct record_message m;
		size_t cut;
		bool internal;
		uint32_t sender;

		if (k.size != MSG_KEY_LEN)
			continue;
		memcpy(a->next, key, sizeof(key));
		a->next_started = true;
		if (!record_message_tail(d.data, d.size, &cut, &sender,
		    &internal)) {
			if ((e = record_message_decode(d.data, d.size, &m)) !=
			    SUP_OK)
				goto out;
			sender = m.user;
		}
		if (sender == a->user) {
			/* Its own ticket's messages are in "tickets". */
			if (!known || memcmp(owner_of, key, UUID_LEN) != 0) {
				struct record_ticket t;
				DBT tk = { .data = key, .size = UUID_LEN };
				DBT td = { .flags = DB_DBT_MALLOC };
				DB *tickets = ticket_db(s, TDB_TICKETS);

				e = store_err(tickets->get(tickets, txn, &tk,
				    &td, 0), "ticket");
				mine = false;
				if (e == SUP_OK) {
					e = record_ticket_decode(td.data,
					    td.size, &t);
					mine = e == SUP_OK && t.user == a->user;
					record_ticket_clear(&t);
				}
				free(td.data);
				if (e == SUP_ENOTFOUND)
					e = SUP_OK;
				if (e != SUP_OK)
					goto out;
				memcpy(owner_of, key, UUID_LEN);
				known = true;
			}
			if (!mine) {
				json_object *o;
				const char *t;
				size_t len;

				if ((e = view_message(&v, d.data, d.size,
				    &o)) != SUP_OK)
					goto out;
				t = json_object_to_json_string_length(o,
				    JSON_C_TO_STRING_PLAIN, &len);
				sbuf_adds(&a->out, first ? "\n" : ",\n");
				first = false;
				if (t != NULL)
					sbuf_add(&a->out, t, len);
				json_object_put(o);
				if (t == NULL) {
					e = SUP_ENOMEM;
					goto out;
				}
			}
		}
		if (++n == MSG_BATCH)
			break;
	}
	if (rc != 0 && rc != DB_NOTFOUND) {
		e = store_err(rc, "messages");
		goto out;
	}
	a->done = n < MSG_BATCH;
	if (a->out.failed)
		e = SUP_ENOMEM;
out:
	view_end(&v);
	c->close(c);
	return e;
}

static sup_err
export_messages_of(struct store *s, uint32_t id, export_write_fn write,
    void *ctx)
{
	struct messages_args a = { .user = id, .first = true };
	sup_err e;

	if ((e = write(ctx, ",\n\"messages\":[", 14)) != SUP_OK)
		return e;
	do {
		if ((e = store_run(s, STORE_READ, messages_txn, &a)) != SUP_OK)
			break;
		if (a.out.len > 0) {
			if ((e = write(ctx, a.out.p, a.out.len)) != SUP_OK)
				break;
			a.first = false;
		}
		memcpy(a.from, a.next, sizeof(a.from));
		a.started = a.next_started;
	} while (!a.done);
	free(a.out.p);
	return e != SUP_OK ? e : write(ctx, "]", 1);
}

/* --- Its events ----------------------------------------------------------- */

struct events_args {
	uint32_t user;
	bool first;
	struct sbuf out;
};

/* Is event text by or about the user? */
static sup_err
event_one(void *ctx, int64_t seq SUP_UNUSED, const char *text, size_t len)
{
	struct events_args *a = ctx;
	struct json_tokener *tok;
	json_object *ev, *v;
	bool about;

	if ((tok = json_tokener_new()) == NULL)
		return SUP_ENOMEM;
	ev = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (ev == NULL)
		return SUP_OK;	/* not whole: verify reports it */
	about = (json_object_object_get_ex(ev, "user", &v) &&
	    json_object_get_int64(v) == a->user) ||
	    (json_object_object_get_ex(ev, "actor", &v) &&
	    json_object_get_int64(v) == a->user);
	json_object_put(ev);
	if (about) {
		sbuf_adds(&a->out, a->first ? "\n" : ",\n");
		a->first = false;
		sbuf_add(&a->out, text, len);
	}
	return a->out.failed ? SUP_ENOMEM : SUP_OK;
}

static sup_err
export_events_of(struct store *s, uint32_t id, export_write_fn write,
    void *ctx)
{
	struct events_args a = { .user = id, .first = true };
	int64_t from = 1, next;
	sup_err e;

	if ((e = write(ctx, ",\n\"events\":[", 12)) != SUP_OK)
		return e;
	for (;;) {
		bool first = a.first;

		a.out.len = 0;
		if ((e = event_read(s, from, BATCH * 10, event_one, &a,
		    &next)) != SUP_OK) {
			a.first = first;
			break;
		}
		if (a.out.len > 0 && (e = write(ctx, a.out.p, a.out.len)) !=
		    SUP_OK)
			break;
		if (next == from)
			break;
		from = next;
	}
	free(a.out.p);
	return e != SUP_OK ? e : write(ctx, "]", 1);
}

/* --- Export ---------------------------------------------------------------- */

/* u's saved views (staff only have them): a new array in *out. */
static sup_err
own_views(struct store *s, const struct sup_user *u, json_object **out)
{
	if (user_is_staff(u))
		return saved_list(s, u, out);
	return (*out = json_object_new_array()) == NULL ? SUP_ENOMEM : SUP_OK;
}

/* The canned responses u owns (not the shared ones of others). */
static sup_err
own_canned(struct store *s, const struct sup_user *u, json_object **out)
{
	json_object *all, *o, *v;
	sup_err e;

	if ((*out = json_object_new_array()) == NULL)
		return SUP_ENOMEM;
	if (!user_is_staff(u))
		return SUP_OK;
	if ((e = canned_list(s, u, &all)) != SUP_OK)
		return e;
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		o = json_object_array_get_idx(all, i);
		if (json_object_object_get_ex(o, "owner", &v) &&
		    json_object_get_int64(v) == u->id &&
		    json_object_array_add(*out, json_object_get(o)) != 0) {
			json_object_put(o);
			e = SUP_ENOMEM;
			break;
		}
	}
	json_object_put(all);
	return e;
}

sup_err
user_data_export(struct store *s, uint32_t id, export_write_fn write,
    void *ctx)
{
	json_object *rec = NULL, *tokens = NULL, *sessions = NULL,
	    *views = NULL, *canned = NULL;
	struct sup_user u = { .id = id };
	struct sbuf b = { 0 };
	const char *t;
	size_t n;
	sup_err e;

	if ((e = user_get(s, NULL, id, &rec)) != SUP_OK)
		return e;
	json_object_object_del(rec, "password");
	u.role = user_role_from(rec_str(rec, "role")) < 0 ? ROLE_USER :
	    (enum user_role)user_role_from(rec_str(rec, "role"));
	if ((sessions = json_object_new_array()) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	if ((e = token_list(s, id, &tokens)) != SUP_OK ||
	    (e = sess_user_list(s, id, sessions)) != SUP_OK ||
	    (e = own_views(s, &u, &views)) != SUP_OK ||
	    (e = own_canned(s, &u, &canned)) != SUP_OK)
		goto out;
	t = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	sbuf_lit(&b, "{\"user\":");
	if (t != NULL)
		sbuf_add(&b, t, n);
	if (t == NULL || b.failed) {
		e = SUP_ENOMEM;
		goto out;
	}
	if ((e = write(ctx, b.p, b.len)) != SUP_OK ||
	    (e = write_member(write, ctx, "tokens", tokens)) != SUP_OK ||
	    (e = write_member(write, ctx, "sessions", sessions)) != SUP_OK ||
	    (e = write_member(write, ctx, "saved_views", views)) != SUP_OK ||
	    (e = write_member(write, ctx, "canned_responses", canned)) !=
	    SUP_OK ||
	    (e = export_tickets_of(s, id, write, ctx)) != SUP_OK ||
	    (e = export_messages_of(s, id, write, ctx)) != SUP_OK ||
	    (e = export_events_of(s, id, write, ctx)) != SUP_OK)
		goto out;
	e = write(ctx, "\n}\n", 3);
out:
	free(b.p);
	json_object_put(rec);
	json_object_put(tokens);
	json_object_put(sessions);
	json_object_put(views);
	json_object_put(canned);
	return e;
}

/* --- Erasure --------------------------------------------------------------- */

struct scrub {
	uint32_t id;
	const char *names[4];		/* name, e-mail, display name; NULL */
	const char *email;		/* the e-mail, or NULL (erased before) */
};

/* Does string v equal one of the erased names (either case)? */
static bool
is_name(const struct scrub *sc, json_object *v)
{
	const char *str;

	if (!json_object_is_type(v, json_type_string))
		return false;
	str = json_object_get_string(v);
	for (size_t i = 0; sc->names[i] != NULL; i++)
		if (strcasecmp(str, sc->names[i]) == 0)
			return true;
	return false;
}

/* Replace every string of o (deep) equal to a name; *changed if any. */
static sup_err
scrub_value(const struct scrub *sc, json_object *o, bool *changed)
{
	sup_err e = SUP_OK;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, v) {
			if (is_name(sc, v)) {
				if (!json_set(o, key, json_object_new_string(
				    USER_ERASED_DISPLAY)))
					return SUP_ENOMEM;
				*changed = true;
			} else if ((e = scrub_value(sc, v, changed)) != SUP_OK)
				return e;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			json_object *v = json_object_array_get_idx(o, i);

			if (is_name(sc, v)) {
				json_object *r = json_object_new_string(
				    USER_ERASED_DISPLAY);
				if (r == NULL || json_object_array_put_idx(o,
				    i, r) != 0) {
					json_object_put(r);
					return SUP_ENOMEM;
				}
				*changed = true;
			} else if ((e = scrub_value(sc, v, changed)) != SUP_OK)
				return e;
		}
	}
	return e;
}

/*
 * event_rewrite's fn: the names out of every event, and the addresses
 * out of the events by or about the account.  The frame (seq, id, at,
 * type) is never a name.
 */
static sup_err
scrub_event(void *ctx, struct store *s SUP_UNUSED, DB_TXN *txn SUP_UNUSED,
    json_object *ev, bool *changed)
{
	static const char *const frame[] = { "seq", "id", "at", "type" };
	const struct scrub *sc = ctx;
	json_object *v, *data;
	sup_err e;

	*changed = false;
	json_object_object_foreach(ev, key, val) {
		bool skip = false;

		for (size_t i = 0; i < SUP_NELEM(frame); i++)
			skip |= strcmp(key, frame[i]) == 0;
		if (skip)
			continue;
		if (is_name(sc, val)) {
			if (!json_set(ev, key, json_object_new_string(
			    USER_ERASED_DISPLAY)))
				return SUP_ENOMEM;
			*changed = true;
		} else if ((e = scrub_value(sc, val, changed)) != SUP_OK)
			return e;
	}
	if (((json_object_object_get_ex(ev, "user", &v) &&
	    json_object_get_int64(v) == sc->id) ||
	    (json_object_object_get_ex(ev, "actor", &v) &&
	    json_object_get_int64(v) == sc->id)) &&
	    json_object_object_get_ex(ev, "data", &data) &&
	    json_object_object_get_ex(data, "addr", NULL)) {
		json_object_object_del(data, "addr");
		*changed = true;
	}
	return SUP_OK;
}

/* Delete u's saved views; count them. */
static sup_err
erase_views(struct store *s, const struct sup_user *u, long *n)
{
	json_object *views, *v;
	sup_err e;

	if ((e = own_views(s, u, &views)) != SUP_OK)
		return e;
	for (size_t i = 0; i < json_object_array_length(views) && e == SUP_OK;
	    i++) {
		json_object *o = json_object_array_get_idx(views, i);

		if (!json_object_object_get_ex(o, "id", &v))
			continue;
		e = saved_delete(s, u, (uint32_t)json_object_get_int64(v));
		if (e == SUP_ENOTFOUND)
			e = SUP_OK;
		else if (e == SUP_OK)
			(*n)++;
	}
	json_object_put(views);
	return e;
}

/* Delete u's personal canned responses (the shared ones stay); count. */
static sup_err
erase_canned(struct store *s, const struct sup_user *u, long *n)
{
	json_object *own, *v;
	sup_err e;

	if ((e = own_canned(s, u, &own)) != SUP_OK) {
		json_object_put(own);
		return e;
	}
	for (size_t i = 0; i < json_object_array_length(own) && e == SUP_OK;
	    i++) {
		json_object *o = json_object_array_get_idx(own, i);

		if (!json_object_object_get_ex(o, "id", &v) ||
		    (json_object_object_get_ex(o, "shared", NULL) &&
		    rec_bool(o, "shared")))
			continue;
		e = canned_delete(s, u, (uint32_t)json_object_get_int64(v));
		if (e == SUP_ENOTFOUND)
			e = SUP_OK;
		else if (e == SUP_OK)
			(*n)++;
	}
	json_object_put(own);
	return e;
}

/*
 * outbox_drop_if's match for an erasure: a delivery addressed to the
 * account's e-mail, about a ticket the account is the customer of (the
 * team's "ticket created" mail names it), or whose bytes hold its e-mail
 * address anywhere (either case).  The names alone are not looked for in
 * the bytes: a display name such as "Ann" is in many mails that are not
 * about her.  A ticket gone (purged) is no match.
 */
static sup_err
erase_delivery(void *ctx, struct store *s, DB_TXN *txn, json_object *rec,
    bool *drop)
{
	const struct scrub *sc = ctx;
	const char *email = sc->email, *to = rec_str(rec, "to");
	const char *msg = rec_str(rec, "message"), *ticket;
	uint8_t uuid[UUID_LEN];
	DBT k = { .data = uuid, .size = UUID_LEN };
	DBT d = { .flags = DB_DBT_MALLOC };
	struct record_ticket t;
	sup_err e;

	*drop = email != NULL && ((to != NULL && strcasecmp(to, email) == 0) ||
	    (msg != NULL && strcasestr(msg, email) != NULL));
	if (*drop || (ticket = rec_str(rec, "ticket")) == NULL ||
	    !uuid_parse(ticket, strlen(ticket), uuid))
		return SUP_OK;
	e = store_err(ticket_db(s, TDB_TICKETS)->get(ticket_db(s,
	    TDB_TICKETS), txn, &k, &d, 0), "ticket");
	if (e == SUP_ENOTFOUND)
		return SUP_OK;
	if (e != SUP_OK)
		return e;
	e = record_ticket_decode(d.data, d.size, &t);
	free(d.data);
	if (e == SUP_OK)
		*drop = t.user == sc->id;
	record_ticket_clear(&t);
	return e == SUP_EDB ? SUP_OK : e;	/* verify's to report */
}

sup_err
user_data_erase(struct store *s, uint32_t id, struct erase_stats *st)
{
	struct scrub sc = { .id = id };
	struct sup_user u = { .id = id };
	json_object *was = NULL;
	char *name = NULL, *email = NULL, *display = NULL;
	sup_err e;
	int role;

	memset(st, 0, sizeof(*st));
	/* The account first: it refuses the last admin, before any change. */
	if ((e = user_erase(s, 0, id, &was)) != SUP_OK)
		goto out;
	role = user_role_from(rec_str(was, "role"));
	u.role = role < 0 ? ROLE_USER : (enum user_role)role;
	if ((e = erase_views(s, &u, &st->views)) != SUP_OK ||
	    (e = erase_canned(s, &u, &st->canned)) != SUP_OK)
		goto out;
	if (user_is_erased(was))
		goto rest;	/* erased before: the names are gone */
	name = strdup(rec_str(was, "username") ? rec_str(was, "username") :
	    "");
	email = strdup(rec_str(was, "email") ? rec_str(was, "email") : "");
	display = strdup(rec_str(was, "display_name") ?
	    rec_str(was, "display_name") : "");
	if (name == NULL || email == NULL || display == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	{
		size_t k = 0;

		if (*name != '\0')
			sc.names[k++] = name;
		if (*email != '\0')
			sc.names[k++] = sc.email = email;
		if (*display != '\0')
			sc.names[k++] = display;
		sc.names[k] = NULL;
	}
rest:
	if ((e = sess_end_user(s, id, NULL, &st->sessions)) != SUP_OK ||
	    (e = sess_user_forget(s, id, sc.names)) != SUP_OK ||
	    (e = presence_user_erase(s, id, &st->marks)) != SUP_OK ||
	    (e = outbox_drop_if(s, erase_delivery, &sc, &st->mails)) !=
	    SUP_OK)
		goto out;
	if (sc.email != NULL && (e = mailin_sender_forget(s, sc.email,
	    &st->senders)) != SUP_OK)
		goto out;
	/* By the id, which stays: an erasure cut short finishes them. */
	if ((e = mailin_seen_forget_user(s, id, &st->seen)) != SUP_OK)
		goto out;
	if ((e = event_rewrite(s, false, INT64_MAX, scrub_event, &sc,
	    &st->events, NULL)) != SUP_OK)
		goto out;
	/* The audit log keeps copies of the events: the same scrub. */
	e = audit_rewrite(s, scrub_event, &sc, &st->audit);
out:
	json_object_put(was);
	free(name);
	free(email);
	free(display);
	return e;
}
