/* test_sni_table.c - the shared SNI context table: writes stamp slots with
 * the generation, readers copy whole slots while the master rewrites them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/sni_table.h"

#define WRITES_MAX 2000000	/* the writer stops earlier, once the readers are done */
#define CHANGES 2000		/* rewrites each reader must see */

static void test_write_read_clear(void **state)
{
	struct sni_table *t = NULL;
	struct sni_slot s;

	assert_int_equal(sni_table_create(8, &t), 0);
	assert_int_equal(sni_table_generation(t), 0);
	assert_int_equal(sni_table_used(t), 0);
	assert_int_equal(sni_table_write(t, 3, "a.example.com", 7, 2), 1);
	assert_int_equal(sni_table_used(t), 4);
	assert_int_equal(sni_table_version(t, 3), 1);
	assert_int_equal(sni_table_version(t, 0), 0);
	assert_int_equal(sni_table_read(t, 3, &s), 0);
	assert_true(s.live);
	assert_string_equal(s.hostname, "a.example.com");
	assert_int_equal(s.order, 7);
	assert_int_equal(s.config_index, 2);
	assert_int_equal(sni_table_write(t, 1, "*.example.com", 8, -1), 2);
	assert_int_equal(sni_table_read(t, 1, &s), 0);
	assert_int_equal(s.config_index, -1);
	assert_int_equal(sni_table_clear(t, 3), 3);
	assert_int_equal(sni_table_read(t, 3, &s), 0);
	assert_false(s.live);
	assert_string_equal(s.hostname, "");
	assert_int_equal(s.version, 3);
	assert_int_equal(sni_table_used(t), 4);
	sni_table_destroy(t);
}

static void test_bad_capacity(void **state)
{
	struct sni_table *t = NULL;

	assert_int_equal(sni_table_create(0, &t), TLSD_ERR_CONFIG);
	assert_int_equal(sni_table_create(SNI_TABLE_CAPACITY + 1, &t), TLSD_ERR_CONFIG);
	assert_null(t);
}

static void test_long_hostname_is_cut_not_overflowed(void **state)
{
	struct sni_table *t = NULL;
	char name[400];
	struct sni_slot s;

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(sni_table_create(1, &t), 0);
	sni_table_write(t, 0, name, 1, -1);
	assert_int_equal(sni_table_read(t, 0, &s), 0);
	assert_int_equal(strlen(s.hostname), SNI_HOSTNAME_MAX - 1);
	sni_table_destroy(t);
}

/* reader: slot 0 always holds "h<n>.<zeros>.example" with order n while
 * the parent rewrites it; a copy whose name and order disagree was torn.
 * Exits 0 after seeing CHANGES rewrites, 1 on a torn copy, 4 when no whole
 * copy could be taken. */
static void reader(const struct sni_table *t, int ready)
{
	struct sni_slot s;
	char want[SNI_HOSTNAME_MAX];
	uint64_t last = 0;
	long changes = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive a failed test */
	if (write(ready, "r", 1) != 1)
		_exit(3);
	/* Also done at the writer's last write: on a loaded machine a reader
	 * may see fewer rewrites, and must not wait for more forever. */
	while (changes < CHANGES && last < WRITES_MAX) {
		if (sni_table_read(t, 0, &s) != 0)
			_exit(4);
		snprintf(want, sizeof(want), "h%llu.%0200d.example", (unsigned long long)s.order, 0);
		if (strcmp(s.hostname, want) != 0 || s.version != s.order)
			_exit(1);
		changes += s.order != last;
		last = s.order;
	}
	_exit(0);
}

static void test_readers_never_see_a_torn_slot(void **state)
{
	struct sni_table *t = NULL;
	char name[SNI_HOSTNAME_MAX];
	pid_t pids[2];
	int status, ready[2];
	char byte;

	assert_int_equal(sni_table_create(1, &t), 0);
	snprintf(name, sizeof(name), "h1.%0200d.example", 0);
	sni_table_write(t, 0, name, 1, -1);
	assert_int_equal(pipe(ready), 0);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			reader(t, ready[1]);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(read(ready[0], &byte, 1), 1);
	for (uint64_t n = 2, running = 2; running > 0 && n <= WRITES_MAX; n++) {
		snprintf(name, sizeof(name), "h%llu.%0200d.example", (unsigned long long)n, 0);
		assert_int_equal(sni_table_write(t, 0, name, n, -1), n);
		for (int i = 0; n % 64 == 0 && i < 2; i++) {
			if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				assert_true(WIFEXITED(status));
				assert_int_equal(WEXITSTATUS(status), 0);
				pids[i] = 0;
				running--;
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		if (pids[i] == 0)
			continue;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	close(ready[0]);
	close(ready[1]);
	sni_table_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read_clear),
		cmocka_unit_test(test_bad_capacity),
		cmocka_unit_test(test_long_hostname_is_cut_not_overflowed),
		cmocka_unit_test(test_readers_never_see_a_torn_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
