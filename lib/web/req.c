/*
 * req.c - parse a CGI/FastCGI request.
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "multipart.h"
#include "req.h"

const char *
req_env(const struct sup_req *r, const char *name)
{
	size_t n = strlen(name);

	for (char **e = r->envp; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

/* Decode %XX and '+' of s[0..n) into a new string; NULL on a bad escape. */
static char *
url_decode(const char *s, size_t n, bool *bad)
{
	char *out = malloc(n + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%') {
			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2])) {
				*bad = true;
				free(out);
				return NULL;
			}
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			if ((*o++ = (char)strtol(hex, NULL, 16)) == '\0') {
				/* No NUL in a value: C strings would cut it. */
				*bad = true;
				free(out);
				return NULL;
			}
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return out;
}

/* Append a pair to a growing array; takes key and val (freed on failure). */
static sup_err
kv_push(struct kv **arr, size_t *n, char *key, char *val)
{
	/* The capacity is the next power of two: full when n is one (or 0). */
	if ((*n & (*n - 1)) == 0) {
		size_t cap = *n ? *n * 2 : 1;
		struct kv *a = realloc(*arr, cap * sizeof(*a));
		if (a == NULL) {
			free(key);
			free(val);
			return SUP_ENOMEM;
		}
		*arr = a;
	}
	(*arr)[*n].key = key;
	(*arr)[(*n)++].val = val;
	return SUP_OK;
}

/*
 * Split s at sep into name=value pairs.  decode: %-decode them (the query);
 * otherwise names and values are taken as they are, trimmed (cookies).
 */
static sup_err
parse_pairs(struct kv **arr, size_t *n, const char *s, char sep, bool decode)
{
	bool bad = false;

	while (s != NULL && *s != '\0') {
		const char *end = strchr(s, sep);
		size_t len = end ? (size_t)(end - s) : strlen(s);
		const char *eq = memchr(s, '=', len);
		size_t klen = eq ? (size_t)(eq - s) : len;
		const char *v = eq ? eq + 1 : s + len;
		size_t vlen = eq ? len - klen - 1 : 0;
		char *key, *val;

		if (!decode) {
			str_trim(s, klen, &s, &klen);
			str_trim(v, vlen, &v, &vlen);
		}
		if (klen > 0) {
			key = decode ? url_decode(s, klen, &bad) :
			    strndup(s, klen);
			val = key == NULL ? NULL : decode ?
			    url_decode(v, vlen, &bad) : strndup(v, vlen);
			if (key == NULL || val == NULL) {
				free(key);
				return bad ? SUP_EINVAL : SUP_ENOMEM;
			}
			if (kv_push(arr, n, key, val) != SUP_OK)
				return SUP_ENOMEM;
		}
		s = end ? end + 1 : NULL;
	}
	return SUP_OK;
}

sup_err
req_parse(struct sup_req *r, char **envp, struct sup_io io,
    const char *url_prefix)
{
	const char *path, *uri, *q;
	size_t plen, pre = url_prefix ? strlen(url_prefix) : 0;

	memset(r, 0, sizeof(*r));
	r->envp = envp;
	r->io = io;
	if ((r->method = req_env(r, "REQUEST_METHOD")) == NULL)
		r->method = "GET";

	path = req_env(r, "PATH_INFO");
	if (path != NULL && *path == '/')
		plen = strlen(path);
	else if ((uri = req_env(r, "REQUEST_URI")) != NULL && *uri == '/') {
		path = uri;
		plen = strcspn(uri, "?#");
	} else if ((path = req_env(r, "SCRIPT_NAME")) != NULL)
		plen = strlen(path);
	else {
		path = "/";
		plen = 1;
	}
	if (pre > 0 && plen >= pre && strncmp(path, url_prefix, pre) == 0) {
		path += pre;
		plen -= pre;
	}
	if ((r->path = strndup(path, plen)) == NULL)
		return SUP_ENOMEM;

	if ((q = req_env(r, "QUERY_STRING")) == NULL &&
	    (uri = req_env(r, "REQUEST_URI")) != NULL &&
	    (q = strchr(uri, '?')) != NULL)
		q++;
	if (parse_pairs(&r->cookies, &r->ncookies, req_env(r, "HTTP_COOKIE"),
	    ';', false) != SUP_OK)
		return SUP_ENOMEM;
	sup_err e = parse_pairs(&r->query, &r->nquery, q, '&', true);
	if (e == SUP_EINVAL)
		snprintf(r->err_msg, sizeof(r->err_msg),
		    "The query string is malformed.");
	return e;
}

