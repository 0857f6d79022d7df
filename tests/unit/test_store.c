/*
 * test_store.c - the Berkeley DB store (lib/store/store.c, lib/store/verify.c) in a
 * fresh scratch directory: records, counters, sequences, transactions with
 * bounded retry, reopening, and the consistency check.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "conf.h"
#include "areas.h"
#include "counter.h"
#include "record.h"
#include "store.h"
#include "tstore.h"
#include "sup.h"
#include "util.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;

/* A support.conf for a store in dir/db; short lock waits. */
static void
setup(void)
{
	tap_store_conf(dir, sizeof(dir), &conf, "lock_timeout_ms = 50\n");
}

/* --- store_run callbacks ---------------------------------------------- */

struct rec_args {
	const uint8_t *key;
	json_object *val;	/* to put, or what was got */
	uint32_t flags;
};

static const uint8_t key1[32] = { 1, 2, 3 };
static const uint8_t key2[32] = { 9 };

static sup_err
put_fn(struct store *s, DB_TXN *txn, void *arg)
{
	struct rec_args *a = arg;

	return store_put(*store_db_find(s, "tokens.db"), txn, a->key, 32, a->val, a->flags);
}

static sup_err
get_fn(struct store *s, DB_TXN *txn, void *arg)
{
	struct rec_args *a = arg;

	json_object_put(a->val);
	a->val = NULL;
	return store_get(*store_db_find(s, "tokens.db"), txn, a->key, 32, 0, &a->val);
}

struct count_args {
	const char *name;
	int64_t delta, value;
};

static sup_err
count_add_fn(struct store *s, DB_TXN *txn, void *arg)
{
	struct count_args *a = arg;

	return store_count_add(s, txn, a->name, a->delta);
}

static sup_err
count_get_fn(struct store *s, DB_TXN *txn, void *arg)
{
	struct count_args *a = arg;

	return store_count_get(s, txn, a->name, &a->value);
}

/* The value of a counter, read in its own transaction (-999 on error). */
static int64_t
counter(struct store *s, const char *name)
{
	struct count_args a = { .name = name };

	return store_run(s, STORE_READ, count_get_fn, &a) == SUP_OK ?
	    a.value : -999;
}

static sup_err
add(struct store *s, const char *name, int64_t delta)
{
	struct count_args a = { .name = name, .delta = delta };

	return store_run(s, 0, count_add_fn, &a);
}

struct seq_args {
	int64_t value;
	sup_err then;		/* what fn returns after taking a value */
};

static sup_err
seq_fn(struct store *s, DB_TXN *txn, void *arg)
{
	struct seq_args *a = arg;
	sup_err e = store_seq_next(ticket_number_seq(s), txn, &a->value);

	return e != SUP_OK ? e : a->then;
}

/* Writes a counter, then answers as told for the first n calls. */
struct flaky_args {
	int calls;
	int fail_first;		/* calls that fail; -1: all of them */
	sup_err fail_with;
};

static sup_err
flaky_fn(struct store *s, DB_TXN *txn, void *arg)
{
	struct flaky_args *a = arg;
	sup_err e;

	a->calls++;
	if ((e = store_count_add(s, txn, "flaky", 1)) != SUP_OK)
		return e;
	if (a->fail_first < 0 || a->calls <= a->fail_first)
		return a->fail_with;
	return SUP_OK;
}

/* --- Tests ------------------------------------------------------------ */

static void
test_open(struct store *s)
{
	struct store bad;
	struct sup_conf nowhere = conf;
	char path[128];

	is_err(store_open(s, &conf, desk_areas), SUP_OK, "store_open in an empty directory");
	bool all = s->env != NULL && s->nareas == AREA_MAX;
	for (size_t a = 0; all && a < s->nareas; a++) {
		for (size_t i = 0; i < desk_areas[a]->ndb; i++)
			all &= store_db(s, (unsigned)a, (unsigned)i) != NULL;
		for (size_t i = 0; i < desk_areas[a]->nseq; i++)
			all &= store_seq(s, (unsigned)a, (unsigned)i) != NULL;
	}
	ok(all, "every database and sequence of every area is open");
	ok(store_seq_find(s, "ticket_number") == ticket_number_seq(s) &&
	    store_seq_find(s, "user_id") != NULL &&
	    *store_db_find(s, "t_recent.db") == ticket_index_db(s,
	    IDX_UPDATED) && store_db_find(s, "nothing.db") == NULL,
	    "  found by name; activity order is t_recent");

	snprintf(path, sizeof(path), "%s/not/there", dir);
	nowhere.data_dir = path;
	ok(store_open(&bad, &nowhere, desk_areas) != SUP_OK,
	    "store_open in a directory that does not exist fails");
	ok(bad.env == NULL && bad.slot == NULL,
	    "  and leaves the store closed");
}

