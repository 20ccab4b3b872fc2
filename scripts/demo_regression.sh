#!/bin/sh
# demo_regression.sh - show that the CI comparison (scripts/bench_ci.sh +
# compare.py) passes unchanged code and catches a slowed scheme.
#
# It copies the working tree to a scratch folder under /tmp, builds it twice
# there (as is, and with one scheme deliberately slowed), then
#   1. runs the bench-ci matrix N times (default 5) with the unchanged build and
#      compares each run with the baseline: every run should pass;
#   2. runs it once with the slowed build: the slowed scheme should be flagged,
#      by name, with its ratios.
# The tree this script lives in is only read, never written: the slowdown is
# patched into the copy, and the copy is removed at the end (--keep keeps it).
#
#   scripts/demo_regression.sh [--baseline-dir DIR] [--reruns N] [--scheme NAME]
#                              [--slow fence|rmw] [--head] [--fresh-baseline] [--keep]
#   --baseline-dir DIR  the baseline to compare with (default: this tree's
#                       results/baseline/<cpu_kind of this machine>)
#   --reruns N          unchanged runs to compare (default 5; 0 skips them)
#   --scheme NAME       the scheme to slow (default ebr): its NAME_begin() in schemes/NAME.h
#   --slow fence        a second seq_cst fence at the end of NAME_begin() (default;
#                       GCC 12 emits `lock or $0,(%rsp)` on x86-64, ~2 ns on the dev
#                       VMs; older GCCs emit mfence, ~16 ns).  Schemes built on
#                       NAME_begin() (nebr on ebr_begin) are slowed too.
#   --slow rmw          a seq_cst fetch_add on a thread-local word instead (lock xadd:
#                       a locked RMW whatever the compiler's fence choice)
#   --head              copy the last commit (git archive HEAD) instead of the working
#                       tree, e.g. while others are editing it
#   --fresh-baseline    first make a baseline from the unchanged copy (in the scratch
#                       folder): tests the mechanics where no baseline is committed yet
#   --keep              keep the scratch folder
# BENCH_CI_* variables pass through to bench_ci.sh (e.g. BENCH_CI_DURATION).
#
# Exit status: 0 the demonstration came out as it should (every unchanged run
# passed, the slowed scheme was flagged); 1 it did not; 2 bad usage or a
# build failure.
set -u

me=demo_regression.sh
srcdir=$(cd "$(dirname "$0")/.." && pwd)
baseline_dir=
reruns=5
scheme=ebr
slow=fence
keep=no
from=worktree
fresh=no
die() { echo "$me: $2" >&2; exit "$1"; }
say() { echo "$me: $*"; }

while [ $# -gt 0 ]; do
	case $1 in
	--baseline-dir) [ $# -ge 2 ] || die 2 "--baseline-dir needs a value"; baseline_dir=$2; shift ;;
	--reruns) [ $# -ge 2 ] || die 2 "--reruns needs a value"; reruns=$2; shift ;;
	--scheme) [ $# -ge 2 ] || die 2 "--scheme needs a value"; scheme=$2; shift ;;
	--slow) [ $# -ge 2 ] || die 2 "--slow needs a value"; slow=$2; shift ;;
	--keep) keep=yes ;;
	--head) from="head" ;;
	--fresh-baseline) fresh=yes ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die 2 "unknown argument '$1' (--help)" ;;
	esac
	shift
done
case $reruns in ''|*[!0-9]*) die 2 "--reruns wants a number" ;; esac
case $slow in fence|rmw) ;; *) die 2 "--slow wants fence or rmw" ;; esac
case $scheme in ''|*[!a-z0-9_]*) die 2 "--scheme wants a scheme's C name (ebr, qsbr, hp, ..)" ;; esac
check_baseline() {
	baseline_dir=$(cd "$baseline_dir" 2>/dev/null && pwd) ||
		die 2 "no baseline folder '$baseline_dir' (make bench-ci-baseline, or --fresh-baseline)"
	[ -f "$baseline_dir/runs.csv" ] || die 2 "$baseline_dir has no runs.csv (make bench-ci-baseline, or --fresh-baseline)"
}
# Given: check it now, before minutes of building.  The default needs this
# machine's CPU kind, which the built smrbench tells (below).
[ "$fresh" = yes ] || [ -z "$baseline_dir" ] || check_baseline

work=$(mktemp -d /tmp/smrb-demo.XXXXXX) || die 2 "cannot create a scratch folder"
[ "$keep" = yes ] || trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM
say "scratch copy ($from) in $work (this tree, $srcdir, is only read)"

# ---- two copies of the working tree: as is, and slowed ----
for v in clean slow; do
	mkdir -p "$work/$v/src"
	if [ "$from" = head ]; then
		git -C "$srcdir" archive --format=tar HEAD | (cd "$work/$v/src" && tar -xf -) ||
			die 2 "cannot export HEAD of $srcdir"
	else
		(cd "$srcdir" && tar --exclude=./.git --exclude=./results --exclude=./autom4te.cache -cf - .) |
			(cd "$work/$v/src" && tar -xf -) || die 2 "cannot copy the tree"
	fi
