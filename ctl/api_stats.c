/* api_stats.c - the /v1/stats object from common/cluster_stats, the
 * session cache and common/context_stats. */
#include "ctl/api_stats.h"

#include <time.h>

static json_t *counter(uint64_t value)
{
	return json_integer((json_int_t)value);
}

/* exits_json: {"<cause>": n} of <slot>, every cause, zeros included. */
static json_t *exits_json(const struct api_env *env, int slot)
{
	uint64_t exits[CS_EXIT_CAUSES];
	json_t *o = json_object();

	cluster_stats_exits(env->stats, slot, exits);
	for (int c = 0; o != NULL && c < CS_EXIT_CAUSES; c++)
		json_object_set_new(o, cluster_stats_exit_cause_name((enum cluster_exit_cause)c), counter(exits[c]));
	return o;
}

static json_t *workers_json(const struct api_env *env)
{
	json_t *list = json_array();
	struct cluster_figures w;

	for (int slot = 0; list != NULL && slot < cluster_stats_workers(env->stats); slot++) {
		cluster_stats_worker(env->stats, slot, &w);
		if (!w.started)		/* the other half of the slots waits for a reload */
			continue;
		json_array_append_new(list, json_pack("{s:i, s:o, s:o, s:o, s:o}", "pid", (int)w.pid,
						      "connections", counter(w.current),
						      "accepted", counter(w.counters[CS_CONN_TOTAL]),
						      "restarts", counter(w.restarts), "exits", exits_json(env, slot)));
	}
	return list;
}

/* failures_json: {"<reason>": n} for every reason, zeros included. */
static json_t *failures_json(const struct cluster_figures *t)
{
	json_t *o = json_object();

	for (int i = 0; o != NULL && i < CS_FAILURES; i++)
		json_object_set_new(o, cluster_stats_failure_name((enum cluster_failure)i), counter(t->failures[i]));
	return o;
}

static json_t *handshakes_json(const struct cluster_figures *t)
{
	const uint64_t *c = t->counters;

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o}, s:o}", "full", counter(c[CS_HS_FULL]),
			 "resumed", counter(c[CS_HS_RESUMED_ID] + c[CS_HS_RESUMED_TICKET]),
			 "resumed_session_id", counter(c[CS_HS_RESUMED_ID]),
			 "resumed_ticket", counter(c[CS_HS_RESUMED_TICKET]),
			 "failed", counter(c[CS_HS_FAILED]), "timeout", counter(c[CS_HS_TIMEOUT]),
			 "by_version", "TLSv1.2", counter(c[CS_HS_TLS12]), "TLSv1.3", counter(c[CS_HS_TLS13]),
			 "failures", failures_json(t));
}

static json_t *session_cache_json(const struct api_env *env)
{
	struct session_cache_stats st;

	session_cache_stats(env->session_cache, &st);
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "entries", counter(st.entries),
			 "capacity", counter(st.capacity), "hits", counter(st.hits),
			 "misses", counter(st.misses), "evictions", counter(st.evictions));
}

/* backend_reachable_json: true / false from the latest connect (a
 * client's or the master's check), null before any. */
static json_t *backend_reachable_json(const struct api_env *env)
{
	struct backend_health h;

	if (env->backend_probe == NULL)
		return json_null();
	backend_probe_health(env->backend_probe, &h);
	return h.state == BACKEND_UNKNOWN ? json_null() : json_boolean(h.state == BACKEND_REACHABLE);
}

/* backend_json: connects to the backend, why the failed ones failed, and
 * handshakes to a TLS backend (backend.tls) with why refused ones were. */
static json_t *backend_json(const struct api_env *env, const uint64_t *c)
{
	json_t *failures = json_object();

	for (int i = 0; failures != NULL && i < CS_BACKEND_FAILURES; i++)
		json_object_set_new(failures, cluster_stats_backend_failure_name((enum cluster_backend_failure)i),
				    counter(c[CS_BACKEND_CONNECT_REFUSED + i]));
	return json_pack("{s:o, s:o, s:o, s:{s:o, s:o, s:{s:o, s:o, s:o, s:o, s:o}}}", "reachable",
			 backend_reachable_json(env), "connects", counter(c[CS_BACKEND_CONNECTED]),
			 "connect_failures", failures, "tls", "full", counter(c[CS_BACKEND_TLS_FULL]),
			 "resumed", counter(c[CS_BACKEND_TLS_RESUMED]), "failures", "expired",
			 counter(c[CS_BACKEND_TLS_EXPIRED]), "unknown_ca", counter(c[CS_BACKEND_TLS_UNKNOWN_CA]),
			 "name_mismatch", counter(c[CS_BACKEND_TLS_NAME_MISMATCH]), "bad_certificate",
			 counter(c[CS_BACKEND_TLS_BAD_CERTIFICATE]), "handshake", counter(c[CS_BACKEND_TLS_HANDSHAKE]));
}

/* session_store_json: the Redis level of the session-ID cache. */
static json_t *session_store_json(const uint64_t *c)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "hits", counter(c[CS_STORE_HITS]), "misses",
			 counter(c[CS_STORE_MISSES]), "refused", counter(c[CS_STORE_REFUSED]), "errors",
			 counter(c[CS_STORE_ERRORS]), "timeouts", counter(c[CS_STORE_TIMEOUTS]), "unavailable",
			 counter(c[CS_STORE_UNAVAILABLE]), "writes", counter(c[CS_STORE_WRITES]));
}

/* ticket_keys_json: the ring's generation, ticket resumptions by the state
 * of the key that decrypted them, and tickets no key in the ring named. */
