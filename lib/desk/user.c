/*
 * user.c - accounts, argon2id passwords and API tokens.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "areas.h"
#include "event.h"
#include "user.h"
#include "util.h"

/*
 * The users' area of the store.  Keys:
 *   users            id(4)                               -> user record
 *   users_by_name    lowercase username                  (unique)
 *   users_by_email   lowercase e-mail                    (unique)
 *   tokens           sha256(token)(32)                   -> {user, name,
 *                                                         created_at,
 *                                                         last_used_at?}
 *                    "gen"                               -> int64(8) (the
 *                    revocation generation: below)
 *   staff            "available"                         -> {"ids": [id, ...]}
 *                    (the agents a ticket may be given to: role agent or
 *                    admin, active, not away; ids ascending.  Kept by hand
 *                    in the transaction of every change to one of those,
 *                    so that a ticket's creation reads it in one get:
 *                    user_available)
 *   agents           "agents"                            -> {"ids": [id, ...]}
 *                    (every agent a ticket's page offers: role agent or
 *                    admin, active, away or not; ids ascending; kept as
 *                    staff is: user_agents)
 * and the sequence "user_id" in seqs.db.  The table is at the end.
 */
enum user_db {
	UDB_USERS, UDB_BY_NAME, UDB_BY_EMAIL, UDB_TOKENS, UDB_STAFF,
	UDB_AGENTS, USER_NDB
};
enum user_seq { USEQ_ID, USER_NSEQ };

static inline DB *
udb(const struct store *s, enum user_db i)
{
	return store_db(s, AREA_USER, i);
}

static const char *const role_names[] = { "user", "agent", "admin" };

static const struct sup_errdef user_errdefs[] = {
	{ USER_EREGCLOSED, SUP_EFORBIDDEN, "registration_closed",
	    "Registration is closed on this desk.", NULL,
	    "New accounts cannot be created here. Ask the support team for "
	    "one." },
	{ USER_ELASTADMIN, SUP_ECONFLICT, "last_admin",
	    "This is the desk's last active admin: make another user an admin "
	    "first.", "The last admin",
	    "The desk would have no active admin left. Make another user an "
	    "admin first, then try again." },
};
SUP_ERRORS(user_errors, SUP_AREA_USERS, user_errdefs)

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

/* --- The lists of agents (staff.db, agents.db) ------------------------ */

bool
user_is_away(json_object *rec)
{
	json_object *v;

	return json_object_object_get_ex(rec, "away", &v) &&
	    json_object_get_boolean(v);
}

bool
user_wants_mail(json_object *rec)
{
	json_object *v;

	return !json_object_object_get_ex(rec, "notify", &v) ||
	    json_object_get_boolean(v);
}

/* Is the account of rec an agent (agent or admin) and active? */
static bool
rec_agent(json_object *rec)
{
	json_object *v;

	return json_object_object_get_ex(rec, "role", &v) &&
	    user_role_from(json_object_get_string(v)) > ROLE_USER &&
	    user_is_active(rec);
}

/* May a ticket be given to the account of rec (agent or admin, active, here)? */
static bool
rec_available(json_object *rec)
{
	return rec_agent(rec) && !user_is_away(rec);
}

/*
 * The lists of agents kept by hand, each in a database of its own (so
 * that an older store's lack of one is a missing file, which the builds
 * look for): the available ones (user_available) and all of them
 * (user_agents).  Each is one record, its key in its database, holding
 * the ids of the accounts its test keeps.
 */
enum staff_which { STAFF_AVAILABLE, STAFF_AGENTS, STAFF_NLISTS };
static const struct {
	enum user_db db;
	const char *key;
	bool (*keeps)(json_object *rec);
	const char *what;		/* for the messages */
} staff_lists[STAFF_NLISTS] = {
	[STAFF_AVAILABLE] = { UDB_STAFF, "available", rec_available,
		"available agents" },
	[STAFF_AGENTS] = { UDB_AGENTS, "agents", rec_agent, "agents" },
};

/*
 * List which in *ids (new: free(); NULL when empty) and *n, read with
 * flags (0 or DB_RMW); a list not there is empty.  SUP_EDB when it is not
 * an array of ids.
 */
static sup_err
staff_read(struct store *s, DB_TXN *txn, enum staff_which which,
    uint32_t flags, uint32_t **ids, size_t *n)
{
	json_object *rec, *list;
	size_t len;
	sup_err e;

	*ids = NULL;
	*n = 0;
	e = store_get(udb(s, staff_lists[which].db), txn,
	    staff_lists[which].key, strlen(staff_lists[which].key), flags,
	    &rec);
	if (e == SUP_ENOTFOUND)
		return SUP_OK;
	if (e != SUP_OK)
		return e;
	if (!json_object_object_get_ex(rec, "ids", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		e = SUP_EDB;
		goto out;
	}
	len = json_object_array_length(list);
	if (len > 0 && (*ids = malloc(len * sizeof(**ids))) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		json_object *v = json_object_array_get_idx(list, i);
		int64_t id = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || id <= 0 ||
		    id > UINT32_MAX || (i > 0 && (uint32_t)id <= (*ids)[i - 1])) {
			free(*ids);
			*ids = NULL;
			e = SUP_EDB;
			goto out;
		}
		(*ids)[i] = (uint32_t)id;
	}
	*n = len;
out:
	json_object_put(rec);
	return e;
}

