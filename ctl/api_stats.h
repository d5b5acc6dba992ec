/* api_stats.h - GET /v1/stats: the whole server's counters, summed over
 * the workers' shared slots (SPEC field names). */
#ifndef TLSD_CTL_API_STATS_H
#define TLSD_CTL_API_STATS_H

#include "ctl/api.h"

void api_stats_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* api_stats_json: the /v1/stats object (caller owns it; NULL: no memory). */
json_t *api_stats_json(const struct api_env *env);

#endif
