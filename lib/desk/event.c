/*
 * event.c - the change-event log (event.h).
 *
 * events.db      seq(8, big-endian)      -> the event's JSON text
 * event_pos.db   consumer name (text)    -> seq(8): the last one handled
 *
 * The next number is the last key plus one, read with a write lock on
 * the log's last page: an appending transaction holds it until it
 * commits, so numbers are given in commit order and an aborted
 * transaction leaves no hole.  A consumer that has read up to N has then
 * seen every event that will ever be numbered N or less, which is what
 * lets it keep only a number as its position.  (A DB_SEQUENCE would let
 * a later number commit first.)  The lock makes appends one at a time;
 * it is held from the append to the commit, which store_run makes
 * without waiting for the disk, so overlapping writers still share their
 * log flushes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "areas.h"
#include "event.h"
#include "jtext.h"

enum event_db { EDB_EVENTS, EDB_POS, EVENT_NDB };

static inline DB *
events_db(const struct store *s)
{
	return store_db(s, AREA_EVENT, EDB_EVENTS);
}

static inline DB *
pos_db(const struct store *s)
{
	return store_db(s, AREA_EVENT, EDB_POS);
}

#define SEQ_LEN 8
#define DAY_US (86400LL * 1000000)

const char *const event_type_names[EV_MAX] = {
	[EV_TICKET_CREATED] = "ticket.created",
	[EV_TICKET_UPDATED] = "ticket.updated",
	[EV_MESSAGE_POSTED] = "message.posted",
	[EV_NOTE_ADDED] = "note.added",
	[EV_USER_CREATED] = "user.created",
	[EV_USER_CHANGED] = "user.changed",
	[EV_USER_DISABLED] = "user.disabled",
	[EV_USER_ENABLED] = "user.enabled",
	[EV_TOKEN_CREATED] = "token.created",
	[EV_TOKEN_REVOKED] = "token.revoked",
	[EV_LOGIN_SUCCEEDED] = "login.succeeded",
	[EV_LOGIN_FAILED] = "login.failed",
	[EV_CANNED_CREATED] = "canned.created",
	[EV_CANNED_UPDATED] = "canned.updated",
	[EV_CANNED_DELETED] = "canned.deleted",
	[EV_SESSIONS_REVOKED] = "sessions.revoked",
	[EV_MESSAGE_EDITED] = "message.edited",
	[EV_MESSAGE_DELETED] = "message.deleted",
	[EV_TICKET_RATED] = "ticket.rated",
	[EV_TICKET_REMINDER_DUE] = "ticket.reminder_due",
	[EV_TICKET_ESCALATED] = "ticket.escalated",
};

int
event_type_from(const char *name, size_t len)
{
	for (int i = 0; i < EV_MAX; i++)
		if (strlen(event_type_names[i]) == len &&
		    memcmp(event_type_names[i], name, len) == 0)
			return i;
	return -1;
}

/* --- Where from -------------------------------------------------------- */

/* The area's per-process slot: the origin of the current request. */
struct event_cache {
	bool set;
	char addr[EVENT_ADDR_MAX + 1];
};

static void *
event_cache_new(void)
{
	return calloc(1, sizeof(struct event_cache));
}

static void
event_cache_free(void *cache)
{
	free(cache);
}

void
event_origin(struct store *s, const char *addr)
{
	struct event_cache **c = (struct event_cache **)store_cache(s,
	    AREA_EVENT);
	size_t n;

	if (*c == NULL && (addr == NULL || (*c = event_cache_new()) == NULL))
		return;		/* no room: the events go without it */
	(*c)->set = addr != NULL && *addr != '\0';
	if (!(*c)->set)
		return;
	n = strlen(addr);
	if (n > EVENT_ADDR_MAX)
		n = EVENT_ADDR_MAX;
	memcpy((*c)->addr, addr, n);
	(*c)->addr[n] = '\0';
}

