/*
 * user.c - accounts, argon2id passwords and API tokens.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "user.h"
#include "util.h"

static const char *const role_names[] = { "user", "agent", "admin" };

int
user_role_from(const char *name)
{
	for (size_t i = 0; i < SUP_NELEM(role_names); i++)
		if (strcmp(role_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *
user_role_name(enum user_role role)
{
	return (unsigned)role < SUP_NELEM(role_names) ? role_names[role] :
	    "user";
}

bool
user_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > USERNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && strchr("@.+-_", c) == NULL)
			return false;
	}
	return true;
}

bool
user_email_valid(const char *email)
{
	const char *at = strchr(email, '@');
	size_t n = strlen(email);

	/* Local part @ domain; "admin@localhost" is a fine address too. */
	if (n < 3 || n > EMAIL_MAX || at == NULL || at == email ||
	    at[1] == '\0' || strchr(at + 1, '@') != NULL ||
	    email[n - 1] == '.' || at[1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)email[i]) ||
		    iscntrl((unsigned char)email[i]))
			return false;
	return true;
}

/*
 * SUP_EEXIST when a user has this name or e-mail (either case); only_name:
 * when a user has it as username.
 */
static sup_err
name_taken(struct store *s, DB_TXN *txn, const char *name, bool only_name)
{
	json_object *rec;
	sup_err e = only_name ? user_find_name(s, txn, name, &rec) :
	    user_find(s, txn, name, &rec);

	json_object_put(rec);
	if (e == SUP_OK)
		return SUP_EEXIST;
	return e == SUP_ENOTFOUND ? SUP_OK : e;
}

struct create_args {
	const char *username, *email, *display_name, *hash;
	enum user_role role;
	uint32_t id;
};

