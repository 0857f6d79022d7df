/*
 * route.h - a program's routes: a table of method, path pattern, handler
 * and flags.  Patterns are literal text with "{uuid}" for a UUID segment
 * and "{id}" for a positive decimal id (stored in r->id).
 */
#ifndef SUP_ROUTE_H
#define SUP_ROUTE_H

#include <stddef.h>

#include "req.h"
#include "sup.h"

enum route_flags {
	ROUTE_LOGIN = 1 << 0,	/* 401 without credentials */
	ROUTE_STAFF = 1 << 1,	/* 403 unless agent or admin */
	ROUTE_BODY = 1 << 2,	/* read and parse a JSON object body */
	ROUTE_QUERY = 1 << 3,	/* the handler reads the query string; for
				 * the others any parameter is refused */
	ROUTE_ANON_CSRF = 1 << 4, /* log-in and sign-up: an anonymous browser
				 * must send the csrftoken cookie's value
				 * (docs/security.md) */
	ROUTE_PAGE = 1 << 5,	/* an HTML page: errors are error pages, and
				 * a missing login is a 303 to the log-in
				 * page (docs/pages.md) */
	ROUTE_ADMIN = 1 << 6,	/* 403 unless admin (401 without login) */
	ROUTE_SIGNED = 1 << 7,	/* authenticated by a signature of its body
				 * (the webhook in, docs/api.md "Webhook")
				 * or a signed token in it (the rating
				 * link's form): no session, login or CSRF;
				 * the body is read (size-capped) as it
				 * came and not parsed: the handler checks
				 * the signature over the raw bytes, or
				 * parses and checks the token */
	ROUTE_UPLOAD = 1 << 8,	/* with ROUTE_BODY: the body may also be
				 * multipart/form-data carrying files
				 * (r->upload; docs/attachments.md), capped
				 * by the upload limits, not max_body_bytes */
};

struct field;

/*
 * A route's fields are the ones its handler checks its body (ROUTE_BODY)
 * or query (ROUTE_QUERY) against: the same table, named in both places,
 * so that a program can say what every route takes (app --routes) and the
 * tests can send each field at its limits (tests/http/test_limits.py).
 */
struct route {
	const char *method;
	const char *pattern;
	sup_err (*handler)(void *app, struct sup_req *r);
	unsigned flags;
	const struct field *fields;
	size_t nfields;
};

/* The fields members of a route row: a table and its length, or none. */
#define ROUTE_FIELDS(table) (table), (sizeof(table) / sizeof((table)[0]))
#define ROUTE_NO_FIELDS NULL, 0

/*
 * Find the route for r->method and r->path, storing its UUIDs in r->uuid.
 * SUP_ENOTFOUND when no pattern matches the path; SUP_EMETHOD when one does
 * but not with this method (r->allow then lists the methods).  HEAD is
 * served by the GET route.
 */
sup_err route_find(const struct route *routes, size_t n, struct sup_req *r,
    const struct route **out);

#endif
