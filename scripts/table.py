#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""table.py - per-op tables from a results folder's runs.csv (standard library only).

    table.py RUNS.csv [--rows payload] [--cols scheme] [--split threads]
                      [--metric ns_per_op] [--where key=value ...]

One table per value of --split (default: threads), one row per value of --rows
(default: payload), one column per value of --cols (default: scheme), in the
order they first appear in the CSV.  Each cell is the median over repetitions
with the min-max range beside it, as Niksic's breakdown (2017) is read.  A
missing combination prints as '-'.

The allocator (runs.csv's alloc column) is part of a cell's identity: rows of
different allocators are never pooled into one median.  Unless --rows,
--cols or --split is `alloc`, there is one set of tables per allocator, and
every title names it.
"""
import argparse
import csv
import statistics
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smrb_results as R  # noqa: E402  (one definition for every script)
from smrb_results import ordered, split_by_alloc  # noqa: E402


def median_range(values):
    """(median, min, max) of a list of floats."""
    return statistics.median(values), min(values), max(values)


def fmt_num(x):
    """Three significant figures at most, never scientific for per-op ns."""
    if x >= 100:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def load(path, where):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for key, value in where:
        rows = [r for r in rows if r.get(key) == value]
    return rows


def sort_key(v):
    """Numbers in numeric order, words kept in CSV order (stable sort)."""
    try:
        return (0, float(v))
    except ValueError:
        return (1, 0.0)


def tables(rows, row_key, col_key, split_key, metric):
    """Yield (split value, column values, [(row value, [cell text ...])])."""
    splits = sorted(ordered(rows, split_key), key=sort_key) if split_key else [None]
    cols = ordered(rows, col_key)
    row_vals = ordered(rows, row_key)
    for s in splits:
        sub = [r for r in rows if split_key is None or r.get(split_key) == s]
        body = []
        for rv in row_vals:
            line = []
            for cv in cols:
                vals = [float(r[metric]) for r in sub
                        if r.get(row_key) == rv and r.get(col_key) == cv and r.get(metric, "") != ""]
                if not vals:
                    line.append("-")
                    continue
                med, lo, hi = median_range(vals)
                line.append("%s (%s-%s)" % (fmt_num(med), fmt_num(lo), fmt_num(hi)))
            if any(x != "-" for x in line):
                body.append((rv, line))
        if body:
            yield s, cols, body


def render(rows, row_key, col_key, split_key, metric, out=sys.stdout):
    for alloc_q, arows in split_by_alloc(rows, row_key, col_key, split_key):
        render_one(arows, row_key, col_key, split_key, metric, alloc_q, out)


def render_one(rows, row_key, col_key, split_key, metric, alloc_q, out):
    nreps = len(ordered(rows, "rep"))
    wl = ",".join(ordered(rows, "workload"))
    for s, cols, body in tables(rows, row_key, col_key, split_key, metric):
        title = "%s: %s, median of %d rep%s (min-max)" % (wl, metric, nreps, "" if nreps == 1 else "s")
        if alloc_q:
            title += ", " + alloc_q
        if split_key:
            title += ", %s=%s" % (split_key, s)
        out.write(title + "\n")
        for line in R.text_table([row_key] + list(cols), [[rv] + list(line) for rv, line in body], indent="  "):
            out.write(line + "\n")
        out.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv", help="a runs.csv written by smrbench run")
    ap.add_argument("--rows", default="payload")
    ap.add_argument("--cols", default="scheme")
    ap.add_argument("--split", default="threads", help="one table per value; '' for a single table")
    ap.add_argument("--metric", default="ns_per_op")
    ap.add_argument("--where", action="append", default=[], metavar="KEY=VALUE",
                    help="keep only rows where KEY equals VALUE (repeatable)")
    a = ap.parse_args(argv)
    where = []
    for w in a.where:
        if "=" not in w:
            ap.error("--where wants KEY=VALUE, not %r" % w)
        where.append(tuple(w.split("=", 1)))
    try:
        rows = load(a.csv, where)
    except OSError as e:
        sys.stderr.write("table.py: %s\n" % e)
        return 1
    if not rows:
        sys.stderr.write("table.py: no rows in %s\n" % a.csv)
        return 1
    for key in (a.rows, a.cols, a.metric) + ((a.split,) if a.split else ()):
        if key not in rows[0]:
            sys.stderr.write("table.py: %s has no column %r\n" % (a.csv, key))
            return 1
    render(rows, a.rows, a.cols, a.split or None, a.metric)
    return 0


if __name__ == "__main__":
    sys.exit(main())
