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
 * (inline PEM) or are an absolute path after parsing, and the file was
 * readable when it was parsed. Every other path (pfx, ocsp, stateDir,
 * accessLog, control.tokenFile) is absolute after parsing as well.
 *
 * Parsing rules (config_parse_json):
 * - a key whose value is JSON null is treated as absent (its default);
 * - unknown keys, wrong types and impossible values are errors that name
 *   the key ("maxSendFragment: must be an integer, got string"), array
 *   elements by index ("key[1].passphrase: ...", "contexts[0].hostname: ...");
 * - without "demo", key+cert (equal counts) or pfx is required; pfx cannot
 *   be combined with key/cert; "demo" cannot be combined with key, cert or
 *   pfx (it makes its own certificate), though ca/crl may come with it;
 * - secureProtocol together with minVersion or maxVersion is an error, as
 *   Node's ERR_TLS_PROTOCOL_VERSION_CONFLICT; TLSv1 and TLSv1.1 (and the
 *   SSL*, TLSv1*_method and *_client_method methods) are refused.
 * Fields marked "after parse" are filled with their default by a successful
 * parse; config_init leaves them NULL/0.
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
	char *base_dir;			/* absolute folder relative paths resolve against */

	struct tlsd_str_list listen;	/* "[HOST:]PORT" strings, validated; after
					 * parse never empty: default "8000" (every
					 * address, dual-stack where possible) */
	int workers;			/* 1..1024; after parse, absent = online CPUs */

	/* Credentials. */
	struct tlsd_pem_list keys;
	struct tlsd_pem_list certs;
	struct tlsd_pem_list ca;
	struct tlsd_pem_list crl;
	char *pfx;			/* absolute path of a PKCS#12 file (binary: no inline) */
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
	bool reject_unauthorized;	/* only meaningful with request_cert; default
					 * true, as Node's servers today (the old docs'
					 * "false" was insecure) */
	struct tlsd_str_list alpn;
	struct tlsd_str_list npn;	/* accepted, warned about, unused */
	long handshake_timeout_ms;	/* 1..2^31-1, default 120000 */
	long session_timeout_s;		/* 1..604800 (GnuTLS's cap), default 300 */
	char *ticket_keys;		/* base64 of exactly 48 bytes; NULL = random */
	char *session_id_context;	/* 1..32 bytes (SSL_MAX_SID_CTX_LENGTH); NULL = none */
	long max_connections;		/* 0 = unlimited (default) */
	int max_send_fragment;		/* 512..16384, default 16384 */
	int ticket_key_ring;		/* ticket keys kept: next, active, decrypt-only; 2..8, default 3 */
	int max_handshake_size;		/* longest handshake message taken, 4096..2^24-1, default 65536 */
	int reneg_limit;		/* 0..RENEG_LIMIT_MAX (16), default 3 */
	int reneg_window_s;		/* > 0, default 600 */
	char *store_redis;		/* sessionStore.redis: "HOST:PORT" or "unix:/path"; NULL: no store */
	char *store_prefix;		/* sessionStore.prefix, default "tlsd:" */
	char *store_password;		/* sessionStore.password (AUTH); NULL: none */
	int store_db;			/* sessionStore.db (SELECT), default 0 */
	long session_cache_size;	/* entries, >= 0 (0 = no cache), default 20480 */
	struct tlsd_context_config *contexts;	/* hostnames lowercased, distinct */
	size_t n_contexts;

	/* After the handshake. */
	char *backend;			/* "HOST:PORT" or "unix:/path"; NULL = echo */
	long backend_timeout_ms;	/* backend.timeout: connect (and TLS handshake), default 10000 */
	bool backend_tls;		/* backend.tls given: TLS to the backend (Node's tls.connect) */
	char *btls_servername;		/* backend.tls.servername: SNI and the name checked; NULL: the host */
	struct tlsd_pem_list btls_ca;	/* backend.tls.ca; empty: the system's trust store */
	bool btls_reject_unauthorized;	/* default true */
	bool btls_check_identity;	/* checkServerIdentity: the name too; default true */
	struct tlsd_pem_list btls_keys;	/* client certificate key(s) */
	struct tlsd_pem_list btls_certs;
	char *btls_passphrase;
	struct tlsd_str_list btls_alpn;	/* offered when the client negotiated none */
	char *btls_min_version;		/* NULL: TLSv1.2 */
	char *btls_ciphers;		/* OpenSSL syntax, as Node's tls.connect; NULL: Node's default */
	bool btls_session;		/* resume backend sessions; default true */
	enum tlsd_proxy_protocol proxy_protocol;	/* v1/v2 need a backend */
	long shutdown_timeout_ms;	/* >= 0, default 30000 */

	/* Operations. */
	char *control_listen;		/* after parse: default "127.0.0.1:8001"; "off"
					 * disables; else loopback TCP or "unix:/path" */
	char *control_token_file;	/* NULL = STATE_DIR/control.token */
	char *state_dir;		/* after parse: default BASE_DIR/tlsd-state */
	char *access_log;		/* after parse: "-" = stdout (default), "off" =
					 * none, or an absolute path */
	enum tlsd_log_format log_format;
	enum tlsd_log_level log_level;

	/* Service. */
	char *user;			/* workers' user name or uid; NULL = none given;
					 * "root" = explicitly the master's (root) */
	char *group;			/* workers' group; NULL = the user's primary group */
	char *pid_file;			/* absolute; NULL = none */
};

