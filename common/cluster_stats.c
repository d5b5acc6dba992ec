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
#include <string.h>
#include <sys/mman.h>

#define CS_MAGIC 0x43535431u	/* "CST1" */
#define CS_WORKERS_MAX 1024

struct cs_slot {
	int64_t pid;
	uint64_t restarts;
	uint64_t starts;
	uint64_t current;
	uint64_t counters[CS_COUNTERS];
} __attribute__((aligned(64)));

struct cluster_stats {
	uint32_t magic;
	int32_t workers;
	uint64_t map_size;
	int64_t max_connections;
	uint64_t lock_recoveries;
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
	__atomic_store_n(&s->pid, (int64_t)pid, __ATOMIC_RELAXED);
}

void cluster_stats_worker_exited(struct cluster_stats *cs, int slot)
{
	struct cs_slot *s = &cs->slots[slot];

	__atomic_store_n(&s->pid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->current, 0, __ATOMIC_RELAXED);
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
}

void cluster_stats_totals(const struct cluster_stats *cs, struct cluster_figures *out)
{
	struct cluster_figures one;

	memset(out, 0, sizeof(*out));
	for (int slot = 0; slot < cs->workers; slot++) {
		cluster_stats_worker(cs, slot, &one);
		out->restarts += one.restarts;
		out->current += one.current;
		for (int i = 0; i < CS_COUNTERS; i++)
			out->counters[i] += one.counters[i];
	}
}
