/*
 * confine.c - a worker gives up what it does not need (docs/security.md,
 * "Confinement"), as OpenSSH's privilege-separated child does: Landlock
 * limits the files it can open, then a seccomp filter limits the system
 * calls it can make.  Both are inherited by anything the process could
 * start, and neither can be lifted.
 *
 * Landlock is spoken to through raw system calls: glibc has no wrappers,
 * and the header of an older kernel lacks the newer rights, which are
 * defined here by their ABI numbers.  What the running kernel knows is
 * asked at run time (its ABI version) and only that is used.
 *
 * The allow-list was made from strace of the programs' workers under the
 * http tests behind nginx, Apache's mod_fcgid and mod_proxy_fcgi and as
 * plain CGI (docs/security.md says how to make it again).  It holds what
 * a worker calls after start-up, including what reopening the store
 * calls (a worker reopens it, and may run recovery, when another process
 * died holding it).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A sanitizer build by flags configure did not add (CFLAGS=-fsanitize=). */
#if defined(__SANITIZE_ADDRESS__) && !defined(SUPPORT_SANITIZED)
#define SUPPORT_SANITIZED 1
#endif
#if defined(__has_feature) && !defined(SUPPORT_SANITIZED)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer)
#define SUPPORT_SANITIZED 1
#endif
#endif
#if defined(SUPPORT_CONFINE) && !defined(SUPPORT_SANITIZED)
#define CONFINE_ON 1
#include <seccomp.h>
#endif

#include "confine.h"

/* --- Landlock ---------------------------------------------------------- */

/*
 * The rights by ABI version (Documentation/userspace-api/landlock.rst).
 * ABI 1 has bits 0 to 12 of the file rights.
 */
#define LL_FS_WRITE_FILE	(1ULL << 1)
#define LL_FS_READ_FILE		(1ULL << 2)
#define LL_FS_READ_DIR		(1ULL << 3)
#define LL_FS_REMOVE_FILE	(1ULL << 5)
#define LL_FS_MAKE_DIR		(1ULL << 7)
#define LL_FS_MAKE_REG		(1ULL << 8)
#define LL_FS_ABI1		((1ULL << 13) - 1)
#define LL_FS_REFER		(1ULL << 13)	/* ABI 2 */
#define LL_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#define LL_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#define LL_NET_BIND_TCP		(1ULL << 0)	/* ABI 4 */
#define LL_NET_CONNECT_TCP	(1ULL << 1)	/* ABI 4 */
#define LL_SCOPE_ABSTRACT_UNIX	(1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL		(1ULL << 1)	/* ABI 6 */

#define LL_CREATE_RULESET_VERSION	(1U << 0)
#define LL_RULE_PATH_BENEATH		1

/* What a directory of the store or the temporary directory allows. */
#define LL_READ_WRITE	(LL_FS_READ_FILE | LL_FS_WRITE_FILE | \
	LL_FS_READ_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_REG | LL_FS_TRUNCATE)
#define LL_READ		(LL_FS_READ_FILE | LL_FS_READ_DIR)
/*
 * The store's directory also: directories made (files/ab/cd/ of the
 * attachments, lib/desk/attach.h) and a file linked or renamed from one
 * directory of it to another (REFER, ABI 2: an upload's spool file in
 * files/tmp/ put in place); on ABI 1, which refuses that link, attach.c
 * copies the file instead.
 */
#define LL_STORE	(LL_READ_WRITE | LL_FS_MAKE_DIR | LL_FS_REFER)

/*
 * struct landlock_ruleset_attr as of ABI 6.  The kernel takes a larger
 * struct than it knows when the part it does not know is zero, so one
 * layout serves every version: only the fields the kernel's ABI has are
 * set.
 */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

/* struct landlock_path_beneath_attr (packed, as the kernel's). */
struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#ifdef __NR_landlock_create_ruleset
#define HAVE_LANDLOCK_SYSCALLS 1
#endif

int
confine_landlock_abi(void)
{
#ifdef HAVE_LANDLOCK_SYSCALLS
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);

	return abi > 0 ? (int)abi : 0;
#else
	return 0;
#endif
}

/* Whether to say what the kernel or the build lacks (confine_worker). */
static bool notes;

/* Say what is missing, once a process: one line, not one per call. */
static void
note_once(bool *said, const char *what)
{
	if (*said || !notes)
		return;
	*said = true;
	fprintf(stderr, "support: confine: %s\n", what);
}

#ifdef CONFINE_ON

#ifdef HAVE_LANDLOCK_SYSCALLS
/*
 * Allow access (masked by what the ruleset handles) beneath path.  A
 * path that does not exist is skipped: nothing can be read there anyway.
 * SUP_OK or SUP_ECONFIG.
 */
