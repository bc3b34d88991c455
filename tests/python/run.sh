#!/bin/sh
# run.sh CACHEWIRED CLI SOURCE_DIR BUILD_DIR - the Python client's tests:
# builds the package into BUILD_DIR/python (client/python/build.sh), then
# runs every tests/python/test_*.py, each in its own /usr/bin/python3
# process (Debian's, with python3-protobuf, -cachecontrol, -requests,
# -grpcio, -h2), after installing the Node test clients (tests/node) into
# BUILD_DIR/node.
# Fails when any module fails, errors, skips a test or runs none: a skip
# is never counted as a pass. Extra: CW_PYTHON_TESTS="test_client ..."
# runs only those modules; CW_PYTHON overrides the interpreter.
set -eu
[ $# -eq 4 ] || { echo "usage: $0 CACHEWIRED CLI SOURCE_DIR BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
CW_CACHEWIRED=$(abspath "$1")
CW_CLI=$(abspath "$2")
CW_SOURCE_DIR=$(abspath "$3")
CW_PYTHON_BUILD=$(abspath "$4")/python
export CW_CACHEWIRED CW_CLI CW_SOURCE_DIR CW_PYTHON_BUILD
PY=${CW_PYTHON:-/usr/bin/python3}

"$CW_SOURCE_DIR/client/python/build.sh" "$CW_PYTHON_BUILD"
# the Node gRPC clients (test_grpc_node), into the build tree too
"$CW_SOURCE_DIR/tests/node/install.sh" "$(dirname "$CW_PYTHON_BUILD")/node"

modules=${CW_PYTHON_TESTS:-$(cd "$here" && ls test_*.py | sed 's/\.py$//')}
[ -n "$modules" ] || { echo "FAIL no tests/python/test_*.py"; exit 1; }
failed=''
for m in $modules; do
	echo "==== $m"
	if ! (cd "$here" && PYTHONPATH="$CW_PYTHON_BUILD:$here" PYTHONDONTWRITEBYTECODE=1 \
		"$PY" - "$m" <<'EOF'
import sys, unittest
name = sys.argv[1]
suite = unittest.defaultTestLoader.loadTestsFromName(name)
result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
bad = not result.wasSuccessful() or result.skipped or result.testsRun == 0
if result.skipped:
    print("FAIL %s: %d skipped test(s) count as failures" % (name, len(result.skipped)))
if result.testsRun == 0:
    print("FAIL %s: no tests ran" % name)
sys.exit(1 if bad else 0)
EOF
	); then
		failed="$failed $m"
	fi
done
if [ -n "$failed" ]; then
	echo "FAILED:$failed"
	exit 1
fi
echo "all Python test modules passed: $(echo $modules)"
