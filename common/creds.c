/* creds.c - the server's certificate credentials, built from the config.
 *
 * Every value of key/cert/ca/crl/dhparam/pfx/ocsp is inline PEM or a path
 * (config.h). Errors name the config key (with its index for arrays), the
 * file or "inline PEM", and a reason a user can act on.
 *
 * Decisions:
 * - key/cert arrays: each key is paired with the certificate (leaf = first
 *   certificate of a cert value; the rest is its chain) whose public key has
 *   the same SHA-256 key ID. Every key and every cert must find a partner.
 * - pfx: loaded after the key/cert pairs, with the top-level passphrase.
 * - demo: a generated pair is added only when nothing else gave a pair.
 * - dhparam absent: no DH parameters are set, as Node documents ("If omitted
 *   or invalid, it is silently discarded and DHE ciphers won't be
 *   available"). "auto" (Node >= 18) selects GnuTLS's RFC 7919 group for
 *   GNUTLS_SEC_PARAM_MEDIUM (ffdhe2048).
 * - ocsp: one DER response, stapled on every pair whose certificate it is
 *   for (GnuTLS checks the match); an error if it fits none.
 */
#include "common/creds.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/pkcs12.h>
#include <gnutls/x509.h>

#include "common/file_read.h"
#include "common/log.h"
#include "common/signer.h"

#define CREDS_NO_INDEX ((size_t)-1)
#define CREDS_MIN_DH_BITS 1024
#define CREDS_DEMO_DAYS 30

struct tlsd_creds {
	gnutls_certificate_credentials_t cred;
	gnutls_dh_params_t dh;	/* referenced, not copied, by cred */
	enum signer_kind signer;	/* who signs for the key/cert pairs */
	unsigned pairs;
	bool has_ca;
};

/* One PEM-or-path value in memory. */
struct creds_src {
	gnutls_datum_t data;
	const char *where;	/* the path, or "inline PEM" */
	bool owned;		/* data came from file_read */
};

/* "key[1]", "dhparam": how errors name a config value. */
struct creds_label {
	char s[48];
};

struct creds_keyid {
	unsigned char b[64];
	size_t len;
};

/* The certificates of one cert[i] value; crts[0] is the leaf. */
struct creds_chain {
	gnutls_x509_crt_t *crts;
	unsigned n;
	struct creds_keyid id;
	const char *where;
	bool paired;
};

struct creds_key {
	gnutls_x509_privkey_t key;
	struct creds_keyid id;
	const char *where;
	size_t cert;		/* index of the matching chain */
};

/* The working set while key/cert arrays are paired. */
struct creds_pairing {
	struct creds_chain *chains;
	size_t n_chains;
	struct creds_key *keys;
	size_t n_keys;
};

/* Signature shared by gnutls_certificate_set_x509_trust_mem and _crl_mem. */
typedef int (*creds_list_setter)(gnutls_certificate_credentials_t, const gnutls_datum_t *,
				 gnutls_x509_crt_fmt_t);

/* ---- naming and reasons ---- */

static struct creds_label creds_label(const char *key, size_t idx)
{
	struct creds_label l;

	if (idx == CREDS_NO_INDEX)
		snprintf(l.s, sizeof(l.s), "%s", key);
	else
		snprintf(l.s, sizeof(l.s), "%s[%zu]", key, idx);
	return l;
}

static bool creds_is_asn1_error(int rc)
{
	return rc == GNUTLS_E_ASN1_DER_ERROR || rc == GNUTLS_E_ASN1_TAG_ERROR ||
	       rc == GNUTLS_E_ASN1_DER_OVERFLOW || rc == GNUTLS_E_ASN1_ELEMENT_NOT_FOUND ||
	       rc == GNUTLS_E_ASN1_IDENTIFIER_NOT_FOUND || rc == GNUTLS_E_ASN1_TYPE_ANY_ERROR ||
	       rc == GNUTLS_E_ASN1_SYNTAX_ERROR || rc == GNUTLS_E_ASN1_VALUE_NOT_FOUND ||
	       rc == GNUTLS_E_ASN1_GENERIC_ERROR;
}

/* creds_reason: GnuTLS's <rc> for a <what> ("private key", "certificate")
 * in words for the user; <have_pass> tells a wrong passphrase from none. */
static void creds_reason(char *buf, size_t size, int rc, const char *what, bool have_pass)
{
	switch (rc) {
	case GNUTLS_E_DECRYPTION_FAILED:
	case GNUTLS_E_MAC_VERIFY_FAILED:
		snprintf(buf, size, "%s", have_pass ? "wrong passphrase" :
			 "encrypted, and no passphrase was given");
		return;
	case GNUTLS_E_BASE64_UNEXPECTED_HEADER_ERROR:
	case GNUTLS_E_BASE64_DECODING_ERROR:
	case GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE:
	case GNUTLS_E_NO_CERTIFICATE_FOUND:
		snprintf(buf, size, "not a PEM %s", what);
		return;
	case GNUTLS_E_EXPIRED:
		snprintf(buf, size, "the %s has expired", what);
		return;
	}
	if (creds_is_asn1_error(rc))
		snprintf(buf, size, "not a valid %s", what);
	else
		snprintf(buf, size, "%s: %s", what, gnutls_strerror(rc));
}

