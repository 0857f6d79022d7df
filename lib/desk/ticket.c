/*
 * ticket.c - tickets: create, show, change, list.  The records' layout
 * and the status machine are the codec's (record.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "counter.h"
#include "event.h"
#include "msg.h"
#include "record.h"
#include "textsearch.h"
#include "ticket.h"
#include "util.h"

static const struct sup_errdef ticket_errdefs[] = {
	{ TICKET_ELIMIT, SUP_EFORBIDDEN, "ticket_limit_reached",
	    "You have reached the maximum number of open tickets.", NULL,
	    NULL },
	{ TICKET_ETRANSITION, SUP_ECONFLICT, "invalid_transition",
	    "The ticket cannot change to that status.", NULL,
	    "The ticket cannot move to that status from where it is." },
	{ TICKET_ECLOSED, SUP_ECONFLICT, "ticket_closed",
	    "The ticket is closed.", "This ticket is closed",
	    "A closed ticket takes no more replies. Open a new ticket if "
	    "you need more help." },
	{ TICKET_EDUPLICATE, SUP_EINVAL, "invalid",
	    "The same ticket is named more than once.", NULL, NULL },
};
SUP_ERRORS(ticket_errors, SUP_AREA_TICKETS, ticket_errdefs)
#include "valid.h"
#include "view.h"

static bool
status_active(int status)
{
	return status != ST_RESOLVED && status != ST_CLOSED;
}

static sup_err
count_add(struct store *s, DB_TXN *txn, enum record_counter kind, int64_t id,
    int64_t delta)
{
	char name[64];

	record_counter(name, sizeof(name), kind, id);
	return store_count_add(s, txn, name, delta);
}

sup_err
ticket_move_count(struct store *s, DB_TXN *txn, uint32_t user,
    int old_status, uint32_t old_assignee, int status, uint32_t assignee)
{
	sup_err e;

	if (old_status == status && old_assignee == assignee)
		return SUP_OK;
	/* t_counts before counters.db, in every writer (lock order). */
	if ((e = store_tcount_add(s, txn, old_status, old_assignee, -1)) !=
	    SUP_OK ||
	    (e = store_tcount_add(s, txn, status, assignee, 1)) != SUP_OK)
		return e;
	if (status_active(old_status) != status_active(status) &&
	    (e = count_add(s, txn, RC_ACTIVE, user,
	    status_active(status) ? 1 : -1)) != SUP_OK)
		return e;
	if (old_assignee != assignee &&
	    ((e = count_add(s, txn, RC_ASSIGNEE, old_assignee, -1)) !=
	    SUP_OK ||
	    (e = count_add(s, txn, RC_ASSIGNEE, assignee, 1)) != SUP_OK))
		return e;
	return SUP_OK;
}

sup_err
ticket_load(struct store *s, DB_TXN *txn, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], uint32_t flags, struct record_ticket *t)
{
	DBT k = { .data = (void *)uuid, .size = UUID_LEN };
	DBT d = { .flags = DB_DBT_MALLOC };
	DB *tickets = ticket_db(s, TDB_TICKETS);
	sup_err e;

	memset(t, 0, sizeof(*t));
	if ((e = store_err(tickets->get(tickets, txn, &k, &d, flags),
	    "ticket")) != SUP_OK)
		return e;
	e = record_ticket_decode(d.data, d.size, t);
	free(d.data);
	if (e != SUP_OK) {
		record_ticket_clear(t);
		return e;
	}
	/* Another customer's ticket does not exist, as far as they know. */
	if (!user_is_staff(u) && t->user != u->id) {
		record_ticket_clear(t);
		return SUP_ENOTFOUND;
	}
	return SUP_OK;
}

sup_err
ticket_load_text(struct store *s, DB_TXN *txn, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], DBC **cur, DBT *d, struct ticket_tail *tt)
{
	DBT k = { .data = (void *)uuid, .size = UUID_LEN };
	DB *tickets = ticket_db(s, TDB_TICKETS);
	sup_err e = SUP_OK;
	int rc;

	memset(d, 0, sizeof(*d));
	d->flags = DB_DBT_MALLOC;
	if (cur == NULL)
		rc = tickets->get(tickets, txn, &k, d, 0);
	else if ((rc = tickets->cursor(tickets, txn, cur, 0)) == 0 &&
	    (rc = (*cur)->get(*cur, &k, d, DB_SET | DB_RMW)) != 0) {
		(*cur)->close(*cur);
		*cur = NULL;
	}
	if (rc != 0)
		return store_err(rc, "ticket");
	if (!record_ticket_tail(d->data, d->size, tt))
		e = SUP_EDB;
	/* Another customer's ticket does not exist, as far as they know. */
	else if (!user_is_staff(u) && tt->user != u->id)
		e = SUP_ENOTFOUND;
	if (e != SUP_OK) {
		free(d->data);
		d->data = NULL;
		if (cur != NULL) {
			(*cur)->close(*cur);
			*cur = NULL;
		}
	}
	return e;
}

sup_err
ticket_peek(struct store *s, DB_TXN *txn, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], struct ticket_tail *tt)
{
	DBT d;
	sup_err e;

	if ((e = ticket_load_text(s, txn, u, uuid, NULL, &d, tt)) == SUP_OK)
		free(d.data);
	return e;
}

sup_err
ticket_save_text(struct store *s, DBC *cur, const uint8_t uuid[UUID_LEN],
    const DBT *old, const char *text, size_t len)
{
	uint8_t was[UUID_LEN], now[UUID_LEN];
	DBT k = { 0 };
	DBT d = { .data = (void *)text, .size = (u_int32_t)len };
	int64_t old_us, new_us;
	sup_err e;

	if (!store_ticket_stamp(s, old->data, old->size, was, &old_us) ||
	    memcmp(was, uuid, UUID_LEN) != 0)
		old_us = -1;	/* it had no entry: none to remove */
	if (!store_ticket_stamp(s, text, len, now, &new_us) ||
	    memcmp(now, uuid, UUID_LEN) != 0)
		return SUP_EDB;
	if ((e = store_err(cur->put(cur, &k, &d, DB_CURRENT), "put")) !=
	    SUP_OK)
		return e;
	return store_recent_move(s, cur->txn, uuid, old_us, new_us, text, len);
}

/* Write the stored text[0..len) of ticket uuid to tickets.db with flags. */
static sup_err
ticket_put(struct store *s, DB_TXN *txn, const uint8_t uuid[UUID_LEN],
    const char *text, size_t len, uint32_t flags)
{
	DBT k = { .data = (void *)uuid, .size = UUID_LEN };
	DBT d = { .data = (void *)text, .size = (u_int32_t)len };

	return store_err(ticket_db(s, TDB_TICKETS)->put(ticket_db(s,
	    TDB_TICKETS), txn, &k, &d, flags), "put");
}

sup_err
ticket_save(struct store *s, DB_TXN *txn, struct record_ticket *t,
    int64_t now, struct sbuf *text)
{
	int64_t old_us = t->updated_at == RECORD_NULL ? -1 : t->updated_at;
	sup_err e;

	t->rev++;
	t->updated_at = now;
	text->len = 0;
	record_ticket_encode(t, text);
	if (text->failed)
		return SUP_ENOMEM;
	if ((e = ticket_put(s, txn, t->uuid, text->p, text->len, 0)) !=
	    SUP_OK)
		return e;
	/* old_us < 0: it had no entry, none to remove. */
	return store_recent_move(s, txn, t->uuid, old_us, now, text->p,
	    text->len);
}

/* Render the stored ticket text[0..len) for u inside txn into *out. */
static sup_err
render(struct store *s, DB_TXN *txn, const struct sup_user *u,
    const char *text, size_t len, bool with_messages, json_object **out)
{
	struct view v;
	sup_err e;

	view_begin(&v, s, txn, u);
	e = view_ticket_text(&v, text, len, with_messages, out);
	view_end(&v);
	return e;
}

/* --- Create ---------------------------------------------------------- */

struct create_args {
	const struct sup_conf *conf;
	const struct sup_user *u;
	struct ticket_new *in;
	bool want_out;		/* render the new ticket into out */
	json_object *out;
};

/*
 * The round robin's position: the id of the agent it gave the last
 * ticket to, a counter (lib/desk/counter.h).
 */
#define RR_LAST "rr_last"

