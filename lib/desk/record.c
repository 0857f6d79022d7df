/*
 * record.c - the record codec (record.h): the stored layout of tickets
 * and messages, written and read; the status machine; the counters'
 * names.
 *
 * The positional reads rely on the layout record_ticket_encode and
 * record_message_encode write (record.h): the internal fields come last,
 * from the key "user" on, in a fixed order, and the head fields a post
 * rewrites (status ... closed_at) come in a fixed order before them, each
 * null or a string with nothing escaped; "channel", when there, between
 * the two.  In JSON text `,"user":` can only be a key (a quote inside a
 * string is escaped), and the last such key is the record's own.
 * `supportctl db verify` checks every record has the layout.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jtext.h"
#include "record.h"
#include "ticket.h"

const char *const ticket_channel_names[CH_MAX + 1] = {
	"web", "api", "email", "webhook", NULL
};

int
ticket_channel_from(const char *name)
{
	for (int i = 0; ticket_channel_names[i] != NULL; i++)
		if (strcmp(ticket_channel_names[i], name) == 0)
			return i;
	return -1;
}


/* Append a time in quotes, or null. */
static void
add_time(struct sbuf *b, int64_t us)
{
	char buf[TIME_STRLEN + 3];

	if (us == RECORD_NULL) {
		sbuf_lit(b, "null");
		return;
	}
	buf[0] = '"';
	time_format(us, buf + 1);
	buf[TIME_STRLEN + 1] = '"';
	sbuf_add(b, buf, TIME_STRLEN + 2);
}

/* Append a name of names in quotes, or null when i is out of range. */
static void
add_name(struct sbuf *b, const char *const *names, int max, int i)
{
	if (i < 0 || i >= max) {
		sbuf_lit(b, "null");
		return;
	}
	sbuf_lit(b, "\"");
	sbuf_adds(b, names[i]);
	sbuf_lit(b, "\"");
}

/* Append `,"name":` and a ref in quotes, or null. */
static void
add_ref(struct sbuf *b, const char *name, bool has,
    const uint8_t ref[MSG_REF_LEN])
{
	static const char hex[] = "0123456789abcdef";
	char text[MSG_REF_STRLEN + 2];

	sbuf_adds(b, name);
	if (!has) {
		sbuf_lit(b, "null");
		return;
	}
	text[0] = '"';
	for (size_t i = 0; i < MSG_REF_LEN; i++) {
		text[1 + 2 * i] = hex[ref[i] >> 4];
		text[2 + 2 * i] = hex[ref[i] & 15];
	}
	text[MSG_REF_STRLEN + 1] = '"';
	sbuf_add(b, text, sizeof(text));
}

/* The tail, as record_ticket_tail reads it: from `,"user":` on. */
static void
add_tail(struct sbuf *out, uint32_t user, uint32_t assignee,
    int64_t public_count, int64_t note_count, int64_t unanswered,
    int64_t replies, int64_t rev, int64_t last_us, bool has_refs,
    bool has_public, const uint8_t *last_public, bool has_note,
    const uint8_t *last_note)
{
	sbuf_lit(out, ",\"user\":");
	sbuf_add_int(out, user);
	sbuf_lit(out, ",\"assignee\":");
	if (assignee == 0)
		sbuf_lit(out, "null");
	else
		sbuf_add_int(out, assignee);
	sbuf_lit(out, ",\"public_count\":");
	sbuf_add_int(out, public_count);
	sbuf_lit(out, ",\"note_count\":");
	sbuf_add_int(out, note_count);
	sbuf_lit(out, ",\"unanswered\":");
	sbuf_add_int(out, unanswered);
	sbuf_lit(out, ",\"replies\":");
	sbuf_add_int(out, replies);
	sbuf_lit(out, ",\"rev\":");
	sbuf_add_int(out, rev);
	sbuf_lit(out, ",\"last_us\":");
	sbuf_add_int(out, last_us);
	if (has_refs) {
		add_ref(out, ",\"last_public\":", has_public, last_public);
		add_ref(out, ",\"last_note\":", has_note, last_note);
	}
	sbuf_lit(out, "}");
}

void
record_ticket_encode(const struct record_ticket *t, struct sbuf *out)
{
	char us[UUID_STRLEN + 1];

	uuid_format(t->uuid, us);
	sbuf_lit(out, "{\"uuid\":\"");
	sbuf_add(out, us, UUID_STRLEN);
	sbuf_lit(out, "\",\"number\":");
	sbuf_add_int(out, t->number);
	sbuf_lit(out, ",\"subject\":");
	jt_put_string(out, t->subject != NULL ? t->subject : "",
	    t->subject != NULL ? t->subject_len : 0);
	sbuf_lit(out, ",\"status\":");
	add_name(out, ticket_status_names, ST_MAX, t->status);
	sbuf_lit(out, ",\"priority\":");
	add_name(out, ticket_priority_names, PRI_MAX, t->priority);
	sbuf_lit(out, ",\"created_at\":");
	add_time(out, t->created_at);
	sbuf_lit(out, ",\"updated_at\":");
	add_time(out, t->updated_at);
	sbuf_lit(out, ",\"first_response_at\":");
	add_time(out, t->first_response_at);
	sbuf_lit(out, ",\"resolved_at\":");
	add_time(out, t->resolved_at);
	sbuf_lit(out, ",\"closed_at\":");
	add_time(out, t->closed_at);
	sbuf_lit(out, ",\"channel\":");
	add_name(out, ticket_channel_names, CH_MAX, t->channel);
	add_tail(out, t->user, t->assignee, t->public_count, t->note_count,
	    t->unanswered, t->replies, t->rev, t->last_us, t->has_refs,
	    t->has_public, t->last_public, t->has_note, t->last_note);
}

