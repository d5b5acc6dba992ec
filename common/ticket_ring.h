/* ticket_ring.h - the ticket keys tlsd holds at once, and how they move.
 *
 * States, as nginx's list of ticket key files and HAProxy's ring of 3:
 *   next          installed, not yet used to encrypt: a fleet can hand it to
 *                 every machine before any of them issues tickets under it;
 *                 it already decrypts (a machine that activated it earlier
 *                 may have issued some)
 *   active        encrypts new tickets and decrypts (Node's getTicketKeys)
 *   decrypt-only  former active keys, newest first, kept until the ring is
 *                 full: tickets issued under them still resume
 * The entries are kept in that order: next (if any), active, then the
 * decrypt-only keys. A ring holds at most <size> entries (ticketKeyRing,
 * 2..TICKET_RING_MAX); the oldest decrypt-only key goes first. Size 2 (next
 * and active) is Node's setTicketKeys: a rotation ends every older ticket.
 *
 * Pure logic on a value: no shared memory, no lock, no clock (times are
 * passed in). common/ticket_keys publishes a ring to the workers.
 */
#ifndef TLSD_COMMON_TICKET_RING_H
#define TLSD_COMMON_TICKET_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define TICKET_KEYS_SIZE 48	/* Node's ticketKeys */
#define TICKET_RING_MAX 8
#define TICKET_RING_DEFAULT 3

enum ticket_key_state { TICKET_KEY_NEXT, TICKET_KEY_ACTIVE, TICKET_KEY_DECRYPT_ONLY };

struct ticket_ring_entry {
	unsigned char keys[TICKET_KEYS_SIZE];
	enum ticket_key_state state;
	int64_t created_at;	/* unix seconds */
};

struct ticket_ring {
	size_t n;
	struct ticket_ring_entry e[TICKET_RING_MAX];
};

/* ticket_ring_init: a ring of <active> (48 bytes) and <next>, made at <now>. */
void ticket_ring_init(struct ticket_ring *r, const unsigned char *active, const unsigned char *next, int64_t now);

/* ticket_ring_rotate: next becomes active, the active key decrypt-only,
 * and <new_next> the next key; at most <size> entries stay. A ring without
 * a next key takes <new_next> as its active key directly. */
void ticket_ring_rotate(struct ticket_ring *r, const unsigned char *new_next, int64_t now, size_t size);

/* ticket_ring_set_active: <keys> become the active key (Node's
 * setTicketKeys); the active key before becomes decrypt-only, and an entry
 * already holding <keys> (the next key, say) is taken over, not doubled. */
void ticket_ring_set_active(struct ticket_ring *r, const unsigned char *keys, int64_t now, size_t size);

/* ticket_ring_set_next: <keys> become the next key, replacing the one
 * before; an entry already holding <keys> is left where it is (the call
 * changes nothing then, and returns false). */
bool ticket_ring_set_next(struct ticket_ring *r, const unsigned char *keys, int64_t now);

/* ticket_ring_active: the active entry (every valid ring has one). */
const struct ticket_ring_entry *ticket_ring_active(const struct ticket_ring *r);

/* ticket_ring_validate: TLSD_OK when <r> is a ring as described above
 * (1..TICKET_RING_MAX entries, at most one next and it first, exactly one
 * active, no two entries with the same keys); else TLSD_ERR_CONFIG with
 * the reason in <err>. */
int ticket_ring_validate(const struct ticket_ring *r, struct tlsd_error *err) TLSD_MUST_CHECK;

/* ticket_ring_state_name / ticket_ring_state_parse: "next", "active",
 * "decrypt-only"; parse answers false for any other text. */
const char *ticket_ring_state_name(enum ticket_key_state s);
bool ticket_ring_state_parse(const char *text, enum ticket_key_state *out);

/* ticket_ring_id: a 16-hex-digit name of <keys> (the start of their
 * SHA-256), the same on every machine, revealing nothing usable. <out>
 * holds at least 17 bytes. */
void ticket_ring_id(const unsigned char *keys, char *out);

/* ticket_ring_wipe: zero every key in <r>. */
void ticket_ring_wipe(struct ticket_ring *r);

#endif
