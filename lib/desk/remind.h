/*
 * remind.h - reminders and escalation (docs/mail.md, "Reminders and
 * escalation"): `supportctl send_ticket_reminders` and every pass of
 * support-worker find the tickets that have waited too long and append,
 * once per waiting period, a ticket.reminder_due event (waiting for the
 * customer) or a ticket.escalated event (waiting for staff), which the
 * mail consumer (lib/mail/notify.c) turns into mail like any other.
 *
 * A waiting period is the time since the ticket's last change
 * (updated_at): a customer's reply, a staff reply or a change of status
 * starts a new one.  The marker of the period handled, per ticket and
 * kind, is kept in remind.db, written in the transaction of its event:
 *   remind.db   uuid(16) kind(1)   ->  updated_us(8, big-endian)
 * so the event exists exactly when the marker does, and a second scan
 * of the same period appends nothing.
 */
#ifndef SUP_REMIND_H
#define SUP_REMIND_H

#include <stdint.h>

#include "conf.h"
#include "store.h"
#include "sup.h"
#include "util.h"

#define REMIND_BATCH 100	/* tickets looked at in one transaction */

enum remind_kind { REMIND_CUSTOMER, REMIND_ESCALATE, REMIND_NKIND };

/*
 * Scan the tickets waiting for the customer (waiting_for_user) and for
 * staff (open, waiting_for_admin) through the status index, at now_us:
 * a ticket unchanged for conf->reminder_days days gets one
 * ticket.reminder_due event, one unchanged for conf->escalation_hours
 * hours one ticket.escalated event (only when escalation_alerts is on),
 * each once per waiting period.  0 days or hours: that kind is off.
 * Only tickets of those statuses are read (their index range, in
 * transactions of REMIND_BATCH), so the cost follows the waiting
 * tickets, not all of them.  *reminded and *escalated (may be NULL) get
 * the events appended.  SUP_ENOMEM, SUP_EDEADLOCK (retried by
 * store_run), SUP_EDB.
 */
sup_err remind_scan(struct store *s, const struct sup_conf *conf,
    int64_t now_us, long *reminded, long *escalated);

/*
 * Remove the markers of the ticket uuid inside txn (a ticket purged for
 * its age: lib/desk/retention.c).  The store's errors.
 */
sup_err remind_forget(struct store *s, DB_TXN *txn,
    const uint8_t uuid[UUID_LEN]);

#endif
