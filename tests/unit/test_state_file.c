/* test_state_file.c - private, exclusive writes and the state dir gate. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/state_file.h"

struct fixture {
	char dir[64];
	char path[128];
	char victim[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/tlsd-state-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/ticket-keys", f->dir);
	snprintf(f->victim, sizeof(f->victim), "%s.victim", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", f->dir, f->victim);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *out = fopen(path, "w");

	assert_non_null(out);
	fputs(text, out);
	fclose(out);
	assert_int_equal(chmod(path, mode), 0);
}

static void assert_file_is(const char *path, const char *want)
{
	char got[256] = "";
	FILE *in = fopen(path, "r");

	assert_non_null(in);
	got[fread(got, 1, sizeof(got) - 1, in)] = '\0';
	fclose(in);
	assert_string_equal(got, want);
}

/* The temporary name of the old code, <path>.tmp.<pid>, planted as a link
 * to a file of someone else: the write must not go through it. */
static void test_write_ignores_planted_temporary(void **state)
{
	struct fixture *f = *state;
	struct tlsd_error err = { "" };
	char planted[200];
	struct stat st;

	write_text(f->victim, "precious", 0644);
	snprintf(planted, sizeof(planted), "%s.tmp.%d", f->path, (int)getpid());
	assert_int_equal(symlink(f->victim, planted), 0);
	assert_int_equal(state_file_write(f->path, "keys", 4, &err), TLSD_OK);
	assert_file_is(f->victim, "precious");
	assert_file_is(f->path, "keys");
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_write_replaces_and_leaves_no_temporary(void **state)
{
	struct fixture *f = *state;
	struct tlsd_error err = { "" };
	char cmd[200];

	assert_int_equal(state_file_write(f->path, "one", 3, &err), TLSD_OK);
	assert_int_equal(state_file_write(f->path, "two", 3, &err), TLSD_OK);
	assert_file_is(f->path, "two");
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", f->dir);
	assert_int_equal(system(cmd), 0);
}

static void test_check_accepts_private_and_absent(void **state)
{
	struct fixture *f = *state;
	struct tlsd_error err = { "" };
	char absent[128];

	assert_int_equal(state_dir_make(f->dir, "contexts", &err), TLSD_OK);
	assert_int_equal(state_file_write(f->path, "k", 1, &err), TLSD_OK);
	assert_int_equal(state_dir_check(f->dir, &err), TLSD_OK);
	snprintf(absent, sizeof(absent), "%s/not-yet", f->dir);
	assert_int_equal(state_dir_check(absent, &err), TLSD_OK);
}

static void test_check_refuses_open_folder(void **state)
{
	struct fixture *f = *state;
	struct tlsd_error err = { "" };

	assert_int_equal(chmod(f->dir, 0777), 0);
	assert_int_equal(state_dir_check(f->dir, &err), TLSD_ERR_CONFIG);
	assert_non_null(strstr(err.msg, f->dir));
	assert_non_null(strstr(err.msg, "writable by group or others (mode 0777)"));
}

static void test_check_refuses_open_file_and_link(void **state)
{
	struct fixture *f = *state;
	struct tlsd_error err = { "" };
	char sub[160];

	assert_int_equal(state_dir_make(f->dir, "contexts", &err), TLSD_OK);
	snprintf(sub, sizeof(sub), "%s/contexts/a.json", f->dir);
	write_text(sub, "{}", 0620);
	assert_int_equal(state_dir_check(f->dir, &err), TLSD_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "contexts/a.json: writable by group or others"));
	assert_int_equal(unlink(sub), 0);
	write_text(f->victim, "x", 0600);
	assert_int_equal(symlink(f->victim, f->path), 0);
	assert_int_equal(state_dir_check(f->dir, &err), TLSD_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "ticket-keys: a symbolic link"));
}

/* Ownership by another user: only root can hand a file to someone else. */
static void test_check_refuses_foreign_owner(void **state)
{
	struct fixture *f = *state;
	struct tlsd_error err = { "" };

	if (geteuid() != 0)
		skip();
	write_text(f->path, "k", 0600);
	assert_int_equal(chown(f->path, 65534, 65534), 0);
	assert_int_equal(state_dir_check(f->dir, &err), TLSD_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "owned by uid 65534, not by the user tlsd runs as (uid 0)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_ignores_planted_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_replaces_and_leaves_no_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_accepts_private_and_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_refuses_open_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_refuses_open_file_and_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_refuses_foreign_owner, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
