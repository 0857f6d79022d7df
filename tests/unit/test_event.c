/*
 * test_event.c - the change-event log (lib/desk/event.c): one event per change,
 * in the change's transaction, numbered without holes in commit order;
 * subscribers inside the transaction; consumers from their own position;
 * trimming.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "event.h"
#include "msg.h"
#include "sess.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "user.h"
#include "util.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user alice, agent;

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

/* The events from seq from on, as one JSON array (json_object_put). */
struct collect {
	json_object *all;
};

static sup_err
collect_one(void *ctx, int64_t seq SUP_UNUSED, const char *text, size_t len)
{
	struct collect *c = ctx;
	char *copy = strndup(text, len);	/* the text has no NUL */
	json_object *o = copy != NULL ? json_tokener_parse(copy) : NULL;

	free(copy);
	if (o == NULL)
		return SUP_EDB;
	json_object_array_add(c->all, o);
	return SUP_OK;
}

static json_object *
events_from(int64_t from)
{
	struct collect c = { json_object_new_array() };

	if (event_read(&st, from, 0, collect_one, &c, NULL) != SUP_OK)
		bail_out("event_read");
	return c.all;
}

static json_object *
member(json_object *o, const char *k)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

static const char *
str(json_object *o, const char *k)
{
	json_object *v = member(o, k);

	return json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : "";
}

/* changes.field as "from>to" (null as "-"), for comparing. */
static const char *
change(json_object *ev, const char *field)
{
	static char buf[256];
	json_object *pair = member(member(ev, "changes"), field), *f, *t;

	if (!json_object_is_type(pair, json_type_array) ||
	    json_object_array_length(pair) != 2)
		return "(none)";
	f = json_object_array_get_idx(pair, 0);
	t = json_object_array_get_idx(pair, 1);
	snprintf(buf, sizeof(buf), "%s>%s", f ? json_object_get_string(f) :
	    "-", t ? json_object_get_string(t) : "-");
	return buf;
}

static int64_t
last(void)
{
	int64_t seq;

	if (event_last(&st, &seq) != SUP_OK)
		bail_out("event_last");
	return seq;
}

static json_object *
new_ticket(const struct sup_user *u, const char *subject, uint8_t uuid[16])
{
	struct ticket_new in = { .subject = subject,
		.subject_len = strlen(subject), .content = "Help.",
		.content_len = 5, .priority = PRI_NORMAL, .channel = CH_EMAIL };
	json_object *t = NULL;

	if (ticket_create(&st, &conf, u, &in, &t) != SUP_OK)
		bail_out("ticket_create");
	memcpy(uuid, in.uuid, 16);
	return t;
}

/* --- Tests ------------------------------------------------------------ */

static void
test_users(void)
{
	json_object *evs = events_from(1), *e;

	is_int(json_object_array_length(evs), 2,
	    "two accounts made: two events");
	e = json_object_array_get_idx(evs, 0);
	is_int(json_object_get_int64(member(e, "seq")), 1, "numbered from 1");
	is_str(str(e, "type"), "user.created", "the first: user.created");
	is_str(str(member(e, "data"), "username"), "alice", "  its username");
	is_int(json_object_get_int64(member(e, "user")), alice.id,
	    "  the account");
	ok(member(e, "actor") == NULL, "  no actor: the desk made it");
	ok(strstr(json_object_to_json_string(e), "secret") == NULL &&
	    member(member(e, "data"), "password") == NULL,
	    "  no password in it");
	ok(strlen(str(e, "id")) == UUID_STRLEN && strlen(str(e, "at")) ==
	    TIME_STRLEN, "  an id and a time");
	json_object_put(evs);

	int64_t from = last() + 1;
	is_err(user_set_role(&st, agent.id, alice.id, ROLE_AGENT), SUP_OK,
	    "a role changed");
	is_err(user_set_role(&st, agent.id, alice.id, ROLE_USER), SUP_OK,
	    "  and back");
	is_err(user_set_active(&st, 0, alice.id, false), SUP_OK,
	    "an account disabled");
	is_err(user_set_active(&st, 0, alice.id, true), SUP_OK, "  enabled");
	is_err(user_set_password(&st, alice.id, alice.id, "another one"),
	    SUP_OK, "a password changed");
	evs = events_from(from);
	is_int(json_object_array_length(evs), 5, "five changes: five events");
	e = json_object_array_get_idx(evs, 0);
	is_str(str(e, "type"), "user.changed", "user.changed");
	is_str(change(e, "role"), "user>agent", "  role from user to agent");
	is_int(json_object_get_int64(member(e, "actor")), agent.id,
	    "  the actor");
	is_str(str(json_object_array_get_idx(evs, 2), "type"),
	    "user.disabled", "user.disabled");
	is_str(str(json_object_array_get_idx(evs, 3), "type"),
	    "user.enabled", "user.enabled");
	e = json_object_array_get_idx(evs, 4);
	ok(json_object_get_boolean(member(member(e, "data"), "password")) &&
	    strstr(json_object_to_json_string(e), "argon2") == NULL,
	    "a password change: noted, without the hash");
	json_object_put(evs);
	is_err(user_set_role(&st, 0, 999999, ROLE_AGENT), SUP_ENOTFOUND,
	    "a change to no account");
	is_int(last(), from + 4, "  appends nothing");
}

