/* reneg_limit.c - at most <limit> client renegotiations in any <window_s>.
 *
 * r->at[0 .. count-1] holds the times of the renegotiations still inside
 * the window, oldest first; count <= limit <= RENEG_LIMIT_MAX, so dropping
 * the oldest by shifting costs at most 16 moves.
 */
#include "common/reneg_limit.h"

#include <string.h>

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void reneg_limit_init(struct reneg_limit *r, int limit, int window_s)
{
	memset(r, 0, sizeof(*r));
	r->limit = clamp(limit, 0, RENEG_LIMIT_MAX);
	r->window_s = window_s < 0 ? 0 : window_s;
}

/* expire: forget renegotiations at least window_s before <now_s>: one at
 * t still counts at now_s when now_s - t < window_s. A clock that went
 * back (now_s < t) keeps t counted, which errs on the strict side. */
static void expire(struct reneg_limit *r, int64_t now_s)
{
	int keep = 0;

	while (keep < r->count && now_s - r->at[keep] >= r->window_s)
		keep++;
	if (keep == 0)
		return;
	memmove(r->at, r->at + keep, (size_t)(r->count - keep) * sizeof(r->at[0]));
	r->count -= keep;
}

/* A refused renegotiation is not recorded: the caller closes the
 * connection, and the ring never needs more than <limit> slots. */
bool reneg_limit_allow(struct reneg_limit *r, int64_t now_s)
{
	expire(r, now_s);
	if (r->count >= r->limit)
		return false;
	r->at[r->count++] = now_s;
	return true;
}
