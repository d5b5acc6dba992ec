/* config.h - the effective configuration of tlsd (SPEC.md "Config file").
 *
 * The config is parsed from one JSON object whose keys mirror
 * tls.createServer(options). Command-line flags are turned into the same keys
 * (master/cli.c) and merged over the file's object before parsing, so every
 * error names the config key whichever way the value came in.
 *
 * A struct tlsd_config owns every string it points to (config_free).
 * PEM-or-path values are kept as given, except that relative paths are
 * resolved against the config file's folder: they start with "-----BEGIN"
 * (inline PEM) or are an absolute path after parsing.
 */
#ifndef TLSD_COMMON_CONFIG_H
#define TLSD_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "common/err.h"

enum tlsd_log_format { TLSD_LOG_TEXT = 0, TLSD_LOG_JSON = 1 };
enum tlsd_log_level { TLSD_LOG_ERROR = 0, TLSD_LOG_WARN = 1, TLSD_LOG_INFO = 2, TLSD_LOG_DEBUG = 3 };
enum tlsd_proxy_protocol { TLSD_PROXY_OFF = 0, TLSD_PROXY_V1 = 1, TLSD_PROXY_V2 = 2 };

/* One PEM-or-path value, with the passphrase that decrypts it (keys only). */
struct tlsd_pem {
	char *value;		/* inline PEM, or an absolute path */
	char *passphrase;	/* NULL: none given (the top-level "passphrase" applies) */
};

struct tlsd_pem_list {
	struct tlsd_pem *items;
	size_t n;
};

struct tlsd_str_list {
	char **items;
	size_t n;
};

/* An SNI context from "contexts" (served by a later release; parsed and checked now). */
struct tlsd_context_config {
	char *hostname;
	struct tlsd_pem_list keys;
	struct tlsd_pem_list certs;
	struct tlsd_pem_list ca;
	char *ocsp;
	char *passphrase;
	char *pfx;
};

struct tlsd_config {
	char *config_path;		/* NULL when no file was given */
	char *base_dir;			/* folder relative paths resolve against */

	struct tlsd_str_list listen;	/* "[HOST:]PORT" strings, validated */
	int workers;			/* 0 in the file = number of online CPUs */

	/* Credentials. */
	struct tlsd_pem_list keys;
	struct tlsd_pem_list certs;
	struct tlsd_pem_list ca;
	struct tlsd_pem_list crl;
	char *pfx;			/* path or inline base64? a path (binary file) */
	char *passphrase;
	char *dhparam;
	char *ocsp;			/* path of a DER OCSP response */
	bool demo;			/* --demo: generate a self-signed ECDSA cert */

	/* Protocol. */
	char *ciphers;			/* OpenSSL syntax; NULL = Node's default list */
	char *priority;			/* GnuTLS native; overrides ciphers */
	char *ecdh_curve;		/* NULL = "auto" */
	char *min_version;		/* "TLSv1.2" ...; NULL = TLSv1.2 */
	char *max_version;		/* NULL = TLSv1.3 */
	char *secure_protocol;		/* e.g. "TLSv1_2_method"; NULL = none */
	bool honor_cipher_order;	/* default true */
	bool request_cert;
	bool reject_unauthorized;	/* only meaningful with request_cert */
	struct tlsd_str_list alpn;
	struct tlsd_str_list npn;	/* accepted, warned about, unused */
	long handshake_timeout_ms;	/* default 120000 */
	long session_timeout_s;		/* default 300 */
	char *ticket_keys;		/* base64 of 48 bytes; NULL = random */
	char *session_id_context;
	long max_connections;		/* 0 = unlimited */
	int max_send_fragment;		/* 512..16384, default 16384 */
	int reneg_limit;		/* default 3 */
	int reneg_window_s;		/* default 600 */
	long session_cache_size;	/* default 20480 */
	struct tlsd_context_config *contexts;
	size_t n_contexts;

	/* After the handshake. */
	char *backend;			/* "HOST:PORT" or "unix:/path"; NULL = echo */
	enum tlsd_proxy_protocol proxy_protocol;
	long shutdown_timeout_ms;	/* default 30000 */

	/* Operations. */
	char *control_listen;		/* default "127.0.0.1:8001"; "off" disables */
	char *control_token_file;
	char *state_dir;		/* default "./tlsd-state" */
	char *access_log;		/* "-" = stdout (default) or a path */
	enum tlsd_log_format log_format;
	enum tlsd_log_level log_level;
};

/* config_init: fill <cfg> with the defaults above. */
void config_init(struct tlsd_config *cfg);

/* config_free: release everything <cfg> owns and zero it. */
void config_free(struct tlsd_config *cfg);

/* config_parse_json: parse the JSON object <root> into <cfg> (initialised by
 * config_init). <base_dir> resolves relative paths (NULL = current folder).
 * On error returns TLSD_ERR_CONFIG with <err> naming the key and the reason,
 * e.g. "maxSendFragment: must be between 512 and 16384, got 100". */
int config_parse_json(struct tlsd_config *cfg, json_t *root, const char *base_dir,
		      struct tlsd_error *err) TLSD_MUST_CHECK;

/* config_load: read the JSON file <path> (may be NULL: no file), merge the
 * object <overrides> (keys as in the file; may be NULL) over it, parse it into
 * <cfg>. Errors name the file and line for JSON syntax errors. */
int config_load(struct tlsd_config *cfg, const char *path, json_t *overrides,
		struct tlsd_error *err) TLSD_MUST_CHECK;

/* config_to_json: the effective config as a new JSON object (for --check);
 * secrets (passphrases, ticketKeys) are printed as "(set)". Caller owns it. */
json_t *config_to_json(const struct tlsd_config *cfg);

/* config_is_inline_pem: true when <value> is inline PEM, not a path. */
bool config_is_inline_pem(const char *value);

#endif
