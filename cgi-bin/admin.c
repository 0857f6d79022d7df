/*
 * admin.c - the admin area (admin.h): the users' page with its filters
 * and the form to create an account, each user's page with a form for
 * each change, and the settings in force as API and page.  Each form goes
 * through the users API's own handler in-process (users.h: one data path,
 * docs/pages.md), then answers with the page again or a 303: besides the
 * settings' API, what is here only makes the pages' contexts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "conf.h"
#include "page.h"
#include "sess.h"
#include "user.h"
#include "users.h"

/* The words for each role, by enum user_role. */
static const char *const role_labels[] = { "Customer", "Agent", "Admin" };

/*
 * Add to o, under name, the choices of a <select> as the template shows
 * them: [{value, label, selected}], from values[] and labels[] (n each),
 * selected the value that is (NULL: none).  false when out of memory.
 */
static bool
add_options(json_object *o, const char *name, const char *const *values,
    const char *const *labels, size_t n, const char *selected)
{
	json_object *list = json_object_new_array(), *opt;

	if (list == NULL || !json_set(o, name, list))
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((opt = json_object_new_object()) == NULL ||
		    json_object_array_add(list, opt) != 0) {
			json_object_put(opt);
			return false;
		}
		if (!json_set(opt, "value", json_object_new_string(values[i])) ||
		    !json_set(opt, "label", json_object_new_string(labels[i])) ||
		    !json_set(opt, "selected", json_object_new_boolean(
		    selected != NULL && strcmp(selected, values[i]) == 0)))
			return false;
	}
	return true;
}

/*
 * Add the admin pages' members of a User object u: users_page_user's, and
 * role_label and is_disabled (the template has no "not").  SUP_ENOMEM.
 */
static sup_err
admin_user_members(json_object *u)
{
	json_object *v;
	int role = -1;
	sup_err e;

	if ((e = users_page_user(u)) != SUP_OK)
		return e;
	if (json_object_object_get_ex(u, "role", &v))
		role = user_role_from(json_object_get_string(v));
	if (!json_set(u, "role_label", json_object_new_string(role >= 0 ?
	    role_labels[role] : "")) ||
	    !json_set(u, "is_disabled", json_object_new_boolean(
	    !json_object_object_get_ex(u, "is_active", &v) ||
	    !json_object_get_boolean(v))))
		return SUP_ENOMEM;
	return SUP_OK;
}

/*
 * The list of users, its filters and the form to create one
 * (admin_users.html) with status; after a refused creation (e) with what
 * was typed (never the password) and the API's messages.  The list is
 * GET /api/support/users/'s for the request's query (none after a POST).
 */
static sup_err
admin_users_render(struct app *app, struct sup_req *r, int status, sup_err e)
{
	static const char *const active_values[] = { "true", "false" };
	static const char *const active_labels[] = { "Active", "Disabled" };
	json_object *list, *pc, *results, *count, *v;
	const char *q, *role_sel = NULL;
	sup_err rc;

	if ((rc = users_index(app, r)) != SUP_OK)
		return rc;
	list = json_object_get(r->reply);
	json_object_object_get_ex(list, "results", &results);
	for (size_t i = 0; i < json_object_array_length(results); i++)
		if ((rc = admin_user_members(json_object_array_get_idx(results,
		    i))) != SUP_OK) {
			json_object_put(list);
			return rc;
		}
	json_object_object_get_ex(list, "count", &count);
	if ((pc = page_context(&app->page, r, "Users")) == NULL ||
	    !json_set(list, "empty", json_object_new_boolean(
	    json_object_get_int64(count) == 0)) ||
	    json_object_object_add(pc, "users", list) != 0) {
		json_object_put(list);
		json_object_put(pc);
		return SUP_ENOMEM;
	}
	rc = SUP_ENOMEM;
	if (e != SUP_OK && r->json != NULL &&
	    json_object_object_get_ex(r->json, "role", &v))
		role_sel = json_object_get_string(v);
	if ((q = req_query(r, "q")) != NULL &&
	    !json_set(pc, "q", json_object_new_string(q)))
		goto out;
	if (!add_options(pc, "role_filter", users_role_choices, role_labels, 3,
	    req_query(r, "role")) ||
	    !add_options(pc, "active_filter", active_values, active_labels, 2,
	    req_query(r, "is_active")) ||
	    !add_options(pc, "roles", users_role_choices, role_labels, 3,
	    role_sel != NULL ? role_sel : "user"))
		goto out;
	if (e != SUP_OK && (rc = page_form_errors(pc, r, e)) != SUP_OK)
		goto out;
	rc = page_render(&app->page, r, status, "admin_users.html", pc);
out:
	json_object_put(pc);
	return rc;
}

