/*
 * supportctl - manage the support desk from the command line.
 *
 *   supportctl [--conf FILE] user add NAME --email E --role user|agent|admin
 *                                      [--display-name D] --password-stdin
 *   supportctl [--conf FILE] user list
 *   supportctl [--conf FILE] user disable NAME
 *   supportctl [--conf FILE] user enable NAME
 *   supportctl [--conf FILE] user set-role NAME user|agent|admin
 *   supportctl [--conf FILE] user set-away NAME yes|no
 *   supportctl [--conf FILE] user set-password NAME --password-stdin
 *   supportctl [--conf FILE] user export NAME
 *   supportctl [--conf FILE] user erase NAME
 *   supportctl [--conf FILE] token create NAME [--label L]
 *   supportctl [--conf FILE] token list [NAME]
 *   supportctl [--conf FILE] token revoke ID | --token-stdin
 *   supportctl [--conf FILE] db verify
 *   supportctl [--conf FILE] db backup DIR
 *   supportctl [--conf FILE] session purge
 *   supportctl [--conf FILE] close_old_tickets --days N
 *   supportctl [--conf FILE] send_ticket_reminders
 *   supportctl [--conf FILE] events [--from N] [--follow]
 *   supportctl [--conf FILE] events trim
 *   supportctl [--conf FILE] export_support_data --format=csv|json --days=N
 *                                      [--out FILE]
 *   supportctl [--conf FILE] purge_old_tickets [--dry-run]
 *   supportctl [--conf FILE] reply-token TICKET USER [--days N]
 *   supportctl [--conf FILE] outbox list
 *   supportctl [--conf FILE] outbox retry ID
 *   supportctl [--conf FILE] outbox drop ID
 *
 * Exit status: 0 done, 1 refused or failed (no such user or token, a name
 * taken, a store error), 2 bad usage; messages on stderr.
 * The configuration is FILE, else $SUPPORT_CONF, else the compiled default.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "account.h"
#include "areas.h"
#include "audit.h"
#include "backup.h"
#include "conf.h"
#include "event.h"
#include "export.h"
#include "privacy.h"
#include "retention.h"
#include "mailin.h"
#include "replytoken.h"
#include "outbox.h"
#include "remind.h"
#include "sess.h"
#include "stats.h"
#include "store.h"
#include "ticket.h"
#include "user.h"
#include "util.h"
#include "view.h"

static void
usage(void)
{
	fputs("usage: supportctl [--conf FILE] COMMAND\n"
	    "  user add NAME --email E --role user|agent|admin "
	    "[--display-name D] --password-stdin\n"
	    "  user list\n"
	    "  user disable NAME\n"
	    "  user enable NAME\n"
	    "  user set-role NAME user|agent|admin\n"
	    "  user set-away NAME yes|no\n"
	    "  user set-password NAME --password-stdin\n"
	    "  user export NAME\n"
	    "  user erase NAME\n"
	    "  token create NAME [--label L]\n"
	    "  token list [NAME]\n"
	    "  token revoke ID | --token-stdin\n"
	    "  db verify\n"
	    "  db backup DIR\n"
	    "  session purge\n"
	    "  close_old_tickets --days N\n"
	    "  send_ticket_reminders\n"
	    "  events [--from N] [--follow]\n"
	    "  events trim\n"
	    "  reply-token TICKET USER [--days N]\n"
	    "  outbox list\n"
	    "  outbox retry ID\n"
	    "  outbox drop ID\n"
	    "  audit [--actor NAME] [--ticket N|UUID] [--since DATE] "
	    "[--json]\n"
	    "  support_stats [--days N] [--json]\n"
	    "  export_support_data --format=csv|json --days=N [--out FILE]\n"
	    "  purge_old_tickets [--dry-run]\n", stderr);
}

/*
 * Read one line from stdin (a password, a token) into a new string, without
 * its line end; NULL at end of input.  sodium_memzero and free it.
 */
static char *
read_secret(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);

	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/* Say that a command failed, and why, on stderr; the exit status 1. */
static int
failed(const char *what, sup_err e)
{
	fprintf(stderr, "supportctl: %s: %s\n", what, sup_strerror(e));
	return 1;
}

/*
 * A command.  argv[0] is its last word ("add" of "user add"), so that
 * getopt sees the arguments after it; s is the open store, or NULL for a
 * command that opens it its own way (OWN_STORE).
 */
struct command {
	const char *noun, *verb;	/* verb NULL: a command of one word */
	unsigned flags;
#define OWN_STORE 1u
	int (*run)(const struct sup_conf *conf, struct store *s, int argc,
	    char **argv);
};

/* user add NAME --email E [--role R] [--display-name D] --password-stdin */
static int
cmd_user_add(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	static const struct option opts[] = {
		{ "email", required_argument, NULL, 'e' },
		{ "role", required_argument, NULL, 'r' },
		{ "display-name", required_argument, NULL, 'd' },
		{ "password-stdin", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *email = NULL, *role_name = "user", *display = NULL;
	bool from_stdin = false;
	char *password;
	uint32_t id;
	int c, role;
	sup_err e;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e': email = optarg; break;
		case 'r': role_name = optarg; break;
		case 'd': display = optarg; break;
		case 'p': from_stdin = true; break;
		default: usage(); return 2;
		}
	}
	if (optind != argc - 1 || email == NULL || !from_stdin) {
		fputs("supportctl: user add needs NAME, --email and "
		    "--password-stdin\n", stderr);
		return 2;
	}
	if ((role = user_role_from(role_name)) < 0) {
		fprintf(stderr, "supportctl: unknown role %s (user, agent, "
		    "admin)\n", role_name);
		return 2;
	}
	if ((password = read_secret()) == NULL || *password == '\0') {
		fputs("supportctl: no password on standard input\n", stderr);
		free(password);
		return 2;
	}
	e = user_create(s, argv[optind], email, display, (enum user_role)role,
	    password, &id);
	sodium_memzero(password, strlen(password));
	free(password);
	if (e == SUP_EINVAL) {
		fputs("supportctl: the name (letters, digits, @.+-_ up to 150) "
		    "or the e-mail is not valid\n", stderr);
		return 1;
	}
	if (e == SUP_EEXIST) {
		fputs("supportctl: that username or e-mail is taken\n", stderr);
		return 1;
	}
	if (e != SUP_OK) {
		fprintf(stderr, "supportctl: %s\n", sup_strerror(e));
		return 1;
	}
	printf("created user %s (id %u, %s)\n", argv[optind], id, role_name);
	return 0;
}

