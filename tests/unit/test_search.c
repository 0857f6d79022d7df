/*
 * test_search.c - the full-text search (lib/desk/textsearch.c): the words
 * of a text (case, accents, compatibility forms, scripts, bytes that are
 * not UTF-8, NUL, long words, where each word is); then in a scratch
 * store, through the ticket list (ticket_list with q): words in subjects
 * and messages, ANDed, prefixes, phrases, a customer's own tickets only
 * and never an internal note, staff finding notes, an edit, a deletion,
 * a change of subject and a purge seen at once; the snippet; the bound on
 * what one search looks at; the build for an older store, and verify,
 * clean and finding damage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "msg.h"
#include "retention.h"
#include "store.h"
#include "sup.h"
#include "textsearch.h"
#include "ticket.h"
#include "user.h"
#include "util.h"

#include "tap.h"

static char dir[64];
static struct sup_conf conf;
static struct store st;
static struct sup_user alice, bob, carol;

/* --- Words ------------------------------------------------------------- */

struct got {
	char text[1024];	/* "word@at+span word@at+span ..." */
	int n, stop_after;
};

static int
collect(void *ctx, const char *w, size_t n, size_t at, size_t span)
{
	struct got *g = ctx;
	size_t len = strlen(g->text);

	snprintf(g->text + len, sizeof(g->text) - len, "%s%.*s@%zu+%zu",
	    len ? " " : "", (int)n, w, at, span);
	return ++g->n == g->stop_after;
}

static const char *
words(const char *text, size_t len)
{
	static struct got g;

	memset(&g, 0, sizeof(g));
	if (search_words(text, len, collect, &g) != SUP_OK)
		return "(error)";
	return g.text;
}

#define W(s) words((s), sizeof(s) - 1)

static void
test_words(void)
{
	struct got g = { .stop_after = 2 };
	char longw[101];

	is_str(W("Hello, World!"), "hello@0+5 world@7+5", "ASCII: lower case, "
	    "punctuation separates");
	is_str(W("Caf\xc3\xa9 CAF\xc3\x89 cafe\xcc\x81"),
	    "cafe@0+5 cafe@6+5 cafe@12+6", "accents: composed, upper case "
	    "and decomposed are one word");
	is_str(W("Stra\xc3\x9f" "e"), "strasse@0+7", "case folding: \xc3\x9f "
	    "is ss");
	is_str(W("\xef\xac\x81le"), "file@0+5", "compatibility: the fi "
	    "ligature is f i");
	is_str(W("\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3"),
	    "\xcf\x83\xce\xb9\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x83@0+14",
	    "Greek: folded, the tonos gone");
	is_str(W("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe3\x83\x86\xe3\x82"
	    "\xad\xe3\x82\xb9\xe3\x83\x88"),
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e@0+9 \xe3\x83\x86\xe3\x82\xad"
	    "\xe3\x82\xb9\xe3\x83\x88@10+12", "CJK: a run of letters is a word "
	    "(no segmentation)");
	is_str(W("order 1234-5678"), "order@0+5 1234@6+4 5678@11+4",
	    "digits are words; a hyphen separates");
	is_str(W("\xc2\xbd"), "1@0+2 2@0+2", "a compatibility form that "
	    "holds a separator gives words with its run's place");
	is_str(W("ab\xff" "cd\xc3"), "ab@0+2 cd@3+2", "bytes that are not "
	    "UTF-8 separate words; a cut character at the end is none");
	is_str(words("ab\0cd", 5), "ab@0+2 cd@3+2", "NUL separates (the "
	    "length is the text's, not strlen)");
	is_str(W("\xcc\x81" "abc"), "abc@2+3", "a mark cannot start a word");
	is_str(W(" ,.;:!?-_/\\\"'()[]{}<>*"), "", "punctuation alone: no "
	    "word");
	is_str(words("", 0), "", "an empty text: no word");
	memset(longw, 'A', 100);
	longw[100] = '\0';
	is_str(words(longw, 100), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaa@0+100", "a long word is cut to "
	    "SEARCH_WORD_MAX bytes");
	/* 30 CJK characters (90 bytes) cut at a character: 21 of them. */
	{
		char cjk[91], want[128];
		for (int i = 0; i < 30; i++)
			memcpy(cjk + 3 * i, "\xe6\x97\xa5", 3);
		cjk[90] = '\0';
		for (int i = 0; i < 21; i++)
			memcpy(want + 3 * i, "\xe6\x97\xa5", 3);
		snprintf(want + 63, sizeof(want) - 63, "@0+90");
		is_str(words(cjk, 90), want, "  at a character's start");
	}
	search_words("one two three", 13, collect, &g);
	is_str(g.text, "one@0+3 two@4+3", "the callback stops the walk");
}

