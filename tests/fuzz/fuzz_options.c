/* fuzz_options.c - the command line: the input is argv, words split at NUL. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "util/addr.h"

#define MAX_WORDS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	char *argv[MAX_WORDS + 2];
	int argc = 0;
	argv[argc++] = "ledgerchat";
	for (char *p = copy; p < copy + size + 1 && argc <= MAX_WORDS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	struct options o;
	char err[OPT_ERR_MAX];
	options_defaults(&o);
	options_parse(&o, argc, argv, err);
	char host[300];
	uint16_t port;
	hostport_parse(copy, 1, host, sizeof(host), &port);
	free(copy);
	return 0;
}
