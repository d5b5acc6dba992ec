/* file_read.c - bounded, non-blocking reads of regular files. */
#include "common/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* read_up_to: fill <buf> (<cap> bytes) from <fd> until EOF; *<got> is the
 * count. A file that still has bytes after <cap> is too large. */
static int read_up_to(int fd, const char *path, char *buf, size_t cap, size_t *got, struct tlsd_error *err)
{
	char probe;
	ssize_t n;

	*got = 0;
	while (*got < cap) {
		n = read(fd, buf + *got, cap - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s", path, strerror(errno));
		if (n == 0)
			return TLSD_OK;
		*got += (size_t)n;
	}
	while ((n = read(fd, &probe, 1)) < 0 && errno == EINTR)
		;
	if (n != 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: larger than 1 MiB", path);
	return TLSD_OK;
}

int file_read_fd(int fd, const char *path, char **data, size_t *len, struct tlsd_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int rc;

	*data = NULL;
	*len = 0;
	if (fstat(fd, &st) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: not a regular file", path);
	if (st.st_size > FILE_READ_MAX)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: larger than 1 MiB", path);
	/* The size may change under us: read to EOF, never past the cap. */
	buf = malloc(FILE_READ_MAX + 1);
	if (buf == NULL)
		return tlsd_error_set(err, TLSD_ERR_INTERNAL, "%s: out of memory", path);
	rc = read_up_to(fd, path, buf, FILE_READ_MAX, &got, err);
	if (rc < 0) {
		file_read_free(buf, got);
		return rc;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return TLSD_OK;
}

int file_read(const char *path, int extra_flags, char **data, size_t *len, struct tlsd_error *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | extra_flags);
	int rc;

	*data = NULL;
	*len = 0;
	if (fd < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s", path,
				      errno == ELOOP ? "a symbolic link (refused)" : strerror(errno));
	rc = file_read_fd(fd, path, data, len, err);
	close(fd);
	return rc;
}

void file_read_free(char *data, size_t len)
{
	if (data == NULL)
		return;
	explicit_bzero(data, len);
	free(data);
}
