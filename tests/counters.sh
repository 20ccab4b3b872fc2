#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/counters.sh - the software counters (ctx_switches, page_faults,
# migrations): filled where the kernel counts them, whether PAPI gives them
# or not (--counters kernel bypasses PAPI; SMRBENCH_NO_PERF_EVENT=1 makes
# perf_event_open refuse, as perf_event_paranoid or seccomp would), and
# machine.json's counter_sources naming where each column came from.
. "${srcdir:-.}/tests/lib.sh"

PY=${PYTHON:-python3}
# 4 workers on this machine's CPUs: on 2 cores they must switch.
DUR=$(scaled 0.3)

# field CSV COLUMN: the column's value in the first data row.
field() { awk -F, -v c="$(csv_col "$1" "$2")" 'NR == 2 { print (c ? $c : "NOCOLUMN") }' "$1"; }
# source DIR COLUMN: machine.json's counter_sources[COLUMN] ("null" when none).
source_of() {
	"$PY" -c 'import json, sys; v = json.load(open(sys.argv[1]))["counter_sources"][sys.argv[2]]; print("null" if v is None else v)' \
		"$1/machine.json" "$2" 2>"$TMPD/py.err" || echo "unreadable: $(head -n 1 "$TMPD/py.err")"
}

# run NAME 'VAR=V ..' [ARGS..]: one msqueue ebr cell of 4 threads into $TMPD/NAME,
# with those variables in the environment and ARGS added; 0 if it ran.
run() {
	name=$1 vars=$2
	shift 2
	out=$TMPD/$name
	# shellcheck disable=SC2086 # the variables are words
	env $vars "$SMRBENCH" run -w msqueue -s ebr -t 4 -d "$DUR" -o "$out" "$@" >"$out.stdout" 2>"$out.stderr"
	! run_failed "counters $name" $? "$out" && has_cols "counters $name" "$out/runs.csv" ctx_switches page_faults migrations
}

# check_filled NAME COLUMN WANT-SOURCE-PREFIX: the column is a count and machine.json names a source
# starting with the prefix (a regular expression).
check_filled() {
	v=$(field "$TMPD/$1/runs.csv" "$2")
	src=$(source_of "$TMPD/$1" "$2")
	echo "$v" | grep -Eq '^[0-9]+$' && echo "$src" | grep -Eq "^($3)"
	check $? "counters $1: $2 is a count ('$v'), machine.json names its source '$src' (want ^($3))"
}

# 1. Wherever perf stat counts context switches, the column is filled (by any source).
if ! command -v perf >/dev/null 2>&1; then
	skip "counters auto: ctx_switches filled" "perf is not installed"
elif ! perf stat -x, -e context-switches true >"$TMPD/perf.out" 2>&1 || grep -q "not supported\|not counted" "$TMPD/perf.out"; then
	skip "counters auto: ctx_switches filled" "perf stat refuses context-switches here: $(head -n 1 "$TMPD/perf.out")"
elif run auto SMRBENCH_COUNTERS=auto; then
	check_filled auto ctx_switches 'papi:|perf_event_open:|getrusage:'
fi

# 2. PAPI bypassed (the run option): the kernel gives the column, and machine.json says so.
if run kernel '' --counters kernel; then
	check_filled kernel ctx_switches 'perf_event_open:|getrusage:'
	check_filled kernel page_faults 'perf_event_open:|getrusage:'
	# list (the environment variable) names the source machine.json has.
	want=$(source_of "$TMPD/kernel" ctx_switches)
	SMRBENCH_COUNTERS=kernel "$SMRBENCH" list | grep -E '^  perf::CONTEXT-SWITCHES ' | grep -qF "available from $want"
	check $? "counters kernel: smrbench list names the source machine.json has ($want)"
fi

# 3. perf_event_open refused as well: getrusage counts switches and faults;
#    it has no migrations, so that column is empty (never 0) and has no source.
if run rusage 'SMRBENCH_COUNTERS=kernel SMRBENCH_NO_PERF_EVENT=1'; then
	check_filled rusage ctx_switches 'getrusage:RUSAGE_THREAD:'
	check_filled rusage page_faults 'getrusage:RUSAGE_THREAD:'
	v=$(field "$TMPD/rusage/runs.csv" migrations)
	src=$(source_of "$TMPD/rusage" migrations)
	[ -z "$v" ] && [ "$src" = null ]
	check $? "counters rusage: migrations empty ('$v') with no source ($src)"
fi

# 4. A bad mode: exit 2, one line naming it, from the option and from the environment.
for how in opt env; do
	if [ $how = opt ]; then
		"$SMRBENCH" run -w msqueue -s ebr -d 0.1 -o "$TMPD/never" --counters bogus >/dev/null 2>"$TMPD/bad.err"
	else
		SMRBENCH_COUNTERS=bogus "$SMRBENCH" list >/dev/null 2>"$TMPD/bad.err"
	fi
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$TMPD/bad.err")" -eq 1 ] && grep -q bogus "$TMPD/bad.err" && [ ! -e "$TMPD/never" ]
	check $? "counters bad mode ($how): exit $rc, one line: $(head -n 1 "$TMPD/bad.err")"
done

tap_done
