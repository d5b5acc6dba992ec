/* log.h - diagnostic logging to stderr, text or JSON (config "logFormat").
 *
 * One process-wide logger: set once at start (log_setup) and again in each
 * worker (log_set_role). Lines below the configured level are dropped.
 * Text:  "2026-12-02T17:20:00.123Z warn master: message"
 * JSON:  {"time":"...","level":"warn","process":"master","msg":"message"}
 */
#ifndef TLSD_COMMON_LOG_H
#define TLSD_COMMON_LOG_H

#include "common/config.h"
#include "common/err.h"

/* log_setup: choose <format> and the lowest <level> printed. */
void log_setup(enum tlsd_log_format format, enum tlsd_log_level level);

/* log_set_role: name this process in every line ("master", "worker 2"). */
void log_set_role(const char *role);

/* log_format_get: the format chosen by log_setup (the access log follows it). */
enum tlsd_log_format log_format_get(void);

/* log_msg: print one line at <level>. */
void log_msg(enum tlsd_log_level level, const char *fmt, ...) TLSD_PRINTF(2, 3);

#define log_error(...) log_msg(TLSD_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(TLSD_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(TLSD_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(TLSD_LOG_DEBUG, __VA_ARGS__)

/* log_timestamp: format the current time as ISO 8601 UTC with milliseconds
 * into <buf> (at least 32 bytes). */
void log_timestamp(char *buf, size_t size);

#endif
