/*
 * auth.c - authenticate a request.
 */
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"
#include "sess.h"
#include "user.h"

/*
 * "Basic base64(name:password)": the user when the password matches.  It
 * is a login like the form's, throttled alike (SESS_ETHROTTLE with
 * r->retry_after set).
 */
static sup_err
auth_basic(struct store *s, const struct sup_conf *conf, struct sup_req *r,
    const char *b64, json_object **rec)
{
	unsigned char buf[USERNAME_MAX + EMAIL_MAX + PASSWORD_MAX + 2];
	size_t len;
	char *colon;
	sup_err e;

	*rec = NULL;
	if (sodium_base642bin(buf, sizeof(buf) - 1, b64, strlen(b64), " ",
	    &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return SUP_EUNAUTH;
	buf[len] = '\0';
	if ((colon = memchr(buf, ':', len)) == NULL)
		return SUP_EUNAUTH;
	*colon = '\0';
	e = sess_login(s, conf, (const char *)buf, colon + 1,
	    len - (size_t)(colon + 1 - (char *)buf), req_env(r, "REMOTE_ADDR"),
	    time_now_us(), &r->retry_after, rec);
	sodium_memzero(buf, sizeof(buf));
	return e == SESS_ECREDS ? SUP_EUNAUTH : e;
}

/*
 * The account of the server-set REMOTE_USER, made on first sight (role
 * user, no password, no e-mail).  A name our usernames cannot hold, or an
 * inactive account, is SUP_EUNAUTH.  Only usernames match: an e-mail
 * address typed at sign-up is not verified, so a REMOTE_USER like
 * "carol@corp" must not land in the account of whoever typed it.
 */
static sup_err
auth_remote(struct store *s, const char *name, json_object **rec)
{
	sup_err e = user_find_name(s, NULL, name, rec);

	if (e == SUP_ENOTFOUND) {
		if (!user_name_valid(name))
			return SUP_EUNAUTH;
		e = user_create(s, name, "", NULL, ROLE_USER, NULL, NULL);
		/* Another process may have made it meanwhile. */
		if (e != SUP_OK && e != SUP_EEXIST)
			return e;
		e = user_find_name(s, NULL, name, rec);
	}
	if (e == SUP_ENOTFOUND)
		return SUP_EUNAUTH;
	if (e == SUP_OK && !user_is_active(*rec)) {
		json_object_put(*rec);
		*rec = NULL;
		return SUP_EUNAUTH;
	}
	return e;
}

/*
 * The user of a valid session cookie; anonymous (SUP_OK, *rec NULL) when
 * the session is unknown, expired, or its account is gone or inactive.
 */
static sup_err
auth_cookie(struct store *s, const struct sup_conf *conf, struct sup_req *r,
    const char *id, json_object **rec)
{
	struct sess_info info;
	sup_err e;

	*rec = NULL;
	e = sess_lookup(s, conf, id, time_now_us(), &info, r->sess_key);
	if (e == SUP_ENOTFOUND)
		return SUP_OK;
	if (e != SUP_OK)
		return e;
	e = user_get(s, NULL, info.user, rec);
	if (e == SUP_ENOTFOUND)
		return SUP_OK;
	if (e != SUP_OK)
		return e;
	if (!user_is_active(*rec)) {
		json_object_put(*rec);
		*rec = NULL;
		return SUP_OK;
	}
	r->by_cookie = true;
	memcpy(r->csrf, info.csrf, sizeof(r->csrf));
	return SUP_OK;
}

sup_err
auth_request(struct store *s, const struct sup_conf *conf, struct sup_req *r)
{
	const char *h = req_env(r, "HTTP_AUTHORIZATION"), *remote, *cookie;
	json_object *rec = NULL;
	sup_err e;

	r->by_cookie = false;
	r->csrf[0] = '\0';
	if (h != NULL) {
		if (strncasecmp(h, "Basic ", 6) == 0)
			e = auth_basic(s, conf, r, h + 6 + strspn(h + 6, " "),
			    &rec);
		else if (strncasecmp(h, "Bearer ", 7) == 0) {
			h += 7 + strspn(h + 7, " ");
			e = token_lookup(s, NULL, h, strlen(h), &rec);
		} else
			e = SUP_EUNAUTH;
	} else if (conf->trust_remote_user &&
	    (remote = req_env(r, "REMOTE_USER")) != NULL && *remote != '\0')
		e = auth_remote(s, remote, &rec);
	else if ((cookie = req_cookie(r, "sessionid")) != NULL &&
	    *cookie != '\0') {
		if ((e = auth_cookie(s, conf, r, cookie, &rec)) != SUP_OK ||
		    rec == NULL)
			return e;
	} else
		return SUP_OK;
	if (e != SUP_OK)
		return e;
	return user_from_record(&r->user, rec);
}
