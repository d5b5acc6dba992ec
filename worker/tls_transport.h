/* tls_transport.h - how a connection's TLS records reach the client socket.
 *
 * GnuTLS flushes a handshake in several writes (in TLS 1.3 the ServerHello,
 * the encrypted rest of the flight and, later, each batch of session
 * tickets), and the first reply to the client follows as yet another. On a
 * socket with Nagle's algorithm a small write after an unacknowledged one
 * waits for the peer's delayed ACK (40 ms on Linux); with TCP_NODELAY each
 * is a packet of its own. A corked transport takes what GnuTLS pushes during
 * one event into a per-connection buffer and writes it with one sendmsg when
 * the event is done (tls_transport_uncork), so a whole flight, its tickets
 * and the first reply leave as one write.
 *
 * Uncorked, a push first sends what is still buffered, in the same sendmsg;
 * while buffered bytes remain unsent it answers EAGAIN, so GnuTLS waits for
 * the socket like it does with its own transport. The buffer holds at most
 * TLS_TRANSPORT_CORK_MAX bytes plus one push; past that a corked push is
 * written at once. Storage exists only while bytes wait, so an idle
 * connection holds none.
 *
 * Reads can be capped (tls_transport_limit_input): GnuTLS checks its own
 * maximum handshake message size only once a whole message is buffered, and
 * a header may announce 16 MiB; the cap bounds what a client can make a
 * worker buffer before its handshake is done.
 */
#ifndef TLSD_WORKER_TLS_TRANSPORT_H
#define TLSD_WORKER_TLS_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#include "common/err.h"

#define TLS_TRANSPORT_CORK_MAX (32 * 1024)
#define TLS_TRANSPORT_PREREAD_MAX (5 + 16384 + 256)	/* one TLS record */

struct tls_transport {
	int fd;
	bool corked;
	uint8_t *buf;		/* NULL while nothing waits */
	size_t len, cap;
	uint8_t *in;		/* bytes read ahead of GnuTLS (the ClientHello); NULL: none */
	size_t in_len, in_pos;
	size_t in_limit;	/* most bytes to read; 0: no limit */
	size_t received;	/* bytes read since the limit was set */
	bool over_limit;	/* a read was refused for the limit */
	uint8_t tail[7];	/* the last bytes read from the socket (tls_transport_plain_alert) */
	uint8_t tail_len;
};

/* tls_transport_init: a transport for the connected socket <fd>, uncorked. */
void tls_transport_init(struct tls_transport *t, int fd);

/* tls_transport_attach: make <s> read from the socket directly and write
 * through <t>, which must outlive <s>. */
void tls_transport_attach(struct tls_transport *t, gnutls_session_t s);

/* tls_transport_limit_input: from now on read at most <max> bytes (0: no
 * limit); a read past it fails (EMSGSIZE: GnuTLS answers
 * GNUTLS_E_PULL_ERROR) and tls_transport_over_limit turns true. */
void tls_transport_limit_input(struct tls_transport *t, size_t max);

/* tls_transport_over_limit: a read was refused for the input limit. */
bool tls_transport_over_limit(const struct tls_transport *t);

/* tls_transport_preread: read ahead of GnuTLS (as much as has come, up to
 * TLS_TRANSPORT_PREREAD_MAX, within the input limit) until <want> bytes
 * wait in <t>;
 * GnuTLS reads them first. TLSD_OK when they are in, or when no more will
 * come now for good (end of stream, an error, the input limit: GnuTLS then
 * meets it on its next read); TLSD_ERR_AGAIN when the socket has no more
 * yet; TLSD_ERR_INTERNAL when out of memory. */
int tls_transport_preread(struct tls_transport *t, size_t want) TLSD_MUST_CHECK;

/* tls_transport_input: the bytes read ahead and not yet taken by GnuTLS. */
size_t tls_transport_input(const struct tls_transport *t, const uint8_t **data);

/* tls_transport_plain_alert: whether the last bytes read from the socket
 * are a whole unencrypted alert record (type 21, length 2) and if so its
 * description into *<description>. A TLS 1.3 client that refuses our
 * certificate sends its alert before it has switched to the handshake
 * keys (OpenSSL does), so GnuTLS, which reads with those keys by then,
 * fails to decrypt it (GNUTLS_E_DECRYPTION_FAILED): this tells what the
 * client said. */
bool tls_transport_plain_alert(const struct tls_transport *t, uint8_t *description);

/* tls_transport_cork: from now on pushes are buffered (see above). */
void tls_transport_cork(struct tls_transport *t);

/* tls_transport_uncork: stop buffering and write what waits. TLSD_OK when
 * nothing is left, TLSD_ERR_AGAIN when bytes wait for the socket to become
 * writable (call tls_transport_flush then), TLSD_ERR_IO (errno set) when the
 * socket failed. */
int tls_transport_uncork(struct tls_transport *t) TLSD_MUST_CHECK;

/* tls_transport_flush: write what waits, as tls_transport_uncork does,
 * without changing whether <t> is corked. */
int tls_transport_flush(struct tls_transport *t) TLSD_MUST_CHECK;

/* tls_transport_pending: bytes GnuTLS handed over that are not yet sent. */
size_t tls_transport_pending(const struct tls_transport *t);

/* tls_transport_free: drop what waits and release the storage. */
void tls_transport_free(struct tls_transport *t);

#endif
