/* api_ticket_keys.h - /v1/ticket-keys: Node's getTicketKeys() and
 * setTicketKeys() over HTTP, plus rotation to random keys.
 *
 * A 2xx answer means the new keys are published in shared memory: every
 * worker uses them for every connection it accepts afterwards. Tickets
 * issued under the old keys no longer resume (docs/design.md).
 */
#ifndef TLSD_CTL_API_TICKET_KEYS_H
#define TLSD_CTL_API_TICKET_KEYS_H

#include "ctl/api.h"

/* GET: {"keys": base64 of 48 bytes, "generation": n}. */
void api_ticket_keys_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* PUT {"keys": base64 of 48 bytes}: {"generation": n}; 400 naming "keys". */
void api_ticket_keys_put(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* POST /rotate (no body, or {}): new random keys; {"generation": n}. */
void api_ticket_keys_rotate(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

#endif
