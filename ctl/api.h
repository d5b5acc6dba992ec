/* api.h - what a control API handler gets and gives: the request (method,
 * path, JSON body), the reply (status and JSON or text), and the master's
 * shared state it may read and change.
 *
 * A handler validates everything first and changes state last, so a
 * request that fails changes nothing (SPEC: "a failed request changes
 * nothing").
 */
#ifndef TLSD_CTL_API_H
#define TLSD_CTL_API_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/cluster_stats.h"
#include "common/config.h"
#include "common/conn_table.h"
#include "common/context_stats.h"
#include "common/creds.h"
#include "common/session_cache.h"
#include "common/ticket_keys.h"
#include "master/backend_probe.h"
#include "master/contexts.h"
#include "master/listeners.h"

/* The master's state the control API reads and changes. */
struct api_env {
	const struct tlsd_config *cfg;
	struct ticket_keys *ticket_keys;
	struct cluster_stats *stats;
	const struct context_stats *context_stats;	/* by SNI context */
	struct session_cache *session_cache;
	const struct listeners *listeners;
	double started_at;		/* unix time, seconds */
	const char *priority_text;	/* the GnuTLS priority in use */
	struct contexts *contexts;	/* SNI contexts (master/contexts.h) */
	json_t *ciphers;		/* GET /v1/ciphers; made by control_open */
	const struct conn_table *conn_table;	/* GET /v1/connections */
	const struct tlsd_creds *creds;		/* the default context's; NULL: none */
	struct ring_sync *ring_sync;		/* the ring through the sessionStore; NULL: none */
	const struct backend_probe *backend_probe;	/* backend mode: is it reachable; NULL: echo mode */
};

struct api_request {
	const char *method;
	const char *path;
	const char *param;		/* the rest of the path after a prefix route */
	const char *query_backend;	/* GET /healthz?backend=...: its value; NULL: absent */
	const char *body;		/* NUL-terminated; "" when none */
	size_t body_len;
};

struct api_reply {
	int status;
	json_t *json;			/* owned; NULL: text or empty */
	char *text;			/* owned; used when json is NULL */
	const char *content_type;	/* for text; NULL: text/plain */
	bool stop_after;		/* start the graceful stop once it is sent */
};

/* A handler fills <reply> and returns nothing: every outcome is a status. */
typedef void (*api_handler)(const struct api_env *env, const struct api_request *req,
			    struct api_reply *reply);

/* api_reply_json: status <status> with body <json> (reference stolen). */
void api_reply_json(struct api_reply *reply, int status, json_t *json);

/* api_reply_text: status <status> with a copy of <text>. */
void api_reply_text(struct api_reply *reply, int status, const char *content_type, const char *text);

/* api_reply_error: {"error": {"code": <code>, "message": <fmt...>}}. */
void api_reply_error(struct api_reply *reply, int status, const char *code, const char *fmt, ...)
	TLSD_PRINTF(4, 5);

/* api_body_object: parse the body as a JSON object whose members are all
 * in <allowed> (NULL-terminated). Returns the object (caller owns it), or
 * NULL with a 400 in <reply> naming the problem (not JSON, not an object,
 * an unknown field). */
json_t *api_body_object(const struct api_request *req, const char *const *allowed, struct api_reply *reply);

/* api_reply_free: release what <reply> owns. */
void api_reply_free(struct api_reply *reply);

#endif
