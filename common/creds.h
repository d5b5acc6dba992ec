/* creds.h - the server's certificate credentials, built from the config.
 *
 * Loads key/cert pairs (arrays: each key is paired with the certificate whose
 * public key matches it; ECDSA pairs are added before RSA so that TLS 1.3,
 * where the suite does not choose, prefers ECDSA as Node/OpenSSL do), encrypted
 * keys (per-key passphrase or the top-level "passphrase"), pfx (PKCS#12),
 * ca (trust for client certificates), crl, dhparam (< 1024 bits refused),
 * an OCSP staple (DER file) and, for --demo, a self-signed ECDSA P-256
 * certificate for "localhost" generated in memory.
 *
 * Built once in the master before fork; workers use it read-only.
 */
#ifndef TLSD_COMMON_CREDS_H
#define TLSD_COMMON_CREDS_H

#include <stdint.h>

#include <gnutls/gnutls.h>

#include "common/config.h"
#include "common/err.h"

struct tlsd_creds;

/* creds_load: build credentials for <cfg>. Errors (TLSD_ERR_CONFIG) name
 * the config key, the file and the reason: "key[1]: /x/k.pem: wrong
 * passphrase", "key[0]: matches no certificate in cert", "dhparam: 512
 * bits is too small (minimum 1024)". Warns (log_warn) about expired or
 * not-yet-valid certificates and still loads them. */
int creds_load(const struct tlsd_config *cfg, struct tlsd_creds **out,
	       struct tlsd_error *err) TLSD_MUST_CHECK;

/* creds_load_context: credentials of the SNI context <ctx> (its key/cert
 * pairs, pfx, ca and ocsp; nothing else of the config applies). Errors
 * are those of creds_load with <prefix> in front ("contexts[2]." or "").
 * On error *<out> is NULL. */
int creds_load_context(const struct tlsd_context_config *ctx, const char *prefix,
		       struct tlsd_creds **out, struct tlsd_error *err) TLSD_MUST_CHECK;

/* creds_load_client: credentials for a TLS client (the connection to a
 * TLS backend): the key/cert pairs of <ctx> (none is fine: no client
 * certificate) and its ca as the trust list, or the system's trust store
 * when it has none (Node's default). Errors as creds_load_context's. */
int creds_load_client(const struct tlsd_context_config *ctx, const char *prefix, struct tlsd_creds **out,
		      struct tlsd_error *err) TLSD_MUST_CHECK;

/* What the control API shows of a certificate (Node's names and formats). */
struct creds_cert_info {
	char subject[256];		/* RFC 4514: "CN=example.com,O=Example" */
	char issuer[256];
	char valid_from[32];		/* "Mar 12 10:00:00 2025 GMT", as Node */
	char valid_to[32];
	char fingerprint256[96];	/* "AB:CD:...", 32 bytes */
	char serial_number[80];		/* uppercase hex, as Node */
	char key_type[16];		/* "EC", "RSA", "Ed25519", ... */
	int64_t not_after;		/* valid_to as unix time, seconds */
};

/* creds_describe_der: fill <out> from one DER certificate. Returns 0 or
 * TLSD_ERR_PROTO (not a certificate). */
int creds_describe_der(const gnutls_datum_t *der, struct creds_cert_info *out) TLSD_MUST_CHECK;

/* creds_certificates: the leaf certificate of each key/cert pair, at most
 * <max> of them, into <out>; returns how many. */
size_t creds_certificates(const struct tlsd_creds *creds, struct creds_cert_info *out, size_t max);

/* creds_gnutls: the GnuTLS credentials to set on each session. */
gnutls_certificate_credentials_t creds_gnutls(const struct tlsd_creds *creds);

/* creds_has_ca: true when a "ca" was loaded (client certificates can verify). */
int creds_has_ca(const struct tlsd_creds *creds);

/* creds_pair_count: how many key/cert pairs were loaded. */
unsigned creds_pair_count(const struct tlsd_creds *creds);

/* creds_free: release <creds> (NULL is fine). */
void creds_free(struct tlsd_creds *creds);

#endif
