/* test_addr.c - addr_parse, addr_format, addr_host_port, addr_family_name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "common/addr.h"

/* parse_ok: <text> parses; the result goes to <*a>. */
static void parse_ok(const char *text, bool allow_unix, bool require_host, struct tlsd_addr *a)
{
	struct tlsd_error err = { "" };

	assert_int_equal(addr_parse(text, allow_unix, require_host, a, &err), 0);
	assert_string_equal(err.msg, "");
}

/* parse_fails: <text> is refused with exactly <msg>, and <out> is untouched. */
static void parse_fails(const char *text, bool allow_unix, bool require_host, const char *msg)
{
	struct tlsd_error err = { "" };
	struct tlsd_addr a;

	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(addr_parse(text, allow_unix, require_host, &a, &err), TLSD_ERR_CONFIG);
	assert_string_equal(err.msg, msg);
	assert_int_equal(a.port, 0x5a5a5a5a);
	assert_int_equal((unsigned char)a.host[0], 0x5a);
}

static void test_bare_port(void **state)
{
	struct tlsd_addr a;

	parse_ok("8443", false, false, &a);
	assert_int_equal(a.kind, TLSD_ADDR_TCP);
	assert_string_equal(a.host, "");
	assert_int_equal(a.port, 8443);
	parse_ok("0", false, false, &a);
	assert_int_equal(a.port, 0);
	parse_ok("65535", false, false, &a);
	assert_int_equal(a.port, 65535);
	parse_ok("08080", false, false, &a);
	assert_int_equal(a.port, 8080);
}

static void test_ipv4_host(void **state)
{
	struct tlsd_addr a;

	parse_ok("127.0.0.1:0", false, true, &a);
	assert_int_equal(a.kind, TLSD_ADDR_TCP);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 0);
	parse_ok("0.0.0.0:8000", false, false, &a);
	assert_string_equal(a.host, "0.0.0.0");
	assert_int_equal(a.port, 8000);
}

static void test_ipv6_host(void **state)
{
	struct tlsd_addr a;

	parse_ok("[::1]:8443", false, true, &a);
	assert_string_equal(a.host, "::1");
	assert_int_equal(a.port, 8443);
	parse_ok("[::]:8000", false, false, &a);
	assert_string_equal(a.host, "::");
	assert_int_equal(a.port, 8000);
	parse_ok("[::ffff:1.2.3.4]:1", false, false, &a);
	assert_string_equal(a.host, "::ffff:1.2.3.4");
	assert_int_equal(a.port, 1);
	parse_ok("[fe80::1%eth0]:443", false, false, &a);
	assert_string_equal(a.host, "fe80::1%eth0");
	assert_int_equal(a.port, 443);
}

static void test_name_host(void **state)
{
	struct tlsd_addr a;

	parse_ok("localhost:8080", false, true, &a);
	assert_string_equal(a.host, "localhost");
	assert_int_equal(a.port, 8080);
	parse_ok("backend-1.example_x.com:65535", true, true, &a);
	assert_string_equal(a.host, "backend-1.example_x.com");
	assert_int_equal(a.port, 65535);
}

static void test_unix(void **state)
{
	struct tlsd_addr a;
	char text[200];

	parse_ok("unix:/run/tlsd/backend.sock", true, true, &a);
	assert_int_equal(a.kind, TLSD_ADDR_UNIX);
	assert_string_equal(a.path, "/run/tlsd/backend.sock");
	assert_string_equal(a.host, "");
	assert_int_equal(a.port, 0);
	/* the longest path that still fits sun_path with its NUL: 107 bytes */
	memset(text, 0, sizeof(text));
	memcpy(text, "unix:/", 6);
	memset(text + 6, 'p', 106);
	parse_ok(text, true, false, &a);
	assert_int_equal(strlen(a.path), 107);
	assert_int_equal(a.path[0], '/');
}

