/*
 * msg.c - the chat thread of a ticket.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark.h>
#include <sodium.h>

#include "event.h"
#include "presence.h"
#include "attach.h"
#include "msg.h"
#include "record.h"
#include "ticket.h"
#include "util.h"
#include "view.h"

static const struct sup_errdef msg_errdefs[] = {
	{ MSG_ESTALE, SUP_ECONFLICT, "stale_thread",
	    "New messages arrived since the last one you saw; "
	    "read them and send again.", NULL, NULL },
	{ MSG_ESEEN, SUP_EINVAL, "invalid",
	    "The message last seen is not in this ticket.", NULL, NULL },
};
SUP_ERRORS(msg_errors, SUP_AREA_MESSAGES, msg_errdefs)

void
msg_key_new(uint8_t key[MSG_KEY_LEN], const uint8_t ticket[UUID_LEN],
    int64_t us)
{
	memcpy(key, ticket, UUID_LEN);
	be64_put(key + UUID_LEN, (uint64_t)us);
	uuid_gen_time(key + UUID_LEN + 8, us);
}

/*
 * cmark's allocator for one msg_render.  cmark (0.30) aborts the process
 * when an allocation fails: its own allocator calls abort().  A FastCGI
 * process lives on and must answer SUP_ENOMEM instead, so cmark allocates
 * through these functions: every block is linked into the render's list,
 * and a failed allocation jumps back to msg_render, which frees what the
 * list still holds.  cmark keeps no state between calls (its allocator is
 * the parser's, its tables are constant), so leaving it half-way loses
 * nothing but the blocks listed.  The render in progress is found through
 * cm_arena: cmark's allocator takes no context.
 */
struct cm_block {
	struct cm_block *prev, *next;
};

/* The header before each block, keeping the block's alignment. */
#define CM_HDR ((sizeof(struct cm_block) + _Alignof(max_align_t) - 1) & \
	~(_Alignof(max_align_t) - 1))

struct cm_render {
	struct cm_block head;	/* of a circular list of the blocks */
	jmp_buf fail;
};

static _Thread_local struct cm_render *cm_arena;

static void
cm_link(struct cm_block *b)
{
	struct cm_block *h = &cm_arena->head;

	b->prev = h;
	b->next = h->next;
	h->next->prev = b;
	h->next = b;
}

static void
cm_unlink(struct cm_block *b)
{
	b->prev->next = b->next;
	b->next->prev = b->prev;
}

static void *
cm_calloc(size_t nmemb, size_t size)
{
	struct cm_block *b;

	if (size != 0 && nmemb > (SIZE_MAX - CM_HDR) / size)
		longjmp(cm_arena->fail, 1);
	if ((b = calloc(1, CM_HDR + nmemb * size)) == NULL)
		longjmp(cm_arena->fail, 1);
	cm_link(b);
	return (char *)b + CM_HDR;
}

static void *
cm_realloc(void *p, size_t size)
{
	struct cm_block *b, *nb;

	if (p == NULL)
		return cm_calloc(1, size);
	if (size > SIZE_MAX - CM_HDR)
		longjmp(cm_arena->fail, 1);
	b = (struct cm_block *)(void *)((char *)p - CM_HDR);
	cm_unlink(b);
	if ((nb = realloc(b, CM_HDR + size)) == NULL) {
		cm_link(b);	/* still allocated: freed with the rest */
		longjmp(cm_arena->fail, 1);
	}
	cm_link(nb);
	return (char *)nb + CM_HDR;
}

static void
cm_free(void *p)
{
	struct cm_block *b;

	if (p == NULL)
		return;
	b = (struct cm_block *)(void *)((char *)p - CM_HDR);
	cm_unlink(b);
	free(b);
}

