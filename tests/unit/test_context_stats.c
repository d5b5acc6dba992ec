/* test_context_stats.c - series by SNI context: named once, never handed to
 * another hostname, bounded (the rest count as other); counters summed over
 * worker slots, also when the writers are other processes; a dead worker's
 * open connections zeroed, its counts kept. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/context_stats.h"

#define NPROC 4
#define ROUNDS 10000

static void test_bad_sizes_refused(void **state)
{
	struct context_stats *cs = (void *)1;

	assert_int_equal(context_stats_create(0, &cs), TLSD_ERR_CONFIG);
	assert_null(cs);
	assert_int_equal(context_stats_create(1025, &cs), TLSD_ERR_CONFIG);
	assert_null(cs);
	context_stats_destroy(NULL);
}

static void test_names_are_given_once_in_order(void **state)
{
	struct context_stats *cs = NULL;

	assert_int_equal(context_stats_create(2, &cs), 0);
	assert_int_equal(context_stats_named(cs), 0);
	assert_int_equal(context_stats_find(cs, "a.example.com"), CONTEXT_SERIES_OTHER);
	assert_int_equal(context_stats_name(cs, "a.example.com"), 0);
	assert_int_equal(context_stats_name(cs, "*.b.example.com"), 1);
	assert_int_equal(context_stats_name(cs, "a.example.com"), 0);
	assert_int_equal(context_stats_named(cs), 2);
	assert_int_equal(context_stats_find(cs, "*.b.example.com"), 1);
	assert_int_equal(context_stats_find(cs, "x.b.example.com"), CONTEXT_SERIES_OTHER);
	assert_string_equal(context_stats_label(cs, 0), "a.example.com");
	assert_string_equal(context_stats_label(cs, 1), "*.b.example.com");
	assert_string_equal(context_stats_label(cs, CONTEXT_SERIES_DEFAULT), "*");
	assert_string_equal(context_stats_label(cs, CONTEXT_SERIES_OTHER), "other");
	assert_string_equal(context_stats_label(cs, 2), "other");
	/* A context literally named "other" would share the label: it counts there. */
	assert_int_equal(context_stats_name(cs, "other"), CONTEXT_SERIES_OTHER);
	assert_int_equal(context_stats_named(cs), 2);
	context_stats_destroy(cs);
}

static void test_past_the_bound_everything_is_other(void **state)
{
	struct context_stats *cs = NULL;
	char name[64];

	assert_int_equal(context_stats_create(1, &cs), 0);
	for (int i = 0; i < CONTEXT_STATS_NAMED; i++) {
		snprintf(name, sizeof(name), "h%d.example.com", i);
		assert_int_equal(context_stats_name(cs, name), i);
	}
	assert_int_equal(context_stats_name(cs, "late.example.com"), CONTEXT_SERIES_OTHER);
	assert_int_equal(context_stats_find(cs, "late.example.com"), CONTEXT_SERIES_OTHER);
	assert_int_equal(context_stats_named(cs), CONTEXT_STATS_NAMED);
	assert_int_equal(context_stats_name(cs, "h7.example.com"), 7);
	context_stats_destroy(cs);
}

