/*
 * mailin.h - what support-mailin needs of the store (docs/mailin.md): the
 * mails taken from each sender in the current hour, a ticket found by its
 * number, the account a mail is from.
 *
 * Keys:
 *   mail_senders     hour(8) sender (lower case)          -> int64(8)
 *                    (the mails of that sender in that hour, since the
 *                    epoch, UTC; the hours before the current one are
 *                    swept away by the next mail, a few at a time)
 */
#ifndef SUP_MAILIN_H
#define SUP_MAILIN_H

#include <stdbool.h>
#include <stdint.h>

#include "caller.h"
#include "conf.h"
#include "store.h"
#include "util.h"

#define MAILIN_SWEEP 32		/* old hours' entries removed per mail */

/*
 * Count one mail from sender (an address; compared in lower case) at
 * now_us and say whether it is over max in its hour: *over.  Entries of
 * earlier hours are removed, MAILIN_SWEEP at most, in the same
 * transaction.  SUP_EINVAL for an empty or overlong sender (over
 * EMAIL_MAX bytes); store errors (SUP_EBUSY: the MTA should retry).
 */
sup_err mailin_rate_take(struct store *s, const char *sender, int64_t now_us,
    long max, bool *over);

/*
 * Remove the counts of sender (an address; either case) of every hour:
 * an erasure (lib/desk/privacy.c).  *removed (may be NULL) gets how many
 * entries went.  SUP_EINVAL for an empty or overlong sender; the store's
 * errors.
 */
sup_err mailin_sender_forget(struct store *s, const char *sender,
    long *removed);

/* The uuid of ticket number; SUP_ENOTFOUND. */
sup_err mailin_ticket_uuid(struct store *s, uint32_t number,
    uint8_t uuid[UUID_LEN]);

/*
 * The account of e-mail address email into u (user_clear it): only an
 * account whose own e-mail is that address (either case), never one whose
 * username merely looks like it.  With create, an address no account has
 * gets a customer account (no password; its username the address, any
 * character a username cannot hold made '_') whose user.created event
 * is the desk's; SUP_EEXIST when another account has the address or that
 * name as its username.  SUP_ENOTFOUND when there is none (and not
 * create); SUP_EINVAL for an address user_email_valid refuses.
 */
sup_err mailin_user(struct store *s, const char *email, const char *name,
    bool create, struct sup_user *u);

extern const struct store_area mailin_area;

#endif
