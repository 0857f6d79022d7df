/*
 * fuzz_multipart - libFuzzer target for multipart/form-data bodies
 * (lib/web/multipart.c).
 *
 * Input: one line, the Content-Type's parameters (e.g. "boundary=XyZ"),
 * then the body, read in pieces whose sizes come from the body's own
 * first byte (so that the window's edges fall everywhere).  Small limits,
 * so that every limit is reached.  After a parse: every file's size is
 * within its limit, its spool file holds exactly its bytes (size and
 * SHA-256 read back), and after mp_upload_free (or a failed parse) the
 * spool directory is empty again.  Each file's type is found from its
 * spool file and from its bytes in memory (the two must agree), and its
 * name made safe: valid UTF-8, no quote, slash, backslash or line break,
 * at most FNAME_MAX bytes, in a Content-Disposition without a line break.
 * Build with ./configure CC=clang --enable-fuzzing; the saved corpus in
 * corpus/multipart/ is replayed by make check.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fname.h"
#include "ftype.h"
#include "multipart.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct membuf {
	const uint8_t *p;
	size_t left;
	size_t chunk;
};

static int
mem_read(void *ctx, char *buf, int n)
{
	struct membuf *m = ctx;
	size_t k = (size_t)n < m->left ? (size_t)n : m->left;

	if (k > m->chunk)
		k = m->chunk;
	memcpy(buf, m->p, k);
	m->p += k;
	m->left -= k;
	return (int)k;
}

static int
mem_write(void *ctx SUP_UNUSED, const char *buf SUP_UNUSED, int n)
{
	return n;
}

static char spool[256];

/* The spool directory is the target's own: removed at exit (it is empty). */
static void
spool_remove(void)
{
	rmdir(spool);
}

/* Is the spool directory empty? */
static bool
spool_empty(void)
{
	DIR *d = opendir(spool);
	struct dirent *e;
	bool empty = true;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			empty = false;
	closedir(d);
	return empty;
}

/* Check the type and the safe name of file f. */
static void
check_type_name(const struct mp_file *f)
{
	static uint8_t buf[4096];
	char safe[FNAME_MAX + 1], *disp;
	enum ftype t, t2;
	ssize_t n;

	if (ftype_detect(f->fd, f->size, f->head, f->nhead, &t) != SUP_OK)
		abort();
	if ((n = pread(f->fd, buf, sizeof(buf), 0)) < 0 ||
	    (uint64_t)n != f->size)
		abort();	/* lim.max_file_bytes < sizeof(buf) */
	t2 = ftype_detect_mem(buf, (size_t)n);
	if (t != t2)
		abort();
	fname_safe(f->name, t, safe);
	if (strlen(safe) > FNAME_MAX || strlen(safe) == 0 ||
	    utf8_len(safe, strlen(safe)) < 0 ||
	    strpbrk(safe, "\"/\\\r\n") != NULL)
		abort();
	if ((disp = fname_disposition(safe)) == NULL)
		abort();
	if (strpbrk(disp, "\r\n") != NULL)
		abort();
	free(disp);
}

/* Does file f's spool file hold exactly its size and hash? */
static bool
file_whole(const struct mp_file *f)
{
	crypto_hash_sha256_state st;
	uint8_t buf[4096], sha[32];
	uint64_t got = 0;
	ssize_t n;

	crypto_hash_sha256_init(&st);
	while ((n = pread(f->fd, buf, sizeof(buf), (off_t)got)) > 0) {
		crypto_hash_sha256_update(&st, buf, (size_t)n);
		got += (uint64_t)n;
	}
	crypto_hash_sha256_final(&st, sha);
	return n == 0 && got == f->size &&
	    memcmp(sha, f->sha256, sizeof(sha)) == 0 &&
	    f->nhead == (f->size < sizeof(f->head) ? f->size : sizeof(f->head));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_limits lim = { 6, 3, 512, 2048, 3000, 20000, spool };
	const uint8_t *nl = memchr(data, '\n', size);
	char ctype[300];
	struct membuf m;
	struct sup_io io = { mem_read, mem_write, &m };
	struct mp_error why;
	struct mp_upload *up;
	json_object *fields;
	char *csrf;
	size_t plen;
	sup_err e;

	if (spool[0] == '\0') {
		const char *t = getenv("TMPDIR");
		if (sodium_init() < 0)
			abort();
		snprintf(spool, sizeof(spool), "%s/fuzz-mp-XXXXXX",
		    t != NULL && t[0] == '/' ? t : "/tmp");
		if (mkdtemp(spool) == NULL)
			abort();
		atexit(spool_remove);
	}
	if (nl == NULL)
		return 0;
	plen = (size_t)(nl - data);
	if (plen > 250)
		plen = 250;
	snprintf(ctype, sizeof(ctype), "multipart/form-data; %.*s",
	    (int)plen, (const char *)data);
	m.p = nl + 1;
	m.left = size - (size_t)(nl + 1 - data);
	m.chunk = m.left > 0 ? (size_t)m.p[0] % 97 + 1 : 1;
	if (m.left > 0 && m.p[0] >= 0xf0)
		m.chunk = SIZE_MAX;
	e = mp_parse(ctype, m.left % 2 ? (long)m.left : -1, io, &lim, &fields,
	    &csrf, &up, &why);
	if (e != SUP_OK) {
		if (fields != NULL || up != NULL || csrf != NULL ||
		    why.msg[0] == '\0' || !spool_empty())
			abort();
		return 0;
	}
	if (up->nfiles > lim.max_files)
		abort();
	for (size_t i = 0; i < up->nfiles; i++)
		if (up->files[i].size > lim.max_file_bytes ||
		    !file_whole(&up->files[i]) ||
		    strlen(up->files[i].name) > MP_FILENAME_MAX)
			abort();
		else
			check_type_name(&up->files[i]);
	json_object_put(fields);
	free(csrf);
	mp_upload_free(up);
	if (!spool_empty())
		abort();
	return 0;
}