/* --- Decoding with json-c ------------------------------------------------- */

static int64_t
j_int(json_object *rec, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(rec, name, &v) ?
	    json_object_get_int64(v) : 0;
}

static const char *
j_str(json_object *rec, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(rec, name, &v) &&
	    json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

/* A time member: RECORD_NULL when null or absent; false when unreadable. */
static bool
j_time(json_object *rec, const char *name, int64_t *us)
{
	const char *s = j_str(rec, name);
	json_object *v;

	*us = RECORD_NULL;
	if (s != NULL)
		return time_parse(s, us);
	return !json_object_object_get_ex(rec, name, &v) || v == NULL;
}

/* A ref member in hex: *has false when null or absent. */
static bool
j_ref(json_object *rec, const char *name, uint8_t ref[MSG_REF_LEN], bool *has)
{
	const char *s = j_str(rec, name);

	*has = false;
	if (s == NULL)
		return true;
	if (strlen(s) != MSG_REF_STRLEN)
		return false;
	for (size_t i = 0; i < MSG_REF_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		ref[i] = (uint8_t)(hi << 4 | lo);
	}
	*has = true;
	return true;
}

/* Parse rec[0..len) with json-c into *out (a new reference). */
static sup_err
parse(const char *rec, size_t len, json_object **out)
{
	DBT d = { .data = (void *)rec, .size = (u_int32_t)len };

	return store_parse(&d, out);
}

void
record_ticket_clear(struct record_ticket *t)
{
	free(t->subject);
	memset(t, 0, sizeof(*t));
}

sup_err
record_ticket_decode(const char *rec, size_t len, struct record_ticket *t)
{
	json_object *o, *v;
	const char *s;
	sup_err e = SUP_EDB;

	memset(t, 0, sizeof(*t));
	if ((e = parse(rec, len, &o)) != SUP_OK)
		return e;
	e = SUP_EDB;
	if (!json_object_is_type(o, json_type_object) ||
	    (s = j_str(o, "uuid")) == NULL ||
	    !uuid_parse(s, strlen(s), t->uuid) ||
	    (s = j_str(o, "status")) == NULL ||
	    (t->status = ticket_status_from(s)) < 0 ||
	    (s = j_str(o, "priority")) == NULL ||
	    (t->priority = ticket_priority_from(s)) < 0 ||
	    !json_object_object_get_ex(o, "user", &v) ||
	    !j_time(o, "created_at", &t->created_at) ||
	    !j_time(o, "updated_at", &t->updated_at) ||
	    !j_time(o, "first_response_at", &t->first_response_at) ||
	    !j_time(o, "resolved_at", &t->resolved_at) ||
	    !j_time(o, "closed_at", &t->closed_at))
		goto out;
	t->number = j_int(o, "number");
	t->channel = (s = j_str(o, "channel")) != NULL ?
	    ticket_channel_from(s) : -1;
	if (s != NULL && t->channel < 0)
		goto out;
	t->user = (uint32_t)j_int(o, "user");
	t->assignee = (uint32_t)j_int(o, "assignee");
	t->public_count = j_int(o, "public_count");
	t->note_count = j_int(o, "note_count");
	t->unanswered = j_int(o, "unanswered");
	t->replies = j_int(o, "replies");	/* older: absent, 0 */
	t->rev = j_int(o, "rev");
	t->last_us = j_int(o, "last_us");
	t->has_refs = json_object_object_get_ex(o, "last_public", NULL);
	if (!j_ref(o, "last_public", t->last_public, &t->has_public) ||
	    !j_ref(o, "last_note", t->last_note, &t->has_note))
		goto out;
	s = j_str(o, "subject");
	t->subject_len = s != NULL ? (size_t)json_object_get_string_len(
	    json_object_object_get(o, "subject")) : 0;
	if ((t->subject = malloc(t->subject_len + 1)) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	if (s != NULL)
		memcpy(t->subject, s, t->subject_len);
	t->subject[t->subject_len] = '\0';
	e = SUP_OK;
out:
	json_object_put(o);
	return e;
}

/* --- Reading by position ---------------------------------------------------- */

/*
 * Where the last `key` begins in t[0..n), or NULL.  Inline: with the key a
 * literal, its length and the comparison are known when compiling.
 */
static inline const char *
last_key(const char *t, size_t n, const char *key)
{
	size_t k = strlen(key);
	const char *p, *end = t + n;

	/*
	 * From one occurrence of the key's first byte back to the one before
	 * (memrchr is fast): this runs over every record a list shows.
	 */
	while (n > 0 && (p = memrchr(t, key[0], n)) != NULL) {
		if ((size_t)(end - p) >= k && memcmp(p, key, k) == 0)
			return p;
		n = (size_t)(p - t);
	}
	return NULL;
}

/*
 * `,"name":` as a literal and its length, for tail_field and tail_ref: a
 * length known when compiling lets the compiler compare it inline (these
 * run several times for every ticket a list shows).
 */
#define TAIL_KEY(name) ",\"" name "\":", sizeof(",\"" name "\":") - 1

/*
 * Read the key (`,"name":`, klen bytes) and then a whole number (or null,
 * when null != NULL) at *p, moving *p past them.
 */
static inline bool
tail_field(const char **p, const char *end, const char *key, size_t klen,
    int64_t *v, bool *null)
{
	const char *s = *p;
	int64_t x = 0;
	int digits = 0;

	if ((size_t)(end - s) < klen || memcmp(s, key, klen) != 0)
		return false;
	s += klen;
	if (null != NULL && end - s >= 4 && memcmp(s, "null", 4) == 0) {
		*null = true;
		*v = 0;
		*p = s + 4;
		return true;
	}
	for (; s < end && *s >= '0' && *s <= '9' && digits < 18; s++, digits++)
		x = x * 10 + (*s - '0');
	if (digits == 0)
		return false;
	if (null != NULL)
		*null = false;
	*v = x;
	*p = s;
	return true;
}

/*
 * The value of each lowercase hex digit plus one; 0 for any other byte.
 * A table: a ref is 48 digits, and two refs are read for every ticket a
 * list shows.
 */
static const uint8_t ref_digit[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/*
 * Read the key (`,"name":`, klen bytes) and then a message ref in quotes,
 * or null, at *p, moving *p past them.  *has says which it was.  (Not
 * sodium_hex2bin: it is constant-time, which a ref does not need, and ten
 * times slower.)
 */
static inline bool
tail_ref(const char **p, const char *end, const char *key, size_t klen,
    uint8_t ref[MSG_REF_LEN], bool *has)
{
	const char *s = *p;
	const unsigned char *u;
	unsigned bad = 0;

	if ((size_t)(end - s) < klen || memcmp(s, key, klen) != 0)
		return false;
	s += klen;
	if (end - s >= 4 && memcmp(s, "null", 4) == 0) {
		*has = false;
		*p = s + 4;
		return true;
	}
	if (end - s < MSG_REF_STRLEN + 2 || s[0] != '"' ||
	    s[MSG_REF_STRLEN + 1] != '"')
		return false;
	/* Each digit's value plus one: a zero anywhere is a bad digit. */
	u = (const unsigned char *)s + 1;
	for (size_t i = 0; i < MSG_REF_LEN; i++) {
		unsigned hi = ref_digit[u[2 * i]], lo = ref_digit[u[2 * i + 1]];
		bad |= (hi == 0) | (lo == 0);
		ref[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
	}
	if (bad)
		return false;
	*has = true;
	*p = s + MSG_REF_STRLEN + 2;
	return true;
}

/* The index in names of the quoted name v[0..n), or -1. */
#define quoted(names, v, n) ticket_name_quoted((names), (v), (n))

/*
 * "channel" right before the tail at rec + cut: `,"channel":null` or
 * `,"channel":"name"`.  False when it is there with a value that is not
 * a channel; tt->has_channel false when it is not there (older).
 */
static bool
tail_channel(const char *rec, size_t cut, struct ticket_tail *tt)
{
	static const char key[] = ",\"channel\":";
	const size_t k = sizeof(key) - 1;
	const char *end = rec + cut, *v;

	tt->has_channel = false;
	tt->channel = -1;
	tt->chan_at = cut;
	if (cut >= k + 4 && memcmp(end - 4, "null", 4) == 0)
		v = end - 4;
	else if (cut >= k + 2 && end[-1] == '"') {
		/* The opening quote of a name: at most 10 bytes before. */
		size_t win = cut - 1 < 10 ? cut - 1 : 10;
		if ((v = memrchr(end - 1 - win, '"', win)) == NULL)
			return true;
	} else
		return true;
	if ((size_t)(v - rec) < k || memcmp(v - k, key, k) != 0)
		return true;
	if (*v == '"' &&
	    (tt->channel = quoted(ticket_channel_names, v, (size_t)(end - v))) < 0)
		return false;
	tt->has_channel = true;
	tt->chan_at = (size_t)(v - k - rec);
	return true;
}

bool
record_ticket_tail(const char *rec, size_t len, struct ticket_tail *tt)
{
	const char *p = last_key(rec, len, ",\"user\":"), *end = rec + len;
	int64_t user, assignee;
	bool null;

	if (p == NULL)
		return false;
	tt->cut = (size_t)(p - rec);
	if (!tail_field(&p, end, TAIL_KEY("user"), &user, NULL) ||
	    !tail_field(&p, end, TAIL_KEY("assignee"), &assignee, &null) ||
	    !tail_field(&p, end, TAIL_KEY("public_count"), &tt->public_count,
	    NULL) ||
	    !tail_field(&p, end, TAIL_KEY("note_count"), &tt->note_count,
	    NULL) ||
	    !tail_field(&p, end, TAIL_KEY("unanswered"), &tt->unanswered,
	    NULL))
		return false;
	/* "replies", or none (a record written before it existed: 0). */
	if (!tail_field(&p, end, TAIL_KEY("replies"), &tt->replies, NULL))
		tt->replies = 0;
	if (!tail_field(&p, end, TAIL_KEY("rev"), &tt->rev, NULL) ||
	    !tail_field(&p, end, TAIL_KEY("last_us"), &tt->last_us, NULL) ||
	    user > UINT32_MAX || assignee > UINT32_MAX)
		return false;
	/* The refs, or neither (a record written before they existed). */
	tt->has_refs = p != end - 1;
	tt->has_public = tt->has_note = false;
	if (tt->has_refs && (!tail_ref(&p, end, TAIL_KEY("last_public"),
	    tt->last_public, &tt->has_public) ||
	    !tail_ref(&p, end, TAIL_KEY("last_note"), tt->last_note,
	    &tt->has_note)))
		return false;
	if (p != end - 1 || *p != '}')
		return false;
	tt->user = (uint32_t)user;
	tt->assignee = (uint32_t)assignee;
	return tail_channel(rec, tt->cut, tt);
}

bool
record_ticket_uuid(const char *rec, size_t len, uint8_t uuid[UUID_LEN])
{
	return len >= 9 + UUID_STRLEN && memcmp(rec, "{\"uuid\":\"", 9) == 0 &&
	    (uuid == NULL || uuid_parse(rec + 9, UUID_STRLEN, uuid));
}

void
record_ticket_public(const char *rec, const struct ticket_tail *tt,
    struct sbuf *out)
{
	sbuf_add(out, rec, tt->cut);
	if (!tt->has_channel)
		sbuf_lit(out, ",\"channel\":null");
}

/* The head keys a post rewrites, in their stored order. */
static const char *const head_keys[TH_MAX] = {
	",\"status\":", ",\"priority\":", ",\"created_at\":",
	",\"updated_at\":", ",\"first_response_at\":", ",\"resolved_at\":",
	",\"closed_at\":",
};

bool
record_ticket_head(const char *rec, size_t len, const struct ticket_tail *tt,
    struct ticket_head *th)
{
	size_t next = tt->chan_at;

	if (tt->cut > len || next > tt->cut)
		return false;
	/*
	 * Backwards from the tail (or "channel" before it), each key before
	 * the one after it: in JSON text `,"` cannot be inside a string (its
	 * quote would be escaped), so these are the keys themselves,
	 * whatever the subject holds.
	 */
	for (int i = TH_MAX - 1; i >= 0; i--) {
		const char *p = last_key(rec, next, head_keys[i]), *s;
		if (p == NULL)
			return false;
		th->from[i] = (size_t)(p - rec) + strlen(head_keys[i]);
		th->to[i] = next;
		s = rec + th->from[i];
		/* null, or a string with nothing to unescape (names, times). */
		size_t n = th->to[i] - th->from[i];
		if (n == 4 && memcmp(s, "null", 4) == 0) {
			next = (size_t)(p - rec);
			continue;
		}
		if (n < 2 || s[0] != '"' || s[n - 1] != '"' ||
		    memchr(s + 1, '"', n - 2) != NULL ||
		    memchr(s + 1, '\\', n - 2) != NULL)
			return false;
		next = (size_t)(p - rec);
	}
	return true;
}

/* A head time value (null or a quoted time); false when unreadable. */
static bool
head_time(const char *rec, const struct ticket_head *th, int i, int64_t *us)
{
	size_t n = th->to[i] - th->from[i];
	char buf[TIME_STRLEN + 1];

	if (n == 4 && memcmp(rec + th->from[i], "null", 4) == 0) {
		*us = RECORD_NULL;
		return true;
	}
	if (n != TIME_STRLEN + 2)
		return false;
	memcpy(buf, rec + th->from[i] + 1, TIME_STRLEN);
	buf[TIME_STRLEN] = '\0';
	return time_parse(buf, us);
}

bool
record_ticket_state(const char *rec, const struct ticket_head *th,
    struct record_state *st)
{
	st->status = quoted(ticket_status_names, rec + th->from[TH_STATUS],
	    th->to[TH_STATUS] - th->from[TH_STATUS]);
	return st->status >= 0 &&
	    head_time(rec, th, TH_FIRST_RESPONSE_AT, &st->first_response_at) &&
	    head_time(rec, th, TH_RESOLVED_AT, &st->resolved_at) &&
	    head_time(rec, th, TH_CLOSED_AT, &st->closed_at);
}

void
record_ticket_splice(const char *rec, const struct ticket_head *th,
    const struct record_state *was, const struct record_state *st,
    int64_t updated_at, const struct ticket_tail *tt, struct sbuf *out)
{
	size_t at = 0;

	for (int i = 0; i < TH_MAX; i++) {
		sbuf_add(out, rec + at, th->from[i] - at);
		at = th->to[i];
		switch (i) {
		case TH_STATUS:
			if (st->status != was->status) {
				add_name(out, ticket_status_names, ST_MAX,
				    st->status);
				continue;
			}
			break;
		case TH_UPDATED_AT:
			add_time(out, updated_at);
			continue;
		case TH_FIRST_RESPONSE_AT:
			if (st->first_response_at != was->first_response_at) {
				add_time(out, st->first_response_at);
				continue;
			}
			break;
		case TH_RESOLVED_AT:
			if (st->resolved_at != was->resolved_at) {
				add_time(out, st->resolved_at);
				continue;
			}
			break;
		case TH_CLOSED_AT:
			if (st->closed_at != was->closed_at) {
				add_time(out, st->closed_at);
				continue;
			}
			break;
		default:
			break;
		}
		sbuf_add(out, rec + th->from[i], th->to[i] - th->from[i]);
	}
	/* "channel" as it was (or none), then the tail. */
	sbuf_add(out, rec + at, tt->cut - at);
	add_tail(out, tt->user, tt->assignee, tt->public_count, tt->note_count,
	    tt->unanswered, tt->replies, tt->rev, tt->last_us, tt->has_refs,
	    tt->has_public, tt->last_public, tt->has_note, tt->last_note);
}

/* --- The status machine ------------------------------------------------------ */

void
record_state_of(const struct record_ticket *t, struct record_state *st)
{
	st->status = t->status;
	st->first_response_at = t->first_response_at;
	st->resolved_at = t->resolved_at;
	st->closed_at = t->closed_at;
}

void
record_state_set(struct record_ticket *t, const struct record_state *st)
{
	t->status = st->status;
	t->first_response_at = st->first_response_at;
	t->resolved_at = st->resolved_at;
	t->closed_at = st->closed_at;
}

/* st moved to status (a different one) at now: its times with it. */
static void
move_to(struct record_state *st, int status, int64_t now)
{
	st->status = status;
	if (status == ST_RESOLVED) {
		st->resolved_at = now;
		st->closed_at = RECORD_NULL;
	} else if (status == ST_CLOSED) {
		/* A resolved ticket, once closed, keeps when it was resolved. */
		st->closed_at = now;
	} else {
		/* Re-opened: neither resolved nor closed any more. */
		st->resolved_at = RECORD_NULL;
		st->closed_at = RECORD_NULL;
	}
}

sup_err
record_status_move(struct record_state *st, bool staff, bool owner,
    enum record_move move, int to, int64_t now, bool *first_response)
{
	*first_response = false;
	if (st->status < 0 || st->status >= ST_MAX)
		return SUP_EDB;
	switch (move) {
	case MOVE_SET:
		if (to < 0 || to >= ST_MAX)
			return SUP_EINVAL;
		if (to == st->status)
			return SUP_OK;
		/* Owners may resolve or close; a closed ticket stays closed. */
		if (!staff && (st->status == ST_CLOSED ||
		    (to != ST_RESOLVED && to != ST_CLOSED)))
			return TICKET_ETRANSITION;
		move_to(st, to, now);
		return SUP_OK;
	case MOVE_NOTE:
		return staff ? SUP_OK : SUP_EFORBIDDEN;
	case MOVE_POST:
		if (st->status == ST_CLOSED && !staff)
			return TICKET_ECLOSED;
		if (owner)
			to = ST_WAITING_FOR_ADMIN;
		else if (staff)
			to = ST_WAITING_FOR_USER;
		else
			return SUP_EFORBIDDEN;
		/* The first public staff reply is the first response. */
		if (!owner && st->first_response_at == RECORD_NULL) {
			st->first_response_at = now;
			*first_response = true;
		}
		if (to != st->status) {
			/* Neither status is resolved or closed. */
			st->status = to;
			st->resolved_at = st->closed_at = RECORD_NULL;
		}
		return SUP_OK;
	}
	return SUP_EINVAL;
}

/* --- Index fields --------------------------------------------------------- */

static bool
keys_of(json_object *rec, struct record_keys *f)
{
	json_object *v;
	const char *s;

	if ((s = j_str(rec, "uuid")) == NULL ||
	    !uuid_parse(s, strlen(s), f->uuid))
		return false;
	if ((s = j_str(rec, "updated_at")) == NULL ||
	    !time_parse(s, &f->updated_us))
		return false;
	if ((s = j_str(rec, "status")) == NULL ||
	    (f->status = ticket_status_from(s)) < 0)
		return false;
	if ((s = j_str(rec, "priority")) == NULL ||
	    (f->priority = ticket_priority_from(s)) < 0)
		return false;
	if (!json_object_object_get_ex(rec, "number", &v))
		return false;
	f->number = (uint64_t)json_object_get_int64(v);
	if (!json_object_object_get_ex(rec, "user", &v))
		return false;
	f->user = (uint32_t)json_object_get_int64(v);
	f->assignee = json_object_object_get_ex(rec, "assignee", &v) ?
	    (uint32_t)json_object_get_int64(v) : 0;
	return true;
}

/*
 * The next member of a flat JSON object in compact text, at *p: the '{'
 * or ',' before it.  Its key (without quotes) and its value's text
 * (strings with their quotes) are pointed at, and *p moves past the
 * value.  False at the end of the object or on anything else (a nested
 * value, a key with an escape, white space): the caller then parses.
 */
static bool
flat_next(const char **p, const char *end, const char **key, size_t *klen,
    const char **val, size_t *vlen)
{
	const char *s = *p, *k, *v;

	if (s >= end || (*s != '{' && *s != ',') || ++s >= end || *s != '"')
		return false;
	for (k = ++s; s < end && *s != '"'; s++)
		if (*s == '\\')
			return false;
	if (s + 1 >= end || s[1] != ':')
		return false;
	*key = k;
	*klen = (size_t)(s - k);
	v = s += 2;
	if (s < end && *s == '"') {
		for (s++; s < end && *s != '"'; s++)
			if (*s == '\\')
				s++;
		if (s >= end)
			return false;
		s++;
	} else {
		while (s < end && *s != ',' && *s != '}') {
			if (*s == '{' || *s == '[' || *s == '"' || *s == ' ')
				return false;
			s++;
		}
	}
	if (s >= end || s == v)
		return false;
	*val = v;
	*vlen = (size_t)(s - v);
	*p = s;
	return true;
}

/* A whole number of at most 18 digits from text[0..n); false if not one. */
static bool
flat_int(const char *t, size_t n, int64_t *out)
{
	int64_t x = 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return false;
		x = x * 10 + (t[i] - '0');
	}
	*out = x;
	return true;
}

/*
 * keys_of, from the stored text without json-c: the index callbacks run
 * for the old and the new record of every ticket write, and parsing both
 * was a fifth of the cost of posting a message.  False when the text is
 * not a flat object with every field (the caller then parses it).
 */
static bool
keys_text(const char *t, size_t n, struct record_keys *f)
{
	const char *p = t, *end = t + n, *k, *v;
	size_t kl, vl;
	unsigned seen = 0;
	int64_t x;

	f->assignee = 0;
	while (flat_next(&p, end, &k, &kl, &v, &vl)) {
#define IS(name) (kl == sizeof(name) - 1 && memcmp(k, name, kl) == 0)
		if (IS("uuid")) {
			if (vl < 2 || !uuid_parse(v + 1, vl - 2, f->uuid))
				return false;
			seen |= 1;
		} else if (IS("number")) {
			if (!flat_int(v, vl, &x))
				return false;
			f->number = (uint64_t)x;
			seen |= 2;
		} else if (IS("status")) {
			if ((f->status = quoted(ticket_status_names, v,
			    vl)) < 0)
				return false;
			seen |= 4;
		} else if (IS("priority")) {
			if ((f->priority = quoted(ticket_priority_names, v,
			    vl)) < 0)
				return false;
			seen |= 8;
		} else if (IS("updated_at")) {
			char buf[TIME_STRLEN + 1];
			if (vl != TIME_STRLEN + 2)
				return false;
			memcpy(buf, v + 1, TIME_STRLEN);
			buf[TIME_STRLEN] = '\0';
			if (!time_parse(buf, &f->updated_us))
				return false;
			seen |= 16;
		} else if (IS("user")) {
			if (!flat_int(v, vl, &x) || x > UINT32_MAX)
				return false;
			f->user = (uint32_t)x;
			seen |= 32;
		} else if (IS("assignee")) {
			if (vl == 4 && memcmp(v, "null", 4) == 0)
				x = 0;
			else if (!flat_int(v, vl, &x) || x > UINT32_MAX)
				return false;
			f->assignee = (uint32_t)x;
		}
#undef IS
	}
	return p == end - 1 && *p == '}' && seen == 63;
}

bool
record_ticket_keys(const char *rec, size_t len, struct record_keys *k,
    bool *nomem)
{
	json_object *o;
	sup_err e;
	bool ok;

	if (nomem != NULL)
		*nomem = false;
	if (keys_text(rec, len, k))
		return true;
	if ((e = parse(rec, len, &o)) != SUP_OK) {
		if (nomem != NULL)
			*nomem = e == SUP_ENOMEM;
		return false;
	}
	ok = keys_of(o, k);
	json_object_put(o);
	return ok;
}

struct record_keys_cache {
	struct {
		uint8_t *data;
		size_t size;
		struct record_keys f;
		bool ok;
	} slot[2];
	int next;
};

struct record_keys_cache *
record_keys_cache_new(void)
{
	return calloc(1, sizeof(struct record_keys_cache));
}

void
record_keys_cache_free(struct record_keys_cache *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < 2; i++)
		free(c->slot[i].data);
	free(c);
}

bool
record_keys_cached(struct record_keys_cache *c, const char *rec, size_t len,
    const struct record_keys **k, bool *nomem)
{
	bool oom;

	if (nomem != NULL)
		*nomem = false;
	for (int i = 0; i < 2; i++)
		if (c->slot[i].data != NULL && c->slot[i].size == len &&
		    memcmp(c->slot[i].data, rec, len) == 0) {
			*k = &c->slot[i].f;
			return c->slot[i].ok;
		}
	int i = c->next;
	c->next = !c->next;
	free(c->slot[i].data);
	c->slot[i].data = NULL;
	c->slot[i].ok = record_ticket_keys(rec, len, &c->slot[i].f, &oom);
	*k = &c->slot[i].f;
	if (oom) {
		if (nomem != NULL)
			*nomem = true;
		return false;
	}
	if ((c->slot[i].data = malloc(len ? len : 1)) != NULL) {
		memcpy(c->slot[i].data, rec, len);
		c->slot[i].size = len;
	}
	return c->slot[i].ok;
}

/* --- A list's filter fields --------------------------------------------- */

void
record_filter_of(const struct record_ticket *t, struct record_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->user = t->user;
	f->assignee = t->assignee;
	f->status = t->status;
	f->priority = t->priority;
	f->has_created = t->created_at != RECORD_NULL;
	f->created = t->created_at;
	f->number = t->number;
	f->subject = t->subject;
	f->subject_len = t->subject != NULL ? t->subject_len : 0;
}

/*
 * The head value after key at *p (`,"status":` and those after it):
 * null, or a string with nothing escaped in it (names, times).  *p moves
 * past it; false when it is not there so.
 */
static bool
head_value(const char **p, const char *end, const char *key, const char **v,
    size_t *vl)
{
	size_t k = strlen(key);
	const char *s = *p, *q;

	if ((size_t)(end - s) < k + 4 || memcmp(s, key, k) != 0)
		return false;
	s += k;
	if (memcmp(s, "null", 4) == 0)
		q = s + 4;
	else if (*s != '"' || (q = memchr(s + 1, '"', (size_t)(end - s - 1))) ==
	    NULL || memchr(s + 1, '\\', (size_t)(q - s - 1)) != NULL)
		return false;
	else
		q++;
	*v = s;
	*vl = (size_t)(q - s);
	*p = q;
	return true;
}

/*
 * A list that filters reads every ticket it passes, and parsing one cost
 * some 20 times this; only what is asked for is read.  A stored ticket
 * begins {"uuid","number","subject","status","priority","created_at",...}
 * and ends with its tail.  In JSON text `,"` cannot be inside a string,
 * so the first `,"status":` is the key, and the subject is what lies
 * between `,"subject":` and it.
 */
bool
record_ticket_filter(const char *t, size_t n, unsigned want,
    struct record_filter *f)
{
	static const char number_key[] = ",\"number\":";
	static const char subject_key[] = ",\"subject\":";
	static const char status_key[] = ",\"status\":";
	const char *p, *v, *end = t + n, *subject;
	char stamp[TIME_STRLEN + 1];
	size_t vl;

	memset(f, 0, sizeof(*f));
	if (want & RF_OWNERS) {
		struct ticket_tail tt;
		if (!record_ticket_tail(t, n, &tt))
			return false;
		f->user = tt.user;
		f->assignee = tt.assignee;
	}
	/* The number and the subject, then the head fields after them. */
	if ((p = memmem(t, n, number_key, sizeof(number_key) - 1)) == NULL)
		return false;
	p += sizeof(number_key) - 1;
	for (v = p; p < end && *p >= '0' && *p <= '9' && p - v < 18; p++)
		f->number = f->number * 10 + (*p - '0');
	if (p == v || (size_t)(end - p) < sizeof(subject_key) - 1 ||
	    memcmp(p, subject_key, sizeof(subject_key) - 1) != 0)
		return false;
	subject = p + sizeof(subject_key) - 1;
	if ((p = memmem(subject, (size_t)(end - subject), status_key,
	    sizeof(status_key) - 1)) == NULL || p - subject < 2 ||
	    *subject != '"' || p[-1] != '"')
		return false;
	if (want & RF_SUBJECT) {
		if (memchr(subject + 1, '\\', (size_t)(p - 1 - (subject + 1))) !=
		    NULL)
			return false;
		f->subject = subject + 1;
		f->subject_len = (size_t)(p - 1 - (subject + 1));
	}
	if (!head_value(&p, end, status_key, &v, &vl))
		return false;
	f->status = quoted(ticket_status_names, v, vl);
	if (!head_value(&p, end, ",\"priority\":", &v, &vl))
		return false;
	f->priority = quoted(ticket_priority_names, v, vl);
	if (!(want & RF_CREATED))
		return true;
	if (!head_value(&p, end, ",\"created_at\":", &v, &vl))
		return false;
	if (vl == TIME_STRLEN + 2) {
		memcpy(stamp, v + 1, TIME_STRLEN);
		stamp[TIME_STRLEN] = '\0';
		f->has_created = time_parse(stamp, &f->created);
	}
	return true;
}

/* --- Messages --------------------------------------------------------- */

void
record_message_encode(const uint8_t key[MSG_KEY_LEN], uint32_t sender,
    const char *content, size_t len, const char *html, bool internal,
    bool from_user, struct sbuf *b)
{
	record_message_encode_att(key, sender, content, len, html, internal,
	    from_user, NULL, 0, b);
}

void
record_message_encode_att(const uint8_t key[MSG_KEY_LEN], uint32_t sender,
    const char *content, size_t len, const char *html, bool internal,
    bool from_user, const char *atts, size_t alen, struct sbuf *b)
{
	char tbuf[TIME_STRLEN + 1], ubuf[UUID_STRLEN + 1];

	/*
	 * Written as text (the author's id last, where record_message_tail
	 * looks for it): building a json-c object only to print it was a
	 * tenth of a post.
	 */
	uuid_format(key + UUID_LEN + 8, ubuf);
	sbuf_lit(b, "{\"uuid\":\"");
	sbuf_add(b, ubuf, UUID_STRLEN);
	uuid_format(key, ubuf);
	sbuf_lit(b, "\",\"ticket\":\"");
	sbuf_add(b, ubuf, UUID_STRLEN);
	sbuf_lit(b, "\",\"content\":");
	jt_put_string(b, content, len);
	sbuf_lit(b, ",\"content_html\":");
	jt_put_string(b, html, strlen(html));
	if (from_user)
		sbuf_lit(b, ",\"is_from_user\":true");
	else
		sbuf_lit(b, ",\"is_from_user\":false");
	if (internal)
		sbuf_lit(b, ",\"is_internal\":true");
	else
		sbuf_lit(b, ",\"is_internal\":false");
	time_format((int64_t)be64_get(key + UUID_LEN), tbuf);
	sbuf_lit(b, ",\"attachments\":");
	if (atts != NULL && alen > 0)
		sbuf_add(b, atts, alen);
	else
		sbuf_lit(b, "[]");
	sbuf_lit(b, ",\"created_at\":\"");
	sbuf_add(b, tbuf, TIME_STRLEN);
	sbuf_lit(b, "\",\"user\":");
	sbuf_add_int(b, sender);
	sbuf_lit(b, "}");
}

bool
record_message_tail(const char *t, size_t n, size_t *cut, uint32_t *user,
    bool *internal)
{
	const char *p = last_key(t, n, ",\"user\":"), *flag;
	char digits[16];
	size_t k;
	long id;

	if (p == NULL || n == 0 || t[n - 1] != '}')
		return false;
	k = (size_t)(t + n - 1 - (p + 8));
	if (k == 0 || k >= sizeof(digits))
		return false;
	memcpy(digits, p + 8, k);
	digits[k] = '\0';
	if (!parse_long(digits, 1, UINT32_MAX, &id))
		return false;
	if ((flag = last_key(t, (size_t)(p - t), ",\"is_internal\":")) == NULL)
		return false;
	flag += 15;
	if (strncmp(flag, "true", 4) == 0)
		*internal = true;
	else if (strncmp(flag, "false", 5) == 0)
		*internal = false;
	else
		return false;
	*cut = (size_t)(p - t);
	*user = (uint32_t)id;
	return true;
}

sup_err
record_message_decode(const char *rec, size_t len, struct record_message *m)
{
	json_object *o, *v;
	sup_err e;

	memset(m, 0, sizeof(*m));
	if ((e = parse(rec, len, &o)) != SUP_OK)
		return e;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "user", &v)) {
		json_object_put(o);
		return SUP_EDB;
	}
	m->user = (uint32_t)json_object_get_int64(v);
	m->internal = json_object_object_get_ex(o, "is_internal", &v) &&
	    json_object_get_boolean(v);
	m->from_user = json_object_object_get_ex(o, "is_from_user", &v) &&
	    json_object_get_boolean(v);
	json_object_put(o);
	return SUP_OK;
}

