/* supervisor.h - the master's process supervision.
 *
 * Forks <workers> workers, restarts one that dies (immediately if it had
 * run for a while; with an exponential backoff from 100 ms to 30 s if it
 * keeps dying at start, so a crash loop cannot become a fork storm; never
 * if it exited with WORKER_EXIT_CONFIG), and on SIGTERM/SIGINT stops:
 * closes the listeners, asks every worker to drain, waits for all of them
 * (SIGKILL after shutdownTimeout + 5 s), and returns.
 */
#ifndef TLSD_MASTER_SUPERVISOR_H
#define TLSD_MASTER_SUPERVISOR_H

#include "common/cluster_stats.h"
#include "common/config.h"
#include "common/conn_table.h"
#include "common/sni_table.h"
#include "common/ticket_keys.h"
#include "master/listeners.h"
#include "worker/backend.h"
#include "worker/tls_server.h"

struct supervisor_setup {
	const struct tlsd_config *cfg;
	const struct tls_server *tls;
	const struct backend *backend;	/* resolved; NULL: echo mode */
	struct listeners *listeners;	/* closed by the supervisor on stop */
	int access_log_fd;		/* -1: off */
	struct ticket_keys *ticket_keys;	/* shared with every worker */
	struct cluster_stats *stats;		/* shared; one slot per worker */
	const struct sni_table *sni_table;	/* shared; SNI contexts */
	struct conn_table *conn_table;		/* shared; open connections by worker */
};

/* supervisor_run: fork the workers, print "ready pid=N workers=N" on
 * stdout, and supervise until stopped. Returns the master's exit status:
 * 0 after a graceful stop, 1 when every worker failed on its config. */
int supervisor_run(const struct supervisor_setup *setup);

#endif
