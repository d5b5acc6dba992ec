#!/bin/bash
# compare.sh - the side-by-side handshake comparison, first scenario set:
# every server of bench/peers (started with start.sh, 1 worker, ECDSA P-256
# from certs.sh) measured with the same client, openssl s_time, in four
# scenarios:
#
#   full13   full handshakes, TLS 1.3        s_time -new -tls1_3
#   full12   full handshakes, TLS 1.2        s_time -new -tls1_2
#   sid12    session-ID resumption, TLS 1.2  s_time -reuse -tls1_2, tickets off
#            in the client (s_time has no -no_ticket: an OPENSSL_CONF with
#            "Options = -SessionTicket", as in handshake-rate.sh)
#   tkt12    ticket resumption, TLS 1.2      s_time -reuse -tls1_2
#
# Each scenario runs BENCH_SECONDS x BENCH_REPEAT, with BENCH_CLIENTS s_time
# processes side by side. Handshakes are counted by the client: s_time prints
# one character per completed connection, "r" when it resumed
# (SSL_session_reused) and "*" when it was a full handshake, so the resumed
# share is exact for every server, not only those with an access log. Rate =
# connections / wall time of the run (median, min-max over the repeats).
#
# Pinning: on a machine with 2+ CPUs and taskset, the server's processes run
# on CPU 0 and the clients on CPU 1; the proxies' echo backend (hitch,
# haproxy, nginx) also runs on CPU 1, and its CPU is reported apart (with
# s_time no byte is echoed: it only accepts and closes). Server CPU = user +
# system time of the processes start.sh reports (all their threads, from
# /proc), client CPU = the s_time processes' (times), both in % of one core.
# hs/srv-CPU-s = handshakes per CPU second of the server: the fair figure
# when the client is the bottleneck (client CPU near 100%).
#
#   bench/compare.sh [TLSD_BIN]       (default: $TLSD, else start.sh's search:
#                                     ./tlsd, next to bench/, build-plain/)
#   BENCH_SERVERS="tlsd node-store haproxy nginx hitch"
#   BENCH_SCENARIOS="full13 full12 sid12 tkt12"
#   BENCH_SECONDS=4 BENCH_REPEAT=3 BENCH_CLIENTS=2 BENCH_PIN=auto|off
#   BENCH_OUT=bench/results/compare-DATE.json
#
# Writes the JSON (folder made if missing, with a .gitignore so results are
# never committed by accident), prints a Markdown table (stdout) with the
# ratio tlsd/peer of hs/srv-CPU-s; progress on stderr. Every server is
# stopped with stop.sh, also on error or ^C. A benchmark, not a test.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
tlsd=${1:-${TLSD:-}}
if [ -n "$tlsd" ]; then
	[ -x "$tlsd" ] || { echo "compare: $tlsd is not executable" >&2; exit 2; }
	TLSD=$(readlink -f "$tlsd")
	export TLSD
fi
servers=${BENCH_SERVERS:-tlsd node-store haproxy nginx hitch}
scenarios=${BENCH_SCENARIOS:-full13 full12 sid12 tkt12}
dur=${BENCH_SECONDS:-4}
repeat=${BENCH_REPEAT:-3}
k=${BENCH_CLIENTS:-2}
pin=${BENCH_PIN:-auto}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${BENCH_OUT:-$top/bench/results/compare-$stamp.json}
case $dur in ''|*[!0-9]*|0) echo "compare: BENCH_SECONDS must be a whole number > 0 (s_time -time)" >&2; exit 2 ;; esac
case $repeat in ''|*[!0-9]*|0) echo "compare: BENCH_REPEAT must be a whole number > 0" >&2; exit 2 ;; esac
case $k in ''|*[!0-9]*|0) echo "compare: BENCH_CLIENTS must be a whole number > 0" >&2; exit 2 ;; esac
for s in $scenarios; do
	case $s in full13|full12|sid12|tkt12) ;; *) echo "compare: unknown scenario $s (full13 full12 sid12 tkt12)" >&2; exit 2 ;; esac
done
for tool in openssl node awk setsid; do
	command -v $tool >/dev/null || { echo "compare: $tool not found" >&2; exit 2; }
done
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
hz=$(getconf CLK_TCK)
if [ "$pin" = auto ]; then
	if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then pin=on; else pin=off; fi
fi
if [ "$pin" = on ]; then
	pinning="server pinned to CPU 0, $k s_time clients (and the proxies' echo backend) to CPU 1 (taskset); $ncpu CPUs online"
	srv_prefix=(taskset -c 0) cli_prefix=(taskset -c 1)
