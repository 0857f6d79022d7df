/*
 * cookie.h - what a browser holds for the desk: the session cookie and
 * the CSRF token (DESIGN §6).  The sessions themselves, kept in the
 * store, are sess.c's; this is only their web side: making and comparing
 * tokens, writing and clearing the cookies, finding the token a request
 * sent.  docs/security.md explains the choices.
 */
#ifndef SUP_COOKIE_H
#define SUP_COOKIE_H

#include <stdbool.h>

#include "conf.h"
#include "req.h"
#include "sup.h"

#define CSRF_TOKEN_STRLEN 64	/* 32 random bytes in hex */

/* A new random CSRF token (hex) into out. */
void cookie_new_token(char out[CSRF_TOKEN_STRLEN + 1]);

/* Is s a well-formed CSRF token (64 hex digits)? */
bool cookie_token_valid(const char *s);

/*
 * Compare two CSRF tokens in constant time (sodium_memcmp).  False when
 * either is NULL or not well-formed.
 */
bool cookie_token_equal(const char *sent, const char *expected);

/* The CSRF token the request sent: X-CSRFToken, else the form field. */
const char *cookie_sent_token(const struct sup_req *r);

/*
 * Add the Set-Cookie lines for a session to r: "sessionid" (HttpOnly) when
 * id is not NULL, and "csrftoken" (readable by scripts) with csrf.  Both
 * SameSite=Lax, Path the url_prefix (or /), Secure under HTTPS.
 * SUP_EINVAL when the attributes do not fit (a cookie is never sent
 * without its Secure attribute); SUP_ENOMEM.
 */
sup_err cookie_set(struct sup_req *r, const struct sup_conf *conf,
    const char *id, const char *csrf);

/* Add a Set-Cookie line that removes the session cookie. */
sup_err cookie_clear(struct sup_req *r, const struct sup_conf *conf);

#endif
