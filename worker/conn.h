/* conn.h - one client connection, from accept to close.
 *
 * States: HANDSHAKE (under handshakeTimeout) -> CONNECTING (backend mode:
 * the backend socket is connecting) -> OPEN (the pump moves bytes both
 * ways) <-> RENEGOTIATING (a client-initiated TLS 1.2 renegotiation within
 * the limit). Every path out goes through one close function, which writes
 * the access-log line (or the clientError line) with the close reason.
 */
#ifndef TLSD_WORKER_CONN_H
#define TLSD_WORKER_CONN_H

#include <stdbool.h>
#include <sys/socket.h>

#include <ev.h>

#include "common/cluster_stats.h"
#include "common/config.h"
#include "common/conn_table.h"
#include "common/context_stats.h"
#include "worker/access_log.h"
#include "worker/backend.h"
#include "worker/tls_server.h"

struct conn;

/* What every connection of a worker shares; owned by the worker. */
struct conn_env {
	struct ev_loop *loop;
	const struct tlsd_config *cfg;
	const struct tls_server *tls;
	const struct backend *backend;	/* NULL: echo mode */
	const struct access_log *log;
	struct ticket_key_copy *ticket_key;	/* for new sessions (and its names cache) */
	struct sni_map *sni;		/* SNI contexts; NULL: none */
	struct session_store *store;	/* sessionStore (Redis); NULL: none */
	struct cluster_stats *stats;	/* counters: this worker's slot */
	struct context_stats *context_stats;	/* ... by SNI context, the same slot */
	int slot;
	struct conn_table *conn_table;	/* GET /v1/connections; NULL: not listed */
	uint64_t conn_seq;		/* numbers this worker's connections */
	/* on_close: called once when <c> is gone (after its line was logged). */
	void (*on_close)(struct conn_env *env, struct conn *c);
	void *owner;
};

/* conn_start: take over the accepted socket <fd> from <peer> and start the
 * handshake. On failure <fd> is closed and NULL returned. */
struct conn *conn_start(struct conn_env *env, int fd, const struct sockaddr *peer, socklen_t peer_len);

/* conn_abort: close <c> at once with close reason <reason> (e.g. "shutdown"
 * when the drain deadline passes). <c> is freed. */
void conn_abort(struct conn *c, const char *reason);

/* conn_list_next / conn_list_link / conn_list_unlink: the worker's list of
 * its open connections (the links live in the connection). */
struct conn *conn_list_next(const struct conn *c);
void conn_list_link(struct conn **head, struct conn *c);
void conn_list_unlink(struct conn **head, struct conn *c);

#endif
