/* tlsctl_print.c - tables for tlsctl. */
#include "ctl/tlsctl_print.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_COLS_MAX 10
#define CELL_MAX 256

/* A table: a header and rows of copied cells, printed with each column as
 * wide as its widest cell. */
struct table {
	size_t cols, rows, capacity;
	char **cells;		/* rows * cols, row 0 is the header */
};

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = 0;
}

/* table_add: a copy of the row <cells> (t->cols of them). */
static int table_add(struct table *t, const char *const *cells)
{
	if (t->rows == t->capacity) {
		size_t capacity = t->capacity ? t->capacity * 2 : 16;
		char **grown = realloc(t->cells, capacity * t->cols * sizeof(*grown));

		if (grown == NULL)
			return TLSD_ERR_INTERNAL;
		t->cells = grown;
		t->capacity = capacity;
	}
	for (size_t c = 0; c < t->cols; c++) {
		t->cells[t->rows * t->cols + c] = strdup(cells[c]);
		if (t->cells[t->rows * t->cols + c] == NULL) {
			for (size_t k = 0; k < c; k++)
				free(t->cells[t->rows * t->cols + k]);
			return TLSD_ERR_INTERNAL;
		}
	}
	t->rows++;
	return TLSD_OK;
}

static void table_print(const struct table *t, FILE *out)
{
	size_t width[TABLE_COLS_MAX] = { 0 };

	for (size_t i = 0; i < t->rows * t->cols; i++)
		if (strlen(t->cells[i]) > width[i % t->cols])
			width[i % t->cols] = strlen(t->cells[i]);
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->cols; c++) {
			const char *cell = t->cells[r * t->cols + c];

			if (c + 1 == t->cols)
				fprintf(out, "%s\n", cell);	/* no trailing blanks */
			else
				fprintf(out, "%-*s  ", (int)width[c], cell);
		}
	}
}

/* ---- reading members ---- */