sup_err
record_message_content(const char *rec, size_t len, char **content,
    size_t *n)
{
	json_object *o, *v;
	sup_err e;

	*content = NULL;
	*n = 0;
	if ((e = parse(rec, len, &o)) != SUP_OK)
		return e;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "content", &v) ||
	    !json_object_is_type(v, json_type_string))
		e = SUP_EDB;
	else {
		*n = (size_t)json_object_get_string_len(v);
		if ((*content = malloc(*n + 1)) == NULL)
			e = SUP_ENOMEM;
		else {
			memcpy(*content, json_object_get_string(v), *n);
			(*content)[*n] = '\0';
		}
	}
	json_object_put(o);
	return e;
}

/* v's compact JSON text to out (out->failed when memory ran out). */
static void
put_plain(struct sbuf *out, json_object *v)
{
	const char *t = json_object_to_json_string_ext(v,
	    JSON_C_TO_STRING_PLAIN);

	if (t == NULL)
		out->failed = true;
	else
		sbuf_adds(out, t);
}

sup_err
record_message_edit(const char *rec, size_t len, const char *content,
    size_t n, const char *html, int64_t us, struct sbuf *out)
{
	char tbuf[TIME_STRLEN + 1];
	json_object *o, *user = NULL;
	bool first = true;
	sup_err e;

	if ((e = parse(rec, len, &o)) != SUP_OK)
		return e;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "user", &user) ||
	    !json_object_object_get_ex(o, "content", NULL)) {
		json_object_put(o);
		return SUP_EDB;
	}
	sbuf_lit(out, "{");
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "edited_at") == 0 || strcmp(key, "user") == 0)
			continue;	/* written last, in this order */
		if (!first)
			sbuf_lit(out, ",");
		first = false;
		jt_put_string(out, key, strlen(key));
		sbuf_lit(out, ":");
		if (strcmp(key, "content") == 0)
			jt_put_string(out, content, n);
		else if (strcmp(key, "content_html") == 0)
			jt_put_string(out, html, strlen(html));
		else
			put_plain(out, val);
	}
	time_format(us, tbuf);
	sbuf_lit(out, ",\"edited_at\":\"");
	sbuf_add(out, tbuf, TIME_STRLEN);
	sbuf_lit(out, "\",\"user\":");
	put_plain(out, user);
	sbuf_lit(out, "}");
	json_object_put(o);
	return out->failed ? SUP_ENOMEM : SUP_OK;
}

void
record_msg_ref(const uint8_t key[MSG_KEY_LEN], char out[MSG_REF_STRLEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *r = key + UUID_LEN;

	for (size_t i = 0; i < MSG_REF_LEN; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[MSG_REF_STRLEN] = '\0';
}

/* --- Counters ------------------------------------------------------------ */

static const char *const counter_prefix[] = {
	[RC_TICKETS] = "tickets", [RC_USER] = "user:",
	[RC_ACTIVE] = "active:", [RC_ASSIGNEE] = "assignee:",
};

void
record_counter(char *buf, size_t n, enum record_counter c, int64_t id)
{
	if (c == RC_TICKETS)
		snprintf(buf, n, "%s", counter_prefix[c]);
	else
		snprintf(buf, n, "%s%" PRId64, counter_prefix[c], id);
}

bool
record_counter_name(const char *name)
{
	if (strcmp(name, counter_prefix[RC_TICKETS]) == 0 ||
	    ticket_status_from(name) >= 0)
		return true;
	for (size_t i = RC_USER; i < SUP_NELEM(counter_prefix); i++)
		if (strncmp(name, counter_prefix[i],
		    strlen(counter_prefix[i])) == 0)
			return true;
	return false;
}
