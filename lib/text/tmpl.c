/*
 * tmpl.c - Google ctemplate's template language, in C, fed by json-c.
 *
 * Written by hand because no C implementation of ctemplate is packaged
 * (Google's is C++ and no longer maintained in distributions); DESIGN §8
 * asks for the language, not the library.  The semantics follow
 * ctemplate's reference where it applies to JSON data; docs/templates.md
 * lists each choice made where JSON differs from ctemplate's dictionaries.
 *
 * A template is parsed once into a flat array of nodes.  A section's node
 * records where its body ends, so rendering walks the array and recurses
 * only into sections and includes.  Text nodes point into the template's
 * own copy of the file, names into a second copy where each is
 * NUL-terminated in place, so a parsed template is three allocations.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>	/* html_next */
#endif

#include <json-c/linkhash.h>

#include "jtext.h"
#include "tmpl.h"
#include "util.h"

#define DELIM_MAX 8		/* bytes of a delimiter after {{=...=}} */
#define MODS_MAX 8		/* modifiers on one variable */
#define DIR_MAX 4000		/* bytes of the template directory's path */

enum mode { MODE_HTML, MODE_TEXT, MODE_JS, MODE_JSON, MODE_URL };

enum mod { MOD_H, MOD_J, MOD_U, MOD_O, MOD_HURL };

/*
 * Modifiers by their short and long (ctemplate) names; :none is not here.
 * ctemplate's :h turns white space into spaces and :p (pre) keeps it; here
 * :h keeps it, so :p, :H=pre and :xml_escape are the same as :h.  :U=html
 * is ctemplate's newer name for :H=url.
 */
static const struct {
	const char *name;
	enum mod mod;
} mod_names[] = {
	{ "h", MOD_H }, { "html_escape", MOD_H },
	{ "p", MOD_H }, { "pre_escape", MOD_H }, { "H=pre", MOD_H },
	{ "html_escape_with_arg=pre", MOD_H }, { "xml_escape", MOD_H },
	{ "j", MOD_J }, { "javascript_escape", MOD_J },
	{ "u", MOD_U }, { "url_query_escape", MOD_U },
	{ "o", MOD_O }, { "json_escape", MOD_O },
	{ "H=url", MOD_HURL }, { "html_escape_with_arg=url", MOD_HURL },
	{ "U=html", MOD_HURL }, { "url_escape_with_arg=html", MOD_HURL },
};

enum kind {
	N_TEXT,			/* s, len: bytes to copy */
	N_VAR,			/* s: name; mods */
	N_SECTION,		/* s: name; body up to end */
	N_SEP,			/* s: name; shown between repetitions */
	N_INCLUDE,		/* inc: the included template */
};

struct node {
	enum kind kind;
	unsigned line;
	const char *s;
	size_t len;
	size_t end;			/* sections: index after the body */
	const struct tmpl *inc;
	unsigned char nmods;
	unsigned char mods[MODS_MAX];
};

struct tmpl {
	char *name;
	char *text;			/* the file, then a copy for names */
	struct node *nodes;
	size_t n, cap;
	enum mode mode;
	int height;			/* includes below it, at most */
};

struct tmpl_cache {
	char *dir;
	struct tmpl **t;
	size_t n, cap;
};

/* The chain of templates being loaded, innermost first: finds cycles. */
struct loading {
	const char *name;
	const struct loading *up;
	int depth;
};

struct parser {
	struct tmpl *t;
	const char *p, *end;		/* what is left of t->text */
	char *keys;			/* the copy of the text for names */
	unsigned line;
	char open[DELIM_MAX + 1], close[DELIM_MAX + 1];
	size_t olen, clen;
	size_t stack[TMPL_NEST_MAX];	/* open sections: node indexes */
	int depth;
	struct tmpl_cache *cache;
	const struct loading *loading;
	char *err;
	size_t errlen;
};

static sup_err cache_load(struct tmpl_cache *c, const char *name,
    const struct loading *up, const struct tmpl **out, char *err,
    size_t errlen);

/* --- Errors ----------------------------------------------------------- */

/*
 * Write "name:line: message" into err (when there is one).  A message too
 * long for err is cut short on purpose: it is for a person to read.
 * Returns e, for "return set_err(...)".
 */
SUP_PRINTF(6, 7) static sup_err
set_err(sup_err e, char *err, size_t errlen, const char *name,
    unsigned line, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (err == NULL || errlen == 0)
		return e;
	if (line > 0)
		k = snprintf(err, errlen, "%s:%u: ", name, line);
	else
		k = snprintf(err, errlen, "%s: ", name);
	if (k < 0 || (size_t)k >= errlen)
		return e;
	va_start(ap, fmt);
	vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return e;
}

/* --- Names and modes -------------------------------------------------- */

/* Is name a file name a template may have: [A-Za-z0-9_.-]+, no "..", no
 * leading dot, at most TMPL_NAME_MAX bytes? */
static bool
file_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > TMPL_NAME_MAX || name[0] == '.' ||
	    strstr(name, "..") != NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && ch != '_' && ch != '.' &&
		    ch != '-')
			return false;
	}
	return true;
}

/* Is s[0..n) a name in a tag: [A-Za-z0-9_]+? */
static bool
tag_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > TMPL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && ch != '_')
			return false;
	}
	return true;
}

/* The extension of a file name with its dot ("" when it has none). */
static const char *
name_ext(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot != NULL ? dot : "";
}

/* The escaping mode a file name's extension chooses; HTML by default. */
static enum mode
name_mode(const char *name)
{
	const char *ext = name_ext(name);

	if (strcmp(ext, ".txt") == 0)
		return MODE_TEXT;
	if (strcmp(ext, ".js") == 0)
		return MODE_JS;
	if (strcmp(ext, ".json") == 0)
		return MODE_JSON;
	return MODE_HTML;
}

/* --- Parsing ---------------------------------------------------------- */

