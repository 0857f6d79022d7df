/*
 * test_replytoken.c - the signed reply address (lib/desk/replytoken.c): a
 * token made is checked back; forged, changed, truncated, overlong,
 * expired, upper-case and garbage tokens are refused with their error;
 * the key from secret_file (and the rating link's, another one); the
 * address made and found.  And the store's
 * side of mail in (lib/desk/mailin.c): the hourly count per sender, a
 * ticket by its number, the account of a sender, the Message-IDs of the
 * mails taken (a delivery again posts nothing; their scope, expiry and
 * trim, and their removal by a purge and an erasure).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "mailin.h"
#include "msg.h"
#include "ratelink.h"
#include "replytoken.h"
#include "sup.h"
#include "ticket.h"
#include "user.h"
#include "view.h"

#include "tap.h"

static uint8_t key[REPLY_KEY_LEN];

static void
test_roundtrip(void)
{
	char tok[REPLY_TOKEN_STRLEN + 1];
	uint32_t n = 0, u = 0;

	is_err(reply_token_make(key, 42, 7, 20000, tok), SUP_OK, "make");
	is_int(strlen(tok), REPLY_TOKEN_STRLEN, "32 characters");
	ok(strspn(tok, "abcdefghijklmnopqrstuvwxyz234567") == REPLY_TOKEN_STRLEN,
	    "of the lower-case base32 alphabet: %s", tok);
	is_err(reply_token_check(key, tok, strlen(tok), 19999, &n, &u), SUP_OK,
	    "checked before its day");
	is_int(n, 42, "ticket number back");
	is_int(u, 7, "user id back");
	is_err(reply_token_check(key, tok, strlen(tok), 20000, &n, &u), SUP_OK,
	    "good through its day");
	n = u = 0;
	is_err(reply_token_check(key, tok, strlen(tok), 20001, &n, &u),
	    SUP_EFORBIDDEN, "expired the day after");
	ok(n == 0 && u == 0, "an expired token sets nothing");
	is_err(reply_token_make(key, UINT32_MAX, UINT32_MAX, 65535, tok), SUP_OK,
	    "the largest values");
	is_err(reply_token_check(key, tok, strlen(tok), 0, &n, &u), SUP_OK,
	    "and back");
	ok(n == UINT32_MAX && u == UINT32_MAX, "numbers in full");
	is_err(reply_token_make(key, 1, 1, 65536, tok), SUP_EINVAL,
	    "a day past 2149 refused");
	is_str(tok, "", "out empty then");
	is_err(reply_token_make(key, 1, 1, -1, tok), SUP_EINVAL,
	    "a day before 1970 refused");
}

static void
test_refused(void)
{
	char tok[REPLY_TOKEN_STRLEN + 1], bad[REPLY_TOKEN_STRLEN + 2];
	uint8_t other[REPLY_KEY_LEN];
	uint32_t n = 0, u = 0;

	reply_token_make(key, 42, 7, 20000, tok);
	/* Each character changed in turn: never taken. */
	int refused = 0;
	for (size_t i = 0; i < REPLY_TOKEN_STRLEN; i++) {
		memcpy(bad, tok, sizeof(tok));
		bad[i] = bad[i] == 'a' ? 'b' : 'a';
		if (reply_token_check(key, bad, REPLY_TOKEN_STRLEN, 0, &n, &u) ==
		    SUP_EUNAUTH)
			refused++;
	}
	is_int(refused, REPLY_TOKEN_STRLEN,
	    "a token with any one character changed is forged (EUNAUTH)");
	memset(other, 0x5a, sizeof(other));
	is_err(reply_token_check(other, tok, strlen(tok), 0, &n, &u),
	    SUP_EUNAUTH, "another desk's key refuses it");
	is_err(reply_token_check(key, tok, REPLY_TOKEN_STRLEN - 1, 0, &n, &u),
	    SUP_EINVAL, "truncated by one");
	is_err(reply_token_check(key, tok, 0, 0, &n, &u), SUP_EINVAL, "empty");
	is_err(reply_token_check(key, NULL, 0, 0, &n, &u), SUP_EINVAL, "NULL");
	memcpy(bad, tok, sizeof(tok));
	bad[REPLY_TOKEN_STRLEN] = 'a';
	bad[REPLY_TOKEN_STRLEN + 1] = '\0';
	is_err(reply_token_check(key, bad, REPLY_TOKEN_STRLEN + 1, 0, &n, &u),
	    SUP_EINVAL, "one character too many");
	for (size_t i = 0; i < REPLY_TOKEN_STRLEN; i++)
		bad[i] = (char)(tok[i] >= 'a' && tok[i] <= 'z' ? tok[i] - 32 :
		    tok[i]);
	is_err(reply_token_check(key, bad, REPLY_TOKEN_STRLEN, 0, &n, &u),
	    SUP_EINVAL, "the same token in upper case is refused");
	static const char garbage[] = "018=-_.+@ \n\t";
	int g = 0;
	for (size_t i = 0; i < sizeof(garbage) - 1; i++) {
		memcpy(bad, tok, sizeof(tok));
		bad[5] = garbage[i];
		if (reply_token_check(key, bad, REPLY_TOKEN_STRLEN, 0, &n, &u) ==
		    SUP_EINVAL)
			g++;
	}
	memcpy(bad, tok, sizeof(tok));
	bad[9] = '\0';
	if (reply_token_check(key, bad, REPLY_TOKEN_STRLEN, 0, &n, &u) ==
	    SUP_EINVAL)
		g++;
	is_int(g, (int)sizeof(garbage), "characters outside the alphabet "
	    "(0, 1, 8, =, -, NUL, ...) are EINVAL");
	ok(n == 0 && u == 0, "nothing set by a refused token");
}

