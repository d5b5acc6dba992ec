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

static void write_json(const struct access_log *log, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (text != NULL)
		write_line(log->fd, text);
	free(text);
	json_decref(obj);
}

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static json_t *json_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static void close_json(const struct access_log *log, const char *time, const struct access_close *e)
{
	const struct tls_info *t = e->tls;

	write_json(log, json_pack("{s:s, s:s, s:i, s:s, s:o, s:o, s:s, s:s, s:b, s:b, s:o, s:I, s:I, s:I, s:s}",
				  "time", time, "event", "close", "worker", log->worker, "client", e->client,
				  "servername", json_or_null(t->servername), "alpn", json_or_null(t->alpn),
				  "protocol", t->protocol, "cipher", t->cipher, "resumed", t->resumed,
				  "authorized", t->authorized, "authorizationError",
				  json_or_null(t->authorization_error), "bytesIn", (json_int_t)e->bytes_in,
				  "bytesOut", (json_int_t)e->bytes_out, "durationMs", (json_int_t)e->duration_ms,
				  "closeReason", e->reason));
}

static void close_text(const struct access_log *log, const char *time, const struct access_close *e)
{
	const struct tls_info *t = e->tls;
	char line[2048];

	snprintf(line, sizeof(line),
		 "%s close worker=%d client=%s servername=%s alpn=%s protocol=%s cipher=%s resumed=%s "
		 "authorized=%s authorizationError=%s bytesIn=%llu bytesOut=%llu durationMs=%ld closeReason=%s",
		 time, log->worker, e->client, dash(t->servername), dash(t->alpn), t->protocol, t->cipher,
		 t->resumed ? "true" : "false", t->authorized ? "true" : "false",
		 dash(t->authorization_error), (unsigned long long)e->bytes_in,
		 (unsigned long long)e->bytes_out, e->duration_ms, e->reason);
	write_line(log->fd, line);
}

void access_log_close(const struct access_log *log, const struct access_close *e)
{
	char time[32];

	if (log->fd < 0)
		return;
	log_timestamp(time, sizeof(time));
	if (log->format == TLSD_LOG_JSON)
		close_json(log, time, e);
	else
		close_text(log, time, e);
}

static void client_error_json(const struct access_log *log, const char *time,
			      const struct access_client_error *e)
{
	write_json(log, json_pack("{s:s, s:s, s:i, s:s, s:s, s:o, s:o, s:I, s:s}", "time", time, "event",
				  "clientError", "worker", log->worker, "client", e->client, "error", e->error,
				  "alert", json_or_null(e->alert), "authorizationError",
				  json_or_null(e->authorization_error), "durationMs",
				  (json_int_t)e->duration_ms, "closeReason", e->reason));
}

static void client_error_text(const struct access_log *log, const char *time,
			      const struct access_client_error *e)
{
	char line[2048];

	snprintf(line, sizeof(line),
		 "%s clientError worker=%d client=%s error=\"%s\" alert=%s authorizationError=%s durationMs=%ld "
		 "closeReason=%s",
		 time, log->worker, e->client, e->error, dash(e->alert), dash(e->authorization_error),
		 e->duration_ms, e->reason);
	write_line(log->fd, line);
}

void access_log_client_error(const struct access_log *log, const struct access_client_error *e)
{
	char time[32];

	if (log->fd < 0)
		return;
	log_timestamp(time, sizeof(time));
	if (log->format == TLSD_LOG_JSON)
		client_error_json(log, time, e);
	else
		client_error_text(log, time, e);
}