/*
 * GET /support/admin/users/?q=&role=&is_active=&page=&page_size=
 * Admin (staff and customers: the 403 page).  The users as GET
 * /api/support/users/ finds them, with filters, and the form to create
 * one.  200; 400 and 404 pages as the API's errors.
 */
sup_err
admin_users_page(void *ctx, struct sup_req *r)
{
	return admin_users_render(ctx, r, 200, SUP_OK);
}

/* What the page of a user says after a change (?done=), by done_choices. */
static const char *const done_choices[] = { "created", "role", "disabled",
	"enabled", "password", "sessions", "tokens", "away", NULL };
static const char *const done_notices[] = {
	"The account was created.",
	"The role was changed.",
	"The account was disabled: its sessions were ended and its API "
	    "tokens no longer work.",
	"The account was enabled.",
	"The password was set. The user's sessions were ended.",
	"Every session of the user was ended.",
	"Every API token of the user was revoked.",
	"The away flag was changed.",
};

/*
 * The page of user r->id (admin_user.html) with status: the User as GET
 * /api/support/users/{id}/ shows it to an admin (without the tickets:
 * the customer page has them), their API tokens, and a form for each
 * change; notice: a sentence of done_notices (or NULL); after a refused
 * change (e) the API's messages.  SUP_ENOTFOUND for no such user.
 */
static sup_err
admin_user_render(struct app *app, struct sup_req *r, int status, sup_err e,
    const char *notice)
{
	json_object *rec, *u = NULL, *tokens = NULL, *pc = NULL, *v;
	const char *role = NULL;
	sup_err rc;

	if ((rc = user_get(&app->store, NULL, r->id, &rec)) != SUP_OK)
		return rc;
	rc = users_detail_object(app, r, rec, &u);
	json_object_put(rec);
	if (rc != SUP_OK || (rc = admin_user_members(u)) != SUP_OK ||
	    (rc = token_list(&app->store, r->id, &tokens)) != SUP_OK)
		goto out;
	rc = SUP_ENOMEM;
	for (size_t i = 0; i < json_object_array_length(tokens); i++) {
		json_object *t = json_object_array_get_idx(tokens, i);
		char when[PAGE_TIME_STRLEN + 1];
		static const char *const times[][2] = {
			{ "created_at", "created_at_display" },
			{ "last_used_at", "last_used_at_display" },
		};
		for (size_t k = 0; k < SUP_NELEM(times); k++)
			if (json_object_object_get_ex(t, times[k][0], &v) &&
			    page_time_display(json_object_get_string(v), when,
			    sizeof(when)) && !json_set(t, times[k][1],
			    json_object_new_string(when)))
				goto out;
	}
	if (json_object_object_get_ex(u, "role", &v))
		role = json_object_get_string(v);
	if ((pc = page_context(&app->page, r, "User")) == NULL ||
	    !add_options(u, "roles", users_role_choices, role_labels, 3,
	    role) ||
	    !json_set(u, "is_self", json_object_new_boolean(
	    r->id == r->user.id)) ||
	    !json_set(u, "is_other", json_object_new_boolean(
	    r->id != r->user.id)) ||
	    !json_set(u, "no_tokens", json_object_new_boolean(
	    json_object_array_length(tokens) == 0)) ||
	    !json_set(u, "token_count", json_object_new_int64(
	    (int64_t)json_object_array_length(tokens))) ||
	    !json_set(u, "tokens", tokens))
		goto out;
	tokens = NULL;
	if (json_object_object_add(pc, "user", u) != 0)
		goto out;
	u = NULL;
	if (notice != NULL && !json_set(pc, "notice",
	    json_object_new_string(notice)))
		goto out;
	if (e != SUP_OK && (rc = page_form_errors(pc, r, e)) != SUP_OK)
		goto out;
	rc = page_render(&app->page, r, status, "admin_user.html", pc);
out:
	json_object_put(pc);
	json_object_put(u);
	json_object_put(tokens);
	return rc;
}

