/* api_ticket_keys.c - read, replace, rotate and pre-install ticket keys. */
#include "ctl/api_ticket_keys.h"

#include <stdio.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "master/ring_sync.h"
#include "master/ticket_keys_state.h"

/* The operations on a ring snapshot; each answers false when it changes
 * nothing that may be changed (only set_next can). */
enum ring_op { OP_SET_ACTIVE, OP_SET_NEXT, OP_ROTATE };

static json_t *iso_time(int64_t secs)
{
	time_t t = (time_t)secs;
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *ring_json(const struct ticket_ring *ring)
{
	json_t *list = json_array();
	char id[17];

	for (size_t i = 0; list != NULL && i < ring->n; i++) {
		ticket_ring_id(ring->e[i].keys, id);
		json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "id", id, "state",
						      ticket_ring_state_name(ring->e[i].state), "createdAt",
						      iso_time(ring->e[i].created_at)));
	}
	return list;
}

void api_ticket_keys_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	struct ticket_ring ring;
	const struct ticket_ring_entry *active;
	char text[65];
	uint64_t generation = 0;

	if (ticket_keys_snapshot(env->ticket_keys, &ring, &generation) < 0 ||
	    (active = ticket_ring_active(&ring)) == NULL) {
		api_reply_error(reply, 500, "internal", "ticket keys: no consistent copy could be read");
		return;
	}
	ticket_keys_encode(active->keys, text);
	api_reply_json(reply, 200, json_pack("{s:s, s:I, s:o}", "keys", text, "generation", (json_int_t)generation,
					     "ring", ring_json(&ring)));
	gnutls_memset(text, 0, sizeof(text));
	ticket_ring_wipe(&ring);
}

static void reply_generation(struct api_reply *reply, uint64_t generation)
{
	api_reply_json(reply, 200, json_pack("{s:I}", "generation", (json_int_t)generation));
}

/* apply: the operation on a snapshot of the ring; false when it changed
 * nothing (a next key the ring holds already). */
static bool apply(struct ticket_ring *ring, enum ring_op op, const unsigned char *keys, size_t size)
{
	int64_t now = (int64_t)time(NULL);

	switch (op) {
	case OP_SET_ACTIVE: ticket_ring_set_active(ring, keys, now, size); return true;
	case OP_SET_NEXT: return ticket_ring_set_next(ring, keys, now);
	case OP_ROTATE: ticket_ring_rotate(ring, keys, now, size); return true;
	}
	return false;
}

/* change_ring: the new ring on disk first (a restart keeps it), then
 * published; on any failure neither changed. */
static void change_ring(const struct api_env *env, enum ring_op op, const unsigned char *keys, struct api_reply *reply)
{
	struct tlsd_error err = { "" };
	struct ticket_ring ring;
	uint64_t generation = 0;

	if (ticket_keys_snapshot(env->ticket_keys, &ring, NULL) < 0)
		api_reply_error(reply, 500, "internal", "ticket keys: no consistent copy could be read");
	else if (!apply(&ring, op, keys, (size_t)env->cfg->ticket_key_ring))
		api_reply_error(reply, 409, "conflict", "keys: the ring holds these keys already");
	else if (ticket_keys_state_save(env->cfg, &ring, &err) < 0)
		api_reply_error(reply, 500, "internal", "%s", err.msg);
	else if (ticket_keys_publish(env->ticket_keys, &ring, &generation) < 0)
		api_reply_error(reply, 500, "internal", "keys: cannot derive the ticket key");
	else {
		ring_sync_push(env->ring_sync, &ring);	/* the fleet, asynchronously */
		reply_generation(reply, generation);
	}
	ticket_ring_wipe(&ring);
}

/* put_keys: a body {"keys": base64 of 48 bytes} through <op>. */
static void put_keys(const struct api_env *env, const struct api_request *req, enum ring_op op,
		     struct api_reply *reply)
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
		change_ring(env, op, keys, reply);
	gnutls_memset(keys, 0, sizeof(keys));
	json_decref(body);
}

void api_ticket_keys_put(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	put_keys(env, req, OP_SET_ACTIVE, reply);
}

void api_ticket_keys_put_next(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	put_keys(env, req, OP_SET_NEXT, reply);
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
		change_ring(env, OP_ROTATE, keys, reply);
	gnutls_memset(keys, 0, sizeof(keys));
}
