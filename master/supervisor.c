/* supervisor.c - fork, reap, respawn with backoff, graceful stop. */
#include "master/supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "common/log.h"
#include "master/notify.h"
#include "worker/access_log.h"
#include "worker/worker.h"

#define BACKOFF_FIRST_S 0.1
#define BACKOFF_MAX_S 30.0
#define STABLE_AFTER_S 1.0	/* a worker that lived this long was not crash-looping */
#define KILL_GRACE_S 5.0	/* after shutdownTimeout, before SIGKILL */
#define STATUS_EVERY_S 5.0	/* STATUS= to systemd, when it listens */
#define FORK_FAIL_ENV "TLSD_TEST_FORK_FAIL"	/* test hook: see supervisor.h */

struct slot {
	struct supervisor *sup;
	int number;
	pid_t pid;		/* 0: not running */
	ev_tstamp started;
	double backoff;
	unsigned restarts;
	bool failed_config;
	bool retired;		/* of an older generation: drains, never respawned */
	ev_timer respawn;
};

struct supervisor {
	struct supervisor_setup *setup;
	struct ev_loop *loop;
	struct slot *slots;
	int n_slots;		/* 2 x workers: the running half and the draining one */
	int workers;
	int half;		/* 0 or 1: where the running generation's slots are */
	int alive;
	bool stopping;
	int exit_status;
	const char *fork_fail_path;	/* FORK_FAIL_ENV; NULL: unset */
	ev_signal sig_term, sig_int, sig_hup, sig_usr1;
	ev_child child;
	ev_timer kill_timer;
	ev_timer status_timer;
};

/* forget_master_loop: in a new worker, drop the master's watchers so the
 * worker's own loop can take the signals. */
static void forget_master_loop(struct supervisor *sup)
{
	ev_signal_stop(sup->loop, &sup->sig_term);
	ev_signal_stop(sup->loop, &sup->sig_int);
	ev_signal_stop(sup->loop, &sup->sig_hup);
	ev_signal_stop(sup->loop, &sup->sig_usr1);
	ev_child_stop(sup->loop, &sup->child);
	ev_timer_stop(sup->loop, &sup->kill_timer);
	ev_timer_stop(sup->loop, &sup->status_timer);
	for (int i = 0; i < sup->n_slots; i++)
		ev_timer_stop(sup->loop, &sup->slots[i].respawn);
	ev_loop_destroy(sup->loop);
}

static int compare_fds(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* close_inherited_fds: a worker keeps stdio, the listeners and the access
 * log, nothing else of the master's (the control endpoint's sockets and
 * epoll descriptor, connections to it in progress). */
static void close_inherited_fds(const struct supervisor_setup *s)
{
	int keep[s->listeners->n + 4];
	size_t n = 0;
	unsigned first = 0;

	keep[n++] = STDIN_FILENO;
	keep[n++] = STDOUT_FILENO;
	keep[n++] = STDERR_FILENO;
	if (s->access_log_fd > STDERR_FILENO)
		keep[n++] = s->access_log_fd;
	for (size_t i = 0; i < s->listeners->n; i++)
		keep[n++] = s->listeners->items[i].fd;
	qsort(keep, n, sizeof(int), compare_fds);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)keep[i] > first)
			close_range(first, (unsigned)keep[i] - 1, 0);
		first = (unsigned)keep[i] + 1;
	}
	close_range(first, ~0u, 0);
}

/* drop_privileges: the worker's first step of its own (see privileges.h);
 * one that cannot drop exits as a config failure: it would fail again. */
static void drop_privileges(const struct supervisor_setup *s, int number)
{
	struct tlsd_error err = { "" };

	if (privileges_drop(s->priv, &err) < 0) {
		log_error("slot %d: %s", number, err.msg);
		_exit(WORKER_EXIT_CONFIG);
	}
}

static void run_worker_child(struct supervisor *sup, struct slot *slot, pid_t master)
{
	const struct supervisor_setup *s = sup->setup;
	int *fds = calloc(s->listeners->n, sizeof(int));
	struct worker_setup ws = {
		.number = slot->number, .master = master, .cfg = s->cfg, .tls = s->tls, .backend = s->backend,
		.listen_fds = fds, .n_listen = s->listeners->n, .access_log_fd = s->access_log_fd,
		.ticket_keys = s->ticket_keys, .stats = s->stats, .context_stats = s->context_stats,
		.sni_table = s->sni_table,
		.conn_table = s->conn_table,
	};

	forget_master_loop(sup);
	close_inherited_fds(s);
	drop_privileges(s, slot->number);
	if (fds == NULL)
		_exit(1);
	for (size_t i = 0; i < s->listeners->n; i++)
		fds[i] = s->listeners->items[i].fd;
	_exit(worker_run(&ws));
}

