/* cluster_stats.h - per-worker counters and the connection limit, in one
 * shared memory mapping that the master creates before it forks.
 *
 * Each worker owns one slot (worker number - 1) and is its only writer, so
 * counting costs no lock and no contended cache line; a reader sums the
 * slots. A slot outlives its worker: the replacement counts on in it, so a
 * dead worker's figures stay in the totals.
 *
 * maxConnections holds across all workers exactly: a worker admits a
 * connection under one robust process-shared mutex, after summing what
 * every worker has open. A worker that dies holding it cannot wedge the
 * others (EOWNERDEAD: the counters are single words, always consistent);
 * the master zeroes a dead worker's open count when it reaps it.
 */
#ifndef TLSD_COMMON_CLUSTER_STATS_H
#define TLSD_COMMON_CLUSTER_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/* Counters that only grow (SPEC /v1/stats names in comments). */
enum cluster_counter {
	CS_CONN_TOTAL,		/* connections.total: admitted */
	CS_CONN_REJECTED,	/* connections.rejected: over maxConnections */
	CS_HS_FULL,		/* handshakes.full */
	CS_HS_RESUMED_ID,	/* handshakes.resumed_session_id */
	CS_HS_RESUMED_TICKET,	/* handshakes.resumed_ticket */
	CS_HS_FAILED,		/* handshakes.failed */
	CS_HS_TIMEOUT,		/* handshakes.timeout */
	CS_BYTES_IN,		/* bytes.in: cleartext from clients */
	CS_BYTES_OUT,		/* bytes.out: cleartext to clients */
	CS_RENEG_ACCEPTED,	/* renegotiations.accepted */
	CS_RENEG_REFUSED,	/* renegotiations.refused */
	CS_HS_TLS12,		/* handshakes.by_version.TLSv1.2: completed, full or resumed */
	CS_HS_TLS13,		/* handshakes.by_version.TLSv1.3 */
	CS_ACCEPT_PAUSED,	/* connections.accept_paused: accepting paused, out of descriptors or memory */
	CS_TICKET_RESUMED_ACTIVE,	/* ticket_keys.resumed.active: ticket resumptions under the active key */
	CS_TICKET_RESUMED_NEXT,		/* ... .next: under the next key (another machine activated it) */
	CS_TICKET_RESUMED_DECRYPT_ONLY,	/* ... .decrypt_only: under a key a rotation retired */
	CS_TICKET_KEY_NOT_FOUND,	/* ticket_keys.not_found: a ticket no ring entry names */
	CS_STORE_HITS,		/* session_store.hits: a valid entry came from Redis */
	CS_STORE_MISSES,	/* session_store.misses: Redis had none */
	CS_STORE_REFUSED,	/* session_store.refused: an entry failed its checks */
	CS_STORE_ERRORS,	/* session_store.errors: an error reply, or the connection lost */
	CS_STORE_TIMEOUTS,	/* session_store.timeouts: a handshake stopped waiting for Redis */
	CS_STORE_UNAVAILABLE,	/* session_store.unavailable: not asked: the store was down */
	CS_STORE_WRITES,	/* session_store.writes: new sessions written to Redis */
	CS_BACKEND_TLS_FULL,	/* backend.tls.full: full handshakes to the backend */
	CS_BACKEND_TLS_RESUMED,	/* backend.tls.resumed: resumed ones */
	/* backend.tls.failures.*, in the order of enum backend_tls_failure: */
	CS_BACKEND_TLS_EXPIRED, CS_BACKEND_TLS_UNKNOWN_CA, CS_BACKEND_TLS_NAME_MISMATCH,
	CS_BACKEND_TLS_BAD_CERTIFICATE, CS_BACKEND_TLS_HANDSHAKE,
	CS_BACKEND_CONNECTED,	/* backend.connects: connects to the backend that succeeded */
	/* backend.connect_failures.*, in the order of enum cluster_backend_failure: */
	CS_BACKEND_CONNECT_REFUSED, CS_BACKEND_CONNECT_TIMEOUT, CS_BACKEND_CONNECT_UNREACHABLE,
	CS_BACKEND_CONNECT_ERROR,
	CS_COUNTERS
};

/* Why a handshake failed (SPEC /v1/stats handshakes.failures, /metrics
 * tlsd_handshake_failures_total{reason}); a fixed set, in this order. */
enum cluster_failure {
	CS_FAIL_TIMEOUT,		/* "timeout": handshakeTimeout passed */
	CS_FAIL_PROTOCOL_VERSION,	/* "protocol_version": no TLS version in common */
	CS_FAIL_NO_SHARED_CIPHER,	/* "no_shared_cipher": no suite, group or key type in common */
	CS_FAIL_BAD_CERTIFICATE,	/* "bad_certificate": one side refused the other's certificate */
	CS_FAIL_CLIENT_CLOSED,		/* "client_closed": EOF or reset before the handshake ended */
	CS_FAIL_NOT_TLS,		/* "not_tls": the bytes were not a TLS handshake */
	CS_FAIL_TOO_LARGE,		/* "too_large": over maxHandshakeSize */
	CS_FAIL_OTHER,			/* "other": anything else */
	CS_FAILURES
};

