/* test_config.c - unit tests of common/config.c.
 *
 * The group setup makes a temporary folder (mkdtemp) with empty stand-ins
 * for the files a config names (config.c only checks that they can be
 * read), a sub-folder "conf" for config_load's base folder, and a folder
 * "adir" to name where a file is expected. Error cases are tables of
 * {JSON, expected message substring}; "@" in either stands for the folder.
 * Every error case also checks that the struct it was given is untouched.
 * Build with -fsanitize=address to check that nothing leaks.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/err.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* base64 of 48 and of 32 bytes (0x00..0x2f, 0x00..0x1f). */
#define TICKET_48 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v"
#define TICKET_32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define INLINE_KEY "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ib2R5\n-----END PRIVATE KEY-----\n"

struct env {
	char dir[PATH_MAX / 4];		/* the temporary folder, absolute */
	char conf[PATH_MAX / 4 + 8];	/* dir/conf */
};

struct error_case {
	const char *json;
	const char *want;
};

/* ---- fixtures ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int group_setup(void **state)
{
	static const char *const files[] = { "key.pem", "cert.pem", "key2.pem", "cert2.pem",
					     "ca.pem", "crl.pem", "dh.pem", "server.p12",
					     "ocsp.der", "token" };
	struct env *e = calloc(1, sizeof(*e));
	char tmpl[] = "/tmp/tlsd-config-XXXXXX";
	char adir[PATH_MAX];

	if (e == NULL || mkdtemp(tmpl) == NULL || realpath(tmpl, e->dir) == NULL)
		return -1;
	snprintf(e->conf, sizeof(e->conf), "%s/conf", e->dir);
	snprintf(adir, sizeof(adir), "%s/adir", e->dir);
	if (mkdir(e->conf, 0700) < 0 || mkdir(adir, 0700) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		write_file(e->dir, files[i], "x\n");
		write_file(e->conf, files[i], "x\n");
	}
	*state = e;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int group_teardown(void **state)
{
	struct env *e = *state;
	int rc = nftw(e->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

	free(e);
	return rc;
}

/* ---- helpers ---- */

/* expand: <text> with every "@" replaced by <dir>, into <buf>. */
static const char *expand(const char *text, const char *dir, char *buf, size_t size)
{
	size_t used = 0;

	for (const char *c = text; *c && used + 1 < size; c++) {
		if (*c == '@')
			used += (size_t)snprintf(buf + used, size - used, "%s", dir);
		else
			buf[used++] = *c;
	}
	buf[used < size ? used : size - 1] = '\0';
	return buf;
}

/* load_json: <text> (after expand) as JSON; an object without credentials
 * gets "demo": true so that the case tests only what it names. */
static json_t *load_json(const struct env *e, const char *text)
{
	char buf[8192];
	json_error_t jerr;
	json_t *root = json_loads(expand(text, e->dir, buf, sizeof(buf)), JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);

	if (root == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	if (json_is_object(root) && !json_object_get(root, "key") && !json_object_get(root, "cert") &&
	    !json_object_get(root, "pfx") && !json_object_get(root, "demo"))
		json_object_set_new(root, "demo", json_true());
	return root;
}

/* parse_ok: parse <text> into the fresh <cfg>; the test fails on error. */
static void parse_ok(const struct env *e, const char *text, struct tlsd_config *cfg)
{
	struct tlsd_error err = { "" };
	json_t *root = load_json(e, text);
	int rc;

	config_init(cfg);
	rc = config_parse_json(cfg, root, e->dir, &err);
	json_decref(root);
	if (rc != 0)
		fail_msg("%s: unexpected error %d: %s", text, rc, err.msg);
}

/* expect_error: parsing <c>'s JSON fails with its message, and changes nothing. */
static void expect_error(const struct env *e, const struct error_case *c)
{
	struct tlsd_config cfg, pristine;
	struct tlsd_error err = { "" };
	char want[2048];
	json_t *root = load_json(e, c->json);
	int rc;

	config_init(&cfg);
	config_init(&pristine);
	rc = config_parse_json(&cfg, root, e->dir, &err);
	json_decref(root);
	expand(c->want, e->dir, want, sizeof(want));
	if (rc != TLSD_ERR_CONFIG || strstr(err.msg, want) == NULL)
		fail_msg("%s\n#   want: %s\n#   got:  rc %d, %s", c->json, want, rc, err.msg);
	assert_memory_equal(&cfg, &pristine, sizeof(cfg));
}

static void expect_errors(void **state, const struct error_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_error(*state, &cases[i]);
}

static const char *at(const struct env *e, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", e->dir, name);
	return buf;
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
	struct env *e = *state;
	struct tlsd_config cfg;
	char path[PATH_MAX];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	parse_ok(e, "{}", &cfg);
	assert_true(cfg.demo);
	assert_int_equal(cfg.workers, cpus < 1 ? 1 : cpus > 1024 ? 1024 : cpus);
	assert_int_equal(cfg.listen.n, 1);
	assert_string_equal(cfg.listen.items[0], "8000");
	assert_string_equal(cfg.base_dir, e->dir);
	assert_null(cfg.config_path);
	assert_int_equal(cfg.keys.n, 0);
	assert_int_equal(cfg.certs.n, 0);
	assert_null(cfg.pfx);
	assert_null(cfg.ciphers);
	assert_null(cfg.priority);
	assert_null(cfg.ecdh_curve);
	assert_null(cfg.min_version);
	assert_null(cfg.max_version);
	assert_null(cfg.secure_protocol);
	assert_true(cfg.honor_cipher_order);
	assert_false(cfg.request_cert);
	assert_true(cfg.reject_unauthorized);
	assert_int_equal(cfg.alpn.n, 0);
	assert_int_equal(cfg.handshake_timeout_ms, 120000);
	assert_int_equal(cfg.session_timeout_s, 300);
	assert_null(cfg.ticket_keys);
	assert_null(cfg.session_id_context);
	assert_int_equal(cfg.max_connections, 0);
	assert_int_equal(cfg.max_send_fragment, 16384);
	assert_int_equal(cfg.reneg_limit, 3);
	assert_int_equal(cfg.reneg_window_s, 600);
	assert_int_equal(cfg.session_cache_size, 20480);
	assert_int_equal(cfg.n_contexts, 0);
	assert_null(cfg.backend);
	assert_int_equal(cfg.proxy_protocol, TLSD_PROXY_OFF);
	assert_int_equal(cfg.shutdown_timeout_ms, 30000);
	assert_string_equal(cfg.control_listen, "127.0.0.1:8001");
	assert_null(cfg.control_token_file);
	assert_string_equal(cfg.state_dir, at(e, "tlsd-state", path, sizeof(path)));
	assert_string_equal(cfg.access_log, "-");
	assert_int_equal(cfg.log_format, TLSD_LOG_TEXT);
	assert_int_equal(cfg.log_level, TLSD_LOG_INFO);
	config_free(&cfg);
}

static void test_init_and_free(void **state)
{
	struct tlsd_config cfg, zero;

	config_init(&cfg);
	assert_true(cfg.honor_cipher_order);
	assert_null(cfg.control_listen);
	config_free(&cfg);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&cfg, &zero, sizeof(cfg));
	config_free(&cfg);	/* twice is fine */
}

/* JSON null stands for "absent": the default applies. */
static void test_null_is_absent(void **state)
{
	struct tlsd_config cfg;

	parse_ok(*state, "{\"workers\": null, \"maxSendFragment\": null, \"control\": null,"
		 " \"ciphers\": null, \"renegotiation\": {\"limit\": null}}", &cfg);
	assert_true(cfg.workers >= 1);
	assert_int_equal(cfg.max_send_fragment, 16384);
	assert_int_equal(cfg.reneg_limit, 3);
	assert_string_equal(cfg.control_listen, "127.0.0.1:8001");
	config_free(&cfg);
}

