/* test_conn_table.c - connection records in shared memory, listed by the
 * master while their workers write them, also after a worker died in the
 * middle of a write. Includes the module to reach its slots' counters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/conn_table.c"

#define SLOTS 8

static void record(struct conn_record *rec, uint64_t id, uint32_t state)
{
	memset(rec, 0, sizeof(*rec));
	rec->id = id;
	rec->state = state;
	rec->worker = 1;
	rec->pid = 100;
}

static void count_one(void *arg, const struct conn_record *rec, uint64_t in, uint64_t out)
{
	(*(unsigned *)arg)++;
}

static unsigned listed(const struct conn_table *t, int worker)
{
	unsigned n = 0;

	conn_table_each(t, worker, count_one, &n);
	return n;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_open_update_close_listed(void **state)
{
	struct conn_table *t = NULL;
	struct conn_record rec;
	uint32_t a, b;

	assert_int_equal(conn_table_create(2, SLOTS, &t), 0);
	record(&rec, 1, CONN_RECORD_HANDSHAKE);
	a = conn_table_open(t, 0, &rec);
	record(&rec, 2, CONN_RECORD_HANDSHAKE);
	b = conn_table_open(t, 0, &rec);
	assert_int_not_equal(a, b);
	record(&rec, 2, CONN_RECORD_OPEN);
	conn_table_update(t, 0, b, &rec);
	assert_int_equal(listed(t, 0), 2);
	assert_int_equal(listed(t, 1), 0);
	conn_table_close(t, 0, a);
	assert_int_equal(listed(t, 0), 1);
	for (int i = 0; i < SLOTS; i++)
		conn_table_open(t, 0, &rec);
	assert_int_equal(listed(t, 0), SLOTS);
	assert_int_equal(conn_table_unlisted(t, 0), 1);
	conn_table_destroy(t);
}

/* A worker SIGKILLed inside seqlock_write (in conn_table_open of slot 1,
 * and in conn_table_update of slot 0) leaves those counters odd. Once the
 * master has reset the region, its replacement's records are listed, and
 * promptly: an odd counter would cost a reader all its retries. */
static void test_replacement_listed_after_death_inside_a_write(void **state)
{
	struct conn_table *t = NULL;
	struct conn_record rec;
	double start;

	assert_int_equal(conn_table_create(1, SLOTS, &t), 0);
	if (t == NULL)
		abort();	/* GCC reads the atomic loads below as through NULL otherwise */
	record(&rec, 1, CONN_RECORD_HANDSHAKE);
	assert_int_equal(conn_table_open(t, 0, &rec), 0);
	/* A worker that dies outside a write leaves nothing to recover. */
	conn_table_worker_exited(t, 0);
	assert_int_equal(conn_table_recoveries(t), 0);
	assert_int_equal(conn_table_open(t, 0, &rec), 0);
	slot(t, 0, 0)->seq++;	/* died updating slot 0 ... */
	slot(t, 0, 1)->seq++;	/* ... or opening slot 1, before "used" counted it */
	conn_table_worker_exited(t, 0);
	assert_int_equal(listed(t, 0), 0);
	assert_int_equal(conn_table_recoveries(t), 2);	/* both, once */
	conn_table_worker_exited(t, 0);
	assert_int_equal(conn_table_recoveries(t), 2);

	record(&rec, 7, CONN_RECORD_OPEN);
	assert_int_equal(conn_table_open(t, 0, &rec), 0);
	assert_int_equal(conn_table_open(t, 0, &rec), 1);
	start = now_ms();
	assert_int_equal(listed(t, 0), 2);
	assert_true(now_ms() - start < 50);
	for (uint32_t i = 0; i < SLOTS; i++)
		assert_int_equal(slot(t, 0, i)->seq & 1, 0);
	conn_table_destroy(t);
}

/* writer: what a worker does with its region, as fast as it can, until
 * killed. */
static void writer(struct conn_table *t)
{
	struct conn_record rec;

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive a failed test */
	record(&rec, 1, CONN_RECORD_HANDSHAKE);
	for (uint64_t id = 1;; id++) {
		uint32_t a = conn_table_open(t, 0, &rec), b = conn_table_open(t, 0, &rec);

		rec.id = id;
		conn_table_update(t, 0, a, &rec);
		conn_table_close(t, 0, a);
		conn_table_close(t, 0, b);
	}
}

static bool any_odd(const struct conn_table *t)
{
	for (uint32_t i = 0; i < SLOTS; i++)
		if (__atomic_load_n(&slot(t, 0, i)->seq, __ATOMIC_RELAXED) & 1)
			return true;
	return false;
}

/* The same with real SIGKILLs: after each, the replacement (this process)
 * opens one record, and it is listed. */
static void test_sigkilled_writers(void **state)
{
	struct conn_table *t = NULL;
	struct timespec pause = { 0, 1000 * 1000 };
	struct conn_record rec;
	unsigned odd = 0;
	int status;

	assert_int_equal(conn_table_create(1, SLOTS, &t), 0);
	alarm(30);
	for (int round = 0; round < 40; round++) {
		pid_t pid = fork();
		uint32_t i;

		assert_true(pid >= 0);
		if (pid == 0)
			writer(t);
		nanosleep(&pause, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		odd += any_odd(t);
		conn_table_worker_exited(t, 0);		/* what the master does when it reaps */
		record(&rec, 1000 + round, CONN_RECORD_OPEN);
		i = conn_table_open(t, 0, &rec);
		assert_int_equal(listed(t, 0), 1);
		conn_table_close(t, 0, i);
	}
	alarm(0);
	print_message("# %u of 40 kills landed inside a record write\n", odd);
	assert_int_equal(conn_table_recoveries(t), odd);	/* each one counted */
	conn_table_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_update_close_listed),
		cmocka_unit_test(test_replacement_listed_after_death_inside_a_write),
		cmocka_unit_test(test_sigkilled_writers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
