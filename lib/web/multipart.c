/*
 * multipart.c - multipart/form-data (RFC 7578, RFC 2046 §5.1), streaming.
 *
 * Written here because no well-kept packaged C library does this for a
 * FastCGI stream: kcgi parses multipart only from a body it has read whole
 * into memory (and brings its own request loop), GMime builds a tree of
 * the whole message in memory (and is kept out of the cgi-bin programs),
 * and the small ones (multipart-parser-c and its forks) are unpackaged,
 * unmaintained callback state machines that still leave the bounds, the
 * header parsing and the spooling to their caller.
 *
 * The body is read through a window of WIN bytes.  The delimiter is
 * "\r\n--" boundary; the window starts with a "\r\n" of its own, so that
 * a body beginning with its first boundary (as every client sends it)
 * needs no special case.  Inside a part, every byte of the window but the
 * last dlen - 1 (which may be the start of the delimiter) is handed on;
 * a plain field's value to a bounded buffer in memory, a file's to its
 * spool file and its SHA-256.  Every size is counted against its limit
 * as it grows: nothing is read past a limit, and the first byte over it
 * ends the parse.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fname.h"
#include "multipart.h"
#include "util.h"

#define WIN (64 * 1024)		/* the read window */
#define DELIM_MAX (4 + MP_BOUNDARY_MAX)

enum mp_state { S_PREAMBLE, S_AFTER_DELIM, S_HEADERS, S_BODY, S_DONE };

struct mp {
	const struct mp_limits *lim;
	struct sup_io io;
	long left;			/* bytes still to read, or -1 */
	bool eof;
	uint64_t total;			/* bytes read */
	char delim[DELIM_MAX + 1];
	size_t dlen;
	char *win;			/* WIN + DELIM_MAX bytes */
	size_t len;			/* bytes in win */
	enum mp_state state;
	size_t parts, field_bytes;
	/* The part being read. */
	char name[MP_NAME_MAX + 1];
	bool is_file;
	struct sbuf value;		/* a plain field's value */
	struct mp_file *file;		/* a file's, in up */
	crypto_hash_sha256_state sha;
	/* The results. */
	json_object *fields;
	char *csrf;
	struct mp_upload *up;
	struct mp_error *why;
};

/* Say why, for field (may be ""): printf-like. */
SUP_PRINTF(3, 4) static void
say(struct mp *m, const char *field, const char *fmt, ...)
{
	va_list ap;

	snprintf(m->why->field, sizeof(m->why->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(m->why->msg, sizeof(m->why->msg), fmt, ap);
	va_end(ap);
}

bool
mp_is_multipart(const char *ctype)
{
	size_t n = strlen("multipart/form-data");

	return ctype != NULL && strncasecmp(ctype, "multipart/form-data",
	    n) == 0 && (ctype[n] == '\0' || ctype[n] == ';' ||
	    ctype[n] == ' ' || ctype[n] == '\t');
}

/*
 * The value of parameter name in a header value's parameters p (after
 * the first ';'): a token or a quoted string, into out (size outsz).
 * Quoted strings are read as browsers write them (WHATWG HTML, "multipart/
 * form-data encoding algorithm"): a '"' in a value is sent as %22, and a
 * backslash is a backslash (Windows paths), not an escape.  *found tells
 * whether the parameter is there; false when it is malformed or longer
 * than outsz - 1.
 */
static bool
header_param(const char *p, const char *name, char *out, size_t outsz,
    bool *found)
{
	size_t nlen = strlen(name);

	*found = false;
	while ((p = strchr(p, ';')) != NULL) {
		const char *v, *end;
		size_t n;

		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, name, nlen) != 0)
			continue;
		v = p + nlen;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == '"') {
			v++;
			if ((end = strchr(v, '"')) == NULL)
				return false;
		} else
			end = v + strcspn(v, "; \t");
		n = (size_t)(end - v);
		if (n >= outsz)
			return false;
		memcpy(out, v, n);
		out[n] = '\0';
		*found = true;
		return true;
	}
	return true;
}