/* ---- values that parse ---- */

static void test_all_keys(void **state)
{
	struct env *e = *state;
	struct tlsd_config cfg;
	char path[PATH_MAX];

	parse_ok(e, "{\"listen\": [\"[::1]:8443\", \"127.0.0.1:0\", \"8444\"], \"workers\": 1024,"
		 " \"key\": [\"key.pem\", {\"pem\": \"key2.pem\", \"passphrase\": \"pw\"}],"
		 " \"cert\": [\"cert.pem\", \"@/cert2.pem\"], \"ca\": \"ca.pem\", \"crl\": [\"crl.pem\"],"
		 " \"passphrase\": \"top\", \"ciphers\": \"HIGH:!aNULL\", \"priority\": \"NORMAL\","
		 " \"ecdhCurve\": \"X25519:P-256\", \"dhparam\": \"dh.pem\", \"minVersion\": \"TLSv1.3\","
		 " \"maxVersion\": \"TLSv1.3\", \"honorCipherOrder\": false, \"requestCert\": true,"
		 " \"rejectUnauthorized\": false, \"ALPNProtocols\": [\"h2\", \"http/1.1\"],"
		 " \"NPNProtocols\": [\"spdy/3\"], \"handshakeTimeout\": 5000, \"sessionTimeout\": 604800,"
		 " \"ticketKeys\": \"" TICKET_48 "\", \"sessionIdContext\": \"abcdefghijklmnopqrstuvwxyz012345\","
		 " \"maxConnections\": 100, \"maxSendFragment\": 512,"
		 " \"renegotiation\": {\"limit\": 0, \"window\": 60}, \"sessionCache\": {\"size\": 0},"
		 " \"contexts\": [], \"ocsp\": \"ocsp.der\", \"backend\": \"unix:/run/app.sock\","
		 " \"proxyProtocol\": \"v1\", \"shutdownTimeout\": 0,"
		 " \"control\": {\"listen\": \"[::1]:9001\", \"tokenFile\": \"token\"},"
		 " \"stateDir\": \"/var/lib/tlsd\", \"accessLog\": \"logs/access.log\","
		 " \"logFormat\": \"json\", \"logLevel\": \"debug\", \"demo\": false}", &cfg);
	assert_int_equal(cfg.listen.n, 3);
	assert_string_equal(cfg.listen.items[0], "[::1]:8443");
	assert_string_equal(cfg.listen.items[2], "8444");
	assert_int_equal(cfg.workers, 1024);
	assert_int_equal(cfg.keys.n, 2);
	assert_string_equal(cfg.keys.items[0].value, at(e, "key.pem", path, sizeof(path)));
	assert_null(cfg.keys.items[0].passphrase);
	assert_string_equal(cfg.keys.items[1].value, at(e, "key2.pem", path, sizeof(path)));
	assert_string_equal(cfg.keys.items[1].passphrase, "pw");
	assert_string_equal(cfg.certs.items[1].value, at(e, "cert2.pem", path, sizeof(path)));
	assert_int_equal(cfg.ca.n, 1);
	assert_string_equal(cfg.ca.items[0].value, at(e, "ca.pem", path, sizeof(path)));
	assert_string_equal(cfg.crl.items[0].value, at(e, "crl.pem", path, sizeof(path)));
	assert_string_equal(cfg.passphrase, "top");
	assert_string_equal(cfg.ciphers, "HIGH:!aNULL");
	assert_string_equal(cfg.priority, "NORMAL");
	assert_string_equal(cfg.ecdh_curve, "X25519:P-256");
	assert_string_equal(cfg.dhparam, at(e, "dh.pem", path, sizeof(path)));
	assert_string_equal(cfg.min_version, "TLSv1.3");
	assert_string_equal(cfg.max_version, "TLSv1.3");
	assert_false(cfg.honor_cipher_order);
	assert_true(cfg.request_cert);
	assert_false(cfg.reject_unauthorized);
	assert_int_equal(cfg.alpn.n, 2);
	assert_string_equal(cfg.alpn.items[1], "http/1.1");
	assert_int_equal(cfg.npn.n, 1);
	assert_int_equal(cfg.handshake_timeout_ms, 5000);
	assert_int_equal(cfg.session_timeout_s, 604800);
	assert_string_equal(cfg.ticket_keys, TICKET_48);
	assert_string_equal(cfg.session_id_context, "abcdefghijklmnopqrstuvwxyz012345");
	assert_int_equal(cfg.max_connections, 100);
	assert_int_equal(cfg.max_send_fragment, 512);
	assert_int_equal(cfg.reneg_limit, 0);
	assert_int_equal(cfg.reneg_window_s, 60);
	assert_int_equal(cfg.session_cache_size, 0);
	assert_string_equal(cfg.ocsp, at(e, "ocsp.der", path, sizeof(path)));
	assert_string_equal(cfg.backend, "unix:/run/app.sock");
	assert_int_equal(cfg.proxy_protocol, TLSD_PROXY_V1);
	assert_int_equal(cfg.shutdown_timeout_ms, 0);
	assert_string_equal(cfg.control_listen, "[::1]:9001");
	assert_string_equal(cfg.control_token_file, at(e, "token", path, sizeof(path)));
	assert_string_equal(cfg.state_dir, "/var/lib/tlsd");
	assert_string_equal(cfg.access_log, at(e, "logs/access.log", path, sizeof(path)));
	assert_int_equal(cfg.log_format, TLSD_LOG_JSON);
	assert_int_equal(cfg.log_level, TLSD_LOG_DEBUG);
	assert_false(cfg.demo);
	config_free(&cfg);
}

static void test_single_values(void **state)
{
	struct env *e = *state;
	struct tlsd_config cfg;
	char path[PATH_MAX];

	parse_ok(e, "{\"listen\": \"9000\", \"key\": {\"pem\": \"key.pem\", \"passphrase\": \"\"},"
		 " \"cert\": \"cert.pem\", \"proxyProtocol\": \"v2\", \"backend\": \"localhost:80\"}", &cfg);
	assert_int_equal(cfg.listen.n, 1);
	assert_string_equal(cfg.listen.items[0], "9000");
	assert_int_equal(cfg.keys.n, 1);
	assert_string_equal(cfg.keys.items[0].value, at(e, "key.pem", path, sizeof(path)));
	assert_string_equal(cfg.keys.items[0].passphrase, "");
	assert_int_equal(cfg.certs.n, 1);
	assert_int_equal(cfg.proxy_protocol, TLSD_PROXY_V2);
	config_free(&cfg);
	parse_ok(e, "{\"pfx\": \"server.p12\", \"passphrase\": \"p\", \"ca\": [\"ca.pem\"]}", &cfg);
	assert_string_equal(cfg.pfx, at(e, "server.p12", path, sizeof(path)));
	assert_int_equal(cfg.keys.n, 0);
	config_free(&cfg);
	parse_ok(e, "{\"demo\": true, \"ca\": \"ca.pem\", \"crl\": \"crl.pem\"}", &cfg);
	assert_true(cfg.demo);
	assert_int_equal(cfg.ca.n, 1);
	config_free(&cfg);
}