sup_err
msg_render(const char *content, size_t len, char **html)
{
	cmark_mem mem = { cm_calloc, cm_realloc, cm_free };
	struct cm_render r;
	cmark_parser *parser;
	cmark_node *doc;
	char *text;

	*html = NULL;
	r.head.prev = r.head.next = &r.head;
	cm_arena = &r;
	if (setjmp(r.fail) != 0) {
		/* An allocation failed inside cmark: free what it had. */
		while (r.head.next != &r.head)
			cm_free((char *)r.head.next + CM_HDR);
		cm_arena = NULL;
		return SUP_ENOMEM;
	}
	/* Safe mode: raw HTML and javascript: links never come through. */
	parser = cmark_parser_new_with_mem(CMARK_OPT_SAFE, &mem);
	cmark_parser_feed(parser, content, len);
	doc = cmark_parser_finish(parser);
	cmark_parser_free(parser);
	text = cmark_render_html(doc, CMARK_OPT_SAFE);
	cmark_node_free(doc);
	/* The caller's copy comes from malloc, to be free()d. */
	*html = strdup(text);
	cm_free(text);
	cm_arena = NULL;
	return *html != NULL ? SUP_OK : SUP_ENOMEM;
}

sup_err
msg_insert(struct store *s, DB_TXN *txn, const uint8_t key[MSG_KEY_LEN],
    uint32_t sender, const char *content, size_t len, const char *html,
    bool internal, bool from_user, struct sbuf *rec)
{
	return msg_insert_att(s, txn, key, sender, content, len, html,
	    internal, from_user, NULL, rec);
}

sup_err
msg_insert_att(struct store *s, DB_TXN *txn, const uint8_t key[MSG_KEY_LEN],
    uint32_t sender, const char *content, size_t len, const char *html,
    bool internal, bool from_user, const struct att_batch *files,
    struct sbuf *rec)
{
	struct sbuf atts = { 0 };
	struct sbuf b = { 0 };
	char *rendered = NULL;
	sup_err e;

	if (html == NULL) {
		if ((e = msg_render(content, len, &rendered)) != SUP_OK)
			return e;
		html = rendered;
	}
	/* The files first: the record lists them. */
	if (files != NULL && files->n > 0 &&
	    (e = att_store(s, txn, key, key + UUID_LEN + 8, internal, sender,
	    files, &atts)) != SUP_OK) {
		free(rendered);
		free(atts.p);
		return e;
	}
	record_message_encode_att(key, sender, content, len, html, internal,
	    from_user, atts.p, atts.len, &b);
	free(rendered);
	free(atts.p);
	if (b.failed) {
		free(b.p);
		return SUP_ENOMEM;
	}
	DBT k = { .data = (void *)key, .size = MSG_KEY_LEN };
	DBT d = { .data = b.p, .size = (u_int32_t)b.len };
	e = store_err(msg_db(s)->put(msg_db(s), txn, &k, &d, DB_NOOVERWRITE),
	    "put");
	if (e == SUP_OK && rec != NULL) {
		*rec = b;
		return SUP_OK;
	}
	free(b.p);
	return e;
}

/*
 * The key of message uuid into key, when it is a message of ticket that u
 * can see (an internal note does not exist for a customer): SUP_OK;
 * SUP_ENOTFOUND otherwise; SUP_EDB.
 */
static sup_err
msg_find(struct store *s, DB_TXN *txn, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const uint8_t uuid[UUID_LEN],
    uint8_t key[MSG_KEY_LEN])
{
	DBT k = { .data = (void *)uuid, .size = UUID_LEN };
	DBT pk = { .data = key, .ulen = MSG_KEY_LEN,
		.flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_MALLOC };
	DB *by_uuid = store_db(s, AREA_MSG, MSG_DB_BY_UUID);
	struct record_message m;
	size_t cut;
	sup_err e = SUP_OK;
	int rc;

	if ((rc = by_uuid->pget(by_uuid, txn, &k, &pk, &d, 0)) != 0)
		return store_err(rc, "message");
	if (!record_message_tail(d.data, d.size, &cut, &m.user, &m.internal))
		e = record_message_decode(d.data, d.size, &m);
	free(d.data);
	if (e != SUP_OK)
		return e;
	if (pk.size != MSG_KEY_LEN || (!user_is_staff(u) && m.internal) ||
	    memcmp(key, ticket, UUID_LEN) != 0)
		return SUP_ENOTFOUND;
	return SUP_OK;
}

/* --- Post ------------------------------------------------------------ */

