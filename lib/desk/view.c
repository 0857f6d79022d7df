/*
 * view.c - stored records to API objects, per reader.
 *
 * The API object of a message is its stored record with the author's id
 * swapped for the author's User object; that of a ticket is its public
 * fields with the internal ones swapped for User objects, counts and the
 * last message.  Parsing every record with json-c only to print it again
 * was most of the cost of a read (a ticket with 20 messages is 21
 * records), and json-c cannot print a value it has not parsed, so the
 * view splices the stored text instead, from what the record codec
 * (record.h) reads of it by position: the view itself knows no layout.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/printbuf.h>
#include <sodium.h>

#include "jtext.h"
#include "record.h"
#include "util.h"
#include "view.h"

int64_t
rec_int(json_object *rec, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(rec, name, &v) ?
	    json_object_get_int64(v) : 0;
}

const char *
rec_str(json_object *rec, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(rec, name, &v) &&
	    json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

bool
rec_bool(json_object *rec, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(rec, name, &v) &&
	    json_object_get_boolean(v);
}

void
view_begin(struct view *v, struct store *s, DB_TXN *txn,
    const struct sup_user *reader)
{
	memset(v, 0, sizeof(*v));
	v->s = s;
	v->txn = txn;
	v->reader = reader;
	v->now = time_now_us();
}

void
view_end(struct view *v)
{
	if (v->messages != NULL)
		v->messages->close(v->messages);
	free(v->bulk);
	memset(v, 0, sizeof(*v));
}

/* --- Raw objects ----------------------------------------------------- */

/*
 * A raw object printing as the text of b, which it takes (b is left
 * empty, also on failure); NULL when out of memory or when b had failed.
 * Taking the buffer spares a copy of what may be a long thread.  Raw
 * objects are lib/text/jtext.c's text objects.
 */
static json_object *
raw_take(struct sbuf *b)
{
	json_object *o;

	if (b->failed || b->p == NULL) {
		free(b->p);
		memset(b, 0, sizeof(*b));
		return NULL;
	}
	o = jt_object_new(b->p, b->len);
	memset(b, 0, sizeof(*b));
	return o;
}

json_object *
view_raw(struct sbuf *b)
{
	return raw_take(b);
}

json_object *
view_expand(json_object *o)
{
	struct jt t;
	json_tokener *tok;
	json_object *parsed;

	if (!jt_object_text(o, &t) || json_object_object_length(o) != 0)
		return json_object_get(o);
	if ((tok = json_tokener_new()) == NULL)
		return NULL;
	parsed = json_parse_room(tok, t.n) ?
	    json_tokener_parse_ex(tok, t.p, (int)t.n) : NULL;
	json_tokener_free(tok);
	/* Our texts never name a member twice: one missing was dropped. */
	if (parsed != NULL && !json_members_kept(parsed, t.p, t.n)) {
		json_object_put(parsed);
		return NULL;
	}
	return parsed;
}

/* --- Users ----------------------------------------------------------- */

/* The public User object of id as the reader may see it, as text. */
static sup_err
user_text(struct view *v, uint32_t id, const char **text, size_t *len)
{
	/* E-mail addresses only to staff and to the user themself. */
	return user_public_text(v->s, v->txn, id, user_is_staff(v->reader) ||
	    id == v->reader->id, v->now, text, len);
}

/*
 * Append key and the reader's User object of id (null for 0) to out.
 * Inline: with key a literal its length is known when compiling (this
 * runs four times for every ticket a list shows).
 */
static inline sup_err
add_user(struct view *v, struct sbuf *out, const char *key, uint32_t id)
{
	const char *text;
	size_t len;
	sup_err e;

	sbuf_add(out, key, strlen(key));
	if (id == 0) {
		sbuf_add(out, "null", 4);
		return SUP_OK;
	}
	if ((e = user_text(v, id, &text, &len)) != SUP_OK)
		return e;
	sbuf_add(out, text, len);
	return SUP_OK;
}

/* --- Messages -------------------------------------------------------- */

/*
 * Append the API text of the stored message rec (when the reader may see
 * it) to out.  *shown says whether it was.
 */
