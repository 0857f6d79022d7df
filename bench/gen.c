/*
 * gen - fill a store with generated tickets for the benchmark, through the
 * library's public calls (user_create, ticket_create, msg_post,
 * ticket_update), so every counter and index is kept as the programs keep
 * them and `supportctl db verify` passes on the result.
 *
 *   gen --conf FILE --tickets N --out DIR [--messages-per-ticket K]
 *       [--detail-messages D] [--detail-tickets M] [--targets T] [--seed S]
 *   gen --conf FILE --reset-env
 *   gen --conf FILE --env-stat
 *
 * It makes (when absent) a handful of customers, bench-c1..bench-c8, and one
 * agent, bench-agent: argon2id makes each account cost a tenth of a second,
 * so there are few.  Then N tickets spread over the customers, each with 1
 * to K messages (customer and agent taking turns; K defaults to 3), a
 * quarter of them resolved; then M "detail" tickets with exactly D
 * messages each.  The last ones written are the newest.
 *
 * In DIR it writes, one "uuid owner" a line:
 *   detail.txt   the detail tickets
 *   targets.txt  T tickets spread over the store (not detail tickets), to
 *                post messages to
 *
 * Generation is meant to run with "durability = nosync" and
 * "max_tickets_per_user = 0" in FILE.  At the end the store is checkpointed
 * and closed, and the environment's region files are removed, so the next
 * opener makes them afresh with its own cache size (the log and the
 * database files stay).
 *
 * --reset-env does only that last step and opens the store once (running
 * recovery when it is needed), so that the environment is made by the
 * library as it is now, with FILE's settings: a benchmark run must not
 * join regions left by an older build or another cache size.  Only while
 * no process has the store open.
 *
 * --env-stat joins the running environment and prints, as whole numbers on
 * one line, the totals so far of: transactions committed, log flushes,
 * lock requests, lock waits, deadlocks, cache page gets, cache misses (what
 * db_stat shows, without its rounding of large numbers).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "areas.h"
#include "conf.h"
#include "msg.h"
#include "store.h"
#include "ticket.h"
#include "user.h"
#include "util.h"
#include "view.h"

#define NCUST 8

struct gen {
	struct sup_conf conf;
	struct store s;
	struct sup_user cust[NCUST];
	struct sup_user agent;
	uint64_t rng;
	long messages;		/* written by this run */
	long made;		/* tickets made by this run */
};

static const char *const words[] = {
	"printer", "invoice", "login", "password", "refund", "order", "screen",
	"the", "it", "again", "since", "yesterday", "broken", "slow", "error",
	"account", "please", "help", "cannot", "update", "mobile", "app",
	"shipping", "delivery", "address", "payment", "card", "declined",
	"export", "report", "missing", "button", "page", "blank", "after",
	"upgrade", "settings", "email", "notification", "twice", "never",
};

/* xorshift64*: reproducible, and fast enough not to show in the timing. */
static uint32_t
rnd(struct gen *g, uint32_t n)
{
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return (uint32_t)((g->rng * 2685821657736338717ULL) >> 32) % n;
}

