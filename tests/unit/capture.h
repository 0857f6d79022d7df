/*
 * capture.h - a response captured in memory, as the web server would get
 * it: struct sup_io callbacks that read no body and append what is
 * written to `out`.  For the unit tests of lib/web/http.c and lib/web/page.c.
 * Include after util.h and sup.h.
 */
#ifndef CAPTURE_H
#define CAPTURE_H

/* What the program wrote so far. */
static struct sbuf out;

static int
mem_read(void *ctx SUP_UNUSED, char *buf SUP_UNUSED, int n SUP_UNUSED)
{
	return 0;
}

static int
mem_write(void *ctx SUP_UNUSED, const char *buf, int n)
{
	sbuf_add(&out, buf, (size_t)n);
	return n;
}

#endif
