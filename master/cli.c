/* cli.c - command-line flags to config overrides. */
#include "master/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file_read.h"

enum cli_flag {
	FLAG_LISTEN = 256, FLAG_WORKERS, FLAG_KEY, FLAG_CERT, FLAG_CA, FLAG_CRL, FLAG_PFX,
	FLAG_PASSPHRASE, FLAG_DHPARAM, FLAG_BACKEND, FLAG_PROXY_PROTOCOL, FLAG_CONTROL,
	FLAG_STATE_DIR, FLAG_DEMO, FLAG_CHECK, FLAG_LOG_FORMAT, FLAG_LOG_LEVEL, FLAG_VERSION,
	FLAG_HELP, FLAG_PASSPHRASE_FILE, FLAG_USER, FLAG_GROUP, FLAG_PID_FILE,
};

#define PASSPHRASE_ENV "TLSD_PASSPHRASE"

static const struct option cli_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "listen", required_argument, NULL, FLAG_LISTEN },
	{ "workers", required_argument, NULL, FLAG_WORKERS },
	{ "key", required_argument, NULL, FLAG_KEY },
	{ "cert", required_argument, NULL, FLAG_CERT },
	{ "ca", required_argument, NULL, FLAG_CA },
	{ "crl", required_argument, NULL, FLAG_CRL },
	{ "pfx", required_argument, NULL, FLAG_PFX },
	{ "passphrase", required_argument, NULL, FLAG_PASSPHRASE },
	{ "passphrase-file", required_argument, NULL, FLAG_PASSPHRASE_FILE },
	{ "dhparam", required_argument, NULL, FLAG_DHPARAM },
	{ "backend", required_argument, NULL, FLAG_BACKEND },
	{ "proxy-protocol", required_argument, NULL, FLAG_PROXY_PROTOCOL },
	{ "control", required_argument, NULL, FLAG_CONTROL },
	{ "state-dir", required_argument, NULL, FLAG_STATE_DIR },
	{ "user", required_argument, NULL, FLAG_USER },
	{ "group", required_argument, NULL, FLAG_GROUP },
	{ "pid-file", required_argument, NULL, FLAG_PID_FILE },
	{ "demo", no_argument, NULL, FLAG_DEMO },
	{ "check", no_argument, NULL, FLAG_CHECK },
	{ "log-format", required_argument, NULL, FLAG_LOG_FORMAT },
	{ "log-level", required_argument, NULL, FLAG_LOG_LEVEL },
	{ "version", no_argument, NULL, FLAG_VERSION },
	{ "help", no_argument, NULL, FLAG_HELP },
	{ NULL, 0, NULL, 0 },
};

/* Flags that set one string-valued config key, and that key. */
static const struct {
	int flag;
	const char *key;
} string_keys[] = {
	{ FLAG_PFX, "pfx" },		{ FLAG_PASSPHRASE, "passphrase" },
	{ FLAG_DHPARAM, "dhparam" },	{ FLAG_BACKEND, "backend" },
	{ FLAG_PROXY_PROTOCOL, "proxyProtocol" }, { FLAG_STATE_DIR, "stateDir" },
	{ FLAG_LOG_FORMAT, "logFormat" }, { FLAG_LOG_LEVEL, "logLevel" },
	{ FLAG_USER, "user" },		{ FLAG_GROUP, "group" },
	{ FLAG_PID_FILE, "pidFile" },
};

/* Repeatable flags that append to an array-valued config key. */
static const struct {
	int flag;
	const char *key;
} array_keys[] = {
	{ FLAG_LISTEN, "listen" }, { FLAG_KEY, "key" }, { FLAG_CERT, "cert" },
	{ FLAG_CA, "ca" },	   { FLAG_CRL, "crl" },
};

static const char *flag_key(int flag, bool *is_array)
{
	for (size_t i = 0; i < sizeof(string_keys) / sizeof(string_keys[0]); i++)
		if (string_keys[i].flag == flag) {
			*is_array = false;
			return string_keys[i].key;
		}
	for (size_t i = 0; i < sizeof(array_keys) / sizeof(array_keys[0]); i++)
		if (array_keys[i].flag == flag) {
			*is_array = true;
			return array_keys[i].key;
		}
	return NULL;
}

