/*
 * auditlog.c - the audit log's API and page for admins (auditlog.h): the
 * query is read and checked here, the rows come from lib/desk/audit.c.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "auditlog.h"
#include "page.h"
#include "user.h"

#define DAY_US (86400LL * 1000000)
#define AUDITLOG_PAGE 50	/* rows a page holds unless limit says */

enum { Q_ACTOR, Q_TICKET, Q_FROM, Q_TO, Q_BEFORE, Q_LIMIT };
const struct field auditlog_fields[AUDITLOG_NFIELDS] = {
	[Q_ACTOR] = { "actor", F_STRING, 0, 1, 254, NULL, NULL },
	[Q_TICKET] = { "ticket", F_STRING, 0, 1, UUID_STRLEN, NULL, NULL },
	[Q_FROM] = { "from", F_TIME, 0, 0, 0, NULL, NULL },
	[Q_TO] = { "to", F_TIME, 0, 0, 0, NULL, NULL },
	[Q_BEFORE] = { "before", F_STRING, 0, 2 * AUDIT_CURSOR_LEN,
		2 * AUDIT_CURSOR_LEN, NULL, NULL },
	[Q_LIMIT] = { "limit", F_INT, 0, 1, AUDIT_PAGE_MAX, NULL, NULL },
};

/* The query of the request, checked, with the places it points into. */
struct auditlog_q {
	struct audit_query q;
	uint8_t ticket[UUID_LEN];
	uint8_t before[AUDIT_CURSOR_LEN];
};

/*
 * Read the query into aq: the actor by username or e-mail (or id), the
 * ticket by uuid or number, from and to as dates or times ("to" a date:
 * through that day), before a place from a "next" link.  400 naming the
 * field; the store's errors.
 */
