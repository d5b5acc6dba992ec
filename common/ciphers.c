/* ciphers.c - OpenSSL cipher strings (Node's "ciphers") to GnuTLS priorities.
 *
 * How a string is read (as Node 20 reads it, lib/internal/tls/secure-context.js):
 * split at ':', empty entries dropped; entries starting with "TLS_" go to
 * OpenSSL's SSL_CTX_set_ciphersuites (TLS 1.3), the others, joined again,
 * to SSL_CTX_set_cipher_list (TLS 1.2). With no "TLS_" entry OpenSSL's
 * default TLS 1.3 suites stay; with only "TLS_" entries TLS 1.2 is off. A
 * TLS 1.2 list that matches nothing is an error, as in Node ("no cipher
 * match"). OpenSSL then lists the suites it would offer
 * (SSL_get1_supported_ciphers, so its security level applies as in Node),
 * in its order, and each is looked up by IANA id in GnuTLS's suite table.
 *
 * Suites tlsd does not serve are dropped and named (struct ciphers_set):
 * those GnuTLS lacks, and by policy RC4, 3DES, DES, NULL, anonymous, PSK,
 * SRP, DSS and CCM_8 suites and ciphers outside AES and ChaCha20 (CAMELLIA,
 * ARIA...). Only a string that leaves no suite at all is an error.
 */
#include "common/ciphers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

const char ciphers_node_default[] =
	"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:"
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:"
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:"
	"DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA256:"
	"ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA256:"
	"DHE-RSA-AES256-SHA256:HIGH:!aNULL:!eNULL:!EXPORT:!DES:!RC4:!MD5:!PSK:!SRP:"
	"!CAMELLIA";

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define TOKEN_SHOWN 100		/* at most this much of a string in a message */
#define NAMES_MAX 16
#define PRIORITY_MAX 1024
#define KNOWN_MAX 256		/* suites OpenSSL knows, for ciphers_openssl_name */

enum { VER_12 = 2, VER_13 = 3 };

struct slice {
	const char *p;
	size_t n;
};

static bool slice_eq(struct slice s, const char *lit)
{
	return strlen(lit) == s.n && memcmp(s.p, lit, s.n) == 0;
}

static int shown(struct slice s)
{
	return s.n > TOKEN_SHOWN ? TOKEN_SHOWN : (int)s.n;
}

/* ---- what tlsd serves ---- */

static bool served_kx(gnutls_kx_algorithm_t kx)
{
	return kx == GNUTLS_KX_RSA || kx == GNUTLS_KX_DHE_RSA || kx == GNUTLS_KX_ECDHE_RSA ||
	       kx == GNUTLS_KX_ECDHE_ECDSA;
}

static bool served_cipher(gnutls_cipher_algorithm_t c)
{
	static const gnutls_cipher_algorithm_t ok[] = {
		GNUTLS_CIPHER_AES_128_CBC, GNUTLS_CIPHER_AES_256_CBC, GNUTLS_CIPHER_AES_128_GCM,
		GNUTLS_CIPHER_AES_256_GCM, GNUTLS_CIPHER_AES_128_CCM, GNUTLS_CIPHER_AES_256_CCM,
		GNUTLS_CIPHER_CHACHA20_POLY1305,
	};

	for (size_t i = 0; i < ARRAY_LEN(ok); i++)
		if (ok[i] == c)
			return true;
	return false;
}

static bool served_mac(gnutls_mac_algorithm_t m)
{
	return m == GNUTLS_MAC_SHA1 || m == GNUTLS_MAC_SHA256 || m == GNUTLS_MAC_SHA384 ||
	       m == GNUTLS_MAC_AEAD;
}

/* gnutls_suite: fill <out> (all but the name) with GnuTLS's suite of IANA
 * id <id>; false when GnuTLS lacks it or tlsd does not serve it. */
