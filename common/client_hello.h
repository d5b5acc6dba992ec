/* client_hello.h - what tlsd needs from a ClientHello before GnuTLS reads
 * it: the session ID and the tickets the client offers.
 *
 * A bounded reader over untrusted bytes (RFC 8446 4.1.2, RFC 5077 3.2):
 * every length is checked against what encloses it, nothing is copied but
 * the session ID, and the tickets point into the caller's buffer. Only a
 * ClientHello whose whole message is in the first TLS record is read (a
 * longer one, fragmented over records, is legal and rare: the caller then
 * goes on without what this would have told it).
 */
#ifndef TLSD_COMMON_CLIENT_HELLO_H
#define TLSD_COMMON_CLIENT_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define CLIENT_HELLO_RECORD_MAX (5 + 16384 + 256)	/* header + the largest plaintext record (with slack) */
#define CLIENT_HELLO_PSK_MAX 8				/* identities looked at; more are ignored */

struct client_hello_blob {
	const uint8_t *data;	/* into the parsed buffer */
	size_t len;
};

struct client_hello {
	uint8_t session_id[32];
	size_t session_id_len;
	bool offers_tls13;			/* supported_versions lists TLS 1.3 */
	bool has_ticket_ext;			/* TLS 1.2 session_ticket, maybe empty */
	struct client_hello_blob ticket;	/* its ticket (len 0: asks for one) */
	size_t n_psk;				/* TLS 1.3 pre_shared_key identities */
	struct client_hello_blob psk[CLIENT_HELLO_PSK_MAX];
};

/* client_hello_record_len: how many bytes the first TLS record of <buf>
 * (<len> bytes so far) takes, header included: 0 when fewer than 5 bytes
 * are in, TLSD_ERR_PROTO (negative) when it is not a TLS handshake record
 * or is longer than CLIENT_HELLO_RECORD_MAX. */
long client_hello_record_len(const uint8_t *buf, size_t len);

/* client_hello_parse: read the ClientHello in the first record of <buf>
 * (<len> bytes, at least client_hello_record_len of them) into <out>.
 * TLSD_OK; TLSD_ERR_AGAIN when the record is not all in yet;
 * TLSD_ERR_PROTO when the bytes are no ClientHello this reader can take
 * (not a handshake record, not a ClientHello, fragmented, a length that
 * overruns what holds it). <out> is zeroed first, and meaningful on
 * TLSD_OK only. */
int client_hello_parse(const uint8_t *buf, size_t len, struct client_hello *out) TLSD_MUST_CHECK;

#endif
