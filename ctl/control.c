/* control.c - libmicrohttpd in the master's libev loop: socket, request
 * bodies, the Origin/Host/token gate, routing and replies. */
#include "ctl/control.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/addr.h"
#include "common/log.h"
#include "ctl/api_ciphers.h"
#include "ctl/api_metrics.h"
#include "ctl/api_connections.h"
#include "ctl/api_contexts.h"
#include "ctl/api_server.h"
#include "ctl/api_stats.h"
#include "ctl/api_ticket_keys.h"
#include "ctl/control_auth.h"

/* Limits against clients that hold connections. Every client of a
 * loopback endpoint is a local process, often all 127.0.0.1, so the
 * per-address limit alone protects nothing: the deadline does, and the
 * reserve lets a newcomer in while the slots are held (see
 * docs/control-api.md, "Limits"). */
#define CONTROL_CONNECTIONS_MAX 64	/* libmicrohttpd's hard limit, all clients */
#define CONTROL_PER_IP_MAX 32		/* libmicrohttpd's hard limit, one address */
#define CONTROL_RESERVE 4		/* slots kept free under both limits */
#define CONTROL_DEADLINE_S 10.0		/* to send a whole request, and take its answer */
#define CONTROL_BACKLOG 64

/* Each route names the token it needs (docs/control-api.md, "Tokens"):
 * the read-only token reads what holds no secret; the ticket keys (key
 * material) and every change need the admin token. */
#define PUBLIC CONTROL_ACCESS_NONE
#define READ CONTROL_ACCESS_READ
#define ADMIN CONTROL_ACCESS_ADMIN

struct route {
	const char *path;
	const char *method;
	api_handler handler;
	enum control_access needs;
};

static const struct route routes[] = {
	{ "/healthz", "GET", api_server_healthz, PUBLIC },
	{ "/v1/stats", "GET", api_stats_get, READ },
	{ "/metrics", "GET", api_metrics_get, READ },
	{ "/v1/ciphers", "GET", api_ciphers_get, READ },
	{ "/v1/ticket-keys", "GET", api_ticket_keys_get, ADMIN },
	{ "/v1/ticket-keys", "PUT", api_ticket_keys_put, ADMIN },
	{ "/v1/ticket-keys/rotate", "POST", api_ticket_keys_rotate, ADMIN },
	{ "/v1/ticket-keys/next", "PUT", api_ticket_keys_put_next, ADMIN },
	{ "/v1/address", "GET", api_server_address, READ },
	{ "/v1/max-connections", "GET", api_server_max_connections_get, READ },
	{ "/v1/max-connections", "PUT", api_server_max_connections_put, ADMIN },
	{ "/v1/close", "POST", api_server_close, ADMIN },
	{ "/v1/connections", "GET", api_connections_get, READ },
	{ "/v1/contexts", "GET", api_contexts_list, READ },
	{ "/v1/contexts", "POST", api_contexts_add, ADMIN },
	{ "/v1/contexts/", "DELETE", api_contexts_remove, ADMIN },	/* + hostname */
	{ "/v1/secure-context", "GET", api_secure_context_get, READ },
	{ "/v1/secure-context", "PUT", api_secure_context_put, ADMIN },
	{ "/v1/secure-context", "DELETE", api_secure_context_remove, ADMIN },
};

#undef PUBLIC
#undef READ
#undef ADMIN

/* One open connection, on the control's list while its deadline runs.
 * The list is oldest first: a connection joins the tail when accepted and
 * again each time an exchange completes, so the head is the next to
 * expire and the first to go when a newcomer needs its slot. */
struct control_conn {
	struct control_conn *prev, *next;
	int fd;
	ev_tstamp since;	/* accepted, or its last answer went out */
	bool listed;		/* false once cut: on its way out */
	struct sockaddr_storage peer;
};