/* --- The store --------------------------------------------------------- */

static void
make_user(const char *name, enum user_role role, struct sup_user *u)
{
	char email[64];
	json_object *rec;
	uint32_t id;

	snprintf(email, sizeof(email), "%s@example.com", name);
	if (user_create(&st, name, email, NULL, role, "secret", &id) !=
	    SUP_OK || user_get(&st, NULL, id, &rec) != SUP_OK ||
	    user_from_record(u, rec) != SUP_OK)
		bail_out("cannot make user %s", name);
	json_object_put(rec);
}

static void
open_ticket(const struct sup_user *u, const char *subject,
    const char *content, uint8_t uuid[UUID_LEN])
{
	struct ticket_new in = { .subject = subject,
		.subject_len = strlen(subject), .content = content,
		.content_len = strlen(content), .priority = PRI_NORMAL };
	json_object *t;

	if (ticket_create(&st, &conf, u, &in, &t) != SUP_OK)
		bail_out("ticket_create %s", subject);
	memcpy(uuid, in.uuid, UUID_LEN);
	json_object_put(t);
}

static void
post(const struct sup_user *u, const uint8_t t[UUID_LEN], const char *text,
    bool internal, uint8_t msg[UUID_LEN])
{
	json_object *m;
	const char *id;

	if (msg_post(&st, u, t, text, strlen(text), internal, &m) != SUP_OK)
		bail_out("msg_post %s", text);
	if (msg != NULL) {
		/* A text object: its text parsed to read it. */
		json_object *p = json_tokener_parse(
		    json_object_to_json_string(m));
		id = json_object_get_string(json_object_object_get(p, "uuid"));
		if (id == NULL || !uuid_parse(id, strlen(id), msg))
			bail_out("the posted message's uuid");
		json_object_put(p);
	}
	json_object_put(m);
}

/*
 * The subjects ticket_list finds for u with q (in its order, ", "
 * between), or "(error NAME)"; *trunc the search's search_truncated.
 */
static const char *
find_as(const struct sup_user *u, const char *q, bool *trunc,
    json_object **page)
{
	static char out[4096];
	struct ticket_query tq = { .priority = -1, .order = ORDER_UPDATED,
		.desc = true, .page = 1, .page_size = 100 };
	json_object *o, *r, *tr;
	sup_err e;

	tq.q = q;
	tq.q_len = strlen(q);
	out[0] = '\0';
	if ((e = ticket_list(&st, u, &tq, &o)) != SUP_OK) {
		snprintf(out, sizeof(out), "(error %s)", sup_errname(e));
		return out;
	}
	if (trunc != NULL)
		*trunc = json_object_object_get_ex(o, "search_truncated", &tr) &&
		    json_object_get_boolean(tr);
	json_object_object_get_ex(o, "results", &r);
	/* The results are a text object: parse its text to read it. */
	json_object *arr = json_tokener_parse(json_object_to_json_string(r));
	for (size_t i = 0; arr != NULL && i < json_object_array_length(arr);
	    i++) {
		size_t len = strlen(out);
		snprintf(out + len, sizeof(out) - len, "%s%s", len ? ", " : "",
		    json_object_get_string(json_object_object_get(
		    json_object_array_get_idx(arr, i), "subject")));
	}
	if (page != NULL)
		*page = arr;
	else
		json_object_put(arr);
	json_object_put(o);
	return out;
}

static const char *
find(const struct sup_user *u, const char *q)
{
	return find_as(u, q, NULL, NULL);
}

static void
report_line(void *ctx, const char *line)
{
	(*(int *)ctx)++;
	diag("verify: %s", line);
}

/* The problems store_verify finds, with the store closed and opened. */
static long
verify_now(void)
{
	long problems = -1;
	int lines = 0;

	store_close(&st);
	if (store_verify(&conf, desk_areas, report_line, &lines, &problems) !=
	    SUP_OK)
		bail_out("store_verify");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open after verify");
	return problems;
}

