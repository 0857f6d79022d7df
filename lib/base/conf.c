/*
 * conf.c - read support.conf.  Unknown keys are errors, so that a typo in a
 * setting is found at start-up rather than silently ignored.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>
#include <json-c/json.h>
#include <sodium.h>

#include "conf.h"
#include "util.h"

/*
 * K_PATH is a string that must be an absolute path: a relative one would
 * depend on the directory the web server starts a program in (under plain
 * CGI, its cgi-bin/), which differs from supportctl's.
 */
/*
 * K_SECRET is a string never shown: conf_settings() says only whether it
 * is set.
 */
enum kind { K_STR, K_PATH, K_BOOL, K_LONG, K_SECRET };

struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t off;
	long min, max;
};

#define O(f) offsetof(struct sup_conf, f)
static const struct key keys[] = {
	{ "support", "data_dir", K_PATH, O(data_dir), 0, 0 },
	{ "support", "cache_kb", K_LONG, O(cache_kb), 512, 4L << 20 },
	{ "support", "lock_timeout_ms", K_LONG, O(lock_timeout_ms), 10, 600000 },
	{ "support", "request_timeout_s", K_LONG, O(request_timeout_s), 1, 3600 },
	{ "support", "body_timeout_s", K_LONG, O(body_timeout_s), 1, 3600 },
	{ "support", "max_body_bytes", K_LONG, O(max_body_bytes), 1024, 1L << 30 },
	{ "support", "max_tickets_per_user", K_LONG, O(max_tickets_per_user), 0, 1000000 },
	{ "support", "ticket_retention_days", K_LONG, O(ticket_retention_days), 1, 100000 },
	{ "support", "event_retention_days", K_LONG, O(event_retention_days), 1, 100000 },
	{ "support", "enable_chat", K_BOOL, O(enable_chat), 0, 0 },
	{ "support", "enable_file_uploads", K_BOOL, O(enable_file_uploads), 0, 0 },
	{ "support", "max_attachment_bytes", K_LONG, O(max_attachment_bytes), 1, 1L << 30 },
	{ "support", "max_attachments_per_message", K_LONG, O(max_attachments_per_message), 1, 100 },
	{ "support", "attachment_types", K_STR, O(attachment_types), 0, 0 },
	{ "support", "attachment_sendfile", K_STR, O(attachment_sendfile), 0, 0 },
	{ "support", "attachment_accel_prefix", K_STR, O(attachment_accel_prefix), 0, 0 },
	{ "support", "trust_remote_user", K_BOOL, O(trust_remote_user), 0, 0 },
	{ "support", "allow_registration", K_BOOL, O(allow_registration), 0, 0 },
	{ "support", "session_idle_s", K_LONG, O(session_idle_s), 1, 10L * 365 * 86400 },
	{ "support", "session_max_s", K_LONG, O(session_max_s), 1, 10L * 365 * 86400 },
	{ "support", "login_fails_account", K_LONG, O(login_fails_account), 1, 1000000 },
	{ "support", "login_fails_address", K_LONG, O(login_fails_address), 1, 1000000 },
	{ "support", "login_window_s", K_LONG, O(login_window_s), 1, 86400 * 30 },
	{ "support", "support_email", K_STR, O(support_email), 0, 0 },
	{ "support", "url_prefix", K_STR, O(url_prefix), 0, 0 },
	{ "support", "templates_dir", K_PATH, O(templates_dir), 0, 0 },
	{ "support", "confine", K_BOOL, O(confine), 0, 0 },
	{ "support", "webhook_secret", K_SECRET, O(webhook_secret), 0, 0 },
	{ "support", "secret_file", K_PATH, O(secret_file), 0, 0 },
	{ "support", "reply_token_days", K_LONG, O(reply_token_days), 1, 3650 },
	{ "support", "reminder_days", K_LONG, O(reminder_days), 0, 3650 },
	{ "support", "escalation_hours", K_LONG, O(escalation_hours), 0, 24 * 3650 },
	{ "support", "mail_max_bytes", K_LONG, O(mail_max_bytes), 1024, 1L << 30 },
	{ "support", "mail_create_users", K_BOOL, O(mail_create_users), 0, 0 },
	{ "support", "mail_max_per_sender_hour", K_LONG, O(mail_max_per_sender_hour), 1, 1000000 },
	{ "support", "support_team_emails", K_STR, O(support_team_emails), 0, 0 },
	{ "support", "outbox_retry_hours", K_LONG, O(outbox_retry_hours), 1, 24 * 365 },
	{ "support", "smtp_url", K_STR, O(smtp_url), 0, 0 },
	{ "support", "smtp_starttls", K_BOOL, O(smtp_starttls), 0, 0 },
	{ "support", "smtp_user", K_STR, O(smtp_user), 0, 0 },
	{ "support", "smtp_password_file", K_PATH, O(smtp_password_file), 0, 0 },
	{ "support", "smtp_ca_file", K_PATH, O(smtp_ca_file), 0, 0 },
	{ "support", "sendmail_path", K_PATH, O(sendmail_path), 0, 0 },
	{ "support", "base_url", K_STR, O(base_url), 0, 0 },
	{ "support", "worker_path", K_PATH, O(worker_path), 0, 0 },
	{ "notifications", "ticket_created", K_BOOL, O(notify_ticket_created), 0, 0 },
	{ "notifications", "admin_response", K_BOOL, O(notify_admin_response), 0, 0 },
	{ "notifications", "ticket_updated", K_BOOL, O(notify_ticket_updated), 0, 0 },
	{ "notifications", "ticket_resolved", K_BOOL, O(notify_ticket_resolved), 0, 0 },
	{ "notifications", "escalation_alerts", K_BOOL, O(notify_escalation_alerts), 0, 0 },
};
#undef O