static void
test_key(void)
{
	char dir[64], path[4096], text[256];
	struct sup_conf conf;
	uint8_t k1[REPLY_KEY_LEN], k2[REPLY_KEY_LEN];

	tap_store_conf(dir, sizeof(dir), &conf, "");
	is_err(reply_key_load(&conf, k1), SUP_ECONFIG, "secret_file unset");
	free(conf.secret_file);
	snprintf(path, sizeof(path), "%s/none", dir);
	conf.secret_file = strdup(path);
	is_err(reply_key_load(&conf, k1), SUP_ECONFIG, "secret_file missing");
	free(conf.secret_file);
	tap_write_file(path, sizeof(path), dir, "short",
	    "0123456789012345678901234567890");
	conf.secret_file = strdup(path);
	is_err(reply_key_load(&conf, k1), SUP_ECONFIG, "31 bytes: too short");
	free(conf.secret_file);
	tap_write_file(path, sizeof(path), dir, "good",
	    "01234567890123456789012345678901");
	conf.secret_file = strdup(path);
	is_err(reply_key_load(&conf, k1), SUP_OK, "32 bytes: a key");
	is_err(reply_key_load(&conf, k2), SUP_OK, "again");
	ok(memcmp(k1, k2, sizeof(k1)) == 0, "the same secret, the same key");
	free(conf.secret_file);
	tap_write_file(path, sizeof(path), dir, "good2",
	    "01234567890123456789012345678902");
	conf.secret_file = strdup(path);
	is_err(reply_key_load(&conf, k2), SUP_OK, "another secret");
	ok(memcmp(k1, k2, sizeof(k1)) != 0, "another key");
	{
		/* The rating link's key: another context, another key. */
		uint8_t rk[REPLY_KEY_LEN];
		char tok[REPLY_TOKEN_STRLEN + 1];
		uint32_t n, u;

		is_err(ratelink_key_load(&conf, rk), SUP_OK,
		    "the rating link's key from the same secret");
		ok(memcmp(rk, k2, sizeof(rk)) != 0,
		    "  is not the reply key (HMAC(secret, \"rating-token\"))");
		is_err(ratelink_make(rk, 12, 34, 20000, tok), SUP_OK,
		    "a rating token");
		is_err(reply_token_check(rk, tok, strlen(tok), 19999, &n, &u),
		    SUP_OK, "  checked with its key");
		ok(n == 12 && u == 34, "  names its ticket and user");
		is_err(reply_token_check(k2, tok, strlen(tok), 19999, &n, &u),
		    SUP_EUNAUTH, "  is forged for the reply key");
		is_err(reply_token_make(k2, 12, 34, 20000, tok), SUP_OK,
		    "a reply token of the same ticket and user");
		is_err(reply_token_check(rk, tok, strlen(tok), 19999, &n, &u),
		    SUP_EUNAUTH, "  is forged for the rating key");
	}
	/* Not the secret itself: HMAC(secret, "reply-token"). */
	ok(memcmp(k1, "01234567890123456789012345678901", 32) != 0,
	    "the key is not the secret");
	snprintf(text, sizeof(text), "[support]\nsecret_file = relative\n");
	tap_write_file(path, sizeof(path), dir, "rel.conf", text);
	conf_free(&conf);
	is_err(conf_load(&conf, path), SUP_ECONFIG,
	    "secret_file must be an absolute path");
	conf_free(&conf);
	tap_rmtree(dir);
}

