/* test_creds.c - unit tests of common/creds.c against the fixture PKI.
 *
 * The group setup runs tests/fixtures/make-certs.sh (found through
 * $TLSD_SRCDIR, else TLSD_SRCDIR_DEFAULT given at build time, else the
 * current folder) into $TLSD_FIXTURES/generated, or into a fresh temporary
 * folder that the group teardown removes. Each test fills a struct
 * tlsd_config by hand and calls creds_load; no handshake is made.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/x509.h>

#include "common/config.h"
#include "common/creds.h"
#include "common/log.h"

#ifndef TLSD_SRCDIR_DEFAULT
#define TLSD_SRCDIR_DEFAULT "."
#endif

struct fixtures {
	char dir[PATH_MAX / 2];
	bool remove;		/* a temporary folder of ours */
};

struct test_ctx {
	const struct fixtures *fx;
	struct tlsd_config cfg;
	struct tlsd_creds *creds;
	struct tlsd_error err;
	char path[PATH_MAX];
};

/* ---- group setup ---- */

static int run_make_certs(const char *srcdir, const char *outdir)
{
	char script[PATH_MAX];
	pid_t pid;
	int status;

	snprintf(script, sizeof(script), "%s/tests/fixtures/make-certs.sh", srcdir);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/sh", "sh", script, outdir, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int group_setup(void **state)
{
	struct fixtures *fx = calloc(1, sizeof(*fx));
	const char *srcdir = getenv("TLSD_SRCDIR");
	const char *fixtures = getenv("TLSD_FIXTURES");

	if (fx == NULL)
		return -1;
	if (fixtures && fixtures[0]) {
		snprintf(fx->dir, sizeof(fx->dir), "%s/generated", fixtures);
	} else {
		snprintf(fx->dir, sizeof(fx->dir), "/tmp/tlsd-creds-XXXXXX");
		if (mkdtemp(fx->dir) == NULL)
			goto fail;
		fx->remove = true;
	}
	if (run_make_certs(srcdir && srcdir[0] ? srcdir : TLSD_SRCDIR_DEFAULT, fx->dir) < 0)
		goto fail;
	log_setup(TLSD_LOG_TEXT, TLSD_LOG_WARN);
	*state = fx;
	return 0;
fail:
	fprintf(stderr, "# make-certs.sh into %s failed\n", fx->dir);
	free(fx);
	return -1;
}

static int group_teardown(void **state)
{
	struct fixtures *fx = *state;
	char cmd[PATH_MAX + 16];
	int rc = 0;

	if (fx && fx->remove) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
		rc = system(cmd) == 0 ? 0 : -1;
	}
	free(fx);
	return rc;
}

/* ---- per-test context ---- */

static int test_setup(void **state)
{
	struct test_ctx *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	t->fx = *state;
	config_init(&t->cfg);
	*state = t;
	return 0;
}

static int test_teardown(void **state)
{
	struct test_ctx *t = *state;

	creds_free(t->creds);
	config_free(&t->cfg);
	free(t);
	return 0;
}

/* fx: the path of fixture <name> (valid until the next call). */
static const char *fx(struct test_ctx *t, const char *name)
{
	snprintf(t->path, sizeof(t->path), "%s/%s", t->fx->dir, name);
	return t->path;
}

static char *xstrdup(const char *s)
{
	char *copy = s ? strdup(s) : NULL;

	assert_true(s == NULL || copy != NULL);
	return copy;
}

static void list_add(struct tlsd_pem_list *l, const char *value, const char *pass)
{
	struct tlsd_pem *items = realloc(l->items, (l->n + 1) * sizeof(*items));

	assert_non_null(items);
	l->items = items;
	l->items[l->n].value = xstrdup(value);
	l->items[l->n].passphrase = xstrdup(pass);
	l->n++;
}

static void add_key(struct test_ctx *t, const char *name, const char *pass)
{
	list_add(&t->cfg.keys, fx(t, name), pass);
}

static void add_cert(struct test_ctx *t, const char *name)
{
	list_add(&t->cfg.certs, fx(t, name), NULL);
}

