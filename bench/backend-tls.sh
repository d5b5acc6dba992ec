#!/bin/bash
# backend-tls.sh - what re-encryption to the backend costs: tlsd with a TLS
# backend (backend.tls), its backend sessions resumed or not, beside tlsd
# forwarding cleartext, and HAProxy doing the same three (`server ... ssl`,
# with and without `no-ssl-reuse`, and plain).
#
#   bench/backend-tls.sh [TLSD]
#
#   BENCH_SECONDS (5)  BENCH_REPEAT (3)  BENCH_BULK_CONNS (4)
#   BENCH_FRONTS (all six, in the order below): the fronts to measure
#
# The fronts (one worker / one thread each, ECDSA P-256 certificate, TLS 1.3
# to the client) forward to the same backends:
#   TLS backend:       a second tlsd in echo mode (one worker, tickets on)
#   cleartext backend: bench/peers/echo_backend
#
#   front            client side  backend side
#   tlsd-plain       TLS          cleartext
#   tlsd-tls         TLS          TLS, backend sessions resumed ("session": true, the default)
#   tlsd-tls-full    TLS          TLS, a full backend handshake per connection ("session": false)
#   haproxy-plain    TLS          cleartext
#   haproxy-tls      TLS          TLS (`ssl verify required`), sessions reused (HAProxy's default)
#   haproxy-tls-full TLS          TLS, `no-ssl-reuse`
#
# Both verify the backend's certificate (the bench CA is the certificate
# itself) and send SNI localhost. Scenarios, each BENCH_SECONDS x BENCH_REPEAT:
#   c1    one client, one connection after another (tls_load connect: connect,
#         TLS 1.3 handshake with the client's session resumed (-r), a 64-byte
#         echo, close): connections/s, p50/p99 from connect() to the echo, and
#         the front's CPU per connection (all its processes, from /proc)
#   bulk  BENCH_BULK_CONNS connections echoing 16 KiB blocks through both
#         layers: MB/s, and the front's CPU seconds per GB. The client offers
#         TLS_AES_128_GCM_SHA256 alone (as compare.sh's bulk): each front
#         would otherwise pick its own first suite (tlsd Node's AES-256-GCM,
#         HAProxy AES-128-GCM), and the rows would compare ciphers.
# "backend resumed" is the share of the TLS backend's handshakes in the row
# that were resumptions (its /v1/stats, over a unix control socket).
# The client resumes so that what differs between the rows is the backend
# side. With 2+ CPUs the front runs on CPU 0, everything else on CPU 1.
# Figures: median over the repeats, [min-max].
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

tlsd=$(bench_find_tlsd "${1:-}") || { echo "backend-tls.sh: no tlsd binary (give its path)" >&2; exit 2; }
seconds=${BENCH_SECONDS:-5}
repeat=${BENCH_REPEAT:-3}
bulk_conns=${BENCH_BULK_CONNS:-4}
command -v haproxy >/dev/null || { echo "backend-tls.sh: haproxy is not installed" >&2; exit 2; }

run=$(mktemp -d "${TMPDIR:-/tmp}/tlsd-backend-tls.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT INT TERM

if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	front_cpu=(taskset -c 0) other_cpu=(taskset -c 1)
else
	front_cpu=() other_cpu=()
fi

"$here/peers/certs.sh" "$run/certs" || exit 1
crt=$run/certs/ecdsa.crt key=$run/certs/ecdsa.key pem=$run/certs/ecdsa.pem
cc -O2 -o "$run/tls_load" "$here/tls_load.c" -lssl -lcrypto || exit 1
cc -O2 -o "$run/echo_backend" "$here/peers/echo_backend.c" -lpthread || exit 1

# free_port: a port nothing listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# launch LOG CMD...: CMD in its own session (so its whole group can be
# stopped); its pid goes to pids and to $launched.
launch() {
	local log=$1
	shift
	setsid "$@" >"$log" 2>&1 &
	launched=$!
	pids+=("$launched")
}

# wait_port PORT: until something accepts on it (10 s).
wait_port() {
	for _ in $(seq 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "backend-tls.sh: nothing listens on $1" >&2
	return 1
}

# group_pids PID: PID and its children (tlsd's workers).
group_pids() {
	echo "$1" $(pgrep -P "$1")
}

tls_backend_port=$(free_port)
echo '{"accessLog": "off"}' >"$run/backend.json"
launch "$run/backend.log" "${other_cpu[@]}" "$tlsd" -c "$run/backend.json" --workers 1 --key "$key" --cert "$crt" \
	--listen "127.0.0.1:$tls_backend_port" --control "unix:$run/backend.sock" --state-dir "$run/backend-state" --log-level warn
wait_port "$tls_backend_port" || exit 1
plain_backend_port=$(free_port)
launch "$run/echo.log" "${other_cpu[@]}" "$run/echo_backend" -l "127.0.0.1:$plain_backend_port"
wait_port "$plain_backend_port" || exit 1

# start_front NAME: the front NAME on a new port; sets front_port, front_pid.
start_front() {
	local name=$1 cfg=$run/$1.cfg tls session=true
	front_port=$(free_port)
	case $name in
	tlsd-*)
		case $name in
		tlsd-plain) tls= ;;
		tlsd-tls) tls=1 ;;
		tlsd-tls-full) tls=1 session=false ;;
		esac
		if [ -n "$tls" ]; then
			cat >"$cfg" <<-EOF
			{"key": "$key", "cert": "$crt", "accessLog": "off",
			 "backend": {"address": "127.0.0.1:$tls_backend_port",
			             "tls": {"ca": "$crt", "servername": "localhost", "session": $session}}}
			EOF
		else
			echo "{\"key\": \"$key\", \"cert\": \"$crt\", \"accessLog\": \"off\", \"backend\": \"127.0.0.1:$plain_backend_port\"}" >"$cfg"
		fi
		launch "$run/$name.log" "${front_cpu[@]}" "$tlsd" -c "$cfg" --workers 1 --listen "127.0.0.1:$front_port" \
			--control off --state-dir "$run/$name-state" --log-level warn
		;;
	haproxy-*)
		local server="server b 127.0.0.1:$plain_backend_port"
		case $name in
		haproxy-tls) server="server b 127.0.0.1:$tls_backend_port ssl verify required ca-file $crt sni str(localhost)" ;;
		haproxy-tls-full) server="server b 127.0.0.1:$tls_backend_port ssl verify required ca-file $crt sni str(localhost) no-ssl-reuse" ;;
		esac
		cat >"$cfg" <<-EOF
		global
		    nbthread 1
		    maxconn 4000
		    tune.ssl.cachesize 20000
		defaults
		    mode tcp
		    timeout connect 5s
		    timeout client 60s
		    timeout server 60s
		frontend tls
		    bind 127.0.0.1:$front_port ssl crt $pem
		    default_backend b
		backend b
		    $server
		EOF
		launch "$run/$name.log" "${front_cpu[@]}" haproxy -db -f "$cfg"
		;;
	esac
	front_pid=$launched
	wait_port "$front_port" || { cat "$run/$name.log" >&2; exit 1; }
	sleep 0.2
}

