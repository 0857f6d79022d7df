/*
 * test_util.c - UUIDs, times, the test clock, UTF-8, string helpers and
 * the error names (lib/base/util.c, lib/base/err.c).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sup.h"
#include "util.h"

#include "tap.h"

#define NDRAWS 2000

static int
cmp_uuid(const void *a, const void *b)
{
	return memcmp(a, b, UUID_LEN);
}

static void
test_uuid_gen(void)
{
	static uint8_t u[NDRAWS][UUID_LEN];
	int bad_version = 0, bad_variant = 0, dups = 0;

	for (int i = 0; i < NDRAWS; i++) {
		uuid_gen(u[i]);
		if ((u[i][6] & 0xf0) != 0x40)
			bad_version++;
		if ((u[i][8] & 0xc0) != 0x80)
			bad_variant++;
	}
	is_int(bad_version, 0, "uuid_gen: version 4 in all %d draws", NDRAWS);
	is_int(bad_variant, 0, "uuid_gen: RFC 4122 variant in all %d draws",
	    NDRAWS);
	qsort(u, NDRAWS, UUID_LEN, cmp_uuid);
	for (int i = 1; i < NDRAWS; i++)
		if (memcmp(u[i - 1], u[i], UUID_LEN) == 0)
			dups++;
	is_int(dups, 0, "uuid_gen: %d draws, all different", NDRAWS);
}

/*
 * uuid_gen_time: version 7 and the variant; the time readable back
 * (RFC 9562's example: 2022-02-22T19:22:22Z is 017f22e2-79b0-7...); in
 * time order whatever the random bits; all different.
 */
static void
test_uuid_gen_time(void)
{
	static uint8_t u[NDRAWS][UUID_LEN];
	int bad = 0, unordered = 0, dups = 0;
	int64_t t0 = 1645557742000000;	/* 2022-02-22T19:22:22Z, in µs */
	char text[UUID_STRLEN + 1];

	uuid_gen_time(u[0], t0);
	uuid_format(u[0], text);
	ok(strncmp(text, "017f22e2-79b0-7", 15) == 0, "uuid_gen_time: the "
	    "RFC's example time reads 017f22e2-79b0-7... (%s)", text);
	uuid_gen_time(u[0], t0 + 999);
	uuid_format(u[0], text);
	ok(strncmp(text, "017f22e2-79b0-7ffb", 18) == 0, "uuid_gen_time: "
	    "999 µs on, the 12 bits after the version say so (%s)", text);
	for (int i = 0; i < NDRAWS; i++) {
		/* Some draws share a microsecond, most a millisecond. */
		uuid_gen_time(u[i], t0 + i / 3 * 7);
		if ((u[i][6] & 0xf0) != 0x70 || (u[i][8] & 0xc0) != 0x80)
			bad++;
		if (i > 0 && i % 3 == 0 && memcmp(u[i - 1], u[i], UUID_LEN) >= 0)
			unordered++;
	}
	is_int(bad, 0, "uuid_gen_time: version 7, RFC 4122 variant in all %d "
	    "draws", NDRAWS);
	is_int(unordered, 0, "uuid_gen_time: a later microsecond sorts after");
	qsort(u, NDRAWS, UUID_LEN, cmp_uuid);
	for (int i = 1; i < NDRAWS; i++)
		if (memcmp(u[i - 1], u[i], UUID_LEN) == 0)
			dups++;
	is_int(dups, 0, "uuid_gen_time: %d draws, all different", NDRAWS);
}