struct control {
	struct api_env env;
	struct ev_loop *loop;
	struct MHD_Daemon *mhd;
	ev_io io;
	ev_timer timer;
	ev_timer deadline;
	struct control_conn *head, *tail;
	unsigned listed;	/* connections on the list */
	int fd;
	bool tcp;		/* token required */
	char token[CONTROL_TOKEN_MAX];		/* admin */
	char readonly_token[CONTROL_TOKEN_MAX];
	char address[128];
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One request while its body arrives. */
struct control_request {
	char *body;
	size_t len;
	bool too_large;
	bool stop_after;	/* POST /v1/close: stop once the answer is out */
};

/* ---- replies ---- */

/* send_reply: queue <reply>; <close_after> ends the connection after it (a
 * request refused before its body was read, or framed ambiguously). */
static enum MHD_Result send_reply(struct MHD_Connection *conn, const struct api_reply *reply, bool close_after)
{
	char *text = reply->json ? json_dumps(reply->json, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	const char *body = reply->json ? text : (reply->text ? reply->text : "");
	size_t len = body ? strlen(body) : 0;
	char *with_newline = malloc(len + 2);
	struct MHD_Response *resp;
	enum MHD_Result rc;

	if (with_newline == NULL) {
		free(text);
		return MHD_NO;
	}
	memcpy(with_newline, body ? body : "", len);
	if (reply->json)
		with_newline[len++] = '\n';
	free(text);
	resp = MHD_create_response_from_buffer(len, with_newline, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(with_newline);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				reply->json ? "application/json" : (reply->content_type ? reply->content_type : "text/plain"));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (close_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	rc = MHD_queue_response(conn, (unsigned)reply->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* ---- connections: the deadline and the reserve ---- */

static void conn_list(struct control *ctl, struct control_conn *cc)
{
	cc->since = ev_now(ctl->loop);
	cc->prev = ctl->tail;
	cc->next = NULL;
	if (ctl->tail != NULL)
		ctl->tail->next = cc;
	else
		ctl->head = cc;
	ctl->tail = cc;
	cc->listed = true;
	ctl->listed++;
}

static void conn_unlist(struct control *ctl, struct control_conn *cc)
{
	if (!cc->listed)
		return;
	if (cc->prev != NULL)
		cc->prev->next = cc->next;
	else
		ctl->head = cc->next;
	if (cc->next != NULL)
		cc->next->prev = cc->prev;
	else
		ctl->tail = cc->prev;
	cc->prev = cc->next = NULL;
	cc->listed = false;
	ctl->listed--;
}

/* conn_cut: end <cc> from outside libmicrohttpd. shutdown() leaves the
 * descriptor to libmicrohttpd, which sees end-of-file on its next turn
 * and closes the connection (reporting it CLOSED) the usual way. */
static void conn_cut(struct control *ctl, struct control_conn *cc, const char *why)
{
	log_debug("control: closing a connection: %s", why);
	conn_unlist(ctl, cc);
	shutdown(cc->fd, SHUT_RDWR);
}

static void deadline_arm(struct control *ctl)
{
	ev_timer_stop(ctl->loop, &ctl->deadline);
	if (ctl->head == NULL)
		return;
	ev_timer_set(&ctl->deadline, ctl->head->since + CONTROL_DEADLINE_S - ev_now(ctl->loop), 0.0);
	ev_timer_start(ctl->loop, &ctl->deadline);
}

static void on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct control *ctl = w->data;

	while (ctl->head != NULL && ctl->head->since + CONTROL_DEADLINE_S <= ev_now(loop))
		conn_cut(ctl, ctl->head, "request deadline passed");
	deadline_arm(ctl);
}

/* same_peer: both from one IP address (any port); other families never
 * match. */
static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
	return false;
}

/* make_room: the newcomer <cc> keeps CONTROL_RESERVE slots free under
 * both limits by cutting the oldest connection (all clients, then those
 * from its address). The oldest is the one furthest into its deadline:
 * a legitimate exchange takes milliseconds, a held one never ends. */
static void make_room(struct control *ctl, struct control_conn *cc)
{
	struct control_conn *oldest = NULL;
	unsigned same = 0;

	if (ctl->listed > CONTROL_CONNECTIONS_MAX - CONTROL_RESERVE && ctl->head != cc)
		conn_cut(ctl, ctl->head, "connection limit: making room for a newcomer");
	for (struct control_conn *p = ctl->head; p != NULL; p = p->next) {
		if (!same_peer(&p->peer, &cc->peer))
			continue;
		if (oldest == NULL)
			oldest = p;
		same++;
	}
	if (same > CONTROL_PER_IP_MAX - CONTROL_RESERVE && oldest != cc)
		conn_cut(ctl, oldest, "per-address limit: making room for a newcomer");
}

/* peer_copy: an IPv4 or IPv6 address, kept; any other stays AF_UNSPEC
 * (a unix socket: no per-address limit). */
static void peer_copy(struct sockaddr_storage *to, const struct sockaddr *from)
{
	if (from->sa_family == AF_INET)
		memcpy(to, from, sizeof(struct sockaddr_in));
	else if (from->sa_family == AF_INET6)
		memcpy(to, from, sizeof(struct sockaddr_in6));
}

static void conn_start(struct control *ctl, struct MHD_Connection *conn, void **socket_context)
{
	const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct control_conn *cc = calloc(1, sizeof(*cc));

	if (cc == NULL || fd == NULL) {
		if (fd != NULL)
			shutdown(fd->connect_fd, SHUT_RDWR);	/* untracked: refused */
		free(cc);
		return;
	}
	cc->fd = fd->connect_fd;
	if (addr != NULL && addr->client_addr != NULL)
		peer_copy(&cc->peer, addr->client_addr);
	conn_list(ctl, cc);
	*socket_context = cc;
	make_room(ctl, cc);
	deadline_arm(ctl);
}

/* conn_restart: an exchange on <conn> completed; its deadline starts over
 * for the next request (unless it was cut meanwhile). */
static void conn_restart(struct control *ctl, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct control_conn *cc = info != NULL ? info->socket_context : NULL;

	if (cc == NULL || !cc->listed)
		return;
	conn_unlist(ctl, cc);
	conn_list(ctl, cc);
	deadline_arm(ctl);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct control *ctl = cls;
	struct control_conn *cc = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		conn_start(ctl, conn, socket_context);
		return;
	}
	if (cc == NULL)
		return;
	conn_unlist(ctl, cc);
	free(cc);
	*socket_context = NULL;
	deadline_arm(ctl);
}

/* ---- routing and the gate ---- */

/* route_matches: a route path ending in '/' takes one more segment (the
 * parameter, e.g. a hostname), which goes to *<param>. */
static bool route_matches(const struct route *r, const char *path, const char **param)
{
	size_t len = strlen(r->path);

	*param = NULL;
	if (r->path[len - 1] != '/')
		return strcmp(r->path, path) == 0;
	if (strncmp(r->path, path, len) != 0 || path[len] == '\0' || strchr(path + len, '/') != NULL)
		return false;
	*param = path + len;
	return true;
}

/* find_route: the route for <path> and <method>; *<path_known> tells a
 * wrong method (405) from an unknown path (404). */
static const struct route *find_route(const char *path, const char *method, bool *path_known,
				      const char **param)
{
	*path_known = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_matches(&routes[i], path, param))
			continue;
		*path_known = true;
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
	}
	return NULL;
}

