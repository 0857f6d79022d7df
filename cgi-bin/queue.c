/*
 * queue.c - the staff's queue page: its sidebar of views, its filter
 * form and the agents' saved views (queue.h, docs/pages.md "The queue").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jtext.h"
#include "page.h"
#include "queue.h"
#include "saved.h"
#include "user.h"

#define VIEWS_PATH "/api/support/views/"
#define HOME "/support/"

#define S(st) (1u << (st))

/*
 * The fixed views, as a team coming from Help Scout or Zendesk expects
 * them.  Their query is written as tquery_canonical writes it, so that
 * the view shown is found by comparing the two.  assignee: -1 anyone, 0
 * nobody, 1 the reader.
 */
static const struct builtin {
	const char *name, *query;
	unsigned mask;
	int assignee;
} builtins[] = {
	{ "All tickets", "", 0, -1 },
	{ "Unassigned", "status=open,waiting_for_admin&assignee=none",
		S(ST_OPEN) | S(ST_WAITING_FOR_ADMIN), 0 },
	{ "Mine", "status=open,waiting_for_admin,waiting_for_user&assignee=me",
		S(ST_OPEN) | S(ST_WAITING_FOR_ADMIN) | S(ST_WAITING_FOR_USER), 1 },
	{ "All open", "status=open,waiting_for_admin",
		S(ST_OPEN) | S(ST_WAITING_FOR_ADMIN), -1 },
	{ "Waiting for customer", "status=waiting_for_user",
		S(ST_WAITING_FOR_USER), -1 },
	{ "Resolved", "status=resolved", S(ST_RESOLVED), -1 },
	{ "Closed", "status=closed", S(ST_CLOSED), -1 },
};
#define NBUILTIN SUP_NELEM(builtins)

/* The orderings the sort control offers, with their words. */
static const struct {
	const char *value, *label;
} orderings[] = {
	{ "-updated_at", "Last activity, newest first" },
	{ "updated_at", "Last activity, oldest first" },
	{ "-created_at", "Created, newest first" },
	{ "created_at", "Created, oldest first" },
	{ "-priority", "Priority, urgent first" },
	{ "priority", "Priority, low first" },
	{ "-number", "Number, highest first" },
	{ "number", "Number, lowest first" },
};

static const char *const priority_labels[PRI_MAX] = {
	"Low", "Normal", "High", "Urgent"
};

