/* session_store.c - Redis behind the shared-memory session cache (hiredis
 * on the worker's libev loop). */
#include "worker/session_store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <hiredis/adapters/libev.h>
#pragma GCC diagnostic pop

#include "common/addr.h"
#include "common/log.h"
#include "common/session_cache.h"

#define ENTRY_MAGIC "TLSD1"
#define ENTRY_MAGIC_LEN 5
#define BACKOFF_FIRST_S 0.1
#define BACKOFF_MAX_S 10.0
/* Replies pending for longer than this: the server is stuck; reconnect. */
#define STALL_S 1.0
/* At most this many commands waiting for replies; past it, ask nothing. */
#define PENDING_MAX 256

struct session_store {
	struct ev_loop *loop;
	const struct tlsd_config *cfg;
	struct cluster_stats *stats;
	int slot;
	struct tlsd_addr addr;
	redisAsyncContext *ac;	/* NULL while disconnected */
	bool connected;		/* the connect callback said so */
	bool closing;		/* session_store_free: no reconnect */
	bool warned;		/* this outage was logged */
	int pending;		/* commands sent, replies not in yet */
	ev_tstamp progress;	/* the last reply, or when <pending> left 0 */
	double backoff;
	ev_timer reconnect;
};

struct session_store_lookup {
	struct session_store *st;
	session_store_found_fn found;
	void *arg;
	bool abandoned;
	char context[64];
};

static void store_count(struct session_store *st, enum cluster_counter which)
{
	cluster_stats_add(st->stats, st->slot, which, 1);
}

/* ---- entries ---- */

static void put_be64(uint8_t *p, int64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
}

static int64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

size_t session_store_entry_make(const uint8_t *blob, size_t len, int64_t expires, uint8_t *out)
{
	if (len == 0 || len > SESSION_CACHE_DATA_MAX)
		return 0;
	memcpy(out, ENTRY_MAGIC, ENTRY_MAGIC_LEN);
	put_be64(out + ENTRY_MAGIC_LEN, expires);
	memcpy(out + ENTRY_MAGIC_LEN + 8, blob, len);
	return ENTRY_MAGIC_LEN + 8 + len;
}

int session_store_entry_check(const uint8_t *v, size_t len, const char *context, int64_t now,
			      const uint8_t **blob, size_t *blob_len, int64_t *expires)
{
	size_t clen = strlen(context), head = ENTRY_MAGIC_LEN + 8;

	if (len <= head || len > SESSION_STORE_ENTRY_MAX || memcmp(v, ENTRY_MAGIC, ENTRY_MAGIC_LEN) != 0)
		return TLSD_ERR_PROTO;
	*expires = get_be64(v + ENTRY_MAGIC_LEN);
	*blob = v + head;
	*blob_len = len - head;
	/* The blob starts with its sessionIdContext (worker/session_db.c). */
	if (*expires <= now || *blob_len < 1 + clen + 1 || (*blob)[0] != clen || memcmp(*blob + 1, context, clen) != 0)
		return TLSD_ERR_PROTO;
	return TLSD_OK;
}

/* ---- the connection ---- */

static void store_connect(struct session_store *st);
static void note_reply(struct session_store *st);

static void schedule_reconnect(struct session_store *st)
{
	if (st->closing)
		return;
	st->backoff = st->backoff == 0.0 ? BACKOFF_FIRST_S : st->backoff * 2.0;
	if (st->backoff > BACKOFF_MAX_S)
		st->backoff = BACKOFF_MAX_S;
	ev_timer_set(&st->reconnect, st->backoff, 0.0);
	ev_timer_start(st->loop, &st->reconnect);
}

/* store_down: once per outage, a warning: handshakes go on from shared
 * memory alone. */
