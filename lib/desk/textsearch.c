/*
 * textsearch.c - the full-text search's area (textsearch.h,
 * docs/search.md): the words of a text, the index kept by a subscriber
 * of the event log, its build for an older store and its check, and the
 * queries.  (Not search.c: glibc has a <search.h>, which a lower layer
 * would find in place of this area's header.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <utf8proc.h>

#include "areas.h"
#include "counter.h"
#include "event.h"
#include "msg.h"
#include "record.h"
#include "textsearch.h"
#include "tstore.h"
#include "util.h"

/* --- Words ------------------------------------------------------------- */

enum cp_kind { CP_SEP, CP_WORD, CP_MARK };

static enum cp_kind
cp_kind(utf8proc_int32_t c)
{
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return CP_WORD;
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:
	case UTF8PROC_CATEGORY_ME:
		return CP_MARK;
	default:
		return CP_SEP;
	}
}

/* The next code point of p[0..n) into *c: its length, or 0 when p does not
 * start with one (a byte that is not UTF-8). */
static size_t
cp_next(const char *p, size_t n, utf8proc_int32_t *c)
{
	utf8proc_ssize_t r;

	if (n == 0)
		return 0;
	/* utf8proc reads at most 4 bytes; a length of -1 means "to NUL". */
	r = utf8proc_iterate((const utf8proc_uint8_t *)p,
	    (utf8proc_ssize_t)(n < 4 ? n : 4), c);
	return r > 0 ? (size_t)r : 0;
}

/* The length of w[0..n) cut to SEARCH_WORD_MAX bytes at a character. */
static size_t
word_cut(const char *w, size_t n)
{
	if (n <= SEARCH_WORD_MAX)
		return n;
	n = SEARCH_WORD_MAX;
	while (n > 0 && ((unsigned char)w[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/*
 * The next word of s[0..n) from *i on: *start where it begins, *i moved
 * past its end, *ascii whether all of it is ASCII; false when no word is
 * left.  A byte that is not UTF-8 is skipped; a word runs to the next
 * separator (cp_kind).
 */
static bool
next_word(const char *s, size_t n, size_t *i, size_t *start, bool *ascii)
{
	utf8proc_int32_t c;
	size_t k;

	while (*i < n) {
		if ((k = cp_next(s + *i, n - *i, &c)) == 0) {
			(*i)++;
			continue;
		}
		if (cp_kind(c) != CP_WORD) {
			*i += k;
			continue;
		}
		*start = *i;
		*ascii = c < 0x80;
		*i += k;
		while (*i < n && (k = cp_next(s + *i, n - *i, &c)) > 0 &&
		    cp_kind(c) != CP_SEP) {
			*ascii &= c < 0x80;
			*i += k;
		}
		return true;
	}
	return false;
}

/*
 * Hand the words of the normalised run out[0..n) to fn: it may hold
 * separators (a compatibility form such as "½" gives "1⁄2").
 */
static int
emit_normalised(const char *out, size_t n, size_t at, size_t span,
    search_word_fn fn, void *ctx)
{
	size_t i = 0, start;
	bool ascii;
	int r;

	while (next_word(out, n, &i, &start, &ascii))
		if ((r = fn(ctx, out + start, word_cut(out + start, i - start),
		    at, span)) != 0)
			return r;
	return 0;
}

sup_err
search_words(const char *text, size_t len, search_word_fn fn, void *ctx)
{
	size_t i = 0, start;
	bool ascii;

	while (next_word(text, len, &i, &start, &ascii)) {
		if (ascii) {
			/* The common case, without an allocation. */
			char w[SEARCH_WORD_MAX];
			size_t n = i - start < SEARCH_WORD_MAX ? i - start :
			    SEARCH_WORD_MAX;
			for (size_t j = 0; j < n; j++) {
				char ch = text[start + j];
				w[j] = ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
			}
			if (fn(ctx, w, n, start, i - start) != 0)
				return SUP_OK;
		} else {
			utf8proc_uint8_t *out = NULL;
			utf8proc_ssize_t r;
			int stop;

			r = utf8proc_map((const utf8proc_uint8_t *)text + start,
			    (utf8proc_ssize_t)(i - start), &out,
			    UTF8PROC_STABLE | UTF8PROC_COMPAT |
			    UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
			    UTF8PROC_STRIPMARK | UTF8PROC_IGNORE);
			if (r == UTF8PROC_ERROR_NOMEM)
				return SUP_ENOMEM;
			if (r < 0)
				continue;	/* not a run it can map: none */
			stop = emit_normalised((const char *)out, (size_t)r,
			    start, i - start, fn, ctx);
			free(out);
			if (stop != 0)
				return SUP_OK;
		}
	}
	return SUP_OK;
}

/* --- A document's words ------------------------------------------------ */

/*
 * The words of a document in order (b: each ended by NUL; off: where each
 * starts), and its distinct words (uniq: offsets into b, sorted by word).
 */
struct doc {
	struct sbuf b;
	size_t *off, n, cap;
	size_t *uniq, nuniq;
	bool nomem;
};

static void
doc_free(struct doc *d)
{
	free(d->b.p);
	free(d->off);
	free(d->uniq);
	memset(d, 0, sizeof(*d));
}

/* Note a word at offset at of d->b.  false: out of memory. */
static bool
doc_push(struct doc *d, size_t at)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		size_t *o = realloc(d->off, cap * sizeof(*o));
		if (o == NULL)
			return false;
		d->off = o;
		d->cap = cap;
	}
	d->off[d->n++] = at;
	return true;
}

static int
doc_word(void *ctx, const char *w, size_t n, size_t at SUP_UNUSED,
    size_t span SUP_UNUSED)
{
	struct doc *d = ctx;

	if (d->n == SEARCH_DOC_WORDS)
		return 1;
	if (!doc_push(d, d->b.len)) {
		d->nomem = true;
		return 1;
	}
	sbuf_add(&d->b, w, n);
	sbuf_add(&d->b, "", 1);
	if (d->b.failed) {
		d->nomem = true;
		return 1;
	}
	return 0;
}

/* Offsets into the words' buffer base: by word, then by place. */
static int
off_cmp(const void *a, const void *b, void *base)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp((const char *)base + x, (const char *)base + y);

	return c != 0 ? c : (x > y) - (x < y);
}

static int
size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/*
 * The distinct words of d into d->uniq, sorted (each at its first place).
 * With cap, the document is first cut before its (SEARCH_DOC_TERMS + 1)th
 * distinct word.  false: out of memory.
 */
static bool
doc_uniq(struct doc *d, bool cap)
{
	size_t *u, n = 0;

	free(d->uniq);
	d->uniq = NULL;
	d->nuniq = 0;
	if (d->n == 0)
		return true;
	if ((u = malloc(d->n * sizeof(*u))) == NULL)
		return false;
	memcpy(u, d->off, d->n * sizeof(*u));
	qsort_r(u, d->n, sizeof(*u), off_cmp, d->b.p);	/* first first */
	for (size_t i = 0; i < d->n; i++)
		if (n == 0 || strcmp(d->b.p + u[n - 1], d->b.p + u[i]) != 0)
			u[n++] = u[i];
	if (cap && n > SEARCH_DOC_TERMS) {
		/* The first places in text order: cut at the one past the cap. */
		size_t cut;

		qsort(u, n, sizeof(*u), size_cmp);
		cut = u[SEARCH_DOC_TERMS];
		free(u);
		while (d->n > 0 && d->off[d->n - 1] >= cut)
			d->n--;
		d->b.len = cut;
		return doc_uniq(d, false);
	}
	d->uniq = u;
	d->nuniq = n;
	return true;
}

/* Split text into d (doc_free it, also on error).  SUP_ENOMEM. */
static sup_err
doc_make(struct doc *d, const char *text, size_t len)
{
	sup_err e;

	memset(d, 0, sizeof(*d));
	if ((e = search_words(text, len, doc_word, d)) != SUP_OK)
		return e;
	if (d->nomem || !doc_uniq(d, true))
		return SUP_ENOMEM;
	return SUP_OK;
}

/*
 * A stored document (a search_docs.db record: flags, then words each
 * ended by NUL) into d and *flags (doc_free d, also on error).  SUP_EDB
 * when it is not laid out so; SUP_ENOMEM.
 */
static sup_err
doc_read(struct doc *d, const char *rec, size_t len, unsigned *flags)
{
	memset(d, 0, sizeof(*d));
	if (len < 1 || (len > 1 && rec[len - 1] != '\0'))
		return SUP_EDB;
	*flags = (unsigned char)rec[0];
	sbuf_add(&d->b, rec + 1, len - 1);
	if (d->b.failed)
		return SUP_ENOMEM;
	for (size_t i = 0; i < d->b.len; ) {
		size_t n = strlen(d->b.p + i);
		if (n == 0 || n > SEARCH_WORD_MAX)
			return SUP_EDB;
		if (!doc_push(d, i))
			return SUP_ENOMEM;
		i += n + 1;
	}
	return doc_uniq(d, false) ? SUP_OK : SUP_ENOMEM;
}

/* Is w (NUL-ended) one of d's words?  A binary search of d->uniq. */
static bool
doc_has(const struct doc *d, const char *w, bool prefix)
{
	size_t lo = 0, hi = d->nuniq, n = strlen(w);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(d->b.p + d->uniq[mid], w) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == d->nuniq)
		return false;
	return prefix ? strncmp(d->b.p + d->uniq[lo], w, n) == 0 :
	    strcmp(d->b.p + d->uniq[lo], w) == 0;
}

