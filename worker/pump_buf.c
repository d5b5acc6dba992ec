/* pump_buf.c - bounded byte buffer. */
#include "worker/pump_buf.h"

#include <stdlib.h>
#include <string.h>

int pump_buf_reserve(struct pump_buf *b)
{
	if (b->data == NULL)
		b->data = malloc(PUMP_BUF_SIZE);
	return b->data ? TLSD_OK : TLSD_ERR_INTERNAL;
}

void pump_buf_free(struct pump_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->head = b->tail = 0;
}

size_t pump_buf_len(const struct pump_buf *b)
{
	return b->tail - b->head;
}

size_t pump_buf_space(struct pump_buf *b)
{
	if (b->head == b->tail)
		b->head = b->tail = 0;
	/* Move the unread bytes down only when that frees a useful amount. */
	if (b->head > PUMP_BUF_SIZE / 2) {
		memmove(b->data, b->data + b->head, b->tail - b->head);
		b->tail -= b->head;
		b->head = 0;
	}
	return PUMP_BUF_SIZE - b->tail;
}

const uint8_t *pump_buf_read_ptr(const struct pump_buf *b)
{
	return b->data + b->head;
}

uint8_t *pump_buf_write_ptr(struct pump_buf *b)
{
	return b->data + b->tail;
}

void pump_buf_produced(struct pump_buf *b, size_t n)
{
	b->tail += n;
}

void pump_buf_consumed(struct pump_buf *b, size_t n)
{
	b->head += n;
}

int pump_buf_append(struct pump_buf *b, const void *data, size_t len)
{
	if (pump_buf_reserve(b) < 0 || pump_buf_space(b) < len)
		return TLSD_ERR_INTERNAL;
	memcpy(pump_buf_write_ptr(b), data, len);
	pump_buf_produced(b, len);
	return TLSD_OK;
}
