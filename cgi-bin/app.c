/*
 * app.c - the request loop shared by every program.
 *
 * A program runs in one of three ways, found out at start:
 *   --listen ADDR   it opens the socket itself and forks --children N
 *                   workers, restarting any that die (nginx, mod_proxy_fcgi);
 *   FastCGI         the server passed it a listening socket on fd 0
 *                   (mod_fcgid, spawn-fcgi);
 *   plain CGI       anything else: one request from the environment.
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "app.h"
#include "areas.h"
#include "attach.h"
#include "auth.h"
#include "confine.h"
#include "ratelink.h"
#include "event.h"
#include "fcgiout.h"
#include "http.h"
#include "sess.h"
#include "user.h"
#include "valid.h"
#include "wake.h"
#include "outbox.h"

extern char **environ;

static volatile sig_atomic_t stopping;

/* The request watchdog (watch_start): what its signal handler reads. */
static volatile sig_atomic_t watch_seconds;	/* the request has run */
static long watch_limit;			/* request_timeout_s */
static const struct store *watch_store;
/* The wait for a body (fcgi_read), which on_tick also bounds. */
static volatile sig_atomic_t body_fd = -1;	/* the connection read from */
static volatile sig_atomic_t body_until;	/* watch_seconds it ends at */
static volatile sig_atomic_t body_expired;	/* on_tick ended it */
static long body_limit;				/* body_timeout_s */

/* A request this old whose store was recovered away is stuck for good. */
#define STRANDED_S 2
#define TRIM_EVERY_US (3600 * 1000000LL)	/* event log trimming, per process */

int
app_status(sup_err e)
{
	switch (sup_errkind(e)) {
	case SUP_OK:
		return 200;
	case SUP_EINVAL:
	case SUP_EJSON:
	case SUP_EUNKNOWN:
	case SUP_EIO:
		return 400;
	case SUP_EUNAUTH:
		return 401;
	case SUP_EFORBIDDEN:
	case SUP_ECSRF:
		return 403;
	case SUP_ENOTFOUND:
		return 404;
	case SUP_EMETHOD:
		return 405;
	case SUP_ETIMEOUT:
		return 408;
	case SUP_ECONFLICT:
	case SUP_EEXIST:
		return 409;
	case SUP_ETOOLARGE:
		return 413;
	case SUP_EMEDIA:
		return 415;
	case SUP_ERATE:
		return 429;
	case SUP_EDEADLOCK:
	case SUP_EBUSY:
	case SUP_ERECOVER:
		return 503;
	default:
		return 500;
	}
}

sup_err
app_reply(struct sup_req *r, int status, json_object *body)
{
	r->status = status;
	json_object_put(r->reply);
	r->reply = body;
	return SUP_OK;
}

/* Reopen the store after another process ran recovery; true when open. */
static bool
reopen_store(struct app *app)
{
	fprintf(stderr, "%s: the store was recovered by another process; "
	    "reopening\n", app->name);
	return store_reopen(&app->store, &app->conf) == SUP_OK;
}

/*
 * CSRF (DESIGN §6, docs/security.md).  A request that changes something and
 * was authenticated by the session cookie must send the session's token
 * (X-CSRFToken or the csrfmiddlewaretoken form field).  Otherwise a form
 * body (only browsers send those; a browser also resends Basic credentials
 * and so REMOTE_USER by itself) and, on the log-in and sign-up routes, a
 * request carrying a csrftoken cookie must send that cookie's value.  A
 * JSON request is a script's: a browser cannot send one cross-site without
 * a CORS preflight, which the desk never grants.
 */
