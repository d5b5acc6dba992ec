/* access_log.c - access and clientError lines. */
#include "worker/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"

static bool is_file_target(const char *target)
{
	return target != NULL && strcmp(target, "off") != 0 && strcmp(target, "-") != 0;
}

int access_log_open(const char *target, int *fd, struct tlsd_error *err)
{
	*fd = -1;
	if (target != NULL && strcmp(target, "-") == 0)
		*fd = STDOUT_FILENO;
	if (!is_file_target(target))
		return TLSD_OK;
	*fd = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "accessLog: %s: %s", target, strerror(errno));
	return TLSD_OK;
}

void access_log_reopen(const char *target, int fd)
{
	int fresh;

	if (!is_file_target(target) || fd < 0)
		return;
	fresh = open(target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fresh < 0 || dup3(fresh, fd, O_CLOEXEC) < 0)
		log_error("accessLog: reopen %s: %s (still writing the old file)", target, strerror(errno));
	if (fresh >= 0)
		close(fresh);
}

/* write_line: one write(2) of <text> plus a newline. */
static void write_line(int fd, const char *text)
{
	size_t len = strlen(text);
	char *line = malloc(len + 1);
	ssize_t n;

	if (line == NULL)
		return;
	memcpy(line, text, len);
	line[len] = '\n';
	do
		n = write(fd, line, len + 1);
	while (n < 0 && errno == EINTR);
	free(line);
}

/* One field of a line, the same key in both formats. */
enum field_type {
	FIELD_TEXT,		/* always a string */
	FIELD_OPTIONAL,		/* NULL or "": null in JSON, - in text */
	FIELD_BOOL,
	FIELD_INT,
};

struct field {
	const char *key;
	enum field_type type;
	const char *text;	/* FIELD_TEXT, FIELD_OPTIONAL */
	long long num;		/* FIELD_BOOL, FIELD_INT */
};

#define TEXT(k, v) { .key = (k), .type = FIELD_TEXT, .text = (v) }
#define OPTIONAL(k, v) { .key = (k), .type = FIELD_OPTIONAL, .text = (v) }
#define BOOL(k, v) { .key = (k), .type = FIELD_BOOL, .num = (v) }
#define INT(k, v) { .key = (k), .type = FIELD_INT, .num = (long long)(v) }
#define N_FIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* needs_quotes: whether <v> would not read back as itself bare. */
static bool needs_quotes(const char *v)
{
	if (v[0] == '\0' || strcmp(v, "-") == 0)
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '=' || *p == '\\')
			return true;
	return false;
}

/* escape_byte: <c> as it stands inside quotes, into <out> (5 bytes). */
static void escape_byte(unsigned char c, char out[5])
{
	static const char named[][2] = { { '"', '"' }, { '\\', '\\' }, { '\n', 'n' }, { '\r', 'r' }, { '\t', 't' } };

	for (size_t i = 0; i < N_FIELDS(named); i++)
		if (c == (unsigned char)named[i][0]) {
			snprintf(out, 5, "\\%c", named[i][1]);
			return;
		}
	if (c < ' ' || c >= 0x7f)
		snprintf(out, 5, "\\x%02x", c);
	else
		snprintf(out, 5, "%c", c);
}

size_t access_log_logfmt_value(char *buf, size_t len, size_t size, const char *value)
{
	char piece[5];
	size_t n;

	if (value == NULL || !needs_quotes(value)) {
		n = (size_t)snprintf(buf + len, size - len, "%s", value ? value : "-");
		return len + n < size ? len + n : size - 1;
	}
	/* Room is kept for the closing quote and the NUL. */
	if (len + 3 > size)
		return len;
	buf[len++] = '"';
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
		escape_byte(*p, piece);
		n = strlen(piece);
		if (len + n + 2 > size)
			break;
		memcpy(buf + len, piece, n);
		len += n;
	}
	buf[len++] = '"';
	buf[len] = '\0';
	return len;
}

static const char *present(const char *s)
{
	return s && *s ? s : NULL;
}

