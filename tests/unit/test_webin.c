/*
 * test_webin.c - the webhook in (lib/desk/webin.c) in a scratch store:
 * the signature against a vector made with Python's hmac, every way a
 * call is refused (off, missing, malformed, wrong, stale, future), the
 * Idempotency-Key's shape; then webin_receive: a new e-mail makes a
 * customer without a password and a ticket with channel webhook, a known
 * one (any case) is found, a taken username gets a number, a key replays
 * its answer and refuses another body, a refusal keeps no key, the limit
 * holds, a switched-off account is refused, a key expires and expired
 * keys are trimmed.  The store must pass store_verify at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "user.h"
#include "util.h"
#include "webin.h"

#include "tap.h"

#define LIMIT 3
#define DAY_US (86400 * 1000000LL)

static char dir[64];
static struct sup_conf conf;
static struct store st;

static void
report_line(void *ctx, const char *line)
{
	(void)ctx;
	diag("verify: %s", line);
}

static void
test_signature(void)
{
	static const char body[] = "{\"email\":\"a@b.c\"}";
	static const char want[] = "sha256=770b47a79a42c9971757a0ca6923ac24"
	    "bc6915e46b3a33836960fe434add34ed";
	char sig[WEBIN_SIG_STRLEN + 1], upper[WEBIN_SIG_STRLEN + 1];
	size_t n = strlen(body);
	int64_t t = 1700000000;

	webin_sign("whsec", 5, "1700000000", body, n, sig);
	is_str(sig, want, "webin_sign: Python's hmac gives the same");
	is_err(webin_verify("whsec", "1700000000", want, body, n, t), SUP_OK,
	    "a good signature");
	memcpy(upper, want, sizeof(upper));
	for (char *p = upper + 7; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	is_err(webin_verify("whsec", "1700000000", upper, body, n, t), SUP_OK,
	    "  in upper case too");
	is_err(webin_verify("whsec", "1700000000", want, body, n, t - 300),
	    SUP_OK, "  300 s ahead of the clock");
	is_err(webin_verify("whsec", "1700000000", want, body, n, t + 300),
	    SUP_OK, "  300 s behind it");
	is_err(webin_verify("whsec", "1700000000", want, body, n, t - 301),
	    WEBIN_ESTALE, "301 s ahead: stale");
	is_err(webin_verify("whsec", "1700000000", want, body, n, t + 301),
	    WEBIN_ESTALE, "301 s behind: stale");
	is_err(webin_verify("", "1700000000", want, body, n, t), WEBIN_EOFF,
	    "no secret: off");
	is_err(webin_verify(NULL, NULL, NULL, body, n, t), WEBIN_EOFF,
	    "  whatever is sent");
	is_err(webin_verify("other", "1700000000", want, body, n, t),
	    WEBIN_ESIGNATURE, "another secret");
	is_err(webin_verify("other", "1700000000", want, body, n, t + 9999),
	    WEBIN_ESIGNATURE, "  a stale call with it: only the signature said");
	is_err(webin_verify("whsec", "1700000001", want, body, n, t),
	    WEBIN_ESIGNATURE, "another timestamp");
	is_err(webin_verify("whsec", "1700000000", want, body, n - 1, t),
	    WEBIN_ESIGNATURE, "a body one byte short");
	is_err(webin_verify("whsec", NULL, want, body, n, t),
	    WEBIN_ESIGNATURE, "no timestamp");
	is_err(webin_verify("whsec", "1700000000", NULL, body, n, t),
	    WEBIN_ESIGNATURE, "no signature");
	{
		static const char *const bad_ts[] = { "", "-1700000000",
			"+1700000000", "17e8", " 1700000000", "1700000000 ",
			"1234567890123" };
		for (size_t i = 0; i < SUP_NELEM(bad_ts); i++)
			is_err(webin_verify("whsec", bad_ts[i], want, body, n,
			    t), WEBIN_ESIGNATURE, "timestamp \"%s\"", bad_ts[i]);
	}
	{
		char s[WEBIN_SIG_STRLEN + 8];
		snprintf(s, sizeof(s), "%s", want + 7);
		is_err(webin_verify("whsec", "1700000000", s, body, n, t),
		    WEBIN_ESIGNATURE, "no sha256= prefix");
		snprintf(s, sizeof(s), "SHA256=%s", want + 7);
		is_err(webin_verify("whsec", "1700000000", s, body, n, t),
		    WEBIN_ESIGNATURE, "SHA256= prefix");
		snprintf(s, sizeof(s), "%s0", want);
		is_err(webin_verify("whsec", "1700000000", s, body, n, t),
		    WEBIN_ESIGNATURE, "a digit too many");
		snprintf(s, sizeof(s), "%.*s", WEBIN_SIG_STRLEN - 1, want);
		is_err(webin_verify("whsec", "1700000000", s, body, n, t),
		    WEBIN_ESIGNATURE, "a digit short");
		snprintf(s, sizeof(s), "%.*sz", WEBIN_SIG_STRLEN - 1, want);
		is_err(webin_verify("whsec", "1700000000", s, body, n, t),
		    WEBIN_ESIGNATURE, "not hex");
	}
	ok(webin_key_valid("a") && webin_key_valid("order 42/x:y"),
	    "keys of printable ASCII");
	{
		char k[WEBIN_KEY_MAX + 2];
		memset(k, 'k', sizeof(k));
		k[WEBIN_KEY_MAX] = '\0';
		ok(webin_key_valid(k), "  200 of them");
		k[WEBIN_KEY_MAX] = 'k';
		k[WEBIN_KEY_MAX + 1] = '\0';
		ok(!webin_key_valid(k), "  not 201");
	}
	ok(!webin_key_valid("") && !webin_key_valid("a\tb") &&
	    !webin_key_valid("caf\xc3\xa9") && !webin_key_valid("a\x7f"),
	    "  not empty, control or non-ASCII ones");
}

/* A call with e-mail email and key (NULL: none) at now_us. */
static sup_err
call(const char *email, const char *name, const char *message,
    const char *key, int64_t now_us, struct webin_answer *a)
{
	char body[512];
	struct webin_call c = {
		.email = email, .name = name,
		.subject = "From the shop", .subject_len = 13,
		.message = message, .message_len = strlen(message),
		.key = key, .body = body,
	};

	c.body_len = (size_t)snprintf(body, sizeof(body), "%s|%s|%s", email,
	    name ? name : "", message);
	return webin_receive(&st, &conf, &c, now_us, a);
}