static bool gnutls_suite(uint16_t id, struct ciphers_suite *out)
{
	unsigned char sid[2];
	gnutls_kx_algorithm_t kx;
	gnutls_cipher_algorithm_t cipher;
	gnutls_mac_algorithm_t mac;
	gnutls_protocol_t min;

	for (size_t i = 0; gnutls_cipher_suite_info(i, sid, &kx, &cipher, &mac, &min) != NULL; i++) {
		if (sid[0] != id >> 8 || sid[1] != (id & 0xff))
			continue;
		*out = (struct ciphers_suite){ .id = { sid[0], sid[1] }, .tls13 = min == GNUTLS_TLS1_3,
					       .kx = kx, .cipher = cipher, .mac = mac };
		return (out->tls13 ? kx == GNUTLS_KX_UNKNOWN : served_kx(kx)) && served_cipher(cipher) &&
		       served_mac(mac);
	}
	return false;
}

/* ---- OpenSSL's reading of the string ---- */

/* split_node: Node's processCiphers: <str>'s ':'-separated non-empty
 * entries, "TLS_" ones into <*l13>, the others into <*l12> (malloc'd). */
static int split_node(const char *str, char **l12, char **l13)
{
	size_t len = strlen(str);
	const char *p = str, *colon;
	struct slice e;

	*l12 = calloc(1, len + 1);
	*l13 = calloc(1, len + 1);
	if (*l12 == NULL || *l13 == NULL)
		return TLSD_ERR_INTERNAL;
	for (;;) {
		colon = strchr(p, ':');
		e = (struct slice){ p, colon ? (size_t)(colon - p) : strlen(p) };
		if (e.n > 0) {
			char *dst = strncmp(e.p, "TLS_", 4) == 0 ? *l13 : *l12;

			if (dst[0] != '\0')
				strcat(dst, ":");
			strncat(dst, e.p, e.n);
		}
		if (colon == NULL)
			return TLSD_OK;
		p = colon + 1;
	}
}

/* openssl_ctx: a server context with Node's lists for <l12>/<l13>, TLS 1.2
 * and 1.3 enabled (versions are applied after, by tlsd). */
static int openssl_ctx(const char *l12, const char *l13, SSL_CTX **out, struct tlsd_error *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	struct slice s12 = { l12, strlen(l12) }, s13 = { l13, strlen(l13) };
	int rc = TLSD_OK;

	*out = NULL;
	if (ctx == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "ciphers: OpenSSL cannot make a context");
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
		rc = tlsd_error_set(err, TLSD_ERR_INTERNAL, "ciphers: OpenSSL refuses TLS 1.2 to 1.3");
	else if (s13.n > 0 && !SSL_CTX_set_ciphersuites(ctx, l13))
		rc = tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: OpenSSL knows none of the TLS 1.3 suites \"%.*s\"",
				    shown(s13), l13);
	else if (s12.n > 0 && !SSL_CTX_set_cipher_list(ctx, l12))
		rc = tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: OpenSSL selects no cipher suite from \"%.*s\" (no cipher match)",
				    shown(s12), l12);
	ERR_clear_error();
	if (rc < 0)
		SSL_CTX_free(ctx);
	else
		*out = ctx;
	return rc;
}

/* note_dropped: add <name> to <set>'s dropped list ("..." once it is full). */
static void note_dropped(struct ciphers_set *set, const char *name)
{
	size_t len = strlen(set->dropped), room = sizeof(set->dropped) - len;

	if (len >= 3 && strcmp(set->dropped + len - 3, "...") == 0)
		return;
	if (strlen(name) + 5 > room) {
		snprintf(set->dropped + len, room, "%s...", len ? ":" : "");
		return;
	}
	snprintf(set->dropped + len, room, "%s%s", len ? ":" : "", name);
}

/* add_cipher: OpenSSL suite <c> into <set> when its version is on and tlsd
 * serves it; dropped (and named) otherwise. */
