# SPDX-License-Identifier: MIT
# tests/local.mk - the test suite; included by Makefile.am.
#
#   make check             the TAP tests below, on this tree's binaries
#   make check-sanitizers  configure, build and `make check` three sanitized
#                          trees (address+leak, thread, undefined) under
#                          build-san-<kind>/ of this build tree
#   make check-all         both
#
# Every test script prints TAP (automake's tap-driver.sh reads it) and
# discovers the schemes and workloads from `smrbench-faults list`, so a new
# scheme or workload is covered without an edit here.

TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_COMPILER = $(SHELL)
# The verdict is in the TAP lines; a script that dies early lacks its plan (an error).
AM_SH_LOG_DRIVER_FLAGS = --ignore-exit
# SMRBENCH_NO_CALIBRATE: hundreds of short cells need no measurement of the
# primitives each (about 0.5 s apiece); cli.sh unsets it to test the calibration.
AM_TESTS_ENVIRONMENT = builddir='$(builddir)' PYTHON='$(PYTHON)' SMRBENCH_NO_CALIBRATE=1; \
	export builddir PYTHON SMRBENCH_NO_CALIBRATE;

# Longest first, so that `make -j2 check` overlaps them well.
TESTS = tests/stress.sh tests/early_free.sh tests/selftest.sh tests/cli.sh
TESTS += tests/hp_bound.sh tests/stall.sh
# The software counters from PAPI or the kernel, and machine.json's counter_sources.
TESTS += tests/counters.sh
# Every allocator (-P alloc=) x workload x scheme, the re-executed cell of a
# preloaded allocator, and the allocator's usage errors.
TESTS += tests/alloc.sh
TESTS += tests/bwtree_stress.sh
# scripts/compare.py's unit tests (synthetic runs), TAP, run by configure's Python.
TEST_EXTENSIONS += .py
PY_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
PY_LOG_COMPILER = $(PYTHON)
TESTS += tests/compare_test.py
# make bench-ci's duet (scripts/duet.py, bench.py --baseline*): the paired verdict,
# interleaving, confirmation, the baseline revision; on tiny real runs.
TESTS += tests/duet_test.py
# The bench runner, sampling, the stalled thread, figures and report.html (a tiny real run).
TESTS += tests/report_test.py
# report.py DIR1 DIR2 (the cross-machine ratios) and predict.py, on synthetic folders.
TESTS += tests/cross_machine_test.py
# The pool allocator (-P alloc=pool) alone: a C program printing TAP, linked with libsmr.a.
check_PROGRAMS += tests/pool_test
tests_pool_test_SOURCES = tests/pool_test.c
tests_pool_test_LDADD = libsmr.a
TESTS += tests/pool_test$(EXEEXT)
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh

# The workloads' property tests, included by each workload in the test builds.
EXTRA_DIST += tests/scheme_selftest.c tests/bwtree_selftest.c tests/list_selftest.c tests/msqueue_selftest.c \
	tests/treiber_selftest.c tests/lib.sh $(TESTS)
# The contract's assertions firing, part of scheme_selftest.c.
EXTRA_DIST += tests/scheme_asserts.c

# The sanitized trees.  SMRB_TEST_SCALE shortens the timed runs there (the
# sanitizers report the first bad access at once: the early-free test needs
# no long window in them).
# detect_leaks=1: LSan runs at every cell process's exit, so a scheme that
# does not reclaim everything at domain destroy fails the run.
SAN_KINDS = address thread undefined
SAN_TEST_SCALE = 0.3
# -O0: these trees check correctness, not speed; -O0 compiles about three
# times faster than -O1 here (45 instance objects per tree), and every test
# is bounded by time, not by operation count, so slower code only runs fewer
# operations.
SAN_CFLAGS_OPT = -g -O0
SAN_ENV_address = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
SAN_ENV_thread = TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1
SAN_ENV_undefined = UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Every kind runs even if one fails; the target fails at the end if any did.
check-sanitizers:
	@failed=; for kind in $(SAN_KINDS); do \
	  dir='$(abs_builddir)'/build-san-$$kind; \
	  echo "== check-sanitizers: $$kind in $$dir"; \
	  case $$kind in \
	  address) env='$(SAN_ENV_address)';; \
	  thread) env='$(SAN_ENV_thread)';; \
	  *) env='$(SAN_ENV_undefined)';; \
	  esac; \
	  $(MKDIR_P) "$$dir" && \
	  (cd "$$dir" && \
	   { test -f Makefile || '$(abs_top_srcdir)'/configure -q CC='$(CC)' CFLAGS='$(SAN_CFLAGS_OPT)' --enable-sanitizer=$$kind; } && \
	   $(MAKE) $(AM_MAKEFLAGS) && \
	   env $$env SMRB_TEST_SCALE=$(SAN_TEST_SCALE) $(MAKE) $(AM_MAKEFLAGS) check) || \
	  failed="$$failed $$kind"; \
	done; \
	if test -n "$$failed"; then echo "check-sanitizers: FAILED:$$failed (see build-san-<kind>/test-suite.log)"; exit 1; fi; \
	echo "check-sanitizers: address, thread and undefined trees pass"

# Both halves run even if the first fails; the target fails if either did.
check-all:
	@st=0; $(MAKE) $(AM_MAKEFLAGS) check || st=1; \
	$(MAKE) $(AM_MAKEFLAGS) check-sanitizers || st=1; exit $$st

clean-local: clean-sanitizers
clean-sanitizers:
	-rm -rf build-san-address build-san-thread build-san-undefined

.PHONY: check-sanitizers check-all clean-sanitizers
