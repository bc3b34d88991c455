#!/usr/bin/env bash
# Install the Debian packages cachewire needs, only those missing.
#   install-deps.sh          build + run (compiler, libraries, redis-server)
#   install-deps.sh --test   also what the tests need (cmocka, protoc, nngcat,
#                            redis-cli, python3 for the benchmark smoke test,
#                            clang and its libFuzzer for the fuzz targets,
#                            valgrind for the memcheck pass, openssl for
#                            the TLS tests' throwaway certificates)
set -euo pipefail

pkgs=(cmake make gcc pkg-config libhiredis-dev libprotobuf-c-dev
	protobuf-c-compiler libnng-dev libyaml-dev redis-server)
if [ "${1:-}" = "--test" ]; then
	pkgs+=(libcmocka-dev protobuf-compiler nng-utils clang-format git
		redis-tools python3 clang libclang-rt-14-dev valgrind openssl)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
	--no-install-recommends "${missing[@]}" >/dev/null
