/*
 * test_auth.c - who is asking (lib/desk/auth.c, accounts and tokens of
 * lib/desk/user.c): HTTP Basic by username or e-mail, bearer tokens, and
 * REMOTE_USER only when the configuration trusts the server.
 *
 * argon2id is slow on purpose, so the password checks here are few.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "areas.h"
#include "auth.h"
#include "conf.h"
#include "req.h"
#include "sess.h"
#include "store.h"
#include "sup.h"
#include "user.h"
#include "view.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;
static struct store st;
static uint32_t alice_id, agent_id, carol_id;

/* A password with a colon: only the first one in "name:password" splits. */
#define ALICE_PW "correct:horse battery"

static void
setup(void)
{
	tap_store_conf(dir, sizeof(dir), &conf, "");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	if (user_create(&st, "alice", "Alice@Example.com", "Alice", ROLE_USER,
	    ALICE_PW, &alice_id) != SUP_OK ||
	    user_create(&st, "agent", "agent@example.com", NULL, ROLE_AGENT,
	    "agent-pw", &agent_id) != SUP_OK ||
	    user_create(&st, "carol", "carol@example.com", NULL, ROLE_USER,
	    "carol-pw", &carol_id) != SUP_OK ||
	    user_set_active(&st, 0, carol_id, false) != SUP_OK)
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

/* Authenticate with this bearer token; the user's role, or -1 when refused. */
static int
bearer_role(const char *tok, uint32_t *id)
{
	struct sup_req r;
	char h[512];
	char *env[] = { h, NULL };
	int role = -1;

	snprintf(h, sizeof(h), "HTTP_AUTHORIZATION=Bearer %s", tok);
	if (auth(&r, &conf, env) == SUP_OK && r.user.rec != NULL) {
		role = (int)r.user.role;
		if (id != NULL)
			*id = r.user.id;
	}
	req_free(&r);
	return role;
}

/*
 * The process keeps accepted tokens for a moment (USER_CACHE_US), but
 * whatever takes something away is seen by the very next lookup: each
 * check below comes right after the token was used (so cached).
 */
static void
test_token_cache(void)
{
	char *tok = NULL;
	uint32_t dave_id = 0, seen = 0;
	struct lookup_args la;

	if (user_create(&st, "dave", "dave@example.com", NULL, ROLE_USER,
	    "dave-pw", &dave_id) != SUP_OK ||
	    token_create(&st, "dave", "poller", &tok) != SUP_OK)
		bail_out("cannot make dave");
	for (int i = 0; i < 3; i++) {
		seen = 0;
		is_int(bearer_role(tok, &seen), ROLE_USER,
		    "dave's token, time %d: a customer", i + 1);
		is_int(seen, dave_id, "  dave");
	}
	char plus[512];
	snprintf(plus, sizeof(plus), "%sx", tok);
	is_int(bearer_role(plus, NULL), -1,
	    "  his token plus one character still refused");

	is_err(user_set_role(&st, 0, dave_id, ROLE_AGENT), SUP_OK,
	    "user_set_role: dave made an agent");
	is_int(bearer_role(tok, NULL), ROLE_AGENT,
	    "  the next lookup of his cached token says agent");
	is_err(user_set_role(&st, 0, dave_id, ROLE_USER), SUP_OK,
	    "  and back to a customer");
	is_int(bearer_role(tok, NULL), ROLE_USER,
	    "  the next lookup says customer: staff rights gone at once");
	is_err(user_set_role(&st, 0, dave_id, (enum user_role)7), SUP_EINVAL,
	    "user_set_role: a role that is none: SUP_EINVAL");
	is_err(user_set_role(&st, 0, 999999, ROLE_ADMIN), SUP_ENOTFOUND,
	    "user_set_role: no such user: SUP_ENOTFOUND");

	is_err(user_set_active(&st, 0, dave_id, false), SUP_OK,
	    "user_set_active: dave switched off");
	la.tok = tok;
	is_err(store_run(&st, STORE_READ, lookup_fn, &la), SUP_OK,
	    "a lookup inside a transaction");
	is_err(la.e, SUP_EUNAUTH, "  refuses dave, switched off");
	is_int(bearer_role(tok, NULL), -1,
	    "  and so does the next lookup outside one, cached a moment ago");
	is_err(user_set_active(&st, 0, dave_id, true), SUP_OK,
	    "user_set_active: dave switched on again");
	is_int(bearer_role(tok, NULL), ROLE_USER, "  his token works again");
	is_err(user_set_active(&st, 0, 999999, false), SUP_ENOTFOUND,
	    "user_set_active: no such user: SUP_ENOTFOUND");
	free(tok);
}

/* How many tokens list holds; -1 when there is no list (token_list failed). */
static long
list_len(json_object *list)
{
	return json_object_is_type(list, json_type_array) ?
	    (long)json_object_array_length(list) : -1;
}

/* The first token of list, or NULL. */
static json_object *
first_token(json_object *list)
{
	return list_len(list) > 0 ? json_object_array_get_idx(list, 0) : NULL;
}

/*
 * Run in a child process, with a store of its own: revoke the token with
 * this id (or, when id is NULL, switch user off), as supportctl does
 * beside the running programs.  True when the child succeeded.
 */
static bool
elsewhere(const char *id, uint32_t user)
{
	int status;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) < 0)
		bail_out("fork");
	if (pid == 0) {
		struct store other;
		sup_err e = SUP_EDB;

		if (store_open(&other, &conf, desk_areas) == SUP_OK) {
			e = id != NULL ? token_revoke_id(&other, id) :
			    user_set_active(&other, 0, user, false);
			store_close(&other);
		}
		_exit(e == SUP_OK ? 0 : 1);
	}
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0;
}