struct post_args {
	const struct sup_user *u;
	const uint8_t *ticket;
	const char *content;
	size_t len;
	const char *html;
	bool internal;
	const uint8_t *last_seen;
	int channel;		/* enum ticket_channel, -1: not said */
	const struct att_batch *files;	/* may be NULL */
	uint8_t *posted;	/* out: the new message's uuid; NULL */
	json_object *out, *newer;
};

/*
 * The post: the ticket's stored text is changed in place (the codec's
 * record_ticket_splice; parsing and printing it with json-c was a fifth
 * of a post), and the writes are ordered so that the pages every
 * post shares are held the shortest time: the ticket (its own page),
 * the message, the answer, then the ticket's index entries (the newest
 * end of the activity indexes) and last the status counters.
 */
/*
 * The event of a post: message.posted (with the status it moved from old
 * to new, whether it came from the ticket's owner, whether it is the
 * first response) or note.added.
 */
static sup_err
posted_event(struct store *s, DB_TXN *txn, const struct post_args *a,
    const uint8_t key[MSG_KEY_LEN], bool from_user, int old, int new,
    bool first_response)
{
	struct event ev;
	sup_err e = SUP_OK;

	event_init(&ev, a->internal ? EV_NOTE_ADDED : EV_MESSAGE_POSTED,
	    a->u->id);
	ev.ticket = a->ticket;
	ev.message = key + UUID_LEN + 8;
	ev.at_us = (int64_t)be64_get(key + UUID_LEN);	/* the message's */
	if (!a->internal) {
		if (new != old)
			e = event_change_str(&ev, "status",
			    ticket_status_names[old],
			    strlen(ticket_status_names[old]),
			    ticket_status_names[new],
			    strlen(ticket_status_names[new]));
		if (e == SUP_OK)
			e = event_data_bool(&ev, "from_user", from_user);
		if (e == SUP_OK && first_response)
			e = event_data_bool(&ev, "first_response", true);
		if (e == SUP_OK && a->channel >= 0 && a->channel < CH_MAX)
			e = event_data_cstr(&ev, "channel",
			    ticket_channel_names[a->channel]);
	}
	return event_finish(s, txn, &ev, e);
}

