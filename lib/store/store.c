/*
 * store.c - the Berkeley DB environment: the areas' databases opened and
 * closed, transactions with retry, records as JSON, counts, sequences,
 * the generic upgrade path (builds behind a marker file).  It knows no
 * area: what it opens is what the areas it is handed register
 * (store.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "store.h"
#include "util.h"

#define RETRIES 10

sup_err
store_err(int rc, const char *what)
{
	switch (rc) {
	case 0:
		return SUP_OK;
	case DB_NOTFOUND:
	case DB_KEYEMPTY:
		return SUP_ENOTFOUND;
	case DB_KEYEXIST:
		return SUP_EEXIST;
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		return SUP_EDEADLOCK;
	case DB_RUNRECOVERY:
		return SUP_ERECOVER;
	case ENOMEM:
		return SUP_ENOMEM;
	default:
		fprintf(stderr, "support: %s: %s\n", what, db_strerror(rc));
		return SUP_EDB;
	}
}

/* --- Records --------------------------------------------------------- */

sup_err
store_parse(const DBT *data, json_object **out)
{
	json_tokener *tok;
	json_object *obj;

	if ((tok = json_tokener_new()) == NULL)
		return SUP_ENOMEM;
	if (!json_parse_room(tok, data->size)) {
		json_tokener_free(tok);
		return SUP_ENOMEM;
	}
	obj = json_tokener_parse_ex(tok, data->data, (int)data->size);
	if (obj == NULL && json_parse_nomem(tok)) {
		json_tokener_free(tok);
		return SUP_ENOMEM;
	}
	if (obj != NULL && json_tokener_get_parse_end(tok) != data->size) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		fprintf(stderr, "support: a stored record is not a JSON object\n");
		return SUP_EDB;
	}
	/* A record never names a member twice: one missing was dropped. */
	if (!json_members_kept(obj, data->data, data->size)) {
		json_object_put(obj);
		return SUP_ENOMEM;
	}
	*out = obj;
	return SUP_OK;
}

sup_err
store_get(DB *db, DB_TXN *txn, const void *key, size_t klen, uint32_t flags,
    json_object **out)
{
	DBT k = { .data = (void *)key, .size = (u_int32_t)klen };
	DBT d = { .flags = DB_DBT_MALLOC };
	sup_err e;
	int rc;

	*out = NULL;
	if ((rc = db->get(db, txn, &k, &d, flags)) != 0)
		return store_err(rc, "get");
	e = store_parse(&d, out);
	free(d.data);
	return e;
}

sup_err
store_put(DB *db, DB_TXN *txn, const void *key, size_t klen, json_object *val,
    uint32_t flags)
{
	const char *text;
	size_t len;

	text = json_text(val,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text == NULL)
		return SUP_ENOMEM;
	DBT k = { .data = (void *)key, .size = (u_int32_t)klen };
	DBT d = { .data = (void *)text, .size = (u_int32_t)len };
	return store_err(db->put(db, txn, &k, &d, flags), "put");
}

bool
store_bulk_grow(void **buf, size_t *cap, size_t need)
{
	size_t n = *cap * 2;
	void *p;

	while (n < need)
		n *= 2;
	if ((p = realloc(*buf, n)) == NULL)
		return false;
	*buf = p;
	*cap = n;
	return true;
}

/* --- Opening --------------------------------------------------------- */

static void
log_db_error(const DB_ENV *env SUP_UNUSED, const char *pfx SUP_UNUSED,
    const char *msg)
{
	fprintf(stderr, "support: db: %s\n", msg);
}

/*
 * Berkeley DB's informational messages, to stderr with the errors: by
 * default they would go to stdout, which is the response of a CGI request.
 */
static void
log_db_msg(const DB_ENV *env SUP_UNUSED, const char *msg)
{
	fprintf(stderr, "support: db: %s\n", msg);
}

/*
 * An open descriptor of the environment's first region file in dir, for
 * store_abandoned; -1 if it cannot be opened (the check then says no).
 * Not the register file: closing any descriptor of that one would drop
 * this process's fcntl lock on its slot, making it look dead.
 */
static int
open_region(const char *dir)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/__db.001", dir) >=
	    sizeof(path))
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

/*
 * Open (creating when absent) the database d of an area inside txn, the
 * transaction store_open opens every database in.  *created is set when
 * the file did not exist: store_open then commits the opening durably.
 * On error *out is NULL and the handle is closed.
 */
