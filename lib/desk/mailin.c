/*
 * mailin.c - the store's side of support-mailin (lib/desk/mailin.h): the
 * per-sender hourly counts (the mail_senders area), the Message-IDs of
 * the mails taken (mail_seen), a ticket by its number, the account of a
 * sender.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "areas.h"
#include "attach.h"
#include "mailin.h"
#include "msg.h"
#include "tstore.h"
#include "user.h"
#include "view.h"

enum mailin_db { MDB_SENDERS, MDB_SEEN, MDB_SEEN_TIME, MDB_SEEN_TICKET,
	MDB_SEEN_USER, MAILIN_NDB };

/* A mail_seen record: taken_us(8) ticket(16) message(16) user(4). */
#define SEEN_AT 0
#define SEEN_TICKET 8
#define SEEN_MESSAGE (SEEN_TICKET + UUID_LEN)
#define SEEN_USER (SEEN_MESSAGE + UUID_LEN)
#define SEEN_LEN (SEEN_USER + 4)
#define SEEN_TAG "support-mailin-seen-v1"
#define SEEN_FORGET_BATCH 500	/* an erasure's entries a transaction */

#define HOUR_US (3600 * 1000000LL)
#define RATE_KEY_MAX (8 + EMAIL_MAX)

static DB *
senders_db(const struct store *s)
{
	return store_db(s, AREA_MAILIN, MDB_SENDERS);
}

struct rate_args {
	uint8_t key[RATE_KEY_MAX];
	size_t klen;
	int64_t hour;
	int64_t count;
};

/*
 * Remove up to MAILIN_SWEEP entries of hours before a->hour: they are the
 * first keys (the hour leads the key), so the walk stops at the first
 * entry of the current hour.
 */
static sup_err
rate_sweep(struct store *s, DB_TXN *txn, const struct rate_args *a)
{
	uint8_t kb[RATE_KEY_MAX + 1];
	uint8_t vb[16];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT d = { .data = vb, .ulen = sizeof(vb), .flags = DB_DBT_USERMEM };
	DBC *cur = NULL;
	sup_err e = SUP_OK;
	int rc;

	if ((rc = senders_db(s)->cursor(senders_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "mail_senders cursor");
	for (int i = 0; i < MAILIN_SWEEP; i++) {
		rc = cur->get(cur, &k, &d, DB_NEXT | DB_RMW);
		if (rc == DB_NOTFOUND)
			break;
		if (rc != 0) {
			e = store_err(rc, "mail_senders sweep");
			break;
		}
		if (k.size < 8 || (int64_t)be64_get(kb) >= a->hour)
			break;
		if ((rc = cur->del(cur, 0)) != 0) {
			e = store_err(rc, "mail_senders del");
			break;
		}
	}
	cur->close(cur);
	return e;
}

static sup_err
rate_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct rate_args *a = arg;
	sup_err e;

	/* Counted first: two mails of one sender queue on its key. */
	if ((e = store_count_add_db(senders_db(s), txn, a->key, a->klen, 1)) !=
	    SUP_OK ||
	    (e = store_count_get_db(senders_db(s), txn, a->key, a->klen,
	    &a->count)) != SUP_OK)
		return e;
	return rate_sweep(s, txn, a);
}

sup_err
mailin_rate_take(struct store *s, const char *sender, int64_t now_us,
    long max, bool *over)
{
	struct rate_args a;
	size_t n = sender != NULL ? strlen(sender) : 0;
	sup_err e;

	*over = false;
	if (n == 0 || n > EMAIL_MAX)
		return SUP_EINVAL;
	a.hour = now_us / HOUR_US;
	be64_put(a.key, (uint64_t)a.hour);
	for (size_t i = 0; i < n; i++)
		a.key[8 + i] = (uint8_t)tolower((unsigned char)sender[i]);
	a.klen = 8 + n;
	a.count = 0;
	if ((e = store_run(s, 0, rate_txn, &a)) != SUP_OK)
		return e;
	*over = a.count > max;
	return SUP_OK;
}

struct forget_args {
	const char *sender;
	size_t len;
	long removed;
};

/*
 * Delete every entry of a->sender (any hour): the table holds the
 * current hour's senders and the few hours a sweep has not reached yet,
 * so the walk is short.
 */
static sup_err
forget_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct forget_args *a = arg;
	DBT k = { 0 }, d = { .flags = DB_DBT_PARTIAL };
	DBC *cur;
	int rc;

	a->removed = 0;
	if ((rc = senders_db(s)->cursor(senders_db(s), txn, &cur, 0)) != 0)
		return store_err(rc, "mail_senders cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT | DB_RMW)) == 0) {
		if (k.size != 8 + a->len ||
		    strncasecmp((const char *)k.data + 8, a->sender,
		    a->len) != 0)
			continue;
		if ((rc = cur->del(cur, 0)) != 0)
			break;
		a->removed++;
	}
	cur->close(cur);
	return store_err(rc == DB_NOTFOUND ? 0 : rc, "mail_senders forget");
}

