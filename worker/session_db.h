/* session_db.h - GnuTLS's session database hooks bound to the shared
 * session-ID cache (common/session_cache), so a TLS 1.2 client resumes its
 * session ID on any worker.
 *
 * GnuTLS calls store only after a TLS 1.2 full handshake that sent no
 * ticket, and TLS 1.3 never uses the cache (resumption there is by ticket
 * only). Each stored blob starts with the sessionIdContext, and a fetch
 * whose context differs is a miss (OpenSSL's and Node's meaning of it).
 */
#ifndef TLSD_WORKER_SESSION_DB_H
#define TLSD_WORKER_SESSION_DB_H

#include <stdbool.h>

#include <gnutls/gnutls.h>

#include "common/session_cache.h"
#include "worker/session_store.h"

struct session_db {
	struct session_cache *cache;	/* shared; NULL or capacity 0: disabled */
	const char *context;		/* sessionIdContext, "" when none */
};

/* One session's use of the cache: which cache, and whether a fetch found
 * this session's ID there (so a resumption was by session ID, not ticket). */
struct session_db_binding {
	const struct session_db *db;
	struct session_store *store;	/* Redis, written behind; NULL: none */
	bool hit;
};

/* session_db_bind: make <s> store, fetch and remove sessions through
 * <b>->db; <b> must outlive the session (gnutls_db_get_ptr returns it). */
void session_db_bind(gnutls_session_t s, struct session_db_binding *b);

#endif
