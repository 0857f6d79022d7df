/*
 * test_record.c - the record codec (lib/desk/record.c): a ticket encoded
 * and decoded again is the same ticket; an older record (without channel,
 * without the refs) is read, channel null; the positional reads (tail,
 * head, state, index keys, filter fields) agree with the json-c decode on
 * random records, older ones too; a post's splice is what decoding and
 * moving says; every transition of the status machine for the owner and
 * for staff; messages; the counters' names.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sup.h"
#include "record.h"
#include "ticket.h"
#include "util.h"

#include "tap.h"

static uint64_t seed = 88172645463325252ull;

/* xorshift64: the same records on every run. */
static uint64_t
rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static uint32_t
rndn(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* A time within a few years of 2026, or null when it may be. */
static int64_t
rnd_time(bool may_be_null)
{
	if (may_be_null && rndn(3) == 0)
		return RECORD_NULL;
	return 1767225600000000LL + (int64_t)(rnd() % 100000000000000ull);
}

/* A subject with quotes, backslashes, control characters and UTF-8. */
static void
rnd_subject(char *buf, size_t cap, size_t *len)
{
	static const char *const bits[] = { "Printer", " ", "\"quoted\"",
		"\\", "\n", "\t", "é", "日本", ",\"status\":\"closed\"",
		",\"user\":9", "/", "\x01", "abc", "#12" };
	size_t n = 0, parts = 1 + rndn(8);

	for (size_t i = 0; i < parts; i++) {
		const char *b = bits[rndn(SUP_NELEM(bits))];
		size_t l = strlen(b);
		if (n + l >= cap)
			break;
		memcpy(buf + n, b, l);
		n += l;
	}
	buf[n] = '\0';
	*len = n;
}

static void
rnd_ticket(struct record_ticket *t, char *subject, size_t cap)
{
	memset(t, 0, sizeof(*t));
	uuid_gen_time(t->uuid, rnd_time(false));
	t->number = 1 + rndn(1000000);
	rnd_subject(subject, cap, &t->subject_len);
	t->subject = subject;
	t->status = (int)rndn(ST_MAX);
	t->priority = (int)rndn(PRI_MAX);
	t->created_at = rnd_time(false);
	t->updated_at = rnd_time(false);
	t->first_response_at = rnd_time(true);
	t->resolved_at = rnd_time(true);
	t->closed_at = rnd_time(true);
	t->channel = (int)rndn(CH_MAX + 1) - 1;		/* -1: null */
	t->user = 1 + rndn(100000);
	t->assignee = rndn(3) == 0 ? 0 : 1 + rndn(1000);
	t->public_count = rndn(500);
	t->note_count = rndn(50);
	t->unanswered = rndn(20);
	t->replies = rndn(20);
	t->rev = 1 + rndn(1000);
	t->last_us = rnd_time(false);
	t->has_refs = rndn(4) != 0;
	t->has_public = t->has_refs && rndn(3) != 0;
	t->has_note = t->has_refs && rndn(3) != 0;
	for (size_t i = 0; i < MSG_REF_LEN; i++) {
		t->last_public[i] = t->has_public ? (uint8_t)rnd() : 0;
		t->last_note[i] = t->has_note ? (uint8_t)rnd() : 0;
	}
}

/* Do two tickets have the same fields?  Names the first that differs. */
static bool
same_ticket(const struct record_ticket *a, const struct record_ticket *b,
    const char **what)
{
#define F(x) if (a->x != b->x) { *what = #x; return false; }
	F(number) F(status) F(priority) F(created_at) F(updated_at)
	F(first_response_at) F(resolved_at) F(closed_at) F(channel) F(user)
	F(assignee) F(public_count) F(note_count) F(unanswered) F(replies)
	F(rev) F(last_us) F(has_refs) F(has_public) F(has_note) F(subject_len)
#undef F
	*what = "uuid";
	if (memcmp(a->uuid, b->uuid, UUID_LEN) != 0)
		return false;
	*what = "subject";
	if (memcmp(a->subject, b->subject, a->subject_len) != 0)
		return false;
	*what = "refs";
	if ((a->has_public && memcmp(a->last_public, b->last_public,
	    MSG_REF_LEN) != 0) || (a->has_note && memcmp(a->last_note,
	    b->last_note, MSG_REF_LEN) != 0))
		return false;
	return true;
}

/* Remove the first `key` member (with its leading comma) from text. */
static void
strip_member(struct sbuf *b, const char *key)
{
	char *p = strstr(b->p, key), *end;

	if (p == NULL)
		return;
	end = p + strlen(key);
	if (*end == '"')
		end = strchr(end + 1, '"') + 1;
	else if (*end >= '0' && *end <= '9')
		end += strspn(end, "0123456789");
	else
		end += 4;	/* null */
	memmove(p, end, strlen(end) + 1);
	b->len = strlen(b->p);
}

/*
 * An older record: the text of t as the desk wrote it before channel and
 * replies (and, when no_refs, before the refs) existed.
 */
static void
older_text(struct record_ticket *t, bool no_refs, struct sbuf *b)
{
	if (no_refs)
		t->has_refs = t->has_public = t->has_note = false;
	record_ticket_encode(t, b);
	strip_member(b, ",\"channel\":");
	strip_member(b, ",\"replies\":");
	t->channel = -1;
	t->replies = 0;
}

static void
test_round_trip(void)
{
	char subject[256];
	int bad = 0;

	for (int i = 0; i < 2000; i++) {
		struct record_ticket t, d;
		struct sbuf b = { 0 };
		const char *what = "";
		rnd_ticket(&t, subject, sizeof(subject));
		record_ticket_encode(&t, &b);
		if (b.failed || record_ticket_decode(b.p, b.len, &d) != SUP_OK ||
		    !same_ticket(&t, &d, &what)) {
			if (bad++ == 0)
				diag("differs in %s: %s", what, b.p);
		}
		record_ticket_clear(&d);
		free(b.p);
	}
	is_int(bad, 0, "2000 random tickets encoded and decoded: the same");
}

static void
test_older(void)
{
	/* A record as ticket_create wrote it before channel and the refs. */
	static const char old[] = "{\"uuid\":"
	    "\"0193a0c4-0000-7000-8000-000000000001\",\"number\":12,"
	    "\"subject\":\"Old \\\"one\\\"\",\"status\":\"waiting_for_user\","
	    "\"priority\":\"high\",\"created_at\":"
	    "\"2026-01-02T03:04:05.000006Z\",\"updated_at\":"
	    "\"2026-01-03T03:04:05.000006Z\",\"first_response_at\":"
	    "\"2026-01-02T04:00:00.000000Z\",\"resolved_at\":null,"
	    "\"closed_at\":null,\"user\":7,\"assignee\":3,\"public_count\":2,"
	    "\"note_count\":1,\"unanswered\":0,\"rev\":4,\"last_us\":99}";
	struct record_ticket t;
	struct ticket_tail tt;
	struct ticket_head th;
	struct record_state st;
	struct sbuf b = { 0 };

	is_err(record_ticket_decode(old, strlen(old), &t), SUP_OK,
	    "an older record (no channel, no refs) decodes");
	is_int(t.channel, -1, "  channel null");
	ok(!t.has_refs && !t.has_public && !t.has_note, "  no refs");
	is_str(t.subject, "Old \"one\"", "  its subject unescaped");
	ok(t.user == 7 && t.assignee == 3 && t.rev == 4 &&
	    t.status == ST_WAITING_FOR_USER && t.priority == PRI_HIGH &&
	    t.resolved_at == RECORD_NULL && t.first_response_at != RECORD_NULL,
	    "  its other fields");
	is_int(t.replies, 0, "  replies 0");
	ok(record_ticket_tail(old, strlen(old), &tt) && !tt.has_channel &&
	    tt.channel == -1 && tt.chan_at == tt.cut && !tt.has_refs &&
	    tt.replies == 0 && tt.unanswered == 0 && tt.rev == 4,
	    "  its tail: no channel, no refs, replies 0");
	ok(record_ticket_head(old, strlen(old), &tt, &th) &&
	    record_ticket_state(old, &th, &st) &&
	    st.status == ST_WAITING_FOR_USER &&
	    st.first_response_at == t.first_response_at,
	    "  its head and state by position");
	record_ticket_public(old, &tt, &b);
	sbuf_adds(&b, "}");
	ok(!b.failed && strstr(b.p, ",\"closed_at\":null,\"channel\":null}") !=
	    NULL, "  shown with \"channel\":null");
	free(b.p);
	b = (struct sbuf){ 0 };
	/* Written whole again (a PATCH): it gets channel, null. */
	record_ticket_encode(&t, &b);
	ok(strstr(b.p, ",\"channel\":null,\"user\":7,") != NULL &&
	    strstr(b.p, ",\"unanswered\":0,\"replies\":0,\"rev\":4,") !=
	    NULL && strstr(b.p, "last_public") == NULL,
	    "  rewritten whole: channel null, replies 0, still no refs");
	free(b.p);
	record_ticket_clear(&t);

	static const char bad[] = "{\"uuid\":"
	    "\"0193a0c4-0000-7000-8000-000000000001\",\"number\":12,"
	    "\"subject\":\"x\",\"status\":\"open\",\"priority\":\"low\","
	    "\"created_at\":null,\"updated_at\":null,\"first_response_at\":null,"
	    "\"resolved_at\":null,\"closed_at\":null,\"channel\":\"fax\","
	    "\"user\":7,\"assignee\":null,\"public_count\":1,\"note_count\":0,"
	    "\"unanswered\":1,\"rev\":1,\"last_us\":1}";
	ok(!record_ticket_tail(bad, strlen(bad), &tt),
	    "a channel that is none: not laid out");
	is_err(record_ticket_decode(bad, strlen(bad), &t), SUP_EDB,
	    "  nor decoded");
	record_ticket_clear(&t);
	for (int c = 0; c < CH_MAX; c++)
		is_int(ticket_channel_from(ticket_channel_names[c]), c,
		    "channel %s", ticket_channel_names[c]);
	is_int(ticket_channel_from("fax"), -1, "no channel \"fax\"");
}

/* The positional reads of text against the decode of the same text. */
static bool
reads_agree(const struct sbuf *b, const char **what)
{
	struct record_ticket d;
	struct ticket_tail tt;
	struct ticket_head th;
	struct record_state st;
	struct record_keys k;
	struct record_filter f, g;
	bool ok = false;

	*what = "decode";
	if (record_ticket_decode(b->p, b->len, &d) != SUP_OK)
		goto out;
	*what = "tail";
	if (!record_ticket_tail(b->p, b->len, &tt) || tt.user != d.user ||
	    tt.assignee != d.assignee || tt.public_count != d.public_count ||
	    tt.note_count != d.note_count || tt.unanswered != d.unanswered ||
	    tt.replies != d.replies || tt.rev != d.rev || tt.last_us != d.last_us ||
	    tt.channel != d.channel || tt.has_refs != d.has_refs ||
	    tt.has_public != d.has_public || tt.has_note != d.has_note ||
	    (d.has_public && memcmp(tt.last_public, d.last_public,
	    MSG_REF_LEN) != 0) ||
	    (d.has_note && memcmp(tt.last_note, d.last_note, MSG_REF_LEN) != 0))
		goto out;
	*what = "head";
	if (!record_ticket_head(b->p, b->len, &tt, &th) ||
	    !record_ticket_state(b->p, &th, &st) || st.status != d.status ||
	    st.first_response_at != d.first_response_at ||
	    st.resolved_at != d.resolved_at || st.closed_at != d.closed_at)
		goto out;
	*what = "keys";
	if (!record_ticket_keys(b->p, b->len, &k, NULL) ||
	    memcmp(k.uuid, d.uuid, UUID_LEN) != 0 ||
	    k.number != (uint64_t)d.number || k.updated_us != d.updated_at ||
	    k.user != d.user || k.assignee != d.assignee ||
	    k.status != d.status || k.priority != d.priority)
		goto out;
	*what = "filter";
	record_filter_of(&d, &g);
	bool escaped = memchr(d.subject, '"', d.subject_len) ||
	    memchr(d.subject, '\\', d.subject_len) ||
	    memchr(d.subject, '\n', d.subject_len) ||
	    memchr(d.subject, '\t', d.subject_len) ||
	    memchr(d.subject, '\x01', d.subject_len);
	if (escaped != !record_ticket_filter(b->p, b->len,
	    RF_OWNERS | RF_SUBJECT | RF_CREATED, &f))
		goto out;
	if (!record_ticket_filter(b->p, b->len, RF_OWNERS | RF_CREATED, &f) ||
	    f.user != g.user || f.assignee != g.assignee ||
	    f.status != g.status || f.priority != g.priority ||
	    f.number != g.number || f.has_created != g.has_created ||
	    f.created != g.created)
		goto out;
	if (!escaped && (!record_ticket_filter(b->p, b->len, RF_SUBJECT, &f) ||
	    f.subject_len != g.subject_len ||
	    memcmp(f.subject, g.subject, g.subject_len) != 0))
		goto out;
	ok = true;
out:
	record_ticket_clear(&d);
	return ok;
}

static void
test_positional(void)
{
	static const char *const kinds[] = { "current", "without channel",
		"without channel and refs" };
	char subject[256];

	for (int kind = 0; kind < 3; kind++) {
		int bad = 0;
		for (int i = 0; i < 1000; i++) {
			struct record_ticket t;
			struct sbuf b = { 0 };
			const char *what = "";
			rnd_ticket(&t, subject, sizeof(subject));
			if (kind == 0)
				record_ticket_encode(&t, &b);
			else
				older_text(&t, kind == 2, &b);
			if (b.failed || !reads_agree(&b, &what)) {
				if (bad++ == 0)
					diag("%s differs: %s", what, b.p);
			}
			free(b.p);
		}
		is_int(bad, 0, "positional reads agree with the decode: 1000 "
		    "random %s records", kinds[kind]);
	}
}

/* A post's splice, decoded, is the ticket moved and counted. */
static void
test_splice(void)
{
	char subject[256];
	int bad = 0, moved = 0;

	for (int i = 0; i < 1000; i++) {
		struct record_ticket t, d;
		struct ticket_tail tt;
		struct ticket_head th;
		struct record_state was, st;
		struct sbuf b = { 0 }, out = { 0 };
		const char *what = "layout";
		int64_t now = rnd_time(false);
		bool staff = rndn(2), owner = !staff || rndn(4) == 0, first;
		rnd_ticket(&t, subject, sizeof(subject));
		if (rndn(2))
			older_text(&t, rndn(2), &b);
		else
			record_ticket_encode(&t, &b);
		if (!record_ticket_tail(b.p, b.len, &tt) ||
		    !record_ticket_head(b.p, b.len, &tt, &th) ||
		    !record_ticket_state(b.p, &th, &was))
			goto bad;
		st = was;
		if (record_status_move(&st, staff, owner, MOVE_POST, -1, now,
		    &first) != SUP_OK) {
			what = "refused";
			if (was.status == ST_CLOSED && !staff)
				goto next;	/* as it should */
			goto bad;
		}
		moved += st.status != was.status;
		tt.rev++;
		tt.public_count++;
		tt.replies++;
		tt.last_us = now;
		record_ticket_splice(b.p, &th, &was, &st, now, &tt, &out);
		t.rev++;
		t.public_count++;
		t.replies++;
		t.last_us = now;
		t.updated_at = now;
		record_state_set(&t, &st);
		what = "decode";
		if (out.failed || record_ticket_decode(out.p, out.len, &d) !=
		    SUP_OK) {
			record_ticket_clear(&d);
			goto bad;
		}
		bool same = same_ticket(&t, &d, &what);
		record_ticket_clear(&d);
		if (same)
			goto next;
bad:
		if (bad++ == 0)
			diag("splice: %s: %s", what, out.p ? out.p : b.p);
next:
		free(b.p);
		free(out.p);
	}
	is_int(bad, 0, "1000 random posts spliced in place: the record as "
	    "moved (%d moved status)", moved);
}

/* The status machine: every (from, to) for the owner and for staff. */
static void
test_machine(void)
{
	const int64_t t0 = 1767225600000000LL, now = t0 + 1000;
	int wrong = 0, n = 0;

	for (int from = 0; from < ST_MAX; from++)
		for (int to = 0; to < ST_MAX; to++)
			for (int staff = 0; staff < 2; staff++) {
				struct record_state st = {
					.status = from,
					.first_response_at = RECORD_NULL,
					.resolved_at = from == ST_RESOLVED ||
					    from == ST_CLOSED ? t0 : RECORD_NULL,
					.closed_at = from == ST_CLOSED ? t0 :
					    RECORD_NULL,
				}, was = st;
				bool first;
				sup_err e = record_status_move(&st, staff,
				    !staff, MOVE_SET, to, now, &first);
				bool allowed = from == to || staff ||
				    (from != ST_CLOSED && (to == ST_RESOLVED ||
				    to == ST_CLOSED));
				n++;
				if (!allowed) {
					if (e != TICKET_ETRANSITION ||
					    memcmp(&st, &was, sizeof(st)) != 0) {
						diag("%s -> %s by %s: not refused",
						    ticket_status_names[from],
						    ticket_status_names[to],
						    staff ? "staff" : "owner");
						wrong++;
					}
					continue;
				}
				int64_t res = to == from ? was.resolved_at :
				    to == ST_RESOLVED ? now : to == ST_CLOSED ?
				    was.resolved_at : RECORD_NULL;
				int64_t clo = to == from ? was.closed_at :
				    to == ST_CLOSED ? now : RECORD_NULL;
				if (e != SUP_OK || st.status != to ||
				    st.resolved_at != res || st.closed_at != clo ||
				    st.first_response_at != RECORD_NULL || first) {
					diag("%s -> %s by %s: %s",
					    ticket_status_names[from],
					    ticket_status_names[to],
					    staff ? "staff" : "owner",
					    sup_errname(e));
					wrong++;
				}
			}
	is_int(wrong, 0, "PATCH: all %d transitions, owner and staff: "
	    "allowed or refused, times set", n);

	/* Posts and notes, from every status. */
	wrong = 0;
	n = 0;
	for (int from = 0; from < ST_MAX; from++)
		for (int who = 0; who < 4; who++) {
			/* owner, staff, staff owning it, another customer */
			bool staff = who == 1 || who == 2, owner = who != 1 &&
			    who != 3;
			for (int note = 0; note < 2; note++)
				for (int responded = 0; responded < 2;
				    responded++) {
				struct record_state st = {
					.status = from,
					.first_response_at = responded ? t0 :
					    RECORD_NULL,
					.resolved_at = from == ST_RESOLVED ? t0 :
					    RECORD_NULL,
					.closed_at = from == ST_CLOSED ? t0 :
					    RECORD_NULL,
				}, was = st, want = st;
				bool first, want_first = false;
				sup_err want_e = SUP_OK;
				sup_err e = record_status_move(&st, staff, owner,
				    note ? MOVE_NOTE : MOVE_POST, -1, now,
				    &first);
				n++;
				if (note) {
					if (!staff)
						want_e = SUP_EFORBIDDEN;
				} else if (from == ST_CLOSED && !staff)
					want_e = TICKET_ECLOSED;
				else if (!staff && !owner)
					want_e = SUP_EFORBIDDEN;
				else {
					want.status = owner ?
					    ST_WAITING_FOR_ADMIN :
					    ST_WAITING_FOR_USER;
					if (want.status != from)
						want.resolved_at = want.closed_at =
						    RECORD_NULL;
					if (!owner && !responded) {
						want.first_response_at = now;
						want_first = true;
					}
				}
				if (want_e != SUP_OK)
					want = was;
				if (e != want_e || st.status != want.status ||
				    st.first_response_at !=
				    want.first_response_at ||
				    st.resolved_at != want.resolved_at ||
				    st.closed_at != want.closed_at ||
				    first != want_first) {
					diag("%s on %s by %d: %s",
					    note ? "note" : "post",
					    ticket_status_names[from], who,
					    sup_errname(e));
					wrong++;
				}
			}
		}
	is_int(wrong, 0, "posts and notes: all %d cases from every status, "
	    "owner, staff, staff owner, another customer", n);
	struct record_state st = { .status = ST_OPEN };
	bool first;
	is_err(record_status_move(&st, true, false, MOVE_SET, ST_MAX, 0,
	    &first), SUP_EINVAL, "a status out of range: SUP_EINVAL");
}

static void
test_messages(void)
{
	uint8_t ticket[UUID_LEN], key[MSG_KEY_LEN];
	struct record_message m;
	struct sbuf b = { 0 };
	char ref[MSG_REF_STRLEN + 1];
	size_t cut;
	uint32_t user;
	bool internal;

	uuid_gen_time(ticket, 1767225600000000LL);
	msg_key_new(key, ticket, 1767225600000001LL);
	record_message_encode(key, 42, "a \"b\" ,\"user\":1", 15,
	    "<p>a</p>", true, false, &b);
	ok(!b.failed && record_message_tail(b.p, b.len, &cut, &user,
	    &internal) && user == 42 && internal &&
	    strncmp(b.p + cut, ",\"user\":42}", 11) == 0,
	    "a message's author and flag by position");
	ok(record_message_decode(b.p, b.len, &m) == SUP_OK && m.user == 42 &&
	    m.internal && !m.from_user, "  and decoded");
	free(b.p);
	record_msg_ref(key, ref);
	ok(strlen(ref) == MSG_REF_STRLEN && strncmp(ref, "00064", 5) == 0,
	    "a message's ref: its key after the ticket, in hex");
}

static void
test_counters(void)
{
	char name[64];

	record_counter(name, sizeof(name), RC_TICKETS, 5);
	is_str(name, "tickets", "counter of all tickets");
	record_counter(name, sizeof(name), RC_USER, 7);
	is_str(name, "user:7", "counter of a user's");
	record_counter(name, sizeof(name), RC_ACTIVE, 7);
	is_str(name, "active:7", "counter of a user's active ones");
	record_counter(name, sizeof(name), RC_ASSIGNEE, 0);
	is_str(name, "assignee:0", "counter of the unassigned");
	ok(record_counter_name("assignee:3") && record_counter_name("open") &&
	    !record_counter_name("other"), "the families are recognised");
}

int
main(void)
{
	test_round_trip();
	test_older();
	test_positional();
	test_splice();
	test_machine();
	test_messages();
	test_counters();
	return done_testing();
}