static json_object *
find_email(const char *email)
{
	json_object *rec = NULL;

	(void)user_find(&st, NULL, email, &rec);
	return rec;
}

/* ticket_show's answer (a text object, lib/text/jtext.h) as json-c's. */
static json_object *
reparse(json_object *t)
{
	const char *text = json_object_to_json_string_ext(t,
	    JSON_C_TO_STRING_PLAIN);
	json_object *o = text ? json_tokener_parse(text) : NULL;

	json_object_put(t);
	return o;
}

static const char *
str_of(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && v != NULL ?
	    json_object_get_string(v) : NULL;
}

/* The ticket's channel and owner's username, as staff see it. */
static void
ticket_check(const uint8_t uuid[UUID_LEN], const char *username,
    const char *what)
{
	struct sup_user admin;
	json_object *rec, *t = NULL, *u;

	if (user_find(&st, NULL, "boss", &rec) != SUP_OK ||
	    user_from_record(&admin, rec) != SUP_OK)
		bail_out("no admin");
	is_err(ticket_show(&st, &admin, uuid, &t), SUP_OK, "%s: the ticket",
	    what);
	t = reparse(t);
	is_str(str_of(t, "channel"), "webhook", "  channel webhook");
	u = NULL;
	json_object_object_get_ex(t, "user", &u);
	is_str(str_of(u, "username"), username, "  its owner");
	json_object_put(t);
	user_clear(&admin);
}

