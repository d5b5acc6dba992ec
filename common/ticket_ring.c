/* ticket_ring.c - next, active and decrypt-only ticket keys, as a value. */
#include "common/ticket_ring.h"

#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

static const char *const state_names[] = { "next", "active", "decrypt-only" };

const char *ticket_ring_state_name(enum ticket_key_state s)
{
	return (unsigned)s < 3 ? state_names[s] : "unknown";
}

bool ticket_ring_state_parse(const char *text, enum ticket_key_state *out)
{
	for (unsigned i = 0; i < 3; i++) {
		if (strcmp(text, state_names[i]) == 0) {
			*out = (enum ticket_key_state)i;
			return true;
		}
	}
	return false;
}

static struct ticket_ring_entry entry(const unsigned char *keys, enum ticket_key_state state, int64_t now)
{
	struct ticket_ring_entry e = { .state = state, .created_at = now };

	memcpy(e.keys, keys, TICKET_KEYS_SIZE);
	return e;
}

static void remove_at(struct ticket_ring *r, size_t i)
{
	memmove(&r->e[i], &r->e[i + 1], (r->n - i - 1) * sizeof(r->e[0]));
	r->n--;
	gnutls_memset(&r->e[r->n], 0, sizeof(r->e[0]));
}

static void insert_at(struct ticket_ring *r, size_t i, const struct ticket_ring_entry *e)
{
	memmove(&r->e[i + 1], &r->e[i], (r->n - i) * sizeof(r->e[0]));
	r->e[i] = *e;
	r->n++;
}

/* find: the index of the entry holding <keys>, or r->n. */
static size_t find(const struct ticket_ring *r, const unsigned char *keys)
{
	size_t i = 0;

	while (i < r->n && memcmp(r->e[i].keys, keys, TICKET_KEYS_SIZE) != 0)
		i++;
	return i;
}

static size_t find_state(const struct ticket_ring *r, enum ticket_key_state s)
{
	size_t i = 0;

	while (i < r->n && r->e[i].state != s)
		i++;
	return i;
}

/* trim: drop the oldest decrypt-only keys (the last entries) past <size>. */
static void trim(struct ticket_ring *r, size_t size)
{
	if (size < 2)
		size = 2;
	if (size > TICKET_RING_MAX)
		size = TICKET_RING_MAX;
	while (r->n > size && r->e[r->n - 1].state == TICKET_KEY_DECRYPT_ONLY)
		remove_at(r, r->n - 1);
}

void ticket_ring_init(struct ticket_ring *r, const unsigned char *active, const unsigned char *next, int64_t now)
{
	memset(r, 0, sizeof(*r));
	r->e[r->n++] = entry(next, TICKET_KEY_NEXT, now);
	r->e[r->n++] = entry(active, TICKET_KEY_ACTIVE, now);
}

/* retire_active: the active entry becomes the newest decrypt-only one. */
static void retire_active(struct ticket_ring *r)
{
	size_t a = find_state(r, TICKET_KEY_ACTIVE);

	if (a < r->n)
		r->e[a].state = TICKET_KEY_DECRYPT_ONLY;
}

/* make_room: a ring that is full loses its oldest decrypt-only key, so an
 * entry can come in. */
static void make_room(struct ticket_ring *r)
{
	if (r->n == TICKET_RING_MAX && r->e[r->n - 1].state == TICKET_KEY_DECRYPT_ONLY)
		remove_at(r, r->n - 1);
}

void ticket_ring_rotate(struct ticket_ring *r, const unsigned char *new_next, int64_t now, size_t size)
{
	size_t next = find_state(r, TICKET_KEY_NEXT);
	struct ticket_ring_entry e = entry(new_next, TICKET_KEY_NEXT, now);

	retire_active(r);
	if (next < r->n) {
		r->e[next].state = TICKET_KEY_ACTIVE;
	} else {
		e.state = TICKET_KEY_ACTIVE;
	}
	make_room(r);
	insert_at(r, 0, &e);
	trim(r, size);
	gnutls_memset(&e, 0, sizeof(e));
}

void ticket_ring_set_active(struct ticket_ring *r, const unsigned char *keys, int64_t now, size_t size)
{
	struct ticket_ring_entry e = entry(keys, TICKET_KEY_ACTIVE, now);
	size_t same = find(r, keys);
	size_t at;

	if (same < r->n && r->e[same].state == TICKET_KEY_ACTIVE)
		return;
	if (same < r->n) {
		e.created_at = r->e[same].created_at;
		remove_at(r, same);
	}
	retire_active(r);
	make_room(r);
	at = find_state(r, TICKET_KEY_NEXT) < r->n ? 1 : 0;
	insert_at(r, at, &e);
	trim(r, size);
	gnutls_memset(&e, 0, sizeof(e));
}

bool ticket_ring_set_next(struct ticket_ring *r, const unsigned char *keys, int64_t now)
{
	struct ticket_ring_entry e = entry(keys, TICKET_KEY_NEXT, now);
	size_t next = find_state(r, TICKET_KEY_NEXT);

	if (find(r, keys) < r->n)
		return false;
	if (next < r->n) {
		r->e[next] = e;
	} else {
		make_room(r);
		insert_at(r, 0, &e);
	}
	gnutls_memset(&e, 0, sizeof(e));
	return true;
}

const struct ticket_ring_entry *ticket_ring_active(const struct ticket_ring *r)
{
	size_t a = find_state(r, TICKET_KEY_ACTIVE);

	return a < r->n ? &r->e[a] : NULL;
}

int ticket_ring_validate(const struct ticket_ring *r, struct tlsd_error *err)
{
	size_t active = 0;

	if (r->n == 0 || r->n > TICKET_RING_MAX)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "ticket key ring: %zu entries (1 to %d)", r->n,
				      TICKET_RING_MAX);
	for (size_t i = 0; i < r->n; i++) {
		if ((unsigned)r->e[i].state > TICKET_KEY_DECRYPT_ONLY)
			return tlsd_error_set(err, TLSD_ERR_CONFIG, "ticket key ring: entry %zu: no state", i);
		if (r->e[i].state == TICKET_KEY_NEXT && i != 0)
			return tlsd_error_set(err, TLSD_ERR_CONFIG, "ticket key ring: a next key must come first");
		active += r->e[i].state == TICKET_KEY_ACTIVE;
		for (size_t j = 0; j < i; j++)
			if (memcmp(r->e[i].keys, r->e[j].keys, TICKET_KEYS_SIZE) == 0)
				return tlsd_error_set(err, TLSD_ERR_CONFIG,
						      "ticket key ring: entries %zu and %zu hold the same keys", j, i);
	}
	if (active != 1)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "ticket key ring: %zu active keys (must be 1)", active);
	return TLSD_OK;
}

void ticket_ring_id(const unsigned char *keys, char *out)
{
	unsigned char digest[32];

	gnutls_hash_fast(GNUTLS_DIG_SHA256, keys, TICKET_KEYS_SIZE, digest);
	for (size_t i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

void ticket_ring_wipe(struct ticket_ring *r)
{
	gnutls_memset(r, 0, sizeof(*r));
}
