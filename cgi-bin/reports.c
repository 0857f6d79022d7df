/*
 * reports.c - the support statistics as an API and as the staff's
 * dashboard (reports.h, docs/reports.md).  The numbers are the report of
 * lib/desk/stats.c; this file reads the window from the query and, for
 * the page, lays the charts out: the geometry of each SVG (bars,
 * polylines, labels) as numbers for templates/stats.html, which writes
 * the markup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "page.h"
#include "reports.h"
#include "stats.h"
#include "tstore.h"
#include "util.h"

enum { RF_DAYS, RF_FROM, RF_TO };
const struct field reports_fields[REPORTS_NFIELDS] = {
	[RF_DAYS] = { "days", F_INT, 0, 1, STATS_DAYS_MAX, NULL, NULL },
	[RF_FROM] = { "from", F_TIME, 0, 0, 0, NULL, NULL },
	[RF_TO] = { "to", F_TIME, 0, 0, 0, NULL, NULL },
};

#define DEFAULT_DAYS 30

/*
 * The window the query asks for, in UTC days [*from, *to]: ?days=N (the
 * last N days, today included; 30 without any), or ?from=&to= (dates,
 * both included; to alone: the 30 days to it; from alone: from it to
 * today).  400 naming the field: days with a date, a date-time or no
 * date, from after to, more than STATS_DAYS_MAX days.
 */