static void
test_receive(void)
{
	int64_t now = time_now_us();
	struct webin_answer a, b;
	json_object *rec;
	uint32_t id;

	if (user_create(&st, "boss", "boss@example.com", NULL, ROLE_ADMIN,
	    "secret", NULL) != SUP_OK ||
	    user_create(&st, "alice", "alice@example.com", NULL, ROLE_USER,
	    "secret", NULL) != SUP_OK ||
	    user_create(&st, "jane", "other@example.com", NULL, ROLE_USER,
	    "secret", NULL) != SUP_OK)
		bail_out("users");

	is_err(call("Jane@Example.org", "Jane Roe", "hello", NULL, now, &a),
	    SUP_OK, "a new e-mail");
	ok(a.status == 201 && a.made_user && !a.replayed, "  201, a user made");
	rec = find_email("jane@example.org");
	is_str(str_of(rec, "username"), "Jane-2",
	    "  username from the local part, made unique (jane is taken)");
	is_str(str_of(rec, "display_name"), "Jane Roe", "  the display name");
	is_str(str_of(rec, "role"), "user", "  a customer");
	ok(!user_verify_password(rec, "", 0) &&
	    !user_verify_password(rec, "Jane-2", 6), "  no password logs in");
	json_object_put(rec);
	ticket_check(a.ticket, "Jane-2", "the new one");

	is_err(call("ALICE@example.com", NULL, "hi", NULL, now, &a), SUP_OK,
	    "a known e-mail in another case");
	ok(!a.made_user, "  nobody made");
	ticket_check(a.ticket, "alice", "alice's");

	is_err(call("x@example.org", NULL, "", NULL, now, &a), SUP_OK,
	    "an empty message is the handler's to refuse");
	is_err(call("@example.org", NULL, "m", NULL, now, &a), SUP_EINVAL,
	    "a bad e-mail");
	is_err(call("+++@example.org", NULL, "m", NULL, now, &a), SUP_OK,
	    "a local part of symbols");
	rec = find_email("+++@example.org");
	is_str(str_of(rec, "username"), "+++", "  kept as the username");
	is_str(str_of(rec, "display_name"), "+++", "  and the display name");
	json_object_put(rec);
	is_err(call("\"q\"@example.org", NULL, "m", NULL, now, &a), SUP_OK,
	    "a local part of nothing a username takes");
	rec = find_email("\"q\"@example.org");
	is_str(str_of(rec, "username"), "q", "  what is left");
	json_object_put(rec);
	is_err(call("\"\"@example.org", NULL, "m", NULL, now, &a), SUP_OK,
	    "none left");
	rec = find_email("\"\"@example.org");
	is_str(str_of(rec, "username"), "customer", "  \"customer\"");
	json_object_put(rec);

	is_err(call("key@example.org", NULL, "once", "k1", now, &a), SUP_OK,
	    "a call with a key");
	is_err(call("key@example.org", NULL, "once", "k1", now + 1000, &b),
	    SUP_OK, "the same again");
	ok(b.replayed && b.status == 201 &&
	    memcmp(a.ticket, b.ticket, UUID_LEN) == 0, "  the first answer");
	is_err(call("key@example.org", NULL, "twice", "k1", now, &b),
	    WEBIN_EKEYREUSED, "the key with another body");
	is_err(call("key@example.org", NULL, "x", "bad\x01key", now, &b),
	    SUP_EINVAL, "a bad key");

	for (int i = 0; i < LIMIT; i++)
		is_err(call("many@example.org", NULL, "m", NULL, now, &b),
		    SUP_OK, "many: ticket %d", i + 1);
	is_err(call("many@example.org", NULL, "m", "k2", now, &b),
	    TICKET_ELIMIT, "over the limit");
	is_err(call("free@example.org", NULL, "m", "k2", now, &b), SUP_OK,
	    "  its key was not kept");

	rec = find_email("free@example.org");
	id = (uint32_t)json_object_get_int64(json_object_object_get(rec, "id"));
	json_object_put(rec);
	is_err(user_set_active(&st, 0, id, false), SUP_OK, "switched off");
	is_err(call("free@example.org", NULL, "m", NULL, now, &b),
	    WEBIN_EINACTIVE, "  a call for them: refused");

	is_err(call("key@example.org", NULL, "once", "k1",
	    now + DAY_US + 1000000, &b), SUP_OK, "the key a day later");
	ok(!b.replayed && memcmp(a.ticket, b.ticket, UUID_LEN) != 0,
	    "  expired: a new ticket");
	is_err(call("key@example.org", NULL, "once", "k1",
	    now + DAY_US + 2000000, &b), SUP_OK, "  and again");
	ok(b.replayed, "  the new answer held");
}

