/* context_stats.c - per-context series in shared memory, summed on read.
 *
 * Layout: [struct context_stats header, with the series names][struct
 * cx_region x workers]. A region holds every series of one worker slot,
 * one series per cache line (a current count and seven counters), so a
 * worker writes only its own lines. Untouched regions cost no memory: the
 * mapping is not written at creation.
 *
 * Names are written once each by the master, then published by a release
 * store of the count; a reader that loads the count (acquire) reads the
 * names below it, which never change again.
 */
#include "common/context_stats.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "common/sni_table.h"

#define CX_MAGIC 0x43585331u	/* "CXS1" */
#define CX_WORKERS_MAX 1024

struct cx_series {
	uint64_t current;
	uint64_t counters[CX_COUNTERS];
} __attribute__((aligned(64)));

struct cx_region {
	struct cx_series series[CONTEXT_SERIES_ALL];
};

struct context_stats {
	uint32_t magic;
	int32_t workers;
	uint64_t map_size;
	uint64_t named;		/* series named so far (release store) */
	char names[CONTEXT_STATS_NAMED][SNI_HOSTNAME_MAX];
	struct cx_region regions[] __attribute__((aligned(64)));
};

static uint64_t cx_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* cx_store: a word its one writer sets. */
static void cx_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

int context_stats_create(int workers, struct context_stats **out)
{
	struct context_stats *cs;
	size_t size;

	*out = NULL;
	if (workers < 1 || workers > CX_WORKERS_MAX)
		return TLSD_ERR_CONFIG;
	size = sizeof(*cs) + (size_t)workers * sizeof(struct cx_region);
	cs = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (cs == MAP_FAILED)
		return TLSD_ERR_IO;
	cs->magic = CX_MAGIC;
	cs->workers = workers;
	cs->map_size = size;
	*out = cs;
	return TLSD_OK;
}

void context_stats_destroy(struct context_stats *cs)
{
	if (cs != NULL)
		munmap(cs, cs->map_size);
}

int context_stats_named(const struct context_stats *cs)
{
	return (int)__atomic_load_n(&cs->named, __ATOMIC_ACQUIRE);
}

int context_stats_find(const struct context_stats *cs, const char *hostname)
{
	int n = context_stats_named(cs);

	/* The "*" context (the default replaced at runtime) counts with the
	 * default certificate's series: one "*" label, never two. */
	if (strcmp(hostname, "*") == 0)
		return CONTEXT_SERIES_DEFAULT;
	for (int i = 0; i < n; i++)
		if (strcmp(cs->names[i], hostname) == 0)
			return i;
	return CONTEXT_SERIES_OTHER;
}

int context_stats_name(struct context_stats *cs, const char *hostname)
{
	int i = context_stats_find(cs, hostname);
	uint64_t n = cx_load(&cs->named);

	if (i != CONTEXT_SERIES_OTHER || strcmp(hostname, "other") == 0 || n >= CONTEXT_STATS_NAMED ||
	    strlen(hostname) >= SNI_HOSTNAME_MAX)
		return i;
	snprintf(cs->names[n], SNI_HOSTNAME_MAX, "%s", hostname);
	__atomic_store_n(&cs->named, n + 1, __ATOMIC_RELEASE);
	return (int)n;
}

const char *context_stats_label(const struct context_stats *cs, int series)
{
	if (series >= 0 && series < context_stats_named(cs))
		return cs->names[series];
	return series == CONTEXT_SERIES_DEFAULT ? "*" : "other";
}

/* cx_series_of: <slot>'s counts of <series>, or NULL for no series. */
static struct cx_series *cx_series_of(struct context_stats *cs, int slot, int series)
{
	if (series < 0 || series >= CONTEXT_SERIES_ALL || slot < 0 || slot >= cs->workers)
		return NULL;
	return &cs->regions[slot].series[series];
}

void context_stats_add(struct context_stats *cs, int slot, int series, enum context_counter which, uint64_t n)
{
	struct cx_series *s = cx_series_of(cs, slot, series);

	if (s != NULL && (unsigned)which < CX_COUNTERS)
		cx_store(&s->counters[which], cx_load(&s->counters[which]) + n);
}

void context_stats_open(struct context_stats *cs, int slot, int series)
{
	struct cx_series *s = cx_series_of(cs, slot, series);

	if (s != NULL)
		cx_store(&s->current, cx_load(&s->current) + 1);
}

void context_stats_close(struct context_stats *cs, int slot, int series)
{
	struct cx_series *s = cx_series_of(cs, slot, series);

	if (s != NULL && cx_load(&s->current) > 0)
		cx_store(&s->current, cx_load(&s->current) - 1);
}

void context_stats_worker_exited(struct context_stats *cs, int slot)
{
	for (int i = 0; slot >= 0 && slot < cs->workers && i < CONTEXT_SERIES_ALL; i++)
		cx_store(&cs->regions[slot].series[i].current, 0);
}

void context_stats_figures(const struct context_stats *cs, int series, struct context_figures *out)
{
	memset(out, 0, sizeof(*out));
	if (series < 0 || series >= CONTEXT_SERIES_ALL)
		return;
	for (int slot = 0; slot < cs->workers; slot++) {
		const struct cx_series *s = &cs->regions[slot].series[series];

		out->current += cx_load(&s->current);
		for (int i = 0; i < CX_COUNTERS; i++)
			out->counters[i] += cx_load(&s->counters[i]);
	}
}
