/* pid_file.h - the master's pid in a file (pidFile, --pid-file), for
 * init scripts, logrotate and `kill $(cat FILE)`.
 *
 * Written once the listeners (and the control endpoint) are open, so a
 * reader that finds it can connect; written whole or not at all (a new
 * temporary file next to it, created exclusively, then renamed over it);
 * removed when the master exits, unless the file no longer names it.
 *
 * A file left by a master that died without removing it (SIGKILL, a
 * crash, a power cut) is stale: at start, a file whose pid is not running,
 * or runs another program than this one (the pid was reused), or holds no
 * pid is replaced, with a log line. A file naming a running tlsd stops the
 * start: two masters would fight over one file.
 */
#ifndef TLSD_MASTER_PID_FILE_H
#define TLSD_MASTER_PID_FILE_H

#include "common/err.h"

/* pid_file_check: before binding: TLSD_ERR_CONFIG naming pidFile when
 * <path> names a running tlsd; 0 when absent or stale. */
int pid_file_check(const char *path, struct tlsd_error *err) TLSD_MUST_CHECK;

/* pid_file_write: <path> holds this process's pid and a newline, mode
 * 0644. Errors (TLSD_ERR_IO) name pidFile and the path. */
int pid_file_write(const char *path, struct tlsd_error *err) TLSD_MUST_CHECK;

/* pid_file_remove: delete <path> if it still holds this process's pid. */
void pid_file_remove(const char *path);

#endif
