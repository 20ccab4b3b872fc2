#!/bin/sh
# tests/bench_ci_test.sh - the mechanics of scripts/bench_ci.sh (make bench-ci):
# a multi-session baseline, a flagged cell re-run before failing, a
# slowdown confirmed and named, and results never overwritten.
#
# The runs are real but tiny (lazy, 1 thread, 0.05 s cells), and a wrapper
# around smrbench then rewrites the ns_per_op of every row it wrote with
# fixed values (none 10, qsbr 11, ebr 20 or, "slowed", 40; a small fixed
# step per repetition): the point is the decision logic, not the timing, so
# the verdicts cannot depend on how busy the machine is (make -j2 check runs
# other tests beside this one).  The sanitized trees skip it: it checks
# shell and Python, which they do not instrument.
. "${srcdir:-.}/tests/lib.sh"

BCI=${srcdir:-.}/scripts/bench_ci.sh
PY=${PYTHON:-python3}
SMRB_ABS=$(cd "$(dirname "$SMRBENCH")" && pwd)/$(basename "$SMRBENCH")

if [ "$SANITIZER" != no ]; then
	skip "bench_ci mechanics" "the $SANITIZER tree: shell and Python only, checked in the plain tree"
	tap_done
fi

export BENCH_CI_WORKLOADS=lazy BENCH_CI_THREADS=1 BENCH_CI_REPS=3 BENCH_CI_DURATION=0.05
export BENCH_CI_SESSIONS=2 BENCH_CI_MIN_EFFECT=50
unset BENCH_CI_CONFIRM BENCH_CI_NORMALISER

# wrapper MODE: smrbench, then the fixed ns_per_op values in the runs.csv a
# `run` wrote.  MODE=steady: ebr at 20; MODE=first: ebr at 40 outside
# confirm/ only (a one-off disturbance); MODE=always: ebr at 40 everywhere
# (a slowdown in the code).
wrapper() {
	cat >"$TMPD/smrbench-$1" <<EOF
#!/bin/sh
mode=$1
"$SMRB_ABS" "\$@"; rc=\$?
out=; prev=
for a in "\$@"; do [ "\$prev" = "-o" ] && out=\$a; prev=\$a; done
[ -n "\$out" ] && [ -f "\$out/runs.csv" ] || exit \$rc
slow=2
case \$mode:\$out in
steady:*|first:*/confirm/*) slow=1 ;;
esac
awk -F, -v OFS=, -v slow="\$slow" '
	NR == 1 { for (i = 1; i <= NF; i++) { if (\$i == "scheme") s = i; if (\$i == "ns_per_op") n = i; if (\$i == "rep") r = i }
		  print; next }
	{ base = \$s == "none" ? 10 : \$s == "qsbr" ? 11 : \$s == "ebr" ? 20 * slow : 15
	  \$n = sprintf("%.4f", base * (1 + 0.01 * (\$r % 3))); print }' "\$out/runs.csv" >"\$out/runs.csv.x" &&
	mv "\$out/runs.csv.x" "\$out/runs.csv"
exit \$rc
EOF
	chmod +x "$TMPD/smrbench-$1"
}
wrapper steady
wrapper first
wrapper always

# ---- the baseline: two sessions, trimmed to none, ebr and qsbr ----
base=$TMPD/baseline
sh "$BCI" --smrbench "$TMPD/smrbench-steady" --python "$PY" --baseline --force --baseline-dir "$base" \
	>"$TMPD/base.log" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ ! -f "$base/runs.csv" ]; then
	not_ok "bench_ci --baseline: exit $rc"
	diag_file "$TMPD/base.log" 30
	tap_done
fi
sc=$(csv_col "$base/runs.csv" session)
ss=$(awk -F, -v c="$sc" 'NR > 1 { print $c }' "$base/runs.csv" | sort -u | tr '\n' ' ')
[ "$sc" -gt 0 ] && [ "$ss" = "1 2 " ]
check $? "baseline: runs.csv has a session column holding sessions 1 and 2 (got '$ss')"
grep -qx "sessions=2" "$base/bench-ci.txt"
check $? "baseline: bench-ci.txt records sessions=2"
# Fewer schemes, fewer cells: bench_ci runs only the baseline's schemes.
scol=$(csv_col "$base/runs.csv" scheme)
awk -F, -v c="$scol" 'NR == 1 || $c == "none" || $c == "ebr" || $c == "qsbr"' "$base/runs.csv" >"$base/x" &&
	mv "$base/x" "$base/runs.csv"

# ---- a one-off disturbance: flagged, re-run, not confirmed, passes ----
sh "$BCI" --smrbench "$TMPD/smrbench-first" --python "$PY" --baseline-dir "$base" --out "$TMPD/noise" \
	>"$TMPD/noise.out" 2>"$TMPD/noise.log"
rc=$?
grep -q "^REGRESSION: lazy ebr t=1 " "$TMPD/noise.out" && grep -q "^bench_ci.sh: not confirmed" "$TMPD/noise.log" &&
	[ -f "$TMPD/noise/confirm/runs.csv" ] && [ $rc -eq 0 ]
st=$?
check $st "one-off slow ebr: flagged, re-run in confirm/, not confirmed, exit 0 (got $rc)"
[ $st -eq 0 ] || { diag_file "$TMPD/noise.log" 20; diag_file "$TMPD/noise.out" 20; }
grep -q "lazy ebr 1" "$TMPD/noise/flagged.txt" && ! grep -qv "^lazy ebr 1$" "$TMPD/noise/flagged.txt"
check $? "one-off slow ebr: flagged.txt lists exactly lazy ebr 1"

# ---- a slowdown in the code: confirmed and named, exit 1 ----
sh "$BCI" --smrbench "$TMPD/smrbench-always" --python "$PY" --baseline-dir "$base" --out "$TMPD/slow" \
	>"$TMPD/slow.out" 2>"$TMPD/slow.log"
rc=$?
grep -q "^bench_ci.sh: CONFIRMED REGRESSION: lazy ebr t=1 " "$TMPD/slow.log" && [ $rc -eq 1 ]
st=$?
check $st "slow ebr: CONFIRMED REGRESSION names lazy ebr t=1, exit 1 (got $rc)"
[ $st -eq 0 ] || diag_file "$TMPD/slow.log" 30
grep "^bench_ci.sh: CONFIRMED" "$TMPD/slow.log" | grep -qv " ebr t="
check $((1 - $?)) "slow ebr: no other scheme confirmed"
# The ratios are printed with the cell: ~2x the baseline's.
grep -q "^REGRESSION: lazy ebr t=1 .*ratio to none [0-9.]* -> [0-9.]* (+[0-9]" "$TMPD/slow.out"
check $? "slow ebr: the REGRESSION line gives both ratios and the change"

# ---- BENCH_CI_CONFIRM=0 fails at once ----
BENCH_CI_CONFIRM=0 sh "$BCI" --smrbench "$TMPD/smrbench-first" --python "$PY" --baseline-dir "$base" \
	--out "$TMPD/noconfirm" >"$TMPD/noconfirm.out" 2>"$TMPD/noconfirm.log"
rc=$?
[ $rc -eq 1 ] && [ ! -e "$TMPD/noconfirm/confirm" ]
check $? "BENCH_CI_CONFIRM=0: a flagged run fails at once, no confirm/ (got $rc)"

# ---- one baseline per CPU kind ----
kind=$("$SMRBENCH" sysinfo | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["cpu_kind"])')
case $kind in
''|*/*|.*) not_ok "machine.json's cpu_kind is a usable folder name (got '$kind')" ;;
*) ok "machine.json's cpu_kind is a usable folder name: $kind" ;;
esac
BENCH_CI_SESSIONS=1 sh "$BCI" --smrbench "$TMPD/smrbench-steady" --python "$PY" --baseline --force \
	--baseline-root "$TMPD/root" >"$TMPD/kind-base.log" 2>&1