static int
parse_bool(const char *v, bool *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < SUP_NELEM(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/*
 * The keys of a [webhook.NAME] section (docs/webhooks.md), read by
 * webhook_value; they are described in support.conf(5) under WEBHOOKS
 * OUT (tests/unit/test_confdoc.sh reads this table).
 */
enum wkey { WK_URL, WK_EVENTS, WK_SECRET, WK_SECRET_FILE, WK_ENABLED };
static const struct {
	const char *name;
	enum wkey which;
} webhook_keys[] = {
	{ "url", WK_URL },
	{ "events", WK_EVENTS },
	{ "secret", WK_SECRET },
	{ "secret_file", WK_SECRET_FILE },
	{ "enabled", WK_ENABLED },
};

/* Is name a subscription's name: 1..CONF_WEBHOOK_NAME_MAX of [a-z0-9_-]? */
static bool
webhook_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CONF_WEBHOOK_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-')
			return false;
	return true;
}

/*
 * Is u a URL a webhook may be posted to: http:// or https://, a host,
 * at most CONF_WEBHOOK_URL_MAX bytes of printable ASCII without space,
 * quote, angle bracket or backslash?
 */
static bool
webhook_url_ok(const char *u)
{
	size_t n = strlen(u), skip;

	if (strncmp(u, "http://", 7) == 0)
		skip = 7;
	else if (strncmp(u, "https://", 8) == 0)
		skip = 8;
	else
		return false;
	if (n > CONF_WEBHOOK_URL_MAX || n == skip || u[skip] == '/' ||
	    u[skip] == ':')
		return false;
	for (size_t i = 0; i < n; i++)
		if (u[i] <= ' ' || u[i] >= 0x7f || strchr("\"<>\\", u[i]) !=
		    NULL)
			return false;
	return true;
}

/*
 * Is e a list of event names as events takes it: "*", or names of
 * [a-z_.] separated by commas (spaces around them allowed), at least one?
 * (The names themselves are checked against the log's by webout_open.)
 */
static bool
webhook_events_ok(const char *e)
{
	const char *p = e, *end;
	int names = 0;

	while (*p != '\0') {
		const char *a;
		size_t len;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		str_trim(p, (size_t)(end - p), &a, &len);
		if (len == 0)
			return false;
		if (!(len == 1 && a[0] == '*'))
			for (size_t i = 0; i < len; i++)
				if (!islower((unsigned char)a[i]) &&
				    a[i] != '_' && a[i] != '.')
					return false;
		names++;
		p = *end == ',' ? end + 1 : end;
	}
	return names > 0;
}

/*
 * The subscription named name, made (empty) when it is new; NULL with
 * conf->errmsg said when there are too many or out of memory.
 */
static struct conf_webhook *
webhook_section(struct sup_conf *conf, const char *name)
{
	struct conf_webhook *w;

	for (size_t i = 0; i < conf->nwebhooks; i++)
		if (strcmp(conf->webhooks[i].name, name) == 0)
			return &conf->webhooks[i];
	if (conf->nwebhooks == CONF_WEBHOOK_MAX) {
		snprintf(conf->errmsg, sizeof(conf->errmsg), "[webhook.%s]: "
		    "more than %d webhook sections", name, CONF_WEBHOOK_MAX);
		return NULL;
	}
	w = realloc(conf->webhooks, (conf->nwebhooks + 1) * sizeof(*w));
	if (w == NULL)
		goto nomem;
	conf->webhooks = w;
	w = &conf->webhooks[conf->nwebhooks];
	memset(w, 0, sizeof(*w));
	w->enabled = true;
	if ((w->name = strdup(name)) == NULL)
		goto nomem;
	conf->nwebhooks++;
	return w;
nomem:
	snprintf(conf->errmsg, sizeof(conf->errmsg), "out of memory");
	return NULL;
}

/*
 * inih's callback for a key of [webhook.NAME] (name: NAME): 1 to go on,
 * 0 with conf->errmsg saying which section, which key and why.
 */
static int
webhook_value(struct sup_conf *conf, const char *hook, const char *name,
    const char *value)
{
	struct conf_webhook *w;
	char **field = NULL;
	size_t i;

	if (!webhook_name_ok(hook)) {
		snprintf(conf->errmsg, sizeof(conf->errmsg), "[webhook.%.60s]: "
		    "the name after \"webhook.\" must be 1 to %d of a-z, 0-9, "
		    "_ and -", hook, CONF_WEBHOOK_NAME_MAX);
		return 0;
	}
	for (i = 0; i < SUP_NELEM(webhook_keys); i++)
		if (strcmp(webhook_keys[i].name, name) == 0)
			break;
	if (i == SUP_NELEM(webhook_keys)) {
		snprintf(conf->errmsg, sizeof(conf->errmsg), "[webhook.%s]: "
		    "unknown key %.60s (url, events, secret, secret_file, "
		    "enabled)", hook, name);
		return 0;
	}
	if ((w = webhook_section(conf, hook)) == NULL)
		return 0;
#define WFAIL(...) do { \
		int n_ = snprintf(conf->errmsg, sizeof(conf->errmsg), \
		    "[webhook.%s] %s: ", hook, name); \
		snprintf(conf->errmsg + n_, sizeof(conf->errmsg) - n_, \
		    __VA_ARGS__); \
		return 0; \
	} while (0)
	switch (webhook_keys[i].which) {
	case WK_URL:
		if (!webhook_url_ok(value))
			WFAIL("must be an http:// or https:// URL (at most %d "
			    "bytes, no spaces)", CONF_WEBHOOK_URL_MAX);
		field = &w->url;
		break;
	case WK_EVENTS:
		if (!webhook_events_ok(value))
			WFAIL("must be * or event names separated by commas "
			    "(ticket.created, message.posted, ...)");
		field = &w->events;
		break;
	case WK_SECRET:
		if (strlen(value) < CONF_WEBHOOK_SECRET_MIN)
			WFAIL("must be at least %d bytes",
			    CONF_WEBHOOK_SECRET_MIN);
		field = &w->secret;
		break;
	case WK_SECRET_FILE:
		if (value[0] != '/')
			WFAIL("must be an absolute path");
		field = &w->secret_file;
		break;
	case WK_ENABLED:
		if (parse_bool(value, &w->enabled) != 0)
			WFAIL("must be yes or no");
		return 1;
	}
	if (*field != NULL)
		WFAIL("given twice");
#undef WFAIL
	if ((*field = strdup(value)) == NULL) {
		snprintf(conf->errmsg, sizeof(conf->errmsg), "out of memory");
		return 0;
	}
	return 1;
}

