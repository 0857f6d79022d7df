/*
 * support-worker - the desk's deliveries (docs/mail.md, docs/webhooks.md,
 * support-worker(8)): turns the events that call for mail or a webhook
 * into deliveries in the outbox (the mail and the webhooks consumers of
 * the event log), then sends the deliveries that are due, with retries
 * and back-off, until none is left.
 *
 *   support-worker [--conf FILE] [--once] [--interval SECONDS]
 *
 * With --once it makes one pass and exits (cron, and the request that
 * queued mail under plain CGI); without it, it passes again every
 * interval (default 2 s) until SIGTERM or SIGINT, which it heeds between
 * two deliveries.  Several workers may run at once: a delivery is claimed
 * before it is sent.  Exit status: 0 done, 1 a failure (said on stderr),
 * 2 bad usage.  The configuration is FILE, else $SUPPORT_CONF, else the
 * compiled default.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "areas.h"
#include "attach.h"
#include "conf.h"
#include "notify.h"
#include "outbox.h"
#include "remind.h"
#include "store.h"
#include "transport.h"
#include "util.h"
#include "webout.h"
#include "webpost.h"

#define CONSUME_BATCH 100
#define TRIM_EVERY_US (3600LL * 1000000)
#define REMIND_EVERY_US (600LL * 1000000)	/* reminders: every 10 min */

static volatile sig_atomic_t stopping;

/* SIGTERM, SIGINT: stop between two deliveries. */
static void
on_stop(int sig SUP_UNUSED)
{
	stopping = 1;
}

static void
usage(void)
{
	fputs("usage: support-worker [--conf FILE] [--once] "
	    "[--interval SECONDS]\n", stderr);
}

/* What a pass works with. */
struct worker {
	const struct sup_conf *conf;
	struct store *s;
	struct notify *nt;
	struct mail_transport *tr;
	struct webout *wo;
	struct webpost *wp;
};

/*
 * Queue the mail and the webhook calls of the events not yet handled.
 * SUP_OK when the log is read to its end (or a stop was asked for).
 */
static sup_err
consume(struct worker *w)
{
	long handled;
	sup_err e;

	do {
		if ((e = notify_consume(w->s, w->nt, CONSUME_BATCH,
		    &handled)) != SUP_OK)
			return e;
	} while (handled == CONSUME_BATCH && !stopping);
	do {
		if ((e = webout_consume(w->s, w->wo, CONSUME_BATCH,
		    &handled)) != SUP_OK)
			return e;
	} while (handled == CONSUME_BATCH && !stopping);
	return SUP_OK;
}

/*
 * Send webhook delivery it: to its subscription's url, signed with its
 * secret now; the event's type is the body's "event".  why gets the
 * reason when it was not sent.
 */
static enum outbox_outcome
post_hook(struct worker *w, const struct outbox_item *it, char *why,
    size_t n)
{
	const char *url, *secret, *event = NULL;
	json_object *body, *v;
	size_t slen;
	long status;
	enum webpost_result r;

	if (webout_target(w->wo, it->to, &url, &secret, &slen) != SUP_OK) {
		snprintf(why, n, "no [webhook.%s] in support.conf any more",
		    it->to);
		return OUTBOX_FAIL;
	}
	body = json_tokener_parse(it->message);
	if (body != NULL && json_object_object_get_ex(body, "event", &v))
		event = json_object_get_string(v);
	if (event == NULL) {
		json_object_put(body);
		snprintf(why, n, "the delivery's body cannot be read");
		return OUTBOX_FAIL;
	}
	r = webpost_send(w->wp, url, secret, slen, event, it->id,
	    time_now_us() / 1000000, it->message, it->len, &status, why, n);
	json_object_put(body);
	return r == WEBPOST_SENT ? OUTBOX_OK : r == WEBPOST_RETRY ?
	    OUTBOX_RETRY : OUTBOX_FAIL;
}

/* Send the deliveries due now, one claim each; *sent counts them. */
static sup_err
deliver(struct worker *w, long *sent)
{
	struct outbox_item it;
	char why[OUTBOX_ERROR_MAX + 1], id[UUID_STRLEN + 1];
	sup_err e;

	while (!stopping) {
		enum mail_result r;
		enum outbox_outcome how;

		if ((e = outbox_claim(w->s, time_now_us(), &it)) ==
		    SUP_ENOTFOUND)
			return SUP_OK;
		if (e != SUP_OK)
			return e;
		if (it.kind == OUTBOX_MAIL) {
			r = mail_send(w->tr, it.to, it.message, it.len, why,
			    sizeof(why));
			how = r == MAIL_SENT ? OUTBOX_OK : r == MAIL_RETRY ?
			    OUTBOX_RETRY : OUTBOX_FAIL;
		} else
			how = post_hook(w, &it, why, sizeof(why));
		uuid_format(it.id, id);
		if (how != OUTBOX_OK)
			fprintf(stderr, "support-worker: delivery %s to %s, "
			    "attempt %ld: %s\n", id, it.to, it.attempts, why);
		else
			(*sent)++;
		e = outbox_done(w->s, it.id, how, how == OUTBOX_OK ? NULL : why,
		    time_now_us(), w->conf->outbox_retry_hours);
		outbox_item_free(&it);
		if (e != SUP_OK)
			return e;
	}
	return SUP_OK;
}

