/*
 * replay.c - run a fuzz target's LLVMFuzzerTestOneInput over saved inputs
 * without libFuzzer, as its StandaloneFuzzTargetMain does: so that every
 * target is built by any compiler (gcc too) and its corpus replayed by
 * make check.  Prints TAP: one test, passed when every input has run
 * (a crash ends the program before its "ok"); each input is named on a
 * comment line before it runs, so the log names the one that crashed.
 *
 *   replay_NAME [FILE|DIR]...
 *
 * Without arguments it replays $srcdir/tests/fuzz/corpus/NAME/ (NAME from
 * the program's own name, "replay_" taken off; srcdir is what automake's
 * test harness sets, "." otherwise).  Each input is read into a buffer of
 * exactly its size, so a sanitizer sees a read past it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct list {
	char **v;
	size_t n, cap;
};

static void
add(struct list *l, char *path)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL) {
			perror("replay");
			exit(2);
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = path;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add path, or every regular file of it when it is a directory. */
static void
collect(struct list *l, const char *path)
{
	struct dirent *d;
	struct stat st;
	DIR *dp;
	char *p;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		if ((p = strdup(path)) == NULL)
			exit(2);
		add(l, p);
		return;
	}
	if ((dp = opendir(path)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", path, d->d_name) < 0)
			exit(2);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			add(l, p);
		else
			free(p);
	}
	closedir(dp);
}

/* The whole file in a buffer of its size (one byte for an empty file). */
static uint8_t *
slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto fail;
	*size = (size_t)n;
	if ((buf = malloc(n > 0 ? (size_t)n : 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n)
		goto fail;
	fclose(f);
	return buf;
fail:
	fprintf(stderr, "replay: cannot read %s\n", path);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct list l = { 0 };

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			collect(&l, argv[i]);
	} else {
		const char *name = strrchr(argv[0], '/');
		const char *srcdir = getenv("srcdir");
		char *dir;

		name = name ? name + 1 : argv[0];
		if (strncmp(name, "replay_", 7) == 0)
			name += 7;
		if (asprintf(&dir, "%s/tests/fuzz/corpus/%s",
		    srcdir ? srcdir : ".", name) < 0)
			return 2;
		collect(&l, dir);
		free(dir);
	}
	qsort(l.v, l.n, sizeof(*l.v), by_name);
	printf("1..1\n");
	for (size_t i = 0; i < l.n; i++) {
		size_t size = 0;
		uint8_t *data = slurp(l.v[i], &size);

		printf("# %s\n", l.v[i]);
		fflush(stdout);
		LLVMFuzzerTestOneInput(data, size);
		free(data);
		free(l.v[i]);
	}
	printf("ok 1 - %zu input%s replayed\n", l.n, l.n == 1 ? "" : "s");
	free(l.v);
	return 0;
}
