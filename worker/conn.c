/* conn.c - the life of one connection: handshake, backend connect, pump,
 * half-close and the one close path. */
#include "worker/conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/client_hello.h"
#include "common/log.h"
#include "common/proxy_header.h"
#include "common/reneg_limit.h"
#include "worker/backend_tls.h"
#include "worker/conn_listing.h"
#include "worker/handshake_failure.h"
#include "worker/pump_buf.h"

/* Bounded work per event: at most this many pump rounds before yielding. */
#define PUMP_ROUNDS_MAX 64

enum conn_state { CONN_HANDSHAKE, CONN_CONNECTING, CONN_BACKEND_TLS, CONN_OPEN, CONN_RENEGOTIATING };

struct conn {
	struct conn_env *env;
	struct conn *prev, *next;
	enum conn_state state;
	int fd;
	int backend_fd;
	gnutls_session_t tls;
	gnutls_session_t btls;		/* TLS to the backend (backend.tls); NULL: cleartext */
	size_t backend_send_pending;	/* bytes of the record GnuTLS is still sending to the backend */
	bool backend_wants_write;	/* the backend's GnuTLS waits for writability */
	bool backend_bye_sent;
	struct tls_transport tx;	/* how its records reach the client socket */
	struct session_db_binding db;	/* the session-ID cache, for this session */
	struct tls_sni sni;		/* the SNI context it chose */
	int series;		/* the context_stats series it counts in, from its handshake on; NONE before */
	struct conn_listing listing;	/* its record for GET /v1/connections */
	ev_io client_io;
	ev_io backend_io;
	ev_timer timer;		/* handshake or backend-connect deadline */
	ev_timer store_timer;	/* how long the handshake waits for the session store */
	struct session_store_lookup *store_lookup;	/* a lookup in flight, or NULL */
	ev_tstamp started;
	ev_tstamp backend_started;	/* when the connect to the backend began */
	char client[80];
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct tls_info info;
	struct reneg_limit reneg;
	uint64_t bytes_in, bytes_out;
	size_t send_pending;	/* bytes of the record GnuTLS is still sending */
	bool client_wants_write;/* GnuTLS waits for the client socket to be writable */
	bool client_readable;	/* this event said the client socket is readable */
	bool backend_readable;	/* ... the backend socket */
	bool client_eof;	/* close_notify or FIN from the client */
	bool backend_eof;	/* FIN from the backend */
	bool hello_read;	/* the ClientHello was read ahead (or could not be) */
	uint8_t store_id[32];	/* the session ID asked of the store */
	size_t store_id_len;
	enum ticket_key_state ticket_key;	/* the ring entry the session decrypts with */
	bool tickets_due;	/* TLS 1.3 tickets not sent yet: the socket was full */
	bool bye_sent;		/* close_notify handed to the transport */
	bool client_shut;	/* close_notify and FIN sent to the client */
	bool backend_shut;	/* FIN sent to the backend */
	const char *first_eof;	/* which side ended first: the close reason */
	struct pump_buf up;	/* client -> backend (echo: client -> client) */
	struct pump_buf down;	/* backend -> client */
};

static bool conn_handshake_step(struct conn *c);
static bool conn_pump(struct conn *c);

/* conn_count: this worker's shared counters (common/cluster_stats). */
static void conn_count(const struct conn *c, enum cluster_counter which, uint64_t n)
{
	cluster_stats_add(c->env->stats, c->env->slot, which, n);
}

/* conn_count_context: the same by SNI context (common/context_stats);
 * <series> CONTEXT_SERIES_NONE: the context is not known, nothing counted. */
static void conn_count_context(const struct conn *c, int series, enum context_counter which, uint64_t n)
{
	context_stats_add(c->env->context_stats, c->env->slot, series, which, n);
}

static long conn_age_ms(const struct conn *c)
{
	return (long)((ev_now(c->env->loop) - c->started) * 1000.0);
}

static bool conn_is_echo(const struct conn *c)
{
	return c->env->backend == NULL;
}

/* The buffer whose bytes go out to the client. */
static struct pump_buf *conn_outbound(struct conn *c)
{
	return conn_is_echo(c) ? &c->up : &c->down;
}

/* conn_facts: what the connection's listing record is built from. */
static struct conn_listing_facts conn_facts(const struct conn *c, bool handshake_done)
{
	return (struct conn_listing_facts){
		.fd = c->fd, .pid = c->env->log->worker,
		.peer = (const struct sockaddr *)&c->peer, .peer_len = c->peer_len,
		.started = c->started, .info = handshake_done ? &c->info : NULL,
		.session = handshake_done ? c->tls : NULL,
	};
}

static void conn_show_handshake(struct conn *c)
{
	struct conn_listing_facts facts = conn_facts(c, true);

	conn_listing_handshake_done(&c->listing, &facts);
}

static void conn_show_start(struct conn *c)
{
	struct conn_listing_facts facts = conn_facts(c, false);

	conn_listing_open(&c->listing, c->env->conn_table, c->env->slot, ++c->env->conn_seq, &facts);
}

static void conn_release(struct conn *c)
{
	session_store_abandon(c->store_lookup);
	c->store_lookup = NULL;
	ev_timer_stop(c->env->loop, &c->store_timer);
	conn_listing_close(&c->listing);
	ev_io_stop(c->env->loop, &c->client_io);
	ev_io_stop(c->env->loop, &c->backend_io);
	ev_timer_stop(c->env->loop, &c->timer);
	if (c->tls != NULL)
		gnutls_deinit(c->tls);
	tls_sni_release(&c->sni);
	context_stats_close(c->env->context_stats, c->env->slot, c->series);
	/* A last alert or close_notify may still wait in the cork: one try. */
	if (tls_transport_flush(&c->tx) < 0)
		log_debug("%s: closing with %zu byte(s) unsent", c->client, tls_transport_pending(&c->tx));
	tls_transport_free(&c->tx);
	if (c->fd >= 0)
		close(c->fd);
	if (c->btls != NULL)
		gnutls_deinit(c->btls);
	if (c->backend_fd >= 0)
		close(c->backend_fd);
	pump_buf_free(&c->up);
	pump_buf_free(&c->down);
}

