/* log.c - diagnostic logging to stderr. */
#include "common/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* The logger is process-wide by nature: a signal-free, single-threaded
 * process writes its lines through it. */
static struct {
	enum tlsd_log_format format;
	enum tlsd_log_level level;
	char role[32];
} logger = { TLSD_LOG_TEXT, TLSD_LOG_INFO, "master" };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_setup(enum tlsd_log_format format, enum tlsd_log_level level)
{
	logger.format = format;
	logger.level = level;
}

void log_set_role(const char *role)
{
	snprintf(logger.role, sizeof(logger.role), "%s", role);
}

enum tlsd_log_format log_format_get(void)
{
	return logger.format;
}

void log_timestamp(char *buf, size_t size)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)(tv.tv_usec / 1000));
}

static void log_write_json(const char *time, const char *level, const char *msg)
{
	json_t *line = json_pack("{s:s, s:s, s:s, s:s}", "time", time, "level", level,
				 "process", logger.role, "msg", msg);
	char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;

	if (text)
		fprintf(stderr, "%s\n", text);
	free(text);
	json_decref(line);
}

void log_msg(enum tlsd_log_level level, const char *fmt, ...)
{
	char time[32];
	char msg[2048];
	va_list ap;

	if (level > logger.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_timestamp(time, sizeof(time));
	if (logger.format == TLSD_LOG_JSON)
		log_write_json(time, level_names[level], msg);
	else
		fprintf(stderr, "%s %s %s: %s\n", time, level_names[level], logger.role, msg);
	fflush(stderr);
}
