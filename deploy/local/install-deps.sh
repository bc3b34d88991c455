#!/usr/bin/env bash
# Install the Debian packages cachewire needs, only those missing.
#   install-deps.sh          build + run (compiler, libraries, redis-server)
#   install-deps.sh --test   also what the tests need (cmocka, protoc, nngcat,
#                            redis-cli, python3 for the benchmark smoke test,
#                            clang and its libFuzzer for the fuzz targets,
#                            valgrind for the memcheck pass, openssl for
#                            the TLS tests' throwaway certificates;
#                            python3-yaml and systemd (systemd-analyze, no
#                            running systemd needed) for the deploy/ checks;
#                            iproute2 for test_netns' network namespaces,
#                            curl for the admin endpoint's tests)
#   install-deps.sh --runtime  only the shared libraries the installed
#                            cachewired and cachewire load (the container
#                            image's runtime stage; tests/deploy/check_deploy.sh
#                            proves the list covers what ldd shows)
#   ... --list               print the names instead of installing
#                            (tests/deploy/check_deploy.sh reads them)
set -euo pipefail

mode='' list=''
for a in "$@"; do
	case $a in
	--test | --runtime) mode=$a ;;
	--list) list=1 ;;
	*) echo "usage: $0 [--test | --runtime] [--list]" >&2; exit 2 ;;
	esac
done

if [ "$mode" = --runtime ]; then
	# Debian 12 names. libnng1 pulls mbedTLS in as a dependency; listed
	# anyway because nng's tls+tcp:// is a feature we rely on.
	pkgs=(libhiredis0.14 libnng1 libprotobuf-c1 libyaml-0-2
		libmbedtls14 libmbedx509-1 libmbedcrypto7 libnghttp2-14 libssl3)
else
	pkgs=(cmake make gcc pkg-config libhiredis-dev libprotobuf-c-dev
		protobuf-c-compiler libnng-dev libyaml-dev libnghttp2-dev libssl-dev
		redis-server)
fi
if [ "$mode" = --test ]; then
	pkgs+=(libcmocka-dev protobuf-compiler nng-utils clang-format git
		redis-tools python3 clang libclang-rt-14-dev valgrind openssl
		iproute2 curl python3-yaml systemd)
	# the Python client's tests (tests/python/run.sh)
	pkgs+=(python3-protobuf python3-cachecontrol python3-requests)
	# gRPC clients no one here wrote (tests/python/test_grpc*.py): grpcio
	# with stubs from Debian's protoc + grpc_python_plugin, and h2 for
	# frames no gRPC library would send
	pkgs+=(python3-grpcio protobuf-compiler-grpc python3-h2)
	# twemproxy, for the benchmark's twemproxy target (test_bench)
	pkgs+=(nutcracker)
	# and Node's @grpc/grpc-js (tests/node): Debian's node and npm, unless
	# this machine has them already
	command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
fi
if [ -n "$list" ]; then
	printf '%s\n' "${pkgs[@]}"
	exit 0
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
