/* tlsctl_print.h - tlsctl's human-readable output: the server's JSON as
 * short aligned tables and key/value lines. (--json prints the JSON as is
 * and never comes here.) Members missing from an answer print as "-". */
#ifndef TLSD_CTL_TLSCTL_PRINT_H
#define TLSD_CTL_TLSCTL_PRINT_H

#include <stdio.h>

#include <jansson.h>

#include "common/err.h"

/* Each returns 0, or TLSD_ERR_INTERNAL when out of memory. */

/* GET /v1/stats: the totals (the backend's only in backend mode), the
 * lock recoveries, one row per worker with why its workers ended, then
 * one row per SNI context series when there is a named context or a
 * series counted anything. */
int tlsctl_print_stats(json_t *stats, FILE *out) TLSD_MUST_CHECK;

/* GET /v1/connections: one row per connection. */
int tlsctl_print_connections(json_t *list, FILE *out) TLSD_MUST_CHECK;

/* GET /v1/ticket-keys: the generation and the ring, never key material. */
int tlsctl_print_ticket_keys(json_t *keys, FILE *out) TLSD_MUST_CHECK;

/* GET /v1/contexts (an array) or one context (POST's answer): one row per
 * certificate. */
int tlsctl_print_contexts(json_t *contexts, FILE *out) TLSD_MUST_CHECK;

#endif
