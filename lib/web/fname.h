/*
 * fname.h - the name an uploaded file is kept and served under: made
 * safe from what the client sent, and written into a Content-Disposition
 * header as RFC 6266 and RFC 8187 (was 5987) say.
 */
#ifndef SUP_FNAME_H
#define SUP_FNAME_H

#include <stddef.h>

#include "ftype.h"
#include "sup.h"

#define FNAME_MAX 180		/* bytes of a safe name, without NUL */

/*
 * Make a safe name from in (a client's, any bytes) for a file of type t,
 * into out (FNAME_MAX + 1 bytes): only its last path component (after
 * the last '/' or '\'); invalid UTF-8 bytes become '_'; control
 * characters (C0, DEL, C1), the bidirectional controls (U+202A..U+202E,
 * U+2066..U+2069: "gpj.exe" shown as "exe.jpg") and the characters
 * Windows forbids or shells quote (" * / : < > ? \ |) become '_', runs of
 * '_' one; no dot or space at the start or end (no hidden file, no
 * ".htaccess"); at most FNAME_MAX bytes, cut between characters, its
 * extension kept.  The extension must be one of t's (".png" for PNG,
 * ".txt", ".csv", ".log" ... for text, ".docx", ".zip" ... for ZIP): a
 * name without one gets t's first (so "page.html" holding text becomes
 * "page.html.txt").  An empty result is "file" with that extension.
 */
void fname_safe(const char *in, enum ftype t, char *out);

/*
 * The Content-Disposition header's value for a safe name:
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<%-encoded>`
 * (the second only when the name is not plain ASCII).  New string
 * (free()), or NULL when out of memory.
 */
char *fname_disposition(const char *name);

#endif
