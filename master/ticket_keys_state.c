/* ticket_keys_state.c - STATE_DIR/ticket-keys: {"keys", "config"}. */
#include "master/ticket_keys_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <jansson.h>

#include "common/file_read.h"
#include "common/state_file.h"

#define STATE_NAME "ticket-keys"

static void state_path(const struct tlsd_config *cfg, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", cfg->state_dir, STATE_NAME);
}

/* config_mark: hex SHA-256 of the config's ticketKeys ("none" when unset),
 * so a later start can tell whether the config changed. */
static void config_mark(const struct tlsd_config *cfg, char out[65])
{
	const char *text = cfg->ticket_keys ? cfg->ticket_keys : "none";
	unsigned char digest[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, text, strlen(text), digest);
	for (size_t i = 0; i < sizeof(digest); i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

int ticket_keys_state_save(const struct tlsd_config *cfg, const unsigned char *keys, struct tlsd_error *err)
{
	char path[4200], mark[65], b64[65];
	json_t *doc;
	char *text;
	int rc;

	config_mark(cfg, mark);
	ticket_keys_encode(keys, b64);
	doc = json_pack("{s:s, s:s}", "keys", b64, "config", mark);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	gnutls_memset(b64, 0, sizeof(b64));
	if (text == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "ticket keys: out of memory");
	state_path(cfg, path, sizeof(path));
	rc = state_dir_make(cfg->state_dir, NULL, err);
	if (rc == TLSD_OK)
		rc = state_file_write(path, text, strlen(text), err);
	explicit_bzero(text, strlen(text));
	free(text);
	return rc;
}

int ticket_keys_state_load(const struct tlsd_config *cfg, unsigned char *keys, bool *found, struct tlsd_error *err)
{
	char path[4200], mark[65];
	json_error_t jerr;
	json_t *doc, *k, *c;
	struct tlsd_error why = { "" };
	char *text = NULL;
	size_t len = 0;
	int rc = TLSD_OK;

	*found = false;
	state_path(cfg, path, sizeof(path));
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return TLSD_OK;
	if (file_read(path, O_NOFOLLOW, &text, &len, &why) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s", why.msg);
	doc = json_loadb(text, len, 0, &jerr);
	file_read_free(text, len);
	if (doc == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s: %s (delete it to start from ticketKeys)",
				      path, jerr.text);
	k = json_object_get(doc, "keys");
	c = json_object_get(doc, "config");
	config_mark(cfg, mark);
	if (!json_is_string(k) || !json_is_string(c))
		rc = tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s: not a tlsd ticket-keys file", path);
	else if (strcmp(json_string_value(c), mark) == 0)
		rc = ticket_keys_decode(json_string_value(k), keys, path, err);
	*found = rc == TLSD_OK && json_is_string(c) && strcmp(json_string_value(c), mark) == 0;
	json_decref(doc);
	return rc;
}
