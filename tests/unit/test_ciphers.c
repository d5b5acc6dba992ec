/* test_ciphers.c - OpenSSL cipher strings to exact GnuTLS suite sets.
 *
 * Outcomes are checked against the real libraries: the set against what a
 * separate OpenSSL context lists for the same string, the priorities
 * against the suites GnuTLS itself enables for them
 * (gnutls_priority_get_cipher_suite_index), and two handshakes over a
 * socketpair show the base priority works and honorCipherOrder takes effect.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/ciphers.h"

#define ID(a, b) ((uint16_t)(((a) << 8) | (b)))
#define MAX_SUITES 256
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct listing {
	uint16_t id[MAX_SUITES];
	size_t n;
};

/* list_suites: what GnuTLS itself enables for <prio>. */
static void list_suites(const char *prio, struct listing *l)
{
	gnutls_priority_t pc;
	unsigned idx, sidx;
	uint8_t id[2];
	int rc;

	l->n = 0;
	assert_int_equal(gnutls_priority_init2(&pc, prio, NULL, 0), 0);
	for (idx = 0;; idx++) {
		rc = gnutls_priority_get_cipher_suite_index(pc, idx, &sidx);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc < 0)
			continue;
		assert_non_null(gnutls_cipher_suite_info(sidx, id, NULL, NULL, NULL, NULL));
		assert_true(l->n < MAX_SUITES);
		l->id[l->n++] = ID(id[0], id[1]);
	}
	gnutls_priority_deinit(pc);
}

static bool listed(const struct listing *l, uint16_t id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->id[i] == id)
			return true;
	return false;
}

/* assert_exactly: <prio> enables exactly the <n> suites in <want>. */
static void assert_exactly(const char *prio, const uint16_t *want, size_t n)
{
	struct listing l;
	size_t i;

	list_suites(prio, &l);
	for (i = 0; i < n; i++)
		if (!listed(&l, want[i]))
			fail_msg("suite 0x%04x missing from %s", want[i], prio);
	assert_int_equal(l.n, n);
}

static char *build(const struct tlsd_priority_opts *o)
{
	struct tlsd_error err = { "" };
	char *out = NULL;
	int rc = ciphers_build_priority(o, &out, &err);

	if (rc != 0)
		fail_msg("unexpected error %d: %s", rc, err.msg);
	assert_non_null(out);
	return out;
}

static char *build_str(const char *ciphers, const char *max)
{
	struct tlsd_priority_opts o = { .ciphers = ciphers, .max_version = max };

	return build(&o);
}

static void build_fails(const struct tlsd_priority_opts *o, const char *msg)
{
	struct tlsd_error err = { "" };
	char *out = (char *)"untouched";

	assert_int_equal(ciphers_build_priority(o, &out, &err), TLSD_ERR_CONFIG);
	assert_null(out);
	assert_string_equal(err.msg, msg);
}


static void assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", hay, needle);
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle) != NULL)
		fail_msg("\"%s\" has \"%s\"", hay, needle);
}

/* assert_before: <a> occurs in <hay>, and before <b>. */
static void assert_before(const char *hay, const char *a, const char *b)
{
	const char *pa = strstr(hay, a), *pb = strstr(hay, b);

	assert_non_null(pa);
	assert_non_null(pb);
	assert_true(pa < pb);
}

/* ---- Node's default ---- */


/* ---- the set ---- */

static void select_ok(const char *ciphers, const char *max, struct ciphers_set *set)
{
	struct tlsd_priority_opts o = { .ciphers = ciphers, .max_version = max };
	struct tlsd_error err = { "" };

	if (ciphers_select(&o, set, &err) != 0)
		fail_msg("\"%s\": %s", ciphers ? ciphers : "(default)", err.msg);
}

static void select_fails(const char *ciphers, const char *msg)
{
	struct tlsd_priority_opts o = { .ciphers = ciphers };
	struct tlsd_error err = { "" };
	struct ciphers_set set;

	assert_int_equal(ciphers_select(&o, &set, &err), TLSD_ERR_CONFIG);
	assert_string_equal(err.msg, msg);
}