/*
 * Undo the browsers' escapes of a name in place: %0A, %0D and %22 (the
 * only three they write; WHATWG HTML) become the bytes they stand for, so
 * that the name is judged (lib/desk's safe names) as the user typed it.
 */
static void
unescape_browser(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '%' && s[1] == '0' &&
		    (s[2] == 'A' || s[2] == 'a')) {
			*o++ = '\n';
			s += 2;
		} else if (s[0] == '%' && s[1] == '0' &&
		    (s[2] == 'D' || s[2] == 'd')) {
			*o++ = '\r';
			s += 2;
		} else if (s[0] == '%' && s[1] == '2' && s[2] == '2') {
			*o++ = '"';
			s += 2;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

/*
 * An RFC 5987 ext-value (charset'lang'%XX...) into out: UTF-8 and
 * US-ASCII only.  false when malformed, of another charset or too long.
 */
static bool
ext_value(const char *v, char *out, size_t outsz)
{
	const char *q, *s;
	size_t n = 0;

	if (strncasecmp(v, "UTF-8'", 6) == 0)
		s = v + 6;
	else if (strncasecmp(v, "US-ASCII'", 9) == 0)
		s = v + 9;
	else
		return false;
	if ((q = strchr(s, '\'')) == NULL)
		return false;
	for (s = q + 1; *s != '\0'; s++) {
		int c = (unsigned char)*s;
		if (c == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
			if (lo < 0 || (c = hi << 4 | lo) == 0)
				return false;
			s += 2;
		}
		if (n + 1 >= outsz)
			return false;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return true;
}

/* Make a new spool file in the spool directory for m->file. */
static sup_err
spool_open(struct mp *m)
{
	struct mp_file *f = m->file;
	uint8_t rnd[12];
	char hex[2 * sizeof(rnd) + 1];
	struct sbuf b = { 0 };

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	sbuf_printf(&b, "%s/up-%s", m->lim->spool_dir, hex);
	if (b.failed) {
		free(b.p);
		return SUP_ENOMEM;
	}
	f->fd = open(b.p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (f->fd < 0) {
		fprintf(stderr, "support: spool file %s: %s\n", b.p,
		    strerror(errno));
		free(b.p);
		say(m, f->field, "The file could not be stored.");
		return SUP_EDB;
	}
	f->path = b.p;
	return SUP_OK;
}

/* Close and remove one file's spool file, if any. */
static void
file_drop(struct mp_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->path != NULL)
		unlink(f->path);
	free(f->path);
	free(f->field);
	free(f->name);
	f->path = f->field = f->name = NULL;
}

void
mp_upload_free(struct mp_upload *up)
{
	if (up == NULL)
		return;
	for (size_t i = 0; i < up->nfiles; i++)
		file_drop(&up->files[i]);
	free(up->files);
	free(up);
}

/*
 * The headers of a part, hdr[0..n) (lines ending in CRLF, without the
 * blank line): its name, and whether and as what it carries a file.  A
 * file part gets its entry in m->up and its spool file.
 */
static sup_err
part_headers(struct mp *m, char *hdr, size_t n)
{
	char fname[MP_FILENAME_MAX + 1], ext[MP_FILENAME_MAX + 1];
	bool have_cd = false, have_fname = false, have_ext = false, found;
	char *line, *next;

	m->name[0] = '\0';
	hdr[n] = '\0';
	if (memchr(hdr, '\0', n) != NULL) {
		say(m, "", "A part's headers are malformed.");
		return SUP_EINVAL;
	}
	for (line = hdr; *line != '\0'; line = next) {
		char *eol = strstr(line, "\r\n"), *v;

		if (eol == NULL)	/* the block ends with its CRLF */
			eol = line + strlen(line);
		next = *eol != '\0' ? eol + 2 : eol;
		*eol = '\0';
		if ((v = strchr(line, ':')) == NULL) {
			say(m, "", "A part's headers are malformed.");
			return SUP_EINVAL;
		}
		*v++ = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(line, "Content-Disposition") != 0)
			continue;	/* Content-Type and others: ignored */
		if (have_cd || strncasecmp(v, "form-data", 9) != 0 ||
		    (v[9] != '\0' && v[9] != ';' && v[9] != ' ')) {
			say(m, "", "A part is not form-data.");
			return SUP_EINVAL;
		}
		have_cd = true;
		if (!header_param(v, "name", m->name, sizeof(m->name),
		    &found) || !found || m->name[0] == '\0' ||
		    !header_param(v, "filename", fname, sizeof(fname),
		    &have_fname) ||
		    !header_param(v, "filename*", ext, sizeof(ext), &have_ext)) {
			say(m, "", "A part's name or file name is missing, "
			    "malformed or too long.");
			return SUP_EINVAL;
		}
	}
	if (!have_cd) {
		say(m, "", "A part has no Content-Disposition.");
		return SUP_EINVAL;
	}
	unescape_browser(m->name);
	if (utf8_len(m->name, strlen(m->name)) < 0) {
		say(m, "", "A field's name is not UTF-8.");
		return SUP_EINVAL;
	}
	if (++m->parts > m->lim->max_parts) {
		say(m, m->name, "The form has more than %zu parts.",
		    m->lim->max_parts);
		return SUP_EINVAL;
	}
	m->is_file = have_fname || have_ext;
	if (!m->is_file) {
		m->value.len = 0;
		if (m->value.p != NULL)
			m->value.p[0] = '\0';
		return SUP_OK;
	}
	if (have_ext && !ext_value(ext, fname, sizeof(fname))) {
		say(m, m->name, "A file name (filename*) is malformed.");
		return SUP_EINVAL;
	}
	if (!have_ext)
		unescape_browser(fname);

	struct mp_upload *up = m->up;
	struct mp_file *f;
	if (fname[0] != '\0' && up->nfiles >= m->lim->max_files) {
		char shown[FNAME_MAX + 1];
		/* Said back as it will be kept: safe, UTF-8 (fname.h). */
		fname_safe(fname, FT_UNKNOWN, shown);
		say(m, m->name, "%s: more than %zu files.", shown,
		    m->lim->max_files);
		return SUP_EINVAL;
	}
	if ((f = realloc(up->files, (up->nfiles + 1) * sizeof(*f))) == NULL)
		return SUP_ENOMEM;
	up->files = f;
	f = m->file = &up->files[up->nfiles++];
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	if ((f->field = strdup(m->name)) == NULL ||
	    (f->name = strdup(fname)) == NULL)
		return SUP_ENOMEM;
	crypto_hash_sha256_init(&m->sha);
	return spool_open(m);
}

/* Hand p[0..n) of the part being read on: to its value or its file. */
static sup_err
part_data(struct mp *m, const char *p, size_t n)
{
	struct mp_file *f = m->file;

	if (n == 0)
		return SUP_OK;
	if (!m->is_file) {
		if (n > m->lim->max_field_bytes - m->field_bytes) {
			say(m, m->name, "The form's fields are over %zu "
			    "bytes.", m->lim->max_field_bytes);
			return SUP_ETOOLARGE;
		}
		m->field_bytes += n;
		sbuf_add(&m->value, p, n);
		return m->value.failed ? SUP_ENOMEM : SUP_OK;
	}
	if (n > m->lim->max_file_bytes - f->size) {
		char shown[FNAME_MAX + 1];
		fname_safe(f->name, FT_UNKNOWN, shown);
		say(m, m->name, "%s: the file is over the limit of %llu "
		    "bytes.", shown, (unsigned long long)m->lim->max_file_bytes);
		return SUP_ETOOLARGE;
	}
	if (f->nhead < sizeof(f->head)) {
		size_t k = sizeof(f->head) - f->nhead;
		if (k > n)
			k = n;
		memcpy(f->head + f->nhead, p, k);
		f->nhead += k;
	}
	crypto_hash_sha256_update(&m->sha, (const unsigned char *)p, n);
	if (!write_all(f->fd, p, n)) {
		fprintf(stderr, "support: spool file %s: %s\n", f->path,
		    strerror(errno));
		say(m, m->name, "The file could not be stored.");
		return SUP_EDB;
	}
	f->size += n;
	return SUP_OK;
}

/* The part being read has ended: keep its value, or finish its file. */
static sup_err
part_end(struct mp *m)
{
	struct mp_file *f = m->file;

	if (m->is_file) {
		m->file = NULL;
		crypto_hash_sha256_final(&m->sha, f->sha256);
		if (f->size == 0 && f->name[0] == '\0') {
			/* A file field left empty: not a file. */
			file_drop(f);
			m->up->nfiles--;
			return SUP_OK;
		}
		if (f->name[0] == '\0' &&
		    m->up->nfiles > m->lim->max_files) {
			say(m, m->name, "More than %zu files.",
			    m->lim->max_files);
			return SUP_EINVAL;
		}
		if (lseek(f->fd, 0, SEEK_SET) != 0)
			return SUP_EDB;
		return SUP_OK;
	}
	if (m->value.p == NULL) {
		sbuf_add(&m->value, "", 0);
		if (m->value.failed)
			return SUP_ENOMEM;
	}
	if (memchr(m->value.p, '\0', m->value.len) != NULL) {
		say(m, m->name, "The field holds a NUL byte.");
		return SUP_EINVAL;
	}
	if (strcmp(m->name, "csrfmiddlewaretoken") == 0) {
		if (m->csrf != NULL) {
			say(m, m->name, "Given more than once.");
			return SUP_EINVAL;
		}
		return (m->csrf = strdup(m->value.p)) != NULL ? SUP_OK :
		    SUP_ENOMEM;
	}

	json_object *v = json_object_new_string_len(m->value.p,
	    (int)m->value.len), *was, *arr;
	if (v == NULL)
		return SUP_ENOMEM;
	if (!json_object_object_get_ex(m->fields, m->name, &was)) {
		if (json_object_object_add(m->fields, m->name, v) == 0)
			return SUP_OK;
		json_object_put(v);
		return SUP_ENOMEM;
	}
	if (json_object_is_type(was, json_type_array)) {
		if (json_object_array_add(was, v) == 0)
			return SUP_OK;
		json_object_put(v);
		return SUP_ENOMEM;
	}
	/* A name given twice: an array of its values, as req.c's forms. */
	if ((arr = json_object_new_array()) == NULL) {
		json_object_put(v);
		return SUP_ENOMEM;
	}
	if (json_object_array_add(arr, json_object_get(was)) != 0) {
		json_object_put(was);
		json_object_put(arr);
		json_object_put(v);
		return SUP_ENOMEM;
	}
	if (json_object_array_add(arr, v) != 0) {
		json_object_put(arr);
		json_object_put(v);
		return SUP_ENOMEM;
	}
	if (json_object_object_add(m->fields, m->name, arr) != 0) {
		json_object_put(arr);
		return SUP_ENOMEM;
	}
	return SUP_OK;
}

/*
 * Read more of the body into the window (which has room).  Counts it
 * against max_total_bytes.
 */
static sup_err
fill(struct mp *m)
{
	size_t room = WIN + DELIM_MAX - m->len;
	int n;

	if (m->left == 0) {
		m->eof = true;
		return SUP_OK;
	}
	if (m->left > 0 && (size_t)m->left < room)
		room = (size_t)m->left;
	n = m->io.read(m->io.ctx, m->win + m->len, (int)room);
	if (n < 0) {
		say(m, "", "The body could not be read.");
		return n == SUP_IO_TIMEOUT ? SUP_ETIMEOUT : SUP_EIO;
	}
	if (n == 0) {
		if (m->left > 0) {
			say(m, "", "The body is shorter than announced.");
			return SUP_EIO;
		}
		m->eof = true;
		return SUP_OK;
	}
	m->len += (size_t)n;
	m->total += (uint64_t)n;
	if (m->left > 0)
		m->left -= n;
	if (m->total > m->lim->max_total_bytes) {
		say(m, "", "The body is over the limit of %llu bytes.",
		    (unsigned long long)m->lim->max_total_bytes);
		return SUP_ETOOLARGE;
	}
	return SUP_OK;
}

/* Drop the first n bytes of the window. */
static void
consume(struct mp *m, size_t n)
{
	memmove(m->win, m->win + n, m->len - n);
	m->len -= n;
}

/*
 * Take the boundary from ctype into m->delim: 1 to 70 characters of RFC
 * 2046's bchars, quoted or not.
 */
static bool
take_boundary(struct mp *m, const char *ctype)
{
	static const char bchars[] = "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";
	char b[MP_BOUNDARY_MAX + 1];
	bool found;
	size_t n;

	if (!header_param(ctype, "boundary", b, sizeof(b), &found) ||
	    !found || (n = strlen(b)) == 0 || strspn(b, bchars) != n ||
	    b[n - 1] == ' ')
		return false;
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, b, n);
	m->dlen = 4 + n;
	return true;
}

