#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench.py - run a set of experiments (bench/*.exp) into one results folder.

    bench.py [--set quick|default|full] [--smrbench ./smrbench] [--bench-dir bench]
             [--out DIR | --results results] [--fresh] [--exp NAME ...] [--dry-run]
             [--plots-dir scripts/plots] [--gnuplot gnuplot]

Each experiment is one or more `smrbench run -o DIR/<exp>/part-N` calls.  A
cell that is in some part's runs.csv is done: after an interrupt, running the
same command again (or naming the folder with --out) resumes at cell
granularity, re-running only the cells with no row.  An experiment that ran
to its end is marked DIR/<exp>/done; one that cannot run on this build (its
workload is missing, a param unknown) is marked DIR/<exp>/skipped with why.

Without --out, the newest unfinished folder of the same set under --results
is resumed, else a new results/bench-<set>-<UTC time>-<host>/ is made
(--fresh always makes a new one).

Schemes and workloads come from `smrbench list` at run time.  The set's time
budget (bench/sets.conf) scales every cell's duration down, never below the
set's floor, so that the estimate fits.  Standard library only.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smrb_results as R  # noqa: E402
import duet  # noqa: E402

OVERHEAD_GUESS_S = 0.08   # fork + set-up + teardown of one cell, until measured
CURRENT = [None]          # the smrbench call running now (stopped on an interrupt)


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def fmt_time(s):
    s = int(round(s))
    if s >= 3600:
        return "%dh%02dm" % (s // 3600, s // 60 % 60)
    if s >= 60:
        return "%dm%02ds" % (s // 60, s % 60)
    return "%ds" % s


# ---- what this smrbench has ----

# Params of the harness, not of a workload: any experiment may give them.
HARNESS_PARAMS = ("stall", "alloc")


def smrbench_list(smrbench):
    """{'schemes': [names], 'native': [names of this repository's own schemes],
    'workloads': {name: [param names]}, 'allocs': {name: installed?},
    'default_alloc': name} from `smrbench list --json`."""
    j = R.smrbench_list(smrbench)
    return {"schemes": [s["name"] for s in j["schemes"]],
            "native": [s["name"] for s in j["schemes"] if not s["reference"]],
            "workloads": {w["name"]: [p["name"] for p in w["params"]] for w in j["workloads"]},
            "allocs": {a["name"]: a["installed"] for a in j["allocators"]},
            "default_alloc": j["default_allocator"],
            # Peers (harness/peers.c): name -> built here?
            "peers": {p["name"]: p["built"] for p in j.get("peers", [])}}


def machine_pus(smrbench):
    try:
        out = subprocess.run([smrbench, "sysinfo"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True, check=True).stdout
        j = json.loads(out)
        for key in ("topology",):
            if key in j and "pus" in j[key]:
                return int(j[key]["pus"])
    except (subprocess.CalledProcessError, ValueError, KeyError, OSError):
        pass
    return os.cpu_count() or 1


# ---- the plan ----

def resolve_threads(tokens, pus):
    """'2' is 2 threads; 'x2' is twice the machine's PUs (oversubscription)."""
    out = []
    for t in tokens:
        n = pus * int(t[1:]) if t.startswith("x") else int(t)
        if n not in out:
            out.append(n)
    return out


def resolve(exp, have, pus):
    """The experiment's concrete run, or (None, why it cannot run here)."""
    wl = next((w for w in exp["workloads"] if w in have["workloads"]), None)
    if not wl:
        return None, "workload %s not in this build" % " or ".join(exp["workloads"])
    # Params: only the workload's own and the harness's (stall, alloc) may be given.
    params = {}
    for k, v in exp["params"].items():
        if k in have["workloads"][wl] or k in HARNESS_PARAMS:
            params[k] = v
        elif k.startswith(wl + "."):  # workload-specific form: list.elements = ...
            params[k[len(wl) + 1:]] = v
        elif "." in k:
            continue                   # another workload's
        else:
            return None, "workload %s has no param %s" % (wl, k)
    for k, v in exp["params"].items():
        if k.startswith(wl + ".") and k[len(wl) + 1:] not in have["workloads"][wl]:
            return None, "workload %s has no param %s" % (wl, k[len(wl) + 1:])
    if exp["schemes"] in ("all", ""):
        schemes = list(have["schemes"])
    elif exp["schemes"] == "native":       # ours, without the libraries' back ends
        schemes = list(have["native"])
    else:
        schemes = [s for s in R._split_list(exp["schemes"]) if s in have["schemes"]]
    if not schemes:
        return None, "none of the schemes %s in this build" % exp["schemes"]
    # Peers (other languages' programs) where this build has them.
    notes = []
    for p in exp.get("peers", []):
        if have.get("peers", {}).get(p):
            schemes.append(p)
        else:
            notes.append("peer %s not built here (scripts/setup.sh, then configure): left out" % p)
    # Allocators: those not installed here are left out, as schemes are (a
    # smrbench without an allocators list, an older one, is not second-guessed).
    if "alloc" in params and have.get("allocs"):
        want = R._split_list(params["alloc"])
        unknown = [a for a in want if a not in have["allocs"]]
        if unknown:
            return None, "this smrbench has no allocator %s" % ", ".join(unknown)
        missing = [a for a in want if not have["allocs"][a]]
        keep = [a for a in want if have["allocs"][a]]
        if not keep:
            return None, "allocator %s not installed here (scripts/setup.sh)" % ", ".join(missing)
        if missing:
            notes.append("allocator %s not installed here (scripts/setup.sh): left out" % ", ".join(missing))
        params["alloc"] = ",".join(keep)
    run = {
        "workload": wl,
        "schemes": schemes,
        "threads": resolve_threads(exp["threads"], pus),
        "duration": exp["duration"],
        "reps": exp["reps"],
        "params": params,
        "sample_ms": exp["sample_ms"],
        "notes": notes,
    }
    return run, None


def combos(params):
    """Every combination of the param sweeps, as [(name, value)] lists, in smrbench's order."""
    out = [[]]
    for k, v in params.items():
        out = [c + [(k, x)] for c in out for x in v.split(",")]
    return out


def all_cells(run):
    cells = []
    first = run.get("first_rep", 1)   # a duet's confirmation numbers its repetitions on
    for rep in range(first, first + run["reps"]):
        for c in combos(run["params"]):
            for t in run["threads"]:
                for s in run["schemes"]:
                    cells.append((s, t, rep, tuple(c)))
    return cells


def cell_of_row(row, run):
    return (row.get("scheme"), int(row.get("threads", 0)), int(row.get("rep", 0)),
            tuple((k, row.get(k, "")) for k in run["params"]))


def done_cells(exp_dir, run):
    return {cell_of_row(r, run) for r in R.merge_parts(exp_dir, "runs.csv")}


def plan_calls(run, missing):
    """smrbench calls covering the missing cells: whole repetitions in one call,
    the rest of an interrupted repetition cell by cell."""
    per_rep = {}
    for cell in missing:
        per_rep.setdefault(cell[2], []).append(cell)
    full = len(run["schemes"]) * len(run["threads"]) * len(combos(run["params"]))
    calls, rep_run = [], []

    def flush():
        if rep_run:
            calls.append({"schemes": run["schemes"], "threads": run["threads"],
                          "params": run["params"], "first_rep": rep_run[0],
                          "reps": len(rep_run), "cells": full * len(rep_run)})
            del rep_run[:]

    for rep in sorted(per_rep):
        cells = per_rep[rep]
        if len(cells) == full:
            if rep_run and rep_run[-1] != rep - 1:
                flush()
            rep_run.append(rep)
            continue
        flush()
        for s, t, r, c in sorted(cells, key=lambda x: (x[3], x[1], run["schemes"].index(x[0]))):
            calls.append({"schemes": [s], "threads": [t], "params": dict(c),
                          "first_rep": r, "reps": 1, "cells": 1})
    flush()
    return calls


def estimate(runs, overhead):
    return sum(len(all_cells(r)) * (r["duration"] + overhead) for r in runs)


def fit_budget(runs, budget, floor, overhead):
    """Scale every duration by one factor so the estimate fits the budget."""
    if budget <= 0:
        return 1.0
    total = estimate(runs, overhead)
    if total <= budget:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        t = sum(len(all_cells(r)) * (max(r["duration"] * mid, min(floor, r["duration"])) + overhead)
                for r in runs)
        lo, hi = (mid, hi) if t <= budget else (lo, mid)
    return lo


# ---- running ----

class Progress:
    """The per-cell overhead (fork, set-up, verify, teardown), measured as cells
    finish: the median of the recent ones, so that one slow cell does not
    throw the estimate off."""
    def __init__(self):
        self.samples = []

    @property
    def overhead(self):
        if not self.samples:
            return OVERHEAD_GUESS_S
        return statistics.median(self.samples[-50:])

    def add(self, seconds):
        self.samples.append(max(0.0, seconds))


def children_of(pid):
    """Processes whose parent is pid (the cell smrbench forked)."""
    kids = []
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        pass
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    kids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return kids


def run_call(smrbench, exp_dir, run, call, prefix, progress, remaining, cell_timeout, env=None):
    """One smrbench call; returns (exit status, stderr tail).

    remaining: [cells of this experiment left, seconds of the later
    experiments, their cells]; each finished cell takes one off the first.
    A cell that reports nothing for cell_timeout seconds is killed (its
    process only: smrbench records it as failed and goes on)."""
    n = 1
    while os.path.exists(os.path.join(exp_dir, "part-%d" % n)):
        n += 1
    out = os.path.join(exp_dir, "part-%d" % n)
    cmd = [smrbench, "run", "-w", run["workload"], "-s", ",".join(call["schemes"]),
           "-t", ",".join(str(t) for t in call["threads"]), "-d", "%g" % run["duration"],
           "-r", str(call["reps"]), "--first-rep", str(call["first_rep"]), "-o", out]
    for k, v in call["params"].items():
        cmd += ["-P", "%s=%s" % (k, v)]
    if run["sample_ms"]:
        cmd += ["--sample-ms", str(run["sample_ms"])]
    with open(os.path.join(exp_dir, "commands.txt"), "a") as f:
        f.write(" ".join(cmd) + "\n")
    tail = []
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         universal_newlines=True, bufsize=1, env=env)
    CURRENT[0] = p
    lines = queue.Queue()

    def reader():
        for line in p.stderr:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=reader, daemon=True).start()
    last = time.time()
    while True:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            if time.time() - last > cell_timeout:
                for kid in children_of(p.pid):
                    try:
                        os.kill(kid, signal.SIGKILL)
                    except OSError:
                        pass
                msg = "a cell reported nothing for %ds: killed (--cell-timeout)" % cell_timeout
                log("%s %s" % (prefix, msg))
                with open(os.path.join(exp_dir, "timeouts.log"), "a") as f:
                    f.write("%s: %s\n" % (" ".join(cmd), msg))
                last = time.time()
            continue
        if line is None:
            break
        line = line.rstrip("\n")
        tail = (tail + [line])[-5:]
        m = re.match(r"^\[(\d+)/(\d+)\] (.*)$", line)
        if m:
            now = time.time()
            progress.add(now - last - run["duration"])
            last = now
            remaining[0] -= 1
            left = remaining[0] * (run["duration"] + progress.overhead) + remaining[1]
            body = re.sub(r" \(\S+ left\)$", "", m.group(3))
            log("%s [%s/%s] %s | set: %d cells, ~%s left" % (
                prefix, m.group(1), m.group(2), body, remaining[0] + remaining[2],
                fmt_time(left)))
        elif line.startswith("smrbench: PAPI") or re.match(r"smrbench: \d+ cells of", line):
            continue
        elif line.startswith("smrbench: results in"):
            continue
        else:
            log("%s %s" % (prefix, line))
    rc = p.wait()
    return rc, tail


def merge(exp_dir, run):
    rows = R.merge_parts(exp_dir, "runs.csv")
    if rows:
        R.write_csv(os.path.join(exp_dir, "runs.csv"), rows)
    samples = R.merge_parts(exp_dir, "samples.csv")
    if samples:
        R.write_csv(os.path.join(exp_dir, "samples.csv"), samples)
    return rows


def find_resumable(results, set_name):
    if not os.path.isdir(results):
        return None
    cands = []
    for d in os.listdir(results):
        p = os.path.join(results, d)
        plan = R.load_plan(p)
        if plan and plan.get("set") == set_name and not plan.get("finished"):
            cands.append((os.path.getmtime(os.path.join(p, "bench.json")), p))
    return max(cands)[1] if cands else None


def save_plan(out, plan):
    tmp = os.path.join(out, "bench.json.tmp")
    with open(tmp, "w") as f:
        json.dump(plan, f, indent=1)
    os.replace(tmp, os.path.join(out, "bench.json"))


def build_plan(a, exps, have, pus, sets):
    st = sets.get(a.set, {"budget_s": 0, "min_duration": 0.05})
    entries = []
    for e in exps:
        run, why = resolve(e, have, pus)
        entries.append({"exp": e, "run": run, "skip": why})
    runs = [x["run"] for x in entries if x["run"]]
    f = fit_budget(runs, st["budget_s"], st["min_duration"], OVERHEAD_GUESS_S)
    for r in runs:
        r["duration"] = round(max(r["duration"] * f, min(st["min_duration"], r["duration"])), 3)
    return {
        "set": a.set,
        "created": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "smrbench": os.path.abspath(a.smrbench),
        "schemes": have["schemes"],
        "peers": [p for p, built in have.get("peers", {}).items() if built],
        "reference_schemes": [s for s in have["schemes"] if s not in have["native"]],
        "workloads": sorted(have["workloads"]),
        "default_alloc": have.get("default_alloc"),
        "pus": pus,
        "budget_s": st["budget_s"],
        "duration_scale": round(f, 4),
        "estimate_s": round(estimate(runs, OVERHEAD_GUESS_S)),
        "experiments": entries,
        "finished": False,
    }


def print_plan(plan):
    log("set %s: %d experiments, schemes %s, %d PUs" % (
        plan["set"], len(plan["experiments"]), ",".join(plan["schemes"]), plan["pus"]))
    if plan["duration_scale"] < 1:
        log("cell durations scaled by %.2f to fit the set's budget of %s" % (
            plan["duration_scale"], fmt_time(plan["budget_s"])))
    for x in plan["experiments"]:
        e, r = x["exp"], x["run"]
        if not r:
            log("  %-22s skipped: %s" % (e["name"], x["skip"]))
            continue
        n = len(all_cells(r))
        log("  %-22s %-8s %4d cells x %gs  threads %s  %s" % (
            e["name"], r["workload"], n, r["duration"], ",".join(map(str, r["threads"])),
            " ".join("%s=%s" % kv for kv in r["params"].items())))
        for note in r.get("notes", []):
            log("  %-22s note: %s" % ("", note))
    log("estimated time: %s (cells' durations + ~%.2f s each to start and verify)" % (
        fmt_time(plan["estimate_s"]), OVERHEAD_GUESS_S))


# ---- duet: a baseline revision and HEAD, interleaved (make bench-ci) ----

def run_duet_exp(a, plan, run, exp_dir, prefix, progress, later_cells):
    """Every cell of one experiment on both sides, interleaved cell by cell:
    each cell runs on one build and at once on the other, one smrbench call
    per cell and side, the order alternating from cell to cell and flipping
    from one repetition to the next (neither side always runs second).  A
    busy moment of the machine then falls on both sides of a pair.  Cells
    already in a side's part-*/runs.csv are kept (resume).  Returns the
    failed calls."""
    bins = {"base": plan["baseline"]["smrbench"], "head": plan["smrbench"]}
    # Calibrating once per side is enough (machine.json of its first call).
    quiet = dict(os.environ, SMRBENCH_NO_CALIBRATE="1")
    dirs = {side: os.path.join(exp_dir, side) for side in duet.SIDES}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    have = {side: done_cells(dirs[side], run) for side in duet.SIDES}
    cells = all_cells(run)
    left = sum(len([c for c in cells if c not in have[side]]) for side in duet.SIDES)
    failed = 0
    per_rep = len(cells) // run["reps"]   # all_cells lists them repetition by repetition
    for n, cell in enumerate(cells):
        # Alternate within a repetition and flip between repetitions: each cell
        # runs base first in some repetitions and head first in the others.
        for side in (duet.SIDES if (n % per_rep + cell[2]) % 2 else duet.SIDES[::-1]):
            if cell in have[side]:
                continue
            env = quiet if plan["calibrated"].get(side) else None
            rc, tail = run_call(bins[side], dirs[side], run, plan_calls(run, [cell])[0],
                                "%s %s" % (prefix, side), progress,
                                [left, later_cells * (run["duration"] + progress.overhead), later_cells],
                                a.cell_timeout or 120 + 10 * run["duration"], env)
            plan["calibrated"][side] = True
            left -= 1
            if rc < 0 or rc == 130:
                raise KeyboardInterrupt
            if rc == 2:
                why = next((t for t in reversed(tail) if t.startswith("smrbench:")), "usage error")
                raise duet.DuetError("the %s build refused the matrix: %s" % (side, why))
            failed += rc != 0
    for side in duet.SIDES:
        merge(dirs[side], run)
    return failed


def confirm_run(run, flagged, first_rep, factor):
    """The flagged cells of one experiment as a run of their own: the same
    params and duration, factor times the repetitions, numbered from
    first_rep on, so that all runs pool into one sample per cell."""
    schemes = [s for s in run["schemes"] if s in {k[1] for k in flagged}]
    threads = sorted({k[2] for k in flagged})
    return dict(run, schemes=schemes, threads=threads, reps=factor * run["reps"], first_rep=first_rep)


# A confirmation's stages, in multiples of the first run's repetitions: pooled
# 20 (of 5), then 40.  After the first stage a cell whose pooled median is no
# longer above 1 + the minimum effect is cleared (most cells the screen flags
# by noise); the others are judged on all 40 by the first verdict's rule.
# README, "Performance regression tracking": why 40, and what it costs.
CONFIRM_STAGES = (3, 4)


def duet_verdict(out, runs, subs, min_effect, title, fname):
    """The verdict on the repetitions under each of subs ("" the first run,
    "confirm/1" ... the confirmation's stages), pooled per side: written to
    fname and printed; returns verdicts()'s rows."""
    res = duet.verdicts(*[duet.side_rows(out, side, [os.path.join(name, sub) for name in runs for sub in subs])
                          for side in duet.SIDES], min_effect)
    with open(os.path.join(out, fname), "w") as f:
        duet.report(res, min_effect, title, f)
    duet.report(res, min_effect, title)
    return res


def duet_confirm(a, plan, out, runs, flagged, min_effect, title, progress):
    """Re-run the flagged cells, paired again, in CONFIRM_STAGES; return the
    cells still regressed on all their repetitions pooled."""
    subs, left = [""], list(flagged)
    next_rep = {name: run["reps"] + 1 for name, run in runs.items()}
    for stage, factor in enumerate(CONFIRM_STAGES, 1):
        sub = "confirm/%d" % stage
        for name, run in runs.items():
            mine = [k for k in left if k[0] == run["workload"]]
            if mine:
                run_duet_exp(a, plan, confirm_run(run, mine, next_rep[name], factor), os.path.join(out, name, sub),
                             "[confirm %d/%d %s]" % (stage, len(CONFIRM_STAGES), name), progress, 0)
                next_rep[name] += factor * run["reps"]
        subs.append(sub)
        res = duet_verdict(out, runs, subs, min_effect, "confirmation, stage %d (pooled): %s" % (stage, title),
                           "verdict-confirm%d.txt" % stage)
        last = stage == len(CONFIRM_STAGES)
        left = [k for k, n, lo, med, hi, slower, v in res
                if k in left and (v == "REGRESSED" if last else med > 1 + min_effect)]
        if not left:
            break
    return left


def duet_main(a, plan, out, todo):
    """make bench-ci: run the set on both builds, judge the paired ratios,
    re-run flagged cells once, fail on cells flagged twice."""
    progress = Progress()
    plan.setdefault("calibrated", {})
    min_effect = a.min_effect / 100
    runs = {x["exp"]["name"]: x["run"] for x in plan["experiments"] if x["run"]}
    failed = 0
    for i, (e, run, exp_dir, _) in enumerate(todo):
        later = sum(2 * len(all_cells(r)) for _, r, _, _ in todo[i + 1:])
        failed += run_duet_exp(a, plan, run, exp_dir, "[exp %d/%d %s]" % (i + 1, len(todo), e["name"]),
                               progress, later)
        with open(os.path.join(exp_dir, "done"), "w") as f:
            f.write("{}\n")
        save_plan(out, plan)
    base = plan["baseline"]
    # A commit is named by its short hash; a --baseline-smrbench binary by its path.
    rev = base["rev"][:12] if re.fullmatch(r"[0-9a-f]{40}", base["rev"]) else base["rev"]
    title = "base %s vs head %s" % (rev, plan.get("head_rev", "?"))
    first = duet_verdict(out, runs, [""], min_effect, title, "verdict.txt")
    flagged = [k for k, n, lo, med, hi, slower, v in first if v == "REGRESSED"]
    # The first verdict is a screen: a cell slower by the median whose
    # repetitions disagree (suspect) is re-run too, and judged pooled.
    suspect = [k for k, n, lo, med, hi, slower, v in first if v == "suspect"]
    confirmed = []
    if (flagged or suspect) and not a.no_confirm:
        log("confirming: %d flagged and %d suspect cell(s) run again, paired (a regression must show on "
            "all the repetitions pooled)" % (len(flagged), len(suspect)))
        confirmed = duet_confirm(a, plan, out, runs, flagged + suspect, min_effect, title, progress)
        if not confirmed:
            log("not confirmed: no cell regressed on its repetitions pooled (noise); passing")
    elif flagged:
        confirmed = flagged
    plan["finished"] = True
    save_plan(out, plan)
    with open(os.path.join(out, "confirmed.txt"), "w") as f:
        f.write("".join(duet.name(k) + "\n" for k in confirmed))
    for k in confirmed:
        log("CONFIRMED REGRESSION: %s" % duet.name(k))
    if failed:
        log("%d smrbench call(s) had failed cells (see */*/part-*/failures.log)" % failed)
    print(out)
    return 1 if confirmed or failed else 0


def duet_baseline(a, out_plan):
    """The baseline build's binary and revision: --baseline-smrbench as given,
    else --baseline REV (or `recorded`: results/baseline/REVISION) built here."""
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if out_plan and out_plan.get("baseline"):
        return out_plan["baseline"]
    if a.baseline_smrbench:
        return {"rev": a.baseline_smrbench, "smrbench": os.path.abspath(a.baseline_smrbench)}
    commit = duet.read_revision(src) if a.baseline == "recorded" else duet.resolve_commit(src, a.baseline)
    into = os.path.abspath(os.path.join(a.baseline_build_dir, commit[:12]))
    log("building the baseline revision %s into %s (git archive; this build's configure flags)"
        % (commit[:12], into))
    binary = duet.build_revision(src, commit, into, duet.configure_args("."))
    return {"rev": commit, "smrbench": binary}


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", default="default")
    ap.add_argument("--smrbench", default="./smrbench")
    ap.add_argument("--bench-dir", default=os.path.join(os.path.dirname(here), "bench"))
    ap.add_argument("--plots-dir", default=os.path.join(here, "plots"))
    ap.add_argument("--gnuplot", default=shutil.which("gnuplot") or "")
    ap.add_argument("--out", help="results folder (resumed if it holds a plan)")
    ap.add_argument("--results", default="results", help="where new folders go")
    ap.add_argument("--fresh", action="store_true", help="never resume: a new folder")
    ap.add_argument("--exp", action="append", default=[], help="only these experiments")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and its estimate")
    ap.add_argument("--last-file", help="write the results folder's path into this file")
    ap.add_argument("--cell-timeout", type=float, default=0,
                    help="kill a cell silent for this many seconds (default 120 + 10 x duration)")
    ap.add_argument("--baseline", metavar="REV",
                    help="duet mode (make bench-ci): also build git revision REV (`recorded`: the one in "
                         "results/baseline/REVISION) and run every cell on both builds, interleaved; "
                         "exit 1 on a confirmed regression")
    ap.add_argument("--baseline-smrbench", metavar="PATH",
                    help="duet mode with an already built baseline binary")
    ap.add_argument("--baseline-build-dir", default="bench-ci-base",
                    help="where --baseline revisions are built (default ./bench-ci-base/<commit>)")
    ap.add_argument("--min-effect", type=float, default=100 * duet.MIN_EFFECT, metavar="PCT",
                    help="duet: the smallest slowdown, in percent, that counts (default %g)"
                    % (100 * duet.MIN_EFFECT))
    ap.add_argument("--no-confirm", action="store_true",
                    help="duet: fail on the first verdict, without re-running flagged cells")
    return ap.parse_args(argv)


class CannotStart(Exception):
    """A bad command line, an unusable input or baseline: exit 2 with this one-line message."""


def load_inputs(a):
    """(sets, what the smrbench has, the machine's PUs, the experiments to run)."""
    if a.baseline and a.baseline_smrbench:
        raise CannotStart("--baseline and --baseline-smrbench exclude each other")
    sets = R.load_sets(a.bench_dir)
    if a.set not in sets:
        raise CannotStart("unknown set '%s' (bench/sets.conf has %s)" % (a.set, ", ".join(sets)))
    try:
        have = smrbench_list(a.smrbench)
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError) as e:
        raise CannotStart("cannot run %s list --json: %s" % (a.smrbench, e))
    exps = R.load_experiments(a.bench_dir, a.set)
    if a.exp:
        exps = [e for e in exps if e["name"] in a.exp]
        missing = set(a.exp) - {e["name"] for e in exps}
        if missing:
            raise CannotStart("no experiment %s in set %s" % (", ".join(sorted(missing)), a.set))
    return sets, have, machine_pus(a.smrbench), exps


