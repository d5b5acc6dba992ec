/* generation.c - build, compare and free one configuration's products. */
#include "master/generation.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "worker/backend_tls.h"


/* resolve_backend: resolve the backend once, before fork, so a bad one
 * stops the start (or the reload) and no worker blocks in getaddrinfo. */
static int resolve_backend(struct generation *g, struct tlsd_error *err)
{
	if (g->cfg.backend == NULL)
		return TLSD_OK;
	GUARD(backend_resolve(g->cfg.backend, &g->backend, err));
	g->has_backend = true;
	/* TLS to the backend: its CA and client certificate load here, once. */
	if (g->cfg.backend_tls)
		GUARD(backend_tls_new(&g->cfg, g->backend.host, &g->backend.tls, err));
	g->backend.timeout_ms = g->cfg.backend_timeout_ms;
	return TLSD_OK;
}

/* open_contexts: the SNI contexts of the config and the state dir, in a
 * table the workers of this generation read. */
static int open_contexts(struct generation *g, struct tlsd_error *err)
{
	if (sni_table_create(SNI_TABLE_CAPACITY, &g->sni_table) < 0)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "contexts: cannot map the shared context table");
	return contexts_open(&g->cfg, &g->priv, g->sni_table, &g->contexts, err);
}

static int build_steps(struct generation *g, const struct cli_args *args, struct tlsd_error *err)
{
	GUARD(config_load(&g->cfg, args->config_path, args->overrides, err));
	GUARD(privileges_resolve(&g->cfg, &g->priv, err));
	GUARD(creds_load(&g->cfg, &g->creds, err));
	GUARD(tls_server_new(&g->cfg, g->creds, &g->tls, err));
	GUARD(resolve_backend(g, err));
	return open_contexts(g, err);
}

int generation_build(const struct cli_args *args, struct generation **out, struct tlsd_error *err)
{
	struct generation *g = calloc(1, sizeof(*g));
	int rc;

	*out = NULL;
	if (g == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "out of memory");
	config_init(&g->cfg);
	rc = build_steps(g, args, err);
	if (rc < 0) {
		generation_free(g);
		return rc;
	}
	*out = g;
	return TLSD_OK;
}

static bool same_text(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_list(const struct tlsd_str_list *a, const struct tlsd_str_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return false;
	return true;
}

const char *generation_needs_restart(const struct tlsd_config *old, const struct tlsd_config *next)
{
	if (!same_list(&old->listen, &next->listen))
		return "listen";
	if (old->workers != next->workers)
		return "workers";
	if (!same_text(old->control_listen, next->control_listen))
		return "control.listen";
	if (!same_text(old->control_token_file, next->control_token_file))
		return "control.tokenFile";
	if (!same_text(old->state_dir, next->state_dir))
		return "stateDir";
	if (old->session_cache_size != next->session_cache_size)
		return "sessionCache.size";
	if (!same_text(old->access_log, next->access_log))
		return "accessLog";
	if (!same_text(old->user, next->user))
		return "user";
	if (!same_text(old->group, next->group))
		return "group";
	if (!same_text(old->pid_file, next->pid_file))
		return "pidFile";
	return NULL;
}

void generation_free(struct generation *g)
{
	if (g == NULL)
		return;
	contexts_free(g->contexts);
	sni_table_destroy(g->sni_table);
	tls_server_free(g->tls);
	backend_tls_free(g->backend.tls);
	creds_free(g->creds);
	config_free(&g->cfg);
	free(g);
}
