/*
 * holdlock - a test helper (tests/http/test_mailin.py): another process
 * of the desk that holds a write lock on one record of the store, as a
 * long transaction of another program would, until told to let go.
 *
 *   holdlock FILE KEY
 *
 * opens the store of $SUPPORT_CONF (as every program does, joining the
 * environment), begins a transaction, reads the record KEY of the
 * database file FILE (e.g. tickets.db) for update (DB_RMW: a write lock
 * on its page, which every reader and writer of that page then waits
 * for), prints "held" on standard output and waits until its standard
 * input ends; then it aborts the transaction (nothing is changed) and
 * closes the store.  KEY is a uuid in its text form (its 16 bytes are the
 * key) or else the key's bytes as written.  Exit status 0; 1 when the
 * store or the record cannot be had, with the reason on standard error.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "areas.h"
#include "conf.h"
#include "store.h"
#include "util.h"

int
main(int argc, char **argv)
{
	struct sup_conf conf;
	struct store s;
	uint8_t uuid[UUID_LEN];
	DB **db;
	DB_TXN *txn = NULL;
	DBT k = { 0 }, d = { .flags = DB_DBT_PARTIAL };
	char buf[256];
	int rc, status = 1;

	if (argc != 3) {
		fputs("usage: holdlock FILE KEY < held-until-end\n", stderr);
		return 2;
	}
	if (conf_load(&conf, conf_path(NULL)) != SUP_OK) {
		fprintf(stderr, "holdlock: %s\n", conf.errmsg);
		conf_free(&conf);
		return 1;
	}
	if (store_open(&s, &conf, desk_areas) != SUP_OK) {
		fprintf(stderr, "holdlock: cannot open the store\n");
		conf_free(&conf);
		return 1;
	}
	if ((db = store_db_find(&s, argv[1])) == NULL || *db == NULL) {
		fprintf(stderr, "holdlock: no database %s\n", argv[1]);
		goto out;
	}
	if (uuid_parse(argv[2], strlen(argv[2]), uuid)) {
		k.data = uuid;
		k.size = UUID_LEN;
	} else {
		k.data = argv[2];
		k.size = (u_int32_t)strlen(argv[2]);
	}
	if ((rc = s.env->txn_begin(s.env, NULL, &txn, 0)) != 0 ||
	    (rc = (*db)->get(*db, txn, &k, &d, DB_RMW)) != 0) {
		fprintf(stderr, "holdlock: %s: %s\n", argv[1], db_strerror(rc));
		goto out;
	}
	puts("held");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	status = 0;
out:
	if (txn != NULL)
		txn->abort(txn);
	store_close(&s);
	conf_free(&conf);
	return status;
}
