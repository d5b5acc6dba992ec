/* config.c - the JSON config (file merged with flags) into a struct tlsd_config.
 *
 * One table per JSON object (top level, control, renegotiation,
 * sessionCache, contexts[], key objects) lists each key with the JSON type
 * it takes, the handler that checks and stores it, and where it goes.
 * Everything is parsed into a temporary struct that replaces the caller's
 * only once every key and every cross-key rule has passed.
 */
#include "common/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "common/addr.h"
#include "common/file_read.h"
#include "common/log.h"
#include "common/reneg_limit.h"
#include "common/ticket_ring.h"
#include "common/ticket_keys.h"

#define PEM_PREFIX "-----BEGIN"
#define NAME_LEN 192			/* "contexts[12].key[3].passphrase" and more */
#define SID_CTX_MAX 32			/* OpenSSL's SSL_MAX_SID_CTX_LENGTH, as in Node */
#define ALPN_NAME_MAX 255		/* RFC 7301: a one-byte length */
#define ALPN_LIST_MAX 65535		/* RFC 7301: a two-byte list length */
#define WORKERS_MAX 1024
#define NO_LIMIT INT32_MAX		/* Node's timers and counters are int32 */
#define SESSION_TIMEOUT_MAX 604800	/* GnuTLS caps a session's life at 7 days */
#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63

#define DEFAULT_LISTEN "8000"
#define DEFAULT_CONTROL "127.0.0.1:8001"
#define DEFAULT_STATE_DIR "tlsd-state"
#define DEFAULT_ACCESS_LOG "-"
#define TOKEN_FILE_NAME "control.token"

/* The enum fields are written through an int: they must be int-sized. */
_Static_assert(sizeof(enum tlsd_log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum tlsd_log_format) == sizeof(int), "enum size");
_Static_assert(sizeof(enum tlsd_proxy_protocol) == sizeof(int), "enum size");

/* What a parse needs besides the value: where relative paths start and
 * where the message goes. */
struct parser {
	const char *base_dir;		/* absolute */
	struct tlsd_error *err;
};

/* The JSON type a field takes; K_ANY: the handler checks (string or array). */
enum kind { K_ANY, K_STRING, K_BOOL, K_INT, K_OBJECT };

struct field;

/* A handler checks <v> (already of the field's kind) for the key <name>
 * (full dotted name, for messages) and stores it into <base> + f->offset. */
typedef int (*field_fn)(const struct parser *p, const struct field *f, const char *name,
			json_t *v, void *base);

struct field {
	const char *key;
	enum kind kind;
	field_fn parse;
	size_t offset;			/* of the member the handler fills */
	long min, max;			/* integers: range; strings: length (max 0 = any) */
	const char *const *names;	/* enumerations: accepted strings, by value */
	const struct field *members;	/* objects: their table (ends with key NULL) */
};

#define SLOT(base, f, type) ((type *)(void *)((char *)(base) + (f)->offset))

/* ---- messages ---- */

static int cfg_error(const struct parser *p, const char *fmt, ...) TLSD_PRINTF(2, 3);

static int cfg_error(const struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err == NULL)
		return TLSD_ERR_CONFIG;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return TLSD_ERR_CONFIG;
}

static int oom(const struct parser *p)
{
	return tlsd_error_set(p->err, TLSD_ERR_INTERNAL, "config: out of memory");
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

static int type_error(const struct parser *p, const char *name, const char *expected,
		      const json_t *v)
{
	return cfg_error(p, "%s: must be %s, got %s", name, expected, type_name(v));
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* ---- small helpers ---- */

static void free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* join_path: "<dir>/<name>", malloc'd; NULL when out of memory. */
static char *join_path(const char *dir, const char *name)
{
	size_t size = strlen(dir) + 1 + strlen(name) + 1;
	char *out = malloc(size);

	if (out != NULL)
		snprintf(out, size, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
	return out;
}

static int dup_into(const struct parser *p, char **slot, const char *text)
{
	char *copy = strdup(text);

	if (copy == NULL)
		return oom(p);
	free(*slot);
	*slot = copy;
	return TLSD_OK;
}

/* string_value: the text of the JSON string <v>, which must hold no NUL. */
static int string_value(const struct parser *p, const char *name, const json_t *v,
			const char **out)
{
	if (!json_is_string(v))
		return type_error(p, name, "a string", v);
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v))
		return cfg_error(p, "%s: must not contain a NUL character", name);
	return TLSD_OK;
}

/* name_fmt: a key's name for messages into <buf> of NAME_LEN bytes; a
 * name that long (an unknown key of a user's) is cut, which is harmless. */
static void name_fmt(char *buf, const char *fmt, ...) TLSD_PRINTF(2, 3);

static void name_fmt(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, NAME_LEN, fmt, ap);
	va_end(ap);
}

/* name_member: "<prefix>.<key>", or <key> at the top (<prefix> ""). */
static void name_member(char *buf, const char *prefix, const char *key)
{
	if (prefix[0] == '\0')
		name_fmt(buf, "%s", key);
	else
		name_fmt(buf, "%s.%s", prefix, key);
}

/* name_element: "<prefix>[<i>]" for an array, plain <prefix> for a single value. */
static void name_element(char *buf, const char *prefix, const json_t *v, size_t i)
{
	if (json_is_array(v))
		name_fmt(buf, "%s[%zu]", prefix, i);
	else
		name_fmt(buf, "%s", prefix);
}

/* element: the <i>th value of an array, or <v> itself when it is not one. */
static json_t *element(json_t *v, size_t i)
{
	return json_is_array(v) ? json_array_get(v, i) : v;
}

static size_t element_count(const json_t *v)
{
	return json_is_array(v) ? json_array_size(v) : 1;
}

/* ---- unknown keys ---- */

/* edit_distance: Levenshtein distance between <a> and <b>, ignoring case;
 * SIZE_MAX for names too long to be config keys. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* closest_key: the key of <table> nearest to <key> when it is a likely typo. */
static const char *closest_key(const struct field *table, const char *key)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (const struct field *f = table; f->key != NULL; f++) {
		size_t d = edit_distance(key, f->key);

		if (d < best_d && d < strlen(key)) {
			best = f->key;
			best_d = d;
		}
	}
	return best;
}

static int unknown_key(const struct parser *p, const struct field *table, const char *name,
		       const char *key)
{
	const char *hint = closest_key(table, key);

	if (hint != NULL)
		return cfg_error(p, "%s: unknown config key (did you mean \"%s\"?)", name, hint);
	return cfg_error(p, "%s: unknown config key", name);
}

/* ---- the object walker ---- */

static const struct field *field_find(const struct field *table, const char *key)
{
	for (const struct field *f = table; f->key != NULL; f++)
		if (strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

static int check_kind(const struct parser *p, const struct field *f, const char *name,
		      const json_t *v)
{
	switch (f->kind) {
	case K_STRING: return json_is_string(v) ? TLSD_OK : type_error(p, name, "a string", v);
	case K_BOOL: return json_is_boolean(v) ? TLSD_OK : type_error(p, name, "a boolean", v);
	case K_INT: return json_is_integer(v) ? TLSD_OK : type_error(p, name, "an integer", v);
	case K_OBJECT: return json_is_object(v) ? TLSD_OK : type_error(p, name, "an object", v);
	default: return TLSD_OK;
	}
}

/* parse_object: run every member of the JSON object <obj> (named <prefix>,
 * "" at the top) through its field of <table>, storing into <base>. */
static int parse_object(const struct parser *p, const char *prefix, json_t *obj,
			const struct field *table, void *base)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const struct field *f = field_find(table, key);
		char name[NAME_LEN];

		name_member(name, prefix, key);
		if (f == NULL)
			return unknown_key(p, table, name, key);
		if (json_is_null(v))
			continue;
		GUARD(check_kind(p, f, name, v));
		GUARD(f->parse(p, f, name, v, base));
	}
	return TLSD_OK;
}

/* ---- scalar handlers ---- */

static int f_members(const struct parser *p, const struct field *f, const char *name,
		     json_t *v, void *base)
{
	return parse_object(p, name, v, f->members, base);
}

static int f_bool(const struct parser *p, const struct field *f, const char *name, json_t *v,
		  void *base)
{
	*SLOT(base, f, bool) = json_is_true(v);
	return TLSD_OK;
}

