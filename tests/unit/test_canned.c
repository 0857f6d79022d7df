/*
 * test_canned.c - canned responses (lib/desk/canned.c) in a scratch
 * store: create, get, list (what each agent sees, by title), update and
 * delete under the sharing rules, the limits of each field, the
 * shortcut's uniqueness per owner, the body's check at save (unknown
 * placeholder, a template that does not parse, a section), render for a
 * ticket with every placeholder, and the events of each change.  The
 * store must pass store_verify at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "areas.h"
#include "canned.h"
#include "conf.h"
#include "event.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "user.h"
#include "util.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user cust, ag1, ag2, adm;

static void
make_user(const char *name, const char *display, enum user_role role,
    struct sup_user *u)
{
	char email[64];
	json_object *rec;
	uint32_t id;

	snprintf(email, sizeof(email), "%s@example.com", name);
	if (user_create(&st, name, email, display, role, "secret", &id) !=
	    SUP_OK || user_get(&st, NULL, id, &rec) != SUP_OK ||
	    user_from_record(u, rec) != SUP_OK)
		bail_out("cannot make user %s", name);
}

static void
report_line(void *ctx, const char *line)
{
	(void)ctx;
	diag("verify: %s", line);
}

static const char *
str_of(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && v != NULL ?
	    json_object_get_string(v) : NULL;
}

static uint32_t
id_of(json_object *o)
{
	json_object *v;

	return json_object_object_get_ex(o, "id", &v) ?
	    (uint32_t)json_object_get_int64(v) : 0;
}

/* Create a response as u; its id, or 0 on error (e in *ep). */
static uint32_t
make(const struct sup_user *u, const char *title, const char *body,
    const char *shortcut, bool shared, sup_err *ep, struct canned_why *why)
{
	struct canned_in in = { .title = title, .body = body,
		.shortcut = shortcut, .shared = shared, .has_title = true,
		.has_body = true, .has_shortcut = shortcut != NULL,
		.has_shared = true };
	json_object *o = NULL;
	uint32_t id = 0;

	*ep = canned_create(&st, u, &in, why, &o);
	if (*ep == SUP_OK)
		id = id_of(o);
	json_object_put(o);
	return id;
}

/* The titles of what u sees, joined by "|". */
static void
titles(const struct sup_user *u, char *buf, size_t n)
{
	json_object *arr = NULL;

	buf[0] = '\0';
	if (canned_list(&st, u, &arr) != SUP_OK)
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *t = str_of(json_object_array_get_idx(arr, i),
		    "title");
		if (i > 0)
			strncat(buf, "|", n - strlen(buf) - 1);
		strncat(buf, t ? t : "?", n - strlen(buf) - 1);
	}
	json_object_put(arr);
}

/* event_read callback: keep the last event read, parsed. */
static sup_err
keep_last(void *ctx, int64_t seq, const char *text, size_t len)
{
	json_object **last = ctx;

	char *c = strndup(text, len);

	(void)seq;
	json_object_put(*last);
	*last = c != NULL ? json_tokener_parse(c) : NULL;
	free(c);
	return *last != NULL ? SUP_OK : SUP_EDB;
}

/* The type of the last event of the log, into buf. */

static const char *
last_event(char *buf, size_t n)
{
	json_object *ev = NULL;
	const char *t;

	buf[0] = '\0';
	if (event_read(&st, 1, 0, keep_last, &ev, NULL) == SUP_OK &&
	    (t = str_of(ev, "type")) != NULL)
		snprintf(buf, n, "%s", t);
	json_object_put(ev);
	return buf;
}