static sup_err
message_text(struct view *v, const char *rec, size_t len, struct sbuf *out,
    bool *shown)
{
	uint32_t author;
	bool internal;
	size_t cut;
	sup_err e;

	*shown = false;
	if (!record_message_tail(rec, len, &cut, &author, &internal)) {
		fprintf(stderr, "support: a message record is not laid out as "
		    "expected\n");
		return SUP_EDB;
	}
	if (internal && !user_is_staff(v->reader))
		return SUP_OK;
	*shown = true;
	sbuf_add(out, rec, cut);
	if ((e = add_user(v, out, ",\"user\":", author)) != SUP_OK ||
	    (e = add_user(v, out, ",\"sender\":", author)) != SUP_OK)
		return e;
	sbuf_adds(out, "}");
	return SUP_OK;
}

sup_err
view_message(struct view *v, const char *rec, size_t len, json_object **out)
{
	struct sbuf b = { 0 };
	bool shown;
	sup_err e;

	*out = NULL;
	/* The writer itself sees what it wrote, internal or not. */
	e = message_text(v, rec, len, &b, &shown);
	if (e == SUP_OK && (*out = raw_take(&b)) == NULL)
		e = SUP_ENOMEM;
	free(b.p);
	return e;
}

/* Where a walk puts the messages it shows: see walk_messages. */
struct walk_out {
	struct sbuf *out;		/* text, comma-separated; or */
	json_object *array;		/* raw objects */
	size_t *last_from, *last_to;	/* may be NULL */
	bool first;			/* nothing shown yet */
	struct sbuf one;		/* scratch for one raw object */
};

/* Show one stored message of the walk, when the reader may see it. */
static sup_err
walk_take(struct view *v, struct walk_out *w, const char *rec, size_t len,
    bool *shown)
{
	sup_err e;

	if (w->out == NULL) {
		if ((e = message_text(v, rec, len, &w->one, shown)) != SUP_OK)
			return e;
		if (*shown) {
			json_object *o = raw_take(&w->one);
			if (o == NULL)
				return SUP_ENOMEM;
			json_object_array_add(w->array, o);
		}
		return SUP_OK;
	}
	size_t mark = w->out->len;
	if (!w->first)
		sbuf_add(w->out, ",", 1);
	if ((e = message_text(v, rec, len, w->out, shown)) != SUP_OK)
		return e;
	if (!*shown && w->out->p != NULL) {
		w->out->len = mark;	/* drop the comma */
		w->out->p[mark] = '\0';
	} else if (*shown && w->last_from != NULL) {
		*w->last_from = mark + !w->first;
		*w->last_to = w->out->len;
	}
	w->first = w->first && !*shown;
	return SUP_OK;
}

#define BULK_MIN 16384	/* a multiple of 1024, above the page size */

/*
 * The forward walk, a page of records a call (DB_MULTIPLE_KEY): a thread
 * of 20 messages read one by one spent most of its time in Berkeley DB's
 * per-call locking and copying.
 */
