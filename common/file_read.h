/* file_read.h - the one way tlsd reads a file that holds keys, certificates,
 * OCSP responses, ticket keys, tokens or state.
 *
 * The file must be a regular file of at most FILE_READ_MAX bytes. It is
 * opened without blocking (a FIFO, a terminal or a device never stalls the
 * caller) and inspected with fstat before a byte is read, so /dev/zero or a
 * FIFO is refused at once instead of filling memory or hanging the master.
 */
#ifndef TLSD_COMMON_FILE_READ_H
#define TLSD_COMMON_FILE_READ_H

#include <stddef.h>

#include "common/err.h"

#define FILE_READ_MAX (1024 * 1024)	/* 1 MiB: far above any PEM bundle or pfx */

/* file_read: the whole regular file <path> into a new buffer *<data> of
 * *<len> bytes plus a NUL (free with file_read_free). <extra_flags> are
 * added to open's (O_NOFOLLOW for state files). Errors (TLSD_ERR_CONFIG)
 * say "<path>: <reason>": the open's errno, "not a regular file" or
 * "larger than 1 MiB". */
int file_read(const char *path, int extra_flags, char **data, size_t *len,
	      struct tlsd_error *err) TLSD_MUST_CHECK;

/* file_read_fd: as file_read, from <fd> already open (not closed here);
 * <path> only names the file in errors. */
int file_read_fd(int fd, const char *path, char **data, size_t *len, struct tlsd_error *err) TLSD_MUST_CHECK;

/* file_read_free: wipe (it may hold a key) and free what file_read gave. */
void file_read_free(char *data, size_t len);

#endif
