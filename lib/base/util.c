/*
 * util.c - UUIDs, times, UTF-8 and string helpers.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "util.h"

void
uuid_gen(uint8_t out[UUID_LEN])
{
	randombytes_buf(out, UUID_LEN);
	out[6] = (out[6] & 0x0f) | 0x40;	/* version 4 */
	out[8] = (out[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
}

void
uuid_gen_time(uint8_t out[UUID_LEN], int64_t us)
{
	uint64_t ms = us > 0 ? (uint64_t)us / 1000 : 0;
	unsigned sub = us > 0 ? (unsigned)((uint64_t)us % 1000) * 4096 / 1000 :
	    0;

	randombytes_buf(out, UUID_LEN);
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)(ms >> (40 - 8 * i));
	out[6] = (uint8_t)(0x70 | (sub >> 8));	/* version 7 */
	out[7] = (uint8_t)sub;
	out[8] = (out[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
uuid_parse(const char *s, size_t len, uint8_t out[UUID_LEN])
{
	size_t i, o = 0;

	if (len != UUID_STRLEN)
		return false;
	for (i = 0; i < UUID_STRLEN; ) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return false;
			continue;
		}
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return true;
}

void
uuid_format(const uint8_t u[UUID_LEN], char *buf)
{
	static const char hex[] = "0123456789abcdef";
	char *p = buf;

	for (int i = 0; i < UUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[u[i] >> 4];
		*p++ = hex[u[i] & 15];
	}
	*p = '\0';
}

int64_t
time_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Write v as n decimal digits (zero-padded, the high ones dropped) at p. */
static void
put_digits(char *p, unsigned long v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * The civil date and time by arithmetic (days to year, month, day: the
 * proleptic Gregorian algorithm of H. Hinnant's "chrono-compatible
 * low-level date algorithms"), not gmtime_r and snprintf: every record
 * and every event stamps a time, and the pair cost about 4,000
 * instructions of a post's 260,000.  Years outside 0000-9999 would not
 * fit the format: they are clamped, as before.
 */
void
time_format(int64_t us, char *buf)
{
	const int64_t day_us = 86400LL * 1000000;
	/* 0000-01-01 and 9999-12-31T23:59:59.999999, in µs since 1970. */
	const int64_t lo = -62167219200LL * 1000000;
	const int64_t hi = 253402300800LL * 1000000 - 1;
	int64_t days, rest, era, z;
	unsigned doe, yoe, doy, mp, d, m;
	long y;

	if (us < lo)
		us = lo;
	if (us > hi)
		us = hi;
	days = us / day_us;
	rest = us % day_us;
	if (rest < 0) {
		rest += day_us;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (long)yoe + (long)era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	put_digits(buf, (unsigned long)y, 4);
	buf[4] = '-';
	put_digits(buf + 5, m, 2);
	buf[7] = '-';
	put_digits(buf + 8, d, 2);
	buf[10] = 'T';
	put_digits(buf + 11, (unsigned long)(rest / 3600000000LL), 2);
	buf[13] = ':';
	put_digits(buf + 14, (unsigned long)(rest / 60000000 % 60), 2);
	buf[16] = ':';
	put_digits(buf + 17, (unsigned long)(rest / 1000000 % 60), 2);
	buf[19] = '.';
	put_digits(buf + 20, (unsigned long)(rest % 1000000), 6);
	buf[26] = 'Z';
	buf[27] = '\0';
}

/* Read exactly n digits at *p into *v; advances *p. */
static bool
digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**p))
			return false;
		*v = *v * 10 + (*(*p)++ - '0');
	}
	return true;
}

bool
time_parse(const char *s, int64_t *us)
{
	int y, mo, d, h = 0, mi = 0, sec = 0;
	long frac = 0;
	struct tm tm;
	const char *p = s;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d))
		return false;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return false;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return false;
			if (*p == '.') {
				int n = 0;
				p++;
				while (isdigit((unsigned char)*p)) {
					if (n++ < 6)
						frac = frac * 10 + (*p - '0');
					p++;
				}
				if (n == 0)
					return false;
				for (; n < 6; n++)
					frac *= 10;
			}
		}
		if (*p == 'Z')
			p++;
		else if (strcmp(p, "+00:00") == 0)
			p += 6;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 60)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	struct tm back;
	/* timegm normalises 02-30 to 03-02: a day the month lacks is refused. */
	if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL ||
	    back.tm_mday != d || back.tm_mon != mo - 1)
		return false;
	*us = (int64_t)t * 1000000 + frac;
	return true;
}

long
utf8_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	long count = 0;

	while (p < end) {
		unsigned c = *p;
		size_t need;
		uint32_t cp;

		if (c == 0)
			return -1;
		if (c < 0x80) {
			p++;
			count++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			need = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3;
			cp = c & 0x07;
		} else
			return -1;
		if ((size_t)(end - p) <= need)
			return -1;
		for (size_t i = 1; i <= need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		p += need + 1;
		count++;
	}
	return count;
}

void
str_trim(const char *s, size_t n, const char **start, size_t *len)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	*start = s;
	*len = n;
}

bool
str_icontains(const char *hay, const char *needle, size_t n)
{
	return str_icontains_n(hay, strlen(hay), needle, n);
}

bool
str_icontains_n(const char *hay, size_t hlen, const char *needle, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i + n <= hlen; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

bool
write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Only short, formatted numbers go through here. */
	if (n < 0 || (size_t)n >= sizeof(buf))
		b->failed = true;
	else
		sbuf_add(b, buf, (size_t)n);
}

bool
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}
