/* sni_table.c - SNI context slots behind per-slot sequence counters.
 *
 * A slot's record is copied whole under its counter (common/seqlock).
 */
#include "common/sni_table.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "common/seqlock.h"

#define ST_MAGIC 0x534e4931u	/* "SNI1" */
#define ST_NAME_WORDS (SNI_HOSTNAME_MAX / 8)

/* One slot's contents, copied whole under its counter. */
struct st_record {
	uint64_t version;
	uint64_t order;
	uint64_t config_index;	/* int32 in a word */
	uint64_t live;
	uint64_t name[ST_NAME_WORDS];
};

struct st_slot {
	uint64_t seq;		/* odd while the master writes */
	struct st_record rec;
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

/* st_publish: write slot <i> stamped with the next generation, then
 * publish that generation (a reader that sees it finds the slot). */
static uint64_t st_publish(struct sni_table *t, uint32_t i, struct st_record *rec)
{
	uint64_t gen = ld(&t->generation) + 1;

	rec->version = gen;
	seqlock_write(&t->slots[i].seq, &t->slots[i].rec, rec, sizeof(*rec));
	if (i + 1 > ld(&t->used))
		st(&t->used, i + 1);
	__atomic_store_n(&t->generation, gen, __ATOMIC_RELEASE);
	return gen;
}

uint64_t sni_table_write(struct sni_table *t, uint32_t i, const char *hostname, uint64_t order,
			 int32_t config_index)
{
	struct st_record rec = { .order = order, .config_index = (uint64_t)(uint32_t)config_index, .live = 1 };

	snprintf((char *)rec.name, sizeof(rec.name), "%s", hostname);
	return st_publish(t, i, &rec);
}

uint64_t sni_table_clear(struct sni_table *t, uint32_t i)
{
	struct st_record rec = { .config_index = (uint64_t)(uint32_t)-1 };

	return st_publish(t, i, &rec);
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
	return __atomic_load_n(&t->slots[i].rec.version, __ATOMIC_ACQUIRE);
}

int sni_table_read(const struct sni_table *t, uint32_t i, struct sni_slot *out)
{
	struct st_record rec;

	if (!seqlock_read(&t->slots[i].seq, &rec, &t->slots[i].rec, sizeof(rec)))
		return TLSD_ERR_AGAIN;
	memcpy(out->hostname, rec.name, sizeof(out->hostname));
	out->hostname[SNI_HOSTNAME_MAX - 1] = '\0';
	out->order = rec.order;
	out->config_index = (int32_t)(uint32_t)rec.config_index;
	out->live = rec.live != 0;
	out->version = rec.version;
	return TLSD_OK;
}
