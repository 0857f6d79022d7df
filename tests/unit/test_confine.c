/*
 * test_confine.c - lib/base/confine.c: a confined process keeps what a worker
 * needs (its store's directory to read and write, even to reopen and
 * recover the store; its templates to read; its temporary directory) and
 * loses the rest: other files, other programs, new processes, sockets.
 *
 * Each check runs in a child process of its own, confined as a worker is,
 * and reports by its exit status (0: as expected; another number says
 * which step went wrong) or by the signal that ended it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "areas.h"
#include "counter.h"
#include "confine.h"
#include "conf.h"
#include "store.h"
#include "sup.h"

#include "tap.h"

static struct sup_conf conf;
static char top[64];			/* the scratch directory */
static char templates[128];		/* conf.templates_dir */
static char tmp[128];			/* $TMPDIR of the children */
static char other[128];			/* a directory no rule names */
static bool landlock;			/* the kernel limits files */
static pid_t parent;			/* this process, for the children */

/* Run fn in a confined child; its wait status. */
static int
confined(int (*fn)(void))
{
	struct rlimit no_core = { 0, 0 };
	int status;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) < 0)
		bail_out("fork");
	if (pid == 0) {
		/* A child ended with SIGSYS leaves no core file behind. */
		setrlimit(RLIMIT_CORE, &no_core);
		if (confine_worker(&conf, false) != SUP_OK)
			_exit(99);
		_exit(fn());
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			bail_out("waitpid");
	return status;
}

/* Did the child exit with 0?  Says what it did otherwise. */
static bool
exited_ok(int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return true;
	if (WIFEXITED(status))
		diag("the child exited with %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		diag("the child was ended by signal %d", WTERMSIG(status));
	return false;
}

static bool
killed_by_sigsys(int status)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		return true;
	exited_ok(status);
	return false;
}

/* Write, read back and remove a file in dir; 0 or the step that failed. */
static int
write_read_remove(const char *dir)
{
	char path[256], buf[8];
	int fd;

	snprintf(path, sizeof(path), "%s/scratch", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
		return 1;
	if (write(fd, "written", 7) != 7 || ftruncate(fd, 7) != 0 ||
	    fdatasync(fd) != 0 || pread(fd, buf, 7, 0) != 7 ||
	    memcmp(buf, "written", 7) != 0)
		return 2;
	close(fd);
	return unlink(path) == 0 ? 0 : 3;
}

static int
store_dir_works(void)
{
	return write_read_remove(conf.data_dir);
}

static int
tmp_dir_works(void)
{
	return write_read_remove(tmp);
}

/* Open path read-only: 0 when refused with EACCES, 1 when it opened. */
static int
refused(const char *path, int flags)
{
	int fd = open(path, flags, 0600);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EACCES ? 0 : 2;
}

static int
templates_read_only(void)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/page.html", templates);
	if ((fd = open(path, O_RDONLY)) < 0)
		return 1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return 2;
	snprintf(path, sizeof(path), "%s/new.html", templates);
	if (refused(path, O_WRONLY | O_CREAT) != 0)
		return 3;
	snprintf(path, sizeof(path), "%s/page.html", templates);
	return refused(path, O_WRONLY) == 0 ? 0 : 4;
}

static int
passwd_refused(void)
{
	return refused("/etc/passwd", O_RDONLY);
}

static int
other_dir_refused(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/secret", other);
	if (refused(path, O_RDONLY) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/new", other);
	return refused(path, O_WRONLY | O_CREAT) == 0 ? 0 : 2;
}

/* A write transaction: one counter up by one. */
static sup_err
bump(struct store *s, DB_TXN *txn, void *arg SUP_UNUSED)
{
	return store_count_add(s, txn, "confine_test", 1);
}

/* Open the store, close it, open it again and write: as a worker reopens. */
static int
store_reopens(void)
{
	struct store s;

	if (store_open(&s, &conf, desk_areas) != SUP_OK)
		return 1;
	store_close(&s);
	if (store_open(&s, &conf, desk_areas) != SUP_OK)
		return 2;
	if (store_run(&s, 0, bump, NULL) != SUP_OK)
		return 3;
	store_close(&s);
	return 0;
}

/* A write transaction: a 1 MB record, over and over, to fill log files. */
static sup_err
put_big(struct store *s, DB_TXN *txn, void *arg)
{
	return store_put(*store_db_find(s, "throttle.db"), txn, "confine-big", 11, arg, 0);
}

/* Does the store still have its first log file? */
static bool
first_log_exists(void)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/log.0000000001", conf.data_dir);
	return stat(path, &st) == 0;
}

