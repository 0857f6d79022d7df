/*
 * fuzz_prog.h - the harness shared by the whole-program fuzz targets
 * (fuzz_prog_tickets.c, fuzz_prog_messages.c, fuzz_prog_session.c,
 * fuzz_prog_users.c, fuzz_prog_canned.c, fuzz_prog_webhook.c): one raw request through parsing, routing,
 * authentication, the handler and a real Berkeley DB store.
 *
 * Input (docs/testing.md, "Whole-program targets"):
 *
 *   NAME=VALUE        CGI variables, one a line ('\n'), up to FUZZ_MAX_VARS
 *   ...               (REQUEST_METHOD, REQUEST_URI or PATH_INFO,
 *                     QUERY_STRING, CONTENT_TYPE, CONTENT_LENGTH,
 *                     HTTP_COOKIE, HTTP_AUTHORIZATION, HTTP_X_CSRFTOKEN,
 *                     REMOTE_ADDR, ...); a line without '=' is skipped
 *   (empty line)
 *   body              the rest of the input, read through sup_io's read
 *
 * When the input names no CONTENT_LENGTH and no HTTP_TRANSFER_ENCODING
 * and has a body, CONTENT_LENGTH is its length; one that is given is
 * passed as written (the reader never gets more than the input holds).
 * "@name@" in a value or the body stands for a secret of the current
 * store (a token, a session, a ticket's uuid: fuzz_prog.c's table), so
 * that a saved input still logs in after the store is made anew.
 *
 * The store lives in a temporary directory made at the first run and made
 * anew every FUZZ_RESET runs; it is removed at exit.
 */
#ifndef FUZZ_PROG_H
#define FUZZ_PROG_H

#include <stddef.h>
#include <stdint.h>

#include "route.h"

#define FUZZ_MAX_VARS 64
#define FUZZ_RESET 10000
/* The store's webhook_secret, with which fuzz_prog_webhook signs. */
#define FUZZ_WEBHOOK_SECRET "fuzz-webhook-secret"

/*
 * Serve the request in data[0..size) with the program called name and its
 * route table; abort() when the answer is not a well-formed CGI answer.
 * Always 0 (libFuzzer's convention).
 */
int fuzz_prog_run(const char *name, const struct route *routes,
    size_t nroutes, const uint8_t *data, size_t size);

#endif
