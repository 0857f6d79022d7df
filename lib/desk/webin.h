/*
 * webin.h - the webhook in: another system opens a ticket for a customer
 * known by e-mail, with a signed call (POST /api/support/webhook/,
 * docs/api.md "Webhook").  This module checks the signature, keeps the
 * Idempotency-Key of each answer given, and makes the user, the ticket
 * and the key in one transaction.
 */
#ifndef SUP_WEBIN_H
#define SUP_WEBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "store.h"
#include "sup.h"
#include "util.h"

/* The webhook in's own errors (sup.h). */
#define WEBIN_EOFF ((sup_err)SUP_ERR_AREA(SUP_AREA_WEBIN, 1))
#define WEBIN_ESIGNATURE ((sup_err)SUP_ERR_AREA(SUP_AREA_WEBIN, 2))
#define WEBIN_ESTALE ((sup_err)SUP_ERR_AREA(SUP_AREA_WEBIN, 3))
#define WEBIN_EKEYREUSED ((sup_err)SUP_ERR_AREA(SUP_AREA_WEBIN, 4))
#define WEBIN_EINACTIVE ((sup_err)SUP_ERR_AREA(SUP_AREA_WEBIN, 5))

#define WEBIN_WINDOW_S 300	/* a timestamp this far from now, at most */
#define WEBIN_TS_MAX 12		/* digits of X-Support-Timestamp */
#define WEBIN_KEY_MAX 200	/* bytes of an Idempotency-Key */
#define WEBIN_KEY_TTL_S 86400	/* how long a key's answer is kept */
#define WEBIN_TRIM_BATCH 16	/* expired keys removed per call, at most */
#define WEBIN_SIG_STRLEN (7 + 2 * 32)	/* "sha256=" and 64 hex digits */

/*
 * The signature of a call made at Unix time ts with body[0..len), under
 * secret (slen bytes): "sha256=" and the lowercase hex of
 * HMAC-SHA256(secret, "<ts>.<body>"), into out.  What a sender does
 * (and the tests, and the fuzz target).
 */
void webin_sign(const char *secret, size_t slen, const char *ts,
    const char *body, size_t len, char out[WEBIN_SIG_STRLEN + 1]);

/*
 * Check a call: secret is support.conf's webhook_secret, ts and sig the
 * X-Support-Timestamp and X-Support-Signature headers (NULL: missing),
 * body[0..len) the raw body as received, now_s the desk's clock (Unix
 * seconds).  WEBIN_EOFF when secret is empty; WEBIN_ESIGNATURE when a
 * header is missing or malformed (ts: 1..WEBIN_TS_MAX digits; sig:
 * "sha256=" and 64 hex digits, either case) or the HMAC differs
 * (compared in constant time); then WEBIN_ESTALE when ts is more than
 * WEBIN_WINDOW_S seconds before or after now_s.  Only a sender that holds
 * the secret learns that its clock is off.
 */
sup_err webin_verify(const char *secret, const char *ts, const char *sig,
    const char *body, size_t len, int64_t now_s);

/* Is key an Idempotency-Key: 1..WEBIN_KEY_MAX printable ASCII bytes? */
bool webin_key_valid(const char *key);

/* A call, checked, as webin_receive takes it (strings NUL-terminated). */
struct webin_call {
	const char *email;
	const char *name;		/* display name of a new user; NULL */
	const char *subject;
	size_t subject_len;
	const char *message;
	size_t message_len;
	const char *key;		/* Idempotency-Key; NULL: none */
	const char *sig;		/* X-Support-Signature, verified */
	const char *body;		/* the raw body, which the key binds */
	size_t body_len;
};

/* What a call was answered. */
struct webin_answer {
	int status;			/* 201 */
	uint8_t ticket[UUID_LEN];	/* the ticket made (or made before) */
	bool replayed;			/* the key's earlier answer */
	bool made_user;			/* a new account was made */
};

/*
 * Take a call, in one transaction: with a key answered before (and not
 * expired) whose body was the same, that answer again (a->replayed) and
 * nothing else; the same key with another body, WEBIN_EKEYREUSED.
 * Without a key the signature c->sig (when given) is one, kept the same
 * way: the same signed call again (a replay) makes nothing either.
 * Otherwise the account of c->email is found or made (user_for_email),
 * its ticket opened through ticket_create_in (channel webhook: the same
 * limit, counters, assignment and ticket.created event as any ticket the
 * customer opens; TICKET_ELIMIT over max_tickets_per_user;
 * WEBIN_EINACTIVE when the account is switched off), and the key kept
 * with the answer for WEBIN_KEY_TTL_S.  Only an answer that made a ticket
 * is kept: a refusal changes nothing, so the same key may be sent again.
 * Each call also removes up to WEBIN_TRIM_BATCH expired keys.  now_us is
 * the desk's clock.
 */
sup_err webin_receive(struct store *s, const struct sup_conf *conf,
    const struct webin_call *c, int64_t now_us, struct webin_answer *a);

#endif