static void test_errors_empty_and_port(void **state)
{
	parse_fails("", true, false, "address is empty");
	parse_fails(NULL, true, false, "address is empty");
	parse_fails("99999", false, false, "port \"99999\" is out of range (0-65535)");
	parse_fails("65536", false, false, "port \"65536\" is out of range (0-65535)");
	parse_fails("127.0.0.1:123456789012345678901234567890", false, false,
		    "port \"123456789012345678901234567890\" is out of range (0-65535)");
	parse_fails("127.0.0.1:", false, false, "missing port after ':'");
	parse_fails("127.0.0.1:80x", false, false, "port \"80x\" is not a number");
	parse_fails("localhost:-1", false, false, "port \"-1\" is not a number");
	parse_fails("localhost:+80", false, false, "port \"+80\" is not a number");
	parse_fails("localhost: 80", false, false, "port \" 80\" is not a number");
	parse_fails("localhost", false, false,
		    "missing port in \"localhost\" (expected [HOST:]PORT)");
	parse_fails("80a", false, false, "missing port in \"80a\" (expected [HOST:]PORT)");
}

static void test_errors_host(void **state)
{
	char text[300];

	parse_fails("8443", false, true, "missing host in \"8443\" (expected HOST:PORT)");
	parse_fails(":8443", false, false, "host is empty");
	parse_fails("bad host:80", false, false,
		    "host \"bad host\" contains an invalid character ' '");
	parse_fails("1.2.3.4]:80", false, false,
		    "host \"1.2.3.4]\" contains an invalid character ']'");
	memset(text, 0, sizeof(text));
	memset(text, 'h', 256);
	memcpy(text + 256, ":80", 3);
	parse_fails(text, false, false, "host is too long (256 bytes, at most 255)");
}

static void test_errors_ipv6(void **state)
{
	parse_fails("::1:80", false, false,
		    "IPv6 address in \"::1:80\" must be in brackets, e.g. \"[::1]:8443\"");
	parse_fails("[::1:80", false, false, "unclosed '[' in \"[::1:80\"");
	parse_fails("[::1]", false, false, "missing port after \"[::1]\"");
	parse_fails("[::1]8443", false, false, "expected ':' after ']' in \"[::1]8443\"");
	parse_fails("[]:80", false, false, "host is empty");
	parse_fails("[localhost]:80", false, false, "\"[localhost]\" is not an IPv6 address");
	parse_fails("[1.2.3.4]:80", false, false, "\"[1.2.3.4]\" is not an IPv6 address");
	parse_fails("[::1]:70000", false, false, "port \"70000\" is out of range (0-65535)");
}

static void test_errors_unix(void **state)
{
	char text[200];

	parse_fails("unix:/tmp/x.sock", false, false, "unix sockets are not allowed here");
	parse_fails("unix:run/x.sock", true, false,
		    "unix socket path \"run/x.sock\" must be absolute");
	parse_fails("unix:", true, false, "unix socket path \"\" must be absolute");
	memset(text, 0, sizeof(text));
	memcpy(text, "unix:/", 6);
	memset(text + 6, 'p', 107);
	parse_fails(text, true, false, "unix socket path is too long (108 bytes, at most 107)");
}

static void test_error_null_err(void **state)
{
	struct tlsd_addr a;

	assert_int_equal(addr_parse("nope", false, false, &a, NULL), TLSD_ERR_CONFIG);
}

