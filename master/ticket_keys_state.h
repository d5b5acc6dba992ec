/* ticket_keys_state.h - the ticket key ring set at runtime survives a restart.
 *
 * PUT /v1/ticket-keys, PUT /v1/ticket-keys/next and rotation write
 * STATE_DIR/ticket-keys (mode 0600, atomically) before the new ring is
 * published: {"keys": the active key, "config": mark, "ring": [{"keys",
 * "state", "createdAt"}]} (a file of an older tlsd, without "ring", holds
 * the active key only). At start the file wins
 * over the config's ticketKeys only if the config still says what it said
 * when the file was written (a SHA-256 of ticketKeys is kept beside the
 * keys): an operator who changes ticketKeys in the config and restarts
 * gets those keys; one who only restarts keeps the rotated ones.
 */
#ifndef TLSD_MASTER_TICKET_KEYS_STATE_H
#define TLSD_MASTER_TICKET_KEYS_STATE_H

#include <stdbool.h>

#include "common/config.h"
#include "common/err.h"
#include "common/ticket_keys.h"

/* ticket_keys_state_load: the ring to start with from the state file into
 * <ring> (*<found> true), or *<found> false when there is no file or the
 * config's ticketKeys changed since it was written. A file that cannot be
 * read, or holds no valid ring, is an error naming it. A file without a
 * ring gives its key as active and <next> as the next key. */
int ticket_keys_state_load(const struct tlsd_config *cfg, const unsigned char *next, struct ticket_ring *ring,
			   bool *found, struct tlsd_error *err) TLSD_MUST_CHECK;

/* ticket_keys_state_ring_json: <ring> as [{"keys", "state", "createdAt"}]
 * (key material: wipe with ticket_keys_state_wipe_json before freeing). */
json_t *ticket_keys_state_ring_json(const struct ticket_ring *ring);

/* ticket_keys_state_ring_parse: that array back into <ring>, checked
 * (ticket_ring_validate); errors name <what>. */
int ticket_keys_state_ring_parse(json_t *list, const char *what, struct ticket_ring *ring,
				 struct tlsd_error *err) TLSD_MUST_CHECK;

/* ticket_keys_state_wipe_json: overwrite every string in <v>. */
void ticket_keys_state_wipe_json(json_t *v);

/* ticket_keys_state_save: write <ring> for the next start. */
int ticket_keys_state_save(const struct tlsd_config *cfg, const struct ticket_ring *ring,
			   struct tlsd_error *err) TLSD_MUST_CHECK;

#endif
