/* main.c - tlsd: load and check the config, open the listeners, supervise
 * the workers. */
#include "autoconfig.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "common/cluster_stats.h"
#include "common/context_stats.h"
#include "common/config.h"
#include "common/conn_table.h"
#include "common/creds.h"
#include "common/log.h"
#include "common/sni_table.h"
#include "common/ticket_keys.h"
#include "ctl/control.h"
#include "master/cli.h"
#include "master/contexts.h"
#include "master/generation.h"
#include "master/listeners.h"
#include "master/pid_file.h"
#include "master/preflight.h"
#include "master/privileges.h"
#include "master/supervisor.h"
#include "master/backend_probe.h"
#include "master/ring_sync.h"
#include "master/ticket_keys_state.h"
#include "worker/access_log.h"
#include "worker/backend.h"
#include "worker/tls_server.h"

/* Everything the master builds before it forks, released in one place:
 * the running generation (config and what it builds, replaced on SIGHUP)
 * and what lives as long as the master (listeners, shared memory, the
 * control endpoint). */
struct master {
	struct cli_args args;
	struct generation *gen;		/* the running one; NULL before the config is read */
	struct session_cache *session_cache;
	struct ticket_keys *ticket_keys;
	struct cluster_stats *stats;
	struct context_stats *context_stats;	/* by SNI context */
	struct conn_table *conn_table;
	struct listeners listeners;
	struct control *control;
	struct ring_sync *ring_sync;	/* the ring through the sessionStore; NULL: none */
	struct backend_probe *backend_probe;	/* connect checks of the backend */
	struct supervisor_setup setup;
	double started_at;
	int access_log_fd;
	bool pid_file_written;	/* ours to remove at exit */
};

static int fail(const char *what, const struct tlsd_error *err)
{
	log_error("%s%s", what, err->msg);
	return 1;
}

/* initial_ring: the ring set at runtime before a restart (state dir),
 * else ticketKeys (or random bytes) as the active key; the next key is
 * random unless the state dir has one. */
static int initial_ring(const struct tlsd_config *cfg, struct ticket_ring *ring, struct tlsd_error *err)
{
	unsigned char keys[TICKET_KEYS_SIZE], next[TICKET_KEYS_SIZE];
	bool from_state = false;
	int rc = TLSD_OK;

	if (gnutls_rnd(GNUTLS_RND_KEY, next, sizeof(next)) < 0 || gnutls_rnd(GNUTLS_RND_KEY, keys, sizeof(keys)) < 0)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "ticket keys: no random bytes");
	rc = ticket_keys_state_load(cfg, next, ring, &from_state, err);
	if (rc == TLSD_OK && from_state)
		log_info("ticket keys: the ring set at runtime before the restart (stateDir)");
	else if (rc == TLSD_OK && cfg->ticket_keys != NULL)
		rc = ticket_keys_decode(cfg->ticket_keys, keys, "ticketKeys", err);
	if (rc == TLSD_OK && !from_state)
		ticket_ring_init(ring, keys, next, (int64_t)time(NULL));
	gnutls_memset(keys, 0, sizeof(keys));
	gnutls_memset(next, 0, sizeof(next));
	return rc;
}

/* create_ticket_keys: the shared ring (initial_ring). */
static int create_ticket_keys(struct master *m, struct tlsd_error *err)
{
	struct ticket_ring ring;
	int rc = initial_ring(&m->gen->cfg, &ring, err);

	if (rc < 0) {
		ticket_ring_wipe(&ring);
		return rc;
	}
	rc = ticket_keys_create(&ring, &m->ticket_keys);
	ticket_ring_wipe(&ring);
	if (rc < 0)
		return tlsd_error_set(err, rc, "ticketKeys: cannot set up the shared ticket keys (%s)",
				      tlsd_err_name(rc));
	return TLSD_OK;
}

/* create_shared_state: what the workers share, mapped before fork. Twice
 * the workers' slots: during a reload the old workers drain in one half
 * while the new ones serve from the other. */
static int create_shared_state(struct master *m, struct tlsd_error *err)
{
	const struct tlsd_config *cfg = &m->gen->cfg;

	if (session_cache_create((size_t)cfg->session_cache_size, &m->session_cache) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "sessionCache.size: cannot map %ld entries of shared memory",
				      cfg->session_cache_size);
	tls_server_use_session_cache(m->gen->tls, m->session_cache);
	GUARD(create_ticket_keys(m, err));
	if (cluster_stats_create(2 * cfg->workers, cfg->max_connections, &m->stats) < 0 ||
	    context_stats_create(2 * cfg->workers, &m->context_stats) < 0 ||
	    conn_table_create(2 * cfg->workers, CONN_TABLE_PER_WORKER, &m->conn_table) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "workers: cannot map shared counters for %d worker(s)",
				      cfg->workers);
	if (contexts_count_in(m->gen->contexts, m->context_stats) < 0)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "contexts: out of memory");
	return TLSD_OK;
}