static sup_err
check_csrf(const struct route *route, const struct sup_req *r)
{
	const char *m = r->method, *cookie, *h;

	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
	    strcmp(m, "OPTIONS") == 0)
		return SUP_OK;
	if (r->by_cookie)
		return cookie_token_equal(cookie_sent_token(r), r->csrf) ?
		    SUP_OK : SUP_ECSRF;
	cookie = req_cookie(r, "csrftoken");
	/*
	 * A multipart body is a form too (browsers send one cross-site, with
	 * Basic credentials), but for an API token, which no browser sends
	 * by itself: uploads from scripts (docs/attachments.md).
	 */
	if (mp_is_multipart(req_env(r, "CONTENT_TYPE")) &&
	    r->user.rec != NULL && (h = req_env(r, "HTTP_AUTHORIZATION")) !=
	    NULL && strncasecmp(h, "Bearer ", 7) == 0)
		return SUP_OK;
	if (!req_body_is_form(r) &&
	    !mp_is_multipart(req_env(r, "CONTENT_TYPE")) && (cookie == NULL ||
	    !(route->flags & ROUTE_ANON_CSRF) || r->user.rec != NULL))
		return SUP_OK;
	return cookie_token_equal(cookie_sent_token(r), cookie) ? SUP_OK :
	    SUP_ECSRF;
}

/*
 * An error the web server found before the program saw the request, and
 * handed over for the answer: Apache refuses a body over LimitRequestBody
 * itself when it reads bodies whole (mod_fcgid, mod_cgi), and its
 * ErrorDocument brings the request here with REDIRECT_STATUS=413, so the
 * client gets the same 413 as from the programs' own check.  Only the
 * server sets REDIRECT_STATUS (a client's header would be
 * HTTP_REDIRECT_STATUS); other values, such as the 200 of mod_rewrite,
 * change nothing.  Returns SUP_ETOOLARGE or SUP_OK.
 */
static sup_err
server_refused(const struct sup_req *r)
{
	const char *s = req_env(r, "REDIRECT_STATUS");
	long status;

	if (s != NULL && parse_long(s, 100, 599, &status) && status == 413)
		return SUP_ETOOLARGE;
	return SUP_OK;
}

/*
 * The body's cap for route: a route that takes files (ROUTE_UPLOAD) sent
 * a multipart body gets the upload limits' (att_body_cap), when uploads
 * are on; otherwise max_body_bytes.
 */
static long
body_cap(const struct app *app, const struct route *route,
    const struct sup_req *r)
{
	if ((route->flags & ROUTE_UPLOAD) && app->conf.enable_file_uploads &&
	    mp_is_multipart(req_env(r, "CONTENT_TYPE")))
		return att_body_cap(&app->conf);
	return app->conf.max_body_bytes;
}

/*
 * Read and parse a multipart body of a route that takes files: its
 * fields into r->json, its files spooled in the store (r->upload).
 */
static sup_err
read_multipart(struct app *app, struct sup_req *r)
{
	char spool[ATT_PATH_MAX];
	struct mp_limits lim;

	if (att_limits(&app->conf, &lim, spool) != SUP_OK)
		return SUP_EIO;
	return req_parse_multipart(r, &lim);
}

/*
 * Everything between the parsed request and the handler, in DESIGN order.
 * *routep gets the route (NULL when none matched).
 */
