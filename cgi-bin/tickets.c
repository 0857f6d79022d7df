/*
 * tickets - the ticket resource.
 *
 *   POST  /api/support/tickets/          open a ticket (with its first message)
 *   GET   /api/support/tickets/          list the tickets the caller may see
 *   GET   /api/support/tickets/{uuid}/   one ticket with its messages
 *   PATCH /api/support/tickets/{uuid}/   change status, subject, priority, assignee
 *   POST  /api/support/tickets/bulk/     change many at once (staff)
 *
 * and the same as HTML pages (docs/pages.md), through the same handlers:
 *
 *   GET  /support/                  my tickets (staff: every ticket)
 *   GET  /support/tickets/new/      the new-ticket form
 *   POST /support/tickets/new/      open it, 303 to its page
 *   GET  /support/tickets/{uuid}/   the chat page (staff: with controls,
 *                                   the customer panel, canned replies)
 *   POST /support/tickets/{uuid}/   status=resolved|closed (staff: any,
 *                                   and priority, assignee, canned=ID)
 *   POST /support/tickets/bulk/     the queue's bulk bar (staff), 303 to it
 *
 * and the agents' saved views of the queue (cgi-bin/queue.h), and the
 * webhook in (cgi-bin/webhook.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "attach.h"
#include "canned.h"
#include "page.h"
#include "queue.h"
#include "ratelink.h"
#include "reports.h"
#include "stats.h"
#include "ticket.h"
#include "tpage.h"
#include "tquery.h"
#include "valid.h"
#include "view.h"
#include "webhook.h"

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

enum { OPEN_SUBJECT, OPEN_MESSAGE, OPEN_PRIORITY, OPEN_USER, OPEN_NFIELDS };
static const struct field open_fields[OPEN_NFIELDS] = {
	[OPEN_SUBJECT] = { "subject", F_STRING, FIELD_REQUIRED, 1, SUBJECT_MAX,
		NULL, NULL },
	[OPEN_MESSAGE] = { "initial_message", F_TEXT, FIELD_REQUIRED, 1,
		CONTENT_MAX, NULL, NULL },
	[OPEN_PRIORITY] = { "priority", F_ENUM, 0, 0, 0, ticket_priority_names,
		NULL },
	/* A JSON number is an id (owner_of turns it into text first). */
	[OPEN_USER] = { "user", F_STRING, 0, 0, EMAIL_MAX, NULL, NULL },
};

#define OWNER_WHY "Must be the id, username or e-mail of an active customer."

/*
 * The "user" of a new ticket's body (r->json) before it is checked: a
 * JSON number (an id) becomes its text, *by_id telling which it was.
 * False, with the field named, for a number that is no id.
 */
static bool
owner_number(struct sup_req *r, bool *by_id)
{
	json_object *v;
	char buf[24];
	int64_t id;

	*by_id = false;
	if (r->json == NULL || !json_object_object_get_ex(r->json, "user",
	    &v) || !json_object_is_type(v, json_type_int))
		return true;
	id = json_object_get_int64(v);
	if (id < 1 || id > UINT32_MAX) {
		valid_fail(r, "user", OWNER_WHY);
		return false;
	}
	snprintf(buf, sizeof(buf), "%lld", (long long)id);
	*by_id = true;
	return json_set(r->json, "user", json_object_new_string(buf));
}

/*
 * The customer a staff caller opens a ticket for, from the checked
 * "user" v (an id when by_id, else a username or e-mail): *owner.  403
 * when the caller is not staff; 400 naming "user" when there is no such
 * account, or it is staff or switched off.
 */
static sup_err
owner_of(struct app *app, struct sup_req *r, const struct value *v,
    bool by_id, uint32_t *owner)
{
	json_object *rec = NULL, *role, *id;
	long n;
	sup_err e;

	if (!user_is_staff(&r->user))
		return SUP_EFORBIDDEN;
	if (v->len == 0)
		return valid_fail(r, "user", "Choose the customer this ticket "
		    "is for.");
	if (by_id)
		e = parse_long(v->str, 1, UINT32_MAX, &n) ?
		    user_get(&app->store, NULL, (uint32_t)n, &rec) :
		    SUP_ENOTFOUND;
	else
		e = user_find(&app->store, NULL, v->str, &rec);
	if (e == SUP_ENOTFOUND)
		return valid_fail(r, "user", "No such customer.");
	if (e != SUP_OK)
		return e;
	if (!json_object_object_get_ex(rec, "role", &role) ||
	    user_role_from(json_object_get_string(role)) != ROLE_USER ||
	    !user_is_active(rec) || !json_object_object_get_ex(rec, "id", &id)) {
		json_object_put(rec);
		return valid_fail(r, "user", OWNER_WHY);
	}
	*owner = (uint32_t)json_object_get_int64(id);
	json_object_put(rec);
	return SUP_OK;
}

/*
 * Open a ticket from the request's fields, as having come in through
 * channel (the API, the form): ticket_open and page_create.  With
 * "user", staff open it for that customer (owner_of).
 */
