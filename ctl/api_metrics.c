/* api_metrics.c - the /metrics text, written with stdio into a buffer that
 * grows as needed (open_memstream): no size limit, no truncation. */
#include "ctl/api_metrics.h"
#include "ctl/api_stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* A labelled sample: the label's value and the counter it reads. */
struct labelled {
	const char *value;
	enum cluster_counter which;
};

static const struct labelled handshake_results[] = {
	{ "full", CS_HS_FULL },
	{ "resumed_session_id", CS_HS_RESUMED_ID },
	{ "resumed_ticket", CS_HS_RESUMED_TICKET },
	{ "failed", CS_HS_FAILED },
	{ "timeout", CS_HS_TIMEOUT },
};

static const struct labelled handshake_versions[] = {
	{ "TLSv1.2", CS_HS_TLS12 },
	{ "TLSv1.3", CS_HS_TLS13 },
};

static const struct labelled ticket_key_states[] = {
	{ "active", CS_TICKET_RESUMED_ACTIVE },
	{ "next", CS_TICKET_RESUMED_NEXT },
	{ "decrypt-only", CS_TICKET_RESUMED_DECRYPT_ONLY },
};

static const struct labelled store_lookups[] = {
	{ "hit", CS_STORE_HITS },
	{ "miss", CS_STORE_MISSES },
	{ "refused", CS_STORE_REFUSED },
	{ "error", CS_STORE_ERRORS },
	{ "timeout", CS_STORE_TIMEOUTS },
	{ "unavailable", CS_STORE_UNAVAILABLE },
};

static const struct labelled backend_tls_handshakes[] = {
	{ "full", CS_BACKEND_TLS_FULL },
	{ "resumed", CS_BACKEND_TLS_RESUMED },
};

static const struct labelled backend_tls_failures[] = {
	{ "expired", CS_BACKEND_TLS_EXPIRED },
	{ "unknown_ca", CS_BACKEND_TLS_UNKNOWN_CA },
	{ "name_mismatch", CS_BACKEND_TLS_NAME_MISMATCH },
	{ "bad_certificate", CS_BACKEND_TLS_BAD_CERTIFICATE },
	{ "handshake", CS_BACKEND_TLS_HANDSHAKE },
};