const struct field admin_user_query[ADMIN_USER_NQUERY] = {
	{ "done", F_ENUM, 0, 0, 0, done_choices, NULL },
};

/*
 * GET /support/admin/users/{id}/?done=
 * Admin.  The user's page (admin_user_render); done (one of
 * done_choices) says what the change just made did.  200; 404 page.
 */
sup_err
admin_user_page(void *ctx, struct sup_req *r)
{
	struct value v[1];
	sup_err e;

	if ((e = valid_query(r, admin_user_query, 1, v)) != SUP_OK)
		return e;
	return admin_user_render(ctx, r, 200, SUP_OK, v[0].present ?
	    done_notices[v[0].num] : NULL);
}

/* 303 to user r->id's page saying done (one of done_choices). */
static sup_err
admin_user_done(struct app *app, struct sup_req *r, const char *done)
{
	char path[sizeof(PAGE_ADMIN_USERS) + 40];
	int n = snprintf(path, sizeof(path), PAGE_ADMIN_USERS "%" PRIu32
	    "/?done=%s", r->id, done);

	if (n < 0 || (size_t)n >= sizeof(path))
		return SUP_ENOMEM;
	return page_redirect(r, app->conf.url_prefix, path);
}

/* Is e a refusal the form shows again (rather than an error page)? */
static bool
form_refusal(sup_err e)
{
	return e == SUP_EINVAL || e == SUP_EUNKNOWN || e == SUP_EEXIST ||
	    e == USER_ELASTADMIN || e == SESS_ETHROTTLE;
}

/*
 * POST /support/admin/users/ username, display_name, email, role,
 * password (a form)
 * Admin.  Creates the account (users_register, as an admin): 303 to its
 * page; the list and the form again with 400 (bad fields) or 409 (the
 * name or e-mail is taken).
 */
sup_err
admin_create_page(void *ctx, struct sup_req *r)
{
	sup_err e = users_register(ctx, r);

	if (form_refusal(e))
		return admin_users_render(ctx, r, app_status(e), e);
	if (e != SUP_OK)
		return e;
	return admin_user_done(ctx, r, "created");
}

/*
 * POST /support/admin/users/{id}/ role | is_active | away (a form)
 * Admin.  The change of PATCH /api/support/users/{id}/: 303 to the user's
 * page saying what changed; the page again with 400 (bad fields) or 409
 * (last_admin); 404 page.
 */
sup_err
admin_change_page(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *rec, *v;
	const char *done = "away";
	sup_err e = users_change(ctx, r);

	if (form_refusal(e))
		return admin_user_render(app, r, app_status(e), e, NULL);
	if (e != SUP_OK)
		return e;
	if (json_object_object_get_ex(r->json, "role", &v))
		done = "role";
	else if (json_object_object_get_ex(r->json, "is_active", &v)) {
		if ((e = user_get(&app->store, NULL, r->id, &rec)) != SUP_OK)
			return e;
		done = user_is_active(rec) ? "enabled" : "disabled";
		json_object_put(rec);
	}
	return admin_user_done(app, r, done);
}

