/*
 * webin.c - the webhook in (webin.h): signatures, the keys of the answers
 * given, and the call's one transaction.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "areas.h"
#include "ticket.h"
#include "user.h"
#include "util.h"
#include "webin.h"

static const struct sup_errdef webin_errdefs[] = {
	{ WEBIN_EOFF, SUP_EUNAUTH, "webhook_off",
	    "Webhooks in are off: support.conf sets no webhook_secret.",
	    NULL, NULL },
	{ WEBIN_ESIGNATURE, SUP_EUNAUTH, "bad_signature",
	    "The call is not signed: X-Support-Timestamp or "
	    "X-Support-Signature is missing, malformed or wrong.", NULL,
	    NULL },
	{ WEBIN_ESTALE, SUP_EUNAUTH, "stale_timestamp",
	    "X-Support-Timestamp is more than 300 seconds from the desk's "
	    "clock.", NULL, NULL },
	{ WEBIN_EKEYREUSED, SUP_ECONFLICT, "idempotency_key_reused",
	    "This Idempotency-Key was sent before with another body.", NULL,
	    NULL },
	{ WEBIN_EINACTIVE, SUP_EFORBIDDEN, "account_disabled",
	    "The account with this e-mail is switched off.", NULL, NULL },
};
SUP_ERRORS(webin_errors, SUP_AREA_WEBIN, webin_errdefs)

/*
 * The webhook in's area of the store.  Keys:
 *   webhook_keys          the Idempotency-Key as sent  -> {"ticket_id",
 *                         "status", "sha256" (of the body, hex),
 *                         "created_us"}
 *   webhook_keys_by_time  created_us(8, BE) key        -> "" (by hand)
 * The second is the order of expiry: each call removes the oldest
 * expired keys from its front, a few at a time, in its own transaction.
 */
enum webin_db { WDB_KEYS, WDB_BY_TIME, WEBIN_NDB };

static inline DB *
wdb(const struct store *s, enum webin_db i)
{
	return store_db(s, AREA_WEBIN, i);
}

static const struct store_db webin_dbs[WEBIN_NDB] = {
	[WDB_KEYS] = { .file = "webhook_keys.db", .type = DB_BTREE },
	[WDB_BY_TIME] = { .file = "webhook_keys_by_time.db", .type = DB_BTREE,
		.kind = STORE_BY_HAND, .primary = WDB_KEYS },
};

const struct store_area webin_area = {
	.name = "webhook in",
	.db = webin_dbs,
	.ndb = WEBIN_NDB,
};

/* --- Signatures ------------------------------------------------------ */

/* The HMAC of "<ts>.<body>" under secret into mac. */
static void
mac_of(const char *secret, size_t slen, const char *ts, const char *body,
    size_t len, uint8_t mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const uint8_t *)secret, slen);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

void
webin_sign(const char *secret, size_t slen, const char *ts, const char *body,
    size_t len, char out[WEBIN_SIG_STRLEN + 1])
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];

	mac_of(secret, slen, ts, body, len, mac);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, WEBIN_SIG_STRLEN + 1 - 7, mac, sizeof(mac));
}

sup_err
webin_verify(const char *secret, const char *ts, const char *sig,
    const char *body, size_t len, int64_t now_s)
{
	uint8_t want[crypto_auth_hmacsha256_BYTES];
	uint8_t got[crypto_auth_hmacsha256_BYTES];
	size_t n;
	long t;
	int hi, lo, bad;

	if (secret == NULL || *secret == '\0')
		return WEBIN_EOFF;
	if (ts == NULL || sig == NULL)
		return WEBIN_ESIGNATURE;
	n = strlen(ts);
	if (n == 0 || n > WEBIN_TS_MAX || strspn(ts, "0123456789") != n ||
	    !parse_long(ts, 0, 999999999999L, &t))
		return WEBIN_ESIGNATURE;
	if (strlen(sig) != WEBIN_SIG_STRLEN || memcmp(sig, "sha256=", 7) != 0)
		return WEBIN_ESIGNATURE;
	for (size_t i = 0; i < sizeof(got); i++) {
		hi = hexval(sig[7 + 2 * i]);
		lo = hexval(sig[8 + 2 * i]);
		if (hi < 0 || lo < 0)
			return WEBIN_ESIGNATURE;
		got[i] = (uint8_t)(hi << 4 | lo);
	}
	mac_of(secret, strlen(secret), ts, body, len, want);
	bad = crypto_verify_32(want, got);
	sodium_memzero(want, sizeof(want));
	if (bad != 0)
		return WEBIN_ESIGNATURE;
	if ((int64_t)t < now_s - WEBIN_WINDOW_S ||
	    (int64_t)t > now_s + WEBIN_WINDOW_S)
		return WEBIN_ESTALE;
	return SUP_OK;
}

