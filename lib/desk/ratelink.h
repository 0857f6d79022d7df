/*
 * ratelink.h - the signed rating link of the "ticket resolved" mail
 * (docs/reports.md "Satisfaction", docs/security.md): a link
 *
 *   BASE_URL/support/rate/?t=TOKEN&r=good|bad
 *
 * that lets the ticket's customer rate it without logging in.  TOKEN is
 * a reply token's layout (replytoken.h: the ticket's number, the
 * customer's id, an expiry day, a MAC) made with a key of its own,
 * HMAC-SHA256(secret, "rating-token"): a reply address's token is no
 * rating link, nor the other way round.  "r" is not signed: it only
 * preselects the choice on the page, which the customer may change.
 *
 * Opening the link records nothing (mail scanners follow links); the
 * page's form, posted with the token, rates once (stats_rate).
 */
#ifndef SUP_RATELINK_H
#define SUP_RATELINK_H

#include <stdint.h>

#include "caller.h"
#include "conf.h"
#include "replytoken.h"
#include "stats.h"
#include "store.h"
#include "util.h"

#define RATELINK_DAYS 30	/* a link lasts this many days after the mail */
#define RATELINK_PATH "/support/rate/"

/* What a valid link names. */
struct ratelink {
	struct sup_user user;		/* the customer (ratelink_clear) */
	uint8_t ticket[UUID_LEN];
	int64_t number;
	char *subject;			/* NUL-terminated; free() */
};

/* The rating link's key from secret_file (token_key_load). */
sup_err ratelink_key_load(const struct sup_conf *conf,
    uint8_t key[REPLY_KEY_LEN]);

/*
 * The link's token for ticket_number and user_id, lasting through the
 * day expires_day, into out (reply_token_make with the rating key).
 */
sup_err ratelink_make(const uint8_t key[REPLY_KEY_LEN],
    uint32_t ticket_number, uint32_t user_id, int64_t expires_day,
    char out[REPLY_TOKEN_STRLEN + 1]);

/*
 * Check token[0..len) at now_us and read what it names into rl
 * (ratelink_clear it, also after an error): the account, which must be
 * active, and the ticket, which must be that account's.  RATELINK_EBAD
 * for a token that is malformed, forged (another key's: a reply token),
 * or names an account or ticket that is gone, switched off or not its;
 * RATELINK_EOLD for a genuine one past its day; SUP_ENOMEM, the store's
 * errors.
 */
sup_err ratelink_open(struct store *s, const uint8_t key[REPLY_KEY_LEN],
    const char *token, size_t len, int64_t now_us, struct ratelink *rl);
void ratelink_clear(struct ratelink *rl);

#endif
