/*
 * fuzz_mailin - libFuzzer target for the inbound mail path of
 * support-mailin without the store (lib/mail/, lib/desk/replytoken.c).
 *
 * Input: one mail.  It is parsed with GMime (mail_parse), screened
 * (mail_screen, with and without a null envelope sender), its recipients
 * searched for a reply token, each found checked with a fixed key
 * (reply_token_check), its Message-ID made a key as support-mailin keeps
 * it (mailin_seen_key: the same key with the Message-ID in <> again), and
 * its text escaped for Markdown as support-mailin does; the same bytes also go through the HTML-to-text converter and the
 * reply trimmer on their own.  Checked: the text is valid UTF-8 without
 * NUL or control characters other than newline and tab, and the trimmer
 * only shrinks.  The attachments are decoded (mail_parse_files) into a
 * scratch spool directory under $TMPDIR with small limits (1 KB, 3
 * files): each spooled file holds the size said, within the limit, none
 * over the count is decoded, and mail_in_free leaves the directory empty.
 * Build with ./configure CC=clang --enable-fuzzing; the
 * saved corpus in corpus/mailin/ (seeded from tests/mail/) is replayed by
 * make check.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mailin.h"
#include "mailparse.h"
#include "replytoken.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is s[0..n) UTF-8 with no control character but "\n" and "\t"? */
static int
clean_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t k;
		if (c < 0x80) {
			if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
		if (k == 0 || c > 0xf4 || i + k >= n + (k > 0 ? 0 : 1))
			return 0;
		for (size_t j = 1; j <= k; j++)
			if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k + 1;
	}
	return 1;
}

#define FUZZ_FILE_MAX 1024
#define FUZZ_FILES 3

static char spool[4096];

/* At exit: the scratch spool directory goes (empty: checked). */
static void
spool_remove(void)
{
	rmdir(spool);
}

/* The scratch spool directory, made once; NULL when it cannot be. */
static const char *
spool_dir(void)
{
	static int made;
	const char *t = getenv("TMPDIR");

	if (!made) {
		made = 1;
		snprintf(spool, sizeof(spool), "%s/fuzz-mailin-XXXXXX",
		    t != NULL && t[0] == '/' ? t : "/tmp");
		if (mkdtemp(spool) == NULL)
			spool[0] = '\0';
		else
			atexit(spool_remove);
	}
	return spool[0] != '\0' ? spool : NULL;
}

/* Is dir empty (no entry but . and ..)? */
static int
dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (d == NULL)
		return 1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

/* The attachments' path: mail_parse_files with small limits. */
static void
check_files(const uint8_t *data, size_t size)
{
	struct mail_file_limits lim = { .spool_dir = spool_dir(),
		.max_bytes = FUZZ_FILE_MAX, .max_files = FUZZ_FILES,
		.enabled = 1 };
	struct mail_in m;
	size_t spooled = 0;
	struct stat st;

	if (lim.spool_dir == NULL)
		return;
	if (mail_parse_files((const char *)data, size, &lim, &m) == SUP_OK) {
		if (m.nfiles > MAIL_FILES_MAX || (m.files_more > 0 &&
		    m.nfiles != MAIL_FILES_MAX))
			abort();
		for (size_t i = 0; i < m.nfiles; i++) {
			const struct mail_file *f = &m.files[i];
			if (f->name == NULL)
				abort();
			if (f->state != MAIL_FILE_SPOOLED) {
				if (f->path != NULL)
					abort();
				continue;
			}
			if (++spooled > FUZZ_FILES || f->path == NULL ||
			    fstat(f->fd, &st) != 0 ||
			    (uint64_t)st.st_size != f->size ||
			    f->size > FUZZ_FILE_MAX ||
			    f->nhead > sizeof(f->head) ||
			    (f->size < sizeof(f->head) && f->nhead != f->size))
				abort();
		}
	}
	mail_in_free(&m);
	if (!dir_empty(lim.spool_dir))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[REPLY_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct mail_in m;
	struct sbuf sb = { 0 };
	const char *tok;
	uint32_t number, user;
	uint8_t seen[MAILIN_SEEN_KEY_LEN], again[MAILIN_SEEN_KEY_LEN];
	size_t len;
	char *copy, *wrapped;

	if (mail_parse((const char *)data, size, &m) == SUP_OK) {
		(void)mail_screen(&m, "help@example.com", NULL);
		(void)mail_screen(&m, "help@example.com", "");
		(void)mail_screen(&m, "", "a@b.c");
		for (size_t i = 0; i < m.nrcpt; i++)
			if (reply_token_find(m.rcpt[i], &tok, &len))
				(void)reply_token_check(key, tok, len, 20000,
				    &number, &user);
		if (m.from != NULL && m.message_id != NULL &&
		    (wrapped = malloc(strlen(m.message_id) + 3)) != NULL) {
			bool had = mailin_seen_key(m.from, m.message_id, 7,
			    seen);
			snprintf(wrapped, strlen(m.message_id) + 3, "<%s>",
			    m.message_id);
			if (mailin_seen_key(m.from, wrapped, 7, again) != had ||
			    (had && memcmp(seen, again, sizeof(seen)) != 0))
				abort();
			free(wrapped);
		}
		if (m.text != NULL) {
			if (strlen(m.text) != m.text_len ||
			    !clean_utf8((const unsigned char *)m.text,
			    m.text_len))
				abort();
			mail_md_escape(m.text, m.text_len, &sb);
			if (!sb.failed && sb.len < m.text_len)
				abort();
			free(sb.p);
		}
	}
	mail_in_free(&m);
	check_files(data, size);

	memset(&sb, 0, sizeof(sb));
	mail_html_text((const char *)data, size, &sb);
	free(sb.p);

	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	len = size;
	mail_trim_reply(copy, &len);
	if (len > size)
		abort();
	free(copy);
	return 0;
}
