/*
 * store.c - the Berkeley DB environment: open, transactions with retry,
 * records as JSON, secondary index keys, the covering index of activity
 * order (t_recent), counters, sequences, verify.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "store.h"
#include "user.h"
#include "util.h"
#include "view.h"

#define RETRIES 10

const char *const ticket_status_names[ST_MAX + 1] = {
	"open", "waiting_for_admin", "waiting_for_user", "resolved", "closed",
	NULL
};

const char *const ticket_priority_names[PRI_MAX + 1] = {
	"low", "normal", "high", "urgent", NULL
};

/* The index of name in a NULL-terminated list, or -1. */
static int
name_index(const char *const *names, const char *name)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int
ticket_status_from(const char *name)
{
	return name_index(ticket_status_names, name);
}

int
ticket_priority_from(const char *name)
{
	return name_index(ticket_priority_names, name);
}

int
ticket_name_quoted(const char *const *names, const char *v, size_t n)
{
	if (n < 2 || v[0] != '"' || v[n - 1] != '"')
		return -1;
	for (int i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == n - 2 &&
		    memcmp(names[i], v + 1, n - 2) == 0)
			return i;
	return -1;
}

sup_err
store_err(int rc, const char *what)
{
	switch (rc) {
	case 0:
		return SUP_OK;
	case DB_NOTFOUND:
	case DB_KEYEMPTY:
		return SUP_ENOTFOUND;
	case DB_KEYEXIST:
		return SUP_EEXIST;
	case DB_LOCK_DEADLOCK:
	case DB_LOCK_NOTGRANTED:
		return SUP_EDEADLOCK;
	case DB_RUNRECOVERY:
		return SUP_ERECOVER;
	case ENOMEM:
		return SUP_ENOMEM;
	default:
		fprintf(stderr, "support: %s: %s\n", what, db_strerror(rc));
		return SUP_EDB;
	}
}

/* --- Records --------------------------------------------------------- */

sup_err
store_parse(const DBT *data, json_object **out)
{
	json_tokener *tok;
	json_object *obj;

	if ((tok = json_tokener_new()) == NULL)
		return SUP_ENOMEM;
	if (!json_parse_room(tok, data->size)) {
		json_tokener_free(tok);
		return SUP_ENOMEM;
	}
	obj = json_tokener_parse_ex(tok, data->data, (int)data->size);
	if (obj == NULL && json_parse_nomem(tok)) {
		json_tokener_free(tok);
		return SUP_ENOMEM;
	}
	if (obj != NULL && json_tokener_get_parse_end(tok) != data->size) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		fprintf(stderr, "support: a stored record is not a JSON object\n");
		return SUP_EDB;
	}
	/* A record never names a member twice: one missing was dropped. */
	if (!json_members_kept(obj, data->data, data->size)) {
		json_object_put(obj);
		return SUP_ENOMEM;
	}
	*out = obj;
	return SUP_OK;
}

sup_err
store_get(DB *db, DB_TXN *txn, const void *key, size_t klen, uint32_t flags,
    json_object **out)
{
	DBT k = { .data = (void *)key, .size = (u_int32_t)klen };
	DBT d = { .flags = DB_DBT_MALLOC };
	sup_err e;
	int rc;

	*out = NULL;
	if ((rc = db->get(db, txn, &k, &d, flags)) != 0)
		return store_err(rc, "get");
	e = store_parse(&d, out);
	free(d.data);
	return e;
}

sup_err
store_put(DB *db, DB_TXN *txn, const void *key, size_t klen, json_object *val,
    uint32_t flags)
{
	const char *text;
	size_t len;

	text = json_text(val,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text == NULL)
		return SUP_ENOMEM;
	DBT k = { .data = (void *)key, .size = (u_int32_t)klen };
	DBT d = { .data = (void *)text, .size = (u_int32_t)len };
	return store_err(db->put(db, txn, &k, &d, flags), "put");
}

/* --- Secondary index keys -------------------------------------------- */

/*
 * The ticket fields the indexes are made of.  The callbacks below get the
 * stored bytes, so they parse the record; a record they cannot read is left
 * out of the index rather than failing the write.
 */
struct tfields {
	uint8_t uuid[UUID_LEN];
	uint64_t number;
	int64_t updated_us;
	uint32_t user, assignee;
	int status, priority;
};