sup_err
mailin_sender_forget(struct store *s, const char *sender, long *removed)
{
	struct forget_args a = { .sender = sender };
	sup_err e;

	if (removed != NULL)
		*removed = 0;
	if (sender == NULL || (a.len = strlen(sender)) == 0 ||
	    a.len > EMAIL_MAX)
		return SUP_EINVAL;
	e = store_run(s, 0, forget_txn, &a);
	if (e == SUP_OK && removed != NULL)
		*removed = a.removed;
	return e;
}

/* --- Message-IDs taken ------------------------------------------------ */

static DB *
seen_db(const struct store *s, enum mailin_db i)
{
	return store_db(s, AREA_MAILIN, i);
}

bool
mailin_seen_key(const char *from, const char *message_id,
    uint32_t ticket_number, uint8_t key[MAILIN_SEEN_KEY_LEN])
{
	crypto_hash_sha256_state st;
	const char *p = message_id, *end, *at;
	uint8_t scope[4], c;

	if (p == NULL || from == NULL)
		return false;
	/* Spaces and one pair of <> around it do not count. */
	while (*p == ' ' || *p == '\t' || *p == '<')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '>'))
		end--;
	if (end == p)
		return false;
	for (at = end; at > p && at[-1] != '@'; at--)
		;
	be32_put(scope, ticket_number);
	crypto_hash_sha256_init(&st);
	/* The tag and its NUL: no address or Message-ID holds a NUL. */
	crypto_hash_sha256_update(&st, (const uint8_t *)SEEN_TAG,
	    sizeof(SEEN_TAG));
	crypto_hash_sha256_update(&st, scope, sizeof(scope));
	for (const char *q = from; *q != '\0'; q++) {
		c = (uint8_t)tolower((unsigned char)*q);
		crypto_hash_sha256_update(&st, &c, 1);
	}
	c = 0;
	crypto_hash_sha256_update(&st, &c, 1);
	/* The part before the last '@' as it is; the domain in any case. */
	crypto_hash_sha256_update(&st, (const uint8_t *)p,
	    (unsigned long long)(at - p));
	for (const char *q = at; q < end; q++) {
		c = (uint8_t)tolower((unsigned char)*q);
		crypto_hash_sha256_update(&st, &c, 1);
	}
	crypto_hash_sha256_final(&st, key);
	return true;
}

/*
 * The associated indexes' keys: a field of the record before the seen
 * key, so that each entry is one of its own (no duplicates).
 */
static int
seen_index(const DBT *k, const DBT *d, size_t off, size_t len, DBT *r)
{
	uint8_t *b;

	if (k->size != MAILIN_SEEN_KEY_LEN || d->size != SEEN_LEN)
		return DB_DONOTINDEX;
	if ((b = malloc(len + MAILIN_SEEN_KEY_LEN)) == NULL)
		return ENOMEM;
	memcpy(b, (const uint8_t *)d->data + off, len);
	memcpy(b + len, k->data, MAILIN_SEEN_KEY_LEN);
	r->data = b;
	r->size = (u_int32_t)(len + MAILIN_SEEN_KEY_LEN);
	r->flags = DB_DBT_APPMALLOC;
	return 0;
}

static int
idx_seen_time(DB *sec SUP_UNUSED, const DBT *k, const DBT *d, DBT *r)
{
	return seen_index(k, d, SEEN_AT, 8, r);
}

static int
idx_seen_ticket(DB *sec SUP_UNUSED, const DBT *k, const DBT *d, DBT *r)
{
	return seen_index(k, d, SEEN_TICKET, UUID_LEN, r);
}

