#!/usr/bin/env bash
# soak.sh - a long run, not a test: SOAK_IDLE idle TLS connections held
# while SOAK_CLIENTS clients make handshakes (full and resumed, TLS 1.3 and
# 1.2, each with a small echo) for SOAK_SECONDS; the RSS of every tlsd
# process before, every SOAK_EVERY seconds during, and after the idle
# connections close; failed handshakes counted. Make target: make soak.
#
#   bench/soak.sh [TLSD]     SOAK_SECONDS=600 SOAK_IDLE=5000 SOAK_CLIENTS=2
#                            SOAK_WORKERS=2 SOAK_EVERY=30
#
# Prints one line per sample ("t=SECONDS master=KiB worker...=KiB") and a
# closing line "soak: N connections, N failed, RSS before/peak/after".
# Exits 1 when a connection failed or a tlsd process died.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bin=$(bench_find_tlsd "${1:-}") || { echo "soak: no tlsd binary (give its path)" >&2; exit 2; }
seconds=${SOAK_SECONDS:-600}
idle=${SOAK_IDLE:-5000}
clients=${SOAK_CLIENTS:-2}
workers=${SOAK_WORKERS:-2}
every=${SOAK_EVERY:-30}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; exec 7>&- 2>/dev/null; rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)"
cc -O2 -o "$work/tls_load" "$bench_top/bench/tls_load.c" -lssl -lcrypto

"$bin" --demo --listen 127.0.0.1:0 --control off --workers "$workers" >"$work/out" 2>"$work/err" &
master=$!
for _ in $(seq 100); do grep -q '^ready' "$work/out" && break; sleep 0.1; done
port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$work/out" | head -1)
[ -n "$port" ] || { echo "soak: tlsd did not start" >&2; cat "$work/err" >&2; exit 2; }

procs() { echo "$master"; pgrep -P "$master" || true; }
sample() { # sample LABEL: the RSS of every tlsd process
	local line="$1" p
	for p in $(procs); do
		line="$line $p=$(awk '/VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo gone)"
	done
	echo "$line"
}
total() { local t=0 p v; for p in $(procs); do v=$(awk '/VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0); t=$((t + v)); done; echo "$t"; }

sample "before"
before=$(total)
mkfifo "$work/idle.fifo"
"$work/tls_load" idle -p "$port" -n "$idle" -t "$((seconds + 60))" <"$work/idle.fifo" >"$work/idle.out" 2>&1 &
idle_pid=$!
exec 7>"$work/idle.fifo"
for _ in $(seq 1200); do grep -q '^held' "$work/idle.out" && break; sleep 0.1; done
sample "held $(sed -n 's/^held //p' "$work/idle.out")"

kinds=("-V 1.3" "-V 1.3 -r" "-V 1.2" "-V 1.2 -r -T")
load_pids=()
for i in $(seq "$clients"); do
	(
		end=$((SECONDS + seconds))
		while [ "$SECONDS" -lt "$end" ]; do
			for k in "${kinds[@]}"; do
				# shellcheck disable=SC2086
				"$work/tls_load" connect -p "$port" -t 5 $k >>"$work/load.$i" 2>>"$work/load.$i.err" || true
			done
		done
	) &
	load_pids+=($!)
done
peak=$before
start=$SECONDS
while [ $((SECONDS - start)) -lt "$seconds" ]; do
	sleep "$every"
	sample "t=$((SECONDS - start))"
	t=$(total); [ "$t" -gt "$peak" ] && peak=$t
	kill -0 "$master" 2>/dev/null || { echo "soak: tlsd died" >&2; exit 1; }
done
wait "${load_pids[@]}" 2>/dev/null || true
exec 7>&-
wait "$idle_pid" 2>/dev/null || true
sleep 3
sample "after"
after=$(total)
n=$(cat "$work"/load.* 2>/dev/null | sed -n 's/.*connections=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
failed=$(cat "$work"/load.*.err 2>/dev/null | grep -c 'failed' || true)
alive=$(procs | wc -l)
echo "soak: $n connections, $failed failed, $alive tlsd processes alive, total RSS before ${before} KiB, peak ${peak} KiB, after ${after} KiB"
[ "$failed" -eq 0 ] && [ "$alive" -eq $((workers + 1)) ]