/* creds_gnutls_error: fill <err> with "<label>: <where>: <reason>" and
 * return TLSD_ERR_CONFIG. */
static int creds_gnutls_error(struct tlsd_error *err, const char *label, const char *where,
			      int rc, const char *what, bool have_pass)
{
	char reason[256];

	creds_reason(reason, sizeof(reason), rc, what, have_pass);
	return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s: %s", label, where, reason);
}

/* creds_internal: an unexpected GnuTLS failure <rc> while doing <what>. */
static int creds_internal(struct tlsd_error *err, const char *label, const char *what, int rc)
{
	return tlsd_error_set(err, TLSD_ERR_INTERNAL, "%s: %s: %s", label, what,
			      gnutls_strerror(rc));
}

/* ---- reading values ---- */

/* src_read_file: the file <path> whole into <src> (file_read's limits:
 * a regular file of at most 1 MiB, never a FIFO or a device). */
static int src_read_file(struct creds_src *src, const char *path, const char *label,
			 struct tlsd_error *err)
{
	struct tlsd_error why = { "" };
	char *data = NULL;
	size_t len = 0;

	if (file_read(path, 0, &data, &len, &why) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s", label, why.msg);
	src->data.data = (unsigned char *)data;
	src->data.size = (unsigned)len;
	src->owned = true;
	return 0;
}

/* src_read: bring PEM-or-path <value> of config <label> into <src>. Inline
 * PEM is used in place; a file is read whole. Release with src_release. */
static int src_read(struct creds_src *src, const char *value, const char *label,
		    struct tlsd_error *err)
{
	if (value == NULL || value[0] == '\0')
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: empty value", label);
	if (config_is_inline_pem(value)) {
		src->data.data = (unsigned char *)(uintptr_t)value;
		src->data.size = (unsigned)strlen(value);
		src->where = "inline PEM";
		src->owned = false;
		return 0;
	}
	src->where = value;
	return src_read_file(src, value, label, err);
}

static void src_release(struct creds_src *src)
{
	if (src->owned)
		file_read_free((char *)src->data.data, src->data.size);
	memset(src, 0, sizeof(*src));
}

/* src_is_pem: true when <src> holds PEM text rather than DER. */
static bool src_is_pem(const struct creds_src *src)
{
	static const char begin[] = "-----BEGIN";

	return src->data.size >= sizeof(begin) - 1 &&
	       memmem(src->data.data, src->data.size, begin, sizeof(begin) - 1) != NULL;
}

/* ---- certificate dates ---- */

static void creds_format_time(char *buf, size_t size, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* creds_check_dates: warn when leaf <crt> of <label> is outside its validity
 * period. The certificate is still used: Node loads it too, and the client
 * decides. */
static void creds_check_dates(const char *label, gnutls_x509_crt_t crt)
{
	time_t now = time(NULL);
	time_t from = gnutls_x509_crt_get_activation_time(crt);
	time_t to = gnutls_x509_crt_get_expiration_time(crt);
	char from_s[32], to_s[32];

	if (from <= now && now <= to)
		return;
	creds_format_time(from_s, sizeof(from_s), from);
	creds_format_time(to_s, sizeof(to_s), to);
	log_warn("%s: certificate %s (valid from %s to %s); loading it anyway", label,
		 now > to ? "has expired" : "is not yet valid", from_s, to_s);
}

/* creds_check_pair_dates: creds_check_dates for pair <idx> already in <cred>. */
static void creds_check_pair_dates(gnutls_certificate_credentials_t cred, unsigned idx,
				   const char *label)
{
	gnutls_datum_t der;
	gnutls_x509_crt_t crt = NULL;

	if (gnutls_certificate_get_crt_raw(cred, idx, 0, &der) < 0)
		return;
	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) == 0)
		creds_check_dates(label, crt);
	gnutls_x509_crt_deinit(crt);
}

/* ---- key/cert arrays ---- */

static void chain_free(struct creds_chain *chain)
{
	for (unsigned i = 0; i < chain->n; i++)
		gnutls_x509_crt_deinit(chain->crts[i]);
	gnutls_free(chain->crts);
	chain->crts = NULL;
	chain->n = 0;
}

static void pairing_free(struct creds_pairing *p)
{
	for (size_t i = 0; i < p->n_chains; i++)
		chain_free(&p->chains[i]);
	for (size_t i = 0; i < p->n_keys; i++)
		if (p->keys[i].key)
			gnutls_x509_privkey_deinit(p->keys[i].key);
	free(p->chains);
	free(p->keys);
	memset(p, 0, sizeof(*p));
}

