/*
 * util.c - UUIDs, times, UTF-8 and string helpers.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <json-c/printbuf.h>
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

int
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

/*
 * The test clock (util.h): what its file said when last read.  test_clock
 * is NULL unless a test asked for one: time_now_us's one test.
 */
struct test_clock {
	const char *path;	/* NULL: offset_us set directly */
	bool seen;		/* st is the file's when offset_us was read */
	struct stat st;
	int64_t offset_us;
};

static struct test_clock the_test_clock;
static struct test_clock *test_clock;

/* The offset text[0..n) says ("-12", "3.5"), or 0 when it is not one. */
static int64_t
test_clock_parse(const char *text, size_t n)
{
	const char *p = text, *end = text + n;
	int64_t sec = 0, frac = 0;
	int sign = 1, places = 0;

	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (p < end && (*p == '-' || *p == '+'))
		sign = *p++ == '-' ? -1 : 1;
	if (p == end || !isdigit((unsigned char)*p))
		return 0;
	for (; p < end && isdigit((unsigned char)*p); p++) {
		if (sec > INT64_MAX / 1000000 / 10)
			return 0;
		sec = sec * 10 + (*p - '0');
	}
	if (p < end && *p == '.') {
		for (p++; p < end && isdigit((unsigned char)*p) && places < 6;
		    p++, places++)
			frac = frac * 10 + (*p - '0');
		for (; places < 6; places++)
			frac *= 10;
	}
	if (p != end)
		return 0;
	return sign * (sec * 1000000 + frac);
}

/* The offset of the clock file, read again when the file has changed. */
static int64_t
test_clock_offset(struct test_clock *c)
{
	struct stat st;
	char buf[64];
	ssize_t n;
	int fd;

	if (c->path == NULL)
		return c->offset_us;
	if (stat(c->path, &st) != 0) {
		c->seen = false;
		return c->offset_us = 0;
	}
	if (c->seen && st.st_ino == c->st.st_ino &&
	    st.st_size == c->st.st_size &&
	    st.st_mtim.tv_sec == c->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == c->st.st_mtim.tv_nsec)
		return c->offset_us;
	c->offset_us = 0;
	c->seen = false;
	if ((fd = open(c->path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	/* What was read must be what was looked at: stat the open file. */
	if (fstat(fd, &c->st) == 0 &&
	    (n = read(fd, buf, sizeof(buf))) >= 0 && (size_t)n < sizeof(buf)) {
		c->offset_us = test_clock_parse(buf, (size_t)n);
		c->seen = true;
	}
	close(fd);
	return c->offset_us;
}

/* SUPPORT_TEST_CLOCK, once, before main. */
__attribute__((constructor)) static void
test_clock_init(void)
{
	const char *path = getenv("SUPPORT_TEST_CLOCK");

	if (path != NULL && *path != '\0')
		time_test_file(path);
}

void
time_test_file(const char *path)
{
	memset(&the_test_clock, 0, sizeof(the_test_clock));
	the_test_clock.path = path;
	test_clock = path != NULL ? &the_test_clock : NULL;
}

void
time_test_offset(int64_t us)
{
	memset(&the_test_clock, 0, sizeof(the_test_clock));
	the_test_clock.offset_us = us;
	test_clock = &the_test_clock;
}

int64_t
time_now_us(void)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (test_clock != NULL)
		now += test_clock_offset(test_clock);
	return now;
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

	/* timegm makes 02-30 03-02: a day the month lacks is refused. */
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
	if (n > 0)		/* s may be NULL when there is nothing */
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
sbuf_add_int(struct sbuf *b, int64_t x)
{
	char buf[24];
	size_t i = sizeof(buf);
	uint64_t u = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;

	do
		buf[--i] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (x < 0)
		buf[--i] = '-';
	sbuf_add(b, buf + i, sizeof(buf) - i);
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
json_parse_nomem(struct json_tokener *tok)
{
	enum json_tokener_error e = json_tokener_get_error(tok);

#if JSON_C_VERSION_NUM >= (17 << 8)
	if (e == json_tokener_error_memory)
		return true;
#endif
	return e == json_tokener_success;
}

/* Bytes of s[0..n) escaped as json-c's json_escape_str does. */
static size_t
json_escaped_len(const char *s, size_t n, int flags)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '/' && (flags & JSON_C_TO_STRING_NOSLASHESCAPE))
			len++;
		else if (c == '\b' || c == '\n' || c == '\r' || c == '\t' ||
		    c == '\f' || c == '"' || c == '\\' || c == '/')
			len += 2;
		else if (c < ' ')
			len += 6;	/* \u00XX */
		else
			len++;
	}
	return len;
}

/* The length of json-c's text of o, or SIZE_MAX when it is not known. */
static size_t
json_text_len(json_object *o, int flags)
{
	char num[24];
	const char *t;
	size_t len, n;
	bool first = true;

	switch (json_object_get_type(o)) {
	case json_type_null:
		return 4;
	case json_type_boolean:
		return json_object_get_boolean(o) ? 4 : 5;
	case json_type_int:
		if (json_object_get_int64(o) == INT64_MAX)
			n = (size_t)snprintf(num, sizeof(num), "%" PRIu64,
			    json_object_get_uint64(o));
		else
			n = (size_t)snprintf(num, sizeof(num), "%" PRId64,
			    json_object_get_int64(o));
		return n;
	case json_type_double:
		/*
		 * Printed into its own buffer of 32 bytes, which a text of
		 * up to 30 bytes (and its NUL) never needs to grow.
		 */
		t = json_object_to_json_string_length(o, flags, &n);
		return t != NULL && n <= 30 ? n : SIZE_MAX;
	case json_type_string:
		return 2 + json_escaped_len(json_object_get_string(o),
		    (size_t)json_object_get_string_len(o), flags);
	case json_type_array:
		len = 2;
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			n = json_text_len(json_object_array_get_idx(o, i),
			    flags);
			if (n == SIZE_MAX)
				return SIZE_MAX;
			len += n + (i > 0);
		}
		return len;
	case json_type_object:
		len = 2;
		json_object_object_foreach(o, k, v) {
			n = json_text_len(v, flags);
			if (n == SIZE_MAX)
				return SIZE_MAX;
			/* ,"key":value */
			len += !first + 3 + json_escaped_len(k, strlen(k),
			    flags) + n;
			first = false;
		}
		return len;
	}
	return SIZE_MAX;
}

