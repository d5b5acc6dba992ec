/* api_server.h - the server as a whole: health, bound addresses, the
 * connection limit and a graceful stop (Node's server.address(),
 * server.maxConnections, server.close()). */
#ifndef TLSD_CTL_API_SERVER_H
#define TLSD_CTL_API_SERVER_H

#include "ctl/api.h"

/* GET /healthz: "ok" (no token needed). */
void api_server_healthz(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* GET /v1/address: [{"address", "family", "port"}] per listener. */
void api_server_address(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* GET /v1/max-connections: {"maxConnections": n}. */
void api_server_max_connections_get(const struct api_env *env, const struct api_request *req,
				    struct api_reply *reply);

/* PUT /v1/max-connections {"maxConnections": n >= 0}: applies to every
 * connection accepted afterwards, in every worker; open ones stay. */
void api_server_max_connections_put(const struct api_env *env, const struct api_request *req,
				    struct api_reply *reply);

/* POST /v1/close: 202; once it is sent, the graceful stop SIGTERM starts. */
void api_server_close(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

#endif
