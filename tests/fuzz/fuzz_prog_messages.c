/*
 * fuzz_prog_messages - libFuzzer target for the whole request path of
 * cgi-bin/messages: parsing, routing, authentication, its handlers and a real
 * Berkeley DB store (fuzz_prog.h gives the input format).
 *
 * The program's source is compiled in with its main() renamed, so the
 * target serves the program's own static route table, unchanged.
 * Build with ./configure CC=clang --enable-fuzzing; the saved corpus in
 * corpus/prog_messages/ is replayed by make check (replay_prog_messages) and by
 * ./test.sh.
 */
#include <stdint.h>
#include <stddef.h>

int messages_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define main messages_main
#include "../../cgi-bin/messages.c"
#undef main

#include "fuzz_prog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_prog_run("messages", routes, SUP_NELEM(routes), data, size);
}
