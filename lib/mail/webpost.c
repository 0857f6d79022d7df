/*
 * webpost.c - posting one webhook delivery over HTTP (webpost.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "webin.h"
#include "webpost.h"

struct webpost {
	CURL *curl;
};

sup_err
webpost_open(struct webpost **out)
{
	struct webpost *p;

	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return SUP_ENOMEM;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return SUP_ENOMEM;
	if ((p->curl = curl_easy_init()) == NULL) {
		free(p);
		return SUP_ENOMEM;
	}
	*out = p;
	return SUP_OK;
}

void
webpost_close(struct webpost *p)
{
	if (p == NULL)
		return;
	curl_easy_cleanup(p->curl);
	free(p);
}

/* The answer's body: counted and dropped, at most WEBPOST_BODY_MAX read. */
static size_t
drop_cb(char *data SUP_UNUSED, size_t size, size_t n, void *arg)
{
	size_t *seen = arg;

	*seen += size * n;
	return *seen > (size_t)WEBPOST_BODY_MAX ? 0 : size * n;
}

/* Append "name: value" to list (NULL: failed, and list freed). */
static struct curl_slist *
add_header(struct curl_slist *list, const char *name, const char *value)
{
	char line[512];
	struct curl_slist *l;

	snprintf(line, sizeof(line), "%s: %s", name, value);
	if ((l = curl_slist_append(list, line)) == NULL)
		curl_slist_free_all(list);
	return l;
}

enum webpost_result
webpost_send(struct webpost *p, const char *url, const char *secret,
    size_t slen, const char *event, const uint8_t id[UUID_LEN], int64_t now_s,
    const char *body, size_t len, long *status, char *why, size_t whylen)
{
	char errbuf[CURL_ERROR_SIZE] = "", ts[32], sig[WEBIN_SIG_STRLEN + 1];
	char uuid[UUID_STRLEN + 1];
	struct curl_slist *h = NULL;
	size_t seen = 0;
	enum webpost_result r;
	CURLcode rc;

	*status = 0;
	why[0] = '\0';
	snprintf(ts, sizeof(ts), "%" PRId64, now_s);
	uuid_format(id, uuid);
	/* Signed at send time: the timestamp is this attempt's. */
	webin_sign(secret, slen, ts, body, len, sig);
	if ((h = add_header(h, "Content-Type", "application/json")) == NULL ||
	    (h = add_header(h, "X-Support-Event", event)) == NULL ||
	    (h = add_header(h, "X-Support-Delivery", uuid)) == NULL ||
	    (h = add_header(h, "X-Support-Timestamp", ts)) == NULL ||
	    (h = add_header(h, "X-Support-Signature", sig)) == NULL ||
	    /* No "Expect: 100-continue" wait on a larger body. */
	    (h = curl_slist_append(h, "Expect:")) == NULL) {
		snprintf(why, whylen, "out of memory");
		return WEBPOST_RETRY;
	}
	curl_easy_reset(p->curl);
	curl_easy_setopt(p->curl, CURLOPT_URL, url);
	curl_easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(p->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(p->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len);
	curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(p->curl, CURLOPT_USERAGENT, "support-worker");
	curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, drop_cb);
	curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, &seen);
	curl_easy_setopt(p->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT, WEBPOST_CONNECT_S);
	curl_easy_setopt(p->curl, CURLOPT_TIMEOUT, WEBPOST_TIMEOUT_S);
	rc = curl_easy_perform(p->curl);
	curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	/* An answer too long to read still says its status. */
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && *status > 0)) {
		snprintf(why, whylen, "no answer: %s", errbuf[0] != '\0' ?
		    errbuf : curl_easy_strerror(rc));
		*status = 0;
		return WEBPOST_RETRY;
	}
	if (*status >= 200 && *status < 300)
		return WEBPOST_SENT;
	r = *status == 408 || *status == 429 || *status >= 500 ?
	    WEBPOST_RETRY : WEBPOST_REFUSED;
	snprintf(why, whylen, "HTTP %ld: %s", *status,
	    r == WEBPOST_RETRY ? "the receiver is busy or failing; retried" :
	    *status >= 300 && *status < 400 ? "a redirect (not followed): "
	    "fix the url" : "refused by the receiver; not retried");
	return r;
}