/*
 * Write past the end of a log file (10 MB): Berkeley DB makes the next
 * one, written full of zeroes (DB_LOG_ZERO); then checkpoints let it
 * remove the first (DB_LOG_AUTO_REMOVE), as a worker's upkeep does.
 */
static int
log_files_turn(void)
{
	json_object *big;
	struct store s;
	char *text;
	int rc = 0;

	if ((text = malloc(1 << 20)) == NULL)
		return 1;
	memset(text, 'x', (1 << 20) - 1);
	text[(1 << 20) - 1] = '\0';
	big = json_object_new_string(text);
	free(text);
	if (big == NULL || store_open(&s, &conf, desk_areas) != SUP_OK)
		return 2;
	for (int i = 0; rc == 0 && i < 24; i++) {
		if (store_run(&s, 0, put_big, big) != SUP_OK)
			rc = 3;
		else if (i % 8 == 7)
			store_checkpoint(&s, true);
	}
	store_checkpoint(&s, true);
	if (rc == 0 && first_log_exists())
		rc = 4;
	store_close(&s);
	json_object_put(big);
	return rc;
}

/*
 * Open the store where a process died holding it: this one runs recovery
 * (DB_REGISTER), as a confined worker does after another one was killed.
 */
static int
store_recovers(void)
{
	struct store s;
	int rc = 0;

	if (store_open(&s, &conf, desk_areas) != SUP_OK)
		return 1;
	if (store_run(&s, 0, bump, NULL) != SUP_OK)
		rc = 2;
	store_close(&s);
	return rc;
}

static int
exec_true(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return 1;		/* refused without ending the process */
}

static int
forks(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	return 1;
}

static int
traces(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return 1;
}

/* socket() of any kind is refused with EPERM; the process lives on. */
static int
no_sockets(void)
{
	if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EPERM)
		return 1;
	if (socket(AF_UNIX, SOCK_STREAM, 0) >= 0 || errno != EPERM)
		return 2;
	return 0;
}

static int tcp_fd = -1;		/* a TCP socket made before confining */

/* On a TCP socket it has, Nagle can be turned off, and nothing else set. */
static int
tcp_nodelay_only(void)
{
	int one = 1;

	if (setsockopt(tcp_fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) != 0)
		return 1;
	if (setsockopt(tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == 0 || errno != EPERM)
		return 2;
	return 0;
}

/* fcntl: flags and locks, but no signals aimed at another process. */
static int
fcntl_no_owner(void)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int flags = fcntl(tcp_fd, F_GETFL);

	if (flags < 0 || fcntl(tcp_fd, F_SETFD, FD_CLOEXEC) != 0)
		return 1;
	if (fcntl(tcp_fd, F_SETOWN, parent) == 0 || errno != EPERM)
		return 2;
	if (fcntl(tcp_fd, F_SETSIG, SIGUSR1) == 0 || errno != EPERM)
		return 3;
	/* A lock on a socket: whatever the kernel says, not the filter. */
	return fcntl(tcp_fd, F_SETLK, &fl) == 0 || errno != EPERM ? 0 : 4;
}

/* ioctl: the terminal question stdio asks (TCGETS), nothing else. */
static int
ioctl_tcgets_only(void)
{
	struct termios t;
	int n;

	if (ioctl(tcp_fd, TCGETS, &t) == 0 || errno != ENOTTY)
		return 1;
	return ioctl(tcp_fd, FIONREAD, &n) != 0 && errno == EPERM ? 0 : 2;
}

static int unix_fds[2] = { -1, -1 };	/* a socket pair made before */

/*
 * send() on a connected socket it has (support-mailin's syslog) works;
 * sendto with an address is refused.
 */
static int
send_connected_only(void)
{
	struct sockaddr_un to = { .sun_family = AF_UNIX };
	char c;

	if (send(unix_fds[0], "x", 1, 0) != 1 ||
	    read(unix_fds[1], &c, 1) != 1 || c != 'x')
		return 1;
	strcpy(to.sun_path, "/dev/log");
	if (sendto(unix_fds[0], "x", 1, 0, (struct sockaddr *)&to,
	    sizeof(to)) >= 0 || errno != EPERM)
		return 2;
	return 0;
}