/* The records in file (webhook_keys.db, its time index). */
static int64_t
count_in(const char *file)
{
	DB **db = store_db_find(&st, file);
	int64_t n = -1;

	if (db != NULL)
		(void)store_count_db(*db, &n);
	return n;
}

static int64_t
keys_kept(void)
{
	return count_in("webhook_keys.db");
}

static void
test_trim(void)
{
	int64_t t0 = time_now_us() + 10 * DAY_US;
	struct webin_answer a;
	char key[32];

	conf.max_tickets_per_user = 0;
	/* The keys of test_receive, all expired by t0. */
	is_err(call("trim@example.org", NULL, "m", NULL, t0, &a), SUP_OK,
	    "a call ten days on");
	is_int(keys_kept(), 0, "  removes the expired keys");
	is_int(count_in("webhook_keys_by_time.db"), 0, "  and their times");

	for (int i = 0; i <= WEBIN_TRIM_BATCH; i++) {
		snprintf(key, sizeof(key), "a-%02d", i);
		if (call("trim@example.org", NULL, key, key, t0, &a) != SUP_OK)
			bail_out("trim call");
	}
	is_err(call("trim@example.org", NULL, "m", "k3", t0, &a), SUP_OK,
	    "%d keys, then k3", WEBIN_TRIM_BATCH + 1);
	is_err(call("trim@example.org", NULL, "m", "k3", t0 + DAY_US + 1000000,
	    &a), SUP_OK, "k3 a day later");
	ok(!a.replayed, "  expired: a new answer");
	is_int(keys_kept(), 2, "  the trim took the %d oldest (a-00 ...), "
	    "so a-%02d and k3 are kept", WEBIN_TRIM_BATCH, WEBIN_TRIM_BATCH);
	is_int(count_in("webhook_keys_by_time.db"), 3,
	    "  k3 at both its times");
	is_err(call("trim@example.org", NULL, "m", NULL, t0 + DAY_US + 2000000,
	    &a), SUP_OK, "another call");
	is_int(keys_kept(), 1, "  removes a-%02d; k3's older time goes, "
	    "its newer record stays", WEBIN_TRIM_BATCH);
	is_int(count_in("webhook_keys_by_time.db"), 1, "  k3's newer time");
	is_err(call("trim@example.org", NULL, "m", "k3", t0 + DAY_US + 3000000,
	    &a), SUP_OK, "k3 again");
	ok(a.replayed, "  its answer is still there");
	is_err(call("trim@example.org", NULL, "m", NULL, t0 + 3 * DAY_US, &a),
	    SUP_OK, "two days later");
	is_int(keys_kept() + count_in("webhook_keys_by_time.db"), 0,
	    "  nothing left");
}

int
main(void)
{
	long problems = 0;
	char extra[64];

	if (sodium_init() < 0)
		bail_out("sodium_init");
	snprintf(extra, sizeof(extra), "max_tickets_per_user = %d\n", LIMIT);
	tap_store_conf(dir, sizeof(dir), &conf, extra);
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	test_signature();
	test_receive();
	test_trim();
	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify");
	is_int(problems, 0, "  no problems");
	tap_rmtree(dir);
	return done_testing();
}
