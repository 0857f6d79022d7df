/*
 * test_data.c - the data commands' library (lib/desk/export.c,
 * retention.c, privacy.c): CSV fields; an export's window and its batches
 * over more tickets than a batch; a purge that leaves alone the events a
 * consumer has not read, and empties them once it has; an erasure refused
 * for the last admin, changing nothing.  The store passes store_verify at
 * the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "event.h"
#include "export.h"
#include "privacy.h"
#include "retention.h"
#include "store.h"
#include "sup.h"
#include "ticket.h"
#include "user.h"
#include "util.h"
#include "view.h"

#include "tap.h"

#define DAY_US (86400LL * 1000000)

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user cust, agent, boss;

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
make_ticket(const char *subject, uint8_t uuid[UUID_LEN])
{
	struct ticket_new in = { .subject = subject,
	    .subject_len = strlen(subject), .content = "Hello.",
	    .content_len = 6, .priority = PRI_NORMAL, .channel = CH_API };
	json_object *t;

	if (ticket_create(&st, &conf, &cust, &in, &t) != SUP_OK)
		bail_out("ticket_create");
	json_object_put(t);
	memcpy(uuid, in.uuid, UUID_LEN);
}

static void
close_ticket(const uint8_t uuid[UUID_LEN])
{
	struct ticket_patch p = { .status = ST_CLOSED, .priority = -1 };
	json_object *t;

	if (ticket_update(&st, &agent, uuid, &p, &t) != SUP_OK)
		bail_out("ticket_update");
	json_object_put(t);
}

/* --- CSV ----------------------------------------------------------------- */

static void
test_csv(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain", "plain" },
		{ "", "" },
		{ "a,b", "\"a,b\"" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
		{ "\"", "\"\"\"\"" },
		{ "two\nlines", "\"two\nlines\"" },
		{ "cr\r\nlf", "\"cr\r\nlf\"" },
		{ "caf\xc3\xa9 \xe2\x98\x83", "caf\xc3\xa9 \xe2\x98\x83" },
		{ " spaced ", " spaced " },
	};

	for (size_t i = 0; i < SUP_NELEM(cases); i++) {
		struct sbuf b = { 0 };

		export_csv_field(&b, cases[i].in, strlen(cases[i].in));
		is_str(b.len ? b.p : "", cases[i].out, "CSV field %zu", i);
		free(b.p);
	}
	/* Only n bytes are read: a quote after them is not the field's. */
	{
		struct sbuf b = { 0 };

		export_csv_field(&b, "ab\"c", 2);
		is_str(b.p, "ab", "CSV field: only its n bytes");
		free(b.p);
	}
}

/* --- Export ---------------------------------------------------------------- */

struct out {
	struct sbuf b;
	int writes;
};

static sup_err
to_buf(void *ctx, const char *p, size_t n)
{
	struct out *o = ctx;

	sbuf_add(&o->b, p, n);
	o->writes++;
	return o->b.failed ? SUP_ENOMEM : SUP_OK;
}

static sup_err
refuse(void *ctx SUP_UNUSED, const char *p SUP_UNUSED, size_t n SUP_UNUSED)
{
	return SUP_EIO;
}