static void
test_uuid_parse(void)
{
	static const uint8_t want[UUID_LEN] = {
		0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x42, 0xd3,
		0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00,
	};
	const char *lower = "123e4567-e89b-42d3-a456-426614174000";
	const char *upper = "123E4567-E89B-42D3-A456-426614174000";
	uint8_t got[UUID_LEN], again[UUID_LEN];
	char buf[UUID_STRLEN + 1];

	ok(uuid_parse(lower, strlen(lower), got) &&
	    memcmp(got, want, UUID_LEN) == 0, "uuid_parse: lowercase");
	memset(got, 0, sizeof(got));
	ok(uuid_parse(upper, strlen(upper), got) &&
	    memcmp(got, want, UUID_LEN) == 0, "uuid_parse: uppercase");
	/* The router hands it the segment of a longer path. */
	ok(uuid_parse("123e4567-e89b-42d3-a456-426614174000/messages/", 36,
	    got) && memcmp(got, want, UUID_LEN) == 0,
	    "uuid_parse: reads only len bytes");

	ok(!uuid_parse(lower, 35, got), "uuid_parse: 35 characters refused");
	ok(!uuid_parse("123e4567-e89b-42d3-a456-4266141740000", 37, got),
	    "uuid_parse: 37 characters refused");
	ok(!uuid_parse("", 0, got), "uuid_parse: empty refused");
	ok(!uuid_parse("123g4567-e89b-42d3-a456-426614174000", 36, got),
	    "uuid_parse: 'g' refused");
	ok(!uuid_parse("123e4567-e89b-42d3-a456-42661417400 ", 36, got),
	    "uuid_parse: trailing space refused");
	ok(!uuid_parse("123e4567+e89b-42d3-a456-426614174000", 36, got),
	    "uuid_parse: '+' for the first dash refused");
	ok(!uuid_parse("123e4567e89b42d3a456426614174000abcd", 36, got),
	    "uuid_parse: 36 hex digits without dashes refused");
	ok(!uuid_parse("123e456-7e89b-42d3-a456-426614174000", 36, got),
	    "uuid_parse: a dash one place early refused");

	uuid_format(want, buf);
	is_str(buf, lower, "uuid_format: lowercase canonical form");
	uuid_format(want, buf);
	ok(uuid_parse(buf, strlen(buf), again) &&
	    memcmp(again, want, UUID_LEN) == 0, "uuid: format, parse: same");
	uuid_gen(got);
	uuid_format(got, buf);
	is_int(strlen(buf), UUID_STRLEN, "uuid_format: %d characters",
	    UUID_STRLEN);
	ok(buf[14] == '4' && strchr("89ab", buf[19]) != NULL,
	    "uuid_format of uuid_gen: version and variant digits (%s)", buf);
	ok(uuid_parse(buf, strlen(buf), again) &&
	    memcmp(again, got, UUID_LEN) == 0,
	    "uuid: gen, format, parse round trip");
}

static void
test_time_format(void)
{
	char buf[TIME_STRLEN + 1];
	int64_t us = 0;

	time_format(0, buf);
	is_str(buf, "1970-01-01T00:00:00.000000Z", "time_format: the epoch");
	time_format(1795428245123456LL, buf);
	is_str(buf, "2026-11-23T10:04:05.123456Z",
	    "time_format: UTC with microseconds");
	is_int(strlen(buf), TIME_STRLEN, "time_format: %d characters",
	    TIME_STRLEN);
	time_format(951868799000001LL, buf);
	is_str(buf, "2000-02-29T23:59:59.000001Z",
	    "time_format: leap day, leading zeros of the fraction");
	time_format(-1, buf);
	is_str(buf, "1969-12-31T23:59:59.999999Z",
	    "time_format: one microsecond before the epoch");

	time_format(-62167219200LL * 1000000 - 5, buf);
	is_str(buf, "0000-01-01T00:00:00.000000Z",
	    "time_format: before year 0, clamped");
	time_format(INT64_MAX, buf);
	is_str(buf, "9999-12-31T23:59:59.999999Z",
	    "time_format: past year 9999, clamped");

	/* Against the C library's calendar, over four centuries and more. */
	int differ = 0;
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 200000; i++) {
		char want[64];
		struct tm tm;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* -3000 days .. +400 years around the epoch, any µs */
		int64_t t = (int64_t)(x % (146097ULL * 86400 * 1000000)) -
		    3000LL * 86400 * 1000000;
		time_t sec = (time_t)(t / 1000000);
		long frac = (long)(t % 1000000);
		if (frac < 0) {
			frac += 1000000;
			sec--;
		}
		gmtime_r(&sec, &tm);
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d."
		    "%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		    tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
		time_format(t, buf);
		if (strcmp(buf, want) != 0 && differ++ == 0)
			diag("%" PRId64 ": %s, gmtime_r says %s", t, buf, want);
	}
	is_int(differ, 0, "time_format agrees with gmtime_r at 200,000 "
	    "random times");

	int64_t now = time_now_us();
	time_format(now, buf);
	ok(time_parse(buf, &us) && us == now,
	    "time_format then time_parse: the same microsecond");
}

