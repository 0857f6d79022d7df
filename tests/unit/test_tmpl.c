/*
 * test_tmpl.c - the template engine (lib/text/tmpl.c): every construct, every
 * modifier with the payloads that matter (XSS), the load errors with their
 * line numbers, the cache and the template directory's boundary.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "jtext.h"
#include "sup.h"
#include "tmpl.h"
#include "util.h"

#include "tap.h"

static char dir[64];
static struct tmpl_cache *cache;
static char last_err[512];

/*
 * Every render() also renders its data as a text object (lib/text/jtext.h: the
 * JSON text itself, as pages get the API's objects) and compares: the
 * count of renders, of those that differed, and the first difference.
 */
static int text_renders, text_differ;
static char text_first[1024];

/* t rendered with data as a text object: the output, or "ERROR". */
static char *
render_text(const struct tmpl *t, const char *data)
{
	struct sbuf out = { 0 };
	json_object *obj = jt_object_new(strdup(data), strlen(data));
	sup_err e;

	if (obj == NULL)
		bail_out("jt_object_new");
	e = tmpl_render(t, obj, tmpl_sbuf_write, &out);
	json_object_put(obj);
	if (e != SUP_OK) {
		free(out.p);
		return strdup("ERROR");
	}
	return out.p != NULL ? out.p : strdup("");
}

/*
 * Parse src as the template name (includes come from the scratch
 * directory) and render it with the JSON text data.  Returns the output,
 * or "ERROR" with the message in last_err; the caller frees.
 */
static char *
render(const char *name, const char *src, const char *data)
{
	json_object *obj = NULL;
	struct tmpl *t = NULL;
	struct sbuf out = { 0 };
	sup_err e;

	last_err[0] = '\0';
	if (data != NULL && (obj = json_tokener_parse(data)) == NULL)
		bail_out("test JSON does not parse: %s", data);
	e = tmpl_parse_buf(cache, name, src, strlen(src), &t, last_err,
	    sizeof(last_err));
	if (e == SUP_OK)
		e = tmpl_render(t, obj, tmpl_sbuf_write, &out);
	if (e == SUP_OK && data != NULL) {
		char *text = render_text(t, data);
		text_renders++;
		if (strcmp(text, out.p != NULL ? out.p : "") != 0 &&
		    text_differ++ == 0)
			snprintf(text_first, sizeof(text_first),
			    "%s with %s: json-c \"%s\", text \"%s\"", name,
			    data, out.p != NULL ? out.p : "", text);
		free(text);
	}
	tmpl_free(t);
	json_object_put(obj);
	if (e != SUP_OK) {
		free(out.p);
		return strdup("ERROR");
	}
	return out.p != NULL ? out.p : strdup("");
}

/* Check the rendering of src (as name) with data against want. */
#define RENDERS(name, src, data, want, ...) do {			\
	char *got_ = render((name), (src), (data));			\
	is_str(got_, (want), __VA_ARGS__);				\
	free(got_);							\
} while (0)

/* Check that src (as name) fails to parse with exactly the message want. */
#define FAILS(name, src, want, ...) do {				\
	char *got_ = render((name), (src), NULL);			\
	is_str(strcmp(got_, "ERROR") == 0 ? last_err : got_, (want),	\
	    __VA_ARGS__);						\
	free(got_);							\
} while (0)

static void
put_file(const char *name, const char *text)
{
	char path[4096];

	tap_write_file(path, sizeof(path), dir, name, text);
}

static void
test_variables(void)
{
	RENDERS("a.html", "plain <b>text</b> {stays}", "{}",
	    "plain <b>text</b> {stays}", "text outside tags is verbatim");
	RENDERS("a.html", "Hi {{NAME}}!", "{\"NAME\":\"Ann\"}", "Hi Ann!",
	    "a string variable");
	RENDERS("a.html", "{{n}} {{neg}}", "{\"n\":42,\"neg\":-7}", "42 -7",
	    "integers in decimal");
	RENDERS("a.html", "{{big}}", "{\"big\":18446744073709551615}",
	    "18446744073709551615", "an unsigned 64-bit integer");
	RENDERS("a.html", "{{a}} {{b}} {{c}}",
	    "{\"a\":1.5,\"b\":0.1,\"c\":1e300}", "1.5 0.1 1e+300",
	    "doubles as short as reads back");
	RENDERS("a.html", "{{d}}", "{\"d\":0.30000000000000004}",
	    "0.30000000000000004", "a double that needs 17 digits");
	RENDERS("a.html", "{{t}}/{{f}}", "{\"t\":true,\"f\":false}",
	    "true/false", "booleans as words");
	RENDERS("a.html", "[{{z}}][{{missing}}]", "{\"z\":null}", "[][]",
	    "null and missing are empty");
	RENDERS("a.html", "[{{o}}][{{a}}]", "{\"o\":{\"k\":1},\"a\":[1]}",
	    "[][]", "objects and arrays are empty without :o");
	RENDERS("a.html", "[{{X}}]", NULL, "[]", "no data at all: empty");
	RENDERS("a.html", "{{user_name2}}", "{\"user_name2\":\"x\"}", "x",
	    "names take digits and underscores");
	RENDERS("a.html", "{{Name}}{{name}}", "{\"name\":\"lo\",\"Name\":\"Up\"}",
	    "Uplo", "names are case-sensitive");
	RENDERS("a.html", "a{{BI_SPACE}}b{{BI_NEWLINE}}c", "{}", "a b\nc",
	    "BI_SPACE and BI_NEWLINE");
	RENDERS("a.html", "x{{! a comment }}y", "{}", "xy",
	    "a comment renders as nothing");
	RENDERS("a.html", "x{{! a\nlonger\ncomment }}y", "{}", "xy",
	    "a comment may span lines");
	RENDERS("a.html", "x{{!}}y", "{}", "xy", "an empty comment");
	RENDERS("a.html", "a }} b", "{}", "a }} b",
	    "a lone closing delimiter is text");
}

