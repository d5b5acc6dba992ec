/* api_ciphers.c - the suites tlsd can negotiate, named as Node's
 * tls.getCiphers() names them: the "ciphers" set (common/ciphers.h), or
 * the suites a native GnuTLS "priority" enables. */
#include "ctl/api_ciphers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "common/ciphers.h"

/* version_enabled: whether <pc> enables a TLS version that can carry a suite
 * defined from version <min> on: TLS 1.3 suites only TLS 1.3, the others
 * only <min> up to TLS 1.2. (GnuTLS lists TLS 1.2 suites when TLS 1.2 is
 * off but an older version is on.) */
static bool version_enabled(gnutls_priority_t pc, gnutls_protocol_t min)
{
	const unsigned int *vers;
	int n = gnutls_priority_protocol_list(pc, &vers);

	for (int i = 0; i < n; i++) {
		if (min == GNUTLS_TLS1_3 ? vers[i] == GNUTLS_TLS1_3
					 : vers[i] >= (unsigned)min && vers[i] <= GNUTLS_TLS1_2)
			return true;
	}
	return false;
}

/* node_name: <name> lowercased, as a JSON string (NULL: no memory). */
static json_t *node_name(const char *name)
{
	char *lower = strdup(name);
	json_t *s;

	if (lower == NULL)
		return NULL;
	for (char *p = lower; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	s = json_string(lower);
	free(lower);
	return s;
}

/* append_suite: add GnuTLS suite <sidx> to <list> if <pc> enables a
 * version for it. Returns 0, or -1 when out of memory. */
static int append_suite(json_t *list, gnutls_priority_t pc, unsigned int sidx)
{
	unsigned char id[2];
	gnutls_protocol_t min = GNUTLS_VERSION_UNKNOWN;
	const char *gname = gnutls_cipher_suite_info(sidx, id, NULL, NULL, NULL, &min);
	const char *name;

	if (gname == NULL || !version_enabled(pc, min))
		return 0;
	name = ciphers_openssl_name(id[0], id[1]);
	return json_array_append_new(list, node_name(name ? name : gname));
}

json_t *api_ciphers_list(const char *priority)
{
	gnutls_priority_t pc = NULL;
	json_t *list = json_array();
	json_t *result = NULL;
	unsigned int sidx;
	int rc;

	if (list == NULL || gnutls_priority_init(&pc, priority, NULL) < 0)
		goto out;
	for (unsigned int i = 0;; i++) {
		rc = gnutls_priority_get_cipher_suite_index(pc, i, &sidx);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc < 0)	/* a suite this GnuTLS build cannot run, or no version for it */
			continue;
		if (append_suite(list, pc, sidx) < 0)
			goto out;
	}
	result = list;
	list = NULL;
out:
	if (pc != NULL)
		gnutls_priority_deinit(pc);
	json_decref(list);
	return result;
}

/* set_list: the "ciphers" set of <cfg>, as ciphers_select reads it (the
 * set the workers enforce), in its order; NULL on error. */
static json_t *set_list(const struct tlsd_config *cfg)
{
	struct tlsd_priority_opts opts = {
		.ciphers = cfg->ciphers, .min_version = cfg->min_version, .max_version = cfg->max_version,
		.secure_protocol = cfg->secure_protocol, .ecdh_curve = cfg->ecdh_curve,
		.honor_cipher_order = cfg->honor_cipher_order,
	};
	struct ciphers_set *set = malloc(sizeof(*set));
	struct tlsd_error err = { "" };
	json_t *list = NULL;

	if (set == NULL || ciphers_select(&opts, set, &err) < 0 || (list = json_array()) == NULL)
		goto out;
	for (size_t i = 0; i < set->n; i++) {
		if (json_array_append_new(list, node_name(set->v[i].name)) < 0) {
			json_decref(list);
			list = NULL;
			goto out;
		}
	}
out:
	free(set);
	return list;
}

void api_ciphers_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply)
{
	json_t *list = env->cfg->priority == NULL ? set_list(env->cfg) : json_incref(env->ciphers);

	if (list == NULL)
		api_reply_error(reply, 500, "internal", "cannot list the cipher suites of the priority in use");
	else
		api_reply_json(reply, 200, list);
}