/* conn_close: the one way out once the handshake is done. */
static void conn_close(struct conn *c, const char *reason)
{
	struct access_close line = {
		.id = c->listing.id, .client = c->client, .tls = &c->info, .bytes_in = c->bytes_in,
		.bytes_out = c->bytes_out, .duration_ms = conn_age_ms(c), .reason = reason,
	};

	access_log_close(c->env->log, &line);
	conn_release(c);
	c->env->on_close(c->env, c);
	free(c);
}

/* conn_fail_handshake: the one way out before the handshake is done. */
static void conn_fail_handshake(struct conn *c, const char *error, const char *alert,
				const char *authorization_error, const char *reason)
{
	struct access_client_error line = {
		.id = c->listing.id, .client = c->client, .error = error, .alert = alert,
		.authorization_error = authorization_error, .duration_ms = conn_age_ms(c), .reason = reason,
	};

	access_log_client_error(c->env->log, &line);
	conn_release(c);
	c->env->on_close(c->env, c);
	free(c);
}

void conn_abort(struct conn *c, const char *reason)
{
	if (c->state == CONN_HANDSHAKE)
		conn_fail_handshake(c, "server shutting down", NULL, NULL, reason);
	else
		conn_close(c, reason);
}

/* watch: point <w> at <events> (0 stops it) without needless restarts. */
static void watch(struct ev_loop *loop, ev_io *w, int fd, int events)
{
	if (fd < 0 || (ev_is_active(w) && (w->events & (EV_READ | EV_WRITE)) == events))
		return;
	ev_io_stop(loop, w);
	if (events == 0)
		return;
	ev_io_set(w, fd, events);
	ev_io_start(loop, w);
}

static int tls_direction_events(gnutls_session_t s)
{
	return gnutls_record_get_direction(s) ? EV_WRITE : EV_READ;
}

/* conn_update_watchers: listen only for what can make progress now. */
static void conn_update_watchers(struct conn *c)
{
	int client = 0, backend = 0;
	int unsent = tls_transport_pending(&c->tx) > 0 ? EV_WRITE : 0;

	if (c->store_lookup != NULL) {	/* nothing is read while the store answers */
		watch(c->env->loop, &c->client_io, c->fd, unsent);
		return;
	}
	if (c->state == CONN_HANDSHAKE || c->state == CONN_RENEGOTIATING) {
		watch(c->env->loop, &c->client_io, c->fd, tls_direction_events(c->tls) | unsent);
		watch(c->env->loop, &c->backend_io, c->backend_fd, 0);
		return;
	}
	if (c->state == CONN_OPEN) {
		if (!c->client_eof && pump_buf_space(&c->up) > 0)
			client |= EV_READ;
		if (c->client_wants_write)
			client |= EV_WRITE;
		if (!conn_is_echo(c) && !c->backend_eof && pump_buf_space(&c->down) > 0)
			backend |= EV_READ;
		if (!conn_is_echo(c) && !c->backend_shut && pump_buf_len(&c->up) > 0)
			backend |= EV_WRITE;
		if (c->backend_wants_write)
			backend |= EV_WRITE;
	} else if (c->state == CONN_CONNECTING) {
		backend = EV_WRITE;
	} else if (c->state == CONN_BACKEND_TLS) {
		backend = tls_direction_events(c->btls);
	}
	watch(c->env->loop, &c->client_io, c->fd, client | unsent);
	watch(c->env->loop, &c->backend_io, c->backend_fd, backend);
}

/* conn_note_eof: remember which side ended first (the close reason). */
static void conn_note_eof(struct conn *c, bool *flag, const char *reason)
{
	*flag = true;
	if (c->first_eof == NULL)
		c->first_eof = reason;
}

static bool conn_renegotiate(struct conn *c)
{
	if (!reneg_limit_allow(&c->reneg, (int64_t)ev_now(c->env->loop))) {
		conn_count(c, CS_RENEG_REFUSED, 1);
		log_info("%s: renegotiation limit (%d in %d s) exceeded: closing", c->client,
			 c->reneg.limit, c->reneg.window_s);
		conn_close(c, "renegotiation-limit");
		return false;
	}
	conn_count(c, CS_RENEG_ACCEPTED, 1);
	c->state = CONN_RENEGOTIATING;
	return conn_handshake_step(c);
}

/* pump_client_read: decrypt from the client into the up buffer.
 * Returns 1 on progress, 0 when nothing more now, -1 when <c> is gone. */
static int pump_client_read(struct conn *c)
{
	ssize_t n;

	if (c->client_eof || pump_buf_space(&c->up) == 0)
		return 0;
	if (c->up.data == NULL && !c->client_readable && gnutls_record_check_pending(c->tls) == 0)
		return 0;
	if (pump_buf_reserve(&c->up) < 0) {
		conn_close(c, "error");
		return -1;
	}
	n = gnutls_record_recv(c->tls, pump_buf_write_ptr(&c->up), pump_buf_space(&c->up));
	if (n > 0) {
		pump_buf_produced(&c->up, (size_t)n);
		c->bytes_in += (uint64_t)n;
		conn_count(c, CS_BYTES_IN, (uint64_t)n);
		conn_count_context(c, c->series, CX_BYTES_IN, (uint64_t)n);
		conn_listing_bytes(&c->listing, (uint64_t)n, 0);
		return 1;
	}
	if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
		conn_note_eof(c, &c->client_eof, "client-close");
		return 1;
	}
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		c->client_wants_write = gnutls_record_get_direction(c->tls) == 1;
		return 0;
	}
	if (n == GNUTLS_E_REHANDSHAKE)
		return conn_renegotiate(c) ? 0 : -1;
	if (!gnutls_error_is_fatal((int)n))
		return 1;
	log_debug("%s: receive failed: %s", c->client, gnutls_strerror((int)n));
	conn_close(c, "error");
	return -1;
}

