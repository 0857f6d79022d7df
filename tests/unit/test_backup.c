/*
 * test_backup.c - store_backup (lib/store/backup.c): a copy of a store taken
 * while another process writes to it opens as a store, holds what was
 * committed before each step, and passes store_verify; a checkpoint
 * during the copy is held off, so no log file the copy needs is removed.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "areas.h"
#include "backup.h"
#include "conf.h"
#include "store.h"
#include "sup.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;

/* A token record keyed by n (32 bytes), with a value of size bytes. */
struct put_args {
	int n;
	size_t size;
};

static void
key_of(int n, uint8_t key[32])
{
	memset(key, 0, 32);
	snprintf((char *)key, 32, "backup-test-%d", n);
}

static sup_err
put_fn(struct store *s, DB_TXN *txn, void *arg)
{
	struct put_args *a = arg;
	uint8_t key[32];
	char *pad = malloc(a->size + 1);
	json_object *v;
	sup_err e;

	if (pad == NULL)
		return SUP_ENOMEM;
	memset(pad, 'x', a->size);
	pad[a->size] = '\0';
	v = json_object_new_object();
	json_object_object_add(v, "n", json_object_new_int(a->n));
	json_object_object_add(v, "pad", json_object_new_string(pad));
	free(pad);
	key_of(a->n, key);
	e = store_put(*store_db_find(s, "tokens.db"), txn, key, 32, v, 0);
	json_object_put(v);
	return e;
}

static sup_err
put(struct store *s, int n, size_t size)
{
	struct put_args a = { n, size };

	return store_run(s, 0, put_fn, &a);
}

struct get_args {
	int n;
	bool found;
};

static sup_err
get_fn(struct store *s, DB_TXN *txn, void *arg)
{
	struct get_args *a = arg;
	uint8_t key[32];
	json_object *v = NULL;
	sup_err e;

	key_of(a->n, key);
	e = store_get(*store_db_find(s, "tokens.db"), txn, key, 32, 0, &v);
	a->found = e == SUP_OK;
	json_object_put(v);
	return e == SUP_ENOTFOUND ? SUP_OK : e;
}

/*
 * How many of the records first..last the store in data_dir holds; -1
 * when it does not open.
 */
static int
records_in(const char *data_dir, int first, int last)
{
	struct sup_conf c = conf;
	struct store s;
	int n = 0;

	c.data_dir = (char *)data_dir;
	if (store_open(&s, &c, desk_areas) != SUP_OK)
		return -1;
	for (int i = first; i <= last; i++) {
		struct get_args a = { i, false };
		if (store_run(&s, STORE_READ, get_fn, &a) == SUP_OK && a.found)
			n++;
	}
	store_close(&s);
	return n;
}

static void
no_report(void *ctx TAP_UNUSED, const char *line)
{
	diag("verify: %s", line);
}

/* store_verify of the store in data_dir: its problems, or -1. */
static long
problems_in(const char *data_dir)
{
	struct sup_conf c = conf;
	long problems = -1;

	c.data_dir = (char *)data_dir;
	if (store_verify(&c, desk_areas, no_report, NULL, &problems) != SUP_OK)
		return -1;
	return problems;
}

/* Is there a file name in the directory where? */
static bool
has_file(const char *where, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", where, name);
	return access(path, F_OK) == 0;
}

/*
 * The writer: another process with the store open, told by a byte on
 * cmd what to do, answering each with a byte on ack.
 *   '1': commit record 1;
 *   '2': commit record 2, then 200 records of 64 kB (more than one 10 MB
 *        log file), then a forced checkpoint (which a backup holds off);
 *   'c': a forced checkpoint, then 200 more large records (the log file
 *        switches that remove what the checkpoint no longer needs);
 *   'q': close and exit.
 */
static pid_t
start_writer(int *cmd, int *ack)
{
	int to[2], from[2];
	pid_t pid;

	if (pipe(to) != 0 || pipe(from) != 0)
		bail_out("pipe");
	if ((pid = fork()) < 0)
		bail_out("fork");
	if (pid > 0) {
		close(to[0]);
		close(from[1]);
		*cmd = to[1];
		*ack = from[0];
		return pid;
	}
	close(to[1]);
	close(from[0]);
	struct store s;
	char c, r;
	if (store_open(&s, &conf, desk_areas) != SUP_OK)
		_exit(1);
	while (read(to[0], &c, 1) == 1 && c != 'q') {
		sup_err e = SUP_OK;
		if (c == '1')
			e = put(&s, 1, 10);
		else if (c == '2' || c == 'c') {
			if (c == '2')
				e = put(&s, 2, 10);
			else
				store_checkpoint(&s, true);
			for (int i = 0; i < 200 && e == SUP_OK; i++)
				e = put(&s, 1000 + i, 64 * 1024);
			if (c == '2')
				store_checkpoint(&s, true);
		}
		r = e == SUP_OK ? 'y' : 'n';
		if (write(from[1], &r, 1) != 1)
			break;
	}
	store_close(&s);
	_exit(0);
}