/* Room for one more node; the new one, zeroed, or NULL (out of memory). */
static struct node *
add_node(struct parser *ps, enum kind kind, unsigned line)
{
	struct tmpl *t = ps->t;
	struct node *n;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct node *p = realloc(t->nodes, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		t->nodes = p;
		t->cap = cap;
	}
	n = &t->nodes[t->n++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->line = line;
	return n;
}

/* Text s[0..n) as a node, counting its lines.  SUP_ENOMEM. */
static sup_err
add_text(struct parser *ps, const char *s, size_t n)
{
	struct node *node;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n')
			ps->line++;
	if (n == 0)
		return SUP_OK;
	if ((node = add_node(ps, N_TEXT, ps->line)) == NULL)
		return SUP_ENOMEM;
	node->s = s;
	node->len = n;
	return SUP_OK;
}

/*
 * The name at s[0..n) of the text as a NUL-terminated string: the same
 * span of the copy for names, with a NUL written after it.  The byte after
 * a name in a tag is never part of another name, so that is safe.
 */
static const char *
key_of(struct parser *ps, const char *s, size_t n)
{
	char *k = ps->keys + (s - ps->t->text);

	k[n] = '\0';
	return k;
}

/* A template error at line of the template being parsed: SUP_ECONFIG. */
SUP_PRINTF(3, 4) static sup_err
perr(struct parser *ps, unsigned line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return set_err(SUP_ECONFIG, ps->err, ps->errlen, ps->t->name, line,
	    "%s", msg);
}

/*
 * A variable tag's inside, s[0..n): NAME or NAME:mod:mod...  The template's
 * mode supplies the modifier when none is given; :none gives none.
 */
static sup_err
parse_var(struct parser *ps, const char *s, size_t n, unsigned line)
{
	const char *colon = memchr(s, ':', n);
	size_t nlen = colon != NULL ? (size_t)(colon - s) : n;
	unsigned char mods[MODS_MAX];
	size_t nmods = 0;
	bool given = false;
	struct node *node;

	if (!tag_name_ok(s, nlen))
		return perr(ps, line, "bad variable name \"%.*s\"",
		    (int)(nlen > 40 ? 40 : nlen), s);
	for (const char *m = colon; m != NULL && m < s + n;) {
		const char *start = m + 1;
		const char *next = memchr(start, ':', (size_t)(s + n - start));
		size_t mlen = (size_t)((next ? next : s + n) - start);
		bool found = false;

		given = true;
		if (mlen == 4 && memcmp(start, "none", 4) == 0)
			found = true;
		for (size_t i = 0; !found && i < SUP_NELEM(mod_names); i++) {
			if (strlen(mod_names[i].name) == mlen &&
			    memcmp(mod_names[i].name, start, mlen) == 0) {
				if (nmods == MODS_MAX)
					return perr(ps, line,
					    "more than %d modifiers", MODS_MAX);
				mods[nmods++] = (unsigned char)mod_names[i].mod;
				found = true;
			}
		}
		if (!found)
			return perr(ps, line, "unknown modifier \":%.*s\"",
			    (int)(mlen > 40 ? 40 : mlen), start);
		m = next;
	}
	if (nlen == 8 && memcmp(s, "BI_SPACE", 8) == 0)
		return add_text(ps, " ", 1);
	if (nlen == 10 && memcmp(s, "BI_NEWLINE", 10) == 0) {
		/* Not counted as a line of the template. */
		if ((node = add_node(ps, N_TEXT, line)) == NULL)
			return SUP_ENOMEM;
		node->s = "\n";
		node->len = 1;
		return SUP_OK;
	}
	if (!given) {
		switch (ps->t->mode) {
		case MODE_HTML: mods[nmods++] = MOD_H; break;
		case MODE_JS: mods[nmods++] = MOD_J; break;
		case MODE_JSON: mods[nmods++] = MOD_O; break;
		case MODE_URL: mods[nmods++] = MOD_U; break;
		case MODE_TEXT: break;
		}
	}
	if ((node = add_node(ps, N_VAR, line)) == NULL)
		return SUP_ENOMEM;
	node->s = key_of(ps, s, nlen);
	node->len = nlen;
	node->nmods = (unsigned char)nmods;
	memcpy(node->mods, mods, nmods);
	return SUP_OK;
}

/* {{#NAME}}: open a section (or the separator of the enclosing one). */
static sup_err
parse_open(struct parser *ps, const char *s, size_t n, unsigned line)
{
	static const char sep[] = "_separator";
	size_t slen = sizeof(sep) - 1;
	enum kind kind = N_SECTION;
	struct node *node;

	if (!tag_name_ok(s, n))
		return perr(ps, line, "bad section name \"%.*s\"",
		    (int)(n > 40 ? 40 : n), s);
	if (ps->depth == TMPL_NEST_MAX)
		return perr(ps, line, "sections nested deeper than %d",
		    TMPL_NEST_MAX);
	if (ps->depth > 0 && n > slen && memcmp(s + n - slen, sep, slen) == 0) {
		const struct node *up = &ps->t->nodes[ps->stack[ps->depth - 1]];
		if (up->kind == N_SECTION && up->len == n - slen &&
		    memcmp(up->s, s, n - slen) == 0)
			kind = N_SEP;
	}
	if ((node = add_node(ps, kind, line)) == NULL)
		return SUP_ENOMEM;
	node->s = key_of(ps, s, n);
	node->len = n;
	ps->stack[ps->depth++] = ps->t->n - 1;
	return SUP_OK;
}

/* {{/NAME}}: close the innermost section, which must be NAME. */
static sup_err
parse_close(struct parser *ps, const char *s, size_t n, unsigned line)
{
	struct node *open;

	if (!tag_name_ok(s, n))
		return perr(ps, line, "bad section name \"%.*s\"",
		    (int)(n > 40 ? 40 : n), s);
	if (ps->depth == 0)
		return perr(ps, line, "{{/%.*s}} closes no section",
		    (int)n, s);
	open = &ps->t->nodes[ps->stack[ps->depth - 1]];
	if (open->len != n || memcmp(open->s, s, n) != 0)
		return perr(ps, line, "{{/%.*s}} does not close {{#%s}} "
		    "of line %u", (int)n, s, open->s, open->line);
	open->end = ps->t->n;
	ps->depth--;
	return SUP_OK;
}

/* {{>NAME}}: NAME plus this template's extension, loaded through the cache. */
static sup_err
parse_include(struct parser *ps, const char *s, size_t n, unsigned line)
{
	char file[TMPL_NAME_MAX + 16];
	const char *ext = name_ext(ps->t->name);
	struct loading me = { ps->t->name, ps->loading,
		ps->loading ? ps->loading->depth + 1 : 1 };
	const struct tmpl *inc;
	struct node *node;
	sup_err e;

	if (!tag_name_ok(s, n))
		return perr(ps, line, "bad include name \"%.*s\"",
		    (int)(n > 40 ? 40 : n), s);
	if (ps->cache == NULL)
		return perr(ps, line, "{{>%.*s}}: no template directory to "
		    "include from", (int)n, s);
	if (snprintf(file, sizeof(file), "%.*s%s", (int)n, s, ext) >=
	    (int)sizeof(file))
		return perr(ps, line, "include name too long");
	for (const struct loading *l = &me; l != NULL; l = l->up)
		if (strcmp(l->name, file) == 0)
			return perr(ps, line, "{{>%.*s}} includes itself "
			    "(include cycle)", (int)n, s);
	if (me.depth > TMPL_INCLUDE_DEPTH)
		return perr(ps, line, "includes nested deeper than %d",
		    TMPL_INCLUDE_DEPTH);
	e = cache_load(ps->cache, file, &me, &inc, ps->err, ps->errlen);
	/* A template from the cache brings its own includes' depth. */
	if (e == SUP_OK && me.depth + inc->height > TMPL_INCLUDE_DEPTH)
		return perr(ps, line, "includes nested deeper than %d",
		    TMPL_INCLUDE_DEPTH);
	if (e == SUP_ENOTFOUND || e == SUP_EINVAL)
		return perr(ps, line, "{{>%.*s}}: no template %s", (int)n, s,
		    file);
	if (e != SUP_OK) {
		/* The included file said where; say who included it. */
		size_t k = ps->err != NULL ? strlen(ps->err) : 0;
		if (ps->err != NULL && k + 1 < ps->errlen)
			snprintf(ps->err + k, ps->errlen - k,
			    " (included from %s:%u)", ps->t->name, line);
		return e;
	}
	if ((node = add_node(ps, N_INCLUDE, line)) == NULL)
		return SUP_ENOMEM;
	node->inc = inc;
	if (inc->height + 1 > ps->t->height)
		ps->t->height = inc->height + 1;
	return SUP_OK;
}

/*
 * {{%AUTOESCAPE context="..."}}: the template's mode, named in the file
 * itself.  Only as the first thing in the file.
 */
static sup_err
parse_pragma(struct parser *ps, const char *s, size_t n, unsigned line)
{
	static const struct {
		const char *name;
		enum mode mode;
	} ctx[] = {
		{ "HTML", MODE_HTML }, { "JAVASCRIPT", MODE_JS },
		{ "JSON", MODE_JSON }, { "URL", MODE_URL }, { "TEXT", MODE_TEXT },
	};
	static const char head[] = "%AUTOESCAPE context=\"";
	size_t hlen = sizeof(head) - 1;

	if (n < hlen + 1 || memcmp(s, head, hlen) != 0 || s[n - 1] != '"')
		return perr(ps, line, "unknown pragma \"%.*s\"",
		    (int)(n > 40 ? 40 : n), s);
	if (ps->t->n > 0)
		return perr(ps, line, "AUTOESCAPE must come first in the file");
	for (size_t i = 0; i < SUP_NELEM(ctx); i++) {
		if (strlen(ctx[i].name) == n - hlen - 1 &&
		    memcmp(ctx[i].name, s + hlen, n - hlen - 1) == 0) {
			ps->t->mode = ctx[i].mode;
			return SUP_OK;
		}
	}
	return perr(ps, line, "unknown AUTOESCAPE context \"%.*s\"",
	    (int)(n - hlen - 1 > 40 ? 40 : n - hlen - 1), s + hlen);
}

/*
 * {{=<% %>=}}: s[0..n) is what lies between "=" and "=": two delimiters
 * separated by white space, each without white space or "=".
 */
static sup_err
parse_delims(struct parser *ps, const char *s, size_t n, unsigned line)
{
	const char *p = s, *end = s + n, *a, *b;
	size_t alen, blen;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (a = p; p < end && *p != ' ' && *p != '\t' && *p != '='; p++)
		;
	alen = (size_t)(p - a);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (b = p; p < end && *p != ' ' && *p != '\t' && *p != '='; p++)
		;
	blen = (size_t)(p - b);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p != end || alen == 0 || blen == 0 || alen > DELIM_MAX ||
	    blen > DELIM_MAX || b == a + alen)
		return perr(ps, line, "bad delimiter change");
	memcpy(ps->open, a, alen);
	ps->open[alen] = '\0';
	ps->olen = alen;
	memcpy(ps->close, b, blen);
	ps->close[blen] = '\0';
	ps->clen = blen;
	return SUP_OK;
}