static void test_paths(void **state)
{
	struct env *e = *state;
	struct tlsd_config cfg;
	struct tlsd_error err = { "" };
	char path[PATH_MAX], cwd[PATH_MAX];
	json_t *root;

	parse_ok(e, "{\"key\": \"./key.pem\", \"cert\": \"conf/../cert.pem\", \"ca\": \"@/ca.pem\","
		 " \"stateDir\": \"state\", \"accessLog\": \"off\"}", &cfg);
	assert_string_equal(cfg.keys.items[0].value, at(e, "key.pem", path, sizeof(path)));
	assert_string_equal(cfg.certs.items[0].value, at(e, "conf/../cert.pem", path, sizeof(path)));
	assert_string_equal(cfg.ca.items[0].value, at(e, "ca.pem", path, sizeof(path)));
	assert_string_equal(cfg.state_dir, at(e, "state", path, sizeof(path)));
	assert_string_equal(cfg.access_log, "off");
	config_free(&cfg);

	/* Inline PEM is kept byte for byte. */
	root = json_pack("{s:s, s:s}", "key", INLINE_KEY, "cert", "cert.pem");
	config_init(&cfg);
	assert_int_equal(config_parse_json(&cfg, root, e->dir, &err), 0);
	assert_string_equal(cfg.keys.items[0].value, INLINE_KEY);
	assert_true(config_is_inline_pem(cfg.keys.items[0].value));
	config_free(&cfg);

	/* base_dir NULL is the current folder; a relative one starts there. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(e->dir), 0);
	config_init(&cfg);
	assert_int_equal(config_parse_json(&cfg, root, NULL, &err), 0);
	assert_string_equal(cfg.base_dir, e->dir);
	assert_string_equal(cfg.certs.items[0].value, at(e, "cert.pem", path, sizeof(path)));
	assert_int_equal(config_parse_json(&cfg, root, "conf", &err), 0);
	assert_string_equal(cfg.base_dir, e->conf);
	assert_string_equal(cfg.certs.items[0].value, at(e, "conf/cert.pem", path, sizeof(path)));
	assert_int_equal(chdir(cwd), 0);
	config_free(&cfg);
	json_decref(root);
}

static void test_inline_pem(void **state)
{
	assert_true(config_is_inline_pem("-----BEGIN CERTIFICATE-----\n"));
	assert_false(config_is_inline_pem("cert.pem"));
	assert_false(config_is_inline_pem(" -----BEGIN"));
	assert_false(config_is_inline_pem(NULL));
}

static void test_versions_ok(void **state)
{
	static const char *const methods[] = { "TLS_method", "TLS_server_method", "SSLv23_method",
					       "SSLv23_server_method", "TLSv1_2_method",
					       "TLSv1_2_server_method" };
	struct tlsd_config cfg;
	char json[256];

	for (size_t i = 0; i < ARRAY_LEN(methods); i++) {
		snprintf(json, sizeof(json), "{\"secureProtocol\": \"%s\"}", methods[i]);
		parse_ok(*state, json, &cfg);
		assert_string_equal(cfg.secure_protocol, methods[i]);
		config_free(&cfg);
	}
	parse_ok(*state, "{\"minVersion\": \"TLSv1.2\", \"maxVersion\": \"TLSv1.2\"}", &cfg);
	config_free(&cfg);
	parse_ok(*state, "{\"minVersion\": \"TLSv1.3\"}", &cfg);
	config_free(&cfg);
	parse_ok(*state, "{\"maxVersion\": \"TLSv1.2\"}", &cfg);
	config_free(&cfg);
}

static void test_control_ok(void **state)
{
	static const char *const ok[] = { "off", "unix:/tmp/tlsd.sock", "127.0.0.1:1",
					  "127.9.8.7:65535", "[::1]:8001", "localhost:8001",
					  "LOCALHOST:1", "[::ffff:127.0.0.1]:5" };
	struct tlsd_config cfg;
	char json[256];

	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		snprintf(json, sizeof(json), "{\"control\": {\"listen\": \"%s\"}}", ok[i]);
		parse_ok(*state, json, &cfg);
		assert_string_equal(cfg.control_listen, ok[i]);
		config_free(&cfg);
	}
}

static void test_contexts_ok(void **state)
{
	struct env *e = *state;
	struct tlsd_config cfg;
	char path[PATH_MAX];

	parse_ok(e, "{\"contexts\": [{\"hostname\": \"*.Example.COM\", \"key\": \"key.pem\","
		 " \"cert\": \"cert.pem\", \"ca\": [\"ca.pem\"], \"ocsp\": \"ocsp.der\","
		 " \"passphrase\": \"cp\"},"
		 " {\"hostname\": \"a.example.com\", \"pfx\": \"server.p12\"},"
		 " {\"hostname\": \"localhost\", \"key\": [{\"pem\": \"key.pem\", \"passphrase\": \"k\"},"
		 " \"key2.pem\"], \"cert\": [\"cert.pem\", \"cert2.pem\"]}]}", &cfg);
	assert_int_equal(cfg.n_contexts, 3);
	assert_string_equal(cfg.contexts[0].hostname, "*.example.com");
	assert_string_equal(cfg.contexts[0].keys.items[0].value, at(e, "key.pem", path, sizeof(path)));
	assert_string_equal(cfg.contexts[0].ca.items[0].value, at(e, "ca.pem", path, sizeof(path)));
	assert_string_equal(cfg.contexts[0].ocsp, at(e, "ocsp.der", path, sizeof(path)));
	assert_string_equal(cfg.contexts[0].passphrase, "cp");
	assert_string_equal(cfg.contexts[1].pfx, at(e, "server.p12", path, sizeof(path)));
	assert_int_equal(cfg.contexts[2].keys.n, 2);
	assert_string_equal(cfg.contexts[2].keys.items[0].passphrase, "k");
	config_free(&cfg);
}

/* config_parse_context (the API's bodies) takes "*", the default
 * context, which a config "contexts" element may not be. */
static void test_parse_context_default(void **state)
{
	struct env *e = *state;
	struct tlsd_context_config ctx;
	struct tlsd_error err = { "" };
	json_t *body = json_pack("{s:s, s:s, s:s}", "hostname", "*", "key", "key.pem", "cert", "cert.pem");

	assert_int_equal(config_parse_context(body, e->dir, &ctx, &err), TLSD_OK);
	assert_string_equal(ctx.hostname, CONFIG_DEFAULT_CONTEXT);
	config_context_free(&ctx);
	json_object_set_new(body, "hostname", json_string("*x"));
	assert_int_equal(config_parse_context(body, e->dir, &ctx, &err), TLSD_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "hostname: \"*x\" is not a DNS name"));
	json_decref(body);
}

/* ---- errors ---- */

static void test_type_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "{\"maxSendFragment\": \"x\"}", "maxSendFragment: must be an integer, got string" },
		{ "{\"workers\": 1.5}", "workers: must be an integer, got number" },
		{ "{\"workers\": true}", "workers: must be an integer, got boolean" },
		{ "{\"honorCipherOrder\": 1}", "honorCipherOrder: must be a boolean, got integer" },
		{ "{\"requestCert\": \"yes\"}", "requestCert: must be a boolean, got string" },
		{ "{\"rejectUnauthorized\": []}", "rejectUnauthorized: must be a boolean, got array" },
		{ "{\"demo\": \"on\"}", "demo: must be a boolean, got string" },
		{ "{\"renegotiation\": 3}", "renegotiation: must be an object, got integer" },
		{ "{\"sessionCache\": []}", "sessionCache: must be an object, got array" },
		{ "{\"control\": \"off\"}", "control: must be an object, got string" },
		{ "{\"ciphers\": 5}", "ciphers: must be a string, got integer" },
		{ "{\"priority\": {}}", "priority: must be a string, got object" },
		{ "{\"passphrase\": 5, \"pfx\": \"server.p12\"}", "passphrase: must be a string, got integer" },
		{ "{\"ciphers\": \"a\\u0000b\"}", "ciphers: must not contain a NUL character" },
		{ "{\"listen\": 5}", "listen: must be a string or an array of strings, got integer" },
		{ "{\"listen\": [\"8443\", 5]}", "listen[1]: must be a string, got integer" },
		{ "{\"ca\": {}}", "ca: must be a string or an array of strings, got object" },
		{ "{\"crl\": [\"crl.pem\", null]}", "crl[1]: must be a string, got null" },
		{ "{\"ALPNProtocols\": \"h2\"}", "ALPNProtocols: must be an array of strings, got string" },
		{ "{\"ALPNProtocols\": [1]}", "ALPNProtocols[0]: must be a string, got integer" },
		{ "{\"NPNProtocols\": [\"a\", 1]}", "NPNProtocols[1]: must be a string, got integer" },
		{ "{\"contexts\": {}}", "contexts: must be an array of objects, got object" },
		{ "{\"contexts\": [5]}", "contexts[0]: must be an object, got integer" },
		{ "{\"stateDir\": 1}", "stateDir: must be a string, got integer" },
		{ "{\"logLevel\": 3}", "logLevel: must be a string, got integer" },
		{ "{\"ticketKeys\": 48}", "ticketKeys: must be a string, got integer" },
	};

	expect_errors(state, cases, ARRAY_LEN(cases));
}