/* Write list which as ids[0..n). */
static sup_err
staff_write(struct store *s, DB_TXN *txn, enum staff_which which,
    const uint32_t *ids, size_t n)
{
	json_object *rec, *list;
	sup_err e = SUP_OK;

	if ((rec = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if ((list = json_object_new_array()) == NULL ||
	    !json_set(rec, "ids", list))
		e = SUP_ENOMEM;
	for (size_t i = 0; i < n && e == SUP_OK; i++) {
		json_object *v = json_object_new_int64(ids[i]);
		if (v == NULL || json_object_array_add(list, v) != 0) {
			json_object_put(v);
			e = SUP_ENOMEM;
		}
	}
	if (e == SUP_OK)
		e = store_put(udb(s, staff_lists[which].db), txn,
		    staff_lists[which].key, strlen(staff_lists[which].key),
		    rec, 0);
	json_object_put(rec);
	return e;
}

/*
 * Keep list which with user id's record rec, inside the transaction that
 * writes rec: id in it exactly when the list keeps rec.  The list is read
 * for update, and written only when it changes.
 */
static sup_err
staff_note_one(struct store *s, DB_TXN *txn, enum staff_which which,
    uint32_t id, json_object *rec)
{
	bool want = staff_lists[which].keeps(rec);
	uint32_t *ids, *grown;
	size_t n, at;
	sup_err e;

	if ((e = staff_read(s, txn, which, DB_RMW, &ids, &n)) != SUP_OK)
		return e;
	for (at = 0; at < n && ids[at] < id; at++)
		continue;
	if (want == (at < n && ids[at] == id)) {
		free(ids);
		return SUP_OK;		/* as it was */
	}
	if (!want) {
		memmove(ids + at, ids + at + 1, (n - at - 1) * sizeof(*ids));
		n--;
	} else {
		if ((grown = realloc(ids, (n + 1) * sizeof(*ids))) == NULL) {
			free(ids);
			return SUP_ENOMEM;
		}
		ids = grown;
		memmove(ids + at + 1, ids + at, (n - at) * sizeof(*ids));
		ids[at] = id;
		n++;
	}
	e = staff_write(s, txn, which, ids, n);
	free(ids);
	return e;
}

/* Keep every list of agents with user id's record rec (staff_note_one). */
static sup_err
staff_note(struct store *s, DB_TXN *txn, uint32_t id, json_object *rec)
{
	sup_err e = SUP_OK;

	for (int i = 0; i < STAFF_NLISTS && e == SUP_OK; i++)
		e = staff_note_one(s, txn, i, id, rec);
	return e;
}

sup_err
user_available(struct store *s, DB_TXN *txn, uint32_t **ids, size_t *n)
{
	return staff_read(s, txn, STAFF_AVAILABLE, 0, ids, n);
}

sup_err
user_agents(struct store *s, DB_TXN *txn, uint32_t **ids, size_t *n)
{
	return staff_read(s, txn, STAFF_AGENTS, 0, ids, n);
}

struct create_args {
	const char *username, *email, *display_name, *hash;
	enum user_role role;
	uint32_t actor;		/* who made it (0: the desk itself) */
	uint32_t id;
};

/* The event of a new account (never its password). */
static sup_err
created_event(struct store *s, DB_TXN *txn, const struct create_args *a)
{
	const char *role = user_role_name(a->role);
	struct event ev;
	sup_err e;

	event_init(&ev, EV_USER_CREATED, a->actor);
	ev.user = a->id;
	if ((e = event_data_cstr(&ev, "username", a->username)) == SUP_OK)
		e = event_data_cstr(&ev, "role", role);
	return event_finish(s, txn, &ev, e);
}

static sup_err
create_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct create_args *a = arg;
	char now[TIME_STRLEN + 1];
	uint8_t key[4];
	json_object *rec;
	int64_t id;
	sup_err e;

	if ((e = store_seq_next(store_seq(s, AREA_USER, USEQ_ID), txn, &id)) !=
	    SUP_OK)
		return e;
	a->id = (uint32_t)id;
	time_format(time_now_us(), now);
	if ((rec = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if (!json_set(rec, "id", json_object_new_int64(id)) ||
	    !json_set(rec, "username", json_object_new_string(a->username)) ||
	    !json_set(rec, "email", json_object_new_string(a->email)) ||
	    !json_set(rec, "display_name",
	    json_object_new_string(a->display_name)) ||
	    !json_set(rec, "role",
	    json_object_new_string(user_role_name(a->role))) ||
	    !json_set(rec, "password", json_object_new_string(a->hash)) ||
	    !json_set(rec, "is_active", json_object_new_boolean(1)) ||
	    !json_set(rec, "created_at", json_object_new_string(now))) {
		e = SUP_ENOMEM;
		goto out;
	}
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
	if ((e = store_put(udb(s, UDB_USERS), txn, key, sizeof(key), rec,
	    DB_NOOVERWRITE)) == SUP_OK &&
	    (e = staff_note(s, txn, a->id, rec)) == SUP_OK)
		e = created_event(s, txn, a);
out:
	json_object_put(rec);
	return e;
}

/* How many argon2id verifications this process has made (for the tests). */
static unsigned long verifications;

/* password (plen bytes) hashed into hash; SUP_ENOMEM when it cannot be. */
static sup_err
password_hash(const char *password, size_t plen,
    char hash[crypto_pwhash_STRBYTES])
{
	return crypto_pwhash_str(hash, password, plen, USER_PWHASH_OPSLIMIT,
	    USER_PWHASH_MEMLIMIT) == 0 ? SUP_OK : SUP_ENOMEM;
}

sup_err
user_create(struct store *s, const char *username, const char *email,
    const char *display_name, enum user_role role, const char *password,
    uint32_t *id_out)
{
	return user_create_by(s, 0, username, email, display_name, role,
	    password, id_out);
}

sup_err
user_create_by(struct store *s, uint32_t actor, const char *username,
    const char *email, const char *display_name, enum user_role role,
    const char *password, uint32_t *id_out)
{
	char hash[crypto_pwhash_STRBYTES] = "";
	size_t plen = password ? strlen(password) : 0;
	struct create_args a = {
		.username = username, .email = email, .hash = hash,
		.display_name = display_name ? display_name : username,
		.role = role, .actor = actor,
	};
	sup_err e;

	/* Without a password (REMOTE_USER accounts) the e-mail may be "". */
	if ((unsigned)role >= SUP_NELEM(role_names) ||
	    !user_name_valid(username) || (password != NULL &&
	    (plen == 0 || plen > PASSWORD_MAX)) ||
	    (!user_email_valid(email) && (password != NULL || *email != '\0')))
		return SUP_EINVAL;
	if (password != NULL && password_hash(password, plen, hash) != SUP_OK)
		return SUP_ENOMEM;
	e = store_run(s, 0, create_txn, &a);
	sodium_memzero(hash, sizeof(hash));
	if (e == SUP_OK && id_out != NULL)
		*id_out = a.id;
	return e;
}

static sup_err find_in(struct store *s, DB_TXN *txn, DB *idx,
    bool also_name, const char *name, json_object **out);

/*
 * A username for the account of email, free in txn, into name (room for
 * USERNAME_MAX + 1): the e-mail's local part with what a username may not
 * hold left out, at most USERNAME_BASE bytes ("customer" when nothing is
 * left), then, while another account has it, "-2" ... "-99" after it,
 * then "-" and 8 random hex digits (USERNAME_TRIES of them).
 * SUP_EEXIST when none was free.
 */
#define USERNAME_BASE 30
#define USERNAME_TRIES 8
static sup_err
free_name(struct store *s, DB_TXN *txn, const char *email, char *name)
{
	char base[USERNAME_BASE + 1];
	size_t n = 0;
	sup_err e;

	for (const char *p = email; *p != '\0' && *p != '@' &&
	    n < USERNAME_BASE; p++)
		if (isalnum((unsigned char)*p) || strchr(".+-_", *p) != NULL)
			base[n++] = *p;
	base[n] = '\0';
	if (n == 0)
		snprintf(base, sizeof(base), "customer");
	for (int i = 1; i < 99 + USERNAME_TRIES; i++) {
		if (i == 1)
			snprintf(name, USERNAME_MAX + 1, "%s", base);
		else if (i < 100)
			snprintf(name, USERNAME_MAX + 1, "%s-%d", base, i);
		else
			snprintf(name, USERNAME_MAX + 1, "%s-%08x", base,
			    (unsigned)randombytes_random());
		if ((e = name_taken(s, txn, name, false)) != SUP_EEXIST)
			return e;
	}
	return SUP_EEXIST;
}

sup_err
user_for_email(struct store *s, DB_TXN *txn, const char *email,
    const char *display_name, json_object **out, bool *made)
{
	char name[USERNAME_MAX + 1];
	struct create_args a = {
		.username = name, .email = email, .hash = "",
		.role = ROLE_USER, .actor = 0,
	};
	sup_err e;

	*out = NULL;
	*made = false;
	if (!user_email_valid(email))
		return SUP_EINVAL;
	e = find_in(s, txn, udb(s, UDB_BY_EMAIL), false, email, out);
	if (e != SUP_ENOTFOUND)
		return e;
	if ((e = free_name(s, txn, email, name)) != SUP_OK)
		return e;
	a.display_name = display_name != NULL && *display_name != '\0' ?
	    display_name : name;
	/* create_txn looks the e-mail up again: taken as a username, EEXIST. */
	if ((e = create_txn(s, txn, &a)) != SUP_OK)
		return e;
	*made = true;
	return user_get(s, txn, a.id, out);
}

sup_err
user_get(struct store *s, DB_TXN *txn, uint32_t id, json_object **out)
{
	uint8_t key[4];

	be32_put(key, id);
	return store_get(udb(s, UDB_USERS), txn, key, sizeof(key), 0, out);
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
	if (rc == DB_NOTFOUND && also_name && idx == udb(s, UDB_BY_EMAIL)) {
		/* Usernames may hold '@' too (Django allows it). */
		idx = udb(s, UDB_BY_NAME);
		rc = idx->pget(idx, txn, &k, &pk, &d, 0);
	}
	/*
	 * Only a name that is not there is looked for again: after another
	 * error (ENOMEM) the name may well be taken.  Either DBT may have
	 * been filled when the other's copy failed: both are freed.
	 */
	e = rc != 0 ? store_err(rc, "user find") : store_parse(&d, out);
	free(pk.data);
	free(d.data);
	return e;
}

sup_err
user_find(struct store *s, DB_TXN *txn, const char *name, json_object **out)
{
	return find_in(s, txn, strchr(name, '@') != NULL ?
	    udb(s, UDB_BY_EMAIL) : udb(s, UDB_BY_NAME), true, name, out);
}

sup_err
user_find_name(struct store *s, DB_TXN *txn, const char *name,
    json_object **out)
{
	return find_in(s, txn, udb(s, UDB_BY_NAME), false, name, out);
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

bool
user_is_active(json_object *rec)
{
	json_object *v;

	return json_object_object_get_ex(rec, "is_active", &v) &&
	    json_object_get_boolean(v);
}

/*
 * One argon2id verification whatever the account: a missing account (rec
 * NULL), an inactive one or one without a password (made for REMOTE_USER)
 * is checked against a hash of the same cost made once per process, so
 * the time of a refusal tells nothing about the account.
 */
bool
user_verify_password(json_object *rec, const char *password, size_t len)
{
	static char dummy[crypto_pwhash_STRBYTES];
	const char *hash = NULL;
	json_object *v;
	bool real;

	if (rec != NULL && user_is_active(rec) &&
	    json_object_object_get_ex(rec, "password", &v) &&
	    json_object_get_string_len(v) > 0)
		hash = json_object_get_string(v);
	real = hash != NULL;
	if (!real) {
		if (dummy[0] == '\0' && password_hash("not a password", 14,
		    dummy) != SUP_OK)
			return false;
		hash = dummy;
	}
	verifications++;
	return crypto_pwhash_str_verify(hash, password, len) == 0 && real;
}

unsigned long
user_verifications(void)
{
	return verifications;
}

json_object *
user_public(json_object *rec, bool with_email)
{
	static const char *const pub[] = { "id", "username", "display_name" };
	json_object *o, *v;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	for (size_t i = 0; i < SUP_NELEM(pub); i++)
		if (json_object_object_get_ex(rec, pub[i], &v) &&
		    !json_set(o, pub[i], json_object_get(v)))
			goto nomem;
	v = NULL;
	json_object_object_get_ex(rec, "role", &v);
	if (!json_set(o, "is_staff", json_object_new_boolean(
	    user_role_from(json_object_get_string(v)) > ROLE_USER)))
		goto nomem;
	if (with_email && json_object_object_get_ex(rec, "email", &v) &&
	    !json_set(o, "email", json_object_get(v)))
		goto nomem;
	return o;
nomem:
	json_object_put(o);
	return NULL;
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

/* --- Changes to an account ------------------------------------------ */

/*
 * The revocation generation: a count in tokens.db, under a key of three
 * bytes that no token's (a 32-byte hash) can be, that every change taking
 * something away from an account or a token adds one to, in the change's
 * own transaction.  token_lookup reads it before it trusts its cache (see
 * there why that is enough, and what it costs).
 */
#define GEN_KEY "gen"
#define GEN_KEY_LEN 3

static sup_err
gen_bump(struct store *s, DB_TXN *txn)
{
	return store_count_add_db(udb(s, UDB_TOKENS), txn, GEN_KEY, GEN_KEY_LEN,
	    1);
}

struct field_args {
	uint32_t actor, id;
	const char *name;
	json_object *value;	/* the caller's; the record takes a reference */
	bool takes_admin;	/* the change may leave the account no admin */
};

/* Is the account of rec an active admin? */
static bool
rec_active_admin(json_object *rec)
{
	json_object *v;

	return json_object_object_get_ex(rec, "role", &v) &&
	    user_role_from(json_object_get_string(v)) == ROLE_ADMIN &&
	    user_is_active(rec);
}

/*
 * SUP_OK when an active admin other than user id exists, USER_ELASTADMIN
 * when none does.  A walk of the users inside txn: the records it read
 * stay locked until txn ends, so two admins taking each other's rights at
 * once deadlock, and the one run again sees the other's change (the desk
 * is never left without an admin).  The users are the small table.
 */
static sup_err
other_admin(struct store *s, DB_TXN *txn, uint32_t id)
{
	DBT k = { 0 }, d = { 0 };
	json_object *rec;
	sup_err e = USER_ELASTADMIN;
	DBC *c;
	int rc;

	if ((rc = udb(s, UDB_USERS)->cursor(udb(s, UDB_USERS), txn, &c,
	    0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		bool found;

		if (k.size == 4 && be32_get(k.data) == id)
			continue;
		if ((e = store_parse(&d, &rec)) != SUP_OK)
			break;
		found = rec_active_admin(rec);
		json_object_put(rec);
		if (found) {
			e = SUP_OK;
			break;
		}
		e = USER_ELASTADMIN;
	}
	if (rc != 0 && rc != DB_NOTFOUND && e == USER_ELASTADMIN)
		e = store_err(rc, "user list");
	c->close(c);
	return e;
}

/*
 * The event of a change of field name from was to now: user.disabled or
 * user.enabled for is_active, else user.changed with what changed (a
 * password's values are never written, only that it changed).
 */
static sup_err
field_event(struct store *s, DB_TXN *txn, const struct field_args *a,
    json_object *was)
{
	struct event ev;
	sup_err e;

	if (strcmp(a->name, "is_active") == 0)
		event_init(&ev, json_object_get_boolean(a->value) ?
		    EV_USER_ENABLED : EV_USER_DISABLED, a->actor);
	else
		event_init(&ev, EV_USER_CHANGED, a->actor);
	ev.user = a->id;
	if (strcmp(a->name, "password") == 0)
		e = event_data_bool(&ev, "password", true);
	else if (ev.type == EV_USER_CHANGED && was == NULL &&
	    strcmp(a->name, "away") == 0)
		/* A record from before "away" was: not away. */
		e = event_change(&ev, a->name, json_object_new_boolean(0),
		    json_object_get(a->value));
	else if (ev.type == EV_USER_CHANGED)
		e = event_change(&ev, a->name, json_object_get(was),
		    json_object_get(a->value));
	else
		e = SUP_OK;
	return event_finish(s, txn, &ev, e);
}

/*
 * Set field a->name of user a->id's record to a->value, keep the list
 * of available agents with it (but for a password), append its event,
 * and bump the revocation generation: every process's cached answer for
 * the account's tokens is stale from this commit on.
 */
static sup_err
field_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct field_args *a = arg;
	uint8_t key[4];
	json_object *rec, *was = NULL;
	sup_err e;

	be32_put(key, a->id);
	if ((e = store_get(udb(s, UDB_USERS), txn, key, sizeof(key), DB_RMW,
	    &rec)) != SUP_OK)
		return e;
	if (json_object_object_get_ex(rec, a->name, &was))
		json_object_get(was);
	/* An admin the change leaves no admin: only if another remains. */
	if (a->takes_admin && rec_active_admin(rec) &&
	    (e = other_admin(s, txn, a->id)) != SUP_OK)
		goto out;
	/* a->name is one of set_field's callers' constants. */
	if (!json_set(rec, a->name, json_object_get(a->value)))
		e = SUP_ENOMEM;
	else if ((e = store_put(udb(s, UDB_USERS), txn, key, sizeof(key), rec,
	    0)) == SUP_OK && (strcmp(a->name, "password") == 0 ||
	    (e = staff_note(s, txn, a->id, rec)) == SUP_OK) &&
	    (e = field_event(s, txn, a, was)) == SUP_OK)
		e = gen_bump(s, txn);
out:
	json_object_put(was);
	json_object_put(rec);
	return e;
}

/*
 * Set one field of user id's record to value, which this call takes (and
 * releases); value NULL (a failed json_object_new_*) is SUP_ENOMEM.
 * takes_admin: the new value makes an admin no (active) admin; made by a
 * user (actor not 0), it is refused when no other active admin remains.
 */
static sup_err
set_field(struct store *s, uint32_t actor, uint32_t id, const char *name,
    json_object *value, bool takes_admin)
{
	struct field_args a = { .actor = actor, .id = id, .name = name,
		.value = value, .takes_admin = takes_admin && actor != 0 };
	sup_err e;

	if (value == NULL)
		return SUP_ENOMEM;
	e = store_run(s, 0, field_txn, &a);
	json_object_put(value);
	return e;
}

sup_err
user_set_password(struct store *s, uint32_t actor, uint32_t id,
    const char *password)
{
	char hash[crypto_pwhash_STRBYTES];
	size_t plen = strlen(password);
	sup_err e;

	if (plen == 0 || plen > PASSWORD_MAX)
		return SUP_EINVAL;
	if (password_hash(password, plen, hash) != SUP_OK)
		return SUP_ENOMEM;
	e = set_field(s, actor, id, "password", json_object_new_string(hash),
	    false);
	sodium_memzero(hash, sizeof(hash));
	return e;
}

sup_err
user_set_active(struct store *s, uint32_t actor, uint32_t id, bool active)
{
	return set_field(s, actor, id, "is_active",
	    json_object_new_boolean(active), !active);
}

sup_err
user_set_away(struct store *s, uint32_t actor, uint32_t id, bool away)
{
	return set_field(s, actor, id, "away", json_object_new_boolean(away),
	    false);
}

sup_err
user_set_notify(struct store *s, uint32_t actor, uint32_t id, bool notify)
{
	return set_field(s, actor, id, "notify",
	    json_object_new_boolean(notify), false);
}

sup_err
user_set_role(struct store *s, uint32_t actor, uint32_t id,
    enum user_role role)
{
	if ((unsigned)role >= SUP_NELEM(role_names))
		return SUP_EINVAL;
	return set_field(s, actor, id, "role",
	    json_object_new_string(role_names[role]), role != ROLE_ADMIN);
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
	int64_t token_gen;	/* the revocation generation they hold for */
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

/* The area's cache_free: the cache, its texts and its tokens wiped. */
static void
user_cache_free(void *cache)
{
	struct user_cache *c = cache;

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
	const char *s = pub ? json_text(pub,
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
	struct user_cache *c = *store_cache(s, AREA_USER);
	json_object *rec;
	size_t i = id % USER_CACHE_SLOTS;
	sup_err e;

	if (c == NULL &&
	    (c = *store_cache(s, AREA_USER) = calloc(1, sizeof(*c))) == NULL)
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

	if ((rc = udb(s, UDB_USERS)->cursor(udb(s, UDB_USERS), NULL, &c,
	    DB_READ_COMMITTED)) != 0)
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

#define TOKEN_USED_EVERY_US (60 * 1000000LL) /* last_used_at's resolution */

static void token_id(const uint8_t *hash, char id[TOKEN_ID_STRLEN + 1]);

/* The event of a token made or revoked: its id, never the token. */
static sup_err
token_event(struct store *s, DB_TXN *txn, enum event_type type,
    uint32_t actor, uint32_t user, const uint8_t *hash, const char *name)
{
	char id[TOKEN_ID_STRLEN + 1];
	struct event ev;
	sup_err e;

	token_id(hash, id);
	event_init(&ev, type, actor);
	ev.user = user;
	if ((e = event_data_cstr(&ev, "token", id)) == SUP_OK && name != NULL)
		e = event_data_cstr(&ev, "name", name);
	return event_finish(s, txn, &ev, e);
}

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
	if (!json_set(rec, "user", json_object_get(id)) ||
	    !json_set(rec, "name", json_object_new_string(a->name)) ||
	    !json_set(rec, "created_at", json_object_new_string(now)))
		e = SUP_ENOMEM;
	else if ((e = store_put(udb(s, UDB_TOKENS), txn, a->hash,
	    sizeof(a->hash), rec, DB_NOOVERWRITE)) == SUP_OK)
		e = token_event(s, txn, EV_TOKEN_CREATED, 0,
		    (uint32_t)json_object_get_int64(id), a->hash, a->name);
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

/* A token's id: its hash's first TOKEN_ID_BYTES bytes in hex. */
static void
token_id(const uint8_t *hash, char id[TOKEN_ID_STRLEN + 1])
{
	sodium_bin2hex(id, TOKEN_ID_STRLEN + 1, hash, TOKEN_ID_BYTES);
}

/* The time of a record's field (0 when it has none, or not a time). */
static int64_t
rec_time(json_object *rec, const char *name)
{
	json_object *v;
	int64_t us;

	if (!json_object_object_get_ex(rec, name, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !time_parse(json_object_get_string(v), &us))
		return 0;
	return us;
}

/*
 * The record of the user a token (by its hash) belongs to, from the store
 * (new: json_object_put), and when the token was last used (0: never).
 */
static sup_err
token_read(struct store *s, DB_TXN *txn, const uint8_t *hash,
    json_object **user_rec, int64_t *used_us)
{
	json_object *rec, *id;
	sup_err e;

	*user_rec = NULL;
	*used_us = 0;
	e = store_get(udb(s, UDB_TOKENS), txn, hash, crypto_hash_sha256_BYTES,
	    0, &rec);
	if (e == SUP_ENOTFOUND)
		return SUP_EUNAUTH;
	if (e != SUP_OK)
		return e;
	if (!json_object_object_get_ex(rec, "user", &id)) {
		json_object_put(rec);
		return SUP_EDB;
	}
	*used_us = rec_time(rec, "last_used_at");
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

struct touch_args {
	const uint8_t *hash;
	int64_t now_us;
};

/*
 * Write now_us as the token's last_used_at.  The record is read under a
 * write lock: a token revoked meanwhile stays revoked.
 */
static sup_err
touch_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct touch_args *a = arg;
	char when[TIME_STRLEN + 1];
	json_object *rec;
	sup_err e;

	e = store_get(udb(s, UDB_TOKENS), txn, a->hash, crypto_hash_sha256_BYTES,
	    DB_RMW, &rec);
	if (e == SUP_ENOTFOUND)
		return SUP_OK;
	if (e != SUP_OK)
		return e;
	time_format(a->now_us, when);
	if (!json_set(rec, "last_used_at", json_object_new_string(when)))
		e = SUP_ENOMEM;
	else
		e = store_put(udb(s, UDB_TOKENS), txn, a->hash,
		    crypto_hash_sha256_BYTES, rec, 0);
	json_object_put(rec);
	return e;
}

/*
 * Outside a transaction the answer may come from the process's cache: a
 * client polling with its token would otherwise cost two reads and two
 * JSON parses a request, most of a 304's work.  Only tokens that were
 * accepted are kept, so a wrong token always reaches the store.  The cache
 * holds the token itself, compared in constant time, so that a hit costs
 * no SHA-256 (4k instructions, a seventh of a 304); the slot is chosen by
 * the token's last bytes, which are random.
 *
 * A token revoked, or an account switched off or made a customer, by any
 * process must fail at its next request in every other.  So each change
 * that takes something away bumps the revocation generation in its own
 * transaction, and every lookup reads the generation first (one get of an
 * 8-byte value on a page the cache holds): when it has moved, the cached
 * answers are dropped.  Read first, it cannot be overtaken: an answer
 * cached after reading generation g was read from the store after g was,
 * so a change that made g + 1 either came before that read (and the read
 * saw it) or is seen by the next lookup, which drops the answer.  The read
 * costs 4k instructions; a miss (the token and the user read and parsed)
 * costs 50k, so dropping the cache would be dearer, and a time limit short
 * enough for revocation would make most lookups misses (docs/security.md
 * has the counts).  A counter in a shared memory file would cost a load,
 * but could not be bumped inside the transaction: a change committed by a
 * process that died before bumping it would go unseen for USER_CACHE_US.
 * That time limit stays for what the generation does not follow: a
 * changed display name or e-mail shows in a token's answers that late.
 *
 * last_used_at is written by a miss when it is TOKEN_USED_EVERY_US old
 * (a cached token misses every USER_CACHE_US): when a token was last used
 * is known to a minute, and a polling client costs one write a minute,
 * not one a request.  It is for the administrator's information, so a
 * write that fails does not refuse the request; the next miss tries again.
 */
sup_err
token_lookup(struct store *s, DB_TXN *txn, const char *token, size_t len,
    json_object **user_rec)
{
	uint8_t hash[crypto_hash_sha256_BYTES];
	struct touch_args t = { .hash = hash };
	struct user_cache *c;
	int64_t gen, used;
	size_t i;
	sup_err e;

	*user_rec = NULL;
	if (txn != NULL) {
		crypto_hash_sha256(hash, (const unsigned char *)token, len);
		return token_read(s, txn, hash, user_rec, &used);
	}
	if ((c = *store_cache(s, AREA_USER)) == NULL &&
	    (c = *store_cache(s, AREA_USER) = calloc(1, sizeof(*c))) == NULL)
		return SUP_ENOMEM;
	if ((e = store_count_get_db(udb(s, UDB_TOKENS), NULL, GEN_KEY,
	    GEN_KEY_LEN, &gen)) != SUP_OK)
		return e;
	if (gen != c->token_gen) {
		token_cache_clear(c);
		c->token_gen = gen;
	}
	i = len < 2 ? 0 : ((unsigned char)token[len - 1] * 31u +
	    (unsigned char)token[len - 2]) % TOKEN_CACHE_SLOTS;
	t.now_us = time_now_us();
	if (c->token[i].rec != NULL && c->token[i].len == len &&
	    sodium_memcmp(c->token[i].text, token, len) == 0 &&
	    t.now_us >= c->token[i].loaded_us &&
	    t.now_us - c->token[i].loaded_us <= USER_CACHE_US) {
		*user_rec = json_object_get(c->token[i].rec);
		return SUP_OK;
	}
	crypto_hash_sha256(hash, (const unsigned char *)token, len);
	if ((e = token_read(s, NULL, hash, user_rec, &used)) != SUP_OK)
		return e;
	if (t.now_us - used >= TOKEN_USED_EVERY_US || t.now_us < used)
		(void)store_run(s, 0, touch_txn, &t);
	if (len > TOKEN_CACHE_LEN)
		return SUP_OK;		/* not one of ours: not kept */
	json_object_put(c->token[i].rec);
	memcpy(c->token[i].text, token, len);
	c->token[i].len = len;
	c->token[i].rec = json_object_get(*user_rec);
	c->token[i].loaded_us = t.now_us;
	return SUP_OK;
}

/* --- Listing and revoking tokens ------------------------------------- */

/* A token's public object: its id and record, its owner's username. */
static json_object *
token_public(const uint8_t *hash, json_object *rec, json_object *owner)
{
	static const char *const copied[] = { "user", "name", "created_at",
		"last_used_at" };
	char id[TOKEN_ID_STRLEN + 1];
	json_object *o, *v;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	token_id(hash, id);
	if (!json_set(o, "id", json_object_new_string(id)))
		goto nomem;
	for (size_t i = 0; i < SUP_NELEM(copied); i++)
		if (json_object_object_get_ex(rec, copied[i], &v) &&
		    !json_set(o, copied[i], json_object_get(v)))
			goto nomem;
	if (owner != NULL &&
	    json_object_object_get_ex(owner, "username", &v) &&
	    !json_set(o, "username", json_object_get(v)))
		goto nomem;
	return o;
nomem:
	json_object_put(o);
	return NULL;
}

struct list_args {
	uint32_t user;		/* 0: every user's */
	json_object *list;	/* the result, built afresh by each try */
};

/* Every token (of a->user) into a->list, in the order of their hashes. */
static sup_err
list_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct list_args *a = arg;
	DBT k = { 0 }, d = { 0 };
	json_object *rec, *owner, *v, *o;
	DBC *c;
	sup_err e = SUP_OK;
	int rc;

	json_object_put(a->list);
	if ((a->list = json_object_new_array()) == NULL)
		return SUP_ENOMEM;
	if ((rc = udb(s, UDB_TOKENS)->cursor(udb(s, UDB_TOKENS), txn, &c,
	    0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		uint32_t user;

		if (k.size != crypto_hash_sha256_BYTES)
			continue;	/* the revocation generation */
		if ((e = store_parse(&d, &rec)) != SUP_OK)
			break;
		user = json_object_object_get_ex(rec, "user", &v) ?
		    (uint32_t)json_object_get_int64(v) : 0;
		if (a->user != 0 && user != a->user) {
			json_object_put(rec);
			continue;
		}
		e = user_get(s, txn, user, &owner);
		if (e == SUP_ENOTFOUND)
			e = SUP_OK;	/* listed without a username */
		o = e == SUP_OK ? token_public(k.data, rec, owner) : NULL;
		json_object_put(owner);
		json_object_put(rec);
		if (e == SUP_OK && (o == NULL ||
		    json_object_array_add(a->list, o) != 0)) {
			json_object_put(o);
			e = SUP_ENOMEM;
		}
		if (e != SUP_OK)
			break;
	}
	if (e == SUP_OK && rc != DB_NOTFOUND)
		e = store_err(rc, "token list");
	c->close(c);
	return e;
}

/* A field of a token's public object as text ("" when missing). */
static const char *
field_text(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) &&
	    json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
}

/* json_object_array_sort's order for tokens: oldest first, then by id. */
static int
older_first(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
	int c = strcmp(field_text(x, "created_at"), field_text(y, "created_at"));

	return c != 0 ? c : strcmp(field_text(x, "id"), field_text(y, "id"));
}

sup_err
token_list(struct store *s, uint32_t user, json_object **out)
{
	struct list_args a = { .user = user };
	sup_err e = store_run_json(s, STORE_READ, list_txn, &a, &a.list, out);

	if (e == SUP_OK)
		json_object_array_sort(*out, older_first);
	return e;
}

struct revoke_args {
	uint8_t hash[crypto_hash_sha256_BYTES];
	size_t known;		/* bytes of hash given: all, or an id's */
	uint8_t found[crypto_hash_sha256_BYTES];
};

/*
 * Delete the token whose hash starts with a->hash[0..a->known) and bump
 * the revocation generation.  SUP_ENOTFOUND when there is none,
 * SUP_ECONFLICT when an id is the start of two tokens' hashes.
 */
static sup_err
revoke_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct revoke_args *a = arg;
	uint8_t kbuf[crypto_hash_sha256_BYTES];
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf), .size = (u_int32_t)
		a->known, .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };	/* no value needed */
	DBT found = { .data = a->found, .size = sizeof(a->found) };
	json_object *rec, *v;
	uint32_t user;
	DBC *c;
	sup_err e;
	int rc, matches = 0;

	memcpy(kbuf, a->hash, a->known);
	if ((rc = udb(s, UDB_TOKENS)->cursor(udb(s, UDB_TOKENS), txn, &c,
	    0)) != 0)
		return store_err(rc, "cursor");
	/* The tokens from those bytes on, while they start with them. */
	for (rc = c->get(c, &k, &d, DB_SET_RANGE | DB_RMW); rc == 0;
	    rc = c->get(c, &k, &d, DB_NEXT | DB_RMW)) {
		if (k.size != sizeof(kbuf) ||
		    memcmp(kbuf, a->hash, a->known) != 0 || ++matches > 1)
			break;
		memcpy(a->found, kbuf, sizeof(kbuf));
	}
	c->close(c);
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "token revoke");
	if (matches != 1)
		return matches == 0 ? SUP_ENOTFOUND : SUP_ECONFLICT;
	if ((e = store_get(udb(s, UDB_TOKENS), txn, a->found, sizeof(a->found),
	    DB_RMW, &rec)) != SUP_OK)
		return e;
	user = json_object_object_get_ex(rec, "user", &v) ?
	    (uint32_t)json_object_get_int64(v) : 0;
	json_object_put(rec);
	if ((rc = udb(s, UDB_TOKENS)->del(udb(s, UDB_TOKENS),
	    txn, &found, 0)) != 0)
		return store_err(rc, "token revoke");
	if ((e = token_event(s, txn, EV_TOKEN_REVOKED, 0, user, a->found,
	    NULL)) != SUP_OK)
		return e;
	return gen_bump(s, txn);
}

sup_err
token_revoke(struct store *s, const char *token, size_t len,
    char id[TOKEN_ID_STRLEN + 1])
{
	struct revoke_args a = { .known = sizeof(a.hash) };
	sup_err e;

	crypto_hash_sha256(a.hash, (const unsigned char *)token, len);
	e = store_run(s, 0, revoke_txn, &a);
	if (id != NULL)
		token_id(a.hash, id);
	return e;
}

sup_err
token_revoke_id(struct store *s, const char *id)
{
	struct revoke_args a = { .known = TOKEN_ID_BYTES };
	size_t n;

	if (strlen(id) != TOKEN_ID_STRLEN ||
	    sodium_hex2bin(a.hash, sizeof(a.hash), id, TOKEN_ID_STRLEN, NULL,
	    &n, NULL) != 0 || n != TOKEN_ID_BYTES)
		return SUP_EINVAL;
	return store_run(s, 0, revoke_txn, &a);
}

struct revoke_user_args {
	uint32_t actor, user;
	long revoked;
};

/*
 * Delete every token of a->user, each with its token.revoked event, and
 * bump the revocation generation once (when there was one): a walk of
 * the tokens (they are keyed by hash, not by user), counted in
 * a->revoked.
 */
static sup_err
revoke_user_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct revoke_user_args *a = arg;
	uint8_t hash[crypto_hash_sha256_BYTES];
	DBT k = { 0 }, d = { 0 };
	json_object *rec, *v;
	DBC *c;
	sup_err e = SUP_OK;
	int rc;

	a->revoked = 0;
	if ((rc = udb(s, UDB_TOKENS)->cursor(udb(s, UDB_TOKENS), txn, &c,
	    0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = c->get(c, &k, &d, DB_NEXT | DB_RMW)) == 0) {
		uint32_t user;

		if (k.size != crypto_hash_sha256_BYTES)
			continue;	/* the revocation generation */
		if ((e = store_parse(&d, &rec)) != SUP_OK)
			break;
		user = json_object_object_get_ex(rec, "user", &v) ?
		    (uint32_t)json_object_get_int64(v) : 0;
		json_object_put(rec);
		if (user != a->user)
			continue;
		memcpy(hash, k.data, sizeof(hash));	/* the cursor's memory */
		if ((rc = c->del(c, 0)) != 0) {
			e = store_err(rc, "token revoke");
			break;
		}
		if ((e = token_event(s, txn, EV_TOKEN_REVOKED, a->actor, user,
		    hash, NULL)) != SUP_OK)
			break;
		a->revoked++;
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "token revoke");
	c->close(c);
	if (e == SUP_OK && a->revoked > 0)
		e = gen_bump(s, txn);
	return e;
}

sup_err
token_revoke_user(struct store *s, uint32_t actor, uint32_t user,
    long *revoked)
{
	struct revoke_user_args a = { .actor = actor, .user = user };
	sup_err e = store_run(s, 0, revoke_user_txn, &a);

	if (revoked != NULL)
		*revoked = e == SUP_OK ? a.revoked : 0;
	return e;
}

/* --- Erasure ----------------------------------------------------------- */

struct erase_args {
	uint32_t actor, id;
	json_object *was;	/* out: the record before */
};

bool
user_is_erased(json_object *rec)
{
	json_object *v;

	return json_object_object_get_ex(rec, "erased", &v) &&
	    json_object_get_boolean(v);
}

/* The stub that replaces the record rec of account id (new, or NULL). */
static json_object *
erased_stub(json_object *rec, uint32_t id)
{
	char name[64];
	json_object *o, *v;

	snprintf(name, sizeof(name), USER_ERASED_NAME_FMT, id);
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (!json_set(o, "id", json_object_new_int64(id)) ||
	    !json_set(o, "username", json_object_new_string(name)) ||
	    !json_set(o, "email", json_object_new_string("")) ||
	    !json_set(o, "display_name",
	    json_object_new_string(USER_ERASED_DISPLAY)) ||
	    !json_set(o, "role", json_object_object_get_ex(rec, "role", &v) ?
	    json_object_get(v) : json_object_new_string("user")) ||
	    !json_set_null(o, "password") ||
	    !json_set(o, "is_active", json_object_new_boolean(0)) ||
	    (json_object_object_get_ex(rec, "created_at", &v) &&
	    !json_set(o, "created_at", json_object_get(v))) ||
	    !json_set(o, "erased", json_object_new_boolean(1))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static sup_err
erase_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct erase_args *a = arg;
	struct revoke_user_args r = { .actor = a->actor, .user = a->id };
	uint8_t key[4];
	json_object *rec, *stub = NULL;
	struct event ev;
	sup_err e;

	json_object_put(a->was);
	a->was = NULL;
	be32_put(key, a->id);
	if ((e = store_get(udb(s, UDB_USERS), txn, key, sizeof(key), DB_RMW,
	    &rec)) != SUP_OK)
		return e;
	if (user_is_erased(rec)) {
		a->was = rec;
		return SUP_OK;
	}
	if (rec_active_admin(rec) && (e = other_admin(s, txn, a->id)) !=
	    SUP_OK)
		goto out;
	if ((stub = erased_stub(rec, a->id)) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	if ((e = store_put(udb(s, UDB_USERS), txn, key, sizeof(key), stub,
	    0)) != SUP_OK || (e = staff_note(s, txn, a->id, stub)) != SUP_OK ||
	    (e = revoke_user_txn(s, txn, &r)) != SUP_OK)
		goto out;
	event_init(&ev, EV_USER_CHANGED, a->actor);
	ev.user = a->id;
	if ((e = event_finish(s, txn, &ev, event_change(&ev, "erased",
	    json_object_new_boolean(0), json_object_new_boolean(1)))) !=
	    SUP_OK || (e = gen_bump(s, txn)) != SUP_OK)
		goto out;
	a->was = rec;
	rec = NULL;
out:
	json_object_put(stub);
	json_object_put(rec);
	return e;
}

sup_err
user_erase(struct store *s, uint32_t actor, uint32_t id, json_object **was)
{
	struct erase_args a = { .actor = actor, .id = id };
	sup_err e = store_run(s, 0, erase_txn, &a);

	if (e == SUP_OK && was != NULL)
		*was = a.was;
	else
		json_object_put(a.was);
	return e;
}

/* --- The area ---------------------------------------------------------- */

/* A user's lowercased field as the key of a unique index. */
static int
user_index_cb(const char *field, const DBT *data, DBT *result)
{
	json_object *rec, *v;
	const char *s;
	char *key;
	size_t n;
	sup_err e;

	/* Out of memory fails the write: DB_DONOTINDEX would lose the key. */
	if ((e = store_parse(data, &rec)) != SUP_OK)
		return e == SUP_ENOMEM ? ENOMEM : DB_DONOTINDEX;
	if (!json_object_object_get_ex(rec, field, &v) ||
	    (s = json_object_get_string(v)) == NULL || *s == '\0') {
		json_object_put(rec);
		return DB_DONOTINDEX;
	}
	n = strlen(s);
	if ((key = malloc(n)) == NULL) {
		json_object_put(rec);
		return ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		key[i] = (char)tolower((unsigned char)s[i]);
	json_object_put(rec);
	result->data = key;
	result->size = (u_int32_t)n;
	result->flags = DB_DBT_APPMALLOC;
	return 0;
}

static int
idx_username(DB *sec SUP_UNUSED, const DBT *k SUP_UNUSED, const DBT *d, DBT *r)
{
	return user_index_cb("username", d, r);
}

static int
idx_email(DB *sec SUP_UNUSED, const DBT *k SUP_UNUSED, const DBT *d, DBT *r)
{
	return user_index_cb("email", d, r);
}

static const struct store_db user_dbs[USER_NDB] = {
	[UDB_USERS] = { .file = "users.db", .type = DB_BTREE },
	[UDB_BY_NAME] = { .file = "users_by_name.db", .type = DB_BTREE,
		.kind = STORE_ASSOCIATED, .primary = UDB_USERS,
		.key = idx_username },
	[UDB_BY_EMAIL] = { .file = "users_by_email.db", .type = DB_BTREE,
		.kind = STORE_ASSOCIATED, .primary = UDB_USERS,
		.key = idx_email },
	[UDB_TOKENS] = { .file = "tokens.db", .type = DB_BTREE },
	[UDB_STAFF] = { .file = "staff.db", .type = DB_BTREE,
		.kind = STORE_BY_HAND, .primary = UDB_USERS },
	[UDB_AGENTS] = { .file = "agents.db", .type = DB_BTREE,
		.kind = STORE_BY_HAND, .primary = UDB_USERS },
};

/*
 * A list of agents for a store made before it (its file is not there,
 * users.db is): the users are walked outside any transaction (one page
 * locked at a time) and the list written in one, only if it is still not
 * there (a change since has written it, counting every user).  The
 * marker protocol (store.h: struct store_build) keeps the other openers
 * waiting meanwhile.
 */
struct staff_build {
	enum staff_which which;
	uint32_t *ids;
	size_t n, cap;
};

/* Is list which's file missing from a store that has users? */
static bool
list_due(const struct store *s, enum staff_which which)
{
	return store_has_file(s, "users.db") && !store_has_file(s,
	    user_dbs[staff_lists[which].db].file);
}

/* user_each's callback: note an account the list keeps. */
static sup_err
staff_collect(void *ctx, json_object *rec)
{
	struct staff_build *b = ctx;
	json_object *v;

	if (!staff_lists[b->which].keeps(rec) ||
	    !json_object_object_get_ex(rec, "id", &v))
		return SUP_OK;
	if (b->n == b->cap) {
		size_t c = b->cap ? b->cap * 2 : 16;
		uint32_t *g = realloc(b->ids, c * sizeof(*g));
		if (g == NULL)
			return SUP_ENOMEM;
		b->ids = g;
		b->cap = c;
	}
	b->ids[b->n++] = (uint32_t)json_object_get_int64(v);
	return SUP_OK;
}

static sup_err
staff_build_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct staff_build *b = arg;
	const char *key = staff_lists[b->which].key;
	json_object *was;
	sup_err e;

	e = store_get(udb(s, staff_lists[b->which].db), txn, key, strlen(key),
	    DB_RMW, &was);
	json_object_put(was);
	if (e == SUP_OK)
		return SUP_OK;		/* written by a change since */
	if (e != SUP_ENOTFOUND)
		return e;
	return staff_write(s, txn, b->which, b->ids, b->n);
}

static sup_err
list_run(struct store *s, enum staff_which which)
{
	struct staff_build b = { .which = which };
	sup_err e;

	fprintf(stderr, "support: building %s from the users "
	    "(a store of an older version)\n",
	    user_dbs[staff_lists[which].db].file);
	if ((e = user_each(s, staff_collect, &b)) == SUP_OK)
		e = store_run(s, 0, staff_build_txn, &b);
	free(b.ids);
	return e;
}

static bool
staff_due(const struct store *s)
{
	return list_due(s, STAFF_AVAILABLE);
}

static sup_err
staff_run(struct store *s)
{
	return list_run(s, STAFF_AVAILABLE);
}

static bool
agents_due(const struct store *s)
{
	return list_due(s, STAFF_AGENTS);
}

static sup_err
agents_run(struct store *s)
{
	return list_run(s, STAFF_AGENTS);
}

static const struct store_build user_builds[] = {
	{ "staff.build", staff_due, staff_run },
	{ "agents.build", agents_due, agents_run },
};

/* verify: list which is the users' (staff_lists). */
static sup_err
list_verify(struct store *s, struct store_check *c, enum staff_which which)
{
	const char *file = user_dbs[staff_lists[which].db].file;
	const char *what = staff_lists[which].what;
	struct staff_build b = { .which = which };
	uint32_t *ids = NULL;
	size_t n = 0;
	sup_err e;

	if ((e = user_each(s, staff_collect, &b)) != SUP_OK)
		goto out;
	e = staff_read(s, NULL, which, 0, &ids, &n);
	if (e == SUP_EDB) {
		store_problem(c, "%s: the list of %s is not a list of ids in "
		    "order", file, what);
		e = SUP_OK;
		goto out;
	}
	if (e != SUP_OK)
		goto out;
	if (n != b.n || (n > 0 && memcmp(ids, b.ids, n * sizeof(*ids)) != 0))
		store_problem(c, "%s: the list of %s (%zu) is not the "
		    "users' (%zu)", file, what, n, b.n);
out:
	free(ids);
	free(b.ids);
	return e;
}

/* verify: the lists of agents are the users' (staff.db, agents.db). */
static sup_err
user_verify(struct store *s, struct store_check *c)
{
	sup_err e = SUP_OK;

	for (int i = 0; i < STAFF_NLISTS && e == SUP_OK; i++)
		e = list_verify(s, c, i);
	return e;
}

static const struct store_seq user_seqs[USER_NSEQ] = {
	[USEQ_ID] = { .name = "user_id", .in = "seqs.db" },
};

/*
 * The cache of public texts and of accepted tokens is made when first
 * needed (user_public_text, token_lookup).
 */
const struct store_area user_area = {
	.name = "users",
	.db = user_dbs,
	.ndb = USER_NDB,
	.seq = user_seqs,
	.nseq = USER_NSEQ,
	.build = user_builds,
	.nbuild = SUP_NELEM(user_builds),
	.verify = user_verify,
	.cache_free = user_cache_free,
};
