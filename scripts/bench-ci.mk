# scripts/bench-ci.mk - performance regression tracking; included by Makefile.am.
#
#   make bench-ci                  the CI matrix into a new results/ci-* folder, then
#                                  compare it with results/baseline (exit 1 on a regression)
#   make bench-ci-baseline         regenerate results/baseline (refused on a dirty tree;
#                                  FORCE=1 overrides)
#   make bench-ci-demo             prove it: 5 unchanged runs pass, a slowed ebr is flagged
#                                  (works in a scratch copy under /tmp)
# The matrix's knobs are environment variables: see scripts/bench_ci.sh --help.
EXTRA_DIST += scripts/bench-ci.mk scripts/bench_ci.sh scripts/compare.py scripts/merge_runs.py \
	scripts/demo_regression.sh

BENCH_CI_SH = $(SHELL) $(srcdir)/scripts/bench_ci.sh --smrbench ./smrbench$(EXEEXT) --python '$(PYTHON)'

.PHONY: bench-ci bench-ci-baseline bench-ci-demo
bench-ci: smrbench$(EXEEXT)
	$(BENCH_CI_SH)

bench-ci-baseline: smrbench$(EXEEXT)
	force='$(FORCE)'; $(BENCH_CI_SH) --baseline $${force:+--force}

bench-ci-demo:
	PYTHON='$(PYTHON)' $(SHELL) $(srcdir)/scripts/demo_regression.sh
