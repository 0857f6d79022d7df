/*
 * mailparse.c - a mail read with GMime (lib/mail/mailparse.h): its
 * addresses and the headers that mark automatic mail, its text part (or
 * its HTML part made text) decoded from its transfer encoding and its
 * charset to UTF-8, and the screen of what must be dropped.
 *
 * GMime and glib live only in the programs that link lib/libmail.a
 * (support-mailin), never in the FastCGI programs.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <sodium.h>

#include "mailparse.h"

#define PART_DEPTH_MAX 32	/* multiparts nested deeper are not read */
#define DECODE_CHUNK 65536	/* bytes of a part decoded at a time */

/* A new copy of s (NULL for NULL); *failed when out of memory. */
static char *
dup_or_null(const char *s, bool *failed)
{
	char *c;

	if (s == NULL)
		return NULL;
	if ((c = strdup(s)) == NULL)
		*failed = true;
	return c;
}

/*
 * Make text[0..*len) valid UTF-8 fit for the desk, in a new string
 * (free()): bytes that are not UTF-8 become U+FFFD; "\r" goes; control
 * characters other than "\n" and "\t" go (with oneline, "\n" and "\t"
 * become spaces).  NULL when out of memory.
 */
static char *
clean_text(const char *text, size_t *len, bool oneline)
{
	gchar *valid = g_utf8_make_valid(text, (gssize)*len);
	size_t n, w = 0;
	char *out;

	if (valid == NULL)
		return NULL;
	n = strlen(valid);
	if ((out = malloc(n + 1)) == NULL) {
		g_free(valid);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)valid[i];
		if (c == '\n' || c == '\t') {
			out[w++] = oneline ? ' ' : (char)c;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			continue;
		out[w++] = (char)c;
	}
	out[w] = '\0';
	g_free(valid);
	*len = w;
	return out;
}

/* Add the mailbox addresses of list to m->rcpt (as many as fit). */
static void
add_rcpts(struct mail_in *m, InternetAddressList *list, bool *failed)
{
	int n = list != NULL ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n && m->nrcpt < MAIL_RCPT_MAX; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		const char *a;
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		a = internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(ia));
		if (a == NULL || *a == '\0')
			continue;
		if ((m->rcpt[m->nrcpt] = strdup(a)) == NULL) {
			*failed = true;
			return;
		}
		m->nrcpt++;
	}
}

/* The addresses of a header's raw value, added to m->rcpt. */
static void
add_rcpt_header(struct mail_in *m, const char *value, bool *failed)
{
	InternetAddressList *list;

	if (value == NULL)
		return;
	if ((list = internet_address_list_parse(NULL, value)) == NULL)
		return;
	add_rcpts(m, list, failed);
	g_object_unref(list);
}

/* value without its spaces and comments after ';' or '(', in buf. */
static void
header_word(const char *value, char *buf, size_t n)
{
	size_t w = 0;

	while (*value != '\0' && isspace((unsigned char)*value))
		value++;
	while (*value != '\0' && *value != ';' && *value != '(' &&
	    !isspace((unsigned char)*value) && w + 1 < n)
		buf[w++] = *value++;
	buf[w] = '\0';
}

/* The headers that say what kind of mail it is. */
static void
read_headers(struct mail_in *m, GMimeObject *msg, bool *failed)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(msg);
	int n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	char word[64];

	/* Delivered-To and X-Original-To first: an MTA's, in its order. */
	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		const char *value = g_mime_header_get_value(h);
		if (name == NULL)
			continue;
		if (value == NULL)
			value = "";
		if (strcasecmp(name, "Delivered-To") == 0 ||
		    strcasecmp(name, "X-Original-To") == 0)
			add_rcpt_header(m, value, failed);
		else if (strcasecmp(name, "Auto-Submitted") == 0 &&
		    m->auto_submitted == NULL) {
			header_word(value, word, sizeof(word));
			m->auto_submitted = dup_or_null(word, failed);
		} else if (strcasecmp(name, "Precedence") == 0 &&
		    m->precedence == NULL) {
			header_word(value, word, sizeof(word));
			m->precedence = dup_or_null(word, failed);
		} else if (strcasecmp(name, "List-Id") == 0)
			m->list_id = true;
		else if (strcasecmp(name, "X-Autoreply") == 0 ||
		    strcasecmp(name, "X-Autorespond") == 0)
			m->auto_reply = true;
		else if (strcasecmp(name, "Return-Path") == 0) {
			const char *v = value;
			while (isspace((unsigned char)*v))
				v++;
			/* "<>", with or without spaces inside. */
			if (*v == '<') {
				v++;
				while (isspace((unsigned char)*v))
					v++;
				if (*v == '>')
					m->null_return_path = true;
			}
		}
	}
}