/* --- The databases ----------------------------------------------------- */

enum search_db { SRDB_POST, SRDB_DOCS, SEARCH_NDB };

static inline DB *
srdb(const struct store *s, enum search_db i)
{
	return store_db(s, AREA_SEARCH, i);
}

#define DOC_KEY_LEN (2 * UUID_LEN)
#define POST_KEY_MAX (SEARCH_WORD_MAX + 1 + UUID_LEN)
#define POST_VAL_MAX 10		/* two counts of up to 5 bytes each */

static const uint8_t subject_doc[UUID_LEN];	/* zeros: the subject */

static size_t
post_key(uint8_t k[POST_KEY_MAX], const char *w,
    const uint8_t ticket[UUID_LEN])
{
	size_t n = strlen(w);

	memcpy(k, w, n);
	k[n] = 0;
	memcpy(k + n + 1, ticket, UUID_LEN);
	return n + 1 + UUID_LEN;
}

/*
 * A posting's value: how many of the ticket's documents hold the word,
 * cnt[0] public ones and cnt[1] notes, each a variable-length unsigned
 * (7 bits a byte, low first, the high bit saying more follow).
 */
static size_t
post_val(uint8_t v[POST_VAL_MAX], const uint32_t cnt[2])
{
	size_t n = 0;

	for (int i = 0; i < 2; i++) {
		uint32_t x = cnt[i];
		while (x >= 0x80) {
			v[n++] = (uint8_t)(x | 0x80);
			x >>= 7;
		}
		v[n++] = (uint8_t)x;
	}
	return n;
}

/* Read a posting's value v[0..n) into cnt.  false: not laid out so. */
static bool
post_val_read(const uint8_t *v, size_t n, uint32_t cnt[2])
{
	size_t i = 0;

	for (int c = 0; c < 2; c++) {
		uint64_t x = 0;
		for (unsigned sh = 0;; sh += 7) {
			if (i == n || sh > 28)
				return false;
			x |= (uint64_t)(v[i] & 0x7f) << sh;
			if ((v[i++] & 0x80) == 0)
				break;
		}
		if (x > UINT32_MAX)
			return false;
		cnt[c] = (uint32_t)x;
	}
	return i == n;
}

/*
 * Count (delta 1) or uncount (-1) a document of ticket, a note when
 * internal, in the postings of its distinct words d->uniq, through
 * one cursor: each posting is read for update and written back (or
 * made, or deleted when no document is left).  Uncounting a posting
 * that is not there does nothing.  SUP_EDB for a posting not laid out
 * as post_val says; the store's errors.
 */
static sup_err
postings_count(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN],
    bool internal, int delta, const struct doc *d)
{
	uint8_t kb[POST_KEY_MAX], vb[POST_VAL_MAX];
	DB *db = srdb(s, SRDB_POST);
	sup_err e = SUP_OK;
	DBC *c;
	int rc = 0;

	if (d->nuniq == 0)
		return SUP_OK;
	if ((rc = db->cursor(db, txn, &c, 0)) != 0)
		return store_err(rc, "search cursor");
	for (size_t i = 0; i < d->nuniq && rc == 0; i++) {
		DBT k = { .data = kb };
		DBT v = { .data = vb, .ulen = sizeof(vb),
			.flags = DB_DBT_USERMEM };
		uint32_t cnt[2] = { 0, 0 };

		k.size = (u_int32_t)post_key(kb, d->b.p + d->uniq[i], ticket);
		rc = c->get(c, &k, &v, DB_SET | DB_RMW);
		if (rc == DB_NOTFOUND) {
			rc = 0;
			if (delta < 0)
				continue;
			cnt[internal] = 1;
			v.size = (u_int32_t)post_val(vb, cnt);
			rc = c->put(c, &k, &v, DB_KEYFIRST);
			continue;
		}
		if (rc == DB_BUFFER_SMALL || (rc == 0 &&
		    !post_val_read(vb, v.size, cnt))) {
			e = SUP_EDB;
			break;
		}
		if (rc != 0)
			break;
		if (delta < 0 && cnt[internal] == 0)
			continue;
		cnt[internal] = delta < 0 ? cnt[internal] - 1 :
		    cnt[internal] + 1;
		if (cnt[0] == 0 && cnt[1] == 0)
			rc = c->del(c, 0);
		else {
			v.size = (u_int32_t)post_val(vb, cnt);
			rc = c->put(c, &k, &v, DB_CURRENT);
		}
	}
	c->close(c);
	if (e == SUP_EDB) {
		fprintf(stderr, "support: a search posting is not laid out as "
		    "textsearch.c says\n");
		return e;
	}
	return rc == 0 ? SUP_OK : store_err(rc, "search postings");
}

/*
 * Index document doc of ticket, text[0..len), a note when internal: its
 * record in search_docs.db (written over an older one, which the caller
 * has removed) and, for each distinct word, the document counted in the
 * ticket's posting, in word order.
 */
static sup_err
doc_put(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN],
    const uint8_t doc[UUID_LEN], bool internal, const char *text,
    size_t len)
{
	uint8_t dk[DOC_KEY_LEN], flags;
	struct sbuf rec = { 0 };
	struct doc d;
	DB *docs = srdb(s, SRDB_DOCS);
	sup_err e;

	memcpy(dk, ticket, UUID_LEN);
	memcpy(dk + UUID_LEN, doc, UUID_LEN);
	flags = internal ? SEARCH_F_INTERNAL : 0;
	if ((e = doc_make(&d, text, len)) != SUP_OK)
		goto out;
	sbuf_add(&rec, (const char *)&flags, 1);
	sbuf_add(&rec, d.b.p, d.b.len);
	if (rec.failed) {
		e = SUP_ENOMEM;
		goto out;
	}
	DBT k = { .data = dk, .size = DOC_KEY_LEN };
	DBT v = { .data = rec.p, .size = (u_int32_t)rec.len };
	if ((e = store_err(docs->put(docs, txn, &k, &v, 0), "search doc")) !=
	    SUP_OK)
		goto out;
	e = postings_count(s, txn, ticket, internal, 1, &d);
out:
	free(rec.p);
	doc_free(&d);
	return e;
}

/*
 * Remove document doc of ticket from the index, when it is there: its
 * postings, then its record.
 */
