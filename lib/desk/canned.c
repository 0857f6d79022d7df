/*
 * canned.c - canned responses (canned.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "areas.h"
#include "canned.h"
#include "event.h"
#include "record.h"
#include "ticket.h"
#include "tmpl.h"
#include "user.h"

/*
 * The canned responses' area of the store.  Keys:
 *   canned           id(4)                               -> record (canned.h)
 * and the sequence "canned_id" in seqs.db.  The table is at the end.  The
 * responses are few (a desk's staff keeps tens, not thousands): a list and
 * the shortcut's uniqueness are a walk of the database.
 */
enum canned_db { CDB_CANNED, CANNED_NDB };
enum canned_seq { CSEQ_ID, CANNED_NSEQ };

static inline DB *
canned_db(const struct store *s)
{
	return store_db(s, AREA_CANNED, CDB_CANNED);
}

/* The placeholders, as written in a body and as the engine's names. */
static const struct {
	const char *name, *var;
} placeholders[] = {
	{ "customer.name", "customer_name" },
	{ "customer.email", "customer_email" },
	{ "ticket.number", "ticket_number" },
	{ "ticket.subject", "ticket_subject" },
	{ "agent.name", "agent_name" },
};

/* --- The body as a template ------------------------------------------ */

/* Fill why (field "body") and return SUP_EINVAL. */
SUP_PRINTF(2, 3) static sup_err
body_fail(struct canned_why *why, const char *fmt, ...)
{
	va_list ap;

	why->field = "body";
	va_start(ap, fmt);
	vsnprintf(why->text, sizeof(why->text), fmt, ap);
	va_end(ap);
	return SUP_EINVAL;
}

/*
 * The body with each placeholder's name changed to the engine's (names
 * are [A-Za-z0-9_]+ there), into out; SUP_EINVAL with why for a tag
 * that is no placeholder, comment or BI_ name; SUP_ENOMEM.  Only names
 * inside tags change, so the engine's line numbers stay the body's.  A
 * tag left open is passed on for the engine to name.
 */
static sup_err
body_translate(const char *body, struct sbuf *out, struct canned_why *why)
{
	const char *p = body, *open, *close, *t, *colon;
	size_t n, i;

	while ((open = strstr(p, "{{")) != NULL) {
		sbuf_add(out, p, (size_t)(open - p) + 2);
		t = open + 2;
		if ((close = strstr(t, "}}")) == NULL) {
			p = t;
			break;
		}
		n = (size_t)(close - t);
		if (n > 0 && t[0] == '!') {
			/* A comment: as it is. */
		} else if (n > 0 && strchr("#/>=%", t[0]) != NULL) {
			return body_fail(why, "Sections, includes and pragmas "
			    "are not allowed: {{%.*s}}.", (int)(n > 60 ? 60 :
			    n), t);
		} else {
			colon = memchr(t, ':', n);
			size_t nl = colon != NULL ? (size_t)(colon - t) : n;
			for (i = 0; i < SUP_NELEM(placeholders); i++)
				if (strlen(placeholders[i].name) == nl &&
				    memcmp(placeholders[i].name, t, nl) == 0)
					break;
			if (i < SUP_NELEM(placeholders)) {
				sbuf_adds(out, placeholders[i].var);
				sbuf_add(out, t + nl, n - nl + 2);
				p = close + 2;
				continue;
			}
			if (!((nl == 8 && memcmp(t, "BI_SPACE", 8) == 0) ||
			    (nl == 10 && memcmp(t, "BI_NEWLINE", 10) == 0)))
				return body_fail(why, "Unknown placeholder "
				    "{{%.*s}}.", (int)(nl > 60 ? 60 : nl), t);
		}
		sbuf_add(out, t, n + 2);
		p = close + 2;
	}
	sbuf_adds(out, p);
	return out->failed ? SUP_ENOMEM : SUP_OK;
}

/*
 * Parse body as a text template into *t (tmpl_free), or SUP_EINVAL with
 * why naming the problem ("line N: what").
 */
static sup_err
body_parse(const char *body, struct tmpl **t, struct canned_why *why)
{
	struct sbuf b = { 0 };
	char err[200];
	const char *what;
	sup_err e;

	*t = NULL;
	if ((e = body_translate(body, &b, why)) != SUP_OK)
		goto out;
	e = tmpl_parse_buf(NULL, "canned.txt", b.p ? b.p : "", b.len, t, err,
	    sizeof(err));
	if (e == SUP_ECONFIG || e == SUP_EINVAL) {
		/* "canned.txt:3: what" -> "line 3: what" */
		what = strncmp(err, "canned.txt:", 11) == 0 ? err + 11 : err;
		e = body_fail(why, "Not a valid template: line %s.", what);
	}
out:
	free(b.p);
	return e;
}

