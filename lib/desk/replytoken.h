/*
 * replytoken.h - the signed reply address of a ticket's mails
 * (docs/mailin.md): a mail the desk sends to a recipient about a ticket
 * has a Reply-To of local+TOKEN@domain (from support_email), and a reply
 * to it becomes a message on that ticket from that recipient
 * (support-mailin) while the token lasts.
 *
 *   token = base32 (RFC 4648 alphabet, lower case, no padding) of 20 bytes:
 *     ticket number (4, big-endian) | recipient user id (4) |
 *     expiry day (2: days since 1970-01-01 UTC) |
 *     the first 10 bytes of HMAC-SHA256(key, "support-reply-v1" || the 10
 *     bytes before)
 *   key = HMAC-SHA256(secret, "reply-token"), secret the contents of the
 *     file named by support.conf's secret_file (at least 32 bytes).
 *
 * A token carries no secret and no state: it may be used again and again
 * until its day has passed (a reply from a second device, a mail sent
 * twice); what is posted is checked as any post of that user is.
 */
#ifndef SUP_REPLYTOKEN_H
#define SUP_REPLYTOKEN_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "sup.h"

#define REPLY_TOKEN_BYTES 20
#define REPLY_TOKEN_STRLEN 32		/* base32 of 20 bytes: no padding */
#define REPLY_KEY_LEN 32
#define REPLY_SECRET_MIN 32		/* bytes of secret_file, at least */
#define REPLY_SECRET_MAX 4096		/* bytes of secret_file read, at most */

/*
 * The token for ticket_number and user_id that lasts through the day
 * expires_day (days since 1970-01-01 UTC) into out, NUL-terminated.
 * SUP_EINVAL when expires_day is not in 0..65535 (out is then "").
 */
sup_err reply_token_make(const uint8_t key[REPLY_KEY_LEN],
    uint32_t ticket_number, uint32_t user_id, int64_t expires_day,
    char out[REPLY_TOKEN_STRLEN + 1]);

/*
 * Check token[0..len) on day today: SUP_OK with *ticket_number and
 * *user_id; SUP_EINVAL when it is not REPLY_TOKEN_STRLEN characters of
 * the lower-case alphabet (an upper-case token is refused: the desk
 * writes them in lower case and a token has one spelling); SUP_EUNAUTH
 * when its MAC is not the key's (forged, changed, another desk's: the
 * comparison takes the same time wherever it differs); SUP_EFORBIDDEN
 * when genuine but its day is before today.  The outputs are set only
 * on SUP_OK.
 */
sup_err reply_token_check(const uint8_t key[REPLY_KEY_LEN], const char *token,
    size_t len, int64_t today, uint32_t *ticket_number, uint32_t *user_id);

/*
 * The key from conf->secret_file into key.  SUP_ECONFIG when secret_file
 * is not set, cannot be read, or holds fewer than REPLY_SECRET_MIN bytes
 * (only the first REPLY_SECRET_MAX are used); the secret is wiped from
 * memory once the key is made.
 */
sup_err reply_key_load(const struct sup_conf *conf, uint8_t key[REPLY_KEY_LEN]);

/*
 * The key of another use of the same token layout, HMAC-SHA256(secret,
 * context), as reply_key_load makes the reply token's (context
 * "reply-token"): a token made with one key is forged for every other
 * (the rating link's, ratelink.h, is "rating-token").  The same errors.
 */
sup_err token_key_load(const struct sup_conf *conf, const char *context,
    uint8_t key[REPLY_KEY_LEN]);

/* The day (days since 1970-01-01 UTC) of now_us (µs since the epoch). */
int64_t reply_day(int64_t now_us);

/*
 * The reply address local+token@domain of support_email (local@domain)
 * into a new string (free()): SUP_EINVAL when support_email is not one
 * address with a local part and a domain; SUP_ENOMEM.
 */
sup_err reply_address(const char *support_email, const char *token,
    char **out);

/*
 * Find the token of a reply address: the text after the last '+' of
 * addr's local part (addr is local+token@domain or local+token; a
 * surrounding <> is allowed), as *token and *len (pointing into addr).
 * False when the local part has no '+' or nothing after it.  Only finds:
 * reply_token_check says whether it is one.
 */
bool reply_token_find(const char *addr, const char **token, size_t *len);

#endif