static sup_err
doc_del(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN],
    const uint8_t doc[UUID_LEN])
{
	uint8_t dk[DOC_KEY_LEN];
	DBT k = { .data = dk, .size = DOC_KEY_LEN };
	DBT v = { .flags = DB_DBT_MALLOC };
	DB *docs = srdb(s, SRDB_DOCS);
	struct doc d;
	unsigned flags;
	sup_err e;
	int rc;

	memcpy(dk, ticket, UUID_LEN);
	memcpy(dk + UUID_LEN, doc, UUID_LEN);
	rc = docs->get(docs, txn, &k, &v, DB_RMW);
	if (rc == DB_NOTFOUND)
		return SUP_OK;
	if (rc != 0)
		return store_err(rc, "search doc");
	if ((e = doc_read(&d, v.data, v.size, &flags)) == SUP_OK &&
	    (e = postings_count(s, txn, ticket, flags & SEARCH_F_INTERNAL, -1,
	    &d)) == SUP_OK)
		e = store_err(docs->del(docs, txn, &k, 0), "search doc");
	doc_free(&d);
	free(v.data);
	return e;
}

/*
 * Index message uuid of ticket as it is stored now, in place of what the
 * index had of it (after a post, an edit).
 */
static sup_err
doc_message(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN],
    const uint8_t uuid[UUID_LEN], bool fresh)
{
	char *rec = NULL, *content = NULL;
	size_t len, n, cut;
	struct record_message m;
	sup_err e;

	if (!fresh && (e = doc_del(s, txn, ticket, uuid)) != SUP_OK)
		return e;
	if ((e = msg_get_record(s, txn, uuid, &rec, &len)) != SUP_OK)
		return e;
	if (!record_message_tail(rec, len, &cut, &m.user, &m.internal) &&
	    (e = record_message_decode(rec, len, &m)) != SUP_OK)
		goto out;
	if ((e = record_message_content(rec, len, &content, &n)) != SUP_OK)
		goto out;
	e = doc_put(s, txn, ticket, uuid, m.internal, content, n);
out:
	free(content);
	free(rec);
	return e;
}

sup_err
search_forget_ticket(struct store *s, DB_TXN *txn,
    const uint8_t ticket[UUID_LEN])
{
	uint8_t kb[DOC_KEY_LEN];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT v = { .flags = DB_DBT_REALLOC };
	DB *docs = srdb(s, SRDB_DOCS);
	struct doc d;
	unsigned flags;
	sup_err e = SUP_OK;
	DBC *c;
	int rc;

	if ((rc = docs->cursor(docs, txn, &c, 0)) != 0)
		return store_err(rc, "search cursor");
	memcpy(kb, ticket, UUID_LEN);
	k.size = UUID_LEN;
	for (rc = c->get(c, &k, &v, DB_SET_RANGE | DB_RMW); rc == 0;
	    rc = c->get(c, &k, &v, DB_NEXT | DB_RMW)) {
		if (k.size != DOC_KEY_LEN || memcmp(kb, ticket, UUID_LEN) != 0)
			break;
		if ((e = doc_read(&d, v.data, v.size, &flags)) == SUP_OK)
			e = postings_count(s, txn, ticket,
			    flags & SEARCH_F_INTERNAL, -1, &d);
		doc_free(&d);
		if (e != SUP_OK)
			break;
		if ((rc = c->del(c, 0)) != 0)
			break;
	}
	c->close(c);
	free(v.data);
	if (e != SUP_OK)
		return e;
	return rc == 0 || rc == DB_NOTFOUND ? SUP_OK :
	    store_err(rc, "search forget");
}

/* --- The subscriber ------------------------------------------------------ */

/* The subject of a stored ticket (key k, record v) into doc_put. */
static sup_err
build_subject(struct store *s, DB_TXN *txn, const DBT *k, const DBT *v)
{
	struct record_filter f;
	struct record_ticket t;
	sup_err e;

	if (k->size != UUID_LEN)
		return SUP_EDB;
	if (record_ticket_filter(v->data, v->size, RF_SUBJECT, &f) &&
	    f.subject != NULL)
		return doc_put(s, txn, k->data, subject_doc, false, f.subject,
		    f.subject_len);
	if ((e = record_ticket_decode(v->data, v->size, &t)) == SUP_OK)
		e = doc_put(s, txn, k->data, subject_doc, false,
		    t.subject != NULL ? t.subject : "", t.subject_len);
	record_ticket_clear(&t);
	return e;
}

/* The subject of ticket, as stored now, into doc_put. */
static sup_err
doc_subject(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN])
{
	DBT k = { .data = (void *)(uintptr_t)ticket, .size = UUID_LEN };
	DBT v = { .flags = DB_DBT_MALLOC };
	DB *tickets = ticket_db(s, TDB_TICKETS);
	sup_err e;

	if ((e = store_err(tickets->get(tickets, txn, &k, &v, 0), "ticket")) !=
	    SUP_OK)
		return e;
	e = build_subject(s, txn, &k, &v);
	free(v.data);
	return e;
}

/*
 * The subscriber: each change of a subject or a message is in the index
 * in its own transaction, read from the store as the change left it (the
 * event's own text is not parsed).  A record it cannot read aborts the
 * change (SUP_EDB) rather than leave the index behind it.
 */
static sup_err
search_on_event(struct store *s, DB_TXN *txn, const struct event *ev)
{
	sup_err e;

	if (ev->ticket == NULL)
		return SUP_OK;
	switch (ev->type) {
	case EV_TICKET_CREATED:
		if ((e = doc_subject(s, txn, ev->ticket)) != SUP_OK ||
		    ev->message == NULL)
			return e;
		return doc_message(s, txn, ev->ticket, ev->message, true);
	case EV_TICKET_UPDATED:
		/* Only a change of subject: the stored one is the new one. */
		if (memmem(ev->text, ev->len, "\"subject\"", 9) == NULL)
			return SUP_OK;
		if ((e = doc_del(s, txn, ev->ticket, subject_doc)) != SUP_OK)
			return e;
		return doc_subject(s, txn, ev->ticket);
	case EV_MESSAGE_POSTED:
	case EV_NOTE_ADDED:
	case EV_MESSAGE_EDITED:
		if (ev->message == NULL)
			return SUP_OK;
		return doc_message(s, txn, ev->ticket, ev->message,
		    ev->type != EV_MESSAGE_EDITED);
	case EV_MESSAGE_DELETED:
		if (ev->message == NULL)
			return SUP_OK;
		return doc_del(s, txn, ev->ticket, ev->message);
	default:
		return SUP_OK;
	}
}

/* --- The build for an older store ---------------------------------------- */

/*
 * A store made before this area has tickets and messages and no
 * search_post.db: its first opener indexes every subject, then every
 * message, in batches of SEARCH_BATCH documents, a transaction each (the
 * marker protocol of store.h).  A build cut short starts again: it
 * empties both databases first (in batches too: search_empty_batch).
 */
#define SEARCH_MARK "search_post.build"
#define SEARCH_BATCH 200
/*
 * The postings of the index's first layout, one per word and document
 * (word NUL ticket(16) doc(16) -> flags(1)): a program of that version
 * makes it when it opens a store without it, and the build removes it.
 */
#define SEARCH_OLD_POST "search.db"

/*
 * Due for a store without the index, and for one an older program has
 * written to since: a program from before t_recent makes t_by_updated.db
 * again when it opens the store (lib/desk/tstore.c), and one of the
 * index's first layout makes search.db; neither one's writes reached this
 * index.  (A program from between t_recent and the first layout leaves
 * no such mark: docs/search.md says what to do then.)
 */
static bool
search_due(const struct store *s)
{
	return store_has_file(s, "tickets.db") &&
	    (!store_has_file(s, "search_post.db") ||
	    store_has_file(s, SEARCH_OLD_POST) ||
	    store_has_file(s, "t_by_updated.db"));
}

struct sbatch {
	int pass;		/* 0: the subjects; 1: the messages; 2: done */
	bool started;
	uint8_t last[MSG_KEY_LEN];
	u_int32_t lastlen;
};