static void make_v4(struct sockaddr_in *sin, const char *ip, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

static void make_v6(struct sockaddr_in6 *sin6, const char *ip, int port)
{
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
}

/* check_sa: format, host/port and family of <sa> are exactly these. */
static void check_sa(const void *sa, socklen_t len, const char *formatted, const char *host,
		     int port, const char *family)
{
	char buf[200], h[200];
	int p = -1;

	assert_ptr_equal(addr_format(sa, len, buf, sizeof(buf)), buf);
	assert_string_equal(buf, formatted);
	addr_host_port(sa, len, h, sizeof(h), &p);
	assert_string_equal(h, host);
	assert_int_equal(p, port);
	assert_string_equal(addr_family_name(sa), family);
}

static void test_format_ipv4(void **state)
{
	struct sockaddr_in sin;

	make_v4(&sin, "127.0.0.1", 443);
	check_sa(&sin, sizeof(sin), "127.0.0.1:443", "127.0.0.1", 443, "IPv4");
	make_v4(&sin, "255.255.255.255", 65535);
	check_sa(&sin, sizeof(sin), "255.255.255.255:65535", "255.255.255.255", 65535, "IPv4");
}

static void test_format_ipv6(void **state)
{
	struct sockaddr_in6 sin6;

	make_v6(&sin6, "::1", 8443);
	check_sa(&sin6, sizeof(sin6), "[::1]:8443", "::1", 8443, "IPv6");
	make_v6(&sin6, "2001:db8:0:0:0:0:0:1", 0);
	check_sa(&sin6, sizeof(sin6), "[2001:db8::1]:0", "2001:db8::1", 0, "IPv6");
}

static void test_format_mapped(void **state)
{
	struct sockaddr_in6 sin6;

	make_v6(&sin6, "::ffff:1.2.3.4", 5555);
	check_sa(&sin6, sizeof(sin6), "[::ffff:1.2.3.4]:5555", "::ffff:1.2.3.4", 5555, "IPv6");
}

static void test_format_unix(void **state)
{
	struct sockaddr_un sun;
	socklen_t len;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/run/tlsd.sock");
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sun.sun_path) + 1);
	check_sa(&sun, len, "unix:/run/tlsd.sock", "/run/tlsd.sock", 0, "unix");
	/* unnamed: what accept() reports for a client of a unix listener */
	check_sa(&sun, sizeof(sa_family_t), "unix:", "", 0, "unix");
	/* abstract namespace: leading NUL, length gives the end */
	memcpy(sun.sun_path, "\0tlsd", 5);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 5);
	check_sa(&sun, len, "unix:@tlsd", "@tlsd", 0, "unix");
	/* sun_path filled to the end without a NUL */
	memset(sun.sun_path, 'x', sizeof(sun.sun_path));
	sun.sun_path[0] = '/';
	{
		char buf[300], want[300];

		snprintf(want, sizeof(want), "unix:%.*s", (int)sizeof(sun.sun_path), sun.sun_path);
		addr_format((struct sockaddr *)&sun, sizeof(sun), buf, sizeof(buf));
		assert_string_equal(buf, want);
		assert_int_equal(strlen(buf), 5 + sizeof(sun.sun_path));
	}
}

static void test_format_edge(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	char buf[8] = "zzzzzzz";
	char h[4] = "zzz";
	int p = -1;

	make_v4(&sin, "127.0.0.1", 443);
	/* truncation stays NUL-terminated inside <size> */
	addr_format((struct sockaddr *)&sin, sizeof(sin), buf, 5);
	assert_string_equal(buf, "127.");
	assert_int_equal(buf[5], 'z');
	/* size 0: nothing written */
	assert_ptr_equal(addr_format((struct sockaddr *)&sin, sizeof(sin), buf, 0), buf);
	assert_string_equal(buf, "127.");
	/* a length too short for the family is "unknown" */
	addr_format((struct sockaddr *)&sin, 4, buf, sizeof(buf));
	assert_string_equal(buf, "unknown");
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_PACKET;
	check_sa(&ss, sizeof(ss), "unknown", "", 0, "unknown");
	assert_string_equal(addr_family_name(NULL), "unknown");
	addr_host_port((struct sockaddr *)&sin, sizeof(sin), h, sizeof(h), NULL);
	assert_string_equal(h, "127");
	addr_host_port((struct sockaddr *)&sin, sizeof(sin), NULL, 0, &p);
	assert_int_equal(p, 443);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_port),
		cmocka_unit_test(test_ipv4_host),
		cmocka_unit_test(test_ipv6_host),
		cmocka_unit_test(test_name_host),
		cmocka_unit_test(test_unix),
		cmocka_unit_test(test_errors_empty_and_port),
		cmocka_unit_test(test_errors_host),
		cmocka_unit_test(test_errors_ipv6),
		cmocka_unit_test(test_errors_unix),
		cmocka_unit_test(test_error_null_err),
		cmocka_unit_test(test_format_ipv4),
		cmocka_unit_test(test_format_ipv6),
		cmocka_unit_test(test_format_mapped),
		cmocka_unit_test(test_format_unix),
		cmocka_unit_test(test_format_edge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