static sup_err
create_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct create_args *a = arg;
	char now[TIME_STRLEN + 1];
	uint8_t key[4];
	json_object *rec;
	int64_t id;
	sup_err e;

	if ((e = store_seq_next(s->user_seq, txn, &id)) != SUP_OK)
		return e;
	a->id = (uint32_t)id;
	time_format(time_now_us(), now);
	if ((rec = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	json_object_object_add(rec, "id", json_object_new_int64(id));
	json_object_object_add(rec, "username",
	    json_object_new_string(a->username));
	json_object_object_add(rec, "email", json_object_new_string(a->email));
	json_object_object_add(rec, "display_name",
	    json_object_new_string(a->display_name));
	json_object_object_add(rec, "role",
	    json_object_new_string(user_role_name(a->role)));
	json_object_object_add(rec, "password",
	    json_object_new_string(a->hash));
	json_object_object_add(rec, "is_active", json_object_new_boolean(1));
	json_object_object_add(rec, "created_at", json_object_new_string(now));
	be32_put(key, a->id);
	/*
	 * Berkeley DB refuses a duplicate in a unique index with a plain
	 * EINVAL, so the names are looked up first.  A concurrent creator of
	 * the same name holds the index page: one of the two deadlocks, runs
	 * again, and finds the name.
	 */
	/*
	 * An account without a password (REMOTE_USER's) is matched by its
	 * username only, so another's e-mail equal to it does not stand in
	 * its way; nobody logs in to it with a password anyway.
	 */
	if ((e = name_taken(s, txn, a->username, a->hash[0] == '\0')) !=
	    SUP_OK || (e = name_taken(s, txn, a->email, false)) != SUP_OK)
		goto out;
	e = store_put(s->users, txn, key, sizeof(key), rec, DB_NOOVERWRITE);
out:
	json_object_put(rec);
	return e;
}

sup_err
user_create(struct store *s, const char *username, const char *email,
    const char *display_name, enum user_role role, const char *password,
    uint32_t *id_out)
{
	char hash[crypto_pwhash_STRBYTES] = "";
	size_t plen = password ? strlen(password) : 0;
	struct create_args a = {
		.username = username, .email = email, .hash = hash,
		.display_name = display_name ? display_name : username,
		.role = role,
	};
	sup_err e;

	/* Without a password (REMOTE_USER accounts) the e-mail may be "". */
	if (!user_name_valid(username) || (password != NULL &&
	    (plen == 0 || plen > PASSWORD_MAX)) ||
	    (!user_email_valid(email) && (password != NULL || *email != '\0')))
		return SUP_EINVAL;
	if (password != NULL && crypto_pwhash_str(hash, password, plen,
	    USER_PWHASH_OPSLIMIT,
	    USER_PWHASH_MEMLIMIT) != 0)
		return SUP_ENOMEM;
	e = store_run(s, 0, create_txn, &a);
	sodium_memzero(hash, sizeof(hash));
	if (e == SUP_OK && id_out != NULL)
		*id_out = a.id;
	return e;
}

sup_err
user_get(struct store *s, DB_TXN *txn, uint32_t id, json_object **out)
{
	uint8_t key[4];

	be32_put(key, id);
	return store_get(s->users, txn, key, sizeof(key), 0, out);
}

/*
 * The record of the user with this name (lowercased) in index idx, or, when
 * also_name and idx is the e-mail index, in the username index after it.
 */
static sup_err
find_in(struct store *s, DB_TXN *txn, DB *idx, bool also_name,
    const char *name, json_object **out)
{
	size_t n = strlen(name);
	char low[EMAIL_MAX + 1];
	DBT k = { .data = low, .size = (u_int32_t)n };
	DBT pk = { .flags = DB_DBT_MALLOC }, d = { .flags = DB_DBT_MALLOC };
	sup_err e;
	int rc;

	*out = NULL;
	if (n == 0 || n > EMAIL_MAX)
		return SUP_ENOTFOUND;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	rc = idx->pget(idx, txn, &k, &pk, &d, 0);
	if (rc != 0 && also_name && idx == s->users_by_email) {
		/* Usernames may hold '@' too (Django allows it). */
		idx = s->users_by_name;
		rc = idx->pget(idx, txn, &k, &pk, &d, 0);
	}
	if (rc != 0)
		return store_err(rc, "user find");
	e = store_parse(&d, out);
	free(pk.data);
	free(d.data);
	return e;
}

sup_err
user_find(struct store *s, DB_TXN *txn, const char *name, json_object **out)
{
	return find_in(s, txn, strchr(name, '@') != NULL ? s->users_by_email :
	    s->users_by_name, true, name, out);
}

sup_err
user_find_name(struct store *s, DB_TXN *txn, const char *name,
    json_object **out)
{
	return find_in(s, txn, s->users_by_name, false, name, out);
}

sup_err
user_from_record(struct sup_user *u, json_object *rec)
{
	json_object *v;
	int role;

	memset(u, 0, sizeof(*u));
	if (!json_object_object_get_ex(rec, "id", &v))
		goto bad;
	u->id = (uint32_t)json_object_get_int64(v);
	if (!json_object_object_get_ex(rec, "role", &v) ||
	    (role = user_role_from(json_object_get_string(v))) < 0)
		goto bad;
	u->role = (enum user_role)role;
	u->rec = rec;
	return SUP_OK;
bad:
	json_object_put(rec);
	return SUP_EDB;
}

void
user_clear(struct sup_user *u)
{
	json_object_put(u->rec);
	memset(u, 0, sizeof(*u));
}

bool
user_is_active(json_object *rec)
{
	json_object *v;

	return json_object_object_get_ex(rec, "is_active", &v) &&
	    json_object_get_boolean(v);
}

bool
user_check_password(json_object *rec, const char *password, size_t len)
{
	json_object *v;

	if (!user_is_active(rec) ||
	    !json_object_object_get_ex(rec, "password", &v) ||
	    json_object_get_string_len(v) == 0)
		return false;
	return crypto_pwhash_str_verify(json_object_get_string(v), password,
	    len) == 0;
}

json_object *
user_public(json_object *rec, bool with_email)
{
	static const char *const pub[] = { "id", "username", "display_name" };
	json_object *o, *v;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (size_t i = 0; i < SUP_NELEM(pub); i++)
		if (json_object_object_get_ex(rec, pub[i], &v))
			json_object_object_add(o, pub[i], json_object_get(v));
	json_object_object_get_ex(rec, "role", &v);
	json_object_object_add(o, "is_staff", json_object_new_boolean(
	    user_role_from(json_object_get_string(v)) > ROLE_USER));
	if (with_email && json_object_object_get_ex(rec, "email", &v))
		json_object_object_add(o, "email", json_object_get(v));
	return o;
}

const char *
user_password_problem(const char *username, const char *email,
    const char *password)
{
	size_t n = strlen(password);
	long chars = utf8_len(password, n);

	if (chars < 0)
		return "Must be valid UTF-8 text without NUL characters.";
	if (chars < PASSWORD_MIN)
		return "Must be at least 8 characters.";
	if (n > PASSWORD_MAX)
		return "Must be no more than 1024 bytes.";
	if ((username != NULL && strcasecmp(password, username) == 0) ||
	    (email != NULL && *email != '\0' &&
	    strcasecmp(password, email) == 0))
		return "Must not be your username or e-mail address.";
	return NULL;
}

struct password_args {
	uint32_t id;
	const char *hash;
};

/* Replace the stored password hash of user a->id. */
static sup_err
password_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct password_args *a = arg;
	uint8_t key[4];
	json_object *rec;
	sup_err e;

	be32_put(key, a->id);
	if ((e = store_get(s->users, txn, key, sizeof(key), DB_RMW, &rec)) !=
	    SUP_OK)
		return e;
	json_object_object_add(rec, "password",
	    json_object_new_string(a->hash));
	e = store_put(s->users, txn, key, sizeof(key), rec, 0);
	json_object_put(rec);
	return e;
}

