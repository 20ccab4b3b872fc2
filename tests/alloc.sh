#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/alloc.sh - the allocator param (-P alloc=, harness/alloc.c):
#  - every allocator x workloads treiber, msqueue, list, bwtree x schemes
#    none, ebr, hp, rc: short runs, verify=ok, retired == reclaimed, and the
#    row's alloc column names the allocator asked for;
#  - a preloaded allocator (jemalloc, mimalloc, tcmalloc) runs in a
#    re-executed process that gets everything through its command line: a
#    param (stall=1 holds ebr's reclamation back), the sampling (samples.csv
#    rows), the counters (ctx_switches filled where list says it counts);
#  - the cell's check that malloc is the named library's fails the cell when
#    another library was preloaded under its name;
#  - usage errors (exit 2, one stderr line): an unknown allocator (listing the
#    known ones), one that is not installed (SMRBENCH_ALLOC_LIB_<NAME>
#    pointed at a missing file; naming the package and scripts/setup.sh), and
#    in ASan/TSan trees every preloaded one (the sanitizer owns malloc),
#    while glibc and pool still run there;
#  - smrbench list and machine.json describe the allocators and the default.
. "${srcdir:-.}/tests/lib.sh"

PY=${PYTHON:-python3}
dur=$(scaled 0.2)
list=$("$SMRBENCH" list 2>/dev/null) || bail "$SMRBENCH list failed"
allocs=$(list_section "$SMRBENCH" allocators)
[ -n "$allocs" ] || bail "smrbench list shows no allocators"
# installed NAME: list says "installed: yes".
installed() { printf '%s\n' "$list" | grep -qE "^  $1 +installed: yes"; }
preloaded() { case $1 in jemalloc|mimalloc|tcmalloc) return 0 ;; esac; return 1; }
sanitized_malloc() { [ "$SANITIZER" = address ] || [ "$SANITIZER" = thread ]; }
have_workloads=$(list_section "$SMRBENCH" workloads | tr '\n' ' ')
have_schemes=$(list_section "$SMRBENCH" schemes | tr '\n' ' ')
has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
# One scheme of each family (the first smrbench list --json names): every
# kind of header and retire path meets every allocator.
schemes=
for f in none grace-period pointer era count; do
	s=$(schemes_of_family "$SMRBENCH" "$f" | head -n 1)
	if [ -n "$s" ]; then schemes="$schemes,$s"; else skip "alloc: a $f scheme" "none in this build"; fi