static sup_err
print_user(void *ctx SUP_UNUSED, json_object *rec)
{
	const char *name = rec_str(rec, "username"), *role = rec_str(rec,
	    "role"), *email = rec_str(rec, "email");

	printf("%6" PRId64 "  %-20s %-8s %s%s\n", rec_int(rec, "id"),
	    name ? name : "?", role ? role : "?", email ? email : "",
	    rec_bool(rec, "is_active") ? "" : "  (inactive)");
	return SUP_OK;
}

/* user list: one line per account. */
static int
cmd_user_list(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv SUP_UNUSED)
{
	sup_err e;

	if (argc != 1) {
		usage();
		return 2;
	}
	if ((e = user_each(s, print_user, NULL)) != SUP_OK)
		return failed("user list", e);
	return 0;
}

/*
 * The id of the account called name (its username or its e-mail) into *id.
 * The exit status: 0, or 1 with a message when there is no such account.
 */
static int
find_user(struct store *s, const char *name, uint32_t *id)
{
	json_object *rec;
	sup_err e = user_find(s, NULL, name, &rec);

	if (e == SUP_ENOTFOUND) {
		fprintf(stderr, "supportctl: no such user: %s\n", name);
		return 1;
	}
	if (e != SUP_OK)
		return failed(name, e);
	*id = (uint32_t)rec_int(rec, "id");
	json_object_put(rec);
	return 0;
}

/*
 * user disable NAME: the account may no longer log in; its sessions and
 * its tokens stop working at their next request, in every process.
 */
static int
cmd_user_disable(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	uint32_t id;
	long ended = 0;
	sup_err e;
	int rc;

	if (argc != 2) {
		usage();
		return 2;
	}
	if ((rc = find_user(s, argv[1], &id)) != 0)
		return rc;
	/* The account, then its sessions (account.h says why). */
	if ((e = account_set_active(s, 0, id, false, &ended)) != SUP_OK)
		return failed("user disable", e);
	printf("disabled user %s (%ld session%s ended)\n", argv[1], ended,
	    ended == 1 ? "" : "s");
	return 0;
}

/* user enable NAME: the account may log in again; no old session returns. */
static int
cmd_user_enable(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	uint32_t id;
	sup_err e;
	int rc;

	if (argc != 2) {
		usage();
		return 2;
	}
	if ((rc = find_user(s, argv[1], &id)) != 0)
		return rc;
	/* Sessions a disable failed to end do not come back (account.h). */
	if ((e = account_set_active(s, 0, id, true, NULL)) != SUP_OK)
		return failed("user enable", e);
	printf("enabled user %s\n", argv[1]);
	return 0;
}

/* user set-role NAME ROLE: seen by the account's next request. */
static int
cmd_user_set_role(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	uint32_t id;
	sup_err e;
	int rc, role;

	if (argc != 3) {
		usage();
		return 2;
	}
	if ((role = user_role_from(argv[2])) < 0) {
		fprintf(stderr, "supportctl: unknown role %s (user, agent, "
		    "admin)\n", argv[2]);
		return 2;
	}
	if ((rc = find_user(s, argv[1], &id)) != 0)
		return rc;
	if ((e = user_set_role(s, 0, id, (enum user_role)role)) != SUP_OK)
		return failed("user set-role", e);
	printf("user %s is now %s\n", argv[1], argv[2]);
	return 0;
}

/* user set-away NAME yes|no: an agent away is given no ticket. */
static int
cmd_user_set_away(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	uint32_t id;
	sup_err e;
	bool away;
	int rc;

	if (argc != 3) {
		usage();
		return 2;
	}
	if (strcmp(argv[2], "yes") == 0)
		away = true;
	else if (strcmp(argv[2], "no") == 0)
		away = false;
	else {
		fprintf(stderr, "supportctl: user set-away takes yes or no, "
		    "not %s\n", argv[2]);
		return 2;
	}
	if ((rc = find_user(s, argv[1], &id)) != 0)
		return rc;
	if ((e = user_set_away(s, 0, id, away)) != SUP_OK)
		return failed("user set-away", e);
	printf("user %s is now %s\n", argv[1], away ? "away" : "here");
	return 0;
}

/*
 * user set-password NAME --password-stdin: the rules of user add (any 1 to
 * 1024 bytes: the administrator's choice), and every session of the
 * account ends, as at a change through the API.  Its tokens stay: they
 * are revoked on their own (token revoke).
 */
static int
cmd_user_set_password(const struct sup_conf *conf SUP_UNUSED,
    struct store *s, int argc, char **argv)
{
	char *password;
	uint32_t id;
	long ended = 0;
	sup_err e;
	int rc;

