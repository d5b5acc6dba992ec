/* test_ciphers.c - OpenSSL cipher strings to GnuTLS priorities.
 *
 * Outcomes are checked against the real library: the suites a priority
 * enables are listed here with gnutls_priority_get_cipher_suite_index, not
 * with the module's own model, and two handshakes over a socketpair show the
 * default priority works and that honorCipherOrder takes effect.
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

#include "common/ciphers.h"

#define ID(a, b) ((uint16_t)(((a) << 8) | (b)))
#define MAX_SUITES 256
#define N_ENABLEABLE 37		/* 4 TLS 1.3 + 33 TLS 1.2 suites */
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

static void ciphers_fail(const char *ciphers, const char *msg)
{
	struct tlsd_priority_opts o = { .ciphers = ciphers };

	build_fails(&o, msg);
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

static void test_node_default_text(void **state)
{
	assert_string_equal(ciphers_node_default,
			    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
			    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
			    "ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:"
			    "DHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA384:"
			    "ECDHE-RSA-AES256-SHA256:DHE-RSA-AES256-SHA256:HIGH:!aNULL:!eNULL:!EXPORT:"
			    "!DES:!RC4:!MD5:!PSK:!SRP:!CAMELLIA");
}

static void test_node_default_priority_text(void **state)
{
	struct tlsd_priority_opts o = { 0 };
	char *p = build(&o);

	assert_string_equal(p, "NONE:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-RSA:+ECDHE-ECDSA:+DHE-RSA:+RSA:"
			       "+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:+AES-128-CBC:+AES-256-CBC:"
			       "+AES-256-CCM:+AES-128-CCM:+AEAD:+SHA256:+SHA384:+SHA1:+SIGN-ALL:+COMP-NULL:"
			       "+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-FFDHE2048:"
			       "+GROUP-FFDHE3072:+GROUP-FFDHE4096:+CTYPE-X509");
	free(p);
}

/* Every suite Node's default names is enabled, and, through HIGH, all 37
 * suites tlsd can enable (TLS_AES_128_CCM_SHA256 comes with the AES-128-CCM
 * the TLS 1.2 CCM suites need), none other. */
static void test_node_default_enables_its_suites(void **state)
{
	static const uint16_t named[] = {
		ID(0x13, 0x02), ID(0x13, 0x03), ID(0x13, 0x01), ID(0xc0, 0x2f), ID(0xc0, 0x2b),
		ID(0xc0, 0x30), ID(0xc0, 0x2c), ID(0x00, 0x9e), ID(0xc0, 0x27), ID(0x00, 0x67),
		ID(0xc0, 0x28), ID(0x00, 0x6b),
	};
	struct tlsd_priority_opts o = { 0 };
	char *p = build(&o);
	struct listing l;
	size_t i;

	list_suites(p, &l);
	for (i = 0; i < ARRAY_LEN(named); i++)
		if (!listed(&l, named[i]))
			fail_msg("Node default suite 0x%04x not enabled", named[i]);
	assert_int_equal(l.n, N_ENABLEABLE);
	for (i = 0; i < l.n; i++)
		assert_non_null(ciphers_openssl_name(l.id[i] >> 8, l.id[i] & 0xff));
	assert_false(listed(&l, ID(0xc0, 0xae)));	/* no CCM_8 */
	free(p);
}

static void test_empty_string_is_default(void **state)
{
	struct tlsd_priority_opts o = { .ciphers = "" };
	struct tlsd_priority_opts d = { 0 };
	char *p = build(&o), *q = build(&d);

	assert_string_equal(p, q);
	free(p);
	free(q);
}

/* ---- selections by key exchange and authentication ---- */

static void test_rsa_selection(void **state)
{
	static const uint16_t want[] = { ID(0x00, 0x9c), ID(0x00, 0x9d) };
	char *p = build_str("kRSA+AESGCM", "TLSv1.2");

	assert_exactly(p, want, ARRAY_LEN(want));
	assert_string_equal(p, "NONE:+VERS-TLS1.2:+RSA:+AES-256-GCM:+AES-128-GCM:+AEAD:+SIGN-ALL:"
			       "+COMP-NULL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+CTYPE-X509");
	free(p);
}

static void test_ecdsa_selection(void **state)
{
	static const uint16_t want[] = { ID(0xc0, 0x2b), ID(0xc0, 0x2c), ID(0xcc, 0xa9) };
	char *p = build_str("ECDSA+AESGCM:aECDSA+CHACHA20", "TLSv1.2");

	assert_exactly(p, want, ARRAY_LEN(want));
	free(p);
}

static void test_dhe_selection_adds_ffdhe(void **state)
{
	static const uint16_t want[] = { ID(0x00, 0x9e), ID(0x00, 0x9f) };
	char *p = build_str("DHE+AESGCM", "TLSv1.2");

	assert_exactly(p, want, ARRAY_LEN(want));
	assert_contains(p, ":+DHE-RSA:");
	assert_contains(p, ":+GROUP-FFDHE2048:+GROUP-FFDHE3072:+GROUP-FFDHE4096:");
	free(p);
}

static void test_no_ffdhe_without_dhe(void **state)
{
	char *p = build_str("ECDHE+AESGCM", NULL);

	assert_lacks(p, "FFDHE");
	assert_lacks(p, ":+DHE-RSA:");
	free(p);
}

static void test_separators_and_names(void **state)
{
	static const uint16_t want[] = { ID(0x00, 0x9c), ID(0x00, 0x9d), ID(0xc0, 0x2f), ID(0xc0, 0x30) };
	char *p = build_str("AES128-GCM-SHA256,AES256-GCM-SHA384 ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2");

	/* ECDHE-RSA-AES256-GCM-SHA384 comes with the product: tolerated. */
	assert_exactly(p, want, ARRAY_LEN(want));
	free(p);
}

/* ---- removal ---- */

static void test_bang_removes_family(void **state)
{
	char *p = build_str("HIGH:!kRSA", NULL);
	char *q = build_str("HIGH:!SHA1", NULL);
	struct listing l;

	list_suites(p, &l);
	assert_false(listed(&l, ID(0x00, 0x9c)));
	assert_false(listed(&l, ID(0x00, 0x2f)));
	assert_true(listed(&l, ID(0xc0, 0x2f)));
	assert_lacks(p, "+RSA:");
	list_suites(q, &l);
	assert_false(listed(&l, ID(0xc0, 0x13)));
	assert_false(listed(&l, ID(0x00, 0x35)));
	assert_true(listed(&l, ID(0xc0, 0x27)));
	assert_lacks(q, "+SHA1");
	free(p);
	free(q);
}

/* One excluded CBC suite: GnuTLS cannot drop it alone, so its MAC goes. */
static void test_bang_single_suite_refined(void **state)
{
	char *p = build_str("HIGH:!ECDHE-RSA-AES128-SHA", NULL);
	struct listing l;

	list_suites(p, &l);
	assert_false(listed(&l, ID(0xc0, 0x13)));
	assert_false(listed(&l, ID(0xc0, 0x14)));	/* SHA1 dropped with it */
	assert_true(listed(&l, ID(0xc0, 0x2f)));
	assert_true(listed(&l, ID(0xc0, 0x27)));
	assert_int_equal(l.n, N_ENABLEABLE - 8);
	free(p);
}

/* Dropping SHA1 would leave TLS 1.2 no suite, so the cipher goes instead. */
static void test_refine_keeps_a_suite_per_version(void **state)
{
	static const uint16_t want[] = { ID(0xc0, 0x14), ID(0x00, 0x35) };
	char *p = build_str("ECDHE+aRSA+AES256+SHA1:kRSA+AES128+SHA1:!ECDHE-RSA-AES128-SHA", "TLSv1.2");

	assert_exactly(p, want, ARRAY_LEN(want));
	free(p);
}

static void test_bang_unavoidable_is_error(void **state)
{
	ciphers_fail("ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384:!ECDHE-RSA-AES256-SHA",
		     "ciphers: \"ECDHE-RSA-AES256-SHA\" is excluded, but GnuTLS cannot leave it out without "
		     "dropping a suite the string names (it enables every key exchange x cipher x MAC combination)");
	ciphers_fail("TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES128-GCM-SHA256:!TLS_AES_128_GCM_SHA256",
		     "ciphers: \"TLS_AES_128_GCM_SHA256\" is excluded, but GnuTLS cannot leave it out without "
		     "dropping a suite the string names (it enables every key exchange x cipher x MAC combination)");
}

static void test_minus_removal_refined(void **state)
{
	static const uint16_t want[] = { ID(0xc0, 0x2c), ID(0xc0, 0x30) };
	char *p = build_str("kECDHE+AESGCM:-ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2");

	assert_exactly(p, want, ARRAY_LEN(want));
	free(p);
}

static void test_minus_then_readd(void **state)
{
	char *p = build_str("HIGH:-kRSA:kRSA", "TLSv1.2");
	struct listing l;

	list_suites(p, &l);
	assert_true(listed(&l, ID(0x00, 0x9c)));
	assert_int_equal(l.n, N_ENABLEABLE - 4);
	assert_before(p, "+ECDHE-ECDSA", "+RSA:");
	free(p);
}

/* '-' moves suites to the front, so the next token adds them back first
 * (OpenSSL: "AES128-SHA:-AES128-SHA:kRSA" starts with AES128-SHA). */
static void test_minus_readds_first(void **state)
{
	char *p = build_str("AES128-SHA:-AES128-SHA:kRSA", "TLSv1.2");

	assert_before(p, "+AES-128-CBC", "+AES-256-GCM");
	assert_before(p, "+SHA1", "+AEAD");
	free(p);
}

/* An AEAD suite is left out by its cipher, never by dropping AEAD (which
 * would cost every GCM, CCM and ChaCha20 suite). */
static void test_aead_exclusion_drops_cipher(void **state)
{
	char *p = build_str("HIGH:-ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2");
	struct listing l;

	list_suites(p, &l);
	assert_false(listed(&l, ID(0xc0, 0x2f)));
	assert_false(listed(&l, ID(0xc0, 0x2b)));
	assert_true(listed(&l, ID(0xc0, 0x30)));
	assert_true(listed(&l, ID(0xcc, 0xa8)));
	assert_int_equal(l.n, 33 - 4);
	assert_lacks(p, "AES-128-GCM");
	free(p);
}

static void test_cbc_alias(void **state)
{
	char *p = build_str("CBC", "TLSv1.2");
	struct listing l;

	list_suites(p, &l);
	assert_int_equal(l.n, 16);
	assert_lacks(p, "GCM");
	assert_lacks(p, "AEAD");
	free(p);
}

static void test_default_alias_excludes_ccm(void **state)
{
	char *p = build_str("DEFAULT", "TLSv1.2");
	struct listing l;

	list_suites(p, &l);
	assert_false(listed(&l, ID(0xc0, 0xac)));
	assert_true(listed(&l, ID(0xc0, 0x2b)));
	assert_lacks(p, "CCM");
	assert_int_equal(l.n, 33 - 6);
	free(p);
}

/* ---- errors on the string ---- */

static void test_unknown_token(void **state)
{
	ciphers_fail("HIGH:FOO", "ciphers: unknown cipher or alias \"FOO\"");
	ciphers_fail("AES+BAR", "ciphers: unknown cipher or alias \"BAR\"");
	ciphers_fail("HIGH:@FOO", "ciphers: unknown cipher or alias \"@FOO\"");
	ciphers_fail("HIGH:@SECLEVEL=9", "ciphers: unknown cipher or alias \"@SECLEVEL=9\"");
	ciphers_fail("HIGH:!", "ciphers: unknown cipher or alias \"\"");
	ciphers_fail("aes128-sha", "ciphers: unknown cipher or alias \"aes128-sha\"");
	ciphers_fail("TLS_FOO", "ciphers: unknown cipher or alias \"TLS_FOO\"");
}

static void test_empty_result(void **state)
{
	ciphers_fail(":::", "ciphers: selects no cipher suite");
	ciphers_fail("HIGH:!HIGH", "ciphers: selects no cipher suite");
	ciphers_fail("TLS_AES_128_GCM_SHA256:!TLS_AES_128_GCM_SHA256", "ciphers: selects no cipher suite");
	ciphers_fail("TLS_AES_128_GCM_SHA256:!RC4",
		     "ciphers: selects no TLS 1.2 cipher suite (name only TLS_* suites to serve TLS 1.3 alone)");
}

static void test_weak_select_nothing(void **state)
{
	static const char *const weak[] = {
		"RC4", "RC4-SHA", "RC4-MD5", "ECDHE-RSA-RC4-SHA", "3DES", "DES-CBC3-SHA",
		"EDH-RSA-DES-CBC3-SHA", "DES", "DES-CBC-SHA", "NULL", "eNULL", "NULL-SHA",
		"NULL-MD5", "aNULL", "ADH", "AECDH", "ADH-AES128-SHA", "AECDH-AES256-SHA",
		"EXP-RC4-MD5", "EXPORT", "MEDIUM", "LOW", "MD5", "AESCCM8", "AES128-CCM8",
		"PSK", "SRP", "CAMELLIA", "aDSS", "COMPLEMENTOFALL", "RC4:3DES:eNULL",
		"ECDHE-RSA-AES256-SHA256",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(weak); i++)
		ciphers_fail(weak[i], "ciphers: selects no cipher suite");
}

static void test_weak_never_enabled_beside_others(void **state)
{
	char *p = build_str("RC4:3DES:HIGH:eNULL:aNULL:AESCCM8:MEDIUM:LOW:ALL:COMPLEMENTOFALL", NULL);
	struct listing l;

	list_suites(p, &l);
	assert_int_equal(l.n, N_ENABLEABLE);
	assert_false(listed(&l, ID(0x00, 0x05)));
	assert_false(listed(&l, ID(0x00, 0x0a)));
	assert_false(listed(&l, ID(0x00, 0x02)));
	assert_false(listed(&l, ID(0xc0, 0xa0)));
	assert_lacks(p, "ARCFOUR");
	assert_lacks(p, "3DES");
	assert_lacks(p, "+NULL:");
	free(p);
}

/* ---- TLS 1.3 ---- */

static void test_tls13_only_names(void **state)
{
	static const uint16_t want[] = { ID(0x13, 0x01), ID(0x13, 0x03) };
	char *p = build_str("TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256", NULL);

	assert_exactly(p, want, ARRAY_LEN(want));
	assert_string_equal(p, "NONE:+VERS-TLS1.3:+AES-128-GCM:+CHACHA20-POLY1305:+AEAD:+SIGN-ALL:"
			       "+COMP-NULL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+CTYPE-X509");
	free(p);
}

static void test_tls13_names_need_tls13(void **state)
{
	struct tlsd_priority_opts o = { .ciphers = "TLS_AES_128_GCM_SHA256", .max_version = "TLSv1.2" };

	build_fails(&o, "ciphers: selects no cipher suite");
}

/* No TLS 1.3 suite named: OpenSSL's three default ones stay, as in Node. */
static void test_tls13_defaults_when_unnamed(void **state)
{
	static const uint16_t want[] = {
		ID(0x13, 0x02), ID(0x13, 0x03), ID(0x13, 0x01), ID(0xc0, 0x2b), ID(0xc0, 0x2c), ID(0xcc, 0xa9),
	};
	char *p = build_str("ECDHE-ECDSA-AES128-GCM-SHA256", NULL);

	assert_exactly(p, want, ARRAY_LEN(want));
	free(p);
}

static void test_tls13_removal(void **state)
{
	static const uint16_t want[] = { ID(0x13, 0x02), ID(0x13, 0x03), ID(0xc0, 0x2c), ID(0xcc, 0xa9) };
	char *p = build_str("ECDHE-ECDSA-AES256-GCM-SHA384:!TLS_AES_128_GCM_SHA256", NULL);

	assert_exactly(p, want, ARRAY_LEN(want));
	free(p);
}

/* "-AES" leaves TLS_AES_128_GCM_SHA256 alone: TLS 1.3 suites go by name.
 * ECDHE-ECDSA-AES128-GCM-SHA256 and TLS_CHACHA20_POLY1305_SHA256 come with
 * the product (tolerated: neither was active, so "-AES" excluded neither). */
static void test_tls13_aliases_do_not_touch(void **state)
{
	static const uint16_t want[] = { ID(0x13, 0x01), ID(0x13, 0x03), ID(0xcc, 0xa9), ID(0xc0, 0x2b) };
	char *p = build_str("TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:-AES", NULL);

	assert_exactly(p, want, ARRAY_LEN(want));
	free(p);
}

/* GnuTLS cannot offer a cipher in TLS 1.3 but not in TLS 1.2, nor drop the
 * TLS 1.3 defaults to honour a TLS 1.2 exclusion. */
static void test_tls13_conflicts_are_errors(void **state)
{
	ciphers_fail("TLS_AES_128_CCM_SHA256:HIGH:!AESCCM",
		     "ciphers: \"ECDHE-ECDSA-AES128-CCM\" is excluded, but GnuTLS cannot leave it out without "
		     "dropping a suite the string names (it enables every key exchange x cipher x MAC combination)");
	ciphers_fail("HIGH:!ECDHE-RSA-AES128-GCM-SHA256",
		     "ciphers: \"ECDHE-RSA-AES128-GCM-SHA256\" is excluded, but GnuTLS cannot leave it out without "
		     "dropping a suite the string names (it enables every key exchange x cipher x MAC combination)");
}

/* Excluding TLS_AES_128_CCM_SHA256 drops AES-128-CCM, and so the TLS 1.2
 * AES128-CCM suites that HIGH brought. */
static void test_tls13_exclusion_refined(void **state)
{
	char *p = build_str("HIGH:!TLS_AES_128_CCM_SHA256", NULL);
	struct listing l;

	list_suites(p, &l);
	assert_false(listed(&l, ID(0x13, 0x04)));
	assert_false(listed(&l, ID(0xc0, 0xac)));
	assert_true(listed(&l, ID(0xc0, 0xad)));
	assert_int_equal(l.n, N_ENABLEABLE - 4);
	free(p);
}

/* ---- versions ---- */

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

static void test_seclevel_ignored(void **state)
{
	char *a = build_str("HIGH:@SECLEVEL=2", NULL), *b = build_str("HIGH", NULL);

	assert_string_equal(a, b);
	free(a);
	free(b);
}

/* ---- names and the table ---- */

static void test_openssl_name_by_id(void **state)
{
	assert_string_equal(ciphers_openssl_name(0xc0, 0x2f), "ECDHE-RSA-AES128-GCM-SHA256");
	assert_string_equal(ciphers_openssl_name(0xc0, 0x2c), "ECDHE-ECDSA-AES256-GCM-SHA384");
	assert_string_equal(ciphers_openssl_name(0x00, 0x9e), "DHE-RSA-AES128-GCM-SHA256");
	assert_string_equal(ciphers_openssl_name(0x00, 0x2f), "AES128-SHA");
	assert_string_equal(ciphers_openssl_name(0xcc, 0xa8), "ECDHE-RSA-CHACHA20-POLY1305");
	assert_string_equal(ciphers_openssl_name(0x13, 0x01), "TLS_AES_128_GCM_SHA256");
	assert_string_equal(ciphers_openssl_name(0x13, 0x03), "TLS_CHACHA20_POLY1305_SHA256");
	assert_string_equal(ciphers_openssl_name(0x00, 0x05), "RC4-SHA");
	assert_null(ciphers_openssl_name(0xff, 0xff));
	assert_null(ciphers_openssl_name(0x00, 0x00));
}

/* The table walk gives the 37 suites; each is one GnuTLS really enables when
 * every table suite is asked for, so table and library agree. */
static void test_table_matches_gnutls(void **state)
{
	char *p = build_str("TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
			    "TLS_AES_128_CCM_SHA256:ALL", NULL);
	struct listing l;
	size_t i, j, found;

	assert_int_equal(ciphers_table_size(), N_ENABLEABLE);
	assert_string_equal(ciphers_table_name(0), "TLS_AES_256_GCM_SHA384");
	assert_null(ciphers_table_name(N_ENABLEABLE));
	list_suites(p, &l);
	assert_int_equal(l.n, N_ENABLEABLE);
	for (i = 0; i < N_ENABLEABLE; i++) {
		const char *name = ciphers_table_name(i);

		assert_non_null(name);
		assert_null(strstr(name, "RC4"));
		assert_null(strstr(name, "NULL"));
		assert_null(strstr(name, "CCM8"));
		for (j = 0, found = 0; j < l.n; j++)
			found += strcmp(ciphers_openssl_name(l.id[j] >> 8, l.id[j] & 0xff), name) == 0;
		assert_int_equal(found, 1);
	}
	free(p);
}

/* ---- the verification function on its own ---- */

static void verify_fails(const char *prio, const char *ciphers, const char *msg)
{
	struct tlsd_error err = { "" };

	assert_int_equal(ciphers_verify_priority(prio, ciphers, &err), TLSD_ERR_CONFIG);
	assert_string_equal(err.msg, msg);
}

static void test_verify_priority(void **state)
{
	struct tlsd_error err = { "" };

	assert_int_equal(ciphers_verify_priority("NORMAL", NULL, &err), 0);
	assert_int_equal(ciphers_verify_priority("NORMAL", "HIGH:!aNULL", &err), 0);
	assert_int_equal(ciphers_verify_priority("NONE:+VERS-TLS1.3:+AES-128-GCM:+AEAD:+SIGN-ALL:+GROUP-X25519",
						 "TLS_AES_128_GCM_SHA256", &err), 0);
	verify_fails("NONE:+VERS-TLS1.2:+RSA:+ARCFOUR-128:+SHA1:+SIGN-ALL:+COMP-NULL", NULL,
		     "ciphers: the priority enables TLS_RSA_ARCFOUR_128_SHA1 (0x00,0x05), which tlsd never enables");
	verify_fails("NONE:+VERS-TLS1.2:+RSA:+CAMELLIA-128-GCM:+AEAD:+SIGN-ALL", NULL,
		     "ciphers: the priority enables TLS_RSA_CAMELLIA_128_GCM_SHA256 (0xC0,0x7A), which tlsd never enables");
	verify_fails("NORMAL", "HIGH:!kRSA",
		     "ciphers: the priority enables \"AES256-GCM-SHA384\", which the cipher string excludes");
	verify_fails("NORMAL", "HIGH:!TLS_AES_128_CCM_SHA256",
		     "ciphers: the priority enables \"TLS_AES_128_CCM_SHA256\", which the cipher string excludes");
	verify_fails("NORMAL", "HIGH:FOO", "ciphers: unknown cipher or alias \"FOO\"");
	verify_fails("NONE:+BOGUS", NULL,
		     "ciphers: GnuTLS rejects the priority at \"+BOGUS\": The request is invalid.");
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
		cmocka_unit_test(test_node_default_text),
		cmocka_unit_test(test_node_default_priority_text),
		cmocka_unit_test(test_node_default_enables_its_suites),
		cmocka_unit_test(test_empty_string_is_default),
		cmocka_unit_test(test_rsa_selection),
		cmocka_unit_test(test_ecdsa_selection),
		cmocka_unit_test(test_dhe_selection_adds_ffdhe),
		cmocka_unit_test(test_no_ffdhe_without_dhe),
		cmocka_unit_test(test_separators_and_names),
		cmocka_unit_test(test_bang_removes_family),
		cmocka_unit_test(test_bang_single_suite_refined),
		cmocka_unit_test(test_refine_keeps_a_suite_per_version),
		cmocka_unit_test(test_bang_unavoidable_is_error),
		cmocka_unit_test(test_minus_removal_refined),
		cmocka_unit_test(test_minus_then_readd),
		cmocka_unit_test(test_minus_readds_first),
		cmocka_unit_test(test_aead_exclusion_drops_cipher),
		cmocka_unit_test(test_cbc_alias),
		cmocka_unit_test(test_default_alias_excludes_ccm),
		cmocka_unit_test(test_unknown_token),
		cmocka_unit_test(test_empty_result),
		cmocka_unit_test(test_weak_select_nothing),
		cmocka_unit_test(test_weak_never_enabled_beside_others),
		cmocka_unit_test(test_tls13_only_names),
		cmocka_unit_test(test_tls13_names_need_tls13),
		cmocka_unit_test(test_tls13_defaults_when_unnamed),
		cmocka_unit_test(test_tls13_removal),
		cmocka_unit_test(test_tls13_aliases_do_not_touch),
		cmocka_unit_test(test_tls13_conflicts_are_errors),
		cmocka_unit_test(test_tls13_exclusion_refined),
		cmocka_unit_test(test_version_range),
		cmocka_unit_test(test_secure_protocol_mapping),
		cmocka_unit_test(test_version_errors),
		cmocka_unit_test(test_curves_default),
		cmocka_unit_test(test_curves_named),
		cmocka_unit_test(test_curves_with_dhe),
		cmocka_unit_test(test_curve_errors),
		cmocka_unit_test(test_honor_cipher_order),
		cmocka_unit_test(test_order_first_appearance),
		cmocka_unit_test(test_seclevel_ignored),
		cmocka_unit_test(test_openssl_name_by_id),
		cmocka_unit_test(test_table_matches_gnutls),
		cmocka_unit_test(test_verify_priority),
		cmocka_unit_test(test_handshake_default_priority),
		cmocka_unit_test(test_handshake_honor_cipher_order),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
