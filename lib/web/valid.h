/*
 * valid.h - declared input: each endpoint lists the fields it takes, with
 * type, length and range.  The validators only compute: they fill a value
 * per field and name every problem in r->err_fields.
 */
#ifndef SUP_VALID_H
#define SUP_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "req.h"
#include "sup.h"
#include "util.h"

enum field_type {
	F_STRING,	/* trimmed; min..max characters (code points) */
	F_TEXT,		/* trimmed; min..max bytes */
	F_BOOL,
	F_INT,		/* min..max */
	F_ENUM,		/* one of choices */
	F_TIME,		/* ISO 8601 date or date-time */
	F_UUIDS,	/* a JSON array of min..max canonical UUID strings
			 * (from a form: the field repeated, or given once) */
};

struct field {
	const char *name;
	enum field_type type;
	unsigned flags;
	long min, max;
	const char *const *choices;	/* F_ENUM: NULL-terminated */
	const char *alias;		/* another name for the same field */
};

enum field_flags {
	FIELD_REQUIRED = 1 << 0,
	FIELD_NULLABLE = 1 << 1,	/* JSON null is a value */
	FIELD_RAW = 1 << 2,		/* F_TEXT kept as sent, not trimmed
					 * (passwords); a blank one is still
					 * refused when min > 0 */
};

/*
 * A checked field.  str is a NUL-terminated C string of len bytes (no NUL
 * inside: the validators refuse one), borrowed from the body or the query,
 * so it lives as long as the request; a handler uses it as it is and never
 * copies it into a buffer of its own.  A limit counted in characters
 * (F_STRING) allows up to 4 bytes a character, so len may be 4 * max.
 */
struct value {
	bool present;
	bool is_null;
	const char *str;	/* F_STRING, F_TEXT, F_ENUM, F_TIME: borrowed */
	size_t len;		/* bytes */
	long num;		/* F_INT; F_ENUM: index into choices */
	bool b;			/* F_BOOL */
	int64_t us;		/* F_TIME */
	json_object *list;	/* F_UUIDS: the checked array (len items),
				 * or a form's one string; borrowed */
};

/*
 * Check the JSON object body against fields (n of them), filling vals[n].
 * A urlencoded form body (r->form) is an object of strings (an array of
 * them for a name the form repeats): its booleans and numbers are read
 * from their text, an empty value of a nullable field is null, and a
 * repeated name is refused ("Given more than once.") unless its field is
 * F_UUIDS.  A string value that trimming
 * shortened is replaced in body by its trimmed text, so that every
 * vals[i].str ends with a NUL.
 * Unknown members give SUP_EUNKNOWN, bad ones SUP_EINVAL; either way every
 * problem is named in r->err_fields.  Strings stay owned by body.
 */
sup_err valid_json(struct sup_req *r, json_object *body,
    const struct field *fields, size_t n, struct value *vals);

/* The same for the query string (all values are text, trimmed in place);
 * a parameter given with an empty value counts as absent. */
sup_err valid_query(struct sup_req *r, const struct field *fields, size_t n,
    struct value *vals);

/*
 * Copy the UUIDs of a checked F_UUIDS value v into out (room for max),
 * in the order given.  Returns how many were copied (v->len, at most max).
 */
size_t valid_uuids(const struct value *v, uint8_t (*out)[UUID_LEN],
    size_t max);

/* Name a bad field in r->err_fields: SUP_EINVAL (or SUP_ENOMEM). */
sup_err valid_fail(struct sup_req *r, const char *field, const char *why);

#endif
