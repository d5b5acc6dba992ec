/* tlsctl.c - the command line for tlsd's control API (docs/tlsctl.1):
 * options, commands, and what the exit status says. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ctl/tlsctl_http.h"
#include "ctl/tlsctl_print.h"
#include "ctl/tlsctl_target.h"

/* Exit statuses: what failed (docs/tlsctl.1, EXIT STATUS). */
enum {
	EXIT_DONE = 0,		/* done */
	EXIT_USAGE = 1,		/* bad command line, config or token file, no pid file */
	EXIT_UNHEALTHY = 1,	/* health: 503, the body on stdout (a usage error prints none) */
	EXIT_UNREACHABLE = 2,	/* no answer: cannot connect, timed out; no tlsd at the pid */
	EXIT_AUTH = 3,		/* 401/403: no token, a wrong one, the read-only one; signal not permitted */
	EXIT_REFUSED = 4,	/* another 4xx: the server refused the request */
	EXIT_SERVER = 5,	/* 5xx, or an answer tlsctl cannot read */
};

#define FILES_MAX 4		/* --key and --cert each: RSA and ECDSA side by side, and more */
#define PASSPHRASE_MAX 4096
#define DEFAULT_TIMEOUT_MS 10000L

struct cli {
	struct tlsctl_options where;
	bool json;
	bool backend;		/* health --backend */
	const char *keys[FILES_MAX], *certs[FILES_MAX];
	size_t n_keys, n_certs;
	const char *ca, *passphrase_file;
	char **words;		/* the command and its arguments */
	int n_words;
};

struct run {
	const struct cli *cli;
	struct tlsctl_where where;
	struct tlsctl_target target;
};

typedef int (*command_fn)(struct run *r, char **args, int n);

/* How a command reaches tlsd. */
enum reach {
	BY_SIGNAL,		/* reload: SIGHUP to the pid in the pid file */
	BY_HTTP,		/* the control API, with the token */
	BY_HTTP_PUBLIC,		/* GET /healthz: no token, so a probe needs no token file */
};

struct command {
	const char *name, *sub;	/* "contexts", "add" */
	int min_args, max_args;
	enum reach reach;
	command_fn run;
};

static const char usage_text[] =
	"usage: tlsctl [OPTIONS] COMMAND [ARGS]\n"
	"commands:\n"
	"  stats                          counters since start\n"
	"  connections                    the connections the workers hold\n"
	"  ticket-keys                    the ticket-key ring (no key material)\n"
	"  ticket-keys rotate             next key active, a new next key\n"
	"  contexts                       the SNI contexts\n"
	"  contexts add HOST --key K --cert C [--ca F] [--passphrase-file F]\n"
	"  contexts rm HOST\n"
	"  max-connections [N]            read, or set (0 = unlimited)\n"
	"  reload                         SIGHUP to the master (needs pidFile)\n"
	"  stop                           graceful stop (POST /v1/close)\n"
	"  health [--backend]             GET /healthz (no token): 0 healthy, 1 unhealthy (503)\n"
	"options:\n"
	"  -c, --config FILE      tlsd's config: control.listen, control.tokenFile, stateDir, pidFile\n"
	"      --control ADDR     HOST:PORT or unix:/path (default 127.0.0.1:8001)\n"
	"      --state-dir DIR    where control.token is (default ./tlsd-state)\n"
	"      --token-file FILE  the token to send (e.g. STATE_DIR/control-readonly.token)\n"
	"      --pid-file FILE    the master's pid file, for reload\n"
	"      --timeout SECONDS  for the whole request (default 10)\n"
	"      --json             print the server's JSON as it is\n"
	"      --backend          health: the backend must be reachable too (?backend=1)\n"
	"  -h, --help\n"
	"exit status: 0 done, 1 usage or local setup (health: unhealthy), 2 no answer,\n"
	"             3 token refused, 4 request refused (4xx), 5 server error\n";

/* ---- talking to the endpoint ---- */