sup_err
user_set_password(struct store *s, uint32_t id, const char *password)
{
	char hash[crypto_pwhash_STRBYTES];
	struct password_args a = { .id = id, .hash = hash };
	size_t plen = strlen(password);
	sup_err e;

	if (plen == 0 || plen > PASSWORD_MAX)
		return SUP_EINVAL;
	if (crypto_pwhash_str(hash, password, plen,
	    USER_PWHASH_OPSLIMIT,
	    USER_PWHASH_MEMLIMIT) != 0)
		return SUP_ENOMEM;
	e = store_run(s, 0, password_txn, &a);
	sodium_memzero(hash, sizeof(hash));
	return e;
}

/* --- Public texts, cached per process ------------------------------- */

#define USER_CACHE_SLOTS 1024	/* direct-mapped by id: bounded memory */
#define TOKEN_CACHE_SLOTS 64	/* direct-mapped by the token's last bytes */
#define TOKEN_CACHE_LEN 64	/* bytes of a token kept (ours are 47) */

struct user_cache {
	struct {
		uint32_t id;
		int64_t loaded_us;
		char *text[2];		/* [0] without e-mail, [1] with */
		size_t len[2];
	} slot[USER_CACHE_SLOTS];
	/* token_lookup's answers: the user record of an accepted token. */
	struct {
		char text[TOKEN_CACHE_LEN];
		size_t len;
		int64_t loaded_us;
		json_object *rec;	/* NULL: slot empty */
	} token[TOKEN_CACHE_SLOTS];
};

/* Empty the token slots, the tokens wiped from memory. */
static void
token_cache_clear(struct user_cache *c)
{
	for (size_t i = 0; i < TOKEN_CACHE_SLOTS; i++) {
		json_object_put(c->token[i].rec);
		c->token[i].rec = NULL;
		sodium_memzero(c->token[i].text, sizeof(c->token[i].text));
		c->token[i].len = 0;
	}
}

static void
slot_clear(struct user_cache *c, size_t i)
{
	free(c->slot[i].text[0]);
	free(c->slot[i].text[1]);
	memset(&c->slot[i], 0, sizeof(c->slot[i]));
}

