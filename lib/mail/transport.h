/*
 * transport.h - handing a built message to the mail system
 * (docs/mail.md, "Transport"): SMTP through libcurl (smtp:// with STARTTLS
 * required unless smtp_starttls = no, smtps://, AUTH with smtp_user and
 * the password in smtp_password_file, the server's certificate checked,
 * against smtp_ca_file when set), or a sendmail-compatible program
 * (sendmail_path -oi -f FROM -- RCPT).  libcurl stays inside the .c file.
 */
#ifndef SUP_TRANSPORT_H
#define SUP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "sup.h"

/* What became of one message to one recipient. */
enum mail_result {
	MAIL_SENT,		/* accepted by the server or the program */
	MAIL_RETRY,		/* a passing failure: a 4xx, no connection,
				   no transport, EX_TEMPFAIL */
	MAIL_REFUSED		/* a 5xx, or the program refused it: never
				   to be sent to this recipient */
};

struct mail_transport;

/*
 * A transport for conf (kept: it must outlive the transport), which keeps
 * its SMTP connection between messages.  *out is freed with
 * mail_transport_close.  SUP_ENOMEM.
 */
sup_err mail_transport_open(const struct sup_conf *conf,
    struct mail_transport **out);
void mail_transport_close(struct mail_transport *t);

/* Is a transport configured (smtp_url or sendmail_path, and a From)? */
bool mail_transport_configured(const struct sup_conf *conf);

/*
 * Send msg[0..len) (lines ending in LF) from support_email to rcpt.
 * why (whylen bytes) gets the server's or the program's answer when it
 * was not sent.
 */
enum mail_result mail_send(struct mail_transport *t, const char *rcpt,
    const char *msg, size_t len, char *why, size_t whylen);

#endif
