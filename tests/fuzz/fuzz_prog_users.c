/*
 * fuzz_prog_users - libFuzzer target for the whole request path of
 * cgi-bin/users: parsing, routing, authentication, its handlers and a real
 * Berkeley DB store (fuzz_prog.h gives the input format).
 *
 * The program's source is compiled in with its main() renamed, so the
 * target serves the program's own static route table, unchanged; the
 * files its routes reach (admin.c, auditlog.c, webhooks.c) are linked
 * beside it (Makefile.am).
 * Build with ./configure CC=clang --enable-fuzzing; the saved corpus in
 * corpus/prog_users/ is replayed by make check (replay_prog_users) and by
 * ./test.sh.
 */
#include <stdint.h>
#include <stddef.h>

int users_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define main users_main
#include "../../cgi-bin/users.c"
#undef main

#include "fuzz_prog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_prog_run("users", routes, SUP_NELEM(routes), data, size);
}
