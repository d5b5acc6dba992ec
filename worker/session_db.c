/* session_db.c - GnuTLS session database hooks over the shared cache. */
#include "worker/session_db.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

/* Stored blob: one byte of context length, the context, the session. */
#define SESSION_DB_CONTEXT_MAX 32

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static int db_store(void *ptr, gnutls_datum_t key, gnutls_datum_t data)
{
	const struct session_db_binding *b = ptr;
	const struct session_db *db = b->db;
	uint8_t blob[SESSION_CACHE_DATA_MAX];
	size_t clen = strlen(db->context);
	time_t expires = gnutls_db_check_entry_expire_time(&data);

	if (1 + clen + data.size > sizeof(blob) || clen > SESSION_DB_CONTEXT_MAX)
		return -1;
	blob[0] = (uint8_t)clen;
	memcpy(blob + 1, db->context, clen);
	memcpy(blob + 1 + clen, data.data, data.size);
	if (b->store != NULL)
		session_store_put(b->store, key.data, key.size, blob, 1 + clen + data.size, (int64_t)expires);
	return session_cache_store(db->cache, key.data, key.size, blob, 1 + clen + data.size,
				   (int64_t)expires, now_s()) < 0 ? -1 : 0;
}

static gnutls_datum_t db_fetch(void *ptr, gnutls_datum_t key)
{
	struct session_db_binding *b = ptr;
	const struct session_db *db = b->db;
	uint8_t blob[SESSION_CACHE_DATA_MAX];
	size_t len = 0, clen = strlen(db->context);
	gnutls_datum_t out = { NULL, 0 };

	if (session_cache_fetch(db->cache, key.data, key.size, now_s(), blob, sizeof(blob), &len) < 0)
		return out;
	/* A session from another sessionIdContext does not resume here. */
	if (len < 1 + clen || blob[0] != clen || memcmp(blob + 1, db->context, clen) != 0)
		return out;
	out.data = gnutls_malloc(len - 1 - clen);
	if (out.data == NULL)
		return out;
	memcpy(out.data, blob + 1 + clen, len - 1 - clen);
	out.size = (unsigned)(len - 1 - clen);
	b->hit = true;
	return out;
}

static int db_remove(void *ptr, gnutls_datum_t key)
{
	const struct session_db *db = ((struct session_db_binding *)ptr)->db;

	return session_cache_remove(db->cache, key.data, key.size) < 0 ? -1 : 0;
}

void session_db_bind(gnutls_session_t s, struct session_db_binding *b)
{
	b->hit = false;
	if (b->db->cache == NULL)
		return;
	gnutls_db_set_retrieve_function(s, db_fetch);
	gnutls_db_set_store_function(s, db_store);
	gnutls_db_set_remove_function(s, db_remove);
	gnutls_db_set_ptr(s, b);
}
