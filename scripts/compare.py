#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""compare.py OLD NEW - has a reclamation scheme become slower between two runs?

OLD and NEW are results folders (holding runs.csv) or runs.csv files written by
`smrbench run` (or merged by scripts/merge_runs.py).  `make bench-ci` judges
its paired runs with scripts/duet.py instead; this compares any two runs, e.g.
folders of results/history from different days or machines.

Method (the "why" is in README.md, "Performance regression tracking"):
  * A cell is (workload, scheme, threads, alloc, pin, every param column).
    A runs.csv from before the alloc column ran on glibc's malloc and is read
    as alloc=glibc.  object_bytes (the node's size) is shown when it changed,
    never compared.
  * Each row's ns_per_op is divided by the ns_per_op of the `none` scheme with
    the same workload, threads, pin and params in the SAME run and the SAME
    repetition (rep column): a uniformly slower machine, or a slow moment that
    hits one repetition of every scheme alike, cancels out.
  * Per cell: the median of those per-repetition ratios, and its noise band, the
    interquartile range (25th..75th percentile) of the per-repetition ratios.
  * A run may hold several sessions (a `session` column: whole runs of the
    matrix, one after another, as `make bench-ci-baseline` records).  Then the
    cell's median is the median of the sessions' medians, and its band spans
    from the lowest session's 25th percentile to the highest one's 75th: the
    drift between runs of unchanged code, which the repetitions of one run do
    not see (a 2-thread cell on a shared VM can move 50% from one run to the
    next), widens the band of the cells it affects, and only those.
  * A cell REGRESSED when NEW's median ratio is above OLD's by more than the
    two bands leave room for (NEW's 25th percentile above OLD's 75th: the
    middle halves do not overlap) AND by more than --min-effect percent
    (default 15).  Improvements mirror this.  `none` is the normaliser and is
    not judged; its absolute ns/op is shown for information.  (--normaliser
    takes another scheme as the floor: `none` leaks, so on allocating
    workloads its ns/op carries the kernel's page faults and their noise.)

Exit status: 0 no regression; 1 at least one cell regressed (each one named
with its ratios); 2 the two runs cannot be compared (columns or params differ,
no `none` to normalise against, unreadable input) or bad usage.
"""

import argparse
import csv
import json
import math
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smrb_results as R  # noqa: E402

REQUIRED = ("workload", "scheme", "threads", "rep", "ns_per_op", "ended")
# Columns that are not measurements to match between the runs: `session` is
# bookkeeping (a multi-session baseline compares with a plain run), `alloc`
# is a key (filled in for old files), `object_bytes` a property of the build.
NOT_MATCHED = {"session", "alloc", "object_bytes"}
LEGACY_ALLOC = R.LEGACY_ALLOC  # the allocator of every run written before the alloc column
NORMALISER = R.FLOOR   # --normaliser changes it
NOISY = 0.10          # a normaliser whose ns/op varies more than this between reps: warn


class Refuse(Exception):
    """The inputs cannot be compared: exit 2 with this one-line message."""


def csv_path(arg):
    path = os.path.join(arg, "runs.csv") if os.path.isdir(arg) else arg
    if not os.path.isfile(path):
        raise Refuse("%s: no runs.csv there" % arg)
    return path


class Run:
    """One runs.csv: rows grouped by cell and repetition."""

    def __init__(self, arg, label):
        self.label = label
        self.path = csv_path(arg)
        with open(self.path, newline="") as f:
            reader = csv.DictReader(f)
            self.columns = list(reader.fieldnames or [])
            self.rows = []
            for n, row in enumerate(reader, start=2):
                if row.get("verify", "ok") == "ok":   # smrbench writes no other; be safe anyway
                    row["_line"] = n
                    self.rows.append(row)
        missing = [c for c in REQUIRED if c not in self.columns]
        if missing:
            raise Refuse("%s: not a smrbench runs.csv (no column %s)" % (self.path, ", ".join(missing)))
        if not self.rows:
            raise Refuse("%s: no rows" % self.path)
        self.params = R.param_columns(self.columns)
        self.measured = [c for c in self.columns if c not in self.params]
        self.legacy_alloc = "alloc" not in self.columns
        for row in self.rows:
            if not row.get("alloc"):
                row["alloc"] = LEGACY_ALLOC
        self.sessions = 1
        self.nrows = len(self.rows)
        self.machine = {}
        mj = os.path.join(os.path.dirname(self.path), "machine.json")
        if os.path.isfile(mj):
            try:
                with open(mj) as f:
                    self.machine = json.load(f)
            except (OSError, ValueError):
                pass

    def used_params(self, workload, scheme):
        """The param columns some row of (workload, scheme) has a value in.
        A merged file (make bench-ci) carries every workload's and scheme's
        params; the others' are empty."""
        rows = [r for r in self.rows if r["workload"] == workload and r["scheme"] == scheme]
        return {c for c in self.params if any(r.get(c) for r in rows)}

    def index(self, keycols):
        """Group the rows by cell and repetition.  keycols: the pin policy
        (cells pinned differently are not the same experiment) and the param
        columns, the same list for both runs (a column a run lacks is empty)."""
        self.keycols = keycols
        # (workload, scheme, threads, keyvals) -> (session, rep) -> [ns_per_op, ..]
        self.cells = {}
        self.durations = []
        sessions = set()
        for row in self.rows:
            try:
                threads = int(row["threads"])
                rep = (int(row.get("session") or 1), int(row["rep"]))
                ns = float(row["ns_per_op"])
            except (TypeError, ValueError):
                raise Refuse("%s line %d: bad threads, rep, session or ns_per_op" % (self.path, row["_line"]))
            sessions.add(rep[0])
            if not (ns > 0 and math.isfinite(ns)):
                raise Refuse("%s line %d: ns_per_op %r is not a positive number"
                             % (self.path, row["_line"], row["ns_per_op"]))
            key = (row["workload"], row["scheme"], threads, tuple(row.get(c) or "" for c in keycols))
            self.cells.setdefault(key, {}).setdefault(rep, []).append(ns)
            if row.get("duration_s"):
                try:
                    self.durations.append(float(row["duration_s"]))
                except ValueError:
                    pass
        self.sessions = len(sessions)

    def ns(self, key, rep):
        """ns_per_op of a cell in one repetition.  A param swept for another
        scheme repeats the same cell (e.g. `none` once per ebr_batch value):
        those duplicates are one measurement taken several times: median."""
        return statistics.median(self.cells[key][rep])

    def normaliser(self, key):
        """The `none` cell that `key` is divided by: same workload, threads,
        pin and params.  A param column empty on one side (another scheme's
        param) does not count."""
        wl, _, threads, vals = key
        found = []
        for k in self.cells:
            if k[0] != wl or k[1] != NORMALISER or k[2] != threads:
                continue
            if all(a == b or not a or not b for a, b in zip(vals, k[3])):
                found.append(k)
        if not found:
            raise Refuse("%s: no '%s' rows to normalise %s against" % (self.path, NORMALISER, self.name(key)))
        if len(found) > 1:
            raise Refuse("%s: more than one '%s' cell matches %s" % (self.path, NORMALISER, self.name(key)))
        return found[0]

    def name(self, key, varying=None):
        wl, scheme, threads, vals = key
        parts = [wl, scheme, "t=%d" % threads]
        for col, v in zip(self.keycols, vals):
            if v and (varying is None or col in varying.get(wl, ())):
                parts.append("%s=%s" % (col, v))
        return " ".join(parts)


class Stat:
    """A cell's normalised ratio in one run: median and band over the reps;
    over several sessions, the median of their medians and the envelope of
    their bands."""

    def __init__(self, run, key):
        nk = run.normaliser(key)
        reps = sorted(set(run.cells[key]) & set(run.cells[nk]))
        if not reps:
            raise Refuse("%s: %s and its '%s' share no repetition" % (run.path, run.name(key), NORMALISER))
        by_session = {}
        for r in reps:
            by_session.setdefault(r[0], []).append(run.ns(key, r) / run.ns(nk, r))
        per = [R.quartiles(rs) for rs in by_session.values()]
        if len(per) == 1:
            self.lo, self.med, self.hi = per[0]
        else:
            self.med = statistics.median(q[1] for q in per)
            self.lo = min(q[0] for q in per)
            self.hi = max(q[2] for q in per)
        self.n = min(len(rs) for rs in by_session.values())   # reps per session


def describe_params(run, key):
    return ", ".join("%s=%s" % (c, v) for c, v in zip(run.keycols, key[3]) if v) or "(no params)"


def check_comparable(old, new):
    """Refuse runs whose columns differ; then index both on the same key columns."""
    mo = set(old.measured) - NOT_MATCHED
    mn = set(new.measured) - NOT_MATCHED
    if mo != mn:
        only_old = [c for c in old.measured if c not in mn and c not in NOT_MATCHED]
        only_new = [c for c in new.measured if c not in mo and c not in NOT_MATCHED]
        raise Refuse("columns differ (only in OLD: %s; only in NEW: %s)" %
                     (",".join(only_old) or "-", ",".join(only_new) or "-"))
    # Param columns: compared per (workload, scheme) both runs have, so that
    # a run lacking a workload or a scheme (and with it their param columns)
    # still compares on the rest.
    pairs_old = {(r["workload"], r["scheme"]) for r in old.rows}
    pairs_new = {(r["workload"], r["scheme"]) for r in new.rows}
    for wl, scheme in sorted(pairs_old & pairs_new):
        po, pn = old.used_params(wl, scheme), new.used_params(wl, scheme)
        if po != pn:
            raise Refuse("columns differ for %s %s (only in OLD: %s; only in NEW: %s)" %
                         (wl, scheme, ",".join(sorted(po - pn)) or "-", ",".join(sorted(pn - po)) or "-"))
    keycols = ["alloc"] + (["pin"] if "pin" in old.measured else [])
    keycols += old.params + [c for c in new.params if c not in old.params]
    old.index(keycols)
    new.index(keycols)
    # Params: for every (workload, scheme) both runs measured, the set of
    # param settings must be the same; otherwise "the same cell" would be two
    # different experiments.
    def configs(run):
        out = {}
        for wl, scheme, _, vals in run.cells:
            out.setdefault((wl, scheme), set()).add(vals)
        return out
    co, cn = configs(old), configs(new)
    for ws in sorted(set(co) & set(cn)):
        if co[ws] != cn[ws]:
            a = sorted(co[ws] - cn[ws])
            b = sorted(cn[ws] - co[ws])
            show = lambda run, s: describe_params(run, (ws[0], ws[1], 0, s[0])) if s else "-"
            raise Refuse("params differ for %s %s: OLD has %s, NEW has %s" %
                         (ws[0], ws[1], show(old, a), show(new, b)))


def missing_notes(run, other, missing, varying):
    """Name the cells of `run` that `other` lacks briefly: a whole workload,
    a whole scheme of a workload, or the cell."""
    wl_other = {k[0] for k in other.cells}
    pair_other = {(k[0], k[1]) for k in other.cells}
    out, said = [], set()
    for k in missing:
        if k[0] not in wl_other:
            what = "workload %s" % k[0]
        elif (k[0], k[1]) not in pair_other:
            what = "%s %s" % (k[0], k[1])
        else:
            what = run.name(k, varying)
        if what not in said:
            said.add(what)
            out.append(what)
    return out


def varying_params(runs):
    """Per workload, the key columns whose value varies (to name cells briefly)."""
    seen = {}
    for run in runs:
        for wl, _, _, vals in run.cells:
            for col, v in zip(run.keycols, vals):
                if v:
                    seen.setdefault(wl, {}).setdefault(col, set()).add(v)
    return {wl: {c for c, vs in cols.items() if len(vs) > 1} for wl, cols in seen.items()}


def object_bytes_changes(old, new):
    """(workload, scheme, alloc) whose object_bytes differ between the runs:
    a changed node layout is a likely reason for a changed ratio."""
    def sizes(run):
        out = {}
        for r in run.rows:
            if r.get("object_bytes"):
                out.setdefault((r["workload"], r["scheme"], r["alloc"]), set()).add(r["object_bytes"])
        return out
    so, sn = sizes(old), sizes(new)
    return ["object_bytes of %s %s (alloc=%s) changed: %s in OLD, %s in NEW" % (
        k[0], k[1], k[2], ",".join(sorted(so[k])), ",".join(sorted(sn[k])))
        for k in sorted(set(so) & set(sn)) if so[k] != sn[k]]


def judge(o, n, min_effect):
    """Verdict and the band (as a fraction of OLD's median) the change had to clear."""
    change = n.med / o.med - 1
    if change >= 0:
        band = (o.hi - o.med) + (n.med - n.lo)  # room between OLD's 75th and NEW's 25th
        outside = n.lo > o.hi
    else:
        band = (o.med - o.lo) + (n.hi - n.med)
        outside = n.hi < o.lo
    big = abs(change) > min_effect
    if outside and big:
        verdict = "REGRESSED" if change > 0 else "improved"
    elif big:
        verdict = "ok (noisy)"      # large change, but inside the noise band
    elif outside:
        verdict = "ok (small)"      # outside the band, but under the minimum effect
    else:
        verdict = "ok"
    return change, band / o.med, verdict


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="compare.py",
        description="Compare two smrbench runs, each normalised to its own `none`; "
                    "exit 1 on a regression, 2 if they cannot be compared.")
    ap.add_argument("old", metavar="OLD", help="results folder or runs.csv (the reference, e.g. results/baseline)")
    ap.add_argument("new", metavar="NEW", help="results folder or runs.csv (the run to judge)")
    ap.add_argument("--min-effect", type=float, default=15.0, metavar="PCT",
                    help="smallest change of the normalised ratio, in percent, that counts (default 15)")
    ap.add_argument("--normaliser", default=R.FLOOR, metavar="SCHEME",
                    help="the scheme every ratio is taken against (default none, the leak floor)")
    ap.add_argument("--strict", action="store_true",
                    help="exit 2 if a cell of OLD is missing from NEW (default: note it)")
    ap.add_argument("--flagged", metavar="FILE",
                    help="write the regressed cells to FILE, one 'workload scheme threads' line each "
                         "(e.g. to re-run them)")
    return ap.parse_args(argv)


def load_pair(args):
    """(old, new, their common cells, [(judged cell, OLD's Stat, NEW's Stat)],
    cells of OLD only, cells of NEW only); Refuse when they cannot be compared."""
    old = Run(args.old, "OLD")
    new = Run(args.new, "NEW")
    check_comparable(old, new)
    common = sorted(k for k in old.cells if k in new.cells)
    judged = [k for k in common if k[1] != NORMALISER]
    if not judged:
        raise Refuse("no cell in common to compare (other than '%s')" % NORMALISER)
    stats = [(k, Stat(old, k), Stat(new, k)) for k in judged]
    only_old = sorted(k for k in old.cells if k not in new.cells)
    only_new = sorted(k for k in new.cells if k not in old.cells)
    if args.strict and only_old:
        raise Refuse("--strict: %d cell(s) of OLD missing from NEW, first: %s" %
                     (len(only_old), old.name(only_old[0])))
    return old, new, common, stats, only_old, only_new


def print_header(old, new, min_effect_pct):
    """What was read and how it is judged."""
    for run in (old, new):
        if run.legacy_alloc:
            print("note: %s has no alloc column (written before -P alloc): read as alloc=%s"
                  % (run.label, LEGACY_ALLOC))
    for line in object_bytes_changes(old, new):
        print("note: %s" % line)
    for run in (old, new):
        m = run.machine
        reps = {r[1] for v in run.cells.values() for r in v}
        print("%s %s: %d rows, %d reps%s%s" % (
            run.label, run.path, run.nrows, len(reps),
            " in each of %d sessions" % run.sessions if run.sessions > 1 else "",
            ", git %s, %s" % (m.get("git_revision", "?"), m.get("date_utc", "?")) if m else ""))
    print("method: ns_per_op / ns_per_op of '%s' (same run, same rep); median over reps, band = "
          "interquartile range%s; flagged if the middle halves do not overlap and |change| > %g%%"
          % (NORMALISER, " (widened to span every session's)" if max(old.sessions, new.sessions) > 1 else "",
             min_effect_pct))


def warn(msg):
    print("compare.py: warning: " + msg, file=sys.stderr)


def warn_unreliable(old, new, stats):
    """Warnings on stderr about what makes the verdicts less reliable."""
    # Ratios travel between machines only roughly (a locked RMW costs more on
    # one CPU than another): say so when the two runs' machines differ.
    if old.machine and new.machine:
        for field in ("cpu_kind", "cpu_model", "online_cpus"):
            a, b = old.machine.get(field), new.machine.get(field)
            if a is not None and b is not None and a != b:
                warn("%s differs: %r in OLD, %r in NEW; ratios may shift with the CPU" % (field, a, b))
    for run, idx in ((old, 1), (new, 2)):
        nreps = min(st[idx].n for st in stats)
        if nreps < 3:
            warn("%s has cells with %d repetition(s): no noise band, only --min-effect guards"
                 % (run.label, nreps))
    # How busy was the machine?  The normaliser's own ns/op between repetitions
    # (its interquartile range over its median, the median of that over its
    # cells): per-rep normalisation cancels what hits a rep uniformly, not
    # what hits one cell of it.
    for run in (old, new):
        spreads = []
        for k, reps in run.cells.items():
            if k[1] == NORMALISER and len(reps) >= 3:
                lo, med, hi = R.quartiles([run.ns(k, r) for r in reps])
                spreads.append((hi - lo) / med)
        if spreads and statistics.median(spreads) > NOISY:
            warn("in %s, '%s' varies by %.0f%% (interquartile, median over its cells) "
                 "between repetitions: a busy machine; verdicts are less reliable"
                 % (run.label, NORMALISER, 100 * statistics.median(spreads)))
    if old.durations and new.durations:
        do, dn = statistics.median(old.durations), statistics.median(new.durations)
        if abs(dn / do - 1) > 0.2:
            warn("cells ran %.2f s in OLD but %.2f s in NEW; ratios may shift with cell length" % (do, dn))


def verdict_rows(old, new, common, stats, varying, min_effect):
    """(table rows, regressed, improved): a row per judged cell, then the
    normaliser itself in absolute ns/op (how the two machines/moments differ)."""
    rows, regressed, improved = [], [], []
    for k, so, sn in stats:
        change, band, verdict = judge(so, sn, min_effect)
        rows.append([old.name(k, varying), "%.3f" % so.med, "%.3f" % sn.med,
                     "%+.1f%%" % (100 * change), "%.1f%%" % (100 * band), verdict])
        if verdict == "REGRESSED":
            regressed.append((k, so, sn, change, band))
        elif verdict == "improved":
            improved.append((k, so, sn, change, band))
    for k in common:
        if k[1] == NORMALISER:
            o = statistics.median(old.ns(k, r) for r in old.cells[k])
            n = statistics.median(new.ns(k, r) for r in new.cells[k])
            rows.append([old.name(k, varying), "%.3fns" % o, "%.3fns" % n, "%+.1f%%" % (100 * (n / o - 1)),
                         "", "(normaliser)"])
    return rows, regressed, improved


def main(argv):
    try:
        args = parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    if not (0 <= args.min_effect < 1000):
        print("compare.py: --min-effect wants a percentage in 0..1000", file=sys.stderr)
        return 2
    min_effect = args.min_effect / 100
    global NORMALISER
    NORMALISER = args.normaliser
    try:
        old, new, common, stats, only_old, only_new = load_pair(args)
    except (Refuse, OSError, csv.Error, UnicodeDecodeError) as e:
        print("compare.py: cannot compare: %s" % e, file=sys.stderr)
        return 2

    varying = varying_params([old, new])
    print_header(old, new, args.min_effect)
    warn_unreliable(old, new, stats)
    rows, regressed, improved = verdict_rows(old, new, common, stats, varying, min_effect)
    print()
    print("\n".join(R.text_table(["cell", "old ratio", "new ratio", "change", "band", "verdict"], rows,
                                  left_last=True)))
    print()
    for run, other, missing in ((old, new, only_old), (new, old, only_new)):
        for line in missing_notes(run, other, missing, varying):
            print("note: %s is in %s only (not compared)" % (line, run.label))
    for k, so, sn, change, band in improved:
        print("improved: %s: ratio to %s %.3f -> %.3f (%+.1f%%, band %.1f%%)"
              % (old.name(k), NORMALISER, so.med, sn.med, 100 * change, 100 * band))
    for k, so, sn, change, band in regressed:
        print("REGRESSION: %s: ratio to %s %.3f -> %.3f (%+.1f%%, band %.1f%%, min effect %g%%)"
              % (old.name(k), NORMALISER, so.med, sn.med, 100 * change, 100 * band, args.min_effect))
    print("%d cell(s) compared: %d regressed, %d improved" % (len(stats), len(regressed), len(improved)))
    if args.flagged:
        try:
            with open(args.flagged, "w") as f:
                for k, *_ in regressed:
                    f.write("%s %s %d\n" % (k[0], k[1], k[2]))
        except OSError as e:
            print("compare.py: cannot write %s: %s" % (args.flagged, e), file=sys.stderr)
            return 2
    return 1 if regressed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
