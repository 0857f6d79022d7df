/*
 * sess.c - sessions in the store, and login throttling.  Their cookies
 * and CSRF tokens are cookie.c's.
 *
 * A user's sessions must be found to end them at a password change, and a
 * new secondary index is not wanted (DB->associate with DB_CREATE over a
 * large store runs out of locks).  So sessions.db holds two kinds of key,
 * written together in one transaction:
 *   'S' hash(32)           -> the session record
 *   'U' user(4) hash(32)   -> {}   (a user's sessions are one key range)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "areas.h"
#include "event.h"
#include "sess.h"
#include "user.h"
#include "util.h"

/*
 * The sessions' area of the store: sessions.db (above) and throttle.db,
 *   'a' address | 'u' user(4) | 'n' name -> {failures, since}
 * declared at the end of the file.
 */
enum sess_db { SDB_SESSIONS, SDB_THROTTLE, SESS_NDB };

static inline DB *
sessions_db(const struct store *s)
{
	return store_db(s, AREA_SESS, SDB_SESSIONS);
}

static inline DB *
throttle_db(const struct store *s)
{
	return store_db(s, AREA_SESS, SDB_THROTTLE);
}

#define S_KEY_LEN (1 + SESS_HASH_LEN)
#define U_KEY_LEN (1 + 4 + SESS_HASH_LEN)
#define T_KEY_MAX (1 + EMAIL_MAX)
#define US 1000000LL
#define SEEN_EVERY_US (60 * US)	/* last_seen_at written at most this often */
#define PURGE_BATCH 200		/* records read per purge transaction */

static const struct sup_errdef sess_errdefs[] = {
	{ SESS_ETHROTTLE, SUP_ERATE, "too_many_attempts",
	    "Too many failed logins; try again later.", NULL, NULL },
	{ SESS_ECREDS, SUP_EUNAUTH, "invalid_credentials",
	    "Wrong username, e-mail or password.", NULL, NULL },
};
SUP_ERRORS(sess_errors, SUP_AREA_SESSIONS, sess_errdefs)

/* The key of a session record, from the hash of its id. */
static void
s_key(uint8_t key[S_KEY_LEN], const uint8_t hash[SESS_HASH_LEN])
{
	key[0] = 'S';
	memcpy(key + 1, hash, SESS_HASH_LEN);
}

/* The key that lists the session under its user. */
static void
u_key(uint8_t key[U_KEY_LEN], uint32_t user, const uint8_t hash[SESS_HASH_LEN])
{
	key[0] = 'U';
	be32_put(key + 1, user);
	memcpy(key + 5, hash, SESS_HASH_LEN);
}

/* A field of a record as text, or "" when missing. */
static const char *
rec_str(json_object *rec, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(rec, name, &v))
		return "";
	return json_object_get_string(v) ? json_object_get_string(v) : "";
}

/* Fill info from a stored session record; false when it is malformed. */
static bool
info_of(json_object *rec, struct sess_info *info)
{
	json_object *v;
	const char *csrf = rec_str(rec, "csrf");

	memset(info, 0, sizeof(*info));
	if (!json_object_object_get_ex(rec, "user", &v) ||
	    !time_parse(rec_str(rec, "created_at"), &info->created_us) ||
	    !time_parse(rec_str(rec, "last_seen_at"), &info->seen_us) ||
	    !cookie_token_valid(csrf))
		return false;
	info->user = (uint32_t)json_object_get_int64(v);
	memcpy(info->csrf, csrf, CSRF_TOKEN_STRLEN + 1);
	return true;
}

/* --- Create ----------------------------------------------------------- */

struct create_args {
	json_object *rec;
	uint32_t user;
	const uint8_t *hash;
	const char *addr;
};

/*
 * The event of a login: login.succeeded when a session begins (an API
 * request's own credentials are no login, and append nothing),
 * login.failed when a name and password were refused (user: the account
 * named, 0 when none; a throttled attempt appends nothing, so that
 * hammering costs the log nothing).  addr: the client's address, or NULL.
 */