/*
 * The first text/plain and text/html parts that are not attachments, in
 * a depth-first walk (a multipart/alternative has the plain part first;
 * a forwarded message, message/rfc822, is not walked into).
 */
static void
find_text(GMimeObject *o, int depth, GMimeObject **plain,
    GMimeObject **html)
{
	GMimeContentType *ct;

	if (o == NULL || depth > PART_DEPTH_MAX)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n && *plain == NULL; i++)
			find_text(g_mime_multipart_get_part(mp, i), depth + 1,
			    plain, html);
		return;
	}
	if (!GMIME_IS_PART(o) || g_mime_part_is_attachment(GMIME_PART(o)))
		return;
	ct = g_mime_object_get_content_type(o);
	if (ct == NULL)
		return;
	if (*plain == NULL && g_mime_content_type_is_type(ct, "text", "plain"))
		*plain = o;
	else if (*html == NULL && g_mime_content_type_is_type(ct, "text",
	    "html"))
		*html = o;
}

/*
 * The content of part o, transfer-decoded and converted from its charset
 * to UTF-8 (a charset iconv does not know: the bytes as they are, made
 * valid later), into a new string (g_free) and *len.  NULL when out of
 * memory or when it has no content.
 */
static char *
part_text(GMimeObject *o, size_t *len)
{
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
	const char *charset = g_mime_object_get_content_type_parameter(o,
	    "charset");
	GMimeStream *mem, *filtered;
	GByteArray *ba;
	char *text = NULL;

	if (w == NULL)
		return NULL;
	mem = g_mime_stream_mem_new();
	filtered = g_mime_stream_filter_new(mem);
	if (charset != NULL && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "us-ascii") != 0) {
		GMimeFilter *f = g_mime_filter_charset_new(charset, "UTF-8");
		if (f != NULL) {
			g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), f);
			g_object_unref(f);
		}
	}
	if (g_mime_data_wrapper_write_to_stream(w, filtered) >= 0 &&
	    g_mime_stream_flush(filtered) == 0) {
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		if ((text = g_malloc(ba->len + 1)) != NULL) {
			/* An empty part's array has no data at all. */
			if (ba->len > 0)
				memcpy(text, ba->data, ba->len);
			text[ba->len] = '\0';
			*len = ba->len;
		}
	}
	g_object_unref(filtered);
	g_object_unref(mem);
	return text;
}

/*
 * The mail's text into m->text: the plain part, else the HTML made text
 * (find_text's).
 */
static sup_err
read_text(struct mail_in *m, GMimeObject *plain, GMimeObject *html)
{
	struct sbuf sb = { 0 };
	char *raw, *clean;
	size_t len = 0;

	if (plain == NULL && html == NULL)
		return SUP_OK;
	if ((raw = part_text(plain != NULL ? plain : html, &len)) == NULL)
		return SUP_OK;
	clean = clean_text(raw, &len, false);
	g_free(raw);
	if (clean == NULL)
		return SUP_ENOMEM;
	if (plain == NULL) {
		mail_html_text(clean, len, &sb);
		free(clean);
		if (sb.failed) {
			free(sb.p);
			return SUP_ENOMEM;
		}
		if (sb.p == NULL)
			return SUP_OK;
		clean = sb.p;
		len = sb.len;
		m->from_html = true;
	}
	mail_trim_reply(clean, &len);
	m->text = clean;
	m->text_len = len;
	return SUP_OK;
}

/*
 * Is o, a leaf part that is not the text taken, an attachment?  One
 * marked so (Content-Disposition: attachment), or an inline part that is
 * not text (an image beside the text) or is text with a file name (as
 * Apple Mail sends a text file); never a signature of multipart/signed.
 */
static bool
is_file_part(GMimeObject *o)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);

	if (ct != NULL && (g_mime_content_type_is_type(ct, "application",
	    "pgp-signature") || g_mime_content_type_is_type(ct, "application",
	    "pkcs7-signature") || g_mime_content_type_is_type(ct,
	    "application", "x-pkcs7-signature")))
		return false;
	if (g_mime_part_is_attachment(GMIME_PART(o)))
		return true;
	if (ct == NULL || !g_mime_content_type_is_type(ct, "text", "*"))
		return true;
	return g_mime_part_get_filename(GMIME_PART(o)) != NULL;
}

/* Close and remove f's spool file, if any. */
static void
file_unspool(struct mail_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->path != NULL)
		unlink(f->path);
	free(f->path);
	f->path = NULL;
}

