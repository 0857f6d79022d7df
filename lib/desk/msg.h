/*
 * msg.h - the messages of a ticket: the chat thread; the messages' area
 * of the store.
 *
 * Keys:
 *   messages         ticket(16) created_us(8) uuid(16)  -> message record
 *   m_by_uuid        uuid(16)                            (unique)
 */
#ifndef SUP_MSG_H
#define SUP_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "areas.h"
#include "store.h"
#include "user.h"
#include "util.h"

struct att_batch;		/* lib/desk/attach.h */

#define ETAG_MAX 80		/* the size of struct sup_req's etag */

/*
 * The area's errors.  MSG_ESTALE: a reply held because the thread moved
 * on after the message its writer last saw (409 stale_thread).
 * MSG_ESEEN: that message is not one of the ticket's the writer can see.
 */
#define MSG_ESTALE ((sup_err)SUP_ERR_AREA(SUP_AREA_MESSAGES, 1))
#define MSG_ESEEN ((sup_err)SUP_ERR_AREA(SUP_AREA_MESSAGES, 2))
#define MSG_KEY_LEN 40		/* ticket(16) created_us(8) uuid(16) */

/* The databases of the area. */
enum msg_db { MSG_DB_MESSAGES, MSG_DB_BY_UUID, MSG_NDB };

/* The messages (a thread is the range of its ticket's uuid). */
static inline DB *
msg_db(const struct store *s)
{
	return store_db(s, AREA_MSG, MSG_DB_MESSAGES);
}

/*
 * A new message's key: ticket, time us (big-endian) and a new uuid made
 * at us (uuid_gen_time: in time order, so m_by_uuid grows at its end).
 * Made before the message is written, so that the ticket's record can
 * name it (its "last_public" / "last_note") in the same write.
 */
void msg_key_new(uint8_t key[MSG_KEY_LEN], const uint8_t ticket[UUID_LEN],
    int64_t us);

/*
 * The content rendered from Markdown by cmark in safe mode into *html
 * (new; free() it).  SUP_ENOMEM.
 */
sup_err msg_render(const char *content, size_t len, char **html);

/*
 * The stored record of the message uuid, read inside txn (the mail
 * consumer's): *rec (len bytes; free() it), to be read with the codec
 * (record_message_decode, record_message_content).  SUP_ENOTFOUND.
 */
sup_err msg_get_record(struct store *s, DB_TXN *txn,
    const uint8_t uuid[UUID_LEN], char **rec, size_t *len);

/*
 * Store one message under key (from msg_key_new), with html the content
 * rendered by msg_render (NULL: rendered here).  When rec != NULL, *rec
 * gets the stored text (free(rec->p)) on success.
 */
sup_err msg_insert(struct store *s, DB_TXN *txn, const uint8_t key[MSG_KEY_LEN],
    uint32_t sender, const char *content, size_t len, const char *html,
    bool internal, bool from_user, struct sbuf *rec);

/* msg_insert with files (attach.h; NULL: none), stored in txn first. */
sup_err msg_insert_att(struct store *s, DB_TXN *txn,
    const uint8_t key[MSG_KEY_LEN], uint32_t sender, const char *content,
    size_t len, const char *html, bool internal, bool from_user,
    const struct att_batch *files, struct sbuf *rec);

/*
 * Post a message as u, moving the ticket's status (DESIGN §4).  Customers
 * get SUP_EFORBIDDEN for an internal note and TICKET_ECLOSED on a closed
 * ticket.  *out is the message as u sees it.
 */
sup_err msg_post(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    bool internal, json_object **out);

/*
 * msg_post, held when the thread moved: last_seen (may be NULL: no
 * check) is the uuid of the newest message the writer saw.  When a
 * message u can see (customers: no internal note) was written after it,
 * nothing is written and the answer is MSG_ESTALE with *newer those
 * messages as u sees them (an array, oldest first; owned by the caller).
 * MSG_ESEEN when last_seen is not a message of this ticket that u can
 * see.  Otherwise as msg_post, *newer NULL.
 */