/*
 * Who a ticket a customer opens goes to, by conf's auto_assign, inside
 * the creating transaction: *out the agent, 0 for nobody (auto_assign =
 * no, or no agent available).  The available agents are one read of the
 * users' list (user_available).  round_robin reads its position for
 * update, so that creators take turns, and moves it to the agent chosen:
 * the first available one after it in id order, wrapping round.
 * least_open sums each available agent's open, waiting_for_admin and
 * waiting_for_user counts (t_counts), the fewest winning, ties to the
 * lowest id.  The position is locked before t_counts is written, unlike
 * the other writers' order (t_counts, then counters.db): a deadlock with
 * one of them is resolved by store_run running the loser again.
 */
static sup_err
pick_assignee(struct store *s, DB_TXN *txn, enum conf_assign how,
    uint32_t *out)
{
	static const int open_states[] = { ST_OPEN, ST_WAITING_FOR_ADMIN,
		ST_WAITING_FOR_USER };
	uint32_t *ids;
	size_t n, i;
	int64_t last, best = -1, sum, c;
	sup_err e;

	*out = 0;
	if (how == ASSIGN_NO)
		return SUP_OK;
	if ((e = user_available(s, txn, &ids, &n)) != SUP_OK || n == 0)
		return e;
	if (how == ASSIGN_ROUND_ROBIN) {
		if ((e = store_count_lock(s, txn, RR_LAST, &last)) != SUP_OK)
			goto out;
		for (i = 0; i < n && (int64_t)ids[i] <= last; i++)
			continue;
		*out = ids[i < n ? i : 0];
		e = store_count_add(s, txn, RR_LAST, (int64_t)*out - last);
		goto out;
	}
	for (i = 0; i < n; i++) {
		sum = 0;
		for (size_t j = 0; j < SUP_NELEM(open_states); j++) {
			if ((e = store_tcount_get(s, txn, open_states[j],
			    ids[i], &c)) != SUP_OK)
				goto out;
			sum += c;
		}
		if (best < 0 || sum < best) {
			best = sum;
			*out = ids[i];
		}
	}
out:
	if (e != SUP_OK)
		*out = 0;
	free(ids);
	return e;
}

/* The event of a new ticket, whose first message has the key mkey. */
static sup_err
created_event(struct store *s, DB_TXN *txn, const struct sup_user *u,
    const struct ticket_new *in, const uint8_t uuid[UUID_LEN],
    const uint8_t mkey[MSG_KEY_LEN], uint32_t assignee)
{
	struct event ev;
	sup_err e;

	event_init(&ev, EV_TICKET_CREATED, u->id);
	ev.ticket = uuid;
	ev.at_us = (int64_t)be64_get(mkey + UUID_LEN);	/* created_at */
	ev.user = in->owner;
	ev.message = mkey + UUID_LEN + 8;
	if ((e = event_data_str(&ev, "subject", in->subject,
	    in->subject_len)) == SUP_OK &&
	    (e = event_data_cstr(&ev, "priority",
	    ticket_priority_names[in->priority])) == SUP_OK &&
	    (e = event_data_cstr(&ev, "status",
	    ticket_status_names[ST_OPEN])) == SUP_OK &&
	    (e = event_data_cstr(&ev, "channel",
	    ticket_channel_names[in->channel])) == SUP_OK)
		e = assignee == 0 ? event_data(&ev, "assignee", NULL) :
		    event_data_int(&ev, "assignee", assignee);
	return event_finish(s, txn, &ev, e);
}

static sup_err
create_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct create_args *a = arg;
	const struct sup_user *u = a->u;
	uint32_t owner = a->in->owner != 0 ? a->in->owner : u->id;
	uint8_t mkey[MSG_KEY_LEN];
	struct record_ticket t = { 0 };
	struct sbuf text = { 0 };
	int64_t number, active, now;
	sup_err e;

	json_object_put(a->out);
	a->out = NULL;
	/* The limit is the owner's: a customer, or the one staff open for. */
	if ((a->in->owner != 0 || !user_is_staff(u)) &&
	    a->conf->max_tickets_per_user > 0) {
		char name[64];
		record_counter(name, sizeof(name), RC_ACTIVE, owner);
		if ((e = store_count_get(s, txn, name, &active)) != SUP_OK)
			return e;
		if (active >= a->conf->max_tickets_per_user)
			return TICKET_ELIMIT;
	}
	if ((e = store_seq_next(ticket_number_seq(s), txn, &number)) != SUP_OK)
		return e;
	/* A ticket staff open is theirs to give to someone. */
	if (!user_is_staff(u) && (e = pick_assignee(s, txn,
	    a->conf->auto_assign, &t.assignee)) != SUP_OK)
		return e;
	now = time_now_us();
	uuid_gen_time(t.uuid, now);
	memcpy(a->in->uuid, t.uuid, UUID_LEN);
	msg_key_new(mkey, t.uuid, now);
	memcpy(a->in->message, mkey + UUID_LEN + 8, UUID_LEN);
	t.number = number;
	t.subject = (char *)a->in->subject;
	t.subject_len = a->in->subject_len;
	t.status = ST_OPEN;
	t.priority = a->in->priority;
	t.created_at = t.updated_at = now;
	t.first_response_at = t.resolved_at = t.closed_at = RECORD_NULL;
	t.channel = a->in->channel;
	t.user = owner;
	t.public_count = 1;
	t.note_count = 0;
	t.unanswered = 1;
	t.replies = 0;
	t.rev = 1;
	t.last_us = now;
	t.has_refs = t.has_public = true;
	memcpy(t.last_public, mkey + UUID_LEN, MSG_REF_LEN);
	record_ticket_encode(&t, &text);
	if (text.failed) {
		e = SUP_ENOMEM;
		goto out;
	}

	/* The t_recent entry after the message, as a post writes it. */
	if ((e = ticket_put(s, txn, t.uuid, text.p, text.len,
	    DB_NOOVERWRITE)) != SUP_OK ||
	    (e = msg_insert_att(s, txn, mkey, u->id, a->in->content,
	    a->in->content_len, NULL, false, true, a->in->files, NULL)) !=
	    SUP_OK ||
	    (e = store_recent_move(s, txn, t.uuid, -1, now, text.p,
	    text.len)) != SUP_OK ||
	    (e = store_tcount_add(s, txn, ST_OPEN, t.assignee, 1)) != SUP_OK ||
	    (e = count_add(s, txn, RC_TICKETS, 0, 1)) != SUP_OK ||
	    (e = count_add(s, txn, RC_USER, owner, 1)) != SUP_OK ||
	    (e = count_add(s, txn, RC_ACTIVE, owner, 1)) != SUP_OK ||
	    (e = count_add(s, txn, RC_ASSIGNEE, t.assignee, 1)) != SUP_OK ||
	    (e = created_event(s, txn, u, a->in, t.uuid, mkey,
	    t.assignee)) != SUP_OK)
		goto out;
	if (a->want_out)
		e = render(s, txn, u, text.p, text.len, true, &a->out);
out:
	free(text.p);
	return e;
}

/* What ticket_create and ticket_create_in refuse before any reading. */
static sup_err
create_check(const struct sup_user *u, const struct ticket_new *in)
{
	if (in->channel < 0 || in->channel >= CH_MAX ||
	    in->priority < 0 || in->priority >= PRI_MAX)
		return SUP_EINVAL;
	if (in->owner != 0 && !user_is_staff(u))
		return SUP_EFORBIDDEN;
	return SUP_OK;
}

sup_err
ticket_create(struct store *s, const struct sup_conf *conf,
    const struct sup_user *u, struct ticket_new *in, json_object **out)
{
	struct create_args a = { .conf = conf, .u = u, .in = in,
		.want_out = true };
	sup_err e;

	if ((e = create_check(u, in)) != SUP_OK)
		return e;
	e = store_run_json(s, 0, create_txn, &a, &a.out, out);
	/* Files put in place for a ticket that was not made. */
	if (e != SUP_OK && in->files != NULL && in->files->n > 0)
		(void)att_collect(s, NULL, in->files, false);
	return e;
}

sup_err
ticket_create_in(struct store *s, DB_TXN *txn, const struct sup_conf *conf,
    const struct sup_user *u, struct ticket_new *in)
{
	struct create_args a = { .conf = conf, .u = u, .in = in };
	sup_err e;

	if ((e = create_check(u, in)) != SUP_OK)
		return e;
	e = create_txn(s, txn, &a);
	json_object_put(a.out);
	return e;
}

/* --- Show ------------------------------------------------------------ */

struct show_args {
	const struct sup_user *u;
	const uint8_t *uuid;
	json_object *out;
};

