/*
 * test_route.c - the route table (lib/web/route.c): which row a method and
 * path find, the UUIDs captured, 404 and 405 with its Allow list.
 */
#include <string.h>

#include "req.h"
#include "route.h"
#include "sup.h"

#include "tap.h"

/* The handlers are never called: only their identity matters. */
static sup_err
h_list(void *app SUP_UNUSED, struct sup_req *r SUP_UNUSED)
{
	return SUP_OK;
}

static sup_err
h_create(void *app SUP_UNUSED, struct sup_req *r SUP_UNUSED)
{
	return SUP_OK;
}

static sup_err
h_show(void *app SUP_UNUSED, struct sup_req *r SUP_UNUSED)
{
	return SUP_OK;
}

static sup_err
h_update(void *app SUP_UNUSED, struct sup_req *r SUP_UNUSED)
{
	return SUP_OK;
}

static sup_err
h_messages(void *app SUP_UNUSED, struct sup_req *r SUP_UNUSED)
{
	return SUP_OK;
}

static const struct route routes[] = {
	{ "GET", "/api/support/tickets/", h_list, ROUTE_LOGIN,
	    ROUTE_NO_FIELDS },
	{ "POST", "/api/support/tickets/", h_create, ROUTE_LOGIN | ROUTE_BODY,
	    ROUTE_NO_FIELDS },
	{ "GET", "/api/support/tickets/{uuid}/", h_show, ROUTE_LOGIN,
	    ROUTE_NO_FIELDS },
	{ "PATCH", "/api/support/tickets/{uuid}/", h_update,
	    ROUTE_LOGIN | ROUTE_BODY, ROUTE_NO_FIELDS },
	{ "GET", "/api/support/tickets/{uuid}/messages/{uuid}/", h_messages,
	    ROUTE_LOGIN, ROUTE_NO_FIELDS },
};

#define T1 "123e4567-e89b-42d3-a456-426614174000"
#define T2 "00000000-0000-4000-8000-0000000000ff"

static const uint8_t t1[UUID_LEN] = {
	0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x42, 0xd3,
	0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00,
};
static const uint8_t t2[UUID_LEN] = {
	0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 0xff,
};

/* Route method and path; r is left for the caller to inspect and free. */
static sup_err
find(struct sup_req *r, const char *method, const char *path,
    const struct route **out)
{
	char m[32], p[256];
	char *env[] = { m, p, NULL };
	static const struct sup_io io;

	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(p, sizeof(p), "PATH_INFO=%s", path);
	if (req_parse(r, env, io, "") != SUP_OK)
		bail_out("req_parse failed on %s %s", method, path);
	return route_find(routes, SUP_NELEM(routes), r, out);
}

static void
test_match(void)
{
	const struct route *rt;
	struct sup_req r;

	is_err(find(&r, "GET", "/api/support/tickets/", &rt), SUP_OK,
	    "GET list");
	ok(rt != NULL && rt->handler == h_list, "GET list: the list handler");
	is_int(r.nuuid, 0, "GET list: no uuid");
	req_free(&r);

	is_err(find(&r, "POST", "/api/support/tickets/", &rt), SUP_OK,
	    "POST list");
	ok(rt != NULL && rt->handler == h_create &&
	    (rt->flags & ROUTE_BODY), "POST list: create, with its flags");
	req_free(&r);

	is_err(find(&r, "GET", "/api/support/tickets/" T1 "/", &rt), SUP_OK,
	    "GET a ticket");
	ok(rt != NULL && rt->handler == h_show, "GET a ticket: show");
	is_int(r.nuuid, 1, "GET a ticket: one uuid");
	ok(memcmp(r.uuid[0], t1, UUID_LEN) == 0,
	    "GET a ticket: the uuid's bytes captured");
	req_free(&r);

	is_err(find(&r, "PATCH", "/api/support/tickets/" T1 "/", &rt), SUP_OK,
	    "PATCH a ticket");
	ok(rt != NULL && rt->handler == h_update, "PATCH a ticket: update");
	req_free(&r);

	/* Uppercase hex is a UUID too (docs/api.md). */
	is_err(find(&r, "GET", "/api/support/tickets/"
	    "123E4567-E89B-42D3-A456-426614174000/", &rt), SUP_OK,
	    "GET a ticket with an uppercase uuid");
	ok(memcmp(r.uuid[0], t1, UUID_LEN) == 0,
	    "uppercase uuid: the same bytes");
	req_free(&r);

	is_err(find(&r, "GET", "/api/support/tickets/" T1 "/messages/" T2 "/",
	    &rt), SUP_OK, "GET with two uuids");
	ok(rt != NULL && rt->handler == h_messages && r.nuuid == 2 &&
	    memcmp(r.uuid[0], t1, UUID_LEN) == 0 &&
	    memcmp(r.uuid[1], t2, UUID_LEN) == 0,
	    "two uuids: both captured, in order");
	req_free(&r);

	is_err(find(&r, "HEAD", "/api/support/tickets/" T1 "/", &rt), SUP_OK,
	    "HEAD a ticket");
	ok(rt != NULL && rt->handler == h_show, "HEAD is served by GET");
	req_free(&r);
}