static void add_cipher(struct ciphers_set *set, const SSL_CIPHER *c, bool v12, bool v13)
{
	struct ciphers_suite e;
	bool tls13 = strcmp(SSL_CIPHER_get_version(c), "TLSv1.3") == 0;

	if (tls13 ? !v13 : !v12)
		return;
	if (!gnutls_suite(SSL_CIPHER_get_protocol_id(c), &e) || e.tls13 != tls13 || set->n >= CIPHERS_MAX) {
		note_dropped(set, SSL_CIPHER_get_name(c));
		return;
	}
	snprintf(e.name, sizeof(e.name), "%s", SSL_CIPHER_get_name(c));
	set->v[set->n++] = e;
}

/* openssl_set: the suites OpenSSL offers for <l12>/<l13>, filtered by
 * version (<v12>/<v13>) and by what tlsd serves. */
static int openssl_set(const char *l12, const char *l13, bool v12, bool v13, struct ciphers_set *set,
		       struct tlsd_error *err)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	STACK_OF(SSL_CIPHER) *sk = NULL;
	int rc = TLSD_OK;

	GUARD(openssl_ctx(l12, l13, &ctx, err));
	ssl = SSL_new(ctx);
	sk = ssl ? SSL_get1_supported_ciphers(ssl) : NULL;
	for (int i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++)
		add_cipher(set, sk_SSL_CIPHER_value(sk, i), v12, v13);
	if (ssl == NULL)
		rc = tlsd_error_set(err, TLSD_ERR_INTERNAL, "ciphers: OpenSSL cannot make a session");
	sk_SSL_CIPHER_free(sk);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* ---- versions ---- */

static int parse_version(const char *key, const char *val, unsigned *out, struct tlsd_error *err)
{
	if (val == NULL)
		return TLSD_OK;
	if (strcmp(val, "TLSv1.3") == 0 || strcmp(val, "TLSv1.2") == 0) {
		*out = strcmp(val, "TLSv1.3") == 0 ? VER_13 : VER_12;
		return TLSD_OK;
	}
	if (strcmp(val, "TLSv1.1") == 0 || strcmp(val, "TLSv1") == 0 || strcmp(val, "SSLv3") == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "%s: %s is not supported (tlsd serves TLS 1.2 and TLS 1.3)", key, val);
	return tlsd_error_set(err, TLSD_ERR_CONFIG,
			      "%s: unknown protocol version \"%.100s\" (use TLSv1.2 or TLSv1.3)", key, val);
}

/* Node's secureProtocol names (OpenSSL method names) tlsd can serve. */
static const struct {
	const char *name;
	unsigned min, max;
} methods[] = {
	{ "TLS_method", VER_12, VER_13 }, { "TLS_server_method", VER_12, VER_13 },
	{ "SSLv23_method", VER_12, VER_13 }, { "SSLv23_server_method", VER_12, VER_13 },
	{ "TLSv1_2_method", VER_12, VER_12 }, { "TLSv1_2_server_method", VER_12, VER_12 },
};

static const char *const old_methods[] = {
	"TLSv1_1_method", "TLSv1_1_server_method", "TLSv1_method", "TLSv1_server_method",
	"SSLv3_method", "SSLv3_server_method", "SSLv2_method", "SSLv2_server_method",
};

static int parse_method(const char *val, unsigned *min, unsigned *max, struct tlsd_error *err)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(methods); i++) {
		if (strcmp(val, methods[i].name) == 0) {
			*min = methods[i].min;
			*max = methods[i].max;
			return TLSD_OK;
		}
	}
	for (i = 0; i < ARRAY_LEN(old_methods); i++)
		if (strcmp(val, old_methods[i]) == 0)
			return tlsd_error_set(err, TLSD_ERR_CONFIG,
					      "secureProtocol: %s is not supported (tlsd serves TLS 1.2 and TLS 1.3)", val);
	return tlsd_error_set(err, TLSD_ERR_CONFIG,
			      "secureProtocol: unknown method \"%.100s\" (use TLS_method or TLSv1_2_method)", val);
}

