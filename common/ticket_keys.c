/* ticket_keys.c - shared ticket keys behind a seqlock.
 *
 * The keys, the derived master and the generation are one record behind
 * one sequence counter (common/seqlock): a reader never keeps a copy that
 * overlapped a write.
 */
#include "common/ticket_keys.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "common/seqlock.h"

#define TK_MAGIC 0x544b5332u	/* "TKS2" */
#define TK_KEY_WORDS (TICKET_KEYS_SIZE / 8)
#define TK_MASTER_WORDS (TICKET_MASTER_SIZE / 8)
/* GnuTLS's period: STEK_ROTATION_PERIOD_PRODUCT x the cache expiration. */
#define TK_PERIOD_PRODUCT 3

struct tk_entry {
	uint32_t state, pad_;
	int64_t created_at;
	uint64_t keys[TK_KEY_WORDS];
	uint64_t master[TK_MASTER_WORDS];
};

/* Everything behind the sequence counter, copied whole. */
struct tk_record {
	uint64_t generation;
	uint64_t n;
	struct tk_entry e[TICKET_RING_MAX];
};

struct ticket_keys {
	uint32_t magic, pad_;
	uint64_t seq;		/* odd while the master writes */
	struct tk_record rec;
};

/* tk_read: a whole copy. Returns 0 or TLSD_ERR_AGAIN. */
static int tk_read(const struct ticket_keys *tk, struct tk_record *out)
{
	return seqlock_read(&tk->seq, out, &tk->rec, sizeof(*out)) ? TLSD_OK : TLSD_ERR_AGAIN;
}

int ticket_keys_derive(const unsigned char *keys, unsigned char *master)
{
	static const char salt_text[] = "tlsd ticket keys";
	static const char info_text[] = "stek v1";
	gnutls_datum_t ikm = { (unsigned char *)keys, TICKET_KEYS_SIZE };
	gnutls_datum_t salt = { (unsigned char *)salt_text, sizeof(salt_text) - 1 };
	gnutls_datum_t info = { (unsigned char *)info_text, sizeof(info_text) - 1 };
	unsigned char prk[32];
	gnutls_datum_t prk_d = { prk, sizeof(prk) };
	int rc = gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &ikm, &salt, prk);

	if (rc >= 0)
		rc = gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &prk_d, &info, master, TICKET_MASTER_SIZE);
	gnutls_memset(prk, 0, sizeof(prk));
	return rc < 0 ? TLSD_ERR_INTERNAL : TLSD_OK;
}

int ticket_keys_name(const unsigned char *master, uint64_t t, unsigned char *name)
{
	unsigned char in[8 + TICKET_MASTER_SIZE], out[64];
	int rc;

	for (int i = 0; i < 8; i++)
		in[i] = (unsigned char)(t >> (56 - 8 * i));
	memcpy(in + 8, master, TICKET_MASTER_SIZE);
	rc = gnutls_hash_fast(GNUTLS_DIG_SHA3_512, in, sizeof(in), out);
	if (rc >= 0)
		memcpy(name, out, TICKET_NAME_SIZE);
	gnutls_memset(in, 0, sizeof(in));
	gnutls_memset(out, 0, sizeof(out));
	return rc < 0 ? TLSD_ERR_INTERNAL : TLSD_OK;
}

/* to_record: <ring> with every master derived, as it is published. */
static int to_record(const struct ticket_ring *ring, uint64_t generation, struct tk_record *rec)
{
	struct tlsd_error err;

	memset(rec, 0, sizeof(*rec));
	if (ticket_ring_validate(ring, &err) < 0)
		return TLSD_ERR_CONFIG;
	rec->generation = generation;
	rec->n = ring->n;
	for (size_t i = 0; i < ring->n; i++) {
		rec->e[i].state = (uint32_t)ring->e[i].state;
		rec->e[i].created_at = ring->e[i].created_at;
		memcpy(rec->e[i].keys, ring->e[i].keys, TICKET_KEYS_SIZE);
		GUARD(ticket_keys_derive(ring->e[i].keys, (unsigned char *)rec->e[i].master));
	}
	return TLSD_OK;
}

