#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/peers.sh - the peers (harness/peers.c): Niksic's LazyTransform (2017) in
# Java (jvm) and Rust (crossbeam-epoch), run by smrbench as child processes.
#
# For each peer that `smrbench list` shows as built:
#  - every payload, 2 readers, the default period and period=0 (a new source
#    on every producer turn: the transform and the reclamation run all the
#    time): verify=ok.  The peer checks that a get returns a value the
#    producer published (its sequence number never goes back, never passes
#    what was published, and the payload holds that number's value);
#    crossbeam-epoch also that every cell retired for drop was dropped once
#    and every emptied source freed once (its drop and free counts equal
#    what it retired, after the collector ran everything); jvm, that every
#    rc clone was given back (the count is 1 at the end).
#  - the row: object_bytes and unreclaimed_peak empty (not measured, never
#    zero), runtime named, crossbeam-epoch's retired == reclaimed > 0, jvm's
#    gc_count and gc_ms filled.
#  - a planted fault (the peer run directly): verify must say fail.
#  - usage errors: one line, exit 2.
# A peer that is not built is skipped with configure's reason.
. "${srcdir:-.}/tests/lib.sh"

d=$(scaled 0.3)
list=$("$SMRBENCH" list)
built=$(printf '%s\n' "$list" | awk '/^[^ ]/ { sec = $1; next } sec == "peers:" && $2 == "built:" && $3 == "yes" { print $1 }')
if [ -z "$built" ]; then
	why=$(printf '%s\n' "$list" | awk '/^[^ ]/ { sec = $1; next } sec == "peers:" { sub(/.*not built: /, ""); print; exit }')
	echo "1..0 # SKIP no peer is built here: ${why:-smrbench list shows no peers}"
	exit 77
fi

# col CSV ROW NAME: the value of column NAME in data row ROW (1-based).
col() { awk -F, -v r="$2" -v c="$(csv_col "$1" "$3")" 'NR == r + 1 { print (c ? $c : "MISSING") }' "$1"; }

for peer in jvm crossbeam-epoch; do
	if ! printf '%s\n' "$built" | grep -qx "$peer"; then
		why=$(printf '%s\n' "$list" | awk -v p="$peer" '/^[^ ]/ { sec = $1; next } sec == "peers:" && $1 == p { sub(/.*not built: /, ""); print }')
		skip "$peer" "not built: $why"
		continue
	fi
	out=$TMPD/$peer
	"$SMRBENCH" run -w lazy -s "$peer" -t 2 -d "$d" -P payload=u64,box,rc,str:3,str:128 -P period=10000,0 \
		-o "$out" >/dev/null 2>"$out.stderr"
	if run_failed "$peer: lazy, every payload, period 10000 and 0" $? "$out"; then
		continue
	fi
	csv=$out/runs.csv
	has_cols "$peer" "$csv" verify object_bytes unreclaimed_peak runtime gc_count gc_ms retired reclaimed || continue
	rows=$(($(wc -l <"$csv") - 1))
	check "$([ "$rows" -eq 10 ] && echo 0 || echo 1)" "$peer: 10 rows ($rows)"
	bad=
	r=1
	while [ "$r" -le "$rows" ]; do
		what="payload=$(col "$csv" $r payload) period=$(col "$csv" $r period)"
		[ "$(col "$csv" $r verify)" = ok ] || bad="$bad; $what: verify"
		[ -z "$(col "$csv" $r object_bytes)" ] || bad="$bad; $what: object_bytes not empty"
		[ -z "$(col "$csv" $r unreclaimed_peak)" ] || bad="$bad; $what: unreclaimed_peak not empty"
		[ -n "$(col "$csv" $r runtime)" ] || bad="$bad; $what: no runtime"
		if [ "$peer" = jvm ]; then
			[ -n "$(col "$csv" $r gc_count)" ] && [ -n "$(col "$csv" $r gc_ms)" ] || bad="$bad; $what: gc columns empty"
			[ -z "$(col "$csv" $r retired)" ] || bad="$bad; $what: retired not empty (the GC retires nothing it tells)"
		else
			ret=$(col "$csv" $r retired) rec=$(col "$csv" $r reclaimed)
			[ -n "$ret" ] && [ "$ret" -gt 0 ] && [ "$ret" = "$rec" ] || bad="$bad; $what: retired $ret reclaimed $rec"
			[ -z "$(col "$csv" $r gc_count)" ] || bad="$bad; $what: gc_count not empty"
		fi
		r=$((r + 1))
	done
	if [ -z "$bad" ]; then
		ok "$peer: every row verify=ok, its columns filled or empty as measured"
	else
		not_ok "$peer:${bad#;}"
		diag_file "$csv"
	fi
done

# Planted faults, run directly (the protocol: key=value words in, one result line out).
if printf '%s\n' "$built" | grep -qx jvm; then
	res=$(echo | "${JAVA:-java}" -cp "$builddir/peers/jvm" LazyPeer threads=2 duration="$d" payload=u64 period=0 plant=wrong 2>&1 | tail -n 1)
	case $res in
	*verify=fail:*) ok "jvm: plant=wrong (a cell with another sequence's payload) fails verify" ;;
	*) not_ok "jvm: plant=wrong was not caught: $res" ;;
	esac
fi
if printf '%s\n' "$built" | grep -qx crossbeam-epoch; then
	res=$(echo | "$builddir/peers/crossbeam/smrb-crossbeam" threads=2 duration="$d" payload=str:8 period=0 plant=leak 2>&1 | tail -n 1)
	case $res in
	*verify=fail:dropped_*) ok "crossbeam-epoch: plant=leak (values never deferred) fails verify on the drop count" ;;
	*) not_ok "crossbeam-epoch: plant=leak was not caught: $res" ;;
	esac
fi

# Usage errors: one line on stderr, exit 2, no results folder.
peer=$(printf '%s\n' "$built" | head -n 1)
expect_usage() {
	_what=$1
	shift
	"$@" >/dev/null 2>"$TMPD/err"
	st=$?
	if [ "$st" -eq 2 ] && [ "$(wc -l <"$TMPD/err")" -eq 1 ]; then
		ok "$_what: exit 2, one line: $(cat "$TMPD/err")"
	else
		not_ok "$_what: exit $st, $(wc -l <"$TMPD/err") lines"
		diag_file "$TMPD/err"
	fi
}
expect_usage "$peer on another workload" "$SMRBENCH" run -w treiber -s "$peer" -d 0.1 -o "$TMPD/u1"
expect_usage "$peer with -P stall=1" "$SMRBENCH" run -w lazy -s "$peer" -d 0.1 -P stall=1 -o "$TMPD/u2"
expect_usage "$peer with a bad payload" "$SMRBENCH" run -w lazy -s "$peer" -d 0.1 -P payload=str:0 -o "$TMPD/u3"
if printf '%s\n' "$built" | grep -qx crossbeam-epoch; then
	expect_usage "crossbeam-epoch peer run directly with a bad argument" \
		"$builddir/peers/crossbeam/smrb-crossbeam" payload=list
fi
tap_done
