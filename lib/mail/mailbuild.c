/*
 * mailbuild.c - the desk's outgoing messages, with GMime (mailbuild.h).
 */
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mailbuild.h"
#include "util.h"

void
mail_init(void)
{
	static bool done;

	if (!done) {
		g_mime_init();
		done = true;
	}
}

const char *
mail_domain(const char *addr)
{
	const char *at = addr != NULL ? strrchr(addr, '@') : NULL;

	return at != NULL ? at + 1 : "";
}

/* Is s present and free of line breaks (a header's value)? */
static bool
one_line(const char *s)
{
	return s != NULL && s[0] != '\0' && strpbrk(s, "\r\n") == NULL;
}

/*
 * Is a an address alone (no space, brackets, quote or comma), with a name
 * of one line?
 */
static bool
addr_ok(const struct mail_addr *a)
{
	return one_line(a->addr) && strpbrk(a->addr, " <>\",") == NULL &&
	    (a->name == NULL || a->name[0] == '\0' || one_line(a->name));
}

/* A text part of subtype (plain, html) holding text[0..len), or NULL. */
static GMimeObject *
text_part(const char *subtype, const char *text, size_t len)
{
	GMimeTextPart *p = g_mime_text_part_new_with_subtype(subtype);
	char *copy = g_strndup(text, len);
	GMimeContentEncoding enc;

	g_mime_text_part_set_text(p, copy);
	g_free(copy);
	g_mime_text_part_set_charset(p, "utf-8");
	/* 7bit when it can be (plain ASCII, short lines), else QP. */
	enc = g_mime_part_get_best_content_encoding(GMIME_PART(p),
	    GMIME_ENCODING_CONSTRAINT_7BIT);
	if (enc != GMIME_CONTENT_ENCODING_7BIT)
		enc = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
	g_mime_part_set_content_encoding(GMIME_PART(p), enc);
	return GMIME_OBJECT(p);
}

sup_err
mail_build(const struct mail_msg *m, char **out, size_t *len)
{
	GMimeMessage *msg = NULL;
	GMimeMultipart *alt = NULL;
	GMimeObject *part;
	GMimeStream *mem = NULL;
	GMimeFormatOptions *opts = NULL;
	GDateTime *date = NULL;
	GByteArray *bytes;
	char ref[512];
	sup_err e = SUP_ENOMEM;

	*out = NULL;
	*len = 0;
	if (!addr_ok(&m->from) || !addr_ok(&m->to) || !addr_ok(&m->reply_to) ||
	    !one_line(m->subject) || !one_line(m->message_id) ||
	    (m->thread_id != NULL && !one_line(m->thread_id)) ||
	    m->text == NULL || m->html == NULL ||
	    utf8_len(m->text, m->text_len) < 0 ||
	    utf8_len(m->html, m->html_len) < 0 ||
	    utf8_len(m->subject, strlen(m->subject)) < 0)
		return SUP_EINVAL;
	mail_init();
	msg = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, m->from.name,
	    m->from.addr);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, m->to.name,
	    m->to.addr);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO,
	    m->reply_to.name, m->reply_to.addr);
	g_mime_message_set_subject(msg, m->subject, "utf-8");
	date = g_date_time_new_from_unix_utc(m->date_us / 1000000);
	if (date == NULL)
		goto out;
	g_mime_message_set_date(msg, date);
	g_mime_message_set_message_id(msg, m->message_id);
	if (m->thread_id != NULL) {
		if ((size_t)snprintf(ref, sizeof(ref), "<%s>", m->thread_id) >=
		    sizeof(ref)) {
			e = SUP_EINVAL;
			goto out;
		}
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", ref,
		    NULL);
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", ref,
		    NULL);
	}
	/* RFC 3834: an automatic message, never to be answered by one. */
	g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted",
	    "auto-generated", NULL);
	g_mime_object_set_header(GMIME_OBJECT(msg), "MIME-Version", "1.0",
	    NULL);

	alt = g_mime_multipart_new_with_subtype("alternative");
	part = text_part("plain", m->text, m->text_len);
	g_mime_multipart_add(alt, part);
	g_object_unref(part);
	part = text_part("html", m->html, m->html_len);
	g_mime_multipart_add(alt, part);
	g_object_unref(part);
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(alt));

	mem = g_mime_stream_mem_new();
	opts = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(opts,
	    GMIME_NEWLINE_FORMAT_UNIX);
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), opts, mem) < 0)
		goto out;
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	if ((*out = malloc(bytes->len + 1)) == NULL)
		goto out;
	memcpy(*out, bytes->data, bytes->len);
	(*out)[bytes->len] = '\0';
	*len = bytes->len;
	e = SUP_OK;
out:
	if (opts != NULL)
		g_mime_format_options_free(opts);
	if (mem != NULL)
		g_object_unref(mem);
	if (alt != NULL)
		g_object_unref(alt);
	if (date != NULL)
		g_date_time_unref(date);
	if (msg != NULL)
		g_object_unref(msg);
	return e;
}
