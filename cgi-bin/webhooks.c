/*
 * webhooks.c - the webhooks out's delivery log for admins (webhooks.h):
 * the query is read and checked here, the rows come from the outbox's
 * index of webhook deliveries (outbox_list_hooks), the subscriptions from
 * support.conf (never their secrets).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "outbox.h"
#include "page.h"
#include "webhooks.h"

#define WEBHOOKS_PAGE 50	/* rows a page holds unless limit says */
#define WEBHOOKS_PAGE_MAX 200
#define PAGE_WEBHOOKS "/support/admin/webhooks/"

enum { Q_SUB, Q_STATE, Q_BEFORE, Q_LIMIT, Q_DONE };
static const char *const done_names[] = { "retried", NULL };
#define WEBHOOKS_QUERY \
	[Q_SUB] = { "subscription", F_STRING, 0, 1, CONF_WEBHOOK_NAME_MAX, \
		NULL, NULL }, \
	[Q_STATE] = { "state", F_ENUM, 0, 0, 0, outbox_state_names, NULL }, \
	[Q_BEFORE] = { "before", F_STRING, 0, UUID_STRLEN, UUID_STRLEN, \
		NULL, NULL }, \
	[Q_LIMIT] = { "limit", F_INT, 0, 1, WEBHOOKS_PAGE_MAX, NULL, NULL }
const struct field webhooks_fields[WEBHOOKS_NFIELDS] = { WEBHOOKS_QUERY };
const struct field webhooks_page_fields[WEBHOOKS_NFIELDS + 1] = {
	WEBHOOKS_QUERY,
	[Q_DONE] = { "done", F_ENUM, 0, 0, 0, done_names, NULL },
};

/*
 * The subscriptions of support.conf as the log shows them: [{name, url,
 * events, enabled, secret: "set"}]; NULL when out of memory.
 */
static json_object *
subscriptions(const struct sup_conf *c)
{
	json_object *list = json_object_new_array(), *o;

	if (list == NULL)
		return NULL;
	for (size_t i = 0; i < c->nwebhooks; i++) {
		const struct conf_webhook *w = &c->webhooks[i];
		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(list, o) != 0) {
			json_object_put(o);
			goto nomem;
		}
		if (!json_set(o, "name", json_object_new_string(w->name)) ||
		    !json_set(o, "url", json_object_new_string(w->url)) ||
		    !json_set(o, "events", json_object_new_string(w->events)) ||
		    !json_set(o, "enabled", json_object_new_boolean(
		    w->enabled)) ||
		    !json_set(o, "secret", json_object_new_string("set")))
			goto nomem;
	}
	return list;
nomem:
	json_object_put(list);
	return NULL;
}

/*
 * The delivery of outbox record rec as the log shows it (a new object):
 * {id, subscription, event, event_id, ticket, state, attempts,
 * last_error, created_at, queued_at, next_at, sent_at}; NULL when out of
 * memory.
 */
