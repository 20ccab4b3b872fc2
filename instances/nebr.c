/* SPDX-License-Identifier: MIT */
/* Hart's batched EBR (NEBR)'s instance of every workload. */
#define SMR_SCHEME nebr
#define SMR_SCHEME_SUMMARY "batched EBR (Hart's NEBR): one pin per ops_per_cs operations, unpinned at quiescent()"
#define SMR_SCHEME_FAMILY SMR_FAMILY_GRACE_PERIOD
/* A lazy get, modelled by scripts/predict.py: schemes/nebr.h: begin = relaxed
 * load of own record + branch; the xchg only on the first begin after
 * quiescent(), i.e. once per ops_per_cs gets. */
#define SMR_SCHEME_LAZY_GET { "begin: load own record; per ops_per_cs gets: xchg + store", "xchg_ns/ops_per_cs" }
#include "instances/instance.h"