static sup_err
open_db(struct store *s, DB_TXN *txn, DB **out, const struct store_db *d,
    bool *created)
{
	const char *file = d->file;
	DB *db;
	int rc;

	*out = NULL;
	for (uint32_t flags = 0;; flags = DB_CREATE) {
		if ((rc = db_create(&db, s->env, 0)) != 0)
			return store_err(rc, file);
		/* Before associate: it may call back to build the index. */
		db->app_private = s;
		if (d->flags != 0 && (rc = db->set_flags(db, d->flags)) != 0) {
			db->close(db, 0);
			return store_err(rc, file);
		}
		rc = db->open(db, txn, file, NULL, d->type, flags, 0660);
		if (rc == 0)
			break;
		db->close(db, 0);
		/* The first open of the store makes the file. */
		if (rc != ENOENT || flags == DB_CREATE)
			return store_err(rc, file);
		*created = true;
	}
	*out = db;
	return SUP_OK;
}

/*
 * Associate the secondary sec, opened in txn, with its primary.  fresh:
 * its file was made by this open (struct store_db says why it matters).
 */
static sup_err
associate(DB *primary, DB_TXN *txn, DB *sec, const char *file,
    store_key_fn cb, bool fresh)
{
	return store_err(primary->associate(primary, txn, sec, cb,
	    fresh ? DB_CREATE : 0), file);
}

/*
 * Open (creating at 1 when absent) the sequence name in db, inside txn.
 */
static sup_err
open_seq(DB *db, DB_TXN *txn, DB_SEQUENCE **out, const char *name)
{
	DB_SEQUENCE *seq;
	DBT k = { .data = (void *)name, .size = (u_int32_t)strlen(name) };
	int rc;

	*out = NULL;
	if ((rc = db_sequence_create(&seq, db, 0)) != 0)
		return store_err(rc, name);
	if ((rc = seq->initial_value(seq, 1)) != 0 ||
	    (rc = seq->open(seq, txn, &k, DB_CREATE)) != 0) {
		seq->close(seq, 0);
		return store_err(rc, name);
	}
	*out = seq;
	return SUP_OK;
}

/* The end of env's log (the next record's place); zero when unknown. */
static void
log_end(DB_ENV *env, DB_LSN *out)
{
	DB_LOG_STAT *st;

	out->file = out->offset = 0;
	if (env->log_stat(env, &st, 0) != 0)
		return;
	out->file = st->st_cur_file;
	out->offset = st->st_cur_offset;
	free(st);
}

/* The path of name in the store's directory; false when too long. */
static bool
store_path(const struct store *s, const char *name, char *path, size_t n)
{
	return (size_t)snprintf(path, n, "%s/%s", s->conf->data_dir, name) < n;
}

/*
 * The backup lock (STORE_BACKUP_LOCK), made when missing; -1 if it cannot
 * be opened (checkpoints then run unguarded, as before there was one).
 */
static int
open_backup_lock(const struct store *s)
{
	char path[4096];

	if (!store_path(s, STORE_BACKUP_LOCK, path, sizeof(path)))
		return -1;
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
}

bool
store_has_file(const struct store *s, const char *name)
{
	char path[4096];
	struct stat st;

	return store_path(s, name, path, sizeof(path)) && stat(path, &st) == 0;
}

/* Flush the store's directory (a file made or removed in it). */
static void
sync_dir(const struct store *s)
{
	int fd = open(s->conf->data_dir, O_RDONLY | O_DIRECTORY);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Make the marker file mark (and flush it), if it is not there yet. */
static sup_err
make_mark(struct store *s, const char *mark)
{
	char path[4096];
	int fd;

	if (!store_path(s, mark, path, sizeof(path)) ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0660)) < 0) {
		fprintf(stderr, "support: cannot make %s/%s\n",
		    s->conf->data_dir, mark);
		return SUP_EIO;
	}
	fsync(fd);
	close(fd);
	sync_dir(s);
	return SUP_OK;
}

/* Before the store's files are opened: make the markers of the builds due. */
static sup_err
builds_mark(struct store *s)
{
	sup_err e;

	for (size_t a = 0; a < s->nareas; a++) {
		const struct store_area *ar = s->areas[a];
		for (size_t i = 0; i < ar->nbuild; i++)
			if (ar->build[i].due(s) &&
			    (e = make_mark(s, ar->build[i].mark)) != SUP_OK)
				return e;
	}
	return SUP_OK;
}