static sup_err
walk_forward(struct view *v, const uint8_t ticket[UUID_LEN],
    const uint8_t *after_key, size_t expect, struct walk_out *w)
{
	size_t taken = 0;
	uint8_t key[MSG_KEY_LEN];
	DBT k = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT one = { .flags = DB_DBT_REALLOC };
	DBC *c = v->messages;
	u_int32_t op = DB_SET_RANGE;
	bool done = false, shown;
	sup_err e = SUP_OK;
	int rc;

	memcpy(key, ticket, UUID_LEN);
	k.size = UUID_LEN;
	if (after_key != NULL) {
		memcpy(key, after_key, MSG_KEY_LEN);
		k.size = MSG_KEY_LEN;
		rc = c->get(c, &k, &one, DB_SET);
		free(one.data);
		one.data = NULL;
		if (rc != 0)
			return rc == DB_NOTFOUND ? SUP_OK :
			    store_err(rc, "messages");
		op = DB_NEXT;
	}
	while (!done && e == SUP_OK) {
		/*
		 * The last few records of a thread whose count is known: one
		 * step each from where the cursor is.  A bulk read here would
		 * take whole pages of the next tickets' messages with them.
		 */
		if (op == DB_NEXT && expect > taken && expect - taken <= 8) {
			rc = c->get(c, &k, &one, DB_NEXT);
			if (rc == DB_NOTFOUND)
				break;
			if (rc != 0) {
				e = store_err(rc, "messages");
				break;
			}
			if (k.size != MSG_KEY_LEN ||
			    memcmp(key, ticket, UUID_LEN) != 0)
				break;
			if ((e = walk_take(v, w, one.data, one.size, &shown)) ==
			    SUP_OK && ++taken == expect)
				done = true;
			continue;
		}
		if (v->bulk == NULL) {
			if ((v->bulk = malloc(BULK_MIN)) == NULL)
				return SUP_ENOMEM;
			v->bulk_cap = BULK_MIN;
		}
		DBT bulk = { .data = v->bulk, .ulen = (u_int32_t)v->bulk_cap,
			.flags = DB_DBT_USERMEM };
		rc = c->get(c, &k, &bulk, op | DB_MULTIPLE_KEY);
		if (rc == DB_BUFFER_SMALL) {
			/* One record larger than the buffer: grow it. */
			if (!store_bulk_grow(&v->bulk, &v->bulk_cap, bulk.size)) {
				e = SUP_ENOMEM;
				break;
			}
			continue;
		}
		if (rc == DB_NOTFOUND)
			break;
		if (rc != 0)
			return store_err(rc, "messages");
		op = DB_NEXT;
		void *p;
		DB_MULTIPLE_INIT(p, &bulk);
		for (;;) {
			void *kp, *dp;
			size_t kl, dl;
			DB_MULTIPLE_KEY_NEXT(p, &bulk, kp, kl, dp, dl);
			if (p == NULL)
				break;
			if (kl != MSG_KEY_LEN || memcmp(kp, ticket, UUID_LEN) !=
			    0) {
				done = true;	/* past the ticket's thread */
				break;
			}
			if ((e = walk_take(v, w, dp, dl, &shown)) != SUP_OK)
				break;
			if (++taken == expect) {
				done = true;	/* the thread's last record */
				break;
			}
		}
	}
	free(one.data);
	return e;
}

/*
 * Walk the ticket's messages after after_key (NULL: all), oldest first,
 * appending each visible one to out as text (comma-separated), or to
 * array as a raw object.  last: only the newest visible one.  When out is
 * used and last_from is not NULL, [*last_from, *last_to) is where the last
 * message appended lies in out (set only when one was).  expect: how many
 * records the thread has, when the caller knows (the ticket's counts;
 * 0: read to the thread's end); a forward walk stops after that many.
 */
static sup_err
walk_messages(struct view *v, const uint8_t ticket[UUID_LEN],
    const uint8_t *after_key, size_t expect, bool last, struct sbuf *out,
    json_object *array, size_t *last_from, size_t *last_to)
{
	struct walk_out w = { .out = out, .array = array,
		.last_from = last_from, .last_to = last_to, .first = true };
	uint8_t key[MSG_KEY_LEN];
	DBT k = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	bool shown = false;
	DBC *c;
	sup_err e = SUP_OK;
	int rc;

	if (v->messages == NULL && (rc = msg_db(v->s)->cursor(
	    msg_db(v->s), v->txn, &v->messages, 0)) != 0)
		return store_err(rc, "cursor");
	c = v->messages;
	if (!last) {
		e = walk_forward(v, ticket, after_key, expect, &w);
		goto out;
	}
	/* Just past the ticket's range, then backwards. */
	memcpy(key, ticket, UUID_LEN);
	memset(key + UUID_LEN, 0xff, MSG_KEY_LEN - UUID_LEN);
	k.size = MSG_KEY_LEN;
	rc = c->get(c, &k, &d, DB_SET_RANGE);
	if (rc == 0 || rc == DB_NOTFOUND)
		rc = c->get(c, &k, &d, rc == 0 ? DB_PREV : DB_LAST);
	for (; rc == 0 && k.size == MSG_KEY_LEN &&
	    memcmp(key, ticket, UUID_LEN) == 0;
	    rc = c->get(c, &k, &d, DB_PREV))
		if ((e = walk_take(v, &w, d.data, d.size, &shown)) != SUP_OK ||
		    shown)
			break;
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "messages");
out:
	if (e == SUP_OK && (w.one.failed || (out != NULL && out->failed)))
		e = SUP_ENOMEM;
	free(w.one.p);
	free(d.data);
	return e;
}

