/*
 * transport.c - SMTP through libcurl, or a sendmail pipe (transport.h).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "transport.h"
#include "util.h"

#define SMTP_CONNECT_S 15L
#define SMTP_TIMEOUT_S 120L
#define PASSWORD_MAX 1024

struct mail_transport {
	const struct sup_conf *conf;
	CURL *curl;			/* kept: its connection is reused */
};

bool
mail_transport_configured(const struct sup_conf *conf)
{
	return conf->support_email[0] != '\0' && (conf->smtp_url[0] != '\0' ||
	    conf->sendmail_path[0] != '\0');
}

sup_err
mail_transport_open(const struct sup_conf *conf, struct mail_transport **out)
{
	static bool curl_ready;
	struct mail_transport *t;

	*out = NULL;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return SUP_ENOMEM;
		curl_ready = true;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return SUP_ENOMEM;
	t->conf = conf;
	*out = t;
	return SUP_OK;
}

void
mail_transport_close(struct mail_transport *t)
{
	if (t == NULL)
		return;
	if (t->curl != NULL)
		curl_easy_cleanup(t->curl);
	free(t);
}

/* The first line of the file path into buf (n bytes); false when none. */
static bool
read_password(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (f == NULL)
		return false;
	ok = fgets(buf, (int)n, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\r\n")] = '\0';
	return ok;
}

struct upload {
	const char *p;
	size_t left;
};

/* libcurl's read callback: the message, a piece at a time. */
static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nitems;

	if (n > u->left)
		n = u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* mail_send through smtp_url: one SMTP transaction on a kept connection. */
static enum mail_result
smtp_send(struct mail_transport *t, const char *rcpt, const char *msg,
    size_t len, char *why, size_t whylen)
{
	const struct sup_conf *c = t->conf;
	char from[300], to[300], errbuf[CURL_ERROR_SIZE] = "";
	char password[PASSWORD_MAX];
	struct curl_slist *rcpts = NULL;
	struct upload up = { msg, len };
	enum mail_result r;
	long code = 0;
	CURLcode rc;

	if (t->curl == NULL && (t->curl = curl_easy_init()) == NULL) {
		snprintf(why, whylen, "libcurl: cannot start");
		return MAIL_RETRY;
	}
	snprintf(from, sizeof(from), "<%s>", c->support_email);
	snprintf(to, sizeof(to), "<%s>", rcpt);
	if ((rcpts = curl_slist_append(NULL, to)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return MAIL_RETRY;
	}
	curl_easy_reset(t->curl);
	curl_easy_setopt(t->curl, CURLOPT_URL, c->smtp_url);
	curl_easy_setopt(t->curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(t->curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(t->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(t->curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(t->curl, CURLOPT_READDATA, &up);
	curl_easy_setopt(t->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	/* The message's lines end in LF; SMTP wants CRLF. */
	curl_easy_setopt(t->curl, CURLOPT_CRLF, 1L);
	curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT, SMTP_CONNECT_S);
	curl_easy_setopt(t->curl, CURLOPT_TIMEOUT, SMTP_TIMEOUT_S);
	curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	if (strncmp(c->smtp_url, "smtp://", 7) == 0 && c->smtp_starttls)
		curl_easy_setopt(t->curl, CURLOPT_USE_SSL,
		    (long)CURLUSESSL_ALL);
	if (c->smtp_ca_file[0] != '\0')
		curl_easy_setopt(t->curl, CURLOPT_CAINFO, c->smtp_ca_file);
	password[0] = '\0';
	if (c->smtp_user[0] != '\0') {
		if (c->smtp_password_file[0] != '\0' &&
		    !read_password(c->smtp_password_file, password,
		    sizeof(password))) {
			snprintf(why, whylen, "smtp_password_file: cannot be "
			    "read");
			curl_slist_free_all(rcpts);
			return MAIL_RETRY;
		}
		curl_easy_setopt(t->curl, CURLOPT_USERNAME, c->smtp_user);
		curl_easy_setopt(t->curl, CURLOPT_PASSWORD, password);
		/* The credentials with AUTH itself (RFC 4954): one round. */
		curl_easy_setopt(t->curl, CURLOPT_SASL_IR, 1L);
	}
	rc = curl_easy_perform(t->curl);
	explicit_bzero(password, sizeof(password));
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(rcpts);
	if (rc == CURLE_OK)
		return MAIL_SENT;
	/*
	 * A 5xx answer is the server's final word for this recipient; any
	 * other failure (a 4xx, no connection, TLS, a timeout) may pass.
	 */
	r = code >= 500 && code < 600 ? MAIL_REFUSED : MAIL_RETRY;
	if (code > 0)
		snprintf(why, whylen, "%ld: %s", code, errbuf[0] ? errbuf :
		    curl_easy_strerror(rc));
	else
		snprintf(why, whylen, "%s", errbuf[0] ? errbuf :
		    curl_easy_strerror(rc));
	/* Start afresh after a failure: the connection may be broken. */
	curl_easy_cleanup(t->curl);
	t->curl = NULL;
	return r;
}

/*
 * mail_send through sendmail_path: the program run with -oi -f FROM --
 * RCPT, the message on its stdin; 0 sent, 75 (EX_TEMPFAIL) retried, any
 * other exit refused; ended after SMTP_TIMEOUT_S.
 */
static enum mail_result
sendmail_send(struct mail_transport *t, const char *rcpt, const char *msg,
    size_t len, char *why, size_t whylen)
{
	const struct sup_conf *c = t->conf;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int fds[2], status;
	pid_t pid;
	bool wrote;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return MAIL_RETRY;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return MAIL_RETRY;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(fds[0], 0);
		if (null >= 0) {
			dup2(null, 1);
		}
		execl(c->sendmail_path, c->sendmail_path, "-oi", "-f",
		    c->support_email, "--", rcpt, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	sigaction(SIGPIPE, &ign, &old);
	wrote = write_all(fds[1], msg, len);
	close(fds[1]);
	sigaction(SIGPIPE, &old, NULL);
	/* A program that hangs is ended, as an SMTP server that does is. */
	for (long waited = 0;; waited++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return MAIL_RETRY;
		}
		if (waited == SMTP_TIMEOUT_S * 100) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			snprintf(why, whylen, "%s did not end within %ld s",
			    c->sendmail_path, SMTP_TIMEOUT_S);
			return MAIL_RETRY;
		}
		usleep(10000);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && wrote)
		return MAIL_SENT;
	if (WIFEXITED(status)) {
		snprintf(why, whylen, "%s exited with %d", c->sendmail_path,
		    WEXITSTATUS(status));
		/* EX_TEMPFAIL (75), or a program that could not be run. */
		return WEXITSTATUS(status) == 75 ||
		    WEXITSTATUS(status) == 127 || !wrote ? MAIL_RETRY :
		    MAIL_REFUSED;
	}
	snprintf(why, whylen, "%s ended by signal %d", c->sendmail_path,
	    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return MAIL_RETRY;
}

enum mail_result
mail_send(struct mail_transport *t, const char *rcpt, const char *msg,
    size_t len, char *why, size_t whylen)
{
	why[0] = '\0';
	if (t->conf->support_email[0] == '\0') {
		snprintf(why, whylen, "support_email is not set");
		return MAIL_RETRY;
	}
	if (t->conf->smtp_url[0] != '\0')
		return smtp_send(t, rcpt, msg, len, why, whylen);
	if (t->conf->sendmail_path[0] != '\0')
		return sendmail_send(t, rcpt, msg, len, why, whylen);
	snprintf(why, whylen, "no transport: set smtp_url or sendmail_path");
	return MAIL_RETRY;
}