/*
 * Decode the content of part o into a new spool file for f, a piece at a
 * time through GMime's decoding filter, the SHA-256 on the way; past
 * lim->max_bytes it stops and removes the file (MAIL_FILE_TOO_LARGE).
 */
static sup_err
spool_part(GMimeObject *o, const struct mail_file_limits *lim,
    struct mail_file *f)
{
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
	GMimeStream *raw, *filtered = NULL;
	GMimeContentEncoding enc;
	crypto_hash_sha256_state sha;
	uint8_t rnd[12];
	char hex[2 * sizeof(rnd) + 1], *buf = NULL;
	sup_err e = SUP_OK;
	ssize_t n;

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	if (asprintf(&f->path, "%s/mail-%s", lim->spool_dir, hex) < 0) {
		f->path = NULL;
		return SUP_ENOMEM;
	}
	if ((f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640)) < 0) {
		fprintf(stderr, "support: spool file %s: %s\n", f->path,
		    strerror(errno));
		free(f->path);
		f->path = NULL;
		return SUP_EIO;
	}
	crypto_hash_sha256_init(&sha);
	if (w == NULL || (raw = g_mime_data_wrapper_get_stream(w)) == NULL)
		goto done;		/* a part with no content: empty */
	if ((buf = malloc(DECODE_CHUNK)) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	g_mime_stream_reset(raw);
	filtered = g_mime_stream_filter_new(raw);
	enc = g_mime_data_wrapper_get_encoding(w);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *dec = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), dec);
		g_object_unref(dec);
	}
	while (!g_mime_stream_eos(filtered)) {
		if ((n = g_mime_stream_read(filtered, buf, DECODE_CHUNK)) < 0) {
			e = SUP_EIO;
			goto out;
		}
		if ((uint64_t)n > lim->max_bytes - f->size) {
			/* Over the cap: nothing more is decoded. */
			f->state = MAIL_FILE_TOO_LARGE;
			f->size = lim->max_bytes + 1;
			file_unspool(f);
			goto out;
		}
		if (f->nhead < sizeof(f->head)) {
			size_t k = sizeof(f->head) - f->nhead;
			if (k > (size_t)n)
				k = (size_t)n;
			memcpy(f->head + f->nhead, buf, k);
			f->nhead += k;
		}
		crypto_hash_sha256_update(&sha, (unsigned char *)buf,
		    (size_t)n);
		if (!write_all(f->fd, buf, (size_t)n)) {
			fprintf(stderr, "support: spool file %s: %s\n",
			    f->path, strerror(errno));
			e = SUP_EIO;
			goto out;
		}
		f->size += (uint64_t)n;
	}
done:
	crypto_hash_sha256_final(&sha, f->sha256);
	if (lseek(f->fd, 0, SEEK_SET) != 0)
		e = SUP_EIO;
out:
	if (filtered != NULL)
		g_object_unref(filtered);
	free(buf);
	if (e != SUP_OK)
		file_unspool(f);
	return e;
}

/*
 * A new entry of m->files named name (NULL: ""), into *f; *f NULL when
 * m->files is full (the file only counted, in m->files_more).
 * SUP_ENOMEM.
 */
static sup_err
file_add(struct mail_in *m, const char *name, struct mail_file **f)
{
	*f = NULL;
	if (m->nfiles == MAIL_FILES_MAX) {
		m->files_more++;
		return SUP_OK;
	}
	if (m->files == NULL && (m->files = calloc(MAIL_FILES_MAX,
	    sizeof(*m->files))) == NULL)
		return SUP_ENOMEM;
	*f = &m->files[m->nfiles++];
	(*f)->fd = -1;
	if (((*f)->name = strdup(name != NULL ? name : "")) == NULL)
		return SUP_ENOMEM;
	return SUP_OK;
}

/*
 * A forwarded mail, o (message/rfc822), which is neither walked into nor
 * kept: an entry of m->files (MAIL_FILE_FORWARDED) so that the message
 * says it was not kept, named by its file name, else its subject.
 */
static sup_err
forwarded(struct mail_in *m, GMimeObject *o)
{
	GMimeMessage *fw = g_mime_message_part_get_message(
	    GMIME_MESSAGE_PART(o));
	const char *name = g_mime_object_get_content_disposition_parameter(o,
	    "filename");
	struct mail_file *f;
	char *clean = NULL;
	size_t len;
	sup_err e;

	if (name == NULL && fw != NULL)
		name = g_mime_message_get_subject(fw);
	if (name != NULL) {
		len = strlen(name);
		/* One line, valid UTF-8, as the names of parts are made. */
		if ((clean = clean_text(name, &len, true)) == NULL)
			return SUP_ENOMEM;
	}
	e = file_add(m, clean != NULL ? clean : "a forwarded mail", &f);
	if (f != NULL)
		f->state = MAIL_FILE_FORWARDED;
	free(clean);
	return e;
}