def open_folder(a):
    """The results folder: --out, else the newest unfinished one of the set, else a new one."""
    out = a.out
    if not out and not a.fresh and not a.exp:
        out = find_resumable(a.results, a.set)
        if out:
            log("resuming the unfinished run in %s (--fresh, or BENCH_FRESH=1, for a new one)" % out)
    if not out:
        out = R.new_folder(a.results, "bench-" + a.set)
    os.makedirs(out, exist_ok=True)
    if a.last_file:
        os.makedirs(os.path.dirname(os.path.abspath(a.last_file)), exist_ok=True)
        with open(a.last_file, "w") as f:
            f.write(out + "\n")
    return out


def head_revision():
    """This checkout's revision, as the duet's title names HEAD."""
    return subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe", "--always",
                           "--dirty", "--abbrev=12"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True).stdout.strip()


def load_or_make_plan(a, out, exps, have, pus, sets):
    """The folder's plan (resume), else a new one, with the duet's baseline when asked."""
    plan = R.load_plan(out)
    if plan and plan.get("set") != a.set:
        raise CannotStart("%s holds a run of set %s, not %s" % (out, plan.get("set"), a.set))
    if not plan:
        baseline = None
        if a.baseline or a.baseline_smrbench:
            try:
                baseline = duet_baseline(a, None)
            except duet.DuetError as e:
                raise CannotStart(str(e))
            have, new = shared_with_baseline(have, baseline["smrbench"])
        plan = build_plan(a, exps, have, pus, sets)
        if baseline:
            plan["baseline"] = baseline
            plan["head_rev"] = head_revision()
            plan["not_compared"] = new
        save_plan(out, plan)
    return plan