sup_err
view_messages(struct view *v, const uint8_t ticket[UUID_LEN],
    const uint8_t *after_key, json_object *array)
{
	return walk_messages(v, ticket, after_key, 0, false, NULL, array, NULL,
	    NULL);
}

/* --- Tickets --------------------------------------------------------- */

/*
 * The stored text of the last messages lists showed, per process.  A
 * list page read again (an agent's queue, refreshed) then costs no
 * message lookups.  An entry is the message's key and its ticket's rev:
 * a message record is written once, and whatever changes a ticket's
 * messages moves its rev on (the ETag of its thread is made of it), so an
 * entry is right for as long as its rev is the ticket's.  Bounded: a
 * set-associative table of LAST_CACHE_SETS sets of LAST_CACHE_WAYS
 * entries, texts up to LAST_CACHE_TEXT bytes.  (Direct-mapped, as it was,
 * two tickets of a page of 20 shared a slot in about half of all stores,
 * by the birthday bound, and then pushed each other out on every read of
 * that page: two lookups a request, for ever.  With four ways a set, five
 * of a page's tickets must meet in one of 64 sets.)  A set's entry used
 * least recently makes room.
 */
#define LAST_CACHE_SETS 64		/* at most 256: see last_set */
#define LAST_CACHE_WAYS 4
#define LAST_CACHE_TEXT 4096

struct last_entry {
	uint8_t key[MSG_KEY_LEN];
	int64_t rev;
	uint64_t used;		/* the cache's clock when last kept or found */
	char *text;		/* NULL: empty */
	size_t len;
};

struct view_cache {
	uint64_t clock;		/* counts finds and keeps */
	struct last_entry set[LAST_CACHE_SETS][LAST_CACHE_WAYS];
};

/* The area's cache_free: the cache and every text it holds. */
static void
view_cache_free(void *cache)
{
	struct view_cache *c = cache;

	for (size_t i = 0; i < LAST_CACHE_SETS; i++)
		for (size_t w = 0; w < LAST_CACHE_WAYS; w++)
			free(c->set[i][w].text);
	free(c);
}

/*
 * The set of a message key, from the ticket uuid's last byte: random in a
 * uuid of either version (a version 7 uuid begins with its time, the
 * same for tickets made in the same second or so).
 */
static struct last_entry *
last_set(struct view_cache *c, const uint8_t key[MSG_KEY_LEN])
{
	return c->set[key[UUID_LEN - 1] % LAST_CACHE_SETS];
}

/*
 * The cache's entry for the message key as of ticket revision rev, or
 * NULL.  The entry is the cache's: valid until the next last_keep.
 */
static const struct last_entry *
last_find(struct view *v, const uint8_t key[MSG_KEY_LEN], int64_t rev)
{
	struct view_cache *c = *store_cache(v->s, AREA_VIEW);
	struct last_entry *e;

	if (c == NULL)
		return NULL;
	e = last_set(c, key);
	for (size_t w = 0; w < LAST_CACHE_WAYS; w++)
		if (e[w].text != NULL && e[w].rev == rev &&
		    memcmp(e[w].key, key, MSG_KEY_LEN) == 0) {
			e[w].used = ++c->clock;
			return &e[w];
		}
	return NULL;
}

/*
 * Keep text as the message key's of ticket revision rev (when it fits):
 * in the way that had that key, else an empty one, else the one used
 * least recently.  A copy; nothing happens when memory runs out.
 */
static void
last_keep(struct view *v, const uint8_t key[MSG_KEY_LEN], int64_t rev,
    const void *text, size_t len)
{
	struct view_cache *c = *store_cache(v->s, AREA_VIEW);
	struct last_entry *e, *to;
	char *copy;

	if (len > LAST_CACHE_TEXT)
		return;
	if (c == NULL &&
	    (c = *store_cache(v->s, AREA_VIEW) = calloc(1, sizeof(*c))) ==
	    NULL)
		return;		/* a cache that cannot grow is no error */
	e = last_set(c, key);
	to = NULL;
	for (size_t w = 0; w < LAST_CACHE_WAYS && to == NULL; w++)
		if (e[w].text != NULL &&
		    memcmp(e[w].key, key, MSG_KEY_LEN) == 0)
			to = &e[w];
	for (size_t w = 0; w < LAST_CACHE_WAYS && to == NULL; w++)
		if (e[w].text == NULL)
			to = &e[w];
	if (to == NULL) {
		to = &e[0];
		for (size_t w = 1; w < LAST_CACHE_WAYS; w++)
			if (e[w].used < to->used)
				to = &e[w];
	}
	if ((copy = malloc(len)) == NULL)
		return;
	memcpy(copy, text, len);
	free(to->text);
	memcpy(to->key, key, MSG_KEY_LEN);
	to->rev = rev;
	to->used = ++c->clock;
	to->text = copy;
	to->len = len;
}