/* Prints as fixed text, like the raw objects of lib/desk/view.c. */
static int
raw_print(json_object *o SUP_UNUSED, struct printbuf *pb,
    int level SUP_UNUSED, int flags SUP_UNUSED)
{
	static const char text[] = "{\"subject\":\"</script>\"}";

	return printbuf_memappend(pb, text, (int)sizeof(text) - 1);
}

/* An object that only prints (view.c's raw objects) through :o. */
static void
test_raw(void)
{
	json_object *data = json_object_new_object();
	json_object *raw = json_object_new_object();
	struct sbuf out = { 0 };
	struct tmpl *t;
	const char *src = "{{r:o}}|{{#r}}shown{{/r}}|{{r}}";

	json_object_set_serializer(raw, raw_print, NULL, NULL);
	json_object_object_add(data, "r", raw);
	if (tmpl_parse_buf(NULL, "r.html", src, strlen(src), &t, NULL, 0) !=
	    SUP_OK)
		bail_out("r.html does not parse");
	tmpl_render(t, data, tmpl_sbuf_write, &out);
	is_str(out.p, "{\"subject\":\"\\u003c/script\\u003e\"}||",
	    "a raw object prints its text through :o, escaped");
	free(out.p);
	tmpl_free(t);
	json_object_put(data);
}

/* Doubles JSON text cannot hold, as json-c may. */
static void
test_odd_doubles(void)
{
	json_object *data = json_object_new_object();
	struct sbuf out = { 0 };
	const char *src = "{{nan}} {{inf}} {{ninf}}{{#nan}} shown{{/nan}}";
	struct tmpl *t;

	json_object_object_add(data, "nan", json_object_new_double(NAN));
	json_object_object_add(data, "inf", json_object_new_double(INFINITY));
	json_object_object_add(data, "ninf",
	    json_object_new_double(-INFINITY));
	if (tmpl_parse_buf(NULL, "d.txt", src, strlen(src), &t, NULL, 0) !=
	    SUP_OK)
		bail_out("d.txt does not parse");
	tmpl_render(t, data, tmpl_sbuf_write, &out);
	is_str(out.p, "NaN Infinity -Infinity shown",
	    "NaN and infinities; NaN is nonzero");
	free(out.p);
	tmpl_free(t);
	json_object_put(data);
}

static void
test_sections(void)
{
	const char *items = "{\"title\":\"T\",\"items\":[{\"n\":\"a\"},"
	    "{\"n\":\"b\"},{\"n\":\"c\"}]}";

	RENDERS("a.html", "{{#items}}<{{n}}>{{/items}}", items,
	    "<a><b><c>", "an array repeats its section");
	RENDERS("a.html", "{{#items}}{{n}}{{title}} {{/items}}", items,
	    "aT bT cT ", "lookup goes outward to the root");
	RENDERS("a.html", "{{#items}}{{n}}{{#items_separator}}, "
	    "{{/items_separator}}{{/items}}", items, "a, b, c",
	    "a separator between repetitions only");
	RENDERS("a.html", "{{#items}}{{#items_separator}}|{{/items_separator}}"
	    "{{n}}{{/items}}", items, "|a|bc",
	    "a separator shows at its place, on all but the last");
	RENDERS("a.html", "{{#l}}{{n}}{{#l_separator}},{{/l_separator}}{{/l}}",
	    "{\"l\":[{\"n\":1}]}", "1", "one element: no separator");
	RENDERS("a.html", "{{#o}}{{n}}{{#o_separator}},{{/o_separator}}{{/o}}",
	    "{\"o\":{\"n\":1}}", "1", "an object section: no separator");
	RENDERS("a.html", "{{#l}}[{{#m}}{{#l_separator}}x{{/l_separator}}"
	    "{{/m}}]{{/l}}", "{\"l\":[{},{}],\"m\":true,\"l_separator\":1}",
	    "[x][x]", "a separator not directly inside is a plain section");
	RENDERS("a.html", "{{#e}}shown{{/e}}", "{\"e\":[]}", "",
	    "an empty array hides");
	RENDERS("a.html", "{{#o}}{{k}}{{/o}}", "{\"o\":{\"k\":\"v\"}}", "v",
	    "an object is entered once");
	RENDERS("a.html", "{{#o}}x{{/o}}", "{\"o\":{}}", "",
	    "an empty object hides");
	RENDERS("a.html", "{{#t}}{{v}}{{/t}}", "{\"t\":true,\"v\":\"same\"}",
	    "same", "true shows once, context unchanged");
	RENDERS("a.html", "{{#f}}x{{/f}}{{#n}}x{{/n}}{{#m}}x{{/m}}",
	    "{\"f\":false,\"n\":null}", "", "false, null, missing hide");
	RENDERS("a.html", "{{#s}}x{{/s}}{{#e}}y{{/e}}",
	    "{\"s\":\"str\",\"e\":\"\"}", "x",
	    "a non-empty string shows, an empty one hides");
	RENDERS("a.html", "{{#a}}a{{/a}}{{#b}}b{{/b}}{{#c}}c{{/c}}"
	    "{{#d}}d{{/d}}", "{\"a\":0,\"b\":3,\"c\":0.0,\"d\":-0.5}", "bd",
	    "zero hides, other numbers show");
	RENDERS("a.html", "{{#l}}[{{v}}]{{/l}}",
	    "{\"v\":\"out\",\"l\":[1,\"x\",null]}", "[out][out][out]",
	    "scalar elements repeat with the outer context");
	RENDERS("a.html", "{{#a}}{{#b}}{{#c}}{{x}}{{y}}{{z}}{{/c}}{{/b}}{{/a}}",
	    "{\"x\":1,\"a\":{\"y\":2,\"b\":[{\"c\":{\"z\":3}}]}}", "123",
	    "three levels, each name found outward");
	RENDERS("a.html", "{{#a}}{{v}}{{#b}}{{v}}{{/b}}{{v}}{{/a}}",
	    "{\"a\":{\"v\":1,\"b\":{\"v\":2}}}", "121",
	    "an inner name shadows the outer one");
	RENDERS("a.html", "{{#a}}[{{v}}]{{/a}}",
	    "{\"v\":\"root\",\"a\":[{\"v\":null},{}]}", "[][root]",
	    "a null inside shadows, a missing one does not");
	RENDERS("a.html", "{{#rows}}{{#cells}}{{c}}{{#cells_separator}}-"
	    "{{/cells_separator}}{{/cells}}{{#rows_separator}};"
	    "{{/rows_separator}}{{/rows}}",
	    "{\"rows\":[{\"cells\":[{\"c\":1},{\"c\":2}]},"
	    "{\"cells\":[{\"c\":3}]}]}", "1-2;3",
	    "nested arrays, each with its separator");
	RENDERS("a.html", "{{#a}}x{{/a}}{{#a}}y{{/a}}", "{\"a\":true}", "xy",
	    "the same section twice");
	RENDERS("a.html", "{{#s}}{{s}}{{/s}}", "{\"s\":\"<i>\"}", "&lt;i&gt;",
	    "a string section's own value inside it");
}

