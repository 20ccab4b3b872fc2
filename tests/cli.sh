#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/cli.sh - the command line contract (smrbench --help): exit 2 with exactly
# one line on stderr naming the bad value for every usage error, results
# folders never overwritten, and the CSV + machine.json a good run writes.
. "${srcdir:-.}/tests/lib.sh"
# This script checks machine.json's calibration: measure it (tests/local.mk turns it off elsewhere).
unset SMRBENCH_NO_CALIBRATE

PY=${PYTHON:-python3}

# usage_error NAME BAD-VALUE ARGS...: exit 2, one stderr line naming BAD-VALUE.
usage_error() {
	name=$1 bad=$2
	shift 2
	out=$TMPD/usage.out err=$TMPD/usage.err
	"$SMRBENCH" "$@" >"$out" 2>"$err"
	rc=$?
	lines=$(wc -l <"$err")
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$bad" "$err"; then
		ok "cli $name: exit 2, one line naming $bad: $(cat "$err")"
	else
		not_ok "cli $name: want exit 2 and one stderr line naming $bad; got exit $rc and $lines lines"
		diag_file "$err"
	fi
	# A refused run must not leave a results folder behind.
	[ ! -e "$TMPD/never" ] || { not_ok "cli $name: created the results folder"; rm -rf "$TMPD/never"; }
}

never=$TMPD/never
usage_error "unknown scheme" nosuch run -w lazy -s nosuch -d 0.1 -o "$never"
usage_error "zero threads" "'0'" run -w lazy -s ebr -t 0 -d 0.1 -o "$never"
usage_error "unknown workload" nosuchwl run -w nosuchwl -s ebr -d 0.1 -o "$never"
usage_error "unknown param" nosuch run -w lazy -s ebr -d 0.1 -P nosuch=1 -o "$never"
usage_error "bad payload" bogus run -w lazy -s ebr -d 0.1 -P payload=bogus -o "$never"
usage_error "bad duration" abc run -w lazy -s ebr -d abc -o "$never"
usage_error "negative duration" -1 run -w lazy -s ebr -d -1 -o "$never"
usage_error "bad pin" diagonal run -w lazy -s ebr -d 0.1 -p diagonal -o "$never"
usage_error "unknown allocator" hoard run -w lazy -s ebr -d 0.1 -P alloc=hoard -o "$never"

# --out naming a folder that already holds runs.csv: refused, old file untouched.
old=$TMPD/old
mkdir -p "$old"
printf 'workload,scheme\nprecious,row\n' >"$old/runs.csv"
sum_before=$(cksum <"$old/runs.csv")
"$SMRBENCH" run -w lazy -s ebr -d 0.1 -o "$old" >"$TMPD/old.out" 2>"$TMPD/old.err"
rc=$?
sum_after=$(cksum <"$old/runs.csv")
if [ "$rc" -eq 2 ] && [ "$sum_before" = "$sum_after" ] && [ "$(wc -l <"$TMPD/old.err")" -eq 1 ]; then
	ok "cli existing results folder: exit 2, runs.csv untouched: $(cat "$TMPD/old.err")"
else
	not_ok "cli existing results folder: want exit 2, one line, runs.csv untouched; got exit $rc, $(wc -l <"$TMPD/old.err") lines, file $([ "$sum_before" = "$sum_after" ] && echo untouched || echo CHANGED)"
	diag_file "$TMPD/old.err"
fi

# Unwritable results folders (we may be root: only /proc and paths below a
# regular file are reliably unwritable).
: >"$TMPD/plainfile"
for dir in /proc/smrbench-test-nosuch/out "$TMPD/plainfile/out"; do
	"$SMRBENCH" run -w lazy -s ebr -d 0.1 -o "$dir" >"$TMPD/unw.out" 2>"$TMPD/unw.err"
	rc=$?
	lines=$(wc -l <"$TMPD/unw.err")
	if [ "$rc" -ne 0 ] && [ "$lines" -eq 1 ] && grep -qF "$dir" "$TMPD/unw.err"; then
		ok "cli unwritable folder $dir: exit $rc: $(cat "$TMPD/unw.err")"
	else
		not_ok "cli unwritable folder $dir: want non-zero and one line naming it; got exit $rc, $lines lines"
		diag_file "$TMPD/unw.err"
	fi
