/*
 * fuzz_tmpl - libFuzzer target for the template parser and renderer
 * (lib/text/tmpl.c).
 *
 * Input: one byte choosing the template's extension (and so its escaping
 * mode), then the template text.  A template that parses is rendered with
 * a fixed object of nested arrays and objects into an sbuf, and again
 * with the same object as JSON text (a text object): the same bytes.  Includes come
 * from a scratch directory written at the first run: a few good templates,
 * one with an error and two that include each other; it is removed at
 * exit.
 * Build with ./configure CC=clang --enable-fuzzing; the saved corpus in
 * corpus/tmpl/ is replayed by ./test.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jtext.h"
#include "tmpl.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const exts[] = { "html", "txt", "js", "json" };

/* Files of the include directory, written once per extension. */
static const struct {
	const char *name, *text;
} files[] = {
	{ "head", "<h1>{{title}}</h1>{{#user}}{{name}}{{/user}}" },
	{ "row", "{{#items}}<li>{{n}}:{{s:j}}{{/items}}" },
	{ "deep", "{{>head}}{{>row}}{{x:o}}" },
	{ "bad", "{{#open}}" },
	{ "loop_a", "{{>loop_b}}" },
	{ "loop_b", "{{>loop_a}}" },
};

/*
 * Nested sections multiply: n sections over arrays of k elements render
 * k^n times.  Templates are trusted, so that is no bug, but it would make
 * the fuzzer time out; so arrays here have at most 3 elements, and an
 * input with many '#' bytes (each section opens with one, whatever the
 * delimiters) is rendered with small_json, whose arrays have one.
 */
#define MANY_SECTIONS 6
#define OUT_MAX (16 << 20)

static const char data_json[] =
	"{\"title\":\"<Title & \\\"more\\\">\",\"n\":42,\"d\":0.1,\"neg\":-1,"
	"\"t\":true,\"f\":false,\"z\":null,\"s\":\"it's </script>\\u2028\","
	"\"url\":\"javascript:alert(1)\",\"href\":\"/support/?a=1&b=2\","
	"\"user\":{\"name\":\"Ann\",\"roles\":[\"agent\",\"admin\"],"
	"\"prefs\":{\"lang\":\"fr\",\"n\":0}},"
	"\"items\":[{\"n\":1,\"s\":\"a\",\"sub\":[{\"n\":11},{\"x\":{}}]},"
	"{\"n\":2,\"items\":[]},3],\"mixed\":[null,\"str\",[1,[2]]],"
	"\"x\":{\"a\":[1,2,{\"b\":\"<c>\"}],\"e\":{}},\"empty\":\"\","
	"\"l\":[{},{}],\"o\":{\"o\":{\"o\":{\"v\":\"deep\"}}}}";

static const char small_json[] =
	"{\"title\":\"<T>\",\"n\":1,\"s\":\"'\",\"t\":true,\"z\":null,"
	"\"user\":{\"name\":\"Ann\",\"roles\":[\"agent\"]},"
	"\"items\":[{\"n\":1,\"sub\":[{\"n\":2}]}],\"l\":[{}],"
	"\"x\":{\"a\":[{\"b\":\"<c>\"}]},\"o\":{\"o\":{\"v\":1}}}";

static struct tmpl_cache *cache;
static json_object *data, *small, *data_text, *small_text;
static char dir[] = "/tmp/fuzz-tmpl-XXXXXX";

/* Remove the include directory when the fuzzer exits. */
static void
cleanup(void)
{
	char path[256];

	for (size_t e = 0; e < SUP_NELEM(exts); e++) {
		for (size_t i = 0; i < SUP_NELEM(files); i++) {
			snprintf(path, sizeof(path), "%s/%s.%s", dir,
			    files[i].name, exts[e]);
			unlink(path);
		}
	}
	rmdir(dir);
}

/* An sbuf writer that refuses to grow past OUT_MAX. */
static int
cap_write(void *ctx, const char *buf, size_t len)
{
	struct sbuf *b = ctx;

	if (b->len + len > OUT_MAX)
		return -1;
	return tmpl_sbuf_write(b, buf, len);
}

/*
 * Render t with d; abort when a render fails other than by the cap.  The
 * same data as a text object (text: lib/text/jtext.h, as pages get the API's
 * objects) renders the same bytes.
 */
static void
render_check(const struct tmpl *t, json_object *d, json_object *text)
{
	struct sbuf out = { 0 }, again = { 0 };
	sup_err e = tmpl_render(t, d, cap_write, &out);

	if (e != SUP_OK && !(e == SUP_EIO && out.len + 4096 > OUT_MAX))
		abort();
	/* Rendering twice gives the same bytes. */
	if (e == SUP_OK &&
	    (tmpl_render(t, d, cap_write, &again) != SUP_OK ||
	    again.len != out.len ||
	    (out.len > 0 && memcmp(out.p, again.p, out.len) != 0)))
		abort();
	free(again.p);
	memset(&again, 0, sizeof(again));
	if (e == SUP_OK &&
	    (tmpl_render(t, text, cap_write, &again) != SUP_OK ||
	    again.len != out.len ||
	    (out.len > 0 && memcmp(out.p, again.p, out.len) != 0)))
		abort();
	free(out.p);
	free(again.p);
}

/* A text object of the JSON text s, or abort. */
static json_object *
text_object(const char *s)
{
	char *copy = strdup(s);
	json_object *o;

	if (copy == NULL || (o = jt_object_new(copy, strlen(s))) == NULL)
		abort();
	return o;
}

/* The include directory and the data, once per process. */
static void
setup(void)
{
	char path[256];

	if (mkdtemp(dir) == NULL || tmpl_cache_open(dir, &cache) != SUP_OK)
		abort();
	atexit(cleanup);
	for (size_t e = 0; e < SUP_NELEM(exts); e++) {
		for (size_t i = 0; i < SUP_NELEM(files); i++) {
			FILE *f;
			snprintf(path, sizeof(path), "%s/%s.%s", dir,
			    files[i].name, exts[e]);
			if ((f = fopen(path, "w")) == NULL ||
			    fputs(files[i].text, f) == EOF || fclose(f) != 0)
				abort();
		}
	}
	if ((data = json_tokener_parse(data_json)) == NULL ||
	    (small = json_tokener_parse(small_json)) == NULL)
		abort();
	data_text = text_object(data_json);
	small_text = text_object(small_json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct tmpl *t = NULL;
	char name[32], err[256];
	size_t opens = 0;

	if (cache == NULL)
		setup();
	if (size == 0)
		return 0;
	snprintf(name, sizeof(name), "fuzz.%s", exts[in[0] % SUP_NELEM(exts)]);
	if (tmpl_parse_buf(cache, name, (const char *)in + 1, size - 1, &t,
	    err, sizeof(err)) == SUP_OK) {
		for (size_t i = 1; i < size; i++)
			opens += in[i] == '#';
		if (opens > MANY_SECTIONS)
			render_check(t, small, small_text);
		else
			render_check(t, data, data_text);
	} else if (strncmp(err, name, strlen(name)) != 0 &&
	    strstr(err, "(included from") == NULL) {
		/* Every error names the template it is in. */
		abort();
	}
	tmpl_free(t);
	return 0;
}