/* pairing_check_counts: keys need certs and certs need keys. */
static int pairing_check_counts(const struct tlsd_config *cfg, struct tlsd_error *err)
{
	if (cfg->keys.n > 0 && cfg->certs.n == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "cert: required when key is given");
	if (cfg->certs.n > 0 && cfg->keys.n == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "key: required when cert is given");
	return 0;
}

static int pairing_alloc(struct creds_pairing *p, size_t n_keys, size_t n_certs,
			 struct tlsd_error *err)
{
	p->chains = calloc(n_certs, sizeof(*p->chains));
	p->keys = calloc(n_keys, sizeof(*p->keys));
	if (p->chains == NULL || p->keys == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "key: out of memory");
	return 0;
}

/* chain_parse: the certificates of <src> into <chain>, with the leaf's key ID. */
static int chain_parse(struct creds_chain *chain, const struct creds_src *src,
		       const char *label, struct tlsd_error *err)
{
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	int rc;

	chain->where = src->where;
	rc = gnutls_x509_crt_list_import2(&crts, &n, &src->data, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0)
		return creds_gnutls_error(err, label, src->where, rc, "certificate", false);
	chain->crts = crts;
	chain->n = n;
	if (n == 0)
		return creds_gnutls_error(err, label, src->where, GNUTLS_E_NO_CERTIFICATE_FOUND,
					  "certificate", false);
	chain->id.len = sizeof(chain->id.b);
	rc = gnutls_x509_crt_get_key_id(chain->crts[0], GNUTLS_KEYID_USE_SHA256, chain->id.b,
					&chain->id.len);
	if (rc < 0)
		return creds_gnutls_error(err, label, src->where, rc, "certificate", false);
	return 0;
}

static int pairing_read_cert(struct creds_pairing *p, const struct tlsd_pem *pem, size_t i,
			     struct tlsd_error *err)
{
	struct creds_label label = creds_label("cert", i);
	struct creds_src src = { 0 };
	int rc;

	GUARD(src_read(&src, pem->value, label.s, err));
	rc = chain_parse(&p->chains[i], &src, label.s, err);
	src_release(&src);
	p->n_chains = i + 1;
	return rc;
}

/* key_parse: decrypt (if needed, with <pass>) and import <src> into <k>. */
static int key_parse(struct creds_key *k, const struct creds_src *src, const char *pass,
		     const char *label, struct tlsd_error *err)
{
	int rc;

	k->where = src->where;
	rc = gnutls_x509_privkey_init(&k->key);
	if (rc < 0)
		return creds_internal(err, label, "cannot allocate a key", rc);
	/* import2 tries plain PEM, PKCS#8 (encrypted or not) and the
	 * traditional "Proc-Type: 4,ENCRYPTED" form in turn. */
	rc = gnutls_x509_privkey_import2(k->key, &src->data, GNUTLS_X509_FMT_PEM, pass, 0);
	if (rc < 0)
		return creds_gnutls_error(err, label, src->where, rc, "private key", pass != NULL);
	k->id.len = sizeof(k->id.b);
	rc = gnutls_x509_privkey_get_key_id(k->key, GNUTLS_KEYID_USE_SHA256, k->id.b, &k->id.len);
	if (rc < 0)
		return creds_gnutls_error(err, label, src->where, rc, "private key", pass != NULL);
	return 0;
}

static int pairing_read_key(struct creds_pairing *p, const struct tlsd_pem *pem,
			    const char *top_pass, size_t i, struct tlsd_error *err)
{
	struct creds_label label = creds_label("key", i);
	const char *pass = pem->passphrase ? pem->passphrase : top_pass;
	struct creds_src src = { 0 };
	int rc;

	GUARD(src_read(&src, pem->value, label.s, err));
	p->n_keys = i + 1;
	rc = key_parse(&p->keys[i], &src, pass, label.s, err);
	src_release(&src);
	return rc;
}

