/* sni_table.c - SNI context slots behind per-slot sequence counters.
 *
 * Every field a reader copies is a 64-bit word accessed with relaxed
 * atomics, fenced by the slot's counter (odd while the master writes it),
 * as in common/ticket_keys.c.
 */
#include "common/sni_table.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define ST_MAGIC 0x534e4931u	/* "SNI1" */
#define ST_NAME_WORDS (SNI_HOSTNAME_MAX / 8)
#define ST_READ_SPINS 100	/* then yield to a preempted writer (ticket_keys.c) */
#define ST_READ_TRIES 100000

struct st_slot {
	uint64_t seq;		/* odd while the master writes */
	uint64_t version;
	uint64_t order;
	uint64_t config_index;	/* int32 in a word */
	uint64_t live;
	uint64_t name[ST_NAME_WORDS];
};

struct sni_table {
	uint32_t magic, capacity;
	uint64_t map_size;
	uint64_t generation;
	uint64_t used;
	struct st_slot slots[];
};

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

int sni_table_create(uint32_t capacity, struct sni_table **out)
{
	struct sni_table *t;
	size_t size = sizeof(*t) + (size_t)capacity * sizeof(struct st_slot);

	*out = NULL;
	if (capacity == 0 || capacity > SNI_TABLE_CAPACITY)
		return TLSD_ERR_CONFIG;
	t = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t == MAP_FAILED)
		return TLSD_ERR_IO;
	t->magic = ST_MAGIC;
	t->capacity = capacity;
	t->map_size = size;
	*out = t;
	return TLSD_OK;
}

void sni_table_destroy(struct sni_table *t)
{
	if (t != NULL)
		munmap(t, t->map_size);
}

uint32_t sni_table_capacity(const struct sni_table *t)
{
	return t->capacity;
}

/* st_publish: the single writer's seqlock around the slot's stores. */
static uint64_t st_publish(struct sni_table *t, uint32_t i, const uint64_t *name, uint64_t order,
			   uint64_t config_index, uint64_t live)
{
	struct st_slot *s = &t->slots[i];
	uint64_t seq = ld(&s->seq);
	uint64_t gen = ld(&t->generation) + 1;

	st(&s->seq, seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (size_t w = 0; w < ST_NAME_WORDS; w++)
		st(&s->name[w], name[w]);
	st(&s->order, order);
	st(&s->config_index, config_index);
	st(&s->live, live);
	st(&s->version, gen);
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
	if (i + 1 > ld(&t->used))
		st(&t->used, i + 1);
	/* The generation moves last: a reader that sees it finds the slot. */
	__atomic_store_n(&t->generation, gen, __ATOMIC_RELEASE);
	return gen;
}

uint64_t sni_table_write(struct sni_table *t, uint32_t i, const char *hostname, uint64_t order,
			 int32_t config_index)
{
	uint64_t name[ST_NAME_WORDS] = { 0 };

	snprintf((char *)name, sizeof(name), "%s", hostname);
	return st_publish(t, i, name, order, (uint64_t)(uint32_t)config_index, 1);
}

uint64_t sni_table_clear(struct sni_table *t, uint32_t i)
{
	uint64_t name[ST_NAME_WORDS] = { 0 };

	return st_publish(t, i, name, 0, (uint64_t)(uint32_t)-1, 0);
}

uint64_t sni_table_generation(const struct sni_table *t)
{
	return __atomic_load_n(&t->generation, __ATOMIC_ACQUIRE);
}

uint32_t sni_table_used(const struct sni_table *t)
{
	return (uint32_t)__atomic_load_n(&t->used, __ATOMIC_ACQUIRE);
}

uint64_t sni_table_version(const struct sni_table *t, uint32_t i)
{
	return __atomic_load_n(&t->slots[i].version, __ATOMIC_ACQUIRE);
}

int sni_table_read(const struct sni_table *t, uint32_t i, struct sni_slot *out)
{
	const struct st_slot *s = &t->slots[i];
	uint64_t name[ST_NAME_WORDS];

	for (long tries = 0; tries < ST_READ_TRIES; tries++) {
		uint64_t before = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

		if (tries >= ST_READ_SPINS)
			sched_yield();
		if (before & 1)
			continue;
		for (size_t w = 0; w < ST_NAME_WORDS; w++)
			name[w] = ld(&s->name[w]);
		out->order = ld(&s->order);
		out->config_index = (int32_t)(uint32_t)ld(&s->config_index);
		out->live = ld(&s->live) != 0;
		out->version = ld(&s->version);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != before)
			continue;
		memcpy(out->hostname, name, sizeof(out->hostname));
		out->hostname[SNI_HOSTNAME_MAX - 1] = '\0';
		return TLSD_OK;
	}
	return TLSD_ERR_AGAIN;
}
