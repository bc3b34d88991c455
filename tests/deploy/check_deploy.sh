#!/usr/bin/env bash
# Checks deploy/ (Dockerfile, compose, Kubernetes, systemd) against the real
# programs, since no container engine, cluster or systemd runs in CI:
#   tests/deploy/check_deploy.sh CACHEWIRED [REPO]
# CACHEWIRED is a built cachewired; its directory is the build tree, which
# deploy/install.sh installs into a temporary prefix (so CI runs that
# script, as the Dockerfile does). check_deploy.py then checks YAML, every
# CACHEWIRE_* variable and configuration file with `cachewired
# --check-config`, ports and probe paths, the Dockerfile's RUN and COPY
# lines, the runtime packages against ldd, the systemd unit with
# systemd-analyze, and runs compose's Redis and smoke commands against the
# installed daemon. Fails (exit 1) naming each check that failed.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 CACHEWIRED [REPO]" >&2; exit 2; }
build=$(cd "$(dirname "$1")" && pwd)
repo=$(cd "${2:-$(dirname "$0")/../..}" && pwd)
tmp=$(mktemp -d /tmp/cw-check-deploy-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "deploy/install.sh --build-dir $build --prefix $tmp/prefix" >&2
"$repo/deploy/install.sh" --build-dir "$build" --prefix "$tmp/prefix" >/dev/null
# Debian's python3 with python3-yaml (python3 on PATH may be another build).
/usr/bin/python3 "$repo/tests/deploy/check_deploy.py" "$repo" "$tmp/prefix" "$build"
