/*
 * verify.c - store_verify: are the files sound, and do the indexes and
 * counters agree with the records?  Run with no server writing.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "ticket.h"
#include "util.h"
#include "view.h"

static const char *const files[] = {
	"users.db", "users_by_name.db", "users_by_email.db", "tokens.db",
	"tickets.db", "t_by_number.db", "t_recent.db", "t_by_user.db",
	"t_by_status.db", "t_by_assignee.db", "t_by_priority.db", "messages.db",
	"m_by_uuid.db", "t_counts.db",
	"counters.db", "seqs.db", "sessions.db", "throttle.db",
};

struct check {
	void (*report)(void *ctx, const char *line);
	void *ctx;
	long problems;
	/* Counts as the records say they should be. */
	struct tally {
		char name[64];
		int64_t n;
		bool seen;		/* t_counts: its entry was found */
	} *tally;
	size_t ntally, captally;
};

SUP_PRINTF(2, 3) static void
problem(struct check *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->problems++;
	c->report(c->ctx, line);
}

/* The tally for name, or NULL. */
static struct tally *
tally_find(struct check *c, const char *name)
{
	for (size_t i = 0; i < c->ntally; i++)
		if (strcmp(c->tally[i].name, name) == 0)
			return &c->tally[i];
	return NULL;
}

static sup_err
tally(struct check *c, const char *name, int64_t delta)
{
	struct tally *t = tally_find(c, name);

	if (t != NULL) {
		t->n += delta;
		return SUP_OK;
	}
	if (c->ntally == c->captally) {
		size_t cap = c->captally ? c->captally * 2 : 64;
		struct tally *grown = realloc(c->tally, cap * sizeof(*grown));
		if (grown == NULL)
			return SUP_ENOMEM;
		c->tally = grown;
		c->captally = cap;
	}
	snprintf(c->tally[c->ntally].name, sizeof(c->tally[0].name), "%s",
	    name);
	c->tally[c->ntally].seen = false;
	c->tally[c->ntally++].n = delta;
	return SUP_OK;
}

/*
 * The tally's name for the count of (status, assignee) in t_counts: with
 * a space, so that no counter of counters.db has it.
 */
#define TCOUNT_TALLY "t_counts "

static void
tcount_name(char *buf, size_t n, int status, uint32_t assignee)
{
	snprintf(buf, n, TCOUNT_TALLY "%s %" PRIu32,
	    status >= 0 && status < ST_MAX ? ticket_status_names[status] : "?",
	    assignee);
}

