/*
 * test_fname.c - safe file names and Content-Disposition
 * (lib/web/fname.c).
 */
#include <stdlib.h>
#include <string.h>

#include "fname.h"
#include "sup.h"
#include "util.h"

#include "tap.h"

static void
test_safe(void)
{
	static const struct {
		const char *in;
		enum ftype t;
		const char *want;
		const char *what;
	} cases[] = {
		{ "photo.png", FT_PNG, "photo.png", "a plain name" },
		{ "Photo.PNG", FT_PNG, "Photo.PNG", "an extension in capitals" },
		{ "../../etc/passwd", FT_TEXT, "passwd.txt",
		    "../ dropped; text without .txt gets it" },
		{ "C:\\Users\\me\\scan.pdf", FT_PDF, "scan.pdf",
		    "a Windows path" },
		{ "a\"b'c.txt", FT_TEXT, "a_b'c.txt", "a double quote" },
		{ "line\r\nbreak.txt", FT_TEXT, "line_break.txt",
		    "CR LF: one '_'" },
		{ "tab\there\x7f.txt", FT_TEXT, "tab_here_.txt",
		    "a tab, DEL" },
		{ "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.png", FT_PNG,
		    "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.png",
		    "non-ASCII kept" },
		{ "caf\xe9.txt", FT_TEXT, "caf_.txt", "a Latin-1 byte" },
		{ "evil\xe2\x80\xaegpj.exe", FT_ZIP, "evil_gpj.exe.zip",
		    "a right-to-left override" },
		{ "evil.html", FT_PNG, "evil.html.png",
		    "an extension not the type's: the type's added" },
		{ "page.html", FT_TEXT, "page.html.txt",
		    "HTML's name for text" },
		{ "report.docx", FT_ZIP, "report.docx", "an office file" },
		{ ".htaccess", FT_TEXT, "htaccess.txt", "a hidden file" },
		{ "...", FT_PDF, "file.pdf", "only dots" },
		{ "", FT_JPEG, "file.jpg", "no name" },
		{ "dir/", FT_GIF, "file.gif", "a directory's name" },
		{ ".png", FT_PNG, "png.png", "only an extension" },
		{ "a<b>c:d*e?f|g.pdf", FT_PDF, "a_b_c_d_e_f_g.pdf",
		    "what Windows forbids" },
		{ "name. .pdf", FT_PDF, "name. .pdf", "dots inside kept" },
		{ "trailing. ", FT_PDF, "trailing.pdf", "dot and space at "
		    "the end" },
	};
	char out[FNAME_MAX + 1];

	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		fname_safe(cases[i].in, cases[i].t, out);
		is_str(out, cases[i].want, "%s", cases[i].what);
	}
}

static void
test_long(void)
{
	char in[1200], out[FNAME_MAX + 1];

	memset(in, 'a', 1000);
	strcpy(in + 1000, ".pdf");
	fname_safe(in, FT_PDF, out);
	is_int(strlen(out), FNAME_MAX, "a long name is cut to FNAME_MAX");
	ok(strcmp(out + FNAME_MAX - 4, ".pdf") == 0, "its extension kept");

	/* 2-byte characters: never cut inside one. */
	for (int i = 0; i < 500; i++)
		memcpy(in + 2 * i, "\xc3\xa9", 2);
	strcpy(in + 1000, ".txt");
	fname_safe(in, FT_TEXT, out);
	ok(strlen(out) <= FNAME_MAX && utf8_len(out, strlen(out)) >= 0,
	    "cut between characters: still UTF-8");
	ok(strcmp(out + strlen(out) - 4, ".txt") == 0, "its extension kept");

	memset(in, 'b', 1000);
	in[1000] = '\0';
	fname_safe(in, FT_PNG, out);
	ok(strlen(out) <= FNAME_MAX && strcmp(out + strlen(out) - 4,
	    ".png") == 0, "a long name without extension: cut, .png added");

	/* Everything unsafe: a byte soup stays within bounds. */
	for (int i = 0; i < 1000; i++)
		in[i] = (char)(i % 255 + 1);
	in[1000] = '\0';
	fname_safe(in, FT_ZIP, out);
	ok(strlen(out) <= FNAME_MAX && utf8_len(out, strlen(out)) >= 0 &&
	    strpbrk(out, "\"\\/\r\n") == NULL, "every byte: a safe name");
}

static void
test_disposition(void)
{
	char *d;

	d = fname_disposition("report.pdf");
	is_str(d, "attachment; filename=\"report.pdf\"", "ASCII: one name");
	free(d);
	d = fname_disposition("\xc3\xa9t\xc3\xa9 \xe2\x82\xac.txt");
	is_str(d, "attachment; filename=\"_t_ _.txt\"; "
	    "filename*=UTF-8''%C3%A9t%C3%A9%20%E2%82%AC.txt",
	    "non-ASCII: a fallback and filename*");
	free(d);
	d = fname_disposition("it's (1)+[x].txt");
	is_str(d, "attachment; filename=\"it's (1)+[x].txt\"",
	    "ASCII punctuation in the quoted name");
	free(d);
}

int
main(void)
{
	test_safe();
	test_long();
	test_disposition();
	return done_testing();
}