static void
test_records(struct store *s)
{
	struct rec_args a = { .key = key1 };
	json_object *v;

	a.val = json_tokener_parse("{\"subject\": \"caf\\u00e9 / \\\"quoted\\\"\","
	    " \"n\": 42, \"list\": [1, null, true]}");
	is_err(store_run(s, 0, put_fn, &a), SUP_OK, "store_put a record");
	json_object_put(a.val);
	a.val = NULL;
	is_err(store_run(s, STORE_READ, get_fn, &a), SUP_OK,
	    "store_get it back");
	ok(json_object_object_get_ex(a.val, "subject", &v) &&
	    strcmp(json_object_get_string(v), "caf\xc3\xa9 / \"quoted\"") == 0,
	    "  the string as it was");
	ok(json_object_object_get_ex(a.val, "n", &v) &&
	    json_object_get_int64(v) == 42, "  the number");
	ok(json_object_object_get_ex(a.val, "list", &v) &&
	    json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) == 3, "  the array");

	/* DB_NOOVERWRITE keeps the first. */
	json_object_put(a.val);
	a.val = json_tokener_parse("{\"n\": 1}");
	a.flags = DB_NOOVERWRITE;
	is_err(store_run(s, 0, put_fn, &a), SUP_EEXIST,
	    "store_put DB_NOOVERWRITE on a taken key");
	a.flags = 0;
	is_err(store_run(s, 0, put_fn, &a), SUP_OK,
	    "store_put without it replaces");
	json_object_put(a.val);
	a.val = NULL;
	store_run(s, STORE_READ, get_fn, &a);
	ok(json_object_object_get_ex(a.val, "n", &v) &&
	    json_object_get_int64(v) == 1 &&
	    !json_object_object_get_ex(a.val, "subject", NULL),
	    "  the whole record replaced");
	json_object_put(a.val);

	struct rec_args missing = { .key = key2 };
	is_err(store_run(s, STORE_READ, get_fn, &missing), SUP_ENOTFOUND,
	    "store_get of a missing key");
	ok(missing.val == NULL, "  *out is NULL");

	/* A record that is not JSON is a store error, not a crash. */
	DBT k = { .data = (void *)key2, .size = 32 };
	DBT d = { .data = "not json", .size = 8 };
	if ((*store_db_find(s, "tokens.db"))->put(*store_db_find(s, "tokens.db"), NULL, &k, &d, DB_AUTO_COMMIT) != 0)
		bail_out("raw put failed");
	is_err(store_run(s, STORE_READ, get_fn, &missing), SUP_EDB,
	    "store_get of a record that is not JSON: SUP_EDB");
	ok(missing.val == NULL, "  *out is NULL");
	(*store_db_find(s, "tokens.db"))->del(*store_db_find(s, "tokens.db"), NULL, &k, DB_AUTO_COMMIT);

	DBT arr = { .data = "[1,2]", .size = 5 };
	json_object *o = NULL;
	is_err(store_parse(&arr, &o), SUP_EDB,
	    "store_parse: a JSON array is not a record");
	DBT trail = { .data = "{}x", .size = 3 };
	is_err(store_parse(&trail, &o), SUP_EDB,
	    "store_parse: trailing bytes");
	DBT good = { .data = "{\"a\":1}", .size = 7 };
	is_err(store_parse(&good, &o), SUP_OK, "store_parse: an object");
	json_object_put(o);
}

/*
 * The log file being written has all its blocks when it is made (zeroed,
 * DB_LOG_ZERO): a commit's flush then overwrites blocks the file already
 * has, and the disk flush needs no change of the file's metadata.  On a
 * file extended sparsely (Berkeley DB's default) each flush that reached
 * a new block also wrote the inode: more I/O per commit (docs/store.md).
 */
static void
test_log_allocated(struct store *s)
{
	DB_LOG_STAT *st = NULL;
	struct stat sb = { 0 };
	char path[128];

	if (s->env->log_stat(s->env, &st, 0) != 0)
		bail_out("log_stat failed");
	snprintf(path, sizeof(path), "%s/db/log.%010u", dir,
	    (unsigned)st->st_cur_file);
	free(st);
	ok(stat(path, &sb) == 0 && sb.st_size >= 1024 * 1024,
	    "the current log file is made at its full size");
	ok((long long)sb.st_blocks * 512 >= (long long)sb.st_size,
	    "  and every block of it is on disk, not a sparse hole "
	    "(%lld of %lld bytes)", (long long)sb.st_blocks * 512,
	    (long long)sb.st_size);
}

static void
test_counters(struct store *s)
{
	is_int(counter(s, "never"), 0, "a counter never written is 0");
	is_err(add(s, "c", 5), SUP_OK, "store_count_add +5");
	is_int(counter(s, "c"), 5, "  reads 5");
	add(s, "c", -7);
	is_int(counter(s, "c"), -2, "  -7: reads -2");
	add(s, "c", 0);
	is_int(counter(s, "c"), -2, "  +0: unchanged");
	add(s, "c2", 1);
	is_int(counter(s, "c"), -2, "  another counter does not touch it");
	is_int(counter(s, "c2"), 1, "  and has its own value");
	/* Names are text: "x:1" and "x:10" are different. */
	add(s, "x:10", 3);
	is_int(counter(s, "x:1"), 0, "\"x:1\" is not \"x:10\"");
}