static void store_down(struct session_store *st, const char *why)
{
	if (!st->warned)
		log_warn("sessionStore: %s: %s; resuming from this machine's cache alone until it is back",
			 st->cfg->store_redis, why);
	st->warned = true;
	st->ac = NULL;
	st->connected = false;
	st->pending = 0;
	schedule_reconnect(st);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct session_store *st = ac->data;

	if (status != REDIS_OK) {
		store_down(st, ac->errstr[0] ? ac->errstr : "cannot connect");
		return;
	}
	st->connected = true;
	st->backoff = 0.0;
	if (st->warned)
		log_info("sessionStore: %s: connected again", st->cfg->store_redis);
	st->warned = false;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct session_store *st = ac->data;

	if (st->closing || st->ac != ac)
		return;	/* freed by tlsd itself (store_reset, session_store_free) */
	store_down(st, status == REDIS_OK ? "the connection was closed" : (ac->errstr[0] ? ac->errstr : "lost"));
}

/* on_setup_reply: AUTH and SELECT; a refusal ends this connection. */
static void on_setup_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	redisReply *reply = r;
	struct session_store *st = ac->data;

	note_reply(st);
	if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
		log_warn("sessionStore: %s: %s refused: %.*s", st->cfg->store_redis, (const char *)privdata,
			 (int)reply->len, reply->str);
		st->warned = true;
		redisAsyncDisconnect(ac);
	}
}

static void store_setup(struct session_store *st)
{
	if (st->cfg->store_password != NULL &&
	    redisAsyncCommand(st->ac, on_setup_reply, (void *)"AUTH", "AUTH %s", st->cfg->store_password) == REDIS_OK)
		st->pending++;
	if (st->cfg->store_db != 0 &&
	    redisAsyncCommand(st->ac, on_setup_reply, (void *)"SELECT", "SELECT %d", st->cfg->store_db) == REDIS_OK)
		st->pending++;
}

static void store_connect(struct session_store *st)
{
	redisAsyncContext *ac = st->addr.kind == TLSD_ADDR_UNIX ? redisAsyncConnectUnix(st->addr.path)
								 : redisAsyncConnect(st->addr.host, st->addr.port);

	if (ac == NULL || ac->err) {
		if (ac != NULL)
			redisAsyncFree(ac);
		store_down(st, "cannot connect");
		return;
	}
	ac->data = st;
	st->ac = ac;
	st->pending = 0;
	st->progress = ev_now(st->loop);
	redisLibevAttach(st->loop, ac);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	store_setup(st);
}

/* store_reset: drop the connection now (pending lookups are answered as
 * misses) and reconnect later. */
static void store_reset(struct session_store *st, const char *why)
{
	redisAsyncContext *ac = st->ac;

	st->ac = NULL;
	if (ac != NULL)
		redisAsyncFree(ac);
	store_down(st, why);
}

static void on_reconnect(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct session_store *st = t->data;

	if (st->ac == NULL)
		store_connect(st);
}

/* store_usable: connected, and not stuck: a server that left replies
 * pending for STALL_S is treated as down (and reconnected). */
static bool store_usable(struct session_store *st)
{
	if (st->ac == NULL || !st->connected)
		return false;
	if (st->pending > 0 && ev_now(st->loop) - st->progress > STALL_S) {
		store_reset(st, "no answer for a second");
		return false;
	}
	return st->pending < PENDING_MAX;
}

static void note_sent(struct session_store *st)
{
	if (st->pending++ == 0)
		st->progress = ev_now(st->loop);
}

static void note_reply(struct session_store *st)
{
	if (st->pending > 0)
		st->pending--;
	st->progress = ev_now(st->loop);
}

/* key: prefix + "session:" + the session ID in hex (the ticket-key ring
 * lives beside, under prefix + "ticket-ring", master/ring_sync.c). */
static size_t store_key(const struct session_store *st, const uint8_t *id, size_t id_len, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "%ssession:", st->cfg->store_prefix);

	for (size_t i = 0; i < id_len && n + 2 < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%02x", id[i]);
	return n;
}

int session_store_new(struct ev_loop *loop, const struct tlsd_config *cfg, struct cluster_stats *stats, int slot,
		      struct session_store **out)
{
	struct tlsd_error err;
	struct session_store *st;

