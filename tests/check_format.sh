#!/usr/bin/env bash
# Every tracked C file is formatted as .clang-format says.
# Usage: check_format.sh SOURCE_DIR
set -euo pipefail
cd "$1"
bad=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find client server tests -name '*.[ch]')
for f in $files; do
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (run clang-format -i $f)"
		bad=$((bad + 1))
	fi
done
total=$(echo "$files" | wc -w)
echo "$((total - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