static void
test_time_parse(void)
{
	int64_t us;

	ok(time_parse("2026-11-23", &us) && us == 1795392000000000LL,
	    "time_parse: a date is its midnight UTC");
	ok(time_parse("2026-11-23T10:04", &us) && us == 1795428240000000LL,
	    "time_parse: date-time without seconds");
	ok(time_parse("2026-11-23T10:04:05", &us) &&
	    us == 1795428245000000LL, "time_parse: date-time without Z");
	ok(time_parse("2026-11-23T10:04:05Z", &us) &&
	    us == 1795428245000000LL, "time_parse: date-time with Z");
	ok(time_parse("2026-11-23 10:04:05Z", &us) &&
	    us == 1795428245000000LL, "time_parse: space for the T");
	ok(time_parse("2026-11-23T10:04:05+00:00", &us) &&
	    us == 1795428245000000LL, "time_parse: +00:00");
	ok(time_parse("2026-11-23T10:04:05.5Z", &us) &&
	    us == 1795428245500000LL, "time_parse: .5 is 500000 us");
	ok(time_parse("2026-11-23T10:04:05.123456Z", &us) &&
	    us == 1795428245123456LL, "time_parse: six fraction digits");
	ok(time_parse("2026-11-23T10:04:05.1234569", &us) &&
	    us == 1795428245123456LL,
	    "time_parse: digits past the microsecond are dropped");

	/* Whatever these are, they are not times. */
	static const char *const bad[] = {
		"", "garbage", "2026", "2026-11", "2026-13-01", "2026-00-10",
		"2026-11-00", "2026-11-32", "2026-11-23T", "2026-11-23T24:00",
		"2026-11-23T10:60", "2026-11-23T10", "2026-11-23T10:04:05.",
		"2026-11-23T10:04:05+01:00", "2026-11-23T10:04:05ZZ",
		"2026-11-23x", "26-11-23", "2026/11/23", " 2026-11-23",
		"2026-11-23T1:04",
	};
	for (size_t i = 0; i < SUP_NELEM(bad); i++) {
		us = 42;
		ok(!time_parse(bad[i], &us) && us == 42,
		    "time_parse: \"%s\" refused, output untouched", bad[i]);
	}

	ok(!time_parse("2026-02-30", &us), "time_parse: 30 February refused");
	ok(!time_parse("2026-04-31T00:00", &us),
	    "time_parse: 31 April refused");
	ok(time_parse("2024-02-29", &us), "time_parse: 29 February of a "
	    "leap year");
}

