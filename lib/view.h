/*
 * view.h - turn stored records into the API objects of DESIGN §4 for one
 * reader: what a customer may see of a ticket differs from what staff see.
 *
 * Stored ticket: {"uuid", "number", "subject", "status", "priority",
 *   "user": id, "assignee": id|null, "created_at", "updated_at",
 *   "first_response_at", "resolved_at", "closed_at", "public_count",
 *   "note_count", "unanswered", "rev", "last_us"}
 * Stored message: {"uuid", "ticket", "user": id, "content", "content_html",
 *   "is_internal", "is_from_user", "created_at", "attachments"}
 */
#ifndef SUP_VIEW_H
#define SUP_VIEW_H

#include <db.h>
#include <json-c/json.h>

#include "store.h"
#include "user.h"
#include "util.h"

struct view_user;

struct view {
	struct store *s;
	DB_TXN *txn;
	const struct sup_user *reader;
	struct view_user *users;	/* users looked up so far */
	size_t nusers, capusers;
};

/* Start a view for reader inside txn; view_end() releases it. */
void view_begin(struct view *v, struct store *s, DB_TXN *txn,
    const struct sup_user *reader);
void view_end(struct view *v);

/* True when the reader may see the stored ticket (owner or staff). */
bool view_can_see(const struct view *v, json_object *ticket);

/*
 * The API object of a stored message or ticket for the reader.  A ticket
 * gets its last visible message; with_messages adds the "messages" array.
 * *out is new (json_object_put).
 */
sup_err view_message(struct view *v, json_object *msg, json_object **out);
sup_err view_ticket(struct view *v, json_object *ticket, bool with_messages,
    json_object **out);

/*
 * Append to array the reader-visible messages of the ticket after the
 * message key after (NULL: from the first).
 */
sup_err view_messages(struct view *v, const uint8_t ticket[UUID_LEN],
    const uint8_t *after_key, json_object *array);

/* Helpers for reading stored records. */
int64_t rec_int(json_object *rec, const char *name);
const char *rec_str(json_object *rec, const char *name);
bool rec_bool(json_object *rec, const char *name);

#endif