static void
test_address(void)
{
	char *a = NULL;
	const char *t;
	size_t n;

	is_err(reply_address("help@example.com", "abc", &a), SUP_OK, "address");
	is_str(a, "help+abc@example.com", "local+token@domain");
	free(a);
	is_err(reply_address("", "abc", &a), SUP_EINVAL, "no support_email");
	is_err(reply_address("help", "abc", &a), SUP_EINVAL, "no domain");
	is_err(reply_address("a@b@c", "abc", &a), SUP_EINVAL, "two @");
	is_err(reply_address("Help <h@x>", "abc", &a), SUP_EINVAL,
	    "a name and address");
	ok(reply_token_find("help+abc@example.com", &t, &n) && n == 3 &&
	    memcmp(t, "abc", 3) == 0, "token found");
	ok(reply_token_find("<help+x+abc@example.com>", &t, &n) && n == 3 &&
	    memcmp(t, "abc", 3) == 0, "after the last +, in <>");
	ok(reply_token_find("help+abc", &t, &n) && n == 3,
	    "a local part alone");
	ok(!reply_token_find("help@example.com", &t, &n), "no +: none");
	ok(!reply_token_find("help+@example.com", &t, &n), "nothing after +");
	ok(!reply_token_find("help@ex+ample.com", &t, &n),
	    "a + in the domain is not a token");
	is_int(reply_day(0), 0, "day 0");
	is_int(reply_day(86400 * 1000000LL - 1), 0, "its last µs");
	is_int(reply_day(86400 * 1000000LL), 1, "day 1");
	is_int(reply_day(-1), -1, "before 1970: floor");
}

static void
test_store(void)
{
	char dir[64];
	struct sup_conf conf;
	struct store st;
	struct sup_user u, u2;
	struct ticket_new tn = { .subject = "s", .subject_len = 1,
		.content = "c", .content_len = 1, .priority = PRI_NORMAL,
		.channel = CH_EMAIL };
	uint8_t uuid[UUID_LEN];
	json_object *t;
	bool over;
	int64_t hour = 1000 * 3600 * 1000000LL;
	int taken = 0;

	tap_store_conf(dir, sizeof(dir), &conf, "");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	for (int i = 0; i < 4; i++) {
		if (mailin_rate_take(&st, i % 2 ? "A@x.org" : "a@X.ORG", hour, 3,
		    &over) == SUP_OK && !over)
			taken++;
	}
	is_int(taken, 3, "3 an hour taken, the 4th over (either case)");
	is_err(mailin_rate_take(&st, "b@x.org", hour, 3, &over), SUP_OK,
	    "another sender");
	ok(!over, "counted on its own");
	is_err(mailin_rate_take(&st, "a@x.org", hour + 3600 * 1000000LL, 3,
	    &over), SUP_OK, "the next hour");
	ok(!over, "a new count");
	int64_t n = -1;
	store_count_db(store_db(&st, AREA_MAILIN, 0), &n);
	is_int(n, 1, "the earlier hour's entries are swept");
	is_err(mailin_rate_take(&st, "", hour, 3, &over), SUP_EINVAL,
	    "an empty sender");


	is_err(mailin_user(&st, "new@x.org", "New One", false, &u),
	    SUP_ENOTFOUND, "an unknown sender without create");
	is_err(mailin_user(&st, "not an address", NULL, true, &u), SUP_EINVAL,
	    "not an address");
	is_err(user_create(&st, "other@x.org", "someone@else.org", NULL,
	    ROLE_USER, "pw-12345678", NULL), SUP_OK,
	    "a user whose username is an address");
	is_err(mailin_user(&st, "other@x.org", NULL, false, &u), SUP_ENOTFOUND,
	    "a username is not the account of that address");
	is_err(mailin_user(&st, "other@x.org", NULL, true, &u), SUP_EEXIST,
	    "nor can one be made for it");
	is_err(mailin_user(&st, "New@X.org", "New One", true, &u), SUP_OK,
	    "an unknown sender made");
	ok(u.role == ROLE_USER && u.id != 0, "a customer");
	is_err(mailin_user(&st, "new@x.org", NULL, false, &u2), SUP_OK,
	    "found again, either case");
	is_int(u2.id, u.id, "the same account");
	user_clear(&u2);
	is_err(mailin_user(&st, "we!rd#x@x.org", NULL, true, &u2), SUP_OK,
	    "an address no username can be");
	is_str(rec_str(u2.rec, "username"), "we_rd_x@x.org", "its name");
	user_clear(&u2);

	is_err(ticket_create(&st, &conf, &u, &tn, &t), SUP_OK, "a ticket");
	json_object_put(t);
	memset(uuid, 0, sizeof(uuid));
	is_err(mailin_ticket_uuid(&st, 1, uuid), SUP_OK, "ticket 1 found");
	ok(memcmp(uuid, tn.uuid, UUID_LEN) == 0, "its uuid");
	is_err(mailin_ticket_uuid(&st, 2, uuid), SUP_ENOTFOUND, "no ticket 2");
	user_clear(&u);
	store_close(&st);
	conf_free(&conf);
	tap_rmtree(dir);
}