static bool
tfields_of(json_object *rec, struct tfields *f)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(rec, "uuid", &v) ||
	    (s = json_object_get_string(v)) == NULL ||
	    !uuid_parse(s, strlen(s), f->uuid))
		return false;
	if (!json_object_object_get_ex(rec, "updated_at", &v) ||
	    (s = json_object_get_string(v)) == NULL ||
	    !time_parse(s, &f->updated_us))
		return false;
	if (!json_object_object_get_ex(rec, "status", &v) ||
	    (s = json_object_get_string(v)) == NULL ||
	    (f->status = ticket_status_from(s)) < 0)
		return false;
	if (!json_object_object_get_ex(rec, "priority", &v) ||
	    (s = json_object_get_string(v)) == NULL ||
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
 * The next member of a flat JSON object in compact text (as store_put
 * writes it), at *p: the '{' or ',' before it.  Its key (without quotes)
 * and its value's text (strings with their quotes) are pointed at, and *p
 * moves past the value.  False at the end of the object or on anything
 * else (a nested value, a key with an escape, white space): the caller
 * then parses the record with json-c.
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
 * tfields_of, from the stored text without json-c: the index callbacks
 * run for the old and the new record of every ticket write, and parsing
 * both was a fifth of the cost of posting a message.  False when the text
 * is not a flat object with every field (the caller then parses it).
 */
static bool
tfields_text(const char *t, size_t n, struct tfields *f)
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
			if ((f->status = ticket_name_quoted(
			    ticket_status_names, v, vl)) < 0)
				return false;
			seen |= 4;
		} else if (IS("priority")) {
			if ((f->priority = ticket_name_quoted(
			    ticket_priority_names, v, vl)) < 0)
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

/*
 * The key of index idx for ticket fields f; its length.  Only the activity
 * indexes (updated, user) carry the time of the last change, so a message
 * moves those two; status, assignee and priority keep creation (number)
 * order and change only when their value does.
 */
static size_t
index_key(enum store_index idx, const struct tfields *f,
    uint8_t key[T_IDX_KEY_MAX])
{
	size_t n = 0;

	switch (idx) {
	case IDX_NUMBER:
		be64_put(key, f->number);
		return 8;
	case IDX_UPDATED:
		store_recent_key(key, f->updated_us, f->uuid);
		return RECENT_KEY_LEN;
	case IDX_USER:
		be32_put(key, f->user);
		n = 4;
		break;
	case IDX_STATUS:
		key[0] = (uint8_t)f->status;
		be64_put(key + 1, f->number);
		return 9;
	case IDX_ASSIGNEE:
		be32_put(key, f->assignee);
		be64_put(key + 4, f->number);
		return 12;
	case IDX_PRIORITY:
		key[0] = (uint8_t)f->priority;
		be64_put(key + 1, f->number);
		return 9;
	default:
		return 0;
	}
	be64_put(key + n, (uint64_t)f->updated_us);
	memcpy(key + n + 8, f->uuid, UUID_LEN);
	return n + 8 + UUID_LEN;
}

size_t
store_ticket_key(enum store_index idx, json_object *rec,
    uint8_t key[T_IDX_KEY_MAX])
{
	struct tfields f;

	return tfields_of(rec, &f) ? index_key(idx, &f, key) : 0;
}

/*
 * Writing a ticket calls each of its index callbacks with the old and the
 * new record: a dozen calls for two records.  The fields of the last two
 * records parsed are kept, so each is parsed once.
 */
struct store_cache {
	struct {
		uint8_t *data;
		size_t size;
		struct tfields f;
		bool ok;
	} slot[2];
	int next;
};

/*
 * The index fields of the stored ticket data; false if it has none, or
 * when they could not be read for want of memory (then *nomem is set,
 * when nomem is not NULL, and nothing is cached: the next call tries
 * again).
 */
static bool
cached_fields_nomem(struct store *s, const DBT *data,
    const struct tfields **f, bool *nomem)
{
	struct store_cache *c = s->cache;
	json_object *rec;
	sup_err e = SUP_OK;

	if (nomem != NULL)
		*nomem = false;
	for (int i = 0; i < 2; i++)
		if (c->slot[i].data != NULL && c->slot[i].size == data->size &&
		    memcmp(c->slot[i].data, data->data, data->size) == 0) {
			*f = &c->slot[i].f;
			return c->slot[i].ok;
		}
	int i = c->next;
	c->next = !c->next;
	free(c->slot[i].data);
	c->slot[i].data = NULL;
	c->slot[i].ok = false;
	if (tfields_text(data->data, data->size, &c->slot[i].f))
		c->slot[i].ok = true;
	else if ((e = store_parse(data, &rec)) == SUP_OK) {
		c->slot[i].ok = tfields_of(rec, &c->slot[i].f);
		json_object_put(rec);
	}
	*f = &c->slot[i].f;
	if (e == SUP_ENOMEM) {
		if (nomem != NULL)
			*nomem = true;
		return false;
	}
	if ((c->slot[i].data = malloc(data->size)) != NULL) {
		memcpy(c->slot[i].data, data->data, data->size);
		c->slot[i].size = data->size;
	}
	return c->slot[i].ok;
}

static bool
cached_fields(struct store *s, const DBT *data, const struct tfields **f)
{
	return cached_fields_nomem(s, data, f, NULL);
}

static int
ticket_index_cb(DB *sec, enum store_index idx, const DBT *data, DBT *result)
{
	const struct tfields *f;
	uint8_t key[T_IDX_KEY_MAX];
	size_t n;
	bool nomem;

	/* Out of memory fails the write: DB_DONOTINDEX would lose the key. */
	if (!cached_fields_nomem(sec->app_private, data, &f, &nomem))
		return nomem ? ENOMEM : DB_DONOTINDEX;
	if ((n = index_key(idx, f, key)) == 0)
		return DB_DONOTINDEX;
	if ((result->data = malloc(n)) == NULL)
		return ENOMEM;
	memcpy(result->data, key, n);
	result->size = (u_int32_t)n;
	result->flags = DB_DBT_APPMALLOC;
	return 0;
}

#define TICKET_INDEX(name, idx)						\
static int								\
name(DB *sec, const DBT *k SUP_UNUSED, const DBT *d, DBT *r)		\
{									\
	return ticket_index_cb(sec, idx, d, r);				\
}
TICKET_INDEX(idx_number, IDX_NUMBER)
TICKET_INDEX(idx_user, IDX_USER)
TICKET_INDEX(idx_status, IDX_STATUS)
TICKET_INDEX(idx_assignee, IDX_ASSIGNEE)
TICKET_INDEX(idx_priority, IDX_PRIORITY)

bool
store_bulk_grow(void **buf, size_t *cap, size_t need)
{
	size_t n = *cap * 2;
	void *p;

	while (n < need)
		n *= 2;
	if ((p = realloc(*buf, n)) == NULL)
		return false;
	*buf = p;
	*cap = n;
	return true;
}

/* --- The covering index of activity order ----------------------------- */

void
store_recent_key(uint8_t key[RECENT_KEY_LEN], int64_t updated_us,
    const uint8_t uuid[UUID_LEN])
{
	be64_put(key, UINT64_MAX - (uint64_t)updated_us);
	for (size_t i = 0; i < UUID_LEN; i++)
		key[8 + i] = (uint8_t)~uuid[i];
}

void
store_recent_uuid(const uint8_t key[RECENT_KEY_LEN], uint8_t uuid[UUID_LEN])
{
	for (size_t i = 0; i < UUID_LEN; i++)
		uuid[i] = (uint8_t)~key[8 + i];
}

bool
store_ticket_stamp(struct store *s, const void *text, size_t len,
    uint8_t uuid[UUID_LEN], int64_t *updated_us)
{
	DBT d = { .data = (void *)text, .size = (u_int32_t)len };
	const struct tfields *f;

	if (!cached_fields(s, &d, &f))
		return false;
	memcpy(uuid, f->uuid, UUID_LEN);
	*updated_us = f->updated_us;
	return true;
}

sup_err
store_recent_move(struct store *s, DB_TXN *txn, const uint8_t uuid[UUID_LEN],
    int64_t old_us, int64_t new_us, const void *text, size_t len)
{
	uint8_t key[RECENT_KEY_LEN];
	DBT k = { .data = key, .size = RECENT_KEY_LEN };
	DBT d = { .data = (void *)text, .size = (u_int32_t)len };
	int rc;

	if (old_us >= 0 && old_us != new_us) {
		store_recent_key(key, old_us, uuid);
		rc = s->t_recent->del(s->t_recent, txn, &k, 0);
		if (rc != 0 && rc != DB_NOTFOUND)
			return store_err(rc, "t_recent del");
	}
	store_recent_key(key, new_us, uuid);
	return store_err(s->t_recent->put(s->t_recent, txn, &k, &d, 0),
	    "t_recent put");
}

/* A user's lowercased field as the key of a unique index. */
static int
user_index_cb(const char *field, const DBT *data, DBT *result)
{
	json_object *rec, *v;
	const char *s;
	char *key;
	size_t n;
	sup_err e;

	/* Out of memory fails the write: DB_DONOTINDEX would lose the key. */
	if ((e = store_parse(data, &rec)) != SUP_OK)
		return e == SUP_ENOMEM ? ENOMEM : DB_DONOTINDEX;
	if (!json_object_object_get_ex(rec, field, &v) ||
	    (s = json_object_get_string(v)) == NULL || *s == '\0') {
		json_object_put(rec);
		return DB_DONOTINDEX;
	}
	n = strlen(s);
	if ((key = malloc(n)) == NULL) {
		json_object_put(rec);
		return ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		key[i] = (char)tolower((unsigned char)s[i]);
	json_object_put(rec);
	result->data = key;
	result->size = (u_int32_t)n;
	result->flags = DB_DBT_APPMALLOC;
	return 0;
}

static int
idx_username(DB *sec SUP_UNUSED, const DBT *k SUP_UNUSED, const DBT *d, DBT *r)
{
	return user_index_cb("username", d, r);
}

static int
idx_email(DB *sec SUP_UNUSED, const DBT *k SUP_UNUSED, const DBT *d, DBT *r)
{
	return user_index_cb("email", d, r);
}

/* A message's uuid is the last 16 bytes of its primary key. */
static int
idx_msg_uuid(DB *sec SUP_UNUSED, const DBT *k, const DBT *d SUP_UNUSED, DBT *r)
{
	if (k->size != MSG_KEY_LEN)
		return DB_DONOTINDEX;
	r->data = (uint8_t *)k->data + MSG_KEY_LEN - UUID_LEN;
	r->size = UUID_LEN;
	return 0;
}

/* --- Opening --------------------------------------------------------- */

static void
log_db_error(const DB_ENV *env SUP_UNUSED, const char *pfx SUP_UNUSED,
    const char *msg)
{
	fprintf(stderr, "support: db: %s\n", msg);
}

/*
 * Berkeley DB's informational messages, to stderr with the errors: by
 * default they would go to stdout, which is the response of a CGI request.
 */
static void
log_db_msg(const DB_ENV *env SUP_UNUSED, const char *msg)
{
	fprintf(stderr, "support: db: %s\n", msg);
}

/*
 * An open descriptor of the environment's first region file in dir, for
 * store_abandoned; -1 if it cannot be opened (the check then says no).
 * Not the register file: closing any descriptor of that one would drop
 * this process's fcntl lock on its slot, making it look dead.
 */
static int
open_region(const char *dir)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/__db.001", dir) >=
	    sizeof(path))
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

/*
 * Open (creating when absent) one database of the store inside txn, the
 * transaction store_open opens every database in.  *created is set when
 * the file did not exist: store_open then commits the opening durably.
 * On error *out is NULL and the handle is closed.
 */
static sup_err
open_db(struct store *s, DB_TXN *txn, DB **out, const char *file,
    DBTYPE type, bool *created)
{
	DB *db;
	int rc;

	*out = NULL;
	for (uint32_t flags = 0;; flags = DB_CREATE) {
		if ((rc = db_create(&db, s->env, 0)) != 0)
			return store_err(rc, file);
		rc = db->open(db, txn, file, NULL, type, flags, 0660);
		if (rc == 0)
			break;
		db->close(db, 0);
		/* The first open of the store makes the file. */
		if (rc != ENOENT || flags == DB_CREATE)
			return store_err(rc, file);
		*created = true;
	}
	*out = db;
	return SUP_OK;
}

/*
 * Associate the secondary sec, opened in txn, with its primary.  fresh:
 * its file was made by this open.  DB_CREATE (build the index from the
 * primary when the index is empty) is asked for only then: to find out
 * whether the index is empty, Berkeley DB reads its first leaf page for
 * writing, which marks that page dirty, so that every process wrote and
 * flushed one page of every index when it closed the store, reads only
 * or not.  An index whose file exists was made in the same transaction
 * as its primary, by the same code, and is kept with it by every write.
 */
static sup_err
associate(DB *primary, DB_TXN *txn, DB *sec, const char *file,
    int (*cb)(DB *, const DBT *, const DBT *, DBT *), bool fresh)
{
	return store_err(primary->associate(primary, txn, sec, cb,
	    fresh ? DB_CREATE : 0), file);
}

/*
 * Open the index file and associate it with primary with callback cb,
 * inside txn.  *created is set when the file had to be made.
 */
static sup_err
open_index(struct store *s, DB_TXN *txn, DB *primary, DB **out,
    const char *file, int (*cb)(DB *, const DBT *, const DBT *, DBT *),
    bool *created)
{
	bool fresh = false;
	sup_err e;

	if ((e = open_db(s, txn, out, file, DB_BTREE, &fresh)) != SUP_OK)
		return e;
	*created |= fresh;
	return associate(primary, txn, *out, file, cb, fresh);
}

/* Open (creating at 1 when absent) the sequence name, inside txn. */
static sup_err
open_seq(struct store *s, DB_TXN *txn, DB_SEQUENCE **out, const char *name)
{
	DB_SEQUENCE *seq;
	DBT k = { .data = (void *)name, .size = (u_int32_t)strlen(name) };
	int rc;

	*out = NULL;
	if ((rc = db_sequence_create(&seq, s->seqs, 0)) != 0)
		return store_err(rc, name);
	if ((rc = seq->initial_value(seq, 1)) != 0 ||
	    (rc = seq->open(seq, txn, &k, DB_CREATE)) != 0) {
		seq->close(seq, 0);
		return store_err(rc, name);
	}
	*out = seq;
	return SUP_OK;
}

/* The end of env's log (the next record's place); zero when unknown. */
static void
log_end(DB_ENV *env, DB_LSN *out)
{
	DB_LOG_STAT *st;

	out->file = out->offset = 0;
	if (env->log_stat(env, &st, 0) != 0)
		return;
	out->file = st->st_cur_file;
	out->offset = st->st_cur_offset;
	free(st);
}

/*
 * Building t_recent (an upgrade).  A store made by an older version has
 * no t_recent.db but the associated t_by_updated.db; an older program run
 * on the store since has written tickets without their t_recent entries,
 * and made t_by_updated.db again.  Either way t_recent is built from
 * tickets.db by the first process that opens the store.  Not in the
 * opening transaction: a transaction holds a lock on every page it
 * writes until it ends, and a store of a million tickets ran out of the
 * lock table ("Lock table is out of available lock entries") and could
 * not be opened at all.  So the build runs in batches of RECENT_BATCH
 * tickets, a transaction each, after the opening one:
 *
 * - The file RECENT_MARK says a build is due; it is made (and flushed)
 *   before anything else, so a build cut short by a crash is done again
 *   from the start by the next opener.
 * - The processes that open the store meanwhile wait for the builder's
 *   lock on the marker (flock), then find the marker gone and go on.
 * - A build empties t_recent, fills it, removes t_by_updated.db, waits
 *   for the log to reach the disk, and removes the marker last.
 */
#define RECENT_MARK "t_recent.build"
#define RECENT_BATCH 200

/* The path of name in the store's directory; false when too long. */
static bool
store_path(const struct store *s, const char *name, char *path, size_t n)
{
	return (size_t)snprintf(path, n, "%s/%s", s->conf->data_dir, name) < n;
}

/*
 * The backup lock (STORE_BACKUP_LOCK), made when missing; -1 if it cannot
 * be opened (checkpoints then run unguarded, as before there was one).
 */
static int
open_backup_lock(const struct store *s)
{
	char path[4096];

	if (!store_path(s, STORE_BACKUP_LOCK, path, sizeof(path)))
		return -1;
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
}

/* Is there a file name in the store's directory? */
static bool
store_has_file(const struct store *s, const char *name)
{
	char path[4096];
	struct stat st;

	return store_path(s, name, path, sizeof(path)) && stat(path, &st) == 0;
}

/* Flush the store's directory (a file made or removed in it). */
static void
sync_dir(const struct store *s)
{
	int fd = open(s->conf->data_dir, O_RDONLY | O_DIRECTORY);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Is a build of t_recent due (see above)?  Before the files are opened. */
static bool
recent_due(const struct store *s)
{
	return (store_has_file(s, "tickets.db") &&
	    !store_has_file(s, "t_recent.db")) ||
	    store_has_file(s, "t_by_updated.db");
}

/* Make the marker file mark (and flush it), if it is not there yet. */
static sup_err
make_mark(struct store *s, const char *mark)
{
	char path[4096];
	int fd;

	if (!store_path(s, mark, path, sizeof(path)) ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0660)) < 0) {
		fprintf(stderr, "support: cannot make %s/%s\n",
		    s->conf->data_dir, mark);
		return SUP_EIO;
	}
	fsync(fd);
	close(fd);
	sync_dir(s);
	return SUP_OK;
}

