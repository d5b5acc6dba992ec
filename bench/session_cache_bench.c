/* session_cache_bench.c - store+fetch ops/s with 1 and 2 processes. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/session_cache.h"

#define OPS 200000
#define BLOB 400	/* about one packed GnuTLS session */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int work(struct session_cache *c, unsigned id)
{
	uint8_t key[32] = { 0 }, blob[BLOB] = { 0 }, buf[BLOB];
	size_t dlen;
	unsigned i;

	for (i = 0; i < OPS; i++) {
		memcpy(key, &id, sizeof(id));
		memcpy(key + 4, &i, sizeof(i));
		if (session_cache_store(c, key, sizeof(key), blob, sizeof(blob), 100, 0) < 0)
			return 1;
		if (session_cache_fetch(c, key, sizeof(key), 0, buf, sizeof(buf), &dlen) < 0)
			return 1;
	}
	return 0;
}

static int run(struct session_cache *c, unsigned nproc)
{
	double t0 = now_s();
	unsigned i;
	int status, bad = 0;

	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0)
			_exit(work(c, i));
	}
	for (i = 0; i < nproc; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad = 1;
	printf("%u proc: %.0f store+fetch pairs/s\n", nproc, nproc * OPS / (now_s() - t0));
	return bad;
}

int main(void)
{
	struct session_cache *c = NULL;
	int rc;

	if (session_cache_create(10000, &c) < 0)
		return 1;
	rc = run(c, 1) | run(c, 2) | (session_cache_validate(c) < 0);
	session_cache_destroy(c);
	return rc;
}