static uint16_t set_id(const struct ciphers_set *set, size_t i)
{
	return ID(set->v[i].id[0], set->v[i].id[1]);
}

/* assert_set: <set> is exactly the <n> ids of <want>, in that order. */
static void assert_set(const struct ciphers_set *set, const uint16_t *want, size_t n)
{
	for (size_t i = 0; i < n && i < set->n; i++)
		if (set_id(set, i) != want[i])
			fail_msg("suite %zu is 0x%04x (%s), not 0x%04x", i, set_id(set, i), set->v[i].name, want[i]);
	assert_int_equal(set->n, n);
}

/* The case: one suite is one TLS 1.2 suite (plus Node's three
 * TLS 1.3 defaults, since the string names none). */
static void test_one_suite_is_one_suite(void **state)
{
	static const uint16_t want[] = { ID(0x13, 0x02), ID(0x13, 0x03), ID(0x13, 0x01), ID(0xc0, 0x2f) };
	struct ciphers_set set;

	select_ok("ECDHE-RSA-AES128-GCM-SHA256", NULL, &set);
	assert_set(&set, want, ARRAY_LEN(want));
	assert_string_equal(set.v[3].name, "ECDHE-RSA-AES128-GCM-SHA256");
	assert_int_equal(set.v[3].kx, GNUTLS_KX_ECDHE_RSA);
	assert_int_equal(set.v[3].cipher, GNUTLS_CIPHER_AES_128_GCM);
	assert_int_equal(set.v[3].mac, GNUTLS_MAC_AEAD);
	assert_true(set.v[0].tls13 && !set.v[3].tls13);
	assert_string_equal(set.dropped, "");
}

/* Node's default: its three TLS 1.3 suites (not AES-128-CCM), then its
 * named suites in its order (the two phantom names skipped), then HIGH. */
static void test_node_default_set(void **state)
{
	static const uint16_t head[] = {
		ID(0x13, 0x02), ID(0x13, 0x03), ID(0x13, 0x01), ID(0xc0, 0x2f), ID(0xc0, 0x2b),
		ID(0xc0, 0x30), ID(0xc0, 0x2c), ID(0x00, 0x9e), ID(0xc0, 0x27), ID(0x00, 0x67),
		ID(0xc0, 0x28), ID(0x00, 0x6b),
	};
	struct ciphers_set set, empty;

	select_ok(NULL, NULL, &set);
	select_ok("", NULL, &empty);
	assert_true(set.n > ARRAY_LEN(head));
	for (size_t i = 0; i < ARRAY_LEN(head); i++)
		assert_int_equal(set_id(&set, i), head[i]);
	for (size_t i = 0; i < set.n; i++) {
		assert_int_not_equal(set_id(&set, i), ID(0x13, 0x04));
		assert_null(strstr(set.v[i].name, "CAMELLIA"));
		assert_null(strstr(set.v[i].name, "CCM8"));
		assert_false(set.v[i].tls13 && i >= 3);
		assert_int_equal(set_id(&empty, i), set_id(&set, i));
	}
	assert_int_equal(empty.n, set.n);
}

/* openssl_list: what a fresh OpenSSL context offers for Node's split of
 * <str> (this test's own reading, to compare with the module's). */
static size_t openssl_list(const char *l12, const char *l13, uint16_t *ids, const char **names, size_t max)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL *ssl;
	STACK_OF(SSL_CIPHER) *sk;
	size_t n = 0;

	assert_non_null(ctx);
	assert_true(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION));
	if (l13[0] != '\0')
		assert_true(SSL_CTX_set_ciphersuites(ctx, l13));
	assert_true(SSL_CTX_set_cipher_list(ctx, l12));
	ssl = SSL_new(ctx);
	sk = SSL_get1_supported_ciphers(ssl);
	for (int i = 0; i < sk_SSL_CIPHER_num(sk) && n < max; i++, n++) {
		ids[n] = (uint16_t)SSL_CIPHER_get_protocol_id(sk_SSL_CIPHER_value(sk, i));
		names[n] = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i));	/* static in libssl */
	}
	sk_SSL_CIPHER_free(sk);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return n;
}

/* Every suite OpenSSL offers is in the set, in OpenSSL's order, or named
 * as dropped; nothing else is in the set. */
