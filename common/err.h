/* err.h - tlsd's one error convention.
 *
 * Functions that can fail return 0 on success or a negative enum tlsd_err.
 * The category doubles as a metrics/log label (tlsd_err_name). A function that
 * fails with a message for the user also fills a struct tlsd_error, whose text
 * always names the thing that is wrong (a config key, a file, a field).
 */
#ifndef TLSD_COMMON_ERR_H
#define TLSD_COMMON_ERR_H

#include <stddef.h>

enum tlsd_err {
	TLSD_OK = 0,
	TLSD_ERR_IO = -1,	/* a system call failed */
	TLSD_ERR_AGAIN = -2,	/* would block: try again when ready */
	TLSD_ERR_CLOSED = -3,	/* the peer closed */
	TLSD_ERR_PROTO = -4,	/* bytes from outside broke a protocol */
	TLSD_ERR_CONFIG = -5,	/* bad configuration or bad input */
	TLSD_ERR_INTERNAL = -6,	/* a bug or out of memory */
};

#define TLSD_MUST_CHECK __attribute__((warn_unused_result))
#define TLSD_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* A message for the user; empty when nothing went wrong. */
struct tlsd_error {
	char msg[1024];
};

/* tlsd_error_set: format <fmt> into <e> (if non-NULL) and return <code>. */
int tlsd_error_set(struct tlsd_error *e, int code, const char *fmt, ...) TLSD_PRINTF(3, 4);

/* tlsd_err_name: short lowercase label of <code> ("io", "config", ...). */
const char *tlsd_err_name(int code);

/* GUARD(x): return x's negative result to the caller. */
#define GUARD(x)                        \
	do {                            \
		int guard_rc_ = (x);    \
		if (guard_rc_ < 0)      \
			return guard_rc_; \
	} while (0)

/* GUARD_GOTO(x, rc, label): on a negative result store it in rc and jump. */
#define GUARD_GOTO(x, rc, label)        \
	do {                            \
		(rc) = (x);             \
		if ((rc) < 0)           \
			goto label;     \
	} while (0)

#endif
