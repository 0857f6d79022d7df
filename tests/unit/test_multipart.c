/*
 * test_multipart.c - multipart/form-data bodies (lib/web/multipart.c):
 * fields and files, read whole or a byte at a time, every limit, malformed
 * bodies, the names browsers escape; and that a failed parse leaves no
 * spool file behind.
 */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "multipart.h"
#include "sup.h"

#include "tap.h"

struct membody {
	const char *data;
	size_t len, pos;
	int chunk;		/* at most this many bytes a call; 0: any */
};

static int
mem_read(void *ctx, char *buf, int n)
{
	struct membody *m = ctx;
	size_t left = m->len - m->pos, want = (size_t)n;

	if (m->chunk > 0 && want > (size_t)m->chunk)
		want = (size_t)m->chunk;
	if (want > left)
		want = left;
	memcpy(buf, m->data + m->pos, want);
	m->pos += want;
	return (int)want;
}

static int
mem_write(void *ctx SUP_UNUSED, const char *buf SUP_UNUSED, int n)
{
	return n;
}

static char spool[64];
static struct mp_limits lim;

static void
limits_default(void)
{
	lim.max_parts = 8;
	lim.max_files = 2;
	lim.max_header_bytes = 1024;
	lim.max_field_bytes = 1000;
	lim.max_file_bytes = 100000;
	lim.max_total_bytes = 1000000;
	lim.spool_dir = spool;
}