static sup_err
show_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct show_args *a = arg;
	struct ticket_tail tt;
	struct view v;
	DBT d;
	sup_err e;

	json_object_put(a->out);
	a->out = NULL;
	/* The stored text is spliced as it is: no parse, no printing. */
	if ((e = ticket_load_text(s, txn, a->u, a->uuid, NULL, &d, &tt)) != SUP_OK)
		return e;
	view_begin(&v, s, txn, a->u);
	e = view_ticket_text(&v, d.data, d.size, true, &a->out);
	view_end(&v);
	free(d.data);
	return e;
}

sup_err
ticket_show(struct store *s, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], json_object **out)
{
	struct show_args a = { .u = u, .uuid = uuid };

	return store_run_json(s, STORE_READ, show_txn, &a, &a.out, out);
}

/* --- Update ---------------------------------------------------------- */

struct update_args {
	const struct sup_user *u;
	const uint8_t *uuid;
	const struct ticket_patch *p;
	json_object *out;
};

/*
 * Note in ev that field moved from names[from] to names[to] (a name out
 * of range is null).  SUP_ENOMEM.
 */
static sup_err
change_name(struct event *ev, const char *field, const char *const *names,
    int from, int to)
{
	const char *f = from >= 0 ? names[from] : NULL;
	const char *t = to >= 0 ? names[to] : NULL;

	return event_change_str(ev, field, f, f ? strlen(f) : 0, t,
	    t ? strlen(t) : 0);
}

/*
 * What a change of one ticket leaves for the end of its transaction: the
 * counts to move and the event to append, and the ticket's stored text as
 * written (or as it was, unchanged).  The counters and the log are the
 * store's most shared pages, so every writer takes them last.
 */
struct change {
	struct event ev;
	struct sbuf text;
	bool changed;		/* written: counts and event are due */
	uint32_t user, old_assignee, assignee;
	int old, status;
};

/* Release what c holds (after change_one, whatever it returned). */
static void
change_free(struct change *c)
{
	event_free(&c->ev);
	free(c->text.p);
	c->text = (struct sbuf){ 0 };
}

/*
 * Apply the patch p by u to the ticket uuid (which must outlive c: the
 * event names it) inside txn at time now, as PATCH does: read it for
 * update, check and move its status (record_status_move), subject,
 * priority and assignee (a staff user's id, 0: nobody), note each change
 * in c->ev, and write it back when anything changed.  The counts and the
 * event are change_finish's.  c->ev is initialised in every case
 * (change_free it).  Errors: SUP_ENOTFOUND (absent or not u's),
 * SUP_EFORBIDDEN (an owner changing more than the status),
 * TICKET_ETRANSITION, SUP_EINVAL (the assignee is no staff user),
 * SUP_ENOMEM, SUP_EDB.
 */
static sup_err
change_one(struct store *s, DB_TXN *txn, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], const struct ticket_patch *p, int64_t now,
    struct change *c)
{
	struct record_ticket t;
	struct record_state st;
	json_object *staff_rec;
	bool first;
	sup_err e;

	memset(c, 0, sizeof(*c));
	event_init(&c->ev, EV_TICKET_UPDATED, u->id);
	c->ev.ticket = uuid;
	c->ev.at_us = now;
	if ((e = ticket_load(s, txn, u, uuid, DB_RMW, &t)) != SUP_OK)
		return e;
	c->user = t.user;
	c->old = t.status;
	c->old_assignee = t.assignee;
	if (!user_is_staff(u) && (p->priority >= 0 || p->subject != NULL ||
	    p->set_assignee)) {
		e = SUP_EFORBIDDEN;
		goto out;
	}
	if (p->status >= 0 && p->status != c->old) {
		record_state_of(&t, &st);
		if ((e = record_status_move(&st, user_is_staff(u),
		    t.user == u->id, MOVE_SET, p->status, now, &first)) !=
		    SUP_OK ||
		    (e = change_name(&c->ev, "status", ticket_status_names,
		    c->old, p->status)) != SUP_OK)
			goto out;
		record_state_set(&t, &st);
		c->changed = true;
	}
	if (p->subject != NULL) {
		if ((t.subject_len != p->subject_len ||
		    memcmp(t.subject, p->subject, p->subject_len) != 0) &&
		    (e = event_change_str(&c->ev, "subject", t.subject,
		    t.subject_len, p->subject, p->subject_len)) != SUP_OK)
			goto out;
		char *copy = malloc(p->subject_len + 1);
		if (copy == NULL) {
			e = SUP_ENOMEM;
			goto out;
		}
		memcpy(copy, p->subject, p->subject_len);
		copy[p->subject_len] = '\0';
		free(t.subject);
		t.subject = copy;
		t.subject_len = p->subject_len;
		c->changed = true;
	}
	if (p->priority >= 0) {
		if (t.priority != p->priority && (e = change_name(&c->ev,
		    "priority", ticket_priority_names, t.priority,
		    p->priority)) != SUP_OK)
			goto out;
		t.priority = p->priority;
		c->changed = true;
	}
	if (p->set_assignee && p->assignee != c->old_assignee) {
		if (p->assignee != 0) {
			struct sup_user a_user;
			e = user_get(s, txn, p->assignee, &staff_rec);
			if (e == SUP_ENOTFOUND)
				e = SUP_EINVAL;
			if (e != SUP_OK)
				goto out;
			if ((e = user_from_record(&a_user, staff_rec)) !=
			    SUP_OK)
				goto out;
			bool ok = user_is_staff(&a_user);
			user_clear(&a_user);
			if (!ok) {
				e = SUP_EINVAL;
				goto out;
			}
		}
		if ((e = event_change_int(&c->ev, "assignee", c->old_assignee,
		    p->assignee, 0)) != SUP_OK)
			goto out;
		t.assignee = p->assignee;
		c->changed = true;
	}
	c->status = t.status;
	c->assignee = t.assignee;
	/* Unchanged, the ticket is shown as it was written. */
	if (c->changed)
		e = ticket_save(s, txn, &t, now, &c->text);
	else {
		record_ticket_encode(&t, &c->text);
		if (c->text.failed)
			e = SUP_ENOMEM;
	}
out:
	record_ticket_clear(&t);
	return e;
}

/*
 * The rest of a change written by change_one: its counts, then its event.
 * Called after every ticket of the transaction is written: the counters
 * are the most shared page of the store, so they are locked for the
 * shortest time, and always after the tickets' index pages (no lock-order
 * deadlock with a post); the log's last page is held from the append to
 * the commit.  Nothing when the ticket did not change.
 */
static sup_err
change_counts(struct store *s, DB_TXN *txn, const struct change *c)
{
	if (!c->changed)
		return SUP_OK;
	return ticket_move_count(s, txn, c->user, c->old, c->old_assignee,
	    c->status, c->assignee);
}

static sup_err
change_event(struct store *s, DB_TXN *txn, struct change *c)
{
	return c->changed ? event_append(s, txn, &c->ev) : SUP_OK;
}

static sup_err
update_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct update_args *a = arg;
	struct change c;
	sup_err e;

	json_object_put(a->out);
	a->out = NULL;
	if ((e = change_one(s, txn, a->u, a->uuid, a->p, time_now_us(),
	    &c)) == SUP_OK &&
	    (e = change_counts(s, txn, &c)) == SUP_OK &&
	    (e = change_event(s, txn, &c)) == SUP_OK)
		e = render(s, txn, a->u, c.text.p, c.text.len, true, &a->out);
	change_free(&c);
	return e;
}

sup_err
ticket_update(struct store *s, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], const struct ticket_patch *p,
    json_object **out)
{
	struct update_args a = { .u = u, .uuid = uuid, .p = p };

	return store_run_json(s, 0, update_txn, &a, &a.out, out);
}

/* --- Bulk update ----------------------------------------------------- */

/* A ticket of a bulk update: its uuid and its place in the list given. */
struct bulk_item {
	const uint8_t *uuid;
	size_t idx;
};

struct bulk_args {
	const struct sup_user *u;
	const struct ticket_patch *p;
	struct bulk_item *items;	/* sorted by uuid: the lock order */
	size_t n;
	size_t *failed;
	json_object *out;
};

