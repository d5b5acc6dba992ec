/* state_file.h - files in the state dir, written atomically and privately.
 *
 * A reader sees the old file or the new one, never a part: the bytes go to
 * a temporary file (mode 0600) in the same folder, are synced, and the
 * temporary file is renamed over the target; then the folder is synced so
 * the rename survives a crash. The temporary name is unpredictable and
 * created exclusively, so nothing planted in the folder is written through.
 *
 * state_dir_check is the start-up gate: tlsd keeps secrets here (ticket
 * keys, the control token, runtime keys) and trusts what it reads back,
 * so the folder and what it holds must belong to the user tlsd runs as
 * and be writable by nobody else.
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

/* state_dir_check: <dir> (absent is fine: it is created 0700 later) is a
 * folder owned by the effective user and not writable by group or others,
 * and so is every entry in it and in its subfolders (contexts/), none of
 * them a symbolic link. Errors (TLSD_ERR_CONFIG) name the path and what
 * is wrong. */
int state_dir_check(const char *dir, struct tlsd_error *err) TLSD_MUST_CHECK;

#endif