/* schedule_retry: start <slot> again, at once after a <stable> run; else
 * after a backoff that doubles on every try. */
static void schedule_retry(struct slot *slot, bool stable)
{
	struct supervisor *sup = slot->sup;

	if (stable)
		slot->backoff = 0.0;
	else
		slot->backoff = slot->backoff == 0.0 ? BACKOFF_FIRST_S : slot->backoff * 2.0;
	if (slot->backoff > BACKOFF_MAX_S)
		slot->backoff = BACKOFF_MAX_S;
	slot->restarts++;
	if (slot->backoff > 0.0)
		log_warn("slot %d: restarting its worker in %.1f s", slot->number, slot->backoff);
	ev_timer_set(&slot->respawn, slot->backoff, 0.0);
	ev_timer_start(sup->loop, &slot->respawn);
}

/* worker_fork: fork(); but while the file FORK_FAIL_ENV names exists, fail
 * with EAGAIN, as fork does on a system out of processes (a test hook). */
static pid_t worker_fork(const struct supervisor *sup)
{
	if (sup->fork_fail_path != NULL && access(sup->fork_fail_path, F_OK) == 0) {
		errno = EAGAIN;
		return -1;
	}
	return fork();
}

/* spawn: fork <slot>'s worker; when fork fails, try again later, with the
 * backoff of a worker that died at start. */
static void spawn(struct slot *slot)
{
	struct supervisor *sup = slot->sup;
	pid_t master = getpid();
	sigset_t stop, saved;
	pid_t pid;

	fflush(NULL);	/* or the child would print the master's buffer again */
	worker_startup_signals(&stop);
	sigprocmask(SIG_BLOCK, &stop, &saved);
	pid = worker_fork(sup);
	if (pid != 0)
		sigprocmask(SIG_SETMASK, &saved, NULL);
	if (pid < 0) {
		log_error("slot %d: fork: %s", slot->number, strerror(errno));
		schedule_retry(slot, false);
		return;
	}
	if (pid == 0)
		run_worker_child(sup, slot, master);
	slot->pid = pid;
	slot->started = ev_now(sup->loop);
	cluster_stats_worker_started(sup->setup->stats, slot->number - 1, pid);
	sup->alive++;
	log_debug("worker %d started in slot %d", (int)pid, slot->number);
}

static void on_respawn(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct slot *slot = t->data;

	if (!slot->sup->stopping)
		spawn(slot);
}

static void log_death(const struct slot *slot, int status)
{
	if (WIFSIGNALED(status))
		log_warn("worker %d (slot %d) killed by signal %d (%s)", (int)slot->pid, slot->number,
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status) != 0)
		log_warn("worker %d (slot %d) exited with status %d", (int)slot->pid, slot->number,
			 WEXITSTATUS(status));
	else
		log_info("worker %d (slot %d) exited", (int)slot->pid, slot->number);
}

/* count_exit: why <slot>'s worker ended, from its <status>; not counted:
 * a drained worker of an older generation that exited as asked, and every
 * exit once tlsd stops (the master asked for those). */
static void count_exit(const struct slot *slot, int status)
{
	enum cluster_exit_cause cause = CS_EXIT_CLEAN;

	if (WIFSIGNALED(status))
		cause = CS_EXIT_SIGNAL;
	else if (WEXITSTATUS(status) == WORKER_EXIT_CONFIG)
		cause = CS_EXIT_CONFIG;
	else if (WEXITSTATUS(status) != 0)
		cause = CS_EXIT_STATUS;
	if (slot->sup->stopping || (slot->retired && cause == CS_EXIT_CLEAN))
		return;
	cluster_stats_count_exit(slot->sup->setup->stats, slot->number - 1, cause);
}

/* schedule_respawn: <slot>'s worker died: at once after a stable run,
 * with backoff otherwise. */
static void schedule_respawn(struct slot *slot)
{
	schedule_retry(slot, ev_now(slot->sup->loop) - slot->started >= STABLE_AFTER_S);
}

static struct slot *running_slot(struct supervisor *sup, int i)
{
	return &sup->slots[sup->half * sup->workers + i];
}

static bool all_failed_config(struct supervisor *sup)
{
	for (int i = 0; i < sup->workers; i++)
		if (!running_slot(sup, i)->failed_config)
			return false;
	return true;
}

/* draining: workers of an older generation still running. */
static int draining(const struct supervisor *sup)
{
	int n = 0;

	for (int i = 0; i < sup->n_slots; i++)
		n += sup->slots[i].retired && sup->slots[i].pid > 0;
	return n;
}

