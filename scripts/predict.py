#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""predict.py - each scheme's predicted ns per lazy get, from the machine's calibration, beside the measured one.

    predict.py DIR [--smrbench ./smrbench] [--alloc NAME] [--format markdown|text]

DIR is a results folder of `smrbench run -w lazy -s ... -t 1 -P payload=u64`
(runs.csv and machine.json with its "calibration", i.e. not --no-calibrate).
Prints one row per scheme of the run: what its read path does per get, the
formula, the predicted ns and the measured ns_per_op (median over
repetitions, min-max, n), and measured / predicted.  Each scheme's model is
declared with the scheme (instances/<scheme>.c, SMR_SCHEME_LAZY_GET) and read
from `smrbench list --json`; a scheme without one is shown as not predicted.  A run of
several allocators (-P alloc=a,b) needs --alloc: cells of different
allocators are never pooled.

The model (from each scheme's read path in schemes/*.h, stated beside its
declaration; a lazy get is begin, one protect of the value cell, end, and
every `batch` gets one quiescent()):
  - the floor F = lazy_get_floor_ns: the bare get (acquire load of the cached
    pointer, the u64 it points to) that scheme none cannot go below;
  - a locked RMW (xchg, lock xadd) costs X = xchg_ns: it drains the store
    buffer and the get waits for it;
  - further L1 loads and plain stores are taken as free: an out-of-order core
    overlaps them with the floor's loads (the floor already pays one load);
  - work done once per batch of quiescent() or once per grace period is
    divided by the operations it covers.
The README's table "predicted vs measured" is this script's output.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smrb_results as R  # noqa: E402

# The lazy reader runs batches of SMR_DEFAULT_BATCH gets (schemes/smr.h)
# between two quiescent() calls, unless a scheme's param sets the batch.
DEFAULT_BATCH = 100
NOT_PREDICTED = "not predicted"

# The calibration's costs a formula uses, by their symbol.
SYMBOL = {"lazy_get_floor_ns": "F", "xchg_ns": "X", "acquire_load_ns": "L"}


def parse_cost(cost):
    """A scheme's lazy_get cost ("", "xchg_ns", "2*xchg_ns", "xchg_ns/ops_per_cs",
    terms joined by " + ") as [(calibration cost, times)] beyond the floor F.
    times: a count per get, or the param (a runs.csv column) that many gets
    share the cost over."""
    terms = []
    for term in filter(None, (t.strip() for t in cost.split("+"))):
        if "/" in term:
            name, param = term.split("/", 1)
            terms.append((name.strip(), param.strip()))
        elif "*" in term:
            times, name = term.split("*", 1)
            terms.append((name.strip(), int(times)))
        else:
            terms.append((term, 1))
    return terms


def models(listing):
    """{scheme: (what its read path does per get, [(cost, times)])} of the
    schemes of `smrbench list --json` that declare a lazy_get."""
    return {s["name"]: (s["lazy_get"]["path"], parse_cost(s["lazy_get"]["cost"]))
            for s in listing["schemes"] if s.get("lazy_get")}


def formula(terms):
    """The model as text: "F + 2X", "F + X/ops_per_cs"."""
    out = ["F"]
    for cost, times in terms:
        sym = SYMBOL.get(cost, cost)
        out.append("%s/%s" % (sym, times) if isinstance(times, str)
                   else sym if times == 1 else "%d%s" % (times, sym))
    return " + ".join(out)


def predicted(cal, terms, row):
    """The model's ns per get; a param left empty in the row is the reader's default batch."""
    ns = cal["lazy_get_floor_ns"]
    for cost, times in terms:
        ns += cal[cost] / (R.num(row.get(times)) or DEFAULT_BATCH) if isinstance(times, str) else cal[cost] * times
    return ns


def fail(msg):
    sys.stderr.write("predict.py: %s\n" % msg)
    sys.exit(2)