/* int_in_range: the integer <v> when it lies in f->min..f->max. */
static int int_in_range(const struct parser *p, const struct field *f, const char *name,
			const json_t *v, long *out)
{
	long long n = json_integer_value(v);

	if (n >= f->min && n <= f->max) {
		*out = (long)n;
		return TLSD_OK;
	}
	if (f->max == NO_LIMIT && n < f->min)
		return cfg_error(p, "%s: must be at least %ld, got %lld", name, f->min, n);
	return cfg_error(p, "%s: must be between %ld and %ld, got %lld", name, f->min, f->max, n);
}

static int f_int(const struct parser *p, const struct field *f, const char *name, json_t *v,
		 void *base)
{
	long n = 0;

	GUARD(int_in_range(p, f, name, v, &n));
	*SLOT(base, f, int) = (int)n;
	return TLSD_OK;
}

static int f_long(const struct parser *p, const struct field *f, const char *name, json_t *v,
		  void *base)
{
	return int_in_range(p, f, name, v, SLOT(base, f, long));
}

/* f_str: a string of f->min..f->max bytes (max 0: any length). */
static int f_str(const struct parser *p, const struct field *f, const char *name, json_t *v,
		 void *base)
{
	const char *text = NULL;
	size_t len;

	GUARD(string_value(p, name, v, &text));
	len = strlen(text);
	if (len < (size_t)f->min)
		return cfg_error(p, "%s: must not be empty", name);
	if (f->max > 0 && len > (size_t)f->max)
		return cfg_error(p, "%s: is %zu bytes long, at most %ld allowed", name, len, f->max);
	return dup_into(p, SLOT(base, f, char *), text);
}

static int enum_error(const struct parser *p, const struct field *f, const char *name,
		      const char *text)
{
	char list[256] = "";
	size_t used = 0;

	for (size_t i = 0; f->names[i] != NULL && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
					 i ? ", " : "", f->names[i]);
	return cfg_error(p, "%s: must be one of %s; got \"%s\"", name, list, text);
}

/* f_enum: one of f->names, stored as its index. */
static int f_enum(const struct parser *p, const struct field *f, const char *name, json_t *v,
		  void *base)
{
	const char *text = NULL;

	GUARD(string_value(p, name, v, &text));
	for (int i = 0; f->names[i] != NULL; i++)
		if (strcmp(f->names[i], text) == 0) {
			*SLOT(base, f, int) = i;
			return TLSD_OK;
		}
	return enum_error(p, f, name, text);
}

/* ---- TLS versions ---- */

static const char *const tls_versions[] = { "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", NULL };

/* version_rank: index of <name> in tls_versions, -1 when unknown. */
static int version_rank(const char *name)
{
	for (int i = 0; tls_versions[i] != NULL; i++)
		if (strcmp(tls_versions[i], name) == 0)
			return i;
	return -1;
}

static int f_version(const struct parser *p, const struct field *f, const char *name,
		     json_t *v, void *base)
{
	const char *text = NULL;
	int rank;

	GUARD(string_value(p, name, v, &text));
	rank = version_rank(text);
	if (rank < 0)	/* Node's ERR_TLS_INVALID_PROTOCOL_VERSION */
		return cfg_error(p, "%s: \"%s\" is not a valid %s TLS protocol version", name, text,
				 strcmp(f->key, "minVersion") == 0 ? "minimum" : "maximum");
	if (rank < 2)
		return cfg_error(p, "%s: %s is not supported (tlsd serves TLS 1.2 and TLS 1.3)",
				 name, text);
	return dup_into(p, SLOT(base, f, char *), text);
}

enum method_use { METHOD_OK, METHOD_OLD, METHOD_CLIENT };

/* OpenSSL method names that Node's secureProtocol takes. */
static const struct {
	const char *name;
	enum method_use use;
} tls_methods[] = {
	{ "TLS_method", METHOD_OK },		{ "TLS_server_method", METHOD_OK },
	{ "SSLv23_method", METHOD_OK },		{ "SSLv23_server_method", METHOD_OK },
	{ "TLSv1_2_method", METHOD_OK },	{ "TLSv1_2_server_method", METHOD_OK },
	{ "TLS_client_method", METHOD_CLIENT },	{ "SSLv23_client_method", METHOD_CLIENT },
	{ "TLSv1_2_client_method", METHOD_CLIENT },
	{ "TLSv1_1_method", METHOD_OLD },	{ "TLSv1_1_server_method", METHOD_OLD },
	{ "TLSv1_1_client_method", METHOD_OLD },	{ "TLSv1_method", METHOD_OLD },
	{ "TLSv1_server_method", METHOD_OLD },	{ "TLSv1_client_method", METHOD_OLD },
	{ "SSLv3_method", METHOD_OLD },		{ "SSLv3_server_method", METHOD_OLD },
	{ "SSLv3_client_method", METHOD_OLD },	{ "SSLv2_method", METHOD_OLD },
	{ "SSLv2_server_method", METHOD_OLD },	{ "SSLv2_client_method", METHOD_OLD },
};

static int f_secure_protocol(const struct parser *p, const struct field *f, const char *name,
			     json_t *v, void *base)
{
	const char *text = NULL;

	GUARD(string_value(p, name, v, &text));
	for (size_t i = 0; i < sizeof(tls_methods) / sizeof(tls_methods[0]); i++) {
		if (strcmp(tls_methods[i].name, text) != 0)
			continue;
		if (tls_methods[i].use == METHOD_OLD)
			return cfg_error(p, "%s: %s is not supported (tlsd serves TLS 1.2 and TLS 1.3)",
					 name, text);
		if (tls_methods[i].use == METHOD_CLIENT)
			return cfg_error(p, "%s: %s is a client method (use TLS_server_method or "
					 "TLS_method)", name, text);
		return dup_into(p, SLOT(base, f, char *), text);
	}
	return cfg_error(p, "%s: unknown method \"%s\"", name, text);
}

/* ---- files ---- */

/* absolute_path: <text> made absolute against p->base_dir, malloc'd. */
static int absolute_path(const struct parser *p, const char *name, const char *text, char **out)
{
	if (text[0] == '\0')
		return cfg_error(p, "%s: must not be empty", name);
	while (strncmp(text, "./", 2) == 0 && text[2] != '\0')
		text += 2;
	*out = text[0] == '/' ? strdup(text) : join_path(p->base_dir, text);
	return *out == NULL ? oom(p) : TLSD_OK;
}

/* check_readable: <path> opens for reading and is not a folder. Non-blocking,
 * so that a FIFO cannot hang the parse. */
static int check_readable(const struct parser *p, const char *name, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int rc = TLSD_OK;

	if (fd < 0)
		return cfg_error(p, "%s: %s: %s", name, path, strerror(errno));
	if (fstat(fd, &st) < 0)
		rc = cfg_error(p, "%s: %s: %s", name, path, strerror(errno));
	else if (S_ISDIR(st.st_mode))
		rc = cfg_error(p, "%s: %s: %s", name, path, strerror(EISDIR));
	close(fd);
	return rc;
}

/* resolve_file: <text> as an absolute path of a readable file into <*slot>. */
static int resolve_file(const struct parser *p, const char *name, const char *text,
			char **slot)
{
	char *path = NULL;
	int rc;

	GUARD(absolute_path(p, name, text, &path));
	rc = check_readable(p, name, path);
	if (rc < 0) {
		free(path);
		return rc;
	}
	free(*slot);
	*slot = path;
	return TLSD_OK;
}

/* resolve_pem: inline PEM kept as is, else a readable file. */
static int resolve_pem(const struct parser *p, const char *name, const char *text, char **slot)
{
	if (config_is_inline_pem(text))
		return dup_into(p, slot, text);
	return resolve_file(p, name, text, slot);
}

static int f_pem(const struct parser *p, const struct field *f, const char *name, json_t *v,
		 void *base)
{
	const char *text = NULL;

	GUARD(string_value(p, name, v, &text));
	return resolve_pem(p, name, text, SLOT(base, f, char *));
}

/* f_dhparam: PEM or path, or Node's "auto" (built-in RFC 7919 groups). */
static int f_dhparam(const struct parser *p, const struct field *f, const char *name, json_t *v,
		     void *base)
{
	const char *text = NULL;

	GUARD(string_value(p, name, v, &text));
	if (strcmp(text, "auto") == 0)
		return dup_into(p, SLOT(base, f, char *), text);
	return resolve_pem(p, name, text, SLOT(base, f, char *));
}

/* f_file: a path only (binary files: pfx, ocsp; or the token file). */
static int f_file(const struct parser *p, const struct field *f, const char *name, json_t *v,
		  void *base)
{
	const char *text = NULL;

	GUARD(string_value(p, name, v, &text));
	if (config_is_inline_pem(text))
		return cfg_error(p, "%s: must be a file path, not inline PEM", name);
	return resolve_file(p, name, text, SLOT(base, f, char *));
}