static int
item_by_uuid(const void *a, const void *b)
{
	const struct bulk_item *x = a, *y = b;
	int c = memcmp(x->uuid, y->uuid, UUID_LEN);

	return c != 0 ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Is e a rule's refusal of one ticket (the others are still checked)? */
static bool
bulk_refusal(sup_err e)
{
	return e == SUP_ENOTFOUND || e == TICKET_ETRANSITION ||
	    e == SUP_EFORBIDDEN || e == SUP_EINVAL;
}

/*
 * A count a bulk change moves: a t_counts entry (kind NET_TCOUNT: status
 * and assignee id) or a counter of counters.db (kind a record_counter,
 * and its id), and the sum of the moves.
 */
#define NET_TCOUNT	(-1)
struct net {
	int kind;
	int status;
	int64_t id;
	int64_t delta;
};

/* Add delta to the entry of tab[0..*n) for (kind, status, id), or a new one. */
static void
net_add(struct net *tab, size_t *n, int kind, int status, int64_t id,
    int64_t delta)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (tab[i].kind == kind && tab[i].status == status &&
		    tab[i].id == id)
			break;
	if (i == *n)
		tab[(*n)++] = (struct net){ .kind = kind, .status = status,
		    .id = id };
	tab[i].delta += delta;
}

/*
 * The counts of the n changes cs, as ticket_move_count moves them for
 * each ticket that changed, but summed first: each t_counts entry and
 * each counter is written once, with the sum of the moves (a bulk change
 * of 20 tickets from one status to another writes two t_counts entries,
 * not 40 times one), and not at all when they cancel out.  All the
 * t_counts entries before counters.db, as every writer.  SUP_ENOMEM,
 * SUP_EDB.
 */
static sup_err
bulk_counts(struct store *s, DB_TXN *txn, const struct change *cs, size_t n)
{
	struct net *tab;
	size_t nt = 0;
	sup_err e = SUP_OK;

	/* At most five moves a ticket. */
	if ((tab = calloc(5 * n, sizeof(*tab))) == NULL)
		return SUP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct change *c = &cs[i];
		if (!c->changed || (c->old == c->status &&
		    c->old_assignee == c->assignee))
			continue;
		net_add(tab, &nt, NET_TCOUNT, c->old, c->old_assignee, -1);
		net_add(tab, &nt, NET_TCOUNT, c->status, c->assignee, 1);
		if (status_active(c->old) != status_active(c->status))
			net_add(tab, &nt, RC_ACTIVE, 0, c->user,
			    status_active(c->status) ? 1 : -1);
		if (c->old_assignee != c->assignee) {
			net_add(tab, &nt, RC_ASSIGNEE, 0, c->old_assignee, -1);
			net_add(tab, &nt, RC_ASSIGNEE, 0, c->assignee, 1);
		}
	}
	for (size_t i = 0; i < nt && e == SUP_OK; i++)
		if (tab[i].kind == NET_TCOUNT && tab[i].delta != 0)
			e = store_tcount_add(s, txn, tab[i].status,
			    (uint32_t)tab[i].id, tab[i].delta);
	for (size_t i = 0; i < nt && e == SUP_OK; i++)
		if (tab[i].kind != NET_TCOUNT && tab[i].delta != 0)
			e = count_add(s, txn, (enum record_counter)tab[i].kind,
			    tab[i].id, tab[i].delta);
	free(tab);
	return e;
}

/*
 * *out = {name: n, "results": the JSON array text in rb (taken)}: a list's
 * answer.  SUP_ENOMEM; *out is then whatever was made of it, which
 * store_run_json releases.
 */
static sup_err
results_object(json_object **out, const char *name, int64_t n,
    struct sbuf *rb)
{
	json_object *results;

	if ((*out = json_object_new_object()) == NULL ||
	    !json_set(*out, name, json_object_new_int64(n)) ||
	    (results = view_raw(rb)) == NULL)
		return SUP_ENOMEM;
	return json_set(*out, "results", results) ? SUP_OK : SUP_ENOMEM;
}

/*
 * Every ticket of the bulk changed in one transaction, in uuid order (two
 * bulk updates lock their tickets in the same order), then their counts
 * (bulk_counts: summed), then the events of each, then a->out built as
 * {"updated", "results"} with the tickets in the order given.  A ticket
 * refused by a rule does not stop the walk at once: the one refused first
 * in the order given is named (*a->failed) and its error returned, and
 * store_run aborts the lot.
 */
static sup_err
bulk_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct bulk_args *a = arg;
	struct change *cs;
	struct sbuf rb = { 0 };
	int64_t now = time_now_us(), updated = 0;
	size_t done = 0, bad = a->n;
	sup_err e = SUP_OK, first = SUP_OK;
	struct view v;

	json_object_put(a->out);
	a->out = NULL;
	*a->failed = a->n;
	if ((cs = calloc(a->n, sizeof(*cs))) == NULL)
		return SUP_ENOMEM;
	for (; done < a->n; done++) {
		struct bulk_item *it = &a->items[done];
		e = change_one(s, txn, a->u, it->uuid, a->p, now,
		    &cs[it->idx]);
		if (e == SUP_OK)
			continue;
		if (!bulk_refusal(e)) {
			done++;
			goto out;
		}
		if (it->idx < bad) {
			bad = it->idx;
			first = e;
		}
	}
	if (bad < a->n) {
		*a->failed = bad;
		e = first;
		goto out;
	}
	if ((e = bulk_counts(s, txn, cs, a->n)) != SUP_OK)
		goto out;
	for (size_t i = 0; i < a->n; i++) {
		if ((e = change_event(s, txn, &cs[i])) != SUP_OK)
			goto out;
		updated += cs[i].changed;
	}
	sbuf_add(&rb, "[", 1);
	view_begin(&v, s, txn, a->u);
	for (size_t i = 0; i < a->n && e == SUP_OK; i++) {
		if (i > 0)
			sbuf_add(&rb, ",", 1);
		e = view_ticket_list_add(&v, cs[i].ev.ticket, cs[i].text.p,
		    cs[i].text.len, &rb);
	}
	view_end(&v);
	sbuf_add(&rb, "]", 1);
	if (e != SUP_OK)
		goto out;
	e = results_object(&a->out, "updated", updated, &rb);
out:
	/* Every change_one ran (on its slot) up to done. */
	for (size_t i = 0; i < done; i++)
		change_free(&cs[a->items[i].idx]);
	free(cs);
	free(rb.p);
	return e;
}

sup_err
ticket_bulk_update(struct store *s, const struct sup_user *u,
    const uint8_t (*uuids)[UUID_LEN], size_t n, const struct ticket_patch *p,
    size_t *failed, json_object **out)
{
	struct bulk_args a = { .u = u, .p = p, .n = n, .failed = failed };
	sup_err e;

	*failed = n;
	*out = NULL;
	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	if (n == 0 || n > TICKET_BULK_MAX)
		return SUP_EINVAL;
	if ((a.items = calloc(n, sizeof(*a.items))) == NULL)
		return SUP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		a.items[i].uuid = uuids[i];
		a.items[i].idx = i;
	}
	qsort(a.items, n, sizeof(*a.items), item_by_uuid);
	/* Sorted, a uuid given again follows its first; name the later. */
	for (size_t i = 1; i < n; i++)
		if (memcmp(a.items[i - 1].uuid, a.items[i].uuid,
		    UUID_LEN) == 0 && (*failed == n ||
		    a.items[i].idx < *failed))
			*failed = a.items[i].idx;
	if (*failed < n)
		e = TICKET_EDUPLICATE;
	else
		e = store_run_json(s, 0, bulk_txn, &a, &a.out, out);
	free(a.items);
	return e;
}

/* --- Closing old resolved tickets ------------------------------------ */

struct close_args {
	int64_t before, now;
	uint64_t from;		/* the ticket number to go on from */
	uint64_t next;		/* out: where the next batch starts */
	long closed;		/* out: closed in this batch */
	bool done;		/* out: no resolved ticket after this batch */
};

/*
 * Close the ticket t (decoded, read for update) if it is still resolved
 * and was resolved before a->before; *closed says whether it was.
 */
static sup_err
close_one(struct store *s, DB_TXN *txn, struct close_args *a,
    struct record_ticket *t, bool *closed)
{
	struct record_state st;
	struct sbuf text = { 0 };
	struct event ev;
	bool first;
	sup_err e;