static uint8_t t_printer[UUID_LEN], t_cafe[UUID_LEN], t_bob[UUID_LEN];
static uint8_t m_note[UUID_LEN], m_edit[UUID_LEN];

static void
test_find(void)
{
	bool trunc = true;
	json_object *page = NULL;

	open_ticket(&alice, "Printer jams on page two",
	    "The office printer jams every morning.", t_printer);
	open_ticket(&alice, "Caf\xc3\xa9 machine",
	    "The espresso machine in the caf\xc3\xa9 leaks water.", t_cafe);
	open_ticket(&bob, "Printer toner",
	    "Bob's printer needs toner, and the invoice too.", t_bob);
	post(&carol, t_printer, "Try the paper tray: the rollers are worn.",
	    false, NULL);
	post(&carol, t_printer, "Internal: supplier Zyxwv ships rollers.",
	    true, m_note);
	post(&carol, t_cafe, "A descaling tablet should fix it.", false,
	    m_edit);

	is_str(find_as(&carol, "printer", &trunc, NULL),
	    "Printer jams on page two, Printer toner", "a word of subjects "
	    "and messages, last activity first");
	ok(!trunc, "  search_truncated false");
	is_str(find(&carol, "rollers"), "Printer jams on page two",
	    "a word of a reply only");
	is_str(find(&carol, "PRINTER Toner"), "Printer toner", "words are "
	    "ANDed, any case");
	is_str(find(&carol, "espresso tray"), "", "  across tickets they "
	    "are not");
	is_str(find(&carol, "jams rollers"), "Printer jams on page two",
	    "  one word in the subject, one in a message");
	is_str(find(&carol, "cafe"), "Caf\xc3\xa9 machine", "accents do not "
	    "matter: cafe finds caf\xc3\xa9");
	is_str(find(&carol, "CAF\xc3\x89"), "Caf\xc3\xa9 machine",
	    "  nor does case: CAF\xc3\x89");
	is_str(find(&carol, "print"), "", "a word is whole: print is not "
	    "printer");
	is_str(find(&carol, "print*"), "Printer jams on page two, Printer "
	    "toner", "print* is a prefix");
	is_str(find(&carol, "desc* tab*"), "Caf\xc3\xa9 machine",
	    "  two prefixes");
	is_str(find(&carol, "\"paper tray\""), "Printer jams on page two",
	    "a phrase");
	is_str(find(&carol, "\"tray paper\""), "", "  its words in its order "
	    "only");
	is_str(find(&carol, "\"printer jams\""), "Printer jams on page two",
	    "  within the subject");
	is_str(find(&carol, "\"jams the\""), "", "  never across two "
	    "documents (subject, then message)");
	is_str(find(&carol, "\"office printer jams"), "Printer jams on page "
	    "two", "  an unclosed quote runs to the end");
	is_str(find(&carol, "nothing-here-at-all"), "", "no match: nothing");
	is_str(find(&carol, "%"), "", "a query without a word finds nothing");

	/* Who sees what. */
	is_str(find(&alice, "printer"), "Printer jams on page two",
	    "a customer finds their own ticket only");
	is_str(find(&bob, "invoice"), "Printer toner", "  bob his");
	is_str(find(&alice, "invoice"), "", "  never another's");
	is_str(find(&carol, "zyxwv"), "Printer jams on page two", "staff "
	    "find a word of an internal note");
	is_str(find(&alice, "zyxwv"), "", "a customer never finds a word of "
	    "an internal note");
	is_str(find(&alice, "zyxwv printer"), "", "  even with a word they "
	    "may see");
	is_str(find(&alice, "zyx*"), "", "  nor by its prefix");
	is_str(find(&alice, "\"supplier zyxwv\""), "", "  nor by a phrase");

	/* The snippet. */
	is_str(find_as(&carol, "rollers", NULL, &page), "Printer jams on page "
	    "two", "a snippet's ticket");
	{
		json_object *t = json_object_array_get_idx(page, 0), *sn, *p;
		sn = json_object_object_get(t, "snippet");
		ok(json_object_is_type(sn, json_type_array) &&
		    json_object_array_length(sn) == 2, "  snippet: the text "
		    "before the match and the match, then the rest");
		p = json_object_array_get_idx(sn, 0);
		is_str(json_object_get_string(json_object_object_get(p,
		    "text")), "Try the paper tray: the ", "  its text");
		is_str(json_object_get_string(json_object_object_get(p,
		    "mark")), "rollers", "  its mark, as written");
		p = json_object_array_get_idx(sn, 1);
		is_str(json_object_get_string(json_object_object_get(p,
		    "text")), " are worn.", "  the rest");
		json_object_put(page);
	}
	find_as(&carol, "CAFE", NULL, &page);
	{
		json_object *sn = json_object_object_get(
		    json_object_array_get_idx(page, 0), "snippet");
		is_str(json_object_to_json_string_ext(sn,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
		    "[{\"text\":\"\",\"mark\":\"Caf\xc3\xa9\"},{\"text\":\" "
		    "machine\",\"mark\":\"\"}]", "  the subject's, first; the "
		    "word as written");
		json_object_put(page);
	}
	find_as(&alice, "printer", NULL, &page);
	ok(strstr(json_object_to_json_string(page), "Zyxwv") == NULL,
	    "a customer's snippet is never from a note");
	json_object_put(page);
}

static void
test_changes(void)
{
	struct ticket_patch p = { .status = -1, .priority = -1 };
	struct purge_stats ps = { 0 };
	json_object *o;

	/* An edit: the old words go, the new ones come. */
	is_str(find(&carol, "descaling"), "Caf\xc3\xa9 machine", "before an "
	    "edit: its word");
	if (msg_edit(&st, &carol, t_cafe, m_edit, "Replace the gasket.", 19,
	    &o) != SUP_OK)
		bail_out("msg_edit");
	json_object_put(o);
	is_str(find(&carol, "descaling"), "", "an edit: the old word is gone "
	    "at once");
	is_str(find(&carol, "gasket"), "Caf\xc3\xa9 machine", "  the new one "
	    "found at once");
	/* A deletion. */
	if (msg_delete(&st, &carol, t_printer, m_note) != SUP_OK)
		bail_out("msg_delete");
	is_str(find(&carol, "zyxwv"), "", "a deleted note: its words gone at "
	    "once");
	/* A new subject. */
	p.subject = "Laser unit jams";
	p.subject_len = strlen(p.subject);
	if (ticket_update(&st, &carol, t_printer, &p, &o) != SUP_OK)
		bail_out("ticket_update");
	json_object_put(o);
	is_str(find(&carol, "laser"), "Laser unit jams", "a new subject: "
	    "found by its words");
	is_str(find(&carol, "printer"), "Laser unit jams, Printer toner",
	    "  the old subject's word still in its message, so still found");
	is_str(find(&carol, "page"), "", "  a word only the old subject had: "
	    "gone");
	is_int(verify_now(), 0, "verify: the index agrees with the store");
	/* A purge takes the ticket's documents with it. */
	p.subject = NULL;
	p.status = ST_CLOSED;
	if (ticket_update(&st, &carol, t_bob, &p, &o) != SUP_OK)
		bail_out("closing bob's ticket");
	json_object_put(o);
	if (ticket_purge(&st, time_now_us() + 1000000, false, &ps) !=
	    SUP_OK || ps.tickets != 1)
		bail_out("purging bob's ticket");
	is_str(find(&carol, "toner"), "", "a purged ticket: gone from the "
	    "index");
	is_int(verify_now(), 0, "  verify: no document left of it");
}

static void
test_bound(void)
{
	uint8_t t[UUID_LEN];
	bool trunc = false;
	const char *got;
	long n = 0;

	/* One more ticket with the word than a search looks at. */
	for (int i = 0; i <= SEARCH_SCAN_MAX; i++)
		open_ticket(&carol, "Common quux", "x", t);
	open_ticket(&alice, "Alice's quux", "x", t);
	got = find_as(&carol, "quux", &trunc, NULL);
	ok(trunc, "more postings than SEARCH_SCAN_MAX: search_truncated");
	is_str(strstr(got, "Alice's quux") == got ? "first" : got, "first",
	    "  the newest is among those looked at, first");
	is_str(find_as(&alice, "quux", &trunc, NULL), "Alice's quux", "a "
	    "customer's search of a common word reads their own tickets");
	ok(!trunc, "  complete");
	{
		struct ticket_query tq = { .priority = -1,
			.order = ORDER_UPDATED, .desc = true, .page = 1,
			.page_size = 20, .q = "quux", .q_len = 4 };
		json_object *o;
		if (ticket_list(&st, &carol, &tq, &o) == SUP_OK)
			n = json_object_get_int64(json_object_object_get(o,
			    "count"));
		json_object_put(o);
	}
	ok(n > 0 && n <= SEARCH_SCAN_MAX, "  the count is what was found "
	    "among them (%ld)", n);
	is_str(find(&carol, "cafe quux"), "", "two words, one common, one "
	    "rare: the rare one leads, nothing matches both");
}

static void
remove_file(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", conf.data_dir, name);
	if (unlink(path) != 0)
		bail_out("unlink %s", path);
}

static void
test_build_verify(void)
{
	const char *before;
	char saved[4096];
	DB *post;
	DBC *c;
	DBT k = { 0 }, d = { 0 };

	snprintf(saved, sizeof(saved), "%s", find(&carol, "gasket cafe"));
	store_close(&st);
	remove_file("search_post.db");
	remove_file("search_docs.db");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open of a store without the index");
	before = find(&carol, "gasket cafe");
	is_str(before, saved, "a store without the index: the first open "
	    "builds it, and it finds the same");
	is_str(find(&alice, "gasket"), "Caf\xc3\xa9 machine", "  for a "
	    "customer too");
	is_int(verify_now(), 0, "  verify finds nothing wrong");

	/* Damage: a posting's count. */
	DB **pp = store_db_find(&st, "search_post.db");
	post = pp != NULL ? *pp : NULL;
	DB_TXN *txn;
	if (post == NULL || st.env->txn_begin(st.env, NULL, &txn, 0) != 0 ||
	    post->cursor(post, txn, &c, 0) != 0)
		bail_out("search_post.db cursor");
	if (c->get(c, &k, &d, DB_FIRST) != 0)
		bail_out("reading a posting");
	{
		uint8_t two[2] = { 100, 0 };	/* 100 public documents */
		DBT v = { .data = two, .size = 2 };
		if (c->put(c, &k, &v, DB_CURRENT) != 0)
			bail_out("writing a posting");
	}
	c->close(c);
	if (txn->commit(txn, 0) != 0)
		bail_out("commit");
	is_int(verify_now(), 1, "verify: a posting counting its ticket's "
	    "documents wrong is found");

	/* Damage: a posting lost. */
	pp = store_db_find(&st, "search_post.db");
	post = pp != NULL ? *pp : NULL;
	if (post == NULL || st.env->txn_begin(st.env, NULL, &txn, 0) != 0 ||
	    post->cursor(post, txn, &c, 0) != 0)
		bail_out("search_post.db cursor");
	if (c->get(c, &k, &d, DB_FIRST) != 0 || c->del(c, 0) != 0)
		bail_out("deleting a posting");
	c->close(c);
	if (txn->commit(txn, 0) != 0)
		bail_out("commit");
	ok(verify_now() >= 2, "verify: a posting lost is found (missing, "
	    "and the count short)");
}

static bool
file_there(const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", conf.data_dir, name);
	return access(path, F_OK) == 0;
}

/*
 * A store written by a program of the index's first layout (postings in
 * search.db, one per word and document: word NUL ticket(16) doc(16) ->
 * flags(1)), which kept its own index and not this one: the next open
 * removes search.db and builds the index again.
 */
static void
test_old_layout(void)
{
	uint8_t t[UUID_LEN], key[5 + 2 * UUID_LEN], flags = 0;
	DBT k = { .data = key, .size = sizeof(key) };
	DBT v = { .data = &flags, .size = 1 };
	char saved[4096];
	DB_TXN *txn;
	DB *db, *post;
	DBC *c;
	DBT pk = { 0 }, pd = { 0 };

	open_ticket(&alice, "Boiler pressure", "The boiler loses pressure.",
	    t);
	snprintf(saved, sizeof(saved), "%s", find(&carol, "boiler"));
	is_str(saved, "Boiler pressure", "before: the word found");
	/* What that program's writes leave: a change this index missed. */
	DB **pp = store_db_find(&st, "search_post.db");
	post = pp != NULL ? *pp : NULL;
	if (post == NULL || st.env->txn_begin(st.env, NULL, &txn, 0) != 0 ||
	    post->cursor(post, txn, &c, 0) != 0)
		bail_out("search_post.db cursor");
	if (c->get(c, &pk, &pd, DB_FIRST) != 0 || c->del(c, 0) != 0)
		bail_out("deleting a posting");
	c->close(c);
	if (txn->commit(txn, 0) != 0)
		bail_out("commit");
	/* And its own index, in its layout. */
	memcpy(key, "pump", 5);
	memcpy(key + 5, t, UUID_LEN);
	memset(key + 5 + UUID_LEN, 0, UUID_LEN);
	if (db_create(&db, st.env, 0) != 0 ||
	    db->open(db, NULL, "search.db", NULL, DB_BTREE,
	    DB_CREATE | DB_AUTO_COMMIT, 0660) != 0 ||
	    db->put(db, NULL, &k, &v, DB_AUTO_COMMIT) != 0 ||
	    db->close(db, 0) != 0)
		bail_out("cannot make the first layout's search.db");
	store_close(&st);
	ok(file_there("search.db"), "a store with the first layout's "
	    "search.db");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open of a store with the first layout");
	ok(!file_there("search.db"), "  opening it removes search.db");
	ok(!file_there("search_post.build"), "  and the build's marker");
	is_str(find(&carol, "boiler"), saved, "  the index built again "
	    "finds the same");
	is_str(find(&carol, "pump"), "", "  nothing of the old file");
	is_int(verify_now(), 0, "  verify: the posting the old program "
	    "missed is there again");
}

/*
 * A posting counts its ticket's public documents and notes with the
 * word: a customer finds the ticket while a public one has it, staff
 * while any has it; an edit or deletion of one leaves the others'.
 */
static void
test_counts(void)
{
	uint8_t t[UUID_LEN], m1[UUID_LEN], m2[UUID_LEN], n1[UUID_LEN];
	json_object *o;

	open_ticket(&alice, "Heating", "The radiator is cold.", t);
	post(&alice, t, "Still a cold radiator, and a draught.", false, m1);
	post(&carol, t, "Radiator valve: order one (draught too).", true,
	    n1);
	post(&carol, t, "We will look at the radiator.", false, m2);
	is_str(find(&alice, "radiator"), "Heating", "a word in three public "
	    "documents and a note: the customer finds it");
	is_str(find(&alice, "valve"), "", "  not by the note's own word");
	if (msg_delete(&st, &carol, t, m1) != SUP_OK)
		bail_out("msg_delete");
	is_str(find(&alice, "draught"), "", "a word left only in a note: "
	    "the customer no longer finds it");
	is_str(find(&carol, "draught"), "Heating", "  staff still do");
	is_str(find(&alice, "radiator"), "Heating", "  a word still in "
	    "public documents: found");
	if (msg_edit(&st, &carol, t, m2, "We will look at it.", 19, &o) !=
	    SUP_OK)
		bail_out("msg_edit");
	json_object_put(o);
	is_str(find(&alice, "radiator"), "Heating", "an edit takes the word "
	    "from one document: the others keep it");
	if (msg_delete(&st, &carol, t, n1) != SUP_OK)
		bail_out("msg_delete");
	is_str(find(&carol, "draught"), "", "its last document gone: staff "
	    "no longer find it");
	is_str(find(&carol, "valve"), "", "  nor the note's word");
	is_int(verify_now(), 0, "verify: the counts agree with the documents");
}

int
main(void)
{
	if (sodium_init() < 0)
		bail_out("sodium_init");
	test_words();
	tap_store_conf(dir, sizeof(dir), &conf, "max_tickets_per_user = 0\n");
	if (store_open(&st, &conf, desk_areas) != SUP_OK)
		bail_out("store_open");
	make_user("alice", ROLE_USER, &alice);
	make_user("bob", ROLE_USER, &bob);
	make_user("carol", ROLE_AGENT, &carol);
	test_find();
	test_changes();
	test_bound();
	test_counts();
	test_old_layout();
	test_build_verify();
	store_close(&st);
	tap_rmtree(dir);
	return done_testing();
}