static void test_unknown_keys(void **state)
{
	static const struct error_case cases[] = {
		{ "{\"unknownKey\": 1}", "unknownKey: unknown config key" },
		{ "{\"sesionTimeout\": 3}",
		  "sesionTimeout: unknown config key (did you mean \"sessionTimeout\"?)" },
		{ "{\"alpnProtocols\": []}", "(did you mean \"ALPNProtocols\"?)" },
		{ "{\"certs\": \"cert.pem\"}", "certs: unknown config key (did you mean \"cert\"?)" },
		{ "{\"control\": {\"lsten\": \"off\"}}",
		  "control.lsten: unknown config key (did you mean \"listen\"?)" },
		{ "{\"renegotiation\": {\"max\": 1}}", "renegotiation.max: unknown config key" },
		{ "{\"sessionCache\": {\"entries\": 1}}", "sessionCache.entries: unknown config key" },
		{ "{\"key\": [{\"pem\": \"key.pem\", \"pass\": \"x\"}], \"cert\": \"cert.pem\"}",
		  "key[0].pass: unknown config key" },
		{ "{\"contexts\": [{\"hostname\": \"a.com\", \"key\": \"key.pem\", \"cert\": \"cert.pem\","
		  " \"foo\": 1}]}", "contexts[0].foo: unknown config key" },
	};
	struct tlsd_config cfg;
	struct tlsd_error err = { "" };
	json_t *root = json_pack("{s:b, s:i}", "demo", 1, "zzzzzzzzzzzzzzzz", 1);

	expect_errors(state, cases, ARRAY_LEN(cases));
	/* No hint for a name close to nothing. */
	config_init(&cfg);
	assert_int_equal(config_parse_json(&cfg, root, NULL, &err), TLSD_ERR_CONFIG);
	assert_string_equal(err.msg, "zzzzzzzzzzzzzzzz: unknown config key");
	json_decref(root);
}

static void test_range_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "{\"workers\": 0}", "workers: must be between 1 and 1024, got 0" },
		{ "{\"workers\": 1025}", "workers: must be between 1 and 1024, got 1025" },
		{ "{\"workers\": 99999999999999}", "workers: must be between 1 and 1024, got 99999999999999" },
		{ "{\"maxSendFragment\": 100}", "maxSendFragment: must be between 512 and 16384, got 100" },
		{ "{\"maxSendFragment\": 16385}", "maxSendFragment: must be between 512 and 16384, got 16385" },
		{ "{\"maxHandshakeSize\": 4095}", "maxHandshakeSize: must be between 4096 and 16777215, got 4095" },
		{ "{\"sessionStore\": {\"prefix\": \"x\"}}", "sessionStore: \"redis\" is missing (the store's address)" },
		{ "{\"sessionStore\": {\"redis\": \"127.0.0.1:6379\", \"db\": -1}}", "sessionStore.db: must be between 0 and 1000000, got -1" },
		{ "{\"ticketKeyRing\": 9}", "ticketKeyRing: must be between 2 and 8, got 9" },
		{ "{\"handshakeTimeout\": 0}", "handshakeTimeout: must be at least 1, got 0" },
		{ "{\"handshakeTimeout\": 2147483648}", "handshakeTimeout: must be between 1 and 2147483647" },
		{ "{\"sessionTimeout\": 0}", "sessionTimeout: must be between 1 and 604800, got 0" },
		{ "{\"sessionTimeout\": 604801}", "sessionTimeout: must be between 1 and 604800, got 604801" },
		{ "{\"maxConnections\": -1}", "maxConnections: must be at least 0, got -1" },
		{ "{\"shutdownTimeout\": -5}", "shutdownTimeout: must be at least 0, got -5" },
		{ "{\"renegotiation\": {\"limit\": 17}}", "renegotiation.limit: must be between 0 and 16, got 17" },
		{ "{\"renegotiation\": {\"limit\": -1}}", "renegotiation.limit: must be between 0 and 16, got -1" },
		{ "{\"renegotiation\": {\"window\": 0}}", "renegotiation.window: must be at least 1, got 0" },
		{ "{\"sessionCache\": {\"size\": -1}}", "sessionCache.size: must be at least 0, got -1" },
	};

	expect_errors(state, cases, ARRAY_LEN(cases));
}

static void test_string_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "{\"ciphers\": \"\"}", "ciphers: must not be empty" },
		{ "{\"priority\": \"\"}", "priority: must not be empty" },
		{ "{\"ecdhCurve\": \"\"}", "ecdhCurve: must not be empty" },
		{ "{\"sessionIdContext\": \"\"}", "sessionIdContext: must not be empty" },
		{ "{\"sessionIdContext\": \"abcdefghijklmnopqrstuvwxyz0123456\"}",
		  "sessionIdContext: is 33 bytes long, at most 32 allowed" },
		{ "{\"ALPNProtocols\": [\"h2\", \"\"]}", "ALPNProtocols[1]: must not be empty" },
		{ "{\"ticketKeys\": \"!!!!\"}", "ticketKeys: not valid base64" },
		{ "{\"ticketKeys\": \"\"}", "ticketKeys: not valid base64" },
		{ "{\"ticketKeys\": \"" TICKET_32 "\"}", "ticketKeys: decodes to 32 bytes, must be 48" },
		{ "{\"proxyProtocol\": \"v3\"}", "proxyProtocol: must be one of off, v1, v2; got \"v3\"" },
		{ "{\"logFormat\": \"xml\"}", "logFormat: must be one of text, json; got \"xml\"" },
		{ "{\"logLevel\": \"verbose\"}",
		  "logLevel: must be one of error, warn, info, debug; got \"verbose\"" },
		{ "{\"proxyProtocol\": \"v2\"}", "proxyProtocol: v2 needs a backend" },
		{ "{\"proxyProtocol\": \"v1\", \"backend\": null}", "proxyProtocol: v1 needs a backend" },
		{ "{\"backend\": \"8080\"}", "backend: " },
		{ "{\"backend\": \"unix:app.sock\"}", "backend: unix socket path \"app.sock\" must be absolute" },
		{ "{\"backend\": \"\"}", "backend: address is empty" },
		{ "{\"listen\": []}", "listen: must list at least one address" },
		{ "{\"listen\": \"host:port\"}", "listen: port \"port\" is not a number" },
		{ "{\"listen\": [\"8443\", \"1.2.3.4:70000\"]}", "listen[1]: port \"70000\" is out of range" },
		{ "{\"listen\": \"unix:/tmp/x.sock\"}", "listen: " },
	};
	static const char long_name[] = "{\"ALPNProtocols\": [\"%0256d\"]}";
	struct error_case too_long = { NULL, "ALPNProtocols[0]: is 256 bytes long, at most 255 allowed" };
	char json[512];

	expect_errors(state, cases, ARRAY_LEN(cases));
	snprintf(json, sizeof(json), long_name, 0);
	too_long.json = json;
	expect_error(*state, &too_long);
}