static int exit_for_status(long status)
{
	if (status >= 200 && status < 300)
		return EXIT_DONE;
	if (status == 401 || status == 403)
		return EXIT_AUTH;
	if (status >= 400 && status < 500)
		return EXIT_REFUSED;
	return EXIT_SERVER;
}

/* report_refusal: the server's error object on stderr, one line. */
static void report_refusal(const struct run *r, const char *method, const char *path,
			   const struct tlsctl_reply *reply)
{
	json_t *doc = json_loads(reply->body, 0, NULL);
	json_t *e = json_object_get(doc, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *message = json_string_value(json_object_get(e, "message"));

	if (code != NULL && message != NULL)
		fprintf(stderr, "tlsctl: %s %s: %ld %s: %s", method, path, reply->status, code, message);
	else
		fprintf(stderr, "tlsctl: %s %s: HTTP %ld: %.200s", method, path, reply->status, reply->body);
	if (reply->status == 401 && r->target.token[0] != '\0')
		fprintf(stderr, " (sent the token in %s)", r->where.token_file);
	fprintf(stderr, "\n");
	json_decref(doc);
}

/* send_request: <method> <path> with <body>; EXIT_DONE with <reply>
 * filled whatever its status, else (no answer, said on stderr) the exit
 * status for that. */
static int send_request(struct run *r, const char *method, const char *path, const char *body,
			struct tlsctl_reply *reply)
{
	struct tlsd_error err;
	int rc = tlsctl_request(&r->target, method, path, body, reply, &err);

	if (rc >= 0)
		return EXIT_DONE;
	fprintf(stderr, "tlsctl: %s %s: %s\n", method, path, err.msg);
	return rc == TLSD_ERR_IO ? EXIT_UNREACHABLE : EXIT_SERVER;
}

/* call: <method> <path> with <body>; the exit status it makes. With
 * --json the answer's body goes to stdout as it is and *<answer> stays
 * NULL; else a 2xx answer's JSON goes to *<answer> (NULL when empty). */
static int call(struct run *r, const char *method, const char *path, const char *body, json_t **answer)
{
	struct tlsctl_reply reply;
	int code;

	*answer = NULL;
	if ((code = send_request(r, method, path, body, &reply)) != EXIT_DONE)
		return code;
	code = exit_for_status(reply.status);
	if (r->cli->json)
		fwrite(reply.body, 1, reply.len, stdout);
	if (code != EXIT_DONE)
		report_refusal(r, method, path, &reply);
	else if (!r->cli->json && reply.len > 0 && (*answer = json_loads(reply.body, 0, NULL)) == NULL) {
		fprintf(stderr, "tlsctl: %s %s: the answer is not JSON\n", method, path);
		code = EXIT_SERVER;
	}
	tlsctl_reply_free(&reply);
	return code;
}

/* show: GET <path>, printed by <print> (or as is with --json). */
static int show(struct run *r, const char *path, int (*print)(json_t *, FILE *))
{
	json_t *answer = NULL;
	int code = call(r, "GET", path, NULL, &answer);

	if (code == EXIT_DONE && answer != NULL && print(answer, stdout) < 0) {
		fprintf(stderr, "tlsctl: out of memory\n");
		code = EXIT_SERVER;
	}
	json_decref(answer);
	return code;
}

/* ---- commands ---- */

static int cmd_stats(struct run *r, char **args, int n)
{
	return show(r, "/v1/stats", tlsctl_print_stats);
}

static int cmd_connections(struct run *r, char **args, int n)
{
	return show(r, "/v1/connections", tlsctl_print_connections);
}

static int cmd_ticket_keys(struct run *r, char **args, int n)
{
	return show(r, "/v1/ticket-keys", tlsctl_print_ticket_keys);
}

static int cmd_contexts(struct run *r, char **args, int n)
{
	return show(r, "/v1/contexts", tlsctl_print_contexts);
}

static int cmd_rotate(struct run *r, char **args, int n)
{
	json_t *answer = NULL;
	int code = call(r, "POST", "/v1/ticket-keys/rotate", NULL, &answer);

	if (code == EXIT_DONE && answer != NULL)
		printf("ticket keys rotated: generation %" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(answer, "generation")));
	json_decref(answer);
	return code;
}