static bool keyid_equal(const struct creds_keyid *a, const struct creds_keyid *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

/* pairing_match: give every key the first unpaired chain with its public key,
 * then make sure no chain is left over. */
static int pairing_match(struct creds_pairing *p, struct tlsd_error *err)
{
	for (size_t i = 0; i < p->n_keys; i++) {
		size_t j = 0;

		while (j < p->n_chains && (p->chains[j].paired ||
					   !keyid_equal(&p->keys[i].id, &p->chains[j].id)))
			j++;
		if (j == p->n_chains)
			return tlsd_error_set(err, TLSD_ERR_CONFIG,
					      "key[%zu]: matches no certificate in cert (%s)", i,
					      p->keys[i].where);
		p->chains[j].paired = true;
		p->keys[i].cert = j;
	}
	for (size_t j = 0; j < p->n_chains; j++)
		if (!p->chains[j].paired)
			return tlsd_error_set(err, TLSD_ERR_CONFIG,
					      "cert[%zu]: matches no key in key (%s)", j,
					      p->chains[j].where);
	return 0;
}

static bool key_is_ec(gnutls_x509_privkey_t key)
{
	int pk = gnutls_x509_privkey_get_pk_algorithm(key);

	return pk == GNUTLS_PK_ECDSA || pk == GNUTLS_PK_EDDSA_ED25519 ||
	       pk == GNUTLS_PK_EDDSA_ED448;
}

/* creds_set_key: give GnuTLS the chain <crts> and <key>, the key wrapped by
 * creds->signer (signer.h). Returns the pair's index (API_V2), or an error
 * with <err> naming <label> and <where>. */
static int creds_set_key(struct tlsd_creds *creds, gnutls_x509_crt_t *crts, unsigned n,
			 gnutls_x509_privkey_t key, const char *label, const char *where,
			 struct tlsd_error *err)
{
	gnutls_pcert_st *pcerts = calloc(n, sizeof(*pcerts));
	struct tlsd_error why = { { 0 } };
	gnutls_privkey_t pk = NULL;
	unsigned got = n;
	int rc;

	if (pcerts == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "%s: out of memory", label);
	rc = signer_make_key(creds->signer, key, &pk, &why);
	if (rc < 0) {
		free(pcerts);
		return tlsd_error_set(err, rc, "%s: %s: %s (signer %s)", label, where, why.msg,
				      signer_name(creds->signer));
	}
	rc = gnutls_pcert_import_x509_list(pcerts, crts, &got, 0);
	if (rc < 0) {
		gnutls_privkey_deinit(pk);
		free(pcerts);
		return creds_gnutls_error(err, label, where, rc, "certificate", false);
	}
	/* On success GnuTLS owns the key and the certificates (it copies the
	 * array); on failure they are still ours. */
	rc = gnutls_certificate_set_key(creds->cred, NULL, 0, pcerts, (int)got, pk);
	if (rc < 0) {
		for (unsigned j = 0; j < got; j++)
			gnutls_pcert_deinit(&pcerts[j]);
		gnutls_privkey_deinit(pk);
		free(pcerts);
		return creds_gnutls_error(err, label, where, rc, "key pair", false);
	}
	free(pcerts);
	return rc;
}

/* creds_add_pair: hand key <i> and its chain to GnuTLS. */
static int creds_add_pair(struct tlsd_creds *creds, const struct creds_pairing *p, size_t i,
			  struct tlsd_error *err)
{
	const struct creds_key *k = &p->keys[i];
	const struct creds_chain *chain = &p->chains[k->cert];
	char label[64];

	snprintf(label, sizeof(label), "key[%zu] (cert[%zu])", i, k->cert);
	GUARD(creds_set_key(creds, chain->crts, chain->n, k->key, label, k->where, err));
	creds_check_dates(label, chain->crts[0]);
	creds->pairs++;
	return 0;
}

/* pairing_add: ECDSA (and EdDSA) pairs first, then RSA. GnuTLS serves the
 * first pair that fits the handshake; in TLS 1.3 the suite does not pick the
 * key type, so the first pair added wins (gnutls.md section 3). Node/OpenSSL
 * prefer ECDSA there, so ECDSA goes first. */
static int pairing_add(struct tlsd_creds *creds, const struct creds_pairing *p,
		       struct tlsd_error *err)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < p->n_keys; i++)
			if (key_is_ec(p->keys[i].key) == (pass == 0))
				GUARD(creds_add_pair(creds, p, i, err));
	return 0;
}

/* creds_load_pairs: the "key" and "cert" arrays of <cfg>. */
static int creds_load_pairs(struct tlsd_creds *creds, const struct tlsd_config *cfg,
			    struct tlsd_error *err)
{
	struct creds_pairing p = { 0 };
	int rc = 0;

	if (cfg->keys.n == 0 && cfg->certs.n == 0)
		return 0;
	GUARD_GOTO(pairing_check_counts(cfg, err), rc, out);
	GUARD_GOTO(pairing_alloc(&p, cfg->keys.n, cfg->certs.n, err), rc, out);
	for (size_t i = 0; i < cfg->certs.n; i++)
		GUARD_GOTO(pairing_read_cert(&p, &cfg->certs.items[i], i, err), rc, out);
	for (size_t i = 0; i < cfg->keys.n; i++)
		GUARD_GOTO(pairing_read_key(&p, &cfg->keys.items[i], cfg->passphrase, i, err),
			   rc, out);
	GUARD_GOTO(pairing_match(&p, err), rc, out);
	GUARD_GOTO(pairing_add(creds, &p, err), rc, out);
out:
	pairing_free(&p);
	return rc;
}

/* ---- pfx ---- */

/* What a PKCS#12 file holds for the server. */
struct pfx_parts {
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t *chain;	/* [0] is the key's certificate */
	unsigned n;
	gnutls_x509_crl_t crl;
};

static void pfx_parts_free(struct pfx_parts *p)
{
	for (unsigned i = 0; i < p->n; i++)
		gnutls_x509_crt_deinit(p->chain[i]);
	gnutls_free(p->chain);
	if (p->key)
		gnutls_x509_privkey_deinit(p->key);
	if (p->crl)
		gnutls_x509_crl_deinit(p->crl);
	memset(p, 0, sizeof(*p));
}

