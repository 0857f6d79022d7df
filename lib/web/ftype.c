/*
 * ftype.c - file types from their bytes (ftype.h).  Written here: libmagic
 * (file's library) knows thousands of types and reads its rules from a
 * database file at run time, more than an allow-list of seven needs, and
 * a confined worker cannot reach /usr/share/misc; the seven magic numbers
 * below are fixed by their formats' specifications.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ftype.h"
#include "util.h"

static const struct {
	const char *name;
	const char *mime;
} types[FT_MAX] = {
	[FT_UNKNOWN] = { NULL, "application/octet-stream" },
	[FT_PNG] = { "png", "image/png" },
	[FT_JPEG] = { "jpeg", "image/jpeg" },
	[FT_GIF] = { "gif", "image/gif" },
	[FT_WEBP] = { "webp", "image/webp" },
	[FT_PDF] = { "pdf", "application/pdf" },
	[FT_TEXT] = { "text", "text/plain; charset=utf-8" },
	[FT_ZIP] = { "zip", "application/zip" },
	[FT_MARKUP] = { NULL, "application/octet-stream" },
};

const char *
ftype_name(enum ftype t)
{
	return (unsigned)t < FT_MAX ? types[t].name : NULL;
}

const char *
ftype_mime(enum ftype t)
{
	return (unsigned)t < FT_MAX ? types[t].mime :
	    "application/octet-stream";
}

bool
ftype_is_image(enum ftype t)
{
	return t == FT_PNG || t == FT_JPEG || t == FT_GIF || t == FT_WEBP;
}

enum ftype
ftype_from_name(const char *name, size_t n)
{
	if (n == 3 && strncasecmp(name, "jpg", 3) == 0)
		return FT_JPEG;
	for (int t = FT_PNG; t < FT_MARKUP; t++)
		if (strlen(types[t].name) == n &&
		    strncasecmp(types[t].name, name, n) == 0)
			return (enum ftype)t;
	return FT_UNKNOWN;
}

/* A type by its magic number in head[0..n), or FT_UNKNOWN. */
static enum ftype
by_magic(const uint8_t *h, size_t n)
{
	if (n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0)
		return FT_PNG;
	if (n >= 3 && memcmp(h, "\xff\xd8\xff", 3) == 0)
		return FT_JPEG;
	if (n >= 6 && (memcmp(h, "GIF87a", 6) == 0 ||
	    memcmp(h, "GIF89a", 6) == 0))
		return FT_GIF;
	if (n >= 12 && memcmp(h, "RIFF", 4) == 0 &&
	    memcmp(h + 8, "WEBP", 4) == 0)
		return FT_WEBP;
	if (n >= 5 && memcmp(h, "%PDF-", 5) == 0)
		return FT_PDF;
	/* A local file header; an empty archive is an end record. */
	if (n >= 4 && (memcmp(h, "PK\x03\x04", 4) == 0 ||
	    memcmp(h, "PK\x05\x06", 4) == 0))
		return FT_ZIP;
	return FT_UNKNOWN;
}

/*
 * Does text start (after a UTF-8 byte order mark and white space) like
 * markup a browser would render: the WHATWG MIME Sniffing Standard's HTML
 * patterns ("<!DOCTYPE HTML", "<HTML", "<SCRIPT", ... each followed by a
 * space or '>'), "<!--", "<?xml", and "<svg"?
 */
static bool
is_markup(const uint8_t *p, size_t n)
{
	static const char *const tags[] = {
		"!DOCTYPE HTML", "HTML", "HEAD", "SCRIPT", "IFRAME", "H1",
		"DIV", "FONT", "TABLE", "A", "STYLE", "TITLE", "B", "BODY",
		"BR", "P", "SVG",
	};
	size_t i = 0;

	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
	    p[i] == '\r' || p[i] == '\f'))
		i++;
	if (i >= n || p[i] != '<')
		return false;
	i++;
	if (n - i >= 3 && memcmp(p + i, "!--", 3) == 0)
		return true;
	if (n - i >= 4 && strncasecmp((const char *)p + i, "?xml", 4) == 0)
		return true;
	for (size_t t = 0; t < SUP_NELEM(tags); t++) {
		size_t k = strlen(tags[t]);
		if (n - i > k &&
		    strncasecmp((const char *)p + i, tags[t], k) == 0 &&
		    (p[i + k] == ' ' || p[i + k] == '>' || p[i + k] == '\t' ||
		    p[i + k] == '\n' || p[i + k] == '\r' || p[i + k] == '/'))
			return true;
	}
	return false;
}

