/*
 * tquery.c - the ticket list's query string (tquery.h): HTTP parameters
 * checked and read into the desk's struct ticket_query.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tquery.h"
#include "util.h"

static const char *const orderings[] = {
	"updated_at", "-updated_at", "created_at", "-created_at", "number",
	"-number", "priority", "-priority", NULL
};

enum {
	Q_STATUS, Q_PRIORITY, Q_ASSIGNEE, Q_USER, Q_Q, Q_AFTER, Q_BEFORE,
	Q_ORDERING, Q_PAGE, Q_PAGE_SIZE, Q_MAX,
	/* The page's own, after the list's. */
	Q_UPDATED = Q_MAX, Q_CUSTOMER, Q_FROM, Q_TO, Q_PAGE_MAX
};
_Static_assert(Q_MAX == TQUERY_NFIELDS, "the list's query fields");
_Static_assert(Q_PAGE_MAX == TQUERY_PAGE_NFIELDS, "the page's query fields");

#define DAY_US (86400 * (int64_t)1000000)

/* The list's fields, in both tables: the page's adds its own after them. */
#define LIST_FIELDS \
	[Q_STATUS] = { "status", F_STRING, 0, 1, 200, NULL, NULL }, \
	[Q_PRIORITY] = { "priority", F_ENUM, 0, 0, 0, ticket_priority_names, \
		NULL }, \
	[Q_ASSIGNEE] = { "assignee", F_STRING, 0, 1, 12, NULL, NULL }, \
	[Q_USER] = { "user", F_INT, 0, 1, UINT32_MAX, NULL, NULL }, \
	[Q_Q] = { "q", F_STRING, 0, 1, 200, NULL, NULL }, \
	[Q_AFTER] = { "created_after", F_TIME, 0, 0, 0, NULL, NULL }, \
	[Q_BEFORE] = { "created_before", F_TIME, 0, 0, 0, NULL, NULL }, \
	[Q_ORDERING] = { "ordering", F_ENUM, 0, 0, 0, orderings, NULL }, \
	[Q_PAGE] = { "page", F_INT, 0, 1, 1000000, NULL, NULL }, \
	[Q_PAGE_SIZE] = { "page_size", F_INT, 0, 1, 100, NULL, NULL }

const struct field tquery_fields[TQUERY_NFIELDS] = { LIST_FIELDS };

const struct field tquery_page_fields[TQUERY_PAGE_NFIELDS] = {
	LIST_FIELDS,
	[Q_UPDATED] = { "updated", F_INT, 0, 0, TICKET_BULK_MAX, NULL, NULL },
	[Q_CUSTOMER] = { "customer", F_STRING, 0, 1, 254, NULL, NULL },
	[Q_FROM] = { "created_from", F_TIME, 0, 0, 0, NULL, NULL },
	[Q_TO] = { "created_to", F_TIME, 0, 0, 0, NULL, NULL },
};

/* "open,waiting_for_admin" into a bit mask; false on an unknown name. */
static bool
status_mask(const char *s, size_t len, unsigned *mask)
{
	*mask = 0;
	while (len > 0) {
		const char *comma = memchr(s, ',', len);
		size_t n = comma ? (size_t)(comma - s) : len;
		int st = -1;
		for (int i = 0; i < ST_MAX; i++)
			if (strlen(ticket_status_names[i]) == n &&
			    strncmp(ticket_status_names[i], s, n) == 0)
				st = i;
		if (st < 0)
			return false;
		*mask |= 1u << st;
		s += n;
		len -= n;
		if (comma) {
			s++;
			len--;
		}
	}
	return *mask != 0;
}

/*
 * tquery_parse with the query's fields (n of them: the list's first, as
 * in tquery_fields), their values in v.
 */
static sup_err
parse_with(struct sup_req *r, const struct sup_user *u,
    struct ticket_query *q, const struct field *fields, size_t n,
    struct value *v)
{
	long id;
	sup_err e;