/* Count the records of db. */
static sup_err
count_db(DB *db, int64_t *n)
{
	DBC *cur;
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	int rc;

	*n = 0;
	if ((rc = db->cursor(db, NULL, &cur, 0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0)
		(*n)++;
	cur->close(cur);
	free(k.data);
	free(d.data);
	return rc == DB_NOTFOUND ? SUP_OK : store_err(rc, "count");
}

/* The newest message of each kind in a thread: refs as in the tail. */
struct newest {
	bool has_public, has_note;
	uint8_t public[MSG_REF_LEN], note[MSG_REF_LEN];
};

/*
 * The messages of one ticket: public and internal counts, and the newest
 * of each (the thread is walked oldest first, so the last seen).
 */
static sup_err
count_messages(struct store *s, struct check *c, const uint8_t uuid[UUID_LEN],
    int64_t *pub, int64_t *notes, struct newest *nw)
{
	uint8_t key[MSG_KEY_LEN];
	DBT k = { .data = key, .ulen = sizeof(key), .size = UUID_LEN,
		.flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	DBC *cur;
	json_object *m;
	sup_err e = SUP_OK;
	int rc;

	*pub = *notes = 0;
	memset(nw, 0, sizeof(*nw));
	memcpy(key, uuid, UUID_LEN);
	if ((rc = s->messages->cursor(s->messages, NULL, &cur, 0)) != 0)
		return store_err(rc, "cursor");
	for (rc = cur->get(cur, &k, &d, DB_SET_RANGE);
	    rc == 0 && memcmp(key, uuid, UUID_LEN) == 0;
	    rc = cur->get(cur, &k, &d, DB_NEXT)) {
		if (!view_message_layout_ok(d.data, d.size))
			problem(c, "a message is not laid out as the view "
			    "expects");
		if ((e = store_parse(&d, &m)) != SUP_OK)
			break;
		if (rec_bool(m, "is_internal")) {
			(*notes)++;
			nw->has_note = true;
			memcpy(nw->note, key + UUID_LEN, MSG_REF_LEN);
		} else {
			(*pub)++;
			nw->has_public = true;
			memcpy(nw->public, key + UUID_LEN, MSG_REF_LEN);
		}
		json_object_put(m);
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "messages");
	cur->close(cur);
	free(d.data);
	return e;
}

/*
 * The ticket's entry in the covering t_recent: under its updated_at and
 * uuid, with the record byte for byte as tickets.db holds it (d).  With
 * the count of entries equal to the count of tickets (check_records),
 * nothing else is in the file.
 */
static sup_err
check_recent(struct store *s, struct check *c, json_object *t, const DBT *d,
    const uint8_t uuid[UUID_LEN], const char *us)
{
	uint8_t key[T_IDX_KEY_MAX];
	size_t n = store_ticket_key(IDX_UPDATED, t, key);
	DBT k = { .data = key, .size = (u_int32_t)n };
	DBT rd = { .flags = DB_DBT_MALLOC };
	uint8_t back[UUID_LEN];
	int rc;

	if (n != RECENT_KEY_LEN) {
		problem(c, "ticket %s has no updated_at: not in t_recent", us);
		return SUP_OK;
	}
	store_recent_uuid(key, back);
	rc = s->t_recent->get(s->t_recent, NULL, &k, &rd, 0);
	if (rc == DB_NOTFOUND || memcmp(back, uuid, UUID_LEN) != 0)
		problem(c, "ticket %s is missing from t_recent", us);
	else if (rc != 0)
		return store_err(rc, "t_recent");
	else if (rd.size != d->size || memcmp(rd.data, d->data, d->size) != 0)
		problem(c, "ticket %s: its t_recent entry is not its record", us);
	free(rd.data);
	return SUP_OK;
}

static sup_err
check_ticket(struct store *s, struct check *c, json_object *t, const DBT *d)
{
	struct ticket_tail tt;
	struct newest nw;
	const char *us = rec_str(t, "uuid"), *status = rec_str(t, "status");
	uint8_t uuid[UUID_LEN], key[T_IDX_KEY_MAX];
	int64_t pub, notes, user = rec_int(t, "user");
	char name[64];
	sup_err e;

	if (us == NULL || !uuid_parse(us, strlen(us), uuid) || status == NULL ||
	    ticket_status_from(status) < 0) {
		problem(c, "ticket with a bad uuid or status: %s",
		    json_object_to_json_string(t));
		return SUP_OK;
	}
	/* The tail the view splices, and the head fields a post patches. */
	struct ticket_head th;
	bool laid_out = view_ticket_tail(d->data, d->size, &tt) &&
	    view_ticket_head(d->data, d->size, &tt, &th);
	if (!laid_out)
		problem(c, "ticket %s is not laid out as the view expects", us);
	if ((e = count_messages(s, c, uuid, &pub, &notes, &nw)) != SUP_OK)
		return e;
	/* The refs to the newest messages, when the record has them. */
	if (laid_out && tt.has_refs &&
	    (tt.has_public != nw.has_public || tt.has_note != nw.has_note ||
	    (nw.has_public && memcmp(tt.last_public, nw.public,
	    MSG_REF_LEN) != 0) ||
	    (nw.has_note && memcmp(tt.last_note, nw.note, MSG_REF_LEN) != 0)))
		problem(c, "ticket %s: last_public or last_note does not name "
		    "its newest message of that kind", us);
	if (pub != rec_int(t, "public_count") ||
	    notes != rec_int(t, "note_count"))
		problem(c, "ticket %s: %" PRId64 " messages and %" PRId64
		    " notes stored, the ticket says %" PRId64 " and %" PRId64,
		    us, pub, notes, rec_int(t, "public_count"),
		    rec_int(t, "note_count"));
	if ((e = check_recent(s, c, t, d, uuid, us)) != SUP_OK)
		return e;
	for (int i = 0; i < IDX_MAX; i++) {
		if (s->t_idx[i] == NULL)
			continue;	/* t_recent: above */
		size_t n = store_ticket_key(i, t, key);
		DBT k = { .data = key, .size = (u_int32_t)n };
		DBT pk = { .flags = DB_DBT_MALLOC };
		DBT pd = { .flags = DB_DBT_MALLOC };
		int rc = s->t_idx[i]->pget(s->t_idx[i], NULL, &k, &pk, &pd, 0);
		if (rc != 0 || pk.size != UUID_LEN ||
		    memcmp(pk.data, uuid, UUID_LEN) != 0)
			problem(c, "ticket %s is missing from index %d", us, i);
		free(pk.data);
		free(pd.data);
	}
	tcount_name(name, sizeof(name), ticket_status_from(status),
	    (uint32_t)rec_int(t, "assignee"));
	if ((e = tally(c, "tickets", 1)) != SUP_OK ||
	    (e = tally(c, name, 1)) != SUP_OK)
		return e;
	ticket_counter(name, sizeof(name), "user", user);
	if ((e = tally(c, name, 1)) != SUP_OK)
		return e;
	ticket_counter(name, sizeof(name), "assignee", rec_int(t, "assignee"));
	if ((e = tally(c, name, 1)) != SUP_OK)
		return e;
	ticket_counter(name, sizeof(name), "active", user);
	return tally(c, name, strcmp(status, "resolved") != 0 &&
	    strcmp(status, "closed") != 0);
}

/* Is name a counter of the families check_ticket derives? */
static bool
ticket_counter_name(const char *name)
{
	static const char *const prefixes[] = { "user:", "active:",
		"assignee:" };

	if (strcmp(name, "tickets") == 0 || ticket_status_from(name) >= 0)
		return true;
	for (size_t i = 0; i < SUP_NELEM(prefixes); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* Ticket counters no record accounts for must be zero. */
static sup_err
check_stray_counters(struct store *s, struct check *c)
{
	DBC *cur;
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	char name[64];
	int rc;

	if ((rc = s->counters->cursor(s->counters, NULL, &cur, 0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		snprintf(name, sizeof(name), "%.*s", (int)k.size,
		    (const char *)k.data);
		if (tally_find(c, name) == NULL && ticket_counter_name(name) &&
		    d.size == 8 &&
		    be64_get(d.data) != 0)
			problem(c, "counter %s is %" PRId64 ", no record "
			    "accounts for it", name, (int64_t)be64_get(d.data));
	}
	cur->close(cur);
	free(k.data);
	free(d.data);
	return rc == DB_NOTFOUND ? SUP_OK : store_err(rc, "counters");
}

/*
 * Every entry of t_counts against what the records say (one that no
 * record accounts for must be zero), then the counts the records imply
 * that t_counts has no entry for.
 */
static sup_err
check_tcounts(struct store *s, struct check *c)
{
	DBC *cur;
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	char name[64];
	int rc;

	if ((rc = s->t_counts->cursor(s->t_counts, NULL, &cur, 0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		const uint8_t *key = k.data;
		struct tally *t;
		int64_t n;
		if (k.size != 5 || d.size != 8 || key[0] >= ST_MAX) {
			problem(c, "t_counts has an entry of %u bytes, "
			    "value %u bytes", (unsigned)k.size,
			    (unsigned)d.size);
			continue;
		}
		tcount_name(name, sizeof(name), key[0], be32_get(key + 1));
		n = (int64_t)be64_get(d.data);
		if ((t = tally_find(c, name)) != NULL) {
			t->seen = true;
			if (n != t->n)
				problem(c, "counter %s is %" PRId64 ", the "
				    "records say %" PRId64, name, n, t->n);
		} else if (n != 0)
			problem(c, "counter %s is %" PRId64 ", no record "
			    "accounts for it", name, n);
	}
	cur->close(cur);
	free(k.data);
	free(d.data);
	if (rc != DB_NOTFOUND)
		return store_err(rc, "t_counts");
	for (size_t i = 0; i < c->ntally; i++)
		if (!c->tally[i].seen && c->tally[i].n != 0 &&
		    strncmp(c->tally[i].name, TCOUNT_TALLY,
		    strlen(TCOUNT_TALLY)) == 0)
			problem(c, "counter %s is 0, the records say %" PRId64,
			    c->tally[i].name, c->tally[i].n);
	return SUP_OK;
}

static sup_err
check_records(struct store *s, struct check *c)
{
	DBC *cur;
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	int64_t ntickets = 0, n;
	json_object *t;
	sup_err e = SUP_OK;
	int rc;

	if ((rc = s->tickets->cursor(s->tickets, NULL, &cur, 0)) != 0)
		return store_err(rc, "cursor");
	while (e == SUP_OK && (rc = cur->get(cur, &k, &d, DB_NEXT)) == 0) {
		ntickets++;
		if ((e = store_parse(&d, &t)) != SUP_OK) {
			problem(c, "a ticket record is not JSON");
			e = SUP_OK;
			continue;
		}
		e = check_ticket(s, c, t, &d);
		json_object_put(t);
	}
	cur->close(cur);
	free(k.data);
	free(d.data);
	if (e != SUP_OK)
		return e;
	if (rc != DB_NOTFOUND)
		return store_err(rc, "tickets");
	for (int i = 0; i < IDX_MAX; i++) {
		DB *idx = s->t_idx[i] != NULL ? s->t_idx[i] : s->t_recent;
		if ((e = count_db(idx, &n)) != SUP_OK)
			return e;
		if (n != ntickets)
			problem(c, "index %d has %" PRId64 " entries for %"
			    PRId64 " tickets", i, n, ntickets);
	}
	int64_t nmsg, nuuid;
	if ((e = count_db(s->messages, &nmsg)) != SUP_OK ||
	    (e = count_db(s->m_by_uuid, &nuuid)) != SUP_OK)
		return e;
	if (nmsg != nuuid)
		problem(c, "%" PRId64 " messages but %" PRId64 " in their index",
		    nmsg, nuuid);
	/* Every counter the records imply, against the one kept. */
	for (size_t i = 0; i < c->ntally; i++) {
		const char *name = c->tally[i].name;
		if (strncmp(name, TCOUNT_TALLY, strlen(TCOUNT_TALLY)) == 0)
			continue;	/* check_tcounts */
		if ((e = store_count_get(s, NULL, name, &n)) != SUP_OK)
			return e;
		if (n != c->tally[i].n)
			problem(c, "counter %s is %" PRId64 ", the records say %"
			    PRId64, name, n, c->tally[i].n);
	}
	if ((e = check_tcounts(s, c)) != SUP_OK)
		return e;
	return check_stray_counters(s, c);
}

sup_err
store_verify(const struct sup_conf *conf,
    void (*report)(void *ctx, const char *line), void *ctx, long *problems)
{
	struct check c = { .report = report, .ctx = ctx };
	struct store s;
	char path[4096];
	sup_err e;

	/* Recover if needed and put every page on disk before reading files. */
	if ((e = store_open(&s, conf)) != SUP_OK)
		return e;
	store_checkpoint(&s, true);
	s.env->memp_sync(s.env, NULL);
	store_close(&s);
	for (size_t i = 0; i < SUP_NELEM(files); i++) {
		DB *db;
		snprintf(path, sizeof(path), "%s/%s", conf->data_dir, files[i]);
		if (db_create(&db, NULL, 0) != 0)
			return SUP_ENOMEM;
		if (db->verify(db, path, NULL, NULL, 0) != 0)
			problem(&c, "%s: the file is damaged", files[i]);
	}
	if ((e = store_open(&s, conf)) != SUP_OK)
		return e;
	e = check_records(&s, &c);
	store_close(&s);
	free(c.tally);
	*problems = c.problems;
	return e;
}
