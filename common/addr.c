/* addr.c - parse and print listen and backend addresses.
 *
 * The grammar, in the order addr_parse tries it:
 *
 *	"unix:" PATH		absolute, fits sun_path (only with allow_unix)
 *	"[" IPV6 "]:" PORT	IPv6 literal, optional "%zone"
 *	HOST ":" PORT		IPv4 literal or DNS name (no lookup here)
 *	PORT			host "" (any address), unless require_host
 *
 * PORT is decimal digits only, 0..65535 (0 = any free port).
 */
#include "common/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#define UNIX_PREFIX "unix:"
#define UNIX_PREFIX_LEN (sizeof(UNIX_PREFIX) - 1)
#define PORT_MAX 65535

/* Quoted text in messages is cut here so a message stays readable. */
#define SHOWN(n) ((int)((n) > 200 ? 200 : (n)))

_Static_assert(sizeof(((struct tlsd_addr *)0)->path) == sizeof(((struct sockaddr_un *)0)->sun_path),
	       "tlsd_addr.path must match sun_path");

/* parse_port: <n> bytes at <s> as a decimal port into <*port>. */
static int parse_port(const char *s, size_t n, int *port, struct tlsd_error *err)
{
	long v = 0;
	size_t i;

	if (n == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "missing port after ':'");
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return tlsd_error_set(err, TLSD_ERR_CONFIG, "port \"%.*s\" is not a number",
					      SHOWN(n), s);
		if (v <= PORT_MAX)	/* stop growing: no overflow on long input */
			v = v * 10 + (s[i] - '0');
	}
	if (v > PORT_MAX)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "port \"%.*s\" is out of range (0-%d)",
				      SHOWN(n), s, PORT_MAX);
	*port = (int)v;
	return 0;
}

/* copy_host: <n> bytes at <s> into <a>->host, which must hold them. */
static int copy_host(const char *s, size_t n, struct tlsd_addr *a, struct tlsd_error *err)
{
	if (n == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "host is empty");
	if (n >= sizeof(a->host))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "host is too long (%zu bytes, at most %zu)",
				      n, sizeof(a->host) - 1);
	memcpy(a->host, s, n);
	a->host[n] = '\0';
	return 0;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* check_name: <host> is an IPv4 literal or a DNS name (letters, digits,
 * '-', '.', '_'); getaddrinfo decides later whether it exists. */
static int check_name(const char *host, struct tlsd_error *err)
{
	const char *p;

	for (p = host; *p != '\0'; p++)
		if (!is_name_char(*p))
			return tlsd_error_set(err, TLSD_ERR_CONFIG,
					      "host \"%s\" contains an invalid character '%c'", host,
					      *p);
	return 0;
}

/* check_ipv6: <host> (from between brackets) is an IPv6 literal, with an
 * optional "%zone" that getaddrinfo resolves when binding. */
static int check_ipv6(const char *host, struct tlsd_error *err)
{
	char lit[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	size_t n = strcspn(host, "%");

	if (n < sizeof(lit)) {
		memcpy(lit, host, n);
		lit[n] = '\0';
		if (inet_pton(AF_INET6, lit, &a6) == 1)
			return 0;
	}
	return tlsd_error_set(err, TLSD_ERR_CONFIG, "\"[%s]\" is not an IPv6 address", host);
}

static int parse_unix(const char *path, struct tlsd_addr *a, struct tlsd_error *err)
{
	size_t n = strlen(path);

	if (path[0] != '/')
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "unix socket path \"%.*s\" must be absolute", SHOWN(n), path);
	if (n >= sizeof(a->path))
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "unix socket path is too long (%zu bytes, at most %zu)", n,
				      sizeof(a->path) - 1);
	a->kind = TLSD_ADDR_UNIX;
	memcpy(a->path, path, n + 1);
	return 0;
}

/* parse_bracketed: "[IPV6]:PORT"; <text> starts with '['. */
static int parse_bracketed(const char *text, struct tlsd_addr *a, struct tlsd_error *err)
{
	const char *close = strchr(text, ']');

	if (close == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "unclosed '[' in \"%s\"", text);
	GUARD(copy_host(text + 1, (size_t)(close - text - 1), a, err));
	GUARD(check_ipv6(a->host, err));
	if (close[1] == '\0')
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "missing port after \"%.*s\"",
				      SHOWN((size_t)(close - text + 1)), text);
	if (close[1] != ':')
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "expected ':' after ']' in \"%s\"", text);
	return parse_port(close + 2, strlen(close + 2), &a->port, err);
}

/* parse_bare_port: "PORT" alone (no ':' in <text>). */
static int parse_bare_port(const char *text, bool require_host, struct tlsd_addr *a,
			   struct tlsd_error *err)
{
	size_t n = strlen(text);

	if (strspn(text, "0123456789") != n)
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "missing port in \"%.*s\" (expected [HOST:]PORT)", SHOWN(n), text);
	if (require_host)
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "missing host in \"%.*s\" (expected HOST:PORT)", SHOWN(n), text);
	return parse_port(text, n, &a->port, err);
}

/* parse_plain: "HOST:PORT" or "PORT". */
static int parse_plain(const char *text, bool require_host, struct tlsd_addr *a,
		       struct tlsd_error *err)
{
	const char *colon = strrchr(text, ':');