/* A stored message into doc_put. */
static sup_err
build_message(struct store *s, DB_TXN *txn, const DBT *k, const DBT *v)
{
	const uint8_t *key = k->data;
	struct record_message m;
	char *content = NULL;
	size_t n, cut;
	sup_err e;

	if (k->size != MSG_KEY_LEN)
		return SUP_EDB;
	if (!record_message_tail(v->data, v->size, &cut, &m.user,
	    &m.internal) && (e = record_message_decode(v->data, v->size,
	    &m)) != SUP_OK)
		return e;
	if ((e = record_message_content(v->data, v->size, &content, &n)) ==
	    SUP_OK)
		e = doc_put(s, txn, key, key + UUID_LEN + 8, m.internal,
		    content, n);
	free(content);
	return e;
}

static int
search_batch(struct store *s, DB_TXN *txn, void *arg, size_t *n)
{
	struct sbatch *b = arg;
	DB *db = b->pass == 0 ? ticket_db(s, TDB_TICKETS) : msg_db(s);
	uint8_t kb[MSG_KEY_LEN];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	DBC *c;
	int rc;

	*n = 0;
	if (b->pass >= 2)
		return 0;
	if ((rc = db->cursor(db, txn, &c, DB_READ_COMMITTED)) != 0)
		return rc;
	if (b->started) {
		memcpy(kb, b->last, b->lastlen);
		k.size = b->lastlen;
		rc = c->get(c, &k, &d, DB_SET_RANGE);
		if (rc == 0 && k.size == b->lastlen &&
		    memcmp(kb, b->last, b->lastlen) == 0)
			rc = c->get(c, &k, &d, DB_NEXT);
	} else
		rc = c->get(c, &k, &d, DB_FIRST);
	for (; rc == 0 && *n < SEARCH_BATCH; rc = c->get(c, &k, &d, DB_NEXT)) {
		sup_err e = b->pass == 0 ? build_subject(s, txn, &k, &d) :
		    build_message(s, txn, &k, &d);
		if (e == SUP_EDB)
			fprintf(stderr, "support: a %s record that cannot be "
			    "read is left out of the search index\n",
			    b->pass == 0 ? "ticket" : "message");
		else if (e != SUP_OK) {
			rc = e == SUP_EDEADLOCK ? DB_LOCK_DEADLOCK :
			    e == SUP_ENOMEM ? ENOMEM : EIO;
			break;
		}
		memcpy(b->last, kb, k.size);
		b->lastlen = k.size;
		b->started = true;
		(*n)++;
	}
	c->close(c);
	free(d.data);
	if (rc == DB_NOTFOUND) {
		/* This pass is over: the next one, if any, in the next batch. */
		b->pass++;
		b->started = false;
		*n = b->pass < 2 ? *n + 1 : *n;
		rc = 0;
	}
	return rc;
}

/*
 * One batch of emptying the area's databases (*arg: the one being
 * emptied, SRDB_POST then SRDB_DOCS): up to SEARCH_EMPTY_BATCH records
 * deleted from its start.  Not DB->truncate: it empties a file in one
 * transaction, which locks every page of it, and a large index (one of
 * the first layout at 1 000 000 tickets: 4.6 GB and 0.6 GB) ran out of
 * the environment's lock table, leaving the build due at every open.
 */
#define SEARCH_EMPTY_BATCH 1000

static int
search_empty_batch(struct store *s, DB_TXN *txn, void *arg, size_t *n)
{
	int *which = arg;
	uint8_t kb[POST_KEY_MAX > DOC_KEY_LEN ? POST_KEY_MAX : DOC_KEY_LEN];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_PARTIAL };	/* nothing copied */
	DB *db;
	DBC *c;
	int rc;

	*n = 0;
	if (*which >= SEARCH_NDB)
		return 0;
	db = srdb(s, (enum search_db)*which);
	if ((rc = db->cursor(db, txn, &c, 0)) != 0)
		return rc;
	while (*n < SEARCH_EMPTY_BATCH &&
	    (rc = c->get(c, &k, &d, DB_NEXT | DB_RMW)) == 0) {
		if ((rc = c->del(c, 0)) != 0)
			break;
		(*n)++;
	}
	c->close(c);
	if (rc == DB_NOTFOUND) {
		/* This one is empty: the next one, if any, in the next batch. */
		(*which)++;
		*n = *which < SEARCH_NDB ? *n + 1 : *n;
		rc = 0;
	}
	return rc;
}

static sup_err
search_run(struct store *s)
{
	struct sbatch b = { 0 };
	int which = SRDB_POST;
	sup_err e;
	int rc;

	fprintf(stderr, "support: building the search index from the tickets "
	    "and messages (a store of an older version)\n");
	if (store_has_file(s, SEARCH_OLD_POST) &&
	    (rc = s->env->dbremove(s->env, NULL, SEARCH_OLD_POST, NULL,
	    DB_AUTO_COMMIT)) != 0 && rc != ENOENT)
		return store_err(rc, "search: removing " SEARCH_OLD_POST);
	if ((e = store_batches(s, search_empty_batch, &which, sizeof(which),
	    "emptying the search index")) != SUP_OK)
		return e;
	if ((e = store_batches(s, search_batch, &b, sizeof(b),
	    "building the search index")) != SUP_OK)
		return e;
	fprintf(stderr, "support: the search index built\n");
	return SUP_OK;
}

/* --- The check ----------------------------------------------------------- */

struct vcount {
	long missing, wrong, unreadable;
};

/*
 * Does the stored document dockey agree with text (what the index would
 * make of it now) and internal?  Counted into vc.
 */
static sup_err
check_doc(struct store *s, const uint8_t *dockey, bool internal,
    const char *text, size_t len, struct vcount *vc)
{
	DBT k = { .data = (void *)(uintptr_t)dockey, .size = DOC_KEY_LEN };
	DBT v = { .flags = DB_DBT_MALLOC };
	DB *docs = srdb(s, SRDB_DOCS);
	struct doc want, got;
	unsigned flags;
	sup_err e;
	int rc;

	rc = docs->get(docs, NULL, &k, &v, 0);
	if (rc == DB_NOTFOUND) {
		vc->missing++;
		return SUP_OK;
	}
	if (rc != 0)
		return store_err(rc, "search verify");
	e = doc_read(&got, v.data, v.size, &flags);
	free(v.data);
	if (e == SUP_EDB) {
		vc->unreadable++;
		doc_free(&got);
		return SUP_OK;
	}
	if (e != SUP_OK || (e = doc_make(&want, text, len)) != SUP_OK) {
		doc_free(&got);
		doc_free(&want);
		return e;
	}
	if (want.b.len != got.b.len || (want.b.len > 0 &&
	    memcmp(want.b.p, got.b.p, want.b.len) != 0) ||
	    (flags & SEARCH_F_INTERNAL) != internal)
		vc->wrong++;
	doc_free(&got);
	doc_free(&want);
	return SUP_OK;
}

/*
 * The words of one ticket's documents, for the postings they make: each
 * word (a NUL-ended copy in b at off) and whether its document is a note.
 */
struct vword {
	size_t off;
	bool internal;
};

struct vgroup {
	uint8_t ticket[UUID_LEN];
	bool any;
	struct sbuf b;
	struct vword *w;
	size_t n, cap;
};

/* By word (their buffer base). */
static int
vword_cmp(const void *x, const void *y, void *base)
{
	const struct vword *a = x, *b = y;

	return strcmp((const char *)base + a->off, (const char *)base + b->off);
}

/*
 * Check the postings the documents gathered in g make: each word has its
 * posting for g's ticket, counting exactly the public documents and the
 * notes that hold it.  Each posting wanted is counted in *want, each one
 * missing or counting otherwise in *lost; g is emptied.
 */
