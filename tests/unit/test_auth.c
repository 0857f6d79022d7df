/*
 * test_auth.c - who is asking (lib/auth.c, accounts and tokens of
 * lib/user.c): HTTP Basic by username or e-mail, bearer tokens, and
 * REMOTE_USER only when the configuration trusts the server.
 *
 * argon2id is slow on purpose, so the password checks here are few.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "auth.h"
#include "conf.h"
#include "req.h"
#include "store.h"
#include "sup.h"
#include "user.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;
static struct store st;
static uint32_t alice_id, agent_id, carol_id;

/* A password with a colon: only the first one in "name:password" splits. */
#define ALICE_PW "correct:horse battery"

static sup_err
deactivate_fn(struct store *s, DB_TXN *txn, void *arg)
{
	uint32_t id = *(uint32_t *)arg;
	uint8_t key[4];
	json_object *rec;
	sup_err e;

	if ((e = user_get(s, txn, id, &rec)) != SUP_OK)
		return e;
	json_object_object_add(rec, "is_active", json_object_new_boolean(0));
	be32_put(key, id);
	e = store_put(s->users, txn, key, sizeof(key), rec, 0);
	json_object_put(rec);
	return e;
}

static void
setup(void)
{
	tap_store_conf(dir, sizeof(dir), &conf, "");
	if (store_open(&st, &conf) != SUP_OK)
		bail_out("store_open");
	if (user_create(&st, "alice", "Alice@Example.com", "Alice", ROLE_USER,
	    ALICE_PW, &alice_id) != SUP_OK ||
	    user_create(&st, "agent", "agent@example.com", NULL, ROLE_AGENT,
	    "agent-pw", &agent_id) != SUP_OK ||
	    user_create(&st, "carol", "carol@example.com", NULL, ROLE_USER,
	    "carol-pw", &carol_id) != SUP_OK ||
	    store_run(&st, 0, deactivate_fn, &carol_id) != SUP_OK)
		bail_out("cannot make the users");
}

/*
 * Authenticate a request with these CGI variables (NULL-terminated list);
 * r is left for the caller to inspect and req_free().
 */
static sup_err
auth(struct sup_req *r, const struct sup_conf *c, char **envp)
{
	static const struct sup_io io;

	if (req_parse(r, envp, io, NULL) != SUP_OK)
		bail_out("req_parse");
	return auth_request(&st, c, r);
}

/* "HTTP_AUTHORIZATION=Basic base64(text)" into buf. */
static char *
basic(char *buf, size_t n, const char *text)
{
	int k = snprintf(buf, n, "HTTP_AUTHORIZATION=Basic ");

	sodium_bin2base64(buf + k, n - (size_t)k, (const unsigned char *)text,
	    strlen(text), sodium_base64_VARIANT_ORIGINAL);
	return buf;
}

static void
test_anonymous(void)
{
	struct sup_req r;
	char *env[] = { "REQUEST_METHOD=GET", "PATH_INFO=/x/", NULL };

	is_err(auth(&r, &conf, env), SUP_OK, "no credentials: SUP_OK");
	ok(r.user.rec == NULL, "  anonymous (user.rec NULL)");
	req_free(&r);
}

