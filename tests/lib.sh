# SPDX-License-Identifier: MIT
# tests/lib.sh - shared by the TAP test scripts (sourced, not run).
#
# make check runs each script from the build tree with $srcdir set; the
# binaries are the ones built there.  Every script prints TAP: one "ok" /
# "not ok" line per check, naming the scheme / workload, and the plan at the
# end (tap_done).
#
# SMRB_TEST_SCALE (default 1) scales run durations; the sanitized trees of
# `make check-sanitizers` set it below 1 to keep their wall time down.

set -u

builddir=${builddir:-.}
SMRBENCH=$builddir/smrbench
FAULTS=$builddir/smrbench-faults
PLANTED=$builddir/smrbench-planted
SCALE=${SMRB_TEST_SCALE:-1}

tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP ${2:-}"; }
# check COND-STATUS MESSAGE: ok when the status is 0.
check() { if [ "$1" -eq 0 ]; then ok "$2"; else not_ok "$2"; fi; }
# Show a file (stderr of a run) as TAP diagnostics.
diag_file() { sed 's/^/# /' "$1" | head -n "${2:-20}"; }
tap_done() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
	exit $?
}
bail() { echo "Bail out! $*"; exit 1; }

# A fresh temp folder for this script, removed at exit.
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/smrb-test.XXXXXX") || bail "mktemp failed"
trap 'rm -rf "$TMPD"' EXIT

# Scale a duration in seconds (awk: no bc on minimal boxes).
scaled() { awk -v d="$1" -v s="$SCALE" 'BEGIN { v = d * s; if (v < 0.05) v = 0.05; printf "%g\n", v }'; }

# What a binary has, from `BIN list --json` (harness/list_json.c): the one
# place that says which schemes are grace-period ones, which wrap a library,
# and a workload's hazard slots.  No test keeps its own list of them.
#
# list_query BIN EXPR [ARG]: print EXPR evaluated in Python with d = the
# JSON and a = ARG; a list prints one item per line.  Cached per binary.
list_query() {
	_cache=$TMPD/list.$(echo "$1" | tr '/.' '__').json
	[ -s "$_cache" ] || "$1" list --json >"$_cache" 2>/dev/null || bail "$1 list --json failed"
	"${PYTHON:-python3}" -c 'import json, sys
d = json.load(open(sys.argv[1])); a = sys.argv[3] if len(sys.argv) > 3 else None
v = eval(sys.argv[2])
print("\n".join(map(str, v)) if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else v)' \
		"$_cache" "$2" "${3:-}" || bail "list_query '$2' failed"
}
# list_section BIN schemes|workloads|allocators: the names, one per line.
list_section() { list_query "$1" '[x["name"] for x in d[a]]' "$2"; }
# scheme_family BIN SCHEME: none, grace-period, pointer, era or count.
scheme_family() { list_query "$1" 'next(s["family"] for s in d["schemes"] if s["name"] == a)' "$2"; }
# scheme_robust BIN SCHEME: true when a stalled reader holds back a bounded number.
scheme_robust() { list_query "$1" 'next(s["robust"] for s in d["schemes"] if s["name"] == a)' "$2"; }
# schemes_of_family BIN FAMILY: the schemes of that family.
schemes_of_family() { list_query "$1" '[s["name"] for s in d["schemes"] if s["family"] == a]' "$2"; }
# workload_slots BIN WORKLOAD: the hazard slots a thread of it protects at once.
workload_slots() { list_query "$1" 'next(w["hazard_slots"] for w in d["workloads"] if w["name"] == a)' "$2"; }
# scheme_param_max BIN SCHEME: the largest numeric default among SCHEME's
# params (0 if it has none): its largest batch or scan interval, what a
# reclamation check scales the retires it needs with.
scheme_param_max() {
	list_query "$1" 'max([int(p["default"]) for s in d["schemes"] if s["name"] == a
		for p in s["params"] if p["default"].isdigit()] + [0])' "$2"
}
# scheme_param_ending BIN SCHEME SUFFIX: the name of SCHEME's param ending in
# SUFFIX (e.g. _r0, a hazard-pointer scheme's scan threshold); empty if none.
scheme_param_ending() {
	list_query "$1" 'next((p["name"] for s in d["schemes"] if s["name"] == a.split()[0]
		for p in s["params"] if p["name"].endswith(a.split()[1])), "")' "$2 $3"
}

