/* tls_server.c - shared TLS settings and per-connection session setup. */
#include "worker/tls_server.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/x509.h>

#include "common/ciphers.h"
#include "common/log.h"
#include "worker/session_db.h"

/* TLS 1.3 tickets per handshake: two after a full one (GnuTLS's and
 * OpenSSL's default: a client may open two connections in parallel), one
 * after a resumption, which replaces the ticket just used (as OpenSSL). */
#define TICKETS_AFTER_FULL 2
#define TICKETS_AFTER_RESUMPTION 1

struct tls_server {
	const struct tlsd_config *cfg;
	const struct tlsd_creds *creds;
	char *priority_text;
	gnutls_priority_t priority;
	gnutls_datum_t *alpn;
	unsigned n_alpn;
	struct session_db db;
	/* The "ciphers" set, enforced per connection (on_client_hello); unused
	 * (exact false) under a native "priority". suite_prio[i]: suite
	 * set.v[i] alone (TLS 1.2 suites only); prio13: the TLS 1.3 suites. */
	bool exact;
	struct ciphers_set set;
	gnutls_priority_t suite_prio[CIPHERS_MAX];
	gnutls_priority_t prio13;
};

/* ClientHello suites kept per handshake; a client offering more gets only
 * its first HELLO_SUITES_MAX considered. */
#define HELLO_SUITES_MAX 512

static struct tlsd_priority_opts priority_opts(const struct tlsd_config *cfg)
{
	return (struct tlsd_priority_opts){
		.ciphers = cfg->ciphers,
		.min_version = cfg->min_version,
		.max_version = cfg->max_version,
		.secure_protocol = cfg->secure_protocol,
		.ecdh_curve = cfg->ecdh_curve,
		.honor_cipher_order = cfg->honor_cipher_order,
	};
}

/* init_one_priority: <*out> for <which> of srv->set (ciphers_priority_text). */
static int init_one_priority(struct tls_server *srv, int which, gnutls_priority_t *out, struct tlsd_error *err)
{
	struct tlsd_priority_opts opts = priority_opts(srv->cfg);
	char *text = NULL;
	int rc;

	GUARD(ciphers_priority_text(&opts, &srv->set, which, &text, err));
	rc = gnutls_priority_init(out, text, NULL);
	free(text);
	if (rc < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "ciphers: GnuTLS rejects a priority: %s",
				      gnutls_strerror(rc));
	return TLSD_OK;
}

/* init_exact_set: the "ciphers" set as OpenSSL reads it, the union as the
 * text every session starts with, and one priority per TLS 1.2 suite and
 * one for the TLS 1.3 suites, built once. Suites OpenSSL selects that tlsd
 * cannot serve are named in the log. */
static int init_exact_set(struct tls_server *srv, struct tlsd_error *err)
{
	struct tlsd_priority_opts opts = priority_opts(srv->cfg);
	bool any13 = false;

	GUARD(ciphers_select(&opts, &srv->set, err));
	/* Node's default names suites GnuTLS lacks (ARIA, DSS, CCM_8): that
	 * is only news when the string is the operator's own. */
	if (srv->set.dropped[0] != '\0')
		log_msg(srv->cfg->ciphers && srv->cfg->ciphers[0] ? TLSD_LOG_WARN : TLSD_LOG_INFO,
			"ciphers: suites tlsd cannot serve are left out: %s", srv->set.dropped);
	GUARD(ciphers_priority_text(&opts, &srv->set, CIPHERS_PRIO_ALL, &srv->priority_text, err));
	srv->exact = true;
	for (size_t i = 0; i < srv->set.n; i++) {
		any13 |= srv->set.v[i].tls13;
		if (!srv->set.v[i].tls13)
			GUARD(init_one_priority(srv, (int)i, &srv->suite_prio[i], err));
	}
	if (any13)
		GUARD(init_one_priority(srv, CIPHERS_PRIO_TLS13, &srv->prio13, err));
	return TLSD_OK;
}

/* build_priority_text: the native "priority" wins (used as it is);
 * otherwise the exact set of the OpenSSL-style "ciphers". */
static int build_priority_text(struct tls_server *srv, struct tlsd_error *err)
{
	if (srv->cfg->priority == NULL)
		return init_exact_set(srv, err);
	srv->priority_text = strdup(srv->cfg->priority);
	return srv->priority_text ? TLSD_OK : TLSD_ERR_INTERNAL;
}

