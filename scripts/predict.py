#!/usr/bin/env python3
"""predict.py - each scheme's predicted ns per lazy get, from the machine's calibration, beside the measured one.

    predict.py DIR [--alloc NAME] [--format markdown|text]

DIR is a results folder of `smrbench run -w lazy -s ... -t 1 -P payload=u64`
(runs.csv and machine.json with its "calibration", i.e. not --no-calibrate).
Prints one row per scheme of the run that has a model below: what its read
path does per get, the formula, the predicted ns and the measured ns_per_op
(median over repetitions, min-max, n), and measured / predicted.  A run of
several allocators (-P alloc=a,b) needs --alloc: cells of different
allocators are never pooled.

The model (from each scheme's read path in schemes/*.h; a lazy get is
begin, one protect of the value cell, end, and every `batch` gets one
quiescent()):
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
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smrb_results as R  # noqa: E402

# The lazy reader runs batches of SMR_DEFAULT_BATCH gets (schemes/smr.h)
# between two quiescent() calls, except qsbr (qsbr_k) and nebr (ops_per_cs).
DEFAULT_BATCH = 100


# The calibration's costs a formula uses, by their symbol.
SYMBOL = {"lazy_get_floor_ns": "F", "xchg_ns": "X", "acquire_load_ns": "L"}

# scheme -> (what its read path does per get, [(cost, times)]) beyond the
# floor F, which every scheme pays.  times: a count per get, or the name of
# the param (a runs.csv column) that many gets share the cost over.
MODELS = {
    # schemes/none.h: protect is the acquire load; nothing else.
    "none": ("acquire load", []),
    # schemes/qsbr.h: begin/end empty; quiescent() every qsbr_k gets: acquire
    # load of gp, compare, a store only when a grace period began.
    "qsbr": ("acquire load; per qsbr_k gets: load gp + compare", [("acquire_load_ns", "qsbr_k")]),
    # schemes/ebr.h: begin = relaxed load of the epoch + seq_cst xchg of the
    # record; end = release store (a plain mov on x86).
    "ebr": ("begin: load epoch + xchg; end: store", [("xchg_ns", 1)]),
    # schemes/ebr_asym.h: begin = load epoch + plain store + compiler barrier;
    # the reclaimer pays the membarrier.
    "ebr-asym": ("begin: load epoch + plain store; end: store", []),
    # schemes/nebr.h: begin = relaxed load of own record + branch; the xchg
    # only on the first begin after quiescent(), i.e. once per ops_per_cs gets.
    "nebr": ("begin: load own record; per ops_per_cs gets: xchg + store", [("xchg_ns", "ops_per_cs")]),
    # schemes/hp_impl.h (HP_ASYM 0): protect = load + xchg hazard + seq_cst
    # reload + compare; end = release store per slot.
    "hp": ("protect: xchg hazard + reload; end: store", [("xchg_ns", 1)]),
    # schemes/hp_impl.h (HP_ASYM 1): protect = plain store + compiler barrier +
    # reload; slots cleared at quiescent() (one store per batch).
    "hp-asym": ("protect: plain store + reload", []),
    # schemes/he.h: protect = load ptr + load clock; end stores HE_NONE, so
    # the next protect's era differs from the clock: an xchg on every get.
    "he": ("protect: load clock, xchg era (end cleared it), reload; end: store", [("xchg_ns", 1)]),
    # schemes/ibr.h: begin = load clock + store lower + xchg upper; protect =
    # load ptr + load clock (no xchg while the clock stands); end = 2 stores.
    "ibr": ("begin: load clock, store, xchg upper; protect: load clock; end: 2 stores", [("xchg_ns", 1)]),
    # schemes/rc.h: end released the slot's count, so every protect takes one:
    # lock xadd + reload; end = lock xadd (fetch_sub) to release it.
    "rc": ("protect: lock xadd count + reload; end: lock xadd release", [("xchg_ns", 2)]),
}


def formula(terms):
    """The model as text: "F + 2X", "F + X/ops_per_cs"."""
    out = ["F"]
    for cost, times in terms:
        sym = SYMBOL[cost]
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


def predict(cal, rows):
    """[(scheme, path, formula, predicted ns, (median, min, max, n) measured)] in the run's scheme order."""
    out = []
    for s in R.ordered(rows, "scheme"):
        if s not in MODELS:
            continue
        mine = [r for r in rows if r["scheme"] == s]
        path, terms = MODELS[s]
        out.append((s, path, formula(terms), predicted(cal, terms, mine[0]),
                    R.summary(R.num(r.get("ns_per_op")) for r in mine)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", help="results folder of a lazy u64 1-thread run with its calibration")
    ap.add_argument("--alloc", help="the allocator, when the run has several")
    ap.add_argument("--format", choices=["markdown", "text"], default="markdown")
    a = ap.parse_args(argv)
    machine, rows = load(a.dir, a.alloc)
    cal = machine["calibration"]
    table = predict(cal, rows)
    if not table:
        fail("no scheme of %s has a model here (known: %s)" % (a.dir, ", ".join(MODELS)))
    print("%s (%s), git %s, alloc %s: F = lazy_get_floor_ns %.2f, X = xchg_ns %.2f, L = acquire_load_ns %.2f"
          % (machine.get("cpu_model", "?"), machine.get("cpu_kind", "?"), machine.get("git_revision", "?"),
             ", ".join(R.allocs_of(rows)), cal["lazy_get_floor_ns"], cal["xchg_ns"], cal["acquire_load_ns"]))
    print()
    if a.format == "markdown":
        print("| scheme | per get | predicted | predicted ns | measured ns (median, min-max, n) | measured / predicted |")
        print("|---|---|---|---|---|---|")
    for s, path, text, pred, m in table:
        meas = "%s (%s-%s, n=%d)" % (R.fmt_num(m[0]), R.fmt_num(m[1]), R.fmt_num(m[2]), m[3]) if m else "-"
        ratio = "%.2f" % (m[0] / pred) if m and pred > 0 else "-"
        if a.format == "markdown":
            print("| %s | %s | %s | %.2f | %s | %s |" % (s, path, text, pred, meas, ratio))
        else:
            print("%-9s %-16s %6.2f  %-28s %s" % (s, text, pred, meas, ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main())
