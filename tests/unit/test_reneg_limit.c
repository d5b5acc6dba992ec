/* test_reneg_limit.c - the sliding renegotiation window. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/reneg_limit.h"

/* Node's defaults: tls.CLIENT_RENEG_LIMIT and tls.CLIENT_RENEG_WINDOW. */
#define NODE_LIMIT 3
#define NODE_WINDOW 600

static void test_fourth_in_window_refused(void **state)
{
	struct reneg_limit r;

	reneg_limit_init(&r, NODE_LIMIT, NODE_WINDOW);
	assert_true(reneg_limit_allow(&r, 1000));
	assert_true(reneg_limit_allow(&r, 1001));
	assert_true(reneg_limit_allow(&r, 1599));
	assert_false(reneg_limit_allow(&r, 1599));
	assert_false(reneg_limit_allow(&r, 1599));	/* refusals are not recorded... */
	assert_int_equal(r.count, 3);
	assert_true(reneg_limit_allow(&r, 1600));	/* ...so 1000 ageing out frees a slot */
	assert_false(reneg_limit_allow(&r, 1600));
}

static void test_allowed_after_window(void **state)
{
	struct reneg_limit r;

	reneg_limit_init(&r, NODE_LIMIT, NODE_WINDOW);
	assert_true(reneg_limit_allow(&r, 0));
	assert_true(reneg_limit_allow(&r, 0));
	assert_true(reneg_limit_allow(&r, 0));
	assert_false(reneg_limit_allow(&r, 599));
	/* exactly window_s later the old ones no longer count */
	assert_true(reneg_limit_allow(&r, 600));
	assert_int_equal(r.count, 1);
	assert_true(reneg_limit_allow(&r, 601));
	assert_true(reneg_limit_allow(&r, 602));
	assert_false(reneg_limit_allow(&r, 603));
	/* long after: a fresh budget of three */
	assert_true(reneg_limit_allow(&r, 100000));
	assert_true(reneg_limit_allow(&r, 100000));
	assert_true(reneg_limit_allow(&r, 100000));
	assert_false(reneg_limit_allow(&r, 100000));
}

static void test_sliding_not_fixed_buckets(void **state)
{
	struct reneg_limit r;

	/* 3 at 0, 300, 599 then one at 601: only 0 has aged out, so 601 fits,
	 * but 602 would make four (300, 599, 601, 602) within 600 s */
	reneg_limit_init(&r, NODE_LIMIT, NODE_WINDOW);
	assert_true(reneg_limit_allow(&r, 0));
	assert_true(reneg_limit_allow(&r, 300));
	assert_true(reneg_limit_allow(&r, 599));
	assert_true(reneg_limit_allow(&r, 601));
	assert_false(reneg_limit_allow(&r, 602));
	assert_false(reneg_limit_allow(&r, 899));
	assert_true(reneg_limit_allow(&r, 900));
	/* steady once per 599 s is within "3 per 600 s" forever */
	reneg_limit_init(&r, NODE_LIMIT, NODE_WINDOW);
	for (int64_t t = 0; t < 599 * 20; t += 599)
		assert_true(reneg_limit_allow(&r, t));
}

static void test_limit_zero_refuses_first(void **state)
{
	struct reneg_limit r;

	reneg_limit_init(&r, 0, NODE_WINDOW);
	assert_false(reneg_limit_allow(&r, 0));
	assert_false(reneg_limit_allow(&r, 1000000));
	assert_int_equal(r.count, 0);
}

static void test_limit_one(void **state)
{
	struct reneg_limit r;

	reneg_limit_init(&r, 1, 10);
	assert_true(reneg_limit_allow(&r, 5));
	assert_false(reneg_limit_allow(&r, 14));
	assert_true(reneg_limit_allow(&r, 15));
}

static void test_clamping(void **state)
{
	struct reneg_limit r;
	int i;

	reneg_limit_init(&r, -5, NODE_WINDOW);
	assert_int_equal(r.limit, 0);
	assert_false(reneg_limit_allow(&r, 0));
	reneg_limit_init(&r, RENEG_LIMIT_MAX + 100, NODE_WINDOW);
	assert_int_equal(r.limit, RENEG_LIMIT_MAX);
	for (i = 0; i < RENEG_LIMIT_MAX; i++)
		assert_true(reneg_limit_allow(&r, i));
	assert_false(reneg_limit_allow(&r, RENEG_LIMIT_MAX));
	assert_int_equal(r.count, RENEG_LIMIT_MAX);
	assert_true(reneg_limit_allow(&r, NODE_WINDOW));	/* 0 aged out */
	reneg_limit_init(&r, RENEG_LIMIT_MAX, NODE_WINDOW);
	assert_int_equal(r.limit, RENEG_LIMIT_MAX);
	reneg_limit_init(&r, 3, -1);
	assert_int_equal(r.window_s, 0);
}

static void test_window_zero(void **state)
{
	struct reneg_limit r;
	int i;

	/* nothing is remembered: any number allowed, even at the same second */
	reneg_limit_init(&r, 2, 0);
	for (i = 0; i < 50; i++)
		assert_true(reneg_limit_allow(&r, 7));
}

static void test_clock_back_counts(void **state)
{
	struct reneg_limit r;

	reneg_limit_init(&r, 2, 100);
	assert_true(reneg_limit_allow(&r, 500));
	assert_true(reneg_limit_allow(&r, 400));
	assert_false(reneg_limit_allow(&r, 450));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fourth_in_window_refused),
		cmocka_unit_test(test_allowed_after_window),
		cmocka_unit_test(test_sliding_not_fixed_buckets),
		cmocka_unit_test(test_limit_zero_refuses_first),
		cmocka_unit_test(test_limit_one),
		cmocka_unit_test(test_clamping),
		cmocka_unit_test(test_window_zero),
		cmocka_unit_test(test_clock_back_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
