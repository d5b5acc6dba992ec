/* api_ticket_keys.h - /v1/ticket-keys: Node's getTicketKeys() and
 * setTicketKeys() over HTTP, on a ring of keys (common/ticket_ring.h):
 * rotation, and a next key installed ahead of its use (a fleet).
 *
 * A 2xx answer means the new ring is written to the state dir and
 * published in shared memory: every worker uses it for every connection it
 * accepts afterwards. Tickets issued under a key still in the ring keep
 * resuming; a key that leaves the ring ends its tickets.
 */
#ifndef TLSD_CTL_API_TICKET_KEYS_H
#define TLSD_CTL_API_TICKET_KEYS_H

#include "ctl/api.h"

/* GET: {"keys": base64 of the active 48 bytes, "generation": n, "ring":
 * [{"id", "state", "createdAt"}]} (no key material but the active key's). */
void api_ticket_keys_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* PUT {"keys": base64 of 48 bytes}: they become the active key, the active
 * one decrypt-only; {"generation": n}; 400 naming "keys". */
void api_ticket_keys_put(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* PUT /next {"keys": base64 of 48 bytes}: they become the next key;
 * {"generation": n}; 409 when the ring holds them already. */
void api_ticket_keys_put_next(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* POST /rotate (no body, or {}): next becomes active, random bytes the
 * next key; {"generation": n}. */
void api_ticket_keys_rotate(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

#endif