/* Listing tokens and revoking them, by the token or by its id. */
static void
test_revoke(void)
{
	char *tok = NULL, *tok2 = NULL, *tok3 = NULL, id[TOKEN_ID_STRLEN + 1];
	json_object *list = NULL, *t, *v;
	uint32_t erin_id = 0;
	const char *text;

	if (user_create(&st, "erin", "erin@example.com", NULL, ROLE_ADMIN,
	    "erin-pw", &erin_id) != SUP_OK ||
	    token_create(&st, "erin", "deploy", &tok) != SUP_OK ||
	    token_create(&st, "erin", "report", &tok2) != SUP_OK ||
	    token_create(&st, "erin", "spare", &tok3) != SUP_OK)
		bail_out("cannot make erin");

	is_err(token_list(&st, erin_id, &list), SUP_OK, "token_list of erin");
	is_int(list_len(list), 3, "  her three tokens");
	text = list != NULL ? json_object_to_json_string(list) : "";
	ok(strstr(text, tok) == NULL && strstr(text, tok2) == NULL &&
	    strstr(text, tok + 4) == NULL, "  no token's secret in it");
	t = first_token(list);
	ok(t != NULL && json_object_object_get_ex(t, "id", &v) &&
	    json_object_get_string_len(v) == TOKEN_ID_STRLEN,
	    "  each has an id of %d hex digits", TOKEN_ID_STRLEN);
	is_str(t ? rec_str(t, "username") : NULL, "erin", "  her username");
	is_str(t ? rec_str(t, "name") : NULL, "deploy",
	    "  oldest first: the first one made");
	ok(t != NULL && !json_object_object_get_ex(t, "last_used_at", NULL),
	    "  never used: no last_used_at");
	json_object_put(list);

	is_int(bearer_role(tok, NULL), ROLE_ADMIN, "erin's token works");
	list = NULL;
	token_list(&st, erin_id, &list);
	t = first_token(list);
	ok(t != NULL && rec_str(t, "last_used_at") != NULL,
	    "  and the list says when it was last used");
	json_object_put(list);
	list = NULL;
	is_err(token_list(&st, 0, &list), SUP_OK, "token_list of everyone");
	ok(list_len(list) >= 6, "  erin's and the others' (%ld)",
	    list_len(list));
	json_object_put(list);

	/* Cached: the next one is answered by this process's cache. */
	is_int(bearer_role(tok, NULL), ROLE_ADMIN, "  again (cached now)");
	id[0] = '\0';
	is_err(token_revoke(&st, tok, strlen(tok), id), SUP_OK,
	    "token_revoke by the token");
	is_int(strlen(id), TOKEN_ID_STRLEN, "  its id given back");
	is_int(bearer_role(tok, NULL), -1, "  the very next lookup refuses it");
	is_int(bearer_role(tok2, NULL), ROLE_ADMIN,
	    "  erin's other token still works");
	is_err(token_revoke(&st, tok, strlen(tok), NULL), SUP_ENOTFOUND,
	    "  revoked twice: SUP_ENOTFOUND");

	list = NULL;
	token_list(&st, erin_id, &list);
	is_int(list_len(list), 2, "  two tokens left listed");
	t = first_token(list);
	snprintf(id, sizeof(id), "%s", t && rec_str(t, "id") ?
	    rec_str(t, "id") : "");
	is_str(t ? rec_str(t, "name") : NULL, "report", "  report first");
	json_object_put(list);

	is_int(bearer_role(tok2, NULL), ROLE_ADMIN, "report's token, cached");
	ok(elsewhere(id, 0), "another process revokes it by its id");
	is_int(bearer_role(tok2, NULL), -1,
	    "  the very next lookup here refuses it");
	is_int(bearer_role(tok3, NULL), ROLE_ADMIN, "  spare still works");
	is_err(token_revoke_id(&st, id), SUP_ENOTFOUND,
	    "token_revoke_id of a revoked token: SUP_ENOTFOUND");
	is_err(token_revoke_id(&st, "12345"), SUP_EINVAL,
	    "token_revoke_id, too short: SUP_EINVAL");
	is_err(token_revoke_id(&st, "zz3456789abc"), SUP_EINVAL,
	    "token_revoke_id, not hex: SUP_EINVAL");

	ok(elsewhere(NULL, erin_id), "another process switches erin off");
	is_int(bearer_role(tok3, NULL), -1,
	    "  the very next lookup of her cached token here refuses it");
	free(tok);
	free(tok2);
	free(tok3);
}

