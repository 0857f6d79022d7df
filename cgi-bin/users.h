/*
 * users.h - what the users program's handlers (users.c) offer the admin
 * area (admin.c), part of the same program: its pages call the API's
 * handlers in-process (docs/pages.md, one data path), so that a form and
 * its API call cannot disagree.  Each handler is described above its
 * definition in users.c; the routes are users.c's.
 */
#ifndef SUP_USERS_H
#define SUP_USERS_H

#include <json-c/json.h>

#include "app.h"

/* The roles by enum user_role, as the API names them; NULL at the end. */
extern const char *const users_role_choices[];

/* POST /api/support/users/: sign up, or an admin's new account. */
sup_err users_register(void *ctx, struct sup_req *r);

/* GET /api/support/users/?q=&role=&is_active=&page=&page_size= (staff). */
sup_err users_index(void *ctx, struct sup_req *r);

/* PATCH /api/support/users/{id}/: away, role, is_active, notify. */
sup_err users_change(void *ctx, struct sup_req *r);

/* POST /api/support/users/{id}/password/: one's own, or an admin's set. */
sup_err users_password(void *ctx, struct sup_req *r);

/* DELETE /api/support/users/{id}/sessions/ (admin). */
sup_err users_sessions_end(void *ctx, struct sup_req *r);

/* DELETE /api/support/users/{id}/tokens/ (admin). */
sup_err users_tokens_revoke(void *ctx, struct sup_req *r);

/*
 * The User of rec (user r->id) as GET /api/support/users/{id}/ shows it
 * to r's caller, without the tickets, into *out (new, the caller's to
 * put); rec stays the caller's.  SUP_ENOMEM, the store's errors.
 */
sup_err users_detail_object(struct app *app, struct sup_req *r,
    json_object *rec, json_object **out);

/*
 * Add to the API's User object u the members the pages show: name and
 * created_at_display.  SUP_ENOMEM.
 */
sup_err users_page_user(json_object *u);

#endif
