#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""plot.py - from a bench results folder: gnuplot data, the figures, the tables.

    plot.py DIR [--plots-dir scripts/plots] [--gnuplot gnuplot]

For every experiment that ran (DIR/<exp>/runs.csv), writes the medians over
repetitions (with min and max) as gnuplot data, DIR/<exp>/<figure>.dat, runs
the experiment's script scripts/plots/<plot>.gp on it into DIR/plots/<figure>.png
and .svg, and writes every per-op table to DIR/tables.txt.  Standard library
only; bench.py calls it at the end of a run.
"""
import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smrb_results as R  # noqa: E402


def figures(out):
    """Every figure of a results folder: dicts with the experiment, its data and names.

    One figure per y metric and per value of the experiment's facet, and per
    allocator when the experiment ran several without making the allocator its
    facet, series or x (R.split_by_alloc); every title names the allocator."""
    plan = R.load_plan(out)
    if not plan:
        return []
    figs = []
    for x in plan["experiments"]:
        e, run = x["exp"], x["run"]
        if not run:
            continue
        exp_dir = os.path.join(out, e["name"])
        rows = R.read_csv(os.path.join(exp_dir, "runs.csv"))
        if not rows:
            continue
        used = (e["x"], e["series"], e["facet"])
        if e["figure"] == "timeseries":
            samples = R.read_csv(os.path.join(exp_dir, "samples.csv"))
            groups = R.split_by_alloc(samples, *used)
            for metric in e["y"]:
                for aq, sub in groups:
                    data = R.timeseries(sub, e["series"], e["facet"], metric)
                    for fv, per in data.items():
                        figs.append(_fig(e, run, metric, fv, per, plan, aq, len(groups) > 1))
            continue
        groups = R.split_by_alloc(rows, *used)
        for metric in e["y"]:
            for aq, sub in groups:
                data = R.series_data(sub, e["x"], e["series"], e["facet"], metric,
                                     numeric_x=e["figure"] != "bars")
                for fv, per in data.items():
                    figs.append(_fig(e, run, metric, fv, per, plan, aq, len(groups) > 1))
    return figs


def _fig(e, run, metric, fv, per, plan, alloc_q="", alloc_split=False):
    """alloc_q: 'alloc=NAME' when the title must name the allocator;
    alloc_split: one of several allocators, so the file name says which."""
    name = "%s-%s" % (e["name"], metric)
    title = e["title"]
    if len(e["y"]) > 1:
        title += ": " + R.label(metric)
    quals = []
    if e["facet"]:
        name += "-%s%s" % (e["facet"], fv.replace(":", "").replace("/", "_"))
        quals.append("%s=%s" % (e["facet"], fv))
    if alloc_q:
        if alloc_split:
            name += "-" + alloc_q.replace("=", "")
        quals.append(alloc_q)
    if quals:
        title += " (%s)" % ", ".join(quals)
    return {"name": name, "exp": e, "run": run, "metric": metric, "facet_value": fv,
            "series": per, "styles": R.series_styles(plan, per), "title": title, "pus": plan.get("pus", 0)}


def write_dat(path, fig):
    """Lines and time series: one block per series (gnuplot `index`), x med min max.
    Bars: one row per x category, then med min max of each series."""
    series = list(fig["series"])
    with open(path, "w") as f:
        f.write("# %s: %s\n" % (fig["title"], R.label(fig["metric"])))
        if fig["exp"]["figure"] == "bars":
            cats = []
            for pts in fig["series"].values():
                for p in pts:
                    if p[0] not in cats:
                        cats.append(p[0])
            f.write("# %s %s\n" % (fig["exp"]["x"], " ".join("%s_med %s_min %s_max" % (s, s, s)
                                                           for s in series)))
            for c in cats:
                cols = [c]
                for s in series:
                    p = next((p for p in fig["series"][s] if p[0] == c), None)
                    cols += ["%.6g" % v for v in p[1:4]] if p else ["NaN"] * 3
                f.write(" ".join(cols) + "\n")
            return
        for s in series:
            f.write("# %s\n" % s)
            for p in fig["series"][s]:
                f.write("%s %.6g %.6g %.6g\n" % (p[0], p[1], p[2], p[3]))
            f.write("\n\n")


def gp_str(s):
    return "'" + str(s).replace("\\", "\\\\").replace("'", "''") + "'"


def run_gnuplot(gnuplot, plots_dir, fig, dat, outbase):
    e = fig["exp"]
    script = os.path.join(plots_dir, e["plot"])
    if not os.path.exists(script):
        return "no script %s" % script
    xlabel = {"threads": "threads", "t_ms": "time (ms)"}.get(e["x"], e["x"])
    if e["figure"] == "timeseries":
        xlabel = "time since start (ms)"
    defs = {
        "datafile": gp_str(dat), "outbase": gp_str(outbase), "plotdir": gp_str(plots_dir),
        "names": gp_str(" ".join(fig["series"])), "ttl": gp_str(fig["title"]),
        "xlabel": gp_str(xlabel), "ylabel": gp_str(R.label(fig["metric"])),
        "logx": "1" if e["logx"] else "0", "logy": "1" if e["logy"] else "0",
        "pus": str(fig["pus"]),
        # The series' colours, point types and dashes (smrb_results.series_styles), as report.py draws them.
        "colors": gp_str(" ".join(fig["styles"][s][0] for s in fig["series"])),
        "points": gp_str(" ".join(str(fig["styles"][s][1][1]) for s in fig["series"])),
        "dashes": gp_str(" ".join(str(R.DASHES[fig["styles"][s][2]][1]) for s in fig["series"])),
    }
    cmd = [gnuplot, "-e", "; ".join("%s=%s" % kv for kv in defs.items()), script]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if p.returncode != 0:
        return "gnuplot failed: %s" % p.stdout.strip()[-300:]
    return None


def derive_all(out, plots_dir, gnuplot):
    """Data files, gnuplot figures (when gnuplot is there), tables.txt."""
    figs = figures(out)
    pdir = os.path.join(out, "plots")
    os.makedirs(pdir, exist_ok=True)
    notes = []
    for fig in figs:
        dat = os.path.join(out, fig["exp"]["name"], fig["name"] + ".dat")
        write_dat(dat, fig)
        if not gnuplot:
            continue
        err = run_gnuplot(gnuplot, plots_dir, fig, dat, os.path.join(pdir, fig["name"]))
        if err:
            notes.append("%s: %s" % (fig["name"], err))
    if not gnuplot:
        notes.append("gnuplot not found: no plots/*.png (report.py draws its own figures)")
    for n in notes:
        sys.stderr.write("plot: %s\n" % n)
    with open(os.path.join(out, "tables.txt"), "w") as f:
        f.write(tables_text(out))
    return figs


# ---- tables ----

def tables(out):
    """Every per-op table: (title, column names, [(row name, [(med, lo, hi) or None])])."""
    plan = R.load_plan(out)
    res = []
    if not plan:
        return res
    for x in plan["experiments"]:
        e, run = x["exp"], x["run"]
        if not run:
            continue
        rows = R.read_csv(os.path.join(out, e["name"], "runs.csv"))
        if not rows:
            continue
        row_key = e["table_rows"] or e["x"]
        split = e["facet"] if e["facet"] and e["facet"] != row_key else ""
        if e["figure"] == "timeseries" and not e["table_rows"]:
            row_key, split = "threads", ""
        for metric in e["table_metrics"]:
            if not any(R.metric_value(r, metric) is not None for r in rows):
                continue
            # One table per allocator unless the table's rows, columns or
            # split are the allocator; the title names it either way.
            for aq, arows in R.split_by_alloc(rows, row_key, e["series"], split):
                res.extend(_tables_of(e, run, metric, arows, row_key, split, aq))
    return res


def _tables_of(e, run, metric, rows, row_key, split, alloc_q):
    """The tables of one metric over rows of one allocator (alloc_q names it)."""
    res = []
    cols = R.ordered(rows, e["series"])
    for sv in (R.sort_values(R.ordered(rows, split)) if split else [""]):
        sub = [r for r in rows if not split or r.get(split) == sv]
        body = []
        keys = R.ordered(sub, row_key)
        if e["figure"] != "bars":
            keys = R.sort_values(keys)
        for rv in keys:
            line = []
            for cv in cols:
                s = R.summary(R.metric_value(r, metric) for r in sub
                              if r.get(row_key) == rv and r.get(e["series"]) == cv)
                line.append(s)
            if any(line):
                body.append((rv, line))
        if not body:
            continue
        reps = len(R.ordered(sub, "rep"))
        title = "%s [%s]: %s, %s" % (
            e["title"], run["workload"] + (", " + alloc_q if alloc_q else ""), R.label(metric),
            "1 rep" if reps == 1 else "median of %d reps (min-max)" % reps)
        if split:
            title += ", %s=%s" % (split, sv)
        res.append({"exp": e["name"], "title": title, "row_key": row_key,
                    "cols": cols, "body": body, "metric": metric})
    return res


def cell_text(s):
    """median (min-max) of a summary; the value alone for one repetition."""
    if not s:
        return "-"
    if s[3] == 1:
        return R.fmt_num(s[0])
    return "%s (%s-%s)" % (R.fmt_num(s[0]), R.fmt_num(s[1]), R.fmt_num(s[2]))


def tables_text(out):
    lines = []
    for t in tables(out):
        lines.append(t["title"])
        lines += R.text_table([t["row_key"]] + list(t["cols"]),
                              [[rv] + [cell_text(s) for s in line] for rv, line in t["body"]], indent="  ")
        lines.append("")
    plan = R.load_plan(out)
    for x in (plan or {}).get("experiments", []):
        skipped = os.path.join(out, x["exp"]["name"], "skipped")
        if os.path.exists(skipped):
            with open(skipped) as f:
                lines.append("%s: skipped: %s" % (x["exp"]["name"], f.read().strip()))
    if lines and lines[-1] != "":
        lines.append("")
    return "\n".join(lines) + ("\n" if lines else "")


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--plots-dir", default=os.path.join(here, "plots"))
    ap.add_argument("--gnuplot", default=shutil.which("gnuplot") or "")
    a = ap.parse_args(argv)
    if not R.load_plan(a.dir):
        sys.stderr.write("plot.py: %s has no bench.json (not a bench.py results folder)\n" % a.dir)
        return 2
    derive_all(a.dir, a.plots_dir, a.gnuplot)
    sys.stdout.write(tables_text(a.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
