# SPDX-License-Identifier: MIT
"""smrb_results.py - what bench.py and report.py share (standard library only).

Experiment files (bench/*.exp), the sets (bench/sets.conf), the results
folder's layout, and the aggregation of repetitions into medians with their
min-max range.

Results folder of one `make bench` (DIR):
    DIR/bench.json            the resolved plan: set, schemes, experiments, durations
    DIR/machine.json          the machine (copied from the first smrbench run)
    DIR/<exp>/part-N/         one `smrbench run -o` folder per call (runs.csv, samples.csv)
    DIR/<exp>/done            marker: the experiment ran to its end (JSON: cells, failed)
    DIR/<exp>/skipped         marker: it could not run here (the reason, one line)
    DIR/<exp>/runs.csv        every part's rows, merged
    DIR/<exp>/samples.csv     every part's samples, merged (experiments with sample_ms)
    DIR/<exp>/<fig>.dat       gnuplot data derived from runs.csv / samples.csv
    DIR/plots/<fig>.png,.svg  gnuplot's figures
    DIR/tables.txt            the per-op tables
    DIR/report.html           scripts/report.py (figures under DIR/figures/)
"""
import configparser
import csv
import datetime
import glob
import json
import os
import socket
import statistics
import subprocess



def param_columns(row):
    """The param columns of a runs.csv row: smrbench writes its own columns
    (smrbench list --json: "columns") through `ended`, then one per param.
    `alloc` (-P alloc=) is among the former but identifies a cell as much as a
    param does: swept_params() reports it when it varies."""
    cols = list(row)
    return cols[cols.index("ended") + 1:] if "ended" in cols else []

# Hardware counters (PAPI): empty columns when the machine has none.
PAPI_COLUMNS = ["cycles_per_op", "instr_per_op", "l1d_miss_per_op", "llc_miss_per_op",
                "br_miss_per_op"]
SOFT_COLUMNS = ["ctx_switches", "page_faults", "migrations"]

# Derived metrics: name -> (source column, scale, label).
DERIVED = {
    "mops": ("ops_per_s", 1e-6, "Mops/s"),
}
LABELS = {
    "ns_per_op": "ns/op",
    "ops_per_s": "ops/s",
    "mops": "Mops/s",
    "unreclaimed_peak": "unreclaimed objects (peak)",
    "rss_peak_kb": "peak RSS (kB)",
    "unreclaimed": "unreclaimed objects",
    "rss_kb": "RSS (kB)",
}


def label(metric):
    return LABELS.get(metric, metric)


# ---- experiment files ----

def _split_list(s):
    return [x.strip() for x in s.replace("\n", ",").split(",") if x.strip()]


def load_sets(bench_dir):
    """The sets of bench/sets.conf: name -> {budget_s, min_duration, about}."""
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(os.path.join(bench_dir, "sets.conf"))
    sets = {}
    for name in cp.sections():
        sec = cp[name]
        sets[name] = {
            "budget_s": float(sec.get("budget", "0")),
            "min_duration": float(sec.get("min_duration", "0.05")),
            "about": sec.get("about", ""),
        }
    return sets


def load_experiment(path, set_name):
    """An experiment file with its [<set>] section applied; None if not in the set."""
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str  # param names keep their case
    with open(path) as f:
        cp.read_file(f)
    e = dict(cp["experiment"])
    name = os.path.splitext(os.path.basename(path))[0]
    sets = e.get("sets", "quick default full").split()
    if set_name not in sets:
        return None
    params = dict(cp["params"]) if cp.has_section("params") else {}
    if cp.has_section(set_name):
        for k, v in cp[set_name].items():
            if k.startswith("param."):
                params[k[len("param."):]] = v
            else:
                e[k] = v
    exp = {
        "name": name,
        "file": os.path.basename(path),
        "title": e.get("title", name),
        "about": " ".join(e.get("about", "").split()),
        "workloads": _split_list(e.get("workload", "")),
        "schemes": e.get("schemes", "all").strip(),
        # Peers (jvm, crossbeam-epoch): added to the schemes where built.
        "peers": _split_list(e.get("peers", "")),
        "threads": _split_list(e.get("threads", "1")),
        "duration": float(e.get("duration", "1")),
        "reps": int(e.get("reps", "3")),
        "sample_ms": int(e.get("sample_ms", "0") or 0),
        "params": {k: ",".join(_split_list(v)) for k, v in params.items()},
        "figure": e.get("figure", "lines"),
        "x": e.get("x", "threads"),
        "y": _split_list(e.get("y", "ns_per_op")),
        "facet": e.get("facet", "").strip(),
        "series": e.get("series", "scheme").strip(),
        "logx": e.get("logx", "no").strip().lower() in ("yes", "true", "1"),
        "logy": e.get("logy", "no").strip().lower() in ("yes", "true", "1"),
        "plot": e.get("plot", "").strip(),
        "table_metrics": _split_list(e.get("table", "ns_per_op")),
        "table_rows": e.get("table_rows", "").strip(),
        "mark_pus": e.get("mark_pus", "no").strip().lower() in ("yes", "true", "1"),
        "order": float(e.get("order", "50")),
    }
    return exp


