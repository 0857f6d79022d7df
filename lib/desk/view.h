/*
 * view.h - turn stored records into the API objects of DESIGN §4 for one
 * reader: what a customer may see of a ticket differs from what staff see.
 *
 * Stored ticket: {"uuid", "number", "subject", "status", "priority",
 *   "created_at", "updated_at", "first_response_at", "resolved_at",
 *   "closed_at", then the internal fields "user": id, "assignee": id|null,
 *   "public_count", "note_count", "unanswered", "rev", "last_us",
 *   "last_public": ref|null, "last_note": ref|null}, where a ref names the
 *   newest public message / internal note: the created time (8 bytes
 *   big-endian) and uuid of its key, in lowercase hex (48 characters).
 *   Records written before the last two fields existed are read too: the
 *   last message is then found by walking the thread.
 * Stored message: {"uuid", "ticket", "content", "content_html",
 *   "is_from_user", "is_internal", "attachments", "created_at", then
 *   "user": id}
 *
 * The API objects come out as "raw" json-c objects, lib/text/jtext.h's text
 * objects: they print as their JSON text, spliced from the stored text,
 * but hold no members.  Read one in place with lib/text/jtext.h (as the pages
 * do), or parse it with view_expand().
 */
#ifndef SUP_VIEW_H
#define SUP_VIEW_H

#include <db.h>
#include <json-c/json.h>

#include "msg.h"
#include "store.h"
#include "user.h"
#include "util.h"

struct view {
	struct store *s;
	DB_TXN *txn;
	const struct sup_user *reader;
	DBC *messages;			/* a cursor kept for the whole view */
	void *bulk;			/* its bulk-read buffer, or NULL */
	size_t bulk_cap;
	int64_t now;			/* when it began (user_public_text) */
};

/* A message key without its ticket: created_us(8) uuid(16). */
#define MSG_REF_LEN (MSG_KEY_LEN - UUID_LEN)
#define MSG_REF_STRLEN (2 * MSG_REF_LEN)	/* in hex, without the NUL */

/* The internal fields at the end of a stored ticket. */
struct ticket_tail {
	size_t cut;		/* where they start in the text */
	uint32_t user, assignee;
	int64_t public_count, note_count, unanswered, rev, last_us;
	bool has_refs;		/* false: an older record without them */
	bool has_public, has_note;
	uint8_t last_public[MSG_REF_LEN], last_note[MSG_REF_LEN];
};

/* The ref of the message with key (the tail's "last_public" text). */
void view_msg_ref(const uint8_t key[MSG_KEY_LEN],
    char out[MSG_REF_STRLEN + 1]);

/*
 * Start a view for reader inside txn, as of now (the clock is read once
 * for the users it shows); view_end() releases it.
 */
void view_begin(struct view *v, struct store *s, DB_TXN *txn,
    const struct sup_user *reader);
void view_end(struct view *v);

/* Read the tail of a stored ticket; false when it is not laid out so. */
bool view_ticket_tail(const char *rec, size_t len, struct ticket_tail *tt);

/*
 * The head fields a post rewrites, in their stored order: each value is
 * null or a string with nothing escaped in it.
 */
enum ticket_head_field {
	TH_STATUS, TH_PRIORITY, TH_CREATED_AT, TH_UPDATED_AT,
	TH_FIRST_RESPONSE_AT, TH_RESOLVED_AT, TH_CLOSED_AT, TH_MAX
};

struct ticket_head {
	size_t from[TH_MAX], to[TH_MAX];	/* each value's text */
};

/*
 * Find the head fields of a stored ticket whose tail (view_ticket_tail)
 * is tt; false when the record is not laid out so.
 */
bool view_ticket_head(const char *rec, size_t len,
    const struct ticket_tail *tt, struct ticket_head *th);

/*
 * Append the stored ticket rec again to out, with the head values in val
 * (JSON text; NULL: as it is) and the tail tt, in the stored layout.  A
 * post changes a ticket so, without parsing and printing it (out->failed
 * says when memory ran out).
 */
void view_ticket_write(const char *rec, const struct ticket_head *th,
    const char *const val[TH_MAX], const struct ticket_tail *tt,
    struct sbuf *out);

/* Is a stored message laid out as the view expects? */
bool view_message_layout_ok(const char *rec, size_t len);

/*
 * The API object of a stored ticket (its text, or its parsed record) for
 * the reader, with its last visible message, and with "messages" when
 * with_messages.  *out is new (json_object_put).
 */
sup_err view_ticket_text(struct view *v, const char *rec, size_t len,
    bool with_messages, json_object **out);
sup_err view_ticket(struct view *v, json_object *ticket, bool with_messages,
    json_object **out);

/* view_ticket_text appending the object's text to b instead. */
sup_err view_ticket_add(struct view *v, const char *rec, size_t len,
    bool with_messages, struct sbuf *b);

/*
 * A list's item: view_ticket_add without messages, for the ticket whose
 * key (its uuid) the caller has at hand, so that the text is not read for
 * it again.  SUP_EDB when rec is not laid out as a ticket.
 */
sup_err view_ticket_list_add(struct view *v, const uint8_t uuid[UUID_LEN],
    const char *rec, size_t len, struct sbuf *b);

/*
 * A raw object printing as the JSON text in b, which it takes (b is left
 * empty); NULL when out of memory or when b had failed.
 */
json_object *view_raw(struct sbuf *b);

/* The API object of a stored message (its text) for the reader. */
sup_err view_message(struct view *v, const char *rec, size_t len,
    json_object **out);

/*
 * Append to array the reader-visible messages of the ticket after the
 * message key after_key (NULL: from the first).
 */
sup_err view_messages(struct view *v, const uint8_t ticket[UUID_LEN],
    const uint8_t *after_key, json_object *array);

/*
 * A raw object (as the view functions make) parsed into members; any
 * other object is returned as it is.  New reference either way; NULL when
 * out of memory.
 */
json_object *view_expand(json_object *o);

/* Helpers for reading stored records. */
int64_t rec_int(json_object *rec, const char *name);
const char *rec_str(json_object *rec, const char *name);
bool rec_bool(json_object *rec, const char *name);

#endif