static sup_err
login_event(struct store *s, DB_TXN *txn, enum event_type type,
    uint32_t user, const char *addr)
{
	struct event ev;
	size_t n = addr != NULL ? strlen(addr) : 0;
	sup_err e = SUP_OK;

	event_init(&ev, type, type == EV_LOGIN_SUCCEEDED ? user : 0);
	ev.user = user;
	if (addr != NULL)
		e = event_data_str(&ev, "addr", addr, n < SESS_ADDR_MAX ? n :
		    SESS_ADDR_MAX);
	return event_finish(s, txn, &ev, e);
}

/* Write a new session's record and its user's key. */
static sup_err
create_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct create_args *a = arg;
	uint8_t sk[S_KEY_LEN], uk[U_KEY_LEN];
	json_object *empty = json_object_new_object();
	sup_err e;

	if (empty == NULL)
		return SUP_ENOMEM;
	s_key(sk, a->hash);
	u_key(uk, a->user, a->hash);
	if ((e = store_put(sessions_db(s), txn, sk, sizeof(sk), a->rec,
	    DB_NOOVERWRITE)) == SUP_OK &&
	    (e = store_put(sessions_db(s), txn, uk, sizeof(uk), empty, 0)) ==
	    SUP_OK)
		e = login_event(s, txn, EV_LOGIN_SUCCEEDED, a->user, a->addr);
	json_object_put(empty);
	return e;
}

/* A copy of s cut to at most max bytes (not inside a UTF-8 sequence). */
static json_object *
capped_string(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return json_object_new_string_len(s ? s : "", (int)n);
}

sup_err
sess_create(struct store *s, uint32_t user, const char *addr,
    const char *agent, char id[SESS_ID_STRLEN + 1],
    char csrf[CSRF_TOKEN_STRLEN + 1], uint8_t hash[SESS_HASH_LEN])
{
	uint8_t raw[SESS_ID_BYTES], h[SESS_HASH_LEN];
	char now[TIME_STRLEN + 1], token[CSRF_TOKEN_STRLEN + 1];
	struct create_args a = { .user = user, .hash = h, .addr = addr };
	sup_err e;

	randombytes_buf(raw, sizeof(raw));
	crypto_hash_sha256(h, raw, sizeof(raw));
	cookie_new_token(token);
	time_format(time_now_us(), now);
	if ((a.rec = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if (!json_set(a.rec, "user", json_object_new_int64(user)) ||
	    !json_set(a.rec, "created_at", json_object_new_string(now)) ||
	    !json_set(a.rec, "last_seen_at", json_object_new_string(now)) ||
	    !json_set(a.rec, "csrf", json_object_new_string(token)) ||
	    !json_set(a.rec, "addr", capped_string(addr, SESS_ADDR_MAX)) ||
	    !json_set(a.rec, "agent", capped_string(agent, SESS_AGENT_MAX)))
		e = SUP_ENOMEM;
	else
		e = store_run(s, 0, create_txn, &a);
	json_object_put(a.rec);
	if (e != SUP_OK)
		goto out;
	if (id != NULL)
		sodium_bin2base64(id, SESS_ID_STRLEN + 1, raw, sizeof(raw),
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (csrf != NULL)
		memcpy(csrf, token, sizeof(token));
	if (hash != NULL)
		memcpy(hash, h, sizeof(h));
out:
	sodium_memzero(raw, sizeof(raw));
	return e;
}

/* --- Look up, refresh, delete --------------------------------------- */

/* Delete both keys of a session inside txn. */
static sup_err
delete_keys(struct store *s, DB_TXN *txn, uint32_t user,
    const uint8_t hash[SESS_HASH_LEN])
{
	uint8_t sk[S_KEY_LEN], uk[U_KEY_LEN];
	DBT k1 = { .data = sk, .size = sizeof(sk) };
	DBT k2 = { .data = uk, .size = sizeof(uk) };
	int rc;

	s_key(sk, hash);
	u_key(uk, user, hash);
	rc = sessions_db(s)->del(sessions_db(s), txn, &k1, 0);
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "session delete");
	rc = sessions_db(s)->del(sessions_db(s), txn, &k2, 0);
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "session delete");
	return SUP_OK;
}

struct lookup_args {
	const uint8_t *hash;
	json_object *rec;	/* read */
	int64_t now_us;		/* refresh: the new last_seen */
	bool expire;		/* the write: delete rather than refresh */
};

/* Read the session record into a->rec (new; the caller puts it). */
static sup_err
read_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct lookup_args *a = arg;
	uint8_t sk[S_KEY_LEN];

	json_object_put(a->rec);
	a->rec = NULL;
	s_key(sk, a->hash);
	return store_get(sessions_db(s), txn, sk, sizeof(sk), 0, &a->rec);
}

