/* api_contexts.h - /v1/contexts: SNI contexts at runtime (Node's
 * addContext), and /v1/secure-context: the default one (setSecureContext). When POST or DELETE answers 2xx, every worker serves the
 * change from its next accepted connection on (master/contexts.h). */
#ifndef TLSD_CTL_API_CONTEXTS_H
#define TLSD_CTL_API_CONTEXTS_H

#include "ctl/api.h"

/* GET /v1/contexts: every context with its certificates, never keys. */
void api_contexts_list(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* POST /v1/contexts {"hostname", "key", "cert", "ca"?, "passphrase"?,
 * "pfx"?, "ocsp"?}: 201 with the new context's description; 400 naming
 * the field (bad PEM, a key that does not match its certificate, ...). */
void api_contexts_add(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* DELETE /v1/contexts/{hostname}: 204, or 404 when there is none. */
void api_contexts_remove(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* The default context under Node's name, setSecureContext(options): the
 * "*" context of /v1/contexts without the hostname. */

/* GET /v1/secure-context: the default being served: the "*" context
 * ("source": "api"), else the config's key/cert ("source": "config"). */
void api_secure_context_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* PUT /v1/secure-context {"key", "cert", "ca"?, "passphrase"?, "pfx"?,
 * "ocsp"?}: POST /v1/contexts with "hostname": "*"; 200 with its
 * description, 400 naming the field. */
void api_secure_context_put(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* DELETE /v1/secure-context: back to the config's key/cert; 204, or 404
 * when they already serve. */
void api_secure_context_remove(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

#endif
