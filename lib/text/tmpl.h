/*
 * tmpl.h - Google ctemplate's template language (DESIGN §8), rendered
 * straight from json-c objects to a writer such as the FastCGI stream.
 * docs/templates.md describes the language and the choices made here.
 *
 * A process opens one cache on its template directory; tmpl_get() parses a
 * template (and what it includes) on first use and keeps it until
 * tmpl_cache_close().  Rendering never allocates per variable when a
 * variable has at most one modifier, and never fails on the shape of the
 * data: what is missing renders as nothing.
 */
#ifndef SUP_TMPL_H
#define SUP_TMPL_H

#include <stddef.h>

#include <json-c/json.h>

#include "jtext.h"

#include "sup.h"

#define TMPL_NAME_MAX 128		/* bytes of a template's file name */
#define TMPL_FILE_MAX (1 << 20)		/* bytes of a template file */
#define TMPL_INCLUDE_DEPTH 16		/* includes within includes */
#define TMPL_NEST_MAX 64		/* sections within sections */

struct tmpl_cache;
struct tmpl;

/*
 * Receives the rendered output in pieces; returns 0, or nonzero when it
 * cannot write (rendering then stops with SUP_EIO).
 */
typedef int (*tmpl_write_fn)(void *ctx, const char *buf, size_t len);

/*
 * Open a cache of the templates in dir (the directory is read lazily, by
 * tmpl_get).  *out is freed with tmpl_cache_close().  SUP_ENOMEM, or
 * SUP_EINVAL when dir is empty or too long.
 */
sup_err tmpl_cache_open(const char *dir, struct tmpl_cache **out);

/* Free the cache and every template it parsed.  NULL is fine. */
void tmpl_cache_close(struct tmpl_cache *c);

/*
 * The template in the file name (e.g. "ticket.html") of the cache's
 * directory, parsed on first use.  *out belongs to the cache.  Errors:
 * SUP_EINVAL when name is not [A-Za-z0-9_.-]+ (no "..", no leading dot);
 * SUP_ENOTFOUND when there is no such file; SUP_ECONFIG when the template
 * or one it includes has an error; SUP_EIO when it cannot be read;
 * SUP_ENOMEM.  On any error err (errlen bytes, may be NULL) holds
 * "file:line: what" (or just "file: what"); a long message is cut short.
 * A template that failed is not cached: the next call tries again.
 */
sup_err tmpl_get(struct tmpl_cache *c, const char *name,
    const struct tmpl **out, char *err, size_t errlen);

/*
 * Parse a template from memory, as if it were the file name (its extension
 * chooses the escaping mode).  Includes are looked up in cache c, which may
 * be NULL (then an include is an error) and must outlive *out.  *out is
 * freed with tmpl_free().  Errors as tmpl_get, except SUP_ENOTFOUND.
 */
sup_err tmpl_parse_buf(struct tmpl_cache *c, const char *name,
    const char *buf, size_t len, struct tmpl **out, char *err,
    size_t errlen);

/* Free a template from tmpl_parse_buf().  NULL is fine. */
void tmpl_free(struct tmpl *t);

/* The file name the template was loaded or parsed as. */
const char *tmpl_name(const struct tmpl *t);

/*
 * Render t with data (a json-c object; NULL renders every variable empty),
 * writing the output through w(ctx, ...) in pieces as it goes.  SUP_EIO
 * when w fails (SUP_ENOMEM when w is tmpl_sbuf_write: its sbuf could not
 * grow), SUP_ENOMEM when a chain of modifiers needs a buffer and none can
 * be had; the output may then be partial.
 *
 * data and the objects in it may be text objects (lib/text/jtext.h): a name is
 * looked for in the json-c members, then in the text, whose objects and
 * arrays the sections walk as they walk json-c's.
 */
sup_err tmpl_render(const struct tmpl *t, json_object *data,
    tmpl_write_fn w, void *ctx);

#define TMPL_EXTRA_MAX 128	/* bytes of an extra member's text */

/*
 * Members computed for the objects of a text: asked for name (n bytes)
 * when the text object whose members are obj has no such member (before
 * the sections around it are asked).  Sets *out to the member's JSON text
 * and returns true, or returns false.  The text may point into obj's
 * text, be a string constant, or be written into buf (TMPL_EXTRA_MAX
 * bytes, valid until the variable or section is rendered).
 */
struct tmpl_extra {
	bool (*member)(void *ctx, const struct jt_index *obj,
	    const char *name, size_t n, char *buf, struct jt *out);
	void *ctx;
};

/* tmpl_render with extra members (extra may be NULL). */
sup_err tmpl_render_ex(const struct tmpl *t, json_object *data,
    const struct tmpl_extra *extra, tmpl_write_fn w, void *ctx);

/*
 * A tmpl_write_fn appending to a struct sbuf (lib/base/util.h) given as ctx;
 * fails once the sbuf could not grow.
 */
int tmpl_sbuf_write(void *ctx, const char *buf, size_t len);

#endif
