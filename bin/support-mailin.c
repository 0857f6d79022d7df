/*
 * support-mailin - take one mail from the MTA on standard input
 * (docs/mailin.md):
 *
 *   support-mailin [--conf FILE] [--recipient ADDR] [--sender ADDR]
 *
 * as Postfix's pipe(8) or an alias "|support-mailin", Exim's pipe
 * transport, a .forward, procmail or cPanel's "pipe to a program" run it.
 * A reply to a signed reply address (local+TOKEN@domain: replytoken.h)
 * becomes a message on that ticket from the user the token was made for;
 * a new mail to the desk's address becomes a ticket (channel email) of
 * its sender.  Automatic, bulk and list mail, bounces, the desk's own
 * mail and a sender over mail_max_per_sender_hour are dropped and logged,
 * never answered.  A mail taken before (its Message-ID from the same
 * From, as a new mail or to the same ticket, in the last 30 days:
 * mailin.h) is answered 0 and posts nothing, so that the MTA's retry of
 * a mail taken by a process that died before its exit is posted once.
 *
 * The recipient is --recipient, else $ORIGINAL_RECIPIENT or $RECIPIENT
 * (Postfix's local delivery and Exim set them), else the first address
 * of Delivered-To, X-Original-To, To, Cc that is a reply address of the
 * desk.  The envelope sender is --sender, else $SENDER when set ("" is a
 * bounce's null sender).
 *
 * Exit status (sysexits.h), which the MTA acts on: 0 taken (now or
 * before) or dropped on purpose; EX_DATAERR (65) a mail that can never
 * be taken (too large, unreadable, a forged or expired reply address, a
 * sender refused, a closed ticket: the MTA bounces it); EX_TEMPFAIL (75)
 * the store busy or failing (the MTA tries again later); EX_CONFIG (78)
 * support.conf or secret_file unusable; EX_USAGE (64) bad arguments;
 * EX_IOERR (74) standard input unreadable.  Still running after
 * request_timeout_s (input that never ends, a store that hangs):
 * EX_TEMPFAIL.  Every decision is logged to syslog (mail facility) and
 * standard error.
 *
 * It confines itself (confine_worker(), as a worker) before it reads the
 * mail, having read what lies outside the store first: docs/mailin.md,
 * "Confinement".  Not confined when it should be: EX_CONFIG.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "areas.h"
#include "attach.h"
#include "conf.h"
#include "confine.h"
#include "mailin.h"
#include "mailparse.h"
#include "msg.h"
#include "replytoken.h"
#include "store.h"
#include "ticket.h"
#include "user.h"

/* Why a mail was cut short, after its first CONTENT_MAX bytes or so. */
static const char cut_note[] = "\n\n(The rest of the mail was cut: it was "
    "longer than a message may be.)";

