/* addr.h - listen and backend addresses: "[HOST:]PORT", "[::1]:8443",
 * "127.0.0.1:0", "localhost:8080" and (where allowed) "unix:/path".
 *
 * Parsing is pure (no name lookup): listeners and backends resolve the host
 * with getaddrinfo when they bind or connect.
 */
#ifndef TLSD_COMMON_ADDR_H
#define TLSD_COMMON_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/err.h"

enum tlsd_addr_kind { TLSD_ADDR_TCP = 0, TLSD_ADDR_UNIX = 1 };

struct tlsd_addr {
	enum tlsd_addr_kind kind;
	char host[256];		/* TCP: host without brackets; "" = not given */
	int port;		/* TCP: 0..65535 */
	char path[108];		/* UNIX: socket path (fits sun_path) */
};

/* addr_parse: parse <text> into <out>. <allow_unix> permits "unix:/path"
 * (absolute, shorter than sun_path); <require_host> rejects a bare "PORT".
 * Returns 0 and fills <out>, or TLSD_ERR_CONFIG with <out> untouched and
 * <err> saying what is wrong with <text> (the caller prefixes the key). */
int addr_parse(const char *text, bool allow_unix, bool require_host, struct tlsd_addr *out,
	       struct tlsd_error *err) TLSD_MUST_CHECK;

/* addr_format: write <sa> (<len> bytes) as "127.0.0.1:443", "[::1]:443"
 * (a mapped IPv4 stays "[::ffff:1.2.3.4]:443") or "unix:/path" into <buf>,
 * truncated to <size>; "unknown" for other families. Returns <buf>. */
char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/* addr_host_port: split <sa> into a numeric host string (no brackets) and a
 * port. A unix socket gives its path ("" unnamed, "@name" abstract) and
 * port 0; an unknown family "" and 0. <port> may be NULL. */
void addr_host_port(const struct sockaddr *sa, socklen_t len, char *host, size_t size, int *port);

/* addr_family_name: "IPv4", "IPv6" (also for a mapped IPv4, like Node's
 * remoteFamily) or "unix" for <sa>; "unknown" otherwise. */
const char *addr_family_name(const struct sockaddr *sa);

#endif