/* A call off the list (uname) fails with EPERM, and the process goes on. */
static int
unlisted_eperm(void)
{
	struct utsname u;

	return uname(&u) != 0 && errno == EPERM ? 0 : 1;
}

/* Signals: to itself yes, to its parent no. */
static int
signals_self_only(void)
{
	if (kill(getpid(), 0) != 0)
		return 1;
	return kill(parent, 0) != 0 && errno == EPERM ? 0 : 2;
}

/*
 * The request watchdog's way out (cgi-bin/app.c, on_tick): a timer, then
 * the default action back and SIGALRM raised, which ends the process.
 */
static int
watchdog_ends(void)
{
	struct itimerval tick = { { 1, 0 }, { 1, 0 } };
	struct sigaction sa;

	if (setitimer(ITIMER_REAL, &tick, NULL) != 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		return 2;
	raise(SIGALRM);
	return 3;
}

/* Memory yes, executable memory no. */
static int
no_exec_memory(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 1;
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC) == 0 || errno != EPERM)
		return 2;
	if (mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED ||
	    errno != EPERM)
		return 3;
	return munmap(p, 4096) == 0 ? 0 : 4;
}

/*
 * The kernel's view of a confined process: seccomp in filter mode (2) and
 * no_new_privs, read from /proc by the parent (the child cannot: /proc is
 * not among its paths).
 */
static void
test_status(void)
{
	int ready[2], go[2], status;
	char line[256], path[64], c;
	bool seccomp = false, nnp = false;
	FILE *f;
	pid_t pid;

	if (pipe(ready) != 0 || pipe(go) != 0)
		bail_out("pipe");
	fflush(stdout);
	if ((pid = fork()) < 0)
		bail_out("fork");
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		if (confine_worker(&conf, false) != SUP_OK)
			_exit(99);
		(void)write(ready[1], "r", 1);
		(void)read(go[0], &c, 1);	/* until the parent has looked */
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) == 1) {
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		if ((f = fopen(path, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL) {
				if (strcmp(line, "Seccomp:\t2\n") == 0)
					seccomp = true;
				if (strcmp(line, "NoNewPrivs:\t1\n") == 0)
					nnp = true;
			}
			fclose(f);
		}
	}
	close(go[1]);
	close(ready[0]);
	waitpid(pid, &status, 0);
	ok(seccomp, "a confined process is in seccomp filter mode "
	    "(/proc/PID/status Seccomp: 2)");
	ok(nnp, "  and cannot gain privileges (NoNewPrivs: 1)");
	ok(exited_ok(status), "  and ends normally");
}

/* confine = no: nothing changes. */
static int
unconfined_reads_passwd(void)
{
	int fd = open("/etc/passwd", O_RDONLY);

	if (fd < 0)
		return 1;
	close(fd);
	return 0;
}

static void
test_off(void)
{
	conf.confine = false;
	ok(exited_ok(confined(unconfined_reads_passwd)),
	    "confine = no: the process still opens /etc/passwd");
	conf.confine = true;
}

static void
test_files(void)
{
	if (!landlock) {
		diag("no Landlock in this kernel: file checks skipped");
		return;
	}
	ok(exited_ok(confined(store_dir_works)),
	    "Landlock: the store directory is read, written, truncated and "
	    "a file removed");
	ok(exited_ok(confined(templates_read_only)),
	    "  the templates are read, never written or added to");
	ok(exited_ok(confined(tmp_dir_works)),
	    "  the temporary directory ($TMPDIR) is read and written");
	ok(exited_ok(confined(passwd_refused)),
	    "  /etc/passwd cannot be opened (EACCES)");
	ok(exited_ok(confined(other_dir_refused)),
	    "  nor a file in another temporary directory, to read or to make");
}