/* The :h of s as the plain definition says it (the test's reference). */
static void
html_ref(const char *s, struct sbuf *b)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&': sbuf_adds(b, "&amp;"); break;
		case '<': sbuf_adds(b, "&lt;"); break;
		case '>': sbuf_adds(b, "&gt;"); break;
		case '"': sbuf_adds(b, "&quot;"); break;
		case '\'': sbuf_adds(b, "&#39;"); break;
		default: sbuf_add(b, s, 1);
		}
	sbuf_add(b, "", 1);
}

/*
 * :h scans 16 bytes a step where it can: each special byte at each place
 * of values up to 70 bytes (across and at the steps' edges), alone and
 * followed by another, is escaped as the definition says.
 */
static void
test_html_scan(void)
{
	static const char specials[] = "&<>\"'";
	int bad = 0, n = 0;
	char first[256] = "";

	for (size_t len = 1; len <= 70; len++)
		for (size_t at = 0; at < len; at++)
			for (size_t k = 0; k < 5; k++) {
				char v[80];
				struct sbuf want = { 0 };
				memset(v, 'a' + (int)(at % 26), len);
				v[len] = '\0';
				v[at] = specials[k];
				if (at + 17 < len)
					v[at + 17] = specials[(k + 1) % 5];
				json_object *d = json_object_new_object();
				json_object_object_add(d, "v",
				    json_object_new_string(v));
				char *got = render("a.html", "[{{v}}]",
				    json_object_to_json_string(d));
				html_ref(v, &want);
				size_t wl = strlen(want.p);
				if (strlen(got) != wl + 2 ||
				    memcmp(got + 1, want.p, wl) != 0) {
					if (bad++ == 0)
						snprintf(first, sizeof(first),
						    "%s -> %s", v, got);
				}
				n++;
				free(got);
				free(want.p);
				json_object_put(d);
			}
	ok(bad == 0 && n == 70 * 71 / 2 * 5, ":h of %d values with special "
	    "bytes at every place up to 70 bytes: %d wrong%s%s", n, bad,
	    bad ? ", first " : "", first);
}