static sup_err
post_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct post_args *a = arg;
	const struct sup_user *u = a->u;
	uint8_t key[MSG_KEY_LEN];
	struct ticket_tail tt;
	struct ticket_head th;
	struct record_state was, st;
	struct sbuf m = { 0 }, t = { 0 };
	int64_t now, us;
	bool from_user, first_response;
	struct view v;
	DBC *cur;
	DBT d;
	sup_err e;

	json_object_put(a->out);
	json_object_put(a->newer);
	a->out = a->newer = NULL;
	/* Write-locking the ticket first orders the posts to one thread. */
	if ((e = ticket_load_text(s, txn, u, a->ticket, &cur, &d, &tt)) !=
	    SUP_OK)
		return e;
	/*
	 * Held when the thread moved on after the message the writer last
	 * saw: decided under the ticket's lock, so no post slips in between.
	 */
	if (a->last_seen != NULL) {
		uint8_t seen_key[MSG_KEY_LEN];
		if ((e = msg_find(s, txn, u, a->ticket, a->last_seen,
		    seen_key)) != SUP_OK) {
			if (e == SUP_ENOTFOUND)
				e = MSG_ESEEN;
			goto out;
		}
		if ((a->newer = json_object_new_array()) == NULL) {
			e = SUP_ENOMEM;
			goto out;
		}
		view_begin(&v, s, txn, u);
		e = view_messages(&v, a->ticket, seen_key, a->newer);
		view_end(&v);
		if (e == SUP_OK && json_object_array_length(a->newer) > 0)
			e = MSG_ESTALE;
		if (e != SUP_OK)
			goto out;
		json_object_put(a->newer);
		a->newer = NULL;
	}
	if (!record_ticket_head(d.data, d.size, &tt, &th) ||
	    !record_ticket_state(d.data, &th, &was)) {
		fprintf(stderr, "support: a ticket record is not laid out as "
		    "expected\n");
		e = SUP_EDB;
		goto out;
	}
	from_user = tt.user == u->id;
	/*
	 * Times within a thread strictly increase, so "?after=" never misses
	 * a message whose writer read the clock a little earlier.
	 */
	now = time_now_us();
	us = now > tt.last_us ? now : tt.last_us + 1;
	/* The ticket's new status and times (refused: nothing written). */
	st = was;
	if ((e = record_status_move(&st, user_is_staff(u), from_user,
	    a->internal ? MOVE_NOTE : MOVE_POST, -1, us, &first_response)) !=
	    SUP_OK)
		goto out;
	msg_key_new(key, a->ticket, us);
	if ((e = msg_insert_att(s, txn, key, u->id, a->content, a->len,
	    a->html, a->internal, from_user, a->files, &m)) != SUP_OK)
		goto out;
	if (a->posted != NULL)
		memcpy(a->posted, key + UUID_LEN + 8, UUID_LEN);
	view_begin(&v, s, txn, u);
	e = view_message(&v, m.p, m.len, &a->out);
	view_end(&v);
	if (e != SUP_OK)
		goto out;

	tt.last_us = us;
	tt.rev++;
	/*
	 * The newest message of each kind, so that a list finds a ticket's
	 * last message without a walk.  A record from before these fields
	 * is left without them (readers then walk): the last note of its
	 * thread is not known here.
	 */
	if (tt.has_refs && a->internal) {
		tt.has_note = true;
		memcpy(tt.last_note, key + UUID_LEN, MSG_REF_LEN);
	} else if (tt.has_refs) {
		tt.has_public = true;
		memcpy(tt.last_public, key + UUID_LEN, MSG_REF_LEN);
	}
	if (a->internal)
		tt.note_count++;
	else if (from_user) {
		tt.public_count++;
		tt.unanswered++;
		tt.replies = 0;
	} else {
		/* Staff's public reply: the owner has one more to read. */
		tt.public_count++;
		tt.unanswered = 0;
		tt.replies++;
	}
	record_ticket_splice(d.data, &th, &was, &st, us, &tt, &t);
	if (t.failed) {
		e = SUP_ENOMEM;
		goto out;
	}
	e = ticket_save_text(s, cur, a->ticket, &d, t.p, t.len);
	cur->close(cur);
	cur = NULL;
	if (e == SUP_OK)
		e = ticket_move_count(s, txn, tt.user, was.status, tt.assignee,
		    st.status, tt.assignee);
	if (e == SUP_OK)
		e = posted_event(s, txn, a, key, from_user, was.status,
		    st.status, first_response);
out:
	if (cur != NULL)
		cur->close(cur);
	free(t.p);
	free(m.p);
	free(d.data);
	return e;
}

sup_err
msg_post(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    bool internal, json_object **out)
{
	return msg_post_seen(s, u, ticket, content, len, internal, NULL, out,
	    NULL);
}

/* msg_post_seen, with the channel the post came by (-1: not said). */
static sup_err
post(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    bool internal, const uint8_t *last_seen, int channel,
    const struct att_batch *files, json_object **out, json_object **newer)
{
	struct post_args a = { .u = u, .ticket = ticket, .content = content,
		.len = len, .internal = internal, .last_seen = last_seen,
		.channel = channel, .files = files };
	char *html;
	sup_err e;

	*out = NULL;
	if (newer != NULL)
		*newer = NULL;
	if (internal && !user_is_staff(u))
		return SUP_EFORBIDDEN;
	/* Rendered once, before the transaction: no lock is held for it. */
	if ((e = msg_render(content, len, &html)) != SUP_OK)
		return e;
	a.html = html;
	e = store_run_json(s, 0, post_txn, &a, &a.out, out);
	free(html);
	/* The newer messages are the answer of a held post only. */
	if (e == MSG_ESTALE && newer != NULL)
		*newer = a.newer;
	else
		json_object_put(a.newer);
	return e;
}

sup_err
msg_post_seen(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    bool internal, const uint8_t *last_seen, json_object **out,
    json_object **newer)
{
	return post(s, u, ticket, content, len, internal, last_seen, -1, NULL,
	    out, newer);
}