static sup_err
vgroup_check(struct store *s, struct vgroup *g, int64_t *want, long *lost)
{
	DB *post = srdb(s, SRDB_POST);
	sup_err e = SUP_OK;

	if (g->b.failed) {
		e = SUP_ENOMEM;
		goto out;
	}
	qsort_r(g->w, g->n, sizeof(*g->w), vword_cmp, g->b.p);
	for (size_t i = 0; i < g->n; ) {
		uint8_t kb[POST_KEY_MAX], vb[POST_VAL_MAX];
		uint32_t cnt[2] = { 0, 0 }, got[2];
		DBT k = { .data = kb };
		DBT v = { .data = vb, .ulen = sizeof(vb),
			.flags = DB_DBT_USERMEM };
		size_t j;
		int rc;

		for (j = i; j < g->n &&
		    vword_cmp(&g->w[i], &g->w[j], g->b.p) == 0; j++)
			cnt[g->w[j].internal]++;
		k.size = (u_int32_t)post_key(kb, g->b.p + g->w[i].off,
		    g->ticket);
		(*want)++;
		rc = post->get(post, NULL, &k, &v, 0);
		if (rc == DB_NOTFOUND || rc == DB_BUFFER_SMALL || (rc == 0 &&
		    (!post_val_read(vb, v.size, got) || got[0] != cnt[0] ||
		    got[1] != cnt[1])))
			(*lost)++;
		else if (rc != 0) {
			e = store_err(rc, "search verify");
			goto out;
		}
		i = j;
	}
out:
	g->b.len = 0;
	g->b.failed = false;
	g->n = 0;
	g->any = false;
	return e;
}

/* Gather the distinct words of document d (a note when internal) into g. */
static bool
vgroup_add(struct vgroup *g, const struct doc *d, bool internal)
{
	for (size_t i = 0; i < d->nuniq; i++) {
		const char *w = d->b.p + d->uniq[i];
		if (g->n == g->cap) {
			size_t cap = g->cap ? g->cap * 2 : 256;
			struct vword *x = realloc(g->w, cap * sizeof(*x));
			if (x == NULL)
				return false;
			g->w = x;
			g->cap = cap;
		}
		g->w[g->n++] = (struct vword){ g->b.len, internal };
		sbuf_add(&g->b, w, strlen(w) + 1);
	}
	return !g->b.failed;
}

/*
 * verify: every subject and message has its document, with the words the
 * index would make of its text now and its flags; no other document;
 * every posting the documents make is there, counting them, and there is
 * no other posting.
 */
