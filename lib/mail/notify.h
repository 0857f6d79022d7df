/*
 * notify.h - the mail consumer of the event log (docs/mail.md,
 * "Notifications"): turns the events that call for mail into deliveries
 * in the outbox, in the transaction that moves its position
 * (event_consume), so an event's mail is queued exactly once and never
 * lost.  Each message is built when it is queued (templates/mail/NAME.txt
 * and NAME.html, then GMime), so every attempt sends the same bytes with
 * the same Message-ID.
 *
 * The rules: the [notifications] switches of support.conf; nobody is
 * mailed about their own action; a user who turned their mail off
 * (user_set_notify), an account switched off or without an address gets
 * none; an internal note is never mailed to anyone outside the staff (no
 * note makes mail at all).
 */
#ifndef SUP_NOTIFY_H
#define SUP_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "store.h"
#include "sup.h"

/* The consumer's state: the configuration and the mail templates. */
struct notify;

/*
 * Open the consumer for conf (kept: it must outlive it) with the
 * templates of conf->templates_dir/mail.  *out is freed with
 * notify_close.  SUP_ENOMEM, SUP_EINVAL (templates_dir too long).
 */
sup_err notify_open(const struct sup_conf *conf, struct notify **out);
void notify_close(struct notify *n);

/*
 * Turn the next events (at most max) into deliveries, moving the mail
 * consumer's position past them in the same transaction.  *handled (may
 * be NULL) gets how many events were handed over (0: none left).  An
 * event that cannot be read or a recipient whose mail cannot be built is
 * logged on stderr and skipped (it would block every later one);
 * SUP_ECONFIG when a template is missing or broken (nothing is consumed:
 * fix it and run again); store errors as event_consume.
 */
sup_err notify_consume(struct store *s, struct notify *n, long max,
    long *handled);

/*
 * The Reply-To of the mail about ticket number to user (0: a team
 * address), into buf (n bytes): the signed reply address of
 * lib/desk/replytoken.h when secret_file is set and user is an account,
 * else support_email.
 */
void mail_reply_to(const struct notify *nt, uint32_t ticket_number,
    uint32_t user, char *buf, size_t n);

#endif
