#!/bin/bash
# crypto-limits.sh - the machine's crypto limits, measured the same day as
# the server figures: private-key signatures per second (the server's
# share of a full handshake) through GnuTLS (bench/sign_speed) and through
# OpenSSL (`openssl speed`), side by side, in one run.
#
#   bench/crypto-limits.sh [SIGN_SPEED_BIN] [SECONDS]   (defaults: ./bench/sign_speed, 2)
#
# A benchmark, not a test: make check never runs it.
set -u
bin=${1:-./bench/sign_speed}
secs=${2:-2}
[ -x "$bin" ] || { echo "crypto-limits: no $bin (run make first)" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" "$secs" >"$out" || exit 1
gnu_rsa=$(awk '$3 == "rsa2048" { print $4 }' "$out")
gnu_pss=$(awk '$3 == "rsa2048-pss" { print $4 }' "$out")
gnu_ec=$(awk '$3 == "ecdsap256" { print $4 }' "$out")
ossl=$(openssl speed -seconds "$secs" rsa2048 ecdsap256 2>/dev/null)
ossl_rsa=$(echo "$ossl" | awk '/^rsa 2048 bits/ { print int($6) }')
ossl_ec=$(echo "$ossl" | awk '/256 bits ecdsa \(nistp256\)/ { print int($7) }')
echo "signatures per second, one core, $(date -u +%Y-%m-%d) on $(uname -m), $(nproc) CPUs"
printf "%-22s %12s %12s %10s\n" "key" "GnuTLS" "OpenSSL" "GnuTLS/OpenSSL"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf "%-22s %12s %12s %10s\n" "RSA-2048 PKCS#1 v1.5" "$gnu_rsa" "$ossl_rsa" "$(ratio "$gnu_rsa" "$ossl_rsa")"
printf "%-22s %12s %12s %10s\n" "RSA-2048 PSS (TLS 1.3)" "$gnu_pss" "$ossl_rsa" "$(ratio "$gnu_pss" "$ossl_rsa")"
printf "%-22s %12s %12s %10s\n" "ECDSA P-256" "$gnu_ec" "$ossl_ec" "$(ratio "$gnu_ec" "$ossl_ec")"
echo "(OpenSSL's rsa2048 figure is PKCS#1 v1.5; its PSS cost is the same private-key operation)"
