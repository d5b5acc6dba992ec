/* api_ciphers.h - GET /v1/ciphers: Node's tls.getCiphers() for this server.
 *
 * The answer is a JSON array of the cipher suites the server's GnuTLS
 * priority enables for a version it also enables, in the priority's
 * (the server's preference) order, TLS 1.3 suites included, named as Node
 * names them: lowercase OpenSSL names ("tls_aes_256_gcm_sha384",
 * "ecdhe-ecdsa-aes128-gcm-sha256"); a suite outside tlsd's table (possible
 * with a native "priority") under GnuTLS's name, lowercased. Whether a
 * loaded certificate can serve a suite is not considered.
 */
#ifndef TLSD_CTL_API_CIPHERS_H
#define TLSD_CTL_API_CIPHERS_H

#include "ctl/api.h"

/* GET: 200 with env->ciphers (api_ciphers_list of the priority in use,
 * built once when the endpoint opens: the priority cannot change while
 * tlsd runs); 500 if that list could not be built. */
void api_ciphers_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

/* api_ciphers_list: the array for the GnuTLS priority string <priority>
 * (caller owns it), or NULL when GnuTLS rejects <priority> or out of memory. */
json_t *api_ciphers_list(const char *priority);

#endif