def load_experiments(bench_dir, set_name):
    out = []
    for path in sorted(glob.glob(os.path.join(bench_dir, "*.exp"))):
        e = load_experiment(path, set_name)
        if e:
            out.append(e)
    return sorted(out, key=lambda e: (e["order"], e["name"]))


# ---- CSV ----

def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path, rows, header=None):
    if header is None:
        header = []
        for r in rows:
            for k in r:
                if k not in header:
                    header.append(k)
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    os.replace(tmp, path)


def merge_parts(exp_dir, name):
    """Rows of every part-N/<name> of an experiment, in part order."""
    rows = []
    parts = sorted(glob.glob(os.path.join(exp_dir, "part-*")),
                   key=lambda p: int(p.rsplit("-", 1)[1]) if p.rsplit("-", 1)[1].isdigit() else 0)
    for p in parts:
        rows.extend(read_csv(os.path.join(p, name)))
    return rows


# ---- aggregation ----

def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def metric_value(row, metric):
    if metric in DERIVED:
        col, scale, _ = DERIVED[metric]
        v = num(row.get(col))
        return None if v is None else v * scale
    return num(row.get(metric))


def summary(values):
    """(median, min, max, n) of the numbers given, None when there are none."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return statistics.median(vals), min(vals), max(vals), len(vals)


def sort_values(vals):
    """Numbers in numeric order; words in first-seen order, after the numbers."""
    def key(iv):
        i, v = iv
        n = num(v)
        return (0, n, i) if n is not None else (1, 0.0, i)
    return [v for _, v in sorted(enumerate(vals), key=key)]


def ordered(rows, key):
    seen = []
    for r in rows:
        v = r.get(key, "")
        if v not in seen:
            seen.append(v)
    return seen


def series_data(rows, x, series, facet, metric, numeric_x=True):
    """{facet value: {series value: [(x, median, min, max, n)]}} over repetitions.

    facet '' gives one facet, keyed ''.  Series keep their first-seen order
    (the scheme order of smrbench list); x values are sorted when numeric_x."""
    out = {}
    facets = sort_values(ordered(rows, facet)) if facet else [""]
    for fv in facets:
        sub = [r for r in rows if not facet or r.get(facet) == fv]
        per = {}
        for sv in ordered(sub, series):
            pts = []
            xs = ordered([r for r in sub if r.get(series) == sv], x)
            if numeric_x:
                xs = sort_values(xs)
            for xv in xs:
                s = summary(metric_value(r, metric) for r in sub
                            if r.get(series) == sv and r.get(x) == xv)
                if s:
                    pts.append((xv,) + s)
            if pts:
                per[sv] = pts
        if per:
            out[fv] = per
    return out


def timeseries(samples, series, facet="", value="unreclaimed"):
    """{facet: {series: [(t_ms, median value, min, max)]}}: the k-th sample of
    every repetition together (they are taken on the same period)."""
    out = {}
    facets = sort_values(ordered(samples, facet)) if facet else [""]
    for fv in facets:
        sub = [r for r in samples if not facet or r.get(facet) == fv]
        per = {}
        for sv in ordered(sub, series):
            reps = {}
            for r in sub:
                if r.get(series) == sv:
                    reps.setdefault(r.get("rep"), []).append(r)
            n = min(len(v) for v in reps.values())
            pts = []
            for k in range(n):
                ts = [num(v[k].get("t_ms")) for v in reps.values()]
                vs = [num(v[k].get(value)) for v in reps.values()]
                s = summary(vs)
                t = summary(ts)
                if s and t:
                    pts.append((t[0], s[0], s[1], s[2]))
            if pts:
                per[sv] = pts
        if per:
            out[fv] = per
    return out


def swept_params(rows):
    """Param columns whose value differs between rows, the allocator first
    when it does."""
    if not rows:
        return []
    return [k for k in ["alloc"] + param_columns(rows[0]) if k in rows[0] and len(ordered(rows, k)) > 1]


# Runs written before runs.csv had an `alloc` column all used glibc's malloc.
LEGACY_ALLOC = "glibc"

# The leak floor every ratio is taken against (compare.py, report.py's
# cross-machine figure): the scheme of family none (instances/none.c).  A
# runs.csv names schemes, not their families, and is read without the binary
# that wrote it, so the floor is known here by its name, once.
FLOOR = "none"


def allocs_of(rows):
    """The allocators of these rows, in first-seen order (runs.csv's alloc
    column; rows of a file from before it: glibc)."""
    return ordered([r if r.get("alloc") else dict(r, alloc=LEGACY_ALLOC) for r in rows], "alloc")


def split_by_alloc(rows, *used):
    """[(qualifier, rows)]: one group per allocator when the rows have several
    and none of `used` (the figure's x, series, facet; a table's rows,
    columns, split) is the allocator already; qualifier is 'alloc=NAME'
    when the allocator must still be named (one allocator, or one group of
    several), '' when `used` names it."""
    if "alloc" in used:
        return [("", rows)]
    allocs = allocs_of(rows)
    if len(allocs) <= 1:
        return [("alloc=%s" % allocs[0] if allocs else "", rows)]
    return [("alloc=%s" % a, [r for r in rows if (r.get("alloc") or LEGACY_ALLOC) == a]) for a in allocs]


def fmt_num(x):
    if x is None:
        return "-"
    if x == int(x) and abs(x) < 1e9:
        return "%d" % x  # counts stay counts
    ax = abs(x)
    if ax >= 1e6:
        return "%.3g" % x
    if ax >= 100:
        return "%.0f" % x
    if ax >= 10:
        return "%.1f" % x
    return "%.2f" % x


def quartiles(xs):
    """(25th, 50th, 75th percentile), linear interpolation between order
    statistics (statistics.quantiles' 'inclusive' method)."""
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


def text_table(header, rows, indent="", left_last=False):
    """Rows of cells as aligned text lines: the first column left-aligned,
    the others right-aligned (numbers), the last left-aligned too when
    left_last (a verdict)."""
    table = [[str(c) for c in r] for r in [header] + rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = []
    for r in table:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        if left_last and len(r) > 1:
            cells[-1] = r[-1].ljust(widths[-1])
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def new_folder(results, name):
    """A new folder RESULTS/NAME-<UTC time>-<host>[-N]: never an existing one
    (results are never overwritten), made here."""
    stamp = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
    base = os.path.join(results, "%s-%s-%s" % (name, stamp, socket.gethostname().split(".")[0]))
    d, n = base, 1
    while True:
        try:
            os.makedirs(d)
            return d
        except FileExistsError:
            n += 1
            d = "%s-%d" % (base, n)


# ---- the palette: one colour, marker and dash per scheme, in every figure ----

# 20 distinguishable colours (matplotlib's tab20 order, darks first).
COLORS = ["#000000", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
          "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ff9896", "#98df8a",
          "#c5b0d5", "#ffbb78", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5"]
# Markers as matplotlib names them, with gnuplot's point type of the nearest shape.
MARKERS = [("o", 7), ("s", 5), ("D", 13), ("^", 9), ("v", 11), ("<", 8), (">", 10), ("p", 15),
           ("h", 6), ("*", 3), ("X", 2), ("P", 1), ("d", 12), ("8", 14), ("H", 4)]
# Dashes as matplotlib and gnuplot (dt) name them.
DASHES = {"solid": ("-", 1), "dashed": ("--", 2), "dotted": (":", 3)}


def series_styles(plan, names):
    """{series: (colour, (marker, gnuplot point type), dash)} of a figure's
    series, for report.py (matplotlib) and plot.py (gnuplot) alike.  A scheme's
    colour and marker follow its place in the plan's schemes (smrbench list's
    order), then the peers (other languages' programs), so that it looks the
    same in every figure; the reference back ends (bench.json's
    reference_schemes; a plan from before it draws every scheme solid) are
    dashed, the peers dotted.  A series that is no scheme takes the places
    after them."""
    peers = plan.get("peers", [])
    known = list(plan.get("schemes", [])) + list(peers)
    others = [n for n in names if n not in known]
    out = {}
    for name in names:
        i = known.index(name) if name in known else len(known) + others.index(name)
        dash = "dotted" if name in peers else "dashed" if name in plan.get("reference_schemes", []) else "solid"
        out[name] = (COLORS[i % len(COLORS)], MARKERS[i % len(MARKERS)], dash)
    return out


def smrbench_list(smrbench):
    """`smrbench list --json` (harness/list_json.c), parsed: what the binary
    has and what each scheme and workload is."""
    out = subprocess.run([smrbench, "list", "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True, check=True).stdout
    return json.loads(out)


def load_plan(out_dir):
    path = os.path.join(out_dir, "bench.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)