/*
 * One pass: the reminders and escalations due (every REMIND_EVERY_US,
 * and in every --once pass: *last_remind is 0 then), the events, then
 * the deliveries due, then upkeep (hourly, and in every --once pass:
 * the outbox trimmed, old spool files removed).
 */
static sup_err
pass(struct worker *w, int64_t *last_trim, int64_t *last_remind)
{
	const struct sup_conf *conf = w->conf;
	struct store *s = w->s;
	long sent = 0, n;
	sup_err e;

	if (*last_remind == 0 || time_now_us() - *last_remind >=
	    REMIND_EVERY_US) {
		*last_remind = time_now_us();
		if ((e = remind_scan(s, conf, time_now_us(), NULL, NULL)) !=
		    SUP_OK) {
			fprintf(stderr, "support-worker: reminders: %s\n",
			    sup_strerror(e));
			return e;
		}
	}
	if ((e = consume(w)) != SUP_OK) {
		fprintf(stderr, "support-worker: reading the event log: %s\n",
		    sup_strerror(e));
		return e;
	}
	if ((e = deliver(w, &sent)) != SUP_OK) {
		fprintf(stderr, "support-worker: delivering: %s\n",
		    sup_strerror(e));
		return e;
	}
	if (time_now_us() - *last_trim > TRIM_EVERY_US) {
		*last_trim = time_now_us();
		/* Sent and dead deliveries go as the events do. */
		outbox_trim(s, time_now_us() - conf->event_retention_days *
		    86400LL * 1000000, 0, NULL);
		/* Spool files a dead upload or mail left (attach.h). */
		if ((n = att_spool_sweep(conf, time_now_us() / 1000000,
		    ATT_SPOOL_OLD_S)) > 0)
			fprintf(stderr, "support-worker: removed %ld spool "
			    "files left in files/tmp/ by uploads or mails "
			    "that did not finish\n", n);
	}
	store_maintain(s);
	return SUP_OK;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_stop };
	struct sup_conf conf;
	struct store s;
	struct notify *nt = NULL;
	struct mail_transport *tr = NULL;
	struct webout *wo = NULL;
	struct webpost *wp = NULL;
	struct worker w;
	char why[256];
	const char *conf_file = NULL;
	bool once = false, open = false;
	long interval = 2;
	int64_t last_trim = 0, last_remind = 0;
	int c, rc = 1;
	sup_err e;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_file = optarg; break;
		case 'o': once = true; break;
		case 'i':
			if (!parse_long(optarg, 1, 3600, &interval)) {
				fputs("support-worker: --interval takes 1 to "
				    "3600 seconds\n", stderr);
				return 2;
			}
			break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (conf_load(&conf, conf_path(conf_file)) != SUP_OK) {
		fprintf(stderr, "support-worker: %s\n", conf.errmsg);
		goto out;
	}
	if ((e = webout_open(&conf, &wo, why, sizeof(why))) != SUP_OK) {
		fprintf(stderr, "support-worker: %s: %s\n",
		    conf_path(conf_file), e == SUP_ECONFIG ? why :
		    sup_strerror(e));
		goto out;
	}
	if ((e = store_open(&s, &conf, desk_areas)) != SUP_OK) {
		fprintf(stderr, "support-worker: cannot open the store in %s: "
		    "%s\n", conf.data_dir, sup_strerror(e));
		goto out;
	}
	open = true;
	if ((e = notify_open(&conf, &nt)) != SUP_OK ||
	    (e = mail_transport_open(&conf, &tr)) != SUP_OK ||
	    (e = webpost_open(&wp)) != SUP_OK) {
		fprintf(stderr, "support-worker: %s\n", sup_strerror(e));
		goto out;
	}
	if (!mail_transport_configured(&conf))
		fprintf(stderr, "support-worker: no mail transport (set "
		    "support_email, and smtp_url or sendmail_path): mail is "
		    "queued, not sent\n");
	w = (struct worker){ .conf = &conf, .s = &s, .nt = nt, .tr = tr,
		.wo = wo, .wp = wp };
	for (;;) {
		e = pass(&w, &last_trim, &last_remind);
		if (e == SUP_ERECOVER)
			e = store_reopen(&s, &conf);
		if (once) {
			rc = e == SUP_OK ? 0 : 1;
			break;
		}
		for (long i = 0; i < interval * 10 && !stopping; i++)
			usleep(100000);
		if (stopping) {
			rc = 0;
			break;
		}
	}
out:
	mail_transport_close(tr);
	webpost_close(wp);
	webout_close(wo);
	notify_close(nt);
	if (open)
		store_close(&s);
	conf_free(&conf);
	return rc;
}
