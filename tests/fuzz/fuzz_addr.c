/* fuzz_addr.c - listen/backend/control address parsing on arbitrary text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct tlsd_addr a;
	struct tlsd_error err = { "" };

	if (text == NULL || size < 1)
		goto out;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (addr_parse(text, data[0] & 1, data[0] & 2, &a, &err) < 0 && err.msg[0] == '\0')
		abort();
out:
	free(text);
	return 0;
}