/*
 * A section, comment, include, delimiter or pragma tag alone on its line
 * (only blanks around it) takes the line with it: the blanks before it
 * (cut from the text node just added) and the blanks and newline after.
 * tag..after is the tag and ps->p is where the text before it began.
 * Returns where parsing goes on: after the line, or after the tag.
 */
static const char *
standalone(struct parser *ps, const char *tag, const char *after)
{
	const char *ls = tag, *q = after;

	while (ls > ps->p && (ls[-1] == ' ' || ls[-1] == '\t'))
		ls--;
	if (ls != ps->t->text && ls[-1] != '\n')
		return after;
	while (q < ps->end && (*q == ' ' || *q == '\t'))
		q++;
	if (q < ps->end && *q == '\r' && q + 1 < ps->end && q[1] == '\n')
		q++;
	if (q < ps->end && *q != '\n')
		return after;
	if (q < ps->end) {
		q++;
		ps->line++;
	}
	if (tag > ls) {
		/* The blanks end the text node add_text() just made. */
		struct node *text = &ps->t->nodes[ps->t->n - 1];
		text->len -= (size_t)(tag - ls);
		if (text->len == 0)
			ps->t->n--;
	}
	return q;
}

/* Parse the whole of ps->t->text into nodes.  SUP_ECONFIG, SUP_ENOMEM... */
static sup_err
parse(struct parser *ps)
{
	sup_err e = SUP_OK;

	while (ps->p < ps->end) {
		const char *tag = memmem(ps->p, (size_t)(ps->end - ps->p),
		    ps->open, ps->olen);
		const char *in, *close;
		unsigned line;

		if (tag == NULL)
			return add_text(ps, ps->p, (size_t)(ps->end - ps->p));
		if ((e = add_text(ps, ps->p, (size_t)(tag - ps->p))) != SUP_OK)
			return e;
		line = ps->line;
		in = tag + ps->olen;
		if (in < ps->end && *in == '!') {
			/* A comment may span lines. */
			close = memmem(in, (size_t)(ps->end - in), ps->close,
			    ps->clen);
			if (close == NULL)
				return perr(ps, line, "unterminated comment");
			for (const char *q = in; q < close; q++)
				if (*q == '\n')
					ps->line++;
			ps->p = standalone(ps, tag, close + ps->clen);
			continue;
		}
		close = in;
		for (;;) {
			close = memmem(close, (size_t)(ps->end - close),
			    ps->close, ps->clen);
			/* A delimiter change ends with "=" before the close. */
			if (close == NULL || *in != '=' ||
			    (close > in + 1 && close[-1] == '='))
				break;
			close++;
		}
		if (close == NULL ||
		    memchr(in, '\n', (size_t)(close - in)) != NULL)
			return perr(ps, line, "unterminated tag");
		if (close == in)
			return perr(ps, line, "empty tag");
		if (strchr("#/>=%", *in) != NULL)
			ps->p = standalone(ps, tag, close + ps->clen);
		else
			ps->p = close + ps->clen;
		switch (*in) {
		case '=':
			e = parse_delims(ps, in + 1, (size_t)(close - in - 2),
			    line);
			break;
		case '#':
			e = parse_open(ps, in + 1, (size_t)(close - in - 1),
			    line);
			break;
		case '/':
			e = parse_close(ps, in + 1, (size_t)(close - in - 1),
			    line);
			break;
		case '>':
			e = parse_include(ps, in + 1, (size_t)(close - in - 1),
			    line);
			break;
		case '%':
			e = parse_pragma(ps, in, (size_t)(close - in), line);
			break;
		default:
			e = parse_var(ps, in, (size_t)(close - in), line);
			break;
		}
		if (e != SUP_OK)
			return e;
	}
	return e;
}