/* version_range: [<*min>, <*max>] from minVersion/maxVersion or, exclusively
 * (Node's ERR_TLS_PROTOCOL_VERSION_CONFLICT), secureProtocol. */
static int version_range(const struct tlsd_priority_opts *o, unsigned *min, unsigned *max,
			 struct tlsd_error *err)
{
	*min = VER_12;
	*max = VER_13;
	if (o->secure_protocol != NULL && (o->min_version != NULL || o->max_version != NULL))
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "secureProtocol: conflicts with minVersion/maxVersion (set one or the other)");
	if (o->secure_protocol != NULL)
		return parse_method(o->secure_protocol, min, max, err);
	GUARD(parse_version("minVersion", o->min_version, min, err));
	GUARD(parse_version("maxVersion", o->max_version, max, err));
	if (*min > *max)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "minVersion: %s is above maxVersion %s",
				      o->min_version, o->max_version ? o->max_version : "TLSv1.3");
	return TLSD_OK;
}


/* ---- the set ---- */

int ciphers_select(const struct tlsd_priority_opts *opts, struct ciphers_set *out, struct tlsd_error *err)
{
	const char *str = opts->ciphers;
	char *l12 = NULL, *l13 = NULL;
	unsigned min, max;
	int rc;

	memset(out, 0, sizeof(*out));
	/* Node: ciphers || DEFAULT_CIPHERS, so "" means the default too. */
	if (str == NULL || str[0] == '\0')
		str = ciphers_node_default;
	GUARD(version_range(opts, &min, &max, err));
	rc = split_node(str, &l12, &l13);
	if (rc < 0) {
		tlsd_error_set(err, rc, "ciphers: out of memory");
		goto out;
	}
	if (l12[0] == '\0' && l13[0] == '\0') {
		rc = tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: selects no cipher suite");
		goto out;
	}
	GUARD_GOTO(openssl_set(l12, l13, min <= VER_12 && l12[0] != '\0', max >= VER_13, out, err), rc, out);
	if (out->n == 0)
		rc = tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: selects no cipher suite tlsd can serve%s%.300s%s",
				    out->dropped[0] ? " (dropped: " : "", out->dropped, out->dropped[0] ? ")" : "");
out:
	free(l12);
	free(l13);
	return rc;
}

/* ---- GnuTLS names ---- */

struct names {
	const char *v[NAMES_MAX];
	size_t n;
};

struct plan {
	bool v12, v13;
	struct names kx, cipher, mac, groups;
};

static bool names_has(const struct names *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

/* names_add: append <name> unless present; the lists are bounded by the
 * distinct kx, cipher, MAC and group names tlsd serves, below NAMES_MAX. */
static void names_add(struct names *l, const char *name)
{
	if (name != NULL && !names_has(l, name) && l->n < NAMES_MAX)
		l->v[l->n++] = name;
}

/* ---- groups ---- */

static const struct {
	const char *name;	/* OpenSSL / Node spelling */
	const char *group;	/* GnuTLS priority name */
} curves[] = {
	{ "X25519", "GROUP-X25519" }, { "x25519", "GROUP-X25519" },
	{ "X448", "GROUP-X448" }, { "x448", "GROUP-X448" },
	{ "prime256v1", "GROUP-SECP256R1" }, { "secp256r1", "GROUP-SECP256R1" },
	{ "P-256", "GROUP-SECP256R1" }, { "secp384r1", "GROUP-SECP384R1" },
	{ "P-384", "GROUP-SECP384R1" }, { "secp521r1", "GROUP-SECP521R1" },
	{ "P-521", "GROUP-SECP521R1" }, { "ffdhe2048", "GROUP-FFDHE2048" },
	{ "ffdhe3072", "GROUP-FFDHE3072" }, { "ffdhe4096", "GROUP-FFDHE4096" },
	{ "ffdhe6144", "GROUP-FFDHE6144" }, { "ffdhe8192", "GROUP-FFDHE8192" },
};

static int add_curve(struct names *groups, struct slice name, struct tlsd_error *err)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(curves); i++) {
		if (!slice_eq(name, curves[i].name))
			continue;
		if (names_has(groups, curves[i].group))
			return tlsd_error_set(err, TLSD_ERR_CONFIG, "ecdhCurve: curve \"%.*s\" is listed twice",
					      shown(name), name.p);
		names_add(groups, curves[i].group);
		return TLSD_OK;
	}
	return tlsd_error_set(err, TLSD_ERR_CONFIG, "ecdhCurve: unknown curve \"%.*s\"", shown(name), name.p);
}

