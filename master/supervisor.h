/* supervisor.h - the master's process supervision.
 *
 * Forks <workers> workers, restarts one that dies (immediately if it had
 * run for a while; with an exponential backoff from 100 ms to 30 s if it
 * keeps dying at start, so a crash loop cannot become a fork storm; never
 * if it exited with WORKER_EXIT_CONFIG; a fork that fails is retried with
 * the same backoff), and on SIGTERM/SIGINT stops:
 * closes the listeners, asks every worker to drain, waits for all of them
 * (SIGKILL after shutdownTimeout + 5 s), and returns.
 *
 * Test hook: while the file the environment variable TLSD_TEST_FORK_FAIL
 * names exists, forking a worker fails with EAGAIN (as it does when the
 * system is out of processes); unset, nothing is checked.
 */
#ifndef TLSD_MASTER_SUPERVISOR_H
#define TLSD_MASTER_SUPERVISOR_H

#include "common/cluster_stats.h"
#include "common/config.h"
#include "common/conn_table.h"
#include "common/context_stats.h"
#include "common/sni_table.h"
#include "common/ticket_keys.h"
#include "master/listeners.h"
#include "master/privileges.h"
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
	struct context_stats *context_stats;	/* shared; by SNI context, one region per worker */
	const struct sni_table *sni_table;	/* shared; SNI contexts */
	struct conn_table *conn_table;		/* shared; open connections by worker */
	const struct privileges *priv;		/* what each worker drops to after fork */
	/* reload: on SIGHUP, build the next generation and point cfg, tls,
	 * backend and sni_table at it; 0, or negative when it was refused
	 * (then nothing changed). NULL: SIGHUP is ignored. */
	int (*reload)(void *arg, struct supervisor_setup *setup);
	void *reload_arg;
};

/* supervisor_run: fork the workers, print "ready pid=N workers=N" on
 * stdout, and supervise until stopped. <setup> may change (reload) while
 * it runs. Returns the master's exit status: 0 after a graceful stop, 1
 * when every worker failed on its config.
 *
 * SIGHUP: when setup->reload succeeds, a new worker is forked for every
 * running one, from the new generation, into the other half of the 2 x
 * workers slots, and the old workers are told to drain (SIGTERM: they
 * stop accepting and finish their connections); no connection is dropped.
 * A SIGHUP while old workers still drain is refused (logged). */
int supervisor_run(struct supervisor_setup *setup);

#endif
