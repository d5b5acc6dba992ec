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

#define TOKEN_RANDOM_BYTES 32

void control_token_path(const struct tlsd_config *cfg, char *path, size_t size)
{
	if (cfg->control_token_file != NULL)
		snprintf(path, size, "%s", cfg->control_token_file);
	else
		snprintf(path, size, "%s/control.token", cfg->state_dir);
}

/* read_token: the first line of <path>, trimmed; empty is an error. */
static int read_token(const char *path, char *token, struct tlsd_error *err)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (f == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "control.tokenFile: %s: %s", path, strerror(errno));
	if (fgets(token, CONTROL_TOKEN_MAX, f) == NULL)
		token[0] = '\0';
	fclose(f);
	len = strlen(token);
	while (len > 0 && isspace((unsigned char)token[len - 1]))
		token[--len] = '\0';
	if (len == 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "control.tokenFile: %s: empty", path);
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

int control_token_load(const struct tlsd_config *cfg, char *token, bool *created, struct tlsd_error *err)
{
	char path[4096];

	*created = false;
	control_token_path(cfg, path, sizeof(path));
	if (cfg->control_token_file != NULL || access(path, F_OK) == 0)
		return read_token(path, token, err);
	if (mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "stateDir: cannot create %s: %s", cfg->state_dir,
				      strerror(errno));
	GUARD(create_token(path, token, err));
	*created = true;
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
