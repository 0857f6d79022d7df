/*
 * tpage.c - the staff's chat page of a ticket: its controls' choices,
 * the customer panel and the canned-response picker (tpage.h).  What it
 * reads of the ticket it reads from the API's text (lib/text/jtext.h);
 * the rest is one read each: the agents (user_agents), the customer
 * (user_get), their newest tickets (ticket_list over t_by_user), the
 * reader's canned responses (canned_list).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "canned.h"
#include "jtext.h"
#include "ticket.h"
#include "tpage.h"
#include "user.h"

/* The plain string v (no escapes) into buf (cap bytes); "" otherwise. */
static void
text_copy(struct jt v, char *buf, size_t cap)
{
	buf[0] = '\0';
	if ((jt_type(v) == JT_STRING && jt_string_plain(v) && v.n - 2 < cap)) {
		memcpy(buf, v.p + 1, v.n - 2);
		buf[v.n - 2] = '\0';
	}
}

/* The number member "id" of the object v; 0 when there is none. */
static uint32_t
text_id(struct jt v)
{
	struct jt id;
	char buf[16];
	long n;

	if (jt_type(v) != JT_OBJECT || !jt_member(v, "id", 2, &id) ||
	    jt_type(id) != JT_NUMBER || id.n >= sizeof(buf))
		return 0;
	memcpy(buf, id.p, id.n);
	buf[id.n] = '\0';
	return parse_long(buf, 1, UINT32_MAX, &n) ? (uint32_t)n : 0;
}

/* What the page needs of the API's ticket. */
struct tfacts {
	char uuid[UUID_STRLEN + 1];
	char status[32], priority[16];
	uint32_t user, assignee;
};

/*
 * Read f from the members of the API's ticket (a text object); what is
 * missing stays empty or 0.  False when api_ticket is not a text object
 * or its index cannot be made (no memory).
 */
static bool
ticket_facts(json_object *api_ticket, struct tfacts *f)
{
	const struct jt_index *ix = jt_object_index(api_ticket);
	struct jt v;

	memset(f, 0, sizeof(*f));
	if (ix == NULL)
		return false;
	if (jt_index_get(ix, "uuid", 4, &v))
		text_copy(v, f->uuid, sizeof(f->uuid));
	if (jt_index_get(ix, "status", 6, &v))
		text_copy(v, f->status, sizeof(f->status));
	if (jt_index_get(ix, "priority", 8, &v))
		text_copy(v, f->priority, sizeof(f->priority));
	if (jt_index_get(ix, "user", 4, &v))
		f->user = text_id(v);
	if (jt_index_get(ix, "assignee", 8, &v))
		f->assignee = text_id(v);
	return true;
}

/* Append {value, label, selected} to list; false: out of memory. */
static bool
add_option(json_object *list, const char *value, const char *label,
    bool selected)
{
	json_object *o = json_object_new_object();

	if (o == NULL || json_object_array_add(list, o) != 0) {
		json_object_put(o);
		return false;
	}
	return json_set(o, "value", json_object_new_string(value)) &&
	    json_set(o, "label", json_object_new_string(label)) &&
	    json_set(o, "selected", json_object_new_boolean(selected));
}

/* The words for a priority: its name with a capital. */
static const char *
priority_label(int i)
{
	static const char *const labels[PRI_MAX] = { "Low", "Normal", "High",
		"Urgent" };

	return i >= 0 && i < PRI_MAX ? labels[i] : "";
}

/* status_options and priorities into ctx. */
static bool
add_choices(json_object *ctx, const struct tfacts *f)
{
	json_object *st, *pri;

	if ((st = json_object_new_array()) == NULL ||
	    !json_set(ctx, "status_options", st) ||
	    (pri = json_object_new_array()) == NULL ||
	    !json_set(ctx, "priorities", pri))
		return false;
	for (int i = 0; i < ST_MAX; i++)
		if (!add_option(st, ticket_status_names[i],
		    page_status_label(ticket_status_names[i], true),
		    strcmp(f->status, ticket_status_names[i]) == 0))
			return false;
	for (int i = 0; i < PRI_MAX; i++)
		if (!add_option(pri, ticket_priority_names[i],
		    priority_label(i),
		    strcmp(f->priority, ticket_priority_names[i]) == 0))
			return false;
	return true;
}

/* A user record's name: the display name when not empty, else username. */
static const char *
rec_name(json_object *rec)
{
	json_object *v;

	if (json_object_object_get_ex(rec, "display_name", &v) &&
	    json_object_get_string_len(v) > 0)
		return json_object_get_string(v);
	if (json_object_object_get_ex(rec, "username", &v))
		return json_object_get_string(v);
	return "";
}

/*
 * agents and unassigned into ctx: every agent (user_agents), by id, the
 * assignee selected; an id whose record is gone is left out.
 */
