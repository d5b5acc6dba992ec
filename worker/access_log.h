/* access_log.h - one line per closed connection and one per failed
 * handshake (Node's 'clientError'), in text or JSON (config "logFormat").
 *
 * Lines go to the access log's file descriptor (opened by the master, shared
 * by all workers) with a single write(2) each, so lines from different
 * workers never interleave.
 *
 * Both formats carry the same fields under the same keys, in this order.
 * close: time, event ("close"), id, worker, client, servername, alpn,
 * protocol, cipher, resumed, authorized, authorizationError, bytesIn,
 * bytesOut, durationMs, closeReason. clientError: time, event
 * ("clientError"), id, worker, client, error, alert, authorizationError,
 * durationMs, closeReason. id is the connection's id in GET /v1/connections
 * ("<worker pid>.<n>").
 *
 * JSON: one object per line; an absent value is null. Text: logfmt,
 * key=value separated by one space; an absent value is "-"; a value that is
 * empty, is "-", or holds a space, '"', '=', '\', a control byte or a byte
 * over 0x7e is written in double quotes with \" \\ \n \r \t and \xHH
 * escapes (access_log_logfmt_value), so no value can end the line or
 * forge a field.
 */
#ifndef TLSD_WORKER_ACCESS_LOG_H
#define TLSD_WORKER_ACCESS_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/err.h"
#include "worker/tls_server.h"

struct access_log {
	int fd;				/* -1: off */
	enum tlsd_log_format format;
	int worker;			/* this worker's pid: unique across restarts */
};

struct access_close {
	uint64_t id;			/* the connection's number in this worker */
	const char *client;		/* "127.0.0.1:5555" */
	const struct tls_info *tls;
	uint64_t bytes_in, bytes_out;	/* cleartext bytes from / to the client */
	long duration_ms;
	const char *reason;		/* closeReason */
};

struct access_client_error {
	uint64_t id;			/* as in access_close */
	const char *client;
	const char *error;		/* GnuTLS error text or "handshake timed out ..." */
	const char *alert;		/* alert name, or NULL */
	const char *authorization_error;/* verification failure code, or NULL */
	long duration_ms;
	const char *reason;		/* closeReason */
};

/* access_log_open: open the access log named by config "accessLog": "-" is
 * stdout, "off" (or NULL) none (<*fd> = -1), else a file opened for append.
 * Errors name the key and the file. */
int access_log_open(const char *target, int *fd, struct tlsd_error *err) TLSD_MUST_CHECK;

/* access_log_reopen: SIGUSR1 (after log rotation): open <target> again and
 * put it in place of <fd>, so the number every worker holds stays valid.
 * Nothing to do for stdout or off; a failure is logged and the old file
 * stays in use. */
void access_log_reopen(const char *target, int fd);

/* access_log_logfmt_value: append <value> as a logfmt value to <buf>,
 * which holds <len> bytes of <size> (NUL-terminated). <value> NULL is the
 * absent value "-". A value that does not fit is cut at an escape boundary
 * and still gets its closing quote. Returns the new length (< size). */
size_t access_log_logfmt_value(char *buf, size_t len, size_t size, const char *value);

/* access_log_close: write the line for a connection that ends. */
void access_log_close(const struct access_log *log, const struct access_close *e);

/* access_log_client_error: write the line for a failed handshake. */
void access_log_client_error(const struct access_log *log, const struct access_client_error *e);

#endif
