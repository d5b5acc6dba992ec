/* worker.h - a worker process: accepts from the shared listening sockets,
 * runs TLS and pumps bytes until told to stop.
 *
 * Stop: SIGTERM/SIGINT (or the master's death, via PR_SET_PDEATHSIG) stops
 * accepting and lets open connections finish for shutdownTimeout ms; the
 * rest are then closed with close reason "shutdown".
 */
#ifndef TLSD_WORKER_WORKER_H
#define TLSD_WORKER_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/cluster_stats.h"
#include "common/config.h"
#include "common/conn_table.h"
#include "common/context_stats.h"
#include "common/sni_table.h"
#include "common/ticket_keys.h"
#include "worker/access_log.h"
#include "worker/backend.h"
#include "worker/tls_server.h"

/* Exit status of a worker that cannot start because of its configuration:
 * the master does not restart it (it would fail again). */
#define WORKER_EXIT_CONFIG 78

struct worker_setup {
	int number;			/* 1..workers */
	pid_t master;			/* to notice the master's death */
	const struct tlsd_config *cfg;
	const struct tls_server *tls;
	const struct backend *backend;	/* resolved by the master; NULL: echo */
	const int *listen_fds;
	size_t n_listen;
	int access_log_fd;		/* -1: off */
	const struct ticket_keys *ticket_keys;	/* shared; copied on accept when changed */
	struct cluster_stats *stats;		/* shared; this worker writes slot number - 1 */
	struct context_stats *context_stats;	/* shared; by SNI context, the same slot */
	const struct sni_table *sni_table;	/* shared; SNI contexts, refreshed on accept */
	struct conn_table *conn_table;		/* shared; this worker lists its connections */
};

/* worker_startup_signals: the signals the master blocks across fork and
 * the worker unblocks once its own handlers are in place, so that one sent
 * right after the fork is neither lost nor (SIGUSR1) fatal. */
void worker_startup_signals(sigset_t *set);

/* worker_run: run the worker in this (forked) process; returns its exit
 * status (0 after a clean stop). */
int worker_run(const struct worker_setup *setup);

#endif