static void test_set_is_openssls(void **state)
{
	static const struct {
		const char *l12, *l13;
	} cases[] = {
		{ "HIGH:!aNULL:@STRENGTH", "" },
		{ "DEFAULT", "" },
		{ "ALL:-kRSA:+SHA1", "" },
		{ "ECDHE+AESGCM:ECDHE+CHACHA20:!ECDSA", "TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256" },
		{ "kEDH+AES128:AES256-SHA:-SHA256", "" },
		{ "AES128:!AESCCM:@STRENGTH:+ECDSA", "" },
		{ "HIGH:ECDHE-ECDSA-AES128-CCM8:!SHA384", "TLS_AES_256_GCM_SHA384" },
		{ "HIGH:@SECLEVEL=3", "" },
		{ "ECDHE-RSA-AES128-SHA:AES128-SHA:@SECLEVEL=0", "" },
	};
	uint16_t ids[MAX_SUITES];
	const char *names[MAX_SUITES];
	struct ciphers_set set;
	char str[256];

	for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
		size_t n = openssl_list(cases[c].l12, cases[c].l13, ids, names, MAX_SUITES), k = 0;

		snprintf(str, sizeof(str), "%s%s%s", cases[c].l13, cases[c].l13[0] ? ":" : "", cases[c].l12);
		select_ok(str, NULL, &set);
		for (size_t i = 0; i < n; i++) {
			if (k < set.n && set_id(&set, k) == ids[i]) {
				assert_string_equal(set.v[k].name, names[i]);
				k++;
			} else if (strstr(set.dropped, names[i]) == NULL && strstr(set.dropped, "...") == NULL) {
				fail_msg("\"%s\": %s neither in the set (at %zu) nor dropped", str, names[i], k);
			}
		}
		if (k != set.n)
			fail_msg("\"%s\": %zu suites beyond OpenSSL's list", str, set.n - k);
	}
}

static void test_dropped_are_named(void **state)
{
	static const uint16_t want[] = { ID(0x13, 0x02), ID(0x13, 0x03), ID(0x13, 0x01), ID(0xc0, 0x2f) };
	struct ciphers_set set;

	select_ok("ECDHE-ECDSA-AES128-CCM8:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ARIA128-GCM-SHA256", NULL, &set);
	assert_set(&set, want, ARRAY_LEN(want));
	assert_string_equal(set.dropped, "ECDHE-ECDSA-AES128-CCM8:ECDHE-ARIA128-GCM-SHA256");
	select_ok("ALL:COMPLEMENTOFALL", NULL, &set);
	assert_true(strlen(set.dropped) < sizeof(set.dropped));
	assert_non_null(strstr(set.dropped, "..."));
	for (size_t i = 0; i < set.n; i++)
		assert_null(strstr(set.v[i].name, "PSK"));
}

static void test_tls13_tokens(void **state)
{
	static const uint16_t only13[] = { ID(0x13, 0x04), ID(0x13, 0x01) };
	static const uint16_t mixed[] = { ID(0x13, 0x03), ID(0xc0, 0x2b) };
	struct ciphers_set set;

	select_ok("TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256", NULL, &set);
	assert_set(&set, only13, ARRAY_LEN(only13));
	select_ok("TLS_CHACHA20_POLY1305_SHA256::ECDHE-ECDSA-AES128-GCM-SHA256", NULL, &set);
	assert_set(&set, mixed, ARRAY_LEN(mixed));
	select_ok("ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2", &set);
	assert_int_equal(set.n, 1);
	assert_int_equal(set_id(&set, 0), ID(0xc0, 0x2f));
}

/* As Node: names OpenSSL does not know are skipped; a TLS 1.2 list that
 * matches nothing is an error. */
