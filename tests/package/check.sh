#!/bin/sh
# check.sh - the Debian package end to end, on a throwaway machine: build it
# (dpkg-buildpackage in a copy of the tree, so the tree stays clean), list
# it, install it with dpkg -i, run the installed tlsd with the installed
# config the way the unit's ExecStart does (no systemd needed), handshake
# with it, rotate its log, stop it, then purge the package (and the tlsd
# user, when this script's install made it). Last line: "N passed, N failed".
# Exits 77 (skipped) when not root, without dpkg-buildpackage, or when a
# tlsd package is on the machine already (this would replace it).
# PACKAGE_JOBS (default 2): parallel jobs of the package build.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
passed=0
failed=0
master=""
installed=no
made_run_dir=no

skip() {
	echo "package: skipped: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || skip "not root (dpkg -i needs root)"
command -v dpkg-buildpackage >/dev/null 2>&1 || skip "no dpkg-buildpackage (apt-get install dpkg-dev debhelper)"
state=$(dpkg-query -W -f '${db:Status-Status}' tlsd 2>/dev/null || true)
[ -z "$state" ] || [ "$state" = not-installed ] || skip "a tlsd package is on this machine already ($state)"
user_existed=no
getent passwd tlsd >/dev/null && user_existed=yes

work=$(mktemp -d /tmp/tlsd-package.XXXXXX) || exit 1
src="$work/tlsd"
mkdir "$src"

cleanup() {
	[ -z "$master" ] || kill -KILL "$master" 2>/dev/null
	[ "$installed" = no ] || dpkg --purge tlsd >/dev/null 2>&1
	if [ "$user_existed" = no ] && getent passwd tlsd >/dev/null; then
		deluser --quiet tlsd >/dev/null 2>&1
		! getent group tlsd >/dev/null || delgroup --quiet tlsd >/dev/null 2>&1
	fi
	[ "$made_run_dir" = no ] || rm -rf /run/tlsd
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
}
# check NAME COMMAND...: one check; the command's output is shown when it fails.
check() {
	name=$1
	shift
	if "$@" >"$work/out" 2>&1; then ok "$name"; else
		not_ok "$name"
		sed -n '1,40s/^/#   /p' "$work/out"
	fi
}
# wait_for SECONDS COMMAND...: until the command succeeds, at most SECONDS.
wait_for() {
	tries=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}
listed() { grep -q " \./$1\$" "$work/contents"; }
not_listed() { ! grep -q " \./$1\$" "$work/contents"; }
mode_is() { [ "$(stat -c '%U %a' "$1")" = "$2" ]; }
gone() { [ ! -e "$1" ]; }

# --- build
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top" ls-files -z -c -o --exclude-standard |
		tar -C "$top" --null --ignore-failed-read -T - -cf - | tar -C "$src" -xf -
else
	tar -C "$top" --exclude='./build*' --exclude=./debian/tlsd -cf - . | tar -C "$src" -xf -
fi
echo "== dpkg-buildpackage -us -uc -b (nocheck, parallel=${PACKAGE_JOBS:-2})"
start=$(date +%s)
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=${PACKAGE_JOBS:-2}" DEB_BUILD_PROFILES=nocheck \
	dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1
deb=$(ls "$work"/tlsd_*.deb 2>/dev/null | head -n 1)
if [ -n "$deb" ]; then ok "package builds ($(($(date +%s) - start)) s): $(basename "$deb")"; else
	not_ok "package builds"
	tail -n 40 "$work/build.log" | sed 's/^/#   /'
	echo "$passed passed, $failed failed"
	exit 1
fi

# --- contents
echo "== dpkg -c $(basename "$deb")"
dpkg -c "$deb" | tee "$work/contents.raw" | awk '{ print $1, $2, $NF }'
awk '{ print $1, $NF }' "$work/contents.raw" >"$work/contents"
check "lists /usr/sbin/tlsd" listed usr/sbin/tlsd
check "no tlsd in /usr/bin" not_listed usr/bin/tlsd
unit=lib/systemd/system/tlsd.service
listed "$unit" || unit=usr/lib/systemd/system/tlsd.service
check "lists the unit ($unit)" listed "$unit"
check "lists /etc/tlsd/tlsd.json" listed etc/tlsd/tlsd.json
check "lists /etc/logrotate.d/tlsd" listed etc/logrotate.d/tlsd
check "lists tlsd(8) and tlsd.conf(5)" sh -c "grep -q ' ./usr/share/man/man8/tlsd.8.gz\$' '$work/contents' &&
	grep -q ' ./usr/share/man/man5/tlsd.conf.5.gz\$' '$work/contents'"
if command -v lintian >/dev/null 2>&1; then
	echo "== lintian"
	lintian --fail-on error "$deb" >"$work/lintian.out" 2>&1
	lintian_rc=$?
	cat "$work/lintian.out"
	check "lintian: no errors" test "$lintian_rc" -eq 0
fi

# --- install
echo "== dpkg -i"
installed=yes
check "dpkg -i installs it" dpkg -i "$deb"
check "system user tlsd" sh -c 'getent passwd tlsd | grep -q ":/usr/sbin/nologin$"'
check "/var/lib/tlsd is root's, 0700" mode_is /var/lib/tlsd "root 700"
check "generated key is root's, 0600" mode_is /etc/tlsd/key.pem "root 600"
check "tlsd.json is a conffile" sh -c "dpkg-query -W -f '\${Conffiles}' tlsd | grep -q ' /etc/tlsd/tlsd.json '"
check "tlsd --check accepts the installed config" /usr/sbin/tlsd -c /etc/tlsd/tlsd.json --check

# --- run it as the unit does
exec_start=$(sed -n 's/^ExecStart=//p' "/$unit")
echo "== $exec_start"
if [ ! -d /run/tlsd ]; then
	mkdir -m 0755 /run/tlsd && made_run_dir=yes
fi
$exec_start >"$work/tlsd.out" 2>&1 &
master=$!
if wait_for 10 test -s /run/tlsd/tlsd.pid; then ok "started: /run/tlsd/tlsd.pid written"; else
	not_ok "started: /run/tlsd/tlsd.pid written"
	sed 's/^/#   /' "$work/tlsd.out"
fi
check "pid file names the master" test "$(cat /run/tlsd/tlsd.pid 2>/dev/null)" = "$master"
workers_are_tlsd() {
	kids=$(cat "/proc/$master/task/$master/children" 2>/dev/null)
	[ -n "$kids" ] || return 1
	for k in $kids; do [ "$(stat -c %U "/proc/$k")" = tlsd ] || return 1; done
}
check "workers run as tlsd" wait_for 5 workers_are_tlsd
check "TLS handshake on 127.0.0.1:8443, certificate verifies" sh -c 'timeout 10 openssl s_client \
	-connect 127.0.0.1:8443 -servername localhost -CAfile /etc/tlsd/cert.pem \
	-verify_hostname localhost -verify_return_error </dev/null 2>&1 | grep "Verify return code: 0 (ok)"'
echo_back() {
	(printf 'ping\n'; sleep 1) | timeout 5 openssl s_client -quiet -connect 127.0.0.1:8443 \
		-CAfile /etc/tlsd/cert.pem 2>/dev/null | grep -qx ping
}
check "echoes over TLS" echo_back
access_log_written() { [ -s /var/log/tlsd/access.log ] && mode_is /var/log/tlsd/access.log "tlsd 644"; }
check "access log written, the tlsd user's" wait_for 3 access_log_written
# loopback_only PORT: every listening TCP socket on PORT is bound to 127.0.0.1
# (and there is one).
loopback_only() {
	hex=$(printf ':%04X' "$1")
	addrs=$(awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' /proc/net/tcp /proc/net/tcp6)
	[ -n "$addrs" ] && [ -z "$(echo "$addrs" | grep -v "^0100007F$hex\$")" ]
}
loopback_ports() { loopback_only 8443 && loopback_only 8001; }
check "TLS (8443) and control (8001) listen on 127.0.0.1 only" loopback_ports
if command -v logrotate >/dev/null 2>&1; then
	rotated() { [ -s /var/log/tlsd/access.log.1 ] && [ -s /var/log/tlsd/access.log ]; }
	logrotate -f -s "$work/logrotate.state" /etc/logrotate.d/tlsd >"$work/out" 2>&1
	sleep 0.5
	echo_back
	check "logrotate: SIGUSR1, new lines in a new access.log" wait_for 3 rotated
else
	echo "# no logrotate: rotation not checked"
fi

# --- stop
kill -TERM "$master"
stopped() { ! kill -0 "$master" 2>/dev/null; }
check "SIGTERM stops it" wait_for 10 stopped
wait "$master" 2>/dev/null
master=""
check "pid file removed" gone /run/tlsd/tlsd.pid

# --- purge
echo "== dpkg --purge tlsd"
check "dpkg --purge removes it" dpkg --purge tlsd
installed=no
check "purge leaves no files" sh -c '! ls -d /usr/sbin/tlsd /etc/tlsd /var/lib/tlsd /var/log/tlsd 2>/dev/null | grep .'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
