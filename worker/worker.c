/* worker.c - the worker's event loop: accept, connections, graceful stop. */
#include "worker/worker.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "common/log.h"
#include "worker/conn.h"
#include "worker/heartbeat.h"

/* Accepts per readiness event and listener: spread connections over
 * workers instead of letting the first awake worker take a whole burst. */
#define ACCEPT_BURST 16

/* Out of descriptors or memory, accepting stops this long before the next
 * try: the pending connection stays in the listen queue instead of waking
 * the loop again at once (a busy loop, and a log line per try). */
#define ACCEPT_PAUSE_S 0.25

/* After a burst, the allocator keeps the pages the connections used: once
 * the open count fell below half its peak (of at least TRIM_PEAK_MIN), the
 * free memory goes back to the system TRIM_DELAY_S later (malloc_trim). */
#define TRIM_PEAK_MIN 64
#define TRIM_DELAY_S 1.0

/* One episode of accept failures for want of resources. */
struct accept_pause {
	ev_timer timer;
	bool active;		/* in an episode: from the first failure to the next accept */
	int error;		/* the errno that started it */
	unsigned tries;		/* pauses in this episode */
	ev_tstamp since;
};

struct worker {
	const struct worker_setup *setup;
	struct ev_loop *loop;
	ev_io *accept_io;
	ev_signal sig_term, sig_int, sig_usr1;
	ev_timer drain_timer;
	bool draining;
	struct access_log log;
	struct conn_env env;
	struct conn *conns;
	size_t n_conns;
	struct ticket_key_copy ticket_key;	/* what new sessions get */
	struct sni_map *sni;			/* SNI contexts, as of the last accept */
	struct accept_pause pause;
	struct session_store *store;		/* sessionStore; NULL: none */
	size_t peak_conns;			/* most open since the last trim */
	ev_timer trim_timer;
	struct heartbeat heartbeat;		/* GET /healthz: this loop runs */
};

static void worker_on_trim(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	malloc_trim(0);
	w->peak_conns = w->n_conns;
}

/* worker_note_open_count: follow the peak; schedule a trim after a burst. */
static void worker_note_open_count(struct worker *w)
{
	if (w->n_conns > w->peak_conns)
		w->peak_conns = w->n_conns;
	if (w->peak_conns >= TRIM_PEAK_MIN && w->n_conns * 2 < w->peak_conns &&
	    !ev_is_active(&w->trim_timer)) {
		ev_timer_set(&w->trim_timer, TRIM_DELAY_S, 0.0);
		ev_timer_start(w->loop, &w->trim_timer);
	}
}

static void worker_on_conn_closed(struct conn_env *env, struct conn *c)
{
	struct worker *w = env->owner;

	conn_list_unlink(&w->conns, c);
	w->n_conns--;
	worker_note_open_count(w);
	cluster_stats_release(env->stats, env->slot);
	if (w->draining && w->n_conns == 0)
		ev_break(w->loop, EVBREAK_ALL);
}

static void worker_watch_accepts(struct worker *w, bool on)
{
	for (size_t i = 0; i < w->setup->n_listen; i++) {
		if (on)
			ev_io_start(w->loop, &w->accept_io[i]);
		else
			ev_io_stop(w->loop, &w->accept_io[i]);
	}
}

/* accept_lacks_resources: accept failed for want of descriptors or kernel
 * memory: the connection waits in the queue until some are free. */