static void
test_utf8_len(void)
{
	is_int(utf8_len("", 0), 0, "utf8_len: empty is 0");
	is_int(utf8_len("hello", 5), 5, "utf8_len: ASCII");
	is_int(utf8_len("h\xc3\xa9llo", 6), 5, "utf8_len: two-byte é");
	is_int(utf8_len("\xe2\x82\xac", 3), 1, "utf8_len: three-byte €");
	is_int(utf8_len("\xf0\x9f\x98\x80!", 5), 2,
	    "utf8_len: four-byte emoji and '!'");
	is_int(utf8_len("\xf4\x8f\xbf\xbf", 4), 1, "utf8_len: U+10FFFF");
	is_int(utf8_len("\xed\x9f\xbf", 3), 1, "utf8_len: U+D7FF");
	is_int(utf8_len("abc", 2), 2, "utf8_len: only n bytes are read");

	is_int(utf8_len("\xc0\xaf", 2), -1, "utf8_len: overlong '/' (2)");
	is_int(utf8_len("\xc1\xbf", 2), -1, "utf8_len: overlong C1");
	is_int(utf8_len("\xe0\x80\xaf", 3), -1, "utf8_len: overlong '/' (3)");
	is_int(utf8_len("\xe0\x9f\xbf", 3), -1, "utf8_len: overlong U+07FF");
	is_int(utf8_len("\xf0\x80\x80\xaf", 4), -1,
	    "utf8_len: overlong '/' (4)");
	is_int(utf8_len("\xf0\x8f\xbf\xbf", 4), -1,
	    "utf8_len: overlong U+FFFF");
	is_int(utf8_len("\xed\xa0\x80", 3), -1, "utf8_len: surrogate D800");
	is_int(utf8_len("\xed\xbf\xbf", 3), -1, "utf8_len: surrogate DFFF");
	is_int(utf8_len("\xf4\x90\x80\x80", 4), -1,
	    "utf8_len: past U+10FFFF");
	is_int(utf8_len("\xf8\x88\x80\x80\x80", 5), -1,
	    "utf8_len: five-byte form");
	is_int(utf8_len("a\0b", 3), -1, "utf8_len: embedded NUL");
	is_int(utf8_len("\0", 1), -1, "utf8_len: a lone NUL");
	is_int(utf8_len("\xe2\x82", 2), -1, "utf8_len: truncated at the end");
	is_int(utf8_len("h\xc3\xa9", 2), -1,
	    "utf8_len: n cutting a character");
	is_int(utf8_len("\xe2\x82x", 3), -1,
	    "utf8_len: ASCII where a continuation byte belongs");
	is_int(utf8_len("\x80", 1), -1, "utf8_len: a lone continuation byte");
	is_int(utf8_len("\xff", 1), -1, "utf8_len: 0xff");
}

static void
test_str_trim(void)
{
	const char *s = " \t a b \r\n", *start;
	size_t len;

	str_trim(s, strlen(s), &start, &len);
	ok(start == s + 3 && len == 3 && memcmp(start, "a b", 3) == 0,
	    "str_trim: both ends, inner space kept");
	str_trim(" \n\t ", 4, &start, &len);
	is_int(len, 0, "str_trim: all white space is empty");
	str_trim("", 0, &start, &len);
	is_int(len, 0, "str_trim: empty stays empty");
	s = "abc";
	str_trim(s, 3, &start, &len);
	ok(start == s && len == 3, "str_trim: nothing to trim");
	s = "ab  cd";
	str_trim(s, 4, &start, &len);
	ok(start == s && len == 2, "str_trim: looks only at n bytes");
}

static void
test_str_icontains(void)
{
	ok(str_icontains("Printer On Fire", "on f", 4),
	    "str_icontains: another case");
	ok(str_icontains("Printer On Fire", "PRINTER", 7),
	    "str_icontains: at the start");
	ok(str_icontains("Printer On Fire", "fire", 4),
	    "str_icontains: at the end");
	ok(!str_icontains("Printer On Fire", "fired", 5),
	    "str_icontains: past the end is not found");
	ok(!str_icontains("abc", "abd", 3), "str_icontains: not there");
	ok(str_icontains("abc", "bcX", 2), "str_icontains: only n bytes");
	ok(str_icontains("abc", "", 0), "str_icontains: empty needle");
	ok(!str_icontains("", "a", 1), "str_icontains: empty haystack");
}

