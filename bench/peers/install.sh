#!/bin/bash
# install.sh - install the peers that bench/peers/start.sh runs beside tlsd,
# from Debian's packages (written for Debian 12, bookworm):
#
#   hitch                  TLS proxy (OpenSSL), one process per worker
#   haproxy                mode tcp + ssl bind, one process with N threads
#   nginx                  the server; on Debian 12 the stream module is a
#   libnginx-mod-stream    dynamic module in its own package (nginx-full and
#                          nginx-extras only pull it in along with many more)
#   nodejs                 only if no `node` is on PATH already: the system
#                          node runs bench/peers/node-cluster.mjs
#   openssl                the clients (s_client, s_time); build-essential
#                          is not installed here (tlsd's build needs it anyway)
#
# Needs root. Idempotent: apt-get install leaves what is there alone. The
# packages' services are not started (a policy-rc.d that refuses them is put
# in place for the install when the machine has none), and if a service
# manager started them anyway they are stopped and disabled: the benchmark
# starts its own instances on free ports with its own configs.
#
#   bench/peers/install.sh        prints the versions at the end (stdout)
set -eu

if [ "$(id -u)" != 0 ]; then
	echo "install.sh: needs root (apt-get install)" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
pkgs=(hitch haproxy nginx libnginx-mod-stream openssl)
command -v node >/dev/null || pkgs+=(nodejs)

# Keep the packages' postinst from starting hitch/haproxy/nginx on ports 80
# and 443: policy-rc.d exit 101 = "action forbidden" (invoke-rc.d and
# deb-systemd-invoke both honour it).
made_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	made_policy=1
fi
cleanup() { [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d; return 0; }
trap cleanup EXIT

echo "install.sh: apt-get update" >&2
apt-get update -qq >&2
echo "install.sh: apt-get install ${pkgs[*]}" >&2
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2

# Where a service manager runs, make sure the system instances are off.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
	for s in hitch haproxy nginx; do
		systemctl disable --now "$s" >/dev/null 2>&1 || true
	done
fi

stream=/usr/lib/nginx/modules/ngx_stream_module.so
[ -e "$stream" ] || { echo "install.sh: $stream missing after install" >&2; exit 1; }

echo "installed:"
for p in hitch haproxy nginx libnginx-mod-stream openssl nodejs; do
	v=$(dpkg-query -W -f '${Version}' "$p" 2>/dev/null) || v="(not a Debian package here)"
	printf '  %-20s %s\n' "$p" "$v"
done
echo "  node binary          $(node --version 2>/dev/null || echo none) ($(command -v node || true))"
echo "  hitch                $(hitch --version 2>&1 | head -n 1)"
echo "  haproxy              $(haproxy -v 2>&1 | head -n 1)"
echo "  nginx                $(nginx -v 2>&1 | head -n 1)"
echo "  openssl              $(openssl version)"
