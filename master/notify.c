/* notify.c - sd_notify's datagram, sent by hand. */
#include "master/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

#define NOTIFY_ENV "NOTIFY_SOCKET"

bool notify_enabled(void)
{
	const char *path = getenv(NOTIFY_ENV);

	return path != NULL && path[0] != '\0';
}

/* notify_address: $NOTIFY_SOCKET as a socket address; its length, or 0
 * when the variable names no unix socket. */
static socklen_t notify_address(struct sockaddr_un *sa)
{
	const char *path = getenv(NOTIFY_ENV);
	size_t len = path != NULL ? strlen(path) : 0;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (len < 2 || len >= sizeof(sa->sun_path) || (path[0] != '/' && path[0] != '@'))
		return 0;
	memcpy(sa->sun_path, path, len);
	if (path[0] == '@')
		sa->sun_path[0] = '\0';	/* abstract: the name is the bytes after the NUL, no terminator */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

static void send_text(const char *text)
{
	struct sockaddr_un sa;
	socklen_t sa_len = notify_address(&sa);
	int fd;

	if (sa_len == 0) {
		log_debug("%s: not a unix socket path: nothing sent", NOTIFY_ENV);
		return;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa, sa_len) < 0)
		log_debug("%s: %s", NOTIFY_ENV, strerror(errno));
	if (fd >= 0)
		close(fd);
}

void notify_send(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (!notify_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	send_text(text);
}
