#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/stress.sh - every scheme x every workload that `smrbench-faults list`
# shows, run briefly on 2 worker threads with fault injection (random yields
# inside critical sections) and poisoning (reclaimed memory is overwritten
# with 0xDD and kept out of malloc's hands, so a premature free fails the
# workload's canary / verify checks).  Per row of runs.csv: verify=ok,
# retired == reclaimed (everything freed at the end, nothing twice), and,
# judged on the live counters sampled during the run (--sample-ms; the last
# sample is taken before the threads stop, never during teardown, see
# cell_samples in lib.sh): every scheme but `none` reclaimed during the run
# (the last sample's reclaimed > 0), while `none` reclaimed nothing in any
# sample and its unreclaimed_peak == retired.
#
# Reclaiming during the run is a liveness property: it takes enough retires
# (a hazard-pointer thread scans once its list holds R = r0 + 2H, hp-asym's
# r0 is 1000; the epoch schemes try to advance every batch of retires) and
# thread progress (two workers passing quiescent states, liburcu's call_rcu
# thread getting a grace period done), which a slow tree on a busy machine
# may not show within a short cell.  So a run in which a cell reclaimed
# nothing runs again 5 times longer, up to 3 tries (0.2 s, 1 s, 5 s in the
# sanitized trees), and only the last one is judged, by the same checks.
# "Nothing reclaimed" fails a cell only if it retired at least NEED objects by
# its last sample: NEED = 8 * (the scheme's largest numeric param default +
# 32), i.e. 4 scan intervals of each of the 2 retiring threads, 2H <= 30 with
# at most 5 thread records of 3 hazard slots (3 records in a full domain).  Below that reclamation is not
# judged, and the line says so; and a run is not tried again when, at the
# rate it retired, even the longest try left would stay below NEED.  (The
# list on a busy machine: every 16th node of a traversal yields the CPU, and
# a yield costs a time slice of whatever else runs, so 2 fault-injected
# threads may retire only tens of objects a second.)
#
# Full domains (SMRBENCH_FULL_DOMAIN=1, harness/cell.c): every cell's
# domain has exactly one record per running thread (2 workers, plus lazy's
# producer), so a worker always holds the last record: a scan whose bound
# over records stops one short misses it.  And the cell fails if objects
# are left in a pool (rc's, or -P alloc=pool's) or lazy's payloads leak
# (smr_stats.pool_live, payloads_live): the drop/free confusion fails here
# without a sanitizer.
#
# A scheme may refuse a workload (exit 2, "cannot run workload"): a skip.
. "${srcdir:-.}/tests/lib.sh"

schemes=$(list_section "$FAULTS" schemes)
workloads=$(list_section "$FAULTS" workloads)
[ -n "$schemes" ] && [ -n "$workloads" ] || bail "smrbench-faults list shows no scheme or no workload"
# 0.3 s per cell, scaled down in the sanitized trees but not below 0.2 s:
# schemes that reclaim from a background thread (urcu's call_rcu) need a few
# grace periods to show reclamation during the run.
dur=$(awk -v d="$(scaled 0.3)" 'BEGIN { print (d < 0.2 ? 0.2 : d) }')

# Params that stress a workload harder than its defaults.
stress_params() {
	case $1 in
	lazy) echo "-P period=0 -P payload=box,str:64,rc" ;;
	*) echo "" ;;
	esac
}