static void
test_tickets(void)
{
	struct ticket_patch p = { .status = -1, .priority = -1 };
	uint8_t uuid[16];
	char us[UUID_STRLEN + 1];
	int64_t from = last() + 1;
	json_object *t, *evs, *e;

	json_object_put(new_ticket(&alice, "Printer on fire", uuid));
	uuid_format(uuid, us);
	evs = events_from(from);
	is_int(json_object_array_length(evs), 1, "a new ticket: one event");
	e = json_object_array_get_idx(evs, 0);
	is_str(str(e, "type"), "ticket.created", "ticket.created");
	is_str(str(e, "ticket"), us, "  its ticket");
	is_str(str(member(e, "data"), "subject"), "Printer on fire",
	    "  its subject");
	is_str(str(member(e, "data"), "channel"), "email",
	    "  its channel");
	ok(strlen(str(e, "message")) == UUID_STRLEN, "  its first message");
	is_int(json_object_get_int64(member(e, "actor")), alice.id,
	    "  the customer did it");
	json_object_put(evs);

	from = last() + 1;
	if (msg_post(&st, &agent, uuid, "On it.", 6, false, &t) != SUP_OK)
		bail_out("msg_post");
	json_object_put(t);
	if (msg_post(&st, &agent, uuid, "Call facilities.", 16, true, &t) !=
	    SUP_OK)
		bail_out("msg_post note");
	json_object_put(t);
	evs = events_from(from);
	is_int(json_object_array_length(evs), 2, "a reply and a note: two");
	e = json_object_array_get_idx(evs, 0);
	is_str(str(e, "type"), "message.posted", "message.posted");
	is_str(change(e, "status"), "open>waiting_for_user",
	    "  the status it moved");
	ok(json_object_get_boolean(member(member(e, "data"),
	    "first_response")), "  the first response");
	e = json_object_array_get_idx(evs, 1);
	is_str(str(e, "type"), "note.added", "note.added");
	ok(member(e, "changes") == NULL, "  changes nothing");
	json_object_put(evs);

	from = last() + 1;
	p.status = ST_RESOLVED;
	p.priority = PRI_URGENT;
	p.subject = "Printer fixed";
	p.subject_len = strlen(p.subject);
	p.set_assignee = true;
	p.assignee = agent.id;
	is_err(ticket_update(&st, &agent, uuid, &p, &t), SUP_OK,
	    "status, priority, subject and assignee in one PATCH");
	json_object_put(t);
	evs = events_from(from);
	is_int(json_object_array_length(evs), 1, "  one event");
	e = json_object_array_get_idx(evs, 0);
	is_str(str(e, "type"), "ticket.updated", "  ticket.updated");
	is_str(change(e, "status"), "waiting_for_user>resolved", "  status");
	is_str(change(e, "priority"), "normal>urgent", "  priority");
	is_str(change(e, "subject"), "Printer on fire>Printer fixed",
	    "  subject");
	{
		char want[32];
		snprintf(want, sizeof(want), "->%u", agent.id);
		is_str(change(e, "assignee"), want, "  assignee from none");
	}
	json_object_put(evs);

	from = last() + 1;
	p = (struct ticket_patch){ .status = ST_OPEN, .priority = -1 };
	is_err(ticket_update(&st, &alice, uuid, &p, &t), TICKET_ETRANSITION,
	    "a refused transition");
	is_int(last(), from - 1, "  appends nothing");

	long closed = 0;
	is_err(ticket_close_resolved(&st, time_now_us() + 1000000, &closed),
	    SUP_OK, "close_old_tickets");
	evs = events_from(from);
	is_int(json_object_array_length(evs), closed,
	    "  one event a ticket closed");
	e = json_object_array_get_idx(evs, 0);
	is_str(change(e, "status"), "resolved>closed", "  resolved>closed");
	ok(member(e, "actor") == NULL, "  by the desk itself");
	json_object_put(evs);
}