static sup_err
add_agents(struct app *app, json_object *ctx, const struct tfacts *f)
{
	json_object *list, *rec, *o;
	uint32_t *ids = NULL;
	size_t n = 0;
	sup_err e;

	if ((e = user_agents(&app->store, NULL, &ids, &n)) != SUP_OK)
		return e;
	e = SUP_ENOMEM;
	if ((list = json_object_new_array()) == NULL ||
	    !json_set(ctx, "agents", list) ||
	    !json_set(ctx, "unassigned", json_object_new_boolean(
	    f->assignee == 0)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		e = user_get(&app->store, NULL, ids[i], &rec);
		if (e == SUP_ENOTFOUND)
			continue;
		if (e != SUP_OK)
			goto out;
		e = SUP_ENOMEM;
		o = json_object_new_object();
		if (o == NULL || json_object_array_add(list, o) != 0) {
			json_object_put(o);
			json_object_put(rec);
			goto out;
		}
		if (!json_set(o, "id", json_object_new_int64(ids[i])) ||
		    !json_set(o, "name", json_object_new_string(
		    rec_name(rec))) ||
		    !json_set(o, "selected", json_object_new_boolean(
		    ids[i] == f->assignee))) {
			json_object_put(rec);
			goto out;
		}
		json_object_put(rec);
	}
	e = SUP_OK;
out:
	free(ids);
	return e;
}

/*
 * The customer's other tickets into cust: "others", the newest
 * TPAGE_OTHER_TICKETS by activity but this one (one range of t_by_user:
 * ticket_list), "ticket_count", and "more" when there are others beyond.
 */
static sup_err
add_others(struct app *app, struct sup_req *r, json_object *cust,
    const struct tfacts *f)
{
	struct ticket_query q = {
		.has_user = true, .user = f->user, .priority = -1,
		.order = ORDER_UPDATED, .desc = true, .page = 1,
		.page_size = TPAGE_OTHER_TICKETS + 1,
	};
	json_object *page = NULL, *res, *list = NULL, *others, *count;
	struct jt text;
	int64_t total = 0;
	size_t shown = 0;
	sup_err e;

	e = ticket_list(&app->store, &r->user, &q, &page);
	if (e != SUP_OK && e != SUP_ENOTFOUND)
		return e;
	e = SUP_ENOMEM;
	if ((others = json_object_new_array()) == NULL ||
	    !json_set(cust, "others", others))
		goto out;
	if (page != NULL && json_object_object_get_ex(page, "count", &count))
		total = json_object_get_int64(count);
	/* The results are the API's text: ten tickets, parsed here. */
	if (page != NULL && json_object_object_get_ex(page, "results", &res) &&
	    jt_object_text(res, &text)) {
		json_tokener *tok = json_tokener_new();
		if (tok == NULL)
			goto out;
		list = json_tokener_parse_ex(tok, text.p, (int)text.n);
		json_tokener_free(tok);
		if (list == NULL) {
			e = SUP_EDB;
			goto out;
		}
	}
	for (size_t i = 0; i < json_object_array_length(list) &&
	    shown < TPAGE_OTHER_TICKETS; i++) {
		json_object *t = json_object_array_get_idx(list, i), *o, *v;
		const char *status;
		if (json_object_object_get_ex(t, "uuid", &v) &&
		    strcmp(json_object_get_string(v), f->uuid) == 0)
			continue;
		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(others, o) != 0) {
			json_object_put(o);
			goto out;
		}
		shown++;
		static const char *const keep[] = { "uuid", "number", "subject",
			"status" };
		for (size_t k = 0; k < SUP_NELEM(keep); k++)
			if (json_object_object_get_ex(t, keep[k], &v) &&
			    json_object_object_add(o, keep[k],
			    json_object_get(v)) != 0) {
				json_object_put(v);
				goto out;
			}
		status = json_object_object_get_ex(t, "status", &v) ?
		    json_object_get_string(v) : "";
		bool answered = json_object_object_get_ex(t,
		    "first_response_at", &v) && v != NULL;
		if (!json_set(o, "status_label", json_object_new_string(
		    page_ticket_status_label(status, true, answered))))
			goto out;
	}
	bool more = total - 1 > (int64_t)shown;
	if (!json_set(cust, "ticket_count", json_object_new_int64(total)) ||
	    !json_set(cust, "more", json_object_new_boolean(more)) ||
	    !json_set(cust, "no_more", json_object_new_boolean(!more)) ||
	    !json_set(cust, "no_others", json_object_new_boolean(shown == 0)))
		goto out;
	e = SUP_OK;
out:
	json_object_put(list);
	json_object_put(page);
	return e;
}

/* customer into ctx: the ticket's owner, with their other tickets. */
static sup_err
add_customer(struct app *app, struct sup_req *r, json_object *ctx,
    const struct tfacts *f)
{
	char when[PAGE_TIME_STRLEN + 1];
	json_object *rec, *cust, *v;
	sup_err e;

	if (f->user == 0)
		return SUP_OK;
	if ((e = user_get(&app->store, NULL, f->user, &rec)) != SUP_OK)
		return e == SUP_ENOTFOUND ? SUP_OK : e;
	e = SUP_ENOMEM;
	if ((cust = user_public(rec, true)) == NULL)
		goto out;
	const char *name = rec_name(rec);
	if (!json_set(ctx, "customer", cust) ||
	    !json_set(cust, "name", json_object_new_string(name)) ||
	    !json_set(cust, "own_name", json_object_new_boolean(
	    json_object_object_get_ex(rec, "username", &v) &&
	    strcmp(name, json_object_get_string(v)) != 0)))
		goto out;
	if (json_object_object_get_ex(rec, "created_at", &v)) {
		if (json_object_object_add(cust, "created_at",
		    json_object_get(v)) != 0) {
			json_object_put(v);
			goto out;
		}
		if (page_time_display(json_object_get_string(v), when,
		    sizeof(when)) && !json_set(cust, "created_at_display",
		    json_object_new_string(when)))
			goto out;
	}
	e = add_others(app, r, cust, f);
out:
	json_object_put(rec);
	return e;
}

