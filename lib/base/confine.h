/*
 * confine.h - least privilege for a worker (DESIGN §6, docs/security.md,
 * "Confinement").  Once a worker has opened the store and parsed its
 * templates it calls confine_worker(): from then on it can reach files only
 * under data_dir (read and write), templates_dir (read) and the temporary
 * directory (Landlock, where the kernel has it), and make only the system
 * calls on an allow-list (seccomp, through libseccomp).  Neither can be
 * undone for the rest of the process's life.
 */
#ifndef SUP_CONFINE_H
#define SUP_CONFINE_H

#include <stdbool.h>

#include "conf.h"
#include "sup.h"

/*
 * Confine the calling process, when conf->confine says so: the files of
 * conf->data_dir, conf->templates_dir and $TMPDIR (else /tmp), and the
 * system calls a worker makes after start-up.  A refused system call fails
 * with EPERM; starting a program (execve), making a process (fork, vfork,
 * clone without CLONE_THREAD), tracing one (ptrace) and a few others no
 * worker has any use for end the process with SIGSYS instead.
 *
 * Best effort where the kernel or the build has no means: without Landlock
 * (kernels before 5.13, or switched off), or in a build without
 * confinement or with a sanitizer, it says so once on stderr (unless
 * quiet: a plain CGI process would say it at every request) and returns
 * SUP_OK.  Any other failure is SUP_ECONFIG (said on stderr): the caller
 * should not serve unconfined when confinement was asked for.  Call it
 * once, from a single-threaded process; the process may have been
 * partly confined when it fails.
 */
sup_err confine_worker(const struct sup_conf *conf, bool quiet);

/*
 * Why this build cannot confine at all ("built without confinement", "a
 * sanitizer build"), or NULL when it can.  Static.
 */
const char *confine_unavailable(void);

/*
 * The Landlock ABI version the running kernel has (1, 2, ...), or 0 when
 * it has none or it is switched off.
 */
int confine_landlock_abi(void);

#endif
