/*
 * hello - the limit probe of DESIGN §10: a hello-world libfcgi responder
 * with the process model of the programs in cgi-bin/ (cgi-bin/app.c), so
 * that what it measures is nginx, the FastCGI round trip and the process
 * model, and nothing of ours.
 *
 *   hello --listen unix:PATH | HOST:PORT [--children N] [--size BYTES]
 *         [--commit DIR]
 *
 * Like app.c it opens the socket itself, forks N workers that each run the
 * same FCGX_Accept_r loop on it, and replaces a worker that dies (at most
 * one a second).  SIGTERM or SIGINT stops the parent and its workers.
 * Every request gets "200 OK", text/plain, "Hello, world\n".  With
 * --size the body is padded to BYTES (a control: the cost of moving a
 * response as large as ours, with none of our work).
 *
 * With --commit each request also writes its body to a Berkeley DB
 * environment in DIR (made if missing; the store's settings: 16 MB cache,
 * 256 kB log buffer, log files zeroed and removed when done with) in a
 * transaction of its own, committed durably, before the reply.  That is
 * the floor under posting a message: one record put and one log flush a
 * request, none of our parsing, checks, indexes or answer.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <db.h>
#include <fcgiapp.h>

static volatile sig_atomic_t stopping;

/* The whole reply, headers and body; made once in main(). */
static char *reply;
static int reply_len;

/* --commit: the environment's directory; each worker's handles. */
static const char *commit_dir;
static DB_ENV *env;
static DB *db;

/* A worker's environment and database, as lib/store/store.c opens the store. */
static int
commit_open(void)
{
	if (db_env_create(&env, 0) != 0)
		return -1;
	env->set_cachesize(env, 0, 16 << 20, 1);
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_lg_bsize(env, 256 * 1024);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	env->log_set_config(env, DB_LOG_ZERO, 1);
	if (env->open(env, commit_dir, DB_CREATE | DB_INIT_TXN |
	    DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_REGISTER |
	    DB_RECOVER, 0660) != 0 ||
	    db_create(&db, env, 0) != 0 ||
	    db->open(db, NULL, "floor.db", NULL, DB_BTREE,
	    DB_CREATE | DB_AUTO_COMMIT, 0660) != 0) {
		fprintf(stderr, "hello: cannot open %s\n", commit_dir);
		return -1;
	}
	return 0;
}

/*
 * The request's body (at most 4 KB of it) under a key no other request
 * has (process id and a count), in its own transaction, durably.
 */
static int
commit_body(FCGX_Request *req)
{
	static unsigned long count;
	unsigned long key[2] = { (unsigned long)getpid(), ++count };
	char body[4096];
	int len = FCGX_GetStr(body, sizeof(body), req->in);
	DBT k = { .data = key, .size = sizeof(key) };
	DBT d = { .data = body, .size = len > 0 ? (u_int32_t)len : 0 };
	DB_TXN *txn;

	if (env->txn_begin(env, NULL, &txn, 0) != 0)
		return -1;
	if (db->put(db, txn, &k, &d, 0) != 0) {
		txn->abort(txn);
		return -1;
	}
	return txn->commit(txn, 0) == 0 ? 0 : -1;
}

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

/* As app.c: no SA_RESTART, so a blocked accept() returns on a signal. */
static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* One worker: the same accept loop as serve_fcgi() in cgi-bin/app.c. */
static int
serve(int fd)
{
	FCGX_Request req;

	if (FCGX_InitRequest(&req, fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		return 1;
	if (commit_dir != NULL && commit_open() != 0)
		return 1;
	while (!stopping && FCGX_Accept_r(&req) >= 0) {
		char c;
		if (commit_dir != NULL && commit_body(&req) != 0) {
			FCGX_PutS("Status: 500 Internal Server Error\r\n"
			    "Content-Type: text/plain\r\n\r\n"
			    "commit failed\n", req.out);
			FCGX_Finish_r(&req);
			continue;
		}
		FCGX_PutStr(reply, reply_len, req.out);
		/* As app.c: a GET's empty body read, then a plain close. */
		if (FCGX_GetStr(&c, 1, req.in) == 0 &&
		    FCGX_HasSeenEOF(req.in) == EOF)
			FCGX_Detach(&req);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	if (db != NULL)
		db->close(db, 0);
	if (env != NULL)
		env->close(env, 0);
	return 0;
}

static pid_t
spawn(int fd)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
#ifdef __linux__
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
#endif
		_exit(serve(fd));
	}
	return pid;
}

/* Keep n workers on fd until told to stop (app.c's supervise()). */
static int
supervise(int fd, int n)
{
	pid_t *kids = calloc((size_t)n, sizeof(*kids));
	time_t last_spawn = 0;

	if (kids == NULL)
		return 1;
	for (int i = 0; i < n; i++)
		kids[i] = spawn(fd);
	while (!stopping) {
		int status;
		pid_t pid = wait(&status);
		if (pid < 0)
			continue;
		for (int i = 0; i < n; i++)
			if (kids[i] == pid) {
				if (time(NULL) - last_spawn < 1)
					sleep(1);
				if (stopping)
					break;
				last_spawn = time(NULL);
				kids[i] = spawn(fd);
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

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "children", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "commit", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const char head[] = "Status: 200 OK\r\n"
	    "Content-Type: text/plain\r\n\r\n";
	static const char hello[] = "Hello, world\n";
	long size = 0;
	const char *listen_addr = NULL, *addr;
	long children = 2;
	char *end;
	int c, fd, rc;

	while ((c = getopt_long(argc, argv, "l:n:s:c:", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_addr = optarg;
			break;
		case 'c':
			commit_dir = optarg;
			break;
		case 'n':
			errno = 0;
			children = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    children < 1 || children > 256) {
				fputs("hello: --children takes 1 to 256\n",
				    stderr);
				return 2;
			}
			break;
		case 's':
			errno = 0;
			size = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    size < 0 || size > 1L << 24) {
				fputs("hello: --size takes 0 to 16777216\n",
				    stderr);
				return 2;
			}
			break;
		default:
			goto usage;
		}
	}
	if (listen_addr == NULL || optind != argc)
		goto usage;
	/* "Hello, world\n", then 'x's up to size, the last one a newline. */
	if (size < (long)sizeof(hello) - 1)
		size = (long)sizeof(hello) - 1;
	reply_len = (int)(sizeof(head) - 1 + (size_t)size);
	if ((reply = malloc((size_t)reply_len)) == NULL)
		return 1;
	memcpy(reply, head, sizeof(head) - 1);
	memset(reply + sizeof(head) - 1, 'x', (size_t)size);
	memcpy(reply + sizeof(head) - 1, hello, sizeof(hello) - 1);
	reply[reply_len - 1] = '\n';
	if (FCGX_Init() != 0)
		return 1;
	catch_signals();
	addr = strncmp(listen_addr, "unix:", 5) == 0 ? listen_addr + 5 :
	    listen_addr;
	if (addr != listen_addr)
		unlink(addr);
	if ((fd = FCGX_OpenSocket(addr, 128)) < 0) {
		fprintf(stderr, "hello: cannot listen on %s\n", listen_addr);
		return 1;
	}
	if (addr != listen_addr)
		chmod(addr, 0666);
	rc = supervise(fd, (int)children);
	if (addr != listen_addr)
		unlink(addr);
	free(reply);
	return rc;
usage:
	fputs("usage: hello --listen unix:PATH | HOST:PORT [--children N] "
	    "[--size BYTES] [--commit DIR]\n", stderr);
	return 2;
}
