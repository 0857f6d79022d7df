/*
 * admin.h - the admin area (docs/pages.md "The admin area", docs/api.md
 * "Admin"): its pages, their forms, and the settings in force, answered
 * by the users program (its route table lists these handlers).
 *
 *   GET  /api/support/settings/             the settings in force
 *   GET  /support/admin/                     303 to the users
 *   GET, POST /support/admin/users/          find users; create one
 *   GET, POST /support/admin/users/{id}/     a user; role, is_active, away
 *   POST /support/admin/users/{id}/password/ set their password
 *   POST /support/admin/users/{id}/sessions/ end their sessions
 *   POST /support/admin/users/{id}/tokens/   revoke their API tokens
 *   GET  /support/admin/settings/            the settings as a page
 *
 * Each handler is described above its definition in admin.c.  The audit
 * log's and the webhooks' pages under /support/admin/ are auditlog.h's
 * and webhooks.h's.
 */
#ifndef SUP_ADMIN_H
#define SUP_ADMIN_H

#include "app.h"
#include "valid.h"

#define PAGE_ADMIN "/support/admin/"
#define PAGE_ADMIN_USERS PAGE_ADMIN "users/"

/* The query of a user's page: done, what the change just made did. */
#define ADMIN_USER_NQUERY 1
extern const struct field admin_user_query[ADMIN_USER_NQUERY];

sup_err admin_settings_api(void *ctx, struct sup_req *r);
sup_err admin_home_page(void *ctx, struct sup_req *r);
sup_err admin_users_page(void *ctx, struct sup_req *r);
sup_err admin_create_page(void *ctx, struct sup_req *r);
sup_err admin_user_page(void *ctx, struct sup_req *r);
sup_err admin_change_page(void *ctx, struct sup_req *r);
sup_err admin_password_page(void *ctx, struct sup_req *r);
sup_err admin_sessions_page(void *ctx, struct sup_req *r);
sup_err admin_tokens_page(void *ctx, struct sup_req *r);
sup_err admin_settings_page(void *ctx, struct sup_req *r);

#endif
