/* fuzz_config.c - a configuration file's text, parsed from memory. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct options o;
	char why[OPT_ERR_MAX];
	options_defaults(&o);
	lc_err rc = config_parse_buf(&o, "fuzz.conf", (const char *)data, size, why,
				     sizeof(why));
	/* A refusal is one line that names the file and a line number. */
	if (rc != LC_OK &&
	    (rc != LC_ERR_INVAL || strncmp(why, "fuzz.conf:", 10) != 0 || strchr(why, '\n')))
		abort();
	/* What a file set, the command line can set again over it. */
	if (rc == LC_OK && o.n_joins > OPT_MAX_JOINS)
		abort();
	return 0;
}