static void
kv_free(struct kv *arr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(arr[i].key);
		free(arr[i].val);
	}
	free(arr);
}

void
req_free(struct sup_req *r)
{
	kv_free(r->query, r->nquery);
	kv_free(r->cookies, r->ncookies);
	free(r->path);
	free(r->body);
	free(r->location);
	json_object_put(r->json);
	json_object_put(r->reply);
	json_object_put(r->err_fields);
	json_object_put(r->err_extra);
	free(r->form_csrf);
	mp_upload_free(r->upload);
	free(r->headers.p);
	user_clear(&r->user);
	memset(r, 0, sizeof(*r));
}

void
req_reset_reply(struct sup_req *r)
{
	json_object_put(r->reply);
	json_object_put(r->err_fields);
	json_object_put(r->err_extra);
	free(r->location);
	user_clear(&r->user);
	free(r->headers.p);
	memset(&r->headers, 0, sizeof(r->headers));
	r->retry_after = 0;
	r->by_cookie = false;
	r->csrf[0] = '\0';
	r->reply = r->err_fields = r->err_extra = NULL;
	r->location = NULL;
	r->status = 0;
	r->etag[0] = r->allow[0] = r->err_msg[0] = '\0';
	r->nuuid = 0;
}

const char *
req_query(const struct sup_req *r, const char *name)
{
	for (size_t i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].key, name) == 0)
			return r->query[i].val;
	return NULL;
}

const char *
req_cookie(const struct sup_req *r, const char *name)
{
	for (size_t i = 0; i < r->ncookies; i++)
		if (strcmp(r->cookies[i].key, name) == 0)
			return r->cookies[i].val;
	return NULL;
}

sup_err
req_body_length(const struct sup_req *r, long cap, long *len)
{
	const char *cl = req_env(r, "CONTENT_LENGTH");

	*len = 0;
	if (cl != NULL && *cl != '\0' && !parse_long(cl, 0, LONG_MAX, len)) {
		/* All digits, but past LONG_MAX: too large, not malformed. */
		if (strspn(cl, "0123456789") == strlen(cl))
			return SUP_ETOOLARGE;
		return SUP_EIO;
	}
	return *len > cap ? SUP_ETOOLARGE : SUP_OK;
}

/*
 * Read a body sent chunked, whose length nobody announced: Apache's mod_cgi
 * passes such a body on as it comes, with no CONTENT_LENGTH (nginx,
 * mod_fcgid and mod_proxy_fcgi count it first).  The program's input ends
 * with the body, so it is read to its end, and refused with SUP_ETOOLARGE
 * as soon as it passes cap.  On success r->body (freed by req_free) holds
 * it, NUL-terminated.  SUP_ENOMEM, SUP_EIO on a read error, SUP_ETIMEOUT
 * when the read gave up waiting.
 */
static sup_err
read_to_end(struct sup_req *r, long cap)
{
	size_t got = 0, size = 0, max = (size_t)cap + 1;
	char *p;
	int n;

	for (;;) {
		if (got == size) {
			if (size == max)
				return SUP_ETOOLARGE;
			size = size == 0 ? 8192 : size * 2;
			if (size > max)
				size = max;
			if ((p = realloc(r->body, size + 1)) == NULL)
				return SUP_ENOMEM;
			r->body = p;
		}
		n = r->io.read(r->io.ctx, r->body + got, (int)(size - got));
		if (n < 0)
			return n == SUP_IO_TIMEOUT ? SUP_ETIMEOUT : SUP_EIO;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > (size_t)cap)
		return SUP_ETOOLARGE;
	r->body[got] = '\0';
	r->body_len = got;
	return SUP_OK;
}

sup_err
req_read_body(struct sup_req *r, long cap)
{
	const char *cl = req_env(r, "CONTENT_LENGTH");
	size_t got = 0;
	long len;
	sup_err e;

	if ((e = req_body_length(r, cap, &len)) != SUP_OK)
		return e;
	if ((cl == NULL || *cl == '\0') &&
	    req_env(r, "HTTP_TRANSFER_ENCODING") != NULL)
		return read_to_end(r, cap);
	if ((r->body = malloc((size_t)len + 1)) == NULL)
		return SUP_ENOMEM;
	while (got < (size_t)len) {
		int n = r->io.read(r->io.ctx, r->body + got,
		    (int)((size_t)len - got));
		if (n <= 0)
			return n == SUP_IO_TIMEOUT ? SUP_ETIMEOUT : SUP_EIO;
		got += (size_t)n;
	}
	r->body[got] = '\0';
	r->body_len = got;
	return SUP_OK;
}