static void
test_not_found(void)
{
	static const char *const paths[] = {
		"/api/support/tickets",				/* no slash */
		"/api/support/tickets/" T1,			/* no slash */
		"/api/support/tickets/123e4567-e89b-42d3-a456-42661417400/",
		"/api/support/tickets/123e4567-e89b-42d3-a456-4266141740000/",
		"/api/support/tickets/123e4567e89b42d3a456426614174000/",
		"/api/support/tickets/123g4567-e89b-42d3-a456-426614174000/",
		"/api/support/tickets/not-a-uuid/",
		"/api/support/tickets//",
		"/api/support/tickets/" T1 "/extra/",
		"/api/support/tickets/" T1 "//",
		"/api/support/tickets/?",
		"/api/support/",
		"/",
		"",
		"/API/support/tickets/",
	};
	const struct route *rt;
	struct sup_req r;

	for (size_t i = 0; i < SUP_NELEM(paths); i++) {
		rt = routes;
		is_err(find(&r, "GET", paths[i], &rt), SUP_ENOTFOUND,
		    "GET \"%s\" is not found", paths[i]);
		ok(rt == NULL, "  and no route is given");
		req_free(&r);
	}
	is_err(find(&r, "DELETE", "/api/support/tickets/" T1, &rt),
	    SUP_ENOTFOUND, "an unknown path with another method: 404 first");
	req_free(&r);
}

static void
test_method(void)
{
	const struct route *rt;
	struct sup_req r;

	rt = routes;
	is_err(find(&r, "DELETE", "/api/support/tickets/" T1 "/", &rt),
	    SUP_EMETHOD, "DELETE a ticket: method not allowed");
	ok(rt == NULL, "DELETE a ticket: no route");
	is_str(r.allow, "GET, HEAD, PATCH", "DELETE a ticket: Allow lists "
	    "the path's methods");
	req_free(&r);

	is_err(find(&r, "PATCH", "/api/support/tickets/", &rt), SUP_EMETHOD,
	    "PATCH the list: method not allowed");
	is_str(r.allow, "GET, HEAD, POST", "PATCH the list: Allow");
	req_free(&r);

	is_err(find(&r, "POST", "/api/support/tickets/" T1 "/messages/" T2 "/",
	    &rt), SUP_EMETHOD, "POST on a GET-only path");
	is_str(r.allow, "GET, HEAD", "Allow: GET, HEAD");
	req_free(&r);

	/* Methods are case-sensitive (RFC 9110). */
	is_err(find(&r, "get", "/api/support/tickets/", &rt), SUP_EMETHOD,
	    "lowercase \"get\" is another method");
	req_free(&r);
}

int
main(void)
{
	test_match();
	test_not_found();
	test_method();
	return done_testing();
}