/* pump_client_write: encrypt the outbound buffer to the client, at most
 * maxSendFragment bytes per record (Node's setMaxSendFragment). */
static int pump_client_write(struct conn *c)
{
	struct pump_buf *out = conn_outbound(c);
	size_t len = pump_buf_len(out);
	ssize_t n;

	if (len == 0)
		return 0;
	if (c->send_pending == 0)
		c->send_pending = len < (size_t)c->env->cfg->max_send_fragment
					  ? len : (size_t)c->env->cfg->max_send_fragment;
	/* GnuTLS wants the same arguments again after GNUTLS_E_AGAIN. */
	n = gnutls_record_send(c->tls, pump_buf_read_ptr(out), c->send_pending);
	if (n > 0) {
		pump_buf_consumed(out, (size_t)n);
		c->bytes_out += (uint64_t)n;
		conn_count(c, CS_BYTES_OUT, (uint64_t)n);
		conn_count_context(c, c->series, CX_BYTES_OUT, (uint64_t)n);
		conn_listing_bytes(&c->listing, 0, (uint64_t)n);
		c->send_pending = 0;
		c->client_wants_write = false;
		return 1;
	}
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		c->client_wants_write = true;
		return 0;
	}
	log_debug("%s: send failed: %s", c->client, gnutls_strerror((int)n));
	conn_close(c, "error");
	return -1;
}

/* pump_tickets: the TLS 1.3 session tickets, before any byte of data
 * (with the flight, in the same corked write). A failure costs the client
 * its tickets, not the connection. */
static int pump_tickets(struct conn *c)
{
	int rc;

	if (!c->tickets_due)
		return 0;
	rc = tls_session_send_tickets(c->tls);
	if (rc == TLSD_ERR_AGAIN) {
		c->client_wants_write = true;
		return 0;
	}
	if (rc < 0)
		log_debug("%s: cannot send session tickets", c->client);
	c->tickets_due = false;
	return 1;
}

/* pump_backend_tls_read: decrypt from the backend into the down buffer. */
static int pump_backend_tls_read(struct conn *c)
{
	ssize_t n = gnutls_record_recv(c->btls, pump_buf_write_ptr(&c->down), pump_buf_space(&c->down));

	if (n > 0) {
		pump_buf_produced(&c->down, (size_t)n);
		return 1;
	}
	if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
		conn_note_eof(c, &c->backend_eof, "backend-close");
		return 1;
	}
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		c->backend_wants_write = gnutls_record_get_direction(c->btls) == 1;
		return 0;
	}
	if (!gnutls_error_is_fatal((int)n))
		return 1;
	log_info("%s: backend %s: TLS receive: %s", c->client, c->env->backend->text, gnutls_strerror((int)n));
	conn_close(c, "backend-error");
	return -1;
}

/* pump_backend_tls_write: encrypt the up buffer to the backend. */
static int pump_backend_tls_write(struct conn *c)
{
	size_t len = pump_buf_len(&c->up);
	ssize_t n;

	if (c->backend_send_pending == 0)
		c->backend_send_pending = len < 16384 ? len : 16384;
	/* GnuTLS wants the same arguments again after GNUTLS_E_AGAIN. */
	n = gnutls_record_send(c->btls, pump_buf_read_ptr(&c->up), c->backend_send_pending);
	if (n > 0) {
		pump_buf_consumed(&c->up, (size_t)n);
		c->backend_send_pending = 0;
		c->backend_wants_write = false;
		return 1;
	}
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		return 0;
	log_info("%s: backend %s: TLS send: %s", c->client, c->env->backend->text, gnutls_strerror((int)n));
	conn_close(c, "backend-error");
	return -1;
}

static int pump_backend_read(struct conn *c)
{
	ssize_t n;

	if (conn_is_echo(c) || c->backend_eof || pump_buf_space(&c->down) == 0)
		return 0;
	if (c->down.data == NULL && !c->backend_readable && !(c->btls && gnutls_record_check_pending(c->btls)))
		return 0;
	if (pump_buf_reserve(&c->down) < 0) {
		conn_close(c, "error");
		return -1;
	}
	if (c->btls != NULL)
		return pump_backend_tls_read(c);
	n = read(c->backend_fd, pump_buf_write_ptr(&c->down), pump_buf_space(&c->down));
	if (n > 0) {
		pump_buf_produced(&c->down, (size_t)n);
		return 1;
	}
	if (n == 0) {
		conn_note_eof(c, &c->backend_eof, "backend-close");
		return 1;
	}
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	log_info("%s: backend %s: read: %s", c->client, c->env->backend->text, strerror(errno));
	conn_close(c, "backend-error");
	return -1;
}