/*
 * Wait for the lock on the marker at path; *fd is the marker held, or -1
 * when there is none (no build due, or another process has done it
 * meanwhile: the marker gone, or made anew).
 */
static sup_err
build_take(const char *path, int *fd)
{
	struct stat st, held;
	int rc;

	for (;;) {
		if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return errno == ENOENT ? SUP_OK : SUP_EIO;
		while ((rc = flock(*fd, LOCK_EX)) != 0 && errno == EINTR)
			;
		if (rc == 0 && fstat(*fd, &held) == 0 && stat(path, &st) == 0 &&
		    st.st_ino == held.st_ino && st.st_dev == held.st_dev)
			return SUP_OK;
		close(*fd);
		*fd = -1;
		if (rc != 0)
			return SUP_EIO;
	}
}

/*
 * After the opening transaction: run each build whose marker is there,
 * or wait for the process running it.  A build done waits for the log to
 * reach the disk, then removes its marker: one cut short is run again.
 */
static sup_err
build_one(struct store *s, const struct store_build *b)
{
	char path[4096];
	sup_err e;
	int fd;

	if (!store_path(s, b->mark, path, sizeof(path)))
		return SUP_EIO;
	if ((e = build_take(path, &fd)) != SUP_OK)
		return e;
	if (fd < 0)
		return SUP_OK;
	if ((e = b->run(s)) == SUP_OK &&
	    (e = store_err(s->env->log_flush(s->env, NULL),
	    "log flush")) == SUP_OK && unlink(path) != 0)
		e = SUP_EIO;
	if (e == SUP_OK)
		sync_dir(s);
	close(fd);		/* and with it the lock */
	return e;
}

static sup_err
builds_run(struct store *s)
{
	sup_err e;

	for (size_t a = 0; a < s->nareas; a++)
		for (size_t i = 0; i < s->areas[a]->nbuild; i++)
			if ((e = build_one(s, &s->areas[a]->build[i])) !=
			    SUP_OK)
				return e;
	return SUP_OK;
}

sup_err
store_batches(struct store *s, store_batch_fn fn, void *arg, size_t argsize,
    const char *what)
{
	void *before;
	size_t n;
	int tries = 0;
	sup_err e = SUP_OK;

	if ((before = malloc(argsize)) == NULL)
		return SUP_ENOMEM;
	do {
		DB_TXN *txn;
		int rc = s->env->txn_begin(s->env, NULL, &txn, 0);
		if (rc != 0) {
			e = store_err(rc, "txn_begin");
			break;
		}
		memcpy(before, arg, argsize);
		n = 0;
		rc = fn(s, txn, arg, &n);
		if (rc == 0)
			rc = txn->commit(txn, DB_TXN_NOSYNC);
		else
			txn->abort(txn);
		if (rc == DB_LOCK_DEADLOCK && ++tries < RETRIES) {
			/* The batch again, from where it began. */
			memcpy(arg, before, argsize);
			n = 1;
			continue;
		}
		if (rc != 0) {
			e = store_err(rc, what);
			break;
		}
		tries = 0;
	} while (n > 0);
	free(before);
	return e;
}

/*
 * The slots of the areas: one allocation for the slots and every handle
 * (NULL each); false when out of memory.
 */
static bool
slots_new(struct store *s, const struct store_area *const *areas)
{
	size_t n = 0, ndb = 0, nseq = 0;
	char *p;

	for (; areas != NULL && areas[n] != NULL; n++) {
		ndb += areas[n]->ndb;
		nseq += areas[n]->nseq;
	}
	s->areas = areas;
	s->nareas = n;
	if ((p = calloc(1, n * sizeof(*s->slot) + ndb * sizeof(DB *) +
	    nseq * sizeof(DB_SEQUENCE *) + 1)) == NULL)
		return false;
	s->slot = (struct store_slot *)(void *)p;
	p += n * sizeof(*s->slot);
	for (size_t a = 0; a < n; a++) {
		s->slot[a].db = (DB **)(void *)p;
		p += areas[a]->ndb * sizeof(DB *);
	}
	for (size_t a = 0; a < n; a++) {
		s->slot[a].seq = (DB_SEQUENCE **)(void *)p;
		p += areas[a]->nseq * sizeof(DB_SEQUENCE *);
	}
	return true;
}

