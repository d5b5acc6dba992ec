#!/bin/bash
# control-latency.sh - latency of the control endpoint (the master's
# JSON-over-HTTP API) while the workers are saturated with full TLS
# handshakes, against the goal "the control endpoint answers within 50 ms
# (p99) while the workers are saturated with handshakes".
#
# tlsd --demo runs with BENCH_WORKERS (2) workers, the access log off and the
# control endpoint on 127.0.0.1 port 0. The same requests in each phase:
#
#   idle     no TLS clients
#   loaded   BENCH_CLIENTS (4 per worker) `openssl s_time -new` processes
#            side by side, each making full handshakes (TLS 1.3) one after
#            another, from BENCH_WARMUP (1) s before the first control
#            request until the last one has answered (each client runs
#            s_time -time BENCH_CHUNK (2) in a loop, so the load lasts as
#            long as the requests do; s_time prints its count only when it
#            ends). One loaded phase per BENCH_NICE value (below).
#
# In each phase BENCH_REQUESTS (300) control requests, one after another,
# each a new curl process, rotating over GET /v1/stats, GET /metrics,
# GET /v1/connections and POST /v1/ticket-keys/rotate; the latency of each is
# curl's %{time_total} (from curl starting the transfer to the last byte:
# TCP connect, request, the master's answer). The table gives p50, p90, p99
# and max per endpoint and over all of them (nearest rank: with 75 requests
# per endpoint, p99 is the maximum), the phases side by side.
#
# Handshakes/s in the loaded phase: the connections the s_time clients
# report, divided by the wall time of the load (the access log is off);
# /v1/stats before and after gives tlsd's own count as a check.
# CPU use during the loaded requests, in % of one core: tlsd's master and
# each worker (from /proc/PID/stat), the clients (their `times`), the curl
# processes (this shell's `times`), and the whole machine (/proc/stat; the
# rest is other processes). From /proc/PID/schedstat: the share of the time
# each worker was runnable (near 100%: never short of handshakes, i.e.
# saturated), and the master's run-queue wait (kept waiting for a CPU).
#
#   bench/control-latency.sh [TLSD_BIN]    (default: $TLSD, else ./tlsd,
#                                          else the tlsd next to bench/)
#   BENCH_REQUESTS=300 BENCH_WORKERS=2 BENCH_CLIENTS=(4 x workers) BENCH_WARMUP=1
#   BENCH_CHUNK=2 BENCH_TARGET_MS=50
#   BENCH_NICE="0 10"  niceness of the clients, one loaded phase per value:
#                      at 0 the clients compete with tlsd and curl for the
#                      CPUs on equal terms; at 10 tlsd and curl get the CPU
#                      first, closer to a server whose clients are elsewhere
#
# A benchmark, not a test: make check never runs it. Progress goes to
# stderr, the table to stdout. About 30 s with the defaults.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
tlsd=$(bench_find_tlsd "${1:-${TLSD:-}}") || { echo "control-latency: no tlsd binary (give its path)" >&2; exit 2; }

nreq=${BENCH_REQUESTS:-300}
workers=${BENCH_WORKERS:-2}
clients=${BENCH_CLIENTS:-$((4 * workers))}
warmup=${BENCH_WARMUP:-1}
chunk=${BENCH_CHUNK:-2}
target=${BENCH_TARGET_MS:-50}
nices=${BENCH_NICE:-0 10}
for v in "$nreq" "$workers" "$clients" "$chunk"; do
	case $v in ''|*[!0-9]*|0) echo "control-latency: BENCH_REQUESTS, BENCH_WORKERS, BENCH_CLIENTS and BENCH_CHUNK must be whole numbers > 0" >&2; exit 2 ;; esac
done
for tool in openssl curl awk; do
	command -v $tool >/dev/null || { echo "control-latency: $tool not found" >&2; exit 2; }
done
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
hz=$(getconf CLK_TCK)

