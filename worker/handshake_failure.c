/* handshake_failure.c - GnuTLS handshake errors to failure reasons. */
#include "worker/handshake_failure.h"

/* alert_reason: the client ended the handshake with <alert>: what it
 * refused. */
static enum cluster_failure alert_reason(gnutls_alert_description_t alert)
{
	switch (alert) {
	case GNUTLS_A_PROTOCOL_VERSION:
	case GNUTLS_A_INAPPROPRIATE_FALLBACK:
		return CS_FAIL_PROTOCOL_VERSION;
	case GNUTLS_A_HANDSHAKE_FAILURE:
	case GNUTLS_A_INSUFFICIENT_SECURITY:
		return CS_FAIL_NO_SHARED_CIPHER;
	case GNUTLS_A_BAD_CERTIFICATE:
	case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_REVOKED:
	case GNUTLS_A_CERTIFICATE_EXPIRED:
	case GNUTLS_A_CERTIFICATE_UNKNOWN:
	case GNUTLS_A_UNKNOWN_CA:
	case GNUTLS_A_CERTIFICATE_REQUIRED:
		return CS_FAIL_BAD_CERTIFICATE;
	default:
		return CS_FAIL_OTHER;
	}
}

enum cluster_failure handshake_failure_reason(int rc, gnutls_alert_description_t alert)
{
	switch (rc) {
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return alert_reason(alert);
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
		return CS_FAIL_PROTOCOL_VERSION;
	case GNUTLS_E_NO_CIPHER_SUITES:
	case GNUTLS_E_UNKNOWN_CIPHER_SUITE:
	case GNUTLS_E_INSUFFICIENT_CREDENTIALS:
	case GNUTLS_E_NO_COMMON_KEY_SHARE:
	case GNUTLS_E_ECC_NO_SUPPORTED_CURVES:
	case GNUTLS_E_UNKNOWN_PK_ALGORITHM:
	case GNUTLS_E_NO_APPLICATION_PROTOCOL:
		return CS_FAIL_NO_SHARED_CIPHER;
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
	case GNUTLS_E_CERTIFICATE_ERROR:
	case GNUTLS_E_NO_CERTIFICATE_FOUND:
	case GNUTLS_E_CERTIFICATE_REQUIRED:
	case GNUTLS_E_UNSUPPORTED_CERTIFICATE_TYPE:
		return CS_FAIL_BAD_CERTIFICATE;
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		return CS_FAIL_CLIENT_CLOSED;
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
	case GNUTLS_E_UNEXPECTED_PACKET:
	case GNUTLS_E_UNEXPECTED_HANDSHAKE_PACKET:
	case GNUTLS_E_RECORD_OVERFLOW:
		return CS_FAIL_NOT_TLS;
	case GNUTLS_E_HANDSHAKE_TOO_LARGE:
		return CS_FAIL_TOO_LARGE;
	default:
		return CS_FAIL_OTHER;
	}
}

void handshake_failure_count(struct cluster_stats *cs, int slot, gnutls_session_t session, int rc,
			     const struct tls_transport *tx)
{
	gnutls_alert_description_t alert = (gnutls_alert_description_t)0;
	uint8_t plain;

	if (rc == GNUTLS_E_DECRYPTION_FAILED && tx != NULL && tls_transport_plain_alert(tx, &plain)) {
		rc = GNUTLS_E_FATAL_ALERT_RECEIVED;
		alert = (gnutls_alert_description_t)plain;
	} else if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		alert = gnutls_alert_get(session);
	}
	cluster_stats_fail(cs, slot, handshake_failure_reason(rc, alert));
}