static sup_err
window_of(struct sup_req *r, int64_t *from, int64_t *to)
{
	struct value v[REPORTS_NFIELDS];
	int64_t today = stats_day(time_now_us());
	sup_err e;

	if ((e = valid_query(r, reports_fields, REPORTS_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	if (v[RF_DAYS].present && (v[RF_FROM].present || v[RF_TO].present))
		return valid_fail(r, "days", "Give days, or from and to: not "
		    "both.");
	for (int i = RF_FROM; i <= RF_TO; i++)
		if (v[i].present && v[i].len != 10)
			return valid_fail(r, reports_fields[i].name,
			    "A date: YYYY-MM-DD.");
	*to = v[RF_TO].present ? stats_day(v[RF_TO].us) : today;
	if (v[RF_FROM].present)
		*from = stats_day(v[RF_FROM].us);
	else
		*from = *to - (v[RF_DAYS].present ? v[RF_DAYS].num :
		    DEFAULT_DAYS) + 1;
	if (*from > *to)
		return valid_fail(r, "from",
		    "The window starts after it ends.");
	if (*to - *from + 1 > STATS_DAYS_MAX)
		return valid_fail(r, "from", "A window of at most 366 days.");
	if (*from < 0)
		return valid_fail(r, "from", "A date from 1970 on.");
	return SUP_OK;
}

/*
 * GET /api/support/stats/?days=N | ?from=YYYY-MM-DD&to=YYYY-MM-DD
 * Staff.  200 the report (docs/api.md "Statistics"); 400 a bad window,
 * the field named; 401, 403 (a customer).
 */
sup_err
reports_api(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	int64_t from, to;
	json_object *o;
	sup_err e;

	if ((e = window_of(r, &from, &to)) != SUP_OK)
		return e;
	if ((e = stats_report(&app->store, from, to, &o)) != SUP_OK)
		return e;
	return app_reply(r, 200, o);
}

/* --- The dashboard --------------------------------------------------- */

/* The plot's box in every chart's viewBox (0 0 CHART_W CHART_H). */
#define CHART_W 640
#define CHART_H 220
#define PLOT_X 48
#define PLOT_Y 10
#define PLOT_W (CHART_W - PLOT_X - 10)
#define PLOT_H (CHART_H - PLOT_Y - 30)

/* A length in the charts: one decimal is plenty. */
static json_object *
len(double x)
{
	return json_object_new_double((double)(long)(x * 10 + 0.5) / 10);
}

/* A time in seconds in words: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
static void
dur_text(double sec, char *buf, size_t n)
{
	long s = (long)(sec + 0.5);

	if (s < 60)
		snprintf(buf, n, "%ld s", s);
	else if (s < 3600)
		snprintf(buf, n, "%ld min", (s + 30) / 60);
	else if (s < 86400)
		snprintf(buf, n, "%ld h %ld min", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, n, "%ld d %ld h", s / 86400, s % 86400 / 3600);
}

/*
 * Set name_text in o to the time in words of o's member name (a number
 * of seconds, or null: "none").  False when out of memory.
 */
static bool
add_text(json_object *o, const char *name, const char *text_name)
{
	json_object *v;
	char buf[48];

	if (!json_object_object_get_ex(o, name, &v) || v == NULL)
		snprintf(buf, sizeof(buf), "none");
	else
		dur_text(json_object_get_double(v), buf, sizeof(buf));
	return json_set(o, text_name, json_object_new_string(buf));
}

static const char *const time_names[][2] = {
	{ "avg_response_time", "avg_response_text" },
	{ "median_response_time", "median_response_text" },
	{ "p90_response_time", "p90_response_text" },
	{ "avg_resolution_time", "avg_resolution_text" },
	{ "median_resolution_time", "median_resolution_text" },
	{ "p90_resolution_time", "p90_resolution_text" },
};

/* Every time of o (a report, a row) in words beside it. */
static bool
add_texts(json_object *o)
{
	for (size_t i = 0; i < SUP_NELEM(time_names); i++)
		if (json_object_object_get_ex(o, time_names[i][0], NULL) &&
		    !add_text(o, time_names[i][0], time_names[i][1]))
			return false;
	return true;
}

static int64_t
jint(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) ?
	    json_object_get_int64(v) : 0;
}

/* A rounded-up top for an axis that holds max (1, 2, 5 × 10^k). */
static double
axis_top(double max)
{
	double step = 1;

	while (step * 10 <= max)
		step *= 10;
	if (max <= step)
		return step;
	if (max <= 2 * step)
		return 2 * step;
	if (max <= 5 * step)
		return 5 * step;
	return 10 * step;
}

/* An object with the given members set (NULL when out of memory). */
static json_object *
obj_add(json_object *arr)
{
	json_object *o = json_object_new_object();

	if (o == NULL || json_object_array_add(arr, o) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/*
 * The x axis's labels: the first day (from the plot's left edge), the
 * middle one (at its slot's middle) and the last (to the right edge).
 */
static bool
x_labels(json_object *chart, json_object *daily, size_t n, double slot)
{
	static const char *const anchors[3] = { "start", "middle", "end" };
	json_object *arr = json_object_new_array(), *l;
	size_t pick[3] = { 0, n / 2, n - 1 };
	double at[3] = { PLOT_X, PLOT_X + slot * ((double)(n / 2) + 0.5),
	    PLOT_X + PLOT_W };

	if (arr == NULL || !json_set(chart, "x_labels", arr))
		return false;
	for (size_t i = 0; i < 3; i++) {
		if ((i == 1 && n < 5) || (i == 2 && n == 1))
			continue;
		json_object *row = json_object_array_get_idx(daily, pick[i]);
		if ((l = obj_add(arr)) == NULL ||
		    !json_set(l, "x", len(at[i])) ||
		    !json_set(l, "anchor",
		    json_object_new_string(anchors[i])) ||
		    !json_set(l, "text", json_object_get(
		    json_object_object_get(row, "date"))))
			return false;
	}
	return true;
}

/* The y axis's labels: 0, half and the top, with their lines' y. */
static bool
y_labels(json_object *chart, double top, const char *unit)
{
	json_object *arr = json_object_new_array(), *l;
	char buf[32];

	if (arr == NULL || !json_set(chart, "y_labels", arr))
		return false;
	for (int i = 0; i <= 2; i++) {
		double v = top * i / 2;
		snprintf(buf, sizeof(buf), v == (long)v ? "%.0f%s" : "%.1f%s",
		    v, unit);
		if ((l = obj_add(arr)) == NULL ||
		    !json_set(l, "y",
		    len(PLOT_Y + PLOT_H - PLOT_H * i / 2.0)) ||
		    !json_set(l, "ty", len(PLOT_Y + PLOT_H - PLOT_H * i / 2.0 +
		    4)) || !json_set(l, "text", json_object_new_string(buf)))
			return false;
	}
	return true;
}

/*
 * The chart of tickets created and resolved per day: a pair of bars a
 * day ("bars": x, y, w, h, kind "created"/"resolved", date, value).
 */
static json_object *
volume_chart(json_object *daily)
{
	size_t n = json_object_array_length(daily);
	json_object *c = json_object_new_object(), *bars, *b;
	double max = 0, top, slot = (double)PLOT_W / (double)n;
	int64_t sum_c = 0, sum_r = 0, best = -1;
	const char *best_day = NULL;
	char desc[256];

	for (size_t i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(daily, i);
		int64_t cr = jint(row, "created"), re = jint(row, "resolved");
		max = (double)cr > max ? (double)cr : max;
		max = (double)re > max ? (double)re : max;
		sum_c += cr;
		sum_r += re;
		if (cr > best) {
			best = cr;
			best_day = json_object_get_string(
			    json_object_object_get(row, "date"));
		}
	}
	top = axis_top(max);
	if (c == NULL || (bars = json_object_new_array()) == NULL ||
	    !json_set(c, "bars", bars))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(daily, i);
		for (int k = 0; k < 2; k++) {
			int64_t v = jint(row, k == 0 ? "created" : "resolved");
			double h = (double)v / top * PLOT_H;
			if ((b = obj_add(bars)) == NULL ||
			    !json_set(b, "x", len(PLOT_X + slot * (double)i +
			    slot * (0.1 + 0.4 * k))) ||
			    !json_set(b, "w", len(slot * 0.4)) ||
			    !json_set(b, "y", len(PLOT_Y + PLOT_H - h)) ||
			    !json_set(b, "h", len(h)) ||
			    !json_set(b, "kind", json_object_new_string(
			    k == 0 ? "created" : "resolved")) ||
			    !json_set(b, "date", json_object_get(
			    json_object_object_get(row, "date"))) ||
			    !json_set(b, "value", json_object_new_int64(v)))
				goto nomem;
		}
	}
	if (best > 0)
		snprintf(desc, sizeof(desc), "Over %zu days, %lld tickets "
		    "created and %lld resolutions; the busiest day was %s "
		    "with %lld new tickets.", n, (long long)sum_c,
		    (long long)sum_r, best_day, (long long)best);
	else
		snprintf(desc, sizeof(desc), "Over %zu days, no tickets "
		    "created and %lld resolutions.", n, (long long)sum_r);
	if (!json_set(c, "desc", json_object_new_string(desc)) ||
	    !x_labels(c, daily, n, slot) || !y_labels(c, top, ""))
		goto nomem;
	return c;
nomem:
	json_object_put(c);
	return NULL;
}

/*
 * The chart of the mean first-response and resolution times of each
 * day, in hours: a polyline each ("response", "resolution": points, and
 * dots with their values), days without any left out.
 */
static json_object *
trend_chart(json_object *daily)
{
	static const char *const names[2][3] = {
		{ "avg_response_time", "response", "avg_response_text" },
		{ "avg_resolution_time", "resolution", "avg_resolution_text" },
	};
	size_t n = json_object_array_length(daily);
	json_object *c = json_object_new_object(), *line, *dots, *d, *v;
	double max = 0, top, slot = (double)PLOT_W / (double)n;
	struct sbuf pts = { 0 };
	int with[2] = { 0, 0 };
	char desc[256];

	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 2; k++)
			if (json_object_object_get_ex(json_object_array_get_idx(
			    daily, i), names[k][0], &v) && v != NULL) {
				double h = json_object_get_double(v) / 3600;
				max = h > max ? h : max;
				with[k]++;
			}
	top = axis_top(max > 0 ? max : 1);
	if (c == NULL)
		return NULL;
	for (int k = 0; k < 2; k++) {
		if ((line = json_object_new_object()) == NULL ||
		    !json_set(c, names[k][1], line) ||
		    (dots = json_object_new_array()) == NULL ||
		    !json_set(line, "dots", dots))
			goto nomem;
		pts.len = 0;
		for (size_t i = 0; i < n; i++) {
			json_object *row = json_object_array_get_idx(daily, i);
			double x, y;
			if (!json_object_object_get_ex(row, names[k][0], &v) ||
			    v == NULL)
				continue;
			x = PLOT_X + slot * ((double)i + 0.5);
			y = PLOT_Y + PLOT_H - json_object_get_double(v) / 3600 /
			    top * PLOT_H;
			sbuf_printf(&pts, "%s%.1f,%.1f", pts.len ? " " : "", x,
			    y);
			if ((d = obj_add(dots)) == NULL ||
			    !json_set(d, "x", len(x)) ||
			    !json_set(d, "y", len(y)) ||
			    !json_set(d, "date", json_object_get(
			    json_object_object_get(row, "date"))) ||
			    !json_set(d, "text", json_object_get(
			    json_object_object_get(row, names[k][2]))))
				goto nomem;
		}
		if (pts.failed || !json_set(line, "points",
		    json_object_new_string_len(pts.len ? pts.p : "",
		    (int)pts.len)) || !json_set(line, "any",
		    json_object_new_boolean(with[k] > 0)))
			goto nomem;
	}
	snprintf(desc, sizeof(desc), "Mean hours to the first response on "
	    "%d of %zu days and to resolution on %d days, per day of the "
	    "reply or resolution; the table below gives each day's.", with[0],
	    n, with[1]);
	if (!json_set(c, "desc", json_object_new_string(desc)) ||
	    !x_labels(c, daily, n, slot) || !y_labels(c, top, " h"))
		goto nomem;
	free(pts.p);
	return c;
nomem:
	free(pts.p);
	json_object_put(c);
	return NULL;
}

/* The status breakdown: a horizontal bar per status (y, w, label, count). */
static json_object *
status_chart(json_object *by_status)
{
	size_t n = json_object_array_length(by_status);
	json_object *c = json_object_new_object(), *bars, *b;
	double max = 0;
	int64_t total = 0;
	char desc[160];

	for (size_t i = 0; i < n; i++) {
		int64_t v = jint(json_object_array_get_idx(by_status, i),
		    "count");
		max = (double)v > max ? (double)v : max;
		total += v;
	}
	if (c == NULL || (bars = json_object_new_array()) == NULL ||
	    !json_set(c, "bars", bars))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(by_status, i);
		int64_t v = jint(row, "count");
		const char *st = json_object_get_string(
		    json_object_object_get(row, "status"));
		if ((b = obj_add(bars)) == NULL ||
		    !json_set(b, "y", len(10 + 34.0 * (double)i)) ||
		    !json_set(b, "ty", len(10 + 34.0 * (double)i + 17)) ||
		    !json_set(b, "w",
		    len(max > 0 ? (double)v / max * 380 : 0)) ||
		    !json_set(b, "vx", len(176 + (max > 0 ? (double)v / max *
		    380 : 0) + 6)) ||
		    !json_set(b, "status", json_object_new_string(st)) ||
		    !json_set(b, "label", json_object_new_string(
		    page_status_label(st, true))) ||
		    !json_set(b, "count", json_object_new_int64(v)))
			goto nomem;
	}
	snprintf(desc, sizeof(desc), "%lld tickets in all, by their status "
	    "now.", (long long)total);
	if (!json_set(c, "desc", json_object_new_string(desc)) ||
	    !json_set(c, "height", json_object_new_int64(
	    (int64_t)(20 + 34 * n))))
		goto nomem;
	return c;
nomem:
	json_object_put(c);
	return NULL;
}

/* The window's links: the last 7, 30 and 90 days, the one shown marked. */
static bool
window_links(json_object *pc, int64_t from, int64_t to)
{
	static const int choices[] = { 7, 30, 90 };
	int64_t today = stats_day(time_now_us());
	json_object *arr = json_object_new_array(), *l;
	char label[32];

	if (arr == NULL || !json_set(pc, "windows", arr))
		return false;
	for (size_t i = 0; i < SUP_NELEM(choices); i++) {
		snprintf(label, sizeof(label), "Last %d days", choices[i]);
		if ((l = obj_add(arr)) == NULL ||
		    !json_set(l, "days", json_object_new_int(choices[i])) ||
		    !json_set(l, "label", json_object_new_string(label)) ||
		    !json_set(l, "current", json_object_new_boolean(
		    to == today && to - from + 1 == choices[i])))
			return false;
	}
	return true;
}

/* A satisfaction object's score in words, as "score_text". */
static bool
score_text(json_object *sat)
{
	json_object *v;
	char buf[64];

	if (json_object_object_get_ex(sat, "score", &v) && v != NULL)
		snprintf(buf, sizeof(buf), "%s%% good of %lld",
		    json_object_get_string(v), (long long)jint(sat, "ratings"));
	else
		snprintf(buf, sizeof(buf), "no ratings");
	return json_set(sat, "score_text", json_object_new_string(buf));
}

/*
 * The page's context: the report with its times in words, the charts,
 * and the window's links and form.
 */
static sup_err
dashboard_context(json_object *pc, json_object *rep, int64_t from, int64_t to)
{
	json_object *daily, *arr;
	char date[TIME_STRLEN + 1];
	size_t n;

	if (!add_texts(rep) || !json_set(pc, "report", json_object_get(rep)))
		return SUP_ENOMEM;
	json_object_object_get_ex(rep, "daily", &daily);
	n = json_object_array_length(daily);
	for (size_t i = 0; i < n; i++)
		if (!add_texts(json_object_array_get_idx(daily, i)))
			return SUP_ENOMEM;
	json_object_object_get_ex(rep, "per_agent", &arr);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *row = json_object_array_get_idx(arr, i);
		if (!add_texts(row) || !score_text(json_object_object_get(row,
		    "satisfaction")))
			return SUP_ENOMEM;
	}
	if (!score_text(json_object_object_get(rep, "satisfaction")) ||
	    !json_set(pc, "daily", json_object_get(daily)))
		return SUP_ENOMEM;
	json_object_object_get_ex(rep, "tickets_by_status", &arr);
	if (!json_set(pc, "volume", volume_chart(daily)) ||
	    !json_set(pc, "trend", trend_chart(daily)) ||
	    !json_set(pc, "status_chart", status_chart(arr)) ||
	    !window_links(pc, from, to))
		return SUP_ENOMEM;
	time_format(from * STATS_DAY_US, date);
	date[10] = '\0';
	if (!json_set(pc, "form_from", json_object_new_string(date)))
		return SUP_ENOMEM;
	time_format(to * STATS_DAY_US, date);
	date[10] = '\0';
	if (!json_set(pc, "form_to", json_object_new_string(date)) ||
	    !json_set(pc, "has_agents", json_object_new_boolean(
	    json_object_array_length(json_object_object_get(rep,
	    "per_agent")) > 0)) ||
	    !json_set(pc, "no_agents", json_object_new_boolean(
	    json_object_array_length(json_object_object_get(rep,
	    "per_agent")) == 0)))
		return SUP_ENOMEM;
	return SUP_OK;
}