/*
 * Refresh last_seen_at, or delete an expired session.  The record is read
 * again under a write lock: a logout in between must not be undone.
 */
static sup_err
write_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct lookup_args *a = arg;
	uint8_t sk[S_KEY_LEN];
	char now[TIME_STRLEN + 1];
	struct sess_info info;
	json_object *rec;
	sup_err e;

	s_key(sk, a->hash);
	e = store_get(sessions_db(s), txn, sk, sizeof(sk), DB_RMW, &rec);
	if (e == SUP_ENOTFOUND)
		return SUP_OK;
	if (e != SUP_OK)
		return e;
	if (a->expire || !info_of(rec, &info)) {
		json_object *v;
		uint32_t user = json_object_object_get_ex(rec, "user", &v) ?
		    (uint32_t)json_object_get_int64(v) : 0;
		e = delete_keys(s, txn, user, a->hash);
	} else {
		time_format(a->now_us, now);
		e = json_set(rec, "last_seen_at", json_object_new_string(now)) ?
		    store_put(sessions_db(s), txn, sk, sizeof(sk), rec, 0) :
		    SUP_ENOMEM;
	}
	json_object_put(rec);
	return e;
}

/* Has the session expired at now_us? */
static bool
expired(const struct sup_conf *conf, const struct sess_info *info,
    int64_t now_us)
{
	return now_us - info->seen_us > conf->session_idle_s * US ||
	    now_us - info->created_us > conf->session_max_s * US;
}

