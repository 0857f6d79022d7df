/*
 * test_ticket.c - tickets and their messages (lib/desk/ticket.c, lib/desk/msg.c,
 * lib/desk/view.c) in a scratch store with three users: two customers and an
 * agent.  What each of them sees, the status machine of docs/api.md, the
 * per-user limit, lists (pages of any size against the details of their
 * items), the message thread and its ETag, and the pages'
 * expansion of the views' raw objects.  The store must
 * pass store_verify at the end.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sodium.h>

#include "conf.h"
#include "jtext.h"
#include "msg.h"
#include "req.h"
#include "areas.h"
#include "counter.h"
#include "store.h"
#include "sup.h"
#include "textsearch.h"
#include "ticket.h"
#include "../../cgi-bin/tquery.h"
#include "user.h"
#include "util.h"
#include "view.h"

#include "tap.h"

#define LIMIT 3		/* max_tickets_per_user in this test's conf */

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user alice, bob, agent;	/* customer, customer, staff */

/* --- Fixture ---------------------------------------------------------- */

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

static void
setup(void)
{
	char extra[64];

	snprintf(extra, sizeof(extra), "max_tickets_per_user = %d\n", LIMIT);
	tap_store_conf(dir, sizeof(dir), &conf, extra);
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	make_user("alice", ROLE_USER, &alice);
	make_user("bob", ROLE_USER, &bob);
	make_user("agent", ROLE_AGENT, &agent);
}

/* --- JSON helpers ----------------------------------------------------- */

static json_object *
jget(json_object *o, const char *k)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

/*
 * Array length and element; 0 and NULL when a is not an array (json-c
 * asserts, which would end the test run at the first regression).
 */
static size_t
alen(json_object *a)
{
	return json_object_is_type(a, json_type_array) ?
	    json_object_array_length(a) : 0;
}

static json_object *
aget(json_object *a, size_t i)
{
	return i < alen(a) ? json_object_array_get_idx(a, i) : NULL;
}

