/* ring_sync.c - the ticket-key ring through Redis: push on change, apply
 * what is newer (a message, or the periodic check). */
#include "master/ring_sync.h"

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
#include <jansson.h>

#include "common/addr.h"
#include "common/log.h"
#include "master/ticket_keys_state.h"

struct ring_sync {
	struct ev_loop *loop;
	const struct tlsd_config *cfg;
	struct ticket_keys *tk;
	struct tlsd_addr addr;
	redisAsyncContext *cmd;	/* GET, INCR, SET, PUBLISH; NULL: down */
	redisAsyncContext *sub;	/* SUBSCRIBE; NULL: down */
	bool warned;
	bool checked;		/* the first GET answered: Redis's ring, or none */
	uint64_t version;	/* the newest version applied or pushed */
	bool has_pending;	/* a local change waits to be pushed */
	struct ticket_ring pending;
	ev_timer check;
	char key[160], version_key[180];
};

static void sync_down(struct ring_sync *rs, const char *why)
{
	if (!rs->warned)
		log_warn("ticket keys: sessionStore %s: %s; the ring is not shared until it is back",
			 rs->cfg->store_redis, why);
	rs->warned = true;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct ring_sync *rs = ac->data;

	if (rs == NULL)
		return;	/* freed by ring_sync_free */
	if (rs->cmd == ac)
		rs->cmd = NULL;
	if (rs->sub == ac)
		rs->sub = NULL;
	sync_down(rs, ac->errstr[0] ? ac->errstr : "the connection was closed");
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct ring_sync *rs = ac->data;

	if (status == REDIS_OK)
		return;
	if (rs->cmd == ac)
		rs->cmd = NULL;
	if (rs->sub == ac)
		rs->sub = NULL;
	sync_down(rs, ac->errstr[0] ? ac->errstr : "cannot connect");
}

static redisAsyncContext *sync_connect(struct ring_sync *rs)
{
	redisAsyncContext *ac = rs->addr.kind == TLSD_ADDR_UNIX ? redisAsyncConnectUnix(rs->addr.path)
								: redisAsyncConnect(rs->addr.host, rs->addr.port);

	if (ac == NULL || ac->err) {
		if (ac != NULL)
			redisAsyncFree(ac);
		sync_down(rs, "cannot connect");
		return NULL;
	}
	ac->data = rs;
	redisLibevAttach(rs->loop, ac);
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (rs->cfg->store_password != NULL)
		redisAsyncCommand(ac, NULL, NULL, "AUTH %s", rs->cfg->store_password);
	return ac;
}

/* ---- applying a ring from Redis ---- */

/* apply: <ring> of <version> becomes this machine's: state file first,
 * then the workers, as an API change. */
static void apply(struct ring_sync *rs, const struct ticket_ring *ring, uint64_t version)
{
	struct tlsd_error err = { "" };

	if (ticket_keys_state_save(rs->cfg, ring, &err) < 0 || ticket_keys_publish(rs->tk, ring, NULL) < 0) {
		log_error("ticket keys: cannot apply ring version %llu from the fleet: %s", (unsigned long long)version,
			  err.msg[0] ? err.msg : "the ring does not derive");
		return;
	}
	rs->version = version;
	log_info("ticket keys: ring version %llu from the fleet (sessionStore)", (unsigned long long)version);
}

static void push_now(struct ring_sync *rs);

/* on_get: Redis's ring; newer than ours: applied. None yet: ours goes. */
static void on_get(redisAsyncContext *ac, void *r, void *privdata)
{
	struct ring_sync *rs = ac->data;
	redisReply *reply = r;
	struct tlsd_error err = { "" };
	struct ticket_ring ring;
	json_error_t jerr;
	json_t *doc, *v;

	if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		return;
	if (rs->warned)
		log_info("ticket keys: sessionStore %s: sharing the ring again", rs->cfg->store_redis);
	rs->warned = false;
	if (reply->type != REDIS_REPLY_STRING) {
		if (!rs->checked && !rs->has_pending && ticket_keys_snapshot(rs->tk, &rs->pending, NULL) == TLSD_OK)
			rs->has_pending = true;	/* the fleet has no ring yet: this one */
		rs->checked = true;
		push_now(rs);
		return;
	}
	rs->checked = true;
	doc = json_loadb(reply->str, reply->len, 0, &jerr);
	v = doc ? json_object_get(doc, "version") : NULL;
	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
	    ticket_keys_state_ring_parse(json_object_get(doc, "ring"), "sessionStore ticket-ring", &ring, &err) < 0) {
		log_warn("ticket keys: the ring in the sessionStore is not tlsd's or not valid (%s): ignored",
			 err.msg[0] ? err.msg : "no version");
	} else if ((uint64_t)json_integer_value(v) > rs->version) {
		apply(rs, &ring, (uint64_t)json_integer_value(v));
	}
	ticket_ring_wipe(&ring);
	ticket_keys_state_wipe_json(doc);
	json_decref(doc);
}

