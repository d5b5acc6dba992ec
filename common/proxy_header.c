/* proxy_header.c - PROXY protocol v1 (text) and v2 (binary) headers.
 *
 * Everything is written through a pp_writer, a cursor over the caller's
 * buffer that checks capacity before every write: a write that does not
 * fit sets a sticky overflow flag and touches nothing, so no byte lands
 * past <cap>, and the header functions report TLSD_ERR_INTERNAL (the
 * caller's buffer is sized by PROXY_HEADER_MAX, so a short one is a bug).
 */
#include "common/proxy_header.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* proxy-protocol.txt section 2.2 */
static const uint8_t PP2_SIGNATURE[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
};

enum {
	PP2_VERSION_PROXY = 0x21,	/* version 2, command PROXY */
	PP2_FAM_UNSPEC = 0x00,
	PP2_FAM_TCP4 = 0x11,
	PP2_FAM_TCP6 = 0x21,
	PP2_HEADER_LEN = 16,		/* signature, ver/cmd, fam, length */
	PP2_LEN_OFFSET = 14,

	PP2_TYPE_ALPN = 0x01,
	PP2_TYPE_AUTHORITY = 0x02,
	PP2_TYPE_SSL = 0x20,
	PP2_SUBTYPE_SSL_VERSION = 0x21,
	PP2_SUBTYPE_SSL_CIPHER = 0x23,
	PP2_CLIENT_SSL = 0x01,
	PP2_CLIENT_CERT_CONN = 0x02,
};

struct pp_writer {
	uint8_t *buf;
	size_t cap;
	size_t pos;		/* bytes written, always <= cap */
	bool overflow;		/* sticky: some write did not fit */
};

/* One side of the connection, reduced to what the header carries. */
struct pp_end {
	int family;		/* AF_INET, AF_INET6 or AF_UNSPEC */
	uint8_t addr[16];	/* network order; 4 bytes used for AF_INET */
	uint16_t port;		/* host order */
};

static void w_init(struct pp_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf != NULL ? cap : 0;
	w->pos = 0;
	w->overflow = false;
}

/* w_bytes: append <n> bytes of <p>, or set overflow if they don't fit. */
static void w_bytes(struct pp_writer *w, const void *p, size_t n)
{
	if (w->overflow || n > w->cap - w->pos) {
		w->overflow = true;
		return;
	}
	if (n > 0)
		memcpy(w->buf + w->pos, p, n);
	w->pos += n;
}

static void w_u8(struct pp_writer *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void w_u16(struct pp_writer *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	w_bytes(w, b, sizeof(b));
}

static void w_u32(struct pp_writer *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	w_bytes(w, b, sizeof(b));
}

static void w_str(struct pp_writer *w, const char *s)
{
	w_bytes(w, s, strlen(s));
}

/* w_patch_u16: overwrite 2 bytes at <at>, which must already be written. */
static void w_patch_u16(struct pp_writer *w, size_t at, size_t v)
{
	if (w->overflow)
		return;
	if (v > 0xffff || at + 2 > w->pos) {
		w->overflow = true;
		return;
	}
	w->buf[at] = (uint8_t)(v >> 8);
	w->buf[at + 1] = (uint8_t)v;
}

/* w_tlv_begin: type and a length placeholder; returns the length's offset
 * for w_tlv_end, which fills in the bytes written since. */
static size_t w_tlv_begin(struct pp_writer *w, uint8_t type)
{
	size_t at;

	w_u8(w, type);
	at = w->pos;
	w_u16(w, 0);
	return at;
}

static void w_tlv_end(struct pp_writer *w, size_t at)
{
	w_patch_u16(w, at, w->pos - at - 2);
}

/* w_finish: the header's length into <*len>, or TLSD_ERR_INTERNAL (and 0)
 * when it did not fit. */
static int w_finish(const struct pp_writer *w, size_t *len)
{
	*len = w->overflow ? 0 : w->pos;
	return w->overflow ? TLSD_ERR_INTERNAL : 0;
}

/* pp_end_from: reduce <sa> to <e>. An IPv4-mapped IPv6 address
 * (::ffff:1.2.3.4, a v4 client on a dual-stack listener) becomes plain
 * IPv4, so the backend sees TCP4 and the client's real IPv4 address, as
 * it would with a v4-only listener. */
static void pp_end_from(const struct sockaddr *sa, socklen_t len, struct pp_end *e)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	memset(e, 0, sizeof(*e));
	e->family = AF_UNSPEC;
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*sin)) {
		e->family = AF_INET;
		memcpy(e->addr, &sin->sin_addr, 4);
		e->port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(*sin6)) {
		bool mapped = IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr);

		e->family = mapped ? AF_INET : AF_INET6;
		memcpy(e->addr, sin6->sin6_addr.s6_addr + (mapped ? 12 : 0), mapped ? 4 : 16);
		e->port = ntohs(sin6->sin6_port);
	}
}

/* pp_ends: both ends of <info>; returns their common family, or AF_UNSPEC
 * when either is not IP or they differ (a header cannot mix them). */
