/* context_stats.h - counters by SNI context (handshakes by result, bytes,
 * connections open), in one shared memory mapping that the master creates
 * before it forks.
 *
 * Series. The counts go to a bounded set of series, so that /metrics has a
 * bounded number of labels whatever the number of contexts:
 *  - CONTEXT_STATS_NAMED series named after context hostnames, given out by
 *    the master (context_stats_name) in the order it first meets each name,
 *    before the context is published to the workers. A series, once named,
 *    keeps its name for the master's life: a context removed and added
 *    again counts on in its own series, and a removed context's series is
 *    never handed to another hostname (its counts cannot be credited to a
 *    name that did not earn them). A restart starts afresh.
 *  - CONTEXT_SERIES_DEFAULT ("*"): the client sent no server name, and the
 *    default certificate served.
 *  - CONTEXT_SERIES_OTHER ("other"): a server name that no context matched,
 *    or that matched a context beyond the first CONTEXT_STATS_NAMED names
 *    (or a context named "other" itself).
 *
 * Counters. Like common/cluster_stats: one region per worker slot, whose
 * worker is its only writer (relaxed atomic load+store, no lock); readers
 * sum the regions. A region outlives its worker; the master zeroes only its
 * open-connection counts when it reaps it.
 */
#ifndef TLSD_COMMON_CONTEXT_STATS_H
#define TLSD_COMMON_CONTEXT_STATS_H

#include <stdint.h>

#include "common/err.h"

#define CONTEXT_STATS_NAMED 64		/* series named after hostnames */

/* Series numbers: 0 .. CONTEXT_STATS_NAMED - 1 are named, then these. */
enum {
	CONTEXT_SERIES_NONE = -1,	/* not known (yet): counted nowhere */
	CONTEXT_SERIES_DEFAULT = CONTEXT_STATS_NAMED,
	CONTEXT_SERIES_OTHER,
	CONTEXT_SERIES_ALL		/* how many series there are */
};

/* Counters that only grow (the /v1/stats "contexts" names in comments). */
enum context_counter {
	CX_HS_FULL,		/* handshakes.full */
	CX_HS_RESUMED_ID,	/* handshakes.resumed_session_id */
	CX_HS_RESUMED_TICKET,	/* handshakes.resumed_ticket */
	CX_HS_FAILED,		/* handshakes.failed */
	CX_HS_TIMEOUT,		/* handshakes.timeout */
	CX_BYTES_IN,		/* bytes.in: cleartext from clients */
	CX_BYTES_OUT,		/* bytes.out: cleartext to clients */
	CX_COUNTERS
};

/* One series' figures, summed over the worker slots. */
struct context_figures {
	uint64_t current;	/* connections open now, handshake done */
	uint64_t counters[CX_COUNTERS];
};

struct context_stats;

/* context_stats_create: map regions for <workers> worker slots (1..1024),
 * no series named, into *<out>. Returns 0, TLSD_ERR_CONFIG (<workers>) or
 * TLSD_ERR_IO (mmap). */
int context_stats_create(int workers, struct context_stats **out) TLSD_MUST_CHECK;

/* context_stats_destroy: unmap (NULL is fine). */
void context_stats_destroy(struct context_stats *cs);

/* ---- the master ---- */

/* context_stats_name: the series of <hostname> (lowercase, as the context
 * is configured): the one it was given before, else the next free one;
 * CONTEXT_SERIES_OTHER when all are given out, or for "other" itself. A
 * worker that looks the name up after this returns finds the series. */
int context_stats_name(struct context_stats *cs, const char *hostname);

/* context_stats_worker_exited: <slot>'s process is gone (reaped): its open
 * connections went with it. Call only once it cannot run any more. */
void context_stats_worker_exited(struct context_stats *cs, int slot);

/* ---- a worker, on its own <slot> only; series CONTEXT_SERIES_NONE: nothing ---- */

/* context_stats_add: <series>'s counters[<which>] += <n>. No lock. */
void context_stats_add(struct context_stats *cs, int slot, int series, enum context_counter which, uint64_t n);

/* context_stats_open / context_stats_close: a connection of <series>
 * finished its handshake / closed after context_stats_open. No lock. */
void context_stats_open(struct context_stats *cs, int slot, int series);
void context_stats_close(struct context_stats *cs, int slot, int series);

/* ---- anyone, without a lock ---- */

/* context_stats_find: the series context_stats_name gave <hostname>, or
 * CONTEXT_SERIES_OTHER when it gave it none. */
int context_stats_find(const struct context_stats *cs, const char *hostname);

/* context_stats_named: how many series are named (those below are). */
int context_stats_named(const struct context_stats *cs);

/* context_stats_label: <series>'s label: its hostname, "*" or "other". */
const char *context_stats_label(const struct context_stats *cs, int series);

/* context_stats_figures: <series> summed over every slot into *<out>. */
void context_stats_figures(const struct context_stats *cs, int series, struct context_figures *out);

#endif
