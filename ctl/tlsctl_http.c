/* tlsctl_http.c - libcurl easy handle per request. */
#include "ctl/tlsctl_http.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

/* A connections listing of many workers runs to megabytes; more than this
 * is not a tlsd answer. */
#define REPLY_MAX (256u * 1024 * 1024)
#define CONNECT_TIMEOUT_MS 3000L

struct sink {
	char *data;
	size_t len;
	bool too_large;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata)
{
	struct sink *s = userdata;
	size_t add = size * n;
	char *grown;

	if (s->len + add > REPLY_MAX) {
		s->too_large = true;
		return 0;	/* ends the transfer */
	}
	grown = realloc(s->data, s->len + add + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + s->len, ptr, add);
	s->len += add;
	grown[s->len] = '\0';
	s->data = grown;
	return add;
}

/* append: <list> with <line> added; on failure the list is freed and
 * NULL returned (curl_slist_append keeps it). */
static struct curl_slist *append(struct curl_slist *list, const char *line)
{
	struct curl_slist *grown = curl_slist_append(list, line);

	if (grown == NULL)
		curl_slist_free_all(list);
	return grown;
}

/* headers_for: the request's header list (NULL when out of memory). */
static struct curl_slist *headers_for(const struct tlsctl_target *t, const char *body)
{
	struct curl_slist *list = append(NULL, "Accept: application/json");
	char auth[TLSCTL_TOKEN_MAX + 32];

	if (list != NULL && body != NULL)
		list = append(list, "Content-Type: application/json");
	if (list != NULL && t->token[0] != '\0') {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t->token);
		list = append(list, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	return list;
}

static void set_options(CURL *h, const struct tlsctl_target *t, const char *method, const char *url,
			const char *body, struct curl_slist *headers, struct sink *s)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROXY, "");	/* never http_proxy: the endpoint is local */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, t->timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	if (t->unix_path[0] != '\0')
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, t->unix_path);
	if (body != NULL || strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body != NULL ? strlen(body) : 0));
	}
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
}

static const char *where(const struct tlsctl_target *t)
{
	return t->unix_path[0] != '\0' ? t->unix_path : t->base_url;
}

int tlsctl_request(const struct tlsctl_target *t, const char *method, const char *path, const char *body,
		   struct tlsctl_reply *reply, struct tlsd_error *err)
{
	struct sink s = { NULL, 0, false };
	struct curl_slist *headers = headers_for(t, body);
	CURL *h = curl_easy_init();
	char url[1024 + 300];
	CURLcode cc;
	int rc = TLSD_OK;

	memset(reply, 0, sizeof(*reply));
	if (h == NULL || headers == NULL) {
		rc = tlsd_error_set(err, TLSD_ERR_INTERNAL, "libcurl: cannot set up a request");
		goto out;
	}
	snprintf(url, sizeof(url), "%s%s", t->base_url, path);
	set_options(h, t, method, url, body, headers, &s);
	cc = curl_easy_perform(h);
	if (s.too_large)
		rc = tlsd_error_set(err, TLSD_ERR_PROTO, "%s: the answer is over %u bytes", where(t), REPLY_MAX);
	else if (cc != CURLE_OK)
		rc = tlsd_error_set(err, TLSD_ERR_IO, "%s: %s", where(t), curl_easy_strerror(cc));
	if (rc < 0)
		goto out;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply->status);
	reply->body = s.data != NULL ? s.data : strdup("");
	reply->len = s.len;
	s.data = NULL;
out:
	free(s.data);
	curl_slist_free_all(headers);	/* the token's copy goes with it */
	if (h != NULL)
		curl_easy_cleanup(h);
	return rc;
}

void tlsctl_reply_free(struct tlsctl_reply *reply)
{
	free(reply->body);
	reply->body = NULL;
	reply->len = 0;
}

char *tlsctl_escape(const char *text)
{
	char *curl_copy = curl_easy_escape(NULL, text, 0);
	char *copy = curl_copy != NULL ? strdup(curl_copy) : NULL;

	curl_free(curl_copy);
	return copy;
}
