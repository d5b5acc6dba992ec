/* contexts.h - the master's SNI contexts: those of the config and those
 * added at runtime (POST /v1/contexts), the source of truth that the
 * shared common/sni_table mirrors for the workers.
 *
 * At start: every config context is loaded (so a bad one stops the start,
 * naming contexts[i]), then every file in STATE_DIR/contexts/ in the order
 * it was added. At runtime a change is a transaction: parse and load the
 * credentials, write the state file, then publish the slot; a failure at
 * any step leaves everything as it was. When an add or remove returns 0,
 * the new table generation is published, so every worker serves the change
 * from its next accepted connection on.
 */
#ifndef TLSD_MASTER_CONTEXTS_H
#define TLSD_MASTER_CONTEXTS_H

#include <stdbool.h>

#include <jansson.h>

#include "common/config.h"
#include "common/context_stats.h"
#include "common/creds.h"
#include "common/err.h"
#include "common/sni_table.h"
#include "master/privileges.h"

struct contexts;

/* contexts_open: the registry over <table> (<cfg>, <priv> and <table>
 * must outlive it), with the config's contexts and the state dir's. Errors
 * name the context (contexts[i]. or the state file). Workers read the
 * state dir's context files when a client first asks for one: when they
 * run as another user (<priv>), the state dir and contexts/ are made
 * traversable and each context file readable by their group (never the
 * control token or the ticket keys), on every add and by contexts_share. */
int contexts_open(const struct tlsd_config *cfg, const struct privileges *priv, struct sni_table *table,
		  struct contexts **out,
		  struct tlsd_error *err) TLSD_MUST_CHECK;

/* contexts_share: at start, before the workers are forked: give the
 * workers' group access to the state files an earlier run left (written
 * for the master's user only). Not done by contexts_open, which --check
 * runs too: a check changes nothing. A no-op unless the workers run as
 * another user. */
int contexts_share(const struct contexts *c, struct tlsd_error *err) TLSD_MUST_CHECK;

/* contexts_add: Node's addContext(hostname, context) from the JSON object
 * <body> ({"hostname", "key", "cert", "ca"?, "passphrase"?, "pfx"?,
 * "ocsp"?}; not modified). Replaces a context of the same hostname; the
 * newest wins over a matching wildcard. The hostname CONFIG_DEFAULT_CONTEXT
 * ("*") is Node's setSecureContext: it replaces the config's key/cert for
 * clients without SNI and those whose name matches no context. *<added> gets its description
 * (as contexts_list's elements; caller owns it). Returns 0;
 * TLSD_ERR_CONFIG for bad input (err names the field: "cert[0]: ...",
 * "key[0]: matches no certificate in cert"); TLSD_ERR_IO when the state
 * file cannot be written or the table is full. */
int contexts_add(struct contexts *c, json_t *body, json_t **added, struct tlsd_error *err) TLSD_MUST_CHECK;

/* contexts_remove: drop the context of <hostname> (case-insensitive).
 * Returns 0, TLSD_ERR_CLOSED when there is none, TLSD_ERR_IO when its
 * state file cannot be removed (nothing changed then). A config context
 * removed at runtime comes back at the next start. */
int contexts_remove(struct contexts *c, const char *hostname, struct tlsd_error *err) TLSD_MUST_CHECK;

/* contexts_default_replaced: whether a "*" context replaces the
 * config's key/cert (its certificates are then the default ones). */
bool contexts_default_replaced(const struct contexts *c);

/* contexts_default_json: the default context, described as an element
 * of contexts_list: the "*" context ("source": "api") when the API
 * replaced the default, else {"hostname": "*", "source": "config"} with
 * the certificates of <config> (the config's key/cert; NULL: none).
 * Caller owns it; NULL when out of memory. */
json_t *contexts_default_json(const struct contexts *c, const struct tlsd_creds *config);

/* contexts_list: [{"hostname", "source": "config"|"api", "certificates":
 * [{"subject", "issuer", "valid_from", "valid_to", "fingerprint256",
 * "serialNumber", "keyType", "expiresIn"}]}] in the order added; never key
 * material. expiresIn: seconds until valid_to (negative: expired). */
json_t *contexts_list(const struct contexts *c);

/* contexts_each_certificate: <fn>(<arg>, hostname, certificate) for the
 * leaf certificate of every key/cert pair of every context, in table slot
 * order. The pointers last until the next add or remove. */
typedef void (*contexts_cert_fn)(void *arg, const char *hostname, const struct creds_cert_info *cert);
void contexts_each_certificate(const struct contexts *c, contexts_cert_fn fn, void *arg);

/* contexts_count_in: give every context a series of <stats> (which must
 * outlive <c>), in the order added, and every context added from now on,
 * before it is published (common/context_stats). Before the workers of
 * this registry's table are forked. TLSD_ERR_INTERNAL: out of memory
 * (nothing changed). */
int contexts_count_in(struct contexts *c, struct context_stats *stats) TLSD_MUST_CHECK;

/* contexts_count: how many contexts are served. */
size_t contexts_count(const struct contexts *c);

/* contexts_free: release the registry (NULL is fine); the table stays. */
void contexts_free(struct contexts *c);

#endif