/*
 * Parse buf[0..len) as the template name into a new template (*out, freed
 * with tmpl_free), including through cache c with loading chain up.
 */
static sup_err
parse_text(struct tmpl_cache *c, const char *name, const char *buf,
    size_t len, const struct loading *up, struct tmpl **out, char *err,
    size_t errlen)
{
	struct parser ps;
	struct tmpl *t;
	sup_err e;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->name = strdup(name)) == NULL ||
	    (t->text = malloc(2 * len + 2)) == NULL) {
		tmpl_free(t);
		return set_err(SUP_ENOMEM, err, errlen, name, 0,
		    "out of memory");
	}
	memcpy(t->text, buf, len);
	t->text[len] = '\0';
	memcpy(t->text + len + 1, buf, len);
	t->text[2 * len + 1] = '\0';
	t->mode = name_mode(name);

	memset(&ps, 0, sizeof(ps));
	ps.t = t;
	ps.p = t->text;
	ps.end = t->text + len;
	ps.keys = t->text + len + 1;
	ps.line = 1;
	strcpy(ps.open, "{{");
	strcpy(ps.close, "}}");
	ps.olen = ps.clen = 2;
	ps.cache = c;
	ps.loading = up;
	ps.err = err;
	ps.errlen = errlen;

	if ((e = parse(&ps)) == SUP_OK && ps.depth > 0) {
		const struct node *open = &t->nodes[ps.stack[ps.depth - 1]];
		e = perr(&ps, open->line, "{{#%s}} is not closed", open->s);
	}
	if (e == SUP_ENOMEM)
		set_err(e, err, errlen, name, 0, "out of memory");
	if (e != SUP_OK) {
		tmpl_free(t);
		return e;
	}
	*out = t;
	return SUP_OK;
}

sup_err
tmpl_parse_buf(struct tmpl_cache *c, const char *name, const char *buf,
    size_t len, struct tmpl **out, char *err, size_t errlen)
{
	*out = NULL;
	if (name == NULL || !file_name_ok(name))
		return set_err(SUP_EINVAL, err, errlen, "template", 0,
		    "bad template name");
	if (len > TMPL_FILE_MAX)
		return set_err(SUP_ECONFIG, err, errlen, name, 0,
		    "larger than %d bytes", TMPL_FILE_MAX);
	return parse_text(c, name, buf, len, NULL, out, err, errlen);
}

void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->text);
	free(t->nodes);
	free(t);
}

const char *
tmpl_name(const struct tmpl *t)
{
	return t->name;
}

/* --- The cache -------------------------------------------------------- */

sup_err
tmpl_cache_open(const char *dir, struct tmpl_cache **out)
{
	struct tmpl_cache *c;

	*out = NULL;
	if (dir == NULL || *dir == '\0' || strlen(dir) > DIR_MAX)
		return SUP_EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SUP_ENOMEM;
	if ((c->dir = strdup(dir)) == NULL) {
		free(c);
		return SUP_ENOMEM;
	}
	*out = c;
	return SUP_OK;
}

void
tmpl_cache_close(struct tmpl_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		tmpl_free(c->t[i]);
	free(c->t);
	free(c->dir);
	free(c);
}

/*
 * Read the file dir/name into *buf (malloc'd, the caller frees) and *len.
 * SUP_ENOTFOUND, SUP_EIO, SUP_ECONFIG (too large), SUP_ENOMEM, each with
 * err set.
 */