static void print_max_connections(json_t *answer)
{
	json_int_t max = json_integer_value(json_object_get(answer, "maxConnections"));

	if (max == 0)
		printf("max connections: unlimited\n");
	else
		printf("max connections: %" JSON_INTEGER_FORMAT "\n", max);
}

/* parse_max: <text> as 0..2147483647, the range the server takes. */
static bool parse_max(const char *text, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(text, &end, 10);
	return errno == 0 && end != text && *end == '\0' && *out >= 0 && *out <= 0x7fffffff;
}

static int cmd_max_connections(struct run *r, char **args, int n)
{
	json_t *answer = NULL;
	char body[64];
	long long max;
	int code;

	if (n == 0) {
		code = call(r, "GET", "/v1/max-connections", NULL, &answer);
	} else if (!parse_max(args[0], &max)) {
		fprintf(stderr, "tlsctl: max-connections: \"%s\": a number from 0 (unlimited) to 2147483647\n",
			args[0]);
		return EXIT_USAGE;
	} else {
		snprintf(body, sizeof(body), "{\"maxConnections\":%lld}", max);
		code = call(r, "PUT", "/v1/max-connections", body, &answer);
	}
	if (code == EXIT_DONE && answer != NULL)
		print_max_connections(answer);
	json_decref(answer);
	return code;
}

static int cmd_stop(struct run *r, char **args, int n)
{
	json_t *answer = NULL;
	int code = call(r, "POST", "/v1/close", NULL, &answer);

	if (code == EXIT_DONE && !r->cli->json)
		printf("tlsd is stopping: no new connections; open ones finish (up to shutdownTimeout)\n");
	json_decref(answer);
	return code;
}

/* cmd_health: GET /healthz (?backend=1 with --backend); the body, text
 * also with --json, goes to stdout for 200 (exit 0) and 503 (exit 1); any
 * other answer is a failure as for every command. */
static int cmd_health(struct run *r, char **args, int n)
{
	const char *path = r->cli->backend ? "/healthz?backend=1" : "/healthz";
	struct tlsctl_reply reply;
	int code;

	if ((code = send_request(r, "GET", path, NULL, &reply)) != EXIT_DONE)
		return code;
	if (reply.status == 200 || reply.status == 503) {
		fwrite(reply.body, 1, reply.len, stdout);
		code = reply.status == 200 ? EXIT_DONE : EXIT_UNHEALTHY;
	} else {
		report_refusal(r, "GET", path, &reply);
		code = exit_for_status(reply.status);
	}
	tlsctl_reply_free(&reply);
	return code;
}

static int cmd_contexts_rm(struct run *r, char **args, int n)
{
	char *host = tlsctl_escape(args[0]);
	char path[1024];
	json_t *answer = NULL;
	int code;

	if (host == NULL)
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/contexts/%s", host);
	free(host);
	code = call(r, "DELETE", path, NULL, &answer);
	if (code == EXIT_DONE && !r->cli->json)
		printf("removed context %s\n", args[0]);
	json_decref(answer);
	return code;
}

/* absolute_file: <file> as the server must read it: tlsd does not share
 * tlsctl's current folder. Symbolic links stay (a renewed certificate
 * behind a link is read again at a restart). */
static json_t *absolute_file(const char *file)
{
	char cwd[TLSCTL_PATH_MAX], path[2 * TLSCTL_PATH_MAX];

	if (file[0] == '/')
		return json_string(file);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", cwd, file);
	return json_string(path);
}

/* files_json: one path as a string, several as an array (RSA and ECDSA
 * side by side), as the API takes them. */
static json_t *files_json(const char *const *files, size_t n)
{
	json_t *list;

	if (n == 1)
		return absolute_file(files[0]);
	list = json_array();
	for (size_t i = 0; list != NULL && i < n; i++)
		if (json_array_append_new(list, absolute_file(files[i])) < 0) {
			json_decref(list);
			list = NULL;
		}
	return list;
}

