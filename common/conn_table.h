/* conn_table.h - every open connection, in shared memory, so the control
 * API can list them (GET /v1/connections) without asking the workers.
 *
 * Each worker owns a region of slots and is its only writer: it fills a
 * record when it accepts a connection, adds what the handshake negotiated,
 * bumps the byte counts as bytes move, and frees the slot at close. Record
 * writes go under the slot's sequence counter (common/seqlock), byte counts
 * are single atomic words; the master reads without a lock. When a worker
 * dies the master frees its region (its connections died with it).
 * A worker with more open connections than its region holds still serves
 * them; the extra ones are counted, not listed.
 */
#ifndef TLSD_COMMON_CONN_TABLE_H
#define TLSD_COMMON_CONN_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common/creds.h"
#include "common/err.h"

#define CONN_TABLE_PER_WORKER 16384
#define CONN_TABLE_NONE UINT32_MAX

enum conn_record_state { CONN_RECORD_FREE = 0, CONN_RECORD_HANDSHAKE = 1, CONN_RECORD_OPEN = 2 };

/* What is known of one connection (Node's TLSSocket properties). */
struct conn_record {
	uint64_t id;			/* with pid: unique ("<pid>.<id>") */
	int64_t started_ms;		/* unix time */
	uint32_t state;			/* enum conn_record_state */
	int32_t worker;			/* 1..workers */
	int32_t pid;			/* the worker's */
	uint32_t pad0_;
	struct sockaddr_storage remote, local;
	uint32_t remote_len, local_len;
	char servername[256];
	char alpn[256];
	char protocol[16];		/* "TLSv1.3" */
	char cipher[64];		/* OpenSSL name */
	char cipher_version[16];	/* the version the suite belongs to */
	char authorization_error[48];
	uint8_t resumed, authorized, has_peer;
	uint8_t backend_state;		/* 0: none yet, 1: cleartext, 2: TLS */
	uint8_t backend_resumed, backend_verified;
	uint8_t pad_[2];
	struct creds_cert_info peer;	/* valid when has_peer */
	char backend[128];		/* the backend's address, as configured */
	char backend_protocol[16];	/* TLS to the backend: "TLSv1.3" */
	char backend_cipher[64];	/* and its suite (IANA name) */
};

struct conn_table;

/* conn_table_create: regions of <per_worker> slots for <workers> workers.
 * Pages are used only as slots are. Returns 0, TLSD_ERR_CONFIG or
 * TLSD_ERR_IO. */
int conn_table_create(int workers, uint32_t per_worker, struct conn_table **out) TLSD_MUST_CHECK;

void conn_table_destroy(struct conn_table *t);

/* ---- a worker, in its own region <worker> (0-based) ---- */

/* conn_table_open: a free slot filled with <rec> (state, id, addresses,
 * start); CONN_TABLE_NONE when the region is full (counted). */
uint32_t conn_table_open(struct conn_table *t, int worker, const struct conn_record *rec);

/* conn_table_update: replace slot <i>'s record with <rec> (after the
 * handshake). */
void conn_table_update(struct conn_table *t, int worker, uint32_t i, const struct conn_record *rec);

/* conn_table_get: copy record <i> of <worker> into <rec>. Only for the
 * worker that writes it (no other writer, so no retry is needed). */
void conn_table_get(const struct conn_table *t, int worker, uint32_t i, struct conn_record *rec);

/* conn_table_add_bytes: bytes read from / written to the client. */
void conn_table_add_bytes(struct conn_table *t, int worker, uint32_t i, uint64_t in, uint64_t out);

/* conn_table_close: free slot <i>. */
void conn_table_close(struct conn_table *t, int worker, uint32_t i);

/* ---- the master ---- */

/* conn_table_worker_exited: free every slot of <worker>'s region, and
 * repair a record it died writing, so its replacement can use the region
 * as new. Call only once the worker cannot run any more (reaped). */
void conn_table_worker_exited(struct conn_table *t, int worker);

/* conn_table_recoveries: how many records conn_table_worker_exited found
 * half-written by a worker that died inside the write, and repaired. */
uint64_t conn_table_recoveries(const struct conn_table *t);

/* conn_table_each: call <fn> with a whole copy of every open connection
 * of <worker> and its byte counts. */
void conn_table_each(const struct conn_table *t, int worker,
		     void (*fn)(void *arg, const struct conn_record *rec, uint64_t in, uint64_t out), void *arg);

/* conn_table_unlisted: connections <worker> serves that did not fit. */
uint64_t conn_table_unlisted(const struct conn_table *t, int worker);

int conn_table_workers(const struct conn_table *t);

#endif
