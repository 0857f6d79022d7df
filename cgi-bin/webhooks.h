/*
 * webhooks.h - the webhooks out's delivery log for admins (docs/webhooks.md
 * "The delivery log"): its API and its page, answered by the users program.
 *
 *   GET  /api/support/admin/webhooks/?subscription=&state=&before=&limit=
 *   POST /api/support/admin/webhooks/{uuid}/retry/
 *   GET  /support/admin/webhooks/  (the same query, as a page)
 *   POST /support/admin/webhooks/{uuid}/retry/  (a form with its token)
 */
#ifndef SUP_WEBHOOKS_H
#define SUP_WEBHOOKS_H

#include "app.h"
#include "valid.h"

/* The query's fields: the API's, and the page's (with "done"). */
#define WEBHOOKS_NFIELDS 4
extern const struct field webhooks_fields[WEBHOOKS_NFIELDS];
extern const struct field webhooks_page_fields[WEBHOOKS_NFIELDS + 1];

/*
 * GET /api/support/admin/webhooks/ (admin): the subscriptions and a page
 * of deliveries, newest first: {"subscriptions": [...], "results":
 * [delivery...], "next": URL | null}.  200; 400 naming the field.
 */
sup_err webhooks_api(void *ctx, struct sup_req *r);

/*
 * POST /api/support/admin/webhooks/{uuid}/retry/ (admin): queue a dead
 * (or pending) webhook delivery again, due now: 200 the delivery; 404 no
 * such webhook delivery; 409 already sent.
 */
sup_err webhooks_retry_api(void *ctx, struct sup_req *r);

/* GET /support/admin/webhooks/ (admin): the same as a page. */
sup_err webhooks_page(void *ctx, struct sup_req *r);

/*
 * POST /support/admin/webhooks/{uuid}/retry/ (admin, a form with its
 * token only): the retry, then 303 to the log saying so; 404, 409 pages.
 */
sup_err webhooks_retry_page(void *ctx, struct sup_req *r);

#endif
