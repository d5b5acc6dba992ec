/* test_signer.c - unit tests of common/signer.c: the key GnuTLS hands to
 * OpenSSL signs what the public key verifies, for every scheme TLS asks of
 * RSA and ECDSA keys; RSA key-exchange decryption through it gives the
 * premaster back (and 48 unrelated bytes for a forged ciphertext); keys the
 * OpenSSL signer does not take keep GnuTLS's signing; TLSD_SIGNER is read
 * and checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "common/signer.h"

static gnutls_x509_privkey_t new_key(gnutls_pk_algorithm_t pk, unsigned bits)
{
	gnutls_x509_privkey_t key;

	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(key, pk, bits, 0), 0);
	return key;
}

static gnutls_pubkey_t pubkey_of(gnutls_x509_privkey_t key)
{
	gnutls_privkey_t abs;
	gnutls_pubkey_t pub;

	assert_int_equal(gnutls_privkey_init(&abs), 0);
	assert_int_equal(gnutls_privkey_import_x509(abs, key, GNUTLS_PRIVKEY_IMPORT_COPY), 0);
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import_privkey(pub, abs, 0, 0), 0);
	gnutls_privkey_deinit(abs);
	return pub;
}

static gnutls_privkey_t made_key(enum signer_kind kind, gnutls_x509_privkey_t key)
{
	struct tlsd_error err = { { 0 } };
	gnutls_privkey_t out = NULL;

	assert_int_equal(signer_make_key(kind, key, &out, &err), 0);
	assert_non_null(out);
	return out;
}

/* sign_verify: sign a hash as <sign> with <priv>; the result of verifying
 * it with <pub> (0 when it verifies). */
static int sign_verify(gnutls_privkey_t priv, gnutls_pubkey_t pub, gnutls_sign_algorithm_t sign)
{
	unsigned char digest[64];
	gnutls_datum_t hash = { digest, gnutls_hash_get_len(gnutls_sign_get_hash_algorithm(sign)) };
	gnutls_datum_t sig = { NULL, 0 };
	int rc;

	assert_int_equal(gnutls_rnd(GNUTLS_RND_NONCE, digest, sizeof(digest)), 0);
	assert_int_equal(gnutls_privkey_sign_hash2(priv, sign, 0, &hash, &sig), 0);
	rc = gnutls_pubkey_verify_hash2(pub, sign, 0, &hash, &sig);
	gnutls_free(sig.data);
	return rc < 0 ? rc : 0;
}

/* check_schemes: every scheme in <list> verifies with the key's own public
 * key and fails with <other>'s. */
static void check_schemes(gnutls_x509_privkey_t key, gnutls_x509_privkey_t other,
			  const gnutls_sign_algorithm_t *list, size_t n)
{
	gnutls_privkey_t priv = made_key(SIGNER_OPENSSL, key);
	gnutls_pubkey_t pub = pubkey_of(key), wrong = pubkey_of(other);

	assert_true(signer_takes(SIGNER_OPENSSL, key));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(sign_verify(priv, pub, list[i]), 0);
		assert_true(sign_verify(priv, wrong, list[i]) < 0);
	}
	gnutls_pubkey_deinit(pub);
	gnutls_pubkey_deinit(wrong);
	gnutls_privkey_deinit(priv);
}

static void test_rsa_schemes(void **state)
{
	static const gnutls_sign_algorithm_t list[] = {
		GNUTLS_SIGN_RSA_SHA256, GNUTLS_SIGN_RSA_SHA384, GNUTLS_SIGN_RSA_SHA512,
		GNUTLS_SIGN_RSA_SHA1, GNUTLS_SIGN_RSA_PSS_RSAE_SHA256,
		GNUTLS_SIGN_RSA_PSS_RSAE_SHA384, GNUTLS_SIGN_RSA_PSS_RSAE_SHA512,
	};
	gnutls_x509_privkey_t key = new_key(GNUTLS_PK_RSA, 2048);
	gnutls_x509_privkey_t other = new_key(GNUTLS_PK_RSA, 2048);

	(void)state;
	check_schemes(key, other, list, sizeof(list) / sizeof(list[0]));
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(other);
}