else
	pinning="nothing pinned; $ncpu CPUs online, shared by server and clients"
	srv_prefix=() cli_prefix=()
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/compare.XXXXXX") || exit 1
running=
client_pids=
cleanup() {
	for p in $client_pids; do kill "$p" 2>/dev/null; done
	[ -n "$running" ] && "$here/peers/stop.sh" "$running" >/dev/null 2>&1
	running=
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "$*" >&2; }
fmt() { awk -v x="$1" -v d="${2:-0}" 'BEGIN { printf "%.*f", d, x }'; }

# The same OpenSSL config for every client (the distribution's system_default
# may differ between machines), with or without tickets.
printf 'openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n[sd]\n' >"$tmp/tickets.cnf"
{ cat "$tmp/tickets.cnf"; echo 'Options = -SessionTicket'; } >"$tmp/no-tickets.cnf"

label() {
	case $1 in
	full13) echo "full, TLS 1.3" ;; full12) echo "full, TLS 1.2" ;;
	sid12) echo "session ID, TLS 1.2" ;; tkt12) echo "ticket, TLS 1.2" ;;
	esac
}
client_cmd() {
	local sopts=(-connect "127.0.0.1:$port" -time "$dur" -no-CAfile -no-CApath -no-CAstore)
	case $1 in
	full13) cmd=(OPENSSL_CONF="$tmp/tickets.cnf" openssl s_time -new -tls1_3 "${sopts[@]}") ;;
	full12) cmd=(OPENSSL_CONF="$tmp/tickets.cnf" openssl s_time -new -tls1_2 "${sopts[@]}") ;;
	sid12) cmd=(OPENSSL_CONF="$tmp/no-tickets.cnf" openssl s_time -reuse -tls1_2 "${sopts[@]}") ;;
	tkt12) cmd=(OPENSSL_CONF="$tmp/tickets.cnf" openssl s_time -reuse -tls1_2 "${sopts[@]}") ;;
	esac
}

# ticks PID...: CPU ticks (user+system, all threads) of these processes.
ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) && t=$((t + v))
	done
	echo "$t"
}
# descendants PID: children, grandchildren, ... (from /proc).
descendants() {
	local p
	for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$p"
		descendants "$p"
	done
}
# child_cpu FILE: user+system seconds of this shell's finished children (times).
child_cpu() {
	awk 'NR == 2 { n = split($0, f, " "); s = 0
		for (i = 1; i <= n; i++) { split(f[i], ms, "m"); sub("s", "", ms[2]); s += ms[1] * 60 + ms[2] }
		print s }' "$1"
}

