/*
 * webpost.h - posting one webhook delivery over HTTP (docs/webhooks.md,
 * "Sending"): libcurl, kept inside the .c file and out of cgi-bin.
 */
#ifndef SUP_WEBPOST_H
#define SUP_WEBPOST_H

#include <stddef.h>
#include <stdint.h>

#include "sup.h"
#include "util.h"

#define WEBPOST_CONNECT_S 10L		/* to connect, at most */
#define WEBPOST_TIMEOUT_S 30L		/* the whole call, at most */
#define WEBPOST_BODY_MAX (64L << 10)	/* bytes of an answer read */

/* What became of one call. */
enum webpost_result {
	WEBPOST_SENT,		/* a 2xx */
	WEBPOST_RETRY,		/* 408, 429, a 5xx, no connection, a
				   time-out: try again later */
	WEBPOST_REFUSED		/* any other answer (4xx, 3xx: redirects
				   are not followed): dead now */
};

struct webpost;

/*
 * A poster, which keeps its connections between calls (keep-alive).
 * *out is freed with webpost_close.  SUP_ENOMEM.
 */
sup_err webpost_open(struct webpost **out);
void webpost_close(struct webpost *p);

/*
 * POST body[0..len) to url as application/json with X-Support-Event:
 * event, X-Support-Delivery: the uuid id, X-Support-Timestamp: now_s and
 * X-Support-Signature: webin_sign's of "<now_s>.<body>" under
 * secret[0..slen).  *status gets the HTTP status (0: no answer); why
 * (whylen bytes) the status and a short reason when it was not sent.
 */
enum webpost_result webpost_send(struct webpost *p, const char *url,
    const char *secret, size_t slen, const char *event,
    const uint8_t id[UUID_LEN], int64_t now_s, const char *body, size_t len,
    long *status, char *why, size_t whylen);

#endif
