/*
 * fuzz_prog_webhook - libFuzzer target for the webhook in
 * (POST /api/support/webhook/, cgi-bin/webhook.c) through the whole
 * request path of cgi-bin/tickets, whose route it is: parsing, routing,
 * the signature, the body's fields, the user and ticket made and the
 * Idempotency-Key kept in a real Berkeley DB store (fuzz_prog.h gives the
 * input format).
 *
 * A mutated body never carries a valid HMAC, so the target signs what it
 * is given: an input without an HTTP_X_SUPPORT_SIGNATURE line gets
 * HTTP_X_SUPPORT_TIMESTAMP (now, by the desk's clock) and a signature of
 * its body under the harness's webhook_secret (FUZZ_WEBHOOK_SECRET) as
 * its first two lines, and so reaches the handler past the check; an
 * input with one is served as it is, which fuzzes the check itself.
 * Build with ./configure CC=clang --enable-fuzzing; the saved corpus in
 * corpus/prog_webhook/ is replayed by make check (replay_prog_webhook).
 */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tickets_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define main tickets_main
#include "../../cgi-bin/tickets.c"
#undef main

#include "fuzz_prog.h"
#include "webin.h"

#define SIG_VAR "HTTP_X_SUPPORT_SIGNATURE="

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *stop = p + size, *body = stop;
	char ts[24], sig[WEBIN_SIG_STRLEN + 1], *in;
	int n;

	/* The variables, up to the empty line: is one the signature? */
	while (p < stop) {
		const char *nl = memchr(p, '\n', (size_t)(stop - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(stop - p);

		if (len == 0) {
			body = p + 1;
			break;
		}
		if (len >= sizeof(SIG_VAR) - 1 &&
		    memcmp(p, SIG_VAR, sizeof(SIG_VAR) - 1) == 0)
			return fuzz_prog_run("tickets", routes, SUP_NELEM(routes),
			    data, size);
		p += len + (nl ? 1 : 0);
	}
	if (body > stop)
		body = stop;
	snprintf(ts, sizeof(ts), "%lld", (long long)(time_now_us() / 1000000));
	webin_sign(FUZZ_WEBHOOK_SECRET, strlen(FUZZ_WEBHOOK_SECRET), ts, body,
	    (size_t)(stop - body), sig);
	n = snprintf(NULL, 0, "HTTP_X_SUPPORT_TIMESTAMP=%s\n" SIG_VAR "%s\n",
	    ts, sig);
	if (n < 0 || (in = malloc((size_t)n + 1 + size)) == NULL)
		abort();
	snprintf(in, (size_t)n + 1, "HTTP_X_SUPPORT_TIMESTAMP=%s\n" SIG_VAR
	    "%s\n", ts, sig);
	if (size > 0)
		memcpy(in + n, data, size);
	fuzz_prog_run("tickets", routes, SUP_NELEM(routes), (uint8_t *)in,
	    (size_t)n + size);
	free(in);
	return 0;
}