sup_err
msg_post_files(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    bool internal, const uint8_t *last_seen, const struct att_batch *files,
    json_object **out, json_object **newer)
{
	sup_err e = post(s, u, ticket, content, len, internal, last_seen, -1,
	    files, out, newer);

	/* Files put in place by a post that was not committed. */
	if (e != SUP_OK && files != NULL && files->n > 0)
		(void)att_collect(s, NULL, files, false);
	return e;
}

sup_err
msg_post_channel(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    int channel, const struct att_batch *files, json_object **out)
{
	sup_err e;

	if (channel < 0 || channel >= CH_MAX) {
		*out = NULL;
		return SUP_EINVAL;
	}
	e = post(s, u, ticket, content, len, false, NULL, channel, files,
	    out, NULL);
	/* Files put in place by a post that was not committed. */
	if (e != SUP_OK && files != NULL && files->n > 0)
		(void)att_collect(s, NULL, files, false);
	return e;
}

sup_err
msg_post_channel_in(struct store *s, DB_TXN *txn, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    const char *html, int channel, const struct att_batch *files,
    uint8_t uuid[UUID_LEN])
{
	struct post_args a = { .u = u, .ticket = ticket, .content = content,
		.len = len, .html = html, .channel = channel, .files = files,
		.posted = uuid };
	sup_err e;

	if (channel < 0 || channel >= CH_MAX)
		return SUP_EINVAL;
	e = post_txn(s, txn, &a);
	json_object_put(a.out);
	json_object_put(a.newer);
	return e;
}

/* --- Edit and delete (staff) ---------------------------------------- */

struct change_args {
	const struct sup_user *u;
	const uint8_t *ticket, *uuid;
	const char *content;		/* NULL: delete */
	size_t len;
	const char *html;
	struct att_gone gone;	/* a deleted message's files, collected
				 * after the commit */
	json_object *out;
};

/*
 * The message uuid of ticket, read for update: its primary key into key
 * and its stored text into d (DB_DBT_MALLOC: free(d->data)).
 * SUP_ENOTFOUND when it is not there or not in this ticket.
 */
static sup_err
msg_get(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN],
    const uint8_t uuid[UUID_LEN], uint8_t key[MSG_KEY_LEN], DBT *d)
{
	DBT k = { .data = (void *)uuid, .size = UUID_LEN };
	DBT pk = { .data = key, .ulen = MSG_KEY_LEN,
		.flags = DB_DBT_USERMEM };
	DB *by_uuid = store_db(s, AREA_MSG, MSG_DB_BY_UUID);
	sup_err e;

	memset(d, 0, sizeof(*d));
	d->flags = DB_DBT_MALLOC;
	if ((e = store_err(by_uuid->pget(by_uuid, txn, &k, &pk, d, DB_RMW),
	    "message")) != SUP_OK)
		return e;
	if (pk.size != MSG_KEY_LEN || memcmp(key, ticket, UUID_LEN) != 0) {
		free(d->data);
		d->data = NULL;
		return SUP_ENOTFOUND;
	}
	return SUP_OK;
}

/*
 * Work out a ticket's message counts and the refs of its newest public
 * message and note again from its thread, as the posts kept them
 * (post_txn): after a message left it.
 */