/* config_init: fill <cfg> with the defaults above (strings NULL, nothing
 * allocated: config_free is then a no-op). */
void config_init(struct tlsd_config *cfg);

/* config_free: release everything <cfg> owns (passphrases, ticket keys and
 * key values wiped first) and zero it. */
void config_free(struct tlsd_config *cfg);

/* config_parse_json: parse the JSON object <root> (not modified) into <cfg>,
 * which config_init made or which holds an earlier config. <base_dir>
 * resolves relative paths (NULL = current folder; a relative one is taken
 * from the current folder). The parse goes into a temporary struct: on
 * success the earlier contents of <cfg> are freed and replaced; on error
 * <cfg> is untouched and nothing leaks. Returns 0, TLSD_ERR_CONFIG with
 * <err> naming the key and the reason, e.g. "maxSendFragment: must be
 * between 512 and 16384, got 100", or TLSD_ERR_INTERNAL (out of memory). */
int config_parse_json(struct tlsd_config *cfg, json_t *root, const char *base_dir,
		      struct tlsd_error *err) TLSD_MUST_CHECK;

/* config_load: read the JSON file <path> (may be NULL: no file), merge the
 * object <overrides> (keys as in the file; may be NULL; not modified) over it
 * and parse the result into <cfg> as config_parse_json does, with base_dir =
 * the file's folder (the current folder without a file). An override key
 * replaces the file's value, except that when both are objects ("control",
 * "renegotiation", "sessionCache") the override's members are merged into
 * the file's. Errors: "FILE: No such file or directory", "FILE:3:14: <JSON
 * syntax error>" (a key repeated in one object is one too), "FILE: the top
 * level must be a JSON object, got array", then those of config_parse_json.
 * Atomic like config_parse_json. */
int config_load(struct tlsd_config *cfg, const char *path, json_t *overrides,
		struct tlsd_error *err) TLSD_MUST_CHECK;

/* config_peek_logging: the logFormat and logLevel a start should log with
 * while it loads the config (errors included), before config_load has
 * said whether the config is valid: <overrides>' (the command line's)
 * values, else the file <path>'s, else text and info. The file gets a
 * light look only: parsed as JSON when it is valid, else searched for
 * "logFormat": "json" and the like, so a syntax error elsewhere is still
 * reported in the format the file asks for. A value that is not one of
 * the names is ignored here (config_load reports it). Never fails. */
void config_peek_logging(const char *path, json_t *overrides, enum tlsd_log_format *format,
			 enum tlsd_log_level *level);

/* config_to_json: the effective config as a new JSON object (for --check):
 * every config key, in SPEC order, with its value after defaults (paths
 * absolute, minVersion/maxVersion as secureProtocol implies; null = not set,
 * e.g. "ciphers": null is Node's default list). Secrets (passphrases,
 * ticketKeys) are printed as "(set)" and inline PEM as "(inline PEM, N
 * bytes)". Caller owns it; NULL when out of memory. */
json_t *config_to_json(const struct tlsd_config *cfg);

/* The hostname of the context that replaces the default credentials at
 * runtime (Node's setSecureContext): POST /v1/contexts takes it, a config
 * "contexts" element does not (the top-level key/cert are the default). */
#define CONFIG_DEFAULT_CONTEXT "*"

/* config_parse_context: one SNI context object (the members of a
 * "contexts" element; POST /v1/contexts bodies) into <out>, with relative
 * paths resolved against <base_dir>. The hostname may be
 * CONFIG_DEFAULT_CONTEXT here. Errors name the member without a
 * prefix ("hostname: required", "key[0]: ..."). On error <out> is
 * untouched. Release with config_context_free. */
int config_parse_context(json_t *obj, const char *base_dir, struct tlsd_context_config *out,
			 struct tlsd_error *err) TLSD_MUST_CHECK;

/* config_context_free: release what <ctx> owns (secrets wiped) and zero it. */
void config_context_free(struct tlsd_context_config *ctx);

/* config_is_inline_pem: true when <value> is inline PEM, not a path. */
bool config_is_inline_pem(const char *value);

#endif
