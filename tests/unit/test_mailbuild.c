/*
 * test_mailbuild.c - the desk's outgoing messages (lib/mail/mailbuild.c):
 * the headers a well-behaved automated sender gives, each once
 * (MIME-Version, Auto-Submitted, Message-ID, In-Reply-To, References,
 * Date, Reply-To), names and subjects with non-ASCII as encoded words,
 * every byte 7-bit, multipart/alternative of a UTF-8 text and HTML part;
 * header injection (a line break in a subject, a name, an id), a bad
 * address and text that is not UTF-8 refused.  (test_mail.py reads the
 * same messages with Python's email package, as a mail client would.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailbuild.h"
#include "sup.h"

#include "tap.h"

/* The number of lines of msg that start with head (e.g. "Date: "). */
static int
lines_starting(const char *msg, const char *head)
{
	int n = 0;
	size_t len = strlen(head);

	for (const char *p = msg; p != NULL && *p != '\0';) {
		if (strncasecmp(p, head, len) == 0)
			n++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return n;
}

static struct mail_msg
sample(void)
{
	static const char text[] = "Grüße, Zoë!\nhttp://desk.example/t/\n";
	static const char html[] = "<p>Grüße, <b>Zoë</b>!</p>\n";
	struct mail_msg m = {
		.from = { "Support", "help@example.com" },
		.to = { "Zoë Ångström", "zoe@example.com" },
		.reply_to = { NULL, "help@example.com" },
		.subject = "[#7] Drucker kaputt ☃",
		.message_id = "0193a0c4-0000-7000-8000-000000000001@example.com",
		.thread_id = "0193a0c4-0000-7000-8000-0000000000aa@example.com",
		.date_us = 1796000000LL * 1000000,
		.text = text, .text_len = sizeof(text) - 1,
		.html = html, .html_len = sizeof(html) - 1,
	};
	return m;
}

static void
test_build(void)
{
	struct mail_msg m = sample();
	char *out = NULL;
	size_t len = 0;
	bool seven = true;

	is_err(mail_build(&m, &out, &len), SUP_OK, "build");
	if (out == NULL)
		bail_out("no message");
	is_int(strlen(out), len, "  NUL-terminated at its length");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)out[i] >= 0x80)
			seven = false;
	ok(seven, "  every byte 7-bit (encoded words, quoted-printable)");
	is_int(lines_starting(out, "MIME-Version: 1.0"), 1,
	    "  MIME-Version once");
	is_int(lines_starting(out, "Auto-Submitted: auto-generated"), 1,
	    "  Auto-Submitted: auto-generated");
	is_int(lines_starting(out, "Message-Id: <0193a0c4-0000-7000-8000-"
	    "000000000001@example.com>"), 1, "  Message-ID, bracketed");
	is_int(lines_starting(out, "In-Reply-To: <0193a0c4-0000-7000-8000-"
	    "0000000000aa@example.com>"), 1, "  In-Reply-To: the thread");
	is_int(lines_starting(out, "References: <0193a0c4-0000-7000-8000-"
	    "0000000000aa@example.com>"), 1, "  References: the thread");
	is_int(lines_starting(out, "Date: "), 1, "  Date");
	is_int(lines_starting(out, "Reply-To: "), 1, "  Reply-To");
	is_int(lines_starting(out, "From: Support <help@example.com>"), 1,
	    "  From");
	ok(lines_starting(out, "Subject: [#7] Drucker kaputt =?") == 1 ||
	    lines_starting(out, "Subject: =?") == 1,
	    "  the subject as encoded words");
	ok(lines_starting(out, "To: =?") == 1, "  the name as encoded words");
	ok(strstr(out, "<zoe@example.com>") != NULL, "  the address as is");
	ok(strstr(out, "multipart/alternative") != NULL,
	    "  multipart/alternative");
	ok(strstr(out, "text/plain; charset=utf-8") != NULL,
	    "  a UTF-8 text part");
	ok(strstr(out, "text/html; charset=utf-8") != NULL,
	    "  a UTF-8 HTML part");
	ok(strstr(out, "text/plain") < strstr(out, "text/html"),
	    "  the text first (the least preferred)");
	ok(strstr(out, "quoted-printable") != NULL,
	    "  non-ASCII parts quoted-printable");
	free(out);

	m.thread_id = NULL;
	is_err(mail_build(&m, &out, &len), SUP_OK, "build without a thread");
	is_int(lines_starting(out, "In-Reply-To:") + lines_starting(out,
	    "References:"), 0, "  no In-Reply-To, no References");
	free(out);
}

static void
test_refused(void)
{
	struct mail_msg m;
	char *out = (char *)1;
	size_t len = 1;

	m = sample();
	m.subject = "Hi\r\nBcc: victim@example.com";
	is_err(mail_build(&m, &out, &len), SUP_EINVAL,
	    "a line break in the subject");
	ok(out == NULL && len == 0, "  nothing made");
	m = sample();
	m.to.name = "Zoë\nBcc: victim@example.com";
	is_err(mail_build(&m, &out, &len), SUP_EINVAL,
	    "a line break in a name");
	m = sample();
	m.message_id = "x@example.com>\nX-Evil: 1";
	is_err(mail_build(&m, &out, &len), SUP_EINVAL,
	    "a line break in the Message-ID");
	m = sample();
	m.to.addr = "zoe@example.com, victim@example.com";
	is_err(mail_build(&m, &out, &len), SUP_EINVAL,
	    "two addresses for one");
	m = sample();
	m.to.addr = "";
	is_err(mail_build(&m, &out, &len), SUP_EINVAL, "no address");
	m = sample();
	m.text = "\xff\xfe";
	m.text_len = 2;
	is_err(mail_build(&m, &out, &len), SUP_EINVAL,
	    "a text part that is not UTF-8");
	m = sample();
	m.subject = "";
	is_err(mail_build(&m, &out, &len), SUP_EINVAL, "no subject");
}

int
main(void)
{
	test_build();
	test_refused();
	is_str(mail_domain("help@example.com"), "example.com", "mail_domain");
	is_str(mail_domain("help"), "", "mail_domain of no address");
	return done_testing();
}