	memset(q, 0, sizeof(*q));
	q->priority = -1;
	q->order = ORDER_UPDATED;
	q->desc = true;
	q->page = 1;
	q->page_size = 20;
	if ((e = valid_query(r, fields, n, v)) != SUP_OK)
		return e;
	if (v[Q_STATUS].present &&
	    !status_mask(v[Q_STATUS].str, v[Q_STATUS].len, &q->status_mask))
		e = valid_fail(r, "status", "Must be one or more of open, "
		    "waiting_for_admin, waiting_for_user, resolved, closed, "
		    "separated by commas.");
	if (v[Q_ASSIGNEE].present) {
		q->has_assignee = true;
		if (strcmp(v[Q_ASSIGNEE].str, "me") == 0)
			q->assignee = u->id;
		else if (strcmp(v[Q_ASSIGNEE].str, "none") != 0) {
			if (parse_long(v[Q_ASSIGNEE].str, 1, UINT32_MAX, &id))
				q->assignee = (uint32_t)id;
			else
				e = valid_fail(r, "assignee", "Must be a "
				    "user id, \"none\" or \"me\".");
		}
	}
	if (e != SUP_OK)
		return e;
	if (v[Q_USER].present) {
		if (!user_is_staff(u) && (uint32_t)v[Q_USER].num != u->id)
			return SUP_EFORBIDDEN;
		q->has_user = true;
		q->user = (uint32_t)v[Q_USER].num;
	}
	if (v[Q_PRIORITY].present)
		q->priority = (int)v[Q_PRIORITY].num;
	if (v[Q_Q].present) {
		q->q = v[Q_Q].str;
		q->q_len = v[Q_Q].len;
	}
	q->has_after = v[Q_AFTER].present;
	q->created_after = v[Q_AFTER].us;
	q->has_before = v[Q_BEFORE].present;
	q->created_before = v[Q_BEFORE].us;
	if (v[Q_ORDERING].present) {
		const char *o = orderings[v[Q_ORDERING].num];
		q->desc = o[0] == '-';
		o += q->desc;
		q->order = strcmp(o, "updated_at") == 0 ? ORDER_UPDATED :
		    strcmp(o, "created_at") == 0 ? ORDER_CREATED :
		    strcmp(o, "priority") == 0 ? ORDER_PRIORITY : ORDER_NUMBER;
	}
	if (v[Q_PAGE].present)
		q->page = v[Q_PAGE].num;
	if (v[Q_PAGE_SIZE].present)
		q->page_size = v[Q_PAGE_SIZE].num;
	return SUP_OK;
}

sup_err
tquery_parse(struct sup_req *r, const struct sup_user *u,
    struct ticket_query *q)
{
	struct value v[Q_MAX];

	return parse_with(r, u, q, tquery_fields, Q_MAX, v);
}

/*
 * Join the values of a status given more than once (the queue's
 * checkboxes) into its first, with commas, and drop the others, so that
 * the checks see one parameter.  SUP_ENOMEM.
 */
static sup_err
join_statuses(struct sup_req *r)
{
	size_t first = r->nquery, to = 0;

	for (size_t i = 0; i < r->nquery; i++) {
		struct kv *kv = &r->query[i];
		if (strcmp(kv->key, "status") != 0 || kv->val[0] == '\0') {
			r->query[to++] = *kv;
			continue;
		}
		if (first == r->nquery) {
			first = to;
			r->query[to++] = *kv;
			continue;
		}
		char *j;
		if (asprintf(&j, "%s,%s", r->query[first].val, kv->val) < 0) {
			/* Keep what is left as it is: req_free frees it. */
			memmove(&r->query[to], kv,
			    (r->nquery - i) * sizeof(*kv));
			r->nquery = to + (r->nquery - i);
			return SUP_ENOMEM;
		}
		free(r->query[first].val);
		r->query[first].val = j;
		free(kv->key);
		free(kv->val);
	}
	r->nquery = to;
	return SUP_OK;
}

sup_err
tquery_parse_page(struct sup_req *r, const struct sup_user *u,
    struct tquery_page *pq)
{
	struct value v[TQUERY_PAGE_NFIELDS];
	struct ticket_query *q = &pq->q;
	sup_err e;

	pq->updated = -1;
	pq->customer = NULL;
	if ((e = join_statuses(r)) != SUP_OK)
		return e;
	if ((e = parse_with(r, u, q, tquery_page_fields,
	    TQUERY_PAGE_NFIELDS, v)) != SUP_OK)
		return e;
	if (v[Q_FROM].present && v[Q_AFTER].present)
		e = valid_fail(r, "created_from", "Give created_from or "
		    "created_after, not both.");
	if (v[Q_TO].present && v[Q_BEFORE].present)
		e = valid_fail(r, "created_to", "Give created_to or "
		    "created_before, not both.");
	if (v[Q_CUSTOMER].present && v[Q_USER].present)
		e = valid_fail(r, "customer", "Give customer or user, not "
		    "both.");
	if (e != SUP_OK)
		return e;
	if (v[Q_UPDATED].present)
		pq->updated = v[Q_UPDATED].num;
	if (v[Q_CUSTOMER].present) {
		if (!user_is_staff(u))
			return SUP_EFORBIDDEN;
		pq->customer = v[Q_CUSTOMER].str;
	}
	if (v[Q_FROM].present) {
		q->has_after = true;
		q->created_after = v[Q_FROM].us;
	}
	if (v[Q_TO].present) {
		q->has_before = true;
		/* A day is the whole day: before the next one. */
		q->created_before = v[Q_TO].us + (v[Q_TO].len == 10 ?
		    DAY_US : 0);
	}
	return SUP_OK;
}