	*closed = false;
	if (t->status != ST_RESOLVED || t->resolved_at == RECORD_NULL ||
	    t->resolved_at >= a->before)
		return SUP_OK;
	/* The desk itself closes it, as staff would: no actor. */
	event_init(&ev, EV_TICKET_UPDATED, 0);
	ev.ticket = t->uuid;
	ev.at_us = a->now;
	record_state_of(t, &st);
	if ((e = record_status_move(&st, true, false, MOVE_SET, ST_CLOSED,
	    a->now, &first)) != SUP_OK ||
	    (e = change_name(&ev, "status", ticket_status_names, ST_RESOLVED,
	    ST_CLOSED)) != SUP_OK)
		goto out;
	record_state_set(t, &st);
	if ((e = ticket_save(s, txn, t, a->now, &text)) != SUP_OK ||
	    (e = ticket_move_count(s, txn, t->user, ST_RESOLVED, t->assignee,
	    ST_CLOSED, t->assignee)) != SUP_OK ||
	    (e = event_append(s, txn, &ev)) != SUP_OK)
		goto out;
	*closed = true;
out:
	free(text.p);
	event_free(&ev);
	return e;
}

/*
 * One batch: the next CLOSE_BATCH resolved tickets from number a->from
 * on (t_by_status: the status byte, then the number), each closed if
 * it is old enough.  Their uuids are taken first and the cursor closed,
 * since closing one moves its entry out of the range walked.
 */
static sup_err
close_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct close_args *a = arg;
	uint8_t key[9], uuids[CLOSE_BATCH][UUID_LEN];
	DBT k = { .data = key, .size = sizeof(key), .ulen = sizeof(key),
	    .flags = DB_DBT_USERMEM };
	DBT pk = { .ulen = UUID_LEN, .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };	/* dlen 0: no record copied */
	DB *idx = ticket_index_db(s, IDX_STATUS);
	size_t n = 0;
	DBC *c;
	int rc;

	a->closed = 0;
	a->done = false;
	a->next = a->from;
	key[0] = ST_RESOLVED;
	be64_put(key + 1, a->from);
	pk.data = uuids[0];	/* each read into the next free slot */
	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	for (rc = c->pget(c, &k, &pk, &d, DB_SET_RANGE); rc == 0;
	    rc = c->pget(c, &k, &pk, &d, DB_NEXT)) {
		if (k.size != sizeof(key) || key[0] != ST_RESOLVED ||
		    pk.size != UUID_LEN)
			break;
		a->next = be64_get(key + 1) + 1;
		if (++n == CLOSE_BATCH)
			break;
		pk.data = uuids[n];
	}
	c->close(c);
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "close_old_tickets");
	a->done = n < CLOSE_BATCH;
	for (size_t i = 0; i < n; i++) {
		struct record_ticket t;
		bool closed;
		DBT tk = { .data = uuids[i], .size = UUID_LEN };
		DBT td = { .flags = DB_DBT_MALLOC };
		DB *tickets = ticket_db(s, TDB_TICKETS);
		sup_err e = store_err(tickets->get(tickets, txn, &tk, &td,
		    DB_RMW), "ticket");
		if (e == SUP_ENOTFOUND)
			continue;
		if (e != SUP_OK)
			return e;
		e = record_ticket_decode(td.data, td.size, &t);
		free(td.data);
		if (e == SUP_OK)
			e = close_one(s, txn, a, &t, &closed);
		record_ticket_clear(&t);
		if (e != SUP_OK)
			return e;
		a->closed += closed;
	}
	return SUP_OK;
}

sup_err
ticket_close_resolved(struct store *s, int64_t before, long *closed)
{
	struct close_args a = { .before = before, .from = 0 };
	sup_err e;

	*closed = 0;
	do {
		a.now = time_now_us();
		if ((e = store_run(s, 0, close_txn, &a)) != SUP_OK)
			return e;
		*closed += a.closed;
		a.from = a.next;
	} while (!a.done);
	return SUP_OK;
}

/* --- List ------------------------------------------------------------ */

struct list_args {
	const struct sup_user *u;
	struct ticket_query q;		/* with the customer's own id forced */
	struct search_query *sq;	/* q's words, for a search */
	json_object *out;
};

/* The fields of a ticket the query q filters on (record_ticket_filter). */
static unsigned
filter_want(const struct ticket_query *q)
{
	return (q->has_user || q->has_assignee ? RF_OWNERS : 0) |
	    (q->q != NULL ? RF_SUBJECT : 0) |
	    (q->has_after || q->has_before ? RF_CREATED : 0);
}

static bool
list_match(const struct ticket_query *q, const struct record_filter *f)
{
	long num;

	if (q->has_user && f->user != q->user)
		return false;
	if (q->status_mask != 0 && (f->status < 0 ||
	    !(q->status_mask & (1u << f->status))))
		return false;
	if (q->priority >= 0 && f->priority != q->priority)
		return false;
	if (q->has_assignee && f->assignee != q->assignee)
		return false;
	if ((q->has_after || q->has_before) && (!f->has_created ||
	    (q->has_after && f->created < q->created_after) ||
	    (q->has_before && f->created >= q->created_before)))
		return false;
	if (q->q != NULL) {
		/* "#123" is ticket 123; "123" is that or a subject with it. */
		bool hash = q->q[0] == '#';
		char digits[24];
		size_t n = q->q_len - hash;
		bool is_num = n > 0 && n < sizeof(digits);
		if (is_num) {
			memcpy(digits, q->q + hash, n);
			digits[n] = '\0';
			is_num = parse_long(digits, 1, LONG_MAX, &num) &&
			    num == f->number;
		}
		if (!is_num && (hash || f->subject == NULL ||
		    !str_icontains_n(f->subject, f->subject_len, q->q,
		    q->q_len)))
			return false;
	}
	return true;
}

/* The index to walk, its key prefix, and whether a counter gives the count. */
struct plan {
	enum store_index idx;
	uint8_t prefix[4];
	size_t plen;
	char counter[64];	/* "" when no one counter has the count */
	unsigned count_mask;	/* statuses whose counts (t_counts) sum to it */
	bool count_one;		/* ... of assignee count_assignee alone */
	uint32_t count_assignee;
	bool counted;		/* the count is known before the walk */
	bool sort;		/* a user's tickets: collect all, then sort */
	bool need_match;	/* filters the index does not answer */
};

static void
plan_list(const struct ticket_query *q, struct plan *p)
{
	unsigned single = 0;

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < ST_MAX; i++)
		if (q->status_mask == (1u << i))
			single = (unsigned)i + 1;
	/*
	 * Activity order walks an index keyed by last change: a customer's
	 * own, or all tickets (other filters are checked on each record; the
	 * tickets they keep are the active ones, near the start).  Creation
	 * order walks the narrowest index in number order; a customer's few
	 * tickets are sorted instead.
	 */
	if (q->order == ORDER_UPDATED) {
		if (q->has_user) {
			p->idx = IDX_USER;
			be32_put(p->prefix, q->user);
			p->plen = 4;
		} else
			p->idx = IDX_UPDATED;
	} else if (q->has_user) {
		p->idx = IDX_USER;
		be32_put(p->prefix, q->user);
		p->plen = 4;
		p->sort = true;
	} else if (q->order == ORDER_PRIORITY)
		p->idx = IDX_PRIORITY;
	else if (q->has_assignee) {
		p->idx = IDX_ASSIGNEE;
		be32_put(p->prefix, q->assignee);
		p->plen = 4;
	} else if (single) {
		p->idx = IDX_STATUS;
		p->prefix[0] = (uint8_t)(single - 1);
		p->plen = 1;
	} else
		p->idx = IDX_NUMBER;

	p->need_match = q->priority >= 0 || q->q != NULL || q->has_after ||
	    q->has_before || (q->has_user && p->idx != IDX_USER) ||
	    (q->has_assignee && p->idx != IDX_ASSIGNEE) ||
	    (q->status_mask != 0 && p->idx != IDX_STATUS);

	/* With no filter beyond the index's own, a counter has the count. */
	if (q->priority >= 0 || q->q != NULL || q->has_after || q->has_before)
		return;
	int filters = q->has_user + q->has_assignee + (q->status_mask != 0);
	if (filters == 0)
		record_counter(p->counter, sizeof(p->counter), RC_TICKETS, 0);
	else if (filters == 1 && q->has_user)
		record_counter(p->counter, sizeof(p->counter), RC_USER,
		    q->user);
	else if (filters == 1 && q->has_assignee)
		record_counter(p->counter, sizeof(p->counter), RC_ASSIGNEE,
		    q->assignee);
	else if (!q->has_user && q->status_mask != 0) {
		/* Statuses, of one assignee or of all: t_counts. */
		p->count_mask = q->status_mask;
		p->count_one = q->has_assignee;
		p->count_assignee = q->assignee;
	}
	p->counted = p->counter[0] != '\0' || p->count_mask != 0;
}

