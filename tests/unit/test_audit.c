/*
 * test_audit.c - the audit log (lib/desk/audit.c) and what it records of
 * the messages staff edit and delete (lib/desk/msg.c: msg_edit,
 * msg_delete): the rows and their address (event_origin), the filters
 * and paging of audit_list, tickets by number, the ticket's counts after
 * a deletion, the codec's edited record, refusals, and a store that
 * verify finds whole.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "areas.h"
#include "audit.h"
#include "conf.h"
#include "event.h"
#include "msg.h"
#include "record.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "user.h"
#include "util.h"
#include "view.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user alice, agent, admin;

static void
make_user(const char *name, enum user_role role, struct sup_user *u)
{
	char email[64];
	json_object *rec;
	uint32_t id;

	snprintf(email, sizeof(email), "%s@example.com", name);
	if (user_create(&st, name, email, NULL, role, "secret", &id) != SUP_OK ||
	    user_get(&st, NULL, id, &rec) != SUP_OK ||
	    user_from_record(u, rec) != SUP_OK)
		bail_out("cannot make user %s", name);
}

/* A view's raw object parsed into members (the old one released). */
static json_object *
expand(json_object *o)
{
	json_object *x = view_expand(o);

	json_object_put(o);
	if (x == NULL)
		bail_out("view_expand");
	return x;
}

static const char *
str(json_object *o, const char *k)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
}

static int64_t
num(json_object *o, const char *k)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return json_object_get_int64(v);
}

/* A ticket of alice's, its uuid into uuid; its first message's too. */
static json_object *
open_ticket(const char *subject, uint8_t uuid[UUID_LEN])
{
	struct ticket_new in = { .subject = subject,
		.subject_len = strlen(subject), .content = "First.",
		.content_len = 6, .priority = PRI_NORMAL };
	json_object *t;

	if (ticket_create(&st, &conf, &alice, &in, &t) != SUP_OK)
		bail_out("ticket_create");
	t = expand(t);
	memcpy(uuid, in.uuid, UUID_LEN);
	return t;
}

static json_object *
post(const struct sup_user *u, const uint8_t t[UUID_LEN], const char *text,
    bool internal, uint8_t uuid[UUID_LEN])
{
	json_object *m;

	if (msg_post(&st, u, t, text, strlen(text), internal, &m) != SUP_OK)
		bail_out("msg_post");
	m = expand(m);
	if (!uuid_parse(str(m, "uuid"), UUID_STRLEN, uuid))
		bail_out("message uuid");
	return m;
}

/* The rows of q (limit 200 unless set), newest first. */
static json_object *
rows(struct audit_query q)
{
	uint8_t next[AUDIT_CURSOR_LEN];
	json_object *r;
	bool more;

	if (q.limit == 0)
		q.limit = AUDIT_PAGE_MAX;
	if (q.to_us == 0)
		q.to_us = INT64_MAX;
	if (q.from_us == 0)
		q.from_us = INT64_MIN;
	if (audit_list(&st, &q, &r, &more, next) != SUP_OK)
		bail_out("audit_list");
	return r;
}

static void
test_codec(void)
{
	uint8_t key[MSG_KEY_LEN], t[UUID_LEN];
	struct sbuf a = { 0 }, b = { 0 };
	uint32_t user;
	bool internal;
	size_t cut;
	char *content;
	size_t n;

	randombytes_buf(t, sizeof(t));
	msg_key_new(key, t, 1700000000000000LL);
	record_message_encode(key, 42, "old \"text\"", 10, "<p>old</p>", true,
	    false, &a);
	ok(!a.failed, "a message encoded");
	is_err(record_message_edit(a.p, a.len, "new\ntext", 8, "<p>new</p>",
	    1700000001000000LL, &b), SUP_OK, "record_message_edit");
	ok(record_message_tail(b.p, b.len, &cut, &user, &internal),
	    "the edited record's tail reads by position");
	is_int(user, 42, "  its author");
	ok(internal, "  still internal");
	is_err(record_message_content(b.p, b.len, &content, &n), SUP_OK,
	    "record_message_content");
	is_str(content, "new\ntext", "  the new content");
	free(content);
	ok(strstr(b.p, "\"edited_at\":\"2023-11-14T22:13:21.000000Z\",\"user\":42}")
	    != NULL, "  edited_at right before the author: %s", b.p);
	ok(strncmp(b.p, "{\"uuid\":", 8) == 0, "  the fields in their order");
	is_err(record_message_edit("{}", 2, "x", 1, "x", 1, &a), SUP_EDB,
	    "no message: SUP_EDB");
	free(a.p);
	free(b.p);
}

