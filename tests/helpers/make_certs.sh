#!/bin/sh
# make_certs.sh DIR - throwaway TLS material for tests, made with the
# openssl CLI (P-256 keys, valid 2 days):
#   ca.crt ca.key                a test CA
#   server.crt server.key        signed by it, for 127.0.0.1 and localhost
#   client.crt client.key        a client certificate signed by it
#   rogue-ca.crt rogue-ca.key    an unrelated CA
#   rogue-client.crt .key        a client certificate signed by the rogue CA
#   bad.pem                      not a certificate at all
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
days=2
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # ca NAME CN
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -out "$1.crt" -days $days \
		-subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() { # leaf NAME CA CN EXTFILE
	key "$1.key"
	openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$3"
	openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" \
		-CAcreateserial -out "$1.crt" -days $days -extfile "$4" 2>/dev/null
	rm -f "$1.csr"
}
# Debian 12's mbedTLS (2.28) matches the name a client expects against the
# certificate's DNS names only, never its IP addresses: an address a
# client dials by number must be listed as a DNS name too.
printf 'subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
printf 'extendedKeyUsage=clientAuth\n' >client.ext
ca ca cachewire-test-ca
ca rogue-ca cachewire-rogue-ca
leaf server ca localhost server.ext
leaf client ca cachewire-test-client client.ext
leaf rogue-client rogue-ca cachewire-rogue-client client.ext
echo "this is not a certificate" >bad.pem
rm -f server.ext client.ext ./*.srl
chmod 600 ./*.key