	if (argc != 3 || strcmp(argv[2], "--password-stdin") != 0) {
		fputs("supportctl: user set-password needs NAME and "
		    "--password-stdin\n", stderr);
		return 2;
	}
	if ((rc = find_user(s, argv[1], &id)) != 0)
		return rc;
	if ((password = read_secret()) == NULL || *password == '\0') {
		fputs("supportctl: no password on standard input\n", stderr);
		free(password);
		return 2;
	}
	e = account_set_password(s, 0, id, password, NULL, &ended);
	sodium_memzero(password, strlen(password));
	free(password);
	if (e == SUP_EINVAL) {
		fprintf(stderr, "supportctl: a password is at most %d bytes\n",
		    PASSWORD_MAX);
		return 1;
	}
	if (e != SUP_OK)
		return failed("user set-password", e);
	printf("password of %s set (%ld session%s ended)\n", argv[1], ended,
	    ended == 1 ? "" : "s");
	return 0;
}

/* export's writer: the batch's text to the stream ctx. */
static sup_err
write_stream(void *ctx, const char *p, size_t n)
{
	return fwrite(p, 1, n, ctx) == n ? SUP_OK : SUP_EIO;
}

/*
 * user export NAME: everything the desk holds about the account, as one
 * JSON object on stdout (lib/desk/privacy.h says what).
 */
static int
cmd_user_export(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	uint32_t id;
	sup_err e;
	int rc;

	if (argc != 2) {
		fputs("supportctl: user export takes one NAME (a username or "
		    "an e-mail)\n", stderr);
		return 2;
	}
	if ((rc = find_user(s, argv[1], &id)) != 0)
		return rc;
	e = user_data_export(s, id, write_stream, stdout);
	if (e == SUP_OK && fflush(stdout) != 0)
		e = SUP_EIO;
	if (e == SUP_EIO) {
		fprintf(stderr, "supportctl: user export: cannot write: %s\n",
		    strerror(errno));
		return 1;
	}
	return e == SUP_OK ? 0 : failed("user export", e);
}

/*
 * user erase NAME: the account's personal data goes, its messages stay
 * under "Deleted user" (lib/desk/privacy.h); never the last admin.
 */
static int
cmd_user_erase(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	struct erase_stats st;
	uint32_t id;
	sup_err e;
	int rc;

	if (argc != 2) {
		fputs("supportctl: user erase takes one NAME (a username or "
		    "an e-mail)\n", stderr);
		return 2;
	}
	if ((rc = find_user(s, argv[1], &id)) != 0)
		return rc;
	e = user_data_erase(s, id, &st);
	if (e == USER_ELASTADMIN) {
		fprintf(stderr, "supportctl: %s is the last active admin: make "
		    "another admin first\n", argv[1]);
		return 1;
	}
	if (e != SUP_OK) {
		fprintf(stderr, "supportctl: user erase: %s (run it again to "
		    "finish)\n", sup_strerror(e));
		return 1;
	}
	printf("erased user %s (now \"" USER_ERASED_NAME_FMT "\"): %ld "
	    "session%s, %ld saved view%s, %ld canned response%s, %ld presence "
	    "mark%s, %ld mail%s of the outbox, %ld mail-in count%s, %ld "
	    "mail-in Message-ID%s removed, %ld event%s rewritten\n", argv[1],
	    id, st.sessions, st.sessions == 1 ? "" : "s", st.views,
	    st.views == 1 ? "" : "s", st.canned, st.canned == 1 ? "" : "s",
	    st.marks, st.marks == 1 ? "" : "s", st.mails,
	    st.mails == 1 ? "" : "s", st.senders, st.senders == 1 ? "" : "s",
	    st.seen, st.seen == 1 ? "" : "s", st.events,
	    st.events == 1 ? "" : "s");
	return 0;
}


/* token create NAME [--label L]: the new token on stdout, once. */
static int
cmd_token_create(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	char *token;
	sup_err e;

	if (argc != 2 && (argc != 4 || strcmp(argv[2], "--label") != 0)) {
		usage();
		return 2;
	}
	if ((e = token_create(s, argv[1], argc == 4 ? argv[3] : "cli",
	    &token)) != SUP_OK) {
		fprintf(stderr, "supportctl: token: %s\n",
		    e == SUP_ENOTFOUND ? "no such user" : sup_strerror(e));
		return 1;
	}
	printf("%s\n", token);
	free(token);
	return 0;
}

/* token list [NAME]: one line per token, never its secret. */
static int
cmd_token_list(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	json_object *list, *t;
	uint32_t user = 0;
	sup_err e;
	int rc;

	if (argc > 2) {
		usage();
		return 2;
	}
	if (argc == 2 && (rc = find_user(s, argv[1], &user)) != 0)
		return rc;
	if ((e = token_list(s, user, &list)) != SUP_OK)
		return failed("token list", e);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *name, *used;

		t = json_object_array_get_idx(list, i);
		name = rec_str(t, "username");
		used = rec_str(t, "last_used_at");
		printf("%s  %-20s %-20s created %s  last used %s\n",
		    rec_str(t, "id"), name ? name : "(gone)",
		    rec_str(t, "name") ? rec_str(t, "name") : "",
		    rec_str(t, "created_at") ? rec_str(t, "created_at") : "?",
		    used ? used : "never");
	}
	json_object_put(list);
	return 0;
}

/*
 * token revoke ID | --token-stdin: by the id token list shows, or by the
 * token itself on stdin (never on the command line, where others see it).
 */
static int
cmd_token_revoke(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	char id[TOKEN_ID_STRLEN + 1], *token;
	sup_err e;

	if (argc != 2) {
		usage();
		return 2;
	}
	if (strcmp(argv[1], "--token-stdin") == 0) {
		if ((token = read_secret()) == NULL || *token == '\0') {
			fputs("supportctl: no token on standard input\n",
			    stderr);
			free(token);
			return 2;
		}
		e = token_revoke(s, token, strlen(token), id);
		sodium_memzero(token, strlen(token));
		free(token);
	} else {
		e = token_revoke_id(s, argv[1]);
		snprintf(id, sizeof(id), "%s", argv[1]);
	}
	switch (e) {
	case SUP_OK:
		printf("revoked token %s\n", id);
		return 0;
	case SUP_ENOTFOUND:
		fputs("supportctl: no such token\n", stderr);
		return 1;
	case SUP_EINVAL:
		fprintf(stderr, "supportctl: a token's id is %d hex digits, as "
		    "token list shows (give the token itself on standard "
		    "input with --token-stdin)\n", TOKEN_ID_STRLEN);
		return 2;
	case SUP_ECONFLICT:
		fprintf(stderr, "supportctl: two tokens have the id %s; give "
		    "the one to revoke on standard input with "
		    "--token-stdin\n", id);
		return 1;
	default:
		return failed("token revoke", e);
	}
}

