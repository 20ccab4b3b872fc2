#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""duet.py - paired (duet) regression tracking: a baseline revision and HEAD,
built and run in the same job on the same machine, their cells interleaved.

    duet.py accept [--srcdir DIR]            record HEAD as the baseline revision
                                             (results/baseline/REVISION; clean tree only)
    duet.py build REV --into DIR [--build-dir B]
                                             build revision REV's smrbench into DIR
                                             (git archive + the configure flags of build B)
    duet.py judge DIR [--min-effect PCT]     the verdict on a duet run folder (bench.py --set ci)

bench.py runs the cells (`make bench-ci`: `bench.py --set ci --baseline-rev ...`);
this module owns what is particular to a duet: which revision, how it is built,
and how the paired ratios are judged.  Why a recorded revision rather than the
previous commit, and why paired ratios: README.md, "Performance regression
tracking".

The verdict, per cell (workload, scheme, threads, params) and repetition r:

    q_r = head ns / base ns

the two measured back to back (cells run interleaved, base and head in
turns), so that what the machine does to one it does to the other.  Not
divided by `none`'s ratio as a committed baseline had to be: `none`'s lazy
get is under a nanosecond and the one most at the mercy of a process's
layout (0.68 to 1.06 ns over 5 processes of one binary, measured here), so
dividing by it added its noise to every cell; `none` is judged like the rest
(a harness or workload slowdown shows there).  The cell's change is the
median of its q_r, its band their interquartile range.  A cell REGRESSED
when its median q is above 1 + min_effect and at least AGREE (4 in 5) of its
repetitions are slower (q_r > 1): a change the repetitions agree on, not one
disturbed repetition, and not a cell whose repetitions merely scatter (the
sub-ns gets scatter by 10-15% from one process to the next).  A median above
1 + min_effect that the repetitions do not agree on is "suspect".
Improvements mirror it ("ok (noisy)" on that side).  bench.py re-runs
REGRESSED and suspect cells (paired again, in the stages of its
CONFIRM_STAGES) and fails only on cells the REGRESSED rule flags on all their
repetitions pooled.  Why this rule and these numbers: README.md,
"Performance regression tracking" (replayed on the demo's recorded runs).

Standard library only.
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smrb_results as R  # noqa: E402

SIDES = ("base", "head")
MIN_EFFECT = 0.05      # default minimum effect (fraction); README: how it was chosen
AGREE = 0.8            # the share of repetitions that must lie on the change's side
REVISION_FILE = os.path.join("results", "baseline", "REVISION")


class DuetError(Exception):
    """A one-line reason the duet cannot go on (exit 2)."""


def log(msg):
    sys.stderr.write("duet: %s\n" % msg)
    sys.stderr.flush()


# ---- the baseline revision ----

def git(srcdir, *args, **kw):
    return subprocess.run(["git", "-C", srcdir] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, **kw)


def read_revision(srcdir):
    """The commit recorded in results/baseline/REVISION (first word of the
    first non-comment line), resolved to a full hash."""
    path = os.path.join(srcdir, REVISION_FILE)
    try:
        with open(path) as f:
            words = [ln.split()[0] for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
    except OSError as e:
        raise DuetError("no baseline revision: %s (make bench-ci-baseline records one)" % e)
    if not words:
        raise DuetError("%s names no revision" % path)
    return resolve_commit(srcdir, words[0])


def resolve_commit(srcdir, rev):
    p = git(srcdir, "rev-parse", "--verify", "--quiet", rev + "^{commit}")
    if p.returncode != 0:
        shallow = git(srcdir, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
        raise DuetError("revision %s is not in the git history of %s%s" % (
            rev, srcdir, " (a shallow clone: git fetch --unshallow)" if shallow else ""))
    return p.stdout.strip()


def accept(srcdir):
    """Record HEAD as the baseline revision: refused on a dirty tree, since the
    baseline must be code anyone can check out.  Results folders are not code."""
    st = git(srcdir, "status", "--porcelain", "--", ".", ":(exclude)results")
    if st.returncode != 0:
        raise DuetError("cannot tell whether %s is a clean git tree" % srcdir)
    if st.stdout.strip():
        raise DuetError("the tree has uncommitted changes; the baseline must be a commit (commit first)")
    head = resolve_commit(srcdir, "HEAD")
    subject = git(srcdir, "log", "-1", "--format=%s", head).stdout.strip()
    path = os.path.join(srcdir, REVISION_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("# The revision make bench-ci compares HEAD with (scripts/duet.py; README,\n"
                "# \"Performance regression tracking\").  Moved forward by make bench-ci-baseline\n"
                "# once a change's performance is accepted.\n")
        f.write("%s %s\n" % (head, subject))
    os.replace(tmp, path)
    return head, path


# ---- building a revision ----

def configure_args(build_dir):
    """The configure flags of an existing build tree, from its config.status."""
    cs = os.path.join(build_dir, "config.status")
    if not os.path.exists(cs):
        return []
    p = subprocess.run([cs, "--config"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       universal_newlines=True, cwd=build_dir)
    return shlex.split(p.stdout) if p.returncode == 0 else []


def build_revision(srcdir, commit, into, args, jobs=2):
    """smrbench of `commit`, built from `git archive` in INTO/src, INTO/build
    with `args` as configure flags.  Reused when INTO/build/.done names the
    same commit and flags.  Returns the binary's path."""
    stamp = "%s %s" % (commit, " ".join(shlex.quote(a) for a in args))
    done = os.path.join(into, "build", ".done")
    binary = os.path.join(into, "build", "smrbench")
    if os.path.exists(done) and os.path.exists(binary):
        with open(done) as f:
            if f.read().strip() == stamp:
                return binary
    shutil.rmtree(into, ignore_errors=True)
    src, build = os.path.join(into, "src"), os.path.join(into, "build")
    os.makedirs(src)
    os.makedirs(build)
    steps = [
        ("git archive", "git -C %s archive --format=tar %s | tar -xf - -C %s" % (
            shlex.quote(srcdir), commit, shlex.quote(src)), into),
        ("autogen", "./autogen.sh", src),
        ("configure", " ".join([shlex.quote(os.path.join(src, "configure"))] +
                               [shlex.quote(a) for a in args]), build),
        ("make", "make -j%d smrbench" % jobs, build),
    ]
    logf = os.path.join(into, "build.log")
    with open(logf, "w") as out:
        for name, cmd, cwd in steps:
            out.write("$ %s\n" % cmd)
            out.flush()
            if subprocess.run(cmd, shell=True, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode:
                raise DuetError("building %s failed at %s: see %s" % (commit[:12], name, logf))
    with open(done, "w") as f:
        f.write(stamp + "\n")
    return binary


# ---- the verdict ----

def cell_key(row, params):
    return (row["workload"], row["scheme"], int(row["threads"]),
            tuple((p, row.get(p, "")) for p in params if row.get(p, "")))


def ns_table(rows, params):
    """(cell key, rep) -> ns_per_op."""
    out = {}
    for r in rows:
        if r.get("verify", "ok") != "ok":
            continue
        try:
            ns = float(r["ns_per_op"])
        except (KeyError, ValueError):
            continue
        if ns > 0:
            out[(cell_key(r, params), int(r["rep"]))] = ns
    return out


def paired_ratios(base_rows, head_rows):
    """cell key -> [q_r = head / base, for every repetition both sides have]."""
    params = param_columns(base_rows + head_rows)
    base, head = ns_table(base_rows, params), ns_table(head_rows, params)
    out = {}
    for (key, r) in sorted(set(base) & set(head)):
        out.setdefault(key, []).append(head[(key, r)] / base[(key, r)])
    return out


def param_columns(rows):
    """The param columns of rows merged from several runs (each may carry
    different ones), in first-seen order."""
    out = []
    for r in rows:
        out += [c for c in R.param_columns(r) if c not in out]
    return out


def judge(qs, min_effect):
    """(q25, median, q75, slower, verdict): slower is how many q_r > 1."""
    lo, med, hi = R.quartiles(qs)
    slower, faster = sum(q > 1 for q in qs), sum(q < 1 for q in qs)
    agree = AGREE * len(qs)
    if med > 1 + min_effect and slower >= agree:
        verdict = "REGRESSED"
    elif med < 1 / (1 + min_effect) and faster >= agree:
        verdict = "improved"
    elif med > 1 + min_effect:
        verdict = "suspect"          # slower by the median, but the repetitions disagree: re-run it
    elif med < 1 / (1 + min_effect):
        verdict = "ok (noisy)"       # faster by the median, but the repetitions disagree
    else:
        verdict = "ok"
    return lo, med, hi, slower, verdict


def name(key):
    wl, s, t, kv = key
    return " ".join([wl, s, "t=%d" % t] + ["%s=%s" % p for p in kv])


def verdicts(base_rows, head_rows, min_effect):
    """[(key, n, lo, med, hi, slower, verdict)] sorted by workload, scheme, threads."""
    return [(k, len(qs)) + judge(qs, min_effect)
            for k, qs in sorted(paired_ratios(base_rows, head_rows).items())]


def side_rows(out, side, exp_names):
    rows = []
    for e in exp_names:
        rows += R.merge_parts(os.path.join(out, e, side), "runs.csv")
    return rows


def report(results, min_effect, title, stream=sys.stdout):
    """Print the verdict table; return the regressed keys."""
    stream.write("%s\n" % title)
    stream.write("method: q = head ns / base ns per repetition, cells interleaved base/head; flagged if "
                 "the median q > %.2f and at least %d%% of the repetitions are slower (q > 1)\n"
                 % (1 + min_effect, round(100 * AGREE)))
    rows = [[name(k), n, "%.3f" % lo, "%.3f" % med, "%.3f" % hi, "%d/%d" % (slower, n), v]
            for k, n, lo, med, hi, slower, v in results]
    for line in R.text_table(["cell", "reps", "q25", "median", "q75", "slower", "verdict"], rows,
                             left_last=True):
        stream.write(line + "\n")
    return [k for k, n, lo, med, hi, slower, v in results if v == "REGRESSED"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a1 = sub.add_parser("accept", help="record HEAD as the baseline revision")
    a1.add_argument("--srcdir", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    a2 = sub.add_parser("build", help="build a revision's smrbench")
    a2.add_argument("rev")
    a2.add_argument("--into", required=True)
    a2.add_argument("--build-dir", default=".", help="whose configure flags to reuse")
    a2.add_argument("--srcdir", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    a3 = sub.add_parser("judge", help="the verdict on a duet run folder")
    a3.add_argument("dir")
    a3.add_argument("--min-effect", type=float, default=100 * MIN_EFFECT, metavar="PCT")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "accept":
            head, path = accept(a.srcdir)
            log("baseline revision: %s, in %s; commit it (git add %s)" % (head[:12], path, path))
            return 0
        if a.cmd == "build":
            commit = resolve_commit(a.srcdir, a.rev)
            print(build_revision(a.srcdir, commit, a.into, configure_args(a.build_dir)))
            return 0
        plan = R.load_plan(a.dir)
        if not plan or not plan.get("baseline"):
            raise DuetError("%s is not a duet run (no baseline in its bench.json)" % a.dir)
        names = [x["exp"]["name"] for x in plan["experiments"] if x["run"]]
        res = verdicts(side_rows(a.dir, "base", names), side_rows(a.dir, "head", names),
                       a.min_effect / 100)
        return 1 if report(res, a.min_effect / 100, "duet %s" % a.dir) else 0
    except DuetError as e:
        log(str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
