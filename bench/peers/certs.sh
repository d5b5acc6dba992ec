#!/bin/bash
# certs.sh DIR - the certificates every server in bench/peers uses, made once
# with openssl (self-signed, CN localhost, SAN DNS:localhost + IP:127.0.0.1):
#
#   DIR/ecdsa.key DIR/ecdsa.crt DIR/ecdsa.pem    ECDSA P-256 (the default)
#   DIR/rsa.key   DIR/rsa.crt   DIR/rsa.pem      RSA-2048
#
# The .pem is key + certificate in one file, as hitch and HAProxy want it.
# Files already there are kept (so every run of a comparison uses the same
# certificate); delete DIR to get new ones.
set -eu
dir=${1:?usage: certs.sh DIR}
mkdir -p "$dir"
for kind in ecdsa rsa; do
	[ -s "$dir/$kind.pem" ] && [ -s "$dir/$kind.crt" ] && [ -s "$dir/$kind.key" ] && continue
	case $kind in
	ecdsa) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
	rsa) newkey=(-newkey rsa:2048) ;;
	esac
	openssl req -x509 -nodes "${newkey[@]}" -sha256 -days 3650 \
		-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$dir/$kind.key.tmp" -out "$dir/$kind.crt.tmp" 2>/dev/null
	# PKCS#8 key: GnuTLS, OpenSSL and Node all read it.
	openssl pkey -in "$dir/$kind.key.tmp" -out "$dir/$kind.key"
	mv "$dir/$kind.crt.tmp" "$dir/$kind.crt"
	rm -f "$dir/$kind.key.tmp"
	cat "$dir/$kind.key" "$dir/$kind.crt" >"$dir/$kind.pem"
done
