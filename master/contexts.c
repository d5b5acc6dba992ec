/* contexts.c - the master's SNI context registry, persisted and published. */
#include "master/contexts.h"

#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/context_file.h"
#include "common/context_stats.h"
#include "common/creds.h"
#include "common/file_read.h"
#include "common/log.h"
#include "common/state_file.h"

#define CERTS_SHOWN 4	/* RSA + ECDSA side by side, and some room */

/* What an API client hears about any file it named that cannot be used:
 * the same words whether the file is missing, unreadable, a FIFO, a
 * device, too large or holds something else, so the API tells nobody
 * which files exist. The master's log has the real reason. */
#define UNUSABLE_FILE "a file named in key, cert, ca, pfx or ocsp cannot be used: each must be a " \
	"regular file of at most 1 MiB that tlsd can read and that holds what the field names"

struct ctx_entry {
	char *hostname;
	bool from_api;
	uint64_t order;
	size_t n_certs;
	struct creds_cert_info certs[CERTS_SHOWN];
};

struct contexts {
	const struct tlsd_config *cfg;
	const struct privileges *priv;
	struct sni_table *table;
	struct context_stats *stats;	/* series by hostname; NULL: not yet */
	uint32_t capacity;
	struct ctx_entry **slots;	/* by table slot; NULL: free */
	uint32_t *free_slots;		/* stack of freed slots */
	uint32_t n_free;
	uint32_t next_unused;
	json_t *by_name;		/* hostname -> slot */
	uint64_t next_order;
	size_t count;
};

/* One state file found at start, before it is added. */
struct found_file {
	char path[4400];	/* the folder (< 4096) and a file name (< 256) */
	uint64_t order;
};

static void entry_free(struct ctx_entry *e)
{
	if (e == NULL)
		return;
	free(e->hostname);
	free(e);
}

/* describe: load <ctx>'s credentials (the key/cert check) into a new
 * entry with its certificates' descriptions. */
static int describe(const struct tlsd_context_config *ctx, const char *prefix, struct ctx_entry **out,
		    struct tlsd_error *err)
{
	struct tlsd_creds *creds = NULL;
	struct ctx_entry *e;

	*out = NULL;
	GUARD(creds_load_context(ctx, prefix, &creds, err));
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->hostname = strdup(ctx->hostname)) == NULL) {
		free(e);
		creds_free(creds);
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "contexts: out of memory");
	}
	e->n_certs = creds_certificates(creds, e->certs, CERTS_SHOWN);
	creds_free(creds);
	*out = e;
	return TLSD_OK;
}

static bool find_slot(const struct contexts *c, const char *hostname, uint32_t *slot)
{
	json_t *v = json_object_get(c->by_name, hostname);

	if (!json_is_integer(v))
		return false;
	*slot = (uint32_t)json_integer_value(v);
	return true;
}

/* take_slot: the slot of <hostname> if it has one, else a free one. */
static int take_slot(const struct contexts *c, const char *hostname, uint32_t *slot, struct tlsd_error *err)
{
	if (find_slot(c, hostname, slot))
		return TLSD_OK;
	if (c->n_free > 0) {
		*slot = c->free_slots[c->n_free - 1];
		return TLSD_OK;
	}
	if (c->next_unused < c->capacity) {
		*slot = c->next_unused;
		return TLSD_OK;
	}
	return tlsd_error_set(err, TLSD_ERR_IO, "contexts: all %u slots are used", c->capacity);
}

/* commit: <e> now lives in <slot> (replacing what was there) and is
 * published to the workers. */
static void commit(struct contexts *c, uint32_t slot, struct ctx_entry *e, int32_t config_index)
{
	if (c->slots[slot] == NULL) {
		if (c->n_free > 0 && c->free_slots[c->n_free - 1] == slot)
			c->n_free--;
		else
			c->next_unused++;
		c->count++;
	}
	entry_free(c->slots[slot]);
	c->slots[slot] = e;
	json_object_set_new(c->by_name, e->hostname, json_integer(slot));
	/* The series first: a worker that sees the slot finds it. */
	if (c->stats != NULL)
		context_stats_name(c->stats, e->hostname);
	sni_table_write(c->table, slot, e->hostname, e->order, config_index);
}

