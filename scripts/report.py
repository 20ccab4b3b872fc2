#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""report.py - one HTML report of a bench results folder (matplotlib).

    report.py DIR [-o DIR/report.html]
    report.py DIR1 DIR2 [DIR..] [-o cross-machine.html]

Draws every figure of the run with matplotlib into DIR/figures/<figure>.png
and writes DIR/report.html: the plan, the machine (machine.json), and per
experiment what it measures, its figures, its per-op tables (median over
repetitions with the min-max range and the repetition count), the PAPI
hardware counters (or "not available on this machine") and the software
counters.  The PNGs are embedded in the HTML as base64, so report.html is
self-contained and can be mailed alone; the same files stay beside it in
figures/, and the gnuplot PNG/SVG of plots/ are linked when present.

Given several results folders (from different machines: a `smrbench run`
folder, a bench folder with <exp>/runs.csv, or a bench-ci folder), it draws
the cross-machine figure instead: for every cell (workload, threads,
allocator, workload params) that every folder measured with `none`, each
scheme's ns/op ratio to `none` (median over repetitions of the scheme /
median of none), grouped by scheme, one colour per machine, with the
machine's locked RMW (CAS) and fence (mfence) costs from machine.json's
calibration in the legend: why rankings change between machines.  It
writes cross-machine-<cell>.png beside the HTML (-o, default
./cross-machine.html) and a table of the same ratios.

