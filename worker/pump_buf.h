/* pump_buf.h - a bounded byte buffer between two sockets.
 *
 * The pump never holds more than PUMP_BUF_SIZE bytes per direction: when a
 * buffer is full it stops reading from the side that fills it, so a slow
 * peer costs at most this much memory. Storage is allocated on first use
 * and never touched before, so an idle connection costs no resident pages.
 */
#ifndef TLSD_WORKER_PUMP_BUF_H
#define TLSD_WORKER_PUMP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PUMP_BUF_SIZE (16 * 1024)

struct pump_buf {
	uint8_t *data;	/* NULL until pump_buf_reserve */
	size_t head;	/* first unread byte */
	size_t tail;	/* one past the last byte */
};

/* pump_buf_reserve: make sure storage exists (TLSD_ERR_INTERNAL: no memory). */
int pump_buf_reserve(struct pump_buf *b) TLSD_MUST_CHECK;

/* pump_buf_free: release the storage. */
void pump_buf_free(struct pump_buf *b);

/* pump_buf_len: bytes waiting to be written out. */
size_t pump_buf_len(const struct pump_buf *b);

/* pump_buf_space: bytes that can be appended now (compacts first). */
size_t pump_buf_space(struct pump_buf *b);

/* pump_buf_read_ptr / pump_buf_write_ptr: where to take from / append to. */
const uint8_t *pump_buf_read_ptr(const struct pump_buf *b);
uint8_t *pump_buf_write_ptr(struct pump_buf *b);

/* pump_buf_produced: <n> bytes were appended at pump_buf_write_ptr. */
void pump_buf_produced(struct pump_buf *b, size_t n);

/* pump_buf_consumed: <n> bytes were taken from pump_buf_read_ptr. */
void pump_buf_consumed(struct pump_buf *b, size_t n);

/* pump_buf_append: copy <len> bytes in; TLSD_ERR_INTERNAL if they do not fit. */
int pump_buf_append(struct pump_buf *b, const void *data, size_t len) TLSD_MUST_CHECK;

#endif