/* A string member, or NULL when absent, null or not a string. */
static const char *
jstr(json_object *o, const char *k)
{
	json_object *v = jget(o, k);

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

static int64_t
jint(json_object *o, const char *k)
{
	return json_object_get_int64(jget(o, k));
}

/* Is member k there and null? */
static bool
jnull(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && v == NULL;
}

/* The "uuid" member of o as bytes (zeros when it is not one). */
static void
juuid(json_object *o, uint8_t out[UUID_LEN])
{
	const char *s = jstr(o, "uuid");

	if (s == NULL || !uuid_parse(s, strlen(s), out))
		memset(out, 0, UUID_LEN);
}

/* Is a message with this content in the array? */
static bool
has_content(json_object *msgs, const char *content)
{
	for (size_t i = 0; i < alen(msgs); i++)
		if (strcmp(jstr(aget(msgs, i),
		    "content") ?: "", content) == 0)
			return true;
	return false;
}

/* No stored-only field of a ticket shows through in its API object. */
static bool
no_internal(json_object *t)
{
	static const char *const internal[] = {
		"public_count", "note_count", "unanswered", "replies", "rev",
		"last_us",
	};

	for (size_t i = 0; i < SUP_NELEM(internal); i++)
		if (json_object_object_get_ex(t, internal[i], NULL))
			return false;
	return json_object_is_type(jget(t, "user"), json_type_object);
}

/* Every message of the array has its author as a User object. */
static bool
authors_are_objects(json_object *msgs)
{
	size_t n = alen(msgs);

	for (size_t i = 0; i < n; i++) {
		json_object *m = aget(msgs, i);
		if (!json_object_is_type(jget(m, "user"), json_type_object) ||
		    !json_object_is_type(jget(m, "sender"), json_type_object))
			return false;
	}
	return n > 0;
}

/* --- Library shorthands ----------------------------------------------- */

/*
 * What a client would read: the library's objects printed as JSON and
 * parsed again.  (The views make "raw" objects that print as spliced JSON
 * text but have no members to look at.)  Takes o; NULL stays NULL.
 */
static json_object *
reparse(json_object *o)
{
	json_object *p;

	if (o == NULL)
		return NULL;
	p = json_tokener_parse(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	if (p == NULL)
		diag("not JSON: %s", json_object_to_json_string(o));
	json_object_put(o);
	return p;
}

static sup_err
update(const struct sup_user *u, const uint8_t *t,
    const struct ticket_patch *p, json_object **out)
{
	sup_err e = ticket_update(&st, u, t, p, out);

	*out = reparse(*out);
	return e;
}

static sup_err
list(const struct sup_user *u, const struct ticket_query *q,
    json_object **out)
{
	sup_err e = ticket_list(&st, u, q, out);

	*out = reparse(*out);
	return e;
}

static sup_err
thread(const struct sup_user *u, const uint8_t *t, const uint8_t *after,
    const char *if_none_match, char etag[ETAG_MAX], json_object **out)
{
	sup_err e = msg_list(&st, u, t, after, if_none_match, etag, out);

	*out = reparse(*out);
	return e;
}

static sup_err
show_e(const struct sup_user *u, const uint8_t *t, json_object **out)
{
	sup_err e = ticket_show(&st, u, t, out);

	*out = reparse(*out);
	return e;
}

/* The uuid ticket_create reported in its ticket_new, the last time. */
static uint8_t created_uuid[UUID_LEN];

static sup_err
create(const struct sup_user *u, const char *subject, const char *content,
    enum ticket_priority pri, json_object **out)
{
	struct ticket_new in = {
		.subject = subject, .subject_len = strlen(subject),
		.content = content, .content_len = strlen(content),
		.priority = pri,
	};

	sup_err e = ticket_create(&st, &conf, u, &in, out);

	memcpy(created_uuid, in.uuid, UUID_LEN);
	*out = reparse(*out);
	return e;
}

/* Create a ticket and keep only its uuid; bails out on failure. */
static void
create_uuid(const struct sup_user *u, const char *subject,
    uint8_t uuid[UUID_LEN])
{
	json_object *t;

	if (create(u, subject, "Please help.", PRI_NORMAL, &t) != SUP_OK)
		bail_out("ticket_create %s", subject);
	juuid(t, uuid);
	json_object_put(t);
}

static sup_err
post(const struct sup_user *u, const uint8_t *t, const char *content,
    bool internal, json_object **out)
{
	sup_err e = msg_post(&st, u, t, content, strlen(content), internal,
	    out);

	*out = reparse(*out);
	return e;
}

/* Post and forget the message. */
static sup_err
post1(const struct sup_user *u, const uint8_t *t, const char *content,
    bool internal)
{
	json_object *m;
	sup_err e = post(u, t, content, internal, &m);

	json_object_put(m);
	return e;
}

/* The ticket as u sees it (NULL when u may not). */
static json_object *
show(const struct sup_user *u, const uint8_t *t)
{
	json_object *o;

	return show_e(u, t, &o) == SUP_OK ? o : NULL;
}

/* Its status as u sees it; "(error)" when it cannot be shown. */
static const char *
status_of(const struct sup_user *u, const uint8_t *t)
{
	static char buf[32];
	json_object *o = show(u, t);

	snprintf(buf, sizeof(buf), "%s", o && jstr(o, "status") ?
	    jstr(o, "status") : "(error)");
	json_object_put(o);
	return buf;
}

static const struct ticket_patch no_change = {
	.status = -1, .priority = -1,
};

static sup_err
set_status(const struct sup_user *u, const uint8_t *t, int status)
{
	struct ticket_patch p = no_change;
	json_object *o;
	sup_err e;

	p.status = status;
	e = ticket_update(&st, u, t, &p, &o);
	json_object_put(o);
	return e;
}

/* The list's defaults, as tquery_parse gives for an empty query. */
static struct ticket_query
query(void)
{
	struct ticket_query q = {
		.priority = -1, .order = ORDER_UPDATED, .desc = true,
		.page = 1, .page_size = 20,
	};
	return q;
}

/* The count of a list, or -1 when it fails. */
static int64_t
list_count(const struct sup_user *u, const struct ticket_query *q)
{
	json_object *o;
	int64_t n = -1;

	if (list(u, q, &o) == SUP_OK)
		n = jint(o, "count");
	json_object_put(o);
	return n;
}

/* --- Tests ------------------------------------------------------------ */

static uint8_t t1[UUID_LEN], t2[UUID_LEN];	/* alice's */

static void
test_create(void)
{
	json_object *t, *msgs, *m, *u;
	sup_err e;

	e = create(&alice, "Printer on fire", "It *smokes*.", PRI_HIGH, &t);
	is_err(e, SUP_OK, "ticket_create by a customer");
	is_str(jstr(t, "status"), "open", "  status open");
	is_int(jint(t, "number"), 1, "  number 1");
	is_str(jstr(t, "subject"), "Printer on fire", "  subject");
	is_str(jstr(t, "priority"), "high", "  priority");
	u = jget(t, "user");
	ok(u && jint(u, "id") == alice.id && !json_object_get_boolean(
	    jget(u, "is_staff")), "  user is alice, not staff");
	is_str(jstr(u, "email"), "alice@example.com",
	    "  the owner sees her own e-mail");
	ok(jnull(t, "assignee") && jnull(t, "first_response_at") &&
	    jnull(t, "resolved_at") && jnull(t, "closed_at"),
	    "  no assignee, first response, resolved or closed time");
	ok(jstr(t, "created_at") && strlen(jstr(t, "created_at")) ==
	    TIME_STRLEN && jstr(t, "created_at")[TIME_STRLEN - 1] == 'Z',
	    "  created_at in UTC with microseconds");
	ok(no_internal(t), "  no stored-only field shows");
	ok(authors_are_objects(jget(t, "messages")),
	    "  message authors are User objects");
	is_int(jint(t, "message_count"), 1, "  message_count 1");
	is_int(jint(t, "unanswered_messages_count"), 0,
	    "  no staff reply for the owner to read");
	is_int(jint(t, "awaiting_staff_count"), 1,
	    "  1 message awaiting staff");
	msgs = jget(t, "messages");
	is_int(alen(msgs), 1, "  one embedded message");
	m = aget(msgs, 0);
	is_str(jstr(m, "content"), "It *smokes*.", "  its content");
	is_str(jstr(m, "content_html"), "<p>It <em>smokes</em>.</p>\n",
	    "  rendered from Markdown");
	ok(json_object_get_boolean(jget(m, "is_from_user")) &&
	    !json_object_get_boolean(jget(m, "is_internal")),
	    "  from the user, not internal");
	ok(jget(t, "last_message") && strcmp(jstr(jget(t, "last_message"),
	    "uuid") ?: "", jstr(m, "uuid") ?: "-") == 0,
	    "  last_message is that message");
	juuid(t, t1);
	ok(memcmp(created_uuid, t1, UUID_LEN) == 0,
	    "  ticket_new.uuid is the new ticket's");
	json_object_put(t);

	e = create(&alice, "VPN  down", "Since 9:00.", PRI_NORMAL, &t);
	is_err(e, SUP_OK, "a second ticket");
	is_int(jint(t, "number"), 2, "  number 2");
	juuid(t, t2);
	json_object_put(t);

	/* Text that looks like the stored record's own fields stays text. */
	static const char tricky_subject[] =
	    "Caf\xc3\xa9 \xe2\x98\x95 \",\"user\":999,\"rev\":\"\\";
	static const char tricky_content[] =
	    "x\",\"user\":999}\n,\"user\":{\"id\":999},\"is_internal\":true";
	e = create(&agent, tricky_subject, tricky_content, PRI_LOW, &t);
	is_err(e, SUP_OK, "a ticket whose text mimics JSON members");
	is_str(jstr(t, "subject"), tricky_subject, "  subject comes back as sent");
	ok(jint(jget(t, "user"), "id") == agent.id && no_internal(t),
	    "  the owner is still its author, nothing leaks");
	m = aget(jget(t, "messages"), 0);
	is_str(jstr(m, "content"), tricky_content, "  content as sent");
	ok(jint(jget(m, "user"), "id") == agent.id &&
	    !json_object_get_boolean(jget(m, "is_internal")),
	    "  the message's author and flags are its own");
	uint8_t tricky[UUID_LEN];
	juuid(t, tricky);
	json_object_put(t);
	t = show(&agent, tricky);
	is_str(jstr(t, "subject"), tricky_subject, "  and so when shown");
	json_object_put(t);

	/* Raw HTML never comes through the renderer. */
	e = create(&alice, "xss", "<script>alert(1)</script> "
	    "[x](javascript:alert(1))", PRI_LOW, &t);
	m = aget(jget(t, "messages"), 0);
	ok(e == SUP_OK && strstr(jstr(m, "content_html") ?: "<script",
	    "<script") == NULL && strstr(jstr(m, "content_html") ?: "",
	    "javascript:") == NULL, "content_html has no raw HTML or "
	    "javascript: links");
	/* Resolve it: it should not count against alice's limit. */
	uint8_t t3[UUID_LEN];
	juuid(t, t3);
	json_object_put(t);
	set_status(&alice, t3, ST_RESOLVED);
}

static void
test_messages(void)
{
	json_object *m, *t, *first_reply;
	char first_at[TIME_STRLEN + 1] = "";

	is_err(post(&alice, t1, "Still smoking.", false, &m), SUP_OK,
	    "msg_post by the owner");
	is_str(jstr(m, "content"), "Still smoking.", "  the message back");
	ok(json_object_get_boolean(jget(m, "is_from_user")),
	    "  is_from_user");
	ok(jint(jget(m, "sender"), "id") == alice.id, "  sender is alice");
	json_object_put(m);
	t = show(&alice, t1);
	is_str(jstr(t, "status"), "waiting_for_admin",
	    "  the ticket waits for an admin");
	is_int(jint(t, "unanswered_messages_count"), 0,
	    "  the owner has no reply to read");
	is_int(jint(t, "awaiting_staff_count"), 2, "  2 awaiting staff");
	is_int(jint(t, "message_count"), 2, "  message_count 2");
	json_object_put(t);

	is_err(post(&agent, t1, "Unplug it.", false, &first_reply), SUP_OK,
	    "msg_post by the agent");
	ok(!json_object_get_boolean(jget(first_reply, "is_from_user")),
	    "  not from the user");
	snprintf(first_at, sizeof(first_at), "%s",
	    jstr(first_reply, "created_at") ?: "");
	json_object_put(first_reply);
	t = show(&alice, t1);
	is_str(jstr(t, "status"), "waiting_for_user",
	    "  the ticket waits for the user");
	is_str(jstr(t, "first_response_at"), first_at,
	    "  first_response_at is the reply's time");
	is_int(jint(t, "unanswered_messages_count"), 1,
	    "  1 reply for the owner");
	is_int(jint(t, "awaiting_staff_count"), 0, "  0 awaiting staff");
	json_object_put(t);

	post1(&alice, t1, "Done. Now what?", false);
	t = show(&agent, t1);
	is_int(jint(t, "unanswered_messages_count"), 0,
	    "the owner writes again: no reply for her to read");
	is_int(jint(t, "awaiting_staff_count"), 1, "  1 awaiting staff");
	json_object_put(t);
	is_err(post1(&agent, t1, "Wait an hour.", false), SUP_OK,
	    "a second agent reply");
	t = show(&agent, t1);
	is_str(jstr(t, "first_response_at"), first_at,
	    "  first_response_at unchanged");
	is_str(jstr(t, "status"), "waiting_for_user", "  waiting_for_user");
	json_object_put(t);

	/* Markdown is rendered in safe mode for messages too. */
	is_err(post(&alice, t1, "<img src=x onerror=alert(1)>", false, &m),
	    SUP_OK, "a message with raw HTML");
	ok(strstr(jstr(m, "content_html") ?: "<img", "<img") == NULL,
	    "  not passed through to content_html");
	json_object_put(m);
	post1(&agent, t1, "Please do not send HTML.", false);
}

static void
test_notes(void)
{
	json_object *t, *m, *list;
	char etag[ETAG_MAX];
	int64_t count_user, count_staff;

	t = show(&alice, t1);
	count_user = jint(t, "message_count");
	json_object_put(t);
	t = show(&agent, t1);
	count_staff = jint(t, "message_count");
	json_object_put(t);

	is_err(post(&agent, t1, "Customer seems confused.", true, &m), SUP_OK,
	    "an internal note by the agent");
	ok(json_object_get_boolean(jget(m, "is_internal")), "  is_internal");
	json_object_put(m);
	is_str(status_of(&agent, t1), "waiting_for_user",
	    "  no status change");

	t = show(&alice, t1);
	ok(t && !has_content(jget(t, "messages"), "Customer seems confused."),
	    "  the owner does not see it in ticket_show");
	is_int(jint(t, "message_count"), count_user,
	    "  nor in her message_count");
	ok(strcmp(jstr(jget(t, "last_message"), "content") ?: "",
	    "Please do not send HTML.") == 0,
	    "  her last_message is the last public one");
	json_object_put(t);
	t = show(&agent, t1);
	ok(t && has_content(jget(t, "messages"), "Customer seems confused."),
	    "  the agent sees it");
	is_int(jint(t, "message_count"), count_staff + 1,
	    "  and counts it");
	is_str(jstr(jget(t, "last_message"), "content"),
	    "Customer seems confused.", "  as his last_message");
	json_object_put(t);

	is_err(thread(&alice, t1, NULL, NULL, etag, &list), SUP_OK,
	    "msg_list by the owner");
	ok(!has_content(list, "Customer seems confused."),
	    "  without the note");
	is_int(alen(list), count_user,
	    "  as many as her message_count");
	json_object_put(list);
	is_err(thread(&agent, t1, NULL, NULL, etag, &list), SUP_OK,
	    "msg_list by the agent");
	ok(has_content(list, "Customer seems confused."), "  with the note");
	json_object_put(list);

	is_err(post(&alice, t1, "Secret!", true, &m), SUP_EFORBIDDEN,
	    "a customer posting is_internal: SUP_EFORBIDDEN");
	ok(m == NULL, "  no message returned");
	t = show(&agent, t1);
	ok(!has_content(jget(t, "messages"), "Secret!"), "  nothing stored");
	json_object_put(t);
}

static void
test_status_machine(void)
{
	json_object *t;
	struct ticket_patch p;

	/* Owner: resolve, then writing re-opens it for the admins. */
	is_err(set_status(&alice, t1, ST_RESOLVED), SUP_OK,
	    "the owner resolves her ticket");
	t = show(&alice, t1);
	is_str(jstr(t, "status"), "resolved", "  resolved");
	ok(jstr(t, "resolved_at") != NULL, "  resolved_at set");
	json_object_put(t);
	is_err(post1(&alice, t1, "It is back.", false), SUP_OK,
	    "the owner writes to her resolved ticket");
	t = show(&alice, t1);
	is_str(jstr(t, "status"), "waiting_for_admin",
	    "  it waits for an admin again");
	ok(jnull(t, "resolved_at"), "  resolved_at cleared");
	json_object_put(t);

	/* Owner: what she may not do. */
	is_err(set_status(&alice, t1, ST_OPEN), TICKET_ETRANSITION,
	    "the owner moving her ticket to open: TICKET_ETRANSITION");
	is_err(set_status(&alice, t1, ST_WAITING_FOR_USER), TICKET_ETRANSITION,
	    "the owner moving it to waiting_for_user: TICKET_ETRANSITION");
	p = no_change;
	p.priority = PRI_URGENT;
	is_err(update(&alice, t1, &p, &t), SUP_EFORBIDDEN,
	    "the owner changing priority: SUP_EFORBIDDEN");
	ok(t == NULL, "  no ticket returned");
	p = no_change;
	p.subject = "Mine now";
	p.subject_len = 8;
	is_err(update(&alice, t1, &p, &t), SUP_EFORBIDDEN,
	    "the owner changing the subject: SUP_EFORBIDDEN");
	p = no_change;
	p.set_assignee = true;
	p.assignee = agent.id;
	is_err(update(&alice, t1, &p, &t), SUP_EFORBIDDEN,
	    "the owner assigning: SUP_EFORBIDDEN");
	t = show(&agent, t1);
	ok(strcmp(jstr(t, "priority") ?: "", "high") == 0 &&
	    strcmp(jstr(t, "subject") ?: "", "Printer on fire") == 0 &&
	    jnull(t, "assignee"), "  nothing changed");
	json_object_put(t);

	/* Closed: the owner can no longer write or re-open. */
	is_err(set_status(&alice, t1, ST_CLOSED), SUP_OK,
	    "the owner closes her ticket");
	t = show(&alice, t1);
	ok(jstr(t, "closed_at") != NULL, "  closed_at set");
	json_object_put(t);
	is_err(post1(&alice, t1, "One more thing.", false), TICKET_ECLOSED,
	    "the owner writing to a closed ticket: TICKET_ECLOSED");
	is_err(set_status(&alice, t1, ST_OPEN), TICKET_ETRANSITION,
	    "the owner re-opening: TICKET_ETRANSITION");
	is_err(set_status(&alice, t1, ST_RESOLVED), TICKET_ETRANSITION,
	    "the owner resolving a closed ticket: TICKET_ETRANSITION");
	is_err(set_status(&alice, t1, ST_CLOSED), SUP_OK,
	    "the owner closing it again: same status, no error");
	is_str(status_of(&alice, t1), "closed", "  still closed");

	/* Staff may write to it and re-open it. */
	is_err(post1(&agent, t1, "Closed on request.", true), SUP_OK,
	    "an agent's note on a closed ticket");
	is_str(status_of(&agent, t1), "closed", "  stays closed");
	is_err(set_status(&agent, t1, ST_OPEN), SUP_OK,
	    "the agent re-opens it");
	t = show(&agent, t1);
	is_str(jstr(t, "status"), "open", "  open");
	ok(jnull(t, "closed_at") && jnull(t, "resolved_at"),
	    "  closed_at and resolved_at cleared");
	json_object_put(t);

	/* resolved_at and closed_at as the ticket moves (docs/api.md). */
	is_err(set_status(&agent, t2, ST_RESOLVED), SUP_OK,
	    "the agent resolves ticket 2");
	t = show(&agent, t2);
	char resolved_at[TIME_STRLEN + 1];
	snprintf(resolved_at, sizeof(resolved_at), "%s",
	    jstr(t, "resolved_at") ?: "");
	ok(resolved_at[0] != '\0' && jnull(t, "closed_at"),
	    "  resolved_at set, closed_at null");
	json_object_put(t);
	is_err(set_status(&agent, t2, ST_CLOSED), SUP_OK, "then closes it");
	t = show(&agent, t2);
	ok(jstr(t, "closed_at") != NULL, "  closed_at set");
	is_str(jstr(t, "resolved_at"), resolved_at, "  resolved_at kept");
	json_object_put(t);
	is_err(set_status(&agent, t2, ST_RESOLVED), SUP_OK,
	    "then moves it back to resolved");
	t = show(&agent, t2);
	ok(jnull(t, "closed_at") && jstr(t, "resolved_at") != NULL,
	    "  closed_at cleared, resolved_at set");
	json_object_put(t);

	/* A public staff reply to a closed ticket re-opens it too. */
	set_status(&agent, t2, ST_CLOSED);
	is_err(post1(&agent, t2, "Reopening: we found the cause.", false),
	    SUP_OK, "an agent's public reply on a closed ticket");
	t = show(&agent, t2);
	is_str(jstr(t, "status"), "waiting_for_user",
	    "  re-opened as waiting_for_user");
	ok(jnull(t, "closed_at") && jnull(t, "resolved_at"),
	    "  closed_at and resolved_at cleared");
	json_object_put(t);
}

static void
test_staff_update(void)
{
	struct ticket_patch p = no_change;
	json_object *t;

	p.priority = PRI_URGENT;
	p.subject = "Printer on fire (3rd floor)";
	p.subject_len = strlen(p.subject);
	p.set_assignee = true;
	p.assignee = agent.id;
	is_err(update(&agent, t1, &p, &t), SUP_OK,
	    "the agent changes priority, subject and assignee");
	is_str(jstr(t, "priority"), "urgent", "  priority");
	is_str(jstr(t, "subject"), "Printer on fire (3rd floor)", "  subject");
	ok(jget(t, "assignee") && jint(jget(t, "assignee"), "id") == agent.id,
	    "  assignee is the agent");
	json_object_put(t);

	p = no_change;
	p.set_assignee = true;
	p.assignee = bob.id;
	is_err(update(&agent, t1, &p, &t), SUP_EINVAL,
	    "assigning to a customer: SUP_EINVAL");
	p.assignee = 9999;
	is_err(update(&agent, t1, &p, &t), SUP_EINVAL,
	    "assigning to nobody's id: SUP_EINVAL");
	t = show(&agent, t1);
	ok(jint(jget(t, "assignee"), "id") == agent.id,
	    "  the assignee stays");
	json_object_put(t);

	/* The owner sees the assignee without the e-mail. */
	t = show(&alice, t1);
	ok(jget(t, "assignee") && jstr(jget(t, "assignee"), "email") == NULL,
	    "the owner does not see the agent's e-mail");
	json_object_put(t);
}

/* ticket_bulk_update of the n tickets u with p, its answer reparsed. */
static sup_err
bulk_e(const struct sup_user *u, uint8_t (*uuids)[UUID_LEN], size_t n,
    const struct ticket_patch *p, size_t *failed, json_object **out)
{
	sup_err e = ticket_bulk_update(&st, u, (const uint8_t (*)[UUID_LEN])
	    uuids, n, p, failed, out);

	*out = reparse(*out);
	return e;
}

/* Do the tickets have status and priority, as the agent sees them? */
static bool
all_are(uint8_t (*uuids)[UUID_LEN], size_t n, const char *status,
    const char *priority)
{
	bool same = true;

	for (size_t i = 0; i < n; i++) {
		json_object *t = show(&agent, uuids[i]);
		if (t == NULL || strcmp(jstr(t, "status"), status) != 0 ||
		    strcmp(jstr(t, "priority"), priority) != 0) {
			diag("ticket %zu: %s", i, t ?
			    json_object_to_json_string(t) : "(none)");
			same = false;
		}
		json_object_put(t);
	}
	return same;
}

static void
test_bulk(void)
{
	uint8_t b[7][UUID_LEN], ghost[2][UUID_LEN];
	struct ticket_patch p = no_change;
	json_object *o, *res;
	size_t failed;

	for (int i = 0; i < 5; i++)
		create_uuid(&agent, "Bulk", b[i]);
	p.status = ST_RESOLVED;
	p.priority = PRI_HIGH;
	p.set_assignee = true;
	p.assignee = agent.id;
	is_err(bulk_e(&agent, b, 5, &p, &failed, &o), SUP_OK,
	    "bulk: five tickets resolved, high, the agent's");
	is_int(jint(o, "updated"), 5, "  updated: 5");
	res = jget(o, "results");
	ok(res != NULL && json_object_array_length(res) == 5,
	    "  five results");
	for (size_t i = 0; res != NULL && i < 5; i++) {
		uint8_t u[UUID_LEN];
		json_object *t = json_object_array_get_idx(res, i);
		juuid(t, u);
		ok(memcmp(u, b[i], UUID_LEN) == 0 && jget(t, "messages") ==
		    NULL, "  result %zu: the ticket given there, as listed",
		    i);
		ok(jget(t, "assignee") && jint(jget(t, "assignee"), "id") ==
		    agent.id, "  result %zu: assigned", i);
	}
	json_object_put(o);
	ok(all_are(b, 5, "resolved", "high"), "  every ticket stored so");

	/* An unknown ticket in the middle: nothing changes. */
	uuid_gen(ghost[0]);
	memcpy(b[5], b[2], UUID_LEN);
	memcpy(b[2], ghost[0], UUID_LEN);
	p = no_change;
	p.status = ST_OPEN;
	p.priority = PRI_LOW;
	is_err(bulk_e(&agent, b, 6, &p, &failed, &o), SUP_ENOTFOUND,
	    "bulk: an unknown ticket in the middle: SUP_ENOTFOUND");
	is_int(failed, 2, "  it is named (its index)");
	ok(o == NULL, "  no answer");
	memcpy(b[2], b[5], UUID_LEN);
	ok(all_are(b, 5, "resolved", "high"), "  no ticket changed");

	/* Two refused: the first named is the first of the list given. */
	uuid_gen(ghost[1]);
	memcpy(b[5], ghost[0], UUID_LEN);
	memcpy(b[6], ghost[1], UUID_LEN);
	if (memcmp(ghost[0], ghost[1], UUID_LEN) < 0) {
		memcpy(b[5], ghost[1], UUID_LEN);
		memcpy(b[6], ghost[0], UUID_LEN);
	}
	is_err(bulk_e(&agent, b, 7, &p, &failed, &o), SUP_ENOTFOUND,
	    "bulk: two unknown tickets");
	is_int(failed, 5, "  the first in the order given is named, not "
	    "the first in uuid order");

	/* A ticket given twice: the later one named, nothing changed. */
	memcpy(b[5], b[1], UUID_LEN);
	is_err(bulk_e(&agent, b, 6, &p, &failed, &o), TICKET_EDUPLICATE,
	    "bulk: a ticket given twice: TICKET_EDUPLICATE");
	is_int(failed, 5, "  the repetition is named");
	is_err(sup_errkind(TICKET_EDUPLICATE), SUP_EINVAL, "  a kind of "
	    "SUP_EINVAL (400)");

	/* An assignee who is not staff: SUP_EINVAL, nothing changed. */
	p = no_change;
	p.status = ST_OPEN;
	p.set_assignee = true;
	p.assignee = bob.id;
	is_err(bulk_e(&agent, b, 5, &p, &failed, &o), SUP_EINVAL,
	    "bulk: a customer as assignee: SUP_EINVAL");
	ok(all_are(b, 5, "resolved", "high"), "  no ticket changed");

	/* Limits and who. */
	is_err(bulk_e(&agent, b, 0, &p, &failed, &o), SUP_EINVAL,
	    "bulk: no ticket: SUP_EINVAL");
	is_int(failed, 0, "  none named");
	is_err(bulk_e(&agent, b, TICKET_BULK_MAX + 1, &p, &failed, &o),
	    SUP_EINVAL, "bulk: over TICKET_BULK_MAX: SUP_EINVAL");
	is_err(bulk_e(&alice, b, 1, &p, &failed, &o), SUP_EFORBIDDEN,
	    "bulk: a customer: SUP_EFORBIDDEN");

	/* Unassign; the same status again is no change of it. */
	p = no_change;
	p.status = ST_RESOLVED;
	p.set_assignee = true;
	p.assignee = 0;
	is_err(bulk_e(&agent, b, 2, &p, &failed, &o), SUP_OK,
	    "bulk: unassign two, the status as it is");
	is_int(jint(o, "updated"), 2, "  updated: 2");
	json_object_put(o);
	o = show(&agent, b[0]);
	ok(o != NULL && jget(o, "assignee") == NULL, "  unassigned");
	json_object_put(o);
	ok(all_are(b, 5, "resolved", "high"), "  status and priority kept");
	p = no_change;
	p.status = ST_RESOLVED;
	is_err(bulk_e(&agent, b, 3, &p, &failed, &o), SUP_OK,
	    "bulk: only the status they have");
	is_int(jint(o, "updated"), 0, "  updated: 0 (nothing written)");
	json_object_put(o);
}

static void
test_other_customer(void)
{
	json_object *o = (json_object *)1;
	struct ticket_query q = query();
	char etag[ETAG_MAX];

	is_err(show_e(&bob, t1, &o), SUP_ENOTFOUND,
	    "another customer: ticket_show SUP_ENOTFOUND");
	ok(o == NULL, "  *out NULL");
	is_err(post1(&bob, t1, "Me too!", false), SUP_ENOTFOUND,
	    "another customer: msg_post SUP_ENOTFOUND");
	is_err(set_status(&bob, t1, ST_CLOSED), SUP_ENOTFOUND,
	    "another customer: ticket_update SUP_ENOTFOUND");
	is_err(thread(&bob, t1, NULL, NULL, etag, &o), SUP_ENOTFOUND,
	    "another customer: msg_list SUP_ENOTFOUND");
	is_int(list_count(&bob, &q), 0, "another customer's list is empty");
	q.has_user = true;
	q.user = alice.id;
	is_int(list_count(&bob, &q), 0,
	    "  even when asking for alice's tickets");
	o = show(&agent, t1);
	ok(!has_content(jget(o, "messages"), "Me too!"),
	    "  nothing of his was stored");
	json_object_put(o);

	uint8_t nowhere[UUID_LEN];
	uuid_gen(nowhere);
	is_err(show_e(&agent, nowhere, &o), SUP_ENOTFOUND,
	    "a ticket that does not exist: SUP_ENOTFOUND");
	is_err(post1(&agent, nowhere, "Hello?", false), SUP_ENOTFOUND,
	    "  msg_post to it: SUP_ENOTFOUND");
}

static void
test_limit(void)
{
	uint8_t b[LIMIT][UUID_LEN], extra[UUID_LEN];
	json_object *t;

	for (int i = 0; i < LIMIT; i++)
		create_uuid(&bob, i == 0 ? "Bob's printer" : "Bob again", b[i]);
	t = (json_object *)1;
	is_err(create(&bob, "One too many", "x", PRI_NORMAL, &t), TICKET_ELIMIT,
	    "ticket #%d over max_tickets_per_user: TICKET_ELIMIT", LIMIT + 1);
	ok(t == NULL, "  *out NULL");
	struct ticket_query q = query();
	is_int(list_count(&bob, &q), LIMIT, "  and no ticket made");

	set_status(&bob, b[1], ST_RESOLVED);
	is_err(create(&bob, "Now it fits", "x", PRI_NORMAL, &t), SUP_OK,
	    "resolving one frees a place");
	juuid(t, extra);
	json_object_put(t);
	is_err(create(&bob, "Full again", "x", PRI_NORMAL, &t), TICKET_ELIMIT,
	    "  then full again");
	set_status(&bob, extra, ST_CLOSED);
	is_err(create(&bob, "Closing frees too", "x", PRI_NORMAL, &t), SUP_OK,
	    "closing one frees a place");
	json_object_put(t);

	/* Re-opening by the owner's reply counts again. */
	post1(&bob, b[1], "Not fixed after all.", false);
	is_err(create(&bob, "Over", "x", PRI_NORMAL, &t), TICKET_ELIMIT,
	    "a resolved ticket the owner wrote to counts again");

	/* max_tickets_per_user = 0: no limit (docs/api.md). */
	struct sup_conf unlimited = conf;
	unlimited.max_tickets_per_user = 0;
	struct ticket_new in = {
		.subject = "No limit", .subject_len = 8, .content = "x",
		.content_len = 1, .priority = PRI_NORMAL,
	};
	is_err(ticket_create(&st, &unlimited, &bob, &in, &t), SUP_OK,
	    "with max_tickets_per_user = 0 the full customer may open more");
	json_object_put(t);

	/* Staff are not limited. */
	int made = 0;
	for (int i = 0; i < LIMIT + 1; i++) {
		if (create(&agent, "Internal task", "x", PRI_LOW, &t) == SUP_OK)
			made++;
		json_object_put(t);
	}
	is_int(made, LIMIT + 1, "staff may open more than the limit");
}

/* Is the list's member k in order (strings or integers)? */
static bool
sorted(json_object *results, const char *k, bool desc)
{
	for (size_t i = 1; i < alen(results); i++) {
		json_object *a = aget(results, i - 1);
		json_object *b = aget(results, i);
		int c = jstr(a, k) ? strcmp(jstr(a, k), jstr(b, k) ?: "") :
		    (jint(a, k) > jint(b, k)) - (jint(a, k) < jint(b, k));
		if (desc ? c < 0 : c > 0)
			return false;
	}
	return true;
}

/* Is the list by priority, then updated_at, both in the same direction? */
static bool
by_priority(json_object *results, bool desc)
{
	for (size_t i = 1; i < alen(results); i++) {
		json_object *a = aget(results, i - 1);
		json_object *b = aget(results, i);
		int c = ticket_priority_from(jstr(a, "priority") ?: "") -
		    ticket_priority_from(jstr(b, "priority") ?: "");
		if (c == 0)
			c = (jint(a, "number") > jint(b, "number")) -
			    (jint(a, "number") < jint(b, "number"));
		if (desc ? c < 0 : c > 0)
			return false;
	}
	return true;
}

static void
test_list(void)
{
	struct ticket_query q = query();
	json_object *o, *r;
	int64_t all, n;
	sup_err e;

	is_err(list(&agent, &q, &o), SUP_OK, "the agent's list");
	all = jint(o, "count");
	r = jget(o, "results");
	ok(all >= 10, "  every ticket counted (%lld)", (long long)all);
	is_int(alen(r), all < 20 ? all : 20,
	    "  one page of results");
	ok(sorted(r, "updated_at", true), "  newest activity first");
	ok(jget(aget(r, 0), "messages") == NULL,
	    "  items without messages");
	bool clean = true;
	for (size_t i = 0; i < alen(r); i++)
		clean &= no_internal(aget(r, i));
	ok(clean, "  no stored-only field shows in any item");
	json_object_put(o);

	q = query();
	is_err(list(&alice, &q, &o), SUP_OK, "alice's list");
	is_int(jint(o, "count"), 3, "  her 3 tickets, no one else's");
	r = jget(o, "results");
	int mine = 0;
	for (size_t i = 0; i < alen(r); i++)
		mine += jint(jget(aget(r, i), "user"),
		    "id") == alice.id;
	is_int(mine, alen(r), "  all of them hers");
	json_object_put(o);

	q = query();
	q.order = ORDER_NUMBER;
	q.desc = false;
	is_err(list(&agent, &q, &o), SUP_OK, "ordering=number");
	ok(sorted(jget(o, "results"), "number", false), "  ascending numbers");
	is_int(jint(aget(jget(o, "results"), 0),
	    "number"), 1, "  starting at 1");
	json_object_put(o);
	q.desc = true;
	list(&agent, &q, &o);
	ok(sorted(jget(o, "results"), "number", true),
	    "ordering=-number: descending");
	is_int(jint(aget(jget(o, "results"), 0),
	    "number"), all, "  starting at the newest");
	json_object_put(o);
	q = query();
	q.order = ORDER_NUMBER;
	q.desc = false;
	list(&alice, &q, &o);
	ok(alen(jget(o, "results")) == 3 &&
	    sorted(jget(o, "results"), "number", false),
	    "a customer's list by number");
	json_object_put(o);

	/* Priority: urgent first, then the newest ticket (docs/api.md). */
	q = query();
	q.order = ORDER_PRIORITY;
	is_err(list(&agent, &q, &o), SUP_OK, "ordering=-priority");
	ok(by_priority(jget(o, "results"), true),
	    "  urgent first, newest ticket first within a priority");
	is_int(jint(aget(jget(o, "results"), 0),
	    "number"), 1, "  the one urgent ticket on top");
	is_int(jint(o, "count"), all, "  every ticket counted");
	json_object_put(o);
	q.desc = false;
	list(&agent, &q, &o);
	ok(by_priority(jget(o, "results"), false),
	    "ordering=priority: low first, oldest ticket first");
	json_object_put(o);
	q.desc = true;
	list(&alice, &q, &o);
	r = jget(o, "results");
	ok(alen(r) == 3 && by_priority(r, true) &&
	    strcmp(jstr(aget(r, 0), "priority") ?: "",
	    "urgent") == 0 && strcmp(jstr(aget(r, 2),
	    "priority") ?: "", "low") == 0,
	    "a customer's list by -priority: urgent, normal, low");
	json_object_put(o);
	q.page_size = 2;
	q.page = 2;
	list(&alice, &q, &o);
	r = jget(o, "results");
	ok(jint(o, "count") == 3 && alen(r) == 1 &&
	    strcmp(jstr(aget(r, 0), "priority") ?: "",
	    "low") == 0, "  page 2 of 2 each: the low one");
	json_object_put(o);

	/* Filters. */
	q = query();
	q.status_mask = 1u << ST_RESOLVED;
	is_int(list_count(&alice, &q), 1, "status=resolved: alice has one");
	q.status_mask = 1u << ST_RESOLVED | 1u << ST_OPEN;
	is_int(list_count(&alice, &q), 2, "status=resolved,open: two");
	q.status_mask = 1u << ST_CLOSED;
	n = list_count(&agent, &q);
	list(&agent, &q, &o);
	r = jget(o, "results");
	bool all_closed = alen(r) == (size_t)n;
	for (size_t i = 0; i < alen(r); i++)
		all_closed &= strcmp(jstr(aget(r, i),
		    "status") ?: "", "closed") == 0;
	ok(n >= 1 && all_closed, "status=closed for staff: only closed ones "
	    "(%lld)", (long long)n);
	json_object_put(o);

	q = query();
	q.q = "PRINTER";
	q.q_len = 7;
	is_int(list_count(&alice, &q), 1, "q: case-insensitive subject match");
	q.q = "printer";
	is_int(list_count(&agent, &q), 2,
	    "q: the agent finds alice's and bob's printer");
	q.q = "#2";
	q.q_len = 2;
	list(&agent, &q, &o);
	ok(jint(o, "count") == 1 && jint(aget(
	    jget(o, "results"), 0), "number") == 2, "q=#2: ticket number 2");
	json_object_put(o);
	q.q = "#2";
	is_int(list_count(&bob, &q), 0, "q=#2 for bob: not his");
	q.q = "no such words";
	q.q_len = strlen(q.q);
	is_int(list_count(&agent, &q), 0, "q: no match");

	q = query();
	q.has_assignee = true;
	q.assignee = agent.id;
	list(&agent, &q, &o);
	ok(jint(o, "count") == 1 && jint(aget(
	    jget(o, "results"), 0), "number") == 1,
	    "assignee=agent: only ticket 1");
	json_object_put(o);
	q.assignee = 0;
	is_int(list_count(&agent, &q), all - 1, "assignee=none: the others");

	q = query();
	q.priority = PRI_URGENT;
	is_int(list_count(&agent, &q), 1, "priority=urgent: one");

	/* Pages. */
	q = query();
	q.page_size = 4;
	q.page = 2;
	q.order = ORDER_NUMBER;
	q.desc = false;
	is_err(list(&agent, &q, &o), SUP_OK, "page 2 of 4 each");
	is_int(jint(o, "count"), all, "  count is the whole list's");
	r = jget(o, "results");
	ok(alen(r) == 4 &&
	    jint(aget(r, 0), "number") == 5,
	    "  tickets 5 to 8");
	json_object_put(o);
	q.page = (all + 3) / 4;
	list(&agent, &q, &o);
	is_int(alen(jget(o, "results")),
	    all - (q.page - 1) * 4, "the last page holds the rest");
	json_object_put(o);
	q.page++;
	o = (json_object *)1;
	is_err(list(&agent, &q, &o), SUP_ENOTFOUND,
	    "a page past the end: SUP_ENOTFOUND");
	ok(o == NULL, "  *out NULL");

	q = query();
	q.has_user = true;
	q.user = bob.id;
	list(&agent, &q, &o);
	n = jint(o, "count");
	r = jget(o, "results");
	int bobs = 0;
	for (size_t i = 0; i < alen(r); i++)
		bobs += jint(jget(aget(r, i), "user"),
		    "id") == bob.id;
	ok(n == LIMIT + 3 && bobs == n, "user=bob for staff: his %d tickets",
	    LIMIT + 3);
	json_object_put(o);

	q = query();
	q.has_after = true;
	q.created_after = time_now_us() + 3600 * 1000000LL;
	is_int(list_count(&agent, &q), 0, "created_after an hour from now: "
	    "none");
	q = query();
	q.has_before = true;
	q.created_before = time_now_us() + 3600 * 1000000LL;
	is_int(list_count(&agent, &q), all, "created_before an hour from "
	    "now: all");
	q.created_before = 0;
	is_int(list_count(&agent, &q), 0, "created_before 1970: none");
	/* Ticket 1 is the oldest: its own time is in after=, not before=. */
	int64_t t1_created = 0;
	o = show(&agent, t1);
	if (!time_parse(jstr(o, "created_at") ?: "", &t1_created))
		bail_out("ticket 1 has no created_at");
	json_object_put(o);
	q = query();
	q.has_after = true;
	q.created_after = t1_created;
	is_int(list_count(&agent, &q), all, "created_after is inclusive");
	q.created_after = t1_created + 1;
	is_int(list_count(&agent, &q), all - 1, "  a microsecond later: "
	    "ticket 1 is out");
	q = query();
	q.has_before = true;
	q.created_before = t1_created;
	is_int(list_count(&agent, &q), 0, "created_before is exclusive");
	q.created_before = t1_created + 1;
	is_int(list_count(&agent, &q), 1, "  a microsecond later: ticket 1");

	/* Page 1 of an empty list is an empty page, not an error. */
	q = query();
	q.q = "no such words";
	q.q_len = strlen(q.q);
	e = list(&agent, &q, &o);
	ok(e == SUP_OK && jint(o, "count") == 0 &&
	    alen(jget(o, "results")) == 0,
	    "page 1 of an empty list: count 0, no results");
	json_object_put(o);

	/* Unassigning moves the ticket back among the unassigned. */
	struct ticket_patch p = no_change;
	p.set_assignee = true;
	p.assignee = 0;
	is_err(update(&agent, t1, &p, &o), SUP_OK,
	    "the agent unassigns ticket 1");
	ok(jnull(o, "assignee"), "  assignee null");
	json_object_put(o);
	q = query();
	q.has_assignee = true;
	q.assignee = 0;
	is_int(list_count(&agent, &q), all, "  assignee=none: all of them");
}

static int
word_add(void *ctx, const char *w, size_t n, size_t at SUP_UNUSED,
    size_t span SUP_UNUSED)
{
	struct sbuf *b = ctx;

	sbuf_add(b, w, n);
	sbuf_add(b, " ", 1);
	return 0;
}

/*
 * Does API ticket o hold every word of q in its subject or its messages
 * (read with msg_list)?  The words as search_words makes them (its own
 * test is test_search); no word: no.  The test's reading of a search,
 * without the index.
 */
static bool
has_words(json_object *o, const char *q, size_t n)
{
	struct sbuf text = { 0 }, words = { 0 };
	uint8_t uuid[UUID_LEN];
	char etag[ETAG_MAX];
	json_object *msgs = NULL;
	const char *subject = jstr(o, "subject") ?: "";
	bool all = true;

	sbuf_add(&text, " ", 1);
	search_words(subject, strlen(subject), word_add, &text);
	if (!uuid_parse(jstr(o, "uuid") ?: "", 36, uuid) ||
	    msg_list(&st, &agent, uuid, NULL, NULL, etag, &msgs) != SUP_OK)
		bail_out("the messages of a listed ticket");
	for (size_t i = 0; i < alen(msgs); i++) {
		const char *c = jstr(aget(msgs, i), "content") ?: "";
		search_words(c, strlen(c), word_add, &text);
	}
	json_object_put(msgs);
	search_words(q, n, word_add, &words);
	if (words.len == 0 || text.failed || words.failed)
		all = false;
	for (char *w = words.p, *sp; all && w < words.p + words.len;
	    w = sp + 1) {
		char look[SEARCH_WORD_MAX + 3];
		sp = memchr(w, ' ', (size_t)(words.p + words.len - w));
		snprintf(look, sizeof(look), " %.*s ", (int)(sp - w), w);
		sbuf_add(&text, "", 1);
		text.len--;
		all = text.p != NULL && strstr(text.p, look) != NULL;
	}
	free(text.p);
	free(words.p);
	return all;
}

/* Does API ticket o pass q's filters?  The test's own reading of them. */
static bool
passes(const struct ticket_query *q, json_object *o)
{
	json_object *a = jget(o, "assignee");
	int64_t created = 0;
	int status = ticket_status_from(jstr(o, "status") ?: "");
	char num[24];

	if (q->has_user && jint(jget(o, "user"), "id") != q->user)
		return false;
	if (q->status_mask != 0 && !(q->status_mask & (1u << status)))
		return false;
	if (q->priority >= 0 &&
	    ticket_priority_from(jstr(o, "priority") ?: "") != q->priority)
		return false;
	if (q->has_assignee && (a == NULL ? 0 : jint(a, "id")) != q->assignee)
		return false;
	time_parse(jstr(o, "created_at") ?: "", &created);
	if ((q->has_after && created < q->created_after) ||
	    (q->has_before && created >= q->created_before))
		return false;
	if (q->q == NULL)
		return true;
	snprintf(num, sizeof(num), "%lld", (long long)jint(o, "number"));
	if (strcmp(q->q + (q->q[0] == '#'), num) == 0)
		return true;
	return q->q[0] != '#' && has_words(o, q->q, q->q_len);
}

/*
 * The list with q's filters, in pages of 3, against every ticket the
 * agent sees (all, in q's order) filtered by the test: the same tickets
 * in the same order, and the same count on every page.
 */
static bool
filtered_as_expected(const struct ticket_query *fq, json_object *all,
    const char *what)
{
	struct ticket_query q = *fq;
	json_object *o;
	size_t want = 0, got = 0;
	bool same = true;

	for (size_t i = 0; i < alen(all); i++)
		want += passes(&q, aget(all, i));
	q.page_size = 3;
	for (q.page = 1;; q.page++) {
		sup_err e = list(&agent, &q, &o);
		if (e == SUP_ENOTFOUND && q.page > 1)
			break;
		if (e != SUP_OK) {
			diag("%s: page %ld: error %d", what, q.page, e);
			return false;
		}
		json_object *r = jget(o, "results");
		same &= jint(o, "count") == (int64_t)want;
		for (size_t i = 0; i < alen(r); i++) {
			/* The next ticket of all that passes. */
			size_t k = 0, j = 0;
			for (; j < alen(all); j++)
				if (passes(&q, aget(all, j)) && k++ == got)
					break;
			same &= j < alen(all) && strcmp(jstr(aget(r, i),
			    "uuid") ?: "", jstr(aget(all, j), "uuid") ?: "")
			    == 0;
			got++;
		}
		size_t n = alen(r);
		json_object_put(o);
		if (n < 3)
			break;
	}
	if (!same || got != want)
		diag("%s: %zu of %zu expected, %s", what, got, want,
		    same ? "in order" : "not the same");
	return same && got == want;
}

/*
 * Filters read from the stored text (fields_text in lib/desk/ticket.c) and,
 * for a subject with escapes, from the parsed record: every filter and
 * pairs of them give what the test finds in the whole list.  A list of
 * several statuses is counted from the status counters.
 */
static void
test_list_filters(void)
{
	struct ticket_query q = query();
	json_object *all, *by_number, *o;
	uint8_t t[UUID_LEN];
	int64_t mid = 0;

	/* A subject with a number in it, one with a slash (stored as \/). */
	if (create(&agent, "Order 2 lost, ticket 12", "x", PRI_HIGH, &o) !=
	    SUP_OK || !uuid_parse(jstr(o, "uuid") ?: "", 36, t))
		bail_out("creating the order ticket");
	json_object_put(o);
	if (create(&agent, "Printer / scanner", "x", PRI_URGENT, &o) != SUP_OK)
		bail_out("creating the printer ticket");
	json_object_put(o);
	set_status(&agent, t, ST_WAITING_FOR_USER);
	/* Assigned and resolved in one change; then back to nobody, open. */
	struct ticket_patch p = no_change;
	p.set_assignee = true;
	p.assignee = agent.id;
	p.status = ST_RESOLVED;
	if (ticket_update(&st, &agent, t, &p, &o) != SUP_OK)
		bail_out("assigning and resolving");
	json_object_put(o);
	if (create(&agent, "Assigned, then not", "x", PRI_LOW, &o) != SUP_OK ||
	    !uuid_parse(jstr(o, "uuid") ?: "", 36, t))
		bail_out("creating the reassigned ticket");
	json_object_put(o);
	p.status = ST_WAITING_FOR_USER;
	if (ticket_update(&st, &agent, t, &p, &o) != SUP_OK)
		bail_out("assigning");
	json_object_put(o);
	p.assignee = 0;
	p.status = ST_OPEN;
	if (ticket_update(&st, &agent, t, &p, &o) != SUP_OK)
		bail_out("unassigning and re-opening");
	json_object_put(o);
	q.page_size = 100;
	if (list(&agent, &q, &all) != SUP_OK || jint(all, "count") > 100)
		bail_out("the agent's whole list");
	json_object_get(jget(all, "results"));
	o = all;
	all = jget(o, "results");
	json_object_put(o);
	q.order = ORDER_NUMBER;
	if (list(&agent, &q, &by_number) != SUP_OK)
		bail_out("the agent's whole list by number");
	json_object_get(jget(by_number, "results"));
	o = by_number;
	by_number = jget(o, "results");
	json_object_put(o);
	time_parse(jstr(aget(all, alen(all) / 2), "created_at") ?: "", &mid);

	static const char *const words[] = {
		"printer", "PRINTER", "2", "#2", "12", "#12", "order 2", "/",
		"caf\xc3\xa9", "\",\"user\"", "no such words", "CAFE",
		"printer scanner", "scanner 2",
	};
	bool good = true;
	for (unsigned m = 1; m < 1u << ST_MAX; m++) {
		q = query();
		q.status_mask = m;
		good &= filtered_as_expected(&q, all, "status");
		q.order = ORDER_NUMBER;
		good &= filtered_as_expected(&q, by_number, "status by number");
	}
	ok(good, "every set of statuses: the tickets and the count the "
	    "whole list has");
	/* Counted from t_counts: the agent's, the unassigned, of each set. */
	good = true;
	for (unsigned m = 1; m < 1u << ST_MAX; m++)
		for (int who = 0; who < 2; who++) {
			q = query();
			q.status_mask = m;
			q.has_assignee = true;
			q.assignee = who == 0 ? agent.id : 0;
			good &= filtered_as_expected(&q, all, "assignee, status");
			q.order = ORDER_NUMBER;
			good &= filtered_as_expected(&q, by_number,
			    "assignee, status by number");
		}
	ok(good, "every set of statuses with an assignee and with none");
	good = true;
	for (int pri = 0; pri < PRI_MAX; pri++)
		for (unsigned m = 0; m < 1u << ST_MAX; m += 3) {
			q = query();
			q.priority = pri;
			q.status_mask = m;
			good &= filtered_as_expected(&q, all, "priority");
		}
	ok(good, "priority, alone and with statuses");
	good = true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		q = query();
		q.q = words[i];
		q.q_len = strlen(words[i]);
		good &= filtered_as_expected(&q, all, words[i]);
		q.status_mask = 1u << ST_OPEN | 1u << ST_WAITING_FOR_USER;
		good &= filtered_as_expected(&q, all, words[i]);
	}
	ok(good, "q: subjects (escaped ones too) and numbers, alone and "
	    "with statuses");
	good = true;
	for (int who = 0; who < 3; who++) {
		q = query();
		q.has_assignee = who < 2;
		q.assignee = who == 0 ? agent.id : 0;
		q.has_user = who == 2;
		q.user = alice.id;
		good &= filtered_as_expected(&q, all, "assignee or user");
		q.status_mask = 1u << ST_OPEN | 1u << ST_RESOLVED;
		good &= filtered_as_expected(&q, all, "and statuses");
		q.has_after = true;
		q.created_after = mid;
		good &= filtered_as_expected(&q, all, "and created_after");
		q.has_after = false;
		q.has_before = true;
		q.created_before = mid;
		good &= filtered_as_expected(&q, all, "and created_before");
	}
	ok(good, "assignee, user and creation times, with statuses");
	json_object_put(all);
	json_object_put(by_number);
}

/* Parse a list query string for u. */
static sup_err
parse_query(const char *qs, const struct sup_user *u, struct ticket_query *q)
{
	char buf[256];
	char *env[] = { "PATH_INFO=/api/support/tickets/", buf, NULL };
	static const struct sup_io io;
	struct sup_req r;
	sup_err e;

	snprintf(buf, sizeof(buf), "QUERY_STRING=%s", qs);
	if (req_parse(&r, env, io, NULL) != SUP_OK)
		bail_out("req_parse %s", qs);
	e = tquery_parse(&r, u, q);
	q->q = NULL;		/* it pointed into r */
	req_free(&r);
	return e;
}

static void
test_query_parse(void)
{
	struct ticket_query q;
	char qs[64];

	is_err(parse_query("", &alice, &q), SUP_OK, "an empty list query");
	ok(q.order == ORDER_UPDATED && q.desc && q.page == 1 &&
	    q.page_size == 20 && q.status_mask == 0 && q.priority == -1,
	    "  defaults: -updated_at, page 1 of 20, any status");
	is_err(parse_query("status=open,closed&ordering=number&page=2"
	    "&page_size=5&assignee=none&priority=high", &agent, &q), SUP_OK,
	    "a full list query");
	ok(q.status_mask == (1u << ST_OPEN | 1u << ST_CLOSED) &&
	    q.order == ORDER_NUMBER && !q.desc && q.page == 2 &&
	    q.page_size == 5 && q.has_assignee && q.assignee == 0 &&
	    q.priority == PRI_HIGH, "  every value read");
	is_err(parse_query("status=open,bogus", &agent, &q), SUP_EINVAL,
	    "an unknown status");
	is_err(parse_query("page_size=101", &agent, &q), SUP_EINVAL,
	    "page_size over 100");
	is_err(parse_query("sort=number", &agent, &q), SUP_EUNKNOWN,
	    "an unknown parameter");
	snprintf(qs, sizeof(qs), "user=%u", (unsigned)bob.id);
	is_err(parse_query(qs, &alice, &q), SUP_EFORBIDDEN,
	    "a customer asking for another user's tickets");
	snprintf(qs, sizeof(qs), "user=%u", (unsigned)alice.id);
	is_err(parse_query(qs, &alice, &q), SUP_OK,
	    "a customer asking for her own");
	is_err(parse_query("ordering=-created_at", &agent, &q), SUP_OK,
	    "ordering=-created_at");
	ok(q.order == ORDER_CREATED && q.desc, "  read");
	is_err(parse_query("ordering=-priority", &agent, &q), SUP_OK,
	    "ordering=-priority");
	ok(q.order == ORDER_PRIORITY && q.desc, "  read");
	is_err(parse_query("ordering=priority", &agent, &q), SUP_OK,
	    "ordering=priority");
	ok(q.order == ORDER_PRIORITY && !q.desc, "  read");
	is_err(parse_query("ordering=status", &agent, &q), SUP_EINVAL,
	    "ordering=status is not an ordering");
}

static void
test_thread(void)
{
	uint8_t t[UUID_LEN], first[UUID_LEN], other[UUID_LEN];
	char etag[ETAG_MAX], etag2[ETAG_MAX], cetag[ETAG_MAX], weak[ETAG_MAX + 4];
	json_object *o, *m;
	sup_err e;

	create_uuid(&alice, "Thread", t);
	o = show(&alice, t);
	juuid(aget(jget(o, "messages"), 0), first);
	json_object_put(o);
	for (int i = 0; i < 5; i++) {
		char text[32];
		snprintf(text, sizeof(text), "message %d", i);
		post1(i % 2 ? &agent : &alice, t, text, false);
	}

	is_err(thread(&agent, t, NULL, NULL, etag, &o), SUP_OK,
	    "msg_list of a thread");
	is_int(alen(o), 6, "  all 6 messages");
	ok(authors_are_objects(o), "  authors are User objects");
	is_str(jstr(aget(o, 0), "content"),
	    "Please help.", "  oldest first");
	bool increasing = true;
	for (size_t i = 1; i < alen(o); i++)
		increasing &= strcmp(jstr(aget(o, i - 1),
		    "created_at") ?: "", jstr(aget(o, i),
		    "created_at") ?: "") < 0;
	ok(increasing, "  created_at strictly increasing");
	juuid(aget(o, 3), other);
	json_object_put(o);

	is_err(thread(&agent, t, first, NULL, etag2, &o), SUP_OK,
	    "msg_list after the first message");
	ok(alen(o) == 5 && strcmp(jstr(
	    aget(o, 0), "content") ?: "", "message 0") ==
	    0, "  the 5 newer ones");
	json_object_put(o);
	is_err(thread(&agent, t, other, NULL, etag2, &o), SUP_OK,
	    "msg_list after the fourth");
	ok(alen(o) == 2 && strcmp(jstr(
	    aget(o, 0), "content") ?: "", "message 3") ==
	    0, "  the 2 newer ones");
	json_object_put(o);
	ok(strcmp(etag, etag2) != 0, "  another ETag than the whole thread");

	uint8_t nowhere[UUID_LEN];
	uuid_gen(nowhere);
	is_err(thread(&agent, t, nowhere, NULL, etag2, &o),
	    SUP_ENOTFOUND, "after= an unknown message: SUP_ENOTFOUND");
	o = show(&alice, t1);
	juuid(aget(jget(o, "messages"), 0), other);
	json_object_put(o);
	is_err(thread(&agent, t, other, NULL, etag2, &o),
	    SUP_ENOTFOUND, "after= a message of another ticket: "
	    "SUP_ENOTFOUND");

	/* The ETag. */
	thread(&agent, t, NULL, NULL, etag, &o);
	json_object_put(o);
	thread(&agent, t, NULL, NULL, etag2, &o);
	json_object_put(o);
	is_str(etag2, etag, "ETag unchanged without changes");
	ok(etag[0] == '"' && etag[strlen(etag) - 1] == '"',
	    "  a quoted entity tag (%s)", etag);
	o = (json_object *)1;
	e = thread(&agent, t, NULL, etag, etag2, &o);
	ok(e == SUP_OK && o == NULL, "If-None-Match with it: not modified");
	snprintf(weak, sizeof(weak), "\"x\", W/%s", etag);
	e = thread(&agent, t, NULL, weak, etag2, &o);
	ok(e == SUP_OK && o == NULL, "  also as a weak tag in a list");
	e = thread(&agent, t, NULL, "\"something-else\"", etag2, &o);
	ok(e == SUP_OK && o != NULL, "  another tag gives the thread");
	json_object_put(o);

	thread(&alice, t, NULL, NULL, cetag, &o);
	json_object_put(o);
	ok(strcmp(cetag, etag) != 0, "the owner's view has its own ETag");

	post(&alice, t, "One more.", false, &m);
	json_object_put(m);
	e = thread(&agent, t, NULL, etag, etag2, &o);
	ok(e == SUP_OK && o != NULL && alen(o) == 7,
	    "after a post, the old tag gives the new thread");
	ok(strcmp(etag, etag2) != 0, "  with a new ETag");
	json_object_put(o);

	strcpy(etag, etag2);
	set_status(&agent, t, ST_RESOLVED);
	e = thread(&agent, t, NULL, etag, etag2, &o);
	ok(e == SUP_OK && o != NULL, "a status change also changes the ETag");
	json_object_put(o);
}

/* The stored record of ticket t, parsed; bails out when it cannot. */
static json_object *
stored(const uint8_t t[UUID_LEN])
{
	json_object *rec;

	if (store_get(ticket_db(&st, TDB_TICKETS), NULL, t, UUID_LEN, 0, &rec) != SUP_OK)
		bail_out("cannot read a ticket record");
	return rec;
}

/* The last_message content of ticket t in u's list of carol's tickets. */
static const char *
listed_last(const struct sup_user *u, uint32_t owner, const uint8_t t[UUID_LEN])
{
	static char buf[64];
	struct ticket_query q = query();
	json_object *o, *r;
	uint8_t id[UUID_LEN];

	snprintf(buf, sizeof(buf), "(not listed)");
	q.has_user = true;
	q.user = owner;
	if (list(u, &q, &o) != SUP_OK)
		return "(list failed)";
	r = jget(o, "results");
	for (size_t i = 0; i < alen(r); i++) {
		juuid(aget(r, i), id);
		if (memcmp(id, t, UUID_LEN) == 0)
			snprintf(buf, sizeof(buf), "%s", jget(aget(r, i),
			    "last_message") ? jstr(jget(aget(r, i),
			    "last_message"), "content") : "(null)");
	}
	json_object_put(o);
	return buf;
}

/*
 * A ticket names its newest public message and newest note, and the list
 * shows the one its reader may see; a record written before those fields
 * existed reads the same (the thread is walked) and stays readable after
 * a post.
 */
static void
test_last_refs(void)
{
	struct sup_user carol;
	uint8_t t[UUID_LEN];
	json_object *rec, *o;

	make_user("carol", ROLE_USER, &carol);
	create_uuid(&carol, "Which one is last?", t);
	rec = stored(t);
	ok(jstr(rec, "last_public") != NULL && jnull(rec, "last_note"),
	    "a new ticket names its first message, and no note");
	json_object_put(rec);
	if (post1(&agent, t, "Public answer.", false) != SUP_OK ||
	    post1(&agent, t, "Private note.", true) != SUP_OK)
		bail_out("cannot post to carol's ticket");
	rec = stored(t);
	ok(jstr(rec, "last_public") != NULL && jstr(rec, "last_note") != NULL,
	    "after a reply and a note it names both");
	json_object_put(rec);
	is_str(listed_last(&carol, carol.id, t), "Public answer.",
	    "  the owner's list shows the reply as last_message");
	is_str(listed_last(&agent, carol.id, t), "Private note.",
	    "  the agent's list shows the note");

	/* The record as written before the refs: without them. */
	rec = stored(t);
	json_object_object_del(rec, "last_public");
	json_object_object_del(rec, "last_note");
	if (store_put(ticket_db(&st, TDB_TICKETS), NULL, t, UUID_LEN, rec, 0) != SUP_OK)
		bail_out("cannot rewrite carol's ticket");
	json_object_put(rec);
	is_str(listed_last(&carol, carol.id, t), "Public answer.",
	    "a record without the refs: the owner's list still right");
	is_str(listed_last(&agent, carol.id, t), "Private note.",
	    "  and the agent's");
	o = show(&carol, t);
	is_str(o ? jstr(jget(o, "last_message"), "content") : NULL,
	    "Public answer.", "  and the owner's detail");
	json_object_put(o);
	is_err(post1(&carol, t, "Still broken.", false), SUP_OK,
	    "  the owner can still post");
	rec = stored(t);
	ok(!json_object_object_get_ex(rec, "last_public", NULL),
	    "  the record stays without refs");
	json_object_put(rec);
	is_str(listed_last(&carol, carol.id, t), "Still broken.",
	    "  her list shows her message");
	is_str(listed_last(&agent, carol.id, t), "Still broken.",
	    "  and so does the agent's");
	user_clear(&carol);
}

/*
 * A thread longer than one bulk read (16 KB), and a message larger than
 * one: every message comes back, in order, whole.
 */
static void
test_long_thread(void)
{
	static char text[3000], big[40000];
	struct sup_user dora;
	uint8_t t[UUID_LEN], after[UUID_LEN];
	json_object *o, *msgs, *list;
	char etag[ETAG_MAX];
	bool in_order = true;

	make_user("dora", ROLE_USER, &dora);
	create_uuid(&dora, "A long thread", t);
	for (int i = 0; i < 40; i++) {
		memset(text, 'a' + i % 26, sizeof(text) - 1);
		snprintf(text, 16, "Message %02d ", i);
		text[strlen(text)] = ' ';
		if (post1(i % 2 ? &agent : &dora, t, text, false) != SUP_OK)
			bail_out("cannot post message %d", i);
		if (i == 20) {
			memset(big, 'z', sizeof(big) - 1);
			if (post1(&dora, t, big, false) != SUP_OK)
				bail_out("cannot post the big message");
		}
	}
	o = show(&dora, t);
	msgs = jget(o, "messages");
	is_int(alen(msgs), 42, "a thread of 42 messages (about 160 KB) shown whole");
	for (int i = 0, j = 1; i < 40 && j < (int)alen(msgs); i++, j++) {
		char want[16];
		snprintf(want, sizeof(want), "Message %02d ", i);
		if (strncmp(jstr(aget(msgs, (size_t)j), "content") ?: "", want,
		    strlen(want)) != 0 ||
		    strlen(jstr(aget(msgs, (size_t)j), "content") ?: "") !=
		    sizeof(text) - 1)
			in_order = false;
		if (i == 20)
			j++;
	}
	ok(in_order, "  in order, each whole");
	is_int(strlen(jstr(aget(msgs, 22), "content") ?: ""), sizeof(big) - 1,
	    "  the 40 KB message whole");
	ok(strncmp(jstr(jget(o, "last_message"), "content") ?: "",
	    "Message 39 ", 11) == 0, "  last_message the newest");
	juuid(aget(msgs, 30), after);
	json_object_put(o);
	is_err(thread(&dora, t, after, NULL, etag, &list), SUP_OK,
	    "the thread after its 31st message");
	is_int(alen(list), 11, "  the 11 after it");
	ok(strncmp(jstr(aget(list, 0), "content") ?: "", "Message 29 ", 11) ==
	    0, "  starting with the next one");
	json_object_put(list);
	user_clear(&dora);
}

/* Replace the content of ticket t's newest message in the store. */
static void
edit_last_message(const uint8_t t[UUID_LEN], const char *content)
{
	json_object *rec = stored(t);
	const char *ref = jstr(rec, "last_public");
	uint8_t key[MSG_KEY_LEN];
	json_object *m;
	size_t got;

	if (ref == NULL || sodium_hex2bin(key + UUID_LEN, MSG_KEY_LEN -
	    UUID_LEN, ref, strlen(ref), NULL, &got, NULL) != 0)
		bail_out("no last_public");
	memcpy(key, t, UUID_LEN);
	if (store_get(msg_db(&st), NULL, key, MSG_KEY_LEN, 0, &m) != SUP_OK)
		bail_out("cannot read the last message");
	json_object_object_add(m, "content", json_object_new_string(content));
	if (store_put(msg_db(&st), NULL, key, MSG_KEY_LEN, m, 0) != SUP_OK)
		bail_out("cannot write the last message");
	json_object_put(m);
	json_object_put(rec);
}

/*
 * Lists keep the last messages they showed, per process, for as long as
 * the ticket's rev stays: a change that moves the rev on (as any change
 * to a thread must, for its ETag) shows at once.
 */
static void
test_last_cache(void)
{
	struct sup_user erin;
	uint8_t t[UUID_LEN];

	make_user("erin", ROLE_USER, &erin);
	create_uuid(&erin, "Cached?", t);
	if (post1(&agent, t, "Before the edit.", false) != SUP_OK)
		bail_out("cannot post to erin's ticket");
	is_str(listed_last(&agent, erin.id, t), "Before the edit.",
	    "the agent's list shows the reply");
	is_str(listed_last(&agent, erin.id, t), "Before the edit.",
	    "  and again (from the cache)");
	is_str(listed_last(&erin, erin.id, t), "Before the edit.",
	    "  and the owner's, with her view of it");
	/*
	 * Written behind the desk's back (no event): the same words, so that
	 * the search index, which only events keep, still agrees with it.
	 */
	edit_last_message(t, "BEFORE the edit!");
	if (set_status(&agent, t, ST_RESOLVED) != SUP_OK)
		bail_out("cannot resolve erin's ticket");
	is_str(listed_last(&agent, erin.id, t), "BEFORE the edit!",
	    "a message changed, and the ticket's rev with it: the list "
	    "shows the change");
	is_str(listed_last(&erin, erin.id, t), "BEFORE the edit!",
	    "  to the owner too");
	if (post1(&erin, t, "Thanks!", false) != SUP_OK)
		bail_out("cannot post to erin's ticket");
	is_str(listed_last(&agent, erin.id, t), "Thanks!",
	    "a new message shows at once");

	/*
	 * A page of tickets made within a few milliseconds (their uuids
	 * begin with the same time): once listed, all their last messages
	 * are in the cache, so listing them again reads none.
	 */
	struct ticket_query q = query();
	json_object *o;
	uint32_t locks[3];
	for (int i = 0; i < 20; i++)
		create_uuid(&agent, "Made at once", t);
	q.has_user = true;
	q.user = agent.id;
	for (int i = 0; i < 3; i++) {
		DB_LOCK_STAT *ls;
		uint32_t before;
		if (st.env->lock_stat(st.env, &ls, 0) != 0)
			bail_out("lock_stat");
		before = ls->st_nrequests;
		free(ls);
		if (list(&agent, &q, &o) != SUP_OK)
			bail_out("listing the agent's own tickets");
		json_object_put(o);
		if (st.env->lock_stat(st.env, &ls, 0) != 0)
			bail_out("lock_stat");
		locks[i] = ls->st_nrequests - before;
		free(ls);
	}
	ok(locks[1] == locks[2] && locks[1] + 20 <= locks[0], "20 tickets made "
	    "at once: listed again, no last message is read (%u, then %u and "
	    "%u lock requests)", locks[0], locks[1], locks[2]);
	user_clear(&erin);
}

static void
report_line(void *ctx, const char *line)
{
	int *n = ctx;

	(*n)++;
	diag("verify: %s", line);
}

/* The stored text of ticket t (free it); bails out when it cannot. */
static char *
stored_text(const uint8_t t[UUID_LEN], size_t *len)
{
	DBT k = { .data = (void *)t, .size = UUID_LEN };
	DBT d = { .flags = DB_DBT_MALLOC };

	if (ticket_db(&st, TDB_TICKETS)->get(ticket_db(&st, TDB_TICKETS), NULL, &k, &d, 0) != 0)
		bail_out("cannot read a ticket record");
	*len = d.size;
	return d.data;
}

/*
 * Is ticket t stored as json-c prints its own parse: compact, and the
 * fields in the order they were written (a post patches the text)?
 */
static bool
stored_as_json_c(const uint8_t t[UUID_LEN])
{
	size_t len, plen;
	char *text = stored_text(t, &len);
	json_object *rec = stored(t);
	const char *printed = json_object_to_json_string_length(rec,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &plen);
	bool same = printed != NULL && plen == len &&
	    memcmp(printed, text, len) == 0;

	if (!same)
		diag("stored: %.*s", (int)len, text);
	json_object_put(rec);
	free(text);
	return same;
}

/*
 * A post rewrites the ticket's stored text in place: status, updated_at,
 * first_response_at, resolved_at and closed_at, the counts and refs, the
 * rest byte for byte (also a subject that looks like the fields).
 */
static void
test_post_record(void)
{
	static const char subject[] =
	    "Odd \",\"status\":\"closed\",\"user\":1} \\\" subject";
	struct sup_user fiona;
	uint8_t t[UUID_LEN];
	json_object *rec, *m;
	char first[64];
	size_t len0, len1;
	char *before, *after;

	make_user("fiona", ROLE_USER, &fiona);
	create_uuid(&fiona, subject, t);
	if (post(&agent, t, "First answer.", false, &m) != SUP_OK)
		bail_out("cannot post to fiona's ticket");
	rec = stored(t);
	is_str(jstr(rec, "subject"), subject,
	    "a post keeps a subject that looks like the fields");
	is_str(jstr(rec, "status"), "waiting_for_user",
	    "  staff's reply moves the status");
	is_str(jstr(rec, "first_response_at"), jstr(m, "created_at"),
	    "  and sets first_response_at to the reply's time");
	is_str(jstr(rec, "updated_at"), jstr(m, "created_at"),
	    "  and updated_at");
	is_int(jint(rec, "rev"), 2, "  rev moves on");
	is_int(jint(rec, "unanswered"), 0, "  nothing unanswered");
	is_int(jint(rec, "replies"), 1, "  1 reply for the owner");
	ok(stored_as_json_c(t), "  the record is as json-c prints it");
	snprintf(first, sizeof(first), "%s", jstr(rec, "first_response_at") ?
	    jstr(rec, "first_response_at") : "");
	json_object_put(rec);
	json_object_put(m);

	post1(&agent, t, "Second answer.", false);
	post1(&agent, t, "A note.", true);
	rec = stored(t);
	is_str(jstr(rec, "first_response_at"), first,
	    "a later reply leaves first_response_at");
	is_int(jint(rec, "public_count"), 3, "  3 public messages");
	is_int(jint(rec, "note_count"), 1, "  1 note");
	is_str(jstr(rec, "status"), "waiting_for_user",
	    "  a note leaves the status");
	ok(stored_as_json_c(t), "  the record is as json-c prints it");
	json_object_put(rec);

	if (set_status(&fiona, t, ST_RESOLVED) != SUP_OK)
		bail_out("cannot resolve fiona's ticket");
	if (post(&fiona, t, "It broke again.", false, &m) != SUP_OK)
		bail_out("cannot post to fiona's ticket");
	rec = stored(t);
	is_str(jstr(rec, "status"), "waiting_for_admin",
	    "the owner's post re-opens a resolved ticket");
	ok(jnull(rec, "resolved_at") && jnull(rec, "closed_at"),
	    "  resolved_at and closed_at are null again");
	is_int(jint(rec, "unanswered"), 1, "  1 unanswered");
	is_int(jint(rec, "replies"), 0, "  no reply left for the owner");
	is_str(jstr(rec, "updated_at"), jstr(m, "created_at"),
	    "  updated_at is her message's time");
	ok(stored_as_json_c(t), "  the record is as json-c prints it");
	json_object_put(rec);
	json_object_put(m);

	if (set_status(&fiona, t, ST_CLOSED) != SUP_OK)
		bail_out("cannot close fiona's ticket");
	before = stored_text(t, &len0);
	is_err(post1(&fiona, t, "Hello?", false), TICKET_ECLOSED,
	    "the owner cannot post to her closed ticket");
	after = stored_text(t, &len1);
	ok(len0 == len1 && memcmp(before, after, len0) == 0,
	    "  and the record is left as it was");
	free(before);
	free(after);
	is_err(post1(&agent, t, "Re-opened by staff.", false), SUP_OK,
	    "staff may post to a closed ticket");
	rec = stored(t);
	is_str(jstr(rec, "status"), "waiting_for_user", "  which re-opens it");
	ok(jnull(rec, "closed_at"), "  closed_at is null again");
	ok(stored_as_json_c(t), "  the record is as json-c prints it");
	json_object_put(rec);

	/* A record without a head field: refused, and left as it was. */
	size_t good_len, bad_len;
	char *good = stored_text(t, &good_len), *bad;
	rec = stored(t);
	json_object_object_del(rec, "resolved_at");
	if (store_put(ticket_db(&st, TDB_TICKETS), NULL, t, UUID_LEN, rec, 0) != SUP_OK)
		bail_out("cannot rewrite fiona's ticket");
	json_object_put(rec);
	bad = stored_text(t, &bad_len);
	is_err(post1(&agent, t, "Into a damaged record.", false), SUP_EDB,
	    "a post to a ticket not laid out as view.h says is refused");
	after = stored_text(t, &len1);
	ok(len1 == bad_len && memcmp(bad, after, len1) == 0,
	    "  and changes nothing");
	free(bad);
	free(after);
	/* Put it back, for the verify at the end. */
	DBT k = { .data = t, .size = UUID_LEN };
	DBT d = { .data = good, .size = (u_int32_t)good_len };
	if (ticket_db(&st, TDB_TICKETS)->put(ticket_db(&st, TDB_TICKETS), NULL, &k, &d, 0) != 0)
		bail_out("cannot restore fiona's ticket");
	free(good);
	user_clear(&fiona);
}

/*
 * Write rec as ticket t's record, and as its t_recent entry (its
 * updated_at unchanged), outside the library's checks: so that the one
 * thing a test breaks in it is what verify finds.
 */
static void
rewrite_ticket(const uint8_t t[UUID_LEN], json_object *rec)
{
	const char *text;
	int64_t us;
	size_t len;

	text = json_object_to_json_string_length(rec,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text == NULL || !time_parse(jstr(rec, "updated_at"), &us) ||
	    store_put(ticket_db(&st, TDB_TICKETS), NULL, t, UUID_LEN, rec, 0) != SUP_OK ||
	    store_recent_move(&st, NULL, t, us, us, text, len) != SUP_OK)
		bail_out("cannot rewrite a ticket");
}

static void
test_verify(void)
{
	long problems = -1;
	int lines = 0;

	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, &lines, &problems), SUP_OK,
	    "store_verify after all of the above");
	is_int(problems, 0, "  0 problems");

	/* And it would have noticed a counter gone wrong. */
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	DB_TXN *txn;
	if (st.env->txn_begin(st.env, NULL, &txn, 0) != 0 ||
	    store_count_add(&st, txn, "open", 1) != SUP_OK ||
	    txn->commit(txn, 0) != 0)
		bail_out("count_add");
	store_close(&st);
	lines = 0;
	is_err(store_verify(&conf, desk_areas, report_line, &lines, &problems), SUP_OK,
	    "store_verify with the \"open\" counter off by one");
	is_int(problems, 1, "  1 problem");
	is_int(lines, 1, "  reported");

	/* And a ticket naming a message that is not its newest. */
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	json_object *rec = stored(t1);
	json_object_object_add(rec, "last_note", json_object_get(
	    json_object_object_get(rec, "last_public")));
	rewrite_ticket(t1, rec);
	json_object_put(rec);
	store_close(&st);
	lines = 0;
	is_err(store_verify(&conf, desk_areas, report_line, &lines, &problems), SUP_OK,
	    "store_verify with a ticket whose last_note is its last message");
	is_int(problems, 2, "  1 more problem");

	/* And a ticket without a head field a post rewrites in place. */
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	rec = stored(t2);
	json_object_object_del(rec, "first_response_at");
	rewrite_ticket(t2, rec);
	json_object_put(rec);
	store_close(&st);
	lines = 0;
	is_err(store_verify(&conf, desk_areas, report_line, &lines, &problems), SUP_OK,
	    "store_verify with a ticket without first_response_at");
	is_int(problems, 3, "  1 more problem");
}

