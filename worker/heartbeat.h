/* heartbeat.h - a worker shows the master that its loop runs: every
 * HEARTBEAT_EVERY_S it stamps its slot of common/cluster_stats with the
 * monotonic clock (GET /healthz reads it). A stopped or wedged loop stops
 * stamping. The timer does not keep the loop alive by itself (ev_unref). */
#ifndef TLSD_WORKER_HEARTBEAT_H
#define TLSD_WORKER_HEARTBEAT_H

#include <ev.h>

#include "common/cluster_stats.h"

#define HEARTBEAT_EVERY_S 1.0

struct heartbeat {
	ev_timer timer;
	struct cluster_stats *stats;
	int slot;
};

/* heartbeat_start: beat now and every HEARTBEAT_EVERY_S on <loop>, into
 * <slot> of <stats>; <hb> must outlive the loop's run. */
void heartbeat_start(struct heartbeat *hb, struct ev_loop *loop, struct cluster_stats *stats, int slot);

#endif
