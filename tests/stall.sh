#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/stall.sh - the stalled-thread mode (-P stall=1): one extra thread
# registers, enters a critical section before the workers start and stays in
# it until the cell stops.
#
# Every scheme that `smrbench list` shows runs treiber (2 workers, so that
# pushes and pops race and a lost CAS is retried, as in real use; poisoning
# on) with --sample-ms, and is judged on the live counters the harness
# samples WHILE THE STALL LASTS, not on whole-cell figures that teardown
# timing can move.  When the samples are taken (harness/cell.c,
# cell_execute): the stalled thread calls smr_register + smr_begin, then
# waits on the start barrier; the main thread samples every period from the
# barrier on and once more "at stop", and only then sets the stop flag, on
# which the stalled thread leaves its section.  So every row of samples.csv,
# the last one included, is taken while the stalled thread is pinned.
#
#  - schemes that are not robust (smrbench list --json: the grace-period
#    family, e.g. ebr, qsbr, urcu-*, and none): an object retired while a reader is in its critical section may
#    not be reclaimed before that reader leaves.  What could legitimately be
#    reclaimed during the stall is only what was retired before the stalled
#    thread pinned, and that is nothing: treiber's create() only pushes its
#    prefill (no retire), and a worker's first retire comes after its
#    wl_ready(), i.e. after the barrier that the stalled thread reaches only
#    once it is inside smr_begin.  So the bound is exact, not a percentage:
#    reclaimed == 0 in every sample row.  One reclaimed object is an early
#    free.  (This is also how qsbr's ring of sealed batches gets to grow: one
#    batch per 64 retires.)
#  - robust schemes (the pointer, era and count families: hp, he, ibr, rc ...)
#    keep reclaiming what the stalled reader does not hold: the last sample
#    shows more reclaimed than the latest earlier sample that is at least
#    NEED retires behind it (NEED covers several scan intervals, see below),
#    i.e. reclamation went on during the second part of the stall too.
#  - every scheme: verify=ok and, after teardown, retired == reclaimed (the
#    backlog is freed once the stalled thread leaves).
#
# Both kinds of check need evidence: at least NEED retires during the stall
# (the last sample's retired).  NEED = 4 * (the largest numeric default among
# the scheme's params + 2H), at least 4096: hp-asym scans every hpa_r0 + 2H
# = 1010 retires here, he/ibr every he_batch/ibr_batch, the epoch schemes try
# to advance every ebr_batch...  A run that retired fewer (a slow tree on a
# busy machine) is not judged: it runs again 4 times longer, up to 3 tries;
# the checks themselves are never retried.
#
# A scheme without a stalled-thread mode is a skip.
. "${srcdir:-.}/tests/lib.sh"

schemes=$(list_section "$SMRBENCH" schemes)
[ -n "$schemes" ] || bail "smrbench list shows no scheme"
dur=$(awk -v d="$(scaled 0.3)" 'BEGIN { print (d < 0.2 ? 0.2 : d) }')
sample_ms=10
tries=3
# Hazard slots of the whole domain in these runs: treiber's 1 slot x
# max_threads (2 workers + set-up + teardown + the stalled thread).
H=5

# last_retired SAMPLES: the retired column of the last row (the sample at stop).
last_retired() {
	_c=$(csv_col "$1" retired)
	[ "$_c" -gt 0 ] || { echo 0; return; }
	awk -F, -v c="$_c" 'NR > 1 { r = $c } END { print r + 0 }' "$1"
}

