/*
 * stats.h - the support statistics (docs/reports.md): aggregates kept by
 * an in-transaction subscriber of the event log, so that a report reads
 * a number of records that depends on its window's days and the desk's
 * agents, never on its tickets.
 *
 * The area keeps two databases:
 *   stats.db          kind(1) day(4, BE) dim(4, BE) -> STATS_NF counts
 *                     (8 bytes each, BE; a shorter record reads its
 *                     missing counts as 0)
 *   stats_tickets.db  ticket uuid -> the facts the subscriber needs
 *                     (struct stats_facts, STATS_FACTS_LEN bytes)
 * day is the UTC day (days since 1970-01-01).  The kinds:
 *   STATS_K_DAY     dim 0: what happened on that day (tickets created,
 *                   first responses and their delays, resolutions and
 *                   their times, closes, ratings)
 *   STATS_K_AGENT   dim the agent: the same, for the agent who did it
 *                   (replies, first responses; resolutions and closes
 *                   of the tickets assigned to them)
 *   STATS_K_PRIO    dim the priority: the same, by the ticket's priority
 *   STATS_K_COHORT  dim 0: the tickets created on that day, as they are
 *                   now: created, first responded (their delays), resolved
 *                   now (their times: a re-open takes them out)
 */
#ifndef SUP_STATS_H
#define SUP_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "store.h"
#include "sup.h"
#include "user.h"
#include "util.h"

/* The histograms' buckets: bucket i holds times below its bound. */
#define STATS_NBUCKETS 16
extern const int64_t stats_bucket_bound_s[STATS_NBUCKETS];	/* last: 0 */

/* The bucket of a time of us microseconds. */
int stats_bucket(int64_t us);

enum stats_kind {
	STATS_K_DAY = 1,
	STATS_K_AGENT,
	STATS_K_PRIO,
	STATS_K_COHORT,
};

/* The counts of one record of stats.db, in their order. */
enum stats_field {
	SF_CREATED,
	SF_FR_N,		/* first responses */
	SF_FR_SUM,		/* their delays, µs */
	SF_RES_N,		/* resolutions */
	SF_RES_SUM,		/* their times from creation, µs */
	SF_CLOSED,
	SF_REPLIES,		/* public staff replies */
	SF_GOOD,		/* ratings */
	SF_BAD,
	SF_FR_H,		/* STATS_NBUCKETS of the first responses */
	SF_RES_H = SF_FR_H + STATS_NBUCKETS,
	STATS_NF = SF_RES_H + STATS_NBUCKETS
};

#define STATS_KEY_LEN 9
#define STATS_DAY_US INT64_C(86400000000)

/* The UTC day of a time (floor). */
static inline int64_t
stats_day(int64_t us)
{
	return us >= 0 ? us / STATS_DAY_US : -((-us - 1) / STATS_DAY_US) - 1;
}

/*
 * The counts of the record (kind, day, dim) into v[STATS_NF] (zeros when
 * there is none), inside txn (NULL: outside any).  SUP_EDB, store errors.
 */
sup_err stats_get(struct store *s, DB_TXN *txn, int kind, int64_t day,
    uint32_t dim, int64_t v[STATS_NF]);

/*
 * The report of the UTC days [from_day, to_day] (docs/reports.md): a new
 * object in *out (json_object_put it), in one read transaction.
 * SUP_EINVAL when the window is empty or longer than STATS_DAYS_MAX days;
 * SUP_ENOMEM, store errors.
 */
#define STATS_DAYS_MAX 366
sup_err stats_report(struct store *s, int64_t from_day, int64_t to_day,
    json_object **out);

/* A customer's rating of a resolved ticket (docs/reports.md). */
#define STATS_ENOTRESOLVED ((sup_err)SUP_ERR_AREA(SUP_AREA_STATS, 1))
#define STATS_ERATED ((sup_err)SUP_ERR_AREA(SUP_AREA_STATS, 2))
/* The rating link's (ratelink.h): not valid (404), past its day (400). */
#define RATELINK_EBAD ((sup_err)SUP_ERR_AREA(SUP_AREA_STATS, 3))
#define RATELINK_EOLD ((sup_err)SUP_ERR_AREA(SUP_AREA_STATS, 4))
#define STATS_COMMENT_MAX 1000

/*
 * u, the ticket's customer, rates ticket uuid good or bad, with a
 * comment (comment[0..len), NULL/0 for none), once, when it is resolved
 * (status resolved, or closed after its resolution): in one transaction
 * the rating is stored and a ticket.rated event appended (its subscriber
 * counts it).  *out the rating as stats_rating gives it.
 * SUP_EFORBIDDEN (staff, or not the owner), SUP_ENOTFOUND (not u's),
 * STATS_ENOTRESOLVED, STATS_ERATED (rated before), SUP_ENOMEM, store
 * errors.
 */
sup_err stats_rate(struct store *s, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], bool good, const char *comment, size_t len,
    json_object **out);

/*
 * The rating of ticket uuid as u (its owner or staff) may see it: a new
 * {"rating": "good"|"bad", "comment": text or null, "created_at"} in
 * *out, NULL when it has none; *can_rate (may be NULL) whether u may
 * rate it now (its customer, resolved, not rated).  SUP_ENOTFOUND (no
 * ticket of u's), SUP_ENOMEM, store errors.
 */
sup_err stats_rating(struct store *s, const struct sup_user *u,
    const uint8_t uuid[UUID_LEN], json_object **out, bool *can_rate);

/*
 * The quantile pct (1..100, in percent) of a histogram h[STATS_NBUCKETS]
 * of n times: the bound in seconds of the bucket holding the
 * ceil(pct n / 100)-th
 * smallest (the last bucket, which has no bound, gives the one before
 * it); -1 when n is 0.
 */
int64_t stats_quantile(const int64_t *h, int64_t n, int pct);

/*
 * Remove the rating (with its comment) of the ticket uuid inside txn, for
 * a ticket purged for its age (lib/desk/retention.c); the aggregates keep
 * its numbers, and the ticket's facts stay with them.  The store's errors.
 */
sup_err stats_forget_rating(struct store *s, DB_TXN *txn,
    const uint8_t uuid[UUID_LEN]);

#endif