static bool has_ffdhe(const struct names *groups)
{
	size_t i;

	for (i = 0; i < groups->n; i++)
		if (strncmp(groups->v[i], "GROUP-FFDHE", 11) == 0)
			return true;
	return false;
}

/* parse_curves: ecdhCurve (':'-separated; NULL or "auto" = Node's
 * X25519:P-256:P-384) into <pl>'s groups. With DHE suites on and no FFDHE
 * group named, the RFC 7919 groups follow, so DHE needs no dhparam. */
static int parse_curves(const char *spec, struct plan *pl, struct tlsd_error *err)
{
	struct slice name;
	const char *colon;

	if (spec == NULL || strcmp(spec, "auto") == 0)
		spec = "X25519:P-256:P-384";
	for (;;) {
		colon = strchr(spec, ':');
		name.p = spec;
		name.n = colon ? (size_t)(colon - spec) : strlen(spec);
		GUARD(add_curve(&pl->groups, name, err));
		if (colon == NULL)
			break;
		spec = colon + 1;
	}
	if (pl->v12 && names_has(&pl->kx, "DHE-RSA") && !has_ffdhe(&pl->groups)) {
		names_add(&pl->groups, "GROUP-FFDHE2048");
		names_add(&pl->groups, "GROUP-FFDHE3072");
		names_add(&pl->groups, "GROUP-FFDHE4096");
	}
	return TLSD_OK;
}

/* ---- the priority string ---- */

struct sbuf {
	char *buf;
	size_t len, cap;
	bool overflow;
};

static void sb_put(struct sbuf *b, const char *prefix, const char *name)
{
	int n;

	if (b->overflow)
		return;
	n = snprintf(b->buf + b->len, b->cap - b->len, "%s%s%s", b->len ? ":" : "", prefix, name);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->overflow = true;
	else
		b->len += (size_t)n;
}

static void sb_names(struct sbuf *b, const struct names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		sb_put(b, "+", l->v[i]);
}

/* build_string: the priority text for <pl> into a malloc'd <*out>.
 * +CTYPE-X509: GnuTLS assumes X.509 when NONE lists no type; naming it keeps
 * the string complete on its own. */
static int build_string(const struct plan *pl, bool honor, char **out, struct tlsd_error *err)
{
	struct sbuf b = { .buf = malloc(PRIORITY_MAX), .cap = PRIORITY_MAX };

	if (b.buf == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "ciphers: out of memory");
	sb_put(&b, "", "NONE");
	if (pl->v13)
		sb_put(&b, "+", "VERS-TLS1.3");
	if (pl->v12)
		sb_put(&b, "+", "VERS-TLS1.2");
	sb_names(&b, &pl->kx);
	sb_names(&b, &pl->cipher);
	sb_names(&b, &pl->mac);
	sb_put(&b, "+", "SIGN-ALL");
	sb_put(&b, "+", "COMP-NULL");
	sb_names(&b, &pl->groups);
	sb_put(&b, "+", "CTYPE-X509");
	if (honor)
		sb_put(&b, "%", "SERVER_PRECEDENCE");
	if (b.overflow) {
		free(b.buf);
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "ciphers: priority string too long");
	}
	*out = b.buf;
	return TLSD_OK;
}