static void
test_logins(void)
{
	json_object *rec = NULL, *evs, *e;
	int64_t from = last() + 1;
	long wait;

	is_err(sess_login(&st, &conf, "alice", "wrong", 5, "192.0.2.7",
	    time_now_us(), &wait, &rec), SESS_ECREDS, "a wrong password");
	is_err(sess_login(&st, &conf, "nobody", "wrong", 5, "192.0.2.7",
	    time_now_us(), &wait, &rec), SESS_ECREDS, "an unknown name");
	is_err(sess_login(&st, &conf, "alice", "another one", 11,
	    "192.0.2.7", time_now_us(), &wait, &rec), SUP_OK,
	    "the right one");
	json_object_put(rec);
	is_int(last(), from + 1, "  a checked password is no login: two "
	    "events so far");
	is_err(sess_create(&st, alice.id, "192.0.2.7", "test", NULL, NULL,
	    NULL), SUP_OK, "a session begins");
	evs = events_from(from);
	is_int(json_object_array_length(evs), 3, "three events");
	e = json_object_array_get_idx(evs, 0);
	is_str(str(e, "type"), "login.failed", "login.failed");
	is_int(json_object_get_int64(member(e, "user")), alice.id,
	    "  the account named");
	is_str(str(member(e, "data"), "addr"), "192.0.2.7", "  the address");
	ok(member(json_object_array_get_idx(evs, 1), "user") == NULL,
	    "  an unknown name: no account, and the name is not kept");
	ok(strstr(json_object_to_json_string(evs), "nobody") == NULL &&
	    strstr(json_object_to_json_string(evs), "wrong") == NULL,
	    "  neither the name typed nor the password");
	e = json_object_array_get_idx(evs, 2);
	is_str(str(e, "type"), "login.succeeded", "login.succeeded");
	is_int(json_object_get_int64(member(e, "actor")), alice.id,
	    "  by the account");
	json_object_put(evs);
}

/* --- Subscribers ------------------------------------------------------ */

static long seen;
static int64_t seen_seq;
static bool refuse;

static sup_err
count_sub(struct store *s SUP_UNUSED, DB_TXN *txn SUP_UNUSED,
    const struct event *ev)
{
	seen++;
	seen_seq = ev->seq;
	return SUP_OK;
}

static sup_err
refuse_sub(struct store *s SUP_UNUSED, DB_TXN *txn SUP_UNUSED,
    const struct event *ev SUP_UNUSED)
{
	return refuse ? SUP_EDB : SUP_OK;
}

static const struct event_subscriber counter = { "test-counter", count_sub };
static const struct event_subscriber refuser = { "test-refuser", refuse_sub };

/*
 * An area of the test's own after the desk's: two subscribers, and a
 * consumer of the log, "late", that the log keeps its events for.
 */
static const struct event_subscriber *const test_subs[] = {
	&counter, &refuser, NULL
};
static const char *const late[] = { "late", NULL };
static const struct store_area test_area = {
	.name = "test", .subscribers = test_subs, .consumers = late,
};
static const struct store_area *areas[AREA_MAX + 2];