static void set_str(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/* read_text: the whole fixture <name> as a string (caller frees). */
static char *read_text(struct test_ctx *t, const char *name)
{
	FILE *f = fopen(fx(t, name), "r");
	char *buf = calloc(1, 65536);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void load_ok(struct test_ctx *t, unsigned pairs)
{
	int rc = creds_load(&t->cfg, &t->creds, &t->err);

	if (rc != 0)
		print_error("# unexpected error: %s\n", t->err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(t->creds);
	assert_non_null(creds_gnutls(t->creds));
	assert_int_equal(creds_pair_count(t->creds), pairs);
}

/* load_fails: creds_load fails with TLSD_ERR_CONFIG and exactly <fmt>. */
static void load_fails(struct test_ctx *t, const char *fmt, ...) TLSD_PRINTF(2, 3);
static void load_fails(struct test_ctx *t, const char *fmt, ...)
{
	struct tlsd_creds *const sentinel = (struct tlsd_creds *)(uintptr_t)1;
	struct tlsd_creds *creds = sentinel;	/* creds_load must set it to NULL */
	char want[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	rc = creds_load(&t->cfg, &creds, &t->err);
	t->creds = creds == sentinel ? NULL : creds;
	assert_int_equal(rc, TLSD_ERR_CONFIG);
	assert_null(creds);
	assert_string_equal(t->err.msg, want);
}

/* pair_pk: the public-key algorithm of pair <idx>'s leaf certificate. */
static int pair_pk(struct test_ctx *t, unsigned idx)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
	int pk;

	assert_int_equal(gnutls_certificate_get_crt_raw(creds_gnutls(t->creds), idx, 0, &der), 0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER), 0);
	pk = gnutls_x509_crt_get_pk_algorithm(crt, NULL);
	gnutls_x509_crt_deinit(crt);
	return pk;
}

/* ---- key/cert pairs ---- */

static void test_rsa_only(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	load_ok(t, 1);
	assert_int_equal(pair_pk(t, 0), GNUTLS_PK_RSA);
	assert_false(creds_has_ca(t->creds));
}

static void test_ec_only(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "ec-cert.pem");
	load_ok(t, 1);
	assert_int_equal(pair_pk(t, 0), GNUTLS_PK_ECDSA);
}

static void test_rsa_ec_same_order(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	add_cert(t, "ec-cert.pem");
	load_ok(t, 2);
	/* ECDSA is added first whatever the config order. */
	assert_int_equal(pair_pk(t, 0), GNUTLS_PK_ECDSA);
	assert_int_equal(pair_pk(t, 1), GNUTLS_PK_RSA);
}

static void test_rsa_ec_crossed(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "ec-cert.pem");
	add_cert(t, "rsa-cert.pem");
	load_ok(t, 2);
	assert_int_equal(pair_pk(t, 0), GNUTLS_PK_ECDSA);
	assert_int_equal(pair_pk(t, 1), GNUTLS_PK_RSA);
}

static void test_chain_in_cert(void **state)
{
	struct test_ctx *t = *state;
	gnutls_datum_t der;

	add_key(t, "rsa-key.pem", NULL);
	add_cert(t, "rsa-chain.pem");
	load_ok(t, 1);
	assert_int_equal(gnutls_certificate_get_crt_raw(creds_gnutls(t->creds), 0, 1, &der), 0);
}

static void test_inline_pem(void **state)
{
	struct test_ctx *t = *state;
	char *key = read_text(t, "ec-key.pem");
	char *cert = read_text(t, "ec-cert.pem");

	list_add(&t->cfg.keys, key, NULL);
	list_add(&t->cfg.certs, cert, NULL);
	free(key);
	free(cert);
	load_ok(t, 1);
}

