#!/bin/bash
# handshake-rate.sh - TLS handshakes per second against tlsd (--demo, ECDSA
# P-256) with 1 and with 2 workers, for five cases:
#
#   full TLS 1.3       openssl s_time -new -tls1_3
#   full TLS 1.2       openssl s_time -new -tls1_2
#   session ID 1.2     openssl s_time -reuse -tls1_2, tickets off in the client
#                      (s_time has no -no_ticket: an OPENSSL_CONF with
#                      "Options = -SessionTicket" turns them off)
#   ticket TLS 1.2     openssl s_time -reuse -tls1_2
#   ticket TLS 1.3     node bench/handshake-client.mjs --reuse: s_time never
#                      reads after the handshake, so it never gets a TLS 1.3
#                      ticket and its -reuse connections are all full ones
#
# Each case runs BENCH_SECONDS (5) seconds, BENCH_REPEAT (3) times; the table
# gives the median and min-max. Handshakes are counted in tlsd's access log
# ("close" lines) and divided by the wall time of the client run; the
# "resumed" share is the access log's "resumed" field. Server CPU (master and
# workers, from /proc) and client CPU (getrusage of the client processes) are
# in % of one core: a client near 100% is the bottleneck, not tlsd.
# "hs/srv-CPU-s" is handshakes per CPU second of tlsd, the server's cost.
# Failed handshakes (access-log clientError lines) are not counted; a note
# says how many. With s_time and TLS 1.3 there are some: GnuTLS sends its
# tickets right after its Finished, s_time closes without reading them, and
# the reset that this causes can reach tlsd before it has read the client's
# Finished.
#
# Every run has BENCH_CLIENTS (2) client processes side by side: each client
# makes one connection at a time, so a single one mostly waits for round
# trips. With 1 worker and 2+ CPUs, tlsd is pinned to CPU 0 and the clients
# to CPU 1 (taskset); with 2 workers nothing is pinned.
#
#   bench/handshake-rate.sh [TLSD_BIN]     (default: $TLSD, else ./tlsd,
#                                          else the tlsd next to bench/)
#   BENCH_SECONDS=5 BENCH_REPEAT=3 BENCH_WORKERS="1 2" BENCH_CLIENTS=2
#   BENCH_CASES="full13 full12 sid12 tkt12 tkt13" BENCH_PIN=auto|off
#
# A benchmark, not a test: make check never runs it. Progress goes to
# stderr, the table to stdout.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
tlsd=$(bench_find_tlsd "${1:-${TLSD:-}}") || { echo "handshake-rate: no tlsd binary (give its path)" >&2; exit 2; }

dur=${BENCH_SECONDS:-5}
repeat=${BENCH_REPEAT:-3}
workers_list=${BENCH_WORKERS:-1 2}
cases=${BENCH_CASES:-full13 full12 sid12 tkt12 tkt13}
pin=${BENCH_PIN:-auto}
case $dur in ''|*[!0-9]*|0) echo "handshake-rate: BENCH_SECONDS must be a whole number of seconds (s_time -time)" >&2; exit 2 ;; esac
for tool in openssl node awk; do
	command -v $tool >/dev/null || { echo "handshake-rate: $tool not found" >&2; exit 2; }