	*out = NULL;
	if (cfg->store_redis == NULL)
		return TLSD_OK;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return TLSD_ERR_INTERNAL;
	*st = (struct session_store){ .loop = loop, .cfg = cfg, .stats = stats, .slot = slot };
	if (addr_parse(cfg->store_redis, true, true, &st->addr, &err) < 0) {
		free(st);
		return TLSD_ERR_CONFIG;	/* the config parser checked it already */
	}
	ev_init(&st->reconnect, on_reconnect);
	st->reconnect.data = st;
	store_connect(st);
	*out = st;
	return TLSD_OK;
}

void session_store_free(struct session_store *st)
{
	if (st == NULL)
		return;
	st->closing = true;
	ev_timer_stop(st->loop, &st->reconnect);
	if (st->ac != NULL) {
		redisAsyncContext *ac = st->ac;

		st->ac = NULL;
		redisAsyncFree(ac);	/* pending callbacks get NULL replies */
	}
	free(st);
}

/* ---- writes ---- */

static void on_put_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct session_store *st = ac->data;

	note_reply(st);
	if (r != NULL && ((redisReply *)r)->type != REDIS_REPLY_ERROR)
		store_count(st, CS_STORE_WRITES);
}

void session_store_put(struct session_store *st, const uint8_t *id, size_t id_len, const uint8_t *blob, size_t len,
		       int64_t expires)
{
	uint8_t value[SESSION_STORE_ENTRY_MAX];
	char key[128 + 2 * SESSION_CACHE_KEY_MAX];
	size_t vlen = session_store_entry_make(blob, len, expires, value);
	size_t klen = store_key(st, id, id_len, key, sizeof(key));
	long long ttl = (long long)(expires - (int64_t)ev_now(st->loop));

	if (vlen == 0 || ttl <= 0 || !store_usable(st))
		return;
	if (redisAsyncCommand(st->ac, on_put_reply, NULL, "SET %b %b EX %lld", key, klen, value, vlen, ttl) == REDIS_OK)
		note_sent(st);
}

/* ---- lookups ---- */

static void answer(struct session_store_lookup *l, redisReply *reply)
{
	struct session_store *st = l->st;
	const uint8_t *blob = NULL;
	size_t blob_len = 0;
	int64_t expires = 0;

	if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
		store_count(st, CS_STORE_ERRORS);
	} else if (reply->type != REDIS_REPLY_STRING) {
		store_count(st, CS_STORE_MISSES);
	} else if (session_store_entry_check((const uint8_t *)reply->str, reply->len, l->context,
					     (int64_t)ev_now(st->loop), &blob, &blob_len, &expires) < 0) {
		store_count(st, CS_STORE_REFUSED);
		log_debug("sessionStore: refused an entry of %zu bytes (not tlsd's, too large, expired or "
			  "another sessionIdContext)", (size_t)reply->len);
		blob = NULL;
	} else {
		store_count(st, CS_STORE_HITS);
	}
	l->found(l->arg, blob, blob_len, expires);
}

static void on_get_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct session_store_lookup *l = privdata;

	note_reply(ac->data);
	if (!l->abandoned)
		answer(l, r);
	free(l);
}

struct session_store_lookup *session_store_get(struct session_store *st, const uint8_t *id, size_t id_len,
					       const char *context, session_store_found_fn found, void *arg)
{
	char key[128 + 2 * SESSION_CACHE_KEY_MAX];
	size_t klen = store_key(st, id, id_len, key, sizeof(key));
	struct session_store_lookup *l;

	if (!store_usable(st)) {
		store_count(st, CS_STORE_UNAVAILABLE);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	*l = (struct session_store_lookup){ .st = st, .found = found, .arg = arg };
	snprintf(l->context, sizeof(l->context), "%s", context);
	if (redisAsyncCommand(st->ac, on_get_reply, l, "GET %b", key, klen) != REDIS_OK) {
		free(l);
		store_count(st, CS_STORE_UNAVAILABLE);
		return NULL;
	}
	note_sent(st);
	return l;
}

void session_store_abandon(struct session_store_lookup *l)
{
	if (l != NULL)
		l->abandoned = true;
}
