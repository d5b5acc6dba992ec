/* backend.c - resolve and connect to the backend. */
#include "worker/backend.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/addr.h"

static int resolve_unix(const struct tlsd_addr *a, struct backend *out)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->addr;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", a->path);
	out->addr_len = sizeof(*sun);
	return TLSD_OK;
}

static int resolve_tcp(const struct tlsd_addr *a, struct backend *out, struct tlsd_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char service[8];
	int gai;

	snprintf(service, sizeof(service), "%d", a->port);
	gai = getaddrinfo(a->host, service, &hints, &res);
	if (gai != 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "backend: %s: %s", out->text, gai_strerror(gai));
	memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
	out->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	return TLSD_OK;
}

int backend_resolve(const char *spec, struct backend *out, struct tlsd_error *err)
{
	struct tlsd_addr a;
	struct tlsd_error why;

	memset(out, 0, sizeof(*out));
	snprintf(out->text, sizeof(out->text), "%s", spec);
	if (addr_parse(spec, true, true, &a, &why) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "backend: %s", why.msg);
	if (a.kind == TLSD_ADDR_UNIX)
		return resolve_unix(&a, out);
	snprintf(out->host, sizeof(out->host), "%s", a.host);
	return resolve_tcp(&a, out, err);
}

int backend_connect(const struct backend *b, int *fd)
{
	int s = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	*fd = -1;
	if (s < 0)
		return TLSD_ERR_IO;
	/* What the client sent goes to the backend at once, not after the
	 * backend's delayed ACK of the previous write. */
	if (b->addr.ss_family != AF_UNIX)
		(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s, (const struct sockaddr *)&b->addr, b->addr_len) < 0 && errno != EINPROGRESS) {
		int saved = errno;

		close(s);
		errno = saved;
		return TLSD_ERR_IO;
	}
	*fd = s;
	return TLSD_OK;
}

int backend_connect_result(int fd)
{
	int error = 0;
	socklen_t len = sizeof(error);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
		return errno;
	return error;
}