/* write_text: the fields as one logfmt line. */
static void write_text(const struct access_log *log, const struct field *f, size_t n)
{
	char line[4096];
	size_t len = 0;

	line[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s=", i ? " " : "", f[i].key);
		if (len >= sizeof(line))
			return;
		if (f[i].type == FIELD_BOOL)
			len = access_log_logfmt_value(line, len, sizeof(line), f[i].num ? "true" : "false");
		else if (f[i].type == FIELD_INT)
			len += (size_t)snprintf(line + len, sizeof(line) - len, "%lld", f[i].num);
		else if (f[i].type == FIELD_OPTIONAL)
			len = access_log_logfmt_value(line, len, sizeof(line), present(f[i].text));
		else
			len = access_log_logfmt_value(line, len, sizeof(line), f[i].text ? f[i].text : "");
		if (len >= sizeof(line))
			return;
	}
	write_line(log->fd, line);
}

/* json_text: <s> as a JSON string; bytes that are not UTF-8 (jansson
 * refuses them) are given as the text format's escapes. */
static json_t *json_text(const char *s)
{
	char escaped[1024];
	json_t *v = json_string(s);
	size_t len;

	if (v != NULL)
		return v;
	/* Such a value is always quoted: the quotes are left out. */
	len = access_log_logfmt_value(escaped, 0, sizeof(escaped), s);
	if (len >= 2)
		escaped[len - 1] = '\0';
	return json_string(len >= 2 ? escaped + 1 : "");
}

static json_t *json_value(const struct field *f)
{
	switch (f->type) {
	case FIELD_BOOL:
		return json_boolean(f->num);
	case FIELD_INT:
		return json_integer((json_int_t)f->num);
	case FIELD_OPTIONAL:
		return present(f->text) ? json_text(f->text) : json_null();
	case FIELD_TEXT:
		break;
	}
	return json_text(f->text ? f->text : "");
}

static void write_json(const struct access_log *log, const struct field *f, size_t n)
{
	json_t *obj = json_object();
	char *text = NULL;

	for (size_t i = 0; obj != NULL && i < n; i++)
		if (json_object_set_new(obj, f[i].key, json_value(&f[i])) < 0) {
			json_decref(obj);
			obj = NULL;
		}
	if (obj != NULL)
		text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text != NULL)
		write_line(log->fd, text);
	free(text);
	json_decref(obj);
}

static void write_fields(const struct access_log *log, const struct field *f, size_t n)
{
	if (log->format == TLSD_LOG_JSON)
		write_json(log, f, n);
	else
		write_text(log, f, n);
}

/* The id GET /v1/connections shows: "<worker pid>.<n>". */
static void format_id(const struct access_log *log, uint64_t id, char *out, size_t size)
{
	snprintf(out, size, "%d.%llu", log->worker, (unsigned long long)id);
}

void access_log_close(const struct access_log *log, const struct access_close *e)
{
	const struct tls_info *t = e->tls;
	char time[32], id[48];
	/* The fields point at <time> and <id>, filled in below. */
	const struct field f[] = {
		TEXT("time", time), TEXT("event", "close"), TEXT("id", id), INT("worker", log->worker),
		TEXT("client", e->client), OPTIONAL("servername", t->servername), OPTIONAL("alpn", t->alpn),
		TEXT("protocol", t->protocol), TEXT("cipher", t->cipher), BOOL("resumed", t->resumed),
		BOOL("authorized", t->authorized), OPTIONAL("authorizationError", t->authorization_error),
		INT("bytesIn", e->bytes_in), INT("bytesOut", e->bytes_out), INT("durationMs", e->duration_ms),
		TEXT("closeReason", e->reason),
	};

	if (log->fd < 0)
		return;
	log_timestamp(time, sizeof(time));
	format_id(log, e->id, id, sizeof(id));
	write_fields(log, f, N_FIELDS(f));
}

void access_log_client_error(const struct access_log *log, const struct access_client_error *e)
{
	char time[32], id[48];
	const struct field f[] = {
		TEXT("time", time), TEXT("event", "clientError"), TEXT("id", id), INT("worker", log->worker),
		TEXT("client", e->client), TEXT("error", e->error), OPTIONAL("alert", e->alert),
		OPTIONAL("authorizationError", e->authorization_error), INT("durationMs", e->duration_ms),
		TEXT("closeReason", e->reason),
	};

	if (log->fd < 0)
		return;
	log_timestamp(time, sizeof(time));
	format_id(log, e->id, id, sizeof(id));
	write_fields(log, f, N_FIELDS(f));
}
