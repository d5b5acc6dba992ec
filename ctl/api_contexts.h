/* api_contexts.h - /v1/contexts: SNI contexts at runtime (Node's
 * addContext). When POST or DELETE answers 2xx, every worker serves the
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

#endif
