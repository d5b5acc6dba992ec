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

void api_contexts_add(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	static const char *const allowed[] = { "hostname", "key", "cert", "ca", "passphrase", "pfx", "ocsp", NULL };
	struct tlsd_error err = { "" };
	json_t *body = api_body_object(req, allowed, reply);
	json_t *added = NULL;
	int rc;

	if (body == NULL)
		return;
	rc = contexts_add(env->contexts, body, &added, &err);
	json_decref(body);
	if (rc == TLSD_OK)
		api_reply_json(reply, 201, added);
	else if (rc == TLSD_ERR_CONFIG)
		api_reply_error(reply, 400, "bad_field", "%s", err.msg);
	else
		api_reply_error(reply, 500, "internal", "%s", err.msg);
}

void api_contexts_remove(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	struct tlsd_error err = { "" };
	int rc = contexts_remove(env->contexts, req->param, &err);

	if (rc == TLSD_OK)
		api_reply_text(reply, 204, NULL, "");
	else if (rc == TLSD_ERR_CLOSED)
		api_reply_error(reply, 404, "not_found", "%s", err.msg);
	else
		api_reply_error(reply, 500, "internal", "%s", err.msg);
}