static sup_err
search_verify(struct store *s, struct store_check *c)
{
	DBT k = { .flags = DB_DBT_REALLOC }, v = { .flags = DB_DBT_REALLOC };
	DB *docs = srdb(s, SRDB_DOCS), *post = srdb(s, SRDB_POST);
	DB *tickets = ticket_db(s, TDB_TICKETS);
	int64_t ntickets, nmessages, ndocs = 0, npost, want_post = 0;
	struct vcount vt = { 0 }, vm = { 0 };
	struct vgroup g = { .any = false };
	long lost = 0, bad = 0;
	DBC *cur = NULL;
	sup_err e = SUP_OK;
	int rc;

	if ((e = store_count_db(tickets, &ntickets)) != SUP_OK ||
	    (e = store_count_db(msg_db(s), &nmessages)) != SUP_OK ||
	    (e = store_count_db(post, &npost)) != SUP_OK)
		return e;
	/* The subjects. */
	if ((rc = tickets->cursor(tickets, NULL, &cur, 0)) != 0)
		return store_err(rc, "search verify");
	while ((rc = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		struct record_ticket t;
		uint8_t dk[DOC_KEY_LEN];

		if (k.size != UUID_LEN)
			continue;
		memcpy(dk, k.data, UUID_LEN);
		memset(dk + UUID_LEN, 0, UUID_LEN);
		if ((e = record_ticket_decode(v.data, v.size, &t)) == SUP_OK)
			e = check_doc(s, dk, false, t.subject != NULL ?
			    t.subject : "", t.subject_len, &vt);
		record_ticket_clear(&t);
		if (e == SUP_EDB)
			e = SUP_OK;	/* the tickets' own check says so */
		if (e != SUP_OK)
			goto out;
	}
	cur->close(cur);
	cur = NULL;
	/* The messages. */
	if ((rc = msg_db(s)->cursor(msg_db(s), NULL, &cur, 0)) != 0) {
		e = store_err(rc, "search verify");
		goto out;
	}
	while ((rc = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		struct record_message m;
		uint8_t dk[DOC_KEY_LEN];
		char *content = NULL;
		size_t n, cut;

		if (k.size != MSG_KEY_LEN)
			continue;
		memcpy(dk, k.data, UUID_LEN);
		memcpy(dk + UUID_LEN, (uint8_t *)k.data + UUID_LEN + 8,
		    UUID_LEN);
		if (!record_message_tail(v.data, v.size, &cut, &m.user,
		    &m.internal) && (e = record_message_decode(v.data, v.size,
		    &m)) != SUP_OK) {
			e = e == SUP_EDB ? SUP_OK : e;
			if (e != SUP_OK)
				goto out;
			continue;
		}
		if ((e = record_message_content(v.data, v.size, &content,
		    &n)) == SUP_OK)
			e = check_doc(s, dk, m.internal, content, n, &vm);
		free(content);
		if (e == SUP_EDB)
			e = SUP_OK;
		if (e != SUP_OK)
			goto out;
	}
	cur->close(cur);
	cur = NULL;
	/*
	 * The documents, a ticket's together (their keys start with it),
	 * and the postings their words make.
	 */
	if ((rc = docs->cursor(docs, NULL, &cur, 0)) != 0) {
		e = store_err(rc, "search verify");
		goto out;
	}
	while ((rc = cur->get(cur, &k, &v, DB_NEXT)) == 0) {
		struct doc d;
		unsigned flags;

		ndocs++;
		if (k.size != DOC_KEY_LEN) {
			bad++;
			continue;
		}
		if (g.any && memcmp(g.ticket, k.data, UUID_LEN) != 0 &&
		    (e = vgroup_check(s, &g, &want_post, &lost)) != SUP_OK)
			goto out;
		if ((e = doc_read(&d, v.data, v.size, &flags)) != SUP_OK) {
			doc_free(&d);
			if (e != SUP_EDB)
				goto out;
			e = SUP_OK;
			bad++;
			continue;
		}
		memcpy(g.ticket, k.data, UUID_LEN);
		g.any = true;
		if (!vgroup_add(&g, &d, flags & SEARCH_F_INTERNAL)) {
			doc_free(&d);
			e = SUP_ENOMEM;
			goto out;
		}
		doc_free(&d);
	}
	if (rc != DB_NOTFOUND) {
		e = store_err(rc, "search verify");
		goto out;
	}
	if (g.any && (e = vgroup_check(s, &g, &want_post, &lost)) != SUP_OK)
		goto out;
	if (vt.missing + vm.missing > 0)
		store_problem(c, "the search index lacks %ld subjects and %ld "
		    "messages", vt.missing, vm.missing);
	if (vt.wrong + vm.wrong > 0)
		store_problem(c, "the search index disagrees with %ld subjects "
		    "and %ld messages", vt.wrong, vm.wrong);
	if (vt.unreadable + vm.unreadable + bad > 0)
		store_problem(c, "%ld search documents not laid out as "
		    "textsearch.c says", vt.unreadable + vm.unreadable + bad);
	if (ndocs != ntickets + nmessages)
		store_problem(c, "the search index has %lld documents for "
		    "%lld tickets and %lld messages", (long long)ndocs,
		    (long long)ntickets, (long long)nmessages);
	if (lost > 0)
		store_problem(c, "%ld words of search documents lack their "
		    "posting or are counted wrong in it", lost);
	if (npost != want_post)
		store_problem(c, "the search index has %lld postings where its "
		    "documents make %lld", (long long)npost,
		    (long long)want_post);
out:
	if (cur != NULL)
		cur->close(cur);
	free(g.b.p);
	free(g.w);
	free(k.data);
	free(v.data);
	return e;
}

/* --- Queries ------------------------------------------------------------- */

/* A word of a query: NUL-ended at b + off; where it was in the query. */
struct qword {
	size_t off, at, span;
	bool prefix;
};

/* A term: words first..first+n of the query; n > 1 is a phrase. */
struct qterm {
	size_t first, n;
	bool phrase;
};

struct search_query {
	struct sbuf b;
	struct qword *w;
	size_t nw, wcap;
	struct qterm *t;
	size_t nt, tcap;
	int64_t number;
	size_t base;		/* parse: where the part being split starts */
	bool nomem;
};

void
search_query_free(struct search_query *sq)
{
	if (sq == NULL)
		return;
	free(sq->b.p);
	free(sq->w);
	free(sq->t);
	free(sq);
}

static int
query_word(void *ctx, const char *w, size_t n, size_t at, size_t span)
{
	struct search_query *sq = ctx;

	if (sq->nw == sq->wcap) {
		size_t cap = sq->wcap ? sq->wcap * 2 : 8;
		struct qword *x = realloc(sq->w, cap * sizeof(*x));
		if (x == NULL) {
			sq->nomem = true;
			return 1;
		}
		sq->w = x;
		sq->wcap = cap;
	}
	sq->w[sq->nw++] = (struct qword){ .off = sq->b.len,
		.at = sq->base + at, .span = span };
	sbuf_add(&sq->b, w, n);
	sbuf_add(&sq->b, "", 1);
	if (sq->b.failed) {
		sq->nomem = true;
		return 1;
	}
	return 0;
}

static bool
query_term(struct search_query *sq, size_t first, size_t n, bool phrase)
{
	if (sq->nt == sq->tcap) {
		size_t cap = sq->tcap ? sq->tcap * 2 : 8;
		struct qterm *x = realloc(sq->t, cap * sizeof(*x));
		if (x == NULL)
			return false;
		sq->t = x;
		sq->tcap = cap;
	}
	sq->t[sq->nt++] = (struct qterm){ first, n, phrase };
	return true;
}

/* Is q[0..len) digits only (at most 18)?  Its value into *v. */
static bool
all_digits(const char *q, size_t len, int64_t *v)
{
	*v = 0;
	if (len == 0 || len > 18)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (q[i] < '0' || q[i] > '9')
			return false;
		*v = *v * 10 + (q[i] - '0');
	}
	return true;
}

bool
search_is_number_only(const char *q, size_t len)
{
	int64_t v;

	return len > 1 && q[0] == '#' && all_digits(q + 1, len - 1, &v) &&
	    v > 0;
}

int64_t
search_number(const struct search_query *sq)
{
	return sq->number;
}

sup_err
search_parse(const char *q, size_t len, struct search_query **out)
{
	struct search_query *sq;
	size_t i = 0, from, to, b, e;
	int64_t v;

	*out = NULL;
	if ((sq = calloc(1, sizeof(*sq))) == NULL)
		return SUP_ENOMEM;
	/* A number alone, spaces around it allowed. */
	for (b = 0; b < len && q[b] == ' '; b++)
		;
	for (e = len; e > b && q[e - 1] == ' '; e--)
		;
	if (all_digits(q + b, e - b, &v) && v > 0)
		sq->number = v;
	while (i < len) {
		bool phrase = q[i] == '"';

		from = i + phrase;
		for (to = from; to < len && q[to] != '"'; to++)
			;
		sq->base = from;
		size_t w0 = sq->nw;
		if (search_words(q + from, to - from, query_word, sq) !=
		    SUP_OK || sq->nomem)
			goto nomem;
		if (phrase && sq->nw > w0) {
			if (!query_term(sq, w0, sq->nw - w0, true))
				goto nomem;
		} else
			for (size_t k = w0; k < sq->nw; k++) {
				struct qword *w = &sq->w[k];
				/* "word*": the run's last word is a prefix. */
				w->prefix = w->at + w->span < to &&
				    q[w->at + w->span] == '*' &&
				    (k + 1 == sq->nw ||
				    sq->w[k + 1].at != w->at);
				if (!query_term(sq, k, 1, false))
					goto nomem;
			}
		/* A closing quote ends a phrase; an opening one starts one. */
		i = to + (phrase && to < len);
	}
	*out = sq;
	return SUP_OK;
nomem:
	search_query_free(sq);
	return SUP_ENOMEM;
}

static const char *
qw(const struct search_query *sq, size_t i)
{
	return sq->b.p + sq->w[i].off;
}

/* Does document d hold term t of sq? */
static bool
term_in(const struct search_query *sq, const struct qterm *t,
    const struct doc *d)
{
	if (t->n == 1)
		return doc_has(d, qw(sq, t->first), sq->w[t->first].prefix);
	for (size_t i = 0; i < t->n; i++)
		if (!doc_has(d, qw(sq, t->first + i), false))
			return false;
	for (size_t p = 0; p + t->n <= d->n; p++) {
		size_t i;
		for (i = 0; i < t->n; i++)
			if (strcmp(d->b.p + d->off[p + i],
			    qw(sq, t->first + i)) != 0)
				break;
		if (i == t->n)
			return true;
	}
	return false;
}

/* Does the normalised word w match a word of sq? */
static bool
word_matches(const struct search_query *sq, const char *w, size_t n)
{
	for (size_t i = 0; i < sq->nw; i++) {
		const char *x = qw(sq, i);
		size_t xn = strlen(x);
		if (sq->w[i].prefix ? n >= xn && memcmp(w, x, xn) == 0 :
		    n == xn && memcmp(w, x, n) == 0)
			return true;
	}
	return false;
}

/*
 * Walk the documents of ticket (those the reader sees), calling fn with
 * each until it says stop (returns true).  *stopped says whether it did.
 */
static sup_err
docs_walk(struct store *s, DB_TXN *txn, const uint8_t ticket[UUID_LEN],
    bool staff, bool (*fn)(void *ctx, const uint8_t *doc,
    const struct doc *d), void *ctx, bool *stopped)
{
	uint8_t kb[DOC_KEY_LEN];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT v = { .flags = DB_DBT_REALLOC };
	DB *docs = srdb(s, SRDB_DOCS);
	sup_err e = SUP_OK;
	DBC *c;
	int rc;

	*stopped = false;
	if ((rc = docs->cursor(docs, txn, &c, 0)) != 0)
		return store_err(rc, "search cursor");
	memcpy(kb, ticket, UUID_LEN);
	k.size = UUID_LEN;
	for (rc = c->get(c, &k, &v, DB_SET_RANGE); rc == 0;
	    rc = c->get(c, &k, &v, DB_NEXT)) {
		struct doc d;
		unsigned flags;

		if (k.size != DOC_KEY_LEN || memcmp(kb, ticket, UUID_LEN) != 0)
			break;
		if (v.size < 1 || (!staff &&
		    ((uint8_t *)v.data)[0] & SEARCH_F_INTERNAL))
			continue;
		e = doc_read(&d, v.data, v.size, &flags);
		if (e == SUP_OK)
			*stopped = fn(ctx, kb + UUID_LEN, &d);
		doc_free(&d);
		if (e != SUP_OK || *stopped)
			break;
	}
	c->close(c);
	free(v.data);
	if (e != SUP_OK)
		return e;
	return rc == 0 || rc == DB_NOTFOUND ? SUP_OK :
	    store_err(rc, "search documents");
}

struct check_ctx {
	const struct search_query *sq;
	bool *found;
	size_t left;
};

static bool
check_doc_terms(void *ctx, const uint8_t *doc SUP_UNUSED,
    const struct doc *d)
{
	struct check_ctx *cc = ctx;

	for (size_t i = 0; i < cc->sq->nt; i++)
		if (!cc->found[i] && term_in(cc->sq, &cc->sq->t[i], d)) {
			cc->found[i] = true;
			cc->left--;
		}
	return cc->left == 0;
}

/* Does ticket hold every term of sq, in documents the reader sees? */
static sup_err
check_ticket(struct store *s, DB_TXN *txn, const struct search_query *sq,
    const uint8_t ticket[UUID_LEN], bool staff, bool *ok)
{
	struct check_ctx cc = { .sq = sq, .left = sq->nt };
	sup_err e;

	if ((cc.found = calloc(sq->nt, sizeof(*cc.found))) == NULL)
		return SUP_ENOMEM;
	e = docs_walk(s, txn, ticket, staff, check_doc_terms, &cc, ok);
	free(cc.found);
	return e;
}

/*
 * The range of postings of a term's word i: [lo, hi) into lo, hi (their
 * lengths *lon, *hin): "word NUL" to "word \1" for a word, "prefix" to
 * the prefix with its last byte plus one (UTF-8 has no 0xff byte).
 */
static void
term_range(const struct search_query *sq, size_t i, uint8_t *lo, size_t *lon,
    uint8_t *hi, size_t *hin)
{
	const char *w = qw(sq, i);
	size_t n = strlen(w);

	memcpy(lo, w, n);
	memcpy(hi, w, n);
	if (sq->w[i].prefix) {
		*lon = *hin = n;
		hi[n - 1]++;
	} else {
		lo[n] = 0;
		hi[n] = 1;
		*lon = *hin = n + 1;
	}
}

static int
uuid_cmp(const void *a, const void *b)
{
	return memcmp(a, b, UUID_LEN);
}

/* Add uuid to the list *u (n of them, capacity *cap).  false: no memory. */
static bool
uuid_add(uint8_t **u, size_t *n, size_t *cap, const uint8_t *uuid)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		uint8_t *x = realloc(*u, c * UUID_LEN);
		if (x == NULL)
			return false;
		*u = x;
		*cap = c;
	}
	memcpy(*u + *n * UUID_LEN, uuid, UUID_LEN);
	(*n)++;
	return true;
}

