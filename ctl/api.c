/* api.c - replies and request bodies for the control API handlers. */
#include "ctl/api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_reply_json(struct api_reply *reply, int status, json_t *json)
{
	api_reply_free(reply);
	reply->status = status;
	reply->json = json;
}

void api_reply_text(struct api_reply *reply, int status, const char *content_type, const char *text)
{
	api_reply_free(reply);
	reply->status = status;
	reply->text = strdup(text);
	reply->content_type = content_type;
}

void api_reply_error(struct api_reply *reply, int status, const char *code, const char *fmt, ...)
{
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	api_reply_json(reply, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message));
}

static bool api_field_allowed(const char *key, const char *const *allowed)
{
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (strcmp(key, allowed[i]) == 0)
			return true;
	return false;
}

json_t *api_body_object(const struct api_request *req, const char *const *allowed, struct api_reply *reply)
{
	json_error_t jerr;
	json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	const char *key;
	json_t *value;

	if (body == NULL) {
		api_reply_error(reply, 400, "bad_json", "body: not JSON (%s at line %d, column %d)", jerr.text,
				jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(body)) {
		api_reply_error(reply, 400, "bad_json", "body: must be a JSON object");
		json_decref(body);
		return NULL;
	}
	json_object_foreach(body, key, value) {
		if (!api_field_allowed(key, allowed)) {
			api_reply_error(reply, 400, "unknown_field", "%s: unknown field", key);
			json_decref(body);
			return NULL;
		}
	}
	return body;
}

void api_reply_free(struct api_reply *reply)
{
	json_decref(reply->json);
	free(reply->text);
	reply->json = NULL;
	reply->text = NULL;
}