static void
test_parse_long(void)
{
	long v = 7;

	ok(parse_long("42", 0, 100, &v) && v == 42, "parse_long: 42");
	ok(parse_long("-5", -10, 10, &v) && v == -5, "parse_long: -5");
	ok(parse_long("0", 0, 0, &v) && v == 0, "parse_long: 0 in [0, 0]");
	ok(parse_long("1", 1, 100, &v) && v == 1, "parse_long: min itself");
	ok(parse_long("100", 1, 100, &v) && v == 100,
	    "parse_long: max itself");
	v = 7;
	ok(!parse_long("0", 1, 100, &v) && v == 7,
	    "parse_long: below min refused, output untouched");
	ok(!parse_long("101", 1, 100, &v), "parse_long: above max refused");
	ok(!parse_long("", 0, 100, &v), "parse_long: empty refused");
	ok(!parse_long(NULL, 0, 100, &v), "parse_long: NULL refused");
	ok(!parse_long(" 1", 0, 100, &v), "parse_long: leading space refused");
	ok(!parse_long("1 ", 0, 100, &v), "parse_long: trailing space refused");
	ok(!parse_long("12abc", 0, 100, &v), "parse_long: junk after refused");
	ok(!parse_long("0x10", 0, 100, &v), "parse_long: hex refused");
	ok(!parse_long("1.5", 0, 100, &v), "parse_long: a fraction refused");
	ok(!parse_long("99999999999999999999999", 0, LONG_MAX, &v),
	    "parse_long: overflow refused");
	ok(!parse_long("-99999999999999999999999", LONG_MIN, 0, &v),
	    "parse_long: underflow refused");
}

static void
test_be(void)
{
	uint8_t a[8], b[8];

	be64_put(a, 0x0102030405060708ULL);
	ok(a[0] == 1 && a[7] == 8 && be64_get(a) == 0x0102030405060708ULL,
	    "be64: big-endian, round trip");
	/* Keys must sort as the numbers do. */
	be64_put(a, 255);
	be64_put(b, 256);
	ok(memcmp(a, b, 8) < 0, "be64: 255 sorts before 256");
	be32_put(a, 0xdeadbeef);
	ok(a[0] == 0xde && be32_get(a) == 0xdeadbeef, "be32: round trip");
}

/* An area of the tests' own, registered as an area registers its errors. */
#define TEST_AREA (SUP_AREA_MAX - 1)
#define TEST_EFULL ((sup_err)SUP_ERR_AREA(TEST_AREA, 1))
#define TEST_EUNLISTED ((sup_err)SUP_ERR_AREA(TEST_AREA, 2))
static const struct sup_errdef test_errdefs[] = {
	{ TEST_EFULL, SUP_EFORBIDDEN, "test_full", "The test area is full.",
	    NULL, "Nothing more fits." },
};
SUP_ERRORS(test_errors_tab, TEST_AREA, test_errdefs)

static void
test_errors(void)
{
	int missing = 0;

	for (int e = 0; e < SUP_ERR_MAX; e++)
		if (sup_strerror((sup_err)e)[0] == '\0' ||
		    sup_errcode((sup_err)e)[0] == '\0')
			missing++;
	is_int(missing, 0, "every sup_err has a sentence and a code");
	is_str(sup_errcode(SUP_ENOTFOUND), "not_found", "code of ENOTFOUND");
	is_str(sup_errcode(SUP_ECONFLICT), "conflict", "code of ECONFLICT");
	is_int(sup_errkind(SUP_ECONFLICT), SUP_ECONFLICT,
	    "a shared error is its own kind");
	is_str(sup_errcode(TEST_EFULL), "test_full", "an area's error: its code");
	is_str(sup_strerror(TEST_EFULL), "The test area is full.",
	    "  its sentence");
	is_int(sup_errkind(TEST_EFULL), SUP_EFORBIDDEN, "  its kind");
	ok(sup_errdef(TEST_EFULL) != NULL &&
	    strcmp(sup_errdef(TEST_EFULL)->page, "Nothing more fits.") == 0,
	    "  its page sentence");
	is_str(sup_errcode(TEST_EUNLISTED), "internal_error",
	    "an area's number not in its table: internal_error");
	is_int(sup_errkind(TEST_EUNLISTED), SUP_EDB, "  of kind EDB");
	is_str(sup_errcode(SUP_ERR_AREA(SUP_AREA_MAX - 2, 1)),
	    "internal_error", "an area nobody registered: internal_error");
	ok(sup_errdef(SUP_ERR_AREA(SUP_AREA_MAX + 5, 1)) == NULL,
	    "an area number past the last: no definition");
	is_str(sup_errcode(SUP_ERR_MAX), "internal_error",
	    "code of an out-of-range value");
	ok(sup_strerror((sup_err)-1) != NULL,
	    "sentence of a negative value is not NULL");
}