static sup_err
dispatch(struct app *app, struct sup_req *r, const struct route **routep)
{
	const struct route *route;
	sup_err e;

	if ((e = server_refused(r)) != SUP_OK)
		return e;
	if ((e = route_find(app->routes, app->nroutes, r, &route)) != SUP_OK)
		return e;
	*routep = route;
	/* The events of this request say where it came from (event.h). */
	event_origin(&app->store, req_env(r, "REMOTE_ADDR"));
	/* The size is checked before a byte of the body is read. */
	long len;
	if ((route->flags & (ROUTE_BODY | ROUTE_SIGNED)) &&
	    (e = req_body_length(r, body_cap(app, route, r), &len)) !=
	    SUP_OK) {
		/* Files to a desk that takes none: say so, not "too large". */
		if (e == SUP_ETOOLARGE && (route->flags & ROUTE_UPLOAD) &&
		    !app->conf.enable_file_uploads &&
		    mp_is_multipart(req_env(r, "CONTENT_TYPE")))
			return ATT_EDISABLED;
		return e;
	}
	/*
	 * A signed route is its signature's: no credentials are looked at
	 * and no CSRF token asked for (no browser signs a body), and the
	 * handler gets the body's bytes unparsed.
	 */
	if (route->flags & ROUTE_SIGNED) {
		if (r->nquery > 0 &&
		    (e = valid_query(r, NULL, 0, NULL)) != SUP_OK)
			return e;
		if ((e = req_read_body(r, app->conf.max_body_bytes)) != SUP_OK)
			return e;
		r->status = 200;
		return route->handler(app, r);
	}
	if ((e = auth_request(&app->store, &app->conf, r)) != SUP_OK)
		return e;
	if ((route->flags & (ROUTE_LOGIN | ROUTE_STAFF | ROUTE_ADMIN)) &&
	    r->user.rec == NULL)
		return SUP_EUNAUTH;
	if ((route->flags & ROUTE_STAFF) && !user_is_staff(&r->user))
		return SUP_EFORBIDDEN;
	if ((route->flags & ROUTE_ADMIN) && r->user.role != ROLE_ADMIN)
		return SUP_EFORBIDDEN;
	if (!(route->flags & ROUTE_QUERY) && r->nquery > 0 &&
	    (e = valid_query(r, NULL, 0, NULL)) != SUP_OK)
		return e;
	if ((route->flags & ROUTE_BODY) && r->json == NULL &&
	    (route->flags & ROUTE_UPLOAD) &&
	    mp_is_multipart(req_env(r, "CONTENT_TYPE"))) {
		if ((e = read_multipart(app, r)) != SUP_OK)
			return e;
	} else if ((route->flags & ROUTE_BODY) && r->json == NULL) {
		if ((e = req_read_body(r, app->conf.max_body_bytes)) != SUP_OK)
			return e;
		/* A form is parsed first: its token is checked next. */
		if (req_body_is_form(r) && (e = req_parse_body(r)) != SUP_OK)
			return e;
	}
	if ((e = check_csrf(route, r)) != SUP_OK)
		return e;
	if ((route->flags & ROUTE_BODY) && r->json == NULL &&
	    (e = req_parse_body(r)) != SUP_OK)
		return e;
	r->status = 200;
	return route->handler(app, r);
}

/*
 * Is the answer to this request a page?  The route says so; a path that
 * matched no route is a page when it is under /support/ (not the API).
 */
static bool
is_page(const struct route *route, const struct sup_req *r)
{
	if (route != NULL)
		return (route->flags & ROUTE_PAGE) != 0;
	return r->path != NULL && strncmp(r->path, "/support/", 9) == 0;
}

/*
 * Answer a failed request: as JSON, or for a page as a page.  A page
 * path that matched no route (404) was not authenticated yet: it is now, so
 * that the error page's header shows who is logged in (a failure there
 * leaves the reader anonymous).
 */
static void
send_failure(struct app *app, const struct route *route, struct sup_req *r,
    sup_err e)
{
	if (!is_page(route, r))
		http_send_error(r, app_status(e), e);
	else if (e == SUP_EUNAUTH)
		page_login_redirect(r, app->conf.url_prefix);
	else {
		if (route == NULL && e == SUP_ENOTFOUND &&
		    r->user.rec == NULL && app->store.env != NULL)
			(void)auth_request(&app->store, &app->conf, r);
		page_error(&app->page, r, app_status(e), e);
	}
}

/*
 * One request: parse, dispatch, answer.  When another process ran recovery
 * meanwhile, the store is reopened and the request served again, once: the
 * transaction it was in was aborted, so nothing of it was written.
 */
static sup_err
serve_one(struct app *app, char **envp, struct sup_io io)
{
	const struct route *route = NULL;
	struct sup_req r;
	sup_err e;

	e = req_parse(&r, envp, io, app->conf.url_prefix);
	if (e == SUP_OK)
		e = app->store.env != NULL ? dispatch(app, &r, &route) :
		    SUP_EDB;
	if (e == SUP_ERECOVER && !r.sent && reopen_store(app)) {
		req_reset_reply(&r);
		e = dispatch(app, &r, &route);
	}
	if (e == SUP_OK && !r.sent)
		e = http_send_json(&r, r.status, r.reply);
	else if (e != SUP_OK && !r.sent)
		send_failure(app, route, &r, e);
	if (app->store.env != NULL)
		event_origin(&app->store, NULL);
	req_free(&r);
	return e;
}

