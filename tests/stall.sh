#!/bin/sh
# tests/stall.sh - the stalled-thread mode (-P stall=1): one extra thread
# registers, enters a critical section before the workers start and stays in
# it for the whole cell.
#
# Every scheme that `smrbench list` shows runs treiber (1 worker, poisoning
# on).  Per scheme: verify=ok and retired == reclaimed (the backlog is freed
# once the stalled thread leaves), and what the stall does to reclamation:
#  - grace-period schemes (ebr, qsbr, nebr, ebr-asym, ck-epoch, urcu-*)
#    cannot free anything while a reader stays in its critical section:
#    unreclaimed_peak >= 99% of retired.  (Not all of it: the teardown
#    retires the last objects after the stalled thread left, and liburcu's
#    callback thread may free some of those before the last is retired;
#    TSan's tree saw 2 of 59750.)  This is also how qsbr's ring of sealed
#    batches gets to grow (one batch per 64 retires).
#  - pointer- and era-based schemes (hp, hp-asym, ck-hp, he, ibr) and rc
#    keep reclaiming what the stalled reader does not hold:
#    unreclaimed_peak < retired.
#  - none frees nothing until teardown: unreclaimed_peak == retired.
# A scheme without a stalled-thread mode is a skip.
. "${srcdir:-.}/tests/lib.sh"

schemes=$(list_section "$SMRBENCH" schemes)
[ -n "$schemes" ] || bail "smrbench list shows no scheme"
dur=$(awk -v d="$(scaled 0.3)" 'BEGIN { print (d < 0.2 ? 0.2 : d) }')

for s in $schemes; do
	case $s in
	none | ebr | qsbr | nebr | ebr-asym | ck-epoch | urcu-*) expect=held ;;
	*) expect=reclaims ;;
	esac
	name="stall $s x treiber"
	out=$TMPD/$s
	SMRBENCH_POISON=1 "$SMRBENCH" run -w treiber -s "$s" -t 1 -d "$dur" -P stall=1 \
		-o "$out" >"$out.stdout" 2>"$out.stderr"
	rc=$?
	if [ "$rc" -ne 0 ] && grep -q "no stalled-thread mode" "$out.stderr" "$out/failures.log" 2>/dev/null; then
		skip "$name" "the scheme has no stalled-thread mode"
		continue
	fi
	run_failed "$name" "$rc" "$out" && continue
	csv=$out/runs.csv
	has_cols "$name" "$csv" verify retired reclaimed unreclaimed_peak || continue
	cv=$(csv_col "$csv" verify) cr=$(csv_col "$csv" retired) cc=$(csv_col "$csv" reclaimed)
	cp=$(csv_col "$csv" unreclaimed_peak)
	line=$(awk -F, -v cv="$cv" -v cr="$cr" -v cc="$cc" -v cp="$cp" -v expect="$expect" '
		NR == 2 {
			what = sprintf("verify %s, retired %s, reclaimed %s, unreclaimed_peak %s (expected: %s)",
				       $cv, $cr, $cc, $cp, expect == "held" ? "held back" : "reclaims during the stall")
			good = $cv == "ok" && $cr + 0 > 0 && $cr == $cc
			if (expect == "held")
				good = good && $cp * 100 >= $cr * 99
			else
				good = good && $cp + 0 < $cr + 0
			print (good ? "ok " : "bad ") what
		}' "$csv")
	case $line in
	"ok "*) ok "$name: ${line#ok }" ;;
	*) not_ok "$name: ${line#bad }" ;;
	esac
done
tap_done