static sup_err
read_file(const char *dir, const char *name, char **buf, size_t *len,
    char *err, size_t errlen)
{
	char path[DIR_MAX + TMPL_NAME_MAX + 2];
	struct stat st;
	size_t got = 0;
	sup_err e = SUP_OK;
	int fd;

	*buf = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return set_err(errno == ENOENT ? SUP_ENOTFOUND : SUP_EIO, err,
		    errlen, name, 0, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		e = set_err(SUP_EIO, err, errlen, name, 0, "not a file");
		goto out;
	}
	if (st.st_size > TMPL_FILE_MAX) {
		e = set_err(SUP_ECONFIG, err, errlen, name, 0,
		    "larger than %d bytes", TMPL_FILE_MAX);
		goto out;
	}
	if ((*buf = malloc((size_t)st.st_size + 1)) == NULL) {
		e = set_err(SUP_ENOMEM, err, errlen, name, 0, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, *buf + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			e = set_err(SUP_EIO, err, errlen, name, 0,
			    "cannot read");
			goto out;
		}
		got += (size_t)k;
	}
	*len = got;
out:
	if (e != SUP_OK) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return e;
}

/* tmpl_get, for a template loaded from within the loading chain up. */
static sup_err
cache_load(struct tmpl_cache *c, const char *name, const struct loading *up,
    const struct tmpl **out, char *err, size_t errlen)
{
	struct tmpl *t = NULL;
	char *buf = NULL;
	size_t len = 0;
	sup_err e;

	*out = NULL;
	if (name == NULL || !file_name_ok(name))
		return set_err(SUP_EINVAL, err, errlen, "template", 0,
		    "bad template name");
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->t[i]->name, name) == 0) {
			*out = c->t[i];
			return SUP_OK;
		}
	}
	if ((e = read_file(c->dir, name, &buf, &len, err, errlen)) != SUP_OK)
		goto out;
	if ((e = parse_text(c, name, buf, len, up, &t, err, errlen)) != SUP_OK)
		goto out;
	/* Room is made only now: parsing may have cached includes. */
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct tmpl **p = realloc(c->t, cap * sizeof(*p));
		if (p == NULL) {
			e = set_err(SUP_ENOMEM, err, errlen, name, 0,
			    "out of memory");
			goto out;
		}
		c->t = p;
		c->cap = cap;
	}
	c->t[c->n++] = t;
	*out = t;
	t = NULL;
out:
	tmpl_free(t);
	free(buf);
	return e;
}

sup_err
tmpl_get(struct tmpl_cache *c, const char *name, const struct tmpl **out,
    char *err, size_t errlen)
{
	return cache_load(c, name, NULL, out, err, errlen);
}

/* --- Escaping --------------------------------------------------------- */

/* Where output goes: the writer, or a scratch buffer between modifiers. */
struct out {
	tmpl_write_fn w;
	void *ctx;
	struct sbuf *sb;		/* when not NULL, instead of w */
	sup_err *err;			/* the render's first error */
};

/*
 * Write s[0..n) to o.  The first failure is kept in *o->err and makes every
 * later put a no-op, so the callers check once per node.
 */
static void
put(const struct out *o, const char *s, size_t n)
{
	if (*o->err != SUP_OK || n == 0)
		return;
	if (o->sb != NULL) {
		sbuf_add(o->sb, s, n);
		if (o->sb->failed)
			*o->err = SUP_ENOMEM;
	} else if (o->w(o->ctx, s, n) != 0) {
		/* Our sbuf writer fails only when it cannot grow. */
		*o->err = o->w == tmpl_sbuf_write ? SUP_ENOMEM : SUP_EIO;
	}
}

static const char hex[] = "0123456789abcdef";

/* Is s[i..n) the UTF-8 of U+2028 or U+2029, which end a line in JS? */
static bool
is_line_sep(const char *s, size_t i, size_t n)
{
	return i + 2 < n && (unsigned char)s[i] == 0xe2 &&
	    (unsigned char)s[i + 1] == 0x80 &&
	    ((unsigned char)s[i + 2] == 0xa8 ||
	    (unsigned char)s[i + 2] == 0xa9);
}

/* What :h makes of each byte: 0 itself, else an index into esc_html's. */
static const unsigned char html_special[256] = {
	['&'] = 1, ['<'] = 2, ['>'] = 3, ['"'] = 4, ['\''] = 5,
};

/*
 * Where the next byte :h escapes is in s[i..n), n when none: 16 bytes a
 * step where SSE2 is (every x86-64), a byte a step elsewhere.  The values
 * a page escapes are mostly clean (uuids, times, names), so this scan is
 * most of :h.
 */
static size_t
html_next(const char *s, size_t i, size_t n)
{
#ifdef __SSE2__
	const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'),
	    gt = _mm_set1_epi8('>'), quot = _mm_set1_epi8('"'),
	    apos = _mm_set1_epi8('\'');

	for (; i + 16 <= n; i += 16) {
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)
		    (s + i));
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(c, amp),
		    _mm_cmpeq_epi8(c, lt)), _mm_or_si128(_mm_cmpeq_epi8(c, gt),
		    _mm_or_si128(_mm_cmpeq_epi8(c, quot),
		    _mm_cmpeq_epi8(c, apos))));
		unsigned m = (unsigned)_mm_movemask_epi8(hit);
		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	for (; i < n; i++)
		if (html_special[(unsigned char)s[i]] != 0)
			return i;
	return n;
}

/* :h - & < > " ' as entities.  The hottest loop of a page. */
static void
esc_html(const struct out *o, const char *s, size_t n)
{
	static const char *const rep[] = {
		NULL, "&amp;", "&lt;", "&gt;", "&quot;", "&#39;"
	};
	static const unsigned char len[] = { 0, 5, 4, 4, 6, 5 };
	size_t run = 0;

	for (size_t i = html_next(s, 0, n); i < n; i = html_next(s, i + 1, n)) {
		unsigned char k = html_special[(unsigned char)s[i]];
		put(o, s + run, i - run);
		put(o, rep[k], len[k]);
		run = i + 1;
	}
	put(o, s + run, n - run);
}

/*
 * :j - the content of a JavaScript string, single- or double-quoted, safe
 * inside an HTML <script> or attribute too: quotes, backslash, slash,
 * < > & =, control characters and U+2028/U+2029 escaped.
 */
