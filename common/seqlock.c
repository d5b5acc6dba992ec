/* seqlock.c - Boehm's seqlock over relaxed atomic words. */
#include "common/seqlock.h"

#include <sched.h>

void seqlock_store_words(void *dst, const void *src, size_t len)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (size_t i = 0; i < len / 8; i++)
		__atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
}

void seqlock_load_words(void *dst, const void *src, size_t len)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (size_t i = 0; i < len / 8; i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

void seqlock_write(uint64_t *seq, void *dst, const void *src, size_t len)
{
	uint64_t v = __atomic_load_n(seq, __ATOMIC_RELAXED);

	__atomic_store_n(seq, v + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	seqlock_store_words(dst, src, len);
	__atomic_store_n(seq, v + 2, __ATOMIC_RELEASE);
}

bool seqlock_writer_gone(uint64_t *seq)
{
	uint64_t v = __atomic_load_n(seq, __ATOMIC_ACQUIRE);

	if ((v & 1) == 0)
		return false;
	__atomic_store_n(seq, v + 1, __ATOMIC_RELEASE);
	return true;
}

bool seqlock_read(const uint64_t *seq, void *dst, const void *src, size_t len)
{
	for (long tries = 0; tries < SEQLOCK_TRIES; tries++) {
		uint64_t before = __atomic_load_n(seq, __ATOMIC_ACQUIRE);

		if (tries >= SEQLOCK_SPINS)
			sched_yield();
		if (before & 1)
			continue;
		seqlock_load_words(dst, src, len);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(seq, __ATOMIC_RELAXED) == before)
			return true;
	}
	return false;
}