/* plan_of: the versions and names, in order of first appearance, of the
 * suites of <set> that <which> takes. */
static void plan_of(const struct ciphers_set *set, int which, struct plan *pl)
{
	memset(pl, 0, sizeof(*pl));
	for (size_t i = 0; i < set->n; i++) {
		const struct ciphers_suite *e = &set->v[i];

		if (which == CIPHERS_PRIO_TLS13 ? !e->tls13 : which >= 0 && (size_t)which != i)
			continue;
		if (e->tls13) {
			pl->v13 = true;
		} else {
			pl->v12 = true;
			names_add(&pl->kx, gnutls_kx_get_name(e->kx));
		}
		names_add(&pl->cipher, gnutls_cipher_get_name(e->cipher));
		names_add(&pl->mac, gnutls_mac_get_name(e->mac));
	}
}

int ciphers_priority_text(const struct tlsd_priority_opts *opts, const struct ciphers_set *set,
			  int which, char **out, struct tlsd_error *err)
{
	struct plan pl;
	gnutls_priority_t pc = NULL;
	const char *errpos = NULL;
	char *text = NULL;
	int rc;

	*out = NULL;
	if (which >= 0 && ((size_t)which >= set->n || set->v[which].tls13))
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "ciphers: no TLS 1.2 suite at %d", which);
	plan_of(set, which, &pl);
	if (!pl.v12 && !pl.v13)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: selects no cipher suite");
	GUARD(parse_curves(opts->ecdh_curve, &pl, err));
	GUARD(build_string(&pl, opts->honor_cipher_order, &text, err));
	rc = gnutls_priority_init2(&pc, text, &errpos, 0);
	if (rc < 0) {
		rc = tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: GnuTLS rejects the priority at \"%.100s\": %s",
				    errpos ? errpos : "", gnutls_strerror(rc));
		free(text);
		return rc;
	}
	gnutls_priority_deinit(pc);
	*out = text;
	return TLSD_OK;
}

int ciphers_build_priority(const struct tlsd_priority_opts *opts, char **out, struct tlsd_error *err)
{
	struct ciphers_set *set = malloc(sizeof(*set));
	int rc;

	*out = NULL;
	if (set == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "ciphers: out of memory");
	rc = ciphers_select(opts, set, err);
	if (rc == TLSD_OK)
		rc = ciphers_priority_text(opts, set, CIPHERS_PRIO_ALL, out, err);
	free(set);
	return rc;
}

/* ---- names by id ---- */

static struct {
	uint16_t id;
	char name[CIPHERS_NAME_MAX];
} known[KNOWN_MAX];
static size_t n_known;
static pthread_once_t known_once = PTHREAD_ONCE_INIT;

/* load_known: every suite OpenSSL knows, security level 0, TLS 1.3 ones
 * included. Left empty if OpenSSL fails. */
static void load_known(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(SSL_CIPHER) *sk;

	if (ctx == NULL)
		return;
	if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
				     "TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256") &&
	    SSL_CTX_set_cipher_list(ctx, "ALL:COMPLEMENTOFALL:@SECLEVEL=0")) {
		sk = SSL_CTX_get_ciphers(ctx);
		for (int i = 0; i < sk_SSL_CIPHER_num(sk) && n_known < KNOWN_MAX; i++) {
			const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);

			known[n_known].id = SSL_CIPHER_get_protocol_id(c);
			snprintf(known[n_known].name, sizeof(known[n_known].name), "%s", SSL_CIPHER_get_name(c));
			n_known++;
		}
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
}

const char *ciphers_openssl_name(uint8_t id0, uint8_t id1)
{
	uint16_t id = (uint16_t)(id0 << 8 | id1);

	pthread_once(&known_once, load_known);
	for (size_t i = 0; i < n_known; i++)
		if (known[i].id == id)
			return known[i].name;
	return NULL;
}
