#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/hp_bound.sh - hazard pointers hold back a bounded number of objects.
#
# The bound (schemes/hp_impl.h): a thread scans once its retire list holds
# R = r0 + 2H objects, H = max_threads * K hazard slots, and a scan leaves at
# most H of them (one per hazard), so a thread's backlog never exceeds R.
# unreclaimed_peak is the sum over thread records of each record's peak, and
# a domain has max_threads = workers + helpers + 2 records (set-up and
# teardown threads), so:
#
#     unreclaimed_peak <= max_threads * (r0 + 2 * max_threads * K)
#
# K is the workload's hazard_slots and r0 the scheme's param ending in _r0
# (smrbench list --json).  Helpers: lazy has one producer; the bound assumes
# one for every workload (looser).
#
# The schemes: this repository's pointer-family ones (hp, hp-asym: the
# library's ck-hp scans by its own rule).  They run lazy with period=0 (a
# new source as fast as the producer can make them), list with 16 elements
# and only updates (retires on the read path, 3 slots), and every other
# workload `smrbench-faults list` shows, under fault injection and
# poisoning.  Per row: verify=ok, retired == reclaimed, and
# the peak within the bound (printed).  A row that retired no more than the
# bound could not have exceeded it: its run goes again, longer (run_one), and
# if it still did, it is reported as a skip, not a pass.
. "${srcdir:-.}/tests/lib.sh"

threads=2
helpers=1
T=$((threads + helpers + 2))

# judge_csv CSV WORKLOAD: one TAP line per row into CSV.tap ("skip" for a row
# that retired no more than its bound).
judge_csv() {
	csv=$1 w=$2
	K=$(workload_slots "$FAULTS" "$w")
	# scheme=its r0 column's index, for every scheme of the run
	r0cols=
	# (its own loop variable: run_one's $s is the run's scheme list, used again on a retry)
	for sch in $pointer; do r0cols="$r0cols $sch=$(csv_col "$csv" "$(scheme_param_ending "$FAULTS" "$sch" _r0)")"; done
	cs=$(csv_col "$csv" scheme) cv=$(csv_col "$csv" verify) cr=$(csv_col "$csv" retired)
	cc=$(csv_col "$csv" reclaimed) cp=$(csv_col "$csv" unreclaimed_peak)
	if [ "$cs" -eq 0 ] || [ "$cv" -eq 0 ] || [ "$cr" -eq 0 ] || [ "$cc" -eq 0 ] || [ "$cp" -eq 0 ]; then
		echo "not ok hp bound x $w: runs.csv lacks a column: $(head -n 1 "$csv")" >"$csv.tap"
		return
	fi
	awk -F, -v cs="$cs" -v cv="$cv" -v cr="$cr" -v cc="$cc" -v cp="$cp" -v r0cols="$r0cols" \
		-v T="$T" -v K="$K" -v w="$w" '
		NR == 1 { n = split(r0cols, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); col[p[1]] = p[2] } next }
		{
			r0 = col[$cs] ? $(col[$cs]) : ""
			if (r0 == "") { printf "not ok hp bound %s x %s: no r0 column for the scheme\n", $cs, w; next }
			H = T * K
			R = r0 + 2 * H
			bound = T * R
			what = sprintf("hp bound %s x %s: unreclaimed_peak %s, bound %d = max_threads %d * R %d (R = r0 %s + 2H, H = %d threads * K %d); retired %s reclaimed %s verify %s",
				       $cs, w, $cp, bound, T, R, r0, T, K, $cr, $cc, $cv)
			if ($cv != "ok" || $cr != $cc || $cp + 0 > bound)
				print "not ok " what
			else if ($cr + 0 <= bound)
				print "skip " what " # SKIP retired no more than the bound: nothing to check"
			else
				print "ok " what
		}' "$csv" >"$csv.tap"
}

# emit_tap CSV: the TAP lines judge_csv wrote for CSV.
emit_tap() {
	while IFS= read -r line; do
		case $line in
		"not ok "*) not_ok "${line#not ok }" ;;
		"skip "*) line=${line#skip }; skip "${line% \# SKIP*}" "${line#*\# SKIP }" ;;
		*) ok "${line#ok }" ;;
		esac
	done <"$1.tap"
}

# run_one OUTNAME WORKLOAD SCHEMES DURATION [PARAMS...]
# A row that retired no more than its bound proves nothing (a slow tree, a
# busy machine: the fault-injected yields cost a time slice each): the run
# goes again 5 times longer, up to 3 tries, and only the last is reported.
run_one() {
	name=$1 w=$2 s=$3 d=$4
	shift 4
	try=1
	while :; do
		out=$TMPD/$name.$try
		SMRBENCH_POISON=1 "$FAULTS" run -w "$w" -s "$s" -t "$threads" -d "$d" "$@" -o "$out" \
			>"$out.stdout" 2>"$out.stderr"
		rc=$?
		[ "$rc" -eq 0 ] || break
		judge_csv "$out/runs.csv" "$w"
		[ "$try" -lt 3 ] && grep -q "^skip " "$out/runs.csv.tap" && ! grep -q "^not ok " "$out/runs.csv.tap" || break
		echo "# hp bound $s x $w: a row retired no more than its bound in $d s; once more, 5 times longer"
		d=$(awk -v d="$d" 'BEGIN { print d * 5 }')
		try=$((try + 1))
	done
	if [ "$rc" -eq 2 ] && grep -q "cannot run workload" "$out.stderr"; then
		skip "hp bound $s x $w" "$(grep -m1 "cannot run workload" "$out.stderr")"
		return
	fi
	if [ "$rc" -ne 0 ]; then
		not_ok "hp bound $s x $w: exit status $rc"
		diag_file "$out.stderr" 30
		[ -f "$out/failures.log" ] && diag_file "$out/failures.log"
		return
	fi
	emit_tap "$out/runs.csv"
}

pointer=$(list_query "$FAULTS" '[s["name"] for s in d["schemes"] if s["family"] == "pointer" and not s["reference"]]')
[ -n "$pointer" ] || bail "smrbench-faults has no pointer-family scheme of its own"
schemes=$(echo $pointer | tr ' ' ,)

run_one lazy lazy "$schemes" "$(scaled 0.5)" -P period=0
for w in $(list_section "$FAULTS" workloads); do
	case $w in
	lazy) ;;
	list) run_one list list "$schemes" "$(scaled 0.3)" -P elements=16 -P update=1 ;;
	*) run_one "$w" "$w" "$schemes" "$(scaled 0.3)" ;;
	esac
done
tap_done
