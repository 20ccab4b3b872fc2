# tests/local.mk - the test suite; included by Makefile.am.
EXTRA_DIST += tests/scheme_selftest.c