/* The address an event of this process comes from, or NULL. */
static const char *
origin_of(struct store *s, const struct event *ev)
{
	const struct event_cache *c = *store_cache(s, AREA_EVENT);

	if (ev->addr != NULL)
		return ev->addr;
	return c != NULL && c->set ? c->addr : NULL;
}

/* --- Building an event ----------------------------------------------- */

void
event_init(struct event *ev, enum event_type type, uint32_t actor)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->actor = actor;
}

void
event_free(struct event *ev)
{
	free(ev->changes.p);
	free(ev->data.p);
	free((char *)ev->text);
	memset(ev, 0, sizeof(*ev));
}

/* Start member name of *obj's text (a comma before all but the first). */
static void
member(struct sbuf *obj, const char *name)
{
	if (obj->len > 0)
		sbuf_add(obj, ",", 1);
	jt_put_string(obj, name, strlen(name));
	sbuf_add(obj, ":", 1);
}

/* v's JSON text (null for NULL), v released; false when out of memory. */
static bool
put_json(struct sbuf *b, json_object *v)
{
	const char *t;
	size_t n;

	if (v == NULL) {
		sbuf_add(b, "null", 4);
		return true;
	}
	t = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &n);
	if (t != NULL)
		sbuf_add(b, t, n);
	json_object_put(v);
	return t != NULL;
}

/* s[0..n) as a JSON string, or null when s is NULL. */
static void
put_str(struct sbuf *b, const char *s, size_t n)
{
	if (s == NULL)
		sbuf_add(b, "null", 4);
	else
		jt_put_string(b, s, n);
}

sup_err
event_change(struct event *ev, const char *field, json_object *from,
    json_object *to)
{
	bool ok;

	member(&ev->changes, field);
	sbuf_add(&ev->changes, "[", 1);
	ok = put_json(&ev->changes, from);
	sbuf_add(&ev->changes, ",", 1);
	ok &= put_json(&ev->changes, to);
	sbuf_add(&ev->changes, "]", 1);
	return ok && !ev->changes.failed ? SUP_OK : SUP_ENOMEM;
}

sup_err
event_change_str(struct event *ev, const char *field, const char *from,
    size_t from_len, const char *to, size_t to_len)
{
	member(&ev->changes, field);
	sbuf_add(&ev->changes, "[", 1);
	put_str(&ev->changes, from, from_len);
	sbuf_add(&ev->changes, ",", 1);
	put_str(&ev->changes, to, to_len);
	sbuf_add(&ev->changes, "]", 1);
	return ev->changes.failed ? SUP_ENOMEM : SUP_OK;
}

sup_err
event_change_int(struct event *ev, const char *field, int64_t from,
    int64_t to, int64_t null)
{
	member(&ev->changes, field);
	sbuf_add(&ev->changes, "[", 1);
	if (from == null)
		sbuf_add(&ev->changes, "null", 4);
	else
		sbuf_add_int(&ev->changes, from);
	sbuf_add(&ev->changes, ",", 1);
	if (to == null)
		sbuf_add(&ev->changes, "null", 4);
	else
		sbuf_add_int(&ev->changes, to);
	sbuf_add(&ev->changes, "]", 1);
	return ev->changes.failed ? SUP_ENOMEM : SUP_OK;
}

sup_err
event_data(struct event *ev, const char *name, json_object *v)
{
	bool ok;

	member(&ev->data, name);
	ok = put_json(&ev->data, v);
	return ok && !ev->data.failed ? SUP_OK : SUP_ENOMEM;
}

sup_err
event_data_str(struct event *ev, const char *name, const char *s, size_t n)
{
	member(&ev->data, name);
	jt_put_string(&ev->data, s, n);
	return ev->data.failed ? SUP_ENOMEM : SUP_OK;
}

sup_err
event_data_cstr(struct event *ev, const char *name, const char *s)
{
	return event_data_str(ev, name, s, strlen(s));
}

