/*
 * user.h - accounts, passwords (argon2id) and API tokens.
 *
 * A user record: {"id", "username", "email", "display_name", "role",
 * "password", "is_active", "created_at", "away"?, "notify"?}; "password" is
 * libsodium's argon2id string and never leaves lib/; "away" (absent: false)
 * is set by user_set_away, "notify" (absent: true) by user_set_notify.
 */
#ifndef SUP_USER_H
#define SUP_USER_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "caller.h"
#include "store.h"
#include "sup.h"

/* The accounts' own errors (sup.h). */
#define USER_EREGCLOSED ((sup_err)SUP_ERR_AREA(SUP_AREA_USERS, 1))
/* A change that would leave the desk without an active admin (409). */
#define USER_ELASTADMIN ((sup_err)SUP_ERR_AREA(SUP_AREA_USERS, 2))

#define USERNAME_MAX 150
#define EMAIL_MAX 254
#define PASSWORD_MAX 1024
#define PASSWORD_MIN 8		/* characters, for passwords set over HTTP */
#define TOKEN_NAME_MAX 100

/*
 * The argon2id cost of the password hashes this library makes (user.c)
 * and of the dummy check for a name with no account (sess.c): libsodium's
 * interactive limits (about 50 ms and 64 MB).  The fuzz build
 * (--enable-fuzzing defines SUPPORT_FUZZING) uses its minimum instead, so
 * that a fuzz target logs in thousands of times a second; it is never
 * installed.  A hash string carries its own cost, so checking one
 * (crypto_pwhash_str_verify) costs what making it did.  The names are
 * libsodium's: include <sodium.h> where these are used.
 */
#ifdef SUPPORT_FUZZING
#define USER_PWHASH_OPSLIMIT crypto_pwhash_OPSLIMIT_MIN
#define USER_PWHASH_MEMLIMIT crypto_pwhash_MEMLIMIT_MIN
#else
#define USER_PWHASH_OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define USER_PWHASH_MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE
#endif

int user_role_from(const char *name);		/* -1 when unknown */
const char *user_role_name(enum user_role role);

/* Check a username (Django's rules) / an e-mail address; false if bad. */
bool user_name_valid(const char *name);
bool user_email_valid(const char *email);

/*
 * Create a user.  SUP_EINVAL for a bad name, e-mail or empty password,
 * SUP_EEXIST when the name or e-mail is taken.  *id_out gets the new id.
 * password NULL makes an account nobody can log in to with a password
 * (one made for REMOTE_USER); only then may email be "".
 */
sup_err user_create(struct store *s, const char *username, const char *email,
    const char *display_name, enum user_role role, const char *password,
    uint32_t *id_out);

/*
 * user_create by actor (a user id: an admin's page or API; user_create
 * is the desk itself, 0), whom its user.created event names.  A role
 * out of range is SUP_EINVAL.
 */
sup_err user_create_by(struct store *s, uint32_t actor, const char *username,
    const char *email, const char *display_name, enum user_role role,
    const char *password, uint32_t *id_out);

/*
 * Why password is not acceptable for an account set over HTTP (8 to 1024,
 * not the username or the e-mail, either case), or NULL when it is fine.
 * A static sentence.
 */
const char *user_password_problem(const char *username, const char *email,
    const char *password);

/*
 * Changes made by actor (a user id; 0: the desk itself, supportctl) to
 * user id's account, each with its event (user.changed, user.disabled,
 * user.enabled; event.h): its password
 * (SUP_EINVAL when empty or over PASSWORD_MAX bytes; the account's
 * sessions are the caller's to end), whether it may log in at all, its
 * role.  SUP_ENOTFOUND when there is no such user.  Made by a user
 * (actor not 0), switching off an active admin or making them agent or
 * user is USER_ELASTADMIN when no other active admin would remain (read in
 * the change's transaction, so two admins demoting each other at once
 * cannot both succeed); supportctl (actor 0), the way back in for whoever
 * holds the store's files, is not held to it.  Each one also makes
 * every process drop what it has cached about the account's tokens, in
 * the same transaction (token_lookup): a change is seen by the next
 * request, whichever process serves it.
 */