/* --- The API's text, read in place (as the pages read it) ------------ */

/* Member name of text v as a C string (unescaped); the caller frees. */
static char *
text_str(struct jt v, const char *name)
{
	struct sbuf b = { 0 };
	struct jt m;

	if (!jt_member(v, name, strlen(name), &m) || !jt_string_get(m, &b))
		return strdup("(none)");
	sbuf_add(&b, "", 1);
	return b.p;
}

static void
test_thread_text(void)
{
	static const char *const posted[] = { "Hello \"fay\" \\ <b>\n\ttab "
		"\xe2\x82\xac", "Thanks!", "A note" };
	uint8_t t[UUID_LEN];
	json_object *raw;
	struct sup_user fay;
	struct jt text, msgs, m, sender;
	struct jt_iter it;
	char *s;
	size_t n = 0;
	bool contents = true, senders = true;

	make_user("fay", ROLE_USER, &fay);
	create_uuid(&fay, "Shared <objects> & \"quotes\"", t);
	if (post1(&agent, t, posted[0], false) != SUP_OK ||
	    post1(&fay, t, posted[1], false) != SUP_OK ||
	    post1(&agent, t, posted[2], true) != SUP_OK)
		bail_out("cannot post to fay's ticket");
	if (ticket_show(&st, &agent, t, &raw) != SUP_OK)
		bail_out("ticket_show");
	ok(jt_object_text(raw, &text), "the API's ticket is a text object");
	s = text_str(text, "subject");
	is_str(s, "Shared <objects> & \"quotes\"", "  its subject, unescaped");
	free(s);
	ok(jt_member(text, "messages", 8, &msgs) && jt_iter_start(msgs, &it),
	    "  its messages, an array");
	while (jt_iter_next(&it, &m)) {
		/* The opening message first, then the three posts. */
		if (n >= 1 && n <= 3) {
			s = text_str(m, "content");
			if (strcmp(s, posted[n - 1]) != 0)
				contents = false;
			free(s);
		}
		s = NULL;
		if (jt_member(m, "sender", 6, &sender))
			s = text_str(sender, "username");
		if (s == NULL || strcmp(s, n == 0 || n == 2 ? "fay" :
		    "agent") != 0)
			senders = false;
		free(s);
		n++;
	}
	is_int((long)n, 4, "  four messages, the note too");
	ok(contents, "  each content as posted (quotes, backslash, tab, "
	    "newline, UTF-8)");
	ok(senders, "  each sender's username");
	/* Its index steps over the thread (jt_object_known): rightly so. */
	struct jt_index full;
	const struct jt_index *ix = jt_object_index(raw);
	bool same = ix != NULL;
	jt_index_build(text, &full);
	for (size_t i = 0; same && i < full.n; i++)
		same = i < ix->n && ix->m[i].len == full.m[i].len &&
		    memcmp(ix->m[i].name, full.m[i].name, full.m[i].len) ==
		    0 && ix->m[i].v.p == full.m[i].v.p &&
		    ix->m[i].v.n == full.m[i].v.n;
	ok(same && ix->n == full.n && jt_index_get(ix, "messages", 8, &m) &&
	    m.p == msgs.p && m.n == msgs.n,
	    "  its index, made without reading the thread, is a full read's");
	json_object_put(raw);
	user_clear(&fay);
}