static void test_select_errors(void **state)
{
	struct ciphers_set set;

	select_ok("FOO:ECDHE-RSA-AES128-GCM-SHA256", NULL, &set);
	assert_int_equal(set.n, 4);
	select_fails("FOO", "ciphers: OpenSSL selects no cipher suite from \"FOO\" (no cipher match)");
	select_fails("HIGH:!HIGH", "ciphers: OpenSSL selects no cipher suite from \"HIGH:!HIGH\" (no cipher match)");
	select_fails(":::", "ciphers: selects no cipher suite");
	select_fails("TLS_FOO", "ciphers: OpenSSL knows none of the TLS 1.3 suites \"TLS_FOO\"");
	select_fails("TLS_AES_128_CCM_8_SHA256",
		     "ciphers: selects no cipher suite tlsd can serve (dropped: TLS_AES_128_CCM_8_SHA256)");
}

/* ---- priorities: exactly the suites asked for, per GnuTLS itself ---- */

static char *prio_of(const struct ciphers_set *set, int which)
{
	struct tlsd_priority_opts o = { 0 };
	struct tlsd_error err = { "" };
	char *text = NULL;

	if (ciphers_priority_text(&o, set, which, &text, &err) != 0)
		fail_msg("priority %d: %s", which, err.msg);
	return text;
}

static void test_priority_per_suite(void **state)
{
	struct ciphers_set set;
	uint16_t want13[CIPHERS_MAX];
	size_t n13 = 0;
	struct listing all;
	char *p;

	select_ok("ALL:COMPLEMENTOFALL", NULL, &set);
	assert_true(set.n > 30);
	for (size_t i = 0; i < set.n; i++) {
		if (set.v[i].tls13) {
			want13[n13++] = set_id(&set, i);
			continue;
		}
		p = prio_of(&set, (int)i);
		assert_contains(p, "NONE:+VERS-TLS1.2:+");
		assert_lacks(p, "VERS-TLS1.3");
		{
			uint16_t one = set_id(&set, i);

			assert_exactly(p, &one, 1);
		}
		free(p);
	}
	p = prio_of(&set, CIPHERS_PRIO_TLS13);
	assert_lacks(p, "VERS-TLS1.2");
	assert_exactly(p, want13, n13);
	free(p);
	p = prio_of(&set, CIPHERS_PRIO_ALL);
	list_suites(p, &all);
	for (size_t i = 0; i < set.n; i++)
		assert_true(listed(&all, set_id(&set, i)));
	free(p);
}

static void test_version_range(void **state)
{
	struct tlsd_priority_opts min13 = { .min_version = "TLSv1.3" };
	struct tlsd_priority_opts max12 = { .max_version = "TLSv1.2" };
	struct tlsd_priority_opts both = { .min_version = "TLSv1.2", .max_version = "TLSv1.3" };
	char *a = build(&min13), *b = build(&max12), *c = build(&both);
	struct listing l;

	assert_contains(a, "NONE:+VERS-TLS1.3:+AES-256-GCM:");
	assert_lacks(a, "VERS-TLS1.2");
	list_suites(a, &l);
	assert_int_equal(l.n, 3);
	assert_contains(b, "NONE:+VERS-TLS1.2:+ECDHE-RSA:");
	assert_lacks(b, "VERS-TLS1.3");
	list_suites(b, &l);
	assert_int_equal(l.n, 33);
	assert_contains(c, "NONE:+VERS-TLS1.3:+VERS-TLS1.2:");
	free(a);
	free(b);
	free(c);
}

static void test_secure_protocol_mapping(void **state)
{
	static const char *const only12[] = { "TLSv1_2_method", "TLSv1_2_server_method" };
	static const char *const any[] = { "TLS_method", "TLS_server_method", "SSLv23_method", "SSLv23_server_method" };
	struct tlsd_priority_opts o = { 0 };
	size_t i;
	char *p;

	for (i = 0; i < ARRAY_LEN(only12); i++) {
		o.secure_protocol = only12[i];
		p = build(&o);
		assert_contains(p, "NONE:+VERS-TLS1.2:+");
		assert_lacks(p, "VERS-TLS1.3");
		free(p);
	}
	for (i = 0; i < ARRAY_LEN(any); i++) {
		o.secure_protocol = any[i];
		p = build(&o);
		assert_contains(p, "NONE:+VERS-TLS1.3:+VERS-TLS1.2:+");
		free(p);
	}
}

static void version_fails(const char *min, const char *max, const char *method, const char *msg)
{
	struct tlsd_priority_opts o = { .min_version = min, .max_version = max, .secure_protocol = method };

	build_fails(&o, msg);
}