static sup_err
ll_allow(int ruleset, uint64_t handled, const char *path, uint64_t access)
{
	struct ll_path_beneath_attr pb;
	int fd, rc, err;

	if (path == NULL || *path == '\0')
		return SUP_OK;
	if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return SUP_OK;
		fprintf(stderr, "support: confine: %s: %s\n", path,
		    strerror(errno));
		return SUP_ECONFIG;
	}
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access & handled;
	pb.parent_fd = fd;
	rc = (int)syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH,
	    &pb, 0);
	err = errno;
	close(fd);
	if (rc != 0) {
		fprintf(stderr, "support: confine: landlock rule for %s: %s\n",
		    path, strerror(err));
		return SUP_ECONFIG;
	}
	return SUP_OK;
}

/* The temporary directory: $TMPDIR when it is an absolute path, else /tmp. */
static const char *
tmp_dir(void)
{
	const char *t = getenv("TMPDIR");

	return t != NULL && t[0] == '/' ? t : "/tmp";
}

/*
 * Limit the files this process can reach (see the file's comment).  With
 * no Landlock in the kernel it says so once and returns SUP_OK.
 */
static sup_err
landlock(const struct sup_conf *conf)
{
	static bool said;
	struct ll_ruleset_attr attr;
	int abi = confine_landlock_abi(), ruleset;
	sup_err e;

	if (abi == 0) {
		note_once(&said, "this kernel has no Landlock (Linux 5.13 or "
		    "later, with landlock in its lsm= list): file access is "
		    "not limited; the system-call filter still applies");
		return SUP_OK;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LL_FS_ABI1;
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr,
	    sizeof(attr), 0);
	if (ruleset < 0) {
		fprintf(stderr, "support: confine: landlock ruleset: %s\n",
		    strerror(errno));
		return SUP_ECONFIG;
	}
	if ((e = ll_allow(ruleset, attr.handled_access_fs, conf->data_dir,
	    LL_STORE)) != SUP_OK ||
	    (e = ll_allow(ruleset, attr.handled_access_fs, conf->templates_dir,
	    LL_READ)) != SUP_OK ||
	    (e = ll_allow(ruleset, attr.handled_access_fs, tmp_dir(),
	    LL_READ_WRITE)) != SUP_OK)
		goto out;
	if (syscall(__NR_landlock_restrict_self, ruleset, 0) != 0) {
		fprintf(stderr, "support: confine: landlock: %s\n",
		    strerror(errno));
		e = SUP_ECONFIG;
	}
out:
	close(ruleset);
	return e;
}
#else
static sup_err
landlock(const struct sup_conf *conf SUP_UNUSED)
{
	static bool said;

	note_once(&said, "built without Landlock (kernel headers older than "
	    "Linux 5.13): file access is not limited; the system-call filter "
	    "still applies");
	return SUP_OK;
}
#endif

/* --- seccomp ------------------------------------------------------------ */

/*
 * Allowed with any arguments: paths are Landlock's job.  Where one libc
 * call is one system call on x86_64 and another on arm64 (poll and
 * ppoll, unlink and unlinkat), both are here.  Berkeley DB makes a
 * database under a temporary name and renames it (a store's first open,
 * or a database an upgrade adds); it counts the processors for its
 * mutexes (sysinfo, sched_getaffinity: /sys is not among the paths).
 */
static const int allowed[] = {
	/* files: the store, the templates; the FastCGI connection */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(pread64),
	SCMP_SYS(pwrite64), SCMP_SYS(lseek), SCMP_SYS(openat),
	SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(getdents64), SCMP_SYS(getcwd), SCMP_SYS(flock), SCMP_SYS(fdatasync), SCMP_SYS(fsync),
	SCMP_SYS(ftruncate), SCMP_SYS(unlink), SCMP_SYS(unlinkat),
	SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	/* attachments: their directories, a spool file put in place */
	SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(link), SCMP_SYS(linkat),
	SCMP_SYS(accept), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(shutdown),
	/* glibc's last words on a crash (malloc's, the stack protector's) */
	SCMP_SYS(writev),
	/* memory (mmap and mprotect below) */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
	SCMP_SYS(madvise),
	/* Berkeley DB's mutexes, waits and identity; time without vDSO */
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(pselect6),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(getpid), SCMP_SYS(sysinfo),
	SCMP_SYS(sched_getaffinity),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
	SCMP_SYS(getrandom),
	/* signals: the watchdog, the stop requests */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(setitimer), SCMP_SYS(gettid),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* The fcntl commands allowed (see filter). */
static const int fcntl_cmds[] = {
	F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, F_SETLK, F_SETLKW,
};

/*
 * Calls with no use in a worker that an attacker who took one over would
 * want: the process ends at once (SIGSYS) rather than being told EPERM.
 */
static const int killed[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(fork),
	SCMP_SYS(vfork), SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
	SCMP_SYS(process_vm_writev), SCMP_SYS(pidfd_getfd),
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
	SCMP_SYS(chroot), SCMP_SYS(setns), SCMP_SYS(unshare),
	SCMP_SYS(open_tree), SCMP_SYS(move_mount), SCMP_SYS(fsopen),
	SCMP_SYS(fsconfig), SCMP_SYS(fsmount), SCMP_SYS(fspick),
	SCMP_SYS(mount_setattr),
	SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd),
	SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter),
	SCMP_SYS(io_uring_register),
	SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load),
	SCMP_SYS(init_module), SCMP_SYS(finit_module),
	SCMP_SYS(delete_module), SCMP_SYS(reboot), SCMP_SYS(swapon),
	SCMP_SYS(swapoff), SCMP_SYS(keyctl), SCMP_SYS(add_key),
	SCMP_SYS(request_key),
};

