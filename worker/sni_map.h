/* sni_map.h - a worker's view of the SNI contexts: which credentials a
 * ClientHello's server name gets (Node's addContext and default
 * SNICallback).
 *
 * Matching (SPEC "SNI contexts"): case-insensitive; "*.example.com" covers
 * exactly one more label; when an exact name and a wildcard both match,
 * the one added later wins; no match or no SNI: the "*" context's
 * credentials when one was added (Node's setSecureContext), else the
 * config's default ones.
 * A lookup is two hash probes, whatever the number of contexts.
 *
 * The map follows common/sni_table: sni_map_refresh (on accept) copies the
 * slots written since the last refresh. Credentials are loaded the first
 * time a client asks for the name (from the config's "contexts" or the
 * state-dir file), so thousands of contexts cost nothing until used.
 */
#ifndef TLSD_WORKER_SNI_MAP_H
#define TLSD_WORKER_SNI_MAP_H

#include <gnutls/gnutls.h>

#include "common/config.h"
#include "common/context_stats.h"
#include "common/err.h"
#include "common/sni_table.h"

struct sni_map;

/* sni_map_new: an empty map over <table>, loading credentials with <cfg>
 * and finding each context's series in <stats> (NULL: none; all three
 * must outlive it); call sni_map_refresh before the first lookup. */
int sni_map_new(const struct sni_table *table, const struct tlsd_config *cfg, const struct context_stats *stats,
		struct sni_map **out) TLSD_MUST_CHECK;

/* sni_map_refresh: apply the table's changes since the last call; one
 * atomic load when there are none. */
void sni_map_refresh(struct sni_map *m);

/* One context's credentials, counted: the map holds a reference while the
 * context exists, each session that uses them holds one, so a context
 * replaced or removed at runtime stays valid for the handshakes and
 * connections still using it. */
struct sni_creds;

/* sni_map_acquire: a reference to the credentials for <servername> (as
 * the client sent it; NULL or "": no SNI). When no context matches (or
 * the matching one's credentials failed to load: logged once), those of
 * the "*" context (CONFIG_DEFAULT_CONTEXT, the default replaced at
 * runtime) if there is one; NULL for the config's default credentials.
 * *<series> gets what sni_map_series tells. */
struct sni_creds *sni_map_acquire(struct sni_map *m, const char *servername, int *series);

/* sni_map_series: the common/context_stats series a connection asking for
 * <servername> counts in: CONTEXT_SERIES_DEFAULT when it is NULL or ""
 * (the "*" context's too); the matching context's series (one whose
 * credentials failed to load too: the name is a context's);
 * CONTEXT_SERIES_OTHER when none matches or the context has no series of
 * its own. */
int sni_map_series(struct sni_map *m, const char *servername);

/* sni_creds_gnutls: what to give gnutls_credentials_set. */
gnutls_certificate_credentials_t sni_creds_gnutls(const struct sni_creds *c);

/* sni_creds_release: drop a reference (NULL is fine); the last one frees. */
void sni_creds_release(struct sni_creds *c);

/* sni_map_count: live contexts in the map. */
size_t sni_map_count(const struct sni_map *m);

/* sni_map_free: release the map and every credential it loaded. */
void sni_map_free(struct sni_map *m);

#endif
