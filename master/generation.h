/* generation.h - what one reading of the configuration builds: the
 * config, the credentials, the shared TLS settings, the resolved backend
 * and the SNI contexts (with the table the workers read them from).
 *
 * The master builds one at start and, on SIGHUP, builds the next one
 * beside it: only when every step succeeded does it replace the running
 * one (master/main.c), so a bad reload changes nothing. Workers are forked
 * from a generation and keep their copy of it until they exit.
 */
#ifndef TLSD_MASTER_GENERATION_H
#define TLSD_MASTER_GENERATION_H

#include <stdbool.h>

#include "common/config.h"
#include "common/creds.h"
#include "common/err.h"
#include "common/sni_table.h"
#include "master/cli.h"
#include "master/contexts.h"
#include "worker/backend.h"
#include "worker/tls_server.h"

struct generation {
	struct tlsd_config cfg;
	struct tlsd_creds *creds;
	struct tls_server *tls;
	struct backend backend;
	bool has_backend;
	struct sni_table *sni_table;
	struct contexts *contexts;
};

/* generation_init: an empty generation (generation_free is a no-op). */
void generation_init(struct generation *g);

/* generation_build: read the config file and flags of <args> into <g>
 * (from generation_init) and build everything from it, in the order a
 * user's mistake is best reported: config, credentials, TLS settings,
 * backend, contexts. Errors name the config key. On error <g> holds what
 * was built so far: free it. */
int generation_build(struct generation *g, const struct cli_args *args, struct tlsd_error *err) TLSD_MUST_CHECK;

/* generation_needs_restart: the first setting that differs between <old>
 * and <next> and that only a restart can change (listen, workers, control,
 * stateDir, sessionCache.size, accessLog); NULL when there is none. */
const char *generation_needs_restart(const struct tlsd_config *old, const struct tlsd_config *next);

/* generation_free: release <g> and make it empty. */
void generation_free(struct generation *g);

#endif