/* The attachments of the mail under o (the text parts taken excepted). */
static sup_err
read_files(struct mail_in *m, GMimeObject *o, int depth,
    const GMimeObject *plain, const GMimeObject *html,
    const struct mail_file_limits *lim, size_t *decoded)
{
	struct mail_file *f;
	sup_err e;

	if (o == NULL || depth > PART_DEPTH_MAX)
		return SUP_OK;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++)
			if ((e = read_files(m, g_mime_multipart_get_part(mp, i),
			    depth + 1, plain, html, lim, decoded)) != SUP_OK)
				return e;
		return SUP_OK;
	}
	if (GMIME_IS_MESSAGE_PART(o))
		return forwarded(m, o);
	if (!GMIME_IS_PART(o) || o == plain || o == html || !is_file_part(o))
		return SUP_OK;
	if ((e = file_add(m, g_mime_part_get_filename(GMIME_PART(o)), &f)) !=
	    SUP_OK || f == NULL)
		return e;
	if (!lim->enabled) {
		f->state = MAIL_FILE_OFF;
		return SUP_OK;
	}
	if (*decoded >= lim->max_files) {
		f->state = MAIL_FILE_TOO_MANY;
		return SUP_OK;
	}
	(*decoded)++;
	f->state = MAIL_FILE_SPOOLED;
	return spool_part(o, lim, f);
}

/* GMime once per process (g_mime_init may be called only once). */
static void
gmime_once(void)
{
	static bool done;

	if (!done) {
		g_mime_init();
		done = true;
	}
}

/*
 * The charsets mail is written in, as GMime names them: their iconv
 * modules are loaded by mail_parse_prepare (glibc keeps a module loaded
 * while a descriptor of it is open), so that a process confined after it
 * -- which can neither open the gconv directory nor map code -- converts
 * them still.
 */
static const char *const known_charsets[] = {
	"iso-8859-1", "iso-8859-2", "iso-8859-3", "iso-8859-4",
	"iso-8859-5", "iso-8859-6", "iso-8859-7", "iso-8859-8",
	"iso-8859-9", "iso-8859-10", "iso-8859-11", "iso-8859-13",
	"iso-8859-14", "iso-8859-15", "iso-8859-16",
	"windows-1250", "windows-1251", "windows-1252", "windows-1253",
	"windows-1254", "windows-1255", "windows-1256", "windows-1257",
	"windows-1258", "koi8-r", "koi8-u", "ibm866", "ibm850", "ibm437",
	"macintosh", "tis-620",
	"shift_jis", "euc-jp", "iso-2022-jp", "euc-kr", "iso-2022-kr",
	"gb2312", "gbk", "gb18030", "big5", "big5-hkscs",
	"utf-16", "utf-16le", "utf-16be", "utf-7",
};
static GMimeFilter *charset_filters[SUP_NELEM(known_charsets)];

sup_err
mail_parse_prepare(void)
{
	gmime_once();
	for (size_t i = 0; i < SUP_NELEM(known_charsets); i++)
		if (charset_filters[i] == NULL)
			/* NULL: this system's iconv lacks it (not an error). */
			charset_filters[i] = g_mime_filter_charset_new(
			    known_charsets[i], "UTF-8");
	return SUP_OK;
}

void
mail_parse_release(void)
{
	for (size_t i = 0; i < SUP_NELEM(known_charsets); i++)
		if (charset_filters[i] != NULL) {
			g_object_unref(charset_filters[i]);
			charset_filters[i] = NULL;
		}
}

sup_err
mail_parse(const char *data, size_t len, struct mail_in *m)
{
	return mail_parse_files(data, len, NULL, m);
}

