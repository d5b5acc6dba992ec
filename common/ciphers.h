/* ciphers.h - OpenSSL cipher strings (Node's "ciphers") to GnuTLS priorities.
 *
 * GnuTLS has no parser for OpenSSL cipher strings, so tlsd carries a table of
 * the suites in scope (OpenSSL name, IANA id, GnuTLS kx/cipher/mac names) and
 * expands the OpenSSL syntax (names, aliases such as HIGH/aRSA/kECDHE, "!"
 * "-" "+" operators, "@STRENGTH", "DEFAULT") into an ordered set of suites.
 * The set is turned into a "NONE:+VERS-...:+kx...:+cipher...:+mac...:..."
 * priority string.
 */
#ifndef TLSD_COMMON_CIPHERS_H
#define TLSD_COMMON_CIPHERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Node's default cipher list (tls.DEFAULT_CIPHERS, Node 20). */
extern const char ciphers_node_default[];

struct tlsd_priority_opts {
	const char *ciphers;		/* OpenSSL syntax; NULL = ciphers_node_default */
	const char *min_version;	/* "TLSv1.2" etc.; NULL = "TLSv1.2" */
	const char *max_version;	/* NULL = "TLSv1.3" */
	const char *secure_protocol;	/* "TLSv1_2_method", "TLS_method"...; NULL = none */
	const char *ecdh_curve;		/* NULL or "auto" = X25519:P-256:P-384 */
	bool honor_cipher_order;	/* adds %SERVER_PRECEDENCE */
};

/* ciphers_build_priority: build the GnuTLS priority string for <opts> into a
 * malloc'd <*out> (caller frees; NULL on error). The result has been parsed
 * by GnuTLS and checked with ciphers_verify_priority. Errors (TLSD_ERR_CONFIG)
 * name the config key and the token: "ciphers: unknown cipher or alias
 * \"FOO\"", "minVersion: TLSv1 is not supported (tlsd serves TLS 1.2 and
 * TLS 1.3)", "ecdhCurve: unknown curve \"P-999\"", "ciphers: selects no
 * cipher suite". RC4, 3DES, DES, export, NULL, anonymous and CCM_8 suites
 * are known names but are never enabled. An empty <ciphers> means Node's
 * default, as in Node. */
int ciphers_build_priority(const struct tlsd_priority_opts *opts, char **out,
			   struct tlsd_error *err) TLSD_MUST_CHECK;

/* ciphers_verify_priority: list the suites GnuTLS enables for <priority> and
 * fail (TLSD_ERR_CONFIG) if one is outside tlsd's table or never enabled
 * (RC4...), or if <ciphers> (OpenSSL syntax; NULL = no string) excludes it
 * with '!' or with '-' not added back. Also fails if GnuTLS rejects
 * <priority> or <ciphers> has an unknown token. No lock; no allocation kept. */
int ciphers_verify_priority(const char *priority, const char *ciphers,
			    struct tlsd_error *err) TLSD_MUST_CHECK;

/* ciphers_openssl_name: OpenSSL-style name of the suite with IANA id
 * <id0>,<id1> ("ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"), or
 * NULL when it is not in the table. Suites tlsd never enables but knows by
 * name (RC4-SHA...) are named too. Static storage. */
const char *ciphers_openssl_name(uint8_t id0, uint8_t id1);

/* ciphers_table_size / ciphers_table_name: walk the OpenSSL names of the
 * suites tlsd can enable, TLS 1.3 first, in OpenSSL's default order (for
 * GET /v1/ciphers); ciphers_table_name returns NULL past the end. */
size_t ciphers_table_size(void);
const char *ciphers_table_name(size_t index);

#endif
