/*
 * backup.c - store_backup: a hot backup, as Berkeley DB's reference guide
 * describes one ("Hot backup"): a checkpoint, a copy of every database
 * file, then of every log file, then catastrophic recovery in the copy.
 *
 * Written here rather than run as db5.3_hotbackup because the programs
 * open the store with DB_LOG_AUTO_REMOVE: after any checkpoint, the next
 * log file switch removes the files before it, and db_hotbackup (5.3) has
 * no way to hold that off.  Here the backup takes the store's backup lock
 * (STORE_BACKUP_LOCK) before its checkpoint, and store_checkpoint does
 * nothing while the lock is held, so no log file the copy needs can go.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "store.h"
#include "util.h"

static sup_err sync_dir(const char *dir);

/* A multiple of every page size Berkeley DB allows (512 to 64K). */
#define COPY_CHUNK 65536

static sup_err
say(const char *what, const char *path, int err)
{
	fprintf(stderr, "support: backup: %s %s: %s\n", what, path,
	    strerror(err));
	return SUP_EIO;
}

/*
 * Make dir, or accept it when it exists and is empty (a backup never
 * mixes with other files: a restore copies all it finds there).
 */
static sup_err
make_dir(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (mkdir(dir, 0750) == 0)
		return SUP_OK;
	if (errno != EEXIST)
		return say("cannot make", dir, errno);
	if ((d = opendir(dir)) == NULL)
		return say("cannot read", dir, errno);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			closedir(d);
			fprintf(stderr, "support: backup: %s is not empty\n",
			    dir);
			return SUP_EEXIST;
		}
	closedir(d);
	return SUP_OK;
}

/*
 * Copy from/name to to/name in whole chunks, and flush it to the disk.
 * Read a multiple of the page size at a time, as the guide asks, so that
 * a page a process writes meanwhile is read before or after, not across
 * the write; recovery brings every page up to the end of the log.
 */
static sup_err
copy_file(const char *from, const char *to, const char *name,
    long long *bytes)
{
	char src[4096], dst[4096];
	char *buf;
	int in, out = -1;
	sup_err e = SUP_OK;
	ssize_t n;

	if ((size_t)snprintf(src, sizeof(src), "%s/%s", from, name) >=
	    sizeof(src) ||
	    (size_t)snprintf(dst, sizeof(dst), "%s/%s", to, name) >=
	    sizeof(dst))
		return say("path too long:", name, ENAMETOOLONG);
	if ((buf = malloc(COPY_CHUNK)) == NULL)
		return SUP_ENOMEM;
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		e = say("cannot read", src, errno);
		goto out;
	}
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640)) < 0) {
		e = say("cannot write", dst, errno);
		goto out;
	}
	while ((n = read(in, buf, COPY_CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = say("cannot read", src, errno);
			goto out;
		}
		if (!write_all(out, buf, (size_t)n)) {
			e = say("cannot write", dst, errno);
			goto out;
		}
		*bytes += n;
	}
	if (fsync(out) != 0)
		e = say("cannot flush", dst, errno);
out:
	if (out >= 0 && close(out) != 0 && e == SUP_OK)
		e = say("cannot write", dst, errno);
	if (in >= 0)
		close(in);
	free(buf);
	return e;
}

static bool
is_database(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && strcmp(name + n - 3, ".db") == 0;
}

/* Every database file of the store: its *.db files. */
static sup_err
copy_databases(const char *from, const char *to, backup_fn fn, void *arg,
    struct backup_stats *st)
{
	struct dirent *de;
	sup_err e = SUP_OK;
	DIR *d;

	if ((d = opendir(from)) == NULL)
		return say("cannot read", from, errno);
	while (e == SUP_OK && (de = readdir(d)) != NULL) {
		if (!is_database(de->d_name))
			continue;
		if ((e = copy_file(from, to, de->d_name, &st->bytes)) ==
		    SUP_OK) {
			st->databases++;
			if (fn != NULL)
				fn(arg, BACKUP_DATABASE, de->d_name);
		}
	}
	closedir(d);
	return e;
}

/* Every log file, oldest first (log_archive's order). */
static sup_err
copy_logs(DB_ENV *env, const char *from, const char *to, backup_fn fn,
    void *arg, struct backup_stats *st)
{
	char **list = NULL;
	sup_err e;
	int rc;

	if ((rc = env->log_archive(env, &list, DB_ARCH_LOG)) != 0)
		return store_err(rc, "log_archive");
	e = list == NULL ? SUP_EDB : SUP_OK;	/* a store has a log */
	for (char **p = list; e == SUP_OK && p != NULL && *p != NULL; p++)
		if ((e = copy_file(from, to, *p, &st->bytes)) == SUP_OK) {
			st->logs++;
			if (fn != NULL)
				fn(arg, BACKUP_LOG, *p);
		}
	free(list);
	return e;
}

/*
 * The tree STORE_FILES_DIR of from into to, two levels of directories
 * and their files, but its "tmp" and names starting with a dot (files
 * being written).  Each file copied flushed, then each directory.
 */
