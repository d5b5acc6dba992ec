/* tls_transport.c - corked writes of TLS records to the client socket. */
#include "worker/tls_transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* At most this many iovecs per sendmsg (GnuTLS may queue more records;
 * the rest goes in the next write). */
#define TRANSPORT_IOV_MAX 64

void tls_transport_init(struct tls_transport *t, int fd)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
}

static size_t iov_total(const giovec_t *iov, int iovcnt)
{
	size_t total = 0;

	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	return total;
}

/* drop_sent: <n> bytes of the buffer went out. */
static void drop_sent(struct tls_transport *t, size_t n)
{
	if (n >= t->len) {
		free(t->buf);
		t->buf = NULL;
		t->len = t->cap = 0;
		return;
	}
	memmove(t->buf, t->buf + n, t->len - n);
	t->len -= n;
}

static int reserve(struct tls_transport *t, size_t more)
{
	size_t want = t->len + more;
	uint8_t *grown;

	if (want <= t->cap)
		return TLSD_OK;
	if (want < 4096)
		want = 4096;
	grown = realloc(t->buf, want);
	if (grown == NULL)
		return TLSD_ERR_INTERNAL;
	t->buf = grown;
	t->cap = want;
	return TLSD_OK;
}

static ssize_t buffer_push(struct tls_transport *t, const giovec_t *iov, int iovcnt, size_t total)
{
	if (reserve(t, total) < 0) {
		errno = ENOMEM;
		return -1;
	}
	for (int i = 0; i < iovcnt; i++) {
		memcpy(t->buf + t->len, iov[i].iov_base, iov[i].iov_len);
		t->len += iov[i].iov_len;
	}
	return (ssize_t)total;
}

static ssize_t send_iov(struct tls_transport *t, struct iovec *iov, size_t n)
{
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n };

	return sendmsg(t->fd, &msg, MSG_NOSIGNAL);
}

/* send_push: the buffered bytes, then GnuTLS's, in one sendmsg. Answers
 * how many of GnuTLS's bytes went out, or -1 with errno (EAGAIN while
 * buffered bytes are left: they must go first). */
static ssize_t send_push(struct tls_transport *t, const giovec_t *iov, int iovcnt)
{
	struct iovec v[TRANSPORT_IOV_MAX];
	size_t n = 0, buffered = t->len;
	ssize_t sent;

	if (buffered > 0)
		v[n++] = (struct iovec){ t->buf, buffered };
	for (int i = 0; i < iovcnt && n < TRANSPORT_IOV_MAX; i++)
		v[n++] = (struct iovec){ iov[i].iov_base, iov[i].iov_len };
	sent = send_iov(t, v, n);
	if (sent < 0) {
		if (errno == EINTR || errno == EWOULDBLOCK)
			errno = EAGAIN;
		return -1;
	}
	drop_sent(t, (size_t)sent);
	if ((size_t)sent <= buffered) {
		errno = EAGAIN;
		return -1;
	}
	return sent - (ssize_t)buffered;
}

/* transport_push: GnuTLS's vectored push function. */
static ssize_t transport_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct tls_transport *t = ptr;
	size_t total = iov_total(iov, iovcnt);

	if (t->corked && (t->len == 0 || t->len + total <= TLS_TRANSPORT_CORK_MAX))
		return buffer_push(t, iov, iovcnt, total);
	return send_push(t, iov, iovcnt);
}

/* keep_tail: the last sizeof(t->tail) bytes read, <data> the newest. */
static void keep_tail(struct tls_transport *t, const uint8_t *data, size_t n)
{
	size_t keep = sizeof(t->tail);

	if (n >= keep) {
		memcpy(t->tail, data + n - keep, keep);
		t->tail_len = (uint8_t)keep;
		return;
	}
	if (t->tail_len + n > keep) {
		size_t drop = t->tail_len + n - keep;

		memmove(t->tail, t->tail + drop, t->tail_len - drop);
		t->tail_len = (uint8_t)(t->tail_len - drop);
	}
	memcpy(t->tail + t->tail_len, data, n);
	t->tail_len = (uint8_t)(t->tail_len + n);
}

