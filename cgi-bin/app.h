/*
 * app.h - what every program in cgi-bin/ shares: the per-process state,
 * the request loop (FastCGI, self-listening FastCGI, or plain CGI) and the
 * one place where a sup_err becomes an HTTP status.
 */
#ifndef SUP_APP_H
#define SUP_APP_H

#include "conf.h"
#include "page.h"
#include "replytoken.h"
#include "route.h"
#include "store.h"

/* Per-process state: lives as long as the process. */
struct app {
	const char *name;
	const struct route *routes;
	size_t nroutes;
	struct sup_conf conf;
	struct store store;		/* store.env is NULL while closed */
	struct page_env page;		/* the parsed templates */
	int64_t trimmed_us;		/* when it last trimmed the event log */
	/*
	 * The rating link's key (lib/desk/ratelink.h), read from
	 * secret_file before confinement, which may leave that file out of
	 * reach; have_rate_key false: no secret_file, no rating links.
	 */
	uint8_t rate_key[REPLY_KEY_LEN];
	bool have_rate_key;
};

/* Run the program: parse argv, then serve until told to stop. */
int app_main(int argc, char **argv, const char *name,
    const struct route *routes, size_t nroutes);

/*
 * Serve one request from envp (CGI variables) and io (body in, answer
 * out) through the whole path, then the store's upkeep: what the loop does
 * for each request.  For the fuzz targets; app->conf loaded, store open.
 */
sup_err app_serve(struct app *app, char **envp, struct sup_io io);

/*
 * The caller's public User object with the e-mail (the pages' "me", set
 * as page_env.me): a new object, or NULL when out of memory.
 */
json_object *app_me(const struct sup_user *caller);

/* The HTTP status for an error. */
int app_status(sup_err e);

/* Answer with r->reply (or nothing) and status: for handlers. */
sup_err app_reply(struct sup_req *r, int status, json_object *body);

#endif