endpoints=("GET /v1/stats" "GET /metrics" "GET /v1/connections" "POST /v1/ticket-keys/rotate")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/control-latency.XXXXXX") || exit 1
tlsd_pid=
load_pids=()
cleanup() {
	local p
	touch "$tmp/stop"
	for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ -n "$tlsd_pid" ] && kill "$tlsd_pid" 2>/dev/null && wait "$tlsd_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "$*" >&2; }
fmt() { awk -v x="$1" -v d="${2:-0}" 'BEGIN { printf "%.*f", d, x }'; }
now() { date +%s.%N; }

# The same OpenSSL config for every s_time run, as handshake-rate.sh does.
printf 'openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n[sd]\n' >"$tmp/openssl.cnf"
echo '{"accessLog": "off"}' >"$tmp/tlsd.json"

"$tlsd" -c "$tmp/tlsd.json" --demo --listen 127.0.0.1:0 --control 127.0.0.1:0 --state-dir "$tmp/state" \
	--workers "$workers" --log-format json --log-level warn >"$tmp/tlsd.out" 2>"$tmp/tlsd.err" &
tlsd_pid=$!
for i in $(seq 100); do
	grep -q '^ready pid=' "$tmp/tlsd.out" && break
	kill -0 "$tlsd_pid" 2>/dev/null || break
	sleep 0.1
done
port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/tlsd.out")
cport=$(sed -n 's/^control 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/tlsd.out")
if [ -z "$port" ] || [ -z "$cport" ] || ! grep -q '^ready pid=' "$tmp/tlsd.out"; then
	say "control-latency: tlsd did not start:"; cat "$tmp/tlsd.err" >&2; exit 1
fi
worker_pids=$(cat "/proc/$tlsd_pid/task/$tlsd_pid/children" 2>/dev/null)
# The token goes in a header file, not on curl's command line.
echo "Authorization: Bearer $(head -n 1 "$tmp/state/control.token")" >"$tmp/auth"

rq_wait_ns() { awk '{ printf "%.0f\n", $2 }' "/proc/$1/schedstat" 2>/dev/null || echo 0; }
# run_wait_ns PID: nanoseconds on a CPU plus waiting for one (runnable).
run_wait_ns() { awk '{ printf "%.0f\n", $1 + $2 }' "/proc/$1/schedstat" 2>/dev/null || echo 0; }
invol() { awk '/^nonvoluntary_ctxt_switches/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# cpu_busy_idle: "busy idle" jiffies of the whole machine.
cpu_busy_idle() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, $5 + $6 }' /proc/stat; }
# stat_hs: "handshakes (full+resumed) failed" from /v1/stats (not timed).
stat_hs() {
	curl -s -H @"$tmp/auth" "http://127.0.0.1:$cport/v1/stats" |
		awk '{ f = r = e = 0
			if (match($0, /"full": *[0-9]+/)) { s = substr($0, RSTART, RLENGTH); sub(/.*: */, "", s); f = s }
			if (match($0, /"resumed": *[0-9]+/)) { s = substr($0, RSTART, RLENGTH); sub(/.*: */, "", s); r = s }
			if (match($0, /"failed": *[0-9]+/)) { s = substr($0, RSTART, RLENGTH); sub(/.*: */, "", s); e = s }
			print f + r, e }'
}