/*
 * GET /support/stats/?days=N | ?from=YYYY-MM-DD&to=YYYY-MM-DD
 * Staff: the dashboard (templates/stats.html).  A bad window: 400, the
 * page with the form's message and no numbers.
 */
sup_err
reports_page(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	json_object *pc, *rep = NULL;
	int64_t from, to;
	int status = 200;
	sup_err e, rc;

	if ((pc = page_context(&app->page, r, "Statistics")) == NULL)
		return SUP_ENOMEM;
	if ((e = window_of(r, &from, &to)) != SUP_OK) {
		if (e != SUP_EINVAL && e != SUP_EUNKNOWN) {
			json_object_put(pc);
			return e;
		}
		status = 400;
		rc = page_form_errors(pc, r, e);
		/* The dates shown again as typed. */
		for (size_t i = 0; rc == SUP_OK && i < r->nquery; i++)
			if ((strcmp(r->query[i].key, "from") == 0 ||
			    strcmp(r->query[i].key, "to") == 0) &&
			    !json_set(pc, strcmp(r->query[i].key, "from") == 0 ?
			    "form_from" : "form_to",
			    json_object_new_string(r->query[i].val)))
				rc = SUP_ENOMEM;
	} else if ((rc = stats_report(&app->store, from, to, &rep)) ==
	    SUP_OK)
		rc = dashboard_context(pc, rep, from, to);
	if (rc == SUP_OK)
		rc = page_render(&app->page, r, status, "stats.html", pc);
	json_object_put(rep);
	json_object_put(pc);
	return rc;
}
