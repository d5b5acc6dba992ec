/* tls_load - the TLS load client of bench/compare.sh for what `openssl
 * s_time` cannot do: TLS 1.3 resumption, bulk echo throughput, echo
 * latency and idle connections. OpenSSL's libssl, one thread; compare.sh
 * compiles it (cc -O2 tls_load.c -lssl -lcrypto).
 *
 *   tls_load MODE -p PORT [options]
 *
 *   handshake  one connection after another for -t seconds: connect,
 *              handshake, close_notify, then read until the server closes
 *              (so every ticket it sent is read and no reset cuts its
 *              handshake short). -r offers the last session received (the
 *              first, untimed, connection makes it); -T turns tickets off
 *              (TLS 1.2 session IDs); -q closes the socket right after the
 *              handshake instead, as s_time does (unread tickets then make
 *              the kernel send a reset, which can reach the server before
 *              it has read the client's Finished). Prints connections,
 *              resumed, errors.
 *   bulk       -c connections, each writing -s byte blocks and reading them
 *              back, up to -w blocks in flight, for -t seconds. Prints the
 *              bytes echoed back in that time.
 *   latency    -c connections sending -s byte messages at -R messages per
 *              second in all (each connection one at a time, on a fixed
 *              schedule), for -t seconds. A message's latency runs from
 *              its send to the last byte of its echo; a message that went
 *              out late because the previous reply came after it was due
 *              counts from when it was due (the server's delay, not hidden
 *              by sending less). Prints p50, p99 and max in microseconds.
 *   connect    what a user who opens connections one at a time feels: -c
 *              clients (separate processes, 1 by default for this mode),
 *              each doing, one connection after another for -t seconds:
 *              connect, handshake, an -s byte echo, then close_notify and
 *              read until the server closes (untimed). A connection's
 *              latency runs from connect() to the last byte of its echo.
 *              -r offers the last session the client received (each
 *              client's first, untimed, connection makes one), -T turns
 *              tickets off; -n N stops each client after N connections.
 *              Prints connections, rate (per second over all
 *              clients), resumed, p50, p90, p99 and max in microseconds.
 *   idle       opens -n connections, echoes -s bytes on each, prints
 *              "held N" and keeps them open until its stdin ends (or -t
 *              seconds pass), then prints how many the server closed.
 *
 *   -h HOST (127.0.0.1)  -p PORT  -t SECONDS (5; idle: 600)
 *   -V 1.2|1.3 (1.3)     -r  -T  -q  -c CONNS (4)  -s BYTES (bulk 16384, else 64)
 *   -w BLOCKS (4)        -R RATE (2000)        -n CONNS (1000)
 *   -S SUITES            TLS 1.3 suites to offer (e.g. TLS_AES_128_GCM_SHA256)
 *
 * The last line on stdout is the result, KEY=VALUE pairs, always with
 * cpu_s (this process's user+system CPU seconds while timed; idle: all of
 * it) and seconds (the timed wall time). Errors go to stderr with a
 * "tls_load:" prefix; exit status 1 when nothing could be measured.
 * The certificate is not verified (the benchmark's are self-signed).
 */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define IO_TIMEOUT_S 5		/* blocking socket reads and writes */
#define CLOSE_WAIT_MS 1000	/* at most this long for the server's close */
#define MAX_FAILS 50		/* handshake errors in a row before giving up */

struct opts {
	const char *mode, *host, *suites;
	int port, version, resume, tickets, conns, window, count, count_set;
	double seconds, rate;
	size_t size;
};

struct conn {
	SSL *ssl;
	int fd, want_write, open;
	long long sent, got;		/* bytes written and read back */
	double due, sent_at;		/* latency: next send due, start of the out one */
	int waiting, late;		/* latency: a message is out; the last reply
					 * came after the next send was due */
	size_t part;			/* latency: bytes of the reply read so far */
};

static SSL_SESSION *last_session;	/* the newest session the server gave */
static int quick_close;			/* -q */
static int warned_close;		/* connections seen ending early */
static long long sessions_received;

