/* conn_table.c - per-worker regions of connection records.
 *
 * Layout: [header][region 0][region 1]..., a region being
 *   [struct ct_region][uint32_t free_stack[per_worker]][struct ct_slot x per_worker]
 * at 64-byte aligned offsets. A region's bookkeeping (high-water mark, free
 * stack) is written by its worker only, and reset by the master once that
 * worker is dead.
 */
#include "common/conn_table.h"

#include <string.h>
#include <sys/mman.h>

#include "common/seqlock.h"

#define CT_MAGIC 0x434f4e31u	/* "CON1" */
#define CT_WORKERS_MAX 1024

struct ct_slot {
	uint64_t seq;
	struct conn_record rec;
	uint64_t bytes_in, bytes_out;
};

struct ct_region {
	uint64_t used;		/* slots below this were handed out */
	uint64_t n_free;	/* entries on the free stack */
	uint64_t unlisted;	/* connections that found the region full */
	uint64_t pad_[5];
};

struct conn_table {
	uint32_t magic;
	int32_t workers;
	uint32_t per_worker;
	uint32_t pad_;
	uint64_t region_size, map_size;
	uint64_t recoveries;	/* the master's: records a dead worker left half-written */
};

static size_t align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

static size_t free_stack_off(void)
{
	return align64(sizeof(struct ct_region));
}

static size_t slots_off(uint32_t per_worker)
{
	return free_stack_off() + align64((size_t)per_worker * sizeof(uint32_t));
}

static struct ct_region *region(const struct conn_table *t, int worker)
{
	return (struct ct_region *)((char *)t + align64(sizeof(*t)) + (size_t)worker * t->region_size);
}

static uint32_t *free_stack(const struct conn_table *t, int worker)
{
	return (uint32_t *)((char *)region(t, worker) + free_stack_off());
}

static struct ct_slot *slot(const struct conn_table *t, int worker, uint32_t i)
{
	return (struct ct_slot *)((char *)region(t, worker) + slots_off(t->per_worker)) + i;
}

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

int conn_table_create(int workers, uint32_t per_worker, struct conn_table **out)
{
	size_t region_size = align64(slots_off(per_worker) + (size_t)per_worker * sizeof(struct ct_slot));
	size_t size = align64(sizeof(struct conn_table)) + (size_t)workers * region_size;
	struct conn_table *t;

	*out = NULL;
	if (workers < 1 || workers > CT_WORKERS_MAX || per_worker == 0 || per_worker > (1u << 20))
		return TLSD_ERR_CONFIG;
	t = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t == MAP_FAILED)
		return TLSD_ERR_IO;
	t->magic = CT_MAGIC;
	t->workers = workers;
	t->per_worker = per_worker;
	t->region_size = region_size;
	t->map_size = size;
	*out = t;
	return TLSD_OK;
}

void conn_table_destroy(struct conn_table *t)
{
	if (t != NULL)
		munmap(t, t->map_size);
}

int conn_table_workers(const struct conn_table *t)
{
	return t->workers;
}

uint32_t conn_table_open(struct conn_table *t, int worker, const struct conn_record *rec)
{
	struct ct_region *r = region(t, worker);
	uint64_t n_free = ld(&r->n_free), used = ld(&r->used);
	uint32_t i = CONN_TABLE_NONE;
	struct ct_slot *s;

	if (n_free > 0)
		i = free_stack(t, worker)[n_free - 1];
	else if (used < t->per_worker)
		i = (uint32_t)used;
	if (i == CONN_TABLE_NONE) {
		st(&r->unlisted, ld(&r->unlisted) + 1);
		return i;
	}
	s = slot(t, worker, i);
	st(&s->bytes_in, 0);
	st(&s->bytes_out, 0);
	seqlock_write(&s->seq, &s->rec, rec, sizeof(*rec));
	/* Only now may readers reach it: a slot below "used" always holds a
	 * record of this worker, never one left by a dead predecessor. */
	if (n_free > 0)
		st(&r->n_free, n_free - 1);
	else
		st(&r->used, used + 1);
	return i;
}

void conn_table_update(struct conn_table *t, int worker, uint32_t i, const struct conn_record *rec)
{
	if (i != CONN_TABLE_NONE)
		seqlock_write(&slot(t, worker, i)->seq, &slot(t, worker, i)->rec, rec, sizeof(*rec));
}

void conn_table_get(const struct conn_table *t, int worker, uint32_t i, struct conn_record *rec)
{
	memcpy(rec, &slot(t, worker, i)->rec, sizeof(*rec));
}

void conn_table_add_bytes(struct conn_table *t, int worker, uint32_t i, uint64_t in, uint64_t out)
{
	struct ct_slot *s;

	if (i == CONN_TABLE_NONE)
		return;
	s = slot(t, worker, i);
	if (in > 0)
		st(&s->bytes_in, ld(&s->bytes_in) + in);
	if (out > 0)
		st(&s->bytes_out, ld(&s->bytes_out) + out);
}

void conn_table_close(struct conn_table *t, int worker, uint32_t i)
{
	static const uint64_t free_state[sizeof(struct conn_record) / 8];
	struct ct_region *r = region(t, worker);
	uint64_t n_free;

	if (i == CONN_TABLE_NONE) {
		if (ld(&r->unlisted) > 0)
			st(&r->unlisted, ld(&r->unlisted) - 1);
		return;
	}
	seqlock_write(&slot(t, worker, i)->seq, &slot(t, worker, i)->rec, free_state, sizeof(free_state));
	n_free = ld(&r->n_free);
	free_stack(t, worker)[n_free] = i;
	st(&r->n_free, n_free + 1);
}

void conn_table_worker_exited(struct conn_table *t, int worker)
{
	struct ct_region *r = region(t, worker);
	uint64_t used = ld(&r->used), repaired = 0;

	/* Readers walk only below "used": zero it first. */
	st(&r->used, 0);
	st(&r->n_free, 0);
	st(&r->unlisted, 0);
	/* Slots below "used", and the one conn_table_open was filling, may
	 * have been written; the rest were left even by the last reset. */
	for (uint64_t i = 0; i <= used && i < t->per_worker; i++)
		repaired += seqlock_writer_gone(&slot(t, worker, (uint32_t)i)->seq);
	st(&t->recoveries, ld(&t->recoveries) + repaired);
}

uint64_t conn_table_recoveries(const struct conn_table *t)
{
	return ld(&t->recoveries);
}

void conn_table_each(const struct conn_table *t, int worker,
		     void (*fn)(void *arg, const struct conn_record *rec, uint64_t in, uint64_t out), void *arg)
{
	uint64_t used = ld(&region(t, worker)->used);
	struct conn_record rec;

	for (uint32_t i = 0; i < used && i < t->per_worker; i++) {
		const struct ct_slot *s = slot(t, worker, i);

		if (!seqlock_read(&s->seq, &rec, &s->rec, sizeof(rec)) || rec.state == CONN_RECORD_FREE)
			continue;
		fn(arg, &rec, ld(&s->bytes_in), ld(&s->bytes_out));
	}
}

uint64_t conn_table_unlisted(const struct conn_table *t, int worker)
{
	return ld(&region(t, worker)->unlisted);
}