static void
test_subscribers(void)
{
	uint8_t uuid[16];
	json_object *t, *list = NULL;
	struct ticket_query q = { .priority = -1, .page = 1, .page_size = 100,
		.order = ORDER_NUMBER };
	int64_t before, count;

	seen = 0;
	json_object_put(new_ticket(&alice, "Seen", uuid));
	is_int(seen, 1, "a change: the subscriber ran once");
	is_int(seen_seq, last(), "  with the event, numbered");

	before = last();
	if (ticket_list(&st, &agent, &q, &list) != SUP_OK)
		bail_out("ticket_list");
	count = json_object_get_int64(member(list, "count"));
	json_object_put(list);
	refuse = true;
	struct ticket_new in = { .subject = "Refused", .subject_len = 7,
		.content = "x", .content_len = 1, .priority = PRI_LOW };
	is_err(ticket_create(&st, &conf, &alice, &in, &t), SUP_EDB,
	    "a subscriber's error is the change's error");
	refuse = false;
	is_int(last(), before, "  no event");
	if (ticket_list(&st, &agent, &q, &list) != SUP_OK)
		bail_out("ticket_list");
	is_int(json_object_get_int64(member(list, "count")), count,
	    "  and no ticket: the change was rolled back with it");
	json_object_put(list);
	json_object_put(new_ticket(&alice, "Numbered on", uuid));
	is_int(last(), before + 1, "the next change: no hole in the numbers");
}

/* --- Consumers and trimming ------------------------------------------ */

struct consumed {
	long n;
	int64_t first, last;
	bool fail_at_third;
};

static sup_err
consume_one(struct store *s SUP_UNUSED, DB_TXN *txn SUP_UNUSED, void *ctx,
    int64_t seq, const char *text SUP_UNUSED, size_t len SUP_UNUSED)
{
	struct consumed *c = ctx;

	if (c->fail_at_third && c->n == 2)
		return SUP_EIO;
	if (c->n++ == 0)
		c->first = seq;
	c->last = seq;
	return SUP_OK;
}

static void
test_consumers(void)
{
	struct consumed c = { 0 };
	int64_t pos, end = last();
	long handled;

	is_err(event_position(&st, "mail", &pos), SUP_OK, "a new consumer");
	is_int(pos, 0, "  at 0");
	is_err(event_consume(&st, "mail", 5, consume_one, &c, &handled),
	    SUP_OK, "a batch of 5");
	is_int(handled, 5, "  5 handled");
	is_int(c.first, 1, "  from the first event");
	event_position(&st, "mail", &pos);
	is_int(pos, 5, "  the position moved to 5");

	c = (struct consumed){ .fail_at_third = true };
	is_err(event_consume(&st, "mail", 5, consume_one, &c, &handled),
	    SUP_EIO, "a batch that fails at its third event");
	event_position(&st, "mail", &pos);
	is_int(pos, 5, "  the position stays: they come again");
	c = (struct consumed){ 0 };
	is_err(event_consume(&st, "mail", 1000, consume_one, &c, &handled),
	    SUP_OK, "the rest");
	is_int(c.first, 6, "  from where it was");
	is_int(c.last, end, "  to the last");
	c = (struct consumed){ 0 };
	event_consume(&st, "mail", 1000, consume_one, &c, &handled);
	is_int(handled, 0, "nothing new: nothing handed over");
	is_err(event_consume(&st, "", 10, consume_one, &c, NULL), SUP_EINVAL,
	    "a consumer without a name");

	/* Trimming: "late" holds the log back until it has read it. */
	long removed = -1;
	int64_t future = time_now_us() + 3 * 86400 * 1000000LL;
	is_err(event_trim(&st, 1, future, 0, &removed), SUP_OK,
	    "trim past the retention before a declared consumer has run");
	is_int(removed, 0, "  nothing removed: it is at 0");
	c = (struct consumed){ 0 };
	event_consume(&st, "late", 3, consume_one, &c, NULL);
	is_err(event_trim(&st, 90, future, 0, &removed), SUP_OK,
	    "trim within the retention");
	is_int(removed, 0, "  nothing removed");
	is_err(event_trim(&st, 1, future, 0, &removed), SUP_OK,
	    "trim past the retention");
	is_int(removed, 3, "  only what every consumer has passed");
	json_object *evs = events_from(1);
	is_int(json_object_get_int64(member(json_object_array_get_idx(evs, 0),
	    "seq")), 4, "  the log starts after them");
	json_object_put(evs);
	c = (struct consumed){ 0 };
	event_consume(&st, "late", 1000, consume_one, &c, NULL);
	evs = events_from(1);
	long stored = (long)json_object_array_length(evs);
	json_object_put(evs);
	is_err(event_trim(&st, 1, future, 0, &removed), SUP_OK,
	    "trim once both have read all");
	is_int(removed, stored - 1, "  all but the newest");
	evs = events_from(1);
	ok(json_object_array_length(evs) == 1 && json_object_get_int64(
	    member(json_object_array_get_idx(evs, 0), "seq")) == end,
	    "  the newest stays");
	json_object_put(evs);
	uint8_t uuid[16];
	int64_t before = last();
	json_object_put(new_ticket(&agent, "After the trim", uuid));
	is_int(last(), before + 1, "numbering goes on after a trim");
}

