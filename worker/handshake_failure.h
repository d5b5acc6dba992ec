/* handshake_failure.h - why a TLS handshake failed, as one of the fixed
 * reasons of common/cluster_stats (enum cluster_failure), from the GnuTLS
 * error and, when the client ended it with an alert, that alert. */
#ifndef TLSD_WORKER_HANDSHAKE_FAILURE_H
#define TLSD_WORKER_HANDSHAKE_FAILURE_H

#include <gnutls/gnutls.h>

#include "common/cluster_stats.h"
#include "worker/tls_transport.h"

/* handshake_failure_reason: the reason for GnuTLS error <rc>; <alert> is
 * the alert received when <rc> is GNUTLS_E_FATAL_ALERT_RECEIVED (else
 * ignored). A code not named here is CS_FAIL_OTHER. */
enum cluster_failure handshake_failure_reason(int rc, gnutls_alert_description_t alert);

/* handshake_failure_count: count the failure <rc> of <session>'s handshake
 * in worker slot <slot> of <cs>. A decryption failure whose last bytes
 * from the client (<tx>) were an unencrypted alert counts as that alert
 * (tls_transport_plain_alert: a TLS 1.3 client refusing our certificate). */
void handshake_failure_count(struct cluster_stats *cs, int slot, gnutls_session_t session, int rc,
			     const struct tls_transport *tx);

#endif