static void vwarn(const char *fmt, va_list ap)
{
	fputs("tls_load: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(1);
}

static void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ssl_error: the reason of the first queued OpenSSL error, or errno's. */
static const char *ssl_error(int ret_errno)
{
	unsigned long e = ERR_get_error();
	const char *r;

	ERR_clear_error();
	if (e && (r = ERR_reason_error_string(e)) != NULL)
		return r;
	if (ret_errno)
		return strerror(ret_errno);
	return "connection closed by the server";
}

static void usage(void)
{
	fputs("usage: tls_load handshake|bulk|latency|idle|connect -p PORT [-h HOST] [-t SECONDS]\n"
	      "       [-V 1.2|1.3] [-r] [-T] [-q] [-c CONNS] [-s BYTES] [-w BLOCKS] [-R RATE]\n"
	      "       [-n CONNS] [-S SUITES]   (details at the top of bench/tls_load.c)\n", stderr);
	exit(2);
}

static double num_arg(const char *s, double min, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !(v >= min))
		die("%s must be a number >= %g, not '%s'", what, min, s);
	return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	*o = (struct opts){ .host = "127.0.0.1", .version = 13, .tickets = 1,
			    .conns = 0, .window = 4, .count = 1000, .rate = 2000 };
	if (argc < 2 || argv[1][0] == '-')
		usage();
	o->mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "h:p:t:V:rTqc:s:w:R:n:S:")) != -1) {
		switch (c) {
		case 'h': o->host = optarg; break;
		case 'p': o->port = (int)num_arg(optarg, 1, "-p PORT"); break;
		case 't': o->seconds = num_arg(optarg, 0, "-t SECONDS"); break;
		case 'V':
			if (strcmp(optarg, "1.2") && strcmp(optarg, "1.3"))
				die("-V must be 1.2 or 1.3, not '%s'", optarg);
			o->version = optarg[2] == '2' ? 12 : 13;
			break;
		case 'r': o->resume = 1; break;
		case 'T': o->tickets = 0; break;
		case 'q': quick_close = 1; break;
		case 'c': o->conns = (int)num_arg(optarg, 1, "-c CONNS"); break;
		case 's': o->size = (size_t)num_arg(optarg, 1, "-s BYTES"); break;
		case 'w': o->window = (int)num_arg(optarg, 1, "-w BLOCKS"); break;
		case 'R': o->rate = num_arg(optarg, 1, "-R RATE"); break;
		case 'n': o->count = (int)num_arg(optarg, 1, "-n CONNS"); o->count_set = 1; break;
		case 'S': o->suites = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || o->port == 0)
		usage();
	if (o->seconds == 0)
		o->seconds = strcmp(o->mode, "idle") ? 5 : 600;
	if (o->size == 0)
		o->size = strcmp(o->mode, "bulk") ? 64 : 16384;
	if (o->conns == 0)
		o->conns = strcmp(o->mode, "connect") ? 4 : 1;
}

/* keep_session: OpenSSL's new-session callback; keeps the newest one. */
static int keep_session(SSL *ssl, SSL_SESSION *sess)
{
	(void)ssl;
	if (last_session)
		SSL_SESSION_free(last_session);
	last_session = sess;
	sessions_received++;
	return 1;	/* the reference is ours now */
}

static SSL_CTX *make_ctx(const struct opts *o)
{
	int v = o->version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		die("SSL_CTX_new: %s", ssl_error(0));
	SSL_CTX_set_min_proto_version(ctx, v);
	SSL_CTX_set_max_proto_version(ctx, v);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (!o->tickets)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (o->suites && !SSL_CTX_set_ciphersuites(ctx, o->suites))
		die("-S %s: no usable TLS 1.3 suite", o->suites);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, keep_session);
	return ctx;
}

