#!/bin/sh
# Makes a throwaway PKI for tls:// links with the openssl CLI (Debian openssl), in DIR:
#   ca.pem ca.key              a CA
#   server.pem server.key      a server certificate for SANS, signed by the CA
#   client.pem client.key      a client certificate (mutual TLS), signed by the CA
#   rogue-ca.pem rogue.pem rogue.key   a server certificate for SANS signed by another CA
#
#   Scripts/lib/make_certs.sh DIR [SANS]     SANS default: IP:127.0.0.1,DNS:localhost
set -eu
dir=$1
sans=${2:-IP:127.0.0.1,DNS:localhost}
mkdir -p "$dir"
cd "$dir"
quiet() { "$@" >/dev/null 2>&1 || { echo "make_certs: failed: $*" >&2; "$@"; exit 1; }; }

ca() {  # NAME SUBJECT
    quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$1.key" -out "$1.pem" -subj "/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() {  # NAME CA SUBJECT EXTENSIONS
    quiet openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$3"
    printf '%s\n' "$4" > "$1.ext"
    quiet openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 -out "$1.pem" -extfile "$1.ext"
    rm -f "$1.csr" "$1.ext"
}
ca ca "runnel test CA"
ca rogue-ca "some other CA"
leaf server ca "runnel server" "subjectAltName=$sans
extendedKeyUsage=serverAuth,clientAuth"
leaf client ca "runnel client" "extendedKeyUsage=clientAuth"
leaf rogue rogue-ca "runnel server" "subjectAltName=$sans
extendedKeyUsage=serverAuth"
