/*
 * test_mailparse.c - a mail as support-mailin reads it (lib/mail/): the
 * quote and signature of a reply trimmed, HTML made text, Markdown's HTML
 * made literal; mails parsed with GMime (addresses, charsets, transfer
 * encodings, multipart/alternative, HTML only, attachments skipped); the
 * screen of automatic mail, bounces, lists and the desk's own mail.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mailparse.h"
#include "sup.h"

#include "tap.h"

/* mail_trim_reply of text, as a new string. */
static char *
trimmed(const char *text)
{
	size_t n = strlen(text);
	char *c = strdup(text);

	mail_trim_reply(c, &n);
	c[n] = '\0';
	return c;
}

static void
check_trim(const char *text, const char *want, const char *what)
{
	char *t = trimmed(text);

	is_str(t, want, "%s", what);
	free(t);
}

static void
test_trim(void)
{
	check_trim("Thanks!\n\nOn Mon, 7 Dec 2026 at 10:00, Desk <help@x> "
	    "wrote:\n> old\n> text\n", "Thanks!", "On ... wrote: and below");
	check_trim("Thanks!\nOn Mon, 7 Dec 2026 at 10:00, Desk\n<help@x> "
	    "wrote:\n> old\n", "Thanks!", "an attribution on two lines");
	check_trim("Yes.\n\n-----Original Message-----\nFrom: x\nold\n",
	    "Yes.", "Outlook's Original Message");
	check_trim("Yes.\n________________________________\nFrom: Desk\n"
	    "Sent: today\n", "Yes.", "Outlook's underscores and From:");
	check_trim("Hi\n\n-- \nAlice\nACME\n", "Hi", "a signature");
	check_trim("Hi\n--\nnot a signature\n", "Hi\n--\nnot a signature",
	    "\"--\" without the space is text");
	check_trim("> quoted first\nmy answer\n> more quote\nend\n",
	    "my answer\nend", "interleaved > lines go");
	check_trim("Ja.\nAm 7.12.2026 um 10:00 schrieb Desk <d@x>:\n> alt\n",
	    "Ja.", "German attribution");
	check_trim("On Mon, Desk wrote:\n> alt\n", "On Mon, Desk wrote:\n> "
	    "alt", "nothing left: kept whole");
	check_trim("\n\n  \nHello\r\nWorld\r\n\n\n", "Hello\nWorld",
	    "blank lines at both ends, CRs");
	check_trim("", "", "empty");
}

static void
check_html(const char *html, const char *want, const char *what)
{
	struct sbuf sb = { 0 };

	mail_html_text(html, strlen(html), &sb);
	is_str(sb.p != NULL ? sb.p : "", want, "%s", what);
	free(sb.p);
}

static void
test_html(void)
{
	check_html("<html><head><title>T</title><style>p{}</style></head>"
	    "<body><p>Hello <b>there</b>,</p><p>line&nbsp;two<br>three"
	    "</p></body></html>", "Hello there,\n\nline two\nthree",
	    "paragraphs, br, nbsp; head and style dropped");
	check_html("<div>a &lt;b&gt; &amp; &#233;&#xe9; &eacute; &bogus; "
	    "&#0;&#x04;&#127;</div>", "a <b> & \xc3\xa9\xc3\xa9 \xc3\xa9 &bogus; "
	    "\xef\xbf\xbd", "entities: named, decimal, hex, unknown, NUL; "
	    "control characters dropped");
	check_html("<script>alert(1)</script><ul><li>one<li>two</ul>",
	    "- one\n- two", "script dropped, list items");
	check_html("<!-- <p>hidden</p> -->x < y <a href=\"a>b\">link</a>",
	    "x < y link", "comments, a lone <, > in an attribute");
	check_html("<p>a</p>\n\n\n<p></p><p></p><p>b</p>", "a\n\nb",
	    "blank lines squeezed");
	check_html("<td>a</td><td>b</td>", "a b", "cells apart");
	check_html("<p>Yes.</p><blockquote type=\"cite\"><p>old</p><blockquote>"
	    "older</blockquote>still old &amp; <b>quoted</b></blockquote>"
	    "<p>Bye</p>", "Yes.\n\nBye", "blockquotes (nested) dropped");
	check_html("a</blockquote>b", "a\nb", "a stray closing blockquote");
	check_html("<scr", "", "a cut tag");
	check_html("<style>never closed", "", "an unclosed style");
}

