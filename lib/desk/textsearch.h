/*
 * textsearch.h - the full-text search (docs/search.md; prefix search_):
 * an inverted index of the tickets' subjects and messages, kept by a
 * subscriber of the event log inside the transaction of every change, so
 * it is never stale; the words of a text (Unicode, through utf8proc); queries of words, prefixes
 * and phrases; the snippet of a match.
 *
 * The area keeps two databases:
 *   search_post.db  word NUL ticket(16) -> public(varint) notes(varint)
 *                   (a posting: how many of ticket's public documents
 *                   and notes hold the normalised word; there is none
 *                   when no document does)
 *   search_docs.db  ticket(16) doc(16) -> flags(1) words
 *                   (flags SEARCH_F_INTERNAL for a note)
 *                   (a document's normalised words in their order, each
 *                   ended by NUL: what removes its postings, confirms a
 *                   phrase and checks the other words of a query)
 * doc is the message's uuid, or 16 zero bytes for the ticket's subject.
 * Every ticket has its subject's document and every message its own,
 * even without a word (verify counts them).
 */
#ifndef SUP_TEXTSEARCH_H
#define SUP_TEXTSEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <db.h>

#include "store.h"
#include "sup.h"
#include "util.h"

#define SEARCH_WORD_MAX 64	/* bytes of a normalised word: longer ones are
				   cut at a character's start */
#define SEARCH_DOC_TERMS 1000	/* distinct words of a document indexed: the
				   text up to its 1001st distinct word */
#define SEARCH_DOC_WORDS 16384	/* words of a document kept in order */
#define SEARCH_SCAN_MAX 1000	/* postings (a ticket each), or a user's
				   tickets, one search looks at, at most */
#define SEARCH_F_INTERNAL 1u	/* the document is an internal note */

/*
 * Split text[0..len) into words and hand each to fn, in order: w[0..n)
 * the word normalised (case folded, accents stripped, compatibility
 * forms composed: NFKC_Casefold without marks), at most SEARCH_WORD_MAX
 * bytes and never empty; at, span: where in text the run of characters
 * it came from lies (a run may give more than one word, each with the
 * run's place).  A word is a run of letters and digits (Unicode
 * categories L* and N*) with the marks (M*) inside it; anything else,
 * and bytes that are not UTF-8, separate words.  The text's length is
 * trusted only as len: NUL bytes are separators.  fn returns 0 to go on,
 * anything else to stop.  SUP_ENOMEM (the word being normalised); SUP_OK.
 */
typedef int (*search_word_fn)(void *ctx, const char *w, size_t n, size_t at,
    size_t span);
sup_err search_words(const char *text, size_t len, search_word_fn fn,
    void *ctx);

/*
 * A query, parsed from the list's q (search_parse):
 *   words         each must occur in the ticket (ANDed; anywhere in its
 *                 subject or messages)
 *   word*         a prefix: some word of the ticket starts with it
 *   "a phrase"    its words, one after another, in one document (an
 *                 unclosed quote runs to the end)
 *   #123          ticket 123 only (not a search: the list's own filter)
 *   123           ticket 123, or tickets with the word 123
 * Case and accents do not matter.  A query without a word finds nothing.
 */
struct search_query;

/*
 * Parse q[0..len) into *out (search_query_free it).  SUP_ENOMEM; any text
 * parses.
 */
sup_err search_parse(const char *q, size_t len, struct search_query **out);
void search_query_free(struct search_query *sq);

/* Is q "#" and digits only: a ticket number, not a search? */
bool search_is_number_only(const char *q, size_t len);

/* The ticket number a query of digits alone names, else 0. */
int64_t search_number(const struct search_query *sq);

/*
 * The tickets whose visible documents (staff: all; otherwise the public
 * ones only) hold every term of sq, read in txn, into *uuids (n of them,
 * UUID_LEN bytes each; free() it), newest first when they came from the
 * postings.  With has_user, only user's tickets are wanted: when user
 * has fewer tickets than the least frequent term has postings (and at
 * most SEARCH_SCAN_MAX), they are checked one by one instead of the
 * postings; others' tickets may still be returned (the caller filters).
 * At most SEARCH_SCAN_MAX postings (a ticket each) or tickets of user are
 * looked at: *truncated
 * says there were more (the results are then those found among them).
 * SUP_ENOMEM, the store's errors.
 */
sup_err search_find(struct store *s, DB_TXN *txn,
    const struct search_query *sq, bool staff, bool has_user, uint32_t user,
    uint8_t **uuids, size_t *n, bool *truncated);

/*
 * The snippet of ticket's first visible document with a word of sq: the
 * text around its first match, as a JSON array appended to out,
 * [{"text": "... before ", "mark": "matched"}, ..., {"text": " after",
 * "mark": ""}]: each part a stretch of the original text followed by a
 * matched word (as written), whitespace runs made one space, "…" where
 * the text was cut.  subject[0..subject_len) is the ticket's subject (its
 * document's text).  "null" when no document matches (a ticket found by
 * its number).  SUP_ENOMEM, the store's errors.
 */
sup_err search_snippet(struct store *s, DB_TXN *txn,
    const struct search_query *sq, const uint8_t ticket[UUID_LEN],
    bool staff, const char *subject, size_t subject_len, struct sbuf *out);

/*
 * Remove every document of ticket from the index, inside txn (a purge:
 * lib/desk/retention.c; no event is appended for it).  The store's
 * errors.
 */
sup_err search_forget_ticket(struct store *s, DB_TXN *txn,
    const uint8_t ticket[UUID_LEN]);

#endif