/* --- The list's own paths ---------------------------------------------- */

/*
 * Does each item of results read as the ticket's detail for u does,
 * without its "messages"?  The detail finds its last message by walking
 * the thread, the list by the ticket's refs or the per-process cache: a
 * stale or misplaced cache entry, or a ticket rendered from the wrong
 * text, shows here.
 */
static bool
items_match_details(const struct sup_user *u, json_object *results)
{
	size_t n = alen(results);

	for (size_t i = 0; i < n; i++) {
		json_object *item = aget(results, i), *d;
		uint8_t id[UUID_LEN];
		bool same;

		juuid(item, id);
		if ((d = show(u, id)) == NULL) {
			diag("item %zu: no detail", i);
			return false;
		}
		json_object_object_del(d, "messages");
		same = strcmp(json_object_to_json_string(item),
		    json_object_to_json_string(d)) == 0;
		if (!same)
			diag("item %zu: %s\n  detail: %s", i,
			    json_object_to_json_string(item),
			    json_object_to_json_string(d));
		json_object_put(d);
		if (!same)
			return false;
	}
	return n > 0;
}

/*
 * The uuids of the whole list for u in pages of size (appended to ids,
 * room for max); the count every page reported, or -1 when a page failed,
 * disagreed on the count, or was not full before the last one.
 */