/*
 * The count of a plan whose count the counters have (p->counted): one
 * counter of counters.db, or the sum of t_counts entries of its
 * statuses (of one assignee, or of all).
 */
static sup_err
plan_count(struct store *s, DB_TXN *txn, const struct plan *p, int64_t *out)
{
	sup_err e;

	*out = 0;
	if (p->counter[0] != '\0')
		return store_count_get(s, txn, p->counter, out);
	for (int i = 0; i < ST_MAX; i++) {
		int64_t n;
		if (!(p->count_mask & (1u << i)))
			continue;
		e = p->count_one ? store_tcount_get(s, txn, i,
		    p->count_assignee, &n) : store_tcount_status(s, txn, i, &n);
		if (e != SUP_OK)
			return e;
		*out += n;
	}
	return SUP_OK;
}

/*
 * A ticket the list keeps: its key, where its stored text is in the
 * list's buffer of texts (one buffer: not an allocation for each), and
 * what it is sorted by.
 */
struct hit {
	uint8_t uuid[UUID_LEN];
	size_t off, len;
	int64_t number;
	int priority;
	int64_t updated;	/* a search's: last activity */
};

static int
hit_by_number(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	return (x->number > y->number) - (x->number < y->number);
}

/* Priority, then number: the order of the priority index. */
static int
hit_by_priority(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	return x->priority != y->priority ? x->priority - y->priority :
	    hit_by_number(a, b);
}

/*
 * Keep the ticket with key pk and text d (and its fields f) in the list:
 * hits grows (power-of-two capacity), the text goes to the end of recs
 * (recs->failed when out of memory).  The caller frees hits and recs->p.
 */
static sup_err
hit_add(struct hit **hits, size_t *n, struct sbuf *recs, const DBT *pk,
    const DBT *d, const struct record_filter *f)
{
	struct hit *h;

	/* The capacity is the next power of two: full when n is one (or 0). */
	if ((*n & (*n - 1)) == 0) {
		h = realloc(*hits, (*n ? *n * 2 : 1) * sizeof(*h));
		if (h == NULL)
			return SUP_ENOMEM;
		*hits = h;
	}
	if (pk->size != UUID_LEN)
		return SUP_EDB;
	h = &(*hits)[*n];
	memcpy(h->uuid, pk->data, UUID_LEN);
	h->off = recs->len;
	h->len = d->size;
	sbuf_add(recs, d->data, d->size);
	if (recs->failed)
		return SUP_ENOMEM;
	h->number = f->number;
	h->priority = f->priority;
	(*n)++;
	return SUP_OK;
}

/* Position c on the first key of the plan's range, walking backwards when desc. */
static int
list_first(DBC *c, const struct plan *p, bool desc, DBT *k, DBT *pk, DBT *d)
{
	uint8_t *kbuf = k->data;
	size_t i = p->plen;
	int rc;

	memcpy(kbuf, p->prefix, p->plen);
	k->size = (u_int32_t)p->plen;
	if (!desc)
		return c->pget(c, k, pk, d, p->plen ? DB_SET_RANGE : DB_FIRST);
	/* Just past the prefix (the prefix plus one), then back. */
	while (i > 0 && kbuf[i - 1] == 0xff)
		kbuf[--i] = 0;
	if (i == 0)
		return c->pget(c, k, pk, d, DB_LAST);
	kbuf[i - 1]++;
	rc = c->pget(c, k, pk, d, DB_SET_RANGE);
	if (rc == 0 || rc == DB_NOTFOUND)
		rc = c->pget(c, k, pk, d, rc == 0 ? DB_PREV : DB_LAST);
	return rc;
}

#define RECENT_BULK_MIN 4096	/* a multiple of 1024 */
#define RECENT_BULK_MAX 65536
/*
 * About what an entry takes in a bulk buffer (the benchmark's: 545
 * bytes), rounded up: the buffer for a page of 20 is then 13 kB, about
 * 24 of them.  A larger guess copies entries the page does not need (a
 * 25 kB buffer cost a page of 20 some 14 000 instructions more); a
 * smaller one, or larger records, a second call.
 */
#define RECENT_ENTRY 640

/*
 * A walk of the plan's index, one ticket a step: through an associated
 * index (pget: each step also looks the ticket up in tickets.db), or
 * over the covering t_recent for activity order, whose entries are the
 * records themselves.  t_recent is newest first: newest first it is read
 * a buffer of entries a call (DB_MULTIPLE_KEY; Berkeley DB refuses bulk
 * reads backwards and through an associated index), oldest first one
 * entry a step backwards.
 */
struct walk {
	DBC *c;
	const struct plan *p;
	bool desc;		/* the order asked for is descending */
	bool covering;		/* over t_recent */
	bool started;
	uint8_t kbuf[T_IDX_KEY_MAX], pkbuf[UUID_LEN];
	DBT k, pk;
	DBT d;			/* a step's record; the caller may make it partial */
	void *bulk;		/* covering, newest first: entries read at once */
	size_t bulk_cap;
	DBT b;			/* what the last bulk read returned */
	void *bp;		/* the next entry in b; NULL: read more */
	DBT one;		/* the entry of b at hand (points into it) */
};

/*
 * Set up w over the plan's index db with its cursor c.  want: how many
 * entries the list needs at most (0: unknown), to size the bulk buffer
 * (at least a page of db, as Berkeley DB asks).  walk_end frees what the
 * walk allocates.
 */
static void
walk_init(struct walk *w, DB *db, DBC *c, const struct plan *p, bool desc,
    int64_t want)
{
	u_int32_t pagesize = 0;

	memset(w, 0, sizeof(*w));
	w->c = c;
	w->p = p;
	w->desc = desc;
	w->covering = p->idx == IDX_UPDATED;
	w->k.data = w->kbuf;
	w->k.ulen = sizeof(w->kbuf);
	w->k.flags = DB_DBT_USERMEM;
	w->pk.data = w->pkbuf;
	w->pk.ulen = sizeof(w->pkbuf);
	w->pk.size = UUID_LEN;
	w->pk.flags = DB_DBT_USERMEM;
	w->d.flags = DB_DBT_REALLOC;
	/* Room for the entries wanted, so that one read mostly does. */
	w->bulk_cap = RECENT_BULK_MAX;
	if (want > 0 && want < RECENT_BULK_MAX / RECENT_ENTRY)
		w->bulk_cap = ((size_t)want * RECENT_ENTRY + 1023) & ~(size_t)1023;
	if (w->bulk_cap < RECENT_BULK_MIN)
		w->bulk_cap = RECENT_BULK_MIN;
	if (db->get_pagesize(db, &pagesize) == 0 && w->bulk_cap < pagesize)
		w->bulk_cap = ((size_t)pagesize + 1023) & ~(size_t)1023;
}

/* Release what the walk w allocated (not its cursor). */
static void
walk_end(struct walk *w)
{
	free(w->d.data);
	free(w->bulk);
}

/*
 * The next ticket of the walk: its uuid in *pk and its stored text in
 * *d (valid until the next step).  0, DB_NOTFOUND at the end of the
 * range, or Berkeley DB's error.
 */
static int
walk_next(struct walk *w, const DBT **pk, const DBT **d)
{
	DBC *c = w->c;
	const struct plan *p = w->p;
	void *kp, *dp;
	size_t kl, dl;
	int rc;

	*pk = &w->pk;
	*d = &w->d;
	if (!w->covering) {
		rc = w->started ? c->pget(c, &w->k, &w->pk, &w->d, w->desc ?
		    DB_PREV : DB_NEXT) : list_first(c, p, w->desc, &w->k,
		    &w->pk, &w->d);
		w->started = true;
		if (rc == 0 && (w->k.size < p->plen ||
		    memcmp(w->kbuf, p->prefix, p->plen) != 0))
			rc = DB_NOTFOUND;	/* past the prefix */
		return rc;
	}
	if (!w->desc) {
		/* Oldest first: t_recent backwards. */
		rc = c->get(c, &w->k, &w->d, w->started ? DB_PREV : DB_LAST);
		w->started = true;
		if (rc == 0 && w->k.size != RECENT_KEY_LEN)
			rc = EINVAL;	/* not a key t_recent is written with */
		if (rc == 0)
			store_recent_uuid(w->kbuf, w->pkbuf);
		return rc;
	}
	for (;;) {
		if (w->bp != NULL) {
			DB_MULTIPLE_KEY_NEXT(w->bp, &w->b, kp, kl, dp, dl);
			if (w->bp != NULL) {
				if (kl != RECENT_KEY_LEN)
					return EINVAL;
				store_recent_uuid(kp, w->pkbuf);
				w->one.data = dp;
				w->one.size = (u_int32_t)dl;
				*d = &w->one;
				return 0;
			}
		}
		if (w->bulk == NULL && (w->bulk = malloc(w->bulk_cap)) == NULL)
			return ENOMEM;
		memset(&w->b, 0, sizeof(w->b));
		w->b.data = w->bulk;
		w->b.ulen = (u_int32_t)w->bulk_cap;
		w->b.flags = DB_DBT_USERMEM;
		rc = c->get(c, &w->k, &w->b, (w->started ? DB_NEXT : DB_FIRST) |
		    DB_MULTIPLE_KEY);
		if (rc == DB_BUFFER_SMALL) {
			/* One entry larger than the buffer: grow it. */
			if (!store_bulk_grow(&w->bulk, &w->bulk_cap, w->b.size))
				return ENOMEM;
			continue;
		}
		if (rc != 0)
			return rc;
		w->started = true;
		DB_MULTIPLE_INIT(w->bp, &w->b);
	}
}

