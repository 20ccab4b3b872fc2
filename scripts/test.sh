#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's test command: install what the suite needs, build from scratch
# in build/ (out of tree, so the sanitizer trees can be configured beside it)
# and run the whole test suite: make check in a normal build, then the same
# suite under ASan+LSan, TSan and UBSan builds (make check-all).
# Ends with one line "N passed, N failed" summed over every tree.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/setup.sh
./autogen.sh >/dev/null
rm -rf build
mkdir -p build
cd build
../configure
status=0
make -j2 check-all || status=$?
# Sum the automake summaries of every tree (build/ and build/build-san-*).
passed=0 failed=0
while IFS= read -r log; do
	p=$(sed -n 's/^# PASS: *\([0-9]*\).*/\1/p' "$log" | head -1)
	f=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *\([0-9]*\).*/\2/p' "$log" | awk '{s += $1} END {print s + 0}')
	echo "test summary: $log: ${p:-0} passed, ${f:-0} failed"
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
done < <(find . -name test-suite.log | sort)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1 # the build itself failed before any test ran
fi
echo "$passed passed, $failed failed"
exit "$status"