/* Flags whose value is a file: relative to the current folder on the
 * command line (the config file's folder applies to the file's own keys). */
static bool is_path_flag(int flag)
{
	return flag == FLAG_KEY || flag == FLAG_CERT || flag == FLAG_CA || flag == FLAG_CRL ||
	       flag == FLAG_PFX || flag == FLAG_DHPARAM || flag == FLAG_STATE_DIR || flag == FLAG_PID_FILE;
}

/* flag_value: <value> as a JSON string, made absolute for path flags. */
static json_t *flag_value(int flag, const char *value)
{
	char cwd[4096];
	char *joined = NULL;
	json_t *result;

	if (!is_path_flag(flag) || value[0] == '/' || strncmp(value, "-----BEGIN", 10) == 0 ||
	    strcmp(value, "auto") == 0 || getcwd(cwd, sizeof(cwd)) == NULL)
		return json_string(value);
	if (asprintf(&joined, "%s/%s", cwd, value) < 0)
		return NULL;
	result = json_string(joined);
	free(joined);
	return result;
}

static int append_to_array(json_t *obj, const char *key, json_t *value)
{
	json_t *array = json_object_get(obj, key);

	if (array == NULL) {
		array = json_array();
		if (array == NULL || json_object_set_new(obj, key, array) < 0)
			return TLSD_ERR_INTERNAL;
	}
	return json_array_append_new(array, value) < 0 ? TLSD_ERR_INTERNAL : TLSD_OK;
}

static int set_workers(json_t *obj, const char *value, struct tlsd_error *err)
{
	char *end = NULL;
	long n = strtol(value, &end, 10);

	if (*value == '\0' || *end != '\0')
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "--workers: \"%s\" is not a number", value);
	/* The range is checked by the config parser, which names "workers". */
	return json_object_set_new(obj, "workers", json_integer(n)) < 0 ? TLSD_ERR_INTERNAL : TLSD_OK;
}

static int set_control(json_t *obj, const char *value)
{
	json_t *control = json_pack("{s:s}", "listen", value);

	return control == NULL || json_object_set_new(obj, "control", control) < 0
		       ? TLSD_ERR_INTERNAL : TLSD_OK;
}

static int set_passphrase(json_t *obj, const char *value)
{
	return json_object_set_new(obj, "passphrase", json_string(value)) < 0 ? TLSD_ERR_INTERNAL : TLSD_OK;
}

/* set_passphrase_file: "passphrase" from the first line of the file <path>
 * (its line end dropped), so the secret never shows in ps. */
static int set_passphrase_file(json_t *obj, const char *path, struct tlsd_error *err)
{
	struct tlsd_error why = { "" };
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (file_read(path, 0, &text, &len, &why) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "--passphrase-file: %s", why.msg);
	text[strcspn(text, "\r\n")] = '\0';
	rc = set_passphrase(obj, text);
	file_read_free(text, len);
	return rc;
}

/* passphrase_from_env: TLSD_PASSPHRASE when no flag gave a passphrase; the
 * variable is wiped and removed so the workers and the backend inherit
 * nothing. */
static int passphrase_from_env(json_t *obj)
{
	char *value = getenv(PASSPHRASE_ENV);
	int rc = TLSD_OK;

	if (value == NULL)
		return TLSD_OK;
	if (json_object_get(obj, "passphrase") == NULL)
		rc = set_passphrase(obj, value);
	explicit_bzero(value, strlen(value));
	unsetenv(PASSPHRASE_ENV);
	return rc;
}

/* wipe_arg: overwrite a secret flag value in the process's own argument
 * memory, which /proc/PID/cmdline (ps) shows, in the master and in every
 * worker forked from it. */
static void wipe_arg(char *value)
{
	explicit_bzero(value, strlen(value));
}

