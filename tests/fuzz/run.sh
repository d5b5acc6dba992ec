#!/bin/sh
# run.sh - build the libFuzzer targets (clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) and run each for a bounded time on its corpus.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS]
#
# BUILD_DIR is a configured build folder (for its autoconfig.h); SECONDS per
# target (default $FUZZ_SECONDS, else 10). The corpus of each target is
# tests/fuzz/corpus/TARGET (seeds in the tree); what a run finds new goes to
# BUILD_DIR/fuzz/corpus/TARGET, never into the tree. FUZZ_TARGETS (a
# space-separated list) runs only those. Prints one line per
# target ("fuzz TARGET: ok, N runs" or "fuzz TARGET: FAILED ..."), then
# "N passed, N failed"; exit status 1 when a target crashed, leaked or did
# not build. A crashing input is kept as BUILD_DIR/fuzz/crash-TARGET-*.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR [SECONDS]}" && pwd)
seconds=${2:-${FUZZ_SECONDS:-10}}
targets=${FUZZ_TARGETS:-"fuzz_config fuzz_ciphers fuzz_addr fuzz_proxy_header fuzz_client_hello fuzz_api_bodies"}
out=$build/fuzz
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
-I$top -I$build -include $build/autoconfig.h $(pkg-config --cflags gnutls jansson libcrypto libssl)"
libs="$(pkg-config --libs gnutls jansson libcrypto libssl hiredis) -lev -lpthread -lrt"
passed=0
failed=0

# The common sources every target may reach, compiled once.
objs=
for src in "$top"/common/*.c; do
	o=$out/$(basename "$src" .c).o
	if ! clang $flags -fsanitize=fuzzer-no-link -c "$src" -o "$o" 2>"$out/build.err"; then
		cat "$out/build.err" >&2
		echo "fuzz: cannot compile $src"
		echo "0 passed, 1 failed"
		exit 1
	fi
	objs="$objs $o"
done

# extra_sources TARGET: what a target needs beyond common/.
extra_sources() {
	case $1 in
	fuzz_api_bodies)
		echo "$top/ctl/api.c $top/ctl/api_ticket_keys.c $top/ctl/api_server.c $top/master/ticket_keys_state.c \
$top/master/ring_sync.c $top/master/backend_probe.c $top/worker/backend.c" ;;
	esac
}

for t in $targets; do
	mkdir -p "$out/corpus/$t"
	# shellcheck disable=SC2086
	if ! clang $flags "$here/$t.c" $(extra_sources "$t") $objs $libs -o "$out/$t" 2>"$out/$t.build.err"; then
		cat "$out/$t.build.err" >&2
		echo "fuzz $t: FAILED to build"
		failed=$((failed + 1))
		continue
	fi
	if (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=4096 -artifact_prefix="$out/crash-$t-" "$out/corpus/$t" "$here/corpus/$t" >"$out/$t.log" 2>&1); then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/$t.log" | tail -n 1)
		echo "fuzz $t: ok, ${runs:-?} runs in $seconds s"
		passed=$((passed + 1))
	else
		echo "fuzz $t: FAILED (log: $out/$t.log)"
		tail -n 40 "$out/$t.log"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