static void
test_sequence(struct store *s, int64_t *last)
{
	struct seq_args a = { .then = SUP_OK };
	int64_t first;

	is_err(store_run(s, 0, seq_fn, &a), SUP_OK, "store_seq_next");
	is_int(a.value, 1, "  a new sequence starts at 1");
	first = a.value;
	store_run(s, 0, seq_fn, &a);
	is_int(a.value, first + 1, "  then 2");

	a.then = SUP_EINVAL;
	is_err(store_run(s, 0, seq_fn, &a), SUP_EINVAL,
	    "a transaction taking a number, then failing");
	a.then = SUP_OK;
	store_run(s, 0, seq_fn, &a);
	is_int(a.value, first + 2,
	    "  the number is given again (rolled back with it)");
	*last = a.value;
}

static void
test_run(struct store *s)
{
	struct flaky_args a;
	int64_t before;

	before = counter(s, "flaky");
	a = (struct flaky_args){ .fail_first = 2, .fail_with = SUP_EDEADLOCK };
	is_err(store_run(s, 0, flaky_fn, &a), SUP_OK,
	    "store_run: deadlocked twice, then through");
	is_int(a.calls, 3, "  fn called three times");
	is_int(counter(s, "flaky"), before + 1,
	    "  only the last attempt's write is kept");

	before = counter(s, "flaky");
	a = (struct flaky_args){ .fail_first = -1, .fail_with = SUP_EDEADLOCK };
	is_err(store_run(s, 0, flaky_fn, &a), SUP_EBUSY,
	    "store_run: always deadlocked gives SUP_EBUSY");
	ok(a.calls > 1 && a.calls <= 20, "  after a bounded number of "
	    "attempts (%d)", a.calls);
	is_int(counter(s, "flaky"), before, "  nothing written");

	a = (struct flaky_args){ .fail_first = -1, .fail_with = SUP_EINVAL };
	is_err(store_run(s, 0, flaky_fn, &a), SUP_EINVAL,
	    "store_run: fn failing returns its error");
	is_int(a.calls, 1, "  not retried");
	is_int(counter(s, "flaky"), before, "  and its write aborted");

	a = (struct flaky_args){ .fail_first = -1, .fail_with = SUP_ENOTFOUND };
	is_err(store_run(s, 0, flaky_fn, &a), SUP_ENOTFOUND,
	    "store_run: SUP_ENOTFOUND passed through, not retried");
	is_int(a.calls, 1, "  one call");
	is_int(counter(s, "flaky"), before, "  nothing written");
}

/*
 * Another process holds a write lock on the "flaky" counter for hold_ms.
 * Returns its pid once the lock is taken.
 */
