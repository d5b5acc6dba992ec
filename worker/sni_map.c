/* sni_map.c - hostname -> credentials, mirrored from the shared table.
 *
 * Entries are indexed by table slot; a chained hash over the hostnames
 * (bucket heads and links are slot numbers) finds them.
 */
#include "worker/sni_map.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/context_file.h"
#include "common/creds.h"
#include "common/log.h"

#define SNI_BUCKETS 16384	/* power of two */
#define SNI_NIL UINT32_MAX

struct sni_creds {
	struct tlsd_creds *creds;
	unsigned refs;
};

struct sni_entry {
	char *hostname;		/* NULL: slot empty */
	uint64_t order;
	int32_t config_index;
	uint32_t next;		/* hash chain */
	struct sni_creds *creds;	/* loaded on first use; the map's reference */
	bool failed;		/* loading failed: default credentials */
	bool series_known;	/* series was looked up (on first use) */
	int series;		/* common/context_stats */
};

struct sni_map {
	const struct sni_table *table;
	const struct tlsd_config *cfg;
	const struct context_stats *stats;	/* NULL: every context counts as other */
	uint64_t seen;		/* table generation applied */
	struct sni_entry *entries;
	uint32_t n_entries;	/* allocated */
	size_t live;
	uint32_t buckets[SNI_BUCKETS];
};

static uint32_t bucket_of(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++) {
		h ^= (uint8_t)*name;
		h *= 16777619u;
	}
	return h & (SNI_BUCKETS - 1);
}

int sni_map_new(const struct sni_table *table, const struct tlsd_config *cfg, const struct context_stats *stats,
		struct sni_map **out)
{
	struct sni_map *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (m == NULL)
		return TLSD_ERR_INTERNAL;
	m->table = table;
	m->cfg = cfg;
	m->stats = stats;
	for (size_t i = 0; i < SNI_BUCKETS; i++)
		m->buckets[i] = SNI_NIL;
	*out = m;
	return TLSD_OK;
}

static void entry_unlink(struct sni_map *m, uint32_t slot)
{
	struct sni_entry *e = &m->entries[slot];
	uint32_t *link = &m->buckets[bucket_of(e->hostname)];

	while (*link != SNI_NIL && *link != slot)
		link = &m->entries[*link].next;
	if (*link == slot)
		*link = e->next;
}

static void entry_clear(struct sni_map *m, uint32_t slot)
{
	struct sni_entry *e = &m->entries[slot];

	if (e->hostname == NULL)
		return;
	entry_unlink(m, slot);
	sni_creds_release(e->creds);
	free(e->hostname);
	memset(e, 0, sizeof(*e));
	m->live--;
}

static int entries_reserve(struct sni_map *m, uint32_t used)
{
	struct sni_entry *grown;

	if (used <= m->n_entries)
		return TLSD_OK;
	grown = realloc(m->entries, (size_t)used * sizeof(*grown));
	if (grown == NULL)
		return TLSD_ERR_INTERNAL;
	memset(grown + m->n_entries, 0, (size_t)(used - m->n_entries) * sizeof(*grown));
	m->entries = grown;
	m->n_entries = used;
	return TLSD_OK;
}

static void entry_set(struct sni_map *m, uint32_t slot, const struct sni_slot *s)
{
	struct sni_entry *e = &m->entries[slot];
	uint32_t b;

	entry_clear(m, slot);
	if (!s->live)
		return;
	e->hostname = strdup(s->hostname);
	if (e->hostname == NULL) {
		log_error("SNI contexts: out of memory for %s", s->hostname);
		return;
	}
	e->order = s->order;
	e->config_index = s->config_index;
	b = bucket_of(e->hostname);
	e->next = m->buckets[b];
	m->buckets[b] = slot;
	m->live++;
}

/* apply_slot: copy slot <i> if it changed after generation <since>.
 * Returns false when a copy could not be taken (retry next refresh). */
static bool apply_slot(struct sni_map *m, uint32_t i, uint64_t since)
{
	struct sni_slot s;

	if (sni_table_version(m->table, i) <= since)
		return true;
	if (sni_table_read(m->table, i, &s) < 0)
		return false;
	entry_set(m, i, &s);
	return true;
}

void sni_map_refresh(struct sni_map *m)
{
	uint64_t gen = sni_table_generation(m->table);
	uint32_t used;
	bool complete = true;

	if (gen == m->seen)
		return;
	used = sni_table_used(m->table);
	if (entries_reserve(m, used) < 0) {
		log_error("SNI contexts: out of memory for %u slots", used);
		return;
	}
	for (uint32_t i = 0; i < used; i++)
		complete = apply_slot(m, i, m->seen) && complete;
	/* Changes made during the walk carry a later version: the next
	 * refresh picks them up. */
	if (complete)
		m->seen = gen;
}

static struct sni_entry *find_exact(struct sni_map *m, const char *name)
{
	for (uint32_t i = m->buckets[bucket_of(name)]; i != SNI_NIL; i = m->entries[i].next)
		if (strcmp(m->entries[i].hostname, name) == 0)
			return &m->entries[i];
	return NULL;
}