/*
 * After each request: reopen a store left by recovery, or keep it up; and
 * at most once an hour, trim one batch of the event log (event.h), so a
 * desk without cron keeps its log bounded too.
 */
static void
after_request(struct app *app, sup_err e)
{
	int64_t now;

	if (e == SUP_ERECOVER) {
		reopen_store(app);
		return;
	}
	store_maintain(&app->store);
	now = time_now_us();
	if (app->store.env != NULL && (now - app->trimmed_us > TRIM_EVERY_US ||
	    now < app->trimmed_us)) {
		app->trimmed_us = now;
		(void)event_trim(&app->store, app->conf.event_retention_days,
		    now, EVENT_TRIM_BATCH, NULL);
	}
}

/*
 * One request as the loop serves it, and the upkeep after it: the seam
 * for a caller that brings its own requests (the fuzz targets in
 * tests/fuzz/).  app's conf is loaded and its store open.
 */
sup_err
app_serve(struct app *app, char **envp, struct sup_io io)
{
	sup_err e = serve_one(app, envp, io);

	after_request(app, e);
	return e;
}

/* --- FastCGI --------------------------------------------------------- */

/* A FastCGI connection: libfcgi reads the request, fcgiout answers it. */
struct conn {
	FCGX_Request req;
	struct fcgiout out;
};

/*
 * Read the body.  A worker waits for it body_timeout_s at most, counted
 * from the first read: the shipped configurations have the web server
 * read each body whole before it passes the request on, so the wait is
 * none, but a server that passes a body on as it comes (nginx with
 * fastcgi_request_buffering off, say) would let a client that stalls
 * hold this worker until request_timeout_s.  When the time is up, on_tick
 * shuts the connection's reading side; the read ends short, and the
 * request is answered 408 (SUP_IO_TIMEOUT).  The answer can still be
 * written: only the reading side is shut.
 */
static int
fcgi_read(void *ctx, char *buf, int n)
{
	struct conn *c = ctx;
	int got;

	/* +1: the first tick may come at once; the wait is at least the limit. */
	if (body_until == 0)
		body_until = watch_seconds + body_limit + 1;
	body_fd = c->req.ipcFd;
	got = FCGX_GetStr(buf, n, c->req.in);
	body_fd = -1;
	if (!body_expired)
		return got;
	/* Its reading side is shut: no further request on this connection. */
	c->req.keepConnection = 0;
	/* libfcgi takes the shut side for a broken stream, not its end. */
	return got > 0 || FCGX_GetError(c->req.in) == 0 ? got :
	    SUP_IO_TIMEOUT;
}

static int
fcgi_write(void *ctx, const char *buf, int n)
{
	return fcgiout_write(&((struct conn *)ctx)->out, buf, n);
}

static void
on_stop(int sig SUP_UNUSED)
{
	stopping = 1;
	FCGX_ShutdownPending();
}

/*
 * The watchdog's tick, once a second while a request runs.  A wait for a
 * body past its time (fcgi_read) is ended by shutting the reading side of
 * the connection: the read, restarted after this handler, returns at once
 * (libfcgi takes that as the end of its input).  A request
 * still running after request_timeout_s, or after STRANDED_S seconds in
 * a store that another process has recovered meanwhile, is stuck: it
 * waits for a lock in the discarded environment, where nothing will ever
 * wake it (docs/store.md).  SIGALRM then ends this process as its default
 * action, and its supervisor (or the web server) starts another.  Only
 * async-signal-safe calls here.
 */
