/* signer.h - which library makes the server's private-key signatures.
 *
 * A full handshake costs the server one signature, and GnuTLS (nettle)
 * signs about three times slower than OpenSSL's libcrypto on x86-64, for
 * RSA and ECDSA alike (docs/performance.md). With the OpenSSL signer, a
 * server key is handed to GnuTLS as an abstract key
 * (gnutls_privkey_import_ext4) whose sign-hash callback calls libcrypto;
 * GnuTLS still runs the whole protocol, hashes what is signed and picks the
 * signature algorithm. The one other private-key operation, TLS 1.2's RSA
 * key exchange decryption, stays in GnuTLS's own constant-time code (the
 * callback hands it to a native copy of the key).
 *
 * Keys the OpenSSL signer does not take (EdDSA, RSA-PSS-only keys, DSA)
 * keep GnuTLS's own signing. docs/design.md, "Signatures", has the figures
 * behind the choice.
 */
#ifndef TLSD_COMMON_SIGNER_H
#define TLSD_COMMON_SIGNER_H

#include <stdbool.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/err.h"

enum signer_kind {
	SIGNER_OPENSSL,	/* the default */
	SIGNER_GNUTLS,
};

/* signer_from_env: the signer named by the environment variable
 * TLSD_SIGNER ("openssl" when unset or empty, or "gnutls"). Anything else
 * is TLSD_ERR_CONFIG naming the value. */
int signer_from_env(enum signer_kind *out, struct tlsd_error *err) TLSD_MUST_CHECK;

/* signer_name: "openssl" or "gnutls". */
const char *signer_name(enum signer_kind kind);

/* signer_takes: true when <kind> signs with OpenSSL for <key>'s type (RSA,
 * ECDSA); false when GnuTLS's own signing is used for it. */
bool signer_takes(enum signer_kind kind, gnutls_x509_privkey_t key);

/* signer_make_key: an abstract private key for <key> (copied: the caller
 * keeps and frees its own) that signs with <kind> where signer_takes says
 * so, and with GnuTLS otherwise. Before it is returned, a test signature is
 * made and checked with the public key, so a key libcrypto reads
 * differently never reaches a handshake. Errors: TLSD_ERR_INTERNAL with
 * the reason. */
int signer_make_key(enum signer_kind kind, gnutls_x509_privkey_t key, gnutls_privkey_t *out,
		    struct tlsd_error *err) TLSD_MUST_CHECK;

#endif
