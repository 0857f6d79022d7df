/*
 * fuzz_prog_session - libFuzzer target for the whole request path of
 * cgi-bin/session: parsing, routing, authentication, its handlers and a real
 * Berkeley DB store (fuzz_prog.h gives the input format).
 *
 * The program's source is compiled in with its main() renamed, so the
 * target serves the program's own static route table, unchanged.
 * Build with ./configure CC=clang --enable-fuzzing; the saved corpus in
 * corpus/prog_session/ is replayed by make check (replay_prog_session) and by
 * ./test.sh.
 */
#include <stdint.h>
#include <stddef.h>

int session_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define main session_main
#include "../../cgi-bin/session.c"
#undef main

#include "fuzz_prog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_prog_run("session", routes, SUP_NELEM(routes), data, size);
}