/*
 * The filter (see the file's comment and docs/security.md).  SUP_OK or
 * SUP_ECONFIG; SUP_OK with a note when the kernel has no seccomp.
 */
static sup_err
filter(void)
{
	static bool said;
	uint32_t kill_act;
	scmp_filter_ctx ctx;
	pid_t self = getpid();
	int rc = 0;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
		note_once(&said, "this kernel has no seccomp: system calls "
		    "are not limited");
		return SUP_OK;
	}
	/* SECCOMP_RET_KILL_PROCESS needs Linux 4.14 (API level 3). */
	kill_act = seccomp_api_get() >= 3 ? SCMP_ACT_KILL_PROCESS :
	    SCMP_ACT_KILL;
	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL) {
		fprintf(stderr, "support: confine: seccomp_init failed\n");
		return SUP_ECONFIG;
	}
	/*
	 * Refused calls are logged by the kernel (its log, or audit), so
	 * that an administrator can see which call a new library needs.
	 * Not every kernel can; the filter works without it.
	 */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	for (size_t i = 0; rc == 0 && i < SUP_NELEM(allowed); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	for (size_t i = 0; rc == 0 && i < SUP_NELEM(killed); i++)
		rc = seccomp_rule_add(ctx, kill_act, killed[i], 0);
	/* Memory, but never new executable memory: no code is loaded now. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/*
	 * stdio asks whether a character device is a terminal (a CGI
	 * program run by hand); no other ioctl (TIOCSTI, for one).
	 */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    SCMP_A1(SCMP_CMP_EQ, TCGETS, 0));
	/*
	 * fcntl for close-on-exec, status flags and record locks (Berkeley
	 * DB's register and region files); not F_SETOWN or F_SETSIG, which
	 * aim signals, nor leases or directory notices.
	 */
	for (size_t i = 0; rc == 0 && i < SUP_NELEM(fcntl_cmds); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_cmds[i], 0));
	/* libfcgi turns Nagle off on a TCP connection it accepts. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt),
		    2, SCMP_A1(SCMP_CMP_EQ, IPPROTO_TCP, 0),
		    SCMP_A2(SCMP_CMP_EQ, TCP_NODELAY, 0));
	/*
	 * send() on a socket it already has, connected (x86-64 has no send
	 * call: glibc makes it sendto with no address): support-mailin's
	 * syslog, connected to /dev/log before confining (LOG_NDELAY).  With
	 * an address, which could aim an unconnected socket anywhere, it is
	 * refused; and no new socket can be made.
	 */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendto), 2,
		    SCMP_A4(SCMP_CMP_EQ, 0, 0), SCMP_A5(SCMP_CMP_EQ, 0, 0));
	/* Signals to itself only (the watchdog's raise: gettid, tgkill). */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self, 0));
	/*
	 * A new process ends this one; a new thread is refused (none is
	 * needed).  clone3 passes its flags in memory a filter cannot read,
	 * so it answers ENOSYS, and glibc falls back to clone, checked here.
	 */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, kill_act, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		fprintf(stderr, "support: confine: seccomp filter: %s\n",
		    strerror(-rc));
		return SUP_ECONFIG;
	}
	return SUP_OK;
}
#endif /* CONFINE_ON */

/* --- The one call ------------------------------------------------------- */

const char *
confine_unavailable(void)
{
#if !defined(SUPPORT_CONFINE)
	return "built without confinement (./configure --disable-confinement)";
#elif defined(SUPPORT_SANITIZED)
	return "a sanitizer build: its reports need files and programs "
	    "confinement refuses";
#else
	return NULL;
#endif
}

sup_err
confine_worker(const struct sup_conf *conf, bool quiet)
{
	const char *why;

	if (!conf->confine)
		return SUP_OK;
	notes = !quiet;
	if ((why = confine_unavailable()) != NULL) {
		static bool said;
		char line[160];
		snprintf(line, sizeof(line), "%s: workers run unconfined", why);
		note_once(&said, line);
		return SUP_OK;
	}
#ifdef CONFINE_ON
	/*
	 * glibc reads the time zone (/etc/localtime) at the first time
	 * conversion, even gmtime_r's: now, while the file can be opened.
	 */
	tzset();
	/* Nothing started from here on can gain privileges (setuid). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "support: confine: no_new_privs: %s\n",
		    strerror(errno));
		return SUP_ECONFIG;
	}
	sup_err e = landlock(conf);
	return e != SUP_OK ? e : filter();
#else
	return SUP_OK;
#endif
}
