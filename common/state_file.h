/* state_file.h - files in the state dir, written atomically and privately.
 *
 * A reader sees the old file or the new one, never a part: the bytes go to
 * a temporary file (mode 0600) in the same folder, are synced, and the
 * temporary file is renamed over the target; then the folder is synced so
 * the rename survives a crash.
 */
#ifndef TLSD_COMMON_STATE_FILE_H
#define TLSD_COMMON_STATE_FILE_H

#include <stddef.h>

#include "common/err.h"

/* state_file_write: replace <path> with <len> bytes of <data>, mode 0600.
 * Errors name the path; on error <path> is as before. */
int state_file_write(const char *path, const void *data, size_t len, struct tlsd_error *err) TLSD_MUST_CHECK;

/* state_file_remove: delete <path> (absent is fine) and sync its folder. */
int state_file_remove(const char *path, struct tlsd_error *err) TLSD_MUST_CHECK;

/* state_dir_make: create <dir> (and <dir>/<sub> when <sub> is not NULL)
 * with mode 0700 if missing. */
int state_dir_make(const char *dir, const char *sub, struct tlsd_error *err) TLSD_MUST_CHECK;

#endif
