/* test_session_cache.c - the shared-memory session-ID cache. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/session_cache.h"
#include "fake_owner_death.h"

#define NOW 1000
#define LATER 2000
#define NPROC 4
#define NOPS 2000

static void key_of(uint8_t key[SESSION_CACHE_KEY_MAX], unsigned n)
{
	memset(key, 0xa5, SESSION_CACHE_KEY_MAX);
	memcpy(key, &n, sizeof(n));
}

static void store_n(struct session_cache *c, unsigned n)
{
	uint8_t key[SESSION_CACHE_KEY_MAX];
	char data[32];

	key_of(key, n);
	snprintf(data, sizeof(data), "session-%u", n);
	assert_int_equal(session_cache_store(c, key, sizeof(key), data,
					     strlen(data) + 1, LATER, NOW), 0);
	assert_int_equal(session_cache_validate(c), 0);
}

static int fetch_n(struct session_cache *c, unsigned n, int64_t now)
{
	uint8_t key[SESSION_CACHE_KEY_MAX];
	char buf[64], want[32];
	size_t dlen = 0;
	int rc;

	key_of(key, n);
	rc = session_cache_fetch(c, key, sizeof(key), now, buf, sizeof(buf), &dlen);
	assert_int_equal(session_cache_validate(c), 0);
	if (rc == 0) {
		snprintf(want, sizeof(want), "session-%u", n);
		assert_int_equal(dlen, strlen(want) + 1);
		assert_string_equal(buf, want);
	}
	return rc;
}

static int setup(void **state)
{
	struct session_cache *c = NULL;

	if (session_cache_create(3, &c) < 0)
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	session_cache_destroy(*state);
	return 0;
}

static void test_roundtrip_and_miss(void **state)
{
	struct session_cache *c = *state;
	struct session_cache_stats st;

	assert_int_equal(session_cache_validate(c), 0);
	store_n(c, 1);
	assert_int_equal(fetch_n(c, 1, NOW), 0);
	assert_int_equal(fetch_n(c, 2, NOW), SESSION_CACHE_MISS);
	session_cache_stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.stores, 1);
}

/* contains: a look that counts nothing and moves nothing in the LRU. */
static void test_contains_changes_nothing(void **state)
{
	struct session_cache *c = *state;
	uint8_t key[SESSION_CACHE_KEY_MAX];
	struct session_cache_stats st;

	store_n(c, 1);
	store_n(c, 2);
	store_n(c, 3);
	key_of(key, 1);
	assert_true(session_cache_contains(c, key, sizeof(key), NOW));
	assert_false(session_cache_contains(c, key, sizeof(key), LATER));	/* expired then */
	key_of(key, 9);
	assert_false(session_cache_contains(c, key, sizeof(key), NOW));
	assert_false(session_cache_contains(c, key, 0, NOW));
	session_cache_stats(c, &st);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 0);
	assert_int_equal(st.entries, 3);	/* not freed by the look at LATER */
	/* 1 stays the least recently used: the next store evicts it. */
	store_n(c, 4);
	assert_int_equal(fetch_n(c, 1, NOW), SESSION_CACHE_MISS);
	assert_int_equal(session_cache_validate(c), 0);
}

static void test_overwrite(void **state)
{
	struct session_cache *c = *state;
	uint8_t key[SESSION_CACHE_KEY_MAX];
	struct session_cache_stats st;
	char buf[16];
	size_t dlen;

	key_of(key, 7);
	assert_int_equal(session_cache_store(c, key, sizeof(key), "old", 4, LATER, NOW), 0);
	assert_int_equal(session_cache_store(c, key, sizeof(key), "newer", 6, LATER, NOW), 0);
	assert_int_equal(session_cache_validate(c), 0);
	assert_int_equal(session_cache_fetch(c, key, sizeof(key), NOW, buf, sizeof(buf), &dlen), 0);
	assert_int_equal(dlen, 6);
	assert_string_equal(buf, "newer");
	session_cache_stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.evictions, 0);
}

static void test_remove(void **state)
{
	struct session_cache *c = *state;
	uint8_t key[SESSION_CACHE_KEY_MAX];

	store_n(c, 1);
	store_n(c, 2);
	key_of(key, 1);
	assert_int_equal(session_cache_remove(c, key, sizeof(key)), 0);
	assert_int_equal(session_cache_validate(c), 0);
	assert_int_equal(session_cache_remove(c, key, sizeof(key)), 0);
	assert_int_equal(fetch_n(c, 1, NOW), SESSION_CACHE_MISS);
	assert_int_equal(fetch_n(c, 2, NOW), 0);
}

static void test_expiry(void **state)
{
	struct session_cache *c = *state;
	struct session_cache_stats st;

	store_n(c, 1);
	assert_int_equal(fetch_n(c, 1, LATER - 1), 0);
	assert_int_equal(fetch_n(c, 1, LATER), SESSION_CACHE_MISS);
	session_cache_stats(c, &st);
	assert_int_equal(st.entries, 0);	/* the expired entry was freed */
}