static sup_err
copy_tree(const char *from, const char *to, int depth, backup_fn fn,
    void *arg, struct backup_stats *st)
{
	struct dirent *de;
	struct stat sb;
	sup_err e = SUP_OK;
	DIR *d;

	if ((d = opendir(from)) == NULL)
		return errno == ENOENT ? SUP_OK : say("cannot read", from,
		    errno);
	if (mkdir(to, 0750) != 0 && errno != EEXIST) {
		closedir(d);
		return say("cannot make", to, errno);
	}
	while (e == SUP_OK && (de = readdir(d)) != NULL) {
		char src[4096], dst[4096];

		if (de->d_name[0] == '.' || (depth == 0 &&
		    strcmp(de->d_name, "tmp") == 0))
			continue;
		if ((size_t)snprintf(src, sizeof(src), "%s/%s", from,
		    de->d_name) >= sizeof(src) ||
		    (size_t)snprintf(dst, sizeof(dst), "%s/%s", to,
		    de->d_name) >= sizeof(dst)) {
			e = say("path too long:", de->d_name, ENAMETOOLONG);
			break;
		}
		if (stat(src, &sb) != 0) {
			/* Removed meanwhile: it was no record's. */
			if (errno != ENOENT)
				e = say("cannot read", src, errno);
			continue;
		}
		if (S_ISDIR(sb.st_mode) && depth < 2)
			e = copy_tree(src, dst, depth + 1, fn, arg, st);
		else if (S_ISREG(sb.st_mode) && depth == 2 &&
		    (e = copy_file(from, to, de->d_name, &st->bytes)) ==
		    SUP_OK) {
			st->files++;
			if (fn != NULL)
				fn(arg, BACKUP_FILE, de->d_name);
		}
	}
	closedir(d);
	if (e == SUP_OK)
		e = sync_dir(to);
	return e;
}

/*
 * Catastrophic recovery in the copy: every log record is applied to the
 * copied pages, and transactions the copy caught unfinished are undone.
 * A private environment, so the copy is left with no region files.
 */
static sup_err
recover(const char *dir)
{
	DB_ENV *env;
	int rc;

	if ((rc = db_env_create(&env, 0)) != 0)
		return store_err(rc, "db_env_create");
	env->set_errpfx(env, "support: backup");
	env->set_errfile(env, stderr);
	rc = env->open(env, dir, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
	    DB_INIT_LOG | DB_INIT_MPOOL | DB_PRIVATE | DB_RECOVER_FATAL, 0640);
	if (rc == 0)
		rc = env->txn_checkpoint(env, 0, 0, DB_FORCE);
	env->close(env, 0);
	return store_err(rc, "recovery of the copy");
}

/* The directory's entries to the disk, as its files' contents are. */
static sup_err
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sup_err e = SUP_OK;

	if (fd < 0 || fsync(fd) != 0)
		e = say("cannot flush", dir, errno);
	if (fd >= 0)
		close(fd);
	return e;
}

sup_err
store_backup(const struct sup_conf *conf, const char *dir, backup_fn fn,
    void *arg, struct backup_stats *st)
{
	char lock_path[4096];
	struct store s;
	sup_err e;
	int lock = -1, rc;

	memset(st, 0, sizeof(*st));
	if ((e = make_dir(dir)) != SUP_OK)
		return e;
	/*
	 * The environment alone (no area): recovery when needed and the
	 * checkpoint; the files copied are the directory's.
	 */
	if ((e = store_open(&s, conf, NULL)) != SUP_OK)
		return e;
	if ((size_t)snprintf(lock_path, sizeof(lock_path), "%s/%s",
	    conf->data_dir, STORE_BACKUP_LOCK) >= sizeof(lock_path)) {
		e = say("path too long:", conf->data_dir, ENAMETOOLONG);
		goto out;
	}
	/* Waits for a checkpoint under way (it holds the lock shared). */
	if ((lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0660)) < 0 ||
	    flock(lock, LOCK_EX) != 0) {
		e = say("cannot lock", lock_path, errno);
		goto out;
	}
	/*
	 * The last checkpoint: every page changed before it is in the
	 * database files, and recovery of the copy starts from it.
	 */
	if ((rc = s.env->txn_checkpoint(s.env, 0, 0, DB_FORCE)) != 0) {
		e = store_err(rc, "checkpoint");
		goto out;
	}
	if (fn != NULL)
		fn(arg, BACKUP_CHECKPOINTED, NULL);
	if ((e = copy_databases(conf->data_dir, dir, fn, arg, st)) != SUP_OK)
		goto out;
	if (fn != NULL)
		fn(arg, BACKUP_DATABASES_DONE, NULL);
	/*
	 * With durability = nosync, commits may still be in the log buffer
	 * (shared memory): to the files with them, so the copy has them.
	 */
	if ((rc = s.env->log_flush(s.env, NULL)) != 0) {
		e = store_err(rc, "log_flush");
		goto out;
	}
	if ((e = copy_logs(s.env, conf->data_dir, dir, fn, arg, st)) !=
	    SUP_OK)
		goto out;
	/*
	 * The files after the log: each was in place before the commit of
	 * any record the copied log holds; none is removed while the lock
	 * is held.
	 */
	{
		char src[4096], dst[4096];

		if ((size_t)snprintf(src, sizeof(src), "%s/%s", conf->data_dir,
		    STORE_FILES_DIR) >= sizeof(src) ||
		    (size_t)snprintf(dst, sizeof(dst), "%s/%s", dir,
		    STORE_FILES_DIR) >= sizeof(dst)) {
			e = say("path too long:", dir, ENAMETOOLONG);
			goto out;
		}
		e = copy_tree(src, dst, 0, fn, arg, st);
	}
out:
	if (lock >= 0)
		close(lock);	/* releases it */
	store_close(&s);
	if (e == SUP_OK && (e = recover(dir)) == SUP_OK &&
	    (e = sync_dir(dir)) == SUP_OK && fn != NULL)
		fn(arg, BACKUP_RECOVERED, NULL);
	return e;
}
