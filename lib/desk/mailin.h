/*
 * mailin.h - what support-mailin needs of the store (docs/mailin.md): the
 * mails taken from each sender in the current hour, the Message-IDs of
 * the mails taken (so that a mail delivered again is not posted twice),
 * a ticket found by its number, the account a mail is from.
 *
 * Keys:
 *   mail_senders     hour(8) sender (lower case)          -> int64(8)
 *                    (the mails of that sender in that hour, since the
 *                    epoch, UTC; the hours before the current one are
 *                    swept away by the next mail, a few at a time)
 *   mail_seen        seen key(32): mailin_seen_key        -> taken_us(8)
 *                    ticket(16) message(16) user(4)
 *                    (a mail taken: when, the ticket and the message it
 *                    made, the account whose address the key hashes;
 *                    no address, no Message-ID in the clear)
 *   mail_seen_by_time    taken_us(8) seen key(32)  -> seen key (associated)
 *   mail_seen_by_ticket  ticket(16) seen key(32)   -> seen key (associated)
 *   mail_seen_by_user    user(4) seen key(32)      -> seen key (associated)
 *                    (the order of expiry, and what a purge of a ticket
 *                    or an erasure of an account removes)
 */
#ifndef SUP_MAILIN_H
#define SUP_MAILIN_H

#include <stdbool.h>
#include <stdint.h>

#include "caller.h"
#include "conf.h"
#include "store.h"
#include "ticket.h"
#include "util.h"

#define MAILIN_SWEEP 32		/* old hours' entries removed per mail */
#define MAILIN_SEEN_KEY_LEN 32	/* a SHA-256 */
#define MAILIN_SEEN_TTL_S (30 * 86400LL) /* a Message-ID is kept this long */
#define MAILIN_SEEN_TRIM 16	/* expired Message-IDs removed per mail */

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

/*
 * The key under which a mail with Message-ID message_id (as the parse
 * gives it: without <>; surrounding <>, spaces and the case of the part
 * after the last '@' do not count) from address from (either case) is
 * kept: the SHA-256 of a version tag, the scope and the two.  The scope
 * is the ticket number for a reply to a reply address of that ticket, 0
 * for a new mail: the same Message-ID from another sender, or to another
 * ticket, is another mail (docs/mailin.md, "Mail delivered twice": a
 * forger who copies someone's Message-ID cannot suppress their mail
 * without also sending as them, to the same ticket).  False, and key
 * untouched, when message_id is NULL or empty once normalised: such a
 * mail is never found again (it is taken every time it comes).
 */
bool mailin_seen_key(const char *from, const char *message_id,
    uint32_t ticket_number, uint8_t key[MAILIN_SEEN_KEY_LEN]);

/*
 * Has the mail of key been taken, no more than MAILIN_SEEN_TTL_S before
 * now_us?  SUP_OK with message (may be NULL) the uuid of the message it
 * made; SUP_ENOTFOUND; the store's errors.  In txn, or in a read
 * transaction of its own when txn is NULL.
 */
sup_err mailin_seen_get(struct store *s, DB_TXN *txn,
    const uint8_t key[MAILIN_SEEN_KEY_LEN], int64_t now_us,
    uint8_t message[UUID_LEN]);

/*
 * What mailin_reply and mailin_new_ticket take and answer.  key NULL: the
 * mail has no Message-ID; nothing is kept or looked for.
 */
struct mailin_take {
	const uint8_t *key;		/* mailin_seen_key's, or NULL */
	uint32_t key_user;		/* the account whose address it holds */
	int64_t now_us;			/* the desk's clock */
	bool duplicate;			/* out: taken before, nothing written */
	uint8_t message[UUID_LEN];	/* out: posted (or posted before) */
	uint8_t ticket[UUID_LEN];	/* out: its ticket */
};

/*
 * Post a reply by mail: content[0..len) and files (may be NULL) as u on
 * ticket (msg_post_channel_in, channel email), and keep t->key with it, in one transaction, which
 * also removes up to MAILIN_SEEN_TRIM expired keys.  When t->key was
 * taken within MAILIN_SEEN_TTL_S, nothing is written: t->duplicate, and
 * t->message the earlier message.  msg_post's errors; the store's.  Files
 * put in place by a post that was not committed are collected.
 */
sup_err mailin_reply(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    const struct att_batch *files, struct mailin_take *t);

/*
 * Open a ticket of a new mail: ticket_create_in for u with in, and keep
 * t->key with it, in one transaction, as mailin_reply does (in->files
 * too).
 * ticket_create's errors; the store's.
 */
sup_err mailin_new_ticket(struct store *s, const struct sup_conf *conf,
    const struct sup_user *u, struct ticket_new *in, struct mailin_take *t);

/*
 * Remove the kept Message-IDs of ticket (a purge: lib/desk/retention.c),
 * in txn.  *removed (may be NULL) is added how many went.
 */
sup_err mailin_seen_forget_ticket(struct store *s, DB_TXN *txn,
    const uint8_t ticket[UUID_LEN], long *removed);

/*
 * Remove the kept Message-IDs whose key holds the address of account
 * user (an erasure: lib/desk/privacy.c), in batches of a transaction
 * each.  *removed (may be NULL) gets how many went.
 */
sup_err mailin_seen_forget_user(struct store *s, uint32_t user,
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