static void test_version_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "{\"minVersion\": \"TLSv9\"}", "minVersion: \"TLSv9\" is not a valid minimum TLS protocol version" },
		{ "{\"maxVersion\": \"tls1.3\"}", "maxVersion: \"tls1.3\" is not a valid maximum TLS protocol version" },
		{ "{\"minVersion\": \"TLSv1.1\"}",
		  "minVersion: TLSv1.1 is not supported (tlsd serves TLS 1.2 and TLS 1.3)" },
		{ "{\"minVersion\": \"TLSv1\"}", "minVersion: TLSv1 is not supported" },
		{ "{\"maxVersion\": \"TLSv1.1\"}", "maxVersion: TLSv1.1 is not supported" },
		{ "{\"minVersion\": \"TLSv1.3\", \"maxVersion\": \"TLSv1.2\"}",
		  "minVersion: TLSv1.3 is above maxVersion TLSv1.2" },
		{ "{\"secureProtocol\": \"TLSv1_2_method\", \"minVersion\": \"TLSv1.2\"}",
		  "minVersion: TLS protocol version \"TLSv1.2\" conflicts with secureProtocol \"TLSv1_2_method\"" },
		{ "{\"maxVersion\": \"TLSv1.3\", \"secureProtocol\": \"TLS_method\"}",
		  "maxVersion: TLS protocol version \"TLSv1.3\" conflicts with secureProtocol \"TLS_method\"" },
		{ "{\"secureProtocol\": \"TLSv1_method\"}", "secureProtocol: TLSv1_method is not supported" },
		{ "{\"secureProtocol\": \"TLSv1_1_server_method\"}",
		  "secureProtocol: TLSv1_1_server_method is not supported" },
		{ "{\"secureProtocol\": \"SSLv3_method\"}", "secureProtocol: SSLv3_method is not supported" },
		{ "{\"secureProtocol\": \"TLS_client_method\"}",
		  "secureProtocol: TLS_client_method is a client method" },
		{ "{\"secureProtocol\": \"TLSv1_3_method\"}", "secureProtocol: unknown method \"TLSv1_3_method\"" },
		{ "{\"secureProtocol\": \"\"}", "secureProtocol: unknown method \"\"" },
	};

	expect_errors(state, cases, ARRAY_LEN(cases));
}

static void test_path_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "{\"key\": \"key.pem\", \"cert\": \"missing.pem\"}",
		  "cert: @/missing.pem: No such file or directory" },
		{ "{\"key\": \"/nonexistent/k.pem\", \"cert\": \"cert.pem\"}",
		  "key: /nonexistent/k.pem: No such file or directory" },
		{ "{\"key\": \"\", \"cert\": \"cert.pem\"}", "key: must not be empty" },
		{ "{\"ca\": [\"ca.pem\", \"adir\"]}", "ca[1]: @/adir: Is a directory" },
		{ "{\"crl\": \"nope.pem\"}", "crl: @/nope.pem: No such file or directory" },
		{ "{\"dhparam\": \"nope.pem\"}", "dhparam: @/nope.pem: No such file or directory" },
		{ "{\"pfx\": \"nope.p12\"}", "pfx: @/nope.p12: No such file or directory" },
		{ "{\"pfx\": \"-----BEGIN PKCS12-----\"}", "pfx: must be a file path, not inline PEM" },
		{ "{\"ocsp\": \"adir\"}", "ocsp: @/adir: Is a directory" },
		{ "{\"control\": {\"tokenFile\": \"missing\"}}",
		  "control.tokenFile: @/missing: No such file or directory" },
		{ "{\"stateDir\": \"\"}", "stateDir: must not be empty" },
		{ "{\"accessLog\": \"\"}", "accessLog: must not be empty" },
		{ "{\"key\": [\"key.pem\", \"gone.pem\"], \"cert\": [\"cert.pem\", \"cert2.pem\"]}",
		  "key[1]: @/gone.pem: No such file or directory" },
		{ "{\"key\": {\"pem\": \"gone.pem\"}, \"cert\": \"cert.pem\"}",
		  "key.pem: @/gone.pem: No such file or directory" },
	};

	expect_errors(state, cases, ARRAY_LEN(cases));
}

static void test_credential_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "{\"demo\": false}", "key: required (or pfx, or --demo)" },
		{ "{\"key\": [], \"cert\": []}", "key: required (or pfx, or --demo)" },
		{ "{\"key\": \"key.pem\"}", "cert: required with key" },
		{ "{\"cert\": \"cert.pem\"}", "key: required with cert" },
		{ "{\"key\": [\"key.pem\", \"key2.pem\"], \"cert\": [\"cert.pem\"]}",
		  "cert: 2 keys but 1 certificate" },
		{ "{\"key\": \"key.pem\", \"cert\": [\"cert.pem\", \"cert2.pem\"]}",
		  "cert: 1 key but 2 certificates" },
		{ "{\"pfx\": \"server.p12\", \"key\": \"key.pem\", \"cert\": \"cert.pem\"}",
		  "pfx: cannot be combined with key or cert" },
		{ "{\"demo\": true, \"key\": \"key.pem\", \"cert\": \"cert.pem\"}",
		  "demo: cannot be combined with key, cert or pfx" },
		{ "{\"demo\": true, \"pfx\": \"server.p12\"}", "demo: cannot be combined with key, cert or pfx" },
		{ "{\"key\": 5, \"cert\": \"cert.pem\"}",
		  "key: must be a string, an object {pem, passphrase} or an array of those, got integer" },
		{ "{\"key\": [\"key.pem\", {\"pem\": \"key2.pem\", \"passphrase\": 2}],"
		  " \"cert\": [\"cert.pem\", \"cert2.pem\"]}", "key[1].passphrase: must be a string, got integer" },
		{ "{\"key\": [{\"passphrase\": \"x\"}], \"cert\": \"cert.pem\"}", "key[0].pem: required" },
		{ "{\"key\": [{\"pem\": 1}], \"cert\": \"cert.pem\"}", "key[0].pem: must be a string, got integer" },
		{ "{\"key\": [[\"key.pem\"]], \"cert\": \"cert.pem\"}", "key[0]: must be a string, got array" },
	};

	expect_errors(state, cases, ARRAY_LEN(cases));
}

