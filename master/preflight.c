/* preflight.c - --check's look at the files and folders a start needs. */
#include "master/preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define PATH_CAP 4096

struct preflight {
	const struct privileges *priv;
	int problems;
};

static void problem(struct preflight *p, const char *key, const char *fmt, ...) TLSD_PRINTF(3, 4);

static void problem(struct preflight *p, const char *key, const char *fmt, ...)
{
	char msg[PATH_CAP + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("check: %s: %s", key, msg);
	p->problems++;
}

/* folder_of: the folder <path> is in, into <out>. */
static void folder_of(const char *path, char *out, size_t size)
{
	char copy[PATH_CAP];

	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(out, size, "%s", dirname(copy));
}

/* need_folder: <dir> (where <path> goes) exists, is a folder, and the
 * master may create entries in it. */
static void need_folder(struct preflight *p, const char *key, const char *path, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		problem(p, key, "%s: folder %s: %s", path, dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		problem(p, key, "%s: %s is not a folder", path, dir);
	else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0)
		problem(p, key, "%s: cannot create files in folder %s: %s", path, dir, strerror(errno));
}

static void need_parent_folder(struct preflight *p, const char *key, const char *path)
{
	char dir[PATH_CAP];

	folder_of(path, dir, sizeof(dir));
	need_folder(p, key, path, dir);
}

/* need_appendable: an existing <path> opens for appending (nothing is
 * written); a missing one can be created. */
static void need_appendable(struct preflight *p, const char *key, const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			need_parent_folder(p, key, path);
		else
			problem(p, key, "%s: %s", path, strerror(errno));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		problem(p, key, "%s: is a folder", path);
		return;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		problem(p, key, "%s: cannot be opened for appending: %s", path, strerror(errno));
	else
		close(fd);
}

/* need_state_dir: a writable folder, or one that can be made. */
static void need_state_dir(struct preflight *p, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno == ENOENT)
			need_parent_folder(p, "stateDir", dir);
		else
			problem(p, "stateDir", "%s: %s", dir, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		problem(p, "stateDir", "%s: is not a folder", dir);
	} else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0) {
		problem(p, "stateDir", "%s: not writable: %s", dir, strerror(errno));
	}
}

/* can_traverse: whether the workers' ids may search the folder <st>. */
static bool can_traverse(const struct privileges *priv, const struct stat *st)
{
	if (st->st_uid == priv->uid)
		return st->st_mode & S_IXUSR;
	if (st->st_gid == priv->gid)
		return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

/* need_traversable: every existing folder above <path> can be searched
 * by the workers' user. */
static void need_traversable(struct preflight *p, const char *key, const char *path)
{
	char dir[PATH_CAP], next[PATH_CAP];
	struct stat st;

	folder_of(path, dir, sizeof(dir));
	for (;;) {
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && !can_traverse(p->priv, &st))
			problem(p, key, "%s: folder %s cannot be entered by the workers' user (uid %u, gid %u, mode %04o)",
				path, dir, (unsigned)p->priv->uid, (unsigned)p->priv->gid, (unsigned)(st.st_mode & 07777));
		if (strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0)
			return;
		folder_of(dir, next, sizeof(next));
		snprintf(dir, sizeof(dir), "%s", next);
	}
}

static bool is_file_target(const char *log)
{
	return log != NULL && strcmp(log, "-") != 0 && strcmp(log, "off") != 0;
}

static void check_control(struct preflight *p, const struct tlsd_config *cfg)
{
	int fd;

	if (cfg->control_listen == NULL || strcmp(cfg->control_listen, "off") == 0)
		return;
	if (strncmp(cfg->control_listen, "unix:", 5) == 0)
		need_parent_folder(p, "control.listen", cfg->control_listen + 5);
	if (cfg->control_token_file == NULL)
		return;
	fd = open(cfg->control_token_file, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		problem(p, "control.tokenFile", "%s: %s", cfg->control_token_file, strerror(errno));
	else
		close(fd);
}

int preflight_paths(const struct tlsd_config *cfg, const struct privileges *priv)
{
	struct preflight p = { priv, 0 };

	if (is_file_target(cfg->access_log))
		need_appendable(&p, "accessLog", cfg->access_log);
	need_state_dir(&p, cfg->state_dir);
	check_control(&p, cfg);
	if (cfg->pid_file != NULL)
		need_parent_folder(&p, "pidFile", cfg->pid_file);
	if (priv->drop) {
		need_traversable(&p, "stateDir", cfg->state_dir);
		if (is_file_target(cfg->access_log))
			need_traversable(&p, "accessLog", cfg->access_log);
	}
	return p.problems;
}
