/* tlsctl_print.c - tables for tlsctl. */
#include "ctl/tlsctl_print.h"

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

static int print_workers(json_t *workers, FILE *out)
{
	static const char *const header[] = { "WORKER", "PID", "OPEN", "ACCEPTED", "RESTARTS" };
	struct table t = { .cols = 5 };
	char slot[24], pid[CELL_MAX], open[CELL_MAX], accepted[CELL_MAX], restarts[CELL_MAX];
	size_t i;
	json_t *w;
	int rc;

	GUARD_GOTO(table_add(&t, header), rc, out);
	json_array_foreach(workers, i, w) {
		const char *row[] = { slot, NUM(w, "pid", pid), NUM(w, "connections", open),
				      NUM(w, "accepted", accepted), NUM(w, "restarts", restarts) };

		snprintf(slot, sizeof(slot), "%zu", i + 1);
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
	return print_workers(json_object_get(stats, "workers"), out);
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
