/* ticket_keys.h - the session-ticket key ring every worker shares, in
 * shared memory, replaceable at runtime.
 *
 * Operators see Node's format: 48 bytes (16-byte name, 16-byte HMAC key,
 * 16-byte AES key), Node's getTicketKeys()/setTicketKeys(). GnuTLS wants a
 * 64-byte master from which it derives its own period keys; the 48 bytes map
 * onto it with HKDF-SHA256, deterministically, so two instances given the
 * same 48 bytes accept each other's tickets.
 *
 * The ring (common/ticket_ring.h: next, active, decrypt-only keys) is
 * published whole. GnuTLS takes one master per session, so a worker picks
 * it per connection: the ring entry whose ticket-key name (GnuTLS derives
 * it from the master and the time period, lib/stek.c) matches the first 16
 * bytes of the ticket the client offers, else the active key. A session
 * resumed under an older key is also renewed under it (GnuTLS has no way to
 * decrypt with one key and encrypt with another), so such a ticket lives
 * as long as its key stays in the ring.
 *
 * One writer (the master) replaces the ring under a sequence counter (a
 * seqlock); workers copy it without a lock. A copy that overlaps a write
 * sees the counter move and is taken again, so no worker ever uses a
 * half-written key. Every change bumps the generation, which a worker
 * compares (one atomic load) when it accepts a connection.
 */
#ifndef TLSD_COMMON_TICKET_KEYS_H
#define TLSD_COMMON_TICKET_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/ticket_ring.h"

#define TICKET_MASTER_SIZE 64	/* gnutls_session_ticket_enable_server's key */
#define TICKET_NAME_SIZE 16	/* the key name a GnuTLS ticket starts with */

struct ticket_keys;

/* A worker's private copy of the ring, refreshed on accept, with the
 * ticket-key names of every entry for the current and previous period. */
struct ticket_key_copy {
	uint64_t generation;	/* 0: never copied */
	size_t n, active;
	struct {
		enum ticket_key_state state;
		unsigned char master[TICKET_MASTER_SIZE];
		unsigned char names[2][TICKET_NAME_SIZE];	/* period T, T-1 */
	} e[TICKET_RING_MAX];
	uint64_t names_period;	/* the T the names are for; 0: none yet */
	unsigned names_expire_s;
};

/* ticket_keys_create: map the shared ring into *<out>, holding <ring>
 * (ticket_ring_validate must accept it); generation 1. Returns 0 or
 * TLSD_ERR_IO (mmap) / TLSD_ERR_INTERNAL (HKDF) / TLSD_ERR_CONFIG (ring).
 * The caller owns *<out>; release it with ticket_keys_destroy. */
int ticket_keys_create(const struct ticket_ring *ring, struct ticket_keys **out) TLSD_MUST_CHECK;

/* ticket_keys_publish: replace the ring with <ring> and bump the
 * generation, stored in *<generation> when not NULL. Only one process (the
 * master) may write. Returns 0 or TLSD_ERR_INTERNAL (HKDF) /
 * TLSD_ERR_CONFIG (an invalid ring); on failure nothing changed. */
int ticket_keys_publish(struct ticket_keys *tk, const struct ticket_ring *ring, uint64_t *generation) TLSD_MUST_CHECK;

/* ticket_keys_snapshot: a consistent copy of the ring and its generation.
 * Returns 0, or TLSD_ERR_AGAIN when a write never finished (the writer
 * died inside it); then <ring> is zeroed. */
int ticket_keys_snapshot(const struct ticket_keys *tk, struct ticket_ring *ring, uint64_t *generation) TLSD_MUST_CHECK;

/* ticket_keys_set: <keys> (48 bytes) become the active key (Node's
 * setTicketKeys), the active one decrypt-only, keeping at most <ring_size>
 * entries (ticket_ring_set_active); published as ticket_keys_publish. */
int ticket_keys_set(struct ticket_keys *tk, const unsigned char *keys, size_t ring_size,
		    uint64_t *generation) TLSD_MUST_CHECK;

/* ticket_keys_rotate: the next key becomes active and 48 random bytes the
 * next one (ticket_ring_rotate); published as ticket_keys_publish. */
int ticket_keys_rotate(struct ticket_keys *tk, size_t ring_size, uint64_t *generation) TLSD_MUST_CHECK;

/* ticket_keys_generation: the generation now published (lock-free). */
uint64_t ticket_keys_generation(const struct ticket_keys *tk);

/* ticket_keys_get: a consistent copy of the active 48 bytes and the
 * generation (Node's getTicketKeys). Returns 0, or TLSD_ERR_AGAIN as
 * ticket_keys_snapshot; then <keys> is untouched. */
int ticket_keys_get(const struct ticket_keys *tk, unsigned char *keys, uint64_t *generation) TLSD_MUST_CHECK;

/* ticket_keys_refresh: bring <copy> up to the published generation without
 * a lock. Returns true when <copy> changed; false when it was current, or
 * when a write never finished (then <copy> keeps the previous whole ring). */
bool ticket_keys_refresh(const struct ticket_keys *tk, struct ticket_key_copy *copy);

/* ticket_key_copy_active: the active entry's master (64 bytes). */
const unsigned char *ticket_key_copy_active(const struct ticket_key_copy *copy);

/* ticket_key_copy_match: the master of the entry whose ticket-key name, for
 * the period of <now> or the one before (GnuTLS's periods of 3 x
 * <expire_s>, the session's cache expiration), is the first
 * TICKET_NAME_SIZE bytes of <ticket> (<len> bytes), with its state in
 * *<state>; NULL when none matches or <ticket> is shorter than a name. */
const unsigned char *ticket_key_copy_match(struct ticket_key_copy *copy, const uint8_t *ticket, size_t len,
					   int64_t now, unsigned expire_s, enum ticket_key_state *state);

/* ticket_keys_derive: GnuTLS's 64-byte master from Node's 48 bytes
 * (HKDF-SHA256, salt "tlsd ticket keys", info "stek v1"). Returns 0 or
 * TLSD_ERR_INTERNAL. */
int ticket_keys_derive(const unsigned char *keys, unsigned char *master) TLSD_MUST_CHECK;

/* ticket_keys_name: GnuTLS's ticket-key name for <master> in period <t>:
 * the first 16 bytes of SHA3-512(be64(t) || master) (lib/stek.c). */
int ticket_keys_name(const unsigned char *master, uint64_t t, unsigned char *name) TLSD_MUST_CHECK;

/* ticket_keys_decode: <base64> into 48 bytes at <keys>. Errors name <what>
 * (the config key or API field): not base64, or the wrong length. */
int ticket_keys_decode(const char *base64, unsigned char *keys, const char *what,
		       struct tlsd_error *err) TLSD_MUST_CHECK;

/* ticket_keys_encode: the base64 text of 48 bytes into <out> (>= 65 bytes). */
void ticket_keys_encode(const unsigned char *keys, char *out);

/* ticket_keys_destroy: wipe the keys and unmap (NULL is fine). The wipe is
 * seen by every process: only the master calls it, after its workers. */
void ticket_keys_destroy(struct ticket_keys *tk);

#endif