static void to_ring(const struct tk_record *rec, struct ticket_ring *ring)
{
	memset(ring, 0, sizeof(*ring));
	ring->n = rec->n <= TICKET_RING_MAX ? rec->n : 0;
	for (size_t i = 0; i < ring->n; i++) {
		ring->e[i].state = (enum ticket_key_state)rec->e[i].state;
		ring->e[i].created_at = rec->e[i].created_at;
		memcpy(ring->e[i].keys, rec->e[i].keys, TICKET_KEYS_SIZE);
	}
}

int ticket_keys_publish(struct ticket_keys *tk, const struct ticket_ring *ring, uint64_t *generation)
{
	struct tk_record rec;
	uint64_t next = __atomic_load_n(&tk->rec.generation, __ATOMIC_RELAXED) + 1;
	int rc = to_record(ring, next, &rec);

	if (rc == TLSD_OK) {
		seqlock_write(&tk->seq, &tk->rec, &rec, sizeof(rec));
		if (generation != NULL)
			*generation = next;
	}
	gnutls_memset(&rec, 0, sizeof(rec));
	return rc;
}

int ticket_keys_snapshot(const struct ticket_keys *tk, struct ticket_ring *ring, uint64_t *generation)
{
	struct tk_record rec;
	int rc = tk_read(tk, &rec);

	memset(ring, 0, sizeof(*ring));
	if (rc == TLSD_OK) {
		to_ring(&rec, ring);
		if (generation != NULL)
			*generation = rec.generation;
	}
	gnutls_memset(&rec, 0, sizeof(rec));
	return rc;
}

/* change: snapshot, apply <op>, publish: the one writer's update. */
static int change(struct ticket_keys *tk, const unsigned char *keys, size_t ring_size, bool rotate,
		  uint64_t *generation)
{
	struct ticket_ring ring;
	int64_t now = (int64_t)time(NULL);
	int rc = ticket_keys_snapshot(tk, &ring, NULL);

	if (rc == TLSD_OK) {
		if (rotate)
			ticket_ring_rotate(&ring, keys, now, ring_size);
		else
			ticket_ring_set_active(&ring, keys, now, ring_size);
		rc = ticket_keys_publish(tk, &ring, generation);
	}
	ticket_ring_wipe(&ring);
	return rc;
}

int ticket_keys_set(struct ticket_keys *tk, const unsigned char *keys, size_t ring_size, uint64_t *generation)
{
	return change(tk, keys, ring_size, false, generation);
}

int ticket_keys_rotate(struct ticket_keys *tk, size_t ring_size, uint64_t *generation)
{
	unsigned char keys[TICKET_KEYS_SIZE];
	int rc = TLSD_ERR_INTERNAL;

	if (gnutls_rnd(GNUTLS_RND_KEY, keys, sizeof(keys)) == 0)
		rc = change(tk, keys, ring_size, true, generation);
	gnutls_memset(keys, 0, sizeof(keys));
	return rc;
}

int ticket_keys_create(const struct ticket_ring *ring, struct ticket_keys **out)
{
	struct ticket_keys *tk;
	int rc;

	*out = NULL;
	tk = mmap(NULL, sizeof(*tk), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tk == MAP_FAILED)
		return TLSD_ERR_IO;
	memset(tk, 0, sizeof(*tk));
	tk->magic = TK_MAGIC;
	rc = ticket_keys_publish(tk, ring, NULL);
	if (rc < 0) {
		munmap(tk, sizeof(*tk));
		return rc;
	}
	*out = tk;
	return TLSD_OK;
}

uint64_t ticket_keys_generation(const struct ticket_keys *tk)
{
	return __atomic_load_n(&tk->rec.generation, __ATOMIC_ACQUIRE);
}

int ticket_keys_get(const struct ticket_keys *tk, unsigned char *keys, uint64_t *generation)
{
	struct ticket_ring ring;
	const struct ticket_ring_entry *active;
	int rc = ticket_keys_snapshot(tk, &ring, generation);

	active = rc == TLSD_OK ? ticket_ring_active(&ring) : NULL;
	if (rc == TLSD_OK && active == NULL)
		rc = TLSD_ERR_AGAIN;
	if (rc == TLSD_OK)
		memcpy(keys, active->keys, TICKET_KEYS_SIZE);
	ticket_ring_wipe(&ring);
	return rc;
}