/* access_needed: the token <method> <path> needs. A path or method that
 * does not exist needs either token: the answer (404, 405) shows nothing
 * and changes nothing. */
static enum control_access access_needed(const char *path, const char *method)
{
	bool known;
	const char *param;
	const struct route *r = find_route(path, method, &known, &param);

	return r != NULL ? r->needs : CONTROL_ACCESS_READ;
}

/* token_refused: false when the request's token may do <method> <path>;
 * else true with the 401 (no token, a wrong one) or 403 (the read-only
 * token where the admin token is needed) in <reply>. */
static bool token_refused(const struct control *ctl, const char *auth, const char *path, const char *method,
			  struct api_reply *reply)
{
	enum control_access needs = access_needed(path, method);
	enum control_access has;

	if (needs == CONTROL_ACCESS_NONE)
		return false;
	has = control_token_access(ctl->token, ctl->readonly_token, auth);
	if (has >= needs)
		return false;
	if (has == CONTROL_ACCESS_NONE)
		api_reply_error(reply, 401, "unauthorized", auth ? "wrong token" :
				"missing \"Authorization: Bearer TOKEN\" (the tokens are control.token and "
				CONTROL_READONLY_TOKEN_FILE " in the state dir)");
	else
		api_reply_error(reply, 403, "admin_token_required",
				"%s %s needs the admin token (control.token); this is the read-only token", method, path);
	return true;
}