static sup_err
open_from(struct app *app, struct sup_req *r, enum ticket_channel channel)
{
	struct value v[OPEN_NFIELDS];
	struct ticket_new in;
	struct att_batch files;
	char why[FNAME_MAX + 200];
	const char *field;
	uint32_t owner = 0;
	json_object *t;
	bool by_id;
	sup_err e;

	if (!owner_number(r, &by_id))
		return SUP_EINVAL;
	if ((e = valid_json(r, r->json, open_fields, OPEN_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	if (v[OPEN_USER].present &&
	    (e = owner_of(app, r, &v[OPEN_USER], by_id, &owner)) != SUP_OK)
		return e;
	in = (struct ticket_new){
		.subject = v[OPEN_SUBJECT].str,
		.subject_len = v[OPEN_SUBJECT].len,
		.content = v[OPEN_MESSAGE].str,
		.content_len = v[OPEN_MESSAGE].len,
		.priority = v[OPEN_PRIORITY].present ?
		    (int)v[OPEN_PRIORITY].num : PRI_NORMAL,
		.channel = channel,
		.owner = owner,
	};
	/* Files with the first message (multipart: docs/attachments.md). */
	if ((e = att_check(&app->conf, r->upload, &files, &field, why,
	    sizeof(why))) != SUP_OK) {
		(void)req_field_error(r, field, why);
		snprintf(r->err_msg, sizeof(r->err_msg), "%.200s", why);
		return e;
	}
	in.files = &files;
	e = ticket_create(&app->store, &app->conf, &r->user, &in, &t);
	att_batch_free(&files);
	if (e != SUP_OK)
		return e;
	r->location = ticket_url(app, in.uuid);
	return app_reply(r, 201, t);
}

/*
 * POST /api/support/tickets/ {subject, initial_message, priority?, user?}
 * Any logged-in user; "user" (an id, or a username or e-mail) staff only:
 * the ticket is that customer's.  201 with the ticket (channel "api") and
 * Location; 400 bad fields (a user that is no active customer); 403
 * ticket_limit_reached, or a customer sending "user".
 */
static sup_err
ticket_open(void *ctx, struct sup_req *r)
{
	return open_from(ctx, r, CH_API);
}

/*
 * The URL of page n of the list: the request's with page=n, or the
 * queue's with the filters of base (a canonical query, may be "") and
 * page=n.  New string, NULL when out of memory.
 */
static char *
page_link(struct app *app, struct sup_req *r, const char *base, long n)
{
	char *url;

	if (base == NULL)
		return req_page_url(r, app->conf.url_prefix, n);
	if (asprintf(&url, "%s%s?%s%spage=%ld", app->conf.url_prefix, r->path,
	    base, *base ? "&" : "", n) < 0)
		return NULL;
	return url;
}

/*
 * Answer with the page of tickets q asks for, as the list API does:
 * {count, next, previous, results}.  The links to the next and previous
 * pages are the request's with page= changed, or with base (may be NULL)
 * the queue's filters: base, a canonical query (tquery_canonical), and
 * page=.
 */
static sup_err
index_reply(struct app *app, struct sup_req *r, const struct ticket_query *q,
    const char *base)
{
	json_object *page, *count;
	char *next = NULL, *prev = NULL;
	sup_err e;

	if ((e = ticket_list(&app->store, &r->user, q, &page)) != SUP_OK)
		return e;
	json_object_object_get_ex(page, "count", &count);
	if (q->page * q->page_size < json_object_get_int64(count) &&
	    (next = page_link(app, r, base, q->page + 1)) == NULL)
		goto nomem;
	if (q->page > 1 &&
	    (prev = page_link(app, r, base, q->page - 1)) == NULL)
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
 * GET /api/support/tickets/?status=&priority=&assignee=&user=&q=
 *     &created_after=&created_before=&ordering=&page=&page_size=
 * Customers see their own tickets, staff all.  200 {count, next, previous,
 * results}; 400 bad parameters; 404 a page past the end.
 */
static sup_err
ticket_index(void *ctx, struct sup_req *r)
{
	struct ticket_query q;
	sup_err e;

	if ((e = tquery_parse(r, &r->user, &q)) != SUP_OK)
		return e;
	return index_reply(ctx, r, &q, NULL);
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

enum { CH_STATUS, CH_SUBJECT, CH_PRIORITY, CH_ASSIGNEE, CH_NFIELDS };
static const struct field change_fields[CH_NFIELDS] = {
	[CH_STATUS] = { "status", F_ENUM, 0, 0, 0, ticket_status_names, NULL },
	[CH_SUBJECT] = { "subject", F_STRING, 0, 1, SUBJECT_MAX, NULL, NULL },
	[CH_PRIORITY] = { "priority", F_ENUM, 0, 0, 0, ticket_priority_names,
		NULL },
	[CH_ASSIGNEE] = { "assignee", F_INT, FIELD_NULLABLE, 1, UINT32_MAX,
		NULL, NULL },
};

/*
 * Change ticket r->uuid[0] by the checked fields v (laid out as
 * change_fields: the page's form has them first, in the same places):
 * *t the ticket after.  400 naming "assignee" for one that is not staff;
 * ticket_update's errors.
 */
static sup_err
change_apply(struct app *app, struct sup_req *r, const struct value *v,
    json_object **t)
{
	struct ticket_patch p;
	sup_err e;

	p = (struct ticket_patch){
		.status = v[CH_STATUS].present ? (int)v[CH_STATUS].num : -1,
		.priority = v[CH_PRIORITY].present ? (int)v[CH_PRIORITY].num :
		    -1,
		.subject = v[CH_SUBJECT].present ? v[CH_SUBJECT].str : NULL,
		.subject_len = v[CH_SUBJECT].len,
		.set_assignee = v[CH_ASSIGNEE].present,
		.assignee = v[CH_ASSIGNEE].is_null ? 0 :
		    (uint32_t)v[CH_ASSIGNEE].num,
	};
	e = ticket_update(&app->store, &r->user, r->uuid[0], &p, t);
	if (e == SUP_EINVAL)
		return valid_fail(r, "assignee", "Must be the id of an agent "
		    "or an admin.");
	return e;
}

/*
 * PATCH /api/support/tickets/{uuid}/ {status?, subject?, priority?, assignee?}
 * Owner: status resolved/closed only; staff: everything.  200 the ticket;
 * 400 bad fields; 403 a customer changing more; 404; 409 a refused status.
 */
static sup_err
ticket_change(void *ctx, struct sup_req *r)
{
	struct value v[CH_NFIELDS];
	json_object *t;
	sup_err e;

	if ((e = valid_json(r, r->json, change_fields, CH_NFIELDS, v)) !=
	    SUP_OK || (e = change_apply(ctx, r, v, &t)) != SUP_OK)
		return e;
	return app_reply(r, 200, t);
}

enum { BK_UUIDS, BK_STATUS, BK_PRIORITY, BK_ASSIGNEE, BK_NFIELDS };
static const struct field bulk_fields[BK_NFIELDS] = {
	[BK_UUIDS] = { "uuids", F_UUIDS, FIELD_REQUIRED, 1, TICKET_BULK_MAX,
		NULL, NULL },
	[BK_STATUS] = { "status", F_ENUM, 0, 0, 0, ticket_status_names, NULL },
	[BK_PRIORITY] = { "priority", F_ENUM, 0, 0, 0, ticket_priority_names,
		NULL },
	[BK_ASSIGNEE] = { "assignee", F_INT, FIELD_NULLABLE, 1, UINT32_MAX,
		NULL, NULL },
};

/*
 * Change the n tickets uuids with p (ticket_bulk_update) and answer 200
 * {"updated", "results"}.  A refusal names its ticket in r->err_fields
 * ("uuids": "<uuid>: why") and in r->err_msg: 400 a uuid given twice, 404
 * an unknown one, 409 a refused status; 400 naming "assignee" for one
 * that is not staff.
 */
static sup_err
bulk_apply(struct app *app, struct sup_req *r, const uint8_t (*uuids)[UUID_LEN],
    size_t n, const struct ticket_patch *p)
{
	char us[UUID_STRLEN + 1], why[UUID_STRLEN + 80];
	const char *what;
	json_object *out;
	size_t failed;
	sup_err e, fe;

	e = ticket_bulk_update(&app->store, &r->user, uuids, n, p, &failed,
	    &out);
	if (e == SUP_OK)
		return app_reply(r, 200, out);
	/* n is 1..TICKET_BULK_MAX (the field tables): this is the assignee. */
	if (e == SUP_EINVAL)
		return valid_fail(r, "assignee", "Must be the id of an agent "
		    "or an admin.");
	if (failed >= n)
		return e;
	if (e == TICKET_EDUPLICATE)
		what = "given more than once";
	else if (e == SUP_ENOTFOUND)
		what = "no such ticket";
	else if (e == TICKET_ETRANSITION)
		what = "cannot change to that status from where it is";
	else
		return e;
	uuid_format(uuids[failed], us);
	snprintf(why, sizeof(why), "%s: %s.", us, what);
	if ((fe = req_field_error(r, "uuids", why)) != SUP_OK)
		return fe;
	snprintf(r->err_msg, sizeof(r->err_msg), "Nothing was changed: "
	    "ticket %s: %s.", us, what);
	return e == TICKET_EDUPLICATE ? SUP_EINVAL : e;
}

/* The patch of a bulk change from the checked status, priority, assignee. */
static struct ticket_patch
bulk_patch(const struct value *status, const struct value *priority,
    const struct value *assignee)
{
	return (struct ticket_patch){
		.status = status->present && !status->is_null ?
		    (int)status->num : -1,
		.priority = priority->present && !priority->is_null ?
		    (int)priority->num : -1,
		.set_assignee = assignee->present,
		.assignee = assignee->is_null ? 0 : (uint32_t)assignee->num,
	};
}

/*
 * POST /api/support/tickets/bulk/ {uuids: [1..100 uuids], status?,
 * priority?, assignee? (an id or null)}
 * Staff.  Every ticket changed in one transaction, or none.  200
 * {"updated": N, "results": [tickets as the list shows them]}; 400 bad
 * fields (a uuid given twice, an assignee not staff); 403 a customer; 404
 * an unknown ticket, 409 a refused status, each naming the ticket in
 * "fields": {"uuids": "<uuid>: why"}.
 */
static sup_err
ticket_bulk(void *ctx, struct sup_req *r)
{
	uint8_t uuids[TICKET_BULK_MAX][UUID_LEN];
	struct value v[BK_NFIELDS];
	struct ticket_patch p;
	size_t n;
	sup_err e;

	if ((e = valid_json(r, r->json, bulk_fields, BK_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	n = valid_uuids(&v[BK_UUIDS], uuids, TICKET_BULK_MAX);
	p = bulk_patch(&v[BK_STATUS], &v[BK_PRIORITY], &v[BK_ASSIGNEE]);
	return bulk_apply(ctx, r, uuids, n, &p);
}

/* --- Pages ------------------------------------------------------------ */

#define PAGE_TICKETS "/support/tickets/"

/*
 * GET /support/?status=&priority=&assignee=&customer=&q=&created_from=
 *     &created_to=&ordering=&page=  (the list's query parameters and the
 *     page's: cgi-bin/tquery.h; updated=N: the notice after a bulk change)
 * Logged in.  The reader's tickets, newest activity first, 20 to a page;
 * staff see every ticket: the queue, with its views and their counts,
 * the filter form, the bulk bar and "Save this view" (docs/pages.md).
 * 200; the queue again with 400 and the field's error for a customer
 * nobody is; 400 and 404 pages.
 */
static sup_err
page_index(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	bool staff = user_is_staff(&r->user);
	struct tquery_page pq;
	json_object *list = NULL, *pc = NULL;
	const char *title = staff ? "All tickets" : "My tickets";
	char notice[64], *canonical = NULL;
	bool bad_customer = false;
	sup_err e;

	if ((e = tquery_parse_page(r, &r->user, &pq)) != SUP_OK)
		return e;
	if (staff) {
		e = queue_customer(app, r, &pq);
		if (e == SUP_EINVAL)
			bad_customer = true;
		else if (e != SUP_OK)
			return e;
		if ((canonical = tquery_canonical(r, &pq.q)) == NULL)
			return SUP_ENOMEM;
	}
	if (!bad_customer) {
		if ((e = index_reply(app, r, &pq.q, canonical)) != SUP_OK)
			goto out;
		e = SUP_ENOMEM;
		if ((list = page_ticket_list(r->reply, staff, NULL)) == NULL)
			goto out;
		/* A search that looked at as much as it may: its notice. */
		json_object *tr;
		if (json_object_object_get_ex(r->reply, "search_truncated",
		    &tr) && json_object_get_boolean(tr) && !json_set(list,
		    "search_truncated", json_object_new_boolean(true)))
			goto out;
	}
	e = SUP_ENOMEM;
	if ((pc = page_context(&app->page, r, title)) == NULL)
		goto out;
	if (staff && (e = queue_context(app, r, &pq, canonical, pc)) !=
	    SUP_OK)
		goto out;
	e = SUP_ENOMEM;
	if (list != NULL) {
		json_object_object_add(pc, "tickets", list);
		list = NULL;
	}
	if (bad_customer && (e = page_form_errors(pc, r, SUP_EINVAL)) !=
	    SUP_OK)
		goto out;
	if (pq.updated >= 0) {
		snprintf(notice, sizeof(notice), "%ld ticket%s changed.",
		    pq.updated, pq.updated == 1 ? "" : "s");
		if (!json_set(pc, "notice", json_object_new_string(notice)))
			goto out;
	}
	e = page_render(&app->page, r, bad_customer ? 400 : 200,
	    "tickets.html", pc);
out:
	free(canonical);
	json_object_put(list);
	json_object_put(pc);
	return e;
}

/*
 * The new-ticket form with status: empty, or after a refused POST with
 * what was typed and the API's messages next to the fields (error e).
 */
static sup_err
new_form(struct app *app, struct sup_req *r, int status, sup_err e)
{
	json_object *pc = page_context(&app->page, r, "New ticket");
	sup_err rc;

	if (pc == NULL)
		return SUP_ENOMEM;
	if (e != SUP_OK && (rc = page_form_errors(pc, r, e)) != SUP_OK)
		goto out;
	rc = page_render(&app->page, r, status, "new_ticket.html", pc);
out:
	json_object_put(pc);
	return rc;
}

/* GET /support/tickets/new/: logged in.  200 the form. */
static sup_err
page_new(void *ctx, struct sup_req *r)
{
	return new_form(ctx, r, 200, SUP_OK);
}

/*
 * POST /support/tickets/new/ subject, initial_message (a form)
 * Logged in.  303 to the new ticket's page (its channel "web"); the form again with 400 (bad
 * fields) or 403 (too many open tickets).
 */
static sup_err
page_create(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	char path[sizeof(PAGE_TICKETS) + UUID_STRLEN + 2];
	json_object *t, *uuid;
	sup_err e;

	e = open_from(app, r, CH_WEB);
	if (e == SUP_EINVAL || e == SUP_EUNKNOWN || e == TICKET_ELIMIT ||
	    e == ATT_EEMPTY || e == ATT_ETYPE || e == ATT_EDISABLED)
		return new_form(app, r, app_status(e), e);
	if (e != SUP_OK)
		return e;
	if ((t = view_expand(r->reply)) == NULL)
		return SUP_ENOMEM;
	snprintf(path, sizeof(path), PAGE_TICKETS "%s/",
	    json_object_object_get_ex(t, "uuid", &uuid) &&
	    json_object_get_string_len(uuid) == UUID_STRLEN ?
	    json_object_get_string(uuid) : "");
	json_object_put(t);
	return page_redirect(r, app->conf.url_prefix, path);
}

/*
 * The chat page's query: what the reader's form just set, for the
 * notice: the status (changed), the priority (changed_priority), the
 * assignee (assigned=1).
 */
enum { SH_CHANGED, SH_PRIORITY, SH_ASSIGNED, SH_NFIELDS };
static const struct field show_fields[SH_NFIELDS] = {
	[SH_CHANGED] = { "changed", F_ENUM, 0, 0, 0, ticket_status_names,
		NULL },
	[SH_PRIORITY] = { "changed_priority", F_ENUM, 0, 0, 0,
		ticket_priority_names, NULL },
	[SH_ASSIGNED] = { "assigned", F_BOOL, 0, 0, 0, NULL, NULL },
};

/*
 * Add {"id", "text"} as member name of more: a notice of the page, in its
 * own words (never the query's text).  False when out of memory.
 */
static bool
add_notice(json_object *more, const char *name, const char *id,
    const char *text)
{
	json_object *n = json_object_new_object();

	if (n == NULL || !json_set(more, name, n))
		return false;
	return json_set(n, "id", json_object_new_string(id)) &&
	    json_set(n, "text", json_object_new_string(text));
}

/*
 * The notices of the query v into more: "Priority changed to High.",
 * "Assigned to <the ticket's assignee>." or "Unassigned." (the status's
 * own is page_ticket_render's).  SUP_ENOMEM.
 */
static sup_err
show_notices(struct sup_req *r, const struct value *v, json_object *more)
{
	static const char *const pri[] = { "Low", "Normal", "High", "Urgent" };
	char text[300];
	json_object *t = NULL, *a, *name;
	sup_err e = SUP_OK;

	if (v[SH_PRIORITY].present) {
		snprintf(text, sizeof(text), "Priority changed to %s.",
		    pri[v[SH_PRIORITY].num]);
		if (!add_notice(more, "priority_notice", "priority-changed",
		    text))
			return SUP_ENOMEM;
	}
	if (!v[SH_ASSIGNED].present || !v[SH_ASSIGNED].b)
		return SUP_OK;
	/* Whoever it is now: the page shows the ticket as it is. */
	if ((t = view_expand(r->reply)) == NULL)
		return SUP_ENOMEM;
	if (json_object_object_get_ex(t, "assignee", &a) && a != NULL) {
		if (!json_object_object_get_ex(a, "display_name", &name) ||
		    json_object_get_string_len(name) == 0)
			json_object_object_get_ex(a, "username", &name);
		snprintf(text, sizeof(text), "Assigned to %s.",
		    json_object_get_string(name));
	} else
		snprintf(text, sizeof(text), "Unassigned.");
	if (!add_notice(more, "assignee_notice", "assignee-changed", text))
		e = SUP_ENOMEM;
	json_object_put(t);
	return e;
}

/* --- Ratings (docs/reports.md "Satisfaction") ------------------------- */

enum { RT_RATING, RT_COMMENT, RT_NFIELDS };
static const char *const rating_names[] = { "good", "bad", NULL };
static const struct field rating_fields[RT_NFIELDS] = {
	[RT_RATING] = { "rating", F_ENUM, FIELD_REQUIRED, 0, 0, rating_names,
		NULL },
	[RT_COMMENT] = { "comment", F_STRING, FIELD_NULLABLE, 0,
		STATS_COMMENT_MAX, NULL, NULL },
};

/* Rate ticket r->uuid[0] with the body's checked fields: *out the rating. */
static sup_err
rate(struct app *app, struct sup_req *r, json_object **out)
{
	struct value v[RT_NFIELDS];
	sup_err e;

	if ((e = valid_json(r, r->json, rating_fields, RT_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	return stats_rate(&app->store, &r->user, r->uuid[0],
	    v[RT_RATING].num == 0, v[RT_COMMENT].present &&
	    !v[RT_COMMENT].is_null && v[RT_COMMENT].len > 0 ?
	    v[RT_COMMENT].str : NULL, v[RT_COMMENT].len, out);
}

/*
 * POST /api/support/tickets/{uuid}/rating/ {rating: good|bad, comment?}
 * The ticket's customer, once it is resolved.  201 the rating; 400 bad
 * fields; 403 staff or not the owner; 404; 409 not_resolved,
 * already_rated.
 */
static sup_err
ticket_rate(void *ctx, struct sup_req *r)
{
	json_object *o;
	sup_err e;

	if ((e = rate(ctx, r, &o)) != SUP_OK)
		return e;
	return app_reply(r, 201, o);
}

/*
 * GET /api/support/tickets/{uuid}/rating/
 * The owner or staff.  200 {rating, comment, created_at}; 404 no rating
 * (or no such ticket).
 */
static sup_err
ticket_rating(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *o;
	sup_err e;

	if ((e = stats_rating(&app->store, &r->user, r->uuid[0], &o, NULL)) !=
	    SUP_OK)
		return e;
	if (o == NULL)
		return SUP_ENOTFOUND;
	return app_reply(r, 200, o);
}

/*
 * POST /support/tickets/{uuid}/rating/ rating=good|bad, comment=
 * The ticket page's rating form: 303 to the ticket page (which shows the
 * rating), or the error page (400, 403, 404, 409).
 */
static sup_err
page_rate(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	char path[sizeof(PAGE_TICKETS) + UUID_STRLEN + 2], us[UUID_STRLEN + 1];
	json_object *o;
	sup_err e;

	if ((e = rate(app, r, &o)) != SUP_OK)
		return e;
	json_object_put(o);
	uuid_format(r->uuid[0], us);
	snprintf(path, sizeof(path), PAGE_TICKETS "%s/", us);
	return page_redirect(r, app->conf.url_prefix, path);
}

/*
 * Add to more the ticket's rating for the page ("rating": the API's with
 * "label") and whether the reader may rate it ("can_rate").
 */
static sup_err
rating_context(struct app *app, struct sup_req *r, json_object *more)
{
	json_object *o, *v;
	bool can;
	sup_err e;

	if ((e = stats_rating(&app->store, &r->user, r->uuid[0], &o, &can)) !=
	    SUP_OK)
		return e;
	if (!json_set(more, "can_rate", json_object_new_boolean(can))) {
		json_object_put(o);
		return SUP_ENOMEM;
	}
	if (o == NULL)
		return SUP_OK;
	json_object_object_get_ex(o, "rating", &v);
	if (!json_set(o, "label", json_object_new_string(
	    strcmp(json_object_get_string(v), "good") == 0 ? "Good" : "Bad")) ||
	    !json_set(more, "rating", o))
		return SUP_ENOMEM;
	return SUP_OK;
}

/* --- The rating link of the "resolved" mail (lib/desk/ratelink.h) ----- */

enum { RL_TOKEN, RL_CHOICE, RL_NFIELDS };
static const struct field rate_link_fields[RL_NFIELDS] = {
	[RL_TOKEN] = { "t", F_STRING, FIELD_REQUIRED, 1, REPLY_TOKEN_STRLEN,
		NULL, NULL },
	[RL_CHOICE] = { "r", F_ENUM, 0, 0, 0, rating_names, NULL },
};
enum { RP_TOKEN, RP_RATING, RP_COMMENT, RP_NFIELDS };
static const struct field rate_post_fields[RP_NFIELDS] = {
	[RP_TOKEN] = { "t", F_STRING, FIELD_REQUIRED, 1, REPLY_TOKEN_STRLEN,
		NULL, NULL },
	[RP_RATING] = { "rating", F_ENUM, FIELD_REQUIRED, 0, 0, rating_names,
		NULL },
	[RP_COMMENT] = { "comment", F_STRING, FIELD_NULLABLE, 0,
		STATS_COMMENT_MAX, NULL, NULL },
};

/* What token v names (ratelink_open); RATELINK_EBAD without the key. */
static sup_err
rate_link_open(struct app *app, const struct value *v, struct ratelink *rl)
{
	memset(rl, 0, sizeof(*rl));
	if (!app->have_rate_key)
		return RATELINK_EBAD;
	return ratelink_open(&app->store, app->rate_key, v->str, v->len,
	    time_now_us(), rl);
}

/*
 * GET /support/rate/?t=TOKEN[&r=good|bad]
 * Anyone with the link (no login: the token is the authority).  200 the
 * rating page of the token's ticket: its form with the choice r
 * preselected, or the rating given already, or that the ticket is not
 * resolved any more.  Records nothing: mail scanners open links.  400 a
 * bad query or an expired link, 404 a link that is not valid.
 */
static sup_err
page_rate_link(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[RL_NFIELDS];
	struct ratelink rl;
	json_object *pc = NULL, *o = NULL, *lv;
	char title[64];
	bool can = false;
	sup_err e;

	if ((e = valid_query(r, rate_link_fields, RL_NFIELDS, v)) != SUP_OK)
		return e;
	if ((e = rate_link_open(app, &v[RL_TOKEN], &rl)) != SUP_OK ||
	    (e = stats_rating(&app->store, &rl.user, rl.ticket, &o, &can)) !=
	    SUP_OK)
		goto out;
	snprintf(title, sizeof(title), "Rate ticket #%lld",
	    (long long)rl.number);
	e = SUP_ENOMEM;
	if ((pc = page_context(&app->page, r, title)) == NULL ||
	    !json_set(pc, "ticket_number", json_object_new_int64(rl.number)) ||
	    !json_set(pc, "ticket_subject", json_object_new_string(
	    rl.subject)) ||
	    !json_set(pc, "token", json_object_new_string(v[RL_TOKEN].str)) ||
	    !json_set(pc, "can_rate", json_object_new_boolean(can)) ||
	    !json_set(pc, "not_resolved", json_object_new_boolean(!can &&
	    o == NULL)) ||
	    !json_set(pc, "good_checked", json_object_new_boolean(
	    v[RL_CHOICE].present && v[RL_CHOICE].num == 0)) ||
	    !json_set(pc, "bad_checked", json_object_new_boolean(
	    v[RL_CHOICE].present && v[RL_CHOICE].num == 1)))
		goto out;
	if (o != NULL) {
		json_object_object_get_ex(o, "rating", &lv);
		if (!json_set(o, "label", json_object_new_string(strcmp(
		    json_object_get_string(lv), "good") == 0 ? "Good" :
		    "Bad")) || !json_set(pc, "rating", o))
			goto out;
		o = NULL;
	}
	e = page_render(&app->page, r, 200, "rate.html", pc);
out:
	json_object_put(o);
	json_object_put(pc);
	ratelink_clear(&rl);
	return e;
}

/*
 * POST /support/rate/ t=TOKEN, rating=good|bad, comment=
 * The rating page's form.  Authorised by the token it carries, not by a
 * session: no login, and no CSRF token (ROUTE_SIGNED; docs/security.md
 * "The rating link").  Rates the token's ticket as its customer, once:
 * 303 to the page of the link (which then shows the rating); the error
 * page otherwise: 400 bad fields or an expired link, 404 a link not
 * valid, 409 already rated or not resolved (the API's answers).
 */
static sup_err
page_rate_link_post(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[RP_NFIELDS];
	struct ratelink rl;
	json_object *o = NULL;
	struct sbuf path = { 0 };
	sup_err e;

	memset(&rl, 0, sizeof(rl));
	if ((e = req_parse_body(r)) != SUP_OK ||
	    (e = valid_json(r, r->json, rate_post_fields, RP_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	if ((e = rate_link_open(app, &v[RP_TOKEN], &rl)) != SUP_OK ||
	    (e = stats_rate(&app->store, &rl.user, rl.ticket,
	    v[RP_RATING].num == 0, v[RP_COMMENT].present &&
	    !v[RP_COMMENT].is_null && v[RP_COMMENT].len > 0 ?
	    v[RP_COMMENT].str : NULL, v[RP_COMMENT].len, &o)) != SUP_OK)
		goto out;
	/* The token is base32: nothing in it needs escaping. */
	sbuf_printf(&path, RATELINK_PATH "?t=%s", v[RP_TOKEN].str);
	e = path.failed ? SUP_ENOMEM : page_redirect(r, app->conf.url_prefix,
	    path.p);
out:
	free(path.p);
	json_object_put(o);
	ratelink_clear(&rl);
	return e;
}

/*
 * GET /support/tickets/{uuid}/[?changed=STATUS][&changed_priority=P]
 *     [&assigned=1]
 * The owner or staff.  200 the chat page (saying what the reader's form
 * just changed); staff's has the controls, the customer panel and the
 * canned-response picker (cgi-bin/tpage.c); 400 a query value out of its
 * list; 404 page otherwise.
 */
static sup_err
page_ticket_show(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[SH_NFIELDS];
	json_object *more;
	sup_err e;

	if ((e = valid_query(r, show_fields, SH_NFIELDS, v)) != SUP_OK)
		return e;
	if ((e = ticket_detail(ctx, r)) != SUP_OK)
		return e;
	if ((more = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if ((e = show_notices(r, v, more)) == SUP_OK &&
	    (e = rating_context(app, r, more)) == SUP_OK)
		e = tpage_render(app, r, 200, r->reply, NULL,
		    v[SH_CHANGED].present ?
		    ticket_status_names[v[SH_CHANGED].num] : NULL, more);
	json_object_put(more);
	return e;
}

/*
 * The chat page's forms: the API's change (change_fields, in the same
 * places, for change_apply), and the canned picker.
 */
enum { PC_STATUS = CH_STATUS, PC_SUBJECT = CH_SUBJECT,
	PC_PRIORITY = CH_PRIORITY, PC_ASSIGNEE = CH_ASSIGNEE,
	PC_CANNED = CH_NFIELDS, PC_NFIELDS };
static const struct field page_change_fields[PC_NFIELDS] = {
	[PC_STATUS] = { "status", F_ENUM, 0, 0, 0, ticket_status_names, NULL },
	[PC_SUBJECT] = { "subject", F_STRING, 0, 1, SUBJECT_MAX, NULL, NULL },
	[PC_PRIORITY] = { "priority", F_ENUM, 0, 0, 0, ticket_priority_names,
		NULL },
	/* The "Nobody" choice sends it empty: null. */
	[PC_ASSIGNEE] = { "assignee", F_INT, FIELD_NULLABLE, 1, UINT32_MAX,
		NULL, NULL },
	[PC_CANNED] = { "canned", F_INT, 0, 1, UINT32_MAX, NULL, NULL },
};

/*
 * The canned-response picker without JavaScript: the chat page again
 * with the reply box holding response id rendered for this ticket by
 * the reader (canned_render, as POST .../render/ does).  Staff only
 * (403); an id that is no response the reader sees: the page with 400
 * and the picker's field named.
 */
static sup_err
page_canned_pick(struct app *app, struct sup_req *r, uint32_t id)
{
	struct canned_why why = { 0 };
	json_object *more, *t = NULL;
	char *text = NULL, msg[80];
	int status = 200;
	sup_err e;

	if (!user_is_staff(&r->user))
		return SUP_EFORBIDDEN;
	/* The ticket first: an unknown one is the 404 page. */
	if ((e = ticket_show(&app->store, &r->user, r->uuid[0], &t)) != SUP_OK)
		return e;
	/* The ticket is there: not found is the response. */
	e = canned_render(&app->store, &r->user, id, r->uuid[0], &why, &text);
	if (e != SUP_OK && e != SUP_ENOTFOUND) {
		json_object_put(t);
		return e;
	}
	e = SUP_ENOMEM;
	if ((more = json_object_new_object()) == NULL)
		goto out;
	if (text != NULL) {
		if (!json_set(more, "form_content",
		    json_object_new_string(text)) ||
		    !add_notice(more, "canned_notice", "canned-inserted",
		    "The canned response is in the reply box: check it, "
		    "then send."))
			goto out;
	} else {
		snprintf(msg, sizeof(msg), "There is no canned response %lu.",
		    (unsigned long)id);
		status = 400;
		if (!json_set(more, "canned_error",
		    json_object_new_string(msg)))
			goto out;
	}
	e = tpage_render(app, r, status, t, NULL, NULL, more);
out:
	json_object_put(more);
	json_object_put(t);
	free(text);
	return e;
}

/*
 * POST /support/tickets/{uuid}/ status=, priority=, assignee= (an id;
 * empty: nobody), or canned=ID (the picker)
 * The owner (status resolved|closed) or staff (anything).  303 to the
 * chat page, its query saying what changed (changed=STATUS,
 * changed_priority=P, assigned=1); for canned the chat page itself with
 * the reply box filled (page_canned_pick); a 400, 403, 404 or 409 page.
 */
static sup_err
page_ticket_status(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	char path[sizeof(PAGE_TICKETS) + UUID_STRLEN + 80];
	char us[UUID_STRLEN + 1];
	struct value v[PC_NFIELDS];
	json_object *t;
	char sep = '?';
	int w;
	sup_err e;

	if ((e = valid_json(r, r->json, page_change_fields, PC_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	if (v[PC_CANNED].present) {
		if (v[PC_STATUS].present || v[PC_SUBJECT].present ||
		    v[PC_PRIORITY].present || v[PC_ASSIGNEE].present)
			return valid_fail(r, "canned", "Insert a canned "
			    "response on its own, not with a change.");
		return page_canned_pick(app, r, (uint32_t)v[PC_CANNED].num);
	}
	if ((e = change_apply(app, r, v, &t)) != SUP_OK)
		return e;
	json_object_put(t);
	uuid_format(r->uuid[0], us);
	w = snprintf(path, sizeof(path), PAGE_TICKETS "%s/", us);
	if (v[PC_STATUS].present) {
		w += snprintf(path + w, sizeof(path) - (size_t)w,
		    "%cchanged=%s", sep, ticket_status_names[v[PC_STATUS].num]);
		sep = '&';
	}
	if (v[PC_PRIORITY].present) {
		w += snprintf(path + w, sizeof(path) - (size_t)w,
		    "%cchanged_priority=%s", sep,
		    ticket_priority_names[v[PC_PRIORITY].num]);
		sep = '&';
	}
	if (v[PC_ASSIGNEE].present)
		snprintf(path + w, sizeof(path) - (size_t)w, "%cassigned=1",
		    sep);
	return page_redirect(r, app->conf.url_prefix, path);
}

enum { PB_UUIDS, PB_ALL, PB_SHOWN, PB_STATUS, PB_PRIORITY, PB_ASSIGNEE,
	PB_NFIELDS };
static const struct field page_bulk_fields[PB_NFIELDS] = {
	[PB_UUIDS] = { "uuids", F_UUIDS, 0, 0, TICKET_BULK_MAX, NULL, NULL },
	[PB_ALL] = { "all", F_BOOL, 0, 0, 0, NULL, NULL },
	[PB_SHOWN] = { "shown", F_UUIDS, 0, 0, TICKET_BULK_MAX, NULL, NULL },
	[PB_STATUS] = { "status", F_ENUM, FIELD_NULLABLE, 0, 0,
		ticket_status_names, NULL },
	[PB_PRIORITY] = { "priority", F_ENUM, FIELD_NULLABLE, 0, 0,
		ticket_priority_names, NULL },
	[PB_ASSIGNEE] = { "assignee", F_INT, FIELD_NULLABLE, 0, UINT32_MAX,
		NULL, NULL },
};

/*
 * POST /support/tickets/bulk/ uuids=...&uuids=...&status=&priority=
 * &assignee= (a form: the queue's bulk bar)
 * Staff.  The checked tickets (uuids), or with all=1 every ticket the
 * page showed (shown), changed as the API's bulk change does; an empty
 * status, priority or assignee leaves it as it is, assignee=0 unassigns.
 * 303 to the queue with the notice (?updated=N); a 400, 403, 404 or 409
 * page naming the ticket otherwise.
 */
static sup_err
page_bulk(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	uint8_t uuids[TICKET_BULK_MAX][UUID_LEN];
	struct value v[PB_NFIELDS];
	struct ticket_patch p;
	json_object *updated;
	char path[64];
	size_t n;
	sup_err e;

	if ((e = valid_json(r, r->json, page_bulk_fields, PB_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	n = valid_uuids(&v[v[PB_ALL].b ? PB_SHOWN : PB_UUIDS], uuids,
	    TICKET_BULK_MAX);
	if (n == 0)
		return valid_fail(r, "uuids", "Select at least one ticket.");
	p = bulk_patch(&v[PB_STATUS], &v[PB_PRIORITY], &v[PB_ASSIGNEE]);
	/* Here an empty assignee is "as it is"; 0 is nobody. */
	p.set_assignee = v[PB_ASSIGNEE].present && !v[PB_ASSIGNEE].is_null;
	if ((e = bulk_apply(app, r, uuids, n, &p)) != SUP_OK)
		return e;
	json_object_object_get_ex(r->reply, "updated", &updated);
	snprintf(path, sizeof(path), "/support/?updated=%d",
	    json_object_get_int(updated));
	return page_redirect(r, app->conf.url_prefix, path);
}

static const struct route routes[] = {
	{ "POST", TICKETS_PATH, ticket_open,
		ROUTE_LOGIN | ROUTE_BODY | ROUTE_UPLOAD,
		ROUTE_FIELDS(open_fields) },
	{ "GET", TICKETS_PATH, ticket_index, ROUTE_LOGIN | ROUTE_QUERY,
		tquery_fields, TQUERY_NFIELDS },
	{ "GET", TICKETS_PATH "{uuid}/", ticket_detail, ROUTE_LOGIN,
		ROUTE_NO_FIELDS },
	{ "PATCH", TICKETS_PATH "{uuid}/", ticket_change,
		ROUTE_LOGIN | ROUTE_BODY, ROUTE_FIELDS(change_fields) },
	{ "POST", TICKETS_PATH "bulk/", ticket_bulk, ROUTE_STAFF | ROUTE_BODY,
		ROUTE_FIELDS(bulk_fields) },
	{ "GET", "/support/", page_index, ROUTE_LOGIN | ROUTE_QUERY | ROUTE_PAGE,
		tquery_page_fields, TQUERY_PAGE_NFIELDS },
	{ "GET", PAGE_TICKETS "new/", page_new, ROUTE_LOGIN | ROUTE_PAGE,
		ROUTE_NO_FIELDS },
	{ "POST", PAGE_TICKETS "new/", page_create,
		ROUTE_LOGIN | ROUTE_BODY | ROUTE_PAGE | ROUTE_UPLOAD,
		ROUTE_FIELDS(open_fields) },
	{ "GET", PAGE_TICKETS "{uuid}/", page_ticket_show,
		ROUTE_LOGIN | ROUTE_QUERY | ROUTE_PAGE,
		ROUTE_FIELDS(show_fields) },
	{ "POST", PAGE_TICKETS "bulk/", page_bulk,
		ROUTE_STAFF | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(page_bulk_fields) },
	{ "GET", "/api/support/views/", queue_views_index, ROUTE_STAFF,
		ROUTE_NO_FIELDS },
	{ "POST", "/api/support/views/", queue_views_create,
		ROUTE_STAFF | ROUTE_BODY, ROUTE_FIELDS(queue_view_fields) },
	{ "DELETE", "/api/support/views/{id}/", queue_views_delete,
		ROUTE_STAFF, ROUTE_NO_FIELDS },
	{ "POST", "/support/views/", queue_page_save,
		ROUTE_STAFF | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(queue_view_fields) },
	{ "POST", "/support/views/{id}/delete/", queue_page_delete,
		ROUTE_STAFF | ROUTE_BODY | ROUTE_PAGE, ROUTE_NO_FIELDS },
	{ "POST", PAGE_TICKETS "{uuid}/", page_ticket_status,
		ROUTE_LOGIN | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(page_change_fields) },
	{ "POST", WEBHOOK_PATH, webhook_in, ROUTE_SIGNED,
		ROUTE_FIELDS(webhook_fields) },
	{ "POST", TICKETS_PATH "{uuid}/rating/", ticket_rate,
		ROUTE_LOGIN | ROUTE_BODY, ROUTE_FIELDS(rating_fields) },
	{ "GET", TICKETS_PATH "{uuid}/rating/", ticket_rating, ROUTE_LOGIN,
		ROUTE_NO_FIELDS },
	{ "POST", PAGE_TICKETS "{uuid}/rating/", page_rate,
		ROUTE_LOGIN | ROUTE_BODY | ROUTE_PAGE,
		ROUTE_FIELDS(rating_fields) },
	{ "GET", RATELINK_PATH, page_rate_link, ROUTE_QUERY | ROUTE_PAGE,
		ROUTE_FIELDS(rate_link_fields) },
	{ "POST", RATELINK_PATH, page_rate_link_post,
		ROUTE_SIGNED | ROUTE_PAGE, ROUTE_FIELDS(rate_post_fields) },
	{ "GET", REPORTS_PATH, reports_api, ROUTE_STAFF | ROUTE_QUERY,
		reports_fields, REPORTS_NFIELDS },
	{ "GET", REPORTS_PAGE, reports_page,
		ROUTE_STAFF | ROUTE_QUERY | ROUTE_PAGE, reports_fields,
		REPORTS_NFIELDS },
};

int
main(int argc, char **argv)
{
	return app_main(argc, argv, "tickets", routes, SUP_NELEM(routes));
}
