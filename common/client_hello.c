/* client_hello.c - a bounded reader for the parts of a ClientHello tlsd
 * looks at before the handshake. Reads like the wire format:
 *
 *   record:     type(1)=22 version(2) length(2) fragment
 *   handshake:  msg_type(1)=1 length(3) body
 *   body:       legacy_version(2) random(32) session_id<0..32>
 *               cipher_suites<2..2^16-2> compression_methods<1..2^8-1>
 *               [extensions<0..2^16-1>]
 *   extension:  type(2) data<0..2^16-1>
 *     session_ticket (35): the ticket, all of data
 *     pre_shared_key (41): identities<7..2^16-1> { identity<1..2^16-1>
 *                          obfuscated_ticket_age(4) } binders<33..2^16-1>
 *     supported_versions (43): versions<2..254> of 2 bytes each
 */
#include "common/client_hello.h"

#include <string.h>

#define RECORD_HANDSHAKE 22
#define HANDSHAKE_CLIENT_HELLO 1
#define EXT_SESSION_TICKET 35
#define EXT_PRE_SHARED_KEY 41
#define EXT_SUPPORTED_VERSIONS 43

/* A cursor over bytes that must not be read past. Every read checks what
 * is left; a failed read leaves the cursor unusable (left = 0, bad set). */
struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static bool cur_take(struct cursor *c, size_t n, const uint8_t **out)
{
	if (c->bad || n > c->left) {
		c->bad = true;
		c->left = 0;
		return false;
	}
	*out = c->p;
	c->p += n;
	c->left -= n;
	return true;
}

static uint32_t cur_uint(struct cursor *c, size_t bytes)
{
	const uint8_t *p;
	uint32_t v = 0;

	if (!cur_take(c, bytes, &p))
		return 0;
	for (size_t i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* cur_vector: a length-prefixed vector (<len_bytes> of length) as a
 * cursor of its own. */
static struct cursor cur_vector(struct cursor *c, size_t len_bytes)
{
	size_t n = cur_uint(c, len_bytes);
	struct cursor sub = { NULL, 0, true };

	if (!c->bad && cur_take(c, n, &sub.p)) {
		sub.left = n;
		sub.bad = false;
	}
	return sub;
}

long client_hello_record_len(const uint8_t *buf, size_t len)
{
	size_t n;

	if (len < 5)
		return 0;
	if (buf[0] != RECORD_HANDSHAKE || buf[1] != 3)
		return TLSD_ERR_PROTO;
	n = 5 + ((size_t)buf[3] << 8 | buf[4]);
	return n > CLIENT_HELLO_RECORD_MAX ? TLSD_ERR_PROTO : (long)n;
}

static void read_psk_identities(struct cursor ext, struct client_hello *out)
{
	struct cursor ids = cur_vector(&ext, 2);

	while (!ids.bad && ids.left > 0) {
		struct cursor id = cur_vector(&ids, 2);

		(void)cur_uint(&ids, 4);	/* obfuscated_ticket_age */
		if (ids.bad || id.bad)
			break;
		if (out->n_psk < CLIENT_HELLO_PSK_MAX)
			out->psk[out->n_psk++] = (struct client_hello_blob){ id.p, id.left };
	}
}

static bool lists_tls13(struct cursor ext)
{
	struct cursor versions = cur_vector(&ext, 1);

	while (!versions.bad && versions.left >= 2)
		if (cur_uint(&versions, 2) == 0x0304)
			return true;
	return false;
}

static int read_extensions(struct cursor *body, struct client_hello *out)
{
	struct cursor exts;

	if (body->left == 0)
		return TLSD_OK;	/* a ClientHello without extensions (TLS 1.2 allows it) */
	exts = cur_vector(body, 2);
	while (!exts.bad && exts.left > 0) {
		uint32_t type = cur_uint(&exts, 2);
		struct cursor data = cur_vector(&exts, 2);

		if (data.bad)
			break;
		if (type == EXT_SESSION_TICKET) {
			out->has_ticket_ext = true;
			out->ticket = (struct client_hello_blob){ data.p, data.left };
		} else if (type == EXT_PRE_SHARED_KEY) {
			read_psk_identities(data, out);
		} else if (type == EXT_SUPPORTED_VERSIONS) {
			out->offers_tls13 = lists_tls13(data);
		}
	}
	return exts.bad ? TLSD_ERR_PROTO : TLSD_OK;
}

static int read_body(struct cursor *body, struct client_hello *out)
{
	const uint8_t *skip;
	struct cursor sid;

	(void)cur_take(body, 2 + 32, &skip);	/* legacy_version, random */
	sid = cur_vector(body, 1);
	if (sid.bad || sid.left > sizeof(out->session_id))
		return TLSD_ERR_PROTO;
	memcpy(out->session_id, sid.p, sid.left);
	out->session_id_len = sid.left;
	(void)cur_vector(body, 2);		/* cipher_suites */
	(void)cur_vector(body, 1);		/* compression_methods */
	if (body->bad)
		return TLSD_ERR_PROTO;
	return read_extensions(body, out);
}

int client_hello_parse(const uint8_t *buf, size_t len, struct client_hello *out)
{
	long record = client_hello_record_len(buf, len);
	struct cursor frag, body;

	memset(out, 0, sizeof(*out));
	if (record < 0)
		return TLSD_ERR_PROTO;
	if (record == 0 || (size_t)record > len)
		return TLSD_ERR_AGAIN;
	frag = (struct cursor){ buf + 5, (size_t)record - 5, false };
	if (cur_uint(&frag, 1) != HANDSHAKE_CLIENT_HELLO)
		return TLSD_ERR_PROTO;
	body = cur_vector(&frag, 3);	/* fails when the message runs past the record */
	if (body.bad)
		return TLSD_ERR_PROTO;
	return read_body(&body, out);
}
