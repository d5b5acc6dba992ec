/* notify.h - systemd's readiness protocol (sd_notify(3)), without
 * libsystemd: one datagram of "KEY=VALUE" lines to the unix socket the
 * environment variable NOTIFY_SOCKET names (a path, or an abstract socket
 * when it starts with '@'). Unset or empty: nothing is sent, nothing is
 * opened (tlsd run by hand, or by another supervisor).
 *
 * What the master sends (docs/systemd/tlsd.service runs it Type=notify):
 * READY=1 once the workers are forked; RELOADING=1 with MONOTONIC_USEC
 * when a SIGHUP reload starts and READY=1 when it is done (applied or
 * refused); STOPPING=1 when a graceful stop starts; STATUS= lines with
 * the workers and the open connections along the way.
 */
#ifndef TLSD_MASTER_NOTIFY_H
#define TLSD_MASTER_NOTIFY_H

#include <stdbool.h>

#include "common/err.h"

/* notify_enabled: NOTIFY_SOCKET is set. */
bool notify_enabled(void);

/* notify_send: send the printf-formatted message (newline-separated
 * assignments) in one datagram. A failure is logged at debug level and
 * otherwise ignored: readiness reports must never stop the service. */
void notify_send(const char *fmt, ...) TLSD_PRINTF(1, 2);

#endif