static int init_priority(struct tls_server *srv, struct tlsd_error *err)
{
	const char *errpos = NULL;
	int rc;

	GUARD(build_priority_text(srv, err));
	rc = gnutls_priority_init(&srv->priority, srv->priority_text, &errpos);
	if (rc < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: GnuTLS rejects the priority string at \"%s\": %s",
				      srv->cfg->priority ? "priority" : "ciphers", errpos ? errpos : "",
				      gnutls_strerror(rc));
	return TLSD_OK;
}

static int init_alpn(struct tls_server *srv)
{
	const struct tlsd_str_list *alpn = &srv->cfg->alpn;

	if (alpn->n == 0)
		return TLSD_OK;
	srv->alpn = calloc(alpn->n, sizeof(*srv->alpn));
	if (srv->alpn == NULL)
		return TLSD_ERR_INTERNAL;
	for (size_t i = 0; i < alpn->n; i++) {
		srv->alpn[i].data = (unsigned char *)alpn->items[i];
		srv->alpn[i].size = strlen(alpn->items[i]);
	}
	srv->n_alpn = alpn->n;
	return TLSD_OK;
}

int tls_server_new(const struct tlsd_config *cfg, const struct tlsd_creds *creds,
		   struct tls_server **out, struct tlsd_error *err)
{
	struct tls_server *srv = calloc(1, sizeof(*srv));
	int rc;

	*out = NULL;
	if (srv == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "out of memory");
	srv->cfg = cfg;
	srv->creds = creds;
	GUARD_GOTO(init_priority(srv, err), rc, out);
	GUARD_GOTO(init_alpn(srv), rc, out);
	*out = srv;
	srv = NULL;
out:
	tls_server_free(srv);
	return rc;
}

void tls_server_free(struct tls_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->priority != NULL)
		gnutls_priority_deinit(srv->priority);
	for (size_t i = 0; i < CIPHERS_MAX; i++)
		if (srv->suite_prio[i] != NULL)
			gnutls_priority_deinit(srv->suite_prio[i]);
	if (srv->prio13 != NULL)
		gnutls_priority_deinit(srv->prio13);
	free(srv->priority_text);
	free(srv->alpn);
	free(srv);
}

void tls_server_use_session_cache(struct tls_server *srv, struct session_cache *cache)
{
	srv->db.cache = cache;
	srv->db.context = srv->cfg->session_id_context ? srv->cfg->session_id_context : "";
}

const struct session_db *tls_server_session_db(const struct tls_server *srv)
{
	return &srv->db;
}

const char *tls_server_priority_text(const struct tls_server *srv)
{
	return srv->priority_text;
}

/* set_client_cert_mode: Node's requestCert/rejectUnauthorized. With
 * rejection GnuTLS verifies during the handshake and fails it (alert sent);
 * without, the result is only recorded (tls_session_describe). */
static void set_client_cert_mode(const struct tlsd_config *cfg, gnutls_session_t s)
{
	if (!cfg->request_cert)
		return;
	if (cfg->reject_unauthorized) {
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_cert(s, NULL, 0);
		return;
	}
	gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
}

/* The suites of the ClientHello being read, recorded by on_hello_message
 * and read by on_client_hello within the same gnutls_handshake call (GnuTLS
 * calls the hook when the whole message is in, then parses it and calls
 * the post-ClientHello function, without returning in between). <session>
 * says whose they are; thread-local, so no two handshakes share it. */
static _Thread_local struct {
	gnutls_session_t session;
	size_t n;
	uint8_t ids[2 * HELLO_SUITES_MAX];
	bool ffdhe;		/* supported_groups names an RFC 7919 group */
} hello;

#define EXT_SUPPORTED_GROUPS 10
#define GROUP_FFDHE_FIRST 0x0100	/* ffdhe2048 .. ffdhe8192 */
#define GROUP_FFDHE_LAST 0x0104

/* on_hello_ext: note an RFC 7919 group in supported_groups. */
static int on_hello_ext(void *ctx, unsigned tls_id, const unsigned char *data, unsigned size)
{
	unsigned group;

	if (tls_id != EXT_SUPPORTED_GROUPS || size < 2)
		return 0;
	for (unsigned k = 2; k + 1 < size; k += 2) {
		group = (unsigned)data[k] << 8 | data[k + 1];
		if (group >= GROUP_FFDHE_FIRST && group <= GROUP_FFDHE_LAST)
			hello.ffdhe = true;
	}
	return 0;
}

