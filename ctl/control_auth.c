/* control_auth.c - the control token and the Host/Origin rules. */
#include "ctl/control_auth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "common/file_read.h"
#include "common/log.h"

#define TOKEN_RANDOM_BYTES 32

void control_token_path(const struct tlsd_config *cfg, char *path, size_t size)
{
	if (cfg->control_token_file != NULL)
		snprintf(path, size, "%s", cfg->control_token_file);
	else
		snprintf(path, size, "%s/control.token", cfg->state_dir);
}

void control_readonly_token_path(const struct tlsd_config *cfg, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", cfg->state_dir, CONTROL_READONLY_TOKEN_FILE);
}

/* token_fd_checked: <fd> (the token file <path>, called <name> in
 * errors) is a regular file of the user tlsd runs as that nobody else may
 * write: whoever can write it chooses the token. One that others may read
 * is made 0600, with a warning: the token may have leaked, so change it. */
static int token_fd_checked(int fd, const char *name, const char *path, struct tlsd_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s: %s", name, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s: not a regular file", name, path);
	if (st.st_uid != geteuid())
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "%s: %s: owned by uid %u, not by the user tlsd runs as (uid %u)",
				      name, path, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "%s: %s: writable by group or others (mode %04o): refused",
				      name, path, (unsigned)(st.st_mode & 07777));
	if ((st.st_mode & 077) == 0)
		return TLSD_OK;
	log_warn("%s: %s: mode %04o lets others read the token; made 0600 (consider a new token)",
		 name, path, (unsigned)(st.st_mode & 07777));
	if (fchmod(fd, 0600) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s: chmod 0600: %s", name, path,
				      strerror(errno));
	return TLSD_OK;
}

/* token_open: <path> opened for reading, never through a symbolic link
 * and never blocking (a FIFO is refused by token_fd_checked). */
static int token_open(const char *name, const char *path, int *fd, struct tlsd_error *err)
{
	*fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (*fd >= 0)
		return TLSD_OK;
	if (errno == ELOOP)
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "%s: %s: a symbolic link (refused: use the file itself)", name, path);
	return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s: %s", name, path, strerror(errno));
}

/* read_token: the first line of <path>, trimmed; empty is an error. */
static int read_token(const char *name, const char *path, char *token, struct tlsd_error *err)
{
	struct tlsd_error why = { "" };
	char *text = NULL;
	size_t len = 0;
	int fd = -1, rc;

	GUARD(token_open(name, path, &fd, err));
	rc = token_fd_checked(fd, name, path, err);
	if (rc == TLSD_OK && (rc = file_read_fd(fd, path, &text, &len, &why)) < 0)
		tlsd_error_set(err, rc, "%s: %s", name, why.msg);
	close(fd);
	if (rc < 0)
		return rc;
	snprintf(token, CONTROL_TOKEN_MAX, "%.*s", (int)strcspn(text, "\n"), text);
	file_read_free(text, len);
	len = strlen(token);
	while (len > 0 && isspace((unsigned char)token[len - 1]))
		token[--len] = '\0';
	if (len == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: %s: empty", name, path);
	return TLSD_OK;
}

static void hex_token(char *token)
{
	unsigned char raw[TOKEN_RANDOM_BYTES];

	gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(token + 2 * i, 3, "%02x", raw[i]);
	gnutls_memset(raw, 0, sizeof(raw));
}

/* create_token: a new random token at <path>, mode 0600, never replacing
 * a file that appeared meanwhile (O_EXCL). */
static int create_token(const char *path, char *token, struct tlsd_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t len;
	bool ok;

	if (fd < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: cannot create %s: %s", path, strerror(errno));
	hex_token(token);
	len = strlen(token);
	ok = write(fd, token, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
	close(fd);
	if (!ok) {
		unlink(path);
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: cannot write %s", path);
	}
	return TLSD_OK;
}

/* load_or_create: the token in <path>, or a new one made there (and the
 * state dir first) when the file is missing and <may_create>. */
static int load_or_create(const struct tlsd_config *cfg, const char *name, const char *path, bool may_create,
			  char *token, bool *created, struct tlsd_error *err)
{
	*created = false;
	if (!may_create || access(path, F_OK) == 0)
		return read_token(name, path, token, err);
	if (mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: cannot create %s: %s", cfg->state_dir,
				      strerror(errno));
	GUARD(create_token(path, token, err));
	*created = true;
	return TLSD_OK;
}

int control_token_load(const struct tlsd_config *cfg, char *token, bool *created, struct tlsd_error *err)
{
	char path[4096];

	control_token_path(cfg, path, sizeof(path));
	return load_or_create(cfg, "control.tokenFile", path, cfg->control_token_file == NULL, token, created, err);
}

int control_readonly_token_load(const struct tlsd_config *cfg, const char *admin_token, char *token,
				bool *created, struct tlsd_error *err)
{
	char path[4096];

	control_readonly_token_path(cfg, path, sizeof(path));
	GUARD(load_or_create(cfg, "control read-only token", path, true, token, created, err));
	/* The same text in both files would make every reader an admin. */
	if (strcmp(token, admin_token) == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "control read-only token: %s: the same as the admin token: refused", path);
	return TLSD_OK;
}

static void digest(const char *text, size_t len, unsigned char out[32])
{
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, text, len, out) < 0)
		memset(out, 0, 32);
}

bool control_token_matches(const char *token, const char *authorization)
{
	static const char prefix[] = "Bearer ";
	unsigned char want[32], got[32];
	unsigned diff = 0;

	if (authorization == NULL || strncasecmp(authorization, prefix, sizeof(prefix) - 1) != 0)
		return false;
	authorization += sizeof(prefix) - 1;
	digest(token, strlen(token), want);
	digest(authorization, strlen(authorization), got);
	for (size_t i = 0; i < sizeof(want); i++)
		diff |= (unsigned)(want[i] ^ got[i]);
	return diff == 0 && token[0] != '\0';
}

enum control_access control_token_access(const char *admin_token, const char *readonly_token,
					 const char *authorization)
{
	/* Both compared every time: how long it takes tells nothing. */
	bool admin = control_token_matches(admin_token, authorization);
	bool readonly = control_token_matches(readonly_token, authorization);

	if (admin)
		return CONTROL_ACCESS_ADMIN;
	return readonly ? CONTROL_ACCESS_READ : CONTROL_ACCESS_NONE;
}

/* host_only: <host> without its port (and brackets) into <out>. */
static bool host_only(const char *host, char *out, size_t size)
{
	const char *end;

	if (host[0] == '[') {
		end = strchr(host, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return false;
		host++;
	} else {
		end = strchr(host, ':');
		if (end == NULL)
			end = host + strlen(host);
	}
	if ((size_t)(end - host) >= size)
		return false;
	memcpy(out, host, (size_t)(end - host));
	out[end - host] = '\0';
	return true;
}

bool control_host_allowed(const char *host)
{
	char name[256];
	struct in_addr v4;
	struct in6_addr v6;

	if (host == NULL)
		return true;	/* HTTP/1.0 without Host: not a browser */
	if (!host_only(host, name, sizeof(name)))
		return false;
	if (strcasecmp(name, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, name, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, name, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}
