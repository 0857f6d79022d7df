/*
 * ftype.h - the type of an uploaded file, found from its bytes (magic
 * numbers), never from its name or the client's Content-Type; and the
 * fixed Content-Type each type is served with (docs/attachments.md).
 */
#ifndef SUP_FTYPE_H
#define SUP_FTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sup.h"

/*
 * The types.  FT_MARKUP (HTML, SVG, XML: text a browser would run) and
 * FT_UNKNOWN are never accepted, whatever the configuration says.
 */
enum ftype {
	FT_UNKNOWN,
	FT_PNG,
	FT_JPEG,
	FT_GIF,
	FT_WEBP,
	FT_PDF,
	FT_TEXT,		/* valid UTF-8 without NUL, not markup */
	FT_ZIP,			/* ZIP, and so .docx .xlsx .pptx .odt ... */
	FT_MARKUP,
	FT_MAX
};

/* The bytes ftype_detect looks at first (struct mp_file's head). */
#define FTYPE_HEAD 32

/* Every type an administrator may allow: the default allow-list. */
#define FTYPE_ALL ((1u << FT_PNG) | (1u << FT_JPEG) | (1u << FT_GIF) | \
	(1u << FT_WEBP) | (1u << FT_PDF) | (1u << FT_TEXT) | (1u << FT_ZIP))

/*
 * The type of a file of size bytes open on fd, whose first nhead bytes
 * are head: by its magic number; a file with none is read whole (pread:
 * fd's offset is not moved) to see whether it is UTF-8 text, and text
 * that starts like HTML, SVG or XML (the WHATWG MIME sniffing patterns)
 * is FT_MARKUP.  SUP_EIO when fd cannot be read.
 */
sup_err ftype_detect(int fd, uint64_t size, const uint8_t *head,
    size_t nhead, enum ftype *out);

/* The same for bytes in memory (tests, the fuzz target). */
enum ftype ftype_detect_mem(const uint8_t *p, size_t n);

/* Its name in configuration and records ("png", ...), or NULL. */
const char *ftype_name(enum ftype t);

/* The type of a name ("png", ...; "jpg" too), FT_UNKNOWN when none. */
enum ftype ftype_from_name(const char *name, size_t n);

/* The Content-Type it is served with ("image/png", ...). */
const char *ftype_mime(enum ftype t);

/* May it be shown in a page (an <img>)?  PNG, JPEG, GIF, WebP. */
bool ftype_is_image(enum ftype t);

/*
 * Parse an allow-list: names separated by spaces or commas.  *mask gets
 * a bit per type (1u << FT_...).  false for an unknown name or one that
 * can never be allowed (markup): *bad (badsz bytes) names it.
 */
bool ftype_parse_list(const char *s, unsigned *mask, char *bad,
    size_t badsz);

/* The names of the types in mask, "png, jpeg, ..." into buf (size n). */
void ftype_list(unsigned mask, char *buf, size_t n);

#endif
