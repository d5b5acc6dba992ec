/* api_server.c - health, addresses, maxConnections, graceful stop. */
#include "ctl/api_server.h"

#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "common/log.h"

/* A worker beats every second (worker/heartbeat.h): three missed beats
 * mean its loop is stopped or wedged. */
#define HEALTH_MAX_AGE_MS 3000

/* backend_unhealthy: why the backend counts as unreachable for /healthz
 * into <why> (<size> bytes); false when it is reachable, or when there is
 * no backend (echo mode: nothing to check). */
static bool backend_unhealthy(const struct api_env *env, char *why, size_t size)
{
	struct backend_health h;

	if (env->backend_probe == NULL)
		return false;
	backend_probe_health(env->backend_probe, &h);
	if (h.state == BACKEND_REACHABLE)
		return false;
	if (h.state == BACKEND_UNKNOWN)
		snprintf(why, size, "backend %s: not checked yet", backend_probe_address(env->backend_probe));
	else
		snprintf(why, size, "backend %s: unreachable: %s, %.1f s ago (%s)",
			 backend_probe_address(env->backend_probe), strerror(h.error), (double)h.age_ms / 1000.0,
			 h.by_check ? "the master's connect check" : "a client's connect");
	return true;
}

/* wants_backend: /healthz?backend=1 (any value but "0" and "false"). */
static bool wants_backend(const struct api_request *req)
{
	const char *v = req->query_backend;

	return v != NULL && strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
}

/* api_server_healthz: 200 "ok" only while every worker slot of the running
 * generation has a worker whose loop beat within HEALTH_MAX_AGE_MS (and,
 * with ?backend=1, the latest connect to the backend worked); else 503
 * naming the first that has not (or that the server is stopping). */
void api_server_healthz(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	char why[320], body[360];
	int bad = cluster_stats_unhealthy(env->stats, cluster_stats_monotonic_ms(), HEALTH_MAX_AGE_MS, why,
					  sizeof(why));

	if (bad == 0 && !(wants_backend(req) && backend_unhealthy(env, why, sizeof(why)))) {
		api_reply_text(reply, 200, "text/plain", "ok\n");
		return;
	}
	snprintf(body, sizeof(body), "unhealthy: %s%s\n", why, bad > 1 ? " (and others)" : "");
	api_reply_text(reply, 503, "text/plain", body);
}

void api_server_address(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	json_t *list = json_array();

	for (size_t i = 0; list != NULL && i < env->listeners->n; i++) {
		const struct listener *l = &env->listeners->items[i];
		char host[128];
		int port = 0;

		addr_host_port((const struct sockaddr *)&l->addr, l->addr_len, host, sizeof(host), &port);
		json_array_append_new(list, json_pack("{s:s, s:s, s:i}", "address", host, "family",
						      addr_family_name((const struct sockaddr *)&l->addr),
						      "port", port));
	}
	api_reply_json(reply, 200, list);
}

static void reply_max_connections(const struct api_env *env, struct api_reply *reply)
{
	api_reply_json(reply, 200, json_pack("{s:I}", "maxConnections",
					     (json_int_t)cluster_stats_max_connections(env->stats)));
}

void api_server_max_connections_get(const struct api_env *env, const struct api_request *req,
				    struct api_reply *reply)
{
	reply_max_connections(env, reply);
}

void api_server_max_connections_put(const struct api_env *env, const struct api_request *req,
				    struct api_reply *reply)
{
	static const char *const allowed[] = { "maxConnections", NULL };
	json_t *body = api_body_object(req, allowed, reply);
	json_t *n;

	if (body == NULL)
		return;
	n = json_object_get(body, "maxConnections");
	if (!json_is_integer(n))
		api_reply_error(reply, 400, "bad_field", "maxConnections: %s",
				n ? "must be an integer (0 = unlimited)" : "missing");
	else if (json_integer_value(n) < 0 || json_integer_value(n) > 0x7fffffff)
		api_reply_error(reply, 400, "bad_field", "maxConnections: must be between 0 and 2147483647, got %"
				JSON_INTEGER_FORMAT, json_integer_value(n));
	else {
		cluster_stats_set_max_connections(env->stats, (long)json_integer_value(n));
		log_info("control: maxConnections set to %ld", cluster_stats_max_connections(env->stats));
		reply_max_connections(env, reply);
	}
	json_decref(body);
}

void api_server_close(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	log_info("control: POST /v1/close: stopping gracefully");
	api_reply_json(reply, 202, json_pack("{s:s}", "status", "closing"));
	/* Once the answer is out, the master's one graceful stop (SIGTERM's). */
	reply->stop_after = true;
}