static void
test_modifiers(void)
{
	const char *xss = "{\"x\":\"<script>alert(1)</script>\","
	    "\"q\":\"\\\"onmouseover=alert(1) x='1'\",\"amp\":\"a&b\"}";

	RENDERS("a.html", "{{x}}", xss,
	    "&lt;script&gt;alert(1)&lt;/script&gt;",
	    "HTML templates escape by default");
	RENDERS("a.html", "<a title=\"{{q}}\">", xss,
	    "<a title=\"&quot;onmouseover=alert(1) x=&#39;1&#39;\">",
	    "quotes cannot leave an attribute");
	RENDERS("a.html", "{{amp}}", xss, "a&amp;b", "& as &amp;");
	RENDERS("a.htm", "{{x}}", xss, "&lt;script&gt;alert(1)&lt;/script&gt;",
	    ".htm is HTML too");
	RENDERS("a", "{{x}}", xss, "&lt;script&gt;alert(1)&lt;/script&gt;",
	    "no extension: HTML, the safe default");
	RENDERS("a.txt", "{{x}} {{amp}}", xss,
	    "<script>alert(1)</script> a&b", ".txt templates do not escape");
	RENDERS("a.html", "{{x:none}}", xss, "<script>alert(1)</script>",
	    ":none is raw");
	RENDERS("a.txt", "{{x:h}}", xss, "&lt;script&gt;alert(1)&lt;/script&gt;",
	    ":h in a text template");
	RENDERS("a.html", "{{x:html_escape}}", xss,
	    "&lt;script&gt;alert(1)&lt;/script&gt;", "the long name of :h");

	RENDERS("a.html", "{{x:j}}", "{\"x\":\"</script><b x='1'>\\\"\"}",
	    "\\x3c\\/script\\x3e\\x3cb x\\x3d\\x271\\x27\\x3e\\x22",
	    ":j escapes what could end a script or string");
	RENDERS("a.html", "{{x:j}}", "{\"x\":\"a\\\\b\\nc\\r\\td\\u0001\"}",
	    "a\\\\b\\nc\\r\\td\\x01", ":j backslash and control characters");
	RENDERS("a.html", "{{x:j}}", "{\"x\":\"a\\u2028b\\u2029c\"}",
	    "a\\u2028b\\u2029c", ":j line and paragraph separators");
	RENDERS("a.html", "{{x:j}}", "{\"x\":\"caf\\u00e9 \\u4e2d\"}",
	    "caf\xc3\xa9 \xe4\xb8\xad", ":j keeps other UTF-8");
	RENDERS("a.js", "var s = '{{x}}';", "{\"x\":\"'; alert(1); '\"}",
	    "var s = '\\x27; alert(1); \\x27';", ".js templates default to :j");
	RENDERS("a.html", "{{x:javascript_escape}}", "{\"x\":\"'\"}", "\\x27",
	    "the long name of :j");

	RENDERS("a.html", "{{x:u}}", "{\"x\":\"a b&c=d/\\u00e9?#+~._-\"}",
	    "a+b%26c%3Dd%2F%C3%A9%3F%23%2B~._-", ":u a query component");
	RENDERS("a.html", "?q={{x:u}}", "{\"x\":\"\\\"><script>\"}",
	    "?q=%22%3E%3Cscript%3E", ":u leaves nothing HTML can use");

	RENDERS("a.html", "{{x:o}}", "{\"x\":\"he said \\\"hi\\\"\\\\ "
	    "</script>&'\\n\\u2028\"}",
	    "he said \\u0022hi\\u0022\\\\ \\u003c/script\\u003e\\u0026"
	    "\\u0027\\n\\u2028", ":o a string as JSON string content");
	RENDERS("a.html", "<i data-x=\"{{x:o}}\">",
	    "{\"x\":\"\\\" onmouseover=alert(1) \\\"\"}",
	    "<i data-x=\"\\u0022 onmouseover=alert(1) \\u0022\">",
	    ":o of a string cannot leave an attribute");
	RENDERS("a.html", "{{x:o}}", "{\"x\":{\"a\":\"<b>\",\"n\":[1,2.5,"
	    "true,null],\"s\":\"/\"}}",
	    "{\"a\":\"\\u003cb\\u003e\",\"n\":[1,2.5,true,null],\"s\":\"/\"}",
	    ":o an object as compact JSON, < > escaped");
	RENDERS("a.html", "{{x:o}}", "{\"x\":\"\\r\\t\\b\\f\\u001f\\u007f\"}",
	    "\\r\\t\\b\\f\\u001f\x7f", ":o control characters");
	RENDERS("a.html", "{{x:o}}", "{\"x\":[\"</script>\"]}",
	    "[\"\\u003c/script\\u003e\"]", ":o an array");
	RENDERS("a.html", "{{x:o}}/{{y:o}}/{{z:o}}",
	    "{\"x\":3,\"y\":false,\"z\":null}", "3/false/",
	    ":o numbers, booleans; null empty");
	RENDERS("a.json", "{\"v\":\"{{x}}\",\"o\":{{o}}}",
	    "{\"x\":\"a\\\"b\",\"o\":{\"k\":[1]}}",
	    "{\"v\":\"a\\u0022b\",\"o\":{\"k\":[1]}}",
	    ".json templates default to :o");

	RENDERS("a.html", "<a href=\"{{u:H=url}}\">",
	    "{\"u\":\"javascript:alert(1)\"}", "<a href=\"#\">",
	    ":H=url refuses javascript:");
	RENDERS("a.html", "{{u:H=url}}", "{\"u\":\"JaVaScRiPt:alert(1)\"}",
	    "#", ":H=url refuses any case of it");
	RENDERS("a.html", "{{u:H=url}}", "{\"u\":\" javascript:alert(1)\"}",
	    "#", ":H=url refuses a scheme behind a space");
	RENDERS("a.html", "{{u:H=url}}", "{\"u\":\"java\\tscript:alert(1)\"}",
	    "#", ":H=url refuses a scheme with a tab inside");
	RENDERS("a.html", "{{u:H=url}}",
	    "{\"u\":\"data:text/html,<script>alert(1)</script>\"}", "#",
	    ":H=url refuses data:");
	RENDERS("a.html", "{{u:H=url}}", "{\"u\":\"vbscript:x\"}", "#",
	    ":H=url refuses other schemes");
	RENDERS("a.html", "{{u:H=url}}",
	    "{\"u\":\"https://example.com/?a=1&b=\\\"2\"}",
	    "https://example.com/?a=1&amp;b=&quot;2", ":H=url https, escaped");
	RENDERS("a.html", "{{u:H=url}}", "{\"u\":\"HTTP://x/\"}", "HTTP://x/",
	    ":H=url http in capitals");
	RENDERS("a.html", "{{u:H=url}}", "{\"u\":\"mailto:a@b.c\"}",
	    "mailto:a@b.c", ":H=url mailto:");
	RENDERS("a.html", "{{u:H=url}}",
	    "{\"u\":\"/support/tickets/?q=a:b\"}", "/support/tickets/?q=a:b",
	    ":H=url a relative URL with a colon later");
	RENDERS("a.html", "{{u:H=url}}", "{\"u\":\"../x'y\"}", "../x&#39;y",
	    ":H=url a relative path, escaped");
	RENDERS("a.html", "{{u:html_escape_with_arg=url}}",
	    "{\"u\":\"javascript:x\"}", "#", "the long name of :H=url");

	RENDERS("a.txt", "{{x:p}}|{{x:pre_escape}}|{{x:H=pre}}|"
	    "{{x:html_escape_with_arg=pre}}|{{x:xml_escape}}",
	    "{\"x\":\"a\\n <'>\"}", "a\n &lt;&#39;&gt;|a\n &lt;&#39;&gt;|"
	    "a\n &lt;&#39;&gt;|a\n &lt;&#39;&gt;|a\n &lt;&#39;&gt;",
	    "ctemplate's :p and :xml_escape are :h, white space kept");
	RENDERS("a.html", "{{u:U=html}} {{u:url_escape_with_arg=html}} "
	    "{{v:U=html}}", "{\"u\":\"javascript:x\",\"v\":\"/a?b&c\"}",
	    "# # /a?b&amp;c", ":U=html is :H=url");
	FAILS("p.html", "{{x:H=snippet}}",
	    "p.html:1: unknown modifier \":H=snippet\"",
	    "ctemplate modifiers not built are unknown");
	FAILS("p.html", "{{x:c}}", "p.html:1: unknown modifier \":c\"",
	    "ctemplate's :c is unknown too");
	RENDERS("a.html", "{{x:h:h}}", "{\"x\":\"&\"}", "&amp;amp;",
	    "modifiers chain left to right (:h:h)");
	RENDERS("a.html", "{{x:h:u}}", "{\"x\":\"<\"}", "%26lt%3B",
	    ":h then :u");
	RENDERS("a.html", "{{x:u:h}}", "{\"x\":\"<\"}", "%3C", ":u then :h");
	RENDERS("a.html", "{{x:j:h}}", "{\"x\":\"a\\nb\"}", "a\\nb",
	    ":j then :h");
	RENDERS("a.html", "{{x:o:h}}", "{\"x\":{\"a\":\"'\"}}",
	    "{&quot;a&quot;:&quot;\\u0027&quot;}", ":o of an object then :h");
	RENDERS("a.html", "{{x:none:h}}", "{\"x\":\"<\"}", "&lt;",
	    ":none in a chain adds nothing");
	RENDERS("a.html", "{{x:h:j:u:o:h}}", "{\"x\":\"<'>\"}",
	    "%5Cx26lt%3B%5Cx26%2339%3B%5Cx26gt%3B", "a chain of five");
	RENDERS("a.html", "{{n:h}}", "{\"n\":5}", "5", "a number through :h");
}