/* f_path: a path that need not exist yet (stateDir). */
static int f_path(const struct parser *p, const struct field *f, const char *name, json_t *v,
		  void *base)
{
	const char *text = NULL;
	char **slot = SLOT(base, f, char *);

	GUARD(string_value(p, name, v, &text));
	free(*slot);
	*slot = NULL;
	return absolute_path(p, name, text, slot);
}

static int f_access_log(const struct parser *p, const struct field *f, const char *name,
			json_t *v, void *base)
{
	const char *text = NULL;

	GUARD(string_value(p, name, v, &text));
	if (strcmp(text, "-") == 0 || strcmp(text, "off") == 0)
		return dup_into(p, SLOT(base, f, char *), text);
	return f_path(p, f, name, v, base);
}

/* ---- lists ---- */

static int pem_list_alloc(const struct parser *p, struct tlsd_pem_list *list, size_t n)
{
	if (n == 0)
		return TLSD_OK;
	list->items = calloc(n, sizeof(*list->items));
	if (list->items == NULL)
		return oom(p);
	list->n = n;
	return TLSD_OK;
}

static int str_list_alloc(const struct parser *p, struct tlsd_str_list *list, size_t n)
{
	if (n == 0)
		return TLSD_OK;
	list->items = calloc(n, sizeof(*list->items));
	if (list->items == NULL)
		return oom(p);
	list->n = n;
	return TLSD_OK;
}

/* Members of a key object {pem, passphrase}. */
static const struct field key_object_fields[] = {
	{ .key = "pem", .kind = K_STRING, .parse = f_pem, .offset = offsetof(struct tlsd_pem, value) },
	{ .key = "passphrase", .kind = K_STRING, .parse = f_str,
	  .offset = offsetof(struct tlsd_pem, passphrase) },
	{ .key = NULL },
};

static int parse_key_item(const struct parser *p, const char *name, json_t *v,
			  struct tlsd_pem *out)
{
	const char *text = NULL;
	char pem_name[NAME_LEN];

	if (!json_is_object(v)) {
		GUARD(string_value(p, name, v, &text));
		return resolve_pem(p, name, text, &out->value);
	}
	GUARD(parse_object(p, name, v, key_object_fields, out));
	name_member(pem_name, name, "pem");
	return out->value ? TLSD_OK : cfg_error(p, "%s: required", pem_name);
}

/* f_keys: "key": a string, an object {pem, passphrase}, or an array of those. */
static int f_keys(const struct parser *p, const struct field *f, const char *name, json_t *v,
		  void *base)
{
	struct tlsd_pem_list *list = SLOT(base, f, struct tlsd_pem_list);

	if (!json_is_string(v) && !json_is_object(v) && !json_is_array(v))
		return type_error(p, name, "a string, an object {pem, passphrase} or an array of those", v);
	GUARD(pem_list_alloc(p, list, element_count(v)));
	for (size_t i = 0; i < list->n; i++) {
		char item[NAME_LEN];

		name_element(item, name, v, i);
		GUARD(parse_key_item(p, item, element(v, i), &list->items[i]));
	}
	return TLSD_OK;
}

/* f_pems: cert/ca/crl: a PEM-or-path string or an array of them. */
static int f_pems(const struct parser *p, const struct field *f, const char *name, json_t *v,
		  void *base)
{
	struct tlsd_pem_list *list = SLOT(base, f, struct tlsd_pem_list);

	if (!json_is_string(v) && !json_is_array(v))
		return type_error(p, name, "a string or an array of strings", v);
	GUARD(pem_list_alloc(p, list, element_count(v)));
	for (size_t i = 0; i < list->n; i++) {
		char item[NAME_LEN];
		const char *text = NULL;

		name_element(item, name, v, i);
		GUARD(string_value(p, item, element(v, i), &text));
		GUARD(resolve_pem(p, item, text, &list->items[i].value));
	}
	return TLSD_OK;
}

/* addr_check: <text> parses as an address (the caller's rules); the message
 * of addr_parse gets the key in front. */
static int addr_check(const struct parser *p, const char *name, const char *text,
		      bool allow_unix, bool require_host, struct tlsd_addr *out)
{
	struct tlsd_error sub = { "" };
	int rc = addr_parse(text, allow_unix, require_host, out, &sub);

	if (rc == TLSD_ERR_CONFIG)
		return cfg_error(p, "%s: %s", name, sub.msg);
	if (rc < 0)
		return tlsd_error_set(p->err, rc, "%s: %s", name, sub.msg);
	return TLSD_OK;
}

/* f_listen: "[HOST:]PORT" or an array of them (not empty). */
static int f_listen(const struct parser *p, const struct field *f, const char *name, json_t *v,
		    void *base)
{
	struct tlsd_str_list *list = SLOT(base, f, struct tlsd_str_list);

	if (!json_is_string(v) && !json_is_array(v))
		return type_error(p, name, "a string or an array of strings", v);
	if (element_count(v) == 0)
		return cfg_error(p, "%s: must list at least one address", name);
	GUARD(str_list_alloc(p, list, element_count(v)));
	for (size_t i = 0; i < list->n; i++) {
		char item[NAME_LEN];
		const char *text = NULL;
		struct tlsd_addr addr;

		name_element(item, name, v, i);
		GUARD(string_value(p, item, element(v, i), &text));
		GUARD(addr_check(p, item, text, false, false, &addr));
		GUARD(dup_into(p, &list->items[i], text));
	}
	return TLSD_OK;
}

/* f_protocols: ALPN (and NPN) names: an array of 1..255-byte strings. */
static int f_protocols(const struct parser *p, const struct field *f, const char *name,
		       json_t *v, void *base)
{
	struct tlsd_str_list *list = SLOT(base, f, struct tlsd_str_list);
	size_t wire = 0;

	if (!json_is_array(v))
		return type_error(p, name, "an array of strings", v);
	GUARD(str_list_alloc(p, list, json_array_size(v)));
	for (size_t i = 0; i < list->n; i++) {
		char item[NAME_LEN];
		const char *text = NULL;

		name_element(item, name, v, i);
		GUARD(string_value(p, item, json_array_get(v, i), &text));
		if (text[0] == '\0')
			return cfg_error(p, "%s: must not be empty", item);
		if (strlen(text) > ALPN_NAME_MAX)
			return cfg_error(p, "%s: is %zu bytes long, at most %d allowed", item,
					 strlen(text), ALPN_NAME_MAX);
		wire += 1 + strlen(text);
		GUARD(dup_into(p, &list->items[i], text));
	}
	if (wire > ALPN_LIST_MAX)
		return cfg_error(p, "%s: %zu bytes when encoded, at most %d allowed", name, wire,
				 ALPN_LIST_MAX);
	return TLSD_OK;
}

static int f_npn(const struct parser *p, const struct field *f, const char *name, json_t *v,
		 void *base)
{
	GUARD(f_protocols(p, f, name, v, base));
	log_warn("%s: NPN is obsolete and unused (GnuTLS has no NPN); use ALPNProtocols", name);
	return TLSD_OK;
}

/* ---- secrets ---- */

/* f_ticket_keys: base64 of exactly 48 bytes; the decoded bytes are wiped. */
static int f_ticket_keys(const struct parser *p, const struct field *f, const char *name,
			 json_t *v, void *base)
{
	unsigned char keys[TICKET_KEYS_SIZE];
	const char *text = NULL;
	int rc;

	GUARD(string_value(p, name, v, &text));
	rc = ticket_keys_decode(text, keys, name, p->err);
	gnutls_memset(keys, 0, sizeof(keys));
	return rc < 0 ? rc : dup_into(p, SLOT(base, f, char *), text);
}

/* ---- after the handshake, operations ---- */

static int f_backend(const struct parser *p, const struct field *f, const char *name,
		     json_t *v, void *base)
{
	const char *text = NULL;
	struct tlsd_addr addr;

	GUARD(string_value(p, name, v, &text));
	GUARD(addr_check(p, name, text, true, true, &addr));
	return dup_into(p, SLOT(base, f, char *), text);
}

/* is_loopback: <host> is localhost, in 127.0.0.0/8 or ::1 (also v4-mapped). */
static bool is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return false;
	return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

/* f_control_listen: "off", "unix:/path" or a loopback TCP address: the
 * control API must not be reachable from other machines. */
