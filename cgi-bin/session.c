/*
 * session - log in and out of the browser session (docs/security.md).
 *
 *   GET    /api/support/session/   who is logged in, and the CSRF token
 *   POST   /api/support/session/   log in {username (or e-mail), password}
 *   DELETE /api/support/session/   log out
 *
 * and the same as pages (docs/pages.md), through the same handlers:
 *
 *   GET  /support/login/?next=   the log-in form
 *   POST /support/login/         log in, 303 to next (a local path only)
 *   POST /support/logout/        log out, 303 to the log-in form
 */
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "page.h"
#include "sess.h"
#include "user.h"
#include "valid.h"

#define SESSION_PATH "/api/support/session/"

/* {"user": {User with e-mail} | null, "csrf_token": token}, or NULL. */
static json_object *
session_object(json_object *user_rec, const char *token)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "user", user_rec != NULL ?
	    user_public(user_rec, true) : NULL);
	json_object_object_add(o, "csrf_token", json_object_new_string(token));
	return o;
}

/*
 * GET /api/support/session/
 * Anyone.  200 {user, csrf_token}.  A session's token is its own; anyone
 * else gets the token of their csrftoken cookie, or a new one, and the
 * cookie is (re)set, so the log-in form can send it back.
 */
static sup_err
session_show(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	const char *cookie = req_cookie(r, "csrftoken");
	char token[CSRF_TOKEN_STRLEN + 1];
	json_object *o;
	sup_err e;

	if (r->by_cookie)
		memcpy(token, r->csrf, sizeof(token));
	else if (cookie_token_valid(cookie))
		memcpy(token, cookie, sizeof(token));
	else
		cookie_new_token(token);
	if ((e = cookie_set(r, &app->conf, NULL, token)) != SUP_OK)
		return e;
	if ((o = session_object(r->user.rec, token)) == NULL)
		return SUP_ENOMEM;
	return app_reply(r, 200, o);
}

enum { LOGIN_NAME, LOGIN_PASSWORD, LOGIN_NFIELDS };
static const struct field login_fields[LOGIN_NFIELDS] = {
	[LOGIN_NAME] = { "username", F_STRING, FIELD_REQUIRED, 1, EMAIL_MAX,
		NULL, "email" },
	/* The password as sent: white space in it is part of it. */
	[LOGIN_PASSWORD] = { "password", F_TEXT, FIELD_REQUIRED | FIELD_RAW,
		1, PASSWORD_MAX, NULL, NULL },
};

/*
 * POST /api/support/session/ {username (or "email"), password}
 * Anyone.  200 the User, with the session and csrftoken cookies; 400 bad
 * fields; 401 invalid_credentials (the same for an unknown name); 429
 * too_many_attempts with Retry-After.
 */