/* gate: the refusals every request goes through, in order; false when
 * <reply> holds one. */
static bool gate(const struct control *ctl, struct MHD_Connection *conn, const char *path,
		 const char *method, struct api_reply *reply)
{
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

	if (origin != NULL) {
		api_reply_error(reply, 403, "forbidden", "requests from browsers (Origin header) are refused");
		return false;
	}
	if (!control_host_allowed(host)) {
		api_reply_error(reply, 403, "forbidden", "Host \"%s\" is not a loopback name or address", host);
		return false;
	}
	return !(ctl->tcp && token_refused(ctl, auth, path, method, reply));
}

static void dispatch(struct control *ctl, struct MHD_Connection *conn, const char *path, const char *method,
		     struct control_request *cr, struct api_reply *reply)
{
	struct api_request req = {
		.method = method, .path = path, .body = cr->body ? cr->body : "", .body_len = cr->len,
		.query_backend = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "backend"),
	};
	bool path_known;
	const struct route *r;

	r = find_route(path, method, &path_known, &req.param);
	if (r == NULL && path_known)
		api_reply_error(reply, 405, "method_not_allowed", "%s does not take %s", path, method);
	else if (r == NULL)
		api_reply_error(reply, 404, "not_found", "no endpoint %s", path);
	else if (cr->too_large)
		api_reply_error(reply, 413, "payload_too_large", "body: over %d bytes", CONTROL_BODY_MAX);
	else
		r->handler(&ctl->env, &req, reply);
}

/* ---- libmicrohttpd callbacks ---- */

static bool append_body(struct control_request *cr, const char *data, size_t len)
{
	char *grown;

	if (cr->too_large || cr->len + len > CONTROL_BODY_MAX) {
		cr->too_large = true;
		return true;
	}
	grown = realloc(cr->body, cr->len + len + 1);
	if (grown == NULL)
		return false;
	memcpy(grown + cr->len, data, len);
	cr->len += len;
	grown[cr->len] = '\0';
	cr->body = grown;
	return true;
}

/* announced_too_large: a Content-Length over the limit is refused before
 * the body is read. */
static bool announced_too_large(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl != NULL && strtoull(cl, NULL, 10) > CONTROL_BODY_MAX;
}

struct framing {
	unsigned content_length;	/* Content-Length fields */
	unsigned transfer_encoding;	/* Transfer-Encoding fields */
	bool chunked;			/* the one Transfer-Encoding is "chunked" */
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct framing *f = cls;

	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->content_length++;
	if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->transfer_encoding++;
		f->chunked = value != NULL && strcasecmp(value, "chunked") == 0;
	}
	return MHD_YES;
}

/* framing_ambiguous: the body's end is not told one way. libmicrohttpd
 * takes Transfer-Encoding over Content-Length, the first of several
 * Content-Lengths, and reads any other coding to the end of the
 * connection; a proxy in front may choose differently and see another
 * request in the body. So: one Content-Length, or one "Transfer-Encoding:
 * chunked", or neither. */
static bool framing_ambiguous(struct MHD_Connection *conn)
{
	struct framing f = { 0 };

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	if (f.transfer_encoding > 0)
		return f.content_length > 0 || f.transfer_encoding > 1 || !f.chunked;
	return f.content_length > 1;
}

/* refused_early: the answer a request gets from its headers alone, before
 * any of its body is read; false when it may go on. */
static bool refused_early(const struct control *ctl, struct MHD_Connection *conn, const char *path,
			  const char *method, struct api_reply *reply)
{
	if (framing_ambiguous(conn)) {
		api_reply_error(reply, 400, "bad_request",
				"the body must be framed by one Content-Length or by chunked alone");
		return true;
	}
	if (!gate(ctl, conn, path, method, reply))
		return true;
	if (announced_too_large(conn)) {
		api_reply_error(reply, 413, "payload_too_large", "body: over %d bytes", CONTROL_BODY_MAX);
		return true;
	}
	return false;
}

/* on_headers: the first call for a request, its headers complete and no
 * byte of its body read yet: refuse now, or get ready for the body. */