static const struct labelled renegotiation_results[] = {
	{ "accepted", CS_RENEG_ACCEPTED },
	{ "refused", CS_RENEG_REFUSED },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* family: the HELP and TYPE lines that open family <name>. */
static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* single: a family of one sample without labels. */
static void single(FILE *out, const char *name, const char *type, const char *help, uint64_t value)
{
	family(out, name, type, help);
	fprintf(out, "%s %" PRIu64 "\n", name, value);
}

/* labelled_counter: a counter family with one sample per <n> rows of
 * <rows>, labelled <label>="<row value>". */
static void labelled_counter(FILE *out, const char *name, const char *help, const char *label,
			     const struct labelled *rows, size_t n, const struct cluster_figures *t)
{
	family(out, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label, rows[i].value, t->counters[rows[i].which]);
}

static void write_server(FILE *out, const struct api_env *env)
{
	double uptime = (double)time(NULL) - env->started_at;
	long max = cluster_stats_max_connections(env->stats);

	single(out, "tlsd_uptime_seconds", "gauge", "Seconds since tlsd started.",
	       (uint64_t)(uptime < 0 ? 0 : uptime));
	single(out, "tlsd_max_connections", "gauge", "The connection limit across all workers (0: none).",
	       (uint64_t)(max < 0 ? 0 : max));
	single(out, "tlsd_ticket_keys_generation", "gauge", "Generation of the ticket keys in use.",
	       ticket_keys_generation(env->ticket_keys));
}

static void write_traffic(FILE *out, const struct cluster_figures *t)
{
	const uint64_t *c = t->counters;

	single(out, "tlsd_connections_current", "gauge", "Connections open now.", t->current);
	single(out, "tlsd_connections_total", "counter", "Connections admitted since start.", c[CS_CONN_TOTAL]);
	single(out, "tlsd_connections_rejected_total", "counter",
	       "Connections closed at once for being over maxConnections.", c[CS_CONN_REJECTED]);
	single(out, "tlsd_accept_paused_total", "counter",
	       "Times a worker paused accepting for want of file descriptors or memory.", c[CS_ACCEPT_PAUSED]);
	labelled_counter(out, "tlsd_handshakes_total", "TLS handshakes by outcome.", "result", handshake_results,
			 N_OF(handshake_results), t);
	labelled_counter(out, "tlsd_handshakes_by_version_total", "Completed TLS handshakes by protocol version.",
			 "version", handshake_versions, N_OF(handshake_versions), t);
	single(out, "tlsd_bytes_received_total", "counter", "Cleartext bytes received from clients.",
	       c[CS_BYTES_IN]);
	single(out, "tlsd_bytes_sent_total", "counter", "Cleartext bytes sent to clients.", c[CS_BYTES_OUT]);
	labelled_counter(out, "tlsd_renegotiations_total", "TLS 1.2 renegotiations by outcome.", "result",
			 renegotiation_results, N_OF(renegotiation_results), t);
	labelled_counter(out, "tlsd_ticket_resumptions_total",
			 "Ticket resumptions by the ring state of the key that decrypted the ticket.", "key",
			 ticket_key_states, N_OF(ticket_key_states), t);
	labelled_counter(out, "tlsd_session_store_lookups_total",
			 "Session-ID lookups in the session store (Redis) by outcome.", "result", store_lookups,
			 N_OF(store_lookups), t);
	single(out, "tlsd_session_store_writes_total", "counter", "New sessions written to the session store.",
	       c[CS_STORE_WRITES]);
	labelled_counter(out, "tlsd_backend_tls_handshakes_total", "TLS handshakes to the backend, full or resumed.",
			 "kind", backend_tls_handshakes, N_OF(backend_tls_handshakes), t);
	labelled_counter(out, "tlsd_backend_tls_failures_total", "TLS connections to the backend refused, by reason.",
			 "reason", backend_tls_failures, N_OF(backend_tls_failures), t);
	single(out, "tlsd_ticket_key_not_found_total", "counter",
	       "Tickets offered that no key of the ring named (expired, or machines out of sync).",
	       c[CS_TICKET_KEY_NOT_FOUND]);
}

/* write_failures: every reason, zeros included, so a rate never starts
 * from a missing series. */
static void write_failures(FILE *out, const struct cluster_figures *t)
{
	family(out, "tlsd_handshake_failures_total", "counter",
	       "Failed TLS handshakes by reason (timeouts included).");
	for (int i = 0; i < CS_FAILURES; i++)
		fprintf(out, "tlsd_handshake_failures_total{reason=\"%s\"} %" PRIu64 "\n",
			cluster_stats_failure_name((enum cluster_failure)i), t->failures[i]);
}

/* write_histogram_kind: one kind's buckets of a histogram (<label>, empty
 * for none): the slots hold per-bucket counts; Prometheus wants them
 * cumulative. */
static void write_histogram_kind(FILE *out, const char *name, const char *label, const struct cluster_figures *t,
				 enum cluster_hs_kind k)
{
	const char *sep = label[0] != '\0' ? "," : "";
	const char *open = label[0] != '\0' ? "{" : "", *close = label[0] != '\0' ? "}" : "";
	uint64_t sum = 0;

	for (int i = 0; i < CS_DURATION_BUCKETS; i++) {
		sum += t->durations[k][i];
		fprintf(out, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, label, sep,
			(double)cluster_stats_bucket_bound_us(i) / 1e6, sum);
	}
	sum += t->durations[k][CS_DURATION_BUCKETS];
	fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, label, sep, sum);
	fprintf(out, "%s_sum%s%s%s %.6f\n", name, open, label, close, (double)t->duration_sum_us[k] / 1e6);
	fprintf(out, "%s_count%s%s%s %" PRIu64 "\n", name, open, label, close, sum);
}

/* write_durations: the histogram of completed handshakes by kind. */
static void write_durations(FILE *out, const struct cluster_figures *t)
{
	const char *name = "tlsd_handshake_duration_seconds";

	family(out, name, "histogram", "Time from accept to the end of the TLS handshake, by kind.");
	write_histogram_kind(out, name, "kind=\"full\"", t, CS_KIND_FULL);
	write_histogram_kind(out, name, "kind=\"resumed\"", t, CS_KIND_RESUMED);
}

/* write_backend: connects to the backend (backend mode): how long the ones
 * that worked took, why the others failed (every reason, zeros included),
 * and whether the backend answered the last time anyone tried. */
