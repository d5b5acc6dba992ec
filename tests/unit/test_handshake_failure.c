/* test_handshake_failure.c - every GnuTLS error and client alert the
 * reasons name maps to its reason; anything else is "other". And the
 * unencrypted alert a TLS 1.3 client sends before its handshake keys is
 * found at the end of what the transport read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* read_all: <n> bytes written in <chunks> pieces to a socket pair, all
 * read through a transport; whether its tail is a plain alert. */
static bool tail_is_alert(const uint8_t *bytes, size_t n, size_t chunk, uint8_t *desc)
{
	struct tls_transport t;
	int sv[2];
	bool found;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	tls_transport_init(&t, sv[0]);
	for (size_t at = 0; at < n; at += chunk) {
		size_t len = n - at < chunk ? n - at : chunk;

		assert_int_equal(write(sv[1], bytes + at, len), (ssize_t)len);
		/* Read it all now (the preread path reads through the same
		 * function GnuTLS's pull does). */
		while (t.in_len < at + len)
			assert_int_equal(tls_transport_preread(&t, at + len), TLSD_OK);
	}
	found = tls_transport_plain_alert(&t, desc);
	free(t.in);
	close(sv[0]);
	close(sv[1]);
	return found;
}

static void test_plain_alert_at_the_end(void **state)
{
	/* A ClientHello's worth of bytes, then alert(fatal, bad_certificate). */
	uint8_t bytes[300] = { 22, 3, 1, 1, 39 };
	static const uint8_t alert[7] = { 21, 3, 3, 0, 2, 2, 42 };
	uint8_t desc = 0;

	(void)state;
	memcpy(bytes + sizeof(bytes) - sizeof(alert), alert, sizeof(alert));
	assert_true(tail_is_alert(bytes, sizeof(bytes), sizeof(bytes), &desc));
	assert_int_equal(desc, 42);
	desc = 0;
	assert_true(tail_is_alert(bytes, sizeof(bytes), 3, &desc));	/* split over many reads */
	assert_int_equal(desc, 42);
	assert_true(tail_is_alert(alert, sizeof(alert), 1, &desc));	/* one byte a time */
	/* An encrypted record (type 23), a longer alert record, too few bytes:
	 * no. */
	bytes[sizeof(bytes) - 7] = 23;
	assert_false(tail_is_alert(bytes, sizeof(bytes), 64, &desc));
	bytes[sizeof(bytes) - 7] = 21;
	bytes[sizeof(bytes) - 3] = 3;
	assert_false(tail_is_alert(bytes, sizeof(bytes), 64, &desc));
	assert_false(tail_is_alert(alert + 1, sizeof(alert) - 1, 6, &desc));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_plain_alert_at_the_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