static int64_t
list_in_pages(const struct sup_user *u, struct ticket_query q, int size,
    uint8_t (*ids)[UUID_LEN], size_t max, size_t *n)
{
	int64_t count = -1;
	json_object *o, *r;

	*n = 0;
	q.page_size = size;
	for (q.page = 1;; q.page++) {
		if (list(u, &q, &o) != SUP_OK)
			return q.page > 1 && count == (int64_t)*n ? count : -1;
		if (count >= 0 && jint(o, "count") != count) {
			json_object_put(o);
			return -1;
		}
		count = jint(o, "count");
		r = jget(o, "results");
		for (size_t i = 0; i < alen(r) && *n < max; i++)
			juuid(aget(r, i), ids[(*n)++]);
		bool short_page = alen(r) < (size_t)size;
		json_object_put(o);
		if (short_page)
			return count == (int64_t)*n ? count : -1;
	}
}

/* Are a[0..n) and b[0..n) the same uuids in the same order? */
static bool
same_ids(uint8_t (*a)[UUID_LEN], uint8_t (*b)[UUID_LEN], size_t n)
{
	return memcmp(a, b, n * UUID_LEN) == 0;
}

/*
 * A list with more tickets than the last-message cache has entries:
 * every page, of any size and in any order, is the right slice (the
 * tickets before a page are skipped without reading their records), and
 * every item reads as its detail, cached or not, after changes too.
 */
