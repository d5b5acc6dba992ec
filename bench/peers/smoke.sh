#!/bin/bash
# smoke.sh - does every server of the side-by-side benchmark start, echo and
# resume? For each of tlsd, node (and node-store: node with a session-ID
# store in the cluster primary), hitch, haproxy and nginx: start it with 2
# workers (start.sh, ECDSA P-256), then with `openssl s_client`:
#
#   echo 1.3, echo 1.2   one line sent over TLS 1.3 / TLS 1.2 comes back
#   ticket 1.2           a TLS 1.2 session saved with -sess_out, offered
#                        again (-sess_in) on SMOKE_RECONNECTS new connections:
#                        how many say "Reused"
#   ticket 1.3           the same over TLS 1.3 (the client reads for a moment
#                        after the handshake, to get the NewSessionTicket)
#   session-id 1.2       the same with -no_ticket on both sides of the client:
#                        the server's session-ID cache; a server without one
#                        shared by its workers resumes only the reconnects
#                        that reach the worker that made the session
#
# then stops it, and prints a table (stdout; progress on stderr). Resumption
# counts are reported, never failed on: the benchmark measures them. Exit
# status 1 only when a server does not start or does not echo, 2 on usage.
# Reconnects go wherever the server's accept distribution sends them; a
# full count from a server without a shared cache means they all reached
# one worker (the notes under the table say which servers share what).
#
#   bench/peers/smoke.sh [TLSD_BIN]     (default: $TLSD, else ./tlsd, else
#                                       the tlsd next to bench/ or in
#                                       build-plain/)
#   SMOKE_SERVERS="tlsd node node-store hitch haproxy nginx" SMOKE_WORKERS=2
#   SMOKE_RECONNECTS=10 ECHO_BACKEND=path (else start.sh finds or builds it)
#
# The peers come from bench/peers/install.sh. About 30 s; light on CPU (one
# client connection at a time).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tlsd=${1:-${TLSD:-}}
if [ -z "$tlsd" ]; then
	for c in ./tlsd "$top/tlsd" "$top/build-plain/tlsd"; do
		[ -x "$c" ] && { tlsd=$c; break; }
	done
fi
servers=${SMOKE_SERVERS:-tlsd node node-store hitch haproxy nginx}
workers=${SMOKE_WORKERS:-2}
reconnects=${SMOKE_RECONNECTS:-10}
case $reconnects in ''|*[!0-9]*|0) echo "smoke: SMOKE_RECONNECTS must be a whole number > 0" >&2; exit 2 ;; esac
for tool in openssl node awk setsid; do
	command -v $tool >/dev/null || { echo "smoke: $tool not found" >&2; exit 2; }
