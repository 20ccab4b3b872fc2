#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""report_test.py - TAP: the bench runner, its resume, the harness's sampling and
stalled-thread mode, the figures and report.html, on a tiny real run.

Builds a throw-away set of experiments (lazy workload, schemes none and ebr,
cells of 0.05 s), runs scripts/bench.py into a temporary folder, renders
scripts/report.py, and checks every figure file exists and is referenced by
the report.  Then it removes some rows and checks that a rerun measures only
the missing cells.  Needs $builddir/smrbench; run by `make check` with
configure's Python (matplotlib).  Takes about 15 s.
"""
import csv
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
SCRIPTS = os.path.join(SRC, "scripts")
BUILD = os.environ.get("builddir", ".")
SMRBENCH = os.path.join(BUILD, "smrbench")
PY = sys.executable

n_test = 0
failed = 0


def ok(cond, what, detail=""):
    global n_test, failed
    n_test += 1
    if not cond:
        failed += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n_test, what))
    if not cond and detail:
        for line in str(detail).splitlines()[-15:]:
            print("# " + line)
    sys.stdout.flush()
    return cond


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


EXPS = {
    "sets.conf": """[t]
budget = 0
min_duration = 0.01
""",
    "t-bars.exp": """[experiment]
title = test bars
about = bars per payload
workload = lazy
schemes = none, ebr
threads = 1
duration = 0.05
reps = 2
figure = bars
x = payload
facet = threads
y = ns_per_op
plot = lazy_breakdown.gp
table = ns_per_op, unreclaimed_peak
sets = t
[params]
payload = u64, str:128
""",
    "t-lines.exp": """[experiment]
title = test lines
about = lines against threads, oversubscribed
workload = nosuchworkload, lazy
schemes = none, ebr, nosuchscheme
threads = 1, x2
duration = 0.05
reps = 2
figure = lines
x = threads
y = ns_per_op, mops
mark_pus = yes
plot = hart_threads.gp
table = ns_per_op, mops
sets = t
""",
    "t-stall.exp": """[experiment]
title = test stall
about = one stalled thread
workload = lazy
schemes = none, ebr
threads = 1
duration = 0.15
reps = 1
sample_ms = 10
figure = timeseries
series = scheme
facet = stall
y = unreclaimed
plot = stall_unreclaimed.gp
table = unreclaimed_peak
table_rows = stall
sets = t
[params]
payload = str:128
stall = 0, 1
""",
    "t-alloc.exp": """[experiment]
title = test alloc
about = two allocators, no facet: one figure and table per allocator
workload = lazy
schemes = none, ebr
threads = 1
duration = 0.05
reps = 1
figure = lines
x = threads
y = ns_per_op
plot = hart_threads.gp
sets = t
[params]
alloc = glibc, pool
""",
    "t-missing.exp": """[experiment]
