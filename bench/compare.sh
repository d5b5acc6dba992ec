#!/bin/bash
# compare.sh - the side-by-side comparison: every server of bench/peers
# (started with start.sh, 1 worker, certificates from certs.sh) measured
# with the same clients in every scenario:
#
#   full13     full handshakes, TLS 1.3, ECDSA    s_time -new -tls1_3
#   full12     full handshakes, TLS 1.2, ECDSA    s_time -new -tls1_2
#   sid12      session-ID resumption, TLS 1.2     s_time -reuse -tls1_2, tickets off
#              in the client (s_time has no -no_ticket: an OPENSSL_CONF with
#              "Options = -SessionTicket", as in handshake-rate.sh)
#   tkt12      ticket resumption, TLS 1.2         s_time -reuse -tls1_2
#   tkt13      ticket resumption, TLS 1.3         tls_load handshake -V 1.3 -r
#   full13rsa  full handshakes, TLS 1.3, RSA-2048 s_time -new -tls1_3 (start.sh --rsa)
#   full12rsa  full handshakes, TLS 1.2, RSA-2048 s_time -new -tls1_2 (start.sh --rsa)
#   bulk       echo throughput: BENCH_BULK_CONNS connections each writing
#              BENCH_BULK_BLOCK-byte blocks and reading them back, up to
#              BENCH_BULK_WINDOW blocks in flight each
#              (bulk, latency and idle: TLS 1.3, TLS_AES_128_GCM_SHA256)
#   latency    echo latency: BENCH_LAT_CONNS connections, BENCH_LAT_SIZE-byte
#              ping-pongs at BENCH_LAT_RATE messages/s in all; p50/p99/max
#   idle       memory: BENCH_IDLE_CONNS TLS 1.3 connections, one small echo
#              each, then held; the server's RSS before and while held
#   tkt12x     cross-check, not in the default set: tkt12 with tls_load -q
#              instead of s_time, to compare the two clients
#
# Not in the default set either, the connect family: what a user who opens
# one connection at a time feels, with tls_load connect (connect, handshake,
# one BENCH_CONNECT_SIZE-byte echo, close_notify; latency from connect() to
# the echo's last byte; p50/p90/p99/max, connections per second):
#
#   c1full13 c1full12 c1sid12 c1tkt12 c1tkt13 c1full13rsa c1full12rsa
#              one client process, one connection after another: the
#              scenarios above (c1sid12: -T, tickets off; c1tkt13: -r)
#   c16full13 ... c16full12rsa
#              the same with 16 client processes side by side, meant for
#              BENCH_WORKERS=2 (handshakes per second under concurrency)
#   c1, c16    shorthands for the whole family of each
#
# tls_load is bench/tls_load.c (OpenSSL's libssl), compiled here with cc
# into the temporary folder (or $BENCH_TLS_LOAD, a binary built already),
# for what s_time cannot do: s_time never reads after the handshake, so it
# never resumes TLS 1.3, and it moves no data.
#
# Each server starts once per key type: the ECDSA scenarios run on one
# instance (idle first, on the fresh server, so that memory the other
# scenarios grew is not counted against it), the RSA ones on another.
# Each scenario but idle runs BENCH_SECONDS x BENCH_REPEAT; the handshake
# scenarios with BENCH_CLIENTS client processes side by side, bulk and
# latency with one tls_load process (one thread, all connections).
# Handshakes are counted by the client: s_time prints one character per
# completed connection, "r" when it resumed (SSL_session_reused) and "*"
# when it was a full handshake; tls_load prints its counts. So the resumed
# share is exact for every server, not only those with an access log. Rate =
# connections / wall time of the run (median, min-max over the repeats).
#
# Pinning: on a machine with 2+ CPUs and taskset, the server's processes run
# on CPU 0 and the clients on CPU 1; the proxies' echo backend (hitch,
# haproxy, nginx) also runs on CPU 1, and its CPU is reported apart. Server
# CPU = user + system time of the processes start.sh reports (all their
# threads, from /proc), client CPU = the s_time processes' (times) or what
# tls_load reports of itself, both in % of one core. Per server CPU second
# (handshakes, bytes) is the fair figure when the client is the bottleneck
# (client CPU near 100%). Memory = VmRSS summed over the server's processes
# (/proc/PID/status), the echo backend's apart.
#
#   bench/compare.sh [TLSD_BIN]       (default: $TLSD, else start.sh's search:
#                                     ./tlsd, next to bench/, build-plain/)
#   BENCH_SERVERS="tlsd tlsd-gnutls node-store haproxy nginx hitch"
#             (tlsd-gnutls: tlsd with TLSD_SIGNER=gnutls, GnuTLS making the
#             signatures: tlsd before its OpenSSL signer, in the same run;
#             also: tlsd-before, the binary BENCH_TLSD_BEFORE, an older
#             build measured beside the current one; tlsd-backend and
#             tlsd-before-backend, either one in proxy mode (--backend)
#             forwarding to the proxies' echo backend, the proxies' role)
#   BENCH_SCENARIOS="full13 full12 sid12 tkt12 tkt13 full13rsa full12rsa bulk latency idle"
#   BENCH_SECONDS=4 BENCH_REPEAT=3 BENCH_CLIENTS=2 BENCH_PIN=auto|off
#   BENCH_WORKERS=1   workers (or HAProxy threads) per server; above 1 nothing
#                     is pinned (auto), to show resumption across workers
#   BENCH_BULK_CONNS=4 BENCH_BULK_BLOCK=16384 BENCH_BULK_WINDOW=16
#   BENCH_LAT_CONNS=10 BENCH_LAT_RATE=2000 BENCH_LAT_SIZE=64
#   BENCH_IDLE_CONNS=1000
#   BENCH_CONNECT_SIZE=64   bytes echoed per connection in c1*, c16*
#   BENCH_TLSD_BEFORE=PATH  the tlsd binary of tlsd-before, tlsd-before-backend
#   BENCH_TLS_LOAD=(compiled from bench/tls_load.c)
#   BENCH_OUT=bench/results/compare-DATE.json
#
# Writes the JSON (folder made if missing, with a .gitignore so results are
# never committed by accident), prints Markdown tables (stdout: handshakes,
# throughput, latency, memory) with a ratio tlsd/peer in each; progress on
# stderr. Every server is stopped with stop.sh, also on error or ^C. A
# benchmark, not a test.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
tlsd=${1:-${TLSD:-}}
if [ -n "$tlsd" ]; then
	[ -x "$tlsd" ] || { echo "compare: $tlsd is not executable" >&2; exit 2; }
	TLSD=$(readlink -f "$tlsd")
	export TLSD
fi
all_scenarios="full13 full12 sid12 tkt12 tkt13 full13rsa full12rsa bulk latency idle"
connect_base="full13 full12 sid12 tkt12 tkt13 full13rsa full12rsa"
c1_scenarios=$(for b in $connect_base; do printf 'c1%s ' "$b"; done)
c16_scenarios=$(for b in $connect_base; do printf 'c16%s ' "$b"; done)
servers=${BENCH_SERVERS:-tlsd tlsd-gnutls node-store haproxy nginx hitch}
scenarios=
for s in ${BENCH_SCENARIOS:-$all_scenarios}; do
	case $s in
	c1) scenarios+="$c1_scenarios" ;;
	c16) scenarios+="$c16_scenarios" ;;
	*) scenarios+="$s " ;;
	esac
