/* api_stats.h - GET /v1/stats: the whole server's counters, summed over
 * the workers' shared slots (SPEC field names). */
#ifndef TLSD_CTL_API_STATS_H
#define TLSD_CTL_API_STATS_H

#include "ctl/api.h"

void api_stats_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* Shared structures a worker that dies can leave locked or half-written,
 * each recovered where it happens and counted in shared memory:
 * "connection_limit" (the maxConnections admission mutex: the next worker
 * to lock it), "session_cache" (its mutex: the next locker wipes the
 * cache), "connection_list" (a GET /v1/connections record: the master
 * repairs it when it reaps the worker). */
#define API_LOCK_STRUCTURES 3

struct api_lock_recoveries {
	const char *structure;
	uint64_t count;
};

/* api_lock_recoveries: the count of every structure above, in that order
 * (/v1/stats lock_recoveries, /metrics tlsd_lock_recoveries_total). */
void api_lock_recoveries(const struct api_env *env, struct api_lock_recoveries out[API_LOCK_STRUCTURES]);

/* api_stats_json: the /v1/stats object (caller owns it; NULL: no memory). */
json_t *api_stats_json(const struct api_env *env);

#endif
