/*
 * valid.c - check request fields against their declarations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "valid.h"

static const struct field *
field_named(const struct field *fields, size_t n, const char *name, size_t *i)
{
	for (*i = 0; *i < n; (*i)++)
		if (strcmp(fields[*i].name, name) == 0 ||
		    (fields[*i].alias && strcmp(fields[*i].alias, name) == 0))
			return &fields[*i];
	return NULL;
}

/* Does field f give its value as text (vals[i].str)? */
static bool
is_text(const struct field *f)
{
	return f->type == F_STRING || f->type == F_TEXT || f->type == F_ENUM ||
	    f->type == F_TIME;
}

/* Check a text value of field f; the reason when bad, else NULL. */
static const char *
check_text(const struct field *f, const char *s, size_t n, struct value *v,
    char *why, size_t whylen)
{
	long chars = utf8_len(s, n);

	if (chars < 0)
		return "Must be valid UTF-8 text without NUL characters.";
	if (f->type == F_STRING || f->type == F_TEXT) {
		str_trim(s, n, &v->str, &v->len);
		if (v->len == 0 && f->min > 0)
			return "This field may not be blank.";
		if (f->type == F_TEXT && (f->flags & FIELD_RAW)) {
			v->str = s;
			v->len = n;
		}
		long size = f->type == F_STRING ? utf8_len(v->str, v->len) :
		    (long)v->len;
		if (size < f->min || size > f->max) {
			snprintf(why, whylen, "Ensure this field has %s %ld %s.",
			    size < f->min ? "at least" : "no more than",
			    size < f->min ? f->min : f->max,
			    f->type == F_STRING ? "characters" : "bytes");
			return why;
		}
		return NULL;
	}
	v->str = s;
	v->len = n;
	switch (f->type) {
	case F_ENUM:
		for (long i = 0; f->choices[i] != NULL; i++)
			if (strcmp(f->choices[i], s) == 0) {
				v->num = i;
				return NULL;
			}
		snprintf(why, whylen, "\"%.40s\" is not a valid choice.", s);
		return why;
	case F_TIME:
		if (!time_parse(s, &v->us))
			return "Must be an ISO 8601 date or date-time.";
		return NULL;
	case F_INT:
		if (!parse_long(s, f->min, f->max, &v->num)) {
			snprintf(why, whylen, "Must be a whole number from %ld "
			    "to %ld.", f->min, f->max);
			return why;
		}
		return NULL;
	case F_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
			v->b = true;
		else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
			v->b = false;
		else
			return "Must be true or false.";
		return NULL;
	default:
		return "Unsupported field.";
	}
}

/*
 * Make the checked text of string j a C string: when trimming shortened
 * it, j gets the trimmed text and v->str points there.  False (v->str
 * NULL) when out of memory.
 */
static bool
terminate(json_object *j, struct value *v)
{
	char *copy;
	int rc;

	if (v->str[v->len] == '\0')
		return true;
	/* The trimmed text lies inside j's own: copied out first. */
	if ((copy = strndup(v->str, v->len)) == NULL) {
		v->str = NULL;
		return false;
	}
	rc = json_object_set_string_len(j, copy, (int)v->len);
	free(copy);
	v->str = rc ? json_object_get_string(j) : NULL;
	return v->str != NULL;
}

/* Is j a string holding a canonical UUID? */
static bool
is_uuid(json_object *j)
{
	uint8_t u[UUID_LEN];

	return json_object_is_type(j, json_type_string) &&
	    uuid_parse(json_object_get_string(j),
	    (size_t)json_object_get_string_len(j), u);
}

/*
 * Check an F_UUIDS value j: an array of min..max UUID strings (a form's
 * one string counts as an array of it).  The reason when bad, else NULL.
 */
static const char *
check_uuids(const struct field *f, json_object *j, bool form,
    struct value *v, char *why, size_t whylen)
{
	size_t n;

	if (form && json_object_is_type(j, json_type_string))
		n = 1;
	else if (json_object_is_type(j, json_type_array))
		n = json_object_array_length(j);
	else
		return "Must be a list of UUIDs.";
	if ((long)n < f->min || (long)n > f->max) {
		snprintf(why, whylen, "Ensure this field has %s %ld item%s.",
		    (long)n < f->min ? "at least" : "no more than",
		    (long)n < f->min ? f->min : f->max,
		    ((long)n < f->min ? f->min : f->max) == 1 ? "" : "s");
		return why;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_uuid(n == 1 && !json_object_is_type(j,
		    json_type_array) ? j : json_object_array_get_idx(j, i))) {
			snprintf(why, whylen, "Item %zu is not a UUID.", i + 1);
			return why;
		}
	v->list = j;
	v->len = n;
	return NULL;
}

/*
 * Check a JSON value of field f; the reason when bad, else NULL.  form: the
 * body was a urlencoded form, whose values are all text: a number or a
 * boolean is then read from its text, and an empty value of a nullable
 * field is null.
 */
