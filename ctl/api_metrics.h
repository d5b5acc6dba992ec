/* api_metrics.h - GET /metrics: the /v1/stats figures in the Prometheus
 * text exposition format 0.0.4, for a Prometheus server to scrape.
 *
 * Every family has one "# HELP" and one "# TYPE" line before its samples;
 * names start with "tlsd_" and counters end in "_total". Per-worker series
 * carry a worker="N" label, N = 1..workers. docs/control-api.md lists the
 * families.
 */
#ifndef TLSD_CTL_API_METRICS_H
#define TLSD_CTL_API_METRICS_H

#include "ctl/api.h"

/* The Content-Type of the answer. */
#define API_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* GET: 200 with the exposition text; 500 when out of memory. */
void api_metrics_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* api_metrics_text: the exposition text, NUL-terminated and malloc'd (the
 * caller frees it), or NULL when out of memory. Reads the shared counters
 * without a lock (the session cache's under its own). */
char *api_metrics_text(const struct api_env *env);

#endif