static void
print_problem(void *ctx SUP_UNUSED, const char *line)
{
	printf("problem: %s\n", line);
}

/* db verify: exit 0 when no problem is found. */
static int
cmd_db_verify(const struct sup_conf *conf, struct store *s SUP_UNUSED,
    int argc, char **argv SUP_UNUSED)
{
	long problems = 0;
	sup_err e;

	if (argc != 1) {
		usage();
		return 2;
	}
	if ((e = store_verify(conf, desk_areas, print_problem, NULL,
	    &problems)) != SUP_OK)
		return failed("verify", e);
	printf("%ld problem%s found\n", problems, problems == 1 ? "" : "s");
	return problems == 0 ? 0 : 1;
}

static void
print_step(void *ctx SUP_UNUSED, enum backup_step step, const char *name)
{
	if (step == BACKUP_DATABASE || step == BACKUP_LOG ||
	    step == BACKUP_FILE)
		printf("copied %s\n", name);
	else if (step == BACKUP_RECOVERED)
		puts("recovered the copy");
}

/* db backup DIR: a hot backup; the store stays open to the programs. */
static int
cmd_db_backup(const struct sup_conf *conf, struct store *s SUP_UNUSED,
    int argc, char **argv)
{
	struct backup_stats st;
	sup_err e;

	if (argc != 2) {
		usage();
		return 2;
	}
	if ((e = store_backup(conf, argv[1], print_step, NULL, &st)) !=
	    SUP_OK) {
		fprintf(stderr, "supportctl: backup into %s failed: %s\n",
		    argv[1], e == SUP_EEXIST ? "the directory is not empty" :
		    sup_strerror(e));
		return 1;
	}
	printf("backup of %d databases and %d log files and %ld attached "
	    "files (%lld bytes) in %s\n", st.databases, st.logs, st.files,
	    st.bytes, argv[1]);
	return 0;
}

/* session purge: expired sessions and throttle counts past their window. */
static int
cmd_session_purge(const struct sup_conf *conf, struct store *s, int argc,
    char **argv SUP_UNUSED)
{
	long removed = 0;
	sup_err e;

	if (argc != 1) {
		usage();
		return 2;
	}
	if ((e = sess_purge(s, conf, time_now_us(), &removed)) != SUP_OK)
		return failed("session purge", e);
	printf("%ld record%s removed\n", removed, removed == 1 ? "" : "s");
	return 0;
}

/* close_old_tickets --days N: resolved more than N days ago: closed. */
static int
cmd_close_old(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	long days, closed = 0;
	sup_err e;

	if (argc != 3 || strcmp(argv[1], "--days") != 0) {
		usage();
		return 2;
	}
	if (!parse_long(argv[2], 0, 100000, &days)) {
		fputs("supportctl: --days takes 0 to 100000\n", stderr);
		return 2;
	}
	if ((e = ticket_close_resolved(s, time_now_us() -
	    days * 86400 * 1000000LL, &closed)) != SUP_OK) {
		fprintf(stderr, "supportctl: close_old_tickets: %s (%ld closed "
		    "before the error)\n", sup_strerror(e), closed);
		return 1;
	}
	printf("%ld ticket%s closed\n", closed, closed == 1 ? "" : "s");
	return 0;
}

/*
 * send_ticket_reminders: the reminders and escalation alerts now due
 * (remind_scan), each once per waiting period: their events are
 * appended, and support-worker mails them (its next pass).
 */
static int
cmd_send_reminders(const struct sup_conf *conf, struct store *s, int argc,
    char **argv SUP_UNUSED)
{
	long reminded = 0, escalated = 0;
	sup_err e;

	if (argc != 1) {
		usage();
		return 2;
	}
	if ((e = remind_scan(s, conf, time_now_us(), &reminded, &escalated))
	    != SUP_OK)
		return failed("send_ticket_reminders", e);
	printf("%ld reminder%s, %ld escalation%s queued\n", reminded,
	    reminded == 1 ? "" : "s", escalated, escalated == 1 ? "" : "s");
	return 0;
}

/* Print one event as a line of JSON. */
static sup_err
print_event(void *ctx SUP_UNUSED, int64_t seq SUP_UNUSED, const char *text,
    size_t len)
{
	if (fwrite(text, 1, len, stdout) != len || putchar('\n') == EOF)
		return SUP_EIO;
	return SUP_OK;
}

static volatile sig_atomic_t follow_stop;

static void
on_follow_signal(int sig SUP_UNUSED)
{
	follow_stop = 1;
}

/*
 * events [--from N] [--follow]: the change-event log as JSON lines, from
 * event N on (1 when not given); with --follow, then each new event as it
 * is committed, until interrupted.
 */
