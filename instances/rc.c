/* SPDX-License-Identifier: MIT */
/* Lock-free reference counting's instance of every workload. */
#define SMR_SCHEME rc
#define SMR_SCHEME_SUMMARY "lock-free reference counting (Valois, Michael & Scott): counted links and protects, type-stable pool"
#define SMR_SCHEME_FAMILY SMR_FAMILY_COUNT
/* A lazy get, modelled by scripts/predict.py: schemes/rc.h: end released the
 * slot's count, so every protect takes one: lock xadd + reload; end = lock
 * xadd (fetch_sub) to release it. */
#define SMR_SCHEME_LAZY_GET { "protect: lock xadd count + reload; end: lock xadd release", "2*xchg_ns" }
#include "instances/instance.h"
