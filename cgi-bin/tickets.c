/*
 * tickets - the ticket resource.
 *
 *   POST  /api/support/tickets/          open a ticket (with its first message)
 *   GET   /api/support/tickets/          list the tickets the caller may see
 *   GET   /api/support/tickets/{uuid}/   one ticket with its messages
 *   PATCH /api/support/tickets/{uuid}/   change status, subject, priority, assignee
 */
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "ticket.h"
#include "valid.h"

#define TICKETS_PATH "/api/support/tickets/"

/* The path of a ticket, with the configured prefix.  New string or NULL. */
static char *
ticket_url(const struct app *app, const uint8_t uuid[UUID_LEN])
{
	char us[UUID_STRLEN + 1], *url;

	uuid_format(uuid, us);
	if (asprintf(&url, "%s" TICKETS_PATH "%s/", app->conf.url_prefix,
	    us) < 0)
		return NULL;
	return url;
}

/*
 * POST /api/support/tickets/ {subject, initial_message, priority?}
 * Any logged-in user.  201 with the ticket and Location; 400 bad fields;
 * 403 ticket_limit_reached.
 */
static sup_err
ticket_open(void *ctx, struct sup_req *r)
{
	enum { SUBJECT, MESSAGE, PRIORITY, NFIELDS };
	static const struct field fields[NFIELDS] = {
		[SUBJECT] = { "subject", F_STRING, FIELD_REQUIRED, 1,
			SUBJECT_MAX, NULL, NULL },
		[MESSAGE] = { "initial_message", F_TEXT, FIELD_REQUIRED, 1,
			CONTENT_MAX, NULL, NULL },
		[PRIORITY] = { "priority", F_ENUM, 0, 0, 0,
			ticket_priority_names, NULL },
	};
	struct app *app = ctx;
	struct value v[NFIELDS];
	struct ticket_new in;
	json_object *t;
	sup_err e;

	if ((e = valid_json(r, r->json, fields, NFIELDS, v)) != SUP_OK)
		return e;
	in = (struct ticket_new){
		.subject = v[SUBJECT].str, .subject_len = v[SUBJECT].len,
		.content = v[MESSAGE].str, .content_len = v[MESSAGE].len,
		.priority = v[PRIORITY].present ? (int)v[PRIORITY].num :
		    PRI_NORMAL,
	};
	if ((e = ticket_create(&app->store, &app->conf, &r->user, &in, &t)) !=
	    SUP_OK)
		return e;
	r->location = ticket_url(app, in.uuid);
	return app_reply(r, 201, t);
}

/*
 * GET /api/support/tickets/?status=&priority=&assignee=&user=&q=
 *     &created_after=&created_before=&ordering=&page=&page_size=
 * Customers see their own tickets, staff all.  200 {count, next, previous,
 * results}; 400 bad parameters; 404 a page past the end.
 */
static sup_err
ticket_index(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct ticket_query q;
	json_object *page, *count;
	char *next = NULL, *prev = NULL;
	sup_err e;

	if ((e = ticket_query_parse(r, &r->user, &q)) != SUP_OK)
		return e;
	if ((e = ticket_list(&app->store, &r->user, &q, &page)) != SUP_OK)
		return e;
	json_object_object_get_ex(page, "count", &count);
	if (q.page * q.page_size < json_object_get_int64(count) &&
	    (next = req_page_url(r, app->conf.url_prefix, q.page + 1)) == NULL)
		goto nomem;
	if (q.page > 1 &&
	    (prev = req_page_url(r, app->conf.url_prefix, q.page - 1)) == NULL)
		goto nomem;
	json_object_object_add(page, "next",
	    next ? json_object_new_string(next) : NULL);
	json_object_object_add(page, "previous",
	    prev ? json_object_new_string(prev) : NULL);
	free(next);
	free(prev);
	return app_reply(r, 200, page);
nomem:
	free(next);
	json_object_put(page);
	return SUP_ENOMEM;
}

/*
 * GET /api/support/tickets/{uuid}/
 * The owner or staff.  200 the ticket with "messages"; 404 otherwise.
 */
static sup_err
ticket_detail(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *t;
	sup_err e;

	if ((e = ticket_show(&app->store, &r->user, r->uuid[0], &t)) != SUP_OK)
		return e;
	return app_reply(r, 200, t);
}

/*
 * PATCH /api/support/tickets/{uuid}/ {status?, subject?, priority?, assignee?}
 * Owner: status resolved/closed only; staff: everything.  200 the ticket;
 * 400 bad fields; 403 a customer changing more; 404; 409 a refused status.
 */
static sup_err
ticket_change(void *ctx, struct sup_req *r)
{
	enum { STATUS, SUBJECT, PRIORITY, ASSIGNEE, NFIELDS };
	static const struct field fields[NFIELDS] = {
		[STATUS] = { "status", F_ENUM, 0, 0, 0, ticket_status_names,
			NULL },
		[SUBJECT] = { "subject", F_STRING, 0, 1, SUBJECT_MAX, NULL,
			NULL },
		[PRIORITY] = { "priority", F_ENUM, 0, 0, 0,
			ticket_priority_names, NULL },
		[ASSIGNEE] = { "assignee", F_INT, FIELD_NULLABLE, 1,
			UINT32_MAX, NULL, NULL },
	};
	struct app *app = ctx;
	struct value v[NFIELDS];
	struct ticket_patch p;
	json_object *t;
	sup_err e;

	if ((e = valid_json(r, r->json, fields, NFIELDS, v)) != SUP_OK)
		return e;
	p = (struct ticket_patch){
		.status = v[STATUS].present ? (int)v[STATUS].num : -1,
		.priority = v[PRIORITY].present ? (int)v[PRIORITY].num : -1,
		.subject = v[SUBJECT].present ? v[SUBJECT].str : NULL,
		.subject_len = v[SUBJECT].len,
		.set_assignee = v[ASSIGNEE].present,
		.assignee = v[ASSIGNEE].is_null ? 0 :
		    (uint32_t)v[ASSIGNEE].num,
	};
	e = ticket_update(&app->store, &r->user, r->uuid[0], &p, &t);
	if (e == SUP_EINVAL)
		return valid_fail(r, "assignee", "Must be the id of an agent "
		    "or an admin.");
	if (e != SUP_OK)
		return e;
	return app_reply(r, 200, t);
}

static const struct route routes[] = {
	{ "POST", TICKETS_PATH, ticket_open, ROUTE_LOGIN | ROUTE_BODY },
	{ "GET", TICKETS_PATH, ticket_index, ROUTE_LOGIN | ROUTE_QUERY },
	{ "GET", TICKETS_PATH "{uuid}/", ticket_detail, ROUTE_LOGIN },
	{ "PATCH", TICKETS_PATH "{uuid}/", ticket_change,
		ROUTE_LOGIN | ROUTE_BODY },
};

int
main(int argc, char **argv)
{
	return app_main(argc, argv, "tickets", routes, SUP_NELEM(routes));
}
