/*
 * counter.c - the counters area (lib/desk/counter.h): counters.db and the
 * database of the sequences, seqs.db.
 */
#include <string.h>

#include "counter.h"
#include "util.h"

static const struct store_db counter_dbs[COUNTER_NDB] = {
	[COUNTER_DB_COUNTERS] = { .file = "counters.db", .type = DB_BTREE },
	[COUNTER_DB_SEQS] = { .file = "seqs.db", .type = DB_BTREE },
};

const struct store_area counter_area = {
	.name = "counters",
	.db = counter_dbs,
	.ndb = COUNTER_NDB,
};

sup_err
store_count_get(struct store *s, DB_TXN *txn, const char *name, int64_t *out)
{
	return store_count_get_db(counter_db(s), txn, name, strlen(name), out);
}

sup_err
store_count_add(struct store *s, DB_TXN *txn, const char *name, int64_t delta)
{
	return store_count_add_db(counter_db(s), txn, name, strlen(name),
	    delta);
}

sup_err
store_count_lock(struct store *s, DB_TXN *txn, const char *name, int64_t *out)
{
	uint8_t buf[8];
	DBT k = { .data = (void *)name, .size = (u_int32_t)strlen(name) };
	DBT d = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int rc;

	*out = 0;
	rc = counter_db(s)->get(counter_db(s), txn, &k, &d, DB_RMW);
	if (rc == DB_NOTFOUND)
		return SUP_OK;
	if (rc != 0)
		return store_err(rc, "counter get");
	if (d.size == 8)
		*out = (int64_t)be64_get(buf);
	return SUP_OK;
}
