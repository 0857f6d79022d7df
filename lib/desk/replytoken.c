/*
 * replytoken.c - the signed reply address (lib/desk/replytoken.h): the
 * token's layout and MAC, its base32 spelling, the key from secret_file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "replytoken.h"
#include "util.h"

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
static const char mac_label[] = "support-reply-v1";
#define BODY_LEN 10		/* number(4) user(4) day(2) */
#define MAC_LEN 10

/* base32 of the 20 bytes in into out (32 characters and a NUL). */
static void
b32_encode(const uint8_t in[REPLY_TOKEN_BYTES],
    char out[REPLY_TOKEN_STRLEN + 1])
{
	size_t o = 0;

	/* 5 bytes are 8 characters: 20 bytes, four groups, no padding. */
	for (size_t i = 0; i < REPLY_TOKEN_BYTES; i += 5) {
		uint64_t v = 0;
		for (size_t j = 0; j < 5; j++)
			v = v << 8 | in[i + j];
		for (int j = 7; j >= 0; j--)
			out[o++] = b32[(v >> (5 * j)) & 31];
	}
	out[o] = '\0';
}

/* Decode 32 lower-case base32 characters into out; false when one is not. */
static bool
b32_decode(const char *in, uint8_t out[REPLY_TOKEN_BYTES])
{
	size_t o = 0;

	for (size_t i = 0; i < REPLY_TOKEN_STRLEN; i += 8) {
		uint64_t v = 0;
		for (size_t j = 0; j < 8; j++) {
			char c = in[i + j];
			unsigned d;
			if (c >= 'a' && c <= 'z')
				d = (unsigned)(c - 'a');
			else if (c >= '2' && c <= '7')
				d = (unsigned)(c - '2') + 26;
			else
				return false;
			v = v << 5 | d;
		}
		for (int j = 4; j >= 0; j--)
			out[o++] = (uint8_t)(v >> (8 * j));
	}
	return true;
}

/* The MAC of the token's first BODY_LEN bytes into mac. */
static void
token_mac(const uint8_t key[REPLY_KEY_LEN], const uint8_t body[BODY_LEN],
    uint8_t mac[MAC_LEN])
{
	crypto_auth_hmacsha256_state st;
	uint8_t full[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, key, REPLY_KEY_LEN);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)mac_label,
	    sizeof(mac_label) - 1);
	crypto_auth_hmacsha256_update(&st, body, BODY_LEN);
	crypto_auth_hmacsha256_final(&st, full);
	memcpy(mac, full, MAC_LEN);
	sodium_memzero(&st, sizeof(st));
}

sup_err
reply_token_make(const uint8_t key[REPLY_KEY_LEN], uint32_t ticket_number,
    uint32_t user_id, int64_t expires_day, char out[REPLY_TOKEN_STRLEN + 1])
{
	uint8_t raw[REPLY_TOKEN_BYTES];

	out[0] = '\0';
	if (expires_day < 0 || expires_day > 65535)
		return SUP_EINVAL;
	be32_put(raw, ticket_number);
	be32_put(raw + 4, user_id);
	raw[8] = (uint8_t)(expires_day >> 8);
	raw[9] = (uint8_t)expires_day;
	token_mac(key, raw, raw + BODY_LEN);
	b32_encode(raw, out);
	return SUP_OK;
}

sup_err
reply_token_check(const uint8_t key[REPLY_KEY_LEN], const char *token,
    size_t len, int64_t today, uint32_t *ticket_number, uint32_t *user_id)
{
	uint8_t raw[REPLY_TOKEN_BYTES], mac[MAC_LEN];
	int64_t day;

	if (token == NULL || len != REPLY_TOKEN_STRLEN ||
	    !b32_decode(token, raw))
		return SUP_EINVAL;
	token_mac(key, raw, mac);
	if (sodium_memcmp(mac, raw + BODY_LEN, MAC_LEN) != 0)
		return SUP_EUNAUTH;
	day = (int64_t)raw[8] << 8 | raw[9];
	if (day < today)
		return SUP_EFORBIDDEN;
	*ticket_number = be32_get(raw);
	*user_id = be32_get(raw + 4);
	return SUP_OK;
}

sup_err
reply_key_load(const struct sup_conf *conf, uint8_t key[REPLY_KEY_LEN])
{
	return token_key_load(conf, "reply-token", key);
}

sup_err
token_key_load(const struct sup_conf *conf, const char *context,
    uint8_t key[REPLY_KEY_LEN])
{
	uint8_t secret[REPLY_SECRET_MAX];
	size_t n = 0;
	ssize_t r;
	int fd;

	if (conf->secret_file == NULL || conf->secret_file[0] == '\0')
		return SUP_ECONFIG;
	if ((fd = open(conf->secret_file, O_RDONLY | O_CLOEXEC)) < 0)
		return SUP_ECONFIG;
	while (n < sizeof(secret)) {
		r = read(fd, secret + n, sizeof(secret) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			sodium_memzero(secret, sizeof(secret));
			return SUP_ECONFIG;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n < REPLY_SECRET_MIN) {
		sodium_memzero(secret, sizeof(secret));
		return SUP_ECONFIG;
	}
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, secret, n);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)context,
	    strlen(context));
	crypto_auth_hmacsha256_final(&st, key);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(secret, sizeof(secret));
	return SUP_OK;
}

int64_t
reply_day(int64_t now_us)
{
	int64_t d = now_us / (86400 * 1000000LL);

	/* Floor, not truncation, for a time before 1970. */
	if (now_us < 0 && d * 86400 * 1000000LL != now_us)
		d--;
	return d;
}

sup_err
reply_address(const char *support_email, const char *token, char **out)
{
	const char *at;

	*out = NULL;
	if (support_email == NULL || (at = strchr(support_email, '@')) ==
	    NULL || at == support_email || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL ||
	    strpbrk(support_email, " \t\r\n<>,\"") != NULL)
		return SUP_EINVAL;
	if (asprintf(out, "%.*s+%s%s", (int)(at - support_email),
	    support_email, token, at) < 0) {
		*out = NULL;
		return SUP_ENOMEM;
	}
	return SUP_OK;
}

bool
reply_token_find(const char *addr, const char **token, size_t *len)
{
	const char *end, *plus = NULL;

	if (addr == NULL)
		return false;
	if (*addr == '<')
		addr++;
	/* The local part ends at the last '@' (or '>' or the end). */
	end = strrchr(addr, '@');
	if (end == NULL)
		end = addr + strcspn(addr, ">");
	for (const char *p = addr; p < end; p++)
		if (*p == '+')
			plus = p;
	if (plus == NULL || plus + 1 >= end)
		return false;
	*token = plus + 1;
	*len = (size_t)(end - plus - 1);
	return true;
}