def shared_with_baseline(have, base_smrbench):
    """(have restricted to the schemes the baseline build has too, the new
    ones): a scheme added since the baseline revision has nothing to be
    compared with, and the baseline's smrbench would refuse its name."""
    try:
        base = smrbench_list(base_smrbench)
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError) as e:
        raise CannotStart("cannot run the baseline's %s list --json: %s" % (base_smrbench, e))
    new = [s for s in have["schemes"] if s not in base["schemes"]]
    if new:
        log("not compared (the baseline revision has no such scheme): %s" % ", ".join(new))
    return dict(have, schemes=[s for s in have["schemes"] if s not in new],
                native=[s for s in have["native"] if s not in new]), new


def cells_left(out, plan):
    """[(experiment, run, its folder, cells without a row)] of the experiments
    not done; the ones that cannot run here are marked skipped."""
    todo = []
    for x in plan["experiments"]:
        e, run = x["exp"], x["run"]
        exp_dir = os.path.join(out, e["name"])
        os.makedirs(exp_dir, exist_ok=True)
        if not run:
            with open(os.path.join(exp_dir, "skipped"), "w") as f:
                f.write(x["skip"] + "\n")
            continue
        if os.path.exists(os.path.join(exp_dir, "done")):
            continue
        have_cells = done_cells(exp_dir, run)
        missing = [c for c in all_cells(run) if c not in have_cells]
        todo.append((e, run, exp_dir, missing))
    return todo


