/*
 * record.h - the record codec: the one module that knows how a ticket and
 * a message are stored (their bytes in tickets.db, t_recent.db and
 * messages.db), and the status machine that says how a ticket's status
 * and times move.  Every other module reads and writes records through
 * it: the view renders the API objects from what it reads here, the
 * tickets' area takes its index keys from it, ticket.c and msg.c build
 * and change records with it.  The prefix is record_ (not tcodec_): it
 * holds the messages' layout too.
 *
 * Stored ticket, compact JSON in this order:
 *   {"uuid", "number", "subject", "status", "priority", "created_at",
 *    "updated_at", "first_response_at", "resolved_at", "closed_at",
 *    "channel",
 *    then the internal fields "user": id, "assignee": id|null,
 *    "public_count", "note_count", "unanswered", "replies", "rev",
 *    "last_us", "last_public": ref|null, "last_note": ref|null}
 * where a ref names the newest public message / internal note: the
 * created time (8 bytes big-endian) and uuid of its key, in lowercase hex
 * (48 characters).  The public fields come first, the internal ones (the
 * view swaps them for User objects and counts) last, in a fixed order.
 * "unanswered" counts the owner's public messages since the last public
 * staff reply (what staff owe), "replies" the public staff messages since
 * the owner's last (what the owner has not answered yet).
 * Older records lack the fields added later: "channel" (read as null),
 * "replies" (read as 0: an owner's count starts at the next staff reply),
 * "last_public" and "last_note" (readers then walk the thread); a record
 * rewritten whole (record_ticket_encode) gets "channel" (null when not
 * known), one changed in place by a post keeps what it had of "channel"
 * and the refs; both write "replies".
 *
 * Stored message: {"uuid", "ticket", "content", "content_html",
 *   "is_from_user", "is_internal", "attachments", "created_at",
 *   "edited_at" (only once staff edited it), then "user": id}
 *
 * Speed: the hot paths (every list item, every post, every index
 * callback) read a record by position, without json-c: the tail from the
 * end (record_ticket_tail), the head fields a post rewrites
 * (record_ticket_head), the index fields (record_ticket_keys), a list's
 * filter fields (record_ticket_filter).  In JSON text `,"name":` can only
 * be a key (a quote inside a string is escaped), which is what makes
 * these reads safe whatever a subject or a message holds.  Each gives
 * false for a record not laid out so; record_ticket_decode reads any
 * record with json-c, and tests/unit/test_record.c checks the two agree.
 *
 * How to add a ticket field: docs/architecture.md, "The record codec".
 */
#ifndef SUP_RECORD_H
#define SUP_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"
#include "tstore.h"
#include "util.h"

/* A message key without its ticket: created_us(8) uuid(16). */
#define MSG_REF_LEN (MSG_KEY_LEN - UUID_LEN)
#define MSG_REF_STRLEN (2 * MSG_REF_LEN)	/* in hex, without the NUL */

/* A time that is null (not yet responded, not resolved ...). */
#define RECORD_NULL INT64_MIN

/* How a ticket came in (its "channel"); -1 in a record: null. */
enum ticket_channel {
	CH_WEB,			/* the HTML form */
	CH_API,			/* POST /api/support/tickets/ */
	CH_EMAIL,		/* mail in (to come) */
	CH_WEBHOOK,		/* a webhook (to come) */
	CH_MAX
};
extern const char *const ticket_channel_names[CH_MAX + 1];
int ticket_channel_from(const char *name);	/* -1 when unknown */

/* --- Tickets ------------------------------------------------------------ */

/*
 * A ticket's fields.  Times are µs since the epoch, RECORD_NULL for null.
 * subject is NUL-terminated, owned by the struct when decoded
 * (record_ticket_clear frees it); a caller building one to encode points
 * it where it likes and does not clear.
 */
struct record_ticket {
	uint8_t uuid[UUID_LEN];
	int64_t number;
	char *subject;
	size_t subject_len;
	int status;			/* enum ticket_status */
	int priority;			/* enum ticket_priority */
	int64_t created_at, updated_at, first_response_at, resolved_at,
	    closed_at;
	int channel;			/* enum ticket_channel, -1: null */
	uint32_t user, assignee;	/* assignee 0: nobody */
	int64_t public_count, note_count, unanswered, replies, rev, last_us;
	bool has_refs;			/* false: an older record */
	bool has_public, has_note;
	uint8_t last_public[MSG_REF_LEN], last_note[MSG_REF_LEN];
};

/*
 * Decode the stored ticket rec[0..len) with json-c (any record: older,
 * other order, spaces).  SUP_EDB when it is not a ticket (no uuid, an
 * unknown status ...), SUP_ENOMEM.  record_ticket_clear(t) after, also
 * on error.
 */