bool
webin_key_valid(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > WEBIN_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7e)
			return false;
	return true;
}

/* --- The keys -------------------------------------------------------- */

/* The key of key's entry in webhook_keys_by_time into buf (8 + n). */
static size_t
time_key(uint8_t *buf, int64_t created_us, const char *key, size_t n)
{
	be64_put(buf, (uint64_t)created_us);
	memcpy(buf + 8, key, n);
	return 8 + n;
}

/* A stored key's "created_us", or -1 when the record has none. */
static int64_t
rec_created(json_object *rec)
{
	json_object *v;

	return json_object_object_get_ex(rec, "created_us", &v) ?
	    json_object_get_int64(v) : -1;
}

/*
 * Remove up to WEBIN_TRIM_BATCH keys created before `before` (µs), oldest
 * first.  A key sent again after it expired has a newer record; its old
 * entry in the time index is removed without it.
 */
static sup_err
trim(struct store *s, DB_TXN *txn, int64_t before)
{
	DB *idx = wdb(s, WDB_BY_TIME), *keys = wdb(s, WDB_KEYS);
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	json_object *rec;
	DBC *c;
	sup_err e = SUP_OK;
	int rc, n = 0;

	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	for (rc = c->get(c, &k, &d, DB_FIRST | DB_RMW);
	    rc == 0 && n < WEBIN_TRIM_BATCH && k.size > 8 &&
	    (int64_t)be64_get(k.data) < before;
	    rc = c->get(c, &k, &d, DB_NEXT | DB_RMW), n++) {
		const char *key = (const char *)k.data + 8;
		size_t klen = k.size - 8;

		e = store_get(keys, txn, key, klen, DB_RMW, &rec);
		if (e == SUP_OK && rec_created(rec) ==
		    (int64_t)be64_get(k.data)) {
			DBT pk = { .data = (void *)key, .size = (u_int32_t)klen };
			if ((rc = keys->del(keys, txn, &pk, 0)) != 0)
				e = store_err(rc, "webhook key");
		} else if (e == SUP_ENOTFOUND)
			e = SUP_OK;
		json_object_put(rec);
		if (e != SUP_OK)
			break;
		if ((rc = c->del(c, 0)) != 0) {
			e = store_err(rc, "webhook key time");
			break;
		}
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "webhook keys");
	c->close(c);
	free(k.data);
	free(d.data);
	return e;
}