void
user_cache_free(struct user_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < USER_CACHE_SLOTS; i++)
		slot_clear(c, i);
	token_cache_clear(c);
	free(c);
}

/* The public object of rec printed, with or without the e-mail. */
static char *
public_text(json_object *rec, bool with_email, size_t *len)
{
	json_object *pub = user_public(rec, with_email);
	const char *s = pub ? json_object_to_json_string_length(pub,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len) :
	    NULL;
	char *copy = s ? strdup(s) : NULL;

	json_object_put(pub);
	return copy;
}

sup_err
user_public_text(struct store *s, DB_TXN *txn, uint32_t id, bool with_email,
    int64_t now, const char **text, size_t *len)
{
	struct user_cache *c = s->users_cache;
	json_object *rec;
	size_t i = id % USER_CACHE_SLOTS;
	sup_err e;

	if (c == NULL && (c = s->users_cache = calloc(1, sizeof(*c))) == NULL)
		return SUP_ENOMEM;
	if (c->slot[i].id != id || now - c->slot[i].loaded_us >
	    USER_CACHE_US || now < c->slot[i].loaded_us) {
		slot_clear(c, i);
		if ((e = user_get(s, txn, id, &rec)) != SUP_OK)
			return e;
		c->slot[i].text[0] = public_text(rec, false, &c->slot[i].len[0]);
		c->slot[i].text[1] = public_text(rec, true, &c->slot[i].len[1]);
		json_object_put(rec);
		if (c->slot[i].text[0] == NULL || c->slot[i].text[1] == NULL) {
			slot_clear(c, i);
			return SUP_ENOMEM;
		}
		c->slot[i].id = id;
		c->slot[i].loaded_us = now;
	}
	*text = c->slot[i].text[with_email];
	*len = c->slot[i].len[with_email];
	return SUP_OK;
}

sup_err
user_each(struct store *s, sup_err (*fn)(void *ctx, json_object *rec),
    void *ctx)
{
	DBC *c;
	DBT k = { 0 }, d = { 0 };
	json_object *rec;
	sup_err e = SUP_OK;
	int rc;

	if ((rc = s->users->cursor(s->users, NULL, &c, DB_READ_COMMITTED)) != 0)
		return store_err(rc, "cursor");
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		if ((e = store_parse(&d, &rec)) != SUP_OK)
			break;
		e = fn(ctx, rec);
		json_object_put(rec);
		if (e != SUP_OK)
			break;
	}
	if (e == SUP_OK && rc != DB_NOTFOUND)
		e = store_err(rc, "user list");
	c->close(c);
	return e;
}

/* --- Tokens ---------------------------------------------------------- */

struct token_args {
	const char *username, *name;
	uint8_t hash[crypto_hash_sha256_BYTES];
};

static sup_err
token_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct token_args *a = arg;
	char now[TIME_STRLEN + 1];
	json_object *user, *rec, *id;
	sup_err e;

	if ((e = user_find(s, txn, a->username, &user)) != SUP_OK)
		return e;
	if ((rec = json_object_new_object()) == NULL) {
		json_object_put(user);
		return SUP_ENOMEM;
	}
	json_object_object_get_ex(user, "id", &id);
	time_format(time_now_us(), now);
	json_object_object_add(rec, "user", json_object_get(id));
	json_object_object_add(rec, "name", json_object_new_string(a->name));
	json_object_object_add(rec, "created_at", json_object_new_string(now));
	e = store_put(s->tokens, txn, a->hash, sizeof(a->hash), rec,
	    DB_NOOVERWRITE);
	json_object_put(rec);
	json_object_put(user);
	return e;
}