/*
 * Open every database of the areas, in the order of the list and of each
 * area's table, then their sequences, inside txn.  *created is set when a
 * file had to be made.  On error, what was opened stays in s for
 * store_close.
 */
static sup_err
open_all(struct store *s, DB_TXN *txn, bool *created)
{
	sup_err e;

	for (size_t a = 0; a < s->nareas; a++) {
		const struct store_area *ar = s->areas[a];
		DB **db = s->slot[a].db;
		for (size_t i = 0; i < ar->ndb; i++) {
			const struct store_db *d = &ar->db[i];
			bool fresh = false;
			if ((e = open_db(s, txn, &db[i], d, &fresh)) != SUP_OK)
				return e;
			*created |= fresh;
			if (d->kind == STORE_ASSOCIATED &&
			    (e = associate(db[d->primary], txn, db[i], d->file,
			    d->key, fresh)) != SUP_OK)
				return e;
		}
	}
	for (size_t a = 0; a < s->nareas; a++) {
		const struct store_area *ar = s->areas[a];
		for (size_t i = 0; i < ar->nseq; i++) {
			DB **in = store_db_find(s, ar->seq[i].in);
			if (in == NULL || *in == NULL) {
				fprintf(stderr, "support: sequence %s: no "
				    "database %s\n", ar->seq[i].name,
				    ar->seq[i].in);
				return SUP_EINVAL;
			}
			if ((e = open_seq(*in, txn, &s->slot[a].seq[i],
			    ar->seq[i].name)) != SUP_OK)
				return e;
		}
	}
	return SUP_OK;
}

DB **
store_db_find(struct store *s, const char *file)
{
	for (size_t a = 0; s->slot != NULL && a < s->nareas; a++)
		for (size_t i = 0; i < s->areas[a]->ndb; i++)
			if (strcmp(s->areas[a]->db[i].file, file) == 0)
				return &s->slot[a].db[i];
	return NULL;
}

DB_SEQUENCE *
store_seq_find(struct store *s, const char *name)
{
	for (size_t a = 0; s->slot != NULL && a < s->nareas; a++)
		for (size_t i = 0; i < s->areas[a]->nseq; i++)
			if (strcmp(s->areas[a]->seq[i].name, name) == 0)
				return s->slot[a].seq[i];
	return NULL;
}

/* Make the caches of the areas that make theirs at open. */
static sup_err
caches_new(struct store *s)
{
	for (size_t a = 0; a < s->nareas; a++)
		if (s->areas[a]->cache_new != NULL &&
		    (s->slot[a].cache = s->areas[a]->cache_new()) == NULL)
			return SUP_ENOMEM;
	return SUP_OK;
}

void
store_caches_drop(struct store *s)
{
	for (size_t a = 0; s->slot != NULL && a < s->nareas; a++) {
		if (s->slot[a].cache != NULL)
			s->areas[a]->cache_free(s->slot[a].cache);
		s->slot[a].cache = NULL;
	}
}

/*
 * Opening a database in a transactional environment logs the file's
 * registration and commits it; with one auto-committed transaction each,
 * every database cost a log write and a disk flush (19 of them for a
 * read-only plain CGI request: docs/store.md).  So all of them are opened
 * in one transaction, committed without waiting for the disk unless a
 * file was made: registering existing files changes no data, and the next
 * durable commit flushes the log up to and past these records anyway.
 */