static void test_context_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "{\"contexts\": [{\"key\": \"key.pem\", \"cert\": \"cert.pem\"}]}",
		  "contexts[0].hostname: required" },
		{ "{\"contexts\": [{\"hostname\": 5}]}", "contexts[0].hostname: must be a string, got integer" },
		{ "{\"contexts\": [{\"hostname\": \"a..b\"}]}",
		  "contexts[0].hostname: \"a..b\" is not a DNS name, a \"*.name\" wildcard or \"*\" "
		  "(the default certificate)" },
		{ "{\"contexts\": [{\"hostname\": \"\"}]}", "contexts[0].hostname: \"\" is not a DNS name" },
		{ "{\"contexts\": [{\"hostname\": \"*\", \"key\": \"key.pem\", \"cert\": \"cert.pem\"}]}",
		  "contexts[0].hostname: \"*\" is the default certificate: give it as the top-level key and cert" },
		{ "{\"contexts\": [{\"hostname\": \"**\"}]}", "contexts[0].hostname: \"**\" is not a DNS name" },
		{ "{\"contexts\": [{\"hostname\": \"*.*.example.com\"}]}", "is not a DNS name" },
		{ "{\"contexts\": [{\"hostname\": \"a.*.com\"}]}", "is not a DNS name" },
		{ "{\"contexts\": [{\"hostname\": \"-a.com\"}]}", "is not a DNS name" },
		{ "{\"contexts\": [{\"hostname\": \"a.com.\"}]}", "is not a DNS name" },
		{ "{\"contexts\": [{\"hostname\": \"a b.com\"}]}", "is not a DNS name" },
		{ "{\"contexts\": [{\"hostname\": \"a.com\"}]}", "contexts[0].key: required (or pfx)" },
		{ "{\"contexts\": [{\"hostname\": \"a.com\", \"key\": \"key.pem\"}]}",
		  "contexts[0].cert: required with key" },
		{ "{\"contexts\": [{\"hostname\": \"a.com\", \"pfx\": \"server.p12\", \"cert\": \"cert.pem\"}]}",
		  "contexts[0].pfx: cannot be combined with key or cert" },
		{ "{\"contexts\": [{\"hostname\": \"a.com\", \"key\": [\"key.pem\", \"key2.pem\"],"
		  " \"cert\": \"cert.pem\"}]}", "contexts[0].cert: 2 keys but 1 certificate" },
		{ "{\"contexts\": [{\"hostname\": \"a.com\", \"pfx\": \"server.p12\"},"
		  " {\"hostname\": \"A.COM\", \"pfx\": \"server.p12\"}]}",
		  "contexts[1].hostname: \"a.com\" is already used by contexts[0]" },
		{ "{\"contexts\": [{\"hostname\": \"a.com\", \"pfx\": \"server.p12\"},"
		  " {\"hostname\": \"b.com\", \"key\": [\"key.pem\", {\"pem\": \"key2.pem\", \"passphrase\": 1}],"
		  " \"cert\": [\"cert.pem\", \"cert2.pem\"]}]}",
		  "contexts[1].key[1].passphrase: must be a string, got integer" },
		{ "{\"contexts\": [{\"hostname\": \"a.com\", \"pfx\": \"server.p12\", \"ocsp\": \"no.der\"}]}",
		  "contexts[0].ocsp: @/no.der: No such file or directory" },
		{ "{\"contexts\": [{\"hostname\": \"a.com\", \"pfx\": \"server.p12\", \"passphrase\": []}]}",
		  "contexts[0].passphrase: must be a string, got array" },
	};

	expect_errors(state, cases, ARRAY_LEN(cases));
}

static void test_control_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "{\"control\": {\"listen\": \"0.0.0.0:8001\"}}",
		  "control.listen: \"0.0.0.0:8001\" is not a loopback address" },
		{ "{\"control\": {\"listen\": \"8001\"}}", "control.listen: \"8001\" is not a loopback address" },
		{ "{\"control\": {\"listen\": \"[::]:8001\"}}", "is not a loopback address" },
		{ "{\"control\": {\"listen\": \"10.0.0.1:8001\"}}", "is not a loopback address" },
		{ "{\"control\": {\"listen\": \"example.com:8001\"}}", "is not a loopback address" },
		{ "{\"control\": {\"listen\": \"unix:rel.sock\"}}",
		  "control.listen: unix socket path \"rel.sock\" must be absolute" },
		{ "{\"control\": {\"listen\": 8001}}", "control.listen: must be a string, got integer" },
		{ "{\"control\": {\"tokenFile\": \"-----BEGIN X\"}}",
		  "control.tokenFile: must be a file path, not inline PEM" },
	};

	expect_errors(state, cases, ARRAY_LEN(cases));
}

static void test_root_must_be_object(void **state)
{
	static const struct error_case cases[] = {
		{ "[1, 2]", "config: must be a JSON object, got array" },
		{ "\"x\"", "config: must be a JSON object, got string" },
	};

	expect_errors(state, cases, ARRAY_LEN(cases));
}

/* ---- atomicity ---- */

static void test_failed_parse_keeps_old_config(void **state)
{
	struct env *e = *state;
	struct tlsd_config cfg, before;
	struct tlsd_error err = { "" };
	char path[PATH_MAX];
	json_t *bad = load_json(e, "{\"key\": [\"key.pem\", \"key2.pem\"], \"cert\": [\"cert.pem\", "
				"\"cert2.pem\"], \"ALPNProtocols\": [\"h2\"], \"contexts\": [{\"hostname\": "
				"\"a.com\", \"pfx\": \"server.p12\"}, {\"hostname\": \"b.com\", \"key\": "
				"\"key.pem\", \"cert\": \"cert.pem\", \"ca\": [\"ca.pem\", \"nope\"]}]}");

	parse_ok(e, "{\"workers\": 3, \"key\": \"key.pem\", \"cert\": \"cert.pem\", \"passphrase\": \"p\"}",
		 &cfg);
	before = cfg;
	assert_int_equal(config_parse_json(&cfg, bad, e->dir, &err), TLSD_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "contexts[1].ca[1]: "));
	assert_memory_equal(&cfg, &before, sizeof(cfg));
	assert_int_equal(cfg.workers, 3);
	assert_string_equal(cfg.keys.items[0].value, at(e, "key.pem", path, sizeof(path)));
	assert_string_equal(cfg.passphrase, "p");
	json_decref(bad);

	/* A good parse replaces the old contents (ASan: no leak of them). */
	bad = load_json(e, "{\"workers\": 5}");
	assert_int_equal(config_parse_json(&cfg, bad, e->dir, &err), 0);
	assert_int_equal(cfg.workers, 5);
	assert_int_equal(cfg.keys.n, 0);
	assert_true(cfg.demo);
	json_decref(bad);
	config_free(&cfg);
}

static void test_failed_load_keeps_old_config(void **state)
{
	struct env *e = *state;
	struct tlsd_config cfg, before;
	struct tlsd_error err = { "" };
	json_t *over = json_pack("{s:b, s:i}", "demo", 1, "maxSendFragment", 1);

	parse_ok(e, "{\"workers\": 2}", &cfg);
	before = cfg;
	assert_int_equal(config_load(&cfg, NULL, over, &err), TLSD_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "maxSendFragment: must be between 512 and 16384, got 1"));
	assert_memory_equal(&cfg, &before, sizeof(cfg));
	assert_int_equal(config_load(&cfg, "/nonexistent/tlsd.json", over, &err), TLSD_ERR_CONFIG);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
	json_decref(over);
	config_free(&cfg);
}

/* ---- config_load ---- */

/* conf_file: write <text> as conf/<name>; its path into <buf>. */
static const char *conf_file(const struct env *e, const char *name, const char *text, char *buf,
			     size_t size)
{
	write_file(e->conf, name, text);
	snprintf(buf, size, "%s/%s", e->conf, name);
	return buf;
}