done
scenarios=${scenarios% }
known_scenarios="$all_scenarios tkt12x ${c1_scenarios}${c16_scenarios% }"
connect_size=${BENCH_CONNECT_SIZE:-64}
tlsd_before=${BENCH_TLSD_BEFORE:-}
dur=${BENCH_SECONDS:-4}
repeat=${BENCH_REPEAT:-3}
k=${BENCH_CLIENTS:-2}
pin=${BENCH_PIN:-auto}
workers=${BENCH_WORKERS:-1}
bulk_conns=${BENCH_BULK_CONNS:-4}
bulk_block=${BENCH_BULK_BLOCK:-16384}
bulk_window=${BENCH_BULK_WINDOW:-16}
lat_conns=${BENCH_LAT_CONNS:-10}
lat_rate=${BENCH_LAT_RATE:-2000}
lat_size=${BENCH_LAT_SIZE:-64}
idle_conns=${BENCH_IDLE_CONNS:-1000}
tls_load=${BENCH_TLS_LOAD:-}
# The TLS 1.3 suite of bulk, latency and idle: the servers would pick
# different ones (tlsd AES-256-GCM, the proxies the client's first).
suite=TLS_AES_128_GCM_SHA256
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${BENCH_OUT:-$top/bench/results/compare-$stamp.json}
whole() { # whole NAME VALUE: a whole number > 0, or exit
	case $2 in ''|*[!0-9]*|0) echo "compare: $1 must be a whole number > 0${3:-}" >&2; exit 2 ;; esac
}
whole BENCH_SECONDS "$dur" " (s_time -time)"
whole BENCH_REPEAT "$repeat"
whole BENCH_CLIENTS "$k"
whole BENCH_BULK_CONNS "$bulk_conns"
whole BENCH_BULK_BLOCK "$bulk_block"
whole BENCH_BULK_WINDOW "$bulk_window"
whole BENCH_LAT_CONNS "$lat_conns"
whole BENCH_LAT_RATE "$lat_rate"
whole BENCH_LAT_SIZE "$lat_size"
whole BENCH_IDLE_CONNS "$idle_conns"
whole BENCH_CONNECT_SIZE "$connect_size"
for s in $scenarios; do
	case " $known_scenarios " in
	*" $s "*) ;;
	*) echo "compare: unknown scenario $s ($known_scenarios; c1, c16)" >&2; exit 2 ;;
	esac
done
if [[ " $servers " == *" tlsd-before"* ]]; then
	[ -n "$tlsd_before" ] && [ -x "$tlsd_before" ] ||
		{ echo "compare: tlsd-before needs BENCH_TLSD_BEFORE, an executable tlsd (now '${tlsd_before}')" >&2; exit 2; }
	tlsd_before=$(readlink -f "$tlsd_before")
fi
for tool in openssl node awk setsid; do
	command -v $tool >/dev/null || { echo "compare: $tool not found" >&2; exit 2; }
done
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
hz=$(getconf CLK_TCK)
case $workers in ''|*[!0-9]*|0) echo "compare: BENCH_WORKERS must be a whole number > 0" >&2; exit 2 ;; esac
if [ "$pin" = auto ]; then
	# More than one worker on one pinned CPU would measure nothing useful.
	if [ "$workers" = 1 ] && [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then pin=on; else pin=off; fi
fi
if [ "$pin" = on ]; then
	pinning="server pinned to CPU 0, the clients (and the proxies' echo backend) to CPU 1 (taskset); $ncpu CPUs online"
	srv_prefix=(taskset -c 0) cli_prefix=(taskset -c 1)
else
	pinning="nothing pinned; $ncpu CPUs online, shared by server and clients"
	srv_prefix=() cli_prefix=()
fi
# The idle scenario holds BENCH_IDLE_CONNS sockets in tls_load (start.sh
# raises the servers' limit itself).
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [[ " $scenarios " == *" idle "* ]] && [ "$(ulimit -n)" != unlimited ] &&
	[ "$(ulimit -n)" -lt $((idle_conns + 64)) ]; then
	echo "compare: the open-file limit ($(ulimit -n), hard $(ulimit -Hn)) is too low for BENCH_IDLE_CONNS=$idle_conns" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/compare.XXXXXX") || exit 1
running=
client_pids=
cleanup() {
	for p in $client_pids; do kill "$p" 2>/dev/null; done
	exec 7>&- 2>/dev/null
	[ -n "$running" ] && "$here/peers/stop.sh" "$running" >/dev/null 2>&1
	running=
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "$*" >&2; }
fmt() { awk -v x="$1" -v d="${2:-0}" 'BEGIN { printf "%.*f", d, x }'; }
# kv KEY FILE: the value of KEY=VALUE on FILE's last line that has it.
kv() { sed -n "s/^.*[[:space:]]$1=\([^[:space:]]*\).*\$/\1/p; s/^$1=\([^[:space:]]*\).*\$/\1/p" "$2" | tail -n 1; }

# tls_load: compiled from bench/tls_load.c when not given (libssl-dev).
needs_load=
for s in $scenarios; do
	case $s in tkt13|tkt12x|bulk|latency|idle|c1*) needs_load=1 ;; esac
done
if [ -z "$tls_load" ] && [ -n "$needs_load" ]; then
	if ! cc -O2 -Wall -o "$tmp/tls_load" "$here/tls_load.c" -lssl -lcrypto 2>"$tmp/cc.err"; then
		say "compare: cannot compile $here/tls_load.c (cc, libssl-dev):"
		cat "$tmp/cc.err" >&2
		exit 2
	fi
	tls_load=$tmp/tls_load
fi
if [ -n "$tls_load" ] && [ ! -x "$tls_load" ]; then
	say "compare: BENCH_TLS_LOAD=$tls_load is not executable"
	exit 2
fi

# The same OpenSSL config for every client (the distribution's system_default
# may differ between machines), with or without tickets.
printf 'openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n[sd]\n' >"$tmp/tickets.cnf"
{ cat "$tmp/tickets.cnf"; echo 'Options = -SessionTicket'; } >"$tmp/no-tickets.cnf"