# Column index (1-based) of NAME in the header line of CSV file F; 0 if absent.
csv_col() {
	head -n 1 "$1" | tr ',' '\n' | awk -v n="$2" '$0 == n { print NR; found = 1; exit } END { if (!found) print 0 }'
}

# cell_samples SAMPLES RUNS: one line per data row of RUNS (a run's runs.csv),
# in its order: "N RETIRED RECLAIMED MAX_RECLAIMED" over the rows of SAMPLES
# (the same run's samples.csv, --sample-ms) that belong to that cell: how many
# carry live counters, the retired and reclaimed of the last one, and the
# largest reclaimed of any.  The last row of a cell is the sample "at stop",
# which harness/cell.c takes before it sets the stop flag: every sample
# shows the cell while its threads (and a stalled thread) still run, never
# the teardown.  A cell is matched on the columns before t_ms (workload,
# scheme, threads, rep, params), by name.  "0 0 0 0" for a cell without
# samples.
cell_samples() {
	if [ ! -s "$1" ]; then
		awk 'NR > 1 { print "0 0 0 0" }' "$2"
		return
	fi
	awk -F, '
		FNR == NR && FNR == 1 {
			for (i = 1; i <= NF; i++) {
				if ($i == "t_ms") ts = i
				if ($i == "retired") sr = i
				if ($i == "reclaimed") sc = i
				name[i] = $i
			}
			next
		}
		FNR == NR {
			if (!ts || $sr == "" || $sc == "") next
			k = $1
			for (i = 2; i < ts; i++) k = k SUBSEP $i
			n[k]++; lr[k] = $sr + 0; lc[k] = $sc + 0
			if ($sc + 0 > mc[k]) mc[k] = $sc + 0
			next
		}
		FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		{
			k = ""
			for (i = 1; i < ts; i++) k = (i > 1 ? k SUBSEP : "") (col[name[i]] ? $(col[name[i]]) : "")
			if (k in n) print n[k], lr[k], lc[k], mc[k]
			else print "0 0 0 0"
		}' "$1" "$2"
}

# run_failed NAME RC OUT: when a run's exit status RC is not 0, a not-ok line
# with its stderr (OUT.stderr) and OUT/failures.log as diagnostics; true then.
run_failed() {
	[ "$2" -eq 0 ] && return 1
	not_ok "$1: exit status $2"
	diag_file "$3.stderr" 30
	[ -f "$3/failures.log" ] && diag_file "$3/failures.log"
	return 0
}

# has_cols NAME CSV COLUMN...: true when CSV has a header row and at least
# one data row with every COLUMN; otherwise a not-ok line saying what lacks.
has_cols() {
	_name=$1 _csv=$2
	shift 2
	if [ ! -s "$_csv" ] || [ "$(wc -l <"$_csv")" -lt 2 ]; then
		not_ok "$_name: no rows in $_csv"
		return 1
	fi
	_missing=
	for _c in "$@"; do
		[ "$(csv_col "$_csv" "$_c")" -eq 0 ] && _missing="$_missing $_c"
	done
	[ -z "$_missing" ] && return 0
	not_ok "$_name: runs.csv lacks a column:$_missing"
	diag_file "$_csv" 1
	return 1
}

for b in "$SMRBENCH" "$FAULTS" "$PLANTED"; do
	[ -x "$b" ] || bail "$b is not built (make check builds it)"
done

# The sanitizer this tree was built with (machine.json's "sanitizer": no,
# address, thread or undefined).
SANITIZER=$("$FAULTS" sysinfo 2>/dev/null | sed -n 's/.*"sanitizer": *"\([a-z]*\)".*/\1/p')

# tsan_blind SCHEME: true for the reference back ends (urcu-*, ck-*) in the
# ThreadSanitizer tree, where the slowest tests (Bw-tree stress, the planted
# bug) leave them out to keep CI's time.  TSan can judge them: liburcu and
# libck are not instrumented, but schemes/ext_tsan.h annotates their grace
# periods and hazard scans, and the contract's self tests and every workload's
# stress test run them under TSan.
tsan_blind() {
	[ "$SANITIZER" = thread ] || return 1
	case $1 in urcu-*|ck-*) return 0 ;; esac
	return 1
}
