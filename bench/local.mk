# SPDX-License-Identifier: MIT
# bench/local.mk - `make bench`: run a set of experiments (bench/*.exp), draw
# the figures (gnuplot), print the per-op tables and build report.html.
# Included by Makefile.am.
#
#   make bench                     the default set (<= 15 min on a 2-core VM)
#   make bench BENCH=quick         every experiment, short (about 2 min)
#   make bench BENCH=full          the long run
#   make bench BENCH_OUT=DIR       run into (or resume) that folder
#   make bench BENCH_FRESH=1       a new folder even if an unfinished run exists
#   make bench-plan BENCH=...      print the plan and its estimated time only
#
# An interrupted `make bench` resumes where it stopped when run again: the
# cells already measured are kept (scripts/bench.py).
BENCH = default
BENCH_OUT =
BENCH_FRESH =
BENCH_RESULTS = results

BENCH_FILES = bench/sets.conf bench/lazy-breakdown.exp bench/hart-threads-queue.exp \
	bench/hart-threads-list.exp bench/hart-list-length.exp bench/hart-update-fraction.exp \
	bench/hart-oversub.exp bench/treiber-threads.exp bench/bwtree-threads.exp \
	bench/stall-unreclaimed.exp bench/ci-lazy.exp bench/ci-treiber.exp bench/ci-list.exp
BENCH_TOOLS = scripts/bench.py scripts/plot.py scripts/report.py scripts/table.py \
	scripts/smrb_results.py scripts/plots/common.gp scripts/plots/emit.gp \
	scripts/plots/lazy_breakdown.gp scripts/plots/hart_threads.gp \
	scripts/plots/hart_list_length.gp scripts/plots/hart_update.gp \
	scripts/plots/hart_oversub.gp scripts/plots/treiber_threads.gp \
	scripts/plots/bwtree_threads.gp scripts/plots/stall_unreclaimed.gp
# Niksic's LazyTransform (2017) across languages, with the peers (peers/local.mk).
BENCH_FILES += bench/peers-threads.exp
BENCH_TOOLS += scripts/plots/peers_threads.gp
EXTRA_DIST += $(BENCH_FILES) $(BENCH_TOOLS)

BENCH_ARGS = --set '$(BENCH)' --smrbench ./smrbench$(EXEEXT) --bench-dir $(srcdir)/bench \
	--plots-dir $(srcdir)/scripts/plots --results '$(BENCH_RESULTS)' --gnuplot '$(GNUPLOT)'

.PHONY: bench bench-plan
bench: smrbench$(EXEEXT)
	@set -- ; \
	if test -n '$(BENCH_OUT)'; then set -- --out '$(BENCH_OUT)'; fi; \
	if test -n '$(BENCH_FRESH)'; then set -- "$$@" --fresh; fi; \
	st=0; $(PYTHON) $(srcdir)/scripts/bench.py $(BENCH_ARGS) --last-file '$(BENCH_RESULTS)/.last' "$$@" || st=$$?; \
	if test $$st -ne 0 && test $$st -ne 1; then exit $$st; fi; \
	dir=`cat '$(BENCH_RESULTS)/.last'` || exit 1; \
	report=`$(PYTHON) $(srcdir)/scripts/report.py "$$dir"` || exit 1; \
	echo "bench: report: $$report"; \
	exit $$st

bench-plan: smrbench$(EXEEXT)
	@$(PYTHON) $(srcdir)/scripts/bench.py $(BENCH_ARGS) --dry-run
