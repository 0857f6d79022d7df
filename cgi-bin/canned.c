/*
 * canned - the staff's canned responses over HTTP (lib/desk/canned.h).
 *
 *   GET    /api/support/canned-responses/               staff: those seen
 *   POST   /api/support/canned-responses/               staff: make one
 *   GET    /api/support/canned-responses/{id}/          staff
 *   PATCH  /api/support/canned-responses/{id}/          staff (shared: admins)
 *   DELETE /api/support/canned-responses/{id}/          staff (shared: admins)
 *   POST   /api/support/canned-responses/{id}/render/   staff: {"ticket"}
 *                                                       -> {"content"}
 *
 * and the page to manage them (docs/pages.md), through the same library
 * calls and checks:
 *
 *   GET  /support/canned/               the list and the new-reply form
 *   POST /support/canned/               make one, 303 to the list
 *   GET  /support/canned/{id}/          the edit form
 *   POST /support/canned/{id}/          change it, 303 to the list
 *   POST /support/canned/{id}/delete/   delete it, 303 to the list
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "canned.h"
#include "valid.h"

#define CANNED_PATH "/api/support/canned-responses/"

enum { CF_TITLE, CF_BODY, CF_SHORTCUT, CF_SHARED, CF_NFIELDS };

static const struct field create_fields[CF_NFIELDS] = {
	[CF_TITLE] = { "title", F_STRING, FIELD_REQUIRED, 1, CANNED_TITLE_MAX,
		NULL, NULL },
	[CF_BODY] = { "body", F_STRING, FIELD_REQUIRED, 1, CANNED_BODY_MAX,
		NULL, NULL },
	[CF_SHORTCUT] = { "shortcut", F_STRING, FIELD_NULLABLE, 0,
		CANNED_SHORTCUT_MAX, NULL, NULL },
	[CF_SHARED] = { "shared", F_BOOL, 0, 0, 0, NULL, NULL },
};

static const struct field change_fields[CF_NFIELDS] = {
	[CF_TITLE] = { "title", F_STRING, 0, 1, CANNED_TITLE_MAX, NULL, NULL },
	[CF_BODY] = { "body", F_STRING, 0, 1, CANNED_BODY_MAX, NULL, NULL },
	[CF_SHORTCUT] = { "shortcut", F_STRING, FIELD_NULLABLE, 0,
		CANNED_SHORTCUT_MAX, NULL, NULL },
	[CF_SHARED] = { "shared", F_BOOL, 0, 0, 0, NULL, NULL },
};

/* The checked fields v as a canned_in (an empty shortcut is none). */
static void
in_of(const struct value *v, struct canned_in *in)
{
	memset(in, 0, sizeof(*in));
	in->has_title = v[CF_TITLE].present;
	in->title = v[CF_TITLE].str;
	in->has_body = v[CF_BODY].present;
	in->body = v[CF_BODY].str;
	in->has_shortcut = v[CF_SHORTCUT].present;
	in->shortcut = v[CF_SHORTCUT].is_null || v[CF_SHORTCUT].len == 0 ?
	    NULL : v[CF_SHORTCUT].str;
	in->has_shared = v[CF_SHARED].present;
	in->shared = v[CF_SHARED].b;
}

/* The error e of a write, with its field named when it has one. */
static sup_err
write_error(struct sup_req *r, sup_err e, const struct canned_why *why)
{
	if ((e == SUP_EINVAL || e == SUP_EEXIST) && why->field != NULL &&
	    req_field_error(r, why->field, why->text) != SUP_OK)
		return SUP_ENOMEM;
	return e;
}

/*
 * POST /api/support/canned-responses/ {title, body, shortcut?, shared?}
 * Staff (shared: admins; an agent gets 403).  201 the response; 400 a bad
 * field (an unknown placeholder, a body that does not parse); 409 the
 * shortcut is taken among the caller's responses.
 */
