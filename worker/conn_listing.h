/* conn_listing.h - what GET /v1/connections shows of this worker's
 * connections: one record per connection in common/conn_table, written
 * when the connection is accepted and again when its handshake is done,
 * byte counts as bytes move, freed at close. Records are built from the
 * connection's own fields each time, so a connection keeps no copy. */
#ifndef TLSD_WORKER_CONN_LISTING_H
#define TLSD_WORKER_CONN_LISTING_H

#include <stdint.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>

#include "common/conn_table.h"
#include "worker/tls_server.h"

/* A connection's place in the table. */
struct conn_listing {
	struct conn_table *table;	/* NULL: not listed */
	int worker;			/* 0-based region */
	uint32_t index;
	uint64_t id;
};

/* What a record is built from. */
struct conn_listing_facts {
	int fd;
	int pid;			/* the worker's */
	const struct sockaddr *peer;
	socklen_t peer_len;
	double started;			/* unix time, seconds */
	const struct tls_info *info;	/* NULL: still handshaking */
	gnutls_session_t session;	/* for the peer certificate; NULL with info */
};

/* conn_listing_open: list a new connection; <id> must be unique. */
void conn_listing_open(struct conn_listing *l, struct conn_table *table, int worker, uint64_t id,
		       const struct conn_listing_facts *f);

/* conn_listing_handshake_done: add what the handshake negotiated. */
void conn_listing_handshake_done(struct conn_listing *l, const struct conn_listing_facts *f);

/* conn_listing_backend: the backend side is up: <address> (as
 * configured), over <btls> (NULL: cleartext), whose chain and name were
 * checked when <verified>. */
void conn_listing_backend(struct conn_listing *l, const char *address, gnutls_session_t btls, bool verified);

/* conn_listing_bytes: <in> bytes read from and <out> written to the client. */
void conn_listing_bytes(struct conn_listing *l, uint64_t in, uint64_t out);

/* conn_listing_close: the connection is gone. */
void conn_listing_close(struct conn_listing *l);

#endif