static void
test_basic(void)
{
	struct sup_req r;
	char h[512];
	char *env[] = { h, NULL };

	basic(h, sizeof(h), "alice:" ALICE_PW);
	is_err(auth(&r, &conf, env), SUP_OK, "Basic with username and password");
	ok(r.user.rec != NULL && r.user.id == alice_id &&
	    r.user.role == ROLE_USER, "  the user is alice, a customer");
	req_free(&r);

	basic(h, sizeof(h), "ALICE@example.COM:" ALICE_PW);
	is_err(auth(&r, &conf, env), SUP_OK,
	    "Basic with the e-mail in another case");
	ok(r.user.rec != NULL && r.user.id == alice_id, "  alice");
	req_free(&r);

	basic(h, sizeof(h), "alice:correct:horse battery!");
	is_err(auth(&r, &conf, env), SUP_EUNAUTH, "Basic, wrong password");
	ok(r.user.rec == NULL, "  nobody");
	req_free(&r);

	/* These fail before any password is checked. */
	basic(h, sizeof(h), "nobody:" ALICE_PW);
	is_err(auth(&r, &conf, env), SUP_EUNAUTH, "Basic, unknown user");
	req_free(&r);
	basic(h, sizeof(h), "carol:carol-pw");
	is_err(auth(&r, &conf, env), SUP_EUNAUTH,
	    "Basic, a deactivated user with her password");
	req_free(&r);
	basic(h, sizeof(h), "alice");
	is_err(auth(&r, &conf, env), SUP_EUNAUTH, "Basic without a colon");
	req_free(&r);
	basic(h, sizeof(h), ":" ALICE_PW);
	is_err(auth(&r, &conf, env), SUP_EUNAUTH, "Basic with no name");
	req_free(&r);

	static const char *const bad[] = {
		"HTTP_AUTHORIZATION=Basic !!!!",
		"HTTP_AUTHORIZATION=Basic YWxpY2U6",	/* "alice:" */
		"HTTP_AUTHORIZATION=Basic YWxpY2U6c",	/* truncated */
		"HTTP_AUTHORIZATION=Basic",
		"HTTP_AUTHORIZATION=Basic ",
		"HTTP_AUTHORIZATION=Digest username=\"alice\"",
		"HTTP_AUTHORIZATION=alice:" ALICE_PW,
		"HTTP_AUTHORIZATION=",
	};
	for (size_t i = 0; i < SUP_NELEM(bad); i++) {
		snprintf(h, sizeof(h), "%s", bad[i]);
		is_err(auth(&r, &conf, env), SUP_EUNAUTH, "malformed: %s",
		    bad[i] + strlen("HTTP_AUTHORIZATION="));
		ok(r.user.rec == NULL, "  nobody");
		req_free(&r);
	}
}

static void
test_bearer(void)
{
	struct sup_req r;
	char h[512], *tok = NULL, *tok2 = NULL;
	char *env[] = { h, NULL };

	is_err(token_create(&st, "alice", "backup script", &tok), SUP_OK,
	    "token_create for alice");
	ok(tok != NULL && strncmp(tok, "sup_", 4) == 0 && strlen(tok) > 40,
	    "  a long token starting with sup_");
	is_err(token_create(&st, "agent@EXAMPLE.com", "ci", &tok2), SUP_OK,
	    "token_create by e-mail for the agent");
	ok(tok && tok2 && strcmp(tok, tok2) != 0, "  tokens differ");

	snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer %s", tok ? tok : "");
	is_err(auth(&r, &conf, env), SUP_OK, "Bearer with alice's token");
	ok(r.user.rec != NULL && r.user.id == alice_id, "  alice");
	req_free(&r);

	snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=bearer %s",
	    tok2 ? tok2 : "");
	is_err(auth(&r, &conf, env), SUP_OK, "\"bearer\" in lowercase");
	ok(r.user.rec != NULL && r.user.id == agent_id &&
	    r.user.role == ROLE_AGENT, "  the agent, staff");
	req_free(&r);

	snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer %sx",
	    tok ? tok : "");
	is_err(auth(&r, &conf, env), SUP_EUNAUTH,
	    "Bearer with a token plus one character");
	ok(r.user.rec == NULL, "  nobody");
	req_free(&r);
	snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer %.20s",
	    tok ? tok : "");
	is_err(auth(&r, &conf, env), SUP_EUNAUTH, "Bearer with a prefix of it");
	req_free(&r);
	/* Alice's token is in this process's cache now: a token that
	 * differs only in its first bytes (the same cache slot, the same
	 * length) is still refused. */
	if (tok != NULL && strlen(tok) > 8) {
		char forged[128];
		snprintf(forged, sizeof(forged), "%s", tok);
		forged[4] = forged[4] == 'A' ? 'B' : 'A';
		snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer %s", forged);
		is_err(auth(&r, &conf, env), SUP_EUNAUTH, "Bearer with a token "
		    "one byte off a cached one (same slot, same length)");
		ok(r.user.rec == NULL, "  nobody");
		req_free(&r);
		snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer %s", tok);
		is_err(auth(&r, &conf, env), SUP_OK, "  alice's own still works");
		req_free(&r);
	}
	snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer sup_unknown");
	is_err(auth(&r, &conf, env), SUP_EUNAUTH, "Bearer, an unknown token");
	req_free(&r);
	snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer ");
	is_err(auth(&r, &conf, env), SUP_EUNAUTH, "Bearer, empty");
	req_free(&r);

	char *carol_tok = NULL;
	is_err(token_create(&st, "carol", "old", &carol_tok), SUP_OK,
	    "a token for the deactivated carol");
	snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer %s",
	    carol_tok ? carol_tok : "");
	is_err(auth(&r, &conf, env), SUP_EUNAUTH,
	    "  does not log her in");
	req_free(&r);

	char longname[TOKEN_NAME_MAX + 2], *t3 = (char *)1;
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	is_err(token_create(&st, "alice", longname, &t3), SUP_EINVAL,
	    "token_create with a name over %d characters: SUP_EINVAL",
	    TOKEN_NAME_MAX);
	ok(t3 == NULL, "  no token");

	char *none = (char *)1;
	is_err(token_create(&st, "nobody", "x", &none), SUP_ENOTFOUND,
	    "token_create for an unknown user: SUP_ENOTFOUND");
	ok(none == NULL, "  no token");

	free(tok);
	free(tok2);
	free(carol_tok);
}