rc=$?
[ $rc -eq 0 ] && [ -f "$TMPD/root/$kind/runs.csv" ] && [ -f "$TMPD/root/$kind/machine.json" ]
check $? "--baseline writes BASELINE_ROOT/<cpu_kind>/ (got exit $rc)"
sh "$BCI" --smrbench "$TMPD/smrbench-steady" --python "$PY" --baseline-root "$TMPD/root" --out "$TMPD/kind-run" \
	>"$TMPD/kind-run.out" 2>"$TMPD/kind-run.log"
rc=$?
[ $rc -eq 0 ] && grep -q "^method:" "$TMPD/kind-run.out" && ! grep -q "NOT COMPARED" "$TMPD/kind-run.log"
check $? "a run compares with the baseline of its own CPU kind (got exit $rc)"
mkdir -p "$TMPD/other-root/AuthenticAMD-1-1" && cp "$base/runs.csv" "$TMPD/other-root/AuthenticAMD-1-1/"
sh "$BCI" --smrbench "$TMPD/smrbench-always" --python "$PY" --baseline-root "$TMPD/other-root" \
	--out "$TMPD/kind-none" >"$TMPD/kind-none.out" 2>"$TMPD/kind-none.log"
rc=$?
[ $rc -eq 0 ] && grep -q "NOT COMPARED: no baseline for this CPU kind ($kind)" "$TMPD/kind-none.log" &&
	grep -q "baselines exist for: AuthenticAMD-1-1" "$TMPD/kind-none.log" && ! grep -q "^method:" "$TMPD/kind-none.out"
st=$?
check $st "no baseline of this CPU kind: not compared with another kind's, said loudly, exit 0 (got $rc)"
[ $st -eq 0 ] || diag_file "$TMPD/kind-none.log" 10

# ---- results are never overwritten; bad settings are refused ----
sh "$BCI" --smrbench "$SMRBENCH" --python "$PY" --baseline-dir "$base" --out "$TMPD/noise" \
	>/dev/null 2>"$TMPD/exists.log"
rc=$?
[ $rc -eq 2 ] && grep -q "already exists" "$TMPD/exists.log"
check $? "an existing --out folder is refused with exit 2 (got $rc)"
BENCH_CI_SESSIONS=0 sh "$BCI" --smrbench "$SMRBENCH" --python "$PY" --baseline-dir "$base" \
	--out "$TMPD/zero" >/dev/null 2>"$TMPD/zero.log"
rc=$?
[ $rc -eq 2 ] && grep -q "BENCH_CI_SESSIONS" "$TMPD/zero.log" && [ ! -e "$TMPD/zero" ]
check $? "BENCH_CI_SESSIONS=0 is refused with exit 2 before any run (got $rc)"
tap_done
