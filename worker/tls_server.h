/* tls_server.h - what every TLS session of this server shares, and the
 * setup and description of one session.
 *
 * Built once in the master before fork (so --check validates the priority);
 * each worker then makes one gnutls_session_t per accepted connection from
 * it, read-only. The ticket keys live in shared memory (common/ticket_keys)
 * and reach a session through the worker's copy.
 */
#ifndef TLSD_WORKER_TLS_SERVER_H
#define TLSD_WORKER_TLS_SERVER_H

#include <stdbool.h>

#include <gnutls/gnutls.h>

#include "common/config.h"
#include "common/creds.h"
#include "common/err.h"
#include "common/session_cache.h"
#include "common/ticket_keys.h"
#include "worker/session_db.h"
#include "worker/tls_transport.h"
#include "worker/sni_map.h"

struct tls_server;

/* What a connection negotiated, captured once after the handshake
 * (Node's TLSSocket properties of the same names). */
struct tls_info {
	char protocol[16];		/* "TLSv1.3" */
	char cipher[64];		/* OpenSSL-style name */
	char alpn[256];			/* "" when none */
	char servername[256];		/* SNI, "" when none */
	bool resumed;
	bool resumed_session_id;	/* ... from the session-ID cache (else by ticket) */
	bool peer_certificate;		/* the client sent a certificate */
	bool authorized;		/* ... and it verified against ca/crl */
	char authorization_error[48];	/* OpenSSL code name, "" when authorized */
};

/* tls_server_new: build the shared priority and options from
 * <cfg>; <creds> must outlive the server. Errors name the config key
 * ("priority: syntax error at \"FOO\"", "ticketKeys: ..."). */
int tls_server_new(const struct tlsd_config *cfg, const struct tlsd_creds *creds,
		   struct tls_server **out, struct tlsd_error *err) TLSD_MUST_CHECK;

/* tls_server_use_session_cache: resume TLS 1.2 session IDs through the
 * shared <cache> (created before fork; NULL: no cache). */
void tls_server_use_session_cache(struct tls_server *srv, struct session_cache *cache);

/* tls_server_free: release <srv> (NULL is fine). */
void tls_server_free(struct tls_server *srv);

/* tls_server_session_db: the session-ID cache and the sessionIdContext
 * its sessions carry (cache NULL: no cache). */
const struct session_db *tls_server_session_db(const struct tls_server *srv);

/* tls_server_priority_text: the GnuTLS priority string in use. */
const char *tls_server_priority_text(const struct tls_server *srv);

/* One session's SNI choice: the worker's map, the context credentials
 * the session holds a reference to (release with tls_sni_release), and
 * the common/context_stats series the server name counts in (set when the
 * ClientHello is read; start it at CONTEXT_SERIES_NONE). */
struct tls_sni {
	struct sni_map *map;		/* NULL: no SNI contexts */
	struct sni_creds *held;
	int series;
};

/* tls_session_new: a server session on the connected socket of
 * <transport> (which writes its records; see tls_transport.h), ready
 * for gnutls_handshake, issuing and accepting tickets under <ticket> (the
 * worker's copy of the shared keys; GnuTLS copies it into the session),
 * using the session-ID cache through <db> and choosing credentials by SNI
 * through <sni> (all three per connection; they must outlive the session;
 * the session's user pointer is <sni>). Handshake messages longer than the
 * config's maxHandshakeSize fail the handshake. TLSD_ERR_INTERNAL when
 * GnuTLS refuses. */
int tls_session_new(const struct tls_server *srv, const struct ticket_key_copy *ticket,
		    struct session_db_binding *db, struct tls_sni *sni, struct tls_transport *transport,
		    gnutls_session_t *out) TLSD_MUST_CHECK;

/* tls_session_use_ticket_master: before the first gnutls_handshake of <s>,
 * decrypt and issue its tickets under <master> (64 bytes) instead of the
 * active key: a ring entry the client's ticket names. GnuTLS allows this
 * only before it used the key (lib/stek.c). TLSD_ERR_INTERNAL if refused. */
int tls_session_use_ticket_master(gnutls_session_t s, const unsigned char *master) TLSD_MUST_CHECK;

/* tls_session_send_tickets: after a TLS 1.3 handshake of <s>, send its
 * session tickets (2 after a full handshake, 1 after a resumption); nothing
 * for TLS 1.2 (its ticket is part of the handshake). TLSD_ERR_AGAIN: the
 * socket is full, call again with the same session when it is writable;
 * TLSD_ERR_PROTO: GnuTLS failed. */
int tls_session_send_tickets(gnutls_session_t s) TLSD_MUST_CHECK;

/* tls_sni_release: drop the context credentials <sni> holds (after the
 * session is gone). */
void tls_sni_release(struct tls_sni *sni);

/* tls_cipher_name: Node's (OpenSSL's) name of the suite <s> negotiated,
 * "ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_256_GCM_SHA384", into <out>. */
void tls_cipher_name(gnutls_session_t s, char *out, size_t size);

/* tls_protocol_name: Node's name of <v> ("TLSv1.3", "TLSv1.2", ...), or
 * "unknown". */
const char *tls_protocol_name(gnutls_protocol_t v);

/* tls_session_describe: fill <info> from the finished handshake of <s>. */
void tls_session_describe(const struct tls_server *srv, gnutls_session_t s, struct tls_info *info);

/* tls_verify_error_code: Node/OpenSSL's name for GnuTLS verification
 * <status> bits ("CERT_HAS_EXPIRED", ...); "" for 0. */
const char *tls_verify_error_code(unsigned status);

#endif