static sup_err
open_once(struct store *s, const struct sup_conf *conf,
    const struct store_area *const *areas)
{
	DB_ENV *env;
	DB_TXN *txn = NULL;
	bool created = false;
	sup_err e;
	int rc;

	memset(s, 0, sizeof(*s));
	s->region_fd = -1;
	s->backup_fd = -1;
	s->conf = conf;
	if (!slots_new(s, areas))
		return SUP_ENOMEM;
	if ((rc = db_env_create(&env, 0)) != 0) {
		e = store_err(rc, "db_env_create");
		goto err;
	}
	s->env = env;
	env->set_errcall(env, log_db_error);
	env->set_msgcall(env, log_db_msg);
	/* Gigabytes and bytes apart: a byte count past 4 GB would wrap. */
	env->set_cachesize(env, (u_int32_t)(conf->cache_kb >> 20),
	    (u_int32_t)(conf->cache_kb & ((1 << 20) - 1)) * 1024, 1);
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_timeout(env, (db_timeout_t)conf->lock_timeout_ms * 1000,
	    DB_SET_LOCK_TIMEOUT);
	/* Room for many processes, each holding a few cursors. */
	env->set_lk_max_lockers(env, 4000);
	env->set_lk_max_locks(env, 20000);
	env->set_lk_max_objects(env, 20000);
	env->set_lg_bsize(env, 256 * 1024);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	/*
	 * Write each log file full of zeroes when it is made.  By default
	 * Berkeley DB only sets its size, leaving a sparse file, and every
	 * commit's flush that reaches a new block allocates it: the disk
	 * flush then writes the file's metadata as well as the log (more
	 * I/O and kernel time per commit).  Zeroed, a flush overwrites
	 * blocks the file already has.  The cost is one 10 MB write when
	 * a file is made (docs/store.md, "Posting: log flushes and
	 * workers").
	 */
	env->log_set_config(env, DB_LOG_ZERO, 1);
	if (!conf->durable)
		env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1);
	rc = env->open(env, conf->data_dir, DB_CREATE | DB_INIT_TXN |
	    DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_REGISTER |
	    DB_RECOVER, 0660);
	if (rc != 0) {
		e = store_err(rc, conf->data_dir);
		if (e != SUP_EDB)
			fprintf(stderr, "support: %s: %s\n", conf->data_dir,
			    db_strerror(rc));
		goto err;
	}
	s->region_fd = open_region(conf->data_dir);
	s->backup_fd = open_backup_lock(s);
	if ((e = caches_new(s)) != SUP_OK)
		goto err;
	if ((e = builds_mark(s)) != SUP_OK)
		goto err;
	if ((rc = env->txn_begin(env, NULL, &txn, 0)) != 0) {
		e = store_err(rc, "txn_begin");
		goto err;
	}
	e = open_all(s, txn, &created);
	/*
	 * Committed even after an error: what did open is then closed as
	 * any open handle is, by store_close.
	 */
	rc = txn->commit(txn, created ? 0 : DB_TXN_NOSYNC);
	if (e == SUP_OK && (e = store_err(rc, "commit")) == SUP_OK &&
	    (e = builds_run(s)) == SUP_OK) {
		log_end(s->env, &s->opened_end);
		return SUP_OK;
	}
err:
	store_close(s);
	return e;
}

/*
 * Opening takes locks like any transaction, and with processes opening
 * the store at once while one of them builds an index (an upgrade), the
 * opening transaction can be a deadlock's victim.  Everything is then
 * closed (open_once's error path) and opened again, a bounded number of
 * times.
 */
sup_err
store_open(struct store *s, const struct sup_conf *conf,
    const struct store_area *const *areas)
{
	sup_err e;

	for (int tries = 1; (e = open_once(s, conf, areas)) == SUP_EDEADLOCK &&
	    tries < RETRIES; tries++)
		usleep(1000 * (useconds_t)tries);
	return e;
}

static void
close_db(DB **db, uint32_t flags)
{
	if (*db != NULL)
		(*db)->close(*db, flags);
	*db = NULL;
}

/*
 * Closing a database flushes its file: its dirty pages and an fsync, for
 * every file written since the environment was made, and a walk of the
 * whole cache for each.  Nobody can have dirtied a page without logging
 * it first, so when the log ends where it ended once the store was open,
 * nothing was written meanwhile, by this process or any other, and there
 * is nothing of this process's to flush: the databases are closed without
 * (DB_NOSYNC).  Pages other processes dirtied before are theirs to flush,
 * at their own close or at a checkpoint; a commit never waits for either
 * (its log is on disk).  This saves a read-only CGI request 10 to 19
 * fsyncs (docs/store.md).
 */
