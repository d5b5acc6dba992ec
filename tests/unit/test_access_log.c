/* test_access_log.c - logfmt quoting of text access-log values, and the
 * lines of both formats: the same keys, one line each, whatever a value
 * holds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "worker/access_log.c"

/* quoted: <value> through access_log_logfmt_value into a buffer of <size>. */
static const char *quoted(const char *value, size_t size)
{
	static char buf[512];

	assert_true(size <= sizeof(buf));
	memset(buf, 'Z', sizeof(buf));
	buf[0] = '\0';
	size_t len = access_log_logfmt_value(buf, 0, size, value);
	assert_true(len < size);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static void test_bare(void **state)
{
	assert_string_equal(quoted("localhost", 64), "localhost");
	assert_string_equal(quoted("TLS_AES_256_GCM_SHA384", 64), "TLS_AES_256_GCM_SHA384");
	assert_string_equal(quoted("127.0.0.1:5555", 64), "127.0.0.1:5555");
	assert_string_equal(quoted("[::1]:5555", 64), "[::1]:5555");
	assert_string_equal(quoted("http/1.1", 64), "http/1.1");
	/* Absent: a bare dash; the value "-" itself is quoted, so it is not
	 * taken for absent. */
	assert_string_equal(quoted(NULL, 64), "-");
	assert_string_equal(quoted("-", 64), "\"-\"");
	assert_string_equal(quoted("", 64), "\"\"");
}

static void test_quoted(void **state)
{
	assert_string_equal(quoted("Illegal parameter", 64), "\"Illegal parameter\"");
	assert_string_equal(quoted("a=b", 64), "\"a=b\"");
	assert_string_equal(quoted("say \"hi\"", 64), "\"say \\\"hi\\\"\"");
	assert_string_equal(quoted("back\\slash", 64), "\"back\\\\slash\"");
	assert_string_equal(quoted("two\nlines\r\tx", 64), "\"two\\nlines\\r\\tx\"");
	assert_string_equal(quoted("\x01\x1f\x7f", 64), "\"\\x01\\x1f\\x7f\"");
	/* Bytes over 0x7e are escaped: the line stays ASCII. */
	assert_string_equal(quoted("caf\xc3\xa9", 64), "\"caf\\xc3\\xa9\"");
	assert_string_equal(quoted("x\" event=forged y=\"", 64), "\"x\\\" event=forged y=\\\"\"");
}

static void test_cut(void **state)
{
	/* A value that does not fit is cut at an escape, and closed. */
	assert_string_equal(quoted("a b c d", 6), "\"a b\"");
	assert_string_equal(quoted("\n\n\n", 7), "\"\\n\\n\"");
	assert_string_equal(quoted("\x01\x01", 8), "\"\\x01\"");
	assert_string_equal(quoted("a b", 3), "\"\"");
	assert_string_equal(quoted("abcdef", 4), "abc");
	/* Appended after what the buffer holds. */
	char buf[32] = "k=";
	size_t len = access_log_logfmt_value(buf, 2, sizeof(buf), "v w");
	assert_string_equal(buf, "k=\"v w\"");
	assert_int_equal(len, 7);
}

/* capture: write one line with <fn> in <format>, return what came out. */
static char *capture(enum tlsd_log_format format, void (*fn)(const struct access_log *))
{
	static char out[8192];
	int fds[2];
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	struct access_log log = { .fd = fds[1], .format = format, .worker = 4242 };
	fn(&log);
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	assert_true(n > 0);
	out[n] = '\0';
	return out;
}

static struct tls_info hostile_info(void)
{
	struct tls_info t = { .protocol = "TLSv1.3", .cipher = "TLS_AES_128_GCM_SHA256", .resumed = true };

	snprintf(t.servername, sizeof(t.servername), "%s", "evil\n2026 close id=1.1");
	snprintf(t.alpn, sizeof(t.alpn), "%s", "a b=\"c\"");
	return t;
}

static void write_close(const struct access_log *log)
{
	struct tls_info t = hostile_info();
	struct access_close e = { .id = 7, .client = "127.0.0.1:5555", .tls = &t, .bytes_in = 5,
				  .bytes_out = 6, .duration_ms = 12, .reason = "client-close" };

	access_log_close(log, &e);
}

static void write_client_error(const struct access_log *log)
{
	struct access_client_error e = { .id = 8, .client = "127.0.0.1:6666", .error = "A \"bad\" hello.",
					 .alert = "Illegal parameter", .duration_ms = 3,
					 .reason = "handshake-failed" };

	access_log_client_error(log, &e);
}

/* keys_of_text: the keys of a logfmt line, space-separated. Values are
 * skipped by the quoting rules; an unquoted value must hold no quote. */
static void keys_of_text(const char *line, char *keys, size_t size)
{
	const char *p = line;

	keys[0] = '\0';
	while (*p != '\0' && *p != '\n') {
		const char *eq = strchr(p, '=');

		assert_non_null(eq);
		strncat(keys, p, (size_t)(eq - p));
		strncat(keys, " ", size - strlen(keys) - 1);
		p = eq + 1;
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				assert_true(*p != '\0' && *p != '\n');
				if (*p == '\\')
					p++;
			}
			p++;
		} else {
			while (*p != ' ' && *p != '\n' && *p != '\0')
				assert_true(*p++ != '"');
		}
		if (*p == ' ')
			p++;
	}
	assert_string_equal(p, "\n");
}

