#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""duet_test.py - TAP: make bench-ci's duet (scripts/duet.py, bench.py --baseline*).

1. The verdict on synthetic paired ratios: a slow moment of the machine,
   which falls on both sides of a pair, cancels; a 10% slower scheme with
   quiet repetitions is flagged, one outlier repetition is not, repetitions
   that scatter around 1 are not, an improvement mirrors a regression.
2. The mechanics, on tiny real runs (lazy, none/ebr/qsbr, 1 thread, 0.05 s
   cells): wrappers around smrbench rewrite each row's ns_per_op with fixed
   values (none 10, qsbr 11, ebr 20, or 40 when slowed), so the verdicts are
   the decision logic's, not the machine's: cells interleave base/head, a
   slowdown is confirmed and named (exit 1), a one-off slow run is re-run and
   passes, --no-confirm fails at once, a missing revision is a one-line error
   (exit 2), `duet.py accept` records HEAD and refuses a dirty tree.
Takes about 15 s.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
SCRIPTS = os.path.join(SRC, "scripts")
sys.path.insert(0, SCRIPTS)
import duet  # noqa: E402
import smrb_results as R  # noqa: E402

BUILD = os.environ.get("builddir", ".")
SMRBENCH = os.path.abspath(os.path.join(BUILD, "smrbench"))
PY = sys.executable
sys.path.insert(0, HERE)
# The TAP line and its failure count: one definition for the Python tests.
import report_test as T  # noqa: E402
from report_test import ok  # noqa: E402


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kw)


# ---- 1. the verdict ----

def rows(ns, reps=5, machine=lambda r: 1.0):
    """runs.csv-like rows: ns(scheme, rep) before the machine's factor for that rep."""
    out = []
    for r in range(1, reps + 1):
        for s in ("none", "ebr", "qsbr"):
            out.append({"workload": "lazy", "scheme": s, "threads": "1", "rep": str(r),
                        "ns_per_op": "%.4f" % (ns(s, r) * machine(r)), "verify": "ok", "ended": "",
                        "payload": "u64", "ebr_batch": "64" if s == "ebr" else ""})
    return out


def verdict_of(base, head, scheme):
    for k, n, lo, med, hi, slower, v in duet.verdicts(base, head, duet.MIN_EFFECT):
        if k[1] == scheme:
            return v, med
    return None, None


BASE = {"none": 10.0, "ebr": 20.0, "qsbr": 11.0}
wobble = lambda r: 1 + 0.01 * (r % 3)          # a small, rep-dependent noise
base = rows(lambda s, r: BASE[s] * wobble(r))
moods = lambda r: 1.7 if r == 2 else 1.3 if r == 4 else 1.0   # the machine, slow in reps 2 and 4
v, med = verdict_of(rows(lambda s, r: BASE[s] * wobble(r), machine=moods),
                    rows(lambda s, r: BASE[s] * wobble(r), machine=moods), "ebr")
ok(v == "ok" and abs(med - 1) < 1e-9, "a machine 30-70% slower in some reps, for both sides of each pair: cancels (q=1)",
   (v, med))
v, med = verdict_of(base, rows(lambda s, r: BASE[s] * (1.10 if s == "ebr" else 1) * wobble(r)), "ebr")
ok(v == "REGRESSED" and abs(med - 1.10) < 0.01, "ebr 10% slower in every rep: REGRESSED", (v, med))
ok(verdict_of(base, rows(lambda s, r: BASE[s] * wobble(r)), "qsbr")[0] == "ok", "an unchanged scheme: ok")
uneven = {1: 1.13, 2: 1.02, 3: 1.15, 4: 0.99, 5: 1.12}             # a 10% slowdown as the demo measured it
v, med = verdict_of(base, rows(lambda s, r: BASE[s] * (uneven[r] if s == "ebr" else 1) * wobble(r)), "ebr")
ok(v == "REGRESSED", "ebr ~10% slower in 4 of 5 reps, one rep even (lower quartile +2%): REGRESSED", (v, med))
v, med = verdict_of(base, rows(lambda s, r: BASE[s] * (2.0 if s == "ebr" and r == 3 else 1) * wobble(r)), "ebr")
ok(v == "ok", "one repetition of ebr 2x slower (an outlier): not flagged", (v, med))
v, med = verdict_of(base, rows(lambda s, r: BASE[s] * (0.8 if s == "ebr" else 1) * wobble(r)), "ebr")
ok(v == "improved", "ebr 20% faster: improved", (v, med))
v, med = verdict_of(base, rows(lambda s, r: BASE[s] * (1.03 if s == "ebr" else 1) * wobble(r)), "ebr")
ok(v == "ok", "ebr 3%% slower, under the %g%% minimum effect: ok" % (100 * duet.MIN_EFFECT), (v, med))
scatter = {1: 1.12, 2: 0.93, 3: 1.09, 4: 0.97, 5: 1.15}            # a sub-ns get, process to process
v, med = verdict_of(base, rows(lambda s, r: BASE[s] * (scatter[r] if s == "qsbr" else 1) * wobble(r)), "qsbr")
ok(v == "suspect" and med > 1 + duet.MIN_EFFECT,
   "repetitions that scatter around 1 (median +9%%): not flagged, suspect (re-run to decide)", (v, med))
