/*
 * view.h - turn stored records into the API objects of DESIGN §4 for one
 * reader: what a customer may see of a ticket differs from what staff see.
 * The records' layout is the codec's (record.h); the view asks it for the
 * fields and splices the stored text.
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
#include "record.h"
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

/*
 * Start a view for reader inside txn, as of now (the clock is read once
 * for the users it shows); view_end() releases it.
 */
void view_begin(struct view *v, struct store *s, DB_TXN *txn,
    const struct sup_user *reader);
void view_end(struct view *v);

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