static sup_err
recount(struct store *s, DB_TXN *txn, struct record_ticket *t)
{
	uint8_t start[UUID_LEN];
	DBT k = { .data = start, .size = UUID_LEN }, d = { 0 };
	DBC *cur;
	int rc, rc2;

	t->public_count = t->note_count = t->unanswered = t->replies = 0;
	t->has_public = t->has_note = false;
	memcpy(start, t->uuid, UUID_LEN);
	if ((rc = msg_db(s)->cursor(msg_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "messages cursor");
	for (rc = cur->get(cur, &k, &d, DB_SET_RANGE); rc == 0;
	    rc = cur->get(cur, &k, &d, DB_NEXT)) {
		uint32_t author;
		bool internal;
		size_t cut;

		if (k.size != MSG_KEY_LEN ||
		    memcmp(k.data, t->uuid, UUID_LEN) != 0)
			break;
		if (!record_message_tail(d.data, d.size, &cut, &author,
		    &internal)) {
			rc = EINVAL;
			break;
		}
		if (internal) {
			t->note_count++;
			t->has_note = t->has_refs;
			memcpy(t->last_note, (uint8_t *)k.data + UUID_LEN,
			    MSG_REF_LEN);
			continue;
		}
		t->public_count++;
		t->has_public = t->has_refs;
		memcpy(t->last_public, (uint8_t *)k.data + UUID_LEN,
		    MSG_REF_LEN);
		if (author == t->user) {
			t->unanswered++;
			t->replies = 0;
		} else {
			t->unanswered = 0;
			t->replies++;
		}
	}
	rc2 = cur->close(cur);
	if (rc == DB_NOTFOUND)
		rc = 0;
	if (rc == EINVAL) {
		fprintf(stderr, "support: a message record is not laid out as "
		    "expected\n");
		return SUP_EDB;
	}
	return store_err(rc != 0 ? rc : rc2, "messages walk");
}

/*
 * The event of an edit (the content before and after) or a deletion (the
 * content it had, and its time): the author and whether it was a note.
 */
static sup_err
changed_event(struct store *s, DB_TXN *txn, const struct change_args *a,
    const uint8_t key[MSG_KEY_LEN], const char *old, size_t old_len,
    uint32_t author, bool internal)
{
	char at[TIME_STRLEN + 1];
	struct event ev;
	sup_err e;

	event_init(&ev, a->content != NULL ? EV_MESSAGE_EDITED :
	    EV_MESSAGE_DELETED, a->u->id);
	ev.ticket = a->ticket;
	ev.message = key + UUID_LEN + 8;
	if (a->content != NULL)
		e = event_change_str(&ev, "content", old, old_len, a->content,
		    a->len);
	else
		e = event_data_str(&ev, "content", old, old_len);
	if (e == SUP_OK)
		e = event_data_int(&ev, "author", author);
	if (e == SUP_OK)
		e = event_data_bool(&ev, "is_internal", internal);
	if (e == SUP_OK && a->content == NULL) {
		time_format((int64_t)be64_get(key + UUID_LEN), at);
		e = event_data_cstr(&ev, "created_at", at);
	}
	return event_finish(s, txn, &ev, e);
}

static sup_err
change_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct change_args *a = arg;
	uint8_t key[MSG_KEY_LEN];
	struct record_ticket t;
	struct sbuf m = { 0 }, text = { 0 };
	char *old = NULL;
	size_t old_len, cut;
	uint32_t author;
	bool internal;
	struct view v;
	DBT d = { 0 };
	sup_err e;

	json_object_put(a->out);
	a->out = NULL;
	/* The ticket first, write-locked: the order of the posts. */
	if ((e = ticket_load(s, txn, a->u, a->ticket, DB_RMW, &t)) != SUP_OK)
		return e;
	if ((e = msg_get(s, txn, a->ticket, a->uuid, key, &d)) != SUP_OK)
		goto out;
	if (!record_message_tail(d.data, d.size, &cut, &author, &internal)) {
		e = SUP_EDB;
		goto out;
	}
	if ((e = record_message_content(d.data, d.size, &old, &old_len)) !=
	    SUP_OK)
		goto out;
	if (a->content != NULL && old_len == a->len &&
	    memcmp(old, a->content, a->len) == 0) {
		/* Nothing to change: the message as it is. */
		view_begin(&v, s, txn, a->u);
		e = view_message(&v, d.data, d.size, &a->out);
		view_end(&v);
		goto out;
	}
	DBT k = { .data = key, .size = MSG_KEY_LEN };
	if (a->content != NULL) {
		if ((e = record_message_edit(d.data, d.size, a->content,
		    a->len, a->html, time_now_us(), &m)) != SUP_OK)
			goto out;
		DBT nd = { .data = m.p, .size = (u_int32_t)m.len };
		if ((e = store_err(msg_db(s)->put(msg_db(s), txn, &k, &nd, 0),
		    "put")) != SUP_OK)
			goto out;
		view_begin(&v, s, txn, a->u);
		e = view_message(&v, m.p, m.len, &a->out);
		view_end(&v);
	} else {
		long n = 0;
		/* Its files go with it (attach.h): no one downloads them. */
		if ((e = att_forget(s, txn, a->ticket, a->uuid, &a->gone,
		    &n)) == SUP_OK &&
		    (e = store_err(msg_db(s)->del(msg_db(s), txn, &k, 0),
		    "del")) == SUP_OK)
			e = recount(s, txn, &t);
	}
	/* The revision moves: the thread's ETag, the view's cache. */
	if (e == SUP_OK)
		e = ticket_save(s, txn, &t, time_now_us(), &text);
	if (e == SUP_OK)
		e = changed_event(s, txn, a, key, old, old_len, author,
		    internal);
out:
	free(old);
	free(m.p);
	free(text.p);
	free(d.data);
	record_ticket_clear(&t);
	return e;
}

/* msg_edit and msg_delete: content NULL deletes. */
static sup_err
msg_change(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const uint8_t uuid[UUID_LEN],
    const char *content, size_t len, json_object **out)
{
	struct change_args a = { .u = u, .ticket = ticket, .uuid = uuid,
		.content = content, .len = len };
	json_object *o = NULL;
	char *html = NULL;
	sup_err e;

	if (out != NULL)
		*out = NULL;
	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	/* Rendered once, before the transaction: no lock is held for it. */
	if (content != NULL && (e = msg_render(content, len, &html)) != SUP_OK)
		return e;
	a.html = html;
	e = store_run_json(s, 0, change_txn, &a, &a.out, &o);
	free(html);
	/* After the commit (or the abort: then each still has its count). */
	(void)att_collect(s, &a.gone, NULL, false);
	if (out != NULL)
		*out = o;
	else
		json_object_put(o);
	return e;
}

sup_err
msg_edit(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const uint8_t uuid[UUID_LEN],
    const char *content, size_t len, json_object **out)
{
	return msg_change(s, u, ticket, uuid, content, len, out);
}

sup_err
msg_delete(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const uint8_t uuid[UUID_LEN])
{
	return msg_change(s, u, ticket, uuid, NULL, 0, NULL);
}

/* --- List ------------------------------------------------------------ */

struct list_args {
	const struct sup_user *u;
	const uint8_t *ticket, *after;
	const char *if_none_match;
	char *etag;
	bool presence;			/* msg_poll for staff */
	struct presence_scan ps;	/* what it read of presence */
	json_object *out;
};

/* Is tag one of the comma-separated entity tags of header (or "*")? */
static bool
etag_matches(const char *header, const char *tag)
{
	size_t n = strlen(tag);

	while (header != NULL && *header != '\0') {
		header += strspn(header, " \t,");
		if (strncmp(header, "W/", 2) == 0)
			header += 2;
		if (*header == '*')
			return true;
		if (strncmp(header, tag, n) == 0 &&
		    (header[n] == '\0' || header[n] == ',' || header[n] == ' '))
			return true;
		header = strchr(header, ',');
	}
	return false;
}

static sup_err
list_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct list_args *a = arg;
	uint8_t after_key[MSG_KEY_LEN];
	struct ticket_tail tt;
	struct view v;
	sup_err e;

	json_object_put(a->out);
	a->out = NULL;
	if ((e = ticket_peek(s, txn, a->u, a->ticket, &tt)) != SUP_OK)
		return e;
	/*
	 * The tag names the ticket's revision (moved on by every message and
	 * change), whose view it is, and the "after" point.  A poll that
	 * matches it is answered here: the cheapest request of all.  (A
	 * forged tag with a bad "after" gets 304 too, and learns nothing.)
	 */
	char after_hex[2 * UUID_LEN + 1] = "0";
	if (a->after != NULL)
		sodium_bin2hex(after_hex, sizeof(after_hex), a->after,
		    UUID_LEN);
	if (a->presence &&
	    (e = presence_scan(s, txn, a->u->id, a->ticket, time_now_us(),
	    &a->ps)) != SUP_OK)
		return e;
	if (a->presence && a->ps.others > 0)
		snprintf(a->etag, ETAG_MAX, "\"%" PRId64 "-s-%s-p%08" PRIx32
		    "\"", tt.rev, after_hex, a->ps.tag);
	else
		snprintf(a->etag, ETAG_MAX, "\"%" PRId64 "-%c-%s\"", tt.rev,
		    user_is_staff(a->u) ? 's' : 'c', after_hex);
	if (etag_matches(a->if_none_match, a->etag))
		return SUP_OK;
	if (a->after != NULL &&
	    (e = msg_find(s, txn, a->u, a->ticket, a->after, after_key)) !=
	    SUP_OK)
		return e;
	if ((a->out = json_object_new_array()) == NULL)
		return SUP_ENOMEM;
	view_begin(&v, s, txn, a->u);
	e = view_messages(&v, a->ticket, a->after ? after_key : NULL, a->out);
	view_end(&v);
	return e;
}