/* A query parameter of r, NULL when absent or empty. */
static const char *
given(const struct sup_req *r, const char *name)
{
	const char *v = req_query(r, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/*
 * The queue's part of the page is written as JSON text, one buffer, and
 * handed to the template as a text object (lib/text/jtext.h): some
 * hundred json-c objects, their tables and their frees were a fifth of
 * the page's instructions.  Each value is followed by a comma; close()
 * drops the one before the bracket it writes.
 */
static void
wkey(struct sbuf *b, const char *k)
{
	sbuf_add(b, "\"", 1);
	sbuf_adds(b, k);
	sbuf_add(b, "\":", 2);
}

static void
wstr(struct sbuf *b, const char *k, const char *v)
{
	wkey(b, k);
	jt_put_string(b, v, strlen(v));
	sbuf_add(b, ",", 1);
}

static void
wbool(struct sbuf *b, const char *k, bool v)
{
	wkey(b, k);
	sbuf_adds(b, v ? "true," : "false,");
}

static void
wint(struct sbuf *b, const char *k, int64_t v)
{
	wkey(b, k);
	sbuf_add_int(b, v);
	sbuf_add(b, ",", 1);
}

/* Open member k (NULL: an element) as an object or array (c). */
static void
wopen(struct sbuf *b, const char *k, char c)
{
	if (k != NULL)
		wkey(b, k);
	sbuf_add(b, &c, 1);
}

static void
wclose(struct sbuf *b, char c)
{
	if (!b->failed && b->len > 0 && b->p[b->len - 1] == ',')
		b->len--;
	sbuf_add(b, &c, 1);
	sbuf_add(b, ",", 1);
}

/*
 * An element {value, label, selected} of the array being written; value
 * and label are this program's own words, which need no escapes, or
 * label is JSON text already (quoted: a name read from a user's text).
 */
static void
woption_json(struct sbuf *b, const char *value, const char *label,
    size_t label_len, bool selected)
{
	sbuf_adds(b, "{\"value\":\"");
	sbuf_adds(b, value);
	sbuf_adds(b, "\",\"label\":");
	sbuf_add(b, label, label_len);
	sbuf_adds(b, selected ? ",\"selected\":true}," :
	    ",\"selected\":false},");
}

static void
woption(struct sbuf *b, const char *value, const char *label, bool selected)
{
	sbuf_adds(b, "{\"value\":\"");
	sbuf_adds(b, value);
	sbuf_adds(b, "\",\"label\":\"");
	sbuf_adds(b, label);
	sbuf_adds(b, selected ? "\",\"selected\":true}," :
	    "\",\"selected\":false},");
}

/*
 * The name of user id as JSON text (quoted, as the user's public text
 * has it: the display name, else the username; the username alone when
 * username), into *out, valid until the next call: read from the users'
 * per-process cache (user_public_text) without parsing a record.
 */
static sup_err
user_name_json(struct app *app, uint32_t id, int64_t now, bool username,
    struct jt *out)
{
	struct jt user;
	const char *text;
	size_t len;
	sup_err e;

	if ((e = user_public_text(&app->store, NULL, id, false, now, &text,
	    &len)) != SUP_OK)
		return e;
	user = (struct jt){ text, len };
	if (!username && jt_member(user, "display_name", 12, out) &&
	    jt_type(*out) == JT_STRING && out->n > 2)
		return SUP_OK;
	return jt_member(user, "username", 8, out) &&
	    jt_type(*out) == JT_STRING ? SUP_OK : SUP_EDB;
}

sup_err
queue_customer(struct app *app, struct sup_req *r, struct tquery_page *pq)
{
	json_object *rec;
	sup_err e;

	if (pq->customer == NULL)
		return SUP_OK;
	e = user_find(&app->store, NULL, pq->customer, &rec);
	if (e == SUP_ENOTFOUND)
		return valid_fail(r, "customer", "No user has this username "
		    "or e-mail address.");
	if (e != SUP_OK)
		return e;
	pq->q.has_user = true;
	pq->q.user = (uint32_t)json_object_get_int64(json_object_object_get(
	    rec, "id"));
	json_object_put(rec);
	return SUP_OK;
}

/*
 * The queries of the fixed views and of the saved ones (their texts in
 * saved, an array of records) for reader u, into q[NBUILTIN + nsaved].
 * A saved view whose query no longer parses, or that filters on a
 * subject, gets a query the counters cannot answer.
 */
static sup_err
view_queries(const struct sup_user *u, json_object *saved,
    struct ticket_query *q)
{
	size_t nsaved = json_object_array_length(saved);
	struct tquery_page pq;
	struct sup_req tmp;
	json_object *v;
	sup_err e;

	for (size_t i = 0; i < NBUILTIN; i++) {
		memset(&q[i], 0, sizeof(q[i]));
		q[i].priority = -1;
		q[i].status_mask = builtins[i].mask;
		q[i].has_assignee = builtins[i].assignee >= 0;
		q[i].assignee = builtins[i].assignee > 0 ? u->id : 0;
		q[i].page = 1;
		q[i].page_size = 20;
	}
	for (size_t i = 0; i < nsaved; i++) {
		struct ticket_query *qi = &q[NBUILTIN + i];
		json_object_object_get_ex(json_object_array_get_idx(saved, i),
		    "query", &v);
		e = tquery_parse_string(v != NULL ? json_object_get_string(v) :
		    "", u, &tmp, &pq);
		*qi = pq.q;
		/*
		 * The text q points into tmp, which goes now: a count never
		 * reads it, only whether there is one (then there is no
		 * count), so any text will do.  A query that does not parse
		 * is given one too.
		 */
		if (e != SUP_OK || qi->q != NULL) {
			qi->q = "";
			qi->q_len = 0;
		}
		req_free(&tmp);
		if (e == SUP_ENOMEM)
			return e;
	}
	return SUP_OK;
}

/*
 * An element of the views being written: view name/query, its count n
 * (-1: none), its id (0: a fixed one), current when its query is the
 * one shown.
 */
static void
wview(struct sbuf *b, const char *prefix, const char *name,
    const char *query, int64_t n, int64_t id, bool current)
{
	char buf[256];
	struct sbuf url = { 0 };

	wopen(b, NULL, '{');
	wstr(b, "name", name);
	url.p = buf;
	url.cap = sizeof(buf);
	sbuf_adds(&url, prefix);
	sbuf_adds(&url, HOME);
	if (*query != '\0') {
		sbuf_add(&url, "?", 1);
		sbuf_adds(&url, query);
	}
	wkey(b, "url");
	if (url.failed)
		b->failed = true;
	else
		jt_put_string(b, url.p, url.len);
	sbuf_add(b, ",", 1);
	if (url.p != buf)
		free(url.p);
	wbool(b, "current", current);
	wbool(b, "counted", n >= 0);
	if (n >= 0)
		wint(b, "count", n);
	if (id != 0)
		wint(b, "id", id);
	wclose(b, '}');
}

/*
 * The sidebar into b: "views" and "saved", "can_save", "has_saved".
 * The view shown (canonical is its query) names the page: pc's "title".
 */
static sup_err
write_views(struct app *app, struct sup_req *r, const char *canonical,
    struct sbuf *b, json_object *pc)
{
	const char *prefix = app->conf.url_prefix;
	const char *title = *canonical == '\0' ? "All tickets" : "Tickets";
	json_object *saved = NULL, *rec, *v;
	struct ticket_query *q = NULL;
	int64_t *counts = NULL;
	size_t nsaved, n;
	bool found = false;
	sup_err e;

	if ((e = saved_list(&app->store, &r->user, &saved)) != SUP_OK)
		return e;
	nsaved = json_object_array_length(saved);
	n = NBUILTIN + nsaved;
	if ((q = calloc(n, sizeof(*q))) == NULL ||
	    (counts = calloc(n, sizeof(*counts))) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	if ((e = view_queries(&r->user, saved, q)) != SUP_OK ||
	    (e = ticket_counts(&app->store, &r->user, q, n, counts)) != SUP_OK)
		goto out;
	wopen(b, "views", '[');
	for (size_t i = 0; i < NBUILTIN; i++) {
		bool cur = !found && strcmp(canonical, builtins[i].query) == 0;
		wview(b, prefix, builtins[i].name, builtins[i].query, counts[i],
		    0, cur);
		if (cur)
			title = builtins[i].name;
		found |= cur;
	}
	wclose(b, ']');
	wopen(b, "saved", '[');
	for (size_t i = 0; i < nsaved; i++) {
		const char *name, *query;
		rec = json_object_array_get_idx(saved, i);
		name = json_object_object_get_ex(rec, "name", &v) ?
		    json_object_get_string(v) : "";
		query = json_object_object_get_ex(rec, "query", &v) ?
		    json_object_get_string(v) : "";
		bool cur = !found && strcmp(canonical, query) == 0;
		wview(b, prefix, name, query, counts[NBUILTIN + i],
		    json_object_get_int64(json_object_object_get(rec, "id")),
		    cur);
		if (cur)
			title = name;
		found |= cur;
	}
	wclose(b, ']');
	wbool(b, "can_save", nsaved < SAVED_MAX);
	wbool(b, "has_saved", nsaved > 0);
	/* title may be saved's: copied before saved goes. */
	e = json_set(pc, "title", json_object_new_string(title)) ? SUP_OK :
	    SUP_ENOMEM;
out:
	free(q);
	free(counts);
	json_object_put(saved);
	return e;
}

/* The assignee control: anyone, nobody, me, each agent who takes tickets. */
static sup_err
write_assignees(struct app *app, struct sup_req *r, struct sbuf *b)
{
	const char *sel = given(r, "assignee");
	int64_t now = time_now_us();
	struct jt name;
	uint32_t *ids = NULL;
	size_t n = 0;
	char num[16];
	bool listed = sel == NULL || strcmp(sel, "none") == 0 ||
	    strcmp(sel, "me") == 0;
	sup_err e;

	wopen(b, "assignees", '[');
	woption(b, "", "Anyone", sel == NULL);
	woption(b, "none", "Nobody", sel != NULL && strcmp(sel, "none") == 0);
	woption(b, "me", "Me", sel != NULL && strcmp(sel, "me") == 0);
	if ((e = user_available(&app->store, NULL, &ids, &n)) != SUP_OK)
		return e;
	/* An agent asked for who takes no tickets now is listed too. */
	for (size_t i = 0; i <= n && e == SUP_OK; i++) {
		long id;
		if (i == n) {
			if (listed || !parse_long(sel, 1, UINT32_MAX, &id))
				break;
		} else
			id = ids[i];
		snprintf(num, sizeof(num), "%ld", id);
		bool is = sel != NULL && strcmp(sel, num) == 0;
		listed |= is;
		if ((e = user_name_json(app, (uint32_t)id, now, false,
		    &name)) == SUP_ENOTFOUND) {
			e = SUP_OK;
			continue;
		}
		if (e == SUP_OK)
			woption_json(b, num, name.p, name.n, is);
	}
	free(ids);
	wclose(b, ']');
	return e;
}

/* The filter form's state into b: what each control shows. */
static sup_err
write_form(struct app *app, struct sup_req *r, const struct tquery_page *pq,
    struct sbuf *b)
{
	const struct ticket_query *q = &pq->q;
	const char *ord = given(r, "ordering"), *v;
	struct jt name;
	sup_err e;

	wopen(b, "form", '{');
	wopen(b, "statuses", '[');
	for (int i = 0; i < ST_MAX; i++)
		woption(b, ticket_status_names[i],
		    page_status_label(ticket_status_names[i], true),
		    (q->status_mask & S(i)) != 0);
	wclose(b, ']');
	wopen(b, "priorities", '[');
	woption(b, "", "Any", q->priority < 0);
	for (int i = 0; i < PRI_MAX; i++)
		woption(b, ticket_priority_names[i], priority_labels[i],
		    q->priority == i);
	wclose(b, ']');
	wopen(b, "orderings", '[');
	for (size_t i = 0; i < SUP_NELEM(orderings); i++)
		woption(b, orderings[i].value, orderings[i].label, ord != NULL ?
		    strcmp(ord, orderings[i].value) == 0 : i == 0);
	wclose(b, ']');
	if ((e = write_assignees(app, r, b)) != SUP_OK)
		return e;
	/* The customer as typed, or the user= of a link, by username. */
	if (pq->customer != NULL)
		wstr(b, "customer", pq->customer);
	else if (q->has_user) {
		if ((e = user_name_json(app, q->user, time_now_us(), true,
		    &name)) == SUP_OK) {
			wkey(b, "customer");
			sbuf_add(b, name.p, name.n);
			sbuf_add(b, ",", 1);
		} else if (e != SUP_ENOTFOUND)
			return e;
	}
	/* The date inputs speak created_from/to; a date of the API's too. */
	if ((v = given(r, "created_from")) == NULL &&
	    (v = given(r, "created_after")) != NULL && strlen(v) != 10)
		v = NULL;
	if (v != NULL)
		wstr(b, "created_from", v);
	if ((v = given(r, "created_to")) != NULL)
		wstr(b, "created_to", v);
	if ((v = given(r, "q")) != NULL)
		wstr(b, "q", v);
	if (q->page_size != 20)
		wint(b, "page_size", q->page_size);
	wclose(b, '}');
	return SUP_OK;
}

sup_err
queue_context(struct app *app, struct sup_req *r,
    const struct tquery_page *pq, const char *canonical, json_object *pc)
{
	struct sbuf b = { 0 };
	json_object *qo;
	sup_err e;

	/* About what a queue without saved views takes. */
	if ((b.p = malloc(4096)) != NULL)
		b.cap = 4096;
	wopen(&b, NULL, '{');
	wstr(&b, "query", canonical);
	if ((e = write_views(app, r, canonical, &b, pc)) != SUP_OK ||
	    (e = write_form(app, r, pq, &b)) != SUP_OK) {
		free(b.p);
		return e;
	}
	wclose(&b, '}');
	b.len--;	/* the comma after the whole */
	if (b.failed || (qo = jt_object_new(b.p, b.len)) == NULL) {
		if (b.failed)
			free(b.p);
		return SUP_ENOMEM;
	}
	return json_set(pc, "queue", qo) ? SUP_OK : SUP_ENOMEM;
}

/* --- Saved views -------------------------------------------------------- */

enum { VF_NAME, VF_QUERY };
const struct field queue_view_fields[QUEUE_VIEW_NFIELDS] = {
	[VF_NAME] = { "name", F_STRING, FIELD_REQUIRED, 1, SAVED_NAME_MAX,
		NULL, NULL },
	[VF_QUERY] = { "query", F_TEXT, FIELD_REQUIRED, 0, SAVED_QUERY_MAX,
		NULL, NULL },
};

/*
 * Save the view of the request's fields for the caller: the query
 * checked as the queue's (a "?" in front is dropped) and kept in its
 * canonical form.  *out the record.  SUP_EINVAL naming "query" (its
 * problems in one sentence) or "name"; SUP_EEXIST, SUP_ECONFLICT naming
 * "name".
 */
static sup_err
save_view(struct app *app, struct sup_req *r, json_object **out)
{
	struct value v[QUEUE_VIEW_NFIELDS];
	struct saved_why why = { 0 };
	struct tquery_page pq;
	struct sup_req tmp;
	char why_q[SUP_NELEM(r->err_msg)], *canonical = NULL;
	const char *qs;
	sup_err e;

	*out = NULL;
	if ((e = valid_json(r, r->json, queue_view_fields, QUEUE_VIEW_NFIELDS,
	    v)) != SUP_OK)
		return e;
	qs = v[VF_QUERY].str != NULL ? v[VF_QUERY].str : "";
	if (qs[0] == '?')
		qs++;
	e = tquery_parse_string(qs, &r->user, &tmp, &pq);
	if (e == SUP_EINVAL || e == SUP_EUNKNOWN || e == SUP_EFORBIDDEN) {
		tquery_problems(tmp.err_fields, why_q, sizeof(why_q));
		req_free(&tmp);
		return valid_fail(r, "query", why_q[0] != '\0' ? why_q :
		    "Not a query of the ticket list.");
	}
	if (e == SUP_OK && (canonical = tquery_canonical(&tmp, &pq.q)) == NULL)
		e = SUP_ENOMEM;
	req_free(&tmp);
	if (e != SUP_OK)
		return e;
	e = saved_create(&app->store, &r->user, v[VF_NAME].str, canonical,
	    &why, out);
	free(canonical);
	if ((e == SUP_EINVAL || e == SUP_EEXIST || e == SUP_ECONFLICT) &&
	    why.field != NULL) {
		if (req_field_error(r, why.field, why.text) != SUP_OK)
			return SUP_ENOMEM;
		snprintf(r->err_msg, sizeof(r->err_msg), "%s", why.text);
	}
	return e;
}

/*
 * GET /api/support/views/
 * Staff.  200 {count, results: [{id, name, query, created_at}]}: the
 * caller's saved views, oldest first.
 */
sup_err
queue_views_index(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *arr, *o;
	sup_err e;

	if ((e = saved_list(&app->store, &r->user, &arr)) != SUP_OK)
		return e;
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(arr);
		return SUP_ENOMEM;
	}
	if (!json_set(o, "count", json_object_new_int64(
	    (int64_t)json_object_array_length(arr))) ||
	    !json_set(o, "results", arr)) {
		json_object_put(o);
		return SUP_ENOMEM;
	}
	return app_reply(r, 200, o);
}

/*
 * POST /api/support/views/ {name, query}
 * Staff.  201 the view, its query in canonical form, with Location; 400 a
 * bad field (a query that is not the queue's: its problems named); 409
 * a name the caller has already (any case), or SAVED_MAX views.
 */
sup_err
queue_views_create(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *o;
	sup_err e;

	if ((e = save_view(app, r, &o)) != SUP_OK)
		return e;
	if (asprintf(&r->location, "%s" VIEWS_PATH "%lld/",
	    app->conf.url_prefix, (long long)json_object_get_int64(
	    json_object_object_get(o, "id"))) < 0)
		r->location = NULL;
	return app_reply(r, 201, o);
}

/*
 * DELETE /api/support/views/{id}/
 * Staff.  204; 404 when the caller has no view of that id (another
 * agent's is not theirs).
 */
sup_err
queue_views_delete(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	sup_err e;

	if ((e = saved_delete(&app->store, &r->user, r->id)) != SUP_OK)
		return e;
	return app_reply(r, 204, NULL);
}

/*
 * POST /support/views/ name, query (a form: the queue's "Save this view")
 * Staff.  303 to the queue showing the view; an error page naming the
 * field otherwise (400, 409).
 */
sup_err
queue_page_save(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *o, *q;
	char *path;
	sup_err e;

	if ((e = save_view(app, r, &o)) != SUP_OK)
		return e;
	q = json_object_object_get(o, "query");
	if (asprintf(&path, HOME "%s%s", json_object_get_string_len(q) > 0 ?
	    "?" : "", json_object_get_string(q)) < 0) {
		json_object_put(o);
		return SUP_ENOMEM;
	}
	json_object_put(o);
	e = page_redirect(r, app->conf.url_prefix, path);
	free(path);
	return e;
}

/*
 * POST /support/views/{id}/delete/ (a form: a saved view's Delete button)
 * Staff.  303 to the queue; a 404 page when the reader has no such view.
 */
sup_err
queue_page_delete(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value none[1];	/* valid_json clears n of them: give it room */
	sup_err e;

	/* The form carries nothing but its token: anything else is refused. */
	if ((e = valid_json(r, r->json, NULL, 0, none)) != SUP_OK ||
	    (e = saved_delete(&app->store, &r->user, r->id)) != SUP_OK)
		return e;
	return page_redirect(r, app->conf.url_prefix, HOME);
}