static int
idx_seen_user(DB *sec SUP_UNUSED, const DBT *k, const DBT *d, DBT *r)
{
	return seen_index(k, d, SEEN_USER, 4, r);
}

/*
 * Remove up to MAILIN_SEEN_TRIM entries taken before `before` (µs),
 * oldest first, from the front of mail_seen_by_time: a delete through the
 * index removes the record and its other entries with it.
 */
static sup_err
seen_trim(struct store *s, DB_TXN *txn, int64_t before)
{
	DB *idx = seen_db(s, MDB_SEEN_TIME);
	uint8_t kb[8 + MAILIN_SEEN_KEY_LEN];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };	/* no record copied */
	DBC *c;
	int rc, n = 0;

	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "mail_seen_by_time cursor");
	for (rc = c->get(c, &k, &d, DB_FIRST | DB_RMW);
	    rc == 0 && n < MAILIN_SEEN_TRIM && k.size == sizeof(kb) &&
	    (int64_t)be64_get(kb) < before;
	    rc = c->get(c, &k, &d, DB_NEXT | DB_RMW), n++)
		if ((rc = c->del(c, 0)) != 0)
			break;
	c->close(c);
	return store_err(rc == DB_NOTFOUND ? 0 : rc, "mail_seen trim");
}

/* The record of key, not expired at now_us: SUP_OK and d; SUP_ENOTFOUND. */
static sup_err
seen_read(struct store *s, DB_TXN *txn, const uint8_t *key, int64_t now_us,
    uint32_t flags, uint8_t d[SEEN_LEN])
{
	DBT k = { .data = (void *)(uintptr_t)key,
	    .size = MAILIN_SEEN_KEY_LEN };
	DBT v = { .data = d, .ulen = SEEN_LEN, .flags = DB_DBT_USERMEM };
	DB *db = seen_db(s, MDB_SEEN);
	sup_err e;

	e = store_err(db->get(db, txn, &k, &v, flags), "mail_seen");
	if (e != SUP_OK)
		return e;
	if (v.size != SEEN_LEN)
		return SUP_EDB;
	if ((int64_t)be64_get(d + SEEN_AT) < now_us - MAILIN_SEEN_TTL_S *
	    1000000LL)
		return SUP_ENOTFOUND;	/* expired: the trim's to remove */
	return SUP_OK;
}

struct seen_get_args {
	const uint8_t *key;
	int64_t now_us;
	uint8_t d[SEEN_LEN];
};

static sup_err
seen_get_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct seen_get_args *a = arg;

	return seen_read(s, txn, a->key, a->now_us, 0, a->d);
}

sup_err
mailin_seen_get(struct store *s, DB_TXN *txn,
    const uint8_t key[MAILIN_SEEN_KEY_LEN], int64_t now_us,
    uint8_t message[UUID_LEN])
{
	struct seen_get_args a = { .key = key, .now_us = now_us };
	sup_err e;

	e = txn != NULL ? seen_get_txn(s, txn, &a) :
	    store_run(s, STORE_READ, seen_get_txn, &a);
	if (e == SUP_OK && message != NULL)
		memcpy(message, a.d + SEEN_MESSAGE, UUID_LEN);
	return e;
}

/*
 * The part of a take's transaction before the post: the trim, then the
 * key looked for (read for update: two deliveries of one mail at once
 * queue on its page, and the second finds the first's).  SUP_OK: go on;
 * SUP_EEXIST: taken before (t->duplicate, t->message, t->ticket).
 */
static sup_err
take_begin(struct store *s, DB_TXN *txn, struct mailin_take *t)
{
	uint8_t d[SEEN_LEN];
	sup_err e;

	t->duplicate = false;
	if ((e = seen_trim(s, txn, t->now_us - MAILIN_SEEN_TTL_S *
	    1000000LL)) != SUP_OK || t->key == NULL)
		return e;
	e = seen_read(s, txn, t->key, t->now_us, DB_RMW, d);
	if (e == SUP_ENOTFOUND)
		return SUP_OK;
	if (e != SUP_OK)
		return e;
	t->duplicate = true;
	memcpy(t->ticket, d + SEEN_TICKET, UUID_LEN);
	memcpy(t->message, d + SEEN_MESSAGE, UUID_LEN);
	return SUP_EEXIST;
}

