/*
 * mailparse.h - a mail as support-mailin reads it (docs/mailin.md):
 * parsed with GMime into what the desk needs (sender, subject, the
 * addresses it went to, the headers that mark automatic mail, and its
 * text as UTF-8 with quotes and signature trimmed), then screened for
 * what must be dropped and never answered (RFC 3834).
 *
 * The text helpers below (mail_trim_reply, mail_html_text, mail_md_escape)
 * need no GMime: they are plain functions on UTF-8 text.
 */
#ifndef SUP_MAILPARSE_H
#define SUP_MAILPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sup.h"
#include "util.h"

#define MAIL_RCPT_MAX 64	/* addresses kept from the recipient headers */

/*
 * What mail_parse_files does with a mail's attachments: the MIME parts
 * that are not its text (docs/mailin.md, "Attachments").
 */
struct mail_file_limits {
	const char *spool_dir;	/* where they are decoded: the store's
				 * files/tmp/ (attach.h) */
	uint64_t max_bytes;	/* one file: the decode stops one byte past */
	size_t max_files;	/* files decoded; those after only named */
	bool enabled;		/* false: every file only named */
};

#define MAIL_FILES_MAX 100	/* attachments listed (the most
				 * max_attachments_per_message may be);
				 * more only counted */

enum mail_file_state {
	MAIL_FILE_SPOOLED,	/* decoded to its spool file */
	MAIL_FILE_OFF,		/* not decoded: enabled was false */
	MAIL_FILE_TOO_MANY,	/* not decoded: max_files came before it */
	MAIL_FILE_TOO_LARGE,	/* its bytes passed max_bytes: not kept */
	MAIL_FILE_FORWARDED,	/* a forwarded mail (message/rfc822): not
				 * kept, an .eml being no type the desk
				 * takes; named by its file name, else its
				 * subject */
};

/* One attachment of a mail. */
struct mail_file {
	enum mail_file_state state;
	char *name;		/* its file name as the mail gives it,
				 * decoded (RFC 2047, RFC 2231) but not
				 * made safe (fname.h); "" when none */
	char *path;		/* its spool file (MAIL_FILE_SPOOLED, else
				 * NULL); mail_in_free removes it unless it
				 * is taken (path set to NULL) */
	int fd;			/* the spool file, open, or -1 */
	uint64_t size;		/* bytes decoded */
	uint8_t sha256[32];	/* of its bytes (MAIL_FILE_SPOOLED) */
	uint8_t head[32];	/* its first nhead bytes, for ftype.h */
	size_t nhead;
};

/*
 * A parsed mail.  Every string is NUL-terminated UTF-8, owned by it; from,
 * from_name, subject and message_id hold no control character (they are
 * logged and shown on one line).
 */
struct mail_in {
	char *from;		/* the first From mailbox's address, or NULL */
	char *from_name;	/* its display name, or NULL */
	char *subject;		/* decoded; NULL when none */
	char *message_id;	/* without <>, or NULL */
	/* Delivered-To, X-Original-To, To, Cc addresses, in that order. */
	char *rcpt[MAIL_RCPT_MAX];
	size_t nrcpt;
	/* What marks automatic mail (each NULL / false when absent). */
	char *auto_submitted;	/* the Auto-Submitted value */
	char *precedence;	/* the Precedence value */
	bool list_id;		/* a List-Id header */
	bool auto_reply;	/* X-Autoreply, X-Autorespond */
	bool report;		/* a multipart/report (a DSN, an MDN) */
	bool null_return_path;	/* Return-Path: <> */
	/* The body as text: trimmed, UTF-8, "\n" line ends. */
	char *text;
	size_t text_len;
	bool from_html;		/* made from an HTML part (no text part) */
	/* Its attachments (mail_parse_files), in the mail's order. */
	struct mail_file *files;
	size_t nfiles;
	size_t files_more;	/* past MAIL_FILES_MAX: not listed */
};

/*
 * Parse data[0..len) into m (mail_in_free it, also after an error).
 * SUP_EINVAL when it is not a mail GMime can read (no headers at all);
 * SUP_ENOMEM.  A mail without a From or a text is parsed: the caller
 * decides what to do with it.
 */
sup_err mail_parse(const char *data, size_t len, struct mail_in *m);

/*
 * mail_parse, with the mail's attachments into m->files (lim NULL: none,
 * as mail_parse).  An attachment is a part that is not the text taken:
 * one with Content-Disposition attachment, or an inline part that is not
 * text (an image) or is text with a file name; not a multipart/signed's
 * signature, nor a forwarded message (message/rfc822).  Each, up to
 * lim->max_files of them and when lim->enabled, is decoded from its
 * transfer encoding (base64, quoted-printable, uuencode) by GMime to a
 * new spool file in lim->spool_dir a piece at a time, its SHA-256
 * computed on the way; one passing lim->max_bytes is cut there, its
 * spool file removed (MAIL_FILE_TOO_LARGE).  The first MAIL_FILES_MAX
 * are listed, the others counted in files_more.  SUP_EIO besides
 * mail_parse's errors when a spool file cannot be made or written.
 */
sup_err mail_parse_files(const char *data, size_t len,
    const struct mail_file_limits *lim, struct mail_in *m);
void mail_in_free(struct mail_in *m);

/*
 * Make ready, before the process is confined (lib/base/confine.h), what
 * mail_parse needs from outside the store: GMime initialised, and the
 * iconv modules of the charsets mail is commonly written in loaded (and
 * kept until mail_parse_release).  A charset not among them is then
 * taken as unknown by a confined process: its bytes as they are, made
 * valid UTF-8 (docs/mailin.md).  SUP_OK (a charset this system lacks is
 * no error).
 */
sup_err mail_parse_prepare(void);
void mail_parse_release(void);

/*
 * Why m must be dropped and never answered, or NULL when it may be taken:
 * a static sentence for the log.  Automatic mail (Auto-Submitted other
 * than "no", X-Autoreply/X-Autorespond), bulk and list mail (Precedence
 * bulk, list or junk; List-Id), bounces (multipart/report, a null return
 * path, from MAILER-DAEMON), mail from the desk's own address or one of
 * its reply addresses (support_email, may be "" or NULL).  sender, when
 * not NULL, is the envelope sender the MTA gave ("" is the null one).
 */
const char *mail_screen(const struct mail_in *m, const char *support_email,
    const char *sender);

/*
 * Cut what a reply quotes and its signature from text[0..*len) in place
 * (*len shrinks): from the first line that starts a quote ("On ... wrote:",
 * "-----Original Message-----", "From: ..." after a line of underscores,
 * Outlook style) or a signature ("-- ") to the end, and every line that
 * starts with ">" (with the blank lines left around them); then trailing
 * blank lines.  If that leaves nothing, the text is kept as it was.
 */
void mail_trim_reply(char *text, size_t *len);

/*
 * html[0..len) as plain text appended to out: tags dropped (script, style
 * and head with their contents, and blockquote's: what a reply quotes),
 * line breaks for br, p, div, li, tr and
 * headings, character references decoded (named ones of HTML's common
 * set, decimal and hex; others kept as written), runs of blank lines
 * squeezed.  out->failed when out of memory.
 */
void mail_html_text(const char *html, size_t len, struct sbuf *out);

/*
 * text[0..len) appended to out with what Markdown would take as HTML made
 * literal: each '<', '>' and '&' is backslash-escaped (cmark renders
 * "\<" as "&lt;"), so a mail's text shows as written.  out->failed when
 * out of memory.
 */
void mail_md_escape(const char *text, size_t len, struct sbuf *out);

#endif