done
if [[ " $servers " == *" tlsd "* ]]; then
	[ -n "$tlsd" ] && [ -x "$tlsd" ] || { echo "smoke: no tlsd binary (give its path)" >&2; exit 2; }
	TLSD=$(readlink -f "$tlsd")
	export TLSD
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/peers-smoke.XXXXXX") || exit 1
running=
cleanup() {
	[ -n "$running" ] && "$here/stop.sh" "$running" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
say() { echo "$*" >&2; }

# The same OpenSSL config for every client run (the distribution's
# system_default may differ from machine to machine otherwise).
printf 'openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n[sd]\n' >"$tmp/openssl.cnf"
export OPENSSL_CONF=$tmp/openssl.cnf
client() { timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername localhost -no-CAfile -no-CApath -no-CAstore "$@"; }

# echo_check VERSION: 0 if one line comes back over TLS VERSION (1_2, 1_3);
# sets cipher.
echo_check() {
	local v=$1 token out
	token="ping-$name-$v-$RANDOM$RANDOM" out=$tmp/echo.$v.out
	: >"$out"
	{
		printf '%s\n' "$token"
		for _ in $(seq 50); do
			grep -qx "$token" "$out" && break
			sleep 0.1
		done
	} | client "-tls$v" >"$out" 2>&1
	cipher=$(sed -n 's/^New, \(TLSv1\.[23]\), Cipher is \(.*\)$/\1 \2/p' "$out" | head -n 1)
	grep -qx "$token" "$out" || { cp "$out" "$tmp/failed.$name.$v"; return 1; }
	[ "${cipher%% *}" = "TLSv${v/_/.}" ]
}

# resume_check VERSION [CLIENT OPTIONS]: "resumed/reconnects" of a session
# saved from a first connection.
resume_check() {
	local v=$1 sess=$tmp/sess.pem n=0
	shift
	rm -f "$sess"
	# Stay a moment after the handshake: a TLS 1.3 server sends its
	# tickets after it, and s_client saves them as they come.
	sleep 0.3 | client "-tls$v" "$@" -sess_out "$sess" >"$tmp/first.out" 2>&1
	if [ ! -s "$sess" ]; then
		echo "no session"
		return
	fi
	for _ in $(seq "$reconnects"); do
		client "-tls$v" "$@" -sess_in "$sess" </dev/null 2>&1 | grep -q '^Reused, ' && n=$((n + 1))
	done
	echo "$n/$reconnects"
}

rows=()
ciphers=()
failed=0
for name in $servers; do
	say "== $name: starting with $workers workers"
	rundir=$tmp/run.$name
	if ! "$here/start.sh" "$name" "$workers" "$tmp/certs" "$rundir" >/dev/null 2>"$tmp/start.$name.err"; then
		sed 's/^/  /' "$tmp/start.$name.err" >&2
		rows+=("$name|-|no start|-|-|-|-")
		failed=1
		continue
	fi
	running=$rundir
	# shellcheck disable=SC1091
	. "$rundir/peer.env"
	port=$PEER_PORT
	say "  port $port, processes $PEER_PIDS${PEER_BACKEND_PID:+, echo backend $PEER_BACKEND_PID on port $PEER_BACKEND_PORT}"
	e13=FAILED e12=FAILED c13=- c12=-
	echo_check 1_3 && e13=ok
	c13=${cipher:--}
	echo_check 1_2 && e12=ok
	c12=${cipher:--}
	[ "$e13" = ok ] && [ "$e12" = ok ] || failed=1
	say "  echo: TLS 1.3 $e13 ($c13), TLS 1.2 $e12 ($c12)"
	t12=$(resume_check 1_2)
	t13=$(resume_check 1_3)
	s12=$(resume_check 1_2 -no_ticket)
	say "  resumed: ticket 1.2 $t12, ticket 1.3 $t13, session ID 1.2 $s12"
	if ! kill -0 "$PEER_PID" 2>/dev/null; then
		say "  $name exited during the checks:"
		tail -n 20 "$rundir/server.log" >&2
		e13="$e13 (exited)"
		failed=1
	fi
	[ "$e13" = ok ] && [ "$e12" = ok ] || { say "  $name: server log:"; tail -n 20 "$rundir/server.log" >&2; }
	"$here/stop.sh" "$rundir" >&2
	running=
	rows+=("$name|$PEER_VERSION|$e13|$e12|$t12|$t13|$s12")
	ciphers+=("$(printf '%-10s %s / %s' "$name" "${c13#* }" "${c12#* }")")
done

echo "bench/peers smoke test: $workers workers each, ECDSA P-256, $(openssl version | cut -d' ' -f1-2) s_client; resumed = reconnects that said \"Reused\""
echo
printf '%-10s | %-34s | %-8s | %-8s | %-10s | %-10s | %-14s\n' server version "echo 1.3" "echo 1.2" "ticket 1.2" "ticket 1.3" "session-id 1.2"
printf '%-10s-|-%-34s-|-%-8s-|-%-8s-|-%-10s-|-%-10s-|-%-14s\n' ---------- ---------------------------------- -------- -------- ---------- ---------- --------------
for r in "${rows[@]}"; do
	IFS='|' read -r a b c d e f g <<<"$r"
	printf '%-10s | %-34s | %-8s | %-8s | %-10s | %-10s | %-14s\n' "$a" "$b" "$c" "$d" "$e" "$f" "$g"
done
echo
echo "suites negotiated (TLS 1.3 / TLS 1.2) with s_client's default offer: tlsd and node"
echo "follow their own order (honorCipherOrder defaults to true), the proxies the client's"
echo "(Mozilla's intermediate profile); pin the suite in the client to compare like with like:"
for c in "${ciphers[@]}"; do echo "  $c"; done
echo "session IDs: tlsd, haproxy (one process, threads) and nginx share one session cache"
echo "between their workers; node keeps none at all unless the application handles"
echo "'newSession'/'resumeSession' (node-store: a Map in the cluster primary, over IPC);"
echo "Debian's hitch is built without its shared cache, so a reconnect resumes by session"
echo "ID only on the worker that made the session. Tickets: every server gives all its"
echo "workers the same keys."
[ "$failed" = 0 ] || echo "FAILED: a server did not start or did not echo (details on stderr)"
exit "$failed"
