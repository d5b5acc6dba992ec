/* context_file.c - one runtime SNI context per state-dir file. */
#include "common/context_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/state_file.h"

void context_file_path(const char *state_dir, const char *hostname, char *out, size_t size)
{
	bool wildcard = hostname[0] == '*';

	snprintf(out, size, "%s/%s/%s%s.json", state_dir, CONTEXT_FILE_DIR, wildcard ? "%2A" : "",
		 wildcard ? hostname + 1 : hostname);
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
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	json_t *context = json_object_get(doc, "context");
	json_t *n = json_object_get(doc, "order");
	struct tlsd_error why = { "" };
	int rc;

	if (doc == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s", path, jerr.text);
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