done
# The slowdown: one more ordering instruction at the end of NAME_begin(),
# on every critical-section entry.  Inserted before the function's closing
# brace (the first line that is exactly "}" after its first line).
case $slow in
fence) extra='	atomic_thread_fence(memory_order_seq_cst); /* DEMO: deliberate slowdown */' ;;
rmw) extra='	{ static _Thread_local _Atomic unsigned long demo_slow; atomic_fetch_add_explicit(&demo_slow, 1, memory_order_seq_cst); } /* DEMO: deliberate slowdown */' ;;
esac
h=$work/slow/src/schemes/$scheme.h
[ -f "$h" ] || die 2 "no schemes/$scheme.h in the copy"
awk -v fn="static inline void ${scheme}_begin(" -v extra="$extra" '
	index($0, fn) == 1 { infn = 1 }
	infn && $0 == "}" { print extra; infn = 0; done = 1 }
	{ print }
	END { if (!done) exit 1 }' "$h" >"$h.new" || die 2 "no 'static inline void ${scheme}_begin(' in schemes/$scheme.h to slow down"
mv "$h.new" "$h"
say "patched the copy's schemes/$scheme.h:"
diff -u "$work/clean/src/schemes/$scheme.h" "$h" | sed 's/^/    /'

# ---- build both ----
for v in clean slow; do
	say "building the $v copy"
	src=$work/$v/src
	if [ ! -x "$src/configure" ]; then
		(cd "$src" && autoreconf -i >/dev/null 2>&1) || die 2 "autoreconf failed in $src"
	fi
	mkdir -p "$work/$v/build"
	(cd "$work/$v/build" && "$src/configure" -q >configure.out 2>&1 && make -j2 smrbench >make.out 2>&1) ||
		die 2 "the $v build failed: see $work/$v/build/make.out (--keep to look)"
done

if [ "$fresh" = no ] && [ -z "$baseline_dir" ]; then
	kind=$("$work/clean/build/smrbench" sysinfo | "${PYTHON:-python3}" -c 'import json, sys
print(json.load(sys.stdin).get("cpu_kind") or "unknown")') || die 2 "cannot read this machine's cpu_kind"
	baseline_dir=$srcdir/results/baseline/$kind
	check_baseline
fi

# ---- the runs ----
run_ci() { # $1 = clean|slow, $2 = output folder name; prints compare's output
	(cd "$work/$1/build" && sh "$work/$1/src/scripts/bench_ci.sh" --baseline-dir "$baseline_dir" \
		--out "$work/runs/$2" 2>"$work/runs/$2.log")
}
mkdir -p "$work/runs"
if [ "$fresh" = yes ]; then
	baseline_dir=$work/baseline
	say "making a fresh baseline from the unchanged copy in $baseline_dir"
	(cd "$work/clean/build" && sh "$work/clean/src/scripts/bench_ci.sh" --baseline --force \
		--baseline-dir "$baseline_dir" >"$work/runs/baseline.log" 2>&1) ||
		die 2 "the baseline run failed: see $work/runs/baseline.log (--keep to look)"
fi
passed=0
i=1
while [ $i -le "$reruns" ]; do
	say "unchanged run $i of $reruns"
	run_ci clean rerun-$i >"$work/runs/rerun-$i.out"
	rc=$?
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		say "  passed: $(tail -n 1 "$work/runs/rerun-$i.out")"
		if grep -q "^bench_ci.sh: not confirmed" "$work/runs/rerun-$i.log"; then
			say "  (after a confirmation run: the first comparison flagged"
			grep '^REGRESSION' "$work/runs/rerun-$i.out" | sed 's/^/    /'
			say "   and the re-run of those cells did not)"
		fi
	else
		say "  FAILED (exit $rc):"
		grep '^REGRESSION' "$work/runs/rerun-$i.out" | sed 's/^/    /'
		grep -E '^(compare.py: (warning|cannot)|bench_ci.sh: [^n])' "$work/runs/rerun-$i.log" |
			grep -v '^bench_ci.sh: \(results in\|== \|schemes:\|[0-9]* cells\)' | sed 's/^/    /'
	fi
	i=$((i + 1))
done

say "slowed run ($scheme: $slow)"
run_ci slow slowed >"$work/runs/slowed.out"
rc=$?
sed 's/^/    /' "$work/runs/slowed.out"
grep '^bench_ci.sh: \(CONFIRMED\|not confirmed\)' "$work/runs/slowed.log" | sed 's/^/    /'
flagged=no
grep -q "^bench_ci.sh: CONFIRMED REGRESSION: [^ ]* $scheme t=" "$work/runs/slowed.log" && [ $rc -eq 1 ] && flagged=yes

say "summary: $passed of $reruns unchanged runs passed; slowed $scheme flagged: $flagged (exit $rc)"
[ "$keep" = yes ] && say "kept $work"
[ "$passed" -eq "$reruns" ] && [ "$flagged" = yes ] && exit 0
exit 1