sup_err
token_create(struct store *s, const char *username, const char *name,
    char **token)
{
	struct token_args a = { .username = username, .name = name };
	uint8_t raw[32];
	size_t b64len = sodium_base64_ENCODED_LEN(sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *t;
	sup_err e;

	*token = NULL;
	if (strlen(name) > TOKEN_NAME_MAX)
		return SUP_EINVAL;
	if ((t = malloc(4 + b64len)) == NULL)
		return SUP_ENOMEM;
	randombytes_buf(raw, sizeof(raw));
	memcpy(t, "sup_", 4);
	sodium_bin2base64(t + 4, b64len, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_hash_sha256(a.hash, (const unsigned char *)t, strlen(t));
	if ((e = store_run(s, 0, token_txn, &a)) != SUP_OK) {
		free(t);
		return e;
	}
	*token = t;
	return SUP_OK;
}

/* The record of the user a token (by its hash) belongs to, from the store. */
static sup_err
token_read(struct store *s, DB_TXN *txn, const uint8_t *hash,
    json_object **user_rec)
{
	json_object *rec, *id;
	sup_err e;

	*user_rec = NULL;
	e = store_get(s->tokens, txn, hash, crypto_hash_sha256_BYTES, 0, &rec);
	if (e == SUP_ENOTFOUND)
		return SUP_EUNAUTH;
	if (e != SUP_OK)
		return e;
	if (!json_object_object_get_ex(rec, "user", &id)) {
		json_object_put(rec);
		return SUP_EDB;
	}
	e = user_get(s, txn, (uint32_t)json_object_get_int64(id), user_rec);
	json_object_put(rec);
	if (e == SUP_ENOTFOUND)
		return SUP_EUNAUTH;
	if (e == SUP_OK && !user_is_active(*user_rec)) {
		json_object_put(*user_rec);
		*user_rec = NULL;
		return SUP_EUNAUTH;
	}
	return e;
}

/*
 * Outside a transaction the answer comes from the process's cache when it
 * is younger than USER_CACHE_US: a client polling with its token would
 * otherwise cost two reads and two JSON parses a request, most of a 304's
 * work.  Only tokens that were accepted are kept, so a wrong token always
 * reaches the store.  The cache holds the token itself, compared in
 * constant time, so that a hit costs no SHA-256 (4k instructions, a
 * seventh of a 304); the slot is chosen by the token's last bytes, which
 * are random.  The cost: a user switched off (or a token removed) by
 * another process is still accepted by this one for up to USER_CACHE_US,
 * as a changed display name shows that late.
 */
sup_err
token_lookup(struct store *s, DB_TXN *txn, const char *token, size_t len,
    json_object **user_rec)
{
	uint8_t hash[crypto_hash_sha256_BYTES];
	struct user_cache *c;
	int64_t now;
	size_t i;
	sup_err e;

	*user_rec = NULL;
	if (txn != NULL) {
		crypto_hash_sha256(hash, (const unsigned char *)token, len);
		return token_read(s, txn, hash, user_rec);
	}
	if ((c = s->users_cache) == NULL &&
	    (c = s->users_cache = calloc(1, sizeof(*c))) == NULL)
		return SUP_ENOMEM;
	i = len < 2 ? 0 : ((unsigned char)token[len - 1] * 31u +
	    (unsigned char)token[len - 2]) % TOKEN_CACHE_SLOTS;
	now = time_now_us();
	if (c->token[i].rec != NULL && c->token[i].len == len &&
	    sodium_memcmp(c->token[i].text, token, len) == 0 &&
	    now >= c->token[i].loaded_us &&
	    now - c->token[i].loaded_us <= USER_CACHE_US) {
		*user_rec = json_object_get(c->token[i].rec);
		return SUP_OK;
	}
	crypto_hash_sha256(hash, (const unsigned char *)token, len);
	if ((e = token_read(s, NULL, hash, user_rec)) != SUP_OK)
		return e;
	if (len > TOKEN_CACHE_LEN)
		return SUP_OK;		/* not one of ours: not kept */
	json_object_put(c->token[i].rec);
	memcpy(c->token[i].text, token, len);
	c->token[i].len = len;
	c->token[i].rec = json_object_get(*user_rec);
	c->token[i].loaded_us = now;
	return SUP_OK;
}

void
token_cache_forget(struct store *s)
{
	if (s->users_cache != NULL)
		token_cache_clear(s->users_cache);
}