static void
test_remote_user(void)
{
	struct sup_conf trusting = conf;
	struct sup_req r;
	char *remote[] = { "REMOTE_USER=alice", NULL };
	char *by_mail[] = { "REMOTE_USER=alice@example.com", NULL };
	char *unknown[] = { "REMOTE_USER=mallory", NULL };
	char *empty[] = { "REMOTE_USER=", NULL };
	char *header[] = { "HTTP_REMOTE_USER=agent", NULL };
	char *both[] = { "HTTP_REMOTE_USER=agent", "REMOTE_USER=alice", NULL };
	char *inactive[] = { "REMOTE_USER=carol", NULL };

	trusting.trust_remote_user = true;

	is_err(auth(&r, &conf, remote), SUP_OK,
	    "REMOTE_USER when not trusted: SUP_OK");
	ok(r.user.rec == NULL, "  and ignored: anonymous");
	req_free(&r);

	is_err(auth(&r, &trusting, remote), SUP_OK,
	    "REMOTE_USER with trust_remote_user");
	ok(r.user.rec != NULL && r.user.id == alice_id, "  alice");
	req_free(&r);
	is_err(auth(&r, &trusting, by_mail), SUP_OK,
	    "REMOTE_USER equal to alice's e-mail address");
	ok(r.user.rec != NULL && r.user.id != alice_id,
	    "  not alice (e-mails are not verified): an account of its own");
	req_free(&r);
	is_err(auth(&r, &trusting, unknown), SUP_OK,
	    "a REMOTE_USER with no account: SUP_OK");
	ok(r.user.rec != NULL && r.user.role == ROLE_USER &&
	    r.user.id != alice_id, "  an account made for it, role user");
	uint32_t mallory = r.user.id;
	req_free(&r);
	is_err(auth(&r, &trusting, unknown), SUP_OK,
	    "the same REMOTE_USER again");
	ok(r.user.rec != NULL && r.user.id == mallory, "  the same account");
	ok(!user_verify_password(r.user.rec, "", 0),
	    "  it has no password to log in with");
	req_free(&r);
	char *odd[] = { "REMOTE_USER=DOMAIN\\mallory", NULL };
	is_err(auth(&r, &trusting, odd), SUP_EUNAUTH,
	    "a REMOTE_USER no username can hold: SUP_EUNAUTH");
	req_free(&r);
	is_err(auth(&r, &trusting, empty), SUP_OK, "an empty REMOTE_USER");
	ok(r.user.rec == NULL, "  anonymous");
	req_free(&r);

	is_err(auth(&r, &trusting, header), SUP_OK,
	    "a client's Remote-User header (HTTP_REMOTE_USER), trusted conf");
	ok(r.user.rec == NULL, "  never honoured");
	req_free(&r);
	is_err(auth(&r, &trusting, both), SUP_OK,
	    "HTTP_REMOTE_USER=agent beside REMOTE_USER=alice");
	ok(r.user.rec != NULL && r.user.id == alice_id,
	    "  the server's variable wins");
	req_free(&r);

	is_err(auth(&r, &trusting, inactive), SUP_EUNAUTH,
	    "REMOTE_USER of a deactivated user: SUP_EUNAUTH");
	ok(r.user.rec == NULL, "  nobody");
	req_free(&r);
}