/* canned into ctx: the reader's canned responses, by title. */
static sup_err
add_canned(struct app *app, struct sup_req *r, json_object *ctx)
{
	json_object *all, *list, *v;
	sup_err e;

	if ((e = canned_list(&app->store, &r->user, &all)) != SUP_OK)
		return e;
	e = SUP_ENOMEM;
	if ((list = json_object_new_array()) == NULL ||
	    !json_set(ctx, "canned", list))
		goto out;
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *c = json_object_array_get_idx(all, i), *o;
		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(list, o) != 0) {
			json_object_put(o);
			goto out;
		}
		static const char *const keep[] = { "id", "title", "shared" };
		for (size_t k = 0; k < SUP_NELEM(keep); k++)
			if (json_object_object_get_ex(c, keep[k], &v) &&
			    json_object_object_add(o, keep[k],
			    json_object_get(v)) != 0) {
				json_object_put(v);
				goto out;
			}
	}
	e = SUP_OK;
out:
	json_object_put(all);
	return e;
}

/*
 * history into ctx, for an admin: the ticket's rows of the audit log,
 * newest first, TPAGE_HISTORY of them ({results, more, empty, log_url}:
 * more when older ones are on the audit page, log_url that page for the
 * ticket).
 */
static sup_err
add_history(struct app *app, struct sup_req *r, json_object *ctx,
    const struct tfacts *f)
{
	uint8_t uuid[UUID_LEN], next[AUDIT_CURSOR_LEN];
	struct audit_query q = { .ticket = uuid, .from_us = INT64_MIN,
		.to_us = INT64_MAX, .limit = TPAGE_HISTORY };
	json_object *h, *rows;
	char url[160];
	bool more;
	sup_err e;

	if (r->user.role != ROLE_ADMIN ||
	    !uuid_parse(f->uuid, strlen(f->uuid), uuid))
		return SUP_OK;
	if ((e = audit_list(&app->store, &q, &rows, &more, next)) != SUP_OK)
		return e;
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i), *at;
		char disp[64];
		if (json_object_object_get_ex(row, "at", &at) &&
		    page_time_display(json_object_get_string(at), disp,
		    sizeof(disp)) && !json_set(row, "at_display",
		    json_object_new_string(disp))) {
			json_object_put(rows);
			return SUP_ENOMEM;
		}
	}
	snprintf(url, sizeof(url), "%s/support/admin/audit/?ticket=%s",
	    app->conf.url_prefix, f->uuid);
	if ((h = json_object_new_object()) == NULL ||
	    json_object_object_add(ctx, "history", h) != 0) {
		json_object_put(h);
		json_object_put(rows);
		return SUP_ENOMEM;
	}
	if (!json_set(h, "empty", json_object_new_boolean(
	    json_object_array_length(rows) == 0)) ||
	    !json_set(h, "results", rows) ||
	    !json_set(h, "more", json_object_new_boolean(more)) ||
	    !json_set(h, "log_url", json_object_new_string(url)))
		return SUP_ENOMEM;
	return SUP_OK;
}

sup_err
tpage_staff(struct app *app, struct sup_req *r, json_object *api_ticket,
    json_object *ctx)
{
	struct tfacts f;
	sup_err e;

	if (!ticket_facts(api_ticket, &f))
		return SUP_ENOMEM;
	if (!add_choices(ctx, &f))
		return SUP_ENOMEM;
	if ((e = add_agents(app, ctx, &f)) != SUP_OK ||
	    (e = add_customer(app, r, ctx, &f)) != SUP_OK ||
	    (e = add_history(app, r, ctx, &f)) != SUP_OK)
		return e;
	return add_canned(app, r, ctx);
}

sup_err
tpage_render(struct app *app, struct sup_req *r, int status,
    json_object *api_ticket, json_object *form, const char *changed,
    json_object *more)
{
	json_object *all;
	sup_err e;

	if ((all = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if (user_is_staff(&r->user) &&
	    (e = tpage_staff(app, r, api_ticket, all)) != SUP_OK)
		goto out;
	e = SUP_ENOMEM;
	if (more != NULL) {
		json_object_object_foreach(more, key, val)
			if (json_object_object_add(all, key,
			    json_object_get(val)) != 0) {
				json_object_put(val);
				goto out;
			}
	}
	e = page_ticket_render_more(&app->page, r, status, api_ticket, form,
	    changed, all);
out:
	json_object_put(all);
	return e;
}
