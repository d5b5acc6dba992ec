/* fuzz_ciphers.c - the OpenSSL cipher-string translation on arbitrary
 * strings (ciphers, versions, curves): a GnuTLS priority GnuTLS accepts, or
 * an error naming the key, never a crash or a suite the string excluded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "common/ciphers.h"

/* split: the input is up to four NUL-separated strings. */
static const char *field(char **cursor, char *end)
{
	char *start = *cursor;

	if (start >= end)
		return NULL;
	*cursor = start + strlen(start) + 1;
	return start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char *cursor = text, *end = text + size;
	struct tlsd_error err = { "" };
	struct tlsd_priority_opts opts;
	char *priority = NULL;
	gnutls_priority_t p;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	opts = (struct tlsd_priority_opts){
		.ciphers = field(&cursor, end), .ecdh_curve = field(&cursor, end),
		.min_version = field(&cursor, end), .max_version = field(&cursor, end),
		.honor_cipher_order = size > 0 && (data[0] & 1),
	};
	if (ciphers_build_priority(&opts, &priority, &err) == 0) {
		/* What it built, GnuTLS takes, and it enables nothing excluded. */
		if (gnutls_priority_init(&p, priority, NULL) < 0)
			abort();
		gnutls_priority_deinit(p);
		if (ciphers_verify_priority(priority, opts.ciphers, &err) < 0)
			abort();
	} else if (priority != NULL || err.msg[0] == '\0') {
		abort();
	}
	free(priority);
	free(text);
	return 0;
}