static pid_t
hold_lock(int hold_ms)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds) != 0 || (pid = fork()) < 0)
		bail_out("pipe/fork");
	if (pid == 0) {
		struct store cs;
		DB_TXN *txn;
		int rc = 1;

		close(fds[0]);
		if (store_open(&cs, &conf, desk_areas) == SUP_OK &&
		    cs.env->txn_begin(cs.env, NULL, &txn, 0) == 0) {
			if (store_count_add(&cs, txn, "flaky", 100) == SUP_OK &&
			    write(fds[1], "x", 1) == 1) {
				usleep((useconds_t)hold_ms * 1000);
				rc = 0;
			}
			txn->abort(txn);
		}
		store_close(&cs);
		_exit(rc);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		bail_out("the lock holder did not start");
	close(fds[0]);
	return pid;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Real lock conflicts with another process. */
static void
test_lock_conflict(struct store *s)
{
	struct flaky_args a = { .fail_first = 0 };
	int64_t before = counter(s, "flaky");
	struct timespec t0;
	int status;
	pid_t pid;
	sup_err e;

	/* A short hold: the write waits for it, then goes through. */
	pid = hold_lock(200);
	e = store_run(s, 0, flaky_fn, &a);
	waitpid(pid, &status, 0);
	is_err(e, SUP_OK, "a write waits for another process's lock");
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "  the other process held it as planned");
	is_int(counter(s, "flaky"), before + 1,
	    "  only our write is kept (theirs was aborted)");

	/*
	 * A hold much longer than lock_timeout_ms (50 ms here).  Berkeley DB
	 * checks lock timeouts only when deadlock detection runs (when a
	 * request blocks, or store_maintain); a failed wait is retried, so
	 * the write goes through once the holder lets go, and is kept.
	 */
	before = counter(s, "flaky");
	a = (struct flaky_args){ .fail_first = 0 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = hold_lock(1500);
	store_maintain(s);
	e = store_run(s, 0, flaky_fn, &a);
	long waited = ms_since(&t0);
	waitpid(pid, &status, 0);
	is_err(e, SUP_OK, "a lock held past lock_timeout_ms: the write "
	    "waits and goes through");
	ok(waited >= 1400, "  after the holder let go (waited %ld ms)",
	    waited);
	is_int(counter(s, "flaky"), before + 1, "  and is kept");
}

/*
 * Wait until process pid sleeps on a futex (a lock wait: the test programs
 * have one thread), for up to 10 s.
 */
static void
wait_blocked(pid_t pid)
{
	char path[64], buf[128];

	snprintf(path, sizeof(path), "/proc/%ld/wchan", (long)pid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		size_t n = 0;

		if (f != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		if (strstr(buf, "futex") != NULL) {
			usleep(50 * 1000);	/* well inside the wait */
			return;
		}
		usleep(10 * 1000);
	}
	bail_out("process %ld never waited for the lock", (long)pid);
}

/* The waiter's store, for its tick handler. */
static struct store *waiter_store;

/*
 * The waiter's tick, as the request watchdog of cgi-bin/app.c: once its
 * store has been recovered away, it ends with code 99.
 */
static void
waiter_tick(int sig SUP_UNUSED)
{
	if (store_abandoned(waiter_store))
		_exit(99);
}

/*
 * A process killed with SIGKILL while it holds a write lock, and another
 * process already waiting for that lock: a new process then opens the
 * store (as the supervisor's replacement worker does), which runs
 * recovery.  Berkeley DB never wakes the waiter, which waits in the
 * discarded environment; a one-second tick in it must see that with
 * store_abandoned and end it within a few seconds.  The waiter's exit
 * code is 99 then, its store_run result otherwise.
 */
static void
test_killed_holder(struct store *s)
{
	struct timespec t0;
	int status = 0;
	pid_t holder, waiter, done = 0;
	long waited;

	store_close(s);		/* one handle a process (DB_REGISTER) */
	holder = hold_lock(600000);
	if ((waiter = fork()) < 0)
		bail_out("fork");
	if (waiter == 0) {
		struct itimerval tick = { { 1, 0 }, { 1, 0 } };
		struct flaky_args a = { .fail_first = 0 };
		struct store ws;
		sup_err e = SUP_EDB;

		if (store_open(&ws, &conf, desk_areas) == SUP_OK) {
			waiter_store = &ws;
			signal(SIGALRM, waiter_tick);
			setitimer(ITIMER_REAL, &tick, NULL);
			e = store_run(&ws, 0, flaky_fn, &a);
		}
		_exit((int)e);
	}
	wait_blocked(waiter);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	/* The replacement process: open, write, close, as a worker does. */
	struct store ns;
	struct flaky_args b = { .fail_first = 0 };
	is_err(store_open(&ns, &conf, desk_areas), SUP_OK,
	    "after a lock holder is killed, a new process opens the store");
	is_err(store_run(&ns, 0, flaky_fn, &b), SUP_OK,
	    "  and writes at once");
	ok(!store_abandoned(&ns), "  its store is the live one");
	while (ms_since(&t0) < 15000 &&
	    (done = waitpid(waiter, &status, WNOHANG)) == 0)
		usleep(20 * 1000);
	waited = ms_since(&t0);
	if (done == 0) {
		kill(waiter, SIGKILL);
		waitpid(waiter, &status, 0);
	}
	ok(done == waiter && WIFEXITED(status) && WEXITSTATUS(status) == 99 &&
	    waited < 4000, "the process that waited for the killed holder's "
	    "lock sees its store recovered away and ends (exit %d, %ld ms)",
	    WIFEXITED(status) ? WEXITSTATUS(status) : -1, waited);
	store_close(&ns);
	if (store_open(s, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
}

static int hold_fd = -1;

/* A secondary index callback that never returns: the put stays inside. */
static int
stuck_cb(DB *sec SUP_UNUSED, const DBT *k SUP_UNUSED, const DBT *d SUP_UNUSED,
    DBT *r SUP_UNUSED)
{
	if (write(hold_fd, "x", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/*
 * Another process takes the write lock on the "flaky" counter and then
 * stays inside a Berkeley DB call (a put whose index callback never
 * returns).  Returns its pid.
 */
static pid_t
hold_in_library(void)
{
	int fds[2];
	pid_t pid;
	char c;

	if (pipe(fds) != 0 || (pid = fork()) < 0)
		bail_out("pipe/fork");
	if (pid == 0) {
		struct store cs;
		DB *db = NULL, *idx = NULL;
		DB_TXN *txn;
		DBT k = { .data = "k", .size = 1 }, d = { .data = "d", .size = 1 };

		close(fds[0]);
		hold_fd = fds[1];
		if (store_open(&cs, &conf, desk_areas) != SUP_OK ||
		    db_create(&db, cs.env, 0) != 0 || db->open(db, NULL,
		    "hold.db", NULL, DB_BTREE, DB_CREATE | DB_AUTO_COMMIT,
		    0600) != 0 || db_create(&idx, cs.env, 0) != 0 ||
		    idx->open(idx, NULL, "hold_idx.db", NULL, DB_BTREE,
		    DB_CREATE | DB_AUTO_COMMIT, 0600) != 0 ||
		    db->associate(db, NULL, idx, stuck_cb, 0) != 0 ||
		    cs.env->txn_begin(cs.env, NULL, &txn, 0) != 0 ||
		    store_count_add(&cs, txn, "flaky", 100) != SUP_OK)
			_exit(1);
		db->put(db, txn, &k, &d, 0);
		_exit(1);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		bail_out("the lock holder did not start");
	close(fds[0]);
	return pid;
}

/*
 * An observer process with the store open answers each byte on ask with
 * '1' or '0' on answer: whether store_abandoned says its store was
 * recovered away.  It keeps the store open (a store left by recovery
 * cannot be closed cleanly) and ends when ask is closed.
 */
static pid_t
observer(int *ask, int *answer)
{
	int q[2], r[2];
	pid_t pid;
	char c;

	if (pipe(q) != 0 || pipe(r) != 0 || (pid = fork()) < 0)
		bail_out("pipe/fork");
	if (pid == 0) {
		struct store os;

		close(q[1]);
		close(r[0]);
		if (store_open(&os, &conf, desk_areas) != SUP_OK)
			_exit(1);
		while (read(q[0], &c, 1) == 1) {
			c = store_abandoned(&os) ? '1' : '0';
			if (write(r[1], &c, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(q[0]);
	close(r[1]);
	*ask = q[1];
	*answer = r[0];
	return pid;
}

/* The observer's answer: 1, 0, or -1 if it did not answer. */
static int
observed(int ask, int answer)
{
	char c = '?';

	if (write(ask, "?", 1) != 1 || read(answer, &c, 1) != 1)
		return -1;
	return c == '1' ? 1 : c == '0' ? 0 : -1;
}

/*
 * A holder killed inside a Berkeley DB call (which may hold region
 * mutexes): the next opener runs recovery all the same, and writes at
 * once.  store_abandoned says no until then (a death alone changes
 * nothing), yes afterwards for a store that was open meanwhile, and no
 * for a closed store and a store opened anew.
 */
static void
test_killed_in_library(struct store *s)
{
	struct timespec t0;
	int status = 0, ask, answer;
	pid_t holder, opener, watcher, done = 0;

	store_close(s);		/* one handle a process (DB_REGISTER) */
	ok(!store_abandoned(s), "store_abandoned: false on a closed store");
	watcher = observer(&ask, &answer);
	is_int(observed(ask, answer), 0,
	    "store_abandoned: not before any recovery");
	holder = hold_in_library();
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	is_int(observed(ask, answer), 0, "  nor once a process died (nobody "
	    "has opened the store since)");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((opener = fork()) < 0)
		bail_out("fork");
	if (opener == 0) {
		struct store ns;
		struct flaky_args a = { .fail_first = 0 };
		sup_err e = SUP_EDB;

		alarm(60);
		if (store_open(&ns, &conf, desk_areas) == SUP_OK)
			e = store_run(&ns, 0, flaky_fn, &a);
		store_close(&ns);
		_exit((int)e);
	}
	while (ms_since(&t0) < 15000 &&
	    (done = waitpid(opener, &status, WNOHANG)) == 0)
		usleep(20 * 1000);
	if (done == 0) {
		kill(opener, SIGKILL);
		waitpid(opener, &status, 0);
	}
	ok(done == opener && WIFEXITED(status) &&
	    WEXITSTATUS(status) == SUP_OK, "a holder killed inside the "
	    "library: a new process opens the store and writes (%ld ms)",
	    ms_since(&t0));
	is_int(observed(ask, answer), 1, "  a store open meanwhile was "
	    "recovered away: store_abandoned");
	close(ask);
	close(answer);
	waitpid(watcher, NULL, 0);
	if (store_open(s, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	ok(!store_abandoned(s), "store_abandoned: false on the store opened "
	    "anew");
	is_int(counter(s, "flaky") >= 0, 1, "  which reads");
}

static void
report_line(void *ctx, const char *line)
{
	int *n = ctx;

	(*n)++;
	diag("verify: %s", line);
}

static void
test_reopen_verify(struct store *s, int64_t last_seq)
{
	struct rec_args a = { .key = key1 };
	struct seq_args q = { .then = SUP_OK };
	long problems = -1;
	int lines = 0;

	store_close(s);
	ok(s->env == NULL && s->slot == NULL, "store_close clears handles");
	is_err(store_open(s, &conf, desk_areas), SUP_OK, "store_open again");
	is_err(store_run(s, STORE_READ, get_fn, &a), SUP_OK,
	    "  the record is still there");
	json_object_put(a.val);
	is_int(counter(s, "c"), -2, "  the counter kept its value");
	store_run(s, 0, seq_fn, &q);
	is_int(q.value, last_seq + 1, "  the sequence goes on");
	store_close(s);

	is_err(store_verify(&conf, desk_areas, report_line, &lines, &problems), SUP_OK,
	    "store_verify on a healthy store");
	is_int(problems, 0, "  0 problems");
	is_int(lines, 0, "  nothing reported");

	/*
	 * A ticket counter with no ticket behind it.  (test_ticket checks
	 * that a wrong counter of existing tickets is found.)
	 */
	if (store_open(s, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	add(s, "tickets", 1);
	store_close(s);
	lines = 0;
	is_err(store_verify(&conf, desk_areas, report_line, &lines, &problems), SUP_OK,
	    "store_verify with \"tickets\" = 1 and no ticket");
	is_int(problems, 1, "  1 problem");
	is_int(lines, 1, "  reported in one line");
}

/* --- Registration: a toy area the store knows nothing else of ------------ */

enum toy_db { TOY_REC, TOY_BY_LEN, TOY_DUPS, TOY_HAND, TOY_SEQS, TOY_NDB };
static int toy_caches_made, toy_caches_freed, toy_builds, toy_batches;

/* The index of toy records by the length of their value (one byte). */
static int
toy_len_key(DB *sec, const DBT *k, const DBT *d, DBT *r)
{
	(void)sec;
	(void)k;
	r->data = &((uint8_t *)d->data)[0];	/* values start with it */
	r->size = 1;
	return 0;
}

static void *
toy_cache_new(void)
{
	toy_caches_made++;
	return malloc(16);
}

static void
toy_cache_free(void *c)
{
	toy_caches_freed++;
	free(c);
}

/* Due when toy_hand.db is missing beside toy_rec.db (an older store). */
static bool
toy_due(const struct store *s)
{
	return store_has_file(s, "toy_rec.db") &&
	    !store_has_file(s, "toy_hand.db");
}

/* Copy up to 2 records a batch into the by-hand index, after arg's key. */
static int
toy_batch(struct store *s, DB_TXN *txn, void *arg, size_t *n)
{
	uint8_t *next = arg;	/* the next key to copy */
	DB *rec = store_db(s, 0, TOY_REC), *hand = store_db(s, 0, TOY_HAND);
	int rc = 0;

	toy_batches++;
	for (*n = 0; *n < 2; (*n)++, (*next)++) {
		DBT k = { .data = next, .size = 1 };
		DBT d = { .flags = DB_DBT_MALLOC };
		if ((rc = rec->get(rec, txn, &k, &d, 0)) != 0)
			break;
		rc = hand->put(hand, txn, &k, &d, 0);
		free(d.data);
		if (rc != 0)
			break;
	}
	return rc == DB_NOTFOUND ? 0 : rc;
}

static sup_err
toy_build(struct store *s)
{
	uint8_t next = 0;

	toy_builds++;
	return store_batches(s, toy_batch, &next, sizeof(next), "toy");
}

/* The toy's check: the by-hand index has as many entries as records. */
static sup_err
toy_verify(struct store *s, struct store_check *c)
{
	int64_t a, b;
	sup_err e;

	if ((e = store_count_db(store_db(s, 0, TOY_REC), &a)) != SUP_OK ||
	    (e = store_count_db(store_db(s, 0, TOY_HAND), &b)) != SUP_OK)
		return e;
	if (a != b)
		store_problem(c, "toy: %lld records, %lld in the index",
		    (long long)a, (long long)b);
	return SUP_OK;
}

static const struct store_db toy_dbs[TOY_NDB] = {
	[TOY_REC] = { .file = "toy_rec.db", .type = DB_BTREE },
	[TOY_BY_LEN] = { .file = "toy_by_len.db", .type = DB_BTREE,
		.flags = DB_DUP | DB_DUPSORT, .kind = STORE_ASSOCIATED,
		.primary = TOY_REC, .key = toy_len_key },
	[TOY_DUPS] = { .file = "toy_dups.db", .type = DB_HASH,
		.flags = DB_DUP },
	[TOY_HAND] = { .file = "toy_hand.db", .type = DB_BTREE,
		.kind = STORE_BY_HAND, .primary = TOY_REC },
	[TOY_SEQS] = { .file = "toy_seqs.db", .type = DB_BTREE },
};
static const struct store_seq toy_seqs[] = { { "toy_id", "toy_seqs.db" } };
static const struct store_build toy_builds_tab[] = {
	{ "toy.build", toy_due, toy_build },
};
static const struct store_area toy_area = {
	.name = "toy", .db = toy_dbs, .ndb = TOY_NDB,
	.seq = toy_seqs, .nseq = 1,
	.build = toy_builds_tab, .nbuild = 1,
	.verify = toy_verify,
	.cache_new = toy_cache_new, .cache_free = toy_cache_free,
};
static const struct store_area *const toy_areas[] = { &toy_area, NULL };
/* A sequence in a database no area declares. */
static const struct store_seq stray_seqs[] = { { "stray", "nowhere.db" } };
static const struct store_area stray_area = {
	.name = "stray", .seq = stray_seqs, .nseq = 1,
};
static const struct store_area *const stray_areas[] = { &stray_area, NULL };

/* A Berkeley DB call of the test, auto-committed; bails out on error. */
static void
toy_put(struct store *s, enum toy_db i, uint8_t key, const char *val)
{
	DB *db = store_db(s, 0, i);
	DBT k = { .data = &key, .size = 1 };
	DBT d = { .data = (void *)val, .size = (u_int32_t)strlen(val) };

	if (db->put(db, NULL, &k, &d, DB_AUTO_COMMIT) != 0)
		bail_out("toy put");
}

static void
test_areas(void)
{
	char tdir[64], marker[4096];
	struct sup_conf tconf;
	struct store t;
	int64_t n = -1, id = 0;
	long problems = -1;
	int lines = 0;
	struct stat st;

	tap_store_conf(tdir, sizeof(tdir), &tconf, "");
	is_err(store_open(&t, &tconf, toy_areas), SUP_OK,
	    "store_open with an area the store knows nothing else of");
	ok(t.nareas == 1 && toy_caches_made == 1 && toy_builds == 0,
	    "  its cache made at open, no build due in a new store");
	/* Flags: duplicates kept under one key of toy_dups.db (a hash). */
	toy_put(&t, TOY_DUPS, 7, "a");
	toy_put(&t, TOY_DUPS, 7, "b");
	is_err(store_count_db(store_db(&t, 0, TOY_DUPS), &n), SUP_OK,
	    "  count toy_dups.db");
	is_int(n, 2, "  DB_DUP from the table: two values under one key");
	/* The associated index, with duplicate keys of its own. */
	for (uint8_t k = 0; k < 5; k++)
		toy_put(&t, TOY_REC, k, k % 2 ? "xy" : "xz");
	store_count_db(store_db(&t, 0, TOY_BY_LEN), &n);
	is_int(n, 5, "  the associated index has an entry per record");
	ok(store_seq_next(store_seq(&t, 0, 0), NULL, &id) == SUP_OK &&
	    id == 1 && store_seq_find(&t, "toy_id") == store_seq(&t, 0, 0),
	    "  its sequence, in the database it names, starts at 1");
	/* An older store: the by-hand index missing. */
	DB **hand = store_db_find(&t, "toy_hand.db");
	(*hand)->close(*hand, 0);
	*hand = NULL;
	if (t.env->dbremove(t.env, NULL, "toy_hand.db", NULL,
	    DB_AUTO_COMMIT) != 0)
		bail_out("cannot remove toy_hand.db");
	store_close(&t);
	is_int(toy_caches_freed, 1, "  store_close drops the area's cache");
	is_err(store_open(&t, &tconf, toy_areas), SUP_OK,
	    "store_open of a store without the by-hand index");
	snprintf(marker, sizeof(marker), "%s/toy.build", tconf.data_dir);
	store_count_db(store_db(&t, 0, TOY_HAND), &n);
	ok(toy_builds == 1 && n == 5 && toy_batches == 4 &&
	    stat(marker, &st) != 0,
	    "  the generic path built it in batches of 2 and removed the "
	    "marker");
	is_err(store_reopen(&t, &tconf), SUP_OK, "store_reopen");
	ok(toy_caches_freed == 2 && toy_caches_made == 3 && toy_builds == 1,
	    "  the cache dropped and made again, no build");
	/* verify: every file, then the area's check. */
	toy_put(&t, TOY_REC, 9, "q");
	store_close(&t);
	is_err(store_verify(&tconf, toy_areas, report_line, &lines,
	    &problems), SUP_OK, "store_verify with the toy area");
	ok(problems == 1 && lines == 1,
	    "  the area's check ran and found the record its index lacks");
	is_err(store_open(&t, &tconf, stray_areas), SUP_EINVAL,
	    "a sequence in a database no area declares is refused");
	ok(t.env == NULL && t.slot == NULL, "  and the store left closed");
	conf_free(&tconf);
	tap_rmtree(tdir);
}

static void
test_status_names(void)
{
	is_int(ticket_status_from("open"), ST_OPEN, "status \"open\"");
	is_int(ticket_status_from("closed"), ST_CLOSED, "status \"closed\"");
	is_int(ticket_status_from("waiting_for_user"), ST_WAITING_FOR_USER,
	    "status \"waiting_for_user\"");
	is_int(ticket_status_from("Open"), -1, "status names are exact");
	is_int(ticket_status_from(""), -1, "empty is not a status");
	is_int(ticket_priority_from("low"), PRI_LOW, "priority \"low\"");
	is_int(ticket_priority_from("urgent"), PRI_URGENT,
	    "priority \"urgent\"");
	is_int(ticket_priority_from("critical"), -1,
	    "\"critical\" is not a priority");
}

/*
 * The ticket indexes get their keys from the stored text: read without
 * json-c when it is compact, with json-c otherwise (spaces, another
 * order); text in the subject that looks like a field changes nothing.
 */
static void
test_ticket_index_keys(struct store *s)
{
	static const char *const recs[] = {
	    "{\"uuid\":\"6f1c8a34-0c1e-4b0e-9a52-1d7f0c2b9e01\",\"number\":"
	    "900001,\"subject\":\"\\\",\\\"status\\\":\\\"closed\\\\\","
	    "\"status\":\"waiting_for_user\",\"priority\":\"urgent\","
	    "\"created_at\":\"2026-11-27T10:00:00.000001Z\",\"updated_at\":"
	    "\"2026-11-27T10:00:00.000002Z\",\"first_response_at\":null,"
	    "\"resolved_at\":null,\"closed_at\":null,\"user\":77,"
	    "\"assignee\":5,\"public_count\":1,\"note_count\":0,"
	    "\"unanswered\":1,\"rev\":1,\"last_us\":1}",
	    "{ \"priority\": \"low\", \"uuid\": "
	    "\"6f1c8a34-0c1e-4b0e-9a52-1d7f0c2b9e02\", \"number\": 900002, "
	    "\"status\": \"resolved\", \"updated_at\": "
	    "\"2026-11-27T10:00:00.000003Z\", \"user\": 78, \"assignee\": null }",
	};
	static const char *const what[] = { "compact", "with spaces" };

	for (size_t r = 0; r < SUP_NELEM(recs); r++) {
		DBT d = { .data = (void *)recs[r],
			.size = (u_int32_t)strlen(recs[r]) };
		uint8_t uuid[UUID_LEN], key[T_IDX_KEY_MAX];
		struct record_keys rk;
		bool all = true;

		if (!record_ticket_keys(recs[r], strlen(recs[r]), &rk, NULL))
			bail_out("a test record does not parse");
		memcpy(uuid, rk.uuid, UUID_LEN);
		DBT k = { .data = uuid, .size = UUID_LEN };
		DB *tickets = ticket_db(s, TDB_TICKETS);
		is_int(tickets->put(tickets, NULL, &k, &d,
		    DB_AUTO_COMMIT), 0, "a %s ticket record written", what[r]);
		for (int i = 0; i < IDX_MAX; i++) {
			if (i == IDX_UPDATED)
				continue;	/* kept by lib/desk/ticket.c */
			DB *idx = ticket_index_db(s, i);
			size_t n = store_ticket_key(i, &rk, key);
			DBT ik = { .data = key, .size = (u_int32_t)n };
			DBT pk = { .flags = DB_DBT_MALLOC };
			DBT pd = { .flags = DB_DBT_MALLOC };
			int rc = idx->pget(idx, NULL, &ik, &pk, &pd, 0);
			if (n == 0 || rc != 0 || pk.size != UUID_LEN ||
			    memcmp(pk.data, uuid, UUID_LEN) != 0) {
				diag("index %d: not found under its key", i);
				all = false;
			}
			free(pk.data);
			free(pd.data);
		}
		ok(all, "  in every index under the keys of its fields");
		/* Its t_recent key: newest first, from its updated_at. */
		uint8_t want[RECENT_KEY_LEN], back[UUID_LEN];
		int64_t us = 0;
		time_parse(r == 0 ? "2026-11-27T10:00:00.000002Z" :
		    "2026-11-27T10:00:00.000003Z", &us);
		store_recent_key(want, us, uuid);
		store_recent_uuid(want, back);
		ok(store_ticket_key(IDX_UPDATED, &rk, key) == RECENT_KEY_LEN &&
		    memcmp(key, want, RECENT_KEY_LEN) == 0 &&
		    memcmp(back, uuid, UUID_LEN) == 0 &&
		    be64_get(key) == UINT64_MAX - (uint64_t)us,
		    "  its t_recent key: the complement of its updated_at and "
		    "uuid");
		if (r == 0) {
			/* Its real status, not the one in the subject. */
			uint8_t st[9] = { ST_WAITING_FOR_USER };
			be64_put(st + 1, 900001);
			DBT sk = { .data = st, .size = sizeof(st) };
			DBT pk = { .flags = DB_DBT_MALLOC };
			DBT pd = { .flags = DB_DBT_MALLOC };
			DB *idx = ticket_index_db(s, IDX_STATUS);
			is_int(idx->pget(idx, NULL, &sk, &pk, &pd, 0), 0,
			    "  under waiting_for_user, whatever the subject says");
			free(pk.data);
			free(pd.data);
		}
		tickets->del(tickets, NULL, &k, DB_AUTO_COMMIT);
	}
}

int
main(void)
{
	struct store s;
	int64_t last_seq = 0;

	setup();
	test_open(&s);
	test_records(&s);
	test_log_allocated(&s);
	test_ticket_index_keys(&s);
	test_counters(&s);
	test_sequence(&s, &last_seq);
	test_run(&s);
	test_lock_conflict(&s);
	test_killed_holder(&s);
	test_killed_in_library(&s);
	test_reopen_verify(&s, last_seq);
	test_status_names();
	test_areas();
	conf_free(&conf);
	tap_rmtree(dir);
	return done_testing();
}
