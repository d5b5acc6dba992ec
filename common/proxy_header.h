/* proxy_header.h - PROXY protocol v1 and v2 headers that tlsd sends to a
 * backend before the client's cleartext (haproxy.org proxy-protocol.txt).
 *
 * v2 carries the client and local address and TLVs: PP2_TYPE_ALPN (0x01),
 * PP2_TYPE_AUTHORITY (0x02, the SNI name) and PP2_TYPE_SSL (0x20) with
 * the client flags, verify result and sub-TLVs PP2_SUBTYPE_SSL_VERSION
 * (0x21) and PP2_SUBTYPE_SSL_CIPHER (0x23).
 */
#ifndef TLSD_COMMON_PROXY_HEADER_H
#define TLSD_COMMON_PROXY_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/err.h"

/* The largest header tlsd writes: v2 fixed part + IPv6 addresses + TLVs. */
#define PROXY_HEADER_MAX 1024

struct proxy_header_info {
	const struct sockaddr *src;	/* the TLS client */
	socklen_t src_len;
	const struct sockaddr *dst;	/* tlsd's local address */
	socklen_t dst_len;
	const char *alpn;		/* negotiated protocol or NULL */
	const char *servername;		/* SNI or NULL */
	const char *tls_version;	/* "TLSv1.3" or NULL */
	const char *cipher;		/* OpenSSL-style name or NULL */
	bool client_cert_conn;		/* a client certificate came on this connection */
	bool client_cert_verified;	/* ... and it verified (PP2 verify = 0) */
};

/* proxy_header_v1: write "PROXY TCP4 src dst sport dport\r\n" (or TCP6, or
 * "PROXY UNKNOWN\r\n" when an end is not IP or the two families differ)
 * into <buf> of <cap> bytes; the length goes to <*len>. An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d, dual-stack listener) is sent as TCP4. Returns 0,
 * or TLSD_ERR_INTERNAL with <*len> = 0 when <cap> is too small (nothing is
 * written past <cap>) or <info>/<len> is NULL. */
int proxy_header_v1(const struct proxy_header_info *info, uint8_t *buf, size_t cap,
		    size_t *len) TLSD_MUST_CHECK;

/* proxy_header_v2: write the binary v2 header (command PROXY, TCP over
 * IPv4/IPv6 with mapped IPv4 as IPv4, or UNSPEC with no address block for
 * other families) followed by the TLVs above: ALPN and AUTHORITY only when
 * non-NULL and non-empty, then always SSL {client = PP2_CLIENT_SSL, plus
 * PP2_CLIENT_CERT_CONN when <client_cert_conn>; verify = 0 when a
 * certificate came and verified, else 1; VERSION and CIPHER sub-TLVs when
 * given}. Results as for proxy_header_v1. */
int proxy_header_v2(const struct proxy_header_info *info, uint8_t *buf, size_t cap,
		    size_t *len) TLSD_MUST_CHECK;

#endif
