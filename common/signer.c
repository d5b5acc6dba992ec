/* signer.c - which library makes the server's private-key signatures.
 *
 * The OpenSSL signer: struct signer_key holds the key twice, as libcrypto's
 * EVP_PKEY (signing) and as GnuTLS's own abstract key (RSA key-exchange
 * decryption, and the public key for the load-time check). GnuTLS calls
 * signer_sign_hash with the hash it computed and the signature algorithm it
 * negotiated; for RSA PKCS#1 v1.5 it passes the DigestInfo already encoded
 * (GNUTLS_SIGN_RSA_RAW), which OpenSSL signs as it is when no digest is set.
 */
#include "common/signer.h"

#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define SIGNER_ENV "TLSD_SIGNER"
#define SIGNER_PREMASTER_SIZE 48	/* TLS 1.2 RSA key exchange */

/* One prepared signing context per scheme used (padding and digest set
 * once; EVP_PKEY_sign can be called on it again and again). Made on first
 * use, so in the worker that signs. */
#define SIGNER_CTX_CACHE 8

struct signer_ctx {
	gnutls_sign_algorithm_t sign;
	EVP_PKEY_CTX *ctx;
};

struct signer_key {
	EVP_PKEY *pkey;			/* libcrypto's copy: signs */
	struct signer_ctx ctxs[SIGNER_CTX_CACHE];	/* ctx NULL: unused */
	gnutls_privkey_t native;	/* GnuTLS's copy: decrypts */
	gnutls_pk_algorithm_t pk;	/* GNUTLS_PK_RSA or GNUTLS_PK_ECDSA */
	gnutls_ecc_curve_t curve;	/* ECDSA only */
	unsigned bits;
};

int signer_from_env(enum signer_kind *out, struct tlsd_error *err)
{
	const char *v = getenv(SIGNER_ENV);

	if (v == NULL || *v == '\0' || strcmp(v, "openssl") == 0)
		*out = SIGNER_OPENSSL;
	else if (strcmp(v, "gnutls") == 0)
		*out = SIGNER_GNUTLS;
	else
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      SIGNER_ENV "=%.64s: unknown signer (openssl or gnutls)", v);
	return 0;
}

const char *signer_name(enum signer_kind kind)
{
	return kind == SIGNER_GNUTLS ? "gnutls" : "openssl";
}

/* key_curve: the curve of an ECDSA <key>, or GNUTLS_ECC_CURVE_INVALID. */
static gnutls_ecc_curve_t key_curve(gnutls_x509_privkey_t key)
{
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	gnutls_datum_t x = { 0 }, y = { 0 }, k = { 0 };

	if (gnutls_x509_privkey_export_ecc_raw(key, &curve, &x, &y, &k) < 0)
		return GNUTLS_ECC_CURVE_INVALID;
	gnutls_memset(k.data, 0, k.size);
	gnutls_free(k.data);
	gnutls_free(x.data);
	gnutls_free(y.data);
	return curve;
}

static bool curve_is_nist(gnutls_ecc_curve_t curve)
{
	return curve == GNUTLS_ECC_CURVE_SECP256R1 || curve == GNUTLS_ECC_CURVE_SECP384R1 ||
	       curve == GNUTLS_ECC_CURVE_SECP521R1;
}

/* openssl_takes: signer_takes, also giving an ECDSA key's *<curve> (the
 * key is exported once to learn it). */
static bool openssl_takes(enum signer_kind kind, gnutls_x509_privkey_t key,
			  gnutls_ecc_curve_t *curve)
{
	int pk = gnutls_x509_privkey_get_pk_algorithm(key);

	*curve = GNUTLS_ECC_CURVE_INVALID;
	if (kind != SIGNER_OPENSSL)
		return false;
	if (pk == GNUTLS_PK_ECDSA)
		*curve = key_curve(key);
	return pk == GNUTLS_PK_RSA || (pk == GNUTLS_PK_ECDSA && curve_is_nist(*curve));
}

bool signer_takes(enum signer_kind kind, gnutls_x509_privkey_t key)
{
	gnutls_ecc_curve_t curve;

	return openssl_takes(kind, key, &curve);
}

/* ---- what the OpenSSL signer signs ---- */

