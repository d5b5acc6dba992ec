/* ticket_keys_state.c - STATE_DIR/ticket-keys: {"keys", "config", "ring"}. */
#include "master/ticket_keys_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

json_t *ticket_keys_state_ring_json(const struct ticket_ring *ring)
{
	json_t *list = json_array();
	char b64[65];

	for (size_t i = 0; list != NULL && i < ring->n; i++) {
		ticket_keys_encode(ring->e[i].keys, b64);
		if (json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "keys", b64, "state",
							  ticket_ring_state_name(ring->e[i].state), "createdAt",
							  (json_int_t)ring->e[i].created_at)) < 0) {
			json_decref(list);
			list = NULL;
		}
	}
	gnutls_memset(b64, 0, sizeof(b64));
	return list;
}

/* wipe_json: overwrite every string of <doc> (key material) before free. */
void ticket_keys_state_wipe_json(json_t *v)
{
	size_t i;
	const char *k;
	json_t *m;

	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
	else if (json_is_array(v))
		json_array_foreach(v, i, m) ticket_keys_state_wipe_json(m);
	else if (json_is_object(v))
		json_object_foreach(v, k, m) ticket_keys_state_wipe_json(m);
}

int ticket_keys_state_save(const struct tlsd_config *cfg, const struct ticket_ring *ring, struct tlsd_error *err)
{
	char path[4200], mark[65], b64[65];
	const struct ticket_ring_entry *active = ticket_ring_active(ring);
	json_t *doc;
	char *text;
	int rc;

	if (active == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "ticket keys: the ring has no active key");
	config_mark(cfg, mark);
	ticket_keys_encode(active->keys, b64);
	doc = json_pack("{s:s, s:s, s:o}", "keys", b64, "config", mark, "ring", ticket_keys_state_ring_json(ring));
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	ticket_keys_state_wipe_json(doc);
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

/* ring_entry_parse: one {"keys", "state", "createdAt"} of the file. */
static int ring_entry_parse(json_t *v, const char *path, struct ticket_ring_entry *e, struct tlsd_error *err)
{
	json_t *k = json_object_get(v, "keys"), *st = json_object_get(v, "state");
	json_t *at = json_object_get(v, "createdAt");

	if (!json_is_string(k) || !json_is_string(st) || !json_is_integer(at) ||
	    !ticket_ring_state_parse(json_string_value(st), &e->state))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s: a ring entry needs keys, state and createdAt",
				      path);
	e->created_at = json_integer_value(at);
	return ticket_keys_decode(json_string_value(k), e->keys, path, err);
}

int ticket_keys_state_ring_parse(json_t *list, const char *path, struct ticket_ring *ring, struct tlsd_error *err)
{
	size_t i;
	json_t *v;
	struct tlsd_error why = { "" };

	memset(ring, 0, sizeof(*ring));
	if (!json_is_array(list) || json_array_size(list) > TICKET_RING_MAX)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s: \"ring\" must be an array of at most %d",
				      path, TICKET_RING_MAX);
	json_array_foreach(list, i, v) {
		GUARD(ring_entry_parse(v, path, &ring->e[i], err));
		ring->n++;
	}
	if (ticket_ring_validate(ring, &why) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s: %s", path, why.msg);
	return TLSD_OK;
}

/* doc_to_ring: the ring of a parsed file whose config mark matched. */
static int doc_to_ring(json_t *doc, const char *path, const unsigned char *next, struct ticket_ring *ring,
		       struct tlsd_error *err)
{
	unsigned char keys[TICKET_KEYS_SIZE];
	json_t *list = json_object_get(doc, "ring");
	int rc;

	if (list != NULL)
		return ticket_keys_state_ring_parse(list, path, ring, err);
	rc = ticket_keys_decode(json_string_value(json_object_get(doc, "keys")), keys, path, err);
	if (rc == TLSD_OK)
		ticket_ring_init(ring, keys, next, (int64_t)time(NULL));
	gnutls_memset(keys, 0, sizeof(keys));
	return rc;
}

int ticket_keys_state_load(const struct tlsd_config *cfg, const unsigned char *next, struct ticket_ring *ring,
			   bool *found, struct tlsd_error *err)
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
		rc = doc_to_ring(doc, path, next, ring, err);
	*found = rc == TLSD_OK && json_is_string(c) && strcmp(json_string_value(c), mark) == 0;
	ticket_keys_state_wipe_json(doc);
	json_decref(doc);
	return rc;
}
