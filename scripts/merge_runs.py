#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""merge_runs.py OUT IN.. - merge runs.csv files of several `smrbench run`s
(one per workload, as `make bench-ci` does) into one runs.csv.

smrbench writes the same measured columns for every workload, then one column
per param of that workload and of the schemes run.  The merged file keeps the
measured columns and takes the union of the param columns (first-seen order);
a row gets an empty value for a param its run did not have, as smrbench itself
leaves another scheme's param empty.  OUT is written to a temporary name and
renamed, so a reader never sees half a file.  Exit 2 if the inputs' measured
columns differ (they came from different smrbench versions).

--session N adds a `session` column (after `rep`) holding N: one run of the
whole matrix.  scripts/compare.py takes a baseline made of several sessions'
files (merged again, without --session) as several runs of the same code, and
widens its noise band by their spread.
"""

import csv
import os
import sys


def split_header(cols, path):
    if "ended" not in cols:
        sys.exit("merge_runs.py: %s: no 'ended' column (not a smrbench runs.csv?)" % path)
    i = cols.index("ended") + 1
    return cols[:i], cols[i:]


def main(argv):
    session = None
    if argv[:1] == ["--session"]:
        if len(argv) < 2 or not argv[1].isdigit() or int(argv[1]) < 1:
            print("merge_runs.py: --session wants a positive integer", file=sys.stderr)
            return 2
        session, argv = argv[1], argv[2:]
    if len(argv) < 2:
        print("usage: merge_runs.py [--session N] OUT.csv IN.csv [IN.csv ..]", file=sys.stderr)
        return 2
    out, inputs = argv[0], argv[1:]
    measured, params, rows = None, [], []
    for path in inputs:
        with open(path, newline="") as f:
            r = csv.DictReader(f)
            m, p = split_header(list(r.fieldnames or []), path)
            if session is not None:
                if "session" in m:
                    print("merge_runs.py: %s already has a session column" % path, file=sys.stderr)
                    return 2
                if "rep" not in m:
                    print("merge_runs.py: %s: no 'rep' column" % path, file=sys.stderr)
                    return 2
                m = m[:m.index("rep") + 1] + ["session"] + m[m.index("rep") + 1:]
            if measured is None:
                measured = m
            elif m != measured:
                print("merge_runs.py: %s: measured columns differ from %s's" % (path, inputs[0]), file=sys.stderr)
                return 2
            params += [c for c in p if c not in params]
            for row in r:
                if session is not None:
                    row["session"] = session
                rows.append(row)
    tmp = "%s.tmp.%d" % (out, os.getpid())
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=measured + params, restval="", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