static const EVP_MD *digest_md(gnutls_digest_algorithm_t dig)
{
	switch (dig) {
	case GNUTLS_DIG_SHA1: return EVP_sha1();
	case GNUTLS_DIG_SHA224: return EVP_sha224();
	case GNUTLS_DIG_SHA256: return EVP_sha256();
	case GNUTLS_DIG_SHA384: return EVP_sha384();
	case GNUTLS_DIG_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

/* sign_curve: the curve a TLS 1.3 ECDSA scheme is tied to, or
 * GNUTLS_ECC_CURVE_INVALID when the scheme takes any curve. */
static gnutls_ecc_curve_t sign_curve(gnutls_sign_algorithm_t sign)
{
	switch (sign) {
	case GNUTLS_SIGN_ECDSA_SECP256R1_SHA256: return GNUTLS_ECC_CURVE_SECP256R1;
	case GNUTLS_SIGN_ECDSA_SECP384R1_SHA384: return GNUTLS_ECC_CURVE_SECP384R1;
	case GNUTLS_SIGN_ECDSA_SECP521R1_SHA512: return GNUTLS_ECC_CURVE_SECP521R1;
	default: return GNUTLS_ECC_CURVE_INVALID;
	}
}

/* signer_can_sign: can <k> make a <sign> signature? RSA: PKCS#1 v1.5 and
 * RSA-PSS with an rsaEncryption key ("rsae"); ECDSA: any hash, and the
 * TLS 1.3 schemes only on their own curve. */
static int signer_can_sign(const struct signer_key *k, gnutls_sign_algorithm_t sign)
{
	gnutls_ecc_curve_t c = sign_curve(sign);

	if (!gnutls_sign_supports_pk_algorithm(sign, k->pk))
		return 0;
	if (digest_md(gnutls_sign_get_hash_algorithm(sign)) == NULL)
		return 0;
	return c == GNUTLS_ECC_CURVE_INVALID || c == k->curve;
}

/* signer_set_scheme: padding and digest of <sign> on <ctx>. */
static int signer_set_scheme(EVP_PKEY_CTX *ctx, gnutls_sign_algorithm_t sign)
{
	const EVP_MD *md;

	if (sign == GNUTLS_SIGN_RSA_RAW)	/* DigestInfo given: sign it as it is */
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 ? 0 : -1;
	md = digest_md(gnutls_sign_get_hash_algorithm(sign));
	if (md == NULL || EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
		return -1;
	if (gnutls_sign_get_pk_algorithm(sign) != GNUTLS_PK_RSA_PSS)
		return 0;
	/* TLS 1.3 (RFC 8446 4.2.3): MGF1 with the same hash, salt as long as
	 * the hash. */
	if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0)
		return -1;
	return 0;
}

/* ---- GnuTLS's callbacks ---- */

/* signer_new_ctx: a signing context of <k> for <sign>, or NULL. */
static EVP_PKEY_CTX *signer_new_ctx(const struct signer_key *k, gnutls_sign_algorithm_t sign)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);

	if (ctx == NULL || EVP_PKEY_sign_init(ctx) <= 0 || signer_set_scheme(ctx, sign) < 0) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* signer_ctx_for: the prepared context of <k> for <sign>, made and kept
 * on first use (a full cache makes a new one each time: caller frees it
 * when *<owned>). */
static EVP_PKEY_CTX *signer_ctx_for(struct signer_key *k, gnutls_sign_algorithm_t sign,
				    bool *owned)
{
	size_t i = 0;

	*owned = false;
	while (i < SIGNER_CTX_CACHE && k->ctxs[i].ctx != NULL && k->ctxs[i].sign != sign)
		i++;
	if (i < SIGNER_CTX_CACHE && k->ctxs[i].ctx != NULL)
		return k->ctxs[i].ctx;
	if (i == SIGNER_CTX_CACHE) {
		*owned = true;
		return signer_new_ctx(k, sign);
	}
	k->ctxs[i].ctx = signer_new_ctx(k, sign);
	k->ctxs[i].sign = sign;
	return k->ctxs[i].ctx;
}

static int signer_sign_hash(gnutls_privkey_t key, gnutls_sign_algorithm_t sign, void *userdata,
			    unsigned int flags, const gnutls_datum_t *hash,
			    gnutls_datum_t *signature)
{
	struct signer_key *k = userdata;
	bool owned;
	EVP_PKEY_CTX *ctx = signer_ctx_for(k, sign, &owned);
	int rc = GNUTLS_E_PK_SIGN_FAILED;
	size_t len = (size_t)EVP_PKEY_get_size(k->pkey);	/* the largest signature */

	(void)key;
	(void)flags;
	signature->data = NULL;
	if (ctx == NULL)
		goto out;
	signature->data = gnutls_malloc(len);
	if (signature->data == NULL) {
		rc = GNUTLS_E_MEMORY_ERROR;
		goto out;
	}
	if (EVP_PKEY_sign(ctx, signature->data, &len, hash->data, hash->size) <= 0) {
		gnutls_free(signature->data);
		signature->data = NULL;
		goto out;
	}
	signature->size = (unsigned)len;
	rc = 0;
out:
	if (owned)
		EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* signer_decrypt: TLS 1.2's RSA key exchange, in GnuTLS's own constant-time
 * code. GnuTLS 3.7 takes only this older callback form from an abstract key
 * and then requires the plaintext to be the premaster's 48 bytes; so the
 * answer is always 48 bytes: the decrypted premaster, or (bad padding) the
 * random bytes decrypt_data2 leaves in place, with no branch on which.
 * GnuTLS then uses a random premaster too, as it does with its own keys. */
static int signer_decrypt(gnutls_privkey_t key, void *userdata, const gnutls_datum_t *ciphertext,
			  gnutls_datum_t *plaintext)
{
	struct signer_key *k = userdata;
	unsigned char *p = gnutls_malloc(SIGNER_PREMASTER_SIZE);

	(void)key;
	if (p == NULL)
		return GNUTLS_E_MEMORY_ERROR;
	if (gnutls_rnd(GNUTLS_RND_NONCE, p, SIGNER_PREMASTER_SIZE) < 0) {
		gnutls_free(p);
		return GNUTLS_E_RANDOM_FAILED;
	}
	(void)gnutls_privkey_decrypt_data2(k->native, 0, ciphertext, p, SIGNER_PREMASTER_SIZE);
	plaintext->data = p;
	plaintext->size = SIGNER_PREMASTER_SIZE;
	return 0;
}

static int signer_info(gnutls_privkey_t key, unsigned int flags, void *userdata)
{
	const struct signer_key *k = userdata;

	(void)key;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return (int)k->pk;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return (int)k->bits;
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
		return signer_can_sign(k, (gnutls_sign_algorithm_t)GNUTLS_FLAGS_TO_SIGN_ALGO(flags));
	return -1;
}

static void signer_key_free(struct signer_key *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < SIGNER_CTX_CACHE; i++)
		EVP_PKEY_CTX_free(k->ctxs[i].ctx);
	EVP_PKEY_free(k->pkey);
	if (k->native)
		gnutls_privkey_deinit(k->native);
	free(k);
}

static void signer_deinit(gnutls_privkey_t key, void *userdata)
{
	(void)key;
	signer_key_free(userdata);
}

/* ---- building a key ---- */

/* openssl_key: <key> as libcrypto's EVP_PKEY, through unencrypted PKCS#8
 * DER (wiped after). NULL on failure. */
static EVP_PKEY *openssl_key(gnutls_x509_privkey_t key)
{
	gnutls_datum_t der = { NULL, 0 };
	const unsigned char *p;
	EVP_PKEY *pkey = NULL;

	if (gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_DER, NULL, GNUTLS_PKCS_PLAIN,
					      &der) < 0)
		return NULL;
	p = der.data;
	pkey = d2i_AutoPrivateKey(NULL, &p, (long)der.size);
	gnutls_memset(der.data, 0, der.size);
	gnutls_free(der.data);
	return pkey;
}

