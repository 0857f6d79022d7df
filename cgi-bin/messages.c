/*
 * messages - the chat thread of a ticket.
 *
 *   GET  /api/support/tickets/{uuid}/messages/[?after=<message uuid>]
 *   POST /api/support/tickets/{uuid}/messages/
 *        {content, is_internal?, last_seen?}
 *
 * the presence of agents on a ticket (collision detection, docs/api.md
 * "Presence"), staff only:
 *
 *   GET  /api/support/tickets/{uuid}/presence/
 *   POST /api/support/tickets/{uuid}/presence/  {typing?, viewing?}
 *
 * a message edited or deleted by staff, and its history (the audit log's
 * rows of it):
 *
 *   PATCH  /api/support/tickets/{uuid}/messages/{uuid}/  {content}
 *   DELETE /api/support/tickets/{uuid}/messages/{uuid}/
 *   GET    /api/support/tickets/{uuid}/messages/{uuid}/history/
 *
 * and the reply form of the chat page (docs/pages.md), through the same
 * handler, with the staff's edit and delete forms of each message:
 *
 *   POST /support/tickets/{uuid}/messages/  content, is_internal (staff),
 *                                            last_seen
 *   POST /support/tickets/{uuid}/messages/{uuid}/edit/    content
 *   POST /support/tickets/{uuid}/messages/{uuid}/delete/
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "msg.h"
#include "page.h"
#include "presence.h"
#include "ticket.h"
#include "tpage.h"
#include "valid.h"

static const struct field show_fields[] = {
	{ "after", F_STRING, 0, 1, UUID_STRLEN, NULL, NULL },
};

/*
 * GET /api/support/tickets/{uuid}/messages/?after=<uuid>
 * The owner or staff.  200 a JSON array, oldest first, with an ETag; 304
 * when If-None-Match has it; 400 a malformed "after"; 404.  For staff the
 * tag covers the other agents present too, and the poll marks its caller
 * as viewing (msg_poll).
 */
static sup_err
thread_show(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[1];
	uint8_t after[UUID_LEN];
	json_object *list;
	sup_err e;

	if ((e = valid_query(r, show_fields, 1, v)) != SUP_OK)
		return e;
	if (v[0].present && !uuid_parse(v[0].str, v[0].len, after))
		return valid_fail(r, "after", "Must be a message uuid.");
	e = msg_poll(&app->store, &r->user, r->uuid[0],
	    v[0].present ? after : NULL, req_env(r, "HTTP_IF_NONE_MATCH"),
	    r->etag, &list);
	if (e != SUP_OK)
		return e;
	return app_reply(r, list ? 200 : 304, list);
}

enum { CONTENT, INTERNAL, LAST_SEEN, NFIELDS };
static const struct field post_fields[NFIELDS] = {
	[CONTENT] = { "content", F_TEXT, FIELD_REQUIRED, 1, CONTENT_MAX, NULL,
		"text" },
	[INTERNAL] = { "is_internal", F_BOOL, 0, 0, 0, NULL, NULL },
	[LAST_SEEN] = { "last_seen", F_STRING, 0, 1, UUID_STRLEN, NULL, NULL },
};

/*
 * POST /api/support/tickets/{uuid}/messages/
 *   {content | text, is_internal?, last_seen?}
 * The owner or staff; internal notes staff only.  201 the message; 400
 * (a last_seen that is no message of this thread the caller can see is
 * named); 403 a customer's internal note; 404; 409 ticket_closed; 409
 * stale_thread when a message the caller can see came after last_seen,
 * with those messages under the envelope's top-level "messages".
 */
