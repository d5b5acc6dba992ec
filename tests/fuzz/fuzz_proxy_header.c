/* fuzz_proxy_header.c - the PROXY v1 and v2 encoders on arbitrary
 * addresses and TLV strings: never a write past the buffer, and a v2 header
 * whose own length fields add up to what was written. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/proxy_header.h"

/* take: the next <n> input bytes into <dst> (zeros past the end). */
static void take(const uint8_t **p, const uint8_t *end, void *dst, size_t n)
{
	size_t have = (size_t)(end - *p) < n ? (size_t)(end - *p) : n;

	memset(dst, 0, n);
	memcpy(dst, *p, have);
	*p += have;
}

/* address: a sockaddr of the family the next byte picks. */
static socklen_t address(const uint8_t **p, const uint8_t *end, struct sockaddr_storage *ss)
{
	uint8_t kind = 0;

	take(p, end, &kind, 1);
	memset(ss, 0, sizeof(*ss));
	switch (kind % 3) {
	case 0: {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		take(p, end, &in->sin_addr, 4);
		take(p, end, &in->sin_port, 2);
		return sizeof(*in);
	}
	case 1: {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		take(p, end, &in6->sin6_addr, 16);
		take(p, end, &in6->sin6_port, 2);
		return sizeof(*in6);
	}
	default:
		((struct sockaddr_un *)ss)->sun_family = AF_UNIX;
		return sizeof(struct sockaddr_un);
	}
}

/* string: a NUL-terminated string of up to 300 input bytes, or NULL. */
static const char *string(const uint8_t **p, const uint8_t *end, char *buf)
{
	uint8_t n = 0;

	take(p, end, &n, 1);
	if (n == 0)
		return NULL;
	take(p, end, buf, (size_t)n + 45);
	buf[(size_t)n + 45] = '\0';
	return buf;
}

static void check_v2(const uint8_t *buf, size_t len)
{
	if (len < 16 || memcmp(buf, "\r\n\r\n\0\r\nQUIT\n", 12) != 0)
		abort();
	if ((size_t)16 + ((size_t)buf[14] << 8 | buf[15]) != len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct sockaddr_storage src, dst;
	char alpn[302], sni[302], version[302], cipher[302];
	uint8_t flags = 0, cap_byte = 0;
	struct proxy_header_info info;
	uint8_t *buf;
	size_t cap, len = 0;

	take(&p, end, &flags, 1);
	take(&p, end, &cap_byte, 1);
	info = (struct proxy_header_info){ .src = (struct sockaddr *)&src, .dst = (struct sockaddr *)&dst };
	info.src_len = address(&p, end, &src);
	info.dst_len = address(&p, end, &dst);
	info.alpn = string(&p, end, alpn);
	info.servername = string(&p, end, sni);
	info.tls_version = string(&p, end, version);
	info.cipher = string(&p, end, cipher);
	info.client_cert_conn = flags & 1;
	info.client_cert_verified = flags & 2;
	/* Sometimes a buffer too small: the encoder must refuse, not overflow. */
	cap = flags & 4 ? cap_byte : PROXY_HEADER_MAX;
	buf = malloc(cap ? cap : 1);
	if (buf == NULL)
		return 0;
	if (proxy_header_v1(&info, buf, cap, &len) == 0 && (len > cap || len < 8 || memcmp(buf, "PROXY ", 6) != 0))
		abort();
	len = 0;
	if (proxy_header_v2(&info, buf, cap, &len) == 0) {
		if (len > cap)
			abort();
		check_v2(buf, len);
	} else if (len != 0) {
		abort();
	}
	free(buf);
	return 0;
}