/* native_key: GnuTLS's own abstract key holding a copy of <key>. */
static int native_key(gnutls_x509_privkey_t key, gnutls_privkey_t *out)
{
	int rc = gnutls_privkey_init(out);

	if (rc < 0)
		return rc;
	rc = gnutls_privkey_import_x509(*out, key, GNUTLS_PRIVKEY_IMPORT_COPY);
	if (rc < 0) {
		gnutls_privkey_deinit(*out);
		*out = NULL;
	}
	return rc;
}

static struct signer_key *signer_key_new(gnutls_x509_privkey_t key, gnutls_ecc_curve_t curve,
					 struct tlsd_error *err)
{
	struct signer_key *k = calloc(1, sizeof(*k));

	if (k == NULL) {
		tlsd_error_set(err, TLSD_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	k->pk = (gnutls_pk_algorithm_t)gnutls_x509_privkey_get_pk_algorithm2(key, &k->bits);
	k->curve = curve;
	k->pkey = openssl_key(key);
	if (k->pkey == NULL) {
		tlsd_error_set(err, TLSD_ERR_INTERNAL, "OpenSSL cannot read the private key");
		signer_key_free(k);
		return NULL;
	}
	if (native_key(key, &k->native) < 0) {
		tlsd_error_set(err, TLSD_ERR_INTERNAL, "cannot copy the private key");
		signer_key_free(k);
		return NULL;
	}
	return k;
}

/* self_check_one: sign a fixed hash with <key> as <sign> and verify it with
 * <pub>. */
static int self_check_one(gnutls_privkey_t key, gnutls_pubkey_t pub, gnutls_sign_algorithm_t sign)
{
	unsigned char digest[64];
	gnutls_digest_algorithm_t dig = gnutls_sign_get_hash_algorithm(sign);
	gnutls_datum_t hash = { digest, gnutls_hash_get_len(dig) };
	gnutls_datum_t sig = { NULL, 0 };
	int rc;

	memset(digest, 0xa5, sizeof(digest));
	rc = gnutls_privkey_sign_hash2(key, sign, 0, &hash, &sig);
	if (rc >= 0)
		rc = gnutls_pubkey_verify_hash2(pub, sign, 0, &hash, &sig);
	gnutls_free(sig.data);
	return rc;
}

/* self_check: the wrapped <key> signs what its public key (from <native>)
 * verifies, for every padding it will be asked for. */
static int self_check(gnutls_privkey_t key, const struct signer_key *k, struct tlsd_error *err)
{
	static const gnutls_sign_algorithm_t rsa[] = { GNUTLS_SIGN_RSA_SHA256,
						       GNUTLS_SIGN_RSA_PSS_RSAE_SHA256 };
	static const gnutls_sign_algorithm_t ec[] = { GNUTLS_SIGN_ECDSA_SHA256 };
	const gnutls_sign_algorithm_t *list = k->pk == GNUTLS_PK_RSA ? rsa : ec;
	size_t n = k->pk == GNUTLS_PK_RSA ? 2 : 1;
	gnutls_pubkey_t pub = NULL;
	int rc = gnutls_pubkey_init(&pub);

	if (rc >= 0)
		rc = gnutls_pubkey_import_privkey(pub, k->native, 0, 0);
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		rc = self_check_one(key, pub, list[i]);
		if (rc < 0)
			tlsd_error_set(err, TLSD_ERR_INTERNAL,
				       "OpenSSL's %s signature does not verify: %s",
				       gnutls_sign_get_name(list[i]), gnutls_strerror(rc));
	}
	if (pub)
		gnutls_pubkey_deinit(pub);
	return rc < 0 ? TLSD_ERR_INTERNAL : 0;
}

static int make_openssl_key(gnutls_x509_privkey_t key, gnutls_ecc_curve_t curve,
			    gnutls_privkey_t *out, struct tlsd_error *err)
{
	struct signer_key *k = signer_key_new(key, curve, err);
	gnutls_privkey_t pk = NULL;
	int rc;

	if (k == NULL)
		return TLSD_ERR_INTERNAL;
	rc = gnutls_privkey_init(&pk);
	if (rc >= 0)
		rc = gnutls_privkey_import_ext4(pk, k, NULL, signer_sign_hash,
						k->pk == GNUTLS_PK_RSA ? signer_decrypt : NULL,
						signer_deinit, signer_info,
						GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE);
	if (rc < 0) {
		if (pk)
			gnutls_privkey_deinit(pk);
		signer_key_free(k);
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "cannot wrap the private key: %s",
				      gnutls_strerror(rc));
	}
	/* from here pk owns k */
	if (self_check(pk, k, err) < 0) {
		gnutls_privkey_deinit(pk);
		return TLSD_ERR_INTERNAL;
	}
	*out = pk;
	return 0;
}

int signer_make_key(enum signer_kind kind, gnutls_x509_privkey_t key, gnutls_privkey_t *out,
		    struct tlsd_error *err)
{
	gnutls_ecc_curve_t curve;
	int rc;

	*out = NULL;
	if (openssl_takes(kind, key, &curve))
		return make_openssl_key(key, curve, out, err);
	rc = native_key(key, out);
	if (rc < 0)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "cannot copy the private key: %s",
				      gnutls_strerror(rc));
	return 0;
}
