/*
 * test_ftype.c - file types by their bytes (lib/web/ftype.c): each magic
 * number, text and markup, from memory and from a file read in pieces;
 * the allow-list's parsing.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ftype.h"
#include "sup.h"

#include "tap.h"

static char dir[64];

/* The type of n bytes p written to a file and detected from it. */
static enum ftype
from_file(const void *p, size_t n)
{
	char path[128];
	enum ftype t = FT_MAX;
	int fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    (n > 0 && write(fd, p, n) != (ssize_t)n))
		bail_out("cannot write %s", path);
	if (ftype_detect(fd, n, p, n < FTYPE_HEAD ? n : FTYPE_HEAD, &t) !=
	    SUP_OK)
		t = FT_MAX;
	close(fd);
	unlink(path);
	return t;
}

static void
test_magic(void)
{
	static const struct {
		const char *bytes;
		size_t n;
		enum ftype want;
		const char *what;
	} cases[] = {
		{ "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, FT_PNG, "PNG" },
		{ "\xff\xd8\xff\xe0\0\x10JFIF", 10, FT_JPEG, "JPEG" },
		{ "GIF89a\x01\0\x01\0", 10, FT_GIF, "GIF89a" },
		{ "GIF87a\x01\0\x01\0", 10, FT_GIF, "GIF87a" },
		{ "RIFF\x24\0\0\0WEBPVP8 ", 16, FT_WEBP, "WebP" },
		{ "RIFF\x24\0\0\0WAVEfmt ", 16, FT_UNKNOWN, "RIFF WAVE" },
		{ "%PDF-1.7\n", 9, FT_PDF, "PDF" },
		{ "PK\x03\x04\x14\0\0\0", 8, FT_ZIP, "ZIP (and office files)" },
		{ "PK\x05\x06\0\0\0\0", 8, FT_ZIP, "an empty ZIP" },
		{ "hello, world\n", 13, FT_TEXT, "ASCII text" },
		{ "\xef\xbb\xbfh\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\n", 19,
		    FT_TEXT, "UTF-8 text with a BOM" },
		{ "a\0b", 3, FT_UNKNOWN, "text with a NUL" },
		{ "caf\xe9", 4, FT_UNKNOWN, "Latin-1, not UTF-8" },
		{ "\xc0\xaf", 2, FT_UNKNOWN, "an overlong '/'" },
		{ "\xed\xa0\x80", 3, FT_UNKNOWN, "a surrogate" },
		{ "ab\xe2\x82", 4, FT_UNKNOWN, "a character cut short" },
		{ "MZ\x90\0", 4, FT_UNKNOWN, "a Windows program" },
		{ "\x7f" "ELF\x02\x01", 6, FT_TEXT,
		    "ELF's first bytes alone are text" },
		{ "<html><script>alert(1)</script>", 31, FT_MARKUP, "HTML" },
		{ "\n  <!DOCTYPE html>\n<p>x", 23, FT_MARKUP, "a doctype" },
		{ "\xef\xbb\xbf<svg xmlns='http://www.w3.org/2000/svg'>"
		    "<script>alert(1)</script></svg>", 0, FT_MARKUP,
		    "SVG with script, after a BOM" },
		{ "<?xml version='1.0'?><svg/>", 27, FT_MARKUP, "XML" },
		{ "<!-- x -->", 10, FT_MARKUP, "a comment" },
		{ "<B>bold", 7, FT_MARKUP, "<B>" },
		{ "<br/>", 5, FT_MARKUP, "<br/>" },
		{ "<bogus> is not a tag the sniffer knows", 38, FT_TEXT,
		    "< and an unknown tag: text" },
		{ "x <script>", 10, FT_TEXT, "a tag later on: text" },
		{ "", 0, FT_UNKNOWN, "0 bytes" },
	};

	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		/* 0: the length of the string. */
		size_t n = cases[i].n ? cases[i].n : strlen(cases[i].bytes);
		is_int(ftype_detect_mem((const uint8_t *)cases[i].bytes, n),
		    cases[i].want, "in memory: %s", cases[i].what);
		is_int(from_file(cases[i].bytes, n), cases[i].want,
		    "from a file: %s", cases[i].what);
	}
}

static void
test_long_text(void)
{
	static char big[100000];

	/* A character across the 16 KB reads, and a bad byte at the end. */
	memset(big, 'a', sizeof(big));
	memcpy(big + 16383, "\xe2\x82\xac", 3);
	is_int(from_file(big, sizeof(big)), FT_TEXT,
	    "long text with a character across two reads");
	big[sizeof(big) - 1] = '\0';
	is_int(from_file(big, sizeof(big)), FT_UNKNOWN,
	    "a NUL at its very end");
	big[sizeof(big) - 1] = '\xc3';
	is_int(from_file(big, sizeof(big)), FT_UNKNOWN,
	    "a character cut at its very end");
}

static void
test_names(void)
{
	char bad[64], buf[128];
	unsigned mask;

	is_str(ftype_name(FT_PNG), "png", "png's name");
	is_str(ftype_mime(FT_JPEG), "image/jpeg", "jpeg's Content-Type");
	is_str(ftype_mime(FT_TEXT), "text/plain; charset=utf-8",
	    "text's Content-Type");
	is_str(ftype_mime(FT_MARKUP), "application/octet-stream",
	    "markup is never text/html");
	ok(ftype_is_image(FT_WEBP) && !ftype_is_image(FT_PDF) &&
	    !ftype_is_image(FT_MARKUP), "images: the four raster types");
	ok(ftype_parse_list("png, jpg  pdf", &mask, bad, sizeof(bad)) &&
	    mask == (1u << FT_PNG | 1u << FT_JPEG | 1u << FT_PDF),
	    "a list with commas and spaces; jpg is jpeg");
	ok(ftype_parse_list("", &mask, bad, sizeof(bad)) && mask == 0,
	    "an empty list allows nothing");
	ok(!ftype_parse_list("png svg", &mask, bad, sizeof(bad)) &&
	    strcmp(bad, "svg") == 0, "svg is refused, and named");
	ok(!ftype_parse_list("html", &mask, bad, sizeof(bad)),
	    "html is refused");
	ok(ftype_parse_list(CONF_FILE_TYPES " jpg", &mask, bad,
	    sizeof(bad)) && mask == FTYPE_ALL,
	    "attachment_types' default and jpg: the whole allow-list");
	ftype_list(FTYPE_ALL, buf, sizeof(buf));
	is_str(buf, "png, jpeg, gif, webp, pdf, text, zip", "the whole list");
}

int
main(void)
{
	tap_tmpdir(dir, sizeof(dir));
	test_magic();
	test_long_text();
	test_names();
	tap_rmtree(dir);
	return done_testing();
}