sup_err record_ticket_decode(const char *rec, size_t len,
    struct record_ticket *t);
void record_ticket_clear(struct record_ticket *t);

/*
 * Append the stored text of t to out, in the layout above (out->failed
 * when memory ran out).  "channel" is always written (null for -1); the
 * refs only when t->has_refs.
 */
void record_ticket_encode(const struct record_ticket *t, struct sbuf *out);

/*
 * The internal fields at the end of a stored ticket, and "channel" just
 * before them: read by position from the end.
 */
struct ticket_tail {
	size_t cut;		/* where the internal fields start */
	size_t chan_at;		/* where `,"channel":` starts (cut: none) */
	bool has_channel;	/* false: an older record without it */
	int channel;		/* -1: null or none */
	uint32_t user, assignee;
	int64_t public_count, note_count, unanswered, replies, rev, last_us;
	bool has_refs;		/* false: an older record without them */
	bool has_public, has_note;
	uint8_t last_public[MSG_REF_LEN], last_note[MSG_REF_LEN];
};

/* Read the tail of a stored ticket; false when it is not laid out so. */
bool record_ticket_tail(const char *rec, size_t len, struct ticket_tail *tt);

/*
 * Does the stored ticket begin with its uuid, as every record does?  Into
 * uuid too, when not NULL.
 */
bool record_ticket_uuid(const char *rec, size_t len, uint8_t uuid[UUID_LEN]);

/*
 * Append the public fields of the stored ticket rec (whose tail is tt) to
 * out as the start of its API object: `{"uuid":...,"channel":...` without
 * the closing brace; "channel":null for an older record.
 */
void record_ticket_public(const char *rec, const struct ticket_tail *tt,
    struct sbuf *out);

/*
 * The head fields a post rewrites, in their stored order: each value is
 * null or a string with nothing escaped in it.
 */
enum ticket_head_field {
	TH_STATUS, TH_PRIORITY, TH_CREATED_AT, TH_UPDATED_AT,
	TH_FIRST_RESPONSE_AT, TH_RESOLVED_AT, TH_CLOSED_AT, TH_MAX
};

struct ticket_head {
	size_t from[TH_MAX], to[TH_MAX];	/* each value's text */
};

/*
 * Find the head fields of a stored ticket whose tail is tt; false when
 * the record is not laid out so.
 */
bool record_ticket_head(const char *rec, size_t len,
    const struct ticket_tail *tt, struct ticket_head *th);

/* --- The status machine --------------------------------------------------- */

/* What moves a ticket's status and times. */
struct record_state {
	int status;
	int64_t first_response_at, resolved_at, closed_at;
};

/* The state of a head read by record_ticket_head; false if unreadable. */
bool record_ticket_state(const char *rec, const struct ticket_head *th,
    struct record_state *st);

/* The state of a decoded ticket, and back. */
void record_state_of(const struct record_ticket *t, struct record_state *st);
void record_state_set(struct record_ticket *t, const struct record_state *st);

enum record_move {
	MOVE_SET,		/* a status set (PATCH, close_old_tickets) */
	MOVE_POST,		/* a public message posted */
	MOVE_NOTE		/* an internal note added */
};

/*
 * The status machine (DESIGN §4, docs/api.md).  Move st as the actor
 * (staff or not; owner: the ticket is the actor's own) asks with move
 * (MOVE_SET: to status `to`) at time now:
 *   MOVE_SET: staff may set any status; anyone else only resolved or
 *     closed, and never from closed (TICKET_ETRANSITION).  Resolved sets
 *     resolved_at and clears closed_at; closed sets closed_at and keeps
 *     resolved_at; any other status clears both.  The same status: no
 *     change.
 *   MOVE_POST: on a closed ticket only staff may write (TICKET_ECLOSED);
 *     the owner's message -> waiting_for_admin; staff's public reply ->
 *     waiting_for_user, and the first one sets first_response_at
 *     (*first_response true).  A status that moves clears resolved_at
 *     and closed_at (a re-open).
 *   MOVE_NOTE: staff only (SUP_EFORBIDDEN); no change.
 * On error st is unchanged.  SUP_EINVAL for a status out of range.
 */
sup_err record_status_move(struct record_state *st, bool staff, bool owner,
    enum record_move move, int to, int64_t now, bool *first_response);

/*
 * Append the stored ticket rec again to out, changed in place as a post
 * changes it: the head values of st that differ from was, updated_at, and
 * the tail tt (out->failed says when memory ran out).
 */
void record_ticket_splice(const char *rec, const struct ticket_head *th,
    const struct record_state *was, const struct record_state *st,
    int64_t updated_at, const struct ticket_tail *tt, struct sbuf *out);

/* --- What the indexes and the lists read ----------------------------------- */