static int pump_backend_write(struct conn *c)
{
	ssize_t n;

	if (conn_is_echo(c) || c->backend_shut || pump_buf_len(&c->up) == 0)
		return 0;
	if (c->btls != NULL)
		return pump_backend_tls_write(c);
	n = send(c->backend_fd, pump_buf_read_ptr(&c->up), pump_buf_len(&c->up), MSG_NOSIGNAL);
	if (n > 0) {
		pump_buf_consumed(&c->up, (size_t)n);
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	log_info("%s: backend %s: write: %s", c->client, c->env->backend->text, strerror(errno));
	conn_close(c, "backend-error");
	return -1;
}

/* shut_client: after the last outbound byte, send close_notify and FIN
 * (Node's end()). Returns 1 when done, 0 to retry, -1 when <c> is gone. */
static int shut_client(struct conn *c)
{
	int rc = c->bye_sent ? GNUTLS_E_SUCCESS : gnutls_bye(c->tls, GNUTLS_SHUT_WR);

	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		c->client_wants_write = true;
		return 0;
	}
	c->bye_sent = true;
	c->client_wants_write = false;
	/* The FIN goes after the last record, corked ones included. */
	if (tls_transport_flush(&c->tx) == TLSD_ERR_AGAIN)
		return 0;
	shutdown(c->fd, SHUT_WR);
	c->client_shut = true;
	return 1;
}

/* shut_backend: the client's end of stream, passed on: close_notify first
 * over TLS, then FIN. Returns 1 when done, 0 to retry. */
static int shut_backend(struct conn *c)
{
	int rc = c->btls == NULL || c->backend_bye_sent ? GNUTLS_E_SUCCESS : gnutls_bye(c->btls, GNUTLS_SHUT_WR);

	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		c->backend_wants_write = true;
		return 0;
	}
	c->backend_bye_sent = true;
	c->backend_wants_write = false;
	shutdown(c->backend_fd, SHUT_WR);
	c->backend_shut = true;
	return 1;
}

/* pump_half_close: pass an end of stream on once its buffer is drained. */
static int pump_half_close(struct conn *c)
{
	bool client_done = c->client_eof && pump_buf_len(&c->up) == 0;

	if (conn_is_echo(c))
		return client_done && !c->client_shut ? shut_client(c) : 0;
	if (client_done && !c->backend_shut)
		return shut_backend(c);
	if (c->backend_eof && pump_buf_len(&c->down) == 0 && !c->client_shut)
		return shut_client(c);
	return 0;
}

static bool conn_finished(const struct conn *c)
{
	if (conn_is_echo(c))
		return c->client_shut;
	return c->client_shut && c->backend_shut && c->client_eof && c->backend_eof;
}

/* pump_round: one pass over every direction; >0 progress, -1 gone. */
static int pump_round(struct conn *c)
{
	int (*const steps[])(struct conn *) = {
		pump_tickets, pump_client_read, pump_backend_write, pump_backend_read, pump_client_write, pump_half_close,
	};
	int progress = 0;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int rc = steps[i](c);

		if (rc < 0)
			return -1;
		if (c->state != CONN_OPEN)
			return 0;
		progress |= rc;
	}
	return progress;
}

/* conn_release_idle_buffers: an idle connection keeps no buffer, so it
 * costs only its GnuTLS session (buffers come back on the next readable
 * event; see pump_client_read). */
static void conn_release_idle_buffers(struct conn *c)
{
	c->client_readable = c->backend_readable = false;
	if (pump_buf_len(&c->up) == 0)
		pump_buf_free(&c->up);
	if (pump_buf_len(&c->down) == 0)
		pump_buf_free(&c->down);
}

/* conn_pump: move bytes until nothing moves (bounded), then re-arm. */
static bool conn_pump(struct conn *c)
{
	int rc = 1;

	for (int round = 0; rc > 0 && round < PUMP_ROUNDS_MAX; round++)
		rc = pump_round(c);
	if (rc < 0)
		return false;
	if (c->state == CONN_OPEN && conn_finished(c)) {
		conn_close(c, c->first_eof ? c->first_eof : "client-close");
		return false;
	}
	conn_release_idle_buffers(c);
	conn_update_watchers(c);
	/* Work left after the bounded rounds: come back in the next loop
	 * iteration. After the watchers are set: stopping a watcher (as
	 * conn_update_watchers does when its events change) drops an event
	 * already fed to it, and with a full buffer and nothing to wait for
	 * no other event would ever come. */
	if (rc > 0)
		ev_feed_event(c->env->loop, &c->client_io, EV_CUSTOM);
	return true;
}

/* conn_send_proxy_header: queue the PROXY header before any client byte. */
static int conn_send_proxy_header(struct conn *c)
{
	uint8_t header[PROXY_HEADER_MAX];
	struct sockaddr_storage local;
	socklen_t local_len = sizeof(local);
	size_t len = 0;
	struct proxy_header_info info = {
		.src = (struct sockaddr *)&c->peer, .src_len = c->peer_len,
		.dst = (struct sockaddr *)&local,
		.alpn = c->info.alpn[0] ? c->info.alpn : NULL,
		.servername = c->info.servername[0] ? c->info.servername : NULL,
		.tls_version = c->info.protocol, .cipher = c->info.cipher,
		.client_cert_conn = c->info.peer_certificate,
		.client_cert_verified = c->info.authorized,
	};
	enum tlsd_proxy_protocol mode = c->env->cfg->proxy_protocol;

	if (mode == TLSD_PROXY_OFF)
		return TLSD_OK;
	if (getsockname(c->fd, (struct sockaddr *)&local, &local_len) < 0)
		return TLSD_ERR_IO;
	info.dst_len = local_len;
	if (mode == TLSD_PROXY_V1)
		GUARD(proxy_header_v1(&info, header, sizeof(header), &len));
	else
		GUARD(proxy_header_v2(&info, header, sizeof(header), &len));
	return pump_buf_append(&c->up, header, len);
}

static bool conn_open(struct conn *c)
{
	c->state = CONN_OPEN;
	return conn_pump(c);
}