/* notify_status: <head> (assignments ending in a newline, or "") and a
 * STATUS= line for systemd: <what>, the workers, the open connections. */
static void notify_status(struct supervisor *sup, const char *head, const char *what)
{
	struct cluster_figures total;
	int old = draining(sup);

	if (!notify_enabled())
		return;
	cluster_stats_totals(sup->setup->stats, &total);
	notify_send("%sSTATUS=%s: %d worker(s), %d draining, %llu connection(s) open", head, what,
		    sup->alive - old, old, (unsigned long long)total.current);
}

static void on_status_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	notify_status(t->data, "", "serving");
}

static unsigned long long monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull;
}

/* switch_halves: the running half drains; the other half, forked from the
 * new generation, becomes the running one. */
static void switch_halves(struct supervisor *sup)
{
	for (int i = 0; i < sup->workers; i++) {
		struct slot *old = running_slot(sup, i);

		old->retired = true;
		cluster_stats_set_wanted(sup->setup->stats, old->number - 1, false);
		ev_timer_stop(sup->loop, &old->respawn);
		if (old->pid > 0)
			kill(old->pid, SIGTERM);
	}
	sup->half = 1 - sup->half;
	for (int i = 0; i < sup->workers; i++) {
		struct slot *s = running_slot(sup, i);

		s->retired = false;
		s->failed_config = false;
		s->backoff = 0.0;
		cluster_stats_set_wanted(sup->setup->stats, s->number - 1, true);
		spawn(s);
	}
}

/* reload: SIGHUP. */
static void reload(struct supervisor *sup)
{
	int old = draining(sup);

	if (sup->setup->reload == NULL) {
		log_warn("SIGHUP: no reload configured; ignored");
		return;
	}
	if (old > 0) {
		log_warn("SIGHUP: %d worker(s) of the previous configuration still draining: reload refused, "
			 "try again when they are done", old);
		cluster_stats_reload_done(sup->setup->stats, false, (int64_t)time(NULL));
		return;
	}
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu", monotonic_usec());
	if (sup->setup->reload(sup->setup->reload_arg, sup->setup) < 0) {
		cluster_stats_reload_done(sup->setup->stats, false, (int64_t)time(NULL));
		notify_status(sup, "READY=1\n", "reload refused, serving the previous configuration");
		return;
	}
	cluster_stats_reload_done(sup->setup->stats, true, (int64_t)time(NULL));
	switch_halves(sup);
	log_info("SIGHUP: configuration reloaded: %d new worker(s) serve it, the old ones drain", sup->workers);
	notify_status(sup, "READY=1\n", "reloaded");
}

static struct slot *slot_of(struct supervisor *sup, pid_t pid)
{
	for (int i = 0; i < sup->n_slots; i++)
		if (sup->slots[i].pid == pid)
			return &sup->slots[i];
	return NULL;
}

/* release_dead_worker: <slot>'s process was reaped; reset what it owned in
 * shared memory before anything is respawned into the slot: its open
 * connection counts and its connection-table region (with a record it died
 * writing). The session cache recovers by itself (robust mutex), and the
 * ticket keys and SNI table have no writer but the master. */