/* Where the delimiter is in the window, or NULL. */
static char *
find_delim(struct mp *m)
{
	return memmem(m->win, m->len, m->delim, m->dlen);
}

/* One step of the machine: consumes the window or fills it. */
static sup_err
step(struct mp *m)
{
	char *d, *end;
	size_t keep, k;
	sup_err e;

	switch (m->state) {
	case S_PREAMBLE:
		if ((d = find_delim(m)) != NULL) {
			consume(m, (size_t)(d - m->win) + m->dlen);
			m->state = S_AFTER_DELIM;
			return SUP_OK;
		}
		if (m->eof) {
			say(m, "", "The body has no boundary.");
			return SUP_EINVAL;
		}
		/* The preamble is ignored, counted in the body's total. */
		if (m->len >= m->dlen)
			consume(m, m->len - (m->dlen - 1));
		return fill(m);
	case S_AFTER_DELIM:
		/* "--" ends the body; else white space, then CRLF. */
		if (m->len >= 2 && memcmp(m->win, "--", 2) == 0) {
			m->state = S_DONE;
			return SUP_OK;
		}
		for (k = 0; k < m->len && k <= 64 &&
		    (m->win[k] == ' ' || m->win[k] == '\t'); k++)
			;
		if (k + 2 <= m->len) {
			if (memcmp(m->win + k, "\r\n", 2) != 0) {
				say(m, "", "A boundary line is malformed.");
				return SUP_EINVAL;
			}
			consume(m, k + 2);
			m->state = S_HEADERS;
			return SUP_OK;
		}
		if (m->eof || k > 64) {
			say(m, "", "The body ends before its closing "
			    "boundary.");
			return SUP_EINVAL;
		}
		return fill(m);
	case S_HEADERS:
		end = NULL;
		if (m->len >= 2 && memcmp(m->win, "\r\n", 2) == 0)
			end = m->win;		/* no headers at all */
		else if ((end = memmem(m->win, m->len, "\r\n\r\n", 4)) !=
		    NULL)
			end += 2;
		if (end != NULL &&
		    (size_t)(end - m->win) <= m->lim->max_header_bytes) {
			char *hdr;
			size_t n = (size_t)(end - m->win);

			if ((hdr = malloc(n + 1)) == NULL)
				return SUP_ENOMEM;
			memcpy(hdr, m->win, n);
			e = part_headers(m, hdr, n);
			free(hdr);
			if (e != SUP_OK)
				return e;
			consume(m, n + 2);
			m->state = S_BODY;
			return SUP_OK;
		}
		if (m->len > m->lim->max_header_bytes || m->len >= WIN) {
			say(m, "", "A part's headers are over %zu bytes.",
			    m->lim->max_header_bytes);
			return SUP_EINVAL;
		}
		if (m->eof) {
			say(m, "", "The body ends inside a part's headers.");
			return SUP_EINVAL;
		}
		return fill(m);
	case S_BODY:
		if ((d = find_delim(m)) != NULL) {
			k = (size_t)(d - m->win);
			if ((e = part_data(m, m->win, k)) != SUP_OK ||
			    (e = part_end(m)) != SUP_OK)
				return e;
			consume(m, k + m->dlen);
			m->state = S_AFTER_DELIM;
			return SUP_OK;
		}
		if (m->eof) {
			say(m, m->name, "The body ends inside a part.");
			return SUP_EINVAL;
		}
		keep = m->dlen - 1;
		if (m->len > keep) {
			k = m->len - keep;
			if ((e = part_data(m, m->win, k)) != SUP_OK)
				return e;
			consume(m, k);
		}
		return fill(m);
	case S_DONE:
		return SUP_OK;
	}
	return SUP_EINVAL;
}