static void
test_delims_pragma(void)
{
	RENDERS("a.html", "{{=<% %>=}}<%x%> {{x}}", "{\"x\":\"v\"}",
	    "v {{x}}", "a delimiter change");
	RENDERS("a.html", "{{= <% %> =}}<%#s%><%x%><%/s%>",
	    "{\"s\":[{\"x\":1},{\"x\":2}]}", "12",
	    "sections with new delimiters, spaces around them");
	RENDERS("a.html", "{{=[[ ]]=}}[[x]][[={{ }}=]]{{x}}", "{\"x\":\"v\"}",
	    "vv", "a change and back");
	RENDERS("a.html", "{{=<% %>=}}<%! c %><%x:none%>", "{\"x\":\"<\"}",
	    "<", "comments and modifiers with new delimiters");
	RENDERS("a.html", "{{%AUTOESCAPE context=\"TEXT\"}}\n{{x}}",
	    "{\"x\":\"<\"}", "<", "AUTOESCAPE TEXT in a .html file");
	RENDERS("a.txt", "{{%AUTOESCAPE context=\"HTML\"}}{{x}}",
	    "{\"x\":\"<\"}", "&lt;", "AUTOESCAPE HTML in a .txt file");
	RENDERS("a.txt", "{{%AUTOESCAPE context=\"JAVASCRIPT\"}}{{x}}",
	    "{\"x\":\"'\"}", "\\x27", "AUTOESCAPE JAVASCRIPT");
	RENDERS("a.txt", "{{%AUTOESCAPE context=\"JSON\"}}{{x}}",
	    "{\"x\":\"\\\\\"}", "\\\\", "AUTOESCAPE JSON");
	RENDERS("a.txt", "{{%AUTOESCAPE context=\"URL\"}}{{x}}",
	    "{\"x\":\"a b\"}", "a+b", "AUTOESCAPE URL");
}

static void
test_standalone(void)
{
	const char *l = "{\"l\":[{\"n\":1},{\"n\":2}],\"t\":true,"
	    "\"v\":\"\"}";

	RENDERS("m.txt", "Items:\n{{#l}}\n- {{n}}\n{{/l}}\nEnd\n", l,
	    "Items:\n- 1\n- 2\nEnd\n",
	    "a section tag alone on its line takes the line");
	RENDERS("m.html", "<ul>\n  {{#l}}\n  <li>{{n}}</li>\n  {{/l}}\n</ul>",
	    l, "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>",
	    "and the blanks before it");
	RENDERS("m.txt", "a\n\t{{! note }} \nb", l, "a\nb",
	    "a comment alone on its line");
	RENDERS("m.txt", "a\n{{! two\nlines }}\nb", l, "a\nb",
	    "a comment of two lines");
	RENDERS("m.txt", "a\r\n{{#t}}\r\nb\r\n{{/t}}\r\n", l,
	    "a\r\nb\r\n", "CRLF lines too");
	RENDERS("m.txt", "{{=<% %>=}}\n<%#t%>\nx\n<%/t%>\n", l, "x\n",
	    "delimiter changes and new delimiters");
	RENDERS("m.txt", "{{%AUTOESCAPE context=\"HTML\"}}\n{{x}}",
	    "{\"x\":\"<\"}", "&lt;", "the pragma line");
	RENDERS("m.txt", "a\n  {{#t}}y{{/t}}  \nb", l, "a\n  y  \nb",
	    "two tags on a line stay");
	RENDERS("m.txt", "a {{#t}}\nb{{/t}}", l, "a \nb",
	    "text before a tag keeps the line");
	RENDERS("m.txt", "{{#t}} x\n{{/t}}", l, " x\n",
	    "text after a tag keeps the line");
	RENDERS("m.txt", "a\n{{v}}\nb", l, "a\n\nb",
	    "a variable's line stays, even when empty");
	RENDERS("m.txt", "a\n\n  \nb", l, "a\n\n  \nb",
	    "blank lines the author wrote stay");
	RENDERS("m.txt", "{{#t}}\n{{/t}}", l, "",
	    "a last line without a newline");
	RENDERS("m.txt", "Hi\n{{>sig}}\nBye", "{\"name\":\"D\"}",
	    "Hi\n-- DBye", "an include alone on its line takes its newline");
	FAILS("m.txt", "{{#t}}\n  {{/t}}\n{{! c\n}}\n{{bad-}}",
	    "m.txt:5: bad variable name \"bad-\"",
	    "taken lines still count");
}