static int f_control_listen(const struct parser *p, const struct field *f, const char *name,
			    json_t *v, void *base)
{
	const char *text = NULL;
	struct tlsd_addr addr;

	GUARD(string_value(p, name, v, &text));
	if (strcmp(text, "off") != 0) {
		GUARD(addr_check(p, name, text, true, false, &addr));
		if (addr.kind == TLSD_ADDR_TCP && !is_loopback(addr.host))
			return cfg_error(p, "%s: \"%s\" is not a loopback address (use 127.0.0.1, "
					 "::1, localhost, unix:/path or off)", name, text);
	}
	return dup_into(p, SLOT(base, f, char *), text);
}

/* ---- SNI contexts ---- */

/* dns_label_ok: 1..63 letters, digits, '-' or '_', not starting or ending with '-'. */
static bool dns_label_ok(const char *s, size_t len)
{
	if (len == 0 || len > DNS_LABEL_MAX || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* hostname_ok: a DNS name, "*." followed by one (the wildcard covers
 * exactly one leading label), or "*" alone (the default context; only
 * the API takes it: check_context refuses it in the config file). */
static bool hostname_ok(const char *name)
{
	const char *s = strncmp(name, "*.", 2) == 0 ? name + 2 : name;

	if (strcmp(name, CONFIG_DEFAULT_CONTEXT) == 0)
		return true;

	if (strlen(name) > DNS_NAME_MAX || *s == '\0')
		return false;
	for (;;) {
		const char *dot = strchr(s, '.');
		size_t len = dot ? (size_t)(dot - s) : strlen(s);

		if (!dns_label_ok(s, len))
			return false;
		if (dot == NULL)
			return true;
		s = dot + 1;
	}
}

static int f_hostname(const struct parser *p, const struct field *f, const char *name,
		      json_t *v, void *base)
{
	const char *text = NULL;
	char **slot = SLOT(base, f, char *);

	GUARD(string_value(p, name, v, &text));
	if (!hostname_ok(text))
		return cfg_error(p, "%s: \"%s\" is not a DNS name, a \"*.name\" wildcard or \"*\" "
				 "(the default certificate)", name, text);
	GUARD(dup_into(p, slot, text));
	for (char *c = *slot; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return TLSD_OK;
}

#define CTX(m) offsetof(struct tlsd_context_config, m)

static const struct field context_fields[] = {
	{ .key = "hostname", .kind = K_STRING, .parse = f_hostname, .offset = CTX(hostname) },
	{ .key = "key", .kind = K_ANY, .parse = f_keys, .offset = CTX(keys) },
	{ .key = "cert", .kind = K_ANY, .parse = f_pems, .offset = CTX(certs) },
	{ .key = "ca", .kind = K_ANY, .parse = f_pems, .offset = CTX(ca) },
	{ .key = "ocsp", .kind = K_STRING, .parse = f_file, .offset = CTX(ocsp) },
	{ .key = "passphrase", .kind = K_STRING, .parse = f_str, .offset = CTX(passphrase) },
	{ .key = "pfx", .kind = K_STRING, .parse = f_file, .offset = CTX(pfx) },
	{ .key = NULL },
};

/* check_pairs: the credential rules for one certificate set: pfx alone, or
 * as many keys as certificates. <prefix> names the owner ("" or
 * "contexts[0]."), <alternatives> what else would do. */
static int check_pairs(const struct parser *p, const char *prefix,
		       const struct tlsd_pem_list *keys, const struct tlsd_pem_list *certs,
		       const char *pfx, const char *alternatives)
{
	if (pfx != NULL && (keys->n > 0 || certs->n > 0))
		return cfg_error(p, "%spfx: cannot be combined with key or cert (a PKCS#12 file "
				 "holds both)", prefix);
	if (pfx != NULL)
		return TLSD_OK;
	if (keys->n == 0 && certs->n == 0)
		return cfg_error(p, "%skey: required (%s)", prefix, alternatives);
	if (certs->n == 0)
		return cfg_error(p, "%scert: required with key", prefix);
	if (keys->n == 0)
		return cfg_error(p, "%skey: required with cert", prefix);
	if (keys->n != certs->n)
		return cfg_error(p, "%scert: %zu key%s but %zu certificate%s", prefix, keys->n,
				 plural(keys->n), certs->n, plural(certs->n));
	return TLSD_OK;
}

/* check_context: rules across the members of contexts[<i>]: a hostname,
 * credentials, and a hostname no earlier context has. */
static int check_context(const struct parser *p, const char *name,
			 const struct tlsd_context_config *all, size_t i)
{
	const struct tlsd_context_config *c = &all[i];
	char prefix[NAME_LEN] = "";

	if (name[0] != '\0')
		name_fmt(prefix, "%s.", name);
	if (c->hostname == NULL)
		return cfg_error(p, "%shostname: required", prefix);
	if (name[0] != '\0' && strcmp(c->hostname, CONFIG_DEFAULT_CONTEXT) == 0)
		return cfg_error(p, "%shostname: \"*\" is the default certificate: give it as the top-level "
				 "key and cert (POST /v1/contexts takes \"*\" at runtime)", prefix);
	GUARD(check_pairs(p, prefix, &c->keys, &c->certs, c->pfx, "or pfx"));
	for (size_t j = 0; j < i; j++)
		if (strcmp(all[j].hostname, c->hostname) == 0)
			return cfg_error(p, "%s.hostname: \"%s\" is already used by contexts[%zu]",
					 name, c->hostname, j);
	return TLSD_OK;
}

static int f_contexts(const struct parser *p, const struct field *f, const char *name,
		      json_t *v, void *base)
{
	struct tlsd_config *cfg = base;
	size_t n = json_is_array(v) ? json_array_size(v) : 0;

	if (!json_is_array(v))
		return type_error(p, name, "an array of objects", v);
	if (n > 0 && (cfg->contexts = calloc(n, sizeof(*cfg->contexts))) == NULL)
		return oom(p);
	cfg->n_contexts = n;
	for (size_t i = 0; i < n; i++) {
		char item[NAME_LEN];
		json_t *obj = json_array_get(v, i);

		name_element(item, name, v, i);
		if (!json_is_object(obj))
			return type_error(p, item, "an object", obj);
		GUARD(parse_object(p, item, obj, context_fields, &cfg->contexts[i]));
		GUARD(check_context(p, item, cfg->contexts, i));
	}
	return TLSD_OK;
}

/* ---- the tables ---- */

#define CFG(m) offsetof(struct tlsd_config, m)

static const char *const proxy_names[] = { "off", "v1", "v2", NULL };
static const char *const log_format_names[] = { "text", "json", NULL };
static const char *const log_level_names[] = { "error", "warn", "info", "debug", NULL };

static const struct field control_fields[] = {
	{ .key = "listen", .kind = K_STRING, .parse = f_control_listen, .offset = CFG(control_listen) },
	{ .key = "tokenFile", .kind = K_STRING, .parse = f_file, .offset = CFG(control_token_file) },
	{ .key = NULL },
};

static const struct field reneg_fields[] = {
	{ .key = "limit", .kind = K_INT, .parse = f_int, .offset = CFG(reneg_limit),
	  .min = 0, .max = RENEG_LIMIT_MAX },
	{ .key = "window", .kind = K_INT, .parse = f_int, .offset = CFG(reneg_window_s),
	  .min = 1, .max = NO_LIMIT },
	{ .key = NULL },
};

static const struct field cache_fields[] = {
	{ .key = "size", .kind = K_INT, .parse = f_long, .offset = CFG(session_cache_size),
	  .min = 0, .max = NO_LIMIT },
	{ .key = NULL },
};

/* f_backend_tls: the "tls" object under "backend": Node's tls.connect
 * options for the connection to the backend. */
static int f_backend_tls(const struct parser *p, const struct field *f, const char *name, json_t *v, void *base)
{
	((struct tlsd_config *)base)->backend_tls = true;
	return parse_object(p, name, v, f->members, base);
}

static const struct field backend_tls_fields[] = {
	{ .key = "servername", .kind = K_STRING, .parse = f_str, .offset = CFG(btls_servername), .min = 1,
	  .max = 253 },
	{ .key = "ca", .kind = K_ANY, .parse = f_pems, .offset = CFG(btls_ca) },
	{ .key = "rejectUnauthorized", .kind = K_BOOL, .parse = f_bool, .offset = CFG(btls_reject_unauthorized) },
	{ .key = "checkServerIdentity", .kind = K_BOOL, .parse = f_bool, .offset = CFG(btls_check_identity) },
	{ .key = "key", .kind = K_ANY, .parse = f_keys, .offset = CFG(btls_keys) },
	{ .key = "cert", .kind = K_ANY, .parse = f_pems, .offset = CFG(btls_certs) },
	{ .key = "passphrase", .kind = K_STRING, .parse = f_str, .offset = CFG(btls_passphrase) },
	{ .key = "ALPNProtocols", .kind = K_ANY, .parse = f_protocols, .offset = CFG(btls_alpn) },
	{ .key = "minVersion", .kind = K_STRING, .parse = f_version, .offset = CFG(btls_min_version) },
	{ .key = "ciphers", .kind = K_STRING, .parse = f_str, .offset = CFG(btls_ciphers), .min = 1, .max = 4096 },
	{ .key = "session", .kind = K_BOOL, .parse = f_bool, .offset = CFG(btls_session) },
	{ .key = NULL },
};

static const struct field backend_fields[] = {
	{ .key = "address", .kind = K_STRING, .parse = f_backend, .offset = CFG(backend) },
	{ .key = "tls", .kind = K_OBJECT, .parse = f_backend_tls, .members = backend_tls_fields },
	{ .key = "timeout", .kind = K_INT, .parse = f_long, .offset = CFG(backend_timeout_ms), .min = 1,
	  .max = NO_LIMIT },
	{ .key = NULL },
};

/* f_backend_any: "backend": "HOST:PORT" | "unix:/path" (cleartext), or an
 * object {address, tls, timeout}. */
static int f_backend_any(const struct parser *p, const struct field *f, const char *name, json_t *v, void *base)
{
	if (json_is_string(v))
		return f_backend(p, f, name, v, base);
	if (!json_is_object(v))
		return type_error(p, name, "a string or an object {address, tls, timeout}", v);
	GUARD(parse_object(p, name, v, backend_fields, base));
	if (((struct tlsd_config *)base)->backend == NULL)
		return cfg_error(p, "%s.address: required", name);
	return TLSD_OK;
}

/* f_store_address: "HOST:PORT" or "unix:/path" of the Redis server. */
static int f_store_address(const struct parser *p, const struct field *f, const char *name, json_t *v,
			   void *base)
{
	const char *text = NULL;
	struct tlsd_addr addr;

	GUARD(string_value(p, name, v, &text));
	GUARD(addr_check(p, name, text, true, true, &addr));
	return dup_into(p, SLOT(base, f, char *), text);
}

static const struct field store_fields[] = {
	{ .key = "redis", .kind = K_STRING, .parse = f_store_address, .offset = CFG(store_redis) },
	{ .key = "prefix", .kind = K_STRING, .parse = f_str, .offset = CFG(store_prefix), .min = 0, .max = 64 },
	{ .key = "password", .kind = K_STRING, .parse = f_str, .offset = CFG(store_password), .min = 1,
	  .max = 512 },
	{ .key = "db", .kind = K_INT, .parse = f_int, .offset = CFG(store_db), .min = 0, .max = 1000000 },
	{ .key = NULL },
};

/* Every key of SPEC.md "Config file", in its order. */
static const struct field top_fields[] = {
	{ .key = "listen", .kind = K_ANY, .parse = f_listen, .offset = CFG(listen) },
	{ .key = "workers", .kind = K_INT, .parse = f_int, .offset = CFG(workers),
	  .min = 1, .max = WORKERS_MAX },
	{ .key = "key", .kind = K_ANY, .parse = f_keys, .offset = CFG(keys) },
	{ .key = "cert", .kind = K_ANY, .parse = f_pems, .offset = CFG(certs) },
	{ .key = "ca", .kind = K_ANY, .parse = f_pems, .offset = CFG(ca) },
	{ .key = "crl", .kind = K_ANY, .parse = f_pems, .offset = CFG(crl) },
	{ .key = "pfx", .kind = K_STRING, .parse = f_file, .offset = CFG(pfx) },
	{ .key = "passphrase", .kind = K_STRING, .parse = f_str, .offset = CFG(passphrase) },
	{ .key = "ciphers", .kind = K_STRING, .parse = f_str, .offset = CFG(ciphers), .min = 1 },
	{ .key = "priority", .kind = K_STRING, .parse = f_str, .offset = CFG(priority), .min = 1 },
	{ .key = "ecdhCurve", .kind = K_STRING, .parse = f_str, .offset = CFG(ecdh_curve), .min = 1 },
	{ .key = "dhparam", .kind = K_STRING, .parse = f_dhparam, .offset = CFG(dhparam) },
	{ .key = "minVersion", .kind = K_STRING, .parse = f_version, .offset = CFG(min_version) },
	{ .key = "maxVersion", .kind = K_STRING, .parse = f_version, .offset = CFG(max_version) },
	{ .key = "secureProtocol", .kind = K_STRING, .parse = f_secure_protocol,
	  .offset = CFG(secure_protocol) },
	{ .key = "honorCipherOrder", .kind = K_BOOL, .parse = f_bool, .offset = CFG(honor_cipher_order) },
	{ .key = "requestCert", .kind = K_BOOL, .parse = f_bool, .offset = CFG(request_cert) },
	{ .key = "rejectUnauthorized", .kind = K_BOOL, .parse = f_bool,
	  .offset = CFG(reject_unauthorized) },
	{ .key = "ALPNProtocols", .kind = K_ANY, .parse = f_protocols, .offset = CFG(alpn) },
	{ .key = "NPNProtocols", .kind = K_ANY, .parse = f_npn, .offset = CFG(npn) },
	{ .key = "handshakeTimeout", .kind = K_INT, .parse = f_long, .offset = CFG(handshake_timeout_ms),
	  .min = 1, .max = NO_LIMIT },
	{ .key = "sessionTimeout", .kind = K_INT, .parse = f_long, .offset = CFG(session_timeout_s),
	  .min = 1, .max = SESSION_TIMEOUT_MAX },
	{ .key = "ticketKeys", .kind = K_STRING, .parse = f_ticket_keys, .offset = CFG(ticket_keys) },
	{ .key = "ticketKeyRing", .kind = K_INT, .parse = f_int, .offset = CFG(ticket_key_ring),
	  .min = 2, .max = TICKET_RING_MAX },
	{ .key = "sessionIdContext", .kind = K_STRING, .parse = f_str, .offset = CFG(session_id_context),
	  .min = 1, .max = SID_CTX_MAX },
	{ .key = "maxConnections", .kind = K_INT, .parse = f_long, .offset = CFG(max_connections),
	  .min = 0, .max = NO_LIMIT },
	{ .key = "maxSendFragment", .kind = K_INT, .parse = f_int, .offset = CFG(max_send_fragment),
	  .min = 512, .max = 16384 },
	{ .key = "maxHandshakeSize", .kind = K_INT, .parse = f_int, .offset = CFG(max_handshake_size),
	  .min = 4096, .max = 16777215 },
	{ .key = "renegotiation", .kind = K_OBJECT, .parse = f_members, .members = reneg_fields },
	{ .key = "sessionCache", .kind = K_OBJECT, .parse = f_members, .members = cache_fields },
	{ .key = "sessionStore", .kind = K_OBJECT, .parse = f_members, .members = store_fields },
	{ .key = "contexts", .kind = K_ANY, .parse = f_contexts },
	{ .key = "ocsp", .kind = K_STRING, .parse = f_file, .offset = CFG(ocsp) },
	{ .key = "backend", .kind = K_ANY, .parse = f_backend_any, .offset = CFG(backend) },
	{ .key = "proxyProtocol", .kind = K_STRING, .parse = f_enum, .offset = CFG(proxy_protocol),
	  .names = proxy_names },
	{ .key = "shutdownTimeout", .kind = K_INT, .parse = f_long, .offset = CFG(shutdown_timeout_ms),
	  .min = 0, .max = NO_LIMIT },
	{ .key = "control", .kind = K_OBJECT, .parse = f_members, .members = control_fields },
	{ .key = "stateDir", .kind = K_STRING, .parse = f_path, .offset = CFG(state_dir) },
	{ .key = "accessLog", .kind = K_STRING, .parse = f_access_log, .offset = CFG(access_log) },
	{ .key = "user", .kind = K_STRING, .parse = f_str, .offset = CFG(user), .min = 1, .max = 256 },
	{ .key = "group", .kind = K_STRING, .parse = f_str, .offset = CFG(group), .min = 1, .max = 256 },
	{ .key = "pidFile", .kind = K_STRING, .parse = f_path, .offset = CFG(pid_file) },
	{ .key = "logFormat", .kind = K_STRING, .parse = f_enum, .offset = CFG(log_format),
	  .names = log_format_names },
	{ .key = "logLevel", .kind = K_STRING, .parse = f_enum, .offset = CFG(log_level),
	  .names = log_level_names },
	{ .key = "demo", .kind = K_BOOL, .parse = f_bool, .offset = CFG(demo) },
	{ .key = NULL },
};

/* ---- rules across keys ---- */

/* check_versions: Node's ERR_TLS_PROTOCOL_VERSION_CONFLICT, then min <= max. */
static int check_versions(const struct parser *p, const struct tlsd_config *cfg)
{
	if (cfg->secure_protocol && cfg->min_version)
		return cfg_error(p, "minVersion: TLS protocol version \"%s\" conflicts with "
				 "secureProtocol \"%s\"", cfg->min_version, cfg->secure_protocol);
	if (cfg->secure_protocol && cfg->max_version)
		return cfg_error(p, "maxVersion: TLS protocol version \"%s\" conflicts with "
				 "secureProtocol \"%s\"", cfg->max_version, cfg->secure_protocol);
	if (cfg->min_version && cfg->max_version &&
	    version_rank(cfg->min_version) > version_rank(cfg->max_version))
		return cfg_error(p, "minVersion: %s is above maxVersion %s", cfg->min_version,
				 cfg->max_version);
	return TLSD_OK;
}

static int check_credentials(const struct parser *p, const struct tlsd_config *cfg)
{
	if (cfg->demo && (cfg->keys.n > 0 || cfg->certs.n > 0 || cfg->pfx != NULL))
		return cfg_error(p, "demo: cannot be combined with key, cert or pfx (--demo makes "
				 "its own certificate)");
	if (cfg->demo)
		return TLSD_OK;
	return check_pairs(p, "", &cfg->keys, &cfg->certs, cfg->pfx, "or pfx, or --demo");
}

static int check_proxy(const struct parser *p, const struct tlsd_config *cfg)
{
	if (cfg->proxy_protocol != TLSD_PROXY_OFF && cfg->backend == NULL)
		return cfg_error(p, "proxyProtocol: %s needs a backend (the PROXY header goes to "
				 "the backend; echo mode has none)", proxy_names[cfg->proxy_protocol]);
	return TLSD_OK;
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > WORKERS_MAX ? WORKERS_MAX : (int)n;
}

/* fill_defaults: the defaults that need an allocation or the machine. */
static int fill_defaults(const struct parser *p, struct tlsd_config *cfg)
{
	if (cfg->workers == 0)
		cfg->workers = online_cpus();
	if (cfg->listen.n == 0) {
		GUARD(str_list_alloc(p, &cfg->listen, 1));
		GUARD(dup_into(p, &cfg->listen.items[0], DEFAULT_LISTEN));
	}
	if (cfg->control_listen == NULL)
		GUARD(dup_into(p, &cfg->control_listen, DEFAULT_CONTROL));
	if (cfg->state_dir == NULL)
		GUARD(absolute_path(p, "stateDir", DEFAULT_STATE_DIR, &cfg->state_dir));
	if (cfg->access_log == NULL)
		GUARD(dup_into(p, &cfg->access_log, DEFAULT_ACCESS_LOG));
	if (cfg->store_redis == NULL && (cfg->store_prefix || cfg->store_password || cfg->store_db))
		return cfg_error(p, "sessionStore: \"redis\" is missing (the store's address)");
	if (cfg->store_redis != NULL && cfg->store_prefix == NULL)
		GUARD(dup_into(p, &cfg->store_prefix, "tlsd:"));
	return TLSD_OK;
}

/* ---- entry points ---- */

void config_init(struct tlsd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->honor_cipher_order = true;
	cfg->reject_unauthorized = true;
	cfg->handshake_timeout_ms = 120000;
	cfg->session_timeout_s = 300;
	cfg->max_send_fragment = 16384;
	cfg->max_handshake_size = 65536;
	cfg->ticket_key_ring = TICKET_RING_DEFAULT;
	cfg->backend_timeout_ms = 10000;
	cfg->btls_reject_unauthorized = true;
	cfg->btls_check_identity = true;
	cfg->btls_session = true;
	cfg->reneg_limit = 3;
	cfg->reneg_window_s = 600;
	cfg->session_cache_size = 20480;
	cfg->shutdown_timeout_ms = 30000;
	cfg->proxy_protocol = TLSD_PROXY_OFF;
	cfg->log_format = TLSD_LOG_TEXT;
	cfg->log_level = TLSD_LOG_INFO;
}

/* pem_list_free: <secret>: the values may be inline private keys. */
static void pem_list_free(struct tlsd_pem_list *list, bool secret)
{
	for (size_t i = 0; i < list->n; i++) {
		if (secret)
			free_secret(list->items[i].value);
		else
			free(list->items[i].value);
		free_secret(list->items[i].passphrase);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

static void str_list_free(struct tlsd_str_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

static void context_free(struct tlsd_context_config *c)
{
	free(c->hostname);
	pem_list_free(&c->keys, true);
	pem_list_free(&c->certs, false);
	pem_list_free(&c->ca, false);
	free(c->ocsp);
	free_secret(c->passphrase);
	free(c->pfx);
}

static int absolute_dir(const char *dir, char **out, struct tlsd_error *err);

int config_parse_context(json_t *obj, const char *base_dir, struct tlsd_context_config *out,
			 struct tlsd_error *err)
{
	struct tlsd_context_config tmp;
	struct parser p = { NULL, err };
	char *dir = NULL;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	GUARD(absolute_dir(base_dir, &dir, err));
	p.base_dir = dir;
	if (!json_is_object(obj))
		rc = type_error(&p, "context", "an object", obj);
	else
		rc = parse_object(&p, "", obj, context_fields, &tmp);
	if (rc == TLSD_OK)
		rc = check_context(&p, "", &tmp, 0);
	if (rc == TLSD_OK) {
		*out = tmp;
		memset(&tmp, 0, sizeof(tmp));
	}
	context_free(&tmp);
	free(dir);
	return rc;
}

void config_context_free(struct tlsd_context_config *ctx)
{
	context_free(ctx);
	memset(ctx, 0, sizeof(*ctx));
}

/* free_strings: the plain (not secret) strings of <cfg>. */
static void free_strings(struct tlsd_config *cfg)
{
	char *plain[] = { cfg->config_path, cfg->base_dir, cfg->pfx, cfg->dhparam, cfg->ocsp,
			  cfg->ciphers, cfg->priority, cfg->ecdh_curve, cfg->min_version,
			  cfg->max_version, cfg->secure_protocol, cfg->session_id_context,
			  cfg->backend, cfg->control_listen, cfg->control_token_file,
			  cfg->state_dir, cfg->access_log, cfg->user, cfg->group, cfg->pid_file,
			  cfg->store_redis, cfg->store_prefix, cfg->btls_servername, cfg->btls_min_version,
			  cfg->btls_ciphers };

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		free(plain[i]);
}

void config_free(struct tlsd_config *cfg)
{
	for (size_t i = 0; i < cfg->n_contexts; i++)
		context_free(&cfg->contexts[i]);
	free(cfg->contexts);
	str_list_free(&cfg->listen);
	str_list_free(&cfg->alpn);
	str_list_free(&cfg->npn);
	pem_list_free(&cfg->keys, true);
	pem_list_free(&cfg->certs, false);
	pem_list_free(&cfg->ca, false);
	pem_list_free(&cfg->crl, false);
	free_secret(cfg->passphrase);
	free_secret(cfg->ticket_keys);
	free_secret(cfg->store_password);
	free_secret(cfg->btls_passphrase);
	pem_list_free(&cfg->btls_keys, true);
	pem_list_free(&cfg->btls_certs, false);
	pem_list_free(&cfg->btls_ca, false);
	str_list_free(&cfg->btls_alpn);
	free_strings(cfg);
	memset(cfg, 0, sizeof(*cfg));
}

bool config_is_inline_pem(const char *value)
{
	return value != NULL && strncmp(value, PEM_PREFIX, strlen(PEM_PREFIX)) == 0;
}

/* absolute_dir: <dir> (NULL = the current folder) made absolute, malloc'd. */
static int absolute_dir(const char *dir, char **out, struct tlsd_error *err)
{
	char *cwd = NULL;
	bool here = dir == NULL || dir[0] == '\0' || strcmp(dir, ".") == 0;

	if (dir != NULL && dir[0] == '/') {
		*out = strdup(dir);
	} else {
		cwd = getcwd(NULL, 0);
		if (cwd == NULL)
			return tlsd_error_set(err, TLSD_ERR_IO, "config: the current folder: %s",
					      strerror(errno));
		*out = here ? cwd : join_path(cwd, dir);
		if (!here)
			free(cwd);
	}
	return *out ? TLSD_OK : tlsd_error_set(err, TLSD_ERR_INTERNAL, "config: out of memory");
}

/* parse_into: parse <root> into the fresh <tmp>, whose base_dir is set. */
static int parse_into(struct tlsd_config *tmp, json_t *root, struct tlsd_error *err)
{
	struct parser p = { tmp->base_dir, err };

	if (!json_is_object(root))
		return type_error(&p, "config", "a JSON object", root);
	GUARD(parse_object(&p, "", root, top_fields, tmp));
	GUARD(check_versions(&p, tmp));
	GUARD(check_credentials(&p, tmp));
	GUARD(check_proxy(&p, tmp));
	return fill_defaults(&p, tmp);
}

/* commit: replace <cfg>'s contents by <tmp>'s, which is left empty. */
static void commit(struct tlsd_config *cfg, struct tlsd_config *tmp)
{
	config_free(cfg);
	*cfg = *tmp;
	memset(tmp, 0, sizeof(*tmp));
}

int config_parse_json(struct tlsd_config *cfg, json_t *root, const char *base_dir,
		      struct tlsd_error *err)
{
	struct tlsd_config tmp;
	int rc;

	config_init(&tmp);
	GUARD_GOTO(absolute_dir(base_dir, &tmp.base_dir, err), rc, out);
	GUARD_GOTO(parse_into(&tmp, root, err), rc, out);
	commit(cfg, &tmp);
out:
	config_free(&tmp);
	return rc;
}

/* read_file: the JSON object in the file <path> into a new <*root>. */
static int read_file(const char *path, json_t **root, struct tlsd_error *err)
{
	json_error_t jerr;
	FILE *f = fopen(path, "r");

	*root = NULL;
	if (f == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s", path, strerror(errno));
	*root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (*root == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s:%d:%d: %s", path, jerr.line,
				      jerr.column, jerr.text);
	if (!json_is_object(*root))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: the top level must be a JSON "
				      "object, got %s", path, type_name(*root));
	return TLSD_OK;
}

/* merge_overrides: <overrides>' keys over <root>'s; objects on both sides
 * are merged one level deep. <overrides> is only read. */
static int merge_overrides(json_t *root, json_t *overrides, struct tlsd_error *err)
{
	const char *key;
	json_t *v;

	if (overrides == NULL)
		return TLSD_OK;
	if (!json_is_object(overrides))
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "config: overrides must be an object");
	json_object_foreach(overrides, key, v) {
		json_t *mine = json_object_get(root, key);
		int rc = json_is_object(mine) && json_is_object(v) ? json_object_update(mine, v)
								   : json_object_set(root, key, v);

		if (rc < 0)
			return tlsd_error_set(err, TLSD_ERR_INTERNAL, "config: out of memory");
	}
	return TLSD_OK;
}

/* file_location: the absolute path of the config file <path> and its folder. */
static int file_location(const char *path, struct tlsd_config *tmp, struct tlsd_error *err)
{
	char *slash;

	tmp->config_path = realpath(path, NULL);
	if (tmp->config_path == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s", path, strerror(errno));
	tmp->base_dir = strdup(tmp->config_path);
	if (tmp->base_dir == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "config: out of memory");
	slash = strrchr(tmp->base_dir, '/');
	slash[slash == tmp->base_dir ? 1 : 0] = '\0';	/* "/x.json" lives in "/" */
	return TLSD_OK;
}

/* empty_root: the object that stands for "no config file". */
static int empty_root(json_t **root, struct tlsd_error *err)
{
	*root = json_object();
	return *root ? TLSD_OK : tlsd_error_set(err, TLSD_ERR_INTERNAL, "config: out of memory");
}

int config_load(struct tlsd_config *cfg, const char *path, json_t *overrides,
		struct tlsd_error *err)
{
	struct tlsd_config tmp;
	json_t *root = NULL;
	int rc;

	config_init(&tmp);
	if (path != NULL) {
		GUARD_GOTO(read_file(path, &root, err), rc, out);
		GUARD_GOTO(file_location(path, &tmp, err), rc, out);
	} else {
		GUARD_GOTO(empty_root(&root, err), rc, out);
		GUARD_GOTO(absolute_dir(NULL, &tmp.base_dir, err), rc, out);
	}
	GUARD_GOTO(merge_overrides(root, overrides, err), rc, out);
	GUARD_GOTO(parse_into(&tmp, root, err), rc, out);
	commit(cfg, &tmp);
out:
	config_free(&tmp);
	json_decref(root);
	return rc;
}

/* ---- the effective config as JSON ---- */

/* A JSON value under construction: the first failed step makes it NULL. */
static void put(json_t *obj, const char *key, json_t *v, bool *ok)
{
	if (v == NULL || json_object_set_new(obj, key, v) < 0)
		*ok = false;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *secret(const char *s)
{
	return s ? json_string("(set)") : json_null();
}

static json_t *pem_list_json(const struct tlsd_pem_list *l);
static json_t *str_list_json(const struct tlsd_str_list *l);

/* backend_json: the string as given, or the object with its tls options. */
static json_t *backend_json(const struct tlsd_config *cfg)
{
	if (cfg->backend == NULL || !cfg->backend_tls)
		return cfg->backend ? json_string(cfg->backend) : json_null();
	return json_pack("{s:s, s:I, s:{s:o, s:o, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:b}}", "address", cfg->backend,
			 "timeout", (json_int_t)cfg->backend_timeout_ms, "tls",
			 "servername", cfg->btls_servername ? json_string(cfg->btls_servername) : json_null(),
			 "ca", pem_list_json(&cfg->btls_ca), "rejectUnauthorized", cfg->btls_reject_unauthorized,
			 "checkServerIdentity", cfg->btls_check_identity, "key", pem_list_json(&cfg->btls_keys),
			 "cert", pem_list_json(&cfg->btls_certs), "passphrase", secret(cfg->btls_passphrase),
			 "ALPNProtocols", str_list_json(&cfg->btls_alpn),
			 "minVersion", cfg->btls_min_version ? json_string(cfg->btls_min_version) : json_null(),
			 "ciphers", cfg->btls_ciphers ? json_string(cfg->btls_ciphers) : json_null(),
			 "session", cfg->btls_session);
}

/* pem_shown: a path as is, inline PEM by its size only. */
static json_t *pem_shown(const char *value)
{
	char buf[64];

	if (!config_is_inline_pem(value))
		return str_or_null(value);
	snprintf(buf, sizeof(buf), "(inline PEM, %zu bytes)", strlen(value));
	return json_string(buf);
}

/* pem_list_json: the values; an item with its own passphrase as {pem, passphrase}. */
static json_t *pem_list_json(const struct tlsd_pem_list *list)
{
	json_t *a = json_array();
	bool ok = a != NULL;

	for (size_t i = 0; ok && i < list->n; i++) {
		const struct tlsd_pem *item = &list->items[i];
		json_t *v = item->passphrase
			? json_pack("{s:o, s:o}", "pem", pem_shown(item->value), "passphrase",
				    secret(item->passphrase))
			: pem_shown(item->value);

		ok = v != NULL && json_array_append_new(a, v) == 0;
	}
	if (!ok)
		json_decref(a);
	return ok ? a : NULL;
}

static json_t *str_list_json(const struct tlsd_str_list *list)
{
	json_t *a = json_array();
	bool ok = a != NULL;

	for (size_t i = 0; ok && i < list->n; i++)
		ok = json_array_append_new(a, json_string(list->items[i])) == 0;
	if (!ok)
		json_decref(a);
	return ok ? a : NULL;
}

static json_t *context_json(const struct tlsd_context_config *c)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (!ok)
		return NULL;
	put(o, "hostname", json_string(c->hostname), &ok);
	put(o, "key", pem_list_json(&c->keys), &ok);
	put(o, "cert", pem_list_json(&c->certs), &ok);
	put(o, "ca", pem_list_json(&c->ca), &ok);
	put(o, "ocsp", str_or_null(c->ocsp), &ok);
	put(o, "passphrase", secret(c->passphrase), &ok);
	put(o, "pfx", str_or_null(c->pfx), &ok);
	if (!ok)
		json_decref(o);
	return ok ? o : NULL;
}

static json_t *contexts_json(const struct tlsd_config *cfg)
{
	json_t *a = json_array();
	bool ok = a != NULL;

	for (size_t i = 0; ok && i < cfg->n_contexts; i++)
		ok = json_array_append_new(a, context_json(&cfg->contexts[i])) == 0;
	if (!ok)
		json_decref(a);
	return ok ? a : NULL;
}

/* effective_versions: what the versions are once defaults and
 * secureProtocol (TLSv1_2_* pins TLS 1.2) apply. */
static void effective_versions(const struct tlsd_config *cfg, const char **min, const char **max)
{
	*min = cfg->min_version ? cfg->min_version : "TLSv1.2";
	*max = cfg->max_version ? cfg->max_version : "TLSv1.3";
	if (cfg->secure_protocol && strncmp(cfg->secure_protocol, "TLSv1_2_", 8) == 0)
		*min = *max = "TLSv1.2";
}

static json_t *control_json(const struct tlsd_config *cfg)
{
	char *token = NULL;
	json_t *o;

	if (cfg->control_token_file == NULL && cfg->state_dir != NULL &&
	    (token = join_path(cfg->state_dir, TOKEN_FILE_NAME)) == NULL)
		return NULL;
	o = json_pack("{s:o, s:o}", "listen", str_or_null(cfg->control_listen), "tokenFile",
		      str_or_null(cfg->control_token_file ? cfg->control_token_file : token));
	free(token);
	return o;
}

static void put_credentials(json_t *o, const struct tlsd_config *cfg, bool *ok)
{
	put(o, "key", pem_list_json(&cfg->keys), ok);
	put(o, "cert", pem_list_json(&cfg->certs), ok);
	put(o, "ca", pem_list_json(&cfg->ca), ok);
	put(o, "crl", pem_list_json(&cfg->crl), ok);
	put(o, "pfx", str_or_null(cfg->pfx), ok);
	put(o, "passphrase", secret(cfg->passphrase), ok);
}

static void put_protocol(json_t *o, const struct tlsd_config *cfg, bool *ok)
{
	const char *min, *max;

	effective_versions(cfg, &min, &max);
	put(o, "ciphers", str_or_null(cfg->ciphers), ok);
	put(o, "priority", str_or_null(cfg->priority), ok);
	put(o, "ecdhCurve", json_string(cfg->ecdh_curve ? cfg->ecdh_curve : "auto"), ok);
	put(o, "dhparam", pem_shown(cfg->dhparam), ok);
	put(o, "minVersion", json_string(min), ok);
	put(o, "maxVersion", json_string(max), ok);
	put(o, "secureProtocol", str_or_null(cfg->secure_protocol), ok);
	put(o, "honorCipherOrder", json_boolean(cfg->honor_cipher_order), ok);
	put(o, "requestCert", json_boolean(cfg->request_cert), ok);
	put(o, "rejectUnauthorized", json_boolean(cfg->reject_unauthorized), ok);
	put(o, "ALPNProtocols", str_list_json(&cfg->alpn), ok);
	put(o, "NPNProtocols", str_list_json(&cfg->npn), ok);
}

static void put_sessions(json_t *o, const struct tlsd_config *cfg, bool *ok)
{
	put(o, "handshakeTimeout", json_integer(cfg->handshake_timeout_ms), ok);
	put(o, "sessionTimeout", json_integer(cfg->session_timeout_s), ok);
	put(o, "ticketKeys", secret(cfg->ticket_keys), ok);
	put(o, "ticketKeyRing", json_integer(cfg->ticket_key_ring), ok);
	put(o, "sessionIdContext", str_or_null(cfg->session_id_context), ok);
	put(o, "maxConnections", json_integer(cfg->max_connections), ok);
	put(o, "maxSendFragment", json_integer(cfg->max_send_fragment), ok);
	put(o, "maxHandshakeSize", json_integer(cfg->max_handshake_size), ok);
	put(o, "renegotiation", json_pack("{s:i, s:i}", "limit", cfg->reneg_limit, "window",
					  cfg->reneg_window_s), ok);
	put(o, "sessionCache", json_pack("{s:I}", "size", (json_int_t)cfg->session_cache_size), ok);
	put(o, "sessionStore", cfg->store_redis == NULL ? json_null()
			       : json_pack("{s:s, s:s, s:o, s:i}", "redis", cfg->store_redis, "prefix", cfg->store_prefix,
					   "password", secret(cfg->store_password), "db", cfg->store_db), ok);
	put(o, "contexts", contexts_json(cfg), ok);
	put(o, "ocsp", str_or_null(cfg->ocsp), ok);
}

static void put_operations(json_t *o, const struct tlsd_config *cfg, bool *ok)
{
	put(o, "backend", backend_json(cfg), ok);
	put(o, "proxyProtocol", json_string(proxy_names[cfg->proxy_protocol]), ok);
	put(o, "shutdownTimeout", json_integer(cfg->shutdown_timeout_ms), ok);
	put(o, "control", control_json(cfg), ok);
	put(o, "stateDir", str_or_null(cfg->state_dir), ok);
	put(o, "accessLog", str_or_null(cfg->access_log), ok);
	put(o, "user", str_or_null(cfg->user), ok);
	put(o, "group", str_or_null(cfg->group), ok);
	put(o, "pidFile", str_or_null(cfg->pid_file), ok);
	put(o, "logFormat", json_string(log_format_names[cfg->log_format]), ok);
	put(o, "logLevel", json_string(log_level_names[cfg->log_level]), ok);
	put(o, "demo", json_boolean(cfg->demo), ok);
}

json_t *config_to_json(const struct tlsd_config *cfg)
{
	json_t *o = json_object();
	bool ok = o != NULL;

	if (!ok)
		return NULL;
	put(o, "listen", str_list_json(&cfg->listen), &ok);
	put(o, "workers", json_integer(cfg->workers), &ok);
	put_credentials(o, cfg, &ok);
	put_protocol(o, cfg, &ok);
	put_sessions(o, cfg, &ok);
	put_operations(o, cfg, &ok);
	if (!ok)
		json_decref(o);
	return ok ? o : NULL;
}

/* ---- a first look at logFormat and logLevel ---- */

/* peek_enum: <obj>.<key>, when it is a string in <names>, as its index. */
static void peek_enum(json_t *obj, const char *key, const char *const *names, int *out)
{
	const char *text = json_string_value(json_object_get(obj, key));

	for (int i = 0; text != NULL && names[i] != NULL; i++)
		if (strcmp(names[i], text) == 0)
			*out = i;
}

/* scan_enum: the same from the raw text of a file that is not valid JSON:
 * the first "<key>" followed by ':' and one of <names> in quotes. */
static void scan_enum(const char *text, const char *key, const char *const *names, int *out)
{
	char quoted[64];
	const char *p;
	size_t n;

	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	p = strstr(text, quoted);
	if (p == NULL)
		return;
	p += strlen(quoted);
	p += strspn(p, " \t\r\n");
	if (*p++ != ':')
		return;
	p += strspn(p, " \t\r\n");
	for (int i = 0; names[i] != NULL; i++) {
		n = strlen(names[i]);
		if (p[0] == '"' && strncmp(p + 1, names[i], n) == 0 && p[n + 1] == '"')
			*out = i;
	}
}

static void peek_file(const char *path, int *format, int *level)
{
	struct tlsd_error ignored = { "" };
	char *text = NULL;
	size_t len = 0;
	json_t *root;

	if (path == NULL || file_read(path, 0, &text, &len, &ignored) < 0)
		return;
	root = json_loadb(text, len, 0, NULL);
	if (json_is_object(root)) {
		peek_enum(root, "logFormat", log_format_names, format);
		peek_enum(root, "logLevel", log_level_names, level);
	} else {
		scan_enum(text, "logFormat", log_format_names, format);
		scan_enum(text, "logLevel", log_level_names, level);
	}
	json_decref(root);
	file_read_free(text, len);
}

void config_peek_logging(const char *path, json_t *overrides, enum tlsd_log_format *format,
			 enum tlsd_log_level *level)
{
	int f = TLSD_LOG_TEXT, l = TLSD_LOG_INFO;

	peek_file(path, &f, &l);
	if (json_is_object(overrides)) {
		peek_enum(overrides, "logFormat", log_format_names, &f);
		peek_enum(overrides, "logLevel", log_level_names, &l);
	}
	*format = (enum tlsd_log_format)f;
	*level = (enum tlsd_log_level)l;
}