# run_once SCENARIO: one timed run with k clients; appends a line to runs.tsv.
run_once() {
	local c=$1 i t0 t1 s0 s1 b0 b1 pids=() failed=0 n=0 r=0 full=0 x wall
	client_cmd "$c"
	srv_pids="$PEER_PID $(descendants "$PEER_PID" | tr '\n' ' ')"
	s0=$(ticks $srv_pids)
	b0=$(ticks $PEER_BACKEND_PID)
	times >"$tmp/times0"
	t0=$(date +%s.%N)
	for i in $(seq "$k"); do
		"${cli_prefix[@]}" env "${cmd[@]}" >"$tmp/client.$i.out" 2>&1 &
		pids+=($!)
	done
	client_pids="${pids[*]}"
	for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
	client_pids=
	t1=$(date +%s.%N)
	times >"$tmp/times1"
	s1=$(ticks $srv_pids)
	b1=$(ticks $PEER_BACKEND_PID)
	for i in $(seq "$k"); do
		# The progress lines: one character per connection.
		x=$(grep -E '^[r*t3]+$' "$tmp/client.$i.out" | tr -d '\n')
		r=$((r + $(printf '%s' "$x" | tr -cd r | wc -c)))
		full=$((full + $(printf '%s' "$x" | tr -cd '*t3' | wc -c)))
	done
	n=$((r + full))
	if [ "$failed" -gt 0 ]; then
		say "  $failed client(s) failed:"
		tail -n 3 "$tmp"/client.*.out | cut -c1-200 >&2
	fi
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$c" "$n" "$r" "$wall" \
		"$(awk -v d="$((s1 - s0))" -v hz="$hz" 'BEGIN { print d / hz }')" \
		"$(awk -v a="$(child_cpu "$tmp/times0")" -v b="$(child_cpu "$tmp/times1")" 'BEGIN { print b - a }')" \
		"$(awk -v d="$((b1 - b0))" -v hz="$hz" 'BEGIN { print d / hz }')" "$failed" >>"$tmp/runs.tsv"
	say "  $(label "$c") run: $(fmt "$(awk -v n="$n" -v w="$wall" 'BEGIN { print n / w }')") hs/s," \
		"$r/$n resumed, server CPU $(fmt "$(awk -v d="$((s1 - s0))" -v hz="$hz" -v w="$wall" 'BEGIN { print 100 * d / hz / w }')")%"
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

: >"$tmp/runs.tsv"
: >"$tmp/servers.tsv"
say "compare: servers: $servers; scenarios: $scenarios; $dur s x $repeat runs, $k clients"
say "compare: $pinning"
say "compare: load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in $servers; do
	say "== $name: starting with 1 worker"
	rundir=$tmp/run.$name
	if ! "${srv_prefix[@]}" "$here/peers/start.sh" "$name" 1 "$tmp/certs" "$rundir" >/dev/null 2>"$tmp/start.$name.err"; then
		sed 's/^/  /' "$tmp/start.$name.err" >&2
		printf '%s\t%s\t%s\t%s\n' "$name" "did not start" "-" "-" >>"$tmp/servers.tsv"
		continue
	fi
	running=$rundir
	PEER_BACKEND_PID=
	# shellcheck disable=SC1091
	. "$rundir/peer.env"
	port=$PEER_PORT
	if [ "$pin" = on ]; then
		# start.sh ran under taskset -c 0, so everything it started is on
		# CPU 0; make sure of every thread, and move the backend to CPU 1.
		for p in $PEER_PID $(descendants "$PEER_PID"); do taskset -a -p -c 0 "$p" >/dev/null 2>&1; done
		[ -n "$PEER_BACKEND_PID" ] && taskset -a -p -c 1 "$PEER_BACKEND_PID" >/dev/null 2>&1
	fi
	say "  $PEER_VERSION, port $port, processes $PEER_PIDS${PEER_BACKEND_PID:+, echo backend $PEER_BACKEND_PID}"
	[ "$pin" = on ] && say "  CPUs allowed: server $(taskset -c -p "$PEER_PID" | sed 's/.*: //')${PEER_BACKEND_PID:+, backend $(taskset -c -p "$PEER_BACKEND_PID" | sed 's/.*: //')}"
	sid_check=-
	if [[ " $scenarios " == *" sid12 "* ]]; then
		sid_check
		say "  session-ID client check (s_client, tickets off): $sid_check"
	fi
	printf '%s\t%s\t%s\t%s\n' "$name" "$PEER_VERSION" "$sid_check" "$PEER_PIDS" >>"$tmp/servers.tsv"
	for c in $scenarios; do
		for _ in $(seq "$repeat"); do
			run_once "$c"
		done
	done
	if ! kill -0 "$PEER_PID" 2>/dev/null; then
		say "  $name exited during the runs:"
		tail -n 20 "$rundir/server.log" >&2
	fi
	"$here/peers/stop.sh" "$rundir" >&2
	running=
done

mkdir -p "$(dirname "$out")" || exit 1
[ "$out" = "$top/bench/results/compare-$stamp.json" ] && [ ! -e "$top/bench/results/.gitignore" ] &&
	printf '# benchmark results: never committed\n*\n' >"$top/bench/results/.gitignore"

meta=$tmp/meta.json
node -e '
const [date, pinning, dur, repeat, k, ncpu, openssl, model, kernel] = process.argv.slice(1);
console.log(JSON.stringify({ date, pinning, seconds: +dur, repeat: +repeat, clients: +k, cpus: +ncpu,
  client: openssl, node: process.version, cpu_model: model, kernel }));
' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$pinning" "$dur" "$repeat" "$k" "$ncpu" \
	"$(openssl version | cut -d' ' -f1-2) s_time" \
	"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$(uname -sr)" >"$meta"

node - "$tmp/runs.tsv" "$tmp/servers.tsv" "$meta" "$out" "$scenarios" <<'EOF'
const fs = require('fs');
const [runsF, serversF, metaF, outF, scen] = process.argv.slice(2);
const labels = { full13: 'full, TLS 1.3', full12: 'full, TLS 1.2', sid12: 'session ID, TLS 1.2', tkt12: 'ticket, TLS 1.2' };
const lines = f => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map(l => l.split('\t'));
const stats = v => {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  if (!n) return null;
  return { median: n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2, min: s[0], max: s[n - 1] };
};
const meta = JSON.parse(fs.readFileSync(metaF, 'utf8'));
const servers = lines(serversF).map(([name, version, sid, pids]) => ({ name, version, session_id_client_check: sid, pids }));
const runs = lines(runsF).map(([server, scenario, n, r, wall, srv, cli, be, failed]) => ({
  server, scenario, connections: +n, resumed: +r, wall_s: +wall, server_cpu_s: +srv, client_cpu_s: +cli,
  backend_cpu_s: +be, failed_clients: +failed }));
const results = [];
for (const sc of scen.split(/\s+/).filter(Boolean)) {
  for (const s of servers) {
    const rs = runs.filter(x => x.server === s.name && x.scenario === sc);
    if (!rs.length) continue;
    const n = rs.reduce((a, x) => a + x.connections, 0), r = rs.reduce((a, x) => a + x.resumed, 0);
    results.push({
      server: s.name, scenario: sc, label: labels[sc],
      hs_per_s: stats(rs.map(x => x.connections / x.wall_s)),
      connections: n, resumed: r, resumed_share: n ? r / n : 0,
      server_cpu_pct: stats(rs.map(x => 100 * x.server_cpu_s / x.wall_s)).median,
      client_cpu_pct: stats(rs.map(x => 100 * x.client_cpu_s / x.wall_s)).median,
      backend_cpu_pct: stats(rs.map(x => 100 * x.backend_cpu_s / x.wall_s)).median,
      hs_per_server_cpu_s: stats(rs.map(x => x.server_cpu_s > 0 ? x.connections / x.server_cpu_s : 0)).median,
      failed_clients: rs.reduce((a, x) => a + x.failed_clients, 0),
      runs: rs.map(({ server, scenario, ...x }) => x),
    });
  }
}
for (const x of results) {
  const t = results.find(y => y.server === 'tlsd' && y.scenario === x.scenario);
  x.ratio_tlsd_over_peer = t && x.hs_per_server_cpu_s > 0 ? t.hs_per_server_cpu_s / x.hs_per_server_cpu_s : null;
}
fs.writeFileSync(outF, JSON.stringify({ ...meta, servers, results }, null, 2) + '\n');

const f0 = v => v == null ? '-' : Math.round(v).toString();
const p = [];
p.push(`## Handshakes, 1 worker, ECDSA P-256 (${meta.date})`, '');
p.push(`Client: ${meta.client}, ${meta.clients} processes side by side; ${meta.seconds} s x ${meta.repeat} runs per scenario.`);
p.push(`Machine: ${meta.cpus} CPUs (${meta.cpu_model}), ${meta.kernel}; ${meta.pinning}.`, '');
p.push('| scenario | server | hs/s median (min-max) | resumed | server CPU | client CPU | backend CPU | hs/srv-CPU-s | tlsd/peer |');
p.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
for (const x of results) {
  const h = x.hs_per_s;
  const res = x.scenario.startsWith('full') ? '-' : `${(100 * x.resumed_share).toFixed(1)}%`;
  const be = servers.find(s => s.name === x.server) && ['hitch', 'haproxy', 'nginx'].includes(x.server) ? `${f0(x.backend_cpu_pct)}%` : '-';
  p.push(`| ${x.label} | ${x.server} | ${f0(h.median)} (${f0(h.min)}-${f0(h.max)}) | ${res} | ${f0(x.server_cpu_pct)}% | ${f0(x.client_cpu_pct)}% | ${be} | ${f0(x.hs_per_server_cpu_s)} | ${x.ratio_tlsd_over_peer == null ? '-' : x.ratio_tlsd_over_peer.toFixed(2)} |`);
}
p.push('');
p.push('hs/s: connections s_time completed / wall time of the run (s_time\'s -time is whole seconds and its');
p.push('loop may overrun it by up to 1 s; the wall time covers that). resumed: s_time\'s "r" marks');
p.push('(SSL_session_reused) among the timed connections (the first full one of each -reuse client is not');
p.push('timed, so not counted). CPU: % of one core (server: all processes and threads start.sh reports;');
p.push('client: the s_time processes; backend: the proxies\' echo backend, not in the server\'s). hs/srv-CPU-s: handshakes');
p.push('per server CPU second, the fair figure when the client is the bottleneck (client CPU near 100%);');
p.push('tlsd/peer is its ratio (above 1: tlsd spends less CPU per handshake).');
for (const s of servers) p.push(`- ${s.name}: ${s.version}; session-ID client check (tickets off, s_client): ${s.session_id_client_check}`);
const bad = results.filter(x => x.failed_clients);
for (const x of bad) p.push(`- ${x.server}, ${x.label}: ${x.failed_clients} client run(s) failed`);
p.push('', `JSON: ${outF}`);
console.log(p.join('\n'));
EOF
