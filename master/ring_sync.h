/* ring_sync.h - the ticket-key ring shared by a fleet through the
 * sessionStore's Redis.
 *
 * With a sessionStore, the master keeps the ring in Redis too: the value
 * "<prefix>ticket-ring" holds {"version": n, "ring": [...]} (the state
 * file's ring, key material included: the Redis server must be trusted
 * like the state dir), "<prefix>ticket-ring-version" counts the versions
 * (INCR), and a message on the channel "<prefix>ticket-ring" announces a
 * new one. A change made on one machine (PUT /v1/ticket-keys, .../next,
 * rotate) is pushed; every machine applies a newer version it hears of, or
 * finds at its periodic check (every RING_SYNC_CHECK_S), through the same
 * path as the API: state file first, then the workers. So a next key PUT
 * on one machine is on every machine within seconds, before any of them
 * is asked to activate it.
 *
 * Redis down: the machine keeps its ring and serves; it pushes again and
 * reads again once Redis is back.
 */
#ifndef TLSD_MASTER_RING_SYNC_H
#define TLSD_MASTER_RING_SYNC_H

#include <ev.h>

#include "common/config.h"
#include "common/err.h"
#include "common/ticket_keys.h"

#define RING_SYNC_CHECK_S 2.0

struct ring_sync;

/* ring_sync_new: sync the master's <tk> through <cfg>'s sessionStore on
 * <loop>; *<out> NULL without a sessionStore. At start the ring in Redis,
 * if any, wins over the local one; without one, the local ring is pushed.
 * <cfg> must outlive the sync (ring_sync_use_config after a reload). */
int ring_sync_new(struct ev_loop *loop, const struct tlsd_config *cfg, struct ticket_keys *tk,
		  struct ring_sync **out) TLSD_MUST_CHECK;

/* ring_sync_use_config: the running configuration after a reload. */
void ring_sync_use_config(struct ring_sync *rs, const struct tlsd_config *cfg);

/* ring_sync_push: <ring> just became this machine's ring: publish it to
 * the fleet (asynchronously; NULL <rs> does nothing). */
void ring_sync_push(struct ring_sync *rs, const struct ticket_ring *ring);

/* ring_sync_free: NULL is fine. */
void ring_sync_free(struct ring_sync *rs);

#endif