/* read_passphrase: the file's text without its final line break. */
static bool read_passphrase(const char *file, char *out, size_t size)
{
	FILE *f = fopen(file, "re");
	size_t len;

	if (f == NULL) {
		fprintf(stderr, "tlsctl: --passphrase-file %s: %s\n", file, strerror(errno));
		return false;
	}
	len = fread(out, 1, size - 1, f);
	fclose(f);
	out[len] = '\0';
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		out[--len] = '\0';
	return true;
}

/* context_body: the POST /v1/contexts body for <host>; NULL after saying
 * why on stderr. */
static json_t *context_body(const struct cli *cli, const char *host)
{
	char passphrase[PASSPHRASE_MAX];
	json_t *body = json_pack("{s:s, s:o, s:o}", "hostname", host, "key", files_json(cli->keys, cli->n_keys),
				 "cert", files_json(cli->certs, cli->n_certs));

	if (body != NULL && cli->ca != NULL && json_object_set_new(body, "ca", absolute_file(cli->ca)) < 0)
		goto fail;
	if (body != NULL && cli->passphrase_file != NULL) {
		if (!read_passphrase(cli->passphrase_file, passphrase, sizeof(passphrase)))
			goto fail;
		json_object_set_new(body, "passphrase", json_string(passphrase));
		explicit_bzero(passphrase, sizeof(passphrase));
	}
	if (body == NULL)
		fprintf(stderr, "tlsctl: out of memory\n");
	return body;
fail:
	json_decref(body);
	return NULL;
}

static int cmd_contexts_add(struct run *r, char **args, int n)
{
	json_t *body, *answer = NULL;
	char *text;
	int code;

	if (r->cli->n_keys == 0 || r->cli->n_certs == 0) {
		fprintf(stderr, "tlsctl: contexts add HOST needs --key and --cert\n");
		return EXIT_USAGE;
	}
	if ((body = context_body(r->cli, args[0])) == NULL)
		return EXIT_USAGE;
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);	/* the passphrase lives on in <text> only */
	if (text == NULL)
		return EXIT_USAGE;
	code = call(r, "POST", "/v1/contexts", text, &answer);
	explicit_bzero(text, strlen(text));
	free(text);
	if (code == EXIT_DONE && answer != NULL && tlsctl_print_contexts(answer, stdout) < 0)
		code = EXIT_SERVER;
	json_decref(answer);
	return code;
}

/* ---- reload: SIGHUP to the master ---- */

/* read_pid: the pid in <file>; an exit status when there is none. */
static int read_pid(const char *file, long *pid)
{
	FILE *f = fopen(file, "re");
	int got;

	if (f == NULL) {
		fprintf(stderr, "tlsctl: reload: pid file %s: %s (is tlsd running?)\n", file, strerror(errno));
		return errno == ENOENT ? EXIT_UNREACHABLE : EXIT_USAGE;
	}
	got = fscanf(f, "%ld", pid);
	fclose(f);
	if (got != 1 || *pid <= 1) {
		fprintf(stderr, "tlsctl: reload: pid file %s: holds no pid\n", file);
		return EXIT_UNREACHABLE;
	}
	return EXIT_DONE;
}

/* runs_tlsd: /proc says <pid> runs tlsd, or /proc cannot tell. A stale
 * pid file whose pid now runs another program must not get the signal. */
static bool runs_tlsd(long pid, char *comm, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	snprintf(comm, size, "?");
	if ((f = fopen(path, "re")) == NULL)
		return errno != ENOENT;
	if (fgets(comm, (int)size, f) == NULL)
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return strncmp(comm, "tlsd", 4) == 0;
}