static void
test_crud(void)
{
	struct canned_why why;
	struct canned_in in;
	json_object *o = NULL;
	char buf[512], big[CANNED_BODY_MAX + 2];
	uint32_t p1, p2, sh, x;
	sup_err e;

	p1 = make(&ag1, "Thanks", "Thank you!", "thanks", false, &e, &why);
	is_err(e, SUP_OK, "agent 1 makes a personal response");
	is_str(last_event(buf, sizeof(buf)), "canned.created",
	    "  its event");
	p2 = make(&ag2, "Apology", "Sorry.", "thanks", false, &e, &why);
	is_err(e, SUP_OK, "agent 2 takes the same shortcut: per owner");
	make(&ag1, "Again", "x", "thanks", false, &e, &why);
	is_err(e, SUP_EEXIST, "agent 1's second \"thanks\": SUP_EEXIST");
	is_str(why.field, "shortcut", "  naming shortcut");
	make(&ag1, "Shared", "x", NULL, true, &e, &why);
	is_err(e, SUP_EFORBIDDEN, "an agent cannot make a shared one");
	sh = make(&adm, "Greeting", "Hello {{customer.name}}", "hi", true, &e,
	    &why);
	is_err(e, SUP_OK, "an admin makes a shared one");
	make(&cust, "Mine", "x", NULL, false, &e, &why);
	is_err(e, SUP_EFORBIDDEN, "a customer cannot");

	/* Limits. */
	make(&ag1, "", "x", NULL, false, &e, &why);
	is_err(e, SUP_EINVAL, "empty title");
	is_str(why.field, "title", "  naming title");
	memset(buf, 'a', 201);
	buf[201] = '\0';
	make(&ag1, buf, "x", NULL, false, &e, &why);
	is_err(e, SUP_EINVAL, "201-character title");
	buf[200] = '\0';
	x = make(&ag1, buf, "x", NULL, false, &e, &why);
	is_err(e, SUP_OK, "200-character title");
	is_err(canned_delete(&st, &ag1, x), SUP_OK, "  deleted");
	is_str(last_event(buf, sizeof(buf)), "canned.deleted",
	    "  its event");
	memset(big, 'b', CANNED_BODY_MAX + 1);
	big[CANNED_BODY_MAX + 1] = '\0';
	make(&ag1, "Big", big, NULL, false, &e, &why);
	is_err(e, SUP_EINVAL, "10001-character body");
	is_str(why.field, "body", "  naming body");
	make(&ag1, "T", "x", "Bad!", false, &e, &why);
	is_err(e, SUP_EINVAL, "shortcut with capitals and !");
	is_str(why.field, "shortcut", "  naming shortcut");
	memset(buf, 'z', 51);
	buf[51] = '\0';
	make(&ag1, "T", "x", buf, false, &e, &why);
	is_err(e, SUP_EINVAL, "51-character shortcut");

	/* The body's check. */
	make(&ag1, "T", "Hi {{customer.phone}}", NULL, false, &e, &why);
	is_err(e, SUP_EINVAL, "unknown placeholder refused at save");
	ok(strstr(why.text, "customer.phone") != NULL, "  named: %s",
	    why.text);
	make(&ag1, "T", "Hi {{customer.name", NULL, false, &e, &why);
	is_err(e, SUP_EINVAL, "unterminated tag");
	ok(strstr(why.text, "line 1") != NULL, "  with its line: %s",
	    why.text);
	make(&ag1, "T", "{{#ticket}}x{{/ticket}}", NULL, false, &e, &why);
	is_err(e, SUP_EINVAL, "a section refused");
	make(&ag1, "T", "{{customer.name:q}}", NULL, false, &e, &why);
	is_err(e, SUP_EINVAL, "an unknown modifier");
	is_err(canned_check("{{! note }}{{agent.name:h}}{{BI_SPACE}}", &why),
	    SUP_OK, "comment, modifier and BI_SPACE accepted");

	/* What each sees, by title. */
	titles(&ag1, buf, sizeof(buf));
	is_str(buf, "Greeting|Thanks", "agent 1 sees the shared and its own");
	titles(&ag2, buf, sizeof(buf));
	is_str(buf, "Apology|Greeting", "agent 2 likewise");
	is_err(canned_get(&st, &ag2, p1, &o), SUP_ENOTFOUND,
	    "another's personal one: SUP_ENOTFOUND");
	is_err(canned_get(&st, &ag2, 9999, &o), SUP_ENOTFOUND, "no such id");
	is_err(canned_get(&st, &ag2, sh, &o), SUP_OK, "a shared one: seen");
	json_object_put(o);

	/* Changes. */
	memset(&in, 0, sizeof(in));
	in.title = "Thanks a lot";
	in.has_title = true;
	is_err(canned_update(&st, &ag1, p1, &in, &why, &o), SUP_OK,
	    "owner renames");
	is_str(str_of(o, "title"), "Thanks a lot", "  new title");
	is_str(str_of(o, "shortcut"), "thanks", "  shortcut kept");
	json_object_put(o);
	is_str(last_event(buf, sizeof(buf)), "canned.updated", "  its event");
	is_err(canned_update(&st, &ag2, p1, &in, &why, &o), SUP_ENOTFOUND,
	    "another agent: SUP_ENOTFOUND");
	is_err(canned_update(&st, &ag1, sh, &in, &why, &o), SUP_EFORBIDDEN,
	    "an agent on a shared one: SUP_EFORBIDDEN");
	is_err(canned_delete(&st, &ag1, sh), SUP_EFORBIDDEN,
	    "  nor delete it");
	memset(&in, 0, sizeof(in));
	in.shared = true;
	in.has_shared = true;
	is_err(canned_update(&st, &ag1, p1, &in, &why, &o), SUP_EFORBIDDEN,
	    "an agent cannot share its own");
	memset(&in, 0, sizeof(in));
	in.body = "{{nope}}";
	in.has_body = true;
	is_err(canned_update(&st, &adm, sh, &in, &why, &o), SUP_EINVAL,
	    "an unknown placeholder refused on update");
	in.body = "Hello {{customer.name}}, {{agent.name}} here.";
	is_err(canned_update(&st, &adm, sh, &in, &why, &o), SUP_OK,
	    "an admin changes a shared one");
	json_object_put(o);
	memset(&in, 0, sizeof(in));
	in.has_shortcut = true;
	is_err(canned_update(&st, &ag2, p2, &in, &why, &o), SUP_OK,
	    "shortcut cleared");
	ok(o != NULL && str_of(o, "shortcut") == NULL, "  null");
	json_object_put(o);
	is_err(canned_delete(&st, &ag2, p1), SUP_ENOTFOUND,
	    "another's delete: SUP_ENOTFOUND");
	is_err(canned_delete(&st, &ag2, p2), SUP_OK, "owner deletes");
	is_err(canned_get(&st, &ag2, p2, &o), SUP_ENOTFOUND, "  gone");
}