sup_err
sess_lookup(struct store *s, const struct sup_conf *conf, const char *id,
    int64_t now_us, struct sess_info *info, uint8_t hash[SESS_HASH_LEN])
{
	uint8_t raw[SESS_ID_BYTES];
	struct lookup_args a = { .hash = hash, .now_us = now_us };
	int64_t every = conf->session_idle_s * US / 2;
	size_t len;
	sup_err e;

	memset(info, 0, sizeof(*info));
	if (id == NULL || strlen(id) != SESS_ID_STRLEN ||
	    sodium_base642bin(raw, sizeof(raw), id, SESS_ID_STRLEN, NULL,
	    &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    len != sizeof(raw))
		return SUP_ENOTFOUND;
	crypto_hash_sha256(hash, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	if ((e = store_run(s, STORE_READ, read_txn, &a)) != SUP_OK)
		goto out;
	if (!info_of(a.rec, info) || expired(conf, info, now_us)) {
		a.expire = true;
		e = store_run(s, 0, write_txn, &a);
		if (e == SUP_OK)
			e = SUP_ENOTFOUND;
		goto out;
	}
	if (every > SEEN_EVERY_US)
		every = SEEN_EVERY_US;
	if (now_us - info->seen_us >= every) {
		if ((e = store_run(s, 0, write_txn, &a)) != SUP_OK)
			goto out;
		info->seen_us = now_us;
	}
out:
	json_object_put(a.rec);
	if (e != SUP_OK)
		memset(info, 0, sizeof(*info));
	return e;
}

sup_err
sess_delete(struct store *s, const uint8_t hash[SESS_HASH_LEN])
{
	struct lookup_args a = { .hash = hash, .expire = true };

	return store_run(s, 0, write_txn, &a);
}

/* --- A user's sessions ----------------------------------------------- */

struct end_args {
	uint32_t user;
	const uint8_t *keep;
	long ended;
	bool revoke;		/* sess_revoke_user: log it, by actor */
	uint32_t actor;
};

/*
 * Delete the sessions of a->user but a->keep, counting them in a->ended:
 * a walk of the user's 'U' key range.
 */
static sup_err
end_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct end_args *a = arg;
	uint8_t prefix[5], hash[SESS_HASH_LEN];
	uint8_t kbuf[U_KEY_LEN];
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf), .size = sizeof(prefix),
		.flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };	/* no value needed */
	DBC *c;
	sup_err e = SUP_OK;
	int rc;

	a->ended = 0;
	prefix[0] = 'U';
	be32_put(prefix + 1, a->user);
	memcpy(kbuf, prefix, sizeof(prefix));
	if ((rc = sessions_db(s)->cursor(sessions_db(s), txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	/* Collect and delete one at a time: the cursor is re-positioned. */
	for (rc = c->get(c, &k, &d, DB_SET_RANGE | DB_RMW); rc == 0;
	    rc = c->get(c, &k, &d, DB_NEXT | DB_RMW)) {
		if (k.size != U_KEY_LEN || memcmp(kbuf, prefix, 5) != 0)
			break;
		memcpy(hash, kbuf + 5, SESS_HASH_LEN);
		if (a->keep != NULL &&
		    memcmp(hash, a->keep, SESS_HASH_LEN) == 0)
			continue;
		if ((e = delete_keys(s, txn, a->user, hash)) != SUP_OK)
			break;
		a->ended++;
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "session list");
	c->close(c);
	if (e == SUP_OK && a->revoke && a->ended > 0) {
		struct event ev;

		event_init(&ev, EV_SESSIONS_REVOKED, a->actor);
		ev.user = a->user;
		e = event_finish(s, txn, &ev, event_data_int(&ev, "count",
		    a->ended));
	}
	return e;
}

sup_err
sess_revoke_user(struct store *s, uint32_t actor, uint32_t user,
    const uint8_t *keep, long *ended)
{
	struct end_args a = { .user = user, .keep = keep, .revoke = true,
		.actor = actor };
	sup_err e = store_run(s, 0, end_txn, &a);

	if (ended != NULL)
		*ended = e == SUP_OK ? a.ended : 0;
	return e;
}

sup_err
sess_end_user(struct store *s, uint32_t user, const uint8_t *keep,
    long *ended)
{
	struct end_args a = { .user = user, .keep = keep };
	sup_err e = store_run(s, 0, end_txn, &a);

	if (ended != NULL)
		*ended = e == SUP_OK ? a.ended : 0;
	return e;
}

/* --- A user's data: export and erasure ------------------------------ */

struct user_list_args {
	uint32_t user;
	json_object *array;
	size_t had;		/* the array's length before: a retry resets */
};

/* The metadata of a->user's sessions, read through the 'U' range. */
static sup_err
user_list_txn(struct store *s, DB_TXN *txn, void *arg)
{
	static const char *const fields[] = { "created_at", "last_seen_at",
	    "addr", "agent" };
	struct user_list_args *a = arg;
	uint8_t prefix[5], kbuf[U_KEY_LEN], sk[S_KEY_LEN];
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf), .size = sizeof(prefix),
		.flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };
	json_object *rec, *item, *v;
	sup_err e = SUP_OK;
	DBC *c;
	int rc;

	while (json_object_array_length(a->array) > a->had)
		json_object_array_del_idx(a->array,
		    json_object_array_length(a->array) - 1, 1);
	prefix[0] = 'U';
	be32_put(prefix + 1, a->user);
	memcpy(kbuf, prefix, sizeof(prefix));
	if ((rc = sessions_db(s)->cursor(sessions_db(s), txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	for (rc = c->get(c, &k, &d, DB_SET_RANGE); rc == 0;
	    rc = c->get(c, &k, &d, DB_NEXT)) {
		if (k.size != U_KEY_LEN || memcmp(kbuf, prefix, 5) != 0)
			break;
		s_key(sk, kbuf + 5);
		e = store_get(sessions_db(s), txn, sk, sizeof(sk), 0, &rec);
		if (e == SUP_ENOTFOUND) {
			e = SUP_OK;
			continue;
		}
		if (e != SUP_OK)
			break;
		if ((item = json_object_new_object()) == NULL ||
		    json_object_array_add(a->array, item) != 0) {
			json_object_put(item);
			json_object_put(rec);
			e = SUP_ENOMEM;
			break;
		}
		for (size_t i = 0; i < SUP_NELEM(fields) && e == SUP_OK; i++)
			if (json_object_object_get_ex(rec, fields[i], &v) &&
			    !json_set(item, fields[i], json_object_get(v)))
				e = SUP_ENOMEM;
		json_object_put(rec);
		if (e != SUP_OK)
			break;
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "session list");
	c->close(c);
	return e;
}

sup_err
sess_user_list(struct store *s, uint32_t user, json_object *array)
{
	struct user_list_args a = { .user = user, .array = array,
	    .had = json_object_array_length(array) };

	return store_run(s, STORE_READ, user_list_txn, &a);
}

struct forget_args {
	uint32_t user;
	const char *const *names;
};

static sup_err
forget_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct forget_args *a = arg;
	uint8_t key[T_KEY_MAX];
	DBT k = { .data = key };
	int rc;

	key[0] = 'u';
	be32_put(key + 1, a->user);
	k.size = 5;
	rc = throttle_db(s)->del(throttle_db(s), txn, &k, 0);
	for (size_t i = 0; a->names[i] != NULL && (rc == 0 ||
	    rc == DB_NOTFOUND); i++) {
		size_t n = strlen(a->names[i]);

		if (n == 0 || n > T_KEY_MAX - 1)
			continue;
		key[0] = 'n';
		for (size_t j = 0; j < n; j++)
			key[1 + j] = (uint8_t)tolower((unsigned char)
			    a->names[i][j]);
		k.size = (u_int32_t)(1 + n);
		rc = throttle_db(s)->del(throttle_db(s), txn, &k, 0);
	}
	return rc == DB_NOTFOUND ? SUP_OK : store_err(rc, "throttle forget");
}

sup_err
sess_user_forget(struct store *s, uint32_t user, const char *const *names)
{
	struct forget_args a = { .user = user, .names = names };

	return store_run(s, 0, forget_txn, &a);
}

/* --- Purge ------------------------------------------------------------ */

/*
 * A batch reads from and writes next, done and removed; the caller moves
 * next to from and adds removed to its total only once the batch's
 * transaction has committed.  A batch run again (a deadlock, a reopen
 * after recovery) then starts where the first try started, and counts
 * nothing twice.
 */
struct purge_args {
	const struct sup_conf *conf;
	int64_t now_us;
	uint8_t from[T_KEY_MAX];	/* where this batch starts */
	size_t from_len;
	uint8_t next[T_KEY_MAX];	/* where the next one starts */
	size_t next_len;
	bool done;
	long removed;
	DB *db;
};

/* Is the stored record of key (in a->db) out of date? */
static bool
stale(const struct purge_args *a, const DBT *k, json_object *rec)
{
	struct sess_info info;
	json_object *v;
	int64_t since;

	if (((uint8_t *)k->data)[0] == 'S')
		return !info_of(rec, &info) || expired(a->conf, &info,
		    a->now_us);
	if (((uint8_t *)k->data)[0] == 'U' || !json_object_object_get_ex(rec,
	    "since", &v))
		return false;
	return !time_parse(json_object_get_string(v), &since) ||
	    a->now_us - since >= a->conf->login_window_s * US;
}

/*
 * One batch: look at up to PURGE_BATCH records from a->from and delete the
 * stale ones.  Session records go with their 'U' key.
 */
static sup_err
purge_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct purge_args *a = arg;
	uint8_t kbuf[T_KEY_MAX];
	DBT k = { .data = kbuf, .ulen = sizeof(kbuf),
		.flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_MALLOC };
	long removed = 0;
	DBC *c;
	sup_err e = SUP_OK;
	int rc, n = 0;
	uint32_t flag = DB_SET_RANGE;

	memcpy(kbuf, a->from, a->from_len);
	k.size = (u_int32_t)a->from_len;
	if (a->from_len == 0)
		flag = DB_FIRST;
	if ((rc = a->db->cursor(a->db, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	a->done = true;
	a->removed = 0;
	while ((rc = c->get(c, &k, &d, flag | DB_RMW)) == 0) {
		json_object *rec;
		flag = DB_NEXT;
		if (n++ == PURGE_BATCH) {
			/* Start the next batch here. */
			memcpy(a->next, kbuf, k.size);
			a->next_len = k.size;
			a->done = false;
			free(d.data);
			break;
		}
		e = store_parse(&d, &rec);
		free(d.data);
		d.data = NULL;
		if (e != SUP_OK)
			break;
		if (stale(a, &k, rec)) {
			if (a->db == sessions_db(s) && k.size == S_KEY_LEN) {
				json_object *v;
				uint32_t user = json_object_object_get_ex(rec,
				    "user", &v) ? (uint32_t)
				    json_object_get_int64(v) : 0;
				uint8_t uk[U_KEY_LEN];
				DBT ukey = { .data = uk, .size = sizeof(uk) };
				u_key(uk, user, kbuf + 1);
				rc = a->db->del(a->db, txn, &ukey, 0);
				if (rc != 0 && rc != DB_NOTFOUND) {
					json_object_put(rec);
					e = store_err(rc, "purge");
					break;
				}
			}
			if ((rc = c->del(c, 0)) != 0) {
				json_object_put(rec);
				e = store_err(rc, "purge");
				break;
			}
			removed++;
		}
		json_object_put(rec);
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "purge");
	c->close(c);
	a->removed = removed;
	return e;
}

sup_err
sess_purge(struct store *s, const struct sup_conf *conf, int64_t now_us,
    long *removed)
{
	DB *dbs[2] = { sessions_db(s), throttle_db(s) };
	struct purge_args a = { .conf = conf, .now_us = now_us };
	long total = 0;
	sup_err e = SUP_OK;

	for (int i = 0; i < 2 && e == SUP_OK; i++) {
		a.db = dbs[i];
		a.from_len = 0;
		while ((e = store_run(s, 0, purge_txn, &a)) == SUP_OK) {
			total += a.removed;
			if (a.done)
				break;
			memcpy(a.from, a.next, a.next_len);
			a.from_len = a.next_len;
		}
	}
	if (removed != NULL)
		*removed = total;
	return e;
}

sup_err
sess_begin(struct store *s, const struct sup_conf *conf, struct sup_req *r,
    uint32_t user)
{
	char id[SESS_ID_STRLEN + 1], csrf[CSRF_TOKEN_STRLEN + 1];
	sup_err e;

	if (r->by_cookie && (e = sess_delete(s, r->sess_key)) != SUP_OK)
		return e;
	if ((e = sess_create(s, user, req_env(r, "REMOTE_ADDR"),
	    req_env(r, "HTTP_USER_AGENT"), id, csrf, r->sess_key)) != SUP_OK)
		return e;
	r->by_cookie = true;
	memcpy(r->csrf, csrf, sizeof(r->csrf));
	e = cookie_set(r, conf, id, csrf);
	sodium_memzero(id, sizeof(id));
	return e;
}

/* --- Login throttling ------------------------------------------------- */

struct throttle_args {
	const struct sup_conf *conf;
	int64_t now_us;
	uint8_t key[2][T_KEY_MAX];	/* [0] the account, [1] the address */
	size_t klen[2];
	long limit[2];
	long retry_after;		/* reserve: seconds to wait, or 0 */
};

/* failures and window start of a throttle record; 0 when it is stale. */
static long
failures_of(const struct throttle_args *a, json_object *rec, int64_t *since)
{
	json_object *v;

	*since = 0;
	if (rec == NULL || !json_object_object_get_ex(rec, "since", &v) ||
	    !time_parse(json_object_get_string(v), since) ||
	    a->now_us - *since >= a->conf->login_window_s * US ||
	    !json_object_object_get_ex(rec, "failures", &v))
		return 0;
	return (long)json_object_get_int64(v);
}

/* Write n failures counted since the time since under key i. */
static sup_err
put_failures(struct store *s, DB_TXN *txn, const struct throttle_args *a,
    int i, long n, int64_t since)
{
	char when[TIME_STRLEN + 1];
	json_object *rec;
	sup_err e;

	time_format(since, when);
	if ((rec = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if (!json_set(rec, "failures", json_object_new_int64(n)) ||
	    !json_set(rec, "since", json_object_new_string(when)))
		e = SUP_ENOMEM;
	else
		e = store_put(throttle_db(s), txn, a->key[i], a->klen[i], rec,
		    0);
	json_object_put(rec);
	return e;
}

/*
 * Reserve a login attempt: when neither the account nor the address is
 * at its limit, count one failure against both, in the transaction that
 * read the counts (their records write-locked), so that parallel logins
 * queue on the lock and each sees the ones before it.  The password is
 * checked after the commit; a good one gives its reservation back
 * (release_txn).  Otherwise a->retry_after gets the seconds until the
 * later window ends, and nothing is written.
 */
static sup_err
reserve_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct throttle_args *a = arg;
	json_object *rec;
	int64_t since[2];
	long n[2];
	sup_err e;

	a->retry_after = 0;
	for (int i = 0; i < 2; i++) {
		e = store_get(throttle_db(s), txn, a->key[i], a->klen[i],
		    DB_RMW, &rec);
		if (e != SUP_OK && e != SUP_ENOTFOUND)
			return e;
		n[i] = failures_of(a, rec, &since[i]);
		json_object_put(rec);
		if (n[i] >= a->limit[i]) {
			long wait = (long)((since[i] + a->conf->login_window_s *
			    US - a->now_us + US - 1) / US);
			if (wait < 1)
				wait = 1;
			if (wait > a->retry_after)
				a->retry_after = wait;
		}
	}
	if (a->retry_after > 0)
		return SUP_OK;
	for (int i = 0; i < 2; i++)
		if ((e = put_failures(s, txn, a, i, n[i] + 1,
		    n[i] == 0 ? a->now_us : since[i])) != SUP_OK)
			return e;
	return SUP_OK;
}

/*
 * After a good password: the account's failures are forgotten, and the
 * address gets back the one its reservation counted.
 */
static sup_err
release_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct throttle_args *a = arg;
	DBT k = { .data = a->key[0], .size = (u_int32_t)a->klen[0] };
	json_object *rec;
	int64_t since;
	long n;
	sup_err e;
	int rc;

	rc = throttle_db(s)->del(throttle_db(s), txn, &k, 0);
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "throttle clear");
	e = store_get(throttle_db(s), txn, a->key[1], a->klen[1], DB_RMW, &rec);
	if (e == SUP_ENOTFOUND)
		return SUP_OK;
	if (e != SUP_OK)
		return e;
	n = failures_of(a, rec, &since);
	json_object_put(rec);
	if (n > 1)
		return put_failures(s, txn, a, 1, n - 1, since);
	k = (DBT){ .data = a->key[1], .size = (u_int32_t)a->klen[1] };
	rc = throttle_db(s)->del(throttle_db(s), txn, &k, 0);
	return rc == DB_NOTFOUND ? SUP_OK : store_err(rc, "throttle clear");
}

/*
 * The throttle keys: the account ('u' and its id when the name is known,
 * else 'n' and the name typed, lowercased) and the address ('a').
 */
static void
throttle_keys(struct throttle_args *a, json_object *user, const char *name,
    const char *addr)
{
	json_object *v;
	size_t n;

	if (user != NULL && json_object_object_get_ex(user, "id", &v)) {
		a->key[0][0] = 'u';
		be32_put(a->key[0] + 1, (uint32_t)json_object_get_int64(v));
		a->klen[0] = 5;
	} else {
		n = strlen(name);
		if (n > T_KEY_MAX - 1)
			n = T_KEY_MAX - 1;
		a->key[0][0] = 'n';
		for (size_t i = 0; i < n; i++)
			a->key[0][1 + i] = (uint8_t)tolower((unsigned char)
			    name[i]);
		a->klen[0] = 1 + n;
	}
	n = addr ? strlen(addr) : 0;
	if (n > SESS_ADDR_MAX)
		n = SESS_ADDR_MAX;
	a->key[1][0] = 'a';
	if (n > 0)
		memcpy(a->key[1] + 1, addr, n);
	a->klen[1] = 1 + n;
}

struct failed_args {
	const char *addr;
	uint32_t user;
};

static sup_err
failed_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct failed_args *a = arg;

	return login_event(s, txn, EV_LOGIN_FAILED, a->user, a->addr);
}

sup_err
sess_login(struct store *s, const struct sup_conf *conf, const char *name,
    const char *password, size_t plen, const char *addr, int64_t now_us,
    long *retry_after, json_object **user_rec)
{
	struct throttle_args a = {
		.conf = conf, .now_us = now_us,
		.limit = { conf->login_fails_account,
		    conf->login_fails_address },
	};
	json_object *user = NULL, *v;
	sup_err e;

	*retry_after = 0;
	*user_rec = NULL;
	e = user_find(s, NULL, name, &user);
	if (e != SUP_OK && e != SUP_ENOTFOUND)
		return e;
	throttle_keys(&a, user, name, addr);
	if ((e = store_run(s, 0, reserve_txn, &a)) != SUP_OK)
		goto out;
	if (a.retry_after > 0) {
		*retry_after = a.retry_after;
		e = SESS_ETHROTTLE;
		goto out;
	}
	/* One verification, whatever the account (user_verify_password). */
	if (!user_verify_password(user, password, plen)) {
		struct failed_args f = { .addr = addr, .user = user != NULL &&
		    json_object_object_get_ex(user, "id", &v) ?
		    (uint32_t)json_object_get_int64(v) : 0 };
		if ((e = store_run(s, 0, failed_txn, &f)) == SUP_OK)
			e = SESS_ECREDS;
		goto out;
	}
	if ((e = store_run(s, 0, release_txn, &a)) != SUP_OK)
		goto out;
	*user_rec = user;
	user = NULL;
out:
	json_object_put(user);
	return e;
}

/* --- The area ---------------------------------------------------------- */

static const struct store_db sess_dbs[SESS_NDB] = {
	[SDB_SESSIONS] = { .file = "sessions.db", .type = DB_BTREE },
	[SDB_THROTTLE] = { .file = "throttle.db", .type = DB_BTREE },
};

const struct store_area sess_area = {
	.name = "sessions",
	.db = sess_dbs,
	.ndb = SESS_NDB,
};