static void test_version_errors(void **state)
{
	version_fails("TLSv1.1", NULL, NULL, "minVersion: TLSv1.1 is not supported (tlsd serves TLS 1.2 and TLS 1.3)");
	version_fails("TLSv1", NULL, NULL, "minVersion: TLSv1 is not supported (tlsd serves TLS 1.2 and TLS 1.3)");
	version_fails(NULL, "TLSv1.1", NULL, "maxVersion: TLSv1.1 is not supported (tlsd serves TLS 1.2 and TLS 1.3)");
	version_fails("SSLv3", NULL, NULL, "minVersion: SSLv3 is not supported (tlsd serves TLS 1.2 and TLS 1.3)");
	version_fails("TLSv9", NULL, NULL, "minVersion: unknown protocol version \"TLSv9\" (use TLSv1.2 or TLSv1.3)");
	version_fails("TLSv1.3", "TLSv1.2", NULL, "minVersion: TLSv1.3 is above maxVersion TLSv1.2");
	version_fails(NULL, NULL, "TLSv1_method",
		      "secureProtocol: TLSv1_method is not supported (tlsd serves TLS 1.2 and TLS 1.3)");
	version_fails(NULL, NULL, "TLSv1_1_server_method",
		      "secureProtocol: TLSv1_1_server_method is not supported (tlsd serves TLS 1.2 and TLS 1.3)");
	version_fails(NULL, NULL, "SSLv3_method",
		      "secureProtocol: SSLv3_method is not supported (tlsd serves TLS 1.2 and TLS 1.3)");
	version_fails(NULL, NULL, "TLSv1_3_method",
		      "secureProtocol: unknown method \"TLSv1_3_method\" (use TLS_method or TLSv1_2_method)");
	version_fails("TLSv1.2", NULL, "TLSv1_2_method",
		      "secureProtocol: conflicts with minVersion/maxVersion (set one or the other)");
}

/* ---- curves ---- */

static char *with_curve(const char *ciphers, const char *curve)
{
	struct tlsd_priority_opts o = { .ciphers = ciphers, .ecdh_curve = curve };

	return build(&o);
}