static void
test_render(void)
{
	struct ticket_new tn = { .subject = "Printer on fire",
		.subject_len = 15, .content = "help", .content_len = 4,
		.priority = PRI_NORMAL, .channel = CH_API };
	struct canned_why why;
	json_object *o = NULL;
	char *out = NULL, want[256];
	uint8_t none[UUID_LEN] = { 0 };
	uint32_t id;
	sup_err e;

	if (ticket_create(&st, &conf, &cust, &tn, &o) != SUP_OK)
		bail_out("ticket_create");
	json_object_put(o);
	id = make(&ag1, "All", "Dear {{customer.name}} <{{customer.email}}>, "
	    "ticket #{{ticket.number}} \"{{ticket.subject}}\" & more -- "
	    "{{agent.name}}", NULL, false, &e, &why);
	is_err(e, SUP_OK, "a response with every placeholder");
	is_err(canned_render(&st, &ag1, id, tn.uuid, &why, &out), SUP_OK,
	    "rendered for the ticket");
	snprintf(want, sizeof(want), "Dear Carol Customer <cust@example.com>, "
	    "ticket #1 \"Printer on fire\" & more -- ag1");
	is_str(out, want, "  every placeholder filled, nothing escaped");
	free(out);
	out = NULL;
	is_err(canned_render(&st, &ag2, id, tn.uuid, &why, &out),
	    SUP_ENOTFOUND, "another agent's: SUP_ENOTFOUND");
	is_err(canned_render(&st, &ag1, id, none, &why, &out), SUP_ENOTFOUND,
	    "no such ticket: SUP_ENOTFOUND");
	id = make(&ag1, "Comment", "{{! only a comment }}", NULL, false, &e,
	    &why);
	is_err(canned_render(&st, &ag1, id, tn.uuid, &why, &out), SUP_OK,
	    "a body that renders empty");
	is_str(out, "", "  empty");
	free(out);
}

int
main(void)
{
	long problems = 0;

	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_store_conf(dir, sizeof(dir), &conf, "max_tickets_per_user = 0\n");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	make_user("cust", "Carol Customer", ROLE_USER, &cust);
	make_user("ag1", NULL, ROLE_AGENT, &ag1);
	make_user("ag2", "Agent Two", ROLE_AGENT, &ag2);
	make_user("adm", NULL, ROLE_ADMIN, &adm);
	test_crud();
	test_render();
	user_clear(&cust);
	user_clear(&ag1);
	user_clear(&ag2);
	user_clear(&adm);
	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify");
	is_int(problems, 0, "  no problems");
	tap_rmtree(dir);
	return done_testing();
}
