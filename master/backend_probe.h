/* backend_probe.h - is the backend reachable? What /healthz?backend=1,
 * /v1/stats backend.reachable and tlsd_backend_up answer.
 *
 * Two sources, the latest one wins: the workers' own connects for clients
 * (each worker stamps its slot of common/cluster_stats with the time of its
 * last connect that worked and of its last one that failed), and a check
 * the master runs every BACKEND_PROBE_INTERVAL_MS when no worker connected
 * in that time: a TCP (or unix socket) connect, closed at once, under the
 * backend timeout (at most the interval). The check keeps the answer fresh
 * when no client comes, so a load balancer that stopped sending traffic on
 * a 503 sees the backend come back. The check never speaks TLS: a backend
 * whose handshake fails still counts as reachable here (the failures have
 * their own counters).
 *
 * A failed check is one warn line when the backend turns unreachable and
 * one info line when it answers again, never a line per check.
 */
#ifndef TLSD_MASTER_BACKEND_PROBE_H
#define TLSD_MASTER_BACKEND_PROBE_H

#include <stdint.h>

#include <ev.h>

#include "common/cluster_stats.h"
#include "common/err.h"
#include "worker/backend.h"

#define BACKEND_PROBE_INTERVAL_MS 2000

struct backend_probe;

enum backend_state {
	BACKEND_UNKNOWN,	/* nobody has tried yet (the first check runs at start) */
	BACKEND_REACHABLE,	/* the latest connect worked */
	BACKEND_UNREACHABLE,	/* the latest connect failed */
};

struct backend_health {
	enum backend_state state;
	uint64_t age_ms;	/* how long ago the latest connect was */
	int error;		/* UNREACHABLE: its errno (ETIMEDOUT: the timeout) */
	bool by_check;		/* the latest was the master's check, not a client's */
};

/* backend_probe_new: checks of <b> (NULL: none; must outlive the probe or
 * be replaced by backend_probe_use first) on <loop>, reading the workers'
 * connects from <stats>. Returns 0 or TLSD_ERR_INTERNAL. */
int backend_probe_new(struct ev_loop *loop, struct cluster_stats *stats, const struct backend *b,
		      struct backend_probe **out) TLSD_MUST_CHECK;

/* backend_probe_use: check <b> (NULL: stop checking) from now on, as after
 * a reload; what was learnt of the old one is forgotten. */
void backend_probe_use(struct backend_probe *p, const struct backend *b);

/* backend_probe_address: the backend checked, as configured; NULL: none. */
const char *backend_probe_address(const struct backend_probe *p);

/* backend_probe_health: the latest word on the backend into *<out>. */
void backend_probe_health(const struct backend_probe *p, struct backend_health *out);

/* backend_probe_free: stop and release (NULL is fine). */
void backend_probe_free(struct backend_probe *p);

#endif