static void test_curves_default(void **state)
{
	char *a = with_curve("ECDHE+AESGCM", NULL), *b = with_curve("ECDHE+AESGCM", "auto");

	assert_contains(a, ":+COMP-NULL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+CTYPE-X509");
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void test_curves_named(void **state)
{
	char *a = with_curve("ECDHE+AESGCM", "prime256v1");
	char *b = with_curve("ECDHE+AESGCM", "X25519:P-384:secp521r1");
	char *c = with_curve("ECDHE+AESGCM", "x448:P-521:secp256r1");

	assert_contains(a, ":+COMP-NULL:+GROUP-SECP256R1:+CTYPE-X509");
	assert_contains(b, ":+COMP-NULL:+GROUP-X25519:+GROUP-SECP384R1:+GROUP-SECP521R1:+CTYPE-X509");
	assert_contains(c, ":+COMP-NULL:+GROUP-X448:+GROUP-SECP521R1:+GROUP-SECP256R1:+CTYPE-X509");
	free(a);
	free(b);
	free(c);
}

static void test_curves_with_dhe(void **state)
{
	char *a = with_curve("DHE-RSA-AES128-GCM-SHA256", "P-256");
	char *b = with_curve("DHE-RSA-AES128-GCM-SHA256", "X25519:ffdhe3072");

	assert_contains(a, ":+GROUP-SECP256R1:+GROUP-FFDHE2048:+GROUP-FFDHE3072:+GROUP-FFDHE4096:+CTYPE");
	assert_contains(b, ":+GROUP-X25519:+GROUP-FFDHE3072:+CTYPE");
	free(a);
	free(b);
}

static void curve_fails(const char *curve, const char *msg)
{
	struct tlsd_priority_opts o = { .ecdh_curve = curve };

	build_fails(&o, msg);
}

static void test_curve_errors(void **state)
{
	curve_fails("P-999", "ecdhCurve: unknown curve \"P-999\"");
	curve_fails("X25519:x", "ecdhCurve: unknown curve \"x\"");
	curve_fails("X25519:", "ecdhCurve: unknown curve \"\"");
	curve_fails("", "ecdhCurve: unknown curve \"\"");
	curve_fails("p-256", "ecdhCurve: unknown curve \"p-256\"");
	curve_fails("P-256,P-384", "ecdhCurve: unknown curve \"P-256,P-384\"");
	curve_fails("P-256:prime256v1", "ecdhCurve: curve \"prime256v1\" is listed twice");
}

/* ---- order ---- */

static void test_honor_cipher_order(void **state)
{
	struct tlsd_priority_opts on = { .honor_cipher_order = true };
	struct tlsd_priority_opts off = { 0 };
	char *a = build(&on), *b = build(&off);
	size_t n = strlen(a);

	assert_true(n > 19);
	assert_string_equal(a + n - 19, ":%SERVER_PRECEDENCE");
	assert_lacks(b, "SERVER_PRECEDENCE");
	free(a);
	free(b);
}

static void test_order_first_appearance(void **state)
{
	char *a = build_str("AES128-GCM-SHA256:AES256-GCM-SHA384", "TLSv1.2");
	char *b = build_str("AES128-GCM-SHA256:AES256-GCM-SHA384:@STRENGTH", "TLSv1.2");
	char *c = build_str("AES128-GCM-SHA256:AES256-GCM-SHA384:+AES128", "TLSv1.2");
	char *d = build_str("ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2");

	assert_before(a, "+AES-128-GCM", "+AES-256-GCM");
	assert_before(b, "+AES-256-GCM", "+AES-128-GCM");
	assert_before(c, "+AES-256-GCM", "+AES-128-GCM");
	assert_before(d, "+ECDHE-ECDSA", "+ECDHE-RSA");
	assert_before(d, "+AES-128-CBC", "+AES-128-GCM");
	assert_before(d, "+SHA256", "+AEAD");
	free(a);
	free(b);
	free(c);
	free(d);
}

/* ---- names ---- */

static void test_openssl_name_by_id(void **state)
{
	assert_string_equal(ciphers_openssl_name(0xc0, 0x2f), "ECDHE-RSA-AES128-GCM-SHA256");
	assert_string_equal(ciphers_openssl_name(0xc0, 0x2c), "ECDHE-ECDSA-AES256-GCM-SHA384");
	assert_string_equal(ciphers_openssl_name(0x00, 0x9e), "DHE-RSA-AES128-GCM-SHA256");
	assert_string_equal(ciphers_openssl_name(0x00, 0x2f), "AES128-SHA");
	assert_string_equal(ciphers_openssl_name(0xcc, 0xa8), "ECDHE-RSA-CHACHA20-POLY1305");
	assert_string_equal(ciphers_openssl_name(0x13, 0x01), "TLS_AES_128_GCM_SHA256");
	assert_string_equal(ciphers_openssl_name(0x13, 0x03), "TLS_CHACHA20_POLY1305_SHA256");
	assert_string_equal(ciphers_openssl_name(0xc0, 0xae), "ECDHE-ECDSA-AES128-CCM8");
	assert_string_equal(ciphers_openssl_name(0x13, 0x05), "TLS_AES_128_CCM_8_SHA256");
	assert_null(ciphers_openssl_name(0xff, 0xff));
	assert_null(ciphers_openssl_name(0x00, 0x00));
}

/* ---- handshakes ---- */

struct cert {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
};

static int group_setup(void **state)
{
	struct cert *c = calloc(1, sizeof(*c));
	time_t now = time(NULL);
	unsigned char serial[8] = { 0x12, 0x34 };

	if (c == NULL || gnutls_x509_privkey_init(&c->key) < 0 ||
	    gnutls_x509_privkey_generate(c->key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_crt_init(&c->crt) < 0 || gnutls_x509_crt_set_version(c->crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(c->crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(c->crt, now - 60) < 0 ||
	    gnutls_x509_crt_set_expiration_time(c->crt, now + 3600) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(c->crt, GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9) < 0 ||
	    gnutls_x509_crt_set_key(c->crt, c->key) < 0 ||
	    gnutls_x509_crt_set_key_usage(c->crt, GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
	    gnutls_x509_crt_sign2(c->crt, c->crt, c->key, GNUTLS_DIG_SHA256, 0) < 0)
		return -1;
	*state = c;
	return 0;
}

static int group_teardown(void **state)
{
	struct cert *c = *state;

	gnutls_x509_crt_deinit(c->crt);
	gnutls_x509_privkey_deinit(c->key);
	free(c);
	return 0;
}

/* run_side: one handshake end on <fd>; the negotiated IANA name to <name>. */
static int run_side(int fd, unsigned flags, const char *prio, struct cert *c, char *name, size_t size)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t s = NULL;
	int rc = -1;

	if (gnutls_certificate_allocate_credentials(&cred) < 0 || gnutls_init(&s, flags) < 0)
		goto out;
	if (c != NULL && gnutls_certificate_set_x509_key(cred, &c->crt, 1, c->key) < 0)
		goto out;
	if (gnutls_priority_set_direct(s, prio, NULL) < 0 ||
	    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred) < 0)
		goto out;
	gnutls_transport_set_int(s, fd);
	gnutls_handshake_set_timeout(s, 5000);
	do
		rc = gnutls_handshake(s);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc == 0 && name != NULL)
		snprintf(name, size, "%s", gnutls_ciphersuite_get(s));
out:
	if (s != NULL)
		gnutls_deinit(s);
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	return rc;
}

/* handshake: a server on <server_prio> in a child, a client on
 * <client_prio> here; the suite the client negotiated into <name>. */
static void handshake(struct cert *c, const char *server_prio, const char *client_prio, char *name,
		      size_t size)
{
	int sv[2], status = 0;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		alarm(10);
		_exit(run_side(sv[0], GNUTLS_SERVER, server_prio, c, NULL, 0) == 0 ? 0 : 1);
	}
	close(sv[0]);
	assert_int_equal(run_side(sv[1], GNUTLS_CLIENT, client_prio, NULL, name, size), 0);
	close(sv[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_handshake_default_priority(void **state)
{
	struct tlsd_priority_opts o = { 0 };
	char *p = build(&o);
	char name[128] = "";

	handshake(*state, p, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM", name, sizeof(name));
	assert_string_equal(name, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
	handshake(*state, p, "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305", name, sizeof(name));
	assert_string_equal(name, "TLS_CHACHA20_POLY1305_SHA256");
	free(p);
}

/* The client prefers AES-128-GCM; with honorCipherOrder Node's first TLS 1.3
 * suite (AES-256-GCM) wins. */
static void test_handshake_honor_cipher_order(void **state)
{
	static const char client[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM";
	struct tlsd_priority_opts on = { .honor_cipher_order = true };
	struct tlsd_priority_opts off = { 0 };
	char *a = build(&on), *b = build(&off);
	char name[128] = "";

	handshake(*state, a, client, name, sizeof(name));
	assert_string_equal(name, "TLS_AES_256_GCM_SHA384");
	handshake(*state, b, client, name, sizeof(name));
	assert_string_equal(name, "TLS_AES_128_GCM_SHA256");
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_suite_is_one_suite),
		cmocka_unit_test(test_node_default_set),
		cmocka_unit_test(test_set_is_openssls),
		cmocka_unit_test(test_dropped_are_named),
		cmocka_unit_test(test_tls13_tokens),
		cmocka_unit_test(test_select_errors),
		cmocka_unit_test(test_priority_per_suite),
		cmocka_unit_test(test_version_range),
		cmocka_unit_test(test_secure_protocol_mapping),
		cmocka_unit_test(test_version_errors),
		cmocka_unit_test(test_curves_default),
		cmocka_unit_test(test_curves_named),
		cmocka_unit_test(test_curves_with_dhe),
		cmocka_unit_test(test_curve_errors),
		cmocka_unit_test(test_honor_cipher_order),
		cmocka_unit_test(test_order_first_appearance),
		cmocka_unit_test(test_openssl_name_by_id),
		cmocka_unit_test(test_handshake_default_priority),
		cmocka_unit_test(test_handshake_honor_cipher_order),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
