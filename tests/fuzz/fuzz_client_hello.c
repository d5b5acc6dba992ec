/* fuzz_client_hello.c - the ClientHello reader on arbitrary bytes: never a
 * read outside the input, and what it finds lies inside it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/client_hello.h"

static void inside(const struct client_hello_blob *b, const uint8_t *buf, size_t len)
{
	if (b->len > 0 && (b->data < buf || b->data + b->len > buf + len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly <size> bytes, so any overread hits the sanitizer. */
	uint8_t *buf = malloc(size ? size : 1);
	struct client_hello ch;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (client_hello_parse(buf, size, &ch) == 0) {
		if (ch.session_id_len > 32 || ch.n_psk > CLIENT_HELLO_PSK_MAX)
			abort();
		inside(&ch.ticket, buf, size);
		for (size_t i = 0; i < ch.n_psk; i++)
			inside(&ch.psk[i], buf, size);
	}
	free(buf);
	return 0;
}
