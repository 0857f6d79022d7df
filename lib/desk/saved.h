/*
 * saved.h - the agents' saved views of the queue: a name and the queue's
 * query string (docs/pages.md "The queue"), each agent's own.
 *
 * A record: {"id", "name", "query", "created_at"}.  The query is kept as
 * the caller gives it: the programs check it against the ticket list's
 * fields (cgi-bin/tquery.c) and write it in their own canonical form
 * before it comes here, since HTTP is theirs; this area only keeps it.
 * Another agent's view does not exist for the caller (SUP_ENOTFOUND).
 */
#ifndef SUP_SAVED_H
#define SUP_SAVED_H

#include <stdint.h>

#include <json-c/json.h>

#include "caller.h"
#include "store.h"
#include "sup.h"

#define SAVED_NAME_MAX 60		/* characters */
#define SAVED_QUERY_MAX 1000		/* bytes */
#define SAVED_MAX 50			/* views an agent may keep */

/*
 * Why an input was refused: the field (a static name) and a sentence,
 * filled when saved_create returns SUP_EINVAL, SUP_EEXIST or
 * SUP_ECONFLICT.
 */
struct saved_why {
	const char *field;
	char text[160];
};

/*
 * Save a view named name (1..SAVED_NAME_MAX characters, no control
 * characters; SUP_EINVAL with why otherwise) showing query (at most
 * SAVED_QUERY_MAX bytes, may be empty) for staff u (SUP_EFORBIDDEN
 * otherwise).  SUP_EEXIST with why when u has a view of that name (in any
 * case of ASCII letters); SUP_ECONFLICT with why when u has SAVED_MAX
 * views.  *out (new) is the record.
 */
sup_err saved_create(struct store *s, const struct sup_user *u,
    const char *name, const char *query, struct saved_why *why,
    json_object **out);

/* u's views, in the order they were made: a new array in *out. */
sup_err saved_list(struct store *s, const struct sup_user *u,
    json_object **out);

/* Delete u's view id: SUP_ENOTFOUND when u has none of that id. */
sup_err saved_delete(struct store *s, const struct sup_user *u, uint32_t id);

#endif