static void
esc_js(const struct out *o, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char buf[8];
		const char *rep = buf;
		size_t skip = 1;

		switch (ch) {
		case '\\': rep = "\\\\"; break;
		case '/': rep = "\\/"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		case '"': case '\'': case '<': case '>': case '&': case '=':
			break;
		default:
			if (is_line_sep(s, i, n)) {
				rep = (unsigned char)s[i + 2] == 0xa8 ?
				    "\\u2028" : "\\u2029";
				skip = 3;
				break;
			}
			if (ch >= 0x20 && ch != 0x7f)
				continue;
			break;
		}
		if (rep == buf) {
			buf[0] = '\\';
			buf[1] = 'x';
			buf[2] = hex[ch >> 4];
			buf[3] = hex[ch & 15];
			buf[4] = '\0';
		}
		put(o, s + run, i - run);
		put(o, rep, strlen(rep));
		i += skip - 1;
		run = i + 1;
	}
	put(o, s + run, n - run);
}

/*
 * :o - JSON.  A string's content as inside a JSON string: backslash and
 * control characters escaped, and " < > & ' as \uXXXX, so that it is safe
 * inside <script> and any HTML attribute.  With text true, s is already
 * JSON text (an object or array): its quotes are its structure and stay;
 * < > & ' and U+2028/U+2029 still become \uXXXX (they are only ever inside
 * its strings), so it is safe in <script> and single-quoted attributes.
 */
static void
esc_json(const struct out *o, const char *s, size_t n, bool text)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char buf[8];
		const char *rep = buf;
		size_t skip = 1;

		switch (ch) {
		case '<': case '>': case '&': case '\'':
			break;
		case '"':
			/* \u0022 rather than \": safe in an HTML attribute. */
			if (text)
				continue;
			break;
		case '\\':
			if (text)
				continue;
			rep = "\\\\";
			break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		case '\b': rep = "\\b"; break;
		case '\f': rep = "\\f"; break;
		default:
			if (is_line_sep(s, i, n)) {
				rep = (unsigned char)s[i + 2] == 0xa8 ?
				    "\\u2028" : "\\u2029";
				skip = 3;
				break;
			}
			if (ch >= 0x20)
				continue;
			break;
		}
		if (rep == buf)
			snprintf(buf, sizeof(buf), "\\u00%c%c", hex[ch >> 4],
			    hex[ch & 15]);
		put(o, s + run, i - run);
		put(o, rep, strlen(rep));
		i += skip - 1;
		run = i + 1;
	}
	put(o, s + run, n - run);
}

/* :u - a URL query component: unreserved bytes kept, space as +, %XX. */
static void
esc_url(const struct out *o, const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char buf[4];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~')
			continue;
		put(o, s + run, i - run);
		if (ch == ' ') {
			put(o, "+", 1);
		} else {
			buf[0] = '%';
			buf[1] = "0123456789ABCDEF"[ch >> 4];
			buf[2] = "0123456789ABCDEF"[ch & 15];
			put(o, buf, 3);
		}
		run = i + 1;
	}
	put(o, s + run, n - run);
}

/*
 * :H=url - a URL for an href or src: http:, https: and mailto: URLs and
 * relative ones (no scheme before the first / ? #) pass, HTML-escaped;
 * anything else (javascript:, data:, a scheme hidden behind white space or
 * control characters) becomes "#".
 */
static void
esc_href(const struct out *o, const char *s, size_t n)
{
	static const char *const ok[] = { "http", "https", "mailto" };
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == ':' || s[i] == '/' || s[i] == '?' || s[i] == '#')
			break;
	if (i < n && s[i] == ':') {
		bool allowed = false;
		for (size_t k = 0; k < SUP_NELEM(ok); k++)
			if (strlen(ok[k]) == i &&
			    strncasecmp(ok[k], s, i) == 0)
				allowed = true;
		if (!allowed) {
			put(o, "#", 1);
			return;
		}
	}
	esc_html(o, s, n);
}

/* Apply one modifier to s[0..n), writing to o. */
static void
apply(const struct out *o, enum mod m, const char *s, size_t n, bool json)
{
	switch (m) {
	case MOD_H: esc_html(o, s, n); break;
	case MOD_J: esc_js(o, s, n); break;
	case MOD_U: esc_url(o, s, n); break;
	case MOD_O: esc_json(o, s, n, json); break;
	case MOD_HURL: esc_href(o, s, n); break;
	}
}

/* --- Rendering -------------------------------------------------------- */

/*
 * One level of context: a section's object and its repetition.  obj is a
 * json-c object (or NULL); ix indexes the members of a JSON text object
 * (or is NULL): an element of a text array, or the text of obj when obj
 * is a text object (lib/text/jtext.h).  A name is looked for in obj's members,
 * then in the text's, then among the extra members the caller computes
 * for the text.
 */
struct frame {
	json_object *obj;
	const struct jt_index *ix;	/* the text's members, or NULL */
	const struct frame *up;
	bool last;			/* the last repetition of its section */
};

/* What a name found: a json-c value (obj), else JSON text (text), else
 * nothing (both empty: null). */
struct val {
	json_object *obj;
	struct jt text;
};

struct render {
	struct out out;
	struct sbuf scratch[2];		/* between chained modifiers */
	struct sbuf str;		/* a text string's content */
	const struct tmpl_extra *extra;
	sup_err err;
};

/*
 * The frame for object v (json-c, maybe a text object) and text el; the
 * text's members are indexed into ix.  A text object whose index cannot
 * be made (no memory) fails the render.
 */
static void
frame_of(struct render *r, struct frame *in, json_object *v, struct jt el,
    struct jt_index *ix)
{
	const struct jt_index *kept;
	struct jt text;

	in->obj = json_object_is_type(v, json_type_object) ? v : NULL;
	in->ix = NULL;
	if (jt_type(el) == JT_OBJECT) {
		jt_index_build(el, ix);
		in->ix = ix;
	} else if (in->obj != NULL && jt_object_text(in->obj, &text)) {
		/* A text object keeps its index: made once a request. */
		if ((kept = jt_object_index(in->obj)) == NULL)
			r->err = SUP_ENOMEM;
		else if (jt_type(kept->obj) == JT_OBJECT)
			in->ix = kept;
	}
}