/* A backend that is down fails every connection: one warn line per
 * BACKEND_WARN_INTERVAL_S in this worker, saying how many it did not log. */
#define BACKEND_WARN_INTERVAL_S 10.0

static struct {
	ev_tstamp next;		/* no line before this */
	unsigned long quiet;	/* failures since the last line */
} backend_warnings;

/* conn_backend_failed: the connect to the backend failed with <error>
 * (ETIMEDOUT: backend.timeout passed): counted, logged (rate-limited),
 * and the client closed. */
static void conn_backend_failed(struct conn *c, int error)
{
	ev_tstamp now = ev_now(c->env->loop);

	cluster_stats_backend_failed(c->env->stats, c->env->slot, error, cluster_stats_monotonic_ms());
	if (now >= backend_warnings.next) {
		if (backend_warnings.quiet > 0)
			log_warn("%s: backend %s: connect: %s (and %lu more failed in the last %.0f s)", c->client,
				 c->env->backend->text, strerror(error), backend_warnings.quiet,
				 BACKEND_WARN_INTERVAL_S);
		else
			log_warn("%s: backend %s: connect: %s", c->client, c->env->backend->text, strerror(error));
		backend_warnings.next = now + BACKEND_WARN_INTERVAL_S;
		backend_warnings.quiet = 0;
	} else {
		backend_warnings.quiet++;
	}
	conn_close(c, error == ETIMEDOUT ? "backend-timeout" : "backend-connect-failed");
}

static bool conn_connect_backend(struct conn *c)
{
	c->backend_started = ev_time();
	if (backend_connect(c->env->backend, &c->backend_fd) < 0) {
		conn_backend_failed(c, errno);
		return false;
	}
	if (conn_send_proxy_header(c) < 0) {
		log_error("%s: cannot build the PROXY header", c->client);
		conn_close(c, "error");
		return false;
	}
	c->state = CONN_CONNECTING;
	ev_timer_set(&c->timer, (double)c->env->backend->timeout_ms / 1000.0, 0.0);
	ev_timer_start(c->env->loop, &c->timer);
	conn_update_watchers(c);
	return true;
}

/* conn_backend_tls_failed: the backend's certificate or handshake failed:
 * the client gets close_notify, the log and the metrics the reason. */
static void conn_backend_tls_failed(struct conn *c, int rc)
{
	char detail[128];
	enum backend_tls_failure why = backend_tls_failure_of(c->btls, rc, detail, sizeof(detail));

	log_warn("%s: backend %s: TLS to %s refused: %s (%s)", c->client, c->env->backend->text,
		 backend_tls_name(c->env->backend->tls), backend_tls_failure_name(why), detail);
	conn_count(c, (enum cluster_counter)(CS_BACKEND_TLS_EXPIRED + (int)why), 1);
	(void)gnutls_bye(c->tls, GNUTLS_SHUT_WR);
	conn_close(c, "backend-tls-failed");
}

static bool conn_backend_tls_step(struct conn *c)
{
	int rc;

	do
		rc = gnutls_handshake(c->btls);
	while (rc < 0 && rc != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(rc));
	if (rc == GNUTLS_E_AGAIN) {
		conn_update_watchers(c);
		return true;
	}
	if (rc < 0) {
		conn_backend_tls_failed(c, rc);
		return false;
	}
	ev_timer_stop(c->env->loop, &c->timer);
	conn_count(c, gnutls_session_is_resumed(c->btls) ? CS_BACKEND_TLS_RESUMED : CS_BACKEND_TLS_FULL, 1);
	backend_tls_handshake_done(c->env->backend->tls, c->btls);
	conn_listing_backend(&c->listing, c->env->backend->text, c->btls, backend_tls_verified(c->env->backend->tls));
	return conn_open(c);
}

/* conn_backend_tls_start: the PROXY header first, in cleartext before the
 * ClientHello (as HAProxy sends it, and as nginx's "listen ... ssl
 * proxy_protocol" reads it), then the handshake to the backend, under the
 * same backend timeout as the connect. */
static bool conn_backend_tls_start(struct conn *c)
{
	size_t len = pump_buf_len(&c->up);

	if (len > 0 && send(c->backend_fd, pump_buf_read_ptr(&c->up), len, MSG_NOSIGNAL) != (ssize_t)len) {
		log_info("%s: backend %s: cannot send the PROXY header", c->client, c->env->backend->text);
		conn_close(c, "backend-error");
		return false;
	}
	pump_buf_consumed(&c->up, len);
	if (backend_tls_session(c->env->backend->tls, c->backend_fd, c->info.alpn, &c->btls) < 0) {
		log_error("%s: cannot set up a TLS session to the backend", c->client);
		conn_close(c, "error");
		return false;
	}
	c->state = CONN_BACKEND_TLS;
	return conn_backend_tls_step(c);
}

static bool conn_backend_connected(struct conn *c)
{
	int error = backend_connect_result(c->backend_fd);

	if (error != 0) {
		conn_backend_failed(c, error);
		return false;
	}
	cluster_stats_backend_connected(c->env->stats, c->env->slot, (uint64_t)((ev_time() - c->backend_started) * 1e6),
					cluster_stats_monotonic_ms());
	if (c->env->backend->tls != NULL)
		return conn_backend_tls_start(c);
	ev_timer_stop(c->env->loop, &c->timer);
	conn_listing_backend(&c->listing, c->env->backend->text, NULL, false);
	return conn_open(c);
}

/* conn_count_context_handshake: the first handshake is done: from now on
 * <c> counts in the series its ClientHello chose (a resumption that did
 * not go through the certificate choice: the one its server name gets). */