static int add_config_context(struct contexts *c, size_t i, struct tlsd_error *err)
{
	char prefix[48];
	struct ctx_entry *e = NULL;
	uint32_t slot;

	snprintf(prefix, sizeof(prefix), "contexts[%zu].", i);
	GUARD(describe(&c->cfg->contexts[i], prefix, &e, err));
	if (take_slot(c, e->hostname, &slot, err) < 0) {
		entry_free(e);
		return TLSD_ERR_CONFIG;
	}
	e->order = c->next_order++;
	commit(c, slot, e, (int32_t)i);
	return TLSD_OK;
}

static int compare_found(const void *a, const void *b)
{
	const struct found_file *x = a, *y = b;

	return x->order < y->order ? -1 : x->order > y->order;
}

static bool is_context_file(const char *name)
{
	size_t len = strlen(name);

	return len > 5 && strcmp(name + len - 5, ".json") == 0 && strstr(name, ".tmp.") == NULL;
}

/* list_files: the state dir's context files, in the order they were added. */
static int list_files(const struct contexts *c, struct found_file **out, size_t *n)
{
	char dir_path[4096];
	DIR *dir;
	struct dirent *d;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	snprintf(dir_path, sizeof(dir_path), "%s/%s", c->cfg->state_dir, CONTEXT_FILE_DIR);
	dir = opendir(dir_path);
	if (dir == NULL)
		return TLSD_OK;
	while ((d = readdir(dir)) != NULL) {
		if (!is_context_file(d->d_name))
			continue;
		if (*n == cap) {
			struct found_file *grown = realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof(**out));

			if (grown == NULL)
				break;
			*out = grown;
		}
		snprintf((*out)[*n].path, sizeof((*out)[*n].path), "%s/%s", dir_path, d->d_name);
		(*out)[(*n)++].order = UINT64_MAX;
	}
	closedir(dir);
	return TLSD_OK;
}

/* add_state_file: one runtime context from an earlier run. A file that
 * does not load is reported and skipped: the rest still serve. */
static void add_state_file(struct contexts *c, const struct found_file *f)
{
	struct tlsd_context_config ctx;
	struct tlsd_error err = { "" };
	struct ctx_entry *e = NULL;
	uint64_t order = 0;
	uint32_t slot;

	if (context_file_load(f->path, c->cfg->base_dir, &ctx, &order, NULL, &err) < 0) {
		log_error("stateDir: %s: not served (fix or delete the file)", err.msg);
		return;
	}
	if (describe(&ctx, "", &e, &err) == TLSD_OK && take_slot(c, e->hostname, &slot, &err) == TLSD_OK) {
		e->from_api = true;
		e->order = c->next_order++;
		commit(c, slot, e, -1);
		e = NULL;
	} else {
		log_error("stateDir: %s: %s: not served (fix or delete the file)", f->path, err.msg);
	}
	entry_free(e);
	config_context_free(&ctx);
}

/* order_files: read each file's order so they are added as they were. */
static void order_files(const struct contexts *c, struct found_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (context_file_order(files[i].path, &files[i].order) < 0)
			files[i].order = UINT64_MAX;	/* reported when it is added */
	if (n > 1)
		qsort(files, n, sizeof(*files), compare_found);
}

static int load_state_dir(struct contexts *c)
{
	struct found_file *files = NULL;
	size_t n = 0;

	GUARD(list_files(c, &files, &n));
	order_files(c, files, n);
	for (size_t i = 0; i < n; i++)
		add_state_file(c, &files[i]);
	free(files);
	return TLSD_OK;
}

