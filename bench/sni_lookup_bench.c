/* sni_lookup_bench.c - what thousands of SNI contexts cost a worker: the
 * refresh that mirrors the shared table, the first use of a context (its
 * credentials are loaded then), and the lookup per handshake, for 10 and
 * for 10,000 contexts side by side.
 *
 *   bench/sni_lookup_bench KEY.pem CERT.pem
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "common/config.h"
#include "common/sni_table.h"
#include "worker/sni_map.h"

#define LOOKUPS 1000000
#define FIRST_USES 1000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* fake_config: <n> contexts "h<i>.example.com" sharing one key pair, and
 * <n> / 100 wildcards "*.w<i>.example.com". */
static void fake_config(struct tlsd_config *cfg, size_t n, struct tlsd_pem *key, struct tlsd_pem *cert)
{
	size_t wild = n / 100 + 1;

	config_init(cfg);
	cfg->contexts = calloc(n + wild, sizeof(*cfg->contexts));
	cfg->n_contexts = n + wild;
	for (size_t i = 0; i < n + wild; i++) {
		char name[64];

		if (i < n)
			snprintf(name, sizeof(name), "h%zu.example.com", i);
		else
			snprintf(name, sizeof(name), "*.w%zu.example.com", i - n);
		cfg->contexts[i].hostname = strdup(name);
		cfg->contexts[i].keys = (struct tlsd_pem_list){ key, 1 };
		cfg->contexts[i].certs = (struct tlsd_pem_list){ cert, 1 };
	}
}

static void run(size_t n, const char *key_path, const char *cert_path)
{
	struct tlsd_pem key = { (char *)key_path, NULL }, cert = { (char *)cert_path, NULL };
	struct tlsd_config cfg;
	struct sni_table *table = NULL;
	struct sni_map *map = NULL;
	size_t hits = 0, first_uses = n < FIRST_USES ? n : FIRST_USES;
	double t0, t_refresh, t_first, t_lookup;
	char name[64];
	int series;

	fake_config(&cfg, n, &key, &cert);
	if (sni_table_create(SNI_TABLE_CAPACITY, &table) < 0 || sni_map_new(table, &cfg, NULL, &map) < 0)
		exit(1);
	for (size_t i = 0; i < cfg.n_contexts; i++)
		sni_table_write(table, (uint32_t)i, cfg.contexts[i].hostname, i + 1, (int32_t)i);
	t0 = now_s();
	sni_map_refresh(map);
	t_refresh = now_s() - t0;

	t0 = now_s();
	for (size_t i = 0; i < first_uses; i++) {
		snprintf(name, sizeof(name), "h%zu.example.com", i);
		sni_creds_release(sni_map_acquire(map, name, &series));
	}
	t_first = now_s() - t0;

	t0 = now_s();
	for (size_t i = 0; i < LOOKUPS; i++) {
		struct sni_creds *c;

		/* a loaded exact name, a wildcard, a miss, in turn */
		if (i % 3 == 0)
			snprintf(name, sizeof(name), "H%zu.Example.com", i % first_uses);
		else if (i % 3 == 1)
			snprintf(name, sizeof(name), "x.w0.example.com");
		else
			snprintf(name, sizeof(name), "nobody%zu.example.org", i);
		c = sni_map_acquire(map, name, &series);
		hits += c != NULL;
		sni_creds_release(c);
	}
	t_lookup = now_s() - t0;
	printf("%6zu contexts: refresh %.2f ms; first use %.0f us each (credentials loaded); "
	       "lookup %.0f ns (%zu of %d matched)\n", cfg.n_contexts, t_refresh * 1e3,
	       t_first / (double)first_uses * 1e6,
	       t_lookup / LOOKUPS * 1e9, hits, LOOKUPS);
	sni_map_free(map);
	sni_table_destroy(table);
	for (size_t i = 0; i < cfg.n_contexts; i++)
		free(cfg.contexts[i].hostname);
	free(cfg.contexts);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s KEY.pem CERT.pem\n", argv[0]);
		return 2;
	}
	gnutls_global_init();
	run(10, argv[1], argv[2]);
	run(10000, argv[1], argv[2]);
	gnutls_global_deinit();
	return 0;
}