static void test_lru_eviction(void **state)
{
	struct session_cache *c = *state;
	struct session_cache_stats st;

	store_n(c, 1);
	store_n(c, 2);
	store_n(c, 3);
	assert_int_equal(fetch_n(c, 1, NOW), 0);	/* 2 is now the oldest */
	store_n(c, 4);
	assert_int_equal(fetch_n(c, 2, NOW), SESSION_CACHE_MISS);
	assert_int_equal(fetch_n(c, 1, NOW), 0);
	assert_int_equal(fetch_n(c, 3, NOW), 0);
	assert_int_equal(fetch_n(c, 4, NOW), 0);
	store_n(c, 5);					/* 1 is now the oldest */
	assert_int_equal(fetch_n(c, 1, NOW), SESSION_CACHE_MISS);
	session_cache_stats(c, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.evictions, 2);
}

static void test_bounds_refused(void **state)
{
	struct session_cache *c = *state;
	static uint8_t big[SESSION_CACHE_DATA_MAX + 1];
	uint8_t key[SESSION_CACHE_KEY_MAX + 1] = { 0 };
	size_t dlen;

	assert_int_equal(session_cache_store(c, key, sizeof(key), "x", 1, LATER, NOW),
			 TLSD_ERR_CONFIG);
	assert_int_equal(session_cache_store(c, key, 0, "x", 1, LATER, NOW), TLSD_ERR_CONFIG);
	assert_int_equal(session_cache_store(c, key, 32, big, sizeof(big), LATER, NOW),
			 TLSD_ERR_CONFIG);
	assert_int_equal(session_cache_store(c, key, 32, "x", 0, LATER, NOW), TLSD_ERR_CONFIG);
	assert_int_equal(session_cache_store(c, key, 32, "x", 1, NOW, NOW), TLSD_ERR_CONFIG);
	assert_int_equal(session_cache_store(c, key, 32, big, SESSION_CACHE_DATA_MAX, LATER, NOW), 0);
	assert_int_equal(session_cache_fetch(c, key, sizeof(key), NOW, big, sizeof(big), &dlen),
			 TLSD_ERR_CONFIG);
	assert_int_equal(session_cache_fetch(c, key, 32, NOW, big, sizeof(big), &dlen), 0);
	assert_int_equal(dlen, SESSION_CACHE_DATA_MAX);
	assert_int_equal(session_cache_validate(c), 0);
}

static void test_buffer_too_small(void **state)
{
	struct session_cache *c = *state;
	uint8_t key[SESSION_CACHE_KEY_MAX];
	char buf[4] = "zzz";
	size_t dlen = 0;

	store_n(c, 9);
	key_of(key, 9);
	assert_int_equal(session_cache_fetch(c, key, sizeof(key), NOW, buf, sizeof(buf), &dlen),
			 TLSD_ERR_CONFIG);
	assert_int_equal(dlen, strlen("session-9") + 1);
	assert_string_equal(buf, "zzz");		/* untouched */
	assert_int_equal(fetch_n(c, 9, NOW), 0);	/* and still there */
}

static void test_capacity_zero(void **state)
{
	struct session_cache *c = NULL;
	uint8_t key[8] = { 1 };
	struct session_cache_stats st;
	char buf[8];
	size_t dlen;

	assert_int_equal(session_cache_create(0, &c), 0);
	assert_int_equal(session_cache_store(c, key, sizeof(key), "x", 1, LATER, NOW), 0);
	assert_int_equal(session_cache_fetch(c, key, sizeof(key), NOW, buf, sizeof(buf), &dlen),
			 SESSION_CACHE_MISS);
	assert_int_equal(session_cache_remove(c, key, sizeof(key)), 0);
	assert_int_equal(session_cache_validate(c), 0);
	session_cache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	session_cache_destroy(c);
}

/* rss_kib: this process's resident set (VmRSS), KiB. */
static long rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* The default size (20480 entries of over 4 KiB, 80 MiB of mapping) takes
 * memory as it fills, not at creation; and once full it still evicts. */
static void test_memory_taken_as_it_fills(void **state)
{
	struct session_cache *c = NULL;
	uint8_t key[SESSION_CACHE_KEY_MAX];
	long before = rss_kib(), created, filled;
	static char big[2048];

	(void)state;
	assert_int_equal(session_cache_create(20480, &c), 0);
	created = rss_kib();
	assert_true(created - before < 1024);	/* the buckets: 128 KiB */
	memset(big, 'p', sizeof(big));
	for (unsigned i = 0; i < 100; i++) {
		key_of(key, i);
		assert_int_equal(session_cache_store(c, key, sizeof(key), big, sizeof(big), LATER,
						     NOW), 0);
	}
	filled = rss_kib();
	assert_true(filled - created >= 100 * 2);	/* the 100 entries' data... */
	assert_true(filled - created < 100 * 12);	/* ...and not much more */
	assert_int_equal(session_cache_validate(c), 0);
	session_cache_destroy(c);

	/* a small cache filled past its capacity evicts, then reuses slots */
	assert_int_equal(session_cache_create(4, &c), 0);
	for (unsigned i = 0; i < 10; i++)
		store_n(c, i);
	assert_int_equal(fetch_n(c, 9, NOW), 0);
	assert_int_equal(fetch_n(c, 6, NOW), 0);
	assert_int_equal(fetch_n(c, 5, NOW), SESSION_CACHE_MISS);
	session_cache_destroy(c);
}

