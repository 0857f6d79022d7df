/*
 * test_conf.c - support.conf (lib/base/conf.c): defaults, values, the errors
 * that stop a program at start-up, and which file is read.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "conf.h"
#include "sup.h"

#include "tap.h"

static char dir[64];

/* Write text as support.conf in the scratch directory and load it. */
static sup_err
load(struct sup_conf *c, const char *text)
{
	char path[4096];

	tap_write_file(path, sizeof(path), dir, "support.conf", text);
	return conf_load(c, path);
}

static void
test_defaults(void)
{
	struct sup_conf c;

	is_err(load(&c, "; nothing set\n[support]\n"), SUP_OK,
	    "an empty [support] section loads");
	is_str(c.data_dir, SUPPORT_DATA_DIR_DEFAULT,
	    "default data_dir: the configured store directory");
	is_str(c.templates_dir, SUPPORT_TEMPLATES_DIR_DEFAULT,
	    "default templates_dir: where make install puts templates/");
	ok(c.durable, "default durability is sync");
	is_int(c.cache_kb, 16384, "default cache_kb");
	is_int(c.lock_timeout_ms, 5000, "default lock_timeout_ms");
	is_int(c.request_timeout_s, 30, "default request_timeout_s");
	is_int(c.body_timeout_s, 5, "default body_timeout_s");
	is_int(c.max_body_bytes, 262144, "default max_body_bytes");
	is_int(c.max_tickets_per_user, 10, "default max_tickets_per_user");
	is_int(c.ticket_retention_days, 365, "default ticket_retention_days");
	ok(c.enable_chat && c.enable_file_uploads, "chat and uploads on");
	is_int(c.auto_assign, ASSIGN_NO, "auto_assign no");
	ok(!c.trust_remote_user, "trust_remote_user off");
	ok(c.confine, "confine on: workers are confined");
	is_str(c.support_email, "", "support_email empty");
	is_str(c.url_prefix, "", "url_prefix empty");
	conf_free(&c);
	ok(c.data_dir == NULL && c.url_prefix == NULL &&
	    c.templates_dir == NULL, "conf_free clears the strings");

	is_err(load(&c, ""), SUP_OK, "an empty file loads");
	is_int(c.max_body_bytes, 262144, "  with the defaults");
	conf_free(&c);
}

static void
test_values(void)
{
	struct sup_conf c;

	is_err(load(&c,
	    "[support]\n"
	    "data_dir = /srv/support/db\n"
	    "durability = nosync\n"
	    "cache_kb = 1024\n"
	    "lock_timeout_ms = 250\n"
	    "body_timeout_s = 2\n"
	    "max_body_bytes = 1024\n"
	    "max_tickets_per_user = 0\n"
	    "ticket_retention_days = 30\n"
	    "enable_chat = no\n"
	    "enable_file_uploads = false\n"
	    "auto_assign = round_robin\n"
	    "trust_remote_user = yes\n"
	    "support_email = help@example.com\n"
	    "url_prefix = /desk\n"
	    "templates_dir = /srv/support/templates\n"
	    "confine = no\n"), SUP_OK,
	    "every key set");
	is_str(c.data_dir, "/srv/support/db", "data_dir");
	ok(!c.durable, "durability = nosync");
	is_int(c.cache_kb, 1024, "cache_kb");
	is_int(c.lock_timeout_ms, 250, "lock_timeout_ms");
	is_int(c.body_timeout_s, 2, "body_timeout_s");
	is_int(c.max_body_bytes, 1024, "max_body_bytes at its minimum");
	is_int(c.max_tickets_per_user, 0, "max_tickets_per_user 0 (no limit)");
	is_int(c.ticket_retention_days, 30, "ticket_retention_days");
	ok(!c.enable_chat, "enable_chat = no");
	ok(!c.enable_file_uploads, "enable_file_uploads = false");
	is_int(c.auto_assign, ASSIGN_ROUND_ROBIN, "auto_assign = round_robin");
	ok(c.trust_remote_user, "trust_remote_user = yes");
	ok(!c.confine, "confine = no");
	is_str(c.support_email, "help@example.com", "support_email");
	is_str(c.url_prefix, "/desk", "url_prefix");
	is_str(c.templates_dir, "/srv/support/templates", "templates_dir");
	conf_free(&c);

	is_err(load(&c, "[support]\ndurability = nosync\ndurability = sync\n"
	    "enable_chat = off\nauto_assign = least_open\ntrust_remote_user = On\n"
	    "data_dir = /a\ndata_dir = /b\n"), SUP_OK,
	    "on/off/1, any case; keys given twice");
	ok(c.durable, "durability = sync, the last one wins");
	ok(!c.enable_chat && c.auto_assign == ASSIGN_LEAST_OPEN &&
	    c.trust_remote_user, "off, least_open, On");
	is_str(c.data_dir, "/b", "a string given twice: the last one");
	conf_free(&c);

	is_err(load(&c, "[support]\nmax_body_bytes = 1073741824\n"), SUP_OK,
	    "max_body_bytes at its maximum");
	conf_free(&c);

	is_err(load(&c, "[support]\nmax_tickets_per_user = 3\n"
	    "[suport]\ndata_dir = /elsewhere\n"), SUP_ECONFIG,
	    "a misspelt section is refused, not ignored");
	ok(strstr(c.errmsg, "[suport]") != NULL && strstr(c.errmsg, "line 4"),
	    "  naming it and its line (%s)", c.errmsg);
	conf_free(&c);
	is_err(load(&c, "data_dir = /elsewhere\n"), SUP_ECONFIG,
	    "a setting before any section is refused");
	conf_free(&c);
}