for s in $schemes; do
	# smrbench list --json: robust schemes keep reclaiming, the others hold back.
	if [ "$(scheme_robust "$SMRBENCH" "$s")" = true ]; then expect=reclaims; else expect=held; fi
	name="stall $s x treiber"
	need=$(awk -v m="$(scheme_param_max "$SMRBENCH" "$s")" -v h="$H" 'BEGIN { n = 4 * (m + 2 * h); print (n < 4096 ? 4096 : n) }')
	d=$dur try=1
	while :; do
		out=$TMPD/$s.$try
		SMRBENCH_POISON=1 "$SMRBENCH" run -w treiber -s "$s" -t 2 -d "$d" -P stall=1 \
			--sample-ms "$sample_ms" -o "$out" >"$out.stdout" 2>"$out.stderr"
		rc=$?
		[ "$rc" -ne 0 ] && break
		[ "$try" -ge "$tries" ] && break
		got=$(last_retired "$out/samples.csv")
		[ "$got" -ge "$need" ] && break
		echo "# $name: $got retires during a stall of $d s, fewer than the $need needed to judge; once more, 4 times longer"
		d=$(awk -v d="$d" 'BEGIN { print d * 4 }')
		try=$((try + 1))
	done
	if [ "$rc" -ne 0 ] && grep -q "no stalled-thread mode" "$out.stderr" "$out/failures.log" 2>/dev/null; then
		skip "$name" "the scheme has no stalled-thread mode"
		continue
	fi
	run_failed "$name" "$rc" "$out" && continue
	csv=$out/runs.csv samples=$out/samples.csv
	has_cols "$name" "$csv" verify retired reclaimed || continue
	has_cols "$name" "$samples" t_ms retired reclaimed || continue
	cv=$(csv_col "$csv" verify) cr=$(csv_col "$csv" retired) cc=$(csv_col "$csv" reclaimed)
	st=$(csv_col "$samples" t_ms) sr=$(csv_col "$samples" retired) sc=$(csv_col "$samples" reclaimed)
	# The samples first (FNR == NR), then runs.csv's row.
	line=$(awk -F, -v st="$st" -v sr="$sr" -v sc="$sc" -v cv="$cv" -v cr="$cr" -v cc="$cc" \
		-v expect="$expect" -v need="$need" -v d="$d" '
		FNR == NR {
			if (FNR == 1) next
			n++; t[n] = $st; r[n] = $sr + 0; c[n] = $sc + 0
			if ($sc == "" || $sr == "") blank = 1
			next
		}
		FNR == 2 { verify = $cv; fr = $cr; fc = $cc }
		function add(s) { why = why (why == "" ? "" : "; ") s }
		END {
			why = ""
			if (verify != "ok") add("verify=" verify)
			if (fr == "" || fr != fc) add("after teardown retired " fr " != reclaimed " fc)
			if (n == 0 || blank) { print "bad no live counters in samples.csv" (why == "" ? "" : " -- " why); exit }
			R = r[n]; C = c[n]
			what = sprintf("during the stall (%d samples, %s s): retired %d, reclaimed %d; after teardown retired %s, reclaimed %s, verify %s",
				       n, d, R, C, fr, fc, verify)
			if (R < need)
				add("only " R " retired during the stall, fewer than the " need " needed to judge")
			if (expect == "held") {
				# Nothing retired after the stall began may be reclaimed while it lasts.
				for (i = 1; i <= n; i++)
					if (c[i] > 0) {
						add(sprintf("EARLY FREE: %d reclaimed at t=%s ms (of %d retired), while the stalled thread was still in its critical section (want 0)",
							    c[i], t[i], r[i]))
						break
					}
				if (why == "") what = what " (held back: nothing reclaimed while the stall lasts)"
			} else if (R >= need) {
				# The latest sample at least need retires before the last one.
				a = 0
				for (i = 1; i < n; i++)
					if (r[i] <= R - need) a = i
				if (!a)
					add("no sample " need " retires before the last one")
				else if (C <= c[a])
					add(sprintf("stopped reclaiming: reclaimed %d at t=%s ms and still %d at the last sample, %d retires later",
						    c[a], t[a], C, R - r[a]))
				else
					what = what sprintf(" (reclaimed %d more in the last %d retires of the stall)", C - c[a], R - r[a])
			}
			print (why == "" ? "ok " what : "bad " what " -- " why)
		}' "$samples" "$csv")
	case $line in
	"ok "*) ok "$name: ${line#ok }" ;;
	*) not_ok "$name: ${line#bad }"; diag_file "$samples" 3; tail -n 2 "$samples" | diag_file /dev/stdin ;;
	esac
done
tap_done
