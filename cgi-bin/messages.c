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
 *
 * and the files on messages (docs/attachments.md):
 *
 *   GET  /api/support/attachments/{uuid}
 *   POST /api/support/tickets/{uuid}/attachments/  files, is_internal?
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "app.h"
#include "attach.h"
#include "audit.h"
#include "http.h"
#include "msg.h"
#include "page.h"
#include "presence.h"
#include "ticket.h"
#include "tpage.h"
#include "valid.h"

#define DOWNLOAD_CHUNK (256 * 1024)	/* bytes read and written at a time */

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
	/* Required unless files come: thread_post says so. */
	[CONTENT] = { "content", F_TEXT, 0, 0, CONTENT_MAX, NULL, "text" },
	[INTERNAL] = { "is_internal", F_BOOL, 0, 0, 0, NULL, NULL },
	[LAST_SEEN] = { "last_seen", F_STRING, 0, 1, UUID_STRLEN, NULL, NULL },
};

/*
 * POST /api/support/tickets/{uuid}/messages/
 *   {content | text, is_internal?, last_seen?}, as JSON, a form, or
 *   multipart/form-data with files (any field name; docs/attachments.md);
 *   content may be left out or empty when files come (a message of
 *   files only), and is required otherwise (400)
 * The owner or staff; internal notes staff only.  201 the message, its
 * files in "attachments"; 400 an empty file or too many, naming it; 403
 * uploads_disabled; 413 a file too large, naming it; 415 a file of a type
 * not taken, naming it; 400
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
	char ticket[UUID_STRLEN + 1], why[FNAME_MAX + 200];
	uint8_t seen[UUID_LEN];
	json_object *m, *newer;
	struct att_batch files;
	const char *field;
	sup_err e;

	if ((e = valid_json(r, r->json, post_fields, NFIELDS, v)) != SUP_OK)
		return e;
	if (v[LAST_SEEN].present &&
	    !uuid_parse(v[LAST_SEEN].str, v[LAST_SEEN].len, seen))
		return valid_fail(r, "last_seen", "Must be a message uuid.");
	if ((e = att_check(&app->conf, r->upload, &files, &field, why,
	    sizeof(why))) != SUP_OK) {
		(void)req_field_error(r, field, why);
		snprintf(r->err_msg, sizeof(r->err_msg), "%.200s", why);
		return e;
	}
	/* A message of files only is one; of nothing, not. */
	if (files.n == 0 && (!v[CONTENT].present || v[CONTENT].len == 0))
		return valid_fail(r, "content", v[CONTENT].present ?
		    "This field may not be blank." :
		    "This field is required.");
	e = msg_post_files(&app->store, &r->user, r->uuid[0],
	    v[CONTENT].present ? v[CONTENT].str : "",
	    v[CONTENT].present ? v[CONTENT].len : 0,
	    v[INTERNAL].present && v[INTERNAL].b,
	    v[LAST_SEEN].present ? seen : NULL, &files, &m, &newer);
	att_batch_free(&files);
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

enum { A_INTERNAL, A_NFIELDS };
static const struct field att_fields[A_NFIELDS] = {
	[A_INTERNAL] = { "is_internal", F_BOOL, 0, 0, 0, NULL, NULL },
};

/*
 * POST /api/support/tickets/{uuid}/attachments/
 *   multipart/form-data: files (any field name), is_internal?
 * A message of files only (no text), as POST .../messages/ with files
 * and no content: the owner or staff; internal (a note's files) staff
 * only.  201 the message, its files in "attachments"; 400 no file (a
 * body that is not multipart, or has none), a field other than
 * is_internal, an empty file or too many; 403 uploads_disabled, a
 * customer's internal note; 404; 409 ticket_closed; 413; 415.
 */
