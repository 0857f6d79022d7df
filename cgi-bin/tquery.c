/*
 * tquery.c - the ticket list's query string (tquery.h): HTTP parameters
 * checked and read into the desk's struct ticket_query.
 */
#include <stdbool.h>
#include <string.h>

#include "tquery.h"
#include "util.h"

static const char *const orderings[] = {
	"updated_at", "-updated_at", "created_at", "-created_at", "number",
	"-number", "priority", "-priority", NULL
};

enum {
	Q_STATUS, Q_PRIORITY, Q_ASSIGNEE, Q_USER, Q_Q, Q_AFTER, Q_BEFORE,
	Q_ORDERING, Q_PAGE, Q_PAGE_SIZE, Q_MAX
};
_Static_assert(Q_MAX == TQUERY_NFIELDS, "the list's query fields");

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
	[Q_MAX] = { "updated", F_INT, 0, 0, TICKET_BULK_MAX, NULL, NULL },
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
		if (strcmp(v[Q_ASSIGNEE].str, "none") != 0) {
			if (parse_long(v[Q_ASSIGNEE].str, 1, UINT32_MAX, &id))
				q->assignee = (uint32_t)id;
			else
				e = valid_fail(r, "assignee", "Must be a "
				    "user id or \"none\".");
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

sup_err
tquery_parse_page(struct sup_req *r, const struct sup_user *u,
    struct ticket_query *q, long *updated)
{
	struct value v[TQUERY_PAGE_NFIELDS];
	sup_err e;

	*updated = -1;
	if ((e = parse_with(r, u, q, tquery_page_fields,
	    TQUERY_PAGE_NFIELDS, v)) == SUP_OK && v[Q_MAX].present)
		*updated = v[Q_MAX].num;
	return e;
}
