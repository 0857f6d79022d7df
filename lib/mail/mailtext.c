/*
 * mailtext.c - a mail's text made fit for a ticket (lib/mail/mailparse.h):
 * the quote and signature of a reply trimmed, HTML turned into plain text,
 * what Markdown would take as HTML made literal.  No GMime here.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailparse.h"

/* --- Quotes and signatures ------------------------------------------- */

/* The line at p (up to end): its length without "\n" (and a "\r"). */
static size_t
line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = (size_t)((nl != NULL ? nl : end) - p);

	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* The line p[0..n) without its spaces at both ends, as *s, *sn. */
static void
strip(const char *p, size_t n, const char **s, size_t *sn)
{
	while (n > 0 && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	*s = p;
	*sn = n;
}

static bool
starts_ci(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && strncasecmp(p, prefix, k) == 0;
}

static bool
ends_with(const char *p, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(p + n - k, suffix, k) == 0;
}

/* Does a quote's attribution end here ("... wrote:" and its kin)? */
static bool
attribution_end(const char *p, size_t n)
{
	return ends_with(p, n, "wrote:") || (n > 0 && p[n - 1] == ':' &&
	    memmem(p, n, " schrieb ", 9) != NULL) ||
	    ends_with(p, n, "\xc3\xa9" "crit :") ||
	    ends_with(p, n, "\xc3\xa9" "crit:");
}

/* Does an attribution start here ("On ...", "Am ...", "Le ...")? */
static bool
attribution_start(const char *p, size_t n)
{
	return starts_ci(p, n, "On ") || starts_ci(p, n, "Am ") ||
	    starts_ci(p, n, "Le ");
}

/*
 * Does the line at p start what the reply quotes or its signature, given
 * the line after it (next, nn; nn is 0 at the end)?
 */
static bool
cut_here(const char *raw, size_t rn, const char *next, size_t nn)
{
	const char *p;
	size_t n, k;

	/* The signature separator, exactly "-- " (RFC 3676 4.3). */
	if (rn == 3 && memcmp(raw, "-- ", 3) == 0)
		return true;
	strip(raw, rn, &p, &n);
	if (n == 0)
		return false;
	/* "-----Original Message-----", any number of dashes. */
	if (p[0] == '-') {
		const char *q = p;
		size_t m = n;
		while (m > 0 && *q == '-') {
			q++;
			m--;
		}
		if (q - p >= 2 && starts_ci(q, m, "Original Message"))
			return true;
	}
	/* Outlook: a line of underscores, then "From:". */
	for (k = 0; k < n && p[k] == '_'; k++)
		;
	if (k == n && k >= 10 && starts_ci(next, nn, "From:"))
		return true;
	/* "On <date>, <name> wrote:", on one line or two. */
	if (attribution_start(p, n) && attribution_end(p, n))
		return true;
	if (attribution_start(p, n) && nn > 0) {
		const char *q;
		size_t m;
		strip(next, nn, &q, &m);
		if (attribution_end(q, m))
			return true;
	}
	return false;
}

/* Is text[0..n) only white space? */
static bool
blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)p[i]))
			return false;
	return true;
}

void
mail_trim_reply(char *text, size_t *len)
{
	const char *end = text + *len, *p, *next;
	size_t cut = *len, w = 0, n, nn;
	char *out;

	/* Where the quote or signature starts. */
	for (p = text; p < end; p = next) {
		n = line_len(p, end);
		next = memchr(p, '\n', (size_t)(end - p));
		next = next != NULL ? next + 1 : end;
		nn = next < end ? line_len(next, end) : 0;
		if (cut_here(p, n, next, nn)) {
			cut = (size_t)(p - text);
			break;
		}
	}
	/* The lines before it but those quoted with '>', into a copy. */
	if ((out = malloc(cut + 1)) == NULL)
		return;		/* kept as it was: nothing lost */
	for (p = text; p < text + cut; p = next) {
		n = line_len(p, text + cut);
		next = memchr(p, '\n', (size_t)(text + cut - p));
		next = next != NULL ? next + 1 : text + cut;
		if (n > 0 && *p == '>')
			continue;
		memcpy(out + w, p, n);
		w += n;
		out[w++] = '\n';
	}
	/* Blank lines at the start and the end go. */
	while (w > 0 && isspace((unsigned char)out[w - 1]))
		w--;
	/* Whole lines of white space at the start. */
	for (size_t i = n = 0; i < w; i++) {
		if (out[i] == '\n')
			n = i + 1;
		else if (!isspace((unsigned char)out[i]))
			break;
	}
	if (!blank(out + n, w - n)) {
		memcpy(text, out + n, w - n);
		*len = w - n;
		text[*len] = '\0';
	} else {
		/* All quote: kept, but for white space at its end. */
		while (*len > 0 && isspace((unsigned char)text[*len - 1]))
			text[--*len] = '\0';
	}
	free(out);
}