done
schemes=${schemes#,}
[ -n "$schemes" ] || bail "no scheme in this build"

# usage_error NAME WANT-TEXT.. -- ARGS: exit 2 and one stderr line holding every WANT-TEXT.
usage_error() {
	name=$1
	shift
	wants=
	while [ "$1" != -- ]; do wants="$wants
$1"; shift; done
	shift
	rm -rf "$TMPD/never"
	"$SMRBENCH" "$@" -o "$TMPD/never" >"$TMPD/u.out" 2>"$TMPD/u.err"
	rc=$?
	lines=$(wc -l <"$TMPD/u.err")
	missing=
	printf '%s\n' "$wants" | while IFS= read -r w; do
		[ -z "$w" ] || grep -qF -- "$w" "$TMPD/u.err" || echo "$w"
	done >"$TMPD/u.missing"
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$TMPD/u.missing" ] && [ ! -e "$TMPD/never" ]; then
		ok "alloc $name: exit 2, one line: $(cat "$TMPD/u.err")"
	else
		not_ok "alloc $name: want exit 2, one line naming $(echo $wants), no results folder; got exit $rc, $lines lines"
		diag_file "$TMPD/u.err"
	fi
}

# ---- every allocator x workload x scheme ----
for a in $allocs; do
	if ! installed "$a"; then
		skip "alloc=$a: every workload" "not installed here (scripts/setup.sh installs it)"
		continue
	fi
	if preloaded "$a" && sanitized_malloc; then
		usage_error "alloc=$a in the $SANITIZER tree" "alloc=$a" "sanitizer owns malloc" -- \
			run -w treiber -s ebr -d 0.1 -P alloc="$a"
		continue
	fi
	for w in treiber msqueue list bwtree; do
		if ! has "$have_workloads" "$w"; then
			skip "alloc=$a $w" "workload not in this build"
			continue
		fi
		out=$TMPD/run-$a-$w
		"$SMRBENCH" run -w "$w" -s "$schemes" -t 2 -d "$dur" -P alloc="$a" -o "$out" >/dev/null 2>"$out.stderr"
		rc=$?
		run_failed "alloc=$a $w -s $schemes" "$rc" "$out" && continue
		csv=$out/runs.csv
		has_cols "alloc=$a $w" "$csv" scheme alloc object_bytes verify retired reclaimed || continue
		for s in $(echo "$schemes" | tr , ' '); do
			awk -F, -v s="$s" -v want="$a" -v cs="$(csv_col "$csv" scheme)" -v ca="$(csv_col "$csv" alloc)" \
				-v cv="$(csv_col "$csv" verify)" -v cr="$(csv_col "$csv" retired)" \
				-v cc="$(csv_col "$csv" reclaimed)" -v cb="$(csv_col "$csv" object_bytes)" -v w="$w" '
				NR > 1 && $cs == s { n++; why = ""
					if ($ca != want) why = why " alloc=" $ca
					if ($cv != "ok") why = why " verify=" $cv
					if ($cr != $cc) why = why " retired " $cr " != reclaimed " $cc
					if ($cb !~ /^[0-9]+$/) why = why " object_bytes=\"" $cb "\""
					line = sprintf("alloc=%s %s %s: alloc column %s, verify %s, retired %s = reclaimed %s, object_bytes %s",
						want, w, s, $ca, $cv, $cr, $cc, $cb) }
				END {
					if (n != 1) printf "not ok - alloc=%s %s %s: %d rows, want 1\n", want, w, s, n
					else if (why != "") printf "not ok - %s:%s\n", line, why
					else printf "ok - %s\n", line }' "$csv" >"$TMPD/line"
			if grep -q '^ok' "$TMPD/line"; then ok "$(sed 's/^ok - //' "$TMPD/line")"; else not_ok "$(sed 's/^not ok - //' "$TMPD/line")"; fi
		done
	done
done

# ---- a preloaded allocator's process gets everything through its command line ----
pre=
for a in jemalloc mimalloc tcmalloc; do
	if installed "$a"; then pre=$a; break; fi
done
if [ -z "$pre" ]; then
	skip "alloc: a preloaded cell's params, sampling and counters" "no preloaded allocator installed"
elif sanitized_malloc; then
	skip "alloc: a preloaded cell's params, sampling and counters" "the $SANITIZER tree refuses preloaded allocators"
elif ! has "$have_schemes" ebr || ! has "$have_workloads" treiber; then
	skip "alloc: a preloaded cell's params, sampling and counters" "needs ebr and treiber"
else
	out=$TMPD/pre
	"$SMRBENCH" run -w treiber -s ebr -t 1 -d "$dur" -P stall=1 -P alloc="$pre" --sample-ms 20 -o "$out" \
		>/dev/null 2>"$out.stderr"
	rc=$?
	if ! run_failed "alloc=$pre stall=1 --sample-ms 20" "$rc" "$out" &&
		has_cols "alloc=$pre stall=1" "$out/runs.csv" retired unreclaimed_peak ctx_switches alloc; then
		csv=$out/runs.csv
		r=$(awk -F, -v c="$(csv_col "$csv" retired)" 'NR == 2 { print $c }' "$csv")
		p=$(awk -F, -v c="$(csv_col "$csv" unreclaimed_peak)" 'NR == 2 { print $c }' "$csv")
		[ "$r" -gt 0 ] && [ $((p * 100)) -ge $((r * 99)) ]
		check $? "alloc=$pre: the param reaches the re-executed cell (stall=1: ebr holds back $p of $r retired)"
		n=$(awk -F, -v c="$(csv_col "$out/samples.csv" alloc)" -v a="$pre" 'NR > 1 && $c == a' "$out/samples.csv" 2>/dev/null | wc -l)
		[ "$n" -ge 2 ]
		check $? "alloc=$pre: the re-executed cell samples into samples.csv ($n rows with alloc=$pre)"
		cx=$(awk -F, -v c="$(csv_col "$csv" ctx_switches)" 'NR == 2 { print $c }' "$csv")
		if printf '%s\n' "$list" | grep -E '^  perf::CONTEXT-SWITCHES ' | grep -q "not available"; then
			[ -z "$cx" ]
			check $? "alloc=$pre: ctx_switches empty, as list says the counter is not available ('$cx')"
		else
			[ -n "$cx" ]
			check $? "alloc=$pre: ctx_switches counted in the re-executed cell ('$cx'), as list says it is available"
		fi
	fi
	# Another library preloaded under this allocator's name: the cell's check fails it.
	other=
	for a in jemalloc mimalloc tcmalloc; do
		[ "$a" != "$pre" ] && installed "$a" && { other=$a; break; }
	done
	if [ -z "$other" ]; then
		skip "alloc: the in-cell check catches a wrong library" "only one preloaded allocator installed"
	else
		lib=$("$SMRBENCH" sysinfo | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["allocators"][sys.argv[1]]["library"])' "$other")
		var=SMRBENCH_ALLOC_LIB_$(echo "$pre" | tr a-z A-Z)
		out=$TMPD/wrong
		env "$var=$lib" "$SMRBENCH" run -w treiber -s ebr -d 0.1 -P alloc="$pre" -o "$out" >/dev/null 2>"$out.stderr"
		rc=$?
		if [ "$rc" -eq 1 ] && grep -q "alloc=$pre: .*not loaded" "$out/failures.log" 2>/dev/null &&
			[ "$(wc -l <"$out/runs.csv")" -eq 1 ]; then
			ok "alloc=$pre with $other's library preloaded under its name: the cell fails, no row: $(cat "$out/failures.log")"
		else
			not_ok "alloc=$pre with $other's library ($var=$lib): want exit 1, no row and the check's message; got exit $rc"
			diag_file "$out.stderr"
		fi
	fi
fi

# ---- usage errors ----
known=$(echo $allocs | sed 's/ /, /g')
usage_error "unknown allocator" "'hoard'" "known: $known" -- run -w treiber -s ebr -d 0.1 -P alloc=glibc,hoard
if sanitized_malloc; then
	skip "alloc not installed" "the $SANITIZER tree refuses every preloaded allocator first (tested above)"
else
	SMRBENCH_ALLOC_LIB_JEMALLOC=$TMPD/nosuch/libjemalloc.so.2
	export SMRBENCH_ALLOC_LIB_JEMALLOC
	usage_error "not installed (SMRBENCH_ALLOC_LIB_JEMALLOC at a missing file)" \
		"alloc=jemalloc" "not installed" "libjemalloc2" "scripts/setup.sh" -- \
		run -w treiber -s ebr -d 0.1 -P alloc=jemalloc
	unset SMRBENCH_ALLOC_LIB_JEMALLOC
fi

# ---- list and machine.json ----
printf '%s\n' "$list" | grep -qE '^default allocator: [a-z]+$'
check $? "alloc: smrbench list names the default allocator ($(printf '%s\n' "$list" | sed -n 's/^default allocator: //p'))"
bad=$(printf '%s\n' "$list" | awk '/^[^ ]/ { sec = $1; next } sec == "allocators:" && /^  [^ ]/ && !/installed: (yes|no) / { print $1 }')
[ -z "$bad" ] && [ "$(echo $allocs | wc -w)" -eq 5 ]
check $? "alloc: smrbench list shows 5 allocators, each installed yes or no ($(echo $allocs))"
"$SMRBENCH" sysinfo >"$TMPD/machine.json" 2>/dev/null
"$PY" - "$TMPD/machine.json" $allocs >"$TMPD/mj.out" 2>&1 <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
a = m["allocators"]
assert sorted(a) == sorted(sys.argv[2:]), sorted(a)
for name, d in a.items():
    assert set(d) >= {"library", "package", "version", "installed"}, (name, d)
    assert isinstance(d["installed"], bool) and d["version"], (name, d)
assert m["default_alloc"] in a, m["default_alloc"]
print("default %s; %s" % (m["default_alloc"], ", ".join("%s %s" % (k, v["version"]) for k, v in a.items())))
EOF
check $? "alloc: machine.json's allocators (library, package, version, installed) and default_alloc: $(tail -n 1 "$TMPD/mj.out")"
tap_done
