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
 * SUP_EINVAL / SUP_EUNKNOWN with the parameters named in r->err_fields;
 * SUP_EFORBIDDEN when a customer asks for someone else's tickets.
 */
sup_err tquery_parse(struct sup_req *r, const struct sup_user *u,
    struct ticket_query *q);

/*
 * The queue page's query: the list's parameters and "updated", the count
 * of a bulk change just made (its notice; 0..TICKET_BULK_MAX), which
 * tquery_parse_page puts in *updated (-1 when absent).  The same errors.
 */
#define TQUERY_PAGE_NFIELDS (TQUERY_NFIELDS + 1)
extern const struct field tquery_page_fields[TQUERY_PAGE_NFIELDS];
sup_err tquery_parse_page(struct sup_req *r, const struct sup_user *u,
    struct ticket_query *q, long *updated);

#endif