/* --- HTML ------------------------------------------------------------ */

/*
 * Append code point c as UTF-8 (U+FFFD for one that is not a character);
 * a control character other than tab and newline is dropped, as in the
 * mail's own text.
 */
static void
add_utf8(struct sbuf *out, unsigned long c)
{
	char b[4];

	if ((c > 0 && c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
		return;
	if (c == 0 || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		c = 0xfffd;
	if (c < 0x80) {
		b[0] = (char)c;
		sbuf_add(out, b, 1);
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		sbuf_add(out, b, 2);
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		sbuf_add(out, b, 3);
	} else {
		b[0] = (char)(0xf0 | c >> 18);
		b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		sbuf_add(out, b, 4);
	}
}

static const struct {
	const char *name;
	unsigned long c;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", ' ' }, { "copy", 0xa9 }, { "reg", 0xae },
	{ "trade", 0x2122 }, { "hellip", 0x2026 }, { "mdash", 0x2014 },
	{ "ndash", 0x2013 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "euro", 0x20ac },
	{ "pound", 0xa3 }, { "middot", 0xb7 }, { "bull", 0x2022 },
	{ "laquo", 0xab }, { "raquo", 0xbb }, { "eacute", 0xe9 },
	{ "egrave", 0xe8 }, { "agrave", 0xe0 }, { "auml", 0xe4 },
	{ "ouml", 0xf6 }, { "uuml", 0xfc }, { "szlig", 0xdf },
};

/*
 * The character reference at p ("&...;", up to end): its code point into
 * *c and its length; 0 when it is not one (the '&' is then text).
 */
static size_t
entity(const char *p, const char *end, unsigned long *c)
{
	const char *semi;
	size_t n;

	n = (size_t)(end - p) < 12 ? (size_t)(end - p) : 12;
	if ((semi = memchr(p, ';', n)) == NULL)
		return 0;
	n = (size_t)(semi - p) - 1;	/* between '&' and ';' */
	if (n >= 2 && p[1] == '#') {
		char buf[12], *e;
		bool hex = p[2] == 'x' || p[2] == 'X';
		size_t off = hex ? 3 : 2;
		if (n + 1 <= off || n - (off - 1) >= sizeof(buf))
			return 0;
		memcpy(buf, p + off, n + 1 - off);
		buf[n + 1 - off] = '\0';
		if (!isxdigit((unsigned char)buf[0]))
			return 0;
		*c = strtoul(buf, &e, hex ? 16 : 10);
		if (*e != '\0')
			return 0;
		return n + 2;
	}
	for (size_t i = 0; i < SUP_NELEM(entities); i++)
		if (strlen(entities[i].name) == n &&
		    memcmp(p + 1, entities[i].name, n) == 0) {
			*c = entities[i].c;
			return n + 2;
		}
	return 0;
}

/* Is the tag name t[0..n) one of names (a space-separated list)? */
static bool
tag_in(const char *t, size_t n, const char *names)
{
	const char *p = names;

	while (*p != '\0') {
		size_t k = strcspn(p, " ");
		if (k == n && strncasecmp(p, t, n) == 0)
			return true;
		p += k;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* Append a line break, at most two in a row (one blank line). */
static void
add_break(struct sbuf *out)
{
	size_t nl = 0;

	while (nl < out->len && nl < 2 && out->p[out->len - 1 - nl] == '\n')
		nl++;
	if (out->len > 0 && nl < 2)
		sbuf_lit(out, "\n");
}

/* The text wants a space: unless it ends with one or a line break. */
static void
add_space(struct sbuf *out)
{
	if (out->len > 0 && out->p[out->len - 1] != ' ' &&
	    out->p[out->len - 1] != '\n')
		sbuf_lit(out, " ");
}

void
mail_html_text(const char *html, size_t len, struct sbuf *out)
{
	const char *p = html, *end = html + len;
	unsigned long c;
	size_t n;
	int quoted = 0;		/* blockquotes open: their text is not taken */

	while (p < end && !out->failed) {
		if (*p == '<') {
			const char *t, *close;
			bool closing;
			if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
				const char *q = memmem(p + 4, (size_t)(end - p - 4),
				    "-->", 3);
				p = q != NULL ? q + 3 : end;
				continue;
			}
			t = p + 1;
			closing = t < end && *t == '/';
			if (closing)
				t++;
			for (n = 0; t + n < end && isalnum((unsigned char)t[n]);
			    n++)
				;
			/* The tag's end, past quoted attribute values. */
			close = t + n;
			for (char q = 0; close < end; close++) {
				if (q != 0 && *close == q)
					q = 0;
				else if (q == 0 && (*close == '"' || *close == '\''))
					q = *close;
				else if (q == 0 && *close == '>')
					break;
			}
			if (n == 0 && !closing) {
				/* "<" not starting a tag ("a < b"): text. */
				if (quoted == 0)
					sbuf_lit(out, "<");
				p++;
				continue;
			}
			p = close < end ? close + 1 : end;
			/*
			 * A blockquote is what the reply quotes (Gmail's
			 * gmail_quote, Apple Mail, Thunderbird): dropped, as
			 * the "> " lines of a text part are.
			 */
			if (tag_in(t, n, "blockquote")) {
				if (!closing)
					quoted++;
				else if (quoted > 0)
					quoted--;
				if (quoted == 0)
					add_break(out);
				continue;
			}
			if (quoted > 0)
				continue;
			if (!closing && tag_in(t, n, "script style head title")) {
				/* Their contents are not text: skip to the end tag. */
				const char *q = p;
				while ((q = memchr(q, '<', (size_t)(end - q))) !=
				    NULL) {
					if (end - q >= (ptrdiff_t)n + 2 &&
					    q[1] == '/' &&
					    strncasecmp(q + 2, t, n) == 0)
						break;
					q++;
				}
				if (q == NULL) {
					p = end;
					continue;
				}
				p = q;
				continue;
			}
			if (tag_in(t, n, "br")) {
				sbuf_lit(out, "\n");
			} else if (!closing && tag_in(t, n, "li")) {
				add_break(out);
				sbuf_lit(out, "- ");
			} else if (tag_in(t, n, "p div tr h1 h2 h3 h4 h5 h6 ul ol "
			    "table hr pre")) {
				add_break(out);
				if (tag_in(t, n, "p h1 h2 h3 h4 h5 h6"))
					add_break(out);
			} else if (tag_in(t, n, "td th")) {
				add_space(out);
			}
			continue;
		}
		if (quoted > 0) {
			p++;
			continue;
		}
		if (*p == '&' && (n = entity(p, end, &c)) > 0) {
			if (c == ' ')
				add_space(out);
			else
				add_utf8(out, c);
			p += n;
			continue;
		}
		if (isspace((unsigned char)*p)) {
			add_space(out);
			p++;
			continue;
		}
		sbuf_add(out, p, 1);
		p++;
	}
	/* No blank line at the end, nor spaces before a line break. */
	while (out->len > 0 && isspace((unsigned char)out->p[out->len - 1]))
		out->p[--out->len] = '\0';
}

/* --- Markdown -------------------------------------------------------- */

void
mail_md_escape(const char *text, size_t len, struct sbuf *out)
{
	size_t from = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] != '<' && text[i] != '>' && text[i] != '&')
			continue;
		sbuf_add(out, text + from, i - from);
		sbuf_lit(out, "\\");
		from = i;
	}
	sbuf_add(out, text + from, len - from);
}