static void conn_count_context_handshake(struct conn *c)
{
	enum context_counter kind = !c->info.resumed ? CX_HS_FULL
				    : c->info.resumed_session_id ? CX_HS_RESUMED_ID : CX_HS_RESUMED_TICKET;

	c->series = c->sni.series;
	if (c->series == CONTEXT_SERIES_NONE)
		c->series = c->env->sni != NULL ? sni_map_series(c->env->sni, c->info.servername)
			    : c->info.servername[0] ? CONTEXT_SERIES_OTHER : CONTEXT_SERIES_DEFAULT;
	conn_count_context(c, c->series, kind, 1);
	context_stats_open(c->env->context_stats, c->env->slot, c->series);
}

static void conn_count_handshake(const struct conn *c)
{
	static const enum cluster_counter by_key[] = {
		[TICKET_KEY_NEXT] = CS_TICKET_RESUMED_NEXT,
		[TICKET_KEY_ACTIVE] = CS_TICKET_RESUMED_ACTIVE,
		[TICKET_KEY_DECRYPT_ONLY] = CS_TICKET_RESUMED_DECRYPT_ONLY,
	};

	cluster_stats_observe_handshake(c->env->stats, c->env->slot, c->info.resumed ? CS_KIND_RESUMED : CS_KIND_FULL,
					(uint64_t)((ev_time() - c->started) * 1e6));
	if (!c->info.resumed)
		conn_count(c, CS_HS_FULL, 1);
	else
		conn_count(c, c->info.resumed_session_id ? CS_HS_RESUMED_ID : CS_HS_RESUMED_TICKET, 1);
	if (c->info.resumed && !c->info.resumed_session_id)
		conn_count(c, by_key[c->ticket_key], 1);
	/* By version too; older ones (a native "priority" may allow them) are
	 * not counted by version. */
	if (strcmp(c->info.protocol, "TLSv1.3") == 0)
		conn_count(c, CS_HS_TLS13, 1);
	else if (strcmp(c->info.protocol, "TLSv1.2") == 0)
		conn_count(c, CS_HS_TLS12, 1);
}

static bool conn_handshake_done(struct conn *c)
{
	ev_timer_stop(c->env->loop, &c->timer);
	tls_transport_limit_input(&c->tx, 0);
	tls_transport_cork(&c->tx);	/* the tickets with the first echo */
	c->tickets_due = true;
	if (pump_tickets(c) < 0)
		return false;
	tls_session_describe(c->env->tls, c->tls, &c->info);
	conn_count_handshake(c);
	conn_count_context_handshake(c);
	conn_show_handshake(c);
	if (conn_is_echo(c))
		return conn_open(c);
	return conn_connect_backend(c);
}

/* handshake_alert: the alert the client sent, or the one we send back. */
static const char *handshake_alert(struct conn *c, int rc)
{
	int level = 0;
	int alert;
	uint8_t plain;

	if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || rc == GNUTLS_E_WARNING_ALERT_RECEIVED)
		return gnutls_alert_get_name(gnutls_alert_get(c->tls));
	if (rc == GNUTLS_E_DECRYPTION_FAILED && tls_transport_plain_alert(&c->tx, &plain))
		return gnutls_alert_get_name((gnutls_alert_description_t)plain);
	alert = gnutls_error_to_alert(rc, &level);
	if (alert < 0)
		return NULL;
	gnutls_alert_send(c->tls, (gnutls_alert_level_t)level, (gnutls_alert_description_t)alert);
	return gnutls_alert_get_name((gnutls_alert_description_t)alert);
}

static void conn_handshake_failed(struct conn *c, int rc)
{
	const char *auth = NULL;
	const char *alert;

	if (rc == GNUTLS_E_PULL_ERROR && tls_transport_over_limit(&c->tx))
		rc = GNUTLS_E_HANDSHAKE_TOO_LARGE;	/* more than maxHandshakeSize */
	alert = handshake_alert(c, rc);

	if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR || rc == GNUTLS_E_NO_CERTIFICATE_FOUND)
		auth = rc == GNUTLS_E_NO_CERTIFICATE_FOUND
			       ? "UNABLE_TO_GET_ISSUER_CERT"
			       : tls_verify_error_code(gnutls_session_get_verify_cert_status(c->tls));
	if (c->state == CONN_RENEGOTIATING) {
		log_info("%s: renegotiation failed: %s", c->client, gnutls_strerror(rc));
		conn_close(c, "error");
		return;
	}
	conn_count(c, CS_HS_FAILED, 1);
	conn_count_context(c, c->sni.series, CX_HS_FAILED, 1);
	handshake_failure_count(c->env->stats, c->env->slot, c->tls, rc, &c->tx);
	conn_fail_handshake(c, gnutls_strerror(rc), alert, auth, "handshake-failed");
}

/* conn_offered_ticket: the ring entry that decrypts a ticket <ch> offers
 * (a TLS 1.3 PSK identity, else the TLS 1.2 session ticket), or NULL. */
static const unsigned char *conn_offered_ticket(struct conn *c, const struct client_hello *ch, bool *offered)
{
	int64_t now = (int64_t)ev_now(c->env->loop);
	unsigned expire = (unsigned)c->env->cfg->session_timeout_s;
	const unsigned char *master;

	*offered = ch->n_psk > 0 || ch->ticket.len > 0;
	for (size_t i = 0; i < ch->n_psk; i++) {
		master = ticket_key_copy_match(c->env->ticket_key, ch->psk[i].data, ch->psk[i].len, now, expire,
					       &c->ticket_key);
		if (master != NULL)
			return master;
	}
	if (ch->ticket.len == 0)
		return NULL;
	return ticket_key_copy_match(c->env->ticket_key, ch->ticket.data, ch->ticket.len, now, expire,
				     &c->ticket_key);
}

