/* backend_tls.c - the GnuTLS client side of backend mode. */
#include "worker/backend_tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ciphers.h"
#include "common/creds.h"
#include "common/log.h"

#define ALPN_MAX 16

struct backend_tls {
	struct tlsd_creds *creds;
	gnutls_priority_t priority;
	char name[256];		/* checked, and sent as SNI unless an IP address */
	bool sni;
	bool verify;		/* rejectUnauthorized */
	bool check_name;	/* checkServerIdentity */
	bool resume;		/* session */
	gnutls_datum_t alpn[ALPN_MAX];
	unsigned n_alpn;
	gnutls_datum_t saved;	/* this worker's last session from the backend */
	bool exact;		/* backend.tls.ciphers given: only <set> may be negotiated */
	struct ciphers_set set;
};

static bool is_ip(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* under_backend_tls: <err>'s message (which names "ciphers" or
 * "minVersion") as the key it is under, "backend.tls.ciphers: ...". */
static int under_backend_tls(struct tlsd_error *err, int rc)
{
	char msg[sizeof(err->msg)];

	snprintf(msg, sizeof(msg), "%s", err->msg);
	return tlsd_error_set(err, rc, "backend.tls.%s", msg);
}

/* init_priority: without backend.tls.ciphers, GnuTLS's NORMAL (TLS 1.2 and
 * 1.3). With it, the string read by OpenSSL's parser as Node's
 * tls.connect reads it: the ClientHello offers the GnuTLS union of the
 * set (a priority cannot name single suites), and the server's choice is
 * checked against the set itself (check_suite). */
static int init_priority(struct backend_tls *bt, const struct tlsd_config *cfg, struct tlsd_error *err)
{
	struct tlsd_priority_opts opts = { .ciphers = cfg->btls_ciphers, .min_version = cfg->btls_min_version };
	bool only13 = cfg->btls_min_version != NULL && strcmp(cfg->btls_min_version, "TLSv1.3") == 0;
	const char *text = only13 ? "NORMAL:-VERS-ALL:+VERS-TLS1.3" : "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
	char *exact = NULL;
	int rc;

	if (cfg->btls_ciphers != NULL) {
		rc = ciphers_select(&opts, &bt->set, err);
		if (rc == TLSD_OK)
			rc = ciphers_priority_text(&opts, &bt->set, CIPHERS_PRIO_ALL, &exact, err);
		if (rc < 0)
			return under_backend_tls(err, rc);
		if (bt->set.dropped[0] != '\0')
			log_warn("backend.tls.ciphers: suites tlsd cannot offer are left out: %s", bt->set.dropped);
		bt->exact = true;
		text = exact;
	}
	rc = gnutls_priority_init(&bt->priority, text, NULL) < 0
		? tlsd_error_set(err, TLSD_ERR_INTERNAL, "backend.tls: GnuTLS refuses \"%s\"", text) : TLSD_OK;
	free(exact);
	return rc;
}

static void init_alpn(struct backend_tls *bt, const struct tlsd_config *cfg)
{
	for (size_t i = 0; i < cfg->btls_alpn.n && bt->n_alpn < ALPN_MAX; i++) {
		bt->alpn[bt->n_alpn].data = (unsigned char *)cfg->btls_alpn.items[i];
		bt->alpn[bt->n_alpn++].size = (unsigned)strlen(cfg->btls_alpn.items[i]);
	}
}

int backend_tls_new(const struct tlsd_config *cfg, const char *host, struct backend_tls **out, struct tlsd_error *err)
{
	struct tlsd_context_config client = {
		.keys = cfg->btls_keys, .certs = cfg->btls_certs, .ca = cfg->btls_ca,
		.passphrase = cfg->btls_passphrase,
	};
	struct backend_tls *bt = calloc(1, sizeof(*bt));
	int rc;

	*out = NULL;
	if (bt == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "backend.tls: out of memory");
	snprintf(bt->name, sizeof(bt->name), "%s", cfg->btls_servername ? cfg->btls_servername : host);
	bt->sni = bt->name[0] != '\0' && !is_ip(bt->name);
	bt->verify = cfg->btls_reject_unauthorized;
	bt->check_name = cfg->btls_check_identity && bt->name[0] != '\0';
	bt->resume = cfg->btls_session;
	init_alpn(bt, cfg);
	rc = creds_load_client(&client, "backend.tls.", &bt->creds, err);
	if (rc == TLSD_OK)
		rc = init_priority(bt, cfg, err);
	if (rc < 0) {
		backend_tls_free(bt);
		return rc;
	}
	*out = bt;
	return TLSD_OK;
}

void backend_tls_free(struct backend_tls *bt)
{
	if (bt == NULL)
		return;
	creds_free(bt->creds);
	if (bt->priority != NULL)
		gnutls_priority_deinit(bt->priority);
	gnutls_free(bt->saved.data);
	free(bt);
}

/* keep_session: the backend sent a ticket (TLS 1.3, after the handshake;
 * in TLS 1.2 within it): keep the session it makes resumable. */
static int keep_session(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
			const gnutls_datum_t *msg)
{
	struct backend_tls *bt = gnutls_session_get_ptr(s);
	gnutls_datum_t data = { NULL, 0 };

	if (bt == NULL || !bt->resume || gnutls_session_get_data2(s, &data) < 0)
		return 0;
	gnutls_free(bt->saved.data);
	bt->saved = data;
	return 0;
}

/* server_hello_suite: the cipher suite a ServerHello body <msg> names
 * (version 2, random 32, session id length 1 + id, then the suite).
 * false when the message is too short. */
