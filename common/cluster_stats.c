/* cluster_stats.c - per-worker slots in shared memory, summed on read.
 *
 * Layout: [struct cluster_stats header][struct cs_slot x workers], each
 * slot on its own cache lines. Counters are written with relaxed atomic
 * load+store by their one writer (no locked instruction needed) and read
 * with relaxed atomic loads.
 */
#include "common/cluster_stats.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#define CS_MAGIC 0x43535431u	/* "CST1" */
#define CS_WORKERS_MAX 1024

/* Handshake durations: 0.5 ms to 1 s, about x2 to x2.5 apart. */
static const uint64_t bucket_bounds_us[CS_DURATION_BUCKETS] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};

static const char *const backend_failure_names[CS_BACKEND_FAILURES] = {
	[CS_BACKEND_REFUSED] = "refused",
	[CS_BACKEND_TIMEOUT] = "timeout",
	[CS_BACKEND_UNREACHABLE] = "unreachable",
	[CS_BACKEND_ERROR] = "error",
};

static const char *const failure_names[CS_FAILURES] = {
	[CS_FAIL_TIMEOUT] = "timeout",
	[CS_FAIL_PROTOCOL_VERSION] = "protocol_version",
	[CS_FAIL_NO_SHARED_CIPHER] = "no_shared_cipher",
	[CS_FAIL_BAD_CERTIFICATE] = "bad_certificate",
	[CS_FAIL_CLIENT_CLOSED] = "client_closed",
	[CS_FAIL_NOT_TLS] = "not_tls",
	[CS_FAIL_TOO_LARGE] = "too_large",
	[CS_FAIL_OTHER] = "other",
};

static const char *const exit_cause_names[CS_EXIT_CAUSES] = {
	[CS_EXIT_SIGNAL] = "signal",
	[CS_EXIT_STATUS] = "exit",
	[CS_EXIT_CONFIG] = "config",
	[CS_EXIT_CLEAN] = "clean",
};

struct cs_slot {
	int64_t pid;
	uint64_t restarts;
	uint64_t starts;
	uint64_t current;
	uint64_t counters[CS_COUNTERS];
	uint64_t failures[CS_FAILURES];
	uint64_t durations[CS_KINDS][CS_DURATION_BUCKETS + 1];
	uint64_t duration_sum_us[CS_KINDS];
	uint64_t wanted;
	uint64_t heartbeat_ms;
	uint64_t backend_ok_ms, backend_failed_ms;
	int64_t backend_failed_errno;
	uint64_t exits[CS_EXIT_CAUSES];	/* the master's */
} __attribute__((aligned(64)));

struct cluster_stats {
	uint32_t magic;
	int32_t workers;
	uint64_t map_size;
	int64_t max_connections;
	uint64_t lock_recoveries;
	uint64_t reload_success, reload_failure;
	int64_t last_reload_success;
	pthread_mutex_t admit_lock;
	struct cs_slot slots[] __attribute__((aligned(64)));
};

static uint64_t cs_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* cs_bump: <p> += <n> by its only writer. */
static void cs_bump(uint64_t *p, uint64_t n)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static int cs_init_lock(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int rc = TLSD_ERR_IO;

	if (pthread_mutexattr_init(&a) != 0)
		return TLSD_ERR_IO;
	if (pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) == 0 &&
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) == 0 &&
	    pthread_mutex_init(m, &a) == 0)
		rc = TLSD_OK;
	pthread_mutexattr_destroy(&a);
	return rc;
}

int cluster_stats_create(int workers, long max_connections, struct cluster_stats **out)
{
	struct cluster_stats *cs;
	size_t size;

	*out = NULL;
	if (workers < 1 || workers > CS_WORKERS_MAX || max_connections < 0)
		return TLSD_ERR_CONFIG;
	size = sizeof(*cs) + (size_t)workers * sizeof(struct cs_slot);
	cs = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cs == MAP_FAILED)
		return TLSD_ERR_IO;
	memset(cs, 0, size);
	cs->magic = CS_MAGIC;
	cs->workers = workers;
	cs->map_size = size;
	cs->max_connections = max_connections;
	if (cs_init_lock(&cs->admit_lock) < 0) {
		munmap(cs, size);
		return TLSD_ERR_IO;
	}
	*out = cs;
	return TLSD_OK;
}

void cluster_stats_destroy(struct cluster_stats *cs)
{
	if (cs != NULL)
		munmap(cs, cs->map_size);
}

