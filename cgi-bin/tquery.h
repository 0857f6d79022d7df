/*
 * tquery.h - the ticket list's query string: ?status=&priority=&assignee=
 * &user=&q=&created_after=&created_before=&ordering=&page=&page_size=
 * (DESIGN §4), for the list API and the queue page.  HTTP parsing stays
 * here, beside the programs; the desk takes the struct ticket_query it
 * fills.
 */
#ifndef SUP_TQUERY_H
#define SUP_TQUERY_H

#include "req.h"
#include "ticket.h"
#include "valid.h"

/* The list's query parameters, as tquery_parse checks them. */
#define TQUERY_NFIELDS 10
extern const struct field tquery_fields[TQUERY_NFIELDS];

/*
 * Read the list's query string into q (defaults for what is absent).
 * assignee is "none", "me" (the caller) or a user id.  SUP_EINVAL /
 * SUP_EUNKNOWN with the parameters named in r->err_fields; SUP_EFORBIDDEN
 * when a customer asks for someone else's tickets.
 */
sup_err tquery_parse(struct sup_req *r, const struct sup_user *u,
    struct ticket_query *q);

/*
 * The queue page's query: the list's parameters and
 *   updated        the count of a bulk change just made (its notice;
 *                  0..TICKET_BULK_MAX)
 *   customer       a customer's username or e-mail (the page resolves it
 *                  into q.user: it needs the store)
 *   created_from   created_after, by the form's date input
 *   created_to     created_before, that day included when it is a date
 * A status may be given several times (the form's checkboxes), as well as
 * several names with commas: they are joined.
 */
#define TQUERY_PAGE_NFIELDS (TQUERY_NFIELDS + 4)
extern const struct field tquery_page_fields[TQUERY_PAGE_NFIELDS];

struct tquery_page {
	struct ticket_query q;
	long updated;		/* -1: absent */
	const char *customer;	/* NULL: absent; borrowed from the request */
};

/*
 * Read the page's query string of r into *pq.  The errors of tquery_parse;
 * SUP_EINVAL naming created_from (created_to) given with created_after
 * (created_before).  Strings borrow from r.
 */
sup_err tquery_parse_page(struct sup_req *r, const struct sup_user *u,
    struct tquery_page *pq);

/*
 * The filters of r's query (tquery_parse_page done, its customer resolved
 * into pq->q.user) in one canonical order and spelling, without page,
 * updated and customer: "status=open,waiting_for_admin&assignee=none".
 * The ordering by last activity, the default, is left out.  Two queries
 * showing the same tickets in the same order read the same: the queue
 * compares it with each view's to mark the one shown, and keeps it as a
 * saved view's query.  A new string (free()), "" for no filter; NULL when
 * out of memory.
 */
char *tquery_canonical(const struct sup_req *r, const struct ticket_query *q);

/*
 * Parse qs, a saved view's query string, as the queue's query for u:
 * into *tmp (a request of its own, which the strings of *pq borrow from:
 * req_free(tmp) after, in every case) and *pq.  Refused as well: page,
 * updated and customer (a view keeps neither a page nor a name to look
 * up).  SUP_EINVAL / SUP_EUNKNOWN / SUP_EFORBIDDEN with the problems in
 * tmp->err_fields; SUP_ENOMEM.
 */
sup_err tquery_parse_string(const char *qs, const struct sup_user *u,
    struct sup_req *tmp, struct tquery_page *pq);

/*
 * One line of the problems of a parse in err_fields ({"field": "why"}),
 * "status: Must be ...; page: Not kept in a saved view.", into buf.
 */
void tquery_problems(json_object *err_fields, char *buf, size_t n);

#endif