/*
 * Berkeley DB 5.3's DB_REGISTER has a race that many short-lived processes
 * (plain CGI) meet: an opener scans the register under its exclusive lock,
 * reads a slot with a live process's pid, and then tries that slot's lock;
 * a process closing its environment in between writes its slot empty and
 * drops the slot's lock without taking the exclusive lock, so the opener
 * gets the lock, takes the closed process for a dead one and runs
 * recovery, failing every request in flight (seen under mod_cgi with the
 * register's verbose messages: a process "FAILED" 14 ms after it
 * registered, having answered 200).  Holding the exclusive lock ourselves
 * while the environment closes makes the close wait for any scan and no
 * scan see the slot between the two steps.  The lock is the one
 * env_register.c takes (a write lock on byte 1 of __db.register); it goes
 * with every other lock of ours on that file when Berkeley DB closes its
 * descriptor, right after writing the slot empty.  Returns a descriptor
 * to close after the environment, or -1 (then nothing is held).
 */
static int
register_lock(DB_ENV *env)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
		.l_start = 1, .l_len = 1 };
	const char *home = NULL;
	char path[4096];
	int fd;

	if (env->get_home(env, &home) != 0 || home == NULL ||
	    (size_t)snprintf(path, sizeof(path), "%s/__db.register", home) >=
	    sizeof(path) || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return -1;
	while (fcntl(fd, F_SETLKW, &fl) != 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

void
store_close(struct store *s)
{
	uint32_t flags = 0;
	int regfd = -1;

	if (s->env != NULL && s->opened_end.file != 0) {
		DB_LSN now;
		log_end(s->env, &now);
		if (now.file == s->opened_end.file &&
		    now.offset == s->opened_end.offset)
			flags = DB_NOSYNC;
	}
	/* Sequences first, then secondaries before their primaries. */
	for (size_t a = s->nareas; s->slot != NULL && a-- > 0;) {
		for (size_t i = 0; i < s->areas[a]->nseq; i++)
			if (s->slot[a].seq[i] != NULL) {
				s->slot[a].seq[i]->close(s->slot[a].seq[i], 0);
				s->slot[a].seq[i] = NULL;
			}
	}
	for (size_t a = s->nareas; s->slot != NULL && a-- > 0;)
		for (size_t i = s->areas[a]->ndb; i-- > 0;)
			close_db(&s->slot[a].db[i], flags);
	if (s->env != NULL) {
		regfd = register_lock(s->env);
		s->env->close(s->env, 0);
	}
	s->env = NULL;
	if (regfd >= 0)
		close(regfd);
	if (s->region_fd >= 0) {
		int fd = s->region_fd;
		s->region_fd = -1;	/* before the close: see store_abandoned */
		close(fd);
	}
	if (s->backup_fd >= 0)
		close(s->backup_fd);
	s->backup_fd = -1;
	store_caches_drop(s);
	free(s->slot);
	s->slot = NULL;	/* s->areas stays, for store_reopen */
}

bool
store_abandoned(const struct store *s)
{
	struct stat st;

	return s->env != NULL && s->region_fd >= 0 &&
	    fstat(s->region_fd, &st) == 0 &&
	    st.st_nlink == 0;
}

sup_err
store_reopen(struct store *s, const struct sup_conf *conf)
{
	const struct store_area *const *areas = s->areas;

	store_close(s);
	return store_open(s, conf, areas);
}

/* Reopen with the same settings; false when the store stays closed. */
static bool
reopen(struct store *s)
{
	const struct sup_conf *conf = s->conf;

	fprintf(stderr, "support: the store was recovered by another "
	    "process; reopening\n");
	return conf != NULL && store_reopen(s, conf) == SUP_OK;
}

/* --- Transactions ---------------------------------------------------- */

sup_err
store_run(struct store *s, unsigned flags, store_fn fn, void *arg)
{
	uint32_t tflags = (flags & STORE_READ) ? DB_READ_COMMITTED : 0;
	bool reopened = false;
	DB_TXN *txn;
	sup_err e;
	int rc;

	if (s->env == NULL)
		return SUP_ERECOVER;	/* a reopen failed before */
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		if ((rc = s->env->txn_begin(s->env, NULL, &txn, tflags)) != 0)
			e = store_err(rc, "txn_begin");
		else if ((e = fn(s, txn, arg)) == SUP_OK) {
			/*
			 * Commit without waiting for the disk, which releases
			 * the locks at once; then wait for the log to reach the
			 * disk before saying the write is done.  Writers that
			 * overlap thus share one log flush instead of each
			 * holding its locks through its own.
			 */
			rc = txn->commit(txn, DB_TXN_NOSYNC);
			if (rc == 0 && s->conf != NULL && s->conf->durable &&
			    !(flags & (STORE_READ | STORE_NOSYNC)) &&
			    (rc = s->env->log_flush(s->env, NULL)) != 0) {
				/* Committed, but maybe not on disk: no retry. */
				store_err(rc, "log flush");
				return SUP_EDB;
			}
			e = store_err(rc, "commit");
		} else
			txn->abort(txn);
		if (e == SUP_ERECOVER && !reopened) {
			/* The aborted transaction wrote nothing: run it anew. */
			reopened = true;
			if (!reopen(s))
				return SUP_ERECOVER;
			continue;
		}
		if (e != SUP_EDEADLOCK)
			return e;
		/* Back off a random 0.1 to 2^attempt ms before trying again. */
		usleep(100 + randombytes_uniform(1000u << (attempt < 6 ?
		    attempt : 6)));
	}
	return SUP_EBUSY;
}

sup_err
store_run_json(struct store *s, unsigned flags, store_fn fn, void *arg,
    json_object **result, json_object **out)
{
	sup_err e = store_run(s, flags, fn, arg);

	if (e != SUP_OK) {
		json_object_put(*result);
		*result = NULL;
	}
	*out = *result;
	return e;
}

/* --- Counters and sequences ------------------------------------------ */

/* The 8-byte count under key in db (0 when there is none). */
static sup_err
count_get(DB *db, DB_TXN *txn, const void *key, size_t klen, int64_t *out)
{
	uint8_t buf[8];
	DBT k = { .data = (void *)key, .size = (u_int32_t)klen };
	DBT d = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int rc;

	*out = 0;
	rc = db->get(db, txn, &k, &d, 0);
	if (rc == DB_NOTFOUND)
		return SUP_OK;
	if (rc != 0)
		return store_err(rc, "counter get");
	if (d.size == 8)
		*out = (int64_t)be64_get(buf);
	return SUP_OK;
}

/* Add delta to the count under key in db, read for update. */
static sup_err
count_add(DB *db, DB_TXN *txn, const void *key, size_t klen, int64_t delta)
{
	uint8_t buf[8];
	DBT k = { .data = (void *)key, .size = (u_int32_t)klen };
	DBT d = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int64_t v = 0;
	int rc;

	if (delta == 0)
		return SUP_OK;
	rc = db->get(db, txn, &k, &d, DB_RMW);
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "counter get");
	if (rc == 0 && d.size == 8)
		v = (int64_t)be64_get(buf);
	be64_put(buf, (uint64_t)(v + delta));
	d.size = 8;
	return store_err(db->put(db, txn, &k, &d, 0), "counter put");
}