static void
on_tick(int sig SUP_UNUSED)
{
	struct sigaction sa;
	int s = ++watch_seconds, saved = errno;

	if (body_fd >= 0 && body_until > 0 && s >= body_until &&
	    !body_expired) {
		body_expired = 1;
		shutdown(body_fd, SHUT_RD);
	}
	errno = saved;
	if (s < watch_limit && (s < STRANDED_S || watch_store == NULL ||
	    !store_abandoned(watch_store)))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGALRM, &sa, NULL);
	raise(SIGALRM);		/* delivered when this handler returns */
}

/*
 * The signals a program handles: a request to stop, and the watchdog's
 * tick (installed once: on_tick puts the default back only to end the
 * process).
 */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;	/* no SA_RESTART: accept() returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);	/* mod_fcgid asks this way */
	sa.sa_handler = on_tick;
	sa.sa_flags = SA_RESTART;	/* reads and writes carry on */
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Start the watchdog of one request (see on_tick).  stranded: also end a
 * request stranded by another process's recovery.  Plain CGI passes
 * false: a CGI process lives for one request, and ending it while it is
 * registered in the environment makes the next opener recover again,
 * failing the requests of the other CGI processes in flight (seen under
 * Apache's mod_cgi with 16 clients: 500s in every run, none without).
 */
static void
watch_start(struct app *app, bool stranded)
{
	struct itimerval tick = { { 1, 0 }, { 1, 0 } };

	watch_seconds = 0;
	watch_limit = app->conf.request_timeout_s;
	body_until = 0;
	body_expired = 0;
	body_limit = app->conf.body_timeout_s;
	watch_store = stranded ? &app->store : NULL;
	setitimer(ITIMER_REAL, &tick, NULL);
}

/* Stop it after the request and its upkeep. */
static void
watch_stop(void)
{
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_REAL, &off, NULL);
}

static int
open_store(struct app *app)
{
	if (store_open(&app->store, &app->conf, desk_areas) == SUP_OK)
		return 0;
	fprintf(stderr, "%s: cannot open the store in %s\n", app->name,
	    app->conf.data_dir);
	return -1;
}

/*
 * Give up what serving requests does not need (lib/base/confine.h,
 * docs/security.md), once the store is open.  A FastCGI worker parses all
 * of its templates first; a CGI process (cgi) reads its one template
 * later, and says nothing of what the kernel lacks (it would say it at
 * every request).  -1 when confinement was asked for and could not be
 * had: the process must not serve then.
 */
static int
confine(struct app *app, bool cgi)
{
	if (!cgi)
		page_preload(&app->page);
	app->have_rate_key = ratelink_key_load(&app->conf, app->rate_key) ==
	    SUP_OK;
	if (confine_worker(&app->conf, cgi) == SUP_OK)
		return 0;
	fprintf(stderr, "%s: cannot confine this process (confine = no in "
	    "support.conf runs it unconfined)\n", app->name);
	return -1;
}

/*
 * Has a request without a body been read to its end?  nginx and Apache
 * send a bodyless request's empty body record with its parameters; it is
 * read now (from libfcgi's buffer, or from the socket, where the server
 * has put it already).  Then
 * libfcgi need not close the connection its careful way, which shuts down
 * the sending side and waits for the server to hang up first (so that
 * unread input cannot make the kernel reset the connection under the
 * answer): with nothing unread a plain close is as safe, and the worker
 * takes the next request without waiting for the server.  A request with
 * a body (read or refused) is closed the careful way.
 */
static bool
bodyless_read(FCGX_Request *req)
{
	const char *len = FCGX_GetParam("CONTENT_LENGTH", req->envp);
	char c;

	if ((len != NULL && *len != '\0' && strcmp(len, "0") != 0) ||
	    FCGX_GetParam("HTTP_TRANSFER_ENCODING", req->envp) != NULL)
		return false;
	return FCGX_GetStr(&c, 1, req->in) == 0 &&
	    FCGX_HasSeenEOF(req->in) == EOF && FCGX_GetError(req->in) == 0;
}

/*
 * Serve FastCGI requests from listening socket fd until told to stop.
 * A stop asked for (SIGTERM, SIGINT, SIGUSR1) while a request is served
 * waits until it has been answered: the signal would otherwise cut a read
 * of its body short (libfcgi gives up on EINTR) and turn it into a 400.
 * So those signals are blocked from the accept to the end of the answer;
 * one that came meanwhile is delivered then, and the loop ends.
 */
