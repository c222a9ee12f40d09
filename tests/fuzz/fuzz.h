/*
 * fuzz.h - the one entry point every fuzz target defines.
 *
 * Each tests/fuzz/fuzz_<what>.c is built two ways from the same source:
 * with clang and libFuzzer for `make fuzz`, and with the project's compiler
 * and tests/fuzz/replay.c for `make test`, which feeds it every saved input
 * of tests/fuzz/corpus/<what>/ and tests/fuzz/crashes/<what>/.
 */
#ifndef LC_TESTS_FUZZ_H
#define LC_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