/*
 * A UTF-8 check that takes its input in pieces: *need is the number of
 * continuation bytes still owed by the last piece, *lo and *hi the range
 * the next one must fall in (overlongs and surrogates excluded, as in
 * RFC 3629's table).  false at the first invalid byte or a NUL.
 */
struct utf8_state {
	int need;
	uint8_t lo, hi;
};

static bool
utf8_feed(struct utf8_state *st, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (st->need > 0) {
			if (c < st->lo || c > st->hi)
				return false;
			st->lo = 0x80;
			st->hi = 0xbf;
			st->need--;
			continue;
		}
		st->lo = 0x80;
		st->hi = 0xbf;
		if (c == 0)
			return false;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			st->need = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			st->need = 2;
			if (c == 0xe0)
				st->lo = 0xa0;
			else if (c == 0xed)
				st->hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			st->need = 3;
			if (c == 0xf0)
				st->lo = 0x90;
			else if (c == 0xf4)
				st->hi = 0x8f;
		} else
			return false;
	}
	return true;
}

enum ftype
ftype_detect_mem(const uint8_t *p, size_t n)
{
	struct utf8_state st = { 0, 0x80, 0xbf };
	enum ftype t;

	if (n == 0)
		return FT_UNKNOWN;
	if ((t = by_magic(p, n)) != FT_UNKNOWN)
		return t;
	/* In the order ftype_detect looks, so that both say the same. */
	if (is_markup(p, n < 1024 ? n : 1024))
		return FT_MARKUP;
	if (!utf8_feed(&st, p, n) || st.need != 0)
		return FT_UNKNOWN;
	return FT_TEXT;
}

sup_err
ftype_detect(int fd, uint64_t size, const uint8_t *head, size_t nhead,
    enum ftype *out)
{
	struct utf8_state st = { 0, 0x80, 0xbf };
	uint8_t buf[16384];
	uint64_t off = 0;
	size_t first = 0;
	ssize_t n;

	*out = FT_UNKNOWN;
	if (size == 0)
		return SUP_OK;
	if ((*out = by_magic(head, nhead)) != FT_UNKNOWN)
		return SUP_OK;
	while (off < size) {
		size_t want = size - off < sizeof(buf) ? (size_t)(size - off) :
		    sizeof(buf);
		if ((n = pread(fd, buf, want, (off_t)off)) <= 0)
			return SUP_EIO;
		if (off == 0) {
			first = (size_t)n < 1024 ? (size_t)n : 1024;
			if (is_markup(buf, first)) {
				*out = FT_MARKUP;
				return SUP_OK;
			}
		}
		if (!utf8_feed(&st, buf, (size_t)n))
			return SUP_OK;
		off += (uint64_t)n;
	}
	if (st.need == 0)
		*out = FT_TEXT;
	return SUP_OK;
}

bool
ftype_parse_list(const char *s, unsigned *mask, char *bad, size_t badsz)
{
	*mask = 0;
	while (*s != '\0') {
		size_t n;
		enum ftype t;

		s += strspn(s, " \t,");
		if ((n = strcspn(s, " \t,")) == 0)
			break;
		if ((t = ftype_from_name(s, n)) == FT_UNKNOWN) {
			snprintf(bad, badsz, "%.*s", (int)(n < 40 ? n : 40), s);
			return false;
		}
		*mask |= 1u << t;
		s += n;
	}
	return true;
}

void
ftype_list(unsigned mask, char *buf, size_t n)
{
	size_t len = 0;

	if (n == 0)
		return;
	buf[0] = '\0';
	for (int t = FT_PNG; t < FT_MARKUP; t++) {
		if (!(mask & (1u << t)))
			continue;
		int k = snprintf(buf + len, n - len, "%s%s",
		    len > 0 ? ", " : "", types[t].name);
		if (k < 0 || (size_t)k >= n - len)
			return;
		len += (size_t)k;
	}
}