/* One batch of a build: what it did, and where the next one starts. */
struct batch {
	bool fill;			/* filling (else emptying) t_recent */
	bool started;
	uint8_t last[UUID_LEN];		/* the last ticket filled */
	size_t n;			/* entries put or removed */
};

/* Remove up to RECENT_BATCH entries of t_recent, inside txn. */
static int
empty_batch(struct store *s, DB_TXN *txn, struct batch *b)
{
	DBT k = { .flags = DB_DBT_PARTIAL }, d = { .flags = DB_DBT_PARTIAL };
	DBC *c;
	int rc;

	b->n = 0;
	if ((rc = s->t_recent->cursor(s->t_recent, txn, &c, 0)) != 0)
		return rc;
	while (b->n < RECENT_BATCH &&
	    (rc = c->get(c, &k, &d, DB_FIRST | DB_RMW)) == 0 &&
	    (rc = c->del(c, 0)) == 0)
		b->n++;
	c->close(c);
	return rc == DB_NOTFOUND ? 0 : rc;
}

/*
 * Put the t_recent entries of up to RECENT_BATCH tickets after b->last,
 * inside txn.  A record whose uuid or updated_at cannot be read is left
 * out, as the old index's callback left it out (verify reports it).
 */
static int
fill_batch(struct store *s, DB_TXN *txn, struct batch *b)
{
	uint8_t kb[UUID_LEN], uuid[UUID_LEN];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	int64_t us;
	DBC *c;
	int rc;

	b->n = 0;
	if ((rc = s->tickets->cursor(s->tickets, txn, &c, DB_READ_COMMITTED))
	    != 0)
		return rc;
	if (b->started) {
		memcpy(kb, b->last, UUID_LEN);
		k.size = UUID_LEN;
		rc = c->get(c, &k, &d, DB_SET_RANGE);
		if (rc == 0 && k.size == UUID_LEN &&
		    memcmp(kb, b->last, UUID_LEN) == 0)
			rc = c->get(c, &k, &d, DB_NEXT);
	} else {
		rc = c->get(c, &k, &d, DB_FIRST);
	}
	for (; rc == 0 && b->n < RECENT_BATCH;
	    rc = c->get(c, &k, &d, DB_NEXT)) {
		if (k.size != UUID_LEN || !store_ticket_stamp(s, d.data,
		    d.size, uuid, &us) || memcmp(kb, uuid, UUID_LEN) != 0) {
			fprintf(stderr, "support: a ticket record without a "
			    "readable uuid or updated_at is left out of "
			    "t_recent.db\n");
			continue;
		}
		if (store_recent_move(s, txn, uuid, -1, us, d.data, d.size) !=
		    SUP_OK) {
			rc = EIO;
			break;
		}
		memcpy(b->last, uuid, UUID_LEN);
		b->started = true;
		b->n++;
	}
	c->close(c);
	free(d.data);
	return rc == DB_NOTFOUND ? 0 : rc;
}

