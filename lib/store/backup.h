/*
 * backup.h - a hot backup of the store (DESIGN §5, docs/install.md
 * "Backup and restore"): a copy of its directory, taken while the
 * programs run, that opens as a store of its own.
 */
#ifndef SUPPORT_BACKUP_H
#define SUPPORT_BACKUP_H

#include "conf.h"
#include "sup.h"

/* What the backup has just done; name is the file, or NULL. */
enum backup_step {
	BACKUP_CHECKPOINTED,	/* before the first database is copied */
	BACKUP_DATABASE,	/* a database file copied */
	BACKUP_DATABASES_DONE,	/* before the first log file is copied */
	BACKUP_LOG,		/* a log file copied */
	BACKUP_FILE,		/* a file of STORE_FILES_DIR copied */
	BACKUP_RECOVERED,	/* recovery has run in the copy */
};

typedef void (*backup_fn)(void *arg, enum backup_step step, const char *name);

struct backup_stats {
	int databases, logs;
	long files;			/* under STORE_FILES_DIR */
	long long bytes;
};

/*
 * Copy the store of conf into dir (made if missing; it must be empty),
 * its files under STORE_FILES_DIR (the attachments' contents, written
 * before any record names them) after the log, so that every file the
 * copy's records name is there; then run recovery there, so that dir holds every transaction committed
 * before the call and opens as a store.  Checkpoints of the store are
 * held off meanwhile (store_checkpoint skips them), since after one
 * Berkeley DB removes log files the copy still needs.  fn (may be NULL)
 * hears of each step.  SUP_EEXIST when dir is not empty, SUP_EIO when a
 * file cannot be read or written, SUP_EDB; each said on stderr too.
 */
sup_err store_backup(const struct sup_conf *conf, const char *dir,
    backup_fn fn, void *arg, struct backup_stats *st);

#endif