label() {
	case $1 in
	c16*) echo "16 clients, $(label "${1#c16}")" ;;
	c1*) echo "1 client, $(label "${1#c1}")" ;;
	full13) echo "full, TLS 1.3" ;; full12) echo "full, TLS 1.2" ;;
	sid12) echo "session ID, TLS 1.2" ;; tkt12) echo "ticket, TLS 1.2" ;;
	tkt13) echo "ticket, TLS 1.3" ;; tkt12x) echo "ticket, TLS 1.2 (tls_load)" ;;
	full13rsa) echo "full, TLS 1.3, RSA" ;; full12rsa) echo "full, TLS 1.2, RSA" ;;
	bulk) echo "bulk echo" ;; latency) echo "echo latency" ;; idle) echo "idle connections" ;;
	esac
}
key_of() { case $1 in *rsa) echo rsa ;; *) echo ecdsa ;; esac; }
# in_key KEY: the selected scenarios of that key type, idle first.
in_key() {
	local s
	[ "$1" = ecdsa ] && [[ " $scenarios " == *" idle "* ]] && echo idle
	for s in $scenarios; do
		[ "$s" = idle ] && continue
		[ "$(key_of "$s")" = "$1" ] && echo "$s"
	done
}
stime_cmd() {
	local sopts=(-connect "127.0.0.1:$port" -time "$dur" -no-CAfile -no-CApath -no-CAstore)
	case $1 in
	full13|full13rsa) cmd=(OPENSSL_CONF="$tmp/tickets.cnf" openssl s_time -new -tls1_3 "${sopts[@]}") ;;
	full12|full12rsa) cmd=(OPENSSL_CONF="$tmp/tickets.cnf" openssl s_time -new -tls1_2 "${sopts[@]}") ;;
	sid12) cmd=(OPENSSL_CONF="$tmp/no-tickets.cnf" openssl s_time -reuse -tls1_2 "${sopts[@]}") ;;
	tkt12) cmd=(OPENSSL_CONF="$tmp/tickets.cnf" openssl s_time -reuse -tls1_2 "${sopts[@]}") ;;
	tkt13) cmd=("$tls_load" handshake -p "$port" -t "$dur" -V 1.3 -r) ;;
	tkt12x) cmd=("$tls_load" handshake -p "$port" -t "$dur" -V 1.2 -r -q) ;;
	esac
}