sup_err
event_data_bool(struct event *ev, const char *name, bool v)
{
	member(&ev->data, name);
	sbuf_adds(&ev->data, v ? "true" : "false");
	return ev->data.failed ? SUP_ENOMEM : SUP_OK;
}

sup_err
event_data_int(struct event *ev, const char *name, int64_t v)
{
	member(&ev->data, name);
	sbuf_add_int(&ev->data, v);
	return ev->data.failed ? SUP_ENOMEM : SUP_OK;
}

/*
 * The event as stored: its members in a fixed order, so that the text of
 * an event is the same whoever wrote it, and "at" always the third (trim
 * finds it there).  New string (free()) in *out.
 */
static sup_err
event_text(const struct event *ev, const char *addr,
    const uint8_t id[UUID_LEN], char **out, size_t *len)
{
	char uuid[UUID_STRLEN + 1], at[TIME_STRLEN + 1];
	struct sbuf b = { 0 };

	*out = NULL;
	uuid_format(id, uuid);
	time_format(ev->at_us, at);
	sbuf_printf(&b, "{\"seq\":%" PRId64 ",\"id\":\"%s\",\"at\":\"%s\","
	    "\"type\":\"%s\",\"actor\":", ev->seq, uuid, at,
	    event_type_names[ev->type]);
	if (ev->actor == 0)
		sbuf_add(&b, "null", 4);
	else
		sbuf_add_int(&b, ev->actor);
	if (ev->ticket != NULL) {
		uuid_format(ev->ticket, uuid);
		sbuf_add(&b, ",\"ticket\":\"", 11);
		sbuf_add(&b, uuid, UUID_STRLEN);
		sbuf_add(&b, "\"", 1);
	}
	if (ev->message != NULL) {
		uuid_format(ev->message, uuid);
		sbuf_add(&b, ",\"message\":\"", 12);
		sbuf_add(&b, uuid, UUID_STRLEN);
		sbuf_add(&b, "\"", 1);
	}
	if (ev->user != 0) {
		sbuf_add(&b, ",\"user\":", 8);
		sbuf_add_int(&b, ev->user);
	}
	if (addr != NULL) {
		sbuf_add(&b, ",\"addr\":", 8);
		jt_put_string(&b, addr, strlen(addr));
	}
	if (ev->changes.len > 0) {
		sbuf_add(&b, ",\"changes\":{", 12);
		sbuf_add(&b, ev->changes.p, ev->changes.len);
		sbuf_add(&b, "}", 1);
	}
	if (ev->data.len > 0) {
		sbuf_add(&b, ",\"data\":{", 9);
		sbuf_add(&b, ev->data.p, ev->data.len);
		sbuf_add(&b, "}", 1);
	}
	sbuf_add(&b, "}", 1);
	if (b.failed || ev->changes.failed || ev->data.failed) {
		free(b.p);
		return SUP_ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return SUP_OK;
}

/* --- Appending ------------------------------------------------------- */

/*
 * The number after the last event, inside txn, with the log's last page
 * write-locked until txn ends (the file's header says why).
 */
static sup_err
next_seq(struct store *s, DB_TXN *txn, int64_t *seq)
{
	DBC *cur;
	DBT k = { .flags = DB_DBT_USERMEM }, d = { .flags = DB_DBT_PARTIAL };
	uint8_t key[SEQ_LEN];
	int rc, rc2;

	k.data = key;
	k.ulen = sizeof(key);
	if ((rc = events_db(s)->cursor(events_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "events cursor");
	rc = cur->get(cur, &k, &d, DB_LAST | DB_RMW);
	if (rc == 0 && k.size == SEQ_LEN)
		*seq = (int64_t)be64_get(key) + 1;
	else if (rc == DB_NOTFOUND) {
		*seq = 1;
		rc = 0;
	} else if (rc == 0)
		rc = EINVAL;	/* a key that is not a number */
	rc2 = cur->close(cur);
	return store_err(rc != 0 ? rc : rc2, "events last");
}

sup_err
event_append(struct store *s, DB_TXN *txn, struct event *ev)
{
	uint8_t key[SEQ_LEN], id[UUID_LEN];
	DBT k = { .data = key, .size = SEQ_LEN }, d = { 0 };
	char *text;
	size_t len;
	sup_err e;
	int rc;

	free((char *)ev->text);
	ev->text = NULL;
	if ((e = next_seq(s, txn, &ev->seq)) != SUP_OK)
		return e;
	/* A change may stamp its event with its own time (the ticket's). */
	if (ev->at_us == 0)
		ev->at_us = time_now_us();
	uuid_gen_time(id, ev->at_us);
	if ((e = event_text(ev, origin_of(s, ev), id, &text, &len)) !=
	    SUP_OK)
		return e;
	ev->text = text;
	ev->len = len;
	be64_put(key, (uint64_t)ev->seq);
	d.data = text;
	d.size = (u_int32_t)len;
	if ((rc = events_db(s)->put(events_db(s), txn, &k, &d, DB_NOOVERWRITE)) != 0)
		return store_err(rc, "events put");
	for (size_t a = 0; a < s->nareas; a++) {
		const struct event_subscriber *const *sub =
		    s->areas[a]->subscribers;
		for (; sub != NULL && *sub != NULL; sub++)
			if ((e = (*sub)->fn(s, txn, ev)) != SUP_OK)
				return e;
	}
	return SUP_OK;
}

sup_err
event_finish(struct store *s, DB_TXN *txn, struct event *ev, sup_err e)
{
	if (e == SUP_OK)
		e = event_append(s, txn, ev);
	event_free(ev);
	return e;
}

/* --- Reading --------------------------------------------------------- */

/* The number of the last event inside txn (0: none). */
static sup_err
last_seq(struct store *s, DB_TXN *txn, int64_t *seq)
{
	DBC *cur;
	DBT k = { 0 }, d = { .flags = DB_DBT_PARTIAL };
	int rc, rc2;

	*seq = 0;
	if ((rc = events_db(s)->cursor(events_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "events cursor");
	rc = cur->get(cur, &k, &d, DB_LAST);
	if (rc == 0 && k.size == SEQ_LEN)
		*seq = (int64_t)be64_get(k.data);
	else if (rc == DB_NOTFOUND)
		rc = 0;
	rc2 = cur->close(cur);
	return store_err(rc != 0 ? rc : rc2, "events last");
}

static sup_err
last_txn(struct store *s, DB_TXN *txn, void *arg)
{
	return last_seq(s, txn, arg);
}

sup_err
event_last(struct store *s, int64_t *seq)
{
	return store_run(s, STORE_READ, last_txn, seq);
}

struct read_args {
	int64_t from;
	long max;
	sup_err (*fn)(void *ctx, int64_t seq, const char *text, size_t len);
	void *ctx;
	int64_t next;
};

static sup_err
read_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct read_args *a = arg;
	uint8_t key[SEQ_LEN];
	DBT k = { 0 }, d = { 0 };
	DBC *cur;
	long n = 0;
	sup_err e = SUP_OK;
	int rc, rc2;

	a->next = a->from;
	be64_put(key, (uint64_t)(a->from > 0 ? a->from : 0));
	k.data = key;
	k.size = SEQ_LEN;
	if ((rc = events_db(s)->cursor(events_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "events cursor");
	for (rc = cur->get(cur, &k, &d, DB_SET_RANGE); rc == 0 &&
	    (a->max == 0 || n < a->max); rc = cur->get(cur, &k, &d, DB_NEXT)) {
		int64_t seq;

		if (k.size != SEQ_LEN)
			continue;
		seq = (int64_t)be64_get(k.data);
		if ((e = a->fn(a->ctx, seq, d.data, d.size)) != SUP_OK)
			break;
		a->next = seq + 1;
		n++;
	}
	rc2 = cur->close(cur);
	if (e != SUP_OK)
		return e;
	if (rc == DB_NOTFOUND)
		rc = 0;
	return store_err(rc != 0 ? rc : rc2, "events read");
}

sup_err
event_read(struct store *s, int64_t from, long max,
    sup_err (*fn)(void *ctx, int64_t seq, const char *text, size_t len),
    void *ctx, int64_t *next)
{
	struct read_args a = { .from = from, .max = max, .fn = fn, .ctx = ctx };
	sup_err e;

	e = store_run(s, STORE_READ, read_txn, &a);
	if (next != NULL)
		*next = a.next;
	return e;
}

/* --- Consumers ------------------------------------------------------- */

/* Write consumer's position inside txn. */
static sup_err
pos_put(struct store *s, DB_TXN *txn, const char *consumer, int64_t seq)
{
	uint8_t buf[SEQ_LEN];
	DBT k = { .data = (void *)consumer, .size = (u_int32_t)strlen(consumer) };
	DBT d = { .data = buf, .size = SEQ_LEN };

	be64_put(buf, (uint64_t)seq);
	return store_err(pos_db(s)->put(pos_db(s), txn, &k, &d, 0),
	    "event_pos put");
}

/*
 * The position of consumer (0: none yet).  With lock, its record stays
 * write-locked until txn ends, so that two runs of one consumer never
 * hand over the same events, and is made when absent: the consumer is
 * then known to event_trim.
 */
static sup_err
pos_get(struct store *s, DB_TXN *txn, const char *consumer, bool lock,
    int64_t *seq)
{
	uint8_t buf[SEQ_LEN];
	DBT k = { .data = (void *)consumer, .size = (u_int32_t)strlen(consumer) };
	DBT d = { .data = buf, .ulen = SEQ_LEN, .flags = DB_DBT_USERMEM };
	int rc;

	*seq = 0;
	rc = pos_db(s)->get(pos_db(s), txn, &k, &d, lock ? DB_RMW : 0);
	if (rc == DB_NOTFOUND)
		return lock ? pos_put(s, txn, consumer, 0) : SUP_OK;
	if (rc != 0)
		return store_err(rc, "event_pos get");
	if (d.size == SEQ_LEN)
		*seq = (int64_t)be64_get(buf);
	return SUP_OK;
}

static bool
consumer_ok(const char *consumer)
{
	size_t n = consumer != NULL ? strlen(consumer) : 0;

	return n > 0 && n <= EVENT_CONSUMER_MAX;
}

struct pos_args {
	const char *consumer;
	int64_t seq;
};

static sup_err
pos_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct pos_args *a = arg;

	return pos_get(s, txn, a->consumer, false, &a->seq);
}

sup_err
event_position(struct store *s, const char *consumer, int64_t *seq)
{
	struct pos_args a = { .consumer = consumer };
	sup_err e;

	*seq = 0;
	if (!consumer_ok(consumer))
		return SUP_EINVAL;
	if ((e = store_run(s, STORE_READ, pos_txn, &a)) == SUP_OK)
		*seq = a.seq;
	return e;
}

struct consume_args {
	const char *consumer;
	long max;
	sup_err (*fn)(struct store *s, DB_TXN *txn, void *ctx, int64_t seq,
	    const char *text, size_t len);
	void *ctx;
	long handled;
};

static sup_err
consume_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct consume_args *a = arg;
	uint8_t key[SEQ_LEN];
	DBT k = { 0 }, d = { 0 };
	DBC *cur;
	int64_t pos, last;
	sup_err e;
	int rc, rc2;

	a->handled = 0;
	/* The position first, write-locked: one batch of a consumer at once. */
	if ((e = pos_get(s, txn, a->consumer, true, &pos)) != SUP_OK)
		return e;
	last = pos;
	be64_put(key, (uint64_t)pos + 1);
	k.data = key;
	k.size = SEQ_LEN;
	if ((rc = events_db(s)->cursor(events_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "events cursor");
	for (rc = cur->get(cur, &k, &d, DB_SET_RANGE); rc == 0 &&
	    a->handled < a->max; rc = cur->get(cur, &k, &d, DB_NEXT)) {
		if (k.size != SEQ_LEN)
			continue;
		last = (int64_t)be64_get(k.data);
		if ((e = a->fn(s, txn, a->ctx, last, d.data, d.size)) !=
		    SUP_OK)
			break;
		a->handled++;
	}
	rc2 = cur->close(cur);
	if (e != SUP_OK)
		return e;
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "events read");
	if (rc2 != 0)
		return store_err(rc2, "events cursor close");
	return last == pos ? SUP_OK : pos_put(s, txn, a->consumer, last);
}

sup_err
event_consume(struct store *s, const char *consumer, long max,
    sup_err (*fn)(struct store *s, DB_TXN *txn, void *ctx, int64_t seq,
    const char *text, size_t len), void *ctx, long *handled)
{
	struct consume_args a = { .consumer = consumer, .max = max, .fn = fn,
		.ctx = ctx };
	sup_err e;

	if (handled != NULL)
		*handled = 0;
	if (!consumer_ok(consumer) || max <= 0)
		return SUP_EINVAL;
	e = store_run(s, 0, consume_txn, &a);
	if (e == SUP_OK && handled != NULL)
		*handled = a.handled;
	return e;
}

/* --- Trimming -------------------------------------------------------- */

struct trim_args {
	int64_t before_us;	/* events older than this may go ... */
	int64_t upto;		/* ... up to this seq */
	long removed;		/* this batch */
};

/*
 * The least position of the consumers (INT64_MAX when none): those the
 * areas declare, whether they have run yet or not (a consumer that has
 * not is at 0 and holds everything), and any other that has run.
 */
static sup_err
least_position(struct store *s, DB_TXN *txn, int64_t *least)
{
	DBT k = { 0 }, d = { 0 };
	DBC *cur;
	sup_err e;
	int rc, rc2;

	*least = INT64_MAX;
	for (size_t a = 0; a < s->nareas; a++) {
		const char *const *name = s->areas[a]->consumers;
		for (; name != NULL && *name != NULL; name++) {
			int64_t pos;
			if ((e = pos_get(s, txn, *name, false, &pos)) != SUP_OK)
				return e;
			if (pos < *least)
				*least = pos;
		}
	}
	if ((rc = pos_db(s)->cursor(pos_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "event_pos cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0)
		if (d.size == SEQ_LEN && (int64_t)be64_get(d.data) < *least)
			*least = (int64_t)be64_get(d.data);
	rc2 = cur->close(cur);
	if (rc == DB_NOTFOUND)
		rc = 0;
	return store_err(rc != 0 ? rc : rc2, "event_pos read");
}

/* The "at" of an event's text, in µs; false when it has none. */
static bool
event_at(const DBT *d, int64_t *us)
{
	static const char tag[] = "\"at\":\"";
	const char *p = memmem(d->data, d->size, tag, sizeof(tag) - 1);
	char buf[TIME_STRLEN + 1];

	if (p == NULL || (size_t)(p - (char *)d->data) + sizeof(tag) - 1 +
	    TIME_STRLEN > d->size)
		return false;
	memcpy(buf, p + sizeof(tag) - 1, TIME_STRLEN);
	buf[TIME_STRLEN] = '\0';
	return time_parse(buf, us);
}

static sup_err
trim_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct trim_args *a = arg;
	DBT k = { 0 }, d = { 0 };
	DBC *cur;
	int64_t least, last;
	sup_err e;
	int rc, rc2;

	a->removed = 0;
	if ((e = least_position(s, txn, &least)) != SUP_OK ||
	    (e = last_seq(s, txn, &last)) != SUP_OK)
		return e;
	/* The newest event stays: the next number is counted from it. */
	a->upto = least < last ? least : last - 1;
	if ((rc = events_db(s)->cursor(events_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "events cursor");
	while (a->removed < EVENT_TRIM_BATCH &&
	    (rc = cur->get(cur, &k, &d, DB_NEXT | DB_RMW)) == 0) {
		int64_t at;

		if (k.size != SEQ_LEN || (int64_t)be64_get(k.data) > a->upto ||
		    !event_at(&d, &at) || at >= a->before_us)
			break;
		if ((rc = cur->del(cur, 0)) != 0)
			break;
		a->removed++;
	}
	rc2 = cur->close(cur);
	if (rc == DB_NOTFOUND)
		rc = 0;
	return store_err(rc != 0 ? rc : rc2, "events trim");
}

sup_err
event_trim(struct store *s, long retention_days, int64_t now_us, long max,
    long *removed)
{
	struct trim_args a = { .before_us = now_us - retention_days * DAY_US };
	long total = 0;
	sup_err e;

	do {
		if ((e = store_run(s, 0, trim_txn, &a)) != SUP_OK)
			break;
		total += a.removed;
	} while (a.removed == EVENT_TRIM_BATCH && (max == 0 || total < max));
	if (removed != NULL)
		*removed = total;
	return e;
}

/* --- Rewriting: retention and erasure --------------------------------- */

struct rewrite_args {
	bool passed_only;
	int64_t before_us;
	sup_err (*fn)(void *ctx, struct store *s, DB_TXN *txn,
	    json_object *ev, bool *changed);
	void *ctx;
	int64_t from;		/* the batch starts at this seq */
	int64_t next;		/* out: where the next one starts */
	long changed, held;	/* the batch's */
	bool done;
};

/* The seq, id, at and type of an event: what a rewrite must keep. */
static bool
same_frame(json_object *a, json_object *b)
{
	static const char *const keep[] = { "seq", "id", "at", "type" };
	json_object *x, *y;

	for (size_t i = 0; i < SUP_NELEM(keep); i++) {
		bool hx = json_object_object_get_ex(a, keep[i], &x);
		bool hy = json_object_object_get_ex(b, keep[i], &y);
		if (hx != hy || (hx && !json_object_equal(x, y)))
			return false;
	}
	return true;
}

/*
 * One batch of event_rewrite: from seq a->from on, EVENT_TRIM_BATCH
 * events, each handed to fn and stored again when it changed it.
 */
static sup_err
rewrite_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct rewrite_args *a = arg;
	uint8_t key[SEQ_LEN];
	DBT k = { .data = key, .size = SEQ_LEN, .ulen = SEQ_LEN,
	    .flags = DB_DBT_USERMEM }, d = { 0 };
	int64_t least = INT64_MAX, seq, at;
	long n = 0;
	sup_err e = SUP_OK;
	DBC *cur;
	int rc;

	a->changed = a->held = 0;
	a->done = false;
	a->next = a->from;
	if (a->passed_only && (e = least_position(s, txn, &least)) != SUP_OK)
		return e;
	if ((rc = events_db(s)->cursor(events_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "events cursor");
	be64_put(key, (uint64_t)a->from);
	for (rc = cur->get(cur, &k, &d, DB_SET_RANGE | DB_RMW); rc == 0;
	    rc = cur->get(cur, &k, &d, DB_NEXT | DB_RMW)) {
		json_object *ev = NULL, *was = NULL;
		bool changed = false;
		const char *text;
		size_t len;

		if (k.size != SEQ_LEN)
			continue;
		seq = (int64_t)be64_get(key);
		if (a->before_us != INT64_MAX && event_at(&d, &at) &&
		    at >= a->before_us) {
			a->done = true;
			goto out;
		}
		a->next = seq + 1;
		if (seq > least) {
			int64_t last;

			/* This one and every later one: left whole. */
			if ((e = last_seq(s, txn, &last)) != SUP_OK)
				goto out;
			a->held = (long)(last - seq + 1);
			a->done = true;
			goto out;
		}
		if ((e = store_parse(&d, &ev)) != SUP_OK ||
		    (e = store_parse(&d, &was)) != SUP_OK ||
		    (e = a->fn(a->ctx, s, txn, ev, &changed)) != SUP_OK) {
			json_object_put(ev);
			json_object_put(was);
			goto out;
		}
		if (changed) {
			if (!same_frame(ev, was)) {
				e = SUP_EINVAL;
			} else if ((text = json_object_to_json_string_length(ev,
			    JSON_C_TO_STRING_PLAIN, &len)) == NULL) {
				e = SUP_ENOMEM;
			} else {
				DBT nd = { .data = (void *)(uintptr_t)text,
				    .size = (u_int32_t)len };
				e = store_err(cur->put(cur, &k, &nd,
				    DB_CURRENT), "events rewrite");
			}
			a->changed++;
		}
		json_object_put(ev);
		json_object_put(was);
		if (e != SUP_OK)
			goto out;
		if (++n == EVENT_TRIM_BATCH)
			break;
	}
	if (rc == DB_NOTFOUND)
		a->done = true;
	else if (rc != 0)
		e = store_err(rc, "events read");
out:
	cur->close(cur);
	return e;
}

sup_err
event_rewrite(struct store *s, bool passed_only, int64_t before_us,
    sup_err (*fn)(void *ctx, struct store *s, DB_TXN *txn, json_object *ev,
    bool *changed), void *ctx, long *changed, long *held)
{
	struct rewrite_args a = { .passed_only = passed_only,
	    .before_us = before_us, .fn = fn,
	    .ctx = ctx, .from = 1 };
	long total = 0, kept = 0;
	sup_err e;

	do {
		if ((e = store_run(s, 0, rewrite_txn, &a)) != SUP_OK)
			break;
		total += a.changed;
		kept += a.held;
		a.from = a.next;
	} while (!a.done);
	if (changed != NULL)
		*changed = total;
	if (held != NULL)
		*held = kept;
	return e;
}

/* --- The area -------------------------------------------------------- */

/* A stored event that is no JSON object with its own seq, or a hole. */
static sup_err
event_verify(struct store *s, struct store_check *c)
{
	DBT k = { 0 }, d = { 0 };
	DBC *cur;
	int64_t prev = 0, seq;
	long bad = 0, holes = 0;
	int rc, rc2;

	if ((rc = events_db(s)->cursor(events_db(s), NULL, &cur, 0)) != 0)
		return store_err(rc, "events cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		json_object *o, *v;
		if (k.size != SEQ_LEN) {
			bad++;
			continue;
		}
		seq = (int64_t)be64_get(k.data);
		if (prev != 0 && seq != prev + 1)
			holes++;
		prev = seq;
		if (store_parse(&d, &o) != SUP_OK) {
			bad++;
			continue;
		}
		if (!json_object_object_get_ex(o, "seq", &v) ||
		    json_object_get_int64(v) != seq ||
		    !json_object_object_get_ex(o, "type", &v) ||
		    event_type_from(json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)) < 0)
			bad++;
		json_object_put(o);
	}
	rc2 = cur->close(cur);
	if (rc != DB_NOTFOUND)
		return store_err(rc, "events read");
	if (rc2 != 0)
		return store_err(rc2, "events cursor close");
	if (bad > 0)
		store_problem(c, "events.db: %ld events that are not whole", bad);
	if (holes > 0)
		store_problem(c, "events.db: %ld holes in the numbering", holes);
	return SUP_OK;
}

static const struct store_db event_dbs[EVENT_NDB] = {
	[EDB_EVENTS] = { .file = "events.db", .type = DB_BTREE },
	[EDB_POS] = { .file = "event_pos.db", .type = DB_BTREE },
};

const struct store_area event_area = {
	.name = "events",
	.db = event_dbs,
	.ndb = EVENT_NDB,
	.verify = event_verify,
	.cache_new = event_cache_new,
	.cache_free = event_cache_free,
};