def stop_current():
    p = CURRENT[0]
    if p and p.poll() is None:
        p.terminate()
        p.wait()


def run_duet_set(a, plan, out, todo):
    try:
        return duet_main(a, plan, out, todo)
    except duet.DuetError as e:
        log(str(e))
        return 2
    except KeyboardInterrupt:
        stop_current()
        save_plan(out, plan)
        log("interrupted: finished cells are kept; run the same command again to resume %s" % out)
        return 130


def run_experiment(a, plan, out, todo, i, progress):
    """The missing cells of todo[i]; returns 1 if some cell failed, else 0."""
    e, run, exp_dir, missing = todo[i]
    prefix = "[exp %d/%d %s]" % (i + 1, len(todo), e["name"])
    later = todo[i + 1:]
    failed_calls = 0
    t_exp = time.time()
    if missing:
        log("%s %s: %d cells of %gs" % (prefix, e["title"], len(missing), run["duration"]))
    calls = plan_calls(run, missing)
    while calls:
        call = calls.pop(0)
        have_now = done_cells(exp_dir, run)
        rem = [len([c for c in missing if c not in have_now]),
               sum(len(m) * (r["duration"] + progress.overhead) for _, r, _, m in later),
               sum(len(m) for *_, m in later)]
        rc, tail = run_call(a.smrbench, exp_dir, run, call, prefix, progress, rem,
                            a.cell_timeout or 120 + 10 * run["duration"])
        if rc == 2:
            why = next((t for t in reversed(tail) if t.startswith("smrbench:")), "usage error")
            m = re.search(r"scheme (\S+) cannot run workload", why)
            if m and m.group(1) in run["schemes"] and len(run["schemes"]) > 1:
                # A reference back end without this workload: run the others.
                log("%s %s: dropped from this experiment" % (prefix, why))
                run["schemes"].remove(m.group(1))
                save_plan(out, plan)
                have_now = done_cells(exp_dir, run)
                missing = [c for c in all_cells(run) if c not in have_now]
                calls = plan_calls(run, missing)
                continue
            with open(os.path.join(exp_dir, "skipped"), "w") as f:
                f.write("smrbench refused it: %s\n" % why)
            log("%s skipped: %s" % (prefix, why))
            break
        if rc < 0 or rc == 130:
            raise KeyboardInterrupt
        if rc != 0:
            failed_calls += 1
    rows = merge(exp_dir, run)
    if os.path.exists(os.path.join(exp_dir, "skipped")):
        return 0
    with open(os.path.join(exp_dir, "done"), "w") as f:
        json.dump({"cells": len(all_cells(run)), "rows": len(rows), "failed_calls": failed_calls,
                   "seconds": round(time.time() - t_exp, 1)}, f)
        f.write("\n")
    if len(rows) < len(all_cells(run)):
        log("%s %d of %d cells failed (see %s/part-*/failures.log)" % (
            prefix, len(all_cells(run)) - len(rows), len(all_cells(run)), exp_dir))
        return 1
    return 0