/* Files in the spool directory now. */
static int
spooled(void)
{
	DIR *d = opendir(spool);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		bail_out("opendir %s", spool);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

#define CT "multipart/form-data; boundary=XyZ"

static json_object *fields;
static char *csrf;
static struct mp_upload *up;
static struct mp_error why;

static void
release(void)
{
	json_object_put(fields);
	free(csrf);
	mp_upload_free(up);
	fields = NULL;
	csrf = NULL;
	up = NULL;
}

/* Parse body (len -1: strlen) as sent in chunks of chunk bytes (0: any). */
static sup_err
parse_n(const char *ctype, const char *body, size_t len, int chunk,
    long announced)
{
	struct membody m = { body, len, 0, chunk };
	struct sup_io io = { mem_read, mem_write, &m };

	release();
	return mp_parse(ctype, announced, io, &lim, &fields, &csrf, &up, &why);
}

static sup_err
parse(const char *body)
{
	return parse_n(CT, body, strlen(body), 0, (long)strlen(body));
}

static const char *
field(const char *name)
{
	json_object *v;

	if (fields == NULL || !json_object_object_get_ex(fields, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The spooled bytes of file i, read back from its descriptor. */
static char *
file_text(size_t i)
{
	static char buf[4096];
	ssize_t n;

	if (up == NULL || i >= up->nfiles)
		return NULL;
	n = pread(up->files[i].fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static const char simple[] =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"content\"\r\n"
    "\r\n"
    "Hello\r\n--X not yet\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n"
    "\r\n"
    "tok\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line one --XyZ\r\n-XyZ is not the boundary\r\n\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"files\"; filename=\"\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n";

static void
test_simple(void)
{
	static const char *data = "line one --XyZ\r\n-XyZ is not the boundary\r\n";
	uint8_t sha[32];
	int chunks[] = { 0, 1, 7 };

	crypto_hash_sha256(sha, (const unsigned char *)data, strlen(data));
	for (size_t c = 0; c < SUP_NELEM(chunks); c++) {
		is_err(parse_n(CT, simple, strlen(simple), chunks[c],
		    (long)strlen(simple)), SUP_OK,
		    "a field, the token, a file (chunks of %d)", chunks[c]);
		is_str(field("content"), "Hello\r\n--X not yet",
		    "the field's value, a near-boundary inside it");
		is_str(csrf, "tok", "the token apart");
		ok(fields != NULL && !json_object_object_get_ex(fields,
		    "csrfmiddlewaretoken", NULL), "the token is no field");
		ok(up != NULL && up->nfiles == 1,
		    "one file: the empty file field is dropped");
		if (up == NULL || up->nfiles != 1)
			continue;
		is_str(up->files[0].name, "a.txt", "its name");
		is_str(up->files[0].field, "files", "its field");
		is_int(up->files[0].size, strlen(data), "its size");
		is_str(file_text(0), data, "its bytes, spooled");
		ok(memcmp(up->files[0].sha256, sha, 32) == 0, "its SHA-256");
		is_int(up->files[0].nhead, 32, "its head kept");
		ok(memcmp(up->files[0].head, data, 32) == 0, "the head's bytes");
		is_int(spooled(), 1, "one spool file");
	}
	release();
	is_int(spooled(), 0, "mp_upload_free removes the spool file");

	/* Chunked: no length announced, read to the end. */
	is_err(parse_n(CT, simple, strlen(simple), 3, -1), SUP_OK,
	    "read to the end when no length is given");
	is_str(field("content"), "Hello\r\n--X not yet", "the same value");
	release();
}

static void
test_shapes(void)
{
	is_err(parse("preamble text\r\n--XyZ  \t\r\n"
	    "Content-Disposition: form-data; name=a\r\n\r\n1\r\n"
	    "--XyZ\r\ncontent-disposition: FORM-DATA; name=\"a\"\r\n\r\n2\r\n"
	    "--XyZ--\r\nepilogue"), SUP_OK,
	    "preamble, padding after a boundary, epilogue, any case");
	json_object *a = NULL;
	ok(fields != NULL && json_object_object_get_ex(fields, "a", &a) &&
	    json_object_is_type(a, json_type_array) &&
	    json_object_array_length(a) == 2,
	    "a name given twice: an array of its values");

	is_err(parse("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename=\"x%22y%0Az.txt\"\r\n\r\nabc\r\n--XyZ--"), SUP_OK,
	    "a name with the escapes browsers write");
	ok(up != NULL && up->nfiles == 1 &&
	    strcmp(up->files[0].name, "x\"y\nz.txt") == 0,
	    "%%22 and %%0A are a quote and a newline again");

	is_err(parse("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename=\"fallback.txt\"; filename*=UTF-8''%C3%A9t%C3%A9.txt"
	    "\r\n\r\nabc\r\n--XyZ--"), SUP_OK, "filename* (RFC 5987)");
	ok(up != NULL && up->nfiles == 1 &&
	    strcmp(up->files[0].name, "\xc3\xa9t\xc3\xa9.txt") == 0,
	    "filename* wins, decoded");

	is_err(parse("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename=\"empty.txt\"\r\n\r\n\r\n--XyZ--"), SUP_OK,
	    "a named file of 0 bytes");
	ok(up != NULL && up->nfiles == 1 && up->files[0].size == 0,
	    "is kept (the type check refuses it, not the parser)");

	is_err(parse("--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
	    "filename=\"C:\\dir\\a.png\"\r\n\r\nx\r\n--XyZ--"), SUP_OK,
	    "a Windows path as the name");
	ok(up != NULL && up->nfiles == 1 &&
	    strcmp(up->files[0].name, "C:\\dir\\a.png") == 0,
	    "a backslash is no escape");

	static const char qq[] = "--q q\r\nContent-Disposition: form-data; "
	    "name=x\r\n\r\nv\r\n--q q--";
	is_err(parse_n("multipart/form-data; boundary=\"q q\"", qq,
	    strlen(qq), 0, (long)strlen(qq)), SUP_OK,
	    "a quoted boundary with a space");
	is_str(field("x"), "v", "read with it");

	is_err(parse("--XyZ--"), SUP_OK, "no parts at all");
	ok(fields != NULL && json_object_object_length(fields) == 0 &&
	    up != NULL && up->nfiles == 0, "nothing in it");
	release();
}

static void
test_malformed(void)
{
	struct {
		const char *ctype, *body;
		sup_err want;
		const char *what;
	} cases[] = {
		{ "application/json", "--XyZ--", SUP_EMEDIA, "not multipart" },
		{ "multipart/form-data", "--XyZ--", SUP_EMEDIA, "no boundary" },
		{ "multipart/form-data; boundary=", "----", SUP_EMEDIA,
		    "an empty boundary" },
		{ "multipart/form-data; boundary=a{b", "--a{b--", SUP_EMEDIA,
		    "a boundary with a character RFC 2046 does not allow" },
		{ "multipart/form-data; boundary=0123456789012345678901234567"
		    "8901234567890123456789012345678901234567890",
		    "--x--", SUP_EMEDIA, "a boundary of 71 characters" },
		{ CT, "", SUP_EINVAL, "an empty body" },
		{ CT, "no boundary here", SUP_EINVAL, "no boundary in it" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n"
		    "\r\nvalue", SUP_EINVAL, "no closing boundary" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n",
		    SUP_EINVAL, "the body ends in the headers" },
		{ CT, "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",
		    SUP_EINVAL, "a part without Content-Disposition" },
		{ CT, "--XyZ\r\nContent-Disposition: attachment; name=a\r\n"
		    "\r\nx\r\n--XyZ--", SUP_EINVAL, "a part not form-data" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
		    "--XyZ--", SUP_EINVAL, "a part without a name" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n"
		    "\r\nx\r\n--XyZ--", SUP_EINVAL, "an unclosed quote" },
		{ CT, "--XyZ\r\nno colon\r\n\r\nx\r\n--XyZ--", SUP_EINVAL,
		    "a header line without a colon" },
		{ CT, "--XyZ junk\r\nContent-Disposition: form-data; name=a"
		    "\r\n\r\nx\r\n--XyZ--", SUP_EINVAL,
		    "text after a boundary" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n"
		    "\r\nx\0y\r\n--XyZ--", SUP_EINVAL, "a NUL in a field" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
		    "filename*=latin1''a.txt\r\n\r\nx\r\n--XyZ--", SUP_EINVAL,
		    "filename* in another charset" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data; "
		    "name=\"csrfmiddlewaretoken\"\r\n\r\na\r\n--XyZ\r\n"
		    "Content-Disposition: form-data; "
		    "name=\"csrfmiddlewaretoken\"\r\n\r\nb\r\n--XyZ--",
		    SUP_EINVAL, "the token twice" },
		{ CT, "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; "
		    "filename=\"a.txt\"\r\n\r\nabc", SUP_EINVAL,
		    "a file cut short" },
	};
	size_t len;

	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		len = strlen(cases[i].body);
		if (strstr(cases[i].what, "NUL") != NULL)
			len += strlen(cases[i].body + len + 1) + 1;
		is_err(parse_n(cases[i].ctype, cases[i].body, len, 0,
		    (long)len), cases[i].want, "refused: %s", cases[i].what);
		ok(fields == NULL && up == NULL && csrf == NULL,
		    "nothing given back: %s", cases[i].what);
		ok(why.msg[0] != '\0', "a reason: %s", why.msg);
		is_int(spooled(), 0, "no spool file left: %s", cases[i].what);
	}

	/* Shorter than announced. */
	is_err(parse_n(CT, simple, strlen(simple), 0,
	    (long)strlen(simple) + 10), SUP_EIO, "a body shorter than "
	    "its Content-Length");
	is_int(spooled(), 0, "no spool file left");
}

/* A body of nfiles files of size bytes each (and one field). */
static char *
files_body(int nfiles, size_t size)
{
	struct sbuf b = { 0 };

	sbuf_adds(&b, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"content\"\r\n\r\nhi\r\n");
	for (int i = 0; i < nfiles; i++) {
		sbuf_printf(&b, "--XyZ\r\nContent-Disposition: form-data; "
		    "name=\"files\"; filename=\"f%d.bin\"\r\n\r\n", i);
		for (size_t k = 0; k < size; k++)
			sbuf_add(&b, "abcdefghij" + k % 10, 1);
		sbuf_adds(&b, "\r\n");
	}
	sbuf_adds(&b, "--XyZ--\r\n");
	if (b.failed)
		bail_out("out of memory");
	return b.p;
}

static void
test_limits(void)
{
	char *body;

	body = files_body(1, 100000);
	is_err(parse(body), SUP_OK, "a file of exactly max_file_bytes");
	ok(up != NULL && up->nfiles == 1 && up->files[0].size == 100000,
	    "kept whole");
	release();
	free(body);

	body = files_body(2, 100001);
	is_err(parse_n(CT, body, strlen(body), 4096, (long)strlen(body)),
	    SUP_ETOOLARGE, "a file one byte over max_file_bytes");
	is_str(why.field, "files", "the field named");
	ok(strstr(why.msg, "f0.bin") != NULL, "the file named: %s", why.msg);
	is_int(spooled(), 0, "no spool file left");
	free(body);

	body = files_body(3, 10);
	is_err(parse(body), SUP_EINVAL, "one file over max_files");
	ok(strstr(why.msg, "f2.bin") != NULL, "the file named: %s", why.msg);
	is_int(spooled(), 0, "no spool file left");
	free(body);

	lim.max_files = 20;
	body = files_body(8, 1);
	is_err(parse(body), SUP_EINVAL, "one part over max_parts");
	is_int(spooled(), 0, "no spool file left");
	free(body);
	limits_default();

	body = files_body(2, 60000);
	lim.max_total_bytes = 100000;
	is_err(parse_n(CT, body, strlen(body), 0, -1), SUP_ETOOLARGE,
	    "a chunked body over max_total_bytes");
	is_int(spooled(), 0, "no spool file left");
	limits_default();
	free(body);

	struct sbuf b = { 0 };
	sbuf_adds(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
	    "X-Long: ");
	for (int i = 0; i < 1100; i++)
		sbuf_add(&b, "x", 1);
	sbuf_adds(&b, "\r\n\r\nv\r\n--XyZ--");
	is_err(parse(b.p), SUP_EINVAL, "a part's headers over "
	    "max_header_bytes");
	free(b.p);

	memset(&b, 0, sizeof(b));
	sbuf_adds(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
	    "\r\n");
	for (int i = 0; i < 1001; i++)
		sbuf_add(&b, "x", 1);
	sbuf_adds(&b, "\r\n--XyZ--");
	is_err(parse(b.p), SUP_ETOOLARGE, "fields over max_field_bytes");
	is_str(why.field, "a", "the field named");
	free(b.p);

	lim.spool_dir = "/nonexistent/spool";
	body = files_body(1, 10);
	is_err(parse(body), SUP_EDB, "a spool directory that is not there");
	free(body);
	limits_default();
	release();
}

int
main(void)
{
	char dir[64];

	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_tmpdir(dir, sizeof(dir));
	snprintf(spool, sizeof(spool), "%s", dir);
	limits_default();
	test_simple();
	test_shapes();
	test_malformed();
	test_limits();
	tap_rmtree(dir);
	return done_testing();
}