static void
test_edit_delete(void)
{
	uint8_t t[UUID_LEN], m1[UUID_LEN], m2[UUID_LEN], n1[UUID_LEN];
	uint8_t zero[UUID_LEN] = { 0 }, other[UUID_LEN];
	json_object *tk, *m, *r, *row;

	json_object_put(open_ticket("Edits", t));
	json_object_put(open_ticket("Other", other));
	json_object_put(post(&agent, t, "Reply.", false, m1));
	json_object_put(post(&alice, t, "Thanks.", false, m2));
	json_object_put(post(&agent, t, "Note.", true, n1));

	is_err(msg_edit(&st, &alice, t, m1, "x", 1, &m), SUP_EFORBIDDEN,
	    "a customer may not edit");
	is_err(msg_delete(&st, &alice, t, m2), SUP_EFORBIDDEN,
	    "a customer may not delete, even their own");
	is_err(msg_edit(&st, &agent, t, zero, "x", 1, &m), SUP_ENOTFOUND,
	    "an unknown message");
	is_err(msg_edit(&st, &agent, other, m1, "x", 1, &m), SUP_ENOTFOUND,
	    "a message of another ticket");
	is_err(msg_delete(&st, &agent, zero, m1), SUP_ENOTFOUND,
	    "an unknown ticket");

	event_origin(&st, "192.0.2.7");
	is_err(msg_edit(&st, &agent, t, m1, "Reply, *fixed*.", 15, &m), SUP_OK,
	    "staff edit");
	m = expand(m);
	is_str(str(m, "content"), "Reply, *fixed*.", "  the new content");
	ok(strstr(str(m, "content_html"), "<em>fixed</em>") != NULL,
	    "  rendered");
	ok(*str(m, "edited_at") != '\0', "  edited_at");
	json_object_put(m);
	r = rows((struct audit_query){ .ticket = t });
	is_int(json_object_array_length(r), 1, "one audit row");
	row = json_object_array_get_idx(r, 0);
	is_str(str(row, "type"), "message.edited", "  message.edited");
	is_str(str(row, "addr"), "192.0.2.7", "  from the origin's address");
	is_str(str(row, "actor_name"), "agent", "  by the agent");
	json_object_put(r);

	is_err(msg_delete(&st, &admin, t, m2), SUP_OK, "staff delete");
	is_err(msg_delete(&st, &admin, t, m2), SUP_ENOTFOUND, "  once");
	if (ticket_show(&st, &agent, t, &tk) != SUP_OK)
		bail_out("ticket_show");
	tk = expand(tk);
	is_int(num(tk, "message_count"), 3, "  staff count 3 (2 public, 1 note)");
	is_int(num(tk, "awaiting_staff_count"), 0, "  nothing awaits staff");
	is_int(num(tk, "unanswered_messages_count"), 1,
	    "  one reply for the customer to read");
	json_object_put(tk);
	is_err(msg_delete(&st, &agent, t, n1), SUP_OK, "delete the note");
	is_err(msg_delete(&st, &agent, t, m1), SUP_OK, "delete the reply");
	if (ticket_show(&st, &alice, t, &tk) != SUP_OK)
		bail_out("ticket_show");
	tk = expand(tk);
	is_int(num(tk, "message_count"), 1, "  the first message left");
	is_int(num(tk, "awaiting_staff_count"), 1, "  it awaits staff");
	is_int(num(tk, "unanswered_messages_count"), 0, "  no reply to read");
	json_object_put(tk);

	event_origin(&st, NULL);
	is_err(msg_edit(&st, &agent, t, m1, "x", 1, &m), SUP_ENOTFOUND,
	    "a deleted message cannot be edited");
	r = rows((struct audit_query){ .ticket = t });
	is_int(json_object_array_length(r), 4, "four rows for the ticket");
	is_str(str(json_object_array_get_idx(r, 0), "type"), "message.deleted",
	    "  newest first");
	json_object_put(r);
	r = rows((struct audit_query){ .ticket = t, .message = m2 });
	is_int(json_object_array_length(r), 1, "one row for the message");
	json_object_put(r);
}

