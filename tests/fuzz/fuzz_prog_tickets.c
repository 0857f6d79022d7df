/*
 * fuzz_prog_tickets - libFuzzer target for the whole request path of
 * cgi-bin/tickets: parsing, routing, authentication, its handlers and a real
 * Berkeley DB store (fuzz_prog.h gives the input format).
 *
 * The program's source is compiled in with its main() renamed, so the
 * target serves the program's own static route table, unchanged.
 * Build with ./configure CC=clang --enable-fuzzing; the saved corpus in
 * corpus/prog_tickets/ is replayed by make check (replay_prog_tickets) and by
 * ./test.sh.
 */
#include <stdint.h>
#include <stddef.h>

int tickets_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define main tickets_main
#include "../../cgi-bin/tickets.c"
#undef main

#include "fuzz_prog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_prog_run("tickets", routes, SUP_NELEM(routes), data, size);
}
