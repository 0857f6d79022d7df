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
 */
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
};

int
main(int argc, char **argv)
{
	return app_main(argc, argv, "canned", routes, SUP_NELEM(routes));
}