sup_err
msg_list(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const uint8_t *after,
    const char *if_none_match, char etag[ETAG_MAX], json_object **out)
{
	struct list_args a = { .u = u, .ticket = ticket, .after = after,
		.if_none_match = if_none_match, .etag = etag };

	*out = NULL;
	return store_run_json(s, STORE_READ, list_txn, &a, &a.out, out);
}

sup_err
msg_poll(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const uint8_t *after,
    const char *if_none_match, char etag[ETAG_MAX], json_object **out)
{
	struct list_args a = { .u = u, .ticket = ticket, .after = after,
		.if_none_match = if_none_match, .etag = etag,
		.presence = user_is_staff(u) };
	sup_err e, te;

	*out = NULL;
	e = store_run_json(s, STORE_READ, list_txn, &a, &a.out, out);
	if (e == SUP_OK && a.presence && a.ps.due &&
	    (te = presence_touch(s, u, ticket)) != SUP_OK)
		fprintf(stderr, "support: a presence mark was not written: "
		    "%s\n", sup_strerror(te));
	return e;
}

/* --- The area ---------------------------------------------------------- */

/* A message's uuid is the last 16 bytes of its primary key. */
static int
idx_msg_uuid(DB *sec SUP_UNUSED, const DBT *k, const DBT *d SUP_UNUSED, DBT *r)
{
	if (k->size != MSG_KEY_LEN)
		return DB_DONOTINDEX;
	r->data = (uint8_t *)k->data + MSG_KEY_LEN - UUID_LEN;
	r->size = UUID_LEN;
	return 0;
}

