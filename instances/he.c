/* SPDX-License-Identifier: MIT */
/* Hazard eras' instance of every workload. */
#define SMR_SCHEME he
#define SMR_SCHEME_SUMMARY "hazard eras (Ramalhete & Correia): protect publishes the era, frees when no era lies in [birth, retire]"
#define SMR_SCHEME_FAMILY SMR_FAMILY_ERA
/* A lazy get, modelled by scripts/predict.py: schemes/he.h: protect = load ptr
 * + load clock; end stores HE_NONE, so the next protect's era differs from the
 * clock: an xchg on every get. */
#define SMR_SCHEME_LAZY_GET { "protect: load clock, xchg era (end cleared it), reload; end: store", "xchg_ns" }
#include "instances/instance.h"