/* conn_choose_ticket_key: the session decrypts (and renews) a ticket under
 * the ring entry its name points at; none: the active key, as set up. */
static void conn_choose_ticket_key(struct conn *c, const struct client_hello *ch)
{
	bool offered = false;
	const unsigned char *master = conn_offered_ticket(c, ch, &offered);

	if (master == NULL) {
		c->ticket_key = TICKET_KEY_ACTIVE;
		if (offered)
			conn_count(c, CS_TICKET_KEY_NOT_FOUND, 1);
		return;
	}
	if (c->ticket_key != TICKET_KEY_ACTIVE && tls_session_use_ticket_master(c->tls, master) < 0) {
		log_debug("%s: GnuTLS refused the ticket key of the ClientHello", c->client);
		c->ticket_key = TICKET_KEY_ACTIVE;
	}
}

static bool conn_uncork(struct conn *c);

/* conn_store_done: the store answered, or the handshake stopped waiting:
 * GnuTLS takes over (with the entry in the shared cache, if one came). */
static void conn_store_done(struct conn *c)
{
	c->store_lookup = NULL;
	ev_timer_stop(c->env->loop, &c->store_timer);
	if (conn_handshake_step(c))
		conn_uncork(c);
}

static void on_store_found(void *arg, const uint8_t *blob, size_t len, int64_t expires)
{
	struct conn *c = arg;
	const struct session_db *db = tls_server_session_db(c->env->tls);

	if (blob != NULL && session_cache_store(db->cache, c->store_id, c->store_id_len, blob, len, expires,
						(int64_t)ev_now(c->env->loop)) < 0)
		log_debug("%s: the session from the store does not fit the cache", c->client);
	conn_store_done(c);
}

static void on_store_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct conn *c = t->data;

	session_store_abandon(c->store_lookup);
	conn_count(c, CS_STORE_TIMEOUTS, 1);
	conn_store_done(c);
}

/* conn_wants_store: a TLS 1.2 ClientHello offering a session ID (and no
 * ticket, which would be tried too) that this machine's cache lacks. A
 * TLS 1.3 ClientHello's session ID is random (RFC 8446 D.4): never asked. */
static bool conn_wants_store(const struct conn *c, const struct client_hello *ch)
{
	const struct session_db *db = tls_server_session_db(c->env->tls);

	if (c->env->store == NULL || db->cache == NULL || ch->session_id_len == 0 || ch->offers_tls13 ||
	    ch->ticket.len > 0 || ch->n_psk > 0)
		return false;
	/* A look only: GnuTLS's own fetch counts the hit or the miss. */
	return !session_cache_contains(db->cache, ch->session_id, ch->session_id_len, (int64_t)ev_now(c->env->loop));
}

/* conn_ask_store: look the session ID up in the store, waiting at most
 * SESSION_STORE_WAIT_MS. TLSD_ERR_AGAIN while it answers. */
static int conn_ask_store(struct conn *c, const struct client_hello *ch)
{
	const struct session_db *db = tls_server_session_db(c->env->tls);

	if (!conn_wants_store(c, ch))
		return TLSD_OK;
	memcpy(c->store_id, ch->session_id, ch->session_id_len);
	c->store_id_len = ch->session_id_len;
	c->store_lookup = session_store_get(c->env->store, ch->session_id, ch->session_id_len, db->context,
					    on_store_found, c);
	if (c->store_lookup == NULL)
		return TLSD_OK;
	ev_timer_set(&c->store_timer, SESSION_STORE_WAIT_MS / 1000.0, 0.0);
	ev_timer_start(c->env->loop, &c->store_timer);
	return TLSD_ERR_AGAIN;
}

/* conn_read_hello: read the first TLS record ahead of GnuTLS and pick the
 * ticket key from it (and ask the session store). TLSD_ERR_AGAIN: more
 * bytes are needed, or the store's answer; otherwise GnuTLS takes over
 * (with what was read, whatever it was). */
static int conn_read_hello(struct conn *c)
{
	struct client_hello ch;
	const uint8_t *data;
	size_t have = tls_transport_input(&c->tx, &data);
	long need = client_hello_record_len(data, have);

	while (need == 0 || (need > 0 && have < (size_t)need)) {
		int rc = tls_transport_preread(&c->tx, need > 0 ? (size_t)need : 5);

		if (rc < 0)
			return rc;
		if (tls_transport_input(&c->tx, &data) == have)
			break;	/* no more will come: GnuTLS meets the end */
		have = tls_transport_input(&c->tx, &data);
		need = client_hello_record_len(data, have);
	}
	if (need <= 0 || client_hello_parse(data, have, &ch) != TLSD_OK)
		return TLSD_OK;
	conn_choose_ticket_key(c, &ch);
	c->hello_read = true;
	return conn_ask_store(c, &ch);
}

static bool conn_handshake_step(struct conn *c)
{
	int rc;

	if (c->store_lookup != NULL)
		return true;	/* the store's answer, or its deadline, goes on */
	if (c->state == CONN_HANDSHAKE && !c->hello_read) {
		rc = conn_read_hello(c);
		if (rc == TLSD_ERR_AGAIN) {
			conn_update_watchers(c);
			return true;
		}
		c->hello_read = true;
	}
	do
		rc = gnutls_handshake(c->tls);
	while (rc < 0 && rc != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(rc));
	if (rc == GNUTLS_E_AGAIN) {
		conn_update_watchers(c);
		return true;
	}
	if (rc < 0) {
		conn_handshake_failed(c, rc);
		return false;
	}
	if (c->state == CONN_RENEGOTIATING) {
		c->state = CONN_OPEN;
		return conn_pump(c);
	}
	return conn_handshake_done(c);
}

