/* test_proxy_header.c - PROXY protocol v1 strings and v2 bytes, exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "common/proxy_header.h"

/* Addresses of one test connection; info points into it. */
struct conn {
	struct sockaddr_storage src, dst;
	struct proxy_header_info info;
};

static void set_ip(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':') == NULL) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	}
}

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* conn_init: a connection from <sip>:<sport> to <dip>:<dport>, no TLS data. */
static void conn_init(struct conn *c, const char *sip, int sport, const char *dip, int dport)
{
	memset(c, 0, sizeof(*c));
	set_ip(&c->src, sip, sport);
	set_ip(&c->dst, dip, dport);
	c->info.src = (struct sockaddr *)&c->src;
	c->info.src_len = sa_len(&c->src);
	c->info.dst = (struct sockaddr *)&c->dst;
	c->info.dst_len = sa_len(&c->dst);
}

/* conn_tls: the TLS details used by the "with TLVs" cases. */
static void conn_tls(struct conn *c)
{
	c->info.alpn = "h2";
	c->info.servername = "example.com";
	c->info.tls_version = "TLSv1.3";
	c->info.cipher = "TLS_AES_128_GCM_SHA256";
	c->info.client_cert_conn = true;
	c->info.client_cert_verified = true;
}

static void check_v1(const struct conn *c, const char *want)
{
	uint8_t buf[PROXY_HEADER_MAX];
	size_t len = 12345;

	assert_int_equal(proxy_header_v1(&c->info, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(buf, want, len);
}

/* check_v2: the header is exactly <n> bytes <want>. */
static void check_v2(const struct conn *c, const uint8_t *want, size_t n)
{
	uint8_t buf[PROXY_HEADER_MAX];
	size_t len = 12345;

	assert_int_equal(proxy_header_v2(&c->info, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, want, n);
}

#define SIG 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A

/* TLV tail of conn_tls(): ALPN "h2", AUTHORITY "example.com", SSL. */
#define TLS_TLVS                                                                    \
	0x01, 0x00, 0x02, 'h', '2',                                                 \
	0x02, 0x00, 0x0b, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',    \
	0x20, 0x00, 0x28, 0x03, 0x00, 0x00, 0x00, 0x00,                             \
	0x21, 0x00, 0x07, 'T', 'L', 'S', 'v', '1', '.', '3',                        \
	0x23, 0x00, 0x16, 'T', 'L', 'S', '_', 'A', 'E', 'S', '_', '1', '2', '8',    \
	'_', 'G', 'C', 'M', '_', 'S', 'H', 'A', '2', '5', '6'
#define TLS_TLVS_LEN (5 + 14 + 43)

/* SSL TLV alone: client = PP2_CLIENT_SSL, verify = 1, no sub-TLVs. */
#define BARE_SSL_TLV 0x20, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x01

#define V4_ADDRS 192, 0, 2, 1, 198, 51, 100, 7, 0xc8, 0x22, 0x01, 0xbb
#define V6_ADDRS                                                                    \
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,              \
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,              \
	0x9c, 0x40, 0x20, 0xfb

static void v4_conn(struct conn *c)
{
	conn_init(c, "192.0.2.1", 51234, "198.51.100.7", 443);
}

static void v6_conn(struct conn *c)
{
	conn_init(c, "2001:db8::1", 40000, "2001:db8::2", 8443);
}

static void test_v1_tcp4(void **state)
{
	struct conn c;

	v4_conn(&c);
	check_v1(&c, "PROXY TCP4 192.0.2.1 198.51.100.7 51234 443\r\n");
	conn_tls(&c);	/* v1 carries no TLS details */
	check_v1(&c, "PROXY TCP4 192.0.2.1 198.51.100.7 51234 443\r\n");
	conn_init(&c, "0.0.0.0", 0, "255.255.255.255", 65535);
	check_v1(&c, "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n");
}

static void test_v1_tcp6(void **state)
{
	struct conn c;

	v6_conn(&c);
	check_v1(&c, "PROXY TCP6 2001:db8::1 2001:db8::2 40000 8443\r\n");
	conn_init(&c, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535,
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	check_v1(&c, "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe "
		     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n");
}

static void test_v1_unknown(void **state)
{
	struct conn c;
	struct sockaddr_un sun;

	v4_conn(&c);
	c.info.src = NULL;
	check_v1(&c, "PROXY UNKNOWN\r\n");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, "/run/x.sock");
	v4_conn(&c);
	c.info.dst = (struct sockaddr *)&sun;
	c.info.dst_len = sizeof(sun);
	check_v1(&c, "PROXY UNKNOWN\r\n");
	/* IPv4 client, non-mapped IPv6 local end: no common family */
	conn_init(&c, "192.0.2.1", 1, "2001:db8::2", 2);
	check_v1(&c, "PROXY UNKNOWN\r\n");
	/* a length too short for the family */
	v4_conn(&c);
	c.info.src_len = 4;
	check_v1(&c, "PROXY UNKNOWN\r\n");
}

static void test_v1_mapped(void **state)
{
	struct conn c;

	conn_init(&c, "::ffff:10.0.0.1", 1234, "::ffff:10.0.0.2", 443);
	check_v1(&c, "PROXY TCP4 10.0.0.1 10.0.0.2 1234 443\r\n");
}

static void test_v2_ipv4_bare(void **state)
{
	static const uint8_t want[] = { SIG, 0x21, 0x11, 0x00, 0x14, V4_ADDRS, BARE_SSL_TLV };
	struct conn c;

	v4_conn(&c);
	check_v2(&c, want, sizeof(want));
	/* empty strings count as absent */
	c.info.alpn = "";
	c.info.servername = "";
	c.info.tls_version = "";
	c.info.cipher = "";
	check_v2(&c, want, sizeof(want));
}

static void test_v2_ipv4_tlvs(void **state)
{
	static const uint8_t want[] = { SIG, 0x21, 0x11, 0x00, 12 + TLS_TLVS_LEN, V4_ADDRS,
					TLS_TLVS };
	struct conn c;

	assert_int_equal(sizeof(want), 16 + 12 + TLS_TLVS_LEN);
	v4_conn(&c);
	conn_tls(&c);
	check_v2(&c, want, sizeof(want));
}

static void test_v2_ipv6_bare(void **state)
{
	static const uint8_t want[] = { SIG, 0x21, 0x21, 0x00, 0x2c, V6_ADDRS, BARE_SSL_TLV };
	struct conn c;

	v6_conn(&c);
	check_v2(&c, want, sizeof(want));
}

static void test_v2_ipv6_tlvs(void **state)
{
	static const uint8_t want[] = { SIG, 0x21, 0x21, 0x00, 36 + TLS_TLVS_LEN, V6_ADDRS,
					TLS_TLVS };
	struct conn c;

	v6_conn(&c);
	conn_tls(&c);
	check_v2(&c, want, sizeof(want));
}

static void test_v2_mapped(void **state)
{
	static const uint8_t want[] = { SIG, 0x21, 0x11, 0x00, 0x14,
					10, 0, 0, 1, 10, 0, 0, 2, 0x04, 0xd2, 0x01, 0xbb,
					BARE_SSL_TLV };
	struct conn c;

	conn_init(&c, "::ffff:10.0.0.1", 1234, "::ffff:10.0.0.2", 443);
	check_v2(&c, want, sizeof(want));
}

static void test_v2_unspec(void **state)
{
	static const uint8_t want[] = { SIG, 0x21, 0x00, 0x00, 0x08, BARE_SSL_TLV };
	static const uint8_t want_alpn[] = { SIG, 0x21, 0x00, 0x00, 0x0d,
					     0x01, 0x00, 0x02, 'h', '2', BARE_SSL_TLV };
	struct conn c;

	v4_conn(&c);
	c.info.dst = NULL;
	check_v2(&c, want, sizeof(want));
	conn_init(&c, "2001:db8::1", 1, "192.0.2.1", 2);
	check_v2(&c, want, sizeof(want));
	c.info.alpn = "h2";
	check_v2(&c, want_alpn, sizeof(want_alpn));
}

/* check_ssl_flags: these flags give exactly this SSL TLV client byte and verify. */
static void check_ssl_flags(bool cert, bool verified, uint8_t client, uint8_t verify_lsb)
{
	const uint8_t want[] = { SIG, 0x21, 0x11, 0x00, 0x14, V4_ADDRS,
				 0x20, 0x00, 0x05, client, 0x00, 0x00, 0x00, verify_lsb };
	struct conn c;

	v4_conn(&c);
	c.info.client_cert_conn = cert;
	c.info.client_cert_verified = verified;
	check_v2(&c, want, sizeof(want));
}

static void test_v2_ssl_verify(void **state)
{
	check_ssl_flags(false, false, 0x01, 1);
	check_ssl_flags(false, true, 0x01, 1);	/* nothing verified without a cert */
	check_ssl_flags(true, false, 0x03, 1);
	check_ssl_flags(true, true, 0x03, 0);
}

typedef int (*header_fn)(const struct proxy_header_info *, uint8_t *, size_t, size_t *);

/* check_too_small: every cap below the header's size fails with
 * TLSD_ERR_INTERNAL and *len = 0, and no byte at or past cap changes. */
static void check_too_small(header_fn fn, const struct conn *c)
{
	uint8_t buf[PROXY_HEADER_MAX + 16];
	size_t need = 0, len, cap, i;

	assert_int_equal(fn(&c->info, buf, PROXY_HEADER_MAX, &need), 0);
	assert_true(need > 0);
	for (cap = 0; cap < need; cap++) {
		memset(buf, 0xaa, sizeof(buf));
		len = 999;
		assert_int_equal(fn(&c->info, buf, cap, &len), TLSD_ERR_INTERNAL);
		assert_int_equal(len, 0);
		for (i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xaa);
	}
	assert_int_equal(fn(&c->info, buf, need, &len), 0);
	assert_int_equal(len, need);
}

static void test_too_small(void **state)
{
	struct conn c;
	size_t len = 7;

	v6_conn(&c);
	conn_tls(&c);
	check_too_small(proxy_header_v1, &c);
	check_too_small(proxy_header_v2, &c);
	v4_conn(&c);
	check_too_small(proxy_header_v1, &c);
	check_too_small(proxy_header_v2, &c);
	c.info.src = NULL;
	check_too_small(proxy_header_v1, &c);
	assert_int_equal(proxy_header_v2(&c.info, NULL, 100, &len), TLSD_ERR_INTERNAL);
	assert_int_equal(len, 0);
	assert_int_equal(proxy_header_v1(NULL, (uint8_t *)&len, sizeof(len), &len),
			 TLSD_ERR_INTERNAL);
}

/* A TLV seen by the tiny decoder below; <val> points into the header. */
struct tlv {
	uint8_t type;
	size_t len;
	const uint8_t *val;
};

struct decoded {
	uint8_t fam;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	size_t ntlv;
	struct tlv tlv[8];
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* decode_tlvs: <n> bytes at <p> split into TLVs that exactly fill them. */
static int decode_tlvs(const uint8_t *p, size_t n, struct tlv *out, size_t max, size_t *count)
{
	size_t off = 0;

	*count = 0;
	while (off < n) {
		if (n - off < 3 || *count == max || be16(p + off + 1) > n - off - 3)
			return -1;
		out[*count].type = p[off];
		out[*count].len = be16(p + off + 1);
		out[*count].val = p + off + 3;
		off += 3 + out[*count].len;
		(*count)++;
	}
	return 0;
}

/* decode_v2: a receiver's view of a v2 header of <n> bytes; -1 if malformed. */
static int decode_v2(const uint8_t *b, size_t n, struct decoded *d)
{
	static const uint8_t sig[] = { SIG };
	size_t alen;

	memset(d, 0, sizeof(*d));
	if (n < 16 || memcmp(b, sig, 12) != 0 || b[12] != 0x21 || be16(b + 14) != n - 16)
		return -1;
	d->fam = b[13];
	alen = d->fam == 0x11 ? 12 : d->fam == 0x21 ? 36 : d->fam == 0x00 ? 0 : n;
	if (alen > n - 16)
		return -1;
	if (alen > 0) {
		size_t a = (alen - 4) / 2;

		memcpy(d->src, b + 16, a);
		memcpy(d->dst, b + 16 + a, a);
		d->sport = be16(b + 16 + 2 * a);
		d->dport = be16(b + 18 + 2 * a);
	}
	return decode_tlvs(b + 16 + alen, n - 16 - alen, d->tlv, 8, &d->ntlv);
}

static void assert_tlv_str(const struct tlv *t, uint8_t type, const char *s)
{
	assert_int_equal(t->type, type);
	assert_int_equal(t->len, strlen(s));
	assert_memory_equal(t->val, s, t->len);
}

/* roundtrip: encode <c>, decode, compare with what went in. */
static void roundtrip(const struct conn *c, uint8_t fam, const char *sip, const char *dip)
{
	uint8_t buf[PROXY_HEADER_MAX], want_src[16] = { 0 }, want_dst[16] = { 0 };
	struct decoded d;
	struct tlv sub[4];
	size_t len, nsub;
	int af = fam == 0x11 ? AF_INET : AF_INET6;

	assert_int_equal(proxy_header_v2(&c->info, buf, sizeof(buf), &len), 0);
	assert_int_equal(decode_v2(buf, len, &d), 0);
	assert_int_equal(d.fam, fam);
	assert_int_equal(inet_pton(af, sip, want_src), 1);
	assert_int_equal(inet_pton(af, dip, want_dst), 1);
	assert_memory_equal(d.src, want_src, 16);
	assert_memory_equal(d.dst, want_dst, 16);
	assert_int_equal(d.ntlv, 3);
	assert_tlv_str(&d.tlv[0], 0x01, c->info.alpn);
	assert_tlv_str(&d.tlv[1], 0x02, c->info.servername);
	assert_int_equal(d.tlv[2].type, 0x20);
	assert_true(d.tlv[2].len >= 5);
	assert_int_equal(d.tlv[2].val[0], c->info.client_cert_conn ? 0x03 : 0x01);
	assert_int_equal(decode_tlvs(d.tlv[2].val + 5, d.tlv[2].len - 5, sub, 4, &nsub), 0);
	assert_int_equal(nsub, 2);
	assert_tlv_str(&sub[0], 0x21, c->info.tls_version);
	assert_tlv_str(&sub[1], 0x23, c->info.cipher);
}

static void test_v2_decode(void **state)
{
	struct conn c;
	struct decoded d;
	uint8_t buf[PROXY_HEADER_MAX];
	size_t len;

	conn_init(&c, "203.0.113.9", 65535, "10.1.2.3", 1);
	conn_tls(&c);
	c.info.alpn = "http/1.1";
	c.info.cipher = "ECDHE-RSA-AES128-GCM-SHA256";
	c.info.tls_version = "TLSv1.2";
	c.info.client_cert_conn = false;
	roundtrip(&c, 0x11, "203.0.113.9", "10.1.2.3");
	conn_init(&c, "::ffff:127.0.0.1", 5000, "::ffff:127.0.0.2", 8443);
	conn_tls(&c);
	roundtrip(&c, 0x11, "127.0.0.1", "127.0.0.2");
	conn_init(&c, "fe80::1:2:3:4", 2, "::1", 3);
	conn_tls(&c);
	c.info.servername = "a-very-long-host-name.sub.example.org";
	roundtrip(&c, 0x21, "fe80::1:2:3:4", "::1");
	assert_int_equal(proxy_header_v2(&c.info, buf, sizeof(buf), &len), 0);
	assert_int_equal(decode_v2(buf, len, &d), 0);
	assert_int_equal(d.sport, 2);
	assert_int_equal(d.dport, 3);
	/* the decoder itself rejects a header whose length lies */
	buf[15]++;
	assert_int_equal(decode_v2(buf, len, &d), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_tcp4),
		cmocka_unit_test(test_v1_tcp6),
		cmocka_unit_test(test_v1_unknown),
		cmocka_unit_test(test_v1_mapped),
		cmocka_unit_test(test_v2_ipv4_bare),
		cmocka_unit_test(test_v2_ipv4_tlvs),
		cmocka_unit_test(test_v2_ipv6_bare),
		cmocka_unit_test(test_v2_ipv6_tlvs),
		cmocka_unit_test(test_v2_mapped),
		cmocka_unit_test(test_v2_unspec),
		cmocka_unit_test(test_v2_ssl_verify),
		cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_v2_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
