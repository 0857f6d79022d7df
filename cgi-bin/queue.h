/*
 * queue.h - the staff's queue page beyond its list (docs/pages.md "The
 * queue"): the sidebar of views with their counts, the filter form, and
 * the agents' saved views, as an API and as the page's forms.  Part of
 * the tickets program.
 *
 *   GET    /api/support/views/            staff: the caller's saved views
 *   POST   /api/support/views/            staff: save one {name, query}
 *   DELETE /api/support/views/{id}/       staff: delete one of theirs
 *   POST   /support/views/                the queue's "Save this view"
 *   POST   /support/views/{id}/delete/    a saved view's Delete button
 */
#ifndef SUP_QUEUE_H
#define SUP_QUEUE_H

#include <json-c/json.h>

#include "app.h"
#include "tquery.h"
#include "valid.h"

/*
 * Resolve pq->customer (a username or an e-mail) into pq->q.user.
 * SUP_EINVAL naming "customer" when nobody has it.
 */
sup_err queue_customer(struct app *app, struct sup_req *r,
    struct tquery_page *pq);

/*
 * Add to the page context pc of the staff's queue "queue": {views (the
 * fixed ones), saved (the reader's), can_save, has_saved, form (the
 * filter form's state), query (the canonical query shown,
 * tquery_canonical)}, a text object, and set pc's "title" to the name of
 * the view shown ("All tickets" without filters, "Tickets" when they are
 * no view's).  Every count is from the counters (ticket_counts): a saved
 * view they cannot count has none.  SUP_ENOMEM, the store's errors.
 */
sup_err queue_context(struct app *app, struct sup_req *r,
    const struct tquery_page *pq, const char *canonical, json_object *pc);

/* The handlers and their fields (the routes are the program's). */
#define QUEUE_VIEW_NFIELDS 2
extern const struct field queue_view_fields[QUEUE_VIEW_NFIELDS];
sup_err queue_views_index(void *ctx, struct sup_req *r);
sup_err queue_views_create(void *ctx, struct sup_req *r);
sup_err queue_views_delete(void *ctx, struct sup_req *r);
sup_err queue_page_save(void *ctx, struct sup_req *r);
sup_err queue_page_delete(void *ctx, struct sup_req *r);

#endif
