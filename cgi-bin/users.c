/*
 * users - accounts over HTTP.
 *
 *   POST /api/support/users/                 sign up (allow_registration);
 *                                            admin: create any account
 *   GET  /api/support/users/?q=&role=&is_active=&page=
 *                                            staff: find users, with counts
 *   GET  /api/support/users/{id}/            staff (with the user's tickets),
 *                                            or the user themself
 *   PATCH /api/support/users/{id}/           one's own notify; staff: away
 *                                            (admin: anyone's, and role,
 *                                            is_active)
 *   POST /api/support/users/{id}/password/   change one's own password;
 *                                            admin: set another's
 *   DELETE /api/support/users/{id}/sessions/ admin: end the user's sessions
 *   GET, DELETE /api/support/users/{id}/tokens/
 *                                            admin: list, revoke all tokens
 *   GET  /api/support/settings/              admin: support.conf in force
 *                                            (cgi-bin/admin.c)
 *   GET  /api/support/admin/webhooks/        admin: the webhooks out's
 *   POST /api/support/admin/webhooks/{uuid}/retry/   delivery log
 *                                            (cgi-bin/webhooks.c)
 *
 * and the same as pages (docs/pages.md), through the same handlers:
 *
 *   GET, POST /support/register/   sign up (allow_registration)
 *   GET, POST /support/password/   change one's own password
 *   GET /support/customers/        staff: find customers
 *   GET /support/customers/{id}/   staff: a customer and their tickets
 *   /support/admin/...             admin: the users and the settings
 *                                  (cgi-bin/admin.c)
 *
 * The admin area is in this program, not in one of its own, because its
 * pages call these handlers in-process (users.h; docs/pages.md, one data
 * path), and the settings are two routes too few to be worth a program (a
 * pool of workers, a fuzz target).  Its code is admin.c; the route table
 * stays here, whole.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "admin.h"
#include "app.h"
#include "auditlog.h"
#include "counter.h"
#include "page.h"
#include "record.h"
#include "sess.h"
#include "ticket.h"
#include "user.h"
#include "users.h"
#include "valid.h"
#include "webhooks.h"

#define USERS_PATH "/api/support/users/"
#define TICKETS_PATH "/api/support/tickets/"
#define SETTINGS_PATH "/api/support/settings/"
#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100

/* The roles by enum user_role, as the API names them. */
const char *const users_role_choices[] = { "user", "agent", "admin",
	NULL };

enum { REG_NAME, REG_EMAIL, REG_PASSWORD, REG_DISPLAY, REG_ROLE,
	REG_NFIELDS };
static const struct field register_fields[REG_NFIELDS] = {
	[REG_NAME] = { "username", F_STRING, FIELD_REQUIRED, 1, USERNAME_MAX,
		NULL, NULL },
	[REG_EMAIL] = { "email", F_STRING, FIELD_REQUIRED, 3, EMAIL_MAX, NULL,
		NULL },
	/* Passwords as sent: white space in them is part of them. */
	[REG_PASSWORD] = { "password", F_TEXT, FIELD_REQUIRED | FIELD_RAW, 1,
		PASSWORD_MAX, NULL, NULL },
	[REG_DISPLAY] = { "display_name", F_STRING, 0, 0, USERNAME_MAX, NULL,
		NULL },
	/* An admin's only (users_register). */
	[REG_ROLE] = { "role", F_ENUM, 0, 0, 0, users_role_choices, NULL },
};

/*
 * POST /api/support/users/ {username, email, password, display_name?,
 * role?}
 * Anyone, when allow_registration = yes (403 registration_closed
 * otherwise): 201 the User, logged in (session cookies).  An admin,
 * whatever allow_registration says: an account of any role (role, default
 * user), the admin staying logged in as themself: 201 the User as GET
 * shows it to them, with Location.  role from anyone else: 403.  400 bad
 * fields; 409 already_exists naming the field taken.
 */