for w in $workloads; do
	for s in $schemes; do
		name="stress $s x $w"
		family=$(scheme_family "$FAULTS" "$s")  # family none frees nothing until the end
		need=$(awk -v m="$(scheme_param_max "$FAULTS" "$s")" 'BEGIN { print 8 * (m + 32) }')
		d=$dur try=1
		while :; do
			out=$TMPD/$s-$w.$try
			# shellcheck disable=SC2046 # the params are words on purpose
			SMRBENCH_FULL_DOMAIN=1 SMRBENCH_POISON=1 "$FAULTS" run -w "$w" -s "$s" -t 2 -d "$d" $(stress_params "$w") \
				--sample-ms 20 -o "$out" >"$out.stdout" 2>"$out.stderr"
			rc=$?
			[ "$rc" -eq 0 ] && [ "$family" != none ] && [ "$try" -lt 3 ] || break
			cell_samples "$out/samples.csv" "$out/runs.csv" >"$out.live"
			# Again only if a cell reclaimed nothing and, at its rate, the
			# longest run left could retire the NEED that judging it takes.
			awk -v f="$(awk -v k=$((3 - try)) 'BEGIN { print 5 ^ k }')" -v need="$need" \
				'$3 + 0 == 0 && $2 * f >= need { a = 1 } END { exit !a }' "$out.live" || break
			echo "# $name: a cell reclaimed nothing during its $d s; once more, 5 times longer"
			d=$(awk -v d="$d" 'BEGIN { print d * 5 }')
			try=$((try + 1))
		done
		if [ "$rc" -eq 2 ] && grep -q "cannot run workload" "$out.stderr"; then
			skip "$name" "$(grep -m1 "cannot run workload" "$out.stderr")"
			continue
		fi
		run_failed "$name" "$rc" "$out" && continue
		csv=$out/runs.csv
		has_cols "$name" "$csv" verify retired reclaimed unreclaimed_peak || continue
		cell_samples "$out/samples.csv" "$csv" >"$out.live"
		cv=$(csv_col "$csv" verify) cr=$(csv_col "$csv" retired) cc=$(csv_col "$csv" reclaimed)
		cp=$(csv_col "$csv" unreclaimed_peak)
		# One TAP line per row, naming the params that vary between rows
		# (lazy: the payload).  Params are the columns after verify/ended.
		# $out.live has the row's samples: N, last retired, last reclaimed, max reclaimed.
		awk -F, -v cv="$cv" -v cr="$cr" -v cc="$cc" -v cp="$cp" -v family="$family" -v name="$name" -v d="$d" -v need="$need" -v live="$out.live" '
			NR == 1 { for (i = 1; i <= NF; i++) { h[i] = $i; if ($i == "verify" || $i == "ended") first = i + 1 }
				  n = NF; next }
			{ row[NR] = $0; for (i = first; i <= n; i++) { if (NR > 2 && $i != v1[i]) vary[i] = 1; if (NR == 2) v1[i] = $i } }
			END {
				for (r = 2; r <= NR; r++) {
					split(row[r], f, ",")
					if ((getline l < live) <= 0) l = "0 0 0 0"
					split(l, s, " ")
					p = ""
					for (i = first; i <= n; i++)
						if (vary[i]) p = p " " h[i] "=" f[i]
					why = note = ""
					if (f[cv] != "ok") why = why " verify=" f[cv]
					if (f[cr] != f[cc]) why = why " retired " f[cr] " != reclaimed " f[cc]
					if (s[1] + 0 == 0)
						why = why " no live counters sampled during the run"
					else if (family == "none") {
						if (s[4] + 0 != 0) why = why " family none: reclaimed " s[4] " during the run, want 0"
						if (f[cp] != f[cr]) why = why " family none: unreclaimed_peak " f[cp] " != retired " f[cr]
					} else if (s[3] + 0 == 0 && s[2] + 0 >= need)
						why = why " nothing reclaimed during the run (" s[2] " retired by its last sample, " d " s)"
					else if (s[3] + 0 == 0)
						note = " (reclamation during the run not judged: " s[2] " retired by its last sample, fewer than the " need " needed)"
					printf "%s %s%s: verify=%s retired=%s reclaimed=%s; during the run (%d samples, %s s): retired %s, reclaimed %s%s%s\n",
						(why == "" ? "ok" : "not ok"), name, p, f[cv], f[cr], f[cc], s[1], d, s[2], s[3],
						note, (why == "" ? "" : " --" why)
				}
			}' "$csv" >"$out.tap"
		while IFS= read -r line; do
			case $line in
			"not ok "*) not_ok "${line#not ok }" ;;
			*) ok "${line#ok }" ;;
			esac
		done <"$out.tap"
	done
done
tap_done