/*
 * The postings of word i of sq, newest ticket first, at most limit of
 * them looked at: the tickets whose posting the reader may see (a
 * customer: those with a public document) into *u.  *more: there were
 * more postings than limit.
 */
static sup_err
postings_walk(struct store *s, DB_TXN *txn, const struct search_query *sq,
    size_t i, bool staff, size_t limit, uint8_t **u, size_t *n, size_t *cap,
    bool *more)
{
	uint8_t lo[POST_KEY_MAX], hi[POST_KEY_MAX], kb[POST_KEY_MAX];
	uint8_t vb[POST_VAL_MAX];
	size_t lon, hin, seen = 0;
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT v = { .data = vb, .ulen = sizeof(vb), .flags = DB_DBT_USERMEM };
	DB *post = srdb(s, SRDB_POST);
	DBC *c;
	int rc;

	*more = false;
	term_range(sq, i, lo, &lon, hi, &hin);
	if ((rc = post->cursor(post, txn, &c, 0)) != 0)
		return store_err(rc, "search cursor");
	memcpy(kb, hi, hin);
	k.size = (u_int32_t)hin;
	rc = c->get(c, &k, &v, DB_SET_RANGE);
	rc = rc == 0 ? c->get(c, &k, &v, DB_PREV) :
	    rc == DB_NOTFOUND ? c->get(c, &k, &v, DB_LAST) : rc;
	for (; rc == 0; rc = c->get(c, &k, &v, DB_PREV)) {
		uint32_t cnt[2];

		if (k.size < lon + UUID_LEN || memcmp(kb, lo, lon) != 0)
			break;
		if (!sq->w[i].prefix && k.size != lon + UUID_LEN)
			break;
		if (seen++ == limit) {
			*more = true;
			break;
		}
		if (!post_val_read(vb, v.size, cnt)) {
			rc = EINVAL;
			break;
		}
		if (!staff && cnt[0] == 0)
			continue;
		if (!uuid_add(u, n, cap, kb + k.size - UUID_LEN)) {
			rc = ENOMEM;
			break;
		}
	}
	c->close(c);
	if (rc == ENOMEM)
		return SUP_ENOMEM;
	if (rc == EINVAL || rc == DB_BUFFER_SMALL) {
		fprintf(stderr, "support: a search posting is not laid out as "
		    "textsearch.c says\n");
		return SUP_EDB;
	}
	return rc == 0 || rc == DB_NOTFOUND ? SUP_OK :
	    store_err(rc, "search postings");
}

/* The tickets of user, at most limit of them, into *u. */
static sup_err
user_tickets(struct store *s, DB_TXN *txn, uint32_t user, uint8_t **u,
    size_t *n, size_t *cap)
{
	uint8_t kb[T_IDX_KEY_MAX], pre[4];
	DBT k = { .data = kb, .ulen = sizeof(kb), .flags = DB_DBT_USERMEM };
	DBT v = { .flags = DB_DBT_PARTIAL };	/* nothing copied */
	DB *idx = ticket_db(s, TDB_USER);
	DBC *c;
	int rc;

	be32_put(pre, user);
	if ((rc = idx->cursor(idx, txn, &c, 0)) != 0)
		return store_err(rc, "search cursor");
	memcpy(kb, pre, 4);
	k.size = 4;
	for (rc = c->get(c, &k, &v, DB_SET_RANGE); rc == 0;
	    rc = c->get(c, &k, &v, DB_NEXT)) {
		if (k.size != 4 + 8 + UUID_LEN || memcmp(kb, pre, 4) != 0)
			break;
		if (!uuid_add(u, n, cap, kb + 12)) {
			rc = ENOMEM;
			break;
		}
	}
	c->close(c);
	if (rc == ENOMEM)
		return SUP_ENOMEM;
	return rc == 0 || rc == DB_NOTFOUND ? SUP_OK :
	    store_err(rc, "search user");
}

sup_err
search_find(struct store *s, DB_TXN *txn, const struct search_query *sq,
    bool staff, bool has_user, uint32_t user, uint8_t **uuids, size_t *n,
    bool *truncated)
{
	DB *post = srdb(s, SRDB_POST);
	uint8_t *u = NULL;
	size_t nu = 0, cap = 0, best = 0, limit = SEARCH_SCAN_MAX;
	double least = 2.0;
	int64_t ucount = -1;
	bool more, check;
	sup_err e;

	*uuids = NULL;
	*n = 0;
	*truncated = false;
	if (sq->nt == 0)
		return SUP_OK;
	/* The least frequent word: Berkeley DB's estimate of its range. */
	for (size_t i = 0; i < sq->nw; i++) {
		uint8_t lo[POST_KEY_MAX], hi[POST_KEY_MAX];
		size_t lon, hin;
		DB_KEY_RANGE a, b;
		int rc;

		term_range(sq, i, lo, &lon, hi, &hin);
		DBT kl = { .data = lo, .size = (u_int32_t)lon };
		DBT kh = { .data = hi, .size = (u_int32_t)hin };
		if ((rc = post->key_range(post, txn, &kl, &a, 0)) != 0 ||
		    (rc = post->key_range(post, txn, &kh, &b, 0)) != 0)
			return store_err(rc, "search estimate");
		if (b.less - a.less < least) {
			least = b.less - a.less;
			best = i;
		}
	}
	/* A user's few tickets may cost less than the word's postings. */
	if (has_user) {
		char name[64];
		record_counter(name, sizeof(name), RC_USER, user);
		if ((e = store_count_get(s, txn, name, &ucount)) != SUP_OK)
			return e;
		if (ucount <= SEARCH_SCAN_MAX)
			limit = (size_t)ucount;
	}
	if ((e = postings_walk(s, txn, sq, best, staff, limit, &u, &nu, &cap,
	    &more)) != SUP_OK)
		goto out;
	check = sq->nt > 1 || sq->t[0].n > 1;
	if (more && has_user && ucount <= SEARCH_SCAN_MAX) {
		nu = 0;
		if ((e = user_tickets(s, txn, user, &u, &nu, &cap)) != SUP_OK)
			goto out;
		check = true;
		more = false;
	}
	*truncated = more;
	if (sq->w[best].prefix && nu > 1) {
		/* Several words: a ticket may come more than once. */
		size_t k = 1;
		qsort(u, nu, UUID_LEN, uuid_cmp);
		for (size_t i = 1; i < nu; i++)
			if (memcmp(u + (i - 1) * UUID_LEN, u + i * UUID_LEN,
			    UUID_LEN) != 0)
				memmove(u + k++ * UUID_LEN, u + i * UUID_LEN,
				    UUID_LEN);
		nu = k;
	}
	if (check) {
		size_t k = 0;
		for (size_t i = 0; i < nu; i++) {
			bool ok;
			if ((e = check_ticket(s, txn, sq, u + i * UUID_LEN,
			    staff, &ok)) != SUP_OK)
				goto out;
			if (ok)
				memmove(u + k++ * UUID_LEN, u + i * UUID_LEN,
				    UUID_LEN);
		}
		nu = k;
	}
	*uuids = u;
	*n = nu;
	return SUP_OK;
out:
	free(u);
	return e;
}

