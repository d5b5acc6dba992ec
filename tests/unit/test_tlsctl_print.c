/* test_tlsctl_print.c - tlsctl's stats output from /v1/stats answers: the
 * backend lines only in backend mode, the context table only when a
 * context is named or a series counted something, workers' exits as their
 * nonzero causes, and an answer that lacks the newer members still
 * printing. Build with -fsanitize=address to check that nothing leaks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "ctl/tlsctl_print.c"

#define TOTALS \
	"\"uptime_s\": 5, " \
	"\"connections\": {\"current\": 0, \"total\": 3, \"rejected\": 0, \"accept_paused\": 0}, " \
	"\"handshakes\": {\"full\": 3, \"resumed\": 0, \"resumed_session_id\": 0, \"resumed_ticket\": 0, " \
	"\"failed\": 0, \"timeout\": 0, \"by_version\": {\"TLSv1.2\": 0, \"TLSv1.3\": 3}}, " \
	"\"bytes\": {\"in\": 15, \"out\": 15}, " \
	"\"session_cache\": {\"entries\": 0, \"capacity\": 20480, \"hits\": 0, \"misses\": 0, \"evictions\": 0}, " \
	"\"ticket_keys\": {\"generation\": 1, \"not_found\": 0}, " \
	"\"renegotiations\": {\"accepted\": 0, \"refused\": 0}, "

#define TOTALS_TEXT \
	"uptime          5 s\n" \
	"connections     0 open, 3 total, 0 rejected, 0 accept pauses\n" \
	"handshakes      3 full, 0 resumed (0 session id, 0 ticket), 0 failed, 0 timed out\n" \
	"by version      TLSv1.2 0, TLSv1.3 3\n" \
	"bytes           15 in, 15 out\n" \
	"session cache   0 of 20480 entries, 0 hits, 0 misses, 0 evictions\n" \
	"ticket keys     generation 1, 0 not found\n" \
	"renegotiations  0 accepted, 0 refused\n"

#define NO_EXITS "{\"signal\": 0, \"exit\": 0, \"config\": 0, \"clean\": 0}"
#define ECHO_BACKEND \
	"\"backend\": {\"reachable\": null, \"connects\": 0, " \
	"\"connect_failures\": {\"refused\": 0, \"timeout\": 0, \"unreachable\": 0, \"error\": 0}, " \
	"\"tls\": {\"full\": 0, \"resumed\": 0, \"failures\": {\"expired\": 0, \"unknown_ca\": 0, " \
	"\"name_mismatch\": 0, \"bad_certificate\": 0, \"handshake\": 0}}}, "
#define NO_LOCK_RECOVERIES \
	"\"lock_recoveries\": {\"connection_limit\": 0, \"session_cache\": 0, \"connection_list\": 0}"
#define SERIES(host, current, full, failed, in) \
	"{\"hostname\": \"" host "\", \"connections\": {\"current\": " #current "}, " \
	"\"handshakes\": {\"full\": " #full ", \"resumed\": 0, \"resumed_session_id\": 0, " \
	"\"resumed_ticket\": 0, \"failed\": " #failed ", \"timeout\": 0}, " \
	"\"bytes\": {\"in\": " #in ", \"out\": " #in "}}"

/* printed: what tlsctl_print_stats writes for the JSON <text> (malloc'd). */
static char *printed(const char *text)
{
	json_error_t jerr;
	json_t *stats = json_loads(text, 0, &jerr);
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (stats == NULL)
		fail_msg("the test's JSON: line %d: %s", jerr.line, jerr.text);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(tlsctl_print_stats(stats, f), 0);
	assert_int_equal(fclose(f), 0);
	json_decref(stats);
	return out;
}

static void test_echo_server_nobody_reached_is_short(void **state)
{
	char *out = printed("{" TOTALS "\"workers\": [{\"pid\": 41, \"connections\": 0, \"accepted\": 0, "
			    "\"restarts\": 0, \"exits\": " NO_EXITS "}], " ECHO_BACKEND NO_LOCK_RECOVERIES ", "
			    "\"contexts\": [" SERIES("*", 0, 0, 0, 0) ", " SERIES("other", 0, 0, 0, 0) "]}");

	assert_string_equal(out, TOTALS_TEXT
			    "lock recoveries 0 connection limit, 0 session cache, 0 connection list\n"
			    "\n"
			    "WORKER  PID  OPEN  ACCEPTED  RESTARTS  EXITS\n"
			    "1       41   0     0         0         none\n");
	free(out);
}