/*
 * Why the webhook sections cannot be used, into why, or false when they
 * can: each has its url and events, and a secret or a secret_file (not
 * both).  Absent keys are set to "" on the way.  false also when out of
 * memory (said in why, returning true).
 */
static bool
webhooks_bad(struct sup_conf *c, char *why, size_t n)
{
	for (size_t i = 0; i < c->nwebhooks; i++) {
		struct conf_webhook *w = &c->webhooks[i];
		const char *missing = w->url == NULL ? "url" :
		    w->events == NULL ? "events" : NULL;
		if (missing != NULL) {
			snprintf(why, n, "[webhook.%s] %s: missing (a "
			    "subscription needs url, events and a secret)",
			    w->name, missing);
			return true;
		}
		if ((w->secret == NULL) == (w->secret_file == NULL)) {
			snprintf(why, n, "[webhook.%s] secret: give either "
			    "secret or secret_file, %s", w->name,
			    w->secret == NULL ? "one is missing" : "not both");
			return true;
		}
		if ((w->secret == NULL && (w->secret = strdup("")) == NULL) ||
		    (w->secret_file == NULL &&
		    (w->secret_file = strdup("")) == NULL)) {
			snprintf(why, n, "out of memory");
			return true;
		}
	}
	return false;
}

const struct conf_webhook *
conf_webhook_find(const struct sup_conf *conf, const char *name, size_t n)
{
	for (size_t i = 0; i < conf->nwebhooks; i++)
		if (strlen(conf->webhooks[i].name) == n &&
		    memcmp(conf->webhooks[i].name, name, n) == 0)
			return &conf->webhooks[i];
	return NULL;
}