static void test_load_file(void **state)
{
	struct env *e = *state;
	struct tlsd_config cfg;
	struct tlsd_error err = { "" };
	char file[PATH_MAX], path[PATH_MAX], cwd[PATH_MAX];

	conf_file(e, "ok.json", "{\"key\": \"key.pem\", \"cert\": \"cert.pem\", \"stateDir\": \"st\"}",
		  file, sizeof(file));
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, file, NULL, &err), 0);
	assert_string_equal(cfg.config_path, file);
	assert_string_equal(cfg.base_dir, e->conf);
	snprintf(path, sizeof(path), "%s/key.pem", e->conf);
	assert_string_equal(cfg.keys.items[0].value, path);
	snprintf(path, sizeof(path), "%s/st", e->conf);
	assert_string_equal(cfg.state_dir, path);

	/* A relative file name: its folder still comes out absolute. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(e->dir), 0);
	assert_int_equal(config_load(&cfg, "conf/ok.json", NULL, &err), 0);
	assert_string_equal(cfg.config_path, file);
	assert_string_equal(cfg.base_dir, e->conf);
	assert_int_equal(chdir(cwd), 0);
	config_free(&cfg);
}

static void test_load_without_file(void **state)
{
	struct env *e = *state;
	struct tlsd_config cfg;
	struct tlsd_error err = { "" };
	char cwd[PATH_MAX], path[PATH_MAX];
	json_t *over = json_pack("{s:[s], s:[s]}", "key", "key.pem", "cert", "cert.pem");

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(e->dir), 0);
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, NULL, over, &err), 0);
	assert_null(cfg.config_path);
	assert_string_equal(cfg.base_dir, e->dir);
	assert_string_equal(cfg.keys.items[0].value, at(e, "key.pem", path, sizeof(path)));
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, NULL, NULL, &err), TLSD_ERR_CONFIG);
	assert_string_equal(err.msg, "key: required (or pfx, or --demo)");
	assert_int_equal(chdir(cwd), 0);
	json_decref(over);
}

static void expect_load_error(const struct env *e, const char *file, json_t *over, const char *want)
{
	struct tlsd_config cfg, pristine;
	struct tlsd_error err = { "" };
	int rc;

	config_init(&cfg);
	config_init(&pristine);
	rc = config_load(&cfg, file, over, &err);
	if (rc != TLSD_ERR_CONFIG || strstr(err.msg, want) == NULL)
		fail_msg("%s\n#   want: %s\n#   got:  rc %d, %s", file, want, rc, err.msg);
	assert_memory_equal(&cfg, &pristine, sizeof(cfg));
}

static void test_load_errors(void **state)
{
	struct env *e = *state;
	char file[PATH_MAX], want[PATH_MAX + 64];

	conf_file(e, "syntax.json", "{\n  \"workers\": 2,\n  \"demo\": tru\n}\n", file, sizeof(file));
	snprintf(want, sizeof(want), "%s:3:", file);
	expect_load_error(e, file, NULL, want);
	expect_load_error(e, file, NULL, "invalid token");

	conf_file(e, "array.json", "[1, 2]", file, sizeof(file));
	snprintf(want, sizeof(want), "%s: the top level must be a JSON object, got array", file);
	expect_load_error(e, file, NULL, want);

	conf_file(e, "empty.json", "", file, sizeof(file));
	snprintf(want, sizeof(want), "%s:", file);
	expect_load_error(e, file, NULL, want);

	conf_file(e, "dup.json", "{\"demo\": true, \"workers\": 1, \"workers\": 2}", file, sizeof(file));
	expect_load_error(e, file, NULL, "duplicate object key");

	snprintf(file, sizeof(file), "%s/missing.json", e->conf);
	snprintf(want, sizeof(want), "%s: No such file or directory", file);
	expect_load_error(e, file, NULL, want);

	conf_file(e, "bad.json", "{\"demo\": true, \"sessionTimeout\": \"5\"}", file, sizeof(file));
	expect_load_error(e, file, NULL, "sessionTimeout: must be an integer, got string");
}

static void test_load_merge(void **state)
{
	struct env *e = *state;
	struct tlsd_config cfg;
	struct tlsd_error err = { "" };
	char file[PATH_MAX], path[PATH_MAX];
	json_t *over = json_pack("{s:{s:s}, s:i, s:[s], s:{s:i}, s:{s:i}, s:n, s:s}",
				 "control", "listen", "unix:/tmp/tlsd-ctl.sock", "workers", 3,
				 "listen", "2.2.2.2:2", "sessionCache", "size", 5,
				 "renegotiation", "limit", 1, "ciphers", "logLevel", "warn");
	char *before = json_dumps(over, JSON_SORT_KEYS);

	conf_file(e, "merge.json", "{\"demo\": true, \"workers\": 2, \"listen\": [\"1.1.1.1:1\"],"
		  " \"control\": {\"listen\": \"127.0.0.1:9001\", \"tokenFile\": \"token\"},"
		  " \"sessionCache\": {\"size\": 1}, \"renegotiation\": {\"window\": 60},"
		  " \"ciphers\": \"HIGH\"}", file, sizeof(file));
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, file, over, &err), 0);
	assert_string_equal(cfg.control_listen, "unix:/tmp/tlsd-ctl.sock");
	snprintf(path, sizeof(path), "%s/token", e->conf);
	assert_string_equal(cfg.control_token_file, path);	/* kept from the file */
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.listen.n, 1);
	assert_string_equal(cfg.listen.items[0], "2.2.2.2:2");
	assert_int_equal(cfg.session_cache_size, 5);
	assert_int_equal(cfg.reneg_limit, 1);
	assert_int_equal(cfg.reneg_window_s, 60);		/* kept from the file */
	assert_null(cfg.ciphers);				/* null override: default */
	assert_int_equal(cfg.log_level, TLSD_LOG_WARN);
	config_free(&cfg);

	/* The overrides are only read. */
	{
		char *after = json_dumps(over, JSON_SORT_KEYS);

		assert_string_equal(before, after);
		free(after);
	}
	free(before);
	json_decref(over);

	/* An override that is not an object replaces the file's object, and is checked. */
	over = json_pack("{s:s}", "control", "off");
	expect_load_error(e, file, over, "control: must be an object, got string");
	json_decref(over);
	over = json_pack("{s:{s:s}}", "control", "listen", "0.0.0.0:1");
	expect_load_error(e, file, over, "control.listen: \"0.0.0.0:1\" is not a loopback address");
	json_decref(over);
}

/* ---- config_to_json ---- */

static void test_to_json_hides_secrets(void **state)
{
	struct env *e = *state;
	struct tlsd_config cfg;
	struct tlsd_error err = { "" };
	json_t *root = load_json(e, "{\"key\": [\"key.pem\", {\"pem\": \"key2.pem\", \"passphrase\": \"kpass-1\"}],"
				 " \"cert\": [\"cert.pem\", \"cert2.pem\"], \"passphrase\": \"top-secret-2\","
				 " \"ticketKeys\": \"" TICKET_48 "\", \"contexts\": [{\"hostname\": \"a.com\","
				 " \"pfx\": \"server.p12\", \"passphrase\": \"ctx-pass-3\"}]}");
	json_t *out, *key;
	char *text;
	char inline_text[64];

	json_array_set_new(json_object_get(root, "key"), 0, json_string(INLINE_KEY));
	config_init(&cfg);
	assert_int_equal(config_parse_json(&cfg, root, e->dir, &err), 0);
	out = config_to_json(&cfg);
	assert_non_null(out);
	text = json_dumps(out, 0);
	assert_null(strstr(text, "kpass-1"));
	assert_null(strstr(text, "top-secret-2"));
	assert_null(strstr(text, "ctx-pass-3"));
	assert_null(strstr(text, "AAECAwQF"));
	assert_null(strstr(text, "c2VjcmV0"));
	assert_string_equal(json_string_value(json_object_get(out, "passphrase")), "(set)");
	assert_string_equal(json_string_value(json_object_get(out, "ticketKeys")), "(set)");
	key = json_object_get(out, "key");
	snprintf(inline_text, sizeof(inline_text), "(inline PEM, %zu bytes)", strlen(INLINE_KEY));
	assert_string_equal(json_string_value(json_array_get(key, 0)), inline_text);
	assert_string_equal(json_string_value(json_object_get(json_array_get(key, 1), "passphrase")), "(set)");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(out, "contexts"), 0), "passphrase")), "(set)");
	free(text);
	json_decref(out);
	json_decref(root);
	config_free(&cfg);
}

