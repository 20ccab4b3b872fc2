#!/usr/bin/env python3
"""merge_runs.py OUT IN.. - merge runs.csv files of several `smrbench run`s
(one per workload, as `make bench-ci` does) into one runs.csv.

smrbench writes the same measured columns for every workload, then one column
per param of that workload and of the schemes run.  The merged file keeps the
measured columns and takes the union of the param columns (first-seen order);
a row gets an empty value for a param its run did not have, as smrbench itself
leaves another scheme's param empty.  OUT is written to a temporary name and
renamed, so a reader never sees half a file.  Exit 2 if the inputs' measured
columns differ (they came from different smrbench versions).
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
    if len(argv) < 2:
        print("usage: merge_runs.py OUT.csv IN.csv [IN.csv ..]", file=sys.stderr)
        return 2
    out, inputs = argv[0], argv[1:]
    measured, params, rows = None, [], []
    for path in inputs:
        with open(path, newline="") as f:
            r = csv.DictReader(f)
            m, p = split_header(list(r.fieldnames or []), path)
            if measured is None:
                measured = m
            elif m != measured:
                print("merge_runs.py: %s: measured columns differ from %s's" % (path, inputs[0]), file=sys.stderr)
                return 2
            params += [c for c in p if c not in params]
            rows += list(r)
    tmp = "%s.tmp.%d" % (out, os.getpid())
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=measured + params, restval="", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