SUP_PRINTF(2, 3) static void
say(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(LOG_MAIL | prio, fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	fputs("support-mailin: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/*
 * The watchdog: a mail still being read or taken after request_timeout_s
 * (standard input that never ends, a lock wait nothing wakes: a store
 * another process recovered meanwhile) ends the process with
 * EX_TEMPFAIL, and the MTA tries again later, as a FastCGI worker is
 * ended (cgi-bin/app.c).  Only async-signal-safe calls here.
 */
static void
on_alarm(int sig SUP_UNUSED)
{
	static const char msg[] = "support-mailin: still running after "
	    "request_timeout_s: left for the MTA to retry\n";

	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(EX_TEMPFAIL);
	_exit(EX_TEMPFAIL);
}

/* The exit status of a store or desk error: retry, or never. */
static int
status_of(sup_err e)
{
	switch (sup_errkind(e)) {
	case SUP_ENOMEM:
	case SUP_EDEADLOCK:
	case SUP_EBUSY:
	case SUP_ERECOVER:
	case SUP_EDB:
	case SUP_EIO:
		return EX_TEMPFAIL;
	case SUP_ECONFIG:
		return EX_CONFIG;
	default:
		return EX_DATAERR;
	}
}

/*
 * The word a log line of an error starts with: "deferred" when the MTA
 * is told to try again (the store busy or failing), else "refused".
 */
static const char *
verdict(sup_err e)
{
	return status_of(e) == EX_TEMPFAIL ? "deferred" : "refused";
}

/*
 * Read standard input into a new buffer (free()), at most max bytes: one
 * byte more is read to know it is over, and then no more.  *len; returns
 * 0, EX_DATAERR when over max, EX_IOERR, EX_TEMPFAIL (out of memory).
 */
static int
read_mail(long max, char **buf, size_t *len)
{
	size_t cap = 65536, n = 0, limit = (size_t)max + 1;
	char *b = malloc(cap), *nb;
	ssize_t r;

	*buf = NULL;
	if (b == NULL)
		return EX_TEMPFAIL;
	for (;;) {
		if (n == cap) {
			cap = cap * 2 < limit ? cap * 2 : limit;
			if ((nb = realloc(b, cap)) == NULL) {
				free(b);
				return EX_TEMPFAIL;
			}
			b = nb;
		}
		r = read(STDIN_FILENO, b + n, (cap < limit ? cap : limit) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			return EX_IOERR;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n >= limit) {
			free(b);
			return EX_DATAERR;
		}
	}
	*buf = b;
	*len = n;
	return 0;
}

/* Is the address the one user rec has (either case)? */
static bool
same_address(json_object *rec, const char *addr)
{
	json_object *v;

	return json_object_object_get_ex(rec, "email", &v) &&
	    json_object_get_string(v) != NULL &&
	    strcasecmp(json_object_get_string(v), addr) == 0;
}

/*
 * The reply token of this mail, if any: from the envelope recipient when
 * the MTA gave it, else from the first recipient header address that is
 * a reply address of the desk.  Only a part of REPLY_TOKEN_STRLEN after
 * the '+' is a token ("help+billing@" is the desk's address, a new mail).
 */
static bool
find_token(const struct mail_in *m, const char *envelope,
    const char *support_email, const char **tok, size_t *len)
{
	const char *at = support_email != NULL ? strchr(support_email, '@') :
	    NULL;
	size_t local = at != NULL ? (size_t)(at - support_email) : 0;

	if (envelope != NULL && *envelope != '\0')
		return reply_token_find(envelope, tok, len) &&
		    *len == REPLY_TOKEN_STRLEN;
	for (size_t i = 0; i < m->nrcpt; i++) {
		const char *a = m->rcpt[i];
		if (!reply_token_find(a, tok, len) || *len != REPLY_TOKEN_STRLEN)
			continue;
		/* The desk's local part before the '+', when it has one. */
		if (local == 0 || (strncasecmp(a, support_email, local) == 0 &&
		    a[local] == '+'))
			return true;
	}
	return false;
}

/*
 * The message content of the mail's text: what Markdown would take as
 * HTML made literal, cut (at a character) to CONTENT_MAX bytes with a
 * note, then the notes of the files not kept (mail_files; may be empty),
 * after a blank line when there is text.  A new string (free()), NULL
 * when out of memory.
 */
static char *
content_of(const struct mail_in *m, const struct sbuf *notes, size_t *len)
{
	struct sbuf sb = { 0 };
	size_t keep, room = CONTENT_MAX - notes->len - 2;

	if (m->text != NULL)
		mail_md_escape(m->text, m->text_len, &sb);
	if (sb.failed) {
		free(sb.p);
		return NULL;
	}
	if (sb.len > room) {
		keep = room - sizeof(cut_note);
		/* Not inside a UTF-8 sequence, nor after a lone backslash. */
		while (keep > 0 && ((unsigned char)sb.p[keep] & 0xc0) == 0x80)
			keep--;
		sb.len = keep;
		sbuf_lit(&sb, cut_note);
	}
	if (notes->len > 0) {
		if (sb.len > 0)
			sbuf_lit(&sb, "\n\n");
		sbuf_add(&sb, notes->p, notes->len);
	}
	/* An empty text is a message of files only. */
	sbuf_add(&sb, "", 0);
	if (sb.failed) {
		free(sb.p);
		return NULL;
	}
	*len = sb.len;
	return sb.p;
}

/*
 * One line of notes for a file the desk did not keep: "[attachment NAME
 * was not kept: WHY]", its name made safe (fname_safe) and the
 * characters Markdown acts on inside a line backslash-escaped (so that
 * it shows as written); after a blank line when notes has one already.
 */
static void
note_add(struct sbuf *notes, const char *name, const char *why)
{
	char shown[FNAME_MAX + 1];

	fname_safe(name, FT_UNKNOWN, shown);
	if (notes->len > 0)
		sbuf_lit(notes, "\n\n");
	sbuf_lit(notes, "[attachment ");
	for (const char *p = shown; *p != '\0'; p++) {
		if (strchr("\\`*_[]()<>&!~|", *p) != NULL)
			sbuf_lit(notes, "\\");
		sbuf_add(notes, p, 1);
	}
	sbuf_printf(notes, " was not kept: %s]", why);
}

#define NOTES_MAX 20	/* files named in the notes; others counted */

/*
 * The files of m the desk keeps into *b (checked as an upload's are:
 * att_check_file), and for each it does not a line in notes
 * (note_add): a type not allowed, an empty file, over
 * max_attachment_bytes, over max_attachments_per_message, uploads turned
 * off, a forwarded mail.  The sender is not told otherwise (no backscatter): the mail is
 * taken with its notes.  *kept, *refused count them.  SUP_EIO when a
 * spool file cannot be read or flushed, SUP_ENOMEM.
 */
static sup_err
mail_files(const struct sup_conf *conf, const struct mail_in *m,
    struct att_batch *b, struct sbuf *notes, size_t *refused)
{
	char why[256], reason[80];
	const char *brief;
	size_t named = 0;
	sup_err e;

	*refused = 0;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct mail_file *mf = &m->files[i];
		struct att_file f;

		switch (mf->state) {
		case MAIL_FILE_SPOOLED: {
			struct mp_file mp = { .field = "", .name = mf->name,
				.path = mf->path, .fd = mf->fd,
				.size = mf->size, .nhead = mf->nhead };
			memcpy(mp.sha256, mf->sha256, sizeof(mp.sha256));
			memcpy(mp.head, mf->head, sizeof(mp.head));
			e = att_check_file(conf, &mp, &f, why, sizeof(why),
			    &brief);
			if (e == SUP_OK) {
				if ((e = att_batch_add(b, &f)) != SUP_OK)
					return e;
				continue;
			}
			if (e != ATT_ETYPE && e != ATT_EEMPTY)
				return e;
			snprintf(reason, sizeof(reason), "%s", brief);
			break;
		}
		case MAIL_FILE_OFF:
			snprintf(reason, sizeof(reason), "file uploads are "
			    "turned off");
			break;
		case MAIL_FILE_TOO_MANY:
			snprintf(reason, sizeof(reason), "more than %ld files "
			    "in one message", conf->max_attachments_per_message);
			break;
		case MAIL_FILE_FORWARDED:
			snprintf(reason, sizeof(reason), "a forwarded mail "
			    "is not kept; forward its text instead");
			break;
		case MAIL_FILE_TOO_LARGE:
		default:
			snprintf(reason, sizeof(reason), "larger than %ld "
			    "bytes", conf->max_attachment_bytes);
			break;
		}
		(*refused)++;
		if (named++ < NOTES_MAX)
			note_add(notes, mf->name, reason);
	}
	*refused += m->files_more;
	if (*refused > NOTES_MAX) {
		if (notes->len > 0)
			sbuf_lit(notes, "\n\n");
		sbuf_printf(notes, "[%zu more attachments were not kept]",
		    *refused - NOTES_MAX);
	}
	return notes->failed ? SUP_ENOMEM : SUP_OK;
}

/*
 * The content and files of m's message: *content (free()), *clen, *b
 * (att_batch_free), *refused; an exit status (0, EX_TEMPFAIL).
 */
static int
message_of(const struct sup_conf *conf, const struct mail_in *m,
    char **content, size_t *clen, struct att_batch *b, size_t *refused)
{
	struct sbuf notes = { 0 };
	sup_err e;

	*content = NULL;
	if ((e = mail_files(conf, m, b, &notes, refused)) != SUP_OK) {
		say(LOG_ERR, "mail from %s: its attachments: %s", m->from,
		    sup_strerror(e));
		free(notes.p);
		return EX_TEMPFAIL;
	}
	*content = content_of(m, &notes, clen);
	free(notes.p);
	return *content != NULL ? 0 : EX_TEMPFAIL;
}

/* The subject for a new ticket: at most SUBJECT_MAX characters. */
static void
subject_of(const struct mail_in *m, const char **s, size_t *len)
{
	const char *p = m->subject;
	size_t chars = 0, i = 0;

	while (p != NULL && (*p == ' ' || *p == '\t'))
		p++;
	if (p == NULL || *p == '\0') {
		*s = "(no subject)";
		*len = strlen(*s);
		return;
	}
	for (; p[i] != '\0'; i++) {
		if (((unsigned char)p[i] & 0xc0) != 0x80 && chars++ ==
		    SUBJECT_MAX)
			break;
	}
	while (i > 0 && p[i - 1] == ' ')
		i--;
	*s = p;
	*len = i;
}

/*
 * A reply to a reply address: ticket number / user from the token, the
 * From checked, the message posted as that user (mailin_reply: the
 * status moves, counts and event as from the web, the event saying
 * channel email).
 */
static int
take_reply(struct store *s, const struct mail_in *m, uint32_t number,
    uint32_t uid, struct mailin_take *t)
{
	uint8_t uuid[UUID_LEN];
	struct sup_user u = { 0 }, sender = { 0 };
	struct att_batch files = { 0 };
	json_object *rec = NULL;
	char *content = NULL, mstr[UUID_STRLEN + 1];
	size_t clen = 0, refused = 0;
	sup_err e;
	int rc;

	if ((e = mailin_ticket_uuid(s, number, uuid)) != SUP_OK) {
		say(LOG_NOTICE, "%s: reply from %s: ticket %u: %s",
		    verdict(e), m->from, number, sup_strerror(e));
		return status_of(e);
	}
	if ((e = user_get(s, NULL, uid, &rec)) != SUP_OK ||
	    (e = user_from_record(&u, rec)) != SUP_OK) {
		say(LOG_NOTICE, "%s: reply from %s: user %u of the reply "
		    "address: %s", verdict(e), m->from, uid, sup_strerror(e));
		return status_of(e);
	}
	if (!user_is_active(u.rec)) {
		say(LOG_NOTICE, "refused: reply from %s to ticket %u: the "
		    "account %u is switched off", m->from, number, uid);
		rc = EX_DATAERR;
		goto out;
	}
	/*
	 * The token says who posts; the From only has to agree with it: the
	 * address of that user, or a staff account's (a From is easily
	 * forged, so it never makes the message anyone else's).
	 */
	t->key_user = uid;
	if (!same_address(u.rec, m->from)) {
		e = mailin_user(s, m->from, NULL, false, &sender);
		if (e != SUP_OK && e != SUP_ENOTFOUND && e != SUP_EINVAL) {
			say(LOG_NOTICE, "%s: reply from %s to ticket %u: its "
			    "sender's account: %s", verdict(e), m->from,
			    number, sup_strerror(e));
			rc = status_of(e);
			goto out;
		}
		if (e != SUP_OK || !user_is_staff(&sender) ||
		    !user_is_active(sender.rec)) {
			say(LOG_WARNING, "refused: reply to ticket %u for user "
			    "%u from %s, who is neither that user nor staff",
			    number, uid, m->from);
			rc = EX_DATAERR;
			goto out;
		}
		t->key_user = sender.id;	/* its address is in the key */
	}
	if ((m->text == NULL || m->text_len == 0) && m->nfiles == 0) {
		say(LOG_NOTICE, "refused: reply from %s to ticket %u has no "
		    "text", m->from, number);
		rc = EX_DATAERR;
		goto out;
	}
	if ((rc = message_of(s->conf, m, &content, &clen, &files,
	    &refused)) != 0)
		goto out;
	if ((e = mailin_reply(s, &u, uuid, content, clen, &files, t)) !=
	    SUP_OK) {
		say(LOG_NOTICE, "%s: reply from %s to ticket %u: %s",
		    verdict(e), m->from, number, sup_strerror(e));
		rc = status_of(e);
		goto out;
	}
	uuid_format(t->message, mstr);
	if (t->duplicate)
		say(LOG_INFO, "taken: duplicate of %s: the reply from %s to "
		    "ticket %u (%s) was taken before", mstr, m->from, number,
		    m->message_id);
	else
		say(LOG_INFO, "taken: reply from %s posted on ticket %u as "
		    "user %u, message %s (%s; %zu files kept, %zu not)",
		    m->from, number, uid, mstr, m->message_id ?
		    m->message_id : "no Message-ID: not kept", files.n,
		    refused);
	rc = 0;
out:
	att_batch_free(&files);
	free(content);
	user_clear(&u);
	user_clear(&sender);
	return rc;
}

/* A new mail: a new ticket of its sender, channel email. */
static int
take_new(struct store *s, const struct sup_conf *conf,
    const struct mail_in *m, struct mailin_take *t)
{
	struct sup_user u = { 0 };
	struct ticket_new tn = { .priority = PRI_NORMAL, .channel = CH_EMAIL };
	struct att_batch files = { 0 };
	char *content = NULL, ustr[UUID_STRLEN + 1], mstr[UUID_STRLEN + 1];
	size_t clen = 0, refused = 0;
	sup_err e;
	int rc;

	e = mailin_user(s, m->from, m->from_name, conf->mail_create_users, &u);
	if (e != SUP_OK) {
		if (e == SUP_ENOTFOUND)
			say(LOG_NOTICE, "refused: new mail from %s: no account "
			    "has that address (mail_create_users = no)",
			    m->from);
		else
			say(LOG_NOTICE, "%s: new mail from %s: %s",
			    verdict(e), m->from, sup_strerror(e));
		return e == SUP_EEXIST ? EX_DATAERR : status_of(e);
	}
	if (!user_is_active(u.rec)) {
		say(LOG_NOTICE, "refused: new mail from %s: the account is "
		    "switched off", m->from);
		rc = EX_DATAERR;
		goto out;
	}
	if ((m->text == NULL || m->text_len == 0) && m->nfiles == 0) {
		say(LOG_NOTICE, "refused: new mail from %s has no text",
		    m->from);
		rc = EX_DATAERR;
		goto out;
	}
	if ((rc = message_of(conf, m, &content, &clen, &files,
	    &refused)) != 0)
		goto out;
	subject_of(m, &tn.subject, &tn.subject_len);
	tn.content = content;
	tn.content_len = clen;
	tn.files = &files;
	t->key_user = u.id;
	if ((e = mailin_new_ticket(s, conf, &u, &tn, t)) != SUP_OK) {
		say(LOG_NOTICE, "%s: new mail from %s: %s", verdict(e),
		    m->from, sup_strerror(e));
		rc = status_of(e);
		goto out;
	}
	uuid_format(t->ticket, ustr);
	uuid_format(t->message, mstr);
	if (t->duplicate)
		say(LOG_INFO, "taken: duplicate of %s: the new mail from %s "
		    "(%s) was taken before, ticket %s", mstr, m->from,
		    m->message_id, ustr);
	else
		say(LOG_INFO, "taken: new mail from %s is ticket %s, message "
		    "%s (%s; %zu files kept, %zu not)", m->from, ustr, mstr,
		    m->message_id ? m->message_id : "no Message-ID: not kept",
		    files.n, refused);
	rc = 0;
out:
	att_batch_free(&files);
	free(content);
	user_clear(&u);
	return rc;
}

static void
usage(void)
{
	fputs("usage: support-mailin [--conf FILE] [--recipient ADDR] "
	    "[--sender ADDR] < mail\n", stderr);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "recipient", required_argument, NULL, 'r' },
		{ "sender", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_file = NULL, *rcpt = NULL, *sender = NULL, *why, *tok;
	struct sup_conf conf;
	struct mail_in m;
	struct mail_file_limits flim = { 0 };
	struct mp_limits mlim;
	char spool[ATT_PATH_MAX];
	struct store s;
	uint8_t key[REPLY_KEY_LEN], seen[MAILIN_SEEN_KEY_LEN];
	uint8_t prev[UUID_LEN];
	char pstr[UUID_STRLEN + 1];
	struct mailin_take take = { 0 };
	uint32_t number = 0, uid = 0;
	bool reply, over, store_open_ok = false, have_key;
	char *buf = NULL;
	size_t len = 0, tlen = 0;
	sup_err e;
	int c, rc;

	memset(&m, 0, sizeof(m));
	/* Connected now: a confined process can make no socket (below). */
	openlog("support-mailin", LOG_PID | LOG_NDELAY, LOG_MAIL);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_file = optarg; break;
		case 'r': rcpt = optarg; break;
		case 's': sender = optarg; break;
		case 'h': usage(); return 0;
		default: usage(); return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage();
		return EX_USAGE;
	}
	if (rcpt == NULL && (rcpt = getenv("ORIGINAL_RECIPIENT")) == NULL)
		rcpt = getenv("RECIPIENT");
	if (sender == NULL)
		sender = getenv("SENDER");
	if (sodium_init() < 0)
		return EX_SOFTWARE;
	if (conf_load(&conf, conf_path(conf_file)) != SUP_OK) {
		say(LOG_ERR, "%s", conf.errmsg);
		conf_free(&conf);
		return EX_CONFIG;
	}
	signal(SIGALRM, on_alarm);
	alarm((unsigned)conf.request_timeout_s);
	/*
	 * What lies outside the store is read now -- the reply key's
	 * secret_file, GMime's set-up and the charsets' iconv modules -- and
	 * the process confined (docs/security.md, "Confinement"), before a
	 * byte of the mail is read: the parse of outside bytes, and all that
	 * follows, runs with files only under data_dir, templates_dir and
	 * the temporary directory, and the workers' system calls.  The store
	 * is opened after (confined, as a worker reopens it).
	 */
	have_key = reply_key_load(&conf, key) == SUP_OK;
	(void)mail_parse_prepare();
	if (confine_worker(&conf, true) != SUP_OK) {
		say(LOG_ERR, "cannot confine this process (confine = no in "
		    "support.conf runs it unconfined): left for the MTA to "
		    "retry");
		rc = EX_CONFIG;
		goto out;
	}
	if ((rc = read_mail(conf.mail_max_bytes, &buf, &len)) != 0) {
		if (rc == EX_DATAERR)
			say(LOG_NOTICE, "refused: the mail is larger than "
			    "mail_max_bytes (%ld)", conf.mail_max_bytes);
		else
			say(LOG_ERR, "cannot read the mail: %s",
			    rc == EX_IOERR ? strerror(errno) : "out of memory");
		goto out;
	}
	/*
	 * The attachments are decoded to spool files in the store's
	 * files/tmp/ (made here when missing), as uploads are.
	 */
	flim.enabled = conf.enable_file_uploads;
	flim.max_bytes = (uint64_t)conf.max_attachment_bytes;
	flim.max_files = (size_t)conf.max_attachments_per_message;
	if (flim.enabled) {
		if (att_limits(&conf, &mlim, spool) != SUP_OK) {
			say(LOG_ERR, "cannot make the spool directory under "
			    "%s/files: left for the MTA to retry",
			    conf.data_dir);
			rc = EX_TEMPFAIL;
			goto out;
		}
		flim.spool_dir = spool;
	}
	if ((e = mail_parse_files(buf, len, &flim, &m)) != SUP_OK) {
		say(LOG_NOTICE, "refused: %s", e == SUP_EINVAL ?
		    "not a mail (no header)" : sup_strerror(e));
		rc = e == SUP_EINVAL ? EX_DATAERR : EX_TEMPFAIL;
		goto out;
	}
	if ((why = mail_screen(&m, conf.support_email, sender)) != NULL) {
		say(LOG_INFO, "dropped: %s, from %s (%s)", why,
		    m.from ? m.from : "nobody", m.message_id ? m.message_id :
		    "no Message-ID");
		rc = 0;
		goto out;
	}
	if (m.from == NULL || !user_email_valid(m.from)) {
		say(LOG_NOTICE, "refused: no sender address (From) to take "
		    "the mail from");
		rc = EX_DATAERR;
		goto out;
	}
	reply = find_token(&m, rcpt, conf.support_email, &tok, &tlen);
	if (reply) {
		if (!have_key) {
			say(LOG_ERR, "a reply from %s, but secret_file is not "
			    "set or not a readable file of 32 bytes or more: "
			    "left for the MTA to retry", m.from);
			rc = EX_CONFIG;
			goto out;
		}
		e = reply_token_check(key, tok, tlen, reply_day(time_now_us()),
		    &number, &uid);
		if (e != SUP_OK) {
			say(LOG_WARNING, "refused: reply from %s to a reply "
			    "address that is %s", m.from, e == SUP_EFORBIDDEN ?
			    "expired" : e == SUP_EUNAUTH ? "forged" :
			    "malformed");
			rc = EX_DATAERR;
			goto out;
		}
	}
	if ((e = store_open(&s, &conf, desk_areas)) != SUP_OK) {
		say(LOG_ERR, "cannot open the store in %s: %s", conf.data_dir,
		    sup_strerror(e));
		rc = EX_TEMPFAIL;
		goto out;
	}
	store_open_ok = true;
	/*
	 * A mail taken before (its Message-ID from this sender, to this
	 * ticket or as a new mail) is a delivery again: answered as taken
	 * before anything else is looked at, so that it is neither counted
	 * nor refused for what changed since (a closed ticket, the open
	 * ticket limit).  The take looks again in its transaction, for two
	 * deliveries at once.
	 */
	take.now_us = time_now_us();
	if (mailin_seen_key(m.from, m.message_id, reply ? number : 0, seen)) {
		take.key = seen;
		e = mailin_seen_get(&s, NULL, seen, take.now_us, prev);
		if (e == SUP_OK) {
			uuid_format(prev, pstr);
			say(LOG_INFO, "taken: duplicate of %s: the mail from %s "
			    "(%s) was taken before", pstr, m.from,
			    m.message_id);
			rc = 0;
			goto out;
		}
		if (e != SUP_ENOTFOUND) {
			say(LOG_ERR, "mail from %s: the store: %s", m.from,
			    sup_strerror(e));
			rc = status_of(e);
			goto out;
		}
	}
	if ((e = mailin_rate_take(&s, m.from, take.now_us,
	    conf.mail_max_per_sender_hour, &over)) != SUP_OK) {
		say(LOG_ERR, "mail from %s: the store: %s", m.from,
		    sup_strerror(e));
		rc = status_of(e);
		goto out;
	}
	if (over) {
		say(LOG_NOTICE, "dropped: more than %ld mails from %s this "
		    "hour (mail_max_per_sender_hour)",
		    conf.mail_max_per_sender_hour, m.from);
		rc = 0;
		goto out;
	}
	rc = reply ? take_reply(&s, &m, number, uid, &take) :
	    take_new(&s, &conf, &m, &take);
out:
	sodium_memzero(key, sizeof(key));
	if (store_open_ok)
		store_close(&s);
	mail_parse_release();
	mail_in_free(&m);
	free(buf);
	conf_free(&conf);
	closelog();
	return rc;
}