/* Why a connect to the backend failed (SPEC /v1/stats
 * backend.connect_failures, /metrics tlsd_backend_connect_failures_total). */
enum cluster_backend_failure {
	CS_BACKEND_REFUSED,	/* "refused": ECONNREFUSED, or no socket at a unix path */
	CS_BACKEND_TIMEOUT,	/* "timeout": backend.timeout passed */
	CS_BACKEND_UNREACHABLE,	/* "unreachable": no route to the host or network */
	CS_BACKEND_ERROR,	/* "error": anything else */
	CS_BACKEND_FAILURES
};

/* Timed events by kind, for the duration histograms: completed handshakes
 * (full, resumed) and completed connects to the backend. */
enum cluster_hs_kind { CS_KIND_FULL, CS_KIND_RESUMED, CS_KIND_BACKEND_CONNECT, CS_KINDS };

/* Why a worker the master meant to run ended (/metrics
 * tlsd_worker_exits_total{slot,cause}, /v1/stats workers[].exits); a
 * fixed set, in this order. The master writes these, from the status it
 * reaps. */
enum cluster_exit_cause {
	CS_EXIT_SIGNAL,		/* "signal": killed by a signal (crash, OOM killer, kill) */
	CS_EXIT_STATUS,		/* "exit": exited with a nonzero status */
	CS_EXIT_CONFIG,		/* "config": exited on its configuration (not restarted) */
	CS_EXIT_CLEAN,		/* "clean": exited with status 0 without being asked to */
	CS_EXIT_CAUSES
};


/* The histogram's finite upper bounds (cluster_stats_bucket_bound_us);
 * one more bucket counts what is over the last one. */
#define CS_DURATION_BUCKETS 11

struct cluster_stats;

/* One worker's figures, or (pid 0, restarts summed) the whole server's. */
struct cluster_figures {
	bool started;		/* a worker ran in this slot at least once */
	pid_t pid;		/* 0: not running */
	uint64_t restarts;
	uint64_t current;	/* connections open now */
	uint64_t counters[CS_COUNTERS];
	uint64_t failures[CS_FAILURES];
	/* durations[kind][i]: handshakes of that kind that took at most bound
	 * i and more than bound i - 1 (not cumulative); [CS_DURATION_BUCKETS]:
	 * over the last bound. */
	uint64_t durations[CS_KINDS][CS_DURATION_BUCKETS + 1];
	uint64_t duration_sum_us[CS_KINDS];
	bool wanted;		/* the master means a worker to run in this slot */
	uint64_t heartbeat_ms;	/* CLOCK_MONOTONIC ms of the worker's last beat */
	struct cluster_backend_seen {
		uint64_t ok_ms;		/* CLOCK_MONOTONIC ms of the last connect that worked; 0: none */
		uint64_t failed_ms;	/* ... of the last one that failed; 0: none */
		int failed_errno;	/* why that one failed (ETIMEDOUT for the timeout) */
	} backend;		/* totals: the latest of each over all slots */
};

/* The master's reloads (SIGHUP), successful or refused. */
struct cluster_reloads {
	uint64_t success, failure;
	int64_t last_success;	/* unix time, seconds; 0: none yet */
};

/* cluster_stats_create: map slots for <workers> workers (1..1024) with the
 * connection limit <max_connections> (0: none) into *<out>. Returns 0,
 * TLSD_ERR_CONFIG (bad numbers) or TLSD_ERR_IO (mmap, pthread). */
int cluster_stats_create(int workers, long max_connections, struct cluster_stats **out) TLSD_MUST_CHECK;

/* cluster_stats_destroy: unmap (NULL is fine). */
void cluster_stats_destroy(struct cluster_stats *cs);

/* cluster_stats_workers: the number of slots. */
int cluster_stats_workers(const struct cluster_stats *cs);

/* ---- a worker, on its own <slot> only ---- */

/* cluster_stats_add: counters[<which>] += <n>. No lock. */
void cluster_stats_add(struct cluster_stats *cs, int slot, enum cluster_counter which, uint64_t n);

/* cluster_stats_admit: count one accepted connection against the limit.
 * true: admitted (open count and CS_CONN_TOTAL incremented); false: over
 * maxConnections (CS_CONN_REJECTED incremented): the caller closes it. */
bool cluster_stats_admit(struct cluster_stats *cs, int slot);

/* cluster_stats_release: an admitted connection closed. */
void cluster_stats_release(struct cluster_stats *cs, int slot);

/* cluster_stats_fail: one handshake failed for <reason>. No lock. */
void cluster_stats_fail(struct cluster_stats *cs, int slot, enum cluster_failure reason);

/* cluster_stats_observe_handshake: a handshake of <kind> completed in
 * <us> microseconds. No lock. */