def load(dirname, alloc=None):
    """(machine.json, rows of lazy u64 1-thread cells of one allocator) of a results folder; exits 2 with a reason."""
    mpath = os.path.join(dirname, "machine.json")
    cpath = os.path.join(dirname, "runs.csv")
    if not os.path.isfile(mpath) or not os.path.isfile(cpath):
        fail("%s is not a results folder (no machine.json or runs.csv)" % dirname)
    try:
        with open(mpath) as f:
            machine = json.load(f)
    except ValueError as e:
        fail("%s is not valid JSON: %s" % (mpath, e))
    cal = machine.get("calibration")
    if not cal:
        fail("%s has no calibration (run without --no-calibrate / SMRBENCH_NO_CALIBRATE)" % mpath)
    rows = [r for r in R.read_csv(cpath)
            if r.get("workload") == "lazy" and r.get("threads") == "1" and r.get("payload") == "u64"]
    if not rows:
        fail("%s has no lazy cell with threads=1 and payload=u64" % cpath)
    allocs = R.allocs_of(rows)
    if alloc is None and len(allocs) > 1:
        fail("%s has cells of several allocators (%s): choose one with --alloc" % (cpath, ", ".join(allocs)))
    if alloc is not None:
        if alloc not in allocs:
            fail("%s has no lazy u64 1-thread cell with alloc=%s (it has %s)" % (cpath, alloc, ", ".join(allocs)))
        rows = [r for r in rows if (r.get("alloc") or R.LEGACY_ALLOC) == alloc]
    return machine, rows


def predict(cal, rows, model):
    """[(scheme, path, formula, predicted ns, (median, min, max, n) measured)]
    in the run's scheme order; a scheme without a model has path NOT_PREDICTED
    and no formula or prediction (None)."""
    out = []
    for s in R.ordered(rows, "scheme"):
        mine = [r for r in rows if r["scheme"] == s]
        measured = R.summary(R.num(r.get("ns_per_op")) for r in mine)
        if s not in model:
            out.append((s, NOT_PREDICTED, None, None, measured))
            continue
        path, terms = model[s]
        out.append((s, path, formula(terms), predicted(cal, terms, mine[0]), measured))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", help="results folder of a lazy u64 1-thread run with its calibration")
    ap.add_argument("--smrbench", default="./smrbench", help="the binary whose schemes declare the models")
    ap.add_argument("--alloc", help="the allocator, when the run has several")
    ap.add_argument("--format", choices=["markdown", "text"], default="markdown")
    a = ap.parse_args(argv)
    machine, rows = load(a.dir, a.alloc)
    try:
        model = models(R.smrbench_list(a.smrbench))
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError) as e:
        fail("cannot read the models from %s list --json: %s" % (a.smrbench, e))
    cal = machine["calibration"]
    table = predict(cal, rows, model)
    if all(t[3] is None for t in table):
        fail("no scheme of %s has a model in %s (known: %s)" % (a.dir, a.smrbench, ", ".join(model)))
    print("%s (%s), git %s, alloc %s: F = lazy_get_floor_ns %.2f, X = xchg_ns %.2f, L = acquire_load_ns %.2f"
          % (machine.get("cpu_model", "?"), machine.get("cpu_kind", "?"), machine.get("git_revision", "?"),
             ", ".join(R.allocs_of(rows)), cal["lazy_get_floor_ns"], cal["xchg_ns"], cal["acquire_load_ns"]))
    print()
    if a.format == "markdown":
        print("| scheme | per get | predicted | predicted ns | measured ns (median, min-max, n) | measured / predicted |")
        print("|---|---|---|---|---|---|")
    for s, path, text, pred, m in table:
        meas = "%s (%s-%s, n=%d)" % (R.fmt_num(m[0]), R.fmt_num(m[1]), R.fmt_num(m[2]), m[3]) if m else "-"
        ratio = "%.2f" % (m[0] / pred) if m and pred else "-"
        shown = "%.2f" % pred if pred is not None else "-"
        if a.format == "markdown":
            print("| %s | %s | %s | %s | %s | %s |" % (s, path, text or "-", shown, meas, ratio))
        else:
            print("%-9s %-16s %6s  %-28s %s" % (s, text or NOT_PREDICTED, shown, meas, ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main())