static sup_err
session_login(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[LOGIN_NFIELDS];
	json_object *rec, *id, *o = NULL;
	sup_err e;

	if ((e = valid_json(r, r->json, login_fields, LOGIN_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	e = sess_login(&app->store, &app->conf, v[LOGIN_NAME].str,
	    v[LOGIN_PASSWORD].str, v[LOGIN_PASSWORD].len,
	    req_env(r, "REMOTE_ADDR"), time_now_us(), &r->retry_after, &rec);
	if (e != SUP_OK)
		return e;
	json_object_object_get_ex(rec, "id", &id);
	if ((e = sess_begin(&app->store, &app->conf, r,
	    (uint32_t)json_object_get_int64(id))) == SUP_OK &&
	    (o = user_public(rec, true)) == NULL)
		e = SUP_ENOMEM;
	json_object_put(rec);
	if (e != SUP_OK)
		return e;
	return app_reply(r, 200, o);
}

/*
 * DELETE /api/support/session/
 * Anyone.  204: the request's session (if any) is ended and its cookie
 * removed.  A cookie session must send its CSRF token (403 otherwise).
 */
static sup_err
session_logout(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	sup_err e;

	if (r->by_cookie && (e = sess_delete(&app->store, r->sess_key)) !=
	    SUP_OK)
		return e;
	if ((e = cookie_clear(r, &app->conf)) != SUP_OK)
		return e;
	return app_reply(r, 204, NULL);
}

/* --- Pages ------------------------------------------------------------ */

#define PAGE_LOGIN "/support/login/"
#define PAGE_HOME "/support/"

/* 303 to next when it is a local path, else to the list of tickets. */
static sup_err
go_next(struct app *app, struct sup_req *r, const char *next)
{
	if (page_next_ok(next))
		return page_redirect(r, "", next);
	return page_redirect(r, app->conf.url_prefix, PAGE_HOME);
}

/*
 * The log-in form with status, next kept (when it is acceptable); after a
 * refused log-in (e) with the name typed and why.
 */
static sup_err
login_form(struct app *app, struct sup_req *r, int status, const char *next,
    sup_err e)
{
	json_object *pc = page_context(&app->page, r, "Log in");
	sup_err rc = SUP_ENOMEM;

	if (pc == NULL)
		return SUP_ENOMEM;
	if (page_next_ok(next) && json_object_object_add(pc, "next",
	    json_object_new_string(next)) != 0)
		goto out;
	if (e != SUP_OK && (rc = page_form_errors(pc, r, e)) != SUP_OK)
		goto out;
	rc = page_render(&app->page, r, status, "login.html", pc);
out:
	json_object_put(pc);
	return rc;
}

/*
 * GET /support/login/?next=<local path>
 * Anyone.  200 the form (and the csrftoken cookie it needs); a reader
 * already logged in goes on to next (303).
 */
static const struct field login_form_fields[] = {
	{ "next", F_TEXT, 0, 1, PAGE_NEXT_MAX, NULL, NULL },
};

static sup_err
page_login_form(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[1];
	sup_err e;

	if ((e = valid_query(r, login_form_fields, 1, v)) != SUP_OK)
		return e;
	if (r->user.rec != NULL)
		return go_next(app, r, req_query(r, "next"));
	return login_form(app, r, 200, req_query(r, "next"), SUP_OK);
}

/*
 * POST /support/login/ username, password, next (a form)
 * Anyone, with the csrftoken cookie's value in csrfmiddlewaretoken.  303
 * to next with the session cookies; the form again with 400 (a field
 * missing), 401 (wrong name or password) or 429 (throttled, Retry-After).
 */
static sup_err
page_login(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *jn;
	char *next = NULL;
	sup_err e;

	/* next is the page's own field: the API handler does not take it. */
	if (json_object_object_get_ex(r->json, "next", &jn)) {
		if ((next = strdup(json_object_get_string(jn))) == NULL)
			return SUP_ENOMEM;
		json_object_object_del(r->json, "next");
	}
	e = session_login(ctx, r);
	if (e == SUP_OK)
		e = go_next(app, r, next);
	else if (e == SUP_EINVAL || e == SUP_EUNKNOWN || e == SESS_ECREDS ||
	    e == SESS_ETHROTTLE)
		e = login_form(app, r, app_status(e), next, e);
	free(next);
	return e;
}

/*
 * POST /support/logout/ (a form with the CSRF token)
 * Anyone.  303 to the log-in form; the session ends.
 */
static sup_err
page_logout(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	sup_err e;

	if ((e = session_logout(ctx, r)) != SUP_OK)
		return e;
	return page_redirect(r, app->conf.url_prefix, PAGE_LOGIN);
}

static const struct route routes[] = {
	{ "GET", SESSION_PATH, session_show, 0, ROUTE_NO_FIELDS },
	{ "POST", SESSION_PATH, session_login, ROUTE_BODY | ROUTE_ANON_CSRF,
		ROUTE_FIELDS(login_fields) },
	{ "DELETE", SESSION_PATH, session_logout, 0, ROUTE_NO_FIELDS },
	{ "GET", PAGE_LOGIN, page_login_form, ROUTE_QUERY | ROUTE_PAGE,
		ROUTE_FIELDS(login_form_fields) },
	/* next, the page's own field, is taken off before the API's check. */
	{ "POST", PAGE_LOGIN, page_login,
		ROUTE_BODY | ROUTE_ANON_CSRF | ROUTE_PAGE,
		ROUTE_FIELDS(login_fields) },
	{ "POST", "/support/logout/", page_logout, ROUTE_BODY | ROUTE_PAGE,
		ROUTE_NO_FIELDS },
};

int
main(int argc, char **argv)
{
	return app_main(argc, argv, "session", routes, SUP_NELEM(routes));
}