static void test_ecdsa_schemes(void **state)
{
	static const gnutls_sign_algorithm_t p256[] = {
		GNUTLS_SIGN_ECDSA_SHA256, GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
		GNUTLS_SIGN_ECDSA_SHA384, GNUTLS_SIGN_ECDSA_SHA1,
	};
	static const gnutls_sign_algorithm_t p384[] = {
		GNUTLS_SIGN_ECDSA_SHA384, GNUTLS_SIGN_ECDSA_SECP384R1_SHA384,
		GNUTLS_SIGN_ECDSA_SHA256,
	};
	gnutls_x509_privkey_t a = new_key(GNUTLS_PK_ECDSA,
					  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
	gnutls_x509_privkey_t b = new_key(GNUTLS_PK_ECDSA,
					  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
	gnutls_x509_privkey_t c = new_key(GNUTLS_PK_ECDSA,
					  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1));
	gnutls_x509_privkey_t d = new_key(GNUTLS_PK_ECDSA,
					  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1));

	(void)state;
	check_schemes(a, b, p256, sizeof(p256) / sizeof(p256[0]));
	check_schemes(c, d, p384, sizeof(p384) / sizeof(p384[0]));
	gnutls_x509_privkey_deinit(a);
	gnutls_x509_privkey_deinit(b);
	gnutls_x509_privkey_deinit(c);
	gnutls_x509_privkey_deinit(d);
}

/* encrypt48: the premaster <secret> encrypted to <pub> (PKCS#1 v1.5). */
static gnutls_datum_t encrypt48(gnutls_pubkey_t pub, unsigned char *secret)
{
	gnutls_datum_t plain = { secret, 48 }, ct = { NULL, 0 };

	assert_int_equal(gnutls_rnd(GNUTLS_RND_NONCE, secret, 48), 0);
	assert_int_equal(gnutls_pubkey_encrypt_data(pub, 0, &plain, &ct), 0);
	return ct;
}

static void test_rsa_decrypt(void **state)
{
	gnutls_x509_privkey_t key = new_key(GNUTLS_PK_RSA, 2048);
	gnutls_privkey_t priv = made_key(SIGNER_OPENSSL, key);
	gnutls_pubkey_t pub = pubkey_of(key);
	unsigned char secret[48], out[48];
	gnutls_datum_t ct = encrypt48(pub, secret);

	(void)state;
	assert_int_equal(gnutls_privkey_decrypt_data2(priv, 0, &ct, out, sizeof(out)), 0);
	assert_memory_equal(out, secret, sizeof(out));
	/* a forged ciphertext: still 48 bytes and success, but not the secret */
	ct.data[ct.size / 2] ^= 0x40;
	memset(out, 0, sizeof(out));
	assert_int_equal(gnutls_privkey_decrypt_data2(priv, 0, &ct, out, sizeof(out)), 0);
	assert_memory_not_equal(out, secret, sizeof(out));
	gnutls_free(ct.data);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(priv);
	gnutls_x509_privkey_deinit(key);
}

static void test_ed25519_stays_gnutls(void **state)
{
	gnutls_x509_privkey_t key = new_key(GNUTLS_PK_EDDSA_ED25519, 256);
	gnutls_privkey_t priv;
	gnutls_pubkey_t pub = pubkey_of(key);
	unsigned char msg[] = "signed by GnuTLS";
	gnutls_datum_t data = { msg, sizeof(msg) }, sig = { NULL, 0 };

	(void)state;
	assert_false(signer_takes(SIGNER_OPENSSL, key));
	priv = made_key(SIGNER_OPENSSL, key);
	assert_int_equal(gnutls_privkey_get_type(priv), GNUTLS_PRIVKEY_X509);
	assert_int_equal(gnutls_privkey_sign_data2(priv, GNUTLS_SIGN_EDDSA_ED25519, 0, &data, &sig), 0);
	assert_int_equal(gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_EDDSA_ED25519, 0, &data, &sig), 0);
	gnutls_free(sig.data);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(priv);
	gnutls_x509_privkey_deinit(key);
}

