/*
 * auth.c - authenticate a request.
 */
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"

/* "Basic base64(name:password)": the user when the password matches. */
static sup_err
auth_basic(struct store *s, const char *b64, json_object **rec)
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
	e = user_find(s, NULL, (const char *)buf, rec);
	if (e == SUP_ENOTFOUND)
		e = SUP_EUNAUTH;
	if (e == SUP_OK && !user_check_password(*rec, colon + 1,
	    len - (size_t)(colon + 1 - (char *)buf)))
		e = SUP_EUNAUTH;
	sodium_memzero(buf, sizeof(buf));
	if (e != SUP_OK) {
		json_object_put(*rec);
		*rec = NULL;
	}
	return e;
}

sup_err
auth_request(struct store *s, const struct sup_conf *conf, struct sup_req *r)
{
	const char *h = req_env(r, "HTTP_AUTHORIZATION"), *remote;
	json_object *rec = NULL;
	sup_err e;

	if (h != NULL) {
		if (strncasecmp(h, "Basic ", 6) == 0)
			e = auth_basic(s, h + 6 + strspn(h + 6, " "), &rec);
		else if (strncasecmp(h, "Bearer ", 7) == 0) {
			h += 7 + strspn(h + 7, " ");
			e = token_lookup(s, NULL, h, strlen(h), &rec);
		} else
			e = SUP_EUNAUTH;
	} else if (conf->trust_remote_user &&
	    (remote = req_env(r, "REMOTE_USER")) != NULL && *remote != '\0') {
		e = user_find(s, NULL, remote, &rec);
		if (e == SUP_ENOTFOUND)
			e = SUP_EUNAUTH;
		else if (e == SUP_OK && !user_is_active(rec)) {
			json_object_put(rec);
			e = SUP_EUNAUTH;
		}
	} else
		return SUP_OK;
	if (e != SUP_OK)
		return e;
	return user_from_record(&r->user, rec);
}