title = test missing workload
workload = nosuchworkload
sets = t
""",
}


def main():
    print("1..33")
    if not os.access(SMRBENCH, os.X_OK):
        print("Bail out! no %s (build it first)" % SMRBENCH)
        return 1
    tmp = tempfile.mkdtemp(prefix="smrb-report-test.")
    try:
        return body(tmp)
    finally:
        if not failed:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("# kept %s" % tmp)


def body(tmp):
    bench_dir = os.path.join(tmp, "bench")
    os.makedirs(bench_dir)
    for name, text in EXPS.items():
        with open(os.path.join(bench_dir, name), "w") as f:
            f.write(text)
    out = os.path.join(tmp, "res")
    gnuplot = shutil.which("gnuplot") or ""
    base = [PY, os.path.join(SCRIPTS, "bench.py"), "--set", "t", "--smrbench", SMRBENCH,
            "--bench-dir", bench_dir, "--plots-dir", os.path.join(SCRIPTS, "plots"),
            "--gnuplot", gnuplot, "--out", out]

    # The plan and its estimate, without running.
    p = run(base[:-2] + ["--dry-run"])
    ok(p.returncode == 0 and "estimated time" in p.stderr, "bench.py --dry-run prints the plan",
       p.stderr)

    p = run(base)
    ok(p.returncode == 0, "bench.py runs the test set (exit 0)", p.stderr + p.stdout)
    ok(re.search(r"\[exp \d/\d t-bars\] \[\d+/\d+\] lazy .* \| set: \d+ cells, ~\d+[smh]", p.stderr)
       is not None, "one progress line per cell with the set's time left", p.stderr)
    ok("test bars" in p.stdout and "median of 2 reps" in p.stdout,
       "the per-op tables are printed", p.stdout)
    ok(os.path.exists(os.path.join(out, "t-missing", "skipped")),
       "an experiment whose workload is missing is skipped with a note")
    ok(os.path.exists(os.path.join(out, "machine.json")), "machine.json is beside the experiments")

    r = rows(os.path.join(out, "t-bars", "runs.csv"))
    ok(len(r) == 2 * 2 * 2, "t-bars: one row per scheme x payload x rep (8)", len(r))
    r = rows(os.path.join(out, "t-lines", "runs.csv"))
    threads = sorted({int(x["threads"]) for x in r})
    ok(len(threads) == 2 and threads[1] >= 2 * threads[0] and threads[1] > 1,
       "t-lines: 'x2' resolves to twice the PUs (oversubscription)", threads)
    ok({x["scheme"] for x in r} == {"none", "ebr"},
       "t-lines: a scheme this build lacks is left out, the others run", {x["scheme"] for x in r})

    # The harness's sampling and stalled-thread mode.
    s = rows(os.path.join(out, "t-stall", "samples.csv"))
    want = {"workload", "scheme", "threads", "rep", "alloc", "stall", "t_ms", "unreclaimed", "retired",
            "reclaimed", "rss_kb"}
    ok(s and want <= set(s[0]), "samples.csv has the cell's identity and the sampled columns",
       s[0] if s else "empty")
    ebr1 = [x for x in s if x["scheme"] == "ebr" and x["stall"] == "1"]
    ok(len(ebr1) >= 5, "samples every 10 ms over a 0.15 s cell (>= 5 rows)", len(ebr1))
    # What was retired before the first sample may still go; nothing after it.
    ok(ebr1 and int(ebr1[-1]["retired"]) > int(ebr1[0]["retired"])
       and int(ebr1[-1]["reclaimed"]) <= int(ebr1[0]["retired"])
       and int(ebr1[-1]["unreclaimed"]) > int(ebr1[0]["unreclaimed"]),
       "stall=1: EBR reclaims nothing retired while a thread stays pinned",
       [(x["t_ms"], x["retired"], x["reclaimed"]) for x in ebr1])
    ebr0 = [x for x in s if x["scheme"] == "ebr" and x["stall"] == "0"]
    ok(ebr0 and int(ebr0[-1]["reclaimed"]) > int(ebr0[0]["reclaimed"]),
       "stall=0: EBR reclaims during the run", [(x["t_ms"], x["reclaimed"]) for x in ebr0])

    # The report.
    p = run([PY, os.path.join(SCRIPTS, "report.py"), out])
    html_path = os.path.join(out, "report.html")
    ok(p.returncode == 0 and os.path.exists(html_path), "report.py writes report.html",
       p.stderr + p.stdout)
    html = open(html_path).read() if os.path.exists(html_path) else ""
    sys.path.insert(0, SCRIPTS)
    import plot  # noqa: E402
    figs = plot.figures(out)
    names = [f["name"] for f in figs]
    expect = {"t-bars-ns_per_op-threads1", "t-lines-ns_per_op", "t-lines-mops",
              "t-stall-unreclaimed-stall0", "t-stall-unreclaimed-stall1"}
    ok(expect <= set(names), "every expected figure is in the plan", names)
    missing = [n for n in names if not os.path.exists(os.path.join(out, "figures", n + ".png"))]
    ok(not missing, "every figure's PNG exists under figures/", missing)
    unref = [n for n in names if "figures/%s.png" % n not in html]
    ok(not unref, "report.html references every figure", unref)
    ok(html.count("data:image/png;base64,") == len(names),
       "report.html embeds one image per figure (self-contained)",
       html.count("data:image/png;base64,"))
    on_disk = [os.path.basename(x) for x in glob.glob(os.path.join(out, "figures", "*.png"))]
    ok(all(("figures/" + x) in html for x in on_disk), "no figure file the report leaves out",
       on_disk)
    # One palette for matplotlib and gnuplot (both draw from a figure's styles):
    # a scheme looks the same in every figure, whatever else the figure holds.
    looks = {}
    for f in figs:
        for s, style in f["styles"].items():
            looks.setdefault(s, set()).add(style)
    ok(looks and all(len(v) == 1 for v in looks.values()), "each scheme has one colour, marker and dash", looks)
    import smrb_results as R  # noqa: E402
    plan = R.load_plan(out)
    first, last = plan["schemes"][0], plan["schemes"][-1]
    peer = plan["peers"][0] if plan["peers"] else "a-peer"
    plan = dict(plan, reference_schemes=[last], peers=[peer])
    st = R.series_styles(plan, [last, first, peer])
    ok(st[first][2] == "solid" and st[last][2] == "dashed" and st[peer][2] == "dotted"
       and st[first] == R.series_styles(plan, [first])[first],
       "bench.json's reference back ends dashed, peers dotted, a scheme's style independent of its figure", st)
    if gnuplot:
        gp = [n for n in names for ext in ("png", "svg")
              if not os.path.exists(os.path.join(out, "plots", "%s.%s" % (n, ext)))]
        ok(not gp, "gnuplot drew every figure as PNG and SVG", gp)
        ok(all("plots/%s.svg" % n in html for n in names), "report.html links gnuplot's SVGs")
    else:
        ok(True, "# SKIP gnuplot not found")
        ok(True, "# SKIP gnuplot not found")
    with open(os.path.join(out, "machine.json")) as f:
        machine_text = f.read()
    default_alloc = json.loads(machine_text)["default_alloc"]
    ok("<caption>test bars [lazy, alloc=%s]: ns/op" % default_alloc in html and "n=2" in html,
       "per-op tables with median, range and repetition count are in the report")
    ok(("not available on this machine" in html) or ("cycles_per_op, per op" in html),
       "PAPI columns are shown or marked not available")
    ok('id="machine"' in html and any(k in html for k in re.findall(r'"(\w+)":', machine_text)[:3]),
       "the machine (machine.json) is in the report")

    # The allocator: every figure and table names it; a sweep is split by it.
    r = rows(os.path.join(out, "t-alloc", "runs.csv"))
    ok(sorted({x["alloc"] for x in r}) == ["glibc", "pool"] and len(r) == 4,
       "t-alloc: alloc = glibc, pool in [params] runs both (4 rows)", [(x["scheme"], x["alloc"]) for x in r])
    ok({"t-alloc-ns_per_op-allocglibc", "t-alloc-ns_per_op-allocpool"} <= set(names),
       "t-alloc: one figure per allocator", names)
    untitled = [f["name"] for f in figs if "alloc=" not in f["title"]]
    ok(not untitled, "every figure's title names its allocator", untitled)
    tabs = plot.tables(out)
    untitled = [t["title"] for t in tabs if "alloc=" not in t["title"]]
    ok(tabs and not untitled and any("alloc=pool" in t["title"] for t in tabs if t["exp"] == "t-alloc"),
       "every table's title names its allocator, one table per allocator of a sweep", untitled)

    # Resume: take the last rows of one experiment away, rerun: only those cells run again.
    part = os.path.join(out, "t-bars", "part-1", "runs.csv")
    with open(part) as f:
        lines = f.readlines()
    with open(part, "w") as f:
        f.writelines(lines[:-3])  # header + 4 rows of 8: the last 3 cells are "interrupted"
    os.remove(os.path.join(out, "t-bars", "done"))
    with open(os.path.join(out, "bench.json")) as f:
        plan_text = f.read()
    with open(os.path.join(out, "bench.json"), "w") as f:
        f.write(plan_text.replace('"finished": true', '"finished": false'))
    before = len(open(os.path.join(out, "t-bars", "commands.txt")).readlines())
    p = run(base)
    cmds = open(os.path.join(out, "t-bars", "commands.txt")).readlines()[before:]
    ok(p.returncode == 0 and len(cmds) == 3 and all("--first-rep 2" in c for c in cmds),
       "a rerun measures only the 3 missing cells (rep 2), one call each", "".join(cmds) + p.stderr)
    r = rows(os.path.join(out, "t-bars", "runs.csv"))
    keys = [(x["scheme"], x["payload"], x["rep"]) for x in r]
    ok(len(r) == 8 and len(set(keys)) == 8, "after the resume: all 8 cells, none twice", keys)
    other = len(glob.glob(os.path.join(out, "t-lines", "part-*")))
    ok(other == 1, "finished experiments are not run again", other)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
