/* reneg_limit.h - client renegotiation limit (Node's tls.CLIENT_RENEG_LIMIT
 * and CLIENT_RENEG_WINDOW): at most <limit> renegotiations in any <window>
 * seconds; one more and the connection is closed.
 *
 * Pure logic over a small ring of timestamps: the caller passes the time.
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
 * to 0..RENEG_LIMIT_MAX. */
void reneg_limit_init(struct reneg_limit *r, int limit, int window_s);

/* reneg_limit_allow: record a renegotiation at <now_s>; true when it stays
 * within the limit, false when the client exceeded it (close). */
bool reneg_limit_allow(struct reneg_limit *r, int64_t now_s);

#endif