/* --- Snippets ------------------------------------------------------------ */

struct first_ctx {
	const struct search_query *sq;
	uint8_t doc[UUID_LEN];
};

static bool
first_match(void *ctx, const uint8_t *doc, const struct doc *d)
{
	struct first_ctx *fc = ctx;

	for (size_t i = 0; i < d->nuniq; i++) {
		const char *w = d->b.p + d->uniq[i];
		if (word_matches(fc->sq, w, strlen(w))) {
			memcpy(fc->doc, doc, UUID_LEN);
			return true;
		}
	}
	return false;
}

/* The matched runs of a text: where each is, in order. */
struct marks {
	const struct search_query *sq;
	size_t (*at)[2];
	size_t n, cap;
	bool nomem;
};

static int
mark_word(void *ctx, const char *w, size_t n, size_t at, size_t span)
{
	struct marks *m = ctx;

	if (!word_matches(m->sq, w, n) ||
	    (m->n > 0 && m->at[m->n - 1][0] == at))
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		size_t (*x)[2] = realloc(m->at, cap * sizeof(*x));
		if (x == NULL) {
			m->nomem = true;
			return 1;
		}
		m->at = x;
		m->cap = cap;
	}
	m->at[m->n][0] = at;
	m->at[m->n][1] = span;
	m->n++;
	return 0;
}

#define SNIPPET_BEFORE 60	/* bytes of text before the first match */
#define SNIPPET_LEN 200		/* bytes of text in all, about */

/* text[0..n) into b with each run of white space one space. */
static void
add_spaced(struct sbuf *b, const char *text, size_t n)
{
	bool space = false;

	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t' ||
		    c == '\f' || c == '\v') {
			space = true;
			continue;
		}
		if (space)
			sbuf_add(b, " ", 1);
		space = false;
		sbuf_add(b, &c, 1);
	}
	if (space)
		sbuf_add(b, " ", 1);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Append a part {"text": b, "mark": text[0..n)} to arr.  false: no memory. */
static bool
add_part(json_object *arr, struct sbuf *b, const char *mark, size_t n)
{
	json_object *o = json_object_new_object();

	if (o == NULL || b->failed ||
	    !json_set(o, "text", json_object_new_string_len(b->p ? b->p : "",
	    (int)b->len)) ||
	    !json_set(o, "mark", json_object_new_string_len(mark, (int)n)) ||
	    json_object_array_add(arr, o) != 0) {
		json_object_put(o);
		return false;
	}
	b->len = 0;
	return true;
}

/* The snippet of text[0..len) for m's matches (m->n > 0) into out. */
static sup_err
snippet_of(const char *text, size_t len, const struct marks *m,
    struct sbuf *out)
{
	size_t at = m->at[0][0], from, to;
	struct sbuf b = { 0 };
	json_object *arr;
	const char *js;
	sup_err e = SUP_ENOMEM;

	from = at > SNIPPET_BEFORE ? at - SNIPPET_BEFORE : 0;
	/* From the start of a word, when there is a space to start after. */
	if (from > 0) {
		size_t f = from;
		while (f < at && !is_space(text[f - 1]))
			f++;
		from = f < at ? f : from;
		while (from < at && ((unsigned char)text[from] & 0xc0) == 0x80)
			from++;
	}
	to = from + SNIPPET_LEN > at + m->at[0][1] ? from + SNIPPET_LEN :
	    at + m->at[0][1];
	if (to >= len)
		to = len;
	else {
		size_t t = to;
		while (t > at + m->at[0][1] && !is_space(text[t]))
			t--;
		to = t > at + m->at[0][1] ? t : to;
		while (to > at && ((unsigned char)text[to] & 0xc0) == 0x80)
			to--;
	}
	if ((arr = json_object_new_array()) == NULL)
		return SUP_ENOMEM;
	if (from > 0)
		sbuf_adds(&b, "…");
	size_t pos = from;
	for (size_t i = 0; i < m->n; i++) {
		size_t a = m->at[i][0], n = m->at[i][1];
		if (a < pos || a + n > to)
			continue;
		add_spaced(&b, text + pos, a - pos);
		if (!add_part(arr, &b, text + a, n))
			goto out;
		pos = a + n;
	}
	add_spaced(&b, text + pos, to - pos);
	if (to < len)
		sbuf_adds(&b, "…");
	if (!add_part(arr, &b, "", 0))
		goto out;
	if ((js = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL)
		goto out;
	sbuf_adds(out, js);
	e = out->failed ? SUP_ENOMEM : SUP_OK;
out:
	json_object_put(arr);
	free(b.p);
	return e;
}

sup_err
search_snippet(struct store *s, DB_TXN *txn, const struct search_query *sq,
    const uint8_t ticket[UUID_LEN], bool staff, const char *subject,
    size_t subject_len, struct sbuf *out)
{
	struct first_ctx fc = { .sq = sq };
	struct marks m = { .sq = sq };
	char *rec = NULL, *content = NULL;
	const char *text = subject;
	size_t len = subject_len;
	bool found;
	sup_err e;

	if ((e = docs_walk(s, txn, ticket, staff, first_match, &fc, &found)) !=
	    SUP_OK)
		return e;
	if (!found) {
		sbuf_lit(out, "null");
		return out->failed ? SUP_ENOMEM : SUP_OK;
	}
	if (memcmp(fc.doc, subject_doc, UUID_LEN) != 0) {
		size_t rlen;
		if ((e = msg_get_record(s, txn, fc.doc, &rec, &rlen)) !=
		    SUP_OK ||
		    (e = record_message_content(rec, rlen, &content, &len)) !=
		    SUP_OK)
			goto out;
		text = content;
	}
	if ((e = search_words(text, len, mark_word, &m)) != SUP_OK)
		goto out;
	if (m.nomem) {
		e = SUP_ENOMEM;
		goto out;
	}
	if (m.n == 0)
		sbuf_lit(out, "null");	/* a word beyond what is indexed */
	else
		e = snippet_of(text, len, &m, out);
	if (e == SUP_OK && out->failed)
		e = SUP_ENOMEM;
out:
	free(m.at);
	free(content);
	free(rec);
	return e;
}

/* --- The area ------------------------------------------------------------ */

static const struct store_db search_dbs[SEARCH_NDB] = {
	[SRDB_POST] = { .file = "search_post.db", .type = DB_BTREE },
	[SRDB_DOCS] = { .file = "search_docs.db", .type = DB_BTREE },
};

static const struct store_build search_builds[] = {
	{ SEARCH_MARK, search_due, search_run },
};

static const struct event_subscriber search_sub = { "search",
	search_on_event };
static const struct event_subscriber *const search_subs[] = { &search_sub,
	NULL };

const struct store_area search_area = {
	.name = "search",
	.db = search_dbs,
	.ndb = SEARCH_NDB,
	.build = search_builds,
	.nbuild = SUP_NELEM(search_builds),
	.verify = search_verify,
	.subscribers = search_subs,
};