done
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
hz=$(getconf CLK_TCK)
if [ "$pin" = auto ] && { [ "$ncpu" -lt 2 ] || ! command -v taskset >/dev/null; }; then pin=off; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/handshake-rate.XXXXXX") || exit 1
tlsd_pid=
cleanup() {
	[ -n "$tlsd_pid" ] && kill "$tlsd_pid" 2>/dev/null && wait "$tlsd_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The same OpenSSL config for every s_time run (so the distribution's
# system_default does not differ between cases), with or without tickets.
printf 'openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n[sd]\n' >"$tmp/tickets.cnf"
{ cat "$tmp/tickets.cnf"; echo 'Options = -SessionTicket'; } >"$tmp/no-tickets.cnf"

say() { echo "$*" >&2; }
fmt() { awk -v x="$1" -v d="${2:-0}" 'BEGIN { printf "%.*f", d, x }'; }

# start_tlsd WORKERS [PREFIX...] [-- EXTRA ARGS]: start tlsd, set port and tlsd_pid.
start_tlsd() {
	local w=$1 i
	shift
	local prefix=() extra=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do prefix+=("$1"); shift; done
	[ $# -gt 0 ] && { shift; extra=("$@"); }
	log=$tmp/access.log
	: >"$log"
	"${prefix[@]}" "$tlsd" "${extra[@]}" --demo --listen 127.0.0.1:0 --control off --workers "$w" \
		--log-format json --log-level warn >"$log" 2>"$tmp/tlsd.err" &
	tlsd_pid=$!
	for i in $(seq 100); do
		grep -q '^ready pid=' "$log" && break
		kill -0 "$tlsd_pid" 2>/dev/null || break
		sleep 0.1
	done
	port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")
	if [ -z "$port" ] || ! grep -q '^ready pid=' "$log"; then
		say "handshake-rate: tlsd did not start:"; cat "$tmp/tlsd.err" >&2; exit 1
	fi
}

stop_tlsd() {
	kill "$tlsd_pid" 2>/dev/null
	wait "$tlsd_pid" 2>/dev/null
	tlsd_pid=
}

# server_ticks: CPU ticks (user+system) of the master and its workers.
server_ticks() {
	# shellcheck disable=SC2046
	bench_ticks "$tlsd_pid" $(cat "/proc/$tlsd_pid/task/$tlsd_pid/children" 2>/dev/null)
}

# client_cmd CASE: set cmd to the command line of one client of CASE.
client_cmd() {
	local sopts=(-connect "127.0.0.1:$port" -time "$dur" -no-CAfile -no-CApath -no-CAstore)
	case $1 in
	full13) cmd=(OPENSSL_CONF="$tmp/tickets.cnf" openssl s_time -new -tls1_3 "${sopts[@]}") ;;
	full12) cmd=(OPENSSL_CONF="$tmp/tickets.cnf" openssl s_time -new -tls1_2 "${sopts[@]}") ;;
	sid12) cmd=(OPENSSL_CONF="$tmp/no-tickets.cnf" openssl s_time -reuse -tls1_2 "${sopts[@]}") ;;
	tkt12) cmd=(OPENSSL_CONF="$tmp/tickets.cnf" openssl s_time -reuse -tls1_2 "${sopts[@]}") ;;
	tkt13) cmd=(node "$here/handshake-client.mjs" --port "$port" --seconds "$dur" --version TLSv1.3 --reuse) ;;
	esac
}
label() {
	case $1 in
	full13) echo "full, TLS 1.3" ;; full12) echo "full, TLS 1.2" ;;
	sid12) echo "session ID, TLS 1.2" ;; tkt12) echo "ticket, TLS 1.2" ;;
	tkt13) echo "ticket, TLS 1.3" ;; *) echo "$1" ;;
	esac
}
tool() { case $1 in tkt13) echo node-client ;; *) echo s_time ;; esac; }
proto() { case $1 in *13) echo TLSv1.3 ;; *) echo TLSv1.2 ;; esac; }

# run_once CASE CLIENTS CLIENT-PREFIX...: one timed run; sets r_rate r_n
# r_resumed r_errors r_srv r_cli r_proto_bad.
run_once() {
	local c=$1 k=$2 i n0 t0 t1 s0 s1 last cur pids=() failed=0
	shift 2
	client_cmd "$c"
	n0=$(wc -l <"$log")
	s0=$(server_ticks)
	times >"$tmp/times0"
	t0=$(date +%s.%N)
	for i in $(seq "$k"); do
		"$@" env "${cmd[@]}" >"$tmp/client.$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || failed=1; done
	t1=$(date +%s.%N)
	times >"$tmp/times1"
	s1=$(server_ticks)
	if [ "$failed" = 1 ]; then
		say "handshake-rate: a client failed:"; tail -n 3 "$tmp"/client.*.out >&2
	fi
	# Let the last access-log lines arrive.
	last=-1
	for i in $(seq 50); do
		cur=$(wc -l <"$log")
		[ "$cur" = "$last" ] && break
		last=$cur
		sleep 0.1
	done
	tail -n +"$((n0 + 1))" "$log" >"$tmp/run.log"
	local wall
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	r_n=$(grep -c '"event":"close"' "$tmp/run.log")
	r_resumed=$(grep '"event":"close"' "$tmp/run.log" | grep -c '"resumed":true')
	r_errors=$(grep -c '"event":"clientError"' "$tmp/run.log")
	[ "$r_errors" -gt 0 ] && grep '"event":"clientError"' "$tmp/run.log" |
		sed -n 's/.*"error":"\([^"]*\)".*/\1/p' >>"$tmp/errors.$c.${w:-control}"
	r_proto_bad=$(grep '"event":"close"' "$tmp/run.log" | grep -vc "\"protocol\":\"$(proto "$c")\"")
	r_rate=$(awk -v n="$r_n" -v w="$wall" 'BEGIN { print n / w }')
	r_srv=$(awk -v d="$((s1 - s0))" -v hz="$hz" -v w="$wall" 'BEGIN { print 100 * d / hz / w }')
	r_cli=$(awk -v a="$(bench_child_cpu "$tmp/times0")" -v b="$(bench_child_cpu "$tmp/times1")" -v w="$wall" \
		'BEGIN { print 100 * (b - a) / w }')
	r_hscpu=$(awk -v n="$r_n" -v d="$((s1 - s0))" -v hz="$hz" 'BEGIN { print (d > 0 ? n * hz / d : 0) }')
}

