/*
 * supportctl - manage the support desk from the command line.
 *
 *   supportctl [--conf FILE] user add NAME --email E --role user|agent|admin
 *                                      [--display-name D] --password-stdin
 *   supportctl [--conf FILE] user list
 *   supportctl [--conf FILE] token create NAME [--label L]
 *   supportctl [--conf FILE] db verify
 *   supportctl [--conf FILE] db backup DIR
 *   supportctl [--conf FILE] session purge
 *   supportctl [--conf FILE] close_old_tickets --days N
 *
 * The configuration is FILE, else $SUPPORT_CONF, else the compiled default.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backup.h"
#include "conf.h"
#include "sess.h"
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
	    "  token create NAME [--label L]\n"
	    "  db verify\n"
	    "  db backup DIR\n"
	    "  session purge\n"
	    "  close_old_tickets --days N\n", stderr);
}

/* Read one line from stdin into a new string, without its newline. */
static char *
read_password(void)
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

static int
user_add(struct store *s, int argc, char **argv)
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
	if ((password = read_password()) == NULL || *password == '\0') {
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
	printf("%6" PRId64 "  %-20s %-8s %s%s\n", rec_int(rec, "id"),
	    rec_str(rec, "username"), rec_str(rec, "role"),
	    rec_str(rec, "email"), rec_bool(rec, "is_active") ? "" :
	    "  (inactive)");
	return SUP_OK;
}

static void
print_problem(void *ctx SUP_UNUSED, const char *line)
{
	printf("problem: %s\n", line);
}

static void
print_step(void *ctx SUP_UNUSED, enum backup_step step, const char *name)
{
	if (step == BACKUP_DATABASE || step == BACKUP_LOG)
		printf("copied %s\n", name);
	else if (step == BACKUP_RECOVERED)
		puts("recovered the copy");
}

/* A hot backup into dir; the store stays open to the programs. */
static int
backup(const struct sup_conf *conf, const char *dir)
{
	struct backup_stats st;
	sup_err e = store_backup(conf, dir, print_step, NULL, &st);

	if (e != SUP_OK) {
		fprintf(stderr, "supportctl: backup into %s failed: %s\n", dir,
		    e == SUP_EEXIST ? "the directory is not empty" :
		    sup_strerror(e));
		return 1;
	}
	printf("backup of %d databases and %d log files (%lld bytes) in %s\n",
	    st.databases, st.logs, st.bytes, dir);
	return 0;
}

static int
run(const struct sup_conf *conf, int argc, char **argv)
{
	struct store s;
	sup_err e;
	int rc = 0;

	if (argc >= 2 && strcmp(argv[0], "db") == 0 &&
	    strcmp(argv[1], "verify") == 0) {
		long problems = 0;
		if ((e = store_verify(conf, print_problem, NULL, &problems)) !=
		    SUP_OK) {
			fprintf(stderr, "supportctl: verify: %s\n",
			    sup_strerror(e));
			return 1;
		}
		printf("%ld problem%s found\n", problems, problems == 1 ? "" :
		    "s");
		return problems == 0 ? 0 : 1;
	}
	if (argc == 3 && strcmp(argv[0], "db") == 0 &&
	    strcmp(argv[1], "backup") == 0)
		return backup(conf, argv[2]);
	if ((e = store_open(&s, conf)) != SUP_OK) {
		fprintf(stderr, "supportctl: cannot open the store in %s: %s\n",
		    conf->data_dir, sup_strerror(e));
		return 1;
	}
	if (argc >= 2 && strcmp(argv[0], "user") == 0 &&
	    strcmp(argv[1], "add") == 0)
		rc = user_add(&s, argc - 1, argv + 1);
	else if (argc == 2 && strcmp(argv[0], "user") == 0 &&
	    strcmp(argv[1], "list") == 0) {
		if ((e = user_each(&s, print_user, NULL)) != SUP_OK) {
			fprintf(stderr, "supportctl: %s\n", sup_strerror(e));
			rc = 1;
		}
	} else if (argc >= 3 && strcmp(argv[0], "token") == 0 &&
	    strcmp(argv[1], "create") == 0) {
		const char *label = argc == 5 && strcmp(argv[3], "--label") == 0 ?
		    argv[4] : "cli";
		char *token;
		if (argc != 3 &&
		    (argc != 5 || strcmp(argv[3], "--label") != 0)) {
			usage();
			rc = 2;
		} else if ((e = token_create(&s, argv[2], label, &token)) !=
		    SUP_OK) {
			fprintf(stderr, "supportctl: token: %s\n",
			    e == SUP_ENOTFOUND ? "no such user" :
			    sup_strerror(e));
			rc = 1;
		} else {
			printf("%s\n", token);
			free(token);
		}
	} else if (argc == 3 && strcmp(argv[0], "close_old_tickets") == 0 &&
	    strcmp(argv[1], "--days") == 0) {
		/* Resolved more than N days ago: closed (DESIGN §4). */
		long days, closed = 0;
		if (!parse_long(argv[2], 0, 100000, &days)) {
			fputs("supportctl: --days takes 0 to 100000\n", stderr);
			rc = 2;
		} else if ((e = ticket_close_resolved(&s, time_now_us() -
		    days * 86400 * 1000000LL, &closed)) != SUP_OK) {
			fprintf(stderr, "supportctl: close_old_tickets: %s "
			    "(%ld closed before the error)\n", sup_strerror(e),
			    closed);
			rc = 1;
		} else
			printf("%ld ticket%s closed\n", closed,
			    closed == 1 ? "" : "s");
	} else if (argc == 2 && strcmp(argv[0], "session") == 0 &&
	    strcmp(argv[1], "purge") == 0) {
		/* Expired sessions and throttle counts past their window. */
		long removed = 0;
		if ((e = sess_purge(&s, conf, time_now_us(), &removed)) !=
		    SUP_OK) {
			fprintf(stderr, "supportctl: session purge: %s\n",
			    sup_strerror(e));
			rc = 1;
		} else
			printf("%ld record%s removed\n", removed,
			    removed == 1 ? "" : "s");
	} else {
		usage();
		rc = 2;
	}
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
