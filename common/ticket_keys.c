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

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "common/seqlock.h"

#define TK_MAGIC 0x544b5331u	/* "TKS1" */
#define TK_KEY_WORDS (TICKET_KEYS_SIZE / 8)
#define TK_MASTER_WORDS (TICKET_MASTER_SIZE / 8)

/* Everything behind the sequence counter, copied whole. */
struct tk_record {
	uint64_t generation;
	uint64_t keys[TK_KEY_WORDS];
	uint64_t master[TK_MASTER_WORDS];
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

/* tk_write: the single writer publishes the next generation. */
static void tk_write(struct ticket_keys *tk, const uint64_t *keys, const uint64_t *master)
{
	struct tk_record rec;

	rec.generation = __atomic_load_n(&tk->rec.generation, __ATOMIC_RELAXED) + 1;
	memcpy(rec.keys, keys, sizeof(rec.keys));
	memcpy(rec.master, master, sizeof(rec.master));
	seqlock_write(&tk->seq, &tk->rec, &rec, sizeof(rec));
	gnutls_memset(&rec, 0, sizeof(rec));
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

int ticket_keys_set(struct ticket_keys *tk, const unsigned char *keys, uint64_t *generation)
{
	uint64_t key_words[TK_KEY_WORDS], master_words[TK_MASTER_WORDS];
	int rc;

	memcpy(key_words, keys, TICKET_KEYS_SIZE);
	rc = ticket_keys_derive(keys, (unsigned char *)master_words);
	if (rc == TLSD_OK)
		tk_write(tk, key_words, master_words);
	if (rc == TLSD_OK && generation != NULL)
		*generation = ticket_keys_generation(tk);
	gnutls_memset(key_words, 0, sizeof(key_words));
	gnutls_memset(master_words, 0, sizeof(master_words));
	return rc;
}

int ticket_keys_rotate(struct ticket_keys *tk, uint64_t *generation)
{
	unsigned char keys[TICKET_KEYS_SIZE];
	int rc = TLSD_ERR_INTERNAL;

	if (gnutls_rnd(GNUTLS_RND_KEY, keys, sizeof(keys)) == 0)
		rc = ticket_keys_set(tk, keys, generation);
	gnutls_memset(keys, 0, sizeof(keys));
	return rc;
}

int ticket_keys_create(const unsigned char *keys, struct ticket_keys **out)
{
	struct ticket_keys *tk;
	int rc;

	*out = NULL;
	tk = mmap(NULL, sizeof(*tk), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tk == MAP_FAILED)
		return TLSD_ERR_IO;
	memset(tk, 0, sizeof(*tk));
	tk->magic = TK_MAGIC;
	rc = keys != NULL ? ticket_keys_set(tk, keys, NULL) : ticket_keys_rotate(tk, NULL);
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
	struct tk_record snap;
	int rc = tk_read(tk, &snap);

	if (rc == TLSD_OK) {
		memcpy(keys, snap.keys, TICKET_KEYS_SIZE);
		*generation = snap.generation;
	}
	gnutls_memset(&snap, 0, sizeof(snap));
	return rc;
}

bool ticket_keys_refresh(const struct ticket_keys *tk, struct ticket_key_copy *copy)
{
	struct tk_record snap;
	bool changed = false;

	if (ticket_keys_generation(tk) == copy->generation)
		return false;
	if (tk_read(tk, &snap) == TLSD_OK) {
		memcpy(copy->master, snap.master, TICKET_MASTER_SIZE);
		copy->generation = snap.generation;
		changed = true;
	}
	gnutls_memset(&snap, 0, sizeof(snap));
	return changed;
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