/*
 * The value of name in the innermost frame that has it; false if none.
 * buf (TMPL_EXTRA_MAX bytes) holds an extra member's text.  The name is
 * hashed once for all the frames (json_object_object_get_ex hashes it
 * again in each, and a name of the page's context is looked for in every
 * section around it first): every json-c object's table hashes its keys
 * with json-c's one string hash, which this program never changes
 * (json_global_set_string_hash).
 */
static bool
lookup(const struct render *r, const struct frame *f, const char *name,
    size_t n, struct val *v, char *buf)
{
	unsigned long h = 0;
	bool hashed = false;

	memset(v, 0, sizeof(*v));
	for (; f != NULL; f = f->up) {
		if (f->obj != NULL) {
			struct lh_table *t = json_object_get_object(f->obj);
			struct lh_entry *e;
			if (!hashed) {
				h = lh_get_hash(t, name);
				hashed = true;
			}
			if ((e = lh_table_lookup_entry_w_hash(t, name, h)) !=
			    NULL) {
				v->obj = (json_object *)lh_entry_v(e);
				return true;
			}
		}
		if (f->ix == NULL)
			continue;
		if (jt_index_get(f->ix, name, n, &v->text))
			return true;
		if (r->extra != NULL && r->extra->member(r->extra->ctx,
		    f->ix, name, n, buf, &v->text))
			return true;
	}
	return false;
}

/*
 * A double as short as reads back the same (%.15g, else %.17g); JSON has
 * no NaN or infinities but json-c may hold them.
 */
