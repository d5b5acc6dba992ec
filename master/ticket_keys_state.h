/* ticket_keys_state.h - ticket keys set at runtime survive a restart.
 *
 * PUT /v1/ticket-keys and rotation write STATE_DIR/ticket-keys (mode 0600,
 * atomically) before the new keys are published. At start the file wins
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

/* ticket_keys_state_load: the 48 bytes to start with from the state file
 * into <keys> (*<found> true), or *<found> false when there is no file or
 * the config's ticketKeys changed since it was written. A file that cannot
 * be read is an error naming it. */
int ticket_keys_state_load(const struct tlsd_config *cfg, unsigned char *keys, bool *found,
			   struct tlsd_error *err) TLSD_MUST_CHECK;

/* ticket_keys_state_save: write <keys> (48 bytes) for the next start. */
int ticket_keys_state_save(const struct tlsd_config *cfg, const unsigned char *keys,
			   struct tlsd_error *err) TLSD_MUST_CHECK;

#endif
