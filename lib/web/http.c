/*
 * http.c - responses.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "jtext.h"

/* Sent with every response (DESIGN §6), with a Content-Security-Policy. */
static const char security_headers[] =
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: same-origin\r\n"
    "Cache-Control: private, no-cache\r\n";

/* The API answers only data, so its policy allows nothing to load. */
static const char api_csp[] = "default-src 'none'; frame-ancestors 'none'";

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "";
	}
}

static int
put(struct sup_req *r, const char *s, size_t n)
{
	return r->io.write(r->io.ctx, s, (int)n) == (int)n ? 0 : -1;
}

/* Append a formatted header line; -1 when it would not fit. */
SUP_PRINTF(4, 5) static int
add(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

/*
 * Write the status line and headers into head (cap bytes): the security
 * headers with csp as the policy, the content type and length when ctype is
 * not NULL (clen < 0: no length), and r's own headers.  challenge: add the
 * Basic challenge to a 401 (not for a failed login form: a browser would
 * open its own login dialog).  The length, or 0 when it does not fit.
 */
static size_t
build_head(const struct sup_req *r, int status, const char *ctype, long clen,
    const char *csp, bool challenge, char *head, size_t cap)
{
	size_t hlen = 0;
	int rc = 0;

	rc |= add(head, cap, &hlen, "Status: %d %s\r\n%s"
	    "Content-Security-Policy: %s\r\n", status, http_reason(status),
	    security_headers, csp);
	if (ctype != NULL)
		rc |= add(head, cap, &hlen, "Content-Type: %s\r\n", ctype);
	if (ctype != NULL && clen >= 0)
		rc |= add(head, cap, &hlen, "Content-Length: %ld\r\n", clen);
	if (r->location != NULL)
		rc |= add(head, cap, &hlen, "Location: %s\r\n", r->location);
	if (r->etag[0] != '\0')
		rc |= add(head, cap, &hlen, "ETag: %s\r\n", r->etag);
	if (r->allow[0] != '\0')
		rc |= add(head, cap, &hlen, "Allow: %s\r\n", r->allow);
	if (r->retry_after > 0)
		rc |= add(head, cap, &hlen, "Retry-After: %ld\r\n",
		    r->retry_after);
	if (r->headers.p != NULL)
		rc |= add(head, cap, &hlen, "%s", r->headers.p);
	if (status == 401 && challenge)
		rc |= add(head, cap, &hlen,
		    "WWW-Authenticate: Basic realm=\"support\"\r\n");
	rc |= add(head, cap, &hlen, "\r\n");
	return rc != 0 ? 0 : hlen;
}

/*
 * The text of a text object without added members (lib/text/jtext.h: the API's
 * raw objects) in *text and *len, borrowed; false for any other object.
 */
static bool
raw_text(json_object *o, const char **text, size_t *len)
{
	struct jt t;

	if (!jt_object_text(o, &t) || json_object_object_length(o) != 0)
		return false;
	*text = t.p;
	*len = t.n;
	return true;
}

/* Is name printable in JSON as it is ("name" with no escapes)? */
static bool
plain_name(const char *name)
{
	for (; *name != '\0'; name++)
		if ((unsigned char)*name < 0x20 || *name == '"' ||
		    *name == '\\' || (unsigned char)*name >= 0x7f)
			return false;
	return true;
}

#define PIECES_MAX 64

/*
 * The JSON text of object o as pieces, when some of its members are raw
 * objects (a list page's results, a thread): the other members' values as
 * json-c prints them (kept in their objects), the raw ones as their own
 * text, so that a long text is not copied into json-c's buffer first.
 * The pieces point into o and into string constants.  False when o has no
 * raw member, or has a member this does not print (a name to escape, too
 * many members): then json-c prints all of it.
 */
static bool
object_pieces(json_object *o, const char **p, size_t *n, size_t *np)
{
	bool any = false;
	size_t k = 0;

	if (!json_object_is_type(o, json_type_object) || raw_text(o, p, n))
		return false;
	p[k] = "{";
	n[k++] = 1;
	json_object_object_foreach(o, key, val) {
		const char *text;
		size_t len;
		if (k + 5 > PIECES_MAX || !plain_name(key))
			return false;
		if (raw_text(val, &text, &len)) {
			any = true;
		} else if (val == NULL) {
			text = "null";
			len = 4;
		} else if ((text = json_object_to_json_string_length(val,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &len)) == NULL) {
			return false;
		}
		p[k] = k == 1 ? "\"" : ",\"";
		n[k] = k == 1 ? 1 : 2;
		k++;
		p[k] = key;
		n[k++] = strlen(key);
		p[k] = "\":";
		n[k++] = 2;
		p[k] = text;
		n[k++] = len;
	}
	p[k] = "}";
	n[k++] = 1;
	*np = k;
	return any;
}

/* Send status and body as JSON; challenge as build_head. */
static sup_err
send_json(struct sup_req *r, int status, json_object *body, bool challenge)
{
	const char *piece[PIECES_MAX];
	size_t plen[PIECES_MAX], npieces = 0, hlen, blen = 0;
	char head[4096];
	const char *text = NULL;
	bool head_only = strcmp(r->method, "HEAD") == 0;

	/* A raw object (lib/desk/view.c) is its text already, and an object
	 * holding raw ones is sent in pieces: json-c does not print a copy
	 * of a whole thread or list first. */
	if (body != NULL && !raw_text(body, &text, &blen)) {
		if (object_pieces(body, piece, plen, &npieces)) {
			for (size_t i = 0; i < npieces; i++)
				blen += plen[i];
			text = "";
		} else if ((text = json_object_to_json_string_length(body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &blen)) == NULL) {
			return SUP_ENOMEM;
		}
	}
	hlen = build_head(r, status, text != NULL ? "application/json" : NULL,
	    (long)blen + 1, api_csp, challenge, head, sizeof(head));
	if (hlen == 0)
		return SUP_ENOMEM;
	r->sent = true;
	if (put(r, head, hlen) != 0)
		return SUP_EIO;
	if (text == NULL || head_only)
		return SUP_OK;
	if (npieces == 0 && put(r, text, blen) != 0)
		return SUP_EIO;
	for (size_t i = 0; i < npieces; i++)
		if (put(r, piece[i], plen[i]) != 0)
			return SUP_EIO;
	return put(r, "\n", 1) != 0 ? SUP_EIO : SUP_OK;
}

sup_err
http_send_head(struct sup_req *r, int status, const char *ctype,
    const char *csp)
{
	char head[4096];
	size_t hlen;

	hlen = build_head(r, status, ctype, -1, csp, false, head,
	    sizeof(head));
	if (hlen == 0)
		return SUP_ENOMEM;
	r->sent = true;
	return put(r, head, hlen) != 0 ? SUP_EIO : SUP_OK;
}

sup_err
http_send_body(struct sup_req *r, int status, const char *ctype,
    const char *csp, const char *body, size_t len)
{
	char head[4096];
	size_t hlen;

	hlen = build_head(r, status, ctype, (long)len, csp, false, head,
	    sizeof(head));
	if (hlen == 0)
		return SUP_ENOMEM;
	r->sent = true;
	if (put(r, head, hlen) != 0)
		return SUP_EIO;
	if (strcmp(r->method, "HEAD") == 0)
		return SUP_OK;
	return put(r, body, len) != 0 ? SUP_EIO : SUP_OK;
}

sup_err
http_write(struct sup_req *r, const char *buf, size_t len)
{
	return put(r, buf, len) != 0 ? SUP_EIO : SUP_OK;
}

sup_err
http_send_json(struct sup_req *r, int status, json_object *body)
{
	return send_json(r, status, body, true);
}

sup_err
http_send_error(struct sup_req *r, int status, sup_err e)
{
	json_object *env, *err;
	sup_err rc;

	if ((env = json_object_new_object()) == NULL ||
	    (err = json_object_new_object()) == NULL) {
		json_object_put(env);
		return SUP_ENOMEM;
	}
	/* An envelope without its code or message is never sent. */
	if (!json_set(env, "error", err) ||
	    !json_set(err, "code", json_object_new_string(sup_errcode(e))) ||
	    !json_set(err, "message", json_object_new_string(
	    r->err_msg[0] != '\0' ? r->err_msg : sup_strerror(e))) ||
	    (r->err_fields != NULL && !json_set(err, "fields",
	    json_object_get(r->err_fields)))) {
		json_object_put(env);
		return SUP_ENOMEM;
	}
	if (r->err_extra != NULL &&
	    json_object_is_type(r->err_extra, json_type_object)) {
		json_object_object_foreach(r->err_extra, key, val) {
			if (strcmp(key, "error") != 0 &&
			    !json_set(env, key, json_object_get(val))) {
				json_object_put(env);
				return SUP_ENOMEM;
			}
		}
	}
	/*
	 * Only "no credentials" asks for Basic ones: a refused login (an
	 * area's error of that kind) must not make a browser prompt.  Nor
	 * does a page's own request whose session is gone (ended, or its
	 * account disabled): it still sends the sessionid cookie, and a
	 * challenge would hold its fetch behind the browser's login dialog
	 * instead of letting the page say so (htdocs/support.js).
	 */
	rc = send_json(r, status, env, e == SUP_EUNAUTH &&
	    req_cookie(r, "sessionid") == NULL);
	json_object_put(env);
	return rc;
}

int
http_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	unsigned long long a = 0, b = 0;
	const char *p;
	char *end;

	if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return 0;
	p = h + 6;
	if (*p == '-') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		b = strtoull(p + 1, &end, 10);
		if (*end != '\0' || b == 0 || size == 0)
			return -1;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return 1;
	}
	if (*p < '0' || *p > '9')
		return -1;
	a = strtoull(p, &end, 10);
	if (*end != '-')
		return -1;
	p = end + 1;
	if (*p == '\0')
		b = size > 0 ? size - 1 : 0;
	else {
		if (*p < '0' || *p > '9')
			return -1;
		b = strtoull(p, &end, 10);
		if (*end != '\0' || b < a)
			return -1;
		if (b >= size)
			b = size - 1;
	}
	if (a >= size)
		return -1;
	*from = a;
	*to = b;
	return 1;
}

bool
http_tag_in(const char *h, const char *tag)
{
	size_t n = strlen(tag);

	if (h == NULL)
		return false;
	if (strcmp(h, "*") == 0)
		return true;
	for (const char *p = strstr(h, tag); p != NULL; p = strstr(p + 1, tag))
		if ((p == h || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/') &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
	return false;
}
