/*
 * counter.c - the counters area (lib/desk/counter.h): counters.db and the
 * database of the sequences, seqs.db.
 */
#include <string.h>

#include "counter.h"

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
