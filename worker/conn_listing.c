/* conn_listing.c - connection records for the control API. */
#include "worker/conn_listing.h"

#include <stdio.h>
#include <string.h>

static void fill_start(struct conn_record *rec, const struct conn_listing *l, const struct conn_listing_facts *f)
{
	socklen_t local_len = sizeof(rec->local);

	memset(rec, 0, sizeof(*rec));
	rec->id = l->id;
	rec->worker = l->worker + 1;
	rec->pid = (int32_t)f->pid;
	rec->started_ms = (int64_t)(f->started * 1000.0);
	rec->state = CONN_RECORD_HANDSHAKE;
	if (f->peer_len <= sizeof(rec->remote)) {
		memcpy(&rec->remote, f->peer, f->peer_len);
		rec->remote_len = f->peer_len;
	}
	if (getsockname(f->fd, (struct sockaddr *)&rec->local, &local_len) == 0)
		rec->local_len = local_len;
}

static void fill_peer(struct conn_record *rec, gnutls_session_t s)
{
	unsigned n = 0;
	const gnutls_datum_t *certs = s ? gnutls_certificate_get_peers(s, &n) : NULL;

	rec->has_peer = certs != NULL && n > 0 && creds_describe_der(&certs[0], &rec->peer) == 0;
}

static void fill_tls(struct conn_record *rec, const struct conn_listing_facts *f)
{
	const struct tls_info *i = f->info;

	rec->state = CONN_RECORD_OPEN;
	snprintf(rec->servername, sizeof(rec->servername), "%s", i->servername);
	snprintf(rec->alpn, sizeof(rec->alpn), "%s", i->alpn);
	snprintf(rec->protocol, sizeof(rec->protocol), "%s", i->protocol);
	snprintf(rec->cipher, sizeof(rec->cipher), "%s", i->cipher);
	snprintf(rec->cipher_version, sizeof(rec->cipher_version), "%s", i->protocol);
	snprintf(rec->authorization_error, sizeof(rec->authorization_error), "%s", i->authorization_error);
	rec->resumed = i->resumed;
	rec->authorized = i->authorized;
	fill_peer(rec, f->session);
}

void conn_listing_open(struct conn_listing *l, struct conn_table *table, int worker, uint64_t id,
		       const struct conn_listing_facts *f)
{
	struct conn_record rec;

	l->table = table;
	l->worker = worker;
	l->id = id;
	l->index = CONN_TABLE_NONE;
	if (table == NULL)
		return;
	fill_start(&rec, l, f);
	l->index = conn_table_open(table, worker, &rec);
}

void conn_listing_handshake_done(struct conn_listing *l, const struct conn_listing_facts *f)
{
	struct conn_record rec;

	if (l->table == NULL || l->index == CONN_TABLE_NONE)
		return;
	/* The start fields are the ones written at accept: no second
	 * getsockname. */
	conn_table_get(l->table, l->worker, l->index, &rec);
	fill_tls(&rec, f);
	conn_table_update(l->table, l->worker, l->index, &rec);
}

void conn_listing_backend(struct conn_listing *l, const char *address, gnutls_session_t btls, bool verified)
{
	struct conn_record rec;
	if (l->table == NULL || l->index == CONN_TABLE_NONE)
		return;
	conn_table_get(l->table, l->worker, l->index, &rec);
	snprintf(rec.backend, sizeof(rec.backend), "%s", address);
	rec.backend_state = btls != NULL ? 2 : 1;
	if (btls != NULL) {
		snprintf(rec.backend_protocol, sizeof(rec.backend_protocol), "%s",
			 tls_protocol_name(gnutls_protocol_get_version(btls)));
		tls_cipher_name(btls, rec.backend_cipher, sizeof(rec.backend_cipher));
		rec.backend_resumed = gnutls_session_is_resumed(btls) != 0;
		rec.backend_verified = verified;
	}
	conn_table_update(l->table, l->worker, l->index, &rec);
}

void conn_listing_bytes(struct conn_listing *l, uint64_t in, uint64_t out)
{
	if (l->table != NULL)
		conn_table_add_bytes(l->table, l->worker, l->index, in, out);
}

void conn_listing_close(struct conn_listing *l)
{
	if (l->table != NULL)
		conn_table_close(l->table, l->worker, l->index);
	l->table = NULL;
}