static const char *
check_json(const struct field *f, json_object *j, bool form, struct value *v,
    char *why, size_t whylen)
{
	if (form && json_object_is_type(j, json_type_array) &&
	    f->type != F_UUIDS)
		return "Given more than once.";
	if (form && json_object_is_type(j, json_type_string) &&
	    json_object_get_string_len(j) == 0 &&
	    (f->flags & FIELD_NULLABLE)) {
		v->is_null = true;
		return NULL;
	}
	if (form && j != NULL && (f->type == F_BOOL || f->type == F_INT))
		return check_text(f, json_object_get_string(j),
		    (size_t)json_object_get_string_len(j), v, why, whylen);
	if (j == NULL) {
		if (f->flags & FIELD_NULLABLE) {
			v->is_null = true;
			return NULL;
		}
		return "This field may not be null.";
	}
	switch (f->type) {
	case F_STRING:
	case F_TEXT:
	case F_ENUM:
	case F_TIME:
	{
		const char *bad;

		if (!json_object_is_type(j, json_type_string))
			return "Must be a string.";
		bad = check_text(f, json_object_get_string(j),
		    (size_t)json_object_get_string_len(j), v, why, whylen);
		if (bad == NULL)
			terminate(j, v);	/* v->str NULL: no memory */
		return bad;
	}
	case F_BOOL:
		if (!json_object_is_type(j, json_type_boolean))
			return "Must be true or false.";
		v->b = json_object_get_boolean(j);
		return NULL;
	case F_INT:
		if (!json_object_is_type(j, json_type_int))
			return "Must be a whole number.";
		int64_t x = json_object_get_int64(j);
		if (x < f->min || x > f->max) {
			snprintf(why, whylen, "Must be a whole number from %ld "
			    "to %ld.", f->min, f->max);
			return why;
		}
		v->num = (long)x;
		return NULL;
	case F_UUIDS:
		return check_uuids(f, j, form, v, why, whylen);
	}
	return "Unsupported field.";
}

/* Name a bad field; the first problem sets the error (unknown wins). */
static sup_err
note_bad(struct sup_req *r, const char *key, const char *why, sup_err *e)
{
	if (req_field_error(r, key, why) != SUP_OK)
		return SUP_ENOMEM;
	if (*e == SUP_OK)
		*e = SUP_EINVAL;
	return SUP_OK;
}

/* After the values are filled: the required fields nobody sent. */
static sup_err
check_required(struct sup_req *r, const struct field *fields, size_t n,
    struct value *vals, sup_err e)
{
	for (size_t i = 0; i < n; i++)
		if ((fields[i].flags & FIELD_REQUIRED) && !vals[i].present) {
			if (req_field_error(r, fields[i].name,
			    "This field is required.") != SUP_OK)
				return SUP_ENOMEM;
			if (e == SUP_OK)
				e = SUP_EINVAL;
		}
	return e;
}

sup_err
valid_json(struct sup_req *r, json_object *body, const struct field *fields,
    size_t n, struct value *vals)
{
	sup_err e = SUP_OK;
	char why[128];

	memset(vals, 0, n * sizeof(*vals));
	json_object_object_foreach(body, key, val) {
		size_t i;
		const struct field *f = field_named(fields, n, key, &i);
		const char *bad;

		if (f == NULL) {
			if (req_field_error(r, key, "Unknown field.") != SUP_OK)
				return SUP_ENOMEM;
			e = SUP_EUNKNOWN;
			continue;
		}
		if (vals[i].present) {
			bad = "Given twice (directly and by its alias).";
		} else {
			vals[i].present = true;
			bad = check_json(f, val, r->form, &vals[i], why,
			    sizeof(why));
			if (bad == NULL && is_text(f) && !vals[i].is_null &&
			    vals[i].str == NULL)
				return SUP_ENOMEM;
		}
		if (bad != NULL && note_bad(r, key, bad, &e) != SUP_OK)
			return SUP_ENOMEM;
	}
	return check_required(r, fields, n, vals, e);
}

sup_err
valid_query(struct sup_req *r, const struct field *fields, size_t n,
    struct value *vals)
{
	sup_err e = SUP_OK;
	char why[128];

	if (n > 0)
		memset(vals, 0, n * sizeof(*vals));
	for (size_t q = 0; q < r->nquery; q++) {
		const char *key = r->query[q].key, *bad;
		size_t i;
		const struct field *f = field_named(fields, n, key, &i);

		if (f == NULL) {
			if (req_field_error(r, key,
			    "Unknown query parameter.") != SUP_OK)
				return SUP_ENOMEM;
			e = SUP_EUNKNOWN;
			continue;
		}
		/* A blank filter (?q=&status=) is no filter, as in Django. */
		if (r->query[q].val[0] == '\0')
			continue;
		if (vals[i].present)
			bad = "Given more than once.";
		else {
			vals[i].present = true;
			bad = check_text(f, r->query[q].val,
			    strlen(r->query[q].val), &vals[i], why,
			    sizeof(why));
			/* The value is the request's own copy: cut it here. */
			if (bad == NULL && is_text(f))
				r->query[q].val[vals[i].str - r->query[q].val +
				    vals[i].len] = '\0';
		}
		if (bad != NULL && note_bad(r, key, bad, &e) != SUP_OK)
			return SUP_ENOMEM;
	}
	return check_required(r, fields, n, vals, e);
}

size_t
valid_uuids(const struct value *v, uint8_t (*out)[UUID_LEN], size_t max)
{
	size_t n = 0;

	if (v->list == NULL)
		return 0;
	for (; n < v->len && n < max; n++) {
		json_object *j = json_object_is_type(v->list,
		    json_type_array) ? json_object_array_get_idx(v->list, n) :
		    v->list;
		/* Checked by check_uuids: every item parses. */
		if (!uuid_parse(json_object_get_string(j),
		    (size_t)json_object_get_string_len(j), out[n]))
			break;
	}
	return n;
}

sup_err
valid_fail(struct sup_req *r, const char *field, const char *why)
{
	sup_err e = req_field_error(r, field, why);

	return e == SUP_OK ? SUP_EINVAL : e;
}
