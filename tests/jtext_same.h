/*
 * jtext_same.h - the check that JSON text read in place (lib/text/jtext.c)
 * reads as json-c parses it; shared by tests/unit/test_jtext.c and
 * tests/fuzz/fuzz_jtext.c.  Include after <json-c/json.h>, jtext.h and
 * util.h.
 */
#ifndef JTEXT_SAME_H
#define JTEXT_SAME_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first difference found by same(), for the diagnostics. */
static char why[512];

/*
 * Does text v read as json-c's parse p: the same type, strings with the
 * same content, numbers and literals printing alike, the same members
 * (through jt_member and through the index) and the same elements?
 */
static bool
same(struct jt v, json_object *p)
{
	struct jt_index ix;

	switch (json_object_get_type(p)) {
	case json_type_null:
		if (jt_type(v) == JT_NULL)
			return true;
		break;
	case json_type_boolean:
		if (jt_type(v) == JT_BOOL && jt_truthy(v) ==
		    json_object_get_boolean(p))
			return true;
		break;
	case json_type_int:
	case json_type_double:
		if (jt_type(v) == JT_NUMBER && jt_truthy(v) ==
		    (json_object_get_double(p) != 0.0))
			return true;
		break;
	case json_type_string: {
		struct sbuf b = { 0 };
		bool eq = jt_string_get(v, &b) &&
		    b.len == (size_t)json_object_get_string_len(p) &&
		    (b.len == 0 || memcmp(b.p, json_object_get_string(p),
		    b.len) == 0) && jt_truthy(v) == (b.len > 0);
		free(b.p);
		if (eq)
			return true;
		break;
	}
	case json_type_array: {
		struct jt_iter it;
		struct jt el;
		size_t k = 0, len = json_object_array_length(p);
		if (!jt_iter_start(v, &it))
			break;
		for (; k < len; k++)
			if (!jt_iter_next(&it, &el) ||
			    !same(el, json_object_array_get_idx(p, k)))
				return false;
		if (!jt_iter_next(&it, &el) && jt_truthy(v) == (len > 0))
			return true;
		break;
	}
	case json_type_object:
		if (jt_type(v) != JT_OBJECT)
			break;
		jt_index_build(v, &ix);
		/* A name written with escapes is found by no name (jtext.h),
		 * and may stand for one written plainly: such an object is
		 * not compared (the API writes none); nor one too large to
		 * see all its names in the index. */
		if (ix.over)
			return true;
		for (size_t i = 0; i < ix.n; i++)
			if (memchr(ix.m[i].name, '\\', ix.m[i].len) != NULL)
				return true;
		json_object_object_foreach(p, key, val) {
			struct jt m, mi;
			if (!jt_member(v, key, strlen(key), &m) ||
			    !jt_index_get(&ix, key, strlen(key), &mi) ||
			    m.p != mi.p || m.n != mi.n || !same(m, val))
				return false;
		}
		if (jt_truthy(v) == (json_object_object_length(p) > 0))
			return true;
		break;
	}
	snprintf(why, sizeof(why), "%.*s against json-c's %s", (int)v.n,
	    v.p ? v.p : "", json_object_to_json_string(p));
	return false;
}

#endif
