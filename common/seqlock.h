/* seqlock.h - one writer, many lock-free readers, across processes.
 *
 * The writer makes the counter odd, stores the words, and makes it even
 * again (release); a reader copies the words between two reads of the
 * counter and keeps the copy only when both were the same even value.
 * Every shared word is accessed with relaxed atomics, so a racing copy is
 * merely discarded, never undefined. Data must be 8-byte aligned and a
 * multiple of 8 bytes long. A reader that keeps meeting a write yields the
 * CPU (the writer may be preempted) and gives up after SEQLOCK_TRIES:
 * only a writer that died inside its write can cause that.
 */
#ifndef TLSD_COMMON_SEQLOCK_H
#define TLSD_COMMON_SEQLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEQLOCK_SPINS 100
#define SEQLOCK_TRIES 100000

/* seqlock_write: the single writer stores <len> bytes of <src> at <dst>
 * under the counter <seq>. */
void seqlock_write(uint64_t *seq, void *dst, const void *src, size_t len);

/* seqlock_read: a whole copy of <len> bytes at <src> into <dst>; false
 * when no whole copy could be taken (then <dst> holds garbage). */
bool seqlock_read(const uint64_t *seq, void *dst, const void *src, size_t len);

/* seqlock_writer_gone: the writer of <seq> can no longer run (its process
 * was reaped): a write it died inside left the counter odd, which would
 * fail every read, and make every later write leave it odd too. Makes it
 * even, one step forward, so a reader that began before still retries.
 * Returns true when it did (a write had been cut short). */
bool seqlock_writer_gone(uint64_t *seq);

/* seqlock_store_words / seqlock_load_words: relaxed atomic word copies,
 * for data a caller fences itself. */
void seqlock_store_words(void *dst, const void *src, size_t len);
void seqlock_load_words(void *dst, const void *src, size_t len);

#endif
