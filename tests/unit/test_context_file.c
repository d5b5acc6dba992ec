/* test_context_file.c - runtime context file names fit any DNS name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/context_file.h"

/* name_of(n, wildcard): a DNS name of <n> characters ("*." first when
 * <wildcard>): labels of 63 "a"s, then the rest, ending in ".com". */
static void name_of(size_t n, bool wildcard, char *out)
{
	size_t i = 0;

	if (wildcard) {
		out[i++] = '*';
		out[i++] = '.';
	}
	while (i < n - 4) {
		out[i] = ((i + 1) % 64 == 0) ? '.' : 'a';
		i++;
	}
	if (out[i - 1] == '.')
		out[i - 1] = 'b';
	strcpy(out + i, ".com");
}

static void test_short_names_stay_readable(void **state)
{
	char name[300];

	context_file_name("a.example.com", name, sizeof(name));
	assert_string_equal(name, "a.example.com.json");
	context_file_name("*.example.com", name, sizeof(name));
	assert_string_equal(name, "%2A.example.com.json");
	context_file_name("*", name, sizeof(name));	/* the default context */
	assert_string_equal(name, "%2A.json");
}

static void test_names_never_pass_255_bytes(void **state)
{
	char host[300], name[300], again[300];

	for (size_t n = 240; n <= 253; n++) {
		for (int w = 0; w <= 1; w++) {
			name_of(n, w, host);
			assert_int_equal(strlen(host), n);
			context_file_name(host, name, sizeof(name));
			assert_true(strlen(name) <= 255);
			context_file_name(host, again, sizeof(again));
			assert_string_equal(name, again);
		}
	}
	name_of(250, false, host);
	context_file_name(host, name, sizeof(name));
	assert_int_equal(strlen(name), 255);	/* still fits: kept readable */
	assert_memory_equal(name, host, 250);
	name_of(251, false, host);
	context_file_name(host, name, sizeof(name));
	assert_int_equal(strncmp(name, "h-", 2), 0);
	assert_int_equal(strlen(name), 2 + 64 + 5);
}

static void test_hashed_names_differ(void **state)
{
	char a[300], b[300], na[300], nb[300];

	name_of(253, false, a);
	strcpy(b, a);
	b[0] = 'z';
	context_file_name(a, na, sizeof(na));
	context_file_name(b, nb, sizeof(nb));
	assert_string_not_equal(na, nb);
}

static void test_253_characters_saved_and_removed(void **state)
{
	char dir[64] = "/tmp/tlsd-ctxfile-XXXXXX", host[300], path[4096], cmd[128];
	struct tlsd_error err = { "" };
	json_t *body, *doc;

	assert_non_null(mkdtemp(dir));
	name_of(253, false, host);
	body = json_pack("{s:s}", "hostname", host);
	assert_int_equal(context_file_save(dir, host, 7, body, &err), TLSD_OK);
	context_file_path(dir, host, path, sizeof(path));
	doc = json_load_file(path, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "context"), "hostname")), host);
	json_decref(doc);
	assert_int_equal(context_file_remove(dir, host, &err), TLSD_OK);
	assert_int_equal(access(path, F_OK), -1);
	json_decref(body);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_names_stay_readable),
		cmocka_unit_test(test_names_never_pass_255_bytes),
		cmocka_unit_test(test_hashed_names_differ),
		cmocka_unit_test(test_253_characters_saved_and_removed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
