/*
 * test_remind.c - reminders and escalation (lib/desk/remind.c) in a
 * scratch store: nothing before the time; a ticket waiting for staff past
 * escalation_hours gets one ticket.escalated event, one waiting for its
 * customer past reminder_days one ticket.reminder_due event (with its
 * customer), each once per wait (a second scan appends nothing); a reply
 * and a new wait are reminded again; escalation_alerts off appends and
 * marks nothing; 0 days and hours turn the kinds off.  The store must
 * pass store_verify at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "event.h"
#include "msg.h"
#include "remind.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "user.h"
#include "util.h"

#include "tap.h"

#define HOUR_US (3600LL * 1000000)
#define DAY_US (24 * HOUR_US)

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user alice, agent;

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

/* A ticket by alice; its uuid. */
static void
create(const char *subject, uint8_t uuid[UUID_LEN])
{
	struct ticket_new in = {
		.subject = subject, .subject_len = strlen(subject),
		.content = "Please help.", .content_len = 12,
		.priority = PRI_NORMAL,
	};
	json_object *t = NULL;

	if (ticket_create(&st, &conf, &alice, &in, &t) != SUP_OK)
		bail_out("ticket_create %s", subject);
	memcpy(uuid, in.uuid, UUID_LEN);
	json_object_put(t);
}

static void
post(const struct sup_user *u, const uint8_t uuid[UUID_LEN], const char *text)
{
	json_object *m = NULL;

	if (msg_post(&st, u, uuid, text, strlen(text), false, &m) != SUP_OK)
		bail_out("msg_post %s", text);
	json_object_put(m);
}

/* Scan at now + offset with c; "reminded,escalated" into buf. */
static const char *
scan(const struct sup_conf *c, int64_t offset, char *buf, size_t n)
{
	long r = -1, x = -1;
	sup_err e = remind_scan(&st, c, time_now_us() + offset, &r, &x);

	if (e != SUP_OK)
		snprintf(buf, n, "error %s", sup_errcode(e));
	else
		snprintf(buf, n, "%ld,%ld", r, x);
	return buf;
}

/* The last event's text (a new string), or NULL. */
static sup_err
keep_text(void *ctx, int64_t seq SUP_UNUSED, const char *text, size_t len)
{
	char **out = ctx;

	free(*out);
	*out = strndup(text, len);
	return SUP_OK;
}

static char *
last_event(void)
{
	int64_t last;
	char *text = NULL;

	if (event_last(&st, &last) != SUP_OK ||
	    event_read(&st, last, 1, keep_text, &text, NULL) != SUP_OK)
		return NULL;
	return text;
}

static bool
has(const char *text, const char *what)
{
	return text != NULL && strstr(text, what) != NULL;
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
	struct sup_conf c;
	uint8_t waiting[UUID_LEN], open[UUID_LEN], later[UUID_LEN];
	char buf[64], uuid[UUID_STRLEN + 1], want[128], *ev;
	long problems = 0;

	if (sodium_init() < 0)
		bail_out("sodium_init");
	tap_store_conf(dir, sizeof(dir), &conf,
	    "max_tickets_per_user = 0\nreminder_days = 3\n"
	    "escalation_hours = 24\n");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	make_user("alice", ROLE_USER, &alice);
	make_user("agent", ROLE_AGENT, &agent);
	is_int(conf.reminder_days, 3, "reminder_days read");
	is_int(conf.escalation_hours, 24, "escalation_hours read");

	create("Waiting for alice", waiting);
	post(&agent, waiting, "Which one?");	/* waiting_for_user */
	create("Nobody answered", open);	/* open */

	is_str(scan(&conf, 0, buf, sizeof(buf)), "0,0", "nothing at once");
	is_str(scan(&conf, 23 * HOUR_US, buf, sizeof(buf)), "0,0",
	    "nothing at 23 h");
	is_str(scan(&conf, 25 * HOUR_US, buf, sizeof(buf)), "0,1",
	    "at 25 h: the open ticket escalated");
	ev = last_event();
	uuid_format(open, uuid);
	snprintf(want, sizeof(want), "\"ticket\":\"%s\"", uuid);
	ok(has(ev, "\"type\":\"ticket.escalated\"") && has(ev, want) &&
	    has(ev, "\"hours\":24") && has(ev, "\"status\":\"open\""),
	    "  a ticket.escalated event of it: %s", ev ? ev : "none");
	free(ev);
	is_str(scan(&conf, 26 * HOUR_US, buf, sizeof(buf)), "0,0",
	    "a second scan: nothing (once per wait)");

	is_str(scan(&conf, 3 * DAY_US - HOUR_US, buf, sizeof(buf)), "0,0",
	    "nothing for the customer before 3 days");
	is_str(scan(&conf, 3 * DAY_US + HOUR_US, buf, sizeof(buf)), "1,0",
	    "at 3 days: the waiting ticket reminded");
	ev = last_event();
	uuid_format(waiting, uuid);
	snprintf(want, sizeof(want), "\"ticket\":\"%s\"", uuid);
	ok(has(ev, "\"type\":\"ticket.reminder_due\"") && has(ev, want) &&
	    has(ev, "\"days\":3") && has(ev, "\"status\":\"waiting_for_user\""),
	    "  a ticket.reminder_due event of it: %s", ev ? ev : "none");
	snprintf(want, sizeof(want), "\"user\":%u", alice.id);
	ok(has(ev, want), "  naming its customer");
	free(ev);
	is_str(scan(&conf, 10 * DAY_US, buf, sizeof(buf)), "0,0",
	    "10 days on, the same waits: nothing");

	/* A reply and another staff answer: a new wait. */
	post(&alice, waiting, "The one upstairs.");
	post(&agent, waiting, "Switched on?");
	is_str(scan(&conf, 3 * DAY_US + HOUR_US, buf, sizeof(buf)), "1,0",
	    "the new wait reminded again");
	is_str(scan(&conf, 3 * DAY_US + HOUR_US, buf, sizeof(buf)), "0,0",
	    "  once");

	/* escalation_alerts off: nothing appended, nothing marked. */
	create("Switched off", later);
	c = conf;
	c.notify_escalation_alerts = false;
	is_str(scan(&c, 25 * HOUR_US, buf, sizeof(buf)), "0,0",
	    "escalation_alerts off: no escalation");
	c.notify_escalation_alerts = true;
	c.escalation_hours = 0;
	c.reminder_days = 0;
	is_str(scan(&c, 100 * DAY_US, buf, sizeof(buf)), "0,0",
	    "0 days and 0 hours: neither");
	is_str(scan(&conf, 25 * HOUR_US, buf, sizeof(buf)), "0,1",
	    "on again: the wait escalates once");

	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify");
	is_int(problems, 0, "  no problems");
	tap_rmtree(dir);
	return done_testing();
}