sup_err
canned_check(const char *body, struct canned_why *why)
{
	struct tmpl *t;
	sup_err e;

	if ((e = body_parse(body, &t, why)) == SUP_OK)
		tmpl_free(t);
	return e;
}

/* --- Records ----------------------------------------------------------- */

/* A text member of rec, or NULL. */
static const char *
rec_str(json_object *rec, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(rec, name, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

static uint32_t
rec_owner(json_object *rec)
{
	json_object *v;

	return json_object_object_get_ex(rec, "owner", &v) ?
	    (uint32_t)json_object_get_int64(v) : 0;
}

static bool
rec_shared(json_object *rec)
{
	json_object *v;

	return json_object_object_get_ex(rec, "shared", &v) &&
	    json_object_get_boolean(v);
}

/* May u see rec? */
static bool
visible(const struct sup_user *u, json_object *rec)
{
	return rec_shared(rec) || rec_owner(rec) == u->id;
}

/* Is s a shortcut: 1..CANNED_SHORTCUT_MAX of [a-z0-9_-]? */
static bool
shortcut_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CANNED_SHORTCUT_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Is s of min..max characters of UTF-8? */
static bool
text_ok(const char *s, long min, long max)
{
	long n = utf8_len(s, strlen(s));

	return n >= min && n <= max;
}

/* Check the fields in gives: SUP_EINVAL with why, SUP_ENOMEM. */
static sup_err
check_in(const struct canned_in *in, struct canned_why *why)
{
	why->field = NULL;
	why->text[0] = '\0';
	if (in->has_title && (in->title == NULL ||
	    !text_ok(in->title, 1, CANNED_TITLE_MAX))) {
		why->field = "title";
		snprintf(why->text, sizeof(why->text), "Must be 1 to %d "
		    "characters.", CANNED_TITLE_MAX);
		return SUP_EINVAL;
	}
	if (in->has_body && (in->body == NULL ||
	    !text_ok(in->body, 1, CANNED_BODY_MAX))) {
		why->field = "body";
		snprintf(why->text, sizeof(why->text), "Must be 1 to %d "
		    "characters.", CANNED_BODY_MAX);
		return SUP_EINVAL;
	}
	if (in->has_shortcut && in->shortcut != NULL &&
	    !shortcut_ok(in->shortcut)) {
		why->field = "shortcut";
		snprintf(why->text, sizeof(why->text), "1 to %d of a-z, 0-9, "
		    "_ and - only.", CANNED_SHORTCUT_MAX);
		return SUP_EINVAL;
	}
	if (in->has_body)
		return canned_check(in->body, why);
	return SUP_OK;
}

/*
 * Is shortcut taken by another response (not id) of owner, inside txn?
 * SUP_EEXIST with why when it is.
 */
static sup_err
shortcut_free(struct store *s, DB_TXN *txn, uint32_t owner, uint32_t id,
    const char *shortcut, struct canned_why *why)
{
	DBC *c;
	DBT k = { 0 }, d = { 0 };
	json_object *rec;
	const char *sc;
	sup_err e = SUP_OK;
	int rc;

	if ((rc = canned_db(s)->cursor(canned_db(s), txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		if ((e = store_parse(&d, &rec)) != SUP_OK)
			break;
		if (rec_owner(rec) == owner && k.size == 4 &&
		    be32_get(k.data) != id &&
		    (sc = rec_str(rec, "shortcut")) != NULL &&
		    strcmp(sc, shortcut) == 0) {
			why->field = "shortcut";
			snprintf(why->text, sizeof(why->text), "You already "
			    "have a response with this shortcut.");
			e = SUP_EEXIST;
		}
		json_object_put(rec);
		if (e != SUP_OK)
			break;
	}
	if (e == SUP_OK && rc != DB_NOTFOUND)
		e = store_err(rc, "canned shortcut");
	c->close(c);
	return e;
}

/* The event of a change to response id (title: its title now). */
static sup_err
canned_event(struct store *s, DB_TXN *txn, enum event_type type,
    uint32_t actor, uint32_t id, const char *title)
{
	struct event ev;
	sup_err e;

	event_init(&ev, type, actor);
	if ((e = event_data_int(&ev, "canned", id)) == SUP_OK && title != NULL)
		e = event_data_cstr(&ev, "title", title);
	return event_finish(s, txn, &ev, e);
}

/* Set rec's fields from in (the ones it has); false when out of memory. */
static bool
apply_in(json_object *rec, const struct canned_in *in, const char *now)
{
	if (in->has_title && !json_set(rec, "title",
	    json_object_new_string(in->title)))
		return false;
	if (in->has_body && !json_set(rec, "body",
	    json_object_new_string(in->body)))
		return false;
	if (in->has_shortcut && !(in->shortcut != NULL ? json_set(rec,
	    "shortcut", json_object_new_string(in->shortcut)) :
	    json_set_null(rec, "shortcut")))
		return false;
	if (in->has_shared && !json_set(rec, "shared",
	    json_object_new_boolean(in->shared)))
		return false;
	return json_set(rec, "updated_at", json_object_new_string(now));
}

struct write_args {
	const struct sup_user *u;
	const struct canned_in *in;
	struct canned_why *why;
	uint32_t id;		/* update, delete: which; create: made */
	bool remove;
	json_object *result;
};

/* --- Create ---------------------------------------------------------- */

static sup_err
create_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct write_args *a = arg;
	char now[TIME_STRLEN + 1];
	uint8_t key[4];
	json_object *rec;
	int64_t id;
	sup_err e;

	json_object_put(a->result);	/* from a try that was run again */
	a->result = NULL;
	if ((e = store_seq_next(store_seq(s, AREA_CANNED, CSEQ_ID), txn,
	    &id)) != SUP_OK)
		return e;
	a->id = (uint32_t)id;
	if (a->in->has_shortcut && a->in->shortcut != NULL &&
	    (e = shortcut_free(s, txn, a->u->id, a->id, a->in->shortcut,
	    a->why)) != SUP_OK)
		return e;
	time_format(time_now_us(), now);
	if ((rec = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if (!json_set(rec, "id", json_object_new_int64(id)) ||
	    !json_set(rec, "owner", json_object_new_int64(a->u->id)) ||
	    !json_set(rec, "title", json_object_new_string(a->in->title)) ||
	    !json_set(rec, "body", json_object_new_string(a->in->body)) ||
	    !json_set_null(rec, "shortcut") ||
	    !json_set(rec, "shared", json_object_new_boolean(0)) ||
	    !json_set(rec, "created_at", json_object_new_string(now)) ||
	    !apply_in(rec, a->in, now)) {
		json_object_put(rec);
		return SUP_ENOMEM;
	}
	be32_put(key, a->id);
	if ((e = store_put(canned_db(s), txn, key, sizeof(key), rec,
	    DB_NOOVERWRITE)) == SUP_OK)
		e = canned_event(s, txn, EV_CANNED_CREATED, a->u->id, a->id,
		    a->in->title);
	if (e == SUP_OK)
		a->result = rec;
	else
		json_object_put(rec);
	return e;
}

sup_err
canned_create(struct store *s, const struct sup_user *u,
    const struct canned_in *in, struct canned_why *why, json_object **out)
{
	struct write_args a = { .u = u, .in = in, .why = why };
	sup_err e;

	*out = NULL;
	if (!user_is_staff(u) || (in->has_shared && in->shared &&
	    u->role != ROLE_ADMIN))
		return SUP_EFORBIDDEN;
	if ((e = check_in(in, why)) != SUP_OK)
		return e;
	if (!in->has_title || !in->has_body) {
		why->field = in->has_title ? "body" : "title";
		snprintf(why->text, sizeof(why->text), "This field is "
		    "required.");
		return SUP_EINVAL;
	}
	return store_run_json(s, 0, create_txn, &a, &a.result, out);
}

/* --- Read -------------------------------------------------------------- */

/* Response id, if u may see it (flags: DB_RMW for an update). */
static sup_err
load(struct store *s, DB_TXN *txn, const struct sup_user *u, uint32_t id,
    uint32_t flags, json_object **out)
{
	uint8_t key[4];
	sup_err e;

	*out = NULL;
	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	be32_put(key, id);
	if ((e = store_get(canned_db(s), txn, key, sizeof(key), flags, out)) !=
	    SUP_OK)
		return e;
	if (!visible(u, *out)) {
		json_object_put(*out);
		*out = NULL;
		return SUP_ENOTFOUND;
	}
	return SUP_OK;
}

sup_err
canned_get(struct store *s, const struct sup_user *u, uint32_t id,
    json_object **out)
{
	return load(s, NULL, u, id, 0, out);
}

/* qsort: by title (any case), then by title, then by id. */
static int
by_title(const void *x, const void *y)
{
	json_object *a = *(json_object *const *)x;
	json_object *b = *(json_object *const *)y;
	const char *ta = rec_str(a, "title"), *tb = rec_str(b, "title");
	json_object *v;
	int64_t ia = 0, ib = 0;
	int c;

	if ((c = strcasecmp(ta ? ta : "", tb ? tb : "")) != 0 ||
	    (c = strcmp(ta ? ta : "", tb ? tb : "")) != 0)
		return c;
	if (json_object_object_get_ex(a, "id", &v))
		ia = json_object_get_int64(v);
	if (json_object_object_get_ex(b, "id", &v))
		ib = json_object_get_int64(v);
	return ia < ib ? -1 : ia > ib;
}

sup_err
canned_list(struct store *s, const struct sup_user *u, json_object **out)
{
	DBC *c;
	DBT k = { 0 }, d = { 0 };
	json_object *arr, *rec;
	sup_err e = SUP_OK;
	int rc;

	*out = NULL;
	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	if ((arr = json_object_new_array()) == NULL)
		return SUP_ENOMEM;
	if ((rc = canned_db(s)->cursor(canned_db(s), NULL, &c,
	    DB_READ_COMMITTED)) != 0) {
		json_object_put(arr);
		return store_err(rc, "cursor");
	}
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		if ((e = store_parse(&d, &rec)) != SUP_OK)
			break;
		if (!visible(u, rec)) {
			json_object_put(rec);
			continue;
		}
		if (json_object_array_add(arr, rec) != 0) {
			json_object_put(rec);
			e = SUP_ENOMEM;
			break;
		}
	}
	if (e == SUP_OK && rc != DB_NOTFOUND)
		e = store_err(rc, "canned list");
	c->close(c);
	if (e != SUP_OK) {
		json_object_put(arr);
		return e;
	}
	json_object_array_sort(arr, by_title);
	*out = arr;
	return SUP_OK;
}

/* --- Update, delete ---------------------------------------------------- */

static sup_err
change_txn(struct store *s, DB_TXN *txn, void *arg)
{
	struct write_args *a = arg;
	char now[TIME_STRLEN + 1];
	uint8_t key[4];
	json_object *rec;
	const char *title;
	DBT k = { .data = key, .size = sizeof(key) };
	sup_err e;
	int rc;

	json_object_put(a->result);	/* from a try that was run again */
	a->result = NULL;
	if ((e = load(s, txn, a->u, a->id, DB_RMW, &rec)) != SUP_OK)
		return e;
	if ((rec_shared(rec) || (a->in != NULL && a->in->has_shared &&
	    a->in->shared)) && a->u->role != ROLE_ADMIN) {
		e = SUP_EFORBIDDEN;
		goto out;
	}
	be32_put(key, a->id);
	if (a->remove) {
		if ((rc = canned_db(s)->del(canned_db(s), txn, &k, 0)) != 0)
			e = store_err(rc, "canned delete");
		else
			e = canned_event(s, txn, EV_CANNED_DELETED, a->u->id,
			    a->id, rec_str(rec, "title"));
		goto out;
	}
	if (a->in->has_shortcut && a->in->shortcut != NULL &&
	    (e = shortcut_free(s, txn, rec_owner(rec), a->id,
	    a->in->shortcut, a->why)) != SUP_OK)
		goto out;
	time_format(time_now_us(), now);
	if (!apply_in(rec, a->in, now)) {
		e = SUP_ENOMEM;
		goto out;
	}
	title = rec_str(rec, "title");
	if ((e = store_put(canned_db(s), txn, key, sizeof(key), rec, 0)) ==
	    SUP_OK && (e = canned_event(s, txn, EV_CANNED_UPDATED, a->u->id,
	    a->id, title)) == SUP_OK) {
		a->result = rec;
		return SUP_OK;
	}
out:
	json_object_put(rec);
	return e;
}

sup_err
canned_update(struct store *s, const struct sup_user *u, uint32_t id,
    const struct canned_in *in, struct canned_why *why, json_object **out)
{
	struct write_args a = { .u = u, .in = in, .why = why, .id = id };
	sup_err e;

	*out = NULL;
	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	if ((e = check_in(in, why)) != SUP_OK)
		return e;
	return store_run_json(s, 0, change_txn, &a, &a.result, out);
}

sup_err
canned_delete(struct store *s, const struct sup_user *u, uint32_t id)
{
	struct write_args a = { .u = u, .id = id, .remove = true };
	json_object *none = NULL;

	if (!user_is_staff(u))
		return SUP_EFORBIDDEN;
	return store_run_json(s, 0, change_txn, &a, &a.result, &none);
}

/* --- Render ------------------------------------------------------------ */

/* A user's name as shown: the display name, else the username. */
static const char *
name_of(json_object *rec)
{
	const char *n = rec_str(rec, "display_name");

	if (n == NULL || *n == '\0')
		n = rec_str(rec, "username");
	return n != NULL ? n : "";
}

/*
 * The context of a render: the placeholders' values for ticket t (its
 * customer read from the store) and agent u, into *out (new).
 */
static sup_err
render_context(struct store *s, const struct sup_user *u,
    const struct record_ticket *t, json_object **out)
{
	json_object *ctx, *cust = NULL;
	const char *email;
	sup_err e;

	*out = NULL;
	if (t->user != 0 && (e = user_get(s, NULL, t->user, &cust)) != SUP_OK &&
	    e != SUP_ENOTFOUND)
		return e;
	email = cust != NULL ? rec_str(cust, "email") : NULL;
	if ((ctx = json_object_new_object()) == NULL ||
	    !json_set(ctx, "customer_name", json_object_new_string(cust ?
	    name_of(cust) : "")) ||
	    !json_set(ctx, "customer_email", json_object_new_string(email ?
	    email : "")) ||
	    !json_set(ctx, "ticket_number", json_object_new_int64(t->number)) ||
	    !json_set(ctx, "ticket_subject", json_object_new_string_len(
	    t->subject ? t->subject : "", (int)t->subject_len)) ||
	    !json_set(ctx, "agent_name", json_object_new_string(
	    name_of(u->rec)))) {
		json_object_put(ctx);
		json_object_put(cust);
		return SUP_ENOMEM;
	}
	json_object_put(cust);
	*out = ctx;
	return SUP_OK;
}

sup_err
canned_render(struct store *s, const struct sup_user *u, uint32_t id,
    const uint8_t ticket[UUID_LEN], struct canned_why *why, char **out)
{
	struct record_ticket t;
	struct sbuf b = { 0 };
	struct tmpl *tp = NULL;
	json_object *rec = NULL, *ctx = NULL;
	const char *body;
	sup_err e;

	*out = NULL;
	memset(&t, 0, sizeof(t));
	why->field = NULL;
	why->text[0] = '\0';
	if ((e = canned_get(s, u, id, &rec)) != SUP_OK)
		goto out;
	if ((e = ticket_load(s, NULL, u, ticket, 0, &t)) != SUP_OK)
		goto out;
	body = rec_str(rec, "body");
	if ((e = body_parse(body ? body : "", &tp, why)) != SUP_OK ||
	    (e = render_context(s, u, &t, &ctx)) != SUP_OK ||
	    (e = tmpl_render(tp, ctx, tmpl_sbuf_write, &b)) != SUP_OK)
		goto out;
	if (!b.failed && b.p == NULL)
		b.p = strdup("");	/* it rendered empty (a comment) */
	if (b.failed || b.p == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	*out = b.p;
	b.p = NULL;
out:
	free(b.p);
	tmpl_free(tp);
	json_object_put(ctx);
	json_object_put(rec);
	record_ticket_clear(&t);
	return e;
}

/* --- The area ---------------------------------------------------------- */

static const struct store_db canned_dbs[CANNED_NDB] = {
	[CDB_CANNED] = { .file = "canned.db", .type = DB_BTREE },
};

static const struct store_seq canned_seqs[CANNED_NSEQ] = {
	[CSEQ_ID] = { .name = "canned_id", .in = "seqs.db" },
};

const struct store_area canned_area = {
	.name = "canned",
	.db = canned_dbs,
	.ndb = CANNED_NDB,
	.seq = canned_seqs,
	.nseq = CANNED_NSEQ,
};
