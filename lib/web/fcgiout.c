/*
 * fcgiout.c - a FastCGI request's standard output as records of up to
 * 64 KB.
 *
 * Written here rather than through libfcgi's FCGX_PutStr because
 * libfcgi's writer has a fixed 8 KB buffer, with no call to size it: it
 * makes every 8 KB of an answer a record of its own and writes each with
 * its own write(2) as it fills, the web server reading each apart.  A
 * ticket's 17 KB thread took three writes.  Here an answer of up to
 * FCGIOUT_CHUNK bytes goes out as one record followed by the end of the
 * stream and the end of the request, in a single write; a longer one a
 * full record per write as it is made, so the memory stays one buffer.
 * The records are those of the FastCGI specification (fastcgi.h, from
 * libfcgi): a STDOUT record per chunk, padded to 8 bytes, an empty
 * STDOUT record, then END_REQUEST with FCGI_REQUEST_COMPLETE.
 */
#include <fastcgi.h>
#include <stdbool.h>
#include <string.h>

#include "fcgiout.h"
#include "util.h"

/* Write the 8-byte header of a record at p. */
static void
header(unsigned char *p, int type, int id, size_t len, size_t pad)
{
	p[0] = FCGI_VERSION_1;
	p[1] = (unsigned char)type;
	p[2] = (unsigned char)(id >> 8);
	p[3] = (unsigned char)id;
	p[4] = (unsigned char)(len >> 8);
	p[5] = (unsigned char)len;
	p[6] = (unsigned char)pad;
	p[7] = 0;
}

/*
 * Close the record in buf (padding it to 8 bytes) and, with last, add
 * the two end records; then write it all.  Empties buf.
 */
static void
flush(struct fcgiout *o, bool last, uint32_t app_status)
{
	size_t len = o->n, pad = (8 - len % 8) % 8, at = 0;
	unsigned char *p = o->buf;

	if (len > 0) {
		header(p, FCGI_STDOUT, o->id, len, pad);
		memset(p + 8 + len, 0, pad);
		at = 8 + len + pad;
	}
	if (last) {
		header(p + at, FCGI_STDOUT, o->id, 0, 0);
		at += 8;
		header(p + at, FCGI_END_REQUEST, o->id, 8, 0);
		p[at + 8] = (unsigned char)(app_status >> 24);
		p[at + 9] = (unsigned char)(app_status >> 16);
		p[at + 10] = (unsigned char)(app_status >> 8);
		p[at + 11] = (unsigned char)app_status;
		p[at + 12] = FCGI_REQUEST_COMPLETE;
		memset(p + at + 13, 0, 3);
		at += 16;
	}
	if (at > 0 && !o->failed && !write_all(o->fd, p, at))
		o->failed = 1;
	o->n = 0;
}

void
fcgiout_begin(struct fcgiout *o, int fd, int id)
{
	o->fd = fd;
	o->id = id;
	o->failed = 0;
	o->n = 0;
}

int
fcgiout_write(void *ctx, const char *buf, int n)
{
	struct fcgiout *o = ctx;
	size_t left = n > 0 ? (size_t)n : 0;

	while (left > 0 && !o->failed) {
		size_t room = FCGIOUT_CHUNK - o->n;
		size_t k = left < room ? left : room;
		memcpy(o->buf + 8 + o->n, buf, k);
		o->n += k;
		buf += k;
		left -= k;
		if (o->n == FCGIOUT_CHUNK)
			flush(o, false, 0);
	}
	return o->failed ? -1 : n;
}

int
fcgiout_end(struct fcgiout *o, uint32_t app_status)
{
	flush(o, true, app_status);
	return o->failed ? -1 : 0;
}