v, med = verdict_of(base, rows(lambda s, r: BASE[s] * (1.10 if s == "none" else 1) * wobble(r)), "none")
ok(v == "REGRESSED", "none is judged too: a slower harness or workload shows there", (v, med))

# ---- 2. the mechanics ----
if not os.access(SMRBENCH, os.X_OK):
    print("1..%d" % T.n_test)
    print("# no smrbench at %s: mechanics not tested" % SMRBENCH)
    sys.exit(1)

TMP = tempfile.mkdtemp(prefix="duet_test.")
bench_dir = os.path.join(TMP, "bench")
os.makedirs(bench_dir)
with open(os.path.join(bench_dir, "sets.conf"), "w") as f:
    f.write("[ci]\nbudget = 0\nmin_duration = 0.05\n")
with open(os.path.join(bench_dir, "ci-t.exp"), "w") as f:
    f.write("[experiment]\ntitle = t\nworkload = lazy\nschemes = none, ebr, qsbr\nthreads = 1\n"
            "duration = 0.05\nreps = 3\nfigure = none\nsets = ci\n")

WRAPPER = r'''#!%(py)s
# smrbench, then fixed ns_per_op values in the runs.csv it wrote (mode %(mode)s)
import csv, json, os, subprocess, sys
if %(mode)r == "old" and sys.argv[1:3] == ["list", "--json"]:   # a revision without qsbr
    j = json.loads(subprocess.check_output([%(smrbench)r, "list", "--json"]))
    j["schemes"] = [x for x in j["schemes"] if x["name"] != "qsbr"]
    print(json.dumps(j))
    sys.exit(0)
rc = subprocess.call([%(smrbench)r] + sys.argv[1:])
out = sys.argv[sys.argv.index("-o") + 1] if "-o" in sys.argv else None
if out and os.path.exists(os.path.join(out, "runs.csv")):
    p = os.path.join(out, "runs.csv")
    rows = list(csv.DictReader(open(p, newline="")))
    slow = %(mode)r == "always" or (%(mode)r == "first" and "/confirm/" not in out)
    for r in rows:
        # suspect: the first run's reps 1 and 2 slow, rep 3 even (2 of 3 disagree); every confirm rep slow
        slow_rep = slow or (%(mode)r == "suspect" and ("/confirm/" in out or int(r["rep"]) != 3))
        base = {"none": 10, "qsbr": 11, "ebr": 40 if slow_rep else 20}[r["scheme"]]
        r["ns_per_op"] = "%%.4f" %% (base * (1 + 0.01 * (int(r["rep"]) %% 3)))
    with open(p, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
sys.exit(rc)
'''
wrap = {}
for mode in ("steady", "first", "always", "old", "suspect"):
    wrap[mode] = os.path.join(TMP, "smrbench-" + mode)
    with open(wrap[mode], "w") as f:
        f.write(WRAPPER % {"py": PY, "mode": mode, "smrbench": SMRBENCH})
    os.chmod(wrap[mode], 0o755)


def duet_run(name, head, *extra, base="steady"):
    out = os.path.join(TMP, name)
    p = run([PY, os.path.join(SCRIPTS, "bench.py"), "--set", "ci", "--bench-dir", bench_dir,
             "--smrbench", wrap[head], "--baseline-smrbench", wrap[base], "--out", out] + list(extra))
    return p.returncode, p.stdout, out


rc, log, out = duet_run("same", "steady")
ok(rc == 0 and os.path.exists(os.path.join(out, "verdict.txt")), "unchanged: exit 0, verdict.txt written (got %d)" % rc, log)
order = [m.group(1) for m in re.finditer(r"\] (base|head) \[1/1\]", log)]
ok(len(order) == 18 and order[:6] == ["base", "head", "head", "base", "base", "head"]
   and order[6:8] == ["head", "base"],
   "cells interleave one by one, the order alternating and flipping in the next repetition", " ".join(order))