static void
test_errors(void)
{
	FAILS("p.html", "line one\nline {{two", "p.html:2: unterminated tag",
	    "unterminated tag, with its line");
	FAILS("p.html", "{{x\n}}", "p.html:1: unterminated tag",
	    "a tag may not span lines");
	FAILS("p.html", "\n\n{{! never closed", "p.html:3: unterminated comment",
	    "unterminated comment");
	FAILS("p.html", "a\n{{/s}}", "p.html:2: {{/s}} closes no section",
	    "a close without an open");
	FAILS("p.html", "{{#a}}\n{{#b}}\n{{/a}}",
	    "p.html:3: {{/a}} does not close {{#b}} of line 2",
	    "misnested sections");
	FAILS("p.html", "x\n{{#a}}\ny", "p.html:2: {{#a}} is not closed",
	    "an unclosed section, at its opening line");
	FAILS("p.html", "{{a-b}}", "p.html:1: bad variable name \"a-b\"",
	    "a bad variable name");
	FAILS("p.html", "{{ x }}", "p.html:1: bad variable name \" x \"",
	    "no spaces inside a tag");
	FAILS("p.html", "{{#}}", "p.html:1: bad section name \"\"",
	    "an empty section name");
	FAILS("p.html", "{{#a b}}{{/a b}}", "p.html:1: bad section name \"a b\"",
	    "a bad section name");
	FAILS("p.html", "{{}}", "p.html:1: empty tag", "an empty tag");
	FAILS("p.html", "{{{x}}}", "p.html:1: bad variable name \"{x\"",
	    "no triple braces");
	FAILS("p.html", "\n\n{{x:q}}", "p.html:3: unknown modifier \":q\"",
	    "an unknown modifier, with its line");
	FAILS("p.html", "{{x:}}", "p.html:1: unknown modifier \":\"",
	    "an empty modifier");
	FAILS("p.html", "{{x:H=javascript}}",
	    "p.html:1: unknown modifier \":H=javascript\"",
	    "only :H=url of the H family");
	FAILS("p.html", "{{x:h:h:h:h:h:h:h:h:h}}",
	    "p.html:1: more than 8 modifiers", "at most 8 modifiers");
	FAILS("p.html", "{{=<%=}}", "p.html:1: bad delimiter change",
	    "a delimiter change with one delimiter");
	FAILS("p.html", "{{= =}}", "p.html:1: bad delimiter change",
	    "a delimiter change with none");
	FAILS("p.html", "{{=<% %> x=}}", "p.html:1: bad delimiter change",
	    "a delimiter change with three");
	FAILS("p.html", "{{=<% }} %>=}}", "p.html:1: bad delimiter change",
	    "a delimiter change ends at =}}, not at the first }}");
	FAILS("p.html", "{{#a}}{{/a-b}}", "p.html:1: bad section name \"a-b\"",
	    "a bad name in a close");
	FAILS("p.html", "{{=<<<<<<<<< >>=}}", "p.html:1: bad delimiter change",
	    "a delimiter longer than 8");
	FAILS("p.html", "{{=<% %>=}}\n<%x", "p.html:2: unterminated tag",
	    "unterminated with new delimiters");
	FAILS("p.html", "{{! one\ntwo\nthree }}\n{{#x}}",
	    "p.html:4: {{#x}} is not closed",
	    "lines inside a comment are counted");
	FAILS("p.html", "a{{BI_NEWLINE}}\n{{bad!}}",
	    "p.html:2: bad variable name \"bad!\"",
	    "BI_NEWLINE is not a template line");
	FAILS("p.html", "x{{%AUTOESCAPE context=\"HTML\"}}",
	    "p.html:1: AUTOESCAPE must come first in the file",
	    "AUTOESCAPE only first");
	FAILS("p.html", "{{%AUTOESCAPE context=\"CSS\"}}",
	    "p.html:1: unknown AUTOESCAPE context \"CSS\"",
	    "an unknown AUTOESCAPE context");
	FAILS("p.html", "{{%PRAGMA}}", "p.html:1: unknown pragma \"%PRAGMA\"",
	    "an unknown pragma");
	FAILS("p.html", "\n{{>nothere}}",
	    "p.html:2: {{>nothere}}: no template nothere.html",
	    "a missing include");
	FAILS("p.html", "{{>../etc}}", "p.html:1: bad include name \"../etc\"",
	    "an include cannot leave the directory");

	{
		char src[64 * 6 + 64 * 6 + 8] = "";
		for (int i = 0; i < 65; i++)
			strcat(src, "{{#a}}");
		FAILS("p.html", src, "p.html:1: sections nested deeper than 64",
		    "section depth is bounded");
	}
	{
		struct tmpl *t = NULL;
		is_err(tmpl_parse_buf(NULL, "p.html", "{{>x}}", 6, &t, last_err,
		    sizeof(last_err)), SUP_ECONFIG,
		    "an include without a directory is a template error");
		is_str(last_err, "p.html:1: {{>x}}: no template directory to "
		    "include from", "and it says so");
		is_err(tmpl_parse_buf(NULL, "p.html", "{{#x}}", 6, &t, NULL, 0),
		    SUP_ECONFIG, "no error buffer is fine");
		ok(t == NULL, "nothing is returned on an error");
		is_err(tmpl_parse_buf(NULL, "p.html", "x{{", 3, &t, last_err, 8),
		    SUP_ECONFIG, "a small error buffer is fine");
		is_str(last_err, "p.html:", "and holds the start");
	}
}