static bool accept_lacks_resources(int error)
{
	return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

/* worker_pause_accepting: stop accepting for ACCEPT_PAUSE_S; the first
 * pause of an episode is logged and counted, the others are not. */
static void worker_pause_accepting(struct worker *w, int error)
{
	struct accept_pause *p = &w->pause;

	if (!p->active) {
		*p = (struct accept_pause){ .timer = p->timer, .active = true, .error = error,
					    .since = ev_now(w->loop) };
		cluster_stats_add(w->env.stats, w->env.slot, CS_ACCEPT_PAUSED, 1);
		log_warn("accept: %s: pausing accepts (%zu connection(s) open), retrying every %d ms",
			 strerror(error), w->n_conns, (int)(ACCEPT_PAUSE_S * 1000));
	}
	p->tries++;
	worker_watch_accepts(w, false);
	ev_timer_set(&p->timer, ACCEPT_PAUSE_S, 0.0);
	ev_timer_start(w->loop, &p->timer);
}

static void worker_on_accept_pause_end(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	if (!w->draining)
		worker_watch_accepts(w, true);
}

/* worker_accept_resumed: an accept worked: the episode, if any, is over. */
static void worker_accept_resumed(struct worker *w)
{
	struct accept_pause *p = &w->pause;

	if (!p->active)
		return;
	p->active = false;
	log_info("accept: accepting again after %.1f s (%u pause(s) for: %s)", ev_now(w->loop) - p->since,
		 p->tries, strerror(p->error));
}

static void worker_accept_one(struct worker *w, int listen_fd, bool *again)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int fd = accept4(listen_fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct conn *c;

	*again = fd >= 0;
	if (fd < 0) {
		if (accept_lacks_resources(errno))
			worker_pause_accepting(w, errno);
		else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept: %s", strerror(errno));
		return;
	}
	worker_accept_resumed(w);
	if (!cluster_stats_admit(w->env.stats, w->env.slot)) {
		/* Node's maxConnections: over the limit, the socket is closed at once. */
		log_debug("maxConnections (%ld) reached: closing a new connection",
			  cluster_stats_max_connections(w->env.stats));
		close(fd);
		return;
	}
	/* Keys replaced since the last accept apply from this connection on. */
	if (ticket_keys_refresh(w->setup->ticket_keys, &w->ticket_key))
		log_debug("ticket keys: now generation %llu", (unsigned long long)w->ticket_key.generation);
	sni_map_refresh(w->sni);
	c = conn_start(&w->env, fd, (struct sockaddr *)&peer, len);
	if (c == NULL) {
		cluster_stats_release(w->env.stats, w->env.slot);
		return;
	}
	conn_list_link(&w->conns, c);
	w->n_conns++;
	worker_note_open_count(w);
}

static void worker_on_accept(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = io->data;
	bool again = true;

	for (int i = 0; i < ACCEPT_BURST && again && !w->draining && !ev_is_active(&w->pause.timer); i++)
		worker_accept_one(w, io->fd, &again);
}

static void worker_on_drain_deadline(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;

	log_info("shutdown timeout: closing %zu connection(s)", w->n_conns);
	while (w->conns != NULL)
		conn_abort(w->conns, "shutdown");
	ev_break(loop, EVBREAK_ALL);
}

/* worker_start_drain: stop accepting; finish when the last connection
 * closes or the shutdown timeout passes. */
static void worker_start_drain(struct worker *w)
{
	if (w->draining)
		return;
	w->draining = true;
	ev_timer_stop(w->loop, &w->pause.timer);
	for (size_t i = 0; i < w->setup->n_listen; i++) {
		ev_io_stop(w->loop, &w->accept_io[i]);
		close(w->setup->listen_fds[i]);
	}
	log_info("stopping: %zu connection(s) open", w->n_conns);
	if (w->n_conns == 0) {
		ev_break(w->loop, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&w->drain_timer, worker_on_drain_deadline,
		      (double)w->setup->cfg->shutdown_timeout_ms / 1000.0, 0.0);
	w->drain_timer.data = w;
	ev_timer_start(w->loop, &w->drain_timer);
}

static void worker_on_signal(struct ev_loop *loop, ev_signal *s, int revents)
{
	struct worker *w = s->data;

	if (s->signum == SIGUSR1)
		access_log_reopen(w->setup->cfg->access_log, w->log.fd);
	else
		worker_start_drain(w);
}

static int worker_watch_listeners(struct worker *w)
{
	w->accept_io = calloc(w->setup->n_listen, sizeof(*w->accept_io));
	if (w->accept_io == NULL)
		return TLSD_ERR_INTERNAL;
	for (size_t i = 0; i < w->setup->n_listen; i++) {
		ev_io_init(&w->accept_io[i], worker_on_accept, w->setup->listen_fds[i], EV_READ);
		w->accept_io[i].data = w;
		ev_io_start(w->loop, &w->accept_io[i]);
	}
	return TLSD_OK;
}

void worker_startup_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGUSR1);
}

