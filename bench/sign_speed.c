/* sign_speed.c - private-key signatures per second through GnuTLS's API
 * (the operation a full handshake costs the server), for RSA-2048 and ECDSA
 * P-256, with each of tlsd's signers (common/signer.h): "gnutls" (GnuTLS's
 * own key) and "openssl" (the key GnuTLS hands to libcrypto), alternating,
 * to set beside `openssl speed rsa2048 ecdsap256` from the same run
 * (bench/crypto-limits.sh prints them all).
 *
 *   bench/sign_speed [SECONDS]     (default 2 per key type)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/signer.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* signs_per_second: sign a SHA-256 digest with <key> for <seconds>. */
static double signs_per_second(gnutls_privkey_t key, gnutls_sign_algorithm_t algo, double seconds)
{
	unsigned char digest[32];
	gnutls_datum_t hash = { digest, sizeof(digest) };
	double start = now_s(), elapsed;
	long n = 0;

	memset(digest, 0x5a, sizeof(digest));
	do {
		gnutls_datum_t sig = { NULL, 0 };

		for (int i = 0; i < 16; i++, n++) {
			if (gnutls_privkey_sign_hash2(key, algo, 0, &hash, &sig) < 0) {
				fprintf(stderr, "sign_speed: signing failed\n");
				exit(1);
			}
			gnutls_free(sig.data);
			sig.data = NULL;
		}
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	return (double)n / elapsed;
}

/* signer_key: a fresh <pk> key of <bits>, as <kind>'s signer makes it. */
static gnutls_privkey_t signer_key(enum signer_kind kind, gnutls_pk_algorithm_t pk, unsigned bits)
{
	gnutls_x509_privkey_t x509;
	gnutls_privkey_t key;
	struct tlsd_error err = { { 0 } };

	if (gnutls_x509_privkey_init(&x509) < 0 || gnutls_x509_privkey_generate(x509, pk, bits, 0) < 0 ||
	    signer_make_key(kind, x509, &key, &err) < 0) {
		fprintf(stderr, "sign_speed: cannot make a key: %s\n", err.msg);
		exit(1);
	}
	gnutls_x509_privkey_deinit(x509);
	return key;
}

static void run(const char *name, gnutls_pk_algorithm_t pk, unsigned bits, gnutls_sign_algorithm_t algo,
		double seconds)
{
	static const enum signer_kind kinds[] = { SIGNER_GNUTLS, SIGNER_OPENSSL };

	for (size_t i = 0; i < 2; i++) {
		gnutls_privkey_t key = signer_key(kinds[i], pk, bits);

		printf("signer %-8s %-12s %8.0f signatures/s\n", signer_name(kinds[i]), name,
		       signs_per_second(key, algo, seconds));
		gnutls_privkey_deinit(key);
	}
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;

	if (seconds <= 0)
		seconds = 2.0;
	gnutls_global_init();
	run("rsa2048", GNUTLS_PK_RSA, 2048, GNUTLS_SIGN_RSA_SHA256, seconds);
	run("rsa2048-pss", GNUTLS_PK_RSA, 2048, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, seconds);	/* TLS 1.3 */
	run("ecdsap256", GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
	    GNUTLS_SIGN_ECDSA_SHA256, seconds);
	gnutls_global_deinit();
	return 0;
}
