#!/bin/bash
# crypto-limits.sh - the machine's crypto limits, measured the same day as
# the server figures, one core:
#
#   1. private-key signatures per second (a full handshake's share on the
#      server) through GnuTLS's API with each of tlsd's signers
#      (bench/sign_speed: GnuTLS's own key, and the key GnuTLS hands to
#      libcrypto) and through `openssl speed`, side by side in one run;
#   2. key exchange and record ciphers: `gnutls-cli --benchmark-tls-kx`
#      (whole TLS 1.3/1.2 handshakes per second, client and server in one
#      process, by key exchange) and `--benchmark-ciphers`, and
#      `openssl speed` for X25519/P-256 ECDH and AES-GCM.
#
#   bench/crypto-limits.sh [SIGN_SPEED_BIN] [SECONDS]   (defaults: ./bench/sign_speed, 2)
#   CRYPTO_LIMITS_PARTS="sign kx ciphers" (default: all three)
#
# A benchmark, not a test: make check never runs it.
set -u
bin=${1:-./bench/sign_speed}
secs=${2:-2}
parts=${CRYPTO_LIMITS_PARTS:-sign kx ciphers}
[ -x "$bin" ] || { echo "crypto-limits: no $bin (run make first)" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
pick() { awk -v s="$1" -v k="$2" '$2 == s && $3 == k { print $4 }' "$out"; }

echo "crypto limits, one core, $(date -u +%Y-%m-%d) on $(uname -m), $(nproc) CPUs;" \
	"GnuTLS $(gnutls-cli --version 2>/dev/null | head -n 1 | awk '{ print $NF }')," \
	"$(openssl version | cut -d' ' -f1-2)"

if [[ " $parts " == *" sign "* ]]; then
	"$bin" "$secs" >"$out" || exit 1
	ossl=$(openssl speed -seconds "$secs" rsa2048 ecdsap256 2>/dev/null)
	ossl_rsa=$(echo "$ossl" | awk '/^rsa 2048 bits/ { print int($6) }')
	ossl_ec=$(echo "$ossl" | awk '/256 bits ecdsa \(nistp256\)/ { print int($7) }')
	echo
	echo "signatures per second"
	printf "%-24s %10s %16s %14s %12s\n" "key" "GnuTLS" "OpenSSL signer" "openssl speed" "signer/GnuTLS"
	for row in "RSA-2048 PKCS#1 v1.5:rsa2048:$ossl_rsa" "RSA-2048 PSS (TLS 1.3):rsa2048-pss:$ossl_rsa" \
		"ECDSA P-256:ecdsap256:$ossl_ec"; do
		IFS=: read -r label key sp <<<"$row"
		g=$(pick gnutls "$key")
		o=$(pick openssl "$key")
		printf "%-24s %10s %16s %14s %12s\n" "$label" "$g" "$o" "$sp" "$(ratio "$o" "$g")"
	done
	echo "(GnuTLS and OpenSSL signer: bench/sign_speed through gnutls_privkey_sign_hash2, as in a"
	echo " handshake; openssl speed: libcrypto alone, PKCS#1 v1.5 for RSA, same private-key operation as PSS)"
fi

if [[ " $parts " == *" kx "* ]]; then
	echo
	echo "key exchange: gnutls-cli --benchmark-tls-kx (client and server in one process)"
	gnutls-cli --benchmark-tls-kx 2>&1 | awk '/^\(/ { name = $0 } /transactions\/sec/ { printf "  %-60s %s tx/s\n", name, $2 }'
	echo "openssl speed (derive operations per second)"
	openssl speed -seconds "$secs" ecdhx25519 ecdhp256 2>/dev/null | awk '/ecdh \(/ { printf "  %-30s %s\n", $3 " " $4, $NF }'
fi

if [[ " $parts " == *" ciphers "* ]]; then
	echo
	echo "record ciphers: gnutls-cli --benchmark-ciphers (16 KiB records)"
	gnutls-cli --benchmark-ciphers 2>&1 | awk '/^ *AES-128-GCM|^ *AES-256-GCM|^ *CHACHA20-POLY1305/ && /GB\/sec|MB\/sec/ { sub(/^ */, "  "); print }'
	echo "openssl speed -evp (16 KiB blocks)"
	for c in aes-128-gcm aes-256-gcm chacha20-poly1305; do
		openssl speed -seconds "$secs" -bytes 16384 -evp "$c" 2>/dev/null |
			awk -v c="$c" 'tolower($1) == c { v = $NF; sub(/k$/, "", v); printf "  %-20s %.2f GB/sec\n", c, v * 1000 / 1e9 }'
	done
fi