/* inih callback: 1 to go on, 0 to stop with an error on this line. */
static int
on_value(void *user, const char *section, const char *name, const char *value)
{
	struct sup_conf *conf = user;
	char *field;

	/* "auto_assign" names its policy: no, round_robin, least_open. */
	if (strcmp(section, "support") == 0 &&
	    strcmp(name, "auto_assign") == 0) {
		if (strcmp(value, "no") == 0)
			conf->auto_assign = ASSIGN_NO;
		else if (strcmp(value, "round_robin") == 0)
			conf->auto_assign = ASSIGN_ROUND_ROBIN;
		else if (strcmp(value, "least_open") == 0)
			conf->auto_assign = ASSIGN_LEAST_OPEN;
		else {
			snprintf(conf->errmsg, sizeof(conf->errmsg),
			    "auto_assign must be no, round_robin or "
			    "least_open");
			return 0;
		}
		return 1;
	}
	/* "durability" maps onto a bool with names the admin reads. */
	if (strcmp(section, "support") == 0 && strcmp(name, "durability") == 0) {
		if (strcmp(value, "sync") == 0)
			conf->durable = true;
		else if (strcmp(value, "nosync") == 0)
			conf->durable = false;
		else {
			snprintf(conf->errmsg, sizeof(conf->errmsg),
			    "durability must be sync or nosync");
			return 0;
		}
		return 1;
	}
	if (strncmp(section, "webhook.", 8) == 0)
		return webhook_value(conf, section + 8, name, value);
	if (strcmp(section, "support") != 0 &&
	    strcmp(section, "notifications") != 0) {
		snprintf(conf->errmsg, sizeof(conf->errmsg), "%s%s%s: unknown "
		    "section (settings go under [support], the mails' "
		    "switches under [notifications], webhooks out under "
		    "[webhook.NAME])", *section ? "[" :
		    "", *section ? section : "no section", *section ? "]" : "");
		return 0;
	}
	for (size_t i = 0; i < SUP_NELEM(keys); i++) {
		const struct key *k = &keys[i];
		if (strcmp(k->name, name) != 0 ||
		    strcmp(k->section, section) != 0)
			continue;
		field = (char *)conf + k->off;
		switch (k->kind) {
		case K_PATH:
			if (value[0] != '/') {
				snprintf(conf->errmsg, sizeof(conf->errmsg),
				    "%s must be an absolute path", name);
				return 0;
			}
			/* FALLTHROUGH */
		case K_STR:
		case K_SECRET: {
			char *copy = strdup(value);
			if (copy == NULL) {
				snprintf(conf->errmsg, sizeof(conf->errmsg),
				    "out of memory");
				return 0;
			}
			free(*(char **)field);
			*(char **)field = copy;
			return 1;
		}
		case K_BOOL:
			if (parse_bool(value, (bool *)field) == 0)
				return 1;
			snprintf(conf->errmsg, sizeof(conf->errmsg),
			    "%s must be yes or no", name);
			return 0;
		case K_LONG:
			if (parse_long(value, k->min, k->max, (long *)field))
				return 1;
			snprintf(conf->errmsg, sizeof(conf->errmsg),
			    "%s must be a whole number from %ld to %ld",
			    name, k->min, k->max);
			return 0;
		}
	}
	snprintf(conf->errmsg, sizeof(conf->errmsg), "unknown key %s%s%s%s",
	    name, strcmp(section, "support") == 0 ? "" : " in [",
	    strcmp(section, "support") == 0 ? "" : section,
	    strcmp(section, "support") == 0 ? "" : "]");
	return 0;
}

