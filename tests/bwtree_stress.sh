#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/bwtree_stress.sh - the Bw-tree with tiny pages and short chains, so
# that two threads split, help along, split the root and consolidate all the
# time, under fault injection (random yields inside critical sections) and
# poisoning (a record freed too early reads 0xDD and fails its canary).
# For every scheme `smrbench-faults list` shows, both key orders, with
# lookups mixed in: the run must end with every key in (ended=done),
# verify=ok (every key found with its value, leaf level sorted and complete,
# separators bounding their children) and retired == reclaimed.
. "${srcdir:-.}/tests/lib.sh"

schemes=$(list_section "$FAULTS" schemes)
list_section "$FAULTS" workloads | grep -qx bwtree || bail "smrbench-faults has no bwtree workload"
[ -n "$schemes" ] || bail "smrbench-faults list shows no scheme"
# A failure timeout, not a duration: the run ends as soon as the keys are in
# (about 0.2 s in a plain tree, 1 s in the TSan tree with 18000 keys).  It was
# scaled with the keys (6 s in the sanitized trees), a margin of a few times
# only, which a busy machine could use up; not scaled now.  Hitting it means
# the keys did not go in (a livelock?), whatever the machine's load.
dur=60
keys=$(awk -v s="$SCALE" 'BEGIN { k = int(60000 * s); if (k < 5000) k = 5000; print k }')

for order in random ascending; do
	for s in $schemes; do
		name="bwtree stress $s order=$order keys=$keys"
		if tsan_blind "$s"; then
			skip "$name" "reference back end in the TSan tree: left out for time (the stress and self tests cover it)"
			continue
		fi
		out=$TMPD/$s-$order
		SMRBENCH_POISON=1 "$FAULTS" run -w bwtree -s "$s" -t 2 -d "$dur" -P keys="$keys" \
			-P order="$order" -P node_size=8 -P consolidate=2 -P lookup=0.3 \
			-o "$out" >"$out.stdout" 2>"$out.stderr"
		rc=$?
		if [ "$rc" -eq 2 ] && grep -q "cannot run workload" "$out.stderr"; then
			skip "$name" "$(grep -m1 "cannot run workload" "$out.stderr")"
			continue
		fi
		run_failed "$name" "$rc" "$out" && continue
		csv=$out/runs.csv
		has_cols "$name" "$csv" verify retired reclaimed ended || continue
		cv=$(csv_col "$csv" verify) cr=$(csv_col "$csv" retired) cc=$(csv_col "$csv" reclaimed)
		ce=$(csv_col "$csv" ended)
		line=$(awk -F, -v cv="$cv" -v cr="$cr" -v cc="$cc" -v ce="$ce" -v dur="$dur" 'NR == 2 {
			why = ""
			if ($cv != "ok") why = why " verify=" $cv
			if ($cr != $cc) why = why " retired " $cr " != reclaimed " $cc
			if ($cr + 0 == 0) why = why " nothing retired"
			if ($ce != "done") why = why " ended=" $ce " (keys not all in within " dur " s)"
			printf "%s verify=%s retired=%s reclaimed=%s ended=%s%s\n", (why == "" ? "ok" : "not ok"),
				$cv, $cr, $cc, $ce, (why == "" ? "" : " --" why)
		}' "$csv")
		case $line in
		"ok "*) ok "$name: ${line#ok }" ;;
		*) not_ok "$name: ${line#not ok }" ;;
		esac
	done
done
tap_done
