#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/early_free.sh - the planted bug must be caught, for every scheme.
#
# How it is planted: smrbench-planted is built with -DSMR_PLANT_EARLY_FREE,
# which makes smr_retire_drop/smr_retire_free (schemes/smr.h) reclaim the
# object at once - destructor and free - bypassing the scheme, while readers
# may still hold it.  The scheme itself is untouched, so its counters stay
# consistent: only the use after free can give the bug away.
#
# How it is caught: with SMRBENCH_POISON=1 a reclaimed object is overwritten
# with 0xDD and quarantined, so a lazy reader that still holds a value cell
# reads a canary of 0xdddd... and reports "canary"; in the address- and
# thread-sanitized trees ASan (use after free of the payload or the cell) or
# TSan (the free racing with the reader) reports it.  The run must exit
# non-zero AND its stderr must show one of those detections.
#
# period=0 publishes as fast as possible (most retires), payload=box gives
# each cell a heap payload the destructor frees (ASan's target).  If a run
# shows no detection the window is widened (more reader threads), never the
# check.
. "${srcdir:-.}/tests/lib.sh"

schemes=$(list_section "$PLANTED" schemes)
[ -n "$schemes" ] || bail "smrbench-planted list shows no scheme"
# What counts as detection: the readers' canary check, ASan's use-after-free
# report (use-after-poison: a scheme with its own pool, rc, marks freed slots
# for ASan), TSan's race / use-after-free report.  A bare crash does not: a
# reader that follows a poisoned pointer (0xdddd...) dies with SIGSEGV, which
# ASan reports as "SEGV on unknown address" - that says something broke, not
# what.
detect='canary|AddressSanitizer: (heap-use-after-free|use-after-poison)|ThreadSanitizer: (data race|heap-use-after-free)'
# A crash that names a double free does count, as a detection by crash: the
# planted bug frees an object (and its payload) while others still use it,
# and glibc's allocator (free(): double free detected in tcache 2, double
# free or corruption) or ASan (attempting double-free) aborting on a block
# freed twice is that use after free caught by the allocator.  Reported as
# such, never as "not detected".
crash='double free detected|double free or corruption|AddressSanitizer: attempting double-free'
# How a run that detected nothing ended, for the diagnostics: the harness's
# FAILED line (a crash names its signal), a glibc or sanitizer abort message.
ended() {
	_e=$(grep -E -m1 "FAILED|^[a-z_]+\(\): |^Fatal glibc error|ERROR: [A-Za-z]+Sanitizer" "$1" | cut -c1-160)
	echo "exit $2${_e:+: $_e}"
}
# saw FILE RC: what a run's stderr shows, named: the readers' canary check,
# an ASan or TSan report (its kind), the allocator's double-free abort
# (glibc or ASan), a crash (the harness's FAILED line names the signal), or
# nothing.  Every TAP line below says which, caught or not.
saw() {
	if grep -q "canary" "$1"; then
		echo "the readers' canary check ($(grep -m1 -o "[^:]*canary[^(]*" "$1" | cut -c1-100))"
	elif grep -Eq "AddressSanitizer: attempting double-free" "$1"; then
		echo "an ASan report: attempting double-free"
	elif grep -Eq "AddressSanitizer|ThreadSanitizer" "$1"; then
		echo "a $(grep -Eo -m1 "(Address|Thread)Sanitizer: [a-z-]+( [a-z-]+)?" "$1" | sed 's/Sanitizer:/San report:/')"
	elif grep -Eq "double free detected|double free or corruption" "$1"; then
		echo "a glibc abort: $(grep -Eo -m1 "[^:]*double free[^)]*" "$1" | cut -c1-80)"
	elif grep -Eq "signal|SIG[A-Z]+" "$1"; then
		echo "a crash: $(grep -E -m1 "signal|SIG[A-Z]+" "$1" | cut -c1-120)"
	else
		echo "nothing (exit $2)"
	fi
}
# 2 s per run; shorter in the sanitized trees (SMRB_TEST_SCALE), where the
# sanitizer reports the first bad access at once.
dur=$(scaled 2)

for s in $schemes; do
	caught= how=
	for threads in 2 4 8; do
		out=$TMPD/$s-t$threads
		SMRBENCH_POISON=1 "$PLANTED" run -w lazy -s "$s" -t "$threads" -d "$dur" -P period=0 -P payload=box \
			-o "$out" >"$out.stdout" 2>"$out.stderr"
		rc=$?
		if [ "$rc" -eq 2 ] && grep -q "cannot run workload" "$out.stderr"; then
			caught=skip
			skip "early free under $s" "$(grep -m1 "cannot run workload" "$out.stderr")"
			break
		fi
		if [ "$rc" -ne 0 ] && grep -Eq "$detect" "$out.stderr"; then
			caught=yes
			ok "early free under $s: caught with $threads readers (exit $rc) by $(saw "$out.stderr" "$rc")"
			echo "# $(grep -E -m1 "$detect" "$out.stderr" | cut -c1-200)"
			break
		fi
		if [ "$rc" -ne 0 ] && grep -Eq "$crash" "$out.stderr"; then
			caught=yes
			ok "early free under $s: caught with $threads readers (exit $rc) by $(saw "$out.stderr" "$rc") (the allocator aborted on a block freed twice)"
			break
		fi
		how="$how; $threads readers: saw $(saw "$out.stderr" "$rc") ($(ended "$out.stderr" "$rc"))"
		echo "# $s with $threads readers: exit $rc, no detection on stderr:"
		grep -E "FAILED|ERROR|WARNING|SUMMARY|^[a-z_]+\(\): |^Fatal glibc error" "$out.stderr" | diag_file /dev/stdin 4
	done
	[ -n "$caught" ] || not_ok "early free under $s: not detected (no canary, sanitizer or double-free report) with 2, 4 or 8 readers${how}"

	# The contract's own stress test (tests/scheme_selftest.c) must see it
	# too: its readers check a canary in objects retired under their feet.
	# (Not for the reference back ends in the TSan tree: slow there, and
	# their planted run above already caught it.)
	if tsan_blind "$s"; then
		skip "early free under $s: selftest" "reference back end in the TSan tree: left out for time"
		continue
	fi
	SMRBENCH_POISON=1 "$PLANTED" selftest "$s" >"$TMPD/$s.self" 2>"$TMPD/$s.self.err"
	rc=$?
	line=$(grep -m1 "^not ok.*stress.*reads of a reclaimed object" "$TMPD/$s.self")
	if [ "$rc" -ne 0 ] && [ -n "$line" ]; then
		ok "early free under $s: selftest's stress test catches it by the readers' canary check: ${line#not ok - }"
	elif [ "$rc" -ne 0 ] && grep -Eq "$detect" "$TMPD/$s.self.err"; then
		# ASan stops the process at the first bad read, before the TAP line.
		ok "early free under $s: selftest's stress test catches it by $(saw "$TMPD/$s.self.err" "$rc")"
	elif [ "$rc" -ne 0 ] && grep -Eq "$crash" "$TMPD/$s.self.err"; then
		ok "early free under $s: selftest's stress test catches it by $(saw "$TMPD/$s.self.err" "$rc") (the allocator aborted on a block freed twice)"
	else
		not_ok "early free under $s: selftest's stress test missed it: saw $(saw "$TMPD/$s.self.err" "$rc") ($(ended "$TMPD/$s.self.err" "$rc"))"
		grep "stress" "$TMPD/$s.self" | diag_file /dev/stdin 8
	fi
done
tap_done
