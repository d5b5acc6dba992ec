/* backend.h - where backend mode forwards the cleartext (config "backend").
 *
 * The address is resolved once, in the master before it forks (getaddrinfo
 * may block, and a bad name should stop the start); each connection then
 * opens a non-blocking socket to it.
 */
#ifndef TLSD_WORKER_BACKEND_H
#define TLSD_WORKER_BACKEND_H

#include <sys/socket.h>

#include "common/err.h"

struct backend_tls;

struct backend {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char text[300];		/* as configured, for logs */
	char host[256];		/* TCP: the host as configured; "": a unix socket */
	struct backend_tls *tls;	/* TLS to the backend (worker/backend_tls); NULL: cleartext */
	long timeout_ms;	/* connect, and the TLS handshake when tls */
};

/* backend_resolve: parse and resolve <spec> ("HOST:PORT" or "unix:/path"). */
int backend_resolve(const char *spec, struct backend *out, struct tlsd_error *err) TLSD_MUST_CHECK;

/* backend_connect: start a non-blocking connect; the fd goes to <*fd>.
 * Returns TLSD_OK (connected or in progress: wait for writability, then
 * backend_connect_result) or TLSD_ERR_IO with errno set. */
int backend_connect(const struct backend *b, int *fd) TLSD_MUST_CHECK;

/* backend_connect_result: 0 when the connect on <fd> succeeded, else the
 * errno value that made it fail. */
int backend_connect_result(int fd);

#endif
