/* session_cache.h - TLS 1.2 session-ID cache in one shared memory arena.
 *
 * The master creates the cache before fork; every worker uses the same
 * mapping. One robust, process-shared mutex guards it; a worker that dies
 * holding it costs a cache wipe (counted in 'recoveries'), never a hang.
 * All functions below take and release the lock themselves.
 */
#ifndef TLSD_COMMON_SESSION_CACHE_H
#define TLSD_COMMON_SESSION_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SESSION_CACHE_KEY_MAX 32	/* TLS session IDs are at most 32 bytes */
#define SESSION_CACHE_DATA_MAX 4096	/* packed GnuTLS session, a few KB */

/* A fetch that found nothing (absent, expired, or cache disabled). */
#define SESSION_CACHE_MISS TLSD_ERR_CLOSED

struct session_cache;

struct session_cache_stats {
	uint64_t capacity, entries, hits, misses, evictions, stores, recoveries;
};

/* session_cache_create: map a shared arena of <capacity> entries into *<out>.
 * <capacity> 0 gives a disabled cache: stores are no-ops, fetches miss.
 * Returns 0, TLSD_ERR_CONFIG (capacity too big) or TLSD_ERR_IO (mmap, getrandom,
 * pthread). The caller owns *<out>; free it with session_cache_destroy. */
int session_cache_create(size_t capacity, struct session_cache **out) TLSD_MUST_CHECK;

/* session_cache_store: copy <data>/<dlen> under <key>/<klen>, replacing an
 * entry with that key; evicts the least recently used entry when full.
 * <expires_at_s> must be after <now_s>. Returns 0, or TLSD_ERR_CONFIG when
 * klen is 0 or > SESSION_CACHE_KEY_MAX, dlen is 0 or > SESSION_CACHE_DATA_MAX,
 * or the entry is already expired; TLSD_ERR_IO if the lock fails. */
int session_cache_store(struct session_cache *c, const void *key, size_t klen,
			const void *data, size_t dlen, int64_t expires_at_s,
			int64_t now_s) TLSD_MUST_CHECK;

/* session_cache_fetch: copy the data stored under <key> into <buf>/<cap> and
 * its length into *<dlen>, and mark it most recently used. An entry with
 * expires_at_s <= <now_s> is freed and reported as a miss.
 * Returns 0; SESSION_CACHE_MISS when absent/expired/disabled; TLSD_ERR_CONFIG
 * for a bad klen or when <cap> is too small (then *<dlen> holds the needed
 * size and the entry stays); TLSD_ERR_IO if the lock fails. */
int session_cache_fetch(struct session_cache *c, const void *key, size_t klen,
			int64_t now_s, void *buf, size_t cap, size_t *dlen) TLSD_MUST_CHECK;

/* session_cache_contains: whether an entry under <key> is there and not
 * expired at <now_s>; copies nothing and changes nothing (no hit or miss
 * counted, no LRU move): for a look before deciding to ask elsewhere.
 * false also for a bad klen, a disabled cache or a lock that fails. */
bool session_cache_contains(struct session_cache *c, const void *key, size_t klen, int64_t now_s);

/* session_cache_remove: drop the entry under <key>. Returns 0 (also when it
 * was absent), TLSD_ERR_CONFIG for a bad klen, TLSD_ERR_IO if the lock fails. */
int session_cache_remove(struct session_cache *c, const void *key, size_t klen) TLSD_MUST_CHECK;

/* session_cache_stats: snapshot the counters into *<out> (under the lock). */
void session_cache_stats(struct session_cache *c, struct session_cache_stats *out);

/* session_cache_validate: check every invariant (header, hash chains, LRU
 * list, free list, counts). Returns 0 or TLSD_ERR_INTERNAL. For tests. */
int session_cache_validate(struct session_cache *c) TLSD_MUST_CHECK;

/* session_cache_test_lock_and_die: test hook only; takes the lock and
 * _exit(0)s while holding it, to exercise owner-death recovery. */
void session_cache_test_lock_and_die(struct session_cache *c) __attribute__((noreturn));

/* session_cache_destroy: unmap <c> (NULL is fine). Other processes' mappings
 * stay valid until they unmap too. */
void session_cache_destroy(struct session_cache *c);

#endif
