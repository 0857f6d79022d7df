/*
 * msg.c - the chat thread of a ticket.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark.h>
#include <sodium.h>

#include "msg.h"
#include "ticket.h"
#include "util.h"
#include "view.h"

void
msg_key_new(uint8_t key[MSG_KEY_LEN], const uint8_t ticket[UUID_LEN],
    int64_t us)
{
	memcpy(key, ticket, UUID_LEN);
	be64_put(key + UUID_LEN, (uint64_t)us);
	uuid_gen(key + UUID_LEN + 8);
}

sup_err
msg_insert(struct store *s, DB_TXN *txn, const uint8_t key[MSG_KEY_LEN],
    uint32_t sender, const char *content, size_t len, bool internal,
    bool from_user, json_object **rec)
{
	const uint8_t *ticket = key;
	int64_t us = (int64_t)be64_get(key + UUID_LEN);
	char tbuf[TIME_STRLEN + 1], ubuf[UUID_STRLEN + 1];
	json_object *m;
	char *html;
	sup_err e;

	if (rec != NULL)
		*rec = NULL;
	/* Safe mode: raw HTML and javascript: links never come through. */
	if ((html = cmark_markdown_to_html(content, len, CMARK_OPT_SAFE)) ==
	    NULL)
		return SUP_ENOMEM;
	if ((m = json_object_new_object()) == NULL) {
		free(html);
		return SUP_ENOMEM;
	}
	uuid_format(key + UUID_LEN + 8, ubuf);
	json_object_object_add(m, "uuid", json_object_new_string(ubuf));
	uuid_format(ticket, ubuf);
	json_object_object_add(m, "ticket", json_object_new_string(ubuf));
	json_object_object_add(m, "content",
	    json_object_new_string_len(content, (int)len));
	json_object_object_add(m, "content_html", json_object_new_string(html));
	free(html);
	json_object_object_add(m, "is_from_user",
	    json_object_new_boolean(from_user));
	json_object_object_add(m, "is_internal",
	    json_object_new_boolean(internal));
	json_object_object_add(m, "attachments", json_object_new_array());
	time_format(us, tbuf);
	json_object_object_add(m, "created_at", json_object_new_string(tbuf));
	/* Last, where view.c looks for it (see "Records" there). */
	json_object_object_add(m, "user", json_object_new_int64(sender));
	e = store_put(s->messages, txn, key, MSG_KEY_LEN, m, DB_NOOVERWRITE);
	if (e == SUP_OK && rec != NULL)
		*rec = json_object_get(m);
	json_object_put(m);
	return e;
}

/* --- Post ------------------------------------------------------------ */

struct post_args {
	const struct sup_user *u;
	const uint8_t *ticket;
	const char *content;
	size_t len;
	bool internal;
	json_object *out;
};

static void
set_int(json_object *t, const char *name, int64_t v)
{
	json_object_object_add(t, name, json_object_new_int64(v));
}

static sup_err
post_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct post_args *a = arg;
	const struct sup_user *u = a->u;
	uint8_t key[MSG_KEY_LEN];
	json_object *t, *m = NULL;
	int64_t now, us;
	bool from_user;
	struct view v;
	sup_err e;

	json_object_put(a->out);
	a->out = NULL;
	/* Write-locking the ticket first orders the posts to one thread. */
	if ((e = ticket_load(s, txn, u, a->ticket, DB_RMW, &t)) != SUP_OK)
		return e;
	from_user = (uint32_t)rec_int(t, "user") == u->id;
	if (strcmp(rec_str(t, "status") ? rec_str(t, "status") : "",
	    "closed") == 0 && !user_is_staff(u)) {
		e = SUP_ECLOSED;
		goto out;
	}
	/*
	 * Times within a thread strictly increase, so "?after=" never misses
	 * a message whose writer read the clock a little earlier.
	 */
	now = time_now_us();
	us = now > rec_int(t, "last_us") ? now : rec_int(t, "last_us") + 1;
	msg_key_new(key, a->ticket, us);
	if ((e = msg_insert(s, txn, key, u->id, a->content, a->len,
	    a->internal, from_user, &m)) != SUP_OK)
		goto out;
	set_int(t, "last_us", us);
	/*
	 * The newest message of each kind, so that a list finds a ticket's
	 * last message without a walk.  A record from before these fields
	 * is left without them (readers then walk): the last note of its
	 * thread is not known here.
	 */
	if (json_object_object_get_ex(t, "last_public", NULL)) {
		char ref[MSG_REF_STRLEN + 1];
		view_msg_ref(key, ref);
		json_object_object_add(t, a->internal ? "last_note" :
		    "last_public", json_object_new_string(ref));
	}
	if (a->internal)
		set_int(t, "note_count", rec_int(t, "note_count") + 1);
	else {
		set_int(t, "public_count", rec_int(t, "public_count") + 1);
		if (from_user) {
			set_int(t, "unanswered", rec_int(t, "unanswered") + 1);
			e = ticket_set_status(s, txn, t, ST_WAITING_FOR_ADMIN,
			    us);
		} else {
			set_int(t, "unanswered", 0);
			json_object *first;
			if (!json_object_object_get_ex(t, "first_response_at",
			    &first) || first == NULL)
				json_object_object_add(t, "first_response_at",
				    json_object_get(json_object_object_get(m,
				    "created_at")));
			e = ticket_set_status(s, txn, t, ST_WAITING_FOR_USER,
			    us);
		}
		if (e != SUP_OK)
			goto out;
	}
	if ((e = ticket_save(s, txn, t, us)) != SUP_OK)
		goto out;
	view_begin(&v, s, txn, u);
	e = view_message(&v, m, &a->out);
	view_end(&v);
out:
	json_object_put(m);
	json_object_put(t);
	return e;
}

sup_err
msg_post(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    bool internal, json_object **out)
{
	struct post_args a = { .u = u, .ticket = ticket, .content = content,
		.len = len, .internal = internal };

	*out = NULL;
	if (internal && !user_is_staff(u))
		return SUP_EFORBIDDEN;
	return store_run_json(s, 0, post_txn, &a, &a.out, out);
}

/* --- List ------------------------------------------------------------ */

struct list_args {
	const struct sup_user *u;
	const uint8_t *ticket, *after;
	const char *if_none_match;
	char *etag;
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
	snprintf(a->etag, ETAG_MAX, "\"%" PRId64 "-%c-%s\"", tt.rev,
	    user_is_staff(a->u) ? 's' : 'c', after_hex);
	if (etag_matches(a->if_none_match, a->etag))
		return SUP_OK;
	if (a->after != NULL) {
		DBT k = { .data = (void *)a->after, .size = UUID_LEN };
		DBT pk = { .data = after_key, .ulen = sizeof(after_key),
			.flags = DB_DBT_USERMEM };
		DBT d = { .flags = DB_DBT_MALLOC };
		int rc = s->m_by_uuid->pget(s->m_by_uuid, txn, &k, &pk, &d, 0);
		if (rc != 0)
			return store_err(rc, "message");
		/* A note the reader may not see does not exist for them. */
		json_object *m = NULL;
		e = store_parse(&d, &m);
		bool hidden = !user_is_staff(a->u) && rec_bool(m, "is_internal");
		json_object_put(m);
		free(d.data);
		if (e != SUP_OK)
			return e;
		if (pk.size != MSG_KEY_LEN || hidden ||
		    memcmp(after_key, a->ticket, UUID_LEN) != 0)
			return SUP_ENOTFOUND;
	}
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