sup_err
mp_parse(const char *ctype, long len, struct sup_io io,
    const struct mp_limits *lim, json_object **fields, char **csrf,
    struct mp_upload **up, struct mp_error *why)
{
	struct mp m;
	sup_err e = SUP_OK;

	*fields = NULL;
	*csrf = NULL;
	*up = NULL;
	why->field[0] = why->msg[0] = '\0';
	memset(&m, 0, sizeof(m));
	m.lim = lim;
	m.io = io;
	m.left = len;
	m.why = why;
	if (!mp_is_multipart(ctype) || !take_boundary(&m, ctype)) {
		say(&m, "", "The body is not multipart/form-data with a "
		    "boundary.");
		return SUP_EMEDIA;
	}
	if ((m.win = malloc(WIN + DELIM_MAX)) == NULL ||
	    (m.fields = json_object_new_object()) == NULL ||
	    (m.up = calloc(1, sizeof(*m.up))) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	/* The body's first boundary has no CRLF before it: give it one. */
	memcpy(m.win, "\r\n", 2);
	m.len = 2;
	if ((e = fill(&m)) != SUP_OK)
		goto out;
	while (m.state != S_DONE)
		if ((e = step(&m)) != SUP_OK)
			goto out;
	/*
	 * The epilogue is read to the end (a FastCGI stream must be), and
	 * counted against the total, but ignored.
	 */
	while (!m.eof) {
		m.len = 0;
		if ((e = fill(&m)) != SUP_OK)
			goto out;
	}
	*fields = m.fields;
	*csrf = m.csrf;
	*up = m.up;
	m.fields = NULL;
	m.csrf = NULL;
	m.up = NULL;
out:
	if (e == SUP_ENOMEM && why->msg[0] == '\0')
		say(&m, "", "Out of memory.");
	mp_upload_free(m.up);
	json_object_put(m.fields);
	free(m.csrf);
	free(m.value.p);
	free(m.win);
	return e;
}

sup_err
req_parse_multipart(struct sup_req *r, const struct mp_limits *lim)
{
	struct mp_error why;
	long len;
	sup_err e;

	/* The length was checked against its cap before (req_body_length). */
	if ((e = req_body_length(r, LONG_MAX, &len)) != SUP_OK)
		return e;
	if (req_env(r, "CONTENT_LENGTH") == NULL ||
	    *req_env(r, "CONTENT_LENGTH") == '\0')
		len = req_env(r, "HTTP_TRANSFER_ENCODING") != NULL ? -1 : 0;
	e = mp_parse(req_env(r, "CONTENT_TYPE"), len, r->io, lim, &r->json,
	    &r->form_csrf, &r->upload, &why);
	if (e == SUP_OK) {
		r->form = true;
		return SUP_OK;
	}
	if (why.field[0] != '\0')
		(void)req_field_error(r, why.field, why.msg);
	/* Cut to fit, and never inside a UTF-8 sequence (a file's name). */
	size_t n = strlen(why.msg);
	if (n >= sizeof(r->err_msg)) {
		n = sizeof(r->err_msg) - 1;
		while (n > 0 && ((unsigned char)why.msg[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(r->err_msg, why.msg, n);
	r->err_msg[n] = '\0';
	return e;
}
