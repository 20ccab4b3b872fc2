/* SPDX-License-Identifier: MIT */
/* 2GEIBR's instance of every workload. */
#define SMR_SCHEME ibr
#define SMR_SCHEME_SUMMARY "interval-based (2GEIBR, Wen et al.): begin reserves [era, era], protect raises the upper bound"
#define SMR_SCHEME_FAMILY SMR_FAMILY_ERA
/* A lazy get, modelled by scripts/predict.py: schemes/ibr.h: begin = load
 * clock + store lower + xchg upper; protect = load ptr + load clock (no xchg
 * while the clock stands); end = 2 stores. */
#define SMR_SCHEME_LAZY_GET { "begin: load clock, store, xchg upper; protect: load clock; end: 2 stores", "xchg_ns" }
#include "instances/instance.h"