static void release_dead_worker(struct supervisor *sup, struct slot *slot)
{
	cluster_stats_worker_exited(sup->setup->stats, slot->number - 1);
	context_stats_worker_exited(sup->setup->context_stats, slot->number - 1);
	conn_table_worker_exited(sup->setup->conn_table, slot->number - 1);
	slot->pid = 0;
	sup->alive--;
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	struct supervisor *sup = w->data;
	struct slot *slot = slot_of(sup, w->rpid);

	if (slot == NULL)
		return;
	log_death(slot, w->rstatus);
	count_exit(slot, w->rstatus);
	release_dead_worker(sup, slot);
	if (sup->stopping) {
		if (sup->alive == 0)
			ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (slot->retired)
		return;
	if (WIFEXITED(w->rstatus) && WEXITSTATUS(w->rstatus) == WORKER_EXIT_CONFIG) {
		log_error("worker %d failed on its configuration: not restarting it", slot->number);
		slot->failed_config = true;
		if (all_failed_config(sup)) {
			sup->exit_status = 1;
			ev_break(loop, EVBREAK_ALL);
		}
		return;
	}
	schedule_respawn(slot);
}

static void signal_workers(struct supervisor *sup, int sig)
{
	for (int i = 0; i < sup->n_slots; i++)
		if (sup->slots[i].pid > 0)
			kill(sup->slots[i].pid, sig);
}

static void on_kill_deadline(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct supervisor *sup = t->data;

	log_warn("workers still running after the shutdown timeout: killing them");
	signal_workers(sup, SIGKILL);
}

static void start_stop(struct supervisor *sup)
{
	if (sup->stopping)
		return;
	sup->stopping = true;
	/* GET /healthz says 503 from now on: no worker is meant to run. */
	for (int i = 0; i < sup->n_slots; i++)
		cluster_stats_set_wanted(sup->setup->stats, i, false);
	log_info("stopping: draining %d worker(s)", sup->alive);
	notify_status(sup, "STOPPING=1\n", "stopping");
	ev_timer_stop(sup->loop, &sup->status_timer);
	for (int i = 0; i < sup->n_slots; i++)
		ev_timer_stop(sup->loop, &sup->slots[i].respawn);
	listeners_close(sup->setup->listeners);
	signal_workers(sup, SIGTERM);
	if (sup->alive == 0) {
		ev_break(sup->loop, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&sup->kill_timer, on_kill_deadline,
		      (double)sup->setup->cfg->shutdown_timeout_ms / 1000.0 + KILL_GRACE_S, 0.0);
	sup->kill_timer.data = sup;
	ev_timer_start(sup->loop, &sup->kill_timer);
}

static void on_signal(struct ev_loop *loop, ev_signal *s, int revents)
{
	struct supervisor *sup = s->data;

	if (s->signum == SIGUSR1) {
		struct tlsd_error err = { "" };

		access_log_reopen(sup->setup->cfg->access_log, sup->setup->access_log_fd);
		/* The workers reopen the path too, as their own user. */
		if (privileges_give_fd(sup->setup->priv, sup->setup->access_log_fd, "accessLog", &err) < 0)
			log_error("%s", err.msg);
		signal_workers(sup, SIGUSR1);
		return;
	}
	if (s->signum == SIGHUP) {
		if (!sup->stopping)
			reload(sup);
		return;
	}
	start_stop(sup);
}

static void watch_signals(struct supervisor *sup)
{
	ev_signal_init(&sup->sig_term, on_signal, SIGTERM);
	ev_signal_init(&sup->sig_int, on_signal, SIGINT);
	ev_signal_init(&sup->sig_hup, on_signal, SIGHUP);
	ev_signal_init(&sup->sig_usr1, on_signal, SIGUSR1);
	sup->sig_term.data = sup->sig_int.data = sup->sig_hup.data = sup->sig_usr1.data = sup;
	ev_signal_start(sup->loop, &sup->sig_usr1);
	ev_signal_start(sup->loop, &sup->sig_term);
	ev_signal_start(sup->loop, &sup->sig_int);
	ev_signal_start(sup->loop, &sup->sig_hup);
	ev_child_init(&sup->child, on_child, 0, 0);
	sup->child.data = sup;
	ev_child_start(sup->loop, &sup->child);
}

static int init_slots(struct supervisor *sup)
{
	sup->workers = sup->setup->cfg->workers;
	sup->n_slots = 2 * sup->workers;
	sup->slots = calloc((size_t)sup->n_slots, sizeof(*sup->slots));
	if (sup->slots == NULL)
		return TLSD_ERR_INTERNAL;
	for (int i = 0; i < sup->n_slots; i++) {
		sup->slots[i].sup = sup;
		sup->slots[i].number = i + 1;
		ev_timer_init(&sup->slots[i].respawn, on_respawn, 0.0, 0.0);
		sup->slots[i].respawn.data = &sup->slots[i];
	}
	return TLSD_OK;
}

int supervisor_run(struct supervisor_setup *setup)
{
	struct supervisor sup = { .setup = setup, .fork_fail_path = getenv(FORK_FAIL_ENV) };

	signal(SIGPIPE, SIG_IGN);
	sup.loop = ev_default_loop(0);
	if (sup.loop == NULL || init_slots(&sup) < 0) {
		log_error("cannot start the supervisor: out of memory or no event loop");
		return 1;
	}
	watch_signals(&sup);
	ev_timer_init(&sup.status_timer, on_status_timer, STATUS_EVERY_S, STATUS_EVERY_S);
	sup.status_timer.data = &sup;
	for (int i = 0; i < sup.workers; i++) {
		cluster_stats_set_wanted(setup->stats, running_slot(&sup, i)->number - 1, true);
		spawn(running_slot(&sup, i));
	}
	printf("ready pid=%d workers=%d\n", (int)getpid(), sup.workers);
	fflush(stdout);
	notify_status(&sup, "READY=1\n", "serving");
	if (notify_enabled())
		ev_timer_start(sup.loop, &sup.status_timer);
	ev_run(sup.loop, 0);
	free(sup.slots);
	return sup.exit_status;
}