static sup_err
canned_post(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[CF_NFIELDS];
	struct canned_in in;
	struct canned_why why = { 0 };
	json_object *o, *id;
	sup_err e;

	if ((e = valid_json(r, r->json, create_fields, CF_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	in_of(v, &in);
	if ((e = canned_create(&app->store, &r->user, &in, &why, &o)) !=
	    SUP_OK)
		return write_error(r, e, &why);
	if (json_object_object_get_ex(o, "id", &id) && asprintf(&r->location,
	    "%s" CANNED_PATH "%lld/", app->conf.url_prefix,
	    (long long)json_object_get_int64(id)) < 0)
		r->location = NULL;
	return app_reply(r, 201, o);
}

/*
 * GET /api/support/canned-responses/
 * Staff.  200 {count, results}: the shared responses and the caller's
 * own, by title.
 */
static sup_err
canned_index(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *arr, *o;
	sup_err e;

	if ((e = canned_list(&app->store, &r->user, &arr)) != SUP_OK)
		return e;
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(arr);
		return SUP_ENOMEM;
	}
	if (!json_set(o, "count", json_object_new_int64(
	    (int64_t)json_object_array_length(arr))) ||
	    json_object_object_add(o, "results", arr) != 0) {
		json_object_put(arr);
		json_object_put(o);
		return SUP_ENOMEM;
	}
	return app_reply(r, 200, o);
}

/*
 * GET /api/support/canned-responses/{id}/
 * Staff.  200 the response; 404 when absent or another's personal one.
 */
static sup_err
canned_show(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *o;
	sup_err e;

	if ((e = canned_get(&app->store, &r->user, r->id, &o)) != SUP_OK)
		return e;
	return app_reply(r, 200, o);
}

/*
 * PATCH /api/support/canned-responses/{id}/ {title?, body?, shortcut?,
 * shared?}
 * Staff: its owner for a personal one, admins for a shared one (an agent:
 * 403; another's personal one: 404).  200 the response; 400, 409 as POST.
 */
static sup_err
canned_patch(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[CF_NFIELDS];
	struct canned_in in;
	struct canned_why why = { 0 };
	json_object *o;
	sup_err e;

	if ((e = valid_json(r, r->json, change_fields, CF_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	in_of(v, &in);
	if ((e = canned_update(&app->store, &r->user, r->id, &in, &why,
	    &o)) != SUP_OK)
		return write_error(r, e, &why);
	return app_reply(r, 200, o);
}

/*
 * DELETE /api/support/canned-responses/{id}/
 * As PATCH.  204.
 */
static sup_err
canned_remove(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	sup_err e;

	if ((e = canned_delete(&app->store, &r->user, r->id)) != SUP_OK)
		return e;
	return app_reply(r, 204, NULL);
}

static const struct field render_fields[] = {
	{ "ticket", F_STRING, FIELD_REQUIRED, 1, UUID_STRLEN, NULL, NULL },
};

/*
 * POST /api/support/canned-responses/{id}/render/ {ticket}
 * Staff who see the response.  200 {"content"}: its body with the
 * placeholders filled for the ticket and the caller; 400 a ticket that is
 * no UUID; 404 no such response or ticket.
 */
static sup_err
canned_render_route(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[1];
	struct canned_why why = { 0 };
	uint8_t uuid[UUID_LEN];
	json_object *o;
	char *text;
	sup_err e;

	if ((e = valid_json(r, r->json, render_fields, 1, v)) != SUP_OK)
		return e;
	if (!uuid_parse(v[0].str, v[0].len, uuid))
		return valid_fail(r, "ticket", "Must be a ticket's UUID.");
	if ((e = canned_render(&app->store, &r->user, r->id, uuid, &why,
	    &text)) != SUP_OK)
		return write_error(r, e, &why);
	o = json_object_new_object();
	if (o == NULL || !json_set(o, "content",
	    json_object_new_string(text))) {
		free(text);
		json_object_put(o);
		return SUP_ENOMEM;
	}
	free(text);
	return app_reply(r, 200, o);
}

/* --- Pages ------------------------------------------------------------ */

#define PAGE_CANNED "/support/canned/"

/* The placeholders, as the form's help shows them (not a template's). */
#define PLACEHOLDERS "{{customer.name}}, {{customer.email}}, " \
	"{{ticket.number}}, {{ticket.subject}}, {{agent.name}}"

/* May u change response rec (shared: admins; personal: its owner)? */
static bool
can_edit(const struct sup_user *u, json_object *rec)
{
	json_object *v;

	if (json_object_object_get_ex(rec, "shared", &v) &&
	    json_object_get_boolean(v))
		return u->role == ROLE_ADMIN;
	return json_object_object_get_ex(rec, "owner", &v) &&
	    (uint32_t)json_object_get_int64(v) == u->id;
}

/*
 * The page's context: the shared one, "placeholders", "is_admin",
 * "form_action" (the path the form posts to, after the prefix) and
 * "form_heading"; with list, "listing": {"responses": the list with
 * can_edit and personal added to each, "empty"}.  New object or NULL.
 */
static json_object *
canned_context(struct app *app, struct sup_req *r, const char *title,
    const char *action, const char *heading, json_object *list)
{
	json_object *pc, *listing;

	if ((pc = page_context(&app->page, r, title)) == NULL)
		return NULL;
	if (!json_set(pc, "placeholders", json_object_new_string(
	    PLACEHOLDERS)) || !json_set(pc, "is_admin",
	    json_object_new_boolean(r->user.role == ROLE_ADMIN)) ||
	    !json_set(pc, "form_action", json_object_new_string(action)) ||
	    !json_set(pc, "form_heading", json_object_new_string(heading)))
		goto nomem;
	if (list == NULL)
		return pc;
	if ((listing = json_object_new_object()) == NULL ||
	    !json_set(pc, "listing", listing) ||
	    !json_set(listing, "empty", json_object_new_boolean(
	    json_object_array_length(list) == 0)) ||
	    json_object_object_add(listing, "responses",
	    json_object_get(list)) != 0)
		goto nomem;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *c = json_object_array_get_idx(list, i), *v;
		bool shared = json_object_object_get_ex(c, "shared", &v) &&
		    json_object_get_boolean(v);
		if (!json_set(c, "can_edit", json_object_new_boolean(
		    can_edit(&r->user, c))) || !json_set(c, "personal",
		    json_object_new_boolean(!shared)))
			goto nomem;
	}
	return pc;
nomem:
	json_object_put(pc);
	return NULL;
}

/*
 * page_form_errors for the form, with every field of it present in
 * "fields" (false when it has no message), so that a template looking up
 * "title" inside "fields" does not find the page's title outside it.
 */
static sup_err
form_errors(json_object *pc, struct sup_req *r, sup_err e)
{
	json_object *fields;
	sup_err rc;

	if ((rc = page_form_errors(pc, r, e)) != SUP_OK)
		return rc;
	if (!json_object_object_get_ex(pc, "fields", &fields))
		return SUP_OK;
	for (size_t i = 0; i < CF_NFIELDS; i++)
		if (!json_object_object_get_ex(fields, create_fields[i].name,
		    NULL) && !json_set(fields, create_fields[i].name,
		    json_object_new_boolean(0)))
			return SUP_ENOMEM;
	return SUP_OK;
}

/*
 * The list page with status: the reader's responses and the form for a
 * new one; after a refused POST (e) with what was typed and the fields'
 * messages; notice (may be NULL) its own words.
 */
static sup_err
list_page(struct app *app, struct sup_req *r, int status, sup_err e,
    const char *notice)
{
	json_object *list, *pc;
	sup_err rc;

	if ((rc = canned_list(&app->store, &r->user, &list)) != SUP_OK)
		return rc;
	pc = canned_context(app, r, "Canned replies", PAGE_CANNED,
	    "New canned reply", list);
	json_object_put(list);
	if (pc == NULL)
		return SUP_ENOMEM;
	rc = SUP_ENOMEM;
	if (notice != NULL && !json_set(pc, "notice",
	    json_object_new_string(notice)))
		goto out;
	if (e != SUP_OK && (rc = form_errors(pc, r, e)) != SUP_OK)
		goto out;
	rc = page_render(&app->page, r, status, "canned.html", pc);
out:
	json_object_put(pc);
	return rc;
}

/* The list page's query: the notice after a change. */
static const char *const done_names[] = { "created", "saved", "deleted",
	NULL };
static const struct field list_fields[] = {
	{ "done", F_ENUM, 0, 0, 0, done_names, NULL },
};

/*
 * GET /support/canned/[?done=created|saved|deleted]
 * Staff (a customer: 403 page).  200 the shared responses and the
 * reader's own, by title, each with Edit and Delete when the reader may
 * change it, and the form for a new one; 400 page for another done.
 */
static sup_err
page_canned(void *ctx, struct sup_req *r)
{
	static const char *const words[] = { "Canned reply created.",
		"Canned reply saved.", "Canned reply deleted." };
	struct value v[1];
	sup_err e;

	if ((e = valid_query(r, list_fields, 1, v)) != SUP_OK)
		return e;
	return list_page(ctx, r, 200, SUP_OK, v[0].present ?
	    words[v[0].num] : NULL);
}

/* The form's checked fields as a canned_in: the checkbox is the admins'. */
static void
form_in(const struct sup_req *r, const struct value *v, bool update,
    struct canned_in *in)
{
	in_of(v, in);
	/* An admin's form always shows the box: unticked is personal. */
	if (r->user.role == ROLE_ADMIN || !update) {
		in->has_shared = true;
		in->shared = v[CF_SHARED].present && v[CF_SHARED].b;
	}
}

/*
 * POST /support/canned/ title, body, shortcut, shared (a form; the
 * checkbox is shown to admins)
 * Staff.  303 to the list saying it was created; the list again with 400
 * (fields named: an unknown placeholder...) or 409 (the shortcut is
 * taken); a 403 page for an agent asking for a shared one.
 */
static sup_err
page_canned_create(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[CF_NFIELDS];
	struct canned_in in;
	struct canned_why why = { 0 };
	json_object *o;
	sup_err e;

	if ((e = valid_json(r, r->json, create_fields, CF_NFIELDS, v)) ==
	    SUP_OK) {
		form_in(r, v, false, &in);
		if ((e = canned_create(&app->store, &r->user, &in, &why,
		    &o)) == SUP_OK) {
			json_object_put(o);
			return page_redirect(r, app->conf.url_prefix,
			    PAGE_CANNED "?done=created");
		}
		e = write_error(r, e, &why);
	}
	if (e == SUP_EINVAL || e == SUP_EUNKNOWN || e == SUP_EEXIST)
		return list_page(app, r, app_status(e), e, NULL);
	return e;
}

/*
 * The edit page of response r->id with status: what it holds, or after a
 * refused POST (e) what was typed with the fields' messages.
 */
static sup_err
edit_page(struct app *app, struct sup_req *r, int status, sup_err e)
{
	static const char *const fields[] = { "title", "body", "shortcut" };
	char action[sizeof(PAGE_CANNED) + 16], title[CANNED_TITLE_MAX * 4 + 8];
	json_object *rec, *pc = NULL, *v;
	sup_err rc;

	if ((rc = canned_get(&app->store, &r->user, r->id, &rec)) != SUP_OK)
		return rc;
	rc = SUP_EFORBIDDEN;
	if (!can_edit(&r->user, rec))
		goto out;
	snprintf(action, sizeof(action), PAGE_CANNED "%" PRIu32 "/", r->id);
	snprintf(title, sizeof(title), "Edit: %s",
	    json_object_object_get_ex(rec, "title", &v) ?
	    json_object_get_string(v) : "");
	rc = SUP_ENOMEM;
	if ((pc = canned_context(app, r, "Edit canned reply", action,
	    title, NULL)) == NULL || !json_set(pc, "editing",
	    json_object_new_boolean(1)))
		goto out;
	if (e != SUP_OK) {
		if ((rc = form_errors(pc, r, e)) != SUP_OK)
			goto out;
	} else {
		/* The form holds the response as it is. */
		for (size_t i = 0; i < SUP_NELEM(fields); i++) {
			char name[16];
			snprintf(name, sizeof(name), "form_%s", fields[i]);
			if (json_object_object_get_ex(rec, fields[i], &v) &&
			    v != NULL && json_object_object_add(pc, name,
			    json_object_get(v)) != 0) {
				json_object_put(v);
				goto out;
			}
		}
		if (json_object_object_get_ex(rec, "shared", &v) &&
		    json_object_get_boolean(v) &&
		    !json_set(pc, "form_shared", json_object_new_boolean(1)))
			goto out;
	}
	rc = page_render(&app->page, r, status, "canned.html", pc);
out:
	json_object_put(pc);
	json_object_put(rec);
	return rc;
}

/*
 * GET /support/canned/{id}/
 * Staff who may change it (a shared one: admins; a personal one: its
 * owner).  200 the edit form; 403 page for an agent and a shared one;
 * 404 page when absent or another's personal one.
 */
static sup_err
page_canned_edit(void *ctx, struct sup_req *r)
{
	return edit_page(ctx, r, 200, SUP_OK);
}

/*
 * POST /support/canned/{id}/ title, body, shortcut, shared (admins)
 * As GET.  303 to the list saying it was saved; the edit form again with
 * 400 or 409 and the fields' messages; 403, 404 pages.
 */
static sup_err
page_canned_update(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[CF_NFIELDS];
	struct canned_in in;
	struct canned_why why = { 0 };
	json_object *o;
	sup_err e;

	if ((e = valid_json(r, r->json, create_fields, CF_NFIELDS, v)) ==
	    SUP_OK) {
		form_in(r, v, true, &in);
		if ((e = canned_update(&app->store, &r->user, r->id, &in,
		    &why, &o)) == SUP_OK) {
			json_object_put(o);
			return page_redirect(r, app->conf.url_prefix,
			    PAGE_CANNED "?done=saved");
		}
		e = write_error(r, e, &why);
	}
	if (e == SUP_EINVAL || e == SUP_EUNKNOWN || e == SUP_EEXIST)
		return edit_page(app, r, app_status(e), e);
	return e;
}

/*
 * POST /support/canned/{id}/delete/
 * As GET.  303 to the list saying it was deleted; 403, 404 pages.
 */
static sup_err
page_canned_delete(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	sup_err e;

	if ((e = canned_delete(&app->store, &r->user, r->id)) != SUP_OK)
		return e;
	return page_redirect(r, app->conf.url_prefix,
	    PAGE_CANNED "?done=deleted");
}

static const struct route routes[] = {
	{ "GET", CANNED_PATH, canned_index, ROUTE_STAFF, ROUTE_NO_FIELDS },
	{ "POST", CANNED_PATH, canned_post, ROUTE_STAFF | ROUTE_BODY,
		ROUTE_FIELDS(create_fields) },
	{ "GET", CANNED_PATH "{id}/", canned_show, ROUTE_STAFF,
		ROUTE_NO_FIELDS },
	{ "PATCH", CANNED_PATH "{id}/", canned_patch, ROUTE_STAFF | ROUTE_BODY,
		ROUTE_FIELDS(change_fields) },
	{ "DELETE", CANNED_PATH "{id}/", canned_remove, ROUTE_STAFF,
		ROUTE_NO_FIELDS },
	{ "POST", CANNED_PATH "{id}/render/", canned_render_route,
		ROUTE_STAFF | ROUTE_BODY, ROUTE_FIELDS(render_fields) },
	{ "GET", PAGE_CANNED, page_canned,
		ROUTE_STAFF | ROUTE_QUERY | ROUTE_PAGE, ROUTE_FIELDS(list_fields) },
	{ "POST", PAGE_CANNED, page_canned_create,
		ROUTE_STAFF | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(create_fields) },
	{ "GET", PAGE_CANNED "{id}/", page_canned_edit,
		ROUTE_STAFF | ROUTE_PAGE, ROUTE_NO_FIELDS },
	{ "POST", PAGE_CANNED "{id}/", page_canned_update,
		ROUTE_STAFF | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(create_fields) },
	{ "POST", PAGE_CANNED "{id}/delete/", page_canned_delete,
		ROUTE_STAFF | ROUTE_BODY | ROUTE_PAGE, ROUTE_NO_FIELDS },
};

int
main(int argc, char **argv)
{
	return app_main(argc, argv, "canned", routes, SUP_NELEM(routes));
}