/*
 * The page of the list the query asks for, as the reader sees it: walks
 * the plan's index (list_first), keeps the page's tickets (all matches,
 * when they are to be sorted), closes the cursor, then appends each
 * ticket's API text to one buffer.  a->out becomes {"count", "results"}
 * (results a raw object: no json-c object for each ticket).  Errors:
 * SUP_ENOTFOUND for a page past the end, SUP_EDB, SUP_ENOMEM; the store's
 * retry on deadlock runs it again from the start.
 *
 * The tickets before the page are read without their records when no
 * filter needs them (DB_DBT_PARTIAL of 0 bytes): through an associated
 * index Berkeley DB still looks each one up in the primary (a read
 * through one always does), but copies nothing.  Activity order, newest
 * first, reads t_recent in bulk instead: copying a record is cheaper
 * than a step of a cursor.
 */
static sup_err
list_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct list_args *a = arg;
	const struct ticket_query *q = &a->q;
	struct plan p;
	struct walk w;
	DB *idx;
	DBC *c = NULL;
	const DBT *pk, *d;
	struct hit *hits = NULL;
	struct sbuf recs = { 0 }, rb = { 0 };
	size_t nhits = 0;
	unsigned want = filter_want(q);
	int64_t count = 0, matched = 0, first = (q->page - 1) * q->page_size;
	bool desc, skip;
	struct view v;
	sup_err e = SUP_OK;
	int rc;

	json_object_put(a->out);
	a->out = NULL;
	plan_list(q, &p);
	desc = q->desc && !p.sort;
	idx = ticket_index_db(s, p.idx);
	if (p.counted && (e = plan_count(s, txn, &p, &count)) != SUP_OK)
		return e;
	/* Known to be past the end: no need to walk there. */
	if (p.counted && q->page > 1 && first >= count)
		return SUP_ENOTFOUND;
	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	/* A page's texts, about 1 KB each: room once, not six times. */
	if (!p.sort && (recs.p = malloc((size_t)q->page_size * 1024)) != NULL)
		recs.cap = (size_t)q->page_size * 1024;
	walk_init(&w, idx, c, &p, desc, p.counted && !p.need_match ?
	    first + q->page_size : 0);
	skip = !p.need_match && !p.sort && first > 0;
	if (skip)
		w.d.flags |= DB_DBT_PARTIAL;	/* dlen 0: nothing copied */
	while ((rc = walk_next(&w, &pk, &d)) == 0) {
		struct record_filter f = { .number = 0 };
		struct record_ticket t;
		bool decoded = false;
		/*
		 * The fields are read only to sort, or to filter; a record
		 * whose text the codec cannot read by position is decoded.
		 */
		if ((p.sort || p.need_match) && !record_ticket_filter(d->data,
		    d->size, want, &f)) {
			if ((e = record_ticket_decode(d->data, d->size, &t)) !=
			    SUP_OK) {
				record_ticket_clear(&t);
				break;
			}
			decoded = true;
			record_filter_of(&t, &f);
		}
		if (!p.need_match || list_match(q, &f)) {
			if ((p.sort || (matched >= first &&
			    matched < first + q->page_size)) &&
			    (e = hit_add(&hits, &nhits, &recs, pk, d, &f)) !=
			    SUP_OK) {
				if (decoded)
					record_ticket_clear(&t);
				break;
			}
			matched++;
		}
		if (decoded)
			record_ticket_clear(&t);
		/* The count is known: stop when the page is full. */
		if (p.counted && !p.sort &&
		    matched >= first + q->page_size)
			break;
		/* The page starts with the next ticket: read it whole. */
		if (skip && matched == first) {
			skip = false;
			w.d.flags &= ~(u_int32_t)DB_DBT_PARTIAL;
		}
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "list");
	c->close(c);
	walk_end(&w);
	if (e == SUP_OK && recs.failed)
		e = SUP_ENOMEM;
	if (e != SUP_OK)
		goto out;
	if (!p.counted)
		count = matched;

	size_t from = 0, to = nhits;
	if (p.sort) {
		/* No hits: hits may be NULL, which qsort must not get. */
		if (nhits > 1)
			qsort(hits, nhits, sizeof(*hits), q->order ==
			    ORDER_PRIORITY ? hit_by_priority : hit_by_number);
		if (q->desc)
			for (size_t i = 0; i < nhits / 2; i++) {
				struct hit x = hits[i];
				hits[i] = hits[nhits - 1 - i];
				hits[nhits - 1 - i] = x;
			}
		from = (size_t)first < nhits ? (size_t)first : nhits;
		to = from + (size_t)q->page_size < nhits ?
		    from + (size_t)q->page_size : nhits;
	}
	if (q->page > 1 && first >= count) {
		e = SUP_ENOTFOUND;
		goto out;
	}
	/*
	 * The results as one text.  Its room at once: the records and about
	 * as much again for the users and last messages spliced in (without
	 * it the buffer grew and was copied six times for a page of 20).
	 */
	size_t room = 2;
	for (size_t i = from; i < to; i++)
		room += 2 * hits[i].len + 1;
	if ((rb.p = malloc(room)) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	rb.cap = room;
	sbuf_add(&rb, "[", 1);
	view_begin(&v, s, txn, a->u);
	for (size_t i = from; i < to && e == SUP_OK; i++) {
		if (i > from)
			sbuf_add(&rb, ",", 1);
		e = view_ticket_list_add(&v, hits[i].uuid,
		    recs.p + hits[i].off, hits[i].len, &rb);
	}
	view_end(&v);
	sbuf_add(&rb, "]", 1);
	if (e != SUP_OK)
		goto out;
	e = results_object(&a->out, "count", count, &rb);
out:
	free(rb.p);
	free(recs.p);
	free(hits);
	return e;
}

/* Last activity, then number: a search's default order. */
static int
hit_by_updated(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	return x->updated != y->updated ? (x->updated > y->updated) -
	    (x->updated < y->updated) : hit_by_number(a, b);
}

/* Add ticket number n to the list *u (n of them), when it is there and
 * not listed yet: a query of digits names it as well as its word. */
static sup_err
number_add(struct store *s, DB_TXN *txn, int64_t number, uint8_t **u,
    size_t *n)
{
	uint8_t kb[8], pkb[UUID_LEN], *x;
	DBT k = { .data = kb, .size = sizeof(kb) };
	DBT pk = { .data = pkb, .ulen = sizeof(pkb), .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };	/* nothing copied */
	DB *idx = ticket_db(s, TDB_NUMBER);
	int rc;

	be64_put(kb, (uint64_t)number);
	rc = idx->pget(idx, txn, &k, &pk, &d, 0);
	if (rc == DB_NOTFOUND)
		return SUP_OK;
	if (rc != 0)
		return store_err(rc, "ticket number");
	if (pk.size != UUID_LEN)
		return SUP_EDB;
	for (size_t i = 0; i < *n; i++)
		if (memcmp(*u + i * UUID_LEN, pkb, UUID_LEN) == 0)
			return SUP_OK;
	if ((x = realloc(*u, (*n + 1) * UUID_LEN)) == NULL)
		return SUP_ENOMEM;
	memcpy(x + *n * UUID_LEN, pkb, UUID_LEN);
	*u = x;
	(*n)++;
	return SUP_OK;
}

/*
 * Append ticket i's snippet to its API text, the last object of rb (its
 * closing brace is taken off and put back after "snippet").
 */
