/* test_ticket_ring.c - how ticket keys move through the ring: rotation,
 * setTicketKeys, a next key installed ahead, the size bound, validation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/ticket_ring.h"

static const unsigned char *key(unsigned v)
{
	static unsigned char k[16][TICKET_KEYS_SIZE];

	memset(k[v % 16], (int)v, TICKET_KEYS_SIZE);
	return k[v % 16];
}

/* holds: entry <i> of <r> has key(<v>) in state <s>. */
static void holds(const struct ticket_ring *r, size_t i, unsigned v, enum ticket_key_state s)
{
	assert_true(i < r->n);
	assert_memory_equal(r->e[i].keys, key(v), TICKET_KEYS_SIZE);
	assert_int_equal(r->e[i].state, s);
}

static void valid(const struct ticket_ring *r)
{
	struct tlsd_error err = { "" };

	assert_int_equal(ticket_ring_validate(r, &err), TLSD_OK);
}

static void test_rotation_keeps_one_previous_key_at_size_3(void **state)
{
	struct ticket_ring r;

	ticket_ring_init(&r, key(1), key(2), 100);
	holds(&r, 0, 2, TICKET_KEY_NEXT);
	holds(&r, 1, 1, TICKET_KEY_ACTIVE);
	ticket_ring_rotate(&r, key(3), 200, 3);
	assert_int_equal(r.n, 3);
	holds(&r, 0, 3, TICKET_KEY_NEXT);
	holds(&r, 1, 2, TICKET_KEY_ACTIVE);
	holds(&r, 2, 1, TICKET_KEY_DECRYPT_ONLY);
	assert_int_equal(r.e[0].created_at, 200);
	assert_int_equal(r.e[1].created_at, 100);
	ticket_ring_rotate(&r, key(4), 300, 3);
	assert_int_equal(r.n, 3);	/* key 1 left the ring */
	holds(&r, 0, 4, TICKET_KEY_NEXT);
	holds(&r, 1, 3, TICKET_KEY_ACTIVE);
	holds(&r, 2, 2, TICKET_KEY_DECRYPT_ONLY);
	valid(&r);
}

static void test_size_2_is_nodes_replacement(void **state)
{
	struct ticket_ring r;

	ticket_ring_init(&r, key(1), key(2), 100);
	ticket_ring_rotate(&r, key(3), 200, 2);
	assert_int_equal(r.n, 2);
	holds(&r, 0, 3, TICKET_KEY_NEXT);
	holds(&r, 1, 2, TICKET_KEY_ACTIVE);
	ticket_ring_set_active(&r, key(5), 300, 2);
	assert_int_equal(r.n, 2);
	holds(&r, 1, 5, TICKET_KEY_ACTIVE);
	valid(&r);
}

static void test_larger_rings_keep_more_and_stay_bounded(void **state)
{
	struct ticket_ring r;

	ticket_ring_init(&r, key(1), key(2), 0);
	for (unsigned v = 3; v < 15; v++) {
		ticket_ring_rotate(&r, key(v), v, TICKET_RING_MAX);
		valid(&r);
		assert_true(r.n <= TICKET_RING_MAX);
	}
	assert_int_equal(r.n, TICKET_RING_MAX);
	holds(&r, 0, 14, TICKET_KEY_NEXT);
	holds(&r, 1, 13, TICKET_KEY_ACTIVE);
	holds(&r, TICKET_RING_MAX - 1, 7, TICKET_KEY_DECRYPT_ONLY);	/* the oldest kept */
	/* A smaller size later trims at the next change. */
	ticket_ring_rotate(&r, key(15), 20, 3);
	assert_int_equal(r.n, 3);
	holds(&r, 2, 13, TICKET_KEY_DECRYPT_ONLY);
}

static void test_set_active_takes_over_the_next_key(void **state)
{
	struct ticket_ring r;

	ticket_ring_init(&r, key(1), key(2), 100);
	ticket_ring_set_active(&r, key(2), 200, 3);	/* the fleet's next key, activated */
	assert_int_equal(r.n, 2);
	holds(&r, 0, 2, TICKET_KEY_ACTIVE);
	holds(&r, 1, 1, TICKET_KEY_DECRYPT_ONLY);
	assert_int_equal(r.e[0].created_at, 100);	/* still the same key */
	valid(&r);
	/* Setting the active key again changes nothing. */
	ticket_ring_set_active(&r, key(2), 300, 3);
	assert_int_equal(r.n, 2);
	holds(&r, 0, 2, TICKET_KEY_ACTIVE);
	/* A ring without a next key: rotation makes the new key active. */
	ticket_ring_rotate(&r, key(3), 400, 3);
	holds(&r, 0, 3, TICKET_KEY_ACTIVE);
	holds(&r, 1, 2, TICKET_KEY_DECRYPT_ONLY);
	holds(&r, 2, 1, TICKET_KEY_DECRYPT_ONLY);
	valid(&r);
}

