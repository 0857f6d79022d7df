/*
 * multipart.h - a multipart/form-data body (RFC 7578), read as it comes:
 * plain fields into a JSON object of strings, files into spool files on
 * disk (never whole in memory), every part bounded before it is kept.
 */
#ifndef SUP_MULTIPART_H
#define SUP_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "req.h"
#include "sup.h"

#define MP_BOUNDARY_MAX 70	/* RFC 2046 §5.1.1 */
#define MP_NAME_MAX 256		/* bytes of a field's name */
#define MP_FILENAME_MAX 1024	/* bytes of a file's name as sent */

/* What one body may hold.  Every member is a limit; 0 is "none allowed". */
struct mp_limits {
	size_t max_parts;		/* parts of any kind */
	size_t max_files;		/* parts that carry a file */
	size_t max_header_bytes;	/* the header block of one part */
	size_t max_field_bytes;		/* plain fields' values, together */
	uint64_t max_file_bytes;	/* one file */
	uint64_t max_total_bytes;	/* the whole body, as read */
	const char *spool_dir;		/* where files are spooled: a
					 * directory of the store's */
};

/* One file of the body, spooled. */
struct mp_file {
	char *field;			/* the form field's name */
	char *name;			/* the name the client gave ("" when
					 * none), NUL-free; not yet made safe */
	char *path;			/* the spool file; mp_upload_free
					 * removes it unless it is taken
					 * (path set to NULL) */
	int fd;				/* the spool file, open for reading
					 * and writing, or -1 */
	uint64_t size;
	uint8_t sha256[32];		/* of its bytes */
	uint8_t head[32];		/* its first bytes (nhead of them),
					 * for the type check */
	size_t nhead;
};

/* The files of one body, in the order sent. */
struct mp_upload {
	struct mp_file *files;
	size_t nfiles;
};

/*
 * Why a parse failed: the field or file it was about (may be "") and a
 * sentence for the client.
 */
struct mp_error {
	char field[MP_NAME_MAX + 1];
	char msg[MP_FILENAME_MAX + 200];
};

/* Is ctype multipart/form-data (with or without parameters)? */
bool mp_is_multipart(const char *ctype);

/*
 * Read a multipart/form-data body of Content-Type ctype from io: len
 * bytes, or to the end of the input when len is -1 (a chunked body
 * nobody counted).  Plain fields go into *fields, a new object of strings
 * (an array of strings for a name given more than once), except the
 * csrfmiddlewaretoken field, which goes to *csrf (new string, free(), or
 * NULL when absent); files go into *up (new, mp_upload_free()), each
 * spooled to a new file in lim->spool_dir as it is read.  A file part
 * with an empty name and no bytes (a file field left empty) is dropped.
 *
 * Errors, with *why filled and nothing left behind (no spool file, the
 * outputs NULL): SUP_EMEDIA when ctype is not multipart/form-data with a
 * usable boundary; SUP_EINVAL for a malformed body, too many parts or
 * files, a field given twice (csrfmiddlewaretoken), a NUL in a field;
 * SUP_ETOOLARGE when a file passes max_file_bytes (naming it), the
 * fields max_field_bytes or the body max_total_bytes; SUP_EIO when the
 * input ends early or cannot be read, SUP_ETIMEOUT when its read gave up
 * waiting; SUP_EDB when a spool file cannot be made or written (disk
 * full); SUP_ENOMEM.
 */
sup_err mp_parse(const char *ctype, long len, struct sup_io io,
    const struct mp_limits *lim, json_object **fields, char **csrf,
    struct mp_upload **up, struct mp_error *why);

/* Close and remove every spool file not taken, and free up (NULL: none). */
void mp_upload_free(struct mp_upload *up);

/*
 * The request's body, when it is multipart/form-data: mp_parse from r's
 * input, into r->json (r->form set), r->form_csrf and r->upload, with the
 * error's field in r->err_fields and its sentence in r->err_msg.
 */
sup_err req_parse_multipart(struct sup_req *r, const struct mp_limits *lim);

#endif
