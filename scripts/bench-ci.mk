# SPDX-License-Identifier: MIT
# scripts/bench-ci.mk - performance regression tracking; included by Makefile.am.
#
#   make bench-ci             build the baseline revision (results/baseline/REVISION)
#                             beside this tree, run the ci matrix on both builds, cells
#                             interleaved, and judge the paired ratios (exit 1 on a
#                             confirmed regression); results/ci-* keeps the run
#   make bench-ci-baseline    record HEAD as the baseline revision (clean tree only)
#   make bench-ci-demo        prove it: unchanged code and planted slowdowns of ebr's get
#                             of 5/10/25/50%, 5 duets each (about 40 minutes)
# README.md, "Performance regression tracking", says why it is built this way.
EXTRA_DIST += scripts/bench-ci.mk scripts/duet.py scripts/bench_ci_demo.py scripts/compare.py \
	scripts/merge_runs.py

.PHONY: bench-ci bench-ci-baseline bench-ci-demo
bench-ci: smrbench$(EXEEXT)
	$(PYTHON) $(srcdir)/scripts/bench.py --set ci --baseline recorded --smrbench ./smrbench$(EXEEXT) \
	  --bench-dir $(srcdir)/bench --results '$(BENCH_RESULTS)' --fresh

bench-ci-baseline:
	$(PYTHON) $(srcdir)/scripts/duet.py accept --srcdir $(srcdir)

bench-ci-demo: smrbench$(EXEEXT)
	$(PYTHON) $(srcdir)/scripts/bench_ci_demo.py --results '$(BENCH_RESULTS)'