static sup_err
attachments_post(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[A_NFIELDS];
	char ticket[UUID_STRLEN + 1], why[FNAME_MAX + 200];
	json_object *m, *newer;
	struct att_batch files;
	const char *field;
	sup_err e;

	if ((e = valid_json(r, r->json, att_fields, A_NFIELDS, v)) != SUP_OK)
		return e;
	if (r->upload == NULL || r->upload->nfiles == 0)
		return valid_fail(r, "files", "Send one or more files, as "
		    "multipart/form-data.");
	if ((e = att_check(&app->conf, r->upload, &files, &field, why,
	    sizeof(why))) != SUP_OK) {
		(void)req_field_error(r, field, why);
		snprintf(r->err_msg, sizeof(r->err_msg), "%.200s", why);
		return e;
	}
	e = msg_post_files(&app->store, &r->user, r->uuid[0], "", 0,
	    v[A_INTERNAL].present && v[A_INTERNAL].b, NULL, &files, &m,
	    &newer);
	att_batch_free(&files);
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
	/* A file refused: the page again too, the draft kept. */
	if (e == SUP_EINVAL || e == SUP_EUNKNOWN || e == MSG_ESTALE ||
	    e == ATT_EEMPTY || e == ATT_ETYPE || e == ATT_EDISABLED) {
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

/* --- Attachments: the download (docs/attachments.md) ------------------ */

/* The Content-Security-Policy of a download: nothing runs, ever. */
static const char download_csp[] = "sandbox; default-src 'none'";

/*
 * GET /api/support/attachments/{uuid}
 * The ticket's owner and staff (a note's files: staff only); 404 for
 * anyone else, as for tickets.  200 the file, as an attachment under
 * its safe name, with the Content-Type of its checked type,
 * X-Content-Type-Options: nosniff, a sandboxing Content-Security-Policy
 * and its hash as ETag; 206 one byte range (Range; If-Range); 304 for
 * If-None-Match; 416 a range past its end.  With attachment_sendfile the
 * web server sends the bytes (X-Accel-Redirect, X-Sendfile); otherwise
 * they are read and written in pieces, never whole in memory.
 */
static sup_err
attachment_get(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct att_info a;
	char hex[2 * ATT_SHA_LEN + 1], *disp = NULL, *buf = NULL;
	uint64_t from = 0, to = 0, left;
	const char *range, *if_range;
	int status = 200, fd = -1, rr = 0;
	sup_err e;

	if ((e = att_get(&app->store, &r->user, r->uuid[0], &a)) != SUP_OK)
		return e;
	sodium_bin2hex(hex, sizeof(hex), a.sha256, ATT_SHA_LEN);
	snprintf(r->etag, sizeof(r->etag), "\"%s\"", hex);
	if (http_tag_in(req_env(r, "HTTP_IF_NONE_MATCH"), r->etag)) {
		r->status = 304;
		return http_send_head(r, 304, NULL, download_csp);
	}
	range = req_env(r, "HTTP_RANGE");
	if_range = req_env(r, "HTTP_IF_RANGE");
	if (range != NULL && (if_range == NULL || http_tag_in(if_range, r->etag)))
		rr = http_range(range, a.size, &from, &to);
	if (rr < 0) {
		if ((e = req_add_header(r, "Content-Range: bytes */%llu",
		    (unsigned long long)a.size)) != SUP_OK)
			return e;
		snprintf(r->err_msg, sizeof(r->err_msg), "The range is not "
		    "within the file's %llu bytes.",
		    (unsigned long long)a.size);
		return http_send_error(r, 416, SUP_EINVAL);
	}
	if (rr == 0) {
		from = 0;
		to = a.size - 1;
	} else
		status = 206;
	if ((disp = fname_disposition(a.name)) == NULL)
		return SUP_ENOMEM;
	/* (Cache-Control: private, no-cache comes with every answer.) */
	if ((e = req_add_header(r, "Content-Disposition: %s", disp)) !=
	    SUP_OK ||
	    (e = req_add_header(r, "Accept-Ranges: bytes")) != SUP_OK)
		goto out;
	if (app->conf.attachment_sendfile[0] == 'x') {
		/* The web server sends the bytes, Range and all. */
		if (strcmp(app->conf.attachment_sendfile,
		    "x-accel-redirect") == 0)
			e = req_add_header(r, "X-Accel-Redirect: %s/%s",
			    app->conf.attachment_accel_prefix, a.rel);
		else
			e = req_add_header(r, "X-Sendfile: %s", a.path);
		if (e == SUP_OK)
			e = http_send_head(r, 200, ftype_mime(a.type),
			    download_csp);
		goto out;
	}
	if ((fd = open(a.path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "support: attachment file %s: %s\n", a.path,
		    strerror(errno));
		e = SUP_EIO;
		goto out;
	}
	left = a.size == 0 ? 0 : to - from + 1;
	if ((status == 206 && (e = req_add_header(r, "Content-Range: bytes "
	    "%llu-%llu/%llu", (unsigned long long)from,
	    (unsigned long long)to, (unsigned long long)a.size)) != SUP_OK) ||
	    (e = req_add_header(r, "Content-Length: %llu",
	    (unsigned long long)left)) != SUP_OK)
		goto out;
	r->status = status;
	if ((e = http_send_head(r, status, ftype_mime(a.type),
	    download_csp)) != SUP_OK || strcmp(r->method, "HEAD") == 0)
		goto out;
	if ((buf = malloc(DOWNLOAD_CHUNK)) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	while (left > 0) {
		size_t want = left < DOWNLOAD_CHUNK ? (size_t)left :
		    DOWNLOAD_CHUNK;
		ssize_t n = pread(fd, buf, want, (off_t)from);
		if (n <= 0) {
			/* The head is sent: the answer is cut short. */
			fprintf(stderr, "support: attachment file %s: read "
			    "failed\n", a.path);
			e = SUP_EIO;
			break;
		}
		if ((e = http_write(r, buf, (size_t)n)) != SUP_OK)
			break;
		from += (uint64_t)n;
		left -= (uint64_t)n;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(disp);
	/* Sent: a failure now is the connection's, not an error answer. */
	return r->sent ? SUP_OK : e;
}

static const struct route routes[] = {
	{ "GET", "/api/support/tickets/{uuid}/messages/", thread_show,
		ROUTE_LOGIN | ROUTE_QUERY, ROUTE_FIELDS(show_fields) },
	{ "POST", "/api/support/tickets/{uuid}/messages/", thread_post,
		ROUTE_LOGIN | ROUTE_BODY | ROUTE_UPLOAD,
		ROUTE_FIELDS(post_fields) },
	{ "POST", "/api/support/tickets/{uuid}/attachments/",
		attachments_post, ROUTE_LOGIN | ROUTE_BODY | ROUTE_UPLOAD,
		ROUTE_FIELDS(att_fields) },
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
		ROUTE_LOGIN | ROUTE_BODY | ROUTE_PAGE | ROUTE_UPLOAD,
		ROUTE_FIELDS(post_fields) },
	{ "GET", ATT_URL "{uuid}", attachment_get, ROUTE_LOGIN,
		ROUTE_NO_FIELDS },
};

int
main(int argc, char **argv)
{
	return app_main(argc, argv, "messages", routes, SUP_NELEM(routes));
}
