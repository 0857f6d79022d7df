/*
 * req.h - one request, parsed once: method, path, query, cookies, headers,
 * and the body (size-capped before it is read).  Everything a request
 * allocates hangs off struct sup_req and is released by req_free().
 */
#ifndef SUP_REQ_H
#define SUP_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "caller.h"
#include "sup.h"
#include "util.h"

/*
 * How the program reads the body and writes the response.  read returns
 * the bytes read, 0 at the end of the input, SUP_IO_TIMEOUT when it gave up
 * waiting for them (body_timeout_s), another negative number on an error.
 */
#define SUP_IO_TIMEOUT (-2)

struct sup_io {
	int (*read)(void *ctx, char *buf, int n);	/* bytes, or <0: above */
	int (*write)(void *ctx, const char *buf, int n);/* n, or <0 error */
	void *ctx;
};

struct mp_upload;

struct kv {
	char *key;
	char *val;
};

#define REQ_MAX_UUIDS 2

struct sup_req {
	char **envp;
	struct sup_io io;

	/* Parsed by req_parse. */
	const char *method;		/* points into envp */
	char *path;			/* owned: the path routed on */
	struct kv *query;		/* owned: decoded pairs in order */
	size_t nquery;
	struct kv *cookies;		/* owned: from HTTP_COOKIE */
	size_t ncookies;
	char *body;			/* owned, NUL-terminated */
	size_t body_len;
	json_object *json;		/* owned: the body, once parsed (a
					 * urlencoded form becomes an object
					 * of strings) */
	bool form;			/* the body was a urlencoded form */
	char *form_csrf;		/* owned: its csrfmiddlewaretoken */
	struct mp_upload *upload;	/* owned: a multipart body's files
					 * (multipart.h), or NULL */

	/* Filled by the router and the authenticator. */
	uint8_t uuid[REQ_MAX_UUIDS][UUID_LEN];
	int nuuid;
	uint32_t id;			/* the "{id}" of the path, if any */
	struct sup_user user;		/* user.rec NULL when anonymous */
	bool by_cookie;			/* user is the session cookie's */
	uint8_t sess_key[32];		/* by_cookie: the session's key */
	char csrf[65];			/* by_cookie: the session's token */

	/* The reply a handler builds. */
	int status;
	json_object *reply;		/* owned */
	char *location;			/* owned: Location header */
	char etag[80];			/* ETag header when set */
	char allow[64];			/* Allow header for 405 */
	json_object *err_fields;	/* owned: {"field": "why"} */
	char err_msg[256];		/* overrides the error's sentence */
	json_object *err_extra;		/* owned: members added beside
					 * "error" in the envelope */
	struct sbuf headers;		/* owned: extra header lines
					 * ("Set-Cookie: ...\r\n") */
	long retry_after;		/* Retry-After header when > 0 */
	bool sent;			/* the response has been written */
};

/*
 * Parse envp into r.  Which path is routed: PATH_INFO when the server gives
 * one, else the path of REQUEST_URI, else SCRIPT_NAME; url_prefix (may be
 * empty) is removed from its front.  SUP_ENOMEM or SUP_EINVAL (bad %-escapes
 * in the query).  Call req_free() in every case.
 */
sup_err req_parse(struct sup_req *r, char **envp, struct sup_io io,
    const char *url_prefix);
void req_free(struct sup_req *r);

/* A CGI variable, or NULL. */
const char *req_env(const struct sup_req *r, const char *name);

/* The first value of a query parameter, or NULL. */
const char *req_query(const struct sup_req *r, const char *name);

/* The value of a cookie, or NULL. */
const char *req_cookie(const struct sup_req *r, const char *name);

/*
 * Check the announced CONTENT_LENGTH without reading anything: SUP_ETOOLARGE
 * when over cap, SUP_EIO when it is not a number.  *len gets it (0 if none).
 */
sup_err req_body_length(const struct sup_req *r, long cap, long *len);

/*
 * Read the body.  SUP_ETOOLARGE, without reading it, when CONTENT_LENGTH is
 * over cap; SUP_EIO when the client sent less than it announced;
 * SUP_ETIMEOUT when the read gave up waiting for the rest.  A chunked
 * body with no CONTENT_LENGTH (plain CGI under Apache) is read to the end
 * of the input, SUP_ETOOLARGE once past cap.
 */
sup_err req_read_body(struct sup_req *r, long cap);

/*
 * Parse the body read as a JSON object into r->json.  SUP_EMEDIA for a
 * Content-Type other than application/json; SUP_EJSON for bad JSON.
 */
sup_err req_parse_json(struct sup_req *r);

/*
 * Parse the body read: application/json as req_parse_json does, or
 * application/x-www-form-urlencoded into r->json as an object of strings
 * (r->form set; the csrfmiddlewaretoken field goes to r->form_csrf instead).
 * SUP_EMEDIA for other types; SUP_EINVAL for a bad escape or a field given
 * twice (named in r->err_fields).
 */
sup_err req_parse_body(struct sup_req *r);

/* Is the body announced as application/x-www-form-urlencoded? */
bool req_body_is_form(const struct sup_req *r);

/* Add a response header line ("Name: value", without CRLF). */
sup_err req_add_header(struct sup_req *r, const char *fmt, ...)
    SUP_PRINTF(2, 3);

/* Forget the reply and error details, to serve the request again. */
void req_reset_reply(struct sup_req *r);

/* Set an error detail for a field (the first one per field wins). */
sup_err req_field_error(struct sup_req *r, const char *field, const char *why);

/*
 * The URL path of this request with its query, page set to page (the
 * prefix the server strips is put back).  New string (free()), or NULL.
 */
char *req_page_url(const struct sup_req *r, const char *url_prefix, long page);

/*
 * The same with the query parameter name set to value (a cursor's
 * place: the audit log's "before").  New string (free()), or NULL.
 */
char *req_query_url(const struct sup_req *r, const char *url_prefix,
    const char *name, const char *value);

#endif
