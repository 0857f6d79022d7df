/*
 * caller.h - who a request is from, as every layer sees it: the account's
 * id, its role and its record.  The web layer checks roles (a route's
 * ROUTE_STAFF) without knowing how accounts are stored; the desk layer
 * (user.c, auth.c) fills it.
 */
#ifndef SUP_CALLER_H
#define SUP_CALLER_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

/* The roles, in the order of their rights. */
enum user_role { ROLE_USER, ROLE_AGENT, ROLE_ADMIN };

/* The authenticated caller of a request. */
struct sup_user {
	uint32_t id;
	enum user_role role;
	json_object *rec;	/* owned: json_object_put() */
};

static inline bool
user_is_staff(const struct sup_user *u)
{
	return u->role != ROLE_USER;
}

/* Release the caller's record and forget who it was. */
static inline void
user_clear(struct sup_user *u)
{
	json_object_put(u->rec);
	u->rec = NULL;
	u->id = 0;
	u->role = ROLE_USER;
}

#endif