/* nwords random words into buf (NUL-terminated); returns the length. */
static size_t
text(struct gen *g, char *buf, size_t cap, int nwords)
{
	size_t len = 0;

	for (int i = 0; i < nwords; i++) {
		const char *w = words[rnd(g, SUP_NELEM(words))];
		int n = snprintf(buf + len, cap - len, "%s%s", i ? " " : "", w);
		if (n < 0 || (size_t)n >= cap - len)
			break;
		len += (size_t)n;
	}
	return len;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Find or make the user name; fill u (user_clear() it). */
static sup_err
account(struct gen *g, const char *name, enum user_role role,
    struct sup_user *u)
{
	char email[64], pw[32];
	unsigned char raw[16];
	json_object *rec;
	sup_err e;

	e = user_find(&g->s, NULL, name, &rec);
	if (e == SUP_ENOTFOUND) {
		snprintf(email, sizeof(email), "%s@bench.invalid", name);
		/* Nobody logs in with it: the benchmark uses API tokens. */
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(pw, sizeof(pw), raw, 15);
		if ((e = user_create(&g->s, name, email, NULL, role, pw,
		    NULL)) != SUP_OK)
			return e;
		e = user_find(&g->s, NULL, name, &rec);
	}
	if (e != SUP_OK)
		return e;
	return user_from_record(u, rec);
}

/* Post one message to ticket uuid as u. */
static sup_err
post(struct gen *g, const struct sup_user *u, const uint8_t uuid[UUID_LEN])
{
	char buf[512];
	size_t len = text(g, buf, sizeof(buf), 10 + (int)rnd(g, 30));
	json_object *m;
	sup_err e;

	if ((e = msg_post(&g->s, u, uuid, buf, len, false, &m)) == SUP_OK) {
		json_object_put(m);
		g->messages++;
	}
	return e;
}

/*
 * One ticket of customer c with nmsg messages (customer first, then the
 * agent and the customer in turn); resolved when resolve.  Its uuid goes
 * to uuid_out.
 */
static sup_err
ticket(struct gen *g, int c, int nmsg, bool resolve, uint8_t uuid_out[UUID_LEN])
{
	char subject[256], content[512];
	struct ticket_new in = { 0 };
	json_object *t;
	sup_err e;

	in.subject = subject;
	in.subject_len = text(g, subject, sizeof(subject), 3 + (int)rnd(g, 5));
	in.content = content;
	in.content_len = text(g, content, sizeof(content),
	    10 + (int)rnd(g, 40));
	/*
	 * A word of this ticket's own, "ref" and its place in the run
	 * (ref0, ref1 ...): a search for one is as selective as a search
	 * can be, at any size of store (bench/icount.sh's searchrare).
	 */
	int n = snprintf(content + in.content_len, sizeof(content) -
	    in.content_len, " ref%ld", g->made++);
	if (n > 0 && (size_t)n < sizeof(content) - in.content_len)
		in.content_len += (size_t)n;
	else
		content[in.content_len] = '\0';
	in.priority = (enum ticket_priority)rnd(g, PRI_MAX);
	in.channel = CH_API;
	if ((e = ticket_create(&g->s, &g->conf, &g->cust[c], &in, &t)) !=
	    SUP_OK)
		return e;
	g->messages++;
	/* The answer is a view spliced from stored text: take the uuid from in. */
	memcpy(uuid_out, in.uuid, UUID_LEN);
	json_object_put(t);
	for (int i = 1; i < nmsg; i++)
		if ((e = post(g, i % 2 ? &g->agent : &g->cust[c], uuid_out)) !=
		    SUP_OK)
			return e;
	if (resolve) {
		struct ticket_patch p = { .status = ST_RESOLVED, .priority = -1 };
		if ((e = ticket_update(&g->s, &g->agent, uuid_out, &p, &t)) !=
		    SUP_OK)
			return e;
		json_object_put(t);
	}
	return SUP_OK;
}

static FILE *
open_out(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
	return f;
}

static void
write_line(FILE *f, const uint8_t uuid[UUID_LEN], const struct sup_user *u)
{
	char us[UUID_STRLEN + 1];

	uuid_format(uuid, us);
	fprintf(f, "%s %s\n", us, rec_str(u->rec, "username"));
}

static long
arg_long(const char *opt, const char *s, long min, long max)
{
	long v;

	if (!parse_long(s, min, max, &v)) {
		fprintf(stderr, "gen: %s takes %ld to %ld\n", opt, min, max);
		exit(2);
	}
	return v;
}

/* Remove the region files so the next opener sizes its own cache. */
static void
remove_regions(const char *dir)
{
	DB_ENV *env;
	int rc;

	if ((rc = db_env_create(&env, 0)) == 0)
		rc = env->remove(env, dir, DB_FORCE);
	if (rc != 0)
		fprintf(stderr, "gen: removing the regions of %s: %s\n", dir,
		    db_strerror(rc));
}

/* --env-stat: the environment's counters, joined as it is. */
static int
env_stat(const char *dir)
{
	DB_ENV *env = NULL;
	DB_TXN_STAT *ts = NULL;
	DB_LOG_STAT *ls = NULL;
	DB_LOCK_STAT *ks = NULL;
	DB_MPOOL_STAT *ms = NULL;
	int rc;

	if ((rc = db_env_create(&env, 0)) != 0)
		goto out;
	if ((rc = env->open(env, dir, DB_JOINENV, 0)) != 0 ||
	    (rc = env->txn_stat(env, &ts, 0)) != 0 ||
	    (rc = env->log_stat(env, &ls, 0)) != 0 ||
	    (rc = env->lock_stat(env, &ks, 0)) != 0 ||
	    (rc = env->memp_stat(env, &ms, NULL, 0)) != 0)
		goto out;
	printf("%ju %ju %ju %ju %ju %ju %ju\n", (uintmax_t)ts->st_ncommits,
	    ls->st_scount, ks->st_nrequests, ks->st_lock_wait,
	    ks->st_ndeadlocks, ms->st_cache_hit + ms->st_cache_miss,
	    ms->st_cache_miss);
out:
	free(ts);
	free(ls);
	free(ks);
	free(ms);
	if (env != NULL)
		env->close(env, 0);
	if (rc != 0)
		fprintf(stderr, "gen: %s: %s\n", dir, db_strerror(rc));
	return rc == 0 ? 0 : 1;
}

static void
usage(void)
{
	fputs("usage: gen --conf FILE --tickets N --out DIR "
	    "[--messages-per-ticket K]\n"
	    "           [--detail-messages D] [--detail-tickets M] "
	    "[--targets T] [--seed S]\n"
	    "       gen --conf FILE --reset-env\n"
	    "       gen --conf FILE --env-stat\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "tickets", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "messages-per-ticket", required_argument, NULL, 'k' },
		{ "detail-messages", required_argument, NULL, 'd' },
		{ "detail-tickets", required_argument, NULL, 'm' },
		{ "targets", required_argument, NULL, 'T' },
		{ "seed", required_argument, NULL, 's' },
		{ "reset-env", no_argument, NULL, 'R' },
		{ "env-stat", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	static struct gen g;
	const char *conf_file = NULL, *out = NULL;
	long n = -1, k = 3, dmsg = 20, dn = 4, ntargets = 1000, seed = 1;
	uint8_t uuid[UUID_LEN];
	FILE *detail = NULL, *targets = NULL;
	double t0, t1, last;
	long resolved = 0, every, next_target;
	sup_err e = SUP_OK;
	int c, rc = 1;
	bool reset = false, stat = false;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_file = optarg; break;
		case 'o': out = optarg; break;
		case 't': n = arg_long("--tickets", optarg, 0, 100000000); break;
		case 'k': k = arg_long("--messages-per-ticket", optarg, 1, 100);
			break;
		case 'd': dmsg = arg_long("--detail-messages", optarg, 1, 1000);
			break;
		case 'm': dn = arg_long("--detail-tickets", optarg, 0, 100);
			break;
		case 'T': ntargets = arg_long("--targets", optarg, 1, 1000000);
			break;
		case 's': seed = arg_long("--seed", optarg, 1, 1L << 40); break;
		case 'R': reset = true; break;
		case 'S': stat = true; break;
		default: usage();
		}
	}
	if (conf_file == NULL || optind != argc ||
	    (!reset && !stat && (out == NULL || n < 0)))
		usage();
	g.rng = (uint64_t)seed * 0x9E3779B97F4A7C15ULL;
	if (sodium_init() < 0)
		return 1;
	if (conf_load(&g.conf, conf_file) != SUP_OK) {
		fprintf(stderr, "gen: %s\n", g.conf.errmsg);
		conf_free(&g.conf);
		return 1;
	}
	if (stat) {
		rc = env_stat(g.conf.data_dir);
		conf_free(&g.conf);
		return rc;
	}
	if (reset) {
		remove_regions(g.conf.data_dir);
		if ((e = store_open(&g.s, &g.conf, desk_areas)) != SUP_OK) {
			fprintf(stderr, "gen: cannot open the store in %s: %s\n",
			    g.conf.data_dir, sup_strerror(e));
			conf_free(&g.conf);
			return 1;
		}
		store_close(&g.s);
		conf_free(&g.conf);
		return 0;
	}
	if (g.conf.max_tickets_per_user != 0)
		fprintf(stderr, "gen: warning: max_tickets_per_user is %ld, "
		    "not 0: customers may hit it\n", g.conf.max_tickets_per_user);
	if ((e = store_open(&g.s, &g.conf, desk_areas)) != SUP_OK) {
		fprintf(stderr, "gen: cannot open the store in %s: %s\n",
		    g.conf.data_dir, sup_strerror(e));
		conf_free(&g.conf);
		return 1;
	}
	if ((detail = open_out(out, "detail.txt")) == NULL ||
	    (targets = open_out(out, "targets.txt")) == NULL)
		goto out;

	t0 = last = now_s();
	for (int i = 0; i < NCUST && e == SUP_OK; i++) {
		char name[32];
		snprintf(name, sizeof(name), "bench-c%d", i + 1);
		e = account(&g, name, ROLE_USER, &g.cust[i]);
	}
	if (e == SUP_OK)
		e = account(&g, "bench-agent", ROLE_AGENT, &g.agent);
	if (e != SUP_OK) {
		fprintf(stderr, "gen: accounts: %s\n", sup_strerror(e));
		goto out;
	}
	t1 = now_s();
	fprintf(stderr, "gen: accounts ready in %.1f s\n", t1 - t0);

	/* Targets are every (n / ntargets)-th ticket, spread over the store. */
	every = n / ntargets > 0 ? n / ntargets : 1;
	next_target = every / 2;
	t0 = last = now_s();
	for (long i = 0; i < n; i++) {
		int cust = (int)rnd(&g, NCUST);
		int nmsg = 1 + (int)rnd(&g, (uint32_t)k);
		bool resolve = rnd(&g, 4) == 0;
		if ((e = ticket(&g, cust, nmsg, resolve, uuid)) != SUP_OK) {
			fprintf(stderr, "gen: ticket %ld: %s\n", i,
			    sup_strerror(e));
			goto out;
		}
		resolved += resolve;
		if (i == next_target && !resolve) {
			write_line(targets, uuid, &g.cust[cust]);
			next_target += every;
		} else if (i == next_target)
			next_target++;	/* the next open one instead */
		if (i % 1000 == 999)
			store_checkpoint(&g.s, false);
		if (now_s() - last >= 10) {
			last = now_s();
			fprintf(stderr, "gen: %ld tickets, %ld messages, "
			    "%.0f s, %.0f tickets/s\n", i + 1, g.messages,
			    last - t0, (double)(i + 1) / (last - t0));
		}
	}
	for (long i = 0; i < dn; i++) {
		int cust = (int)(i % NCUST);
		if ((e = ticket(&g, cust, (int)dmsg, false, uuid)) != SUP_OK) {
			fprintf(stderr, "gen: detail ticket: %s\n",
			    sup_strerror(e));
			goto out;
		}
		write_line(detail, uuid, &g.cust[cust]);
	}
	t1 = now_s();
	fprintf(stderr, "gen: %ld tickets (%ld resolved) + %ld detail "
	    "tickets, %ld messages in %.1f s (%.0f tickets/s)\n", n, resolved,
	    dn, g.messages, t1 - t0, (double)(n + dn) / (t1 - t0));
	printf("generated %ld tickets, %ld messages in %.1f s\n", n + dn,
	    g.messages, t1 - t0);
	rc = 0;
out:
	if (detail != NULL && fclose(detail) != 0)
		rc = 1;
	if (targets != NULL && fclose(targets) != 0)
		rc = 1;
	for (int i = 0; i < NCUST; i++)
		user_clear(&g.cust[i]);
	user_clear(&g.agent);
	t0 = now_s();
	store_checkpoint(&g.s, true);
	store_close(&g.s);
	remove_regions(g.conf.data_dir);
	fprintf(stderr, "gen: checkpoint and close: %.1f s\n", now_s() - t0);
	conf_free(&g.conf);
	return rc;
}