const char *
json_text(json_object *o, int flags, size_t *len)
{
	size_t want;
	const char *t;

	if ((flags & ~(JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) != 0)
		return NULL;
	want = json_text_len(o, flags);
	t = json_object_to_json_string_length(o, flags, len);
	if (t == NULL || want == SIZE_MAX || *len != want)
		return NULL;
	return t;
}

size_t
json_members(json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += json_members(json_object_array_get_idx(o, i));
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			(void)k;
			n += 1 + json_members(v);
		}
	}
	return n;
}

bool
json_members_kept(json_object *o, const char *text, size_t len)
{
	size_t names = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		if (in_string) {
			if (text[i] == '\\')
				i++;
			else if (text[i] == '"')
				in_string = false;
		} else if (text[i] == '"')
			in_string = true;
		else if (text[i] == ':')
			names++;
	}
	return names == json_members(o);
}

bool
json_parse_room(json_tokener *tok, size_t len)
{
	/* The buffer is json_tokener's public (if deprecated) member. */
	if (len > INT_MAX - 16 || printbuf_memset(tok->pb, 0, 0,
	    (int)len + 1) < 0)
		return false;
	printbuf_reset(tok->pb);
	return true;
}

const char *
json_str(json_object *o, const char *k)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool
json_set(json_object *o, const char *k, json_object *v)
{
	if (v == NULL)
		return false;
	if (json_object_object_add_ex(o, k, v,
	    JSON_C_OBJECT_ADD_CONSTANT_KEY) != 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

bool
json_set_null(json_object *o, const char *k)
{
	return json_object_object_add_ex(o, k, NULL,
	    JSON_C_OBJECT_ADD_CONSTANT_KEY) == 0;
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