sup_err user_set_password(struct store *s, uint32_t actor, uint32_t id,
    const char *password);
sup_err user_set_active(struct store *s, uint32_t actor, uint32_t id,
    bool active);
sup_err user_set_role(struct store *s, uint32_t actor, uint32_t id,
    enum user_role role);

/*
 * Mark user id away (or back), by actor, with its event (user.changed,
 * "away": [from, to]): an agent away is given no ticket (auto_assign).
 * SUP_ENOTFOUND when there is no such user.  Who may is the caller's
 * rule (staff for themselves, admins for anyone).
 */
sup_err user_set_away(struct store *s, uint32_t actor, uint32_t id,
    bool away);

/*
 * Turn user id's mail from the desk on or off (the notifications,
 * docs/mail.md), by actor, with its event (user.changed, "notify":
 * [from, to]).  SUP_ENOTFOUND.  Who may is the caller's rule (each user
 * for themselves).
 */
sup_err user_set_notify(struct store *s, uint32_t actor, uint32_t id,
    bool notify);

/* Does the account of rec take the desk's mail (true unless turned off)? */
bool user_wants_mail(json_object *rec);

/* Has the account of rec marked itself away? */
bool user_is_away(json_object *rec);

/*
 * The agents a ticket may be given to, in one read of the users' area
 * (staff.db): role agent or admin, active, not away, ids ascending, kept
 * in the transaction of every change to any of those.  *ids is new
 * (free(); NULL when *n is 0).
 */
sup_err user_available(struct store *s, DB_TXN *txn, uint32_t **ids,
    size_t *n);

/*
 * Every agent a ticket's page offers (its assignee select): role agent or
 * admin, active, away or not, ids ascending, in one read (agents.db), kept
 * as user_available's list is.  *ids is new (free(); NULL when *n is 0).
 */
sup_err user_agents(struct store *s, DB_TXN *txn, uint32_t **ids,
    size_t *n);

/*
 * The account whose e-mail is email (either case; never matched by
 * username), found or made in txn: a new one is a customer with no
 * password (nobody logs in to it with one), display_name (NULL or "":
 * its username), and a username made from the e-mail's local part, with a
 * number after it when another account has it; *made says which, and its
 * user.created event (actor 0, the desk) is in txn.  *out is the record
 * (json_object_put()).  SUP_EINVAL for a bad e-mail; SUP_EEXIST when an
 * account has this e-mail as its username (not its e-mail) or no free
 * username was found.  The caller checks display_name (USERNAME_MAX
 * characters) and whether a found account is active.
 */
sup_err user_for_email(struct store *s, DB_TXN *txn, const char *email,
    const char *display_name, json_object **out, bool *made);

/* The record of user id.  *out is new; json_object_put() it. */
sup_err user_get(struct store *s, DB_TXN *txn, uint32_t id, json_object **out);

/* The record of the user with this username or e-mail (either case). */
sup_err user_find(struct store *s, DB_TXN *txn, const char *name,
    json_object **out);

/*
 * The record of the user with this username (either case), never matched
 * by e-mail: for names a server vouches for (REMOTE_USER), since e-mail
 * addresses given at sign-up are not verified.
 */
sup_err user_find_name(struct store *s, DB_TXN *txn, const char *name,
    json_object **out);

/*
 * Fill u from a record, taking the reference; SUP_EDB if it is malformed.
 * user_clear (caller.h) releases it.
 */
sup_err user_from_record(struct sup_user *u, json_object *rec);

/* Is the account active (not switched off by an admin)? */
bool user_is_active(json_object *rec);

/*
 * True when password matches the argon2id hash of rec, an active account
 * with a password.  Every call makes exactly one verification of the same
 * cost, whether rec is NULL, inactive, without a password or matching: a
 * login's time does not tell which (docs/security.md).
 */
bool user_verify_password(json_object *rec, const char *password, size_t len);

/* The verifications this process has made: the tests count them. */
unsigned long user_verifications(void);

/*
 * The public User object of DESIGN §4; the e-mail only when with_email.
 * Returns a new object (json_object_put) or NULL when out of memory.
 */
json_object *user_public(json_object *rec, bool with_email);

