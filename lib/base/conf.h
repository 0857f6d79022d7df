/*
 * conf.h - support.conf, an INI file read with libinih.
 */
#ifndef SUP_CONF_H
#define SUP_CONF_H

#include <stdbool.h>

#include "sup.h"

/*
 * The installed layout, compiled in from ./configure's directories
 * (Makefile.am); these fallbacks only serve a build outside it.
 */
#ifndef SUPPORT_CONF_DEFAULT
#define SUPPORT_CONF_DEFAULT "/etc/support/support.conf"
#endif
#ifndef SUPPORT_DATA_DIR_DEFAULT
#define SUPPORT_DATA_DIR_DEFAULT "/var/lib/support"
#endif
#ifndef SUPPORT_TEMPLATES_DIR_DEFAULT
#define SUPPORT_TEMPLATES_DIR_DEFAULT "/usr/share/support/templates"
#endif
/* Where make install put htdocs/: the web server serves it, not the programs. */
/* Where make install put support-worker (plain CGI starts it). */
#ifndef SUPPORT_WORKER_DEFAULT
#define SUPPORT_WORKER_DEFAULT "/usr/sbin/support-worker"
#endif
#ifndef SUPPORT_HTDOCS_DIR_DEFAULT
#define SUPPORT_HTDOCS_DIR_DEFAULT "/usr/share/support/htdocs"
#endif

#define URL_PREFIX_MAX 200		/* bytes of url_prefix */
/* attachment_types' default: every type lib/web/ftype.h may allow. */
#define CONF_FILE_TYPES "png jpeg gif webp pdf text zip"

/* Who gets a ticket a customer opens (auto_assign; lib/desk/ticket.c). */
enum conf_assign {
	ASSIGN_NO,			/* nobody: staff assign by hand */
	ASSIGN_ROUND_ROBIN,		/* the next available agent in turn */
	ASSIGN_LEAST_OPEN		/* the one with the fewest open */
};

/*
 * A webhook out subscription: a [webhook.NAME] section (docs/webhooks.md).
 * conf_load checks its form (name, url, secret or secret_file, events as a
 * list of names); lib/desk/webout.c checks the event names against the
 * log's types and reads secret_file.
 */
#define CONF_WEBHOOK_NAME_MAX 40	/* bytes of NAME: [a-z0-9_-] */
#define CONF_WEBHOOK_MAX 32		/* sections, at most */
#define CONF_WEBHOOK_URL_MAX 1000	/* bytes of a url */
#define CONF_WEBHOOK_SECRET_MIN 16	/* bytes of a secret, at least */
struct conf_webhook {
	char *name;			/* NAME */
	char *url;			/* http:// or https:// */
	char *events;			/* "ticket.created, ..." or "*" */
	char *secret;			/* "" when secret_file is set */
	char *secret_file;		/* "" when secret is set */
	bool enabled;			/* default yes */
};

struct sup_conf {
	char *data_dir;			/* Berkeley DB environment */
	bool durable;			/* fsync every commit (durability = sync) */
	long cache_kb;			/* BDB cache size */
	long lock_timeout_ms;		/* a lock wait longer than this fails */
	long request_timeout_s;		/* a request running longer is ended */
	long body_timeout_s;		/* a worker waits this long for a body */
	long max_body_bytes;		/* request bodies over this get 413 */
	long max_tickets_per_user;	/* tickets not resolved or closed */
	long ticket_retention_days;
	long event_retention_days;	/* the change-event log (event.h) */
	bool enable_chat;
	bool enable_file_uploads;
	long max_attachment_bytes;	/* one file (docs/attachments.md) */
	long max_attachments_per_message;
	char *attachment_types;		/* the allow-list (ftype.h's names) */
	char *attachment_sendfile;	/* no, x-accel-redirect, x-sendfile */
	char *attachment_accel_prefix;	/* nginx's internal location */
	enum conf_assign auto_assign;
	bool trust_remote_user;
	bool allow_registration;	/* POST /api/support/users/ */
	long session_idle_s;		/* a session unused this long ends */
	long session_max_s;		/* a session this old ends anyway */
	long login_fails_account;	/* failed logins per account ... */
	long login_fails_address;	/* ... and per client address ... */
	long login_window_s;		/* ... in this window: then 429 */
	char *support_email;		/* From of the desk's mail (docs/mail.md) */
	char *support_team_emails;	/* the team's addresses, comma-separated */
	long outbox_retry_hours;	/* a delivery is retried this long */
	char *smtp_url;			/* smtp://host[:port], smtps://... */
	bool smtp_starttls;		/* smtp://: STARTTLS required */
	char *smtp_user;		/* AUTH, with ... */
	char *smtp_password_file;	/* ... the password in this file */
	char *smtp_ca_file;		/* CA bundle for the server's certificate */
	char *sendmail_path;		/* else a sendmail-compatible pipe */
	char *base_url;			/* the desk's public URL, for links */
	char *worker_path;		/* support-worker, for plain CGI */
	/* [notifications]: which mails the desk sends. */
	bool notify_ticket_created;	/* to the team */
	bool notify_admin_response;	/* a staff reply, to the customer */
	bool notify_ticket_updated;	/* a status change */
	bool notify_ticket_resolved;	/* to the customer */
	bool notify_escalation_alerts;	/* to the team (reminders) */
	char *url_prefix;		/* stripped from paths before routing:
					 * "" or "/path", URL_PREFIX_MAX bytes */
	char *templates_dir;		/* HTML and e-mail templates */
	bool confine;			/* workers confine themselves */
	char *webhook_secret;		/* signs webhooks in; "": they are
					 * off (docs/api.md "Webhook") */
	/* Mail in (docs/mailin.md) and the reply token (replytoken.h). */
	char *secret_file;		/* the desk's secret: "" not set */
	long reply_token_days;		/* a reply address lasts this long */
	long mail_max_bytes;		/* support-mailin takes no larger mail */
	bool mail_create_users;		/* an unknown sender gets an account */
	long mail_max_per_sender_hour;	/* more from one sender: dropped */
	/* Reminders and escalation (docs/mail.md, "Reminders"); 0: off. */
	long reminder_days;		/* waiting for the customer this long */
	long escalation_hours;		/* waiting for staff this long */
	/* [webhook.NAME] sections, in the file's order (conf_webhook). */
	struct conf_webhook *webhooks;
	size_t nwebhooks;
	char errmsg[256];		/* why conf_load failed */
};

/*
 * Fill conf with defaults, then read path over them.  A missing file, an
 * unknown key or a bad value is SUP_ECONFIG with conf->errmsg saying where.
 * conf_free() releases the strings, on success or failure.
 */
sup_err conf_load(struct sup_conf *conf, const char *path);
void conf_free(struct sup_conf *conf);

/*
 * The settings in force, for an administrator to read: a new JSON array
 * (json_object_put) of {"name", "value", "default"}, one for every key
 * support.conf takes (durability and auto_assign first, then the others
 * in conf.c's order), value as in force and default as support.conf
 * leaves it: a bool, a number or a string (a path as a path).  A key
 * holding a secret (webhook_secret) shows only "set" or "not set"; a key
 * naming a file never shows what is in it.  NULL when out of memory.
 */
struct json_object;
struct json_object *conf_settings(const struct sup_conf *conf);

/* The subscription named name (n bytes), or NULL. */
const struct conf_webhook *conf_webhook_find(const struct sup_conf *conf,
    const char *name, size_t n);

/* The path to read: explicit, else $SUPPORT_CONF, else the compiled default. */
const char *conf_path(const char *explicit_path);

#endif