sup_err
users_register(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[REG_NFIELDS];
	const char *name, *email, *display, *pw, *why;
	json_object *rec = NULL, *o;
	bool by_admin = r->user.rec != NULL && r->user.role == ROLE_ADMIN;
	enum user_role role = ROLE_USER;
	uint32_t id;
	sup_err e;

	if (!by_admin && !app->conf.allow_registration)
		return USER_EREGCLOSED;
	if ((e = valid_json(r, r->json, register_fields, REG_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	if (v[REG_ROLE].present) {
		if (!by_admin)
			return SUP_EFORBIDDEN;
		role = (enum user_role)v[REG_ROLE].num;
	}
	name = v[REG_NAME].str;
	email = v[REG_EMAIL].str;
	pw = v[REG_PASSWORD].str;
	display = v[REG_DISPLAY].present && v[REG_DISPLAY].len > 0 ?
	    v[REG_DISPLAY].str : NULL;
	if (!user_name_valid(name))
		e = valid_fail(r, "username", "Letters, digits and @.+-_ "
		    "only.");
	if (!user_email_valid(email))
		e = valid_fail(r, "email", "Enter a valid e-mail address.");
	if ((why = user_password_problem(name, email, pw)) != NULL)
		e = valid_fail(r, "password", why);
	if (e != SUP_OK)
		return e;
	e = user_create_by(&app->store, by_admin ? r->user.id : 0, name, email,
	    display, role, pw, &id);
	if (e == SUP_EEXIST) {
		/* Which one: the lookup is the same one user_create made. */
		if (user_find(&app->store, NULL, name, &rec) == SUP_OK)
			req_field_error(r, "username", "A user with that "
			    "username already exists.");
		else
			req_field_error(r, "email", "A user with that e-mail "
			    "address already exists.");
		json_object_put(rec);
		return e;
	}
	if (e != SUP_OK)
		return e;
	if ((e = user_get(&app->store, NULL, id, &rec)) != SUP_OK)
		return e;
	if (by_admin) {
		r->id = id;
		e = users_detail_object(app, r, rec, &o);
	} else if ((e = sess_begin(&app->store, &app->conf, r, id)) ==
	    SUP_OK && (o = user_public(rec, true)) == NULL)
		e = SUP_ENOMEM;
	json_object_put(rec);
	if (e != SUP_OK)
		return e;
	if (asprintf(&r->location, "%s" USERS_PATH "%u/", app->conf.url_prefix,
	    id) < 0)
		r->location = NULL;
	return app_reply(r, 201, o);
}

/*
 * Add ticket_count and open_ticket_count (neither resolved nor closed) of
 * user id to o, from the counters kept with every ticket change
 * (record_counter: "user:ID", "active:ID"): two reads, never a scan.
 * SUP_ENOMEM, the store's errors; o is the caller's.
 */
static sup_err
add_counts(struct app *app, json_object *o, uint32_t id)
{
	static const struct {
		enum record_counter kind;
		const char *name;
	} counts[] = {
		{ RC_USER, "ticket_count" },
		{ RC_ACTIVE, "open_ticket_count" },
	};
	char name[32];
	int64_t n;
	sup_err e;

	for (size_t i = 0; i < SUP_NELEM(counts); i++) {
		record_counter(name, sizeof(name), counts[i].kind, id);
		if ((e = store_count_get(&app->store, NULL, name, &n)) !=
		    SUP_OK)
			return e;
		if (!json_set(o, counts[i].name, json_object_new_int64(n)))
			return SUP_ENOMEM;
	}
	return SUP_OK;
}

/* What users_index collects: the matching users of one page. */
struct search {
	const char *q;
	int role;		/* -1: any */
	int active;		/* -1: either; 0 disabled, 1 active */
	long first, last;	/* the page: matches [first, last) */
	long count;
	json_object *results;
};

/* Does the record's text field name hold q, in any case? */
static bool
field_has(json_object *rec, const char *name, const char *q)
{
	json_object *v;
	const char *s;

	return json_object_object_get_ex(rec, name, &v) &&
	    (s = json_object_get_string(v)) != NULL &&
	    str_icontains(s, q, strlen(q));
}

/* user_each callback: count a matching user, keep it if on the page. */
static sup_err
collect(void *ctx, json_object *rec)
{
	struct search *sr = ctx;

	static const char *const copied[] = { "role", "is_active",
		"created_at" };
	json_object *v;

	if (sr->q != NULL && !field_has(rec, "username", sr->q) &&
	    !field_has(rec, "email", sr->q) &&
	    !field_has(rec, "display_name", sr->q))
		return SUP_OK;
	if (sr->role >= 0 && (!json_object_object_get_ex(rec, "role", &v) ||
	    user_role_from(json_object_get_string(v)) != sr->role))
		return SUP_OK;
	if (sr->active >= 0 && user_is_active(rec) != (sr->active == 1))
		return SUP_OK;
	if (sr->count >= sr->first && sr->count < sr->last) {
		json_object *o = user_public(rec, true);

		if (o == NULL)
			return SUP_ENOMEM;
		for (size_t i = 0; i < SUP_NELEM(copied); i++)
			if (json_object_object_get_ex(rec, copied[i], &v))
				json_object_object_add(o, copied[i],
				    json_object_get(v));
		if (!json_set(o, "away",
		    json_object_new_boolean(user_is_away(rec))) ||
		    json_object_array_add(sr->results, o) != 0) {
			json_object_put(o);
			return SUP_ENOMEM;
		}
	}
	sr->count++;
	return SUP_OK;
}

enum { IX_Q, IX_ROLE, IX_ACTIVE, IX_PAGE, IX_PAGE_SIZE, IX_NFIELDS };
static const struct field index_fields[IX_NFIELDS] = {
	[IX_Q] = { "q", F_STRING, 0, 1, EMAIL_MAX, NULL, NULL },
	[IX_ROLE] = { "role", F_ENUM, 0, 0, 0, users_role_choices, NULL },
	[IX_ACTIVE] = { "is_active", F_BOOL, 0, 0, 0, NULL, NULL },
	[IX_PAGE] = { "page", F_INT, 0, 1, 1000000, NULL, NULL },
	[IX_PAGE_SIZE] = { "page_size", F_INT, 0, 1, PAGE_SIZE_MAX, NULL,
		NULL },
};

/*
 * GET /api/support/users/?q=&role=&is_active=&page=&page_size=
 * Staff.  200 {count, next, previous, results}, in id order, each User
 * with e-mail, role, is_active, created_at, away, ticket_count and
 * open_ticket_count; q matches a substring of the username, e-mail or
 * display name, in any case; role (user, agent, admin) and is_active
 * (true, false) keep only the users who have it.  The users are read in full for each search (they are the small
 * table: docs/api.md says what it costs); the counters are read only for
 * the page's users, at most page_size of them.  400 bad parameters; 404 a
 * page past the end.
 */
sup_err
users_index(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[IX_NFIELDS];
	struct search sr = { 0 };
	long page, size;
	char *next = NULL, *prev = NULL;
	json_object *o;
	sup_err e;

	if ((e = valid_query(r, index_fields, IX_NFIELDS, v)) != SUP_OK)
		return e;
	page = v[IX_PAGE].present ? v[IX_PAGE].num : 1;
	size = v[IX_PAGE_SIZE].present ? v[IX_PAGE_SIZE].num :
	    PAGE_SIZE_DEFAULT;
	sr.q = v[IX_Q].present ? v[IX_Q].str : NULL;
	sr.role = v[IX_ROLE].present ? (int)v[IX_ROLE].num : -1;
	sr.active = v[IX_ACTIVE].present ? v[IX_ACTIVE].b : -1;
	sr.first = (page - 1) * size;
	sr.last = page * size;
	if ((sr.results = json_object_new_array()) == NULL)
		return SUP_ENOMEM;
	if ((e = user_each(&app->store, collect, &sr)) != SUP_OK)
		goto fail;
	/* The counts, after the scan: its cursor is closed. */
	for (size_t i = 0; i < json_object_array_length(sr.results); i++) {
		json_object *u = json_object_array_get_idx(sr.results, i), *id;
		if (!json_object_object_get_ex(u, "id", &id)) {
			e = SUP_EDB;
			goto fail;
		}
		if ((e = add_counts(app, u, json_object_get_int64(id))) !=
		    SUP_OK)
			goto fail;
	}
	if (page > 1 && sr.first >= sr.count) {
		e = SUP_ENOTFOUND;
		goto fail;
	}
	if ((sr.last < sr.count && (next = req_page_url(r,
	    app->conf.url_prefix, page + 1)) == NULL) ||
	    (page > 1 && (prev = req_page_url(r, app->conf.url_prefix,
	    page - 1)) == NULL) || (o = json_object_new_object()) == NULL) {
		free(next);
		e = SUP_ENOMEM;
		goto fail;
	}
	json_object_object_add(o, "count", json_object_new_int64(sr.count));
	json_object_object_add(o, "next", next ? json_object_new_string(next) :
	    NULL);
	json_object_object_add(o, "previous", prev ?
	    json_object_new_string(prev) : NULL);
	json_object_object_add(o, "results", sr.results);
	free(next);
	free(prev);
	return app_reply(r, 200, o);
fail:
	json_object_put(sr.results);
	return e;
}

/*
 * The user of the path, for the caller: themself, or anyone for staff
 * (403 for staff's password change of another is the caller's choice).
 * A customer asking for someone else gets 404: existence is not told.
 */
static sup_err
path_user(struct app *app, struct sup_req *r, json_object **rec)
{
	*rec = NULL;
	if (r->id != r->user.id && !user_is_staff(&r->user))
		return SUP_ENOTFOUND;
	return user_get(&app->store, NULL, r->id, rec);
}

/*
 * The User of rec (user r->id) as user_detail shows it to r's caller,
 * into *out (new); rec stays the caller's.
 */
sup_err
users_detail_object(struct app *app, struct sup_req *r, json_object *rec,
    json_object **out)
{
	static const char *const extra[] = { "role", "is_active",
		"created_at" };
	json_object *o, *v;
	sup_err e;

	*out = NULL;
	if ((o = user_public(rec, true)) == NULL)
		return SUP_ENOMEM;
	for (size_t i = 0; i < SUP_NELEM(extra); i++)
		if (json_object_object_get_ex(rec, extra[i], &v))
			json_object_object_add(o, extra[i], json_object_get(v));
	if (user_is_staff(&r->user) && !json_set(o, "away",
	    json_object_new_boolean(user_is_away(rec)))) {
		e = SUP_ENOMEM;
		goto fail;
	}
	/* Whether they take the desk's mail: theirs to see, and an admin's. */
	if ((r->id == r->user.id || r->user.role == ROLE_ADMIN) &&
	    !json_set(o, "notify", json_object_new_boolean(
	    user_wants_mail(rec)))) {
		e = SUP_ENOMEM;
		goto fail;
	}
	if ((e = add_counts(app, o, r->id)) != SUP_OK)
		goto fail;
	*out = o;
	return SUP_OK;
fail:
	json_object_put(o);
	return e;
}

#define USER_TICKETS 20	/* the tickets a staff detail holds */

/*
 * Add "tickets" to o, the User object of user id: the first page of their
 * tickets as GET /api/support/tickets/?user=ID answers it ({count, next,
 * previous, results}: newest activity first, USER_TICKETS of them; next
 * is that list's second page), and "tickets_url", that list.  For staff
 * (ticket_list shows a customer only their own).  SUP_ENOMEM, the store's
 * errors; o is the caller's.
 */
static sup_err
add_tickets(struct app *app, struct sup_req *r, json_object *o, uint32_t id)
{
	struct ticket_query q = {
		.has_user = true, .user = id, .priority = -1,
		.order = ORDER_UPDATED, .desc = true, .page = 1,
		.page_size = USER_TICKETS,
	};
	json_object *page, *count;
	char *url = NULL, *next = NULL;
	sup_err e;

	if ((e = ticket_list(&app->store, &r->user, &q, &page)) != SUP_OK)
		return e;
	e = SUP_ENOMEM;
	json_object_object_get_ex(page, "count", &count);
	if (asprintf(&url, "%s" TICKETS_PATH "?user=%" PRIu32,
	    app->conf.url_prefix, id) < 0) {
		url = NULL;
		goto out;
	}
	if (json_object_get_int64(count) > USER_TICKETS &&
	    asprintf(&next, "%s&page=2", url) < 0) {
		next = NULL;
		goto out;
	}
	if ((next != NULL ? !json_set(page, "next",
	    json_object_new_string(next)) : !json_set_null(page, "next")) ||
	    !json_set_null(page, "previous") ||
	    !json_set(o, "tickets_url", json_object_new_string(url)))
		goto out;
	if (json_object_object_add(o, "tickets", page) != 0)
		goto out;
	page = NULL;
	e = SUP_OK;
out:
	json_object_put(page);
	free(url);
	free(next);
	return e;
}

/*
 * GET /api/support/users/{id}/
 * Staff, or the user themself (404 otherwise).  200 the User with e-mail,
 * role, is_active, created_at, ticket_count and open_ticket_count (tickets
 * neither resolved nor closed); to staff also away, tickets (the first
 * page of the user's tickets, add_tickets) and tickets_url.
 */
static sup_err
user_detail(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *rec, *o;
	sup_err e;

	if ((e = path_user(app, r, &rec)) != SUP_OK)
		return e;
	e = users_detail_object(app, r, rec, &o);
	json_object_put(rec);
	if (e == SUP_OK && user_is_staff(&r->user) &&
	    (e = add_tickets(app, r, o, r->id)) != SUP_OK)
		json_object_put(o);
	if (e != SUP_OK)
		return e;
	return app_reply(r, 200, o);
}

/* What a PATCH takes: the route lists these; who may give which, below. */
enum { CH_AWAY, CH_ROLE, CH_ACTIVE, CH_NOTIFY, CH_NFIELDS };
static const struct field admin_change_fields[CH_NFIELDS] = {
	[CH_AWAY] = { "away", F_BOOL, 0, 0, 0, NULL, NULL },
	[CH_ROLE] = { "role", F_ENUM, 0, 0, 0, users_role_choices, NULL },
	[CH_ACTIVE] = { "is_active", F_BOOL, 0, 0, 0, NULL, NULL },
	[CH_NOTIFY] = { "notify", F_BOOL, 0, 0, 0, NULL, NULL },
};
/* Staff on themselves: away and notify, at least one. */
enum { SC_AWAY, SC_NOTIFY, SC_NFIELDS };
static const struct field change_fields[SC_NFIELDS] = {
	[SC_AWAY] = { "away", F_BOOL, 0, 0, 0, NULL, NULL },
	[SC_NOTIFY] = { "notify", F_BOOL, 0, 0, 0, NULL, NULL },
};


/* Answer 200 with user r->id as GET shows it to the caller. */
static sup_err
reply_detail(struct app *app, struct sup_req *r)
{
	json_object *rec, *o;
	sup_err e;

	if ((e = user_get(&app->store, NULL, r->id, &rec)) != SUP_OK)
		return e;
	e = users_detail_object(app, r, rec, &o);
	json_object_put(rec);
	if (e != SUP_OK)
		return e;
	return app_reply(r, 200, o);
}

/*
 * Make user r->id's record say what v (admin_change_fields) asks, by the
 * caller, an admin: only what differs is changed, each field with its
 * own event in its own transaction, role first (then is_active, then
 * away), so that a refusal of the first (last_admin) changes nothing.
 * Switched off, the account's sessions end too (account_set_active).
 */
static sup_err
admin_change(struct app *app, struct sup_req *r, const struct value *v)
{
	json_object *rec, *jv;
	int role;
	bool active, away;
	sup_err e;

	if ((e = user_get(&app->store, NULL, r->id, &rec)) != SUP_OK)
		return e;
	role = json_object_object_get_ex(rec, "role", &jv) ?
	    user_role_from(json_object_get_string(jv)) : -1;
	active = user_is_active(rec);
	away = user_is_away(rec);
	json_object_put(rec);
	if (v[CH_ROLE].present && v[CH_ROLE].num != role &&
	    (e = user_set_role(&app->store, r->user.id, r->id,
	    (enum user_role)v[CH_ROLE].num)) != SUP_OK)
		return e;
	if (v[CH_ACTIVE].present && v[CH_ACTIVE].b != active &&
	    (e = account_set_active(&app->store, r->user.id, r->id,
	    v[CH_ACTIVE].b, NULL)) != SUP_OK)
		return e;
	if (v[CH_AWAY].present && v[CH_AWAY].b != away &&
	    (e = user_set_away(&app->store, r->user.id, r->id,
	    v[CH_AWAY].b)) != SUP_OK)
		return e;
	return SUP_OK;
}

/*
 * PATCH /api/support/users/{id}/ {notify} (a customer), {away?, notify?}
 * (staff, at least one) or {away?, role?, is_active?, notify?} (an admin,
 * at least one)
 * notify, the desk's mail on or off (docs/mail.md), each for themselves
 * only (another's: 403, an admin's too).  Staff, for themselves, away and
 * notify only (role or is_active from an agent: 400 unknown_field); an
 * admin, the others for anyone (another's: 403 for an agent or a
 * customer).  away: auto_assign gives an agent away no ticket.  is_active false switches the account off: its sessions and
 * tokens fail at their next request, its sessions end.  200 the User as
 * GET shows it; 400 a bad body; 404 no such user; 409 last_admin when the
 * change would leave no active admin.
 */
sup_err
users_change(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[CH_NFIELDS];
	sup_err e;

	if (r->user.role == ROLE_USER) {
		/*
		 * A customer: their own mail switch, and nothing else (away,
		 * staff's, stays 403 as it was before they could PATCH).
		 */
		if (r->id != r->user.id)
			return SUP_EFORBIDDEN;
		if ((e = valid_json(r, r->json, change_fields,
		    SUP_NELEM(change_fields), v)) != SUP_OK)
			return e;
		if (v[SC_AWAY].present)
			return SUP_EFORBIDDEN;
		if (!v[SC_NOTIFY].present)
			return valid_fail(r, "notify", "This field is required.");
		if ((e = user_set_notify(&app->store, r->user.id, r->id,
		    v[SC_NOTIFY].b)) != SUP_OK)
			return e;
		return reply_detail(app, r);
	}
	if (r->user.role != ROLE_ADMIN) {
		if (r->id != r->user.id)
			return SUP_EFORBIDDEN;
		if ((e = valid_json(r, r->json, change_fields,
		    SUP_NELEM(change_fields), v)) != SUP_OK)
			return e;
		if (!v[SC_AWAY].present && !v[SC_NOTIFY].present)
			return valid_fail(r, "away", "Give away or notify: at "
			    "least one.");
		if (v[SC_AWAY].present && (e = user_set_away(&app->store,
		    r->user.id, r->id, v[SC_AWAY].b)) != SUP_OK)
			return e;
		if (v[SC_NOTIFY].present && (e = user_set_notify(&app->store,
		    r->user.id, r->id, v[SC_NOTIFY].b)) != SUP_OK)
			return e;
		return reply_detail(app, r);
	}
	if ((e = valid_json(r, r->json, admin_change_fields, CH_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	if (!v[CH_AWAY].present && !v[CH_ROLE].present &&
	    !v[CH_ACTIVE].present && !v[CH_NOTIFY].present)
		return valid_fail(r, "role", "Give role, is_active, away or "
		    "notify: at least one.");
	/* Mail is each user's own choice, an admin's too. */
	if (v[CH_NOTIFY].present && r->id != r->user.id)
		return SUP_EFORBIDDEN;
	if ((v[CH_AWAY].present || v[CH_ROLE].present ||
	    v[CH_ACTIVE].present) && (e = admin_change(app, r, v)) != SUP_OK)
		return e;
	if (v[CH_NOTIFY].present && (e = user_set_notify(&app->store,
	    r->user.id, r->id, v[CH_NOTIFY].b)) != SUP_OK)
		return e;
	return reply_detail(app, r);
}

enum { PW_OLD, PW_NEW, PW_NFIELDS };
static const struct field password_fields[PW_NFIELDS] = {
	[PW_OLD] = { "old_password", F_TEXT, FIELD_REQUIRED | FIELD_RAW, 1,
		PASSWORD_MAX, NULL, NULL },
	[PW_NEW] = { "new_password", F_TEXT, FIELD_REQUIRED | FIELD_RAW, 1,
		PASSWORD_MAX, NULL, NULL },
};

static const struct field set_password_fields[] = {
	{ "new_password", F_TEXT, FIELD_REQUIRED | FIELD_RAW, 1, PASSWORD_MAX,
		NULL, NULL },
};

/* The record's text field name, or "" when it has none. */
static const char *
rec_text(json_object *rec, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(rec, name, &v) ?
	    json_object_get_string(v) : "";
}

/*
 * POST /api/support/users/{id}/password/ {old_password, new_password}
 * The user themself (staff on another: 403; a customer: 404).  The old
 * password is checked as a login is, throttled alike (429).  200 the User;
 * every other session of the user ends (the one making the change stays).
 * 400 a wrong old password or a new one the rules refuse.
 *
 * An admin setting another's: {new_password} only (old_password is 400
 * unknown_field), the same rules; 200 the User; every session of theirs
 * ends (their API tokens stay: DELETE .../tokens/).
 */
sup_err
users_password(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[PW_NFIELDS];
	json_object *rec, *checked = NULL, *o;
	const char *old, *pw, *why, *name, *email;
	bool by_admin;
	sup_err e;

	if ((e = path_user(app, r, &rec)) != SUP_OK)
		return e;
	by_admin = r->id != r->user.id && r->user.role == ROLE_ADMIN;
	if (r->id != r->user.id && !by_admin) {
		json_object_put(rec);
		return SUP_EFORBIDDEN;
	}
	if (by_admin)
		e = valid_json(r, r->json, set_password_fields,
		    SUP_NELEM(set_password_fields), &v[PW_NEW]);
	else
		e = valid_json(r, r->json, password_fields, PW_NFIELDS, v);
	if (e != SUP_OK)
		goto out;
	pw = v[PW_NEW].str;
	name = rec_text(rec, "username");
	email = rec_text(rec, "email");
	if ((why = user_password_problem(name, email, pw)) != NULL) {
		e = valid_fail(r, "new_password", why);
		goto out;
	}
	if (by_admin) {
		if ((e = account_set_password(&app->store, r->user.id, r->id,
		    pw, NULL, NULL)) != SUP_OK)
			goto out;
	} else {
		old = v[PW_OLD].str;
		e = sess_login(&app->store, &app->conf, name, old,
		    v[PW_OLD].len, req_env(r, "REMOTE_ADDR"), time_now_us(),
		    &r->retry_after, &checked);
		json_object_put(checked);
		if (e == SESS_ECREDS) {
			e = valid_fail(r, "old_password", "Wrong password.");
			goto out;
		}
		if (e != SUP_OK || (e = account_set_password(&app->store,
		    r->user.id, r->id, pw, r->by_cookie ? r->sess_key : NULL,
		    NULL)) != SUP_OK)
			goto out;
	}
	if ((o = user_public(rec, true)) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	json_object_put(rec);
	return app_reply(r, 200, o);
out:
	json_object_put(rec);
	return e;
}

/* 200 {name: n}: what an admin's revocation did. */
static sup_err
reply_count(struct sup_req *r, const char *name, long n)
{
	json_object *o = json_object_new_object();

	if (o == NULL || !json_set(o, name, json_object_new_int64(n))) {
		json_object_put(o);
		return SUP_ENOMEM;
	}
	return app_reply(r, 200, o);
}

/*
 * DELETE /api/support/users/{id}/sessions/
 * Admin.  Ends every session of user id (an admin's own: all but the one
 * making the request), with a sessions.revoked event when any ended.  200
 * {"sessions_ended": N}; 404 no such user.
 */
sup_err
users_sessions_end(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *rec;
	long n;
	sup_err e;

	if ((e = user_get(&app->store, NULL, r->id, &rec)) != SUP_OK)
		return e;
	json_object_put(rec);
	if ((e = sess_revoke_user(&app->store, r->user.id, r->id,
	    r->id == r->user.id && r->by_cookie ? r->sess_key : NULL, &n)) !=
	    SUP_OK)
		return e;
	return reply_count(r, "sessions_ended", n);
}

/*
 * GET /api/support/users/{id}/tokens/
 * Admin.  200 {"count", "results"}: user id's API tokens without their
 * secret ({id, user, username, name, created_at, last_used_at?}, oldest
 * first: token_list); 404 no such user.
 */
static sup_err
user_tokens(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *rec, *list, *o;
	sup_err e;

	if ((e = user_get(&app->store, NULL, r->id, &rec)) != SUP_OK)
		return e;
	json_object_put(rec);
	if ((e = token_list(&app->store, r->id, &list)) != SUP_OK)
		return e;
	if ((o = json_object_new_object()) == NULL ||
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
 * DELETE /api/support/users/{id}/tokens/
 * Admin.  Revokes every API token of user id in one transaction (a
 * token.revoked event each): none works at its next request.  200
 * {"tokens_revoked": N}; 404 no such user.
 */
sup_err
users_tokens_revoke(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *rec;
	long n;
	sup_err e;

	if ((e = user_get(&app->store, NULL, r->id, &rec)) != SUP_OK)
		return e;
	json_object_put(rec);
	if ((e = token_revoke_user(&app->store, r->user.id, r->id, &n)) !=
	    SUP_OK)
		return e;
	return reply_count(r, "tokens_revoked", n);
}

/* --- Pages ------------------------------------------------------------ */

#define PAGE_REGISTER "/support/register/"
#define PAGE_PASSWORD "/support/password/"

/*
 * Render the form template name titled title with status; after a refused
 * POST (e) with what was typed (never passwords) and the API's messages.
 * changed: add "changed": true (the password page after a change).  Staff
 * also get "away" or "available" (the password page's switch).
 */
static sup_err
user_form(struct app *app, struct sup_req *r, const char *name,
    const char *title, int status, sup_err e, bool changed)
{
	json_object *pc = page_context(&app->page, r, title);
	sup_err rc = SUP_ENOMEM;

	if (pc == NULL)
		return SUP_ENOMEM;
	if (changed && json_object_object_add(pc, "changed",
	    json_object_new_boolean(true)) != 0)
		goto out;
	if (user_is_staff(&r->user) && r->user.rec != NULL) {
		bool away = user_is_away(r->user.rec);

		if (json_object_object_add(pc, away ? "away" : "available",
		    json_object_new_boolean(true)) != 0)
			goto out;
	}
	/* Everyone's mail switch: "notify_on" or "notify_off". */
	if (r->user.rec != NULL && json_object_object_add(pc,
	    user_wants_mail(r->user.rec) ? "notify_on" : "notify_off",
	    json_object_new_boolean(true)) != 0)
		goto out;
	if (e != SUP_OK && (rc = page_form_errors(pc, r, e)) != SUP_OK)
		goto out;
	rc = page_render(&app->page, r, status, name, pc);
out:
	json_object_put(pc);
	return rc;
}

/*
 * GET /support/register/
 * Anyone, when allow_registration = yes (a 403 page otherwise).  200 the
 * form; a reader already logged in goes to the list of tickets (303).
 */
static sup_err
page_register_form(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;

	if (!app->conf.allow_registration)
		return USER_EREGCLOSED;
	if (r->user.rec != NULL)
		return page_redirect(r, app->conf.url_prefix, "/support/");
	return user_form(app, r, "register.html", "Create an account", 200,
	    SUP_OK, false);
}

/*
 * POST /support/register/ username, email, password, display_name
 * Anyone (as GET), with the csrftoken cookie's value in the form.  303 to
 * the list of tickets, logged in; the form again with 400 (bad fields) or
 * 409 (the name or e-mail is taken).
 */
static sup_err
page_register(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	sup_err e;

	e = users_register(ctx, r);
	if (e == SUP_EINVAL || e == SUP_EUNKNOWN || e == SUP_EEXIST)
		return user_form(app, r, "register.html", "Create an account",
		    app_status(e), e, false);
	if (e != SUP_OK)
		return e;
	return page_redirect(r, app->conf.url_prefix, "/support/");
}

static const struct field password_form_fields[] = {
	{ "changed", F_BOOL, 0, 0, 0, NULL, NULL },
};

/*
 * GET /support/password/[?changed=1]
 * Logged in.  200 the form (saying the password was changed, after one).
 */
static sup_err
page_password_form(void *ctx, struct sup_req *r)
{
	struct value v[1];
	sup_err e;

	if ((e = valid_query(r, password_form_fields, 1, v)) != SUP_OK)
		return e;
	return user_form(ctx, r, "password.html", "Change your password", 200,
	    SUP_OK, v[0].present && v[0].b);
}

/*
 * POST /support/password/ old_password, new_password (a form)
 * Logged in.  303 to the form saying it was changed (every other session
 * of the user ends); the form again with 400 (wrong old password, a new
 * one the rules refuse) or 429 (throttled).
 */
static sup_err
page_password(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	sup_err e;

	r->id = r->user.id;
	e = users_password(ctx, r);
	if (e == SUP_EINVAL || e == SUP_EUNKNOWN || e == SESS_ETHROTTLE)
		return user_form(app, r, "password.html",
		    "Change your password", app_status(e), e, false);
	if (e != SUP_OK)
		return e;
	return page_redirect(r, app->conf.url_prefix,
	    PAGE_PASSWORD "?changed=1");
}

#define PAGE_AWAY "/support/away/"

static const struct field away_fields[] = {
	{ "away", F_BOOL, FIELD_REQUIRED, 0, 0, NULL, NULL },
};

/*
 * POST /support/away/ away=true|false (a form)
 * Staff, for themselves: marked away (auto_assign gives them no new
 * ticket) or back, as PATCH /api/support/users/{id}/ {away}.  303 to the
 * password page, whose switch sent it; 400 a bad form; a customer: 403.
 */
static sup_err
page_away(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[SUP_NELEM(away_fields)];
	sup_err e;

	if (!user_is_staff(&r->user))
		return SUP_EFORBIDDEN;
	if ((e = valid_json(r, r->json, away_fields, SUP_NELEM(away_fields), v)) !=
	    SUP_OK)
		return e;
	if ((e = user_set_away(&app->store, r->user.id, r->user.id, v[0].b)) !=
	    SUP_OK)
		return e;
	return page_redirect(r, app->conf.url_prefix, PAGE_PASSWORD);
}

#define PAGE_NOTIFY "/support/notify/"

static const struct field notify_fields[] = {
	{ "notify", F_BOOL, FIELD_REQUIRED, 0, 0, NULL, NULL },
};

/*
 * POST /support/notify/ notify=true|false (a form)
 * Anyone logged in, for themselves: the desk's mail on or off, as PATCH
 * /api/support/users/{id}/ {notify}.  303 to the password page, whose
 * switch sent it; 400 a bad form.
 */
static sup_err
page_notify(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[SUP_NELEM(notify_fields)];
	sup_err e;

	if ((e = valid_json(r, r->json, notify_fields,
	    SUP_NELEM(notify_fields), v)) != SUP_OK)
		return e;
	if ((e = user_set_notify(&app->store, r->user.id, r->user.id,
	    v[0].b)) != SUP_OK)
		return e;
	return page_redirect(r, app->conf.url_prefix, PAGE_PASSWORD);
}

#define PAGE_CUSTOMERS "/support/customers/"

/*
 * Add the page members of a User object u of the API: name (the display
 * name when not empty, else the username) and created_at_display (its
 * created_at in words, UTC).  These objects are json-c's, not texts, so
 * page_extra does not compute them.  SUP_ENOMEM.
 */
sup_err
users_page_user(json_object *u)
{
	char when[PAGE_TIME_STRLEN + 1];
	json_object *v;
	const char *name = NULL;

	if (json_object_object_get_ex(u, "display_name", &v) &&
	    json_object_get_string_len(v) > 0)
		name = json_object_get_string(v);
	else if (json_object_object_get_ex(u, "username", &v))
		name = json_object_get_string(v);
	if (name != NULL && !json_set(u, "name", json_object_new_string(name)))
		return SUP_ENOMEM;
	if (json_object_object_get_ex(u, "created_at", &v) &&
	    page_time_display(json_object_get_string(v), when, sizeof(when)) &&
	    !json_set(u, "created_at_display", json_object_new_string(when)))
		return SUP_ENOMEM;
	return SUP_OK;
}

/*
 * GET /support/customers/?q=&page=&page_size=
 * Staff (a 404 page for customers: the page is not theirs to know of).
 * The search form and a page of users as GET /api/support/users/ finds
 * them, with their counts.  200; 400 and 404 pages.
 */
static sup_err
page_customers(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *list, *pc, *results, *count;
	const char *q;
	sup_err e;

	if (!user_is_staff(&r->user))
		return SUP_ENOTFOUND;
	if ((e = users_index(ctx, r)) != SUP_OK)
		return e;
	list = json_object_get(r->reply);
	json_object_object_get_ex(list, "results", &results);
	for (size_t i = 0; i < json_object_array_length(results); i++)
		if ((e = users_page_user(json_object_array_get_idx(results,
		    i))) != SUP_OK) {
			json_object_put(list);
			return e;
		}
	json_object_object_get_ex(list, "count", &count);
	if ((pc = page_context(&app->page, r, "Customers")) == NULL ||
	    !json_set(list, "empty", json_object_new_boolean(
	    json_object_get_int64(count) == 0)) ||
	    json_object_object_add(pc, "customers", list) != 0) {
		json_object_put(list);
		json_object_put(pc);
		return SUP_ENOMEM;
	}
	q = req_query(r, "q");
	if (q != NULL && !json_set(pc, "q", json_object_new_string(q))) {
		json_object_put(pc);
		return SUP_ENOMEM;
	}
	e = page_render(&app->page, r, 200, "customers.html", pc);
	json_object_put(pc);
	return e;
}

/*
 * GET /support/customers/{id}/
 * Staff (a 404 page for customers, even for their own id).  The user as
 * GET /api/support/users/{id}/ shows them to staff: details, counts and
 * the first page of their tickets, each linking to its page, and a link
 * to all of them (the list page with ?user=ID).  200; 404 page.
 */
static sup_err
page_customer(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *u, *pc = NULL, *tickets, *list;
	sup_err e;

	if (!user_is_staff(&r->user))
		return SUP_ENOTFOUND;
	if ((e = user_detail(ctx, r)) != SUP_OK)
		return e;
	u = json_object_get(r->reply);
	e = SUP_ENOMEM;
	if (!json_object_object_get_ex(u, "tickets", &tickets) ||
	    (list = page_ticket_list(tickets, true, NULL)) == NULL)
		goto out;
	if (json_object_object_add(u, "tickets", list) != 0) {
		json_object_put(list);
		goto out;
	}
	if ((e = users_page_user(u)) != SUP_OK)
		goto out;
	e = SUP_ENOMEM;
	if ((pc = page_context(&app->page, r, "Customer")) == NULL ||
	    json_object_object_add(pc, "customer", json_object_get(u)) != 0)
		goto out;
	e = page_render(&app->page, r, 200, "customer.html", pc);
out:
	json_object_put(pc);
	json_object_put(u);
	return e;
}

static const struct route routes[] = {
	{ "POST", USERS_PATH, users_register, ROUTE_BODY | ROUTE_ANON_CSRF,
		ROUTE_FIELDS(register_fields) },
	{ "GET", USERS_PATH, users_index, ROUTE_STAFF | ROUTE_QUERY,
		ROUTE_FIELDS(index_fields) },
	{ "GET", USERS_PATH "{id}/", user_detail, ROUTE_LOGIN,
		ROUTE_NO_FIELDS },
	{ "PATCH", USERS_PATH "{id}/", users_change, ROUTE_LOGIN | ROUTE_BODY,
		ROUTE_FIELDS(admin_change_fields) },
	{ "POST", USERS_PATH "{id}/password/", users_password,
		ROUTE_LOGIN | ROUTE_BODY, ROUTE_FIELDS(password_fields) },
	{ "DELETE", USERS_PATH "{id}/sessions/", users_sessions_end,
		ROUTE_ADMIN, ROUTE_NO_FIELDS },
	{ "GET", USERS_PATH "{id}/tokens/", user_tokens, ROUTE_ADMIN,
		ROUTE_NO_FIELDS },
	{ "DELETE", USERS_PATH "{id}/tokens/", users_tokens_revoke,
		ROUTE_ADMIN, ROUTE_NO_FIELDS },
	{ "GET", SETTINGS_PATH, admin_settings_api, ROUTE_ADMIN,
		ROUTE_NO_FIELDS },
	{ "GET", PAGE_REGISTER, page_register_form, ROUTE_PAGE,
		ROUTE_NO_FIELDS },
	{ "POST", PAGE_REGISTER, page_register,
		ROUTE_BODY | ROUTE_ANON_CSRF | ROUTE_PAGE,
		ROUTE_FIELDS(register_fields) },
	{ "GET", PAGE_PASSWORD, page_password_form,
		ROUTE_LOGIN | ROUTE_QUERY | ROUTE_PAGE,
		ROUTE_FIELDS(password_form_fields) },
	{ "POST", PAGE_PASSWORD, page_password,
		ROUTE_LOGIN | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(password_fields) },
	{ "POST", PAGE_AWAY, page_away, ROUTE_LOGIN | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(away_fields) },
	{ "POST", PAGE_NOTIFY, page_notify, ROUTE_LOGIN | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(notify_fields) },
	{ "GET", PAGE_CUSTOMERS, page_customers,
		ROUTE_LOGIN | ROUTE_QUERY | ROUTE_PAGE,
		ROUTE_FIELDS(index_fields) },
	{ "GET", PAGE_CUSTOMERS "{id}/", page_customer,
		ROUTE_LOGIN | ROUTE_PAGE, ROUTE_NO_FIELDS },
	{ "GET", PAGE_ADMIN, admin_home_page, ROUTE_ADMIN | ROUTE_PAGE,
		ROUTE_NO_FIELDS },
	{ "GET", PAGE_ADMIN_USERS, admin_users_page,
		ROUTE_ADMIN | ROUTE_QUERY | ROUTE_PAGE,
		ROUTE_FIELDS(index_fields) },
	{ "POST", PAGE_ADMIN_USERS, admin_create_page,
		ROUTE_ADMIN | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(register_fields) },
	{ "GET", PAGE_ADMIN_USERS "{id}/", admin_user_page,
		ROUTE_ADMIN | ROUTE_QUERY | ROUTE_PAGE,
		ROUTE_FIELDS(admin_user_query) },
	{ "POST", PAGE_ADMIN_USERS "{id}/", admin_change_page,
		ROUTE_ADMIN | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(admin_change_fields) },
	{ "POST", PAGE_ADMIN_USERS "{id}/password/", admin_password_page,
		ROUTE_ADMIN | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(set_password_fields) },
	{ "POST", PAGE_ADMIN_USERS "{id}/sessions/", admin_sessions_page,
		ROUTE_ADMIN | ROUTE_BODY | ROUTE_PAGE, ROUTE_NO_FIELDS },
	{ "POST", PAGE_ADMIN_USERS "{id}/tokens/", admin_tokens_page,
		ROUTE_ADMIN | ROUTE_BODY | ROUTE_PAGE, ROUTE_NO_FIELDS },
	{ "GET", "/api/support/audit/", auditlog_api,
		ROUTE_ADMIN | ROUTE_QUERY, ROUTE_FIELDS(auditlog_fields) },
	{ "GET", PAGE_ADMIN "audit/", auditlog_page,
		ROUTE_ADMIN | ROUTE_QUERY | ROUTE_PAGE,
		ROUTE_FIELDS(auditlog_fields) },
	{ "GET", PAGE_ADMIN "settings/", admin_settings_page,
		ROUTE_ADMIN | ROUTE_PAGE, ROUTE_NO_FIELDS },
	{ "GET", "/api/support/admin/webhooks/", webhooks_api,
		ROUTE_ADMIN | ROUTE_QUERY, ROUTE_FIELDS(webhooks_fields) },
	{ "POST", "/api/support/admin/webhooks/{uuid}/retry/",
		webhooks_retry_api, ROUTE_ADMIN, ROUTE_NO_FIELDS },
	{ "GET", PAGE_ADMIN "webhooks/", webhooks_page,
		ROUTE_ADMIN | ROUTE_QUERY | ROUTE_PAGE,
		ROUTE_FIELDS(webhooks_page_fields) },
	{ "POST", PAGE_ADMIN "webhooks/{uuid}/retry/", webhooks_retry_page,
		ROUTE_ADMIN | ROUTE_BODY | ROUTE_PAGE, ROUTE_NO_FIELDS },
};

int
main(int argc, char **argv)
{
	return app_main(argc, argv, "users", routes, SUP_NELEM(routes));
}
