#!/bin/bash
# start.sh - start one TLS echo server of the side-by-side benchmark on
# 127.0.0.1 at a free port, in the background, and say where it is.
#
#   bench/peers/start.sh [--rsa] [--backend] [--backend-threads T] NAME WORKERS CERTDIR [RUNDIR]
#
#   NAME      tlsd | node | node-store | hitch | haproxy | nginx
#             (node-store: node with the session-ID store of
#             node-cluster.mjs --session-store)
#   --backend tlsd only: tlsd in proxy mode (--backend), forwarding to
#             echo_backend like the proxies, instead of echoing itself
#   WORKERS   worker processes (tlsd, node, hitch, nginx) or threads (haproxy)
#   CERTDIR   made by certs.sh (made here if it has no certificates yet):
#             ecdsa.{key,crt,pem} (ECDSA P-256, the default) and rsa.* (--rsa)
#   RUNDIR    configs, logs and the state file; default
#             ${TMPDIR:-/tmp}/tlsd-peer.NAME (one instance per name)
#
# stdout, one line: PORT PID... (the server's processes, its main process
# first: the ones whose CPU and memory are the server's). RUNDIR/peer.env has
# the same and more, as shell assignments (see stop.sh and smoke.sh):
#   PEER_NAME PEER_VERSION PEER_PORT PEER_PID PEER_PIDS PEER_KEY PEER_WORKERS
#   PEER_BACKEND_PID PEER_BACKEND_PORT (proxies, tlsd --backend) PEER_RUN_DIR
# Stop it with bench/peers/stop.sh NAME (or RUNDIR).
#
# Every server echoes: tlsd (without --backend) and node in their own workers; hitch, HAProxy
# and nginx forward the decrypted bytes to echo_backend (echo_backend.c, one
# epoll thread per worker, default; --backend-threads to change), a plain TCP
# echo on another free port. The configurations, and why, are in
# bench/README.md ("Peers"). The server and the backend each run in their own
# session (setsid), so stop.sh ends each whole process group by its id.
#
# Binaries: tlsd from $TLSD, else ./tlsd, else next to bench/ (or in
# build-plain/); echo_backend from $ECHO_BACKEND, else ./bench/peers/echo_backend
# or build-plain's, else compiled into RUNDIR with cc.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
say() { echo "start.sh: $*" >&2; }
usage() { say "usage: start.sh [--rsa] [--backend] [--backend-threads T] NAME WORKERS CERTDIR [RUNDIR]"; exit 2; }

key=ecdsa
bthreads=
via_backend=
while [ $# -gt 0 ]; do
	case $1 in
	--rsa) key=rsa; shift ;;
	--ecdsa) key=ecdsa; shift ;;
	--backend) via_backend=1; shift ;;
	--backend-threads) bthreads=${2:-}; shift 2 ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 3 ] && [ $# -le 4 ] || usage
name=$1 workers=$2 certdir=$3
rundir=${4:-${TMPDIR:-/tmp}/tlsd-peer.$name}
case $workers in ''|*[!0-9]*|0) say "WORKERS must be a whole number > 0"; exit 2 ;; esac
[ -z "$bthreads" ] && bthreads=$workers
case $bthreads in ''|*[!0-9]*|0) say "--backend-threads must be a whole number > 0"; exit 2 ;; esac
case $name in tlsd|node|node-store|hitch|haproxy|nginx) ;; *) say "unknown server '$name' (tlsd node node-store hitch haproxy nginx)"; exit 2 ;; esac
[ -n "$via_backend" ] && [ "$name" != tlsd ] && { say "--backend is for tlsd (the proxies always have one, node has none)"; exit 2; }

if [ -f "$rundir/peer.env" ]; then
	# shellcheck disable=SC1091
	old_pid=$(. "$rundir/peer.env" && echo "$PEER_PID")
	if [ -n "$old_pid" ] && kill -0 "$old_pid" 2>/dev/null; then
		say "$name is already running from $rundir (pid $old_pid): bench/peers/stop.sh $rundir first"
		exit 1
	fi
fi
rm -rf "$rundir"
mkdir -p "$rundir" || exit 1
rundir=$(cd "$rundir" && pwd)
certdir=$(mkdir -p "$certdir" && cd "$certdir" && pwd) || exit 1
"$here/certs.sh" "$certdir" || { say "cannot make certificates in $certdir"; exit 1; }
crt=$certdir/$key.crt keyf=$certdir/$key.key pem=$certdir/$key.pem

# Every server gets the same open-file limit: the hard one. HAProxy and nginx
# are told to size their connection limits to it (a proxied connection
# takes two descriptors, the client's and the backend's).
ulimit -n "$(ulimit -Hn)" 2>/dev/null
nofile=$(ulimit -n)
[ "$nofile" = unlimited ] && nofile=1048576
maxconn=$(((nofile - 100) / 2))

