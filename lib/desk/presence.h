/*
 * presence.h - which agents have a ticket open and which one is typing a
 * reply (collision detection, docs/api.md "Presence"); the presence area
 * of the store.
 *
 * Presence is ephemeral but shared by every process of the desk, so it
 * is kept in the store, in one database of its own:
 *
 *   presence   ticket(16) user(4, big-endian)  ->  seen_us(8) typing_us(8)
 *
 * both times big-endian microseconds (time_now_us): seen_us the last
 * sign of the agent on the ticket's page (its poll, or a typing signal),
 * typing_us the last "typing" signal (0: not typing).  A fixed layout,
 * not JSON, because the staff's poll reads a ticket's range of it every
 * few seconds and must stay cheap.  A mark is shown for PRESENCE_VIEW_US
 * after seen_us, typing for PRESENCE_TYPE_US after typing_us, and never
 * when older.  Old marks are written over by their agent's next one or
 * removed by a bounded sweep that every write of a mark runs
 * (PRESENCE_SWEEP entries a time, going round the database).
 *
 * Only staff are marked and only staff are told: a customer's poll
 * neither reads nor writes presence.  The writes of marks are committed
 * without waiting for the disk (STORE_NOSYNC): one lost in a crash costs
 * nothing.
 */
#ifndef SUP_PRESENCE_H
#define SUP_PRESENCE_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "areas.h"
#include "caller.h"
#include "store.h"
#include "util.h"

/*
 * A viewer is shown 90 s after their last sign: a page in a background
 * tab polls every 30 s, and Chromium runs a long-hidden tab's timers once
 * a minute; an agent who leaves the page says so at once (PRESENCE_GONE).
 */
#define PRESENCE_VIEW_US (90 * 1000000LL)
#define PRESENCE_TYPE_US (8 * 1000000LL)	/* typing is shown 8 s */
#define PRESENCE_SWEEP 4		/* old marks looked at per write */
#define PRESENCE_KEY_LEN (UUID_LEN + 4)
#define PRESENCE_VAL_LEN 16

enum presence_db { PRESENCE_DB_MARKS, PRESENCE_NDB };

static inline DB *
presence_db(const struct store *s)
{
	return store_db(s, AREA_PRESENCE, PRESENCE_DB_MARKS);
}

/* What an agent says of themself on a ticket's page. */
enum presence_mark {
	PRESENCE_VIEWING,	/* the page is open (typing stops) */
	PRESENCE_TYPING,	/* typing a reply (and viewing) */
	PRESENCE_GONE		/* the page was left: the mark is removed */
};

/*
 * What a poll learnt of a ticket's presence (presence_scan): how many
 * others are shown, a digest of who they are and whether each is typing
 * (0 when none; a poll's ETag carries it, so that a change of the others
 * is a change of the tag), and whether the caller's own mark is due to
 * be written (absent, or older than half PRESENCE_VIEW_US).
 */
struct presence_scan {
	unsigned others;
	uint32_t tag;
	bool due;
};

/*
 * Read the marks of ticket as of now, in txn (one cursor range), for the
 * poll of staff member me.  The caller checked the ticket.  SUP_EDB (a
 * mark not laid out as above is skipped, not an error).
 */
sup_err presence_scan(struct store *s, DB_TXN *txn, uint32_t me,
    const uint8_t ticket[UUID_LEN], int64_t now, struct presence_scan *out);

/*
 * Write u's viewing mark on ticket, keeping a typing signal it has, in a
 * transaction of its own: what a staff poll does when presence_scan said
 * it is due.  The caller checked the ticket (a ticket removed meanwhile
 * leaves a mark the sweep removes).  SUP_EFORBIDDEN for a customer; the
 * store's errors.
 */
sup_err presence_touch(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN]);

/*
 * Set u's mark on ticket as how says, then read the others present into
 * *out (new, json_object_put; presence_show's object), in one
 * transaction.  SUP_EFORBIDDEN for a customer, SUP_ENOTFOUND for no such
 * ticket, SUP_EINVAL for a how out of range; the store's errors.
 */
sup_err presence_set(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], enum presence_mark how,
    json_object **out);

/*
 * The others present on ticket as staff member u sees them, into *out
 * (new, json_object_put):
 *   {"viewers": [{"user": {User}, "typing": bool, "seen_at": time}, ...]}
 * in user id order, u never among them.  SUP_EFORBIDDEN for a customer,
 * SUP_ENOTFOUND for no such ticket; the store's errors.
 */
sup_err presence_show(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], json_object **out);

/*
 * For an erasure: delete every mark of user (a walk of the marks: the
 * database holds few), in one transaction.  *removed (may be NULL) gets
 * how many.
 */
sup_err presence_user_erase(struct store *s, uint32_t user, long *removed);

#endif
