/* state_file.c - atomic, private writes in the state dir. */
#include "common/state_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check_entry(int dfd, const char *dir, const char *name, int depth, struct tlsd_error *err);

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

	/* A fresh, unpredictable name created with O_EXCL (mkostemp): a file
	 * or symbolic link planted there in advance is never opened. */
	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd >= 0 && fchmod(fd, 0600) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		fd = -1;
	}
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

/* private_enough: <st> (of <path>) is owned by the user tlsd runs as and
 * writable by nobody else. */
static int private_enough(const char *path, const struct stat *st, struct tlsd_error *err)
{
	if (st->st_uid != geteuid())
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "stateDir: %s: owned by uid %u, not by the user tlsd runs as (uid %u)", path,
				      (unsigned)st->st_uid, (unsigned)geteuid());
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "stateDir: %s: writable by group or others (mode %04o); run chmod go-w on it",
				      path, (unsigned)(st->st_mode & 07777));
	return TLSD_OK;
}

/* check_entries: every entry of the folder <path> (open as <dfd>, owned
 * by the caller) is private, no symbolic link, and so is each entry of a
 * subfolder when <depth> > 0. */
static int check_entries(int dfd, const char *path, int depth, struct tlsd_error *err)
{
	DIR *dir = fdopendir(dfd);
	struct dirent *d;
	int rc = TLSD_OK;

	if (dir == NULL) {
		close(dfd);
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s: %s", path, strerror(errno));
	}
	while (rc == TLSD_OK && (d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			rc = check_entry(dirfd(dir), path, d->d_name, depth, err);
	}
	closedir(dir);
	return rc;
}

static int check_entry(int dfd, const char *dir, const char *name, int depth, struct tlsd_error *err)
{
	char path[4400];
	struct stat st;
	int sub;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? TLSD_OK : tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s: %s", path,
								   strerror(errno));
	if (S_ISLNK(st.st_mode))
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "stateDir: %s: a symbolic link (refused: remove it)", path);
	GUARD(private_enough(path, &st, err));
	if (!S_ISDIR(st.st_mode) || depth == 0)
		return TLSD_OK;
	sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s: %s", path, strerror(errno));
	return check_entries(sub, path, depth - 1, err);
}

int state_dir_check(const char *dir, struct tlsd_error *err)
{
	struct stat st;
	int fd;

	if (stat(dir, &st) < 0)
		return errno == ENOENT ? TLSD_OK : tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s: %s", dir,
								   strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s: not a folder", dir);
	GUARD(private_enough(dir, &st, err));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: %s: %s", dir, strerror(errno));
	return check_entries(fd, dir, 1, err);
}