static void
test_list_pages(void)
{
	enum { MANY = 300, MAX = 400 };
	static uint8_t by100[MAX][UUID_LEN], by7[MAX][UUID_LEN];
	static const struct { enum ticket_order order; bool desc; } orders[] = {
		{ ORDER_UPDATED, true }, { ORDER_UPDATED, false },
		{ ORDER_NUMBER, false }, { ORDER_CREATED, true },
		{ ORDER_PRIORITY, true },
	};
	struct ticket_query q;
	uint8_t t[UUID_LEN];
	json_object *o;
	size_t n100, n7;
	char subject[32];
	int64_t c100, c7;
	bool all_match;

	for (int i = 0; i < MANY; i++) {
		snprintf(subject, sizeof(subject), "Many %d", i);
		create_uuid(&agent, subject, t);
		if ((i % 3 == 0 && post1(&agent, t, "A note.", true) != SUP_OK) ||
		    (i % 5 == 0 && post1(&agent, t, "A reply.", false) !=
		    SUP_OK))
			bail_out("cannot post to ticket %d", i);
	}
	for (size_t k = 0; k < SUP_NELEM(orders); k++) {
		q = query();
		q.order = orders[k].order;
		q.desc = orders[k].desc;
		c100 = list_in_pages(&agent, q, 100, by100, MAX, &n100);
		c7 = list_in_pages(&agent, q, 7, by7, MAX, &n7);
		ok(c100 >= MANY && c100 == c7 && n100 == n7 &&
		    same_ids(by100, by7, n100),
		    "order %zu: pages of 7 and of 100 list the same %lld "
		    "tickets in the same order", k, (long long)c100);
	}
	/* Newest activity first, each ticket once: the order is right. */
	q = query();
	c100 = list_in_pages(&agent, q, 100, by100, MAX, &n100);
	bool once = c100 == (int64_t)n100;
	for (size_t i = 0; i < n100 && once; i++)
		for (size_t j = i + 1; j < n100 && once; j++)
			once = memcmp(by100[i], by100[j], UUID_LEN) != 0;
	ok(once, "-updated_at in pages of 100: every ticket once");
	q.page_size = 100;
	q.page = 2;
	list(&agent, &q, &o);
	ok(sorted(jget(o, "results"), "updated_at", true),
	    "  page 2 newest activity first");
	json_object_put(o);

	/* A filter the index does not answer: records read, not skipped. */
	q = query();
	q.status_mask = 1u << ST_OPEN | 1u << ST_WAITING_FOR_USER;
	c100 = list_in_pages(&agent, q, 100, by100, MAX, &n100);
	c7 = list_in_pages(&agent, q, 7, by7, MAX, &n7);
	ok(c100 > 0 && c100 == c7 && n100 == n7 &&
	    same_ids(by100, by7, n100),
	    "status=open,waiting_for_user: pages of 7 and 100 agree (%lld)",
	    (long long)c100);

	/* Items against details: cold, then from the cache, then changed. */
	for (int round = 0; round < 3; round++) {
		all_match = true;
		q = query();
		q.page_size = 100;
		for (q.page = 1; q.page <= 4; q.page++) {
			if (list(&agent, &q, &o) != SUP_OK)
				break;
			all_match &= items_match_details(&agent,
			    jget(o, "results"));
			json_object_put(o);
		}
		ok(all_match, "round %d: every item of 4 pages of 100 reads "
		    "as its detail", round);
		/* Then a change to every 4th ticket on the 2nd page. */
		q.page = 2;
		list(&agent, &q, &o);
		for (size_t i = 0; i < alen(jget(o, "results")); i += 4) {
			juuid(aget(jget(o, "results"), i), t);
			if (post1(&agent, t, round % 2 ? "Later note." :
			    "Later reply.", round % 2 != 0) != SUP_OK)
				bail_out("cannot post a later message");
		}
		json_object_put(o);
	}
	/* And a customer's sorted list, page 2 of 2 each. */
	q = query();
	q.order = ORDER_NUMBER;
	q.page_size = 2;
	q.page = 2;
	is_err(list(&alice, &q, &o), SUP_OK, "alice's list by number, page 2");
	ok(items_match_details(&alice, jget(o, "results")),
	    "  each item reads as her detail");
	json_object_put(o);
}

/*
 * The tail of a stored ticket is read strictly: values as written, and
 * false for anything else (refs of lowercase hex only).
 */
static void
test_ticket_tail(void)
{
	static const char head[] = "{\"uuid\":\"x\",\"user\":\"not this\"";
	static const char ref[] =
	    "00000000000000010123456789abcdef0123456789abcdef";
	char rec[512];
	struct ticket_tail tt;

	snprintf(rec, sizeof(rec), "%s,\"user\":7,\"assignee\":null,"
	    "\"public_count\":2,\"note_count\":1,\"unanswered\":0,\"rev\":5,"
	    "\"last_us\":123,\"last_public\":\"%s\",\"last_note\":null}",
	    head, ref);
	ok(record_ticket_tail(rec, strlen(rec), &tt) && tt.user == 7 &&
	    tt.assignee == 0 && tt.public_count == 2 && tt.note_count == 1 &&
	    tt.unanswered == 0 && tt.rev == 5 && tt.last_us == 123 &&
	    tt.has_refs && tt.has_public && !tt.has_note &&
	    tt.last_public[7] == 1 && tt.last_public[8] == 0x01 &&
	    tt.last_public[9] == 0x23 && tt.last_public[15] == 0xef &&
	    tt.cut == strlen(head), "a ticket's tail read: numbers, refs, null");
	snprintf(rec, sizeof(rec), "%s,\"user\":7,\"assignee\":3,"
	    "\"public_count\":2,\"note_count\":1,\"unanswered\":0,\"rev\":5,"
	    "\"last_us\":123}", head);
	ok(record_ticket_tail(rec, strlen(rec), &tt) && !tt.has_refs &&
	    tt.assignee == 3, "  and one written before the refs");
	snprintf(rec, sizeof(rec), "%s,\"user\":7,\"assignee\":3,"
	    "\"public_count\":2,\"note_count\":1,\"unanswered\":0,\"rev\":5,"
	    "\"last_us\":123,\"last_public\":\"%.47sA\",\"last_note\":null}",
	    head, ref);
	ok(!record_ticket_tail(rec, strlen(rec), &tt),
	    "  an uppercase hex digit: not laid out");
	snprintf(rec, sizeof(rec), "%s,\"user\":7,\"assignee\":3,"
	    "\"public_count\":2,\"note_count\":1,\"unanswered\":0,\"rev\":5,"
	    "\"last_us\":123,\"last_public\":null,\"last_note\":\"g%.47s\"}",
	    head, ref);
	ok(!record_ticket_tail(rec, strlen(rec), &tt),
	    "  a g: not laid out");
	snprintf(rec, sizeof(rec), "%s,\"user\":7,\"assignee\":3,"
	    "\"public_count\":2,\"note_count\":1,\"unanswered\":0,\"rev\":5,"
	    "\"last_us\":123,\"last_public\":null,\"last_note\":\"%.46s\"}",
	    head, ref);
	ok(!record_ticket_tail(rec, strlen(rec), &tt),
	    "  a ref too short: not laid out");
	snprintf(rec, sizeof(rec), "%s,\"user\":7,\"assignee\":3,"
	    "\"public_count\":2,\"note_count\":1,\"unanswered\":0,\"rev\":5,"
	    "\"last_us\":123,\"last_public\":null}", head);
	ok(!record_ticket_tail(rec, strlen(rec), &tt),
	    "  one ref without the other: not laid out");
	snprintf(rec, sizeof(rec), "%s,\"user\":7,\"assignee\":3,"
	    "\"public_count\":2,\"note_count\":1,\"unanswered\":0,"
	    "\"last_us\":123}", head);
	ok(!record_ticket_tail(rec, strlen(rec), &tt),
	    "  a field missing: not laid out");
	snprintf(rec, sizeof(rec), "%s,\"user\":7,\"assignee\":3,"
	    "\"public_count\":2,\"note_count\":1,\"unanswered\":0,\"rev\":5,"
	    "\"last_us\":123", head);
	ok(!record_ticket_tail(rec, strlen(rec), &tt),
	    "  no closing brace: not laid out");
}

/*
 * A list item is the ticket's text as view_ticket_add makes it without
 * messages, byte for byte; a record not laid out is SUP_EDB.
 */