/*
 * Does text hold only what JSON allows outside its strings?  json-c, even
 * in strict mode, takes 'single quotes', NaN and Infinity; they are not
 * JSON, and a client sending them gets a clear 400 rather than a guess.
 * The structure itself is json-c's to check.
 */
static bool
json_tokens_ok(const char *text, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"')
			in_string = true;
		else if (strchr(" \t\r\n{}[],:-+.0123456789eEtrufalsn", c) ==
		    NULL || c == '\0')
			return false;
	}
	return true;
}

/* One parse of the body into *out: SUP_EJSON, SUP_ENOMEM. */
static sup_err
parse_json_once(struct sup_req *r, json_object **out)
{
	json_tokener *tok;
	json_object *obj;

	*out = NULL;
	if ((tok = json_tokener_new_ex(32)) == NULL)
		return SUP_ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	if (!json_parse_room(tok, r->body_len)) {
		json_tokener_free(tok);
		return SUP_ENOMEM;
	}
	obj = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	if (obj == NULL && json_parse_nomem(tok)) {
		json_tokener_free(tok);
		return SUP_ENOMEM;
	}
	if (obj != NULL && json_tokener_get_parse_end(tok) != r->body_len) {
		/* Only white space may follow the value. */
		for (size_t i = json_tokener_get_parse_end(tok);
		    i < r->body_len; i++)
			if (!isspace((unsigned char)r->body[i])) {
				json_object_put(obj);
				obj = NULL;
				break;
			}
	}
	json_tokener_free(tok);
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return SUP_EJSON;
	}
	*out = obj;
	return SUP_OK;
}

sup_err
req_parse_json(struct sup_req *r)
{
	const char *ct = req_env(r, "CONTENT_TYPE");
	json_object *obj, *again;
	sup_err e;
	size_t n;

	/* application/json, with or without parameters such as charset. */
	n = strlen("application/json");
	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0 ||
	    (ct[n] != '\0' && ct[n] != ';' && ct[n] != ' '))
		return SUP_EMEDIA;
	if (!json_tokens_ok(r->body, r->body_len))
		return SUP_EJSON;
	if ((e = parse_json_once(r, &obj)) != SUP_OK)
		return e;
	/*
	 * Fewer members than the body names: json-c dropped one for want of
	 * memory (lib/util.h), or the body names one twice.  A second parse
	 * tells them apart: the same count again is the body's doing.
	 */
	if (!json_members_kept(obj, r->body, r->body_len)) {
		if ((e = parse_json_once(r, &again)) != SUP_OK) {
			json_object_put(obj);
			return e;
		}
		n = json_members(again);
		json_object_put(again);
		if (n != json_members(obj)) {
			json_object_put(obj);
			return SUP_ENOMEM;
		}
	}
	r->json = obj;
	return SUP_OK;
}

