/* reneg_limit.h - client renegotiation limit (Node's tls.CLIENT_RENEG_LIMIT
 * and CLIENT_RENEG_WINDOW): at most <limit> renegotiations in any <window>
 * seconds; one more and the connection is closed.
 *
 * Pure logic over a small ring of timestamps: the caller passes the time
 * (a monotonic clock, in seconds).
 *
 * Meaning, chosen to match Node's documentation ("limited to three times
 * every 10 minutes", defaults 3 and 600 s): a sliding window. A
 * renegotiation at t counts until t + window_s, so with 3/600 the 4th
 * within 600 s is refused, and once the oldest is 600 s old one more is
 * allowed again. The initial handshake is not a renegotiation and is not
 * passed here (Node skips the first handshake too). Node's code instead
 * keeps one counter that resets only after a gap of a whole window since
 * the previous handshake; that never allows more than ours does, and it
 * also refuses a client renegotiating steadily just under once per window,
 * which the documented limit allows. tlsd follows the documented limit.
 */
#ifndef TLSD_COMMON_RENEG_LIMIT_H
#define TLSD_COMMON_RENEG_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RENEG_LIMIT_MAX 16	/* config "renegotiation.limit" upper bound */

struct reneg_limit {
	int limit;		/* 0 = no renegotiation at all */
	int window_s;
	int count;		/* timestamps held */
	int64_t at[RENEG_LIMIT_MAX];
};

/* reneg_limit_init: start with no renegotiation seen. <limit> is clamped
 * to 0..RENEG_LIMIT_MAX (0 refuses every renegotiation); a negative
 * <window_s> counts as 0, where nothing is remembered, so only limit 0
 * refuses. */
void reneg_limit_init(struct reneg_limit *r, int limit, int window_s);

/* reneg_limit_allow: a renegotiation (not the first handshake) starts at
 * <now_s>; true and recorded when it stays within the limit, false when
 * the client exceeded it (close the connection; a refusal is not recorded). */
bool reneg_limit_allow(struct reneg_limit *r, int64_t now_s);

#endif
