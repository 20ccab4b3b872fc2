#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""cross_machine_test.py - TAP: scripts/report.py's cross-machine figure and
scripts/predict.py's prediction, on synthetic results folders.

Two folders shaped as `smrbench run` writes them (machine.json with cpu_kind
and calibration, runs.csv with its real header), from two "machines" whose
numbers are chosen so that every median and ratio is known: the ratios to
none are checked against medians computed here, the cells that only one
folder has (or that differ by allocator) are left out, the figure is
written and the legend names each machine's CAS and mfence costs.  Needs
matplotlib for the figure (configure's Python); the computation runs
without it.
"""
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(os.path.dirname(HERE), "scripts")
SMRBENCH = os.path.join(os.environ.get("builddir", "."), "smrbench")
sys.path.insert(0, SCRIPTS)
import report  # noqa: E402
import predict  # noqa: E402
import smrb_results as R  # noqa: E402
sys.path.insert(0, HERE)
# The TAP line and its failure count: one definition for both Python tests.
import report_test as T  # noqa: E402
from report_test import ok  # noqa: E402

HEADER = ("workload,scheme,threads,rep,alloc,object_bytes,duration_s,ops,ns_per_op,ops_per_s,cycles_per_op,"
          "instr_per_op,l1d_miss_per_op,llc_miss_per_op,br_miss_per_op,ctx_switches,page_faults,migrations,"
          "retired,reclaimed,unreclaimed_peak,rss_peak_kb,pin,verify,ended,payload,period,ebr_batch,qsbr_k").split(",")

# machine -> (cpu_kind, calibration, {(scheme, threads, alloc): ns/op per repetition}).
MACHINES = {
    "a": ("AuthenticAMD-25-17",
          {"lazy_get_floor_ns": 0.5, "acquire_load_ns": 0.4, "xchg_ns": 2.0, "cas_ns": 2.1, "mfence_ns": 16.4},
          {("none", 1, "pool"): [1.0, 1.2, 0.9], ("ebr", 1, "pool"): [2.0, 2.6, 2.4],
           ("qsbr", 1, "pool"): [1.1, 1.0, 1.3], ("rc", 1, "pool"): [5.0, 4.0, 6.0],
           # only machine a has 2 threads; glibc has no none: neither is a common cell
           ("none", 2, "pool"): [1.5, 1.5, 1.5], ("ebr", 2, "pool"): [3.0, 3.0, 3.0],
           ("ebr", 1, "glibc"): [9.0, 9.0, 9.0]}),
    "b": ("AuthenticAMD-26-2",
          {"lazy_get_floor_ns": 0.4, "acquire_load_ns": 0.3, "xchg_ns": 5.5, "cas_ns": 5.6, "mfence_ns": 6.0},
          {("none", 1, "pool"): [2.0, 2.2, 2.1], ("ebr", 1, "pool"): [11.0, 12.6, 11.5],
           ("qsbr", 1, "pool"): [2.3, 2.2, 2.4]}),
}

def write_folder(d, kind, cal, cells):
    os.makedirs(d)
    with open(os.path.join(d, "machine.json"), "w") as f:
        json.dump({"cpu_model": "AMD EPYC", "cpu_kind": kind, "git_revision": "test", "calibration": cal}, f)
    with open(os.path.join(d, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HEADER, restval="")
        w.writeheader()
        for (scheme, threads, alloc), values in cells.items():
            for rep, ns in enumerate(values, 1):
                w.writerow({"workload": "lazy", "scheme": scheme, "threads": threads, "rep": rep, "alloc": alloc,
                            "ns_per_op": ns, "verify": "ok", "payload": "u64", "period": 10000,
                            # a scheme's params: filled in its rows only, never part of the cell
                            "ebr_batch": 64 if scheme == "ebr" else "",
                            "qsbr_k": 100 if scheme == "qsbr" else ""})


def main():
    print("1..13")
    tmp = tempfile.mkdtemp(prefix="smrb-cross-test.")
    try:
        dirs = []
        for name, (kind, cal, cells) in MACHINES.items():
            dirs.append(os.path.join(tmp, name))
            write_folder(dirs[-1], kind, cal, cells)
        body(tmp, dirs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if T.failed else 0


def body(tmp, dirs):
    # The computation: ratio = median(scheme) / median(none), per folder and cell.
    per, common = report.cross_machine(dirs)
    cell = (("workload", "lazy"), ("threads", "1"), ("alloc", "pool"), ("payload", "u64"), ("period", "10000"))
    ok(common == [cell], "the common cell is lazy t=1 pool u64 (not t=2, not glibc, scheme params not in it)",
       common)
    want_ok = True
    detail = []
    for (lab, ratios, _), (kind, cal, cells) in zip(per, MACHINES.values()):
        none = statistics.median(cells[("none", 1, "pool")])
        for (s, t, a), v in cells.items():
            if (t, a) != (1, "pool") or s == "none":
                continue
            want = statistics.median(v) / none
            got = ratios.get(cell, {}).get(s)
            if got is None or abs(got - want) > 1e-9:
                want_ok = False
                detail.append("%s %s: got %s want %s" % (kind, s, got, want))
    ok(want_ok, "every ratio is the scheme's median over repetitions / none's", "\n".join(detail))
    ok(abs(per[0][1][cell]["ebr"] - 2.4) < 1e-9 and abs(per[1][1][cell]["ebr"] - 11.5 / 2.1) < 1e-9,
       "ebr/none: 2.4 on a, 5.48 on b", per)
    ok("rc" in per[0][1][cell] and "rc" not in per[1][1][cell], "a scheme one machine lacks stays out of its bars")
    ok(per[0][0] == "AuthenticAMD-25-17: CAS 2.1 ns, mfence 16.4 ns"
       and per[1][0] == "AuthenticAMD-26-2: CAS 5.6 ns, mfence 6.0 ns",
       "the legend names each machine's CAS and mfence costs", [p[0] for p in per])

    # The figure and its page, through the command line.
    html = os.path.join(tmp, "out", "cross.html")
    os.makedirs(os.path.dirname(html))
    p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "report.py")] + dirs + ["-o", html],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if report.HAVE_MPL:
        png = os.path.join(tmp, "out", "cross-lazy-1-pool-u64-10000.png")
        ok(p.returncode == 0 and os.path.getsize(png) > 1000 and os.path.exists(html),
           "report.py DIR1 DIR2 writes the figure and the page", p.stderr + p.stdout)
    else:
        ok(True, "report.py DIR1 DIR2 writes the figure # SKIP %s has no matplotlib" % sys.executable)

    # A folder that is not one: non-zero exit, one line naming it.
    p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "report.py"), dirs[0], tmp, "-o", html],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    ok(p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1 and tmp in p.stderr,
       "a folder without machine.json: non-zero exit, one line naming it (%s)" % p.stderr.strip(), p.stderr)

    # predict.py: each formula from the calibration, the measured median beside it.
    p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "predict.py"), dirs[0], "--smrbench", SMRBENCH],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    ok(p.returncode == 2 and "--alloc" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
       "predict: a run of two allocators needs --alloc: exit 2, one line (%s)" % p.stderr.strip(), p.stderr)
    machine, rows = predict.load(dirs[0], "pool")
    # The models as the schemes declare them (instances/*.c, smrbench list --json).
    listing = R.smrbench_list(SMRBENCH)
    model = predict.models(listing)
    floors = [x["name"] for x in listing["schemes"] if x["family"] == "none"]
    ok(floors == [R.FLOOR], "the floor ratios are taken against (%s) is the binary's scheme of family none"
       % R.FLOOR, floors)
    table = {t[0]: t for t in predict.predict(machine["calibration"], rows, model)}
    cal = MACHINES["a"][1]
    ok(abs(table["none"][3] - cal["lazy_get_floor_ns"]) < 1e-9
       and abs(table["ebr"][3] - (cal["lazy_get_floor_ns"] + cal["xchg_ns"])) < 1e-9
       and abs(table["rc"][3] - (cal["lazy_get_floor_ns"] + 2 * cal["xchg_ns"])) < 1e-9
       and abs(table["qsbr"][3] - (cal["lazy_get_floor_ns"] + cal["acquire_load_ns"] / 100)) < 1e-9,
       "predict: none = F, ebr = F + X, rc = F + 2X, qsbr = F + L/qsbr_k", table)
    ok(table["ebr"][4][:2] == (2.4, 2.0) and table["ebr"][4][3] == 3,
       "predict: measured is the median over the 1-thread repetitions (2.4, min 2.0, n=3)", table["ebr"][4])
    unmodelled = {t[0]: t for t in predict.predict(machine["calibration"], rows,
                                                   {s: m for s, m in model.items() if s != "rc"})}
    ok(unmodelled["rc"][1:4] == (predict.NOT_PREDICTED, None, None) and unmodelled["rc"][4] == table["rc"][4],
       "predict: a scheme that declares no model is shown as not predicted, with its measured ns", unmodelled["rc"])
    p = subprocess.run([sys.executable, os.path.join(SCRIPTS, "predict.py"), os.path.join(tmp, "out")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    ok(p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1,
       "predict: a folder without runs.csv: exit 2, one line (%s)" % p.stderr.strip(), p.stderr)


if __name__ == "__main__":
    sys.exit(main())
