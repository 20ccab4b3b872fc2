#!/bin/sh
# tests/stress.sh - every scheme x every workload that `smrbench-faults list`
# shows, run briefly on 2 worker threads with fault injection (random yields
# inside critical sections) and poisoning (reclaimed memory is overwritten
# with 0xDD and kept out of malloc's hands, so a premature free fails the
# workload's canary / verify checks).  Per row of runs.csv: verify=ok,
# retired == reclaimed (everything freed at the end, nothing twice), and the
# scheme reclaimed during the run (unreclaimed_peak < retired), except `none`
# which must hold everything back (unreclaimed_peak == retired).
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
		out=$TMPD/$s-$w
		# shellcheck disable=SC2046 # the params are words on purpose
		SMRBENCH_POISON=1 "$FAULTS" run -w "$w" -s "$s" -t 2 -d "$dur" $(stress_params "$w") \
			-o "$out" >"$out.stdout" 2>"$out.stderr"
		rc=$?
		# A scheme that reclaims on a thread of its own (liburcu's call_rcu
		# worker) may not finish a grace period within a short cell in a slow
		# (TSan) tree.  Then one longer run, judged by the same checks.
		if [ "$rc" -eq 0 ] && [ "$s" != none ] && [ -s "$out/runs.csv" ] &&
		   awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "retired") r = i; if ($i == "unreclaimed_peak") p = i }; next }
			    $p + 0 >= $r + 0 { found = 1 } END { exit !found }' "$out/runs.csv"; then
			echo "# $name: nothing reclaimed within $dur s; once more for $(awk -v d="$dur" 'BEGIN { print d * 5 }') s"
			out=$TMPD/$s-$w-long
			# shellcheck disable=SC2046
			SMRBENCH_POISON=1 "$FAULTS" run -w "$w" -s "$s" -t 2 -d "$(awk -v d="$dur" 'BEGIN { print d * 5 }')" \
				$(stress_params "$w") -o "$out" >"$out.stdout" 2>"$out.stderr"
			rc=$?
		fi
		if [ "$rc" -eq 2 ] && grep -q "cannot run workload" "$out.stderr"; then
			skip "$name" "$(grep -m1 "cannot run workload" "$out.stderr")"
			continue
		fi
		run_failed "$name" "$rc" "$out" && continue
		csv=$out/runs.csv
		has_cols "$name" "$csv" verify retired reclaimed unreclaimed_peak scheme || continue
		cv=$(csv_col "$csv" verify) cr=$(csv_col "$csv" retired) cc=$(csv_col "$csv" reclaimed)
		cp=$(csv_col "$csv" unreclaimed_peak) cs=$(csv_col "$csv" scheme) cw=$(csv_col "$csv" workload)
		# One TAP line per row, naming the params that vary between rows
		# (lazy: the payload).  Params are the columns after verify/ended.
		awk -F, -v cv="$cv" -v cr="$cr" -v cc="$cc" -v cp="$cp" -v cs="$cs" -v name="$name" '
			NR == 1 { for (i = 1; i <= NF; i++) { h[i] = $i; if ($i == "verify" || $i == "ended") first = i + 1 }
				  n = NF; next }
			{ row[NR] = $0; for (i = first; i <= n; i++) { if (NR > 2 && $i != v1[i]) vary[i] = 1; if (NR == 2) v1[i] = $i } }
			END {
				for (r = 2; r <= NR; r++) {
					split(row[r], f, ",")
					p = ""
					for (i = first; i <= n; i++)
						if (vary[i]) p = p " " h[i] "=" f[i]
					why = ""
					if (f[cv] != "ok") why = why " verify=" f[cv]
					if (f[cr] != f[cc]) why = why " retired " f[cr] " != reclaimed " f[cc]
					if (f[cs] == "none") {
						if (f[cp] != f[cr]) why = why " none: unreclaimed_peak " f[cp] " != retired " f[cr]
					} else if (!(f[cp] + 0 < f[cr] + 0))
						why = why " unreclaimed_peak " f[cp] " not below retired " f[cr] " (nothing reclaimed during the run)"
					printf "%s %s%s: verify=%s retired=%s reclaimed=%s unreclaimed_peak=%s%s\n",
						(why == "" ? "ok" : "not ok"), name, p, f[cv], f[cr], f[cc], f[cp],
						(why == "" ? "" : " --" why)
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