static void test_gnutls_signer_is_native(void **state)
{
	gnutls_x509_privkey_t key = new_key(GNUTLS_PK_ECDSA,
					    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
	gnutls_privkey_t gnu, ossl;

	(void)state;
	assert_false(signer_takes(SIGNER_GNUTLS, key));
	gnu = made_key(SIGNER_GNUTLS, key);
	ossl = made_key(SIGNER_OPENSSL, key);
	assert_int_equal(gnutls_privkey_get_type(gnu), GNUTLS_PRIVKEY_X509);
	assert_int_equal(gnutls_privkey_get_type(ossl), GNUTLS_PRIVKEY_EXT);
	gnutls_privkey_deinit(gnu);
	gnutls_privkey_deinit(ossl);
	gnutls_x509_privkey_deinit(key);
}

/* sign_fixed: <priv>'s ECDSA signature of a fixed hash into <out>. */
static size_t sign_fixed(gnutls_privkey_t priv, unsigned char *out, size_t max)
{
	unsigned char digest[32];
	gnutls_datum_t hash = { digest, sizeof(digest) }, sig = { NULL, 0 };
	size_t n;

	memset(digest, 0x3c, sizeof(digest));
	assert_int_equal(gnutls_privkey_sign_hash2(priv, GNUTLS_SIGN_ECDSA_SHA256, 0, &hash, &sig), 0);
	n = sig.size < max ? sig.size : max;
	memcpy(out, sig.data, n);
	gnutls_free(sig.data);
	return n;
}

/* Workers fork from the master after the key was made (and used, by the
 * load-time check): each process must draw its own ECDSA nonces. Equal
 * signatures of the same hash from parent and child would mean a shared
 * nonce, which gives the private key away. */
static void test_fork_draws_own_nonces(void **state)
{
	gnutls_x509_privkey_t key = new_key(GNUTLS_PK_ECDSA,
					    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
	gnutls_privkey_t priv = made_key(SIGNER_OPENSSL, key);
	unsigned char mine[160], theirs[160];
	size_t n_mine, n_theirs = 0;
	int fds[2], status;
	ssize_t got;
	pid_t pid;

	(void)state;
	(void)sign_fixed(priv, mine, sizeof(mine));	/* the DRBG is in use before fork */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t n = sign_fixed(priv, theirs, sizeof(theirs));

		_exit(write(fds[1], theirs, n) == (ssize_t)n ? 0 : 1);
	}
	close(fds[1]);
	n_mine = sign_fixed(priv, mine, sizeof(mine));
	while ((got = read(fds[0], theirs + n_theirs, sizeof(theirs) - n_theirs)) > 0)
		n_theirs += (size_t)got;
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(n_theirs > 0);
	assert_false(n_mine == n_theirs && memcmp(mine, theirs, n_mine) == 0);
	gnutls_privkey_deinit(priv);
	gnutls_x509_privkey_deinit(key);
}

static void test_env(void **state)
{
	struct tlsd_error err = { { 0 } };
	enum signer_kind kind = SIGNER_GNUTLS;

	(void)state;
	unsetenv("TLSD_SIGNER");
	assert_int_equal(signer_from_env(&kind, &err), 0);
	assert_int_equal(kind, SIGNER_OPENSSL);
	setenv("TLSD_SIGNER", "gnutls", 1);
	assert_int_equal(signer_from_env(&kind, &err), 0);
	assert_int_equal(kind, SIGNER_GNUTLS);
	setenv("TLSD_SIGNER", "openssl", 1);
	assert_int_equal(signer_from_env(&kind, &err), 0);
	assert_int_equal(kind, SIGNER_OPENSSL);
	setenv("TLSD_SIGNER", "boringssl", 1);
	kind = SIGNER_GNUTLS;
	assert_int_equal(signer_from_env(&kind, &err), TLSD_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "TLSD_SIGNER=boringssl"));
	assert_int_equal(kind, SIGNER_GNUTLS);	/* unchanged */
	unsetenv("TLSD_SIGNER");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa_schemes),
		cmocka_unit_test(test_ecdsa_schemes),
		cmocka_unit_test(test_rsa_decrypt),
		cmocka_unit_test(test_ed25519_stays_gnutls),
		cmocka_unit_test(test_gnutls_signer_is_native),
		cmocka_unit_test(test_fork_draws_own_nonces),
		cmocka_unit_test(test_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
