/* api_contexts.c - list, add and remove SNI contexts. */
#include "ctl/api_contexts.h"

#include "master/contexts.h"

void api_contexts_list(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	json_t *list = contexts_list(env->contexts);

	if (list == NULL)
		api_reply_error(reply, 500, "internal", "out of memory");
	else
		api_reply_json(reply, 200, list);
}

/* add: contexts_add(<body>, which this takes), answered <status> when done. */
static void add(const struct api_env *env, json_t *body, int status, struct api_reply *reply)
{
	struct tlsd_error err = { "" };
	json_t *added = NULL;
	int rc;

	rc = contexts_add(env->contexts, body, &added, &err);
	json_decref(body);
	if (rc == TLSD_OK)
		api_reply_json(reply, status, added);
	else if (rc == TLSD_ERR_CONFIG)
		api_reply_error(reply, 400, "bad_field", "%s", err.msg);
	else
		api_reply_error(reply, 500, "internal", "%s", err.msg);
}

void api_contexts_add(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	static const char *const allowed[] = { "hostname", "key", "cert", "ca", "passphrase", "pfx", "ocsp", NULL };
	json_t *body = api_body_object(req, allowed, reply);

	if (body != NULL)
		add(env, body, 201, reply);
}

/* remove: contexts_remove(<hostname>), answered 204 or 404. */
static void remove_named(const struct api_env *env, const char *hostname, struct api_reply *reply)
{
	struct tlsd_error err = { "" };
	int rc = contexts_remove(env->contexts, hostname, &err);

	if (rc == TLSD_OK)
		api_reply_text(reply, 204, NULL, "");
	else if (rc == TLSD_ERR_CLOSED)
		api_reply_error(reply, 404, "not_found", "%s", err.msg);
	else
		api_reply_error(reply, 500, "internal", "%s", err.msg);
}

void api_contexts_remove(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	remove_named(env, req->param, reply);
}

void api_secure_context_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	json_t *d = contexts_default_json(env->contexts, env->creds);

	if (d == NULL)
		api_reply_error(reply, 500, "internal", "out of memory");
	else
		api_reply_json(reply, 200, d);
}

void api_secure_context_put(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	static const char *const allowed[] = { "key", "cert", "ca", "passphrase", "pfx", "ocsp", NULL };
	json_t *body = api_body_object(req, allowed, reply);

	if (body == NULL)
		return;
	if (json_object_set_new(body, "hostname", json_string(CONFIG_DEFAULT_CONTEXT)) < 0) {
		json_decref(body);
		api_reply_error(reply, 500, "internal", "out of memory");
		return;
	}
	add(env, body, 200, reply);
}

void api_secure_context_remove(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	remove_named(env, CONFIG_DEFAULT_CONTEXT, reply);
}