# requests PHASE: BENCH_REQUESTS timed control requests, and the CPU use
# while they run. Writes $tmp/lat.PHASE ("endpoint-index status connect total"
# per request) and $tmp/cpu.PHASE.
requests() {
	local phase=$1 i e m p t0 t1 w
	local h0 h1 m0 m1 q0 q1 v0 v1 b0 b1 wk0=() wk1=() wr0=() wr1=()
	: >"$tmp/lat.$phase"
	m0=$(bench_ticks "$tlsd_pid") q0=$(rq_wait_ns "$tlsd_pid") v0=$(invol "$tlsd_pid") b0=$(cpu_busy_idle)
	for w in $worker_pids; do wk0+=("$(bench_ticks "$w")") wr0+=("$(run_wait_ns "$w")"); done
	read -r h0 _ <<<"$(stat_hs)"
	times >"$tmp/times0"
	t0=$(now)
	for i in $(seq 0 $((nreq - 1))); do
		e=$((i % ${#endpoints[@]}))
		m=${endpoints[$e]%% *} p=${endpoints[$e]#* }
		printf '%s ' "$e" >>"$tmp/lat.$phase"
		curl -s -o /dev/null -H @"$tmp/auth" -X "$m" -w '%{http_code} %{time_connect} %{time_total}\n' \
			"http://127.0.0.1:$cport$p" >>"$tmp/lat.$phase" || echo "000 0 0" >>"$tmp/lat.$phase"
	done
	t1=$(now)
	times >"$tmp/times1"
	read -r h1 _ <<<"$(stat_hs)"
	m1=$(bench_ticks "$tlsd_pid") q1=$(rq_wait_ns "$tlsd_pid") v1=$(invol "$tlsd_pid") b1=$(cpu_busy_idle)
	for w in $worker_pids; do wk1+=("$(bench_ticks "$w")") wr1+=("$(run_wait_ns "$w")"); done
	local wall workers_cpu="" workers_rq="" k=0
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	for w in $worker_pids; do
		workers_cpu+="$(awk -v d="$((wk1[k] - wk0[k]))" -v hz="$hz" -v w="$wall" 'BEGIN { print 100 * d / hz / w }') "
		workers_rq+="$(awk -v d="$((wr1[k] - wr0[k]))" -v w="$wall" 'BEGIN { print 100 * d / 1e9 / w }') "
		k=$((k + 1))
	done
	{
		echo "wall $wall"
		echo "hs $((h1 - h0)) $(awk -v n="$((h1 - h0))" -v w="$wall" 'BEGIN { print n / w }')"
		echo "master $(awk -v d="$((m1 - m0))" -v hz="$hz" -v w="$wall" 'BEGIN { print 100 * d / hz / w }')"
		echo "workers $workers_cpu"
		echo "runnable $workers_rq"
		echo "curl $(awk -v a="$(bench_child_cpu "$tmp/times0")" -v b="$(bench_child_cpu "$tmp/times1")" -v w="$wall" 'BEGIN { print 100 * (b - a) / w }')"
		echo "rqwait $(awk -v d="$((q1 - q0))" -v n="$nreq" 'BEGIN { print d / 1e6 / n }')"
		echo "invol $((v1 - v0))"
		read -r bb0 ib0 <<<"$b0"; read -r bb1 ib1 <<<"$b1"
		echo "machine $(awk -v b="$((bb1 - bb0))" -v i="$((ib1 - ib0))" 'BEGIN { print (b + i) ? 100 * b / (b + i) : 0 }')"
	} >"$tmp/cpu.$phase"
}
# q99 FILE EXPR: p99 (nearest rank) in ms of an awk expression over the fields.
q99() { awk "{ print 1000 * ($2) }" "$1" | sort -g | awk '{ v[NR] = $1 } END { r = int(0.99 * NR); if (r < 0.99 * NR) r++; printf "%.1f", v[r] }'; }
cpu_field() { awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$tmp/cpu.$1"; }

# pct FILE Q [ENDPOINT]: the Q-quantile (nearest rank) of time_total in ms;
# Q=max for the maximum, Q=n for the count, Q=bad for non-2xx answers.
pct() {
	awk -v e="${3:--1}" '(e < 0 || $1 == e) { print $2, $4 * 1000 }' "$1" | sort -k2,2g |
		awk -v q="$2" '{ n++; v[n] = $2; if ($1 !~ /^2/) bad++ }
		END { if (q == "n") { print n; exit } if (q == "bad") { print bad + 0; exit }
			if (n == 0) { print "-"; exit }
			if (q == "max") { printf "%.1f", v[n]; exit }
			r = int(q * n); if (r < q * n) r++; if (r < 1) r = 1
			printf "%.1f", v[r] }'
}

say "control latency: $("$tlsd" --version | head -n 1), $workers workers, $(openssl version | cut -d' ' -f1-2) s_time x $clients, $(curl --version | head -n 1 | cut -d' ' -f1-2)"
say "$ncpu CPUs online; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"

# Idle phase (the first requests also warm up tlsd and the page cache).
say "== idle: $nreq requests"
requests idle
say "  $(fmt "$(cpu_field idle wall)" 1) s, p99 $(pct "$tmp/lat.idle" 0.99) ms"

phases=(idle)
labels=(idle)
load_notes=()
for nv in $nices; do
	phase=loaded$nv
	label=loaded
	[ "$nv" != 0 ] && label="loaded, clients nice $nv"
	phases+=("$phase")
	labels+=("$label")
	say "== loaded (clients at nice $nv): $clients s_time -new clients, then $nreq requests"
	rm -f "$tmp/stop" "$tmp"/load.*
	read -r hs0 fail0 <<<"$(stat_hs)"
	load_pids=()
	l0=$(now)
	for i in $(seq "$clients"); do
		(
			while [ ! -e "$tmp/stop" ]; do
				nice -n "$nv" env OPENSSL_CONF="$tmp/openssl.cnf" openssl s_time -connect "127.0.0.1:$port" \
					-new -tls1_3 -time "$chunk" -no-CAfile -no-CApath -no-CAstore >"$tmp/load.$i.run" 2>&1 ||
					echo "client-failed" >>"$tmp/load.$i.out"
				grep ' connections in .* real seconds' "$tmp/load.$i.run" >>"$tmp/load.$i.out"
			done
			times >"$tmp/load.$i.times"
		) &
		load_pids+=($!)
	done
	sleep "$warmup"
	requests "$phase"
	touch "$tmp/stop"
	for p in "${load_pids[@]}"; do wait "$p"; done
	l1=$(now)
	load_pids=()
	read -r hs1 fail1 <<<"$(stat_hs)"
	lwall=$(awk -v a="$l0" -v b="$l1" 'BEGIN { print b - a }')
	conns=$(cat "$tmp"/load.*.out | awk '/connections in/ { s += $1 } END { print s + 0 }')
	cfail=$(cat "$tmp"/load.*.out | grep -c client-failed)
	ccpu=$(for i in $(seq "$clients"); do bench_child_cpu "$tmp/load.$i.times"; done | awk -v w="$lwall" '{ s += $1 } END { print 100 * s / w }')
	rate=$(awk -v n="$conns" -v w="$lwall" 'BEGIN { print n / w }')
	srate=$(awk -v n="$((hs1 - hs0))" -v w="$lwall" 'BEGIN { print n / w }')
	read -r -a wcpu <<<"$(cpu_field "$phase" workers)"
	read -r -a wrun <<<"$(cpu_field "$phase" runnable)"
	wsum=0 wtxt="" rtxt=""
	for x in "${wcpu[@]}"; do wsum=$(awk -v a="$wsum" -v b="$x" 'BEGIN { print a + b }'); wtxt+="$(fmt "$x")% "; done
	for x in "${wrun[@]}"; do rtxt+="$(fmt "$x")% "; done
	tsum=$(awk -v a="$wsum" -v b="$(cpu_field "$phase" master)" 'BEGIN { print a + b }')
	others=$(awk -v m="$(cpu_field "$phase" machine)" -v n="$ncpu" -v t="$tsum" -v c="$ccpu" -v u="$(cpu_field "$phase" curl)" \
		'BEGIN { o = m * n - t - c - u; print (o < 0 ? 0 : o) }')
	load_notes+=("$label: $(fmt "$rate") handshakes/s ($conns connections from the clients in $(fmt "$lwall" 1) s; tlsd counted $((hs1 - hs0)) handshakes, $(fmt "$srate")/s, and $((fail1 - fail0)) failed)$([ "$cfail" -gt 0 ] && echo "; $cfail s_time runs exited non-zero")")
	read -r whs wrate <<<"$(cpu_field "$phase" hs)"
	load_notes+=("  during the requests ($(fmt "$(cpu_field "$phase" wall)" 1) s): tlsd counted $whs handshakes, $(fmt "$wrate")/s")
	load_notes+=("  CPU during the requests, % of one core: tlsd workers ${wtxt}(sum $(fmt "$wsum")%), master $(fmt "$(cpu_field "$phase" master)")%; s_time clients $(fmt "$ccpu")% (whole load); curl $(fmt "$(cpu_field "$phase" curl)")%; machine $(fmt "$(cpu_field "$phase" machine)")% busy of $ncpu CPUs, other processes ~$(fmt "$others")%")
	load_notes+=("  workers runnable (on a CPU or waiting for one, from schedstat) ${rtxt}of the time; 100% = never short of work")
	load_notes+=("  master: $(fmt "$(cpu_field "$phase" rqwait)" 2) ms run-queue wait per request (schedstat), $(cpu_field "$phase" invol) involuntary context switches")
	say "  $(fmt "$rate") hs/s, workers ${wtxt}master $(fmt "$(cpu_field "$phase" master)")%, clients $(fmt "$ccpu")%, p99 $(pct "$tmp/lat.$phase" 0.99) ms"
done

idle_wall=$(cpu_field idle wall)
echo "tlsd control endpoint latency: $("$tlsd" --version | head -n 1), --demo (ECDSA P-256), $workers workers, access log off"
echo "load: $clients x $(openssl version | cut -d' ' -f1-2) s_time -new -tls1_3 (full handshakes), from ${warmup} s before the first request to the last"
echo "requests: $nreq per phase, sequential, one curl process each ($(curl --version | head -n 1 | cut -d' ' -f1-2)), rotating over ${#endpoints[@]} endpoints; latency = curl %{time_total}, ms"
echo "NOTE: $ncpu CPUs online, shared by everything: tlsd (master + $workers workers), the s_time clients, curl and any other process (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "idle: $(fmt "$idle_wall" 1) s for $nreq requests; master $(fmt "$(cpu_field idle master)")%, curl $(fmt "$(cpu_field idle curl)")%, machine $(fmt "$(cpu_field idle machine)")% busy"
printf '%s\n' "${load_notes[@]}"
echo "percentiles: nearest rank; per endpoint n = $((nreq / ${#endpoints[@]})), so p99 there is the maximum"
echo
hdr=$(printf '%-28s' endpoint)
sub=$(printf '%-28s' '')
for ph in "${labels[@]}"; do
	hdr+=$(printf ' | %-27s' "$ph (ms)")
	sub+=$(printf ' | %6s %6s %6s %6s' p50 p90 p99 max)
done
echo "$hdr"
echo "$sub"
for e in $(seq 0 $((${#endpoints[@]} - 1))) all; do
	if [ "$e" = all ]; then idx=-1 name="all"; else idx=$e name=${endpoints[$e]}; fi
	row=$(printf '%-28s' "$name")
	for ph in "${phases[@]}"; do
		row+=$(printf ' | %6s %6s %6s %6s' "$(pct "$tmp/lat.$ph" 0.5 "$idx")" "$(pct "$tmp/lat.$ph" 0.9 "$idx")" \
			"$(pct "$tmp/lat.$ph" 0.99 "$idx")" "$(pct "$tmp/lat.$ph" max "$idx")")
	done
	echo "$row"
done
echo
for k in "${!phases[@]}"; do
	ph=${phases[$k]} label=${labels[$k]}
	bad=$(pct "$tmp/lat.$ph" bad)
	[ "$bad" -gt 0 ] && echo "$label: $bad of $nreq requests answered other than 2xx: $(awk '$2 !~ /^2/ { print $2 }' "$tmp/lat.$ph" | sort | uniq -c | sed 's/^ *//' | tr '\n' ' ')"
	p99=$(pct "$tmp/lat.$ph" 0.99)
	over=$(awk -v t="$target" '$4 * 1000 > t' "$tmp/lat.$ph" | wc -l)
	verdict=$(awk -v p="$p99" -v t="$target" 'BEGIN { print (p <= t ? "within" : "OVER") }')
	echo "$label: overall p99 $p99 ms: $verdict the ${target} ms goal ($over of $nreq requests over ${target} ms)"
	echo "  split of time_total, p99: until TCP connected $(q99 "$tmp/lat.$ph" '$3') ms, after $(q99 "$tmp/lat.$ph" '$4 - $3') ms"
done
