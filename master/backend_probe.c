/* backend_probe.c - the master's connect checks of the backend, and the
 * latest word from them and from the workers. */
#include "master/backend_probe.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

struct backend_probe {
	struct ev_loop *loop;
	struct cluster_stats *stats;
	const struct backend *backend;
	ev_timer tick;		/* every BACKEND_PROBE_INTERVAL_MS */
	ev_timer deadline;	/* the check in flight */
	ev_io io;
	int fd;			/* the check in flight; -1: none */
	uint64_t ok_ms, failed_ms;	/* the latest check that worked / failed; 0: none */
	int failed_errno;
	bool warned;		/* the unreachable line was logged; the next success says so */
	uint64_t since_ms;	/* workers' connects before this were to an older backend */
};

/* check_end: close the check in flight, if any. */
static void check_end(struct backend_probe *p)
{
	ev_io_stop(p->loop, &p->io);
	ev_timer_stop(p->loop, &p->deadline);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static void check_done(struct backend_probe *p, int error)
{
	uint64_t now = cluster_stats_monotonic_ms();

	check_end(p);
	if (error == 0) {
		p->ok_ms = now;
		if (p->warned)
			log_info("backend %s: reachable again", p->backend->text);
		p->warned = false;
		return;
	}
	p->failed_ms = now;
	p->failed_errno = error;
	if (!p->warned)
		log_warn("backend %s: unreachable: %s (the master's connect check; checked again every %d s)",
			 p->backend->text, strerror(error), BACKEND_PROBE_INTERVAL_MS / 1000);
	p->warned = true;
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct backend_probe *p = w->data;

	(void)loop;
	(void)revents;
	check_done(p, backend_connect_result(p->fd));
}

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	check_done(w->data, ETIMEDOUT);
}

/* workers_seen: the workers' latest connects, those to an older backend
 * (before a reload) dropped. */
static void workers_seen(const struct backend_probe *p, struct cluster_figures *t)
{
	cluster_stats_totals(p->stats, t);
	if (t->backend.ok_ms < p->since_ms)
		t->backend.ok_ms = 0;
	if (t->backend.failed_ms < p->since_ms)
		t->backend.failed_ms = 0;
}

/* workers_connected_lately: a worker's own connect worked within the last
 * interval, after any that failed: no need to check. */
static bool workers_connected_lately(const struct backend_probe *p, uint64_t now)
{
	struct cluster_figures t;

	workers_seen(p, &t);
	return t.backend.ok_ms > t.backend.failed_ms && now - t.backend.ok_ms < BACKEND_PROBE_INTERVAL_MS;
}

static void check_start(struct backend_probe *p)
{
	long timeout_ms = p->backend->timeout_ms;

	if (backend_connect(p->backend, &p->fd) < 0) {
		p->fd = -1;
		check_done(p, errno);
		return;
	}
	if (timeout_ms <= 0 || timeout_ms > BACKEND_PROBE_INTERVAL_MS)
		timeout_ms = BACKEND_PROBE_INTERVAL_MS;
	ev_io_set(&p->io, p->fd, EV_WRITE);
	ev_io_start(p->loop, &p->io);
	ev_timer_set(&p->deadline, (double)timeout_ms / 1000.0, 0.0);
	ev_timer_start(p->loop, &p->deadline);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct backend_probe *p = w->data;

	(void)loop;
	(void)revents;
	if (p->backend == NULL || p->fd >= 0 || workers_connected_lately(p, cluster_stats_monotonic_ms()))
		return;
	check_start(p);
}

int backend_probe_new(struct ev_loop *loop, struct cluster_stats *stats, const struct backend *b,
		      struct backend_probe **out)
{
	struct backend_probe *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL)
		return TLSD_ERR_INTERNAL;
	p->loop = loop;
	p->stats = stats;
	p->fd = -1;
	ev_init(&p->io, on_writable);
	ev_init(&p->deadline, on_deadline);
	/* The first check soon after start, then one per interval. */
	ev_timer_init(&p->tick, on_tick, 0.05, (double)BACKEND_PROBE_INTERVAL_MS / 1000.0);
	p->io.data = p->deadline.data = p->tick.data = p;
	ev_timer_start(loop, &p->tick);
	backend_probe_use(p, b);
	*out = p;
	return TLSD_OK;
}

void backend_probe_use(struct backend_probe *p, const struct backend *b)
{
	check_end(p);
	p->backend = b;
	p->ok_ms = p->failed_ms = 0;
	p->failed_errno = 0;
	p->warned = false;
	p->since_ms = cluster_stats_monotonic_ms();
}

const char *backend_probe_address(const struct backend_probe *p)
{
	return p->backend != NULL ? p->backend->text : NULL;
}

/* Of the two sources, the one with the newest event. */
void backend_probe_health(const struct backend_probe *p, struct backend_health *out)
{
	struct cluster_figures t;
	uint64_t now = cluster_stats_monotonic_ms(), ok, failed;
	int error;

	workers_seen(p, &t);
	ok = t.backend.ok_ms > p->ok_ms ? t.backend.ok_ms : p->ok_ms;
	failed = t.backend.failed_ms > p->failed_ms ? t.backend.failed_ms : p->failed_ms;
	error = t.backend.failed_ms > p->failed_ms ? t.backend.failed_errno : p->failed_errno;
	memset(out, 0, sizeof(*out));
	if (ok == 0 && failed == 0)
		return;
	out->state = ok >= failed ? BACKEND_REACHABLE : BACKEND_UNREACHABLE;
	out->age_ms = now - (ok >= failed ? ok : failed);
	out->error = out->state == BACKEND_UNREACHABLE ? error : 0;
	out->by_check = out->state == BACKEND_REACHABLE ? p->ok_ms >= t.backend.ok_ms : p->failed_ms >= t.backend.failed_ms;
}

void backend_probe_free(struct backend_probe *p)
{
	if (p == NULL)
		return;
	check_end(p);
	ev_timer_stop(p->loop, &p->tick);
	free(p);
}