static sup_err
snippet_add(struct store *s, DB_TXN *txn, const struct list_args *a,
    const struct hit *h, const char *rec, struct sbuf *rb)
{
	struct record_filter f;
	struct record_ticket t;
	bool decoded = false;
	sup_err e;

	if (rb->failed || rb->len == 0 || rb->p[rb->len - 1] != '}')
		return rb->failed ? SUP_ENOMEM : SUP_EDB;
	if (!record_ticket_filter(rec, h->len, RF_SUBJECT, &f) ||
	    f.subject == NULL) {
		if ((e = record_ticket_decode(rec, h->len, &t)) != SUP_OK) {
			record_ticket_clear(&t);
			return e;
		}
		decoded = true;
		record_filter_of(&t, &f);
	}
	rb->len--;
	sbuf_lit(rb, ",\"snippet\":");
	e = search_snippet(s, txn, a->sq, h->uuid, user_is_staff(a->u),
	    f.subject != NULL ? f.subject : "", f.subject_len, rb);
	sbuf_lit(rb, "}");
	if (decoded)
		record_ticket_clear(&t);
	return e == SUP_OK && rb->failed ? SUP_ENOMEM : e;
}

/*
 * The list's page of a search (q with words: lib/desk/textsearch.h): the
 * tickets the index finds, each read and checked against the list's
 * other filters, sorted in the order asked (last activity by default)
 * and paged as the list is; each with its "snippet".  a->out is
 * {"count", "results", "search_truncated"}: truncated when the search
 * looked at SEARCH_SCAN_MAX postings and there were more (count is then
 * what it found among them).
 */
static sup_err
search_list_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct list_args *a = arg;
	struct ticket_query mq = a->q;
	DB *tickets = ticket_db(s, TDB_TICKETS);
	DBT d = { .flags = DB_DBT_REALLOC };
	uint8_t *uuids = NULL;
	size_t nu = 0, nhits = 0;
	struct hit *hits = NULL;
	struct sbuf recs = { 0 }, rb = { 0 };
	int64_t first = (mq.page - 1) * mq.page_size;
	bool truncated;
	unsigned want;
	struct view v;
	sup_err e;
	int rc;

	json_object_put(a->out);
	a->out = NULL;
	mq.q = NULL;		/* the words are the index's */
	mq.q_len = 0;
	want = filter_want(&mq);
	if ((e = search_find(s, txn, a->sq, user_is_staff(a->u), mq.has_user,
	    mq.user, &uuids, &nu, &truncated)) != SUP_OK)
		return e;
	if (search_number(a->sq) > 0 && (e = number_add(s, txn,
	    search_number(a->sq), &uuids, &nu)) != SUP_OK)
		goto out;
	for (size_t i = 0; i < nu; i++) {
		DBT k = { .data = uuids + i * UUID_LEN, .size = UUID_LEN };
		struct record_filter f;
		struct record_keys rk;
		struct record_ticket t;
		bool decoded = false, nomem = false;

		rc = tickets->get(tickets, txn, &k, &d, 0);
		if (rc == DB_NOTFOUND)
			continue;
		if (rc != 0) {
			e = store_err(rc, "search list");
			goto out;
		}
		if (!record_ticket_keys(d.data, d.size, &rk, &nomem)) {
			e = nomem ? SUP_ENOMEM : SUP_EDB;
			goto out;
		}
		if (!record_ticket_filter(d.data, d.size, want, &f)) {
			if ((e = record_ticket_decode(d.data, d.size, &t)) !=
			    SUP_OK) {
				record_ticket_clear(&t);
				goto out;
			}
			decoded = true;
			record_filter_of(&t, &f);
		}
		if (list_match(&mq, &f) && (e = hit_add(&hits, &nhits, &recs,
		    &k, &d, &f)) == SUP_OK)
			hits[nhits - 1].updated = rk.updated_us;
		if (decoded)
			record_ticket_clear(&t);
		if (e != SUP_OK)
			goto out;
	}
	if (nhits > 1)
		qsort(hits, nhits, sizeof(*hits), mq.order == ORDER_UPDATED ?
		    hit_by_updated : mq.order == ORDER_PRIORITY ?
		    hit_by_priority : hit_by_number);
	if (mq.desc)
		for (size_t i = 0; i < nhits / 2; i++) {
			struct hit x = hits[i];
			hits[i] = hits[nhits - 1 - i];
			hits[nhits - 1 - i] = x;
		}
	if (mq.page > 1 && first >= (int64_t)nhits) {
		e = SUP_ENOTFOUND;
		goto out;
	}
	size_t from = (size_t)first < nhits ? (size_t)first : nhits;
	size_t to = from + (size_t)mq.page_size < nhits ?
	    from + (size_t)mq.page_size : nhits;
	sbuf_add(&rb, "[", 1);
	view_begin(&v, s, txn, a->u);
	for (size_t i = from; i < to && e == SUP_OK; i++) {
		if (i > from)
			sbuf_add(&rb, ",", 1);
		e = view_ticket_list_add(&v, hits[i].uuid,
		    recs.p + hits[i].off, hits[i].len, &rb);
		if (e == SUP_OK)
			e = snippet_add(s, txn, a, &hits[i],
			    recs.p + hits[i].off, &rb);
	}
	view_end(&v);
	sbuf_add(&rb, "]", 1);
	if (e == SUP_OK && rb.failed)
		e = SUP_ENOMEM;
	if (e == SUP_OK)
		e = results_object(&a->out, "count", (int64_t)nhits, &rb);
	if (e == SUP_OK && !json_set(a->out, "search_truncated",
	    json_object_new_boolean(truncated)))
		e = SUP_ENOMEM;
out:
	free(rb.p);
	free(recs.p);
	free(hits);
	free(uuids);
	free(d.data);
	return e;
}

sup_err
ticket_list(struct store *s, const struct sup_user *u,
    const struct ticket_query *q, json_object **out)
{
	struct list_args a = { .u = u, .q = *q };
	sup_err e;

	if (!user_is_staff(u)) {
		a.q.has_user = true;
		a.q.user = u->id;
	}
	/* Words go to the index; "#123" stays the list's own filter. */
	if (q->q == NULL || search_is_number_only(q->q, q->q_len))
		return store_run_json(s, STORE_READ, list_txn, &a, &a.out,
		    out);
	if ((e = search_parse(q->q, q->q_len, &a.sq)) != SUP_OK)
		return e;
	e = store_run_json(s, STORE_READ, search_list_txn, &a, &a.out, out);
	search_query_free(a.sq);
	return e;
}

struct counts_args {
	const struct ticket_query *q;
	size_t n;
	int64_t *counts;
	struct plan *plans;
};

/*
 * store_tcount_each's fn: add an entry of t_counts to the count of each
 * plan whose statuses and assignee it is of.
 */
static void
counts_add(void *ctx, int status, uint32_t assignee, int64_t n)
{
	struct counts_args *a = ctx;

	if (status < 0 || status >= ST_MAX)
		return;
	for (size_t i = 0; i < a->n; i++) {
		const struct plan *p = &a->plans[i];
		if ((p->count_mask & (1u << status)) &&
		    (!p->count_one || p->count_assignee == assignee))
			a->counts[i] += n;
	}
}

/*
 * The counts of ticket_counts, in one read transaction: a counter of
 * counters.db each for the plans that have one, and one walk of t_counts
 * for all those of statuses (rather than a range or an entry a status
 * and a plan: the sidebar has seven).
 */
static sup_err
counts_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct counts_args *a = arg;
	bool walk = false;
	sup_err e;

	for (size_t i = 0; i < a->n; i++) {
		struct plan *p = &a->plans[i];
		plan_list(&a->q[i], p);
		a->counts[i] = p->counted ? 0 : -1;
		if (p->counter[0] != '\0' && (e = store_count_get(s, txn,
		    p->counter, &a->counts[i])) != SUP_OK)
			return e;
		walk |= p->count_mask != 0;
	}
	return walk ? store_tcount_each(s, txn, counts_add, a) : SUP_OK;
}

sup_err
ticket_counts(struct store *s, const struct sup_user *u,
    const struct ticket_query *q, size_t n, int64_t *counts)
{
	struct counts_args a = { q, n, counts, NULL };
	sup_err e;

	for (size_t i = 0; i < n; i++)
		counts[i] = -1;
	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	if (n == 0)
		return SUP_OK;
	if ((a.plans = calloc(n, sizeof(*a.plans))) == NULL)
		return SUP_ENOMEM;
	e = store_run(s, STORE_READ, counts_txn, &a);
	free(a.plans);
	return e;
}
