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
 */
#ifndef TLSD_WORKER_TLS_TRANSPORT_H
#define TLSD_WORKER_TLS_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/gnutls.h>

#include "common/err.h"

#define TLS_TRANSPORT_CORK_MAX (32 * 1024)

struct tls_transport {
	int fd;
	bool corked;
	uint8_t *buf;		/* NULL while nothing waits */
	size_t len, cap;
	uint64_t writes;	/* sendmsg calls made */
};

/* tls_transport_init: a transport for the connected socket <fd>, uncorked. */
void tls_transport_init(struct tls_transport *t, int fd);

/* tls_transport_attach: make <s> read from the socket directly and write
 * through <t>, which must outlive <s>. */
void tls_transport_attach(struct tls_transport *t, gnutls_session_t s);

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