static void
test_includes(void)
{
	const struct tmpl *t, *t2;
	struct sbuf out = { 0 };
	json_object *data;
	char err[512];

	put_file("header.html", "<h1>{{title}}</h1>");
	put_file("row.html", "<li>{{n}}</li>");
	put_file("sig.txt", "-- {{name}}");
	put_file("cyc_a.html", "a\n{{>cyc_b}}");
	put_file("cyc_b.html", "b\n\n{{>cyc_a}}");
	put_file("self.html", "{{>self}}");
	put_file("broken.html", "ok\n{{#open}}");
	put_file("uses_broken.html", "x\n\n{{>broken}}");
	/* Two chains d0 -> d1 -> ... -> d17 and e0 -> ... -> e17. */
	for (int i = 0; i <= 17; i++) {
		for (const char *c = "de"; *c != '\0'; c++) {
			char name[32], text[64];
			snprintf(name, sizeof(name), "%c%d.html", *c, i);
			if (i < 17)
				snprintf(text, sizeof(text), "%d{{>%c%d}}", i,
				    *c, i + 1);
			else
				snprintf(text, sizeof(text), "end");
			put_file(name, text);
		}
	}

	RENDERS("page.html", "{{>header}}<ul>{{#l}}{{>row}}{{/l}}</ul>",
	    "{\"title\":\"<T>\",\"l\":[{\"n\":1},{\"n\":2}]}",
	    "<h1>&lt;T&gt;</h1><ul><li>1</li><li>2</li></ul>",
	    "includes render with the current context");
	RENDERS("mail.txt", "Hello\n{{>sig}}", "{\"name\":\"<Desk>\"}",
	    "Hello\n-- <Desk>", "a .txt template includes a .txt file");
	FAILS("mail.txt", "{{>header}}", "mail.txt:1: {{>header}}: no template "
	    "header.txt", "the extension is the includer's");
	FAILS("p.html", "{{>cyc_a}}",
	    "cyc_b.html:3: {{>cyc_a}} includes itself (include cycle) "
	    "(included from cyc_a.html:2) (included from p.html:1)",
	    "an include cycle, where it closes");
	is_err(tmpl_get(cache, "cyc_a.html", &t, err, sizeof(err)),
	    SUP_ECONFIG, "a template in a cycle does not load");
	is_str(err, "cyc_b.html:3: {{>cyc_a}} includes itself (include cycle)"
	    " (included from cyc_a.html:2)", "and tmpl_get says where");
	is_err(tmpl_get(cache, "self.html", &t, err, sizeof(err)), SUP_ECONFIG,
	    "a template including itself");
	is_str(err, "self.html:1: {{>self}} includes itself (include cycle)",
	    "is a cycle too");
	FAILS("p.html", "\n{{>uses_broken}}",
	    "broken.html:2: {{#open}} is not closed (included from "
	    "uses_broken.html:3) (included from p.html:2)",
	    "an error inside an include names its own file and line");
	is_err(tmpl_get(cache, "d1.html", &t, err, sizeof(err)), SUP_OK,
	    "16 levels of includes load");
	data = json_object_new_object();
	tmpl_render(t, data, tmpl_sbuf_write, &out);
	is_str(out.p, "12345678910111213141516end", "and render");
	free(out.p);
	memset(&out, 0, sizeof(out));
	is_err(tmpl_get(cache, "d0.html", &t, err, sizeof(err)), SUP_ECONFIG,
	    "17 levels do not");
	is_str(err, "d0.html:1: includes nested deeper than 16",
	    "and says where, counting the cached ones");
	is_err(tmpl_get(cache, "e0.html", &t, err, sizeof(err)), SUP_ECONFIG,
	    "17 levels loaded fresh do not either");
	is_str(err, "e16.html:1: includes nested deeper than 16 (included "
	    "from e15.html:1) (included from e14.html:1) (included from "
	    "e13.html:1) (included from e12.html:1) (included from e11.html:1) "
	    "(included from e10.html:1) (included from e9.html:1) (included "
	    "from e8.html:1) (included from e7.html:1) (included from "
	    "e6.html:1) (included from e5.html:1) (included from e4.html:1) "
	    "(included from e3.html:1) (included from e2.html:1) (included "
	    "from e1.html:1) (included from e0.html:1)",
	    "and say where it goes too deep");

	is_err(tmpl_get(cache, "header.html", &t, err, sizeof(err)), SUP_OK,
	    "tmpl_get loads a template");
	is_str(tmpl_name(t), "header.html", "with its name");
	is_err(tmpl_get(cache, "header.html", &t2, err, sizeof(err)), SUP_OK,
	    "and again");
	ok(t == t2, "the second time from the cache");
	put_file("header.html", "changed");
	json_object_object_add(data, "title", json_object_new_string("A&B"));
	is_err(tmpl_render(t, data, tmpl_sbuf_write, &out), SUP_OK,
	    "a cached template renders");
	is_err(tmpl_render(t, data, tmpl_sbuf_write, &out), SUP_OK,
	    "and renders again");
	is_str(out.p, "<h1>A&amp;B</h1><h1>A&amp;B</h1>",
	    "twice the same, parsed once (the file changed since)");
	free(out.p);
	json_object_put(data);
}