static int pp_ends(const struct proxy_header_info *info, struct pp_end *src, struct pp_end *dst)
{
	pp_end_from(info->src, info->src_len, src);
	pp_end_from(info->dst, info->dst_len, dst);
	if (src->family != dst->family)
		return AF_UNSPEC;
	return src->family;
}

static size_t addr_size(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* v1: "TCP4 1.2.3.4 5.6.7.8 1111 2222" fields after "PROXY ". */
static void w_v1_ip(struct pp_writer *w, const struct pp_end *e)
{
	char text[INET6_ADDRSTRLEN] = "";

	inet_ntop(e->family, e->addr, text, sizeof(text));
	w_str(w, text);
}

static void w_v1_port(struct pp_writer *w, uint16_t port)
{
	char text[8];

	snprintf(text, sizeof(text), "%u", (unsigned)port);
	w_str(w, text);
}

int proxy_header_v1(const struct proxy_header_info *info, uint8_t *buf, size_t cap, size_t *len)
{
	struct pp_writer w;
	struct pp_end src, dst;
	int family;

	if (info == NULL || len == NULL)
		return TLSD_ERR_INTERNAL;
	w_init(&w, buf, cap);
	family = pp_ends(info, &src, &dst);
	w_str(&w, "PROXY ");
	if (family == AF_UNSPEC) {
		w_str(&w, "UNKNOWN\r\n");
		return w_finish(&w, len);
	}
	w_str(&w, family == AF_INET ? "TCP4 " : "TCP6 ");
	w_v1_ip(&w, &src);
	w_str(&w, " ");
	w_v1_ip(&w, &dst);
	w_str(&w, " ");
	w_v1_port(&w, src.port);
	w_str(&w, " ");
	w_v1_port(&w, dst.port);
	w_str(&w, "\r\n");
	return w_finish(&w, len);
}

/* w_v2_string_tlv: a TLV holding <s> without its NUL; skipped when <s> is
 * NULL or empty. */
static void w_v2_string_tlv(struct pp_writer *w, uint8_t type, const char *s)
{
	size_t at;

	if (s == NULL || s[0] == '\0')
		return;
	at = w_tlv_begin(w, type);
	w_str(w, s);
	w_tlv_end(w, at);
}

/* PP2_TYPE_SSL: client flags, verify (0 only when a certificate came on
 * this connection and verified, as section 2.2.5 asks), sub-TLVs. */
static void w_v2_ssl_tlv(struct pp_writer *w, const struct proxy_header_info *info)
{
	uint8_t client = PP2_CLIENT_SSL;
	bool verified = info->client_cert_conn && info->client_cert_verified;
	size_t at;

	if (info->client_cert_conn)
		client |= PP2_CLIENT_CERT_CONN;
	at = w_tlv_begin(w, PP2_TYPE_SSL);
	w_u8(w, client);
	w_u32(w, verified ? 0 : 1);
	w_v2_string_tlv(w, PP2_SUBTYPE_SSL_VERSION, info->tls_version);
	w_v2_string_tlv(w, PP2_SUBTYPE_SSL_CIPHER, info->cipher);
	w_tlv_end(w, at);
}

/* w_v2_addresses: family byte, length placeholder and the address block
 * (none for UNSPEC): src addr, dst addr, src port, dst port. */
static void w_v2_addresses(struct pp_writer *w, int family, const struct pp_end *src,
			   const struct pp_end *dst)
{
	if (family == AF_UNSPEC) {
		w_u8(w, PP2_FAM_UNSPEC);
		w_u16(w, 0);
		return;
	}
	w_u8(w, family == AF_INET ? PP2_FAM_TCP4 : PP2_FAM_TCP6);
	w_u16(w, 0);
	w_bytes(w, src->addr, addr_size(family));
	w_bytes(w, dst->addr, addr_size(family));
	w_u16(w, src->port);
	w_u16(w, dst->port);
}

/* TLVs follow the address block for UNSPEC too: the receiver ignores the
 * addresses but can still learn SNI, ALPN and the TLS parameters. */
int proxy_header_v2(const struct proxy_header_info *info, uint8_t *buf, size_t cap, size_t *len)
{
	struct pp_writer w;
	struct pp_end src, dst;

	if (info == NULL || len == NULL)
		return TLSD_ERR_INTERNAL;
	w_init(&w, buf, cap);
	w_bytes(&w, PP2_SIGNATURE, sizeof(PP2_SIGNATURE));
	w_u8(&w, PP2_VERSION_PROXY);
	w_v2_addresses(&w, pp_ends(info, &src, &dst), &src, &dst);
	w_v2_string_tlv(&w, PP2_TYPE_ALPN, info->alpn);
	w_v2_string_tlv(&w, PP2_TYPE_AUTHORITY, info->servername);
	w_v2_ssl_tlv(&w, info);
	w_patch_u16(&w, PP2_LEN_OFFSET, w.pos - PP2_HEADER_LEN);
	return w_finish(&w, len);
}
