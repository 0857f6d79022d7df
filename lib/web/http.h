/*
 * http.h - write a response: status, the headers every response carries,
 * and a JSON body through json-c.
 */
#ifndef SUP_HTTP_H
#define SUP_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "req.h"
#include "sup.h"

/* The reason phrase of a status code ("" when unknown). */
const char *http_reason(int status);

/*
 * Send status with body as JSON (body may be NULL for an empty response),
 * adding r->location, r->etag and r->allow when set.  Marks r as sent.
 */
sup_err http_send_json(struct sup_req *r, int status, json_object *body);

/*
 * Send the JSON error envelope {"error": {"code", "message", "fields"?}}
 * for e with the given status; r->err_msg and r->err_fields refine it,
 * and each member of r->err_extra (an object, may be NULL) is added at
 * the top level beside "error" (a held reply's "messages"); a member
 * named "error" is not.
 */
sup_err http_send_error(struct sup_req *r, int status, sup_err e);

/*
 * Send the status line and headers of a response whose body the caller
 * writes next (http_write): the security headers with csp as the
 * Content-Security-Policy, Content-Type ctype (NULL: none), and r's
 * Location, Allow, Retry-After and extra header lines.  No length: the
 * body is streamed.  Marks r as sent.  SUP_ENOMEM when the headers do not
 * fit, SUP_EIO when they cannot be written.
 */
sup_err http_send_head(struct sup_req *r, int status, const char *ctype,
    const char *csp);

/*
 * A whole response: http_send_head's headers with Content-Length len, then
 * body (nothing of it for HEAD).
 */
sup_err http_send_body(struct sup_req *r, int status, const char *ctype,
    const char *csp, const char *body, size_t len);

/*
 * The single byte range of a Range header h for a body of size bytes:
 * "bytes=a-b", "bytes=a-" or "bytes=-n" (RFC 9110 §14.1.2).  1 with *from
 * and *to (its last byte) set; 0 when the header is to be ignored (not
 * bytes, or several ranges: the whole body is sent, as RFC 9110 allows);
 * -1 when it cannot be satisfied (416).
 */
int http_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to);

/*
 * Does an If-None-Match or If-Range header h name the entity tag tag
 * (with its quotes), or is it "*"?  False when h is NULL.
 */
bool http_tag_in(const char *h, const char *tag);

/* Write len bytes of body; SUP_EIO when the client cannot take them. */
sup_err http_write(struct sup_req *r, const char *buf, size_t len);

#endif
