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
#include "master/privileges.h"
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
	struct privileges priv;		/* the workers' user and group */
};

/* generation_build: read the config file and flags of <args> and build
 * everything from them into a new generation *<out>, in the order a user's
 * mistake is best reported: config, user and group, credentials, TLS
 * settings, backend, contexts. Errors name the config key; then *<out> is NULL and nothing is
 * left over. A generation never moves (what it builds keeps pointers to
 * its config): release it with generation_free. */
int generation_build(const struct cli_args *args, struct generation **out, struct tlsd_error *err) TLSD_MUST_CHECK;

/* generation_needs_restart: the first setting that differs between <old>
 * and <next> and that only a restart can change (listen, workers, control,
 * stateDir, sessionCache.size, accessLog); NULL when there is none. */
const char *generation_needs_restart(const struct tlsd_config *old, const struct tlsd_config *next);

/* generation_free: release <g> (NULL is fine). */
void generation_free(struct generation *g);

#endif
