#!/bin/sh
# Test certificates for the DNS over TLS / HTTPS listeners, made by openssl
# at set-up (never checked in):
#
#   sh spec/support/certs.sh DIR
#
# DIR/ca.pem                 the test CA (self-signed, EC P-256)
# DIR/good.pem, good.key     dns.example.test, IP 127.0.0.1 and ::1, signed by the CA
# DIR/expired.pem, .key      the same names, signed by the CA, expired in 2020
# DIR/wrongname.pem, .key    other.example.test only, signed by the CA
# DIR/selfsigned.pem, .key   dns.example.test, signed by itself
# DIR/*.chain.pem            leaf + CA, what a server sends
# DIR/good.spki              base64 SHA-256 of good.pem's SubjectPublicKeyInfo (RFC 7858 pin)
#
# Made again only when DIR/stamp is missing or older than this script.

set -eu
DIR=$1
here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$DIR/stamp" ] && ! [ "$here/certs.sh" -nt "$DIR/stamp" ]; then
    exit 0
fi
rm -rf "$DIR"
mkdir -p "$DIR/ca.db"
cd "$DIR"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=lua-names test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem 2>/dev/null

# sign NAME SAN [STARTDATE ENDDATE]: NAME.key/NAME.pem signed by the CA
sign() {
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
        "$2" >"$1.ext"
    : >ca.db/index
    [ -f ca.db/serial ] || echo 1000 >ca.db/serial
    cat >ca.cnf <<CNF
[ ca ]
default_ca = testca
[ testca ]
database = ca.db/index
serial = ca.db/serial
new_certs_dir = ca.db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
copy_extensions = none
[ anything ]
commonName = supplied
CNF
    if [ $# -ge 5 ]; then
        dates="-startdate $4 -enddate $5"
    else
        dates="-days 3650"
    fi
    # shellcheck disable=SC2086 # two options and their values
    openssl ca -batch -config ca.cnf $dates -extfile "$1.ext" -in "$1.csr" -out "$1.pem" \
        -notext 2>/dev/null
    cat "$1.pem" ca.pem >"$1.chain.pem"
    rm -f "$1.csr" "$1.ext"
}

sign good "DNS:dns.example.test,IP:127.0.0.1,IP:::1" dns.example.test
sign expired "DNS:dns.example.test,IP:127.0.0.1,IP:::1" dns.example.test 20200101000000Z 20200201000000Z
sign wrongname "DNS:other.example.test" other.example.test

key selfsigned.key
openssl req -x509 -new -key selfsigned.key -sha256 -days 3650 -subj "/CN=dns.example.test" \
    -addext "subjectAltName=DNS:dns.example.test,IP:127.0.0.1,IP:::1" -out selfsigned.pem 2>/dev/null
cp selfsigned.pem selfsigned.chain.pem

openssl x509 -in good.pem -pubkey -noout | openssl pkey -pubin -outform DER 2>/dev/null |
    openssl dgst -sha256 -binary | openssl base64 >good.spki
openssl verify -CAfile ca.pem good.pem >/dev/null
chmod 644 ./*.key
touch stamp