/*
 * POST /support/admin/users/{id}/password/ new_password (a form)
 * Admin, on another user: 303 to the user's page; the page again with
 * 400.  On their own id the rules of one's own change hold (the old
 * password too: /support/password/ asks for it); their page has no such
 * form to show again, so a refusal is the 400 page naming the fields.
 */
sup_err
admin_password_page(void *ctx, struct sup_req *r)
{
	sup_err e = users_password(ctx, r);

	if (form_refusal(e) && r->id != r->user.id)
		return admin_user_render(ctx, r, app_status(e), e, NULL);
	if (e != SUP_OK)
		return e;
	return admin_user_done(ctx, r, "password");
}

/*
 * A form of the user's admin page that carries its token only (anything
 * else is refused with 400): action(ctx, r), then 303 to the user's page
 * with the notice done; action's error (a 404 page) otherwise.
 */
static sup_err
admin_bare_form(void *ctx, struct sup_req *r,
    sup_err (*action)(void *ctx, struct sup_req *r), const char *done)
{
	struct value none[1];
	sup_err e;

	if ((e = valid_json(r, r->json, NULL, 0, none)) != SUP_OK ||
	    (e = action(ctx, r)) != SUP_OK)
		return e;
	return admin_user_done(ctx, r, done);
}

/*
 * POST /support/admin/users/{id}/sessions/ (a form with its token)
 * Admin.  users_sessions_end: 303 to the user's page; 404 page.
 */
sup_err
admin_sessions_page(void *ctx, struct sup_req *r)
{
	return admin_bare_form(ctx, r, users_sessions_end, "sessions");
}

/*
 * POST /support/admin/users/{id}/tokens/ (a form with its token)
 * Admin.  users_tokens_revoke: 303 to the user's page; 404 page.
 */
sup_err
admin_tokens_page(void *ctx, struct sup_req *r)
{
	return admin_bare_form(ctx, r, users_tokens_revoke, "tokens");
}

/*
 * GET /support/admin/
 * Admin.  303 to the users: the area's first page.
 */
sup_err
admin_home_page(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;

	return page_redirect(r, app->conf.url_prefix, PAGE_ADMIN_USERS);
}

/*
 * GET /api/support/settings/
 * Admin.  200 {"count", "results": [{name, value, default}]}: every key
 * support.conf takes, as this process loaded it (conf_settings: values
 * only, never what a file holds).
 */
sup_err
admin_settings_api(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *list = conf_settings(&app->conf), *o = NULL;

	if (list == NULL || (o = json_object_new_object()) == NULL ||
	    !json_set(o, "count", json_object_new_int64(
	    (int64_t)json_object_array_length(list)))) {
		json_object_put(list);
		json_object_put(o);
		return SUP_ENOMEM;
	}
	json_object_object_add(o, "results", list);
	return app_reply(r, 200, o);
}

/*
 * GET /support/admin/settings/
 * Admin.  The settings of GET /api/support/settings/ as a table, each
 * marked when it is not the default (is_changed).  200.
 */
sup_err
admin_settings_page(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *list, *pc, *results, *v, *d;
	sup_err e;

	if ((e = admin_settings_api(ctx, r)) != SUP_OK)
		return e;
	list = json_object_get(r->reply);
	json_object_object_get_ex(list, "results", &results);
	for (size_t i = 0; i < json_object_array_length(results); i++) {
		json_object *o = json_object_array_get_idx(results, i);
		json_object_object_get_ex(o, "value", &v);
		json_object_object_get_ex(o, "default", &d);
		if (!json_set(o, "is_changed", json_object_new_boolean(
		    strcmp(json_object_get_string(v),
		    json_object_get_string(d)) != 0))) {
			json_object_put(list);
			return SUP_ENOMEM;
		}
	}
	if ((pc = page_context(&app->page, r, "Settings")) == NULL ||
	    json_object_object_add(pc, "settings", list) != 0) {
		json_object_put(list);
		json_object_put(pc);
		return SUP_ENOMEM;
	}
	e = page_render(&app->page, r, 200, "admin_settings.html", pc);
	json_object_put(pc);
	return e;
}