static void
test_accounts(void)
{
	uint32_t id;
	json_object *rec, *pub, *v;

	/* Berkeley DB refuses the secondary key with EINVAL, not KEYEXIST. */
	is_err(user_create(&st, "ALICE", "other@example.com", NULL, ROLE_USER,
	    "x", &id), SUP_EEXIST, "user_create: a username taken in "
	    "another case");
	is_err(user_create(&st, "alice2", "alice@EXAMPLE.com", NULL, ROLE_USER,
	    "x", &id), SUP_EEXIST, "user_create: an e-mail taken in "
	    "another case");
	ok(user_find(&st, NULL, "other@example.com", &rec) == SUP_ENOTFOUND &&
	    user_find(&st, NULL, "alice2", &rec) == SUP_ENOTFOUND,
	    "  neither refused account was stored");
	is_err(user_create(&st, "bad name", "b@example.com", NULL, ROLE_USER,
	    "x", &id), SUP_EINVAL, "user_create: a space in the username");
	is_err(user_create(&st, "bob", "not-an-address", NULL, ROLE_USER,
	    "x", &id), SUP_EINVAL, "user_create: a bad e-mail");
	is_err(user_create(&st, "bob", "bob@example.com", NULL, ROLE_USER,
	    "", &id), SUP_EINVAL, "user_create: an empty password");

	is_err(user_find(&st, NULL, "Alice", &rec), SUP_OK,
	    "user_find: username in another case");
	pub = user_public(rec, false);
	ok(pub && !json_object_object_get_ex(pub, "password", NULL) &&
	    !json_object_object_get_ex(pub, "email", NULL),
	    "user_public: no password hash, no e-mail unless asked");
	ok(json_object_object_get_ex(pub, "is_staff", &v) &&
	    !json_object_get_boolean(v), "  is_staff false for a customer");
	json_object_put(pub);
	pub = user_public(rec, true);
	ok(json_object_object_get_ex(pub, "email", &v) &&
	    strcmp(json_object_get_string(v), "Alice@Example.com") == 0,
	    "  the e-mail as given, when asked");
	json_object_put(pub);
	json_object_put(rec);
}

/* Within a transaction a token lookup reads the store. */
struct lookup_args {
	const char *tok;
	sup_err e;
};

static sup_err
lookup_fn(struct store *s, DB_TXN *txn, void *arg)
{
	struct lookup_args *a = arg;
	json_object *rec;

	a->e = token_lookup(s, txn, a->tok, strlen(a->tok), &rec);
	json_object_put(rec);
	return SUP_OK;
}

/*
 * The process keeps accepted tokens for a moment (USER_CACHE_US): asked
 * again, the same user comes back; a user switched off is refused inside
 * a transaction at once, and by the cache once it is forgotten.
 */
static void
test_token_cache(void)
{
	struct sup_req r;
	char h[512], *tok = NULL;
	char *env[] = { h, NULL };
	uint32_t dave_id = 0;
	struct lookup_args la;

	if (user_create(&st, "dave", "dave@example.com", NULL, ROLE_USER,
	    "dave-pw", &dave_id) != SUP_OK ||
	    token_create(&st, "dave", "poller", &tok) != SUP_OK)
		bail_out("cannot make dave");
	snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer %s", tok);
	for (int i = 0; i < 3; i++) {
		is_err(auth(&r, &conf, env), SUP_OK, "dave's token, time %d",
		    i + 1);
		ok(r.user.rec != NULL && r.user.id == dave_id &&
		    r.user.role == ROLE_USER, "  dave, a customer");
		req_free(&r);
	}
	snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer %sx", tok);
	is_err(auth(&r, &conf, env), SUP_EUNAUTH,
	    "  his token plus one character still refused");
	req_free(&r);

	if (store_run(&st, 0, deactivate_fn, &dave_id) != SUP_OK)
		bail_out("cannot switch dave off");
	la.tok = tok;
	is_err(store_run(&st, STORE_READ, lookup_fn, &la), SUP_OK,
	    "a lookup inside a transaction");
	is_err(la.e, SUP_EUNAUTH, "  refuses dave, switched off");
	token_cache_forget(&st);
	snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer %s", tok);
	is_err(auth(&r, &conf, env), SUP_EUNAUTH,
	    "once the cache is forgotten, dave's token is refused");
	ok(r.user.rec == NULL, "  nobody");
	req_free(&r);
	free(tok);
}

int
main(void)
{
	if (sodium_init() < 0)
		bail_out("sodium_init");
	setup();
	test_anonymous();
	test_basic();
	test_bearer();
	test_token_cache();
	test_remote_user();
	test_accounts();
	store_close(&st);
	conf_free(&conf);
	tap_rmtree(dir);
	return done_testing();
}