static void test_key_matches_no_cert(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	add_key(t, "sni-a-key.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	add_cert(t, "ec-cert.pem");
	load_fails(t, "key[1]: matches no certificate in cert (%s)", fx(t, "sni-a-key.pem"));
}

static void test_cert_matches_no_key(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	add_cert(t, "ec-cert.pem");
	load_fails(t, "cert[1]: matches no key in key (%s)", fx(t, "ec-cert.pem"));
}

static void test_key_without_cert(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	load_fails(t, "cert: required when key is given");
}

static void test_nothing_configured(void **state)
{
	struct test_ctx *t = *state;

	load_fails(t, "key: no certificate configured (give key and cert, pfx, or --demo)");
}

/* ---- encrypted keys ---- */

static void test_pkcs8_key_own_passphrase(void **state)
{
	struct test_ctx *t = *state;

	set_str(&t->cfg.passphrase, "not this one");
	add_key(t, "rsa-key-enc.pem", "secret");
	add_cert(t, "rsa-cert.pem");
	load_ok(t, 1);
}

static void test_pkcs8_key_top_passphrase(void **state)
{
	struct test_ctx *t = *state;

	set_str(&t->cfg.passphrase, "secret");
	add_key(t, "rsa-key-enc.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	load_ok(t, 1);
}

static void test_pkcs8_key_wrong_passphrase(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key-enc.pem", "wrong");
	add_cert(t, "rsa-cert.pem");
	load_fails(t, "key[0]: %s: wrong passphrase", fx(t, "rsa-key-enc.pem"));
}

static void test_pkcs8_key_wrong_top_passphrase(void **state)
{
	struct test_ctx *t = *state;

	set_str(&t->cfg.passphrase, "wrong");
	add_key(t, "ec-key.pem", NULL);
	add_key(t, "rsa-key-enc.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	add_cert(t, "ec-cert.pem");
	load_fails(t, "key[1]: %s: wrong passphrase", fx(t, "rsa-key-enc.pem"));
}

static void test_encrypted_key_no_passphrase(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key-enc.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	load_fails(t, "key[0]: %s: encrypted, and no passphrase was given",
		   fx(t, "rsa-key-enc.pem"));
}

static void test_legacy_key_right_passphrase(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "ec-key-enc-legacy.pem", "secret");
	add_cert(t, "ec-cert.pem");
	load_ok(t, 1);
}

static void test_legacy_key_wrong_passphrase(void **state)
{
	struct test_ctx *t = *state;

	set_str(&t->cfg.passphrase, "wrong");
	add_key(t, "ec-key-enc-legacy.pem", NULL);
	add_cert(t, "ec-cert.pem");
	load_fails(t, "key[0]: %s: wrong passphrase", fx(t, "ec-key-enc-legacy.pem"));
}

/* ---- bad input ---- */

static void test_bad_inline_key(void **state)
{
	struct test_ctx *t = *state;

	list_add(&t->cfg.keys, "-----BEGIN PRIVATE KEY-----\nnot base64!\n"
		 "-----END PRIVATE KEY-----\n", NULL);
	add_cert(t, "rsa-cert.pem");
	load_fails(t, "key[0]: inline PEM: not a PEM private key");
}

static void test_cert_given_as_key(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "ec-cert.pem", NULL);
	add_cert(t, "ec-cert.pem");
	load_fails(t, "key[0]: %s: not a PEM private key", fx(t, "ec-cert.pem"));
}

static void test_key_given_as_cert(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "ec-key.pem");
	load_fails(t, "cert[0]: %s: not a PEM certificate", fx(t, "ec-key.pem"));
}

static void test_missing_file(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "no-such-key.pem", NULL);
	add_cert(t, "ec-cert.pem");
	load_fails(t, "key[0]: %s: No such file or directory", fx(t, "no-such-key.pem"));
}

/* ---- pfx ---- */

static void test_pfx_right_passphrase(void **state)
{
	struct test_ctx *t = *state;

	set_str(&t->cfg.pfx, fx(t, "server.p12"));
	set_str(&t->cfg.passphrase, "secret");
	load_ok(t, 1);
	assert_int_equal(pair_pk(t, 0), GNUTLS_PK_ECDSA);
}

static void test_pfx_wrong_passphrase(void **state)
{
	struct test_ctx *t = *state;

	set_str(&t->cfg.pfx, fx(t, "server.p12"));
	set_str(&t->cfg.passphrase, "wrong");
	load_fails(t, "pfx: %s: wrong passphrase", fx(t, "server.p12"));
}

static void test_pfx_no_passphrase(void **state)
{
	struct test_ctx *t = *state;

	set_str(&t->cfg.pfx, fx(t, "server.p12"));
	load_fails(t, "pfx: %s: encrypted, and no passphrase was given", fx(t, "server.p12"));
}

static void test_pfx_not_pkcs12(void **state)
{
	struct test_ctx *t = *state;
	struct tlsd_error *e = &t->err;

	set_str(&t->cfg.pfx, fx(t, "dh2048.pem"));
	set_str(&t->cfg.passphrase, "secret");
	assert_int_equal(creds_load(&t->cfg, &t->creds, e), TLSD_ERR_CONFIG);
	assert_null(t->creds);
	assert_int_equal(strncmp(e->msg, "pfx: ", 5), 0);
	assert_non_null(strstr(e->msg, "dh2048.pem: "));
}

static void test_pfx_with_pairs(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	set_str(&t->cfg.pfx, fx(t, "server.p12"));
	set_str(&t->cfg.passphrase, "secret");
	load_ok(t, 2);
}

/* ---- ca, crl ---- */

static void test_ca_and_crl(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "ec-cert.pem");
	list_add(&t->cfg.ca, fx(t, "client-ca.pem"), NULL);
	list_add(&t->cfg.ca, fx(t, "other-ca.pem"), NULL);
	list_add(&t->cfg.crl, fx(t, "crl.pem"), NULL);
	load_ok(t, 1);
	assert_true(creds_has_ca(t->creds));
}