static int
cmd_events(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_follow_signal };
	bool follow = false;
	long from = 1;
	int64_t next;
	sup_err e;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--follow") == 0)
			follow = true;
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
			if (!parse_long(argv[++i], 1, LONG_MAX, &from)) {
				fputs("supportctl: --from takes an event "
				    "number (1 or more)\n", stderr);
				return 2;
			}
		} else {
			usage();
			return 2;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (next = from;;) {
		int64_t was = next;

		if ((e = event_read(s, next, 1000, print_event, NULL,
		    &next)) != SUP_OK) {
			if (e == SUP_EIO)
				return errno == EPIPE ? 0 : 1;
			return failed("events", e);
		}
		if (fflush(stdout) != 0)
			return errno == EPIPE ? 0 : 1;
		if (next != was)
			continue;	/* a full batch: there may be more */
		if (!follow || follow_stop)
			return 0;
		usleep(200000);
		if (follow_stop)
			return 0;
	}
}

/* events trim: drop the events every consumer has handled, once old. */
static int
cmd_events_trim(const struct sup_conf *conf, struct store *s, int argc,
    char **argv SUP_UNUSED)
{
	long removed = 0;
	sup_err e;

	if (argc != 1) {
		usage();
		return 2;
	}
	if ((e = event_trim(s, conf->event_retention_days, time_now_us(), 0,
	    &removed)) != SUP_OK)
		return failed("events trim", e);
	printf("%ld event%s removed\n", removed, removed == 1 ? "" : "s");
	return 0;
}

/*
 * export_support_data --format=csv|json --days=N [--out FILE]: the
 * tickets created in the last N days (N times 24 hours back from now)
 * with their messages, on stdout or into FILE.  FILE is written under a
 * temporary name beside it (mode 0600: it holds personal data) and
 * renamed when complete, so a failed export leaves no partial file and
 * an older FILE stays as it was.  The counts and the rate on stderr.
 */
static int
cmd_export(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "days", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL, *days_arg = NULL, *out = NULL;
	struct export_stats st;
	enum export_format fmt;
	char *tmp = NULL;
	FILE *f = stdout;
	int64_t now, began;
	long days;
	double secs;
	int c, fd, rc = 1;
	sup_err e;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'd': days_arg = optarg; break;
		case 'o': out = optarg; break;
		default:
			fprintf(stderr, "supportctl: export_support_data: "
			    "unknown option or missing value: %s\n",
			    argv[optind - 1]);
			return 2;
		}
	}
	if (format == NULL || days_arg == NULL) {
		fputs("supportctl: export_support_data needs --format=csv|json "
		    "and --days=N\n", stderr);
		return 2;
	}
	if (strcmp(format, "csv") == 0)
		fmt = EXPORT_CSV;
	else if (strcmp(format, "json") == 0)
		fmt = EXPORT_JSON;
	else {
		fprintf(stderr, "supportctl: --format takes csv or json, not "
		    "%s\n", format);
		return 2;
	}
	if (!parse_long(days_arg, 1, 100000, &days)) {
		fprintf(stderr, "supportctl: --days takes a whole number of "
		    "days from 1 to 100000, not %s\n", days_arg);
		return 2;
	}
	if (out != NULL && *out == '\0') {
		fputs("supportctl: --out takes a file name\n", stderr);
		return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "supportctl: export_support_data: unexpected "
		    "argument %s\n", argv[optind]);
		return 2;
	}
	if (out != NULL) {
		if (asprintf(&tmp, "%s.XXXXXX", out) < 0) {
			tmp = NULL;
			return failed("export_support_data", SUP_ENOMEM);
		}
		if ((fd = mkstemp(tmp)) < 0 || (f = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "supportctl: cannot write %s: %s\n",
			    out, strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			free(tmp);
			return 1;
		}
	}
	began = now = time_now_us();
	e = export_tickets(s, now - days * 86400LL * 1000000, now, fmt,
	    write_stream, f, &st);
	if (e == SUP_OK && fflush(f) != 0)
		e = SUP_EIO;
	if (out != NULL) {
		if (e == SUP_OK && fsync(fileno(f)) != 0)
			e = SUP_EIO;
		if (fclose(f) != 0 && e == SUP_OK)
			e = SUP_EIO;
		if (e == SUP_OK && rename(tmp, out) != 0)
			e = SUP_EIO;
		if (e != SUP_OK)
			unlink(tmp);
	}
	if (e == SUP_EIO) {
		fprintf(stderr, "supportctl: export_support_data: cannot "
		    "write %s: %s\n", out != NULL ? out : "the output",
		    strerror(errno));
		goto done;
	}
	if (e != SUP_OK) {
		failed("export_support_data", e);
		goto done;
	}
	secs = (double)(time_now_us() - began) / 1e6;
	fprintf(stderr, "exported %ld ticket%s, %ld message%s in %.2f s "
	    "(%.0f messages a second, %ld read transactions)\n", st.tickets,
	    st.tickets == 1 ? "" : "s", st.messages, st.messages == 1 ? "" :
	    "s", secs, secs > 0 ? (double)st.messages / secs : 0.0,
	    st.batches);
	rc = 0;
done:
	free(tmp);
	return rc;
}

/*
 * purge_old_tickets [--dry-run]: closed tickets untouched for
 * ticket_retention_days go, with their messages and what the event log
 * says of them (lib/desk/retention.h); --dry-run counts them only.
 */