int cluster_stats_workers(const struct cluster_stats *cs)
{
	return cs->workers;
}

void cluster_stats_add(struct cluster_stats *cs, int slot, enum cluster_counter which, uint64_t n)
{
	cs_bump(&cs->slots[slot].counters[which], n);
}

static uint64_t cs_open_total(const struct cluster_stats *cs)
{
	uint64_t sum = 0;

	for (int i = 0; i < cs->workers; i++)
		sum += cs_load(&cs->slots[i].current);
	return sum;
}

/* cs_lock: 0 with the lock held, or TLSD_ERR_IO with it not held. A dead
 * owner left nothing half-done (every field it writes is one word, and its
 * slot is zeroed when it is reaped): just recover. A mutex that cannot be
 * marked consistent is released anyway: it then stays unrecoverable, and
 * every later admission fails at once instead of waiting forever. */
static int cs_lock(struct cluster_stats *cs)
{
	int rc = pthread_mutex_lock(&cs->admit_lock);

	if (rc == EOWNERDEAD) {
		cs_bump(&cs->lock_recoveries, 1);
		rc = pthread_mutex_consistent(&cs->admit_lock);
		if (rc != 0)
			pthread_mutex_unlock(&cs->admit_lock);
	}
	return rc == 0 ? TLSD_OK : TLSD_ERR_IO;
}

/* cs_admit_limited: the check and the increment under the lock, so a
 * burst over several workers cannot overshoot the limit. */
static bool cs_admit_limited(struct cluster_stats *cs, int slot, uint64_t max)
{
	bool ok;

	if (cs_lock(cs) < 0)
		return false;
	ok = cs_open_total(cs) < max;
	if (ok)
		cs_bump(&cs->slots[slot].current, 1);
	pthread_mutex_unlock(&cs->admit_lock);
	return ok;
}

bool cluster_stats_admit(struct cluster_stats *cs, int slot)
{
	int64_t max = __atomic_load_n(&cs->max_connections, __ATOMIC_ACQUIRE);
	bool ok = true;

	if (max > 0)
		ok = cs_admit_limited(cs, slot, (uint64_t)max);
	else
		cs_bump(&cs->slots[slot].current, 1);
	cluster_stats_add(cs, slot, ok ? CS_CONN_TOTAL : CS_CONN_REJECTED, 1);
	return ok;
}

void cluster_stats_release(struct cluster_stats *cs, int slot)
{
	uint64_t *current = &cs->slots[slot].current;

	if (cs_load(current) > 0)
		__atomic_store_n(current, cs_load(current) - 1, __ATOMIC_RELAXED);
}

void cluster_stats_worker_started(struct cluster_stats *cs, int slot, pid_t pid)
{
	struct cs_slot *s = &cs->slots[slot];

	if (cs_load(&s->starts) > 0)
		cs_bump(&s->restarts, 1);
	cs_bump(&s->starts, 1);
	__atomic_store_n(&s->heartbeat_ms, cluster_stats_monotonic_ms(), __ATOMIC_RELAXED);
	__atomic_store_n(&s->pid, (int64_t)pid, __ATOMIC_RELAXED);
}

void cluster_stats_worker_exited(struct cluster_stats *cs, int slot)
{
	struct cs_slot *s = &cs->slots[slot];

	__atomic_store_n(&s->pid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->current, 0, __ATOMIC_RELAXED);
}

void cluster_stats_count_exit(struct cluster_stats *cs, int slot, enum cluster_exit_cause cause)
{
	if ((unsigned)cause < CS_EXIT_CAUSES)
		cs_bump(&cs->slots[slot].exits[cause], 1);
}

const char *cluster_stats_exit_cause_name(enum cluster_exit_cause cause)
{
	return (unsigned)cause < CS_EXIT_CAUSES ? exit_cause_names[cause] : "unknown";
}

void cluster_stats_exits(const struct cluster_stats *cs, int slot, uint64_t out[CS_EXIT_CAUSES])
{
	int first = slot < 0 ? 0 : slot, end = slot < 0 ? cs->workers : slot + 1;

	for (int c = 0; c < CS_EXIT_CAUSES; c++) {
		out[c] = 0;
		for (int i = first; i < end; i++)
			out[c] += cs_load(&cs->slots[i].exits[c]);
	}
}