/* The records of mail_seen (the area's second database). */
static int64_t
seen_count(struct store *st)
{
	int64_t n = -1;

	store_count_db(store_db(st, AREA_MAILIN, 1), &n);
	return n;
}

static void
test_seen(void)
{
	char dir[64];
	struct sup_conf conf;
	struct store st;
	struct sup_user u, staff;
	struct ticket_new tn = { .subject = "s", .subject_len = 1,
		.content = "c", .content_len = 1, .priority = PRI_NORMAL,
		.channel = CH_EMAIL };
	struct mailin_take t = { 0 };
	uint8_t k1[MAILIN_SEEN_KEY_LEN], k2[MAILIN_SEEN_KEY_LEN];
	uint8_t k3[MAILIN_SEEN_KEY_LEN], ticket[UUID_LEN], first[UUID_LEN];
	uint8_t msg[UUID_LEN];
	char etag[ETAG_MAX];
	int64_t now = 1800000000LL * 1000000LL, ttl = MAILIN_SEEN_TTL_S *
	    1000000LL;
	long n = 0;
	json_object *rec;

	ok(!mailin_seen_key("a@x.org", NULL, 0, k1), "no Message-ID: no key");
	ok(!mailin_seen_key("a@x.org", " <> ", 0, k1), "an empty one: none");
	ok(mailin_seen_key("a@x.org", "abc@Host.Example", 0, k1), "a key");
	ok(mailin_seen_key("A@X.ORG", "<abc@host.example> ", 0, k2) &&
	    memcmp(k1, k2, sizeof(k1)) == 0,
	    "the same: <>, spaces, the domain's and the address's case");
	ok(mailin_seen_key("a@x.org", "ABC@host.example", 0, k2) &&
	    memcmp(k1, k2, sizeof(k1)) != 0, "the left part's case counts");
	ok(mailin_seen_key("b@x.org", "abc@host.example", 0, k2) &&
	    memcmp(k1, k2, sizeof(k1)) != 0, "another sender: another key");
	ok(mailin_seen_key("a@x.org", "abc@host.example", 1, k2) &&
	    memcmp(k1, k2, sizeof(k1)) != 0, "a reply: another key");
	ok(mailin_seen_key("a@x.org", "abc@host.example", 2, k3) &&
	    memcmp(k2, k3, sizeof(k2)) != 0, "to another ticket: another");

	tap_store_conf(dir, sizeof(dir), &conf, "");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	is_err(mailin_user(&st, "a@x.org", NULL, true, &u), SUP_OK, "a user");
	is_err(user_create(&st, "staffer", "s@x.org", NULL, ROLE_AGENT,
	    "pw-12345678", NULL), SUP_OK, "an agent");
	is_err(mailin_user(&st, "s@x.org", NULL, false, &staff), SUP_OK,
	    "found");

	mailin_seen_key("a@x.org", "abc@host.example", 0, k1);
	t = (struct mailin_take){ .key = k1, .key_user = u.id, .now_us = now };
	is_err(mailin_new_ticket(&st, &conf, &u, &tn, &t), SUP_OK,
	    "a new mail's ticket");
	ok(!t.duplicate, "not a duplicate");
	ok(memcmp(t.ticket, tn.uuid, UUID_LEN) == 0, "its ticket");
	ok(memcmp(t.message, tn.message, UUID_LEN) == 0,
	    "its first message");
	memcpy(ticket, t.ticket, UUID_LEN);
	memcpy(first, t.message, UUID_LEN);
	is_err(mailin_seen_get(&st, NULL, k1, now + 1, msg), SUP_OK,
	    "the key is kept");
	ok(memcmp(msg, first, UUID_LEN) == 0, "with its message");
	t = (struct mailin_take){ .key = k1, .key_user = u.id,
		.now_us = now + 10 };
	is_err(mailin_new_ticket(&st, &conf, &u, &tn, &t), SUP_OK,
	    "the same mail again: answered");
	ok(t.duplicate, "a duplicate");
	ok(memcmp(t.message, first, UUID_LEN) == 0, "of the first message");
	is_err(mailin_ticket_uuid(&st, 2, msg), SUP_ENOTFOUND,
	    "one ticket, not two");

	mailin_seen_key("a@x.org", "r1@host.example", 1, k2);
	t = (struct mailin_take){ .key = k2, .key_user = u.id,
		.now_us = now + 20 };
	is_err(mailin_reply(&st, &u, ticket, "re", 2, NULL, &t), SUP_OK, "a reply");
	ok(!t.duplicate, "posted");
	t.duplicate = false;
	is_err(mailin_reply(&st, &u, ticket, "re", 2, NULL, &t), SUP_OK,
	    "the same reply again");
	ok(t.duplicate, "a duplicate, nothing posted");
	mailin_seen_key("s@x.org", "r1@host.example", 1, k3);
	t = (struct mailin_take){ .key = k3, .key_user = staff.id,
		.now_us = now + 30 };
	is_err(mailin_reply(&st, &u, ticket, "re", 2, NULL, &t), SUP_OK,
	    "its Message-ID from another sender");
	ok(!t.duplicate, "is posted");
	t = (struct mailin_take){ .key = NULL, .now_us = now + 40 };
	is_err(mailin_reply(&st, &u, ticket, "re", 2, NULL, &t), SUP_OK,
	    "no Message-ID");
	is_err(mailin_reply(&st, &u, ticket, "re", 2, NULL, &t), SUP_OK,
	    "no Message-ID, again");
	ok(!t.duplicate, "posted each time");
	is_err(msg_list(&st, &u, ticket, NULL, NULL, etag, &rec), SUP_OK,
	    "the thread");
	is_int(json_object_array_length(rec), 5,
	    "the first, a reply, staff's, two without id");
	json_object_put(rec);
	is_int(seen_count(&st), 3, "three keys kept");

	is_err(mailin_seen_get(&st, NULL, k1, now + ttl + 1, NULL),
	    SUP_ENOTFOUND, "expired after MAILIN_SEEN_TTL_S");
	t = (struct mailin_take){ .key = k1, .key_user = u.id,
		.now_us = now + ttl + 25 };
	is_err(mailin_reply(&st, &u, ticket, "again", 5, NULL, &t), SUP_OK,
	    "an expired key is taken again");
	ok(!t.duplicate, "not a duplicate");
	is_int(seen_count(&st), 2, "the trim removed the two expired ones, "
	    "the key written again stays");

	is_err(mailin_seen_forget_user(&st, staff.id, &n), SUP_OK,
	    "an erasure of the agent");
	is_int(n, 1, "its one key");
	is_int(seen_count(&st), 1, "the other stays");
	{
		DB_TXN *txn;

		st.env->txn_begin(st.env, NULL, &txn, 0);
		n = 0;
		is_err(mailin_seen_forget_ticket(&st, txn, ticket, &n), SUP_OK,
		    "a purge of the ticket");
		txn->commit(txn, 0);
	}
	is_int(n, 1, "its key");
	is_int(seen_count(&st), 0, "none left");
	for (unsigned i = 2; i <= 4; i++) {
		int64_t c = -1;
		store_count_db(store_db(&st, AREA_MAILIN, i), &c);
		is_int(c, 0, "index %u empty too", i);
	}
	user_clear(&u);
	user_clear(&staff);
	store_close(&st);
	conf_free(&conf);
	tap_rmtree(dir);
}

int
main(void)
{
	if (sodium_init() < 0)
		bail_out("sodium_init");
	randombytes_buf(key, sizeof(key));
	test_roundtrip();
	test_refused();
	test_key();
	test_address();
	test_store();
	test_seen();
	return done_testing();
}
