/* context_file.h - SNI contexts added at runtime, one file each in
 * STATE_DIR/contexts/, so they survive a master restart and every worker
 * can load the same credentials.
 *
 * A file holds {"order": n, "context": {...}}: the POST /v1/contexts body
 * as it was accepted (inline PEM stays inline; a path is read again when
 * the file is loaded) and the order it was added in. The name is the
 * hostname with a leading "*" written "%2A" (no DNS name has a '%'), plus
 * ".json"; when that would pass the 255 bytes a file name may have (DNS
 * names of 250 to 253 characters), it is "h-<hex SHA-256 of the
 * hostname>.json". The hostname itself is always inside, in "context".
 */
#ifndef TLSD_COMMON_CONTEXT_FILE_H
#define TLSD_COMMON_CONTEXT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/config.h"
#include "common/err.h"

#define CONTEXT_FILE_DIR "contexts"

/* context_file_name: the file name (no folder) for <hostname>. */
void context_file_name(const char *hostname, char *out, size_t size);

/* context_file_path: STATE_DIR/contexts/<name> for <hostname>. */
void context_file_path(const char *state_dir, const char *hostname, char *out, size_t size);

/* context_file_order: the "order" of the file <path>; TLSD_ERR_CONFIG when
 * it does not read as a context file. */
int context_file_order(const char *path, uint64_t *order) TLSD_MUST_CHECK;

/* context_file_save: write <context> (the accepted body) with <order>
 * atomically, mode 0600, creating the folder if needed. */
int context_file_save(const char *state_dir, const char *hostname, uint64_t order, json_t *context,
		      struct tlsd_error *err) TLSD_MUST_CHECK;

/* context_file_load: read <path> into *<ctx> (config_parse_context with
 * <base_dir>) and *<order>; *<body> gets the context object when not NULL
 * (caller owns it). Errors name the file. */
int context_file_load(const char *path, const char *base_dir, struct tlsd_context_config *ctx,
		      uint64_t *order, json_t **body, struct tlsd_error *err) TLSD_MUST_CHECK;

/* context_file_remove: delete the file of <hostname> (absent is fine). */
int context_file_remove(const char *state_dir, const char *hostname, struct tlsd_error *err) TLSD_MUST_CHECK;

#endif