static void
test_names(void)
{
	static const char *const bad[] = {
		"../etc/passwd", "/etc/passwd", "a/b.html", ".hidden.html",
		"a..html", "..", "", "x y.html", "a\\b.html", "caf\xc3\xa9.html",
		"a\nb.html",
	};
	const struct tmpl *t;
	struct tmpl *pt;
	char err[256], longname[200];

	for (size_t i = 0; i < SUP_NELEM(bad); i++)
		is_err(tmpl_get(cache, bad[i], &t, err, sizeof(err)),
		    SUP_EINVAL, "bad name %zu is refused", i);
	memset(longname, 'a', sizeof(longname) - 6);
	strcpy(longname + sizeof(longname) - 6, ".html");
	is_err(tmpl_get(cache, longname, &t, err, sizeof(err)), SUP_EINVAL,
	    "a name longer than %d is refused", TMPL_NAME_MAX);
	is_err(tmpl_parse_buf(cache, "../x.html", "x", 1, &pt, err,
	    sizeof(err)), SUP_EINVAL, "tmpl_parse_buf checks the name too");
	is_err(tmpl_get(cache, "nothere.html", &t, err, sizeof(err)),
	    SUP_ENOTFOUND, "a missing file");
	ok(strncmp(err, "nothere.html: cannot open", 25) == 0,
	    "says which: %s", err);
	is_err(tmpl_get(cache, "Ok_name-1.2.html", &t, err, sizeof(err)),
	    SUP_ENOTFOUND, "a good name is looked up");
	{
		char path[4096];
		snprintf(path, sizeof(path), "%s/sub.html", dir);
		if (mkdir(path, 0700) != 0)
			bail_out("mkdir %s", path);
		is_err(tmpl_get(cache, "sub.html", &t, err, sizeof(err)),
		    SUP_EIO, "a directory is not a template");
	}
	{
		char *big = malloc(TMPL_FILE_MAX + 2);
		if (big == NULL)
			bail_out("out of memory");
		memset(big, 'x', TMPL_FILE_MAX + 1);
		big[TMPL_FILE_MAX + 1] = '\0';
		put_file("big.html", big);
		is_err(tmpl_get(cache, "big.html", &t, err, sizeof(err)),
		    SUP_ECONFIG, "a file over %d bytes", TMPL_FILE_MAX);
		is_err(tmpl_parse_buf(cache, "big.html", big, TMPL_FILE_MAX + 1,
		    &pt, err, sizeof(err)), SUP_ECONFIG,
		    "a buffer over it too");
		free(big);
	}
	{
		struct tmpl_cache *none;
		is_err(tmpl_cache_open("", &none), SUP_EINVAL,
		    "a cache needs a directory");
	}
}

static int
fail_writer(void *ctx, const char *buf SUP_UNUSED, size_t len SUP_UNUSED)
{
	int *left = ctx;

	return (*left)-- > 0 ? 0 : -1;
}

static void
test_writer(void)
{
	struct tmpl *t;
	json_object *data = json_tokener_parse("{\"x\":\"<\",\"l\":[1,2,3]}");
	int left = 2;
	struct sbuf out = { 0 };

	if (tmpl_parse_buf(NULL, "w.html", "a{{x}}b{{#l}}c{{/l}}", 20, &t,
	    NULL, 0) != SUP_OK)
		bail_out("w.html does not parse");
	is_err(tmpl_render(t, data, fail_writer, &left), SUP_EIO,
	    "a failing writer stops the render");
	ok(left < 0, "and nothing is written after the failure");
	is_err(tmpl_render(t, data, tmpl_sbuf_write, &out), SUP_OK,
	    "the sbuf writer");
	is_str(out.p, "a&lt;bccc", "collects the whole output");
	out.failed = true;
	is_err(tmpl_render(t, data, tmpl_sbuf_write, &out), SUP_ENOMEM,
	    "an sbuf that cannot grow fails the render: out of memory");
	free(out.p);
	json_object_put(data);
	tmpl_free(t);
	tmpl_free(NULL);
	tmpl_cache_close(NULL);
	ok(1, "tmpl_free(NULL) and tmpl_cache_close(NULL) are no-ops");
}

int
main(void)
{
	tap_tmpdir(dir, sizeof(dir));
	if (tmpl_cache_open(dir, &cache) != SUP_OK)
		bail_out("tmpl_cache_open");
	test_variables();
	test_odd_doubles();
	test_raw();
	test_sections();
	test_modifiers();
	test_html_scan();
	test_delims_pragma();
	test_errors();
	test_includes();
	test_standalone();
	test_writer();
	test_names();
	ok(text_renders > 50 && text_differ == 0, "each of the %d renders "
	    "with data renders the same from the data's JSON text",
	    text_renders);
	if (text_differ > 0)
		diag("%d differ; the first: %s", text_differ, text_first);
	tmpl_cache_close(cache);
	tap_rmtree(dir);
	return done_testing();
}
