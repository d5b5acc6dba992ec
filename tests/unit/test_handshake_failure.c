/* test_handshake_failure.c - every GnuTLS error and client alert the
 * reasons name maps to its reason; anything else is "other". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "worker/handshake_failure.c"

static const gnutls_alert_description_t NO_ALERT = (gnutls_alert_description_t)0;

static void test_errors(void **state)
{
	static const struct {
		int rc;
		enum cluster_failure want;
	} rows[] = {
		{ GNUTLS_E_UNSUPPORTED_VERSION_PACKET, CS_FAIL_PROTOCOL_VERSION },
		{ GNUTLS_E_NO_CIPHER_SUITES, CS_FAIL_NO_SHARED_CIPHER },
		{ GNUTLS_E_INSUFFICIENT_CREDENTIALS, CS_FAIL_NO_SHARED_CIPHER },
		{ GNUTLS_E_NO_COMMON_KEY_SHARE, CS_FAIL_NO_SHARED_CIPHER },
		{ GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR, CS_FAIL_BAD_CERTIFICATE },
		{ GNUTLS_E_NO_CERTIFICATE_FOUND, CS_FAIL_BAD_CERTIFICATE },
		{ GNUTLS_E_PREMATURE_TERMINATION, CS_FAIL_CLIENT_CLOSED },
		{ GNUTLS_E_PULL_ERROR, CS_FAIL_CLIENT_CLOSED },
		{ GNUTLS_E_UNEXPECTED_PACKET_LENGTH, CS_FAIL_NOT_TLS },
		{ GNUTLS_E_UNEXPECTED_PACKET, CS_FAIL_NOT_TLS },
		{ GNUTLS_E_HANDSHAKE_TOO_LARGE, CS_FAIL_TOO_LARGE },
		{ GNUTLS_E_DECRYPTION_FAILED, CS_FAIL_OTHER },
		{ GNUTLS_E_MEMORY_ERROR, CS_FAIL_OTHER },
		{ GNUTLS_E_FATAL_ALERT_RECEIVED, CS_FAIL_OTHER },	/* close_notify: no reason */
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(handshake_failure_reason(rows[i].rc, NO_ALERT), rows[i].want);
}

static void test_alerts(void **state)
{
	assert_int_equal(handshake_failure_reason(GNUTLS_E_FATAL_ALERT_RECEIVED, GNUTLS_A_PROTOCOL_VERSION),
			 CS_FAIL_PROTOCOL_VERSION);
	assert_int_equal(handshake_failure_reason(GNUTLS_E_FATAL_ALERT_RECEIVED, GNUTLS_A_HANDSHAKE_FAILURE),
			 CS_FAIL_NO_SHARED_CIPHER);
	assert_int_equal(handshake_failure_reason(GNUTLS_E_FATAL_ALERT_RECEIVED, GNUTLS_A_UNKNOWN_CA),
			 CS_FAIL_BAD_CERTIFICATE);
	assert_int_equal(handshake_failure_reason(GNUTLS_E_FATAL_ALERT_RECEIVED, GNUTLS_A_CERTIFICATE_EXPIRED),
			 CS_FAIL_BAD_CERTIFICATE);
	assert_int_equal(handshake_failure_reason(GNUTLS_E_FATAL_ALERT_RECEIVED, GNUTLS_A_DECODE_ERROR),
			 CS_FAIL_OTHER);
	/* The alert matters only when one was received. */
	assert_int_equal(handshake_failure_reason(GNUTLS_E_MEMORY_ERROR, GNUTLS_A_UNKNOWN_CA), CS_FAIL_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_alerts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
