/*
 * mailin.c - the store's side of support-mailin (lib/desk/mailin.h): the
 * per-sender hourly counts (the mail_senders area), a ticket by its
 * number, the account of a sender.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailin.h"
#include "tstore.h"
#include "user.h"
#include "view.h"

enum mailin_db { MDB_SENDERS, MAILIN_NDB };

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

static const struct store_db mailin_dbs[MAILIN_NDB] = {
	[MDB_SENDERS] = { .file = "mail_senders.db", .type = DB_BTREE },
};

const struct store_area mailin_area = {
	.name = "mail in",
	.db = mailin_dbs,
	.ndb = MAILIN_NDB,
};