static enum MHD_Result on_headers(struct control *ctl, struct MHD_Connection *conn, const char *url,
				  const char *method, void **req_cls)
{
	struct control_request *cr = calloc(1, sizeof(*cr));
	struct api_reply reply = { 0 };
	enum MHD_Result rc;

	if (cr == NULL)
		return MHD_NO;
	*req_cls = cr;
	if (!refused_early(ctl, conn, url, method, &reply))
		return MHD_YES;
	log_debug("control: %s %s -> %d (from the headers)", method, url, reply.status);
	rc = send_reply(conn, &reply, true);
	api_reply_free(&reply);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct control *ctl = cls;
	struct control_request *cr = *req_cls;
	struct api_reply reply = { 0 };
	enum MHD_Result rc;

	if (cr == NULL)
		return on_headers(ctl, conn, url, method, req_cls);
	if (*upload_data_size > 0) {
		bool ok = append_body(cr, upload_data, *upload_data_size);

		*upload_data_size = 0;
		return ok ? MHD_YES : MHD_NO;
	}
	dispatch(ctl, conn, url, method, cr, &reply);
	log_debug("control: %s %s -> %d", method, url, reply.status);
	cr->stop_after = reply.stop_after && reply.status < 300;
	rc = send_reply(conn, &reply, false);
	api_reply_free(&reply);
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct control_request *cr = *req_cls;

	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		conn_restart(cls, conn);
	if (cr == NULL)
		return;
	/* The master's one graceful stop, SIGTERM's, once the 202 is out. */
	if (cr->stop_after)
		kill(getpid(), SIGTERM);
	free(cr->body);
	free(cr);
	*req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("control: %s", msg);
}

/* ---- the event loop ---- */

static unsigned mhd_connections(const struct control *ctl)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(ctl->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info != NULL ? info->num_connections : 0;
}

/* control_run: let libmicrohttpd work, then wake up again by its timeout
 * (0 when it still has work queued).
 *
 * At its connection limit (or after accept() ran out of descriptors)
 * libmicrohttpd takes the listening socket out of its epoll set, and puts
 * it back only at the start of a later turn, once a connection has gone.
 * Connections go at the end of a turn, and a turn comes only from an
 * event or a timeout: when the last connections go, there is neither, the
 * epoll set is empty, and the endpoint is deaf for good. So a turn that
 * ended connections is followed by another, which re-arms the listening
 * socket (and accepts what waits on it). */
static void control_run(struct control *ctl)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	unsigned before, after = mhd_connections(ctl);

	do {
		before = after;
		MHD_run(ctl->mhd);
		after = mhd_connections(ctl);
	} while (after < before);
	ev_timer_stop(ctl->loop, &ctl->timer);
	if (MHD_get_timeout(ctl->mhd, &ms) == MHD_YES) {
		ev_timer_set(&ctl->timer, (double)ms / 1000.0, 0.0);
		ev_timer_start(ctl->loop, &ctl->timer);
	}
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	control_run(w->data);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	control_run(w->data);
}

/* ---- the socket ---- */