/* at: the member at the dotted <path> of <o> (NULL when missing). */
static json_t *at(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o != NULL && (dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return o != NULL ? json_object_get(o, path) : NULL;
}

/* cell: <v> as text into <buf>: strings as they are, numbers in decimal,
 * true as "yes"; null, false and missing as "-" (Node's "false" for no
 * SNI or no ALPN). Returns <buf>. */
static const char *cell(json_t *v, char *buf)
{
	if (json_is_string(v))
		snprintf(buf, CELL_MAX, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, CELL_MAX, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, CELL_MAX, "%g", json_real_value(v));
	else if (json_is_true(v))
		snprintf(buf, CELL_MAX, "yes");
	else
		snprintf(buf, CELL_MAX, "-");
	return buf;
}

/* NUM: the member of <o> at <path> as text, in <buf>. */
#define NUM(o, path, buf) cell(at((o), (path)), (buf))

/* ---- /v1/stats ---- */

static void print_by_version(json_t *stats, FILE *out)
{
	json_t *by = at(stats, "handshakes.by_version");
	const char *version;
	json_t *n;
	char b[CELL_MAX];
	const char *sep = "";

	fprintf(out, "%-16s", "by version");
	json_object_foreach(by, version, n) {
		fprintf(out, "%s%s %s", sep, version, cell(n, b));
		sep = ", ";
	}
	fprintf(out, "%s\n", sep[0] ? "" : "-");
}

static void print_totals(json_t *s, FILE *out)
{
	char a[CELL_MAX], b[CELL_MAX], c[CELL_MAX], d[CELL_MAX], e[CELL_MAX], f[CELL_MAX];

	fprintf(out, "%-16s%s s\n", "uptime", NUM(s, "uptime_s", a));
	fprintf(out, "%-16s%s open, %s total, %s rejected, %s accept pauses\n", "connections",
		NUM(s, "connections.current", a), NUM(s, "connections.total", b),
		NUM(s, "connections.rejected", c), NUM(s, "connections.accept_paused", d));
	fprintf(out, "%-16s%s full, %s resumed (%s session id, %s ticket), %s failed, %s timed out\n",
		"handshakes", NUM(s, "handshakes.full", a), NUM(s, "handshakes.resumed", b),
		NUM(s, "handshakes.resumed_session_id", c), NUM(s, "handshakes.resumed_ticket", d),
		NUM(s, "handshakes.failed", e), NUM(s, "handshakes.timeout", f));
	print_by_version(s, out);
	fprintf(out, "%-16s%s in, %s out\n", "bytes", NUM(s, "bytes.in", a), NUM(s, "bytes.out", b));
	fprintf(out, "%-16s%s of %s entries, %s hits, %s misses, %s evictions\n", "session cache",
		NUM(s, "session_cache.entries", a), NUM(s, "session_cache.capacity", b),
		NUM(s, "session_cache.hits", c), NUM(s, "session_cache.misses", d),
		NUM(s, "session_cache.evictions", e));
	fprintf(out, "%-16sgeneration %s, %s not found\n", "ticket keys", NUM(s, "ticket_keys.generation", a),
		NUM(s, "ticket_keys.not_found", b));
	fprintf(out, "%-16s%s accepted, %s refused\n", "renegotiations", NUM(s, "renegotiations.accepted", a),
		NUM(s, "renegotiations.refused", b));
}

/* sum_of: the sum of the integer members of the object <o> (0 for none). */
static json_int_t sum_of(json_t *o)
{
	json_int_t sum = 0;
	const char *name;
	json_t *n;

	json_object_foreach(o, name, n)
		sum += json_integer_value(n);
	return sum;
}

/* nonzero: the nonzero members of the object <o> as "2 signal, 1 exit"
 * into <buf>, or <none> when there are none. Returns <buf>. */
static const char *nonzero(json_t *o, const char *none, char *buf)
{
	const char *name;
	json_t *n;
	size_t len = 0;

	buf[0] = '\0';
	json_object_foreach(o, name, n) {
		if (json_integer_value(n) != 0 && len < CELL_MAX)
			len += (size_t)snprintf(buf + len, CELL_MAX - len, "%s%" JSON_INTEGER_FORMAT " %s",
						len ? ", " : "", json_integer_value(n), name);
	}
	if (len == 0)
		snprintf(buf, CELL_MAX, "%s", none);
	return buf;
}

static void print_lock_recoveries(json_t *s, FILE *out)
{
	char a[CELL_MAX], b[CELL_MAX], c[CELL_MAX];

	fprintf(out, "%-16s%s connection limit, %s session cache, %s connection list\n", "lock recoveries",
		NUM(s, "lock_recoveries.connection_limit", a), NUM(s, "lock_recoveries.session_cache", b),
		NUM(s, "lock_recoveries.connection_list", c));
}

/* backend_mode: <b> (stats' "backend") comes from a server that forwards:
 * an echo server's has reachable null and zeros. */
static bool backend_mode(json_t *b)
{
	return json_is_boolean(at(b, "reachable")) || json_integer_value(at(b, "connects")) != 0 ||
	       sum_of(at(b, "connect_failures")) != 0 || json_integer_value(at(b, "tls.full")) != 0 ||
	       json_integer_value(at(b, "tls.resumed")) != 0 || sum_of(at(b, "tls.failures")) != 0;
}

static const char *reachable_word(json_t *v)
{
	if (json_is_true(v))
		return "reachable";
	return json_is_false(v) ? "unreachable" : "not checked yet";
}

/* print_backend_tls: handshakes to a TLS backend, once one was tried
 * (a cleartext backend's zeros say nothing). */
static void print_backend_tls(json_t *tls, FILE *out)
{
	char full[CELL_MAX], resumed[CELL_MAX], why[CELL_MAX];
	json_int_t failed = sum_of(json_object_get(tls, "failures"));

	if (json_integer_value(json_object_get(tls, "full")) == 0 &&
	    json_integer_value(json_object_get(tls, "resumed")) == 0 && failed == 0)
		return;
	fprintf(out, "%-16s%s full, %s resumed, %" JSON_INTEGER_FORMAT " failed", "backend tls",
		NUM(tls, "full", full), NUM(tls, "resumed", resumed), failed);
	if (failed != 0)
		fprintf(out, " (%s)", nonzero(json_object_get(tls, "failures"), "", why));
	fprintf(out, "\n");
}

/* print_backend: the backend's lines, in backend mode only. */
static void print_backend(json_t *b, FILE *out)
{
	char a[CELL_MAX], c[CELL_MAX], d[CELL_MAX], e[CELL_MAX];

	if (!backend_mode(b))
		return;
	fprintf(out, "%-16s%s, %s connects\n", "backend", reachable_word(at(b, "reachable")), NUM(b, "connects", a));
	fprintf(out, "%-16s%s refused, %s timed out, %s unreachable, %s other\n", "failed connects",
		NUM(b, "connect_failures.refused", a), NUM(b, "connect_failures.timeout", c),
		NUM(b, "connect_failures.unreachable", d), NUM(b, "connect_failures.error", e));
	print_backend_tls(json_object_get(b, "tls"), out);
}

static int print_workers(json_t *workers, FILE *out)
{
	static const char *const header[] = { "WORKER", "PID", "OPEN", "ACCEPTED", "RESTARTS", "EXITS" };
	struct table t = { .cols = 6 };
	char slot[24], pid[CELL_MAX], open[CELL_MAX], accepted[CELL_MAX], restarts[CELL_MAX], exits[CELL_MAX];
	size_t i;
	json_t *w;
	int rc;

	GUARD_GOTO(table_add(&t, header), rc, out);
	json_array_foreach(workers, i, w) {
		const char *row[] = { slot, NUM(w, "pid", pid), NUM(w, "connections", open),
				      NUM(w, "accepted", accepted), NUM(w, "restarts", restarts),
				      nonzero(json_object_get(w, "exits"), "none", exits) };

		snprintf(slot, sizeof(slot), "%zu", i + 1);
		GUARD_GOTO(table_add(&t, row), rc, out);
	}
	fprintf(out, "\n");
	table_print(&t, out);
out:
	table_free(&t);
	return rc;
}

/* context_counts: what one context series counted, summed. */
static json_int_t context_counts(json_t *cx)
{
	return json_integer_value(at(cx, "connections.current")) + json_integer_value(at(cx, "handshakes.full")) +
	       json_integer_value(at(cx, "handshakes.resumed")) + json_integer_value(at(cx, "handshakes.failed")) +
	       json_integer_value(at(cx, "handshakes.timeout")) + json_integer_value(at(cx, "bytes.in")) +
	       json_integer_value(at(cx, "bytes.out"));
}

/* contexts_worth_showing: a named context (beyond "*" and "other"), or a
 * series that counted anything: an echo server without contexts that no
 * client reached has nothing to say here. */
static bool contexts_worth_showing(json_t *contexts)
{
	size_t i;
	json_t *cx;

	json_array_foreach(contexts, i, cx) {
		const char *host = json_string_value(json_object_get(cx, "hostname"));

		if (context_counts(cx) != 0 ||
		    (host != NULL && strcmp(host, "*") != 0 && strcmp(host, "other") != 0))
			return true;
	}
	return false;
}

static int print_context_series(json_t *contexts, FILE *out)
{
	static const char *const header[] = { "CONTEXT", "OPEN", "FULL", "RESUMED", "FAILED", "TIMED OUT",
					      "BYTES IN", "BYTES OUT" };
	struct table t = { .cols = 8 };
	char host[CELL_MAX], open[CELL_MAX], full[CELL_MAX], resumed[CELL_MAX], failed[CELL_MAX];
	char timeout[CELL_MAX], in[CELL_MAX], outb[CELL_MAX];
	size_t i;
	json_t *cx;
	int rc = TLSD_OK;

	if (!contexts_worth_showing(contexts))
		return TLSD_OK;
	GUARD_GOTO(table_add(&t, header), rc, out);
	json_array_foreach(contexts, i, cx) {
		const char *row[] = { NUM(cx, "hostname", host), NUM(cx, "connections.current", open),
				      NUM(cx, "handshakes.full", full), NUM(cx, "handshakes.resumed", resumed),
				      NUM(cx, "handshakes.failed", failed), NUM(cx, "handshakes.timeout", timeout),
				      NUM(cx, "bytes.in", in), NUM(cx, "bytes.out", outb) };

		GUARD_GOTO(table_add(&t, row), rc, out);
	}
	fprintf(out, "\n");
	table_print(&t, out);
out:
	table_free(&t);
	return rc;
}

int tlsctl_print_stats(json_t *stats, FILE *out)
{
	print_totals(stats, out);
	print_backend(json_object_get(stats, "backend"), out);
	print_lock_recoveries(stats, out);
	GUARD(print_workers(json_object_get(stats, "workers"), out));
	return print_context_series(json_object_get(stats, "contexts"), out);
}

/* ---- /v1/connections ---- */

static void remote_of(json_t *c, char *buf)
{
	const char *host = json_string_value(json_object_get(c, "remoteAddress"));
	json_t *port = json_object_get(c, "remotePort");

	if (host == NULL)
		snprintf(buf, CELL_MAX, "-");
	else if (strchr(host, ':') != NULL)
		snprintf(buf, CELL_MAX, "[%s]:%" JSON_INTEGER_FORMAT, host, json_integer_value(port));
	else
		snprintf(buf, CELL_MAX, "%s:%" JSON_INTEGER_FORMAT, host, json_integer_value(port));
}

int tlsctl_print_connections(json_t *list, FILE *out)
{
	static const char *const header[] = { "ID", "STATE", "REMOTE", "SNI", "PROTOCOL", "CIPHER",
					      "IN", "OUT", "STARTED" };
	struct table t = { .cols = 9 };
	char id[CELL_MAX], state[CELL_MAX], remote[CELL_MAX], sni[CELL_MAX], proto[CELL_MAX];
	char cipher[CELL_MAX], in[CELL_MAX], outb[CELL_MAX], started[CELL_MAX];
	size_t i;
	json_t *c;
	int rc;

	if (json_array_size(list) == 0) {
		fprintf(out, "no connections\n");
		return TLSD_OK;
	}
	GUARD_GOTO(table_add(&t, header), rc, out);
	json_array_foreach(list, i, c) {
		const char *row[] = { NUM(c, "id", id), NUM(c, "state", state), remote, NUM(c, "servername", sni),
				      NUM(c, "protocol", proto), NUM(c, "cipher.name", cipher),
				      NUM(c, "bytesRead", in), NUM(c, "bytesWritten", outb),
				      NUM(c, "startedAt", started) };

		remote_of(c, remote);
		GUARD_GOTO(table_add(&t, row), rc, out);
	}
	table_print(&t, out);
out:
	table_free(&t);
	return rc;
}

/* ---- /v1/ticket-keys ---- */

int tlsctl_print_ticket_keys(json_t *keys, FILE *out)
{
	static const char *const header[] = { "ID", "STATE", "CREATED" };
	struct table t = { .cols = 3 };
	char gen[CELL_MAX], id[CELL_MAX], state[CELL_MAX], created[CELL_MAX];
	size_t i;
	json_t *e;
	int rc;

	fprintf(out, "generation %s\n\n", NUM(keys, "generation", gen));
	GUARD_GOTO(table_add(&t, header), rc, out);
	json_array_foreach(json_object_get(keys, "ring"), i, e) {
		const char *row[] = { NUM(e, "id", id), NUM(e, "state", state), NUM(e, "createdAt", created) };

		GUARD_GOTO(table_add(&t, row), rc, out);
	}
	table_print(&t, out);
out:
	table_free(&t);
	return rc;
}

/* ---- /v1/contexts ---- */

static int add_context_rows(struct table *t, json_t *ctx)
{
	char host[CELL_MAX], source[CELL_MAX], key[CELL_MAX], subject[CELL_MAX], until[CELL_MAX];
	json_t *certs = json_object_get(ctx, "certificates");
	size_t i;
	json_t *c;

	NUM(ctx, "hostname", host);
	NUM(ctx, "source", source);
	if (json_array_size(certs) == 0) {
		const char *row[] = { host, source, "-", "-", "-" };

		return table_add(t, row);
	}
	json_array_foreach(certs, i, c) {
		const char *row[] = { host, source, NUM(c, "keyType", key), NUM(c, "subject", subject),
				      NUM(c, "valid_to", until) };

		GUARD(table_add(t, row));
	}
	return TLSD_OK;
}

int tlsctl_print_contexts(json_t *contexts, FILE *out)
{
	static const char *const header[] = { "HOSTNAME", "SOURCE", "KEY", "SUBJECT", "VALID UNTIL" };
	struct table t = { .cols = 5 };
	size_t i;
	json_t *ctx;
	int rc;

	if (json_is_array(contexts) && json_array_size(contexts) == 0) {
		fprintf(out, "no contexts (every name gets the default certificate)\n");
		return TLSD_OK;
	}
	GUARD_GOTO(table_add(&t, header), rc, out);
	if (json_is_object(contexts))
		GUARD_GOTO(add_context_rows(&t, contexts), rc, out);
	json_array_foreach(contexts, i, ctx)
		GUARD_GOTO(add_context_rows(&t, ctx), rc, out);
	table_print(&t, out);
out:
	table_free(&t);
	return rc;
}