	if (colon == NULL)
		return parse_bare_port(text, require_host, a, err);
	if (colon != strchr(text, ':'))
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "IPv6 address in \"%s\" must be in brackets, e.g. \"[::1]:8443\"",
				      text);
	GUARD(copy_host(text, (size_t)(colon - text), a, err));
	GUARD(check_name(a->host, err));
	return parse_port(colon + 1, strlen(colon + 1), &a->port, err);
}

/* addr_parse: <out> is written only on success; see the grammar above. */
int addr_parse(const char *text, bool allow_unix, bool require_host, struct tlsd_addr *out,
	       struct tlsd_error *err)
{
	struct tlsd_addr a;

	memset(&a, 0, sizeof(a));
	a.kind = TLSD_ADDR_TCP;
	if (text == NULL || text[0] == '\0')
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "address is empty");
	if (strncmp(text, UNIX_PREFIX, UNIX_PREFIX_LEN) == 0) {
		if (!allow_unix)
			return tlsd_error_set(err, TLSD_ERR_CONFIG,
					      "unix sockets are not allowed here");
		GUARD(parse_unix(text + UNIX_PREFIX_LEN, &a, err));
	} else if (text[0] == '[') {
		GUARD(parse_bracketed(text, &a, err));
	} else {
		GUARD(parse_plain(text, require_host, &a, err));
	}
	*out = a;
	return 0;
}

/* unix_path: the path of <sun> (<len> bytes of sockaddr) into <buf>:
 * "" when unnamed, "@name" for the Linux abstract namespace. sun_path need
 * not be NUL-terminated, so the copy is bounded by <len>. */
static void unix_path(const struct sockaddr_un *sun, socklen_t len, char *buf, size_t size)
{
	size_t off = offsetof(struct sockaddr_un, sun_path);
	size_t n = (size_t)len > off ? (size_t)len - off : 0;

	if (n > sizeof(sun->sun_path))
		n = sizeof(sun->sun_path);
	if (n > 0 && sun->sun_path[0] == '\0')
		snprintf(buf, size, "@%.*s", (int)(n - 1), sun->sun_path + 1);
	else
		snprintf(buf, size, "%.*s", (int)strnlen(sun->sun_path, n), sun->sun_path);
}

/* family_of: <sa>'s family when <len> covers its sockaddr, else AF_UNSPEC. */
static int family_of(const struct sockaddr *sa, socklen_t len)
{
	if (sa == NULL || len < (socklen_t)sizeof(sa_family_t))
		return AF_UNSPEC;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
		return AF_INET;
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
		return AF_INET6;
	if (sa->sa_family == AF_UNIX)
		return AF_UNIX;
	return AF_UNSPEC;
}

/* addr_host_port: IPv4 "1.2.3.4"; IPv6 "::1", a mapped IPv4 as
 * "::ffff:1.2.3.4" (what Node's remoteAddress shows on a dual-stack
 * listener); unix: the path ("" when unnamed, "@name" when abstract) with
 * port 0; unknown family: "" and 0. <host> may be NULL when <size> is 0,
 * <port> may be NULL. */
void addr_host_port(const struct sockaddr *sa, socklen_t len, char *host, size_t size, int *port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	char tmp[INET6_ADDRSTRLEN] = "";
	int p = 0;

	switch (family_of(sa, len)) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, tmp, sizeof(tmp));
		p = ntohs(sin->sin_port);
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &sin6->sin6_addr, tmp, sizeof(tmp));
		p = ntohs(sin6->sin6_port);
		break;
	case AF_UNIX:
		if (size > 0)
			unix_path((const struct sockaddr_un *)sa, len, host, size);
		host = NULL;	/* written */
		break;
	}
	if (host != NULL && size > 0)
		snprintf(host, size, "%s", tmp);
	if (port != NULL)
		*port = p;
}

/* addr_format: "127.0.0.1:443", "[::1]:443", "[::ffff:1.2.3.4]:443",
 * "unix:/path" (or "unix:" unnamed, "unix:@name" abstract), "unknown" for
 * other families; truncated to fit <size>. */
char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[sizeof(((struct sockaddr_un *)0)->sun_path) + 2];
	int port = 0;

	if (size == 0)
		return buf;
	addr_host_port(sa, len, host, sizeof(host), &port);
	switch (family_of(sa, len)) {
	case AF_INET:
		snprintf(buf, size, "%s:%d", host, port);
		break;
	case AF_INET6:
		snprintf(buf, size, "[%s]:%d", host, port);
		break;
	case AF_UNIX:
		snprintf(buf, size, UNIX_PREFIX "%s", host);
		break;
	default:
		snprintf(buf, size, "unknown");
		break;
	}
	return buf;
}

/* addr_family_name: Node's names: "IPv4", "IPv6" (a mapped IPv4 too, as
 * Node's remoteFamily), "unix"; "unknown" for anything else or NULL. */
const char *addr_family_name(const struct sockaddr *sa)
{
	if (sa == NULL)
		return "unknown";
	switch (sa->sa_family) {
	case AF_INET: return "IPv4";
	case AF_INET6: return "IPv6";
	case AF_UNIX: return "unix";
	default: return "unknown";
	}
}