/*
 * Two tokens whose hashes start alike: their common id names neither.
 * (Written straight into tokens.db: real ones share 48 bits once in
 * 2^48 pairs.)
 */
static void
test_revoke_ambiguous(void)
{
	uint8_t k1[32], k2[32];
	json_object *rec = json_object_new_object();
	DB_TXN *txn;

	memset(k1, 0xab, sizeof(k1));
	memset(k2, 0xab, sizeof(k2));
	k2[31] = 0xac;
	json_object_object_add(rec, "user", json_object_new_int64(alice_id));
	json_object_object_add(rec, "name", json_object_new_string("twin"));
	if (st.env->txn_begin(st.env, NULL, &txn, 0) != 0 ||
	    store_put(*store_db_find(&st, "tokens.db"), txn, k1, 32, rec, 0) != SUP_OK ||
	    store_put(*store_db_find(&st, "tokens.db"), txn, k2, 32, rec, 0) != SUP_OK ||
	    txn->commit(txn, 0) != 0)
		bail_out("cannot write the twins");
	json_object_put(rec);
	is_err(token_revoke_id(&st, "ABABABABABAB"), SUP_ECONFLICT,
	    "token_revoke_id of an id two tokens have: SUP_ECONFLICT");
	is_err(token_revoke_id(&st, "abababababab"), SUP_ECONFLICT,
	    "  (in either case)");
}

/*
 * A session cookie re-reads its account at every request: switched off,
 * it is anonymous at once; its sessions ended (as supportctl user
 * disable does), switching it on again brings none back.
 */
static void
test_session_disabled(void)
{
	char id[SESS_ID_STRLEN + 1], h[128];
	char *env[] = { h, NULL };
	struct sup_req r;
	uint32_t fay_id = 0;
	long ended = 0;

	if (user_create(&st, "fay", "fay@example.com", NULL, ROLE_USER,
	    "fay-pw", &fay_id) != SUP_OK ||
	    sess_create(&st, fay_id, NULL, NULL, id, NULL, NULL) != SUP_OK)
		bail_out("cannot make fay");
	snprintf(h, sizeof(h), "HTTP_COOKIE=sessionid=%s", id);
	is_err(auth(&r, &conf, env), SUP_OK, "fay's session cookie");
	ok(r.user.rec != NULL && r.user.id == fay_id, "  fay");
	req_free(&r);
	is_err(user_set_active(&st, 0, fay_id, false), SUP_OK, "fay switched off");
	is_err(auth(&r, &conf, env), SUP_OK, "  her cookie at the next request");
	ok(r.user.rec == NULL, "  anonymous");
	req_free(&r);
	is_err(sess_end_user(&st, fay_id, NULL, &ended), SUP_OK,
	    "  her sessions ended");
	is_int(ended, 1, "  one");
	is_err(user_set_active(&st, 0, fay_id, true), SUP_OK, "fay switched on");
	is_err(auth(&r, &conf, env), SUP_OK, "  her old cookie");
	ok(r.user.rec == NULL, "  still anonymous: the session is gone");
	req_free(&r);
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
	test_revoke();
	test_revoke_ambiguous();
	test_session_disabled();
	test_remote_user();
	test_accounts();
	store_close(&st);
	conf_free(&conf);
	tap_rmtree(dir);
	return done_testing();
}
