/* test_ticket_keys.c - the shared ticket keys: Node's 48 bytes, the
 * deterministic mapping to GnuTLS's master, and lock-free readers that never
 * see a half-written key while the master replaces it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "common/ticket_keys.h"

#define READERS 2
#define WRITES_MAX 2000000	/* the writer stops earlier, once the readers are done */
#define CHANGES 2000		/* key changes each reader must see */

static void pattern(unsigned char *keys, unsigned value)
{
	memset(keys, (int)(value & 0xff), TICKET_KEYS_SIZE);
}

/* ring_of: a ring with <keys> active and a fixed next key. */
static struct ticket_ring ring_of(const unsigned char *keys)
{
	struct ticket_ring r;
	unsigned char next[TICKET_KEYS_SIZE];

	for (int i = 0; i < TICKET_KEYS_SIZE; i++)
		next[i] = (unsigned char)i;	/* never one of pattern()'s keys */
	ticket_ring_init(&r, keys, next, 1000);
	return r;
}

static int create_with(const unsigned char *keys, struct ticket_keys **out)
{
	unsigned char random[TICKET_KEYS_SIZE];
	struct ticket_ring r;

	if (keys == NULL) {
		assert_int_equal(gnutls_rnd(GNUTLS_RND_KEY, random, sizeof(random)), 0);
		keys = random;
	}
	r = ring_of(keys);
	return ticket_keys_create(&r, out);
}

static void test_derive_is_deterministic(void **state)
{
	unsigned char a[TICKET_KEYS_SIZE], b[TICKET_KEYS_SIZE];
	unsigned char ma[TICKET_MASTER_SIZE], mb[TICKET_MASTER_SIZE], mc[TICKET_MASTER_SIZE];

	pattern(a, 7);
	pattern(b, 7);
	assert_int_equal(ticket_keys_derive(a, ma), 0);
	assert_int_equal(ticket_keys_derive(b, mb), 0);
	assert_memory_equal(ma, mb, sizeof(ma));
	b[47] ^= 1;	/* one bit anywhere changes the master */
	assert_int_equal(ticket_keys_derive(b, mc), 0);
	assert_memory_not_equal(ma, mc, sizeof(ma));
}

static void test_create_set_get(void **state)
{
	struct ticket_keys *tk = NULL;
	unsigned char keys[TICKET_KEYS_SIZE], got[TICKET_KEYS_SIZE], want[TICKET_MASTER_SIZE];
	struct ticket_key_copy copy = { 0 };
	uint64_t gen = 0;

	pattern(keys, 1);
	assert_int_equal(create_with(keys, &tk), 0);
	assert_int_equal(ticket_keys_generation(tk), 1);
	assert_int_equal(ticket_keys_get(tk, got, &gen), 0);
	assert_memory_equal(got, keys, sizeof(keys));
	assert_int_equal(gen, 1);
	assert_true(ticket_keys_refresh(tk, &copy));
	assert_int_equal(copy.generation, 1);
	assert_int_equal(ticket_keys_derive(keys, want), 0);
	assert_memory_equal(copy.e[copy.active].master, want, sizeof(want));
	assert_false(ticket_keys_refresh(tk, &copy));	/* current: nothing to do */

	pattern(keys, 2);
	assert_int_equal(ticket_keys_set(tk, keys, 3, &gen), 0);
	assert_int_equal(gen, 2);
	assert_true(ticket_keys_refresh(tk, &copy));
	assert_int_equal(copy.generation, 2);
	assert_int_equal(ticket_keys_derive(keys, want), 0);
	assert_memory_equal(copy.e[copy.active].master, want, sizeof(want));
	ticket_keys_destroy(tk);
}

static void test_random_and_rotate(void **state)
{
	struct ticket_keys *a = NULL, *b = NULL;
	unsigned char ka[TICKET_KEYS_SIZE], kb[TICKET_KEYS_SIZE], kc[TICKET_KEYS_SIZE];
	uint64_t gen = 0;

	assert_int_equal(create_with(NULL, &a), 0);
	assert_int_equal(create_with(NULL, &b), 0);
	assert_int_equal(ticket_keys_get(a, ka, &gen), 0);
	assert_int_equal(ticket_keys_get(b, kb, &gen), 0);
	assert_memory_not_equal(ka, kb, sizeof(ka));
	assert_int_equal(ticket_keys_rotate(a, 3, &gen), 0);
	assert_int_equal(gen, 2);
	assert_int_equal(ticket_keys_get(a, kc, &gen), 0);
	assert_memory_not_equal(ka, kc, sizeof(ka));
	ticket_keys_destroy(a);
	ticket_keys_destroy(b);
}

static void test_decode_and_encode(void **state)
{
	/* 48 bytes 0x00..0x2f, and its base64. */
	const char *b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v";
	unsigned char keys[TICKET_KEYS_SIZE], want[TICKET_KEYS_SIZE];
	struct tlsd_error err = { "" };
	char text[65];

	for (int i = 0; i < TICKET_KEYS_SIZE; i++)
		want[i] = (unsigned char)i;
	assert_int_equal(ticket_keys_decode(b64, keys, "keys", &err), 0);
	assert_memory_equal(keys, want, sizeof(want));
	ticket_keys_encode(keys, text);
	assert_string_equal(text, b64);

	memset(keys, 0xee, sizeof(keys));
	assert_int_equal(ticket_keys_decode("AAEC", keys, "keys", &err), TLSD_ERR_CONFIG);
	assert_string_equal(err.msg, "keys: decodes to 3 bytes, must be 48 (16-byte name, "
			    "16-byte HMAC key, 16-byte AES key)");
	assert_int_equal(ticket_keys_decode("not base64!", keys, "ticketKeys", &err), TLSD_ERR_CONFIG);
	assert_string_equal(err.msg, "ticketKeys: not valid base64");
	assert_int_equal(ticket_keys_decode("", keys, "keys", &err), TLSD_ERR_CONFIG);
	for (int i = 0; i < TICKET_KEYS_SIZE; i++)
		assert_int_equal(keys[i], 0xee);	/* a failed decode writes nothing */
}