/* worker_watch_signals: install the worker's handlers, then unblock the
 * signals the master forked with blocked (worker_startup_signals): one sent
 * meanwhile waited and is delivered to these handlers now. */
static void worker_watch_signals(struct worker *w)
{
	sigset_t stop;

	ev_signal_init(&w->sig_term, worker_on_signal, SIGTERM);
	ev_signal_init(&w->sig_int, worker_on_signal, SIGINT);
	ev_signal_init(&w->sig_usr1, worker_on_signal, SIGUSR1);
	w->sig_term.data = w->sig_int.data = w->sig_usr1.data = w;
	ev_signal_start(w->loop, &w->sig_term);
	ev_signal_start(w->loop, &w->sig_int);
	ev_signal_start(w->loop, &w->sig_usr1);
	worker_startup_signals(&stop);
	sigprocmask(SIG_UNBLOCK, &stop, NULL);
}

/* worker_follow_master: a worker must not outlive its master. */
static void worker_follow_master(pid_t master)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master)
		raise(SIGTERM);
}

static int worker_init(struct worker *w, const struct worker_setup *setup)
{
	memset(w, 0, sizeof(*w));
	w->setup = setup;
	w->log = (struct access_log){ setup->access_log_fd, setup->cfg->log_format, (int)getpid() };
	w->env = (struct conn_env){ .cfg = setup->cfg, .tls = setup->tls, .log = &w->log,
				    .on_close = worker_on_conn_closed, .owner = w };
	w->env.backend = setup->backend;
	w->env.stats = setup->stats;
	w->env.context_stats = setup->context_stats;
	w->env.slot = setup->number - 1;
	w->env.ticket_key = &w->ticket_key;
	ticket_keys_refresh(setup->ticket_keys, &w->ticket_key);
	GUARD(sni_map_new(setup->sni_table, setup->cfg, setup->context_stats, &w->sni));
	sni_map_refresh(w->sni);
	w->env.sni = w->sni;
	w->env.conn_table = setup->conn_table;
	w->loop = ev_loop_new(EVFLAG_AUTO);
	if (w->loop == NULL)
		return TLSD_ERR_INTERNAL;
	w->env.loop = w->loop;
	ev_init(&w->pause.timer, worker_on_accept_pause_end);
	w->pause.timer.data = w;
	ev_init(&w->trim_timer, worker_on_trim);
	w->trim_timer.data = w;
	GUARD(session_store_new(w->loop, setup->cfg, setup->stats, w->env.slot, &w->store));
	w->env.store = w->store;
	GUARD(worker_watch_listeners(w));
	worker_watch_signals(w);
	heartbeat_start(&w->heartbeat, w->loop, setup->stats, w->env.slot);
	return TLSD_OK;
}

int worker_run(const struct worker_setup *setup)
{
	struct worker w;
	char role[32];
	int rc;

	/* "worker" names the pid, as the access log and /v1/stats do. */
	snprintf(role, sizeof(role), "worker %d", (int)getpid());
	log_set_role(role);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	rc = worker_init(&w, setup);
	if (rc == TLSD_OK) {
		worker_follow_master(setup->master);
		log_debug("started, pid %d", (int)getpid());
		ev_run(w.loop, 0);
	}
	session_store_free(w.store);
	if (w.loop != NULL)
		ev_loop_destroy(w.loop);
	free(w.accept_io);
	sni_map_free(w.sni);
	if (rc == TLSD_ERR_CONFIG)
		return WORKER_EXIT_CONFIG;
	return rc == TLSD_OK ? 0 : 1;
}