static int
cmd_purge_old(const struct sup_conf *conf, struct store *s, int argc,
    char **argv)
{
	struct purge_stats st;
	bool dry = false;
	sup_err e;

	if (argc == 2 && strcmp(argv[1], "--dry-run") == 0)
		dry = true;
	else if (argc != 1) {
		fprintf(stderr, "supportctl: purge_old_tickets takes only "
		    "--dry-run, not %s\n", argv[1]);
		return 2;
	}
	e = ticket_purge(s, time_now_us() - conf->ticket_retention_days *
	    86400LL * 1000000, dry, &st);
	if (e != SUP_OK) {
		fprintf(stderr, "supportctl: purge_old_tickets: %s (%ld "
		    "tickets purged before the error)\n", sup_strerror(e),
		    st.tickets);
		return 1;
	}
	if (dry) {
		printf("%ld ticket%s (%ld message%s) would be purged: closed "
		    "and untouched for %ld days\n", st.tickets,
		    st.tickets == 1 ? "" : "s", st.messages,
		    st.messages == 1 ? "" : "s", conf->ticket_retention_days);
		return 0;
	}
	printf("%ld ticket%s (%ld message%s) purged; %ld event%s emptied, "
	    "%ld from the first a consumer has not read on left as they are; "
	    "%ld mail%s of the outbox dropped\n",
	    st.tickets, st.tickets == 1 ? "" : "s", st.messages,
	    st.messages == 1 ? "" : "s", st.events, st.events == 1 ? "" : "s",
	    st.events_held, st.mails, st.mails == 1 ? "" : "s");
	printf("%ld attachment%s purged; %ld file%s no message used any more "
	    "removed\n", st.attachments, st.attachments == 1 ? "" : "s",
	    st.files, st.files == 1 ? "" : "s");
	return 0;
}


/*
 * reply-token TICKET USER [--days N]: the signed reply address of ticket
 * number TICKET for USER (a username or e-mail), good for N days from
 * today (reply_token_days when not given; 0: through today; a negative N
 * makes one already expired, for tests), printed on one line.  The
 * address a mail to USER about the ticket carries (docs/mailin.md).
 */
static int
cmd_reply_token(const struct sup_conf *conf, struct store *s, int argc,
    char **argv)
{
	char tok[REPLY_TOKEN_STRLEN + 1], *addr;
	uint8_t key[REPLY_KEY_LEN], uuid[UUID_LEN];
	long number, days = conf->reply_token_days;
	uint32_t id;
	sup_err e;
	int rc;

	if (argc == 5 && strcmp(argv[3], "--days") == 0) {
		if (!parse_long(argv[4], -3650, 3650, &days)) {
			fputs("supportctl: --days takes -3650 to 3650\n",
			    stderr);
			return 2;
		}
	} else if (argc != 3) {
		usage();
		return 2;
	}
	if (!parse_long(argv[1], 1, UINT32_MAX, &number)) {
		fputs("supportctl: TICKET is a ticket number\n", stderr);
		return 2;
	}
	if ((e = mailin_ticket_uuid(s, (uint32_t)number, uuid)) != SUP_OK) {
		if (e == SUP_ENOTFOUND) {
			fprintf(stderr, "supportctl: no ticket %ld\n", number);
			return 1;
		}
		return failed("reply-token", e);
	}
	if ((rc = find_user(s, argv[2], &id)) != 0)
		return rc;
	if (reply_key_load(conf, key) != SUP_OK) {
		fputs("supportctl: secret_file is not set, or not a readable "
		    "file of at least 32 bytes\n", stderr);
		return 1;
	}
	e = reply_token_make(key, (uint32_t)number, id,
	    reply_day(time_now_us()) + days, tok);
	sodium_memzero(key, sizeof(key));
	if (e != SUP_OK)
		return failed("reply-token", e);
	if ((e = reply_address(conf->support_email, tok, &addr)) != SUP_OK) {
		if (e == SUP_EINVAL) {
			fputs("supportctl: support_email is not set to an "
			    "address (local@domain)\n", stderr);
			return 1;
		}
		return failed("reply-token", e);
	}
	printf("%s\n", addr);
	free(addr);
	return 0;
}

/* Print one delivery (without its message) as a line of JSON. */
static sup_err
print_delivery(void *ctx SUP_UNUSED, json_object *rec)
{
	const char *t = json_object_to_json_string_ext(rec,
	    JSON_C_TO_STRING_PLAIN);

	if (t == NULL)
		return SUP_ENOMEM;
	if (puts(t) == EOF)
		return SUP_EIO;
	return SUP_OK;
}