/* conn_uncork: write what this event's work left in the cork, in one
 * sendmsg. False when that failed and <c> is gone. */
static bool conn_uncork(struct conn *c)
{
	int rc = tls_transport_uncork(&c->tx);

	if (rc == TLSD_ERR_AGAIN)
		conn_update_watchers(c);
	if (rc != TLSD_ERR_IO)
		return true;
	log_debug("%s: send failed: %s", c->client, strerror(errno));
	if (c->state == CONN_HANDSHAKE)
		conn_fail_handshake(c, strerror(errno), NULL, NULL, "handshake-failed");
	else
		conn_close(c, "error");
	return false;
}

/* on_client_io: what this event makes GnuTLS write once the handshake is
 * done (the tickets, the first echo, then the data) goes out corked: one
 * write, no small segment left waiting on an ACK. Not the server's own
 * flight: GnuTLS writes the ServerHello before it signs, and the client
 * starts on it meanwhile (corking it cost a full TLS 1.3 handshake 16% at
 * p50, bench/compare.sh c1full13). conn_handshake_done corks. */
static void on_client_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	bool alive = true;

	c->client_readable = (revents & EV_READ) != 0;
	if (c->state == CONN_OPEN)
		tls_transport_cork(&c->tx);
	if (c->state == CONN_HANDSHAKE || c->state == CONN_RENEGOTIATING)
		alive = conn_handshake_step(c);
	else if (c->state == CONN_OPEN)
		alive = conn_pump(c);
	if (alive)
		conn_uncork(c);
}

static void on_backend_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	bool alive = true;

	c->backend_readable = (revents & EV_READ) != 0;
	tls_transport_cork(&c->tx);
	if (c->state == CONN_CONNECTING)
		alive = conn_backend_connected(c);
	else if (c->state == CONN_BACKEND_TLS)
		alive = conn_backend_tls_step(c);
	else if (c->state == CONN_OPEN)
		alive = conn_pump(c);
	if (alive)
		conn_uncork(c);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;
	char error[96];

	if (c->state == CONN_CONNECTING) {
		conn_backend_failed(c, ETIMEDOUT);
		return;
	}
	if (c->state == CONN_BACKEND_TLS) {
		log_warn("%s: backend %s: TLS handshake timed out", c->client, c->env->backend->text);
		conn_count(c, CS_BACKEND_TLS_HANDSHAKE, 1);
		conn_close(c, "backend-timeout");
		return;
	}
	snprintf(error, sizeof(error), "handshake timed out after %ld ms", c->env->cfg->handshake_timeout_ms);
	conn_count(c, CS_HS_TIMEOUT, 1);
	conn_count_context(c, c->sni.series, CX_HS_TIMEOUT, 1);
	cluster_stats_fail(c->env->stats, c->env->slot, CS_FAIL_TIMEOUT);
	conn_fail_handshake(c, error, NULL, NULL, "handshake-timeout");
}

static void conn_init_fields(struct conn *c, struct conn_env *env, int fd, const struct sockaddr *peer,
			     socklen_t peer_len)
{
	c->env = env;
	c->fd = fd;
	c->backend_fd = -1;
	c->state = CONN_HANDSHAKE;
	c->ticket_key = TICKET_KEY_ACTIVE;
	c->started = ev_now(env->loop);
	memcpy(&c->peer, peer, peer_len);
	c->peer_len = peer_len;
	addr_format(peer, peer_len, c->client, sizeof(c->client));
	snprintf(c->info.protocol, sizeof(c->info.protocol), "-");
	snprintf(c->info.cipher, sizeof(c->info.cipher), "-");
	reneg_limit_init(&c->reneg, env->cfg->reneg_limit, env->cfg->reneg_window_s);
	ev_io_init(&c->client_io, on_client_io, fd, EV_READ);
	ev_init(&c->backend_io, on_backend_io);
	ev_timer_init(&c->timer, on_timer, (double)env->cfg->handshake_timeout_ms / 1000.0, 0.0);
	ev_init(&c->store_timer, on_store_timeout);
	c->client_io.data = c->backend_io.data = c->timer.data = c->store_timer.data = c;
}

/* set_nodelay: every record goes out when written: a small one after an
 * unacknowledged one must not wait for the client's delayed ACK (the cork,
 * not Nagle, decides what goes out together). Not TCP (a unix socket): no
 * such delay, nothing to set. */
static void set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

struct conn *conn_start(struct conn_env *env, int fd, const struct sockaddr *peer, socklen_t peer_len)
{
	struct conn *c = calloc(1, sizeof(*c));

	set_nodelay(fd);
	if (c != NULL) {
		c->sni.map = env->sni;
		c->sni.series = CONTEXT_SERIES_NONE;
		c->series = CONTEXT_SERIES_NONE;
		c->db.store = env->store;
		tls_transport_init(&c->tx, fd);
		tls_transport_limit_input(&c->tx, (size_t)env->cfg->max_handshake_size);
	}
	if (c == NULL || tls_session_new(env->tls, env->ticket_key, &c->db, &c->sni, &c->tx, &c->tls) < 0) {
		log_error("cannot set up a TLS session: out of memory");
		free(c);
		close(fd);
		return NULL;
	}
	conn_init_fields(c, env, fd, peer, peer_len);
	conn_show_start(c);
	ev_timer_start(env->loop, &c->timer);
	ev_io_start(env->loop, &c->client_io);
	return c;
}

struct conn *conn_list_next(const struct conn *c)
{
	return c->next;
}

void conn_list_link(struct conn **head, struct conn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head != NULL)
		(*head)->prev = c;
	*head = c;
}

void conn_list_unlink(struct conn **head, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}
