/* session_cache.c - TLS 1.2 session-ID cache in one shared memory arena.
 *
 * Layout (offsets from the start of the mapping, never pointers, so every
 * process may map it anywhere):
 *   [struct session_cache header][uint32_t buckets[nbuckets]][entries...]
 * Entries are linked by uint32_t index: a hash chain (hnext, which is also
 * the free-list link), and a doubly linked LRU list (head = most recent).
 * Critical sections only hash-walk and memcpy; no allocation, no syscalls.
 *
 * Entries at and above <fresh> have never been used: they are on no list
 * and their pages were never touched, so the kernel has not backed them
 * (an anonymous mapping reads as zeros). The cache takes memory as it
 * fills, not at start (20480 entries of 4 KiB would be 80 MiB resident in
 * every process from the first moment).
 */
#include "common/session_cache.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#define SC_MAGIC 0x53434331u	/* "SCC1" */
#define SC_VERSION 2u
#define SC_NIL UINT32_MAX
#define SC_CAPACITY_MAX (1u << 20)	/* 4 GiB of slots is plenty */

struct sc_entry {
	uint32_t hnext;		/* hash chain, or free list when unused */
	uint32_t lprev, lnext;	/* LRU list */
	uint32_t used;
	uint32_t klen, dlen;
	int64_t expires_at_s;
	uint8_t key[SESSION_CACHE_KEY_MAX];
	uint8_t data[SESSION_CACHE_DATA_MAX];
};

struct session_cache {
	uint32_t magic, version;
	uint32_t capacity, nbuckets;
	uint32_t entry_size, pad_;
	uint64_t map_size, buckets_off, entries_off;
	uint64_t seed;
	pthread_mutex_t lock;
	uint32_t lru_head, lru_tail, free_head, fresh;	/* fresh: first never-used entry */
	uint64_t entries, hits, misses, evictions, stores, recoveries;
};

static uint32_t *sc_buckets(struct session_cache *c)
{
	return (uint32_t *)((char *)c + c->buckets_off);
}

static struct sc_entry *sc_entry(struct session_cache *c, uint32_t i)
{
	return (struct sc_entry *)((char *)c + c->entries_off) + i;
}

/* Seeded FNV-1a (64 bit): cheap, good spread for random session IDs. The
 * per-cache random seed keeps chain placement unpredictable; IDs are chosen
 * by our own server, so a client can only probe, not fill, chains. */
