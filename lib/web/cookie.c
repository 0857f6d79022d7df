/*
 * cookie.c - the session cookie and the CSRF token, as the browser sees
 * them (cookie.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cookie.h"

void
cookie_new_token(char out[CSRF_TOKEN_STRLEN + 1])
{
	uint8_t raw[CSRF_TOKEN_STRLEN / 2];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, CSRF_TOKEN_STRLEN + 1, raw, sizeof(raw));
}

bool
cookie_token_valid(const char *s)
{
	if (s == NULL || strlen(s) != CSRF_TOKEN_STRLEN)
		return false;
	for (size_t i = 0; i < CSRF_TOKEN_STRLEN; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool
cookie_token_equal(const char *sent, const char *expected)
{
	if (!cookie_token_valid(sent) || !cookie_token_valid(expected))
		return false;
	return sodium_memcmp(sent, expected, CSRF_TOKEN_STRLEN) == 0;
}

/*
 * "; Path=...; SameSite=Lax[; Secure]" for this request.  False when it
 * does not fit in buf (n bytes): a cookie is never sent without its
 * Secure attribute.
 */
static bool
cookie_attrs(const struct sup_req *r, const struct sup_conf *conf,
    char *buf, size_t n)
{
	const char *https = req_env(r, "HTTPS");
	const char *scheme = req_env(r, "REQUEST_SCHEME");
	bool secure = (https != NULL && (strcasecmp(https, "on") == 0 ||
	    strcmp(https, "1") == 0)) ||
	    (scheme != NULL && strcasecmp(scheme, "https") == 0);
	const char *prefix = conf->url_prefix ? conf->url_prefix : "";

	int len = snprintf(buf, n, "; Path=%s/; SameSite=Lax%s", prefix,
	    secure ? "; Secure" : "");

	return len >= 0 && (size_t)len < n;
}

sup_err
cookie_set(struct sup_req *r, const struct sup_conf *conf,
    const char *id, const char *csrf)
{
	char attrs[URL_PREFIX_MAX + 64];
	sup_err e = SUP_OK;

	if (!cookie_attrs(r, conf, attrs, sizeof(attrs)))
		return SUP_EINVAL;
	if (id != NULL)
		e = req_add_header(r, "Set-Cookie: sessionid=%s; Max-Age=%ld; "
		    "HttpOnly%s", id, conf->session_max_s, attrs);
	/* A year, as Django's CSRF_COOKIE_AGE. */
	if (e == SUP_OK && csrf != NULL)
		e = req_add_header(r, "Set-Cookie: csrftoken=%s; "
		    "Max-Age=31449600%s", csrf, attrs);
	return e;
}

sup_err
cookie_clear(struct sup_req *r, const struct sup_conf *conf)
{
	char attrs[URL_PREFIX_MAX + 64];

	if (!cookie_attrs(r, conf, attrs, sizeof(attrs)))
		return SUP_EINVAL;
	return req_add_header(r, "Set-Cookie: sessionid=; Max-Age=0; "
	    "HttpOnly%s", attrs);
}

const char *
cookie_sent_token(const struct sup_req *r)
{
	const char *h = req_env(r, "HTTP_X_CSRFTOKEN");

	return h != NULL ? h : r->form_csrf;
}