/* pfx_parse: the key, chain and CRL of PKCS#12 <src>, taken as GnuTLS's own
 * PKCS#12 loader takes them (the MAC is checked when a passphrase is
 * given), so the errors are the same. Returns 0 or a GnuTLS error. */
static int pfx_parse(const struct creds_src *src, const char *pass, struct pfx_parts *out)
{
	gnutls_x509_crt_fmt_t fmt = src_is_pem(src) ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER;
	gnutls_pkcs12_t p12;
	int rc = gnutls_pkcs12_init(&p12);

	if (rc < 0)
		return rc;
	rc = gnutls_pkcs12_import(p12, &src->data, fmt, 0);
	if (rc >= 0 && pass != NULL)
		rc = gnutls_pkcs12_verify_mac(p12, pass);
	if (rc >= 0)
		rc = gnutls_pkcs12_simple_parse(p12, pass, &out->key, &out->chain, &out->n, NULL,
						NULL, &out->crl, 0);
	gnutls_pkcs12_deinit(p12);
	if (rc >= 0 && (out->key == NULL || out->n == 0))
		rc = GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
	return rc;
}

/* creds_load_pfx: the PKCS#12 "pfx" (DER, or PEM text), decrypted with the
 * top-level passphrase; its key signs through creds->signer like any other. */
static int creds_load_pfx(struct tlsd_creds *creds, const struct tlsd_config *cfg,
			  struct tlsd_error *err)
{
	struct pfx_parts parts = { 0 };
	struct creds_src src = { 0 };
	int rc, idx;

	if (cfg->pfx == NULL)
		return 0;
	GUARD(src_read(&src, cfg->pfx, "pfx", err));
	rc = pfx_parse(&src, cfg->passphrase, &parts);
	if (rc < 0) {
		rc = creds_gnutls_error(err, "pfx", src.where, rc, "PKCS#12 file",
					cfg->passphrase != NULL);
		goto out;
	}
	idx = creds_set_key(creds, parts.chain, parts.n, parts.key, "pfx", src.where, err);
	if (idx < 0) {
		rc = idx;
		goto out;
	}
	if (parts.crl != NULL) {
		rc = gnutls_certificate_set_x509_crl(creds->cred, &parts.crl, 1);
		if (rc < 0) {
			rc = creds_gnutls_error(err, "pfx", src.where, rc, "CRL in the PKCS#12 file",
						false);
			goto out;
		}
	}
	creds_check_pair_dates(creds->cred, (unsigned)idx, "pfx");
	creds->pairs++;
	rc = 0;
out:
	pfx_parts_free(&parts);
	src_release(&src);
	return rc;
}

/* ---- demo ---- */

/* demo_key: a fresh ECDSA P-256 key. Returns 0 or a GnuTLS error. */
static int demo_key(gnutls_x509_privkey_t *key)
{
	GUARD(gnutls_x509_privkey_init(key));
	return gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
					    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
}

/* demo_names: CN and SAN localhost, 127.0.0.1, ::1. */
static int demo_names(gnutls_x509_crt_t crt)
{
	static const unsigned char v4[4] = { 127, 0, 0, 1 };
	static const unsigned char v6[16] = { [15] = 1 };
	static const char name[] = "localhost";

	GUARD(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, name,
					    sizeof(name) - 1));
	GUARD(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
						   sizeof(name) - 1, GNUTLS_FSAN_SET));
	GUARD(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4, sizeof(v4),
						   GNUTLS_FSAN_APPEND));
	return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6, sizeof(v6),
						    GNUTLS_FSAN_APPEND);
}

/* demo_serial_and_dates: a random positive serial (RFC 5280: up to 20
 * bytes, top bit clear), valid from an hour ago (clock skew) for 30 days. */
static int demo_serial_and_dates(gnutls_x509_crt_t crt)
{
	unsigned char serial[16];
	time_t now = time(NULL);

	GUARD(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)));
	serial[0] = (serial[0] & 0x7f) | 0x01;
	GUARD(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)));
	GUARD(gnutls_x509_crt_set_activation_time(crt, now - 3600));
	return gnutls_x509_crt_set_expiration_time(crt, now + CREDS_DEMO_DAYS * 86400);
}

/* demo_crt: a self-signed server certificate for <key>. */
static int demo_crt(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char id[64];
	size_t id_len = sizeof(id);

	GUARD(gnutls_x509_crt_set_version(crt, 3));
	GUARD(demo_serial_and_dates(crt));
	GUARD(demo_names(crt));
	GUARD(gnutls_x509_crt_set_key(crt, key));
	GUARD(gnutls_x509_crt_set_basic_constraints(crt, 0, -1));
	GUARD(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE));
	GUARD(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0));
	GUARD(gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA1, id, &id_len));
	GUARD(gnutls_x509_crt_set_subject_key_id(crt, id, id_len));
	return gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
}

/* creds_load_demo: for --demo without any other pair, a throwaway
 * self-signed ECDSA P-256 certificate for localhost, made in memory. */