static void test_ca_inline(void **state)
{
	struct test_ctx *t = *state;
	char *ca = read_text(t, "client-ca.pem");

	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "ec-cert.pem");
	list_add(&t->cfg.ca, ca, NULL);
	free(ca);
	load_ok(t, 1);
	assert_true(creds_has_ca(t->creds));
}

static void test_ca_not_a_cert(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "ec-cert.pem");
	list_add(&t->cfg.ca, fx(t, "client-ca.pem"), NULL);
	list_add(&t->cfg.ca, fx(t, "client-ca-key.pem"), NULL);
	load_fails(t, "ca[1]: %s: not a PEM certificate", fx(t, "client-ca-key.pem"));
}

static void test_crl_not_a_crl(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "ec-cert.pem");
	list_add(&t->cfg.ca, fx(t, "client-ca.pem"), NULL);
	list_add(&t->cfg.crl, fx(t, "client-ca.pem"), NULL);
	load_fails(t, "crl[0]: %s: not a PEM CRL", fx(t, "client-ca.pem"));
}

/* ---- dhparam ---- */

static void test_dh_small_refused(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "ec-cert.pem");
	set_str(&t->cfg.dhparam, fx(t, "dh-small.pem"));
	load_fails(t, "dhparam: 512 bits is too small (minimum 1024) in %s", fx(t, "dh-small.pem"));
}

static void test_dh2048_accepted(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	set_str(&t->cfg.dhparam, fx(t, "dh2048.pem"));
	load_ok(t, 1);
}

static void test_dh_auto(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	set_str(&t->cfg.dhparam, "auto");
	load_ok(t, 1);
}

static void test_dh_not_dh(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	set_str(&t->cfg.dhparam, fx(t, "rsa-cert.pem"));
	load_fails(t, "dhparam: %s: not a PEM DH PARAMETERS block", fx(t, "rsa-cert.pem"));
}

/* ---- ocsp ---- */

static void test_ocsp_staple(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	add_cert(t, "ec-cert.pem");
	set_str(&t->cfg.ocsp, fx(t, "ec-ocsp.der"));
	load_ok(t, 2);
}

static void test_ocsp_for_no_cert(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "rsa-key.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	set_str(&t->cfg.ocsp, fx(t, "ec-ocsp.der"));
	load_fails(t, "ocsp: %s: the response is for none of the certificates",
		   fx(t, "ec-ocsp.der"));
}

static void test_ocsp_not_ocsp(void **state)
{
	struct test_ctx *t = *state;

	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "ec-cert.pem");
	set_str(&t->cfg.ocsp, fx(t, "server.p12"));
	assert_int_equal(creds_load(&t->cfg, &t->creds, &t->err), TLSD_ERR_CONFIG);
	assert_null(t->creds);
	assert_int_equal(strncmp(t->err.msg, "ocsp: ", 6), 0);
}

/* ---- demo ---- */

static void test_demo(void **state)
{
	struct test_ctx *t = *state;
	gnutls_x509_crt_t crt;
	gnutls_datum_t der;
	char name[64];
	size_t size = sizeof(name);
	time_t now = time(NULL);

	t->cfg.demo = true;
	load_ok(t, 1);
	assert_int_equal(pair_pk(t, 0), GNUTLS_PK_ECDSA);
	assert_int_equal(gnutls_certificate_get_crt_raw(creds_gnutls(t->creds), 0, 0, &der), 0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER), 0);
	assert_int_equal(gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
						       name, &size), 0);
	assert_string_equal(name, "localhost");
	assert_true(gnutls_x509_crt_check_hostname(crt, "localhost"));
	assert_true(gnutls_x509_crt_check_ip(crt, (const unsigned char *)"\x7f\0\0\1", 4, 0));
	assert_true(gnutls_x509_crt_get_activation_time(crt) <= now - 3500);
	assert_true(gnutls_x509_crt_get_expiration_time(crt) >= now + 29 * 86400);
	assert_true(gnutls_x509_crt_get_expiration_time(crt) <= now + 31 * 86400);
	gnutls_x509_crt_deinit(crt);
}

static void test_demo_with_pairs(void **state)
{
	struct test_ctx *t = *state;

	t->cfg.demo = true;
	add_key(t, "rsa-key.pem", NULL);
	add_cert(t, "rsa-cert.pem");
	load_ok(t, 1);
	assert_int_equal(pair_pk(t, 0), GNUTLS_PK_RSA);
}

/* ---- dates ---- */

/* load_capturing_stderr: load_ok with stderr sent to a temporary file whose
 * text is returned (caller frees). */