static int
serve_fcgi(struct app *app, int fd)
{
	struct conn *c;
	sigset_t stops, was;

	if ((c = malloc(sizeof(*c))) == NULL)
		return 1;
	if (open_store(app) != 0 ||
	    FCGX_InitRequest(&c->req, fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0 ||
	    confine(app, false) != 0) {
		store_close(&app->store);
		page_env_close(&app->page);
		free(c);
		return 1;
	}
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGUSR1);
	while (!stopping && FCGX_Accept_r(&c->req) >= 0) {
		struct sup_io io = { fcgi_read, fcgi_write, c };
		bool drop;

		sigprocmask(SIG_BLOCK, &stops, &was);
		watch_start(app, true);
		fcgiout_begin(&c->out, c->req.ipcFd, c->req.requestId);
		sup_err e = serve_one(app, c->req.envp, io);
		if (bodyless_read(&c->req))
			FCGX_Detach(&c->req);
		/*
		 * The answer went out through fcgiout, end records and all;
		 * libfcgi's own output streams, which wrote nothing, are
		 * freed without their end records (FCGX_Finish_r would
		 * write them).  The connection is closed as FCGX_Finish_r
		 * would close it.
		 */
		drop = fcgiout_end(&c->out, 0) != 0 ||
		    !c->req.keepConnection || FCGX_GetError(c->req.in) != 0;
		FCGX_Free(&c->req, drop);
		after_request(app, e);
		watch_stop();
		sigprocmask(SIG_SETMASK, &was, NULL);
	}
	FCGX_Free(&c->req, 1);
	free(c);
	store_close(&app->store);
	page_env_close(&app->page);
	return 0;
}

/* --- Plain CGI ------------------------------------------------------- */

static int
cgi_read(void *ctx SUP_UNUSED, char *buf, int n)
{
	ssize_t got;

	do
		got = read(STDIN_FILENO, buf, (size_t)n);
	while (got < 0 && errno == EINTR);
	return (int)got;
}

static int
cgi_write(void *ctx SUP_UNUSED, const char *buf, int n)
{
	return fwrite(buf, 1, (size_t)n, stdout) == (size_t)n ? n : -1;
}

/* The answer of a CGI process that cannot serve as configured. */
static void
cgi_misconfigured(void)
{
	printf("Status: 500 Internal Server Error\r\n"
	    "Content-Type: application/json\r\n\r\n"
	    "{\"error\":{\"code\":\"internal_error\","
	    "\"message\":\"The server is misconfigured.\"}}\n");
}

/*
 * One request from the environment.  After the answer, the same upkeep as
 * after a FastCGI request: every process that opens the store writes log
 * records (opening and closing each database is logged), and without a
 * checkpoint now and then a desk served only as CGI would keep all of its
 * log for ever and replay all of it after a crash.  store_maintain
 * checkpoints only once 1 MB of log or a minute has gone by, so most
 * requests skip it.  stdout stays open until the store is closed: Apache's
 * mod_cgi ends a program still running once its output has ended (SIGTERM,
 * then SIGKILL), and one killed while it holds the store makes the next
 * opener run recovery, which fails every other process's request.
 */
static int
serve_cgi(struct app *app)
{
	struct sup_io io = { cgi_read, cgi_write, NULL };
	struct wake wake;

	watch_start(app, false);
	/* Before confinement, which forbids starting a program (wake.h). */
	wake_prepare(&wake, &app->conf, getenv("REQUEST_METHOD"));
	open_store(app);
	if (confine(app, true) != 0) {
		wake_finish(&wake, false);
		store_close(&app->store);
		cgi_misconfigured();
		return 1;
	}
	serve_one(app, environ, io);
	fflush(stdout);
	store_maintain(&app->store);
	store_close(&app->store);
	page_env_close(&app->page);
	/* The answer is complete: mail this request queued goes out now. */
	wake_finish(&wake, outbox_woken());
	return 0;
}