/* Keep key's answer a. */
static sup_err
key_put(struct store *s, DB_TXN *txn, const char *key, const char *sha,
    int64_t now_us, const struct webin_answer *a)
{
	uint8_t tk[8 + WEBIN_KEY_MAX];
	char id[UUID_STRLEN + 1];
	json_object *rec;
	size_t n = strlen(key);
	DBT k, d = { .data = "", .size = 0 };
	sup_err e;
	int rc;

	uuid_format(a->ticket, id);
	if ((rec = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if (!json_set(rec, "ticket_id", json_object_new_string(id)) ||
	    !json_set(rec, "status", json_object_new_int(a->status)) ||
	    !json_set(rec, "sha256", json_object_new_string(sha)) ||
	    !json_set(rec, "created_us", json_object_new_int64(now_us)))
		e = SUP_ENOMEM;
	else
		e = store_put(wdb(s, WDB_KEYS), txn, key, n, rec, 0);
	json_object_put(rec);
	if (e != SUP_OK)
		return e;
	k = (DBT){ .data = tk, .size = (u_int32_t)time_key(tk, now_us, key,
	    n) };
	if ((rc = wdb(s, WDB_BY_TIME)->put(wdb(s, WDB_BY_TIME), txn, &k, &d,
	    0)) != 0)
		return store_err(rc, "webhook key time");
	return SUP_OK;
}

/*
 * The answer kept for key, when it is there and not expired: SUP_OK and
 * a filled (replayed) when its body's hash is sha; WEBIN_EKEYREUSED when
 * it is another; SUP_ENOTFOUND when there is none.
 */
static sup_err
key_get(struct store *s, DB_TXN *txn, const char *key, const char *sha,
    int64_t now_us, struct webin_answer *a)
{
	json_object *rec, *v;
	sup_err e;

	e = store_get(wdb(s, WDB_KEYS), txn, key, strlen(key), DB_RMW, &rec);
	if (e != SUP_OK)
		return e;
	if (rec_created(rec) < now_us - WEBIN_KEY_TTL_S * 1000000LL)
		e = SUP_ENOTFOUND;
	else if (!json_object_object_get_ex(rec, "sha256", &v) ||
	    strcmp(json_object_get_string(v), sha) != 0)
		e = WEBIN_EKEYREUSED;
	else if (!json_object_object_get_ex(rec, "ticket_id", &v) ||
	    !uuid_parse(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), a->ticket))
		e = SUP_EDB;
	else {
		json_object_object_get_ex(rec, "status", &v);
		a->status = v != NULL ? json_object_get_int(v) : 201;
		a->replayed = true;
	}
	json_object_put(rec);
	return e;
}

/* --- The call -------------------------------------------------------- */

struct receive_args {
	const struct sup_conf *conf;
	const struct webin_call *c;
	const char *key;	/* c->key, or the signature's key; NULL */
	char sigkey[WEBIN_SIG_STRLEN + 2];
	char sha[2 * crypto_hash_sha256_BYTES + 1];
	int64_t now_us;
	struct webin_answer *a;
};

static sup_err
receive_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct receive_args *ra = arg;
	const struct webin_call *c = ra->c;
	struct webin_answer *a = ra->a;
	struct sup_user u = { 0 };
	struct ticket_new in;
	json_object *rec;
	sup_err e;

	memset(a, 0, sizeof(*a));
	if ((e = trim(s, txn, ra->now_us - WEBIN_KEY_TTL_S * 1000000LL)) !=
	    SUP_OK)
		return e;
	if (ra->key != NULL && (e = key_get(s, txn, ra->key, ra->sha,
	    ra->now_us, a)) != SUP_ENOTFOUND)
		return e;
	if ((e = user_for_email(s, txn, c->email, c->name, &rec,
	    &a->made_user)) != SUP_OK)
		return e;
	if (!user_is_active(rec)) {
		json_object_put(rec);
		return WEBIN_EINACTIVE;
	}
	if ((e = user_from_record(&u, rec)) != SUP_OK)
		return e;
	in = (struct ticket_new){
		.subject = c->subject, .subject_len = c->subject_len,
		.content = c->message, .content_len = c->message_len,
		.priority = PRI_NORMAL, .channel = CH_WEBHOOK,
	};
	if ((e = ticket_create_in(s, txn, ra->conf, &u, &in)) != SUP_OK)
		goto out;
	memcpy(a->ticket, in.uuid, UUID_LEN);
	a->status = 201;
	if (ra->key != NULL)
		e = key_put(s, txn, ra->key, ra->sha, ra->now_us, a);
out:
	user_clear(&u);
	return e;
}

sup_err
webin_receive(struct store *s, const struct sup_conf *conf,
    const struct webin_call *c, int64_t now_us, struct webin_answer *a)
{
	struct receive_args ra = { .conf = conf, .c = c, .now_us = now_us,
		.a = a };
	uint8_t h[crypto_hash_sha256_BYTES];

	if (c->key != NULL && !webin_key_valid(c->key))
		return SUP_EINVAL;
	ra.key = c->key;
	if (c->key == NULL && c->sig != NULL &&
	    strlen(c->sig) == WEBIN_SIG_STRLEN) {
		/* Its hex in lower case (either is taken), after a tab no
		 * Idempotency-Key may hold. */
		ra.sigkey[0] = '\t';
		for (size_t i = 0; i < WEBIN_SIG_STRLEN; i++)
			ra.sigkey[i + 1] = (char)tolower((unsigned char)
			    c->sig[i]);
		ra.sigkey[WEBIN_SIG_STRLEN + 1] = '\0';
		ra.key = ra.sigkey;
	}
	crypto_hash_sha256(h, (const uint8_t *)c->body, c->body_len);
	sodium_bin2hex(ra.sha, sizeof(ra.sha), h, sizeof(h));
	return store_run(s, 0, receive_txn, &ra);
}