static sup_err
set_default(char **field, const char *value)
{
	if ((*field = strdup(value)) == NULL)
		return SUP_ENOMEM;
	return SUP_OK;
}

/*
 * Is p a url_prefix the programs can use: "" or "/a/b", of path characters
 * only?  It goes into Location headers, cookie attributes and pages, so
 * nothing that would need escaping there is taken.
 */
static bool
url_prefix_ok(const char *p)
{
	size_t n = strlen(p);

	if (n == 0)
		return true;
	if (n > URL_PREFIX_MAX || p[0] != '/' || p[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && strchr("-._~/", p[i]) ==
		    NULL)
			return false;
	return true;
}

/*
 * Is s a list of the file types lib/web/ftype.c knows (CONF_FILE_TYPES,
 * and jpg), separated by spaces or commas?  ftype_parse_list reads it;
 * tests/unit/test_ftype.c checks that the two agree.
 */
static bool
file_types_ok(const char *s)
{
	static const char *const names[] = {
		"png", "jpeg", "jpg", "gif", "webp", "pdf", "text", "zip",
	};

	while (*s != '\0') {
		size_t n;
		bool known = false;

		s += strspn(s, " \t,");
		if ((n = strcspn(s, " \t,")) == 0)
			break;
		for (size_t i = 0; i < SUP_NELEM(names); i++)
			if (strlen(names[i]) == n &&
			    strncasecmp(names[i], s, n) == 0)
				known = true;
		if (!known)
			return false;
		s += n;
	}
	return true;
}

/*
 * Is a[0..n) a mail address the desk can put in a header and an SMTP
 * envelope: local@domain, printable ASCII without space, quote, comma,
 * angle brackets or a second @?
 */
static bool
address_ok(const char *a, size_t n)
{
	const char *at = memchr(a, '@', n);

	if (n == 0 || n > 254 || at == NULL || at == a || at == a + n - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (a[i] <= ' ' || a[i] >= 0x7f || strchr("\"(),:;<>[]\\", a[i])
		    != NULL || (a[i] == '@' && a + i != at))
			return false;
	return true;
}

/*
 * Why the mail keys cannot be used (a sentence into why), or false when
 * they can: support_email and each of support_team_emails an address,
 * smtp_url smtp:// or smtps://, base_url http:// or https://.
 */
static bool
mail_keys_bad(const struct sup_conf *c, char *why, size_t n)
{
	const char *p = c->support_team_emails, *end;

	if (c->support_email[0] != '\0' &&
	    !address_ok(c->support_email, strlen(c->support_email))) {
		snprintf(why, n, "support_email: not a mail address "
		    "(local@domain)");
		return true;
	}
	while (*p != '\0') {
		const char *a;
		size_t len;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		str_trim(p, (size_t)(end - p), &a, &len);
		if (!address_ok(a, len)) {
			snprintf(why, n, "support_team_emails: \"%.*s\" is not "
			    "a mail address", (int)(len > 80 ? 80 : len), a);
			return true;
		}
		p = *end == ',' ? end + 1 : end;
	}
	if (c->smtp_url[0] != '\0' && strncmp(c->smtp_url, "smtp://", 7) != 0 &&
	    strncmp(c->smtp_url, "smtps://", 8) != 0) {
		snprintf(why, n, "smtp_url: must start with smtp:// or "
		    "smtps://");
		return true;
	}
	if (c->base_url[0] != '\0' && ((strncmp(c->base_url, "http://", 7) !=
	    0 && strncmp(c->base_url, "https://", 8) != 0) ||
	    strpbrk(c->base_url, " \"<>\\") != NULL)) {
		snprintf(why, n, "base_url: must be an http:// or https:// URL");
		return true;
	}
	return false;
}

/* conf as support.conf leaves it when it sets nothing.  SUP_ENOMEM. */
static sup_err
conf_defaults(struct sup_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->durable = true;
	conf->cache_kb = 16384;
	conf->lock_timeout_ms = 5000;
	conf->request_timeout_s = 30;
	conf->body_timeout_s = 5;
	conf->max_body_bytes = 262144;
	conf->max_tickets_per_user = 10;
	conf->ticket_retention_days = 365;
	conf->event_retention_days = 90;
	conf->enable_chat = true;
	conf->enable_file_uploads = true;
	conf->max_attachment_bytes = 10L << 20;
	conf->max_attachments_per_message = 5;
	conf->auto_assign = ASSIGN_NO;
	conf->session_idle_s = 14 * 86400;
	conf->session_max_s = 30 * 86400;
	conf->login_fails_account = 5;
	conf->login_fails_address = 20;
	conf->login_window_s = 900;
	conf->confine = true;
	conf->reply_token_days = 90;
	conf->reminder_days = 3;
	conf->escalation_hours = 24;
	conf->mail_max_bytes = 10L << 20;
	conf->mail_create_users = false;
	conf->mail_max_per_sender_hour = 20;
	conf->outbox_retry_hours = 48;
	conf->smtp_starttls = true;
	conf->notify_ticket_created = conf->notify_admin_response = true;
	conf->notify_ticket_updated = conf->notify_ticket_resolved = true;
	conf->notify_escalation_alerts = true;
	if (set_default(&conf->data_dir, SUPPORT_DATA_DIR_DEFAULT) != SUP_OK ||
	    set_default(&conf->support_email, "") != SUP_OK ||
	    set_default(&conf->support_team_emails, "") != SUP_OK ||
	    set_default(&conf->smtp_url, "") != SUP_OK ||
	    set_default(&conf->smtp_user, "") != SUP_OK ||
	    set_default(&conf->smtp_password_file, "") != SUP_OK ||
	    set_default(&conf->smtp_ca_file, "") != SUP_OK ||
	    set_default(&conf->sendmail_path, "") != SUP_OK ||
	    set_default(&conf->base_url, "") != SUP_OK ||
	    set_default(&conf->worker_path, SUPPORT_WORKER_DEFAULT) != SUP_OK ||
	    set_default(&conf->url_prefix, "") != SUP_OK ||
	    set_default(&conf->webhook_secret, "") != SUP_OK ||
	    set_default(&conf->secret_file, "") != SUP_OK ||
	    set_default(&conf->attachment_types, CONF_FILE_TYPES) != SUP_OK ||
	    set_default(&conf->attachment_sendfile, "no") != SUP_OK ||
	    set_default(&conf->attachment_accel_prefix, "/support-files") !=
	    SUP_OK ||
	    set_default(&conf->templates_dir, SUPPORT_TEMPLATES_DIR_DEFAULT) !=
	    SUP_OK)
		return SUP_ENOMEM;
	return SUP_OK;
}

sup_err
conf_load(struct sup_conf *conf, const char *path)
{
	int rc;

	if (conf_defaults(conf) != SUP_OK)
		return SUP_ENOMEM;
	rc = ini_parse(path, on_value, conf);
	if (rc < 0) {
		snprintf(conf->errmsg, sizeof(conf->errmsg),
		    "%s: cannot be read", path);
		return SUP_ECONFIG;
	}
	if (rc == 0 && !url_prefix_ok(conf->url_prefix)) {
		snprintf(conf->errmsg, sizeof(conf->errmsg), "url_prefix: "
		    "must be empty or a path such as /desk (at most %d bytes "
		    "of letters, digits and -._~/), without a final /",
		    URL_PREFIX_MAX);
		return SUP_ECONFIG;
	}
	if (rc == 0 && !file_types_ok(conf->attachment_types)) {
		snprintf(conf->errmsg, sizeof(conf->errmsg), "attachment_types: "
		    "names from \"%s\" (jpg for jpeg too), separated by "
		    "spaces or commas; SVG and HTML are never taken",
		    CONF_FILE_TYPES);
		return SUP_ECONFIG;
	}
	if (rc == 0 && strcmp(conf->attachment_sendfile, "no") != 0 &&
	    strcmp(conf->attachment_sendfile, "x-accel-redirect") != 0 &&
	    strcmp(conf->attachment_sendfile, "x-sendfile") != 0) {
		snprintf(conf->errmsg, sizeof(conf->errmsg), "attachment_sendfile: "
		    "must be no, x-accel-redirect (nginx) or x-sendfile "
		    "(Apache's mod_xsendfile)");
		return SUP_ECONFIG;
	}
	if (rc == 0 && (!url_prefix_ok(conf->attachment_accel_prefix) ||
	    conf->attachment_accel_prefix[0] == '\0')) {
		snprintf(conf->errmsg, sizeof(conf->errmsg),
		    "attachment_accel_prefix: must be a path such as "
		    "/support-files, without a final /");
		return SUP_ECONFIG;
	}
	if (rc == 0 && mail_keys_bad(conf, conf->errmsg,
	    sizeof(conf->errmsg)))
		return SUP_ECONFIG;
	if (rc == 0 && webhooks_bad(conf, conf->errmsg, sizeof(conf->errmsg)))
		return SUP_ECONFIG;
	if (rc > 0) {
		char why[sizeof(conf->errmsg)], where[64];
		memcpy(why, conf->errmsg, sizeof(why));
		snprintf(where, sizeof(where), "line %d", rc);
		/* A long path may cut the message short; the line is kept. */
		snprintf(conf->errmsg, sizeof(conf->errmsg), "%s: %s: %.*s",
		    where, why[0] ? why : "syntax error", 160, path);
		return SUP_ECONFIG;
	}
	return SUP_OK;
}

void
conf_free(struct sup_conf *conf)
{
	free(conf->data_dir);
	free(conf->support_email);
	free(conf->url_prefix);
	free(conf->templates_dir);
	if (conf->webhook_secret != NULL) {
		sodium_memzero(conf->webhook_secret,
		    strlen(conf->webhook_secret));
		free(conf->webhook_secret);
	}
	free(conf->secret_file);
	free(conf->support_team_emails);
	free(conf->smtp_url);
	free(conf->smtp_user);
	free(conf->smtp_password_file);
	free(conf->smtp_ca_file);
	free(conf->sendmail_path);
	free(conf->base_url);
	free(conf->worker_path);
	free(conf->attachment_types);
	free(conf->attachment_sendfile);
	free(conf->attachment_accel_prefix);
	conf->attachment_types = conf->attachment_sendfile = NULL;
	conf->attachment_accel_prefix = NULL;
	conf->data_dir = conf->support_email = conf->url_prefix = NULL;
	conf->templates_dir = conf->webhook_secret = conf->secret_file = NULL;
	conf->support_team_emails = NULL;
	conf->smtp_url = conf->smtp_user = conf->smtp_password_file = NULL;
	conf->smtp_ca_file = conf->sendmail_path = conf->base_url = NULL;
	conf->worker_path = NULL;
	for (size_t i = 0; i < conf->nwebhooks; i++) {
		struct conf_webhook *w = &conf->webhooks[i];
		if (w->secret != NULL) {
			sodium_memzero(w->secret, strlen(w->secret));
			free(w->secret);
		}
		free(w->name);
		free(w->url);
		free(w->events);
		free(w->secret_file);
	}
	free(conf->webhooks);
	conf->webhooks = NULL;
	conf->nwebhooks = 0;
}

/* The names of auto_assign's policies, by enum conf_assign. */
static const char *const assign_names[] = {
	[ASSIGN_NO] = "no", [ASSIGN_ROUND_ROBIN] = "round_robin",
	[ASSIGN_LEAST_OPEN] = "least_open",
};

/* The value of key k in c as JSON: a new object, NULL when out of memory. */
static json_object *
key_value(const struct sup_conf *c, const struct key *k)
{
	const char *field = (const char *)c + k->off;
	const char *str;

	switch (k->kind) {
	case K_STR:
	case K_PATH:
		str = *(char *const *)(const void *)field;
		return json_object_new_string(str != NULL ? str : "");
	case K_SECRET:
		str = *(char *const *)(const void *)field;
		return json_object_new_string(str != NULL && *str != '\0' ?
		    "set" : "not set");
	case K_BOOL:
		return json_object_new_boolean(*(const bool *)(const void *)
		    field);
	case K_LONG:
		return json_object_new_int64(*(const long *)(const void *)
		    field);
	}
	return NULL;
}

/*
 * Add {"name", "value", "default"} to list.  value and dflt are taken
 * (NULL: out of memory, as is a failed addition).  false when out of
 * memory.
 */
static bool
add_setting(json_object *list, const char *name, json_object *value,
    json_object *dflt)
{
	json_object *o = json_object_new_object();

	if (o == NULL || value == NULL || dflt == NULL ||
	    json_object_array_add(list, o) != 0) {
		json_object_put(o);
		json_object_put(value);
		json_object_put(dflt);
		return false;
	}
	return json_set(o, "name", json_object_new_string(name)) &&
	    json_set(o, "value", value) && json_set(o, "default", dflt);
}

json_object *
conf_settings(const struct sup_conf *conf)
{
	struct sup_conf d;
	json_object *list = NULL;
	bool ok;

	if (conf_defaults(&d) != SUP_OK ||
	    (list = json_object_new_array()) == NULL)
		goto nomem;
	/* The two keys that name a choice, then the table's, in its order. */
	ok = add_setting(list, "durability", json_object_new_string(
	    conf->durable ? "sync" : "nosync"), json_object_new_string(
	    d.durable ? "sync" : "nosync")) &&
	    add_setting(list, "auto_assign", json_object_new_string(
	    assign_names[conf->auto_assign]), json_object_new_string(
	    assign_names[d.auto_assign]));
	for (size_t i = 0; ok && i < SUP_NELEM(keys); i++)
		ok = add_setting(list, keys[i].name, key_value(conf, &keys[i]),
		    key_value(&d, &keys[i]));
	if (!ok)
		goto nomem;
	conf_free(&d);
	return list;
nomem:
	conf_free(&d);
	json_object_put(list);
	return NULL;
}

const char *
conf_path(const char *explicit_path)
{
	const char *env;

	if (explicit_path != NULL)
		return explicit_path;
	if ((env = getenv("SUPPORT_CONF")) != NULL && *env != '\0')
		return env;
	return SUPPORT_CONF_DEFAULT;
}
