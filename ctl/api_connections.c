/* api_connections.c - the connection table as JSON. */
#include "ctl/api_connections.h"

#include <stdio.h>
#include <time.h>

#include "common/addr.h"

static json_t *text_or(const char *s, json_t *none)
{
	if (s[0] == '\0')
		return none;
	json_decref(none);
	return json_string(s);
}

static json_t *iso_time(int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char date[32], buf[48];

	gmtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, sizeof(buf), "%s.%03dZ", date, (int)(ms % 1000));
	return json_string(buf);
}

static json_t *peer_json(const struct conn_record *r)
{
	const struct creds_cert_info *p = &r->peer;

	if (!r->has_peer)
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "subject", p->subject, "issuer", p->issuer,
			 "valid_from", p->valid_from, "valid_to", p->valid_to, "fingerprint256", p->fingerprint256,
			 "serialNumber", p->serial_number);
}

/* add_addresses: remote* and local* members. */
static void add_addresses(json_t *o, const struct conn_record *r)
{
	char host[128];
	int port = 0;

	addr_host_port((const struct sockaddr *)&r->remote, r->remote_len, host, sizeof(host), &port);
	json_object_set_new(o, "remoteAddress", json_string(host));
	json_object_set_new(o, "remotePort", json_integer(port));
	json_object_set_new(o, "remoteFamily", json_string(addr_family_name((const struct sockaddr *)&r->remote)));
	addr_host_port((const struct sockaddr *)&r->local, r->local_len, host, sizeof(host), &port);
	json_object_set_new(o, "localAddress", json_string(host));
	json_object_set_new(o, "localPort", json_integer(port));
}

/* add_tls: what the handshake negotiated (null while it runs). */
static void add_tls(json_t *o, const struct conn_record *r)
{
	bool open = r->state == CONN_RECORD_OPEN;

	json_object_set_new(o, "servername", open ? text_or(r->servername, json_false()) : json_null());
	json_object_set_new(o, "alpnProtocol", open ? text_or(r->alpn, json_false()) : json_null());
	json_object_set_new(o, "protocol", open ? json_string(r->protocol) : json_null());
	json_object_set_new(o, "cipher", open ? json_pack("{s:s, s:s}", "name", r->cipher, "version",
							     r->cipher_version) : json_null());
	json_object_set_new(o, "resumed", json_boolean(r->resumed));
	json_object_set_new(o, "authorized", json_boolean(r->authorized));
	json_object_set_new(o, "authorizationError", text_or(r->authorization_error, json_null()));
	json_object_set_new(o, "peerCertificate", peer_json(r));
}

/* backend_json: null until the backend side is up (and in echo mode);
 * then its address and, over TLS, what that handshake negotiated. */
static json_t *backend_json(const struct conn_record *r)
{
	if (r->backend_state == 0)
		return json_null();
	if (r->backend_state == 1)
		return json_pack("{s:s, s:b}", "address", r->backend, "tls", 0);
	return json_pack("{s:s, s:{s:s, s:s, s:b, s:b}}", "address", r->backend, "tls", "protocol",
			 r->backend_protocol, "cipher", r->backend_cipher, "resumed", r->backend_resumed,
			 "verified", r->backend_verified);
}

static void add_one(void *arg, const struct conn_record *r, uint64_t in, uint64_t out)
{
	json_t *list = arg;
	json_t *o = json_object();
	char id[48];

	if (o == NULL)
		return;
	snprintf(id, sizeof(id), "%d.%llu", (int)r->pid, (unsigned long long)r->id);
	json_object_set_new(o, "id", json_string(id));
	/* "worker" is the pid everywhere (access log, /v1/stats workers[].pid);
	 * "slot" is the worker's place, 1..2 x workers (metrics label). */
	json_object_set_new(o, "worker", json_integer(r->pid));
	json_object_set_new(o, "slot", json_integer(r->worker));
	json_object_set_new(o, "state", json_string(r->state == CONN_RECORD_OPEN ? "open" : "handshake"));
	add_addresses(o, r);
	add_tls(o, r);
	json_object_set_new(o, "backend", backend_json(r));
	json_object_set_new(o, "bytesRead", json_integer((json_int_t)in));
	json_object_set_new(o, "bytesWritten", json_integer((json_int_t)out));
	json_object_set_new(o, "startedAt", iso_time(r->started_ms));
	json_array_append_new(list, o);
}

void api_connections_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	json_t *list = json_array();

	if (list == NULL) {
		api_reply_error(reply, 500, "internal", "out of memory");
		return;
	}
	for (int w = 0; w < conn_table_workers(env->conn_table); w++)
		conn_table_each(env->conn_table, w, add_one, list);
	api_reply_json(reply, 200, list);
}