static void
test_rows(void)
{
	uint8_t t[UUID_LEN], next[AUDIT_CURSOR_LEN], got[UUID_LEN];
	struct audit_query q = { .from_us = INT64_MIN, .to_us = INT64_MAX };
	const char *prio[] = { "low", "high", "urgent", "normal", "low" };
	json_object *tk, *all, *page, *r;
	int64_t mid;
	bool more;
	char numtext[24];

	tk = open_ticket("Rows", t);
	snprintf(numtext, sizeof(numtext), "%" PRId64, num(tk, "number"));
	json_object_put(tk);
	for (size_t i = 0; i < SUP_NELEM(prio); i++) {
		struct ticket_patch ch = { .status = -1,
			.priority = ticket_priority_from(prio[i]) };
		event_origin(&st, i % 2 ? "198.51.100.1" : NULL);
		if (ticket_update(&st, &agent, t, &ch, &tk) != SUP_OK)
			bail_out("ticket_update");
		json_object_put(tk);
	}
	event_origin(&st, NULL);
	all = rows((struct audit_query){ .ticket = t });
	is_int(json_object_array_length(all), 5, "five rows");
	is_str(str(json_object_array_get_idx(all, 0), "addr"), "",
	    "  none without an origin");
	is_str(str(json_object_array_get_idx(all, 1), "addr"), "198.51.100.1",
	    "  the origin's address");
	/* Paging: one at a time, through the places given. */
	q.ticket = t;
	q.limit = 2;
	size_t seen = 0;
	do {
		if (audit_list(&st, &q, &page, &more, next) != SUP_OK)
			bail_out("audit_list");
		for (size_t i = 0; i < json_object_array_length(page); i++)
			ok(num(json_object_array_get_idx(page, i), "seq") ==
			    num(json_object_array_get_idx(all, seen + i), "seq"),
			    "  page row %zu", seen + i);
		seen += json_object_array_length(page);
		json_object_put(page);
		q.before = next;
	} while (more);
	is_int(seen, 5, "paging gave every row once");
	/* The time bounds: [from, to). */
	if (!time_parse(str(json_object_array_get_idx(all, 2), "at"), &mid))
		bail_out("at");
	r = rows((struct audit_query){ .ticket = t, .from_us = mid });
	is_int(json_object_array_length(r), 3, "from: it and the newer");
	json_object_put(r);
	r = rows((struct audit_query){ .ticket = t, .to_us = mid });
	is_int(json_object_array_length(r), 2, "to: the older");
	json_object_put(r);
	r = rows((struct audit_query){ .actor = agent.id, .ticket = t });
	is_int(json_object_array_length(r), 5, "actor and ticket");
	json_object_put(r);
	r = rows((struct audit_query){ .actor = admin.id, .ticket = t });
	is_int(json_object_array_length(r), 0, "another actor: none");
	json_object_put(r);
	json_object_put(all);

	q.limit = 0;
	is_err(audit_list(&st, &q, &page, &more, next), SUP_EINVAL, "limit 0");
	q.limit = AUDIT_PAGE_MAX + 1;
	is_err(audit_list(&st, &q, &page, &more, next), SUP_EINVAL,
	    "limit over the most");
	is_err(audit_ticket_of(&st, numtext, strlen(numtext), got), SUP_OK,
	    "a ticket by number");
	ok(memcmp(got, t, UUID_LEN) == 0, "  its uuid");
	is_err(audit_ticket_of(&st, "999999", 6, got), SUP_ENOTFOUND,
	    "an unknown number");
	is_err(audit_ticket_of(&st, "abc", 3, got), SUP_EINVAL, "no number");
	is_err(audit_ticket_of(&st, "0", 1, got), SUP_EINVAL, "0");
}

static void
report_line(void *ctx, const char *line)
{
	(void)ctx;
	diag("verify: %s", line);
}

int
main(void)
{
	long problems = -1;

	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_store_conf(dir, sizeof(dir), &conf, "max_tickets_per_user = 0\n");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	make_user("alice", ROLE_USER, &alice);
	make_user("agent", ROLE_AGENT, &agent);
	make_user("admin", ROLE_ADMIN, &admin);
	test_codec();
	test_edit_delete();
	test_rows();
	user_clear(&alice);
	user_clear(&agent);
	user_clear(&admin);
	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify");
	is_int(problems, 0, "  no problem");
	conf_free(&conf);
	tap_rmtree(dir);
	return done_testing();
}