/* apply_flag: record one parsed flag <flag> with argument <value>. */
static int apply_flag(struct cli_args *out, int flag, const char *value, struct tlsd_error *err)
{
	bool is_array = false;
	const char *key = flag_key(flag, &is_array);

	if (key != NULL && is_array)
		return append_to_array(out->overrides, key, flag_value(flag, value));
	if (key != NULL)
		return json_object_set_new(out->overrides, key, flag_value(flag, value)) < 0
			       ? TLSD_ERR_INTERNAL : TLSD_OK;
	switch (flag) {
	case 'c': out->config_path = value; return TLSD_OK;
	case FLAG_WORKERS: return set_workers(out->overrides, value, err);
	case FLAG_CONTROL: return set_control(out->overrides, value);
	case FLAG_PASSPHRASE_FILE: return set_passphrase_file(out->overrides, value, err);
	case FLAG_DEMO:
		return json_object_set_new(out->overrides, "demo", json_true()) < 0
			       ? TLSD_ERR_INTERNAL : TLSD_OK;
	case FLAG_CHECK: out->check = true; return TLSD_OK;
	case FLAG_VERSION: out->version = true; return TLSD_OK;
	case FLAG_HELP: out->help = true; return TLSD_OK;
	default: return tlsd_error_set(err, TLSD_ERR_CONFIG, "unknown option (see --help)");
	}
}

int cli_parse(int argc, char **argv, struct cli_args *out, struct tlsd_error *err)
{
	int flag;
	int rc = TLSD_OK;

	memset(out, 0, sizeof(*out));
	out->overrides = json_object();
	if (out->overrides == NULL)
		return TLSD_ERR_INTERNAL;
	opterr = 0;
	optind = 1;
	while (rc == TLSD_OK && (flag = getopt_long(argc, argv, "c:", cli_options, NULL)) != -1) {
		if (flag == '?' || flag == ':')
			return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: unknown option or missing value (see --help)",
					      argv[optind - 1]);
		rc = apply_flag(out, flag, optarg, err);
		if (flag == FLAG_PASSPHRASE)
			wipe_arg(optarg);
	}
	if (rc == TLSD_OK)
		rc = passphrase_from_env(out->overrides);
	if (rc == TLSD_OK && optind < argc)
		rc = tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: unexpected argument (see --help)", argv[optind]);
	return rc;
}

void cli_args_free(struct cli_args *args)
{
	json_decref(args->overrides);
	args->overrides = NULL;
}

void cli_usage(FILE *out)
{
	fputs("Usage: tlsd [-c FILE] [options]\n"
	      "A multi-core TLS endpoint: echo (default) or forward to a backend.\n\n"
	      "  -c, --config FILE        JSON config file (keys as in tls.createServer)\n"
	      "      --listen [HOST:]PORT listen address, repeatable (default [::]:8000)\n"
	      "      --workers N          worker processes (default: online CPUs)\n"
	      "      --key FILE --cert FILE --ca FILE --crl FILE (repeatable)\n"
	      "      --pfx FILE --dhparam FILE\n"
	      "      --passphrase-file FILE  passphrase of encrypted keys and pfx: the file's\n"
	      "                           first line (or env TLSD_PASSPHRASE; --passphrase STR\n"
	      "                           works too and is wiped from ps once read)\n"
	      "      --backend ADDR       HOST:PORT or unix:/path (default: echo)\n"
	      "      --proxy-protocol v1|v2  send a PROXY header to the backend\n"
	      "      --control ADDR|off   control endpoint (default 127.0.0.1:8001)\n"
	      "      --state-dir DIR      control token and runtime changes\n"
	      "      --user USER --group GROUP  workers drop to them after fork (the master\n"
	      "                           keeps its identity; \"root\": stay root on purpose)\n"
	      "      --pid-file FILE      the master's pid, written once listening\n"
	      "      --demo               throwaway self-signed ECDSA certificate for localhost\n"
	      "      --check              validate (and that the files and folders a start\n"
	      "                           needs can be made), print the effective config, exit\n"
	      "      --log-format text|json  --log-level error|warn|info|debug\n"
	      "      --version, --help\n",
	      out);
}