static int contexts_alloc(const struct tlsd_config *cfg, struct sni_table *table, struct contexts **out)
{
	struct contexts *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return TLSD_ERR_INTERNAL;
	c->cfg = cfg;
	c->table = table;
	c->capacity = sni_table_capacity(table);
	c->slots = calloc(c->capacity, sizeof(*c->slots));
	c->free_slots = calloc(c->capacity, sizeof(*c->free_slots));
	c->by_name = json_object();
	c->next_order = 1;
	if (c->slots == NULL || c->free_slots == NULL || c->by_name == NULL) {
		contexts_free(c);
		return TLSD_ERR_INTERNAL;
	}
	*out = c;
	return TLSD_OK;
}

/* share_state_dir: the folders the workers go through to a context file. */
static int share_state_dir(const struct contexts *c, struct tlsd_error *err)
{
	char sub[4096];

	snprintf(sub, sizeof(sub), "%s/%s", c->cfg->state_dir, CONTEXT_FILE_DIR);
	GUARD(privileges_share(c->priv, c->cfg->state_dir, true, err));
	return privileges_share(c->priv, sub, true, err);
}

/* share_context_file: <hostname>'s state file, readable by the workers. */
static int share_context_file(const struct contexts *c, const char *hostname, struct tlsd_error *err)
{
	char path[4096];

	GUARD(share_state_dir(c, err));
	context_file_path(c->cfg->state_dir, hostname, path, sizeof(path));
	return privileges_share(c->priv, path, false, err);
}

int contexts_share(const struct contexts *c, struct tlsd_error *err)
{
	struct found_file *files = NULL;
	size_t n = 0;
	int rc = TLSD_OK;

	if (!c->priv->drop)
		return TLSD_OK;
	GUARD(share_state_dir(c, err));
	GUARD(list_files(c, &files, &n));
	for (size_t i = 0; i < n && rc == TLSD_OK; i++)
		rc = privileges_share(c->priv, files[i].path, false, err);
	free(files);
	return rc;
}

int contexts_open(const struct tlsd_config *cfg, const struct privileges *priv, struct sni_table *table,
		  struct contexts **out, struct tlsd_error *err)
{
	struct contexts *c = NULL;
	int rc;

	if (contexts_alloc(cfg, table, &c) < 0)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "contexts: out of memory");
	c->priv = priv;
	for (size_t i = 0; i < cfg->n_contexts; i++)
		GUARD_GOTO(add_config_context(c, i, err), rc, fail);
	GUARD_GOTO(state_dir_check(cfg->state_dir, err), rc, fail);
	GUARD_GOTO(load_state_dir(c), rc, fail);
	*out = c;
	return TLSD_OK;
fail:
	contexts_free(c);
	return rc;
}

/* cert_json: expiresIn is valid_to less now, in seconds (negative once
 * expired), so a monitor needs no date parsing. */
static json_t *cert_json(const struct creds_cert_info *ci)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "subject", ci->subject, "issuer", ci->issuer,
			 "valid_from", ci->valid_from, "valid_to", ci->valid_to,
			 "fingerprint256", ci->fingerprint256, "serialNumber", ci->serial_number,
			 "keyType", ci->key_type, "expiresIn", (json_int_t)(ci->not_after - (int64_t)time(NULL)));
}

static json_t *entry_json(const struct ctx_entry *e)
{
	json_t *certs = json_array();

	for (size_t i = 0; certs != NULL && i < e->n_certs; i++)
		json_array_append_new(certs, cert_json(&e->certs[i]));
	return json_pack("{s:s, s:s, s:o}", "hostname", e->hostname, "source", e->from_api ? "api" : "config",
			 "certificates", certs);
}

/* value_usable: one PEM-or-path value of the API body; a path must read
 * (file_read: regular, at most 1 MiB, never blocking). */
