/*
 * verify.c - store_verify: are the files sound, and does each area find
 * its records, indexes and counts in agreement (its check)?  Run with no
 * server writing.  It knows no area: the files and the checks are the
 * ones the areas it is handed register.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "store.h"

struct store_check {
	void (*report)(void *ctx, const char *line);
	void *ctx;
	long problems;
};

void
store_problem(struct store_check *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->problems++;
	c->report(c->ctx, line);
}

sup_err
store_count_db(DB *db, int64_t *n)
{
	DBC *cur;
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	int rc;

	*n = 0;
	if ((rc = db->cursor(db, NULL, &cur, 0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0)
		(*n)++;
	cur->close(cur);
	free(k.data);
	free(d.data);
	return rc == DB_NOTFOUND ? SUP_OK : store_err(rc, "count");
}

/* Each database file of the areas, page by page (Berkeley DB's verify). */
static sup_err
check_files(const struct sup_conf *conf,
    const struct store_area *const *areas, struct store_check *c)
{
	char path[4096];

	for (size_t a = 0; areas != NULL && areas[a] != NULL; a++)
		for (size_t i = 0; i < areas[a]->ndb; i++) {
			const char *file = areas[a]->db[i].file;
			DB *db;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s",
			    conf->data_dir, file) >= sizeof(path))
				return SUP_EINVAL;
			if (db_create(&db, NULL, 0) != 0)
				return SUP_ENOMEM;
			if (db->verify(db, path, NULL, NULL, 0) != 0)
				store_problem(c, "%s: the file is damaged",
				    file);
		}
	return SUP_OK;
}

sup_err
store_verify(const struct sup_conf *conf,
    const struct store_area *const *areas,
    void (*report)(void *ctx, const char *line), void *ctx, long *problems)
{
	struct store_check c = { .report = report, .ctx = ctx };
	struct store s;
	sup_err e;

	/* Recover if needed and put every page on disk before reading files. */
	if ((e = store_open(&s, conf, areas)) != SUP_OK)
		return e;
	store_checkpoint(&s, true);
	s.env->memp_sync(s.env, NULL);
	store_close(&s);
	if ((e = check_files(conf, areas, &c)) != SUP_OK)
		return e;
	if ((e = store_open(&s, conf, areas)) != SUP_OK)
		return e;
	for (size_t a = 0; a < s.nareas && e == SUP_OK; a++)
		if (areas[a]->verify != NULL)
			e = areas[a]->verify(&s, &c);
	store_close(&s);
	*problems = c.problems;
	return e;
}