/* Loading text fails with ECONFIG and errmsg containing each of want. */
static void
refused(const char *text, const char *what, const char *want1,
    const char *want2)
{
	struct sup_conf c;
	sup_err e = load(&c, text);

	is_err(e, SUP_ECONFIG, "refused: %s", what);
	ok(strstr(c.errmsg, want1) != NULL &&
	    (want2 == NULL || strstr(c.errmsg, want2) != NULL),
	    "  errmsg says \"%s\"%s%s (it says \"%s\")", want1,
	    want2 ? " and " : "", want2 ? want2 : "", c.errmsg);
	conf_free(&c);
}

static void
test_errors(void)
{
	struct sup_conf c;
	char missing[4096];

	refused("[support]\ndata_dir = /x\n\nmax_tickets = 4\n",
	    "an unknown key", "line 4", "max_tickets");
	refused("[support]\nDATA_DIR = /x\n", "keys are case-sensitive",
	    "line 2", "DATA_DIR");
	refused("[support]\nmax_body_bytes = 1023\n",
	    "max_body_bytes below 1024", "line 2", "max_body_bytes");
	refused("[support]\nmax_body_bytes = 1073741825\n",
	    "max_body_bytes above 1 GiB", "line 2", "max_body_bytes");
	refused("[support]\n\ncache_kb = lots\n", "a number that is not",
	    "line 3", "cache_kb");
	refused("[support]\nlock_timeout_ms = -5\n", "a negative timeout",
	    "line 2", "lock_timeout_ms");
	refused("[support]\nbody_timeout_s = 0\n", "body_timeout_s of 0",
	    "line 2", "body_timeout_s");
	refused("[support]\nmax_tickets_per_user = 5 tickets\n",
	    "junk after a number", "line 2", "max_tickets_per_user");
	refused("[support]\nenable_chat = maybe\n", "a bool that is not",
	    "line 2", "enable_chat");
	refused("[support]\ntrust_remote_user =\n", "an empty bool",
	    "line 2", "trust_remote_user");
	refused("[support]\nauto_assign = yes\n", "auto_assign = yes (no "
	    "longer a bool)", "line 2",
	    "auto_assign must be no, round_robin or least_open");
	refused("[support]\nauto_assign = Round_Robin\n",
	    "auto_assign in another case", "line 2", "auto_assign");
	refused("[support]\ndurability = fast\n", "durability not sync/nosync",
	    "line 2", "durability");
	refused("[support]\ndata_dir = var/data\n", "a relative data_dir",
	    "line 2", "data_dir must be an absolute path");
	refused("[support]\ndata_dir =\n", "an empty data_dir", "line 2",
	    "data_dir");
	refused("[support]\n\ntemplates_dir = templates\n",
	    "a relative templates_dir", "line 3",
	    "templates_dir must be an absolute path");
	refused("[support]\nthis line is not INI\n", "a syntax error",
	    "line 2", NULL);

	snprintf(missing, sizeof(missing), "%s/no-such.conf", dir);
	is_err(conf_load(&c, missing), SUP_ECONFIG, "a missing file");
	ok(strstr(c.errmsg, "no-such.conf") != NULL,
	    "  errmsg names the file (%s)", c.errmsg);
	conf_free(&c);
}

