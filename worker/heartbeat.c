/* heartbeat.c - the worker's periodic stamp in shared memory. */
#include "worker/heartbeat.h"

static void heartbeat_beat(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct heartbeat *hb = t->data;

	cluster_stats_heartbeat(hb->stats, hb->slot, cluster_stats_monotonic_ms());
}

void heartbeat_start(struct heartbeat *hb, struct ev_loop *loop, struct cluster_stats *stats, int slot)
{
	hb->stats = stats;
	hb->slot = slot;
	ev_timer_init(&hb->timer, heartbeat_beat, HEARTBEAT_EVERY_S, HEARTBEAT_EVERY_S);
	hb->timer.data = hb;
	cluster_stats_heartbeat(stats, slot, cluster_stats_monotonic_ms());
	ev_timer_start(loop, &hb->timer);
	ev_unref(loop);
}
