#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""compare_test.py - unit tests of scripts/compare.py (and merge_runs.py) on
synthetic runs.csv files, as TAP.  Exit 1 if any test failed, so it also works
under automake's plain test driver.

Every CSV has smrbench's real layout (harness/runner.c): the identity and
measured columns through `ended` (alloc and object_bytes after rep), then one
column per param, with another scheme's param left empty, so the tests
exercise the parsing a real run needs.  legacy=True writes the layout from
before the alloc column, as the committed baselines have it.
"""

import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COMPARE = os.path.join(HERE, "..", "scripts", "compare.py")
MERGE = os.path.join(HERE, "..", "scripts", "merge_runs.py")

MEASURED = ("workload,scheme,threads,rep,alloc,object_bytes,duration_s,ops,ns_per_op,ops_per_s,cycles_per_op,"
            "instr_per_op,l1d_miss_per_op,llc_miss_per_op,br_miss_per_op,ctx_switches,page_faults,migrations,"
            "retired,reclaimed,unreclaimed_peak,rss_peak_kb,pin,verify,ended").split(",")
LEGACY_MEASURED = [c for c in MEASURED if c not in ("alloc", "object_bytes")]
OBJECT_BYTES = {"none": "24", "ebr": "40", "qsbr": "40"}
PARAMS = ["payload", "period", "ebr_batch", "qsbr_k", "qsbr_batch"]
SCHEME_PARAMS = {"none": {}, "ebr": {"ebr_batch": "64"}, "qsbr": {"qsbr_k": "100", "qsbr_batch": "64"}}

TMP = tempfile.mkdtemp(prefix="compare_test.")
_count = [0]


def write_run(ns, reps=5, period="10000", machine=1.0, params=PARAMS, threads=(1, 2), extra_col=None,
              allocs=("glibc",), legacy=False, object_bytes=OBJECT_BYTES):
    """A results folder.  ns(scheme, threads, rep) gives ns_per_op before the
    machine factor (or a dict alloc -> such a function); rows are written in
    smrbench's order (reps outermost, then the allocator)."""
    _count[0] += 1
    d = os.path.join(TMP, "run%d" % _count[0])
    os.mkdir(d)
    cols = (LEGACY_MEASURED if legacy else MEASURED) + list(params) + ([extra_col] if extra_col else [])
    with open(os.path.join(d, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, restval="", lineterminator="\n")
        w.writeheader()
        for rep in range(1, reps + 1):
            for alloc in allocs:
                fn = ns[alloc] if isinstance(ns, dict) else ns
                for t in threads:
                    for s in ("none", "ebr", "qsbr"):
                        v = fn(s, t, rep) * machine
                        row = {"workload": "lazy", "scheme": s, "threads": t, "rep": rep, "alloc": alloc,
                               "object_bytes": object_bytes[s], "duration_s": "0.5000",
                               "ops": int(0.5e9 * t / v), "ns_per_op": "%.4f" % v, "pin": "compact",
                               "verify": "ok", "ended": "duration", "payload": "u64", "period": period}
                        row.update(SCHEME_PARAMS[s])
                        if extra_col:
                            row[extra_col] = "x"
                        w.writerow({k: v for k, v in row.items() if k in cols})
    return d


def steady(ratios, jitter=0.01, seed=1, base=None):
    """ns(scheme, t, rep): none at base ns, others at ratio x none, with a
    small deterministic per-rep jitter (a quiet machine)."""
    rnd = random.Random(seed)
    table = {}

    def ns(s, t, rep):
        if (s, t, rep) not in table:
            none = (base or {}).get(rep, 1.2) * (1 + 0.1 * (t - 1))
            r = 1.0 if s == "none" else ratios[(s, t)] if (s, t) in ratios else ratios[s]
            table[(s, t, rep)] = none * r * (1 + rnd.uniform(-jitter, jitter))
        return table[(s, t, rep)]
    return ns


def compare(old, new, *opts):
    p = subprocess.run([sys.executable, COMPARE] + list(opts) + [old, new],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    return p.returncode, p.stdout, p.stderr


def verdict_of(out, cell):
    """The verdict column of the table row of `cell` ("lazy ebr t=1")."""
    for line in out.splitlines():
        if line.startswith(cell + " "):
            return line.split("%")[-1].strip()
    return None


tests = []


def test(fn):
    tests.append(fn)
    return fn


BASE = {"ebr": 2.0, "qsbr": 0.9}


@test
def no_change():
    """no change: two quiet runs of the same code pass, every cell 'ok'"""
    old = write_run(steady(BASE, seed=1))
    new = write_run(steady(BASE, seed=2))
    rc, out, err = compare(old, new)
    assert rc == 0, (rc, out, err)
    assert "REGRESSION" not in out and "improved:" not in out, out
    for c in ("lazy ebr t=1", "lazy ebr t=2", "lazy qsbr t=1", "lazy qsbr t=2"):
        assert verdict_of(out, c) == "ok", (c, verdict_of(out, c), out)
    assert "4 cell(s) compared: 0 regressed, 0 improved" in out, out


@test
def slower_machine():
    """a uniformly 1.6x slower machine is not a regression (ratios to none)"""
    old = write_run(steady(BASE, seed=1))
    new = write_run(steady(BASE, seed=2), machine=1.6)
    rc, out, err = compare(old, new)
    assert rc == 0 and "REGRESSION" not in out, (rc, out, err)
    # none's absolute ns/op is shown, about 60% slower
    none = [l for l in out.splitlines() if l.startswith("lazy none t=1 ")]
    assert none and "(normaliser)" in none[0], out
    assert 50 < float(none[0].split("%")[0].split()[-1]) < 70, none


@test
def regression():
    """a real regression (ebr t=2: ratio 2.0 -> 2.6) is flagged, named with its ratios, exit 1"""
    old = write_run(steady(BASE, seed=1))
    new = write_run(steady({**BASE, ("ebr", 2): 2.6}, seed=2))
    rc, out, err = compare(old, new)
    assert rc == 1, (rc, out, err)
    assert verdict_of(out, "lazy ebr t=2") == "REGRESSED", out
    assert verdict_of(out, "lazy ebr t=1") == "ok", out
    lines = [l for l in out.splitlines() if l.startswith("REGRESSION:")]
    assert len(lines) == 1, out
    assert lines[0].startswith("REGRESSION: lazy ebr t=2 "), lines
    # the ratios (2.0 and 2.6, within the 1% jitter) and the change are named
    nums = lines[0].split("ratio to none ")[1].split(" ")
    assert abs(float(nums[0]) - 2.0) < 0.05 and nums[1] == "->" and abs(float(nums[2]) - 2.6) < 0.05, lines
    assert "+30." in lines[0] or "+29." in lines[0] or "+31." in lines[0], lines


@test
def noisy_unchanged():
    """a noisy but unchanged cell (reps spread +-35%, median moved 20%) is not flagged"""
    # qsbr t=1's reps: wide spread in both runs; the medians differ by ~20%
    # (above the 15% minimum) only because of that noise.
    old_r = [0.6, 0.9, 1.0, 1.2, 1.4]
    new_r = [0.7, 1.0, 1.2, 1.3, 1.5]

    def ns_of(rs, seed):
        base = steady(BASE, seed=seed)
        return lambda s, t, rep: base("none", t, rep) * rs[rep - 1] if (s, t) == ("qsbr", 1) else base(s, t, rep)
    old = write_run(ns_of(old_r, 1))
    new = write_run(ns_of(new_r, 2))
    rc, out, err = compare(old, new)
    assert rc == 0, (rc, out, err)
    v = verdict_of(out, "lazy qsbr t=1")
    assert v == "ok (noisy)", (v, out)


@test
def hiccup_in_one_rep():
    """slow moments hitting one rep of every scheme alike cancel out (per-rep normalisation): unchanged cells stay ok, a 30% regression is still flagged"""
    old = write_run(steady(BASE, seed=1))
    # reps 2..5 of NEW ran 1.5x to 3x slower, a different amount each time;
    # ebr t=1 also regressed 30%.  Normalising by a none pooled over the reps
    # would turn those moments into a band too wide to see the regression.
    new = write_run(steady({**BASE, ("ebr", 1): 2.6}, seed=2, base={2: 1.8, 3: 3.6, 4: 2.4, 5: 3.0}))
    rc, out, err = compare(old, new)
    assert rc == 1, (rc, out, err)
    for c in ("lazy ebr t=2", "lazy qsbr t=1", "lazy qsbr t=2"):
        assert verdict_of(out, c) == "ok", (c, out)
    assert verdict_of(out, "lazy ebr t=1") == "REGRESSED", out


@test
def mismatched_params():
    """mismatched workload params are refused: exit 2, one line naming them"""
    old = write_run(steady(BASE, seed=1))
    new = write_run(steady(BASE, seed=2), period="1000")
    rc, out, err = compare(old, new)
    assert rc == 2, (rc, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "params differ" in lines[0] and "period=10000" in lines[0] \
        and "period=1000" in lines[0], err
    assert out == "", out


@test
def mismatched_columns():
    """runs with different columns are refused: exit 2, naming the column"""
    old = write_run(steady(BASE, seed=1))
    new = write_run(steady(BASE, seed=2), extra_col="stall_ms")
    rc, out, err = compare(old, new)
    assert rc == 2 and "columns differ" in err and "stall_ms" in err and len(err.strip().splitlines()) == 1, (rc, err)


@test
def improvement():
    """an improvement (qsbr t=1: 0.9 -> 0.6) is reported, exit 0"""
    old = write_run(steady(BASE, seed=1))
    new = write_run(steady({**BASE, ("qsbr", 1): 0.6}, seed=2))
    rc, out, err = compare(old, new)
    assert rc == 0, (rc, out, err)
    assert verdict_of(out, "lazy qsbr t=1") == "improved", out
    assert any(l.startswith("improved: lazy qsbr t=1 ") for l in out.splitlines()), out
    assert "0 regressed, 1 improved" in out, out


@test
def min_effect_option():
    """a clear 8% slowdown passes at the default 15% minimum and is flagged with --min-effect 5"""
    old = write_run(steady(BASE, seed=1, jitter=0.005))
    new = write_run(steady(dict(BASE, ebr=2.16), seed=2, jitter=0.005))
    rc, out, err = compare(old, new)
    assert rc == 0 and verdict_of(out, "lazy ebr t=1") == "ok (small)", (rc, out)
    rc, out, err = compare(old, new, "--min-effect", "5")
    assert rc == 1 and verdict_of(out, "lazy ebr t=1") == "REGRESSED", (rc, out)


@test
def runs_csv_paths_and_missing_cells():
    """runs.csv paths work too; a thread count only one run has is noted, not compared"""
    old = write_run(steady(BASE, seed=1))
    new = write_run(steady(BASE, seed=2), threads=(1,))
    rc, out, err = compare(os.path.join(old, "runs.csv"), os.path.join(new, "runs.csv"))
    assert rc == 0, (rc, out, err)
    assert "note: lazy ebr t=2 is in OLD only" in out, out
    rc, out, err = compare(old, new, "--strict")
    assert rc == 2 and "missing from NEW" in err, (rc, err)


@test
def merged_file_missing_a_workload():
    """a merged run lacking a workload (and its param columns) compares on the rest"""
    old = write_run(steady(BASE, seed=1))
    new = write_run(steady(BASE, seed=2))
    # OLD: lazy and a second workload with a param of its own, merged
    treiber = write_run(steady(BASE, seed=3), params=[], extra_col="prefill")
    path = os.path.join(treiber, "runs.csv")
    with open(path) as f:
        text = f.read().replace("lazy,", "treiber,")
    with open(path, "w") as f:
        f.write(text)
    merged = os.path.join(TMP, "merged_old")
    os.mkdir(merged)
    p = subprocess.run([sys.executable, MERGE, os.path.join(merged, "runs.csv"),
                        os.path.join(old, "runs.csv"), path])
    assert p.returncode == 0
    rc, out, err = compare(merged, new)
    assert rc == 0 and "4 cell(s) compared" in out, (rc, out, err)
    assert "note: workload treiber is in OLD only" in out, out


@test
def no_normaliser():
    """a run without the 'none' scheme cannot be normalised: exit 2"""
    old = write_run(steady(BASE, seed=1))
    new = write_run(steady(BASE, seed=2))
    path = os.path.join(new, "runs.csv")
    with open(path) as f:
        kept = [l for l in f if ",none," not in l]
    with open(path, "w") as f:
        f.writelines(kept)
    rc, out, err = compare(old, new)
    assert rc == 2 and "no 'none' rows" in err, (rc, err)


@test
def merge_union_of_params():
    """merge_runs.py keeps the measured columns and takes the union of the params"""
    a = write_run(steady(BASE, seed=1), reps=1)
    b = write_run(steady(BASE, seed=2), reps=1, params=["payload", "period", "ebr_batch"])
    out = os.path.join(TMP, "merged.csv")
    p = subprocess.run([sys.executable, MERGE, out, os.path.join(b, "runs.csv"), os.path.join(a, "runs.csv")])
    assert p.returncode == 0
    with open(out, newline="") as f:
        r = csv.DictReader(f)
        rows = list(r)
    assert r.fieldnames == MEASURED + ["payload", "period", "ebr_batch", "qsbr_k", "qsbr_batch"], r.fieldnames
    assert len(rows) == 12 and rows[0]["qsbr_k"] == "" and rows[-1]["qsbr_k"] == "100", rows


@test
def legacy_baseline():
    """a baseline from before the alloc column compares with a new run as alloc=glibc, and says so"""
    old = write_run(steady(BASE, seed=1), legacy=True)
    new = write_run(steady(BASE, seed=2))
    rc, out, err = compare(old, new)
    assert rc == 0 and "REGRESSION" not in out, (rc, out, err)
    assert "OLD has no alloc column" in out and "alloc=glibc" in out, out
    assert "4 cell(s) compared: 0 regressed, 0 improved" in out, out


@test
def allocators_are_cells():
    """each allocator is its own cell, normalised to its own none: a slower allocator is no regression; a regression under one is named with alloc=, the other stays ok"""
    old = write_run({"glibc": steady(BASE, seed=1), "jemalloc": steady(BASE, seed=3)},
                    allocs=("glibc", "jemalloc"))
    worse = dict(BASE)
    worse[("ebr", 1)] = 3.0
    slow_none = steady(worse, seed=4, base={r: 1.2 * 1.5 for r in range(1, 6)})
    new = write_run({"glibc": steady(BASE, seed=2), "jemalloc": slow_none}, allocs=("glibc", "jemalloc"))
    rc, out, err = compare(old, new)
    assert rc == 1, (rc, out, err)
    assert "8 cell(s) compared: 1 regressed" in out, out
    assert verdict_of(out, "lazy ebr t=1 alloc=jemalloc") == "REGRESSED", out
    assert verdict_of(out, "lazy ebr t=1 alloc=glibc").startswith("ok"), out
    assert verdict_of(out, "lazy qsbr t=1 alloc=jemalloc").startswith("ok"), out
    reg = [l for l in out.splitlines() if l.startswith("REGRESSION:")]
    assert len(reg) == 1 and "alloc=jemalloc" in reg[0], reg


@test
def other_allocator_refused():
    """a run on another allocator than the baseline's is refused: exit 2, one line naming both"""
    old = write_run(steady(BASE, seed=1), legacy=True)
    new = write_run(steady(BASE, seed=2), allocs=("jemalloc",))
    rc, out, err = compare(old, new)
    lines = err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and "alloc=glibc" in lines[0] and "alloc=jemalloc" in lines[0], (rc, err)


@test
def object_bytes_noted():
    """a changed object_bytes is noted (a new node layout), never a reason to refuse"""
    old = write_run(steady(BASE, seed=1))
    new = write_run(steady(BASE, seed=2), object_bytes=dict(OBJECT_BYTES, ebr="48"))
    rc, out, err = compare(old, new)
    assert rc == 0, (rc, out, err)
    assert "object_bytes of lazy ebr (alloc=glibc) changed: 40 in OLD, 48 in NEW" in out, out


def sessions_of(dirs, seeds_out):
    """Merge the runs.csv of `dirs`, as sessions 1..n (merge_runs.py --session,
    then merged again, as the committed per-kind baselines of results/history
    were made)."""
    parts = []
    for i, d in enumerate(dirs, 1):
        part = os.path.join(d, "session.csv")
        p = subprocess.run([sys.executable, MERGE, "--session", str(i), part, os.path.join(d, "runs.csv")])
        assert p.returncode == 0
        parts.append(part)
    os.mkdir(seeds_out)
    p = subprocess.run([sys.executable, MERGE, os.path.join(seeds_out, "runs.csv")] + parts)
    assert p.returncode == 0
    return seeds_out


@test
def drift_between_sessions():
    """a cell that drifts between runs of unchanged code (ebr t=2 at 2.0, 2.9, 2.1 in three sessions) passes against a 3-session baseline, is flagged against one session alone, and a real regression beyond every session (3.8) is still flagged"""
    runs = [write_run(steady({**BASE, ("ebr", 2): r}, seed=i)) for i, r in enumerate((2.0, 2.9, 2.1), 1)]
    base = sessions_of(runs, os.path.join(TMP, "three_sessions"))
    with open(os.path.join(base, "runs.csv")) as f:
        header = f.readline().strip().split(",")
    assert header[header.index("rep") + 1] == "session", header
    new = write_run(steady({**BASE, ("ebr", 2): 2.8}, seed=9))
    rc, out, err = compare(base, new)
    assert rc == 0 and verdict_of(out, "lazy ebr t=2") in ("ok", "ok (noisy)"), (rc, out, err)
    assert "5 reps in each of 3 sessions" in out, out
    rc, out, err = compare(runs[0], new)
    assert rc == 1 and verdict_of(out, "lazy ebr t=2") == "REGRESSED", (rc, out)
    worse = write_run(steady({**BASE, ("ebr", 2): 3.8}, seed=10))
    flagged = os.path.join(TMP, "flagged.txt")
    rc, out, err = compare(base, worse, "--flagged", flagged)
    assert rc == 1 and verdict_of(out, "lazy ebr t=2") == "REGRESSED", (rc, out)
    assert verdict_of(out, "lazy ebr t=1") == "ok", out
    with open(flagged) as f:
        assert f.read() == "lazy ebr 2\n"


@test
def flagged_file_empty_when_clean():
    """--flagged writes an empty file when nothing regressed (a stale list never survives)"""
    old = write_run(steady(BASE, seed=1))
    new = write_run(steady(BASE, seed=2))
    flagged = os.path.join(TMP, "flagged_clean.txt")
    with open(flagged, "w") as f:
        f.write("lazy ebr 1\n")
    rc, out, err = compare(old, new, "--flagged", flagged)
    assert rc == 0, (rc, out, err)
    with open(flagged) as f:
        assert f.read() == "", "stale flagged list kept"


def main():
    print("1..%d" % len(tests))
    failed = 0
    for i, fn in enumerate(tests, 1):
        desc = fn.__doc__.strip().splitlines()[0]
        try:
            fn()
            print("ok %d - %s" % (i, desc))
        except Exception as e:  # an assertion, or compare.py misbehaving
            failed += 1
            print("not ok %d - %s" % (i, desc))
            for line in repr(e).splitlines()[:40]:
                print("# " + line)
    shutil.rmtree(TMP, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