/* The layout configure chose is what the library was built with. */
/* The value of setting name in conf_settings()'s list, or NULL. */
static const char *
setting(json_object *list, const char *name)
{
	json_object *o, *v;

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		o = json_object_array_get_idx(list, i);
		if (json_object_object_get_ex(o, "name", &v) &&
		    strcmp(json_object_get_string(v), name) == 0 &&
		    json_object_object_get_ex(o, "value", &v))
			return json_object_get_string(v);
	}
	return NULL;
}

/* webhook_secret: read, and never shown by conf_settings. */
static void
test_secret(void)
{
	struct sup_conf c;
	json_object *list;
	const char *text;

	is_err(load(&c, "[support]\n"), SUP_OK, "no webhook_secret");
	is_str(c.webhook_secret, "", "  webhook_secret empty: webhooks off");
	list = conf_settings(&c);
	ok(list != NULL, "  settings");
	is_str(setting(list, "webhook_secret"), "not set",
	    "  the settings say \"not set\"");
	json_object_put(list);
	conf_free(&c);

	is_err(load(&c, "[support]\nwebhook_secret = s3cr3t-value-xyz\n"),
	    SUP_OK, "webhook_secret set");
	is_str(c.webhook_secret, "s3cr3t-value-xyz", "  read");
	list = conf_settings(&c);
	ok(list != NULL, "  settings");
	is_str(setting(list, "webhook_secret"), "set",
	    "  the settings say \"set\"");
	text = json_object_to_json_string(list);
	ok(text != NULL && strstr(text, "s3cr3t") == NULL,
	    "  and nowhere show the secret");
	json_object_put(list);
	conf_free(&c);
	ok(c.webhook_secret == NULL, "  conf_free clears it");
}

static void
test_layout(void)
{
	ok(SUPPORT_CONF_DEFAULT[0] == '/' && SUPPORT_DATA_DIR_DEFAULT[0] == '/' &&
	    SUPPORT_TEMPLATES_DIR_DEFAULT[0] == '/' &&
	    SUPPORT_HTDOCS_DIR_DEFAULT[0] == '/',
	    "the compiled-in directories are absolute");
	ok(strstr(SUPPORT_CONF_DEFAULT, "/support/support.conf") != NULL,
	    "the default config is support/support.conf under the "
	    "configured directory (%s)", SUPPORT_CONF_DEFAULT);
	ok(strcmp(SUPPORT_TEMPLATES_DIR_DEFAULT, SUPPORT_HTDOCS_DIR_DEFAULT) != 0,
	    "templates and static files go to different directories");
}

static void
test_path(void)
{
	unsetenv("SUPPORT_CONF");
	is_str(conf_path("/explicit.conf"), "/explicit.conf",
	    "conf_path: an explicit path");
	is_str(conf_path(NULL), SUPPORT_CONF_DEFAULT,
	    "conf_path: the compiled default");
	setenv("SUPPORT_CONF", "/from/env.conf", 1);
	is_str(conf_path(NULL), "/from/env.conf",
	    "conf_path: $SUPPORT_CONF over the default");
	is_str(conf_path("/explicit.conf"), "/explicit.conf",
	    "conf_path: explicit over $SUPPORT_CONF");
	setenv("SUPPORT_CONF", "", 1);
	is_str(conf_path(NULL), SUPPORT_CONF_DEFAULT,
	    "conf_path: an empty $SUPPORT_CONF is unset");
	unsetenv("SUPPORT_CONF");
}

