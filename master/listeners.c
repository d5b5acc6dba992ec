/* listeners.c - bind the listening sockets. */
#include "master/listeners.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/addr.h"

#define LISTEN_BACKLOG 1024

/* bind_one: socket + bind + listen on <ai>; returns the fd or -errno. */
static int bind_one(const struct addrinfo *ai, bool dual_stack)
{
	int one = 1, zero = 0;
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &zero : &one, sizeof(int));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int saved = errno;

		close(fd);
		return -saved;
	}
	return fd;
}

/* open_address: resolve <host>:<port> and bind its first usable address;
 * errors read "<key>: <entry>: <reason>". */
static int open_address(const char *key, const char *host, int port, bool dual_stack, struct listener *out,
			const char *entry, struct tlsd_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char service[8];
	int fd = -EADDRNOTAVAIL;
	int gai;

	snprintf(service, sizeof(service), "%d", port);
	gai = getaddrinfo(host, service, &hints, &res);
	if (gai != 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s: %s", key, entry, gai_strerror(gai));
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = bind_one(ai, dual_stack);
	freeaddrinfo(res);
	if (fd < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s: %s", key, entry, strerror(-fd));
	out->fd = fd;
	out->addr_len = sizeof(out->addr);
	getsockname(fd, (struct sockaddr *)&out->addr, &out->addr_len);
	addr_format((struct sockaddr *)&out->addr, out->addr_len, out->text, sizeof(out->text));
	return TLSD_OK;
}

/* open_entry: one "listen" string; an empty host means every address. */
static int open_entry(const char *entry, struct listener *out, struct tlsd_error *err)
{
	struct tlsd_addr addr;
	struct tlsd_error why;

	if (addr_parse(entry, false, false, &addr, &why) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "listen: %s", why.msg);
	/* "[::]" takes IPv4 too, as Node's listen(port, "::") does. */
	if (addr.host[0] != '\0')
		return open_address("listen", addr.host, addr.port, strcmp(addr.host, "::") == 0, out, entry, err);
	if (open_address("listen", "::", addr.port, true, out, entry, NULL) == TLSD_OK)
		return TLSD_OK;
	return open_address("listen", "0.0.0.0", addr.port, false, out, entry, err);
}

int listener_open_tcp(const char *key, const char *host, int port, struct listener *out,
		      struct tlsd_error *err)
{
	char entry[300];

	snprintf(entry, sizeof(entry), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	return open_address(key, host, port, false, out, entry, err);
}

int listeners_open(const struct tlsd_str_list *listen, struct listeners *out, struct tlsd_error *err)
{
	static const char *const default_listen[] = { "8000" };
	const char *const *entries = (const char *const *)listen->items;
	size_t n = listen->n;
	int rc = TLSD_OK;

	if (n == 0) {
		entries = default_listen;
		n = 1;
	}
	out->items = calloc(n, sizeof(*out->items));
	out->n = 0;
	if (out->items == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "listen: out of memory");
	for (size_t i = 0; i < n && rc == TLSD_OK; i++) {
		rc = open_entry(entries[i], &out->items[i], err);
		if (rc == TLSD_OK)
			out->n++;
	}
	if (rc < 0)
		listeners_close(out);
	return rc;
}

void listeners_close(struct listeners *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		close(ls->items[i].fd);
	free(ls->items);
	ls->items = NULL;
	ls->n = 0;
}