/* Write text to path through a rename, as a test moving a clock does. */
static void
put_clock(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if ((f = fopen(tmp, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0 || rename(tmp, path) != 0)
		bail_out("cannot write %s", path);
}

/* Is the clock off the real one by about want µs (within a second)? */
static bool
clock_off_by(int64_t want)
{
	struct timespec ts;
	int64_t real, d;

	clock_gettime(CLOCK_REALTIME, &ts);
	real = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	d = time_now_us() - real - want;
	return d > -1000000 && d < 1000000;
}

/* The test clock: set directly, and read from a file as it changes. */
static void
test_clock(void)
{
	char dir[64], path[4096];

	ok(clock_off_by(0), "no test clock: the real time");
	time_test_offset(3600 * INT64_C(1000000));
	ok(clock_off_by(3600 * INT64_C(1000000)), "an offset set directly");
	time_test_offset(-86400 * INT64_C(1000000));
	ok(clock_off_by(-86400 * INT64_C(1000000)), "  and a negative one");

	tap_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/clock", dir);
	time_test_file(path);
	ok(clock_off_by(0), "a clock file that is not there: no offset");
	put_clock(path, "120\n");
	ok(clock_off_by(120 * INT64_C(1000000)), "the file's offset (seconds)");
	put_clock(path, "-7.5");
	ok(clock_off_by(-7500000), "  read again when it changes, fractions too");
	put_clock(path, "soon");
	ok(clock_off_by(0), "  a file that holds no number: no offset");
	put_clock(path, "12x");
	ok(clock_off_by(0), "  nor one with more after the number");
	put_clock(path, "99999999999999999999");
	ok(clock_off_by(0), "  nor one too large");
	put_clock(path, "+30");
	ok(clock_off_by(30 * INT64_C(1000000)), "  \"+30\"");
	unlink(path);
	ok(clock_off_by(0), "  the file removed: no offset");
	time_test_file(NULL);
	ok(clock_off_by(0), "no test clock again: the real time");
	tap_rmtree(dir);
}

/* sbuf_add_int writes what printf's %lld does, the extremes included. */
static void
test_sbuf_add_int(void)
{
	static const int64_t v[] = { 0, 7, -7, 10, 1234567890123LL,
		INT64_MAX, INT64_MIN };
	int bad = 0;

	for (size_t i = 0; i < SUP_NELEM(v); i++) {
		struct sbuf b = { 0 };
		char want[32];

		sbuf_add(&b, "x", 1);
		sbuf_add_int(&b, v[i]);
		snprintf(want, sizeof(want), "x%" PRId64, v[i]);
		if (b.p == NULL || strcmp(b.p, want) != 0) {
			diag("%s: got %s", want, b.p ? b.p : "(null)");
			bad++;
		}
		free(b.p);
	}
	is_int(bad, 0, "sbuf_add_int: 0, small, negative and both extremes");
}

int
main(void)
{
	test_uuid_gen();
	test_uuid_gen_time();
	test_uuid_parse();
	test_time_format();
	test_time_parse();
	test_utf8_len();
	test_str_trim();
	test_str_icontains();
	test_parse_long();
	test_be();
	test_sbuf_add_int();
	test_errors();
	test_clock();
	return done_testing();
}
