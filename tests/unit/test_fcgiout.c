/*
 * test_fcgiout.c - a request's output as FastCGI records (lib/web/fcgiout.c):
 * whatever the size of the answer and of the pieces it is written in, the
 * web server reads back the same bytes in well-formed STDOUT records of
 * at most 64 KB, then the end of the stream and the end of the request;
 * an answer that fits one record is one record; a connection the server
 * has closed is an error, not a crash.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fcgiout.h"

#include "tap.h"

/* What a web server reads back from the records. */
struct parsed {
	bool ok;		/* every record well formed, in order */
	unsigned char *content;	/* the STDOUT content, joined */
	size_t len;
	size_t records;		/* STDOUT records with content */
	size_t largest;		/* the largest content of one */
	uint32_t app_status;
};

/* Parse the n bytes of records at p for request id (caller frees content). */
static struct parsed
parse(const unsigned char *p, size_t n, int id)
{
	struct parsed r = { 0 };
	size_t at = 0;
	bool eof = false;

	if ((r.content = malloc(n + 1)) == NULL)
		bail_out("malloc");
	while (at + 8 <= n) {
		const unsigned char *h = p + at;
		size_t len = (size_t)h[4] << 8 | h[5], pad = h[6];
		if (h[0] != 1 || (h[2] << 8 | h[3]) != id ||
		    at + 8 + len + pad > n)
			return r;
		for (size_t i = 0; i < pad; i++)
			if (h[8 + len + i] != 0)
				return r;
		if (h[1] == 6 && !eof && len > 0) {	/* STDOUT */
			if ((8 + len + pad) % 8 != 0)
				return r;
			memcpy(r.content + r.len, h + 8, len);
			r.len += len;
			r.records++;
			if (len > r.largest)
				r.largest = len;
		} else if (h[1] == 6 && !eof) {
			eof = true;		/* the end of the stream */
		} else if (h[1] == 3 && eof && len == 8) {	/* END_REQUEST */
			r.app_status = (uint32_t)h[8] << 24 |
			    (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
			/* Complete, and nothing after it. */
			r.ok = h[12] == 0 && at + 8 + len + pad == n;
			return r;
		} else {
			return r;
		}
		at += 8 + len + pad;
	}
	return r;
}

/* Bytes 0..n of a known pattern. */
static unsigned char *
pattern(size_t n)
{
	unsigned char *p = malloc(n + 1);

	if (p == NULL)
		bail_out("malloc");
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + i / 251);
	return p;
}

/* Everything written to f's descriptor (caller frees). */
static unsigned char *
slurp(FILE *f, size_t *n)
{
	off_t end;
	unsigned char *p;

	end = lseek(fileno(f), 0, SEEK_END);
	if (end < 0 || (p = malloc((size_t)end + 1)) == NULL ||
	    pread(fileno(f), p, (size_t)end, 0) != end)
		bail_out("reading back the records");
	*n = (size_t)end;
	return p;
}

/*
 * Write an answer of n bytes in pieces of step bytes; check what the
 * server reads.  Returns the number of STDOUT records it took.
 */
static size_t
check_answer(size_t n, size_t step)
{
	static struct fcgiout o;
	unsigned char *want = pattern(n), *got;
	FILE *f = tmpfile();
	size_t gotn, records;
	bool writes = true;
	struct parsed r;

	if (f == NULL)
		bail_out("tmpfile");
	fcgiout_begin(&o, fileno(f), 0x1234);
	for (size_t at = 0; at < n; at += step) {
		int k = (int)(n - at < step ? n - at : step);
		writes &= fcgiout_write(&o, (const char *)want + at, k) == k;
	}
	ok(writes, "%zu bytes in pieces of %zu: every write taken", n, step);
	ok(fcgiout_end(&o, 7) == 0, "%zu bytes: the end written", n);
	got = slurp(f, &gotn);
	r = parse(got, gotn, 0x1234);
	ok(r.ok, "%zu bytes: well-formed records, ended once", n);
	ok(r.len == n && (n == 0 || memcmp(r.content, want, n) == 0),
	    "%zu bytes: the server reads the same bytes", n);
	ok(r.largest <= FCGIOUT_CHUNK && r.largest <= 65535,
	    "%zu bytes: no record over 64 KB (largest %zu)", n, r.largest);
	is_int((long)r.app_status, 7, "%zu bytes: the app status", n);
	records = r.records;
	free(r.content);
	free(got);
	free(want);
	fclose(f);
	return records;
}

int
main(void)
{
	static const size_t sizes[] = {
		0, 1, 7, 8, 9, 8191, 8192, 17560, FCGIOUT_CHUNK - 1,
		FCGIOUT_CHUNK, FCGIOUT_CHUNK + 1, 3 * FCGIOUT_CHUNK + 5,
		300000,
	};
	static struct fcgiout o;
	int sv[2];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		size_t whole = check_answer(n, n > 0 ? n : 1);
		check_answer(n, 1000);
		check_answer(n, 1);
		/* A record holds up to FCGIOUT_CHUNK: no more are made. */
		is_int((long)whole, (long)((n + FCGIOUT_CHUNK - 1) /
		    FCGIOUT_CHUNK), "%zu bytes: %zu records", n, whole);
	}

	/* The server hung up: an error for the writer, and no signal. */
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		bail_out("socketpair");
	close(sv[1]);
	fcgiout_begin(&o, sv[0], 1);
	ok(fcgiout_write(&o, "Status: 200 OK\r\n\r\n", 18) == 18,
	    "a short answer waits in the buffer");
	ok(fcgiout_end(&o, 0) == -1, "a closed connection fails the end");
	fcgiout_begin(&o, sv[0], 1);
	unsigned char *big = pattern(2 * FCGIOUT_CHUNK);
	ok(fcgiout_write(&o, (const char *)big, 2 * FCGIOUT_CHUNK) == -1,
	    "a closed connection fails a full record's write");
	ok(fcgiout_write(&o, "x", 1) == -1, "and every write after it");
	free(big);
	close(sv[0]);
	return done_testing();
}