sup_err
store_count_get_db(DB *db, DB_TXN *txn, const void *key, size_t klen,
    int64_t *out)
{
	return count_get(db, txn, key, klen, out);
}

sup_err
store_count_add_db(DB *db, DB_TXN *txn, const void *key, size_t klen,
    int64_t delta)
{
	return count_add(db, txn, key, klen, delta);
}

sup_err
store_seq_next(DB_SEQUENCE *seq, DB_TXN *txn, int64_t *out)
{
	db_seq_t v;
	int rc;

	if ((rc = seq->get(seq, txn, 1, &v, 0)) != 0)
		return store_err(rc, "sequence");
	*out = (int64_t)v;
	return SUP_OK;
}

void
store_checkpoint(struct store *s, bool force)
{
	/*
	 * None while a backup copies the store (lib/store/backup.c): after a
	 * checkpoint, the next log file switch removes the log files
	 * before it, which the copy may still need.  Skipped, not waited
	 * for: a request must not wait for a backup.
	 */
	if (s->backup_fd >= 0 && flock(s->backup_fd, LOCK_SH | LOCK_NB) != 0)
		return;
	/* Unforced, nothing happens until 1 MB of log or a minute has gone by. */
	s->env->txn_checkpoint(s->env, force ? 0 : 1024, force ? 0 : 1,
	    force ? DB_FORCE : 0);
	if (s->backup_fd >= 0)
		flock(s->backup_fd, LOCK_UN);
}

void
store_maintain(struct store *s)
{
	int64_t now = time_now_us() / 1000000;

	if (s->env == NULL || now == s->last_upkeep)
		return;
	s->last_upkeep = now;
	s->env->lock_detect(s->env, 0, DB_LOCK_EXPIRE, NULL);
	store_checkpoint(s, false);
}