static int send_hup(long pid)
{
	char comm[64];

	if (!runs_tlsd(pid, comm, sizeof(comm))) {
		fprintf(stderr, "tlsctl: reload: pid %ld %s, not tlsd (a stale pid file?)\n", pid,
			strcmp(comm, "?") == 0 ? "is not running" : "runs another program");
		return EXIT_UNREACHABLE;
	}
	if (kill((pid_t)pid, SIGHUP) == 0)
		return EXIT_DONE;
	fprintf(stderr, "tlsctl: reload: SIGHUP to pid %ld: %s\n", pid, strerror(errno));
	return errno == EPERM ? EXIT_AUTH : EXIT_UNREACHABLE;
}

static int cmd_reload(struct run *r, char **args, int n)
{
	long pid = 0;
	int code;

	if (r->where.pid_file[0] == '\0') {
		fprintf(stderr, "tlsctl: reload: the control API has no reload; tlsctl sends SIGHUP to the pid in "
			"tlsd's pid file: give it with --pid-file, or -c with a config that sets pidFile\n");
		return EXIT_USAGE;
	}
	if ((code = read_pid(r->where.pid_file, &pid)) != EXIT_DONE || (code = send_hup(pid)) != EXIT_DONE)
		return code;
	if (r->cli->json)
		printf("{\"signal\":\"SIGHUP\",\"pid\":%ld}\n", pid);
	else
		printf("sent SIGHUP to tlsd (pid %ld): it reloads its config; the outcome is in its log\n", pid);
	return EXIT_DONE;
}

/* ---- the command line ---- */

static const struct command commands[] = {
	{ "ticket-keys", "rotate", 0, 0, BY_HTTP, cmd_rotate },
	{ "contexts", "add", 1, 1, BY_HTTP, cmd_contexts_add },
	{ "contexts", "rm", 1, 1, BY_HTTP, cmd_contexts_rm },
	{ "stats", NULL, 0, 0, BY_HTTP, cmd_stats },
	{ "connections", NULL, 0, 0, BY_HTTP, cmd_connections },
	{ "ticket-keys", NULL, 0, 0, BY_HTTP, cmd_ticket_keys },
	{ "contexts", NULL, 0, 0, BY_HTTP, cmd_contexts },
	{ "max-connections", NULL, 0, 1, BY_HTTP, cmd_max_connections },
	{ "reload", NULL, 0, 0, BY_SIGNAL, cmd_reload },
	{ "stop", NULL, 0, 0, BY_HTTP, cmd_stop },
	{ "health", NULL, 0, 0, BY_HTTP_PUBLIC, cmd_health },
};

/* find_command: the command <words> name; *<args> is what follows it. */
static const struct command *find_command(char **words, int n, int *args)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		int used = c->sub != NULL ? 2 : 1;

		if (n < used || strcmp(words[0], c->name) != 0 || (c->sub != NULL && strcmp(words[1], c->sub) != 0))
			continue;
		*args = used;
		return c;
	}
	return NULL;
}

enum { OPT_CONTROL = 256, OPT_STATE_DIR, OPT_TOKEN_FILE, OPT_PID_FILE, OPT_TIMEOUT, OPT_JSON, OPT_KEY,
       OPT_CERT, OPT_CA, OPT_PASSPHRASE_FILE, OPT_BACKEND };

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "pid-file", required_argument, NULL, OPT_PID_FILE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE },
	{ "backend", no_argument, NULL, OPT_BACKEND },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool add_file(const char **files, size_t *n, const char *file, const char *option)
{
	if (*n == FILES_MAX) {
		fprintf(stderr, "tlsctl: %s: at most %d\n", option, FILES_MAX);
		return false;
	}
	files[(*n)++] = file;
	return true;
}

static bool set_timeout(struct cli *cli, const char *text)
{
	char *end;
	double s = strtod(text, &end);

	if (end == text || *end != '\0' || !(s > 0 && s <= 3600)) {
		fprintf(stderr, "tlsctl: --timeout: \"%s\": seconds, over 0 and up to 3600\n", text);
		return false;
	}
	cli->where.timeout_ms = (long)(s * 1000 + 0.5);
	return true;
}