# stats V...: "median min max" (median of an even count: mean of the middle two).
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}

say "tlsd handshake rate: $("$tlsd" --version | head -n 1), $(openssl version | cut -d' ' -f1-2), node $(node --version)"
say "$dur s per run, $repeat runs per case, $ncpu CPUs online; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"

# Control: with the session cache off (sessionCache.size 0) the session-ID
# case must never resume; if it did, s_time would be sending tickets.
echo '{"sessionCache": {"size": 0}}' >"$tmp/no-cache.json"
start_tlsd 1 -- -c "$tmp/no-cache.json"
dur_saved=$dur; dur=1
run_once sid12 1
dur=$dur_saved
stop_tlsd
control="control: session-ID client against sessionCache.size 0: $r_resumed of $r_n resumed (0 expected: no tickets sent)"
say "$control"

rows=()
notes=()
for w in $workers_list; do
	k=${BENCH_CLIENTS:-2}
	srv_prefix=() cli_prefix=()
	if [ "$w" = 1 ] && [ "$pin" != off ]; then
		srv_prefix=(taskset -c 0) cli_prefix=(taskset -c 1)
		notes+=("$w worker: tlsd pinned to CPU 0 (taskset -c 0), $k clients pinned to CPU 1 (taskset -c 1)")
	else
		notes+=("$w worker(s): $k clients, nothing pinned ($ncpu CPUs shared by tlsd and clients)")
	fi
	start_tlsd "$w" "${srv_prefix[@]}"
	say "== ${notes[${#notes[@]} - 1]}"
	for c in $cases; do
		rates=() srvs=() clis=() hscpus=() n=0 res=0 errs=0 bad=0
		for i in $(seq "$repeat"); do
			run_once "$c" "$k" "${cli_prefix[@]}"
			say "  $(label "$c") run $i: $(fmt "$r_rate") hs/s, $r_resumed/$r_n resumed," \
				"tlsd CPU $(fmt "$r_srv")%, client CPU $(fmt "$r_cli")%, errors $r_errors"
			rates+=("$r_rate") srvs+=("$r_srv") clis+=("$r_cli") hscpus+=("$r_hscpu")
			n=$((n + r_n)) res=$((res + r_resumed)) errs=$((errs + r_errors)) bad=$((bad + r_proto_bad))
		done
		read -r med min max <<<"$(stats "${rates[@]}")"
		read -r srv _ _ <<<"$(stats "${srvs[@]}")"
		read -r cli _ _ <<<"$(stats "${clis[@]}")"
		read -r hscpu _ _ <<<"$(stats "${hscpus[@]}")"
		share=$(awk -v r="$res" -v n="$n" 'BEGIN { printf "%.1f%%", n ? 100 * r / n : 0 }')
		rows+=("$(printf '%-7s %-20s %-11s %7s %13s %8s %7s %7s %12s' "$w" "$(label "$c")" "$(tool "$c")" \
			"$(fmt "$med")" "$(fmt "$min")-$(fmt "$max")" "$share" "$(fmt "$srv")%" "$(fmt "$cli")%" "$(fmt "$hscpu")")")
		if [ "$errs" -gt 0 ]; then
			top=$(sort "$tmp/errors.$c.$w" | uniq -c | sort -rn | head -n 1 | sed 's/^ *//')
			notes+=("$w worker(s), $(label "$c"): $errs failed handshakes ($(awk -v e="$errs" -v n="$n" 'BEGIN { printf "%.1f", 100 * e / (n + e) }')% of all), not counted; most: $top")
		fi
		[ "$bad" -gt 0 ] && notes+=("$w worker(s), $(label "$c"): $bad connections not $(proto "$c")")
	done
	stop_tlsd
done

echo "tlsd handshakes per second: $("$tlsd" --version | head -n 1), demo ECDSA P-256 certificate, echo mode"
echo "clients: $(openssl version | cut -d' ' -f1-2) s_time, node $(node --version) (bench/handshake-client.mjs)"
echo "$dur s per run, $repeat runs per case: median (min-max) of handshakes/s = access-log close lines / wall time"
printf '%s\n' "${notes[@]}"
echo "$control"
echo "CPU columns: median % of one core; hs/srv-CPU-s: handshakes per CPU second of tlsd (master + workers)"
echo
printf '%-7s %-20s %-11s %7s %13s %8s %7s %7s %12s\n' workers case client 'hs/s' 'min-max' resumed 'tlsd' client 'hs/srv-CPU-s'
printf '%s\n' "${rows[@]}"
