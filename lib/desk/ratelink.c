/*
 * ratelink.c - the signed rating link (ratelink.h): its key, its token,
 * and what a token names, checked against the store.
 */
#include <stdlib.h>
#include <string.h>

#include "ratelink.h"
#include "record.h"
#include "ticket.h"
#include "tstore.h"
#include "user.h"

sup_err
ratelink_key_load(const struct sup_conf *conf, uint8_t key[REPLY_KEY_LEN])
{
	return token_key_load(conf, "rating-token", key);
}

sup_err
ratelink_make(const uint8_t key[REPLY_KEY_LEN], uint32_t ticket_number,
    uint32_t user_id, int64_t expires_day, char out[REPLY_TOKEN_STRLEN + 1])
{
	return reply_token_make(key, ticket_number, user_id, expires_day, out);
}

struct open_args {
	uint32_t number, user;
	struct ratelink *rl;
};

/*
 * Read the account and the ticket a->rl names, in one read transaction.
 * Every way for them not to be what the token was made for is
 * RATELINK_EBAD: to the holder of a link they are all "not valid".
 */
static sup_err
open_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct open_args *a = arg;
	struct ratelink *rl = a->rl;
	struct record_ticket t = { 0 };
	uint8_t kb[8];
	DB *idx = ticket_index_db(s, IDX_NUMBER);
	DBT k = { .data = kb, .size = sizeof(kb) };
	DBT pk = { .data = rl->ticket, .ulen = UUID_LEN,
	    .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL | DB_DBT_USERMEM };
	json_object *rec = NULL;
	sup_err e;
	int rc;

	user_clear(&rl->user);
	free(rl->subject);
	rl->subject = NULL;
	if ((e = user_get(s, txn, a->user, &rec)) != SUP_OK)
		return e == SUP_ENOTFOUND ? RATELINK_EBAD : e;
	if (!user_is_active(rec)) {
		json_object_put(rec);
		return RATELINK_EBAD;
	}
	if ((e = user_from_record(&rl->user, rec)) != SUP_OK)
		return e;
	be64_put(kb, a->number);
	rc = idx->pget(idx, txn, &k, &pk, &d, 0);
	if (rc == DB_NOTFOUND)
		return RATELINK_EBAD;
	if (rc != 0)
		return store_err(rc, "ticket by number");
	if (pk.size != UUID_LEN)
		return SUP_EDB;
	/* Another customer's ticket is not found, as on its page. */
	e = ticket_load(s, txn, &rl->user, rl->ticket, 0, &t);
	if (e == SUP_OK && t.user != a->user)
		e = RATELINK_EBAD;	/* staff now: not the ticket's customer */
	if (e == SUP_OK) {
		rl->number = t.number;
		if ((rl->subject = strndup(t.subject != NULL ? t.subject : "",
		    t.subject_len)) == NULL)
			e = SUP_ENOMEM;
	}
	record_ticket_clear(&t);
	return e == SUP_ENOTFOUND ? RATELINK_EBAD : e;
}

sup_err
ratelink_open(struct store *s, const uint8_t key[REPLY_KEY_LEN],
    const char *token, size_t len, int64_t now_us, struct ratelink *rl)
{
	struct open_args a = { .rl = rl };
	sup_err e;

	memset(rl, 0, sizeof(*rl));
	e = reply_token_check(key, token, len, reply_day(now_us), &a.number,
	    &a.user);
	if (e == SUP_EFORBIDDEN)
		return RATELINK_EOLD;
	if (e != SUP_OK)
		return RATELINK_EBAD;
	return store_run(s, STORE_READ, open_txn, &a);
}

void
ratelink_clear(struct ratelink *rl)
{
	user_clear(&rl->user);
	free(rl->subject);
	memset(rl, 0, sizeof(*rl));
}