/*
 * Append the reader's last visible message of the ticket to out, from the
 * refs of its tail: one lookup instead of a walk, none when the cache has
 * it.  *found is false when the tail has no refs or the message named is
 * gone (the caller walks).
 */
static sup_err
last_by_ref(struct view *v, const uint8_t ticket[UUID_LEN],
    const struct ticket_tail *tt, struct sbuf *out, bool *found)
{
	uint8_t key[MSG_KEY_LEN];
	DBT k = { .data = key, .size = MSG_KEY_LEN, .ulen = MSG_KEY_LEN,
		.flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	const uint8_t *ref = NULL;
	bool shown;
	sup_err e;
	int rc;

	*found = false;
	if (!tt->has_refs)
		return SUP_OK;
	if (tt->has_public)
		ref = tt->last_public;
	/* Staff see the notes too: the newer of the two (time first). */
	if (user_is_staff(v->reader) && tt->has_note && (ref == NULL ||
	    memcmp(tt->last_note, ref, MSG_REF_LEN) > 0))
		ref = tt->last_note;
	if (ref == NULL) {
		*found = true;		/* nothing to show: null */
		return SUP_OK;
	}
	memcpy(key, ticket, UUID_LEN);
	memcpy(key + UUID_LEN, ref, MSG_REF_LEN);
	const struct last_entry *hit = last_find(v, key, tt->rev);
	if (hit != NULL) {
		e = message_text(v, hit->text, hit->len, out, &shown);
		*found = e == SUP_OK && shown;
		return e;
	}
	if (v->messages == NULL && (rc = msg_db(v->s)->cursor(
	    msg_db(v->s), v->txn, &v->messages, 0)) != 0)
		return store_err(rc, "cursor");
	rc = v->messages->get(v->messages, &k, &d, DB_SET);
	if (rc == DB_NOTFOUND) {
		free(d.data);
		return SUP_OK;
	}
	if (rc != 0) {
		free(d.data);
		return store_err(rc, "message");
	}
	e = message_text(v, d.data, d.size, out, &shown);
	if (e == SUP_OK)
		last_keep(v, key, tt->rev, d.data, d.size);
	free(d.data);
	*found = e == SUP_OK && shown;
	return e;
}


/*
 * Append the reader's API text of the stored ticket rec, whose uuid is
 * uuid, to b: view_ticket_add once the uuid is known.  With messages,
 * thread (when not NULL) gets where in b the "messages" array starts and
 * ends, for jt_object_known.
 */
static sup_err
ticket_add(struct view *v, const uint8_t uuid[UUID_LEN], const char *rec,
    size_t len, bool with_messages, struct sbuf *b, size_t thread[2])
{
	bool staff = user_is_staff(v->reader);
	struct ticket_tail tt;
	struct sbuf m = { 0 };
	sup_err e;

	if (!record_ticket_tail(rec, len, &tt)) {
		fprintf(stderr, "support: a ticket record is not laid out as "
		    "expected\n");
		return SUP_EDB;
	}
	record_ticket_public(rec, &tt, b);
	if ((e = add_user(v, b, ",\"user\":", tt.user)) != SUP_OK ||
	    (e = add_user(v, b, ",\"assignee\":", tt.assignee)) != SUP_OK)
		goto out;
	sbuf_lit(b, ",\"last_message\":");
	if (with_messages) {
		/* One walk: the thread, and the last message out of it. */
		size_t from = 0, to = 0;
		/*
		 * The ticket's counts, read with it, say how many records its
		 * thread has: the walk stops at the last one.  Without that
		 * it read on into the next ticket's messages, a whole bulk
		 * read more (another page, its lock and copies) whenever the
		 * thread ended where a read did; a post committed since the
		 * ticket was read is left out, as its counts leave it out.
		 */
		size_t expect = (size_t)(tt.public_count + tt.note_count);
		if ((e = walk_messages(v, uuid, NULL, expect, false, &m, NULL,
		    &from, &to)) != SUP_OK)
			goto out;
		if (to > from)
			sbuf_add(b, m.p + from, to - from);
		else
			sbuf_lit(b, "null");
	} else {
		size_t mark = b->len;
		bool found;
		if ((e = last_by_ref(v, uuid, &tt, b, &found)) != SUP_OK)
			goto out;
		if (!found && (e = walk_messages(v, uuid, NULL, 0, true, b,
		    NULL, NULL, NULL)) != SUP_OK)
			goto out;
		if (b->len == mark)
			sbuf_lit(b, "null");
	}
	sbuf_lit(b, ",\"message_count\":");
	sbuf_add_int(b, tt.public_count + (staff ? tt.note_count : 0));
	/* The owner's count (replies to read), then staff's (docs/api.md). */
	sbuf_lit(b, ",\"unanswered_messages_count\":");
	sbuf_add_int(b, tt.replies);
	sbuf_lit(b, ",\"awaiting_staff_count\":");
	sbuf_add_int(b, tt.unanswered);
	if (with_messages) {
		sbuf_adds(b, ",\"messages\":[");
		if (thread != NULL)
			thread[0] = b->len - 1;
		if (m.p != NULL)
			sbuf_add(b, m.p, m.len);
		sbuf_adds(b, "]");
		if (thread != NULL)
			thread[1] = b->len;
	}
	sbuf_lit(b, "}");
	if (m.failed || b->failed)
		e = SUP_ENOMEM;
out:
	free(m.p);
	return e;
}

/*
 * Does the stored ticket rec begin with its uuid, {"uuid":"...", as every
 * record does?  Into uuid too, when not NULL.  Logs a record that does
 * not.
 */
static bool
uuid_first(const char *rec, size_t len, uint8_t uuid[UUID_LEN])
{
	if (record_ticket_uuid(rec, len, uuid))
		return true;
	fprintf(stderr, "support: a ticket record is not laid out as "
	    "expected\n");
	return false;
}

/* view_ticket_add, telling where the thread lies (see ticket_add). */
static sup_err
text_add(struct view *v, const char *rec, size_t len, bool with_messages,
    struct sbuf *b, size_t thread[2])
{
	uint8_t uuid[UUID_LEN];

	if (!uuid_first(rec, len, uuid))
		return SUP_EDB;
	return ticket_add(v, uuid, rec, len, with_messages, b, thread);
}

sup_err
view_ticket_add(struct view *v, const char *rec, size_t len,
    bool with_messages, struct sbuf *b)
{
	return text_add(v, rec, len, with_messages, b, NULL);
}

sup_err
view_ticket_list_add(struct view *v, const uint8_t uuid[UUID_LEN],
    const char *rec, size_t len, struct sbuf *b)
{
	/* The key is the uuid: the text need not be read for it again. */
	if (!uuid_first(rec, len, NULL))
		return SUP_EDB;
	return ticket_add(v, uuid, rec, len, false, b, NULL);
}

sup_err
view_ticket_text(struct view *v, const char *rec, size_t len,
    bool with_messages, json_object **out)
{
	struct sbuf b = { 0 };
	size_t thread[2] = { 0, 0 };
	sup_err e;

	*out = NULL;
	if ((e = text_add(v, rec, len, with_messages, &b, thread)) == SUP_OK &&
	    (*out = raw_take(&b)) == NULL)
		e = SUP_ENOMEM;
	/* A page reading the ticket then steps over the thread at once. */
	if (*out != NULL && with_messages)
		jt_object_known(*out, thread[0], thread[1]);
	free(b.p);
	return e;
}

sup_err
view_ticket(struct view *v, json_object *t, bool with_messages,
    json_object **out)
{
	const char *text;
	size_t len;

	text = json_text(t,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text == NULL)
		return SUP_ENOMEM;
	return view_ticket_text(v, text, len, with_messages, out);
}

/*
 * The view's area: no database of its own, its per-process cache of last
 * messages (made when first needed: last_keep).
 */
const struct store_area view_area = {
	.name = "view",
	.cache_free = view_cache_free,
};