static void test_contexts_and_exits(void **state)
{
	char *out = printed("{" TOTALS "\"workers\": [{\"pid\": 41, \"connections\": 1, \"accepted\": 7, "
			    "\"restarts\": 3, \"exits\": {\"signal\": 2, \"exit\": 0, \"config\": 1, \"clean\": 0}}, "
			    "{\"pid\": 0, \"connections\": 0, \"accepted\": 2, \"restarts\": 0, \"exits\": " NO_EXITS "}], "
			    ECHO_BACKEND
			    "\"lock_recoveries\": {\"connection_limit\": 1, \"session_cache\": 2, \"connection_list\": 3}, "
			    "\"contexts\": [" SERIES("shop.example.com", 1, 12, 1, 1234) ", " SERIES("*", 0, 0, 0, 0)
			    ", " SERIES("other", 0, 3, 0, 5) "]}");

	assert_string_equal(out, TOTALS_TEXT
			    "lock recoveries 1 connection limit, 2 session cache, 3 connection list\n"
			    "\n"
			    "WORKER  PID  OPEN  ACCEPTED  RESTARTS  EXITS\n"
			    "1       41   1     7         3         2 signal, 1 config\n"
			    "2       0    0     2         0         none\n"
			    "\n"
			    "CONTEXT           OPEN  FULL  RESUMED  FAILED  TIMED OUT  BYTES IN  BYTES OUT\n"
			    "shop.example.com  1     12    0        1       0          1234      1234\n"
			    "*                 0     0     0        0       0          0         0\n"
			    "other             0     3     0        0       0          5         5\n");
	free(out);
}

static void test_a_named_context_shows_without_counts(void **state)
{
	char *out = printed("{" TOTALS "\"workers\": [], " ECHO_BACKEND NO_LOCK_RECOVERIES ", \"contexts\": ["
			    SERIES("a.example.com", 0, 0, 0, 0) ", " SERIES("*", 0, 0, 0, 0) ", "
			    SERIES("other", 0, 0, 0, 0) "]}");

	assert_non_null(strstr(out, "\nCONTEXT        OPEN  FULL  RESUMED  FAILED  TIMED OUT  BYTES IN  BYTES OUT\n"
				    "a.example.com  0     0     0        0       0          0         0\n"));
	free(out);
}

static void test_backend_lines(void **state)
{
	char *out = printed("{" TOTALS "\"workers\": [], " NO_LOCK_RECOVERIES ", "
			    "\"backend\": {\"reachable\": false, \"connects\": 9, \"connect_failures\": {\"refused\": 4, "
			    "\"timeout\": 3, \"unreachable\": 2, \"error\": 1}, \"tls\": {\"full\": 2, \"resumed\": 7, "
			    "\"failures\": {\"expired\": 0, \"unknown_ca\": 2, \"name_mismatch\": 1, "
			    "\"bad_certificate\": 0, \"handshake\": 0}}}}");

	assert_string_equal(out, TOTALS_TEXT
			    "backend         unreachable, 9 connects\n"
			    "failed connects 4 refused, 3 timed out, 2 unreachable, 1 other\n"
			    "backend tls     2 full, 7 resumed, 3 failed (2 unknown_ca, 1 name_mismatch)\n"
			    "lock recoveries 0 connection limit, 0 session cache, 0 connection list\n"
			    "\n"
			    "WORKER  PID  OPEN  ACCEPTED  RESTARTS  EXITS\n");
	free(out);
}

/* Backend mode shows from any sign of a backend: reachable true, or a
 * count with reachable still null; a cleartext backend has no TLS line. */
static void test_backend_mode_from_any_sign(void **state)
{
	char *up = printed("{\"backend\": {\"reachable\": true, \"connects\": 0, \"connect_failures\": {}, "
			   "\"tls\": {\"full\": 0, \"resumed\": 0, \"failures\": {}}}}");
	char *failed = printed("{\"backend\": {\"reachable\": null, \"connects\": 0, \"connect_failures\": "
			       "{\"refused\": 0, \"timeout\": 1}, \"tls\": {\"full\": 0, \"resumed\": 0, "
			       "\"failures\": {}}}}");

	assert_non_null(strstr(up, "\nbackend         reachable, 0 connects\n"));
	assert_null(strstr(up, "backend tls"));
	assert_non_null(strstr(failed, "\nbackend         not checked yet, 0 connects\n"
				       "failed connects 0 refused, 1 timed out, - unreachable, - other\n"
				       "lock recoveries"));
	free(up);
	free(failed);
}

/* A server from before these members: "-" where a count is missing, no
 * backend lines, no context table. */
static void test_older_answer(void **state)
{
	char *out = printed("{" TOTALS "\"workers\": [{\"pid\": 41, \"connections\": 0, \"accepted\": 0, "
			    "\"restarts\": 0}]}");

	assert_string_equal(out, TOTALS_TEXT
			    "lock recoveries - connection limit, - session cache, - connection list\n"
			    "\n"
			    "WORKER  PID  OPEN  ACCEPTED  RESTARTS  EXITS\n"
			    "1       41   0     0         0         none\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_server_nobody_reached_is_short),
		cmocka_unit_test(test_contexts_and_exits),
		cmocka_unit_test(test_a_named_context_shows_without_counts),
		cmocka_unit_test(test_backend_lines),
		cmocka_unit_test(test_backend_mode_from_any_sign),
		cmocka_unit_test(test_older_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