/* Does the Content-Type name type, with or without parameters? */
static bool
content_type_is(const struct sup_req *r, const char *type)
{
	const char *ct = req_env(r, "CONTENT_TYPE");
	size_t n = strlen(type);

	return ct != NULL && strncasecmp(ct, type, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/*
 * Add the form value v (taken) to obj under k: a string, or, when k is
 * there already, an array of its values in order (check boxes of one name
 * repeat it; valid_json refuses the repetition for any other field).
 * SUP_ENOMEM.
 */
static sup_err
form_add(json_object *obj, const char *k, json_object *v)
{
	json_object *was, *arr;

	if (!json_object_object_get_ex(obj, k, &was))
		return json_object_object_add(obj, k, v) == 0 ? SUP_OK :
		    SUP_ENOMEM;
	if (json_object_is_type(was, json_type_array))
		return json_object_array_add(was, v) == 0 ? SUP_OK :
		    SUP_ENOMEM;
	if ((arr = json_object_new_array()) == NULL ||
	    json_object_array_add(arr, json_object_get(was)) != 0) {
		json_object_put(arr);
		return SUP_ENOMEM;
	}
	if (json_object_array_add(arr, v) != 0) {
		json_object_put(arr);
		return SUP_ENOMEM;
	}
	if (json_object_object_add(obj, k, arr) != 0) {
		/* arr holds v now: the caller's reference is given back. */
		json_object_get(v);
		json_object_put(arr);
		return SUP_ENOMEM;
	}
	return SUP_OK;
}

/*
 * The urlencoded body as an object of strings, an array of strings for a
 * name given more than once (form_add).  The pairs are split by
 * parse_pairs, as the query is; the CSRF token given twice is refused.
 */
static sup_err
parse_form(struct sup_req *r)
{
	struct kv *pairs = NULL;
	size_t n = 0;
	json_object *obj = NULL;
	sup_err e;

	if (memchr(r->body, '\0', r->body_len) != NULL) {
		snprintf(r->err_msg, sizeof(r->err_msg),
		    "The form body is malformed.");
		return SUP_EINVAL;
	}
	if ((e = parse_pairs(&pairs, &n, r->body, '&', true)) != SUP_OK) {
		if (e == SUP_EINVAL)
			snprintf(r->err_msg, sizeof(r->err_msg),
			    "The form body is malformed.");
		goto out;
	}
	if ((obj = json_object_new_object()) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *k = pairs[i].key;
		if (strcmp(k, "csrfmiddlewaretoken") == 0 &&
		    r->form_csrf != NULL) {
			if ((e = req_field_error(r, k, "Given more than "
			    "once.")) == SUP_OK)
				e = SUP_EINVAL;
			goto out;
		}
		if (strcmp(k, "csrfmiddlewaretoken") == 0) {
			r->form_csrf = pairs[i].val;
			pairs[i].val = NULL;
			continue;
		}
		/* A NULL value would be added as null: check it first. */
		json_object *v = json_object_new_string(pairs[i].val);
		if (v == NULL || form_add(obj, k, v) != SUP_OK) {
			/* form_add took v only when it succeeded. */
			json_object_put(v);
			e = SUP_ENOMEM;
			goto out;
		}
	}
	r->json = obj;
	r->form = true;
	obj = NULL;
out:
	json_object_put(obj);
	kv_free(pairs, n);
	return e;
}

bool
req_body_is_form(const struct sup_req *r)
{
	return content_type_is(r, "application/x-www-form-urlencoded");
}

sup_err
req_parse_body(struct sup_req *r)
{
	if (req_body_is_form(r))
		return parse_form(r);
	return req_parse_json(r);
}

sup_err
req_add_header(struct sup_req *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2 ||
	    strpbrk(line, "\r\n") != NULL)
		return SUP_EINVAL;
	sbuf_add(&r->headers, line, (size_t)n);
	sbuf_add(&r->headers, "\r\n", 2);
	return r->headers.failed ? SUP_ENOMEM : SUP_OK;
}

sup_err
req_field_error(struct sup_req *r, const char *field, const char *why)
{
	if (r->err_fields == NULL &&
	    (r->err_fields = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if (!json_object_object_get_ex(r->err_fields, field, NULL))
		json_object_object_add(r->err_fields, field,
		    json_object_new_string(why));
	return SUP_OK;
}

/* Append s percent-encoded as a query component. */
static void
sbuf_add_encoded(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c) != NULL)
			sbuf_add(b, s, 1);
		else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			sbuf_add(b, esc, 3);
		}
	}
}

char *
req_query_url(const struct sup_req *r, const char *url_prefix,
    const char *name, const char *value)
{
	struct sbuf b = { 0 };
	char sep = '?';

	if (url_prefix != NULL)
		sbuf_add(&b, url_prefix, strlen(url_prefix));
	sbuf_add(&b, r->path, strlen(r->path));
	for (size_t i = 0; i < r->nquery; i++) {
		if (strcmp(r->query[i].key, name) == 0)
			continue;
		sbuf_add(&b, &sep, 1);
		sbuf_add_encoded(&b, r->query[i].key);
		sbuf_add(&b, "=", 1);
		sbuf_add_encoded(&b, r->query[i].val);
		sep = '&';
	}
	sbuf_add(&b, &sep, 1);
	sbuf_add_encoded(&b, name);
	sbuf_add(&b, "=", 1);
	sbuf_add_encoded(&b, value);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

char *
req_page_url(const struct sup_req *r, const char *url_prefix, long page)
{
	struct sbuf b = { 0 };
	char num[24];
	char sep = '?';

	snprintf(num, sizeof(num), "%ld", page);
	/* The path matched a route, so it needs no escaping. */
	if (url_prefix != NULL)
		sbuf_add(&b, url_prefix, strlen(url_prefix));
	sbuf_add(&b, r->path, strlen(r->path));
	for (size_t i = 0; i < r->nquery; i++) {
		if (strcmp(r->query[i].key, "page") == 0)
			continue;
		sbuf_add(&b, &sep, 1);
		sbuf_add_encoded(&b, r->query[i].key);
		sbuf_add(&b, "=", 1);
		sbuf_add_encoded(&b, r->query[i].val);
		sep = '&';
	}
	sbuf_add(&b, &sep, 1);
	sbuf_add(&b, "page=", 5);
	sbuf_add(&b, num, strlen(num));
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
