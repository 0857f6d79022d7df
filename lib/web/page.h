/*
 * page.h - the HTML pages (docs/pages.md): the same objects the API
 * answers, rendered through templates/ with a few page fields added, the
 * shared context every page gets, the page headers, 303 redirects and
 * readable error pages.
 */
#ifndef SUP_PAGE_H
#define SUP_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "conf.h"
#include "req.h"
#include "sup.h"
#include "tmpl.h"

/*
 * The Content-Security-Policy of every page: scripts, styles and fetches
 * only from the desk itself, never inline; no frames, no <base>, forms
 * post only here.
 */
#define PAGE_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; connect-src 'self'; form-action 'self'; " \
	"base-uri 'none'; frame-ancestors 'none'"

#define PAGE_CTYPE "text/html; charset=utf-8"
#define PAGE_NEXT_MAX 2048		/* bytes of a next= path */
#define PAGE_TIME_STRLEN 20		/* "2026-11-23 10:04 UTC" */

/*
 * Per-process: the parsed templates and the configuration.  me gives the
 * caller's public User object for the pages' "me" (a new object, or NULL
 * when out of memory): accounts are the desk's (user_public), and the
 * program hands it in, so that the pages need not know how they are kept.
 */
struct page_env {
	const struct sup_conf *conf;
	struct tmpl_cache *cache;	/* opened on first use */
	json_object *(*me)(const struct sup_user *caller);
};

/* Release the template cache (the env can be used again after). */
void page_env_close(struct page_env *pe);

/*
 * Parse every template in templates_dir now, into the cache page_render
 * uses: a worker does this before it is confined (lib/base/confine.h), so that
 * what it renders later is already in memory.  A file counts when its
 * name could be a template's ([A-Za-z0-9_.-], no leading dot).  A template
 * that does not load is logged on stderr as page_render logs it and tried
 * again when a page asks for it.  SUP_ENOMEM; SUP_OK otherwise, even when
 * the directory cannot be read (logged: the pages then answer 500).
 */
sup_err page_preload(struct page_env *pe);

/*
 * Is next a place the log-in form may send the browser to: a local path
 * ("/" then anything but "/" or "\"), without control characters or
 * backslashes, at most PAGE_NEXT_MAX bytes?  Anything else (an absolute
 * URL, "//host", "/\host", "javascript:") is refused.
 */
bool page_next_ok(const char *next);

/*
 * The words for a ticket status as the reader sees it (staff and
 * customers wait for each other); the name itself when unknown.  Static.
 */
const char *page_status_label(const char *status, bool staff);

/*
 * The words for one ticket's status: page_status_label, except that
 * staff see an open ticket that has had a staff reply (answered: its
 * first_response_at is set, as a re-opened one has) as "Open", not "New".
 */
const char *page_ticket_status_label(const char *status, bool staff,
    bool answered);

/*
 * An API time ("2026-11-23T10:04:05.123456Z") as "2026-11-23 10:04 UTC"
 * into buf (at least PAGE_TIME_STRLEN + 1 bytes): what a reader without
 * JavaScript sees (support.js shows local time).  False when iso is not a
 * time; buf is then "".
 */
bool page_time_display(const char *iso, char *buf, size_t n);

/*
 * How long before now the time us was (both µs since the epoch), in
 * words, into buf (n bytes; 24 are enough): "just now" (under a minute,
 * or ahead of now), "5 min ago", "1 hour ago", "3 days ago", "4 months
 * ago", "2 years ago".  False when it does not fit (buf is then "").
 */
bool page_time_ago(int64_t us, int64_t now, char *buf, size_t n);

/*
 * The members every page computes for the API's text objects, when a
 * template asks for them (struct tmpl_extra; docs/pages.md): for any
 * object, <name>_at_display (a time in words, UTC), <name>_at_ago (how
 * long ago: page_time_ago) and status_label (in
 * the words of staff when *staff: page_ticket_status_label); for a
 * message, from_staff and sender_name; for a User, name and own_name (a
 * display name of its own, not empty nor its username).  pm holds what they need (set staff;
 * page_extra clears the rest) and must outlive the render.
 */
