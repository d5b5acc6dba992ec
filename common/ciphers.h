/* ciphers.h - OpenSSL cipher strings (Node's "ciphers") to GnuTLS priorities.
 *
 * The string is read by OpenSSL's own parser (libssl), as Node reads it, so
 * every alias, operator, "@STRENGTH", "@SECLEVEL" and "DEFAULT" means what
 * it means in Node. The result is an exact, ordered set of suites by IANA
 * id, mapped to GnuTLS's key exchange, cipher and MAC.
 *
 * A GnuTLS priority string cannot name suites one by one (it enables every
 * kx x cipher x MAC combination), so the set is enforced per connection
 * (worker/tls_server.c): one base priority enables the union, and once the
 * ClientHello is in, the session gets a priority that enables exactly the
 * one TLS 1.2 suite chosen from the set, or exactly the set's TLS 1.3
 * suites (a TLS 1.3 suite is a cipher alone, so that is exact).
 */
#ifndef TLSD_COMMON_CIPHERS_H
#define TLSD_COMMON_CIPHERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#include "common/err.h"

/* Node's default cipher list (tls.DEFAULT_CIPHERS, Node 20). */
extern const char ciphers_node_default[];

struct tlsd_priority_opts {
	const char *ciphers;		/* OpenSSL syntax; NULL or "" = ciphers_node_default */
	const char *min_version;	/* "TLSv1.2" etc.; NULL = "TLSv1.2" */
	const char *max_version;	/* NULL = "TLSv1.3" */
	const char *secure_protocol;	/* "TLSv1_2_method", "TLS_method"...; NULL = none */
	const char *ecdh_curve;		/* NULL or "auto" = X25519:P-256:P-384 */
	bool honor_cipher_order;	/* adds %SERVER_PRECEDENCE */
};

#define CIPHERS_MAX 64		/* suites in a set; OpenSSL knows fewer that tlsd serves */
#define CIPHERS_NAME_MAX 64
#define CIPHERS_DROPPED_MAX 512

struct ciphers_suite {
	uint8_t id[2];				/* IANA id */
	bool tls13;
	gnutls_kx_algorithm_t kx;		/* GNUTLS_KX_UNKNOWN for TLS 1.3 */
	gnutls_cipher_algorithm_t cipher;
	gnutls_mac_algorithm_t mac;		/* GNUTLS_MAC_AEAD for AEAD ciphers */
	char name[CIPHERS_NAME_MAX];		/* OpenSSL's name */
};

/* The suites a string selects, for the versions the options enable: TLS 1.3
 * suites first, then TLS 1.2, each in OpenSSL's order for the string. */
struct ciphers_set {
	size_t n;
	struct ciphers_suite v[CIPHERS_MAX];
	/* Suites OpenSSL selects that tlsd does not serve (GnuTLS lacks them,
	 * or they are RC4, 3DES, NULL, anonymous, PSK, SRP, CCM_8 or a cipher
	 * outside AES/ChaCha20), ':'-separated, "..." when cut; "" if none. */
	char dropped[CIPHERS_DROPPED_MAX];
};

/* ciphers_select: the set for <opts>. Errors (TLSD_ERR_CONFIG) name the
 * key: "ciphers: OpenSSL selects no cipher suite from \"...\"", "ciphers:
 * selects no cipher suite tlsd can serve (dropped: ...)", "minVersion: TLSv1
 * is not supported (tlsd serves TLS 1.2 and TLS 1.3)". Like Node: tokens
 * starting with "TLS_" are TLS 1.3 suites (OpenSSL's default three when the
 * string has none); a string of only such tokens turns TLS 1.2 off; names
 * OpenSSL does not know are skipped, as OpenSSL skips them. */
int ciphers_select(const struct tlsd_priority_opts *opts, struct ciphers_set *out,
		   struct tlsd_error *err) TLSD_MUST_CHECK;

/* Which suites of a set ciphers_priority_text enables. */
#define CIPHERS_PRIO_ALL (-1)		/* the union: the session's first priority */
#define CIPHERS_PRIO_TLS13 (-2)		/* the TLS 1.3 suites alone, TLS 1.3 only */

/* ciphers_priority_text: a GnuTLS priority string (malloc'd into <*out>)
 * for <set> under <opts>: which = CIPHERS_PRIO_ALL, CIPHERS_PRIO_TLS13, or
 * the index in set->v of a TLS 1.2 suite (that suite alone, TLS 1.2 only).
 * Groups, signatures and %SERVER_PRECEDENCE follow <opts>. GnuTLS has parsed
 * the result. TLSD_ERR_CONFIG for a bad ecdhCurve or when <which> selects no
 * suite. */
int ciphers_priority_text(const struct tlsd_priority_opts *opts, const struct ciphers_set *set,
			  int which, char **out, struct tlsd_error *err) TLSD_MUST_CHECK;

/* ciphers_build_priority: ciphers_select then ciphers_priority_text with
 * CIPHERS_PRIO_ALL. */
int ciphers_build_priority(const struct tlsd_priority_opts *opts, char **out,
			   struct tlsd_error *err) TLSD_MUST_CHECK;

/* ciphers_openssl_name: OpenSSL's name of the suite with IANA id
 * <id0>,<id1> ("ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"), or
 * NULL when OpenSSL does not know it. Static storage, built on first use
 * (thread-safe). */
const char *ciphers_openssl_name(uint8_t id0, uint8_t id1);

#endif
