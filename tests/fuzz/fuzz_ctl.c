/* fuzz_ctl.c - the control protocol's request and response decoders. */
#include "fuzz.h"

#include <jansson.h>

#include "ctl/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char cmd[CTL_CMD_MAX + 1], err[CTL_ERR_MAX];
	json_t *j = NULL;
	if (ctl_request_decode((const char *)data, size, cmd, &j, err, sizeof(err)) == LC_OK)
		json_decref(j);
	j = NULL;
	if (ctl_response_decode((const char *)data, size, &j, err, sizeof(err)) == LC_OK)
		json_decref(j);
	return 0;
}