for side in duet.SIDES:
    n = len(duet.side_rows(out, side, ["ci-t"]))
    ok(n == 9, "%s: 3 schemes x 3 reps = 9 rows (got %d)" % (side, n))

rc, log, out = duet_run("slow", "always")
confirmed = open(os.path.join(out, "confirmed.txt")).read() if os.path.exists(os.path.join(out, "confirmed.txt")) else ""
ok(rc == 1 and confirmed.startswith("lazy ebr t=1") and "qsbr" not in confirmed
   and "CONFIRMED REGRESSION: lazy ebr t=1" in log and os.path.isdir(os.path.join(out, "ci-t", "confirm", "2", "head")),
   "ebr 2x slower: re-run in both stages of confirm/, CONFIRMED REGRESSION names lazy ebr t=1 only, exit 1 (got %d)" % rc, log)

rc, log, out = duet_run("noise", "first")
ok(rc == 0 and "not confirmed" in log and "REGRESSED" in open(os.path.join(out, "verdict.txt")).read(),
   "ebr slow in the first run only: flagged, not confirmed, exit 0 (got %d)" % rc, log)

rc, log, out = duet_run("suspect", "suspect")
first = open(os.path.join(out, "verdict.txt")).read()
confirmed = open(os.path.join(out, "confirmed.txt")).read() if os.path.exists(os.path.join(out, "confirmed.txt")) else ""
ok(rc == 1 and re.search(r"lazy ebr t=1 .* suspect", first) and "REGRESSED" not in first
   and confirmed.startswith("lazy ebr t=1") and "1 suspect cell(s) run again" in log,
   "ebr slower by the median, repetitions disagreeing (2 of 3): suspect, re-run, confirmed on the pool, exit 1 (got %d)"
   % rc, log)

rc, log, out = duet_run("newscheme", "steady", base="old")
ok(rc == 0 and "not compared (the baseline revision has no such scheme): qsbr" in log
   and R.load_plan(out).get("not_compared") == ["qsbr"]
   and {r["scheme"] for r in duet.side_rows(out, "head", ["ci-t"])} == {"none", "ebr"},
   "a scheme the baseline lacks: said, recorded in bench.json, left out of both sides, exit 0 (got %d)" % rc, log)

rc, log, out = duet_run("noconfirm", "first", "--no-confirm")
ok(rc == 1 and not os.path.exists(os.path.join(out, "ci-t", "confirm")),
   "--no-confirm: a flagged run fails at once, nothing re-run (got %d)" % rc, log)

p = run([PY, os.path.join(SCRIPTS, "bench.py"), "--set", "ci", "--bench-dir", bench_dir, "--smrbench", SMRBENCH,
         "--baseline", "0123456789abcdef0123", "--out", os.path.join(TMP, "norev")])
ok(p.returncode == 2 and "not in the git history" in p.stdout, "--baseline of an unknown revision: exit 2, said (got %d)"
   % p.returncode, p.stdout)

# accept: in a throw-away git repository, not this one.
repo = os.path.join(TMP, "repo")
os.makedirs(repo)
git = lambda *a: run(["git", "-C", repo, "-c", "user.email=t@t", "-c", "user.name=t"] + list(a))
if shutil.which("git") and git("init", "-q").returncode == 0:
    with open(os.path.join(repo, "f"), "w") as f:
        f.write("x\n")
    git("add", "f")
    git("commit", "-qm", "one")
    head = git("rev-parse", "HEAD").stdout.strip()
    p = run([PY, os.path.join(SCRIPTS, "duet.py"), "accept", "--srcdir", repo])
    rev = os.path.join(repo, "results", "baseline", "REVISION")
    ok(p.returncode == 0 and os.path.exists(rev) and duet.read_revision(repo) == head,
       "duet.py accept records HEAD in results/baseline/REVISION", p.stdout)
    with open(os.path.join(repo, "f"), "w") as f:
        f.write("y\n")
    p = run([PY, os.path.join(SCRIPTS, "duet.py"), "accept", "--srcdir", repo])
    ok(p.returncode == 2 and "uncommitted" in p.stdout, "duet.py accept refuses a dirty tree (exit 2)", p.stdout)
else:
    T.n_test += 1
    print("ok %d # SKIP git not usable here" % T.n_test)

shutil.rmtree(TMP, ignore_errors=True)
print("1..%d" % T.n_test)
sys.exit(1 if T.failed else 0)