/* prepare: every step that can fail on the user's input, before binding.
 * What the config is loaded with logs in the format the config asks for
 * (config_peek_logging), so its errors do too. */
static int prepare(struct master *m, struct tlsd_error *err)
{
	enum tlsd_log_format format;
	enum tlsd_log_level level;

	config_peek_logging(m->args.config_path, m->args.overrides, &format, &level);
	log_setup(format, level);
	GUARD(generation_build(&m->args, &m->gen, err));
	log_setup(m->gen->cfg.log_format, m->gen->cfg.log_level);
	return create_shared_state(m, err);
}

static int print_check(const struct master *m)
{
	json_t *effective = config_to_json(&m->gen->cfg);

	if (effective == NULL)
		return 1;
	json_object_set_new(effective, "effectivePriority", json_string(tls_server_priority_text(m->gen->tls)));
	json_dumpf(effective, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(effective);
	return 0;
}

/* api_env_of: what the control API sees of the running generation. */
static struct api_env api_env_of(const struct master *m)
{
	return (struct api_env){
		.cfg = &m->gen->cfg, .ticket_keys = m->ticket_keys, .stats = m->stats,
		.context_stats = m->context_stats, .session_cache = m->session_cache, .listeners = &m->listeners,
		.started_at = m->started_at, .priority_text = tls_server_priority_text(m->gen->tls),
		.contexts = m->gen->contexts, .conn_table = m->conn_table, .creds = m->gen->creds,
		.ring_sync = m->ring_sync,
		.backend_probe = m->gen->has_backend ? m->backend_probe : NULL,
	};
}

/* open_control: the control endpoint on the master's loop (the one the
 * supervisor runs), announced like the listeners. */
static int open_control(struct master *m, struct tlsd_error *err)
{
	struct api_env env;

	if (ring_sync_new(ev_default_loop(0), &m->gen->cfg, m->ticket_keys, &m->ring_sync) < 0)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "sessionStore: cannot share the ticket-key ring");
	if (backend_probe_new(ev_default_loop(0), m->stats, m->gen->has_backend ? &m->gen->backend : NULL,
			      &m->backend_probe) < 0)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "backend: out of memory");
	env = api_env_of(m);
	GUARD(control_open(&env, ev_default_loop(0), &m->control, err));
	if (m->control != NULL)
		printf("control %s\n", control_address(m->control));
	return TLSD_OK;
}

/* point_setup: the supervisor forks new workers from the running generation. */
static void point_setup(struct master *m)
{
	m->setup.cfg = &m->gen->cfg;
	m->setup.tls = m->gen->tls;
	m->setup.backend = m->gen->has_backend ? &m->gen->backend : NULL;
	m->setup.sni_table = m->gen->sni_table;
	m->setup.priv = &m->gen->priv;
}

/* apply_shared_changes: what a reload changes in shared memory: the ticket
 * keys and maxConnections, only when the config's value itself changed
 * (a value set at runtime survives a reload of an unchanged config). */
static int apply_shared_changes(struct master *m, const struct tlsd_config *old, const struct tlsd_config *next,
				struct tlsd_error *err)
{
	unsigned char keys[TICKET_KEYS_SIZE];
	int rc = TLSD_OK;

	if (next->ticket_keys != NULL && (old->ticket_keys == NULL || strcmp(old->ticket_keys, next->ticket_keys) != 0)) {
		rc = ticket_keys_decode(next->ticket_keys, keys, "ticketKeys", err);
		if (rc == TLSD_OK && ticket_keys_set(m->ticket_keys, keys, (size_t)next->ticket_key_ring, NULL) < 0)
			rc = tlsd_error_set(err, TLSD_ERR_INTERNAL, "ticketKeys: cannot derive the ticket key");
		gnutls_memset(keys, 0, sizeof(keys));
	}
	if (rc == TLSD_OK && next->max_connections != old->max_connections)
		cluster_stats_set_max_connections(m->stats, next->max_connections);
	return rc;
}

/* reload: SIGHUP. Build the next generation beside the running one; on
 * any error keep the running one (nothing changed). On success the
 * supervisor forks new workers from it and lets the old ones drain. */
