/* backend_tls.h - TLS to the backend: Node's tls.connect on the other side
 * of the proxy (config backend.tls).
 *
 * Built in the master (the CA and the client certificate load once, and
 * --check loads them too); each worker then keeps its own copy, with the
 * last session the backend gave it, so most backend handshakes resume
 * (backend.tls.session, default true; TLS 1.2 and 1.3 tickets alike).
 *
 * Verification follows Node: with rejectUnauthorized (the default) the
 * chain must verify against ca (or the system's trust store) and, with
 * checkServerIdentity (the default), the certificate must name servername,
 * or the backend's host when no servername is set; GnuTLS checks both in
 * the handshake (gnutls_session_set_verify_cert), so a backend that fails
 * never sees a byte of cleartext.
 */
#ifndef TLSD_WORKER_BACKEND_TLS_H
#define TLSD_WORKER_BACKEND_TLS_H

#include <stdbool.h>

#include <gnutls/gnutls.h>

#include "common/config.h"
#include "common/err.h"

struct backend_tls;

/* Why a backend handshake failed, for the log and the metrics. */
enum backend_tls_failure {
	BACKEND_TLS_EXPIRED,		/* the certificate is expired or not yet valid */
	BACKEND_TLS_UNKNOWN_CA,		/* its chain does not lead to a trusted CA */
	BACKEND_TLS_NAME_MISMATCH,	/* it does not name servername (or the host) */
	BACKEND_TLS_BAD_CERTIFICATE,	/* any other verification failure */
	BACKEND_TLS_HANDSHAKE,		/* no certificate problem: the handshake itself failed */
};

/* backend_tls_new: the TLS settings of <cfg>'s backend (cfg->backend_tls
 * true) whose host part is <host> ("" for a unix socket). Errors
 * (TLSD_ERR_CONFIG) name the key: "backend.tls.ca: ...". */
int backend_tls_new(const struct tlsd_config *cfg, const char *host, struct backend_tls **out,
		    struct tlsd_error *err) TLSD_MUST_CHECK;

/* backend_tls_free: NULL is fine. */
void backend_tls_free(struct backend_tls *bt);

/* backend_tls_session: a client session on the connected socket <fd>,
 * offering <alpn> (the protocol the client negotiated; NULL or "": the
 * configured ALPNProtocols) and the last session this worker kept.
 * TLSD_ERR_INTERNAL when GnuTLS refuses. */
int backend_tls_session(struct backend_tls *bt, int fd, const char *alpn, gnutls_session_t *out) TLSD_MUST_CHECK;

/* backend_tls_failure_of: why the handshake of <s> failed with <rc>;
 * <detail> gets a short text for the log. */
enum backend_tls_failure backend_tls_failure_of(gnutls_session_t s, int rc, char *detail, size_t size);

/* backend_tls_failure_name: "expired", "unknown_ca", "name_mismatch",
 * "bad_certificate" or "handshake". */
const char *backend_tls_failure_name(enum backend_tls_failure f);

/* backend_tls_handshake_done: after a finished handshake of <s>, keep a
 * TLS 1.2 session for the next connection (a TLS 1.3 one is kept when its
 * ticket comes). */
void backend_tls_handshake_done(struct backend_tls *bt, gnutls_session_t s);

/* backend_tls_verified: the chain and name were checked (rejectUnauthorized). */
bool backend_tls_verified(const struct backend_tls *bt);

/* backend_tls_name: the name checked (servername or the host). */
const char *backend_tls_name(const struct backend_tls *bt);

#endif