static sup_err
thread_post(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[NFIELDS];
	char ticket[UUID_STRLEN + 1], why[96];
	uint8_t seen[UUID_LEN];
	json_object *m, *newer;
	sup_err e;

	if ((e = valid_json(r, r->json, post_fields, NFIELDS, v)) != SUP_OK)
		return e;
	if (v[LAST_SEEN].present &&
	    !uuid_parse(v[LAST_SEEN].str, v[LAST_SEEN].len, seen))
		return valid_fail(r, "last_seen", "Must be a message uuid.");
	e = msg_post_seen(&app->store, &r->user, r->uuid[0], v[CONTENT].str,
	    v[CONTENT].len, v[INTERNAL].present && v[INTERNAL].b,
	    v[LAST_SEEN].present ? seen : NULL, &m, &newer);
	if (e == MSG_ESEEN) {
		uuid_format(seen, ticket);
		snprintf(why, sizeof(why), "No message %s in this ticket.",
		    ticket);
		return valid_fail(r, "last_seen", why);
	}
	if (e == MSG_ESTALE) {
		/* The envelope carries what the writer has not seen. */
		if ((r->err_extra = json_object_new_object()) == NULL ||
		    json_object_object_add(r->err_extra, "messages",
		    newer) != 0) {
			json_object_put(newer);
			return SUP_ENOMEM;
		}
		return e;
	}
	if (e != SUP_OK)
		return e;
	uuid_format(r->uuid[0], ticket);
	if (asprintf(&r->location, "%s/api/support/tickets/%s/messages/",
	    app->conf.url_prefix, ticket) < 0)
		r->location = NULL;
	return app_reply(r, 201, m);
}

/*
 * POST /support/tickets/{uuid}/messages/ content, is_internal (a form)
 * The owner or staff.  303 to the chat page; the chat page again with 400
 * and the field's message when the reply was refused, or with 409, the
 * messages that came after last_seen and the draft kept when the thread
 * moved (stale_thread); a 403, 404 or 409 (closed ticket) page.
 */
static sup_err
page_reply(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	char path[80], us[UUID_STRLEN + 1];
	json_object *t;
	sup_err e;

	e = thread_post(ctx, r);
	if (e == MSG_ESTALE) {
		/* The page again: the thread with what came in, the draft. */
		snprintf(r->err_msg, sizeof(r->err_msg), "%s",
		    sup_strerror(e));
	}
	if (e == SUP_EINVAL || e == SUP_EUNKNOWN || e == MSG_ESTALE) {
		sup_err te = ticket_show(&app->store, &r->user, r->uuid[0], &t);
		if (te != SUP_OK)
			return te;
		e = tpage_render(app, r, app_status(e), t, r->json, NULL,
		    NULL);
		json_object_put(t);
		return e;
	}
	if (e != SUP_OK)
		return e;
	uuid_format(r->uuid[0], us);
	snprintf(path, sizeof(path), "/support/tickets/%s/", us);
	return page_redirect(r, app->conf.url_prefix, path);
}

/*
 * GET /api/support/tickets/{uuid}/presence/
 * Staff (403 otherwise).  200 {"viewers": [{user, typing, seen_at}]}: the
 * other agents with the ticket open, and whether each is typing a reply;
 * 404.  Reads only: the caller is marked by their poll of the messages.
 */
static sup_err
presence_get(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *o;
	sup_err e;

	if ((e = presence_show(&app->store, &r->user, r->uuid[0], &o)) !=
	    SUP_OK)
		return e;
	return app_reply(r, 200, o);
}

enum { P_TYPING, P_VIEWING, P_NFIELDS };
static const struct field presence_fields[P_NFIELDS] = {
	[P_TYPING] = { "typing", F_BOOL, 0, 0, 0, NULL, NULL },
	[P_VIEWING] = { "viewing", F_BOOL, 0, 0, 0, NULL, NULL },
};

/*
 * POST /api/support/tickets/{uuid}/presence/ {typing?, viewing?}
 * Staff (403 otherwise).  The caller says they are typing a reply
 * ({"typing": true}), no more ({"typing": false}: still viewing), or left
 * the page ({"viewing": false}).  200 as GET, after the change; 400 a
 * body with neither field, a field not a boolean, typing without viewing;
 * 404.
 */
