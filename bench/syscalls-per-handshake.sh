#!/usr/bin/env bash
# syscalls-per-handshake.sh - the socket writes and reads a worker makes per
# connection, for each handshake kind, each followed by a 64-byte echo (as
# tls_load's connect mode does: connect, handshake, echo, close_notify).
#
#   bench/syscalls-per-handshake.sh [TLSD...]
#
# Each TLSD (default: the one bench/lib.sh finds) runs with one worker and
# the demo certificate (ECDSA P-256); strace -c counts the worker's calls
# while tls_load makes BENCH_CONNS (200) connections of each kind, one at a
# time. Prints one Markdown row per binary and kind: connections, then
# writes (sendmsg + sendto + write + writev, the access-log line included)
# and reads (recvfrom + read) per connection, and the p50/p99 latency of
# the timed run that follows without strace. Needs strace and cc.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

conns=${BENCH_CONNS:-200}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cc -O2 -o "$work/tls_load" "$bench_top/bench/tls_load.c" -lssl -lcrypto

kinds=(
	"TLS 1.3 full|-V 1.3"
	"TLS 1.3 ticket|-V 1.3 -r"
	"TLS 1.2 full|-V 1.2"
	"TLS 1.2 session ID|-V 1.2 -r -T"
	"TLS 1.2 ticket|-V 1.2 -r"
)

# worker_of PID: the worker process of the master PID.
worker_of() {
	local w
	for _ in $(seq 50); do
		w=$(pgrep -P "$1" | head -1) && [ -n "$w" ] && { echo "$w"; return; }
		sleep 0.1
	done
	return 1
}

# count BIN FLAGS: one strace'd run of $conns connections; prints
# "connections writes reads".
count() {
	local bin=$1 flags=$2 port master worker
	"$bin" --demo --listen 127.0.0.1:0 --control off --workers 1 >"$work/out" 2>"$work/err" &
	master=$!
	for _ in $(seq 50); do grep -q '^ready' "$work/out" && break; sleep 0.1; done
	port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$work/out" | head -1)
	worker=$(worker_of "$master")
	strace -f -c -o "$work/strace" -e trace=sendmsg,sendto,write,writev,recvfrom,read,recvmsg \
		-p "$worker" 2>/dev/null &
	local st=$!
	sleep 0.5
	# shellcheck disable=SC2086
	"$work/tls_load" connect -p "$port" -t 600 -n "$conns" $flags >"$work/load" 2>/dev/null || true
	sleep 0.3
	kill -INT "$st"; wait "$st" 2>/dev/null || true
	# shellcheck disable=SC2086
	"$work/tls_load" connect -p "$port" -t 2 $flags >"$work/timed" 2>/dev/null || true
	kill "$master"; wait "$master" 2>/dev/null || true
	awk -v n="$(sed -n 's/.*connections=\([0-9]*\).*/\1/p' "$work/load")" '
		$NF ~ /^(sendmsg|sendto|write|writev)$/ { w += $4 }
		$NF ~ /^(recvfrom|read|recvmsg)$/ { r += $4 }
		END { printf "%d %.2f %.2f\n", n, n ? w / n : 0, n ? r / n : 0 }' "$work/strace"
	sed -n 's/.*p50_us=\([0-9]*\) .*p99_us=\([0-9]*\) .*/\1 \2/p' "$work/timed"
}

echo "| tlsd | kind | connections | writes/conn | reads/conn | p50 µs | p99 µs |"
echo "|---|---|---|---|---|---|---|"
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=("$(bench_find_tlsd)")
for bin in "${bins[@]}"; do
	for k in "${kinds[@]}"; do
		name=${k%%|*}
		res=$(count "$bin" "${k#*|}")
		read -r n w r <<<"$(head -1 <<<"$res")"
		read -r p50 p99 <<<"$(tail -1 <<<"$res")"
		echo "| $bin | $name | $n | $w | $r | $p50 | $p99 |"
	done
done