static void test_set_active_with_a_retired_key_revives_it_once(void **state)
{
	struct ticket_ring r;

	ticket_ring_init(&r, key(1), key(2), 100);
	ticket_ring_rotate(&r, key(3), 200, 3);	/* 3 next, 2 active, 1 decrypt-only */
	ticket_ring_set_active(&r, key(1), 300, 3);
	holds(&r, 0, 3, TICKET_KEY_NEXT);
	holds(&r, 1, 1, TICKET_KEY_ACTIVE);
	holds(&r, 2, 2, TICKET_KEY_DECRYPT_ONLY);
	assert_int_equal(r.n, 3);
	valid(&r);
}

static void test_set_next(void **state)
{
	struct ticket_ring r;

	ticket_ring_init(&r, key(1), key(2), 100);
	assert_true(ticket_ring_set_next(&r, key(7), 200));
	holds(&r, 0, 7, TICKET_KEY_NEXT);
	assert_int_equal(r.n, 2);
	assert_false(ticket_ring_set_next(&r, key(1), 300));	/* the active key: refused */
	assert_false(ticket_ring_set_next(&r, key(7), 300));
	holds(&r, 0, 7, TICKET_KEY_NEXT);
	ticket_ring_rotate(&r, key(8), 400, 3);
	holds(&r, 1, 7, TICKET_KEY_ACTIVE);
	valid(&r);
}

static void test_validate_refuses_broken_rings(void **state)
{
	struct tlsd_error err = { "" };
	struct ticket_ring r;

	memset(&r, 0, sizeof(r));
	assert_int_equal(ticket_ring_validate(&r, &err), TLSD_ERR_CONFIG);
	ticket_ring_init(&r, key(1), key(2), 0);
	r.e[0].state = TICKET_KEY_ACTIVE;
	assert_int_equal(ticket_ring_validate(&r, &err), TLSD_ERR_CONFIG);
	assert_string_equal(err.msg, "ticket key ring: 2 active keys (must be 1)");
	ticket_ring_init(&r, key(1), key(1), 0);
	assert_int_equal(ticket_ring_validate(&r, &err), TLSD_ERR_CONFIG);
	assert_string_equal(err.msg, "ticket key ring: entries 0 and 1 hold the same keys");
	ticket_ring_init(&r, key(1), key(2), 0);
	r.e[0].state = TICKET_KEY_DECRYPT_ONLY;
	r.e[1].state = TICKET_KEY_NEXT;
	assert_int_equal(ticket_ring_validate(&r, &err), TLSD_ERR_CONFIG);
	r.e[1].state = (enum ticket_key_state)7;
	assert_int_equal(ticket_ring_validate(&r, &err), TLSD_ERR_CONFIG);
}

static void test_names_and_ids(void **state)
{
	enum ticket_key_state s;
	char a[17], b[17];

	assert_string_equal(ticket_ring_state_name(TICKET_KEY_DECRYPT_ONLY), "decrypt-only");
	assert_true(ticket_ring_state_parse("next", &s));
	assert_int_equal(s, TICKET_KEY_NEXT);
	assert_false(ticket_ring_state_parse("previous", &s));
	ticket_ring_id(key(1), a);
	ticket_ring_id(key(2), b);
	assert_int_equal(strlen(a), 16);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotation_keeps_one_previous_key_at_size_3),
		cmocka_unit_test(test_size_2_is_nodes_replacement),
		cmocka_unit_test(test_larger_rings_keep_more_and_stay_bounded),
		cmocka_unit_test(test_set_active_takes_over_the_next_key),
		cmocka_unit_test(test_set_active_with_a_retired_key_revives_it_once),
		cmocka_unit_test(test_set_next),
		cmocka_unit_test(test_validate_refuses_broken_rings),
		cmocka_unit_test(test_names_and_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