/* url_prefix goes into headers, cookies and pages: only a plain path. */
static void
test_url_prefix(void)
{
	struct sup_conf c;
	char text[512];

	is_err(load(&c, "[support]\nurl_prefix = /help-desk/v1\n"), SUP_OK,
	    "url_prefix: a path");
	is_str(c.url_prefix, "/help-desk/v1", "  kept as written");
	conf_free(&c);
	refused("[support]\nurl_prefix = desk\n", "url_prefix without a "
	    "leading /", "url_prefix", NULL);
	refused("[support]\nurl_prefix = /desk/\n", "url_prefix with a "
	    "final /", "url_prefix", NULL);
	refused("[support]\nurl_prefix = /desk;Secure\n", "url_prefix with "
	    "a ;", "url_prefix", NULL);
	refused("[support]\nurl_prefix = /a b\n", "url_prefix with a space",
	    "url_prefix", NULL);
	/* libinih refuses such a line before the check sees it. */
	snprintf(text, sizeof(text), "[support]\nurl_prefix = /%0*d\n",
	    URL_PREFIX_MAX, 0);
	refused(text, "url_prefix over URL_PREFIX_MAX bytes", "line 3", NULL);
}

/* The mail keys (docs/mail.md) and the [notifications] switches. */
static void
test_mail(void)
{
	struct sup_conf c;

	is_err(load(&c, "[support]\n"), SUP_OK, "mail: the defaults");
	ok(c.outbox_retry_hours == 48 && c.smtp_starttls &&
	    c.notify_ticket_created && c.notify_admin_response &&
	    c.notify_ticket_updated && c.notify_ticket_resolved &&
	    c.notify_escalation_alerts && c.support_email[0] == '\0' &&
	    c.smtp_url[0] == '\0' && strcmp(c.worker_path,
	    SUPPORT_WORKER_DEFAULT) == 0,
	    "  48 h of retries, STARTTLS, every notification on, no mail");
	conf_free(&c);
	is_err(load(&c, "[support]\nsupport_email = help@example.com\n"
	    "support_team_emails = a@example.com , b@example.org\n"
	    "smtp_url = smtps://mail.example.com:465\n"
	    "outbox_retry_hours = 2\n[notifications]\nadmin_response = no\n"
	    "[support]\nbase_url = https://help.example.com/desk\n"),
	    SUP_OK, "mail: set, [notifications] between two [support]");
	ok(strcmp(c.support_email, "help@example.com") == 0 &&
	    c.outbox_retry_hours == 2 && !c.notify_admin_response &&
	    c.notify_ticket_created && strcmp(c.base_url,
	    "https://help.example.com/desk") == 0, "  as written");
	conf_free(&c);
	refused("[support]\nsupport_email = help\n", "support_email without "
	    "an @", "support_email", NULL);
	refused("[support]\nsupport_email = Help <help@example.com>\n",
	    "support_email with a name", "support_email", NULL);
	refused("[support]\nsupport_team_emails = a@example.com, b\n",
	    "a team address that is none", "support_team_emails", "\"b\"");
	refused("[support]\nsmtp_url = http://mail.example.com\n",
	    "smtp_url not smtp:// or smtps://", "smtp_url", NULL);
	refused("[support]\nbase_url = javascript:alert(1)\n",
	    "base_url not http(s)", "base_url", NULL);
	refused("[support]\noutbox_retry_hours = 0\n", "outbox_retry_hours 0",
	    "line 2", "outbox_retry_hours");
	refused("[support]\nsmtp_password_file = pw.txt\n",
	    "a relative smtp_password_file", "line 2", "absolute path");
	refused("[notifications]\nticket_created = maybe\n",
	    "a switch that is no bool", "line 2", "ticket_created");
	refused("[notifications]\ndata_dir = /x\n", "a [support] key under "
	    "[notifications]", "unknown key data_dir in [notifications]",
	    NULL);
	refused("[support]\nticket_created = no\n", "a switch under "
	    "[support]", "unknown key ticket_created", NULL);
	refused("[mail]\nsmtp_url = smtp://x\n", "an unknown section",
	    "[mail]", NULL);
}

int
main(void)
{
	tap_tmpdir(dir, sizeof(dir));
	test_mail();
	test_url_prefix();
	test_defaults();
	test_values();
	test_errors();
	test_secret();
	test_layout();
	test_path();
	tap_rmtree(dir);
	return done_testing();
}
