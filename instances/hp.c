/* SPDX-License-Identifier: MIT */
/* Hazard pointers' instance of every workload. */
#define SMR_SCHEME hp
#define SMR_SCHEME_SUMMARY "hazard pointers (Michael): protect = locked exchange + re-load, scan every R retires"
#define SMR_SCHEME_FAMILY SMR_FAMILY_POINTER
/* A lazy get, modelled by scripts/predict.py: schemes/hp_impl.h (HP_ASYM 0):
 * protect = load + xchg hazard + seq_cst reload + compare; end = release store
 * per slot. */
#define SMR_SCHEME_LAZY_GET { "protect: xchg hazard + reload; end: store", "xchg_ns" }
#include "instances/instance.h"