void cluster_stats_observe_handshake(struct cluster_stats *cs, int slot, enum cluster_hs_kind kind, uint64_t us);

/* cluster_stats_backend_connected: a connect to the backend worked after
 * <us> microseconds, at <now_ms> (cluster_stats_monotonic_ms). No lock. */
void cluster_stats_backend_connected(struct cluster_stats *cs, int slot, uint64_t us, uint64_t now_ms);

/* cluster_stats_backend_failed: one failed with <error> (an errno value;
 * ETIMEDOUT when backend.timeout passed), at <now_ms>. No lock. */
void cluster_stats_backend_failed(struct cluster_stats *cs, int slot, int error, uint64_t now_ms);

/* cluster_stats_backend_failure_of: the reason an errno value counts as. */
enum cluster_backend_failure cluster_stats_backend_failure_of(int error);

/* cluster_stats_backend_failure_name: <reason>'s name ("refused", ...). */
const char *cluster_stats_backend_failure_name(enum cluster_backend_failure reason);

/* cluster_stats_heartbeat: the worker's loop runs: <now_ms> is
 * cluster_stats_monotonic_ms(). */
void cluster_stats_heartbeat(struct cluster_stats *cs, int slot, uint64_t now_ms);

/* ---- the master ---- */

/* cluster_stats_set_wanted: whether a worker should run in <slot> (the
 * running generation's slots are; a retired, draining one is not). */
void cluster_stats_set_wanted(struct cluster_stats *cs, int slot, bool wanted);

/* cluster_stats_reload_done: a SIGHUP reload succeeded (<ok>) or was
 * refused, at unix time <now>. */
void cluster_stats_reload_done(struct cluster_stats *cs, bool ok, int64_t now);

/* cluster_stats_worker_started: <slot> now runs as <pid>; every start
 * after the first counts as a restart. Its heartbeat is set to now: a new
 * worker has one heartbeat age limit to show it runs. */
void cluster_stats_worker_started(struct cluster_stats *cs, int slot, pid_t pid);

/* cluster_stats_worker_exited: <slot>'s process is gone (reaped): its open
 * connections went with it. Call only once it cannot run any more. */
void cluster_stats_worker_exited(struct cluster_stats *cs, int slot);

/* cluster_stats_count_exit: <slot>'s worker ended for <cause>. */
void cluster_stats_count_exit(struct cluster_stats *cs, int slot, enum cluster_exit_cause cause);

/* cluster_stats_set_max_connections: a new limit (>= 0, 0: none) for every
 * connection admitted from now on; open ones are not closed. */
void cluster_stats_set_max_connections(struct cluster_stats *cs, long max_connections);

/* ---- anyone ---- */

/* cluster_stats_monotonic_ms: CLOCK_MONOTONIC in ms, the heartbeats' clock
 * (the same in every process of the machine). */
uint64_t cluster_stats_monotonic_ms(void);

/* cluster_stats_failure_name: <reason>'s name ("timeout", ...). */
const char *cluster_stats_failure_name(enum cluster_failure reason);

/* cluster_stats_exit_cause_name: <cause>'s name ("signal", ...). */
const char *cluster_stats_exit_cause_name(enum cluster_exit_cause cause);

/* cluster_stats_exits: <slot>'s exits by cause into <out>; <slot> -1:
 * every slot summed. */
void cluster_stats_exits(const struct cluster_stats *cs, int slot, uint64_t out[CS_EXIT_CAUSES]);

/* cluster_stats_bucket_bound_us: the upper bound of duration bucket <i>
 * (0 .. CS_DURATION_BUCKETS - 1), in microseconds. */
uint64_t cluster_stats_bucket_bound_us(int i);

/* cluster_stats_reloads: the reload figures into *<out>. */
void cluster_stats_reloads(const struct cluster_stats *cs, struct cluster_reloads *out);

/* cluster_stats_unhealthy: how many wanted slots have no worker, or one
 * whose last heartbeat is older than <max_age_ms> at <now_ms>; every slot
 * unwanted counts as one. <why> (<size> bytes) gets the first of them,
 * e.g. "worker 2 (pid 123): no heartbeat for 3.4 s"; "" when 0. */
int cluster_stats_unhealthy(const struct cluster_stats *cs, uint64_t now_ms, uint64_t max_age_ms, char *why,
			    size_t size);

long cluster_stats_max_connections(const struct cluster_stats *cs);

/* cluster_stats_lock_recoveries: how often a worker died holding the
 * admission lock and the next one recovered it. */
uint64_t cluster_stats_lock_recoveries(const struct cluster_stats *cs);

/* cluster_stats_worker: <slot>'s figures into *<out>. */
void cluster_stats_worker(const struct cluster_stats *cs, int slot, struct cluster_figures *out);

/* cluster_stats_totals: every slot summed into *<out> (pid 0). */
void cluster_stats_totals(const struct cluster_stats *cs, struct cluster_figures *out);

#endif