done

# A good run: 3 schemes x 2 thread counts x 2 reps = 12 rows.
good=$TMPD/good
dur=$(scaled 0.2)
"$SMRBENCH" run -w lazy -s none,ebr,qsbr -t 1,2 -d "$dur" -r 2 -o "$good" >"$TMPD/good.out" 2>"$TMPD/good.err"
rc=$?
check "$rc" "cli run -w lazy -s none,ebr,qsbr -t 1,2 -d $dur -r 2: exit $rc"
[ "$rc" -eq 0 ] || diag_file "$TMPD/good.err"
csv=$good/runs.csv
if [ -s "$csv" ]; then
	header=$(head -n 1 "$csv")
	# runs.csv's fixed columns, the software counters, and every param of lazy
	# (from `smrbench list`: the lines under "  lazy", indented 6).
	params=$("$SMRBENCH" list | awk '/^[^ ]/ { sec = $1 } sec == "workloads:" && /^  [^ ]/ { wl = $1 }
		sec == "workloads:" && wl == "lazy" && /^      [^ ]/ { print $1 }')
	missing=
	for c in workload scheme threads rep alloc object_bytes duration_s ops ns_per_op ops_per_s cycles_per_op \
		instr_per_op l1d_miss_per_op llc_miss_per_op retired reclaimed unreclaimed_peak \
		rss_peak_kb pin verify ctx_switches page_faults migrations $params; do
		[ "$(csv_col "$csv" "$c")" -gt 0 ] || missing="$missing $c"
	done
	if [ -z "$missing" ] && [ -n "$params" ]; then
		ok "cli runs.csv header has the fixed columns, the software counters and lazy's params ($(echo $params))"
	else
		[ -n "$missing" ] || missing=" the params of lazy (none found in list)"
		not_ok "cli runs.csv header lacks:$missing"
		echo "# $header"
	fi
	rows=$(($(wc -l <"$csv") - 1))
	[ "$rows" -eq 12 ]
	check $? "cli runs.csv has $rows rows, want 12"
	# The allocator and the node size sit beside the cell's identity (right
	# after rep), the allocator once (not again among the params); without
	# -P alloc every row names the default allocator.
	echo "$header" | grep -q '^workload,scheme,threads,rep,alloc,object_bytes,'
	check $? "cli runs.csv: alloc and object_bytes follow workload,scheme,threads,rep"
	[ "$(echo "$header" | tr ',' '\n' | grep -c '^alloc$')" -eq 1 ]
	check $? "cli runs.csv: one alloc column"
	default=$("$SMRBENCH" list | sed -n 's/^default allocator: //p')
	ca=$(csv_col "$csv" alloc) cb=$(csv_col "$csv" object_bytes)
	bad=$(awk -F, -v a="$ca" -v b="$cb" -v d="$default" 'NR > 1 && ($a != d || $b !~ /^[0-9]+$/)' "$csv" | wc -l)
	[ -n "$default" ] && [ "$bad" -eq 0 ]
	check $? "cli every row: alloc is the default ($default), object_bytes a number ($bad rows not)"
	cv=$(csv_col "$csv" verify)
	notok=$(awk -F, -v c="$cv" 'NR > 1 && $c != "ok"' "$csv" | wc -l)
	[ "$cv" -gt 0 ] && [ "$notok" -eq 0 ]
	check $? "cli every row verify=ok ($notok not)"
	# Counters: empty (never 0) when list says a counter is not available.
	cc=$(csv_col "$csv" cycles_per_op)
	if "$SMRBENCH" list | grep -E '^  PAPI_TOT_CYC ' | grep -q "not available"; then
		nonempty=$(awk -F, -v c="$cc" 'NR > 1 && $c != ""' "$csv" | wc -l)
		[ "$cc" -gt 0 ] && [ "$nonempty" -eq 0 ]
		check $? "cli cycles_per_op empty in every row: PAPI_TOT_CYC is not available ($nonempty rows not empty)"
	else
		bad=$(awk -F, -v c="$cc" 'NR > 1 && !($c + 0 > 0)' "$csv" | wc -l)
		[ "$cc" -gt 0 ] && [ "$bad" -eq 0 ]
		check $? "cli cycles_per_op positive in every row: PAPI_TOT_CYC is available ($bad rows not)"
	fi
else
	not_ok "cli the good run wrote no runs.csv"
fi
if [ -s "$good/machine.json" ] && "$PY" -m json.tool "$good/machine.json" >/dev/null 2>"$TMPD/json.err" &&
	grep -q '"allocators": {' "$good/machine.json" && grep -q '"default_alloc": ' "$good/machine.json"; then
	ok "cli machine.json is valid JSON, with the allocators and the default"
else
	not_ok "cli machine.json missing, not valid JSON, or without allocators / default_alloc"
	diag_file "$TMPD/json.err"
fi

# calib_check NAME JSON-FILE object|null: machine.json's "calibration" (harness/calibrate.c).
# object: a positive number, with its iterations and reps, for each field every machine
# has, and every other *_ns field a positive number or null with the reason beside it.
# null: the skipped form, "calibration": null with a "calibration_note".
calib_check() {
	if "$PY" - "$2" "$3" >"$TMPD/calib.out" 2>&1 <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
if "calibration" not in j:
    sys.exit("no calibration in machine.json")
c = j["calibration"]
if sys.argv[2] == "null":
    if c is not None or not j.get("calibration_note"):
        sys.exit("want calibration null and a calibration_note; got %.80r, note %r" % (c, j.get("calibration_note")))
    print("null, note: %s" % j["calibration_note"])
    sys.exit(0)
if not isinstance(c, dict) or c.get("unit") != "ns":
    sys.exit("calibration is not an object in ns: %r" % (c,))
always = ["lazy_get_floor_ns", "lazy_get_algorithm_ns", "acquire_load_ns", "xchg_ns", "clock_gettime_ns"]
bad = []
for k in [k for k in c if k.endswith("_ns")]:
    v, m = c[k], c.get("method", {}).get(k, {})
    if v is None and k not in always and m.get("null_because"):
        continue
    if not (isinstance(v, (int, float)) and v > 0 and m.get("iterations", 0) > 0 and m.get("reps", 0) > 0
            and m.get("how")):
        bad.append("%s=%r (method %r)" % (k, v, m))
bad += ["%s missing" % k for k in always if k not in c]
if bad:
    sys.exit("; ".join(bad))
print(" ".join("%s=%s" % (k[:-3], c[k]) for k in always))
EOF
	then
		ok "cli $1: $(cat "$TMPD/calib.out")"
	else
		not_ok "cli $1"
		diag_file "$TMPD/calib.out"
	fi
}
[ -s "$good/machine.json" ] && calib_check "run: machine.json holds the calibration" "$good/machine.json" object

nocal=$TMPD/nocal
"$SMRBENCH" run -w lazy -s none -d "$(scaled 0.05)" --no-calibrate -o "$nocal" >"$TMPD/nocal.out" 2>"$TMPD/nocal.err"
rc=$?
if ! run_failed "cli run --no-calibrate" "$rc" "$nocal"; then
	calib_check "run --no-calibrate: machine.json says calibration null" "$nocal/machine.json" null
fi

# sysinfo prints what machine.json would say: the calibration too, or null when skipped.
for opt in "" --no-calibrate; do
	"$SMRBENCH" sysinfo $opt >"$TMPD/sysinfo.json" 2>"$TMPD/sysinfo.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		not_ok "cli sysinfo${opt:+ $opt}: exit $rc"
		diag_file "$TMPD/sysinfo.err"
	else
		calib_check "sysinfo${opt:+ $opt}: prints the calibration" "$TMPD/sysinfo.json" "$([ -n "$opt" ] && echo null || echo object)"
	fi
done
usage_error "sysinfo with an unknown option" --bogus sysinfo --bogus
tap_done