static json_object *
delivery(json_object *rec)
{
	static const char *const map[][2] = {
		{ "id", "id" }, { "to", "subscription" }, { "label", "event" },
		{ "event", "event_id" }, { "ticket", "ticket" },
		{ "state", "state" }, { "attempts", "attempts" },
		{ "last_error", "last_error" }, { "created_at", "created_at" },
		{ "queued_at", "queued_at" }, { "next_at", "next_at" },
		{ "sent_at", "sent_at" },
	};
	json_object *o = json_object_new_object(), *v;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < SUP_NELEM(map); i++) {
		if (!json_object_object_get_ex(rec, map[i][0], &v))
			v = NULL;
		if (!json_set(o, map[i][1], json_object_get(v)) &&
		    !(v == NULL && json_set_null(o, map[i][1]))) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

/*
 * A page of the log for the request into *out: {"subscriptions",
 * "results", "next"}.  400 naming the field; the store's errors.
 */
static sup_err
webhooks_get(struct app *app, struct sup_req *r, const struct field *fields,
    size_t nfields, json_object **out)
{
	struct value v[WEBHOOKS_NFIELDS + 1];
	struct outbox_query q = { .state = -1, .limit = WEBHOOKS_PAGE };
	uint8_t before[UUID_LEN], next[UUID_LEN];
	char next_text[UUID_STRLEN + 1], *url = NULL;
	json_object *rows = NULL, *list = NULL, *o = NULL, *subs = NULL;
	bool more;
	sup_err e;

	*out = NULL;
	if ((e = valid_query(r, fields, nfields, v)) != SUP_OK)
		return e;
	if (v[Q_SUB].present) {
		/* A section since removed may still have deliveries. */
		for (size_t i = 0; i < v[Q_SUB].len; i++)
			if (strchr("abcdefghijklmnopqrstuvwxyz0123456789_-",
			    v[Q_SUB].str[i]) == NULL)
				return valid_fail(r, "subscription",
				    "Must be the name of a [webhook.NAME] "
				    "section.");
		q.to = v[Q_SUB].str;
	}
	if (v[Q_STATE].present)
		q.state = (int)v[Q_STATE].num;
	if (v[Q_BEFORE].present) {
		if (!uuid_parse(v[Q_BEFORE].str, v[Q_BEFORE].len, before))
			return valid_fail(r, "before",
			    "Must be the place a next link gave.");
		q.before = before;
	}
	if (v[Q_LIMIT].present)
		q.limit = v[Q_LIMIT].num;
	if ((e = outbox_list_hooks(&app->store, &q, &rows, &more, next)) !=
	    SUP_OK)
		return e;
	e = SUP_ENOMEM;
	if ((list = json_object_new_array()) == NULL)
		goto out;
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *d = delivery(json_object_array_get_idx(rows, i));
		if (d == NULL || json_object_array_add(list, d) != 0) {
			json_object_put(d);
			goto out;
		}
	}
	if (more) {
		uuid_format(next, next_text);
		if ((url = req_query_url(r, app->conf.url_prefix, "before",
		    next_text)) == NULL)
			goto out;
	}
	if ((subs = subscriptions(&app->conf)) == NULL ||
	    (o = json_object_new_object()) == NULL ||
	    !json_set(o, "subscriptions", subs))
		goto out;
	subs = NULL;
	if (!json_set(o, "results", list))
		goto out;
	list = NULL;
	if (url != NULL ? !json_set(o, "next", json_object_new_string(url)) :
	    !json_set_null(o, "next"))
		goto out;
	*out = o;
	o = NULL;
	e = SUP_OK;
out:
	free(url);
	json_object_put(subs);
	json_object_put(list);
	json_object_put(rows);
	json_object_put(o);
	return e;
}

sup_err
webhooks_api(void *ctx, struct sup_req *r)
{
	json_object *o;
	sup_err e;

	if ((e = webhooks_get(ctx, r, webhooks_fields, WEBHOOKS_NFIELDS, &o)) !=
	    SUP_OK)
		return e;
	return app_reply(r, 200, o);
}

/*
 * Queue webhook delivery r->uuid[0] again; *out (may be NULL) gets it as
 * the log shows it.  SUP_ENOTFOUND when it is no webhook delivery,
 * SUP_ECONFLICT when it was sent.
 */
static sup_err
retry(struct app *app, struct sup_req *r, json_object **out)
{
	json_object *rec, *kind;
	bool hook;
	sup_err e;

	if ((e = outbox_get(&app->store, r->uuid[0], &rec)) != SUP_OK)
		return e;
	hook = json_object_object_get_ex(rec, "kind", &kind) &&
	    strcmp(json_object_get_string(kind),
	    outbox_kind_names[OUTBOX_WEBHOOK]) == 0;
	json_object_put(rec);
	if (!hook)
		return SUP_ENOTFOUND;
	if ((e = outbox_retry(&app->store, r->uuid[0])) != SUP_OK)
		return e;
	if (out == NULL)
		return SUP_OK;
	if ((e = outbox_get(&app->store, r->uuid[0], &rec)) != SUP_OK)
		return e;
	*out = delivery(rec);
	json_object_put(rec);
	return *out != NULL ? SUP_OK : SUP_ENOMEM;
}

sup_err
webhooks_retry_api(void *ctx, struct sup_req *r)
{
	struct value none[1];
	json_object *o = NULL;
	sup_err e;

	if (r->json != NULL &&
	    (e = valid_json(r, r->json, NULL, 0, none)) != SUP_OK)
		return e;
	if ((e = retry(ctx, r, &o)) != SUP_OK)
		return e;
	return app_reply(r, 200, o);
}