static int creds_load_demo(struct tlsd_creds *creds, const struct tlsd_config *cfg,
			   struct tlsd_error *err)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	int rc;

	if (!cfg->demo || creds->pairs > 0)
		return 0;
	GUARD_GOTO(demo_key(&key), rc, fail);
	GUARD_GOTO(gnutls_x509_crt_init(&crt), rc, fail);
	GUARD_GOTO(demo_crt(crt, key), rc, fail);
	rc = creds_set_key(creds, &crt, 1, key, "demo", "generated certificate", err);
	if (rc < 0)
		goto out;
	creds->pairs++;
	rc = 0;
	goto out;
fail:
	rc = creds_internal(err, "demo", "cannot generate a certificate", rc);
out:
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return rc;
}

/* ---- ca, crl ---- */

/* creds_load_list_one: element <i> of config list <key> through <set>;
 * a value that holds none of <what> is an error. */
static int creds_load_list_one(struct tlsd_creds *creds, const char *value, const char *key,
			       size_t i, const char *what, creds_list_setter set,
			       struct tlsd_error *err)
{
	struct creds_label label = creds_label(key, i);
	struct creds_src src = { 0 };
	int rc;

	GUARD(src_read(&src, value, label.s, err));
	rc = set(creds->cred, &src.data, GNUTLS_X509_FMT_PEM);
	if (rc == 0)
		rc = GNUTLS_E_NO_CERTIFICATE_FOUND;
	if (rc < 0)
		rc = creds_gnutls_error(err, label.s, src.where, rc, what, false);
	else
		rc = 0;
	src_release(&src);
	return rc;
}

static int creds_load_list(struct tlsd_creds *creds, const struct tlsd_pem_list *list,
			   const char *key, const char *what, creds_list_setter set,
			   struct tlsd_error *err)
{
	for (size_t i = 0; i < list->n; i++)
		GUARD(creds_load_list_one(creds, list->items[i].value, key, i, what, set, err));
	return 0;
}

/* ---- dhparam ---- */

/* dh_prime_bits: the size of the prime of <dh> in bits (0 if unknown). The
 * bits that gnutls_dh_params_export_raw reports are those of the private
 * exponent, not of the prime. */
static unsigned dh_prime_bits(gnutls_dh_params_t dh)
{
	gnutls_datum_t p = { 0 }, g = { 0 };
	unsigned bits = 0, i = 0;

	if (gnutls_dh_params_export_raw(dh, &p, &g, NULL) < 0)
		return 0;
	while (i < p.size && p.data[i] == 0)
		i++;
	if (i < p.size) {
		bits = (p.size - i) * 8;
		for (unsigned char top = p.data[i]; !(top & 0x80); top <<= 1)
			bits--;
	}
	gnutls_free(p.data);
	gnutls_free(g.data);
	return bits;
}

/* dh_import: PKCS#3 <src> into creds->dh, refusing primes under 1024 bits. */
static int dh_import(struct tlsd_creds *creds, const struct creds_src *src,
		     struct tlsd_error *err)
{
	unsigned bits;
	int rc;

	rc = gnutls_dh_params_init(&creds->dh);
	if (rc < 0)
		return creds_internal(err, "dhparam", "cannot allocate", rc);
	rc = gnutls_dh_params_import_pkcs3(creds->dh, &src->data, GNUTLS_X509_FMT_PEM);
	if (rc < 0)
		return creds_gnutls_error(err, "dhparam", src->where, rc, "DH PARAMETERS block",
					  false);
	bits = dh_prime_bits(creds->dh);
	if (bits < CREDS_MIN_DH_BITS)
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "dhparam: %u bits is too small (minimum %d) in %s", bits,
				      CREDS_MIN_DH_BITS, src->where);
	gnutls_certificate_set_dh_params(creds->cred, creds->dh);
	return 0;
}

/* creds_load_dh: "dhparam". Absent: no DHE, as in Node (see the top). */
static int creds_load_dh(struct tlsd_creds *creds, const char *value, struct tlsd_error *err)
{
	struct creds_src src = { 0 };
	int rc;

	if (value == NULL)
		return 0;
	if (strcmp(value, "auto") == 0) {
		rc = gnutls_certificate_set_known_dh_params(creds->cred, GNUTLS_SEC_PARAM_MEDIUM);
		return rc < 0 ? creds_internal(err, "dhparam", "auto", rc) : 0;
	}
	GUARD(src_read(&src, value, "dhparam", err));
	rc = dh_import(creds, &src, err);
	src_release(&src);
	return rc;
}

/* ---- ocsp ---- */

/* ocsp_staple: set <src> on every pair it is for; count them in <matched>. */
static int ocsp_staple(struct tlsd_creds *creds, const struct creds_src *src,
		       unsigned *matched, struct tlsd_error *err)
{
	gnutls_x509_crt_fmt_t fmt = src_is_pem(src) ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER;
	int rc;

	for (unsigned idx = 0; idx < creds->pairs; idx++) {
		rc = gnutls_certificate_set_ocsp_status_request_mem(creds->cred, &src->data, idx,
								    fmt);
		if (rc == GNUTLS_E_OCSP_MISMATCH_WITH_CERTS)
			continue;
		if (rc < 0)
			return creds_gnutls_error(err, "ocsp", src->where, rc, "OCSP response",
						  false);
		(*matched)++;
	}
	return 0;
}