/* on_hello_message: record the cipher_suites of a ClientHello body (RFC
 * 8446 4.1.2: version, random, session id, suites). A malformed one is
 * left unrecorded: GnuTLS rejects it itself. */
static int on_hello_message(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
			    const gnutls_datum_t *msg)
{
	size_t pos = 2 + 32, len;

	hello.session = NULL;
	if (!incoming || msg->size < pos + 1)
		return 0;
	pos += 1 + msg->data[pos];
	if (msg->size < pos + 2)
		return 0;
	len = (size_t)msg->data[pos] << 8 | msg->data[pos + 1];
	pos += 2;
	if (msg->size < pos + len || len % 2 != 0)
		return 0;
	hello.n = len / 2 > HELLO_SUITES_MAX ? HELLO_SUITES_MAX : len / 2;
	memcpy(hello.ids, msg->data + pos, 2 * hello.n);
	hello.ffdhe = false;
	(void)gnutls_ext_raw_parse(NULL, on_hello_ext, msg, GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO);
	hello.session = s;
	return 0;
}

/* server_of: the tls_server of <s>: session_db_bind gave it srv->db. */
static const struct tls_server *server_of(gnutls_session_t s)
{
	const struct session_db_binding *b = gnutls_db_get_ptr(s);

	if (b == NULL || b->db == NULL)
		return NULL;
	return (const struct tls_server *)((const char *)b->db - offsetof(struct tls_server, db));
}

enum { AUTH_RSA_SIGN = 1, AUTH_RSA_ENC = 2, AUTH_EC_SIGN = 4, AUTH_DH = 8 };

/* cert_auth: what the certificates of <s>'s credentials can do (SNI's
 * when chosen): an RSA key signs and decrypts, RSA-PSS only signs, ECDSA
 * and EdDSA sign for ECDHE-ECDSA. AUTH_DH: DHE has a group, the client's
 * RFC 7919 one or the main credentials' "dhparam" (contexts have none). */
static unsigned cert_auth(const struct tls_server *srv, gnutls_session_t s)
{
	const struct tls_sni *sni = gnutls_session_get_ptr(s);

	gnutls_certificate_credentials_t cred = NULL;
	gnutls_datum_t der;
	gnutls_x509_crt_t crt;
	unsigned auth = 0;
	int pk;

	if (hello.ffdhe || (srv->cfg->dhparam != NULL && (sni == NULL || sni->held == NULL)))
		auth |= AUTH_DH;
	if (gnutls_credentials_get(s, GNUTLS_CRD_CERTIFICATE, (void **)&cred) < 0 || cred == NULL)
		return 0;
	for (unsigned i = 0; gnutls_certificate_get_crt_raw(cred, i, 0, &der) >= 0; i++) {
		if (gnutls_x509_crt_init(&crt) < 0)
			break;
		pk = gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) < 0
			     ? GNUTLS_PK_UNKNOWN : gnutls_x509_crt_get_pk_algorithm(crt, NULL);
		gnutls_x509_crt_deinit(crt);
		if (pk == GNUTLS_PK_RSA)
			auth |= AUTH_RSA_SIGN | AUTH_RSA_ENC;
		else if (pk == GNUTLS_PK_RSA_PSS)
			auth |= AUTH_RSA_SIGN;
		else if (pk == GNUTLS_PK_ECDSA || pk == GNUTLS_PK_EDDSA_ED25519 || pk == GNUTLS_PK_EDDSA_ED448)
			auth |= AUTH_EC_SIGN;
	}
	return auth;
}

static bool kx_served(gnutls_kx_algorithm_t kx, unsigned auth)
{
	switch (kx) {
	case GNUTLS_KX_RSA: return auth & AUTH_RSA_ENC;
	case GNUTLS_KX_DHE_RSA: return (auth & AUTH_RSA_SIGN) && (auth & AUTH_DH);
	case GNUTLS_KX_ECDHE_RSA: return auth & AUTH_RSA_SIGN;
	case GNUTLS_KX_ECDHE_ECDSA: return auth & AUTH_EC_SIGN;
	default: return false;
	}
}

/* set_index: the TLS 1.2 suite <id> of srv's set the certificates can
 * serve, or -1. */
static int set_index(const struct tls_server *srv, const uint8_t id[2], unsigned auth)
{
	for (size_t i = 0; i < srv->set.n; i++) {
		const struct ciphers_suite *e = &srv->set.v[i];

		if (!e->tls13 && e->id[0] == id[0] && e->id[1] == id[1])
			return kx_served(e->kx, auth) ? (int)i : -1;
	}
	return -1;
}

