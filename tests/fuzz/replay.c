/*
 * replay.c - run a fuzz target over saved inputs, without libFuzzer.
 *
 *   replay_<what> [DIR|FILE]...   (default: tests/fuzz/corpus/<what> and
 *                                  tests/fuzz/crashes/<what>)
 *
 * Each input is one "test": it passes when the target returns.  A crash
 * is a crash (the sanitizer builds make it loud).  The last line has the
 * harness's form, "replay_<what>: N passed, 0 failed".
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "build with -DFUZZ_NAME=\"what\""
#endif

static int passed;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
	size_t got = n > 0 ? fread(buf, 1, (size_t)n, f) : 0;
	fclose(f);
	LLVMFuzzerTestOneInput(buf, got);
	free(buf);
	passed++;
}

static void run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		run_file(p);
	}
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			run_path(argv[i]);
	} else {
		run_path("tests/fuzz/corpus/" FUZZ_NAME);
		run_path("tests/fuzz/crashes/" FUZZ_NAME);
	}
	printf("replay_%s: %d passed, 0 failed\n", FUZZ_NAME, passed);
	return 0;
}