/* The part after it: the key kept with what the mail made. */
static sup_err
take_end(struct store *s, DB_TXN *txn, const struct mailin_take *t)
{
	uint8_t d[SEEN_LEN];
	DBT k = { .data = (void *)(uintptr_t)t->key,
	    .size = MAILIN_SEEN_KEY_LEN };
	DBT v = { .data = d, .size = SEEN_LEN };
	DB *db = seen_db(s, MDB_SEEN);

	if (t->key == NULL)
		return SUP_OK;
	be64_put(d + SEEN_AT, (uint64_t)t->now_us);
	memcpy(d + SEEN_TICKET, t->ticket, UUID_LEN);
	memcpy(d + SEEN_MESSAGE, t->message, UUID_LEN);
	be32_put(d + SEEN_USER, t->key_user);
	/* Over an expired record of the key, if the trim left one. */
	return store_err(db->put(db, txn, &k, &v, 0), "mail_seen put");
}

struct reply_args {
	const struct sup_user *u;
	const uint8_t *ticket;
	const char *content, *html;
	size_t len;
	const struct att_batch *files;
	struct mailin_take *t;
};

static sup_err
reply_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct reply_args *a = arg;
	struct mailin_take *t = a->t;
	sup_err e;

	if ((e = take_begin(s, txn, t)) != SUP_OK)
		return e;
	memcpy(t->ticket, a->ticket, UUID_LEN);
	if ((e = msg_post_channel_in(s, txn, a->u, a->ticket, a->content,
	    a->len, a->html, CH_EMAIL, a->files, t->message)) != SUP_OK)
		return e;
	return take_end(s, txn, t);
}

sup_err
mailin_reply(struct store *s, const struct sup_user *u,
    const uint8_t ticket[UUID_LEN], const char *content, size_t len,
    const struct att_batch *files, struct mailin_take *t)
{
	struct reply_args a = { .u = u, .ticket = ticket, .content = content,
		.len = len, .files = files, .t = t };
	char *html;
	sup_err e;

	t->duplicate = false;
	/* Rendered once, before the transaction: no lock is held for it. */
	if ((e = msg_render(content, len, &html)) != SUP_OK)
		return e;
	a.html = html;
	e = store_run(s, 0, reply_txn, &a);
	free(html);
	/* A duplicate aborts: the trim waits for the next mail. */
	if (e == SUP_EEXIST && t->duplicate)
		return SUP_OK;
	/* Files put in place by a post that was not committed. */
	if (e != SUP_OK && files != NULL && files->n > 0)
		(void)att_collect(s, NULL, files, false);
	return e;
}

struct new_args {
	const struct sup_conf *conf;
	const struct sup_user *u;
	struct ticket_new *in;
	struct mailin_take *t;
};

static sup_err
new_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct new_args *a = arg;
	struct mailin_take *t = a->t;
	sup_err e;

	if ((e = take_begin(s, txn, t)) != SUP_OK)
		return e;
	if ((e = ticket_create_in(s, txn, a->conf, a->u, a->in)) != SUP_OK)
		return e;
	memcpy(t->ticket, a->in->uuid, UUID_LEN);
	memcpy(t->message, a->in->message, UUID_LEN);
	return take_end(s, txn, t);
}

sup_err
mailin_new_ticket(struct store *s, const struct sup_conf *conf,
    const struct sup_user *u, struct ticket_new *in, struct mailin_take *t)
{
	struct new_args a = { .conf = conf, .u = u, .in = in, .t = t };
	sup_err e;

	t->duplicate = false;
	e = store_run(s, 0, new_txn, &a);
	if (e == SUP_EEXIST && t->duplicate)
		return SUP_OK;
	if (e != SUP_OK && in->files != NULL && in->files->n > 0)
		(void)att_collect(s, NULL, in->files, false);
	return e;
}

/*
 * Delete every entry of index idx whose key starts with prefix[0..n), up
 * to max (0: no bound), through the index (the records and their other
 * entries go with them); *removed is added how many.
 */
