/* api_ciphers.h - GET /v1/ciphers: Node's tls.getCiphers() for this server.
 *
 * The answer is a JSON array of the cipher suites a client can negotiate,
 * named as Node names them: lowercase OpenSSL names
 * ("tls_aes_256_gcm_sha384", "ecdhe-ecdsa-aes128-gcm-sha256"). With
 * "ciphers" (no native "priority") it is exactly the set OpenSSL's parser
 * gives for the string and the versions, less the suites tlsd cannot serve,
 * in OpenSSL's order, TLS 1.3 first: the set the workers enforce. With a
 * native "priority" it is the suites that priority enables for a version it
 * also enables, in its order (a suite OpenSSL does not know under GnuTLS's
 * name, lowercased). Whether a loaded certificate can serve a suite is not
 * considered.
 */
#ifndef TLSD_CTL_API_CIPHERS_H
#define TLSD_CTL_API_CIPHERS_H

#include "ctl/api.h"

/* GET: 200 with the "ciphers" set of env->cfg (read again per request),
 * or under a native "priority" env->ciphers (api_ciphers_list of it, built
 * when the endpoint opens); 500 if the list could not be built. */
void api_ciphers_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* api_ciphers_list: the array for the GnuTLS priority string <priority>
 * (caller owns it), or NULL when GnuTLS rejects <priority> or out of memory. */
json_t *api_ciphers_list(const char *priority);

#endif