/*
 * The public User object of id as JSON text, with the e-mail or without.
 * Kept per process for USER_CACHE_US: a changed display name shows within
 * that time.  (Authentication never uses this: it reads the record.)
 * now is the time (time_now_us) the caller's request reads as of: a page
 * of 20 messages asks for 40 users, and reading the clock once spares 39
 * clock_gettime calls.  *text stays valid until the next call.
 */
#define USER_CACHE_US 2000000
sup_err user_public_text(struct store *s, DB_TXN *txn, uint32_t id,
    bool with_email, int64_t now, const char **text, size_t *len);

/* Call fn for each user in id order; stops at the first error fn returns. */
sup_err user_each(struct store *s, sup_err (*fn)(void *ctx, json_object *rec),
    void *ctx);

/*
 * Create an API token for the user with this username or e-mail.  *token
 * is new (free()); only its SHA-256 is stored, so it is shown once.
 */
sup_err token_create(struct store *s, const char *username, const char *name,
    char **token);

/*
 * The user record the token belongs to; SUP_EUNAUTH when none (or the user
 * is switched off).  With txn NULL the answer may come from the process's
 * cache, but never one that a revocation, a switch-off or a change of role
 * committed since has made stale (a changed display name may show up to
 * USER_CACHE_US late); the record is then shared with the cache: read it,
 * never change it.  With txn NULL a lookup also notes when the token was
 * used (last_used_at, to the minute: one small write a minute at most).
 * json_object_put() the record either way.
 */
sup_err token_lookup(struct store *s, DB_TXN *txn, const char *token,
    size_t len, json_object **user_rec);

/*
 * A token is named by its id: the first TOKEN_ID_BYTES of its hash in
 * hex.  It tells nothing of the token (only a hash of it is stored), so
 * it may be shown and logged.
 */
#define TOKEN_ID_BYTES 6
#define TOKEN_ID_STRLEN (2 * TOKEN_ID_BYTES)

/*
 * The API tokens of user (0: of everyone), without their secret: a new
 * JSON array (json_object_put) of {"id", "user", "username", "name",
 * "created_at", "last_used_at"?}, oldest first; "username" is missing
 * for a token whose user is gone.
 */
sup_err token_list(struct store *s, uint32_t user, json_object **out);

/*
 * Revoke a token, given as itself (id, when not NULL, gets its id), or by
 * its id: the next request with it fails in every process.  SUP_ENOTFOUND
 * when there is no such token; for an id, SUP_EINVAL when it is not
 * TOKEN_ID_STRLEN hex digits and SUP_ECONFLICT when two tokens have it
 * (then revoke the token itself).
 */
sup_err token_revoke(struct store *s, const char *token, size_t len,
    char id[TOKEN_ID_STRLEN + 1]);
sup_err token_revoke_id(struct store *s, const char *id);

/*
 * Revoke every token of user, by actor, in one transaction: a
 * token.revoked event each, and the revocation generation bumped, so
 * that none works at its next request in any process.  *revoked (may be
 * NULL) gets how many; none is not an error.
 */
sup_err token_revoke_user(struct store *s, uint32_t actor, uint32_t user,
    long *revoked);

/*
 * Erase the account id's personal data (docs/data.md): its record becomes
 * a stub that keeps only its id, role and creation time, named
 * USER_ERASED_NAME_FMT with its id (a name no account can take: it has a
 * space), shown as USER_ERASED_DISPLAY, with no e-mail or password,
 * inactive and marked "erased", so that the tickets and messages that
 * name it still read; every token of it goes; its user.changed event says
 * only "erased" (by actor; 0 for the desk).  USER_ELASTADMIN when it is
 * the last active admin; SUP_ENOTFOUND.  *was (may be NULL) gets the
 * record as it was (new: json_object_put), for the caller's cleaning of
 * what other areas hold.  Erasing an erased account again changes
 * nothing but is no error.
 */
#define USER_ERASED_NAME_FMT "Deleted user %u"
#define USER_ERASED_DISPLAY "Deleted user"
sup_err user_erase(struct store *s, uint32_t actor, uint32_t id,
    json_object **was);

/* Is rec an erased account's stub? */
bool user_is_erased(json_object *rec);

#endif