static json_t *ticket_keys_json(const struct api_env *env, const uint64_t *c)
{
	return json_pack("{s:o, s:{s:o, s:o, s:o}, s:o}",
			 "generation", counter(ticket_keys_generation(env->ticket_keys)),
			 "resumed", "active", counter(c[CS_TICKET_RESUMED_ACTIVE]), "next",
			 counter(c[CS_TICKET_RESUMED_NEXT]), "decrypt_only", counter(c[CS_TICKET_RESUMED_DECRYPT_ONLY]),
			 "not_found", counter(c[CS_TICKET_KEY_NOT_FOUND]));
}

/* context_json: one series of common/context_stats, as the top level's
 * connections, handshakes and bytes. */
static json_t *context_json(const struct context_stats *cs, int series)
{
	struct context_figures f;
	const uint64_t *c = f.counters;

	context_stats_figures(cs, series, &f);
	return json_pack("{s:s, s:{s:o}, s:{s:o, s:o, s:o, s:o, s:o, s:o}, s:{s:o, s:o}}",
			 "hostname", context_stats_label(cs, series), "connections", "current", counter(f.current),
			 "handshakes", "full", counter(c[CX_HS_FULL]),
			 "resumed", counter(c[CX_HS_RESUMED_ID] + c[CX_HS_RESUMED_TICKET]),
			 "resumed_session_id", counter(c[CX_HS_RESUMED_ID]),
			 "resumed_ticket", counter(c[CX_HS_RESUMED_TICKET]), "failed", counter(c[CX_HS_FAILED]),
			 "timeout", counter(c[CX_HS_TIMEOUT]),
			 "bytes", "in", counter(c[CX_BYTES_IN]), "out", counter(c[CX_BYTES_OUT]));
}

/* contexts_json: the named series in the order named, then "*" (no server
 * name) and "other" (as /metrics' tlsd_sni_* families). */
static json_t *contexts_json(const struct api_env *env)
{
	json_t *list = json_array();
	int named;

	if (list == NULL || env->context_stats == NULL)
		return list;
	named = context_stats_named(env->context_stats);
	for (int i = 0; i < named; i++)
		json_array_append_new(list, context_json(env->context_stats, i));
	json_array_append_new(list, context_json(env->context_stats, CONTEXT_SERIES_DEFAULT));
	json_array_append_new(list, context_json(env->context_stats, CONTEXT_SERIES_OTHER));
	return list;
}

void api_lock_recoveries(const struct api_env *env, struct api_lock_recoveries out[API_LOCK_STRUCTURES])
{
	struct session_cache_stats st = { 0 };

	if (env->session_cache != NULL)
		session_cache_stats(env->session_cache, &st);
	out[0] = (struct api_lock_recoveries){ "connection_limit", cluster_stats_lock_recoveries(env->stats) };
	out[1] = (struct api_lock_recoveries){ "session_cache", st.recoveries };
	out[2] = (struct api_lock_recoveries){ "connection_list",
					       env->conn_table ? conn_table_recoveries(env->conn_table) : 0 };
}

/* lock_recoveries_json: {"<structure>": n} for every structure. */
static json_t *lock_recoveries_json(const struct api_env *env)
{
	struct api_lock_recoveries r[API_LOCK_STRUCTURES];
	json_t *o = json_object();

	api_lock_recoveries(env, r);
	for (int i = 0; o != NULL && i < API_LOCK_STRUCTURES; i++)
		json_object_set_new(o, r[i].structure, counter(r[i].count));
	return o;
}

/* with_lock_recoveries: <stats> with lock_recoveries added (beyond the
 * SPEC's fields). */
static json_t *with_lock_recoveries(const struct api_env *env, json_t *stats)
{
	if (stats != NULL && json_object_set_new(stats, "lock_recoveries", lock_recoveries_json(env)) < 0) {
		json_decref(stats);
		return NULL;
	}
	return stats;
}

json_t *api_stats_json(const struct api_env *env)
{
	struct cluster_figures t;
	const uint64_t *c = t.counters;
	double uptime = (double)time(NULL) - env->started_at;

	cluster_stats_totals(env->stats, &t);
	return with_lock_recoveries(env, json_pack("{s:I, s:o, s:{s:o, s:o, s:o, s:o}, s:o, s:{s:o, s:o}, s:o, s:o, s:o, s:{s:o, s:o}, s:o, s:o}",
			 "uptime_s", (json_int_t)(uptime < 0 ? 0 : uptime),
			 "workers", workers_json(env),
			 "connections", "current", counter(t.current), "total", counter(c[CS_CONN_TOTAL]),
			 "rejected", counter(c[CS_CONN_REJECTED]), "accept_paused", counter(c[CS_ACCEPT_PAUSED]),
			 "handshakes", handshakes_json(&t),
			 "bytes", "in", counter(c[CS_BYTES_IN]), "out", counter(c[CS_BYTES_OUT]),
			 "session_cache", session_cache_json(env),
			 "session_store", session_store_json(c),
			 "ticket_keys", ticket_keys_json(env, c),
			 "renegotiations", "accepted", counter(c[CS_RENEG_ACCEPTED]),
			 "refused", counter(c[CS_RENEG_REFUSED]),
			 "backend", backend_json(env, c),
			 "contexts", contexts_json(env)));
}

void api_stats_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	json_t *stats = api_stats_json(env);

	if (stats == NULL)
		api_reply_error(reply, 500, "internal", "out of memory");
	else
		api_reply_json(reply, 200, stats);
}
