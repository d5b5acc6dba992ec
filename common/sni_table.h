/* sni_table.h - which SNI contexts exist, in shared memory: the master
 * writes it, every worker reads it to know what to serve.
 *
 * A slot names one context: its hostname ("a.example.com" or
 * "*.example.com", lowercase), the order in which it was added (the most
 * recently added match wins) and where its credentials come from (an
 * element of the config's "contexts", or a file in the state dir). The
 * credentials themselves stay out of shared memory: each worker loads them
 * from there when a client first asks for the name.
 *
 * One writer (the master). Each write bumps the table's generation and
 * stamps the slot with it, under the slot's own sequence counter, so a
 * worker compares one number on accept and, when it moved, copies only the
 * slots stamped after the generation it last saw; a copy that overlaps a
 * write is taken again (never half-written).
 */
#ifndef TLSD_COMMON_SNI_TABLE_H
#define TLSD_COMMON_SNI_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define SNI_HOSTNAME_MAX 256	/* a DNS name (253) and its NUL, rounded */
#define SNI_TABLE_CAPACITY 65536

/* A copy of one slot. */
struct sni_slot {
	bool live;
	char hostname[SNI_HOSTNAME_MAX];
	uint64_t order;		/* larger: added later */
	int32_t config_index;	/* >= 0: the config's contexts[i]; -1: a state-dir file */
	uint64_t version;	/* the generation of its last write */
};

struct sni_table;

/* sni_table_create: map <capacity> slots (1..SNI_TABLE_CAPACITY), all
 * empty, generation 0. Pages are only used as slots are written. Returns
 * 0, TLSD_ERR_CONFIG (capacity) or TLSD_ERR_IO (mmap). */
int sni_table_create(uint32_t capacity, struct sni_table **out) TLSD_MUST_CHECK;

/* sni_table_destroy: unmap (NULL is fine). */
void sni_table_destroy(struct sni_table *t);

uint32_t sni_table_capacity(const struct sni_table *t);

/* ---- the master ---- */

/* sni_table_write: put <hostname>, <order>, <config_index> in slot <i>
 * (< capacity) and publish it. Returns the new generation. */
uint64_t sni_table_write(struct sni_table *t, uint32_t i, const char *hostname, uint64_t order,
			 int32_t config_index);

/* sni_table_clear: empty slot <i> and publish it. Returns the new generation. */
uint64_t sni_table_clear(struct sni_table *t, uint32_t i);

/* ---- everyone, without a lock ---- */

/* sni_table_generation: bumped by every write (acquire load). */
uint64_t sni_table_generation(const struct sni_table *t);

/* sni_table_used: slots below this index may have been written. */
uint32_t sni_table_used(const struct sni_table *t);

/* sni_table_version: the generation slot <i> was last written at (0: never). */
uint64_t sni_table_version(const struct sni_table *t, uint32_t i);

/* sni_table_read: a whole copy of slot <i> into *<out>. Returns 0, or
 * TLSD_ERR_AGAIN when a write never finished (the writer died in it). */
int sni_table_read(const struct sni_table *t, uint32_t i, struct sni_slot *out) TLSD_MUST_CHECK;

#endif