# The same TLS settings for the OpenSSL-based proxies: Mozilla's
# "intermediate" profile (the one Debian's haproxy.cfg cites), ECDHE only:
# TLS 1.2 and 1.3, AES-GCM and ChaCha20-Poly1305, the client's order
# (server preference off). tlsd and node keep Node's default list, which has
# these suites too; the clients (OpenSSL) offer AES-256-GCM first, so every
# server negotiates the same suite.
ciphers12=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305
ciphers13=TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256

find_backend() {
	local c
	for c in "${ECHO_BACKEND:-}" ./bench/peers/echo_backend "$here/echo_backend" "$top/build-plain/bench/peers/echo_backend"; do
		[ -n "$c" ] && [ -x "$c" ] && { readlink -f "$c"; return 0; }
	done
	cc -O2 -pthread -o "$rundir/echo_backend" "$here/echo_backend.c" >&2 && echo "$rundir/echo_backend"
}

# free_port: a port nothing listens on now (the kernel picks it). Servers
# that cannot be told port 0 get one, and a retry if another process took
# it in between.
free_port() {
	node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# descendants PID: PID's children, grandchildren, ... (from /proc).
descendants() {
	local p c
	for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$p"
		descendants "$p"
	done
}

# wait_line FILE REGEX PID: wait (10 s at most) for a line in FILE while
# PID lives.
wait_line() {
	local _
	for _ in $(seq 100); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wait_listen PORT PID: wait (10 s at most) until 127.0.0.1:PORT takes a TCP
# connection while PID lives.
wait_listen() {
	local _
	for _ in $(seq 100); do
		kill -0 "$2" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_children PID N: wait (5 s at most) until PID has N processes below it.
wait_children() {
	local _
	for _ in $(seq 50); do
		[ "$(descendants "$1" | wc -l)" -ge "$2" ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# launch OUT CMD...: CMD in the background in its own session (so that its
# processes form one group whose id is its pid), cwd RUNDIR; sets pid.
launch() {
	local out=$1
	shift
	(cd "$rundir" && exec setsid "$@" </dev/null >"$out" 2>&1) &
	pid=$!
}

fail() {
	say "$name did not start: $*"
	[ -n "${log:-}" ] && [ -s "$log" ] && tail -n 20 "$log" >&2
	[ -n "${pid:-}" ] && kill -TERM -- -"$pid" 2>/dev/null
	[ -n "${backend_pid:-}" ] && kill -TERM -- -"$backend_pid" 2>/dev/null
	exit 1
}

backend_pid='' backend_port=''
start_backend() {
	local bin out=$rundir/echo_backend.out
	bin=$(find_backend) || { say "no echo_backend (build it with make, or install cc)"; exit 1; }
	launch "$out" "$bin" -l 127.0.0.1:0 -t "$bthreads"
	backend_pid=$pid
	wait_line "$out" '^ready' "$backend_pid" || { log=$out; fail "echo_backend did not start"; }
	backend_port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")
	pid=
}

log=$rundir/server.log
port=
version=
case $name in
tlsd)
	tlsd=$(bench_find_tlsd "") || { say "no tlsd binary (set TLSD)"; exit 1; }
	version=$("$tlsd" --version | head -n 1)
	# Its defaults are the production ones: the shared session-ID cache
	# (sessionCache.size 20480), tickets with keys the master makes and
	# gives every worker, Node's cipher list, TLS 1.2 and 1.3. The access
	# log is off, as in the other servers; so is the control endpoint.
	# --backend: the proxies' role, forwarding to the same echo backend.
	echo '{"accessLog": "off"}' >"$rundir/tlsd.json"
	fwd=()
	if [ -n "$via_backend" ]; then
		start_backend
		fwd=(--backend "127.0.0.1:$backend_port")
		version="$version, --backend"
	fi
	launch "$log" "$tlsd" -c "$rundir/tlsd.json" --listen 127.0.0.1:0 --control off \
		--state-dir "$rundir/state" --workers "$workers" --key "$keyf" --cert "$crt" --log-level warn "${fwd[@]}"
	wait_line "$log" '^ready pid=' "$pid" || fail "no ready line"
	port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")
	wait_children "$pid" "$workers" || fail "fewer than $workers workers"
	;;
node|node-store)
	version="node $(node --version)"
	store=()
	[ "$name" = node-store ] && store=(--session-store)
	launch "$log" node "$here/node-cluster.mjs" --workers "$workers" --key "$keyf" --cert "$crt" --host 127.0.0.1 --port 0 "${store[@]}"
	wait_line "$log" '^ready pid=' "$pid" || fail "no ready line"
	port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")
	;;
hitch|haproxy|nginx)
	start_backend
	for try in 1 2 3; do
		port=$(free_port) || fail "no free port"
		case $name in
		hitch)
			version=$(hitch --version 2>&1 | head -n 1)
			# hitch refuses to run its workers as root: they drop to
			# nobody (the master reads the key first). Debian's package
			# makes no hitch user.
			mkdir -p "$rundir/ocsp"
			chown nobody "$rundir/ocsp" 2>/dev/null
			# Debian's hitch is built without its shared session cache
			# (no shared-cache option): session IDs resume only on the
			# worker that made them. Tickets: OpenSSL's default, with
			# the keys made in the master before it forks the workers,
			# so every worker has the same ones.
			cat >"$rundir/hitch.conf" <<-EOF
			frontend = "[127.0.0.1]:$port"
			backend = "[127.0.0.1]:$backend_port"
			pem-file = "$pem"
			workers = $workers
			backlog = 1024
			tls-protos = TLSv1.2 TLSv1.3
			ciphers = "$ciphers12"
			ciphersuites = "$ciphers13"
			prefer-server-ciphers = off
			daemon = off
			log-level = 1
			syslog = off
			ocsp-dir = "$rundir/ocsp"
			user = "nobody"
			group = "nogroup"
			EOF
			launch "$log" hitch --config="$rundir/hitch.conf"
			children=$workers
			;;
		haproxy)
			version=$(haproxy -v 2>&1 | head -n 1 | cut -d' ' -f1-3)
			# Master-worker mode (-W, as Debian's systemd unit runs it):
			# one worker process with nbthread threads. The SSL session
			# cache is shared by all threads (tune.ssl.cachesize, default
			# 20000 entries); tickets are on (Debian's sample config turns
			# them off with no-tls-tickets; here they stay on). HAProxy
			# prefers its own cipher order unless told prefer-client-ciphers
			# (Mozilla's intermediate profile for HAProxy says so too).
			cat >"$rundir/haproxy.cfg" <<-EOF
			global
			    nbthread $workers
			    maxconn $maxconn
			    tune.ssl.cachesize 20000
			    ssl-default-bind-ciphers $ciphers12
			    ssl-default-bind-ciphersuites $ciphers13
			    ssl-default-bind-options ssl-min-ver TLSv1.2 prefer-client-ciphers
			    pidfile $rundir/haproxy.pid
			defaults
			    mode tcp
			    timeout connect 5s
			    timeout client 300s
			    timeout server 300s
			frontend tls
			    bind 127.0.0.1:$port ssl crt $pem
			    default_backend echo
			backend echo
			    server echo 127.0.0.1:$backend_port
			EOF
			launch "$log" haproxy -W -db -f "$rundir/haproxy.cfg"
			children=1
			;;
		nginx)
			version=$(nginx -v 2>&1 | sed 's/^nginx version: //')
			# The stream module: Debian 12's libnginx-mod-stream.
			# ssl_session_cache shared:SSL:10m (about 40,000 sessions,
			# shared by the workers); tickets on, their keys made by the
			# master at start and inherited by every worker.
			cat >"$rundir/nginx.conf" <<-EOF
			load_module /usr/lib/nginx/modules/ngx_stream_module.so;
			daemon off;
			master_process on;
			worker_processes $workers;
			worker_rlimit_nofile $nofile;
			pid $rundir/nginx.pid;
			error_log $rundir/error.log warn;
			events {
			    worker_connections $((nofile - 100));
			}
			stream {
			    upstream echo {
			        server 127.0.0.1:$backend_port;
			    }
			    server {
			        listen 127.0.0.1:$port ssl;
			        ssl_certificate $crt;
			        ssl_certificate_key $keyf;
			        ssl_protocols TLSv1.2 TLSv1.3;
			        ssl_ciphers $ciphers12;
			        ssl_conf_command Ciphersuites $ciphers13;
			        ssl_prefer_server_ciphers off;
			        ssl_session_cache shared:SSL:10m;
			        ssl_session_timeout 5m;
			        ssl_session_tickets on;
			        proxy_pass echo;
			    }
			}
			EOF
			launch "$log" nginx -p "$rundir" -e "$rundir/error.log" -c "$rundir/nginx.conf"
			children=$workers
			;;
		esac
		wait_listen "$port" "$pid" && break
		# Taken in the meantime? Try another port.
		if grep -qi 'address already in use' "$log" "$rundir/error.log" 2>/dev/null && [ "$try" -lt 3 ]; then
			kill -TERM -- -"$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			continue
		fi
		[ -s "$rundir/error.log" ] && cat "$rundir/error.log" >>"$log"
		fail "not listening on $port"
	done
	wait_children "$pid" "$children" || fail "fewer than $children worker processes"
	;;
esac
[ -n "$port" ] || fail "no port"
# The process tree is settled; node's workers and hitch's may still be
# forking helpers, so take a last look a moment later.
sleep 0.2
pids="$pid $(descendants "$pid" | tr '\n' ' ')"
pids=${pids% }
pids=${pids% }
{
	printf 'PEER_NAME=%q\n' "$name"
	printf 'PEER_VERSION=%q\n' "$version"
	printf 'PEER_PORT=%q\n' "$port"
	printf 'PEER_PID=%q\n' "$pid"
	printf 'PEER_PIDS=%q\n' "$pids"
	printf 'PEER_KEY=%q\n' "$key"
	printf 'PEER_WORKERS=%q\n' "$workers"
	printf 'PEER_BACKEND_PID=%q\n' "$backend_pid"
	printf 'PEER_BACKEND_PORT=%q\n' "$backend_port"
	printf 'PEER_RUN_DIR=%q\n' "$rundir"
} >"$rundir/peer.env"
echo "$port $pids"