static void child_work(struct session_cache *c, unsigned id)
{
	uint8_t key[SESSION_CACHE_KEY_MAX];
	char buf[64];
	size_t dlen;
	unsigned i;

	for (i = 0; i < NOPS; i++) {
		key_of(key, id * NOPS + i);
		if (session_cache_store(c, key, sizeof(key), "payload", 8, LATER, NOW) < 0)
			_exit(2);
		if (session_cache_fetch(c, key, sizeof(key), NOW, buf, sizeof(buf), &dlen) ==
		    TLSD_ERR_IO)
			_exit(3);
	}
	_exit(0);
}

static void test_concurrent_processes(void **state)
{
	struct session_cache *c = NULL;
	struct session_cache_stats st;
	pid_t pids[NPROC];
	int i, status;

	assert_int_equal(session_cache_create(64, &c), 0);
	for (i = 0; i < NPROC; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			child_work(c, (unsigned)i);
	}
	for (i = 0; i < NPROC; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(session_cache_validate(c), 0);
	session_cache_stats(c, &st);
	assert_int_equal(st.stores, NPROC * NOPS);
	assert_int_equal(st.entries, 64);
	assert_int_equal(st.evictions, NPROC * NOPS - 64);
	assert_int_equal(st.hits + st.misses, NPROC * NOPS);
	session_cache_destroy(c);
}

static void test_owner_death_recovers(void **state)
{
	struct session_cache *c = *state;
	struct session_cache_stats st;
	int status;
	pid_t pid;

	store_n(c, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		session_cache_test_lock_and_die(c);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	store_n(c, 2);				/* does not hang: wipe + consistent */
	assert_int_equal(fetch_n(c, 2, NOW), 0);
	assert_int_equal(fetch_n(c, 1, NOW), SESSION_CACHE_MISS);	/* wiped */
	session_cache_stats(c, &st);
	assert_int_equal(st.recoveries, 1);
	assert_int_equal(st.entries, 1);
}

static bool stores_and_fetches(void *arg)
{
	struct session_cache *c = arg;
	uint8_t key[SESSION_CACHE_KEY_MAX];
	char buf[64];
	size_t dlen;

	key_of(key, 3);
	return session_cache_store(c, key, sizeof(key), "three", 5, LATER, NOW) == 0 &&
	       session_cache_fetch(c, key, sizeof(key), NOW, buf, sizeof(buf), &dlen) == 0 && dlen == 5;
}

/* A recovery that fails (pthread_mutex_consistent refuses) reports an error
 * and leaves the lock free: the next caller, in this process or another,
 * gets it at once instead of waiting on it forever. */
static void test_failed_recovery_releases_the_lock(void **state)
{
	struct session_cache *c = *state;
	struct session_cache_stats st;
	uint8_t key[SESSION_CACHE_KEY_MAX];

	store_n(c, 1);
	key_of(key, 2);
	fake_owner_dead_armed = true;
	assert_int_equal(session_cache_store(c, key, sizeof(key), "two", 3, LATER, NOW), TLSD_ERR_IO);
	assert_false(fake_owner_dead_armed);
	assert_true(in_child_within(5, stores_and_fetches, c));
	assert_true(stores_and_fetches(c));
	assert_int_equal(fetch_n(c, 1, NOW), SESSION_CACHE_MISS);	/* wiped by the recovery */
	assert_int_equal(session_cache_validate(c), 0);
	session_cache_stats(c, &st);
	assert_int_equal(st.recoveries, 1);
	/* Every entry point shares the lock path: a fetch and a remove too. */
	fake_owner_dead_armed = true;
	assert_int_equal(session_cache_fetch(c, key, sizeof(key), NOW, NULL, 0, &(size_t){ 0 }), TLSD_ERR_IO);
	fake_owner_dead_armed = true;
	assert_int_equal(session_cache_remove(c, key, sizeof(key)), TLSD_ERR_IO);
	assert_true(in_child_within(5, stores_and_fetches, c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip_and_miss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contains_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lru_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_too_small, setup, teardown),
		cmocka_unit_test(test_capacity_zero),
		cmocka_unit_test(test_memory_taken_as_it_fills),
		cmocka_unit_test(test_concurrent_processes),
		cmocka_unit_test_setup_teardown(test_owner_death_recovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_recovery_releases_the_lock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
