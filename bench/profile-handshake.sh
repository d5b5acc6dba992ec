#!/bin/bash
# profile-handshake.sh - where a worker's instructions go during full TLS
# handshakes: callgrind counts instructions (repeatable on a noisy machine)
# in one tlsd worker while N openssl s_client handshakes run, then sums
# them by library: crypto (nettle, hogweed, gmp; libcrypto with the OpenSSL
# signer), GnuTLS's protocol code,
# libc, tlsd itself, and the rest.
#
#   bench/profile-handshake.sh [TLSD_BIN] [N]     (defaults: ./tlsd, 100)
#   PROFILE_TLS=-tls1_2 for TLS 1.2 (default -tls1_3)
#   PROFILE_RESUME=ticket|sid: resumed handshakes instead (TLS 1.2): one
#     full handshake saves the session (s_client -sess_out; sid: with
#     tickets off in the client), then N reconnects offer it (-sess_in);
#     the output also says how many really resumed
#   PROFILE_KEEP=FILE: keep the worker's callgrind file there
#   TLSD_SIGNER is passed on (docs/design.md, "Signatures")
#
# Needs valgrind. A benchmark, not a test: make check never runs it.
set -u
tlsd=${1:-./tlsd}
n=${2:-100}
tls=${PROFILE_TLS:--tls1_3}
resume=${PROFILE_RESUME:-}
case $resume in '') ;; ticket|sid) tls=-tls1_2 ;; *) echo "profile-handshake: PROFILE_RESUME is ticket or sid" >&2; exit 2 ;; esac
command -v valgrind >/dev/null || { echo "profile-handshake: valgrind not found" >&2; exit 2; }
[ -x "$tlsd" ] || { echo "profile-handshake: no tlsd at $tlsd" >&2; exit 2; }
dir=$(mktemp -d)
worker=
trap '[ -n "${PROFILE_KEEP:-}" ] && [ -n "$worker" ] && cp "$worker" "$PROFILE_KEEP"; rm -rf "$dir"' EXIT

valgrind --tool=callgrind --callgrind-out-file="$dir/cg.%p" "$tlsd" --demo --listen 127.0.0.1:0 \
	--control off --workers 1 --log-format json >"$dir/out" 2>"$dir/err" &
for _ in $(seq 1 300); do grep -q '^ready ' "$dir/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$dir/out" | head -1)
master=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$dir/out")
[ -n "$port" ] && [ -n "$master" ] || { echo "profile-handshake: tlsd did not start" >&2; cat "$dir/err" >&2; exit 1; }
client() {
	echo | OPENSSL_CONF=$dir/client.cnf openssl s_client -connect "127.0.0.1:$port" "$tls" \
		-no-CAfile -no-CApath -no-CAstore "$@" 2>&1
}
printf 'openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = sd\n[sd]\n' >"$dir/client.cnf"
[ "$resume" = sid ] && echo 'Options = -SessionTicket' >>"$dir/client.cnf"
reused=0
if [ -n "$resume" ]; then
	echo "profile-handshake: 1 full and $n resumed handshakes ($tls, $resume) against one worker under callgrind" >&2
	client -sess_out "$dir/sess.pem" >/dev/null
	for _ in $(seq 1 "$n"); do
		client -sess_in "$dir/sess.pem" | grep -q '^Reused,' && reused=$((reused + 1))
	done
else
	echo "profile-handshake: $n full handshakes ($tls) against one worker under callgrind" >&2
	for _ in $(seq 1 "$n"); do client >/dev/null; done
fi
kill "$master"
for _ in $(seq 1 100); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
closes=$(grep -c '"event":"close"' "$dir/out")
worker=$(ls "$dir"/cg.* | grep -v "cg.$master\$" | head -1)
callgrind_annotate --threshold=100 "$worker" 2>/dev/null >"$dir/self"
note=
[ -n "$resume" ] && note=" ($reused of the $n reconnects resumed)"
awk -v closes="$closes" -v reused_note="$note" '
	/^ *[0-9,]+ \([0-9. ]+%\) .*\[.*\] *$/ {
		n = $1; gsub(",", "", n)
		obj = $NF; gsub(/[\[\]]/, "", obj); sub(/.*\//, "", obj)
		if (obj ~ /nettle|hogweed|gmp|libcrypto/) g = "crypto (nettle, hogweed, gmp, libcrypto)"
		else if (obj ~ /gnutls/) g = "GnuTLS protocol code"
		else if (obj ~ /^libc\./) g = "libc (mostly memset/memcpy)"
		else if (obj == "tlsd") g = "tlsd"
		else if (obj ~ /jansson/) g = "jansson (access-log JSON)"
		else g = "other (loader, libev, libtasn1, ...)"
		sum[g] += n; total += n
	}
	END {
		printf "handshakes completed: %d%s; instructions per connection: %.2f M\n", closes, reused_note, total / (closes ? closes : 1) / 1e6
		for (g in sum) printf "%6.2f%%  %s\n", 100 * sum[g] / total, g | "sort -rn"
	}' "$dir/self"