/* creds_load_ocsp: "ocsp", a DER OCSP response stapled for the pairs whose
 * certificate it covers; one that covers none is an error. */
static int creds_load_ocsp(struct tlsd_creds *creds, const char *value, struct tlsd_error *err)
{
	struct creds_src src = { 0 };
	unsigned matched = 0;
	int rc;

	if (value == NULL)
		return 0;
	GUARD(src_read(&src, value, "ocsp", err));
	rc = ocsp_staple(creds, &src, &matched, err);
	if (rc == 0 && matched == 0)
		rc = tlsd_error_set(err, TLSD_ERR_CONFIG,
				    "ocsp: %s: the response is for none of the certificates",
				    src.where);
	src_release(&src);
	return rc;
}

/* ---- the object ---- */

static int creds_new(struct tlsd_creds **out, struct tlsd_error *err)
{
	struct tlsd_creds *creds = calloc(1, sizeof(*creds));
	int rc;

	if (creds == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "credentials: out of memory");
	rc = gnutls_certificate_allocate_credentials(&creds->cred);
	if (rc < 0) {
		free(creds);
		return creds_internal(err, "credentials", "cannot allocate", rc);
	}
	/* API_V2: the set-key functions return the pair's index (OCSP, dates). */
	gnutls_certificate_set_flags(creds->cred, GNUTLS_CERTIFICATE_API_V2);
	rc = signer_from_env(&creds->signer, err);
	if (rc < 0) {
		creds_free(creds);
		return rc;
	}
	*out = creds;
	return 0;
}

static int creds_require_pair(const struct tlsd_creds *creds, struct tlsd_error *err)
{
	if (creds->pairs > 0)
		return 0;
	return tlsd_error_set(err, TLSD_ERR_CONFIG,
			      "key: no certificate configured (give key and cert, pfx, or --demo)");
}

int creds_load(const struct tlsd_config *cfg, struct tlsd_creds **out, struct tlsd_error *err)
{
	struct tlsd_creds *creds = NULL;
	int rc = 0;

	*out = NULL;
	GUARD_GOTO(creds_new(&creds, err), rc, out);
	GUARD_GOTO(creds_load_pairs(creds, cfg, err), rc, out);
	GUARD_GOTO(creds_load_pfx(creds, cfg, err), rc, out);
	GUARD_GOTO(creds_load_demo(creds, cfg, err), rc, out);
	GUARD_GOTO(creds_require_pair(creds, err), rc, out);
	GUARD_GOTO(creds_load_list(creds, &cfg->ca, "ca", "certificate",
				   gnutls_certificate_set_x509_trust_mem, err), rc, out);
	/* After ca: GnuTLS checks CRLs against the trusted issuers it has. */
	GUARD_GOTO(creds_load_list(creds, &cfg->crl, "crl", "CRL",
				   gnutls_certificate_set_x509_crl_mem, err), rc, out);
	creds->has_ca = cfg->ca.n > 0;
	GUARD_GOTO(creds_load_dh(creds, cfg->dhparam, err), rc, out);
	GUARD_GOTO(creds_load_ocsp(creds, cfg->ocsp, err), rc, out);
	*out = creds;
	creds = NULL;
out:
	creds_free(creds);
	return rc;
}

int creds_load_client(const struct tlsd_context_config *ctx, const char *prefix, struct tlsd_creds **out,
		      struct tlsd_error *err)
{
	struct tlsd_creds *creds = NULL;
	struct tlsd_config view;
	struct tlsd_error why = { "" };
	int rc = 0;

	*out = NULL;
	config_init(&view);
	view.keys = ctx->keys;
	view.certs = ctx->certs;
	view.ca = ctx->ca;
	view.passphrase = ctx->passphrase;
	GUARD_GOTO(creds_new(&creds, &why), rc, out);
	GUARD_GOTO(creds_load_pairs(creds, &view, &why), rc, out);
	GUARD_GOTO(creds_load_list(creds, &view.ca, "ca", "certificate", gnutls_certificate_set_x509_trust_mem, &why),
		   rc, out);
	/* Node's default: the system's trust store when no ca is given. */
	if (view.ca.n == 0 && gnutls_certificate_set_x509_system_trust(creds->cred) < 0)
		GUARD_GOTO(tlsd_error_set(&why, TLSD_ERR_CONFIG, "ca: no ca given, and the system's trust store "
					  "cannot be read"), rc, out);
	creds->has_ca = true;
	*out = creds;
	creds = NULL;
out:
	if (rc < 0)
		tlsd_error_set(err, rc, "%s%s", prefix, why.msg);
	creds_free(creds);
	return rc;
}

