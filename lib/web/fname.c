/*
 * fname.c - safe file names and Content-Disposition (fname.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fname.h"
#include "util.h"

/* The extensions a type may be saved under; the first is added. */
static const char *const exts[FT_MAX][12] = {
	[FT_PNG] = { "png" },
	[FT_JPEG] = { "jpg", "jpeg", "jpe", "jfif" },
	[FT_GIF] = { "gif" },
	[FT_WEBP] = { "webp" },
	[FT_PDF] = { "pdf" },
	[FT_TEXT] = { "txt", "text", "log", "csv", "tsv", "md", "json",
	    "ini", "conf", "diff", "patch" },
	[FT_ZIP] = { "zip", "docx", "xlsx", "pptx", "odt", "ods", "odp",
	    "epub" },
};

/*
 * The length of the UTF-8 character at s (n bytes left) and its code
 * point in *cp; 0 when the bytes there are not one.
 */
static size_t
utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Is cp a character a safe name does not keep? */
static bool
unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x200e || cp == 0x200f || cp == 0x061c || cp == 0xfeff ||
	    (cp < 0x80 && strchr("\"*/:<>?\\|", (int)cp) != NULL);
}

/* Is ext[0..n) one of t's extensions? */
static bool
ext_of(enum ftype t, const char *ext, size_t n)
{
	if ((unsigned)t >= FT_MAX)
		return false;
	for (size_t i = 0; i < SUP_NELEM(exts[t]) && exts[t][i] != NULL; i++)
		if (strlen(exts[t][i]) == n &&
		    strncasecmp(exts[t][i], ext, n) == 0)
			return true;
	return false;
}

void
fname_safe(const char *in, enum ftype t, char *out)
{
	const unsigned char *s = (const unsigned char *)in, *base = s;
	char buf[4 * FNAME_MAX + 8];
	const char *dot, *add = NULL;
	size_t len = 0, stem, elen = 0, n = strlen(in);

	/* The last path component. */
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == '\\')
			base = s + i + 1;
	n -= (size_t)(base - s);
	s = base;

	/* Characters kept or made '_', runs of '_' one, within buf. */
	for (size_t i = 0; i < n && len + 4 < sizeof(buf);) {
		uint32_t cp;
		size_t k = utf8_char(s + i, n - i, &cp);

		if (k == 0 || unsafe(cp)) {
			if (len == 0 || buf[len - 1] != '_')
				buf[len++] = '_';
			i += k == 0 ? 1 : k;
			continue;
		}
		memcpy(buf + len, s + i, k);
		len += k;
		i += k;
	}
	buf[len] = '\0';

	/* No dot, space or '_' left over at either end. */
	size_t a = strspn(buf, ". _");
	while (len > a && strchr(". _", buf[len - 1]) != NULL)
		len--;
	memmove(buf, buf + a, len - a);
	len -= a;
	buf[len] = '\0';

	/* The extension: kept when it is one of t's, else t's added. */
	dot = strrchr(buf, '.');
	if (dot != NULL && ext_of(t, dot + 1, strlen(dot + 1)))
		elen = strlen(dot);
	else if ((unsigned)t < FT_MAX && exts[t][0] != NULL)
		add = exts[t][0];
	if (len == elen) {
		/* Nothing but an extension: a stem of its own. */
		memmove(buf + 4, buf, len + 1);
		memcpy(buf, "file", 4);
		len += 4;
	}

	/* Cut the stem, between characters, so that it all fits. */
	size_t room = FNAME_MAX - (add != NULL ? strlen(add) + 1 : 0);
	stem = len - elen;
	if (len > room) {
		size_t keep = room - elen;
		while (keep > 0 && ((unsigned char)buf[keep] & 0xc0) == 0x80)
			keep--;
		/* The cut may leave a dot or a space at the stem's end. */
		while (keep > 0 && strchr(". _", buf[keep - 1]) != NULL)
			keep--;
		memmove(buf + keep, buf + stem, elen + 1);
		stem = keep;
		len = keep + elen;
	}
	if (stem == 0) {
		memmove(buf + 4, buf, len + 1);
		memcpy(buf, "file", 4);
		len += 4;
	}
	memcpy(out, buf, len);
	if (add != NULL) {
		out[len++] = '.';
		memcpy(out + len, add, strlen(add));
		len += strlen(add);
	}
	out[len] = '\0';
}

char *
fname_disposition(const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	struct sbuf b = { 0 };
	bool ascii = true;

	sbuf_lit(&b, "attachment; filename=\"");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p >= 0x80) {
			ascii = false;
			/* One '_' for each character, not each byte. */
			if ((*p & 0xc0) != 0x80)
				sbuf_lit(&b, "_");
		} else if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			sbuf_lit(&b, "_");
		else
			sbuf_add(&b, (const char *)p, 1);
	}
	sbuf_lit(&b, "\"");
	if (!ascii) {
		sbuf_lit(&b, "; filename*=UTF-8''");
		for (const unsigned char *p = (const unsigned char *)name; *p;
		    p++) {
			/* RFC 8187's attr-char: the rest is %-encoded. */
			if ((*p >= 'A' && *p <= 'Z') ||
			    (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') ||
			    strchr("!#$&+-.^_`|~", *p) != NULL)
				sbuf_add(&b, (const char *)p, 1);
			else {
				char esc[3] = { '%', hex[*p >> 4],
				    hex[*p & 15] };
				sbuf_add(&b, esc, 3);
			}
		}
	}
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
