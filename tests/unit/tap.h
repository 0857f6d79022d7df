/*
 * tap.h - a tiny Test Anything Protocol producer for the unit tests.
 *
 * Each check prints "ok N - what" or "not ok N - what" (with the file and
 * line of a failure and, for is_int/is_str, what was got and expected on
 * "# " lines).  done_testing() prints the plan "1..N" and gives the exit
 * status: 0 when every check passed.  automake's tap-driver counts the
 * lines.  Header-only: every function is static, so each test program gets
 * its own counters.
 *
 * is_err() compares two sup_err values by name (include sup.h first).
 * todo_start()/todo_end() mark checks of a known, reported bug.  At the end,
 * scratch-directory helpers the store tests share.
 */
#ifndef TAP_H
#define TAP_H

#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))
/* Not every test program uses every helper. */
#define TAP_UNUSED __attribute__((unused))

static int tap_run, tap_failed;
static const char *tap_todo;	/* checks now are known to fail: why */

/* Print the result line of one check; true when it passed. */
TAP_PRINTF(4, 0) TAP_UNUSED static bool
tap_vok(bool pass, const char *file, int line, const char *fmt, va_list ap)
{
	tap_run++;
	if (!pass && tap_todo == NULL)
		tap_failed++;
	printf("%sok %d - ", pass ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	if (tap_todo != NULL)
		printf(" # TODO %s", tap_todo);
	putchar('\n');
	if (!pass)
		printf("#   Failed%s at %s line %d.\n",
		    tap_todo != NULL ? " (TODO)" : "", file, line);
	fflush(stdout);
	return pass;
}

TAP_PRINTF(4, 5) TAP_UNUSED static bool
tap_ok(bool pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vok(pass, file, line, fmt, ap);
	va_end(ap);
	return r;
}

TAP_PRINTF(5, 6) TAP_UNUSED static bool
tap_is_int(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = tap_vok(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#          got: %lld\n#     expected: %lld\n", got, want);
	return r;
}

/* NULL is a value here: it equals only NULL. */
TAP_PRINTF(5, 6) TAP_UNUSED static bool
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	bool r, same;

	same = (got == NULL || want == NULL) ? got == want :
	    strcmp(got, want) == 0;
	va_start(ap, fmt);
	r = tap_vok(same, file, line, fmt, ap);
	va_end(ap);
	if (!r) {
		printf("#          got: %s%s%s\n", got ? "'" : "",
		    got ? got : "NULL", got ? "'" : "");
		printf("#     expected: %s%s%s\n", want ? "'" : "",
		    want ? want : "NULL", want ? "'" : "");
	}
	return r;
}

/*
 * Mark the checks up to todo_end() as known to fail, for a bug reported but
 * not fixed yet: the driver counts them as expected failures, and as an
 * unexpected pass (a failure of the suite) once the bug is fixed, so that
 * the mark gets removed.
 */
TAP_UNUSED static void
todo_start(const char *why)
{
	tap_todo = why;
}

TAP_UNUSED static void
todo_end(void)
{
	tap_todo = NULL;
}

/* A line of commentary in the output. */
TAP_PRINTF(1, 2) TAP_UNUSED static void
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Stop the whole program: the rest cannot run (a store will not open). */
TAP_PRINTF(1, 2) TAP_UNUSED static void
bail_out(const char *fmt, ...)
{
	va_list ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

/* Print the plan and return the exit status for main(). */
TAP_UNUSED static int
done_testing(void)
{
	printf("1..%d\n", tap_run);
	if (tap_failed > 0)
		diag("%d of %d checks failed", tap_failed, tap_run);
	fflush(stdout);
	return tap_failed > 0 ? 1 : 0;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) tap_is_int((long long)(got), \
	(long long)(want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, \
	__LINE__, __VA_ARGS__)
/* An error code, showing both as names. */
#define is_err(got, want, ...) tap_is_str(sup_errname(got), \
	sup_errname(want), __FILE__, __LINE__, __VA_ARGS__)

/* --- Scratch directories ---------------------------------------------- */

/*
 * Test scaffolding shared by the programs that need files (a store, a
 * support.conf).  It lives here because the test programs are one file each.
 */
TAP_UNUSED static int
tap_rm_one(const char *path, const struct stat *sb TAP_UNUSED,
    int type TAP_UNUSED, struct FTW *ftw TAP_UNUSED)
{
	return remove(path);
}

/* Remove dir and everything under it (depth first, not following links). */
TAP_UNUSED static int
tap_rmtree(const char *dir)
{
	return nftw(dir, tap_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Make a fresh directory $TMPDIR/support-test-XXXXXX into buf (at least 64
 * bytes): $TMPDIR when it is an absolute path whose directory name fits
 * in buf, else /tmp.  Bails out when it cannot.
 */
TAP_UNUSED static char *
tap_tmpdir(char *buf, size_t n)
{
	const char *t = getenv("TMPDIR");
	int len;

	if (t == NULL || t[0] != '/')
		t = "/tmp";
	len = snprintf(buf, n, "%s/support-test-XXXXXX", t);
	if (len < 0 || (size_t)len >= n)
		snprintf(buf, n, "/tmp/support-test-XXXXXX");
	if (mkdtemp(buf) == NULL)
		bail_out("mkdtemp: cannot make a scratch directory");
	return buf;
}

/* Write text to dir/name into path (at least 4096 bytes); bails out. */
TAP_UNUSED static char *
tap_write_file(char *path, size_t n, const char *dir, const char *name,
    const char *text)
{
	FILE *f;
	int len = snprintf(path, n, "%s/%s", dir, name);

	if (len < 0 || (size_t)len >= n)
		bail_out("path too long: %s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0)
		bail_out("cannot write %s", path);
	return path;
}

#ifdef SUP_CONF_H
/*
 * A scratch store's configuration: a fresh directory into dir (at least 64
 * bytes) holding support.conf, with data_dir = dir/db, no fsync, a small
 * cache, and the extra lines given; loaded into conf.  Bails out.
 */
TAP_UNUSED static void
tap_store_conf(char *dir, size_t n, struct sup_conf *conf, const char *extra)
{
	char path[4096], db[128], text[1024];

	tap_tmpdir(dir, n);
	snprintf(db, sizeof(db), "%s/db", dir);
	if (mkdir(db, 0700) != 0)
		bail_out("mkdir %s", db);
	if (snprintf(text, sizeof(text), "[support]\ndata_dir = %s\n"
	    "durability = nosync\ncache_kb = 1024\n%s", db, extra) >=
	    (int)sizeof(text))
		bail_out("support.conf too long");
	tap_write_file(path, sizeof(path), dir, "support.conf", text);
	if (conf_load(conf, path) != SUP_OK)
		bail_out("conf_load: %s", conf->errmsg);
}
#endif

/*
 * The enumerator's name of a sup_err, for failure messages.  Only defined
 * when sup.h was included first.
 */
#ifdef SUP_H
TAP_UNUSED static const char *
sup_errname(sup_err e)
{
	static const char *const names[] = {
		"SUP_OK", "SUP_ENOMEM", "SUP_EINVAL", "SUP_EJSON",
		"SUP_EUNKNOWN", "SUP_EUNAUTH", "SUP_EFORBIDDEN",
		"SUP_ENOTFOUND", "SUP_EMETHOD", "SUP_ECONFLICT", "SUP_ERATE",
		"SUP_ETOOLARGE", "SUP_EMEDIA", "SUP_EEXIST", "SUP_EDEADLOCK",
		"SUP_EBUSY", "SUP_ERECOVER", "SUP_EDB", "SUP_EIO",
		"SUP_ECONFIG", "SUP_ECSRF", "SUP_ETIMEOUT",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == SUP_ERR_MAX,
	    "a sup_err without a name here");

	/* An area's own error goes by its code. */
	return (unsigned)e < SUP_ERR_MAX ? names[e] : sup_errcode(e);
}
#endif

#endif