#define PAGE_SENDERS 4
struct page_members {
	bool staff;			/* the reader is staff */
	/* The last senders' texts and names (sender_name), round robin. */
	struct {
		struct jt text, name;
	} sender[PAGE_SENDERS];
	unsigned next;
	int64_t now;			/* _at_ago's clock; 0: not read yet */
};
struct tmpl_extra page_extra(struct page_members *pm);

/*
 * The shared context of a page: title, prefix (url_prefix), static (the
 * URL of htdocs/), me (the reader's public User) or anonymous: true,
 * is_staff, csrf_token and allow_registration.  The token is the session's;
 * a reader without a session cookie gets the csrftoken cookie's value, or
 * a new one set in that cookie (double submit, docs/security.md).  New
 * object (json_object_put), or NULL when out of memory.
 */
json_object *page_context(const struct page_env *pe, struct sup_req *r,
    const char *title);

/*
 * Render template name with ctx (the shared context plus the page's
 * fields) as an HTML response with status.  A template that is missing or
 * does not load is logged on stderr ("file:line: what") and answered with
 * the 500 page.  Marks r as sent.  SUP_EIO when the client is gone.
 */
sup_err page_render(struct page_env *pe, struct sup_req *r, int status,
    const char *name, json_object *ctx);

/*
 * Answer 303 See Other to url_prefix + path (path starts with "/" and is
 * used as given: escape it first).  SUP_ENOMEM, SUP_EIO.
 */
sup_err page_redirect(struct sup_req *r, const char *url_prefix,
    const char *path);

/*
 * Send a browser that needs a login to the log-in page, with next= the
 * page it asked for (for a GET; the list of tickets otherwise).
 */
sup_err page_login_redirect(struct sup_req *r, const char *url_prefix);

/*
 * The error page for e with status, in plain words (templates/error.html;
 * a built-in page when even that template cannot be had).
 */
sup_err page_error(struct page_env *pe, struct sup_req *r, int status,
    sup_err e);

/*
 * The chat page's ticket: the API's ticket (a text object, lib/text/jtext.h)
 * itself, with the page fields for the reader (staff or not) added as
 * members: can_reply, can_resolve, can_close, can_reopen, is_closed and
 * statuses (as page_ticket_list's, for scripts: the labels of the other
 * statuses).  The rest a template reads from the text, with page_extra's
 * members.  New reference (json_object_put); NULL when api_ticket is not
 * a text object or out of memory.
 */
json_object *page_ticket(json_object *api_ticket, bool staff);

/*
 * A list page of the API ({count, next, previous, results: a text object
 * holding the array}) for the page: the same members, "empty", and
 * "statuses": [{value, label, selected}] for the status filter (selected
 * is the filter in use, may be NULL).  New object; NULL when results is
 * not a text array or out of memory.
 */
json_object *page_ticket_list(json_object *api_page, bool staff,
    const char *selected);

/*
 * Render the chat page of api_ticket with status; form (may be NULL) is
 * what the reader typed in the reply box, shown again with r->err_fields
 * next to it after a refused reply.  changed (may be NULL) is the name of
 * the status the reader's status form just set: the page then says
 * "Status changed to <its label>" (ctx "changed": {"label"}); a name that
 * is not a status shows nothing.
 */
sup_err page_ticket_render(struct page_env *pe, struct sup_req *r,
    int status, json_object *api_ticket, json_object *form,
    const char *changed);

/*
 * page_ticket_render with more (may be NULL): an object whose members are
 * added to the page's context as they are (the staff's controls, side
 * panel and notices: cgi-bin/tpage.c), over any of the same name.  more
 * stays the caller's.
 */
sup_err page_ticket_render_more(struct page_env *pe, struct sup_req *r,
    int status, json_object *api_ticket, json_object *form,
    const char *changed, json_object *more);

/*
 * Copy the string members of a posted form into ctx as "form_<name>", so a
 * refused form is shown again with what was typed (never a password), and
 * r->err_fields as "fields" with r->err_msg (or the error's sentence) as
 * "error": {"message"}.  SUP_ENOMEM.
 */
sup_err page_form_errors(json_object *ctx, struct sup_req *r, sup_err e);

#endif