static int reload(void *arg, struct supervisor_setup *setup)
{
	struct master *m = arg;
	struct generation *next = NULL, *old;
	struct tlsd_error err = { "" };
	const char *fixed;
	struct api_env env;

	if (generation_build(&m->args, &next, &err) < 0)
		goto refused;
	fixed = generation_needs_restart(&m->gen->cfg, &next->cfg);
	if (fixed != NULL) {
		tlsd_error_set(&err, TLSD_ERR_CONFIG, "%s: changed; only a restart applies it", fixed);
		goto refused;
	}
	if (apply_shared_changes(m, &m->gen->cfg, &next->cfg, &err) < 0)
		goto refused;
	if (contexts_count_in(next->contexts, m->context_stats) < 0) {
		tlsd_error_set(&err, TLSD_ERR_INTERNAL, "contexts: out of memory");
		goto refused;
	}
	tls_server_use_session_cache(next->tls, m->session_cache);
	old = m->gen;
	m->gen = next;
	log_setup(m->gen->cfg.log_format, m->gen->cfg.log_level);
	point_setup(m);
	env = api_env_of(m);
	control_use_env(m->control, &env);
	ring_sync_use_config(m->ring_sync, &m->gen->cfg);
	backend_probe_use(m->backend_probe, m->gen->has_backend ? &m->gen->backend : NULL);
	generation_free(old);
	return TLSD_OK;
refused:
	log_error("SIGHUP: reload refused: %s; still serving the previous configuration", err.msg);
	generation_free(next);
	return TLSD_ERR_CONFIG;
}

/* warn_if_root: workers that keep root because nothing said otherwise
 * (see privileges.h for why this is not yet an error). */
static void warn_if_root(const struct privileges *priv)
{
	if (priv->root_by_default)
		log_warn("workers run as root: set \"user\" (--user) to the account they should run as, "
			 "or \"user\": \"root\" to keep root on purpose");
}

static int serve(struct master *m, struct tlsd_error *err)
{
	m->setup = (struct supervisor_setup){
		.listeners = &m->listeners, .access_log_fd = -1, .ticket_keys = m->ticket_keys,
		.stats = m->stats, .context_stats = m->context_stats, .conn_table = m->conn_table,
		.reload = reload, .reload_arg = m,
	};
	point_setup(m);
	if (pid_file_check(m->gen->cfg.pid_file, err) < 0 ||
	    listeners_open(&m->gen->cfg.listen, &m->listeners, err) < 0)
		return fail("", err);
	if (access_log_open(m->gen->cfg.access_log, &m->access_log_fd, err) < 0 ||
	    privileges_give_fd(&m->gen->priv, m->access_log_fd, "accessLog", err) < 0 ||
	    contexts_share(m->gen->contexts, err) < 0)
		return fail("", err);
	warn_if_root(&m->gen->priv);
	for (size_t i = 0; i < m->listeners.n; i++)
		printf("listening %s\n", m->listeners.items[i].text);
	if (open_control(m, err) < 0 || pid_file_write(m->gen->cfg.pid_file, err) < 0)
		return fail("", err);
	m->pid_file_written = m->gen->cfg.pid_file != NULL;
	fflush(stdout);
	m->setup.access_log_fd = m->access_log_fd;
	return supervisor_run(&m->setup);
}

static void release(struct master *m)
{
	if (m->pid_file_written)
		pid_file_remove(m->gen->cfg.pid_file);
	control_close(m->control);
	ring_sync_free(m->ring_sync);
	backend_probe_free(m->backend_probe);
	listeners_close(&m->listeners);
	if (m->access_log_fd > STDERR_FILENO)
		close(m->access_log_fd);
	session_cache_destroy(m->session_cache);
	ticket_keys_destroy(m->ticket_keys);
	cluster_stats_destroy(m->stats);
	context_stats_destroy(m->context_stats);
	conn_table_destroy(m->conn_table);
	generation_free(m->gen);
	cli_args_free(&m->args);
}

static int run(struct master *m, int argc, char **argv)
{
	struct tlsd_error err = { "" };

	if (cli_parse(argc, argv, &m->args, &err) < 0) {
		fprintf(stderr, "tlsd: %s\n", err.msg);
		return 2;
	}
	if (m->args.help) {
		cli_usage(stdout);
		return 0;
	}
	if (m->args.version) {
		printf("%s (GnuTLS %s)\n", PACKAGE_STRING, gnutls_check_version(NULL));
		return 0;
	}
	if (prepare(m, &err) < 0)
		return fail("config: ", &err);
	if (m->args.check)
		return preflight_paths(&m->gen->cfg, &m->gen->priv) > 0 ? 1 : print_check(m);
	return serve(m, &err);
}

int main(int argc, char **argv)
{
	struct master m;
	int status;

	memset(&m, 0, sizeof(m));
	m.access_log_fd = -1;
	m.started_at = (double)time(NULL);
	status = run(&m, argc, argv);
	release(&m);
	return status;
}