/*
 * Run batches of one pass (b->fill) until one does nothing, each in its
 * transaction (committed without waiting for the disk: a crash leaves the
 * marker, and the build starts again); a deadlocked batch is run again.
 */
static sup_err
recent_pass(struct store *s, struct batch *b)
{
	int tries = 0;

	do {
		struct batch before = *b;
		DB_TXN *txn;
		int rc = s->env->txn_begin(s->env, NULL, &txn, 0);
		if (rc != 0)
			return store_err(rc, "txn_begin");
		rc = b->fill ? fill_batch(s, txn, b) : empty_batch(s, txn, b);
		if (rc == 0)
			rc = txn->commit(txn, DB_TXN_NOSYNC);
		else
			txn->abort(txn);
		if (rc == DB_LOCK_DEADLOCK && ++tries < RETRIES) {
			*b = before;	/* the batch again, from where it began */
			b->n = 1;
			continue;
		}
		if (rc != 0)
			return store_err(rc, "building t_recent.db");
		tries = 0;
	} while (b->n > 0);
	return SUP_OK;
}

/* The build of t_recent: empty it, fill it, remove t_by_updated.db. */
static sup_err
recent_run(struct store *s)
{
	struct batch b = { 0 };
	sup_err e;
	int rc;

	fprintf(stderr, "support: building t_recent.db from the tickets "
	    "(a store of an older version)\n");
	if ((e = recent_pass(s, &b)) != SUP_OK)
		return e;
	b.fill = true;
	if ((e = recent_pass(s, &b)) != SUP_OK)
		return e;
	rc = s->env->dbremove(s->env, NULL, "t_by_updated.db", NULL,
	    DB_AUTO_COMMIT);
	if (rc != 0 && rc != ENOENT)
		return store_err(rc, "t_by_updated.db");
	fprintf(stderr, "support: t_recent.db built\n");
	return SUP_OK;
}

/*
 * Building t_counts (an upgrade).  A store made before it kept one
 * counter per status in counters.db ("open", ...), and no count of each
 * status and assignee.  Its first opener counts every ticket of
 * tickets.db by status and assignee (a cursor outside any transaction:
 * one page locked at a time, however many tickets), then writes the
 * counts and removes the old counters in one transaction; an entry per
 * status and assignee, a few hundred at most.  The same marker protocol
 * as t_recent's (above) keeps the other openers waiting meanwhile, so
 * nothing of this version writes tickets while they are counted.
 *
 * The build is due when tickets.db is there and t_counts.db is not; a
 * store this version makes opens t_counts.db before tickets.db
 * (open_all).  Should another opener of a new store all the same see
 * tickets.db first and build, the counts are written only if t_counts is
 * still empty when the build's transaction reads it: a ticket written by
 * this version since has its count there already.
 */
