/* state_file.c - atomic, private writes in the state dir. */
#include "common/state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void sync_folder_of(const char *path)
{
	char copy[4096];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static bool write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

int state_file_write(const char *path, const void *data, size_t len, struct tlsd_error *err)
{
	char tmp[4200];
	int fd, saved;
	bool ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return tlsd_error_set(err, TLSD_ERR_IO, "stateDir: cannot write %s: %s", path, strerror(errno));
	ok = write_all(fd, data, len) && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	if (ok && rename(tmp, path) == 0) {
		sync_folder_of(path);
		return TLSD_OK;
	}
	saved = errno;
	unlink(tmp);
	return tlsd_error_set(err, TLSD_ERR_IO, "stateDir: cannot write %s: %s", path, strerror(saved));
}

int state_file_remove(const char *path, struct tlsd_error *err)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return tlsd_error_set(err, TLSD_ERR_IO, "stateDir: cannot remove %s: %s", path, strerror(errno));
	sync_folder_of(path);
	return TLSD_OK;
}

static int make_one(const char *dir, struct tlsd_error *err)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return tlsd_error_set(err, TLSD_ERR_IO, "stateDir: cannot create %s: %s", dir, strerror(errno));
	return TLSD_OK;
}

int state_dir_make(const char *dir, const char *sub, struct tlsd_error *err)
{
	char path[4096];

	GUARD(make_one(dir, err));
	if (sub == NULL)
		return TLSD_OK;
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	return make_one(path, err);
}