void cluster_stats_set_max_connections(struct cluster_stats *cs, long max_connections)
{
	__atomic_store_n(&cs->max_connections, (int64_t)(max_connections < 0 ? 0 : max_connections),
			 __ATOMIC_RELEASE);
}

long cluster_stats_max_connections(const struct cluster_stats *cs)
{
	return (long)__atomic_load_n(&cs->max_connections, __ATOMIC_ACQUIRE);
}

uint64_t cluster_stats_lock_recoveries(const struct cluster_stats *cs)
{
	return cs_load(&cs->lock_recoveries);
}

void cluster_stats_worker(const struct cluster_stats *cs, int slot, struct cluster_figures *out)
{
	const struct cs_slot *s = &cs->slots[slot];

	out->started = cs_load(&s->starts) > 0;
	out->pid = (pid_t)__atomic_load_n(&s->pid, __ATOMIC_RELAXED);
	out->restarts = cs_load(&s->restarts);
	out->current = cs_load(&s->current);
	for (int i = 0; i < CS_COUNTERS; i++)
		out->counters[i] = cs_load(&s->counters[i]);
	for (int i = 0; i < CS_FAILURES; i++)
		out->failures[i] = cs_load(&s->failures[i]);
	for (int k = 0; k < CS_KINDS; k++) {
		for (int i = 0; i <= CS_DURATION_BUCKETS; i++)
			out->durations[k][i] = cs_load(&s->durations[k][i]);
		out->duration_sum_us[k] = cs_load(&s->duration_sum_us[k]);
	}
	out->wanted = cs_load(&s->wanted) != 0;
	out->heartbeat_ms = cs_load(&s->heartbeat_ms);
	out->backend.ok_ms = cs_load(&s->backend_ok_ms);
	out->backend.failed_ms = cs_load(&s->backend_failed_ms);
	out->backend.failed_errno = (int)__atomic_load_n(&s->backend_failed_errno, __ATOMIC_RELAXED);
}

/* add_figures: <one>'s counts into <sum>. */
static void add_figures(struct cluster_figures *sum, const struct cluster_figures *one)
{
	sum->restarts += one->restarts;
	sum->current += one->current;
	for (int i = 0; i < CS_COUNTERS; i++)
		sum->counters[i] += one->counters[i];
	for (int i = 0; i < CS_FAILURES; i++)
		sum->failures[i] += one->failures[i];
	for (int k = 0; k < CS_KINDS; k++) {
		for (int i = 0; i <= CS_DURATION_BUCKETS; i++)
			sum->durations[k][i] += one->durations[k][i];
		sum->duration_sum_us[k] += one->duration_sum_us[k];
	}
	if (one->backend.ok_ms > sum->backend.ok_ms)
		sum->backend.ok_ms = one->backend.ok_ms;
	if (one->backend.failed_ms > sum->backend.failed_ms) {
		sum->backend.failed_ms = one->backend.failed_ms;
		sum->backend.failed_errno = one->backend.failed_errno;
	}
}

void cluster_stats_totals(const struct cluster_stats *cs, struct cluster_figures *out)
{
	struct cluster_figures one;

	memset(out, 0, sizeof(*out));
	for (int slot = 0; slot < cs->workers; slot++) {
		cluster_stats_worker(cs, slot, &one);
		add_figures(out, &one);
	}
}

void cluster_stats_fail(struct cluster_stats *cs, int slot, enum cluster_failure reason)
{
	if ((unsigned)reason >= CS_FAILURES)
		reason = CS_FAIL_OTHER;
	cs_bump(&cs->slots[slot].failures[reason], 1);
}

void cluster_stats_observe_handshake(struct cluster_stats *cs, int slot, enum cluster_hs_kind kind, uint64_t us)
{
	struct cs_slot *s = &cs->slots[slot];
	int i = 0;

	while (i < CS_DURATION_BUCKETS && us > bucket_bounds_us[i])
		i++;
	/* The sum first: a reader that sees the count also sees a sum that
	 * includes it, or a later one (both only grow). */
	cs_bump(&s->duration_sum_us[kind], us);
	cs_bump(&s->durations[kind][i], 1);
}

void cluster_stats_backend_connected(struct cluster_stats *cs, int slot, uint64_t us, uint64_t now_ms)
{
	cluster_stats_add(cs, slot, CS_BACKEND_CONNECTED, 1);
	cluster_stats_observe_handshake(cs, slot, CS_KIND_BACKEND_CONNECT, us);
	__atomic_store_n(&cs->slots[slot].backend_ok_ms, now_ms, __ATOMIC_RELAXED);
}