static void write_backend(FILE *out, const struct api_env *env, const struct cluster_figures *t)
{
	const char *name = "tlsd_backend_connect_duration_seconds";
	struct backend_health h;

	family(out, name, "histogram", "Time from the start of a connect to the backend until it was established.");
	write_histogram_kind(out, name, "", t, CS_KIND_BACKEND_CONNECT);
	family(out, "tlsd_backend_connect_failures_total", "counter", "Connects to the backend that failed, by reason.");
	for (int i = 0; i < CS_BACKEND_FAILURES; i++)
		fprintf(out, "tlsd_backend_connect_failures_total{reason=\"%s\"} %" PRIu64 "\n",
			cluster_stats_backend_failure_name((enum cluster_backend_failure)i),
			t->counters[CS_BACKEND_CONNECT_REFUSED + i]);
	if (env->backend_probe == NULL)
		return;
	backend_probe_health(env->backend_probe, &h);
	single(out, "tlsd_backend_up", "gauge",
	       "1 when the last connect to the backend (a client's or the master's check) worked, else 0.",
	       h.state == BACKEND_REACHABLE);
}

/* label_value: <v> as a label value: backslash, quote and newline escaped. */
static void label_value(FILE *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

/* cert_sample: one certificate's expiry, labelled by the context that
 * serves it and its SHA-256 fingerprint (as /v1/contexts shows it). */
static void cert_sample(void *arg, const char *hostname, const struct creds_cert_info *cert)
{
	FILE *out = arg;

	fputs("tlsd_certificate_not_after_seconds{hostname=\"", out);
	label_value(out, hostname);
	fprintf(out, "\",fingerprint=\"%s\"} %" PRId64 "\n", cert->fingerprint256, cert->not_after);
}

/* write_certificates: the default context's certificates (hostname "*"),
 * then every SNI context's. A "*" context from the API replaces the
 * config's default: it is among the contexts, and the config's key/cert
 * no longer serve. */
static void write_certificates(FILE *out, const struct api_env *env)
{
	struct creds_cert_info certs[8];
	bool replaced = env->contexts != NULL && contexts_default_replaced(env->contexts);
	size_t n = env->creds != NULL && !replaced ? creds_certificates(env->creds, certs, 8) : 0;

	family(out, "tlsd_certificate_not_after_seconds", "gauge",
	       "End of validity (unix time) of each certificate served, by context hostname.");
	for (size_t i = 0; i < n; i++)
		cert_sample(out, "*", &certs[i]);
	if (env->contexts != NULL)
		contexts_each_certificate(env->contexts, cert_sample, out);
}

static void write_reloads(FILE *out, const struct api_env *env)
{
	struct cluster_reloads r;

	cluster_stats_reloads(env->stats, &r);
	family(out, "tlsd_reload_total", "counter", "Configuration reloads (SIGHUP) by result.");
	fprintf(out, "tlsd_reload_total{result=\"success\"} %" PRIu64 "\n", r.success);
	fprintf(out, "tlsd_reload_total{result=\"failure\"} %" PRIu64 "\n", r.failure);
	single(out, "tlsd_last_reload_success_timestamp_seconds", "gauge",
	       "Unix time of the last successful reload (0: none since start).", (uint64_t)r.last_success);
}

static void write_session_cache(FILE *out, const struct api_env *env)
{
	struct session_cache_stats st;

	session_cache_stats(env->session_cache, &st);
	single(out, "tlsd_session_cache_entries", "gauge", "Sessions in the shared session-ID cache.", st.entries);
	single(out, "tlsd_session_cache_capacity", "gauge", "Capacity of the shared session-ID cache.",
	       st.capacity);
	single(out, "tlsd_session_cache_hits_total", "counter", "Session-ID cache lookups that found a session.",
	       st.hits);
	single(out, "tlsd_session_cache_misses_total", "counter", "Session-ID cache lookups that found none.",
	       st.misses);
	single(out, "tlsd_session_cache_evictions_total", "counter", "Sessions evicted to make room.",
	       st.evictions);
}

/* ---- by SNI context (common/context_stats) ---- */

static const struct {
	const char *value;
	enum context_counter which;
} context_results[] = {
	{ "full", CX_HS_FULL },
	{ "resumed_session_id", CX_HS_RESUMED_ID },
	{ "resumed_ticket", CX_HS_RESUMED_TICKET },
	{ "failed", CX_HS_FAILED },
	{ "timeout", CX_HS_TIMEOUT },
};

/* One scrape's view of the series: every figure read once. */
struct context_snapshot {
	int n;					/* how many of series[] */
	int series[CONTEXT_SERIES_ALL];
	struct context_figures figures[CONTEXT_SERIES_ALL];
};

/* context_snapshot_take: the named series in the order named, then the
 * default's ("*") and "other". */
static void context_snapshot_take(const struct context_stats *cs, struct context_snapshot *snap)
{
	int named = context_stats_named(cs);

	snap->n = 0;
	for (int i = 0; i < named; i++)
		snap->series[snap->n++] = i;
	snap->series[snap->n++] = CONTEXT_SERIES_DEFAULT;
	snap->series[snap->n++] = CONTEXT_SERIES_OTHER;
	for (int i = 0; i < snap->n; i++)
		context_stats_figures(cs, snap->series[i], &snap->figures[i]);
}

/* context_sample_start: "<name>{hostname="<label>"" of series <i>; the
 * caller adds any other label, "}" and the value. */
static void context_sample_start(FILE *out, const char *name, const struct context_stats *cs,
				 const struct context_snapshot *snap, int i)
{
	fprintf(out, "%s{hostname=\"", name);
	label_value(out, context_stats_label(cs, snap->series[i]));
	fputc('"', out);
}

/* context_family: one sample per series of <snap>, valued <counter>
 * (CX_COUNTERS: the open connections). */
static void context_family(FILE *out, const char *name, const char *type, const char *help,
			   const struct context_stats *cs, const struct context_snapshot *snap, int counter)
{
	family(out, name, type, help);
	for (int i = 0; i < snap->n; i++) {
		const struct context_figures *f = &snap->figures[i];

		context_sample_start(out, name, cs, snap, i);
		fprintf(out, "} %" PRIu64 "\n", counter == CX_COUNTERS ? f->current : f->counters[counter]);
	}
}

static void context_handshakes(FILE *out, const struct context_stats *cs, const struct context_snapshot *snap)
{
	const char *name = "tlsd_sni_handshakes_total";

	family(out, name, "counter",
	       "TLS handshakes by outcome, by the SNI context the server name matched (\"*\": no server name; "
	       "\"other\": no context of its own).");
	for (int i = 0; i < snap->n; i++) {
		for (size_t r = 0; r < N_OF(context_results); r++) {
			context_sample_start(out, name, cs, snap, i);
			fprintf(out, ",result=\"%s\"} %" PRIu64 "\n", context_results[r].value,
				snap->figures[i].counters[context_results[r].which]);
		}
	}
}

/* write_contexts: the tlsd_sni_* families; nothing without the counters. */
static void write_contexts(FILE *out, const struct api_env *env)
{
	struct context_snapshot snap;

	if (env->context_stats == NULL)
		return;
	context_snapshot_take(env->context_stats, &snap);
	context_handshakes(out, env->context_stats, &snap);
	context_family(out, "tlsd_sni_bytes_received_total", "counter",
		       "Cleartext bytes received from clients, by SNI context.", env->context_stats, &snap, CX_BYTES_IN);
	context_family(out, "tlsd_sni_bytes_sent_total", "counter", "Cleartext bytes sent to clients, by SNI context.",
		       env->context_stats, &snap, CX_BYTES_OUT);
	context_family(out, "tlsd_sni_connections_current", "gauge",
		       "Connections open now whose handshake is done, by SNI context.", env->context_stats, &snap,
		       CX_COUNTERS);
}

/* The per-worker families, in the order they are written. */
enum worker_metric { WM_UP, WM_CURRENT, WM_TOTAL, WM_RESTARTS, WM_COUNT };

static const struct {
	const char *name, *type, *help;
} worker_families[WM_COUNT] = {
	[WM_UP] = { "tlsd_worker_up", "gauge", "1 while the worker process runs, else 0." },
	[WM_CURRENT] = { "tlsd_worker_connections_current", "gauge", "Connections the worker has open now." },
	[WM_TOTAL] = { "tlsd_worker_connections_total", "counter", "Connections the worker admitted since start." },
	[WM_RESTARTS] = { "tlsd_worker_restarts_total", "counter", "Times the worker was started again." },
};

static uint64_t worker_value(const struct cluster_figures *w, enum worker_metric m)
{
	switch (m) {
	case WM_UP:
		return w->pid > 0;
	case WM_CURRENT:
		return w->current;
	case WM_TOTAL:
		return w->counters[CS_CONN_TOTAL];
	default:
		return w->restarts;
	}
}

/* write_workers: one snapshot per slot, then each family over the slots.
 * Returns 0, or TLSD_ERR_INTERNAL when out of memory. */
static int write_workers(FILE *out, const struct api_env *env)
{
	int n = cluster_stats_workers(env->stats);
	struct cluster_figures *w = calloc((size_t)n, sizeof(*w));

	if (w == NULL)
		return TLSD_ERR_INTERNAL;
	for (int slot = 0; slot < n; slot++)
		cluster_stats_worker(env->stats, slot, &w[slot]);
	for (int m = 0; m < WM_COUNT; m++) {
		family(out, worker_families[m].name, worker_families[m].type, worker_families[m].help);
		for (int slot = 0; slot < n; slot++)
			if (w[slot].started)	/* the other half waits for a reload */
				fprintf(out, "%s{slot=\"%d\"} %" PRIu64 "\n", worker_families[m].name,
					slot + 1, worker_value(&w[slot], (enum worker_metric)m));
	}
	free(w);
	return TLSD_OK;
}

/* write_lock_recoveries: tlsd_lock_recoveries_total{structure}: each
 * shared structure a dead worker could leave locked or half-written, and
 * how often that was recovered (api_lock_recoveries). */
static void write_lock_recoveries(FILE *out, const struct api_env *env)
{
	struct api_lock_recoveries r[API_LOCK_STRUCTURES];
	const char *name = "tlsd_lock_recoveries_total";

	api_lock_recoveries(env, r);
	family(out, name, "counter",
	       "Shared-memory locks or records a dead worker left held or half-written, recovered, by structure.");
	for (int i = 0; i < API_LOCK_STRUCTURES; i++)
		fprintf(out, "%s{structure=\"%s\"} %" PRIu64 "\n", name, r[i].structure, r[i].count);
}

/* write_worker_exits: tlsd_worker_exits_total{slot,cause}, every cause
 * of every slot that ran, zeros included. */
static void write_worker_exits(FILE *out, const struct api_env *env)
{
	const char *name = "tlsd_worker_exits_total";
	struct cluster_figures w;
	uint64_t exits[CS_EXIT_CAUSES];

	family(out, name, "counter",
	       "Times the worker ended while meant to run, by cause (signal, exit, config, clean).");
	for (int slot = 0; slot < cluster_stats_workers(env->stats); slot++) {
		cluster_stats_worker(env->stats, slot, &w);
		if (!w.started)
			continue;
		cluster_stats_exits(env->stats, slot, exits);
		for (int c = 0; c < CS_EXIT_CAUSES; c++)
			fprintf(out, "%s{slot=\"%d\",cause=\"%s\"} %" PRIu64 "\n", name, slot + 1,
				cluster_stats_exit_cause_name((enum cluster_exit_cause)c), exits[c]);
	}
}

char *api_metrics_text(const struct api_env *env)
{
	struct cluster_figures t;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int rc;

	if (out == NULL)
		return NULL;
	cluster_stats_totals(env->stats, &t);
	write_server(out, env);
	write_traffic(out, &t);
	write_failures(out, &t);
	write_durations(out, &t);
	write_backend(out, env, &t);
	write_certificates(out, env);
	write_reloads(out, env);
	write_session_cache(out, env);
	write_contexts(out, env);
	rc = write_workers(out, env);
	write_worker_exits(out, env);
	write_lock_recoveries(out, env);
	if (ferror(out))
		rc = TLSD_ERR_INTERNAL;
	if (fclose(out) != 0)
		rc = TLSD_ERR_INTERNAL;
	if (rc < 0) {
		free(text);
		return NULL;
	}
	return text;
}

void api_metrics_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	char *text = api_metrics_text(env);

	if (text == NULL) {
		api_reply_error(reply, 500, "internal", "out of memory");
		return;
	}
	api_reply_text(reply, 200, API_METRICS_CONTENT_TYPE, text);
	free(text);
}