/* --- Self-listening: a parent and its workers ------------------------ */

static pid_t
spawn(struct app *app, int fd)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
#ifdef __linux__
		/* Workers do not outlive a supervisor killed with -9. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
#endif
		_exit(serve_fcgi(app, fd));
	}
	return pid;
}

/*
 * Keep n workers serving fd.  A worker that dies is replaced, at most one
 * a second, so a worker that cannot start does not spin.
 */
static int
supervise(struct app *app, int fd, int n)
{
	pid_t *kids = calloc((size_t)n, sizeof(*kids));
	time_t last_spawn = 0;

	if (kids == NULL)
		return 1;
	for (int i = 0; i < n; i++)
		kids[i] = spawn(app, fd);
	while (!stopping) {
		int status;
		pid_t pid = wait(&status);
		if (pid < 0)
			continue;
		if (WIFSIGNALED(status) && !stopping)
			fprintf(stderr, "%s: worker %d ended by signal %d; "
			    "starting another\n", app->name, (int)pid,
			    WTERMSIG(status));
		for (int i = 0; i < n; i++)
			if (kids[i] == pid) {
				if (time(NULL) - last_spawn < 1)
					sleep(1);
				if (stopping)
					break;
				last_spawn = time(NULL);
				kids[i] = spawn(app, fd);
			}
	}
	for (int i = 0; i < n; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	free(kids);
	return 0;
}

static void
usage(const char *name)
{
	fprintf(stderr, "usage: %s [--conf FILE] [--listen unix:PATH | "
	    "HOST:PORT [--children N]]\n"
	    "       %s --routes\n"
	    "Without --listen it serves FastCGI on fd 0 when started by a "
	    "FastCGI manager,\nand one plain CGI request otherwise.  "
	    "--routes prints the routes and the fields\neach one takes, as "
	    "JSON.\n", name, name);
}

/* One declared field as JSON (for --routes); NULL when out of memory. */
static json_object *
field_json(const struct field *f)
{
	static const char *const types[] = {
		[F_STRING] = "string", [F_TEXT] = "text", [F_BOOL] = "bool",
		[F_INT] = "int", [F_ENUM] = "enum", [F_TIME] = "time",
		[F_UUIDS] = "uuids",
	};
	json_object *o = json_object_new_object(), *choices;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string(f->name));
	json_object_object_add(o, "type", json_object_new_string(
	    types[f->type]));
	json_object_object_add(o, "required", json_object_new_boolean(
	    (f->flags & FIELD_REQUIRED) != 0));
	json_object_object_add(o, "nullable", json_object_new_boolean(
	    (f->flags & FIELD_NULLABLE) != 0));
	json_object_object_add(o, "raw", json_object_new_boolean(
	    (f->flags & FIELD_RAW) != 0));
	json_object_object_add(o, "min", json_object_new_int64(f->min));
	json_object_object_add(o, "max", json_object_new_int64(f->max));
	if (f->alias != NULL)
		json_object_object_add(o, "alias", json_object_new_string(
		    f->alias));
	if (f->choices != NULL) {
		choices = json_object_new_array();
		for (size_t i = 0; choices != NULL && f->choices[i] != NULL;
		    i++)
			json_object_array_add(choices, json_object_new_string(
			    f->choices[i]));
		json_object_object_add(o, "choices", choices);
	}
	return o;
}

/*
 * --routes: every route of the program, with its flags and the fields its
 * body or query takes, as one JSON array on stdout (the field-limit test,
 * tests/http/test_limits.py, is generated from it).  0, or 1 when out of
 * memory.
 */
