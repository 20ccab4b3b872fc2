/* SPDX-License-Identifier: MIT */
/* Epoch-based reclamation's instance of every workload. */
#define SMR_SCHEME ebr
#define SMR_SCHEME_SUMMARY "epoch-based: pin = load + locked exchange, three limbo bags per thread"
#define SMR_SCHEME_FAMILY SMR_FAMILY_GRACE_PERIOD
/* A lazy get, modelled by scripts/predict.py: schemes/ebr.h: begin = relaxed
 * load of the epoch + seq_cst xchg of the record; end = release store (a plain
 * mov on x86). */
#define SMR_SCHEME_LAZY_GET { "begin: load epoch + xchg; end: store", "xchg_ns" }
#include "instances/instance.h"