static sup_err
presence_post(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[P_NFIELDS];
	enum presence_mark how;
	json_object *o;
	sup_err e;

	if ((e = valid_json(r, r->json, presence_fields, P_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	if (!v[P_TYPING].present && !v[P_VIEWING].present)
		return valid_fail(r, "typing", "Give typing (or viewing).");
	if (v[P_VIEWING].present && !v[P_VIEWING].b) {
		if (v[P_TYPING].present && v[P_TYPING].b)
			return valid_fail(r, "typing",
			    "Cannot be true when viewing is false.");
		how = PRESENCE_GONE;
	} else
		how = v[P_TYPING].present && v[P_TYPING].b ? PRESENCE_TYPING :
		    PRESENCE_VIEWING;
	if ((e = presence_set(&app->store, &r->user, r->uuid[0], how, &o)) !=
	    SUP_OK)
		return e;
	return app_reply(r, 200, o);
}

enum { E_CONTENT, E_NFIELDS };
static const struct field edit_fields[E_NFIELDS] = {
	[E_CONTENT] = { "content", F_TEXT, FIELD_REQUIRED, 1, CONTENT_MAX,
		NULL, "text" },
};

/*
 * PATCH /api/support/tickets/{uuid}/messages/{uuid}/ {content | text}
 * Staff (403 otherwise, before anything is looked up).  200 the message
 * edited ("edited_at" set; the same content again changes nothing); 400
 * naming the field; 404 when the ticket or the message in it is not
 * there.
 */
static sup_err
message_edit(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[E_NFIELDS];
	json_object *m;
	sup_err e;

	if ((e = valid_json(r, r->json, edit_fields, E_NFIELDS, v)) != SUP_OK)
		return e;
	if ((e = msg_edit(&app->store, &r->user, r->uuid[0], r->uuid[1],
	    v[E_CONTENT].str, v[E_CONTENT].len, &m)) != SUP_OK)
		return e;
	return app_reply(r, 200, m);
}

/*
 * DELETE /api/support/tickets/{uuid}/messages/{uuid}/
 * Staff (403 otherwise).  204; 404 when the ticket or the message in it
 * is not there (a second DELETE: 404).
 */
static sup_err
message_delete(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	sup_err e;

	if ((e = msg_delete(&app->store, &r->user, r->uuid[0], r->uuid[1])) !=
	    SUP_OK)
		return e;
	return app_reply(r, 204, NULL);
}

/*
 * GET /api/support/tickets/{uuid}/messages/{uuid}/history/
 * Staff (403 otherwise).  200 the message's edits and deletion, newest
 * first, as rows of the audit log (docs/api.md "Audit log"): each with
 * its "changed" content from and to (a deletion: data.content).  404
 * when the ticket is not there; a message never edited (or unknown) has
 * an empty history.
 */
static sup_err
message_history(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct audit_query q = { .ticket = r->uuid[0], .message = r->uuid[1],
		.from_us = INT64_MIN, .to_us = INT64_MAX,
		.limit = AUDIT_PAGE_MAX };
	uint8_t next[AUDIT_CURSOR_LEN];
	json_object *t, *rows;
	bool more;
	sup_err e;

	if ((e = ticket_show(&app->store, &r->user, r->uuid[0], &t)) != SUP_OK)
		return e;
	json_object_put(t);
	if ((e = audit_list(&app->store, &q, &rows, &more, next)) != SUP_OK)
		return e;
	return app_reply(r, 200, rows);
}

/*
 * The staff's forms of a message on the ticket page: the page again
 * (303) once done; the page with 400 and the field's message when the
 * edit was refused; a 403 or 404 page.
 */
static sup_err
page_message_change(struct app *app, struct sup_req *r, bool del)
{
	char path[80], us[UUID_STRLEN + 1];
	json_object *t, *more = NULL, *note = NULL;
	sup_err e;

	e = del ? message_delete(app, r) : message_edit(app, r);
	if (e == SUP_EINVAL || e == SUP_EUNKNOWN) {
		/* Said at the top of the page: the reply box is another form. */
		sup_err te = ticket_show(&app->store, &r->user, r->uuid[0], &t);
		json_object *why = NULL;
		char text[512];

		if (te != SUP_OK)
			return te;
		/* The field's own words (its limit, say), else a plain ask. */
		if (r->err_fields == NULL || !json_object_object_get_ex(
		    r->err_fields, "content", &why) ||
		    !json_object_is_type(why, json_type_string))
			why = NULL;
		snprintf(text, sizeof(text), "%s", why != NULL ?
		    json_object_get_string(why) : "Give its new text.");
		json_object_put(r->err_fields);
		r->err_fields = NULL;
		if ((note = json_object_new_object()) == NULL ||
		    !json_set(note, "field", json_object_new_string("content")) ||
		    !json_set(note, "text", json_object_new_string(text)) ||
		    (more = json_object_new_object()) == NULL ||
		    json_object_object_add(more, "message_error", note) != 0) {
			json_object_put(note);
			json_object_put(more);
			json_object_put(t);
			return SUP_ENOMEM;
		}
		e = tpage_render(app, r, app_status(e), t, NULL, NULL, more);
		json_object_put(more);
		json_object_put(t);
		return e;
	}
	if (e != SUP_OK)
		return e;
	req_reset_reply(r);
	uuid_format(r->uuid[0], us);
	snprintf(path, sizeof(path), "/support/tickets/%s/", us);
	return page_redirect(r, app->conf.url_prefix, path);
}

/* POST /support/tickets/{uuid}/messages/{uuid}/edit/ content: staff. */
static sup_err
page_message_edit(void *ctx, struct sup_req *r)
{
	return page_message_change(ctx, r, false);
}

/* POST /support/tickets/{uuid}/messages/{uuid}/delete/: staff. */
static sup_err
page_message_delete(void *ctx, struct sup_req *r)
{
	return page_message_change(ctx, r, true);
}

static const struct route routes[] = {
	{ "GET", "/api/support/tickets/{uuid}/messages/", thread_show,
		ROUTE_LOGIN | ROUTE_QUERY, ROUTE_FIELDS(show_fields) },
	{ "POST", "/api/support/tickets/{uuid}/messages/", thread_post,
		ROUTE_LOGIN | ROUTE_BODY, ROUTE_FIELDS(post_fields) },
	{ "GET", "/api/support/tickets/{uuid}/presence/", presence_get,
		ROUTE_STAFF, ROUTE_NO_FIELDS },
	{ "POST", "/api/support/tickets/{uuid}/presence/", presence_post,
		ROUTE_STAFF | ROUTE_BODY,
		ROUTE_FIELDS(presence_fields) },
	{ "PATCH", "/api/support/tickets/{uuid}/messages/{uuid}/",
		message_edit, ROUTE_STAFF | ROUTE_BODY,
		ROUTE_FIELDS(edit_fields) },
	{ "DELETE", "/api/support/tickets/{uuid}/messages/{uuid}/",
		message_delete, ROUTE_STAFF, ROUTE_NO_FIELDS },
	{ "GET", "/api/support/tickets/{uuid}/messages/{uuid}/history/",
		message_history, ROUTE_STAFF, ROUTE_NO_FIELDS },
	{ "POST", "/support/tickets/{uuid}/messages/{uuid}/edit/",
		page_message_edit, ROUTE_STAFF | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(edit_fields) },
	{ "POST", "/support/tickets/{uuid}/messages/{uuid}/delete/",
		page_message_delete, ROUTE_STAFF | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_NO_FIELDS },
	{ "POST", "/support/tickets/{uuid}/messages/", page_reply,
		ROUTE_LOGIN | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(post_fields) },
};

int
main(int argc, char **argv)
{
	return app_main(argc, argv, "messages", routes, SUP_NELEM(routes));
}