/* The area's check: every message is in the index, and only they. */
static sup_err
msg_verify(struct store *s, struct store_check *c)
{
	int64_t nmsg, nuuid;
	sup_err e;

	if ((e = store_count_db(msg_db(s), &nmsg)) != SUP_OK ||
	    (e = store_count_db(store_db(s, AREA_MSG, MSG_DB_BY_UUID),
	    &nuuid)) != SUP_OK)
		return e;
	if (nmsg != nuuid)
		store_problem(c, "%" PRId64 " messages but %" PRId64 " in "
		    "their index", nmsg, nuuid);
	return SUP_OK;
}

sup_err
msg_get_record(struct store *s, DB_TXN *txn, const uint8_t uuid[UUID_LEN],
    char **rec, size_t *len)
{
	DB *idx = store_db(s, AREA_MSG, MSG_DB_BY_UUID);
	DBT k = { .data = (void *)uuid, .size = UUID_LEN };
	DBT d = { .flags = DB_DBT_MALLOC };
	int rc;

	*rec = NULL;
	*len = 0;
	/* A get on the associated index gives the primary's record. */
	rc = idx->get(idx, txn, &k, &d, 0);
	if (rc == DB_NOTFOUND)
		return SUP_ENOTFOUND;
	if (rc != 0)
		return store_err(rc, "m_by_uuid");
	*rec = d.data;
	*len = d.size;
	return SUP_OK;
}

static const struct store_db msg_dbs[MSG_NDB] = {
	[MSG_DB_MESSAGES] = { .file = "messages.db", .type = DB_BTREE },
	[MSG_DB_BY_UUID] = { .file = "m_by_uuid.db", .type = DB_BTREE,
		.kind = STORE_ASSOCIATED, .primary = MSG_DB_MESSAGES,
		.key = idx_msg_uuid },
};

const struct store_area msg_area = {
	.name = "messages",
	.db = msg_dbs,
	.ndb = MSG_NDB,
	.verify = msg_verify,
};