sup_err
mail_parse_files(const char *data, size_t len,
    const struct mail_file_limits *lim, struct mail_in *m)
{
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	InternetAddressList *from;
	GMimeObject *top;
	bool failed = false;
	sup_err e = SUP_OK;
	const char *s;

	memset(m, 0, sizeof(*m));
	gmime_once();
	stream = g_mime_stream_mem_new_with_buffer(data, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg == NULL) {
		e = SUP_EINVAL;
		goto out;
	}
	/* A mail with no header at all is not one. */
	if (g_mime_header_list_get_count(g_mime_object_get_header_list(
	    GMIME_OBJECT(msg))) == 0) {
		e = SUP_EINVAL;
		goto out;
	}
	from = g_mime_message_get_from(msg);
	for (int i = 0; from != NULL && i < internet_address_list_length(from);
	    i++) {
		InternetAddress *ia = internet_address_list_get_address(from, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		s = internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(ia));
		if (s == NULL || *s == '\0')
			continue;
		{
			/* Logged: no control character may pass. */
			size_t n = strlen(s);
			if ((m->from = clean_text(s, &n, true)) == NULL)
				failed = true;
		}
		if ((s = internet_address_get_name(ia)) != NULL) {
			size_t n = strlen(s);
			if ((m->from_name = clean_text(s, &n, true)) == NULL)
				failed = true;
		}
		break;
	}
	if ((s = g_mime_message_get_subject(msg)) != NULL) {
		size_t n = strlen(s);
		if ((m->subject = clean_text(s, &n, true)) == NULL)
			failed = true;
	}
	if ((s = g_mime_message_get_message_id(msg)) != NULL) {
		size_t n = strlen(s);
		if ((m->message_id = clean_text(s, &n, true)) == NULL)
			failed = true;
	}
	read_headers(m, GMIME_OBJECT(msg), &failed);
	add_rcpts(m, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO),
	    &failed);
	add_rcpts(m, g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC),
	    &failed);
	top = g_mime_message_get_mime_part(msg);
	if (top != NULL) {
		GMimeContentType *ct = g_mime_object_get_content_type(top);
		if (ct != NULL && g_mime_content_type_is_type(ct, "multipart",
		    "report"))
			m->report = true;
		GMimeObject *plain = NULL, *html = NULL;
		size_t decoded = 0;

		find_text(top, 0, &plain, &html);
		if ((e = read_text(m, plain, html)) != SUP_OK)
			goto out;
		/* A report is dropped whole: its parts are not files. */
		if (lim != NULL && !m->report && (e = read_files(m, top, 0,
		    plain, html, lim, &decoded)) != SUP_OK)
			goto out;
	}
	if (failed)
		e = SUP_ENOMEM;
out:
	if (msg != NULL)
		g_object_unref(msg);
	if (parser != NULL)
		g_object_unref(parser);
	if (stream != NULL)
		g_object_unref(stream);
	return e;
}

void
mail_in_free(struct mail_in *m)
{
	free(m->from);
	free(m->from_name);
	free(m->subject);
	free(m->message_id);
	for (size_t i = 0; i < m->nrcpt; i++)
		free(m->rcpt[i]);
	free(m->auto_submitted);
	free(m->precedence);
	free(m->text);
	for (size_t i = 0; i < m->nfiles; i++) {
		file_unspool(&m->files[i]);
		free(m->files[i].name);
	}
	free(m->files);
	memset(m, 0, sizeof(*m));
}

/*
 * Is addr the desk's own address, or one of its reply addresses
 * (local+anything@domain of support_email = local@domain)?
 */
static bool
is_own(const char *addr, const char *support_email)
{
	const char *at, *aat;
	size_t local;

	if (support_email == NULL || (at = strchr(support_email, '@')) == NULL)
		return false;
	if (strcasecmp(addr, support_email) == 0)
		return true;
	local = (size_t)(at - support_email);
	aat = strrchr(addr, '@');
	return aat != NULL && strncasecmp(addr, support_email, local) == 0 &&
	    addr[local] == '+' && strcasecmp(aat, at) == 0;
}

const char *
mail_screen(const struct mail_in *m, const char *support_email,
    const char *sender)
{
	if (m->auto_submitted != NULL && m->auto_submitted[0] != '\0' &&
	    strcasecmp(m->auto_submitted, "no") != 0)
		return "automatic mail (Auto-Submitted)";
	if (m->auto_reply)
		return "an auto-reply (X-Autoreply)";
	if (m->precedence != NULL && (strcasecmp(m->precedence, "bulk") == 0 ||
	    strcasecmp(m->precedence, "list") == 0 ||
	    strcasecmp(m->precedence, "junk") == 0))
		return "bulk or list mail (Precedence)";
	if (m->list_id)
		return "list mail (List-Id)";
	if (m->report)
		return "a delivery or read report (multipart/report)";
	if (m->null_return_path || (sender != NULL && *sender == '\0'))
		return "a bounce (null return path)";
	if (m->from != NULL && strncasecmp(m->from, "mailer-daemon@", 14) == 0)
		return "a bounce (from MAILER-DAEMON)";
	if (m->from != NULL && is_own(m->from, support_email))
		return "mail from the desk's own address";
	return NULL;
}
