/* api_ticket_keys.c - read, replace and rotate the shared ticket keys. */
#include "ctl/api_ticket_keys.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "master/ticket_keys_state.h"

void api_ticket_keys_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	unsigned char keys[TICKET_KEYS_SIZE];
	char text[65];
	uint64_t generation = 0;

	if (ticket_keys_get(env->ticket_keys, keys, &generation) < 0) {
		api_reply_error(reply, 500, "internal", "ticket keys: no consistent copy could be read");
		return;
	}
	ticket_keys_encode(keys, text);
	gnutls_memset(keys, 0, sizeof(keys));
	api_reply_json(reply, 200, json_pack("{s:s, s:I}", "keys", text, "generation", (json_int_t)generation));
	gnutls_memset(text, 0, sizeof(text));
}

static void reply_generation(struct api_reply *reply, uint64_t generation)
{
	api_reply_json(reply, 200, json_pack("{s:I}", "generation", (json_int_t)generation));
}

/* replace_keys: on disk first (a restart keeps them), then published. */
static void replace_keys(const struct api_env *env, const unsigned char *keys, struct api_reply *reply)
{
	struct tlsd_error err = { "" };
	uint64_t generation = 0;

	if (ticket_keys_state_save(env->cfg, keys, &err) < 0)
		api_reply_error(reply, 500, "internal", "%s", err.msg);
	else if (ticket_keys_set(env->ticket_keys, keys, &generation) < 0)
		api_reply_error(reply, 500, "internal", "keys: cannot derive the ticket key");
	else
		reply_generation(reply, generation);
}

void api_ticket_keys_put(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	static const char *const allowed[] = { "keys", NULL };
	unsigned char keys[TICKET_KEYS_SIZE];
	struct tlsd_error err = { "" };
	json_t *body = api_body_object(req, allowed, reply);
	json_t *text;

	if (body == NULL)
		return;
	text = json_object_get(body, "keys");
	if (!json_is_string(text))
		api_reply_error(reply, 400, "bad_field", "keys: %s", text ? "must be a string" : "missing");
	else if (ticket_keys_decode(json_string_value(text), keys, "keys", &err) < 0)
		api_reply_error(reply, 400, "bad_field", "%s", err.msg);
	else
		replace_keys(env, keys, reply);
	gnutls_memset(keys, 0, sizeof(keys));
	json_decref(body);
}

void api_ticket_keys_rotate(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	static const char *const allowed[] = { NULL };
	unsigned char keys[TICKET_KEYS_SIZE];

	if (req->body_len > 0) {
		json_t *body = api_body_object(req, allowed, reply);

		if (body == NULL)
			return;
		json_decref(body);
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, keys, sizeof(keys)) < 0)
		api_reply_error(reply, 500, "internal", "ticket keys: no random bytes");
	else
		replace_keys(env, keys, reply);
	gnutls_memset(keys, 0, sizeof(keys));
}
