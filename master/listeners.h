/* listeners.h - the listening sockets, opened by the master before fork.
 *
 * Every worker inherits every listening socket and accepts from it: the
 * kernel keeps one accept queue per socket, so a worker that dies leaves the
 * connections waiting in the queue to the others (docs/design.md).
 */
#ifndef TLSD_MASTER_LISTENERS_H
#define TLSD_MASTER_LISTENERS_H

#include <stddef.h>
#include <sys/socket.h>

#include "common/config.h"
#include "common/err.h"

struct listener {
	int fd;
	struct sockaddr_storage addr;	/* bound address, port resolved */
	socklen_t addr_len;
	char text[80];			/* "127.0.0.1:8443", "[::]:8000" */
};

struct listeners {
	struct listener *items;
	size_t n;
};

/* listeners_open: bind and listen on every address in <listen> (none: the
 * SPEC default, [::]:8000 dual-stack, else 0.0.0.0:8000). Sockets are
 * non-blocking and close-on-exec. On error nothing stays open and <err>
 * names the "listen" entry and the reason. */
int listeners_open(const struct tlsd_str_list *listen, struct listeners *out,
		   struct tlsd_error *err) TLSD_MUST_CHECK;

/* listener_open_tcp: one listening socket on <host>:<port> (the first
 * address <host> resolves to), as listeners_open makes them; errors read
 * "<key>: HOST:PORT: <reason>". */
int listener_open_tcp(const char *key, const char *host, int port, struct listener *out,
		      struct tlsd_error *err) TLSD_MUST_CHECK;

/* listeners_close: close every socket and free <ls>. */
void listeners_close(struct listeners *ls);

#endif