stop_front() {
	kill -TERM -- "-$front_pid" 2>/dev/null
	wait "$front_pid" 2>/dev/null
}

# field KEY LINE: the value of KEY=VALUE in LINE.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p" <<<" $2" | head -n 1; }

# backend_handshakes: "full resumed" so far at the TLS backend (its
# /v1/stats), so that each row shows what share the front resumed.
backend_handshakes() {
	curl -s --unix-socket "$run/backend.sock" http://localhost/v1/stats |
		python3 -c 'import json, sys; h = json.load(sys.stdin)["handshakes"]; print(h["full"], h["resumed"])'
}

# median VALUES...: the median, then [min-max].
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%s [%s-%s]", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# measure_c1: one run of c1 against the front; prints "rate p50 p99 us_per_conn".
measure_c1() {
	local before after line conns
	before=$(bench_ticks $(group_pids "$front_pid"))
	line=$("${other_cpu[@]}" "$run/tls_load" connect -p "$front_port" -t "$seconds" -r -c 1 | tail -n 1)
	after=$(bench_ticks $(group_pids "$front_pid"))
	conns=$(field connections "$line")
	[ -n "$conns" ] && [ "$conns" -gt 0 ] || { echo "0 0 0 0"; return; }
	echo "$(field rate "$line") $(field p50_us "$line") $(field p99_us "$line") \
$(( (after - before) * 1000000 / $(getconf CLK_TCK) / conns ))"
}

# measure_bulk: one run of bulk; prints "MB/s cpu_s_per_GB".
measure_bulk() {
	local before after line bytes
	before=$(bench_ticks $(group_pids "$front_pid"))
	line=$("${other_cpu[@]}" "$run/tls_load" bulk -p "$front_port" -t "$seconds" -c "$bulk_conns" \
		-S TLS_AES_128_GCM_SHA256 | tail -n 1)
	after=$(bench_ticks $(group_pids "$front_pid"))
	bytes=$(field bytes "$line")
	[ -n "$bytes" ] && [ "$bytes" -gt 0 ] || { echo "0 0"; return; }
	awk -v b="$bytes" -v s="$(field seconds "$line")" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.0f %.2f\n", b / s / 1e6, (t / hz) / (b / 1e9) }'
}

echo "backend-tls.sh: $(basename "$tlsd") $("$tlsd" --version 2>/dev/null | head -n 1), $(haproxy -v | head -n 1 | cut -d' ' -f1-3)"
echo "seconds=$seconds repeat=$repeat bulk_conns=$bulk_conns pinned=${front_cpu[*]:-no}"
printf '%-17s %-22s %-22s %-22s %-22s %-20s %-18s %s\n' front "c1 conn/s" "c1 p50 us" "c1 p99 us" \
	"front us/conn" "bulk MB/s" "front cpu s/GB" "backend resumed"
for name in ${BENCH_FRONTS:-tlsd-plain tlsd-tls tlsd-tls-full haproxy-plain haproxy-tls haproxy-tls-full}; do
	start_front "$name"
	read -r full0 resumed0 <<<"$(backend_handshakes)"
	rates=() p50s=() p99s=() costs=() mbs=() gbs=()
	for _ in $(seq "$repeat"); do
		read -r r a b c <<<"$(measure_c1)"
		rates+=("$r") p50s+=("$a") p99s+=("$b") costs+=("$c")
		read -r m g <<<"$(measure_bulk)"
		mbs+=("$m") gbs+=("$g")
	done
	read -r full1 resumed1 <<<"$(backend_handshakes)"
	share=-
	[ "$((full1 + resumed1 - full0 - resumed0))" -gt 0 ] &&
		share="$(( (resumed1 - resumed0) * 100 / (full1 + resumed1 - full0 - resumed0) ))%"
	printf '%-17s %-22s %-22s %-22s %-22s %-20s %-18s %s\n' "$name" "$(median "${rates[@]}")" "$(median "${p50s[@]}")" \
		"$(median "${p99s[@]}")" "$(median "${costs[@]}")" "$(median "${mbs[@]}")" "$(median "${gbs[@]}")" "$share"
	stop_front
done
