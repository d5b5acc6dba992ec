#!/bin/sh
# setup-debian.sh - install what tlsd needs to build and test on Debian 12.
# Runs apt-get as root, or through sudo when not root.
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
PACKAGES="build-essential autoconf automake pkg-config libgnutls28-dev libssl-dev \
libmicrohttpd-dev libjansson-dev libev-dev libcmocka-dev libcurl4-openssl-dev gnutls-bin openssl curl \
clang libclang-rt-14-dev util-linux libhiredis-dev redis-server python3 passwd"
command -v node >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs"
# The Debian package and its check (tests/package/check.sh); libcurl is in
# debian/control's Build-Depends for tlsctl.
PACKAGES="$PACKAGES dpkg-dev debhelper lintian adduser logrotate libcurl4-openssl-dev"
# nginx: a TLS backend we did not write (tests/integration/backend-tls.test.mjs
# runs its own instance on a free port; the packaged service is not used).
PACKAGES="$PACKAGES nginx"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PACKAGES >/dev/null
