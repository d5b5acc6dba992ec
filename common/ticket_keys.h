/* ticket_keys.h - the session-ticket keys every worker shares, in shared
 * memory, replaceable at runtime.
 *
 * Operators see Node's format: 48 bytes (16-byte name, 16-byte HMAC key,
 * 16-byte AES key), Node's getTicketKeys()/setTicketKeys(). GnuTLS wants a
 * 64-byte master from which it derives its own period keys; the 48 bytes map
 * onto it with HKDF-SHA256, deterministically, so two instances given the
 * same 48 bytes accept each other's tickets.
 *
 * One writer (the master) replaces the keys under a sequence counter (a
 * seqlock); workers copy them without a lock. A copy that overlaps a write
 * sees the counter move and is taken again, so no worker ever uses a
 * half-written key. Every replacement bumps the generation, which a worker
 * compares (one atomic load) when it accepts a connection.
 */
#ifndef TLSD_COMMON_TICKET_KEYS_H
#define TLSD_COMMON_TICKET_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define TICKET_KEYS_SIZE 48	/* Node's ticketKeys */
#define TICKET_MASTER_SIZE 64	/* gnutls_session_ticket_enable_server's key */

struct ticket_keys;

/* A worker's private copy of the master key, refreshed on accept. */
struct ticket_key_copy {
	uint64_t generation;	/* 0: never copied */
	unsigned char master[TICKET_MASTER_SIZE];
};

/* ticket_keys_create: map the shared keys into *<out>, holding <keys> (48
 * bytes), or random bytes when <keys> is NULL; generation 1. Returns 0 or
 * TLSD_ERR_IO (mmap) / TLSD_ERR_INTERNAL (no random bytes, HKDF). The caller
 * owns *<out>; release it with ticket_keys_destroy. */
int ticket_keys_create(const unsigned char *keys, struct ticket_keys **out) TLSD_MUST_CHECK;

/* ticket_keys_set: replace the keys with <keys> (48 bytes) and bump the
 * generation, which is stored in *<generation> when not NULL. Only one
 * process (the master) may write. Returns 0 or TLSD_ERR_INTERNAL (HKDF);
 * on failure nothing changed. */
int ticket_keys_set(struct ticket_keys *tk, const unsigned char *keys, uint64_t *generation) TLSD_MUST_CHECK;

/* ticket_keys_rotate: ticket_keys_set with 48 random bytes. */
int ticket_keys_rotate(struct ticket_keys *tk, uint64_t *generation) TLSD_MUST_CHECK;

/* ticket_keys_generation: the generation now published (lock-free). */
uint64_t ticket_keys_generation(const struct ticket_keys *tk);

/* ticket_keys_get: a consistent copy of the 48 bytes and their generation
 * (Node's getTicketKeys). Returns 0, or TLSD_ERR_AGAIN when a write never
 * finished (the writer died inside it); then <keys> is untouched. */
int ticket_keys_get(const struct ticket_keys *tk, unsigned char *keys, uint64_t *generation) TLSD_MUST_CHECK;

/* ticket_keys_refresh: bring <copy> up to the published generation without
 * a lock. Returns true when <copy> changed; false when it was current, or
 * when a write never finished (then <copy> keeps the previous whole key). */
bool ticket_keys_refresh(const struct ticket_keys *tk, struct ticket_key_copy *copy);

/* ticket_keys_derive: GnuTLS's 64-byte master from Node's 48 bytes
 * (HKDF-SHA256, salt "tlsd ticket keys", info "stek v1"). Returns 0 or
 * TLSD_ERR_INTERNAL. */
int ticket_keys_derive(const unsigned char *keys, unsigned char *master) TLSD_MUST_CHECK;

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