static sup_err
seen_forget(DB *idx, DB_TXN *txn, const uint8_t *prefix, size_t n,
    long max, long *removed)
{
	uint8_t kb[UUID_LEN + MAILIN_SEEN_KEY_LEN];
	DBT k = { .data = kb, .ulen = sizeof(kb), .size = (u_int32_t)n,
	    .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };	/* no record copied */
	DBC *c;
	long done = 0;
	int rc;

	memcpy(kb, prefix, n);
	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "mail_seen cursor");
	for (rc = c->get(c, &k, &d, DB_SET_RANGE | DB_RMW); rc == 0;
	    rc = c->get(c, &k, &d, DB_NEXT | DB_RMW)) {
		if (k.size < n || memcmp(kb, prefix, n) != 0 ||
		    (max > 0 && done == max))
			break;
		if ((rc = c->del(c, 0)) != 0)
			break;
		done++;
	}
	c->close(c);
	if (removed != NULL)
		*removed += done;
	return store_err(rc == DB_NOTFOUND ? 0 : rc, "mail_seen forget");
}

sup_err
mailin_seen_forget_ticket(struct store *s, DB_TXN *txn,
    const uint8_t ticket[UUID_LEN], long *removed)
{
	return seen_forget(seen_db(s, MDB_SEEN_TICKET), txn, ticket, UUID_LEN,
	    0, removed);
}

struct forget_user_args {
	uint8_t user[4];
	long removed;		/* out: the batch's */
};

static sup_err
forget_user_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct forget_user_args *a = arg;

	a->removed = 0;
	return seen_forget(seen_db(s, MDB_SEEN_USER), txn, a->user, 4,
	    SEEN_FORGET_BATCH, &a->removed);
}

sup_err
mailin_seen_forget_user(struct store *s, uint32_t user, long *removed)
{
	struct forget_user_args a;
	sup_err e;

	if (removed != NULL)
		*removed = 0;
	be32_put(a.user, user);
	do {
		if ((e = store_run(s, 0, forget_user_txn, &a)) != SUP_OK)
			return e;
		if (removed != NULL)
			*removed += a.removed;
	} while (a.removed == SEEN_FORGET_BATCH);
	return SUP_OK;
}

/*
 * The area's check: each record whole, of a ticket that is there (a
 * purge removes its ticket's), taken no later than now, and each index
 * with one entry a record.
 */
static sup_err
mailin_verify(struct store *s, struct store_check *c)
{
	DB *db = seen_db(s, MDB_SEEN), *tickets = ticket_db(s, TDB_TICKETS);
	DBT k = { 0 }, d = { 0 };
	int64_t now = time_now_us(), n[3];
	long records = 0, bad = 0, gone = 0, later = 0;
	DBC *cur;
	int rc;
	sup_err e;

	if ((rc = db->cursor(db, NULL, &cur, 0)) != 0)
		return store_err(rc, "mail_seen cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		DBT tk = { .size = UUID_LEN };
		DBT td = { .flags = DB_DBT_PARTIAL };

		records++;
		if (k.size != MAILIN_SEEN_KEY_LEN || d.size != SEEN_LEN) {
			bad++;
			continue;
		}
		tk.data = (uint8_t *)d.data + SEEN_TICKET;
		rc = tickets->get(tickets, NULL, &tk, &td, 0);
		if (rc == DB_NOTFOUND)
			gone++;
		else if (rc != 0)
			break;
		if ((int64_t)be64_get(d.data) > now + 3600 * 1000000LL)
			later++;
	}
	cur->close(cur);
	if (rc != DB_NOTFOUND)
		return store_err(rc, "mail_seen read");
	if (bad > 0)
		store_problem(c, "mail_seen.db: %ld records that are not whole",
		    bad);
	if (gone > 0)
		store_problem(c, "mail_seen.db: %ld records of tickets that are "
		    "not there (a purge left them)", gone);
	if (later > 0)
		store_problem(c, "mail_seen.db: %ld records taken in the "
		    "future", later);
	if ((e = store_count_db(seen_db(s, MDB_SEEN_TIME), &n[0])) != SUP_OK ||
	    (e = store_count_db(seen_db(s, MDB_SEEN_TICKET), &n[1])) !=
	    SUP_OK ||
	    (e = store_count_db(seen_db(s, MDB_SEEN_USER), &n[2])) != SUP_OK)
		return e;
	for (int i = 0; i < 3; i++)
		if (n[i] != records - bad)
			store_problem(c, "mail_seen_by_%s.db: %" PRId64
			    " entries for %ld records", i == 0 ? "time" :
			    i == 1 ? "ticket" : "user", n[i], records - bad);
	return SUP_OK;
}