static size_t
fmt_double(double d, char *buf, size_t n)
{
	if (isnan(d))
		return (size_t)snprintf(buf, n, "NaN");
	if (isinf(d))
		return (size_t)snprintf(buf, n, "%sInfinity", d < 0 ? "-" : "");
	snprintf(buf, n, "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, n, "%.17g", d);
	return strlen(buf);
}

/*
 * The text of a json-c value, as render_var writes it.  *json says, on
 * the way in, whether an object or an array is wanted as JSON text (else
 * it is not printed at all: false), and on the way out whether the text
 * is JSON.
 */
static bool
obj_value(struct render *r, json_object *v, char *num, size_t cap,
    const char **s, size_t *n, bool *json)
{
	bool want = *json;

	*json = false;
	switch (json_object_get_type(v)) {
	case json_type_string:
		*s = json_object_get_string(v);
		*n = (size_t)json_object_get_string_len(v);
		return true;
	case json_type_int:
		if (json_object_get_int64(v) == INT64_MAX)
			*n = (size_t)snprintf(num, cap, "%" PRIu64,
			    json_object_get_uint64(v));
		else
			*n = (size_t)snprintf(num, cap, "%" PRId64,
			    json_object_get_int64(v));
		*s = num;
		return true;
	case json_type_double:
		*n = fmt_double(json_object_get_double(v), num, cap);
		*s = num;
		return true;
	case json_type_boolean:
		*s = json_object_get_boolean(v) ? "true" : "false";
		*n = strlen(*s);
		return true;
	case json_type_object:
	case json_type_array:
		if (!want)
			return false;
		/* json-c keeps the text in the object: no allocation here. */
		*s = json_object_to_json_string_length(v,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, n);
		if (*s == NULL) {
			r->err = SUP_ENOMEM;
			return false;
		}
		*json = true;
		return true;
	default:
		return false;
	}
}

/*
 * Is number t a whole number as json-c would print it back: an optional
 * minus, at most 18 digits (so it fits an int64), not "-0"?
 */
static bool
plain_int(struct jt t)
{
	size_t i = t.p[0] == '-';

	if (t.n - i == 0 || t.n - i > 18 || (i == 1 && t.n == 2 &&
	    t.p[1] == '0'))
		return false;
	for (; i < t.n; i++)
		if (t.p[i] < '0' || t.p[i] > '9')
			return false;
	return true;
}

/*
 * The text of a JSON text value, as render_var writes it: a string's
 * content (unescaped into r->str when it has escapes), a whole number,
 * true or false as written, any other number as json-c prints it (in
 * num, cap bytes), an object or array as its text (*json as obj_value's).
 * False for null and what is not JSON.
 */
static bool
text_value(struct render *r, struct jt t, char *num, size_t cap,
    const char **s, size_t *n, bool *json)
{
	bool want = *json;

	*json = false;
	switch (jt_type(t)) {
	case JT_STRING:
		if (jt_string_plain(t)) {
			*s = t.p + 1;
			*n = t.n - 2;
			return true;
		}
		r->str.len = 0;
		if (!jt_string_get(t, &r->str)) {
			if (r->str.failed)
				r->err = SUP_ENOMEM;
			return false;
		}
		*s = r->str.p != NULL ? r->str.p : "";
		*n = r->str.len;
		return true;
	case JT_NUMBER:
		if (!plain_int(t)) {
			/* 1.5e3, -0, 20 digits: as json-c reads and prints it. */
			char text[64];
			json_object *o;
			bool done;
			if (t.n >= sizeof(text))
				return false;
			memcpy(text, t.p, t.n);
			text[t.n] = '\0';
			if ((o = json_tokener_parse(text)) == NULL)
				return false;
			done = obj_value(r, o, num, cap, s, n, json);
			json_object_put(o);
			return done;
		}
		/* FALLTHROUGH */
	case JT_BOOL:
		*s = t.p;
		*n = t.n;
		return true;
	case JT_OBJECT:
	case JT_ARRAY:
		if (!want)
			return false;
		*s = t.p;
		*n = t.n;
		*json = true;
		return true;
	default:
		return false;
	}
}

/* A variable: its value's text through the node's modifiers. */
static void
render_var(struct render *r, const struct node *node, const struct val *v)
{
	char num[40];
	const char *s;
	size_t n;
	bool json = false;

	/* An object or an array shows only as JSON (:o first). */
	json = node->nmods > 0 && node->mods[0] == MOD_O;
	if (v->obj != NULL ? !obj_value(r, v->obj, num, sizeof(num), &s, &n,
	    &json) : !text_value(r, v->text, num, sizeof(num), &s, &n, &json))
		return;
	if (node->nmods == 0) {
		put(&r->out, s, n);
		return;
	}
	for (size_t i = 0; i < node->nmods && r->err == SUP_OK; i++) {
		struct out o = r->out;
		struct sbuf *sb = &r->scratch[i % 2];

		if (i + 1 < node->nmods) {
			sb->len = 0;
			o.sb = sb;
		}
		apply(&o, (enum mod)node->mods[i], s, n, json && i == 0);
		if (i + 1 < node->nmods) {
			s = sb->p != NULL ? sb->p : "";
			n = sb->len;
		}
	}
}

static void render_nodes(struct render *r, const struct tmpl *t,
    size_t from, size_t to, const struct frame *f);

/*
 * A section over an array, json-c's or a text's: its body once per
 * element (objects become the context).
 */
static void
render_array(struct render *r, const struct tmpl *t, size_t i,
    const struct frame *f, const struct val *v)
{
	const struct node *node = &t->nodes[i];
	struct frame in = { NULL, NULL, f, true };
	struct jt_index ix;
	struct jt_iter it;
	struct jt el;

	if (v->obj != NULL) {
		size_t len = json_object_array_length(v->obj);
		for (size_t k = 0; k < len && r->err == SUP_OK; k++) {
			frame_of(r, &in, json_object_array_get_idx(v->obj, k),
			    (struct jt){ NULL, 0 }, &ix);
			in.last = k + 1 == len;
			render_nodes(r, t, i + 1, node->end, &in);
		}
		return;
	}
	/* Each element is read once: indexed as it is found. */
	if (!jt_iter_start(v->text, &it))
		return;
	while (r->err == SUP_OK && jt_iter_next_index(&it, &el, &ix)) {
		in.ix = jt_type(el) == JT_OBJECT ? &ix : NULL;
		in.last = !jt_iter_more(&it);
		render_nodes(r, t, i + 1, node->end, &in);
	}
}

/*
 * A section: its body once per element of an array, once for a non-empty
 * object (the context), true, a non-empty string or a nonzero number;
 * never for anything else.
 */
static void
render_section(struct render *r, const struct tmpl *t, size_t i,
    const struct frame *f)
{
	const struct node *node = &t->nodes[i];
	struct frame in = { NULL, NULL, f, true };
	char buf[TMPL_EXTRA_MAX];
	struct jt_index ix;
	struct val v;
	bool show;

	lookup(r, f, node->s, node->len, &v, buf);
	if (v.obj == NULL) {
		switch (jt_type(v.text)) {
		case JT_ARRAY:
			render_array(r, t, i, f, &v);
			return;
		case JT_OBJECT:
			frame_of(r, &in, NULL, v.text, &ix);
			break;
		default:
			break;
		}
		show = jt_truthy(v.text);
	} else {
		switch (json_object_get_type(v.obj)) {
		case json_type_array:
			render_array(r, t, i, f, &v);
			return;
		case json_type_object:
			/* A text object holding an array is that array. */
			if (jt_object_text(v.obj, &v.text) &&
			    jt_type(v.text) == JT_ARRAY &&
			    json_object_object_length(v.obj) == 0) {
				v.obj = NULL;
				render_array(r, t, i, f, &v);
				return;
			}
			/* A text object shows for its members or its text. */
			frame_of(r, &in, v.obj, (struct jt){ NULL, 0 }, &ix);
			show = json_object_object_length(v.obj) > 0 ||
			    (in.ix != NULL && jt_truthy(in.ix->obj));
			break;
		case json_type_boolean:
			show = json_object_get_boolean(v.obj);
			break;
		case json_type_string:
			show = json_object_get_string_len(v.obj) > 0;
			break;
		case json_type_int:
			show = json_object_get_int64(v.obj) != 0;
			break;
		case json_type_double:
			show = json_object_get_double(v.obj) != 0.0;
			break;
		default:
			show = false;
			break;
		}
	}
	if (show)
		render_nodes(r, t, i + 1, node->end, &in);
}

/* Render nodes [from, to) of t in context f. */
static void
render_nodes(struct render *r, const struct tmpl *t, size_t from, size_t to,
    const struct frame *f)
{
	size_t i = from;

	while (i < to && r->err == SUP_OK) {
		const struct node *node = &t->nodes[i];
		char buf[TMPL_EXTRA_MAX];
		struct val v;

		switch (node->kind) {
		case N_TEXT:
			put(&r->out, node->s, node->len);
			i++;
			break;
		case N_VAR:
			if (lookup(r, f, node->s, node->len, &v, buf))
				render_var(r, node, &v);
			i++;
			break;
		case N_SECTION:
			render_section(r, t, i, f);
			i = node->end;
			break;
		case N_SEP:
			if (!f->last)
				render_nodes(r, t, i + 1, node->end, f);
			i = node->end;
			break;
		case N_INCLUDE:
			render_nodes(r, node->inc, 0, node->inc->n, f);
			i++;
			break;
		}
	}
}

sup_err
tmpl_render_ex(const struct tmpl *t, json_object *data,
    const struct tmpl_extra *extra, tmpl_write_fn w, void *ctx)
{
	struct render r;
	struct frame root = { NULL, NULL, NULL, true };
	struct jt_index ix;

	memset(&r, 0, sizeof(r));
	r.out.w = w;
	r.out.ctx = ctx;
	r.out.err = &r.err;
	r.extra = extra;
	frame_of(&r, &root, data, (struct jt){ NULL, 0 }, &ix);
	render_nodes(&r, t, 0, t->n, &root);
	free(r.scratch[0].p);
	free(r.scratch[1].p);
	free(r.str.p);
	return r.err;
}

sup_err
tmpl_render(const struct tmpl *t, json_object *data, tmpl_write_fn w,
    void *ctx)
{
	return tmpl_render_ex(t, data, NULL, w, ctx);
}

int
tmpl_sbuf_write(void *ctx, const char *buf, size_t len)
{
	struct sbuf *b = ctx;

	sbuf_add(b, buf, len);
	return b->failed ? -1 : 0;
}