def copy_machine_json(out, plan):
    """machine.json beside the experiments: the first part's."""
    if os.path.exists(os.path.join(out, "machine.json")):
        return
    for x in plan["experiments"]:
        exp_dir = os.path.join(out, x["exp"]["name"])
        for p in sorted(os.listdir(exp_dir)) if os.path.isdir(exp_dir) else []:
            mj = os.path.join(exp_dir, p, "machine.json")
            if os.path.exists(mj):
                shutil.copy(mj, os.path.join(out, "machine.json"))
                return


def run_set(a, plan, out, todo):
    """Every experiment's missing cells, then the figures and tables; the exit status."""
    total_left = sum(len(t[3]) for t in todo)
    progress = Progress()
    secs_left = sum(len(m) * (r["duration"] + OVERHEAD_GUESS_S) for _, r, _, m in todo)
    log("%d cells to run into %s, ~%s" % (total_left, out, fmt_time(secs_left)))
    status = 0
    t_set = time.time()
    try:
        for i in range(len(todo)):
            status |= run_experiment(a, plan, out, todo, i, progress)
    except KeyboardInterrupt:
        stop_current()
        log("interrupted: finished cells are kept; run the same command again to resume %s" % out)
        for _, run, exp_dir, _ in todo:
            if os.path.isdir(exp_dir):
                merge(exp_dir, run)
        return 130
    copy_machine_json(out, plan)
    for x in plan["experiments"]:
        if x["run"]:
            merge(os.path.join(out, x["exp"]["name"]), x["run"])
    plan["finished"] = True
    plan["seconds_this_session"] = round(time.time() - t_set, 1)
    save_plan(out, plan)
    log("%d cells in %s (estimated %s); per-cell overhead measured: %.2f s" % (
        total_left, fmt_time(time.time() - t_set), fmt_time(secs_left), progress.overhead))

    import plot  # noqa: E402  (scripts/plot.py: gnuplot data, figures, tables)
    plot.derive_all(out, a.plots_dir, a.gnuplot)
    sys.stdout.write(plot.tables_text(out))
    print(out)
    return status


def main(argv=None):
    a = parse_args(argv)
    try:
        sets, have, pus, exps = load_inputs(a)
        if a.dry_run:
            print_plan(build_plan(a, exps, have, pus, sets))
            return 0
        out = open_folder(a)
        plan = load_or_make_plan(a, out, exps, have, pus, sets)
    except CannotStart as e:
        log(str(e))
        return 2
    print_plan(plan)
    if plan["schemes"] != have["schemes"]:
        log("note: this smrbench has schemes %s; the run was planned with %s (kept)" % (
            ",".join(have["schemes"]), ",".join(plan["schemes"])))
    todo = cells_left(out, plan)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    if plan.get("baseline"):
        return run_duet_set(a, plan, out, todo)
    return run_set(a, plan, out, todo)


if __name__ == "__main__":
    sys.exit(main())
