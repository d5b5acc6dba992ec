/* fuzz_api_bodies.c - control API request bodies on real shared state:
 * PUT /v1/ticket-keys, PUT /v1/ticket-keys/next, POST /v1/ticket-keys/rotate
 * and PUT /v1/max-connections, each with arbitrary bytes as its body. Every
 * answer is a status with a JSON error for anything but 2xx, and a refused
 * request changes nothing (the ring's generation, the connection limit). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cluster_stats.h"
#include "common/config.h"
#include "common/ticket_keys.h"
#include "ctl/api.h"
#include "ctl/api_server.h"
#include "ctl/api_ticket_keys.h"

static struct tlsd_config cfg;
static struct api_env env;

static void setup(void)
{
	static char dir[] = "/tmp/tlsd-fuzz-api-XXXXXX";
	unsigned char a[TICKET_KEYS_SIZE] = { 1 }, n[TICKET_KEYS_SIZE] = { 2 };
	struct ticket_ring ring;

	config_init(&cfg);
	cfg.state_dir = mkdtemp(dir);
	env.cfg = &cfg;
	ticket_ring_init(&ring, a, n, 1);
	if (cfg.state_dir == NULL || ticket_keys_create(&ring, &env.ticket_keys) < 0 ||
	    cluster_stats_create(2, 0, &env.stats) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const api_handler handlers[] = {
		api_ticket_keys_put, api_ticket_keys_put_next, api_ticket_keys_rotate, api_server_max_connections_put,
	};
	struct api_reply reply = { 0 };
	struct api_request req = { .method = "PUT", .path = "/", .param = NULL };
	char *body;
	uint64_t gen;
	long max;

	if (env.cfg == NULL)
		setup();
	if (size < 1)
		return 0;
	body = malloc(size);
	if (body == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	req.body = body;
	req.body_len = size - 1;
	gen = ticket_keys_generation(env.ticket_keys);
	max = cluster_stats_max_connections(env.stats);
	handlers[data[0] % 4](&env, &req, &reply);
	if (reply.status < 200 || reply.status > 599)
		abort();
	if (reply.status >= 300) {
		if (!json_is_object(json_object_get(reply.json, "error")))
			abort();
		if (ticket_keys_generation(env.ticket_keys) != gen || cluster_stats_max_connections(env.stats) != max)
			abort();	/* a refused request changed something */
	}
	api_reply_free(&reply);
	free(body);
	return 0;
}
