/*
 * account.h - what an administrator does to an account, each with what
 * must go with it: a switch-off ends the account's sessions, a password
 * set by someone else ends them too.  The admin pages and API
 * (cgi-bin/users.c) and supportctl call these, so that the order of the
 * steps, and why, is written once.
 *
 * Revocation needs none of this to be immediate: every request reads the
 * account (a session's user, or a token's through its cache, which the
 * change's revocation generation empties: user.h), so a disabled account
 * is refused by its next request in every process.  The sessions are
 * ended so that switching the account on again brings none back.
 */
#ifndef SUP_ACCOUNT_H
#define SUP_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "sess.h"
#include "store.h"
#include "sup.h"

/*
 * Switch user id off (active false) or on, by actor (0: the desk
 * itself), with its event (user.disabled or user.enabled), and end every
 * session of the account; *ended (may be NULL) gets how many.  Off: the
 * account first (from that commit on no request of it is served and no
 * login can start a session), then its sessions.  On: its sessions
 * first, while no login can start one, then the account.  Should the
 * second step fail, the call fails and may be made again.  The errors of
 * user_set_active (USER_ELASTADMIN: user.h) and of the store.
 */
sup_err account_set_active(struct store *s, uint32_t actor, uint32_t id,
    bool active, long *ended);

/*
 * Set user id's password, by actor, and end the account's sessions but
 * keep (NULL: every one; the session of the user changing their own
 * password stays).  Its API tokens stay: they are revoked on their own
 * (token_revoke_user).  The errors of user_set_password and of the store;
 * *ended (may be NULL) gets how many sessions ended.
 */
sup_err account_set_password(struct store *s, uint32_t actor, uint32_t id,
    const char *password, const uint8_t *keep, long *ended);

#endif
