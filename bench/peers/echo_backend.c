/* echo_backend - the plain-TCP echo server that the proxies among tlsd's
 * peers (hitch, HAProxy, nginx) forward to in bench/peers/start.sh, so that
 * they play the same echo role as tlsd (which echoes in its workers).
 *
 *   echo_backend [-l HOST:PORT] [-t THREADS]
 *
 * Listens on HOST:PORT (default 127.0.0.1:0, a free port), prints
 * "listening HOST:PORT" and then "ready" on stdout, and echoes every byte it
 * reads on a connection back on it until the peer closes. THREADS (default 1)
 * threads, each with its own epoll loop and its own SO_REUSEPORT listening
 * socket on the same port, so that the kernel spreads connections over them
 * and no lock is shared. Everything is non-blocking and level-triggered; a
 * connection whose writes back up stops being read until its buffer drains,
 * so memory stays at one buffer per connection.
 *
 * It has to be fast enough never to be the bottleneck: per byte it costs a
 * read and a write, against the proxies' TLS record work on the same bytes.
 * SIGTERM/SIGINT end it (the default action; nothing needs flushing).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1	/* accept4; the automake build defines it in autoconfig.h */
#endif
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 16384
#define MAX_EVENTS 256

struct conn {
	int fd;
	size_t off, len;	/* bytes of buf still to write back */
	char buf[BUF_SIZE];
};

struct loop {
	int lfd;
	int ep;
	pthread_t tid;
};

static struct addrinfo *bind_ai;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int listen_on(const struct sockaddr *sa, socklen_t len)
{
	int one = 1;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		die("setsockopt");
	if (bind(fd, sa, len) < 0)
		die("bind");
	if (listen(fd, 4096) < 0)
		die("listen");
	return fd;
}

static void conn_close(struct loop *l, struct conn *c)
{
	epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* want: EPOLLIN while nothing is pending, EPOLLOUT while something is. */
static void conn_want(struct loop *l, struct conn *c, unsigned ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &e);
}

/* flush: write what is pending; 1 when all of it went, 0 when the socket
 * is full, -1 on error. */
static int flush(struct conn *c)
{
	while (c->len > 0) {
		ssize_t n = send(c->fd, c->buf + c->off, c->len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		c->off += (size_t)n;
		c->len -= (size_t)n;
	}
	c->off = 0;
	return 1;
}

static void on_readable(struct loop *l, struct conn *c)
{
	/* Bounded, so one busy connection cannot starve the others. */
	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, c->buf, BUF_SIZE, 0);

		if (n == 0) {
			conn_close(l, c);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(l, c);
			return;
		}
		c->off = 0;
		c->len = (size_t)n;
		switch (flush(c)) {
		case -1:
			conn_close(l, c);
			return;
		case 0:
			conn_want(l, c, EPOLLOUT);
			return;
		}
		if ((size_t)n < BUF_SIZE)
			return;
	}
}

static void on_writable(struct loop *l, struct conn *c)
{
	switch (flush(c)) {
	case -1:
		conn_close(l, c);
		break;
	case 1:
		conn_want(l, c, EPOLLIN);
		break;
	}
}

static void on_accept(struct loop *l)
{
	for (;;) {
		int one = 1;
		int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;
		struct epoll_event e;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				perror("accept4");
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->off = c->len = 0;
		e.events = EPOLLIN;
		e.data.ptr = c;
		if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			free(c);
		}
	}
}

static void *run(void *arg)
{
	struct loop *l = arg;
	struct epoll_event ev[MAX_EVENTS];

	for (;;) {
		int n = epoll_wait(l->ep, ev, MAX_EVENTS, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;

			if (!c) {
				on_accept(l);
				continue;
			}
			if (ev[i].events & EPOLLOUT)
				on_writable(l, c);
			else if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				on_readable(l, c);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *listen_arg = "127.0.0.1:0";
	int threads = 1, opt;
	char host[256], port_str[16], *colon;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct loop *loops;

	while ((opt = getopt(argc, argv, "l:t:h")) != -1) {
		switch (opt) {
		case 'l':
			listen_arg = optarg;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-l HOST:PORT] [-t THREADS]\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (threads < 1 || threads > 256) {
		fprintf(stderr, "echo_backend: -t must be 1..256\n");
		return 2;
	}
	colon = strrchr(listen_arg, ':');
	if (!colon || (size_t)(colon - listen_arg) >= sizeof(host) || strlen(colon + 1) >= sizeof(port_str)) {
		fprintf(stderr, "echo_backend: -l wants HOST:PORT\n");
		return 2;
	}
	memcpy(host, listen_arg, (size_t)(colon - listen_arg));
	host[colon - listen_arg] = '\0';
	if (host[0] == '[') {	/* [::1]:PORT */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	snprintf(port_str, sizeof(port_str), "%s", colon + 1);
	if (getaddrinfo(host[0] ? host : NULL, port_str, &hints, &bind_ai) != 0 || !bind_ai) {
		fprintf(stderr, "echo_backend: cannot resolve %s\n", listen_arg);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	loops = calloc((size_t)threads, sizeof(*loops));
	if (!loops)
		die("calloc");
	/* The first socket takes the port (a free one for port 0); the
	 * others bind that same port with SO_REUSEPORT. */
	loops[0].lfd = listen_on(bind_ai->ai_addr, bind_ai->ai_addrlen);
	if (getsockname(loops[0].lfd, (struct sockaddr *)&ss, &sl) < 0)
		die("getsockname");
	for (int i = 1; i < threads; i++)
		loops[i].lfd = listen_on((struct sockaddr *)&ss, sl);
	for (int i = 0; i < threads; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };

		loops[i].ep = epoll_create1(EPOLL_CLOEXEC);
		if (loops[i].ep < 0 || epoll_ctl(loops[i].ep, EPOLL_CTL_ADD, loops[i].lfd, &e) < 0)
			die("epoll");
	}
	{
		char h[NI_MAXHOST], p[NI_MAXSERV];

		if (getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
				NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			die("getnameinfo");
		printf(ss.ss_family == AF_INET6 ? "listening [%s]:%s\n" : "listening %s:%s\n", h, p);
	}
	for (int i = 1; i < threads; i++)
		if (pthread_create(&loops[i].tid, NULL, run, &loops[i]) != 0)
			die("pthread_create");
	printf("ready\n");
	fflush(stdout);
	run(&loops[0]);
	return 0;
}