sup_err
mailin_ticket_uuid(struct store *s, uint32_t number, uint8_t uuid[UUID_LEN])
{
	uint8_t kb[8];
	DB *idx = ticket_index_db(s, IDX_NUMBER);
	DBT k = { .data = kb, .size = sizeof(kb) };
	DBT pk = { .data = uuid, .ulen = UUID_LEN, .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL | DB_DBT_USERMEM };
	int rc;

	be64_put(kb, number);
	if ((rc = idx->pget(idx, NULL, &k, &pk, &d, 0)) != 0)
		return store_err(rc, "ticket by number");
	if (pk.size != UUID_LEN)
		return SUP_EDB;
	return SUP_OK;
}

/* Does rec's own e-mail equal email (either case)? */
static bool
email_is(json_object *rec, const char *email)
{
	const char *own = rec_str(rec, "email");

	return own != NULL && strcasecmp(own, email) == 0;
}

/*
 * A username for a new account of email: the address when it is one
 * (letters, digits, @.+-_), else with every other character made '_'.
 * Into buf (USERNAME_MAX + 1 bytes; an address is at most EMAIL_MAX).
 */
static void
name_for(const char *email, char *buf)
{
	size_t len;

	for (len = 0; email[len] != '\0' && len < USERNAME_MAX; len++) {
		unsigned char c = (unsigned char)email[len];
		buf[len] = isalnum(c) || strchr("@.+-_", c) != NULL ?
		    (char)c : '_';
	}
	buf[len] = '\0';
}

sup_err
mailin_user(struct store *s, const char *email, const char *name,
    bool create, struct sup_user *u)
{
	char uname[USERNAME_MAX + 1];
	json_object *rec = NULL;
	uint32_t id;
	sup_err e;

	memset(u, 0, sizeof(*u));
	if (!user_email_valid(email))
		return SUP_EINVAL;
	e = user_find(s, NULL, email, &rec);
	if (e == SUP_OK && !email_is(rec, email)) {
		/* A username that looks like the address: not its account. */
		json_object_put(rec);
		rec = NULL;
		e = SUP_ENOTFOUND;
	}
	if (e == SUP_OK)
		return user_from_record(u, rec);
	if (e != SUP_ENOTFOUND || !create)
		return e;
	name_for(email, uname);
	e = user_create(s, uname, email, name != NULL && *name != '\0' ? name :
	    NULL, ROLE_USER, NULL, &id);
	/*
	 * Taken: by another mail of the same sender just now (then its
	 * account is found), or by an account whose username is this
	 * address or this name (then none can be made: SUP_EEXIST).
	 */
	if (e == SUP_EEXIST && user_find(s, NULL, email, &rec) == SUP_OK) {
		if (email_is(rec, email))
			return user_from_record(u, rec);
		json_object_put(rec);
	}
	if (e != SUP_OK)
		return e;
	if ((e = user_get(s, NULL, id, &rec)) != SUP_OK)
		return e;
	return user_from_record(u, rec);
}

#define SEEN_INDEX(f, cb) { .file = f, .type = DB_BTREE, \
	.kind = STORE_ASSOCIATED, .primary = MDB_SEEN, .key = cb }

/*
 * No build for an older store: before mail_seen, no Message-ID was kept,
 * so an older store has none to index (its indexes are made with it).
 */
static const struct store_db mailin_dbs[MAILIN_NDB] = {
	[MDB_SENDERS] = { .file = "mail_senders.db", .type = DB_BTREE },
	[MDB_SEEN] = { .file = "mail_seen.db", .type = DB_BTREE },
	[MDB_SEEN_TIME] = SEEN_INDEX("mail_seen_by_time.db", idx_seen_time),
	[MDB_SEEN_TICKET] = SEEN_INDEX("mail_seen_by_ticket.db",
	    idx_seen_ticket),
	[MDB_SEEN_USER] = SEEN_INDEX("mail_seen_by_user.db", idx_seen_user),
};

const struct store_area mailin_area = {
	.name = "mail in",
	.db = mailin_dbs,
	.ndb = MAILIN_NDB,
	.verify = mailin_verify,
};
