/*
 * canned.h - canned responses: the staff's saved replies, with
 * placeholders filled in for a ticket.
 *
 * A record: {"id", "owner", "title", "body", "shortcut" (null or text),
 * "shared", "created_at", "updated_at"}.  A shared response is seen by
 * every agent and changed by admins only; a personal one is seen and
 * changed by its owner only (to anyone else it does not exist).
 *
 * The body is a template of the template engine (lib/text/tmpl.h) in
 * text mode (no escaping: the result is message content, which is
 * rendered as Markdown later), whose only variables are the placeholders
 * customer.name, customer.email, ticket.number, ticket.subject and
 * agent.name ({{customer.name}}, with modifiers if wanted:
 * {{ticket.subject:u}}), plus comments and {{BI_SPACE}}/{{BI_NEWLINE}}.
 * Sections, includes, pragmas and delimiter changes are refused.  A body
 * is checked when it is saved, so that a saved response always renders.
 */
#ifndef SUP_CANNED_H
#define SUP_CANNED_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "caller.h"
#include "store.h"
#include "sup.h"
#include "util.h"

#define CANNED_TITLE_MAX 200		/* characters */
#define CANNED_BODY_MAX 10000		/* characters */
#define CANNED_SHORTCUT_MAX 50		/* characters of [a-z0-9_-] */

/*
 * What a create or an update sets: each field with has_* false is left as
 * it is (an update) or takes its default (create: no shortcut, personal);
 * shortcut NULL with has_shortcut clears it.  Strings are the caller's.
 */
struct canned_in {
	const char *title, *body, *shortcut;
	bool shared;
	bool has_title, has_body, has_shortcut, has_shared;
};

/*
 * Why an input was refused: the field (a static name) and a sentence,
 * filled when a call returns SUP_EINVAL or SUP_EEXIST.
 */
struct canned_why {
	const char *field;
	char text[256];
};

/*
 * Make a response owned by u (staff; SUP_EFORBIDDEN otherwise, and for an
 * agent asking for a shared one).  SUP_EINVAL with why: a title, body or
 * shortcut out of its limits, a body that does not parse or names an
 * unknown placeholder; SUP_EEXIST with why: the shortcut is taken among
 * the owner's responses (a shared one's owner is its creator).  *out
 * (new) is the record as the API shows it.
 */
sup_err canned_create(struct store *s, const struct sup_user *u,
    const struct canned_in *in, struct canned_why *why, json_object **out);

/* Response id as u sees it: SUP_ENOTFOUND when absent or not u's to see. */
sup_err canned_get(struct store *s, const struct sup_user *u, uint32_t id,
    json_object **out);

/*
 * The responses u sees (the shared ones and u's own), ordered by title
 * (then id): a new array in *out.
 */
sup_err canned_list(struct store *s, const struct sup_user *u,
    json_object **out);

/*
 * Change response id (as create checks), or delete it.  SUP_ENOTFOUND
 * when u cannot see it; SUP_EFORBIDDEN when it is shared (or is to
 * become shared) and u is no admin.
 */
sup_err canned_update(struct store *s, const struct sup_user *u,
    uint32_t id, const struct canned_in *in, struct canned_why *why,
    json_object **out);
sup_err canned_delete(struct store *s, const struct sup_user *u,
    uint32_t id);

/*
 * Check a body: SUP_OK, or SUP_EINVAL with why (field "body") naming the
 * unknown placeholder or the template's error; SUP_ENOMEM.
 */
sup_err canned_check(const char *body, struct canned_why *why);

/*
 * The body of response id filled in for ticket (which u must see:
 * SUP_ENOTFOUND otherwise) by agent u: *out is a new C string (free()).
 * SUP_ENOTFOUND for an unknown response or ticket; SUP_EINVAL with why
 * when the body does not render (never for a body saved by this code).
 */
sup_err canned_render(struct store *s, const struct sup_user *u,
    uint32_t id, const uint8_t ticket[UUID_LEN], struct canned_why *why,
    char **out);

#endif