static void
test_export(void)
{
	struct export_stats es;
	struct out o = { 0 };
	json_object *arr;
	uint8_t uuid[UUID_LEN];
	int64_t t0 = time_now_us();

	/* 250 tickets: three batches of 100. */
	for (int i = 0; i < 250; i++)
		make_ticket("Batch", uuid);
	is_err(export_tickets(&st, t0, time_now_us(), EXPORT_JSON, to_buf, &o,
	    &es), SUP_OK, "JSON export of 250 tickets");
	is_int(es.tickets, 250, "tickets");
	is_int(es.messages, 250, "messages");
	is_int(es.batches, 3, "read transactions of 100");
	arr = o.b.p ? json_tokener_parse(o.b.p) : NULL;
	ok(json_object_is_type(arr, json_type_array) &&
	    json_object_array_length(arr) == 250, "the text is an array of 250");
	json_object_put(arr);
	free(o.b.p);
	memset(&o, 0, sizeof(o));

	is_err(export_tickets(&st, time_now_us() + 1, time_now_us() + 2,
	    EXPORT_CSV, to_buf, &o, &es), SUP_OK, "an empty window");
	is_int(es.tickets, 0, "no ticket");
	ok(o.b.p != NULL && strchr(o.b.p, '\n') == o.b.p + o.b.len - 1,
	    "the header row alone");
	free(o.b.p);
	is_err(export_tickets(&st, 2, 1, EXPORT_CSV, to_buf, &o, NULL),
	    SUP_EINVAL, "since after until");
	is_err(export_tickets(&st, t0, time_now_us(), EXPORT_CSV, refuse,
	    NULL, NULL), SUP_EIO, "the writer's error stops it");
}

/* --- Purge ----------------------------------------------------------------- */

static int64_t consumed_upto;

static sup_err
consume_one(struct store *s SUP_UNUSED, DB_TXN *txn SUP_UNUSED,
    void *ctx SUP_UNUSED, int64_t seq, const char *text SUP_UNUSED,
    size_t len SUP_UNUSED)
{
	consumed_upto = seq;
	return SUP_OK;
}

/* The stored event seq, parsed (new), or NULL. */
static sup_err
keep_one(void *ctx, int64_t seq SUP_UNUSED, const char *text, size_t len)
{
	char *copy = strndup(text, len);

	*(json_object **)ctx = copy ? json_tokener_parse(copy) : NULL;
	free(copy);
	return SUP_OK;
}

static json_object *
event_at_seq(int64_t seq)
{
	json_object *ev = NULL;

	if (event_read(&st, seq, 1, keep_one, &ev, NULL) != SUP_OK)
		bail_out("event_read");
	return ev;
}

static void
test_purge(void)
{
	struct purge_stats ps;
	uint8_t old[UUID_LEN], kept[UUID_LEN];
	char us[UUID_STRLEN + 1];
	json_object *ev, *v, *t;
	int64_t created_seq, last;
	long handled;

	make_ticket("Old one", old);
	if (event_last(&st, &created_seq) != SUP_OK)
		bail_out("event_last");
	/* A consumer that has read everything before the old ticket. */
	is_err(event_consume(&st, "mail", (long)created_seq - 1, consume_one,
	    NULL, &handled), SUP_OK, "a consumer reads up to the ticket");
	close_ticket(old);
	make_ticket("Kept open", kept);
	time_test_offset(40 * DAY_US);

	is_err(ticket_purge(&st, time_now_us() - 30 * DAY_US, true, &ps),
	    SUP_OK, "dry run");
	is_int(ps.tickets, 1, "dry run: one ticket");
	is_err(ticket_show(&st, &agent, old, &t), SUP_OK, "dry run: kept");
	json_object_put(t);

	is_err(ticket_purge(&st, time_now_us() - 30 * DAY_US, false, &ps),
	    SUP_OK, "purge");
	is_int(ps.tickets, 1, "one ticket purged");
	is_int(ps.messages, 1, "with its message");
	is_int(ps.events, 0, "no event emptied: the consumer has not read them");
	ok(ps.events_held > 0, "events left for the consumer: %ld",
	    ps.events_held);
	is_err(ticket_show(&st, &agent, old, &t), SUP_ENOTFOUND, "purged");
	is_err(ticket_show(&st, &agent, kept, &t), SUP_OK, "the open one stays");
	json_object_put(t);
	ev = event_at_seq(created_seq);
	uuid_format(old, us);
	ok(ev != NULL && json_object_object_get_ex(ev, "ticket", &v) &&
	    strcmp(json_object_get_string(v), us) == 0,
	    "its ticket.created event is whole");
	json_object_put(ev);

	/* The consumer reads on; the next purge empties the events. */
	if (event_last(&st, &last) != SUP_OK)
		bail_out("event_last");
	is_err(event_consume(&st, "mail", 100000, consume_one, NULL,
	    &handled), SUP_OK, "the consumer reads the rest");
	is_int(consumed_upto, last, "up to the last");
	is_err(ticket_purge(&st, time_now_us() - 30 * DAY_US, false, &ps),
	    SUP_OK, "purge again");
	is_int(ps.tickets, 0, "nothing more to purge");
	is_int(ps.events, 2, "its two events emptied (created, closed)");
	ev = event_at_seq(created_seq);
	ok(ev != NULL && !json_object_object_get_ex(ev, "ticket", NULL) &&
	    !json_object_object_get_ex(ev, "data", NULL) &&
	    json_object_object_get_ex(ev, "purged", NULL) &&
	    json_object_object_get_ex(ev, "type", &v) &&
	    strcmp(json_object_get_string(v), "ticket.created") == 0,
	    "the event keeps its number and type, not its ticket or data");
	json_object_put(ev);
	time_test_offset(0);
}