/* outbox list: every delivery, oldest first, as JSON lines. */
static int
cmd_outbox_list(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv SUP_UNUSED)
{
	sup_err e;

	if (argc != 1) {
		usage();
		return 2;
	}
	if ((e = outbox_list(s, print_delivery, NULL)) != SUP_OK)
		return e == SUP_EIO && errno == EPIPE ? 0 :
		    failed("outbox list", e);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* The delivery id argv[1] names: false (said) when it is no id. */
static bool
delivery_id(int argc, char **argv, uint8_t id[UUID_LEN])
{
	if (argc != 2) {
		usage();
		return false;
	}
	if (!uuid_parse(argv[1], strlen(argv[1]), id)) {
		fprintf(stderr, "supportctl: %s: not a delivery id\n", argv[1]);
		return false;
	}
	return true;
}

/* outbox retry ID: queue a dead (or waiting) delivery again, due now. */
static int
cmd_outbox_retry(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	uint8_t id[UUID_LEN];
	sup_err e;

	if (!delivery_id(argc, argv, id))
		return 2;
	if ((e = outbox_retry(s, id)) == SUP_ECONFLICT) {
		fprintf(stderr, "supportctl: outbox retry: %s was sent "
		    "already\n", argv[1]);
		return 1;
	}
	if (e != SUP_OK)
		return failed("outbox retry", e);
	printf("%s queued\n", argv[1]);
	return 0;
}

/* outbox drop ID: delete a delivery, whatever its state. */
static int
cmd_outbox_drop(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	uint8_t id[UUID_LEN];
	sup_err e;

	if (!delivery_id(argc, argv, id))
		return 2;
	if ((e = outbox_drop(s, id)) != SUP_OK)
		return failed("outbox drop", e);
	printf("%s dropped\n", argv[1]);
	return 0;
}

/*
 * One row of the audit log as a line: time, who, from where, what, the
 * ticket, the changes ("content" edits said only: --json has the text).
 */
static void
print_audit_row(json_object *row)
{
	json_object *v, *ch;

	printf("%s", json_object_object_get_ex(row, "at", &v) ?
	    json_object_get_string(v) : "?");
	printf(" %s", json_object_object_get_ex(row, "actor_name", &v) &&
	    v != NULL ? json_object_get_string(v) : "-");
	printf(" %s", json_object_object_get_ex(row, "addr", &v) ?
	    json_object_get_string(v) : "-");
	printf(" %s", json_object_object_get_ex(row, "type", &v) ?
	    json_object_get_string(v) : "?");
	if (json_object_object_get_ex(row, "ticket_number", &v) && v != NULL)
		printf(" #%" PRId64, json_object_get_int64(v));
	if (json_object_object_get_ex(row, "user_name", &v) && v != NULL)
		printf(" user=%s", json_object_get_string(v));
	if (json_object_object_get_ex(row, "changed", &ch))
		for (size_t i = 0; i < json_object_array_length(ch); i++) {
			json_object *c = json_object_array_get_idx(ch, i), *f,
			    *from, *to;
			json_object_object_get_ex(c, "field", &f);
			json_object_object_get_ex(c, "from", &from);
			json_object_object_get_ex(c, "to", &to);
			if (strcmp(json_object_get_string(f), "content") == 0)
				printf(" content edited");
			else
				printf(" %s: %s -> %s", json_object_get_string(f),
				    json_object_get_string(from),
				    json_object_get_string(to));
		}
	putchar('\n');
}

/*
 * audit [--actor NAME] [--ticket N|UUID] [--since DATE] [--json]: the
 * audit log, newest first, a line a change (--json: each row as the API
 * gives it, a JSON line).
 */
static int
cmd_audit(const struct sup_conf *conf SUP_UNUSED, struct store *s, int argc,
    char **argv)
{
	struct audit_query q = { .from_us = INT64_MIN, .to_us = INT64_MAX,
		.limit = AUDIT_PAGE_MAX };
	uint8_t ticket[UUID_LEN], next[AUDIT_CURSOR_LEN];
	json_object *rows, *rec, *id;
	bool json = false, more;
	sup_err e;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--actor") == 0 && i + 1 < argc) {
			if ((e = user_find(s, NULL, argv[++i], &rec)) != SUP_OK) {
				fprintf(stderr, "supportctl: no account %s\n",
				    argv[i]);
				return 2;
			}
			json_object_object_get_ex(rec, "id", &id);
			q.actor = (uint32_t)json_object_get_int64(id);
			json_object_put(rec);
		} else if (strcmp(argv[i], "--ticket") == 0 && i + 1 < argc) {
			i++;
			if ((e = audit_ticket_of(s, argv[i], strlen(argv[i]),
			    ticket)) != SUP_OK) {
				fprintf(stderr, "supportctl: no ticket %s\n",
				    argv[i]);
				return 2;
			}
			q.ticket = ticket;
		} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (!time_parse(argv[++i], &q.from_us)) {
				fputs("supportctl: --since takes a date "
				    "(YYYY-MM-DD) or a time\n", stderr);
				return 2;
			}
		} else {
			usage();
			return 2;
		}
	}
	do {
		if ((e = audit_list(s, &q, &rows, &more, next)) != SUP_OK)
			return failed("audit", e);
		for (size_t i = 0; i < json_object_array_length(rows); i++) {
			json_object *row = json_object_array_get_idx(rows, i);
			if (json)
				puts(json_object_to_json_string_ext(row,
				    JSON_C_TO_STRING_PLAIN));
			else
				print_audit_row(row);
		}
		json_object_put(rows);
		if (fflush(stdout) != 0)
			return errno == EPIPE ? 0 : 1;
		q.before = next;
	} while (more);
	return 0;
}

/* A time in seconds as "2d 3h", "1h 4m", "5m 2s", "-" for null. */
static void
print_duration(json_object *o, const char *name)
{
	json_object *v;
	double x;
	long sec;

	if (!json_object_object_get_ex(o, name, &v) || v == NULL) {
		fputs("-", stdout);
		return;
	}
	x = json_object_get_double(v);
	sec = (long)(x + 0.5);
	if (sec >= 86400)
		printf("%ldd %ldh", sec / 86400, sec % 86400 / 3600);
	else if (sec >= 3600)
		printf("%ldh %ldm", sec / 3600, sec % 3600 / 60);
	else if (sec >= 60)
		printf("%ldm %lds", sec / 60, sec % 60);
	else
		printf("%lds", sec);
}

static int64_t
jint(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) ?
	    json_object_get_int64(v) : 0;
}

/* The report r as text, for a person. */
static void
print_stats(json_object *r)
{
	json_object *w, *arr, *row, *sat;
	size_t n;

	json_object_object_get_ex(r, "window", &w);
	printf("Support statistics, %s to %s (%" PRId64 " days, UTC)\n\n",
	    json_object_get_string(json_object_object_get(w, "from")),
	    json_object_get_string(json_object_object_get(w, "to")),
	    jint(w, "days"));
	printf("Tickets created:        %" PRId64 "\n",
	    jint(r, "total_tickets"));
	printf("  resolved now:         %" PRId64 "\n",
	    jint(r, "resolved_tickets"));
	printf("Open now (status open): %" PRId64 "\n", jint(r, "open_tickets"));
	fputs("First response:         mean ", stdout);
	print_duration(r, "avg_response_time");
	fputs(", median <= ", stdout);
	print_duration(r, "median_response_time");
	fputs(", 90% <= ", stdout);
	print_duration(r, "p90_response_time");
	fputs("\nResolution:             mean ", stdout);
	print_duration(r, "avg_resolution_time");
	fputs(", median <= ", stdout);
	print_duration(r, "median_resolution_time");
	fputs(", 90% <= ", stdout);
	print_duration(r, "p90_resolution_time");
	json_object_object_get_ex(r, "satisfaction", &sat);
	printf("\nSatisfaction:           %" PRId64 " good, %" PRId64 " bad\n",
	    jint(sat, "good"), jint(sat, "bad"));
	fputs("\nAll tickets by status:\n", stdout);
	json_object_object_get_ex(r, "tickets_by_status", &arr);
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		row = json_object_array_get_idx(arr, i);
		printf("  %-20s %" PRId64 "\n", json_object_get_string(
		    json_object_object_get(row, "status")), jint(row, "count"));
	}
	fputs("\nAgents (open assigned, replies, first responses, "
	    "resolutions, mean first response):\n", stdout);
	json_object_object_get_ex(r, "per_agent", &arr);
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		json_object *name;
		row = json_object_array_get_idx(arr, i);
		name = json_object_object_get(row, "username");
		printf("  %-20s %6" PRId64 " %6" PRId64 " %6" PRId64 " %6"
		    PRId64 "  ", name ? json_object_get_string(name) : "?",
		    jint(row, "assigned_open"), jint(row, "replies"),
		    jint(row, "first_responses"), jint(row, "resolutions"));
		print_duration(row, "avg_response_time");
		fputs("\n", stdout);
	}
}