/* find_best: the exact entry or the "*.<parent>" one, whichever was
 * added later. */
static struct sni_entry *find_best(struct sni_map *m, const char *name)
{
	struct sni_entry *exact = find_exact(m, name), *wild = NULL;
	const char *dot = strchr(name, '.');
	char pattern[SNI_HOSTNAME_MAX + 2];

	if (dot != NULL && dot != name && dot[1] != '\0' && strlen(dot) + 2 <= sizeof(pattern)) {
		pattern[0] = '*';
		strcpy(pattern + 1, dot);
		wild = find_exact(m, pattern);
	}
	if (exact == NULL || (wild != NULL && wild->order > exact->order))
		return wild;
	return exact;
}

gnutls_certificate_credentials_t sni_creds_gnutls(const struct sni_creds *c)
{
	return creds_gnutls(c->creds);
}

void sni_creds_release(struct sni_creds *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	creds_free(c->creds);
	free(c);
}

static int load_from_file(const struct sni_map *m, const char *hostname, struct tlsd_creds **out,
			  struct tlsd_error *err)
{
	struct tlsd_context_config ctx;
	char path[4096];
	uint64_t order = 0;
	int rc;

	context_file_path(m->cfg->state_dir, hostname, path, sizeof(path));
	GUARD(context_file_load(path, m->cfg->base_dir, &ctx, &order, NULL, err));
	rc = creds_load_context(&ctx, "", out, err);
	config_context_free(&ctx);
	return rc;
}

static void entry_load(struct sni_map *m, struct sni_entry *e)
{
	struct tlsd_error err = { "" };
	struct tlsd_creds *creds = NULL;
	int rc;

	if (e->config_index >= 0 && (size_t)e->config_index < m->cfg->n_contexts)
		rc = creds_load_context(&m->cfg->contexts[e->config_index], "", &creds, &err);
	else
		rc = load_from_file(m, e->hostname, &creds, &err);
	if (rc == TLSD_OK && (e->creds = calloc(1, sizeof(*e->creds))) == NULL) {
		creds_free(creds);
		rc = tlsd_error_set(&err, TLSD_ERR_INTERNAL, "out of memory");
	}
	if (rc < 0) {
		e->failed = true;
		log_error("SNI context %s: %s: serving the default certificate", e->hostname, err.msg);
		return;
	}
	e->creds->creds = creds;
	e->creds->refs = 1;
}

/* lookup: the entry <servername> (as the client sent it) matches, or
 * NULL; *<series> gets its series (sni_map_series). */
static struct sni_entry *lookup(struct sni_map *m, const char *servername, int *series)
{
	char name[SNI_HOSTNAME_MAX];
	struct sni_entry *e;
	size_t i;

	*series = CONTEXT_SERIES_DEFAULT;
	if (servername == NULL || servername[0] == '\0')
		return NULL;
	*series = CONTEXT_SERIES_OTHER;
	if (m->live == 0)
		return NULL;
	for (i = 0; servername[i] != '\0' && i + 1 < sizeof(name); i++)
		name[i] = (char)tolower((unsigned char)servername[i]);
	name[i] = '\0';
	e = find_best(m, name);
	if (e == NULL)
		return NULL;
	/* Looked up once: the master names a context's series before it
	 * publishes the context, and a series keeps its name. */
	if (!e->series_known) {
		e->series = m->stats != NULL ? context_stats_find(m->stats, e->hostname) : CONTEXT_SERIES_OTHER;
		e->series_known = true;
	}
	*series = e->series;
	return e;
}

int sni_map_series(struct sni_map *m, const char *servername)
{
	int series;

	lookup(m, servername, &series);
	return series;
}

/* entry_acquire: a reference to <e>'s credentials, loaded on first use;
 * NULL when <e> is NULL or they do not load. */
static struct sni_creds *entry_acquire(struct sni_map *m, struct sni_entry *e)
{
	if (e == NULL)
		return NULL;
	if (e->creds == NULL && !e->failed)
		entry_load(m, e);
	if (e->creds == NULL)
		return NULL;
	e->creds->refs++;
	return e->creds;
}

struct sni_creds *sni_map_acquire(struct sni_map *m, const char *servername, int *series)
{
	struct sni_creds *held = entry_acquire(m, lookup(m, servername, series));

	if (held != NULL || m->live == 0)
		return held;
	/* No match, no SNI, or a context that failed to load: the "*"
	 * context when there is one, else the config's credentials. */
	return entry_acquire(m, find_exact(m, CONFIG_DEFAULT_CONTEXT));
}

size_t sni_map_count(const struct sni_map *m)
{
	return m->live;
}

void sni_map_free(struct sni_map *m)
{
	if (m == NULL)
		return;
	for (uint32_t i = 0; i < m->n_entries; i++)
		entry_clear(m, i);
	free(m->entries);
	free(m);
}
