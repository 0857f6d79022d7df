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
 * only shrinks.  Build with ./configure CC=clang --enable-fuzzing; the
 * saved corpus in corpus/mailin/ (seeded from tests/mail/) is replayed by
 * make check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