static bool offered(const uint8_t id[2])
{
	for (size_t k = 0; k < hello.n; k++)
		if (hello.ids[2 * k] == id[0] && hello.ids[2 * k + 1] == id[1])
			return true;
	return false;
}

/* choose_tls12: as OpenSSL does, the first suite in the server's order
 * (honorCipherOrder) or else the client's, among those both sides have and
 * the credentials can serve (GnuTLS would fail the handshake on one they
 * cannot, where OpenSSL passes over it); -1 when there is none. */
static int choose_tls12(const struct tls_server *srv, gnutls_session_t s)
{
	unsigned auth = cert_auth(srv, s);
	int i;

	if (srv->cfg->honor_cipher_order) {
		for (size_t k = 0; k < srv->set.n; k++)
			if (!srv->set.v[k].tls13 && kx_served(srv->set.v[k].kx, auth) && offered(srv->set.v[k].id))
				return (int)k;
		return -1;
	}
	for (size_t k = 0; k < hello.n; k++)
		if ((i = set_index(srv, &hello.ids[2 * k], auth)) >= 0)
			return i;
	return -1;
}

/* enforce_set: give <s> the priority that enables exactly the suites of
 * the "ciphers" set it may negotiate: TLS 1.3, the set's TLS 1.3 suites
 * (GnuTLS picks among them); TLS 1.2, the one suite choose_tls12 picks.
 * GnuTLS selects the suite after this callback, with the session's
 * priority then. A resumption by session ID keeps its suite. */
static int enforce_set(gnutls_session_t s)
{
	const struct tls_server *srv = server_of(s);
	int i;

	if (srv == NULL || !srv->exact || gnutls_session_is_resumed(s))
		return 0;
	if (gnutls_protocol_get_version(s) == GNUTLS_TLS1_3)
		return srv->prio13 ? gnutls_priority_set(s, srv->prio13) : GNUTLS_E_NO_CIPHER_SUITES;
	if (hello.session != s)
		return GNUTLS_E_NO_CIPHER_SUITES;
	i = choose_tls12(srv, s);
	if (i < 0)
		return GNUTLS_E_NO_CIPHER_SUITES;
	return gnutls_priority_set(s, srv->suite_prio[i]);
}

/* choose_sni: Node's default SNICallback: the context whose hostname
 * matches the server name gets the handshake, and its series the counts;
 * no SNI or no match, the "*" context when the default was replaced at
 * runtime. Runs again after a HelloRetryRequest: it drops what it chose
 * the first time. */
static int choose_sni(gnutls_session_t s)
{
	struct tls_sni *sni = gnutls_session_get_ptr(s);
	const struct tls_server *srv;
	char name[256];
	size_t len = sizeof(name) - 1;
	unsigned type = 0;

	if (sni == NULL)
		return 0;
	memset(name, 0, sizeof(name));
	if (gnutls_server_name_get(s, name, &len, &type, 0) < 0 || type != GNUTLS_NAME_DNS)
		name[0] = '\0';
	if (sni->map == NULL) {
		sni->series = name[0] == '\0' ? CONTEXT_SERIES_DEFAULT : CONTEXT_SERIES_OTHER;
		return 0;
	}
	tls_sni_release(sni);
	sni->held = sni_map_acquire(sni->map, name, &sni->series);
	if (sni->held != NULL)
		return gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, sni_creds_gnutls(sni->held));
	/* After a HelloRetryRequest the session may still point at what was
	 * just released: back to the config's credentials. */
	srv = server_of(s);
	return srv != NULL ? gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds_gnutls(srv->creds)) : 0;
}

/* on_client_hello: credentials by SNI first (the suite depends on the
 * certificate), then the cipher set. */
static int on_client_hello(gnutls_session_t s)
{
	int rc = choose_sni(s);

	return rc < 0 ? rc : enforce_set(s);
}

/* watch_client_hello: record <s>'s ClientHello suites for enforce_set. */
static void watch_client_hello(const struct tls_server *srv, gnutls_session_t s)
{
	gnutls_handshake_set_post_client_hello_function(s, on_client_hello);
	if (srv->exact)
		gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_PRE,
						   on_hello_message);
}

