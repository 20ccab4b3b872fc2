#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/selftest.sh - the contract's unit tests (tests/scheme_selftest.c) and
# the workloads' property tests, for every scheme `smrbench-faults list`
# shows: `smrbench-faults selftest SCHEME` prints TAP lines without a plan;
# this script numbers them and adds the plan.  Poisoning is on, so a
# premature free reads 0xDD bytes instead of a recycled block.
. "${srcdir:-.}/tests/lib.sh"

schemes=$(list_section "$FAULTS" schemes)
[ -n "$schemes" ] || bail "smrbench-faults list shows no scheme"

for s in $schemes; do
	out=$TMPD/$s.out err=$TMPD/$s.err
	SMRBENCH_POISON=1 "$FAULTS" selftest "$s" >"$out" 2>"$err"
	rc=$?
	lines=0 bad=0
	while IFS= read -r line; do
		case $line in
		"not ok"*) lines=$((lines + 1)); bad=$((bad + 1)); not_ok "${line#not ok - }" ;;
		"ok"*) lines=$((lines + 1))
			msg=${line#ok - }
			case $msg in
			*"# SKIP"*) skip "${msg%%# SKIP*}" "${msg#*# SKIP}" ;;
			*) ok "$msg" ;;
			esac ;;
		*) echo "# $line" ;;
		esac
	done <"$out"
	# The exit status must agree with the lines: 0 when all passed, 1 when some
	# failed; anything else is a crash or a sanitizer report (on stderr).
	if [ "$lines" -eq 0 ]; then
		not_ok "$s: selftest printed no test (exit $rc)"
		diag_file "$err" 40
	elif { [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ]; } || { [ "$rc" -eq 1 ] && [ "$bad" -gt 0 ]; }; then
		ok "$s: selftest exit status $rc agrees with its $lines results"
	else
		not_ok "$s: selftest exit status $rc with $bad of $lines failed (crash or sanitizer report?)"
		diag_file "$err" 40
	fi
done
tap_done