static void test_to_json_effective(void **state)
{
	static const char *const keys[] = {
		"listen", "workers", "key", "cert", "ca", "crl", "pfx", "passphrase", "ciphers",
		"priority", "ecdhCurve", "dhparam", "minVersion", "maxVersion", "secureProtocol",
		"honorCipherOrder", "requestCert", "rejectUnauthorized", "ALPNProtocols",
		"NPNProtocols", "handshakeTimeout", "sessionTimeout", "ticketKeys", "ticketKeyRing", "sessionIdContext",
		"maxConnections", "maxSendFragment", "maxHandshakeSize", "renegotiation", "sessionCache", "sessionStore", "contexts",
		"ocsp", "backend", "proxyProtocol", "shutdownTimeout", "control", "stateDir",
		"accessLog", "user", "group", "pidFile", "logFormat", "logLevel", "demo",
	};
	struct env *e = *state;
	struct tlsd_config cfg;
	char path[PATH_MAX];
	json_t *out;
	size_t i = 0;
	const char *k;
	json_t *v;

	parse_ok(e, "{\"key\": \"key.pem\", \"cert\": \"cert.pem\", \"secureProtocol\": \"TLSv1_2_method\"}",
		 &cfg);
	out = config_to_json(&cfg);
	assert_non_null(out);
	assert_int_equal(json_object_size(out), ARRAY_LEN(keys));
	json_object_foreach(out, k, v)
		assert_string_equal(k, keys[i++]);	/* every key, in SPEC order */
	assert_string_equal(json_string_value(json_array_get(json_object_get(out, "listen"), 0)), "8000");
	assert_string_equal(json_string_value(json_array_get(json_object_get(out, "cert"), 0)),
			    at(e, "cert.pem", path, sizeof(path)));
	assert_true(json_is_null(json_object_get(out, "passphrase")));
	assert_true(json_is_null(json_object_get(out, "ticketKeys")));
	assert_true(json_is_null(json_object_get(out, "ciphers")));
	assert_string_equal(json_string_value(json_object_get(out, "ecdhCurve")), "auto");
	assert_string_equal(json_string_value(json_object_get(out, "minVersion")), "TLSv1.2");
	assert_string_equal(json_string_value(json_object_get(out, "maxVersion")), "TLSv1.2");
	assert_true(json_is_true(json_object_get(out, "honorCipherOrder")));
	assert_true(json_is_true(json_object_get(out, "rejectUnauthorized")));
	assert_int_equal(json_integer_value(json_object_get(out, "handshakeTimeout")), 120000);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "renegotiation"),
							    "window")), 600);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "sessionCache"),
							    "size")), 20480);
	assert_string_equal(json_string_value(json_object_get(out, "proxyProtocol")), "off");
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "control"),
							      "listen")), "127.0.0.1:8001");
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "control"),
							      "tokenFile")),
			    at(e, "tlsd-state/control.token", path, sizeof(path)));
	assert_string_equal(json_string_value(json_object_get(out, "stateDir")),
			    at(e, "tlsd-state", path, sizeof(path)));
	assert_string_equal(json_string_value(json_object_get(out, "accessLog")), "-");
	assert_string_equal(json_string_value(json_object_get(out, "logFormat")), "text");
	assert_string_equal(json_string_value(json_object_get(out, "logLevel")), "info");
	assert_true(json_is_false(json_object_get(out, "demo")));
	json_decref(out);
	config_free(&cfg);

	parse_ok(e, "{\"minVersion\": \"TLSv1.3\"}", &cfg);
	out = config_to_json(&cfg);
	assert_string_equal(json_string_value(json_object_get(out, "minVersion")), "TLSv1.3");
	assert_string_equal(json_string_value(json_object_get(out, "maxVersion")), "TLSv1.3");
	json_decref(out);
	config_free(&cfg);
}

/* ---- config_peek_logging ---- */

/* peek: config_peek_logging of conf/peek.json holding <text> (NULL: no
 * file) and the overrides <json> (NULL: none), as "format level". */
static const char *peek(const struct env *e, const char *text, const char *json)
{
	static const char *const formats[] = { "text", "json" };
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	static char out[32];
	char file[PATH_MAX];
	json_t *overrides = json ? json_loads(json, 0, NULL) : NULL;
	enum tlsd_log_format format = TLSD_LOG_JSON;
	enum tlsd_log_level level = TLSD_LOG_DEBUG;

	config_peek_logging(text ? conf_file(e, "peek.json", text, file, sizeof(file)) : NULL, overrides,
			    &format, &level);
	json_decref(overrides);
	snprintf(out, sizeof(out), "%s %s", formats[format], levels[level]);
	return out;
}

static void test_peek_logging(void **state)
{
	struct env *e = *state;
	char missing[PATH_MAX];
	enum tlsd_log_format format = TLSD_LOG_JSON;
	enum tlsd_log_level level = TLSD_LOG_DEBUG;

	assert_string_equal(peek(e, NULL, NULL), "text info");
	assert_string_equal(peek(e, "{}", NULL), "text info");
	assert_string_equal(peek(e, "{\"logFormat\": \"json\", \"logLevel\": \"warn\"}", NULL), "json warn");
	/* Errors elsewhere in the file do not matter ... */
	assert_string_equal(peek(e, "{\"logFormat\": \"json\", \"bogus\": 1, \"workers\": -5}", NULL), "json info");
	/* ... not even JSON syntax errors: the raw text is searched. */
	assert_string_equal(peek(e, "{\n  \"logLevel\" :\n \"error\",\n  \"logFormat\":\"json\",,\n", NULL),
			    "json error");
	assert_string_equal(peek(e, "{\"logFormat\": \"jsonx\",,}", NULL), "text info");
	assert_string_equal(peek(e, "[\"logFormat\", \"json\"]", NULL), "text info");
	/* Values that are not names, or not strings, are left to config_load. */
	assert_string_equal(peek(e, "{\"logFormat\": \"yaml\", \"logLevel\": 3}", NULL), "text info");
	assert_string_equal(peek(e, "{\"logFormat\": \"JSON\"}", NULL), "text info");
	/* The command line wins over the file, key by key. */
	assert_string_equal(peek(e, "{\"logFormat\": \"json\", \"logLevel\": \"warn\"}", "{\"logFormat\": \"text\"}"),
			    "text warn");
	assert_string_equal(peek(e, "{\"logFormat\": \"text\"}", "{\"logFormat\": \"json\", \"logLevel\": \"debug\"}"),
			    "json debug");
	assert_string_equal(peek(e, NULL, "{\"logFormat\": \"json\"}"), "json info");
	assert_string_equal(peek(e, "{\"logFormat\": \"json\"}", "{\"logFormat\": \"bad\"}"), "json info");
	/* A file that cannot be read: the defaults. */
	snprintf(missing, sizeof(missing), "%s/no-such.json", e->conf);
	config_peek_logging(missing, NULL, &format, &level);
	assert_int_equal(format, TLSD_LOG_TEXT);
	assert_int_equal(level, TLSD_LOG_INFO);
	config_peek_logging(e->conf, NULL, &format, &level);	/* a folder */
	assert_int_equal(format, TLSD_LOG_TEXT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_init_and_free),
		cmocka_unit_test(test_null_is_absent),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_single_values),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_inline_pem),
		cmocka_unit_test(test_versions_ok),
		cmocka_unit_test(test_control_ok),
		cmocka_unit_test(test_contexts_ok),
		cmocka_unit_test(test_parse_context_default),
		cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_range_errors),
		cmocka_unit_test(test_string_errors),
		cmocka_unit_test(test_version_errors),
		cmocka_unit_test(test_path_errors),
		cmocka_unit_test(test_credential_errors),
		cmocka_unit_test(test_context_errors),
		cmocka_unit_test(test_control_errors),
		cmocka_unit_test(test_root_must_be_object),
		cmocka_unit_test(test_failed_parse_keeps_old_config),
		cmocka_unit_test(test_failed_load_keeps_old_config),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_without_file),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_merge),
		cmocka_unit_test(test_to_json_hides_secrets),
		cmocka_unit_test(test_to_json_effective),
		cmocka_unit_test(test_peek_logging),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