void tls_sni_release(struct tls_sni *sni)
{
	sni_creds_release(sni->held);
	sni->held = NULL;
}

int tls_session_new(const struct tls_server *srv, const struct ticket_key_copy *ticket,
		    struct session_db_binding *db, struct tls_sni *sni, struct tls_transport *transport,
		    gnutls_session_t *out)
{
	/* GnuTLS copies the key into the session: it keeps it whatever the
	 * worker's copy becomes later. */
	gnutls_datum_t ticket_key = { (unsigned char *)ticket_key_copy_active(ticket), TICKET_MASTER_SIZE };
	gnutls_session_t s = NULL;
	/* TLS 1.3 tickets: tls_session_send_tickets, after the handshake. */
	int rc = gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL | GNUTLS_NO_AUTO_SEND_TICKET);

	if (rc >= 0)
		rc = gnutls_priority_set(s, srv->priority);
	if (rc >= 0)
		rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds_gnutls(srv->creds));
	if (rc >= 0)
		rc = gnutls_session_ticket_enable_server(s, &ticket_key);
	if (rc >= 0 && srv->n_alpn > 0)
		rc = gnutls_alpn_set_protocols(s, srv->alpn, srv->n_alpn, GNUTLS_ALPN_SERVER_PRECEDENCE);
	if (rc < 0) {
		if (s != NULL)
			gnutls_deinit(s);
		*out = NULL;
		return TLSD_ERR_INTERNAL;
	}
	set_client_cert_mode(srv->cfg, s);
	db->db = &srv->db;
	session_db_bind(s, db);
	gnutls_session_set_ptr(s, sni);
	watch_client_hello(srv, s);
	gnutls_db_set_cache_expiration(s, (int)srv->cfg->session_timeout_s);
	/* The worker's own timer enforces handshakeTimeout. */
	gnutls_handshake_set_timeout(s, 0);
	/* GnuTLS checks this once a whole message is in; the transport's
	 * input limit (conn.c) stops a stranger's 16 MiB claim before that. */
	gnutls_handshake_set_max_packet_length(s, srv->cfg->max_handshake_size);
	tls_transport_attach(transport, s);
	*out = s;
	return TLSD_OK;
}

int tls_session_use_ticket_master(gnutls_session_t s, const unsigned char *master)
{
	gnutls_datum_t key = { (unsigned char *)master, TICKET_MASTER_SIZE };

	return gnutls_session_ticket_enable_server(s, &key) < 0 ? TLSD_ERR_INTERNAL : TLSD_OK;
}

int tls_session_send_tickets(gnutls_session_t s)
{
	unsigned n = gnutls_session_is_resumed(s) ? TICKETS_AFTER_RESUMPTION : TICKETS_AFTER_FULL;
	int rc;

	if (gnutls_protocol_get_version(s) != GNUTLS_TLS1_3)
		return TLSD_OK;
	rc = gnutls_session_ticket_send(s, n, 0);
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
		return TLSD_ERR_AGAIN;
	return rc < 0 ? TLSD_ERR_PROTO : TLSD_OK;
}

const char *tls_protocol_name(gnutls_protocol_t v)
{
	switch (v) {
	case GNUTLS_TLS1_3: return "TLSv1.3";
	case GNUTLS_TLS1_2: return "TLSv1.2";
	case GNUTLS_TLS1_1: return "TLSv1.1";
	case GNUTLS_TLS1_0: return "TLSv1";
	default: return "unknown";
	}
}

/* tls12_suite_id: find the IANA id of the TLS 1.2 suite in use by its
 * key exchange, cipher and MAC (GnuTLS has no direct getter). */
static int tls12_suite_id(gnutls_session_t s, unsigned char id[2])
{
	gnutls_kx_algorithm_t kx = gnutls_kx_get(s), kx_i;
	gnutls_cipher_algorithm_t cipher = gnutls_cipher_get(s), cipher_i;
	gnutls_mac_algorithm_t mac = gnutls_mac_get(s), mac_i;
	gnutls_protocol_t min;

	for (size_t i = 0; gnutls_cipher_suite_info(i, id, &kx_i, &cipher_i, &mac_i, &min) != NULL; i++)
		if (kx_i == kx && cipher_i == cipher && mac_i == mac && kx_i != GNUTLS_KX_UNKNOWN)
			return TLSD_OK;
	return TLSD_ERR_INTERNAL;
}

