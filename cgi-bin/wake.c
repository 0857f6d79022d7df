/*
 * wake.c - start support-worker after a plain CGI request (wake.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wake.h"

/* The helper's life: detach, wait for a word, start the worker or not. */
static void
helper(int fd, const char *worker)
{
	char c = 0;
	int null;

	/* Out of the request's session and stdio: the web server waits for
	 * neither, and ends neither. */
	setsid();
	signal(SIGHUP, SIG_IGN);
	if ((null = open("/dev/null", O_RDWR)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	/* The word, or end of file (the request made no mail, or died). */
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	close(fd);
	if (c != 'w')
		_exit(0);
	/* The worker's parent is gone at once: init reaps it. */
	if (fork() == 0) {
		execl(worker, worker, "--once", (char *)NULL);
		_exit(127);
	}
	_exit(0);
}

void
wake_prepare(struct wake *w, const struct sup_conf *conf, const char *method)
{
	int fds[2];
	pid_t pid;

	w->fd = -1;
	/* Mail to send, or a webhook subscription (docs/webhooks.md). */
	if ((conf->nwebhooks == 0 && (conf->support_email[0] == '\0' ||
	    (conf->smtp_url[0] == '\0' && conf->sendmail_path[0] == '\0'))) ||
	    conf->worker_path[0] == '\0')
		return;
	if (method != NULL && (strcmp(method, "GET") == 0 ||
	    strcmp(method, "HEAD") == 0))
		return;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		perror("support: wake pipe");
		return;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		perror("support: wake fork");
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		close(fds[1]);
		helper(fds[0], conf->worker_path);
	}
	close(fds[0]);
	w->fd = fds[1];
}

void
wake_finish(struct wake *w, bool go)
{
	if (w->fd < 0)
		return;
	/* A helper gone (killed) just misses this pass: nothing is lost. */
	if (go && write(w->fd, "w", 1) != 1)
		perror("support: wake");
	close(w->fd);
	w->fd = -1;
}