static char *load_capturing_stderr(struct test_ctx *t, unsigned pairs)
{
	char tmpl[] = "/tmp/tlsd-creds-log-XXXXXX";
	int fd = mkstemp(tmpl);
	int saved = dup(STDERR_FILENO);
	char *text = calloc(1, 4096);

	assert_true(fd >= 0 && saved >= 0 && text != NULL);
	unlink(tmpl);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	load_ok(t, pairs);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_true(pread(fd, text, 4095, 0) >= 0);
	close(fd);
	return text;
}

static void test_expired_cert_warns(void **state)
{
	struct test_ctx *t = *state;
	char *log;

	add_key(t, "expired-key.pem", NULL);
	add_cert(t, "expired-cert.pem");
	log = load_capturing_stderr(t, 1);
	assert_non_null(strstr(log, "warn"));
	assert_non_null(strstr(log, "key[0] (cert[0]): certificate has expired (valid from "
				    "2020-01-01T00:00:00Z to 2020-02-01T00:00:00Z)"));
	free(log);
}

static void test_valid_cert_is_quiet(void **state)
{
	struct test_ctx *t = *state;
	char *log;

	add_key(t, "ec-key.pem", NULL);
	add_cert(t, "ec-cert.pem");
	log = load_capturing_stderr(t, 1);
	assert_string_equal(log, "");
	free(log);
}

static void test_free_null(void **state)
{
	creds_free(NULL);
}

/* self_signed_der: a throwaway certificate with the DER serial <serial>. */
static void self_signed_der(const unsigned char *serial, size_t len, gnutls_datum_t *der)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;

	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
						      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	gnutls_x509_crt_set_version(crt, 3);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, serial, len), 0);
	gnutls_x509_crt_set_activation_time(crt, 1700000000);
	gnutls_x509_crt_set_expiration_time(crt, 1800000000);
	gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "serial.test", 11);
	gnutls_x509_crt_set_key(crt, key);
	assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, der), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

/* creds_describe_der: Node's formats; a serial with its top bit set is
 * DER-padded with 0x00, which Node does not print. */
static void test_describe_der(void **state)
{
	static const unsigned char padded[] = { 0x00, 0xC0, 0xA4, 0x3B };
	struct creds_cert_info info;
	gnutls_datum_t der = { NULL, 0 }, junk = { (unsigned char *)"junk", 4 };

	self_signed_der(padded, sizeof(padded), &der);
	assert_int_equal(creds_describe_der(&der, &info), 0);
	assert_string_equal(info.serial_number, "C0A43B");
	assert_string_equal(info.subject, "CN=serial.test");
	assert_string_equal(info.issuer, "CN=serial.test");
	assert_string_equal(info.valid_from, "Nov 14 22:13:20 2023 GMT");
	assert_string_equal(info.key_type, "EC");
	assert_int_equal(strlen(info.fingerprint256), 32 * 3 - 1);
	gnutls_free(der.data);
	assert_int_equal(creds_describe_der(&junk, &info), TLSD_ERR_PROTO);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rsa_only),
		T(test_ec_only),
		T(test_rsa_ec_same_order),
		T(test_rsa_ec_crossed),
		T(test_chain_in_cert),
		T(test_inline_pem),
		T(test_key_matches_no_cert),
		T(test_cert_matches_no_key),
		T(test_key_without_cert),
		T(test_nothing_configured),
		T(test_pkcs8_key_own_passphrase),
		T(test_pkcs8_key_top_passphrase),
		T(test_pkcs8_key_wrong_passphrase),
		T(test_pkcs8_key_wrong_top_passphrase),
		T(test_encrypted_key_no_passphrase),
		T(test_legacy_key_right_passphrase),
		T(test_legacy_key_wrong_passphrase),
		T(test_bad_inline_key),
		T(test_cert_given_as_key),
		T(test_key_given_as_cert),
		T(test_missing_file),
		T(test_pfx_right_passphrase),
		T(test_pfx_wrong_passphrase),
		T(test_pfx_no_passphrase),
		T(test_pfx_not_pkcs12),
		T(test_pfx_with_pairs),
		T(test_ca_and_crl),
		T(test_ca_inline),
		T(test_ca_not_a_cert),
		T(test_crl_not_a_crl),
		T(test_dh_small_refused),
		T(test_dh2048_accepted),
		T(test_dh_auto),
		T(test_dh_not_dh),
		T(test_ocsp_staple),
		T(test_ocsp_for_no_cert),
		T(test_ocsp_not_ocsp),
		T(test_demo),
		T(test_demo_with_pairs),
		T(test_expired_cert_warns),
		T(test_valid_cert_is_quiet),
		cmocka_unit_test(test_free_null),
		cmocka_unit_test(test_describe_der),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