bool ticket_keys_refresh(const struct ticket_keys *tk, struct ticket_key_copy *copy)
{
	struct tk_record snap;
	bool changed = false;

	if (ticket_keys_generation(tk) == copy->generation)
		return false;
	if (tk_read(tk, &snap) == TLSD_OK && snap.n > 0 && snap.n <= TICKET_RING_MAX) {
		gnutls_memset(copy, 0, sizeof(*copy));
		copy->generation = snap.generation;
		copy->n = snap.n;
		for (size_t i = 0; i < snap.n; i++) {
			copy->e[i].state = (enum ticket_key_state)snap.e[i].state;
			memcpy(copy->e[i].master, snap.e[i].master, TICKET_MASTER_SIZE);
			if (copy->e[i].state == TICKET_KEY_ACTIVE)
				copy->active = i;
		}
		changed = true;
	}
	gnutls_memset(&snap, 0, sizeof(snap));
	return changed;
}

const unsigned char *ticket_key_copy_active(const struct ticket_key_copy *copy)
{
	return copy->e[copy->active].master;
}

/* copy_names: every entry's names for period <t> and <t> - 1, once per
 * period (two SHA3-512 per entry). */
static void copy_names(struct ticket_key_copy *copy, uint64_t t, unsigned expire_s)
{
	if (copy->names_period == t && copy->names_expire_s == expire_s)
		return;
	for (size_t i = 0; i < copy->n; i++) {
		if (ticket_keys_name(copy->e[i].master, t, copy->e[i].names[0]) < 0 ||
		    ticket_keys_name(copy->e[i].master, t - 1, copy->e[i].names[1]) < 0)
			memset(copy->e[i].names, 0, sizeof(copy->e[i].names));
	}
	copy->names_period = t;
	copy->names_expire_s = expire_s;
}

const unsigned char *ticket_key_copy_match(struct ticket_key_copy *copy, const uint8_t *ticket, size_t len,
					   int64_t now, unsigned expire_s, enum ticket_key_state *state)
{
	uint64_t period = (uint64_t)TK_PERIOD_PRODUCT * (expire_s ? expire_s : 1);
	uint64_t t = now > 0 ? (uint64_t)now / period : 0;

	if (len < TICKET_NAME_SIZE || t < 2 || copy->n == 0)
		return NULL;
	copy_names(copy, t, expire_s);
	for (size_t i = 0; i < copy->n; i++) {
		for (int p = 0; p < 2; p++) {
			if (memcmp(copy->e[i].names[p], ticket, TICKET_NAME_SIZE) == 0) {
				*state = copy->e[i].state;
				return copy->e[i].master;
			}
		}
	}
	return NULL;
}

int ticket_keys_decode(const char *base64, unsigned char *keys, const char *what, struct tlsd_error *err)
{
	gnutls_datum_t b64 = { (unsigned char *)base64, (unsigned)strlen(base64) };
	gnutls_datum_t raw = { NULL, 0 };
	int rc;

	if (b64.size == 0 || gnutls_base64_decode2(&b64, &raw) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "%s: not valid base64", what);
	if (raw.size != TICKET_KEYS_SIZE)
		rc = tlsd_error_set(err, TLSD_ERR_CONFIG,
				    "%s: decodes to %u bytes, must be %d (16-byte name, 16-byte HMAC key, "
				    "16-byte AES key)", what, raw.size, TICKET_KEYS_SIZE);
	else
		rc = TLSD_OK;
	if (rc == TLSD_OK)
		memcpy(keys, raw.data, TICKET_KEYS_SIZE);
	gnutls_memset(raw.data, 0, raw.size);
	gnutls_free(raw.data);
	return rc;
}

void ticket_keys_encode(const unsigned char *keys, char *out)
{
	gnutls_datum_t raw = { (unsigned char *)keys, TICKET_KEYS_SIZE };
	gnutls_datum_t b64 = { NULL, 0 };

	out[0] = '\0';
	if (gnutls_base64_encode2(&raw, &b64) < 0)
		return;
	snprintf(out, 65, "%.*s", (int)b64.size, b64.data);
	gnutls_free(b64.data);
}

void ticket_keys_destroy(struct ticket_keys *tk)
{
	if (tk == NULL)
		return;
	gnutls_memset(tk, 0, sizeof(*tk));
	munmap(tk, sizeof(*tk));
}