static int
print_routes(const struct route *routes, size_t n)
{
	static const struct { unsigned flag; const char *name; } flags[] = {
		{ ROUTE_LOGIN, "login" }, { ROUTE_STAFF, "staff" },
		{ ROUTE_BODY, "body" }, { ROUTE_QUERY, "query" },
		{ ROUTE_ANON_CSRF, "anon_csrf" }, { ROUTE_PAGE, "page" },
		{ ROUTE_ADMIN, "admin" }, { ROUTE_SIGNED, "signed" },
	};
	json_object *all = json_object_new_array(), *o, *fl, *fields;
	int rc = 1;

	for (size_t i = 0; all != NULL && i < n; i++) {
		if ((o = json_object_new_object()) == NULL ||
		    json_object_array_add(all, o) != 0 ||
		    (fl = json_object_new_array()) == NULL ||
		    (fields = json_object_new_array()) == NULL)
			goto out;
		json_object_object_add(o, "method", json_object_new_string(
		    routes[i].method));
		json_object_object_add(o, "pattern", json_object_new_string(
		    routes[i].pattern));
		json_object_object_add(o, "flags", fl);
		json_object_object_add(o, "fields", fields);
		for (size_t k = 0; k < SUP_NELEM(flags); k++)
			if (routes[i].flags & flags[k].flag)
				json_object_array_add(fl,
				    json_object_new_string(flags[k].name));
		for (size_t k = 0; k < routes[i].nfields; k++)
			if (json_object_array_add(fields,
			    field_json(&routes[i].fields[k])) != 0)
				goto out;
	}
	if (all != NULL && puts(json_object_to_json_string_ext(all,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) >= 0)
		rc = 0;
out:
	json_object_put(all);
	return rc;
}

/* The caller's public User object, with the e-mail: the pages' "me". */
json_object *
app_me(const struct sup_user *caller)
{
	return user_public(caller->rec, true);
}

int
app_main(int argc, char **argv, const char *name, const struct route *routes,
    size_t nroutes)
{
	static const struct option opts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "children", required_argument, NULL, 'n' },
		{ "routes", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct app app = { .name = name, .routes = routes, .nroutes = nroutes };
	const char *conf_file = NULL, *listen_addr = NULL;
	long children = 2;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:l:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf_file = optarg;
			break;
		case 'l':
			listen_addr = optarg;
			break;
		case 'n':
			if (!parse_long(optarg, 1, 256, &children)) {
				fprintf(stderr, "%s: --children takes 1 to "
				    "256\n", name);
				return 2;
			}
			break;
		case 'r':
			return print_routes(routes, nroutes);
		default:
			usage(name);
			return c == 'h' ? 0 : 2;
		}
	}
	if (conf_load(&app.conf, conf_path(conf_file)) != SUP_OK) {
		fprintf(stderr, "%s: %s\n", name, app.conf.errmsg);
		/* A CGI client still gets a readable answer. */
		if (listen_addr == NULL && FCGX_IsCGI())
			cgi_misconfigured();
		conf_free(&app.conf);
		return 1;
	}
	app.page.conf = &app.conf;
	app.page.me = app_me;
	if (sodium_init() < 0 || FCGX_Init() != 0)
		return 1;
	catch_signals();
	if (listen_addr != NULL) {
		const char *addr = strncmp(listen_addr, "unix:", 5) == 0 ?
		    listen_addr + 5 : listen_addr;
		if (addr != listen_addr)
			unlink(addr);
		int fd = FCGX_OpenSocket(addr, 128);
		if (fd < 0) {
			fprintf(stderr, "%s: cannot listen on %s\n", name,
			    listen_addr);
			return 1;
		}
		/*
		 * The web server's user must reach the socket, and no other
		 * local user: a FastCGI client can say who REMOTE_USER is.
		 * Read and write for the program's user and group; the web
		 * server's user joins that group (docs/install.md).
		 */
		if (addr != listen_addr && chmod(addr, 0660) != 0) {
			fprintf(stderr, "%s: cannot set the mode of %s\n", name,
			    addr);
			unlink(addr);
			return 1;
		}
		rc = supervise(&app, fd, (int)children);
		if (addr != listen_addr)
			unlink(addr);
	} else if (!FCGX_IsCGI())
		rc = serve_fcgi(&app, 0);
	else
		rc = serve_cgi(&app);
	conf_free(&app.conf);
	return rc;
}