static int tcp_connect(const struct opts *o)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)o->port) };
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int one = 1, fd;

	if (inet_pton(AF_INET, o->host, &sa.sin_addr) != 1)
		die("-h %s: not an IPv4 address", o->host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* offer: have SSL offer a copy of SESS. OpenSSL uses a TLS 1.3 session
 * once (RFC 8446 C.4) and marks the object it resumed not resumable; a
 * server that sends no new ticket on a resumed connection (Node's, when it
 * has written nothing) would then get a full handshake every other time.
 * The copy keeps SESS offerable, as a client that stored the ticket would. */
static int offer(SSL *ssl, SSL_SESSION *sess)
{
	SSL_SESSION *copy = SSL_SESSION_dup(sess);
	int ok = copy != NULL && SSL_set_session(ssl, copy);

	SSL_SESSION_free(copy);
	return ok;
}

/* tls_open: a connected, handshaken SSL on a blocking socket, offering
 * SESS if not NULL; NULL (with the reason in *why) if that failed. */
static SSL *tls_open(SSL_CTX *ctx, const struct opts *o, SSL_SESSION *sess, const char **why)
{
	int fd = tcp_connect(o);
	SSL *ssl;

	if (fd < 0) {
		*why = strerror(errno);
		return NULL;
	}
	ssl = SSL_new(ctx);
	if (ssl == NULL || !SSL_set_fd(ssl, fd)) {
		*why = ssl_error(0);
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	SSL_set_tlsext_host_name(ssl, "localhost");
	if (sess && !offer(ssl, sess)) {
		*why = ssl_error(0);
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	errno = 0;
	if (SSL_connect(ssl) != 1) {
		*why = ssl_error(errno);
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	return ssl;
}

/* tls_close: close_notify, then read (tickets included) until the server
 * closes, CLOSE_WAIT_MS at most; with -q just close the socket, as
 * s_time does. Frees SSL and socket. */
static void tls_close(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);
	struct timeval tv = { .tv_usec = CLOSE_WAIT_MS * 1000 };
	char buf[4096];

	if (quick_close) {
		SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(ssl);
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (SSL_shutdown(ssl) >= 0) {
		while (SSL_read(ssl, buf, sizeof buf) > 0)
			;
	}
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
}

/* echo_blocking: write SIZE bytes and read them back; 0 if it worked. */
static int echo_blocking(SSL *ssl, size_t size, const char **why)
{
	char buf[4096];
	size_t got = 0, n = size < sizeof buf ? size : sizeof buf;
	int r;

	memset(buf, 'x', n);
	errno = 0;
	if (SSL_write(ssl, buf, (int)n) != (int)n) {
		*why = ssl_error(errno);
		return -1;
	}
	while (got < n) {
		errno = 0;
		r = SSL_read(ssl, buf, sizeof buf);
		if (r <= 0) {
			*why = ssl_error(errno);
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static void print_result(const char *mode, double seconds, double cpu, const char *fmt, ...)
{
	va_list ap;

	printf("mode=%s ", mode);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" seconds=%.3f cpu_s=%.3f\n", seconds, cpu);
	fflush(stdout);
}

/* ---- handshake ---- */

/* first_session: one untimed connection, so that a session to offer is
 * kept (keep_session); dies when it fails. */
static void first_session(SSL_CTX *ctx, const struct opts *o)
{
	const char *why = NULL;
	SSL *ssl = tls_open(ctx, o, NULL, &why);

	if (ssl == NULL)
		die("first handshake with %s:%d failed: %s", o->host, o->port, why);
	tls_close(ssl);
}

static int run_handshake(SSL_CTX *ctx, const struct opts *o)
{
	long long n = 0, resumed = 0, errors = 0;
	int fails = 0;
	double t0, c0, end;
	const char *why = NULL;
	SSL *ssl;

	if (o->resume) {
		first_session(ctx, o);
		if (last_session == NULL)
			warn("the server gave no session to resume: every connection will be a full handshake");
	}
	t0 = now_s();
	c0 = cpu_s();
	end = t0 + o->seconds;
	while (now_s() < end) {
		ssl = tls_open(ctx, o, o->resume ? last_session : NULL, &why);
		if (ssl == NULL) {
			if (errors++ == 0)
				warn("handshake with %s:%d failed: %s", o->host, o->port, why);
			if (++fails >= MAX_FAILS)
				die("%d handshakes in a row failed (last: %s)", fails, why);
			continue;
		}
		fails = 0;
		n++;
		resumed += SSL_session_reused(ssl);
		tls_close(ssl);
	}
	print_result("handshake", now_s() - t0, cpu_s() - c0,
		     "connections=%lld resumed=%lld errors=%lld sessions_received=%lld",
		     n, resumed, errors, sessions_received);
	return n > 0 ? 0 : 1;
}

/* ---- bulk and latency: non-blocking connections in one poll loop ---- */

static void open_conns(SSL_CTX *ctx, const struct opts *o, struct conn *cs, int n)
{
	const char *why = NULL;
	int i;

	for (i = 0; i < n; i++) {
		cs[i] = (struct conn){ .ssl = tls_open(ctx, o, NULL, &why), .open = 1 };
		if (cs[i].ssl == NULL)
			die("connection %d of %d to %s:%d failed: %s", i + 1, n, o->host, o->port, why);
		cs[i].fd = SSL_get_fd(cs[i].ssl);
		fcntl(cs[i].fd, F_SETFL, fcntl(cs[i].fd, F_GETFL) | O_NONBLOCK);
	}
}

/* io_result: what a non-blocking SSL_read/SSL_write's R <= 0 means: 0 try
 * again later (want_write set if it waits for POLLOUT), -1 closed/failed. */
static int io_result(struct conn *c, int r)
{
	int e = SSL_get_error(c->ssl, r);

	if (e == SSL_ERROR_WANT_READ)
		return 0;
	if (e == SSL_ERROR_WANT_WRITE) {
		c->want_write = 1;
		return 0;
	}
	if (c->open && warned_close++ == 0)	/* the count is in the result */
		warn("a connection ended early (the first such; more are not shown): %s",
		     e == SSL_ERROR_ZERO_RETURN ? "close_notify from the server" : ssl_error(errno));
	c->open = 0;
	ERR_clear_error();
	return -1;
}

/* read_some: read what is there; returns the bytes read, -1 if closed. */
static long long read_some(struct conn *c, char *buf, size_t len)
{
	long long got = 0;
	int r;

	for (;;) {
		errno = 0;
		r = SSL_read(c->ssl, buf, (int)len);
		if (r > 0) {
			got += r;
			continue;
		}
		return io_result(c, r) < 0 ? -1 : got;
	}
}

/* poll_conns: wait up to WAIT seconds for any connection to be ready
 * (ppoll: the latency schedule needs better than milliseconds). */
static void poll_conns(struct conn *cs, int n, struct pollfd *pf, double wait)
{
	struct timespec ts = { .tv_sec = (time_t)wait, .tv_nsec = (long)((wait - (time_t)wait) * 1e9) };
	int i;

	for (i = 0; i < n; i++) {
		pf[i].fd = cs[i].open ? cs[i].fd : -1;
		pf[i].events = POLLIN | (cs[i].want_write ? POLLOUT : 0);
		cs[i].want_write = 0;
	}
	if (ppoll(pf, (nfds_t)n, &ts, NULL) < 0 && errno != EINTR)
		die("poll: %s", strerror(errno));
}

static int open_count(const struct conn *cs, int n)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += cs[i].open;
	return k;
}

static void bulk_step(struct conn *c, const char *block, size_t size, long long window,
		      char *buf, size_t len)
{
	long long got = read_some(c, buf, len);
	int r;

	if (got < 0)
		return;
	c->got += got;
	while (c->sent - c->got < window) {
		errno = 0;
		r = SSL_write(c->ssl, block, (int)size);
		if (r <= 0) {
			io_result(c, r);
			return;
		}
		c->sent += r;
	}
}

static int run_bulk(SSL_CTX *ctx, const struct opts *o)
{
	struct conn *cs = calloc((size_t)o->conns, sizeof *cs);
	struct pollfd *pf = calloc((size_t)o->conns, sizeof *pf);
	char *block = malloc(o->size), buf[65536];
	long long bytes = 0;
	double t0, c0, end;
	int i;

	if (cs == NULL || pf == NULL || block == NULL)
		die("out of memory");
	memset(block, 'b', o->size);
	open_conns(ctx, o, cs, o->conns);
	t0 = now_s();
	c0 = cpu_s();
	end = t0 + o->seconds;
	while (now_s() < end && open_count(cs, o->conns) > 0) {
		for (i = 0; i < o->conns; i++)
			if (cs[i].open)
				bulk_step(&cs[i], block, o->size, (long long)o->size * o->window, buf, sizeof buf);
		poll_conns(cs, o->conns, pf, 0.01);
	}
	for (i = 0; i < o->conns; i++)
		bytes += cs[i].got;
	print_result("bulk", now_s() - t0, cpu_s() - c0,
		     "connections=%d closed_early=%d bytes=%lld cipher=%s", o->conns,
		     o->conns - open_count(cs, o->conns), bytes, SSL_get_cipher_name(cs[0].ssl));
	return bytes > 0 ? 0 : 1;
}

struct lat {
	double *v;
	long long n, cap;
};

static void lat_add(struct lat *l, double s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->v = realloc(l->v, (size_t)l->cap * sizeof *l->v);
		if (l->v == NULL)
			die("out of memory");
	}
	l->v[l->n++] = s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* pct: nearest-rank percentile P of the sorted latencies, in microseconds. */
static double pct(const struct lat *l, double p)
{
	long long k = (long long)(p / 100 * (double)l->n + 0.999999);

	if (l->n == 0)
		return 0;
	if (k < 1)
		k = 1;
	return l->v[k - 1] * 1e6;
}

/* lat_report: the connect mode's result line. */
static void lat_report(const char *mode, struct lat *l, double seconds, double cpu, long long resumed,
		       long long errors)
{
	qsort(l->v, (size_t)l->n, sizeof *l->v, cmp_double);
	print_result(mode, seconds, cpu,
		     "connections=%lld rate=%.1f resumed=%lld clients_failed=%lld p50_us=%.0f p90_us=%.0f "
		     "p99_us=%.0f max_us=%.0f",
		     l->n, (double)l->n / seconds, resumed, errors, pct(l, 50), pct(l, 90), pct(l, 99),
		     pct(l, 100));
}

/* lat_step: read the reply (recording its latency), then send the next
 * message if it is due and time is not up. */
static void lat_step(struct conn *c, const struct opts *o, const char *msg, double end,
		     struct lat *l, char *buf)
{
	long long got = read_some(c, buf, o->size);
	double t = now_s();
	int r;

	if (got < 0)
		return;
	c->part += (size_t)got;
	if (c->waiting && c->part >= o->size) {
		lat_add(l, t - c->sent_at);
		c->part -= o->size;
		c->waiting = 0;
		c->late = t > c->due;
	}
	if (c->waiting || t < c->due || c->due >= end)
		return;
	errno = 0;
	r = SSL_write(c->ssl, msg, (int)o->size);
	if (r <= 0) {
		io_result(c, r);	/* retried with the same message */
		return;
	}
	c->waiting = 1;
	c->sent_at = c->late ? c->due : t;
	c->due += o->conns / o->rate;
}

/* lat_wait: seconds until the next send is due (10 ms at most). */
static double lat_wait(const struct conn *cs, int n, double end)
{
	double next = end, t = now_s();
	int i;

	for (i = 0; i < n; i++)
		if (cs[i].open && !cs[i].waiting && cs[i].due < next)
			next = cs[i].due;
	if (next <= t)
		return 0;
	return next - t > 0.01 ? 0.01 : next - t;
}

static int run_latency(SSL_CTX *ctx, const struct opts *o)
{
	struct conn *cs = calloc((size_t)o->conns, sizeof *cs);
	struct pollfd *pf = calloc((size_t)o->conns, sizeof *pf);
	char *msg = malloc(o->size), *buf = malloc(o->size);
	struct lat l = { 0 };
	double t0, c0, end;
	int i, pending = 0;

	if (cs == NULL || pf == NULL || msg == NULL || buf == NULL)
		die("out of memory");
	memset(msg, 'l', o->size);
	open_conns(ctx, o, cs, o->conns);
	t0 = now_s();
	c0 = cpu_s();
	end = t0 + o->seconds;
	for (i = 0; i < o->conns; i++)
		cs[i].due = t0 + i / o->rate;
	while (now_s() < end && open_count(cs, o->conns) > 0) {
		for (i = 0; i < o->conns; i++)
			if (cs[i].open)
				lat_step(&cs[i], o, msg, end, &l, buf);
		poll_conns(cs, o->conns, pf, lat_wait(cs, o->conns, end));
	}
	for (i = 0; i < o->conns; i++)
		pending += cs[i].waiting;
	qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_double);
	print_result("latency", now_s() - t0, cpu_s() - c0,
		     "connections=%d closed_early=%d msgs=%lld rate=%.0f pending=%d p50_us=%.0f p99_us=%.0f max_us=%.0f cipher=%s",
		     o->conns, o->conns - open_count(cs, o->conns), l.n, o->rate, pending,
		     pct(&l, 50), pct(&l, 99), pct(&l, 100), SSL_get_cipher_name(cs[0].ssl));
	return l.n > 0 ? 0 : 1;
}

/* ---- idle ---- */

/* idle_open: opens up to N connections with one echo each; returns how many. */
static int idle_open(SSL_CTX *ctx, const struct opts *o, struct conn *cs, int n)
{
	const char *why = NULL;
	int i;

	for (i = 0; i < n; i++) {
		SSL *ssl = tls_open(ctx, o, NULL, &why);

		if (ssl == NULL || echo_blocking(ssl, o->size, &why) < 0) {
			warn("connection %d of %d failed: %s; holding the %d opened", i + 1, n, why, i);
			if (ssl) {
				close(SSL_get_fd(ssl));
				SSL_free(ssl);
			}
			break;
		}
		cs[i] = (struct conn){ .ssl = ssl, .fd = SSL_get_fd(ssl), .open = 1 };
		fcntl(cs[i].fd, F_SETFL, fcntl(cs[i].fd, F_GETFL) | O_NONBLOCK);
	}
	return i;
}

/* idle_hold: until stdin ends or the time is up, notice connections that
 * the server closes. pf[0] is stdin, pf[1 + i] connection i. */
static void idle_hold(struct conn *cs, int n, struct pollfd *pf, double end)
{
	char buf[4096];
	int i;

	pf[0] = (struct pollfd){ .fd = 0, .events = POLLIN };
	while (now_s() < end) {
		for (i = 0; i < n; i++)
			pf[1 + i] = (struct pollfd){ .fd = cs[i].open ? cs[i].fd : -1, .events = POLLIN };
		if (poll(pf, (nfds_t)n + 1, 100) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (pf[0].revents && read(0, buf, sizeof buf) <= 0)
			return;
		for (i = 0; i < n; i++)
			if (pf[1 + i].revents)
				read_some(&cs[i], buf, sizeof buf);
	}
}

static int run_idle(SSL_CTX *ctx, const struct opts *o)
{
	struct conn *cs = calloc((size_t)o->count, sizeof *cs);
	struct pollfd *pf = calloc((size_t)o->count + 1, sizeof *pf);
	double t0;
	int n;

	if (cs == NULL || pf == NULL)
		die("out of memory");
	n = idle_open(ctx, o, cs, o->count);
	printf("held %d\n", n);
	fflush(stdout);
	t0 = now_s();
	idle_hold(cs, n, pf, t0 + o->seconds);
	print_result("idle", now_s() - t0, cpu_s(), "wanted=%d opened=%d closed_early=%d",
		     o->count, n, n - open_count(cs, n));
	return n > 0 ? 0 : 1;
}

/* ---- connect: one connection at a time per client ---- */

/* connect_client: one client's loop; writes each connection's latency
 * (a double, seconds; negative: resumed) to <out>. */
static int connect_client(SSL_CTX *ctx, const struct opts *o, int out)
{
	double end, t;
	const char *why = NULL;
	int fails = 0, done = 0;
	SSL *ssl;

	if (o->resume)
		first_session(ctx, o);
	end = now_s() + o->seconds;
	while ((t = now_s()) < end && !(o->count_set && done >= o->count)) {
		ssl = tls_open(ctx, o, o->resume ? last_session : NULL, &why);
		if (ssl == NULL || echo_blocking(ssl, o->size, &why) < 0) {
			warn("connection to %s:%d failed: %s", o->host, o->port, why);
			if (ssl)
				tls_close(ssl);
			if (++fails >= MAX_FAILS)
				return 1;
			continue;
		}
		t = now_s() - t;
		if (SSL_session_reused(ssl))
			t = -t;
		if (write(out, &t, sizeof t) != (ssize_t)sizeof t)
			die("connect: pipe: %s", strerror(errno));
		done++;
		tls_close(ssl);
	}
	return 0;
}

static int run_connect(SSL_CTX *ctx, const struct opts *o, struct lat *l)
{
	int p[2], status, bad = 0, clients = o->conns;
	long long resumed = 0;
	double t0, v;
	struct rusage ru;

	if (pipe(p) < 0)
		die("pipe: %s", strerror(errno));
	t0 = now_s();
	for (int i = 0; i < clients; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			close(p[0]);
			_exit(connect_client(ctx, o, p[1]));
		}
	}
	close(p[1]);
	while (read(p[0], &v, sizeof v) == (ssize_t)sizeof v) {
		resumed += v < 0;
		lat_add(l, v < 0 ? -v : v);
	}
	for (int i = 0; i < clients; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	getrusage(RUSAGE_CHILDREN, &ru);
	lat_report("connect", l, now_s() - t0,
		   ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
		   resumed, bad);
	return l->n > 0 && bad == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct opts o;
	SSL_CTX *ctx;

	signal(SIGPIPE, SIG_IGN);
	parse_args(argc, argv, &o);
	ctx = make_ctx(&o);
	if (strcmp(o.mode, "handshake") == 0)
		return run_handshake(ctx, &o);
	if (strcmp(o.mode, "bulk") == 0)
		return run_bulk(ctx, &o);
	if (strcmp(o.mode, "latency") == 0)
		return run_latency(ctx, &o);
	if (strcmp(o.mode, "idle") == 0)
		return run_idle(ctx, &o);
	if (strcmp(o.mode, "connect") == 0) {
		struct lat l = { 0 };

		return run_connect(ctx, &o, &l);
	}
	warn("unknown mode '%s'", o.mode);
	usage();
	return 2;
}