/* reader: copy the keys as fast as possible while the parent rewrites
 * them, until it has seen CHANGES new generations; generation g always
 * holds pattern(g % 256), so any copy whose bytes do not match its
 * generation was torn. Exits 0, 1 on a torn copy, 4 if no whole copy could
 * be taken. */
static void reader(const struct ticket_keys *tk, unsigned char masters[256][TICKET_MASTER_SIZE], int ready)
{
	struct ticket_key_copy copy = { 0 };
	unsigned char keys[TICKET_KEYS_SIZE], want[TICKET_KEYS_SIZE];
	uint64_t gen = 0;
	long changes = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive a failed test */
	if (write(ready, "r", 1) != 1)
		_exit(3);

	while (changes < CHANGES) {
		if (ticket_keys_refresh(tk, &copy)) {
			changes++;
			if (memcmp(copy.e[copy.active].master, masters[copy.generation % 256], TICKET_MASTER_SIZE) != 0)
				_exit(1);
		}
		if (ticket_keys_get(tk, keys, &gen) != 0)
			_exit(4);
		pattern(want, (unsigned)gen);
		if (memcmp(keys, want, sizeof(keys)) != 0)
			_exit(1);
	}
	_exit(0);
}

static void test_readers_never_see_a_torn_key(void **state)
{
	static unsigned char masters[256][TICKET_MASTER_SIZE];
	struct ticket_keys *tk = NULL;
	unsigned char keys[TICKET_KEYS_SIZE];
	pid_t pids[READERS];
	int status, ready[2];
	char byte;

	for (unsigned v = 0; v < 256; v++) {
		pattern(keys, v);
		assert_int_equal(ticket_keys_derive(keys, masters[v]), 0);
	}
	pattern(keys, 1);
	assert_int_equal(create_with(keys, &tk), 0);
	assert_int_equal(pipe(ready), 0);
	for (int i = 0; i < READERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			reader(tk, masters, ready[1]);
	}
	for (int i = 0; i < READERS; i++)	/* every reader runs before the writes */
		assert_int_equal(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	close(ready[1]);
	for (unsigned g = 2, running = READERS; running > 0 && g <= WRITES_MAX; g++) {
		uint64_t gen = 0;

		pattern(keys, g);
		assert_int_equal(ticket_keys_set(tk, keys, 2, &gen), 0);
		assert_int_equal(gen, g);
		for (int i = 0; g % 64 == 0 && i < READERS; i++) {
			if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				assert_true(WIFEXITED(status));
				assert_int_equal(WEXITSTATUS(status), 0);
				pids[i] = 0;
				running--;
			}
		}
	}
	for (int i = 0; i < READERS; i++) {
		if (pids[i] == 0)
			continue;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	ticket_keys_destroy(tk);
}

/* The ring's names are GnuTLS's (SHA3-512 of the period and the master):
 * a ticket starting with an entry's name for this period or the one before
 * finds that entry, and nothing else does. */
static void test_copy_matches_names_of_every_entry(void **state)
{
	struct ticket_keys *tk = NULL;
	struct ticket_key_copy copy = { 0 };
	unsigned char keys[TICKET_KEYS_SIZE], name[TICKET_NAME_SIZE], ticket[64];
	enum ticket_key_state st = TICKET_KEY_ACTIVE;
	const int64_t now = 1700000000;
	const unsigned expire = 300;
	const uint64_t t = (uint64_t)now / (3 * expire);

	pattern(keys, 1);
	assert_int_equal(create_with(keys, &tk), 0);
	pattern(keys, 2);
	assert_int_equal(ticket_keys_set(tk, keys, 3, NULL), 0);	/* 1 is decrypt-only now */
	assert_true(ticket_keys_refresh(tk, &copy));
	assert_int_equal(copy.n, 3);
	for (size_t i = 0; i < copy.n; i++) {
		for (uint64_t p = t - 1; p <= t; p++) {
			assert_int_equal(ticket_keys_name(copy.e[i].master, p, name), 0);
			memset(ticket, 0xcc, sizeof(ticket));
			memcpy(ticket, name, sizeof(name));
			assert_ptr_equal(ticket_key_copy_match(&copy, ticket, sizeof(ticket), now, expire, &st),
					 copy.e[i].master);
			assert_int_equal(st, copy.e[i].state);
		}
		/* Two periods back: GnuTLS would not take it either. */
		assert_int_equal(ticket_keys_name(copy.e[i].master, t - 2, name), 0);
		memcpy(ticket, name, sizeof(name));
		assert_null(ticket_key_copy_match(&copy, ticket, sizeof(ticket), now, expire, &st));
	}
	assert_null(ticket_key_copy_match(&copy, ticket, TICKET_NAME_SIZE - 1, now, expire, &st));
	ticket_keys_destroy(tk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive_is_deterministic),
		cmocka_unit_test(test_create_set_get),
		cmocka_unit_test(test_random_and_rotate),
		cmocka_unit_test(test_decode_and_encode),
		cmocka_unit_test(test_readers_never_see_a_torn_key),
		cmocka_unit_test(test_copy_matches_names_of_every_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
