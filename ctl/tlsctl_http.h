/* tlsctl_http.h - one request to tlsd's control endpoint, with libcurl.
 *
 * libcurl gives tlsctl a complete HTTP/1.1 client (framing, chunked
 * answers, keep-alive), unix sockets (CURLOPT_UNIX_SOCKET_PATH) and
 * connect and total timeouts, so tlsctl adds only the API's own rules.
 * Proxies from the environment are never used: the endpoint is local.
 */
#ifndef TLSD_CTL_TLSCTL_HTTP_H
#define TLSD_CTL_TLSCTL_HTTP_H

#include <stddef.h>

#include "common/err.h"

#define TLSCTL_TOKEN_MAX 256

/* Where the endpoint is and how to be let in. */
struct tlsctl_target {
	char base_url[300];	/* "http://127.0.0.1:8001", "http://[::1]:8001", "http://localhost" */
	char unix_path[108];	/* "" over TCP */
	char token[TLSCTL_TOKEN_MAX];	/* "" = send no Authorization (unix socket) */
	long timeout_ms;	/* the whole exchange */
};

/* An answer: the HTTP status and the body (NUL-terminated, malloc'd). */
struct tlsctl_reply {
	long status;
	char *body;
	size_t len;
};

/* tlsctl_request: <method> <path> to <t>, with <body> (JSON, NULL for
 * none). Returns 0 with <reply> filled whatever the status, or
 * TLSD_ERR_IO when no answer came (cannot connect, timed out, the
 * connection broke), TLSD_ERR_PROTO for an answer over the size limit,
 * TLSD_ERR_INTERNAL when libcurl could not be set up; <err> says what. */
int tlsctl_request(const struct tlsctl_target *t, const char *method, const char *path, const char *body,
		   struct tlsctl_reply *reply, struct tlsd_error *err) TLSD_MUST_CHECK;

/* tlsctl_reply_free: the body (the reply may be zeroed or freed twice). */
void tlsctl_reply_free(struct tlsctl_reply *reply);

/* tlsctl_escape: <text> percent-encoded for one path segment, malloc'd
 * (NULL when out of memory). */
char *tlsctl_escape(const char *text);

#endif