static bool value_usable(const struct contexts *c, json_t *v)
{
	struct tlsd_error why = { "" };
	const char *text = json_string_value(json_is_object(v) ? json_object_get(v, "pem") : v);
	char *path = NULL, *data = NULL;
	size_t len = 0;
	bool ok;

	if (text == NULL || text[0] == '\0' || config_is_inline_pem(text))
		return true;	/* not a path: the parser judges it */
	if (text[0] != '/' && asprintf(&path, "%s/%s", c->cfg->base_dir, text) < 0)
		return false;
	ok = file_read(path ? path : text, 0, &data, &len, &why) == TLSD_OK;
	if (!ok)
		log_warn("control: POST /v1/contexts: %s", why.msg);
	file_read_free(data, len);
	free(path);
	return ok;
}

/* paths_usable: every file the API body names in key/cert/ca/pfx/ocsp
 * (strings, {pem} objects or arrays of those) can be read. */
static bool paths_usable(const struct contexts *c, json_t *body)
{
	static const char *const fields[] = { "key", "cert", "ca", "pfx", "ocsp" };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = json_object_get(body, fields[i]), *item;
		size_t j;

		if (!json_is_array(v) && !value_usable(c, v))
			return false;
		json_array_foreach(v, j, item)
			if (!value_usable(c, item))
				return false;
	}
	return true;
}

static bool list_has_path(const struct tlsd_pem_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		if (!config_is_inline_pem(list->items[i].value))
			return true;
	return false;
}

/* names_files: whether <ctx> takes anything from a file. */
static bool names_files(const struct tlsd_context_config *ctx)
{
	return list_has_path(&ctx->keys) || list_has_path(&ctx->certs) || list_has_path(&ctx->ca) ||
	       ctx->pfx != NULL || ctx->ocsp != NULL;
}

/* describe_api: describe() for a context from the API; when it names a
 * file, a failure is told in UNUSABLE_FILE's words and logged in full. */
static int describe_api(const struct tlsd_context_config *ctx, struct ctx_entry **out, struct tlsd_error *err)
{
	int rc = describe(ctx, "", out, err);

	if (rc != TLSD_ERR_CONFIG || !names_files(ctx))
		return rc;
	log_warn("control: POST /v1/contexts: %s", err->msg);
	return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s", UNUSABLE_FILE);
}

int contexts_add(struct contexts *c, json_t *body, json_t **added, struct tlsd_error *err)
{
	struct tlsd_context_config ctx;
	struct ctx_entry *e = NULL;
	uint32_t slot;
	int rc;

	*added = NULL;
	if (!paths_usable(c, body))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s", UNUSABLE_FILE);
	GUARD(config_parse_context(body, c->cfg->base_dir, &ctx, err));
	GUARD_GOTO(describe_api(&ctx, &e, err), rc, out);
	GUARD_GOTO(take_slot(c, e->hostname, &slot, err), rc, out);
	e->from_api = true;
	e->order = c->next_order;
	GUARD_GOTO(context_file_save(c->cfg->state_dir, e->hostname, e->order, body, err), rc, out);
	/* Before the slot is published: a worker that cannot read the file
	 * would serve the default certificate for the name until it exits. */
	if (share_context_file(c, e->hostname, err) < 0)
		log_error("control: SNI context %s: %s", e->hostname, err->msg);
	c->next_order++;
	*added = entry_json(e);
	commit(c, slot, e, -1);
	log_info("control: SNI context %s added%s", e->hostname, strcmp(e->hostname, CONFIG_DEFAULT_CONTEXT) == 0 ?
		 ": it is the default certificate now" : "");
	e = NULL;
out:
	entry_free(e);
	config_context_free(&ctx);
	return rc;
}

