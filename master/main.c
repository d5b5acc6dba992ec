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

#include <gnutls/gnutls.h>

#include "common/cluster_stats.h"
#include "common/config.h"
#include "common/conn_table.h"
#include "common/creds.h"
#include "common/log.h"
#include "common/sni_table.h"
#include "common/ticket_keys.h"
#include "ctl/control.h"
#include "master/cli.h"
#include "master/contexts.h"
#include "master/listeners.h"
#include "master/supervisor.h"
#include "master/ticket_keys_state.h"
#include "worker/access_log.h"
#include "worker/backend.h"
#include "worker/tls_server.h"

/* Everything the master builds before it forks, released in one place. */
struct master {
	struct cli_args args;
	struct tlsd_config cfg;
	struct tlsd_creds *creds;
	struct tls_server *tls;
	struct session_cache *session_cache;
	struct ticket_keys *ticket_keys;
	struct cluster_stats *stats;
	struct sni_table *sni_table;
	struct conn_table *conn_table;
	struct contexts *contexts;
	struct listeners listeners;
	struct control *control;
	struct backend backend;
	bool has_backend;
	int access_log_fd;
};

static int fail(const char *what, const struct tlsd_error *err)
{
	log_error("%s%s", what, err->msg);
	return 1;
}

/* resolve_backend: resolve the backend once, before fork, so a bad one
 * stops the start and no worker blocks in getaddrinfo. */
static int resolve_backend(struct master *m, struct tlsd_error *err)
{
	if (m->cfg.backend == NULL)
		return TLSD_OK;
	GUARD(backend_resolve(m->cfg.backend, &m->backend, err));
	m->has_backend = true;
	return TLSD_OK;
}

/* open_contexts: the SNI contexts of the config and the state dir, in
 * the table the workers read. */
static int open_contexts(struct master *m, struct tlsd_error *err)
{
	if (sni_table_create(SNI_TABLE_CAPACITY, &m->sni_table) < 0)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "contexts: cannot map the shared context table");
	return contexts_open(&m->cfg, m->sni_table, &m->contexts, err);
}

/* create_ticket_keys: the shared keys, from ticketKeys or random. */
static int create_ticket_keys(struct master *m, struct tlsd_error *err)
{
	unsigned char keys[TICKET_KEYS_SIZE];
	bool from_state = false;
	int rc;

	GUARD(ticket_keys_state_load(&m->cfg, keys, &from_state, err));
	if (from_state)
		log_info("ticket keys: the ones set at runtime before the restart (stateDir)");
	else if (m->cfg.ticket_keys != NULL)
		GUARD(ticket_keys_decode(m->cfg.ticket_keys, keys, "ticketKeys", err));
	rc = ticket_keys_create(from_state || m->cfg.ticket_keys != NULL ? keys : NULL, &m->ticket_keys);
	gnutls_memset(keys, 0, sizeof(keys));
	if (rc < 0)
		return tlsd_error_set(err, rc, "ticketKeys: cannot set up the shared ticket keys (%s)",
				      tlsd_err_name(rc));
	return TLSD_OK;
}

/* create_shared_state: what the workers share, mapped before fork. */
static int create_shared_state(struct master *m, struct tlsd_error *err)
{
	if (session_cache_create((size_t)m->cfg.session_cache_size, &m->session_cache) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "sessionCache.size: cannot map %ld entries of shared memory",
				      m->cfg.session_cache_size);
	tls_server_use_session_cache(m->tls, m->session_cache);
	GUARD(create_ticket_keys(m, err));
	if (cluster_stats_create(m->cfg.workers, m->cfg.max_connections, &m->stats) < 0 ||
	    conn_table_create(m->cfg.workers, CONN_TABLE_PER_WORKER, &m->conn_table) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "workers: cannot map shared counters for %d worker(s)",
				      m->cfg.workers);
	return TLSD_OK;
}

/* prepare: every step that can fail on the user's input, before binding. */
static int prepare(struct master *m, struct tlsd_error *err)
{
	GUARD(config_load(&m->cfg, m->args.config_path, m->args.overrides, err));
	log_setup(m->cfg.log_format, m->cfg.log_level);
	GUARD(creds_load(&m->cfg, &m->creds, err));
	GUARD(tls_server_new(&m->cfg, m->creds, &m->tls, err));
	GUARD(create_shared_state(m, err));
	GUARD(resolve_backend(m, err));
	GUARD(open_contexts(m, err));
	return TLSD_OK;
}

static int print_check(const struct master *m)
{
	json_t *effective = config_to_json(&m->cfg);

	if (effective == NULL)
		return 1;
	json_object_set_new(effective, "effectivePriority", json_string(tls_server_priority_text(m->tls)));
	json_dumpf(effective, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(effective);
	return 0;
}

/* open_control: the control endpoint on the master's loop (the one the
 * supervisor runs), announced like the listeners. */
static int open_control(struct master *m, struct tlsd_error *err)
{
	struct api_env env = {
		.cfg = &m->cfg, .ticket_keys = m->ticket_keys, .stats = m->stats,
		.session_cache = m->session_cache, .listeners = &m->listeners,
		.started_at = (double)time(NULL), .priority_text = tls_server_priority_text(m->tls),
		.contexts = m->contexts, .conn_table = m->conn_table,
	};

	GUARD(control_open(&env, ev_default_loop(0), &m->control, err));
	if (m->control != NULL)
		printf("control %s\n", control_address(m->control));
	return TLSD_OK;
}

static int serve(struct master *m, struct tlsd_error *err)
{
	struct supervisor_setup setup = {
		.cfg = &m->cfg, .tls = m->tls, .backend = m->has_backend ? &m->backend : NULL,
		.listeners = &m->listeners, .access_log_fd = -1,
		.ticket_keys = m->ticket_keys, .stats = m->stats, .sni_table = m->sni_table,
		.conn_table = m->conn_table,
	};

	if (listeners_open(&m->cfg.listen, &m->listeners, err) < 0)
		return fail("", err);
	if (access_log_open(m->cfg.access_log, &m->access_log_fd, err) < 0)
		return fail("", err);
	for (size_t i = 0; i < m->listeners.n; i++)
		printf("listening %s\n", m->listeners.items[i].text);
	if (open_control(m, err) < 0)
		return fail("", err);
	fflush(stdout);
	setup.access_log_fd = m->access_log_fd;
	return supervisor_run(&setup);
}

static void release(struct master *m)
{
	control_close(m->control);
	listeners_close(&m->listeners);
	if (m->access_log_fd > STDERR_FILENO)
		close(m->access_log_fd);
	tls_server_free(m->tls);
	session_cache_destroy(m->session_cache);
	ticket_keys_destroy(m->ticket_keys);
	contexts_free(m->contexts);
	sni_table_destroy(m->sni_table);
	cluster_stats_destroy(m->stats);
	conn_table_destroy(m->conn_table);
	creds_free(m->creds);
	config_free(&m->cfg);
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
		return print_check(m);
	return serve(m, &err);
}

int main(int argc, char **argv)
{
	struct master m;
	int status;

	memset(&m, 0, sizeof(m));
	m.access_log_fd = -1;
	config_init(&m.cfg);
	status = run(&m, argc, argv);
	release(&m);
	return status;
}
