/* context_file.c - one runtime SNI context per state-dir file. */
#include "common/context_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "common/file_read.h"
#include "common/state_file.h"

#define FILE_NAME_MAX 255	/* NAME_MAX of ext4, xfs, tmpfs and the others */

/* hashed_name: "h-<hex SHA-256 of hostname>.json", for a hostname whose
 * readable name would not fit (a label has at most 63 characters, so no
 * readable name looks like this). */
static void hashed_name(const char *hostname, char *out, size_t size)
{
	unsigned char digest[32];
	char hex[65];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, hostname, strlen(hostname), digest) < 0)
		memset(digest, 0, sizeof(digest));
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	snprintf(out, size, "h-%s.json", hex);
}

void context_file_name(const char *hostname, char *out, size_t size)
{
	bool wildcard = hostname[0] == '*';
	char name[FILE_NAME_MAX + 8];
	int n = snprintf(name, sizeof(name), "%s%s.json", wildcard ? "%2A" : "", wildcard ? hostname + 1 : hostname);

	if (n < 0 || (size_t)n > FILE_NAME_MAX)
		hashed_name(hostname, name, sizeof(name));
	snprintf(out, size, "%s", name);
}

void context_file_path(const char *state_dir, const char *hostname, char *out, size_t size)
{
	char name[FILE_NAME_MAX + 1];

	context_file_name(hostname, name, sizeof(name));
	snprintf(out, size, "%s/%s/%s", state_dir, CONTEXT_FILE_DIR, name);
}

/* context_file_read: the JSON document in <path> (a regular file of at
 * most 1 MiB, no symbolic link: it holds keys). */
static int context_file_read(const char *path, json_t **doc, struct tlsd_error *err)
{
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;

	*doc = NULL;
	GUARD(file_read(path, O_NOFOLLOW, &text, &len, err));
	*doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	file_read_free(text, len);
	if (*doc == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s", path, jerr.text);
	return TLSD_OK;
}

int context_file_order(const char *path, uint64_t *order)
{
	struct tlsd_error err = { "" };
	json_t *doc = NULL;
	json_t *n;
	int rc;

	GUARD(context_file_read(path, &doc, &err));
	n = json_object_get(doc, "order");
	rc = json_is_integer(n) && json_integer_value(n) >= 0 ? TLSD_OK : TLSD_ERR_CONFIG;
	if (rc == TLSD_OK)
		*order = (uint64_t)json_integer_value(n);
	json_decref(doc);
	return rc;
}

int context_file_save(const char *state_dir, const char *hostname, uint64_t order, json_t *context,
		      struct tlsd_error *err)
{
	char path[4096];
	json_t *doc = json_pack("{s:I, s:O}", "order", (json_int_t)order, "context", context);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	int rc;

	json_decref(doc);
	if (text == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "contexts: out of memory");
	rc = state_dir_make(state_dir, CONTEXT_FILE_DIR, err);
	context_file_path(state_dir, hostname, path, sizeof(path));
	if (rc == TLSD_OK)
		rc = state_file_write(path, text, strlen(text), err);
	explicit_bzero(text, strlen(text));	/* inline keys */
	free(text);
	return rc;
}

int context_file_load(const char *path, const char *base_dir, struct tlsd_context_config *ctx,
		      uint64_t *order, json_t **body, struct tlsd_error *err)
{
	json_t *doc = NULL, *context, *n;
	struct tlsd_error why = { "" };
	int rc;

	GUARD(context_file_read(path, &doc, err));
	context = json_object_get(doc, "context");
	n = json_object_get(doc, "order");
	if (!json_is_object(context) || !json_is_integer(n) || json_integer_value(n) < 0) {
		json_decref(doc);
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: not a tlsd context file", path);
	}
	rc = config_parse_context(context, base_dir, ctx, &why);
	if (rc < 0)
		tlsd_error_set(err, rc, "%s: %s", path, why.msg);
	*order = (uint64_t)json_integer_value(n);
	if (rc == TLSD_OK && body != NULL)
		*body = json_incref(context);
	json_decref(doc);
	return rc;
}

int context_file_remove(const char *state_dir, const char *hostname, struct tlsd_error *err)
{
	char path[4096];

	context_file_path(state_dir, hostname, path, sizeof(path));
	return state_file_remove(path, err);
}