/* Append s to b percent-encoded as a query value (commas kept). */
static void
add_value(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~,:", c) != NULL)
			sbuf_add(b, s, 1);
		else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			sbuf_add(b, esc, 3);
		}
	}
}

/* Append "&name=value" to b ("name=value" first), value encoded. */
static void
add_param(struct sbuf *b, const char *name, const char *value)
{
	if (b->len > 0)
		sbuf_add(b, "&", 1);
	sbuf_adds(b, name);
	sbuf_add(b, "=", 1);
	add_value(b, value);
}

char *
tquery_canonical(const struct sup_req *r, const struct ticket_query *q)
{
	/* The parameters copied as given, in this order. */
	static const char *const as_given[] = { "q", "created_after",
		"created_before", "created_from", "created_to" };
	struct sbuf b = { 0 };
	const char *v;
	char num[24];

	if (q->status_mask != 0) {
		sbuf_adds(&b, "status=");
		bool first = true;
		for (int i = 0; i < ST_MAX; i++)
			if (q->status_mask & (1u << i)) {
				if (!first)
					sbuf_add(&b, ",", 1);
				sbuf_adds(&b, ticket_status_names[i]);
				first = false;
			}
	}
	if (q->priority >= 0)
		add_param(&b, "priority", ticket_priority_names[q->priority]);
	if ((v = req_query(r, "assignee")) != NULL && *v != '\0')
		add_param(&b, "assignee", v);
	if (q->has_user) {
		snprintf(num, sizeof(num), "%u", (unsigned)q->user);
		add_param(&b, "user", num);
	}
	for (size_t i = 0; i < SUP_NELEM(as_given); i++)
		if ((v = req_query(r, as_given[i])) != NULL && *v != '\0')
			add_param(&b, as_given[i], v);
	if ((v = req_query(r, "ordering")) != NULL && *v != '\0' &&
	    strcmp(v, "-updated_at") != 0)
		add_param(&b, "ordering", v);
	if ((v = req_query(r, "page_size")) != NULL && *v != '\0' &&
	    q->page_size != 20)
		add_param(&b, "page_size", v);
	sbuf_add(&b, "", 1);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

sup_err
tquery_parse_string(const char *qs, const struct sup_user *u,
    struct sup_req *tmp, struct tquery_page *pq)
{
	static const char *const not_kept[] = { "page", "updated",
		"customer" };
	char *env[3] = { "REQUEST_METHOD=GET", NULL, NULL };
	char *qenv;
	sup_err e;

	memset(tmp, 0, sizeof(*tmp));
	if (asprintf(&qenv, "QUERY_STRING=%s", qs) < 0)
		return SUP_ENOMEM;
	env[1] = qenv;
	e = req_parse(tmp, env, (struct sup_io){ 0 }, "");
	/* The request is not read from its environment again. */
	tmp->envp = NULL;
	tmp->method = "GET";
	free(qenv);
	if (e == SUP_EINVAL)
		return valid_fail(tmp, "query", "Not a query string: a "
		    "%-escape is malformed.");
	if (e != SUP_OK)
		return e;
	for (size_t i = 0; i < SUP_NELEM(not_kept); i++)
		if (req_query(tmp, not_kept[i]) != NULL &&
		    (e = valid_fail(tmp, not_kept[i], "Not kept in a saved "
		    "view.")) != SUP_EINVAL)
			return e;
	if (e != SUP_OK)
		return e;
	return tquery_parse_page(tmp, u, pq);
}

void
tquery_problems(json_object *err_fields, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	if (err_fields == NULL)
		return;
	json_object_object_foreach(err_fields, name, why) {
		int w = snprintf(buf + len, n - len, "%s%s: %s",
		    len > 0 ? " " : "", name, json_object_get_string(why));
		if (w < 0 || (size_t)w >= n - len) {
			buf[len] = '\0';
			return;
		}
		len += (size_t)w;
	}
}
