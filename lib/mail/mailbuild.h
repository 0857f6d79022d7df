/*
 * mailbuild.h - the desk's outgoing messages, built with GMime
 * (docs/mail.md): multipart/alternative of a text and an HTML part, both
 * UTF-8, headers with encoded words (RFC 2047) for non-ASCII names and
 * subjects, and the headers a well-behaved automated sender gives (RFC
 * 3834, RFC 5322): Auto-Submitted, Message-ID, References, In-Reply-To,
 * Date, MIME-Version.  The mail layer sits above the desk; GMime and glib
 * stay inside its .c files, so that this header is plain C and the
 * FastCGI programs never link them.
 */
#ifndef SUP_MAILBUILD_H
#define SUP_MAILBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "sup.h"

/* An address and, when not NULL or empty, its display name (UTF-8). */
struct mail_addr {
	const char *name;
	const char *addr;
};

/* A message to build.  Ids are without their angle brackets. */
struct mail_msg {
	struct mail_addr from, to, reply_to;
	const char *subject;		/* UTF-8 */
	const char *message_id;		/* "uuid@domain" */
	const char *thread_id;		/* the ticket's root id, or NULL:
					   In-Reply-To and References */
	int64_t date_us;		/* µs since the epoch */
	const char *text;		/* the text/plain part, UTF-8 */
	size_t text_len;
	const char *html;		/* the text/html part, UTF-8 */
	size_t html_len;
};

/* Start GMime, once per process (the calls after the first do nothing). */
void mail_init(void);

/*
 * Build m as the bytes of a message (lines ending in LF; the transport
 * turns them into CRLF for SMTP) into *out (len bytes, NUL-terminated;
 * free() it).  SUP_EINVAL when an address, the subject or an id holds a
 * line break or is missing, or a part is not UTF-8; SUP_ENOMEM.
 */
sup_err mail_build(const struct mail_msg *m, char **out, size_t *len);

/* The domain of an address (after its last @), or "" when none. */
const char *mail_domain(const char *addr);

#endif