# rss PID...: VmRSS of these processes, summed, in KiB.
rss() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$p/status" 2>/dev/null) && [ -n "$v" ] && t=$((t + v))
	done
	echo "$t"
}
# descendants PID: children, grandchildren, ... (from /proc).
descendants() {
	local f p kids
	for f in /proc/"$1"/task/*/children; do
		kids=()
		read -ra kids <"$f" 2>/dev/null
		for p in "${kids[@]}"; do
			echo "$p"
			descendants "$p"
		done
	done
}
# server_pids: sets srv_pids (the server's processes now) and be_pids.
server_pids() {
	mapfile -t srv_pids < <(echo "$PEER_PID"; descendants "$PEER_PID")
	be_pids=()
	[ -n "$PEER_BACKEND_PID" ] && be_pids=("$PEER_BACKEND_PID")
}
secs() { awk -v d="$1" -v hz="$hz" 'BEGIN { print d / hz }'; }

# measure_start / measure_end: server and backend CPU ticks and wall time
# around a run; measure_end sets srv_s, be_s (CPU seconds) and wall.
measure_start() {
	server_pids
	m_s0=$(bench_ticks "${srv_pids[@]}")
	m_b0=$(bench_ticks "${be_pids[@]}")
	m_t0=$(date +%s.%N)
}
measure_end() {
	local t1
	t1=$(date +%s.%N)
	srv_s=$(secs $(($(bench_ticks "${srv_pids[@]}") - m_s0)))
	be_s=$(secs $(($(bench_ticks "${be_pids[@]}") - m_b0)))
	wall=$(awk -v a="$m_t0" -v b="$t1" 'BEGIN { print b - a }')
}
# record KEY=VALUE...: one run, as a line of runs.tsv.
record() {
	local IFS=$'\t'
	echo "server=$name	scenario=$c	$*" >>"$tmp/runs.tsv"
}
client_failed() { # client_failed N: say so, with the clients' last lines
	say "  $1 client(s) failed:"
	tail -n 3 "$tmp"/client.*.out | cut -c1-200 >&2
}

# run_handshakes: one timed run with k clients (s_time or tls_load).
run_handshakes() {
	local i pids=() failed=0 n=0 r=0 full=0 x cli=0 f client
	stime_cmd "$c"
	client="openssl s_time"
	[ "${cmd[0]}" = "$tls_load" ] && client=tls_load
	rm -f "$tmp"/client.*.out
	measure_start
	times >"$tmp/times0"
	for i in $(seq "$k"); do
		"${cli_prefix[@]}" env "${cmd[@]}" >"$tmp/client.$i.out" 2>&1 &
		pids+=($!)
	done
	client_pids="${pids[*]}"
	for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
	client_pids=
	measure_end
	times >"$tmp/times1"
	for i in $(seq "$k"); do
		f=$tmp/client.$i.out
		if [ "$client" = tls_load ]; then
			n=$((n + $(kv connections "$f" | grep . || echo 0)))
			r=$((r + $(kv resumed "$f" | grep . || echo 0)))
			cli=$(awk -v a="$cli" -v b="$(kv cpu_s "$f")" 'BEGIN { print a + b }')
			continue
		fi
		# s_time's progress lines: one character per connection.
		x=$(grep -E '^[r*t3]+$' "$f" | tr -d '\n')
		r=$((r + $(printf '%s' "$x" | tr -cd r | wc -c)))
		full=$((full + $(printf '%s' "$x" | tr -cd '*t3' | wc -c)))
	done
	[ "$client" = tls_load ] || {
		n=$((r + full))
		cli=$(awk -v a="$(bench_child_cpu "$tmp/times0")" -v b="$(bench_child_cpu "$tmp/times1")" 'BEGIN { print b - a }')
	}
	[ "$failed" -gt 0 ] && client_failed "$failed"
	record "client=$client" "n=$n" "r=$r" "wall=$wall" "srv=$srv_s" "cli=$cli" "be=$be_s" "failed=$failed"
	say "  $(label "$c") run: $(fmt "$(awk -v n="$n" -v w="$wall" 'BEGIN { print n / w }')") hs/s," \
		"$r/$n resumed, server CPU $(fmt "$(awk -v s="$srv_s" -v w="$wall" 'BEGIN { print 100 * s / w }')")%"
}

# run_load ARGS...: one tls_load run (bulk or latency); sets f (its output)
# and failed; the server's CPU is measured around it.
run_load() {
	f=$tmp/client.1.out
	failed=0
	measure_start
	"${cli_prefix[@]}" "$tls_load" "$@" -p "$port" -t "$dur" >"$f" 2>&1 &
	client_pids=$!
	wait "$client_pids" || failed=1
	client_pids=
	measure_end
	[ "$failed" -gt 0 ] && client_failed 1
}

run_bulk() {
	local b
	run_load bulk -c "$bulk_conns" -s "$bulk_block" -w "$bulk_window" -S "$suite"
	b=$(kv bytes "$f")
	record "bytes=${b:-0}" "load_s=$(kv seconds "$f")" "wall=$wall" "srv=$srv_s" "cli=$(kv cpu_s "$f")" \
		"be=$be_s" "failed=$failed" "conns=$bulk_conns" "block=$bulk_block" \
		"cipher=$(kv cipher "$f")" "closed=$(kv closed_early "$f")"
	say "  bulk run: $(fmt "$(awk -v b="${b:-0}" -v s="$(kv seconds "$f")" 'BEGIN { print (s > 0 ? b / s / 1e6 : 0) }')") MB/s," \
		"server CPU $(fmt "$(awk -v s="$srv_s" -v w="$wall" 'BEGIN { print 100 * s / w }')")%, client CPU $(kv cpu_s "$f") s"
}

run_latency() {
	run_load latency -c "$lat_conns" -R "$lat_rate" -s "$lat_size" -S "$suite"
	record "msgs=$(kv msgs "$f")" "p50=$(kv p50_us "$f")" "p99=$(kv p99_us "$f")" "max=$(kv max_us "$f")" \
		"load_s=$(kv seconds "$f")" "wall=$wall" "srv=$srv_s" "cli=$(kv cpu_s "$f")" "be=$be_s" \
		"failed=$failed" "conns=$lat_conns" "rate=$lat_rate" "size=$lat_size" "pending=$(kv pending "$f")" \
		"closed=$(kv closed_early "$f")"
	say "  latency run: $(kv msgs "$f") msgs, p50 $(kv p50_us "$f") us, p99 $(kv p99_us "$f") us, max $(kv max_us "$f") us"
}

# run_idle: RSS before and while BENCH_IDLE_CONNS connections are held.
# tls_load holds them until its stdin (a fifo here) ends. A few connections
# first (opened, echoed, closed) so that what a server sets up on its first
# connection is in the "before" figure.
run_idle() {
	local f=$tmp/client.1.out s0 b0 s1 b1 held='' _ failed=0
	"${cli_prefix[@]}" "$tls_load" idle -p "$port" -n 8 -S "$suite" </dev/null >/dev/null 2>"$tmp/warmup.err" ||
		{ say "  warm-up connections failed:"; cat "$tmp/warmup.err" >&2; }
	sleep 0.5
	server_pids
	s0=$(rss "${srv_pids[@]}") b0=$(rss "${be_pids[@]}")
	rm -f "$tmp/idle.fifo"
	mkfifo "$tmp/idle.fifo" || exit 1
	"${cli_prefix[@]}" "$tls_load" idle -p "$port" -n "$idle_conns" -S "$suite" <"$tmp/idle.fifo" >"$f" 2>&1 &
	client_pids=$!
	exec 7>"$tmp/idle.fifo"
	for _ in $(seq 1200); do # 120 s at most
		held=$(sed -n 's/^held \([0-9]*\)$/\1/p' "$f")
		[ -n "$held" ] && break
		kill -0 "$client_pids" 2>/dev/null || break
		sleep 0.1
	done
	sleep 0.5
	server_pids
	s1=$(rss "${srv_pids[@]}") b1=$(rss "${be_pids[@]}")
	exec 7>&-
	wait "$client_pids" || failed=1
	client_pids=
	[ -z "$held" ] && failed=1
	[ "$failed" -gt 0 ] && client_failed 1
	record "held=${held:-0}" "wanted=$idle_conns" "rss0=$s0" "rss1=$s1" "brss0=$b0" "brss1=$b1" \
		"cli=$(kv cpu_s "$f")" "closed=$(kv closed_early "$f")" "failed=$failed"
	say "  idle run: ${held:-0} held; server RSS $s0 -> $s1 KiB${PEER_BACKEND_PID:+, backend $b0 -> $b1 KiB}"
}

# run_connect: one tls_load connect run, 1 or 16 client processes, each
# one connection at a time (connect, handshake, echo, close).
run_connect() {
	local n base opts=()
	case $c in
	c16*) n=16 base=${c#c16} ;;
	*) n=1 base=${c#c1} ;;
	esac
	case $base in
	full13|full13rsa) opts=(-V 1.3) ;;
	full12|full12rsa) opts=(-V 1.2) ;;
	sid12) opts=(-V 1.2 -r -T) ;;
	tkt12) opts=(-V 1.2 -r) ;;
	tkt13) opts=(-V 1.3 -r) ;;
	esac
	run_load connect -c "$n" -s "$connect_size" "${opts[@]}"
	record "client=tls_load" "n=$(kv connections "$f")" "r=$(kv resumed "$f")" "rate=$(kv rate "$f")" \
		"p50=$(kv p50_us "$f")" "p90=$(kv p90_us "$f")" "p99=$(kv p99_us "$f")" "max=$(kv max_us "$f")" \
		"load_s=$(kv seconds "$f")" "wall=$wall" "srv=$srv_s" "cli=$(kv cpu_s "$f")" "be=$be_s" \
		"failed=$failed" "bad_clients=$(kv clients_failed "$f")" "clients=$n" "size=$connect_size"
	say "  $(label "$c") run: $(kv connections "$f") conns, $(kv rate "$f")/s, $(kv resumed "$f") resumed," \
		"p50 $(kv p50_us "$f") p99 $(kv p99_us "$f") us, server CPU $(fmt "$(awk -v s="$srv_s" -v w="$wall" 'BEGIN { print 100 * s / w }')")%"
}

run_once() {
	case $c in
	c1*) run_connect ;;
	bulk) run_bulk ;;
	latency) run_latency ;;
	idle) run_idle ;;
	*) run_handshakes ;;
	esac
}

# sid_check: does the no-tickets client config really send no ticket? A
# session saved by s_client under it must carry no ticket, and a reconnect
# offering it must resume (by session ID). Sets sid_check ("resumed/5,
# ticket in session: yes|no").
sid_check() {
	local sess=$tmp/sid.pem n=0 tk
	rm -f "$sess"
	OPENSSL_CONF=$tmp/no-tickets.cnf timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
		-no-CAfile -no-CApath -no-CAstore -sess_out "$sess" </dev/null >/dev/null 2>&1
	if [ ! -s "$sess" ]; then sid_check="no session saved"; return; fi
	tk=no
	openssl sess_id -in "$sess" -noout -text 2>/dev/null | grep -q 'TLS session ticket:' && tk=yes
	for _ in 1 2 3 4 5; do
		OPENSSL_CONF=$tmp/no-tickets.cnf timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_2 \
			-no-CAfile -no-CApath -no-CAstore -sess_in "$sess" </dev/null 2>/dev/null | grep -q '^Reused, ' && n=$((n + 1))
	done
	sid_check="$n/5 resumed, ticket in session: $tk"
}

# start_server NAME KEY: start.sh with $workers workers; sets port and the PEER_*
# variables; 1 if it did not start.
start_server() {
	local key_opt=() sname=$1 envp=()
	[ "$2" = rsa ] && key_opt=(--rsa)
	# tlsd-gnutls: tlsd with GnuTLS making the signatures (TLSD_SIGNER,
	# docs/design.md "Signatures"), to show the OpenSSL signer's effect
	# in the same run.
	[ "$1" = tlsd-gnutls ] && sname=tlsd envp=(env TLSD_SIGNER=gnutls)
	# tlsd-before: another tlsd binary (an older build) in the same run;
	# *-backend: tlsd in proxy mode, forwarding to the proxies' echo backend.
	case $1 in
	tlsd-before|tlsd-before-backend) sname=tlsd envp=(env TLSD="$tlsd_before") ;;
	tlsd-backend) sname=tlsd ;;
	esac
	case $1 in tlsd*-backend) key_opt+=(--backend) ;; esac
	say "== $1: starting with $workers worker(s), $2 certificate"
	rundir=$tmp/run.$1.$2
	if ! "${srv_prefix[@]}" "${envp[@]}" "$here/peers/start.sh" "${key_opt[@]}" "$sname" "$workers" "$tmp/certs" "$rundir" >/dev/null 2>"$tmp/start.$1.err"; then
		sed 's/^/  /' "$tmp/start.$1.err" >&2
		return 1
	fi
	running=$rundir
	PEER_BACKEND_PID=
	# shellcheck disable=SC1091
	. "$rundir/peer.env"
	port=$PEER_PORT
	if [ "$pin" = on ]; then
		# start.sh ran under taskset -c 0, so everything it started is on
		# CPU 0; make sure of every thread, and move the backend to CPU 1.
		server_pids
		for p in "${srv_pids[@]}"; do taskset -a -p -c 0 "$p" >/dev/null 2>&1; done
		[ -n "$PEER_BACKEND_PID" ] && taskset -a -p -c 1 "$PEER_BACKEND_PID" >/dev/null 2>&1
	fi
	say "  $PEER_VERSION, port $port, processes $PEER_PIDS${PEER_BACKEND_PID:+, echo backend $PEER_BACKEND_PID}"
	[ "$pin" = on ] && say "  CPUs allowed: server $(taskset -c -p "$PEER_PID" | sed 's/.*: //')${PEER_BACKEND_PID:+, backend $(taskset -c -p "$PEER_BACKEND_PID" | sed 's/.*: //')}"
	return 0
}

stop_server() {
	if ! kill -0 "$PEER_PID" 2>/dev/null; then
		say "  $name exited during the runs:"
		tail -n 20 "$rundir/server.log" >&2
	fi
	"$here/peers/stop.sh" "$rundir" >&2
	running=
}

: >"$tmp/runs.tsv"
: >"$tmp/servers.tsv"
say "compare: servers: $servers; scenarios: $scenarios; $dur s x $repeat runs, $k handshake clients"
say "compare: $pinning"
say "compare: load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in $servers; do
	version=- sid=- pids_ecdsa=- pids_rsa=-
	for key in ecdsa rsa; do
		list=$(in_key $key)
		[ -n "$list" ] || continue
		start_server "$name" $key || continue
		version=$PEER_VERSION
		if [ $key = ecdsa ]; then pids_ecdsa=$PEER_PIDS; else pids_rsa=$PEER_PIDS; fi
		if [ $key = ecdsa ] && [[ " $scenarios " == *" sid12 "* ]]; then
			sid_check
			sid=$sid_check
			say "  session-ID client check (s_client, tickets off): $sid_check"
		fi
		for c in $list; do
			if [ "$c" = idle ]; then run_once; continue; fi
			for _ in $(seq "$repeat"); do run_once; done
		done
		stop_server
	done
	[ "$version" = - ] && version="did not start"
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$version" "$sid" "$pids_ecdsa" "$pids_rsa" >>"$tmp/servers.tsv"
done

mkdir -p "$(dirname "$out")" || exit 1
[ "$out" = "$top/bench/results/compare-$stamp.json" ] && [ ! -e "$top/bench/results/.gitignore" ] &&
	printf '# benchmark results: never committed\n*\n' >"$top/bench/results/.gitignore"

meta=$tmp/meta.json
BENCH_WORKERS_USED=$workers node -e '
const [date, pinning, dur, repeat, k, ncpu, openssl, model, kernel, params] = process.argv.slice(1);
console.log(JSON.stringify({ date, pinning, workers: +process.env.BENCH_WORKERS_USED, seconds: +dur, repeat: +repeat, clients: +k, cpus: +ncpu,
  client: openssl, node: process.version, cpu_model: model, kernel, ...JSON.parse(params) }));
' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$pinning" "$dur" "$repeat" "$k" "$ncpu" \
	"$(openssl version | cut -d' ' -f1-2) s_time; bench/tls_load.c on $(openssl version | cut -d' ' -f1-2)" \
	"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$(uname -sr)" \
	"{\"bulk\": {\"connections\": $bulk_conns, \"block\": $bulk_block, \"blocks_in_flight\": $bulk_window, \"suite\": \"$suite\"},
	  \"latency\": {\"connections\": $lat_conns, \"rate\": $lat_rate, \"size\": $lat_size, \"suite\": \"$suite\"},
	  \"idle\": {\"connections\": $idle_conns, \"suite\": \"$suite\"},
	  \"connect\": {\"size\": $connect_size, \"tlsd_before\": \"${tlsd_before:--}\"}}" >"$meta"

node - "$tmp/runs.tsv" "$tmp/servers.tsv" "$meta" "$out" "$known_scenarios" "$scenarios" <<'EOF'
const fs = require('fs');
const [runsF, serversF, metaF, outF, order, selected] = process.argv.slice(2);
const labels = {
  full13: 'full, TLS 1.3', full12: 'full, TLS 1.2', sid12: 'session ID, TLS 1.2', tkt12: 'ticket, TLS 1.2',
  tkt13: 'ticket, TLS 1.3', full13rsa: 'full, TLS 1.3, RSA-2048', full12rsa: 'full, TLS 1.2, RSA-2048',
  tkt12x: 'ticket, TLS 1.2 (tls_load)', bulk: 'bulk echo', latency: 'echo latency', idle: 'idle connections',
};
// The connect family: c1<scenario> (one client) and c16<scenario> (16 clients).
const family = sc => (/^c16/.test(sc) ? 16 : /^c1/.test(sc) ? 1 : 0);
const baseOf = sc => sc.replace(/^c16|^c1/, '');
for (const sc of order.split(/\s+/).filter(x => family(x))) labels[sc] = labels[baseOf(sc)];
const kindOf = sc => (family(sc) ? 'connect' : ['bulk', 'latency', 'idle'].includes(sc) ? sc : 'handshake');
const lines = f => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map(l => l.split('\t'));
const num = v => (v !== '' && !isNaN(+v) ? +v : v);
const stats = v => {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  if (!n) return null;
  return { median: n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2, min: s[0], max: s[n - 1] };
};
const med = v => (v.length ? stats(v).median : null);
const sum = (rs, f) => rs.reduce((a, x) => a + (+x[f] || 0), 0);
const per = (a, b) => (b > 0 ? a / b : 0);
const meta = JSON.parse(fs.readFileSync(metaF, 'utf8'));
const servers = lines(serversF).map(([name, version, sid, pids, pidsRsa]) =>
  ({ name, version, session_id_client_check: sid, pids, pids_rsa: pidsRsa }));
const runs = lines(runsF).map(f => Object.fromEntries(f.map(kv => {
  const i = kv.indexOf('=');
  return [kv.slice(0, i), num(kv.slice(i + 1))];
})));
const strip = rs => rs.map(({ server, scenario, ...x }) => x);

function handshake(sc, rs) {
  const n = sum(rs, 'n'), r = sum(rs, 'r');
  return {
    client: rs[0].client,
    hs_per_s: stats(rs.map(x => x.n / x.wall)),
    connections: n, resumed: r, resumed_share: n ? r / n : 0,
    server_cpu_pct: med(rs.map(x => 100 * x.srv / x.wall)),
    client_cpu_pct: med(rs.map(x => 100 * x.cli / x.wall)),
    backend_cpu_pct: med(rs.map(x => 100 * x.be / x.wall)),
    hs_per_server_cpu_s: med(rs.map(x => per(x.n, x.srv))),
    failed_clients: sum(rs, 'failed'),
    ratio_better: 'higher',
    runs: strip(rs).map(x => ({ connections: x.n, resumed: x.r, wall_s: x.wall, server_cpu_s: x.srv,
      client_cpu_s: x.cli, backend_cpu_s: x.be, failed_clients: x.failed })),
  };
}
function bulk(sc, rs) {
  return {
    client: 'tls_load', connections: rs[0].conns, block: rs[0].block, cipher: rs[0].cipher,
    bytes_per_s: stats(rs.map(x => per(x.bytes, x.load_s))),
    bytes_per_server_cpu_s: med(rs.map(x => per(x.bytes, x.srv))),
    ...loadCommon(rs), ratio_better: 'higher',
  };
}
function latency(sc, rs) {
  return {
    client: 'tls_load', connections: rs[0].conns, rate: rs[0].rate, size: rs[0].size,
    msgs_per_s: med(rs.map(x => per(x.msgs, x.load_s))),
    latency_us: { p50: med(rs.map(x => x.p50)), p99: med(rs.map(x => x.p99)), max: med(rs.map(x => x.max)) },
    ...loadCommon(rs), ratio_better: 'lower',
  };
}
// loadCommon: the CPU shares and counts every tls_load scenario reports.
function loadCommon(rs) {
  return {
    server_cpu_pct: med(rs.map(x => 100 * x.srv / x.wall)),
    client_cpu_pct: med(rs.map(x => 100 * per(x.cli, x.load_s))),
    backend_cpu_pct: med(rs.map(x => 100 * x.be / x.wall)),
    closed_early: sum(rs, 'closed'), failed_clients: sum(rs, 'failed'),
    runs: strip(rs),
  };
}
// connect: per run tls_load's rate and percentiles; the medians over runs.
function connect(sc, rs) {
  const n = sum(rs, 'n'), r = sum(rs, 'r');
  return {
    client: 'tls_load connect', clients: rs[0].clients, size: rs[0].size,
    conns_per_s: stats(rs.map(x => +x.rate || 0)),
    latency_us: { p50: med(rs.map(x => x.p50)), p90: med(rs.map(x => x.p90)), p99: med(rs.map(x => x.p99)),
      max: med(rs.map(x => x.max)) },
    connections: n, resumed: r, resumed_share: n ? r / n : 0,
    server_cpu_pct: med(rs.map(x => 100 * x.srv / x.wall)),
    client_cpu_pct: med(rs.map(x => 100 * x.cli / x.wall)),
    backend_cpu_pct: med(rs.map(x => 100 * x.be / x.wall)),
    server_cpu_us_per_conn: med(rs.map(x => per(1e6 * x.srv, x.n))),
    failed_clients: sum(rs, 'failed'),
    ratio_better: family(sc) === 1 ? 'lower' : 'higher',
    runs: strip(rs),
  };
}
function idle(sc, rs) {
  const x = rs[0], h = x.held;
  return {
    client: 'tls_load', connections_wanted: x.wanted, connections_held: h,
    server_rss_kib: { before: x.rss0, held: x.rss1 },
    kib_per_conn: h ? (x.rss1 - x.rss0) / h : null,
    backend_rss_kib: { before: x.brss0, held: x.brss1 },
    backend_kib_per_conn: h ? (x.brss1 - x.brss0) / h : null,
    kib_per_conn_with_backend: h ? (x.rss1 - x.rss0 + x.brss1 - x.brss0) / h : null,
    client_cpu_s: x.cli, closed_early: x.closed, failed_clients: x.failed,
    ratio_better: 'lower', runs: strip(rs),
  };
}
// The figure each ratio tlsd/peer is of.
const figure = {
  handshake: x => x.hs_per_server_cpu_s, bulk: x => x.bytes_per_server_cpu_s,
  latency: x => x.latency_us.p99, idle: x => x.kib_per_conn,
  // one client: the median latency (lower better); 16: connections/s.
  connect: x => (x.clients === 1 ? x.latency_us.p50 : x.conns_per_s.median),
};
const make = { handshake, bulk, latency, idle, connect };
const sel = selected.split(/\s+/);
const results = [];
for (const sc of order.split(/\s+/).filter(s => s && sel.includes(s))) {
  for (const s of servers) {
    const rs = runs.filter(x => x.server === s.name && x.scenario === sc);
    if (!rs.length) continue;
    results.push({ server: s.name, scenario: sc, label: labels[sc], key: sc.endsWith('rsa') ? 'rsa' : 'ecdsa',
      ...make[kindOf(sc)](sc, rs) });
  }
}
for (const x of results) {
  const t = results.find(y => y.server === 'tlsd' && y.scenario === x.scenario), f = figure[kindOf(x.scenario)];
  x.ratio_tlsd_over_peer = t && f(x) > 0 && f(t) != null ? f(t) / f(x) : null;
  if (kindOf(x.scenario) === 'connect')
    x.ratio_p99_tlsd_over_peer = t && x.latency_us.p99 > 0 ? t.latency_us.p99 / x.latency_us.p99 : null;
  if (x.scenario === 'latency')
    x.ratio_p50_tlsd_over_peer = t && x.latency_us.p50 > 0 ? t.latency_us.p50 / x.latency_us.p50 : null;
  if (x.scenario === 'idle')
    x.ratio_with_backend_tlsd_over_peer = t && x.kib_per_conn_with_backend > 0 ?
      t.kib_per_conn_with_backend / x.kib_per_conn_with_backend : null;
}
fs.writeFileSync(outF, JSON.stringify({ ...meta, servers, results }, null, 2) + '\n');

const f0 = v => (v == null || Number.isNaN(v) ? '-' : Math.round(v).toString());
const f1 = v => (v == null || Number.isNaN(v) ? '-' : v.toFixed(1));
const ratio = v => (v == null ? '-' : v.toFixed(2));
const proxy = x => ['hitch', 'haproxy', 'nginx'].includes(x.server) || x.server.endsWith('-backend');
const be = x => (proxy(x) ? `${f0(x.backend_cpu_pct)}%` : '-');
const of = k => results.filter(x => kindOf(x.scenario) === k);
const p = [];
p.push(`## tlsd and its peers, ${meta.workers} worker(s) each (${meta.date})`, '');
p.push(`Clients: ${meta.client}. ${meta.seconds} s x ${meta.repeat} runs per scenario (idle: one run).`);
p.push(`Machine: ${meta.cpus} CPUs (${meta.cpu_model}), ${meta.kernel}; ${meta.pinning}.`, '');
if (of('handshake').length) {
  p.push(`### Handshakes (ECDSA P-256 unless RSA-2048 is said; ${meta.clients} client processes side by side)`, '');
  p.push('| scenario | server | client | hs/s median (min-max) | resumed | server CPU | client CPU | backend CPU | hs/srv-CPU-s | tlsd/peer |');
  p.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const x of of('handshake')) {
    const h = x.hs_per_s;
    const res = x.scenario.startsWith('full') ? '-' : `${(100 * x.resumed_share).toFixed(1)}%`;
    p.push(`| ${x.label} | ${x.server} | ${x.client} | ${f0(h.median)} (${f0(h.min)}-${f0(h.max)}) | ${res} | ${f0(x.server_cpu_pct)}% | ${f0(x.client_cpu_pct)}% | ${be(x)} | ${f0(x.hs_per_server_cpu_s)} | ${ratio(x.ratio_tlsd_over_peer)} |`);
  }
  p.push('');
  p.push('hs/s: connections the clients completed / wall time of the run (s_time\'s -time is whole seconds and its');
  p.push('loop may overrun it by up to 1 s; the wall time covers that). resumed: s_time\'s "r" marks');
  p.push('(SSL_session_reused) among the timed connections (the first full one of each -reuse client is not');
  p.push('timed, so not counted); tls_load counts the same way. CPU: % of one core (server: all processes and');
  p.push('threads start.sh reports; client: the client processes; backend: the proxies\' echo backend, not in the');
  p.push('server\'s). hs/srv-CPU-s: handshakes per server CPU second, the fair figure when the client is the');
  p.push('bottleneck (client CPU near 100%); tlsd/peer is its ratio (above 1: tlsd spends less CPU per handshake).');
  p.push('tls_load (TLS 1.3 tickets) ends each connection with close_notify and reads until the server closes,');
  p.push('tickets included, and offers the newest session it was given; s_time just closes.', '');
}
if (of('bulk').length) {
  const m = meta.bulk;
  p.push(`### Throughput (echo, ${m.connections} connections, ${m.block}-byte blocks, ${m.blocks_in_flight} in flight each, TLS 1.3 ${m.suite})`, '');
  p.push('| server | MB/s echoed median (min-max) | server CPU | client CPU | backend CPU | MB/srv-CPU-s | tlsd/peer (above 1: tlsd better) |');
  p.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const x of of('bulk')) {
    const b = x.bytes_per_s;
    p.push(`| ${x.server} | ${f0(b.median / 1e6)} (${f0(b.min / 1e6)}-${f0(b.max / 1e6)}) | ${f0(x.server_cpu_pct)}% | ${f0(x.client_cpu_pct)}% | ${be(x)} | ${f0(x.bytes_per_server_cpu_s / 1e6)} | ${ratio(x.ratio_tlsd_over_peer)} |`);
  }
  p.push('');
  p.push('MB/s: bytes read back by the client / its timed seconds (10^6 bytes; each byte also went the other way).');
  p.push('MB/srv-CPU-s: the same bytes per server CPU second (the server\'s CPU over the whole client run, handshakes');
  p.push('included). The client is one thread; near 100% client CPU it is the limit, and MB/srv-CPU-s is the figure.');
  for (const x of of('bulk')) if (x.cipher !== m.suite) p.push(`- ${x.server}: suite ${x.cipher}, not the pinned one`);
  p.push('');
}
if (of('latency').length) {
  const m = meta.latency;
  p.push(`### Latency (echo, ${m.connections} connections, ${m.size}-byte messages, ${m.rate} msgs/s in all, TLS 1.3 ${m.suite})`, '');
  p.push('| server | msgs/s | p50 us | p99 us | max us | server CPU | client CPU | backend CPU | tlsd/peer p50 | tlsd/peer p99 (below 1: tlsd faster) |');
  p.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const x of of('latency')) {
    const l = x.latency_us;
    p.push(`| ${x.server} | ${f0(x.msgs_per_s)} | ${f0(l.p50)} | ${f0(l.p99)} | ${f0(l.max)} | ${f0(x.server_cpu_pct)}% | ${f0(x.client_cpu_pct)}% | ${be(x)} | ${ratio(x.ratio_p50_tlsd_over_peer)} | ${ratio(x.ratio_tlsd_over_peer)} |`);
  }
  p.push('');
  p.push('Latency: from a message\'s send to the last byte of its echo, in microseconds, nearest rank over the run\'s');
  p.push('messages (median over the runs); a message sent late because the previous reply came after it was due');
  p.push('counts from when it was due. Lower is better, so a ratio tlsd/peer below 1 means tlsd answered faster.', '');
}
if (of('idle').length) {
  p.push(`### Memory (TLS 1.3 ${meta.idle.suite} connections held idle after one 64-byte echo each)`, '');
  p.push('| server | held | server RSS before | server RSS held | KiB/conn | backend KiB/conn | tlsd/peer (below 1: tlsd less) | tlsd/peer with backend | client CPU s |');
  p.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const x of of('idle')) {
    const r = x.server_rss_kib;
    p.push(`| ${x.server} | ${x.connections_held}/${x.connections_wanted} | ${r.before} KiB | ${r.held} KiB | ${f1(x.kib_per_conn)} | ${proxy(x) ? f1(x.backend_kib_per_conn) : '-'} | ${ratio(x.ratio_tlsd_over_peer)} | ${ratio(x.ratio_with_backend_tlsd_over_peer)} | ${f1(x.client_cpu_s)} |`);
  }
  p.push('');
  p.push('RSS: VmRSS summed over the server\'s processes (/proc/PID/status), before (after 8 warm-up connections) and');
  p.push('while the connections are held; KiB/conn = the growth / connections held. The proxies\' echo backend is');
  p.push('apart (backend KiB/conn); "with backend" compares server + backend. Lower is better: a ratio below 1');
  p.push('means tlsd holds a connection in less memory. One run, on the fresh server (before the other scenarios).', '');
}
connectTables(p);
for (const s of servers) p.push(`- ${s.name}: ${s.version}; session-ID client check (tickets off, s_client): ${s.session_id_client_check}`);
for (const x of results.filter(y => y.failed_clients)) p.push(`- ${x.server}, ${x.label}: ${x.failed_clients} client run(s) failed`);
for (const x of results.filter(y => y.closed_early)) p.push(`- ${x.server}, ${x.label}: the server closed ${x.closed_early} connection(s) early`);
p.push('', `JSON: ${outF}`);
console.log(p.join('\n'));

// connectTables: the connect family, per family a long table (every
// figure), two tables with a column per server, and where tlsd is behind.
function connectTables(p) {
  const pct = v => `${f0(v)}%`;
  for (const fam of [1, 16]) {
    const rs = of('connect').filter(x => x.clients === fam);
    if (!rs.length) continue;
    const scs = [...new Set(rs.map(x => x.scenario))], names = [...new Set(rs.map(x => x.server))];
    const cell = (sc, n, fn) => { const x = rs.find(y => y.scenario === sc && y.server === n); return x ? fn(x) : '-'; };
    const who = fam === 1 ? 'one client, one connection at a time' : `${fam} clients side by side, each one connection at a time`;
    p.push(`### Connect, handshake, ${meta.connect.size}-byte echo, close: ${who} (${meta.workers} worker(s))`, '');
    p.push('| scenario | server | conns/s median (min-max) | resumed | p50 us | p90 us | p99 us | max us | server CPU | client CPU | backend CPU | srv CPU us/conn | tlsd/peer p50 | tlsd/peer p99 | tlsd/peer conns/s |');
    p.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const x of rs) {
      const l = x.latency_us, c = x.conns_per_s, t = rs.find(y => y.server === 'tlsd' && y.scenario === x.scenario);
      const res = baseOf(x.scenario).startsWith('full') ? '-' : `${(100 * x.resumed_share).toFixed(1)}%`;
      const rp50 = t && l.p50 > 0 ? t.latency_us.p50 / l.p50 : null, rrate = t && c.median > 0 ? t.conns_per_s.median / c.median : null;
      p.push(`| ${x.label} | ${x.server} | ${f0(c.median)} (${f0(c.min)}-${f0(c.max)}) | ${res} | ${f0(l.p50)} | ${f0(l.p90)} | ${f0(l.p99)} | ${f0(l.max)} | ${pct(x.server_cpu_pct)} | ${pct(x.client_cpu_pct)} | ${be(x)} | ${f0(x.server_cpu_us_per_conn)} | ${ratio(rp50)} | ${ratio(x.ratio_p99_tlsd_over_peer)} | ${ratio(rrate)} |`);
    }
    p.push('');
    const head = `| scenario | ${names.join(' | ')} |`, rule = `|---|${names.map(() => '---:').join('|')}|`;
    const br = v => (v == null ? '' : ` (${v.toFixed(2)}x)`);
    const tOf = sc => rs.find(y => y.server === 'tlsd' && y.scenario === sc);
    if (fam === 1) {
      p.push('p50 / p99 latency in us (in brackets tlsd/peer of p50; below 1: tlsd answers sooner):', '', head, rule);
      for (const sc of scs) p.push(`| ${labels[sc]} | ${names.map(n => cell(sc, n, x => `${f0(x.latency_us.p50)} / ${f0(x.latency_us.p99)}${x.server === 'tlsd' ? '' : br(x.ratio_tlsd_over_peer)}`)).join(' | ')} |`);
      p.push('', 'Connections per second (server CPU / client CPU, % of one core):', '', head, rule);
      for (const sc of scs) p.push(`| ${labels[sc]} | ${names.map(n => cell(sc, n, x => `${f0(x.conns_per_s.median)} (${pct(x.server_cpu_pct)}/${pct(x.client_cpu_pct)})`)).join(' | ')} |`);
    } else {
      p.push('Connections per second (in brackets tlsd/peer; above 1: tlsd completes more):', '', head, rule);
      for (const sc of scs) p.push(`| ${labels[sc]} | ${names.map(n => cell(sc, n, x => `${f0(x.conns_per_s.median)}${x.server === 'tlsd' ? '' : br(x.ratio_tlsd_over_peer)}`)).join(' | ')} |`);
      p.push('', 'p50 / p99 latency in us (server CPU / client CPU, % of one core):', '', head, rule);
      for (const sc of scs) p.push(`| ${labels[sc]} | ${names.map(n => cell(sc, n, x => `${f0(x.latency_us.p50)} / ${f0(x.latency_us.p99)} (${pct(x.server_cpu_pct)}/${pct(x.client_cpu_pct)})`)).join(' | ')} |`);
    }
    p.push('');
    p.push('Latency: from connect() to the last byte of the echo, per connection, nearest rank over the run\'s');
    p.push('connections (median over the runs). conns/s: connections the clients completed / their timed seconds.');
    p.push('Resumed scenarios: each client\'s first, untimed, connection makes the session it then offers.');
    p.push('srv CPU us/conn: the server\'s CPU over the run / connections (for *-backend rows and the proxies the');
    p.push('echo backend is apart, in backend CPU). tlsd/peer of p50 and p99: below 1, tlsd answered sooner;');
    p.push('of conns/s: above 1, tlsd completed more.', '');
    behind(p, rs, scs);
  }
}
// behind: every figure where tlsd (echo) is behind the best peer, and
// tlsd-backend behind the best proxy; and tlsd against tlsd-before.
function behind(p, rs, scs) {
  const figs = [['p50', x => x.latency_us.p50, 'lower', ' us'], ['p90', x => x.latency_us.p90, 'lower', ' us'],
    ['p99', x => x.latency_us.p99, 'lower', ' us'], ['conns/s', x => x.conns_per_s.median, 'higher', '']];
  const peers = ['node-store', 'node', 'haproxy', 'nginx', 'hitch'], proxies = ['haproxy', 'nginx', 'hitch'];
  const lines = [], ba = [];
  for (const sc of scs) {
    const at = n => rs.find(y => y.scenario === sc && y.server === n);
    for (const [me, group, what] of [['tlsd', peers, 'peer'], ['tlsd-backend', proxies, 'proxy']]) {
      const t = at(me), ps = group.map(at).filter(Boolean);
      if (!t || !ps.length) continue;
      for (const [fn, f, better, unit] of figs) {
        const best = ps.reduce((a, b) => ((better === 'lower' ? f(b) < f(a) : f(b) > f(a)) ? b : a));
        const worse = better === 'lower' ? f(t) > f(best) : f(t) < f(best);
        if (worse && f(best) > 0)
          lines.push(`- ${labels[sc]}, ${fn}: ${me} ${f0(f(t))}${unit}, best ${what} ${best.server} ${f0(f(best))}${unit} (${me}/${best.server} ${(f(t) / f(best)).toFixed(2)}x)`);
      }
    }
    for (const [now, old] of [['tlsd', 'tlsd-before'], ['tlsd-backend', 'tlsd-before-backend']]) {
      const a = at(now), b = at(old);
      if (a && b) ba.push(`- ${labels[sc]}: ${now} p50 ${f0(a.latency_us.p50)} / p99 ${f0(a.latency_us.p99)} us, ${f0(a.conns_per_s.median)}/s; ${old} ${f0(b.latency_us.p50)} / ${f0(b.latency_us.p99)} us, ${f0(b.conns_per_s.median)}/s (p50 ${ratio(a.latency_us.p50 / b.latency_us.p50)}x, conns/s ${ratio(a.conns_per_s.median / b.conns_per_s.median)}x)`);
    }
  }
  p.push('Where tlsd is behind the best peer (tlsd-backend: the best proxy):', '');
  p.push(...(lines.length ? lines : ['- nowhere']), '');
  if (ba.length) p.push('Before and after (the same scenario, the older binary of BENCH_TLSD_BEFORE):', '', ...ba, '');
}
EOF