/*
 * support_stats [--days N] [--json]: the report of the last N UTC days
 * (30 unless told, today included), as GET /api/support/stats/ gives it
 * (--json, one line) or as text.
 */
static int
cmd_support_stats(const struct sup_conf *conf SUP_UNUSED, struct store *s,
    int argc, char **argv)
{
	long days = 30;
	bool json = false;
	int64_t today = stats_day(time_now_us());
	json_object *r;
	sup_err e;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--days") == 0 && i + 1 < argc) {
			if (!parse_long(argv[++i], 1, STATS_DAYS_MAX, &days)) {
				fprintf(stderr, "supportctl: --days takes a "
				    "number of days from 1 to %d\n",
				    STATS_DAYS_MAX);
				return 2;
			}
		} else {
			usage();
			return 2;
		}
	}
	if ((e = stats_report(s, today - days + 1, today, &r)) != SUP_OK)
		return failed("support_stats", e);
	if (json)
		puts(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
	else
		print_stats(r);
	json_object_put(r);
	return fflush(stdout) == 0 ? 0 : 1;
}

static const struct command commands[] = {
	{ "user", "add", 0, cmd_user_add },
	{ "user", "list", 0, cmd_user_list },
	{ "user", "disable", 0, cmd_user_disable },
	{ "user", "enable", 0, cmd_user_enable },
	{ "user", "set-role", 0, cmd_user_set_role },
	{ "user", "set-away", 0, cmd_user_set_away },
	{ "user", "set-password", 0, cmd_user_set_password },
	{ "user", "export", 0, cmd_user_export },
	{ "user", "erase", 0, cmd_user_erase },
	{ "token", "create", 0, cmd_token_create },
	{ "token", "list", 0, cmd_token_list },
	{ "token", "revoke", 0, cmd_token_revoke },
	{ "db", "verify", OWN_STORE, cmd_db_verify },
	{ "db", "backup", OWN_STORE, cmd_db_backup },
	{ "session", "purge", 0, cmd_session_purge },
	{ "close_old_tickets", NULL, 0, cmd_close_old },
	{ "send_ticket_reminders", NULL, 0, cmd_send_reminders },
	/* "events trim" before "events": the first that matches runs. */
	{ "events", "trim", 0, cmd_events_trim },
	{ "events", NULL, 0, cmd_events },
	{ "export_support_data", NULL, 0, cmd_export },
	{ "purge_old_tickets", NULL, 0, cmd_purge_old },
	{ "support_stats", NULL, 0, cmd_support_stats },
	{ "reply-token", NULL, 0, cmd_reply_token },
	{ "outbox", "list", 0, cmd_outbox_list },
	{ "outbox", "retry", 0, cmd_outbox_retry },
	{ "outbox", "drop", 0, cmd_outbox_drop },
	{ "audit", NULL, 0, cmd_audit },
};

/* Find the command argv names, open the store unless it opens its own, run. */
static int
run(const struct sup_conf *conf, int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct store s;
	sup_err e;
	int rc, skip;

	for (size_t i = 0; i < SUP_NELEM(commands) && cmd == NULL; i++)
		if (strcmp(argv[0], commands[i].noun) == 0 &&
		    (commands[i].verb == NULL || (argc >= 2 &&
		    strcmp(argv[1], commands[i].verb) == 0)))
			cmd = &commands[i];
	if (cmd == NULL) {
		usage();
		return 2;
	}
	skip = cmd->verb == NULL ? 0 : 1;
	if (cmd->flags & OWN_STORE)
		return cmd->run(conf, NULL, argc - skip, argv + skip);
	if ((e = store_open(&s, conf, desk_areas)) != SUP_OK) {
		fprintf(stderr, "supportctl: cannot open the store in %s: %s\n",
		    conf->data_dir, sup_strerror(e));
		return 1;
	}
	rc = cmd->run(conf, &s, argc - skip, argv + skip);
	store_close(&s);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sup_conf conf;
	const char *conf_file = NULL;
	int first = 1, rc;

	if (sodium_init() < 0)
		return 1;
	if (argc > 2 && strcmp(argv[1], "--conf") == 0) {
		conf_file = argv[2];
		first = 3;
	}
	if (first >= argc || strcmp(argv[first], "--help") == 0) {
		usage();
		return first >= argc ? 2 : 0;
	}
	if (conf_load(&conf, conf_path(conf_file)) != SUP_OK) {
		fprintf(stderr, "supportctl: %s\n", conf.errmsg);
		conf_free(&conf);
		return 1;
	}
	rc = run(&conf, argc - first, argv + first);
	conf_free(&conf);
	return rc;
}