/* keys_of_json: the keys of a JSON line, in order, space-separated. */
static void keys_of_json(const char *line, char *keys, size_t size)
{
	json_error_t error;
	json_t *obj = json_loads(line, 0, &error);
	const char *key;
	json_t *value;

	assert_non_null(obj);
	keys[0] = '\0';
	json_object_foreach(obj, key, value) {
		strncat(keys, key, size - strlen(keys) - 1);
		strncat(keys, " ", size - strlen(keys) - 1);
	}
	json_decref(obj);
}

static void test_close_line(void **state)
{
	char text_keys[512], json_keys[512];
	const char *text = capture(TLSD_LOG_TEXT, write_close);

	assert_int_equal(strchr(text, '\n') - text + 1, (long)strlen(text));
	assert_non_null(strstr(text, " event=close id=4242.7 worker=4242 client=127.0.0.1:5555 "
				     "servername=\"evil\\n2026 close id=1.1\" alpn=\"a b=\\\"c\\\"\" "
				     "protocol=TLSv1.3 cipher=TLS_AES_128_GCM_SHA256 resumed=true authorized=false "
				     "authorizationError=- bytesIn=5 bytesOut=6 durationMs=12 closeReason=client-close\n"));
	assert_int_equal(strncmp(text, "time=", 5), 0);
	keys_of_text(text, text_keys, sizeof(text_keys));

	const char *json = capture(TLSD_LOG_JSON, write_close);
	json_t *obj = json_loads(json, 0, NULL);
	assert_non_null(obj);
	assert_string_equal(json_string_value(json_object_get(obj, "id")), "4242.7");
	assert_string_equal(json_string_value(json_object_get(obj, "servername")), "evil\n2026 close id=1.1");
	assert_true(json_is_null(json_object_get(obj, "authorizationError")));
	json_decref(obj);
	keys_of_json(json, json_keys, sizeof(json_keys));
	assert_string_equal(text_keys, json_keys);
	assert_string_equal(json_keys, "time event id worker client servername alpn protocol cipher resumed "
				       "authorized authorizationError bytesIn bytesOut durationMs closeReason ");
}

static void test_client_error_line(void **state)
{
	char text_keys[512], json_keys[512];
	const char *text = capture(TLSD_LOG_TEXT, write_client_error);

	assert_non_null(strstr(text, " event=clientError id=4242.8 worker=4242 client=127.0.0.1:6666 "
				     "error=\"A \\\"bad\\\" hello.\" alert=\"Illegal parameter\" "
				     "authorizationError=- durationMs=3 closeReason=handshake-failed\n"));
	keys_of_text(text, text_keys, sizeof(text_keys));
	keys_of_json(capture(TLSD_LOG_JSON, write_client_error), json_keys, sizeof(json_keys));
	assert_string_equal(text_keys, json_keys);
	assert_string_equal(json_keys, "time event id worker client error alert authorizationError durationMs "
				       "closeReason ");
}

static void write_not_utf8(const struct access_log *log)
{
	struct tls_info t = { .protocol = "TLSv1.2", .cipher = "x" };
	struct access_close e = { .id = 1, .client = "c", .tls = &t, .reason = "r" };

	snprintf(t.servername, sizeof(t.servername), "%s", "\xff\xfe");
	access_log_close(log, &e);
}

/* jansson refuses strings that are not UTF-8: the JSON line still comes,
 * with the text format's escapes in the value. */
static void test_json_not_utf8(void **state)
{
	json_t *obj = json_loads(capture(TLSD_LOG_JSON, write_not_utf8), 0, NULL);

	assert_non_null(obj);
	assert_string_equal(json_string_value(json_object_get(obj, "servername")), "\\xff\\xfe");
	json_decref(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_close_line),
		cmocka_unit_test(test_client_error_line),
		cmocka_unit_test(test_json_not_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