enum cluster_backend_failure cluster_stats_backend_failure_of(int error)
{
	switch (error) {
	case ECONNREFUSED:
	case ENOENT:
		return CS_BACKEND_REFUSED;
	case ETIMEDOUT:
		return CS_BACKEND_TIMEOUT;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
		return CS_BACKEND_UNREACHABLE;
	default:
		return CS_BACKEND_ERROR;
	}
}

void cluster_stats_backend_failed(struct cluster_stats *cs, int slot, int error, uint64_t now_ms)
{
	struct cs_slot *s = &cs->slots[slot];

	cluster_stats_add(cs, slot, (enum cluster_counter)(CS_BACKEND_CONNECT_REFUSED +
							   (int)cluster_stats_backend_failure_of(error)), 1);
	__atomic_store_n(&s->backend_failed_errno, (int64_t)error, __ATOMIC_RELAXED);
	__atomic_store_n(&s->backend_failed_ms, now_ms, __ATOMIC_RELAXED);
}

const char *cluster_stats_backend_failure_name(enum cluster_backend_failure reason)
{
	return (unsigned)reason < CS_BACKEND_FAILURES ? backend_failure_names[reason] : "error";
}

void cluster_stats_heartbeat(struct cluster_stats *cs, int slot, uint64_t now_ms)
{
	__atomic_store_n(&cs->slots[slot].heartbeat_ms, now_ms, __ATOMIC_RELAXED);
}

void cluster_stats_set_wanted(struct cluster_stats *cs, int slot, bool wanted)
{
	__atomic_store_n(&cs->slots[slot].wanted, (uint64_t)wanted, __ATOMIC_RELAXED);
}

void cluster_stats_reload_done(struct cluster_stats *cs, bool ok, int64_t now)
{
	if (!ok) {
		cs_bump(&cs->reload_failure, 1);
		return;
	}
	cs_bump(&cs->reload_success, 1);
	__atomic_store_n(&cs->last_reload_success, now, __ATOMIC_RELAXED);
}

void cluster_stats_reloads(const struct cluster_stats *cs, struct cluster_reloads *out)
{
	out->success = cs_load(&cs->reload_success);
	out->failure = cs_load(&cs->reload_failure);
	out->last_success = __atomic_load_n(&cs->last_reload_success, __ATOMIC_RELAXED);
}

uint64_t cluster_stats_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *cluster_stats_failure_name(enum cluster_failure reason)
{
	return (unsigned)reason < CS_FAILURES ? failure_names[reason] : "other";
}

uint64_t cluster_stats_bucket_bound_us(int i)
{
	return i >= 0 && i < CS_DURATION_BUCKETS ? bucket_bounds_us[i] : UINT64_MAX;
}

/* slot_health: 0 when <f>'s worker runs and beat within <max_age_ms>;
 * else -1, with why in <why>. */
static int slot_health(const struct cluster_figures *f, int number, uint64_t now_ms, uint64_t max_age_ms,
		       char *why, size_t size)
{
	uint64_t age = now_ms > f->heartbeat_ms ? now_ms - f->heartbeat_ms : 0;

	if (f->pid <= 0) {
		snprintf(why, size, "slot %d: no worker running", number);
		return -1;
	}
	if (age > max_age_ms) {
		snprintf(why, size, "slot %d (worker %d): no heartbeat for %.1f s", number, (int)f->pid,
			 (double)age / 1000.0);
		return -1;
	}
	return 0;
}

int cluster_stats_unhealthy(const struct cluster_stats *cs, uint64_t now_ms, uint64_t max_age_ms, char *why,
			    size_t size)
{
	struct cluster_figures f;
	int bad = 0, wanted = 0;
	char first[128] = "", other[128];

	for (int slot = 0; slot < cs->workers; slot++) {
		cluster_stats_worker(cs, slot, &f);
		if (!f.wanted)
			continue;
		wanted++;
		if (slot_health(&f, slot + 1, now_ms, max_age_ms, bad == 0 ? first : other,
				bad == 0 ? sizeof(first) : sizeof(other)) < 0)
			bad++;
	}
	if (wanted == 0) {
		snprintf(first, sizeof(first), "no worker is meant to run");
		bad = 1;
	}
	snprintf(why, size, "%s", first);
	return bad;
}
