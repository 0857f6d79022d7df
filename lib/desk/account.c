/*
 * account.c - an administrator's changes to an account (account.h).
 */
#include "account.h"
#include "sess.h"
#include "user.h"

sup_err
account_set_active(struct store *s, uint32_t actor, uint32_t id,
    bool active, long *ended)
{
	sup_err e;

	if (ended != NULL)
		*ended = 0;
	if (!active) {
		if ((e = user_set_active(s, actor, id, false)) != SUP_OK)
			return e;
		return sess_end_user(s, id, NULL, ended);
	}
	/*
	 * A missing account is found by user_set_active; its sessions (none)
	 * are ended first all the same: sess_end_user of nobody is nothing.
	 */
	if ((e = sess_end_user(s, id, NULL, ended)) != SUP_OK)
		return e;
	return user_set_active(s, actor, id, true);
}

sup_err
account_set_password(struct store *s, uint32_t actor, uint32_t id,
    const char *password, const uint8_t *keep, long *ended)
{
	sup_err e;

	if (ended != NULL)
		*ended = 0;
	if ((e = user_set_password(s, actor, id, password)) != SUP_OK)
		return e;
	return sess_end_user(s, id, keep, ended);
}