static void test_counts_sum_over_slots_per_series(void **state)
{
	struct context_stats *cs = NULL;
	struct context_figures f;
	int a, b;

	assert_int_equal(context_stats_create(3, &cs), 0);
	a = context_stats_name(cs, "a.example.com");
	b = context_stats_name(cs, "b.example.com");
	context_stats_add(cs, 0, a, CX_HS_FULL, 1);
	context_stats_add(cs, 2, a, CX_HS_FULL, 2);
	context_stats_add(cs, 1, a, CX_BYTES_IN, 100);
	context_stats_add(cs, 1, b, CX_HS_RESUMED_TICKET, 1);
	context_stats_add(cs, 0, CONTEXT_SERIES_DEFAULT, CX_HS_FAILED, 4);
	context_stats_add(cs, 0, CONTEXT_SERIES_OTHER, CX_BYTES_OUT, 9);
	context_stats_add(cs, 0, CONTEXT_SERIES_NONE, CX_HS_FULL, 1000);	/* counted nowhere */
	context_stats_open(cs, 0, a);
	context_stats_open(cs, 1, a);
	context_stats_open(cs, 1, CONTEXT_SERIES_NONE);
	context_stats_close(cs, 1, CONTEXT_SERIES_NONE);
	context_stats_figures(cs, a, &f);
	assert_int_equal(f.counters[CX_HS_FULL], 3);
	assert_int_equal(f.counters[CX_BYTES_IN], 100);
	assert_int_equal(f.counters[CX_HS_RESUMED_TICKET], 0);
	assert_int_equal(f.current, 2);
	context_stats_figures(cs, b, &f);
	assert_int_equal(f.counters[CX_HS_RESUMED_TICKET], 1);
	assert_int_equal(f.counters[CX_HS_FULL], 0);
	assert_int_equal(f.current, 0);
	context_stats_figures(cs, CONTEXT_SERIES_DEFAULT, &f);
	assert_int_equal(f.counters[CX_HS_FAILED], 4);
	context_stats_figures(cs, CONTEXT_SERIES_OTHER, &f);
	assert_int_equal(f.counters[CX_BYTES_OUT], 9);
	assert_int_equal(f.counters[CX_HS_FULL], 0);
	context_stats_close(cs, 0, a);
	context_stats_close(cs, 0, a);	/* never below 0 */
	context_stats_figures(cs, a, &f);
	assert_int_equal(f.current, 1);
	context_stats_destroy(cs);
}

static void test_dead_worker_keeps_counts_not_connections(void **state)
{
	struct context_stats *cs = NULL;
	struct context_figures f;

	assert_int_equal(context_stats_create(2, &cs), 0);
	assert_int_equal(context_stats_name(cs, "a.example.com"), 0);
	context_stats_open(cs, 0, 0);
	context_stats_open(cs, 0, CONTEXT_SERIES_OTHER);
	context_stats_open(cs, 1, 0);
	context_stats_add(cs, 0, 0, CX_HS_FULL, 5);
	context_stats_worker_exited(cs, 0);
	context_stats_figures(cs, 0, &f);
	assert_int_equal(f.current, 1);
	assert_int_equal(f.counters[CX_HS_FULL], 5);
	context_stats_figures(cs, CONTEXT_SERIES_OTHER, &f);
	assert_int_equal(f.current, 0);
	context_stats_destroy(cs);
}

/* Worker processes count in their own slots while the master names more
 * series: every count lands, in its own series. */
static void test_writers_in_other_processes(void **state)
{
	struct context_stats *cs = NULL;
	struct context_figures f;
	pid_t pids[NPROC];
	int status;

	assert_int_equal(context_stats_create(NPROC, &cs), 0);
	assert_int_equal(context_stats_name(cs, "a.example.com"), 0);
	for (int i = 0; i < NPROC; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			for (int r = 0; r < ROUNDS; r++) {
				context_stats_add(cs, i, 0, CX_BYTES_IN, 2);
				context_stats_add(cs, i, CONTEXT_SERIES_DEFAULT, CX_HS_FULL, 1);
			}
			_exit(context_stats_find(cs, "a.example.com") == 0 ? 0 : 1);
		}
	}
	for (int i = 1; i < CONTEXT_STATS_NAMED; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n%d.example.com", i);
		assert_int_equal(context_stats_name(cs, name), i);
	}
	for (int i = 0; i < NPROC; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	context_stats_figures(cs, 0, &f);
	assert_int_equal(f.counters[CX_BYTES_IN], 2 * NPROC * ROUNDS);
	assert_int_equal(f.counters[CX_HS_FULL], 0);
	context_stats_figures(cs, CONTEXT_SERIES_DEFAULT, &f);
	assert_int_equal(f.counters[CX_HS_FULL], NPROC * ROUNDS);
	context_stats_figures(cs, 1, &f);
	assert_int_equal(f.counters[CX_BYTES_IN], 0);
	context_stats_destroy(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_sizes_refused),
		cmocka_unit_test(test_names_are_given_once_in_order),
		cmocka_unit_test(test_past_the_bound_everything_is_other),
		cmocka_unit_test(test_counts_sum_over_slots_per_series),
		cmocka_unit_test(test_dead_worker_keeps_counts_not_connections),
		cmocka_unit_test(test_writers_in_other_processes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