static bool server_hello_suite(const gnutls_datum_t *msg, uint8_t id[2])
{
	size_t at = 2 + 32;

	if (msg == NULL || msg->size < at + 1)
		return false;
	at += 1 + msg->data[at];
	if (msg->size < at + 2)
		return false;
	id[0] = msg->data[at];
	id[1] = msg->data[at + 1];
	return true;
}

static bool in_set(const struct backend_tls *bt, const uint8_t id[2])
{
	for (size_t i = 0; i < bt->set.n; i++)
		if (bt->set.v[i].id[0] == id[0] && bt->set.v[i].id[1] == id[1])
			return true;
	return false;
}

/* check_suite: once the ServerHello is in, refuse a suite outside
 * backend.tls.ciphers (the ClientHello offered the GnuTLS union of the
 * set): the handshake fails before anything is sent under it. The suite
 * is read from the message: GnuTLS's own getters describe the record
 * layer, which has no cipher yet at this point. */
static int check_suite(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
		       const gnutls_datum_t *msg)
{
	const struct backend_tls *bt = gnutls_session_get_ptr(s);
	const char *name;
	uint8_t id[2];

	(void)htype;
	(void)when;
	if (bt == NULL || !bt->exact || !incoming)
		return 0;
	if (!server_hello_suite(msg, id))
		return GNUTLS_E_UNEXPECTED_PACKET_LENGTH;
	if (in_set(bt, id))
		return 0;
	name = ciphers_openssl_name(id[0], id[1]);
	log_warn("backend.tls.ciphers: the backend chose %s (0x%02X,0x%02X), which the list does not allow",
		 name ? name : "a suite", id[0], id[1]);
	return GNUTLS_E_UNKNOWN_CIPHER_SUITE;
}

static int set_verification(struct backend_tls *bt, gnutls_session_t s)
{
	if (bt->sni && gnutls_server_name_set(s, GNUTLS_NAME_DNS, bt->name, strlen(bt->name)) < 0)
		return TLSD_ERR_INTERNAL;
	if (bt->verify)
		gnutls_session_set_verify_cert(s, bt->check_name ? bt->name : NULL, 0);
	return TLSD_OK;
}

static int set_alpn(struct backend_tls *bt, gnutls_session_t s, const char *alpn)
{
	gnutls_datum_t one;

	if (alpn != NULL && alpn[0] != '\0') {
		one = (gnutls_datum_t){ (unsigned char *)alpn, (unsigned)strlen(alpn) };
		return gnutls_alpn_set_protocols(s, &one, 1, 0) < 0 ? TLSD_ERR_INTERNAL : TLSD_OK;
	}
	if (bt->n_alpn == 0)
		return TLSD_OK;
	return gnutls_alpn_set_protocols(s, bt->alpn, bt->n_alpn, 0) < 0 ? TLSD_ERR_INTERNAL : TLSD_OK;
}

int backend_tls_session(struct backend_tls *bt, int fd, const char *alpn, gnutls_session_t *out)
{
	gnutls_session_t s = NULL;
	int rc = gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0 ? TLSD_ERR_INTERNAL : TLSD_OK;

	if (rc == TLSD_OK && gnutls_priority_set(s, bt->priority) < 0)
		rc = TLSD_ERR_INTERNAL;
	if (rc == TLSD_OK && gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, creds_gnutls(bt->creds)) < 0)
		rc = TLSD_ERR_INTERNAL;
	if (rc == TLSD_OK)
		rc = set_verification(bt, s);
	if (rc == TLSD_OK)
		rc = set_alpn(bt, s, alpn);
	if (rc < 0) {
		if (s != NULL)
			gnutls_deinit(s);
		*out = NULL;
		return rc;
	}
	if (bt->resume && bt->saved.size > 0)
		(void)gnutls_session_set_data(s, bt->saved.data, bt->saved.size);
	gnutls_session_set_ptr(s, bt);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_NEW_SESSION_TICKET, GNUTLS_HOOK_POST, keep_session);
	if (bt->exact)
		gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_SERVER_HELLO, GNUTLS_HOOK_POST, check_suite);
	gnutls_handshake_set_timeout(s, 0);	/* the connection's own timer bounds it */
	gnutls_transport_set_int(s, fd);
	*out = s;
	return TLSD_OK;
}

enum backend_tls_failure backend_tls_failure_of(gnutls_session_t s, int rc, char *detail, size_t size)
{
	unsigned status = rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ? gnutls_session_get_verify_cert_status(s) : 0;

	snprintf(detail, size, "%s", gnutls_strerror(rc));
	if (status == 0)
		return BACKEND_TLS_HANDSHAKE;
	if (status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED))
		return BACKEND_TLS_EXPIRED;
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		return BACKEND_TLS_UNKNOWN_CA;
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		return BACKEND_TLS_NAME_MISMATCH;
	return BACKEND_TLS_BAD_CERTIFICATE;
}

const char *backend_tls_failure_name(enum backend_tls_failure f)
{
	static const char *const names[] = { "expired", "unknown_ca", "name_mismatch", "bad_certificate",
					     "handshake" };

	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "handshake";
}

void backend_tls_handshake_done(struct backend_tls *bt, gnutls_session_t s)
{
	if (gnutls_protocol_get_version(s) != GNUTLS_TLS1_3 && !gnutls_session_is_resumed(s))
		(void)keep_session(s, 0, 0, 0, NULL);
}

bool backend_tls_verified(const struct backend_tls *bt)
{
	return bt->verify;
}

const char *backend_tls_name(const struct backend_tls *bt)
{
	return bt->name;
}