#define COUNTS_MARK "t_counts.build"

static bool
counts_due(const struct store *s)
{
	return store_has_file(s, "tickets.db") &&
	    !store_has_file(s, "t_counts.db");
}

/* A count of the build: tickets of one status and assignee. */
struct tcount {
	uint8_t status;
	uint32_t assignee;
	int64_t n;
};

/* Add one to (status, assignee) in the sorted array *t of *n; false: no memory. */
static bool
tcount_one(struct tcount **t, size_t *n, size_t *cap, int status,
    uint32_t assignee)
{
	size_t lo = 0, hi = *n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		struct tcount *m = &(*t)[mid];
		if (m->status == status && m->assignee == assignee) {
			m->n++;
			return true;
		}
		if (m->status < status ||
		    (m->status == status && m->assignee < assignee))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct tcount *g = realloc(*t, c * sizeof(*g));
		if (g == NULL)
			return false;
		*t = g;
		*cap = c;
	}
	memmove(*t + lo + 1, *t + lo, (*n - lo) * sizeof(**t));
	(*t)[lo] = (struct tcount){ (uint8_t)status, assignee, 1 };
	(*n)++;
	return true;
}

/*
 * Write the counts t[0..n) and drop the old counters; *wrote false (and
 * nothing written) when t_counts has entries already.
 */