Needs matplotlib (Debian's python3-matplotlib: run it with /usr/bin/python3
or the $(PYTHON) configure found).  Without matplotlib it still writes the
report, embedding gnuplot's PNGs instead, and says so.
"""
import argparse
import base64
import datetime
import html
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smrb_results as R  # noqa: E402
import plot as P  # noqa: E402

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    HAVE_MPL = True
except ImportError:  # pragma: no cover - depends on the interpreter
    HAVE_MPL = False


def esc(s):
    return html.escape(str(s), quote=True)


# ---- figures (matplotlib) ----

def draw(fig, path):
    e = fig["exp"]
    # (colour, marker, line style) per series: the palette of smrb_results, as gnuplot draws it too.
    styles = {s: (c, m[0], R.DASHES[d][0]) for s, (c, m, d) in fig["styles"].items()}
    f, ax = plt.subplots(figsize=(8.5, 4.6), dpi=100)
    series = list(fig["series"])
    if e["figure"] == "bars":
        cats = []
        for pts in fig["series"].values():
            for p in pts:
                if p[0] not in cats:
                    cats.append(p[0])
        width = 0.8 / max(1, len(series))
        for i, s in enumerate(series):
            pts = {p[0]: p for p in fig["series"][s]}
            xs, ys, lo, hi = [], [], [], []
            for k, c in enumerate(cats):
                if c in pts:
                    p = pts[c]
                    xs.append(k - 0.4 + width * (i + 0.5))
                    ys.append(p[1])
                    lo.append(p[1] - p[2])
                    hi.append(p[3] - p[1])
            ax.bar(xs, ys, width * 0.95, yerr=[lo, hi], capsize=2, label=s,
                   color=styles[s][0], edgecolor="black", linewidth=0.5,
                   hatch={"--": "//", ":": ".."}.get(styles[s][2]))
        ax.set_xticks(range(len(cats)))
        ax.set_xticklabels(cats)
        ax.set_xlabel(e["x"])
    else:
        for s in series:
            pts = fig["series"][s]
            xs = [float(p[0]) for p in pts]
            ys = [p[1] for p in pts]
            lo = [p[1] - p[2] for p in pts]
            hi = [p[3] - p[1] for p in pts]
            color, marker, ls = styles[s]
            if e["figure"] == "timeseries":
                ax.plot(xs, ys, color=color, label=s, linewidth=1.6, linestyle=ls)
                ax.fill_between(xs, [p[2] for p in pts], [p[3] for p in pts], color=color,
                                alpha=0.15, linewidth=0)
            else:
                ax.errorbar(xs, ys, yerr=[lo, hi], color=color, marker=marker, markersize=4,
                            capsize=2, label=s, linewidth=1.4, linestyle=ls)
        if e["figure"] == "timeseries":
            ax.set_xlabel("time since start (ms)")
        else:
            ax.set_xlabel({"threads": "threads"}.get(e["x"], e["x"]))
        if e["logx"]:
            # Ticks at the measured x values, printed as plain numbers (2, 4, 8, not 2^1).
            ax.set_xscale("log", base=2 if e["x"] == "threads" else 10)
            if e["figure"] == "lines":
                ticks = sorted({float(p[0]) for pts in fig["series"].values() for p in pts})
                ax.set_xticks(ticks)
                ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "%g" % v))
                ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        if e["logy"]:
            ax.set_yscale("log")
        if e.get("mark_pus") and fig["pus"]:
            ax.axvline(fig["pus"], color="#888888", linestyle="--", linewidth=1)
            ax.text(fig["pus"], 1.0, " PUs", transform=ax.get_xaxis_transform(),
                    va="top", color="#888888", fontsize=8)
        if e["figure"] == "lines" and e["x"] == "threads" and not e["logx"]:
            ax.set_xticks(sorted({float(p[0]) for pts in fig["series"].values() for p in pts}))
    if not e["logy"]:
        ax.set_ylim(bottom=0)
    ax.set_ylabel(R.label(fig["metric"]))
    ax.set_title(fig["title"], fontsize=10)
    ax.grid(axis="y", color="#dddddd")
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    f.tight_layout()
    f.savefig(path)
    plt.close(f)


def img_tag(path, alt):
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return '<img alt="%s" src="data:image/png;base64,%s">' % (esc(alt), data)


# ---- tables ----

def table_html(t):
    out = ['<table class="num"><caption>%s</caption>' % esc(t["title"]),
           "<tr><th>%s</th>%s</tr>" % (esc(t["row_key"]),
                                       "".join("<th>%s</th>" % esc(c) for c in t["cols"]))]
    for rv, line in t["body"]:
        cells = []
        for s in line:
            if not s:
                cells.append("<td>&ndash;</td>")
            elif s[3] == 1:
                cells.append("<td>%s</td>" % R.fmt_num(s[0]))
            else:
                cells.append("<td>%s <span class=rng>%s&ndash;%s</span> <span class=n>n=%d</span></td>"
                             % (R.fmt_num(s[0]), R.fmt_num(s[1]), R.fmt_num(s[2]), s[3]))
        out.append("<tr><th>%s</th>%s</tr>" % (esc(rv), "".join(cells)))
    out.append("</table>")
    return "\n".join(out)


def counter_tables(e, rows):
    """PAPI columns per op and software counters per cell: (html, papi present?)."""
    parts = []
    papi = [c for c in R.PAPI_COLUMNS if any(r.get(c, "") != "" for r in rows)]
    soft = [c for c in R.SOFT_COLUMNS if any(r.get(c, "") != "" for r in rows)]
    keys = ["threads"] + [k for k in R.swept_params(rows) if k != "threads"]
    cols = R.ordered(rows, "scheme")
    # The allocator: a key of the rows when it varies (swept_params), else named in the title.
    allocs = R.allocs_of(rows)
    alloc_q = ", alloc=%s" % allocs[0] if len(allocs) == 1 else ""
    for metric in papi + soft:
        groups = []
        for r in rows:
            g = tuple(r.get(k, "") for k in keys)
            if g not in groups:
                groups.append(g)
        body = []
        for g in groups:
            line = [R.summary(R.num(r.get(metric)) for r in rows if r.get("scheme") == c
                              and tuple(r.get(k, "") for k in keys) == g) for c in cols]
            if any(line):
                body.append((" ".join("%s=%s" % kv for kv in zip(keys, g)), line))
        if body:
            unit = "per op" if metric in R.PAPI_COLUMNS else "per cell (all worker threads)"
            parts.append(table_html({"title": "%s, %s%s" % (metric, unit, alloc_q), "row_key": "cell",
                                     "cols": cols, "body": body}))
    return "\n".join(parts), bool(papi), soft


# ---- the page ----

CSS = """
body { font-family: sans-serif; max-width: 1100px; margin: 1em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.85em; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.5em; }
table.num td { text-align: right; white-space: nowrap; }
.rng { color: #666; font-size: 0.9em; } .n { color: #999; font-size: 0.8em; }
.note { background: #fff8e0; padding: 0.4em 0.8em; border-left: 3px solid #e0b000; }
.skip { color: #888; } figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; }
img { max-width: 100%; } code, pre { background: #f4f4f4; font-size: 0.85em; }
pre { padding: 0.5em; overflow-x: auto; }
"""


def flatten(d, prefix=""):
    out = []
    for k, v in d.items():
        key = "%s.%s" % (prefix, k) if prefix else k
        if isinstance(v, dict):
            out.extend(flatten(v, key))
        else:
            out.append((key, v if not isinstance(v, list) else ", ".join(map(str, v))))
    return out


def read_machine(out_dir):
    mpath = os.path.join(out_dir, "machine.json")
    if not os.path.exists(mpath):
        return {}
    with open(mpath) as f:
        try:
            return json.load(f)
        except ValueError:
            return {"error": "machine.json is not valid JSON"}


def page_head(out_dir, plan):
    """The title, what the numbers are, and the contents."""
    h = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>smrbench report: %s</title>"
         "<style>%s</style></head><body>" % (esc(os.path.basename(os.path.abspath(out_dir))), CSS)]
    h.append("<h1>smrbench report</h1>")
    h.append("<p>Results folder <code>%s</code>, set <b>%s</b>, planned %s, report written %s.</p>" % (
        esc(os.path.abspath(out_dir)), esc(plan["set"]), esc(plan.get("created", "?")),
        datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")))
    h.append("<p>Schemes: %s. Processors (PUs): %s. Every number is the median over repetitions "
             "(interleaved: all cells of repetition 1, then of 2, ...), with the min&ndash;max range "
             "and the repetition count. ns/op is threads &times; elapsed ns / operations "
             "(Hart et al.). Figures are drawn with matplotlib and embedded here; the files are in "
             "<code>figures/</code> beside this page%s.</p>" % (
                 esc(", ".join(plan.get("schemes", []))), esc(plan.get("pus", "?")),
                 ", gnuplot's PNG/SVG in <code>plots/</code>" if os.path.isdir(
                     os.path.join(out_dir, "plots")) else ""))
    if plan.get("duration_scale", 1) < 1:
        h.append("<p class=note>Cell durations were scaled by %.2f to fit the set's time budget "
                 "(%s s).</p>" % (plan["duration_scale"], esc(plan.get("budget_s"))))
    if not HAVE_MPL:
        h.append("<p class=note>matplotlib is not importable by %s: the figures below are "
                 "gnuplot's (plots/*.png).</p>" % esc(sys.executable))
    h.append("<ul>")
    for x in plan["experiments"]:
        h.append('<li><a href="#%s">%s</a>%s</li>' % (
            esc(x["exp"]["name"]), esc(x["exp"]["title"]),
            "" if x["run"] else " <span class=skip>(skipped)</span>"))
    h.append('<li><a href="#machine">The machine</a></li></ul>')
    return h


def run_summary(plan, e, run, rows):
    """One line: the workload, threads, params, allocators, duration and repetitions."""
    allocs = R.allocs_of(rows) or [run["params"].get("alloc") or plan.get("default_alloc") or "?"]
    return ("<p>Workload <code>%s</code>; threads %s; %s; %s %s; %g s per cell; %d repetition(s)%s. "
            "Experiment file <code>bench/%s</code>.</p>" % (
                esc(run["workload"]), esc(", ".join(map(str, run["threads"]))),
                esc(" ".join("%s=%s" % kv for kv in run["params"].items() if kv[0] != "alloc")
                    or "default params"),
                "allocators" if len(allocs) > 1 else "allocator",
                ", ".join("<code>%s</code>" % esc(a) for a in allocs),
                run["duration"], run["reps"],
                "; sampled every %d ms" % run["sample_ms"] if run["sample_ms"] else "",
                esc(e["file"])))


def figure_html(fig, out_dir, exp_dir):
    """A figure drawn with matplotlib (else gnuplot's PNG), embedded, with links to its files."""
    rel = os.path.relpath
    png = os.path.join(out_dir, "figures", fig["name"] + ".png")
    gp_png = os.path.join(out_dir, "plots", fig["name"] + ".png")
    gp_svg = os.path.join(out_dir, "plots", fig["name"] + ".svg")
    if HAVE_MPL:
        draw(fig, png)
        src = png
    elif os.path.exists(gp_png):
        src = gp_png
    else:
        return "<p class=skip>Figure %s: no matplotlib and no gnuplot PNG.</p>" % esc(fig["name"])
    links = ['<a href="%s">%s</a>' % (esc(rel(src, out_dir)), esc(rel(src, out_dir)))]
    for p in (gp_png, gp_svg):
        if os.path.exists(p) and p != src:
            links.append('<a href="%s">%s</a>' % (esc(rel(p, out_dir)), esc(rel(p, out_dir))))
    return "<figure>%s<figcaption>%s &mdash; files: %s; data: <code>%s</code></figcaption></figure>" % (
        img_tag(src, fig["name"]), esc(fig["title"]), ", ".join(links),
        esc(rel(os.path.join(exp_dir, fig["name"] + ".dat"), out_dir)))


def counters_html(e, rows):
    """(html, PAPI counters present?) of an experiment's counters."""
    ctr_html, has_papi, soft = counter_tables(e, rows)
    h = []
    if not has_papi:
        h.append("<p class=note>PAPI hardware counters (%s): not available on this "
                 "machine (the columns of runs.csv are empty).</p>" % esc(", ".join(R.PAPI_COLUMNS)))
    if ctr_html:
        h.append("<details><summary>Counters (%s)</summary>%s</details>" % (
            esc(", ".join(([("PAPI hardware counters")] if has_papi else []) + soft)), ctr_html))
    return h, has_papi


def logs_html(exp_dir):
    """The failed cells and the smrbench commands of an experiment."""
    h = []
    for part in sorted(os.listdir(exp_dir)) if os.path.isdir(exp_dir) else []:
        fl = os.path.join(exp_dir, part, "failures.log")
        if os.path.exists(fl):
            with open(fl) as f:
                h.append("<p class=note>Failed cells (no row in runs.csv):</p><pre>%s</pre>" % esc(f.read()))
    cmds = os.path.join(exp_dir, "commands.txt")
    if os.path.exists(cmds):
        with open(cmds) as f:
            h.append("<details><summary>Commands</summary><pre>%s</pre></details>" % esc(f.read()))
    return h


def experiment_html(out_dir, plan, x, figs, tables):
    """(html lines, PAPI counters present?) of one experiment's section."""
    e, run = x["exp"], x["run"]
    exp_dir = os.path.join(out_dir, e["name"])
    h = ['<h2 id="%s">%s</h2>' % (esc(e["name"]), esc(e["title"])), "<p>%s</p>" % esc(e["about"])]
    skipped = os.path.join(exp_dir, "skipped")
    if not run or os.path.exists(skipped):
        why = x["skip"]
        if os.path.exists(skipped):
            with open(skipped) as f:
                why = f.read().strip()
        h.append("<p class=skip>Not run: %s.</p>" % esc(why))
        return h, False
    rows = R.read_csv(os.path.join(exp_dir, "runs.csv"))
    h.append(run_summary(plan, e, run, rows))
    for note in run.get("notes", []):
        h.append("<p class=note>%s</p>" % esc(note))
    if not rows:
        h.append("<p class=skip>No results (not run yet, or every cell failed).</p>")
    h += [figure_html(fig, out_dir, exp_dir) for fig in figs if fig["exp"]["name"] == e["name"]]
    h += [table_html(t) for t in tables if t["exp"] == e["name"]]
    has_papi = False
    if rows:
        ctr, has_papi = counters_html(e, rows)
        h += ctr
    return h + logs_html(exp_dir), has_papi


def machine_html(machine, papi_anywhere):
    h = ['<h2 id="machine">The machine</h2>']
    if machine:
        h.append("<table><tr><th>key</th><th>value</th></tr>%s</table>" % "".join(
            "<tr><td><code>%s</code></td><td>%s</td></tr>" % (esc(k), esc(v)) for k, v in flatten(machine)))
    else:
        h.append("<p class=skip>No machine.json in this folder.</p>")
    h.append("<p>PAPI hardware counters: %s.</p>" % (
        "measured (see each experiment's counters)" if papi_anywhere else "not available on this machine"))
    return h


def build(out_dir, html_path):
    plan = R.load_plan(out_dir)
    if not plan:
        raise SystemExit("report.py: %s has no bench.json (run scripts/bench.py first)" % out_dir)
    figs = P.figures(out_dir)
    os.makedirs(os.path.join(out_dir, "figures"), exist_ok=True)
    tables = P.tables(out_dir)
    h = page_head(out_dir, plan)
    papi_anywhere = False
    for x in plan["experiments"]:
        section, has_papi = experiment_html(out_dir, plan, x, figs, tables)
        h += section
        papi_anywhere |= has_papi
    h += machine_html(read_machine(out_dir), papi_anywhere)
    h.append("</body></html>")
    tmp = html_path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(h) + "\n")
    os.replace(tmp, html_path)
    return html_path


# ---- several machines: each scheme's ratio to none per CPU kind ----

# Not a cell's identity: bench-ci's session groups repetitions.
NOT_KEY = {"session"}


def machine_rows(d):
    """(machine.json as a dict, rows) of a results folder: its runs.csv, or
    every <exp>/runs.csv of a bench folder.  SystemExit with one line when
    it is not a results folder."""
    mpath = os.path.join(d, "machine.json")
    if not os.path.isfile(mpath):
        raise SystemExit("report.py: %s has no machine.json (not a results folder)" % d)
    try:
        with open(mpath) as f:
            machine = json.load(f)
    except ValueError as e:
        raise SystemExit("report.py: %s is not valid JSON: %s" % (mpath, e))
    top = os.path.join(d, "runs.csv")
    paths = [top] if os.path.isfile(top) else sorted(
        os.path.join(d, x, "runs.csv") for x in os.listdir(d) if os.path.isfile(os.path.join(d, x, "runs.csv")))
    rows = [r for p in paths for r in R.read_csv(p)]
    if not rows:
        raise SystemExit("report.py: %s has no runs.csv with rows" % d)
    return machine, rows


def cell_of(rows):
    """row -> cell key, a tuple of (column, value): workload, threads, the
    allocator and the workload's params.  A workload's params are the
    columns filled in every row of that workload; a scheme's params are
    empty in the other schemes' rows (none's), so they are not part of it."""
    params = {}
    for w in R.ordered(rows, "workload"):
        mine = [r for r in rows if r.get("workload") == w]
        params[w] = [k for k in R.param_columns(mine[0]) if k not in NOT_KEY
                     and all(r.get(k, "") != "" for r in mine)]

    def key(r):
        return (("workload", r.get("workload", "")), ("threads", r.get("threads", "")),
                ("alloc", r.get("alloc") or R.LEGACY_ALLOC)) + tuple((k, r[k]) for k in params[r.get("workload")])
    return key


def ratios_to_none(rows):
    """{cell key: {scheme: median ns/op of scheme / median ns/op of none}}
    for the cells that have a none; none itself is left out (1 by definition)."""
    key = cell_of(rows)
    ns = {}
    for r in rows:
        v = R.num(r.get("ns_per_op"))
        if v is not None:
            ns.setdefault(key(r), {}).setdefault(r.get("scheme"), []).append(v)
    out = {}
    for cell, by_scheme in ns.items():
        base = R.summary(by_scheme.get(R.FLOOR, []))
        if not base or base[0] <= 0:
            continue
        out[cell] = {s: R.summary(v)[0] / base[0] for s, v in by_scheme.items() if s != R.FLOOR}
    return out


def machine_label(machine, taken):
    """The legend's name of a machine: its CPU kind and the costs that move the ratios."""
    cal = machine.get("calibration") or {}
    name = machine.get("cpu_kind") or machine.get("cpu_model") or "?"
    base, n = name, 2
    while name in taken:  # two folders of one kind: keep them apart
        name = "%s #%d" % (base, n)
        n += 1
    if cal.get("cas_ns") is not None and cal.get("mfence_ns") is not None:
        return name, "%s: CAS %.1f ns, mfence %.1f ns" % (name, cal["cas_ns"], cal["mfence_ns"])
    return name, "%s: no calibration recorded" % name


def cross_machine(dirs):
    """[(legend label, {cell: {scheme: ratio}})] per folder, and the cells
    every folder has, in the first folder's order."""
    per, taken = [], set()
    for d in dirs:
        machine, rows = machine_rows(d)
        name, lab = machine_label(machine, taken)
        taken.add(name)
        per.append((lab, ratios_to_none(rows), R.ordered(rows, "scheme")))
    common = [c for c in per[0][1] if all(c in p[1] for p in per[1:])]
    return per, common


def cell_title(cell):
    return ", ".join("%s=%s" % kv for kv in cell)


def draw_cross(cell, per, schemes, path):
    f, ax = plt.subplots(figsize=(9, 4.6), dpi=100)
    width = 0.8 / len(per)
    for i, (lab, ratios, _) in enumerate(per):
        xs = [k - 0.4 + width * (i + 0.5) for k, s in enumerate(schemes) if s in ratios[cell]]
        ys = [ratios[cell][s] for s in schemes if s in ratios[cell]]
        ax.bar(xs, ys, width * 0.95, label=lab, color=R.COLORS[(i + 1) % len(R.COLORS)],
               edgecolor="black", linewidth=0.5)
    ax.axhline(1.0, color="#888888", linewidth=1, linestyle="--")
    ax.set_xticks(range(len(schemes)))
    ax.set_xticklabels(schemes)
    ax.set_ylabel("ns/op / none's ns/op (medians)")
    ax.set_ylim(bottom=0)
    ax.set_title("Ratio to none per machine: " + cell_title(cell), fontsize=10)
    ax.grid(axis="y", color="#dddddd")
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    f.tight_layout()
    f.savefig(path)
    plt.close(f)


def cross_build(dirs, html_path):
    """The cross-machine page and its figures; returns the PNG paths."""
    per, common = cross_machine(dirs)
    if not HAVE_MPL:
        raise SystemExit("report.py: the cross-machine figure needs matplotlib (%s cannot import it)" % sys.executable)
    if not common:
        raise SystemExit("report.py: no cell (workload, threads, alloc, params) was measured with none in every folder")
    out_dir = os.path.dirname(os.path.abspath(html_path))
    stem = os.path.splitext(os.path.basename(html_path))[0]
    h = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>smrbench: ratios to none across machines"
         "</title><style>%s</style></head><body><h1>Ratios to none across machines</h1>" % CSS,
         "<p>Folders: %s. Each bar: a scheme's median ns/op over its repetitions divided by none's "
         "in the same folder and cell; the legend gives each machine's locked RMW (CAS) and mfence "
         "costs from its machine.json calibration.</p>" % ", ".join("<code>%s</code>" % esc(d) for d in dirs)]
    pngs = []
    for cell in common:
        # The schemes of any folder, in the first-seen order of the folders.
        schemes = []
        for _, ratios, order in per:
            schemes += [s for s in order if s in ratios[cell] and s not in schemes]
        slug = "-".join(v for _, v in cell).replace("/", "_")
        png = os.path.join(out_dir, "%s-%s.png" % (stem, slug))
        draw_cross(cell, per, schemes, png)
        pngs.append(png)
        h.append("<h2>%s</h2><figure>%s</figure>" % (esc(cell_title(cell)), img_tag(png, cell_title(cell))))
        h.append(table_html({"title": "ratio to none, " + cell_title(cell), "row_key": "machine", "cols": schemes,
                             "body": [(lab, [(ratios[cell][s], 0, 0, 1) if s in ratios[cell] else None
                                             for s in schemes]) for lab, ratios, _ in per]}))
    h.append("</body></html>")
    with open(html_path, "w") as f:
        f.write("\n".join(h) + "\n")
    return pngs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", nargs="+", help="a results folder written by scripts/bench.py; "
                    "several (from different machines): the cross-machine figure")
    ap.add_argument("-o", "--output", help="the HTML file (default DIR/report.html; "
                    "with several folders ./cross-machine.html)")
    a = ap.parse_args(argv)
    if len(a.dir) > 1:
        path = a.output or "cross-machine.html"
        for png in cross_build(a.dir, path):
            print(png)
        print(path)
        return 0
    path = a.output or os.path.join(a.dir[0], "report.html")
    build(a.dir[0], path)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