/* --- Erasure ----------------------------------------------------------------- */

struct found {
	bool any;
	const char *word;
};

static sup_err
find_word(void *ctx, int64_t seq SUP_UNUSED, const char *text, size_t len)
{
	struct found *f = ctx;

	if (memmem(text, len, f->word, strlen(f->word)) != NULL)
		f->any = true;
	return SUP_OK;
}

static void
test_erase(void)
{
	struct erase_stats es;
	struct found f = { .word = "boss@example.com" };
	json_object *rec;
	int64_t before, after;

	/* boss is the only admin: refused, nothing changed. */
	if (event_last(&st, &before) != SUP_OK)
		bail_out("event_last");
	is_err(user_data_erase(&st, boss.id, &es), USER_ELASTADMIN,
	    "the last admin is refused");
	if (event_last(&st, &after) != SUP_OK)
		bail_out("event_last");
	is_int(after, before, "no event appended");
	is_err(user_get(&st, NULL, boss.id, &rec), SUP_OK, "boss is there");
	is_str(rec_str(rec, "username"), "boss", "with its name");
	json_object_put(rec);

	/* The customer: the stub, and its e-mail out of the log. */
	f.word = "cust@example.com";
	is_err(user_data_erase(&st, cust.id, &es), SUP_OK, "erase cust");
	is_err(user_get(&st, NULL, cust.id, &rec), SUP_OK, "its stub");
	is_str(rec_str(rec, "display_name"), USER_ERASED_DISPLAY, "shown as");
	is_str(rec_str(rec, "email"), "", "no e-mail");
	ok(user_is_erased(rec), "marked erased");
	json_object_put(rec);
	ok(es.events > 0, "events rewritten: %ld", es.events);
	if (event_read(&st, 1, 0, find_word, &f, NULL) != SUP_OK)
		bail_out("event_read");
	ok(!f.any, "the e-mail is in no event");
	f.word = "\"cust\"";
	f.any = false;
	if (event_read(&st, 1, 0, find_word, &f, NULL) != SUP_OK)
		bail_out("event_read");
	ok(!f.any, "nor the name");
	is_err(user_data_erase(&st, cust.id, &es), SUP_OK, "again: no error");
}

static void
report_line(void *ctx SUP_UNUSED, const char *line)
{
	diag("verify: %s", line);
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
	make_user("cust", ROLE_USER, &cust);
	make_user("agent", ROLE_AGENT, &agent);
	make_user("boss", ROLE_ADMIN, &boss);
	test_csv();
	test_export();
	test_purge();
	test_erase();
	store_close(&st);
	is_err(store_verify(&conf, desk_areas, report_line, NULL, &problems),
	    SUP_OK, "store_verify");
	is_int(problems, 0, "no problems");
	user_clear(&cust);
	user_clear(&agent);
	user_clear(&boss);
	conf_free(&conf);
	tap_rmtree(dir);
	return done_testing();
}