static bool
tell(int cmd, int ack, char c)
{
	char r = 0;

	return write(cmd, &c, 1) == 1 && read(ack, &r, 1) == 1 && r == 'y';
}

struct during {
	int cmd, ack;
	bool told1, told2;
};

/* Between the backup's steps: the writer writes. */
static void
step(void *arg, enum backup_step st, const char *name TAP_UNUSED)
{
	struct during *d = arg;

	if (st == BACKUP_CHECKPOINTED)
		d->told1 = tell(d->cmd, d->ack, '1');
	else if (st == BACKUP_DATABASES_DONE)
		d->told2 = tell(d->cmd, d->ack, '2');
}

int
main(void)
{
	char backup_dir[128], second[128], path[256];
	struct backup_stats st;
	struct store s;
	struct during d = { 0 };
	int status;
	pid_t writer;

	tap_store_conf(dir, sizeof(dir), &conf, "");
	/* A store with a record, and its environment made. */
	if (store_open(&s, &conf, desk_areas) != SUP_OK || put(&s, 0, 10) != SUP_OK)
		bail_out("making the store");
	store_close(&s);

	snprintf(backup_dir, sizeof(backup_dir), "%s/backup", dir);
	writer = start_writer(&d.cmd, &d.ack);
	is_err(store_backup(&conf, backup_dir, step, &d, &st), SUP_OK,
	    "a backup while another process writes");
	ok(d.told1 && d.told2, "  the writer wrote during the copy");
	ok(st.databases >= 17 && st.logs >= 2 && st.bytes > 10 << 20,
	    "  every database and the log files copied (%d, %d, %lld bytes)",
	    st.databases, st.logs, st.bytes);
	ok(has_file(conf.data_dir, "log.0000000001") &&
	    has_file(conf.data_dir, "log.0000000002"),
	    "  the store kept its first log file: the writer's checkpoint "
	    "after it had filled was held off");
	ok(has_file(backup_dir, "log.0000000001") &&
	    !has_file(backup_dir, "__db.001"),
	    "  the backup has it too, and no region files");

	is_int(records_in(backup_dir, 0, 2), 3, "the backup opens as a store "
	    "and has record 0 (committed before it), 1 (after its checkpoint, "
	    "before the databases were copied) and 2 (after they were)");
	is_int(records_in(backup_dir, 1000, 1199), 200,
	    "  and the 200 records written after record 2");
	is_int(problems_in(backup_dir), 0, "  store_verify: no problem");

	/* After the backup, checkpoints remove old log files again. */
	ok(tell(d.cmd, d.ack, 'c'), "the writer checkpoints after the backup");
	ok(!has_file(conf.data_dir, "log.0000000001"),
	    "  and the log files before it are removed again");
	if (write(d.cmd, "q", 1) != 1)
		bail_out("cannot stop the writer");
	waitpid(writer, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "  the writer exited cleanly");

	/* A backup never writes into a directory that holds anything. */
	struct stat before, after;
	snprintf(path, sizeof(path), "%s/tokens.db", backup_dir);
	stat(path, &before);
	is_err(store_backup(&conf, backup_dir, NULL, NULL, &st), SUP_EEXIST,
	    "a backup into a directory that is not empty: SUP_EEXIST");
	ok(stat(path, &after) == 0 && after.st_mtime == before.st_mtime &&
	    after.st_size == before.st_size && st.databases == 0,
	    "  nothing in it changed");
	snprintf(second, sizeof(second), "%s/second", dir);
	if (mkdir(second, 0700) != 0)
		bail_out("mkdir %s", second);
	is_err(store_backup(&conf, second, NULL, NULL, &st), SUP_OK,
	    "a backup into an empty directory that exists");
	is_int(records_in(second, 0, 2), 3, "  with every record");
	conf_free(&conf);
	tap_rmtree(dir);
	return done_testing();
}
