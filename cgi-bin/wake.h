/*
 * wake.h - under plain CGI, where no daemon may run, the request that
 * queued mail starts one pass of support-worker after its answer
 * (docs/mail.md, "Plain CGI").  A confined process may not start a
 * program (lib/base/confine.h: execve and fork end it), so a helper is
 * forked before the store is opened and confinement begins: it leaves the
 * request's session and stdio at once, waits on a pipe, and when told to
 * starts `support-worker --once` (worker_path), detached; told nothing
 * (the pipe closed), it exits.
 */
#ifndef SUP_WAKE_H
#define SUP_WAKE_H

#include <stdbool.h>

#include "conf.h"

/* The helper of one CGI request: its pipe, or -1 when there is none. */
struct wake {
	int fd;
};

/*
 * Start the helper, when conf sends mail (support_email, and smtp_url or
 * sendmail_path) or has a [webhook.NAME] section (docs/webhooks.md),
 * worker_path is set and the request's method (may be
 * NULL) can change something (not GET or HEAD, which append no event:
 * most requests fork nothing); w->fd is -1 otherwise or when it cannot be
 * started (said on stderr: mail then waits for the next pass or cron).
 * Call before confinement.
 */
void wake_prepare(struct wake *w, const struct sup_conf *conf,
    const char *method);

/*
 * After the answer is complete: tell the helper to start the worker when
 * go (the request appended an event that may make mail: outbox_woken),
 * else let it exit.  Closes the pipe.
 */
void wake_finish(struct wake *w, bool go);

#endif
