/* control_auth.h - who may use the control endpoint.
 *
 * Over TCP every request but GET /healthz carries "Authorization: Bearer
 * TOKEN". The token comes from control.tokenFile, or tlsd makes one (32
 * random bytes, hex) at STATE_DIR/control.token with mode 0600 and keeps it
 * across restarts. Requests with a browser Origin header, or a Host that is
 * not a loopback name or address, are refused (no CSRF, no DNS rebinding).
 */
#ifndef TLSD_CTL_CONTROL_AUTH_H
#define TLSD_CTL_CONTROL_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "common/err.h"

#define CONTROL_TOKEN_MAX 256

/* control_token_load: the token into <token> (CONTROL_TOKEN_MAX bytes):
 * read from control.tokenFile, else read or created at
 * STATE_DIR/control.token (the folder is made with mode 0700 if missing).
 * <created> tells whether a new one was made. Errors name the file. */
int control_token_load(const struct tlsd_config *cfg, char *token, bool *created,
		       struct tlsd_error *err) TLSD_MUST_CHECK;

/* control_token_path: where control_token_load reads the token from. */
void control_token_path(const struct tlsd_config *cfg, char *path, size_t size);

/* control_token_matches: <authorization> (the header value, may be NULL)
 * is "Bearer <token>". Compared in constant time (over SHA-256 digests, so
 * not even the length leaks). */
bool control_token_matches(const char *token, const char *authorization);

/* control_host_allowed: <host> (the Host header, may be NULL) is
 * "localhost", a 127.0.0.0/8 address or [::1], with or without a port. */
bool control_host_allowed(const char *host);

#endif
