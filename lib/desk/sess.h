/*
 * sess.h - browser sessions (DESIGN §6) as the store keeps them, and login
 * throttling.  Their cookies and the CSRF token are cookie.h's.  docs/security.md explains the choices.
 *
 * A session id is 32 random bytes, sent as the "sessionid" cookie in
 * base64url; the store keeps only the SHA-256 of the bytes.  The record:
 * {"user", "created_at", "last_seen_at", "csrf", "addr", "agent"}.
 */
#ifndef SUP_SESS_H
#define SUP_SESS_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "cookie.h"
#include "req.h"
#include "store.h"
#include "sup.h"

/* The sessions' own errors (sup.h): a login refused. */
#define SESS_ETHROTTLE ((sup_err)SUP_ERR_AREA(SUP_AREA_SESSIONS, 1))
#define SESS_ECREDS ((sup_err)SUP_ERR_AREA(SUP_AREA_SESSIONS, 2))

#define SESS_ID_BYTES 32
#define SESS_ID_STRLEN 43	/* base64url of 32 bytes, no padding */
#define SESS_HASH_LEN 32	/* SHA-256: what the store keys on */
#define SESS_AGENT_MAX 200	/* bytes of User-Agent kept */
#define SESS_ADDR_MAX 64

/* A session as stored. */
struct sess_info {
	uint32_t user;
	int64_t created_us;
	int64_t seen_us;
	char csrf[CSRF_TOKEN_STRLEN + 1];
};

/*
 * Start a session for user.  addr and agent (either may be NULL) are kept
 * for the user's information, capped.  id gets the cookie value, csrf the
 * session's token, hash the stored key (any of the three may be NULL).
 */
sup_err sess_create(struct store *s, uint32_t user, const char *addr,
    const char *agent, char id[SESS_ID_STRLEN + 1],
    char csrf[CSRF_TOKEN_STRLEN + 1], uint8_t hash[SESS_HASH_LEN]);

/*
 * The session of cookie value id at time now_us.  SUP_ENOTFOUND when the
 * value is malformed, unknown, or the session has expired (idle longer than
 * conf->session_idle_s or older than session_max_s; it is deleted then).
 * last_seen_at is written at most once a minute (sooner when the idle
 * limit is under two minutes: every idle/2).  hash gets the stored key.
 */
sup_err sess_lookup(struct store *s, const struct sup_conf *conf,
    const char *id, int64_t now_us, struct sess_info *info,
    uint8_t hash[SESS_HASH_LEN]);

/* End one session (nothing to do is not an error). */
sup_err sess_delete(struct store *s, const uint8_t hash[SESS_HASH_LEN]);

/*
 * End every session of user but keep (NULL: all of them).  *ended (may be
 * NULL) gets how many.
 */
sup_err sess_end_user(struct store *s, uint32_t user,
    const uint8_t *keep, long *ended);

/*
 * sess_end_user as an administrator's act of its own (revoke every
 * session of an account), by actor: when any ended, a sessions.revoked
 * event (user; data: count) in the same transaction.  The sessions a
 * change of password or a switch-off ends are part of that change's
 * event, and logged by it.
 */
sup_err sess_revoke_user(struct store *s, uint32_t actor, uint32_t user,
    const uint8_t *keep, long *ended);

/*
 * Delete the sessions expired at now_us and the throttle records whose
 * window has passed.  *removed (may be NULL) gets how many records went.
 * Works in batches of small transactions, so a server may run beside it.
 */
sup_err sess_purge(struct store *s, const struct sup_conf *conf,
    int64_t now_us, long *removed);

/*
 * Log the request's browser into a new session of user: the session the
 * request came with (r->by_cookie) ends, a new one starts, and its cookies
 * are added to r.  A new id at every login.
 */
sup_err sess_begin(struct store *s, const struct sup_conf *conf,
    struct sup_req *r, uint32_t user);

/*
 * Log in with name (username or e-mail) and password, from client address
 * addr.  Throttling first: SESS_ETHROTTLE with *retry_after (seconds) when
 * the account or the address has too many recent failures (the password
 * is then not checked).  Otherwise the attempt is counted as a failure
 * against both in the transaction that read their counts, before the
 * password is checked: the limits hold exactly however many logins run at
 * once, in any process.  SESS_ECREDS for an unknown name, a wrong password,
 * an inactive account or one without a password, alike, each after one
 * argon2id verification.  On success *user_rec is the user's record
 * (json_object_put), the account's count is cleared and the address's
 * loses the attempt; no session is made here.
 */
sup_err sess_login(struct store *s, const struct sup_conf *conf,
    const char *name, const char *password, size_t plen, const char *addr,
    int64_t now_us, long *retry_after, json_object **user_rec);

/*
 * For a user's data export (lib/desk/privacy.c): the metadata of user's
 * sessions appended to array, each {"created_at", "last_seen_at", "addr",
 * "agent"}: never the session's id, its hash or its CSRF token.
 */
sup_err sess_user_list(struct store *s, uint32_t user, json_object *array);

/*
 * For an erasure: delete the login throttle records of the account
 * ('u' and user) and of the names a caller typed for it (names: a
 * NULL-ended list, e.g. its username and e-mail; 'n' and each
 * lowercased), in one transaction.
 */
sup_err sess_user_forget(struct store *s, uint32_t user,
    const char *const *names);

#endif
