/*
 * route.c - match a path against the route table.
 */
#include <string.h>

#include "route.h"

/* Match path against pattern, collecting UUIDs into r (when r != NULL). */
static bool
match(const char *pattern, const char *path, struct sup_req *r)
{
	static const char slot[] = "{uuid}", idslot[] = "{id}";
	int nuuid = 0;

	while (*pattern != '\0') {
		if (*pattern != '{') {
			/* Most of a pattern: its bytes, one by one. */
			if (*pattern++ != *path++)
				return false;
		} else if (strncmp(pattern, idslot, sizeof(idslot) - 1) == 0) {
			/* 1 to 10 digits, no leading zero, within uint32. */
			size_t seg = strcspn(path, "/");
			char num[11];
			long v;
			if (seg == 0 || seg > 10 || path[0] == '0' ||
			    strspn(path, "0123456789") != seg)
				return false;
			memcpy(num, path, seg);
			num[seg] = '\0';
			if (!parse_long(num, 1, UINT32_MAX, &v))
				return false;
			if (r != NULL)
				r->id = (uint32_t)v;
			pattern += sizeof(idslot) - 1;
			path += seg;
		} else if (strncmp(pattern, slot, sizeof(slot) - 1) == 0) {
			size_t seg = strcspn(path, "/");
			uint8_t u[UUID_LEN];
			if (!uuid_parse(path, seg, u) || nuuid >= REQ_MAX_UUIDS)
				return false;
			if (r != NULL)
				memcpy(r->uuid[nuuid], u, UUID_LEN);
			nuuid++;
			pattern += sizeof(slot) - 1;
			path += seg;
		} else if (*pattern++ != *path++)
			return false;
	}
	if (*path != '\0')
		return false;
	if (r != NULL)
		r->nuuid = nuuid;
	return true;
}

sup_err
route_find(const struct route *routes, size_t n, struct sup_req *r,
    const struct route **out)
{
	const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	bool path_known = false;
	size_t alen = 0;

	*out = NULL;
	/* The routes of this method first: the path is matched against
	 * those only, unless none matches. */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(routes[i].method, method) == 0 &&
		    match(routes[i].pattern, r->path, r)) {
			*out = &routes[i];
			return SUP_OK;
		}
	}
	for (size_t i = 0; i < n && !path_known; i++)
		path_known = match(routes[i].pattern, r->path, NULL);
	if (!path_known)
		return SUP_ENOTFOUND;
	/* List the methods of this path for the Allow header. */
	r->allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t m = strlen(routes[i].method);
		if (!match(routes[i].pattern, r->path, NULL) ||
		    alen + m + 2 >= sizeof(r->allow))
			continue;
		if (alen > 0) {
			memcpy(r->allow + alen, ", ", 2);
			alen += 2;
		}
		memcpy(r->allow + alen, routes[i].method, m + 1);
		alen += m;
		if (strcmp(routes[i].method, "GET") == 0 &&
		    alen + 6 < sizeof(r->allow)) {
			memcpy(r->allow + alen, ", HEAD", 7);
			alen += 6;
		}
	}
	return SUP_EMETHOD;
}