static sup_err
auditlog_read(struct app *app, struct sup_req *r, struct auditlog_q *aq)
{
	struct value v[AUDITLOG_NFIELDS];
	json_object *rec = NULL, *id;
	sup_err e;

	memset(aq, 0, sizeof(*aq));
	aq->q.from_us = INT64_MIN;
	aq->q.to_us = INT64_MAX;
	aq->q.limit = AUDITLOG_PAGE;
	if ((e = valid_query(r, auditlog_fields, AUDITLOG_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	if (v[Q_ACTOR].present) {
		long n;
		if (parse_long(v[Q_ACTOR].str, 1, UINT32_MAX, &n))
			e = user_get(&app->store, NULL, (uint32_t)n, &rec);
		else
			e = user_find(&app->store, NULL, v[Q_ACTOR].str, &rec);
		if (e == SUP_ENOTFOUND)
			return valid_fail(r, "actor", "No such account.");
		if (e != SUP_OK)
			return e;
		if (!json_object_object_get_ex(rec, "id", &id)) {
			json_object_put(rec);
			return SUP_EDB;
		}
		aq->q.actor = (uint32_t)json_object_get_int64(id);
		json_object_put(rec);
	}
	if (v[Q_TICKET].present) {
		e = audit_ticket_of(&app->store, v[Q_TICKET].str,
		    v[Q_TICKET].len, aq->ticket);
		if (e == SUP_EINVAL)
			return valid_fail(r, "ticket",
			    "Must be a ticket's uuid or number.");
		if (e == SUP_ENOTFOUND)
			return valid_fail(r, "ticket", "No such ticket.");
		if (e != SUP_OK)
			return e;
		aq->q.ticket = aq->ticket;
	}
	if (v[Q_FROM].present)
		aq->q.from_us = v[Q_FROM].us;
	if (v[Q_TO].present)
		aq->q.to_us = v[Q_TO].us + (v[Q_TO].len == 10 ? DAY_US : 0);
	if (aq->q.to_us <= aq->q.from_us)
		return valid_fail(r, "to", "Must be after from.");
	if (v[Q_BEFORE].present) {
		size_t n = 0;
		if (sodium_hex2bin(aq->before, sizeof(aq->before),
		    v[Q_BEFORE].str, v[Q_BEFORE].len, NULL, &n, NULL) != 0 ||
		    n != sizeof(aq->before))
			return valid_fail(r, "before",
			    "Must be the place a next link gave.");
		aq->q.before = aq->before;
	}
	if (v[Q_LIMIT].present)
		aq->q.limit = v[Q_LIMIT].num;
	return SUP_OK;
}

/*
 * A page of the log for the request into *out: {"results", "next"} (next
 * this URL with before set, or null).
 */
static sup_err
auditlog_get(struct app *app, struct sup_req *r, json_object **out)
{
	struct auditlog_q aq;
	uint8_t next[AUDIT_CURSOR_LEN];
	char hex[2 * AUDIT_CURSOR_LEN + 1], *url = NULL;
	json_object *rows, *o;
	bool more;
	sup_err e;

	*out = NULL;
	if ((e = auditlog_read(app, r, &aq)) != SUP_OK)
		return e;
	if ((e = audit_list(&app->store, &aq.q, &rows, &more, next)) != SUP_OK)
		return e;
	if (more) {
		sodium_bin2hex(hex, sizeof(hex), next, sizeof(next));
		if ((url = req_query_url(r, app->conf.url_prefix, "before",
		    hex)) == NULL) {
			json_object_put(rows);
			return SUP_ENOMEM;
		}
	}
	if ((o = json_object_new_object()) == NULL ||
	    json_object_object_add(o, "results", rows) != 0) {
		json_object_put(rows);
		json_object_put(o);
		free(url);
		return SUP_ENOMEM;
	}
	if (url != NULL ? !json_set(o, "next", json_object_new_string(url)) :
	    !json_set_null(o, "next")) {
		json_object_put(o);
		free(url);
		return SUP_ENOMEM;
	}
	free(url);
	*out = o;
	return SUP_OK;
}

sup_err
auditlog_api(void *ctx, struct sup_req *r)
{
	json_object *o;
	sup_err e;

	if ((e = auditlog_get(ctx, r, &o)) != SUP_OK)
		return e;
	return app_reply(r, 200, o);
}

/* The query's values as the form shows them again (text as given). */
static bool
form_values(struct sup_req *r, json_object *pc)
{
	json_object *f = json_object_new_object();

	if (f == NULL || json_object_object_add(pc, "filter", f) != 0) {
		json_object_put(f);
		return false;
	}
	for (size_t i = 0; i < Q_BEFORE; i++) {
		const char *val = req_query(r, auditlog_fields[i].name);
		if (val != NULL && !json_set(f, auditlog_fields[i].name,
		    json_object_new_string(val)))
			return false;
	}
	return true;
}

sup_err
auditlog_page(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *pc, *o = NULL, *rows;
	size_t n;
	sup_err e;

	e = auditlog_get(app, r, &o);
	if (e != SUP_OK && e != SUP_EINVAL && e != SUP_EUNKNOWN)
		return e;
	if ((pc = page_context(&app->page, r, "Audit log")) == NULL ||
	    !form_values(r, pc)) {
		json_object_put(pc);
		json_object_put(o);
		return SUP_ENOMEM;
	}
	if (e != SUP_OK) {
		/* The filters again, with what is wrong said beside them. */
		if (r->err_fields != NULL && !json_set(pc, "fields",
		    json_object_get(r->err_fields))) {
			json_object_put(pc);
			return SUP_ENOMEM;
		}
		e = page_render(&app->page, r, app_status(e), "audit.html", pc);
		json_object_put(pc);
		return e;
	}
	json_object_object_get_ex(o, "results", &rows);
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i), *at;
		char disp[64];
		if (json_object_object_get_ex(row, "at", &at) &&
		    page_time_display(json_object_get_string(at), disp,
		    sizeof(disp))) {
			if (!json_set(row, "at_display",
			    json_object_new_string(disp))) {
				json_object_put(pc);
				json_object_put(o);
				return SUP_ENOMEM;
			}
		}
	}
	n = json_object_array_length(rows);
	if (!json_set(pc, "log", o) ||
	    !json_set(pc, "empty", json_object_new_boolean(n == 0)) ||
	    !json_set(pc, "has_rows", json_object_new_boolean(n > 0))) {
		json_object_put(pc);
		return SUP_ENOMEM;
	}
	e = page_render(&app->page, r, 200, "audit.html", pc);
	json_object_put(pc);
	return e;
}
