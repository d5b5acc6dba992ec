/* test_file_read.c - regular files only, bounded, never blocking. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_read.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/tlsd-read-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void make_file(const char *path, size_t size)
{
	FILE *out = fopen(path, "w");

	assert_non_null(out);
	for (size_t i = 0; i < size; i++)
		fputc('a' + (int)(i % 26), out);
	fclose(out);
}

static void assert_refused(const char *path, int flags, const char *why)
{
	struct tlsd_error err = { "" };
	char *data = (char *)1;
	size_t len = 1;

	assert_int_equal(file_read(path, flags, &data, &len, &err), TLSD_ERR_CONFIG);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, why));
}

static void test_reads_whole_file_nul_terminated(void **state)
{
	struct tlsd_error err = { "" };
	char path[128], *data = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/f", dir);
	make_file(path, 30);
	assert_int_equal(file_read(path, 0, &data, &len, &err), TLSD_OK);
	assert_int_equal(len, 30);
	assert_int_equal(data[30], '\0');
	assert_memory_equal(data, "abcdefghijklmnopqrstuvwxyzabcd", 30);
	file_read_free(data, len);
}

static void test_size_cap_is_one_mib(void **state)
{
	struct tlsd_error err = { "" };
	char path[128], *data = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/max", dir);
	make_file(path, FILE_READ_MAX);
	assert_int_equal(file_read(path, 0, &data, &len, &err), TLSD_OK);
	assert_int_equal(len, FILE_READ_MAX);
	file_read_free(data, len);
	make_file(path, FILE_READ_MAX + 1);
	assert_refused(path, 0, "larger than 1 MiB");
}

static void test_fifo_refused_without_blocking(void **state)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);	/* a blocking open would hang here: fail instead */
	assert_refused(path, 0, "not a regular file");
	alarm(0);
}

static void test_devices_and_folders_refused(void **state)
{
	assert_refused("/dev/zero", 0, "not a regular file");
	assert_refused("/dev/null", 0, "not a regular file");
	assert_refused(dir, 0, "not a regular file");
}

static void test_missing_and_nofollow(void **state)
{
	char path[128], link[128];

	snprintf(path, sizeof(path), "%s/none", dir);
	assert_refused(path, 0, "No such file");
	snprintf(path, sizeof(path), "%s/target", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	make_file(path, 3);
	assert_int_equal(symlink(path, link), 0);
	assert_refused(link, O_NOFOLLOW, "a symbolic link (refused)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_whole_file_nul_terminated),
		cmocka_unit_test(test_size_cap_is_one_mib),
		cmocka_unit_test(test_fifo_refused_without_blocking),
		cmocka_unit_test(test_devices_and_folders_refused),
		cmocka_unit_test(test_missing_and_nofollow),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