static void
test_store(void)
{
	char region[256];
	struct store s;
	struct stat st;
	int status, fd;
	pid_t pid;

	ok(exited_ok(confined(store_reopens)),
	    "a confined process opens the store again and writes to it");
	ok(exited_ok(confined(log_files_turn)),
	    "  writes 24 MB: new log files made, the first removed by a "
	    "checkpoint");
	/* A process that dies holding the store: the next opener recovers. */
	fflush(stdout);
	if ((pid = fork()) < 0)
		bail_out("fork");
	if (pid == 0) {
		if (store_open(&s, &conf, desk_areas) != SUP_OK)
			_exit(1);
		_exit(0);	/* without store_close: as if killed */
	}
	waitpid(pid, &status, 0);
	/* Recovery removes the region files: kept open, this one shows it. */
	snprintf(region, sizeof(region), "%s/__db.001", conf.data_dir);
	fd = open(region, O_RDONLY);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && fd >= 0,
	    "a process opened the store and died without closing it");
	ok(exited_ok(confined(store_recovers)),
	    "  a confined process then opens it and writes");
	ok(fd >= 0 && fstat(fd, &st) == 0 && st.st_nlink == 0,
	    "  having run recovery (the old region file is gone)");
	if (fd >= 0)
		close(fd);
}

/* Is there no seccomp in this kernel at all? */
static bool
seccomp_missing(void)
{
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL;
}

static void
test_calls(void)
{
	int status;

	ok(killed_by_sigsys(confined(exec_true)),
	    "execve of /bin/true ends the confined process (SIGSYS)");
	ok(killed_by_sigsys(confined(forks)),
	    "fork ends the confined process (SIGSYS)");
	ok(killed_by_sigsys(confined(traces)),
	    "ptrace ends the confined process (SIGSYS)");
	ok(exited_ok(confined(no_sockets)),
	    "a new socket, TCP or Unix, is refused with EPERM; the process "
	    "lives on");
	if ((tcp_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		bail_out("socket");
	ok(exited_ok(confined(tcp_nodelay_only)),
	    "on a TCP connection it has, TCP_NODELAY can be set (libfcgi), "
	    "no other option");
	ok(exited_ok(confined(fcntl_no_owner)),
	    "fcntl: flags and locks, not F_SETOWN or F_SETSIG (EPERM)");
	ok(exited_ok(confined(ioctl_tcgets_only)),
	    "ioctl: TCGETS answers (not a terminal), FIONREAD is refused");
	close(tcp_fd);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, unix_fds) != 0)
		bail_out("socketpair");
	ok(exited_ok(confined(send_connected_only)),
	    "send on a connected socket it has works (syslog); sendto with "
	    "an address is refused (EPERM)");
	close(unix_fds[0]);
	close(unix_fds[1]);
	ok(exited_ok(confined(unlisted_eperm)),
	    "a call off the allow-list (uname) fails with EPERM");
	ok(exited_ok(confined(signals_self_only)),
	    "signals go to the process itself, not to its parent");
	status = confined(watchdog_ends);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM,
	    "the request watchdog still ends the process (SIGALRM)");
	ok(exited_ok(confined(no_exec_memory)),
	    "memory can be mapped, but not executable memory");
}

int
main(void)
{
	char path[4096];
	const char *why = confine_unavailable();

	if (why != NULL) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	if (seccomp_missing()) {
		printf("1..0 # SKIP this kernel has no seccomp\n");
		return 0;
	}
	landlock = confine_landlock_abi() > 0;
	parent = getpid();
	diag("Landlock ABI %d", confine_landlock_abi());
	tap_store_conf(top, sizeof(top), &conf, "");
	snprintf(templates, sizeof(templates), "%s/templates", top);
	snprintf(tmp, sizeof(tmp), "%s/tmp", top);
	if (mkdir(templates, 0700) != 0 || mkdir(tmp, 0700) != 0)
		bail_out("mkdir");
	tap_write_file(path, sizeof(path), templates, "page.html",
	    "<p>{{x}}</p>\n");
	tap_tmpdir(other, sizeof(other));
	tap_write_file(path, sizeof(path), other, "secret", "secret\n");
	free(conf.templates_dir);
	if ((conf.templates_dir = strdup(templates)) == NULL)
		bail_out("strdup");
	setenv("TMPDIR", tmp, 1);
	conf.confine = true;

	test_off();
	test_status();
	test_files();
	test_store();
	test_calls();

	conf_free(&conf);
	tap_rmtree(top);
	tap_rmtree(other);
	return done_testing();
}