static void lowercase(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < size; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

int contexts_remove(struct contexts *c, const char *hostname, struct tlsd_error *err)
{
	char name[SNI_HOSTNAME_MAX];
	struct ctx_entry *e;
	uint32_t slot;

	lowercase(hostname, name, sizeof(name));
	if (!find_slot(c, name, &slot))
		return tlsd_error_set(err, TLSD_ERR_CLOSED, "no context for \"%s\"%s", hostname,
				      strcmp(name, CONFIG_DEFAULT_CONTEXT) == 0 ?
				      " (the config's key and cert already serve as the default)" : "");
	e = c->slots[slot];
	if (e->from_api)
		GUARD(context_file_remove(c->cfg->state_dir, e->hostname, err));
	sni_table_clear(c->table, slot);
	json_object_del(c->by_name, name);
	c->slots[slot] = NULL;
	c->free_slots[c->n_free++] = slot;
	c->count--;
	if (strcmp(name, CONFIG_DEFAULT_CONTEXT) == 0)
		log_info("control: SNI context * removed: the config's key and cert are the default again");
	else
		log_info("control: SNI context %s removed", name);
	entry_free(e);
	return TLSD_OK;
}

static int compare_order(const void *a, const void *b)
{
	const struct ctx_entry *x = *(const struct ctx_entry *const *)a;
	const struct ctx_entry *y = *(const struct ctx_entry *const *)b;

	return x->order < y->order ? -1 : x->order > y->order;
}

json_t *contexts_default_json(const struct contexts *c, const struct tlsd_creds *config)
{
	char star[] = CONFIG_DEFAULT_CONTEXT;
	struct ctx_entry e = { .hostname = star };
	uint32_t slot;

	if (find_slot(c, CONFIG_DEFAULT_CONTEXT, &slot))
		return entry_json(c->slots[slot]);
	if (config != NULL)
		e.n_certs = creds_certificates(config, e.certs, CERTS_SHOWN);
	return entry_json(&e);
}


/* in_order: the live entries in the order added (caller frees); *<n>
 * gets how many. NULL when out of memory. */
static const struct ctx_entry **in_order(const struct contexts *c, size_t *n)
{
	const struct ctx_entry **live = calloc(c->count + 1, sizeof(*live));

	*n = 0;
	if (live == NULL)
		return NULL;
	for (uint32_t i = 0; i < c->next_unused && *n < c->count; i++)
		if (c->slots[i] != NULL)
			live[(*n)++] = c->slots[i];
	if (*n > 1)
		qsort(live, *n, sizeof(*live), compare_order);
	return live;
}

json_t *contexts_list(const struct contexts *c)
{
	size_t n = 0;
	const struct ctx_entry **live = in_order(c, &n);
	json_t *list = json_array();

	if (live == NULL || list == NULL) {
		free(live);
		json_decref(list);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, entry_json(live[i]));
	free(live);
	return list;
}

int contexts_count_in(struct contexts *c, struct context_stats *stats)
{
	size_t n = 0;
	const struct ctx_entry **live = in_order(c, &n);

	if (live == NULL)
		return TLSD_ERR_INTERNAL;
	for (size_t i = 0; i < n; i++)
		context_stats_name(stats, live[i]->hostname);
	free(live);
	c->stats = stats;
	return TLSD_OK;
}

void contexts_each_certificate(const struct contexts *c, contexts_cert_fn fn, void *arg)
{
	for (uint32_t i = 0; i < c->next_unused; i++) {
		const struct ctx_entry *e = c->slots[i];

		for (size_t k = 0; e != NULL && k < e->n_certs; k++)
			fn(arg, e->hostname, &e->certs[k]);
	}
}

bool contexts_default_replaced(const struct contexts *c)
{
	uint32_t slot;

	return find_slot(c, CONFIG_DEFAULT_CONTEXT, &slot);
}

size_t contexts_count(const struct contexts *c)
{
	return c->count;
}

void contexts_free(struct contexts *c)
{
	if (c == NULL)
		return;
	for (uint32_t i = 0; c->slots != NULL && i < c->capacity; i++)
		entry_free(c->slots[i]);
	free(c->slots);
	free(c->free_slots);
	json_decref(c->by_name);
	free(c);
}