static sup_err
counts_write(struct store *s, DB_TXN *txn, const struct tcount *t, size_t n,
    bool *wrote)
{
	DBT k = { .flags = DB_DBT_PARTIAL }, d = { .flags = DB_DBT_PARTIAL };
	DBC *c;
	sup_err e = SUP_OK;
	int rc;

	if ((rc = s->t_counts->cursor(s->t_counts, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	rc = c->get(c, &k, &d, DB_FIRST | DB_RMW);
	c->close(c);
	*wrote = rc == DB_NOTFOUND;
	if (rc == 0)
		return SUP_OK;		/* counted by the writers already */
	if (rc != DB_NOTFOUND)
		return store_err(rc, "t_counts");
	for (size_t i = 0; i < n && e == SUP_OK; i++)
		e = store_tcount_add(s, txn, t[i].status, t[i].assignee,
		    t[i].n);
	for (int i = 0; i < ST_MAX && e == SUP_OK; i++) {
		DBT name = { .data = (void *)ticket_status_names[i],
			.size = (u_int32_t)strlen(ticket_status_names[i]) };
		rc = s->counters->del(s->counters, txn, &name, 0);
		if (rc != 0 && rc != DB_NOTFOUND)
			e = store_err(rc, "counters");
	}
	return e;
}

static sup_err
counts_run(struct store *s)
{
	DBT k = { .flags = DB_DBT_REALLOC }, d = { .flags = DB_DBT_REALLOC };
	struct tcount *t = NULL;
	size_t n = 0, cap = 0;
	int64_t tickets = 0;
	bool wrote = false;
	DB_TXN *txn;
	DBC *c;
	sup_err e = SUP_OK;
	int rc;

	fprintf(stderr, "support: building t_counts.db from the tickets "
	    "(a store of an older version)\n");
	if ((rc = s->tickets->cursor(s->tickets, NULL, &c, 0)) != 0)
		return store_err(rc, "cursor");
	while ((rc = c->get(c, &k, &d, DB_NEXT)) == 0) {
		const struct tfields *f;
		if (!cached_fields(s, &d, &f)) {
			fprintf(stderr, "support: a ticket record without a "
			    "readable status is left out of t_counts.db\n");
			continue;
		}
		if (!tcount_one(&t, &n, &cap, f->status, f->assignee)) {
			e = SUP_ENOMEM;
			break;
		}
		tickets++;
	}
	c->close(c);
	free(k.data);
	free(d.data);
	if (e == SUP_OK && rc != DB_NOTFOUND)
		e = store_err(rc, "tickets");
	for (int tries = 0; e == SUP_OK; tries++) {
		if ((rc = s->env->txn_begin(s->env, NULL, &txn, 0)) != 0) {
			e = store_err(rc, "txn_begin");
			break;
		}
		if ((e = counts_write(s, txn, t, n, &wrote)) == SUP_OK) {
			e = store_err(txn->commit(txn, 0), "commit");
			break;
		}
		txn->abort(txn);
		if (e != SUP_EDEADLOCK || tries + 1 >= RETRIES)
			break;
		e = SUP_OK;
	}
	free(t);
	if (e == SUP_OK && wrote)
		fprintf(stderr, "support: t_counts.db built (%" PRId64
		    " tickets)\n", tickets);
	else if (e == SUP_OK)
		fprintf(stderr, "support: t_counts.db had its counts "
		    "already\n");
	return e;
}

/*
 * The upgrades, each a build behind a marker file: made before the
 * files are opened when due() says so, and run after the opening
 * transaction by the process that holds the marker's lock.
 */
static const struct build {
	const char *mark;
	bool (*due)(const struct store *s);
	sup_err (*run)(struct store *s);
} builds[] = {
	{ RECENT_MARK, recent_due, recent_run },
	{ COUNTS_MARK, counts_due, counts_run },
};

/* Before the store's files are opened: make the markers of the builds due. */
static sup_err
builds_mark(struct store *s)
{
	sup_err e;

	for (size_t i = 0; i < SUP_NELEM(builds); i++)
		if (builds[i].due(s) && (e = make_mark(s, builds[i].mark)) !=
		    SUP_OK)
			return e;
	return SUP_OK;
}

/*
 * Wait for the lock on the marker at path; *fd is the marker held, or -1
 * when there is none (no build due, or another process has done it
 * meanwhile: the marker gone, or made anew).
 */
static sup_err
build_take(const char *path, int *fd)
{
	struct stat st, held;
	int rc;

	for (;;) {
		if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return errno == ENOENT ? SUP_OK : SUP_EIO;
		while ((rc = flock(*fd, LOCK_EX)) != 0 && errno == EINTR)
			;
		if (rc == 0 && fstat(*fd, &held) == 0 && stat(path, &st) == 0 &&
		    st.st_ino == held.st_ino && st.st_dev == held.st_dev)
			return SUP_OK;
		close(*fd);
		*fd = -1;
		if (rc != 0)
			return SUP_EIO;
	}
}

/*
 * After the opening transaction: run each build whose marker is there,
 * or wait for the process running it.  A build done waits for the log to
 * reach the disk, then removes its marker: one cut short is run again.
 */
static sup_err
builds_run(struct store *s)
{
	for (size_t i = 0; i < SUP_NELEM(builds); i++) {
		char path[4096];
		sup_err e;
		int fd;

		if (!store_path(s, builds[i].mark, path, sizeof(path)))
			return SUP_EIO;
		if ((e = build_take(path, &fd)) != SUP_OK)
			return e;
		if (fd < 0)
			continue;
		if ((e = builds[i].run(s)) == SUP_OK &&
		    (e = store_err(s->env->log_flush(s->env, NULL),
		    "log flush")) == SUP_OK && unlink(path) != 0)
			e = SUP_EIO;
		if (e == SUP_OK)
			sync_dir(s);
		close(fd);		/* and with it the lock */
		if (e != SUP_OK)
			return e;
	}
	return SUP_OK;
}

/*
 * Open every database of the store, and its sequences, inside txn.
 * *created is set when a file had to be made.  On error, what was opened
 * stays in s for store_close.
 */
static sup_err
open_all(struct store *s, DB_TXN *txn, bool *created)
{
	static const char *const idx_files[IDX_MAX] = {
		"t_by_number.db", NULL, "t_by_user.db",
		"t_by_status.db", "t_by_assignee.db", "t_by_priority.db",
	};
	static int (*const idx_cbs[IDX_MAX])(DB *, const DBT *, const DBT *,
	    DBT *) = {
		idx_number, NULL, idx_user, idx_status, idx_assignee,
		idx_priority,
	};
	sup_err e;

	if ((e = open_db(s, txn, &s->users, "users.db", DB_BTREE,
		created)) != SUP_OK ||
	    (e = open_index(s, txn, s->users, &s->users_by_name,
		"users_by_name.db", idx_username, created)) != SUP_OK ||
	    (e = open_index(s, txn, s->users, &s->users_by_email,
		"users_by_email.db", idx_email, created)) != SUP_OK ||
	    (e = open_db(s, txn, &s->tokens, "tokens.db", DB_BTREE,
		created)) != SUP_OK ||
	    /* Before tickets.db: a store with tickets.db alone is an older one. */
	    (e = open_db(s, txn, &s->t_counts, "t_counts.db", DB_BTREE,
		created)) != SUP_OK ||
	    (e = open_db(s, txn, &s->tickets, "tickets.db", DB_BTREE,
		created)) != SUP_OK ||
	    (e = open_db(s, txn, &s->t_recent, "t_recent.db", DB_BTREE,
		created)) != SUP_OK ||
	    (e = open_db(s, txn, &s->messages, "messages.db", DB_BTREE,
		created)) != SUP_OK ||
	    (e = open_index(s, txn, s->messages, &s->m_by_uuid,
		"m_by_uuid.db", idx_msg_uuid, created)) != SUP_OK ||
	    (e = open_db(s, txn, &s->counters, "counters.db", DB_BTREE,
		created)) != SUP_OK ||
	    (e = open_db(s, txn, &s->seqs, "seqs.db", DB_BTREE,
		created)) != SUP_OK ||
	    (e = open_db(s, txn, &s->sessions, "sessions.db", DB_BTREE,
		created)) != SUP_OK ||
	    (e = open_db(s, txn, &s->throttle, "throttle.db", DB_BTREE,
		created)) != SUP_OK)
		return e;
	for (int i = 0; i < IDX_MAX; i++) {
		bool fresh = false;

		if (idx_files[i] == NULL)
			continue;	/* activity order: t_recent */
		if ((e = open_db(s, txn, &s->t_idx[i], idx_files[i], DB_BTREE,
		    &fresh)) != SUP_OK)
			return e;
		*created |= fresh;
		/* Before associate: it may call back to build the index. */
		s->t_idx[i]->app_private = s;
		if ((e = associate(s->tickets, txn, s->t_idx[i], idx_files[i],
		    idx_cbs[i], fresh)) != SUP_OK)
			return e;
	}
	if ((e = open_seq(s, txn, &s->ticket_seq, "ticket_number")) !=
	    SUP_OK ||
	    (e = open_seq(s, txn, &s->user_seq, "user_id")) != SUP_OK)
		return e;
	return SUP_OK;
}

/*
 * Opening a database in a transactional environment logs the file's
 * registration and commits it; with one auto-committed transaction each,
 * every database cost a log write and a disk flush (19 of them for a
 * read-only plain CGI request: docs/store.md).  So all of them are opened
 * in one transaction, committed without waiting for the disk unless a
 * file was made: registering existing files changes no data, and the next
 * durable commit flushes the log up to and past these records anyway.
 */
static sup_err
open_once(struct store *s, const struct sup_conf *conf)
{
	DB_ENV *env;
	DB_TXN *txn = NULL;
	bool created = false;
	sup_err e;
	int rc;

	memset(s, 0, sizeof(*s));
	s->region_fd = -1;
	s->backup_fd = -1;
	s->conf = conf;
	if ((rc = db_env_create(&env, 0)) != 0)
		return store_err(rc, "db_env_create");
	s->env = env;
	env->set_errcall(env, log_db_error);
	env->set_msgcall(env, log_db_msg);
	/* Gigabytes and bytes apart: a byte count past 4 GB would wrap. */
	env->set_cachesize(env, (u_int32_t)(conf->cache_kb >> 20),
	    (u_int32_t)(conf->cache_kb & ((1 << 20) - 1)) * 1024, 1);
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_timeout(env, (db_timeout_t)conf->lock_timeout_ms * 1000,
	    DB_SET_LOCK_TIMEOUT);
	/* Room for many processes, each holding a few cursors. */
	env->set_lk_max_lockers(env, 4000);
	env->set_lk_max_locks(env, 20000);
	env->set_lk_max_objects(env, 20000);
	env->set_lg_bsize(env, 256 * 1024);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	/*
	 * Write each log file full of zeroes when it is made.  By default
	 * Berkeley DB only sets its size, leaving a sparse file, and every
	 * commit's flush that reaches a new block allocates it: the disk
	 * flush then writes the file's metadata as well as the log (more
	 * I/O and kernel time per commit).  Zeroed, a flush overwrites
	 * blocks the file already has.  The cost is one 10 MB write when
	 * a file is made (docs/store.md, "Posting: log flushes and
	 * workers").
	 */
	env->log_set_config(env, DB_LOG_ZERO, 1);
	if (!conf->durable)
		env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1);
	rc = env->open(env, conf->data_dir, DB_CREATE | DB_INIT_TXN |
	    DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_REGISTER |
	    DB_RECOVER, 0660);
	if (rc != 0) {
		e = store_err(rc, conf->data_dir);
		if (e != SUP_EDB)
			fprintf(stderr, "support: %s: %s\n", conf->data_dir,
			    db_strerror(rc));
		goto err;
	}
	s->region_fd = open_region(conf->data_dir);
	s->backup_fd = open_backup_lock(s);
	if ((s->cache = calloc(1, sizeof(*s->cache))) == NULL) {
		e = SUP_ENOMEM;
		goto err;
	}
	if ((e = builds_mark(s)) != SUP_OK)
		goto err;
	if ((rc = env->txn_begin(env, NULL, &txn, 0)) != 0) {
		e = store_err(rc, "txn_begin");
		goto err;
	}
	e = open_all(s, txn, &created);
	/*
	 * Committed even after an error: what did open is then closed as
	 * any open handle is, by store_close.
	 */
	rc = txn->commit(txn, created ? 0 : DB_TXN_NOSYNC);
	if (e == SUP_OK && (e = store_err(rc, "commit")) == SUP_OK &&
	    (e = builds_run(s)) == SUP_OK) {
		log_end(s->env, &s->opened_end);
		return SUP_OK;
	}
err:
	store_close(s);
	return e;
}

/*
 * Opening takes locks like any transaction, and with processes opening
 * the store at once while one of them builds t_recent (an upgrade), the
 * opening transaction can be a deadlock's victim.  Everything is then
 * closed (open_once's error path) and opened again, a bounded number of
 * times.
 */
sup_err
store_open(struct store *s, const struct sup_conf *conf)
{
	sup_err e;

	for (int tries = 1; (e = open_once(s, conf)) == SUP_EDEADLOCK &&
	    tries < RETRIES; tries++)
		usleep(1000 * (useconds_t)tries);
	return e;
}

static void
close_db(DB **db, uint32_t flags)
{
	if (*db != NULL)
		(*db)->close(*db, flags);
	*db = NULL;
}

/*
 * Closing a database flushes its file: its dirty pages and an fsync, for
 * every file written since the environment was made, and a walk of the
 * whole cache for each.  Nobody can have dirtied a page without logging
 * it first, so when the log ends where it ended once the store was open,
 * nothing was written meanwhile, by this process or any other, and there
 * is nothing of this process's to flush: the databases are closed without
 * (DB_NOSYNC).  Pages other processes dirtied before are theirs to flush,
 * at their own close or at a checkpoint; a commit never waits for either
 * (its log is on disk).  This saves a read-only CGI request 10 to 19
 * fsyncs (docs/store.md).
 */
/*
 * Berkeley DB 5.3's DB_REGISTER has a race that many short-lived processes
 * (plain CGI) meet: an opener scans the register under its exclusive lock,
 * reads a slot with a live process's pid, and then tries that slot's lock;
 * a process closing its environment in between writes its slot empty and
 * drops the slot's lock without taking the exclusive lock, so the opener
 * gets the lock, takes the closed process for a dead one and runs
 * recovery, failing every request in flight (seen under mod_cgi with the
 * register's verbose messages: a process "FAILED" 14 ms after it
 * registered, having answered 200).  Holding the exclusive lock ourselves
 * while the environment closes makes the close wait for any scan and no
 * scan see the slot between the two steps.  The lock is the one
 * env_register.c takes (a write lock on byte 1 of __db.register); it goes
 * with every other lock of ours on that file when Berkeley DB closes its
 * descriptor, right after writing the slot empty.  Returns a descriptor
 * to close after the environment, or -1 (then nothing is held).
 */
static int
register_lock(DB_ENV *env)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
		.l_start = 1, .l_len = 1 };
	const char *home = NULL;
	char path[4096];
	int fd;

	if (env->get_home(env, &home) != 0 || home == NULL ||
	    (size_t)snprintf(path, sizeof(path), "%s/__db.register", home) >=
	    sizeof(path) || (fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return -1;
	while (fcntl(fd, F_SETLKW, &fl) != 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

void
store_close(struct store *s)
{
	uint32_t flags = 0;
	int regfd = -1;

	if (s->env != NULL && s->opened_end.file != 0) {
		DB_LSN now;
		log_end(s->env, &now);
		if (now.file == s->opened_end.file &&
		    now.offset == s->opened_end.offset)
			flags = DB_NOSYNC;
	}
	if (s->ticket_seq != NULL)
		s->ticket_seq->close(s->ticket_seq, 0);
	if (s->user_seq != NULL)
		s->user_seq->close(s->user_seq, 0);
	s->ticket_seq = s->user_seq = NULL;
	/* Secondaries before their primaries. */
	for (int i = 0; i < IDX_MAX; i++)
		close_db(&s->t_idx[i], flags);
	close_db(&s->t_recent, flags);
	close_db(&s->users_by_name, flags);
	close_db(&s->users_by_email, flags);
	close_db(&s->m_by_uuid, flags);
	close_db(&s->users, flags);
	close_db(&s->tokens, flags);
	close_db(&s->tickets, flags);
	close_db(&s->messages, flags);
	close_db(&s->t_counts, flags);
	close_db(&s->counters, flags);
	close_db(&s->seqs, flags);
	close_db(&s->sessions, flags);
	close_db(&s->throttle, flags);
	if (s->env != NULL) {
		regfd = register_lock(s->env);
		s->env->close(s->env, 0);
	}
	s->env = NULL;
	if (regfd >= 0)
		close(regfd);
	if (s->region_fd >= 0) {
		int fd = s->region_fd;
		s->region_fd = -1;	/* before the close: see store_abandoned */
		close(fd);
	}
	if (s->backup_fd >= 0)
		close(s->backup_fd);
	s->backup_fd = -1;
	if (s->cache != NULL)
		for (int i = 0; i < 2; i++)
			free(s->cache->slot[i].data);
	free(s->cache);
	s->cache = NULL;
	user_cache_free(s->users_cache);
	s->users_cache = NULL;
	view_cache_free(s->views_cache);
	s->views_cache = NULL;
}

bool
store_abandoned(const struct store *s)
{
	struct stat st;

	return s->env != NULL && s->region_fd >= 0 &&
	    fstat(s->region_fd, &st) == 0 &&
	    st.st_nlink == 0;
}

sup_err
store_reopen(struct store *s, const struct sup_conf *conf)
{
	store_close(s);
	return store_open(s, conf);
}

/* Reopen with the same settings; false when the store stays closed. */
static bool
reopen(struct store *s)
{
	const struct sup_conf *conf = s->conf;

	fprintf(stderr, "support: the store was recovered by another "
	    "process; reopening\n");
	return conf != NULL && store_reopen(s, conf) == SUP_OK;
}

/* --- Transactions ---------------------------------------------------- */

sup_err
store_run(struct store *s, unsigned flags, store_fn fn, void *arg)
{
	uint32_t tflags = (flags & STORE_READ) ? DB_READ_COMMITTED : 0;
	bool reopened = false;
	DB_TXN *txn;
	sup_err e;
	int rc;

	if (s->env == NULL)
		return SUP_ERECOVER;	/* a reopen failed before */
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		if ((rc = s->env->txn_begin(s->env, NULL, &txn, tflags)) != 0)
			e = store_err(rc, "txn_begin");
		else if ((e = fn(s, txn, arg)) == SUP_OK) {
			/*
			 * Commit without waiting for the disk, which releases
			 * the locks at once; then wait for the log to reach the
			 * disk before saying the write is done.  Writers that
			 * overlap thus share one log flush instead of each
			 * holding its locks through its own.
			 */
			rc = txn->commit(txn, DB_TXN_NOSYNC);
			if (rc == 0 && s->conf != NULL && s->conf->durable &&
			    !(flags & STORE_READ) &&
			    (rc = s->env->log_flush(s->env, NULL)) != 0) {
				/* Committed, but maybe not on disk: no retry. */
				store_err(rc, "log flush");
				return SUP_EDB;
			}
			e = store_err(rc, "commit");
		} else
			txn->abort(txn);
		if (e == SUP_ERECOVER && !reopened) {
			/* The aborted transaction wrote nothing: run it anew. */
			reopened = true;
			if (!reopen(s))
				return SUP_ERECOVER;
			continue;
		}
		if (e != SUP_EDEADLOCK)
			return e;
		/* Back off a random 0.1 to 2^attempt ms before trying again. */
		usleep(100 + randombytes_uniform(1000u << (attempt < 6 ?
		    attempt : 6)));
	}
	return SUP_EBUSY;
}

sup_err
store_run_json(struct store *s, unsigned flags, store_fn fn, void *arg,
    json_object **result, json_object **out)
{
	sup_err e = store_run(s, flags, fn, arg);

	if (e != SUP_OK) {
		json_object_put(*result);
		*result = NULL;
	}
	*out = *result;
	return e;
}

/* --- Counters and sequences ------------------------------------------ */

/* The 8-byte count under key in db (0 when there is none). */
static sup_err
count_get(DB *db, DB_TXN *txn, const void *key, size_t klen, int64_t *out)
{
	uint8_t buf[8];
	DBT k = { .data = (void *)key, .size = (u_int32_t)klen };
	DBT d = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int rc;

	*out = 0;
	rc = db->get(db, txn, &k, &d, 0);
	if (rc == DB_NOTFOUND)
		return SUP_OK;
	if (rc != 0)
		return store_err(rc, "counter get");
	if (d.size == 8)
		*out = (int64_t)be64_get(buf);
	return SUP_OK;
}

/* Add delta to the count under key in db, read for update. */
static sup_err
count_add(DB *db, DB_TXN *txn, const void *key, size_t klen, int64_t delta)
{
	uint8_t buf[8];
	DBT k = { .data = (void *)key, .size = (u_int32_t)klen };
	DBT d = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	int64_t v = 0;
	int rc;

	if (delta == 0)
		return SUP_OK;
	rc = db->get(db, txn, &k, &d, DB_RMW);
	if (rc != 0 && rc != DB_NOTFOUND)
		return store_err(rc, "counter get");
	if (rc == 0 && d.size == 8)
		v = (int64_t)be64_get(buf);
	be64_put(buf, (uint64_t)(v + delta));
	d.size = 8;
	return store_err(db->put(db, txn, &k, &d, 0), "counter put");
}

sup_err
store_count_get(struct store *s, DB_TXN *txn, const char *name, int64_t *out)
{
	return count_get(s->counters, txn, name, strlen(name), out);
}

sup_err
store_count_add(struct store *s, DB_TXN *txn, const char *name, int64_t delta)
{
	return count_add(s->counters, txn, name, strlen(name), delta);
}

sup_err
store_count_get_db(DB *db, DB_TXN *txn, const void *key, size_t klen,
    int64_t *out)
{
	return count_get(db, txn, key, klen, out);
}

sup_err
store_count_add_db(DB *db, DB_TXN *txn, const void *key, size_t klen,
    int64_t delta)
{
	return count_add(db, txn, key, klen, delta);
}

/* The t_counts key of (status, assignee). */
static void
tcount_key(uint8_t key[5], int status, uint32_t assignee)
{
	key[0] = (uint8_t)status;
	be32_put(key + 1, assignee);
}

sup_err
store_tcount_get(struct store *s, DB_TXN *txn, int status, uint32_t assignee,
    int64_t *out)
{
	uint8_t key[5];

	tcount_key(key, status, assignee);
	return count_get(s->t_counts, txn, key, sizeof(key), out);
}

sup_err
store_tcount_add(struct store *s, DB_TXN *txn, int status, uint32_t assignee,
    int64_t delta)
{
	uint8_t key[5];

	tcount_key(key, status, assignee);
	return count_add(s->t_counts, txn, key, sizeof(key), delta);
}

sup_err
store_tcount_status(struct store *s, DB_TXN *txn, int status, int64_t *out)
{
	uint8_t key[5], buf[8];
	DBT k = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT d = { .data = buf, .ulen = sizeof(buf), .flags = DB_DBT_USERMEM };
	DBC *c;
	int rc;

	*out = 0;
	tcount_key(key, status, 0);
	k.size = sizeof(key);
	if ((rc = s->t_counts->cursor(s->t_counts, txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	for (rc = c->get(c, &k, &d, DB_SET_RANGE);
	    rc == 0 && k.size == sizeof(key) && key[0] == (uint8_t)status;
	    rc = c->get(c, &k, &d, DB_NEXT))
		if (d.size == 8)
			*out += (int64_t)be64_get(buf);
	c->close(c);
	return rc == 0 || rc == DB_NOTFOUND ? SUP_OK :
	    store_err(rc, "t_counts");
}

sup_err
store_seq_next(DB_SEQUENCE *seq, DB_TXN *txn, int64_t *out)
{
	db_seq_t v;
	int rc;

	if ((rc = seq->get(seq, txn, 1, &v, 0)) != 0)
		return store_err(rc, "sequence");
	*out = (int64_t)v;
	return SUP_OK;
}

void
store_checkpoint(struct store *s, bool force)
{
	/*
	 * None while a backup copies the store (lib/backup.c): after a
	 * checkpoint, the next log file switch removes the log files
	 * before it, which the copy may still need.  Skipped, not waited
	 * for: a request must not wait for a backup.
	 */
	if (s->backup_fd >= 0 && flock(s->backup_fd, LOCK_SH | LOCK_NB) != 0)
		return;
	/* Unforced, nothing happens until 1 MB of log or a minute has gone by. */
	s->env->txn_checkpoint(s->env, force ? 0 : 1024, force ? 0 : 1,
	    force ? DB_FORCE : 0);
	if (s->backup_fd >= 0)
		flock(s->backup_fd, LOCK_UN);
}

void
store_maintain(struct store *s)
{
	int64_t now = time_now_us() / 1000000;

	if (s->env == NULL || now == s->last_upkeep)
		return;
	s->last_upkeep = now;
	s->env->lock_detect(s->env, 0, DB_LOCK_EXPIRE, NULL);
	store_checkpoint(s, false);
}