/* take_option: option <opt> with <arg>; false on a bad one. */
static bool take_option(struct cli *cli, int opt, const char *arg)
{
	switch (opt) {
	case 'c': cli->where.config = arg; return true;
	case OPT_CONTROL: cli->where.control = arg; return true;
	case OPT_STATE_DIR: cli->where.state_dir = arg; return true;
	case OPT_TOKEN_FILE: cli->where.token_file = arg; return true;
	case OPT_PID_FILE: cli->where.pid_file = arg; return true;
	case OPT_TIMEOUT: return set_timeout(cli, arg);
	case OPT_JSON: cli->json = true; return true;
	case OPT_KEY: return add_file(cli->keys, &cli->n_keys, arg, "--key");
	case OPT_CERT: return add_file(cli->certs, &cli->n_certs, arg, "--cert");
	case OPT_CA: cli->ca = arg; return true;
	case OPT_PASSPHRASE_FILE: cli->passphrase_file = arg; return true;
	case OPT_BACKEND: cli->backend = true; return true;
	default: return false;
	}
}

/* parse_cli: options anywhere on the line (getopt permutes), the rest
 * the command. -1 when the exit status is decided (help, a bad option). */
static int parse_cli(int argc, char **argv, struct cli *cli)
{
	int opt;

	cli->where.timeout_ms = DEFAULT_TIMEOUT_MS;
	while ((opt = getopt_long(argc, argv, "c:h", long_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage_text, stdout);
			return EXIT_DONE;
		}
		if (!take_option(cli, opt, optarg)) {
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	cli->words = argv + optind;
	cli->n_words = argc - optind;
	return -1;
}

/* options_fit: --key, --cert, --ca and --passphrase-file belong to
 * contexts add only, --backend to health: elsewhere they would be
 * ignored, silently. */
static bool options_fit(const struct cli *cli, const struct command *c)
{
	bool any = cli->n_keys || cli->n_certs || cli->ca || cli->passphrase_file;

	if (any && c->run != cmd_contexts_add) {
		fprintf(stderr, "tlsctl: --key, --cert, --ca and --passphrase-file go with contexts add only\n");
		return false;
	}
	if (cli->backend && c->run != cmd_health) {
		fprintf(stderr, "tlsctl: --backend goes with health only\n");
		return false;
	}
	return true;
}

static int run_command(struct run *r, const struct command *c, char **args, int n)
{
	bool http = c->reach != BY_SIGNAL;
	struct tlsd_error err;
	int code;

	if (tlsctl_resolve(&r->cli->where, &r->where, &err) < 0 ||
	    (http && tlsctl_target_open(&r->where, r->cli->where.timeout_ms, c->reach == BY_HTTP, &r->target,
					&err) < 0)) {
		fprintf(stderr, "tlsctl: %s\n", err.msg);
		return EXIT_USAGE;
	}
	if (http && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "tlsctl: libcurl did not start\n");
		return EXIT_USAGE;
	}
	code = c->run(r, args, n);
	if (http)
		curl_global_cleanup();
	explicit_bzero(r->target.token, sizeof(r->target.token));
	return code;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	struct run r = { .cli = &cli };
	const struct command *c;
	int code = parse_cli(argc, argv, &cli), used = 0;

	if (code >= 0)
		return code;
	if (cli.n_words == 0 || (c = find_command(cli.words, cli.n_words, &used)) == NULL) {
		if (cli.n_words > 0)
			fprintf(stderr, "tlsctl: unknown command \"%s\"\n", cli.words[0]);
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (cli.n_words - used < c->min_args || cli.n_words - used > c->max_args) {
		fprintf(stderr, "tlsctl: %s%s%s: wrong number of arguments\n", c->name, c->sub ? " " : "",
			c->sub ? c->sub : "");
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!options_fit(&cli, c))
		return EXIT_USAGE;
	fflush(stdout);
	code = run_command(&r, c, cli.words + used, cli.n_words - used);
	return fflush(stdout) == 0 ? code : EXIT_USAGE;
}