void tls_cipher_name(gnutls_session_t s, char *out, size_t size)
{
	unsigned char id[2];
	const char *name = NULL;

	/* TLS 1.3 suite names are the same in IANA and OpenSSL spelling. */
	if (gnutls_protocol_get_version(s) != GNUTLS_TLS1_3 && tls12_suite_id(s, id) == TLSD_OK)
		name = ciphers_openssl_name(id[0], id[1]);
	if (name == NULL)
		name = gnutls_ciphersuite_get(s);
	snprintf(out, size, "%s", name ? name : "unknown");
}

static void describe_cipher(gnutls_session_t s, struct tls_info *info)
{
	tls_cipher_name(s, info->cipher, sizeof(info->cipher));
}

static void describe_names(gnutls_session_t s, struct tls_info *info)
{
	gnutls_datum_t alpn;
	size_t len = sizeof(info->servername) - 1;
	unsigned type = 0;

	info->alpn[0] = '\0';
	if (gnutls_alpn_get_selected_protocol(s, &alpn) == 0)
		snprintf(info->alpn, sizeof(info->alpn), "%.*s", (int)alpn.size, alpn.data);
	memset(info->servername, 0, sizeof(info->servername));
	if (gnutls_server_name_get(s, info->servername, &len, &type, 0) < 0 || type != GNUTLS_NAME_DNS)
		info->servername[0] = '\0';
}

const char *tls_verify_error_code(unsigned status)
{
	static const struct {
		unsigned bit;
		const char *code;
	} codes[] = {
		{ GNUTLS_CERT_REVOKED, "CERT_REVOKED" },
		{ GNUTLS_CERT_EXPIRED, "CERT_HAS_EXPIRED" },
		{ GNUTLS_CERT_NOT_ACTIVATED, "CERT_NOT_YET_VALID" },
		{ GNUTLS_CERT_SIGNER_NOT_FOUND, "UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
		{ GNUTLS_CERT_SIGNER_NOT_CA, "INVALID_CA" },
		{ GNUTLS_CERT_SIGNATURE_FAILURE, "CERT_SIGNATURE_FAILURE" },
		{ GNUTLS_CERT_INSECURE_ALGORITHM, "CERT_SIGNATURE_FAILURE" },
		{ GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED, "CRL_HAS_EXPIRED" },
		{ GNUTLS_CERT_PURPOSE_MISMATCH, "INVALID_PURPOSE" },
	};

	if (status == 0)
		return "";
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (status & codes[i].bit)
			return codes[i].code;
	return "CERT_REJECTED";
}

/* describe_peer: Node's authorized/authorizationError. A missing client
 * certificate reads as OpenSSL's UNABLE_TO_GET_ISSUER_CERT, as in Node. */
static void describe_peer(const struct tls_server *srv, gnutls_session_t s, struct tls_info *info)
{
	unsigned status = 0;
	int rc;

	info->peer_certificate = gnutls_certificate_get_peers(s, &(unsigned){ 0 }) != NULL;
	info->authorized = false;
	info->authorization_error[0] = '\0';
	if (!srv->cfg->request_cert)
		return;
	if (!info->peer_certificate) {
		snprintf(info->authorization_error, sizeof(info->authorization_error),
			 "UNABLE_TO_GET_ISSUER_CERT");
		return;
	}
	rc = gnutls_certificate_verify_peers3(s, NULL, &status);
	if (rc < 0)
		status = GNUTLS_CERT_INVALID;
	info->authorized = status == 0;
	snprintf(info->authorization_error, sizeof(info->authorization_error), "%s",
		 tls_verify_error_code(status));
}

/* resumed_from_cache: TLS 1.2 resumes by session ID when the cache had it
 * (GnuTLS looks the ID up before it tries a ticket); TLS 1.3 by ticket only. */
static bool resumed_from_cache(gnutls_session_t s)
{
	const struct session_db_binding *b = gnutls_db_get_ptr(s);

	return b != NULL && b->hit && gnutls_protocol_get_version(s) != GNUTLS_TLS1_3;
}

void tls_session_describe(const struct tls_server *srv, gnutls_session_t s, struct tls_info *info)
{
	snprintf(info->protocol, sizeof(info->protocol), "%s", tls_protocol_name(gnutls_protocol_get_version(s)));
	describe_cipher(s, info);
	describe_names(s, info);
	info->resumed = gnutls_session_is_resumed(s) != 0;
	info->resumed_session_id = info->resumed && resumed_from_cache(s);
	describe_peer(srv, s, info);
}
