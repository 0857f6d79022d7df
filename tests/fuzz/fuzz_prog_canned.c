/*
 * fuzz_prog_canned - libFuzzer target for the whole request path of
 * cgi-bin/canned: parsing, routing, authentication, its handlers (the
 * placeholder check of a body, its render) and a real Berkeley DB store
 * (fuzz_prog.h gives the input format).
 *
 * The program's source is compiled in with its main() renamed, so the
 * target serves the program's own static route table, unchanged.
 * Build with ./configure CC=clang --enable-fuzzing; the saved corpus in
 * corpus/prog_canned/ is replayed by make check (replay_prog_canned) and
 * by ./test.sh.
 */
#include <stdint.h>
#include <stddef.h>

int canned_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define main canned_main
#include "../../cgi-bin/canned.c"
#undef main

#include "fuzz_prog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_prog_run("canned", routes, SUP_NELEM(routes), data, size);
}
