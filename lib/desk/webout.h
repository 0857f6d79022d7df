/*
 * webout.h - webhooks out (docs/webhooks.md): the webhooks consumer of the
 * event log turns each event a [webhook.NAME] subscription chose into one
 * OUTBOX_WEBHOOK delivery per subscription, in the transaction that moves
 * its position (event_consume), so an event's calls are queued exactly
 * once and never lost; support-worker sends them (lib/mail/webpost.h).
 *
 * A delivery's body, built when it is queued (every attempt sends the
 * same bytes, and the same X-Support-Delivery, its id):
 *   {"id": "<delivery uuid>", "event": "ticket.updated",
 *    "event_id": "<the event's uuid>", "created_at": "<the event's time>",
 *    "data": {"ticket": {...}?, "message": {...}?, "user": {...}?,
 *             "actor": {...} | null, "changes": {...}?, "details": {...}?}}
 * the objects as the API shows them to staff (docs/webhooks.md says which
 * event carries which).  No note is left out (the receiver is staff's),
 * and each message carries is_internal.
 */
#ifndef SUP_WEBOUT_H
#define SUP_WEBOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "store.h"
#include "sup.h"

#define WEBOUT_SECRET_FILE_MAX 4096	/* bytes read of a secret_file */

/* The consumer's state: the subscriptions, their events and secrets. */
struct webout;

/*
 * Open the subscriptions of conf (kept: it must outlive *out): each
 * events list checked against the log's types (those webhooks may carry:
 * webout_offered) and each secret_file read (its trailing white space
 * cut; at least CONF_WEBHOOK_SECRET_MIN bytes).  *out is freed with
 * webout_close.  SUP_ECONFIG with why (n bytes) naming the section, the
 * key and what is wrong; SUP_ENOMEM.
 */
sup_err webout_open(const struct sup_conf *conf, struct webout **out,
    char *why, size_t n);
void webout_close(struct webout *w);

/* Whether events of type (enum event_type) may be subscribed to. */
bool webout_offered(int type);

/*
 * The url and secret (slen bytes; the state's: do not free) of the
 * subscription name, for a send.  SUP_ENOTFOUND when support.conf has no
 * such section any more.
 */
sup_err webout_target(const struct webout *w, const char *name,
    const char **url, const char **secret, size_t *slen);

/*
 * Queue the deliveries of the next events (at most max), moving the
 * webhooks consumer's position past them in the same transaction; the
 * disabled subscriptions get none.  *handled (may be NULL) gets how many
 * events were handed over (0: none left).  An event that cannot be read
 * is logged on stderr and skipped (it would block every later one); store
 * errors as event_consume.
 */
sup_err webout_consume(struct store *s, struct webout *w, long max,
    long *handled);

#endif
