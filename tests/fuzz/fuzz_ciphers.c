/* fuzz_ciphers.c - the OpenSSL cipher-string translation on arbitrary
 * strings (ciphers, versions, curves): a set whose every per-suite priority
 * GnuTLS accepts and enables exactly that suite, or an error naming the
 * key, never a crash. */
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

/* one_suite: the IANA id of the only suite <p> enables; -1 if not one. */
static int one_suite(gnutls_priority_t p)
{
	unsigned sidx, n = 0;
	unsigned char id[2];
	int found = -1;

	for (unsigned i = 0;; i++) {
		int rc = gnutls_priority_get_cipher_suite_index(p, i, &sidx);

		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc < 0 || gnutls_cipher_suite_info(sidx, id, NULL, NULL, NULL, NULL) == NULL)
			continue;
		found = id[0] << 8 | id[1];
		n++;
	}
	return n == 1 ? found : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char *cursor = text, *end = text + size;
	struct tlsd_error err = { "" };
	struct tlsd_priority_opts opts;
	char *priority = NULL;
	gnutls_priority_t p;
	static struct ciphers_set set;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	opts = (struct tlsd_priority_opts){
		.ciphers = field(&cursor, end), .ecdh_curve = field(&cursor, end),
		.min_version = field(&cursor, end), .max_version = field(&cursor, end),
		.honor_cipher_order = size > 0 && (data[0] & 1),
	};
	if (ciphers_select(&opts, &set, &err) == 0 &&
	    ciphers_priority_text(&opts, &set, CIPHERS_PRIO_ALL, &priority, &err) == 0) {
		/* The union is accepted (a bad ecdhCurve is an error, above);
		 * then each TLS 1.2 suite's priority enables that suite alone. */
		free(priority);
		priority = NULL;
		for (size_t i = 0; i < set.n; i++) {
			if (set.v[i].tls13)
				continue;
			if (ciphers_priority_text(&opts, &set, (int)i, &priority, &err) < 0)
				abort();
			if (gnutls_priority_init(&p, priority, NULL) < 0)
				abort();
			if (one_suite(p) != (set.v[i].id[0] << 8 | set.v[i].id[1]))
				abort();
			gnutls_priority_deinit(p);
			free(priority);
			priority = NULL;
		}
	} else if (err.msg[0] == '\0') {
		abort();
	}
	free(priority);
	free(text);
	return 0;
}