static void
test_list_add(void)
{
	struct sbuf a = { 0 }, b = { 0 };
	struct view v;
	size_t len;
	char *text = stored_text(t1, &len);
	const struct sup_user *readers[] = { &alice, &agent };

	for (size_t i = 0; i < SUP_NELEM(readers); i++) {
		view_begin(&v, &st, NULL, readers[i]);
		is_err(view_ticket_add(&v, text, len, false, &a), SUP_OK,
		    "reader %zu: view_ticket_add", i);
		is_err(view_ticket_list_add(&v, t1, text, len, &b), SUP_OK,
		    "  view_ticket_list_add");
		ok(a.len == b.len && a.len > 0 && memcmp(a.p, b.p, a.len) == 0,
		    "  the same text, byte for byte");
		view_end(&v);
		a.len = b.len = 0;
	}
	view_begin(&v, &st, NULL, &agent);
	is_err(view_ticket_list_add(&v, t1, text + 1, len - 1, &b), SUP_EDB,
	    "a text not starting with its uuid: SUP_EDB");
	is_err(view_ticket_list_add(&v, t1, text, len - 1, &b), SUP_EDB,
	    "a text cut short: SUP_EDB");
	view_end(&v);
	free(a.p);
	free(b.p);
	free(text);
}

/* --- The covering index of activity order (t_recent) ----------------- */

/* A ticket as the primary says: for the lists the covering index serves. */
struct pticket {
	uint8_t uuid[UUID_LEN];
	int64_t us;		/* updated_at */
	int status;
};

/* Newest activity first; the same microsecond: the greater uuid first. */
static int
newest_first(const void *a, const void *b)
{
	const struct pticket *x = a, *y = b;

	if (x->us != y->us)
		return x->us > y->us ? -1 : 1;
	return -memcmp(x->uuid, y->uuid, UUID_LEN);
}

/* Every ticket of tickets.db, newest activity first, into t[0..*n). */
static void
primary_tickets(struct pticket *t, size_t max, size_t *n)
{
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	json_object *rec;
	DBC *c;

	*n = 0;
	if (ticket_db(&st, TDB_TICKETS)->cursor(ticket_db(&st, TDB_TICKETS), NULL, &c, 0) != 0)
		bail_out("cursor");
	while (c->get(c, &k, &d, DB_NEXT) == 0) {
		if (*n == max || k.size != UUID_LEN ||
		    store_parse(&d, &rec) != SUP_OK ||
		    !time_parse(jstr(rec, "updated_at"), &t[*n].us))
			bail_out("a ticket record that does not read");
		memcpy(t[*n].uuid, k.data, UUID_LEN);
		t[*n].status = ticket_status_from(jstr(rec, "status"));
		json_object_put(rec);
		(*n)++;
	}
	c->close(c);
	free(k.data);
	free(d.data);
	qsort(t, *n, sizeof(*t), newest_first);
}

/*
 * Does t_recent hold exactly the primary: one entry a ticket, in the
 * order of newest_first, keyed by its updated_at and uuid, with its
 * record byte for byte?  Read directly, not through verify.
 */
static bool
recent_is_primary(void)
{
	static struct pticket t[1024];
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	uint8_t want[RECENT_KEY_LEN];
	size_t n, i = 0;
	bool same = true;
	DBC *c;

	primary_tickets(t, SUP_NELEM(t), &n);
	if (ticket_db(&st, TDB_RECENT)->cursor(ticket_db(&st, TDB_RECENT), NULL, &c, 0) != 0)
		bail_out("cursor");
	while (same && c->get(c, &k, &d, DB_NEXT) == 0) {
		size_t len;
		char *text;
		if (i == n) {
			diag("t_recent has an entry more than the tickets");
			same = false;
			break;
		}
		store_recent_key(want, t[i].us, t[i].uuid);
		text = stored_text(t[i].uuid, &len);
		if (k.size != RECENT_KEY_LEN ||
		    memcmp(k.data, want, RECENT_KEY_LEN) != 0) {
			diag("t_recent entry %zu: not the key of the ticket "
			    "that comes there", i);
			same = false;
		} else if (d.size != len || memcmp(d.data, text, len) != 0) {
			diag("t_recent entry %zu: not the ticket's record", i);
			same = false;
		}
		free(text);
		i++;
	}
	c->close(c);
	free(k.data);
	free(d.data);
	if (same && i != n) {
		diag("t_recent has %zu entries for %zu tickets", i, n);
		same = false;
	}
	return same;
}

/*
 * Do the staff's lists in activity order, both ways, whole and with a
 * status filter, in pages of 7, 20 and 100, give the tickets in the
 * order the primary records imply?
 */
static bool
lists_are_primary(void)
{
	static struct pticket t[1024];
	static uint8_t want[1024][UUID_LEN], got[1024][UUID_LEN];
	static const int sizes[] = { 7, 20, 100 };
	const unsigned mask = 1u << ST_OPEN | 1u << ST_WAITING_FOR_USER;
	size_t n, nwant, ngot;
	bool all = true;

	primary_tickets(t, SUP_NELEM(t), &n);
	for (int filtered = 0; filtered < 2; filtered++)
		for (int desc = 0; desc < 2; desc++) {
			nwant = 0;
			for (size_t i = 0; i < n; i++) {
				size_t j = desc ? i : n - 1 - i;
				if (!filtered || (mask & (1u << t[j].status)))
					memcpy(want[nwant++], t[j].uuid,
					    UUID_LEN);
			}
			for (size_t z = 0; z < SUP_NELEM(sizes); z++) {
				struct ticket_query q = query();
				q.desc = desc;
				if (filtered)
					q.status_mask = mask;
				int64_t c = list_in_pages(&agent, q, sizes[z],
				    got, SUP_NELEM(got), &ngot);
				if (c != (int64_t)nwant || ngot != nwant ||
				    !same_ids(want, got, nwant)) {
					diag("%supdated_at%s in pages of %d: "
					    "%lld listed, %zu expected",
					    desc ? "-" : "", filtered ?
					    ", status=open,waiting_for_user" :
					    "", sizes[z], (long long)c, nwant);
					all = false;
				}
			}
		}
	return all;
}

/* store_verify of the store now; its problem count (st reopened after). */
static long
verify_now(void)
{
	long problems = -1;
	int lines = 0;

	store_close(&st);
	if (store_verify(&conf, desk_areas, report_line, &lines, &problems) != SUP_OK)
		problems = -1;
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	return problems;
}

/* Put or delete one t_recent entry as it is, outside the library. */
static void
recent_raw(const uint8_t key[RECENT_KEY_LEN], const char *text, size_t len)
{
	DBT k = { .data = (void *)key, .size = RECENT_KEY_LEN };
	DBT d = { .data = (void *)text, .size = (u_int32_t)len };
	int rc = text != NULL ?
	    ticket_db(&st, TDB_RECENT)->put(ticket_db(&st, TDB_RECENT), NULL, &k, &d, DB_AUTO_COMMIT) :
	    ticket_db(&st, TDB_RECENT)->del(ticket_db(&st, TDB_RECENT), NULL, &k, DB_AUTO_COMMIT);

	if (rc != 0)
		bail_out("t_recent: %s", db_strerror(rc));
}

/* Make t_by_updated.db, as an older version's store has it. */
static void
make_old_index(void)
{
	uint8_t key[8 + UUID_LEN] = { 0 };
	DBT k = { .data = key, .size = sizeof(key) };
	DBT d = { .data = t1, .size = UUID_LEN };
	DB *db;

	if (db_create(&db, st.env, 0) != 0 ||
	    db->open(db, NULL, "t_by_updated.db", NULL, DB_BTREE,
	    DB_CREATE | DB_AUTO_COMMIT, 0660) != 0 ||
	    db->put(db, NULL, &k, &d, DB_AUTO_COMMIT) != 0 ||
	    db->close(db, 0) != 0)
		bail_out("cannot make t_by_updated.db");
}

/* Is there a file name in the store's directory? */
static bool
file_there(const char *name)
{
	char path[4096];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", conf.data_dir, name);
	return stat(path, &sb) == 0;
}

static bool
old_index_there(void)
{
	return file_there("t_by_updated.db");
}

/* Leave the marker file of a build, as a build cut short does. */
static void
mark_build(const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", conf.data_dir, name);
	if ((f = fopen(path, "w")) == NULL || fclose(f) != 0)
		bail_out("cannot make %s", path);
}

/*
 * Lay the store out as an older version's (t_by_updated.db, no
 * t_recent.db), and close it.
 */
static void
make_old_store(void)
{
	DB **recent = store_db_find(&st, "t_recent.db");
	(*recent)->close(*recent, 0);
	*recent = NULL;
	if (st.env->dbremove(st.env, NULL, "t_recent.db", NULL,
	    DB_AUTO_COMMIT) != 0)
		bail_out("cannot remove t_recent.db");
	make_old_index();
	store_close(&st);
}

/*
 * Rewrite ticket t in tickets.db only, as a program that does not know
 * t_recent would: updated_at set to us, the subject to subject.
 */
static void
old_program_write(const uint8_t t[UUID_LEN], int64_t us, const char *subject)
{
	char stamp[TIME_STRLEN + 1];
	json_object *rec = stored(t);

	time_format(us, stamp);
	json_object_object_add(rec, "updated_at",
	    json_object_new_string(stamp));
	json_object_object_add(rec, "subject", json_object_new_string(subject));
	if (store_put(ticket_db(&st, TDB_TICKETS), NULL, t, UUID_LEN, rec, 0) != SUP_OK)
		bail_out("cannot rewrite a ticket");
	json_object_put(rec);
}

/*
 * n processes opening the store at once (the workers of a program, as
 * they start); how many of them opened it.
 */