static int open_unix(struct control *ctl, const char *path, struct tlsd_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old_mask;
	int fd, rc;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	/* A socket file left by an earlier run that did not stop cleanly. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return tlsd_error_set(err, TLSD_ERR_IO, "control.listen: unix:%s: %s", path, strerror(errno));
	old_mask = umask(0177);	/* born 0600: no window with looser access */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (rc < 0 || listen(fd, CONTROL_BACKLOG) < 0) {
		rc = tlsd_error_set(err, TLSD_ERR_CONFIG, "control.listen: unix:%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	ctl->fd = fd;
	snprintf(ctl->unix_path, sizeof(ctl->unix_path), "%s", path);
	snprintf(ctl->address, sizeof(ctl->address), "unix:%s", path);
	return TLSD_OK;
}

static void log_created(const char *path)
{
	log_info("control: created the token file %s (mode 0600)", path);
}

static int open_tcp(struct control *ctl, const struct tlsd_addr *addr, struct tlsd_error *err)
{
	struct listener l;
	bool created = false, readonly_created = false;
	char path[4096];

	GUARD(control_token_load(ctl->env.cfg, ctl->token, &created, err));
	GUARD(control_readonly_token_load(ctl->env.cfg, ctl->token, ctl->readonly_token, &readonly_created, err));
	GUARD(listener_open_tcp("control.listen", addr->host, addr->port, &l, err));
	ctl->fd = l.fd;
	ctl->tcp = true;
	snprintf(ctl->address, sizeof(ctl->address), "%s", l.text);
	if (created) {
		control_token_path(ctl->env.cfg, path, sizeof(path));
		log_created(path);
	}
	if (readonly_created) {
		control_readonly_token_path(ctl->env.cfg, path, sizeof(path));
		log_created(path);
	}
	return TLSD_OK;
}

static int open_socket(struct control *ctl, struct tlsd_error *err)
{
	struct tlsd_addr addr;
	struct tlsd_error why;

	if (addr_parse(ctl->env.cfg->control_listen, true, false, &addr, &why) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "control.listen: %s", why.msg);
	if (addr.kind == TLSD_ADDR_UNIX)
		return open_unix(ctl, addr.path, err);
	return open_tcp(ctl, &addr, err);
}

static int start_mhd(struct control *ctl, struct tlsd_error *err)
{
	const union MHD_DaemonInfo *info;

	ctl->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, ctl,
				    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, ctl,
				    MHD_OPTION_LISTEN_SOCKET, ctl->fd,
				    MHD_OPTION_NOTIFY_COMPLETED, on_completed, ctl,
				    MHD_OPTION_NOTIFY_CONNECTION, on_connection, ctl,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONTROL_CONNECTIONS_MAX,
				    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONTROL_PER_IP_MAX,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONTROL_DEADLINE_S,
				    MHD_OPTION_END);
	if (ctl->mhd == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "control.listen: %s: libmicrohttpd did not start",
				      ctl->address);
	ctl->fd = -1;	/* libmicrohttpd owns (and closes) the listening socket now */
	info = MHD_get_daemon_info(ctl->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "control.listen: libmicrohttpd gives no epoll descriptor");
	ev_io_init(&ctl->io, on_io, info->epoll_fd, EV_READ);
	ctl->io.data = ctl;
	ev_init(&ctl->timer, on_timer);
	ctl->timer.data = ctl;
	ev_init(&ctl->deadline, on_deadline);
	ctl->deadline.data = ctl;
	ev_io_start(ctl->loop, &ctl->io);
	return TLSD_OK;
}

int control_open(const struct api_env *env, struct ev_loop *loop, struct control **out, struct tlsd_error *err)
{
	struct control *ctl;
	int rc;

	*out = NULL;
	if (strcmp(env->cfg->control_listen, "off") == 0)
		return TLSD_OK;
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "control: out of memory");
	ctl->env = *env;
	ctl->env.ciphers = api_ciphers_list(env->priority_text);
	ctl->loop = loop;
	ctl->fd = -1;
	GUARD_GOTO(open_socket(ctl, err), rc, fail);
	GUARD_GOTO(start_mhd(ctl, err), rc, fail);
	*out = ctl;
	return TLSD_OK;
fail:
	control_close(ctl);
	return rc;
}

void control_use_env(struct control *ctl, const struct api_env *env)
{
	if (ctl == NULL)
		return;
	json_decref(ctl->env.ciphers);
	ctl->env = *env;
	ctl->env.ciphers = api_ciphers_list(env->priority_text);
}

const char *control_address(const struct control *ctl)
{
	return ctl->address;
}

void control_close(struct control *ctl)
{
	if (ctl == NULL)
		return;
	if (ctl->mhd != NULL) {
		ev_io_stop(ctl->loop, &ctl->io);
		ev_timer_stop(ctl->loop, &ctl->timer);
		MHD_stop_daemon(ctl->mhd);	/* reports every connection CLOSED */
		ev_timer_stop(ctl->loop, &ctl->deadline);
	}
	if (ctl->fd >= 0)
		close(ctl->fd);
	if (ctl->unix_path[0] != '\0')
		unlink(ctl->unix_path);
	json_decref(ctl->env.ciphers);
	explicit_bzero(ctl->token, sizeof(ctl->token));
	explicit_bzero(ctl->readonly_token, sizeof(ctl->readonly_token));
	free(ctl);
}