static void
test_md(void)
{
	struct sbuf sb = { 0 };
	const char *t = "<script>x</script> & a>b";

	mail_md_escape(t, strlen(t), &sb);
	is_str(sb.p, "\\<script\\>x\\</script\\> \\& a\\>b",
	    "<, > and & escaped for Markdown");
	free(sb.p);
}

/* Parse text into m; the result. */
static sup_err
parse(const char *text, struct mail_in *m)
{
	return mail_parse(text, strlen(text), m);
}

static void
test_parse(void)
{
	struct mail_in m;

	is_err(parse("From: =?ISO-8859-1?Q?Ren=E9?= <rene@example.org>\r\n"
	    "To: Help <help@example.com>, other@x.org\r\n"
	    "Cc: cc@x.org\r\n"
	    "Delivered-To: help+tok@example.com\r\n"
	    "Subject: =?ISO-8859-1?Q?caf=E9?=\r\n"
	    "Message-ID: <m1@example.org>\r\n"
	    "Content-Type: text/plain; charset=ISO-8859-1\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "Un caf=E9, s'il vous pla=EEt.\r\n", &m), SUP_OK,
	    "a Latin-1 quoted-printable mail");
	is_str(m.from, "rene@example.org", "From address");
	is_str(m.from_name, "Ren\xc3\xa9", "From name decoded");
	is_str(m.subject, "caf\xc3\xa9", "Subject decoded");
	is_str(m.message_id, "m1@example.org", "Message-ID without <>");
	is_int(m.nrcpt, 4, "four recipients");
	is_str(m.nrcpt > 0 ? m.rcpt[0] : NULL, "help+tok@example.com",
	    "Delivered-To first");
	is_str(m.nrcpt > 3 ? m.rcpt[3] : NULL, "cc@x.org", "Cc last");
	is_str(m.text, "Un caf\xc3\xa9, s'il vous pla\xc3\xaet.",
	    "text in UTF-8, CRLF gone");
	ok(!m.from_html, "from the plain part");
	ok(mail_screen(&m, "help@example.com", NULL) == NULL, "taken");
	mail_in_free(&m);

	is_err(parse("From: a@x.org\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=BB\n\n"
	    "--BB\nContent-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "UGxhaW4gdGV4dCDinJM=\n"
	    "--BB\nContent-Type: text/html\n\n<p>HTML</p>\n--BB--\n", &m),
	    SUP_OK, "multipart/alternative");
	is_str(m.text, "Plain text \xe2\x9c\x93", "the plain part, base64");
	mail_in_free(&m);

	is_err(parse("From: a@x.org\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=BB\n\n"
	    "--BB\nContent-Type: text/html; charset=utf-8\n\n"
	    "<p>Hi &amp; <i>bye</i></p><blockquote>On Mon, X wrote:<br>old"
	    "</blockquote>\n"
	    "--BB\nContent-Type: text/plain\nContent-Disposition: attachment;"
	    " filename=a.txt\n\nattached\n--BB--\n", &m), SUP_OK,
	    "HTML only, with a text attachment");
	is_str(m.text, "Hi & bye", "HTML made text, the quote trimmed, the "
	    "attachment not taken");
	ok(m.from_html, "from_html");
	mail_in_free(&m);

	is_err(parse("From: a@x.org\nSubject: x\nContent-Type: text/plain; "
	    "charset=Shift_JIS\nContent-Transfer-Encoding: 8bit\n\n"
	    "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd\n", &m), SUP_OK,
	    "Shift_JIS");
	is_str(m.text, "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1"
	    "\xe3\x81\xaf", "decoded to UTF-8");
	mail_in_free(&m);

	is_err(parse("From: a@x.org\nContent-Type: text/plain; charset=nope\n"
	    "\nbad \xff\xfe bytes\x01\n", &m), SUP_OK, "an unknown charset");
	is_str(m.text, "bad \xef\xbf\xbd\xef\xbf\xbd bytes",
	    "invalid bytes replaced, controls dropped");
	ok(m.subject == NULL, "no subject");
	mail_in_free(&m);

	is_err(parse("From: \"a\\\x01b\" <\"x\\\x1b[31m\"@x.org>\nMessage-ID: "
	    "<a\x07b@x>\n\nt\n", &m), SUP_OK, "control characters in From");
	ok(m.from != NULL && strpbrk(m.from, "\x01\x07\x1b") == NULL &&
	    m.message_id != NULL && strchr(m.message_id, '\x07') == NULL,
	    "none left in the address or Message-ID (they are logged): %s",
	    m.from ? m.from : "(null)");
	mail_in_free(&m);

	is_err(parse("", &m), SUP_EINVAL, "empty input is not a mail");
	mail_in_free(&m);
	is_err(parse("just some text without headers\n", &m), SUP_EINVAL,
	    "text without headers is not a mail");
	mail_in_free(&m);
	is_err(parse("Subject: no from\n\nbody\n", &m), SUP_OK,
	    "a mail without From parses");
	ok(m.from == NULL, "with no sender");
	mail_in_free(&m);
}

/* The screen's answer for a mail with these extra headers. */
static const char *
screen(const char *headers, const char *sender)
{
	static char why[128];
	struct mail_in m;
	char text[1024];
	const char *w;

	snprintf(text, sizeof(text), "From: a@x.org\nSubject: s\n%s\nbody\n",
	    headers);
	if (parse(text, &m) != SUP_OK)
		return "unparsed";
	w = mail_screen(&m, "help@example.com", sender);
	snprintf(why, sizeof(why), "%s", w != NULL ? w : "");
	mail_in_free(&m);
	return w != NULL ? why : NULL;
}

/* The spool files in dir, counted. */
static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* mail_parse_files: which parts are files, their names, bytes, limits. */
static void
test_files(void)
{
	static const char with_files[] = "From: a@x.org\nSubject: x\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=BB\n\n"
	    "--BB\nContent-Type: multipart/signed; boundary=SS\n\n"
	    "--SS\nContent-Type: text/plain\n\nThe text.\n"
	    "--SS\nContent-Type: application/pgp-signature\n\nsig\n--SS--\n"
	    "--BB\nContent-Type: application/octet-stream\n"
	    "Content-Disposition: attachment; "
	    "filename*=iso-8859-1''caf%E9.bin\n"
	    "Content-Transfer-Encoding: base64\n\nMDEyMzQ1Njc4OQ==\n"
	    "--BB\nContent-Type: image/png; name=\"eleven.png\"\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n0123456789=41\n"
	    "--BB\nContent-Type: text/plain\nContent-Disposition: inline\n\n"
	    "more text, not a file\n"
	    "--BB\nContent-Type: text/plain\nContent-Disposition: inline; "
	    "filename=notes.txt\n\nnotes\n"
	    "--BB\nContent-Type: application/pdf\nContent-Disposition: "
	    "attachment\n\n%PDF\n"
	    "--BB\nContent-Type: application/pdf\nContent-Disposition: "
	    "attachment; filename=five.pdf\n\n%PDF\n--BB--\n";
	static const char one_image[] = "From: a@x.org\nMIME-Version: 1.0\n"
	    "Content-Type: image/gif\nContent-Transfer-Encoding: base64\n\n"
	    "R0lGODlh\n";
	char dir[64];
	struct mail_file_limits lim = { .max_bytes = 10, .max_files = 3,
		.enabled = true };
	struct mail_in m;
	char buf[64];
	ssize_t n;

	tap_tmpdir(dir, sizeof(dir));
	lim.spool_dir = dir;
	is_err(mail_parse_files(with_files, strlen(with_files), &lim, &m),
	    SUP_OK, "a mail with files");
	is_str(m.text, "The text.", "the text, not the signature");
	is_int((long)m.nfiles, 5, "five files: no signature, no inline text "
	    "without a name");
	if (m.nfiles == 5) {
		is_str(m.files[0].name, "caf\xc3\xa9.bin",
		    "RFC 2231 in ISO-8859-1, as UTF-8");
		is_int(m.files[0].state, MAIL_FILE_SPOOLED, "  spooled");
		is_int((long)m.files[0].size, 10, "  10 bytes (the limit)");
		n = read(m.files[0].fd, buf, sizeof(buf));
		ok(n == 10 && memcmp(buf, "0123456789", 10) == 0,
		    "  base64 decoded");
		is_str(m.files[1].name, "eleven.png", "the Content-Type's name");
		is_int(m.files[1].state, MAIL_FILE_TOO_LARGE,
		    "  11 bytes (quoted-printable): over the limit");
		ok(m.files[1].path == NULL, "  no spool file");
		is_str(m.files[2].name, "notes.txt", "inline text with a name");
		is_int(m.files[2].state, MAIL_FILE_SPOOLED, "  spooled");
		is_str(m.files[3].name, "", "a file with no name");
		is_int(m.files[3].state, MAIL_FILE_TOO_MANY,
		    "  the fourth (the one over the size counts): over "
		    "max_files, not decoded");
		is_str(m.files[4].name, "five.pdf", "the fifth named");
		is_int(m.files[4].state, MAIL_FILE_TOO_MANY, "  not decoded");
	}
	is_int(count_files(dir), 2, "two spool files");
	mail_in_free(&m);
	is_int(count_files(dir), 0, "mail_in_free removed them");

	lim.enabled = false;
	is_err(mail_parse_files(one_image, strlen(one_image), &lim, &m),
	    SUP_OK, "a mail that is one image");
	ok(m.nfiles == 1 && m.files[0].state == MAIL_FILE_OFF,
	    "  a file, not decoded with uploads off");
	mail_in_free(&m);
	is_int(count_files(dir), 0, "  no spool file");
	tap_rmtree(dir);
}

static void
test_screen(void)
{
	ok(screen("Auto-Submitted: auto-replied", NULL) != NULL,
	    "Auto-Submitted: auto-replied dropped");
	ok(screen("Auto-Submitted: auto-generated; owner-email=x", NULL) !=
	    NULL, "auto-generated with a parameter dropped");
	ok(screen("Auto-Submitted: No", NULL) == NULL, "Auto-Submitted: no "
	    "taken");
	ok(screen("Precedence: bulk", NULL) != NULL, "Precedence: bulk");
	ok(screen("Precedence: JUNK", NULL) != NULL, "Precedence: junk");
	ok(screen("Precedence: list", NULL) != NULL, "Precedence: list");
	ok(screen("Precedence: first-class", NULL) == NULL,
	    "another Precedence taken");
	ok(screen("List-Id: <l.x.org>", NULL) != NULL, "List-Id");
	ok(screen("X-Autoreply: yes", NULL) != NULL, "X-Autoreply");
	ok(screen("Return-Path: <>", NULL) != NULL, "Return-Path: <>");
	ok(screen("Return-Path: < >", NULL) != NULL, "Return-Path: < >");
	ok(screen("Return-Path: <a@x.org>", NULL) == NULL, "a return path");
	ok(screen("", "") != NULL, "a null envelope sender");
	ok(screen("", "a@x.org") == NULL, "an envelope sender");
	ok(screen("Content-Type: multipart/report; report-type=delivery-"
	    "status; boundary=B\n\n--B\nContent-Type: text/plain\n\nx\n--B--",
	    NULL) != NULL, "multipart/report");

	struct mail_in m;
	parse("From: Help+abc@Example.com\n\nx\n", &m);
	ok(mail_screen(&m, "help@example.com", NULL) != NULL,
	    "from a reply address of the desk");
	mail_in_free(&m);
	parse("From: HELP@example.com\n\nx\n", &m);
	ok(mail_screen(&m, "help@example.com", NULL) != NULL,
	    "from the desk's address");
	ok(mail_screen(&m, "", NULL) == NULL, "unless support_email is unset");
	mail_in_free(&m);
	parse("From: MAILER-DAEMON@x.org\n\nx\n", &m);
	ok(mail_screen(&m, "help@example.com", NULL) != NULL,
	    "from MAILER-DAEMON");
	mail_in_free(&m);
}

int
main(void)
{
	test_trim();
	test_html();
	test_md();
	test_parse();
	test_files();
	test_screen();
	return done_testing();
}