static void ask(struct ring_sync *rs)
{
	if (rs->cmd != NULL)
		redisAsyncCommand(rs->cmd, on_get, NULL, "GET %s", rs->key);
}

static void on_message(redisAsyncContext *ac, void *r, void *privdata)
{
	redisReply *reply = r;

	/* ["message", channel, version]; "subscribe" confirmations too. */
	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
	    reply->element[0]->type == REDIS_REPLY_STRING && strcmp(reply->element[0]->str, "message") == 0)
		ask(ac->data);
}

/* ---- pushing this machine's ring ---- */

static void on_incr(redisAsyncContext *ac, void *r, void *privdata)
{
	struct ring_sync *rs = ac->data;
	redisReply *reply = r;
	json_t *doc;
	char *text;

	if (reply == NULL || reply->type != REDIS_REPLY_INTEGER || !rs->has_pending)
		return;	/* kept: the next check pushes it */
	doc = json_pack("{s:I, s:o}", "version", (json_int_t)reply->integer, "ring",
			ticket_keys_state_ring_json(&rs->pending));
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	ticket_keys_state_wipe_json(doc);
	json_decref(doc);
	if (text == NULL)
		return;
	redisAsyncCommand(ac, NULL, NULL, "SET %s %s", rs->key, text);
	redisAsyncCommand(ac, NULL, NULL, "PUBLISH %s %lld", rs->key, reply->integer);
	explicit_bzero(text, strlen(text));
	free(text);
	rs->version = (uint64_t)reply->integer;
	rs->has_pending = false;
	ticket_ring_wipe(&rs->pending);
}

static void push_now(struct ring_sync *rs)
{
	if (rs->has_pending && rs->cmd != NULL)
		redisAsyncCommand(rs->cmd, on_incr, NULL, "INCR %s", rs->version_key);
}

void ring_sync_push(struct ring_sync *rs, const struct ticket_ring *ring)
{
	if (rs == NULL)
		return;
	rs->pending = *ring;
	rs->has_pending = true;
	push_now(rs);
}

/* ---- the periodic check ---- */

static void on_check(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ring_sync *rs = t->data;

	if (rs->cmd == NULL) {
		rs->cmd = sync_connect(rs);
		if (rs->cmd != NULL && rs->cfg->store_db != 0)
			redisAsyncCommand(rs->cmd, NULL, NULL, "SELECT %d", rs->cfg->store_db);
	}
	if (rs->sub == NULL && (rs->sub = sync_connect(rs)) != NULL)
		redisAsyncCommand(rs->sub, on_message, NULL, "SUBSCRIBE %s", rs->key);
	if (rs->checked)
		push_now(rs);
	ask(rs);
}

int ring_sync_new(struct ev_loop *loop, const struct tlsd_config *cfg, struct ticket_keys *tk, struct ring_sync **out)
{
	struct tlsd_error err;
	struct ring_sync *rs;

	*out = NULL;
	if (cfg->store_redis == NULL)
		return TLSD_OK;
	rs = calloc(1, sizeof(*rs));
	if (rs == NULL)
		return TLSD_ERR_INTERNAL;
	rs->loop = loop;
	rs->cfg = cfg;
	rs->tk = tk;
	if (addr_parse(cfg->store_redis, true, true, &rs->addr, &err) < 0) {
		free(rs);
		return TLSD_ERR_CONFIG;
	}
	snprintf(rs->key, sizeof(rs->key), "%sticket-ring", cfg->store_prefix);
	snprintf(rs->version_key, sizeof(rs->version_key), "%sticket-ring-version", cfg->store_prefix);
	ev_timer_init(&rs->check, on_check, 0.0, RING_SYNC_CHECK_S);
	rs->check.data = rs;
	ev_timer_start(loop, &rs->check);
	*out = rs;
	return TLSD_OK;
}

void ring_sync_use_config(struct ring_sync *rs, const struct tlsd_config *cfg)
{
	if (rs != NULL)
		rs->cfg = cfg;
}

static void drop(redisAsyncContext *ac)
{
	if (ac == NULL)
		return;
	ac->data = NULL;
	redisAsyncFree(ac);
}

void ring_sync_free(struct ring_sync *rs)
{
	if (rs == NULL)
		return;
	ev_timer_stop(rs->loop, &rs->check);
	drop(rs->cmd);
	drop(rs->sub);
	ticket_ring_wipe(&rs->pending);
	free(rs);
}
