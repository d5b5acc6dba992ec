/* tlsctl_target.c - options, tlsd's config file and the token. */
#include "ctl/tlsctl_target.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/addr.h"

/* tlsd's defaults (common/config.c, docs/configuration.md). */
#define DEFAULT_CONTROL "127.0.0.1:8001"
#define DEFAULT_STATE_DIR "tlsd-state"
#define TOKEN_FILE_NAME "control.token"

/* absolute: <text> against <base> into <out>. */
static int absolute(const char *base, const char *text, char *out, const char *name, struct tlsd_error *err)
{
	int n;

	if (text[0] == '\0')
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: must not be empty", name);
	n = text[0] == '/' ? snprintf(out, TLSCTL_PATH_MAX, "%s", text)
			   : snprintf(out, TLSCTL_PATH_MAX, "%s/%s", base, text);
	if (n < 0 || n >= TLSCTL_PATH_MAX)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: path too long", name);
	return TLSD_OK;
}

static int current_dir(char *out, struct tlsd_error *err)
{
	if (getcwd(out, TLSCTL_PATH_MAX) == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "the current folder: %s", strerror(errno));
	return TLSD_OK;
}

/* config_dir: the folder of the config file <path>, absolute. */
static int config_dir(const char *path, char *out, struct tlsd_error *err)
{
	char *real = realpath(path, NULL);
	char *slash;

	if (real == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s", path, strerror(errno));
	slash = strrchr(real, '/');
	slash[slash == real ? 1 : 0] = '\0';	/* "/x.json" lives in "/" */
	snprintf(out, TLSCTL_PATH_MAX, "%s", real);
	free(real);
	return TLSD_OK;
}

/* member: the string <key> of <obj> into *<value> (NULL when absent). */
static int member(const char *file, json_t *obj, const char *key, const char *name, const char **value,
		  struct tlsd_error *err)
{
	json_t *v = json_object_get(obj, key);

	*value = NULL;
	if (v == NULL)
		return TLSD_OK;
	if (!json_is_string(v))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s: must be a string", file, name);
	*value = json_string_value(v);
	return TLSD_OK;
}

/* The members tlsctl reads from tlsd's config (views into the document). */
struct config_view {
	const char *listen, *token_file, *state_dir, *pid_file;
};

static int view_of(const char *file, json_t *root, struct config_view *v, struct tlsd_error *err)
{
	json_t *control = json_object_get(root, "control");

	if (!json_is_object(root))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: not a JSON object", file);
	if (control != NULL && !json_is_object(control))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: control: must be an object", file);
	GUARD(member(file, control, "listen", "control.listen", &v->listen, err));
	GUARD(member(file, control, "tokenFile", "control.tokenFile", &v->token_file, err));
	GUARD(member(file, root, "stateDir", "stateDir", &v->state_dir, err));
	return member(file, root, "pidFile", "pidFile", &v->pid_file, err);
}

/* apply_config: what the config file says, paths made absolute against
 * its folder. <state_dir> gets stateDir (or tlsd's default there). */
static int apply_config(const char *file, struct tlsctl_where *w, char *state_dir, char *token_file,
			struct tlsd_error *err)
{
	json_error_t jerr;
	json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	struct config_view v = { NULL, NULL, NULL, NULL };
	char base[TLSCTL_PATH_MAX];
	int rc;

	if (root == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: line %d: %s", file, jerr.line, jerr.text);
	GUARD_GOTO(config_dir(file, base, err), rc, out);
	GUARD_GOTO(view_of(file, root, &v, err), rc, out);
	if (v.listen != NULL)
		snprintf(w->control, sizeof(w->control), "%s", v.listen);
	GUARD_GOTO(absolute(base, v.state_dir ? v.state_dir : DEFAULT_STATE_DIR, state_dir, "stateDir", err), rc, out);
	if (v.token_file != NULL)
		GUARD_GOTO(absolute(base, v.token_file, token_file, "control.tokenFile", err), rc, out);
	if (v.pid_file != NULL)
		GUARD_GOTO(absolute(base, v.pid_file, w->pid_file, "pidFile", err), rc, out);
out:
	json_decref(root);
	return rc;
}

int tlsctl_resolve(const struct tlsctl_options *o, struct tlsctl_where *w, struct tlsd_error *err)
{
	char cwd[TLSCTL_PATH_MAX], state_dir[TLSCTL_PATH_MAX], token_file[TLSCTL_PATH_MAX] = "";

	memset(w, 0, sizeof(*w));
	snprintf(w->control, sizeof(w->control), "%s", DEFAULT_CONTROL);
	GUARD(current_dir(cwd, err));
	GUARD(absolute(cwd, DEFAULT_STATE_DIR, state_dir, "stateDir", err));
	if (o->config != NULL)
		GUARD(apply_config(o->config, w, state_dir, token_file, err));
	if (o->control != NULL)
		snprintf(w->control, sizeof(w->control), "%s", o->control);
	if (o->state_dir != NULL)
		GUARD(absolute(cwd, o->state_dir, state_dir, "--state-dir", err));
	if (o->pid_file != NULL)
		GUARD(absolute(cwd, o->pid_file, w->pid_file, "--pid-file", err));
	if (o->token_file != NULL)
		return absolute(cwd, o->token_file, w->token_file, "--token-file", err);
	/* As in tlsd: control.tokenFile, else the state dir's control.token. */
	if (token_file[0] != '\0') {
		snprintf(w->token_file, sizeof(w->token_file), "%s", token_file);
		return TLSD_OK;
	}
	return absolute(state_dir, TOKEN_FILE_NAME, w->token_file, "stateDir", err);
}

/* read_token: the first line of <path>, trailing white space cut. */
static int read_token(const char *path, char *token, struct tlsd_error *err)
{
	FILE *f = fopen(path, "re");
	size_t len;

	if (f == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "token file %s: %s", path, strerror(errno));
	if (fgets(token, TLSCTL_TOKEN_MAX, f) == NULL)
		token[0] = '\0';
	fclose(f);
	len = strcspn(token, "\n");
	while (len > 0 && isspace((unsigned char)token[len - 1]))
		len--;
	token[len] = '\0';
	if (len == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "token file %s: empty", path);
	return TLSD_OK;
}

int tlsctl_target_open(const struct tlsctl_where *w, long timeout_ms, bool with_token, struct tlsctl_target *t,
		       struct tlsd_error *err)
{
	struct tlsd_addr addr;
	struct tlsd_error why;

	memset(t, 0, sizeof(*t));
	t->timeout_ms = timeout_ms;
	if (strcmp(w->control, "off") == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "control.listen is off: tlsd serves no control endpoint");
	if (addr_parse(w->control, true, true, &addr, &why) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "control address %s: %s", w->control, why.msg);
	if (addr.kind == TLSD_ADDR_UNIX) {
		snprintf(t->unix_path, sizeof(t->unix_path), "%s", addr.path);
		snprintf(t->base_url, sizeof(t->base_url), "http://localhost");
		return TLSD_OK;
	}
	if (addr.port == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "control address %s: port 0 (tlsd picked one: give it with --control, "
				      "tlsd prints \"control ADDR\" at start)", w->control);
	if (strchr(addr.host, ':') != NULL)	/* IPv6: brackets in a URL */
		snprintf(t->base_url, sizeof(t->base_url), "http://[%s]:%d", addr.host, addr.port);
	else
		snprintf(t->base_url, sizeof(t->base_url), "http://%s:%d", addr.host, addr.port);
	return with_token ? read_token(w->token_file, t->token, err) : TLSD_OK;
}
