/* control_auth.h - who may use the control endpoint.
 *
 * Over TCP every request but GET /healthz carries "Authorization: Bearer
 * TOKEN". Two tokens: the admin token may do everything; it comes from
 * control.tokenFile, or tlsd makes one (32 random bytes, hex) at
 * STATE_DIR/control.token with mode 0600 and keeps it across restarts. The
 * read-only token, made the same way at STATE_DIR/control-readonly.token,
 * may only read what holds no secret (counters, connections, contexts): a
 * monitoring system gets that one. Requests with a browser Origin header,
 * or a Host that is not a loopback name or address, are refused (no CSRF,
 * no DNS rebinding).
 */
#ifndef TLSD_CTL_CONTROL_AUTH_H
#define TLSD_CTL_CONTROL_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "common/err.h"

#define CONTROL_TOKEN_MAX 256
#define CONTROL_READONLY_TOKEN_FILE "control-readonly.token"

/* What a request's token lets it do; ordered, each includes the ones
 * before. */
enum control_access {
	CONTROL_ACCESS_NONE,	/* no token, or a wrong one: GET /healthz only */
	CONTROL_ACCESS_READ,	/* the read-only token */
	CONTROL_ACCESS_ADMIN,	/* the admin token */
};

/* control_token_load: the token into <token> (CONTROL_TOKEN_MAX bytes):
 * read from control.tokenFile, else read or created at
 * STATE_DIR/control.token (the folder is made with mode 0700 if missing).
 * <created> tells whether a new one was made. Errors name the file. */
int control_token_load(const struct tlsd_config *cfg, char *token, bool *created,
		       struct tlsd_error *err) TLSD_MUST_CHECK;

/* control_token_path: where control_token_load reads the token from. */
void control_token_path(const struct tlsd_config *cfg, char *path, size_t size);

/* control_readonly_token_load: the read-only token into <token>
 * (CONTROL_TOKEN_MAX bytes), read or created at
 * STATE_DIR/control-readonly.token with the same checks as the admin
 * token's file. Refused when it equals <admin_token>. */
int control_readonly_token_load(const struct tlsd_config *cfg, const char *admin_token, char *token,
				bool *created, struct tlsd_error *err) TLSD_MUST_CHECK;

/* control_readonly_token_path: where control_readonly_token_load reads. */
void control_readonly_token_path(const struct tlsd_config *cfg, char *path, size_t size);

/* control_token_matches: <authorization> (the header value, may be NULL)
 * is "Bearer <token>". Compared in constant time (over SHA-256 digests, so
 * not even the length leaks). */
bool control_token_matches(const char *token, const char *authorization);

/* control_token_access: what <authorization> (may be NULL) may do, given
 * the two tokens. */
enum control_access control_token_access(const char *admin_token, const char *readonly_token,
					 const char *authorization);

/* control_host_allowed: <host> (the Host header, may be NULL) is
 * "localhost", a 127.0.0.0/8 address or [::1], with or without a port. */
bool control_host_allowed(const char *host);

#endif
