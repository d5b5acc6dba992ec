/* session_store.h - the second level of the session-ID cache: a Redis
 * server several tlsd machines share (sessionStore), so a TLS 1.2 client
 * that resumes by session ID does so on any machine.
 *
 * The shared-memory cache (common/session_cache) stays the first level.
 * GnuTLS's database hooks cannot wait, so a worker asks Redis before the
 * handshake (the session ID is read from the ClientHello ahead of GnuTLS,
 * worker/conn.c), and puts a found entry into the shared-memory cache,
 * where GnuTLS's fetch finds it. New sessions are written behind (SET with
 * EX = the time the session has left). One asynchronous connection per
 * worker (hiredis on the worker's libev loop).
 *
 * Nothing from Redis is trusted blindly: an entry is "TLSD1", its expiry
 * (8 bytes, big-endian unix seconds), then the shared-memory cache's blob
 * (the sessionIdContext first); a wrong magic, a size over the cache's
 * limit, a past expiry or another context is refused (counted) and the
 * handshake goes on as a miss.
 *
 * Redis slow or down costs a handshake at most SESSION_STORE_WAIT_MS: the
 * connection then goes on from shared memory alone. One warning per outage;
 * reconnection with back-off (100 ms doubling to 10 s).
 */
#ifndef TLSD_WORKER_SESSION_STORE_H
#define TLSD_WORKER_SESSION_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "common/cluster_stats.h"
#include "common/config.h"
#include "common/err.h"

#define SESSION_STORE_WAIT_MS 50	/* a handshake waits this long for Redis at most */

struct session_store;
struct session_store_lookup;

/* session_store_new: connect (asynchronously) to <cfg>'s sessionStore on
 * <loop>, counting in <stats> slot <slot>. *<out> NULL when the config has
 * no store. TLSD_ERR_INTERNAL when out of memory; a server that is down is
 * no error (the store reconnects). */
int session_store_new(struct ev_loop *loop, const struct tlsd_config *cfg, struct cluster_stats *stats,
		      int slot, struct session_store **out) TLSD_MUST_CHECK;

/* session_store_free: close the connection; pending lookups are answered
 * as misses. NULL is fine. */
void session_store_free(struct session_store *st);

/* session_store_put: write <blob> (<len> bytes, the shared-memory cache's
 * format) for session ID <id> behind, expiring at <expires>; nothing
 * happens while the store is down. */
void session_store_put(struct session_store *st, const uint8_t *id, size_t id_len, const uint8_t *blob,
		       size_t len, int64_t expires);

/* The answer of a lookup: <blob> (NULL: none) and its expiry, for <arg>. */
typedef void (*session_store_found_fn)(void *arg, const uint8_t *blob, size_t len, int64_t expires);

/* session_store_get: look session ID <id> up; <found> is called once,
 * later (never from inside this call), with the entry when Redis had a
 * valid one for <context> (the sessionIdContext), else with NULL (a miss,
 * a refused entry, an error or the store down). Returns the lookup, which
 * session_store_abandon drops before the answer (the caller went away, or
 * stopped waiting: <found> is not called then); NULL when out of memory
 * (treat as a miss at once). */
struct session_store_lookup *session_store_get(struct session_store *st, const uint8_t *id, size_t id_len,
					       const char *context, session_store_found_fn found, void *arg);

/* session_store_abandon: <found> will not be called for <l>. */
void session_store_abandon(struct session_store_lookup *l);

/* session_store_entry_check: the blob of the Redis value <v> (<len>
 * bytes) when it is a valid, unexpired entry for <context> at <now>:
 * TLSD_OK with *<blob>, *<blob_len> and *<expires> set; else
 * TLSD_ERR_PROTO. Pure; for the store and its tests. */
int session_store_entry_check(const uint8_t *v, size_t len, const char *context, int64_t now,
			      const uint8_t **blob, size_t *blob_len, int64_t *expires) TLSD_MUST_CHECK;

/* session_store_entry_make: the Redis value for <blob> into <out> (room
 * for SESSION_STORE_ENTRY_MAX bytes); its length, or 0 when too large. */
#define SESSION_STORE_ENTRY_MAX (5 + 8 + 4096)
size_t session_store_entry_make(const uint8_t *blob, size_t len, int64_t expires, uint8_t *out);

#endif