sup_err msg_post_seen(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    bool internal, const uint8_t *last_seen, json_object **out,
    json_object **newer);

/*
 * msg_post_seen with files (lib/desk/attach.h: checked by att_check; may
 * be NULL): stored in the post's transaction, listed in the message's
 * "attachments".  A post refused or failed removes the files it put in
 * place that nothing else uses.
 */
sup_err msg_post_files(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    bool internal, const uint8_t *last_seen, const struct att_batch *files,
    json_object **out, json_object **newer);

/*
 * msg_post of a public message that came by channel (enum
 * ticket_channel, record.h: CH_EMAIL for support-mailin), which its
 * message.posted event says in its data ("channel"), with files (may be
 * NULL) as msg_post_files; SUP_EINVAL for a channel out of range.  The
 * web and the API post with msg_post, whose events say none.
 */
sup_err msg_post_channel(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    int channel, const struct att_batch *files, json_object **out);

/*
 * msg_post_channel inside the caller's transaction txn (which also writes
 * what goes with the message: support-mailin's record of the mail's
 * Message-ID, mailin.h), with html the content as msg_render made it
 * (before the transaction: no lock is held for the render; NULL: rendered
 * here), without the message as u sees it: uuid gets the new message's.
 * The same checks, writes and message.posted event; on a deadlock the
 * caller's store_run runs the whole transaction again.  files (may be
 * NULL) as msg_post_files, but when the transaction is not committed the
 * caller collects them (att_collect).
 */
sup_err msg_post_channel_in(struct store *s, DB_TXN *txn,
    const struct sup_user *u, const uint8_t ticket[UUID_LEN],
    const char *content, size_t len, const char *html, int channel,
    const struct att_batch *files, uint8_t uuid[UUID_LEN]);

/*
 * The thread as u sees it, oldest first; after (may be NULL) keeps only the
 * messages after that one (SUP_ENOTFOUND when it is not in this ticket).
 * etag gets the thread's current tag; when it equals one in if_none_match
 * (may be NULL), *out is NULL: not modified.  Otherwise *out is an array.
 */
sup_err msg_list(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const uint8_t *after,
    const char *if_none_match, char etag[ETAG_MAX], json_object **out);

/*
 * msg_list as the ticket page's poll asks it: for staff, the other agents
 * present on the ticket (lib/desk/presence.h) are part of the tag, read
 * in the same transaction, so that a poll answered 304 says nothing
 * changed, presence included; and u's own viewing mark is written when
 * it is due, after the read, in a transaction of its own (a mark that
 * could not be written is the next poll's to write: the answer does not
 * wait on it).  For a customer, msg_list exactly: their poll neither
 * reads nor writes presence.
 */
sup_err msg_poll(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const uint8_t *after,
    const char *if_none_match, char etag[ETAG_MAX], json_object **out);

/*
 * Edit message `uuid` of ticket `ticket`, by staff u: its content becomes
 * content[0..len) (rendered here), "edited_at" is set, and the ticket's
 * revision moves (so the thread's ETag does and open pages read it
 * again), with a message.edited event whose changes.content holds the
 * text before and after: the history staff read (lib/desk/audit.h).
 * The same content again changes nothing and appends no event.  *out is
 * the message as u sees it.  SUP_EFORBIDDEN for a customer;
 * SUP_ENOTFOUND when the ticket or the message (in that ticket) is not
 * there; the store's errors.
 */
sup_err msg_edit(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const uint8_t uuid[UUID_LEN],
    const char *content, size_t len, json_object **out);

/*
 * Delete message `uuid` of ticket `ticket`, by staff u: it leaves the
 * thread for everyone (its text, author and time stay in the
 * message.deleted event, so in the audit log staff read); the ticket's
 * counts (public, notes, unanswered, replies) and the refs of its newest
 * messages are worked out again from the thread that remains, its status
 * and its times (first_response_at included: a reply was given) stay,
 * and its revision moves.  Errors as msg_edit.
 */
sup_err msg_delete(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const uint8_t uuid[UUID_LEN]);

#endif