/* The ticket fields the indexes are made of. */
struct record_keys {
	uint8_t uuid[UUID_LEN];
	uint64_t number;
	int64_t updated_us;
	uint32_t user, assignee;
	int status, priority;
};

/*
 * The index fields of a stored ticket: by position when the text is
 * compact, else parsed.  False when it has not all of them; *nomem (when
 * not NULL) says the parse ran out of memory.
 */
bool record_ticket_keys(const char *rec, size_t len, struct record_keys *k,
    bool *nomem);

/*
 * record_ticket_keys with a cache of the last two records read: writing
 * a ticket calls each of its index callbacks with the old and the new
 * record, so each is read once.  The cache is per process (the tickets'
 * area keeps it: record_keys_cache_new/free); *k points into it, valid
 * until the next call.  Nothing is cached when memory ran out.
 */
struct record_keys_cache;
struct record_keys_cache *record_keys_cache_new(void);
void record_keys_cache_free(struct record_keys_cache *c);
bool record_keys_cached(struct record_keys_cache *c, const char *rec,
    size_t len, const struct record_keys **k, bool *nomem);

/* What a list filters on. */
struct record_filter {
	uint32_t user, assignee;	/* assignee 0: none */
	int status, priority;		/* -1: missing or unknown */
	bool has_created;
	int64_t created, number;
	const char *subject;		/* subject_len bytes; NULL: none */
	size_t subject_len;
};
#define RF_OWNERS 1u		/* user and assignee */
#define RF_SUBJECT 2u
#define RF_CREATED 4u

/*
 * The filter fields of a stored ticket by position, only those in want
 * (the number, status and priority always); the subject points into rec.
 * False when the text is not laid out so, or the subject (asked for) has
 * an escape in it: the caller then decodes the record.
 */
bool record_ticket_filter(const char *rec, size_t len, unsigned want,
    struct record_filter *f);
/* The same from a decoded ticket (the subject points into t). */
void record_filter_of(const struct record_ticket *t, struct record_filter *f);

/* --- Messages ----------------------------------------------------------- */

/*
 * Append a new message's stored text to out: key (from msg_key_new),
 * its author, content and html (rendered), whether internal and whether
 * from the ticket's owner.  out->failed when memory ran out.
 */
void record_message_encode(const uint8_t key[MSG_KEY_LEN], uint32_t sender,
    const char *content, size_t len, const char *html, bool internal,
    bool from_user, struct sbuf *out);

/*
 * The same with its "attachments": atts[0..alen), a JSON array made by
 * lib/desk/attach.c (att_store); NULL or 0 bytes: [].
 */
void record_message_encode_att(const uint8_t key[MSG_KEY_LEN],
    uint32_t sender, const char *content, size_t len, const char *html,
    bool internal, bool from_user, const char *atts, size_t alen,
    struct sbuf *out);

/*
 * The author and the internal flag at the end of a stored message, by
 * position, and where the author starts (cut); false when not laid out so.
 */
bool record_message_tail(const char *rec, size_t len, size_t *cut,
    uint32_t *user, bool *internal);

/* A message's fields, decoded with json-c (any message record). */
struct record_message {
	uint32_t user;
	bool internal, from_user;
};
sup_err record_message_decode(const char *rec, size_t len,
    struct record_message *m);

/*
 * The content of a stored message: a new NUL-terminated string in
 * *content (free()), its length in *n.  SUP_EDB when it has none,
 * SUP_ENOMEM.
 */
sup_err record_message_content(const char *rec, size_t len, char **content,
    size_t *n);

/*
 * Append to out the stored message rec[0..len) edited: content[0..n) and
 * its rendering html in place of its own, "edited_at" set to us (right
 * before the author, where record_message_tail reads), every other field
 * as it was, in its order.  SUP_EDB when rec is no message, SUP_ENOMEM.
 */
sup_err record_message_edit(const char *rec, size_t len, const char *content,
    size_t n, const char *html, int64_t us, struct sbuf *out);

/* The ref of the message with key (a tail's "last_public" text). */
void record_msg_ref(const uint8_t key[MSG_KEY_LEN],
    char out[MSG_REF_STRLEN + 1]);

/* --- Counters ------------------------------------------------------------ */

/* The counters (counters.db) the tickets keep; spelled only here. */
enum record_counter {
	RC_TICKETS,		/* "tickets": all of them */
	RC_USER,		/* "user:ID": a customer's */
	RC_ACTIVE,		/* "active:ID": a customer's, neither resolved
				   nor closed */
	RC_ASSIGNEE		/* "assignee:ID" (0: nobody's) */
};
void record_counter(char *buf, size_t n, enum record_counter c, int64_t id);
/* Is name a counter of these families (or an old per-status one)? */
bool record_counter_name(const char *name);

#endif
