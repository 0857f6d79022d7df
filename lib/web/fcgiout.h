/*
 * fcgiout.h - a FastCGI request's standard output, written as records
 * of up to 64 KB, the whole of a short answer in one write(2).
 *
 * libfcgi still accepts the connection and reads the request; this
 * replaces only its output stream (why: fcgiout.c).
 */
#ifndef SUP_FCGIOUT_H
#define SUP_FCGIOUT_H

#include <stddef.h>
#include <stdint.h>

/* The most content a record holds, rounded down to a multiple of 8. */
#define FCGIOUT_CHUNK 65528

struct fcgiout {
	int fd;			/* the connection to the web server */
	int id;			/* the request's id in its records */
	int failed;		/* a write failed: the rest is dropped */
	size_t n;		/* content bytes waiting in buf */
	/* A record's header, its content, and the two end records. */
	unsigned char buf[8 + FCGIOUT_CHUNK + 8 + 16];
};

/* Start the output of request id on connection fd. */
void fcgiout_begin(struct fcgiout *o, int fd, int id);

/*
 * Append n bytes (struct sup_io's write: ctx is the struct fcgiout).
 * A full record is written at once.  Returns n, or -1 once a write to
 * the web server failed (the client is gone).
 */
int fcgiout_write(void *ctx, const char *buf, int n);

/*
 * Write what is left, the end of the output stream, and the end of the
 * request with app_status, in one write(2).  Returns 0, or -1 when a
 * write failed (then the connection should be closed).
 */
int fcgiout_end(struct fcgiout *o, uint32_t app_status);

#endif