static int
open_at_once(int n)
{
	pid_t kids[8];
	int opened = 0;

	for (int i = 0; i < n && i < 8; i++)
		if ((kids[i] = fork()) == 0) {
			struct store mine;
			if (store_open(&mine, &conf, desk_areas) != SUP_OK)
				_exit(1);
			store_close(&mine);
			_exit(0);
		}
	for (int i = 0; i < n && i < 8; i++) {
		int status;
		if (kids[i] > 0 && waitpid(kids[i], &status, 0) == kids[i] &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			opened++;
	}
	return opened;
}

/*
 * t_recent after creates, PATCHes and posts (the tests above made ~320
 * tickets that way); what verify finds wrong in it; and the upgrade of a
 * store made by an older version (t_by_updated.db, no t_recent.db), or
 * run by one since (t_recent stale, t_by_updated.db made again).
 */
static void
test_covering(void)
{
	uint8_t t[UUID_LEN], key[RECENT_KEY_LEN];
	struct ticket_patch p = no_change;
	json_object *m;
	size_t len;
	char *text;
	int64_t us;

	/* One more of each write, to be sure: create, PATCH, post. */
	create_uuid(&agent, "Covering", t);
	p.priority = PRI_HIGH;
	if (update(&agent, t, &p, &m) != SUP_OK)
		bail_out("cannot change a ticket");
	json_object_put(m);
	post1(&alice, t1, "Covered?", false);
	ok(recent_is_primary(), "t_recent holds every ticket's record, newest "
	    "first, after creates, PATCHes and posts");
	ok(lists_are_primary(), "  the lists in activity order, both ways, "
	    "with and without a filter, page after page, as the records say");
	is_int(verify_now(), 0, "  verify finds nothing wrong");

	/* What verify finds: a stale record, a missing entry, a stray one. */
	json_object *rec = stored(t);
	if (!time_parse(jstr(rec, "updated_at"), &us))
		bail_out("updated_at");
	json_object_put(rec);
	store_recent_key(key, us, t);
	recent_raw(key, "{}", 2);
	is_int(verify_now(), 1, "verify: an entry whose data is not the "
	    "ticket's record is 1 problem");
	text = stored_text(t, &len);
	recent_raw(key, NULL, 0);
	is_int(verify_now(), 2, "verify: a ticket without its entry is 2 "
	    "(missing, and one entry short)");
	recent_raw(key, text, len);
	store_recent_key(key, us + 1, t);
	recent_raw(key, text, len);
	is_int(verify_now(), 1, "verify: a stray entry is 1 (one too many)");
	recent_raw(key, NULL, 0);
	free(text);
	is_int(verify_now(), 0, "  and with it gone, none");

	/* A store of an older version: t_by_updated.db, no t_recent.db. */
	make_old_store();
	ok(old_index_there(), "a store laid out as an older version made it");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open of the older store");
	ok(!old_index_there(), "  opening it removes t_by_updated.db");
	ok(recent_is_primary(), "  and fills t_recent from the tickets");
	ok(lists_are_primary(), "  the lists are as the records say");
	is_int(verify_now(), 0, "  verify finds nothing wrong");

	/*
	 * An older program run on it since: tickets written without their
	 * entries, two of them in the same microsecond, and t_by_updated.db
	 * made again (which it does on opening).
	 */
	us = time_now_us() + 1000000;
	old_program_write(t, us, "Written by an older program");
	old_program_write(t2, us, "Written by an older program too");
	make_old_index();
	ok(!recent_is_primary(), "an older program leaves t_recent stale");
	store_close(&st);
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open after an older program");
	ok(!old_index_there(), "  the next open removes t_by_updated.db again");
	ok(recent_is_primary(), "  and builds t_recent anew");
	ok(lists_are_primary(), "  the lists are as the records say, also for "
	    "two tickets of the same microsecond");
	is_int(verify_now(), 0, "  verify finds nothing wrong");
	post1(&agent, t, "After the upgrade.", false);
	ok(recent_is_primary(), "  a post after it moves its entry");

	/*
	 * A build cut short (the process died): the marker is still there
	 * and t_recent holds what the batches put so far, here one stray
	 * entry.  The next open builds it again from the start.
	 */
	store_recent_key(key, 12345, t);
	recent_raw(key, "{}", 2);
	mark_build("t_recent.build");
	store_close(&st);
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open after a build cut short");
	ok(!file_there("t_recent.build"), "a build cut short is done again on "
	    "the next open, and its marker removed");
	ok(recent_is_primary(), "  t_recent is the tickets again, the stray "
	    "entry gone");
	is_int(verify_now(), 0, "  verify finds nothing wrong");

	/*
	 * Processes opening an older store at once (the workers of a
	 * program): one builds, the others wait for it; all open the store.
	 * The ~320 tickets make two batches of the build.
	 */
	make_old_store();
	is_int(open_at_once(4), 4, "four processes opening an older store at "
	    "once all open it");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open after the parallel upgrade");
	ok(!old_index_there() && !file_there("t_recent.build"),
	    "  t_by_updated.db and the marker are gone");
	ok(recent_is_primary(), "  t_recent is the tickets");
	is_int(verify_now(), 0, "  verify finds nothing wrong");
}

/* The counts of each status: the agent's, nobody's, and all. */
struct counts {
	int64_t n[ST_MAX][3];
};

static struct counts
counts_now(void)
{
	struct counts c;

	for (int i = 0; i < ST_MAX; i++)
		if (store_tcount_get(&st, NULL, i, agent.id, &c.n[i][0]) !=
		    SUP_OK ||
		    store_tcount_get(&st, NULL, i, 0, &c.n[i][1]) != SUP_OK ||
		    store_tcount_status(&st, NULL, i, &c.n[i][2]) != SUP_OK)
			bail_out("reading t_counts");
	return c;
}

/* The value of counter kind of id (0 when there is none). */
static int64_t
counter_now(enum record_counter kind, int64_t id)
{
	char name[64];
	int64_t v;

	record_counter(name, sizeof(name), kind, id);
	if (store_count_get(&st, NULL, name, &v) != SUP_OK)
		bail_out("store_count_get %s", name);
	return v;
}

/*
 * A bulk change writes each count once, with the sum of its tickets'
 * moves (bulk_counts): the counts after it are those of the tickets one
 * by one, whichever status and assignee each came from.
 */
static void
test_bulk_counts(void)
{
	static const struct {
		int status;
		bool assigned;
	} from[4] = {
		{ ST_OPEN, false }, { ST_WAITING_FOR_USER, true },
		{ ST_RESOLVED, true }, { ST_OPEN, true },
	};
	uint8_t b[4][UUID_LEN];
	struct ticket_patch p;
	struct counts c0, c1;
	int64_t active0, mine0, none0;
	json_object *o;
	size_t failed;
	bool same = true;

	for (int i = 0; i < 4; i++) {
		create_uuid(&agent, "Bulk counts", b[i]);
		p = no_change;
		p.status = from[i].status;
		p.set_assignee = true;
		p.assignee = from[i].assigned ? agent.id : 0;
		is_err(update(&agent, b[i], &p, &o), SUP_OK,
		    "bulk counts: ticket %d made %s, %s", i,
		    ticket_status_names[from[i].status], from[i].assigned ?
		    "the agent's" : "nobody's");
		json_object_put(o);
	}
	c0 = counts_now();
	active0 = counter_now(RC_ACTIVE, agent.id);
	mine0 = counter_now(RC_ASSIGNEE, agent.id);
	none0 = counter_now(RC_ASSIGNEE, 0);

	/* All four closed and nobody's. */
	p = no_change;
	p.status = ST_CLOSED;
	p.set_assignee = true;
	p.assignee = 0;
	is_err(bulk_e(&agent, b, 4, &p, &failed, &o), SUP_OK,
	    "bulk counts: four tickets from three statuses closed, unassigned");
	is_int(jint(o, "updated"), 4, "  updated: 4");
	json_object_put(o);
	c1 = counts_now();
	for (int i = 0; i < ST_MAX; i++) {
		int64_t mine = 0, none = 0;
		for (int k = 0; k < 4; k++)
			if (from[k].status == i && from[k].assigned)
				mine--;
			else if (from[k].status == i)
				none--;
		if (i == ST_CLOSED)
			none += 4;
		if (c1.n[i][0] != c0.n[i][0] + mine ||
		    c1.n[i][1] != c0.n[i][1] + none ||
		    c1.n[i][2] != c0.n[i][2] + mine + none) {
			diag("%s: the agent's %lld -> %lld, nobody's %lld -> "
			    "%lld", ticket_status_names[i],
			    (long long)c0.n[i][0], (long long)c1.n[i][0],
			    (long long)c0.n[i][1], (long long)c1.n[i][1]);
			same = false;
		}
	}
	ok(same, "  t_counts: each status and assignee moved by its tickets");
	is_int(counter_now(RC_ACTIVE, agent.id), active0 - 3,
	    "  the owner's active count: three fewer (one was resolved)");
	is_int(counter_now(RC_ASSIGNEE, agent.id), mine0 - 3,
	    "  the agent's assigned count: three fewer");
	is_int(counter_now(RC_ASSIGNEE, 0), none0 + 3,
	    "  nobody's: three more");

	/* And back: open and the agent's, all four. */
	p.status = ST_OPEN;
	p.assignee = agent.id;
	is_err(bulk_e(&agent, b, 4, &p, &failed, &o), SUP_OK,
	    "bulk counts: the four re-opened, the agent's");
	json_object_put(o);
	c0 = counts_now();
	is_int(c0.n[ST_OPEN][0], c1.n[ST_OPEN][0] + 4,
	    "  open and the agent's: four more");
	is_int(c0.n[ST_CLOSED][1], c1.n[ST_CLOSED][1] - 4,
	    "  closed and nobody's: four fewer");
	is_int(counter_now(RC_ACTIVE, agent.id), active0 + 1,
	    "  the owner's active count: four more");
	is_int(counter_now(RC_ASSIGNEE, agent.id), mine0 + 1,
	    "  the agent's assigned count: four more");
	is_int(counter_now(RC_ASSIGNEE, 0), none0 - 1,
	    "  nobody's: four fewer");
	is_int(verify_now(), 0, "  verify finds every count right");
}

/* Is there a counter name in counters.db (whatever its value)? */
static bool
counter_there(const char *name)
{
	DBT k = { .data = (void *)name, .size = (u_int32_t)strlen(name) };
	DBT d = { .flags = DB_DBT_PARTIAL };

	return counter_db(&st)->get(counter_db(&st), NULL, &k, &d, 0) == 0;
}

/*
 * Lay the counts out as an older version's store: no t_counts.db, and a
 * counter per status in counters.db (as that version kept them).
 */
static void
make_old_counts(void)
{
	struct counts c = counts_now();
	DB_TXN *txn;

	DB **counts = store_db_find(&st, "t_counts.db");
	(*counts)->close(*counts, 0);
	*counts = NULL;
	if (st.env->dbremove(st.env, NULL, "t_counts.db", NULL,
	    DB_AUTO_COMMIT) != 0 || st.env->txn_begin(st.env, NULL, &txn, 0))
		bail_out("cannot remove t_counts.db");
	for (int i = 0; i < ST_MAX; i++)
		if (store_count_add(&st, txn, ticket_status_names[i],
		    c.n[i][2]) != SUP_OK)
			bail_out("cannot write the old counters");
	if (txn->commit(txn, 0) != 0)
		bail_out("commit");
}

/*
 * t_counts: the upgrade of a store made before it (the counts built from
 * the tickets, the old counters removed), a build whose counts were
 * written before it was cut short, and processes opening such a store
 * at once (with t_recent's build due too).
 */
static void
test_counts_upgrade(void)
{
	struct counts before = counts_now(), after;

	ok(before.n[ST_OPEN][2] > 0 && before.n[ST_RESOLVED][0] > 0 &&
	    before.n[ST_WAITING_FOR_USER][1] > 0, "the store has tickets of "
	    "several statuses, assigned and not");
	make_old_counts();
	store_close(&st);
	ok(!file_there("t_counts.db"), "a store laid out as an older version "
	    "made it");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open of the older store");
	after = counts_now();
	ok(memcmp(&before, &after, sizeof(before)) == 0, "  opening it counts "
	    "every status of every assignee");
	ok(!counter_there("open") && !counter_there("closed"), "  and removes "
	    "the counters of statuses");
	ok(!file_there("t_counts.build"), "  and its marker");
	is_int(verify_now(), 0, "  verify finds nothing wrong");

	/* Cut short after its counts were written: not counted twice. */
	mark_build("t_counts.build");
	store_close(&st);
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open after a build cut short");
	after = counts_now();
	ok(memcmp(&before, &after, sizeof(before)) == 0 &&
	    !file_there("t_counts.build"), "a build cut short after writing "
	    "its counts leaves them as they are, and its marker goes");

	/* Four processes opening a store that needs both builds. */
	make_old_counts();
	make_old_store();
	is_int(open_at_once(4), 4, "four processes opening a store due both "
	    "builds all open it");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open after the parallel upgrade");
	after = counts_now();
	ok(memcmp(&before, &after, sizeof(before)) == 0, "  the counts are "
	    "the tickets'");
	ok(recent_is_primary(), "  t_recent is the tickets");
	ok(!file_there("t_counts.build") && !file_there("t_recent.build"),
	    "  both markers are gone");
	is_int(verify_now(), 0, "  verify finds nothing wrong");
}

/*
 * close_old_tickets: every ticket resolved before the cut-off is closed
 * (closed_at set, resolved_at kept, the counters moved), in batches; one
 * resolved after it and one open are not; a second run closes nothing.
 */
static void
test_close_old(void)
{
	enum { N = CLOSE_BATCH * 2 + 30 };
	static uint8_t t[N][UUID_LEN];
	struct ticket_query q = query();
	json_object *o;
	int64_t cut, resolved, closed_before;
	long closed;
	bool good = true;

	for (int i = 0; i < N; i++) {
		if (create(&agent, "Old question", "x", PRI_LOW, &o) != SUP_OK ||
		    !uuid_parse(jstr(o, "uuid") ?: "", 36, t[i]))
			bail_out("creating ticket %d", i);
		json_object_put(o);
		if (i < N - 10 && set_status(&agent, t[i], ST_RESOLVED) !=
		    SUP_OK)
			bail_out("resolving ticket %d", i);
	}
	cut = time_now_us();
	for (int i = N - 10; i < N - 5; i++)
		set_status(&agent, t[i], ST_RESOLVED);
	q.status_mask = 1u << ST_RESOLVED;
	resolved = list_count(&agent, &q);
	q.status_mask = 1u << ST_CLOSED;
	closed_before = list_count(&agent, &q);

	is_err(ticket_close_resolved(&st, cut, &closed), SUP_OK,
	    "close_old_tickets over %d resolved tickets", (int)resolved);
	is_int(closed, resolved - 5, "  every one resolved before the cut-off "
	    "closed, in batches of %d", CLOSE_BATCH);
	for (int i = 0; i < N; i++) {
		const char *want = i < N - 10 ? "closed" : i < N - 5 ?
		    "resolved" : "open";
		o = show(&agent, t[i]);
		good &= o != NULL && strcmp(jstr(o, "status") ?: "", want) == 0 &&
		    (i < N - 10 ? !jnull(o, "closed_at") &&
		    !jnull(o, "resolved_at") : jnull(o, "closed_at"));
		json_object_put(o);
	}
	ok(good, "  closed with closed_at and their resolved_at; those resolved "
	    "later stay resolved, open ones open");
	is_int(list_count(&agent, &q), closed_before + closed,
	    "  status=closed counts them");
	q.status_mask = 1u << ST_RESOLVED;
	is_int(list_count(&agent, &q), 5, "  status=resolved: the 5 left");
	is_err(ticket_close_resolved(&st, cut, &closed), SUP_OK,
	    "close_old_tickets again");
	is_int(closed, 0, "  closes nothing");
	is_str(status_of(&agent, t[0]), "closed", "  and leaves them closed");
}

/*
 * The held reply (msg_post_seen): a post is refused with MSG_ESTALE and
 * the newer messages when a message its writer may see came after
 * last_seen; an internal note does not hold a customer's post but holds
 * staff's; the current last_seen posts; a last_seen that is no message
 * of the thread the writer may see is MSG_ESEEN; nothing is written on a
 * refusal.  The poll's ETag moves with a change of status, priority or
 * assignee (the ticket's head), not only with a message.
 */
static void
test_stale(void)
{
	uint8_t t[UUID_LEN], other[UUID_LEN], seen[UUID_LEN], reply[UUID_LEN];
	uint8_t note[UUID_LEN], nowhere[UUID_LEN];
	char etag[ETAG_MAX], etag2[ETAG_MAX];
	json_object *o, *m, *newer;
	size_t n;

	create_uuid(&alice, "Stale", t);
	create_uuid(&agent, "Another", other);
	o = show(&alice, t);
	juuid(aget(jget(o, "messages"), 0), seen);
	json_object_put(o);

	is_err(msg_post_seen(&st, &alice, t, "More.", 5, false, seen, &m,
	    &newer), SUP_OK, "msg_post_seen with the current last_seen");
	ok(m != NULL && newer == NULL, "  the message, no newer ones");
	m = reparse(m);
	juuid(m, seen);
	json_object_put(m);

	if (post(&agent, t, "Looking.", false, &m) != SUP_OK)
		bail_out("agent's reply");
	juuid(m, reply);
	json_object_put(m);
	is_err(thread(&alice, t, NULL, NULL, etag, &o), SUP_OK, "the thread");
	n = alen(o);
	json_object_put(o);
	is_err(msg_post_seen(&st, &alice, t, "Anyone?", 7, false, seen, &m,
	    &newer), MSG_ESTALE, "a newer reply: MSG_ESTALE");
	ok(m == NULL, "  no message");
	newer = reparse(newer);
	ok(newer != NULL && alen(newer) == 1, "  one newer message");
	if (newer != NULL && alen(newer) == 1) {
		uint8_t got[UUID_LEN];
		juuid(aget(newer, 0), got);
		ok(memcmp(got, reply, UUID_LEN) == 0, "  the agent's reply");
		is_str(jstr(aget(newer, 0), "content"), "Looking.",
		    "  with its content");
	}
	json_object_put(newer);
	is_err(thread(&alice, t, NULL, NULL, etag, &o), SUP_OK, "the thread");
	is_int(alen(o), n, "  nothing written");
	json_object_put(o);
	is_err(msg_post_seen(&st, &alice, t, "x", 1, false, seen, &m, NULL),
	    MSG_ESTALE, "  held without a place for the newer ones too");

	/* A note after the reply: not seen by the customer, so not stale. */
	if (post(&agent, t, "Impatient.", true, &m) != SUP_OK)
		bail_out("agent's note");
	juuid(m, note);
	json_object_put(m);
	is_err(msg_post_seen(&st, &alice, t, "Still here.", 11, false, reply,
	    &m, &newer), SUP_OK, "a newer note does not hold a customer");
	m = reparse(m);
	juuid(m, seen);
	json_object_put(m);
	is_err(msg_post_seen(&st, &agent, t, "Reply.", 6, false, note, &m,
	    &newer), MSG_ESTALE, "  the customer's post holds staff's");
	newer = reparse(newer);
	ok(newer != NULL && alen(newer) == 1, "  one newer message");
	json_object_put(newer);
	if (post(&agent, t, "Note two.", true, &m) != SUP_OK)
		bail_out("agent's second note");
	juuid(m, note);
	json_object_put(m);
	is_err(msg_post_seen(&st, &agent, t, "Reply.", 6, false, seen, &m,
	    &newer), MSG_ESTALE, "  a newer note holds staff's post");
	newer = reparse(newer);
	ok(newer != NULL && alen(newer) == 1 &&
	    json_object_get_boolean(jget(aget(newer, 0), "is_internal")),
	    "  the note is the newer message");
	json_object_put(newer);
	is_err(msg_post_seen(&st, &agent, t, "Reply.", 6, false, note, &m,
	    &newer), SUP_OK, "  with the note seen: posted");
	json_object_put(m);

	/* Not a message of this thread the writer may see. */
	uuid_gen(nowhere);
	is_err(msg_post_seen(&st, &alice, t, "x", 1, false, nowhere, &m,
	    &newer), MSG_ESEEN, "an unknown last_seen: MSG_ESEEN");
	o = show(&agent, other);
	juuid(aget(jget(o, "messages"), 0), other);
	json_object_put(o);
	is_err(msg_post_seen(&st, &alice, t, "x", 1, false, other, &m,
	    &newer), MSG_ESEEN, "  another ticket's message: MSG_ESEEN");
	is_err(msg_post_seen(&st, &alice, t, "x", 1, false, note, &m,
	    &newer), MSG_ESEEN, "  a note, for the customer: MSG_ESEEN");
	is_err(msg_post_seen(&st, &bob, t, "x", 1, false, seen, &m,
	    &newer), SUP_ENOTFOUND, "  another customer's ticket: SUP_ENOTFOUND");
	is_str(sup_errcode(MSG_ESTALE), "stale_thread", "the code");
	is_err(sup_errkind(MSG_ESTALE), SUP_ECONFLICT, "  a conflict");
	is_err(sup_errkind(MSG_ESEEN), SUP_EINVAL, "MSG_ESEEN is invalid input");

	/* The poll's tag covers the ticket's head. */
	struct ticket_patch p = no_change;
	struct {
		const char *what;
		int status, priority;
		bool set_assignee;
	} change[] = {
		{ "status", ST_RESOLVED, -1, false },
		{ "priority", -1, PRI_URGENT, false },
		{ "assignee", -1, -1, true },
	};
	is_err(thread(&alice, t, seen, NULL, etag, &o), SUP_OK, "the poll");
	json_object_put(o);
	for (size_t i = 0; i < SUP_NELEM(change); i++) {
		p = no_change;
		p.status = change[i].status;
		p.priority = change[i].priority;
		p.set_assignee = change[i].set_assignee;
		p.assignee = agent.id;
		if (update(&agent, t, &p, &o) != SUP_OK)
			bail_out("changing the %s", change[i].what);
		json_object_put(o);
		is_err(thread(&alice, t, seen, etag, etag2, &o), SUP_OK,
		    "a change of %s", change[i].what);
		ok(o != NULL && strcmp(etag, etag2) != 0,
		    "  the poll answers with a new ETag");
		json_object_put(o);
		is_err(thread(&alice, t, seen, etag2, etag, &o), SUP_OK,
		    "  then");
		ok(o == NULL, "  not modified");
	}
}

int
main(void)
{
	setup();
	test_create();
	test_messages();
	test_notes();
	test_status_machine();
	test_staff_update();
	test_other_customer();
	test_limit();
	test_list();
	test_list_filters();
	test_query_parse();
	test_thread();
	test_last_refs();
	test_long_thread();
	test_last_cache();
	test_post_record();
	test_thread_text();
	test_ticket_tail();
	test_list_add();
	test_list_pages();
	test_covering();
	test_counts_upgrade();
	test_close_old();
	test_bulk();
	test_bulk_counts();
	test_stale();
	user_clear(&alice);
	user_clear(&bob);
	user_clear(&agent);
	test_verify();
	conf_free(&conf);
	tap_rmtree(dir);
	return done_testing();
}