int creds_load_context(const struct tlsd_context_config *ctx, const char *prefix,
		       struct tlsd_creds **out, struct tlsd_error *err)
{
	struct tlsd_config view;
	struct tlsd_error why = { "" };
	int rc;

	/* A view of the context as a config: shallow, never freed. */
	config_init(&view);
	view.keys = ctx->keys;
	view.certs = ctx->certs;
	view.ca = ctx->ca;
	view.ocsp = ctx->ocsp;
	view.passphrase = ctx->passphrase;
	view.pfx = ctx->pfx;
	rc = creds_load(&view, out, &why);
	if (rc < 0)
		tlsd_error_set(err, rc, "%s%s", prefix, why.msg);
	return rc;
}

/* node_time: OpenSSL's (and Node's) "Mar 12 10:00:00 2025 GMT". */
static void node_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%b %e %H:%M:%S %Y GMT", &tm);
}

static void hex_colons(const unsigned char *b, size_t n, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o + 3 < size; i++)
		o += (size_t)snprintf(out + o, size - o, i ? ":%02X" : "%02X", b[i]);
}

static void describe_dn(gnutls_x509_crt_t crt, bool issuer, char *out, size_t size)
{
	gnutls_datum_t dn = { NULL, 0 };
	int rc = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) : gnutls_x509_crt_get_dn3(crt, &dn, 0);

	snprintf(out, size, "%.*s", rc < 0 ? 0 : (int)dn.size, rc < 0 ? "" : (const char *)dn.data);
	gnutls_free(dn.data);
}

static void describe_serial(gnutls_x509_crt_t crt, char *out, size_t size)
{
	unsigned char serial[40];
	size_t len = sizeof(serial), o = 0, start = 0;

	out[0] = '\0';
	if (gnutls_x509_crt_get_serial(crt, serial, &len) < 0)
		return;
	/* DER pads a serial whose top bit is set with a 0x00 byte; Node (and
	 * OpenSSL) print the number without it. */
	while (start + 1 < len && serial[start] == 0)
		start++;
	for (size_t i = start; i < len && o + 2 < size; i++)
		o += (size_t)snprintf(out + o, size - o, "%02X", serial[i]);
}

static const char *key_type_name(gnutls_pk_algorithm_t pk)
{
	switch (pk) {
	case GNUTLS_PK_RSA: case GNUTLS_PK_RSA_PSS: return "RSA";
	case GNUTLS_PK_ECDSA: return "EC";
	case GNUTLS_PK_EDDSA_ED25519: return "Ed25519";
	case GNUTLS_PK_EDDSA_ED448: return "Ed448";
	default: return gnutls_pk_get_name(pk) ? gnutls_pk_get_name(pk) : "unknown";
	}
}

int creds_describe_der(const gnutls_datum_t *der, struct creds_cert_info *out)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char fp[32];
	size_t fp_len = sizeof(fp);
	int rc = TLSD_ERR_PROTO;

	memset(out, 0, sizeof(*out));
	if (gnutls_x509_crt_init(&crt) < 0)
		return TLSD_ERR_INTERNAL;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0)
		goto out;
	describe_dn(crt, false, out->subject, sizeof(out->subject));
	describe_dn(crt, true, out->issuer, sizeof(out->issuer));
	node_time(gnutls_x509_crt_get_activation_time(crt), out->valid_from, sizeof(out->valid_from));
	node_time(gnutls_x509_crt_get_expiration_time(crt), out->valid_to, sizeof(out->valid_to));
	out->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fp_len) == 0)
		hex_colons(fp, fp_len, out->fingerprint256, sizeof(out->fingerprint256));
	describe_serial(crt, out->serial_number, sizeof(out->serial_number));
	snprintf(out->key_type, sizeof(out->key_type), "%s",
		 key_type_name((gnutls_pk_algorithm_t)gnutls_x509_crt_get_pk_algorithm(crt, NULL)));
	rc = TLSD_OK;
out:
	gnutls_x509_crt_deinit(crt);
	return rc;
}

size_t creds_certificates(const struct tlsd_creds *creds, struct creds_cert_info *out, size_t max)
{
	size_t n = 0;

	for (unsigned i = 0; i < creds->pairs && n < max; i++) {
		gnutls_datum_t der;

		if (gnutls_certificate_get_crt_raw(creds->cred, i, 0, &der) == 0 &&
		    creds_describe_der(&der, &out[n]) == 0)
			n++;
	}
	return n;
}

gnutls_certificate_credentials_t creds_gnutls(const struct tlsd_creds *creds)
{
	return creds->cred;
}

int creds_has_ca(const struct tlsd_creds *creds)
{
	return creds->has_ca;
}

unsigned creds_pair_count(const struct tlsd_creds *creds)
{
	return creds->pairs;
}

void creds_free(struct tlsd_creds *creds)
{
	if (creds == NULL)
		return;
	/* The credentials point at the DH parameters: free them first. */
	if (creds->cred)
		gnutls_certificate_free_credentials(creds->cred);
	if (creds->dh)
		gnutls_dh_params_deinit(creds->dh);
	free(creds);
}
