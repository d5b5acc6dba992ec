/* pid_file.c - write, check and remove the master's pid file. */
#include "master/pid_file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

/* read_pid: the pid in <path>: > 0, 0 when the file holds none, -1 when
 * there is no file. */
static long read_pid(const char *path)
{
	char buf[32];
	char *end = NULL;
	ssize_t n;
	long pid;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? -1 : 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return pid > 0 && (*end == '\n' || *end == '\0') ? pid : 0;
}

/* comm_of: /proc/<pid>/comm into <out>; false when it cannot be read. */
static bool comm_of(const char *pid, char *out, size_t size)
{
	char path[64];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	ok = fgets(out, (int)size, f) != NULL;
	fclose(f);
	return ok;
}

/* runs_tlsd: <pid> is alive and runs the same program as this process. */
static bool runs_tlsd(long pid)
{
	char theirs[64], ours[64], text[24];

	if (pid == (long)getpid() || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
		return false;
	snprintf(text, sizeof(text), "%ld", pid);
	return comm_of(text, theirs, sizeof(theirs)) && comm_of("self", ours, sizeof(ours)) &&
	       strcmp(theirs, ours) == 0;
}

int pid_file_check(const char *path, struct tlsd_error *err)
{
	long pid;

	if (path == NULL)
		return TLSD_OK;
	pid = read_pid(path);
	if (pid > 0 && runs_tlsd(pid))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "pidFile: %s: tlsd pid %ld is running with it", path, pid);
	if (pid >= 0)
		log_warn("pidFile: %s: stale (%s): replacing it", path,
			 pid == 0 ? "holds no pid" : "its process is gone");
	return TLSD_OK;
}

/* write_all: the pid text to <fd>, synced. */
static int write_all(int fd, const char *text)
{
	size_t len = strlen(text);

	return write(fd, text, len) == (ssize_t)len && fchmod(fd, 0644) == 0 && fsync(fd) == 0 ? 0 : -1;
}

int pid_file_write(const char *path, struct tlsd_error *err)
{
	char tmp[4200], text[24];
	int fd, saved;

	if (path == NULL)
		return TLSD_OK;
	snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
		return tlsd_error_set(err, TLSD_ERR_IO, "pidFile: %s: path too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);	/* O_EXCL, an unpredictable name */
	if (fd < 0)
		return tlsd_error_set(err, TLSD_ERR_IO, "pidFile: %s: %s", tmp, strerror(errno));
	if (write_all(fd, text) < 0 || rename(tmp, path) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		return tlsd_error_set(err, TLSD_ERR_IO, "pidFile: %s: %s", path, strerror(saved));
	}
	close(fd);
	return TLSD_OK;
}

void pid_file_remove(const char *path)
{
	if (path != NULL && read_pid(path) == (long)getpid() && unlink(path) < 0)
		log_warn("pidFile: %s: cannot remove it: %s", path, strerror(errno));
}