/* Add NAME_display members, for reading, of the times of row. */
static bool
displays(json_object *row)
{
	/* json_set keeps the key's pointer: constants only. */
	static const char *const times[][2] = {
		{ "created_at", "created_at_display" },
		{ "next_at", "next_at_display" },
		{ "sent_at", "sent_at_display" },
	};
	char disp[64];
	json_object *at;

	for (size_t i = 0; i < SUP_NELEM(times); i++) {
		if (!json_object_object_get_ex(row, times[i][0], &at) ||
		    !json_object_is_type(at, json_type_string) ||
		    !page_time_display(json_object_get_string(at), disp,
		    sizeof(disp)))
			continue;
		if (!json_set(row, times[i][1], json_object_new_string(disp)))
			return false;
	}
	return true;
}

/*
 * The page's context: the filters as given, with the states as choices,
 * and each row's times for reading and whether it may be retried.
 */
static bool
page_members(struct sup_req *r, json_object *pc, json_object *o)
{
	json_object *f = json_object_new_object(), *rows, *states, *opt, *subs;
	size_t nsubs, nrows;
	const char *sub = req_query(r, "subscription");
	const char *state = req_query(r, "state");
	const char *done = req_query(r, "done");

	if (f == NULL || json_object_object_add(pc, "filter", f) != 0) {
		json_object_put(f);
		return false;
	}
	if (sub != NULL && !json_set(f, "subscription",
	    json_object_new_string(sub)))
		return false;
	if ((states = json_object_new_array()) == NULL ||
	    !json_set(f, "states", states))
		return false;
	for (int i = 0; i < OUTBOX_NSTATE; i++) {
		if ((opt = json_object_new_object()) == NULL ||
		    json_object_array_add(states, opt) != 0) {
			json_object_put(opt);
			return false;
		}
		if (!json_set(opt, "value", json_object_new_string(
		    outbox_state_names[i])) ||
		    !json_set(opt, "selected", json_object_new_boolean(
		    state != NULL && strcmp(state, outbox_state_names[i]) == 0)))
			return false;
	}
	if (done != NULL && strcmp(done, "retried") == 0 &&
	    !json_set(pc, "retried", json_object_new_boolean(true)))
		return false;
	if (o == NULL)
		return true;
	json_object_object_get_ex(o, "results", &rows);
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i), *st;
		json_object_object_get_ex(row, "state", &st);
		if (!displays(row) || !json_set(row, "can_retry",
		    json_object_new_boolean(st != NULL && strcmp(
		    json_object_get_string(st), "dead") == 0)))
			return false;
	}
	/* The template has no "not": each case its own member. */
	subs = json_object_object_get(o, "subscriptions");
	for (size_t i = 0; i < json_object_array_length(subs); i++) {
		json_object *one = json_object_array_get_idx(subs, i), *on;
		json_object_object_get_ex(one, "enabled", &on);
		if (!json_set(one, "enabled_label", json_object_new_string(
		    json_object_get_boolean(on) ? "yes" : "no")))
			return false;
	}
	nsubs = json_object_array_length(subs);
	nrows = json_object_array_length(rows);
	return json_set(pc, "log", json_object_get(o)) &&
	    json_set(pc, "has_subscriptions", json_object_new_boolean(
	    nsubs > 0)) &&
	    json_set(pc, "no_subscriptions", json_object_new_boolean(
	    nsubs == 0)) &&
	    json_set(pc, "has_rows", json_object_new_boolean(nrows > 0)) &&
	    json_set(pc, "no_rows", json_object_new_boolean(nrows == 0));
}

sup_err
webhooks_page(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *pc, *o = NULL;
	sup_err e;

	e = webhooks_get(app, r, webhooks_page_fields, WEBHOOKS_NFIELDS + 1,
	    &o);
	if (e != SUP_OK && e != SUP_EINVAL && e != SUP_EUNKNOWN)
		return e;
	if ((pc = page_context(&app->page, r, "Webhooks")) == NULL ||
	    !page_members(r, pc, o) || (e != SUP_OK && r->err_fields != NULL &&
	    !json_set(pc, "fields", json_object_get(r->err_fields)))) {
		json_object_put(pc);
		json_object_put(o);
		return SUP_ENOMEM;
	}
	e = page_render(&app->page, r, e == SUP_OK ? 200 : app_status(e),
	    "admin_webhooks.html", pc);
	json_object_put(pc);
	json_object_put(o);
	return e;
}

sup_err
webhooks_retry_page(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value none[1];
	sup_err e;

	if ((e = valid_json(r, r->json, NULL, 0, none)) != SUP_OK ||
	    (e = retry(app, r, NULL)) != SUP_OK)
		return e;
	return page_redirect(r, app->conf.url_prefix,
	    PAGE_WEBHOOKS "?done=retried");
}