bool tls_transport_plain_alert(const struct tls_transport *t, uint8_t *description)
{
	const uint8_t *r = t->tail;

	if (t->tail_len != sizeof(t->tail) || r[0] != 21 || r[1] != 3 || r[2] < 1 || r[2] > 4 || r[3] != 0 ||
	    r[4] != 2)
		return false;
	*description = r[6];
	return true;
}

/* read_limited: recv within the input limit. */
static ssize_t read_limited(struct tls_transport *t, void *data, size_t len)
{
	ssize_t n;

	if (t->in_limit > 0) {
		if (t->received >= t->in_limit) {
			t->over_limit = true;
			errno = EMSGSIZE;
			return -1;
		}
		if (len > t->in_limit - t->received)
			len = t->in_limit - t->received;
	}
	n = recv(t->fd, data, len, 0);
	if (n > 0) {
		t->received += (size_t)n;
		keep_tail(t, data, (size_t)n);
	}
	return n;
}

static void drop_input(struct tls_transport *t)
{
	free(t->in);
	t->in = NULL;
	t->in_len = t->in_pos = 0;
}

/* transport_pull: GnuTLS's pull function: what was read ahead first. */
static ssize_t transport_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct tls_transport *t = ptr;
	size_t n;

	if (t->in == NULL)
		return read_limited(t, data, len);
	n = t->in_len - t->in_pos < len ? t->in_len - t->in_pos : len;
	memcpy(data, t->in + t->in_pos, n);
	t->in_pos += n;
	if (t->in_pos == t->in_len)
		drop_input(t);
	return (ssize_t)n;
}

int tls_transport_preread(struct tls_transport *t, size_t want)
{
	ssize_t n;

	if (want > TLS_TRANSPORT_PREREAD_MAX)
		want = TLS_TRANSPORT_PREREAD_MAX;
	if (t->in == NULL && (t->in = malloc(TLS_TRANSPORT_PREREAD_MAX)) == NULL)
		return TLSD_ERR_INTERNAL;
	/* As much as has come, up to one record: usually the whole
	 * ClientHello in one recv. Bytes past it are GnuTLS's next reads. */
	while (t->in_len < want) {
		n = read_limited(t, t->in + t->in_len, TLS_TRANSPORT_PREREAD_MAX - t->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return TLSD_ERR_AGAIN;
		if (n <= 0)
			break;	/* end, error or limit: GnuTLS's next read meets it */
		t->in_len += (size_t)n;
	}
	if (t->in_len == 0)
		drop_input(t);
	return TLSD_OK;
}

size_t tls_transport_input(const struct tls_transport *t, const uint8_t **data)
{
	*data = t->in ? t->in + t->in_pos : NULL;
	return t->in_len - t->in_pos;
}

/* transport_pull_timeout: GnuTLS's wait for readable data, <ms> at most. */
static int transport_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct tls_transport *t = ptr;
	struct pollfd p = { .fd = t->fd, .events = POLLIN };

	return poll(&p, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

void tls_transport_attach(struct tls_transport *t, gnutls_session_t s)
{
	gnutls_transport_set_ptr(s, t);
	gnutls_transport_set_pull_function(s, transport_pull);
	gnutls_transport_set_pull_timeout_function(s, transport_pull_timeout);
	gnutls_transport_set_vec_push_function(s, transport_push);
}

void tls_transport_limit_input(struct tls_transport *t, size_t max)
{
	t->in_limit = max;
	t->received = 0;
	t->over_limit = false;
}

bool tls_transport_over_limit(const struct tls_transport *t)
{
	return t->over_limit;
}

void tls_transport_cork(struct tls_transport *t)
{
	t->corked = true;
}

int tls_transport_flush(struct tls_transport *t)
{
	while (t->len > 0) {
		struct iovec v = { t->buf, t->len };
		ssize_t sent = send_iov(t, &v, 1);

		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return TLSD_ERR_AGAIN;
		if (sent < 0)
			return TLSD_ERR_IO;
		drop_sent(t, (size_t)sent);
	}
	return TLSD_OK;
}

int tls_transport_uncork(struct tls_transport *t)
{
	t->corked = false;
	return tls_transport_flush(t);
}

size_t tls_transport_pending(const struct tls_transport *t)
{
	return t->len;
}

void tls_transport_free(struct tls_transport *t)
{
	drop_input(t);
	free(t->buf);
	t->buf = NULL;
	t->len = t->cap = 0;
}