/* A child's consumer: writes each seq handed to it to the pipe fd. */
static sup_err
race_one(struct store *s SUP_UNUSED, DB_TXN *txn SUP_UNUSED, void *ctx,
    int64_t seq, const char *text SUP_UNUSED, size_t len SUP_UNUSED)
{
	int fd = *(int *)ctx;

	usleep(2000);	/* a handler's work: the other process comes meanwhile */
	return write(fd, &seq, sizeof(seq)) == (ssize_t)sizeof(seq) ?
	    SUP_OK : SUP_EIO;
}

/*
 * Two processes run one consumer at once, a batch of one event at a
 * time: each event is handed to exactly one of them, once (the position
 * is read for update: a batch of a consumer at a time).
 */
static void
test_consumer_race(void)
{
	uint8_t uuid[16];

	for (int i = 0; i < 60; i++)
		json_object_put(new_ticket(&agent, "Race", uuid));
	json_object *evs = events_from(1);
	int64_t first = json_object_get_int64(member(json_object_array_get_idx(
	    evs, 0), "seq")), end = last(), seq, pos;
	long *got = calloc((size_t)end + 1, sizeof(long));
	int out[2], go[2], status, twice = 0, missed = 0;
	pid_t kids[2];
	char c;

	json_object_put(evs);
	if (got == NULL || pipe(out) != 0 || pipe(go) != 0)
		bail_out("pipe");
	/* The consumer's position exists (at 0): the race is on moving it. */
	event_consume(&st, "race", 1, race_one, &out[1], NULL);
	for (int i = 0; i < 2; i++)
		if ((kids[i] = fork()) == 0) {
			struct store mine;
			long handled = 1;
			int rc = 0;

			close(go[1]);
			close(out[0]);
			if (store_open(&mine, &conf, areas) != SUP_OK)
				_exit(9);
			if (read(go[0], &c, 1) != 0)
				_exit(9);
			while (handled > 0 && rc == 0)
				if (event_consume(&mine, "race", 1, race_one,
				    &out[1], &handled) != SUP_OK)
					rc = 1;
			store_close(&mine);
			_exit(rc);
		}
	close(go[0]);
	close(out[1]);
	usleep(200000);
	close(go[1]);
	while (read(out[0], &seq, sizeof(seq)) == (ssize_t)sizeof(seq))
		if (seq >= 1 && seq <= end)
			got[seq]++;
	close(out[0]);
	for (int i = 0; i < 2; i++) {
		waitpid(kids[i], &status, 0);
		is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
		    "consumer race: process %d ended well", i + 1);
	}
	/* The log begins at first: the trims before kept only the newest. */
	for (int64_t i = first; i <= end; i++) {
		twice += got[i] > 1;
		missed += got[i] == 0;
	}
	is_int(twice, 0, "consumer race: no event handed over twice");
	is_int(missed, 0, "consumer race: none missed (of %" PRId64 ")",
	    end - first + 1);
	event_position(&st, "race", &pos);
	is_int(pos, end, "consumer race: the position is the last event");
	free(got);
}

int
main(void)
{
	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_store_conf(dir, sizeof(dir), &conf, "max_tickets_per_user = 0\n");
	memcpy(areas, desk_areas, AREA_MAX * sizeof(areas[0]));
	areas[AREA_MAX] = &test_area;
	if (store_open(&st, &conf, areas) != SUP_OK)
		bail_out("store_open");
	make_user("alice", ROLE_USER, &alice);
	make_user("agent", ROLE_AGENT, &agent);
	test_users();
	test_tickets();
	test_logins();
	test_subscribers();
	test_consumers();
	test_consumer_race();
	user_clear(&alice);
	user_clear(&agent);
	store_close(&st);
	conf_free(&conf);
	tap_rmtree(dir);
	return done_testing();
}