static uint32_t sc_bucket_of(const struct session_cache *c, const uint8_t *key, size_t klen)
{
	uint64_t h = 0xcbf29ce484222325ull ^ c->seed;
	size_t i;

	for (i = 0; i < klen; i++) {
		h ^= key[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 32;
	return (uint32_t)h & (c->nbuckets - 1);
}

/* sc_wipe: empty the cache. Entries below <fresh> are wiped (packed
 * sessions hold the master secret) and, like the rest, handed out again
 * from <fresh>; entries above it were never touched and stay so. */
static void sc_wipe(struct session_cache *c)
{
	uint32_t i;

	for (i = 0; i < c->nbuckets; i++)
		sc_buckets(c)[i] = SC_NIL;
	for (i = 0; i < c->fresh && i < c->capacity; i++) {
		struct sc_entry *e = sc_entry(c, i);

		if (e->used)
			explicit_bzero(e->data, sizeof(e->data));
		e->used = 0;
	}
	c->fresh = 0;
	c->free_head = SC_NIL;
	c->lru_head = c->lru_tail = SC_NIL;
	c->entries = 0;
}

static int sc_init_lock(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int rc = TLSD_ERR_IO;

	if (pthread_mutexattr_init(&a) != 0)
		return TLSD_ERR_IO;
	if (pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(m, &a) != 0)
		goto out;
	rc = 0;
out:
	pthread_mutexattr_destroy(&a);
	return rc;
}

/* sc_lock: 0 with the lock held, or TLSD_ERR_IO with it not held. A dead
 * owner may have left a half-linked entry: it is only a cache, so wipe it
 * rather than trust a repair. When the mutex cannot be marked consistent,
 * it is released anyway: it then stays unrecoverable and every later call
 * fails at once (the cache misses) instead of waiting forever. */
static int sc_lock(struct session_cache *c)
{
	int rc = pthread_mutex_lock(&c->lock);

	if (rc == EOWNERDEAD) {
		sc_wipe(c);
		c->recoveries++;
		rc = pthread_mutex_consistent(&c->lock);
		if (rc != 0)
			pthread_mutex_unlock(&c->lock);
	}
	return rc == 0 ? 0 : TLSD_ERR_IO;
}

static void sc_unlock(struct session_cache *c)
{
	pthread_mutex_unlock(&c->lock);
}

static uint32_t sc_nbuckets_for(uint32_t capacity)
{
	uint32_t n = 1;

	while (n < capacity)
		n <<= 1;
	return n;
}

static void sc_layout(struct session_cache *h, uint32_t capacity)
{
	h->magic = SC_MAGIC;
	h->version = SC_VERSION;
	h->capacity = capacity;
	h->nbuckets = sc_nbuckets_for(capacity);
	h->entry_size = sizeof(struct sc_entry);
	h->buckets_off = (sizeof(*h) + 63) & ~(uint64_t)63;
	h->entries_off = (h->buckets_off + (uint64_t)h->nbuckets * 4 + 63) & ~(uint64_t)63;
	h->map_size = h->entries_off + (uint64_t)capacity * sizeof(struct sc_entry);
}

int session_cache_create(size_t capacity, struct session_cache **out)
{
	struct session_cache tmp = { 0 };
	struct session_cache *c = MAP_FAILED;
	int rc = TLSD_ERR_CONFIG;

	*out = NULL;
	if (capacity > SC_CAPACITY_MAX)
		goto out;
	sc_layout(&tmp, (uint32_t)capacity);
	rc = TLSD_ERR_IO;
	if (getrandom(&tmp.seed, sizeof(tmp.seed), 0) != (ssize_t)sizeof(tmp.seed))
		goto out;
	c = mmap(NULL, tmp.map_size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		goto out;
	memcpy(c, &tmp, sizeof(tmp));
	if (sc_init_lock(&c->lock) < 0)
		goto out;
	sc_wipe(c);
	*out = c;
	c = MAP_FAILED;
	rc = 0;
out:
	if (c != MAP_FAILED)
		munmap(c, tmp.map_size);
	return rc;
}

void session_cache_destroy(struct session_cache *c)
{
	if (c == NULL)
		return;
	munmap(c, c->map_size);
}

static uint32_t sc_find(struct session_cache *c, const void *key, size_t klen)
{
	uint32_t i = sc_buckets(c)[sc_bucket_of(c, key, klen)];

	while (i != SC_NIL) {
		struct sc_entry *e = sc_entry(c, i);

		if (e->klen == klen && memcmp(e->key, key, klen) == 0)
			return i;
		i = e->hnext;
	}
	return SC_NIL;
}

static void sc_lru_unlink(struct session_cache *c, uint32_t i)
{
	struct sc_entry *e = sc_entry(c, i);

	if (e->lprev != SC_NIL)
		sc_entry(c, e->lprev)->lnext = e->lnext;
	else
		c->lru_head = e->lnext;
	if (e->lnext != SC_NIL)
		sc_entry(c, e->lnext)->lprev = e->lprev;
	else
		c->lru_tail = e->lprev;
	e->lprev = e->lnext = SC_NIL;
}

static void sc_lru_push_head(struct session_cache *c, uint32_t i)
{
	struct sc_entry *e = sc_entry(c, i);

	e->lprev = SC_NIL;
	e->lnext = c->lru_head;
	if (c->lru_head != SC_NIL)
		sc_entry(c, c->lru_head)->lprev = i;
	else
		c->lru_tail = i;
	c->lru_head = i;
}

static void sc_hash_unlink(struct session_cache *c, uint32_t i)
{
	struct sc_entry *e = sc_entry(c, i);
	uint32_t *link = &sc_buckets(c)[sc_bucket_of(c, e->key, e->klen)];

	while (*link != i)
		link = &sc_entry(c, *link)->hnext;
	*link = e->hnext;
}

static void sc_free_entry(struct session_cache *c, uint32_t i)
{
	struct sc_entry *e = sc_entry(c, i);

	sc_hash_unlink(c, i);
	sc_lru_unlink(c, i);
	explicit_bzero(e->data, e->dlen);	/* packed sessions hold the master secret */
	e->used = 0;
	e->hnext = c->free_head;
	c->free_head = i;
	c->entries--;
}

/* Pop a free slot, else take a never-used one, else evict the least
 * recently used entry. */
static uint32_t sc_alloc(struct session_cache *c)
{
	uint32_t i;

	if (c->free_head == SC_NIL && c->fresh < c->capacity)
		return c->fresh++;
	if (c->free_head == SC_NIL) {
		sc_free_entry(c, c->lru_tail);
		c->evictions++;
	}
	i = c->free_head;
	c->free_head = sc_entry(c, i)->hnext;
	return i;
}

static void sc_insert_locked(struct session_cache *c, const void *key, size_t klen,
			     const void *data, size_t dlen, int64_t expires_at_s)
{
	uint32_t i = sc_find(c, key, klen);
	uint32_t *bucket;
	struct sc_entry *e;

	if (i != SC_NIL)
		sc_free_entry(c, i);
	i = sc_alloc(c);
	e = sc_entry(c, i);
	e->used = 1;
	e->klen = (uint32_t)klen;
	e->dlen = (uint32_t)dlen;
	e->expires_at_s = expires_at_s;
	memcpy(e->key, key, klen);
	memcpy(e->data, data, dlen);
	bucket = &sc_buckets(c)[sc_bucket_of(c, key, klen)];
	e->hnext = *bucket;
	*bucket = i;
	sc_lru_push_head(c, i);
	c->entries++;
	c->stores++;
}

static int sc_key_ok(const void *key, size_t klen)
{
	return key != NULL && klen > 0 && klen <= SESSION_CACHE_KEY_MAX;
}

int session_cache_store(struct session_cache *c, const void *key, size_t klen,
			const void *data, size_t dlen, int64_t expires_at_s,
			int64_t now_s)
{
	if (!sc_key_ok(key, klen) || data == NULL || dlen == 0 ||
	    dlen > SESSION_CACHE_DATA_MAX || expires_at_s <= now_s)
		return TLSD_ERR_CONFIG;
	if (c->capacity == 0)
		return 0;
	GUARD(sc_lock(c));
	sc_insert_locked(c, key, klen, data, dlen, expires_at_s);
	sc_unlock(c);
	return 0;
}

static int sc_fetch_locked(struct session_cache *c, const void *key, size_t klen,
			   int64_t now_s, void *buf, size_t cap, size_t *dlen)
{
	uint32_t i = sc_find(c, key, klen);
	struct sc_entry *e;

	if (i == SC_NIL) {
		c->misses++;
		return SESSION_CACHE_MISS;
	}
	e = sc_entry(c, i);
	if (e->expires_at_s <= now_s) {
		sc_free_entry(c, i);
		c->misses++;
		return SESSION_CACHE_MISS;
	}
	*dlen = e->dlen;
	if (e->dlen > cap)
		return TLSD_ERR_CONFIG;
	memcpy(buf, e->data, e->dlen);
	sc_lru_unlink(c, i);
	sc_lru_push_head(c, i);
	c->hits++;
	return 0;
}

int session_cache_fetch(struct session_cache *c, const void *key, size_t klen,
			int64_t now_s, void *buf, size_t cap, size_t *dlen)
{
	int rc;

	*dlen = 0;
	if (!sc_key_ok(key, klen) || (buf == NULL && cap > 0))
		return TLSD_ERR_CONFIG;
	if (c->capacity == 0)
		return SESSION_CACHE_MISS;
	GUARD(sc_lock(c));
	rc = sc_fetch_locked(c, key, klen, now_s, buf, cap, dlen);
	sc_unlock(c);
	return rc;
}

bool session_cache_contains(struct session_cache *c, const void *key, size_t klen, int64_t now_s)
{
	uint32_t i;
	bool found;

	if (!sc_key_ok(key, klen) || c->capacity == 0 || sc_lock(c) < 0)
		return false;
	i = sc_find(c, key, klen);
	found = i != SC_NIL && sc_entry(c, i)->expires_at_s > now_s;
	sc_unlock(c);
	return found;
}

int session_cache_remove(struct session_cache *c, const void *key, size_t klen)
{
	uint32_t i;

	if (!sc_key_ok(key, klen))
		return TLSD_ERR_CONFIG;
	if (c->capacity == 0)
		return 0;
	GUARD(sc_lock(c));
	i = sc_find(c, key, klen);
	if (i != SC_NIL)
		sc_free_entry(c, i);
	sc_unlock(c);
	return 0;
}

void session_cache_stats(struct session_cache *c, struct session_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (sc_lock(c) < 0)
		return;
	out->capacity = c->capacity;
	out->entries = c->entries;
	out->hits = c->hits;
	out->misses = c->misses;
	out->evictions = c->evictions;
	out->stores = c->stores;
	out->recoveries = c->recoveries;
	sc_unlock(c);
}

void session_cache_test_lock_and_die(struct session_cache *c)
{
	if (sc_lock(c) == 0)
		_exit(0);
	_exit(1);
}

/* Count entries on the hash chains; each must be used, bounded and in the
 * bucket its key hashes to. Returns the count or -1. */
static int64_t sc_validate_chains(struct session_cache *c)
{
	int64_t n = 0;
	uint32_t b, i;

	for (b = 0; b < c->nbuckets; b++) {
		for (i = sc_buckets(c)[b]; i != SC_NIL; i = sc_entry(c, i)->hnext) {
			struct sc_entry *e;

			if (i >= c->fresh || ++n > c->capacity)
				return -1;
			e = sc_entry(c, i);
			if (!e->used || e->klen == 0 || e->klen > SESSION_CACHE_KEY_MAX ||
			    e->dlen == 0 || e->dlen > SESSION_CACHE_DATA_MAX ||
			    sc_bucket_of(c, e->key, e->klen) != b)
				return -1;
		}
	}
	return n;
}

/* Walk the LRU list head to tail checking back links. Returns count or -1. */
static int64_t sc_validate_lru(struct session_cache *c)
{
	uint32_t prev = SC_NIL, i;
	int64_t n = 0;

	for (i = c->lru_head; i != SC_NIL; i = sc_entry(c, i)->lnext) {
		if (i >= c->fresh || ++n > c->capacity)
			return -1;
		if (!sc_entry(c, i)->used || sc_entry(c, i)->lprev != prev)
			return -1;
		prev = i;
	}
	return prev == c->lru_tail ? n : -1;
}

static int64_t sc_validate_free(struct session_cache *c)
{
	int64_t n = 0;
	uint32_t i;

	for (i = c->free_head; i != SC_NIL; i = sc_entry(c, i)->hnext) {
		if (i >= c->fresh || ++n > c->capacity || sc_entry(c, i)->used)
			return -1;
	}
	return n;
}

static int sc_validate_locked(struct session_cache *c)
{
	int64_t chained = sc_validate_chains(c);
	int64_t listed = sc_validate_lru(c);
	int64_t free_n = sc_validate_free(c);

	if (chained < 0 || listed < 0 || free_n < 0)
		return TLSD_ERR_INTERNAL;
	if (c->fresh > c->capacity || chained != listed || (uint64_t)chained != c->entries ||
	    chained + free_n != c->fresh)
		return TLSD_ERR_INTERNAL;
	return 0;
}

int session_cache_validate(struct session_cache *c)
{
	int rc;

	if (c == NULL || c->magic != SC_MAGIC || c->version != SC_VERSION ||
	    c->entry_size != sizeof(struct sc_entry))
		return TLSD_ERR_INTERNAL;
	if (c->capacity == 0)
		return c->entries == 0 ? 0 : TLSD_ERR_INTERNAL;
	GUARD(sc_lock(c));
	rc = sc_validate_locked(c);
	sc_unlock(c);
	return rc;
}
